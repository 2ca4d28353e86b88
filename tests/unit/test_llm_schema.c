/*  test_llm_schema -- the pure parts of the client: the schema subset checker
 *  that judges structured answers, the backoff formula, provider quirks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tt_llm_impl.h"
#include "tt_llm_provider.h"

static const char s_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"actions\"],"
    "\"properties\":{\"actions\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":3,"
    "\"items\":{\"type\":\"object\",\"required\":[\"type\"],\"properties\":{"
    "\"type\":{\"enum\":[\"TALK\",\"THINK\",\"DONE\"]},"
    "\"target\":{\"type\":[\"string\",\"null\"]}}}},"
    "\"mood\":{\"type\":\"string\"},\"score\":{\"type\":\"number\"},\"n\":{\"type\":\"integer\"}}}";

/* Check value text against s_schema; expect ok, or a reason containing needle. */
static void
s_check(const char *value, const char *needle)
{
    json_t *schema = json_loads(s_schema, 0, NULL), *v = json_loads(value, 0, NULL);
    assert_non_null(schema);
    assert_non_null(v);
    char *why = NULL;
    bool ok = tt_llm_schema_check(schema, v, &why);
    if (!needle) {
        if (!ok)
            fail_msg("rejected: %s", why);
    } else {
        assert_false(ok);
        if (!strstr(why, needle))
            fail_msg("reason \"%s\" lacks \"%s\"", why, needle);
    }
    free(why);
    json_decref(schema);
    json_decref(v);
}

static void
test_conforming_values_pass(void **state)
{
    s_check("{\"actions\":[{\"type\":\"TALK\",\"target\":\"Ann\"}]}", NULL);
    s_check("{\"actions\":[{\"type\":\"DONE\",\"target\":null}],\"score\":3,\"n\":2}", NULL);
    s_check("{\"actions\":[{\"type\":\"THINK\"}],\"score\":0.5,\"mood\":\"ok\"}", NULL);
}

static void
test_violations_are_named_by_path(void **state)
{
    s_check("{}", "$: the required field \"actions\" is missing");
    s_check("{\"actions\":[{\"type\":\"TALK\"}],\"x\":1}", "$: the field \"x\" is not allowed");
    s_check("{\"actions\":\"none\"}", "$.actions: expected array, got string");
    s_check("{\"actions\":[]}", "$.actions: has 0 items, needs at least 1");
    s_check("{\"actions\":[{\"type\":\"DONE\"},{\"type\":\"DONE\"},{\"type\":\"DONE\"},"
            "{\"type\":\"DONE\"}]}",
            "$.actions: has 4 items, allows at most 3");
    s_check("{\"actions\":[{\"type\":\"THINK\"},{\"type\":\"SING\"}]}",
            "$.actions[1].type: \"SING\" is not one of");
    s_check("{\"actions\":[{\"type\":\"TALK\",\"target\":7}]}",
            "$.actions[0].target: expected one of the types");
    s_check("{\"actions\":[{\"type\":\"TALK\"}],\"n\":1.5}", "$.n: expected integer, got number");
}

static void
test_backoff_follows_the_formula(void **state)
{
    tt_llm_conf_t c = {.waiting_time_s = 0, .backoff_factor = 5};
    /* base 0.5 s when WAITING_TIME is 0, times factor^(n-1), capped at 8 s */
    assert_int_equal(tt_llm_backoff_ms(&c, 1, 0), 500);
    assert_int_equal(tt_llm_backoff_ms(&c, 2, 0), 2500);
    assert_int_equal(tt_llm_backoff_ms(&c, 3, 0), 8000);
    assert_int_equal(tt_llm_backoff_ms(&c, 9, 0), 8000);
    /* jitter takes off up to a quarter */
    assert_int_equal(tt_llm_backoff_ms(&c, 1, 0.5), 437);
    assert_true(tt_llm_backoff_ms(&c, 3, 0.999) >= 6000);
    c.waiting_time_s = 1;
    c.backoff_factor = 2;
    assert_int_equal(tt_llm_backoff_ms(&c, 1, 0), 1000);
    assert_int_equal(tt_llm_backoff_ms(&c, 3, 0), 4000);
}

static void
test_provider_quirks_are_data(void **state)
{
    const tt_llm_provider_t *openai = tt_llm_provider_find("openai", "https://api.openai.com/v1");
    const tt_llm_provider_t *compat = tt_llm_provider_find("openai", "http://localhost:8080/v1");
    const tt_llm_provider_t *azure = tt_llm_provider_find("azure", NULL);
    assert_string_equal(openai->name, "openai");
    assert_string_equal(openai->token_cap_field, "max_completion_tokens");
    assert_string_equal(compat->name, "compat");
    assert_string_equal(compat->token_cap_field, "max_tokens");
    assert_string_equal(tt_llm_provider_find("ollama", NULL)->token_cap_field, "max_tokens");
    assert_int_equal(azure->auth, TT_LLM_AUTH_API_KEY);
    assert_true(tt_llm_provider_takes_schema(azure, "2024-10-21"));
    assert_true(tt_llm_provider_takes_schema(azure, "2024-08-01-preview"));
    assert_false(tt_llm_provider_takes_schema(azure, "2024-02-15-preview"));
    assert_null(tt_llm_provider_find("bard", NULL));
    assert_true(tt_llm_model_is_reasoning("o3-mini"));
    assert_true(tt_llm_model_is_reasoning("gpt-5-mini"));
    assert_false(tt_llm_model_is_reasoning("gpt-4o"));
    assert_true(tt_llm_model_takes_effort("o1"));
    assert_false(tt_llm_model_takes_effort("gpt-5"));
}

static void
test_public_url_hides_credentials(void **state)
{
    char *u = tt_llm_http_url_public("https://me:pw@example.com:8443/openai/x?api-version=1&k=2");
    assert_string_equal(u, "https://example.com:8443/openai/x");
    free(u);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conforming_values_pass),
        cmocka_unit_test(test_violations_are_named_by_path),
        cmocka_unit_test(test_backoff_follows_the_formula),
        cmocka_unit_test(test_provider_quirks_are_data),
        cmocka_unit_test(test_public_url_hides_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
