/*  test_llm_reply -- reading embeddings answers: base64 values lifted out
 *  before the JSON parse, escaped values read by jansson, float arrays, items
 *  out of order, and broken answers refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_json.h"
#include "tt_llm_impl.h"
#include "tt_mem.h"

#define S_DIM 32

static tt_llm_conf_t s_conf;

static int
s_setup(void **state)
{
    (void)state;
    s_conf.provider = tt_llm_provider_find("openai", NULL);
    s_conf.model = "gpt-test";
    s_conf.embedding_model = "text-embedding-test";
    s_conf.timeout_s = 60;
    s_conf.max_attempts = 3;
    s_conf.response_cap = (size_t)4 << 20;
    return 0;
}

/* Row k of the test vectors: distinct values per row and column. */
static void
s_row(unsigned k, float *v)
{
    for (unsigned i = 0; i < S_DIM; i++)
        v[i] = (float)k + (float)i / 64.0f;
}

static tt_llm_reply_t
s_parse(const char *body, unsigned n_texts)
{
    json_t *texts = json_array();
    for (unsigned i = 0; i < n_texts; i++)
        json_array_append_new(texts, json_string("a memory"));
    tt_llm_request_t *req = tt_llm_request_embed("embedding", texts);
    json_decref(texts);
    tt_buf_t b;
    tt_buf_init(&b, s_conf.response_cap);
    assert_int_equal(tt_buf_add(&b, body, strlen(body)), TT_OK);
    tt_llm_reply_t reply;
    tt_llm_reply_parse(&s_conf, req, 200, &b, "http://llm.test/v1/embeddings", &reply);
    tt_buf_fini(&b);
    tt_llm_request_destroy(&req);
    return reply;
}

static void
s_assert_rows(const tt_llm_reply_t *r, unsigned n)
{
    assert_int_equal(r->kind, TT_LLM_REPLY_OK);
    assert_int_equal(r->n_vectors, n);
    assert_int_equal(r->dim, S_DIM);
    float want[S_DIM];
    for (unsigned k = 0; k < n; k++) {
        s_row(k, want);
        assert_memory_equal(r->vectors + (size_t)k * S_DIM, want, sizeof want);
    }
}

/* "embedding" as base64, with items in the order given (row index per item). */
static char *
s_body_base64(const unsigned *order, unsigned n, const char *space)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    tt_buf_addf(&b, "{\"object\":\"list\",\"data\":[");
    for (unsigned i = 0; i < n; i++) {
        float v[S_DIM];
        s_row(order[i], v);
        char *b64 = tt_llm_vectors_encode(v, S_DIM);
        tt_buf_addf(&b, "%s{\"object\":\"embedding\",\"index\":%u,\"embedding\"%s:%s\"%s\"}",
                    i ? "," : "", order[i], space, space, b64);
        free(b64);
    }
    tt_buf_addf(&b, "],\"usage\":{\"prompt_tokens\":7,\"total_tokens\":7}}");
    return tt_buf_take(&b);
}

static void
test_base64_vectors_are_read_in_index_order(void **state)
{
    (void)state;
    const unsigned order[] = {2, 0, 1};
    char *body = s_body_base64(order, 3, "");
    tt_llm_reply_t r = s_parse(body, 3);
    s_assert_rows(&r, 3);
    assert_int_equal(r.prompt_tokens, 7);
    tt_llm_reply_fini(&r);
    free(body);

    body = s_body_base64(order, 3, " \n ");
    r = s_parse(body, 3);
    s_assert_rows(&r, 3);
    tt_llm_reply_fini(&r);
    free(body);
}

/* JSON may escape '/' as "\/": such a value is not lifted but read by jansson. */
static void
test_escaped_base64_is_read_too(void **state)
{
    (void)state;
    const unsigned order[] = {0, 1};
    char *body = s_body_base64(order, 2, "");
    tt_buf_t b;
    tt_buf_init(&b, 0);
    for (const char *p = body; *p; p++)
        tt_buf_add(&b, *p == '/' ? "\\/" : p, *p == '/' ? 2 : 1);
    free(body);
    assert_non_null(strstr(tt_buf_str(&b), "\\/"));
    tt_llm_reply_t r = s_parse(tt_buf_str(&b), 2);
    s_assert_rows(&r, 2);
    tt_llm_reply_fini(&r);
    tt_buf_fini(&b);
}

static void
test_float_arrays_are_read(void **state)
{
    (void)state;
    json_t *data = json_array();
    for (unsigned k = 0; k < 2; k++) {
        float v[S_DIM];
        s_row(k, v);
        json_t *emb = json_array();
        for (unsigned i = 0; i < S_DIM; i++)
            json_array_append_new(emb, json_real(v[i]));
        json_array_append_new(data, json_pack("{s:i, s:o}", "index", k, "embedding", emb));
    }
    json_t *root = json_pack("{s:o}", "data", data);
    char *body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    tt_llm_reply_t r = s_parse(body, 2);
    s_assert_rows(&r, 2);
    tt_llm_reply_fini(&r);
    free(body);
}

/* A text that looks like a lifted placeholder is not one; a vector cut short
 * or missing fails the answer. */
static void
test_broken_vectors_are_refused(void **state)
{
    (void)state;
    const char *bodies[] = {
        "{\"data\":[{\"index\":0,\"embedding\":\"#0\"}]}",
        "{\"data\":[{\"index\":0,\"embedding\":\"#\"}]}",
        "{\"data\":[{\"index\":0,\"embedding\":\"AAAA\"}]}",
        "{\"data\":[]}",
        "{\"data\":[{\"index\":0,\"embedding\":\"",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        tt_llm_reply_t r = s_parse(bodies[i], 1);
        assert_int_not_equal(r.kind, TT_LLM_REPLY_OK);
        assert_null(r.vectors);
        assert_non_null(r.text);
        tt_llm_reply_fini(&r);
    }
    /* two items but three texts asked */
    const unsigned order[] = {0, 1};
    char *body = s_body_base64(order, 2, "");
    tt_llm_reply_t r = s_parse(body, 3);
    assert_int_not_equal(r.kind, TT_LLM_REPLY_OK);
    tt_llm_reply_fini(&r);
    free(body);
    /* three items but two texts asked: more values than places to lift them */
    const unsigned three[] = {0, 1, 2};
    body = s_body_base64(three, 3, "");
    r = s_parse(body, 2);
    assert_int_not_equal(r.kind, TT_LLM_REPLY_OK);
    assert_null(r.vectors);
    tt_llm_reply_fini(&r);
    free(body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_vectors_are_read_in_index_order),
        cmocka_unit_test(test_escaped_base64_is_read_too),
        cmocka_unit_test(test_float_arrays_are_read),
        cmocka_unit_test(test_broken_vectors_are_refused),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
