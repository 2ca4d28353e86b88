/*  agent_loop -- message handling for agentd.
 *
 *  Every inbound envelope is already validated by tt_wire. Handlers check the
 *  agent index and incarnation against the slot before acting, so a message
 *  for an agent that has since been reassigned is dropped, never applied.
 */
#define TT_LOG_MODULE "agentd"
#include "agent_loop.h"

#include <czmq.h>
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
    Tt__Envelope *step_env; /* keeps the Step alive while its turn runs */
} s_slot_t;

typedef enum {
    S_CONNECTING,
    S_WELCOMED,
} s_state_t;

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
    char instance[40];
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

/* The turn's answers are bounded (TT_LIMIT_TURN_ANSWERS) so its Actions fit
 * a frame; should they not, the coordinator is told the step failed and why,
 * rather than left waiting for an answer that was never sent. */
static void
s_send_actions(s_loop_t *l, Tt__Envelope *env)
{
    env->seq = ++l->seq;
    tt_err_t err = tt_wire_send(l->sock, NULL, env);
    if (err != TT_ETOOBIG) {
        if (err)
            TT_LOG_WARN("cannot send actions: %s", tt_strerror(err));
        return;
    }
    Tt__Actions failed = TT__ACTIONS__INIT;
    failed.step = env->actions->step;
    failed.error = tt_asprintf("the turn's answer is %zu bytes, more than a wire frame (%zu)",
                               tt__envelope__get_packed_size(env), TT_LIMIT_FRAME);
    TT_LOG_WARN("%s", failed.error);
    env->actions = &failed;
    s_send(l, env);
    free(failed.error);
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

static void
s_free_slot(s_slot_t *s)
{
    agent_turn_destroy(&s->turn);
    tt_wire_free(&s->step_env);
    agent_destroy(&s->agent);
    s->envelope_agent = 0;
}

static s_slot_t *
s_slot_of(s_loop_t *l, const Tt__Envelope *env)
{
    for (uint32_t i = 0; i < l->opts->slots; i++) {
        s_slot_t *s = &l->slots[i];
        if (s->agent && s->envelope_agent == env->agent && s->incarnation == env->incarnation)
            return s;
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
    } else if (!agent_turn_fenced(s->turn)) {
        Tt__Envelope env = TT__ENVELOPE__INIT;
        env.has_agent = env.has_incarnation = true;
        env.agent = s->envelope_agent;
        env.incarnation = s->incarnation;
        env.body_case = TT__ENVELOPE__BODY_ACTIONS;
        env.actions = agent_turn_answer(s->turn);
        s_send_actions(l, &env);
    }
    agent_turn_destroy(&s->turn);
    tt_wire_free(&s->step_env);
}

static int
s_on_llm(zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    (void)pipe;
    s_loop_t *l = arg;
    void *tag = NULL;
    tt_llm_result_t *r = tt_llm_recv(l->llm, &tag);
    uint64_t id = (uint64_t)(uintptr_t)tag;
    for (uint32_t i = 0; r && i < l->opts->slots; i++) {
        s_slot_t *s = &l->slots[i];
        if (s->turn && agent_turn_id(s->turn) == id) {
            if (agent_turn_on_result(s->turn, &r))
                s_finish_turn(l, s);
            break;
        }
    }
    tt_llm_result_destroy(&r); /* a turn that was cancelled meanwhile */
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
    s_free_slot(s);
    char *err = NULL;
    agent_t *a = NULL;
    tt_err_t rc = agent_new(as, env->agent - 1, env->incarnation, l->opts->data_dir, &a, &err);
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

/* Takes ownership of *envp when it starts a turn. */
static void
s_on_step(s_loop_t *l, Tt__Envelope **envp)
{
    Tt__Envelope *env = *envp;
    s_slot_t *s = s_slot_of(l, env);
    if (!s) {
        TT_LOG_DEBUG("step for agent %u/%u that is not here: dropped", env->agent,
                     env->incarnation);
        return;
    }
    if (s->turn) {
        TT_LOG_WARN("%s: step %u arrived while step %u runs: abandoning the older", s->agent->name,
                    env->step->step, s->step_env->step->step);
        agent_turn_destroy(&s->turn);
        tt_wire_free(&s->step_env);
    }
    s->step_env = env;
    *envp = NULL;
    s->turn = agent_turn_new(s->agent, l->llm, env->step, ++l->next_turn_id);
    if (agent_turn_run(s->turn))
        s_finish_turn(l, s);
}

static void
s_reset(s_loop_t *l)
{
    for (uint32_t i = 0; i < l->opts->slots; i++)
        s_free_slot(&l->slots[i]);
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
    case TT__ENVELOPE__BODY_STEP:
        s_on_step(l, &env);
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

int
agent_loop_run(const agent_loop_opts_t *opts)
{
    s_loop_t l = {.opts = opts, .heartbeat_ms = 500, .liveness_ms = 5000, .exit_code = 1};
    zuuid_t *uuid = zuuid_new();
    snprintf(l.instance, sizeof l.instance, "%s", zuuid_str_canonical(uuid));
    zuuid_destroy(&uuid);
    l.slots = tt_calloc(opts->slots, sizeof *l.slots);
    tt_err_t err = s_connect(&l);
    if (err) {
        TT_LOG_ERROR("cannot connect to %s: %s", opts->endpoint, tt_strerror(err));
        zsock_destroy(&l.sock);
        free(l.slots);
        return 2;
    }
    l.loop = zloop_new();
    zloop_reader(l.loop, l.sock, s_on_message, &l);
    l.last_heard_ms = l.started_ms = tt_now_ms();
    s_send_hello(&l);
    l.heartbeat_timer = zloop_timer(l.loop, (size_t)l.heartbeat_ms, 0, s_on_timer, &l);
    zloop_start(l.loop);
    if (zsys_interrupted)
        l.exit_code = 0;
    for (uint32_t i = 0; i < opts->slots; i++)
        s_free_slot(&l.slots[i]);
    free(l.slots);
    zloop_destroy(&l.loop);
    tt_llm_destroy(&l.llm);
    free(l.llm_config);
    zsock_destroy(&l.sock);
    return l.exit_code;
}
