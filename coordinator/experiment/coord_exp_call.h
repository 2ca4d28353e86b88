/*  coord_exp_call -- one model call, recorded and replayable: the story's and
 *  the rewriters' shared path through coord_fcalls.
 */
#ifndef COORD_EXP_CALL_H
#define COORD_EXP_CALL_H

#include <jansson.h>

#include "coord_factory_calls.h"
#include "tt_config.h"
#include "tt_err.h"
#include "tt_llm.h"

/* Ask req (taken, nulled) under key; the answer is recorded in log_path (a
 * FactoryBegin of `kind` with spec, then the call) and, when replay_path (a
 * recorded .tlog) holds the same request, served from there with no call.
 * *res (caller destroys) is set on TT_OK: check (*res)->err. Errors with
 * *errmsg (caller frees): TT_EINVAL for an unusable replay log, TT_EIO. */
tt_err_t coord_exp_call_one(const tt_config_t *cfg, const char *kind, const json_t *spec,
                            uint64_t seed, const char *replay_path, const char *log_path,
                            tt_llm_request_t **req, const char *key, tt_llm_result_t **res,
                            coord_fcalls_stats_t *stats, char **errmsg);

#endif
