/*  tt_quality -- the text of TinyTroupe's action quality checks (see the
 *  header). The wording is ours; what is judged, the 0..9 scale and the
 *  verdict rule (every enabled check at or above the threshold; the total
 *  ranks attempts) follow TinyTroupe's ActionGenerator.
 */
#include "tt_quality.h"

#include <string.h>

#include "tt_buf.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_turn.h"

typedef struct {
    const char *name;
    const char *claim;
    size_t offset; /* the bool in tt_config_t */
} s_check_t;

#define S_CFG(f) offsetof(tt_config_t, f)
static const s_check_t s_checks[] = {
    {"persona_adherence",
     "The actions are what this person, as specified, would do: they fit the persona's "
     "background, personality, beliefs, style of speech and preferences.",
     S_CFG(qc_persona_adherence)},
    {"self_consistency", "The actions do not contradict each other nor what the person did last.",
     S_CFG(qc_selfconsistency)},
    {"fluency",
     "The actions read naturally: no repeated words or phrases, no formulaic or robotic "
     "language.",
     S_CFG(qc_fluency)},
    {"suitability", "The actions suit the situation and whatever the person is tasked with.",
     S_CFG(qc_suitability)},
};
#define S_N_CHECKS (sizeof s_checks / sizeof s_checks[0])

static bool
s_on(const tt_config_t *cfg, const s_check_t *c)
{
    return *(const bool *)((const char *)cfg + c->offset);
}

bool
tt_quality_needs_judge(const tt_config_t *cfg)
{
    for (size_t i = 0; i < S_N_CHECKS; i++)
        if (s_on(cfg, &s_checks[i]))
            return true;
    return false;
}

bool
tt_quality_enabled(const tt_config_t *cfg)
{
    return cfg->quality_checks && (tt_quality_needs_judge(cfg) || cfg->qc_similarity);
}

json_t *
tt_quality_tentative(const json_t *answer)
{
    json_t *out = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(answer, "actions"), i, a)
    {
        if (json_is_object(a) && strcmp(tt_json_str(a, "type", ""), "DONE"))
            json_array_append(out, a);
    }
    return out;
}

json_t *
tt_quality_judge_messages(const char *persona_prompt, const json_t *last_action,
                          const json_t *actions, const tt_config_t *cfg)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    tt_buf_adds(&b, "Judge the actions a simulated person is about to take. Score each claim "
                    "below from 0 (plainly false) to 9 (plainly true) and justify the score in "
                    "one or two sentences. Answer only with JSON: {\"scores\":[{\"check\":NAME,"
                    "\"value\":0-9,\"justification\":TEXT}, ...]}, one entry per claim.\n\n"
                    "CLAIMS:\n");
    for (size_t i = 0; i < S_N_CHECKS; i++)
        if (s_on(cfg, &s_checks[i]))
            tt_buf_addf(&b, "- %s: %s\n", s_checks[i].name, s_checks[i].claim);
    char *acts = tt_json_compact(actions);
    char *last = last_action ? tt_json_compact(last_action) : tt_strdup("none");
    tt_buf_addf(&b, "\nLAST ACTION: %s\n\nACTIONS:\n%s\n", last, acts);
    free(acts);
    free(last);
    json_t *m =
        json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
                  persona_prompt ? persona_prompt : "", "role", "user", "content", tt_buf_str(&b));
    tt_buf_fini(&b);
    TT_ASSERT(m);
    return m;
}

json_t *
tt_quality_judge_schema(void)
{
    json_t *s = json_pack(
        "{s:s, s:{s:{s:s, s:{s:s, s:{s:{s:s}, s:{s:s, s:i, s:i}, s:{s:s}}, s:[s,s,s], s:b}}}, "
        "s:[s], s:b}",
        "type", "object", "properties", "scores", "type", "array", "items", "type", "object",
        "properties", "check", "type", "string", "value", "type", "integer", "minimum", 0,
        "maximum", TT_QUALITY_MAX_SCORE, "justification", "type", "string", "required", "check",
        "value", "justification", "additionalProperties", false, "required", "scores",
        "additionalProperties", false);
    TT_ASSERT(s);
    return s;
}

tt_err_t
tt_quality_judge_check(const json_t *root, const void *arg, json_t **normal, char **why)
{
    (void)arg;
    const json_t *list = json_object_get(root, "scores");
    if (!json_is_array(list)) {
        *why = tt_strdup("the answer has no \"scores\" array");
        return TT_ELLM;
    }
    json_t *out = json_object();
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s)
    {
        const char *check = tt_json_str(s, "check", NULL);
        json_t *v = json_object_get(s, "value");
        if (!check || !json_is_number(v) || json_number_value(v) < 0 ||
            json_number_value(v) > TT_QUALITY_MAX_SCORE) {
            json_decref(out);
            *why = tt_asprintf("score %zu needs a \"check\" and a \"value\" from 0 to %d", i,
                               TT_QUALITY_MAX_SCORE);
            return TT_ELLM;
        }
        json_object_set_new(out, check,
                            json_pack("{s:i, s:s}", "value", (int)json_number_value(v),
                                      "justification", tt_json_str(s, "justification", "")));
    }
    *normal = out;
    return TT_OK;
}

/* The highest Jaccard similarity of an action to the last one (same type). */
static double
s_similarity(const json_t *last_action, const json_t *actions)
{
    double worst = 0;
    size_t i;
    json_t *a;
    if (!last_action)
        return 0;
    json_array_foreach(actions, i, a)
    {
        if (strcmp(tt_json_str(a, "type", ""), tt_json_str(last_action, "type", "")))
            continue;
        double s =
            tt_turn_jaccard(tt_json_str(a, "content", ""), tt_json_str(last_action, "content", ""));
        if (s > worst)
            worst = s;
    }
    return worst;
}

void
tt_quality_verdict(const json_t *judged, const json_t *last_action, const json_t *actions,
                   const tt_config_t *cfg, tt_quality_verdict_t *out)
{
    memset(out, 0, sizeof *out);
    out->passed = true;
    tt_buf_t b;
    tt_buf_init(&b, 0);
    char *acts = tt_json_compact(actions);
    tt_buf_addf(&b, "These actions were about to be taken: %s\nThey failed these checks:\n", acts);
    free(acts);
    for (size_t i = 0; i < S_N_CHECKS; i++) {
        if (!s_on(cfg, &s_checks[i])) {
            out->total += TT_QUALITY_MAX_SCORE; /* a check not asked passes */
            continue;
        }
        const json_t *r = json_object_get(judged, s_checks[i].name);
        int value = r ? (int)tt_json_int(r, "value", 0) : 0; /* not judged: failed */
        out->total += value;
        if (value >= cfg->quality_threshold)
            continue;
        out->passed = false;
        tt_buf_addf(&b, "- %s (score %d of %d, %d needed): %s %s\n", s_checks[i].name, value,
                    TT_QUALITY_MAX_SCORE, cfg->quality_threshold,
                    r ? tt_json_str(r, "justification", "") : "the judge gave no score.",
                    s_checks[i].claim);
    }
    if (cfg->qc_similarity) {
        double sim = s_similarity(last_action, actions);
        if (sim >= TT_QUALITY_MAX_SIMILARITY) {
            out->passed = false;
            tt_buf_addf(&b, "- similarity: an action is %.0f%% the same as the last one.\n",
                        sim * 100);
        } else {
            out->total += TT_QUALITY_MAX_SCORE;
        }
    } else {
        out->total += TT_QUALITY_MAX_SCORE;
    }
    if (!out->passed)
        out->feedback = tt_strdup(tt_buf_str(&b));
    tt_buf_fini(&b);
}

void
tt_quality_verdict_fini(tt_quality_verdict_t *v)
{
    free(v->feedback);
    v->feedback = NULL;
}

json_t *
tt_quality_regeneration_messages(const json_t *messages, const json_t *actions,
                                 const char *feedback)
{
    json_t *m = json_deep_copy(messages);
    char *acts = tt_json_compact(actions);
    char *text = tt_asprintf(
        "%s Your last answer was not taken: its actions %s were judged and rejected.\n%s\n"
        "Answer again with better actions that fix these problems -- change them as much as "
        "needed, or simply end with DONE if you cannot do better: acting poorly is worse than "
        "not acting. Same JSON object as before.",
        TT_QUALITY_FEEDBACK_PREFIX, acts, feedback ? feedback : "");
    json_array_append_new(m, json_pack("{s:s, s:s}", "role", "user", "content", text));
    free(text);
    free(acts);
    return m;
}

json_t *
tt_quality_correction_messages(const char *persona_prompt, const json_t *actions,
                               const char *feedback)
{
    char *acts = tt_json_compact(actions);
    char *text = tt_asprintf(
        "Rewrite these actions of the person above so that they pass the checks they failed. "
        "Keep each action's type and target; change only its content, and as little as needed. "
        "Answer only with JSON: {\"actions\":[{\"type\",\"content\",\"target\"}, ...]}.\n\n"
        "FEEDBACK:\n%s\n\nACTIONS:\n%s\n",
        feedback ? feedback : "", acts);
    json_t *m = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
                          persona_prompt ? persona_prompt : "", "role", "user", "content", text);
    free(text);
    free(acts);
    TT_ASSERT(m);
    return m;
}

json_t *
tt_quality_correction_schema(void)
{
    json_t *s = json_pack(
        "{s:s, s:{s:{s:s, s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}}, s:[s,s,s], s:b}}}, s:[s], "
        "s:b}",
        "type", "object", "properties", "actions", "type", "array", "items", "type", "object",
        "properties", "type", "type", "string", "content", "type", "string", "target", "type",
        "string", "required", "type", "content", "target", "additionalProperties", false,
        "required", "actions", "additionalProperties", false);
    TT_ASSERT(s);
    return s;
}
