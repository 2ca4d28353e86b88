/*  tt_llm_impl -- types and calls shared by the tt_llm_*.c files (private).
 *
 *  Thread model: tt_llm.c runs on the caller's thread, tt_llm_worker.c (and
 *  what it calls: tt_llm_http.c, tt_llm_reply.c, tt_llm_local.c,
 *  tt_llm_cache.c) on the worker thread. The only things both threads touch
 *  are the immutable tt_llm_conf_t and the provider row (the multi handle and
 *  the epoll set are made by tt_llm_new and then used by the worker alone
 *  until it ends). Requests and results cross by pointer over an inproc PAIR
 *  pipe inside a tt_llm_msg_t; whoever holds the envelope owns it.
 */
#ifndef TT_LLM_IMPL_H
#define TT_LLM_IMPL_H

#include <curl/curl.h>
#include <stddef.h>

#include "tt_buf.h"
#include "tt_llm.h"
#include "tt_llm_provider.h"

/* Bounds and constants of the client, in one place. */
#define TT_LLM_CONNECT_TIMEOUT_MS 10000
#define TT_LLM_STALL_MAX_MS       30000 /* a body that stops this long is cut */
#define TT_LLM_MAX_CONNECTS       1024  /* idle connections kept, whatever the concurrency */
#define TT_LLM_BACKOFF_BASE_S     0.5   /* when waiting_time_s is 0 */
#define TT_LLM_BACKOFF_CAP_MS     8000
#define TT_LLM_HINT_CAP_MS        60000 /* longest server retry hint we honour */
#define TT_LLM_REASK_ECHO_MAX     2000  /* bad answer echoed back on a re-ask */
#define TT_LLM_MAX_EMBED_DIM      65536
#define TT_LLM_CACHE_MAX_ENTRIES  50000
#define TT_LLM_STALL_CHECK_MS     250    /* transfers checked this soon after their sockets stir */
#define TT_LLM_EPOLL_EVENTS       256    /* ready sockets taken per wake-up */
#define TT_LLM_EMBED_BATCH_TEXTS  64     /* texts one embedding request carries at most */
#define TT_LLM_EMBED_BATCH_BYTES  262144 /* and bytes of text */
#define TT_LLM_EMBED_BATCH_SCAN   1024   /* queued calls looked at to fill a batch */

/* The client's settings, copied from tt_config_t by tt_llm_new and never
 * changed afterwards, so both threads may read them without coordination. */
typedef struct {
    const tt_llm_provider_t *provider;
    char *model;
    char *embedding_model;
    bool local_embeddings; /* embeddings computed in-process */
    char *base_url;        /* URL_BASE providers, no trailing '/' */
    char *azure_endpoint;  /* URL_AZURE, no trailing '/' */
    char *azure_api_version;
    char *reasoning_effort;
    char *api_key; /* secret: headers only */
    int max_completion_tokens;
    double temperature;      /* < 0: not sent */
    double top_p;            /* < 0: not sent */
    double freq_penalty;     /* 0: not sent */
    double presence_penalty; /* 0: not sent */
    double timeout_s;
    int max_attempts; /* HTTP attempts per ask */
    double waiting_time_s;
    double backoff_factor;
    int max_concurrent_calls;
    size_t response_cap;     /* bytes */
    int action_max_attempts; /* re-asks after an unusable answer */
    bool cache_api_calls;
    char *cache_file_name;
} tt_llm_conf_t;

struct tt_llm_request {
    tt_llm_kind_t kind;
    char *purpose;
    json_t *messages; /* chat */
    char *schema_name;
    json_t *schema;
    json_t *texts; /* embed */
    tt_llm_validate_fn *validate;
    const void *validate_arg;
    tt_llm_check_fn *check;
    const void *check_arg;
    bool has_temperature;
    double temperature;
    bool has_seed;
    uint64_t seed;
    /* the digest, computed once: it hashes the whole prompt, so every call
     * would otherwise pay for it twice (caller's replay lookup, then result) */
    bool has_digest;
    uint8_t digest[TT_SHA256_LEN];
};

/* What travels over the pipe: a request in, the same envelope with its result
 * back out. */
typedef struct {
    tt_llm_request_t *req;
    void *tag;
    uint64_t sync_id; /* 0: async (main pipe); else tt_llm_call's id */
    int64_t submitted_ms;
    tt_llm_result_t *result;
    tt_llm_stats_t stats; /* the worker's counters as the result left */
} tt_llm_msg_t;

/* Everything the worker thread is given; it owns none of it. */
typedef struct {
    const tt_llm_conf_t *conf;
    zsock_t *pipe; /* worker end of the main pipe */
    zsock_t *sync; /* worker end of the tt_llm_call pipe */
    CURLM *multi;
    int epoll;                  /* watches the worker's pipe; the worker adds curl's sockets */
    struct tt_llm_cache *cache; /* NULL when caching is off */
} tt_llm_worker_args_t;

/* ---------------------------------------------------------------- tt_llm.c */

/* A fresh result for req: purpose copied, digest set, err TT_OK. */
tt_llm_result_t *tt_llm_result_new(const tt_llm_conf_t *conf, const tt_llm_request_t *req);
/* Set err and a formatted, redacted error_text on r. */
void tt_llm_result_fail(tt_llm_result_t *r, tt_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tt_llm_msg_destroy(tt_llm_msg_t **self_p);
/* The model name a request of this kind is made for. */
/* What a client keeps of a config (copies; tt_llm_conf_fini frees). TT_EINVAL
 * for an unknown provider or azure without an endpoint. */
tt_err_t tt_llm_conf_init(tt_llm_conf_t *c, const tt_config_t *cfg);
void tt_llm_conf_fini(tt_llm_conf_t *c);
const char *tt_llm_conf_model(const tt_llm_conf_t *conf, tt_llm_kind_t kind);
void tt_llm_digest_conf(const tt_llm_conf_t *conf, const tt_llm_request_t *req,
                        uint8_t out[TT_SHA256_LEN]);

/* ---------------------------------------------------------- tt_llm_accept.c */

/* Turn a chat answer into an accepted one: plain-text requests accept any
 * content; structured ones are repaired, checked against the schema, then
 * passed to the validator. On TT_OK *parsed is set (may be NULL for plain
 * text); on TT_ELLM *why says what is wrong (caller frees both). */
tt_err_t tt_llm_accept_chat(const tt_llm_request_t *req, const char *content, json_t **parsed,
                            char **why);
/* The same for a structured answer already parsed (the in-process model's):
 * the schema, then the validator. Takes value. */
tt_err_t tt_llm_accept_value(const tt_llm_request_t *req, json_t *value, json_t **parsed,
                             char **why);
/* Append the re-ask turn: the bad answer (shortened) and what was wrong. */
void tt_llm_reask_append(json_t *conversation, const char *bad, const char *why);
/* Standard padded base64 of n floats packed little-endian float32. */
char *tt_llm_vectors_encode(const float *v, size_t n);
/* Decode what tt_llm_vectors_encode made into n_vectors equal rows. */
tt_err_t tt_llm_vectors_decode(const char *b64, uint32_t n_vectors, float **out, uint32_t *dim);
/* The same for len bytes that need not end in NUL. */
tt_err_t tt_llm_vectors_decode_n(const char *b64, size_t len, uint32_t n_vectors, float **out,
                                 uint32_t *dim);

/* ---------------------------------------------------------- tt_llm_schema.c */

/* Check value against the JSON-schema subset our schemas use (type, enum,
 * const, properties, required, additionalProperties, items, minItems,
 * maxItems). On failure *why = "$.path: what is wrong" (caller frees). */
bool tt_llm_schema_check(const json_t *schema, const json_t *value, char **why);

/* ----------------------------------------------------------- tt_llm_local.c */

/* The in-process model: answer r's request (with re-asks) into r. */
void tt_llm_local_chat(const tt_llm_conf_t *conf, const tt_llm_request_t *req, tt_llm_result_t *r);
void tt_llm_local_embed(const tt_llm_request_t *req, tt_llm_result_t *r);

/* ------------------------------------------------------------ tt_llm_http.c */

/* URL for a request kind; no secret in it. Caller frees. */
char *tt_llm_http_url(const tt_llm_conf_t *conf, tt_llm_kind_t kind);
/* The same URL for messages: query string and user info cut off. Caller frees. */
char *tt_llm_http_url_public(const char *url);
/* Headers with the key. Caller frees with curl_slist_free_all. */
struct curl_slist *tt_llm_http_headers(const tt_llm_conf_t *conf);
/* The wire body for one ask. Caller frees. */
char *tt_llm_http_chat_body(const tt_llm_conf_t *conf, const tt_llm_request_t *req,
                            const json_t *conversation);
char *tt_llm_http_embed_body(const tt_llm_conf_t *conf, const tt_llm_request_t *req);
/* Watch over one transfer's body: once the first byte has arrived, a body that
 * stops growing for window_ms is cut (the transfer fails, stalled is set).
 * Waiting for the first byte is bounded by the total timeout only, because a
 * non-streaming answer sends nothing until the model has finished. */
typedef struct {
    int64_t window_ms;
    int64_t last_ms;
    curl_off_t last_bytes;
    bool stalled;
} tt_llm_watch_t;

/* Has the body stopped arriving for longer than the window? */
bool tt_llm_watch_expired(const tt_llm_watch_t *w, int64_t now_ms);

/* Options for one transfer on a (reset) easy handle. The strings, the response
 * buffer and the watch must outlive the transfer. */
void tt_llm_http_setup(CURL *easy, const tt_llm_conf_t *conf, const char *url,
                       struct curl_slist *headers, const char *body, tt_buf_t *response,
                       tt_llm_watch_t *watch, void *private_ptr);

/* ----------------------------------------------------------- tt_llm_reply.c */

typedef enum {
    TT_LLM_REPLY_OK,    /* an answer (content or vectors) */
    TT_LLM_REPLY_RETRY, /* transient: try the same ask again */
    TT_LLM_REPLY_FAIL,  /* final: no retry can help */
} tt_llm_reply_kind_t;

typedef struct {
    tt_llm_reply_kind_t kind;
    tt_err_t err;      /* RETRY/FAIL: the error if this is the last word */
    char *text;        /* RETRY/FAIL: what happened (no secrets) */
    int64_t hint_ms;   /* RETRY: the server's wait hint, -1 none */
    bool rate_limited; /* HTTP 429, or x-ratelimit-remaining-requests: 0 */
    char *content;     /* OK chat */
    float *vectors;    /* OK embed: n_vectors x dim */
    uint32_t n_vectors, dim;
    uint32_t prompt_tokens, completion_tokens;
} tt_llm_reply_t;

/* Judge one finished transfer. rc is the transfer's CURLcode (a body over the
 * cap shows as CURLE_WRITE_ERROR); stalled comes from its watch. url is the
 * public URL (for messages). */
void tt_llm_reply_judge(const tt_llm_conf_t *conf, const tt_llm_request_t *req, CURL *easy,
                        CURLcode rc, bool stalled, const tt_buf_t *body, const char *url,
                        tt_llm_reply_t *out);
/* The part of tt_llm_reply_judge that reads the body: the answer of a 2xx, or
 * the verdict on an error status, without the transport checks and server
 * headers (hint_ms stays -1). Fills *out (overwritten, not freed; release with
 * tt_llm_reply_fini). The fuzz target tests/fuzz/fuzz_llm_reply.c calls it. */
void tt_llm_reply_parse(const tt_llm_conf_t *conf, const tt_llm_request_t *req, long status,
                        const tt_buf_t *body, const char *url, tt_llm_reply_t *out);
void tt_llm_reply_fini(tt_llm_reply_t *reply);
/* Backoff before attempt n+1 after n failures (n >= 1), with jitter in [0, 1). */
int64_t tt_llm_backoff_ms(const tt_llm_conf_t *conf, uint32_t failures, double jitter);

/* ---------------------------------------------------------- tt_llm_worker.c */

/* The worker thread's body (pthread signature). */
void *tt_llm_worker_main(void *args);

#endif
