/*  coord_exp_judge_cli -- `coordinator validate` and `coordinator proposition`:
 *  arguments in, the judge's JSON document out on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coord_exp.h"
#include "coord_cli.h"
#include "coord_exp_judge.h"
#include "coord_factory_calls.h"
#include "tt_buf.h"
#include "tt_file.h"
#include "tt_mem.h"

#define S_EXIT_OK     0
#define S_EXIT_FAILED 1
#define S_EXIT_USAGE  2
#define S_EXPECT_CAP  ((size_t)1 << 20)
#define S_STEP_MAX    100000000UL

typedef struct {
    const char *cmd;
    coord_exp_judge_spec_t spec;
    coord_fcalls_cli_t shared;
    bool all;
    char *text_owned; /* expectations read from a file */
} s_opts_t;

#define s_bad coord_cli_bad /* (cmd, fmt, ...): bad usage, exit 2 */

static void
s_usage(const char *cmd, FILE *out)
{
    if (!strcmp(cmd, "validate"))
        fprintf(out, "Usage: coordinator validate DIR (--agent NAME | --all) --expectations "
                     "TEXT|FILE [options]\n"
                     "\n"
                     "TinyTroupe's TinyPersonValidator.validate_person over the run in DIR: for\n"
                     "each person, its specification and everything it perceived and did go to\n"
                     "the model with the expectations; out comes a score from 0.0 (contradicts\n"
                     "them) to 1.0 (fits them) and a justification, as JSON on stdout. The\n"
                     "answers are recorded in DIR/validation.tlog.\n");
    else
        fprintf(out, "Usage: coordinator proposition DIR \"CLAIM\" [--agent NAME] [--steps A:B]\n"
                     "                               [--score] [options]\n"
                     "\n"
                     "TinyTroupe's Proposition over the run in DIR: is CLAIM true of what the\n"
                     "agent (or everyone) perceived and did in steps A to B? Out comes true or\n"
                     "false (with --score: 0 to 9) and a justification, as JSON on stdout. The\n"
                     "answer is recorded in DIR/proposition.tlog.\n");
    fprintf(out, "\n"
                 "Options:\n"
                 "  --llm PROVIDER         offline, openai, azure or ollama\n"
                 "  --model NAME           the model\n"
                 "  --config FILE          config.ini to read\n"
                 "  --concurrency K        model calls in flight\n"
                 "  --replay OLD           an earlier DIR or its .tlog: recorded answers are\n"
                 "                         served from it (no model call)\n"
                 "  --quiet                no summary on stderr\n"
                 "  --log-level LEVEL      error, warn, info, debug\n"
                 "\n"
                 "Exit status: 0 success, 1 a model call failed, 2 bad usage or bad input.\n");
}

/* "A:B", "A:" or ":B", steps from 1. */
static bool
s_steps(const char *arg, uint32_t *first, uint32_t *last)
{
    const char *colon = strchr(arg, ':');
    if (!colon)
        return false;
    char *end;
    unsigned long a = 0, b = 0;
    if (colon != arg) {
        errno = 0;
        a = strtoul(arg, &end, 10);
        if (errno || end != colon || a < 1 || a > S_STEP_MAX || *arg == '-')
            return false;
    }
    if (colon[1]) {
        errno = 0;
        b = strtoul(colon + 1, &end, 10);
        if (errno || *end || b < 1 || b > S_STEP_MAX || colon[1] == '-')
            return false;
    }
    if (b && a > b)
        return false;
    *first = (uint32_t)a;
    *last = (uint32_t)b;
    return true;
}

/* --expectations TEXT|FILE: a regular file's content, else the text. */
static int
s_expectations(s_opts_t *o, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0 || !S_ISREG(st.st_mode)) {
        o->spec.text = arg;
        return S_EXIT_OK;
    }
    tt_buf_t b;
    tt_buf_init(&b, S_EXPECT_CAP);
    char *why = NULL;
    if (tt_read_file(arg, &b, &why) != TT_OK) {
        fprintf(stderr, "%s:1:1: %s\n", arg, why ? why : "cannot read");
        free(why);
        tt_buf_fini(&b);
        return S_EXIT_USAGE;
    }
    o->text_owned = tt_strdup(tt_buf_str(&b));
    bool text = *o->text_owned && strlen(o->text_owned) == b.len;
    tt_buf_fini(&b);
    if (!text) {
        fprintf(stderr, "%s:1:1: expected the expectations as text\n", arg);
        return S_EXIT_USAGE;
    }
    o->spec.text = o->text_owned;
    return S_EXIT_OK;
}

static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option options[] = {{"agent", required_argument, NULL, 'A'},
                                            {"all", no_argument, NULL, 'a'},
                                            {"expectations", required_argument, NULL, 'E'},
                                            {"steps", required_argument, NULL, 'S'},
                                            {"score", no_argument, NULL, 's'},
                                            COORD_FCALLS_CLI_OPTIONS,
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    bool validate = !strcmp(o->cmd, "validate");
    int ch, rc;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        const char *why;
        int taken = coord_fcalls_cli_take(&o->shared, ch, optarg, &why);
        if (taken < 0)
            return s_bad(o->cmd, "%s, got \"%s\"", why, optarg);
        if (taken)
            continue;
        if (ch == 'h') {
            s_usage(o->cmd, stdout);
            return -1;
        } else if (ch == 'A' && *optarg) {
            o->spec.agent = optarg;
        } else if (ch == 'a' && validate) {
            o->all = true;
        } else if (ch == 'E' && validate && *optarg) {
            if ((rc = s_expectations(o, optarg)) != S_EXIT_OK)
                return rc;
        } else if (ch == 'S' && !validate) {
            if (!s_steps(optarg, &o->spec.first_step, &o->spec.last_step))
                return s_bad(o->cmd, "--steps: expected A:B (steps from 1, A <= B), got \"%s\"",
                             optarg);
        } else if (ch == 's' && !validate) {
            o->spec.score = true;
        } else {
            return s_bad(o->cmd, "unknown option, missing or empty value: %s", argv[optind - 1]);
        }
    }
    int want = validate ? 1 : 2;
    if (argc - optind != want)
        return s_bad(o->cmd, validate ? "expected one run directory DIR"
                                      : "expected a run directory DIR and a CLAIM");
    o->spec.run_dir = argv[optind];
    if (!validate) {
        o->spec.text = argv[optind + 1];
        if (!*o->spec.text)
            return s_bad(o->cmd, "the CLAIM is empty");
    }
    if (validate && !o->spec.text)
        return s_bad(o->cmd, "--expectations TEXT|FILE is required");
    if (validate && !o->all == !o->spec.agent)
        return s_bad(o->cmd, "give one of --agent NAME and --all");
    o->spec.replay_path = o->shared.replay_path;
    o->spec.concurrency = o->shared.concurrency;
    return S_EXIT_OK;
}

static int
s_main(s_opts_t *o, int argc, char **argv)
{
    int rc = s_parse(argc, argv, o);
    if (rc) {
        free(o->text_owned);
        return rc < 0 ? S_EXIT_OK : rc;
    }
    tt_config_t cfg;
    if (!coord_fcalls_cli_config(o->cmd, &o->shared, &cfg)) {
        free(o->text_owned);
        return S_EXIT_USAGE;
    }
    json_t *doc = NULL;
    char *err = NULL;
    tt_err_t e = !strcmp(o->cmd, "validate") ? coord_exp_validate(&o->spec, &cfg, &doc, &err)
                                             : coord_exp_proposition(&o->spec, &cfg, &doc, &err);
    if (doc) {
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
        printf("%s\n", text);
        free(text);
        json_t *llm = json_object_get(doc, "llm");
        if (!o->shared.quiet)
            fprintf(stderr, "%s: %lld model call(s), %lld replayed%s\n", o->cmd,
                    (long long)json_integer_value(json_object_get(llm, "calls")),
                    (long long)json_integer_value(json_object_get(llm, "replayed")),
                    tt_config_is_offline(&cfg) ? " (offline model: a scripted stand-in, NOT an LLM)"
                                               : "");
    }
    if (e == TT_OK)
        rc = S_EXIT_OK;
    else if (e == TT_EAGENT)
        rc = (fprintf(stderr, "coordinator %s: some model calls failed\n", o->cmd), S_EXIT_FAILED);
    else
        rc = (fprintf(stderr, "coordinator %s: %s\n", o->cmd, err ? err : tt_strerror(e)),
              e == TT_EINVAL ? S_EXIT_USAGE : S_EXIT_FAILED);
    if (fflush(stdout) != 0 && rc == S_EXIT_OK)
        rc = S_EXIT_FAILED;
    json_decref(doc);
    free(err);
    free(o->text_owned);
    tt_config_fini(&cfg);
    return rc;
}

int
coord_exp_validate_main(int argc, char **argv)
{
    s_opts_t o = {.cmd = "validate"};
    return s_main(&o, argc, argv);
}

int
coord_exp_proposition_main(int argc, char **argv)
{
    s_opts_t o = {.cmd = "proposition"};
    return s_main(&o, argc, argv);
}
