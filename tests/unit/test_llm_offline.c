/*  test_llm_offline -- the client with the in-process provider: answers,
 *  embeddings, digests, the asynchronous pipe, replay. No network at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tt_json.h"
#include "tt_llm.h"
#include "tt_mem.h"
#include "tt_offline.h"

/* A strict-mode schema for the turn shape. */
static json_t *
s_turn_schema(void)
{
    json_t *s = json_loads(
        "{\"type\":\"object\",\"additionalProperties\":false,"
        "\"required\":[\"actions\",\"cognitive_state\"],\"properties\":{"
        "\"actions\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
        "\"additionalProperties\":false,\"required\":[\"type\",\"content\",\"target\"],"
        "\"properties\":{\"type\":{\"type\":\"string\"},\"content\":{\"type\":\"string\"},"
        "\"target\":{\"type\":\"string\"}}}},"
        "\"cognitive_state\":{\"type\":\"object\"}}}",
        0, NULL);
    assert_non_null(s);
    return s;
}

static json_t *
s_messages(const char *text)
{
    return json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", "You are Lisa.",
                     "role", "user", "content", text);
}

static tt_llm_t *
s_offline(void)
{
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_resolve(&cfg, "offline", &err), TT_OK);
    tt_llm_t *llm = NULL;
    assert_int_equal(tt_llm_new(&cfg, &llm), TT_OK);
    tt_config_fini(&cfg);
    return llm;
}

static void
test_offline_chat_is_structured_and_counted(void **state)
{
    tt_llm_t *llm = s_offline();
    assert_true(tt_llm_is_offline(llm));
    assert_string_equal(tt_llm_model(llm), TT_OFFLINE_MODEL);
    json_t *msgs = s_messages("Hello Lisa, what do you think?"), *schema = s_turn_schema();
    tt_llm_request_t *req = tt_llm_request_chat("turn", msgs, "agent_turn", schema);
    tt_llm_result_t *r = NULL;
    assert_int_equal(tt_llm_call(llm, &req, &r), TT_OK);
    assert_null(req);
    char *expected = tt_offline_chat(msgs, "agent_turn", 0, NULL);
    assert_string_equal(r->content, expected);
    assert_true(json_is_object(r->parsed));
    assert_non_null(json_object_get(r->parsed, "actions"));
    assert_int_equal(r->attempts, 1);
    assert_int_equal(r->prompt_tokens, tt_tokens_messages(msgs));
    assert_int_equal(r->completion_tokens, tt_tokens_estimate(expected));
    assert_string_equal(r->purpose, "turn");
    assert_false(r->cached);
    tt_llm_stats_t st;
    tt_llm_stats(llm, &st);
    assert_int_equal(st.calls, 1);
    assert_int_equal(st.http_attempts, 0);
    assert_int_equal(st.prompt_tokens, r->prompt_tokens);
    free(expected);
    tt_llm_result_destroy(&r);
    assert_null(r);
    json_decref(msgs);
    json_decref(schema);
    tt_llm_destroy(&llm);
    assert_null(llm);
}

static void
test_local_embeddings_round_trip_through_replay(void **state)
{
    tt_llm_t *llm = s_offline();
    json_t *texts = json_pack("[s, s]", "coffee with friends", "a walk in the park");
    tt_llm_request_t *req = tt_llm_request_embed("embed", texts);
    tt_llm_result_t *r = NULL;
    assert_int_equal(tt_llm_call(llm, &req, &r), TT_OK);
    assert_int_equal(r->n_vectors, 2);
    assert_int_equal(r->dim, TT_OFFLINE_EMBED_DIM);
    float want[TT_OFFLINE_EMBED_DIM];
    tt_offline_embed("a walk in the park", want);
    assert_memory_equal(r->vectors + TT_OFFLINE_EMBED_DIM, want, sizeof want);

    req = tt_llm_request_embed("embed", texts);
    tt_llm_result_t *again = tt_llm_result_replay(llm, &req, r->content);
    assert_int_equal(again->err, TT_OK);
    assert_true(again->replayed);
    assert_int_equal(again->attempts, 0);
    assert_int_equal(again->n_vectors, 2);
    assert_memory_equal(again->vectors, r->vectors, 2 * sizeof want);
    assert_memory_equal(again->digest, r->digest, TT_SHA256_LEN);
    tt_llm_result_destroy(&again);
    tt_llm_result_destroy(&r);
    json_decref(texts);
    tt_llm_destroy(&llm);
}

static void
test_digest_ignores_key_order(void **state)
{
    tt_llm_t *llm = s_offline();
    json_t *a = json_loads("[{\"role\":\"user\",\"content\":\"hi\"}]", 0, NULL);
    json_t *b = json_loads("[{\"content\":\"hi\",\"role\":\"user\"}]", 0, NULL);
    json_t *c = json_loads("[{\"content\":\"hi!\",\"role\":\"user\"}]", 0, NULL);
    tt_llm_request_t *ra = tt_llm_request_chat("x", a, NULL, NULL);
    tt_llm_request_t *rb = tt_llm_request_chat("y", b, NULL, NULL);
    tt_llm_request_t *rc = tt_llm_request_chat("x", c, NULL, NULL);
    uint8_t da[TT_SHA256_LEN], db[TT_SHA256_LEN], dc[TT_SHA256_LEN];
    tt_llm_request_digest(llm, ra, da);
    tt_llm_request_digest(llm, rb, db);
    tt_llm_request_digest(llm, rc, dc);
    assert_memory_equal(da, db, TT_SHA256_LEN);
    assert_memory_not_equal(da, dc, TT_SHA256_LEN);
    /* the seed is part of the logical request */
    tt_llm_request_set_seed(rb, 7);
    tt_llm_request_digest(llm, rb, db);
    assert_memory_not_equal(da, db, TT_SHA256_LEN);
    tt_llm_request_destroy(&ra);
    tt_llm_request_destroy(&rb);
    tt_llm_request_destroy(&rc);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    tt_llm_destroy(&llm);
}

/* A client of the given provider for a model; no call is made. */
static tt_llm_t *
s_client(const char *provider, const char *key)
{
    tt_config_t cfg;
    tt_config_init(&cfg);
    snprintf(cfg.provider, sizeof cfg.provider, "%s", provider);
    tt_config_set(&cfg.model, "gpt-4o-mini");
    tt_config_set(&cfg.base_url, "http://127.0.0.1:9/v1");
    tt_config_set(&cfg.azure_endpoint, "http://127.0.0.1:9");
    tt_config_set(&cfg.api_key, key);
    tt_llm_t *llm = NULL;
    assert_int_equal(tt_llm_new(&cfg, &llm), TT_OK);
    tt_config_fini(&cfg);
    return llm;
}

static void
test_digest_ignores_provider_and_key(void **state)
{
    const char *key = "sk-CANARY-digest-1234";
    tt_llm_t *openai = s_client("openai", key), *azure = s_client("azure", "other-key-5678");
    tt_llm_t *ollama = s_client("ollama", NULL);
    json_t *msgs = s_messages("hello"), *schema = s_turn_schema();
    tt_llm_request_t *req = tt_llm_request_chat("turn", msgs, "agent_turn", schema);
    uint8_t d1[TT_SHA256_LEN], d2[TT_SHA256_LEN], d3[TT_SHA256_LEN];
    tt_llm_request_digest(openai, req, d1);
    tt_llm_request_digest(azure, req, d2);
    tt_llm_request_digest(ollama, req, d3);
    assert_memory_equal(d1, d2, TT_SHA256_LEN);
    assert_memory_equal(d1, d3, TT_SHA256_LEN);
    char *canon = tt_llm_request_canonical(openai, req);
    assert_null(strstr(canon, key));
    assert_null(strstr(canon, "127.0.0.1"));
    assert_non_null(strstr(canon, "\"model\":\"gpt-4o-mini\""));
    assert_non_null(strstr(canon, "\"kind\":\"chat\""));
    free(canon);
    tt_llm_request_destroy(&req);
    json_decref(msgs);
    json_decref(schema);
    tt_llm_destroy(&openai);
    tt_llm_destroy(&azure);
    tt_llm_destroy(&ollama);
}

static tt_err_t
s_reject_all(const char *content, const void *arg, json_t **parsed, char **why)
{
    (*(int *)arg)++; /* test-only: counts calls; the worker is the only caller meanwhile */
    *why = tt_strdup("the goals field must mention coffee");
    return TT_ELLM;
}

static void
test_unusable_offline_answer_is_reasked_then_fails(void **state)
{
    tt_llm_t *llm = s_offline();
    json_t *msgs = s_messages("hello");
    int calls = 0;
    tt_llm_request_t *req = tt_llm_request_chat("turn", msgs, "agent_turn", NULL);
    tt_llm_request_set_validator(req, s_reject_all, &calls);
    tt_llm_result_t *r = NULL;
    assert_int_equal(tt_llm_call(llm, &req, &r), TT_ELLM);
    assert_int_equal(r->attempts, 3); /* the ask and action_max_attempts (2) re-asks */
    assert_int_equal(calls, 3);
    assert_non_null(strstr(r->error_text, "must mention coffee"));
    assert_null(r->content);
    tt_llm_result_destroy(&r);
    json_decref(msgs);
    tt_llm_destroy(&llm);
}

static tt_err_t
s_wrap(const char *content, const void *arg, json_t **parsed, char **why)
{
    *parsed = json_pack("{s:s}", "seen", content);
    return TT_OK;
}

static void
test_replay_repairs_and_validates_recorded_content(void **state)
{
    tt_llm_t *llm = s_offline();
    json_t *msgs = s_messages("hello");
    tt_llm_request_t *req = tt_llm_request_chat("turn", msgs, "agent_turn", NULL);
    tt_llm_request_set_validator(req, s_wrap, NULL);
    tt_llm_result_t *r = tt_llm_result_replay(llm, &req, "```json\n{\"a\": [1,],}\n```");
    assert_int_equal(r->err, TT_OK);
    assert_string_equal(r->content, "```json\n{\"a\": [1,],}\n```");        /* as recorded */
    assert_string_equal(tt_json_str(r->parsed, "seen", ""), "{\"a\":[1]}"); /* repaired */
    tt_llm_result_destroy(&r);

    req = tt_llm_request_chat("turn", msgs, "agent_turn", NULL);
    r = tt_llm_result_replay(llm, &req, "{\"a\": ");
    assert_int_equal(r->err, TT_ELLM);
    assert_non_null(strstr(r->error_text, "cut off"));
    tt_llm_result_destroy(&r);
    json_decref(msgs);
    tt_llm_destroy(&llm);
}

static void
test_async_results_arrive_on_the_pipe_with_their_tags(void **state)
{
    tt_llm_t *llm = s_offline();
    enum { N = 6 };
    int tags[N];
    for (int i = 0; i < N; i++) {
        char text[32];
        snprintf(text, sizeof text, "message %d", i);
        json_t *msgs = s_messages(text);
        tt_llm_request_t *req = tt_llm_request_chat("turn", msgs, "agent_turn", NULL);
        json_decref(msgs); /* the request holds its own reference */
        tt_llm_submit(llm, &req, &tags[i]);
        assert_null(req);
    }
    /* A synchronous call in between leaves the asynchronous results alone. */
    json_t *msgs = s_messages("sync");
    tt_llm_request_t *req = tt_llm_request_chat("sync", msgs, NULL, NULL);
    tt_llm_result_t *r = NULL;
    assert_int_equal(tt_llm_call(llm, &req, &r), TT_OK);
    assert_string_equal(r->purpose, "sync");
    tt_llm_result_destroy(&r);
    json_decref(msgs);

    zpoller_t *poller = zpoller_new(tt_llm_pipe(llm), NULL);
    bool seen[N] = {false};
    for (int got = 0; got < N; got++) {
        assert_ptr_equal(zpoller_wait(poller, 5000), tt_llm_pipe(llm));
        void *tag = NULL;
        r = tt_llm_recv(llm, &tag);
        assert_non_null(r);
        assert_int_equal(r->err, TT_OK);
        int i = (int)((int *)tag - tags);
        assert_true(i >= 0 && i < N && !seen[i]);
        seen[i] = true;
        tt_llm_result_destroy(&r);
    }
    assert_null(zpoller_wait(poller, 50)); /* nothing more */
    zpoller_destroy(&poller);
    tt_llm_stats_t st;
    tt_llm_stats(llm, &st);
    assert_int_equal(st.calls, N + 1);
    tt_llm_destroy(&llm);
}

static void
test_destroy_with_calls_outstanding_loses_nothing(void **state)
{
    tt_llm_t *llm = s_offline();
    json_t *msgs = s_messages("hello");
    for (int i = 0; i < 20; i++) {
        tt_llm_request_t *req = tt_llm_request_chat("turn", msgs, "agent_turn", NULL);
        tt_llm_submit(llm, &req, NULL);
    }
    json_decref(msgs);
    tt_llm_destroy(&llm); /* valgrind: every result and request is freed */
    assert_null(llm);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offline_chat_is_structured_and_counted),
        cmocka_unit_test(test_local_embeddings_round_trip_through_replay),
        cmocka_unit_test(test_digest_ignores_key_order),
        cmocka_unit_test(test_digest_ignores_provider_and_key),
        cmocka_unit_test(test_unusable_offline_answer_is_reasked_then_fails),
        cmocka_unit_test(test_replay_repairs_and_validates_recorded_content),
        cmocka_unit_test(test_async_results_arrive_on_the_pipe_with_their_tags),
        cmocka_unit_test(test_destroy_with_calls_outstanding_loses_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
