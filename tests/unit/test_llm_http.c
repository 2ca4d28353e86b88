/*  test_llm_http -- the client against fakellm without faults: the wire format
 *  per provider, structured output repaired, re-asks explained, embeddings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fakellm.h"
#include "tt_json.h"
#include "tt_llm.h"
#include "tt_mem.h"
#include "tt_offline.h"

typedef struct {
    fakellm_t *fake;
    tt_config_t cfg;
    tt_llm_t *llm;
} s_env_t;

static int
s_setup(void **state)
{
    s_env_t *env = tt_new(s_env_t);
    fakellm_opts_t opts = {.api_key = "sk-test-http-0001", .keep_last_request = true};
    env->fake = fakellm_start(&opts);
    assert_non_null(env->fake);
    tt_config_init(&env->cfg);
    fakellm_config_client(env->fake, &env->cfg);
    *state = env;
    return 0;
}

static int
s_teardown(void **state)
{
    s_env_t *env = *state;
    tt_llm_destroy(&env->llm);
    tt_config_fini(&env->cfg);
    fakellm_stop(&env->fake);
    free(env);
    return 0;
}

static tt_llm_t *
s_client(s_env_t *env)
{
    assert_int_equal(tt_llm_new(&env->cfg, &env->llm), TT_OK);
    return env->llm;
}

static json_t *
s_schema(void)
{
    json_t *s = json_loads("{\"type\":\"object\",\"additionalProperties\":false,"
                           "\"required\":[\"actions\",\"cognitive_state\"],\"properties\":{"
                           "\"actions\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
                           "\"cognitive_state\":{\"type\":\"object\"}}}",
                           0, NULL);
    assert_non_null(s);
    return s;
}

static json_t *
s_messages(const char *text)
{
    return json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", "You are Oscar.",
                     "role", "user", "content", text);
}

/* Make one structured turn call; returns the result (caller destroys). */
static tt_llm_result_t *
s_turn(tt_llm_t *llm, const char *text, tt_err_t want)
{
    json_t *msgs = s_messages(text), *schema = s_schema();
    tt_llm_request_t *req = tt_llm_request_chat("turn", msgs, "agent_turn", schema);
    tt_llm_result_t *r = NULL;
    tt_err_t err = tt_llm_call(llm, &req, &r);
    if (err != want)
        fail_msg("got %s (%s), wanted %s", tt_strerror(err), r->error_text ? r->error_text : "",
                 tt_strerror(want));
    json_decref(msgs);
    json_decref(schema);
    return r;
}

/* The offline model's answer to text (what fakellm says). */
static char *
s_expected(const char *text)
{
    json_t *msgs = s_messages(text);
    char *c = tt_offline_chat(msgs, "agent_turn", 0, NULL);
    json_decref(msgs);
    return c;
}

/* The last request fakellm saw, parsed. */
static json_t *
s_last(s_env_t *env)
{
    char *text = fakellm_take_last_request(env->fake);
    assert_non_null(text);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(j);
    return j;
}

static void
test_structured_chat_over_http(void **state)
{
    s_env_t *env = *state;
    tt_llm_t *llm = s_client(env);
    tt_llm_result_t *r = s_turn(llm, "Good morning", TT_OK);
    char *want = s_expected("Good morning");
    assert_string_equal(r->content, want);
    assert_true(json_is_object(r->parsed));
    assert_int_equal(r->attempts, 1);
    assert_true(r->prompt_tokens > 0 && r->completion_tokens > 0);
    json_t *last = s_last(env);
    json_t *body = json_object_get(last, "body");
    assert_string_equal(tt_json_str(last, "path", ""), "/v1/chat/completions");
    assert_string_equal(tt_json_str(last, "auth", ""), "bearer");
    assert_string_equal(tt_json_str(body, "model", ""), "test-model");
    json_t *rf = json_object_get(body, "response_format");
    assert_string_equal(tt_json_str(rf, "type", ""), "json_schema");
    json_t *js = json_object_get(rf, "json_schema");
    assert_string_equal(tt_json_str(js, "name", ""), "agent_turn");
    assert_true(json_is_true(json_object_get(js, "strict")));
    assert_non_null(json_object_get(body, "max_tokens")); /* compat servers read this one */
    json_decref(last);
    free(want);
    tt_llm_result_destroy(&r);
}

static void
test_fenced_and_chatty_answers_are_repaired(void **state)
{
    s_env_t *env = *state;
    tt_llm_t *llm = s_client(env);
    fakellm_script_t script[] = {{.kind = FAKELLM_SCRIPT_FENCED}, {.kind = FAKELLM_SCRIPT_PROSE}};
    fakellm_script(env->fake, script, 2);
    char *want = s_expected("hi");
    tt_llm_result_t *r = s_turn(llm, "hi", TT_OK);
    assert_int_equal(r->attempts, 1);                      /* repaired, not re-asked */
    assert_true(strncmp(r->content, "```json\n", 8) == 0); /* content is what was accepted */
    json_t *clean = json_loads(want, 0, NULL);
    assert_true(json_equal(r->parsed, clean));
    tt_llm_result_destroy(&r);
    r = s_turn(llm, "hi", TT_OK);
    assert_int_equal(r->attempts, 1);
    assert_true(strncmp(r->content, "Sure!", 5) == 0);
    assert_true(json_equal(r->parsed, clean));
    tt_llm_result_destroy(&r);
    json_decref(clean);
    free(want);
}

static void
test_invalid_answer_is_reasked_with_the_reason(void **state)
{
    s_env_t *env = *state;
    tt_llm_t *llm = s_client(env);
    fakellm_script_t script[] = {{.kind = FAKELLM_SCRIPT_CONTENT,
                                  .content = "{\"actions\": \"none\", \"cognitive_state\": {}}"}};
    fakellm_script(env->fake, script, 1);
    tt_llm_result_t *r = s_turn(llm, "hello", TT_OK);
    char *want = s_expected("hello");
    assert_string_equal(r->content, want); /* the accepted answer, not the bad one */
    assert_int_equal(r->attempts, 2);
    /* The second request carried the bad answer and the explanation. */
    json_t *last = s_last(env);
    json_t *msgs = json_object_get(json_object_get(last, "body"), "messages");
    size_t n = json_array_size(msgs);
    assert_int_equal(n, 4);
    json_t *bad = json_array_get(msgs, 2), *ask = json_array_get(msgs, 3);
    assert_string_equal(tt_json_str(bad, "role", ""), "assistant");
    assert_string_equal(tt_json_str(bad, "content", ""),
                        "{\"actions\": \"none\", \"cognitive_state\": {}}");
    assert_string_equal(tt_json_str(ask, "role", ""), "user");
    const char *why = tt_json_str(ask, "content", "");
    assert_true(strncmp(why, TT_LLM_REASK_PREFIX, strlen(TT_LLM_REASK_PREFIX)) == 0);
    if (!strstr(why, "$.actions: expected array, got string"))
        fail_msg("re-ask says: %s", why);
    /* the digest is the original request's, so runs compare equal */
    tt_llm_result_t *clean = s_turn(llm, "hello", TT_OK);
    assert_memory_equal(clean->digest, r->digest, TT_SHA256_LEN);
    assert_int_equal(clean->attempts, 1);
    tt_llm_result_destroy(&clean);
    json_decref(last);
    free(want);
    tt_llm_result_destroy(&r);
}

static void
test_reasks_are_bounded(void **state)
{
    s_env_t *env = *state;
    tt_llm_t *llm = s_client(env);
    fakellm_script_t bad = {.kind = FAKELLM_SCRIPT_CONTENT, .content = "I cannot do that."};
    fakellm_script_t script[] = {bad, bad, bad, bad};
    fakellm_script(env->fake, script, 4);
    tt_llm_result_t *r = s_turn(llm, "hello", TT_ELLM);
    assert_int_equal(r->attempts, 3); /* one ask, ACTION MAX_ATTEMPTS = 2 re-asks */
    assert_non_null(strstr(r->error_text, "contains no JSON"));
    fakellm_stats_t st;
    fakellm_stats(env->fake, &st);
    assert_int_equal(st.requests, 3);
    tt_llm_result_destroy(&r);
}

static void
test_embeddings_over_http(void **state)
{
    s_env_t *env = *state;
    tt_llm_t *llm = s_client(env);
    json_t *texts = json_pack("[s, s, s]", "tea", "a long walk", "tea");
    tt_llm_request_t *req = tt_llm_request_embed("embed", texts);
    tt_llm_result_t *r = NULL;
    assert_int_equal(tt_llm_call(llm, &req, &r), TT_OK);
    assert_int_equal(r->n_vectors, 3);
    assert_int_equal(r->dim, TT_OFFLINE_EMBED_DIM);
    float want[TT_OFFLINE_EMBED_DIM];
    tt_offline_embed("a long walk", want);
    for (int i = 0; i < TT_OFFLINE_EMBED_DIM; i++) /* base64 float32: exact */
        assert_true(r->vectors[TT_OFFLINE_EMBED_DIM + i] == want[i]);
    json_t *last = s_last(env);
    assert_string_equal(tt_json_str(last, "path", ""), "/v1/embeddings");
    assert_string_equal(tt_json_str(json_object_get(last, "body"), "model", ""), "test-embedding");
    assert_string_equal(tt_json_str(json_object_get(last, "body"), "encoding_format", ""),
                        "base64");
    json_decref(last);
    /* the content replays to the same vectors */
    req = tt_llm_request_embed("embed", texts);
    tt_llm_result_t *again = tt_llm_result_replay(llm, &req, r->content);
    assert_memory_equal(again->vectors, r->vectors, 3 * sizeof want);
    tt_llm_result_destroy(&again);
    tt_llm_result_destroy(&r);
    json_decref(texts);
}

static void
test_azure_url_header_and_schema(void **state)
{
    s_env_t *env = *state;
    snprintf(env->cfg.provider, sizeof env->cfg.provider, "azure");
    char *endpoint = tt_asprintf("http://127.0.0.1:%u/", fakellm_port(env->fake));
    tt_config_set(&env->cfg.azure_endpoint, endpoint);
    tt_config_set(&env->cfg.azure_api_version, "2024-10-21");
    tt_config_set(&env->cfg.model, "my-gpt4o");
    tt_llm_t *llm = s_client(env);
    tt_llm_result_t *r = s_turn(llm, "hello", TT_OK);
    json_t *last = s_last(env);
    assert_string_equal(tt_json_str(last, "path", ""),
                        "/openai/deployments/my-gpt4o/chat/completions");
    assert_string_equal(tt_json_str(last, "api_version", ""), "2024-10-21");
    assert_string_equal(tt_json_str(last, "auth", ""), "api-key");
    json_t *body = json_object_get(last, "body");
    assert_string_equal(tt_json_str(json_object_get(body, "response_format"), "type", ""),
                        "json_schema");
    assert_non_null(json_object_get(body, "max_completion_tokens"));
    assert_null(json_object_get(body, "max_tokens"));
    json_decref(last);
    tt_llm_result_destroy(&r);
    free(endpoint);
}

static void
test_old_azure_gets_json_object_mode_and_same_answer(void **state)
{
    s_env_t *env = *state;
    snprintf(env->cfg.provider, sizeof env->cfg.provider, "azure");
    char *endpoint = tt_asprintf("http://127.0.0.1:%u", fakellm_port(env->fake));
    tt_config_set(&env->cfg.azure_endpoint, endpoint);
    tt_config_set(&env->cfg.azure_api_version, "2024-02-01");
    tt_llm_t *llm = s_client(env);
    tt_llm_result_t *r = s_turn(llm, "hello", TT_OK);
    char *want = s_expected("hello");
    assert_string_equal(r->content, want);
    json_t *last = s_last(env);
    json_t *body = json_object_get(last, "body");
    assert_string_equal(tt_json_str(json_object_get(body, "response_format"), "type", ""),
                        "json_object");
    json_t *sys = json_array_get(json_object_get(body, "messages"), 1);
    assert_string_equal(tt_json_str(sys, "role", ""), "system");
    const char *line = tt_json_str(sys, "content", "");
    assert_true(strncmp(line, TT_LLM_JSON_MODE_PREFIX, strlen(TT_LLM_JSON_MODE_PREFIX)) == 0);
    assert_non_null(strstr(line, "\"agent_turn\": {"));
    json_decref(last);
    free(want);
    free(endpoint);
    tt_llm_result_destroy(&r);
}

static void
test_reasoning_models_get_no_sampling_knobs(void **state)
{
    s_env_t *env = *state;
    env->cfg.temperature = 0.7;
    env->cfg.top_p = 0.9;
    tt_config_set(&env->cfg.model, "o3-mini");
    tt_llm_t *llm = s_client(env);
    tt_llm_result_t *r = s_turn(llm, "hello", TT_OK);
    json_t *last = s_last(env);
    json_t *body = json_object_get(last, "body");
    assert_null(json_object_get(body, "temperature"));
    assert_null(json_object_get(body, "top_p"));
    assert_string_equal(tt_json_str(body, "reasoning_effort", ""), "high");
    json_decref(last);
    tt_llm_result_destroy(&r);
    tt_llm_destroy(&env->llm);

    tt_config_set(&env->cfg.model, "gpt-4o");
    llm = s_client(env);
    r = s_turn(llm, "hello", TT_OK);
    last = s_last(env);
    body = json_object_get(last, "body");
    assert_true(json_real_value(json_object_get(body, "temperature")) == 0.7);
    assert_true(json_real_value(json_object_get(body, "top_p")) == 0.9);
    assert_null(json_object_get(body, "reasoning_effort"));
    json_decref(last);
    tt_llm_result_destroy(&r);
}

static void
test_ollama_sends_max_tokens_without_strict(void **state)
{
    s_env_t *env = *state;
    snprintf(env->cfg.provider, sizeof env->cfg.provider, "ollama");
    tt_llm_t *llm = s_client(env);
    tt_llm_result_t *r = s_turn(llm, "hello", TT_OK);
    json_t *last = s_last(env);
    json_t *body = json_object_get(last, "body");
    assert_non_null(json_object_get(body, "max_tokens"));
    json_t *js = json_object_get(json_object_get(body, "response_format"), "json_schema");
    assert_non_null(json_object_get(js, "schema"));
    assert_null(json_object_get(js, "strict"));
    json_decref(last);
    tt_llm_result_destroy(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_structured_chat_over_http, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_fenced_and_chatty_answers_are_repaired, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_answer_is_reasked_with_the_reason, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_reasks_are_bounded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_embeddings_over_http, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_azure_url_header_and_schema, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_old_azure_gets_json_object_mode_and_same_answer,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reasoning_models_get_no_sampling_knobs, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_ollama_sends_max_tokens_without_strict, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
