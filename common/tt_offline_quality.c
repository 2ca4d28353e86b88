/*  tt_offline_quality -- the offline model's answers to the action quality
 *  checks (tt_quality): the judge and the direct correction.
 *
 *  The judge is lexical, like the offline model's other judges: an action's
 *  score is how little its content repeats itself (distinct words over
 *  words, scaled to 0..9), the lowest over the actions, for every claim
 *  asked. A correction drops the repeated words. Crude, deterministic and
 *  enough to tell a stuttering action from a sentence.
 */
#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_quality.h"

char *tt_offline_action_quality(const json_t *messages, uint64_t seed);
char *tt_offline_action_correction(const json_t *messages, uint64_t seed);

#define S_MAX_WORDS 256
#define S_WORD_MAX  48

/* The JSON array after the "ACTIONS:" line. Caller owns (an empty array when
 * there is none). */
static json_t *
s_actions(const char *user)
{
    const char *p = strstr(user, "\nACTIONS:\n");
    json_t *list = p ? json_loads(p + strlen("\nACTIONS:\n"), JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    if (!json_is_array(list)) {
        json_decref(list);
        list = json_array();
    }
    return list;
}

/* Words of text, lower-cased, at most S_MAX_WORDS; calls fn(word, first)
 * where first says whether the word was not seen before. */
static void
s_words(const char *text, void (*fn)(const char *w, bool first, void *arg), void *arg)
{
    char seen[S_MAX_WORDS][S_WORD_MAX]; /* 12 KB: fine on any thread's stack */
    size_t n_seen = 0, n = 0;
    char w[S_WORD_MAX];
    for (const char *p = text;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c && (isalnum(c) || c >= 0x80 || c == '\'')) {
            if (n + 1 < sizeof w)
                w[n++] = (char)tolower(c);
            continue;
        }
        if (n) {
            w[n] = '\0';
            bool first = true;
            for (size_t i = 0; i < n_seen && first; i++)
                first = strcmp(seen[i], w) != 0;
            if (first && n_seen < S_MAX_WORDS)
                memcpy(seen[n_seen++], w, n + 1);
            fn(w, first, arg);
            n = 0;
        }
        if (!c)
            break;
    }
}

typedef struct {
    int words, distinct;
} s_count_t;

static void
s_count(const char *w, bool first, void *arg)
{
    (void)w;
    s_count_t *c = arg;
    c->words++;
    c->distinct += first;
}

static int
s_score(const char *text)
{
    s_count_t c = {0, 0};
    s_words(text, s_count, &c);
    if (c.words < 2)
        return TT_QUALITY_MAX_SCORE;
    return (int)((double)TT_QUALITY_MAX_SCORE * c.distinct / c.words + 0.5);
}

char *
tt_offline_action_quality(const json_t *messages, uint64_t seed)
{
    (void)seed;
    const char *user = tt_offline_last_user(messages);
    json_t *acts = s_actions(user);
    int score = TT_QUALITY_MAX_SCORE;
    size_t i;
    json_t *a;
    json_array_foreach(acts, i, a)
    {
        int s = s_score(tt_json_str(a, "content", ""));
        if (s < score)
            score = s;
    }
    json_decref(acts);
    const char *why = score >= 7   ? "The actions read as a person would put them."
                      : score >= 4 ? "The actions repeat some of their own words."
                                   : "The actions stutter: the same words again and again.";
    json_t *scores = json_array();
    /* one score per "- name: claim" line between CLAIMS: and the blank line */
    const char *p = strstr(user, "CLAIMS:\n");
    const char *end = p ? strstr(p, "\n\n") : NULL;
    while (p && end && (p = strstr(p, "\n- ")) != NULL && p < end) {
        p += 3;
        size_t n = strcspn(p, ":\n");
        if (p[n] != ':')
            break;
        char *name = tt_strndup(p, n);
        json_array_append_new(scores, json_pack("{s:s, s:i, s:s}", "check", name, "value", score,
                                                "justification", why));
        free(name);
    }
    json_t *ans = json_pack("{s:o}", "scores", scores);
    char *text = tt_json_compact(ans);
    json_decref(ans);
    return text;
}

static void
s_keep_first(const char *w, bool first, void *arg)
{
    tt_buf_t *b = arg;
    if (!first)
        return;
    if (b->len)
        tt_buf_adds(b, " ");
    tt_buf_adds(b, w);
}

char *
tt_offline_action_correction(const json_t *messages, uint64_t seed)
{
    (void)seed;
    json_t *acts = s_actions(tt_offline_last_user(messages));
    json_t *out = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(acts, i, a)
    {
        tt_buf_t b;
        tt_buf_init(&b, 0);
        s_words(tt_json_str(a, "content", ""), s_keep_first, &b);
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "type", tt_json_str(a, "type", ""),
                                             "content", tt_buf_str(&b), "target",
                                             tt_json_str(a, "target", "")));
        tt_buf_fini(&b);
    }
    json_decref(acts);
    json_t *ans = json_pack("{s:o}", "actions", out);
    char *text = tt_json_compact(ans);
    json_decref(ans);
    return text;
}
