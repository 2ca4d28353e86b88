/*  fakellm -- an OpenAI-compatible LLM server for tests and benchmarks.
 *
 *  Speaks the OpenAI wire format on 127.0.0.1 only (libmicrohttpd: a worker
 *  thread a core; a request waiting out its latency or a stall holds none, so
 *  a slow answer never holds up another):
 *    POST  .../chat/completions  answered by the offline model (tt_offline_chat)
 *          with the request's schema name (json_schema, or the json_object
 *          system line tt_llm sends) and seed; usage from the token estimates;
 *          any path prefix works, so Azure deployment URLs are served too
 *    POST  .../embeddings        tt_offline_embed vectors, floats or base64
 *    GET   .../models            one model
 *    GET   /stats                counters as JSON; POST /stats/reset zeroes them
 *  Every answer waits latency_ms. With probability fault_rate a request is
 *  faulty; the kind is drawn with weights 429 (with Retry-After) 10, 500/503 5,
 *  connection reset 5, stall 3, truncated JSON body 5, schema-invalid JSON
 *  content 2. The draw is a hash of (seed, SHA-256 of the body, how many times
 *  this exact body was seen before), so a retry gets a fresh draw and a run is
 *  reproducible whatever the timing. Re-ask turns (TT_LLM_REASK_PREFIX) are
 *  stripped before the offline model answers: like a good model, fakellm
 *  answers a re-ask with what it should have said the first time, so runs with
 *  and without faults record the same content.
 *
 *  Tests can also script the next answers (fakellm_script) to force one exact
 *  status, fault or content. The functions here are safe to call from the test
 *  thread while the server runs, except fakellm_script and fakellm_reset,
 *  which expect no request in flight.
 */
#ifndef FAKELLM_H
#define FAKELLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tt_config.h"

typedef struct fakellm fakellm_t;

typedef enum {
    FAKELLM_FAULT_NONE = 0,
    FAKELLM_FAULT_RATE_LIMIT,   /* 429 with retry-after-ms and Retry-After */
    FAKELLM_FAULT_SERVER_ERROR, /* 500 (JSON body) or 503 (HTML body) */
    FAKELLM_FAULT_RESET,        /* the connection is reset, no answer at all */
    FAKELLM_FAULT_STALL,        /* stall_ms of silence, before or halfway through the answer */
    FAKELLM_FAULT_TRUNCATED,    /* 200 whose JSON body is cut in half */
    FAKELLM_FAULT_BAD_SCHEMA,   /* 200 with JSON content that breaks the schema */
    FAKELLM_FAULT_KINDS
} fakellm_fault_t;

typedef struct {
    uint16_t port;       /* 0: any free port (see fakellm_port) */
    uint32_t latency_ms; /* added to every answer */
    double fault_rate;   /* 0..1 */
    uint64_t seed;
    uint32_t stall_ms;        /* length of a stall; 0 means 60000 */
    uint32_t retry_after_ms;  /* hint sent with 429 faults; 0 means 1000 */
    const char *api_key;      /* when set, 401 unless the request carries it */
    unsigned max_connections; /* 0 means 4096 */
    const char *model;        /* when set, the only chat model known; others get 404 */
    uint64_t fail_after;      /* when > 0, model requests after this many get 503 */
    bool poor_first_turn;     /* agent turns without quality feedback get poor actions */
    unsigned capacity;        /* when > 0, requests beyond this many in flight get 429 */
    size_t pad_answers;       /* when > 0, chat answers padded with spaces to this size */
    bool keep_last_request;   /* for fakellm_take_last_request; off, no request is copied */
} fakellm_opts_t;

typedef enum {
    FAKELLM_SCRIPT_FAULT,   /* the fault .fault */
    FAKELLM_SCRIPT_STATUS,  /* HTTP .status with an OpenAI error body, error.code .code */
    FAKELLM_SCRIPT_FENCED,  /* the right content inside a ```json fence */
    FAKELLM_SCRIPT_PROSE,   /* the right content with prose before and after */
    FAKELLM_SCRIPT_HUGE,    /* 200 with a body of .size_kb KB */
    FAKELLM_SCRIPT_CONTENT, /* 200 with .content as the message content */
} fakellm_script_kind_t;

/* One forced answer. Zero fields mean "the default". */
typedef struct {
    fakellm_script_kind_t kind;
    fakellm_fault_t fault;
    int status;
    const char *code;         /* error.code for STATUS, e.g. "insufficient_quota" */
    unsigned retry_after_ms;  /* send retry-after-ms (429/503 and STATUS) */
    unsigned retry_after_s;   /* send Retry-After in seconds */
    const char *should_retry; /* send x-should-retry: "true" or "false" */
    unsigned size_kb;
    const char *content;
    /* 0: drawn. SERVER_ERROR: 1 500 with JSON, 2 503 with HTML. TRUNCATED: 1 half
     * the body with a matching length, 2 the full length announced, half sent,
     * closed. STALL: 1 silence before the answer, 2 half the answer, silence,
     * then the connection closes. */
    unsigned variant;
} fakellm_script_t;

typedef struct {
    uint64_t requests; /* API requests (chat, embeddings, models) */
    uint64_t chat;
    uint64_t embeddings; /* embedding requests */
    uint64_t vectors;    /* embedding vectors sent */
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    uint64_t scripted;                    /* answers taken from the script */
    uint64_t faults[FAKELLM_FAULT_KINDS]; /* by kind; [0] unused */
    uint32_t in_flight;
    uint32_t max_in_flight;
} fakellm_stats_t;

/* Start serving. NULL (with a line on stderr) if the port cannot be bound. */
fakellm_t *fakellm_start(const fakellm_opts_t *opts);
/* Stop: stalls and latencies in progress are cut short. Nulls *self_p. */
void fakellm_stop(fakellm_t **self_p);
/* The port actually bound. */
uint16_t fakellm_port(const fakellm_t *self);
/* "http://127.0.0.1:PORT/v1" (caller frees). */
char *fakellm_base_url(const fakellm_t *self);

void fakellm_stats(const fakellm_t *self, fakellm_stats_t *out);
/* The /stats document (caller frees). */
char *fakellm_stats_json(const fakellm_t *self);
/* Zero the counters and forget which bodies were seen. */
void fakellm_reset(fakellm_t *self);

/* The next n requests get these answers, in order (copied; replaces any script). */
void fakellm_script(fakellm_t *self, const fakellm_script_t *entries, size_t n);
/* The last API request as JSON {"method","path","api_version","auth","body"}
 * (auth: "bearer", "api-key" or "none"; the key itself is never kept), or NULL
 * (always, unless the server was started with keep_last_request).
 * Takes it: a second call returns NULL until another request arrives. */
char *fakellm_take_last_request(fakellm_t *self);

/* Point cfg at this server for tests: provider "openai" (the compat row, as for
 * llama.cpp or vLLM), its base URL and key, small timeouts and backoff (timeout
 * 2 s, 4 attempts, 10 ms base wait, factor 2), 8 concurrent calls, 2 re-asks,
 * 1 MB response cap, no cache. Tests then change what they need. */
void fakellm_config_client(const fakellm_t *self, tt_config_t *cfg);

/* The fault drawn for the seen-th sighting (0 = first) of a body. Pure. */
fakellm_fault_t fakellm_draw(uint64_t seed, double rate, const uint8_t digest[32], uint64_t seen);
const char *fakellm_fault_name(fakellm_fault_t fault);

#endif
