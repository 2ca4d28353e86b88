/*  fakellm_server -- the HTTP side: libmicrohttpd, routing, faults, counters.
 *
 *  Event-driven: a few libmicrohttpd threads (one a core, epoll) read the
 *  requests and make the answers; a request's latency and a stall are waits
 *  with the connection suspended (fakellm_timer), so ten thousand requests in
 *  flight hold no thread and a stop cuts every wait short. Bound to
 *  127.0.0.1 only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fakellm_impl.h"
#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_mem.h"

/* A response under construction. */
typedef struct {
    int status;
    char *body; /* malloc'd, handed to MHD */
    size_t len; /* bytes of body to send */
    const char *content_type;
    bool truncate_hard; /* announce len, send half, then drop the connection */
    uint32_t stall_ms;  /* with truncate_hard: wait this long before dropping */
    unsigned retry_after_ms, retry_after_s;
    const char *should_retry;
} s_out_t;

typedef enum { S_READING, S_ANSWER_DUE, S_RESET_DUE } s_state_t;

typedef struct {
    tt_buf_t body;
    bool too_big;
    bool counted;            /* in_flight incremented */
    struct timespec arrived; /* headers read: the model's latency runs from here */
    s_state_t state;         /* *_DUE: waiting (suspended) to send out or to reset */
    s_out_t out;
} s_req_t;

static struct timespec
s_after(struct timespec t, uint32_t ms)
{
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static void
s_set_json(s_out_t *out, int status, char *body)
{
    free(out->body);
    out->status = status;
    out->body = body;
    out->len = strlen(body);
    out->content_type = "application/json";
}

static void
s_set_error(s_out_t *out, int status, const char *message, const char *type, const char *code)
{
    s_set_json(out, status, fakellm_error_body(message, type, code));
}

/* ------------------------------------------------------------ sending */

typedef struct {
    fakellm_t *f;
    struct MHD_Connection *conn;
    char *body;
    size_t half;
    uint32_t stall_ms; /* silence after the first half */
    bool silent;       /* the silence has begun: it ends at until */
    struct timespec until;
} s_cut_t;

static ssize_t
s_cut_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    s_cut_t *cut = cls;
    if (pos >= cut->half) {
        if (cut->stall_ms && !cut->silent) {
            clock_gettime(CLOCK_MONOTONIC, &cut->until);
            cut->until = s_after(cut->until, cut->stall_ms);
            cut->silent = true;
        }
        if (cut->silent && fakellm_timer_suspend(cut->f->timer, cut->conn, &cut->until))
            return 0; /* nothing yet: called again once resumed */
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = cut->half - (size_t)pos < max ? cut->half - (size_t)pos : max;
    memcpy(buf, cut->body + pos, n);
    return (ssize_t)n;
}

static void
s_cut_free(void *cls)
{
    s_cut_t *cut = cls;
    free(cut->body);
    free(cut);
}

static enum MHD_Result
s_send(fakellm_t *f, struct MHD_Connection *conn, s_out_t *out)
{
    struct MHD_Response *resp;
    if (out->truncate_hard) {
        s_cut_t *cut = tt_new(s_cut_t);
        cut->f = f;
        cut->conn = conn;
        cut->body = out->body;
        cut->half = out->len / 2;
        cut->stall_ms = out->stall_ms;
        resp = MHD_create_response_from_callback(out->len, 4096, s_cut_reader, cut, s_cut_free);
    } else {
        resp = MHD_create_response_from_buffer(out->len, out->body, MHD_RESPMEM_MUST_FREE);
    }
    out->body = NULL;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", out->content_type);
    char num[32];
    if (out->retry_after_ms) {
        snprintf(num, sizeof num, "%u", out->retry_after_ms);
        MHD_add_response_header(resp, "retry-after-ms", num);
    }
    if (out->retry_after_s) {
        snprintf(num, sizeof num, "%u", out->retry_after_s);
        MHD_add_response_header(resp, "Retry-After", num);
    }
    if (out->should_retry)
        MHD_add_response_header(resp, "x-should-retry", out->should_retry);
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)out->status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Reset: linger 0 makes close() send RST instead of FIN. */
static enum MHD_Result
s_reset(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) {
        struct linger lg = {1, 0};
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    return MHD_NO;
}

/* ------------------------------------------------------------ API requests */

static bool
s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Which credential the request carries, and whether it is the expected one. */
static const char *
s_auth(fakellm_t *f, struct MHD_Connection *conn, bool *ok)
{
    const char *bearer = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *api_key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "api-key");
    *ok = !f->api_key || (api_key && !strcmp(api_key, f->api_key)) ||
          (bearer && !strncmp(bearer, "Bearer ", 7) && !strcmp(bearer + 7, f->api_key));
    return api_key ? "api-key" : bearer ? "bearer" : "none";
}

/* Keep the request for fakellm_take_last_request (without any credential).
 * The body goes in as it came when it is JSON: writing it out again would cost
 * more than answering it. */
static void
s_record(fakellm_t *f, struct MHD_Connection *conn, const char *method, const char *url,
         const char *auth, const tt_buf_t *raw, bool is_json)
{
    const char *version = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "api-version");
    json_t *meta = json_pack("{s:s, s:s, s:s?, s:s}", "method", method, "path", url, "api_version",
                             version, "auth", auth);
    TT_ASSERT(meta);
    char *head = tt_json_compact(meta);
    json_decref(meta);
    tt_buf_t rec;
    tt_buf_init(&rec, 0);
    tt_buf_add(&rec, head, strlen(head) - 1); /* without its '}' */
    if (is_json) {
        tt_buf_adds(&rec, ",\"body\":");
        tt_buf_add(&rec, raw->data, raw->len);
    }
    tt_buf_adds(&rec, "}");
    free(head);
    free(atomic_exchange(&f->last, tt_buf_take(&rec)));
}

static void
s_count_fault(fakellm_t *f, fakellm_fault_t fault)
{
    atomic_fetch_add(&f->faults[fault], 1);
}

/* Faults that replace the answer; returns true when out is ready. */
static bool
s_early_fault(fakellm_t *f, fakellm_fault_t fault, const fakellm_script_t *sc, uint64_t variant,
              s_out_t *out)
{
    if (fault == FAKELLM_FAULT_RATE_LIMIT) {
        s_count_fault(f, fault);
        s_set_error(out, 429, "Rate limit reached (fakellm)", "requests", "rate_limit_exceeded");
        if (sc && (sc->retry_after_ms || sc->retry_after_s)) {
            out->retry_after_ms = sc->retry_after_ms;
            out->retry_after_s = sc->retry_after_s;
        } else {
            out->retry_after_ms = f->opts.retry_after_ms;
            out->retry_after_s = (f->opts.retry_after_ms + 999) / 1000;
        }
        return true;
    }
    if (fault == FAKELLM_FAULT_SERVER_ERROR) {
        s_count_fault(f, fault);
        if (variant & 1) {
            s_set_error(out, 500, "The server had an error (fakellm)", "server_error", NULL);
        } else {
            free(out->body);
            out->status = 503;
            out->body = tt_strdup("<html><body><h1>503 Service Unavailable</h1></body></html>");
            out->len = strlen(out->body);
            out->content_type = "text/html";
        }
        return true;
    }
    if (sc && sc->kind == FAKELLM_SCRIPT_STATUS) {
        const char *type = sc->status == 401   ? "invalid_request_error"
                           : sc->status >= 500 ? "server_error"
                                               : "invalid_request_error";
        s_set_error(out, sc->status, "fakellm: scripted status", type, sc->code);
        out->retry_after_ms = sc->retry_after_ms;
        out->retry_after_s = sc->retry_after_s;
        return true;
    }
    return false;
}

/* The content a scripted answer asks for instead of the model's. Takes content. */
static char *
s_scripted_content(const fakellm_script_t *sc, char *content)
{
    char *out = content;
    if (sc->kind == FAKELLM_SCRIPT_FENCED) {
        out = tt_asprintf("```json\n%s\n```", content);
    } else if (sc->kind == FAKELLM_SCRIPT_PROSE) {
        out = tt_asprintf("Sure! Here is my answer:\n%s\nLet me know if you need more.", content);
    } else if (sc->kind == FAKELLM_SCRIPT_CONTENT) {
        out = tt_strdup(sc->content ? sc->content : "");
    } else if (sc->kind == FAKELLM_SCRIPT_HUGE) {
        size_t n = (size_t)(sc->size_kb ? sc->size_kb : 1024) * 1024;
        out = tt_malloc(n + 1);
        memset(out, 'x', n);
        out[n] = '\0';
    }
    if (out != content)
        free(content);
    return out;
}

/* content, then spaces up to size bytes: still the same JSON, only larger. */
static char *
s_padded(char *content, size_t size)
{
    size_t len = strlen(content);
    if (len >= size)
        return content;
    content = tt_realloc(content, size + 1);
    memset(content + len, ' ', size - len);
    content[size] = '\0';
    return content;
}

static void
s_chat(fakellm_t *f, const json_t *req, const uint8_t digest[32], fakellm_fault_t *fault,
       const fakellm_script_t *sc, s_out_t *out)
{
    fakellm_chat_t ans;
    const char *why;
    if (!fakellm_chat_answer(req, f->opts.poor_first_turn, &ans, &why)) {
        s_set_error(out, 400, why, "invalid_request_error", NULL);
        return;
    }
    if (*fault == FAKELLM_FAULT_BAD_SCHEMA && !ans.structured)
        *fault = FAKELLM_FAULT_NONE; /* plain text has no schema to break */
    if (*fault == FAKELLM_FAULT_BAD_SCHEMA) {
        s_count_fault(f, *fault);
        free(ans.content);
        ans.content = tt_strdup("{\"unexpected\": \"fakellm: a schema-invalid answer\"}");
    }
    if (sc)
        ans.content = s_scripted_content(sc, ans.content);
    else if (f->opts.pad_answers)
        ans.content = s_padded(ans.content, f->opts.pad_answers);
    atomic_fetch_add(&f->chat, 1);
    atomic_fetch_add(&f->prompt_tokens, ans.prompt_tokens);
    atomic_fetch_add(&f->completion_tokens, ans.completion_tokens);
    s_set_json(out, 200,
               fakellm_chat_body(ans.model, ans.content, ans.prompt_tokens, ans.completion_tokens,
                                 digest));
    free(ans.content);
}

static void
s_embed(fakellm_t *f, const json_t *req, fakellm_fault_t fault, s_out_t *out)
{
    uint32_t n = 0, tokens = 0;
    const char *why;
    if (fault == FAKELLM_FAULT_BAD_SCHEMA)
        s_count_fault(f, fault);
    char *body = fakellm_embed_body(req, fault == FAKELLM_FAULT_BAD_SCHEMA, &n, &tokens, &why);
    if (!body) {
        s_set_error(out, 400, why, "invalid_request_error", NULL);
        return;
    }
    atomic_fetch_add(&f->embeddings, 1);
    atomic_fetch_add(&f->vectors, n);
    atomic_fetch_add(&f->prompt_tokens, tokens);
    s_set_json(out, 200, body);
}

static enum MHD_Result
s_models(fakellm_t *f, struct MHD_Connection *conn)
{
    s_out_t out = {0};
    s_set_json(&out, 200,
               tt_strdup("{\"object\":\"list\",\"data\":[{\"id\":\"troupe-offline\","
                         "\"object\":\"model\",\"created\":0,\"owned_by\":\"fakellm\"}]}"));
    return s_send(f, conn, &out);
}

/* A request the model never sees: wrong key, method, size or body. */
static bool
s_refused(const char *method, bool auth_ok, const s_req_t *rq, const json_t *req, s_out_t *out)
{
    if (!auth_ok)
        s_set_error(out, 401, "Incorrect API key provided (fakellm).", "invalid_request_error",
                    "invalid_api_key");
    else if (strcmp(method, "POST") != 0)
        s_set_error(out, 405, "use POST", "invalid_request_error", NULL);
    else if (rq->too_big)
        s_set_error(out, 413, "request body too large", "invalid_request_error", NULL);
    else if (!json_is_object(req))
        s_set_error(out, 400, "We could not parse the JSON body of your request.",
                    "invalid_request_error", NULL);
    return out->body != NULL;
}

/* What --model and --fail-after make of a request the model would take:
 * 404 for another chat model, 503 once the model "went down". */
static bool
s_unavailable(fakellm_t *f, const char *url, const json_t *req, s_out_t *out)
{
    const char *model = json_string_value(json_object_get(req, "model"));
    if (f->model && s_ends_with(url, "/chat/completions") && (!model || strcmp(model, f->model))) {
        char msg[300];
        snprintf(msg, sizeof msg, "The model `%.200s` does not exist (fakellm --model).",
                 model ? model : "");
        s_set_error(out, 404, msg, "invalid_request_error", "model_not_found");
        return true;
    }
    uint64_t n = atomic_fetch_add(&f->model_requests, 1) + 1;
    if (f->opts.fail_after && n > f->opts.fail_after) {
        s_set_error(out, 503, "The server is down (fakellm --fail-after).", "server_error", NULL);
        return true;
    }
    /* a server with room for `capacity` requests at once: the rest get 429 */
    if (f->opts.capacity && atomic_load(&f->in_flight) > f->opts.capacity) {
        s_count_fault(f, FAKELLM_FAULT_RATE_LIMIT);
        s_set_error(out, 429, "Too many requests at once (fakellm --capacity).", "requests",
                    "rate_limit_exceeded");
        out->retry_after_ms = f->opts.retry_after_ms;
        out->retry_after_s = (f->opts.retry_after_ms + 999) / 1000;
        return true;
    }
    return false;
}

/* The model's answer, with the drawn or scripted fault applied to it. */
static void
s_answer(fakellm_t *f, const char *url, const json_t *req, const uint8_t digest[32],
         fakellm_fault_t fault, const fakellm_script_t *sc, uint64_t variant, s_out_t *out)
{
    if (s_early_fault(f, fault, sc, variant, out))
        return;
    if (s_ends_with(url, "/chat/completions"))
        s_chat(f, req, digest, &fault, sc, out);
    else
        s_embed(f, req, fault, out);
    if (fault == FAKELLM_FAULT_STALL && !(variant & 4) && out->status == 200) {
        out->truncate_hard = true; /* half the answer, then silence, then a cut */
        out->stall_ms = f->opts.stall_ms;
    }
    if (fault == FAKELLM_FAULT_TRUNCATED && out->status == 200) {
        s_count_fault(f, fault);
        if (variant & 2)
            out->len /= 2; /* a complete transfer of half a JSON document */
        else
            out->truncate_hard = true; /* curl sees a partial transfer */
    }
}

/* The wait is over: send the answer or reset the connection. */
static enum MHD_Result
s_due(fakellm_t *f, struct MHD_Connection *conn, s_req_t *rq)
{
    s_state_t state = rq->state;
    rq->state = S_READING;
    if (state == S_RESET_DUE)
        return s_reset(conn);
    if (rq->counted && !rq->out.truncate_hard) {
        /* answered: a client that has the answer may send its next request
         * before libmicrohttpd runs the completion callback (a loaded host) */
        atomic_fetch_sub(&f->in_flight, 1);
        rq->counted = false;
    }
    return s_send(f, conn, &rq->out);
}

static enum MHD_Result
s_api(fakellm_t *f, struct MHD_Connection *conn, const char *url, const char *method, s_req_t *rq)
{
    atomic_fetch_add(&f->requests, 1);
    bool auth_ok;
    const char *auth = s_auth(f, conn, &auth_ok);
    json_t *req = rq->body.len ? fakellm_json_parse(rq->body.data, rq->body.len) : NULL;
    if (f->opts.keep_last_request)
        s_record(f, conn, method, url, auth, &rq->body, req != NULL);
    s_out_t out = {0};
    if (auth_ok && s_ends_with(url, "/models")) {
        json_decref(req);
        return s_models(f, conn);
    }
    if (s_refused(method, auth_ok, rq, req, &out) || s_unavailable(f, url, req, &out)) {
        json_decref(req);
        return s_send(f, conn, &out);
    }
    uint8_t digest[32];
    tt_sha256(rq->body.data, rq->body.len, digest);
    tt_buf_fini(&rq->body); /* read: its memory goes to the next request, warm */
    const fakellm_script_t *sc = fakellm_script_next(f);
    uint64_t seen = sc ? 0 : fakellm_seen(f, digest);
    fakellm_fault_t fault = sc ? (sc->kind == FAKELLM_SCRIPT_FAULT ? sc->fault : FAKELLM_FAULT_NONE)
                               : fakellm_draw(f->opts.seed, f->opts.fault_rate, digest, seen);
    if (sc)
        atomic_fetch_add(&f->scripted, 1);
    uint64_t variant = tt_fnv1a(digest, 32, seen + 1);
    if (sc && sc->variant) /* bit 0: 500 JSON, bit 1: soft truncation, bit 2: silent stall */
        variant = sc->variant == 1 ? 1 | 2 | 4 : 0;
    /* Latency runs from the request's arrival, and the model's own work (the
     * parse above, the answer below) happens inside it, as on a real server:
     * the answer leaves latency_ms after the request came in. */
    struct timespec due = s_after(rq->arrived, f->opts.latency_ms);
    if (fault == FAKELLM_FAULT_RESET) {
        s_count_fault(f, fault);
        json_decref(req);
        rq->state = S_RESET_DUE;
        return fakellm_timer_suspend(f->timer, conn, &due) ? MHD_YES : s_due(f, conn, rq);
    }
    s_answer(f, url, req, digest, fault, sc, variant, &out);
    if (sc && sc->should_retry)
        out.should_retry = sc->should_retry;
    json_decref(req);
    if (fault == FAKELLM_FAULT_STALL) {
        s_count_fault(f, fault);
        if (variant & 4)
            due = s_after(due, f->opts.stall_ms); /* silence before the answer */
    }
    rq->out = out;
    rq->state = S_ANSWER_DUE;
    return fakellm_timer_suspend(f->timer, conn, &due) ? MHD_YES : s_due(f, conn, rq);
}

/* ------------------------------------------------------------ routing */

static bool
s_is_api(const char *url)
{
    return s_ends_with(url, "/chat/completions") || s_ends_with(url, "/embeddings") ||
           s_ends_with(url, "/models");
}

static enum MHD_Result
s_route(fakellm_t *f, struct MHD_Connection *conn, const char *url, const char *method, s_req_t *rq)
{
    s_out_t out = {0};
    if (s_is_api(url))
        return s_api(f, conn, url, method, rq);
    if (!strcmp(url, "/stats") && !strcmp(method, "GET")) {
        s_set_json(&out, 200, fakellm_stats_json(f));
    } else if (!strcmp(url, "/stats/reset") && !strcmp(method, "POST")) {
        fakellm_reset(f);
        s_set_json(&out, 200, tt_strdup("{\"reset\":true}"));
    } else {
        s_set_error(&out, 404, "no such endpoint (fakellm)", "invalid_request_error", "not_found");
    }
    return s_send(f, conn, &out);
}

/* Room for the body its Content-Length announces (within the cap), so that
 * a prompt of several KB is not gathered by doubling from a few hundred bytes;
 * a body longer than announced still grows, a shorter one wastes the rest. */
static void
s_reserve_body(struct MHD_Connection *conn, tt_buf_t *body)
{
    const char *v =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end = NULL;
    errno = 0;
    unsigned long long n = v && *v >= '0' && *v <= '9' ? strtoull(v, &end, 10) : 0;
    if (n && !errno && end && !*end && n <= FAKELLM_BODY_CAP)
        tt_buf_reserve(body, (size_t)n);
}

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
         const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    fakellm_t *f = cls;
    s_req_t *rq = *con_cls;
    if (!rq) {
        rq = tt_new(s_req_t);
        clock_gettime(CLOCK_MONOTONIC, &rq->arrived);
        tt_buf_init(&rq->body, FAKELLM_BODY_CAP);
        s_reserve_body(conn, &rq->body);
        *con_cls = rq;
        if (s_is_api(url)) {
            rq->counted = true;
            unsigned n = atomic_fetch_add(&f->in_flight, 1) + 1;
            unsigned max = atomic_load(&f->max_in_flight);
            while (n > max && !atomic_compare_exchange_weak(&f->max_in_flight, &max, n))
                ;
        }
        return MHD_YES;
    }
    if (rq->state != S_READING) /* resumed: its wait is over */
        return s_due(f, conn, rq);
    if (*upload_data_size) {
        if (tt_buf_add(&rq->body, upload_data, *upload_data_size) != TT_OK)
            rq->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return s_route(f, conn, url, method, rq);
}

static void
s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
            enum MHD_RequestTerminationCode why)
{
    fakellm_t *f = cls;
    s_req_t *rq = *con_cls;
    if (!rq)
        return;
    if (rq->counted)
        atomic_fetch_sub(&f->in_flight, 1);
    tt_buf_fini(&rq->body);
    free(rq->out.body); /* never sent: the client left, or fakellm stopped */
    free(rq);
    *con_cls = NULL;
}

/* ------------------------------------------------------------ life cycle */

fakellm_t *
fakellm_start(const fakellm_opts_t *opts)
{
    fakellm_t *f = tt_new(fakellm_t);
    f->opts = *opts;
    f->api_key = opts->api_key ? tt_strdup(opts->api_key) : NULL;
    f->opts.api_key = NULL;
    f->model = opts->model ? tt_strdup(opts->model) : NULL;
    f->opts.model = NULL;
    if (!f->opts.stall_ms)
        f->opts.stall_ms = 60000;
    if (!f->opts.retry_after_ms)
        f->opts.retry_after_ms = 1000;
    if (!f->opts.max_connections)
        f->opts.max_connections = 4096;
    f->seen = tt_calloc(FAKELLM_SEEN_SLOTS, sizeof *f->seen);
    f->timer = fakellm_timer_start();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned workers = cores < 1                     ? 1
                       : cores > FAKELLM_MAX_WORKERS ? FAKELLM_MAX_WORKERS
                                                     : (unsigned)cores;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(opts->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, opts->port,
        NULL, NULL, s_access, f, MHD_OPTION_THREAD_POOL_SIZE, workers, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)f->opts.max_connections,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)FAKELLM_BACKLOG, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)FAKELLM_IDLE_TIMEOUT, MHD_OPTION_THREAD_STACK_SIZE, FAKELLM_STACK_BYTES,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, f, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        FAKELLM_CONNECTION_MEMORY, MHD_OPTION_END);
    if (!f->daemon) {
        fprintf(stderr, "fakellm: cannot listen on 127.0.0.1:%u\n", (unsigned)opts->port);
        fakellm_stop(&f);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
    f->port = di ? di->port : opts->port;
    return f;
}

void
fakellm_stop(fakellm_t **self_p)
{
    fakellm_t *f = *self_p;
    if (!f)
        return;
    fakellm_timer_stop(f->timer); /* no connection stays suspended */
    if (f->daemon)
        MHD_stop_daemon(f->daemon);
    fakellm_timer_free(&f->timer);
    fakellm_script_free(f->script, f->script_n);
    free(atomic_exchange(&f->last, NULL));
    free(f->seen);
    free(f->api_key);
    free(f->model);
    free(f);
    *self_p = NULL;
}

uint16_t
fakellm_port(const fakellm_t *self)
{
    return self->port;
}

char *
fakellm_base_url(const fakellm_t *self)
{
    return tt_asprintf("http://127.0.0.1:%u/v1", (unsigned)self->port);
}

char *
fakellm_take_last_request(fakellm_t *self)
{
    return atomic_exchange(&self->last, NULL);
}

/* ------------------------------------------------------------ counters */

void
fakellm_stats(const fakellm_t *self, fakellm_stats_t *out)
{
    fakellm_t *f = (fakellm_t *)self; /* atomic loads need a non-const object */
    memset(out, 0, sizeof *out);
    out->requests = atomic_load(&f->requests);
    out->chat = atomic_load(&f->chat);
    out->embeddings = atomic_load(&f->embeddings);
    out->vectors = atomic_load(&f->vectors);
    out->prompt_tokens = atomic_load(&f->prompt_tokens);
    out->completion_tokens = atomic_load(&f->completion_tokens);
    out->scripted = atomic_load(&f->scripted);
    for (int k = 1; k < FAKELLM_FAULT_KINDS; k++)
        out->faults[k] = atomic_load(&f->faults[k]);
    out->in_flight = atomic_load(&f->in_flight);
    out->max_in_flight = atomic_load(&f->max_in_flight);
}

char *
fakellm_stats_json(const fakellm_t *self)
{
    fakellm_stats_t s;
    fakellm_stats(self, &s);
    json_t *faults = json_object();
    uint64_t total = 0;
    for (int k = 1; k < FAKELLM_FAULT_KINDS; k++) {
        json_object_set_new(faults, fakellm_fault_name(k), json_integer((json_int_t)s.faults[k]));
        total += s.faults[k];
    }
    json_t *j =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:o, s:I, s:i,"
                  " s:i, s:f, s:I}",
                  "requests", (json_int_t)s.requests, "chat", (json_int_t)s.chat, "embeddings",
                  (json_int_t)s.embeddings, "vectors", (json_int_t)s.vectors, "prompt_tokens",
                  (json_int_t)s.prompt_tokens, "completion_tokens", (json_int_t)s.completion_tokens,
                  "scripted", (json_int_t)s.scripted, "faults_total", (json_int_t)total,
                  "in_flight", (int)s.in_flight, "max_in_flight", (int)s.max_in_flight, "faults",
                  faults, "seed", (json_int_t)self->opts.seed, "port", (int)self->port,
                  "latency_ms", (int)self->opts.latency_ms, "fault_rate", self->opts.fault_rate,
                  "stall_ms", (json_int_t)self->opts.stall_ms);
    TT_ASSERT(j);
    char *text = tt_json_compact(j);
    json_decref(j);
    return text;
}

void
fakellm_reset(fakellm_t *f)
{
    _Atomic uint64_t *counters[] = {&f->requests, &f->chat,          &f->embeddings,
                                    &f->vectors,  &f->prompt_tokens, &f->completion_tokens,
                                    &f->scripted};
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        atomic_store(counters[i], 0);
    for (int k = 0; k < FAKELLM_FAULT_KINDS; k++)
        atomic_store(&f->faults[k], 0);
    atomic_store(&f->max_in_flight, atomic_load(&f->in_flight));
    fakellm_seen_clear(f);
}
