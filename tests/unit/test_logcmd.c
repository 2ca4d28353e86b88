/*  test_logcmd -- `coordinator log stats|dump|diff|verify` on crafted logs, and
 *  the descriptor-driven protobuf -> JSON converter they print with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord_logcmd.h"
#include "tt_hash.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_pbjson.h"
#include "tt_test.h"
#include "tt_tlog.h"

#define S_AGENTS      3
#define S_MAX_ACTIONS 4

/* What a test changes in its copy of the standard log. */
typedef enum {
    S_SAME,
    S_OTHER_TELEMETRY, /* only wall-clock facts differ */
    S_ACTION,          /* step 2, Oscar says something else */
    S_STIMULUS,        /* step 2, Marcos heard something else */
    S_GOALS,           /* step 1, Lisa wants something else */
    S_EXCHANGE,        /* step 1, Oscar's model answered differently */
    S_STATUS,          /* step 1, Marcos did not fail */
    S_SEED,            /* another seed */
    S_NO_END,          /* the run was cut before SimEnd */
} s_change_t;

/* ------------------------------------------------------------------ builder */

typedef struct {
    Tt__Stimulus stim, *stimp;
    Tt__StepInput input;
    Tt__Action act[S_MAX_ACTIONS], *actp[S_MAX_ACTIONS];
    Tt__CognitiveState cs;
    Tt__Exchange ex[2], *exp[2];
    uint8_t digest[2][TT_SHA256_LEN];
    Tt__AgentStep as;
    Tt__ExchangeTelemetry et[2], *etp[2];
    Tt__AgentTelemetry at;
} s_agent_t;

typedef struct {
    s_agent_t a[S_AGENTS];
    Tt__AgentStep *asp[S_AGENTS];
    Tt__AgentTelemetry *atp[S_AGENTS];
    Tt__StepCommit step;
    Tt__Telemetry tel;
    Tt__RecordBody body;
} s_step_t;

static void
s_tel(Tt__ExchangeTelemetry *t, uint32_t prompt, uint32_t completion, bool replayed, bool cached)
{
    tt__exchange_telemetry__init(t);
    t->has_prompt_tokens = t->has_completion_tokens = 1;
    t->prompt_tokens = prompt;
    t->completion_tokens = completion;
    t->has_replayed = replayed;
    t->replayed = replayed;
    t->has_cached = cached;
    t->cached = cached;
    t->has_latency_ms = 1;
    t->latency_ms = 250;
}

/* One agent's part: action types from a list, n exchanges. */
static void
s_agent(s_agent_t *g, uint32_t index, const char *const *types, int n_ex, s_change_t change,
        uint32_t step)
{
    memset(g, 0, sizeof *g);
    tt__stimulus__init(&g->stim);
    g->stim.type = "CONVERSATION";
    g->stim.content =
        change == S_STIMULUS && index == 2 && step == 2 ? "a different rumour" : "what now?";
    g->stimp = &g->stim;
    tt__step_input__init(&g->input);
    g->input.n_stimuli = 1;
    g->input.stimuli = &g->stimp;
    tt__agent_step__init(&g->as);
    for (int k = 0; types[k]; k++) {
        tt__action__init(&g->act[k]);
        g->act[k].type = (char *)types[k];
        g->act[k].content =
            k == 0 && change == S_ACTION && index == 1 && step == 2 ? "I disagree" : "I agree";
        g->actp[k] = &g->act[k];
        g->as.n_actions++;
    }
    tt__cognitive_state__init(&g->cs);
    g->cs.goals = change == S_GOALS && index == 0 && step == 1 ? "leave early" : "listen";
    for (int j = 0; j < n_ex; j++) {
        tt__exchange__init(&g->ex[j]);
        memset(g->digest[j], (int)(index * 8 + (uint32_t)j + step * 64), TT_SHA256_LEN);
        g->ex[j].request_digest.len = TT_SHA256_LEN;
        g->ex[j].request_digest.data = g->digest[j];
        g->ex[j].response =
            change == S_EXCHANGE && index == 1 && step == 1 ? "{\"other\":1}" : "{\"ok\":1}";
        g->ex[j].purpose = "turn";
        g->exp[j] = &g->ex[j];
        g->etp[j] = &g->et[j];
    }
    g->as.agent = index;
    g->as.input = &g->input;
    g->as.actions = g->actp;
    g->as.cognitive_state = &g->cs;
    g->as.n_exchanges = (size_t)n_ex;
    g->as.exchanges = g->exp;
    g->as.status = "ok";
    tt__agent_telemetry__init(&g->at);
    g->at.agent = index;
    g->at.n_exchanges = (size_t)n_ex;
    g->at.exchanges = g->etp;
}

/* Step 1: Lisa TALK DONE with a call and a replay; Oscar THINK TALK DONE served
 * from the cache; Marcos DONE, failed, with an exchange but no telemetry.
 * Telemetry lists Oscar before Lisa: it is matched by agent index. */
static void
s_step1(s_step_t *s, s_change_t change)
{
    static const char *const lisa[] = {"TALK", "DONE", NULL};
    static const char *const oscar[] = {"THINK", "TALK", "DONE", NULL};
    static const char *const marcos[] = {"DONE", NULL};
    s_agent(&s->a[0], 0, lisa, 2, change, 1);
    s_agent(&s->a[1], 1, oscar, 1, change, 1);
    s_agent(&s->a[2], 2, marcos, 1, change, 1);
    s->a[2].as.status = change == S_STATUS ? "ok" : "failed";
    s->a[2].as.error = change == S_STATUS ? NULL : "timeout";
    s_tel(&s->a[0].et[0], 100, 20, false, false);
    s_tel(&s->a[0].et[1], 50, 5, true, false);
    s_tel(&s->a[1].et[0], 70, 7, false, true);
    s->atp[0] = &s->a[1].at;
    s->atp[1] = &s->a[0].at;
    tt__telemetry__init(&s->tel);
    s->tel.has_wall_ms = 1;
    s->tel.wall_ms = change == S_OTHER_TELEMETRY ? 9999 : 1500;
    s->tel.n_agents = 2;
    s->tel.agents = s->atp;
}

/* Step 2: everyone TALK DONE with one exchange; the record has no telemetry. */
static void
s_step2(s_step_t *s, s_change_t change)
{
    static const char *const talk[] = {"TALK", "DONE", NULL};
    for (uint32_t i = 0; i < S_AGENTS; i++)
        s_agent(&s->a[i], i, talk, 1, change, 2);
}

static void
s_append_step(tt_tlog_t *log, uint32_t n, s_change_t change)
{
    s_step_t *s = tt_new(s_step_t);
    if (n == 1)
        s_step1(s, change);
    else
        s_step2(s, change);
    for (int i = 0; i < S_AGENTS; i++)
        s->asp[i] = &s->a[i].as;
    tt__step_commit__init(&s->step);
    s->step.step = n;
    s->step.datetime = n == 1 ? "2026-03-01T09:10:00" : "2026-03-01T09:20:00";
    s->step.n_agents = S_AGENTS;
    s->step.agents = s->asp;
    tt__record_body__init(&s->body);
    s->body.kind_case = TT__RECORD_BODY__KIND_STEP;
    s->body.step = &s->step;
    assert_int_equal(tt_tlog_append(log, &s->body, n == 1 ? &s->tel : NULL, false), TT_OK);
    free(s);
}

static void
s_append_begin(tt_tlog_t *log, s_change_t change)
{
    static const char *names[S_AGENTS] = {"Lisa", "Oscar", "Marcos"};
    uint8_t digest[TT_SHA256_LEN];
    memset(digest, 0x5a, sizeof digest);
    Tt__AgentInfo ai[S_AGENTS], *aip[S_AGENTS];
    for (int i = 0; i < S_AGENTS; i++) {
        tt__agent_info__init(&ai[i]);
        ai[i].name = (char *)names[i];
        ai[i].persona_json = "{}";
        aip[i] = &ai[i];
    }
    Tt__SimBegin b = TT__SIM_BEGIN__INIT;
    b.version = "0.1.0";
    b.scenario_digest.len = b.config_digest.len = TT_SHA256_LEN;
    b.scenario_digest.data = b.config_digest.data = digest;
    b.seed = change == S_SEED ? 43 : 42;
    b.scenario_name = "focus group";
    b.scenario_json = "{}";
    b.n_agents = S_AGENTS;
    b.agents = aip;
    b.world_start = "2026-03-01T09:00:00";
    b.step_seconds = 600;
    b.steps = 2;
    b.mode = "parallel";
    b.provider = "offline";
    b.model = "offline-1";
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_BEGIN;
    body.begin = &b;
    assert_int_equal(tt_tlog_append(log, &body, NULL, false), TT_OK);
}

static void
s_append_intervention(tt_tlog_t *log)
{
    uint8_t digest[TT_SHA256_LEN];
    memset(digest, 0x11, sizeof digest);
    Tt__Exchange ex = TT__EXCHANGE__INIT, *exp = &ex;
    ex.request_digest.len = TT_SHA256_LEN;
    ex.request_digest.data = digest;
    ex.response = "true";
    ex.purpose = "judge";
    Tt__Intervention iv = TT__INTERVENTION__INIT;
    iv.step = 1;
    iv.name = "nudge";
    iv.n_exchanges = 1;
    iv.exchanges = &exp;
    Tt__ExchangeTelemetry et, *etp = &et;
    s_tel(&et, 30, 3, false, false);
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.n_exchanges = 1;
    tel.exchanges = &etp;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_INTERVENTION;
    body.intervention = &iv;
    assert_int_equal(tt_tlog_append(log, &body, &tel, false), TT_OK);
}

/* begin, step 1, intervention, step 2, checkpoint, end: 6 records. */
static void
s_write(const char *path, s_change_t change)
{
    tt_tlog_t *log;
    unlink(path);
    assert_int_equal(tt_tlog_open(path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    s_append_begin(log, change);
    s_append_step(log, 1, change);
    s_append_intervention(log);
    s_append_step(log, 2, change);
    Tt__Checkpoint cp = TT__CHECKPOINT__INIT;
    cp.step = 2;
    cp.name = "mid";
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_CHECKPOINT;
    body.checkpoint = &cp;
    assert_int_equal(tt_tlog_append(log, &body, NULL, false), TT_OK);
    if (change != S_NO_END) {
        Tt__SimEnd end = TT__SIM_END__INIT;
        end.steps = 2;
        end.reason = "completed";
        body.kind_case = TT__RECORD_BODY__KIND_END;
        body.end = &end;
        assert_int_equal(tt_tlog_append(log, &body, NULL, true), TT_OK);
    }
    tt_tlog_close(&log);
}

/* ------------------------------------------------------------------- runner */

typedef struct {
    char *dir;
    char *a; /* dir/a.tlog, the standard log */
    char *b; /* dir/b.tlog, for comparisons */
    char *out;
    char *err;
    size_t out_len, err_len;
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *fx = tt_new(s_fix_t);
    fx->dir = tt_test_tmpdir("logcmd");
    fx->a = tt_asprintf("%s/a.tlog", fx->dir);
    fx->b = tt_asprintf("%s/b.tlog", fx->dir);
    s_write(fx->a, S_SAME);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *fx = *state;
    tt_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx->a);
    free(fx->b);
    free(fx->out);
    free(fx->err);
    free(fx);
    return 0;
}

/* Run `log ARGS...` (NULL-terminated) capturing stdout and stderr. */
static int
s_run(s_fix_t *fx, ...)
{
    char *argv[16] = {"log"};
    int argc = 1;
    va_list ap;
    va_start(ap, fx);
    for (char *arg; argc < 15 && (arg = va_arg(ap, char *)) != NULL;)
        argv[argc++] = arg;
    va_end(ap);
    free(fx->out);
    free(fx->err);
    FILE *out = open_memstream(&fx->out, &fx->out_len);
    FILE *err = open_memstream(&fx->err, &fx->err_len);
    int rc = coord_logcmd_run(argc, argv, out, err);
    fclose(out);
    fclose(err);
    return rc;
}

static json_t *
s_parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    if (!v)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    return v;
}

static json_int_t
s_int(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", key);
    return json_integer_value(v);
}

/* -------------------------------------------------------------------- stats */

static void
test_stats_counts_everything(void **state)
{
    s_fix_t *fx = *state;
    assert_int_equal(s_run(fx, "stats", fx->a, NULL), 0);
    json_t *s = s_parse(fx->out);
    assert_int_equal(s_int(s, "steps"), 2);
    assert_int_equal(s_int(s, "agents"), 3);
    assert_int_equal(s_int(s, "records"), 6);
    assert_int_equal(s_int(s, "actions"), 12);
    json_t *by = json_object_get(s, "actions_by_type");
    assert_int_equal(s_int(by, "TALK"), 5);
    assert_int_equal(s_int(by, "DONE"), 6);
    assert_int_equal(s_int(by, "THINK"), 1);
    assert_int_equal(json_object_size(by), 3);
    /* calls: Lisa's first (step 1), Marcos' without telemetry, the intervention's,
     * the three of step 2 without telemetry; one replayed, one cached */
    assert_int_equal(s_int(s, "llm_calls"), 6);
    assert_int_equal(s_int(s, "llm_replayed"), 1);
    assert_int_equal(s_int(s, "llm_cached"), 1);
    assert_int_equal(s_int(s, "exchanges"), 8);
    assert_int_equal(s_int(s, "prompt_tokens"), 100 + 30);
    assert_int_equal(s_int(s, "completion_tokens"), 20 + 3);
    assert_int_equal(s_int(s, "recorded_prompt_tokens"), 100 + 50 + 70 + 30);
    assert_int_equal(s_int(s, "interventions"), 1);
    assert_int_equal(s_int(s, "checkpoints"), 1);
    assert_int_equal(s_int(s, "failed_agent_steps"), 1);
    assert_int_equal(s_int(s, "wall_ms"), 1500);
    assert_int_equal(s_int(s, "seed"), 42);
    assert_true(json_is_true(json_object_get(s, "complete")));
    assert_true(json_is_true(json_object_get(s, "offline")));
    assert_string_equal(json_string_value(json_object_get(s, "scenario")), "focus group");
    assert_string_equal(json_string_value(json_object_get(s, "provider")), "offline");
    assert_string_equal(json_string_value(json_object_get(s, "model")), "offline-1");
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->a, TT_TLOG_READ, &log, NULL), TT_OK);
    char hex[TT_SHA256_HEX_LEN + 1];
    tt_hex(tt_tlog_last_hash(log), TT_SHA256_LEN, hex);
    tt_tlog_close(&log);
    assert_string_equal(json_string_value(json_object_get(s, "final_hash")), hex);
    json_decref(s);

    /* Compact is one line; an unfinished run is not complete. */
    s_write(fx->b, S_NO_END);
    assert_int_equal(s_run(fx, "stats", "--compact", fx->b, NULL), 0);
    assert_int_equal(tt_test_count(fx->out, "\n"), 1);
    s = s_parse(fx->out);
    assert_true(json_is_false(json_object_get(s, "complete")));
    json_decref(s);
}

/* --------------------------------------------------------------------- dump */

static void
test_dump_prints_every_record(void **state)
{
    s_fix_t *fx = *state;
    assert_int_equal(s_run(fx, "dump", fx->a, NULL), 0);
    assert_int_equal(tt_test_count(fx->out, "\n"), 6);
    static const char *kinds[] = {"begin", "step", "intervention", "step", "checkpoint", "end"};
    char *line = fx->out, prev[TT_SHA256_HEX_LEN + 1];
    memset(prev, '0', TT_SHA256_HEX_LEN);
    prev[TT_SHA256_HEX_LEN] = '\0';
    for (int i = 0; i < 6; i++) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        json_t *r = s_parse(line);
        assert_int_equal(s_int(r, "index"), i);
        assert_string_equal(json_string_value(json_object_get(r, "kind")), kinds[i]);
        assert_string_equal(json_string_value(json_object_get(r, "prev_hash")), prev);
        snprintf(prev, sizeof prev, "%s", json_string_value(json_object_get(r, "hash")));
        json_t *body = json_object_get(json_object_get(r, "body"), kinds[i]);
        assert_non_null(body);
        json_t *tel = json_object_get(r, "telemetry");
        if (i == 0) {
            assert_int_equal(s_int(r, "offset"), 16);
            json_t *agents = json_object_get(body, "agents");
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(agents, 1), "name")), "Oscar");
            assert_string_equal(json_string_value(json_object_get(body, "scenario_digest")),
                                "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");
            assert_null(json_object_get(body, "agent_config_json")); /* unset optional */
            assert_true(json_is_null(tel));
        }
        if (i == 1) {
            json_t *marcos = json_array_get(json_object_get(body, "agents"), 2);
            assert_string_equal(json_string_value(json_object_get(marcos, "status")), "failed");
            json_t *ex = json_array_get(json_object_get(marcos, "exchanges"), 0);
            assert_int_equal(strlen(json_string_value(json_object_get(ex, "request_digest"))), 64);
            assert_int_equal(s_int(tel, "wall_ms"), 1500);
            json_t *first = json_array_get(json_object_get(tel, "agents"), 0);
            assert_int_equal(s_int(first, "agent"), 1);
        }
        json_decref(r);
        line = nl + 1;
    }
}

/* --------------------------------------------------------------------- diff */

static void
test_diff_identical_and_telemetry_only(void **state)
{
    s_fix_t *fx = *state;
    s_write(fx->b, S_OTHER_TELEMETRY);
    assert_int_equal(s_run(fx, "diff", fx->a, fx->b, NULL), 0);
    assert_true(strncmp(fx->out, "identical: 6 records, final hash ", 33) == 0);
    assert_int_equal(strlen(fx->out), 33 + 64 + 1);
}

static void
s_expect_diff(s_fix_t *fx, s_change_t change, const char *want)
{
    s_write(fx->b, change);
    assert_int_equal(s_run(fx, "diff", fx->a, fx->b, NULL), 1);
    if (!strstr(fx->out, want))
        fail_msg("wanted \"%s\" in: %s", want, fx->out);
}

static void
test_diff_names_record_step_agent_and_part(void **state)
{
    s_fix_t *fx = *state;
    s_expect_diff(fx, S_ACTION,
                  "first difference at record 3 (step): step 2: agent \"Oscar\" (#1) differs in "
                  "actions\n");
    s_expect_diff(fx, S_STIMULUS,
                  "record 3 (step): step 2: agent \"Marcos\" (#2) differs in "
                  "input stimuli");
    s_expect_diff(fx, S_GOALS,
                  "record 1 (step): step 1: agent \"Lisa\" (#0) differs in "
                  "cognitive state");
    s_expect_diff(fx, S_EXCHANGE,
                  "record 1 (step): step 1: agent \"Oscar\" (#1) differs in "
                  "exchanges");
    s_expect_diff(fx, S_STATUS, "record 1 (step): step 1: agent \"Marcos\" (#2) differs in status");
    s_expect_diff(fx, S_SEED, "record 0 (begin): field seed differs");
    assert_non_null(strstr(fx->out, fx->a));
    assert_non_null(strstr(fx->out, fx->b));
}

static void
test_diff_prefix_and_errors(void **state)
{
    s_fix_t *fx = *state;
    s_write(fx->b, S_NO_END);
    assert_int_equal(s_run(fx, "diff", fx->a, fx->b, NULL), 1);
    char *want = tt_asprintf("%s has 1 more records; the first 5 are identical", fx->a);
    assert_non_null(strstr(fx->out, want));
    free(want);
    assert_int_equal(s_run(fx, "diff", fx->b, fx->a, NULL), 1);
    assert_true(strncmp(fx->out, fx->a, strlen(fx->a)) == 0);

    char *missing = tt_asprintf("%s/missing.tlog", fx->dir);
    assert_int_equal(s_run(fx, "diff", fx->a, missing, NULL), 2);
    char *prefix = tt_asprintf("%s:1:1: ", missing);
    assert_true(strncmp(fx->err, prefix, strlen(prefix)) == 0);
    free(prefix);
    free(missing);
    assert_int_equal(s_run(fx, "diff", fx->a, NULL), 2);
    assert_non_null(strstr(fx->err, "usage: coordinator log diff"));
}

/* ------------------------------------------------------------------- verify */

static void
test_verify_verdicts(void **state)
{
    s_fix_t *fx = *state;
    assert_int_equal(s_run(fx, "verify", fx->a, NULL), 0);
    assert_true(strncmp(fx->out, "ok: 6 records, ", 15) == 0);
    assert_int_equal(s_run(fx, "verify", "--json", fx->a, NULL), 0);
    json_t *r = s_parse(fx->out);
    assert_string_equal(json_string_value(json_object_get(r, "verdict")), "ok");
    assert_int_equal(s_int(r, "records"), 6);
    json_decref(r);
    assert_true(strncmp(fx->err, "ok: ", 4) == 0);

    size_t size;
    char *bytes = tt_test_read_file(fx->a, &size);
    FILE *f = fopen(fx->b, "wb");
    fwrite(bytes, 1, size - 7, f);
    fclose(f);
    assert_int_equal(s_run(fx, "verify", fx->b, NULL), 1);
    assert_non_null(strstr(fx->out, "broken: torn tail: record 5 at byte "));
    assert_int_equal(s_run(fx, "verify", fx->b, "--json", NULL), 1);
    r = s_parse(fx->out);
    assert_string_equal(json_string_value(json_object_get(r, "verdict")), "torn_tail");
    assert_int_equal(s_int(r, "bad_index"), 5);
    json_decref(r);

    bytes[300] ^= 0x40; /* inside record 1, which starts at byte 257 */
    f = fopen(fx->b, "wb");
    fwrite(bytes, 1, size, f);
    fclose(f);
    assert_int_equal(s_run(fx, "verify", fx->b, NULL), 1);
    if (!strstr(fx->out, "broken: corrupt: record 1 at byte"))
        fail_msg("%s", fx->out);
    /* the other commands refuse a corrupt log */
    assert_int_equal(s_run(fx, "stats", fx->b, NULL), 2);
    char *prefix = tt_asprintf("%s:1:1: record 1 at byte", fx->b);
    assert_true(strncmp(fx->err, prefix, strlen(prefix)) == 0);
    free(prefix);
    free(bytes);

    assert_int_equal(s_run(fx, "verify", fx->dir, NULL), 2); /* a directory */
    assert_non_null(strstr(fx->err, ":1:1: "));
}

/* A log that holds no record (killed while writing the header or the
 * SimBegin) is no run: verify says so and fails. */
static void
test_verify_no_record(void **state)
{
    s_fix_t *fx = *state;
    size_t size;
    char *bytes = tt_test_read_file(fx->a, &size);
    static const size_t cuts[] = {0, 16, 40}; /* empty, header only, torn SimBegin */
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        FILE *f = fopen(fx->b, "wb");
        fwrite(bytes, 1, cuts[i], f);
        fclose(f);
        assert_int_equal(s_run(fx, "verify", fx->b, NULL), 1);
        if (!strstr(fx->out, "broken: "))
            fail_msg("cut at %zu: %s", cuts[i], fx->out);
        assert_int_equal(s_run(fx, "verify", "--json", fx->b, NULL), 1);
        json_t *r = s_parse(fx->out);
        assert_int_equal(s_int(r, "records"), 0);
        assert_string_not_equal(json_string_value(json_object_get(r, "verdict")), "ok");
        json_decref(r);
    }
    free(bytes);
}

/* ---------------------------------------------------- usage and read-only */

static void
test_usage_and_help(void **state)
{
    s_fix_t *fx = *state;
    assert_int_equal(s_run(fx, NULL), 2);
    assert_non_null(strstr(fx->err, "usage: coordinator log"));
    assert_int_equal(s_run(fx, "--help", NULL), 0);
    assert_non_null(strstr(fx->out, "verify LOG"));
    assert_int_equal(s_run(fx, "frobnicate", NULL), 2);
    assert_non_null(strstr(fx->err, "unknown command frobnicate"));
    assert_non_null(strstr(fx->err, "usage: coordinator log"));
    assert_int_equal(s_run(fx, "stats", "--help", NULL), 0);
    assert_non_null(strstr(fx->out, "usage: coordinator log stats"));
    assert_int_equal(s_run(fx, "dump", "--json", fx->a, NULL), 2);
    assert_non_null(strstr(fx->err, "unknown option --json"));
    assert_int_equal(s_run(fx, "verify", fx->a, fx->b, NULL), 2);
    assert_int_equal(s_run(fx, "stats", NULL), 2);
}

static void
test_commands_never_write(void **state)
{
    s_fix_t *fx = *state;
    size_t size;
    char *bytes = tt_test_read_file(fx->a, &size);
    FILE *f = fopen(fx->b, "wb");
    fwrite(bytes, 1, size - 3, f); /* a torn tail: APPEND would cut it */
    fclose(f);
    assert_int_equal(s_run(fx, "stats", fx->b, NULL), 0);
    assert_non_null(strstr(fx->err, "bytes of torn tail ignored"));
    assert_int_equal(s_run(fx, "dump", fx->b, NULL), 0);
    assert_int_equal(s_run(fx, "diff", fx->a, fx->b, NULL), 1);
    assert_int_equal(s_run(fx, "verify", fx->b, NULL), 1);
    size_t after_len;
    char *after = tt_test_read_file(fx->b, &after_len);
    assert_int_equal(after_len, size - 3);
    assert_memory_equal(after, bytes, size - 3);
    free(after);
    free(bytes);
}

/* ------------------------------------------------------------------- pbjson */

static void
test_pbjson_maps_every_kind_of_field(void **state)
{
    (void)state;
    Tt__ExchangeTelemetry t = TT__EXCHANGE_TELEMETRY__INIT;
    t.has_latency_ms = 1;
    t.latency_ms = 5;
    t.has_replayed = 1;
    t.replayed = 1;
    t.cached = 1; /* no has_: unset */
    char *s = NULL;
    json_t *j = tt_pbjson_from_message(&t.base);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"latency_ms\":5,\"replayed\":true}");
    free(s);
    json_decref(j);

    /* oneof: only the member that is set; repeated: always, maybe empty */
    Tt__Checkpoint cp = TT__CHECKPOINT__INIT;
    cp.step = 7;
    cp.name = "x";
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_CHECKPOINT;
    body.checkpoint = &cp;
    j = tt_pbjson_from_message(&body.base);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"checkpoint\":{\"step\":7,\"name\":\"x\"}}");
    free(s);
    json_decref(j);
    Tt__StepInput in = TT__STEP_INPUT__INIT;
    j = tt_pbjson_from_message(&in.base);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"stimuli\":[],\"accessible\":[],\"context\":[]}");
    free(s);
    json_decref(j);

    /* bytes as hex, invalid UTF-8 replaced, uint64 beyond int64 exact */
    uint8_t digest[3] = {0x00, 0xab, 0xff};
    Tt__Exchange ex = TT__EXCHANGE__INIT;
    ex.request_digest.len = 3;
    ex.request_digest.data = digest;
    ex.response = "caf\xc3 ok";
    j = tt_pbjson_from_message(&ex.base);
    assert_string_equal(json_string_value(json_object_get(j, "request_digest")), "00abff");
    assert_string_equal(json_string_value(json_object_get(j, "response")), "caf\xef\xbf\xbd ok");
    assert_null(json_object_get(j, "purpose"));
    json_decref(j);
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.seq = UINT64_MAX;
    j = tt_pbjson_from_message(&env.base);
    assert_string_equal(json_string_value(json_object_get(j, "seq")), "18446744073709551615");
    assert_null(json_object_get(j, "agent"));
    json_decref(j);
    assert_true(json_is_null(j = tt_pbjson_from_message(NULL)));
    json_decref(j);
}

int
main(void)
{
    tt_log_level = TT_LOG_LEVEL_NONE; /* the damage below is meant */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stats_counts_everything, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dump_prints_every_record, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_diff_identical_and_telemetry_only, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_diff_names_record_step_agent_and_part, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_diff_prefix_and_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_verify_verdicts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_verify_no_record, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_usage_and_help, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_commands_never_write, s_setup, s_teardown),
        cmocka_unit_test(test_pbjson_maps_every_kind_of_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
