/*  coord_exp_story -- `coordinator story`: TinyTroupe's TinyStory over a run's
 *  log. start_story (no --continue) begins a story that serves the purpose
 *  from what happened; continue_story (--continue STORY) writes what happens
 *  next after the story so far. The story so far plus the new part goes to
 *  --out FILE; the model's answer is recorded in FILE.tlog, so the same
 *  question asked again with --replay FILE.tlog makes no call.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coord_exp.h"
#include "coord_cli.h"
#include "coord_exp_call.h"
#include "coord_extract_impl.h"
#include "coord_factory_calls.h"
#include "tt_buf.h"
#include "tt_file.h"
#include "tt_mem.h"

#define S_EXIT_OK     0
#define S_EXIT_FAILED 1
#define S_EXIT_USAGE  2
#define S_STORY_CAP   ((size_t)1 << 20)
#define S_HISTORY_CAP ((size_t)200000)
#define S_STORY_WORDS 150

static const char s_system_start[] =
    "You are a storyteller for a simulation in which people act and talk. From the purpose and "
    "what has happened, begin a story (plain prose, about 150 words) that will guide the next "
    "events: plausible, serving the purpose, with an issue or a goal the people will want to "
    "act on, leaving them free to choose what they do.";
static const char s_system_continue[] =
    "You are a storyteller for a simulation in which people act and talk. From the purpose, the "
    "story so far and what has happened, write what happens next (plain prose, about 150 "
    "words): it follows plausibly from the story, brings a tension for the people to resolve, "
    "and never repeats an earlier part.";

typedef struct {
    const char *dir, *purpose, *continue_path, *out, *agent;
    coord_fcalls_cli_t shared;
} s_opts_t;

/* bad usage: says so, exit 2 */
#define s_bad(...) coord_cli_bad("story", __VA_ARGS__)

static void
s_usage(FILE *out)
{
    fprintf(out,
            "Usage: coordinator story DIR --purpose TEXT --out FILE [--continue STORY]\n"
            "                         [--agent NAME] [options]\n"
            "\n"
            "TinyTroupe's TinyStory over the run in DIR: begins a story serving the purpose\n"
            "(start_story), or with --continue STORY writes what happens next after the story\n"
            "in STORY (continue_story). FILE gets the story so far and the new part; the new\n"
            "part is printed on stdout; the model's answer is recorded in FILE.tlog.\n"
            "\n"
            "Options: --agent NAME (that person's history only), --llm, --model, --config,\n"
            "--replay OLD (FILE.tlog of an earlier story: its answer, no call), --quiet,\n"
            "--log-level.\n"
            "\n"
            "Exit status: 0 success, 1 the model call failed, 2 bad usage or bad input.\n");
}

static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option options[] = {{"purpose", required_argument, NULL, 'P'},
                                            {"continue", required_argument, NULL, 'C'},
                                            {"out", required_argument, NULL, 'o'},
                                            {"agent", required_argument, NULL, 'A'},
                                            COORD_FCALLS_CLI_OPTIONS,
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
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
        } else if (ch == 'P' && *optarg) {
            o->purpose = optarg;
        } else if (ch == 'C' && *optarg) {
            o->continue_path = optarg;
        } else if (ch == 'o' && *optarg) {
            o->out = optarg;
        } else if (ch == 'A' && *optarg) {
            o->agent = optarg;
        } else {
            return s_bad("unknown option, missing or empty value: %s", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return s_bad("expected one run directory DIR");
    o->dir = argv[optind];
    if (!o->purpose)
        return s_bad("--purpose TEXT is required");
    if (!o->out)
        return s_bad("--out FILE is required");
    return S_EXIT_OK;
}

/* The story so far (empty without --continue). NULL with a message printed. */
static char *
s_story_so_far(const s_opts_t *o)
{
    if (!o->continue_path)
        return tt_strdup("");
    tt_buf_t b;
    tt_buf_init(&b, S_STORY_CAP);
    char *why = NULL;
    char *text = NULL;
    if (tt_read_file(o->continue_path, &b, &why) != TT_OK)
        fprintf(stderr, "%s:1:1: %s\n", o->continue_path, why ? why : "cannot read");
    else if (strlen(tt_buf_str(&b)) != b.len || b.len == 0)
        fprintf(stderr, "%s:1:1: expected the story so far as text\n", o->continue_path);
    else
        text = tt_strdup(tt_buf_str(&b));
    free(why);
    tt_buf_fini(&b);
    return text;
}

static long
s_agent(const coord_xrun_t *run, const char *name)
{
    for (size_t i = 0; name && i < run->n_agents; i++)
        if (!strcmp(run->agents[i].name, name))
            return (long)i;
    return -1;
}

static tt_llm_request_t *
s_request(const s_opts_t *o, const coord_xrun_t *run, const char *so_far)
{
    char *history = coord_xrun_history(run, s_agent(run, o->agent), S_HISTORY_CAP);
    char *user = tt_asprintf("Purpose: %s\n\n%s%s%sWhat has happened%s%s:\n%s", o->purpose,
                             *so_far ? "The story so far:\n" : "", so_far, *so_far ? "\n\n" : "",
                             o->agent ? " to " : "", o->agent ? o->agent : "", history);
    json_t *msgs =
        json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
                  *so_far ? s_system_continue : s_system_start, "role", "user", "content", user);
    tt_llm_request_t *req = tt_llm_request_chat("story", msgs, NULL, NULL);
    tt_llm_request_set_seed(req, run->seed);
    json_decref(msgs);
    free(user);
    free(history);
    return req;
}

/* Ask, then write FILE (the story so far + the new part) and print the part. */
static int
s_tell(const s_opts_t *o, const tt_config_t *cfg, coord_xrun_t *run, const char *so_far)
{
    json_t *spec =
        json_pack("{s:s, s:s, s:s?, s:s?, s:s}", "run", o->dir, "purpose", o->purpose, "continue",
                  o->continue_path, "agent", o->agent, "final_hash", run->final_hash);
    char *err = NULL, *log_path = tt_asprintf("%s.tlog", o->out);
    tt_llm_result_t *res = NULL;
    tt_llm_request_t *req = s_request(o, run, so_far);
    coord_fcalls_stats_t st = {0};
    int rc = S_EXIT_FAILED;
    tt_err_t e =
        coord_exp_call_one(cfg, "story", spec, run->seed, o->shared.replay_path, log_path, &req,
                           so_far[0] ? "story/continue" : "story/start", &res, &st, &err);
    if (e) {
        fprintf(stderr, "coordinator story: %s\n", err ? err : tt_strerror(e));
        rc = e == TT_EINVAL ? S_EXIT_USAGE : rc;
    } else if (res->err) {
        fprintf(stderr, "coordinator story: the model call failed: %s\n",
                res->error_text ? res->error_text : tt_strerror(res->err));
    } else {
        char *story = tt_asprintf("%s%s%s\n", so_far, *so_far ? "\n" : "", res->content);
        if (tt_write_file(o->out, story, strlen(story), 0644) != TT_OK) {
            fprintf(stderr, "coordinator story: cannot write %s\n", o->out);
        } else {
            printf("%s\n", res->content);
            if (!o->shared.quiet)
                fprintf(stderr, "story: %s in %s; %llu model call(s), %llu replayed\n",
                        *so_far ? "continued" : "begun", o->out, (unsigned long long)st.calls,
                        (unsigned long long)st.replayed);
            rc = fflush(stdout) == 0 ? S_EXIT_OK : S_EXIT_FAILED;
        }
        free(story);
    }
    tt_llm_result_destroy(&res);
    free(log_path);
    free(err);
    json_decref(spec);
    return rc;
}

int
coord_exp_story_main(int argc, char **argv)
{
    s_opts_t o = {0};
    int rc = s_parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? S_EXIT_OK : rc;
    char *so_far = s_story_so_far(&o);
    if (!so_far)
        return S_EXIT_USAGE;
    coord_xrun_t *run = NULL;
    char *err = NULL;
    tt_config_t cfg;
    if (coord_xrun_load(o.dir, &run, &err) != TT_OK) {
        fprintf(stderr, "coordinator story: %s\n", err);
        rc = S_EXIT_USAGE;
    } else if (o.agent && s_agent(run, o.agent) < 0) {
        fprintf(stderr, "coordinator story: %s: no agent \"%s\" in this run\n", run->path, o.agent);
        rc = S_EXIT_USAGE;
    } else if (!coord_fcalls_cli_config("story", &o.shared, &cfg)) {
        rc = S_EXIT_USAGE;
    } else {
        rc = s_tell(&o, &cfg, run, so_far);
        tt_config_fini(&cfg);
    }
    free(err);
    free(so_far);
    coord_xrun_destroy(&run);
    return rc;
}
