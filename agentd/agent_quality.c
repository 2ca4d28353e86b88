/*  agent_quality -- the turn's quality checks (see the header).
 *
 *      TURN ──> JUDGE ──pass──> ACTIONS (the attempt taken)
 *                 │ fail
 *                 ├─ regenerations left ──> TURN (with the feedback) ──> JUDGE
 *                 ├─ corrections left ────> CORRECT ──> JUDGE
 *                 └─ none left ──> ACTIONS (the best attempt, CONTINUE_ON_FAILURE)
 *                                  or the step fails
 *  A follow-up turn call (after RECALL or CONSULT) is checked the same way.
 */
#define TT_LOG_MODULE "quality"
#include "agent_quality.h"

#include <string.h>

#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_quality.h"
#include "tt_turn.h"

static void
s_reset(agent_turn_t *t)
{
    t->qc_stage = AGENT_QUALITY_ORIGINAL;
    json_decref(t->qc_messages);
    json_decref(t->qc_best);
    t->qc_messages = t->qc_best = NULL;
    t->qc_best_total = -1;
    t->qc_regenerations = t->qc_corrections = 0;
    free(t->qc_feedback);
    t->qc_feedback = NULL;
}

void
agent_quality_fini(agent_turn_t *t)
{
    s_reset(t);
}

agent_turn_phase_t
agent_quality_next(agent_turn_t *t)
{
    if (!tt_quality_enabled(&t->a->config))
        return PH_ACTIONS;
    if (t->qc_stage == AGENT_QUALITY_ORIGINAL)
        t->qc_best_total = -1;
    return PH_JUDGE;
}

json_t *
agent_quality_messages(agent_turn_t *t)
{
    return t->qc_stage == AGENT_QUALITY_REGENERATE && t->qc_messages ? t->qc_messages : t->messages;
}

const char *
agent_quality_purpose(const agent_turn_t *t)
{
    if (t->qc_stage == AGENT_QUALITY_REGENERATE)
        return "regenerate";
    return t->followups ? "followup" : "turn";
}

/* The attempt judged: taken (the turn goes on to its actions). */
static void
s_take_answer(agent_turn_t *t, json_t *answer)
{
    if (answer != t->answer) {
        json_decref(t->answer);
        t->answer = json_incref(answer);
    }
    s_reset(t);
    t->phase = PH_ACTIONS;
}

/* Every attempt failed. */
static void
s_give_up(agent_turn_t *t)
{
    const tt_config_t *cfg = &t->a->config;
    TT_LOG_INFO("%s: step %u: no attempt passed the quality checks (best total %d)", t->a->name,
                t->step->step, t->qc_best_total);
    if (!cfg->qc_continue_on_failure) {
        char *fb = t->qc_feedback ? tt_strdup(t->qc_feedback) : tt_strdup("");
        s_reset(t);
        agent_turn_fail(
            t, "the actions failed the quality checks (CONTINUE_ON_FAILURE=False): %.300s", fb);
        free(fb);
        return;
    }
    json_t *best = json_incref(t->qc_best ? t->qc_best : t->answer);
    s_take_answer(t, best);
    json_decref(best);
}

static void
s_after_failure(agent_turn_t *t, json_t *tentative)
{
    const tt_config_t *cfg = &t->a->config;
    if (t->qc_stage != AGENT_QUALITY_CORRECT && cfg->qc_regeneration &&
        t->qc_regenerations < cfg->action_max_attempts) {
        t->qc_regenerations++;
        t->qc_stage = AGENT_QUALITY_REGENERATE;
        json_decref(t->qc_messages);
        t->qc_messages = tt_quality_regeneration_messages(t->messages, tentative, t->qc_feedback);
        t->phase = PH_TURN;
        return;
    }
    if (cfg->qc_direct_correction && t->qc_corrections < cfg->action_max_attempts) {
        t->qc_corrections++;
        t->qc_stage = AGENT_QUALITY_CORRECT;
        t->phase = PH_CORRECT;
        return;
    }
    s_give_up(t);
}

void
agent_quality_judge(agent_turn_t *t)
{
    const tt_config_t *cfg = &t->a->config;
    json_t *tentative = tt_quality_tentative(t->answer);
    json_t *judged = NULL;
    if (!json_array_size(tentative)) { /* only DONE: nothing to judge */
        json_decref(tentative);
        s_take_answer(t, t->answer);
        return;
    }
    if (tt_quality_needs_judge(cfg)) {
        if (!t->result) {
            json_t *m =
                tt_quality_judge_messages(t->a->system_prompt, t->a->last_action, tentative, cfg);
            json_t *schema = tt_quality_judge_schema();
            tt_llm_request_t *req =
                tt_llm_request_chat("quality", m, TT_QUALITY_JUDGE_SCHEMA, schema);
            json_decref(m);
            json_decref(schema);
            tt_llm_request_set_checker(req, tt_quality_judge_check, NULL);
            tt_llm_request_set_seed(req, t->a->seed);
            if (!agent_turn_call(t, &req)) {
                json_decref(tentative);
                return;
            }
        }
        tt_llm_result_t *r = agent_turn_take(t);
        if (!r) {
            json_decref(tentative);
            return;
        }
        judged = r->parsed ? json_incref(r->parsed) : json_object();
        tt_llm_result_destroy(&r);
    }
    tt_quality_verdict_t v;
    tt_quality_verdict(judged, t->a->last_action, tentative, cfg, &v);
    json_decref(judged);
    if (v.total > t->qc_best_total) {
        json_decref(t->qc_best);
        t->qc_best = json_incref(t->answer);
        t->qc_best_total = v.total;
    }
    if (v.passed) {
        TT_LOG_DEBUG("%s: step %u: actions passed the quality checks (%d)", t->a->name,
                     t->step->step, v.total);
        json_decref(tentative);
        tt_quality_verdict_fini(&v);
        s_take_answer(t, t->answer);
        return;
    }
    TT_LOG_INFO("%s: step %u: actions rejected by the quality checks (total %d)", t->a->name,
                t->step->step, v.total);
    free(t->qc_feedback);
    t->qc_feedback = v.feedback;
    v.feedback = NULL;
    s_after_failure(t, tentative);
    json_decref(tentative);
}

static tt_err_t
s_check_correction(const json_t *root, const void *arg, json_t **normal, char **why)
{
    (void)arg;
    const json_t *list = json_object_get(root, "actions");
    if (!json_is_array(list)) {
        *why = tt_strdup("the answer has no \"actions\" array");
        return TT_ELLM;
    }
    *normal = json_incref((json_t *)list);
    return TT_OK;
}

/* The answer with each tentative action's content replaced by the
 * correction's (type and target stay: a correction rephrases). */
static json_t *
s_corrected(const json_t *answer, const json_t *corrections)
{
    json_t *out = json_deep_copy(answer);
    json_object_del(out, "_raw");
    size_t i, k = 0;
    json_t *a;
    json_array_foreach(json_object_get(out, "actions"), i, a)
    {
        if (!json_is_object(a) || !strcmp(tt_json_str(a, "type", ""), "DONE"))
            continue;
        const char *text = tt_json_str(json_array_get(corrections, k++), "content", NULL);
        if (text && strlen(text) <= TT_MAX_CONTENT_BYTES && tt_utf8_valid(text, strlen(text)))
            json_object_set_new(a, "content", json_string(text));
    }
    char *raw = tt_json_compact(out);
    json_object_set_new(out, "_raw", json_string(raw));
    free(raw);
    return out;
}

void
agent_quality_correct(agent_turn_t *t)
{
    if (!t->result) {
        json_t *tentative = tt_quality_tentative(t->answer);
        json_t *m = tt_quality_correction_messages(t->a->system_prompt, tentative, t->qc_feedback);
        json_decref(tentative);
        json_t *schema = tt_quality_correction_schema();
        tt_llm_request_t *req =
            tt_llm_request_chat("correct", m, TT_QUALITY_CORRECT_SCHEMA, schema);
        json_decref(m);
        json_decref(schema);
        tt_llm_request_set_checker(req, s_check_correction, NULL);
        tt_llm_request_set_seed(req, t->a->seed);
        if (!agent_turn_call(t, &req))
            return;
    }
    tt_llm_result_t *r = agent_turn_take(t);
    if (!r)
        return;
    json_t *fixed = s_corrected(t->answer, r->parsed);
    tt_llm_result_destroy(&r);
    json_decref(t->answer);
    t->answer = fixed;
    t->phase = PH_JUDGE;
}
