/*  test_llm_concurrency -- the per-process cap on calls in flight holds, the
 *  worker keeps many calls going at once when the cap allows, and embedding
 *  calls that wait together share a request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fakellm.h"
#include "tt_llm.h"
#include "tt_llm_impl.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_time.h"

/* Submit n chat calls at once, wait for all; returns the wall time in ms. */
static int64_t
s_burst(tt_llm_t *llm, int n)
{
    int64_t t0 = tt_now_ms();
    for (int i = 0; i < n; i++) {
        char text[64];
        snprintf(text, sizeof text, "burst message %d", i);
        json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", text);
        tt_llm_request_t *req = tt_llm_request_chat("burst", msgs, "agent_turn", NULL);
        json_decref(msgs);
        tt_llm_submit(llm, &req, NULL);
    }
    for (int i = 0; i < n; i++) {
        tt_llm_result_t *r = tt_llm_recv(llm, NULL);
        assert_non_null(r);
        assert_int_equal(r->err, TT_OK);
        tt_llm_result_destroy(&r);
    }
    return tt_now_ms() - t0;
}

static void
test_cap_is_never_exceeded(void **state)
{
    fakellm_opts_t opts = {.latency_ms = 100};
    fakellm_t *fake = fakellm_start(&opts);
    tt_config_t cfg;
    tt_config_init(&cfg);
    fakellm_config_client(fake, &cfg);
    cfg.max_concurrent_calls = 4;
    tt_llm_t *llm = NULL;
    assert_int_equal(tt_llm_new(&cfg, &llm), TT_OK);
    int64_t ms = s_burst(llm, 24);
    fakellm_stats_t fs;
    fakellm_stats(fake, &fs);
    tt_llm_stats_t st;
    tt_llm_stats(llm, &st);
    print_message("24 calls, cap 4, 100 ms each: %lld ms, server saw at most %u at once\n",
                  (long long)ms, fs.max_in_flight);
    assert_int_equal(fs.requests, 24);
    assert_int_equal(fs.max_in_flight, 4); /* reached, never passed */
    assert_int_equal(st.max_in_flight, 4);
    assert_true(ms >= 600); /* 24 / 4 rounds of 100 ms */
    tt_llm_destroy(&llm);
    tt_config_fini(&cfg);
    fakellm_stop(&fake);
}

static void
test_many_calls_run_in_parallel(void **state)
{
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload"))
        skip();       /* valgrind runs one thread at a time: a timing test means nothing */
    struct rlimit rl; /* client and server sockets live in this one process */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* long enough that all 200 are sent before the first answer, even under
     * ASan on a busy machine (at 300 ms only 119 were in flight at once) */
    fakellm_opts_t opts = {.latency_ms = 2000};
    fakellm_t *fake = fakellm_start(&opts);
    tt_config_t cfg;
    tt_config_init(&cfg);
    fakellm_config_client(fake, &cfg);
    cfg.max_concurrent_calls = 200;
    cfg.timeout_s = 60;
    tt_llm_t *llm = NULL;
    assert_int_equal(tt_llm_new(&cfg, &llm), TT_OK);
    int64_t ms = s_burst(llm, 200);
    fakellm_stats_t fs;
    fakellm_stats(fake, &fs);
    print_message("200 calls, cap 200, 2000 ms each: %lld ms, %u at once\n", (long long)ms,
                  fs.max_in_flight);
    assert_true(fs.max_in_flight > 150 && fs.max_in_flight <= 200);
    assert_true(ms < 40000); /* not 200 x 2000 ms one after another */
    tt_llm_destroy(&llm);
    tt_config_fini(&cfg);
    fakellm_stop(&fake);
}

/* No cap (the default): a server with room for 8 calls at once refuses the
 * rest with 429; the worker lowers its limit to the server's pace and every
 * call still completes. */
static void
test_rate_limits_set_the_pace(void **state)
{
    fakellm_opts_t opts = {.latency_ms = 100, .capacity = 8, .retry_after_ms = 50};
    fakellm_t *fake = fakellm_start(&opts);
    tt_config_t cfg;
    tt_config_init(&cfg);
    fakellm_config_client(fake, &cfg);
    cfg.max_concurrent_calls = 0; /* no limit */
    cfg.max_attempts = 50;
    cfg.timeout_s = 20;
    tt_llm_t *llm = NULL;
    assert_int_equal(tt_llm_new(&cfg, &llm), TT_OK);
    int64_t ms = s_burst(llm, 64);
    tt_llm_stats_t st;
    tt_llm_stats(llm, &st);
    print_message("64 calls, no cap, server room for 8: %lld ms, %llu rate-limited, limit %u\n",
                  (long long)ms, (unsigned long long)st.rate_limited, st.limit);
    assert_true(st.rate_limited > 0);
    assert_true(st.limit < 64); /* lowered from no limit */
    /* a refused call is retried: fewer refusals than one per call and attempt */
    assert_true(st.rate_limited < 64 * 10);
    tt_llm_destroy(&llm);
    tt_config_fini(&cfg);
    fakellm_stop(&fake);
}

/* With a cap of one call in flight: one chat call goes first, then n
 * embedding calls of two texts each queue behind it. */
#define S_EMBED_CALLS 20

typedef struct {
    fakellm_t *fake;
    tt_config_t cfg;
    tt_llm_t *llm;
} s_embed_env_t;

static void
s_embed_env_start(s_embed_env_t *e)
{
    fakellm_opts_t opts = {.latency_ms = 1000}; /* the calls queue behind the first */
    e->fake = fakellm_start(&opts);
    tt_config_init(&e->cfg);
    fakellm_config_client(e->fake, &e->cfg);
    e->cfg.max_concurrent_calls = 1;
    e->cfg.timeout_s = 30;
    assert_int_equal(tt_llm_new(&e->cfg, &e->llm), TT_OK);
}

static void
s_embed_env_stop(s_embed_env_t *e)
{
    tt_llm_destroy(&e->llm);
    tt_config_fini(&e->cfg);
    fakellm_stop(&e->fake);
}

/* Send the chat call, then the embedding calls (tag i + 1 each); check that
 * every embedding call gets the vectors of its own texts. Returns the prompt
 * tokens the calls' results count. */
static uint64_t
s_embed_burst(s_embed_env_t *e)
{
    uint64_t tokens = 0;
    json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", "first in line");
    tt_llm_request_t *req = tt_llm_request_chat("chat", msgs, NULL, NULL);
    json_decref(msgs);
    tt_llm_submit(e->llm, &req, NULL);
    for (uintptr_t i = 0; i < S_EMBED_CALLS; i++) {
        json_t *texts = json_pack("[s+, s+]", "memory ", i % 2 ? "odd" : "even",
                                  "another memory, number ", i % 3 ? "x" : "y");
        json_array_append_new(texts, json_sprintf("call %u", (unsigned)i));
        req = tt_llm_request_embed("embed", texts);
        json_decref(texts);
        tt_llm_submit(e->llm, &req, (void *)(i + 1));
    }
    for (int k = 0; k < S_EMBED_CALLS + 1; k++) {
        void *tag = NULL;
        tt_llm_result_t *r = tt_llm_recv(e->llm, &tag);
        assert_non_null(r);
        assert_int_equal(r->err, TT_OK);
        tokens += r->prompt_tokens;
        if (tag) {
            uintptr_t i = (uintptr_t)tag - 1;
            char want_texts[3][64];
            snprintf(want_texts[0], 64, "memory %s", i % 2 ? "odd" : "even");
            snprintf(want_texts[1], 64, "another memory, number %s", i % 3 ? "x" : "y");
            snprintf(want_texts[2], 64, "call %u", (unsigned)i);
            assert_int_equal(r->n_vectors, 3);
            assert_true(r->prompt_tokens > 0);
            for (int t = 0; t < 3; t++) {
                float want[TT_OFFLINE_EMBED_DIM];
                tt_offline_embed(want_texts[t], want);
                assert_int_equal(r->dim, TT_OFFLINE_EMBED_DIM);
                assert_memory_equal(r->vectors + (size_t)t * r->dim, want, sizeof want);
            }
            float *decoded = NULL;
            uint32_t dim = 0;
            assert_int_equal(tt_llm_vectors_decode(r->content, 3, &decoded, &dim), TT_OK);
            assert_memory_equal(decoded, r->vectors, 3 * sizeof(float) * dim);
            free(decoded);
        }
        tt_llm_result_destroy(&r);
    }
    return tokens;
}

/* Embedding calls that wait together go out as one request, and each gets
 * its own vectors. */
static void
test_queued_embeddings_share_a_request(void **state)
{
    (void)state;
    s_embed_env_t e;
    s_embed_env_start(&e);
    uint64_t tokens = s_embed_burst(&e);
    fakellm_stats_t fs;
    fakellm_stats(e.fake, &fs);
    assert_int_equal(tokens, fs.prompt_tokens); /* the batch's shared out, none lost */
    tt_llm_stats_t st;
    tt_llm_stats(e.llm, &st);
    print_message("%d embedding calls: %llu requests, %llu vectors\n", S_EMBED_CALLS,
                  (unsigned long long)fs.embeddings, (unsigned long long)fs.vectors);
    assert_int_equal(fs.vectors, 3 * S_EMBED_CALLS);
    assert_int_equal(fs.embeddings, 1); /* 20 x 3 texts: within one batch's 64 */
    assert_int_equal(st.calls, S_EMBED_CALLS + 1);
    assert_int_equal(st.http_attempts, 2);
    s_embed_env_stop(&e);
}

/* A server that refuses the batch (400: one text too long, say) gets the
 * calls again one at a time, and each has its own answer. */
static void
test_a_refused_batch_goes_again_call_by_call(void **state)
{
    (void)state;
    s_embed_env_t e;
    s_embed_env_start(&e);
    const fakellm_script_t script[] = {
        {.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_NONE}, /* the chat call */
        {.kind = FAKELLM_SCRIPT_STATUS, .status = 400, .code = "invalid_request_error"},
    };
    fakellm_script(e.fake, script, 2);
    s_embed_burst(&e);
    fakellm_stats_t fs;
    fakellm_stats(e.fake, &fs);
    assert_int_equal(fs.requests, 1 + 1 + S_EMBED_CALLS); /* chat, refused batch, calls */
    assert_int_equal(fs.embeddings, S_EMBED_CALLS);
    assert_int_equal(fs.vectors, 3 * S_EMBED_CALLS);
    s_embed_env_stop(&e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_is_never_exceeded),
        cmocka_unit_test(test_many_calls_run_in_parallel),
        cmocka_unit_test(test_rate_limits_set_the_pace),
        cmocka_unit_test(test_queued_embeddings_share_a_request),
        cmocka_unit_test(test_a_refused_batch_goes_again_call_by_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
