/*  coord_exp_call -- one recorded, replayable model call.
 */
#include "coord_exp_call.h"

#include <stdio.h>

#include "tt_mem.h"

tt_err_t
coord_exp_call_one(const tt_config_t *cfg, const char *kind, const json_t *spec, uint64_t seed,
                   const char *replay_path, const char *log_path, tt_llm_request_t **req,
                   const char *key, tt_llm_result_t **res, coord_fcalls_stats_t *stats,
                   char **errmsg)
{
    *res = NULL;
    *errmsg = NULL;
    char *name = tt_asprintf("%s.tlog", kind);
    coord_fcalls_opts_t fo = {.kind = kind,
                              .spec = spec,
                              .seed = seed,
                              .replay_path = replay_path,
                              .replay_name = name,
                              .reasks = -1};
    coord_fcalls_t *fc = NULL;
    tt_err_t err = coord_fcalls_open(cfg, &fo, &fc, errmsg);
    if (!err)
        err = coord_fcalls_begin(fc, log_path, errmsg);
    if (!err) {
        err = coord_fcalls_run(fc, req, &key, 1, res);
        if (err && !*errmsg)
            *errmsg = tt_asprintf("%s: %s", kind, tt_strerror(err));
    }
    tt_llm_request_destroy(req);
    if (fc && stats)
        coord_fcalls_stats(fc, stats);
    coord_fcalls_close(&fc);
    free(name);
    if (err)
        tt_llm_result_destroy(res);
    return err == TT_ENOTFOUND || err == TT_ECORRUPT ? TT_EINVAL : err;
}
