/*  agent_quality -- the turn's quality checks (TinyTroupe's ActionGenerator
 *  with ENABLE_QUALITY_CHECKS): between the turn call and the actions, the
 *  tentative actions are judged; a rejected answer is regenerated with the
 *  judge's feedback (ENABLE_REGENERATION), then corrected directly
 *  (ENABLE_DIRECT_CORRECTION), each at most [ActionGenerator] MAX_ATTEMPTS
 *  times; when every attempt fails the best-scored one is kept
 *  (CONTINUE_ON_FAILURE) or the step fails. Every judge, regeneration and
 *  correction is a model call made through agent_turn_call(), so it is
 *  recorded with the step and served from the log on replay. The texts are
 *  tt_quality's.
 */
#ifndef AGENT_QUALITY_H
#define AGENT_QUALITY_H

#include "agent_turn_impl.h"

typedef enum {
    AGENT_QUALITY_ORIGINAL = 0, /* the turn call's own answer */
    AGENT_QUALITY_REGENERATE,   /* a turn call with the feedback */
    AGENT_QUALITY_CORRECT,      /* a direct correction */
} agent_quality_stage_t;

/* After the turn call: PH_JUDGE when checks are on, else PH_ACTIONS. */
agent_turn_phase_t agent_quality_next(agent_turn_t *t);
/* The messages the next turn call sends (borrowed): the regeneration's while
 * regenerating, else t->messages. */
json_t *agent_quality_messages(agent_turn_t *t);
/* The turn call's purpose for the log. */
const char *agent_quality_purpose(const agent_turn_t *t);
/* PH_JUDGE and PH_CORRECT. */
void agent_quality_judge(agent_turn_t *t);
void agent_quality_correct(agent_turn_t *t);
/* Free what the checks hold. */
void agent_quality_fini(agent_turn_t *t);

#endif
