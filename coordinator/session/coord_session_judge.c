/*  coord_session_judge -- the session's own model calls: TinyTroupe's
 *  Proposition (is a claim about an agent, a world or everyone true of what
 *  happened, or how true, 0 to 9?) and llm.ask (one call for the client's
 *  validators, stories and stylers).
 *
 *  The account of what happened is rendered from the log (the agent's
 *  stimuli and actions, the last_n of them, or the first_n). The model's
 *  answer is recorded as a Session record ("proposition", "llm") with the request's
 *  digest, so --replay serves it and a replayed session makes no call. The
 *  call runs on the LLM worker; the loop goes on while it is out.
 */
#define TT_LOG_MODULE "session"
#include "coord_session_impl.h"

#include "coord_exp_judge.h"

#include <string.h>

#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"

#define S_ACCOUNT_CAP ((size_t)1 << 20)
#define S_MAX_N       100000

/* Lines of what the agents in `who` (all when NULL) perceived and did. */
static void
s_account(coord_t *c, const uint32_t *who, size_t n_who, long first_n, long last_n, tt_buf_t *out)
{
    json_t *lines = json_array();
    for (uint32_t step = 1; step <= c->committed_step; step++) {
        if (step >= c->step_records_alloc)
            break;
        tt_tlog_entry_t e;
        if (tt_tlog_read(c->log, c->step_records[step], &e) != TT_OK)
            continue;
        const Tt__StepCommit *sc =
            e.body && e.body->kind_case == TT__RECORD_BODY__KIND_STEP ? e.body->step : NULL;
        for (size_t k = 0; sc && k < sc->n_agents; k++) {
            const Tt__AgentStep *as = sc->agents[k];
            bool wanted = !who;
            for (size_t w = 0; who && w < n_who; w++)
                wanted |= who[w] == as->agent;
            if (!wanted || as->agent >= c->n_agents)
                continue;
            const char *name = c->agents[as->agent].name;
            for (size_t i = 0; as->input && i < as->input->n_stimuli; i++) {
                const Tt__Stimulus *st = as->input->stimuli[i];
                json_array_append_new(lines,
                                      json_sprintf("[%s] %s --> %s: [%s] %s", sc->datetime,
                                                   st->source && *st->source ? st->source : "USER",
                                                   name, st->type, st->content));
            }
            for (size_t i = 0; i < as->n_actions; i++) {
                const Tt__Action *a = as->actions[i];
                if (!strcmp(a->type, "DONE"))
                    continue;
                json_array_append_new(lines,
                                      a->target && *a->target
                                          ? json_sprintf("[%s] %s --> %s: [%s] %s", sc->datetime,
                                                         name, a->target, a->type, a->content)
                                          : json_sprintf("[%s] %s acts: [%s] %s", sc->datetime,
                                                         name, a->type, a->content));
            }
        }
        tt_tlog_entry_fini(&e);
    }
    size_t n = json_array_size(lines), from = 0, to = n;
    if (first_n >= 0 && (size_t)first_n < to)
        to = (size_t)first_n;
    if (last_n >= 0 && (size_t)last_n < to - from)
        from = to - (size_t)last_n;
    for (size_t i = from; i < to; i++)
        if (tt_buf_addf(out, "%s\n", json_string_value(json_array_get(lines, i))) != TT_OK)
            break; /* capped: the oldest lines are what the model sees */
    if (from == to)
        tt_buf_adds(out, "(nothing has happened yet)\n");
    json_decref(lines);
}

/* Who the agents are (TinyTroupe's include_personas): their specs, as JSON. */
static void
s_personas(coord_t *c, const uint32_t *who, size_t n_who, tt_buf_t *out)
{
    tt_buf_adds(out, "\nWho they are:\n");
    size_t n = who ? n_who : c->n_agents;
    for (size_t i = 0; i < n; i++) {
        char *spec = tt_persona_spec_text(c->scenario->agents[who ? who[i] : i].persona);
        tt_buf_addf(out, "%s\n", spec);
        free(spec);
    }
}

static tt_err_t
s_check_answer(const json_t *root, const void *arg, json_t **parsed, char **why)
{
    (void)parsed;
    bool score = arg != NULL;
    json_t *v = json_object_get(root, "value");
    if (score ? !json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 9
              : !json_is_boolean(v)) {
        *why = tt_strdup(score ? "\"value\" must be an integer from 0 to 9"
                               : "\"value\" must be true or false");
        return TT_ELLM;
    }
    return TT_OK;
}

static long
s_count_arg(const json_t *args, const char *key, coord_session_error_t *e)
{
    json_t *v = json_object_get(args, key);
    if (!v || json_is_null(v))
        return -1;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > S_MAX_N) {
        coord_session_fail(e, 400, "bad_request", "\"%s\": expected a count", key);
        return -2;
    }
    return (long)json_integer_value(v);
}

/* Who the proposition is about: an agent, a world's agents, or everyone. */
static bool
s_about(coord_t *c, const json_t *args, uint32_t **who, size_t *n_who, char **label,
        coord_session_error_t *e)
{
    *who = NULL;
    *n_who = 0;
    if (json_object_get(args, "agent")) {
        long a = coord_session_agent_arg(c, args, "agent", e);
        if (a < 0)
            return false;
        *who = tt_calloc(1, sizeof **who);
        (*who)[(*n_who)++] = (uint32_t)a;
        *label = tt_asprintf("agent %s", c->agents[a].name);
    } else if (json_object_get(args, "world")) {
        coord_sworld_t *w = coord_session_world_arg(c->session, args, "world", e);
        if (!w)
            return false;
        *who = tt_calloc(w->n_members + 1, sizeof **who);
        memcpy(*who, w->members, w->n_members * sizeof **who);
        *n_who = w->n_members;
        *label = tt_asprintf("world %s", w->name);
    } else {
        *label = tt_strdup("everyone");
    }
    return true;
}

static void
s_record_and_answer(coord_t *c, const tt_llm_result_t *r)
{
    coord_session_t *s = c->session;
    json_t *effect = s->judging;
    s->judging = NULL;
    s->pending = COORD_SESSION_IDLE; /* the state is the placing's or idle's: left as it is */
    if (r->err) {
        coord_session_error_t e = {0};
        coord_session_fail(&e, 500, "failed", "the model call failed: %s",
                           r->error_text ? r->error_text : tt_strerror(r->err));
        coord_session_answer_error(s, &e);
        json_decref(effect);
        return;
    }
    bool proposition = !strcmp(tt_json_str(effect, "op", ""), "proposition");
    char hex[TT_SHA256_HEX_LEN + 1];
    tt_hex(r->digest, TT_SHA256_LEN, hex);
    json_object_set_new(effect, "request_digest", json_string(hex));
    json_object_set_new(effect, "response", json_string(r->content));
    json_t *value = proposition ? json_object_get(r->parsed, "value") : r->parsed;
    json_object_set(effect, "value", value ? value : json_null());
    if (proposition)
        json_object_set_new(effect, "justification",
                            json_string(tt_json_str(r->parsed, "justification", "")));
    char *op = tt_strdup(tt_json_str(effect, "op", ""));
    json_object_del(effect, "op");
    char *text = tt_json_compact(effect);
    Tt__ExchangeTelemetry xt = TT__EXCHANGE_TELEMETRY__INIT;
    xt.has_latency_ms = xt.has_attempts = xt.has_prompt_tokens = true;
    xt.has_completion_tokens = xt.has_replayed = xt.has_cached = true;
    xt.latency_ms = r->latency_ms;
    xt.attempts = r->attempts;
    xt.prompt_tokens = r->prompt_tokens;
    xt.completion_tokens = r->completion_tokens;
    xt.replayed = r->replayed;
    xt.cached = r->cached;
    tt_err_t err = coord_record_session_call(c, op, text, &xt);
    free(text);
    free(op);
    if (err) {
        coord_session_error_t e = {0};
        coord_session_fail(&e, 500, "failed", "cannot write the log");
        coord_session_answer_error(s, &e);
    } else if (proposition) {
        coord_session_answer_result(s, json_pack("{s:O, s:O}", "value",
                                                 json_object_get(effect, "value"), "justification",
                                                 json_object_get(effect, "justification")));
    } else {
        coord_session_answer_result(s, json_pack("{s:s, s:O}", "content", r->content, "value",
                                                 json_object_get(effect, "value")));
    }
    json_decref(effect);
}

/* Send the request (takes it); effect is what its record will hold (takes
 * it, with "op"). Served from the replayed log when it was recorded there. */
static int
s_call(coord_t *c, tt_llm_request_t *req, json_t *effect, coord_session_error_t *e)
{
    coord_session_t *s = c->session;
    if (!c->llm) {
        tt_err_t err = tt_llm_new(&c->config, &c->llm);
        if (err) {
            coord_session_fail(e, 500, "failed", "cannot start the LLM client: %s",
                               tt_strerror(err));
            tt_llm_request_destroy(&req);
            json_decref(effect);
            return -1;
        }
        zloop_reader(c->loop, tt_llm_pipe(c->llm), coord_step_on_judgement, c);
    }
    tt_llm_request_set_seed(req, c->scenario->seed);
    json_decref(s->judging);
    s->judging = effect;
    s->pending = COORD_SESSION_JUDGE;
    uint8_t digest[TT_SHA256_LEN];
    tt_llm_request_digest(c->llm, req, digest);
    const char *recorded = c->replay ? coord_replay_judgement(c->replay, digest) : NULL;
    if (recorded) {
        tt_llm_result_t *r = tt_llm_result_replay(c->llm, &req, recorded);
        s_record_and_answer(c, r);
        tt_llm_result_destroy(&r);
        return 1;
    }
    tt_llm_submit(c->llm, &req, COORD_SESSION_LLM_TAG);
    return 1;
}

int
coord_session_judge(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    const char *claim = json_string_value(json_object_get(args, "proposition"));
    if (!claim || !*claim || strlen(claim) > S_ACCOUNT_CAP) {
        coord_session_fail(e, 400, "bad_request", "\"proposition\": the claim to judge, as text");
        return -1;
    }
    bool score = tt_json_bool(args, "score", false);
    long first_n = s_count_arg(args, "first_n", e), last_n = s_count_arg(args, "last_n", e);
    if (first_n == -2 || last_n == -2)
        return -1;
    uint32_t *who = NULL;
    size_t n_who = 0;
    char *label = NULL;
    if (!s_about(c, args, &who, &n_who, &label, e))
        return -1;
    tt_buf_t b;
    tt_buf_init(&b, S_ACCOUNT_CAP);
    tt_buf_addf(&b, "Proposition: %s\n\nWhat happened (%s):\n", claim, label);
    s_account(c, who, n_who, first_n, last_n, &b);
    if (tt_json_bool(args, "include_personas", false))
        s_personas(c, who, n_who, &b);
    json_t *msgs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
                             score ? coord_exp_system_score : coord_exp_system_check, "role",
                             "user", "content", tt_buf_str(&b));
    tt_buf_fini(&b);
    json_t *schema =
        json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:[s,s], s:b}", "type", "object", "properties",
                  "value", "type", score ? "integer" : "boolean", "justification", "type", "string",
                  "required", "value", "justification", "additionalProperties", 0);
    tt_llm_request_t *req =
        tt_llm_request_chat("judge", msgs, score ? "proposition_score" : "proposition", schema);
    json_decref(msgs);
    json_decref(schema);
    tt_llm_request_set_checker(req, s_check_answer, score ? (void *)1 : NULL);
    json_t *effect = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:b}", "op", "proposition",
                               "proposition", claim, "about", label, "score", score, "first_n",
                               (json_int_t)first_n, "last_n", (json_int_t)last_n,
                               "include_personas", tt_json_bool(args, "include_personas", false));
    free(who);
    free(label);
    return s_call(c, req, effect, e);
}

/* llm.ask: one model call for the client's own purposes (TinyTroupe's
 * validator, story, enricher, styler, normalizer), recorded and replayable
 * like every call that decides something. */
int
coord_session_ask_model(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    const char *task = json_string_value(json_object_get(args, "task"));
    const char *system = json_string_value(json_object_get(args, "system"));
    const char *user = json_string_value(json_object_get(args, "user"));
    json_t *schema = json_object_get(args, "schema");
    if (!task || !*task || strlen(task) > 64 ||
        strspn(task, "abcdefghijklmnopqrstuvwxyz_") != strlen(task)) {
        coord_session_fail(e, 400, "bad_request",
                           "\"task\": a name such as \"story\" "
                           "(lower-case letters and _)");
        return -1;
    }
    if (!system || !user || strlen(system) + strlen(user) > S_ACCOUNT_CAP) {
        coord_session_fail(e, 400, "bad_request",
                           "\"system\" and \"user\": the messages, as text (1 MiB together)");
        return -1;
    }
    if (schema && !json_is_null(schema) && !json_is_object(schema)) {
        coord_session_fail(e, 400, "bad_request", "\"schema\": a JSON schema object or null");
        return -1;
    }
    json_t *msgs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", system,
                             "role", "user", "content", user);
    bool structured = json_is_object(schema);
    tt_llm_request_t *req =
        tt_llm_request_chat(task, msgs, structured ? task : NULL, structured ? schema : NULL);
    json_decref(msgs);
    json_t *effect = json_pack("{s:s, s:s}", "op", "llm", "task", task);
    return s_call(c, req, effect, e);
}

void
coord_session_on_judgement(coord_t *c, tt_llm_result_t *r)
{
    c->llm_calls++;
    if (c->session && c->session->pending == COORD_SESSION_JUDGE)
        s_record_and_answer(c, r);
}
