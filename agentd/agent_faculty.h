/*  agent_faculty -- mental faculties and tools behind one small interface.
 *
 *  A faculty (TinyMentalFaculty) or tool (TinyTool) adds action types, the
 *  prompt lines that define them, constraint lines, and a handler that runs
 *  when the agent takes one of its actions. A handler may produce a result the
 *  agent must see within the same turn (RECALL, CONSULT, LIST_DOCUMENTS); the
 *  turn then makes a bounded follow-up call with those results.
 *
 *  Built in: "recall" (RECALL), "documents" (LIST_DOCUMENTS, CONSULT over the
 *  agent's grounding documents), "word_processor" (WRITE_DOCUMENT) and
 *  "calendar" (CREATE_EVENT, LIST_EVENTS). A scenario may declare custom
 *  faculties (name, actions with descriptions, constraints): their actions are
 *  recorded like any other, with no side effect.
 */
#ifndef AGENT_FACULTY_H
#define AGENT_FACULTY_H

#include <jansson.h>
#include <stdbool.h>

#include "agent.h"
#include "tt_buf.h"
#include "tt_memory.h"

#define AGENT_RECALL_TOP_K 5
#define AGENT_FULL_SCAN_BYTES                                                                      \
    ((size_t)64 << 10)         /* what a RECALL_WITH_FULL_SCAN returns at most                     \
                                */
#define AGENT_CONSULT_MAX 6000 /* bytes of a document shown to the agent */

/* Fill the agent's rules and the prompt's definitions/constraints from its
 * faculties, tools and custom faculties (agent->agent_config). Unknown names
 * are reported in *errmsg (caller frees). */
tt_err_t agent_faculty_setup(agent_t *a, tt_buf_t *definitions, tt_buf_t *constraints,
                             char **errmsg);

/* Run the side effect of one action. When the agent must see a result in this
 * turn, append {"action","query","result"} to results. batch receives memory
 * writes (calendar entries). qvec/dim: the RECALL query embedded with the
 * semantic memory's model (NULL to search episodes only). Never fails the
 * turn: problems become results. */
void agent_faculty_handle(agent_t *a, const json_t *action, tt_memory_batch_t *batch,
                          json_t *results, const float *qvec, uint32_t dim);

/* Does this action type produce a result the agent must see this turn? */
bool agent_faculty_needs_followup(const char *type);

#endif
