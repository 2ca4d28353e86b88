/*  coord_results -- DIR/results.json and DIR/results.csv.
 *
 *  results.json: the run's identity (scenario, seed, provider, model, offline,
 *  final hash), per agent (actions by type, model calls, tokens, latency,
 *  failures) and per step (wall time, agents ok/failed). results.csv: one row per
 *  action (step, datetime, agent, type, target, content, stimulus_type,
 *  stimulus, then persona.* columns), RFC 4180 quoting.
 *  Both are rebuilt from log records, so --resume writes complete files.
 */
#ifndef COORD_RESULTS_H
#define COORD_RESULTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "troupe.pb-c.h"
#include "tt_err.h"

typedef struct coord_results coord_results_t;

/* names: agent names in index order (copied). */
coord_results_t *coord_results_new(const Tt__SimBegin *begin);
/* An agent that joined after SimBegin (a session's agent.create); spec_json
 * is its {"type":"TinyPerson","persona":{...}} text. */
void coord_results_add_agent(coord_results_t *r, const char *name, const char *spec_json);
void coord_results_destroy(coord_results_t **self_p);
void coord_results_add_step(coord_results_t *r, const Tt__StepCommit *sc, const Tt__Telemetry *tel);
void coord_results_note(coord_results_t *r, const char *key, const char *text);
/* Agent-steps added so far, how many of them failed or timed out, and the
 * first failure as "NAME at step N: error" (borrowed until destroy; NULL when
 * none failed). */
void coord_results_failures(const coord_results_t *r, uint64_t *agent_steps, uint64_t *failed,
                            const char **first);
/* Whether more agent-steps failed than allowed: max_steps when >= 0, else
 * max_share of all agent-steps. When so, *why (caller frees) says how many
 * and which failed first. */
bool coord_results_too_many_failures(const coord_results_t *r, long max_steps, double max_share,
                                     char **why);
/* A top-level field of results.json (takes value). */
void coord_results_set(coord_results_t *r, const char *key, json_t *value);
/* An agent's persona as CSV columns, from its spec text: "persona.age",
 * "persona.occupation.title", ... -> text (short scalars; lists of scalars
 * joined with "; "). New reference; {} for a spec that does not parse. */
json_t *coord_results_persona_columns(const char *spec_json);
/* The same for agents in order, remembering the last: copies of one persona
 * (the same but for the name) share one columns object. */
typedef struct {
    json_t *rest;    /* the last persona without its name */
    json_t *columns; /* and its columns */
} coord_persona_memo_t;
json_t *coord_results_persona_columns_next(coord_persona_memo_t *m, const char *spec_json);
void coord_persona_memo_fini(coord_persona_memo_t *m);
/* Write DIR/results.json and DIR/results.csv. TT_EIO when either cannot be
 * written (logged here, naming the file). */
tt_err_t coord_results_write(coord_results_t *r, const char *dir, const char *final_hash_hex,
                             const char *status);

#endif
