/*  tt_llm -- the brain interface: chat completions and embeddings.
 *
 *  One tt_llm_t per process. It owns a worker thread that runs every model call:
 *  the in-process offline model, or HTTP through libcurl multi (OpenAI, Azure,
 *  Ollama, llama.cpp, vLLM), with retries, backoff, a concurrency cap, the API
 *  cache, response repair and validation. The calling thread never blocks:
 *
 *      tt_llm_request_t *req = tt_llm_request_chat("turn", messages, "agent_turn", schema);
 *      tt_llm_request_set_validator(req, my_validate, my_arg);
 *      tt_llm_submit(llm, &req, tag);          // takes ownership, nulls req
 *      ... zloop_reader(loop, tt_llm_pipe(llm), on_result, ...) ...
 *      tt_llm_result_t *r = tt_llm_recv(llm, &tag);   // caller owns r
 *
 *  or, where blocking is fine (factory, extraction, tests), tt_llm_call().
 *
 *  A logical call is one request in, one accepted answer out. Everything in
 *  between -- transport retries, repairing fenced or chatty JSON, re-asking the
 *  model with the validation error explained -- happens inside the call and is
 *  visible only in the result's accounting (attempts, latency, tokens). So two
 *  runs that differ only in how flaky the network was produce the same content.
 *
 *  Secrets: the API key lives in the config given to tt_llm_new and in the HTTP
 *  headers the worker builds; it never appears in a result, an error text, a
 *  log line, the cache or the digest.
 */
#ifndef TT_LLM_H
#define TT_LLM_H

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tt_config.h"
#include "tt_err.h"
#include "tt_hash.h"

typedef struct tt_llm tt_llm_t;
typedef struct tt_llm_request tt_llm_request_t;

/* Wire conventions that stand-in models (the offline model, fakellm) may rely on.
 * A re-ask is an assistant message (the unusable answer) followed by a user
 * message that starts with TT_LLM_REASK_PREFIX and says what was wrong. When a
 * provider takes only response_format json_object, the schema travels in a
 * system message: TT_LLM_JSON_MODE_PREFIX "\"NAME\": {schema}". */
#define TT_LLM_REASK_PREFIX "Your previous answer could not be used"
#define TT_LLM_JSON_MODE_PREFIX                                                                    \
    "Answer with one JSON value and nothing else, conforming to the JSON schema "

typedef enum {
    TT_LLM_CHAT = 1,
    TT_LLM_EMBED = 2,
} tt_llm_kind_t;

/* Checks (and may normalise) the model's content. Called on the worker thread,
 * so it must only read its arg. On success set *parsed (ownership passes to the
 * result) and return TT_OK; otherwise return TT_ELLM and set *why (malloc'd) to
 * a short explanation that is shown to the model on the next attempt.
 * For a structured request (schema name or schema given) content is the answer
 * already repaired (tt_repair_json) and checked against the schema, as compact
 * JSON; leaving *parsed NULL keeps that parsed value. For a plain-text request
 * it is the raw answer. tt_llm_result_replay calls it on the caller's thread. */
typedef tt_err_t(tt_llm_validate_fn)(const char *content, const void *arg, json_t **parsed,
                                     char **why);

/* The same check for a structured request, on the parsed value: no text round
 * trip. value is the repaired, schema-checked answer (borrowed). Set *normal
 * (ownership passes) to replace it, or leave it NULL to keep value. Same thread
 * rules as tt_llm_validate_fn. */
typedef tt_err_t(tt_llm_check_fn)(const json_t *value, const void *arg, json_t **normal,
                                  char **why);

/* What a finished call gives back. Caller owns; free with tt_llm_result_destroy. */
typedef struct {
    tt_err_t err;     /* TT_OK or why the call failed for good */
    char *error_text; /* human text when err != TT_OK (no secrets) */
    char *content;    /* chat: accepted assistant content, as sent by the
                         model before parsing; embed: base64 float32 LE */
    json_t *parsed;   /* chat with validator or schema: the parsed value */
    float *vectors;   /* embed: n_vectors x dim floats */
    uint32_t n_vectors;
    uint32_t dim;
    uint8_t digest[TT_SHA256_LEN]; /* of the logical request */
    char *purpose;
    uint32_t attempts;          /* model requests made: every HTTP attempt, re-asks
                                   included (offline: asks); 0 when cached/replayed */
    uint32_t latency_ms;        /* submit to completion */
    uint32_t prompt_tokens;     /* summed over attempts; when cached, what the */
    uint32_t completion_tokens; /* answer cost when it was made (not spent again) */
    uint32_t rate_limited;      /* answers to its attempts that were rate limited
                                   (HTTP 429, or no requests left) */
    bool cached;                /* served from the API cache */
    bool replayed;              /* served from recorded content (tt_llm_result_replay) */
} tt_llm_result_t;

typedef struct {
    uint64_t calls;         /* logical calls completed */
    uint64_t http_attempts; /* requests put on the wire */
    uint64_t retries;
    uint64_t failures;
    uint64_t cache_hits;
    uint64_t cache_misses;
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    uint32_t max_in_flight;
    uint64_t rate_limited; /* answers that were HTTP 429 or said no requests remain */
    uint32_t limit;        /* the adaptive in-flight limit now (<= max_concurrent_calls) */
    uint64_t wakeups;      /* times the model thread woke: a socket, a due timer, a call */
} tt_llm_stats_t;

/* ------------------------------------------------------------------ requests */

/* A chat request. messages is [{"role","content"}...] (a reference is taken).
 * schema_name/schema ask for structured output (may be NULL: plain text).
 * The call reads them on another thread: messages may be appended to after
 * tt_llm_submit, but the messages in it, the schema and embedding texts must
 * not change. */
tt_llm_request_t *tt_llm_request_chat(const char *purpose, json_t *messages,
                                      const char *schema_name, json_t *schema);
/* An embedding request for one or more texts (a reference to the array is taken). */
tt_llm_request_t *tt_llm_request_embed(const char *purpose, json_t *texts);
void tt_llm_request_set_validator(tt_llm_request_t *req, tt_llm_validate_fn *fn, const void *arg);
/* For structured requests (a schema name or schema): check the parsed answer. */
void tt_llm_request_set_checker(tt_llm_request_t *req, tt_llm_check_fn *fn, const void *arg);
void tt_llm_request_set_temperature(tt_llm_request_t *req, double temperature);
void tt_llm_request_set_seed(tt_llm_request_t *req, uint64_t seed);
void tt_llm_request_destroy(tt_llm_request_t **self_p);

/* SHA-256 of the logical request under this client's model (tt_json_digest of
 * kind, model, messages, schema name and schema, temperature, seed and
 * inputs). Never depends on the provider's wire quirks, headers or the key. */
void tt_llm_request_digest(const tt_llm_t *llm, const tt_llm_request_t *req,
                           uint8_t out[TT_SHA256_LEN]);
/* That logical request as canonical JSON text (caller frees). For tests. */
char *tt_llm_request_canonical(const tt_llm_t *llm, const tt_llm_request_t *req);

/* ------------------------------------------------------------------ client */

/* Start a client for cfg->provider ("offline", "openai", "ollama", "azure").
 * cfg is copied, secrets included. Starts the worker thread. */
tt_err_t tt_llm_new(const tt_config_t *cfg, tt_llm_t **out);

/* What tt_llm_new does once per process (libcurl's and its TLS library's
 * setup, libsodium's): a fork server does it before forking, for all. */
void tt_llm_global_init(void);
/* Stops the worker, abandoning calls in flight (their results are dropped). */
void tt_llm_destroy(tt_llm_t **self_p);

/* Queue a call. Takes ownership of *req and nulls it; its JSON is deep-copied
 * here, so the caller may change its own messages afterwards. tag comes back
 * with the result. Returns at once. */
void tt_llm_submit(tt_llm_t *llm, tt_llm_request_t **req, void *tag);
/* The socket that becomes readable when a result is ready (for zloop/zpoller). */
zsock_t *tt_llm_pipe(tt_llm_t *llm);
/* Take one ready result (blocks if none is ready). Caller owns it. NULL if
 * the wait was interrupted by a signal. */
tt_llm_result_t *tt_llm_recv(tt_llm_t *llm, void **tag);
/* Submit and wait for that call. Other results that arrive meanwhile are kept
 * for tt_llm_recv (they stay readable on tt_llm_pipe). Caller owns *out.
 * Returns (*out)->err; TT_EINTR if a signal interrupted the wait. */
tt_err_t tt_llm_call(tt_llm_t *llm, tt_llm_request_t **req, tt_llm_result_t **out);

/* Build a result from recorded content (replay, rebuild): no model call. Runs
 * the request's validator on content; embeddings decode the base64 vectors.
 * Consumes *req. */
tt_llm_result_t *tt_llm_result_replay(const tt_llm_t *llm, tt_llm_request_t **req,
                                      const char *content);
void tt_llm_result_destroy(tt_llm_result_t **self_p);

/* Counters as of the newest result received (copied; call from the owning
 * thread). Tokens count only what was spent: cache hits add none. */
void tt_llm_stats(const tt_llm_t *llm, tt_llm_stats_t *out);
/* The model name requests are made for ("troupe-offline" for the offline model). */
const char *tt_llm_model(const tt_llm_t *llm);
bool tt_llm_is_offline(const tt_llm_t *llm);

#endif
