/*  agent_loop -- message handling for agentd.
 *
 *  Every inbound envelope is already validated by tt_wire. Handlers check the
 *  agent index and incarnation against the slot before acting, so a message
 *  for an agent that has since been reassigned is dropped, never applied.
 *
 *  A step's work comes as a StepBatch (all of this agentd's agents acting in
 *  one dispatch). Its Steps are queued on their slots and their turns started
 *  one a loop turn (the longest expected chains of model calls first), the
 *  loop running in between (results, heartbeats), so a batch of thousands
 *  (replayed turns run whole on this thread) never holds back a heartbeat.
 *  Answers are gathered and sent as one ActionsBatch when no turn is left
 *  running, or what is finished after AGENT_ANSWER_FLUSH_MS.
 */
#define TT_LOG_MODULE "agentd"
#include "agent_loop.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_turn.h"
#include "tt_llm.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"
#include "tt_wire.h"

typedef struct {
    agent_t *agent;
    uint32_t envelope_agent; /* agent index + 1; 0 = free */
    uint32_t incarnation;
    agent_turn_t *turn;
    Tt__Step *step; /* queued, or kept alive while its turn runs */
    bool queued;    /* step waits for its turn to start (s_pump) */
} s_slot_t;

/* A queued turn, and the model calls it is expected to make in a row. */
typedef struct {
    uint32_t calls;
    uint32_t slot;
} s_queued_t;

/* A turn's id is its LLM tag: the slot in the low bits finds the slot of a
 * result at once (slots <= 1,000,000 < 2^20), a counter above tells turns
 * of the same slot apart. */
#define S_SLOT_BITS 20
#define S_SLOT_MASK ((1u << S_SLOT_BITS) - 1)

typedef enum {
    S_CONNECTING,
    S_WELCOMED,
} s_state_t;

/* Turns of a slot agentd that reached their commit: their batches land in
 * one transaction of the shared store when every running turn has come this
 * far, when AGENT_GROUP_COMMIT_MAX are waiting, or when the answers' flush
 * timer fires (s_on_flush) -- when their answers would have been sent
 * anyway. */
typedef struct {
    uint32_t n;
    uint32_t slot[AGENT_GROUP_COMMIT_MAX];
    uint64_t turn[AGENT_GROUP_COMMIT_MAX]; /* a turn dropped meanwhile commits nothing */
    tt_memory_batch_t *batch[AGENT_GROUP_COMMIT_MAX];
    tt_memory_t *memory[AGENT_GROUP_COMMIT_MAX]; /* filled at the commit from the turns */
    const char *owner[AGENT_GROUP_COMMIT_MAX];
    tt_err_t err[AGENT_GROUP_COMMIT_MAX];
} s_group_t;

typedef struct {
    const agent_loop_opts_t *opts;
    zsock_t *sock;
    zloop_t *loop;
    s_slot_t *slots;
    tt_llm_t *llm;
    char *llm_config; /* the config text the client was made with */
    uint64_t seq;
    uint64_t next_turn_id;
    int64_t last_heard_ms;
    int64_t hello_ms;
    int heartbeat_ms;
    int liveness_ms;
    bool said_silent; /* the coordinator's silence was reported */
    int64_t started_ms;
    int heartbeat_timer;
    s_state_t state;
    uint32_t queued;   /* slots whose step waits to start */
    uint32_t running;  /* turns started and not finished */
    s_queued_t *order; /* queued turns, in the order they start (s_order_sort) */
    uint32_t n_order;
    uint32_t order_at;        /* the next of them s_pump looks at */
    uint32_t slot_hint;       /* where s_slot_of looks first */
    int pump_timer;           /* -1, or the next slice is due */
    tt_wire_batch_t *answers; /* finished turns' Actions, not yet sent */
    int flush_timer;          /* -1, or the answers are sent when it fires */
    char instance[40];
    tt_memory_store_t *store; /* slots > 1: the data directory's shared store */
    char *store_dir;
    s_group_t group; /* slots > 1: turns waiting for the group commit */
    int exit_code;
    bool broken; /* an infrastructure fault: stop the loop */
} s_loop_t;

static void
s_send(s_loop_t *l, Tt__Envelope *env)
{
    env->seq = ++l->seq;
    tt_err_t err = tt_wire_send(l->sock, NULL, env);
    if (err)
        TT_LOG_WARN("cannot send %s: %s", tt_wire_body_name(env), tt_strerror(err));
}

/* ------------------------------------------------------------------ answers */

static void
s_flush_answers(s_loop_t *l)
{
    if (l->flush_timer >= 0) {
        zloop_timer_end(l->loop, l->flush_timer);
        l->flush_timer = -1;
    }
    if (tt_wire_batch_items(l->answers) == 0)
        return;
    tt_err_t err = tt_wire_batch_send(l->answers, l->sock, NULL, &l->seq, NULL);
    if (err)
        TT_LOG_WARN("cannot send answers: %s", tt_strerror(err));
}

static void s_group_commit(s_loop_t *l);

static int
s_on_flush(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_loop_t *l = arg;
    l->flush_timer = -1; /* a timer that fires once is gone */
    s_group_commit(l);
    s_flush_answers(l);
    return l->broken ? -1 : 0;
}

/* The turn's answers are bounded (TT_LIMIT_TURN_ANSWERS) so its Actions fit
 * a frame; should they not, the coordinator is told the step failed and why,
 * rather than left waiting for an answer that was never sent. */
static void
s_add_answer(s_loop_t *l, const s_slot_t *s, const Tt__Actions *answer)
{
    tt_err_t err = tt_wire_batch_add_actions(l->answers, s->envelope_agent, s->incarnation, answer);
    if (err == TT_ETOOBIG) {
        Tt__Actions failed = TT__ACTIONS__INIT;
        failed.step = answer->step;
        failed.error = tt_asprintf("the turn's answer is %zu bytes, more than a wire frame (%zu)",
                                   tt__actions__get_packed_size(answer), TT_LIMIT_FRAME);
        TT_LOG_WARN("%s", failed.error);
        tt_wire_batch_add_actions(l->answers, s->envelope_agent, s->incarnation, &failed);
        free(failed.error);
    }
}

/* Answers wait for the rest of their batch: sent at once when no turn is
 * left, else when the first of them has waited AGENT_ANSWER_FLUSH_MS. */
static void
s_answers_due(s_loop_t *l)
{
    if (tt_wire_batch_items(l->answers) == 0)
        return;
    if (l->queued == 0 && l->running == 0)
        s_flush_answers(l);
    else if (l->flush_timer < 0)
        l->flush_timer = zloop_timer(l->loop, (size_t)l->opts->answer_flush_ms, 1, s_on_flush, l);
}

static void
s_send_hello(s_loop_t *l)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    Tt__Hello hello = TT__HELLO__INIT;
    hello.instance = l->instance;
    hello.slots = l->opts->slots;
    hello.host = host;
    hello.has_pid = true;
    hello.pid = (uint32_t)getpid();
    hello.token = (char *)l->opts->token;
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.body_case = TT__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    s_send(l, &env);
    l->hello_ms = tt_now_ms();
}

static void
s_send_error(s_loop_t *l, uint32_t agent, uint32_t incarnation, tt_err_t code, const char *msg)
{
    Tt__Error e = TT__ERROR__INIT;
    e.code = code;
    e.message = (char *)msg;
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.has_agent = env.has_incarnation = true;
    env.agent = agent;
    env.incarnation = incarnation;
    env.body_case = TT__ENVELOPE__BODY_ERROR;
    env.error = &e;
    s_send(l, &env);
}

/* Forget the slot's step: its turn (cancelled if running) or its place in
 * the queue. */
static void
s_drop_step(s_loop_t *l, s_slot_t *s)
{
    if (s->turn) {
        agent_turn_destroy(&s->turn);
        l->running--;
    }
    if (s->queued) {
        s->queued = false;
        l->queued--;
    }
    tt_wire_free_step(&s->step);
}

static void
s_free_slot(s_loop_t *l, s_slot_t *s)
{
    s_drop_step(l, s);
    agent_destroy(&s->agent);
    s->envelope_agent = 0;
}

/* The slot of agent (index + 1) at incarnation. The coordinator sends a
 * batch in agent order and fills slots in that order too, so looking from
 * the slot after the last one found is almost always a hit at once. */
static s_slot_t *
s_slot_of(s_loop_t *l, uint32_t agent, uint32_t incarnation)
{
    uint32_t n = l->opts->slots;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (l->slot_hint + k) % n;
        s_slot_t *s = &l->slots[i];
        if (s->agent && s->envelope_agent == agent && s->incarnation == incarnation) {
            l->slot_hint = (i + 1) % n;
            return s;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ LLM client */

static int s_on_llm(zloop_t *loop, zsock_t *pipe, void *arg);

static tt_err_t
s_ensure_llm(s_loop_t *l, const agent_t *a, char **errmsg)
{
    json_t *cfg_json = json_object_get(a->agent_config, "config");
    char *text = tt_json_canonical(cfg_json);
    if (l->llm) {
        if (strcmp(text, l->llm_config))
            TT_LOG_WARN("%s: different model settings than this agentd's first agent; using "
                        "the first",
                        a->name);
        free(text);
        return TT_OK;
    }
    tt_config_t cfg;
    tt_config_init(&cfg);
    tt_config_from_json(&cfg, cfg_json);
    char provider[TT_PROVIDER_LEN];
    snprintf(provider, sizeof provider, "%s", cfg.provider);
    tt_err_t err = tt_config_resolve(&cfg, provider, errmsg);
    if (!err) {
        /* the resolve step may reset model names for the offline model: keep the run's */
        tt_config_from_json(&cfg, cfg_json);
        err = tt_llm_new(&cfg, &l->llm);
        if (err)
            *errmsg = tt_asprintf("cannot start the LLM client: %s", tt_strerror(err));
    }
    tt_config_fini(&cfg);
    if (err) {
        free(text);
        return err;
    }
    l->llm_config = text;
    zloop_reader(l->loop, tt_llm_pipe(l->llm), s_on_llm, l);
    return TT_OK;
}

/* ------------------------------------------------------------------ turns */

static void
s_finish_turn(s_loop_t *l, s_slot_t *s)
{
    tt_err_t broken = agent_turn_memory_error(s->turn);
    if (!broken)
        broken = tt_memory_damaged(s->agent->memory);
    if (broken == TT_ECORRUPT) {
        /* read back damaged: the turn may have seen wrong data, so it is not
         * answered; the memory goes, and the agent is rebuilt from the log */
        TT_LOG_ERROR("%s: memory in %s is damaged: discarding it and stopping this agentd",
                     s->agent->name, s->agent->dir);
        tt_memory_discard(s->agent->dir);
        l->exit_code = AGENT_EXIT_INFRA;
        l->broken = true;
    } else if (broken) {
        /* an agent whose memory cannot be written cannot go on, and its
         * step must not be recorded as its doing: this agentd stops, so the
         * coordinator sees it die, moves its agents and rebuilds them */
        TT_LOG_ERROR("%s: memory unwritable (%s): stopping this agentd", s->agent->name,
                     tt_strerror(broken));
        l->exit_code = AGENT_EXIT_INFRA;
        l->broken = true;
    }
    if (!l->broken && !agent_turn_fenced(s->turn))
        s_add_answer(l, s, agent_turn_answer(s->turn)); /* packed now: the turn can go */
    s_drop_step(l, s);
    if (l->broken)
        s_flush_answers(l); /* the others' finished turns, before this agentd stops */
    else
        s_answers_due(l);
}

/* ------------------------------------------------------------------ group commit */

/* Batches of turns that never committed (the agentd stops). */
static void
s_group_drop(s_group_t *g)
{
    for (uint32_t i = 0; i < g->n; i++)
        tt_memory_batch_destroy(&g->batch[i]);
    g->n = 0;
}

/* Commit the waiting turns' batches in one transaction, then finish them. */
static void
s_group_commit(s_loop_t *l)
{
    s_group_t *g = &l->group;
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->n; i++) { /* keep the turns still there */
        const s_slot_t *s = &l->slots[g->slot[i]];
        if (!s->turn || agent_turn_id(s->turn) != g->turn[i]) {
            tt_memory_batch_destroy(&g->batch[i]);
            continue;
        }
        g->slot[n] = g->slot[i];
        g->batch[n] = g->batch[i];
        g->memory[n] = s->agent->memory;
        g->owner[n] = s->agent->owner;
        n++;
    }
    g->n = 0;
    if (n == 0)
        return;
    tt_memory_commit_all(g->memory, g->batch, g->owner, n, g->err);
    for (uint32_t i = 0; i < n; i++) {
        s_slot_t *s = &l->slots[g->slot[i]];
        agent_turn_committed(s->turn, g->err[i]);
        s_finish_turn(l, s);
    }
}

/* The turn ran as far as it could: finished, waiting for a model call, or
 * (slot agentds) waiting for the group commit, which it joins. */
static void
s_turn_ran(s_loop_t *l, s_slot_t *s, bool finished)
{
    if (finished) {
        s_finish_turn(l, s);
        return;
    }
    tt_memory_batch_t *b = agent_turn_take_batch(s->turn); /* deferred: slot agentds only */
    if (!b)
        return;
    s_group_t *g = &l->group;
    TT_ASSERT(g->n < AGENT_GROUP_COMMIT_MAX);
    g->slot[g->n] = (uint32_t)(s - l->slots);
    g->turn[g->n] = agent_turn_id(s->turn);
    g->batch[g->n] = b;
    g->n++;
    if (g->n >= AGENT_GROUP_COMMIT_MAX || (l->queued == 0 && l->running <= g->n))
        s_group_commit(l); /* full, or nothing else is coming */
    else if (l->flush_timer < 0)
        l->flush_timer = zloop_timer(l->loop, (size_t)l->opts->answer_flush_ms, 1, s_on_flush, l);
}

static int
s_on_llm(zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    (void)pipe;
    s_loop_t *l = arg;
    /* every result that is ready, for one slice at most: zloop calls a
     * reader once a turn of the loop, and thousands of results must not
     * wait behind the turns still being started */
    int64_t start = tt_now_ms();
    do {
        void *tag = NULL;
        tt_llm_result_t *r = tt_llm_recv(l->llm, &tag);
        if (!r)
            break; /* interrupted */
        uint64_t id = (uint64_t)(uintptr_t)tag;
        uint32_t slot = (uint32_t)(id & S_SLOT_MASK);
        s_slot_t *s = slot < l->opts->slots ? &l->slots[slot] : NULL;
        if (s && s->turn && agent_turn_id(s->turn) == id)
            s_turn_ran(l, s, agent_turn_on_result(s->turn, &r));
        tt_llm_result_destroy(&r); /* a turn that was cancelled meanwhile */
    } while (!l->broken && tt_now_ms() - start < AGENT_SLICE_MS &&
             (zsock_events(tt_llm_pipe(l->llm)) & ZMQ_POLLIN));
    return l->broken ? -1 : 0;
}

/* ------------------------------------------------------------------ handlers */

static void
s_on_assign(s_loop_t *l, Tt__Envelope *env)
{
    const Tt__Assign *as = env->assign;
    if (as->slot >= l->opts->slots || env->agent == 0) {
        s_send_error(l, env->agent, env->incarnation, TT_EINVAL, "no such slot");
        return;
    }
    s_slot_t *s = &l->slots[as->slot];
    s_free_slot(l, s);
    char *err = NULL;
    agent_t *a = NULL;
    tt_err_t rc =
        agent_new(as, env->agent - 1, env->incarnation, l->opts->data_dir, l->store, &a, &err);
    if (rc == TT_ECORRUPT && l->store) {
        /* the shared store is damaged: no agent here may use it; the
         * coordinator moves them all and rebuilds them from the log */
        TT_LOG_ERROR("%s; discarding %s and stopping this agentd", err ? err : "damaged",
                     l->store_dir);
        free(err);
        agent_destroy(&a);
        tt_memory_discard(l->store_dir);
        l->exit_code = AGENT_EXIT_INFRA;
        l->broken = true;
        return;
    }
    if (!rc)
        rc = s_ensure_llm(l, a, &err);
    if (rc) {
        TT_LOG_ERROR("%s", err ? err : tt_strerror(rc));
        s_send_error(l, env->agent, env->incarnation, rc, err ? err : tt_strerror(rc));
        free(err);
        agent_destroy(&a);
        return;
    }
    s->agent = a;
    s->envelope_agent = env->agent;
    s->incarnation = env->incarnation;
    TT_LOG_INFO("slot %u: %s (incarnation %u), memory at step %u", as->slot, a->name,
                env->incarnation, agent_last_step(a));
    Tt__Assigned done = TT__ASSIGNED__INIT;
    done.slot = as->slot;
    done.last_committed_step = agent_last_step(a);
    Tt__Envelope reply = TT__ENVELOPE__INIT;
    reply.has_agent = reply.has_incarnation = true;
    reply.agent = env->agent;
    reply.incarnation = env->incarnation;
    reply.body_case = TT__ENVELOPE__BODY_ASSIGNED;
    reply.assigned = &done;
    s_send(l, &reply);
}

static void
s_start_turn(s_loop_t *l, s_slot_t *s)
{
    uint64_t id = (++l->next_turn_id << S_SLOT_BITS) | (uint64_t)(s - l->slots);
    TT_LOG_DEBUG("slot %u: %s starts step %u", (unsigned)(s - l->slots), s->agent->name,
                 s->step->step);
    s->turn = agent_turn_new(s->agent, l->llm, s->step, id);
    if (l->store)
        agent_turn_defer_commit(s->turn);
    l->running++;
    s_turn_ran(l, s, agent_turn_run(s->turn));
}

static int s_on_pump(zloop_t *loop, int timer_id, void *arg);

/* Start the next queued turn; the loop runs (heartbeats, results, messages)
 * before the one after, as when each Step was a message of its own. One at a
 * time on purpose: starting turns in longer slices left the LLM worker
 * behind (hundreds of turns in flight, their results waiting) and made a
 * 10,000-agent step twice as long on a loaded machine. */
static void
s_pump(s_loop_t *l)
{
    while (l->order_at < l->n_order && !l->broken) {
        s_slot_t *s = &l->slots[l->order[l->order_at++].slot];
        if (!s->queued) /* its step was dropped meanwhile */
            continue;
        s->queued = false;
        l->queued--;
        s_start_turn(l, s);
        break;
    }
    if (l->order_at < l->n_order && !l->broken && l->pump_timer < 0)
        l->pump_timer = zloop_timer(l->loop, 0, 1, s_on_pump, l); /* at the next loop turn */
}

static int
s_on_pump(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_loop_t *l = arg;
    l->pump_timer = -1; /* a timer that fires once is gone */
    s_pump(l);
    return l->broken ? -1 : 0;
}

static int
s_longer_chain_first(const void *x, const void *y)
{
    const s_queued_t *a = x, *b = y;
    if (a->calls != b->calls)
        return a->calls > b->calls ? -1 : 1;
    /* then in slot order: a shared store's pages in the order they are stored */
    return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/* The turns still queued, first in l->order; returns how many. Each queued
 * slot is there once (s_on_step_batch adds a slot only when it queues it). */
static uint32_t
s_order_remaining(s_loop_t *l)
{
    uint32_t n = 0;
    for (uint32_t k = l->order_at; k < l->n_order; k++)
        if (l->slots[l->order[k].slot].queued)
            l->order[n++] = l->order[k];
    return n;
}

/* Put the first n queued turns in the order they start: a step lasts as long
 * as its longest chain of model calls, so the turns expected to make the
 * longest chains go first rather than behind everyone's requests and answers. */
static void
s_order_sort(s_loop_t *l, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        const s_slot_t *s = &l->slots[l->order[k].slot];
        l->order[k].calls = agent_turn_expected_calls(s->agent, s->step);
    }
    qsort(l->order, n, sizeof *l->order, s_longer_chain_first);
    l->n_order = n;
    l->order_at = 0;
}

/* Queue each item's Step on its slot (taken from the batch), then start the
 * first turn in order. */
static void
s_on_step_batch(s_loop_t *l, Tt__StepBatch *b)
{
    uint32_t n = s_order_remaining(l);
    for (size_t i = 0; i < b->n_items; i++) {
        Tt__StepBatch__Item *item = b->items[i];
        s_slot_t *s = s_slot_of(l, item->agent, item->incarnation);
        if (!s) {
            TT_LOG_DEBUG("step for agent %u/%u that is not here: dropped", item->agent,
                         item->incarnation);
            continue;
        }
        if (s->step)
            TT_LOG_WARN("%s: step %u arrived while step %u %s: abandoning the older",
                        s->agent->name, item->step->step, s->step->step,
                        s->turn ? "runs" : "waits");
        bool listed = s->queued; /* its older step waited: in l->order already */
        s_drop_step(l, s);
        s->step = item->step;
        item->step = NULL; /* the slot's now: tt_wire_free skips it */
        s->queued = true;
        l->queued++;
        if (!listed)
            l->order[n++].slot = (uint32_t)(s - l->slots);
    }
    s_order_sort(l, n);
    s_pump(l);
}

static void
s_reset(s_loop_t *l)
{
    for (uint32_t i = 0; i < l->opts->slots; i++)
        s_free_slot(l, &l->slots[i]);
    tt_wire_batch_clear(l->answers); /* for a coordinator that is gone */
    l->state = S_CONNECTING;
    s_send_hello(l);
}

static int s_on_timer(zloop_t *loop, int timer_id, void *arg);

static int
s_on_message(zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    s_loop_t *l = arg;
    Tt__Envelope *env = NULL;
    tt_err_t err = tt_wire_recv(sock, NULL, &env);
    if (err == TT_EVERSION) {
        /* nothing it says can be understood, and nothing we say can be */
        TT_LOG_ERROR("the coordinator at %s speaks another protocol version than this agentd "
                     "(%d): run the same Troupe release on both sides",
                     l->opts->endpoint, TT_PROTOCOL_VERSION);
        l->exit_code = 2;
        return -1;
    }
    if (err) {
        TT_LOG_WARN("dropped a malformed message: %s", tt_strerror(err));
        return 0;
    }
    l->last_heard_ms = tt_now_ms();
    int rc = 0;
    switch (env->body_case) {
    case TT__ENVELOPE__BODY_WELCOME:
        l->state = S_WELCOMED;
        l->liveness_ms = (int)env->welcome->liveness_ms;
        if ((int)env->welcome->heartbeat_ms != l->heartbeat_ms && env->welcome->heartbeat_ms) {
            l->heartbeat_ms = (int)env->welcome->heartbeat_ms;
            zloop_timer_end(l->loop, l->heartbeat_timer);
            l->heartbeat_timer = zloop_timer(l->loop, (size_t)l->heartbeat_ms, 0, s_on_timer, l);
        }
        TT_LOG_INFO("registered with the coordinator (%u slots)", l->opts->slots);
        break;
    case TT__ENVELOPE__BODY_ASSIGN:
        s_on_assign(l, env);
        break;
    case TT__ENVELOPE__BODY_STEP_BATCH:
        s_on_step_batch(l, env->step_batch);
        break;
    case TT__ENVELOPE__BODY_HEARTBEAT:
        break;
    case TT__ENVELOPE__BODY_SHUTDOWN:
        TT_LOG_INFO("shutdown: %s", env->shutdown->reason ? env->shutdown->reason : "");
        l->exit_code = 0;
        rc = -1;
        break;
    case TT__ENVELOPE__BODY_ERROR:
        if (env->error->code == TT_EPEER) {
            /* a coordinator that does not know us (it restarted): register again */
            TT_LOG_WARN("the coordinator does not know this agentd: registering again");
            s_reset(l);
        } else {
            TT_LOG_ERROR("coordinator error: %s", env->error->message ? env->error->message : "");
        }
        break;
    default:
        TT_LOG_WARN("unexpected %s message: dropped", tt_wire_body_name(env));
    }
    tt_wire_free(&env);
    return l->broken ? -1 : rc;
}

static int
s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_loop_t *l = arg;
    int64_t now = tt_now_ms();
    if (l->opts->parent_pid && getppid() != l->opts->parent_pid) {
        TT_LOG_WARN("the coordinator process is gone: exiting");
        l->exit_code = 1;
        return -1;
    }
    int welcome_ms = l->opts->welcome_ms > 0 ? l->opts->welcome_ms : AGENT_WELCOME_DEFAULT_MS;
    if (l->state == S_CONNECTING && now - l->started_ms > welcome_ms) {
        TT_LOG_WARN("no Welcome from the coordinator within %d ms: exiting", welcome_ms);
        l->exit_code = 1;
        return -1;
    }
    /* Silence is not death: a coordinator that is busy or stopped answers
     * later, and its heartbeats wait in the socket. A local child knows its
     * coordinator is alive from getppid() and waits for it; a remote agentd
     * gives up only after AGENT_PATIENCE_LIVENESS times LIVENESS_MS. */
    int64_t silent = now - l->last_heard_ms;
    if (!l->opts->parent_pid && silent > AGENT_PATIENCE_LIVENESS * (int64_t)l->liveness_ms) {
        TT_LOG_WARN("no word from the coordinator for %lld ms: exiting", (long long)silent);
        l->exit_code = 1;
        return -1;
    }
    if (silent > 3 * (int64_t)l->liveness_ms && !l->said_silent) {
        TT_LOG_INFO("no word from the coordinator for %lld ms: it is busy or stopped; waiting",
                    (long long)silent);
        l->said_silent = true;
    } else if (silent <= 3 * (int64_t)l->liveness_ms) {
        l->said_silent = false;
    }
    if (l->state == S_CONNECTING && now - l->hello_ms > l->heartbeat_ms * 4)
        s_send_hello(l);
    Tt__Heartbeat hb = TT__HEARTBEAT__INIT;
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.body_case = TT__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_send(l, &env);
    return 0;
}

/* ------------------------------------------------------------------ run */

static tt_err_t
s_connect(s_loop_t *l)
{
    l->sock = zsock_new(ZMQ_DEALER);
    if (!l->sock)
        return TT_EIO;
    zsock_set_linger(l->sock, 0);
    zsock_set_maxmsgsize(l->sock, (int64_t)TT_WIRE_MAX_FRAME);
    zsock_set_rcvhwm(l->sock, 0);
    zsock_set_sndhwm(l->sock, 0);
    if (l->opts->server_key) {
        zcert_t *cert = l->opts->cert_path ? zcert_load(l->opts->cert_path) : zcert_new();
        if (!cert)
            return TT_ESECURITY;
        zcert_apply(cert, l->sock);
        zsock_set_curve_serverkey(l->sock, l->opts->server_key);
        zcert_destroy(&cert);
    }
    if (zsock_connect(l->sock, "%s", l->opts->endpoint) != 0)
        return TT_EINVAL;
    return TT_OK;
}

/* A slot agentd's shared store; a damaged one is discarded, and its agents
 * are rebuilt from the log as they are assigned. */
static tt_err_t
s_open_store(s_loop_t *l)
{
    if (l->opts->slots <= 1)
        return TT_OK;
    l->store_dir = tt_asprintf("%s/%s", l->opts->data_dir, AGENT_STORE_DIR);
    tt_err_t err = tt_memory_store_open(l->store_dir, &l->store);
    if (err == TT_ECORRUPT) {
        TT_LOG_WARN("%s is damaged: discarding it (its agents are rebuilt from the log)",
                    l->store_dir);
        err = tt_memory_discard(l->store_dir);
        if (!err)
            err = tt_memory_store_open(l->store_dir, &l->store);
    }
    if (err)
        TT_LOG_ERROR("cannot open the agents' memory in %s: %s", l->store_dir, tt_strerror(err));
    return err;
}

int
agent_loop_run(const agent_loop_opts_t *opts)
{
    s_loop_t l = {.opts = opts,
                  .heartbeat_ms = 500,
                  .liveness_ms = 5000,
                  .exit_code = 1,
                  .pump_timer = -1,
                  .flush_timer = -1};
    zuuid_t *uuid = zuuid_new();
    snprintf(l.instance, sizeof l.instance, "%s", zuuid_str_canonical(uuid));
    zuuid_destroy(&uuid);
    tt_err_t err = s_open_store(&l);
    if (err) {
        free(l.store_dir);
        return AGENT_EXIT_INFRA;
    }
    err = s_connect(&l);
    if (err) {
        TT_LOG_ERROR("cannot connect to %s: %s", opts->endpoint, tt_strerror(err));
        zsock_destroy(&l.sock);
        tt_memory_store_close(&l.store);
        free(l.store_dir);
        return 2;
    }
    l.slots = tt_calloc(opts->slots, sizeof *l.slots);
    l.order = tt_calloc(opts->slots, sizeof *l.order);
    l.answers = tt_wire_batch_new(TT_WIRE_BATCH_ACTIONS, TT_WIRE_MAX_FRAME);
    l.loop = zloop_new();
    zloop_reader(l.loop, l.sock, s_on_message, &l);
    l.last_heard_ms = l.started_ms = tt_now_ms();
    s_send_hello(&l);
    l.heartbeat_timer = zloop_timer(l.loop, (size_t)l.heartbeat_ms, 0, s_on_timer, &l);
    zloop_start(l.loop);
    if (zsys_interrupted)
        l.exit_code = 0;
    s_group_drop(&l.group);
    for (uint32_t i = 0; i < opts->slots; i++)
        s_free_slot(&l, &l.slots[i]);
    free(l.slots);
    free(l.order);
    tt_memory_store_close(&l.store); /* after every agent's handle */
    free(l.store_dir);
    tt_wire_batch_destroy(&l.answers);
    zloop_destroy(&l.loop);
    tt_llm_destroy(&l.llm);
    free(l.llm_config);
    zsock_destroy(&l.sock);
    return l.exit_code;
}
