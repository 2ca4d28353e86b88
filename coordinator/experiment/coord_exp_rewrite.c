/*  coord_exp_rewrite -- `coordinator rewrite enrich|style|normalize`:
 *  TinyTroupe's TinyEnricher.enrich_content, TinyStyler.apply_style and a
 *  text Normalizer, one model call each over a text file, the answer written
 *  to --out FILE and recorded in FILE.tlog (--replay serves it again).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coord_exp.h"
#include "coord_cli.h"
#include "coord_exp_call.h"
#include "tt_buf.h"
#include "tt_file.h"
#include "tt_mem.h"

#define S_EXIT_OK     0
#define S_EXIT_FAILED 1
#define S_EXIT_USAGE  2
#define S_TEXT_CAP    ((size_t)1 << 20)

typedef struct {
    const char *task;   /* enrich, style, normalize */
    const char *system; /* its instructions */
    const char *what;   /* the option that steers it */
} s_task_t;

static const s_task_t s_tasks[] = {
    {"enrich",
     "You enrich synthetic content (documents, messages, notes) so that it becomes more "
     "realistic, specific and useful, as the requirements ask, keeping everything it already "
     "says. Answer with the enriched content only.",
     "requirements"},
    {"style",
     "You rewrite content in the requested style (tone, register, personality) while keeping "
     "all of its information: names, dates, numbers and every point made. Answer with the "
     "restyled content only.",
     "style"},
    {"normalize",
     "You normalise a list of textual elements, one per line: give each a short, clear, general "
     "label, the same label for elements that mean the same thing, following the requirements. "
     "Answer with one label per line, in the elements' order.",
     "requirements"},
};

/* bad usage: says so, exit 2 */
#define s_bad(...) coord_cli_bad("rewrite", __VA_ARGS__)

static void
s_usage(FILE *out)
{
    fprintf(out, "Usage: coordinator rewrite enrich|style|normalize TEXTFILE --out FILE\n"
                 "                           [--requirements TEXT] [--style TEXT] [options]\n"
                 "\n"
                 "One model call over TEXTFILE: enrich (TinyEnricher: --requirements), style\n"
                 "(TinyStyler: --style) or normalize (Normalizer: one label per line of\n"
                 "elements). The answer goes to FILE and is recorded in FILE.tlog.\n"
                 "\n"
                 "Options: --llm, --model, --config, --replay OLD (FILE.tlog of an earlier\n"
                 "rewrite: its answer, no call), --quiet, --log-level.\n"
                 "\n"
                 "Exit status: 0 success, 1 the model call failed, 2 bad usage or bad input.\n");
}

typedef struct {
    const s_task_t *task;
    const char *path, *out, *steer;
    coord_fcalls_cli_t shared;
} s_opts_t;

static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option options[] = {
        {"out", required_argument, NULL, 'o'},   {"requirements", required_argument, NULL, 'R'},
        {"style", required_argument, NULL, 'S'}, COORD_FCALLS_CLI_OPTIONS,
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
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
        if (ch == 'h') {
            s_usage(stdout);
            return -1;
        } else if (ch == 'o' && *optarg) {
            o->out = optarg;
        } else if ((ch == 'R' || ch == 'S') && *optarg) {
            o->steer = optarg;
        } else {
            return s_bad("unknown option, missing or empty value: %s", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return s_bad("expected a task (enrich, style, normalize) and a TEXTFILE");
    for (size_t i = 0; i < sizeof s_tasks / sizeof s_tasks[0]; i++)
        if (!strcmp(argv[optind], s_tasks[i].task))
            o->task = &s_tasks[i];
    if (!o->task)
        return s_bad("unknown task \"%s\" (enrich, style or normalize)", argv[optind]);
    o->path = argv[optind + 1];
    if (!o->out)
        return s_bad("--out FILE is required");
    if (!strcmp(o->task->task, "style") && !o->steer)
        return s_bad("style: --style TEXT is required");
    return S_EXIT_OK;
}

static int
s_rewrite(const s_opts_t *o, const tt_config_t *cfg, const char *content)
{
    char *user = tt_asprintf("%s%s: %s\n\nContent:\n%s", o->task->what[0] == 'r' ? "R" : "S",
                             o->task->what + 1, o->steer ? o->steer : "(none)", content);
    json_t *msgs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
                             o->task->system, "role", "user", "content", user);
    tt_llm_request_t *req = tt_llm_request_chat(o->task->task, msgs, NULL, NULL);
    json_decref(msgs);
    free(user);
    json_t *spec = json_pack("{s:s, s:s, s:s?}", "task", o->task->task, "input", o->path,
                             o->task->what, o->steer);
    char *log_path = tt_asprintf("%s.tlog", o->out), *err = NULL;
    tt_llm_result_t *res = NULL;
    coord_fcalls_stats_t st = {0};
    int rc = S_EXIT_FAILED;
    tt_err_t e = coord_exp_call_one(cfg, o->task->task, spec, 0, o->shared.replay_path, log_path,
                                    &req, o->task->task, &res, &st, &err);
    if (e) {
        fprintf(stderr, "coordinator rewrite: %s\n", err ? err : tt_strerror(e));
        rc = e == TT_EINVAL ? S_EXIT_USAGE : rc;
    } else if (res->err) {
        fprintf(stderr, "coordinator rewrite: the model call failed: %s\n",
                res->error_text ? res->error_text : tt_strerror(res->err));
    } else {
        char *text = tt_asprintf("%s\n", res->content);
        if (tt_write_file(o->out, text, strlen(text), 0644) != TT_OK) {
            fprintf(stderr, "coordinator rewrite: cannot write %s\n", o->out);
        } else {
            rc = S_EXIT_OK;
            if (!o->shared.quiet)
                fprintf(stderr, "rewrite: %s into %s; %llu model call(s), %llu replayed\n",
                        o->task->task, o->out, (unsigned long long)st.calls,
                        (unsigned long long)st.replayed);
        }
        free(text);
    }
    tt_llm_result_destroy(&res);
    free(log_path);
    free(err);
    json_decref(spec);
    return rc;
}

int
coord_exp_rewrite_main(int argc, char **argv)
{
    s_opts_t o = {0};
    int rc = s_parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? S_EXIT_OK : rc;
    tt_buf_t b;
    tt_buf_init(&b, S_TEXT_CAP);
    char *why = NULL;
    tt_config_t cfg;
    if (tt_read_file(o.path, &b, &why) != TT_OK) {
        fprintf(stderr, "%s:1:1: %s\n", o.path, why ? why : "cannot read");
        rc = S_EXIT_USAGE;
    } else if (b.len == 0 || strlen(tt_buf_str(&b)) != b.len) {
        fprintf(stderr, "%s:1:1: expected some text\n", o.path);
        rc = S_EXIT_USAGE;
    } else if (!coord_fcalls_cli_config("rewrite", &o.shared, &cfg)) {
        rc = S_EXIT_USAGE;
    } else {
        rc = s_rewrite(&o, &cfg, tt_buf_str(&b));
        tt_config_fini(&cfg);
    }
    free(why);
    tt_buf_fini(&b);
    return rc;
}
