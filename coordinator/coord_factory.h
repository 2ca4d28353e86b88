/*  coord_factory -- `coordinator factory`: TinyPersonFactory, with many calls in
 *  flight and every answer recorded.
 *
 *  The pipeline (TinyTroupe's, made deterministic and concurrent):
 *    1. dimensions: parsed from a population file, or asked of the model from a
 *       context text ("dimensions" task);
 *    2. a sampling plan from the model ("sample_plan" task), whose quantities
 *       are then forced to sum to exactly N while following the distributions
 *       (coord_factory_plan_fix);
 *    3. the plan flattened into N samples and shuffled with the seed;
 *    4. one "person" call per sample, K in flight, each validated (mandatory
 *       fields and types) and re-asked with the error explained;
 *    5. names made unique: duplicates are asked again with the taken names
 *       listed, in waves; a name still taken after that gets " 2", " 3", ...
 *  Output in DIR: NAME.agent.json ({"type":"TinyPerson","persona":{...}}),
 *  factory.json (dimensions, plan, people, failures) and factory.tlog (every
 *  model answer, replayable with --replay).
 */
#ifndef COORD_FACTORY_H
#define COORD_FACTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "coord_factory_calls.h"
#include "tt_config.h"
#include "tt_err.h"
#include "tt_json.h"

#define COORD_FACTORY_MAX_COUNT    100000
#define COORD_FACTORY_DEFAULT_SEED 42
#define COORD_FACTORY_REASKS       3 /* re-asks of one person after an invalid answer */
#define COORD_FACTORY_NAME_WAVES   2 /* rounds of asking again for a taken name */

typedef struct {
    uint32_t count;              /* 1..COORD_FACTORY_MAX_COUNT */
    const char *context;         /* who the people are; or NULL ... */
    const char *population_path; /* ... a TinyTroupe population file (at least one; with
                                    both, the context guides the plan and every person, as
                                    create_factory_from_demography(..., context=...)) */
    const char *describe;        /* what every person is, above all (TinyTroupe's
                                    agent_particularities, "primary characteristics"); NULL */
    uint64_t seed;
    const char *out_dir;
    const char *replay_path; /* an earlier factory DIR or its factory.tlog; NULL */
    uint32_t concurrency;    /* calls in flight; 0 = MAX_CONCURRENT_MODEL_CALLS (offline 32) */
    int reasks;              /* < 0: COORD_FACTORY_REASKS */
    bool force;              /* replace a non-empty out_dir's factory output */
    bool reuse;              /* keep out_dir if it holds this very generation, complete;
                                else generate, replacing its factory files */
    bool quiet;              /* no summary on stderr (failures are still listed) */
} coord_factory_spec_t;

typedef struct {
    uint32_t written;
    uint32_t failed;
    uint32_t renamed; /* names made unique by the last resort */
    bool reused;      /* spec.reuse and nothing had to be generated */
    coord_fcalls_stats_t llm;
    int64_t wall_ms;
} coord_factory_report_t;

/* Generate spec->count people into spec->out_dir with cfg's model (cfg is read,
 * not kept). Returns
 *   TT_OK       every person written;
 *   TT_EAGENT   some people could not be generated: the others are written and
 *               the failures listed in factory.json and on stderr;
 *   TT_EINVAL   bad input, nothing written: *errmsg is "file:line:col: what"
 *               for a file, or names the option;
 *   TT_EEXIST   out_dir is not empty and spec->force is not set;
 *   TT_ELLM     no usable dimensions or plan; TT_EIO, TT_EINTR.
 * report may be NULL. *errmsg (caller frees) is set for every error but TT_EAGENT. */
tt_err_t coord_factory_generate(const coord_factory_spec_t *spec, const tt_config_t *cfg,
                                coord_factory_report_t *report, char **errmsg);

/* A scenario's "factory" section: {"count": N, "context": TEXT, "population":
 * FILE (at least one of the two), "describe": TEXT, "seed": S}. FILE is resolved
 * against base_dir. Errors are positioned in doc ("scenario.json:12:5:
 * factory.count: ..."). */
typedef struct {
    uint32_t count;
    char *context;
    char *population_path;
    char *describe;
    bool has_seed;
    uint64_t seed;
} coord_factory_section_t;

tt_err_t coord_factory_section_parse(const tt_jdoc_t *doc, const char *path, const char *base_dir,
                                     coord_factory_section_t *out, char **errmsg);
void coord_factory_section_fini(coord_factory_section_t *section);

/* For `coordinator run`: when the scenario at scenario_path has a "factory"
 * section, make its people in out_dir/factory -- or keep them, when that
 * directory already holds this very generation (a --resume) -- and set *folder
 * (caller frees) to that directory, whose *.agent.json files are the agents to
 * add. replay_dir (may be NULL) is an earlier run's factory directory to serve
 * recorded answers from. No section: TT_OK and *folder NULL. Errors as
 * coord_factory_generate, and TT_EAGENT (with *errmsg) when some people could
 * not be made. The section's seed defaults to the scenario's (then 42). */
tt_err_t coord_factory_for_scenario(const char *scenario_path, const char *out_dir,
                                    const char *replay_dir, const tt_config_t *cfg, bool quiet,
                                    char **folder, char **errmsg);
/* The same for a scenario given as text (edited by --set; NULL: read the file). */
tt_err_t coord_factory_for_scenario_text(const char *scenario_path, const char *scenario_text,
                                         const char *out_dir, const char *replay_dir,
                                         const tt_config_t *cfg, bool quiet, char **folder,
                                         char **errmsg);

/* `coordinator factory ...` (argv[0] = "factory"). Returns the exit code:
 * 0 success, 1 generation failed (or some people could not be made), 2 bad
 * usage or input. */
int coord_factory_main(int argc, char **argv);

#endif
