/*  coord_session -- commands in, answers out, and the session's part of a step.
 *
 *  A request arrives from the HTTP thread as one frame. Questions and changes
 *  are answered at once; `agent.act` and `world.run` set what the next steps
 *  are (pending) and are answered when the last of them commits. Only one
 *  request is ever in progress: the HTTP thread waits for each answer.
 */
#define TT_LOG_MODULE "session"
#include "coord_session_impl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"

#define S_MAX_RUN_STEPS 100000
#define S_TEXT_CAP      ((size_t)1 << 20) /* one text argument (a stimulus) */

/* ------------------------------------------------------------------ helpers */

void
coord_session_fail(coord_session_error_t *e, int status, const char *code, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    free(e->message);
    e->message = tt_strdup(text);
    e->status = status;
    e->code = code;
}

long
coord_session_agent_arg(coord_t *c, const json_t *args, const char *key, coord_session_error_t *e)
{
    const char *name = json_string_value(json_object_get(args, key));
    if (!name) {
        coord_session_fail(e, 400, "bad_request", "\"%s\": an agent's name is required", key);
        return -1;
    }
    long i = coord_scenario_find(c->scenario, name);
    if (i < 0)
        coord_session_fail(e, 404, "unknown_agent", "there is no agent named \"%s\"", name);
    return i;
}

coord_sworld_t *
coord_session_world(coord_session_t *s, const char *name)
{
    for (size_t i = 0; name && i < s->n_worlds; i++)
        if (!strcmp(s->worlds[i].name, name))
            return &s->worlds[i];
    return NULL;
}

coord_sworld_t *
coord_session_world_arg(coord_session_t *s, const json_t *args, const char *key,
                        coord_session_error_t *e)
{
    const char *name = json_string_value(json_object_get(args, key));
    if (!name) {
        coord_session_fail(e, 400, "bad_request", "\"%s\": a world's name is required", key);
        return NULL;
    }
    coord_sworld_t *w = coord_session_world(s, name);
    if (!w)
        coord_session_fail(e, 404, "unknown_world", "there is no world named \"%s\"", name);
    return w;
}

int64_t
coord_session_agent_now(coord_session_t *s, uint32_t agent)
{
    for (size_t i = 0; i < s->n_worlds; i++)
        for (size_t k = 0; k < s->worlds[i].n_members; k++)
            if (s->worlds[i].members[k] == agent)
                return s->worlds[i].now;
    return s->base_now;
}

/* ------------------------------------------------------------------ arguments */

json_t *
coord_session_bad(coord_session_error_t *e, const char *what)
{
    coord_session_fail(e, 400, "bad_request", "%s", what);
    return NULL;
}

json_t *
coord_session_bad_key(coord_session_error_t *e, const char *key, const char *what)
{
    coord_session_fail(e, 400, "bad_request", "\"%s\": %s", key, what);
    return NULL;
}

const char *
coord_session_text_arg(const json_t *args, const char *key, bool required, coord_session_error_t *e)
{
    json_t *v = json_object_get(args, key);
    if ((!v || json_is_null(v)) && !required)
        return "";
    if (!json_is_string(v) || json_string_length(v) > S_TEXT_CAP) {
        coord_session_bad_key(e, key, "expected text (at most 1 MiB)");
        return NULL;
    }
    return json_string_value(v);
}

/* A list of strings (new reference), or NULL with *e. */
json_t *
coord_session_strings_arg(const json_t *args, const char *key, coord_session_error_t *e)
{
    json_t *v = json_object_get(args, key);
    size_t i;
    json_t *x;
    if (!json_is_array(v))
        return coord_session_bad_key(e, key, "expected a list of strings");
    json_array_foreach(v, i, x) if (!json_is_string(x)) return coord_session_bad_key(
        e, key, "expected a list of strings");
    return json_incref(v);
}

/* Names that must all be agents; a new list of their names. */
json_t *
coord_session_agents_arg(coord_t *c, const json_t *args, const char *key, coord_session_error_t *e)
{
    json_t *names = coord_session_strings_arg(args, key, e);
    size_t i;
    json_t *x;
    json_array_foreach(names, i, x)
    {
        if (coord_scenario_find(c->scenario, json_string_value(x)) < 0) {
            coord_session_fail(e, 404, "unknown_agent", "there is no agent named \"%s\"",
                               json_string_value(x));
            json_decref(names);
            return NULL;
        }
    }
    return names;
}

/* ------------------------------------------------------------------ lifecycle */

coord_session_t *
coord_session_new(coord_t *c)
{
    coord_session_t *s = tt_new(coord_session_t);
    s->c = c;
    const coord_scenario_t *sc = c->scenario;
    s->base_now = sc->start;
    if (sc->n_agents) {
        /* the scenario's own world, with its agents */
        s->worlds = tt_calloc(1, sizeof *s->worlds);
        coord_sworld_t *w = &s->worlds[s->n_worlds++];
        w->name = tt_strdup(sc->world_name);
        w->now = sc->start;
        w->step_seconds = sc->step_seconds;
        w->network = sc->access == COORD_ACCESS_NETWORK;
        w->members = tt_calloc(sc->n_agents, sizeof *w->members);
        for (size_t i = 0; i < sc->n_agents; i++)
            w->members[w->n_members++] = (uint32_t)i;
    }
    return s;
}

void
coord_session_destroy(coord_session_t **self_p)
{
    coord_session_t *s = *self_p;
    if (!s)
        return;
    coord_session_http_stop(&s->http);
    for (size_t i = 0; i < s->n_worlds; i++) {
        free(s->worlds[i].name);
        free(s->worlds[i].members);
    }
    free(s->worlds);
    json_decref(s->collected);
    json_decref(s->judging);
    free(s);
    *self_p = NULL;
}

/* ------------------------------------------------------------------ answers */

static void
s_answer(coord_session_t *s, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    coord_session_http_reply(s->http, status, text);
    free(text);
    json_decref(body);
}

void
coord_session_answer_result(coord_session_t *s, json_t *result)
{
    s_answer(s, 200, json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_object()));
}

void
coord_session_answer_error(coord_session_t *s, coord_session_error_t *e)
{
    TT_LOG_INFO("command refused: %s", e->message ? e->message : e->code);
    s_answer(s, e->status ? e->status : 500,
             json_pack("{s:b, s:s, s:s}", "ok", 0, "code", e->code ? e->code : "failed", "error",
                       e->message ? e->message : "failed"));
    free(e->message);
    e->message = NULL;
}

/* ------------------------------------------------------------------ steps */

/* Begin the pending command's next step once every agent is ready. */
static void
s_go(coord_t *c)
{
    c->state = COORD_RUN_PLACING;
    c->placing_since_ms = tt_now_ms();
    if (coord_place_all_ready(c))
        coord_session_ready(c);
}

/* Every agent is placed: the pending command's step begins, if it has one. A
 * proposition out with the model has none (it was sent while the session's
 * first agents were still being placed), nor has an idle session. */
void
coord_session_ready(coord_t *c)
{
    coord_session_pending_t pending = c->session->pending;
    if (pending == COORD_SESSION_ACT || pending == COORD_SESSION_RUN)
        coord_step_begin(c);
    else
        c->state = COORD_RUN_IDLE;
}

static int
s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

size_t
coord_session_acting(coord_t *c, uint32_t *order)
{
    coord_session_t *s = c->session;
    if (s->pending == COORD_SESSION_ACT) {
        order[0] = s->agent;
        return 1;
    }
    const coord_sworld_t *w = &s->worlds[s->world];
    memcpy(order, w->members, w->n_members * sizeof *order);
    qsort(order, w->n_members, sizeof *order, s_cmp_u32);
    return w->n_members;
}

void
coord_session_begin_step(coord_t *c)
{
    coord_session_t *s = c->session;
    if (s->pending == COORD_SESSION_ACT) {
        coord_world_set_clock(c->world, coord_session_agent_now(s, s->agent));
        return;
    }
    coord_sworld_t *w = &s->worlds[s->world];
    w->now += s->run_seconds;
    w->steps++;
    coord_world_begin_step_at(c->world, w->now);
}

void
coord_session_label(coord_t *c, Tt__StepCommit *sc)
{
    coord_session_t *s = c->session;
    sc->kind = s->pending == COORD_SESSION_ACT ? "agent" : "world";
    sc->world = s->pending == COORD_SESSION_RUN ? s->worlds[s->world].name : NULL;
}

static json_t *
s_agent_step_json(const Tt__AgentStep *as)
{
    json_t *o = json_pack("{s:s, s:o}", "status", as->status ? as->status : "ok", "actions",
                          coord_session_actions_json(as->actions, as->n_actions));
    if (as->error)
        json_object_set_new(o, "error", json_string(as->error));
    if (as->cognitive_state)
        json_object_set_new(o, "cognitive_state",
                            coord_session_cognitive_json(as->cognitive_state));
    return o;
}

void
coord_session_on_commit(coord_t *c, const Tt__StepCommit *sc)
{
    coord_session_t *s = c->session;
    if (s->pending == COORD_SESSION_ACT) {
        json_t *r = sc->n_agents ? s_agent_step_json(sc->agents[0]) : json_object();
        json_object_set_new(r, "step", json_integer(sc->step));
        json_object_set_new(r, "datetime", json_string(sc->datetime));
        json_decref(s->collected);
        s->collected = r;
        return;
    }
    json_t *agents = json_object();
    for (size_t k = 0; k < sc->n_agents; k++)
        json_object_set_new(agents, c->agents[sc->agents[k]->agent].name,
                            s_agent_step_json(sc->agents[k]));
    json_array_append_new(s->collected, json_pack("{s:i, s:s, s:o}", "step", (int)sc->step,
                                                  "datetime", sc->datetime, "agents", agents));
}

void
coord_session_after_commit(coord_t *c)
{
    coord_session_t *s = c->session;
    if (s->pending == COORD_SESSION_RUN && --s->steps_left > 0) {
        s_go(c);
        return;
    }
    json_t *r = s->collected;
    s->collected = NULL;
    if (s->pending == COORD_SESSION_RUN)
        r = json_pack("{s:o}", "steps", r);
    s->pending = COORD_SESSION_IDLE;
    c->state = COORD_RUN_IDLE;
    coord_session_answer_result(s, r);
}

/* ------------------------------------------------------------------ commands that act */

static int
s_cmd_act(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    long agent = coord_session_agent_arg(c, args, "agent", e);
    if (agent < 0)
        return -1;
    json_t *stimulus = json_object_get(args, "stimulus");
    if (stimulus && !json_is_null(stimulus)) {
        if (!json_is_object(stimulus)) {
            coord_session_fail(e, 400, "bad_request",
                               "\"stimulus\" must be {\"type\", \"content\", \"source\"}");
            return -1;
        }
        json_t *sargs = json_deep_copy(stimulus);
        json_object_set_new(sargs, "agent", json_string(c->agents[agent].name));
        if (!json_object_get(sargs, "type"))
            json_object_set_new(sargs, "type", json_string("CONVERSATION"));
        json_t *ignored = NULL;
        int rc = coord_session_change(c, "agent.stimulus", sargs, &ignored, e);
        json_decref(sargs);
        json_decref(ignored);
        if (rc)
            return rc;
    }
    coord_session_t *s = c->session;
    s->pending = COORD_SESSION_ACT;
    s->agent = (uint32_t)agent;
    s_go(c);
    return 1;
}

static int
s_cmd_run(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    coord_session_t *s = c->session;
    coord_sworld_t *w = coord_session_world_arg(s, args, "world", e);
    if (!w)
        return -1;
    json_t *steps = json_object_get(args, "steps");
    if (!json_is_integer(steps) || json_integer_value(steps) < 1 ||
        json_integer_value(steps) > S_MAX_RUN_STEPS) {
        coord_session_fail(e, 400, "bad_request", "\"steps\": expected 1..%d", S_MAX_RUN_STEPS);
        return -1;
    }
    int64_t seconds = w->step_seconds;
    const char *step = json_string_value(json_object_get(args, "step"));
    if (json_object_get(args, "step") && !json_is_null(json_object_get(args, "step")) &&
        (!step || !tt_duration_parse(step, &seconds))) {
        coord_session_fail(e, 400, "bad_request",
                           "\"step\": expected an ISO 8601 duration such as \"PT10M\"");
        return -1;
    }
    if (w->n_members == 0) {
        coord_session_fail(e, 400, "bad_request", "world \"%s\" has no agents to run", w->name);
        return -1;
    }
    s->pending = COORD_SESSION_RUN;
    s->world = (size_t)(w - s->worlds);
    s->steps_left = (uint32_t)json_integer_value(steps);
    s->run_seconds = seconds;
    json_decref(s->collected);
    s->collected = json_array();
    s_go(c);
    return 1;
}

static int
s_cmd_checkpoint(coord_t *c, const json_t *args, json_t **result, coord_session_error_t *e)
{
    const char *name = json_string_value(json_object_get(args, "name"));
    if (!name || !*name || strlen(name) > 256) {
        coord_session_fail(e, 400, "bad_request", "\"name\": 1 to 256 bytes of text");
        return -1;
    }
    if (coord_record_checkpoint(c, name)) {
        coord_session_fail(e, 500, "failed", "cannot write the log");
        return -1;
    }
    *result = json_pack("{s:i}", "step", (int)c->committed_step);
    return 0;
}

/* ------------------------------------------------------------------ requests */

static int
s_dispatch(coord_t *c, const char *command, const json_t *args, json_t **result,
           coord_session_error_t *e)
{
    if (!strcmp(command, "agent.act"))
        return s_cmd_act(c, args, e);
    if (!strcmp(command, "world.run"))
        return s_cmd_run(c, args, e);
    if (!strcmp(command, "proposition.check"))
        return coord_session_judge(c, args, e);
    if (!strcmp(command, "llm.ask"))
        return coord_session_ask_model(c, args, e);
    if (!strcmp(command, "checkpoint"))
        return s_cmd_checkpoint(c, args, result, e);
    if (!strcmp(command, "end")) {
        c->session->answered_on_end = true;
        c->state = COORD_RUN_DONE;
        return 1; /* answered once SimEnd is written (coord_session_finish) */
    }
    int rc = coord_session_change(c, command, args, result, e);
    if (rc != -2)
        return rc;
    rc = coord_session_ask(c, command, args, result, e);
    if (rc != -2)
        return rc;
    coord_session_fail(e, 400, "bad_request", "unknown command \"%s\" (see docs/session-api.md)",
                       command);
    return -1;
}

static int
s_on_request(zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    coord_t *c = arg;
    coord_session_t *s = c->session;
    zframe_t *f = zframe_recv(pipe);
    if (!f)
        return 0;
    coord_session_error_t e = {0};
    json_error_t je;
    json_t *req =
        json_loadb((const char *)zframe_data(f), zframe_size(f), JSON_REJECT_DUPLICATES, &je);
    zframe_destroy(&f);
    const char *command = json_string_value(json_object_get(req, "command"));
    json_t *result = NULL;
    int rc = -1;
    if (!req)
        coord_session_fail(&e, 400, "bad_request", "malformed JSON at line %d column %d: %s",
                           je.line, je.column, je.text);
    else if (!json_is_object(req) || !command)
        coord_session_fail(&e, 400, "bad_request",
                           "a request is a JSON object with a \"command\" string");
    else if (c->state == COORD_RUN_DONE || s->pending != COORD_SESSION_IDLE)
        coord_session_fail(&e, 503, "busy", "the session is ending");
    else
        rc = s_dispatch(c, command, req, &result, &e);
    json_decref(req);
    if (rc < 0)
        coord_session_answer_error(s, &e);
    else if (rc == 0)
        coord_session_answer_result(s, result);
    /* rc > 0: answered when its steps commit, or at the end */
    coord_batch_flush(c); /* the Steps a command dispatched */
    return c->state == COORD_RUN_DONE ? -1 : 0;
}

int
coord_session_start(coord_t *c, char **errmsg)
{
    coord_session_t *s = c->session;
    coord_session_http_opts_t o = {.address = c->opts.http,
                                   .tls_cert = c->opts.tls_cert,
                                   .tls_key = c->opts.tls_key,
                                   .out_dir = c->out_dir};
    tt_err_t err = coord_session_http_start(&o, &s->http, &s->pipe, errmsg);
    if (err)
        return err == TT_EINVAL ? 2 : 1;
    zloop_reader(c->loop, s->pipe, s_on_request, c);
    if (!c->opts.quiet)
        fprintf(stderr, "troupe: session at %s (token in %s/session.token)\n",
                coord_session_http_url(s->http), c->out_dir);
    TT_LOG_INFO("session at %s", coord_session_http_url(s->http));
    return 0;
}

char *
coord_session_created_agent(const Tt__Session *rec)
{
    if (strcmp(rec->op, "agent.create"))
        return NULL;
    json_t *name = tt_json_extract(rec->effect_json, strlen(rec->effect_json), "spec.persona.name");
    char *copy = json_is_string(name) ? tt_strdup(json_string_value(name)) : NULL;
    json_decref(name);
    return copy;
}

bool
coord_session_ended(const coord_t *c)
{
    return c->session && c->session->answered_on_end;
}

void
coord_session_finish(coord_t *c)
{
    coord_session_t *s = c->session;
    if (!s || !s->http)
        return;
    if (s->answered_on_end) {
        char hex[TT_SHA256_HEX_LEN + 1] = "";
        tt_hex(tt_tlog_last_hash(c->log), TT_SHA256_LEN, hex);
        coord_session_answer_result(
            s, json_pack("{s:i, s:s}", "steps", (int)c->committed_step, "final_hash", hex));
    } else if (s->pending != COORD_SESSION_IDLE) {
        coord_session_error_t e = {0};
        coord_session_fail(&e, 500, "failed", "%s",
                           c->failure ? c->failure : "the session was interrupted");
        coord_session_answer_error(s, &e);
    }
    coord_session_http_stop(&s->http);
}

/* ------------------------------------------------------------------ resume */

tt_err_t
coord_session_resume_record(coord_t *c, const Tt__Session *rec, char **errmsg)
{
    json_error_t je;
    json_t *effect = json_loads(rec->effect_json, JSON_REJECT_DUPLICATES, &je);
    if (!effect) {
        *errmsg = tt_asprintf("a %s record is not JSON: %s", rec->op, je.text);
        return TT_ECORRUPT;
    }
    tt_err_t err = coord_session_apply(c, rec->op, effect, errmsg);
    json_decref(effect);
    return err;
}

void
coord_session_resume_step(coord_t *c, const Tt__StepCommit *sc)
{
    coord_session_t *s = c->session;
    int64_t at = 0;
    if (!tt_datetime_parse(sc->datetime, &at))
        return;
    if (sc->kind && !strcmp(sc->kind, "agent")) {
        coord_world_set_clock(c->world, at);
        return;
    }
    coord_sworld_t *w =
        sc->world ? coord_session_world(s, sc->world) : (s->n_worlds ? &s->worlds[0] : NULL);
    if (w) {
        w->now = at;
        w->steps++;
    }
    coord_world_begin_step_at(c->world, at);
}
