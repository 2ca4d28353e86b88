/*  coord_report_results -- what a run concluded, and runs side by side, as
 *  parts of the run report's data (coord_report_data_json).
 *
 *  Results are `coordinator extract`'s extraction.json, put under the key
 *  "extraction" as written (objective, fields, scope, agent_extractions,
 *  world_extraction, reductions, table {columns, rows}, failures, run), less
 *  its "llm" usage, plus "matches_run": whether it was extracted from this
 *  very log (its run.final_hash is the log's final hash) and "file".
 *
 *  A comparison is the key "compare": one summary per run, the first being
 *  the run the page shows in full:
 *
 *      compare[]   run (identity as in the data), totals, by_type
 *                  {TYPE: actions}, steps [[step, {TYPE: actions}]],
 *                  extraction (absent without one), divergence (the words of
 *                  `coordinator log diff` against the first run; absent for
 *                  the first), identical (bool)
 */
#ifndef COORD_REPORT_RESULTS_H
#define COORD_REPORT_RESULTS_H

#include <jansson.h>
#include <stdbool.h>

#include "tt_err.h"

/* extraction.json beside log_path (same directory), else
 * world-extraction.json, or NULL when there is neither. Caller frees. */
char *coord_report_results_beside(const char *log_path);

/* Load the extraction file at path into data (from coord_report_data_json)
 * as "extraction"; an extraction.json takes the world's answer from a
 * world-extraction.json of the same run beside it. TT_EIO (unreadable) or TT_EINVAL (not an
 * extraction), with *errmsg saying why (caller frees); data is then unchanged. */
tt_err_t coord_report_results_attach(json_t *data, const char *path, char **errmsg);

/* A run's summary for "compare", from its data (only read). divergence is
 * NULL for the first run. Caller owns the result. */
json_t *coord_report_results_summary(const json_t *data, const char *divergence, bool identical);

#endif
