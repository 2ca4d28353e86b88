/*  coord_run -- `coordinator run`: set up, loop, finish.
 *
 *  Setup order matters for "bad input loses nothing": config, scenario and
 *  output directory are all checked before anything is written; the log is
 *  opened (or resumed) before any agentd starts; results are written from
 *  what the log holds whatever way the run ends.
 */
#define TT_LOG_MODULE "run"
#include "coord.h"
#include "coord_check.h"
#include "coord_factory.h"
#include "coord_live.h"
#include "coord_web.h"
#include "coord_session_http.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_file.h"
#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"
#include "tt_wire.h"

void
coord_fail(coord_t *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->failure) {
        c->failure = tt_strdup(msg);
        TT_LOG_ERROR("%s", msg);
    }
    c->state = COORD_RUN_DONE;
}

bool
coord_check_transcript(coord_t *c)
{
    int e = coord_transcript_errno(c->transcript);
    if (e)
        coord_fail(c, "cannot write %s: %s", coord_transcript_path(c->transcript), strerror(e));
    return e == 0;
}

/* ------------------------------------------------------------------ loop */

static int
s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    coord_t *c = arg;
    coord_peers_tick(c);
    if (c->state == COORD_RUN_PLACING) {
        if (coord_place_all_ready(c)) {
            if (!c->startup_ms) {
                c->startup_ms = tt_now_ms() - c->started_ms;
                TT_LOG_INFO("all %zu agents ready after %lld ms", c->n_agents,
                            (long long)c->startup_ms);
                char ms[32];
                snprintf(ms, sizeof ms, "%lld", (long long)c->startup_ms);
                coord_results_note(c->results, "startup_ms", ms);
            }
            if (c->session)
                coord_session_ready(c);
            else if (c->committed_step >= c->total_steps)
                c->state = COORD_RUN_DONE;
            else
                coord_step_begin(c);
        } else if (tt_now_ms() - c->placing_since_ms >
                   (int64_t)c->config.register_timeout_s * 1000) {
            size_t ready = 0;
            for (size_t i = 0; i < c->n_agents; i++)
                ready += c->agents[i].state == COORD_AGENT_READY;
            coord_fail(
                c,
                "only %zu of %zu agents have a slot %s %d s%s (start more with "
                "`agentd --connect %s --slots N`)",
                ready, c->n_agents, c->opts.external ? "after" : "and no agentd registered for",
                c->config.register_timeout_s,
                c->opts.external ? "" : " although agentds were started locally", c->endpoint);
        }
    }
    coord_step_tick(c);
    coord_batch_flush(c);
    coord_progress_draw(c);
    return c->state == COORD_RUN_DONE ? -1 : 0;
}

/* ------------------------------------------------------------------ setup */

static int
s_setup_config(coord_t *c)
{
    char *err = NULL;
    const coord_overrides_t *ov = c->opts.overrides;
    tt_config_flags_t flags = {.llm = c->opts.llm,
                               .model = c->opts.model,
                               .settings = ov ? coord_overrides_config(ov) : NULL,
                               .settings_flag = "--set config."};
    tt_err_t rc = tt_config_setup_flags(&c->config, c->opts.config_path, &flags, &err);
    if (!rc && ov && coord_overrides_touch_scenario(ov))
        rc = coord_overrides_apply(ov, c->opts.scenario_path, &c->scenario_text, &err);
    if (rc)
        fprintf(stderr, "coordinator: %s\n", err ? err : tt_strerror(rc));
    free(err);
    return rc ? 2 : 0;
}

/* Does the log at path hold a run? A file that ends before its first whole
 * record (killed while writing the header or the SimBegin, or truncated into
 * it) holds none: nothing was recorded, so a run may start over it. A log
 * that is damaged beyond that is "a run" here, and opening it says what is
 * wrong. */
static bool
s_log_holds_run(const char *path)
{
    tt_tlog_verify_t r;
    if (tt_tlog_verify(path, &r) != TT_OK)
        return true;
    return r.records > 0 || r.corrupt;
}

/* Before anything is generated or started: the output directory holds a run
 * exactly when --resume says it does. --resume of a directory whose log
 * holds no whole SimBegin starts the run from the beginning (there is nothing
 * to continue, and a supervisor that always passes --resume must not loop). */
static int
s_check_output(coord_t *c)
{
    c->out_dir = tt_strdup(c->opts.out_dir);
    char *log_path = tt_asprintf("%s/sim.tlog", c->out_dir);
    struct stat st;
    bool exists = stat(log_path, &st) == 0;
    if (exists && !s_log_holds_run(log_path)) {
        if (c->opts.resume)
            fprintf(stderr,
                    "coordinator: %s: nothing to resume (the log ends before its first "
                    "record); starting the run from the beginning\n",
                    log_path);
        c->opts.resume = false;
        exists = false;
    }
    free(log_path);
    if (exists && !c->opts.resume) {
        fprintf(stderr,
                "coordinator: %s already holds a run; use --resume to continue it, or "
                "another --out\n",
                c->out_dir);
        return 2;
    }
    if (!exists && c->opts.resume) {
        fprintf(stderr, "coordinator: %s: no run to resume (no sim.tlog)\n", c->out_dir);
        return 2;
    }
    return 0;
}

static int
s_make_output_dir(const coord_t *c)
{
    if (tt_mkdirs(c->out_dir, 0700)) {
        fprintf(stderr, "coordinator: cannot create %s: %s\n", c->out_dir, strerror(errno));
        return 2;
    }
    return 0;
}

/* name inside the replayed run's directory (--replay DIR/sim.tlog), when
 * there is one and it exists; else NULL. Caller frees. */
static char *
s_replayed(const coord_t *c, const char *name)
{
    if (!c->opts.replay_path)
        return NULL;
    char *copy = tt_strdup(c->opts.replay_path);
    char *slash = strrchr(copy, '/');
    char *path = tt_asprintf("%s/%s", slash ? (*slash = '\0', copy) : ".", name);
    free(copy);
    struct stat st;
    if (stat(path, &st) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

/* The scenario's "factory" people, made in OUT/factory (kept there on
 * --resume; served from the replayed run's factory directory on --replay).
 * *folder is that directory. */
static int
s_run_factory(coord_t *c, char **folder)
{
    char *replay_dir = s_replayed(c, "factory");
    char *err = NULL;
    tt_err_t rc =
        coord_factory_for_scenario_text(c->opts.scenario_path, c->scenario_text, c->out_dir,
                                        replay_dir, &c->config, c->opts.quiet, folder, &err);
    free(replay_dir);
    if (rc)
        fprintf(stderr, "coordinator: %s\n", err ? err : tt_strerror(rc));
    free(err);
    return !rc ? 0 : rc == TT_EINVAL ? 2 : 1;
}

/* The agents' "web" pages, read into OUT/web (kept there on --resume; served
 * from the replayed run's directory on --replay). */
static int
s_read_web(coord_t *c)
{
    char *replay_dir = s_replayed(c, ".");
    char *err = NULL;
    tt_err_t rc = coord_web_ground(c->scenario, c->out_dir, replay_dir, c->config.timeout_s, &err);
    free(replay_dir);
    if (rc)
        fprintf(stderr, "coordinator: %s\n", err ? err : tt_strerror(rc));
    free(err);
    return !rc ? 0 : rc == TT_EINVAL ? 2 : 1;
}

static int
s_load_scenario(coord_t *c, const char *generated_dir)
{
    char *err = NULL;
    coord_scenario_destroy(&c->scenario);
    tt_err_t rc = c->opts.serve
                      ? coord_scenario_load_session(c->opts.scenario_path, &c->scenario, &err)
                      : coord_scenario_load_text(c->opts.scenario_path, c->scenario_text,
                                                 generated_dir, &c->scenario, &err);
    if (!rc && c->opts.serve && c->scenario->factory) {
        err = tt_asprintf("%s: a session makes people with TinyPersonFactory (or `coordinator "
                          "factory`), not with a \"factory\" section",
                          c->opts.scenario_path);
        rc = TT_EINVAL;
    }
    if (rc) {
        fprintf(stderr, "%s\n", err);
        free(err);
        return 2;
    }
    return 0;
}

/* Before anything is written or spent: one small call proves the endpoint,
 * the key and the model (not for the offline model, nor under --replay). */
static int
s_check_model(coord_t *c)
{
    if (c->opts.replay_path)
        return 0;
    char *err = NULL;
    tt_err_t rc = coord_check_model(&c->config, &err);
    if (rc)
        fprintf(stderr, "coordinator: %s\n", err ? err : tt_strerror(rc));
    free(err);
    return rc ? 1 : 0;
}

/* The scenario is checked in full before its factory spends any model call;
 * then loaded again with the people the factory made. */
static int
s_setup_scenario(coord_t *c)
{
    int rc = s_load_scenario(c, NULL);
    if (!rc)
        rc = s_check_model(c);
    if (!rc && c->scenario->factory) {
        char *folder = NULL;
        rc = s_make_output_dir(c);
        if (!rc)
            rc = s_run_factory(c, &folder);
        if (!rc)
            rc = s_load_scenario(c, folder);
        free(folder);
    }
    if (!rc && coord_web_needed(c->scenario)) {
        rc = s_make_output_dir(c);
        if (!rc)
            rc = s_read_web(c);
    }
    if (rc)
        return rc;
    coord_scenario_t *s = c->scenario;
    if (c->opts.has_seed)
        s->seed = c->opts.seed;
    c->total_steps = c->opts.serve ? 0 : c->opts.steps >= 0 ? (uint32_t)c->opts.steps : s->steps;
    c->n_agents = s->n_agents;
    c->outbox_last = -1;
    c->agents = tt_calloc(c->n_agents, sizeof *c->agents);
    for (size_t i = 0; i < c->n_agents; i++) {
        c->agents[i].index = (uint32_t)i;
        c->agents[i].name = tt_persona_name(s->agents[i].persona);
        c->agents[i].peer = -1;
        c->agents[i].status = "ok";
    }
    c->order = tt_calloc(c->n_agents + 1, sizeof *c->order);
    c->intervention_fired = tt_calloc(s->n_interventions + 1, sizeof(bool));
    c->fired_now = json_array();
    c->max_concurrency = c->opts.max_concurrency > 0 ? (size_t)c->opts.max_concurrency
                                                     : (size_t)c->config.max_concurrent_calls;
    /* an agentd may have as many model calls in flight as agents may act at once */
    c->config.max_concurrent_calls = (int)c->max_concurrency;
    json_t *cfg = json_pack("{s:o, s:I}", "config", tt_config_to_json(&c->config), "seed",
                            (json_int_t)s->seed);
    c->agent_config = cfg;
    c->world = coord_world_new(s);
    if (s->skip_steps)
        coord_world_skip(c->world, s->skip_steps);
    if (c->opts.serve)
        c->session = coord_session_new(c);
    return 0;
}

static int
s_setup_output(coord_t *c)
{
    int rc = s_make_output_dir(c);
    if (rc)
        return rc;
    char *log_path = tt_asprintf("%s/sim.tlog", c->out_dir);
    char *err = NULL;
    if (tt_tlog_open(log_path, TT_TLOG_APPEND, &c->log, &err)) {
        fprintf(stderr, "coordinator: %s\n", err ? err : log_path);
        rc = 2;
    }
    free(err);
    err = NULL;
    char *tr_path = tt_asprintf("%s/transcript.txt", c->out_dir);
    if (!rc && coord_transcript_open(tr_path, c->opts.quiet, &c->transcript)) {
        fprintf(stderr, "coordinator: cannot write %s\n", tr_path);
        rc = 2;
    }
    free(tr_path);
    if (!rc) {
        tt_err_t e = c->opts.resume ? coord_record_resume(c, &err) : coord_record_begin(c, &err);
        if (e) {
            fprintf(stderr, "coordinator: %s\n", err ? err : tt_strerror(e));
            rc = e == TT_EIO ? 1 : 2;
        }
    }
    if (!rc && c->opts.replay_path && coord_replay_open(c->opts.replay_path, &c->replay, &err)) {
        fprintf(stderr, "coordinator: %s\n", err ? err : c->opts.replay_path);
        rc = 2;
    }
    free(err);
    free(log_path);
    return rc;
}

/* SIGUSR1 (blocked in every thread since main, read here through a signalfd)
 * asks for a checkpoint: a named record after the step in progress commits. */
static int
s_on_signal(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    coord_t *c = arg;
    struct signalfd_siginfo si;
    while (read(item->fd, &si, sizeof si) == (ssize_t)sizeof si)
        c->checkpoint_requested = true;
    if (c->checkpoint_requested)
        TT_LOG_INFO("SIGUSR1: a checkpoint after step %u", c->committed_step + 1);
    return 0;
}

static void
s_watch_signals(coord_t *c)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    c->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (c->signal_fd < 0) {
        TT_LOG_WARN("no checkpoints on SIGUSR1: signalfd: %s", strerror(errno));
        return;
    }
    zmq_pollitem_t item = {.fd = c->signal_fd, .events = ZMQ_POLLIN};
    zloop_poller(c->loop, &item, s_on_signal, c);
}

/* A run whose every step committed still failed when more agent-steps failed
 * (or timed out) than --max-failed-steps allows; the log's SimEnd keeps
 * "completed" (every step is there), what people read says "failed". A
 * session's turns are judged by its client. */
static const char *
s_judge_failures(coord_t *c, const char *reason)
{
    char *why = NULL;
    if (c->session || !c->results || strcmp(reason, "completed") ||
        !coord_results_too_many_failures(c->results, c->opts.max_failed_steps,
                                         c->opts.max_failed_share, &why))
        return reason;
    free(c->failure);
    c->failure = why;
    return "failed";
}

static void
s_finish(coord_t *c)
{
    bool ended = c->session ? coord_session_ended(c) : c->committed_step >= c->total_steps;
    const char *reason = c->failure         ? "failed"
                         : zsys_interrupted ? "interrupted"
                         : ended            ? "completed"
                                            : "interrupted";
    coord_progress_clear(c);
    if (c->log && !c->already_complete)
        coord_record_end(c, reason);
    coord_session_finish(c);
    coord_peers_shutdown(c, reason);
    reason = s_judge_failures(c, reason);
    char hex[TT_SHA256_HEX_LEN + 1] = "";
    if (c->log)
        tt_hex(tt_tlog_last_hash(c->log), TT_SHA256_LEN, hex);
    if (c->results) {
        if (c->divergence)
            coord_results_note(c->results, "replay_divergence", c->divergence);
        if (c->failure)
            coord_results_note(c->results, "failure", c->failure);
        json_t *ov = c->opts.overrides ? coord_overrides_json(c->opts.overrides) : NULL;
        if (json_object_size(ov))
            coord_results_set(c->results, "overrides", json_incref(ov));
        json_decref(ov);
        if (coord_results_write(c->results, c->out_dir, hex, reason) != TT_OK)
            coord_fail(c, "cannot write the results in %s (results.json, results.csv)", c->out_dir);
    }
    char line[1024];
    snprintf(line, sizeof line, "\nRun %s: %u of %u steps, final hash %.16s%s%s\n", reason,
             c->committed_step, c->total_steps, hex, c->failure ? "; " : "",
             c->failure ? c->failure : "");
    if (c->transcript) {
        coord_transcript_footer(c->transcript, line);
        coord_check_transcript(c);
    }
    if (!c->opts.quiet)
        fprintf(stderr,
                "troupe: %s, %u of %u steps, %llu model calls and %llu tokens in this "
                "session, %.1f s; output in %s\n",
                reason, c->committed_step, c->total_steps, (unsigned long long)c->llm_calls,
                (unsigned long long)c->tokens, (double)(tt_now_ms() - c->started_ms) / 1000.0,
                c->out_dir);
    if (!strcmp(reason, "completed") && !c->failure) /* an output lost is a failed run */
        c->exit_code = 0;
    else if (c->failure)
        fprintf(stderr, "coordinator: run failed: %s\n", c->failure);
    else
        fprintf(stderr, "coordinator: interrupted after step %u; continue with --resume\n",
                c->committed_step);
}

static void
s_destroy(coord_t *c)
{
    coord_peers_destroy(c);
    zloop_destroy(&c->loop);
    if (c->signal_fd >= 0)
        close(c->signal_fd);
    tt_llm_destroy(&c->llm);
    coord_session_destroy(&c->session);
    coord_live_stop(&c->live);
    for (size_t i = 0; i < c->n_agents; i++) {
        coord_world_input_free(&c->agents[i].input);
        tt_wire_free_actions(&c->agents[i].answer);
    }
    free(c->agents);
    free(c->order);
    free(c->intervention_fired);
    json_decref(c->fired_now);
    free(c->step_records);
    coord_record_parts_fini(c);
    json_decref(c->agent_config);
    free(c->divergence);
    free(c->failure);
    free(c->unborn_why);
    free(c->out_dir);
    free(c->scenario_text);
    coord_replay_close(&c->replay);
    coord_results_destroy(&c->results);
    coord_transcript_close(&c->transcript);
    tt_tlog_close(&c->log);
    coord_world_destroy(&c->world);
    coord_scenario_destroy(&c->scenario);
    tt_config_fini(&c->config);
}

/* Without --slots: one agentd per agent up to COORD_AUTO_SLOTS_FROM agents,
 * beyond that about COORD_AGENTDS_PER_CORE slot agentds per core (a process
 * per agent of a large population only makes the machine thrash). */
static void
s_choose_slots(coord_t *c)
{
    if (c->opts.slots > 0)
        return;
    c->opts.slots = 1;
    if (c->opts.external || c->n_agents <= COORD_AUTO_SLOTS_FROM)
        return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t procs = (size_t)(cores > 0 ? cores : 1) * COORD_AGENTDS_PER_CORE;
    c->opts.slots = (uint32_t)((c->n_agents + procs - 1) / procs);
    if (!c->opts.serve) /* --quiet silences the transcript only */
        fprintf(stderr, "coordinator: %zu agents: %zu agentds of %u slots (--slots N to choose)\n",
                c->n_agents, (c->n_agents + c->opts.slots - 1) / c->opts.slots, c->opts.slots);
}

int
coord_run(const coord_run_opts_t *opts)
{
    coord_t c = {0};
    c.signal_fd = -1;
    c.opts = *opts;
    c.exit_code = 1;
    c.started_ms = tt_now_ms();
    int rc = s_setup_config(&c);
    if (!rc)
        rc = s_check_output(&c);
    if (!rc)
        rc = s_setup_scenario(&c);
    if (!rc)
        rc = s_setup_output(&c);
    if (rc) {
        s_destroy(&c);
        return rc;
    }
    s_choose_slots(&c);
    coord_announce_model(&c.config, "coordinator");
    if (c.state == COORD_RUN_DONE) {
        fprintf(stderr, "coordinator: %s: the run is already complete (%u steps)\n", c.out_dir,
                c.committed_step);
        c.already_complete = true;
        s_finish(&c);
        rc = c.exit_code;
        s_destroy(&c);
        return rc;
    }
    char *err = NULL;
    c.peer_index = zhash_new();
    if (coord_peers_bind(&c, &err)) {
        fprintf(stderr, "coordinator: %s\n", err);
        free(err);
        s_destroy(&c);
        return 2;
    }
    c.loop = zloop_new();
    zloop_reader(c.loop, c.router, coord_peers_on_message, &c);
    if (coord_gate_start(&c, &err)) {
        fprintf(stderr, "coordinator: %s\n", err);
        free(err);
        s_destroy(&c);
        return 2;
    }
    zloop_timer(c.loop, COORD_TICK_MS, 0, s_on_tick, &c);
    s_watch_signals(&c);
    if (c.opts.serve_report) {
        const char *url = NULL;
        if (coord_live_start(c.out_dir, (unsigned)c.opts.report_port, &c.live, &url, &err)) {
            fprintf(stderr, "coordinator: %s\n", err);
            free(err);
            s_destroy(&c);
            return 2;
        }
        fprintf(stderr, "troupe: live report at %s (refreshed as steps commit)\n", url);
    }
    if (c.session && (rc = coord_session_start(&c, &err)) != 0) {
        fprintf(stderr, "coordinator: %s\n", err);
        free(err);
        s_destroy(&c);
        return rc;
    }
    c.state = COORD_RUN_PLACING;
    c.placing_since_ms = tt_now_ms();
    if (!c.opts.external) {
        size_t procs = (c.n_agents + c.opts.slots - 1) / c.opts.slots;
        if (coord_peers_start(&c, procs, &err)) {
            fprintf(stderr, "coordinator: %s\n", err);
            free(err);
            s_destroy(&c);
            return 1;
        }
    } else if (!c.opts.quiet) {
        fprintf(stderr, "coordinator: waiting for agentds: agentd --connect %s --slots N%s\n",
                c.endpoint, c.server_public ? " --server-key KEY --cert FILE" : "");
    }
    if (c.committed_step >= c.total_steps && !c.session)
        c.state = COORD_RUN_DONE;
    else
        zloop_start(c.loop);
    s_finish(&c);
    rc = c.exit_code;
    s_destroy(&c);
    return rc;
}

/* ------------------------------------------------------------------ CLI */

static void
s_usage(FILE *out)
{
    fprintf(out,
            "Usage: coordinator run SCENARIO.json --out DIR [options]\n"
            "\n"
            "Runs a simulation: one agentd per agent (local mode), or the agentds that\n"
            "connect to --listen (--external). Writes DIR/sim.tlog, DIR/transcript.txt,\n"
            "DIR/results.json, DIR/results.csv and DIR/agents/NAME/ (agent memory).\n"
            "\n"
            "Options:\n"
            "  --out DIR              where the run is written (required)\n"
            "  --steps N              number of steps (default: the scenario's)\n"
            "  --seed S               override the scenario's seed\n"
            "  --llm PROVIDER         offline, openai, azure or ollama (default: from config\n"
            "                         and environment; offline when no key and no base URL)\n"
            "  --model NAME           the model (default: TROUPE_MODEL, then config.ini MODEL);\n"
            "                         checked with one small call before step 1\n"
            "  --set KEY.PATH=VALUE   override a scenario value (world.step=PT5M, steps=8,\n"
            "                         events[0].content=Hi) or a config.ini one\n"
            "                         (config.OpenAI.TEMPERATURE=0.2); VALUE is JSON when it\n"
            "                         parses, else text; repeatable. The edited scenario is\n"
            "                         what the log records: --resume needs the same --set\n"
            "  --max-failed-steps N   agent-steps that may fail (or time out) in a run that\n"
            "                         still succeeds: a count, or a share such as 5%% (default 0)\n"
            "  --max-concurrency K    agents acting at once (default MAX_CONCURRENT_MODEL_CALLS\n"
            "                         if config.ini sets it, else no cap: the model's 429s\n"
            "                         and rate-limit headers set the pace)\n"
            "  --replay OLD.tlog      serve recorded model answers; call the model only from\n"
            "                         the first divergence on\n"
            "  --resume               continue the run in DIR after its last committed step\n"
            "  --config FILE          config.ini to read (default ./config.ini if present)\n"
            "  --slots N              agents per locally started agentd (default 1; beyond\n"
            "                         256 agents, about 4 agentds per core)\n"
            "  --listen ENDPOINT      where agentds connect (default tcp://127.0.0.1:*)\n"
            "  --external             start no agentd; wait for agentds to connect\n"
            "  --keys DIR             CURVE keys (from `coordinator keygen DIR`); required to\n"
            "                         listen beyond loopback\n"
            "  --insecure             listen beyond loopback without CURVE\n"
            "  --quiet                no transcript on stdout (the file is still written)\n"
            "  --no-progress          no progress line on stderr (none either when stderr is\n"
            "                         not a terminal)\n"
            "  --serve-report PORT    serve the report of the run in progress on\n"
            "                         http://127.0.0.1:PORT/ (0: any free port), refreshed as\n"
            "                         steps commit\n"
            "  --log-level LEVEL      error, warn, info, debug\n"
            "  --help\n"
            "\n"
            "Size limits (README, Size limits): a persona is at most 256 KiB as JSON, an\n"
            "event's text 16 KiB, one agent's documents 16 MiB of text (split into parts of\n"
            "1 MiB); larger inputs are refused as FILE:LINE:COL, exit 2. A model answer is\n"
            "at most 8 MiB (RESPONSE_CAP_KB may lower it): a larger one fails its call.\n"
            "\n"
            "Signals: SIGUSR1 records a checkpoint after the step in progress; SIGINT or\n"
            "SIGTERM stops the run, keeping every committed step (continue with --resume).\n"
            "Exit status: 0 success; 1 the run failed: the model check before step 1 failed,\n"
            "the run stopped, or more agent-steps failed than --max-failed-steps allows\n"
            "(results.json and the transcript's last line then say \"failed\"); 2 bad usage\n"
            "or bad input.\n");
}

static void
s_serve_usage(FILE *out)
{
    fprintf(out, "Usage: coordinator serve --out DIR [SCENARIO.json] [options]\n"
                 "\n"
                 "Holds a simulation open and takes commands over HTTP (docs/session-api.md): the\n"
                 "session the `troupe` Python package drives. Every command that changes the\n"
                 "simulation is a record in DIR/sim.tlog. When ready it writes DIR/session.token\n"
                 "(a random token every request must carry) and DIR/session.json (the URL).\n"
                 "\n"
                 "Options (the others as for `coordinator run`):\n"
                 "  --out DIR              where the session is written (required)\n"
                 "  --http HOST:PORT       where the API listens (default 127.0.0.1:0, loopback\n"
                 "                         and a free port; beyond loopback only with TLS)\n"
                 "  --tls-cert FILE        PEM certificate and key of the API (HTTPS)\n"
                 "  --tls-key FILE\n"
                 "  --replay OLD.tlog      serve the recorded model answers of an earlier session\n"
                 "  --resume               continue the session in DIR after a crash\n"
                 "  --seed S, --llm PROVIDER, --model NAME, --config FILE,\n"
                 "  --set config.SECTION.KEY=VALUE, --slots N, --max-concurrency K,\n"
                 "  --listen ENDPOINT, --external, --keys DIR, --insecure, --quiet,\n"
                 "  --log-level LEVEL, --help\n"
                 "\n"
                 "Exit status: 0 after the `end` command, 1 the session failed or was\n"
                 "interrupted (continue it with --resume), 2 bad usage or bad input.\n");
}

static int
s_serve_main(coord_run_opts_t *o, int argc, char **argv)
{
    if (optind + 1 < argc || !o->out_dir) {
        fprintf(stderr, "coordinator serve: %s\n",
                !o->out_dir ? "--out DIR is required" : "one scenario file at most");
        s_serve_usage(stderr);
        return 2;
    }
    if (o->external && !o->listen) {
        fprintf(stderr, "coordinator serve: --external needs --listen ENDPOINT\n");
        return 2;
    }
    if (o->steps >= 0) {
        fprintf(stderr, "coordinator serve: --steps is for `run`; a session runs what it is "
                        "told\n");
        return 2;
    }
    coord_session_http_opts_t http = {
        .address = o->http, .tls_cert = o->tls_cert, .tls_key = o->tls_key};
    char *err = NULL;
    if (coord_session_http_check(&http, &err)) {
        fprintf(stderr, "coordinator serve: %s\n", err);
        free(err);
        return 2;
    }
    o->scenario_path = optind < argc ? argv[optind] : NULL;
    return coord_run(o);
}

static bool
s_number(const char *text, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < 0 || v > max)
        return false;
    *out = v;
    return true;
}

/* --max-failed-steps: N (a count) or P% (a share of the run's agent-steps). */
static bool
s_failed_steps(const char *text, coord_run_opts_t *o)
{
    size_t len = strlen(text);
    if (len > 1 && text[len - 1] == '%') {
        char *end;
        errno = 0;
        double p = strtod(text, &end);
        if (errno || end != text + len - 1 || !(p >= 0 && p <= 100))
            return false;
        o->max_failed_steps = -1;
        o->max_failed_share = p / 100.0;
        return true;
    }
    return s_number(text, LONG_MAX, &o->max_failed_steps);
}

/* Parse `run` arguments into o (--set into ov). Returns -1 to run, or the
 * exit code (0 after --help, 2 for bad usage). */
static int
s_parse(int argc, char **argv, coord_run_opts_t *o, coord_overrides_t *ov)
{
    static const struct option options[] = {{"out", required_argument, NULL, 'o'},
                                            {"steps", required_argument, NULL, 'n'},
                                            {"seed", required_argument, NULL, 's'},
                                            {"llm", required_argument, NULL, 'L'},
                                            {"max-concurrency", required_argument, NULL, 'k'},
                                            {"replay", required_argument, NULL, 'r'},
                                            {"resume", no_argument, NULL, 'R'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"slots", required_argument, NULL, 'S'},
                                            {"listen", required_argument, NULL, 'l'},
                                            {"external", no_argument, NULL, 'e'},
                                            {"keys", required_argument, NULL, 'K'},
                                            {"insecure", no_argument, NULL, 'I'},
                                            {"quiet", no_argument, NULL, 'q'},
                                            {"log-level", required_argument, NULL, 'v'},
                                            {"model", required_argument, NULL, 'M'},
                                            {"set", required_argument, NULL, 'D'},
                                            {"max-failed-steps", required_argument, NULL, 'F'},
                                            {"no-progress", no_argument, NULL, 'P'},
                                            {"serve-report", required_argument, NULL, 'W'},
                                            {"http", required_argument, NULL, 'H'},
                                            {"tls-cert", required_argument, NULL, 'C'},
                                            {"tls-key", required_argument, NULL, 'Y'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    void (*usage)(FILE *) = o->serve ? s_serve_usage : s_usage;
    char *err = NULL;
    long v;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (ch) {
        case 'o':
            o->out_dir = optarg;
            break;
        case 'n':
            if (!s_number(optarg, COORD_MAX_STEPS, &o->steps))
                return fprintf(stderr, "coordinator: --steps: expected 0..%d\n", COORD_MAX_STEPS),
                       2;
            break;
        case 's':
            if (!s_number(optarg, LONG_MAX, &v))
                return fprintf(stderr, "coordinator: --seed: expected a number\n"), 2;
            o->has_seed = true;
            o->seed = (uint64_t)v;
            break;
        case 'L':
            o->llm = optarg;
            break;
        case 'k':
            if (!s_number(optarg, 1000000, &o->max_concurrency) || o->max_concurrency == 0)
                return fprintf(stderr, "coordinator: --max-concurrency: expected 1..1000000\n"), 2;
            break;
        case 'r':
            o->replay_path = optarg;
            break;
        case 'R':
            o->resume = true;
            break;
        case 'c':
            o->config_path = optarg;
            break;
        case 'S':
            if (!s_number(optarg, 1000000, &v) || v == 0)
                return fprintf(stderr, "coordinator: --slots: expected 1..1000000\n"), 2;
            o->slots = (uint32_t)v;
            break;
        case 'l':
            o->listen = optarg;
            break;
        case 'e':
            o->external = true;
            break;
        case 'K':
            o->keys_dir = optarg;
            break;
        case 'I':
            o->insecure = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'v':
            if (!tt_log_parse_level(optarg, &tt_log_level))
                return fprintf(stderr, "coordinator: --log-level: error, warn, info, debug\n"), 2;
            break;
        case 'M':
            o->model = optarg;
            break;
        case 'D':
            if (coord_overrides_add(ov, optarg, &err)) {
                fprintf(stderr, "coordinator: %s\n", err);
                free(err);
                return 2;
            }
            break;
        case 'F':
            if (!s_failed_steps(optarg, o))
                return fprintf(stderr, "coordinator: --max-failed-steps: expected a count or a "
                                       "share such as 5%%\n"),
                       2;
            break;
        case 'P':
            o->no_progress = true;
            break;
        case 'W':
            o->serve_report = true;
            if (!s_number(optarg, 65535, &o->report_port))
                return fprintf(stderr, "coordinator: --serve-report: expected a port, 0..65535 "
                                       "(0: any free one)\n"),
                       2;
            break;
        case 'H':
            o->http = optarg;
            break;
        case 'C':
            o->tls_cert = optarg;
            break;
        case 'Y':
            o->tls_key = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (o->serve && coord_overrides_touch_scenario(ov)) {
        fprintf(stderr, "coordinator serve: --set changes a scenario of `run`; a session takes "
                        "only --set config.SECTION.KEY=VALUE\n");
        return 2;
    }
    if (o->serve)
        return s_serve_main(o, argc, argv);
    if (o->http || o->tls_cert || o->tls_key) {
        fprintf(stderr, "coordinator run: --http, --tls-cert and --tls-key are for `serve`\n");
        return 2;
    }
    if (optind + 1 != argc || !o->out_dir) {
        fprintf(stderr, "coordinator run: %s\n",
                optind >= argc      ? "a scenario file is required"
                : optind + 1 < argc ? "one scenario file only"
                                    : "--out DIR is required");
        s_usage(stderr);
        return 2;
    }
    if (o->external && !o->listen) {
        fprintf(stderr, "coordinator run: --external needs --listen ENDPOINT\n");
        return 2;
    }
    o->scenario_path = argv[optind];
    return -1;
}

int
coord_run_main(int argc, char **argv)
{
    coord_run_opts_t o = {.steps = -1, .slots = 0, .serve = !strcmp(argv[0], "serve")};
    coord_overrides_t *ov = coord_overrides_new();
    o.overrides = ov;
    int rc = s_parse(argc, argv, &o, ov);
    if (rc < 0)
        rc = coord_run(&o);
    coord_overrides_destroy(&ov);
    return rc;
}
