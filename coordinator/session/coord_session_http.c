/*  coord_session_http -- libmicrohttpd in front of the coordinator's loop.
 *
 *  One internal polling thread: a request is read whole (capped), its token
 *  checked, then its body goes down the pipe and the thread waits for the
 *  loop's answer. Waiting there is what serialises commands; the wait wakes
 *  every S_WAIT_MS to notice a stop, so a session interrupted in the middle of
 *  a long command still shuts down.
 */
#define TT_LOG_MODULE "http"
#include "coord_session_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tt_buf.h"
#include "tt_file.h"
#include "tt_log.h"
#include "tt_mem.h"

#define S_TOKEN_BYTES 32
#define S_WAIT_MS     200
#define S_DRAIN_MS    2000
#define S_PEM_CAP     ((size_t)1 << 20)

struct coord_session_http {
    struct MHD_Daemon *daemon;
    zsock_t *loop_end;   /* the loop reads requests here */
    zsock_t *server_end; /* the HTTP thread's end */
    atomic_bool stopping;
    atomic_int requests; /* begun and not yet completed (answer sent or dropped) */
    char token[2 * S_TOKEN_BYTES + 1];
    char *url;
    char *json_path;
    char *cert;
    char *key;
};

typedef struct {
    tt_buf_t body;
    bool too_big;
} s_request_t;

/* ------------------------------------------------------------------ answers */

static enum MHD_Result
s_answer(struct MHD_Connection *conn, unsigned status, const char *json)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result
s_error(struct MHD_Connection *conn, unsigned status, const char *code, const char *what)
{
    char body[512];
    snprintf(body, sizeof body, "{\"ok\": false, \"code\": \"%s\", \"error\": \"%s\"}", code, what);
    return s_answer(conn, status, body);
}

static bool
s_authorised(coord_session_http_t *h, struct MHD_Connection *conn)
{
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    static const char prefix[] = "Bearer ";
    if (!auth || strncmp(auth, prefix, sizeof prefix - 1))
        return false;
    const char *given = auth + sizeof prefix - 1;
    size_t len = strlen(h->token);
    return strlen(given) == len && sodium_memcmp(given, h->token, len) == 0;
}

/* Hand the body to the loop and wait for its answer. */
static enum MHD_Result
s_forward(coord_session_http_t *h, struct MHD_Connection *conn, s_request_t *rq)
{
    zframe_t *f = zframe_new(rq->body.data, rq->body.len);
    if (zframe_send(&f, h->server_end, 0) != 0) {
        zframe_destroy(&f);
        return s_error(conn, 503, "stopping", "the session is stopping");
    }
    while (!atomic_load(&h->stopping)) {
        zmsg_t *reply = zmsg_recv(h->server_end);
        if (!reply)
            continue; /* the receive timeout: look at the stop flag again */
        char *status = zmsg_popstr(reply);
        char *json = zmsg_popstr(reply);
        zmsg_destroy(&reply);
        enum MHD_Result r = s_answer(conn, status ? (unsigned)strtoul(status, NULL, 10) : 500,
                                     json ? json : "{\"ok\": false}");
        free(status);
        free(json);
        return r;
    }
    return s_error(conn, 503, "stopping", "the session is stopping");
}

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
         const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    coord_session_http_t *h = cls;
    s_request_t *rq = *con_cls;
    if (!rq) {
        rq = tt_new(s_request_t);
        tt_buf_init(&rq->body, COORD_SESSION_BODY_CAP);
        *con_cls = rq;
        atomic_fetch_add(&h->requests, 1);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!rq->too_big && tt_buf_add(&rq->body, upload_data, *upload_data_size) != TT_OK)
            rq->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* the token first: nothing about the API is told to a stranger */
    if (!s_authorised(h, conn))
        return s_error(conn, 401, "unauthorised", "a valid session token is required");
    if (strcmp(url, "/v1/command"))
        return s_error(conn, 404, "not_found", "the API is POST /v1/command");
    if (strcmp(method, "POST"))
        return s_error(conn, 405, "method", "use POST");
    if (rq->too_big)
        return s_error(conn, 413, "too_large", "a request is at most 16 MiB");
    return s_forward(h, conn, rq);
}

static void
s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
            enum MHD_RequestTerminationCode why)
{
    coord_session_http_t *h = cls;
    (void)conn;
    (void)why;
    s_request_t *rq = *con_cls;
    if (!rq)
        return;
    atomic_fetch_sub(&h->requests, 1);
    tt_buf_fini(&rq->body);
    free(rq);
    *con_cls = NULL;
}

/* ------------------------------------------------------------------ setup */

static bool
s_parse_address(const char *text, struct sockaddr_in *addr)
{
    const char *colon = strrchr(text, ':');
    if (!colon)
        return false;
    char host[64];
    size_t n = (size_t)(colon - text);
    if (n == 0 || n >= sizeof host)
        return false;
    memcpy(host, text, n);
    host[n] = '\0';
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port > 65535)
        return false;
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    return inet_pton(AF_INET, host, &addr->sin_addr) == 1;
}

static char *
s_read_pem(const char *path, char **errmsg)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        *errmsg = tt_asprintf("%s: %s", path, strerror(errno));
        return NULL;
    }
    tt_buf_t b;
    tt_buf_init(&b, S_PEM_CAP);
    char chunk[4096];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ok = tt_buf_add(&b, chunk, n) == TT_OK;
    fclose(f);
    if (!ok) {
        *errmsg = tt_asprintf("%s: larger than 1 MiB, not a PEM file", path);
        tt_buf_fini(&b);
        return NULL;
    }
    char *text = tt_strdup(tt_buf_str(&b));
    tt_buf_fini(&b);
    return text;
}

static tt_err_t
s_write_files(coord_session_http_t *h, const char *out_dir, char **errmsg)
{
    char *abs = realpath(out_dir, NULL);
    if (!abs) {
        *errmsg = tt_asprintf("%s: %s", out_dir, strerror(errno));
        return TT_EIO;
    }
    char *token_path = tt_asprintf("%s/session.token", abs);
    h->json_path = tt_asprintf("%s/session.json", abs);
    json_t *info = json_pack("{s:s, s:s, s:i, s:s}", "url", h->url, "token_file", token_path, "pid",
                             (int)getpid(), "out", abs);
    char *text = json_dumps(info, JSON_INDENT(2));
    json_decref(info);
    tt_err_t err = tt_write_file(token_path, h->token, strlen(h->token), 0600);
    /* session.json last: a client that sees it finds the token there */
    if (!err)
        err = tt_write_file(h->json_path, text, strlen(text), 0600);
    if (err)
        *errmsg = tt_asprintf("cannot write %s: %s", h->json_path, strerror(errno));
    free(text);
    free(token_path);
    free(abs);
    return err;
}

/* The address, and TLS wherever it is not loopback. */
static tt_err_t
s_check(const coord_session_http_opts_t *opts, struct sockaddr_in *addr, char **errmsg)
{
    const char *address = opts->address ? opts->address : "127.0.0.1:0";
    if (!s_parse_address(address, addr)) {
        *errmsg = tt_asprintf("--http %s: expected HOST:PORT with an IPv4 host", address);
        return TT_EINVAL;
    }
    bool loopback = (ntohl(addr->sin_addr.s_addr) >> 24) == 127;
    if ((opts->tls_cert != NULL) != (opts->tls_key != NULL)) {
        *errmsg = tt_strdup("--tls-cert and --tls-key go together");
        return TT_EINVAL;
    }
    bool tls = opts->tls_cert != NULL;
    if (!loopback && !tls) {
        *errmsg = tt_asprintf("--http %s is beyond loopback: the session's API needs TLS there "
                              "(--tls-cert FILE --tls-key FILE), as well as the token",
                              address);
        return TT_EINVAL;
    }
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        *errmsg = tt_strdup("this libmicrohttpd has no TLS support; serve on loopback only");
        return TT_EINVAL;
    }
    return TT_OK;
}

tt_err_t
coord_session_http_check(const coord_session_http_opts_t *opts, char **errmsg)
{
    struct sockaddr_in addr;
    return s_check(opts, &addr, errmsg);
}

tt_err_t
coord_session_http_start(const coord_session_http_opts_t *opts, coord_session_http_t **out,
                         zsock_t **pipe, char **errmsg)
{
    *out = NULL;
    struct sockaddr_in addr;
    tt_err_t rc = s_check(opts, &addr, errmsg);
    if (rc)
        return rc;
    const char *address = opts->address ? opts->address : "127.0.0.1:0";
    bool tls = opts->tls_cert != NULL;
    coord_session_http_t *h = tt_new(coord_session_http_t);
    atomic_init(&h->stopping, false);
    atomic_init(&h->requests, 0);
    unsigned char raw[S_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(h->token, sizeof h->token, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    if (tls && (!(h->cert = s_read_pem(opts->tls_cert, errmsg)) ||
                !(h->key = s_read_pem(opts->tls_key, errmsg)))) {
        coord_session_http_stop(&h);
        return TT_EINVAL;
    }
    char endpoint[80];
    snprintf(endpoint, sizeof endpoint, "@inproc://troupe-session-%p", (void *)h);
    h->loop_end = zsock_new_pair(endpoint);
    endpoint[0] = '>';
    h->server_end = h->loop_end ? zsock_new_pair(endpoint) : NULL;
    if (!h->server_end) {
        *errmsg = tt_strdup("cannot make the request pipe");
        coord_session_http_stop(&h);
        return TT_EIO;
    }
    zsock_set_rcvtimeo(h->server_end, S_WAIT_MS);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (tls)
        flags |= MHD_USE_TLS;
    h->daemon =
        MHD_start_daemon(flags, ntohs(addr.sin_port), NULL, NULL, s_access, h, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, s_completed, h,
                         MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 0u,
                         tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
                         MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
    if (!h->daemon) {
        *errmsg = tt_asprintf("--http %s: cannot listen there (in use, or not an address of "
                              "this host)",
                              address);
        coord_session_http_stop(&h);
        return TT_EINVAL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr.sin_addr, host, sizeof host);
    h->url = tt_asprintf("%s://%s:%u/", tls ? "https" : "http", host,
                         di ? (unsigned)di->port : (unsigned)ntohs(addr.sin_port));
    tt_err_t err = s_write_files(h, opts->out_dir, errmsg);
    if (err) {
        coord_session_http_stop(&h);
        return err;
    }
    *pipe = h->loop_end;
    *out = h;
    return TT_OK;
}

void
coord_session_http_reply(coord_session_http_t *h, int status, const char *json)
{
    char code[16];
    snprintf(code, sizeof code, "%d", status);
    zstr_sendm(h->loop_end, code);
    zstr_send(h->loop_end, json);
}

const char *
coord_session_http_url(const coord_session_http_t *h)
{
    return h->url;
}

void
coord_session_http_stop(coord_session_http_t **self_p)
{
    coord_session_http_t *h = *self_p;
    if (!h)
        return;
    /* the last answer (to `end`) must leave before the server goes */
    for (int i = 0; i < S_DRAIN_MS / 10 && h->daemon && atomic_load(&h->requests) > 0; i++)
        usleep(10000);
    atomic_store(&h->stopping, true);
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    if (h->json_path)
        unlink(h->json_path);
    zsock_destroy(&h->server_end);
    zsock_destroy(&h->loop_end);
    sodium_memzero(h->token, sizeof h->token);
    if (h->key)
        sodium_memzero(h->key, strlen(h->key));
    free(h->key);
    free(h->cert);
    free(h->url);
    free(h->json_path);
    free(h);
    *self_p = NULL;
}
