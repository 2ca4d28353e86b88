/*  test_llm_cache -- the API cache: a hit makes no request, survives a restart,
 *  stays bounded, and never stores the key.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fakellm.h"
#include "tt_llm.h"
#include "tt_llm_cache.h"
#include "tt_mem.h"
#include "tt_test.h"

#define S_CANARY "sk-CANARY-cache-77e1b2"

typedef struct {
    fakellm_t *fake;
    tt_config_t cfg;
    char *dir;
} s_env_t;

static int
s_setup(void **state)
{
    s_env_t *env = tt_new(s_env_t);
    fakellm_opts_t opts = {.api_key = S_CANARY};
    env->fake = fakellm_start(&opts);
    assert_non_null(env->fake);
    tt_config_init(&env->cfg);
    fakellm_config_client(env->fake, &env->cfg);
    env->dir = tt_test_tmpdir("llm-cache");
    char *file = tt_asprintf("%s/api_cache.lmdb", env->dir);
    tt_config_set(&env->cfg.cache_file_name, file);
    free(file);
    env->cfg.cache_api_calls = true;
    *state = env;
    return 0;
}

static int
s_teardown(void **state)
{
    s_env_t *env = *state;
    tt_config_fini(&env->cfg);
    fakellm_stop(&env->fake);
    tt_test_rmtree(env->dir);
    free(env->dir);
    free(env);
    return 0;
}

static uint64_t
s_requests(s_env_t *env)
{
    fakellm_stats_t st;
    fakellm_stats(env->fake, &st);
    return st.requests;
}

static tt_llm_result_t *
s_chat(tt_llm_t *llm, const char *text)
{
    json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", text);
    tt_llm_request_t *req = tt_llm_request_chat("turn", msgs, "agent_turn", NULL);
    tt_llm_request_set_seed(req, 42);
    tt_llm_result_t *r = NULL;
    assert_int_equal(tt_llm_call(llm, &req, &r), TT_OK);
    json_decref(msgs);
    return r;
}

static void
test_second_identical_call_is_served_from_cache(void **state)
{
    s_env_t *env = *state;
    tt_llm_t *llm = NULL;
    assert_int_equal(tt_llm_new(&env->cfg, &llm), TT_OK);
    tt_llm_result_t *first = s_chat(llm, "Where shall we meet?");
    assert_false(first->cached);
    assert_int_equal(s_requests(env), 1);
    tt_llm_result_t *second = s_chat(llm, "Where shall we meet?");
    assert_true(second->cached);
    assert_int_equal(second->attempts, 0);
    assert_int_equal(s_requests(env), 1); /* no request at all */
    assert_string_equal(second->content, first->content);
    assert_memory_equal(second->digest, first->digest, TT_SHA256_LEN);
    assert_true(json_equal(second->parsed, first->parsed));
    assert_int_equal(second->prompt_tokens, first->prompt_tokens); /* what it cost once */
    tt_llm_stats_t st;
    tt_llm_stats(llm, &st);
    assert_int_equal(st.cache_hits, 1);
    assert_int_equal(st.cache_misses, 1);
    assert_int_equal(st.http_attempts, 1);
    assert_int_equal(st.prompt_tokens, first->prompt_tokens); /* spent once */
    tt_llm_result_t *other = s_chat(llm, "Something else");
    assert_false(other->cached);
    assert_int_equal(s_requests(env), 2);
    tt_llm_result_destroy(&first);
    tt_llm_result_destroy(&second);
    tt_llm_result_destroy(&other);
    tt_llm_destroy(&llm);
}

static void
test_cache_survives_a_restart_and_holds_no_key(void **state)
{
    s_env_t *env = *state;
    tt_llm_t *llm = NULL;
    assert_int_equal(tt_llm_new(&env->cfg, &llm), TT_OK);
    tt_llm_result_t *r = s_chat(llm, "Remember me");
    json_t *texts = json_pack("[s]", "remember me too");
    tt_llm_request_t *req = tt_llm_request_embed("embed", texts);
    tt_llm_result_t *e = NULL;
    assert_int_equal(tt_llm_call(llm, &req, &e), TT_OK);
    tt_llm_destroy(&llm);
    assert_int_equal(s_requests(env), 2);

    assert_int_equal(tt_llm_new(&env->cfg, &llm), TT_OK);
    tt_llm_result_t *again = s_chat(llm, "Remember me");
    assert_true(again->cached);
    assert_string_equal(again->content, r->content);
    req = tt_llm_request_embed("embed", texts);
    tt_llm_result_t *e2 = NULL;
    assert_int_equal(tt_llm_call(llm, &req, &e2), TT_OK);
    assert_true(e2->cached);
    assert_int_equal(e2->n_vectors, 1);
    assert_memory_equal(e2->vectors, e->vectors, e->dim * sizeof(float));
    assert_int_equal(s_requests(env), 2);
    tt_llm_destroy(&llm);

    size_t len = 0;
    char *bytes = tt_test_read_file(env->cfg.cache_file_name, &len);
    assert_non_null(bytes);
    assert_non_null(memmem(bytes, len, r->content, strlen(r->content)));
    assert_null(memmem(bytes, len, S_CANARY, strlen(S_CANARY)));
    free(bytes);
    json_decref(texts);
    tt_llm_result_destroy(&r);
    tt_llm_result_destroy(&again);
    tt_llm_result_destroy(&e);
    tt_llm_result_destroy(&e2);
}

static void
test_cache_is_bounded_and_evicts_the_oldest(void **state)
{
    s_env_t *env = *state;
    tt_llm_cache_t *cache = NULL;
    assert_int_equal(tt_llm_cache_open(env->cfg.cache_file_name, 10, &cache), TT_OK);
    uint8_t keys[25][TT_SHA256_LEN];
    for (int i = 0; i < 25; i++) {
        char text[32];
        snprintf(text, sizeof text, "answer %d", i);
        tt_sha256(text, strlen(text), keys[i]);
        assert_int_equal(tt_llm_cache_put(cache, keys[i], text, (uint32_t)i, 1), TT_OK);
        assert_true(tt_llm_cache_count(cache) <= 10);
    }
    char *content = NULL;
    uint32_t pt = 0, ct = 0;
    assert_int_equal(tt_llm_cache_get(cache, keys[0], &content, &pt, &ct), TT_ENOTFOUND);
    assert_int_equal(tt_llm_cache_get(cache, keys[24], &content, &pt, &ct), TT_OK);
    assert_string_equal(content, "answer 24");
    assert_int_equal(pt, 24);
    assert_int_equal(ct, 1);
    free(content);
    tt_llm_cache_close(&cache);
    assert_null(cache);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_second_identical_call_is_served_from_cache, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_cache_survives_a_restart_and_holds_no_key, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_cache_is_bounded_and_evicts_the_oldest, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
