/*  test_llm_faults -- the design's promise: a run through fakellm's seeded
 *  fault mix records exactly the content and digests of a clean run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fakellm.h"
#include "tt_llm.h"
#include "tt_mem.h"

#define S_CHATS  30
#define S_EMBEDS 3
#define S_CALLS  (S_CHATS + S_EMBEDS)

typedef struct {
    char *content[S_CALLS];
    uint8_t digest[S_CALLS][TT_SHA256_LEN];
    uint32_t attempts;
} s_run_t;

static tt_llm_request_t *
s_request(int i)
{
    char text[96];
    tt_llm_request_t *req;
    if (i < S_CHATS) {
        snprintf(text, sizeof text, "Agent %d hears: the coffee shop opens at %d.", i, 7 + i % 5);
        json_t *msgs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
                                 "You are a persona.", "role", "user", "content", text);
        json_t *schema = json_pack("{s:s, s:[s, s]}", "type", "object", "required", "actions",
                                   "cognitive_state");
        req = tt_llm_request_chat("turn", msgs, "agent_turn", schema);
        json_decref(msgs);
        json_decref(schema);
    } else {
        snprintf(text, sizeof text, "memory number %d", i);
        json_t *texts = json_pack("[s, s]", text, "a shared second text");
        req = tt_llm_request_embed("embed", texts);
        json_decref(texts);
    }
    return req;
}

/* All calls at once through a client pointed at fake; results by index. */
static void
s_run(fakellm_t *fake, double timeout_s, s_run_t *run)
{
    tt_config_t cfg;
    tt_config_init(&cfg);
    fakellm_config_client(fake, &cfg);
    cfg.timeout_s = timeout_s;
    cfg.max_attempts = 8;
    cfg.action_max_attempts = 3;
    tt_llm_t *llm = NULL;
    assert_int_equal(tt_llm_new(&cfg, &llm), TT_OK);
    static int slots[S_CALLS];
    for (int i = 0; i < S_CALLS; i++) {
        tt_llm_request_t *req = s_request(i);
        tt_llm_submit(llm, &req, &slots[i]);
    }
    memset(run, 0, sizeof *run);
    for (int n = 0; n < S_CALLS; n++) {
        void *tag = NULL;
        tt_llm_result_t *r = tt_llm_recv(llm, &tag);
        int i = (int)((int *)tag - slots);
        if (r->err)
            fail_msg("call %d failed: %s", i, r->error_text);
        run->content[i] = r->content;
        r->content = NULL;
        memcpy(run->digest[i], r->digest, TT_SHA256_LEN);
        run->attempts += r->attempts;
        assert_true(r->attempts <= 8 * (1 + 3));
        tt_llm_result_destroy(&r);
    }
    tt_llm_destroy(&llm);
    tt_config_fini(&cfg);
}

static void
test_fault_mix_records_the_clean_content(void **state)
{
    fakellm_opts_t clean_opts = {0};
    fakellm_t *clean = fakellm_start(&clean_opts);
    s_run_t want;
    s_run(clean, 2, &want);
    assert_int_equal(want.attempts, S_CALLS);
    fakellm_stop(&clean);

    fakellm_opts_t faulty_opts = {
        .fault_rate = 0.35, .seed = 6, .retry_after_ms = 20, .stall_ms = 20000};
    fakellm_t *faulty = fakellm_start(&faulty_opts);
    s_run_t got;
    s_run(faulty, 0.5, &got);
    fakellm_stats_t fs;
    fakellm_stats(faulty, &fs);
    uint64_t total = 0;
    for (int k = 1; k < FAKELLM_FAULT_KINDS; k++) {
        print_message("  %-12s %llu\n", fakellm_fault_name(k), (unsigned long long)fs.faults[k]);
        total += fs.faults[k];
    }
    print_message("fault mix: %llu faults over %llu requests, %u attempts for %d calls\n",
                  (unsigned long long)total, (unsigned long long)fs.requests, got.attempts,
                  S_CALLS);
    /* The draw depends only on (seed, body, sighting), so with these requests
     * seed 6 gives every kind of fault (checked: 23 faults, reproducible). */
    for (int k = 1; k < FAKELLM_FAULT_KINDS; k++)
        assert_true(fs.faults[k] >= 1);
    assert_true(got.attempts > want.attempts);
    for (int i = 0; i < S_CALLS; i++) {
        assert_string_equal(got.content[i], want.content[i]);
        assert_memory_equal(got.digest[i], want.digest[i], TT_SHA256_LEN);
        free(got.content[i]);
        free(want.content[i]);
    }
    fakellm_stop(&faulty);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_mix_records_the_clean_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
