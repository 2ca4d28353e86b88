/*  tt_turn -- what an agent's turn must look like, and checking that it does.
 *
 *  A turn is one model answer (TinyTroupe 0.6 semantics):
 *    {"actions":[{"type","content","target"},...],
 *     "cognitive_state":{"goals","context":[...],"attention","emotions"}}
 *  tt_turn_validate() is a tt_llm_validate_fn: it repairs, checks and
 *  normalises an answer (types upper-cased and known, strings bounded, context a
 *  list, at most TT_MAX_ACTIONS_PER_TURN actions, nothing after DONE, DONE
 *  appended when missing). It only reads its rules, so it is safe on the LLM
 *  worker thread.
 */
#ifndef TT_TURN_H
#define TT_TURN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "tt_err.h"

#define TT_MAX_ACTIONS_PER_TURN  15
#define TT_MAX_CONTENT_BYTES     8192
#define TT_MAX_ACTION_TYPES      32
#define TT_MAX_TYPE_LEN          40
#define TT_MAX_ACTION_SIMILARITY 0.85

typedef struct {
    char types[TT_MAX_ACTION_TYPES][TT_MAX_TYPE_LEN];
    size_t n_types;
} tt_turn_rules_t;

/* TALK, THINK, REACH_OUT, DONE. */
void tt_turn_rules_init(tt_turn_rules_t *rules);
/* Add an action type (upper-case letters, digits, underscore); false if full or bad. */
bool tt_turn_rules_add(tt_turn_rules_t *rules, const char *type);
bool tt_turn_rules_has(const tt_turn_rules_t *rules, const char *type);

/* Strict JSON schema of a turn for these rules (new reference). */
json_t *tt_turn_schema(const tt_turn_rules_t *rules);

/* tt_llm_check_fn over a tt_turn_rules_t: check and normalise a parsed answer. */
tt_err_t tt_turn_check(const json_t *answer, const void *rules, json_t **parsed, char **why);
/* tt_llm_validate_fn: repair the text, then tt_turn_check. */
tt_err_t tt_turn_validate(const char *content, const void *rules, json_t **parsed, char **why);

/* TinyTroupe's repetition measure: Jaccard similarity of the two texts as
 * multisets of characters (bytes here), in [0, 1]. */
double tt_turn_jaccard(const char *a, const char *b);

#endif
