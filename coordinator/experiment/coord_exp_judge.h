/*  coord_exp_judge -- model calls over a finished run's log: TinyTroupe's
 *  TinyPersonValidator (how well does a person fit expectations, 0..1) and
 *  Proposition (is a claim true of what happened, or how true, 0..9).
 *
 *  The run comes from DIR/sim.tlog (coord_xrun_load); the calls go through
 *  coord_fcalls, recorded in DIR/<kind>.tlog and served again by digest from
 *  --replay, so a rerun of the same question costs no call.
 */
#ifndef COORD_EXP_JUDGE_H
#define COORD_EXP_JUDGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tt_config.h"
#include "tt_err.h"

typedef struct {
    const char *run_dir;
    const char *agent;   /* NULL: validate every agent / judge the world */
    const char *text;    /* the expectations, or the proposition */
    bool score;          /* proposition: 0..9 rather than true/false */
    uint32_t first_step; /* proposition: 0 = from the start */
    uint32_t last_step;  /* proposition: 0 = to the end */
    const char *replay_path;
    uint32_t concurrency;
} coord_exp_judge_spec_t;

/* Proposition's system messages (check: true/false; score: 0..9), shared
 * with the live session's judge. */
extern const char coord_exp_system_check[];
extern const char coord_exp_system_score[];

/* One call per agent (or one for --all's every agent): *doc (caller owns) is
 * the JSON answer. TT_EINVAL with *errmsg for bad input (unknown agent, no
 * log), TT_EAGENT when some call failed (doc lists it). */
tt_err_t coord_exp_validate(const coord_exp_judge_spec_t *spec, const tt_config_t *cfg,
                            json_t **doc, char **errmsg);
tt_err_t coord_exp_proposition(const coord_exp_judge_spec_t *spec, const tt_config_t *cfg,
                               json_t **doc, char **errmsg);

#endif
