/*  agent_turn -- one agent's turn for one step, as an explicit state machine.
 *
 *  A turn needs zero or more model calls in a fixed order: ground documents
 *  (once), embed the retrieval query, the turn call, follow-ups after RECALL or
 *  CONSULT (at most AGENT_MAX_FOLLOWUPS), consolidation, embedding the new
 *  memories. Each call is served from the step's recorded exchanges when its
 *  request digest is among them (replay, rebuild), else submitted to the LLM
 *  client; the turn then waits in its current phase and resumes in
 *  agent_turn_on_result(). When it finishes, its memory writes are committed in
 *  one LMDB transaction (its own, or its agentd's group commit) and
 *  agent_turn_answer() is the Actions message to send.
 */
#ifndef AGENT_TURN_H
#define AGENT_TURN_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "troupe.pb-c.h"
#include "tt_llm.h"

#define AGENT_MAX_FOLLOWUPS 2

typedef struct agent_turn agent_turn_t;

/* A turn for agent a on step (borrowed: the caller keeps the envelope alive
 * until the turn is destroyed). id tags this turn's LLM calls. */
agent_turn_t *agent_turn_new(agent_t *a, tt_llm_t *llm, const Tt__Step *step, uint64_t id);
void agent_turn_destroy(agent_turn_t **self_p);

/* Sees each model call the turn makes, in order, before it is served or
 * submitted: the request (borrowed for the call) and its digest under llm.
 * `coordinator log prompt` prints the requests a rebuilt turn makes. */
typedef void agent_turn_observe_fn(const tt_llm_t *llm, const tt_llm_request_t *req,
                                   const uint8_t digest[TT_SHA256_LEN], void *arg);
void agent_turn_set_observer(agent_turn_t *t, agent_turn_observe_fn *fn, void *arg);

/* How many model calls in a row agent's turn on step is expected to make
 * (the retrieval embedding, the turn, a consolidation and its embedding): a
 * guess, the turn's actions are not known yet. 0 for the offline model, which
 * answers at once, and for a perceive-only step. A slot agentd starts the
 * turns with the most first; what a turn does never depends on it. */
uint32_t agent_turn_expected_calls(const agent_t *a, const Tt__Step *step);

/* Advance until the turn waits for a model call or finishes. True = finished. */
bool agent_turn_run(agent_turn_t *t);
/* Feed the result of this turn's pending call (takes ownership), then run on.
 * True = finished. */
bool agent_turn_on_result(agent_turn_t *t, tt_llm_result_t **result);

/* Leave the memory commit to the caller, who commits many turns' batches in
 * one transaction (tt_memory_commit_all): the turn then stops before its
 * commit (agent_turn_run and agent_turn_on_result return false), the caller
 * takes its batch with agent_turn_take_batch (NULL while the turn is not
 * there yet) and finishes it with agent_turn_committed (the commit's
 * outcome, as tt_memory_commit returns it). */
void agent_turn_defer_commit(agent_turn_t *t);
tt_memory_batch_t *agent_turn_take_batch(agent_turn_t *t);
void agent_turn_committed(agent_turn_t *t, tt_err_t err);

/* The finished turn's answer (borrowed, valid until destroy). */
Tt__Actions *agent_turn_answer(agent_turn_t *t);
uint64_t agent_turn_id(const agent_turn_t *t);
/* True if the commit was refused because a newer incarnation owns the memory. */
bool agent_turn_fenced(const agent_turn_t *t);
/* Not TT_OK if the step's memory could not be committed (a full disk, an I/O
 * error): an infrastructure fault, not the agent's doing. The turn has no
 * answer then; the caller must not send one. */
tt_err_t agent_turn_memory_error(const agent_turn_t *t);

/* TinyTroupe's repetition guard: is action (nearly) the same as last -- same
 * type and target, and character-multiset Jaccard similarity of the contents
 * above TT_MAX_ACTION_SIMILARITY? Such an action ends the turn instead. */
bool agent_turn_repeats(const json_t *last, const json_t *action);

#endif
