/*  coord_extract -- `coordinator extract`: TinyTroupe's ResultsExtractor and
 *  ResultsReducer over a finished (or unfinished) run.
 *
 *  Everything comes from DIR/sim.tlog: the agents and the scenario (whose
 *  "extract" section gives the objective, fields and reduction rules) from
 *  SimBegin, what each agent perceived and did from the StepCommits. For each
 *  agent (or once for the whole world) the interaction history is rendered in
 *  TinyTroupe's display lines and one "extraction" model call turns it into a
 *  JSON object (the fields, when given, are its properties). Reduction rules
 *  count or pick actions and stimuli without the model. Output in DIR:
 *  extraction.json, extraction.csv (one row per agent, one column per field and
 *  rule, RFC 4180) and extraction.tlog (the model's answers, for --replay).
 */
#ifndef COORD_EXTRACT_H
#define COORD_EXTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_factory_calls.h"
#include "tt_config.h"
#include "tt_err.h"

typedef enum {
    COORD_EXTRACT_SCOPE_DEFAULT = 0, /* the scenario's, else per agent */
    COORD_EXTRACT_PER_AGENT = 1,
    COORD_EXTRACT_WORLD = 2,
} coord_extract_scope_t;

typedef struct {
    const char *run_dir;   /* holds sim.tlog; outputs go here too */
    const char *objective; /* NULL: the scenario's extract.objective */
    const char *fields;    /* "a,b,c"; NULL: the scenario's extract.fields */
    coord_extract_scope_t scope;
    const char *replay_path; /* an earlier run DIR or its extraction.tlog; NULL */
    uint32_t concurrency;    /* 0: MAX_CONCURRENT_MODEL_CALLS (offline 32) */
    bool quiet;
} coord_extract_spec_t;

typedef struct {
    uint32_t rows;    /* agents (or 1 for the world) */
    uint32_t failed;  /* rows whose extraction failed */
    const char *base; /* "extraction" or "world-extraction": the files written */
    coord_fcalls_stats_t llm;
} coord_extract_report_t;

/* Extract. TT_OK: every row extracted; TT_EAGENT: some failed (their rows hold
 * nulls, they are listed in extraction.json and on stderr); TT_EINVAL: bad
 * input, nothing written (*errmsg "file:line:col: what" or the option);
 * TT_EIO, TT_EINTR. *errmsg (caller frees) set for every error but TT_EAGENT. */
tt_err_t coord_extract_run(const coord_extract_spec_t *spec, const tt_config_t *cfg,
                           coord_extract_report_t *report, char **errmsg);

/* `coordinator extract DIR ...` (argv[0] = "extract"). Exit code: 0 success,
 * 1 some extraction failed, 2 bad usage or input. */
int coord_extract_main(int argc, char **argv);

#endif
