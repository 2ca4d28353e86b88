/*  coord_live -- the live report: a loopback HTTP server over libmicrohttpd. */
#define TT_LOG_MODULE "live"
#include "coord_live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coord_logprompt.h"
#include "coord_logreport.h"
#include "tt_log.h"
#include "tt_mem.h"

#define S_REFRESH_S "3"
#define S_PAGE_CAP  ((size_t)256 << 20)

struct coord_live {
    struct MHD_Daemon *daemon;
    char *log;  /* DIR/sim.tlog */
    char *page; /* DIR/.live-report.html, rewritten at each request */
    char *url;
};

static enum MHD_Result
s_answer(struct MHD_Connection *conn, unsigned status, const char *type, char *body, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (status == 200 && !strncmp(type, "text/html", 9))
        MHD_add_response_header(resp, "Refresh", S_REFRESH_S);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result
s_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return s_answer(conn, status, "text/plain; charset=utf-8", tt_strdup(text), strlen(text));
}

/* The page as the log stands now; NULL (and *why) when it cannot be made. */
static char *
s_page(coord_live_t *l, size_t *len, const char **why)
{
    FILE *quiet = fopen("/dev/null", "w");
    const char *logs[] = {l->log};
    int rc = coord_logreport_run(logs, 1, l->page, NULL, quiet ? quiet : stderr);
    if (quiet)
        fclose(quiet);
    if (rc) {
        *why = "the log holds no run yet";
        return NULL;
    }
    FILE *f = fopen(l->page, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) || (size_t)st.st_size > S_PAGE_CAP) {
        if (f)
            fclose(f);
        *why = "cannot read the page";
        return NULL;
    }
    char *body = tt_malloc((size_t)st.st_size + 1);
    *len = fread(body, 1, (size_t)st.st_size, f);
    fclose(f);
    return body;
}

/* GET /prompt?agent=NAME&step=N: that agent's requests in that step, rebuilt
 * from the log as `coordinator log prompt` prints them. */
static enum MHD_Result
s_prompt(coord_live_t *l, struct MHD_Connection *conn)
{
    const char *agent = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "agent");
    const char *step = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "step");
    if (!agent || !*agent || !step || !*step)
        return s_text(conn, 400, "give agent=NAME and step=N\n");
    char *out_text = NULL, *err_text = NULL;
    size_t out_len = 0, err_len = 0;
    FILE *out = open_memstream(&out_text, &out_len);
    FILE *err = open_memstream(&err_text, &err_len);
    int rc = out && err ? coord_logprompt_run(l->log, agent, step, out, err) : 1;
    if (out)
        fclose(out);
    if (err)
        fclose(err);
    enum MHD_Result r;
    if (rc == 0) {
        r = s_answer(conn, 200, "text/plain; charset=utf-8", out_text, out_len);
        out_text = NULL;
    } else {
        r = s_text(conn, rc == 2 ? 400 : 500,
                   err_text && *err_text ? err_text : "cannot rebuild\n");
    }
    free(out_text);
    free(err_text);
    return r;
}

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
         const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    coord_live_t *l = cls;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return s_text(conn, 405, "GET / only\n");
    if (!strcmp(url, "/prompt"))
        return s_prompt(l, conn);
    if (strcmp(url, "/"))
        return s_text(conn, 404, "the report is at /\n");
    size_t len = 0;
    const char *why = NULL;
    char *body = s_page(l, &len, &why);
    if (!body)
        return s_text(conn, 503, why);
    return s_answer(conn, 200, "text/html; charset=utf-8", body, len);
}

tt_err_t
coord_live_start(const char *out_dir, unsigned port, coord_live_t **out, const char **url,
                 char **errmsg)
{
    *out = NULL;
    coord_live_t *l = tt_new(coord_live_t);
    l->log = tt_asprintf("%s/sim.tlog", out_dir);
    l->page = tt_asprintf("%s/.live-report.html", out_dir);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* one thread: requests are answered one after another, each from a fresh page */
    l->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, (uint16_t)port,
                                 NULL, NULL, s_access, l, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT, 32u,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!l->daemon) {
        *errmsg =
            tt_asprintf("--serve-report %u: cannot listen on 127.0.0.1:%u (in use?)", port, port);
        coord_live_stop(&l);
        return TT_EINVAL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_BIND_PORT);
    l->url = tt_asprintf("http://127.0.0.1:%u/", di ? (unsigned)di->port : port);
    *url = l->url;
    *out = l;
    return TT_OK;
}

void
coord_live_stop(coord_live_t **self_p)
{
    coord_live_t *l = *self_p;
    if (!l)
        return;
    if (l->daemon)
        MHD_stop_daemon(l->daemon);
    if (l->page)
        unlink(l->page);
    free(l->log);
    free(l->page);
    free(l->url);
    free(l);
    *self_p = NULL;
}
