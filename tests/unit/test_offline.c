/*  test_offline -- the scripted persona reads the real prompt and answers the
 *  real schema, deterministically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "tt_json.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_persona.h"
#include "tt_prompt.h"
#include "tt_turn.h"

static tt_persona_t *
s_persona(void)
{
    tt_persona_t *p = NULL;
    char *err = NULL;
    assert_int_equal(tt_persona_from_text("{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"Lisa\","
                                          "\"occupation\":{\"title\":\"Engineer\"},"
                                          "\"preferences\":{\"interests\":[\"trains\"]}}}",
                                          &p, &err),
                     TT_OK);
    return p;
}

/* A turn request built by the real prompt code. */
static json_t *
s_turn_messages(tt_persona_t *p, tt_turn_rules_t *rules, const char *content, const char *source)
{
    tt_prompt_stable_t st = {.persona = p};
    char *system = tt_prompt_system(&st);
    const char *accessible[] = {"Oscar", "Marcos"};
    json_t *stimuli = json_pack("[{s:s, s:s, s:s}]", "type", "CONVERSATION", "content", content,
                                "source", source);
    tt_prompt_turn_t t = {.agent = "Lisa",
                          .datetime = "2026-03-01T09:10:00",
                          .accessible = accessible,
                          .n_accessible = 2,
                          .stimuli = stimuli,
                          .rules = rules};
    json_t *m = tt_prompt_turn_messages(system, &t);
    free(system);
    json_decref(stimuli);
    return m;
}

static json_t *
s_answer(json_t *messages, tt_turn_rules_t *rules, uint64_t seed)
{
    char *content = tt_offline_chat(messages, "agent_turn", seed, NULL);
    json_t *parsed = NULL;
    char *why = NULL;
    if (tt_turn_validate(content, rules, &parsed, &why) != TT_OK)
        fail_msg("offline answer does not validate: %s\n%s", why, content);
    free(content);
    return parsed;
}

static void
test_answers_the_source_and_ends_with_done(void **state)
{
    tt_persona_t *p = s_persona();
    tt_turn_rules_t rules;
    tt_turn_rules_init(&rules);
    json_t *m = s_turn_messages(p, &rules, "What do you think about night trains?", "Oscar");
    json_t *ans = s_answer(m, &rules, 7);
    json_t *actions = json_object_get(ans, "actions");
    size_t n = json_array_size(actions);
    assert_true(n >= 2);
    assert_string_equal(tt_json_str(json_array_get(actions, n - 1), "type", ""), "DONE");
    bool talked = false;
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_array_get(actions, i);
        if (!strcmp(tt_json_str(a, "type", ""), "TALK")) {
            assert_string_equal(tt_json_str(a, "target", ""), "Oscar");
            assert_non_null(strstr(tt_json_str(a, "content", ""), "night trains"));
            talked = true;
        }
    }
    assert_true(talked);
    json_decref(ans);
    json_decref(m);
    tt_persona_destroy(&p);
}

static void
test_same_request_same_answer_other_seed_differs(void **state)
{
    tt_persona_t *p = s_persona();
    tt_turn_rules_t rules;
    tt_turn_rules_init(&rules);
    json_t *m = s_turn_messages(p, &rules, "Shall we build a library together?", "Marcos");
    char *a = tt_offline_chat(m, "agent_turn", 1, NULL);
    char *b = tt_offline_chat(m, "agent_turn", 1, NULL);
    assert_string_equal(a, b);
    bool differs = false;
    for (uint64_t seed = 2; seed < 12 && !differs; seed++) {
        char *c = tt_offline_chat(m, "agent_turn", seed, NULL);
        differs = strcmp(a, c) != 0;
        free(c);
    }
    assert_true(differs);
    free(a);
    free(b);
    json_decref(m);
    tt_persona_destroy(&p);
}

static void
test_recall_when_asked_to_remember(void **state)
{
    tt_persona_t *p = s_persona();
    tt_turn_rules_t rules;
    tt_turn_rules_init(&rules);
    tt_turn_rules_add(&rules, "RECALL");
    json_t *m = s_turn_messages(p, &rules, "Do you remember the price of the tickets?", "Oscar");
    json_t *ans = s_answer(m, &rules, 3);
    json_t *actions = json_object_get(ans, "actions");
    bool recalled = false;
    for (size_t i = 0; i < json_array_size(actions); i++) {
        json_t *a = json_array_get(actions, i);
        if (!strcmp(tt_json_str(a, "type", ""), "RECALL")) {
            recalled = true;
            assert_non_null(strstr(tt_json_str(a, "content", ""), "price"));
        }
    }
    assert_true(recalled);
    /* the follow-up with the results talks about what came back */
    json_t *results = json_pack("[{s:s, s:s, s:s}]", "action", "RECALL", "query", "price", "result",
                                "RELEVANT CONTENT: tickets cost 40 euros");
    tt_prompt_add_followup(m, "{}", results); /* results are borrowed */
    json_decref(results);
    json_t *ans2 = s_answer(m, &rules, 3);
    json_t *first = json_array_get(json_object_get(ans2, "actions"), 0);
    assert_string_equal(tt_json_str(first, "type", ""), "TALK");
    assert_non_null(strstr(tt_json_str(first, "content", ""), "40 euros"));
    json_decref(ans);
    json_decref(ans2);
    json_decref(m);
    tt_persona_destroy(&p);
}

static void
test_recall_is_not_used_when_unavailable(void **state)
{
    tt_persona_t *p = s_persona();
    tt_turn_rules_t rules;
    tt_turn_rules_init(&rules); /* no RECALL */
    json_t *m = s_turn_messages(p, &rules, "Do you remember the price?", "Oscar");
    json_t *ans = s_answer(m, &rules, 3); /* validates: RECALL would be rejected */
    json_decref(ans);
    json_decref(m);
    tt_persona_destroy(&p);
}

static void
test_embeddings_are_unit_and_close_for_shared_words(void **state)
{
    float a[TT_OFFLINE_EMBED_DIM], b[TT_OFFLINE_EMBED_DIM], c[TT_OFFLINE_EMBED_DIM];
    tt_offline_embed("the insurance costs two dollars a day", a);
    tt_offline_embed("how much is the insurance per day", b);
    tt_offline_embed("football on sunday afternoon", c);
    double na = 0, ab = 0, ac = 0;
    for (int i = 0; i < TT_OFFLINE_EMBED_DIM; i++) {
        na += a[i] * a[i];
        ab += a[i] * b[i];
        ac += a[i] * c[i];
    }
    assert_true(fabs(na - 1.0) < 1e-4);
    assert_true(ab > ac + 0.2);
}

static void
test_consolidation_keeps_facts(void **state)
{
    const char *lines[] = {"- [STIMULUS:CONVERSATION] from Oscar [@2026-03-01T09:10:00]: the "
                           "tickets cost 40 euros",
                           "- [ACTION:TALK] to Oscar [@2026-03-01T09:10:00]: that is cheap"};
    json_t *m =
        tt_prompt_consolidation_messages("Lisa", "Lisa, 30", lines, 2, "2026-03-01T09:20:00");
    char *out = tt_offline_chat(m, "consolidation", 0, NULL);
    json_t *root = json_loads(out, 0, NULL);
    json_t *list = json_object_get(root, "consolidation");
    assert_int_equal(json_array_size(list), 2);
    assert_non_null(strstr(tt_json_str(json_array_get(list, 0), "content", ""), "40 euros"));
    json_decref(root);
    free(out);
    json_decref(m);
}

static void
test_tokens_estimate(void **state)
{
    assert_int_equal(tt_tokens_estimate(""), 0);
    assert_int_equal(tt_tokens_estimate("abcd"), 1);
    assert_int_equal(tt_tokens_estimate("abcde"), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_the_source_and_ends_with_done),
        cmocka_unit_test(test_same_request_same_answer_other_seed_differs),
        cmocka_unit_test(test_recall_when_asked_to_remember),
        cmocka_unit_test(test_recall_is_not_used_when_unavailable),
        cmocka_unit_test(test_embeddings_are_unit_and_close_for_shared_words),
        cmocka_unit_test(test_consolidation_keeps_facts),
        cmocka_unit_test(test_tokens_estimate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
