/*  test_persona -- TinyTroupe specs and fragments: loading, dot paths, define,
 *  merge, minibio, and a table of broken files. */
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
    tt_persona_define(p, "preferences.likes", json_pack("[s]", "bread"), false);
    tt_persona_define(p, "occupation", json_pack("{s:s}", "organization", "Ida's"), true);
    assert_string_equal(json_string_value(tt_persona_get(p, "occupation.title")), "Baker");
    assert_string_equal(json_string_value(tt_persona_get(p, "occupation.organization")), "Ida's");
    assert_string_equal(
        json_string_value(json_array_get(tt_persona_get(p, "preferences.likes"), 0)), "bread");
    char *bio = tt_persona_minibio(p);
    assert_string_equal(bio, "Ida, 70, Baker at Ida's");
    free(bio);
    /* a fragment deep-merges and never renames */
    char *frag = s_file("f.fragment.json", "{\"type\":\"Fragment\",\"persona\":{\"name\":\"X\","
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
        cmocka_unit_test(test_dirname_is_safe),
        cmocka_unit_test(test_broken_specs_table),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
