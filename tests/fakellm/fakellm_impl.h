/*  fakellm_impl -- what the fakellm_*.c files share (private).
 *
 *  The server state is read and written by libmicrohttpd's worker threads at
 *  once, so every mutable field is a C11 atomic: counters, the in-flight gauge,
 *  the table of bodies seen (lock-free open addressing), the script cursor and
 *  the last-request slot (an atomically swapped pointer). The one lock is the
 *  timer's, around its heap of suspended connections.
 */
#ifndef FAKELLM_IMPL_H
#define FAKELLM_IMPL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "fakellm.h"

#define FAKELLM_SEEN_SLOTS   (1u << 16) /* distinct bodies remembered */
#define FAKELLM_SEEN_PROBES  64
#define FAKELLM_BODY_CAP     ((size_t)16 << 20)
#define FAKELLM_STACK_BYTES  ((size_t)512 << 10)
#define FAKELLM_MAX_WORKERS  16 /* libmicrohttpd threads: one a core, at most this */
#define FAKELLM_BACKLOG      4096
#define FAKELLM_IDLE_TIMEOUT 120 /* s before an idle keep-alive connection is closed */
/* libmicrohttpd's memory a connection (request line, headers, the read buffer
 * a body passes through, the answer's headers; bodies are kept outside it).
 * Against its default of 32 KB, zeroed again for each request, 8 KB halves
 * fakellm's page faults a request at 10,000 connections (6.3 -> 2.8) and takes
 * 0.03-0.08 ms off its CPU a request (~0.24 ms). */
#define FAKELLM_CONNECTION_MEMORY ((size_t)8 << 10)

typedef struct fakellm_timer fakellm_timer_t;

typedef struct {
    _Atomic uint64_t key;
    _Atomic uint64_t count;
} fakellm_seen_t;

struct fakellm {
    struct MHD_Daemon *daemon;
    fakellm_opts_t opts;
    char *api_key;
    char *model; /* opts.model, owned */
    uint16_t port;
    fakellm_timer_t *timer; /* latencies and stalls: suspended connections */

    _Atomic uint64_t requests, chat, embeddings, vectors;
    _Atomic uint64_t prompt_tokens, completion_tokens, scripted;
    _Atomic uint64_t model_requests; /* chat and embeddings that reached the model */
    _Atomic uint64_t faults[FAKELLM_FAULT_KINDS];
    atomic_uint in_flight, max_in_flight;

    fakellm_seen_t *seen;
    fakellm_script_t *script; /* replaced only while idle */
    size_t script_n;          /* entries allocated (controlling thread only) */
    atomic_size_t script_len;
    atomic_size_t script_next;
    _Atomic(char *) last;
};

/* ---------------------------------------------------------- fakellm_fault.c */

/* How many times this body was seen before (0 the first time), counting it. */
uint64_t fakellm_seen(fakellm_t *f, const uint8_t digest[32]);
void fakellm_seen_clear(fakellm_t *f);
/* The next scripted answer, or NULL when the script is used up. */
const fakellm_script_t *fakellm_script_next(fakellm_t *f);
void fakellm_script_free(fakellm_script_t *entries, size_t n);

/* ---------------------------------------------------------- fakellm_timer.c */

fakellm_timer_t *fakellm_timer_start(void);
/* Suspends conn (from its access handler or content reader) and resumes it
 * at due (CLOCK_MONOTONIC). false when due has passed or the timer is
 * stopping: conn was not suspended and is to be answered now. */
bool fakellm_timer_suspend(fakellm_timer_t *t, struct MHD_Connection *conn,
                           const struct timespec *due);
/* Resumes every connection still waiting and ends the timer's thread; later
 * suspends are refused. */
void fakellm_timer_stop(fakellm_timer_t *t);
/* Once libmicrohttpd has stopped. */
void fakellm_timer_free(fakellm_timer_t **self_p);

/* --------------------------------------------------------- fakellm_answer.c */

typedef struct {
    const char *model; /* borrowed from the request */
    char *content;     /* what the offline model says (caller frees) */
    bool structured;   /* the request asked for JSON */
    uint32_t prompt_tokens;
    uint32_t completion_tokens;
} fakellm_chat_t;

/* The offline model's answer to a chat request body. false: *why (static text).
 * poor_first_turn: an agent turn not yet told it failed the quality checks is
 * answered with stuttering actions (a poor action planted for those checks). */
bool fakellm_chat_answer(const json_t *req, bool poor_first_turn, fakellm_chat_t *out,
                         const char **why);
/* A chat.completion response body. Caller frees. */
char *fakellm_chat_body(const char *model, const char *content, uint32_t prompt_tokens,
                        uint32_t completion_tokens, const uint8_t digest[32]);
/* An embeddings response body; drop_last leaves the last vector out (a
 * schema-invalid answer). NULL with *why for a bad request. Caller frees. */
char *fakellm_embed_body(const json_t *req, bool drop_last, uint32_t *n_vectors, uint32_t *tokens,
                         const char **why);
/* {"error":{message,type,code}}. Caller frees. */
char *fakellm_error_body(const char *message, const char *type, const char *code);

/* ----------------------------------------------------------- fakellm_json.c */

/* A request body read as json_loadb(text, len, 0, NULL) would read it, or NULL
 * where it would refuse it. */
json_t *fakellm_json_parse(const char *text, size_t len);

#endif
