/*  tt_offline -- dispatch by task, embeddings and token estimates.
 *
 *  The task generators live in tt_offline_agent.c (turns, consolidation) and
 *  tt_offline_tasks.c (the world's questions: propositions).
 */
#include "tt_offline.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "tt_hash.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_quality.h"

json_t *tt_offline_agent_turn(const json_t *messages, uint64_t seed);
json_t *tt_offline_consolidation(const json_t *messages, uint64_t seed);
char *tt_offline_proposition(const json_t *messages, uint64_t seed);
char *tt_offline_proposition_score(const json_t *messages, uint64_t seed);
char *tt_offline_validation(const json_t *messages, uint64_t seed);
char *tt_offline_rewrite(const char *task, const json_t *messages, uint64_t seed);
char *tt_offline_dimensions(const json_t *messages, uint64_t seed);
char *tt_offline_sample_plan(const json_t *messages, uint64_t seed);
char *tt_offline_person(const json_t *messages, uint64_t seed);
char *tt_offline_extraction(const json_t *messages, uint64_t seed);
char *tt_offline_action_quality(const json_t *messages, uint64_t seed);
char *tt_offline_action_correction(const json_t *messages, uint64_t seed);

char *
tt_offline_chat(const json_t *messages, const char *schema_name, uint64_t seed, json_t **value)
{
    const char *task = schema_name ? schema_name : "";
    json_t *answer = NULL;
    if (value)
        *value = NULL;
    if (!strcmp(task, "agent_turn"))
        answer = tt_offline_agent_turn(messages, seed);
    else if (!strcmp(task, "consolidation"))
        answer = tt_offline_consolidation(messages, seed);
    if (answer) {
        char *text = tt_json_compact(answer);
        if (value)
            *value = answer;
        else
            json_decref(answer);
        return text;
    }
    if (!strcmp(task, "proposition"))
        return tt_offline_proposition(messages, seed);
    if (!strcmp(task, "proposition_score"))
        return tt_offline_proposition_score(messages, seed);
    if (!strcmp(task, "validation"))
        return tt_offline_validation(messages, seed);
    if (!strcmp(task, "story") || !strcmp(task, "enrich") || !strcmp(task, "style") ||
        !strcmp(task, "normalize"))
        return tt_offline_rewrite(task, messages, seed);
    if (!strcmp(task, "dimensions"))
        return tt_offline_dimensions(messages, seed);
    if (!strcmp(task, "sample_plan"))
        return tt_offline_sample_plan(messages, seed);
    if (!strcmp(task, "person"))
        return tt_offline_person(messages, seed);
    if (!strcmp(task, "extraction"))
        return tt_offline_extraction(messages, seed);
    if (!strcmp(task, TT_QUALITY_JUDGE_SCHEMA))
        return tt_offline_action_quality(messages, seed);
    if (!strcmp(task, TT_QUALITY_CORRECT_SCHEMA))
        return tt_offline_action_correction(messages, seed);
    return tt_strdup("I am the offline model and have nothing to add.");
}

/* Lower-case words of at least 3 letters, fed to a callback. */
static void
s_words(const char *text, void (*fn)(const char *w, size_t n, void *arg), void *arg)
{
    char word[64];
    size_t n = 0;
    for (const char *p = text;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c && (isalnum(c) || c >= 0x80)) {
            if (n + 1 < sizeof word)
                word[n++] = (char)tolower(c);
            continue;
        }
        if (n >= 3)
            fn(word, n, arg);
        n = 0;
        if (!c)
            break;
    }
}

typedef struct {
    float *v;
    uint64_t prev;
    bool has_prev;
} s_embed_ctx_t;

static void
s_add_feature(float *v, uint64_t h, float weight)
{
    uint32_t i = (uint32_t)(h % TT_OFFLINE_EMBED_DIM);
    v[i] += (h >> 63) ? -weight : weight;
}

static void
s_embed_word(const char *w, size_t n, void *arg)
{
    s_embed_ctx_t *ctx = arg;
    uint64_t h = tt_fnv1a(w, n, 7);
    s_add_feature(ctx->v, h, 1.0f);
    /* a cheap stem: words sharing their first 5 letters share a feature */
    if (n > 5)
        s_add_feature(ctx->v, tt_fnv1a(w, 5, 11), 0.5f);
    if (ctx->has_prev)
        s_add_feature(ctx->v, h ^ (ctx->prev * 31), 0.5f);
    ctx->prev = h;
    ctx->has_prev = true;
}

void
tt_offline_embed(const char *text, float out[TT_OFFLINE_EMBED_DIM])
{
    memset(out, 0, sizeof(float) * TT_OFFLINE_EMBED_DIM);
    s_embed_ctx_t ctx = {out, 0, false};
    s_words(text ? text : "", s_embed_word, &ctx);
    double norm = 0;
    for (int i = 0; i < TT_OFFLINE_EMBED_DIM; i++)
        norm += (double)out[i] * out[i];
    if (norm <= 0) {
        out[0] = 1.0f;
        return;
    }
    float inv = (float)(1.0 / sqrt(norm));
    for (int i = 0; i < TT_OFFLINE_EMBED_DIM; i++)
        out[i] *= inv;
}

uint32_t
tt_tokens_estimate(const char *text)
{
    size_t n = text ? strlen(text) : 0;
    return (uint32_t)((n + 3) / 4);
}

uint32_t
tt_tokens_messages(const json_t *messages)
{
    uint32_t total = 3;
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        json_t *content = json_object_get(m, "content");
        total += 4 + (json_is_string(content) ? tt_tokens_estimate(json_string_value(content)) : 0);
    }
    return total;
}
