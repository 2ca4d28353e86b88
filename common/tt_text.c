/*  tt_text -- content words and coverage. */
#include "tt_text.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Function words, and the filler the offline model itself says, so agents that
 * quote each other do not end up talking about "good point". */
static const char *s_stop[] = {
    "about", "after", "also", "and", "are", "back", "been", "before", "brought", "comes", "coming",
    "could", "does", "down", "each", "else", "everyone", "experience", "for", "forget", "from",
    "good", "have", "here", "honestly", "interesting", "into", "just", "keep", "like", "last",
    "matters", "more", "most", "much", "please", "point", "really", "recall", "remember", "said",
    "says", "should", "some", "something", "start", "taught", "talk", "tell", "than", "that",
    "their", "there", "they", "thing", "things", "think", "thinking", "this", "those", "very",
    "view", "want", "wants", "well", "were", "what", "when", "where", "which", "will", "with",
    "work", "would", "your", "you", "the",
    /* requests rather than topics */
    "write", "written", "report", "read", "document", "documents", "consult", "schedule", NULL};

bool
tt_text_stopword(const char *word)
{
    for (size_t i = 0; s_stop[i]; i++)
        if (!strcmp(word, s_stop[i]))
            return true;
    return false;
}

static bool
s_in(const char *word, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        if (!strcasecmp(word, list[i]))
            return true;
    return false;
}

/* Next word of at least 4 bytes; returns its length or 0 at the end. */
static size_t
s_next_word(const char **p, char *word)
{
    for (;;) {
        while (**p && !(isalnum((unsigned char)**p) || (unsigned char)**p >= 0x80))
            (*p)++;
        if (!**p)
            return 0;
        const char *start = *p;
        while (**p && (isalnum((unsigned char)**p) || (unsigned char)**p >= 0x80 || **p == '-'))
            (*p)++;
        size_t n = (size_t)(*p - start);
        if (n < 4 || n >= TT_TEXT_WORD_MAX)
            continue;
        for (size_t i = 0; i < n; i++)
            word[i] = (char)tolower((unsigned char)start[i]);
        word[n] = '\0';
        return n;
    }
}

size_t
tt_text_keywords(const char *text, const char *const *skip, char (*out)[TT_TEXT_WORD_MAX],
                 size_t max)
{
    size_t count = 0;
    char word[TT_TEXT_WORD_MAX];
    const char *p = text ? text : "";
    while (count < max && s_next_word(&p, word)) {
        if (tt_text_stopword(word) || s_in(word, skip))
            continue;
        bool dup = false;
        for (size_t i = 0; i < count && !dup; i++)
            dup = !strcmp(out[i], word);
        if (!dup)
            memcpy(out[count++], word, strlen(word) + 1);
    }
    return count;
}

double
tt_text_coverage(const char (*keywords)[TT_TEXT_WORD_MAX], size_t n, const char *text)
{
    if (n == 0)
        return 0;
    bool found[64] = {false};
    size_t hits = 0;
    char word[TT_TEXT_WORD_MAX];
    const char *p = text ? text : "";
    while (s_next_word(&p, word))
        for (size_t i = 0; i < n && i < 64; i++)
            if (!found[i] && !strcmp(word, keywords[i])) {
                found[i] = true;
                hits++;
            }
    return (double)hits / (double)(n < 64 ? n : 64);
}
