/*  coord_exp_judge -- validation and propositions over a run's log, each
 *  answer recorded (validation.tlog, proposition.tlog) and replayable.
 *
 *  The prompts follow the session's (coord_session_judge.c): the user message
 *  is "Expectations: ...\n\n<the person>" or "Proposition: ...\n\n<what
 *  happened>", so the offline model's lexical judge reads both the same way.
 */
#include "coord_exp_judge.h"

#include <string.h>

#include "coord_extract_impl.h"
#include "coord_factory_calls.h"
#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_mem.h"

#define S_ACCOUNT_CAP ((size_t)1 << 20)

static const char s_system_validate[] =
    "You validate a simulated person against expectations, as a careful interviewer would. You "
    "get the expectations, who the person is (their specification) and everything they "
    "perceived and did in a simulation. Answer with JSON: {\"score\": a number from 0.0 (the "
    "person contradicts the expectations) to 1.0 (the person fits them entirely), "
    "\"justification\": TEXT}.";
/* The session's judge asks with the same words (coord_session_judge.c), so
 * a claim judged live and over the log is the same question. */
const char coord_exp_system_check[] =
    "You judge whether a proposition about a simulation is true, from what happened. Answer "
    "with JSON: {\"value\": true or false, \"justification\": TEXT}.";
const char coord_exp_system_score[] =
    "You judge how true a proposition about a simulation is, from what happened, on a scale "
    "from 0 (certainly false) to 9 (certainly true). Answer with JSON: {\"value\": 0..9, "
    "\"justification\": TEXT}.";

typedef enum { S_VALIDATE, S_CHECK, S_SCORE } s_kind_t;

static tt_err_t
s_check_answer(const json_t *root, const void *arg, json_t **parsed, char **why)
{
    (void)parsed;
    s_kind_t kind = (s_kind_t)(uintptr_t)arg;
    const char *key = kind == S_VALIDATE ? "score" : "value";
    json_t *v = json_object_get(root, key);
    bool ok = kind == S_CHECK ? json_is_boolean(v)
              : kind == S_SCORE
                  ? json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 9
                  : json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) <= 1;
    if (!ok) {
        *why = tt_strdup(kind == S_CHECK   ? "\"value\" must be true or false"
                         : kind == S_SCORE ? "\"value\" must be an integer from 0 to 9"
                                           : "\"score\" must be a number from 0 to 1");
        return TT_ELLM;
    }
    return TT_OK;
}

static tt_llm_request_t *
s_request(s_kind_t kind, const char *user, uint64_t seed)
{
    const char *system = kind == S_VALIDATE ? s_system_validate
                         : kind == S_CHECK  ? coord_exp_system_check
                                            : coord_exp_system_score;
    const char *key = kind == S_VALIDATE ? "score" : "value";
    const char *type = kind == S_VALIDATE ? "number" : kind == S_CHECK ? "boolean" : "integer";
    json_t *msgs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", system,
                             "role", "user", "content", user);
    json_t *schema = json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:[s,s], s:b}", "type", "object",
                               "properties", key, "type", type, "justification", "type", "string",
                               "required", key, "justification", "additionalProperties", 0);
    const char *task = kind == S_VALIDATE ? "validation"
                       : kind == S_CHECK  ? "proposition"
                                          : "proposition_score";
    tt_llm_request_t *req = tt_llm_request_chat("judge", msgs, task, schema);
    tt_llm_request_set_checker(req, s_check_answer, (const void *)(uintptr_t)kind);
    tt_llm_request_set_temperature(req, 0.0);
    tt_llm_request_set_seed(req, seed);
    json_decref(msgs);
    json_decref(schema);
    return req;
}

static long
s_find(const coord_xrun_t *run, const char *name)
{
    for (size_t i = 0; i < run->n_agents; i++)
        if (!strcmp(run->agents[i].name, name))
            return (long)i;
    return -1;
}

/* Open the run and the recorded calls: the shared start of both tools. */
static tt_err_t
s_open(const coord_exp_judge_spec_t *spec, const tt_config_t *cfg, const char *kind,
       json_t *spec_json, coord_xrun_t **run, coord_fcalls_t **fc, char **errmsg)
{
    tt_err_t err = coord_xrun_load(spec->run_dir, run, errmsg);
    if (err)
        return TT_EINVAL;
    if (spec->agent && s_find(*run, spec->agent) < 0) {
        *errmsg = tt_asprintf("%s: no agent \"%s\" in this run", (*run)->path, spec->agent);
        return TT_EINVAL;
    }
    char *name = tt_asprintf("%s.tlog", kind);
    json_object_set_new(spec_json, "final_hash", json_string((*run)->final_hash));
    coord_fcalls_opts_t fo = {.kind = kind,
                              .spec = spec_json,
                              .seed = (*run)->seed,
                              .replay_path = spec->replay_path,
                              .replay_name = name,
                              .concurrency = spec->concurrency,
                              .reasks = -1};
    err = coord_fcalls_open(cfg, &fo, fc, errmsg);
    if (!err) {
        char *log_path = tt_asprintf("%s/%s", spec->run_dir, name);
        err = coord_fcalls_begin(*fc, log_path, errmsg);
        free(log_path);
    }
    free(name);
    return err == TT_ENOTFOUND || err == TT_ECORRUPT ? TT_EINVAL : err;
}

static json_t *
s_llm_json(coord_fcalls_t *fc)
{
    coord_fcalls_stats_t st;
    coord_fcalls_stats(fc, &st);
    tt_llm_t *llm = coord_fcalls_llm(fc);
    return json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "provider", coord_fcalls_provider(fc),
                     "model", tt_llm_model(llm), "offline", tt_llm_is_offline(llm), "calls",
                     (json_int_t)st.calls, "replayed", (json_int_t)st.replayed, "failed",
                     (json_int_t)st.failed);
}

tt_err_t
coord_exp_validate(const coord_exp_judge_spec_t *spec, const tt_config_t *cfg, json_t **doc,
                   char **errmsg)
{
    *doc = NULL;
    *errmsg = NULL;
    coord_xrun_t *run = NULL;
    coord_fcalls_t *fc = NULL;
    json_t *sj = json_pack("{s:s, s:s, s:s?}", "run", spec->run_dir, "expectations", spec->text,
                           "agent", spec->agent);
    tt_err_t err = s_open(spec, cfg, "validation", sj, &run, &fc, errmsg);
    if (err)
        goto fail;
    size_t n = spec->agent ? 1 : run->n_agents;
    tt_llm_request_t **reqs = tt_calloc(n + 1, sizeof *reqs);
    char **keys = tt_calloc(n + 1, sizeof *keys);
    tt_llm_result_t **res = tt_calloc(n + 1, sizeof *res);
    for (size_t k = 0; k < n; k++) {
        long i = spec->agent ? s_find(run, spec->agent) : (long)k;
        const coord_xagent_t *a = &run->agents[i];
        char *persona = tt_json_compact(a->persona);
        char *history = coord_xrun_history(run, i, S_ACCOUNT_CAP);
        char *user = tt_asprintf("%s\n\nThe person: %s\nSpecification: %s\n"
                                 "What they perceived and did:\n%s",
                                 spec->text, a->name, persona, history);
        reqs[k] = s_request(S_VALIDATE, user, run->seed ^ tt_fnv1a_str(a->name, 0x76616c));
        keys[k] = tt_asprintf("validation/%s", a->name);
        free(user);
        free(history);
        free(persona);
    }
    err = coord_fcalls_run(fc, reqs, (const char *const *)keys, n, res);
    json_t *people = json_array();
    uint32_t failed = 0;
    for (size_t k = 0; !err && k < n; k++) {
        const char *name = keys[k] + strlen("validation/");
        if (res[k]->err) {
            failed++;
            json_array_append_new(
                people,
                json_pack("{s:s, s:n, s:s}", "name", name, "score", "error",
                          res[k]->error_text ? res[k]->error_text : tt_strerror(res[k]->err)));
            continue;
        }
        json_array_append_new(people,
                              json_pack("{s:s, s:O, s:s}", "name", name, "score",
                                        json_object_get(res[k]->parsed, "score"), "justification",
                                        tt_json_str(res[k]->parsed, "justification", "")));
    }
    for (size_t k = 0; k < n; k++) {
        tt_llm_result_destroy(&res[k]);
        free(keys[k]);
    }
    free(reqs);
    free(keys);
    free(res);
    if (err) {
        *errmsg = tt_asprintf("validating: %s", tt_strerror(err));
        json_decref(people);
        goto fail;
    }
    *doc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "tool", "TinyPersonValidator", "run",
                     run->path, "final_hash", run->final_hash, "expectations", spec->text, "people",
                     people, "llm", s_llm_json(fc));
    err = failed ? TT_EAGENT : TT_OK;
fail:
    coord_fcalls_close(&fc);
    coord_xrun_destroy(&run);
    json_decref(sj);
    return err;
}

/* What happened in the step range, one display line per event (the agent's,
 * or everyone's). */
static void
s_account(const coord_xrun_t *run, long only, uint32_t first, uint32_t last, tt_buf_t *out)
{
    size_t lines = 0;
    for (size_t i = 0; i < run->n_agents; i++) {
        if (only >= 0 && (long)i != only)
            continue;
        const coord_xagent_t *a = &run->agents[i];
        for (size_t e = 0; e < a->n_events; e++) {
            const coord_xevent_t *ev = &a->events[e];
            if ((first && ev->step < first) || (last && ev->step > last))
                continue;
            if (!ev->action)
                tt_buf_addf(out, "[%s] %s --> %s: [%s] %s\n", ev->when,
                            *ev->other ? ev->other : "USER", a->name, ev->type, ev->content);
            else if (*ev->other)
                tt_buf_addf(out, "[%s] %s --> %s: [%s] %s\n", ev->when, a->name, ev->other,
                            ev->type, ev->content);
            else
                tt_buf_addf(out, "[%s] %s acts: [%s] %s\n", ev->when, a->name, ev->type,
                            ev->content);
            lines++;
        }
    }
    if (!lines)
        tt_buf_adds(out, "(nothing happened in these steps)\n");
}

tt_err_t
coord_exp_proposition(const coord_exp_judge_spec_t *spec, const tt_config_t *cfg, json_t **doc,
                      char **errmsg)
{
    *doc = NULL;
    *errmsg = NULL;
    coord_xrun_t *run = NULL;
    coord_fcalls_t *fc = NULL;
    json_t *sj = json_pack("{s:s, s:s, s:s?, s:b, s:I, s:I}", "run", spec->run_dir, "proposition",
                           spec->text, "agent", spec->agent, "score", spec->score, "first_step",
                           (json_int_t)spec->first_step, "last_step", (json_int_t)spec->last_step);
    tt_err_t err = s_open(spec, cfg, "proposition", sj, &run, &fc, errmsg);
    if (err)
        goto fail;
    long only = spec->agent ? s_find(run, spec->agent) : -1;
    tt_buf_t b;
    tt_buf_init(&b, S_ACCOUNT_CAP);
    tt_buf_addf(&b, "Proposition: %s\n\nWhat happened (%s%s):\n", spec->text,
                spec->agent ? "agent " : "everyone", spec->agent ? spec->agent : "");
    s_account(run, only, spec->first_step, spec->last_step, &b);
    s_kind_t kind = spec->score ? S_SCORE : S_CHECK;
    tt_llm_request_t *req = s_request(kind, tt_buf_str(&b), run->seed);
    tt_buf_fini(&b);
    const char *key = "proposition";
    tt_llm_result_t *res = NULL;
    err = coord_fcalls_run(fc, &req, &key, 1, &res);
    if (err) {
        *errmsg = tt_asprintf("judging: %s", tt_strerror(err));
        tt_llm_result_destroy(&res);
        goto fail;
    }
    if (res->err) {
        *errmsg = tt_asprintf("the model call failed: %s",
                              res->error_text ? res->error_text : tt_strerror(res->err));
        tt_llm_result_destroy(&res);
        err = TT_ELLM;
        goto fail;
    }
    *doc = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:b, s:O, s:s, s:o}", "tool", "Proposition", "run",
                     run->path, "final_hash", run->final_hash, "proposition", spec->text, "agent",
                     spec->agent, "score", spec->score, "value",
                     json_object_get(res->parsed, "value"), "justification",
                     tt_json_str(res->parsed, "justification", ""), "llm", s_llm_json(fc));
    /* the steps judged: null ends mean from the start, to the end */
    json_object_set_new(*doc, "steps",
                        json_pack("[o, o]",
                                  spec->first_step ? json_integer(spec->first_step) : json_null(),
                                  spec->last_step ? json_integer(spec->last_step) : json_null()));
    tt_llm_result_destroy(&res);
fail:
    coord_fcalls_close(&fc);
    coord_xrun_destroy(&run);
    json_decref(sj);
    return err;
}
