/*  test_scenario -- loading scenarios, and a table of broken ones that must each
 *  give `file:line:col: what` without crashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coord_scenario.h"
#include "tt_buf.h"
#include "tt_mem.h"
#include "tt_test.h"

static char *s_dir;
static char *s_agents; /* the repository's examples/agents */

static int
s_setup(void **state)
{
    s_dir = tt_test_tmpdir("scenario");
    s_agents = tt_test_source_path("examples/agents");
    return 0;
}

static int
s_teardown(void **state)
{
    tt_test_rmtree(s_dir);
    free(s_dir);
    free(s_agents);
    return 0;
}

static char *
s_write(const char *name, const char *text)
{
    char *path = tt_asprintf("%s/%s", s_dir, name);
    assert_true(tt_test_write_file(path, text));
    return path;
}

static void
test_demo_scenario_loads(void **state)
{
    char *path = tt_test_source_path("examples/scenarios/focus_group.json");
    coord_scenario_t *s = NULL;
    char *err = NULL;
    assert_int_equal(coord_scenario_load(path, &s, &err), TT_OK);
    assert_true(s->n_agents >= 3);
    assert_int_equal(s->steps, 4);
    assert_int_equal(s->step_seconds, 600);
    assert_int_equal(s->mode, COORD_MODE_PARALLEL);
    assert_true(s->n_events >= 2);
    assert_string_equal(tt_persona_name(s->agents[0].persona), "Lisa Carter");
    long oscar = coord_scenario_find(s, "Oscar Ramos");
    assert_true(oscar >= 0);
    assert_int_equal(json_array_size(s->agents[oscar].tools), 1);
    coord_scenario_destroy(&s);
    assert_null(s);
    free(path);
}

static void
test_copies_inline_and_run_duration(void **state)
{
    char *text =
        tt_asprintf("{\"name\":\"copies\",\"world\":{\"step\":\"PT30M\",\"mode\":\"sequential\"},"
                    "\"run_hours\":3,"
                    "\"agents\":[{\"file\":\"%s/lisa_carter.agent.json\",\"count\":3},"
                    "{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"Inline Ida\",\"age\":50}}],"
                    "\"events\":[{\"step\":2,\"move\":[\"Inline Ida\"],\"location\":\"Kitchen\"}]}",
                    s_agents);
    char *path = s_write("copies.json", text);
    coord_scenario_t *s = NULL;
    char *err = NULL;
    assert_int_equal(coord_scenario_load(path, &s, &err), TT_OK);
    assert_int_equal(s->n_agents, 4);
    assert_string_equal(tt_persona_name(s->agents[0].persona), "Lisa Carter 1");
    assert_string_equal(tt_persona_name(s->agents[2].persona), "Lisa Carter 3");
    assert_string_equal(tt_persona_name(s->agents[3].persona), "Inline Ida");
    assert_int_equal(s->steps, 6); /* 3 hours of 30-minute steps */
    assert_int_equal(s->mode, COORD_MODE_SEQUENTIAL);
    assert_int_equal(s->events[0].kind, COORD_EVENT_MOVE);
    assert_int_equal(s->events[0].targets[0], 3);
    coord_scenario_destroy(&s);
    free(path);
    free(text);
}

static void
test_fragments_merge(void **state)
{
    char *frag =
        s_write("calm.fragment.json", "{\"type\":\"Fragment\",\"persona\":{"
                                      "\"preferences\":{\"interests\":[\"meditation\"]}}}");
    char *text = tt_asprintf("{\"world\":{},\"agents\":[{\"file\":\"%s/lisa_carter.agent.json\","
                             "\"fragments\":[\"calm.fragment.json\"]}]}",
                             s_agents);
    char *path = s_write("frag.json", text);
    coord_scenario_t *s = NULL;
    char *err = NULL;
    assert_int_equal(coord_scenario_load(path, &s, &err), TT_OK);
    const tt_persona_t *p = s->agents[0].persona;
    assert_string_equal(tt_persona_name(p), "Lisa Carter");
    /* lists join (merge_dicts): Lisa's interests stay, the fragment's come last */
    json_t *interests = tt_persona_get(p, "preferences.interests");
    assert_true(json_array_size(interests) > 1);
    assert_string_equal(
        json_string_value(json_array_get(interests, json_array_size(interests) - 1)), "meditation");
    assert_non_null(tt_persona_get(p, "preferences.dislikes")); /* kept by the deep merge */
    coord_scenario_destroy(&s);
    free(path);
    free(text);
    free(frag);
}

typedef struct {
    const char *text;     /* %s = the agents directory */
    const char *position; /* expected "line:col" after the file name */
    const char *words;    /* expected in the message */
} s_bad_t;

static const s_bad_t s_bad[] = {
    {"{\"world\": {}, \"agents\": [}", "1:26", ""},
    {"{\"world\": {},\n \"steps\": \"three\",\n \"agents\": [\"%s/lisa_carter.agent.json\"]}",
     "2:11", "integer"},
    {"{\"world\": {}}", "1:1", "agents"},
    {"{\"world\": {\"mode\": \"chaotic\"}, \"agents\": [\"%s/lisa_carter.agent.json\"]}", "1:20",
     "parallel"},
    {"{\"world\": {\"step\": \"10 minutes\"}, \"agents\": [\"%s/lisa_carter.agent.json\"]}", "1:20",
     "duration"},
    {"{\"world\": {\"start\": \"2026-02-30T09:00:00\"}, \"agents\": "
     "[\"%s/lisa_carter.agent.json\"]}",
     "1:21", "datetime"},
    {"{\"world\": {}, \"agents\": [\"%s/lisa_carter.agent.json\",\n "
     "\"%s/lisa_carter.agent.json\"]}",
     "2:2", "unique"},
    /* one spec under two names is fine (below); under one name twice it is not */
    {"{\"world\": {}, \"agents\": [{\"file\": \"%s/lisa_carter.agent.json\", \"name\": \"A\"},\n"
     " {\"file\": \"%s/lisa_carter.agent.json\", \"name\": \"A\"}]}",
     "2:2", "named \"A\""},
    {"{\"world\": {}, \"agents\": [{\"file\": \"%s/lisa_carter.agent.json\",\n \"name\": \"\"}]}",
     "2:10", "\"name\" must be"},
    {"{\"world\": {}, \"agents\": [{\"file\": \"%s/lisa_carter.agent.json\",\n \"fragmnets\": "
     "[]}]}",
     "2:15", "unknown key \"fragmnets\""},
    {"{\"world\": {}, \"agents\": [{\"folder\": \"%s\",\n \"name\": \"X\"}]}", "2:10",
     "unknown key \"name\""},
    {"{\"world\": {}, \"agents\": [\"%s/lisa_carter.agent.json\"],\n \"events\": [{\"step\": 1, "
     "\"broadcats\": \"hi\", \"broadcast\": \"x\"}]}",
     "2:38", "unknown key \"broadcats\""},
    {"{\"world\": {}, \"agents\": [\"%s/lisa_carter.agent.json\"],\n"
     " \"events\": [{\"step\": 1, \"to\": \"Nobody Here\", \"content\": \"hi\"}]}",
     "2:13", "Nobody Here"},
    {"{\"world\": {}, \"agents\": [{\"file\": \"%s/lisa_carter.agent.json\", \"count\": 1e9}]}",
     "1:", "integer"},
    {"{\"world\": {}, \"agents\": [\"%s/lisa_carter.agent.json\"], \"name\": \"caf\xc3\"}",
     "1:", "UTF-8"},
    {"{\"world\": {}, \"agents\": [42]}", "1:26", "agent is"},
    {"{\"world\": {}, \"stpes\": 3, \"agents\": [\"%s/lisa_carter.agent.json\"]}", "1:24",
     "unknown key \"stpes\""},
    {"{\"world\": {\"mdoe\": \"parallel\"}, \"agents\": [\"%s/lisa_carter.agent.json\"]}", "1:20",
     "unknown key"},
    {"{\"world\": {}, \"agents\": [\"%s/lisa_carter.agent.json\"],\n \"interventions\": "
     "[{\"name\": "
     "\"x\", \"when\": {\"every\": 0}, \"effect\": {\"content\": \"y\"}}]}",
     "2:52", "at least 1"},
    {"{\"world\": {}, \"agents\": [\"%s/lisa_carter.agent.json\"], \"events\": [{\"step\": 1, "
     "\"to\": \"Lisa Carter\", \"stimulus\": \"SHOUT\", \"content\": \"x\"}]}",
     "1:", "stimulus"},
};

/* Replace every %s in text with the agents directory. */
static char *
s_subst(const char *text)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    for (const char *p = text; *p; p++) {
        if (p[0] == '%' && p[1] == 's') {
            tt_buf_adds(&b, s_agents);
            p++;
        } else {
            tt_buf_add(&b, p, 1);
        }
    }
    return tt_buf_take(&b);
}

static void
test_broken_scenarios_are_located(void **state)
{
    for (size_t i = 0; i < sizeof s_bad / sizeof s_bad[0]; i++) {
        char *text = s_subst(s_bad[i].text);
        char name[32];
        snprintf(name, sizeof name, "bad%zu.json", i);
        char *path = s_write(name, text);
        coord_scenario_t *s = NULL;
        char *err = NULL;
        tt_err_t rc = coord_scenario_load(path, &s, &err);
        if (rc == TT_OK || !err) {
            fail_msg("case %zu loaded although broken", i);
        }
        char *want = tt_asprintf("%s:%s", path, s_bad[i].position);
        if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, s_bad[i].words))
            fail_msg("case %zu: got \"%s\", want prefix \"%s\" and \"%s\"", i, err, want,
                     s_bad[i].words);
        assert_null(s);
        free(want);
        free(err);
        free(path);
        free(text);
    }
}

static void
test_broken_agent_file_is_named(void **state)
{
    char *agent =
        s_write("bad.agent.json", "{\"type\": \"TinyPerson\",\n \"persona\": {\"name\": \"\"}}");
    char *path = s_write("uses_bad.json", "{\"world\": {}, \"agents\": [\"bad.agent.json\"]}");
    coord_scenario_t *s = NULL;
    char *err = NULL;
    assert_int_equal(coord_scenario_load(path, &s, &err), TT_EINVAL);
    char *want = tt_asprintf("%s:2:22:", agent);
    if (strncmp(err, want, strlen(want)))
        fail_msg("got \"%s\", want \"%s...\"", err, want);
    free(want);
    free(err);
    free(path);
    free(agent);
}

/* A "factory" section stands in for the agents list: the scenario is checked
 * without its people, then loaded with them after the listed ones; a name the
 * factory made that is already listed is refused. */
static void
test_factory_people_follow_the_listed_agents(void **state)
{
    char *gen = tt_asprintf("%s/generated", s_dir);
    char *mk = tt_asprintf("mkdir -p '%s'", gen);
    assert_int_equal(system(mk), 0);
    free(s_write("generated/Ana Lima.agent.json",
                 "{\"type\": \"TinyPerson\", \"persona\": {\"name\": \"Ana Lima\", \"age\": 30}}"));
    char *only = s_write("only.json", "{\"factory\": {\"count\": 1, \"context\": \"x\"}}");
    coord_scenario_t *s = NULL;
    char *err = NULL;
    if (coord_scenario_load(only, &s, &err))
        fail_msg("%s", err);
    assert_int_equal(s->n_agents, 0);
    assert_non_null(s->factory);
    coord_scenario_destroy(&s);
    assert_int_equal(coord_scenario_load_generated(only, gen, &s, &err), TT_OK);
    assert_int_equal(s->n_agents, 1);
    assert_string_equal(tt_persona_name(s->agents[0].persona), "Ana Lima");
    coord_scenario_destroy(&s);

    char *text = tt_asprintf("{\"agents\": [\"%s/lisa_carter.agent.json\"],\n"
                             " \"factory\": {\"count\": 1, \"context\": \"x\"}}",
                             s_agents);
    char *both = s_write("both.json", text);
    assert_int_equal(coord_scenario_load_generated(both, gen, &s, &err), TT_OK);
    assert_int_equal(s->n_agents, 2);
    assert_string_equal(tt_persona_name(s->agents[0].persona), "Lisa Carter");
    assert_string_equal(tt_persona_name(s->agents[1].persona), "Ana Lima");
    coord_scenario_destroy(&s);

    free(s_write("generated/Lisa Carter.agent.json",
                 "{\"type\": \"TinyPerson\", \"persona\": {\"name\": \"Lisa Carter\"}}"));
    assert_int_equal(coord_scenario_load_generated(both, gen, &s, &err), TT_EINVAL);
    assert_non_null(strstr(err, "Lisa Carter"));
    free(err);
    err = NULL;

    char *none = s_write("none.json", "{\"world\": {}}");
    assert_int_equal(coord_scenario_load(none, &s, &err), TT_EINVAL);
    assert_non_null(strstr(err, "agents"));
    free(err);
    free(none);
    free(both);
    free(text);
    free(only);
    free(mk);
    free(gen);
}

/* Every top-level and world key the schema documents is accepted by the loader. */
static void
test_schema_and_loader_agree(void **state)
{
    char *schema_path = tt_test_source_path("examples/scenario.schema.json");
    json_error_t jerr;
    json_t *schema = json_load_file(schema_path, 0, &jerr);
    assert_non_null(schema);
    json_t *props = json_object_get(schema, "properties");
    json_t *world_props = json_object_get(json_object_get(props, "world"), "properties");
    json_t *world = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(world_props, key, v) json_object_set_new(world, key, json_null());
    /* null values fail type checks, but never as "unknown key" */
    json_t *doc = json_object();
    json_object_foreach(props, key, v) json_object_set_new(doc, key, json_null());
    json_object_set_new(doc, "world", world);
    char *text = json_dumps(doc, 0);
    char *path = s_write("allkeys.json", text);
    coord_scenario_t *s = NULL;
    char *err = NULL;
    coord_scenario_load(path, &s, &err);
    assert_non_null(err);
    assert_null(strstr(err, "unknown key"));
    free(err);
    coord_scenario_destroy(&s);
    free(path);
    free(text);
    json_decref(doc);
    json_decref(schema);
    free(schema_path);
}

/* Grounding documents as TinyTroupe reads them: PDF and DOCX too, and a text
 * over 1 MiB split into parts instead of refused. */
static void
test_pdf_docx_and_long_documents(void **state)
{
    char *docs = tt_asprintf("%s/docs", s_dir);
    assert_int_equal(mkdir(docs, 0755), 0);
    const char *fixtures[] = {"ferry_report.pdf", "timetable_memo.docx"};
    for (size_t i = 0; i < 2; i++) {
        char *rel = tt_asprintf("tests/data/fidelity/docs/%s", fixtures[i]);
        char *src = tt_test_source_path(rel);
        char *dst = tt_asprintf("%s/%s", docs, fixtures[i]);
        FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
        assert_non_null(in);
        assert_non_null(out);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
            assert_int_equal(fwrite(buf, 1, n, out), n);
        fclose(in);
        fclose(out);
        free(dst);
        free(src);
        free(rel);
    }
    /* 2.5 MiB of numbered lines */
    tt_buf_t big;
    tt_buf_init(&big, 0);
    for (int i = 0; big.len < (size_t)5 << 19; i++)
        tt_buf_addf(&big, "Line %07d of the long minutes of the ferry committee.\n", i);
    char *big_path = tt_asprintf("%s/minutes.txt", docs);
    assert_true(tt_test_write_file(big_path, tt_buf_str(&big)));
    char *text = tt_asprintf("{\"agents\": [{\"file\": \"%s/lisa_carter.agent.json\", "
                             "\"documents\": \"docs\"}]}",
                             s_agents);
    char *path = s_write("docs.json", text);
    coord_scenario_t *s = NULL;
    char *err = NULL;
    if (coord_scenario_load(path, &s, &err))
        fail_msg("%s", err);
    json_t *list = s->agents[0].documents;
    const char *names[] = {"ferry_report.pdf", "minutes.txt (part 1 of 3)",
                           "minutes.txt (part 2 of 3)", "minutes.txt (part 3 of 3)",
                           "timetable_memo.docx"};
    assert_int_equal(json_array_size(list), 5);
    tt_buf_t joined;
    tt_buf_init(&joined, 0);
    for (size_t i = 0; i < 5; i++) {
        json_t *d = json_array_get(list, i);
        assert_string_equal(tt_json_str(d, "name", ""), names[i]);
        const char *t = tt_json_str(d, "text", "");
        if (i >= 1 && i <= 3) {
            assert_true(strlen(t) <= (size_t)1 << 20);
            assert_int_equal(t[strlen(t) - 1], '\n'); /* cut at a line end */
            tt_buf_adds(&joined, t);
        }
    }
    assert_string_equal(tt_buf_str(&joined), tt_buf_str(&big)); /* nothing lost */
    assert_non_null(
        strstr(tt_json_str(json_array_get(list, 0), "text", ""), "Riders per day: 4,120"));
    assert_non_null(strstr(tt_json_str(json_array_get(list, 4), "text", ""),
                           "Ferry timetable memo\nWinter: \tthe last crossing is at 22:40.\n"
                           "Summer: every 20 minutes.\n"));
    /* the documents faculty comes with them */
    char *faculties = json_dumps(s->agents[0].faculties, JSON_COMPACT);
    assert_non_null(strstr(faculties, "\"documents\""));
    free(faculties);
    coord_scenario_destroy(&s);
    /* a damaged PDF is named, file:line:col at the agent entry */
    char *bad = tt_asprintf("%s/broken.pdf", docs);
    assert_true(tt_test_write_file(bad, "%PDF-1.4 not really"));
    assert_int_equal(coord_scenario_load(path, &s, &err), TT_EINVAL);
    if (!strstr(err, "docs.json:1:") || !strstr(err, "broken.pdf: cannot read the PDF"))
        fail_msg("%s", err);
    free(err);
    free(bad);
    tt_buf_fini(&joined);
    tt_buf_fini(&big);
    free(big_path);
    free(path);
    free(text);
    free(docs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_demo_scenario_loads, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_copies_inline_and_run_duration, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_fragments_merge, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_broken_scenarios_are_located, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_factory_people_follow_the_listed_agents, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_broken_agent_file_is_named, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_schema_and_loader_agree, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_pdf_docx_and_long_documents, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
