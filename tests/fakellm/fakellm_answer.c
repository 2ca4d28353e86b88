/*  fakellm_answer -- what fakellm says: the offline model in OpenAI's format.
 *
 *  The answer depends on the request only. Before the offline model sees the
 *  messages, the turns that tt_llm adds for transport reasons are removed: the
 *  json_object system line (the schema name is read from it instead) and
 *  trailing re-ask pairs. So a request answers the same in json_schema and
 *  json_object mode, and a re-ask gets the answer the first ask should have
 *  had -- which is what makes faulty and clean runs record the same content.
 */
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "fakellm_impl.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_llm.h"
#include "tt_llm_impl.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_quality.h"

static bool
s_starts(const char *s, const char *prefix)
{
    return s && !strncmp(s, prefix, strlen(prefix));
}

/* The schema name from tt_llm's json_object system line, into name. */
static bool
s_json_mode_name(const json_t *messages, char *name, size_t cap)
{
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        const char *text = tt_json_str(m, "content", NULL);
        if (!s_starts(text, TT_LLM_JSON_MODE_PREFIX))
            continue;
        const char *open = text + strlen(TT_LLM_JSON_MODE_PREFIX);
        const char *close = *open == '"' ? strchr(open + 1, '"') : NULL;
        if (!close || (size_t)(close - open) > cap)
            return false;
        snprintf(name, cap, "%.*s", (int)(close - open - 1), open + 1);
        return true;
    }
    return false;
}

/* The messages the model should answer: no json_object line, no re-asks. */
static json_t *
s_clean_messages(const json_t *messages)
{
    json_t *clean = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        if (!s_starts(tt_json_str(m, "content", NULL), TT_LLM_JSON_MODE_PREFIX))
            json_array_append(clean, m);
    }
    size_t n;
    while ((n = json_array_size(clean)) >= 2) {
        json_t *ask = json_array_get(clean, n - 1), *bad = json_array_get(clean, n - 2);
        if (strcmp(tt_json_str(ask, "role", ""), "user") ||
            !s_starts(tt_json_str(ask, "content", NULL), TT_LLM_REASK_PREFIX) ||
            strcmp(tt_json_str(bad, "role", ""), "assistant"))
            break;
        json_array_remove(clean, n - 1);
        json_array_remove(clean, n - 2);
    }
    return clean;
}

/* Has the conversation been told its last answer failed the quality checks? */
static bool
s_has_feedback(const json_t *messages)
{
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        if (s_starts(tt_json_str(m, "content", NULL), TT_QUALITY_FEEDBACK_PREFIX))
            return true;
    }
    return false;
}

/* The turn answer with every action but DONE made to stutter. Takes content. */
static char *
s_poor_turn(char *content)
{
    json_t *ans = json_loads(content, 0, NULL);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(ans, "actions"), i, a)
    {
        if (strcmp(tt_json_str(a, "type", ""), "DONE"))
            json_object_set_new(a, "content",
                                json_string("well well well well um um um um so so so so"));
    }
    if (!ans)
        return content;
    free(content);
    content = tt_json_compact(ans);
    json_decref(ans);
    return content;
}

bool
fakellm_chat_answer(const json_t *req, bool poor_first_turn, fakellm_chat_t *out, const char **why)
{
    memset(out, 0, sizeof *out);
    const json_t *messages = json_object_get(req, "messages");
    if (!json_is_array(messages) || !json_array_size(messages)) {
        *why = "'messages' must be a non-empty array";
        return false;
    }
    out->model = tt_json_str(req, "model", TT_OFFLINE_MODEL);
    json_t *rf = json_object_get(req, "response_format");
    const char *type = tt_json_str(rf, "type", "text");
    char name[128] = "";
    const char *schema_name = NULL;
    if (!strcmp(type, "json_schema")) {
        schema_name = tt_json_str(json_object_get(rf, "json_schema"), "name", NULL);
        out->structured = true;
    } else if (!strcmp(type, "json_object")) {
        schema_name = s_json_mode_name(messages, name, sizeof name) ? name : NULL;
        out->structured = true;
    }
    json_int_t seed = tt_json_int(req, "seed", 0);
    json_t *clean = s_clean_messages(messages);
    out->content = tt_offline_chat(clean, schema_name, (uint64_t)seed, NULL);
    if (poor_first_turn && schema_name && !strcmp(schema_name, "agent_turn") &&
        !s_has_feedback(clean))
        out->content = s_poor_turn(out->content);
    json_decref(clean);
    out->prompt_tokens = tt_tokens_messages(messages);
    out->completion_tokens = tt_tokens_estimate(out->content);
    return true;
}

char *
fakellm_chat_body(const char *model, const char *content, uint32_t prompt_tokens,
                  uint32_t completion_tokens, const uint8_t digest[32])
{
    char hex[17];
    tt_hex(digest, 8, hex);
    char *id = tt_asprintf("chatcmpl-fake-%s", hex);
    json_t *body = json_pack(
        "{s:s, s:s, s:I, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:i, s:i, s:i}}", "id", id, "object",
        "chat.completion", "created", (json_int_t)time(NULL), "model", model, "choices", "index", 0,
        "message", "role", "assistant", "content", content, "finish_reason", "stop", "usage",
        "prompt_tokens", (int)prompt_tokens, "completion_tokens", (int)completion_tokens,
        "total_tokens", (int)(prompt_tokens + completion_tokens));
    TT_ASSERT(body);
    char *text = tt_json_compact(body);
    json_decref(body);
    free(id);
    return text;
}

static json_t *
s_vector_json(const float *v, bool base64)
{
    if (base64) {
        char *b64 = tt_llm_vectors_encode(v, TT_OFFLINE_EMBED_DIM);
        json_t *s = json_string(b64);
        free(b64);
        return s;
    }
    json_t *a = json_array();
    for (int i = 0; i < TT_OFFLINE_EMBED_DIM; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

char *
fakellm_embed_body(const json_t *req, bool drop_last, uint32_t *n_vectors, uint32_t *tokens,
                   const char **why)
{
    json_t *input = json_object_get(req, "input");
    json_t *texts = json_is_string(input) ? json_pack("[O]", input) : json_incref(input);
    size_t i, n = json_array_size(texts);
    json_t *t;
    json_array_foreach(texts, i, t)
    {
        if (!json_is_string(t))
            n = 0;
    }
    if (!n) {
        json_decref(texts);
        *why = "'input' must be a string or a non-empty array of strings";
        return NULL;
    }
    bool base64 = !strcmp(tt_json_str(req, "encoding_format", "float"), "base64");
    json_t *data = json_array();
    *tokens = 0;
    for (i = 0; i < n; i++) {
        const char *text = json_string_value(json_array_get(texts, i));
        *tokens += tt_tokens_estimate(text);
        if (drop_last && i == n - 1)
            break;
        float v[TT_OFFLINE_EMBED_DIM];
        tt_offline_embed(text, v);
        json_array_append_new(data, json_pack("{s:s, s:i, s:o}", "object", "embedding", "index",
                                              (int)i, "embedding", s_vector_json(v, base64)));
    }
    *n_vectors = (uint32_t)json_array_size(data);
    json_t *body = json_pack("{s:s, s:o, s:s, s:{s:i, s:i}}", "object", "list", "data", data,
                             "model", tt_json_str(req, "model", TT_OFFLINE_MODEL), "usage",
                             "prompt_tokens", (int)*tokens, "total_tokens", (int)*tokens);
    TT_ASSERT(body);
    char *text = tt_json_compact(body);
    json_decref(body);
    json_decref(texts);
    return text;
}

char *
fakellm_error_body(const char *message, const char *type, const char *code)
{
    json_t *body = json_pack("{s:{s:s, s:s, s:o, s:o}}", "error", "message", message, "type", type,
                             "param", json_null(), "code", code ? json_string(code) : json_null());
    TT_ASSERT(body);
    char *text = tt_json_compact(body);
    json_decref(body);
    return text;
}
