/*  test_llm_retry -- every fault fakellm can make, recovered or reported as it
 *  should be: waits honoured (and measured), transient failures retried,
 *  final ones not, caps and timeouts enforced, the key never shown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fakellm.h"
#include "tt_json.h"
#include "tt_llm.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_test.h"

typedef struct {
    fakellm_t *fake;
    tt_config_t cfg;
    tt_llm_t *llm;
} s_env_t;

static int
s_setup(void **state)
{
    s_env_t *env = tt_new(s_env_t);
    fakellm_opts_t opts = {.api_key = "sk-test-retry-0002", .stall_ms = 20000};
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

static void
s_script(s_env_t *env, const fakellm_script_t *entries, size_t n)
{
    fakellm_script(env->fake, entries, n);
    if (!env->llm)
        assert_int_equal(tt_llm_new(&env->cfg, &env->llm), TT_OK);
}

static json_t *
s_messages(const char *text)
{
    return json_pack("[{s:s, s:s}]", "role", "user", "content", text);
}

/* One structured call that must end with want. Caller destroys the result. */
static tt_llm_result_t *
s_turn(s_env_t *env, const char *text, tt_err_t want)
{
    json_t *msgs = s_messages(text);
    json_t *schema = json_pack("{s:s, s:[s]}", "type", "object", "required", "actions");
    tt_llm_request_t *req = tt_llm_request_chat("turn", msgs, "agent_turn", schema);
    tt_llm_result_t *r = NULL;
    tt_err_t err = tt_llm_call(env->llm, &req, &r);
    if (err != want)
        fail_msg("got %s (%s), wanted %s", tt_strerror(err), r->error_text ? r->error_text : "",
                 tt_strerror(want));
    if (want == TT_OK) {
        char *clean = tt_offline_chat(msgs, "agent_turn", 0, NULL);
        assert_string_equal(r->content, clean); /* faults never change the content */
        free(clean);
    } else {
        assert_non_null(r->error_text);
        assert_null(r->content);
    }
    json_decref(msgs);
    json_decref(schema);
    return r;
}

static uint64_t
s_requests(s_env_t *env)
{
    fakellm_stats_t st;
    fakellm_stats(env->fake, &st);
    return st.requests;
}

static void
test_429_waits_retry_after_ms(void **state)
{
    s_env_t *env = *state;
    fakellm_script_t s[] = {{.kind = FAKELLM_SCRIPT_FAULT,
                             .fault = FAKELLM_FAULT_RATE_LIMIT,
                             .retry_after_ms = 400,
                             .retry_after_s = 1}};
    s_script(env, s, 1);
    tt_llm_result_t *r = s_turn(env, "rate", TT_OK);
    assert_int_equal(r->attempts, 2);
    /* retry-after-ms wins over the coarser Retry-After: 1 */
    print_message("429 retry-after-ms 400: call took %u ms\n", r->latency_ms);
    assert_true(r->latency_ms >= 400);
    assert_true(r->latency_ms < 950);
    tt_llm_result_destroy(&r);
}

/* A server that keeps asking for 100 ms does not wear a call out in 300: the
 * hint is the least wait, the backoff (0.2 s, doubling) still grows. */
static void
test_429_hint_does_not_shorten_the_backoff(void **state)
{
    s_env_t *env = *state;
    env->cfg.waiting_time_s = 0.2;
    env->cfg.backoff_factor = 2;
    fakellm_script_t s[3];
    for (size_t i = 0; i < 3; i++)
        s[i] = (fakellm_script_t){
            .kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_RATE_LIMIT, .retry_after_ms = 100};
    s_script(env, s, 3);
    tt_llm_result_t *r = s_turn(env, "rate", TT_OK);
    print_message("three 429s asking for 100 ms: call took %u ms\n", r->latency_ms);
    assert_int_equal(r->attempts, 4);
    /* at least 150 + 300 + 600 ms (the backoff less its jitter), not 3 x 100 */
    assert_true(r->latency_ms >= 1050);
    tt_llm_result_destroy(&r);
}

static void
test_429_waits_retry_after_seconds(void **state)
{
    s_env_t *env = *state;
    fakellm_script_t s[] = {
        {.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_RATE_LIMIT, .retry_after_s = 1}};
    s_script(env, s, 1);
    tt_llm_result_t *r = s_turn(env, "rate", TT_OK);
    print_message("429 Retry-After 1: call took %u ms\n", r->latency_ms);
    assert_int_equal(r->attempts, 2);
    assert_true(r->latency_ms >= 1000);
    tt_llm_result_destroy(&r);
}

static void
test_server_errors_are_retried(void **state)
{
    s_env_t *env = *state;
    fakellm_script_t s[] = {
        {.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_SERVER_ERROR, .variant = 1},
        {.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_SERVER_ERROR, .variant = 2},
        {.kind = FAKELLM_SCRIPT_STATUS, .status = 502}};
    s_script(env, s, 3);
    tt_llm_result_t *r = s_turn(env, "5xx", TT_OK);
    assert_int_equal(r->attempts, 4); /* 500 JSON, 503 HTML, 502, then the answer */
    tt_llm_result_destroy(&r);
    tt_llm_stats_t st;
    tt_llm_stats(env->llm, &st);
    assert_int_equal(st.retries, 3);
    assert_int_equal(st.http_attempts, 4);
}

static void
test_connection_reset_is_retried(void **state)
{
    s_env_t *env = *state;
    fakellm_script_t s[] = {{.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_RESET}};
    s_script(env, s, 1);
    tt_llm_result_t *r = s_turn(env, "reset", TT_OK);
    assert_true(r->attempts >= 1 && r->attempts <= 2); /* curl may redo a reset reuse itself */
    assert_true(s_requests(env) >= 2);
    tt_llm_result_destroy(&r);
}

static void
test_truncated_bodies_are_retried(void **state)
{
    s_env_t *env = *state;
    fakellm_script_t s[] = {
        {.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_TRUNCATED, .variant = 1},
        {.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_TRUNCATED, .variant = 2}};
    s_script(env, s, 2);
    tt_llm_result_t *r = s_turn(env, "cut", TT_OK);
    assert_int_equal(r->attempts, 3); /* half a document, a partial transfer, the answer */
    tt_llm_result_destroy(&r);
}

static void
test_schema_invalid_content_is_reasked(void **state)
{
    s_env_t *env = *state;
    fakellm_script_t s[] = {{.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_BAD_SCHEMA}};
    s_script(env, s, 1);
    tt_llm_result_t *r = s_turn(env, "schema", TT_OK);
    assert_int_equal(r->attempts, 2);
    tt_llm_result_destroy(&r);
}

static void
test_stall_times_out_then_recovers(void **state)
{
    s_env_t *env = *state;
    env->cfg.timeout_s = 0.3;
    fakellm_script_t s[] = {
        {.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_STALL, .variant = 1}};
    s_script(env, s, 1);
    tt_llm_result_t *r = s_turn(env, "stall", TT_OK);
    print_message("stall then answer: call took %u ms (timeout 300)\n", r->latency_ms);
    assert_int_equal(r->attempts, 2);
    assert_true(r->latency_ms >= 300 && r->latency_ms < 1500);
    tt_llm_result_destroy(&r);
}

static void
test_stalls_every_time_give_a_timeout(void **state)
{
    s_env_t *env = *state;
    env->cfg.timeout_s = 0.25;
    env->cfg.max_attempts = 2;
    fakellm_script_t stall = {
        .kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_STALL, .variant = 1};
    fakellm_script_t s[] = {stall, stall};
    s_script(env, s, 2);
    tt_llm_result_t *r = s_turn(env, "stall", TT_ETIMEOUT);
    assert_int_equal(r->attempts, 2);
    assert_non_null(strstr(r->error_text, "gave up after 2 attempts"));
    tt_llm_result_destroy(&r);
}

static void
test_body_that_stops_is_cut_before_the_timeout(void **state)
{
    s_env_t *env = *state;
    env->cfg.timeout_s = 2; /* the stall window is half of it */
    fakellm_script_t s[] = {
        {.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_STALL, .variant = 2}};
    s_script(env, s, 1);
    tt_llm_result_t *r = s_turn(env, "halfway", TT_OK);
    print_message("answer stopped halfway: cut and retried, call took %u ms\n", r->latency_ms);
    assert_int_equal(r->attempts, 2);
    assert_true(r->latency_ms >= 1000 && r->latency_ms < 1900);
    tt_llm_result_destroy(&r);
}

static void
test_slow_first_byte_is_not_a_stall(void **state)
{
    s_env_t *env = *state;
    fakellm_stop(&env->fake); /* a server that thinks for 1.3 s before answering */
    fakellm_opts_t opts = {.api_key = "sk-test-retry-0002", .latency_ms = 1300};
    env->fake = fakellm_start(&opts);
    fakellm_config_client(env->fake, &env->cfg);
    env->cfg.timeout_s = 2; /* stall window 1 s: shorter than the silence */
    s_script(env, NULL, 0);
    tt_llm_result_t *r = s_turn(env, "think", TT_OK);
    assert_int_equal(r->attempts, 1);
    assert_true(r->latency_ms >= 1300);
    tt_llm_result_destroy(&r);
}

/* A call waiting for its model wakes the model thread only for what happens
 * on its socket (the request going out, the answer coming in): not every
 * TT_LLM_STALL_CHECK_MS to look for a stalled body (eight more in 2.5 s), nor
 * at an idle poll. */
static void
test_waiting_costs_no_wakeups(void **state)
{
    s_env_t *env = *state;
    fakellm_stop(&env->fake);
    fakellm_opts_t opts = {.api_key = "sk-test-retry-0002", .latency_ms = 2500};
    env->fake = fakellm_start(&opts);
    fakellm_config_client(env->fake, &env->cfg);
    env->cfg.timeout_s = 10;
    s_script(env, NULL, 0);
    tt_llm_stats_t before, after;
    tt_llm_stats(env->llm, &before);
    tt_llm_result_t *r = s_turn(env, "wait", TT_OK);
    assert_true(r->latency_ms >= 2500);
    tt_llm_result_destroy(&r);
    tt_llm_stats(env->llm, &after);
    uint64_t wakeups = after.wakeups - before.wakeups;
    print_message("a 2.5 s wait for the model: %llu wake-ups\n", (unsigned long long)wakeups);
    assert_true(wakeups <= 8);
}

static void
test_gives_up_after_max_attempts(void **state)
{
    s_env_t *env = *state;
    env->cfg.max_attempts = 3;
    fakellm_script_t e = {.kind = FAKELLM_SCRIPT_STATUS, .status = 500};
    fakellm_script_t s[] = {e, e, e, e, e};
    s_script(env, s, 5);
    tt_llm_result_t *r = s_turn(env, "down", TT_EHTTP);
    assert_int_equal(r->attempts, 3);
    assert_int_equal(s_requests(env), 3);
    tt_llm_result_destroy(&r);
}

static void
test_400_is_not_retried(void **state)
{
    s_env_t *env = *state;
    fakellm_script_t s[] = {{.kind = FAKELLM_SCRIPT_STATUS, .status = 400, .code = "bad_value"}};
    s_script(env, s, 1);
    tt_llm_result_t *r = s_turn(env, "bad", TT_EINVAL);
    assert_int_equal(r->attempts, 1);
    assert_int_equal(s_requests(env), 1);
    assert_non_null(strstr(r->error_text, "HTTP 400, bad_value"));
    tt_llm_result_destroy(&r);
}

static void
test_401_is_not_retried_and_never_shows_the_key(void **state)
{
    s_env_t *env = *state;
    const char *canary = "sk-CANARY-4f1c9a7e55d2";
    tt_config_set(&env->cfg.api_key, canary);
    s_script(env, NULL, 0);
    /* Watch stderr: the failure is logged once, without the key. */
    char *dir = tt_test_tmpdir("llm-secret");
    char *path = tt_asprintf("%s/stderr.txt", dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w");
    dup2(fileno(f), 2);
    tt_llm_result_t *r = s_turn(env, "who am i", TT_EAUTH);
    char *canon = NULL;
    json_t *msgs = s_messages("x");
    tt_llm_request_t *req = tt_llm_request_chat("x", msgs, NULL, NULL);
    canon = tt_llm_request_canonical(env->llm, req);
    tt_llm_request_destroy(&req);
    json_decref(msgs);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(f);
    char *log = tt_test_read_file(path, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "rejected the credentials"));
    assert_null(strstr(log, canary));
    assert_null(strstr(r->error_text, canary));
    assert_non_null(strstr(r->error_text, "OPENAI_API_KEY"));
    assert_null(strstr(canon, canary));
    assert_int_equal(r->attempts, 1);
    assert_int_equal(s_requests(env), 1);
    free(canon);
    free(log);
    tt_test_rmtree(dir);
    free(path);
    free(dir);
    tt_llm_result_destroy(&r);
}

static void
test_404_names_the_url_without_secrets(void **state)
{
    s_env_t *env = *state;
    char *url =
        tt_asprintf("http://user:hunter2@127.0.0.1:%u/v1?key=hunter3", fakellm_port(env->fake));
    tt_config_set(&env->cfg.base_url, url);
    fakellm_script_t s[] = {{.kind = FAKELLM_SCRIPT_STATUS, .status = 404}};
    s_script(env, s, 1);
    json_t *msgs = s_messages("x");
    tt_llm_request_t *req = tt_llm_request_chat("plain", msgs, NULL, NULL);
    tt_llm_result_t *r = NULL;
    assert_int_equal(tt_llm_call(env->llm, &req, &r), TT_ENOTFOUND);
    char *want = tt_asprintf("http://127.0.0.1:%u/v1/chat/completions", fakellm_port(env->fake));
    assert_non_null(strstr(r->error_text, want));
    assert_null(strstr(r->error_text, "hunter"));
    assert_int_equal(s_requests(env), 1);
    free(want);
    free(url);
    json_decref(msgs);
    tt_llm_result_destroy(&r);
}

static void
test_quota_429_is_not_retried(void **state)
{
    s_env_t *env = *state;
    fakellm_script_t s[] = {{.kind = FAKELLM_SCRIPT_STATUS,
                             .status = 429,
                             .code = "insufficient_quota",
                             .retry_after_s = 1}};
    s_script(env, s, 1);
    tt_llm_result_t *r = s_turn(env, "money", TT_EQUOTA);
    assert_int_equal(r->attempts, 1);
    assert_int_equal(s_requests(env), 1);
    tt_llm_result_destroy(&r);
}

static void
test_x_should_retry_is_obeyed(void **state)
{
    s_env_t *env = *state;
    fakellm_script_t s[] = {{.kind = FAKELLM_SCRIPT_STATUS, .status = 500, .should_retry = "false"},
                            {.kind = FAKELLM_SCRIPT_STATUS, .status = 400, .should_retry = "true"}};
    s_script(env, s, 2);
    tt_llm_result_t *r = s_turn(env, "no", TT_EHTTP); /* a 500 the server says not to retry */
    assert_int_equal(r->attempts, 1);
    tt_llm_result_destroy(&r);
    r = s_turn(env, "yes", TT_OK); /* a 400 the server says to retry */
    assert_int_equal(r->attempts, 2);
    tt_llm_result_destroy(&r);
}

static void
test_oversize_answer_is_refused(void **state)
{
    s_env_t *env = *state;
    env->cfg.response_cap_kb = 16;
    fakellm_script_t s[] = {{.kind = FAKELLM_SCRIPT_HUGE, .size_kb = 64}};
    s_script(env, s, 1);
    tt_llm_result_t *r = s_turn(env, "big", TT_ETOOBIG);
    assert_int_equal(r->attempts, 1);
    assert_int_equal(s_requests(env), 1);
    assert_non_null(strstr(r->error_text, "RESPONSE_CAP_KB"));
    tt_llm_result_destroy(&r);
}

static void
test_unreachable_server_is_retried_then_reported(void **state)
{
    s_env_t *env = *state;
    tt_config_set(&env->cfg.base_url, "http://127.0.0.1:9/v1"); /* discard: refused */
    env->cfg.max_attempts = 2;
    s_script(env, NULL, 0);
    tt_llm_result_t *r = s_turn(env, "anyone", TT_EHTTP);
    assert_int_equal(r->attempts, 2);
    assert_non_null(strstr(r->error_text, "127.0.0.1:9"));
    tt_llm_result_destroy(&r);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_429_waits_retry_after_ms),
        T(test_429_waits_retry_after_seconds),
        T(test_429_hint_does_not_shorten_the_backoff),
        T(test_server_errors_are_retried),
        T(test_connection_reset_is_retried),
        T(test_truncated_bodies_are_retried),
        T(test_schema_invalid_content_is_reasked),
        T(test_stall_times_out_then_recovers),
        T(test_stalls_every_time_give_a_timeout),
        T(test_body_that_stops_is_cut_before_the_timeout),
        T(test_slow_first_byte_is_not_a_stall),
        T(test_waiting_costs_no_wakeups),
        T(test_gives_up_after_max_attempts),
        T(test_400_is_not_retried),
        T(test_401_is_not_retried_and_never_shows_the_key),
        T(test_404_names_the_url_without_secrets),
        T(test_quota_429_is_not_retried),
        T(test_x_should_retry_is_obeyed),
        T(test_oversize_answer_is_refused),
        T(test_unreachable_server_is_retried_then_reported),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
