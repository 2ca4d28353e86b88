/*  tt_llm_accept -- from a model's raw answer to an accepted one.
 *
 *  One path for every source of content (HTTP, the offline model, the cache,
 *  a replayed log), so an answer is judged the same way wherever it came from:
 *  repair (tt_repair), then the schema subset check (tt_llm_schema), then the
 *  caller's validator. What fails is explained in one line that goes back to
 *  the model in a re-ask. Also here: the packing of embedding vectors into the
 *  base64 text that the log records and replays.
 */
#include <openssl/evp.h>
#include <string.h>

#include "tt_json.h"
#include "tt_llm_impl.h"
#include "tt_mem.h"
#include "tt_repair.h"

/* A JSON string for text that may not be valid UTF-8 (an error text quoting a
 * cut answer): invalid bytes become '?'. */
static json_t *
s_json_text(const char *text)
{
    json_t *s = json_string(text);
    if (s)
        return s;
    char *copy = tt_strdup(text);
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    s = json_string(copy);
    free(copy);
    TT_ASSERT(s);
    return s;
}

static tt_err_t
s_validate(const tt_llm_request_t *req, const char *text, json_t **parsed, char **why)
{
    tt_err_t err = req->validate(text, req->validate_arg, parsed, why);
    if (err == TT_OK)
        return TT_OK;
    json_decref(*parsed);
    *parsed = NULL;
    if (!*why)
        *why = tt_strdup("the answer does not fit what was asked for");
    return TT_ELLM;
}

tt_err_t
tt_llm_accept_chat(const tt_llm_request_t *req, const char *content, json_t **parsed, char **why)
{
    *parsed = NULL;
    *why = NULL;
    if (!content) {
        *why = tt_strdup("the answer is empty");
        return TT_ELLM;
    }
    if (!req->schema && !req->schema_name)
        return req->validate ? s_validate(req, content, parsed, why) : TT_OK;
    json_t *value = tt_repair_json(content, strlen(content), why);
    if (!value)
        return TT_ELLM;
    return tt_llm_accept_value(req, value, parsed, why);
}

tt_err_t
tt_llm_accept_value(const tt_llm_request_t *req, json_t *value, json_t **parsed, char **why)
{
    *parsed = NULL;
    *why = NULL;
    if (req->schema && !tt_llm_schema_check(req->schema, value, why)) {
        json_decref(value);
        return TT_ELLM;
    }
    if (req->check) {
        json_t *normal = NULL;
        tt_err_t err = req->check(value, req->check_arg, &normal, why);
        if (err) {
            json_decref(normal);
            json_decref(value);
            if (!*why)
                *why = tt_strdup("the answer does not fit what was asked for");
            return TT_ELLM;
        }
        if (normal) {
            json_decref(value);
            value = normal;
        }
    } else if (req->validate) {
        char *text = tt_json_compact(value);
        json_t *normal = NULL;
        tt_err_t err = s_validate(req, text, &normal, why);
        free(text);
        if (err) {
            json_decref(value);
            return err;
        }
        if (normal) {
            json_decref(value);
            value = normal;
        }
    }
    *parsed = value;
    return TT_OK;
}

void
tt_llm_reask_append(json_t *conversation, const char *bad, const char *why)
{
    bad = bad ? bad : "";
    size_t keep = tt_utf8_cut(bad, strlen(bad), TT_LLM_REASK_ECHO_MAX);
    char *echo = tt_asprintf("%.*s%s", (int)keep, bad, bad[keep] ? " [...]" : "");
    json_t *assistant = json_object();
    json_object_set_new(assistant, "role", json_string("assistant"));
    json_object_set_new(assistant, "content", s_json_text(echo));
    json_array_append_new(conversation, assistant);
    free(echo);

    char *ask = tt_asprintf("%s: %s. Answer again with only the JSON value that was asked for, "
                            "without code fences, comments or any other text.",
                            TT_LLM_REASK_PREFIX, why ? why : "it was not usable");
    json_t *user = json_object();
    json_object_set_new(user, "role", json_string("user"));
    json_object_set_new(user, "content", s_json_text(ask));
    json_array_append_new(conversation, user);
    free(ask);
}

/* Embeddings travel as base64 of little-endian float32 (OpenAI's
 * encoding_format "base64", and the log's form). OpenSSL's block codec is
 * table-driven: about ten times faster than libsodium's constant-time one,
 * which this public data does not need. */
char *
tt_llm_vectors_encode(const float *v, size_t n)
{
    size_t bytes = n * 4;
    uint8_t *bin = tt_malloc(bytes ? bytes : 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        for (int k = 0; k < 4; k++)
            bin[4 * i + (size_t)k] = (uint8_t)(u >> (8 * k));
    }
    char *b64 = tt_malloc((bytes + 2) / 3 * 4 + 1);
    EVP_EncodeBlock((unsigned char *)b64, bin, (int)bytes);
    free(bin);
    return b64;
}

tt_err_t
tt_llm_vectors_decode_n(const char *b64, size_t len, uint32_t n_vectors, float **out, uint32_t *dim)
{
    *out = NULL;
    *dim = 0;
    if (!n_vectors || !len || len % 4 || len > ((size_t)1 << 30))
        return TT_EINVAL;
    size_t pad = (b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');
    uint8_t *bin = tt_malloc(len / 4 * 3);
    /* EVP_DecodeBlock refuses any byte outside the alphabet, and counts the
     * padding as zero bytes */
    int got = EVP_DecodeBlock(bin, (const unsigned char *)b64, (int)len);
    size_t bytes = got < 0 ? 0 : (size_t)got - pad;
    if (got < 0 || memchr(b64, '=', len - pad) || bytes % 4 || bytes / 4 % n_vectors ||
        bytes / 4 / n_vectors == 0 || bytes / 4 / n_vectors > TT_LLM_MAX_EMBED_DIM) {
        free(bin);
        return TT_EINVAL;
    }
    size_t n = bytes / 4;
    float *v = tt_malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        uint32_t u = 0;
        for (int k = 0; k < 4; k++)
            u |= (uint32_t)bin[4 * i + (size_t)k] << (8 * k);
        memcpy(&v[i], &u, 4);
    }
    free(bin);
    *out = v;
    *dim = (uint32_t)(n / n_vectors);
    return TT_OK;
}

tt_err_t
tt_llm_vectors_decode(const char *b64, uint32_t n_vectors, float **out, uint32_t *dim)
{
    return tt_llm_vectors_decode_n(b64, b64 ? strlen(b64) : 0, n_vectors, out, dim);
}
