/*  coord_world -- TinyWorld: the clock, the inboxes, who can reach whom, and
 *  what actions do to the world.
 *
 *  The world knows nothing about processes or messages. Given the scenario and
 *  the actions of each step it produces the next step's inputs, the same way
 *  whether the actions arrive live or are read back from a log on --resume,
 *  which is why resuming and running are the same code.
 *
 *  Routing (TinyTroupe's semantics, deterministic):
 *    TALK to an exact name     -> CONVERSATION in that agent's inbox (if the
 *                                 speaker cannot reach them and the scenario says
 *                                 "refuse", a SOCIAL note to the speaker instead)
 *    TALK to nobody known      -> broadcast to everyone the speaker can reach
 *                                 (if broadcast_if_no_target)
 *    REACH_OUT                 -> both become reachable + a SOCIAL stimulus each;
 *                                 refused outside a relation in a social network
 *  Stimuli become visible in the next step (parallel) or at once (sequential).
 */
#ifndef COORD_WORLD_H
#define COORD_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_scenario.h"
#include "troupe.pb-c.h"
#include "tt_limits.h"

#define COORD_MAX_ACCESSIBLE 12             /* names listed in a prompt */
#define COORD_MAX_INBOX      TT_LIMIT_INBOX /* stimuli per agent per step; later ones dropped */

typedef struct coord_world coord_world_t;

/* The scenario is borrowed and must outlive the world. */
coord_world_t *coord_world_new(const coord_scenario_t *scenario);
void coord_world_destroy(coord_world_t **self_p);

/* Current step (0 before the first) and simulated time. */
uint32_t coord_world_step(const coord_world_t *w);
int64_t coord_world_now(const coord_world_t *w);
/* ISO text of the current simulated time; borrowed until the next step. */
const char *coord_world_datetime(const coord_world_t *w);

/* Advance: step += 1, clock += step duration, then the scenario's events for
 * the new step land in inboxes. */
void coord_world_begin_step(coord_world_t *w);
/* The same with the clock set to now instead of advanced by the scenario's
 * step (sessions: each world keeps its own clock and step length). */
void coord_world_begin_step_at(coord_world_t *w, int64_t now);
/* Set the clock without a step (which world's time it is, in a session). */
void coord_world_set_clock(coord_world_t *w, int64_t now);
/* The scenario gained an agent (coord_scenario_add_agent): make room for it. */
void coord_world_add_agent(coord_world_t *w);
/* a and b can reach each other from now on (make_agent_accessible). */
void coord_world_connect(coord_world_t *w, uint32_t a, uint32_t b);
/* Replace the agent's context at its next turn (takes a reference). */
void coord_world_set_context(coord_world_t *w, uint32_t agent, json_t *context);
/* Move the agent (a LOCATION stimulus says where it now is). */
void coord_world_move(coord_world_t *w, uint32_t agent, const char *location);
/* Advance the clock by n steps without acting (TinyWorld.skip). */
void coord_world_skip(coord_world_t *w, uint32_t n);

/* Put a stimulus in agent's inbox (source "" = the world). */
void coord_world_deliver(coord_world_t *w, uint32_t agent, const char *type, const char *content,
                         const char *source);
/* Deliver an intervention's effect to its targets. */
void coord_world_intervene(coord_world_t *w, const coord_intervention_t *iv);

/* Take agent's input for this step (drains its inbox). Caller frees with
 * coord_world_input_free. */
Tt__StepInput *coord_world_take_input(coord_world_t *w, uint32_t agent);
void coord_world_input_free(Tt__StepInput **input);

/* Apply one agent's actions to the world. */
void coord_world_route(coord_world_t *w, uint32_t agent, Tt__Action *const *actions, size_t n);

bool coord_world_can_reach(const coord_world_t *w, uint32_t from, uint32_t to);
/* Stimuli dropped because an inbox was full, so far. */
uint64_t coord_world_dropped(const coord_world_t *w);

#endif
