/*  coord_run -- `coordinator run`: one simulation, start to finish.
 *
 *  Writes DIR/sim.tlog, DIR/transcript.txt, DIR/results.json, DIR/results.csv,
 *  DIR/agents/NAME/ (each agent's LMDB memory) and DIR/documents/.
 */
#ifndef COORD_RUN_H
#define COORD_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_overrides.h"

typedef struct {
    const char *scenario_path;
    const char *out_dir;
    const char *replay_path; /* --replay OLD.tlog */
    const char *config_path; /* --config FILE (default ./config.ini if present) */
    const char *llm;         /* --llm offline|openai|azure|ollama */
    const char *listen;      /* --listen ENDPOINT */
    const char *keys_dir;    /* --keys DIR: CURVE server cert + authorised clients */
    bool external;           /* --external: spawn no agentd */
    bool insecure;           /* --insecure: bind beyond loopback without CURVE */
    bool resume;
    bool quiet;
    bool has_seed;
    uint64_t seed;
    long steps;                         /* --steps N, -1 = the scenario's */
    long max_concurrency;               /* --max-concurrency K, 0 = MAX_CONCURRENT_MODEL_CALLS */
    uint32_t slots;                     /* agents per spawned agentd (local mode) */
    const char *model;                  /* --model NAME (beats TROUPE_MODEL and config.ini) */
    const coord_overrides_t *overrides; /* --set KEY.PATH=VALUE (may be NULL) */
    long max_failed_steps;              /* agent-steps allowed to fail; -1: a share */
    double max_failed_share;            /* with max_failed_steps -1: of all agent-steps */
    bool no_progress;                   /* --no-progress */
    bool serve_report;                  /* --serve-report PORT (loopback) */
    long report_port;
    /* coordinator serve: a session (scenario_path may be NULL) */
    bool serve;
    const char *http;     /* --http HOST:PORT (default 127.0.0.1:0) */
    const char *tls_cert; /* --tls-cert, --tls-key: required beyond loopback */
    const char *tls_key;
} coord_run_opts_t;

/* Parse `run` or `serve` arguments (argv[0] = "run" or "serve") and run or
 * serve. Returns the exit code. */
int coord_run_main(int argc, char **argv);
/* Run with parsed options. Returns 0 success, 1 run failed, 2 bad input. */
int coord_run(const coord_run_opts_t *opts);

#endif
