/*  test_report -- `coordinator log report LOG --html OUT`: the page is
 *  self-contained, hostile agent text stays text, the data says what the log
 *  says (identity, counts, latency floor, world stimuli, persona summaries),
 *  and only OUT is ever written.
 *
 *  The log is crafted record by record, so every number below can be checked
 *  by hand: three agents, two steps, an intervention, a checkpoint, SimEnd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord_logcmd.h"
#include "coord_report.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_test.h"
#include "tt_tlog.h"

#define S_HOSTILE   "</script><img src=x onerror=alert(1)>"
#define S_HOSTILE_2 "</SCRIPT ><script>alert(2)</script><!-- \xe2\x80\xa8 & \xe2\x80\xa9"
#define S_DATA_OPEN "<script type=\"application/json\" id=\"tt-data\">"
#define S_LISA                                                                                     \
    "{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"Lisa\",\"age\":31,\"nationality\":"          \
    "\"Canadian\",\"occupation\":{\"title\":\"Data Scientist\",\"organization\":\"Northwind\","    \
    "\"description\":\"Builds forecasts.\"},\"personality\":{\"traits\":[\"Curious\","             \
    "\"Methodical\",\"Quiet\",\"Sceptical\",\"Kind\",\"Sixth\"]}}}"

/* ------------------------------------------------------------------ builder */

/* Everything one record needs, freed after it is appended. */
typedef struct {
    void *p[256];
    int n;
} s_arena_t;

static void *
s_alloc(s_arena_t *a, size_t size)
{
    assert_true(a->n < 256);
    return a->p[a->n++] = tt_calloc(1, size);
}

static void
s_arena_free(s_arena_t *a)
{
    while (a->n > 0)
        free(a->p[--a->n]);
}

/* A NULL-terminated list of pointers as a protobuf-c repeated field. */
static void **
s_list(s_arena_t *a, size_t *n, ...)
{
    void **list = s_alloc(a, 16 * sizeof *list);
    va_list ap;
    va_start(ap, n);
    for (*n = 0; *n < 16 && (list[*n] = va_arg(ap, void *)) != NULL;)
        (*n)++;
    va_end(ap);
    return list;
}

static Tt__Stimulus *
s_stim(s_arena_t *a, const char *type, const char *content, const char *source)
{
    Tt__Stimulus *s = s_alloc(a, sizeof *s);
    tt__stimulus__init(s);
    s->type = (char *)type;
    s->content = (char *)content;
    s->source = (char *)source;
    return s;
}

static Tt__Action *
s_act(s_arena_t *a, const char *type, const char *content, const char *target)
{
    Tt__Action *x = s_alloc(a, sizeof *x);
    tt__action__init(x);
    x->type = (char *)type;
    x->content = (char *)content;
    x->target = (char *)target;
    return x;
}

/* Telemetry of one exchange; attempts 0 leaves it unset. */
static Tt__ExchangeTelemetry *
s_xt(s_arena_t *a, uint32_t latency, uint32_t attempts, uint32_t prompt, uint32_t completion,
     bool replayed, bool cached)
{
    Tt__ExchangeTelemetry *t = s_alloc(a, sizeof *t);
    tt__exchange_telemetry__init(t);
    t->has_latency_ms = t->has_prompt_tokens = t->has_completion_tokens = true;
    t->latency_ms = latency;
    t->prompt_tokens = prompt;
    t->completion_tokens = completion;
    t->has_attempts = attempts > 0;
    t->attempts = attempts;
    t->has_replayed = t->replayed = replayed;
    t->has_cached = t->cached = cached;
    return t;
}

/* Agent index's step: stimuli and actions as NULL-terminated lists built by
 * the caller, cognitive state, n_ex exchanges. */
static Tt__AgentStep *
s_agent(s_arena_t *a, uint32_t index, void **stimuli, size_t n_stimuli, void **acts, size_t n_acts,
        const char *goals, const char *attention, size_t n_ex)
{
    static uint8_t digest[TT_SHA256_LEN];
    Tt__AgentStep *as = s_alloc(a, sizeof *as);
    tt__agent_step__init(as);
    as->agent = index;
    as->input = s_alloc(a, sizeof *as->input);
    tt__step_input__init(as->input);
    as->input->stimuli = (Tt__Stimulus **)stimuli;
    as->input->n_stimuli = n_stimuli;
    as->actions = (Tt__Action **)acts;
    as->n_actions = n_acts;
    as->cognitive_state = s_alloc(a, sizeof *as->cognitive_state);
    tt__cognitive_state__init(as->cognitive_state);
    as->cognitive_state->goals = (char *)goals;
    as->cognitive_state->attention = (char *)attention;
    as->cognitive_state->emotions = "curious";
    as->exchanges = s_alloc(a, (n_ex + 1) * sizeof *as->exchanges);
    for (size_t j = 0; j < n_ex; j++) {
        Tt__Exchange *x = as->exchanges[j] = s_alloc(a, sizeof *x);
        tt__exchange__init(x);
        x->request_digest.len = TT_SHA256_LEN;
        x->request_digest.data = digest;
        x->response = "{}";
        x->purpose = "turn";
    }
    as->n_exchanges = n_ex;
    as->status = "ok";
    return as;
}

static Tt__AgentTelemetry *
s_agent_tel(s_arena_t *a, uint32_t index, uint32_t busy, void **exchanges, size_t n)
{
    Tt__AgentTelemetry *at = s_alloc(a, sizeof *at);
    tt__agent_telemetry__init(at);
    at->agent = index;
    at->has_busy_ms = true;
    at->busy_ms = busy;
    at->exchanges = (Tt__ExchangeTelemetry **)exchanges;
    at->n_exchanges = n;
    return at;
}

static void
s_append(tt_tlog_t *log, Tt__RecordBody *body, const Tt__Telemetry *tel)
{
    assert_int_equal(tt_tlog_append(log, body, tel, false), TT_OK);
}

static void
s_begin(tt_tlog_t *log)
{
    static uint8_t digest[TT_SHA256_LEN];
    Tt__AgentInfo ai[3], *aip[3];
    const char *names[3] = {"Lisa", "Oscar", "Mallory"};
    const char *personas[3] = {S_LISA, "{}",
                               "{\"type\":\"TinyPerson\",\"persona\":{\"name\":"
                               "\"Mallory\",\"occupation\":\"" S_HOSTILE "\"}}"};
    for (int i = 0; i < 3; i++) {
        tt__agent_info__init(&ai[i]);
        ai[i].name = (char *)names[i];
        ai[i].persona_json = (char *)personas[i];
        aip[i] = &ai[i];
    }
    Tt__SimBegin b = TT__SIM_BEGIN__INIT;
    b.version = "0.1.0";
    b.scenario_digest.len = b.config_digest.len = TT_SHA256_LEN;
    b.scenario_digest.data = b.config_digest.data = digest;
    b.seed = 42;
    b.scenario_name = "Focus group " S_HOSTILE;
    b.scenario_json = "{}";
    b.n_agents = 3;
    b.agents = aip;
    b.world_start = "2026-03-01T09:00:00";
    b.step_seconds = 600;
    b.steps = 2;
    b.mode = "parallel";
    b.provider = "offline";
    b.model = "troupe-offline";
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_BEGIN;
    body.begin = &b;
    s_append(log, &body, NULL);
}

/* Step 1: everyone hears the moderator. Lisa: two live calls (100 ms, then
 * 200 ms in 3 attempts); Oscar: a replayed one (250 ms); Mallory: a cached
 * one (5 ms) and a failed turn. Floor = max(300, 250, 5) = 300 ms. */
static void
s_step1(tt_tlog_t *log)
{
    s_arena_t a = {0};
    size_t ns, na, nx;
    Tt__AgentStep *as[3];
    Tt__AgentTelemetry *at[3];
    void **st = s_list(&a, &ns, s_stim(&a, "CONVERSATION", "Welcome, everyone", "Moderator"), NULL);
    void **acts =
        s_list(&a, &na, s_act(&a, "THINK", "hmm", ""), s_act(&a, "TALK", "hello Oscar", "Oscar"),
               s_act(&a, "DONE", "", ""), NULL);
    as[0] = s_agent(&a, 0, st, ns, acts, na, "listen", "welcome", 2);
    void **xs = s_list(&a, &nx, s_xt(&a, 100, 1, 100, 10, false, false),
                       s_xt(&a, 200, 3, 50, 5, false, false), NULL);
    at[0] = s_agent_tel(&a, 0, 320, xs, nx);
    acts = s_list(&a, &na, s_act(&a, "RECALL", "price", ""), s_act(&a, "TALK", S_HOSTILE, "Lisa"),
                  NULL);
    as[1] = s_agent(&a, 1, st, ns, acts, na, "listen", "price", 1);
    xs = s_list(&a, &nx, s_xt(&a, 250, 0, 70, 7, true, false), NULL);
    at[1] = s_agent_tel(&a, 1, 260, xs, nx);
    acts = s_list(&a, &na, s_act(&a, "THINK", S_HOSTILE_2, ""), NULL);
    as[2] = s_agent(&a, 2, st, ns, acts, na, S_HOSTILE, "", 1);
    as[2]->status = "failed";
    as[2]->error = "timeout";
    xs = s_list(&a, &nx, s_xt(&a, 5, 0, 9, 9, false, true), NULL);
    at[2] = s_agent_tel(&a, 2, 6, xs, nx);
    Tt__AgentTelemetry *tel_agents[3] = {at[2], at[0], at[1]}; /* answer order, not index order */
    Tt__StepCommit sc = TT__STEP_COMMIT__INIT;
    sc.step = 1;
    sc.datetime = "2026-03-01T09:10:00";
    sc.n_agents = 3;
    sc.agents = as;
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.has_wall_ms = true;
    tel.wall_ms = 900;
    tel.n_agents = 3;
    tel.agents = tel_agents;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_STEP;
    body.step = &sc;
    s_append(log, &body, &tel);
    s_arena_free(&a);
}

/* Before step 2: the "nudge" intervention for Lisa, judged by one call. */
static void
s_intervention(tt_tlog_t *log)
{
    static uint8_t digest[TT_SHA256_LEN];
    s_arena_t a = {0};
    Tt__Exchange x = TT__EXCHANGE__INIT, *xp = &x;
    x.request_digest.len = TT_SHA256_LEN;
    x.request_digest.data = digest;
    x.response = "{\"value\":true}";
    x.purpose = "judge";
    char *targets[] = {"Lisa"};
    Tt__Stimulus *effect = s_stim(&a, "CONVERSATION", "Be brief", "");
    Tt__Intervention iv = TT__INTERVENTION__INIT;
    iv.step = 2;
    iv.name = "nudge";
    iv.n_targets = 1;
    iv.targets = targets;
    iv.n_effects = 1;
    iv.effects = &effect;
    iv.n_exchanges = 1;
    iv.exchanges = &xp;
    iv.justification = "she rambles";
    Tt__ExchangeTelemetry *xt = s_xt(&a, 40, 1, 30, 3, false, false);
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.n_exchanges = 1;
    tel.exchanges = &xt;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_INTERVENTION;
    body.intervention = &iv;
    s_append(log, &body, &tel);
    s_arena_free(&a);
}

/* Step 2, no telemetry: Lisa hears Oscar (an agent: not a world stimulus)
 * and the nudge; Oscar alone has a thought with a 20,000-byte text and one
 * with a bad UTF-8 byte; Mallory is done. */
static void
s_step2(tt_tlog_t *log, const char *long_text)
{
    s_arena_t a = {0};
    size_t ns, na;
    Tt__AgentStep *as[3];
    void **st = s_list(&a, &ns, s_stim(&a, "CONVERSATION", "hello Oscar", "Oscar"),
                       s_stim(&a, "CONVERSATION", "Be brief", ""), NULL);
    void **acts = s_list(&a, &na, s_act(&a, "TALK", "ok", ""), s_act(&a, "DONE", "", ""), NULL);
    as[0] = s_agent(&a, 0, st, ns, acts, na, "listen", "welcome", 0);
    st = s_list(&a, &ns, s_stim(&a, "THOUGHT", "private", NULL), NULL);
    acts = s_list(&a, &na, s_act(&a, "THINK", long_text, ""), s_act(&a, "THINK", "caf\xc3 ok", ""),
                  NULL);
    as[1] = s_agent(&a, 1, st, ns, acts, na, "listen", "price", 0);
    acts = s_list(&a, &na, s_act(&a, "DONE", "", ""), NULL);
    as[2] = s_agent(&a, 2, NULL, 0, acts, na, "", "", 0);
    Tt__StepCommit sc = TT__STEP_COMMIT__INIT;
    sc.step = 2;
    sc.datetime = "2026-03-01T09:20:00";
    sc.n_agents = 3;
    sc.agents = as;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_STEP;
    body.step = &sc;
    s_append(log, &body, NULL);
    s_arena_free(&a);
}

/* begin, step 1, intervention, step 2, checkpoint, [end]: 5 or 6 records. */
static void
s_write(const char *path, bool complete)
{
    tt_tlog_t *log;
    unlink(path);
    assert_int_equal(tt_tlog_open(path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    s_begin(log);
    s_step1(log);
    s_intervention(log);
    char *long_text = tt_malloc(20001);
    memset(long_text, 'x', 20000);
    long_text[20000] = '\0';
    s_step2(log, long_text);
    free(long_text);
    Tt__Checkpoint cp = TT__CHECKPOINT__INIT;
    cp.step = 2;
    cp.name = "mid";
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_CHECKPOINT;
    body.checkpoint = &cp;
    s_append(log, &body, NULL);
    if (complete) {
        Tt__SimEnd end = TT__SIM_END__INIT;
        end.steps = 2;
        end.reason = "completed";
        body.kind_case = TT__RECORD_BODY__KIND_END;
        body.end = &end;
        s_append(log, &body, NULL);
    }
    tt_tlog_close(&log);
}

/* ------------------------------------------------------------------- runner */

typedef struct {
    char *dir, *log, *html;
    char *out, *err;
    size_t out_len, err_len;
    char *page;   /* the last page written */
    json_t *data; /* its data block */
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *fx = tt_new(s_fix_t);
    fx->dir = tt_test_tmpdir("report");
    fx->log = tt_asprintf("%s/a.tlog", fx->dir);
    fx->html = tt_asprintf("%s/report.html", fx->dir);
    s_write(fx->log, true);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *fx = *state;
    tt_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx->log);
    free(fx->html);
    free(fx->out);
    free(fx->err);
    free(fx->page);
    json_decref(fx->data);
    free(fx);
    return 0;
}

/* Run `log ARGS...` (NULL-terminated), capturing stdout and stderr. */
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

/* The data block of a page, parsed (caller decrefs). */
static json_t *
s_data_of(const char *page)
{
    const char *start = strstr(page, S_DATA_OPEN);
    assert_non_null(start);
    start += strlen(S_DATA_OPEN);
    const char *end = strstr(start, "</script>");
    assert_non_null(end);
    json_error_t jerr;
    json_t *data = json_loadb(start, (size_t)(end - start), 0, &jerr);
    if (!data)
        fail_msg("data block is not JSON: %s at %d", jerr.text, jerr.position);
    return data;
}

/* Render the standard log and keep the page and its data. */
static void
s_render(s_fix_t *fx)
{
    assert_int_equal(s_run(fx, "report", fx->log, "--html", fx->html, NULL), 0);
    free(fx->page);
    json_decref(fx->data);
    fx->page = tt_test_read_file(fx->html, NULL);
    assert_non_null(fx->page);
    fx->data = s_data_of(fx->page);
}

static json_int_t
s_int(const json_t *o, const char *path)
{
    json_t *v = tt_json_at(o, path);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", path);
    return json_integer_value(v);
}

static const char *
s_str(const json_t *o, const char *path)
{
    json_t *v = tt_json_at(o, path);
    if (!json_is_string(v))
        fail_msg("%s is not a string", path);
    return json_string_value(v);
}

/* The text a string-table reference stands for. */
static const char *
s_text(s_fix_t *fx, const char *path)
{
    json_int_t i = s_int(fx->data, path);
    return json_string_value(json_array_get(json_object_get(fx->data, "strings"), (size_t)i));
}

static size_t
s_count_ci(const char *text, const char *needle)
{
    char *low = tt_strdup(text);
    for (char *p = low; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    size_t n = tt_test_count(low, needle);
    free(low);
    return n;
}

/* -------------------------------------------------------------------- tests */

static void
test_page_is_self_contained(void **state)
{
    s_fix_t *fx = *state;
    s_render(fx);
    const char *page = fx->page;
    assert_true(strncmp(page, "<!doctype html>", 15) == 0);
    static const char *const remote[] = {"src=\"http", "src='http",  "href=\"http",   "href='http",
                                         "url(http",   "url(\"http", "url('http",     "<link",
                                         "@import",    "<iframe",    "<object",       "<embed",
                                         "//cdn",      "fetch(",     "XMLHttpRequest"};
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++)
        if (s_count_ci(page, remote[i]) != 0)
            fail_msg("the page refers to something remote: %s", remote[i]);
    assert_non_null(strstr(page, "Content-Security-Policy"));
    assert_non_null(strstr(page, "default-src 'none'"));
    assert_int_equal(tt_test_count(page, "<style>"), 1);
    assert_int_equal(s_count_ci(page, "<script"), 2); /* the data and the code */
}

static void
test_hostile_text_stays_text(void **state)
{
    s_fix_t *fx = *state;
    s_render(fx);
    const char *page = fx->page;
    /* every "</script" closes one of our own two script elements */
    assert_int_equal(s_count_ci(page, "</script"), s_count_ci(page, "<script"));
    assert_null(strstr(page, "<img"));
    assert_null(strstr(page, "alert(2)</"));
    assert_int_equal(tt_test_count(page, "<!--"), 0);
    /* the data block holds no raw "<", ">", "&", U+2028 or U+2029 */
    const char *start = strstr(page, S_DATA_OPEN) + strlen(S_DATA_OPEN);
    const char *end = strstr(start, "</script>");
    for (const char *p = start; p < end; p++) {
        assert_true(*p != '<' && *p != '>' && *p != '&');
        assert_false(p[0] == '\xe2' && p[1] == '\x80' && (p[2] == '\xa8' || p[2] == '\xa9'));
    }
    /* ... yet the texts read back exactly */
    assert_string_equal(s_text(fx, "steps[0].turns[1].act[1][1]"), S_HOSTILE);
    assert_string_equal(s_text(fx, "steps[0].turns[2].act[0][1]"), S_HOSTILE_2);
    assert_string_equal(s_str(fx->data, "run.scenario"), "Focus group " S_HOSTILE);
    assert_string_equal(s_str(fx->data, "agents[2].occupation"), S_HOSTILE);
}

static void
test_identity(void **state)
{
    s_fix_t *fx = *state;
    s_render(fx);
    json_t *run = json_object_get(fx->data, "run");
    assert_int_equal(s_int(fx->data, "format"), 1);
    assert_int_equal(s_int(run, "seed"), 42);
    assert_string_equal(s_str(run, "provider"), "offline");
    assert_string_equal(s_str(run, "model"), "troupe-offline");
    assert_true(json_is_true(json_object_get(run, "offline")));
    assert_true(json_is_true(json_object_get(run, "complete")));
    assert_string_equal(s_str(run, "end_reason"), "completed");
    assert_string_equal(s_str(run, "mode"), "parallel");
    assert_string_equal(s_str(run, "log"), "a.tlog");
    assert_int_equal(s_int(run, "steps"), 2);
    assert_int_equal(s_int(run, "steps_planned"), 2);
    assert_int_equal(s_int(run, "records"), 6);
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->log, TT_TLOG_READ, &log, NULL), TT_OK);
    char hex[TT_SHA256_HEX_LEN + 1];
    tt_hex(tt_tlog_last_hash(log), TT_SHA256_LEN, hex);
    tt_tlog_close(&log);
    assert_string_equal(s_str(run, "final_hash"), hex);

    /* a run cut before SimEnd says so */
    s_write(fx->log, false);
    s_render(fx);
    run = json_object_get(fx->data, "run");
    assert_true(json_is_false(json_object_get(run, "complete")));
    assert_true(json_is_null(json_object_get(run, "end_reason")));
    assert_int_equal(s_int(run, "records"), 5);
}

static void
test_counts_and_latency_floor(void **state)
{
    s_fix_t *fx = *state;
    s_render(fx);
    json_t *d = fx->data;
    assert_int_equal(s_int(d, "steps[0].wall_ms"), 900);
    assert_int_equal(s_int(d, "steps[0].floor_ms"), 300);
    assert_int_equal(s_int(d, "steps[0].calls"), 2);
    assert_int_equal(s_int(d, "steps[0].replayed"), 1);
    assert_int_equal(s_int(d, "steps[0].cached"), 1);
    assert_int_equal(s_int(d, "steps[0].retried"), 1);
    assert_int_equal(s_int(d, "steps[0].failed"), 1);
    assert_int_equal(s_int(d, "steps[0].prompt"), 150);
    assert_int_equal(s_int(d, "steps[0].completion"), 15);
    assert_null(tt_json_at(d, "steps[1].wall_ms"));  /* no telemetry: unknown, not zero */
    assert_int_equal(s_int(d, "steps[1].calls"), 1); /* the judge of the nudge */
    assert_int_equal(s_int(d, "totals.calls"), 3);
    assert_int_equal(s_int(d, "totals.actions"), 11);
    assert_int_equal(s_int(d, "totals.interventions"), 1);
    assert_int_equal(s_int(d, "totals.checkpoints"), 1);
    /* latencies of calls made only; attempts[k] = exchanges with k + 1 attempts */
    char *lat = tt_json_compact(json_object_get(d, "latencies"));
    char *att = tt_json_compact(json_object_get(d, "attempts"));
    assert_string_equal(lat, "[100,200,40]");
    assert_string_equal(att, "[4,0,1]");
    free(lat);
    free(att);
    /* Lisa's turn: who she spoke to, and her exchanges [n, latency, tokens, busy] */
    assert_string_equal(s_text(fx, "steps[0].turns[0].act[1][0]"), "TALK");
    assert_string_equal(s_text(fx, "steps[0].turns[0].act[1][2]"), "Oscar");
    char *x = tt_json_compact(tt_json_at(d, "steps[0].turns[0].x"));
    assert_string_equal(x, "[2,300,165,320]");
    free(x);
    assert_string_equal(s_text(fx, "steps[0].turns[2].st"), "failed");
    assert_string_equal(s_text(fx, "steps[0].turns[2].err"), "timeout");
    assert_int_equal(s_int(d, "agents[0].calls"), 2);
    assert_int_equal(s_int(d, "agents[1].replayed"), 1);
    assert_int_equal(s_int(d, "agents[0].by_type.TALK"), 2);
    assert_int_equal(s_int(d, "agents[0].actions"), 5);
}

static void
test_world_stimuli_and_interventions(void **state)
{
    s_fix_t *fx = *state;
    s_render(fx);
    json_t *d = fx->data;
    /* step 1: one broadcast, heard by everyone */
    assert_int_equal(json_array_size(tt_json_at(d, "steps[0].world")), 1);
    assert_string_equal(s_text(fx, "steps[0].world[0][1]"), "Moderator");
    assert_true(json_is_null(tt_json_at(d, "steps[0].world[0][3]")));
    /* step 2: Oscar's words are his TALK, not the world's; the others are kept
     * with who perceived them */
    json_t *world = tt_json_at(d, "steps[1].world");
    assert_int_equal(json_array_size(world), 2);
    assert_string_equal(s_text(fx, "steps[1].world[0][2]"), "Be brief");
    assert_int_equal(s_int(d, "steps[1].world[0][3][0]"), 0);
    assert_string_equal(s_text(fx, "steps[1].world[1][2]"), "private");
    assert_int_equal(s_int(d, "steps[1].world[1][3][0]"), 1);
    assert_string_equal(s_str(d, "interventions[0].name"), "nudge");
    assert_int_equal(s_int(d, "interventions[0].step"), 2);
    assert_string_equal(s_text(fx, "interventions[0].targets[0]"), "Lisa");
    assert_string_equal(s_text(fx, "interventions[0].effects[0][2]"), "Be brief");
    assert_string_equal(s_text(fx, "interventions[0].why"), "she rambles");
    assert_string_equal(s_str(d, "checkpoints[0].name"), "mid");
}

static void
test_texts_personas_and_table(void **state)
{
    s_fix_t *fx = *state;
    s_render(fx);
    json_t *d = fx->data, *strings = json_object_get(d, "strings");
    /* each text once: "listen" is the goal of two agents in two steps */
    size_t listen = 0, i;
    json_t *v;
    json_array_foreach(strings, i, v) listen += strcmp(json_string_value(v), "listen") == 0;
    assert_int_equal(listen, 1);
    assert_string_equal(json_string_value(json_array_get(strings, 0)), "");
    /* long texts are cut, bad bytes replaced */
    const char *cut = s_text(fx, "steps[1].turns[1].act[0][1]");
    assert_int_equal(strlen(cut), (16 << 10) + strlen(" (...)"));
    assert_string_equal(cut + (16 << 10), " (...)");
    assert_string_equal(s_text(fx, "steps[1].turns[1].act[1][1]"), "caf\xef\xbf\xbd ok");
    /* persona summaries: a few fields, traits capped; an unreadable persona
     * still has its name */
    assert_string_equal(s_str(d, "agents[0].name"), "Lisa");
    assert_int_equal(s_int(d, "agents[0].age"), 31);
    assert_string_equal(s_str(d, "agents[0].occupation"), "Data Scientist");
    assert_string_equal(s_str(d, "agents[0].nationality"), "Canadian");
    assert_string_equal(s_str(d, "agents[0].about"), "Builds forecasts.");
    assert_int_equal(json_array_size(tt_json_at(d, "agents[0].traits")), 5);
    assert_non_null(strstr(s_str(d, "agents[0].bio"), "Lisa, 31, Data Scientist at Northwind"));
    assert_string_equal(s_str(d, "agents[1].name"), "Oscar");
    assert_null(tt_json_at(d, "agents[1].bio"));
    /* the persona text itself is not in the page: only the summary */
    assert_null(strstr(fx->page, "\"personality\""));
}

static void
test_escaping(void **state)
{
    (void)state;
    json_t *data = json_pack("{s:s, s:s}", "a", "<b>&amp;</b>\\<\xe2\x80\xa8\xe2\x80\xa9", "b",
                             "\xe2\x82\xac ok");
    char *page = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&page, &len);
    assert_int_equal(coord_report_write(data, out), TT_OK);
    fclose(out);
    assert_non_null(strstr(page, "\\u003cb\\u003e\\u0026amp;\\u003c/b\\u003e\\\\\\u003c"
                                 "\\u2028\\u2029"));
    assert_non_null(strstr(page, "\xe2\x82\xac ok")); /* other UTF-8 is kept as is */
    json_t *back = s_data_of(page);
    assert_true(json_equal(back, data));
    json_decref(back);
    json_decref(data);
    free(page);
}

static void
test_usage_errors_and_writes(void **state)
{
    s_fix_t *fx = *state;
    assert_int_equal(s_run(fx, "report", "--help", NULL), 0);
    assert_non_null(strstr(fx->out, "usage: coordinator log report LOG [LOG...] --html OUT.html"));
    assert_int_equal(s_run(fx, "--help", NULL), 0);
    assert_non_null(strstr(fx->out, "report LOG... --html OUT"));
    assert_int_equal(s_run(fx, "report", fx->log, NULL), 2);
    assert_non_null(strstr(fx->err, "missing option --html OUT"));
    assert_int_equal(s_run(fx, "report", fx->log, "--html", NULL), 2);
    assert_int_equal(s_run(fx, "report", fx->log, "--json", NULL), 2);

    char *missing = tt_asprintf("%s/missing.tlog", fx->dir);
    assert_int_equal(s_run(fx, "report", missing, "--html", fx->html, NULL), 2);
    char *prefix = tt_asprintf("%s:1:1: ", missing);
    assert_true(strncmp(fx->err, prefix, strlen(prefix)) == 0);
    free(prefix);
    free(missing);

    /* never over the log itself */
    size_t before_len;
    char *before = tt_test_read_file(fx->log, &before_len);
    assert_int_equal(s_run(fx, "report", fx->log, "--html", fx->log, NULL), 2);
    size_t after_len;
    char *after = tt_test_read_file(fx->log, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);

    /* an unwritable place: exit 1, and nothing left behind */
    char *nowhere = tt_asprintf("%s/no/such/dir/r.html", fx->dir);
    assert_int_equal(s_run(fx, "report", fx->log, "--html", nowhere, NULL), 1);
    assert_non_null(strstr(fx->err, "cannot write"));
    free(nowhere);

    /* a good run writes OUT and nothing else; --html=OUT works too */
    assert_int_equal(s_run(fx, "report", fx->log, "--html", fx->html, NULL), 0);
    char *eq = tt_asprintf("--html=%s/second.html", fx->dir);
    assert_int_equal(s_run(fx, "report", fx->log, eq, NULL), 0);
    free(eq);
    DIR *dir = opendir(fx->dir);
    size_t entries = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        entries++;
        if (strcmp(e->d_name, "a.tlog") && strcmp(e->d_name, "report.html") &&
            strcmp(e->d_name, "second.html"))
            fail_msg("unexpected file %s", e->d_name);
    }
    closedir(dir);
    assert_int_equal(entries, 3);
}

/* extraction.json beside the log is the results; more logs are compared. */
static void
test_results_and_compare(void **state)
{
    s_fix_t *fx = *state;
    char *x = tt_asprintf("%s/extraction.json", fx->dir), *b = tt_asprintf("%s/b.tlog", fx->dir);
    FILE *f = fopen(x, "w");
    fputs("{\"objective\": \"o\", \"llm\": {\"calls\": 1}, \"run\": {\"final_hash\": \"00\"},"
          " \"table\": {\"columns\": [\"name\", \"v\"], \"rows\": [[\"Lisa\", 3]]}}",
          f);
    fclose(f);
    s_render(fx);
    assert_string_equal(s_str(fx->data, "extraction.objective"), "o");
    assert_null(tt_json_at(fx->data, "extraction.llm"));
    assert_true(json_is_false(tt_json_at(fx->data, "extraction.matches_run")));
    assert_null(tt_json_at(fx->data, "compare"));

    s_write(b, false); /* B: the same without SimEnd */
    assert_int_equal(s_run(fx, "report", fx->log, b, "--html", fx->html, NULL), 0);
    char *page = tt_test_read_file(fx->html, NULL);
    assert_non_null(page);
    json_t *d = s_data_of(page);
    free(page);
    assert_int_equal(json_array_size(json_object_get(d, "compare")), 2);
    assert_null(tt_json_at(d, "compare[0].divergence"));
    assert_true(json_is_false(tt_json_at(d, "compare[1].identical")));
    assert_non_null(strstr(s_str(d, "compare[1].divergence"), "1 more records"));
    assert_true(
        json_equal(tt_json_at(d, "compare[0].by_type"), tt_json_at(d, "compare[1].by_type")));
    assert_true(s_int(d, "compare[0].by_type.TALK") > 0);
    assert_string_equal(s_str(d, "compare[1].extraction.objective"), "o");
    json_decref(d);

    f = fopen(x, "w");
    fputs("[1]", f);
    fclose(f);
    assert_int_equal(s_run(fx, "report", fx->log, "--html", fx->html, NULL), 2);
    assert_non_null(strstr(fx->err, "not an extraction"));
    assert_int_equal(s_run(fx, "report", fx->log, "--html", fx->html, "--extraction", b, NULL), 2);
    free(x);
    free(b);
}

int
main(void)
{
    tt_log_level = TT_LOG_LEVEL_NONE;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_page_is_self_contained, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_text_stays_text, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_identity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_counts_and_latency_floor, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_world_stimuli_and_interventions, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_texts_personas_and_table, s_setup, s_teardown),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test_setup_teardown(test_usage_errors_and_writes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_results_and_compare, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
