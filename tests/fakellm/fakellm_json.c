/*  fakellm_json -- read a request body as jansson would, at a fraction of its cost.
 *
 *  jansson reads a 7 KB prompt in ~85 µs, one character at a time through a
 *  stream; that was a third of fakellm's CPU, spent on the cores it shares with
 *  the Troupe it is benchmarked against. cJSON reads the same body in ~10 µs,
 *  and its tree becomes the jansson one the rest of fakellm takes in ~15 µs
 *  more. Where cJSON is laxer or loses what jansson keeps, this file decides:
 *  - numbers: cJSON keeps a double, which cannot hold a 64-bit seed, and takes
 *    "01" or "1."; each number node is matched with its own text (the nodes
 *    come in the order of the text), which must be JSON's grammar, and is read
 *    as jansson reads it: an integer (refused beyond 64 bits) unless it has a
 *    fraction or an exponent;
 *  - control characters and "\u0000" (cJSON takes the one, cuts the string at
 *    the other) leave the body to jansson itself, which refuses both;
 *  - strings are checked for UTF-8 as jansson takes them, text after the value
 *    is refused, a repeated key keeps its last value.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fakellm_impl.h"
#include "tt_json.h"

typedef struct {
    const char *at, *end; /* where the next number is looked for */
} s_numbers_t;

static bool
s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Just past the closing quote of the string whose text starts at P (END if
 * none): a quote ends it unless an odd run of backslashes precedes it. */
static const char *
s_after_string(const char *p, const char *end)
{
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q)
            return end;
        size_t slashes = 0;
        while (q - slashes > p && q[-1 - (ptrdiff_t)slashes] == '\\')
            slashes++;
        if (slashes % 2 == 0)
            return q + 1;
        p = q + 1;
    }
}

/* The next number's text outside strings (as cJSON takes it: a run of
 * "0-9+-.eE"), its length in *len; NULL if there is none. */
static const char *
s_next_number(s_numbers_t *n, size_t *len)
{
    const char *p = n->at;
    while (p < n->end) {
        if (*p == '"') {
            p = s_after_string(p + 1, n->end);
        } else if (*p == '-' || s_is_digit(*p)) {
            const char *start = p;
            while (p < n->end && (s_is_digit(*p) || strchr("+-.eE", *p)))
                p++;
            n->at = p;
            *len = (size_t)(p - start);
            return start;
        } else {
            p++;
        }
    }
    return NULL;
}

/* Whether T (LEN bytes) is a JSON number; *real when it has a fraction or an
 * exponent. */
static bool
s_number_grammar(const char *t, size_t len, bool *real)
{
    const char *p = t, *end = t + len;
    if (p < end && *p == '-')
        p++;
    if (p == end || !s_is_digit(*p) || (*p == '0' && p + 1 < end && s_is_digit(p[1])))
        return false;
    while (p < end && s_is_digit(*p))
        p++;
    *real = p < end;
    if (p < end && *p == '.') {
        if (++p == end || !s_is_digit(*p))
            return false;
        while (p < end && s_is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !s_is_digit(*p))
            return false;
        while (p < end && s_is_digit(*p))
            p++;
    }
    return p == end;
}

static json_t *
s_number(const cJSON *node, s_numbers_t *numbers)
{
    size_t len = 0;
    const char *t = s_next_number(numbers, &len);
    bool real;
    if (!t || !s_number_grammar(t, len, &real))
        return NULL;
    if (real) /* and finite: jansson refuses an overflow */
        return isfinite(node->valuedouble) ? json_real(node->valuedouble) : NULL;
    char text[32];
    if (len >= sizeof text)
        return NULL; /* beyond 64 bits */
    memcpy(text, t, len);
    text[len] = '\0';
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    return errno ? NULL : json_integer((json_int_t)v);
}

/* The jansson value of NODE, or NULL where jansson would refuse it. */
static json_t *
s_convert(const cJSON *node, s_numbers_t *numbers)
{
    if (cJSON_IsObject(node) || cJSON_IsArray(node)) {
        bool object = cJSON_IsObject(node);
        json_t *out = object ? json_object() : json_array();
        for (const cJSON *k = node->child; k; k = k->next) {
            json_t *v = s_convert(k, numbers);
            if (!v || (object ? json_object_set_new(out, k->string, v)
                              : json_array_append_new(out, v)) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (cJSON_IsString(node)) {
        size_t len = strlen(node->valuestring);
        return tt_utf8_valid(node->valuestring, len) ? json_stringn_nocheck(node->valuestring, len)
                                                     : NULL;
    }
    if (cJSON_IsNumber(node))
        return s_number(node, numbers);
    if (cJSON_IsBool(node))
        return json_boolean(cJSON_IsTrue(node));
    return json_null();
}

static bool
s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether cJSON would read TEXT otherwise than jansson: a control character
 * (whitespace aside) or "\u0000" in it. Words with neither a byte below 0x20
 * nor a backslash are passed over whole. */
static bool
s_for_jansson(const char *text, size_t len)
{
    static const char nul[] = "\\u0000";
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, text + i, 8);
            if (!tt_word_has_below(w, 0x20) && !tt_word_has_byte(w, '\\')) {
                i += 8;
                continue;
            }
        }
        if ((unsigned char)text[i] < 0x20 && !s_is_space(text[i]))
            return true;
        if (text[i] == '\\' && len - i >= sizeof nul - 1 && !memcmp(text + i, nul, sizeof nul - 1))
            return true;
        i++;
    }
    return false;
}

json_t *
fakellm_json_parse(const char *text, size_t len)
{
    if (s_for_jansson(text, len))
        return json_loadb(text, len, 0, NULL);
    const char *end = NULL;
    cJSON *tree = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!tree)
        return NULL;
    json_t *out = NULL;
    while (end < text + len && s_is_space(*end))
        end++;
    if (end == text + len) {
        s_numbers_t numbers = {text, text + len};
        out = s_convert(tree, &numbers);
    }
    cJSON_Delete(tree);
    return out;
}
