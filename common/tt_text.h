/*  tt_text -- small text utilities shared by the offline model and the agent's
 *  faculties: content words (lower-cased, stop words and conversational filler
 *  removed) and how much of one text's content another covers.
 */
#ifndef TT_TEXT_H
#define TT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define TT_TEXT_WORD_MAX 32

/* Up to max distinct content words of text, in order of appearance, skipping
 * words in skip (a NULL-terminated list, may be NULL). Returns the count. */
size_t tt_text_keywords(const char *text, const char *const *skip, char (*out)[TT_TEXT_WORD_MAX],
                        size_t max);
/* Fraction of the n keywords that occur as words in text, in [0, 1]. */
double tt_text_coverage(const char (*keywords)[TT_TEXT_WORD_MAX], size_t n, const char *text);
/* Is word (lower case) a stop word or filler? */
bool tt_text_stopword(const char *word);

#endif
