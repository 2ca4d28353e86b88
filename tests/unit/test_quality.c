/*  test_quality -- the action quality checks' verdict, the judge's answer
 *  checker, the config keys that switch each check, and the offline judge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tt_config.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_quality.h"

static json_t *
s_judged(const char *answer)
{
    json_t *root = json_loads(answer, 0, NULL);
    json_t *normal = NULL;
    char *why = NULL;
    assert_int_equal(tt_quality_judge_check(root, NULL, &normal, &why), TT_OK);
    json_decref(root);
    return normal;
}

/* Every enabled check at or above the threshold passes; one below fails and
 * is named in the feedback; a check not asked for passes. */
static void
test_verdict_follows_threshold_and_switches(void **state)
{
    (void)state;
    tt_config_t cfg;
    tt_config_init(&cfg);
    cfg.quality_checks = true;
    cfg.qc_fluency = true; /* with persona adherence, on by default */
    cfg.quality_threshold = 6;
    json_t *acts =
        json_loads("[{\"type\":\"TALK\",\"content\":\"hello there\",\"target\":\"\"}]", 0, NULL);
    json_t *j = s_judged("{\"scores\":[{\"check\":\"persona_adherence\",\"value\":6,"
                         "\"justification\":\"fits\"},{\"check\":\"fluency\",\"value\":5,"
                         "\"justification\":\"repeats\"}]}");
    tt_quality_verdict_t v;
    tt_quality_verdict(j, NULL, acts, &cfg, &v);
    assert_false(v.passed);
    assert_int_equal(v.total, 6 + 5 + 9 + 9 + 9); /* self-consistency, suitability, similarity */
    assert_non_null(strstr(v.feedback, "fluency (score 5"));
    assert_null(strstr(v.feedback, "persona_adherence"));
    tt_quality_verdict_fini(&v);
    cfg.quality_threshold = 5;
    tt_quality_verdict(j, NULL, acts, &cfg, &v);
    assert_true(v.passed);
    assert_null(v.feedback);
    /* a check asked for but not scored fails */
    cfg.qc_suitability = true;
    tt_quality_verdict(j, NULL, acts, &cfg, &v);
    assert_false(v.passed);
    assert_non_null(strstr(v.feedback, "suitability"));
    tt_quality_verdict_fini(&v);
    cfg.qc_suitability = false;
    /* similarity: the same words as the last action fail without a model call */
    cfg.qc_similarity = true;
    json_t *last = json_loads("{\"type\":\"TALK\",\"content\":\"hello there!\"}", 0, NULL);
    tt_quality_verdict(j, last, acts, &cfg, &v);
    assert_false(v.passed);
    assert_non_null(strstr(v.feedback, "similarity"));
    tt_quality_verdict_fini(&v);
    json_decref(last);
    json_decref(j);
    json_decref(acts);
    tt_config_fini(&cfg);
}

static void
test_judge_answers_are_checked(void **state)
{
    (void)state;
    const char *bad[] = {"{}", "{\"scores\":[{\"check\":\"fluency\",\"value\":12}]}",
                         "{\"scores\":[{\"value\":3}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *root = json_loads(bad[i], 0, NULL);
        json_t *normal = NULL;
        char *why = NULL;
        assert_int_equal(tt_quality_judge_check(root, NULL, &normal, &why), TT_ELLM);
        assert_non_null(why);
        free(why);
        json_decref(root);
    }
}

/* Every [ActionGenerator] key of TinyTroupe's config.ini is read, and only
 * checks switched on are sent to the judge. */
static void
test_config_keys_switch_the_checks(void **state)
{
    (void)state;
    char path[] = "/tmp/tt-quality-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("[ActionGenerator]\nMAX_ATTEMPTS=3\nENABLE_QUALITY_CHECKS=True\n"
          "ENABLE_REGENERATION=False\nENABLE_DIRECT_CORRECTION=True\n"
          "ENABLE_QUALITY_CHECK_FOR_PERSONA_ADHERENCE=False\n"
          "ENABLE_QUALITY_CHECK_FOR_SELFCONSISTENCY=True\nENABLE_QUALITY_CHECK_FOR_FLUENCY=False\n"
          "ENABLE_QUALITY_CHECK_FOR_SUITABILITY=True\nENABLE_QUALITY_CHECK_FOR_SIMILARITY=True\n"
          "CONTINUE_ON_FAILURE=False\nQUALITY_THRESHOLD = 8\n",
          f);
    fclose(f);
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_OK);
    unlink(path);
    assert_int_equal(cfg.action_max_attempts, 3);
    assert_true(cfg.quality_checks && !cfg.qc_regeneration && cfg.qc_direct_correction);
    assert_true(!cfg.qc_persona_adherence && cfg.qc_selfconsistency && !cfg.qc_fluency);
    assert_true(cfg.qc_suitability && cfg.qc_similarity && !cfg.qc_continue_on_failure);
    assert_int_equal(cfg.quality_threshold, 8);
    /* they travel to agentds */
    json_t *j = tt_config_to_json(&cfg);
    tt_config_t copy;
    tt_config_init(&copy);
    tt_config_from_json(&copy, j);
    assert_true(copy.quality_checks && copy.qc_suitability && !copy.qc_persona_adherence);
    assert_int_equal(copy.quality_threshold, 8);
    json_decref(j);
    tt_config_fini(&copy);
    json_t *acts = json_loads("[{\"type\":\"TALK\",\"content\":\"hi\",\"target\":\"\"}]", 0, NULL);
    json_t *m = tt_quality_judge_messages("persona", NULL, acts, &cfg);
    const char *user = tt_json_str(json_array_get(m, 1), "content", "");
    assert_non_null(strstr(user, "- self_consistency:"));
    assert_non_null(strstr(user, "- suitability:"));
    assert_null(strstr(user, "- fluency:"));
    assert_null(strstr(user, "- persona_adherence:"));
    /* the offline judge scores exactly the claims asked */
    char *ans = tt_offline_chat(m, TT_QUALITY_JUDGE_SCHEMA, 1, NULL);
    json_t *judged = s_judged(ans);
    assert_int_equal(json_object_size(judged), 2);
    assert_int_equal(tt_json_int(json_object_get(judged, "suitability"), "value", -1), 9);
    json_decref(judged);
    free(ans);
    json_decref(m);
    json_decref(acts);
    tt_config_fini(&cfg);
}

/* The offline judge tells a stutter from a sentence; its correction drops
 * the repeats. */
static void
test_offline_judge_and_correction(void **state)
{
    (void)state;
    tt_config_t cfg;
    tt_config_init(&cfg);
    cfg.quality_checks = true;
    json_t *acts = json_loads("[{\"type\":\"TALK\",\"content\":\"so so so so so so\",\"target\":"
                              "\"Ann\"}]",
                              0, NULL);
    json_t *m = tt_quality_judge_messages("persona", NULL, acts, &cfg);
    char *ans = tt_offline_chat(m, TT_QUALITY_JUDGE_SCHEMA, 1, NULL);
    json_t *judged = s_judged(ans);
    assert_true(tt_json_int(json_object_get(judged, "persona_adherence"), "value", 9) < 5);
    json_decref(judged);
    free(ans);
    json_decref(m);
    m = tt_quality_correction_messages("persona", acts, "fluency failed");
    ans = tt_offline_chat(m, TT_QUALITY_CORRECT_SCHEMA, 1, NULL);
    json_t *fixed = json_loads(ans, 0, NULL);
    json_t *a0 = json_array_get(json_object_get(fixed, "actions"), 0);
    assert_string_equal(tt_json_str(a0, "content", ""), "so");
    assert_string_equal(tt_json_str(a0, "target", ""), "Ann");
    json_decref(fixed);
    free(ans);
    json_decref(m);
    json_decref(acts);
    tt_config_fini(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_follows_threshold_and_switches),
        cmocka_unit_test(test_judge_answers_are_checked),
        cmocka_unit_test(test_config_keys_switch_the_checks),
        cmocka_unit_test(test_offline_judge_and_correction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
