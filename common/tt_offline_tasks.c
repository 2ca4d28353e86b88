/*  tt_offline_tasks -- the offline model's answers to the world's questions:
 *  judging a proposition about what happened (interventions, sessions), and
 *  the calls a session's client makes for itself (llm.ask): validating a
 *  person against expectations, telling a story, rewriting a text.
 *
 *  The judge is lexical: a proposition holds when most of its content words
 *  occur in the account of what happened. Crude, deterministic, and labelled.
 */
#include <jansson.h>
#include <string.h>

#include "tt_json.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_text.h"

char *tt_offline_proposition(const json_t *messages, uint64_t seed);
char *tt_offline_proposition_score(const json_t *messages, uint64_t seed);
char *tt_offline_validation(const json_t *messages, uint64_t seed);
char *tt_offline_rewrite(const char *task, const json_t *messages, uint64_t seed);

const char *
tt_offline_last_user(const json_t *messages)
{
    const char *user = "";
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        if (!strcmp(tt_json_str(m, "role", ""), "user"))
            user = tt_json_str(m, "content", "");
    }
    return user;
}

/* "CLAIM\n\nACCOUNT" (a proposition's claim may start "Proposition:"): how
 * much of the claim's content words (at most max_words) occur in the
 * account, 0..1. */
static double
s_cover(const json_t *messages, size_t max_words)
{
    const char *user = tt_offline_last_user(messages);
    const char *nl = strstr(user, "\n\n");
    char *claim = nl ? tt_strndup(user, (size_t)(nl - user)) : tt_strdup(user);
    const char *account = nl ? nl + 2 : "";
    const char *text = strncmp(claim, "Proposition:", 12) ? claim : claim + 12;
    char words[24][TT_TEXT_WORD_MAX];
    size_t n = tt_text_keywords(text, NULL, words, max_words < 24 ? max_words : 24);
    double cover =
        n && nl ? tt_text_coverage((const char(*)[TT_TEXT_WORD_MAX])words, n, account) : 0;
    free(claim);
    return cover;
}

char *
tt_offline_proposition(const json_t *messages, uint64_t seed)
{
    (void)seed;
    bool value = s_cover(messages, 16) >= 0.5;
    json_t *ans = json_pack("{s:b, s:s}", "value", value, "justification",
                            value ? "most of what the proposition says appears in what happened"
                                  : "what happened does not mention most of the proposition");
    char *out = tt_json_compact(ans);
    json_decref(ans);
    return out;
}

/* The same measure on TinyTroupe's 0..9 scale. */
char *
tt_offline_proposition_score(const json_t *messages, uint64_t seed)
{
    (void)seed;
    int score = (int)(s_cover(messages, 16) * 9.0 + 0.5);
    json_t *ans = json_pack("{s:i, s:s}", "value", score, "justification",
                            "the share of what the proposition says that appears in what "
                            "happened");
    char *out = tt_json_compact(ans);
    json_decref(ans);
    return out;
}

/* "Expectations: ...\n\n<what the person is and said>": the share of the
 * expectations' content words found in the rest, as TinyTroupe's
 * validator's 0..1 score. */
char *
tt_offline_validation(const json_t *messages, uint64_t seed)
{
    (void)seed;
    double cover = s_cover(messages, 24);
    json_t *ans = json_pack("{s:f, s:s}", "score", (double)(int)(cover * 100.0 + 0.5) / 100.0,
                            "justification",
                            cover >= 0.5 ? "most of what was expected shows in the person"
                                         : "much of what was expected does not show in the "
                                           "person");
    char *out = tt_json_compact(ans);
    json_decref(ans);
    return out;
}

/* story, enrich, style, normalize: the text given, labelled, so a pipeline
 * runs end to end; a stand-in has no style of its own. */
char *
tt_offline_rewrite(const char *task, const json_t *messages, uint64_t seed)
{
    (void)seed;
    const char *user = tt_offline_last_user(messages);
    char words[8][TT_TEXT_WORD_MAX];
    size_t n = tt_text_keywords(user, NULL, words, 8);
    if (!strcmp(task, "story")) {
        char *out = tt_asprintf("(offline model) And so the story went on: %s%s%s%s%s.",
                                n > 0 ? words[0] : "the people", n > 1 ? ", " : "",
                                n > 1 ? words[1] : "", n > 2 ? " and " : "", n > 2 ? words[2] : "");
        return out;
    }
    return tt_asprintf("(offline model, %s) %s", task, user);
}
