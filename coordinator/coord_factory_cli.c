/*  coord_factory_cli -- `coordinator factory`: arguments, config, exit codes.
 *
 *  Everything the command line can get wrong is found before the model is
 *  called or a file is written: missing or contradictory options, numbers out
 *  of range, an unreadable config or population file. Those exit 2 with one
 *  line saying what is wrong (file:line:col for files).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_factory.h"
#include "coord_cli.h"
#include "tt_mem.h"

#define S_EXIT_OK     0
#define S_EXIT_FAILED 1
#define S_EXIT_USAGE  2

static void
s_usage(FILE *out)
{
    fprintf(out,
            "Usage: coordinator factory --count N --out DIR [--population FILE] [--context TEXT]\n"
            "                           [--describe TEXT] [options]\n"
            "\n"
            "Generates N people (TinyTroupe's TinyPersonFactory): demographic dimensions from\n"
            "a population file or, from a context text, from the model; a sampling plan whose\n"
            "quantities are forced to sum to N; one model call per person, many at once;\n"
            "names made unique. Writes DIR/NAME.agent.json for each person, DIR/factory.json\n"
            "(dimensions, plan, people, failures) and DIR/factory.tlog (every model answer).\n"
            "\n"
            "Options:\n"
            "  --count N              how many people, 1..%d (required)\n"
            "  --out DIR              where to write them (required; must be empty)\n"
            "  --context TEXT         who the people are, in words\n"
            "  --population FILE      a TinyTroupe population file ({title, description,\n"
            "                         source, content:{...distributions...}}); with --context\n"
            "                         too, the context guides the plan and every person\n"
            "  --describe TEXT        what every person is above all (TinyTroupe's\n"
            "                         agent_particularities), e.g. \"A financial analyst\"\n"
            "  --seed S               seed of the plan's shuffle and the model calls (default %d)\n"
            "  --llm PROVIDER         offline, openai, azure or ollama (default: from config and\n"
            "                         environment; offline when no key and no base URL)\n"
            "  --model NAME           the model (default: TROUPE_MODEL, then config.ini MODEL)\n"
            "  --config FILE          config.ini to read (default ./config.ini if present)\n"
            "  --concurrency K        model calls in flight (default MAX_CONCURRENT_MODEL_CALLS;\n"
            "                         32 for the offline model)\n"
            "  --replay OLD           an earlier factory DIR or its factory.tlog: serve every\n"
            "                         recorded answer from it, call the model for the rest\n"
            "  --force                replace the factory output already in DIR\n"
            "  --quiet                no summary line\n"
            "  --log-level LEVEL      error, warn, info, debug\n"
            "  --help\n"
            "\n"
            "Exit status: 0 every person written, 1 generation failed or some people could\n"
            "not be generated (they are listed on stderr and in factory.json), 2 bad usage or\n"
            "bad input.\n",
            COORD_FACTORY_MAX_COUNT, COORD_FACTORY_DEFAULT_SEED);
}

/* bad usage: says so, exit 2 */
#define s_bad(...) coord_cli_bad("factory", __VA_ARGS__)

static bool
s_number(const char *text, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!text[0] || text[0] == '-')
        return false;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || end == text || v > max)
        return false;
    *out = v;
    return true;
}

typedef struct {
    coord_factory_spec_t spec;
    coord_fcalls_cli_t shared;
    bool has_count;
} s_opts_t;

static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option options[] = {
        {"count", required_argument, NULL, 'n'},    {"out", required_argument, NULL, 'o'},
        {"context", required_argument, NULL, 'C'},  {"population", required_argument, NULL, 'p'},
        {"describe", required_argument, NULL, 'D'}, {"seed", required_argument, NULL, 's'},
        {"force", no_argument, NULL, 'f'},          COORD_FCALLS_CLI_OPTIONS,
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    unsigned long long v;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        const char *why;
        int taken = coord_fcalls_cli_take(&o->shared, ch, optarg, &why);
        if (taken < 0)
            return s_bad("%s, got \"%s\"", why, optarg);
        if (taken)
            continue;
        switch (ch) {
        case 'n':
            if (!s_number(optarg, ULLONG_MAX, &v) || v < 1 || v > COORD_FACTORY_MAX_COUNT) {
                fprintf(stderr, "coordinator factory: --count: expected 1..%d, got \"%s\"\n",
                        COORD_FACTORY_MAX_COUNT, optarg);
                return S_EXIT_USAGE;
            }
            o->spec.count = (uint32_t)v;
            o->has_count = true;
            break;
        case 'o':
            o->spec.out_dir = optarg;
            break;
        case 'C':
            o->spec.context = optarg;
            break;
        case 'p':
            o->spec.population_path = optarg;
            break;
        case 'D':
            o->spec.describe = optarg;
            break;
        case 's':
            if (!s_number(optarg, INT64_MAX, &v))
                return s_bad("--seed: expected a non-negative number, got \"%s\"", optarg);
            o->spec.seed = v;
            break;
        case 'f':
            o->spec.force = true;
            break;
        case 'h':
            s_usage(stdout);
            return -1;
        default:
            return s_bad("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return s_bad("unexpected argument \"%s\"", argv[optind]);
    if (!o->has_count)
        return s_bad("%s", "--count N is required");
    if (!o->spec.out_dir || !*o->spec.out_dir)
        return s_bad("%s", "--out DIR is required");
    if (!o->spec.context && !o->spec.population_path)
        return s_bad("%s", "give --context TEXT, --population FILE or both");
    o->spec.concurrency = o->shared.concurrency;
    o->spec.replay_path = o->shared.replay_path;
    o->spec.quiet = o->shared.quiet;
    return S_EXIT_OK;
}

static void
s_summary(const coord_factory_spec_t *spec, const coord_factory_report_t *r, const char *model)
{
    fprintf(stderr,
            "factory: %u of %u people written to %s%s (%u failed, %u renamed); %llu model "
            "calls, %llu replayed, %llu tokens, concurrency %u; %.1f s\n",
            r->written, spec->count, spec->out_dir, model, r->failed, r->renamed,
            (unsigned long long)r->llm.calls, (unsigned long long)r->llm.replayed,
            (unsigned long long)(r->llm.prompt_tokens + r->llm.completion_tokens),
            r->llm.concurrency, (double)r->wall_ms / 1000.0);
}

int
coord_factory_main(int argc, char **argv)
{
    s_opts_t o = {.spec = {.seed = COORD_FACTORY_DEFAULT_SEED, .reasks = -1}};
    int rc = s_parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? S_EXIT_OK : rc;
    tt_config_t cfg;
    if (!coord_fcalls_cli_config("factory", &o.shared, &cfg))
        return S_EXIT_USAGE;
    char *err = NULL;
    coord_factory_report_t rep;
    tt_err_t e = coord_factory_generate(&o.spec, &cfg, &rep, &err);
    const char *model = tt_config_is_offline(&cfg)
                            ? " with the offline model (a scripted stand-in, NOT an LLM)"
                            : "";
    if (e == TT_OK || e == TT_EAGENT) {
        if (!o.spec.quiet || e == TT_EAGENT)
            s_summary(&o.spec, &rep, model);
        if (o.spec.replay_path && rep.llm.replayed == 0)
            fprintf(stderr,
                    "coordinator factory: note: no recorded answer of %s matched (another "
                    "spec, seed or model?)\n",
                    o.spec.replay_path);
        rc = e == TT_OK ? S_EXIT_OK : S_EXIT_FAILED;
    } else {
        fprintf(stderr, "coordinator factory: %s\n", err);
        rc = e == TT_EINVAL || e == TT_EEXIST ? S_EXIT_USAGE : S_EXIT_FAILED;
    }
    free(err);
    tt_config_fini(&cfg);
    return rc;
}
