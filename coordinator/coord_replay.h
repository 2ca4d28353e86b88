/*  coord_replay -- a recorded run, served by `run --replay OLD.tlog`.
 *
 *  The old log is indexed at open (step -> record); an agent's recorded
 *  exchanges for a step are read when that step is dispatched, matched by agent
 *  name so a scenario whose agent list changed still replays what it can.
 *  Intervention judgements are served by request digest.
 */
#ifndef COORD_REPLAY_H
#define COORD_REPLAY_H

#include <stdint.h>

#include "troupe.pb-c.h"
#include "tt_err.h"

typedef struct coord_replay coord_replay_t;

tt_err_t coord_replay_open(const char *path, coord_replay_t **out, char **errmsg);
void coord_replay_close(coord_replay_t **self_p);
/* Copies of agent name's recorded exchanges in step (NULL/0 if none). Free
 * with coord_replay_free_exchanges. */
Tt__Exchange **coord_replay_exchanges(coord_replay_t *r, uint32_t step, const char *agent,
                                      size_t *n);
void coord_replay_free_exchanges(Tt__Exchange **list, size_t n);
/* A recorded intervention judgement with this digest, or NULL (borrowed). */
const char *coord_replay_judgement(coord_replay_t *r, const uint8_t digest[32]);

#endif
