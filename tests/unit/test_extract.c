/*  test_extract -- results extraction from a run's log: per-agent and world
 *  histories, the offline model's plausible answers, the reduction rules,
 *  extraction.json and extraction.csv agreeing cell for cell (RFC 4180, with
 *  commas, quotes and newlines in names and words), replay with no model call,
 *  and positioned errors for a bad "extract" section.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coord_extract.h"
#include "coord_extract_impl.h"
#include "tt_buf.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_tlog.h"
#include "tt_test.h"

#define S_ANA   "Ana \"Nan\" Souza"
#define S_LI    "Li, Wei"
#define S_BRUNO "Bruno Costa"

static const char s_scenario[] =
    "{\"name\": \"Soup tasting\",\n"
    " \"extract\": {\"objective\": \"Each person's opinion of the soup and whether they would "
    "buy it\",\n"
    "   \"fields\": [\"opinion\", \"would_buy\"],\n"
    "   \"reduce\": [{\"name\": \"talks\", \"action\": \"TALK\", \"count\": true},\n"
    "              {\"name\": \"last_words\", \"action\": \"TALK\", \"take\": \"last\"},\n"
    "              {\"name\": \"first_thought\", \"action\": \"THINK\", \"take\": \"first\"},\n"
    "              {\"name\": \"heard\", \"stimulus\": \"*\", \"count\": true},\n"
    "              {\"name\": \"price_talk\", \"action\": \"TALK\", \"contains\": \"PRICE\", "
    "\"count\": true},\n"
    "              {\"name\": \"to_bruno\", \"action\": \"TALK\", \"to\": \"Bruno Costa\", "
    "\"take\": \"all\"}]}}\n";

/* ------------------------------------------------------------------ a run's log */

typedef struct {
    const char *type, *content, *other;
} s_ev_t;

static Tt__AgentStep *
s_agent_step(uint32_t agent, const s_ev_t *stimuli, const s_ev_t *actions)
{
    Tt__AgentStep *as = tt_new(Tt__AgentStep);
    tt__agent_step__init(as);
    as->agent = agent;
    as->status = "ok";
    as->input = tt_new(Tt__StepInput);
    tt__step_input__init(as->input);
    for (size_t i = 0; stimuli && stimuli[i].type; i++) {
        Tt__Stimulus *s = tt_new(Tt__Stimulus);
        tt__stimulus__init(s);
        s->type = (char *)stimuli[i].type;
        s->content = (char *)stimuli[i].content;
        s->source = (char *)stimuli[i].other;
        as->input->stimuli = tt_realloc(as->input->stimuli, (i + 1) * sizeof(void *));
        as->input->stimuli[as->input->n_stimuli++] = s;
    }
    for (size_t i = 0; actions && actions[i].type; i++) {
        Tt__Action *a = tt_new(Tt__Action);
        tt__action__init(a);
        a->type = (char *)actions[i].type;
        a->content = (char *)actions[i].content;
        a->target = (char *)actions[i].other;
        as->actions = tt_realloc(as->actions, (i + 1) * sizeof(void *));
        as->actions[as->n_actions++] = a;
    }
    return as;
}

static void
s_free_step(Tt__AgentStep *as)
{
    for (size_t i = 0; i < as->input->n_stimuli; i++)
        free(as->input->stimuli[i]);
    free(as->input->stimuli);
    free(as->input);
    for (size_t i = 0; i < as->n_actions; i++)
        free(as->actions[i]);
    free(as->actions);
    free(as);
}

static void
s_append_step(tt_tlog_t *log, uint32_t step, Tt__AgentStep **agents, size_t n)
{
    Tt__StepCommit sc = TT__STEP_COMMIT__INIT;
    sc.step = step;
    char when[32];
    snprintf(when, sizeof when, "2026-03-01T09:%02u:00", step * 10);
    sc.datetime = when;
    sc.n_agents = n;
    sc.agents = agents;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_STEP;
    body.step = &sc;
    assert_int_equal(tt_tlog_append(log, &body, NULL, false), TT_OK);
    for (size_t i = 0; i < n; i++)
        s_free_step(agents[i]);
}

static void
s_append_begin(tt_tlog_t *log, const char *scenario)
{
    static uint8_t zero[32];
    static const char *names[] = {S_ANA, S_LI, S_BRUNO};
    Tt__AgentInfo infos[3], *list[3];
    for (int i = 0; i < 3; i++) {
        tt__agent_info__init(&infos[i]);
        infos[i].name = (char *)names[i];
        infos[i].persona_json = "{}";
        list[i] = &infos[i];
    }
    Tt__SimBegin b = TT__SIM_BEGIN__INIT;
    b.version = "test";
    b.scenario_digest = (ProtobufCBinaryData){32, zero};
    b.config_digest = (ProtobufCBinaryData){32, zero};
    b.seed = 7;
    b.scenario_name = "Soup tasting";
    b.scenario_json = (char *)scenario;
    b.n_agents = 3;
    b.agents = list;
    b.world_start = "2026-03-01T09:00:00";
    b.step_seconds = 600;
    b.steps = 3;
    b.mode = "parallel";
    b.provider = "offline";
    b.model = "troupe-offline";
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_BEGIN;
    body.begin = &b;
    assert_int_equal(tt_tlog_append(log, &body, NULL, false), TT_OK);
}

/* Three people taste a soup: Ana likes it, Li finds it too expensive, Bruno
 * talks about salt with commas, quotes and a line break. */
static char *
s_make_run(const char *name, const char *scenario)
{
    char *dir = tt_test_tmpdir(name), *path = tt_asprintf("%s/sim.tlog", dir), *err = NULL;
    tt_tlog_t *log = NULL;
    assert_int_equal(tt_tlog_open(path, TT_TLOG_APPEND, &log, &err), TT_OK);
    s_append_begin(log, scenario);
    const char *ask = "Taste the soup. Would you buy it at 4 dollars?";
    s_ev_t asked[] = {{"CONVERSATION", ask, "Moderator"}, {NULL, NULL, NULL}};
    s_ev_t ana1[] = {{"THINK", "Hmm, tasty.", ""},
                     {"TALK", "Yes, I would definitely buy it, great soup!", "Moderator"},
                     {"DONE", "", ""},
                     {NULL, NULL, NULL}};
    s_ev_t li1[] = {{"TALK", "No, too expensive, I would not pay that price.", ""},
                    {"DONE", "", ""},
                    {NULL, NULL, NULL}};
    s_ev_t bruno1[] = {{"TALK", "It needs salt, \"really\", and more pepper,\nhonestly.", S_ANA},
                       {NULL, NULL, NULL}};
    Tt__AgentStep *step1[] = {s_agent_step(0, asked, ana1), s_agent_step(1, asked, li1),
                              s_agent_step(2, asked, bruno1)};
    s_append_step(log, 1, step1, 3);
    s_ev_t from_bruno[] = {{"CONVERSATION", bruno1[0].content, S_BRUNO}, {NULL, NULL, NULL}};
    s_ev_t ana2[] = {{"TALK", "Bruno, the price is fair.", S_BRUNO}, {NULL, NULL, NULL}};
    s_ev_t bruno2[] = {{"THINK", "I doubt it.", ""}, {NULL, NULL, NULL}};
    Tt__AgentStep *step2[] = {s_agent_step(0, from_bruno, ana2), s_agent_step(2, NULL, bruno2)};
    s_append_step(log, 2, step2, 2);
    s_ev_t li3[] = {{"TALK", "Maybe, if the price drops.", ""}, {NULL, NULL, NULL}};
    Tt__AgentStep *step3[] = {s_agent_step(1, NULL, li3)};
    s_append_step(log, 3, step3, 1);
    tt_tlog_close(&log);
    free(path);
    return dir;
}

/* ------------------------------------------------------------------ helpers */

static void
s_offline(tt_config_t *cfg)
{
    char *err = NULL;
    tt_config_init(cfg);
    assert_int_equal(tt_config_resolve(cfg, "offline", &err), TT_OK);
}

static json_t *
s_load(const char *dir, const char *file)
{
    char *path = tt_asprintf("%s/%s", dir, file);
    json_t *v = json_load_file(path, 0, NULL);
    assert_non_null(v);
    free(path);
    return v;
}

/* RFC 4180 reader: an array of records, each an array of strings. */
static json_t *
s_parse_csv(const char *text)
{
    json_t *records = json_array(), *record = json_array();
    tt_buf_t cell;
    tt_buf_init(&cell, 0);
    const char *p = text;
    while (*p) {
        if (*p == '"') {
            for (p++; *p && !(p[0] == '"' && p[1] != '"'); p++) {
                if (p[0] == '"')
                    p++; /* a doubled quote */
                tt_buf_add(&cell, p, 1);
            }
            assert_int_equal(*p, '"');
            p++;
        } else {
            size_t n = strcspn(p, ",\r\n\"");
            tt_buf_add(&cell, p, n);
            p += n;
            assert_int_not_equal(*p, '"'); /* a quote only opens a field */
        }
        json_array_append_new(record, json_string(tt_buf_str(&cell)));
        tt_buf_reset(&cell);
        if (*p == ',') {
            p++;
        } else {
            assert_true(p[0] == '\r' && p[1] == '\n'); /* CRLF ends every record */
            p += 2;
            json_array_append_new(records, record);
            record = json_array();
        }
    }
    json_decref(record);
    tt_buf_fini(&cell);
    return records;
}

/* What a JSON cell must read as in CSV, written independently of the exporter. */
static char *
s_expected_cell(const json_t *v)
{
    if (json_is_null(v))
        return tt_strdup("");
    if (json_is_string(v))
        return tt_strdup(json_string_value(v));
    if (json_is_integer(v))
        return tt_asprintf("%lld", (long long)json_integer_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* BASE.json's table and BASE.csv hold the same rows and values, and the
 * table agrees with agent_extractions and reductions. */
static void
s_check_agreement_of(const char *dir, const char *base)
{
    char *file = tt_asprintf("%s.json", base);
    json_t *doc = s_load(dir, file), *table = json_object_get(doc, "table");
    free(file);
    json_t *cols = json_object_get(table, "columns"), *rows = json_object_get(table, "rows");
    char *path = tt_asprintf("%s/%s.csv", dir, base);
    char *csv = tt_test_read_file(path, NULL);
    assert_non_null(csv);
    json_t *records = s_parse_csv(csv);
    assert_int_equal(json_array_size(records), json_array_size(rows) + 1);
    assert_true(json_equal(json_array_get(records, 0), cols));
    for (size_t r = 0; r < json_array_size(rows); r++) {
        json_t *row = json_array_get(rows, r), *rec = json_array_get(records, r + 1);
        assert_int_equal(json_array_size(rec), json_array_size(cols));
        const char *name = json_string_value(json_array_get(row, 0));
        json_t *ex = json_object_get(json_object_get(doc, "agent_extractions"), name);
        json_t *red = json_object_get(json_object_get(doc, "reductions"), name);
        if (!ex)
            ex = json_object_get(doc, "world_extraction");
        for (size_t c = 0; c < json_array_size(cols); c++) {
            json_t *v = json_array_get(row, c);
            char *want = s_expected_cell(v);
            assert_string_equal(json_string_value(json_array_get(rec, c)), want);
            free(want);
            const char *col = json_string_value(json_array_get(cols, c));
            json_t *src = c == 0                      ? NULL
                          : json_object_get(red, col) ? json_object_get(red, col)
                                                      : json_object_get(ex, col);
            if (src)
                assert_true(json_equal(src, v));
        }
    }
    json_decref(records);
    free(csv);
    free(path);
    json_decref(doc);
}

static void
s_check_agreement(const char *dir)
{
    s_check_agreement_of(dir, "extraction");
}

static json_t *
s_cell(const json_t *doc, const char *name, const char *col)
{
    json_t *table = json_object_get(doc, "table"), *cols = json_object_get(table, "columns");
    size_t c = 0;
    while (c < json_array_size(cols) && strcmp(json_string_value(json_array_get(cols, c)), col))
        c++;
    size_t r;
    json_t *row;
    json_array_foreach(json_object_get(table, "rows"), r, row)
    {
        if (!strcmp(json_string_value(json_array_get(row, 0)), name))
            return json_array_get(row, c);
    }
    fail_msg("no row %s", name);
    return NULL;
}

/* ------------------------------------------------------------------ tests */

static void
test_histories_are_tinytroupe_lines(void **state)
{
    char *dir = s_make_run("extract-hist", s_scenario), *err = NULL;
    coord_xrun_t *run = NULL;
    assert_int_equal(coord_xrun_load(dir, &run, &err), TT_OK);
    assert_int_equal(run->n_agents, 3);
    assert_int_equal(run->steps, 3);
    char *ana = coord_xrun_history(run, 0, COORD_EXTRACT_HISTORY_MAX);
    assert_non_null(strstr(ana, "[2026-03-01 09:10] Moderator --> " S_ANA ": [CONVERSATION] > "
                                "Taste the soup."));
    assert_non_null(strstr(ana, S_ANA " acts: [THINK] > Hmm, tasty.\n"));
    assert_non_null(strstr(ana, S_ANA " --> Moderator: [TALK] > Yes, I would"));
    assert_non_null(strstr(ana, "[2026-03-01 09:20] " S_ANA " --> " S_BRUNO ": [TALK]"));
    assert_null(strstr(ana, "[DONE]"));
    /* one line per event: Bruno's line break is flattened */
    assert_non_null(strstr(ana, "more pepper, honestly."));
    char *world = coord_xrun_history(run, -1, COORD_EXTRACT_HISTORY_MAX);
    assert_int_equal(tt_test_count(world, "[CONVERSATION] > Taste the soup"), 1);
    assert_int_equal(tt_test_count(world, "[TALK]"), 5);
    char *cut = coord_xrun_history(run, -1, 200);
    assert_true(strlen(cut) < 260);
    assert_non_null(strstr(cut, "earlier events omitted"));
    assert_non_null(strstr(cut, "Maybe, if the price drops."));
    free(cut);
    free(world);
    free(ana);
    coord_xrun_destroy(&run);
    tt_test_rmtree(dir);
    free(dir);
}

static void
test_per_agent_extraction_json_and_csv_agree(void **state)
{
    char *dir = s_make_run("extract-agents", s_scenario), *err = NULL;
    tt_config_t cfg;
    s_offline(&cfg);
    coord_extract_spec_t spec = {.run_dir = dir, .quiet = true};
    coord_extract_report_t rep;
    assert_int_equal(coord_extract_run(&spec, &cfg, &rep, &err), TT_OK);
    assert_int_equal(rep.rows, 3);
    assert_int_equal(rep.llm.calls, 3);
    s_check_agreement(dir);
    json_t *doc = s_load(dir, "extraction.json");
    assert_string_equal(tt_json_str(doc, "scope", ""), "per_agent");
    assert_true(json_is_true(json_object_get(doc, "offline")));
    /* the offline model: last words as the opinion, yes/no from what was said */
    assert_string_equal(json_string_value(s_cell(doc, S_ANA, "opinion")),
                        "Bruno, the price is fair.");
    assert_string_equal(json_string_value(s_cell(doc, S_ANA, "would_buy")), "yes");
    assert_string_equal(json_string_value(s_cell(doc, S_LI, "would_buy")), "no");
    assert_string_equal(json_string_value(s_cell(doc, S_BRUNO, "opinion")),
                        "It needs salt, \"really\", and more pepper, honestly.");
    /* the rules, without the model */
    assert_int_equal(json_integer_value(s_cell(doc, S_ANA, "talks")), 2);
    assert_int_equal(json_integer_value(s_cell(doc, S_LI, "talks")), 2);
    assert_int_equal(json_integer_value(s_cell(doc, S_BRUNO, "talks")), 1);
    assert_string_equal(json_string_value(s_cell(doc, S_BRUNO, "last_words")),
                        "It needs salt, \"really\", and more pepper,\nhonestly.");
    assert_true(json_is_null(s_cell(doc, S_LI, "first_thought")));
    assert_string_equal(json_string_value(s_cell(doc, S_BRUNO, "first_thought")), "I doubt it.");
    assert_int_equal(json_integer_value(s_cell(doc, S_ANA, "heard")), 2);
    assert_int_equal(json_integer_value(s_cell(doc, S_LI, "heard")), 1);
    assert_int_equal(json_integer_value(s_cell(doc, S_LI, "price_talk")), 2);
    assert_int_equal(json_integer_value(s_cell(doc, S_BRUNO, "price_talk")), 0);
    json_t *to_bruno = s_cell(doc, S_ANA, "to_bruno");
    assert_int_equal(json_array_size(to_bruno), 1);
    assert_int_equal(json_array_size(s_cell(doc, S_LI, "to_bruno")), 0);
    json_decref(doc);
    tt_config_fini(&cfg);
    tt_test_rmtree(dir);
    free(dir);
}

/* Reduction rules alone need no objective and make no model call. */
static const char s_rules_only[] =
    "{\"name\": \"Soup tasting\",\n"
    " \"extract\": {\"reduce\": [{\"name\": \"talks\", \"action\": \"TALK\", \"count\": true},\n"
    "   {\"name\": \"heard\", \"stimulus\": \"*\", \"count\": true}]}}\n";

static void
test_rules_only_need_no_model(void **state)
{
    char *dir = s_make_run("extract-rules", s_rules_only), *err = NULL;
    tt_config_t cfg;
    s_offline(&cfg);
    coord_extract_spec_t spec = {.run_dir = dir, .quiet = true};
    coord_extract_report_t rep;
    assert_int_equal(coord_extract_run(&spec, &cfg, &rep, &err), TT_OK);
    assert_int_equal(rep.rows, 3);
    assert_int_equal(rep.failed, 0);
    assert_int_equal(rep.llm.calls, 0);
    json_t *doc = s_load(dir, "extraction.json");
    assert_string_equal(tt_json_str(doc, "provider", ""), "none");
    assert_int_equal(json_integer_value(s_cell(doc, S_ANA, "talks")), 2);
    assert_int_equal(json_integer_value(s_cell(doc, S_LI, "heard")), 1);
    char *tlog = tt_asprintf("%s/extraction.tlog", dir);
    assert_int_not_equal(access(tlog, F_OK), 0); /* no model, no log of its answers */
    free(tlog);
    json_decref(doc);
    tt_config_fini(&cfg);
    tt_test_rmtree(dir);
    free(dir);
}

static void
test_replay_serves_every_answer(void **state)
{
    char *dir = s_make_run("extract-replay", s_scenario), *err = NULL;
    tt_config_t cfg;
    s_offline(&cfg);
    coord_extract_spec_t spec = {.run_dir = dir, .quiet = true, .fields = "opinion, rating"};
    coord_extract_report_t rep;
    assert_int_equal(coord_extract_run(&spec, &cfg, &rep, &err), TT_OK);
    json_t *first = s_load(dir, "extraction.json");
    spec.replay_path = dir; /* its own extraction.tlog, read before it is replaced */
    assert_int_equal(coord_extract_run(&spec, &cfg, &rep, &err), TT_OK);
    assert_int_equal(rep.llm.calls, 0);
    assert_int_equal(rep.llm.replayed, 3);
    json_t *second = s_load(dir, "extraction.json");
    assert_true(json_equal(json_object_get(first, "table"), json_object_get(second, "table")));
    json_t *cols = json_object_get(json_object_get(second, "table"), "columns");
    assert_string_equal(json_string_value(json_array_get(cols, 1)), "opinion");
    assert_string_equal(json_string_value(json_array_get(cols, 2)), "rating");
    assert_true(json_is_integer(s_cell(second, S_ANA, "rating")));
    s_check_agreement(dir);
    json_decref(first);
    json_decref(second);
    tt_config_fini(&cfg);
    tt_test_rmtree(dir);
    free(dir);
}

static void
test_world_scope_and_free_form(void **state)
{
    char *dir = s_make_run("extract-world", "{\"name\": \"no section\"}"), *err = NULL;
    tt_config_t cfg;
    s_offline(&cfg);
    coord_extract_spec_t spec = {.run_dir = dir,
                                 .quiet = true,
                                 .objective = "What did the group conclude?",
                                 .scope = COORD_EXTRACT_PER_AGENT};
    coord_extract_report_t rep;
    assert_int_equal(coord_extract_run(&spec, &cfg, &rep, &err), TT_OK);
    spec.scope = COORD_EXTRACT_WORLD;
    assert_int_equal(coord_extract_run(&spec, &cfg, &rep, &err), TT_OK);
    assert_int_equal(rep.rows, 1);
    assert_string_equal(rep.base, "world-extraction");
    /* the world's files beside the agents', which stay */
    json_t *agents = s_load(dir, "extraction.json");
    assert_string_equal(tt_json_str(agents, "scope", ""), "per_agent");
    json_decref(agents);
    s_check_agreement(dir);
    char *tlog = tt_asprintf("%s/world-extraction.tlog", dir);
    assert_int_equal(access(tlog, F_OK), 0);
    free(tlog);
    json_t *doc = s_load(dir, "world-extraction.json");
    assert_string_equal(tt_json_str(doc, "scope", ""), "world");
    assert_true(json_is_object(json_object_get(doc, "world_extraction")));
    assert_int_equal(json_object_size(json_object_get(doc, "agent_extractions")), 0);
    /* no fields: the columns are what the answer holds */
    json_t *cols = json_object_get(json_object_get(doc, "table"), "columns");
    assert_string_equal(json_string_value(json_array_get(cols, 0)), "name");
    assert_string_equal(json_string_value(json_array_get(cols, 1)), "summary");
    assert_non_null(strstr(json_string_value(s_cell(doc, "world", "summary")), "spoke 5 times"));
    s_check_agreement_of(dir, "world-extraction");
    json_decref(doc);
    tt_config_fini(&cfg);
    tt_test_rmtree(dir);
    free(dir);
}

static void
test_bad_extract_sections_have_positions(void **state)
{
    static const struct {
        const char *scenario, *want;
    } cases[] = {
        {"{\"extract\": {\"objective\": \"x\",\n \"reduce\": [{\"name\": \"n\", \"action\": "
         "\"TALK\", \"take\": \"middle\"}]}}",
         ":2:53: extract.reduce[0].take: expected \"first\", \"last\" or \"all\""},
        {"{\"extract\": {\"objective\": \"x\",\n \"reduce\": [{\"name\": \"n\", \"count\": "
         "true}]}}",
         ":2:13: extract.reduce[0]: a rule has exactly one of \"action\" and \"stimulus\""},
        {"{\"extract\": {\"objective\": \"x\", \"fields\": [\"talks\"],\n \"reduce\": [{\"name\": "
         "\"talks\", \"action\": \"TALK\", \"count\": true}]}}",
         ":2:22: extract.reduce[0].name: the column \"talks\" already exists"},
        {"{\"extract\": {\"objective\": \"x\", \"scope\": \"galaxy\"}}",
         ":1:41: extract.scope: expected \"per_agent\" or \"world\""},
        {"{\"extract\": {\"objectiv\": \"x\"}}", ":1:26: extract.objectiv: unknown key"},
        {"{\"extract\": {\"fields\": [\"a\", \"a\"]}}", "extract.fields[1]: \"a\" is listed twice"},
    };
    tt_config_t cfg;
    s_offline(&cfg);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = s_make_run("extract-bad", cases[i].scenario), *err = NULL;
        coord_extract_spec_t spec = {.run_dir = dir, .quiet = true};
        assert_int_equal(coord_extract_run(&spec, &cfg, NULL, &err), TT_EINVAL);
        if (!strstr(err, cases[i].want) || !strstr(err, "sim.tlog (scenario)"))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].want);
        char *out = tt_asprintf("%s/extraction.json", dir);
        assert_null(tt_test_read_file(out, NULL)); /* nothing written */
        free(out);
        free(err);
        tt_test_rmtree(dir);
        free(dir);
    }
    tt_config_fini(&cfg);
}

static void
test_bad_input(void **state)
{
    tt_config_t cfg;
    s_offline(&cfg);
    char *dir = s_make_run("extract-input", "{\"name\": \"no section\"}"), *err = NULL;
    coord_extract_spec_t spec = {.run_dir = dir, .quiet = true};
    assert_int_equal(coord_extract_run(&spec, &cfg, NULL, &err), TT_EINVAL);
    assert_non_null(strstr(err, "--objective TEXT is required"));
    free(err);
    spec.objective = "x";
    spec.fields = "a,,b";
    assert_int_equal(coord_extract_run(&spec, &cfg, NULL, &err), TT_EINVAL);
    assert_non_null(strstr(err, "--fields"));
    free(err);
    spec.fields = NULL;
    spec.replay_path = "/nonexistent/extraction.tlog";
    assert_int_equal(coord_extract_run(&spec, &cfg, NULL, &err), TT_EINVAL);
    assert_non_null(strstr(err, "cannot replay"));
    free(err);
    spec.run_dir = "/nonexistent-run";
    spec.replay_path = NULL;
    assert_int_equal(coord_extract_run(&spec, &cfg, NULL, &err), TT_EINVAL);
    assert_non_null(strstr(err, "/nonexistent-run/sim.tlog:1:1: no run here"));
    free(err);
    tt_test_rmtree(dir);
    free(dir);
    tt_config_fini(&cfg);
}

static void
test_csv_quoting(void **state)
{
    json_t *cols = json_pack("[s, s, s]", "name", "say, \"it\"", "n");
    json_t *rows =
        json_pack("[[s, s, i], [s, n, [s, s]]]", "a", "line\r\nbreak", 3, "b", "x", "y, z");
    char *csv = coord_extract_csv(cols, rows);
    assert_string_equal(csv, "name,\"say, \"\"it\"\"\",n\r\n"
                             "a,\"line\r\nbreak\",3\r\n"
                             "b,,\"[\"\"x\"\",\"\"y, z\"\"]\"\r\n");
    json_t *back = s_parse_csv(csv);
    assert_string_equal(json_string_value(json_array_get(json_array_get(back, 1), 1)),
                        "line\r\nbreak");
    json_decref(back);
    free(csv);
    json_decref(cols);
    json_decref(rows);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histories_are_tinytroupe_lines),
        cmocka_unit_test(test_per_agent_extraction_json_and_csv_agree),
        cmocka_unit_test(test_replay_serves_every_answer),
        cmocka_unit_test(test_world_scope_and_free_form),
        cmocka_unit_test(test_bad_extract_sections_have_positions),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_rules_only_need_no_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
