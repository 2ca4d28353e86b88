/*  tt_json -- positioned JSON documents, canonical dumps, typed getters.
 *
 *  The locator is a tiny JSON scanner: it skips values it does not need and
 *  descends into the ones the path names, counting lines and columns as it goes.
 *  It trusts nothing: it stops at the end of the text whatever it finds.
 */
#include "tt_json.h"

#include <ctype.h>
#include <pthread.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_file.h"
#include "tt_hash.h"
#include "tt_mem.h"

struct tt_jdoc {
    char *name;
    char *text;
    size_t len;
    json_t *root;
};

tt_err_t
tt_jdoc_load_file(const char *path, tt_jdoc_t **out, char **errmsg)
{
    tt_buf_t buf;
    tt_buf_init(&buf, TT_JSON_FILE_CAP);
    char *why = NULL;
    tt_err_t err = tt_read_file(path, &buf, &why);
    if (err)
        *errmsg = tt_asprintf("%s:1:1: %s", path, why);
    free(why);
    if (!err)
        err = tt_jdoc_load_text(path, tt_buf_str(&buf), buf.len, out, errmsg);
    tt_buf_fini(&buf);
    return err;
}

tt_err_t
tt_jdoc_load_text(const char *name, const char *text, size_t len, tt_jdoc_t **out, char **errmsg)
{
    *out = NULL;
    if (len > TT_JSON_FILE_CAP) {
        *errmsg = tt_asprintf("%s:1:1: document larger than %zu bytes", name, TT_JSON_FILE_CAP);
        return TT_ETOOBIG;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        int line = jerr.line > 0 ? jerr.line : 1;
        int col = jerr.column > 0 ? jerr.column : 1;
        /* jansson says "unable to decode byte 0xc3 near ..." for invalid UTF-8 */
        const char *byte = strstr(jerr.text, "unable to decode byte ");
        if (byte)
            *errmsg = tt_asprintf("%s:%d:%d: invalid UTF-8 (byte %.4s)", name, line, col,
                                  byte + strlen("unable to decode byte "));
        else
            *errmsg = tt_asprintf("%s:%d:%d: %s", name, line, col, jerr.text);
        return TT_EINVAL;
    }
    tt_jdoc_t *doc = tt_new(tt_jdoc_t);
    doc->name = tt_strdup(name);
    doc->text = tt_strndup(text, len);
    doc->len = len;
    doc->root = root;
    *out = doc;
    return TT_OK;
}

void
tt_jdoc_destroy(tt_jdoc_t **self_p)
{
    tt_jdoc_t *doc = *self_p;
    if (!doc)
        return;
    json_decref(doc->root);
    free(doc->name);
    free(doc->text);
    free(doc);
    *self_p = NULL;
}

json_t *
tt_jdoc_root(const tt_jdoc_t *doc)
{
    return doc->root;
}

const char *
tt_jdoc_name(const tt_jdoc_t *doc)
{
    return doc->name;
}

const char *
tt_jdoc_text(const tt_jdoc_t *doc)
{
    return doc->text;
}

char *
tt_jdoc_errorf(const tt_jdoc_t *doc, const char *path, const char *fmt, ...)
{
    int line = 1, col = 1;
    tt_json_locate(doc->text, doc->len, path, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    tt_buf_t buf;
    tt_buf_init(&buf, 0);
    tt_buf_addf(&buf, "%s:%d:%d: ", doc->name, line, col);
    if (path && *path)
        tt_buf_addf(&buf, "%s: ", path);
    tt_buf_vaddf(&buf, fmt, ap);
    va_end(ap);
    return tt_buf_take(&buf);
}

/* ------------------------------------------------------------------ locator */

typedef struct {
    const char *p;
    const char *end;
    int line;
    int col;
    bool track; /* count lines and columns (error messages), or just move (extraction) */
} s_scan_t;

static void
s_adv(s_scan_t *s)
{
    if (s->p >= s->end)
        return;
    if (!s->track) {
        s->p++;
        return;
    }
    if (*s->p == '\n') {
        s->line++;
        s->col = 1;
    } else if (((unsigned char)*s->p & 0xC0) != 0x80) {
        s->col++;
    }
    s->p++;
}

static void
s_ws(s_scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s_adv(s);
}

/* Scan a string starting at '"'; copy up to cap-1 raw bytes of it into out. */
static bool
s_string(s_scan_t *s, char *out, size_t cap)
{
    size_t n = 0;
    if (s->p >= s->end || *s->p != '"')
        return false;
    s_adv(s);
    if (!s->track && !out) {
        /* skipping a string we do not need: no per-byte bookkeeping */
        const char *p = s->p;
        while (p < s->end && *p != '"')
            p += *p == '\\' ? 2 : 1;
        if (p >= s->end)
            return false;
        s->p = p + 1;
        return true;
    }
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\') {
            s_adv(s);
            if (s->p >= s->end)
                return false;
        }
        if (out && n + 1 < cap)
            out[n++] = *s->p;
        s_adv(s);
    }
    if (out)
        out[n] = '\0';
    if (s->p >= s->end)
        return false;
    s_adv(s);
    return true;
}

static bool
s_skip_value(s_scan_t *s, int depth)
{
    s_ws(s);
    if (s->p >= s->end || depth > 512)
        return false;
    char c = *s->p;
    if (c == '"')
        return s_string(s, NULL, 0);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        s_adv(s);
        s_ws(s);
        if (s->p < s->end && *s->p == close) {
            s_adv(s);
            return true;
        }
        for (;;) {
            if (c == '{') {
                s_ws(s);
                if (!s_string(s, NULL, 0))
                    return false;
                s_ws(s);
                if (s->p >= s->end || *s->p != ':')
                    return false;
                s_adv(s);
            }
            if (!s_skip_value(s, depth + 1))
                return false;
            s_ws(s);
            if (s->p >= s->end)
                return false;
            if (*s->p == ',') {
                s_adv(s);
                continue;
            }
            if (*s->p == close) {
                s_adv(s);
                return true;
            }
            return false;
        }
    }
    const char *start = s->p;
    while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
        s_adv(s);
    return s->p > start; /* a scalar is at least one byte: callers loop on progress */
}

/* Next path component: key (into key) or index (into *index). */
static const char *
s_next_component(const char *path, char *key, size_t cap, long *index)
{
    *index = -1;
    key[0] = '\0';
    if (*path == '.')
        path++;
    if (*path == '[') {
        char *end;
        *index = strtol(path + 1, &end, 10);
        if (*end != ']')
            return NULL;
        return end + 1;
    }
    size_t n = 0;
    while (*path && *path != '.' && *path != '[') {
        if (n + 1 < cap)
            key[n++] = *path;
        path++;
    }
    key[n] = '\0';
    return path;
}

static bool s_locate(s_scan_t *s, const char *path, int *line, int *col);

bool
tt_json_locate(const char *text, size_t len, const char *path, int *line, int *col)
{
    s_scan_t s = {text, text + len, 1, 1, true};
    return s_locate(&s, path, line, col);
}

json_t *
tt_json_extract(const char *text, size_t len, const char *path)
{
    s_scan_t s = {text, text + len, 1, 1, false};
    int line, col;
    if (!s_locate(&s, path, &line, &col))
        return NULL;
    return json_loadb(s.p, (size_t)(s.end - s.p), JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, NULL);
}

static bool
s_locate(s_scan_t *sp, const char *path, int *line, int *col)
{
    s_scan_t s = *sp;
    s_ws(&s);
    *line = s.line;
    *col = s.col;
    const char *rest = path ? path : "";
    char key[256], got[256];
    while (*rest) {
        long index;
        rest = s_next_component(rest, key, sizeof key, &index);
        if (!rest)
            return false;
        s_ws(&s);
        if (s.p >= s.end)
            return false;
        bool found = false;
        if (index >= 0 && *s.p == '[') {
            s_adv(&s);
            for (long i = 0;; i++) {
                s_ws(&s);
                if (s.p >= s.end || *s.p == ']')
                    break;
                if (i == index) {
                    found = true;
                    break;
                }
                if (!s_skip_value(&s, 0))
                    return false;
                s_ws(&s);
                if (s.p < s.end && *s.p == ',')
                    s_adv(&s);
            }
        } else if (index < 0 && *s.p == '{') {
            s_adv(&s);
            for (;;) {
                s_ws(&s);
                if (s.p >= s.end || *s.p != '"')
                    break;
                if (!s_string(&s, got, sizeof got))
                    return false;
                s_ws(&s);
                if (s.p >= s.end || *s.p != ':')
                    return false;
                s_adv(&s);
                s_ws(&s);
                if (strcmp(got, key) == 0) {
                    found = true;
                    break;
                }
                if (!s_skip_value(&s, 0))
                    return false;
                s_ws(&s);
                if (s.p < s.end && *s.p == ',')
                    s_adv(&s);
            }
        }
        if (!found)
            return false;
        s_ws(&s);
        *line = s.line;
        *col = s.col;
    }
    *sp = s;
    return true;
}

/* ------------------------------------------------------------------ dumps, getters */

/* ------------------------------------------------------------------ canonical */

/* Compact and canonical JSON, written by hand because they are on the path of
 * every model call (the request digest) and every memory item: jansson's dumper
 * escapes strings one character at a time; this copies runs of plain bytes at
 * once. The bytes are those of jansson's json_dumps with JSON_COMPACT |
 * JSON_ENCODE_ANY | JSON_REAL_PRECISION(17), and JSON_SORT_KEYS when sorted. */
/* Does any of these 8 bytes need escaping (below 0x20, '"' or '\\')? Bytes
 * of multi-byte UTF-8 characters (0x80 and up) never do. A borrow can flag a
 * byte above a true hit, which only sends that word down the slow path. */
static inline bool
s_word_needs_escape(uint64_t w)
{
    return tt_word_has_below(w, 0x20) || tt_word_has_byte(w, '"') || tt_word_has_byte(w, '\\');
}

static void
s_canon_string(tt_buf_t *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF"; /* jansson writes \u001F */
    tt_buf_add(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        /* most text needs no escaping: skip it a word at a time */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (s_word_needs_escape(w))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        tt_buf_add(b, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        tt_buf_add(b, esc, n);
    }
    tt_buf_add(b, s + run, len - run);
    tt_buf_add(b, "\"", 1);
}

/* Long strings recur: an agent's system prompt is the same ~6 KB in every
 * request it digests. Remember the escaped form of a few, per thread, and
 * reuse it when the bytes are the same (checked with memcmp, which is far
 * cheaper than escaping; a hit is never a guess). */
#define S_MEMO_SLOTS 8
#define S_MEMO_MIN   2048

typedef struct {
    char *raw;
    size_t len;
    char *escaped;
    size_t escaped_len;
} s_memo_t;

/* Per thread, and freed when the thread ends (a pthread key's destructor). */
static pthread_key_t s_memo_key;
static pthread_once_t s_memo_once = PTHREAD_ONCE_INIT;

static void
s_memo_free(void *p)
{
    s_memo_t *memo = p;
    for (size_t i = 0; i < S_MEMO_SLOTS; i++) {
        free(memo[i].raw);
        free(memo[i].escaped);
    }
    free(memo);
}

static void
s_memo_key_create(void)
{
    TT_ASSERT(pthread_key_create(&s_memo_key, s_memo_free) == 0);
}

static s_memo_t *
s_memo_table(void)
{
    pthread_once(&s_memo_once, s_memo_key_create);
    s_memo_t *memo = pthread_getspecific(s_memo_key);
    if (!memo) {
        memo = tt_calloc(S_MEMO_SLOTS, sizeof *memo);
        pthread_setspecific(s_memo_key, memo);
    }
    return memo;
}

static void
s_canon_long_string(tt_buf_t *b, const char *s, size_t len)
{
    /* slot by the tail: prompts share their opening rules, not their persona */
    s_memo_t *m = &s_memo_table()[tt_fnv1a(s + len - 64, 64, len) % S_MEMO_SLOTS];
    if (m->raw && m->len == len && memcmp(m->raw, s, len) == 0) {
        tt_buf_add(b, m->escaped, m->escaped_len);
        return;
    }
    size_t start = b->len;
    s_canon_string(b, s, len);
    free(m->raw);
    free(m->escaped);
    m->raw = tt_malloc(len);
    memcpy(m->raw, s, len);
    m->len = len;
    m->escaped_len = b->len - start;
    m->escaped = tt_malloc(m->escaped_len);
    memcpy(m->escaped, b->data + start, m->escaped_len);
}

static int
s_key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
s_write(tt_buf_t *b, const json_t *v, bool sorted)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char *stack[32];
        const char **keys = n <= 32 ? stack : tt_malloc(n * sizeof *keys);
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item) keys[i++] = key;
        if (sorted)
            qsort(keys, n, sizeof *keys, s_key_cmp);
        tt_buf_add(b, "{", 1);
        for (i = 0; i < n; i++) {
            if (i)
                tt_buf_add(b, ",", 1);
            s_canon_string(b, keys[i], strlen(keys[i]));
            tt_buf_add(b, ":", 1);
            s_write(b, json_object_get(v, keys[i]), sorted);
        }
        tt_buf_add(b, "}", 1);
        if (keys != stack)
            free(keys);
        break;
    }
    case JSON_ARRAY:
        tt_buf_add(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                tt_buf_add(b, ",", 1);
            s_write(b, json_array_get(v, i), sorted);
        }
        tt_buf_add(b, "]", 1);
        break;
    case JSON_STRING:
        if (json_string_length(v) >= S_MEMO_MIN)
            s_canon_long_string(b, json_string_value(v), json_string_length(v));
        else
            s_canon_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        tt_buf_adds(b, num);
        break;
    case JSON_REAL:
        /* as jansson: %.17g, and a real always shows it is one */
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        if (!strpbrk(num, ".eE") && strcmp(num, "inf") && strcmp(num, "nan"))
            strcat(num, ".0");
        char *e = strchr(num, 'e');
        if (e) {
            /* "1e+300" -> "1e300", "1e-05" -> "1e-5" */
            char *d = e + 1, *p = e + 1;
            if (*p == '+')
                p++;
            else if (*p == '-')
                *d++ = *p++;
            while (*p == '0' && p[1])
                p++;
            memmove(d, p, strlen(p) + 1);
        }
        tt_buf_adds(b, num);
        break;
    case JSON_TRUE:
        tt_buf_add(b, "true", 4);
        break;
    case JSON_FALSE:
        tt_buf_add(b, "false", 5);
        break;
    case JSON_NULL:
        tt_buf_add(b, "null", 4);
        break;
    }
}

/* The digest walk: small pieces gather in a block, long strings go straight
 * to the hash. */
typedef struct {
    tt_sha256_t sha;
    size_t used;
    unsigned char block[4096];
} s_digest_t;

static void
s_digest_flush(s_digest_t *d)
{
    if (d->used)
        tt_sha256_update(&d->sha, d->block, d->used);
    d->used = 0;
}

static void
s_digest_add(s_digest_t *d, const void *data, size_t len)
{
    if (len > sizeof d->block / 4) {
        s_digest_flush(d);
        tt_sha256_update(&d->sha, data, len);
        return;
    }
    if (d->used + len > sizeof d->block)
        s_digest_flush(d);
    memcpy(d->block + d->used, data, len);
    d->used += len;
}

/* A tag byte and a length, little-endian. */
static void
s_digest_head(s_digest_t *d, char tag, uint64_t n)
{
    unsigned char head[9] = {(unsigned char)tag};
    for (int i = 0; i < 8; i++)
        head[1 + i] = (unsigned char)(n >> (8 * i));
    s_digest_add(d, head, sizeof head);
}

static void
s_digest_string(s_digest_t *d, char tag, const char *s, size_t len)
{
    s_digest_head(d, tag, len);
    s_digest_add(d, s, len);
}

static void
s_digest_value(s_digest_t *d, const json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char *stack[32];
        const char **keys = n <= 32 ? stack : tt_malloc(n * sizeof *keys);
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item) keys[i++] = key;
        qsort(keys, n, sizeof *keys, s_key_cmp);
        s_digest_head(d, 'o', n);
        for (i = 0; i < n; i++) {
            s_digest_string(d, 'k', keys[i], strlen(keys[i]));
            s_digest_value(d, json_object_get(v, keys[i]));
        }
        if (keys != stack)
            free(keys);
        break;
    }
    case JSON_ARRAY:
        s_digest_head(d, 'a', json_array_size(v));
        for (size_t i = 0; i < json_array_size(v); i++)
            s_digest_value(d, json_array_get(v, i));
        break;
    case JSON_STRING:
        s_digest_string(d, 's', json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        s_digest_head(d, 'i', (uint64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        s_digest_string(d, 'r', num, strlen(num));
        break;
    case JSON_TRUE:
        s_digest_head(d, 't', 0);
        break;
    case JSON_FALSE:
        s_digest_head(d, 'f', 0);
        break;
    case JSON_NULL:
        s_digest_head(d, 'n', 0);
        break;
    }
}

void
tt_json_digest(const json_t *value, const char *domain, uint8_t out[32])
{
    s_digest_t d; /* the block is filled before it is read: no zeroing */
    d.used = 0;
    tt_sha256_init(&d.sha);
    s_digest_string(&d, 'd', domain, strlen(domain));
    s_digest_value(&d, value);
    s_digest_flush(&d);
    tt_sha256_final(&d.sha, out);
}

void
tt_json_canonical_into(const json_t *value, tt_buf_t *out)
{
    s_write(out, value, true);
}

char *
tt_json_canonical(const json_t *value)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    s_write(&b, value, true);
    return tt_buf_take(&b);
}

void
tt_json_compact_into(const json_t *value, tt_buf_t *out)
{
    s_write(out, value, false); /* jansson's JSON_COMPACT bytes, in insertion order */
}

char *
tt_json_compact(const json_t *value)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    tt_json_compact_into(value, &b);
    return tt_buf_take(&b);
}

const char *
tt_json_str(const json_t *obj, const char *key, const char *dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

json_int_t
tt_json_int(const json_t *obj, const char *key, json_int_t dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

bool
tt_json_bool(const json_t *obj, const char *key, bool dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

json_t *
tt_json_get_path(const json_t *root, const char *path)
{
    const json_t *cur = root;
    char key[256];
    while (cur && *path) {
        size_t n = 0;
        while (*path && *path != '.') {
            if (n + 1 < sizeof key)
                key[n++] = *path;
            path++;
        }
        key[n] = '\0';
        if (*path == '.')
            path++;
        cur = json_object_get(cur, key);
    }
    return (json_t *)cur;
}

json_t *
tt_json_at(const json_t *root, const char *path)
{
    const json_t *cur = root;
    char key[256];
    while (cur && path && *path) {
        long index;
        path = s_next_component(path, key, sizeof key, &index);
        if (!path)
            return NULL;
        cur = index >= 0 ? json_array_get(cur, (size_t)index) : json_object_get(cur, key);
    }
    return (json_t *)cur;
}

size_t
tt_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

bool
tt_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        /* most text is ASCII without NULs: skip it a word at a time */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if ((w & 0x8080808080808080ull) != 0 || tt_word_has_below(w, 1))
                break;
            p += 8;
        }
        if (p == end)
            break;
        unsigned c = *p;
        size_t n;
        unsigned min;
        if (c == 0)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            min = 0x80;
            c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            min = 0x800;
            c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= n)
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            c = (c << 6) | (p[i] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}
