/*  coord_session -- `coordinator serve`: a simulation held open and driven
 *  command by command (docs/session-api.md).
 *
 *  The session sits on the same coord_t, loop, agents, world and log as a
 *  run. What it adds: commands arriving from the HTTP thread, worlds with
 *  clocks of their own, agents that come and change during the run, and steps
 *  in which only some agents act (one agent's turn, or one world's step).
 *  Every command that changes the simulation is a Session record holding its
 *  effect, written before the effect is applied; --resume applies the same
 *  records through the same code.
 */
#ifndef COORD_SESSION_H
#define COORD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tt_err.h"
#include "tt_llm.h"
#include "troupe.pb-c.h"

struct coord;
typedef struct coord_session coord_session_t;

/* Before the log is opened or resumed: the session's worlds (the scenario's
 * world, if a scenario was given). */
coord_session_t *coord_session_new(struct coord *c);
void coord_session_destroy(coord_session_t **self_p);

/* Once the loop exists: listen for commands (writes DIR/session.token and
 * DIR/session.json). Exit code 2 on a bad --http, else 0; *errmsg on error. */
int coord_session_start(struct coord *c, char **errmsg);

/* --resume: one Session record of the log, applied again. */
tt_err_t coord_session_resume_record(struct coord *c, const Tt__Session *rec, char **errmsg);
/* --resume: the clock effects of one StepCommit (before it is replayed). */
void coord_session_resume_step(struct coord *c, const Tt__StepCommit *sc);

/* The step machine's questions (coord_step.c, coord_run.c): */
/* Every agent is ready: begin the step a command waits for, or idle. */
void coord_session_ready(struct coord *c);
/* Who acts in the step being begun (indices, ascending); returns how many. */
size_t coord_session_acting(struct coord *c, uint32_t *order);
/* The clock for the step being begun. */
void coord_session_begin_step(struct coord *c);
/* What kind of step it is, for its StepCommit (borrowed strings). */
void coord_session_label(struct coord *c, Tt__StepCommit *sc);
/* The step is in the log: keep what the command's answer needs of it. */
void coord_session_on_commit(struct coord *c, const Tt__StepCommit *sc);
/* Then, with every agent settled: the command's next step, or its answer. */
void coord_session_after_commit(struct coord *c);
/* The name of the agent a Session record creates (agent.create), or NULL:
 * a session's agents join as it goes, so readers of a log (replay, extract,
 * stats, report) add them in record order after SimBegin's. Caller frees. */
char *coord_session_created_agent(const Tt__Session *rec);
/* The tag of the session's own model calls on the coordinator's LLM client
 * (intervention judgements use agent indices + 1). */
#define COORD_SESSION_LLM_TAG ((void *)(uintptr_t)UINTPTR_MAX)
/* A proposition's judgement came back from the model. */
void coord_session_on_judgement(struct coord *c, tt_llm_result_t *r);
/* Did the client end the session (the `end` command)? */
bool coord_session_ended(const struct coord *c);
/* The session is over (end command, or the run failed): answer what waits. */
void coord_session_finish(struct coord *c);

#endif
