/*  tt_llm_worker -- the thread that makes every model call of a process.
 *
 *  One loop around epoll_wait() over the sockets curl asks it to watch (the
 *  multi-socket interface: curl_multi_socket_action runs only the transfers
 *  whose socket is ready or whose timer is due, so a wake-up costs the same
 *  with 10 or 1,000 transfers in flight) and the pipe's ZMQ_FD. Each turn it
 *    1. takes new calls from the pipe (the caller's send makes ZMQ_FD readable),
 *    2. moves calls whose retry time has come back to the queue,
 *    3. starts queued calls while fewer than `limit` transfers are in flight:
 *       the limit starts at max_concurrent_calls (no limit by default) and
 *       adapts to the server: a rate-limited reply (HTTP 429 or no requests
 *       remaining) halves it, each accepted answer raises it by one again,
 *       never above max_concurrent_calls (the rest wait their turn),
 *    4. drives curl and judges every finished transfer (tt_llm_reply): an
 *       answer is accepted or re-asked, a transient failure gets a retry timer,
 *       a final one ends the call,
 *    5. cuts transfers whose body stopped arriving (curl calls the stall
 *       watch's progress callback only when a transfer's socket or timer
 *       fires, so a silent one is found here, when its window ends),
 *    6. sleeps in epoll_wait until a socket, a timer or a new call.
 *  A call is an explicit state machine:
 *
 *      begin --(cache hit | local model)--------------------------> done
 *        |
 *        v         start            answer OK
 *      QUEUED ---------------> RUNNING ---------------------------> done
 *        ^  ^                   |   |  unusable answer: re-ask (<= action_max_attempts)
 *        |  +-------------------+   |  -> QUEUED with a longer conversation
 *        |                          |  transient failure (< max_attempts per ask)
 *        +------- WAITING <---------+  final failure -> done (with err)
 *
 *  Embedding calls queued together go out as one request (a batch: a call of
 *  its own that carries them, up to TT_LLM_EMBED_BATCH_TEXTS texts), and each
 *  gets its own vectors back; a batch the server refuses outright is sent
 *  again a call at a time, so that one bad text fails only its own call.
 *  Easy handles are kept and reused, and the multi handle keeps the connection
 *  cache, so calls ride warm keep-alive connections. Everything here is owned
 *  by this thread; results leave by pointer over the pipe.
 */
#define TT_LOG_MODULE "llm"
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "tt_llm_cache.h"
#include "tt_llm_impl.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_rng.h"
#include "tt_time.h"

typedef enum {
    S_CALL_QUEUED,
    S_CALL_RUNNING,
    S_CALL_WAITING,
} s_state_t;

typedef struct s_call s_call_t;
struct s_call {
    tt_llm_msg_t *msg; /* owns the request and the result being built */
    s_state_t state;
    json_t *conversation; /* chat: messages of the current ask */
    char *url;
    char *url_public;
    char *body; /* wire body of the current ask */
    uint32_t reasks;
    uint32_t ask_failures; /* failed HTTP attempts of the current ask */
    int64_t retry_at_ms;
    uint64_t started_seq; /* http_attempts when its transfer started */
    CURL *easy;
    tt_buf_t response;
    tt_llm_watch_t watch; /* stall watch of the running transfer */
    s_call_t **members;   /* a batch: the embedding calls it carries (owned) */
    uint32_t n_members;
};

typedef struct {
    const tt_llm_conf_t *conf;
    zsock_t *pipe;
    zsock_t *sync;
    CURLM *multi;
    tt_llm_cache_t *cache;
    struct curl_slist *headers; /* one list for every transfer (same key) */
    zlist_t *queued;            /* s_call_t *, first in first out */
    zlist_t *waiting;           /* s_call_t *, with a retry time */
    zlist_t *running;           /* s_call_t * */
    zlist_t *idle;              /* CURL * kept for reuse */
    uint32_t in_flight;
    uint32_t limit;        /* adaptive in-flight limit, 1..max_concurrent_calls */
    uint64_t last_cut_seq; /* http_attempts when the limit was last lowered */
    tt_rng_t rng;          /* backoff jitter only */
    tt_llm_stats_t stats;
    int epoll;              /* curl's sockets and the pipe (tt_llm's) */
    int pipe_fd;            /* the pipe's ZMQ_FD */
    int64_t curl_due_ms;    /* when curl's timer fires; -1: none */
    int64_t stall_check_ms; /* when running transfers are next checked; INT64_MAX: not */
    bool terminated;
} s_worker_t;

static void
s_call_destroy(s_call_t **self_p)
{
    s_call_t *c = *self_p;
    if (!c)
        return;
    for (uint32_t i = 0; i < c->n_members; i++)
        s_call_destroy(&c->members[i]);
    free(c->members);
    json_decref(c->conversation);
    free(c->url);
    free(c->url_public);
    free(c->body);
    tt_buf_fini(&c->response);
    tt_llm_msg_destroy(&c->msg);
    free(c);
    *self_p = NULL;
}

/* ------------------------------------------------------------ finishing */

static void s_batch_finish(s_worker_t *w, s_call_t *b);

/* Send the result back, keep the counters, store a fresh answer in the cache.
 * A batch hands its calls their parts instead. */
static void
s_finish(s_worker_t *w, s_call_t *c)
{
    if (c->members) {
        s_batch_finish(w, c);
        return;
    }
    tt_llm_msg_t *msg = c->msg;
    tt_llm_result_t *r = msg->result;
    r->latency_ms = (uint32_t)(tt_now_ms() - msg->submitted_ms);
    w->stats.calls++;
    if (r->err) {
        w->stats.failures++;
        TT_LOG_WARN("%s: %s", r->purpose, r->error_text ? r->error_text : tt_strerror(r->err));
    } else if (!r->cached) {
        w->stats.prompt_tokens += r->prompt_tokens;
        w->stats.completion_tokens += r->completion_tokens;
        if (w->cache && c->url && r->content)
            tt_llm_cache_put(w->cache, r->digest, r->content, r->prompt_tokens,
                             r->completion_tokens);
    }
    msg->stats = w->stats;
    c->msg = NULL;
    if (zsock_send(msg->sync_id ? w->sync : w->pipe, "sp", "DONE", msg) != 0)
        tt_llm_msg_destroy(&msg); /* the caller is gone */
    s_call_destroy(&c);
}

static void
s_prepare_ask(s_worker_t *w, s_call_t *c)
{
    free(c->body);
    c->body = NULL; /* made as the ask starts: an embedding call may go in a batch */
    c->ask_failures = 0;
    c->state = S_CALL_QUEUED;
    zlist_append(w->queued, c);
}

/* A chat answer arrived: accept it, re-ask, or give up. Takes content. */
static void
s_on_content(s_worker_t *w, s_call_t *c, char *content)
{
    tt_llm_result_t *r = c->msg->result;
    json_t *parsed = NULL;
    char *why = NULL;
    if (tt_llm_accept_chat(c->msg->req, content, &parsed, &why) == TT_OK) {
        r->content = content;
        r->parsed = parsed;
        s_finish(w, c);
        return;
    }
    if (c->reasks >= (uint32_t)w->conf->action_max_attempts) {
        tt_llm_result_fail(r, TT_ELLM, "the model's answer was unusable after %u re-ask(s): %s",
                           c->reasks, why);
        free(why);
        free(content);
        s_finish(w, c);
        return;
    }
    TT_LOG_DEBUG("%s: re-asking: %s", r->purpose, why);
    c->reasks++;
    w->stats.retries++;
    tt_llm_reask_append(c->conversation, content, why);
    free(why);
    free(content);
    s_prepare_ask(w, c);
}

/* ------------------------------------------------------------ batches */

/* An embedding call not sent yet: one that was (alone, or in a batch the
 * server refused) goes on alone. */
static bool
s_batchable(const s_call_t *c)
{
    return c->msg->req->kind == TT_LLM_EMBED && !c->members && c->msg->result->attempts == 0;
}

static size_t
s_text_bytes(const json_t *texts)
{
    size_t bytes = 0, i;
    json_t *t;
    json_array_foreach(texts, i, t) bytes += json_string_length(t);
    return bytes;
}

/* c and the embedding calls queued behind it that fit with it, as one batch;
 * c itself if none does. */
static s_call_t *
s_batch_up(s_worker_t *w, s_call_t *c)
{
    if (!s_batchable(c))
        return c;
    size_t texts = json_array_size(c->msg->req->texts), bytes = s_text_bytes(c->msg->req->texts);
    s_call_t *found[TT_LLM_EMBED_BATCH_TEXTS];
    uint32_t n = 0, looked = 0;
    for (s_call_t *q = zlist_first(w->queued);
         q && texts < TT_LLM_EMBED_BATCH_TEXTS && looked++ < TT_LLM_EMBED_BATCH_SCAN;
         q = zlist_next(w->queued)) {
        if (!s_batchable(q))
            continue;
        size_t q_texts = json_array_size(q->msg->req->texts);
        size_t q_bytes = s_text_bytes(q->msg->req->texts);
        if (texts + q_texts > TT_LLM_EMBED_BATCH_TEXTS ||
            bytes + q_bytes > TT_LLM_EMBED_BATCH_BYTES)
            continue;
        found[n++] = q;
        texts += q_texts;
        bytes += q_bytes;
    }
    if (!n)
        return c;
    s_call_t *b = tt_new(s_call_t);
    b->n_members = n + 1;
    b->members = tt_malloc(b->n_members * sizeof *b->members);
    b->members[0] = c;
    json_t *all = json_array();
    json_array_extend(all, c->msg->req->texts);
    for (uint32_t i = 0; i < n; i++) {
        zlist_remove(w->queued, found[i]);
        b->members[1 + i] = found[i];
        json_array_extend(all, found[i]->msg->req->texts);
    }
    b->msg = tt_new(tt_llm_msg_t);
    b->msg->req = tt_llm_request_embed("embeddings", all);
    json_decref(all);
    b->msg->result = tt_new(tt_llm_result_t);
    char purpose[64];
    snprintf(purpose, sizeof purpose, "a batch of %u embedding calls", b->n_members);
    b->msg->result->purpose = tt_strdup(purpose);
    b->url = tt_strdup(c->url);
    b->url_public = tt_strdup(c->url_public);
    b->state = S_CALL_QUEUED;
    return b;
}

/* A batch's calls take its accounting; the answer's prompt tokens are shared
 * out by the length of each call's texts, so that they sum to the whole. */
static void
s_batch_account(const s_call_t *b, uint64_t weight_before, uint64_t weight, uint64_t weight_all,
                tt_llm_result_t *r)
{
    const tt_llm_result_t *br = b->msg->result;
    uint64_t total = br->prompt_tokens;
    r->attempts = br->attempts;
    r->rate_limited = br->rate_limited;
    r->prompt_tokens = (uint32_t)(total * (weight_before + weight) / weight_all -
                                  total * weight_before / weight_all);
}

static void
s_batch_finish(s_worker_t *w, s_call_t *b)
{
    const tt_llm_result_t *br = b->msg->result;
    uint64_t weight_all = s_text_bytes(b->msg->req->texts) + json_array_size(b->msg->req->texts);
    uint64_t weight_before = 0;
    size_t first = 0;
    for (uint32_t i = 0; i < b->n_members; i++) {
        s_call_t *m = b->members[i];
        b->members[i] = NULL;
        tt_llm_result_t *r = m->msg->result;
        size_t n = json_array_size(m->msg->req->texts);
        uint64_t weight = s_text_bytes(m->msg->req->texts) + n;
        s_batch_account(b, weight_before, weight, weight_all, r);
        weight_before += weight;
        if (br->err) {
            tt_llm_result_fail(r, br->err, "%s", br->error_text ? br->error_text : "");
        } else {
            size_t floats = n * br->dim;
            r->vectors = tt_malloc(floats * sizeof(float));
            memcpy(r->vectors, br->vectors + first * br->dim, floats * sizeof(float));
            r->n_vectors = (uint32_t)n;
            r->dim = br->dim;
            r->content = tt_llm_vectors_encode(r->vectors, floats);
        }
        first += n;
        s_finish(w, m);
    }
    s_call_destroy(&b);
}

/* The server refused a batch outright (one text too long, say): its calls go
 * again one at a time, so that each gets its own answer. */
static void
s_batch_split(s_worker_t *w, s_call_t *b)
{
    for (uint32_t i = 0; i < b->n_members; i++) {
        s_call_t *m = b->members[i];
        b->members[i] = NULL;
        m->msg->result->attempts = b->msg->result->attempts; /* >= 1: never batched again */
        m->msg->result->rate_limited = b->msg->result->rate_limited;
        s_prepare_ask(w, m);
    }
    s_call_destroy(&b);
}

/* ------------------------------------------------------------ transfers */

static void
s_transfer_start(s_worker_t *w, s_call_t *c)
{
    CURL *easy = zlist_pop(w->idle);
    if (easy)
        curl_easy_reset(easy); /* the connection cache lives in the multi handle */
    else
        easy = curl_easy_init();
    TT_ASSERT(easy);
    const tt_llm_request_t *req = c->msg->req;
    if (!c->body)
        c->body = req->kind == TT_LLM_CHAT ? tt_llm_http_chat_body(w->conf, req, c->conversation)
                                           : tt_llm_http_embed_body(w->conf, req);
    tt_buf_init(&c->response, w->conf->response_cap);
    tt_llm_http_setup(easy, w->conf, c->url, w->headers, c->body, &c->response, &c->watch, c);
    c->easy = easy;
    c->state = S_CALL_RUNNING;
    curl_multi_add_handle(w->multi, easy);
    zlist_append(w->running, c);
    c->msg->result->attempts++;
    c->started_seq = ++w->stats.http_attempts;
    if (++w->in_flight > w->stats.max_in_flight)
        w->stats.max_in_flight = w->in_flight;
}

static void
s_start_queued(s_worker_t *w)
{
    while (w->in_flight < w->limit && zlist_size(w->queued))
        s_transfer_start(w, s_batch_up(w, zlist_pop(w->queued)));
}

/* The wait before a retry: our own growing backoff, and never sooner than the
 * server's hint. A hint is stretched by up to a quarter, so that the calls one
 * refusal turned away do not all come back in the same millisecond; it is the
 * least wait, not the whole patience: under lasting contention a call asked to
 * wait 1 s each time would give up after a few seconds. */
static int64_t
s_retry_delay_ms(s_worker_t *w, const s_call_t *c, const tt_llm_reply_t *rep)
{
    int64_t own = tt_llm_backoff_ms(w->conf, c->ask_failures, tt_rng_unit(&w->rng));
    if (rep->hint_ms <= 0)
        return own;
    int64_t asked = rep->hint_ms + (int64_t)(0.25 * (double)rep->hint_ms * tt_rng_unit(&w->rng));
    return asked > own ? asked : own;
}

static void
s_schedule_retry(s_worker_t *w, s_call_t *c, const tt_llm_reply_t *rep)
{
    int64_t delay = s_retry_delay_ms(w, c, rep);
    TT_LOG_DEBUG("%s: attempt %u failed (%s); retrying in %lld ms", c->msg->result->purpose,
                 c->ask_failures, rep->text, (long long)delay);
    w->stats.retries++;
    c->retry_at_ms = tt_now_ms() + delay;
    c->state = S_CALL_WAITING;
    zlist_append(w->waiting, c);
}

/* Additive increase, multiplicative decrease of the in-flight limit: the
 * server's 429s and rate-limit headers set the pace, not a fixed number. */
static void
s_adapt(s_worker_t *w, const s_call_t *c, const tt_llm_reply_t *rep)
{
    uint32_t most = (uint32_t)w->conf->max_concurrent_calls;
    if (rep->rate_limited) {
        w->stats.rate_limited++;
        /* one cut per window: refusals of calls started before the last cut
         * say nothing about the lowered limit */
        uint32_t half = (w->in_flight + 2) / 2; /* in flight when it was refused, halved */
        if (c->started_seq > w->last_cut_seq && half < w->limit) {
            w->limit = half;
            w->last_cut_seq = w->stats.http_attempts;
        }
        TT_LOG_DEBUG("rate limited: at most %u calls in flight now", w->limit);
    } else if (rep->kind == TT_LLM_REPLY_OK && w->limit < most) {
        w->limit++;
    }
    w->stats.limit = w->limit;
}

static void
s_transfer_done(s_worker_t *w, s_call_t *c, CURLcode rc)
{
    tt_llm_result_t *r = c->msg->result;
    tt_llm_reply_t rep;
    tt_llm_reply_judge(w->conf, c->msg->req, c->easy, rc, c->watch.stalled, &c->response,
                       c->url_public, &rep);
    curl_multi_remove_handle(w->multi, c->easy);
    zlist_append(w->idle, c->easy);
    c->easy = NULL;
    w->in_flight--;
    zlist_remove(w->running, c);
    tt_buf_fini(&c->response);
    s_adapt(w, c, &rep);
    r->rate_limited += rep.rate_limited;
    r->prompt_tokens += rep.prompt_tokens;
    r->completion_tokens += rep.completion_tokens;

    if (rep.kind == TT_LLM_REPLY_OK && c->msg->req->kind == TT_LLM_CHAT) {
        s_on_content(w, c, rep.content);
        rep.content = NULL;
    } else if (rep.kind == TT_LLM_REPLY_OK) {
        r->vectors = rep.vectors;
        r->n_vectors = rep.n_vectors;
        r->dim = rep.dim;
        if (!c->members) /* a batch's calls encode their own parts */
            r->content = tt_llm_vectors_encode(rep.vectors, (size_t)rep.n_vectors * rep.dim);
        rep.vectors = NULL;
        s_finish(w, c);
    } else if (rep.kind == TT_LLM_REPLY_FAIL && c->members) {
        s_batch_split(w, c);
    } else if (rep.kind == TT_LLM_REPLY_RETRY &&
               ++c->ask_failures < (uint32_t)w->conf->max_attempts) {
        s_schedule_retry(w, c, &rep);
    } else {
        if (rep.kind == TT_LLM_REPLY_RETRY)
            tt_llm_result_fail(r, rep.err, "%s (gave up after %u attempts)", rep.text,
                               c->ask_failures);
        else
            tt_llm_result_fail(r, rep.err, "%s", rep.text);
        s_finish(w, c);
    }
    tt_llm_reply_fini(&rep);
}

static void
s_collect(s_worker_t *w)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(w->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        s_call_t *c = NULL;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&c);
        TT_ASSERT(c && c->easy == easy);
        s_transfer_done(w, c, rc);
    }
}

/* Calls whose retry time has come go back to the queue, in order. */
static void
s_fire_timers(s_worker_t *w)
{
    int64_t now = tt_now_ms();
    size_t n = zlist_size(w->waiting);
    for (size_t i = 0; i < n; i++) {
        s_call_t *c = zlist_pop(w->waiting);
        if (c->retry_at_ms <= now) {
            c->state = S_CALL_QUEUED;
            zlist_append(w->queued, c);
        } else {
            zlist_append(w->waiting, c);
        }
    }
}

/* WAIT (ms; -1: for ever) cut to what is left until DUE. */
static int64_t
s_sooner(int64_t wait, int64_t due, int64_t now)
{
    int64_t until = due > now ? due - now : 0;
    return wait < 0 || until < wait ? until : wait;
}

/* How long the worker may sleep for its own calls: 0 if one can start now,
 * until the first retry is due, else -1 (a socket or the pipe wakes it). */
static int64_t
s_poll_timeout(s_worker_t *w)
{
    if (zlist_size(w->queued) && w->in_flight < w->limit)
        return 0;
    int64_t now = tt_now_ms(), wait = -1;
    for (s_call_t *c = zlist_first(w->waiting); c; c = zlist_next(w->waiting))
        wait = s_sooner(wait, c->retry_at_ms, now);
    return wait;
}

/* ------------------------------------------------------------ new calls */

/* An answer from the cache, if there is one that is still acceptable. */
static bool
s_from_cache(s_worker_t *w, s_call_t *c)
{
    tt_llm_result_t *r = c->msg->result;
    const tt_llm_request_t *req = c->msg->req;
    char *content = NULL;
    uint32_t pt = 0, ct = 0;
    if (tt_llm_cache_get(w->cache, r->digest, &content, &pt, &ct) != TT_OK) {
        w->stats.cache_misses++;
        return false;
    }
    char *why = NULL;
    tt_err_t err = req->kind == TT_LLM_CHAT
                       ? tt_llm_accept_chat(req, content, &r->parsed, &why)
                       : tt_llm_vectors_decode(content, (uint32_t)json_array_size(req->texts),
                                               &r->vectors, &r->dim);
    free(why);
    if (err) { /* e.g. a stricter validator now: ask the model again */
        free(content);
        w->stats.cache_misses++;
        return false;
    }
    if (req->kind == TT_LLM_EMBED)
        r->n_vectors = (uint32_t)json_array_size(req->texts);
    r->content = content;
    r->prompt_tokens = pt;
    r->completion_tokens = ct;
    r->cached = true;
    w->stats.cache_hits++;
    return true;
}

static bool
s_texts_ok(const json_t *texts)
{
    size_t i;
    json_t *t;
    json_array_foreach(texts, i, t)
    {
        if (!json_is_string(t))
            return false;
    }
    return json_array_size(texts) > 0;
}

static void
s_begin(s_worker_t *w, tt_llm_msg_t *msg)
{
    s_call_t *c = tt_new(s_call_t);
    c->msg = msg;
    const tt_llm_request_t *req = msg->req;
    tt_llm_result_t *r = msg->result = tt_llm_result_new(w->conf, req);
    bool chat = req->kind == TT_LLM_CHAT;
    if (!chat && !s_texts_ok(req->texts)) {
        tt_llm_result_fail(r, TT_EINVAL, "an embedding request needs a non-empty array of texts");
        s_finish(w, c);
        return;
    }
    if (chat && w->conf->provider->url_shape == TT_LLM_URL_LOCAL) {
        tt_llm_local_chat(w->conf, req, r);
        s_finish(w, c);
        return;
    }
    if (!chat && w->conf->local_embeddings) {
        tt_llm_local_embed(req, r);
        s_finish(w, c);
        return;
    }
    if (w->cache && s_from_cache(w, c)) {
        s_finish(w, c);
        return;
    }
    c->url = tt_llm_http_url(w->conf, req->kind);
    c->url_public = tt_llm_http_url_public(c->url);
    if (chat)
        c->conversation = json_copy(req->messages);
    s_prepare_ask(w, c);
}

/* Take what the caller sent; "TERM" ends the loop. */
static void
s_read_pipe(s_worker_t *w)
{
    while (!w->terminated && (zsock_events(w->pipe) & ZMQ_POLLIN)) {
        char *cmd = NULL;
        void *ptr = NULL;
        if (zsock_recv(w->pipe, "sp", &cmd, &ptr) != 0) {
            w->terminated = true; /* context gone */
            break;
        }
        if (!strcmp(cmd, "CALL"))
            s_begin(w, ptr);
        else if (!strcmp(cmd, "TERM"))
            w->terminated = true;
        free(cmd);
    }
}

/* ------------------------------------------------------------ curl's events */

/* curl says which of its sockets to watch, and for what. */
static int
s_on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
    (void)easy;
    (void)socketp;
    s_worker_t *w = arg;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(w->epoll, EPOLL_CTL_DEL, fd, NULL); /* gone already if curl closed it */
        return 0;
    }
    struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
                                       (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
                             .data.fd = fd};
    if (epoll_ctl(w->epoll, EPOLL_CTL_MOD, fd, &ev) == 0 ||
        (errno == ENOENT && epoll_ctl(w->epoll, EPOLL_CTL_ADD, fd, &ev) == 0))
        return 0;
    TT_LOG_ERROR("cannot watch a connection's socket: %s", strerror(errno));
    return -1;
}

/* curl says when it next wants to run its timers (0: at once, -1: never). */
static int
s_on_timer(CURLM *multi, long timeout_ms, void *arg)
{
    (void)multi;
    s_worker_t *w = arg;
    w->curl_due_ms = timeout_ms < 0 ? -1 : tt_now_ms() + timeout_ms;
    return 0;
}

static void
s_run_curl_timer(s_worker_t *w)
{
    if (w->curl_due_ms < 0 || w->curl_due_ms > tt_now_ms())
        return;
    w->curl_due_ms = -1;
    int running;
    curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

/* Transfers whose body stopped arriving are cut as their progress callback
 * would have cut them. The next check is due when the earliest body still
 * arriving would stall; with none arriving, none is (a transfer waiting for
 * its model costs no wake-up), until a socket's activity asks for one within
 * TT_LLM_STALL_CHECK_MS (s_wait: a body may have started). */
static void
s_cut_stalled(s_worker_t *w)
{
    int64_t now = tt_now_ms();
    if (now < w->stall_check_ms)
        return;
    int64_t next = INT64_MAX;
    zlist_t *cut = NULL;
    for (s_call_t *c = zlist_first(w->running); c; c = zlist_next(w->running)) {
        const tt_llm_watch_t *watch = &c->watch;
        if (!tt_llm_watch_expired(watch, now)) {
            if (watch->last_bytes > 0 && watch->last_ms + watch->window_ms + 1 < next)
                next = watch->last_ms + watch->window_ms + 1;
            continue;
        }
        c->watch.stalled = true;
        if (!cut)
            cut = zlist_new();
        zlist_append(cut, c);
    }
    w->stall_check_ms = next;
    for (s_call_t *c = cut ? zlist_pop(cut) : NULL; c; c = zlist_pop(cut))
        s_transfer_done(w, c, CURLE_ABORTED_BY_CALLBACK);
    zlist_destroy(&cut);
}

/* Sleep until a socket, a timer or the pipe; let curl handle what is ready. */
static void
s_wait(s_worker_t *w)
{
    int64_t now = tt_now_ms(), wait = s_poll_timeout(w);
    if (w->curl_due_ms >= 0)
        wait = s_sooner(wait, w->curl_due_ms, now);
    if (zlist_size(w->running) && w->stall_check_ms != INT64_MAX)
        wait = s_sooner(wait, w->stall_check_ms, now);
    if (zsock_events(w->pipe) & ZMQ_POLLIN) /* a send may have taken ZMQ_FD's signal */
        wait = 0;
    struct epoll_event ev[TT_LLM_EPOLL_EVENTS];
    int n = epoll_wait(w->epoll, ev, TT_LLM_EPOLL_EVENTS, (int)wait);
    w->stats.wakeups++;
    now = tt_now_ms();
    for (int i = 0; i < n; i++) {
        if (ev[i].data.fd == w->pipe_fd)
            continue; /* read at the top of the loop */
        uint32_t e = ev[i].events;
        int bits = (e & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                   (e & EPOLLOUT ? CURL_CSELECT_OUT : 0) | (e & EPOLLERR ? CURL_CSELECT_ERR : 0);
        int running;
        curl_multi_socket_action(w->multi, ev[i].data.fd, bits, &running);
        /* bytes came or went: a body may have started, to be watched */
        if (w->stall_check_ms > now + TT_LLM_STALL_CHECK_MS)
            w->stall_check_ms = now + TT_LLM_STALL_CHECK_MS;
    }
}

/* ------------------------------------------------------------ the loop */

static void
s_drop_all(s_worker_t *w, zlist_t **list_p)
{
    s_call_t *c;
    while ((c = zlist_pop(*list_p))) {
        if (c->easy) {
            curl_multi_remove_handle(w->multi, c->easy);
            curl_easy_cleanup(c->easy);
            c->easy = NULL;
        }
        s_call_destroy(&c);
    }
    zlist_destroy(list_p);
}

void *
tt_llm_worker_main(void *arg)
{
    const tt_llm_worker_args_t *args = arg;
    s_worker_t w = {.conf = args->conf,
                    .pipe = args->pipe,
                    .sync = args->sync,
                    .multi = args->multi,
                    .cache = args->cache,
                    .epoll = args->epoll,
                    .pipe_fd = zsock_fd(args->pipe),
                    .curl_due_ms = -1};
    w.limit = w.conf->max_concurrent_calls > 0 ? (uint32_t)w.conf->max_concurrent_calls : 1;
    w.stats.limit = w.limit;
    w.headers = tt_llm_http_headers(w.conf);
    w.queued = zlist_new();
    w.waiting = zlist_new();
    w.running = zlist_new();
    w.idle = zlist_new();
    tt_rng_seed(&w.rng, (uint64_t)tt_wall_ms() ^ (uint64_t)(uintptr_t)&w);
    curl_multi_setopt(w.multi, CURLMOPT_SOCKETFUNCTION, s_on_socket);
    curl_multi_setopt(w.multi, CURLMOPT_SOCKETDATA, &w);
    curl_multi_setopt(w.multi, CURLMOPT_TIMERFUNCTION, s_on_timer);
    curl_multi_setopt(w.multi, CURLMOPT_TIMERDATA, &w);

    while (!w.terminated) {
        s_read_pipe(&w);
        if (w.terminated)
            break;
        s_fire_timers(&w);
        s_start_queued(&w);
        s_run_curl_timer(&w);
        s_collect(&w);
        s_cut_stalled(&w);
        s_wait(&w);
        s_collect(&w);
    }

    s_drop_all(&w, &w.running);
    s_drop_all(&w, &w.queued);
    s_drop_all(&w, &w.waiting);
    /* the multi handle outlives this thread (and this frame) */
    curl_multi_setopt(w.multi, CURLMOPT_SOCKETFUNCTION, NULL);
    curl_multi_setopt(w.multi, CURLMOPT_TIMERFUNCTION, NULL);
    CURL *easy;
    while ((easy = zlist_pop(w.idle)))
        curl_easy_cleanup(easy);
    zlist_destroy(&w.idle);
    for (struct curl_slist *h = w.headers; h; h = h->next)
        memset(h->data, 0, strlen(h->data)); /* the key is in there */
    curl_slist_free_all(w.headers);
    return NULL;
}
