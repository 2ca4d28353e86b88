/*  tt_prompt -- the messages an agent sends the model, in Troupe's own words.
 *
 *  Order matters for cost: the system message is the stable prefix (rules,
 *  action definitions, the persona) and is identical from step to step, so a
 *  provider can cache it; everything that changes comes after it:
 *    1. system:  rules + action definitions + output format + <persona>JSON</persona>
 *    2. user:    the current cognitive state, relevant memories, the episode
 *                window (first N and last M events, with an omission marker)
 *    3. user:    {"situation":{...}} -- who, when, where, who is reachable, the
 *                available actions and this step's new stimuli -- and the
 *                instruction. Other agents' words appear only as JSON data here,
 *                never as instructions.
 *  A follow-up (after RECALL or CONSULT) appends the model's previous answer and
 *  a {"faculty_results":[...]} message.
 */
#ifndef TT_PROMPT_H
#define TT_PROMPT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "tt_persona.h"
#include "tt_turn.h"

typedef struct {
    const tt_persona_t *persona;
    const char *action_definitions; /* "  - TYPE: what it does" lines from faculties/tools */
    const char *action_constraints; /* extra rule lines from faculties/tools */
    bool rai_harmful_content;
    bool rai_copyright;
} tt_prompt_stable_t;

typedef struct {
    const char *agent;
    const char *datetime;          /* ISO-8601 */
    const char *location;          /* may be NULL */
    const json_t *cognitive;       /* {goals, context[], attention, emotions} or NULL */
    const char *const *accessible; /* names */
    size_t n_accessible;
    size_t more_accessible;      /* reachable but not listed */
    const char *const *memories; /* retrieved semantic memories */
    size_t n_memories;
    const char *const *episodes; /* rendered episode lines, oldest first */
    size_t n_episodes;
    size_t episodes_omitted_after; /* insert the omission marker after this many */
    size_t episodes_omitted;       /* how many were left out (0: no marker) */
    const json_t *stimuli;         /* [{type, content, source}] of this step */
    const tt_turn_rules_t *rules;
} tt_prompt_turn_t;

/* The stable system message. Caller frees. */
char *tt_prompt_system(const tt_prompt_stable_t *s);
/* [system, state, situation] messages. Caller owns. */
json_t *tt_prompt_turn_messages(const char *system, const tt_prompt_turn_t *t);
/* Append the previous answer and the faculty results ([{action, query, result}]). */
void tt_prompt_add_followup(json_t *messages, const char *previous_answer, const json_t *results);

/* One episode line in TinyTroupe's format from an episodic item (TinyTroupe's
 * {"role","content","type","simulation_timestamp"}), content truncated to
 * max_content bytes with " (...)". Caller frees; NULL for items not shown. */
char *tt_prompt_episode_line(const json_t *item, size_t max_content);

/* Messages asking to consolidate an episode into first-person memories. */
json_t *tt_prompt_consolidation_messages(const char *agent, const char *minibio,
                                         const char *const *lines, size_t n_lines,
                                         const char *datetime);
/* Schema of a consolidation answer: {"consolidation":[{"content","type"}]}. */
json_t *tt_prompt_consolidation_schema(void);

#endif
