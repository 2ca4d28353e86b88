/*  tt_quality -- TinyTroupe's ActionGenerator quality checks, the parts that
 *  are text: the judge's request, its verdict, the feedback a regeneration
 *  sees and the direct-correction request.
 *
 *  A turn's tentative actions (DONE left out) are judged by the model against
 *  the enabled propositions -- persona adherence, self-consistency, fluency,
 *  suitability -- each scored 0..TT_QUALITY_MAX_SCORE; a check passes at
 *  QUALITY_THRESHOLD or above. Similarity is not a model call: the character
 *  Jaccard similarity to the agent's last action must stay under
 *  TT_QUALITY_MAX_SIMILARITY. TinyTroupe asks one call per proposition; here
 *  one judge call scores all enabled propositions at once (fewer calls, the
 *  same verdict rule). The state machine that runs the calls is agentd's.
 */
#ifndef TT_QUALITY_H
#define TT_QUALITY_H

#include <jansson.h>
#include <stdbool.h>

#include "tt_config.h"
#include "tt_err.h"

#define TT_QUALITY_MAX_SCORE      9
#define TT_QUALITY_MAX_SIMILARITY 0.6 /* TinyTroupe's max_action_similarity */
/* The first words of the user message a regeneration adds. */
#define TT_QUALITY_FEEDBACK_PREFIX "QUALITY CHECKS FAILED."
#define TT_QUALITY_JUDGE_SCHEMA    "action_quality"
#define TT_QUALITY_CORRECT_SCHEMA  "action_correction"

/* Does cfg ask for any check at all (ENABLE_QUALITY_CHECKS and one check on)? */
bool tt_quality_enabled(const tt_config_t *cfg);
/* Does cfg ask the model to judge (a proposition check is on)? */
bool tt_quality_needs_judge(const tt_config_t *cfg);

/* The judge's messages: who the agent is (persona_prompt, the agent's system
 * prompt), its last action (may be NULL), the tentative actions, the enabled
 * checks. Caller owns. */
json_t *tt_quality_judge_messages(const char *persona_prompt, const json_t *last_action,
                                  const json_t *actions, const tt_config_t *cfg);
/* The judge's answer schema. Caller owns. */
json_t *tt_quality_judge_schema(void);
/* Checker for the judge's answer: {"scores":[{"check","value","justification"}]}
 * normalised to {check: {value, justification}}. */
tt_err_t tt_quality_judge_check(const json_t *root, const void *arg, json_t **normal, char **why);

typedef struct {
    bool passed;
    int total;      /* the sum of the scores (similarity counts as 0 or MAX) */
    char *feedback; /* what failed, for the regeneration (caller frees; NULL if passed) */
} tt_quality_verdict_t;

/* The verdict on actions from the judge's normalised answer (NULL when no
 * proposition was asked) and the local similarity check. */
void tt_quality_verdict(const json_t *judged, const json_t *last_action, const json_t *actions,
                        const tt_config_t *cfg, tt_quality_verdict_t *out);
void tt_quality_verdict_fini(tt_quality_verdict_t *v);

/* The actions worth judging: the answer's "actions" without DONE. Caller owns. */
json_t *tt_quality_tentative(const json_t *answer);

/* A copy of messages with the rejected answer and the feedback appended, for
 * the regeneration. Caller owns. */
json_t *tt_quality_regeneration_messages(const json_t *messages, const json_t *actions,
                                         const char *feedback);
/* The direct correction's answer schema: {"actions":[{type, content, target}]}.
 * Caller owns. */
json_t *tt_quality_correction_schema(void);
/* The direct-correction request's messages: rewrite actions following the
 * feedback, same JSON shape ({"actions":[...]}). Caller owns. */
json_t *tt_quality_correction_messages(const char *persona_prompt, const json_t *actions,
                                       const char *feedback);

#endif
