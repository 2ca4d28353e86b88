/*  coord_report_data -- a transaction log as the data of the HTML run report.
 *
 *  Records go in one at a time, in log order (coord_report_data_add), so a
 *  log of any length is read with one record in memory; what comes out is one
 *  compact JSON value that report.js renders. The shape (format 1):
 *
 *      run         identity: scenario, seed, provider, model, offline, mode,
 *                  version, world_start, step_seconds, steps_planned, steps,
 *                  records, complete, end_reason, final_hash, log,
 *                  torn_tail_bytes, has_begin
 *      totals      actions, exchanges, calls, replayed, cached, prompt,
 *                  completion, retried, failed, wall_ms, interventions,
 *                  checkpoints, factory_calls
 *      strings     the string table: every text of the run once; [0] is ""
 *      agents[i]   name, persona summary (bio, age, gender, occupation,
 *                  nationality, residence, traits, about) and sums (calls,
 *                  replayed, cached, prompt, completion, latency_ms, busy_ms,
 *                  retried, failed, actions, exchanges, by_type: {TYPE: count})
 *      steps[]     step, datetime, wall_ms (absent without telemetry),
 *                  floor_ms, the sums, world: [[type, source, content,
 *                  recipients]] (recipients null = every agent of the step),
 *                  turns: [{a: agent, act: [[type, content, target]],
 *                  cs: [goals, attention, emotions], x: [exchanges,
 *                  latency_ms, tokens, busy_ms], st: status, err: error}]
 *      interventions[]  step, name, targets (null = everyone), effects:
 *                  [[type, source, content]], why, calls
 *      checkpoints[]    step, name
 *      latencies   latency_ms of every call made by a model (not replayed,
 *                  not cached), for the histogram
 *      attempts    attempts[k] = exchanges that took k + 1 attempts
 *
 *  `log report` may add "extraction" (the run's results) and "compare" (other
 *  runs side by side): coord_report_results.h describes them.
 *
 *  Texts (types, contents, sources, targets, cognitive state, status) are
 *  indices into strings: a goal repeated for ten steps is stored once. Texts
 *  are valid UTF-8 (bad bytes become U+FFFD, as in tt_pbjson) and cut at
 *  COORD_REPORT_TEXT_CAP bytes. The raw model responses are not kept: what
 *  they decided is in the actions.
 *
 *  Counting follows `coordinator log stats`: a replayed exchange is not a
 *  call, a cached one neither; tokens are those of calls made. A step's
 *  floor_ms is the longest chain of model latency in it: the largest, over
 *  its agents, of the sum of that agent's exchange latencies.
 */
#ifndef COORD_REPORT_DATA_H
#define COORD_REPORT_DATA_H

#include <jansson.h>

#include "tt_tlog.h"

#define COORD_REPORT_FORMAT   1
#define COORD_REPORT_TEXT_CAP ((size_t)16 << 10) /* bytes of one text kept */
#define COORD_REPORT_TRAITS   5                  /* persona traits kept */

typedef struct coord_report_data coord_report_data_t;

/* An empty builder. Caller owns it (coord_report_data_destroy). */
coord_report_data_t *coord_report_data_new(void);
void coord_report_data_destroy(coord_report_data_t **self_p);

/* Take in one record. entry is only read; call in log order. The first
 * SimBegin names the agents; records of other kinds before it are kept with
 * agents shown by index. */
void coord_report_data_add(coord_report_data_t *self, const tt_tlog_entry_t *entry);

/* Everything added so far, with the log's own facts (final hash, file name,
 * record count, torn tail) from log, which is only read. Caller owns the
 * returned value (json_decref); self may be added to and asked again. */
json_t *coord_report_data_json(coord_report_data_t *self, const tt_tlog_t *log);

#endif
