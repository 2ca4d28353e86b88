/*  tt_json -- jansson helpers: documents that know where their values are,
 *  canonical bytes for hashing, and small typed getters.
 *
 *  jansson reports line:column for syntax errors but keeps no positions for
 *  values. A tt_jdoc_t keeps the source text, and tt_jdoc_errorf() finds the
 *  value at a path ("agents[2].count") by re-scanning that text, so a loader can
 *  say `file:line:col: what is wrong` about a wrong type or a missing field too.
 */
#ifndef TT_JSON_H
#define TT_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tt_buf.h"
#include "tt_err.h"
#include "tt_limits.h"

typedef struct tt_jdoc tt_jdoc_t;

/* Largest JSON file a loader accepts (scenario, persona, population). */
#define TT_JSON_FILE_CAP TT_LIMIT_JSON_FILE

/* Load and parse a file. On failure returns TT_EINVAL/TT_ENOTFOUND/TT_ETOOBIG
 * and sets *errmsg to "path:line:col: message" (caller frees). Duplicate keys
 * and invalid UTF-8 are errors. */
tt_err_t tt_jdoc_load_file(const char *path, tt_jdoc_t **out, char **errmsg);
/* Same, from memory; name is used in messages. Copies text. */
tt_err_t tt_jdoc_load_text(const char *name, const char *text, size_t len, tt_jdoc_t **out,
                           char **errmsg);
void tt_jdoc_destroy(tt_jdoc_t **self_p);
/* The parsed root; borrowed for the life of the document. */
json_t *tt_jdoc_root(const tt_jdoc_t *doc);
const char *tt_jdoc_name(const tt_jdoc_t *doc);
const char *tt_jdoc_text(const tt_jdoc_t *doc);

/* "name:line:col: <path>: <message>", where line:col is the start of the value at
 * path, or of the nearest enclosing value that exists (for a missing key: its
 * object). path uses dots and [i]: "world.step", "agents[0]". "" is the root.
 * Caller frees. */
char *tt_jdoc_errorf(const tt_jdoc_t *doc, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Find the 1-based line and column of the value at path in JSON text. Returns
 * false if the path does not lead to a value (line/col then point at the deepest
 * value that was found). */
bool tt_json_locate(const char *text, size_t len, const char *path, int *line, int *col);

/* Parse only the value at path in JSON text (a scan, then a small parse): for
 * reading a few fields out of a large document cheaply. NULL if absent or
 * malformed. New reference. */
json_t *tt_json_extract(const char *text, size_t len, const char *path);

/* Canonical bytes: compact, keys sorted, reals with 17 significant digits. The
 * same value always gives the same bytes, whatever order it was built in.
 * Caller frees. */
char *tt_json_canonical(const json_t *value);
/* The same bytes appended to out (reuse one buffer on hot paths). */
void tt_json_canonical_into(const json_t *value, tt_buf_t *out);
/* SHA-256 of the value itself rather than of a text: every node is a type
 * tag, strings and containers carry their length, object members go in key
 * order, reals as their 17-digit text. Equal values give equal digests
 * whatever order they were built in; nothing is escaped or copied, so a 10 KB
 * prompt costs little more than hashing its bytes. */
void tt_json_digest(const json_t *value, const char *domain, uint8_t out[32]);
/* Compact dump in insertion order (for display and files). Caller frees. */
char *tt_json_compact(const json_t *value);
/* The same, appended to OUT (which may hold room reserved for it). */
void tt_json_compact_into(const json_t *value, tt_buf_t *out);

/* Typed getters: borrowed strings, defaults when absent or of another type. */
const char *tt_json_str(const json_t *obj, const char *key, const char *dflt);
json_int_t tt_json_int(const json_t *obj, const char *key, json_int_t dflt);
bool tt_json_bool(const json_t *obj, const char *key, bool dflt);

/* Follow a dot path ("occupation.title") through objects; borrowed or NULL. */
json_t *tt_json_get_path(const json_t *root, const char *path);

/* Follow a locator path ("agents[2].persona.name") through objects and arrays;
 * "" is root. Borrowed or NULL. */
json_t *tt_json_at(const json_t *root, const char *path);

/* Text scanned 8 bytes at a time (a word read with memcpy): whether any byte
 * of W is below N (N <= 0x80), and whether any byte of W is C. Exact about
 * "any"; which byte, they do not say. */
static inline bool
tt_word_has_below(uint64_t w, unsigned n)
{
    const uint64_t ones = 0x0101010101010101ull;
    return ((w - ones * n) & ~w & (ones * 0x80)) != 0;
}

static inline bool
tt_word_has_byte(uint64_t w, unsigned char c)
{
    return tt_word_has_below(w ^ (0x0101010101010101ull * c), 1);
}

/* True if s (len bytes) is valid UTF-8 without NUL bytes. */
bool tt_utf8_valid(const char *s, size_t len);
/* How many of the len bytes of s to keep to keep at most max, not splitting a
 * UTF-8 sequence: len if len <= max, else max or a little less. */
size_t tt_utf8_cut(const char *s, size_t len, size_t max);

#endif
