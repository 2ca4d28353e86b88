/*  tt_repair -- pull one JSON value out of what a model wrote.
 *
 *  The repairs are the ones models actually need, each lossless:
 *    - a UTF-8 byte order mark before the text;
 *    - a Markdown code fence (```json ... ```), closed or not;
 *    - prose before or after the value (we take the first bracketed value that
 *      parses, trying later ones only when an earlier one does not);
 *    - trailing commas before '}' or ']';
 *    - raw control characters (line breaks, tabs) inside strings, which JSON
 *      forbids and local models emit; they are escaped.
 *  Everything else -- a value cut off by a token limit, a bracket that closes the
 *  wrong thing, a bad token -- is reported with a one-line reason written for
 *  the model (it is pasted into the re-ask), never guessed at.
 *
 *  The scanner copies the candidate into a capped buffer while it drops commas
 *  and escapes control characters, so jansson sees plain strict JSON and its
 *  own error text (with line and column) can be passed on when it still fails.
 */
#define _GNU_SOURCE /* memmem */
#include "tt_repair.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_mem.h"

/* Deeper nesting than this is not an answer any schema of ours asks for. */
#define S_MAX_DEPTH 128
/* Later candidates are tried only this many times (prose full of brackets). */
#define S_MAX_CANDIDATES 16

typedef enum {
    S_SCAN_OK,
    S_SCAN_TRUNCATED,
    S_SCAN_MISMATCH,
} s_scan_t;

typedef struct {
    const char *text; /* the region being scanned */
    size_t len;
    size_t end;   /* on S_SCAN_OK: index just past the closing bracket */
    tt_buf_t out; /* the cleaned candidate */
    char why[320];
} s_scanner_t;

/* Line and column (1-based) of offset off in text. */
static void
s_position(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Append c to the candidate, escaping it when it is a control character inside
 * a string. The cap is the input length times six, so this cannot fail. */
static void
s_put(s_scanner_t *s, char c, bool in_string)
{
    unsigned char u = (unsigned char)c;
    if (in_string && u < 0x20) {
        if (c == '\n')
            tt_buf_adds(&s->out, "\\n");
        else if (c == '\r')
            tt_buf_adds(&s->out, "\\r");
        else if (c == '\t')
            tt_buf_adds(&s->out, "\\t");
        else
            tt_buf_addf(&s->out, "\\u%04x", u);
        return;
    }
    tt_buf_add(&s->out, &c, 1);
}

/* True if the next non-space character after i closes a container. */
static bool
s_comma_is_trailing(const s_scanner_t *s, size_t i)
{
    for (size_t j = i + 1; j < s->len; j++) {
        char c = s->text[j];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        return c == '}' || c == ']';
    }
    return false;
}

static s_scan_t
s_truncated(s_scanner_t *s, bool in_string, int depth, char top)
{
    if (in_string)
        snprintf(s->why, sizeof s->why,
                 "the JSON ends inside a string, so the answer was cut off; write a shorter "
                 "answer that closes every string, object and array");
    else
        snprintf(s->why, sizeof s->why,
                 "the JSON ends before the %s closes (%d bracket%s still open), so the answer was "
                 "cut off; write a shorter answer that closes every object and array",
                 top == '{' ? "object" : "array", depth, depth == 1 ? "" : "s");
    return S_SCAN_TRUNCATED;
}

/* Scan the bracketed value starting at s->text[start]. */
static s_scan_t
s_scan(s_scanner_t *s, size_t start)
{
    char stack[S_MAX_DEPTH];
    int depth = 0;
    bool in_string = false, escaped = false;
    tt_buf_reset(&s->out);
    for (size_t i = start; i < s->len; i++) {
        char c = s->text[i];
        if (in_string) {
            s_put(s, c, true);
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            break;
        case '{':
        case '[':
            if (depth == S_MAX_DEPTH) {
                snprintf(s->why, sizeof s->why, "the JSON nests deeper than %d levels",
                         S_MAX_DEPTH);
                return S_SCAN_MISMATCH;
            }
            stack[depth++] = c == '{' ? '}' : ']';
            break;
        case '}':
        case ']':
            if (depth == 0 || stack[depth - 1] != c) {
                int line, col;
                s_position(s->text + start, i - start, &line, &col);
                snprintf(s->why, sizeof s->why,
                         "the '%c' at line %d, column %d of the JSON closes nothing that is open "
                         "there (expected '%c')",
                         c, line, col, depth ? stack[depth - 1] : ' ');
                return S_SCAN_MISMATCH;
            }
            depth--;
            break;
        case ',':
            if (s_comma_is_trailing(s, i))
                continue; /* drop it */
            break;
        default:
            break;
        }
        s_put(s, c, false);
        if (depth == 0) {
            s->end = i + 1;
            return S_SCAN_OK;
        }
    }
    return s_truncated(s, in_string, depth, s->text[start]);
}

/* Narrow text to the inside of the first code fence that holds a bracket. */
static void
s_unfence(const char **text, size_t *len)
{
    const char *t = *text, *end = t + *len;
    const char *open = memmem(t, *len, "```", 3);
    if (!open)
        return;
    const char *body = memchr(open, '\n', (size_t)(end - open));
    if (!body)
        return;
    body++;
    const char *close = memmem(body, (size_t)(end - body), "```", 3);
    const char *stop = close ? close : end;
    for (const char *p = body; p < stop; p++) {
        if (*p == '{' || *p == '[') {
            *text = body;
            *len = (size_t)(stop - body);
            return;
        }
    }
}

static json_t *
s_parse(s_scanner_t *s, char *why, size_t why_cap)
{
    json_error_t jerr;
    json_t *v = json_loadb(tt_buf_str(&s->out), s->out.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v)
        snprintf(why, why_cap, "the JSON is invalid at line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);
    return v;
}

json_t *
tt_repair_json(const char *text, size_t len, char **why)
{
    *why = NULL;
    if (!text)
        text = "";
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
        text += 3;
        len -= 3;
    }
    s_unfence(&text, &len);
    /* the common case: the model did as asked and it parses as it is */
    size_t lead = 0;
    while (lead < len &&
           (text[lead] == ' ' || text[lead] == '\n' || text[lead] == '\r' || text[lead] == '\t'))
        lead++;
    if (lead < len && (text[lead] == '{' || text[lead] == '[')) {
        json_t *plain = json_loadb(text + lead, len - lead, JSON_REJECT_DUPLICATES, NULL);
        if (plain)
            return plain;
    }

    s_scanner_t s = {.text = text, .len = len};
    tt_buf_init(&s.out, len * 6 + 16);
    char first_why[sizeof s.why] = "";
    json_t *found = NULL;
    int tried = 0;
    for (size_t i = 0; i < len && tried < S_MAX_CANDIDATES && !found; i++) {
        if (text[i] != '{' && text[i] != '[')
            continue;
        tried++;
        s_scan_t r = s_scan(&s, i);
        if (r == S_SCAN_OK) {
            found = s_parse(&s, s.why, sizeof s.why);
            i = s.end - 1; /* a failed candidate's insides are not candidates */
        }
        if (!found && !first_why[0])
            memcpy(first_why, s.why, sizeof first_why);
        if (r == S_SCAN_TRUNCATED)
            break; /* everything after is inside the cut-off value */
    }
    tt_buf_fini(&s.out);
    if (found)
        return found;
    if (!tried)
        *why = tt_strdup(len ? "the answer contains no JSON: expected an object starting with '{'"
                             : "the answer is empty: expected a JSON object");
    else
        *why = tt_strdup(first_why);
    return NULL;
}
