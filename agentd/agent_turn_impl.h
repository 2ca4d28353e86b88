/*  agent_turn_impl -- what the turn's files share (private to agentd): the
 *  turn's state, and the calls every phase makes. agent_turn.c runs the
 *  phases; agent_quality.c the quality checks between the turn call and the
 *  actions.
 */
#ifndef AGENT_TURN_IMPL_H
#define AGENT_TURN_IMPL_H

#include "agent_turn.h"

typedef enum {
    PH_DOCS,
    PH_RETRIEVE,
    PH_TURN,
    PH_JUDGE,   /* quality checks: judge the tentative actions */
    PH_CORRECT, /* quality checks: direct correction */
    PH_ACTIONS,
    PH_RECALL,
    PH_CONSOLIDATE,
    PH_EMBED_MEMORIES,
    PH_COMMIT,
    PH_COMMITTING, /* deferred: the caller commits the batch (agent_turn_committed) */
    PH_DONE,
} agent_turn_phase_t;

struct agent_turn {
    agent_t *a;
    tt_llm_t *llm;
    const Tt__Step *step;
    uint64_t id;
    agent_turn_phase_t phase;
    bool waiting;
    int64_t started_ms;
    tt_llm_result_t *result; /* the last call's result, being consumed */
    bool *recorded_used;
    agent_turn_observe_fn *observe; /* NULL: nobody watches the calls */
    void *observe_arg;
    /* what the turn accumulates */
    json_t *stimuli;        /* [{type, content, source}] */
    json_t *stimulus_items; /* episodic items (objects), written at commit */
    json_t *action_items;
    json_t *actions;         /* committed actions */
    json_t *answer;          /* last parsed answer */
    json_t *results;         /* faculty results awaiting a follow-up */
    json_t *messages;        /* current conversation with the model */
    json_t *memories;        /* retrieved memory texts */
    json_t *pending_recalls; /* RECALL actions waiting for query vectors */
    json_t *consolidated;    /* texts to embed into semantic memory */
    json_t *doc_chunks;      /* [{name, chunk, text}] to embed */
    int followups;
    /* quality checks (agent_quality.c) */
    int qc_stage;        /* agent_quality_stage_t */
    json_t *qc_messages; /* the regeneration's conversation */
    json_t *qc_best;     /* the best-scored answer so far */
    int qc_best_total;
    int qc_regenerations;
    int qc_corrections;
    char *qc_feedback;
    tt_memory_batch_t *batch;
    bool defer_commit; /* the caller commits (a group of turns at once) */
    bool failed;
    bool fenced;
    tt_err_t memory_err; /* the step's memory could not be committed */
    /* the answer */
    Tt__Actions answer_msg;
    Tt__Exchange **exchanges;
    Tt__ExchangeTelemetry **telemetry;
    size_t n_exchanges;
    size_t answer_bytes; /* of the exchanges: at most TT_LIMIT_TURN_ANSWERS */
};

/* Record a failure: the turn commits what it has and answers with the error. */
void agent_turn_fail(agent_turn_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Serve from the recorded exchanges or submit (takes req). True when
 * t->result is ready now; false when the turn must wait (or failed). */
bool agent_turn_call(agent_turn_t *t, tt_llm_request_t **req);
/* Take the ready result, recorded in the answer's exchanges; NULL (and the
 * turn failed) if the call failed. Caller owns. */
tt_llm_result_t *agent_turn_take(agent_turn_t *t);

#endif
