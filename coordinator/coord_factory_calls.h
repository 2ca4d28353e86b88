/*  coord_factory_calls -- batches of keyed model calls: made K at a time,
 *  recorded in a log of their own, served again from such a log by digest.
 *
 *  The factory and the extractor both make many independent model calls and
 *  must be able to make them again for free. A coord_fcalls_t owns the LLM
 *  client, the log being written (DIR/factory.tlog, DIR/extraction.tlog) and
 *  the index of a recorded log (--replay):
 *
 *      coord_fcalls_t *fc;
 *      coord_fcalls_open(&cfg, &opts, &fc, &err);     // client + replay index
 *      ... clear the output directory ...
 *      coord_fcalls_begin(fc, "DIR/factory.tlog", &err);   // FactoryBegin record
 *      coord_fcalls_run(fc, reqs, keys, n, results);   // any number of batches
 *      coord_fcalls_close(&fc);
 *
 *  A request whose digest (tt_llm_request_digest) is in the replay index is
 *  answered from there through tt_llm_result_replay: no model call. The others
 *  go to the client, at most `concurrency` in flight, and are collected with
 *  tt_llm_recv as they finish. Each accepted answer becomes one FactoryCall
 *  {key, exchange} record with its telemetry. Records are appended in the
 *  batch's index order (record i once 0..i-1 are settled), so the same answers
 *  give the same log bytes whatever order the network returned them in. Failed
 *  calls are not recorded: there is nothing to replay.
 */
#ifndef COORD_FACTORY_CALLS_H
#define COORD_FACTORY_CALLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tt_config.h"
#include "tt_err.h"
#include "tt_llm.h"

#define COORD_FCALLS_OFFLINE_CONCURRENCY 32 /* default calls in flight, offline model */
#define COORD_FCALLS_MAX_CONCURRENCY     4096

typedef struct coord_fcalls coord_fcalls_t;

typedef struct {
    const char *kind;        /* "factory" or "extraction": FactoryBegin.kind */
    const json_t *spec;      /* what was asked for, recorded in FactoryBegin (borrowed) */
    uint64_t seed;           /* recorded in FactoryBegin */
    const char *replay_path; /* a recorded log, or a directory holding replay_name; NULL */
    const char *replay_name; /* "factory.tlog", "extraction.tlog" */
    uint32_t concurrency;    /* calls in flight; 0 = MAX_CONCURRENT_MODEL_CALLS (offline: 32) */
    int reasks;              /* re-asks after an unusable answer; < 0 = the config's */
} coord_fcalls_opts_t;

typedef struct {
    uint64_t calls;    /* answered by the model (network or offline) */
    uint64_t replayed; /* answered from the replay log */
    uint64_t failed;   /* no acceptable answer */
    uint64_t attempts; /* model requests, re-asks and transport retries included */
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    uint32_t concurrency; /* the cap in use */
} coord_fcalls_stats_t;

/* Start the client for cfg (copied) and, with opts->replay_path, read the whole
 * recorded log into memory (so the output directory may then be cleared even
 * when it holds that log). Errors (*errmsg, caller frees): TT_ENOTFOUND /
 * TT_ECORRUPT / TT_EINVAL for a replay log that cannot be used, or what
 * tt_llm_new says. */
tt_err_t coord_fcalls_open(const tt_config_t *cfg, const coord_fcalls_opts_t *opts,
                           coord_fcalls_t **out, char **errmsg);
void coord_fcalls_close(coord_fcalls_t **self_p);

/* Create the log at log_path (an old file there is replaced) and write the
 * FactoryBegin record. TT_EIO with *errmsg when it cannot be written. */
tt_err_t coord_fcalls_begin(coord_fcalls_t *fc, const char *log_path, char **errmsg);

/* Run n calls. Takes ownership of every reqs[i] (nulls them); keys[i] name the
 * records ("person/17"). results[i] is set for every i (caller destroys each):
 * check results[i]->err. Returns TT_OK when every call was settled, TT_EINTR
 * when a signal interrupted the batch, TT_EIO when the log could not be
 * written; then every results[i] is NULL or still set for the caller to free. */
tt_err_t coord_fcalls_run(coord_fcalls_t *fc, tt_llm_request_t **reqs, const char *const *keys,
                          size_t n, tt_llm_result_t **results);

void coord_fcalls_stats(const coord_fcalls_t *fc, coord_fcalls_stats_t *out);
/* The client (for tt_llm_model, tt_llm_is_offline); borrowed until close. */
tt_llm_t *coord_fcalls_llm(coord_fcalls_t *fc);
/* The resolved provider ("offline", "openai", ...). Borrowed until close. */
const char *coord_fcalls_provider(const coord_fcalls_t *fc);

/* ------------------------------------------------------------ command line */

/* The options `coordinator factory` and `coordinator extract` share. */
typedef struct {
    const char *llm;         /* --llm PROVIDER */
    const char *model;       /* --model NAME */
    const char *config;      /* --config FILE */
    const char *replay_path; /* --replay OLD */
    uint32_t concurrency;    /* --concurrency K; 0 = the default */
    bool quiet;              /* --quiet */
} coord_fcalls_cli_t;

/* Their getopt_long entries (with --log-level), for an option table. */
/* clang-format off */
#define COORD_FCALLS_CLI_OPTIONS                                                                   \
    {"llm", required_argument, NULL, 'L'},                                                         \
    {"model", required_argument, NULL, 'M'},                                                       \
    {"config", required_argument, NULL, 'c'},                                                      \
    {"concurrency", required_argument, NULL, 'k'},                                                 \
    {"replay", required_argument, NULL, 'r'},                                                      \
    {"quiet", no_argument, NULL, 'q'},                                                             \
    {"log-level", required_argument, NULL, 'v'}
/* clang-format on */

/* Take getopt_long's option ch with its argument: 1 when it is one of the
 * shared options, 0 when it is not, -1 when its value is bad (*why: what was
 * expected, naming the option). */
int coord_fcalls_cli_take(coord_fcalls_cli_t *o, int ch, const char *arg, const char **why);

/* tt_config_setup_flags from --config, --llm and --model. On failure prints "coordinator
 * CMD: why", finalises cfg and returns false. */
bool coord_fcalls_cli_config(const char *cmd, const coord_fcalls_cli_t *o, tt_config_t *cfg);

#endif
