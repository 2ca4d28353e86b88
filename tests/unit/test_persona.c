/*  test_persona -- TinyTroupe specs and fragments: loading, dot paths, define,
 *  merge (conformance with TinyTroupe's merge_dicts), minibio, and a table of
 *  broken files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tt_mem.h"
#include "tt_persona.h"
#include "tt_test.h"

static char *s_dir;

static char *
s_file(const char *name, const char *text)
{
    char *path = tt_asprintf("%s/%s", s_dir, name);
    assert_true(tt_test_write_file(path, text));
    return path;
}

static void
test_example_personas_load(void **state)
{
    const char *names[] = {"lisa_carter", "oscar_ramos", "marcos_oliveira", "amara_okafor"};
    for (size_t i = 0; i < 4; i++) {
        char *rel = tt_asprintf("examples/agents/%s.agent.json", names[i]);
        char *path = tt_test_source_path(rel);
        tt_persona_t *p = NULL;
        char *err = NULL;
        if (tt_persona_load_file(path, &p, &err))
            fail_msg("%s", err);
        assert_non_null(tt_persona_get(p, "occupation.title"));
        assert_non_null(tt_persona_get(p, "personality.big_five.openness"));
        tt_persona_destroy(&p);
        free(path);
        free(rel);
    }
}

static void
test_define_get_merge_and_minibio(void **state)
{
    tt_persona_t *p = NULL;
    char *err = NULL;
    assert_int_equal(tt_persona_from_text("{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"Ida\","
                                          "\"age\":70,\"occupation\":{\"title\":\"Baker\"}}}",
                                          &p, &err),
                     TT_OK);
    assert_int_equal(
        tt_persona_define(p, "preferences.likes", json_pack("[s]", "bread"), false, NULL), TT_OK);
    assert_int_equal(
        tt_persona_define(p, "occupation", json_pack("{s:s}", "organization", "Ida's"), true, NULL),
        TT_OK);
    assert_string_equal(json_string_value(tt_persona_get(p, "occupation.title")), "Baker");
    assert_string_equal(json_string_value(tt_persona_get(p, "occupation.organization")), "Ida's");
    assert_string_equal(
        json_string_value(json_array_get(tt_persona_get(p, "preferences.likes"), 0)), "bread");
    char *bio = tt_persona_minibio(p);
    assert_string_equal(bio, "Ida, 70, Baker at Ida's");
    free(bio);
    /* a fragment deep-merges; a different name is a conflict (merge_dicts) */
    char *frag = s_file("f.fragment.json", "{\"type\":\"Fragment\",\"persona\":{\"name\":\"X\","
                                           "\"preferences\":{\"dislikes\":[\"noise\"]}}}");
    assert_int_equal(tt_persona_apply_fragment_file(p, frag, &err), TT_EINVAL);
    assert_non_null(strstr(err, "persona.name"));
    free(err);
    assert_null(tt_persona_get(p, "preferences.dislikes"));
    free(frag);
    frag = s_file("g.fragment.json", "{\"type\":\"Fragment\",\"persona\":{\"name\":\"Ida\","
                                     "\"preferences\":{\"dislikes\":[\"noise\"]}}}");
    assert_int_equal(tt_persona_apply_fragment_file(p, frag, &err), TT_OK);
    assert_string_equal(tt_persona_name(p), "Ida");
    assert_non_null(tt_persona_get(p, "preferences.likes"));
    assert_non_null(tt_persona_get(p, "preferences.dislikes"));
    /* the spec text round-trips */
    char *text = tt_persona_spec_text(p);
    tt_persona_t *q = NULL;
    assert_int_equal(tt_persona_from_text(text, &q, &err), TT_OK);
    assert_string_equal(tt_persona_name(q), "Ida");
    tt_persona_destroy(&q);
    free(text);
    free(frag);
    tt_persona_destroy(&p);
}

/* The persona's compact JSON, keys in their order. */
static void
s_assert_persona(const tt_persona_t *p, const char *want)
{
    char *got = json_dumps(tt_persona_json(p), JSON_COMPACT | JSON_ENSURE_ASCII);
    if (strcmp(got, want))
        fail_msg("persona\n got  %s\n want %s", got, want);
    free(got);
}

static char *
s_fixture(const char *name)
{
    char *rel = tt_asprintf("tests/data/fidelity/%s", name);
    char *path = tt_test_source_path(rel);
    free(rel);
    return path;
}

/* Conformance: fixtures in TinyTroupe's formats, merged as
 * tinytroupe/utils/json.py merge_dicts(current, additions) does with its
 * defaults (what import_fragment uses). The expected personas below were worked
 * out from that source: None takes the addition, dicts recurse, lists are joined
 * and the whole joined list loses its repeats (first kept), untouched lists keep
 * theirs, new keys go last, an equal scalar is no change, a different one raises. */
static void
test_fragments_merge_as_merge_dicts(void **state)
{
    char *person = s_fixture("rosa_lind.agent.json");
    char *civic = s_fixture("civic.fragment.json");
    char *thrifty = s_fixture("thrifty.fragment.json");
    char *pilot = s_fixture("pilot.fragment.json");
    tt_persona_t *p = NULL;
    char *err = NULL;
    if (tt_persona_load_file(person, &p, &err))
        fail_msg("%s", err);
    if (tt_persona_apply_fragment_file(p, civic, &err))
        fail_msg("%s", err);
    s_assert_persona(
        p, "{\"name\":\"Rosa Lind\",\"age\":41,\"nationality\":\"Swedish\","
           "\"residence\":\"Malm\\u00F6\",\"occupation\":{\"title\":\"Ferry engineer\","
           "\"organization\":\"Baltic Lines\",\"description\":\"Keeps the engines of a night "
           "ferry running.\"},\"personality\":{\"traits\":[\"Patient\",\"Curious\",\"Patient\"],"
           "\"big_five\":{\"openness\":\"High\",\"neuroticism\":\"Low\",\"agreeableness\":"
           "\"High\"}},\"preferences\":{\"interests\":[\"Sailing\",\"Jazz\",\"Politics\"],"
           "\"likes\":[\"Coffee\",\"Public transport\"],\"dislikes\":[\"Noise\"]},"
           "\"beliefs\":[\"Work should be done well.\",\"Public services matter.\"],"
           "\"relationships\":[{\"name\":\"Oskar\",\"description\":\"her brother\"},"
           "{\"name\":\"Mira\",\"description\":\"a friend from the union\"}],"
           "\"other_facts\":[\"She grew up in Gothenburg.\"],"
           "\"behaviors\":{\"general\":[\"Votes in every election.\"]}}");
    if (tt_persona_apply_fragment_file(p, thrifty, &err))
        fail_msg("%s", err);
    const char *after =
        "{\"name\":\"Rosa Lind\",\"age\":41,\"nationality\":\"Swedish\","
        "\"residence\":\"Malm\\u00F6\",\"occupation\":{\"title\":\"Ferry engineer\","
        "\"organization\":\"Baltic Lines\",\"description\":\"Keeps the engines of a night "
        "ferry running.\"},\"personality\":{\"traits\":[\"Patient\",\"Curious\",\"Patient\"],"
        "\"big_five\":{\"openness\":\"High\",\"neuroticism\":\"Low\",\"agreeableness\":"
        "\"High\"}},\"preferences\":{\"interests\":[\"Sailing\",\"Jazz\",\"Politics\"],"
        "\"likes\":[\"Coffee\",\"Public transport\",\"Second-hand shops\"],"
        "\"dislikes\":[\"Noise\"]},"
        "\"beliefs\":[\"Work should be done well.\",\"Public services matter.\"],"
        "\"relationships\":[{\"name\":\"Oskar\",\"description\":\"her brother\"},"
        "{\"name\":\"Mira\",\"description\":\"a friend from the union\"}],"
        "\"other_facts\":[\"She grew up in Gothenburg.\",\"She repairs her own bicycle.\"],"
        "\"behaviors\":{\"general\":[\"Votes in every election.\",\"Compares prices.\"]}}";
    s_assert_persona(p, after);
    /* occupation.title differs: ValueError in TinyTroupe; here file:line:col of
     * the fragment's value, and the persona is left as it was */
    assert_int_equal(tt_persona_apply_fragment_file(p, pilot, &err), TT_EINVAL);
    char *want = tt_asprintf("%s:6:16: persona.occupation.title: ", pilot);
    if (strncmp(err, want, strlen(want)) || !strstr(err, "Ferry engineer"))
        fail_msg("got \"%s\", want \"%s...\"", err, want);
    free(want);
    free(err);
    s_assert_persona(p, after);
    tt_persona_destroy(&p);
    free(person);
    free(civic);
    free(thrifty);
    free(pilot);
}

/* merge_dicts' other refusals, and Python's equality in repeats. */
static void
test_merge_dicts_types_and_equality(void **state)
{
    static const struct {
        const char *fragment;
        const char *where;
    } refused[] = {
        {"{\"age\":\"41\"}", "persona.age"},               /* str into int: TypeError */
        {"{\"age\":41.0}", "persona.age"},                 /* float into int: TypeError */
        {"{\"nationality\":null}", "persona.nationality"}, /* None into str */
        {"{\"beliefs\":\"one\"}", "persona.beliefs"},      /* str into list */
        {"{\"tags\":[{\"a\":[1]}]}", "persona.tags"},      /* unhashable dict item */
        {"{\"ok\":true}", "persona.ok"},                   /* bool conflict */
    };
    const char *base = "{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"Ida\",\"age\":41,"
                       "\"nationality\":\"Danish\",\"beliefs\":[],\"ok\":false,"
                       "\"tags\":[],\"n\":[1,true,1.0,\"1\",{\"k\":1},{\"k\":true}],"
                       "\"none\":null}}";
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        tt_persona_t *p = NULL;
        char *err = NULL;
        assert_int_equal(tt_persona_from_text(base, &p, &err), TT_OK);
        char *text = tt_asprintf("{\"type\":\"Fragment\",\"persona\":%s}", refused[i].fragment);
        char *frag = s_file("r.fragment.json", text);
        if (tt_persona_apply_fragment_file(p, frag, &err) != TT_EINVAL)
            fail_msg("case %zu accepted", i);
        if (!strstr(err, refused[i].where))
            fail_msg("case %zu: \"%s\" does not name %s", i, err, refused[i].where);
        free(err);
        free(frag);
        free(text);
        tt_persona_destroy(&p);
    }
    /* 1 == True == 1.0 in Python, so the joined list keeps the first of them;
     * null takes anything; an equal scalar is no conflict */
    tt_persona_t *p = NULL;
    char *err = NULL;
    assert_int_equal(tt_persona_from_text(base, &p, &err), TT_OK);
    char *frag = s_file("e.fragment.json", "{\"type\":\"Fragment\",\"persona\":{\"n\":[2],"
                                           "\"none\":[\"x\"],\"age\":41,\"ok\":false}}");
    if (tt_persona_apply_fragment_file(p, frag, &err))
        fail_msg("%s", err);
    char *n = json_dumps(tt_persona_get(p, "n"), JSON_COMPACT);
    assert_string_equal(n, "[1,\"1\",{\"k\":1},2]");
    free(n);
    assert_true(json_is_array(tt_persona_get(p, "none")));
    free(frag);
    /* define(key, value, merge=True) is merge_dicts(persona, {key: value}) */
    assert_int_equal(tt_persona_define(p, "beliefs", json_pack("[s]", "b"), true, NULL), TT_OK);
    assert_int_equal(tt_persona_define(p, "beliefs", json_pack("[s,s]", "b", "c"), true, NULL),
                     TT_OK);
    assert_int_equal(json_array_size(tt_persona_get(p, "beliefs")), 2);
    assert_int_equal(tt_persona_define(p, "job", json_pack("{s:s}", "title", "Baker"), true, NULL),
                     TT_OK);
    assert_int_equal(tt_persona_define(p, "job", json_pack("{s:s}", "title", "Pilot"), true, &err),
                     TT_EINVAL);
    assert_non_null(strstr(err, "job.title"));
    free(err);
    assert_string_equal(json_string_value(tt_persona_get(p, "job.title")), "Baker");
    /* without merge, a list replaces, and a scalar always overwrites */
    assert_int_equal(tt_persona_define(p, "beliefs", json_pack("[s]", "z"), false, NULL), TT_OK);
    assert_int_equal(json_array_size(tt_persona_get(p, "beliefs")), 1);
    assert_int_equal(tt_persona_define(p, "job.title", json_string("Pilot"), true, NULL), TT_OK);
    assert_string_equal(json_string_value(tt_persona_get(p, "job.title")), "Pilot");
    tt_persona_destroy(&p);
}

static void
test_dirname_is_safe(void **state)
{
    char *d = tt_persona_dirname("../etc/pass\nwd");
    assert_null(strchr(d, '/'));
    assert_null(strchr(d, '\n'));
    assert_true(d[0] != '.');
    free(d);
    /* one to one: names that differ only in what had to change differ */
    static const char *const names[] = {"Ann/Lee", "Ann_Lee", "Ann\\Lee", "Ann\nLee", ".Ann",
                                        "_Ann",    "Ann~1",   "",         ".",        ".."};
    char *dirs[sizeof names / sizeof *names];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        dirs[i] = tt_persona_dirname(names[i]);
        assert_null(strchr(dirs[i], '/'));
        assert_null(strchr(dirs[i], '\\'));
        assert_true(dirs[i][0] != '.' && dirs[i][0] != '\0');
        for (size_t j = 0; j < i; j++)
            if (!strcmp(dirs[i], dirs[j]))
                fail_msg("\"%s\" and \"%s\" share the directory %s", names[i], names[j], dirs[i]);
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        free(dirs[i]);
    /* simple names are their own directory, as the docs show */
    static const char *const plain[] = {"Lisa Carter", "Ann_Lee", "Zoë O'Brien",
                                        "J. R. Smith-Jones"};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        d = tt_persona_dirname(plain[i]);
        assert_string_equal(d, plain[i]);
        free(d);
    }
    assert_false(tt_persona_name_ok(""));
    assert_false(tt_persona_name_ok("tab\there"));
    assert_true(tt_persona_name_ok("Zoë O'Brien"));
}

static void
test_broken_specs_table(void **state)
{
    static const struct {
        const char *text;
        const char *where;
        const char *what;
    } cases[] = {
        {"{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"A\",}}", ":1:", ""},
        {"{\"type\":\"Robot\",\"persona\":{\"name\":\"A\"}}", ":1:9:", "TinyPerson"},
        {"{\"type\":\"TinyPerson\"}", ":1:1:", "persona"},
        {"{\"type\":\"TinyPerson\",\"persona\":[1]}", ":1:32:", "object"},
        {"{\"type\":\"TinyPerson\",\"persona\":{\"age\":3}}", ":1:32:", "name"},
        {"{\"type\":\"TinyPerson\",\n\"persona\":{\"name\":7}}", ":2:19:", "name"},
        {"{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"caf\xc3\"}}", ":1:", "UTF-8"},
        {"[\"not\", \"an\", \"object\"]", ":1:1:", "object"},
        {"", ":1:1:", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.agent.json", i);
        char *path = s_file(name, cases[i].text);
        tt_persona_t *p = NULL;
        char *err = NULL;
        if (tt_persona_load_file(path, &p, &err) == TT_OK || !err)
            fail_msg("case %zu accepted", i);
        char *want = tt_asprintf("%s%s", path, cases[i].where);
        if (strncmp(err, want, strlen(want)) || !strstr(err, cases[i].what))
            fail_msg("case %zu: \"%s\", want \"%s\" and \"%s\"", i, err, want, cases[i].what);
        assert_null(p);
        free(want);
        free(err);
        free(path);
    }
    /* a huge name is refused */
    char *big = tt_calloc(1, 400);
    memset(big, 'x', 300);
    char *text = tt_asprintf("{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"%s\"}}", big);
    tt_persona_t *p = NULL;
    char *err = NULL;
    assert_int_equal(tt_persona_from_text(text, &p, &err), TT_EINVAL);
    free(err);
    free(text);
    free(big);
}

static int
s_setup(void **state)
{
    s_dir = tt_test_tmpdir("persona");
    return 0;
}

static int
s_teardown(void **state)
{
    tt_test_rmtree(s_dir);
    free(s_dir);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_personas_load),
        cmocka_unit_test(test_define_get_merge_and_minibio),
        cmocka_unit_test(test_fragments_merge_as_merge_dicts),
        cmocka_unit_test(test_merge_dicts_types_and_equality),
        cmocka_unit_test(test_dirname_is_safe),
        cmocka_unit_test(test_broken_specs_table),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
