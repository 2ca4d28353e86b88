/*  tt_llm_reply -- judging one finished HTTP exchange: answer, retry or give up.
 *
 *  The policy (shared/reference/llm-and-deps.md 1.3-1.4, reliability-notes 3):
 *    - retry 408, 409, 429, 5xx, connection errors, timeouts and cut or
 *      non-JSON bodies, waiting retry-after-ms, x-ms-retry-after-ms or
 *      Retry-After (seconds or HTTP-date) when the server says, up to 60 s;
 *    - never retry 400, 401, 403, 404, 422, a 429 whose code or type is
 *      insufficient_quota (billing, not load), or a body over the size cap;
 *    - x-should-retry: true/false from the server overrides the status rule.
 *    - a 429, or x-ratelimit-remaining(-requests): 0, marks the reply
 *      rate_limited: the worker lowers its in-flight limit (tt_llm_worker).
 *  Server bodies are read defensively: the error code may be a string, a number
 *  or null, the body may be HTML from a proxy. Error texts name the URL without
 *  its query string or user info and never the key (401s do not quote the
 *  server at all: OpenAI's message echoes part of the key).
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_json.h"
#include "tt_llm_impl.h"
#include "tt_limits.h"
#include "tt_log.h"
#include "tt_mem.h"

#define S_QUOTE_MAX 200 /* characters of a server message quoted in an error */

/* One printable line of valid UTF-8, in place: control characters become
 * spaces and bytes that do not form a character (a quote cut in the middle of
 * one) become '?'. The text goes to logs and, as a failed turn's error, into a
 * wire message whose strings must be UTF-8. */
static void
s_clean(char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (c < 0x20)
            s[i] = ' ';
        if (n > len - i || !tt_utf8_valid(s + i, n)) {
            s[i] = '?';
            n = 1;
        }
        i += n;
    }
}

static void __attribute__((format(printf, 4, 5)))
s_set(tt_llm_reply_t *out, tt_llm_reply_kind_t kind, tt_err_t err, const char *fmt, ...)
{
    out->kind = kind;
    out->err = err;
    free(out->text);
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    s_clean(buf);
    out->text = tt_strdup(tt_log_redact(buf));
}

/* ------------------------------------------------------------ error bodies */

typedef struct {
    char message[S_QUOTE_MAX + 1];
    char code[64];
    char type[64];
} s_error_t;

/* A JSON scalar as text: string as is, number printed, null/absent empty. */
static void
s_scalar(const json_t *v, char *out, size_t cap)
{
    out[0] = '\0';
    if (json_is_string(v))
        snprintf(out, cap, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, cap, "%g", json_real_value(v));
}

/* Printable, one line. */
static void
s_one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20)
            *s = ' ';
}

static void
s_error_info(const tt_buf_t *body, s_error_t *e)
{
    memset(e, 0, sizeof *e);
    json_t *root = body->len ? json_loadb(body->data, body->len, 0, NULL) : NULL;
    json_t *err = json_object_get(root, "error");
    if (json_is_object(err)) {
        s_scalar(json_object_get(err, "message"), e->message, sizeof e->message);
        s_scalar(json_object_get(err, "code"), e->code, sizeof e->code);
        s_scalar(json_object_get(err, "type"), e->type, sizeof e->type);
    } else if (json_is_string(err)) { /* some servers: {"error": "text"} */
        s_scalar(err, e->message, sizeof e->message);
    } else if (!root && body->len) {
        const char *p = body->data;
        while (isspace((unsigned char)*p))
            p++;
        snprintf(e->message, sizeof e->message, "%s",
                 *p == '<' ? "(an HTML page, probably from a proxy)" : "(a body that is not JSON)");
    }
    json_decref(root);
    s_one_line(e->message);
}

/* ------------------------------------------------------------ headers */

static int64_t
s_header_ms(CURL *easy, const char *name, double scale)
{
    struct curl_header *h;
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return -1;
    char *end;
    double v = strtod(h->value, &end);
    if (end == h->value || !isfinite(v) || v <= 0)
        return -1;
    return (int64_t)(v * scale);
}

/* The server's wait hint in ms (capped), or -1. */
static int64_t
s_hint_ms(CURL *easy)
{
    int64_t ms = s_header_ms(easy, "retry-after-ms", 1);
    if (ms < 0)
        ms = s_header_ms(easy, "x-ms-retry-after-ms", 1);
    if (ms < 0) {
        curl_off_t secs = 0; /* curl parses seconds and HTTP-dates */
        if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &secs) == CURLE_OK && secs > 0)
            ms = (int64_t)secs * 1000;
    }
    return ms > TT_LLM_HINT_CAP_MS ? TT_LLM_HINT_CAP_MS : ms;
}

/* x-ratelimit-remaining-requests (OpenAI) or x-ratelimit-remaining (others)
 * says 0: the server's window is used up. */
static bool
s_no_requests_left(CURL *easy)
{
    static const char *names[] = {"x-ratelimit-remaining-requests", "x-ratelimit-remaining"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct curl_header *h;
        if (curl_easy_header(easy, names[i], 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
            continue;
        char *end;
        long v = strtol(h->value, &end, 10);
        return end != h->value && v <= 0;
    }
    return false;
}

/* x-should-retry: 1 true, 0 false, -1 absent. */
static int
s_should_retry(CURL *easy)
{
    struct curl_header *h;
    if (curl_easy_header(easy, "x-should-retry", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return -1;
    return !strcmp(h->value, "true") ? 1 : !strcmp(h->value, "false") ? 0 : -1;
}

/* ------------------------------------------------------------ answers */

static void
s_usage(const json_t *root, tt_llm_reply_t *out)
{
    json_t *usage = json_object_get(root, "usage");
    json_int_t p = tt_json_int(usage, "prompt_tokens", 0);
    json_int_t c = tt_json_int(usage, "completion_tokens", 0);
    out->prompt_tokens = p > 0 && p < UINT32_MAX ? (uint32_t)p : 0;
    out->completion_tokens = c > 0 && c < UINT32_MAX ? (uint32_t)c : 0;
}

static void
s_chat_answer(const json_t *root, const char *url, tt_llm_reply_t *out)
{
    json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    json_t *message = json_object_get(choice, "message");
    json_t *content = json_object_get(message, "content");
    const char *refusal = tt_json_str(message, "refusal", NULL);
    if (json_is_string(content)) {
        out->kind = TT_LLM_REPLY_OK;
        out->content = tt_strdup(json_string_value(content));
    } else if (refusal) {
        s_set(out, TT_LLM_REPLY_FAIL, TT_ELLM, "the model refused: %.*s", S_QUOTE_MAX, refusal);
    } else if (!strcmp(tt_json_str(choice, "finish_reason", ""), "content_filter")) {
        s_set(out, TT_LLM_REPLY_FAIL, TT_ELLM, "the provider's content filter withheld the answer");
    } else {
        s_set(out, TT_LLM_REPLY_RETRY, TT_EPROTO, "%s answered without message content", url);
    }
}

/* Embeddings come as long base64 strings, which jansson reads a byte at a
 * time with a UTF-8 check each (~70% of the time of an embeddings reply).
 * Before the parse, every "embedding": "<base64>" value made only of base64
 * characters is lifted out of the text and replaced by "#N" (N: its place
 * among the lifted ones; '#' is not base64, so no real value looks like
 * that); jansson then checks the rest, a few hundred bytes, as usual. A value
 * with anything else in it (an escape) stays and is read by jansson. */
#define S_LIFT_MAX 4096 /* lifted values per reply */
#define S_LIFT_MIN 64   /* shorter values are not worth it */

/* As many places as texts were sent (a reply with more fails its check
 * anyway): a fixed S_LIFT_MAX took a 64 KB calloc a reply, which jemalloc
 * zeroes with madvise, and each madvise stopped every core for a TLB
 * shootdown (15% of a slot agentd's CPU at 1,000 agents). */
typedef struct {
    size_t n, cap;
    struct {
        const char *at;
        size_t len;
    } v[];
} s_lifted_t;

static s_lifted_t *
s_lifted_new(size_t texts)
{
    size_t cap = texts < S_LIFT_MAX ? texts : S_LIFT_MAX;
    s_lifted_t *l = tt_malloc(sizeof *l + cap * sizeof l->v[0]);
    l->n = 0;
    l->cap = cap;
    return l;
}

static bool
s_base64_char(unsigned char c)
{
    return isalnum(c) || c == '+' || c == '/' || c == '=';
}

/* The text with base64 embedding values lifted into *lifted; caller frees. */
static char *
s_lift_vectors(const char *text, size_t len, s_lifted_t *lifted, size_t *out_len)
{
    static const char key[] = "\"embedding\"";
    tt_buf_t b;
    tt_buf_init(&b, len < 4096 ? len + 1 : 4096);
    const char *p = text, *end = text + len, *copied = text;
    while (lifted->n < lifted->cap &&
           (p = memmem(p, (size_t)(end - p), key, sizeof key - 1)) != NULL) {
        p += sizeof key - 1;
        const char *q = p;
        while (q < end && isspace((unsigned char)*q))
            q++;
        if (q >= end || *q++ != ':')
            continue;
        while (q < end && isspace((unsigned char)*q))
            q++;
        if (q >= end || *q != '"')
            continue;
        const char *start = ++q;
        while (q < end && s_base64_char((unsigned char)*q))
            q++;
        if (q >= end || *q != '"' || (size_t)(q - start) < S_LIFT_MIN)
            continue;
        tt_buf_add(&b, copied, (size_t)(start - copied));
        tt_buf_addf(&b, "#%zu", lifted->n);
        lifted->v[lifted->n].at = start;
        lifted->v[lifted->n++].len = (size_t)(q - start);
        copied = p = q;
    }
    tt_buf_add(&b, copied, (size_t)(end - copied));
    *out_len = b.len;
    return tt_buf_take(&b);
}

/* One vector from an item: a float array or base64 little-endian float32,
 * maybe lifted out before the parse. */
static float *
s_vector(const json_t *emb, const s_lifted_t *lifted, uint32_t *dim)
{
    if (json_is_string(emb)) {
        float *v;
        const char *s = json_string_value(emb);
        if (*s == '#' && lifted) {
            char *end;
            unsigned long k = strtoul(s + 1, &end, 10);
            if (*end || end == s + 1 || k >= lifted->n)
                return NULL;
            return tt_llm_vectors_decode_n(lifted->v[k].at, lifted->v[k].len, 1, &v, dim) == TT_OK
                       ? v
                       : NULL;
        }
        return tt_llm_vectors_decode(s, 1, &v, dim) == TT_OK ? v : NULL;
    }
    size_t n = json_array_size(emb);
    if (!n || n > TT_LLM_MAX_EMBED_DIM)
        return NULL;
    float *v = tt_malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(emb, i);
        if (!json_is_number(x)) {
            free(v);
            return NULL;
        }
        v[i] = (float)json_number_value(x);
    }
    *dim = (uint32_t)n;
    return v;
}

static void
s_embed_answer(const json_t *root, const s_lifted_t *lifted, uint32_t n_texts, const char *url,
               tt_llm_reply_t *out)
{
    json_t *data = json_object_get(root, "data");
    float *all = NULL;
    uint32_t dim = 0;
    bool ok = json_array_size(data) == n_texts;
    for (size_t i = 0; ok && i < n_texts; i++) {
        json_t *item = json_array_get(data, i);
        json_int_t index = tt_json_int(item, "index", (json_int_t)i);
        uint32_t d = 0;
        float *v = s_vector(json_object_get(item, "embedding"), lifted, &d);
        if (!all && v) {
            dim = d;
            all = tt_calloc((size_t)n_texts * dim, sizeof(float));
        }
        ok = v && d == dim && index >= 0 && index < (json_int_t)n_texts;
        if (ok)
            memcpy(all + (size_t)index * dim, v, dim * sizeof(float));
        free(v);
    }
    if (!ok) {
        free(all);
        s_set(out, TT_LLM_REPLY_RETRY, TT_EPROTO,
              "%s answered with %zu embeddings that do not match the %u texts sent", url,
              json_array_size(data), n_texts);
        return;
    }
    out->kind = TT_LLM_REPLY_OK;
    out->vectors = all;
    out->n_vectors = n_texts;
    out->dim = dim;
}

static void
s_answer(const tt_llm_request_t *req, const tt_buf_t *body, const char *url, tt_llm_reply_t *out)
{
    bool embed = req->kind != TT_LLM_CHAT;
    s_lifted_t *lifted = embed ? s_lifted_new(json_array_size(req->texts)) : NULL;
    size_t len = body->len;
    char *text = embed ? s_lift_vectors(tt_buf_str(body), body->len, lifted, &len) : NULL;
    json_t *root = json_loadb(text ? text : tt_buf_str(body), len, 0, NULL);
    if (!json_is_object(root)) {
        s_set(out, TT_LLM_REPLY_RETRY, TT_EPROTO,
              "the answer from %s is cut off or not JSON (%zu bytes)", url, body->len);
    } else {
        s_usage(root, out);
        if (embed)
            s_embed_answer(root, lifted, (uint32_t)json_array_size(req->texts), url, out);
        else
            s_chat_answer(root, url, out);
    }
    json_decref(root);
    free(text);
    free(lifted);
}

/* ------------------------------------------------------------ judging */

static void
s_transport(const tt_llm_conf_t *conf, CURLcode rc, const char *url, tt_llm_reply_t *out)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        s_set(out, TT_LLM_REPLY_RETRY, TT_ETIMEOUT,
              "no complete answer from %s within %g s (TIMEOUT)", url, conf->timeout_s);
        return;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_LOGIN_DENIED:
        s_set(out, TT_LLM_REPLY_FAIL, TT_EHTTP, "cannot talk to %s: %s", url,
              curl_easy_strerror(rc));
        return;
    default: /* connection refused or reset, empty or partial reply, ... */
        s_set(out, TT_LLM_REPLY_RETRY, TT_EHTTP, "%s: %s", url, curl_easy_strerror(rc));
        return;
    }
}

static void
s_status(const tt_llm_conf_t *conf, long status, const tt_buf_t *body, const char *url,
         tt_llm_reply_t *out)
{
    s_error_t e;
    s_error_info(body, &e);
    const char *code = e.code[0] ? e.code : e.type;
    if (status == 401 || status == 403) {
        s_set(out, TT_LLM_REPLY_FAIL, TT_EAUTH, "%s rejected the credentials (HTTP %ld): check %s",
              url, status, conf->provider->key_env ? conf->provider->key_env : "the API key");
    } else if (status == 429 &&
               (!strcmp(e.code, "insufficient_quota") || !strcmp(e.type, "insufficient_quota"))) {
        s_set(out, TT_LLM_REPLY_FAIL, TT_EQUOTA,
              "%s: quota exhausted (HTTP 429 insufficient_quota), not retried: %s", url, e.message);
    } else if (status == 404) {
        s_set(out, TT_LLM_REPLY_FAIL, TT_ENOTFOUND,
              "%s: HTTP 404, no such model or deployment \"%s\" (check MODEL and the base URL "
              "or endpoint): %s",
              url, conf->model, e.message);
    } else if (status == 400 || status == 422) {
        s_set(out, TT_LLM_REPLY_FAIL, TT_EINVAL, "%s rejected the request (HTTP %ld%s%s): %s", url,
              status, code[0] ? ", " : "", code, e.message);
    } else if (status == 429 || status == 408 || status == 409 || status >= 500) {
        s_set(out, TT_LLM_REPLY_RETRY, TT_EHTTP, "%s: HTTP %ld%s%s: %s", url, status,
              code[0] ? " " : "", code, e.message);
    } else {
        s_set(out, TT_LLM_REPLY_FAIL, TT_EHTTP, "%s: unexpected HTTP %ld: %s", url, status,
              e.message);
    }
}

void
tt_llm_reply_parse(const tt_llm_conf_t *conf, const tt_llm_request_t *req, long status,
                   const tt_buf_t *body, const char *url, tt_llm_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->hint_ms = -1;
    if (status >= 200 && status < 300)
        s_answer(req, body, url, out);
    else
        s_status(conf, status, body, url, out);
}

void
tt_llm_reply_judge(const tt_llm_conf_t *conf, const tt_llm_request_t *req, CURL *easy, CURLcode rc,
                   bool stalled, const tt_buf_t *body, const char *url, tt_llm_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->hint_ms = -1;
    if (stalled) {
        s_set(out, TT_LLM_REPLY_RETRY, TT_ETIMEOUT,
              "the answer from %s stopped arriving after %zu bytes", url, body->len);
        return;
    }
    if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED) {
        s_set(out, TT_LLM_REPLY_FAIL, TT_ETOOBIG,
              "the answer from %s exceeded %zu bytes (RESPONSE_CAP_KB=%zu, at most %zu)", url,
              conf->response_cap, conf->response_cap / 1024, TT_LIMIT_RESPONSE / 1024);
        return;
    }
    if (rc != CURLE_OK) {
        s_transport(conf, rc, url, out);
        return;
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    tt_llm_reply_parse(conf, req, status, body, url, out);
    out->rate_limited = status == 429 || s_no_requests_left(easy);
    if (out->kind == TT_LLM_REPLY_OK)
        return;
    int should = s_should_retry(easy);
    if (should == 1 && out->err != TT_EAUTH && out->err != TT_EQUOTA)
        out->kind = TT_LLM_REPLY_RETRY;
    else if (should == 0)
        out->kind = TT_LLM_REPLY_FAIL;
    if (out->kind == TT_LLM_REPLY_RETRY)
        out->hint_ms = s_hint_ms(easy);
}

void
tt_llm_reply_fini(tt_llm_reply_t *reply)
{
    free(reply->text);
    free(reply->content);
    free(reply->vectors);
    memset(reply, 0, sizeof *reply);
}

int64_t
tt_llm_backoff_ms(const tt_llm_conf_t *conf, uint32_t failures, double jitter)
{
    double base = conf->waiting_time_s > 0 ? conf->waiting_time_s : TT_LLM_BACKOFF_BASE_S;
    double factor = conf->backoff_factor >= 1 ? conf->backoff_factor : 1;
    double ms = base * 1000 * pow(factor, failures > 0 ? failures - 1 : 0);
    if (ms > TT_LLM_BACKOFF_CAP_MS)
        ms = TT_LLM_BACKOFF_CAP_MS;
    return (int64_t)(ms * (1 - 0.25 * jitter));
}
