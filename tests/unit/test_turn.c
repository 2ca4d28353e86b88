/*  test_turn -- validating, repairing and normalising an agent's turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_turn.h"

static json_t *
s_ok(const char *content)
{
    tt_turn_rules_t rules;
    tt_turn_rules_init(&rules);
    tt_turn_rules_add(&rules, "RECALL");
    json_t *parsed = NULL;
    char *why = NULL;
    if (tt_turn_validate(content, &rules, &parsed, &why) != TT_OK)
        fail_msg("rejected: %s", why);
    return parsed;
}

static char *
s_bad(const char *content)
{
    tt_turn_rules_t rules;
    tt_turn_rules_init(&rules);
    json_t *parsed = NULL;
    char *why = NULL;
    assert_int_equal(tt_turn_validate(content, &rules, &parsed, &why), TT_ELLM);
    assert_null(parsed);
    assert_non_null(why);
    return why;
}

static void
test_done_is_appended_and_types_normalised(void **state)
{
    json_t *p = s_ok("{\"actions\":[{\"type\":\"think\",\"content\":\"hm\"}],"
                     "\"cognitive_state\":{\"goals\":[\"a\",\"b\"],\"context\":\"one\","
                     "\"attention\":null,\"emotions\":\"calm\"}}");
    json_t *actions = json_object_get(p, "actions");
    assert_int_equal(json_array_size(actions), 2);
    assert_string_equal(tt_json_str(json_array_get(actions, 0), "type", ""), "THINK");
    assert_string_equal(tt_json_str(json_array_get(actions, 0), "target", "x"), "");
    assert_string_equal(tt_json_str(json_array_get(actions, 1), "type", ""), "DONE");
    json_t *cs = json_object_get(p, "cognitive_state");
    assert_string_equal(tt_json_str(cs, "goals", ""), "a; b");
    assert_int_equal(json_array_size(json_object_get(cs, "context")), 1);
    json_decref(p);
}

static void
test_fenced_and_chatty_answers_are_repaired(void **state)
{
    json_t *p = s_ok("Sure! Here is my answer:\n```json\n{\"actions\":[{\"type\":\"TALK\","
                     "\"content\":\"hi\",\"target\":\"Oscar\"},],\"cognitive_state\":{}}\n```\n"
                     "Hope that helps.");
    assert_string_equal(tt_json_str(json_array_get(json_object_get(p, "actions"), 0), "target", ""),
                        "Oscar");
    json_decref(p);
}

static void
test_at_most_fifteen_actions_and_nothing_after_done(void **state)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    tt_buf_adds(&b, "{\"actions\":[");
    for (int i = 0; i < 40; i++)
        tt_buf_addf(&b, "%s{\"type\":\"THINK\",\"content\":\"t%d\",\"target\":\"\"}", i ? "," : "",
                    i);
    tt_buf_adds(&b, "],\"cognitive_state\":{}}");
    json_t *p = s_ok(tt_buf_str(&b));
    json_t *actions = json_object_get(p, "actions");
    assert_int_equal(json_array_size(actions), TT_MAX_ACTIONS_PER_TURN);
    assert_string_equal(
        tt_json_str(json_array_get(actions, TT_MAX_ACTIONS_PER_TURN - 1), "type", ""), "DONE");
    json_decref(p);
    tt_buf_fini(&b);
    p = s_ok("{\"actions\":[{\"type\":\"DONE\"},{\"type\":\"TALK\",\"content\":\"late\"}],"
             "\"cognitive_state\":{}}");
    assert_int_equal(json_array_size(json_object_get(p, "actions")), 1);
    json_decref(p);
}

static void
test_unusable_answers_are_explained(void **state)
{
    char *why = s_bad("{\"actions\":[{\"type\":\"FLY\",\"content\":\"up\"}]}");
    assert_non_null(strstr(why, "FLY"));
    free(why);
    why = s_bad("{\"thoughts\":\"none\"}");
    assert_non_null(strstr(why, "actions"));
    free(why);
    why = s_bad("{\"actions\":[{\"type\":\"TALK\",\"content\":\"trunc");
    free(why);
    why = s_bad("[1,2,3]");
    free(why);
}

static void
test_schema_lists_the_rules(void **state)
{
    tt_turn_rules_t rules;
    tt_turn_rules_init(&rules);
    assert_true(tt_turn_rules_add(&rules, "WRITE_DOCUMENT"));
    assert_false(tt_turn_rules_add(&rules, "lower case"));
    json_t *schema = tt_turn_schema(&rules);
    char *text = tt_json_canonical(schema);
    assert_non_null(strstr(text, "\"WRITE_DOCUMENT\""));
    assert_non_null(strstr(text, "\"additionalProperties\":false"));
    free(text);
    json_decref(schema);
}

static void
test_jaccard_is_a_character_multiset_measure(void **state)
{
    assert_true(tt_turn_jaccard("abc", "abc") == 1.0);
    assert_true(tt_turn_jaccard("aab", "ab") > 0.66 && tt_turn_jaccard("aab", "ab") < 0.67);
    assert_true(tt_turn_jaccard("abc", "xyz") == 0.0);
    assert_true(tt_turn_jaccard("I think we should go", "I think we should go!") >
                TT_MAX_ACTION_SIMILARITY);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_done_is_appended_and_types_normalised),
        cmocka_unit_test(test_fenced_and_chatty_answers_are_repaired),
        cmocka_unit_test(test_at_most_fifteen_actions_and_nothing_after_done),
        cmocka_unit_test(test_unusable_answers_are_explained),
        cmocka_unit_test(test_schema_lists_the_rules),
        cmocka_unit_test(test_jaccard_is_a_character_multiset_measure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
