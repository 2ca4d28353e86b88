/*  test_repair -- what tt_repair_json fixes, and what it refuses with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tt_json.h"
#include "tt_repair.h"

/* Repair text and compare the canonical result with expected JSON. */
static void
s_expect(const char *text, const char *expected)
{
    char *why = NULL;
    json_t *v = tt_repair_json(text, strlen(text), &why);
    if (!v)
        fail_msg("repair failed: %s", why);
    assert_null(why);
    json_t *want = json_loads(expected, 0, NULL);
    assert_non_null(want);
    char *a = tt_json_canonical(v), *b = tt_json_canonical(want);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(v);
    json_decref(want);
}

/* Repair must fail, with a reason containing needle. */
static void
s_refuse(const char *text, const char *needle)
{
    char *why = NULL;
    json_t *v = tt_repair_json(text, strlen(text), &why);
    assert_null(v);
    assert_non_null(why);
    if (!strstr(why, needle))
        fail_msg("reason \"%s\" lacks \"%s\"", why, needle);
    assert_null(strchr(why, '\n'));
    free(why);
}

static void
test_plain_object_passes(void **state)
{
    s_expect("{\"a\": 1, \"b\": [true, null]}", "{\"a\":1,\"b\":[true,null]}");
}

static void
test_code_fence_is_stripped(void **state)
{
    s_expect("```json\n{\"a\": 1}\n```", "{\"a\":1}");
    s_expect("Sure!\n```\n[1, 2]\n```\nHope this helps.", "[1,2]");
    /* an unclosed fence (the model stopped early but the value is whole) */
    s_expect("```json\n{\"a\": \"x\"}\n", "{\"a\":\"x\"}");
}

static void
test_prose_around_is_dropped(void **state)
{
    s_expect("Here is my answer: {\"actions\": []} -- let me know!", "{\"actions\":[]}");
}

static void
test_earlier_bracketed_prose_is_skipped(void **state)
{
    s_expect("I {think} so. {\"ok\": true}", "{\"ok\":true}");
}

static void
test_trailing_commas_are_removed(void **state)
{
    s_expect("{\"a\": [1, 2, ], \"b\": {\"c\": 3,\n },\n}", "{\"a\":[1,2],\"b\":{\"c\":3}}");
}

static void
test_commas_and_brackets_inside_strings_are_kept(void **state)
{
    s_expect("{\"s\": \"a, }] \\\" {,]\"}", "{\"s\":\"a, }] \\\" {,]\"}");
}

static void
test_bom_and_raw_newlines_are_fixed(void **state)
{
    s_expect("\xEF\xBB\xBF{\"text\": \"line one\nline\ttwo\"}",
             "{\"text\":\"line one\\nline\\ttwo\"}");
}

static void
test_truncated_object_is_reported(void **state)
{
    s_refuse("{\"actions\": [{\"type\": \"TALK\"}", "ends before the object closes");
    s_refuse("```json\n{\"a\": \"half a sent", "ends inside a string");
}

static void
test_mismatched_bracket_is_reported(void **state)
{
    s_refuse("{\"a\": [1, 2}", "closes nothing");
}

static void
test_invalid_token_is_reported_with_position(void **state)
{
    s_refuse("{'a': 1}", "invalid at line 1");
    s_refuse("{\"a\": 1, \"a\": 2}", "duplicate");
}

static void
test_no_json_is_reported(void **state)
{
    s_refuse("I would rather not answer.", "contains no JSON");
    s_refuse("", "empty");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_object_passes),
        cmocka_unit_test(test_code_fence_is_stripped),
        cmocka_unit_test(test_prose_around_is_dropped),
        cmocka_unit_test(test_earlier_bracketed_prose_is_skipped),
        cmocka_unit_test(test_trailing_commas_are_removed),
        cmocka_unit_test(test_commas_and_brackets_inside_strings_are_kept),
        cmocka_unit_test(test_bom_and_raw_newlines_are_fixed),
        cmocka_unit_test(test_truncated_object_is_reported),
        cmocka_unit_test(test_mismatched_bracket_is_reported),
        cmocka_unit_test(test_invalid_token_is_reported_with_position),
        cmocka_unit_test(test_no_json_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
