/*  test_results -- an agent's persona as results.csv columns: flattened names,
 *  short scalars and lists of them, the name left out; and copies of one
 *  persona (the same but for the name) sharing one columns object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "coord_results.h"

#define S_LISA  "{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"Lisa %d\",\"age\":%d,"
#define S_LISA2 "\"occupation\":{\"title\":\"Data Scientist\"},\"hobbies\":[\"chess\",\"tea\"]}}"

static char *
s_spec(int copy, int age)
{
    static char text[256];
    snprintf(text, sizeof text, S_LISA S_LISA2, copy, age);
    return text;
}

static void
test_columns_are_flattened_without_the_name(void **state)
{
    (void)state;
    json_t *cols = coord_results_persona_columns(s_spec(1, 28));
    assert_string_equal(json_string_value(json_object_get(cols, "persona.age")), "28");
    assert_string_equal(json_string_value(json_object_get(cols, "persona.occupation.title")),
                        "Data Scientist");
    assert_string_equal(json_string_value(json_object_get(cols, "persona.hobbies")), "chess; tea");
    assert_null(json_object_get(cols, "persona.name"));
    assert_int_equal(json_object_size(cols), 3);
    json_decref(cols);
    cols = coord_results_persona_columns("not json");
    assert_int_equal(json_object_size(cols), 0);
    json_decref(cols);
}

static void
test_copies_share_their_columns(void **state)
{
    (void)state;
    coord_persona_memo_t memo = {0};
    json_t *a = coord_results_persona_columns_next(&memo, s_spec(1, 28));
    json_t *b = coord_results_persona_columns_next(&memo, s_spec(2, 28));
    json_t *c = coord_results_persona_columns_next(&memo, s_spec(3, 41));
    json_t *d = coord_results_persona_columns_next(&memo, s_spec(4, 41));
    json_t *e = coord_results_persona_columns_next(&memo, "not json");
    coord_persona_memo_fini(&memo);
    assert_ptr_equal(a, b); /* the same but for the name: one object */
    assert_ptr_not_equal(b, c);
    assert_ptr_equal(c, d);
    assert_string_equal(json_string_value(json_object_get(b, "persona.age")), "28");
    assert_string_equal(json_string_value(json_object_get(c, "persona.age")), "41");
    assert_int_equal(json_object_size(e), 0);
    json_t *all[] = {a, b, c, d, e};
    for (size_t i = 0; i < 5; i++) {
        json_t *alone = coord_results_persona_columns(i < 2 ? s_spec(9, 28) : s_spec(9, 41));
        if (i < 4)
            assert_true(json_equal(all[i], alone)); /* what each would have alone */
        json_decref(alone);
        json_decref(all[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_are_flattened_without_the_name),
        cmocka_unit_test(test_copies_share_their_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
