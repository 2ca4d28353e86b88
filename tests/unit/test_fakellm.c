/*  test_fakellm -- the fake server by itself, spoken to with plain libcurl:
 *  answers, endpoints, the deterministic fault draw, 1000 connections at once
 *  (without a thread each), stalls, and the standalone binary's command-line
 *  contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakellm.h"
#include "fakellm_impl.h"
#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_llm.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_test.h"
#include "tt_time.h"

extern char **environ;

typedef struct {
    CURLcode rc;
    long status;
    char *body;
} s_reply_t;

static size_t
s_write(char *data, size_t size, size_t n, void *arg)
{
    tt_buf_add(arg, data, size * n);
    return size * n;
}

static CURL *
s_easy(const char *url, const char *body, const char *header, tt_buf_t *out)
{
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L); /* one sighting per request */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (body)
        curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
    if (header) {
        struct curl_slist *hs = curl_slist_append(NULL, header);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(h, CURLOPT_PRIVATE, hs);
    }
    return h;
}

static void
s_easy_free(CURL *h)
{
    struct curl_slist *hs = NULL;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&hs);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
}

/* One request to path on f; body NULL means GET; header, if any, is one
 * extra header line. Caller frees reply.body. */
static s_reply_t
s_http(fakellm_t *f, const char *path, const char *body, const char *header)
{
    char *url = tt_asprintf("http://127.0.0.1:%u%s", fakellm_port(f), path);
    tt_buf_t out;
    tt_buf_init(&out, 0);
    CURL *h = s_easy(url, body, header, &out);
    s_reply_t r = {curl_easy_perform(h), 0, NULL};
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    r.body = tt_buf_take(&out);
    s_easy_free(h);
    free(url);
    return r;
}

static const char s_chat_body[] =
    "{\"model\":\"gpt-x\",\"seed\":5,\"messages\":[{\"role\":\"user\",\"content\":\"Hi there\"}],"
    "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"agent_turn\","
    "\"schema\":{\"type\":\"object\"}}}}";

static char *
s_content(const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    json_t *msg = json_object_get(json_array_get(json_object_get(j, "choices"), 0), "message");
    const char *c = tt_json_str(msg, "content", NULL);
    char *copy = c ? tt_strdup(c) : NULL;
    json_decref(j);
    return copy;
}

static void
test_chat_is_answered_by_the_offline_model(void **state)
{
    fakellm_opts_t opts = {0};
    fakellm_t *f = fakellm_start(&opts);
    s_reply_t r = s_http(f, "/v1/chat/completions", s_chat_body, NULL);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", "Hi there");
    char *want = tt_offline_chat(msgs, "agent_turn", 5, NULL);
    char *got = s_content(r.body);
    assert_string_equal(got, want);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_string_equal(tt_json_str(j, "model", ""), "gpt-x");
    json_t *usage = json_object_get(j, "usage");
    assert_int_equal(tt_json_int(usage, "prompt_tokens", 0), tt_tokens_messages(msgs));
    assert_int_equal(tt_json_int(usage, "completion_tokens", 0), tt_tokens_estimate(want));
    fakellm_stats_t st;
    fakellm_stats(f, &st);
    assert_int_equal(st.chat, 1);
    assert_int_equal(st.prompt_tokens, tt_tokens_messages(msgs));
    assert_null(fakellm_take_last_request(f)); /* not kept unless asked for */
    json_decref(j);
    json_decref(msgs);
    free(want);
    free(got);
    free(r.body);
    fakellm_stop(&f);
    assert_null(f);
}

/* fakellm's request reader takes and refuses what jansson does, and gives
 * the same values: escapes, UTF-8, nesting, repeated keys, 64-bit seeds. */
static void
test_request_reader_agrees_with_jansson(void **state)
{
    static const char *bodies[] = {
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"a\\n\\\"b\\u00e9\\ud83d\\ude00\"}]}",
        " [1, -2, 0.5, 1e-3, true, false, null, {}, [], \"\"]\r\n",
        "{\"seed\":9007199254740993,\"big\":-9223372036854775808,\"k\":1,\"k\":2}",
        "[1.0, -0, 2E+2, 0.25e-1, \"1 2\\\"3\", 4]",
        "{\"t\":\"caf\xc3\xa9\",\"deep\":[[[[{\"x\":[0]}]]]]}",
        /* digits in strings after runs of backslashes: not taken for numbers */
        "[\"\\\\\",5,\"a\\\\\\\"7\\\\\",6,\"\\\"9\",8]",
        /* refused by both */
        "{\"a\":1} trailing",
        "{\"a\":\"\\u0000\"}",
        "{\"a\":\"tab\x01\"}",
        "{\"a\":\"a longer run of plain text, then\x01\"}",
        "{\"a\":\"a longer run of plain text, then \\u0000\"}",
        "{\"a\":\"\xff\xfe\"}",
        "{\"seed\":18446744073709551616}",
        "[01]",
        "[1.]",
        "[1e400]",
        "{\"a\":",
        "{\"a\" 1}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *want = json_loadb(bodies[i], strlen(bodies[i]), 0, NULL);
        json_t *got = fakellm_json_parse(bodies[i], strlen(bodies[i]));
        if (!want) {
            assert_null(got);
            continue;
        }
        assert_non_null(got);
        assert_true(json_equal(want, got));
        json_decref(want);
        json_decref(got);
    }
    /* with the body in a buffer of its own length: no terminator to lean on */
    const char body[] = {'{', '"', 'n', '"', ':', '7', '}'};
    json_t *got = fakellm_json_parse(body, sizeof body);
    assert_int_equal(tt_json_int(got, "n", 0), 7);
    json_decref(got);
}

static void
test_reask_turns_are_answered_like_the_first_ask(void **state)
{
    fakellm_opts_t opts = {0};
    fakellm_t *f = fakellm_start(&opts);
    s_reply_t a = s_http(f, "/v1/chat/completions", s_chat_body, NULL);
    json_t *body = json_loads(s_chat_body, 0, NULL);
    json_t *msgs = json_object_get(body, "messages");
    json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "assistant", "content", "{oops"));
    json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content",
                                          TT_LLM_REASK_PREFIX ": the JSON ends early."));
    char *text = tt_json_compact(body);
    s_reply_t b = s_http(f, "/v1/chat/completions", text, NULL);
    char *ca = s_content(a.body), *cb = s_content(b.body);
    assert_string_equal(ca, cb);
    free(ca);
    free(cb);
    free(text);
    json_decref(body);
    free(a.body);
    free(b.body);
    fakellm_stop(&f);
}

static void
test_embeddings_as_floats_and_base64(void **state)
{
    fakellm_opts_t opts = {0};
    fakellm_t *f = fakellm_start(&opts);
    s_reply_t a = s_http(f, "/v1/embeddings", "{\"model\":\"e\",\"input\":\"tea time\"}", NULL);
    s_reply_t b = s_http(f, "/v1/embeddings",
                         "{\"model\":\"e\",\"input\":[\"x\",\"tea time\"],"
                         "\"encoding_format\":\"base64\"}",
                         NULL);
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    float want[TT_OFFLINE_EMBED_DIM];
    tt_offline_embed("tea time", want);
    json_t *ja = json_loads(a.body, 0, NULL), *jb = json_loads(b.body, 0, NULL);
    json_t *fa = json_object_get(json_array_get(json_object_get(ja, "data"), 0), "embedding");
    assert_int_equal(json_array_size(fa), TT_OFFLINE_EMBED_DIM);
    for (int i = 0; i < TT_OFFLINE_EMBED_DIM; i++)
        assert_true((float)json_number_value(json_array_get(fa, i)) == want[i]);
    json_t *item = json_array_get(json_object_get(jb, "data"), 1);
    assert_int_equal(tt_json_int(item, "index", -1), 1);
    /* base64 of little-endian float32, decoded the way the client does */
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    tt_config_resolve(&cfg, "offline", &err);
    tt_llm_t *llm = NULL;
    assert_int_equal(tt_llm_new(&cfg, &llm), TT_OK);
    json_t *texts = json_pack("[s]", "tea time");
    tt_llm_request_t *req = tt_llm_request_embed("e", texts);
    tt_llm_result_t *r = tt_llm_result_replay(llm, &req, tt_json_str(item, "embedding", ""));
    assert_int_equal(r->err, TT_OK);
    assert_memory_equal(r->vectors, want, sizeof want);
    fakellm_stats_t st;
    fakellm_stats(f, &st);
    assert_int_equal(st.embeddings, 2);
    assert_int_equal(st.vectors, 3);
    tt_llm_result_destroy(&r);
    tt_llm_destroy(&llm);
    tt_config_fini(&cfg);
    json_decref(texts);
    json_decref(ja);
    json_decref(jb);
    free(a.body);
    free(b.body);
    fakellm_stop(&f);
}

static void
test_models_stats_and_reset(void **state)
{
    fakellm_opts_t opts = {.seed = 3};
    fakellm_t *f = fakellm_start(&opts);
    s_reply_t m = s_http(f, "/v1/models", NULL, NULL);
    assert_int_equal(m.status, 200);
    assert_non_null(strstr(m.body, "\"troupe-offline\""));
    s_reply_t s = s_http(f, "/stats", NULL, NULL);
    json_t *j = json_loads(s.body, 0, NULL);
    const char *keys[] = {"requests",      "max_in_flight",     "in_flight",
                          "prompt_tokens", "completion_tokens", "embeddings"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_true(json_is_integer(json_object_get(j, keys[i])));
    assert_int_equal(tt_json_int(j, "requests", 0), 1); /* /v1/models; /stats is not counted */
    json_t *faults = json_object_get(j, "faults");
    assert_true(json_is_object(faults));
    assert_true(json_is_integer(json_object_get(faults, "rate_limit")));
    assert_true(json_is_integer(json_object_get(faults, "bad_schema")));
    json_decref(j);
    s_reply_t x = s_http(f, "/stats/reset", "", NULL);
    assert_int_equal(x.status, 200);
    fakellm_stats_t st;
    fakellm_stats(f, &st);
    assert_int_equal(st.requests, 0);
    s_reply_t nf = s_http(f, "/nope", NULL, NULL);
    assert_int_equal(nf.status, 404);
    free(m.body);
    free(s.body);
    free(x.body);
    free(nf.body);
    fakellm_stop(&f);
}

static void
test_api_key_is_enforced(void **state)
{
    fakellm_opts_t opts = {.api_key = "sk-fake-key-99", .keep_last_request = true};
    fakellm_t *f = fakellm_start(&opts);
    s_reply_t none = s_http(f, "/v1/chat/completions", s_chat_body, NULL);
    s_reply_t wrong =
        s_http(f, "/v1/chat/completions", s_chat_body, "Authorization: Bearer sk-wrong");
    s_reply_t bearer =
        s_http(f, "/v1/chat/completions", s_chat_body, "Authorization: Bearer sk-fake-key-99");
    s_reply_t azure = s_http(f, "/v1/chat/completions", s_chat_body, "api-key: sk-fake-key-99");
    assert_int_equal(none.status, 401);
    assert_int_equal(wrong.status, 401);
    assert_non_null(strstr(wrong.body, "invalid_api_key"));
    assert_int_equal(bearer.status, 200);
    assert_int_equal(azure.status, 200);
    char *last = fakellm_take_last_request(f);
    assert_non_null(strstr(last, "\"auth\":\"api-key\""));
    assert_null(strstr(last, "sk-fake-key-99")); /* never kept */
    assert_null(fakellm_take_last_request(f));
    free(last);
    free(none.body);
    free(wrong.body);
    free(bearer.body);
    free(azure.body);
    fakellm_stop(&f);
}

/* A connection's share of libmicrohttpd's memory (FAKELLM_CONNECTION_MEMORY)
 * holds a request's line and headers; bodies are kept outside it. A header
 * of 6 KB and a 64 KB prompt are still answered like any other request. */
static void
test_large_headers_and_bodies_are_answered(void **state)
{
    fakellm_opts_t opts = {0};
    fakellm_t *f = fakellm_start(&opts);
    char *header = tt_calloc(1, 6200);
    memcpy(header, "X-Padding: ", 11);
    memset(header + 11, 'h', 6144);
    char *text = tt_calloc(1, 65537);
    memset(text, 'w', 65536);
    json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", text);
    json_t *req = json_pack("{s:s, s:i, s:O}", "model", "gpt-x", "seed", 7, "messages", msgs);
    char *body = json_dumps(req, JSON_COMPACT);
    s_reply_t r = s_http(f, "/v1/chat/completions", body, header);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    char *want = tt_offline_chat(msgs, NULL, 7, NULL);
    char *got = s_content(r.body);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(want);
    free(got);
    free(r.body);
    free(body);
    json_decref(req);
    json_decref(msgs);
    free(text);
    free(header);
    fakellm_stop(&f);
}

static void
test_fault_draw_is_deterministic_and_weighted(void **state)
{
    uint8_t d[32];
    unsigned counts[FAKELLM_FAULT_KINDS] = {0};
    enum { N = 60000 };
    for (uint32_t i = 0; i < N; i++) {
        tt_sha256(&i, sizeof i, d);
        fakellm_fault_t k = fakellm_draw(11, 0.5, d, 0);
        assert_int_equal(k, fakellm_draw(11, 0.5, d, 0)); /* same inputs, same fault */
        assert_int_equal(fakellm_draw(11, 0, d, 0), FAKELLM_FAULT_NONE);
        assert_int_not_equal(fakellm_draw(11, 1, d, i), FAKELLM_FAULT_NONE);
        counts[k]++;
    }
    /* About half are faults, split 10:5:5:3:5:2. */
    double faults = N - counts[0];
    assert_true(faults > 0.48 * N && faults < 0.52 * N);
    const double weights[] = {0, 10, 5, 5, 3, 5, 2};
    for (int k = 1; k < FAKELLM_FAULT_KINDS; k++) {
        double share = counts[k] / faults, want = weights[k] / 30;
        if (share < want * 0.9 || share > want * 1.1)
            fail_msg("%s: share %.3f, want %.3f", fakellm_fault_name(k), share, want);
    }
    /* a retry (the next sighting) gets an independent draw */
    unsigned differ = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        tt_sha256(&i, sizeof i, d);
        differ += fakellm_draw(11, 0.5, d, 0) != fakellm_draw(11, 0.5, d, 1);
    }
    assert_true(differ > 300);
}

/* What a raw reply looks like, as a fault kind. */
static fakellm_fault_t
s_observed(const s_reply_t *r, int64_t ms, uint32_t stall_ms)
{
    if (r->rc == CURLE_PARTIAL_FILE) /* cut short at once, or after a silence */
        return ms >= stall_ms ? FAKELLM_FAULT_STALL : FAKELLM_FAULT_TRUNCATED;
    if (r->rc != CURLE_OK)
        return FAKELLM_FAULT_RESET;
    if (r->status == 429)
        return FAKELLM_FAULT_RATE_LIMIT;
    if (r->status == 500 || r->status == 503)
        return FAKELLM_FAULT_SERVER_ERROR;
    json_t *j = json_loads(r->body, 0, NULL);
    if (!j)
        return FAKELLM_FAULT_TRUNCATED;
    json_decref(j);
    if (strstr(r->body, "schema-invalid"))
        return FAKELLM_FAULT_BAD_SCHEMA;
    return ms >= stall_ms ? FAKELLM_FAULT_STALL : FAKELLM_FAULT_NONE;
}

static void
test_repeats_of_one_body_follow_the_draw(void **state)
{
    fakellm_opts_t opts = {.fault_rate = 0.6, .seed = 99, .stall_ms = 150, .retry_after_ms = 5};
    fakellm_t *f = fakellm_start(&opts);
    uint8_t digest[32];
    tt_sha256(s_chat_body, strlen(s_chat_body), digest);
    unsigned kinds = 0;
    for (uint64_t n = 0; n < 16; n++) {
        int64_t t0 = tt_now_ms();
        s_reply_t r = s_http(f, "/v1/chat/completions", s_chat_body, NULL);
        fakellm_fault_t want = fakellm_draw(99, 0.6, digest, n);
        fakellm_fault_t got = s_observed(&r, tt_now_ms() - t0, 150);
        if (got != want)
            fail_msg("sighting %llu: got %s, drawn %s", (unsigned long long)n,
                     fakellm_fault_name(got), fakellm_fault_name(want));
        kinds |= 1u << got;
        free(r.body);
    }
    assert_true(__builtin_popcount(kinds) >= 4);
    fakellm_stats_t st;
    fakellm_stats(f, &st);
    uint64_t total = 0;
    for (int k = 1; k < FAKELLM_FAULT_KINDS; k++)
        total += st.faults[k];
    assert_true(total > 0 && st.requests == 16);
    fakellm_stop(&f);
}

/* Threads of this process now (/proc/self/status). */
static int
s_threads(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (fp)
        fclose(fp);
    return n;
}

static void
test_thousand_connections_at_once(void **state)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2200)
        skip(); /* client and server sockets share this process */
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload"))
        skip(); /* valgrind runs one thread at a time: a timing test means nothing */
    /* The latency is long enough for a slow (sanitized, busy) client to open
     * most of its connections before the first answer comes back. */
    enum { N = 1000, LATENCY_MS = 3000 };
    fakellm_opts_t opts = {.latency_ms = LATENCY_MS};
    int threads_before = s_threads(), threads_max = threads_before;
    fakellm_t *f = fakellm_start(&opts);
    char *url = tt_asprintf("http://127.0.0.1:%u/v1/chat/completions", fakellm_port(f));
    CURLM *multi = curl_multi_init();
    tt_buf_t *bufs = tt_calloc(N, sizeof *bufs);
    for (int i = 0; i < N; i++) {
        tt_buf_init(&bufs[i], 0);
        curl_multi_add_handle(multi, s_easy(url, s_chat_body, NULL, &bufs[i]));
    }
    int64_t t0 = tt_now_ms();
    int running = 1, ok = 0;
    while (running) {
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            long status = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            ok += m->data.result == CURLE_OK && status == 200;
            curl_multi_remove_handle(multi, m->easy_handle);
            s_easy_free(m->easy_handle);
        }
        if (running)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
        int threads = s_threads();
        threads_max = threads > threads_max ? threads : threads_max;
    }
    int64_t ms = tt_now_ms() - t0;
    fakellm_stats_t st;
    fakellm_stats(f, &st);
    print_message("%d requests with %d ms latency: %lld ms, %u in flight at most, %d threads\n", N,
                  LATENCY_MS, (long long)ms, st.max_in_flight, threads_max - threads_before);
    for (int i = 0; i < N; i++)
        tt_buf_fini(&bufs[i]);
    free(bufs);
    curl_multi_cleanup(multi);
    free(url);
    fakellm_stop(&f);
    assert_int_equal(ok, N);
    /* Answered concurrently: one at a time would hold one in flight and take
     * N x the latency; a busy machine only delays how fast they arrive. */
    assert_true(st.max_in_flight >= N / 2);
    assert_true(ms >= LATENCY_MS); /* the latency runs from arrival: never sooner */
    assert_true(ms < 20 * LATENCY_MS);
    /* A request in its latency holds no thread: a few workers and the timer
     * (a thread per connection was N of them). */
    assert_true(threads_max - threads_before <= 16 + 2);
}

/* A stall after half the answer: the client gets half, then silence for
 * stall_ms, then the connection is cut; other requests go on meanwhile. */
static void
test_stall_after_half_an_answer(void **state)
{
    enum { STALL_MS = 1000 }; /* room for the other request on a loaded machine */
    fakellm_opts_t opts = {.stall_ms = STALL_MS};
    fakellm_t *f = fakellm_start(&opts);
    fakellm_script_t s = {.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_STALL, .variant = 2};
    fakellm_script(f, &s, 1);
    char *url = tt_asprintf("http://127.0.0.1:%u/v1/chat/completions", fakellm_port(f));
    tt_buf_t cut, other;
    tt_buf_init(&cut, 0);
    tt_buf_init(&other, 0);
    CURLM *multi = curl_multi_init();
    CURL *h = s_easy(url, s_chat_body, NULL, &cut);
    curl_multi_add_handle(multi, h);
    int64_t t0 = tt_now_ms(), other_ms = -1, cut_ms = -1;
    CURLcode cut_rc = CURLE_OK, other_rc = CURLE_OK;
    bool other_sent = false;
    int running = 1;
    while (running) {
        curl_multi_perform(multi, &running);
        if (!other_sent && cut.len) { /* the first half is here: ask again */
            curl_multi_add_handle(multi, s_easy(url, s_chat_body, NULL, &other));
            other_sent = true;
            running = 1;
        }
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            bool is_cut = m->easy_handle == h;
            *(is_cut ? &cut_rc : &other_rc) = m->data.result;
            *(is_cut ? &cut_ms : &other_ms) = tt_now_ms() - t0;
            curl_multi_remove_handle(multi, m->easy_handle);
            s_easy_free(m->easy_handle);
        }
        if (running)
            curl_multi_poll(multi, NULL, 0, 50, NULL);
    }
    curl_multi_cleanup(multi);
    fakellm_stop(&f);
    print_message("half an answer (%zu bytes), cut after %lld ms (%d); another answered after "
                  "%lld ms\n",
                  cut.len, (long long)cut_ms, (int)cut_rc, (long long)other_ms);
    assert_true(other_sent);
    assert_int_not_equal(cut_rc, CURLE_OK); /* a partial transfer */
    assert_true(cut_ms >= STALL_MS);
    assert_int_equal(other_rc, CURLE_OK);
    assert_true(other_ms >= 0 && other_ms < cut_ms); /* not held up by the stall */
    json_t *j = json_loadb(other.data, other.len, 0, NULL);
    assert_non_null(json_object_get(j, "choices"));
    json_decref(j);
    tt_buf_fini(&cut);
    tt_buf_fini(&other);
    free(url);
}

static void
test_stop_cuts_a_stall_short(void **state)
{
    fakellm_opts_t opts = {.stall_ms = 60000};
    fakellm_t *f = fakellm_start(&opts);
    fakellm_script_t s = {.kind = FAKELLM_SCRIPT_FAULT, .fault = FAKELLM_FAULT_STALL, .variant = 1};
    fakellm_script(f, &s, 1);
    char *url = tt_asprintf("http://127.0.0.1:%u/v1/chat/completions", fakellm_port(f));
    tt_buf_t out;
    tt_buf_init(&out, 0);
    CURL *h = s_easy(url, s_chat_body, NULL, &out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 200L);
    assert_int_equal(curl_easy_perform(h), CURLE_OPERATION_TIMEDOUT);
    int64_t t0 = tt_now_ms();
    fakellm_stop(&f);
    assert_true(tt_now_ms() - t0 < 1000);
    s_easy_free(h);
    tt_buf_fini(&out);
    free(url);
}

static void
test_binary_prints_the_port_first(void **state)
{
    char *bin = tt_test_bin_path("fakellm");
    if (access(bin, X_OK) != 0) {
        free(bin);
        skip();
    }
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {bin, "--port", "0", "--latency-ms", "5", "--fault-rate",
                    "0", "--seed", "1", "--quiet",      NULL};
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, bin, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    FILE *out = fdopen(fds[0], "r");
    char line[32] = "";
    assert_non_null(fgets(line, sizeof line, out));
    char *end;
    long port = strtol(line, &end, 10);
    assert_true(port > 0 && port < 65536 && *end == '\n');
    char *url = tt_asprintf("http://127.0.0.1:%ld/stats", port);
    tt_buf_t body;
    tt_buf_init(&body, 0);
    CURL *h = s_easy(url, NULL, NULL, &body);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    assert_non_null(strstr(tt_buf_str(&body), "\"max_in_flight\""));
    s_easy_free(h);
    kill(pid, SIGTERM);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* bad usage is exit status 2 */
    char *bad[] = {bin, "--fault-rate", "2", NULL};
    assert_int_equal(posix_spawn(&pid, bin, NULL, NULL, bad, environ), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    fclose(out);
    tt_buf_fini(&body);
    free(url);
    free(bin);
}

int
main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat_is_answered_by_the_offline_model),
        cmocka_unit_test(test_request_reader_agrees_with_jansson),
        cmocka_unit_test(test_reask_turns_are_answered_like_the_first_ask),
        cmocka_unit_test(test_embeddings_as_floats_and_base64),
        cmocka_unit_test(test_models_stats_and_reset),
        cmocka_unit_test(test_api_key_is_enforced),
        cmocka_unit_test(test_large_headers_and_bodies_are_answered),
        cmocka_unit_test(test_fault_draw_is_deterministic_and_weighted),
        cmocka_unit_test(test_repeats_of_one_body_follow_the_draw),
        cmocka_unit_test(test_thousand_connections_at_once),
        cmocka_unit_test(test_stop_cuts_a_stall_short),
        cmocka_unit_test(test_stall_after_half_an_answer),
        cmocka_unit_test(test_binary_prints_the_port_first),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
