/*  test_json -- positioned errors, canonical dumps, UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tt_json.h"
#include "tt_mem.h"

static void
test_syntax_error_has_line_and_column(void **state)
{
    const char *text = "{\n  \"a\": 1,\n  \"b\": ,\n}";
    tt_jdoc_t *doc;
    char *err = NULL;
    assert_int_equal(tt_jdoc_load_text("s.json", text, strlen(text), &doc, &err), TT_EINVAL);
    assert_non_null(err);
    assert_true(strncmp(err, "s.json:3:", 9) == 0);
    free(err);
}

static void
test_locate_nested_value(void **state)
{
    const char *text =
        "{\"world\": {\"name\": \"x\",\n \"step\": 42},\n\"agents\": [1, {\"count\": \"no\"}]}";
    int line, col;
    assert_true(tt_json_locate(text, strlen(text), "world.step", &line, &col));
    assert_int_equal(line, 2);
    assert_int_equal(col, 10);
    assert_true(tt_json_locate(text, strlen(text), "agents[1].count", &line, &col));
    assert_int_equal(line, 3);
    assert_int_equal(col, 25);
    /* a missing key points at its object */
    assert_false(tt_json_locate(text, strlen(text), "world.missing", &line, &col));
    assert_int_equal(line, 1);
    assert_int_equal(col, 11);
}

static void
test_errorf_formats_file_line_col(void **state)
{
    const char *text = "{\"steps\": \"three\"}";
    tt_jdoc_t *doc;
    char *err = NULL;
    assert_int_equal(tt_jdoc_load_text("x.json", text, strlen(text), &doc, &err), TT_OK);
    char *msg = tt_jdoc_errorf(doc, "steps", "expected an integer");
    assert_string_equal(msg, "x.json:1:11: steps: expected an integer");
    free(msg);
    tt_jdoc_destroy(&doc);
    assert_null(doc);
}

static void
test_canonical_is_order_independent(void **state)
{
    json_t *a = json_pack("{s:i, s:s, s:{s:f, s:b}}", "z", 1, "a", "x", "m", "k", 0.7, "b", 1);
    json_t *b = json_pack("{s:{s:b, s:f}, s:s, s:i}", "m", "b", 1, "k", 0.7, "a", "x", "z", 1);
    char *ca = tt_json_canonical(a), *cb = tt_json_canonical(b);
    assert_string_equal(ca, cb);
    assert_non_null(strstr(ca, "\"a\":\"x\",\"m\""));
    free(ca);
    free(cb);
    json_decref(a);
    json_decref(b);
}

/* Our writers produce jansson's compact and sorted-key bytes exactly. */
static void
test_canonical_matches_jansson(void **state)
{
    const char *docs[] = {
        "{\"z\":[1,2.5,-0.1,1e300,3.0,1e-05,-2.5e-300,123456789.0,null,true,false],\"a\":{\"\":"
        "\"\",\"b\":\"x\\\"y\\\\\"}}",
        "[\"line\\nbreak\\ttab\\u0001\\u001f\\r\\b\\f\", \"caf\u00e9 \u2028 \u00ff\"]",
        "{\"messages\":[{\"role\":\"system\",\"content\":\"<persona>{\\\"a\\\":1}</persona>/x\"}],"
        "\"temperature\":0.7,\"seed\":18446744073709551615,\"n\":-42}",
        "\"just a string\"",
        "12345678901234",
        "0.1",
        "{}",
        "[]"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t err;
        json_t *v = json_loads(docs[i], JSON_DECODE_ANY, &err);
        if (!v) /* out-of-range integers are refused by jansson: skip those */
            continue;
        char *ours = tt_json_canonical(v);
        char *theirs = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
                                         JSON_REAL_PRECISION(17));
        assert_string_equal(ours, theirs);
        free(ours);
        free(theirs);
        ours = tt_json_compact(v);
        theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        assert_string_equal(ours, theirs);
        free(ours);
        free(theirs);
        json_decref(v);
    }
}

static void
test_utf8_validation(void **state)
{
    assert_true(tt_utf8_valid("caf\xc3\xa9", 5));
    assert_false(tt_utf8_valid("caf\xc3", 4));
    assert_false(tt_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(tt_utf8_valid("\xc0\xaf", 2));     /* overlong */
    assert_false(tt_utf8_valid("a\0b", 3));
    /* long ASCII runs are checked a word at a time: whatever falls at any
     * offset of one is still seen */
    char text[48];
    for (size_t at = 0; at + 4 <= sizeof text; at++) {
        memset(text, 'a', sizeof text);
        memcpy(text + at, "\xe2\x82\xac", 3); /* € */
        assert_true(tt_utf8_valid(text, sizeof text));
        memcpy(text + at, "\xed\xa0\x80", 3); /* a surrogate */
        assert_false(tt_utf8_valid(text, sizeof text));
        memset(text, 'a', sizeof text);
        text[at] = '\0';
        assert_false(tt_utf8_valid(text, sizeof text));
        text[at] = (char)0x80; /* a continuation byte alone */
        assert_false(tt_utf8_valid(text, sizeof text));
        text[at] = (char)0xc3; /* é cut short: the text ends at its first byte */
        assert_false(tt_utf8_valid(text, at + 1));
    }
}

/* Every cut of a mixed string keeps whole characters only. */
static void
test_utf8_cut_keeps_whole_characters(void **state)
{
    (void)state;
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"; /* a é € 😀 z */
    size_t len = strlen(s);
    assert_int_equal(tt_utf8_cut(s, len, len), len);
    assert_int_equal(tt_utf8_cut(s, len, 100), len);
    for (size_t max = 0; max < len; max++) {
        size_t n = tt_utf8_cut(s, len, max);
        assert_true(n <= max);
        assert_true(max - n <= 3);
        assert_true(n == 0 || tt_utf8_valid(s, n));
    }
    assert_int_equal(tt_utf8_cut(s, len, 2), 1); /* not half of é */
    assert_int_equal(tt_utf8_cut(s, len, 6), 6); /* a é € */
}

/* Equal values digest alike whatever their key order; any change of type,
 * boundary or domain changes the digest. */
static void
test_digest_is_of_the_value(void **state)
{
    (void)state;
    const char *same[][2] = {
        {"{\"a\": 1, \"b\": [true, null, \"x\"]}", "{\"b\": [true, null, \"x\"], \"a\": 1}"},
        {"{\"r\": 0.5, \"s\": \"\\u00e9\"}", "{\"s\": \"\xc3\xa9\", \"r\": 0.50}"},
    };
    const char *differ[][2] = {
        {"{\"a\": 1}", "{\"a\": \"1\"}"},
        {"[\"ab\"]", "[\"a\", \"b\"]"},
        {"{\"a\": [1]}", "{\"a\": 1}"},
        {"{\"ab\": \"c\"}", "{\"a\": \"bc\"}"},
        {"[1.0]", "[1]"},
        {"[true]", "[false]"},
        {"[null]", "[]"},
    };
    uint8_t d1[32], d2[32];
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        json_t *a = json_loads(same[i][0], 0, NULL), *b = json_loads(same[i][1], 0, NULL);
        assert_non_null(a);
        assert_non_null(b);
        tt_json_digest(a, "t", d1);
        tt_json_digest(b, "t", d2);
        assert_memory_equal(d1, d2, 32);
        tt_json_digest(a, "u", d2);
        assert_memory_not_equal(d1, d2, 32);
        json_decref(a);
        json_decref(b);
    }
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
        json_t *a = json_loads(differ[i][0], 0, NULL), *b = json_loads(differ[i][1], 0, NULL);
        assert_non_null(a);
        assert_non_null(b);
        tt_json_digest(a, "t", d1);
        tt_json_digest(b, "t", d2);
        if (!memcmp(d1, d2, 32))
            fail_msg("%s and %s digest alike", differ[i][0], differ[i][1]);
        json_decref(a);
        json_decref(b);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_error_has_line_and_column),
        cmocka_unit_test(test_digest_is_of_the_value),
        cmocka_unit_test(test_locate_nested_value),
        cmocka_unit_test(test_errorf_formats_file_line_col),
        cmocka_unit_test(test_canonical_is_order_independent),
        cmocka_unit_test(test_canonical_matches_jansson),
        cmocka_unit_test(test_utf8_validation),
        cmocka_unit_test(test_utf8_cut_keeps_whole_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
