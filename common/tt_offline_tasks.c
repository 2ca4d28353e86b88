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

char *
tt_offline_proposition(const json_t *messages, uint64_t seed)
{
    (void)seed;
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
    double cover = tt_text_coverage((const char(*)[TT_TEXT_WORD_MAX])words, n, account);
    bool value = n > 0 && cover >= 0.5;
    json_t *ans = json_pack("{s:b, s:s}", "value", value, "justification",
                            value ? "most of what the proposition says appears in what happened"
                                  : "what happened does not mention most of the proposition");
    char *out = tt_json_compact(ans);
    json_decref(ans);
    free(claim);
    return out;
}
