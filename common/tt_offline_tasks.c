/*  tt_offline_tasks -- the offline model's answers to the world's questions:
 *  judging a proposition about what happened (interventions).
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

/* How much of the claim's content words occur in the account, 0..1. */
static double
s_cover(const json_t *messages)
{
    const char *user = "";
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        if (!strcmp(tt_json_str(m, "role", ""), "user"))
            user = tt_json_str(m, "content", "");
    }
    /* "Proposition: ...\n\n<what happened>" */
    const char *nl = strstr(user, "\n\n");
    char *claim = nl ? tt_strndup(user, (size_t)(nl - user)) : tt_strdup(user);
    const char *account = nl ? nl + 2 : "";
    const char *text = strncmp(claim, "Proposition:", 12) ? claim : claim + 12;
    char words[16][TT_TEXT_WORD_MAX];
    size_t n = tt_text_keywords(text, NULL, words, 16);
    double cover = n ? tt_text_coverage((const char(*)[TT_TEXT_WORD_MAX])words, n, account) : 0;
    free(claim);
    return cover;
}

char *
tt_offline_proposition(const json_t *messages, uint64_t seed)
{
    (void)seed;
    bool value = s_cover(messages) >= 0.5;
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
    int score = (int)(s_cover(messages) * 9.0 + 0.5);
    json_t *ans = json_pack("{s:i, s:s}", "value", score, "justification",
                            "the share of what the proposition says that appears in what "
                            "happened");
    char *out = tt_json_compact(ans);
    json_decref(ans);
    return out;
}
