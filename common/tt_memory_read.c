/*  tt_memory_read -- reads of an agent's memory: windows, state, search,
 *  documents, dump.
 *
 *  Every read runs in the handle's one read transaction (renewed, then reset)
 *  and copies what it returns before the reset, because an MDB_val points into
 *  the map and dies with its transaction. Each runs under the guard
 *  (tt_memory_impl_read, tt_memory_guard.c): a file cut under the map faults
 *  there and the read returns damage, so each keeps what it allocates in its
 *  context, where its caller can free it after a fault.
 *
 *  Search is brute force on purpose: an agent holds hundreds to a few thousand
 *  semantic items, and one pass over the map costs less than building and
 *  keeping an index per agent (10,000 agents share a process). The pass scores
 *  each vector in place (no copy, no allocation per item) and keeps a top-k
 *  array of pointers into the map; only the winners are copied, after the pass.
 *  Vectors may sit at any 2-byte offset in a page, so floats are loaded with
 *  memcpy (unaligned vector loads, UBSan-clean); the loop is shaped so that
 *  gcc -O2 vectorizes it (see s_cosine). Ties keep the older item, so
 *  the result is the same on every run.
 *
 *  The episode window (first N and last M) reads the entry count from the
 *  database record and walks a cursor from each end: O(N + M), whatever the
 *  history length.
 */
#define TT_LOG_MODULE "memory"
#include "tt_memory_impl.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_log.h"
#include "tt_mem.h"

#define TT_MEMORY_LANES 4 /* floats per vector register (SSE, NEON) */

typedef struct {
    float score;
    MDB_val key;
    const char *text;
    size_t text_len;
} tt_memory_cand_t;

/* A growing array of strings the caller will own. */
typedef struct {
    char **items;
    size_t n;
    size_t alloc;
} tt_memory_strv_t;

bool
tt_memory_impl_vec_split(const MDB_val *val, tt_memory_vec_t *vec)
{
    if (val->mv_size < TT_MEMORY_VEC_HDR_LEN)
        return false;
    memcpy(&vec->dim, val->mv_data, TT_MEMORY_VEC_HDR_LEN);
    size_t vlen = (size_t)vec->dim * sizeof(float);
    if (val->mv_size - TT_MEMORY_VEC_HDR_LEN < vlen)
        return false;
    vec->floats = (const uint8_t *)val->mv_data + TT_MEMORY_VEC_HDR_LEN;
    vec->text = (const char *)vec->floats + vlen;
    vec->text_len = val->mv_size - TT_MEMORY_VEC_HDR_LEN - vlen;
    return true;
}

static char *
s_copy(const MDB_val *val)
{
    return tt_strndup(val->mv_data, val->mv_size);
}

static void
s_strv_push(tt_memory_strv_t *v, char *item)
{
    if (v->n == v->alloc) {
        v->alloc = v->alloc ? v->alloc * 2 : 16;
        v->items = tt_realloc(v->items, v->alloc * sizeof *v->items);
    }
    v->items[v->n++] = item;
}

static void
s_strv_free(char **items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i]);
    free(items);
}

/* Hand the array over (or free it on error). */
static tt_err_t
s_strv_give(tt_memory_strv_t *v, tt_err_t err, char ***items, size_t *n_items)
{
    if (err != TT_OK) {
        s_strv_free(v->items, v->n);
        return err;
    }
    *items = v->items;
    *n_items = v->n;
    return TT_OK;
}

/* docs key of name (chunk 0) in buf; 0 if no key that long can exist */
static size_t
s_doc_key(const char *name, uint8_t buf[TT_MEMORY_KEY_MAX])
{
    size_t len = strlen(name) + 1;
    if (len + TT_MEMORY_CHUNK_LEN > TT_MEMORY_KEY_MAX)
        return 0;
    memcpy(buf, name, len);
    memset(buf + len, 0, TT_MEMORY_CHUNK_LEN);
    return len + TT_MEMORY_CHUNK_LEN;
}

/* Length of the name part of a docs key, 0 if the key is malformed. */
static size_t
s_doc_name_len(const MDB_val *key)
{
    if (key->mv_size <= 1 + TT_MEMORY_CHUNK_LEN)
        return 0;
    size_t len = key->mv_size - 1 - TT_MEMORY_CHUNK_LEN;
    return ((const char *)key->mv_data)[len] == '\0' ? len : 0;
}

/* ------------------------------------------------------------ small reads */

typedef struct {
    const char *key;
    char *value;
} s_meta_t;

static int
s_meta_get(tt_memory_t *m, MDB_txn *txn, void *ctx)
{
    s_meta_t *x = ctx;
    MDB_val k = {strlen(x->key), (void *)x->key}, v;
    int rc = tt_memory_impl_get(m, txn, TT_MEMORY_DB_META, &k, &v);
    if (rc == MDB_SUCCESS && strcmp(x->key, TT_MEMORY_META_LAST_STEP) == 0 && v.mv_size == 4)
        x->value = tt_asprintf("%u", tt_memory_impl_be32_get(v.mv_data));
    else if (rc == MDB_SUCCESS)
        x->value = s_copy(&v);
    return rc;
}

tt_err_t
tt_memory_meta_get(tt_memory_t *m, const char *key, char **value)
{
    TT_ASSERT(m && key && *key && value);
    s_meta_t x = {key, NULL};
    int rc = tt_memory_impl_read(m, s_meta_get, &x);
    *value = x.value;
    return tt_memory_impl_err(m, rc, "read meta");
}

typedef struct {
    tt_memory_db_t db;
    size_t n;
} s_count_t;

static int
s_count_read(tt_memory_t *m, MDB_txn *txn, void *ctx)
{
    s_count_t *x = ctx;
    MDB_cursor *cur;
    int rc = tt_memory_impl_cursor(m, txn, x->db, &cur);
    return rc == MDB_SUCCESS ? tt_memory_impl_count(m, cur, x->db, &x->n) : rc;
}

static tt_err_t
s_count(tt_memory_t *m, tt_memory_db_t db, size_t *n)
{
    s_count_t x = {db, 0};
    int rc = tt_memory_impl_read(m, s_count_read, &x);
    *n = x.n;
    return tt_memory_impl_err(m, rc, "count");
}

size_t
tt_memory_episode_count(tt_memory_t *m)
{
    TT_ASSERT(m);
    size_t n;
    return s_count(m, TT_MEMORY_DB_EPISODIC, &n) == TT_OK ? n : 0;
}

/* Asked at every turn (is there anything to retrieve?): counted once, then
 * kept by the writes (tt_memory_write.c), since in a shared store counting
 * is a seek into the host's whole tree and a walk over the agent's items. */
size_t
tt_memory_semantic_count(tt_memory_t *m)
{
    TT_ASSERT(m);
    size_t n;
    if (m->n_semantic == TT_MEMORY_UNCOUNTED && s_count(m, TT_MEMORY_DB_SEMANTIC, &n) == TT_OK)
        m->n_semantic = n;
    return m->n_semantic == TT_MEMORY_UNCOUNTED ? 0 : m->n_semantic; /* 0 when unreadable */
}

static int
s_state(tt_memory_t *m, MDB_txn *txn, void *ctx)
{
    char **json = ctx;
    MDB_cursor *cur;
    int rc = tt_memory_impl_cursor(m, txn, TT_MEMORY_DB_STATE, &cur);
    MDB_val k, v;
    if (rc == MDB_SUCCESS)
        rc = tt_memory_impl_cget(m, cur, &k, &v, MDB_LAST); /* "cog/" + BE step: last = newest */
    if (rc == MDB_SUCCESS)
        rc = tt_memory_impl_unseal(m, TT_MEMORY_DB_STATE, &k, &v);
    if (rc == MDB_SUCCESS)
        *json = s_copy(&v);
    return rc;
}

tt_err_t
tt_memory_state(tt_memory_t *m, char **cognitive_json)
{
    TT_ASSERT(m && cognitive_json);
    *cognitive_json = NULL;
    return tt_memory_impl_err(m, tt_memory_impl_read(m, s_state, cognitive_json), "read state");
}

/* ------------------------------------------------------------ episodes */

/* n values from the cursor, starting with op first then op next, into dst
 * (from the back if backwards). */
static int
s_collect(tt_memory_t *m, MDB_cursor *cur, MDB_cursor_op first, MDB_cursor_op next, char **dst,
          size_t n, bool backwards)
{
    MDB_val k, v;
    for (size_t i = 0; i < n; i++) {
        int rc = tt_memory_impl_cget(m, cur, &k, &v, i ? next : first);
        if (rc != MDB_SUCCESS)
            return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc; /* fewer than counted */
        if ((rc = tt_memory_impl_unseal(m, TT_MEMORY_DB_EPISODIC, &k, &v)) != MDB_SUCCESS)
            return rc;
        dst[backwards ? n - 1 - i : i] = s_copy(&v);
    }
    return MDB_SUCCESS;
}

typedef struct {
    size_t first_n, last_n;
    tt_memory_strv_t v; /* calloc'd whole, then filled */
} s_window_t;

static int
s_window(tt_memory_t *m, MDB_txn *txn, void *ctx)
{
    s_window_t *x = ctx;
    MDB_cursor *cur;
    size_t total = 0;
    int rc = tt_memory_impl_cursor(m, txn, TT_MEMORY_DB_EPISODIC, &cur);
    if (rc == MDB_SUCCESS)
        rc = tt_memory_impl_count(m, cur, TT_MEMORY_DB_EPISODIC, &total);
    if (rc != MDB_SUCCESS)
        return rc;
    size_t first_n = x->first_n < total ? x->first_n : total;
    size_t last_n = x->last_n < total - first_n ? x->last_n : total - first_n;
    x->v.n = x->v.alloc = first_n + last_n;
    x->v.items = x->v.n ? tt_calloc(x->v.n, sizeof *x->v.items) : NULL;
    rc = s_collect(m, cur, MDB_FIRST, MDB_NEXT, x->v.items, first_n, false);
    if (rc == MDB_SUCCESS)
        rc = s_collect(m, cur, MDB_LAST, MDB_PREV, x->v.items + first_n, last_n, true);
    return rc;
}

tt_err_t
tt_memory_episodes(tt_memory_t *m, size_t first_n, size_t last_n, char ***items, size_t *n_items)
{
    TT_ASSERT(m && items && n_items);
    *items = NULL;
    *n_items = 0;
    s_window_t x = {first_n, last_n, {0}};
    int rc = tt_memory_impl_read(m, s_window, &x);
    return s_strv_give(&x.v, tt_memory_impl_err(m, rc, "read episodes"), items, n_items);
}

typedef struct {
    uint32_t from_step;
    tt_memory_strv_t v;
} s_since_t;

static int
s_since(tt_memory_t *m, MDB_txn *txn, void *ctx)
{
    s_since_t *x = ctx;
    MDB_cursor *cur;
    int rc = tt_memory_impl_cursor(m, txn, TT_MEMORY_DB_EPISODIC, &cur);
    if (rc != MDB_SUCCESS)
        return rc;
    uint8_t from[TT_MEMORY_STEP_KEY_LEN];
    tt_memory_impl_step_key(from, x->from_step, 0);
    MDB_val k = {sizeof from, from}, val;
    for (rc = tt_memory_impl_cget(m, cur, &k, &val, MDB_SET_RANGE); rc == MDB_SUCCESS;
         rc = tt_memory_impl_cget(m, cur, &k, &val, MDB_NEXT)) {
        if ((rc = tt_memory_impl_unseal(m, TT_MEMORY_DB_EPISODIC, &k, &val)) != MDB_SUCCESS)
            return rc;
        s_strv_push(&x->v, s_copy(&val));
    }
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

tt_err_t
tt_memory_episodes_since(tt_memory_t *m, uint32_t from_step, char ***items, size_t *n_items)
{
    TT_ASSERT(m && items && n_items);
    *items = NULL;
    *n_items = 0;
    s_since_t x = {from_step, {0}};
    int rc = tt_memory_impl_read(m, s_since, &x);
    return s_strv_give(&x.v, tt_memory_impl_err(m, rc, "read episodes"), items, n_items);
}

/* ------------------------------------------------------------ search */

static float
s_cosine(const float *q, float q_norm, const uint8_t *v, uint32_t dim)
{
    /* Shaped for gcc -O2's vectorizer: two groups of four lanes, each loaded
     * by its own 16-byte memcpy (one unaligned vector load) and summed in its
     * own register, so the two chains of adds overlap. size_t indexes: with
     * a 32-bit i, i + j may wrap and q gets gathered float by float. */
    enum { L = TT_MEMORY_LANES };
    float dot[L] = {0}, sq[L] = {0}, dot2[L] = {0}, sq2[L] = {0};
    size_t i = 0;
    for (; i + 2 * L <= dim; i += 2 * L) {
        float a[L], b[L];
        memcpy(a, v + i * sizeof(float), sizeof a);
        memcpy(b, v + (i + L) * sizeof(float), sizeof b);
        for (size_t j = 0; j < L; j++) {
            dot[j] += q[i + j] * a[j];
            sq[j] += a[j] * a[j];
            dot2[j] += q[i + L + j] * b[j];
            sq2[j] += b[j] * b[j];
        }
    }
    for (; i < dim; i++) {
        float x;
        memcpy(&x, v + i * sizeof(float), sizeof x);
        dot[0] += q[i] * x;
        sq[0] += x * x;
    }
    float d = 0, s = 0;
    for (size_t j = 0; j < L; j++) {
        d += dot[j] + dot2[j];
        s += sq[j] + sq2[j];
    }
    return s > 0 && q_norm > 0 ? d / (q_norm * sqrtf(s)) : 0.0f;
}

/* Keep the k best, best first; on a tie the earlier (older) item stays ahead. */
static void
s_offer(tt_memory_cand_t *top, size_t *n, size_t k, float score, const MDB_val *key,
        const tt_memory_vec_t *vec)
{
    if (isnan(score) || (*n == k && !(score > top[k - 1].score)))
        return;
    size_t i = *n < k ? (*n)++ : k - 1;
    for (; i > 0 && top[i - 1].score < score; i--)
        top[i] = top[i - 1];
    top[i] = (tt_memory_cand_t){score, *key, vec->text, vec->text_len};
}

static int
s_scan(tt_memory_t *m, tt_memory_db_t db, MDB_cursor *cur, const float *q, uint32_t dim,
       tt_memory_cand_t *top, size_t k, size_t *n)
{
    float q_norm = 0;
    for (uint32_t i = 0; i < dim; i++)
        q_norm += q[i] * q[i];
    q_norm = sqrtf(q_norm);
    MDB_val key, val;
    tt_memory_vec_t vec;
    int rc;
    for (rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_FIRST); rc == MDB_SUCCESS;
         rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_NEXT)) {
        if ((rc = tt_memory_impl_unseal(m, db, &key, &val)) != MDB_SUCCESS)
            return rc;
        if (!tt_memory_impl_vec_split(&val, &vec))
            return TT_MEMORY_RC_BADSUM; /* sealed by us, yet not a vector */
        if (vec.dim != dim)
            continue;
        s_offer(top, n, k, s_cosine(q, q_norm, vec.floats, dim), &key, &vec);
    }
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

static void
s_hit_fill(tt_memory_hit_t *hit, const tt_memory_cand_t *c, bool docs)
{
    hit->score = c->score;
    hit->text = tt_strndup(c->text, c->text_len);
    hit->source = docs ? tt_strndup(c->key.mv_data, s_doc_name_len(&c->key)) : NULL;
    hit->step = !docs && c->key.mv_size == TT_MEMORY_STEP_KEY_LEN
                    ? tt_memory_impl_be32_get(c->key.mv_data)
                    : 0;
}

typedef struct {
    bool docs;
    const float *q;
    uint32_t dim;
    size_t top_k;
    tt_memory_cand_t *top;
    tt_memory_hit_t *hits;
    size_t filled; /* hits copied so far */
} s_search_t;

static int
s_search(tt_memory_t *m, MDB_txn *txn, void *ctx)
{
    s_search_t *x = ctx;
    MDB_cursor *cur;
    tt_memory_db_t db = x->docs ? TT_MEMORY_DB_DOCS : TT_MEMORY_DB_SEMANTIC;
    int rc = tt_memory_impl_cursor(m, txn, db, &cur);
    if (rc != MDB_SUCCESS)
        return rc;
    size_t n = 0;
    rc = s_scan(m, db, cur, x->q, x->dim, x->top, x->top_k, &n);
    for (; rc == MDB_SUCCESS && x->filled < n; x->filled++) /* copy before the reset */
        s_hit_fill(&x->hits[x->filled], &x->top[x->filled], x->docs);
    return rc;
}

tt_err_t
tt_memory_search(tt_memory_t *m, bool docs, const float *q, uint32_t dim, size_t top_k,
                 tt_memory_hit_t *hits, size_t *n_hits)
{
    TT_ASSERT(m && (q || dim == 0) && (hits || top_k == 0) && n_hits);
    *n_hits = 0;
    if (top_k == 0 || dim == 0)
        return TT_OK;
    s_search_t x = {docs, q, dim, top_k, tt_malloc(top_k * sizeof *x.top), hits, 0};
    int rc = tt_memory_impl_read(m, s_search, &x);
    free(x.top);
    if (rc == MDB_SUCCESS)
        *n_hits = x.filled;
    for (size_t i = 0; rc != MDB_SUCCESS && i < x.filled; i++)
        tt_memory_hit_fini(&hits[i]);
    return tt_memory_impl_err(m, rc, "search");
}

void
tt_memory_hit_fini(tt_memory_hit_t *hit)
{
    if (!hit)
        return;
    tt_free(&hit->text);
    tt_free(&hit->source);
}

/* ------------------------------------------------------------ documents */

/* Each name once: after a name's first chunk, jump past "name\1", before
 * which every "name\0<chunk>" key sorts. */
static int
s_doc_names(tt_memory_t *m, MDB_cursor *cur, tt_memory_strv_t *v)
{
    MDB_val key, val;
    int rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_FIRST);
    while (rc == MDB_SUCCESS) {
        size_t len = s_doc_name_len(&key);
        if (len == 0) {
            rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_NEXT);
            continue;
        }
        uint8_t next[TT_MEMORY_KEY_MAX]; /* len + 1 < the key's own size */
        memcpy(next, key.mv_data, len);
        next[len] = 1;
        s_strv_push(v, tt_strndup(key.mv_data, len));
        key = (MDB_val){len + 1, next};
        rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_SET_RANGE);
    }
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

static int
s_names(tt_memory_t *m, MDB_txn *txn, void *ctx)
{
    MDB_cursor *cur;
    int rc = tt_memory_impl_cursor(m, txn, TT_MEMORY_DB_DOCS, &cur);
    return rc == MDB_SUCCESS ? s_doc_names(m, cur, ctx) : rc;
}

tt_err_t
tt_memory_document_names(tt_memory_t *m, char ***names, size_t *n_names)
{
    TT_ASSERT(m && names && n_names);
    *names = NULL;
    *n_names = 0;
    tt_memory_strv_t v = {0};
    int rc = tt_memory_impl_read(m, s_names, &v);
    return s_strv_give(&v, tt_memory_impl_err(m, rc, "list documents"), names, n_names);
}

/* Position cur on chunk 0 (or the first chunk) of name; MDB_NOTFOUND if none. */
static int
s_doc_first(tt_memory_t *m, MDB_cursor *cur, const char *name, MDB_val *key, MDB_val *val)
{
    uint8_t buf[TT_MEMORY_KEY_MAX];
    size_t len = s_doc_key(name, buf);
    if (len == 0)
        return MDB_NOTFOUND;
    *key = (MDB_val){len, buf};
    int rc = tt_memory_impl_cget(m, cur, key, val, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS && (key->mv_size != len || memcmp(key->mv_data, buf, len - 4) != 0))
        rc = MDB_NOTFOUND;
    return rc;
}

static int
s_doc_concat(tt_memory_t *m, MDB_cursor *cur, const char *name, tt_buf_t *buf, tt_err_t *too_big)
{
    MDB_val key, val;
    size_t len = strlen(name) + 1 + TT_MEMORY_CHUNK_LEN;
    int rc = s_doc_first(m, cur, name, &key, &val);
    while (rc == MDB_SUCCESS) {
        tt_memory_vec_t vec;
        if ((rc = tt_memory_impl_unseal(m, TT_MEMORY_DB_DOCS, &key, &val)) != MDB_SUCCESS)
            return rc;
        if (!tt_memory_impl_vec_split(&val, &vec))
            return TT_MEMORY_RC_BADSUM;
        if ((*too_big = tt_buf_add(buf, vec.text, vec.text_len)) != TT_OK)
            return MDB_SUCCESS;
        rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_NEXT);
        if (rc == MDB_SUCCESS && (key.mv_size != len || memcmp(key.mv_data, name, len - 4) != 0))
            break;
    }
    return rc == MDB_NOTFOUND && buf->data ? MDB_SUCCESS : rc;
}

typedef struct {
    const char *name;
    tt_buf_t buf;
    tt_err_t too_big;
} s_doc_t;

static int
s_doc_text(tt_memory_t *m, MDB_txn *txn, void *ctx)
{
    s_doc_t *x = ctx;
    MDB_cursor *cur;
    int rc = tt_memory_impl_cursor(m, txn, TT_MEMORY_DB_DOCS, &cur);
    return rc == MDB_SUCCESS ? s_doc_concat(m, cur, x->name, &x->buf, &x->too_big) : rc;
}

tt_err_t
tt_memory_document_text(tt_memory_t *m, const char *name, char **text)
{
    TT_ASSERT(m && name && text);
    *text = NULL;
    s_doc_t x = {name, {0}, TT_OK};
    tt_buf_init(&x.buf, 0);
    int rc = tt_memory_impl_read(m, s_doc_text, &x);
    tt_err_t err = x.too_big != TT_OK ? x.too_big : tt_memory_impl_err(m, rc, "read document");
    if (err == TT_OK)
        *text = x.buf.data ? tt_buf_take(&x.buf) : tt_strdup("");
    tt_buf_fini(&x.buf);
    return err;
}

static int
s_doc_find(tt_memory_t *m, MDB_txn *txn, void *ctx)
{
    MDB_cursor *cur;
    MDB_val key, val;
    int rc = tt_memory_impl_cursor(m, txn, TT_MEMORY_DB_DOCS, &cur);
    return rc == MDB_SUCCESS ? s_doc_first(m, cur, ctx, &key, &val) : rc;
}

bool
tt_memory_has_document(tt_memory_t *m, const char *name)
{
    TT_ASSERT(m && name);
    int rc = tt_memory_impl_read(m, s_doc_find, (void *)name);
    return tt_memory_impl_err(m, rc, "find document") == TT_OK;
}

/* ------------------------------------------------------------ dump */

/* Stored JSON as a value; text that does not parse becomes a string (or null
 * if it is not even UTF-8), so the dump itself is always valid JSON. */
static json_t *
s_json_value(const char *data, size_t len)
{
    json_t *value = json_loadb(data, len, JSON_DECODE_ANY, NULL);
    if (!value)
        value = json_stringn(data, len);
    return value ? value : json_null();
}

static void
s_dump_step_key(json_t *line, const MDB_val *key, bool with_seq)
{
    if (key->mv_size != TT_MEMORY_STEP_KEY_LEN)
        return;
    const uint8_t *p = key->mv_data;
    json_object_set_new(line, "step", json_integer(tt_memory_impl_be32_get(p)));
    if (with_seq)
        json_object_set_new(line, "seq", json_integer(tt_memory_impl_be32_get(p + 4)));
}

static void
s_dump_vector(json_t *line, const MDB_val *val, bool as_json)
{
    tt_memory_vec_t vec;
    if (!tt_memory_impl_vec_split(val, &vec))
        return;
    json_object_set_new(line, "dim", json_integer(vec.dim));
    json_t *value =
        as_json ? s_json_value(vec.text, vec.text_len) : json_stringn(vec.text, vec.text_len);
    json_object_set_new(line, as_json ? "value" : "text", value ? value : json_null());
}

static json_t *
s_dump_line(tt_memory_db_t db, const MDB_val *key, const MDB_val *val)
{
    json_t *line = json_object();
    json_object_set_new(line, "db", json_string(tt_memory_impl_db_name(db)));
    switch (db) {
    case TT_MEMORY_DB_EPISODIC:
        s_dump_step_key(line, key, true);
        json_object_set_new(line, "value", s_json_value(val->mv_data, val->mv_size));
        break;
    case TT_MEMORY_DB_SEMANTIC:
        s_dump_step_key(line, key, true);
        s_dump_vector(line, val, true);
        break;
    case TT_MEMORY_DB_DOCS: {
        size_t len = s_doc_name_len(key);
        const uint8_t *p = key->mv_data;
        json_t *name = json_stringn(key->mv_data, len);
        json_object_set_new(line, "name", name ? name : json_null());
        json_object_set_new(line, "chunk", json_integer(tt_memory_impl_be32_get(p + len + 1)));
        s_dump_vector(line, val, false);
        break;
    }
    case TT_MEMORY_DB_STATE:
        if (key->mv_size == TT_MEMORY_STATE_KEY_LEN)
            json_object_set_new(
                line, "step",
                json_integer(tt_memory_impl_be32_get((const uint8_t *)key->mv_data + 4)));
        json_object_set_new(line, "value", s_json_value(val->mv_data, val->mv_size));
        break;
    default: {
        json_t *name = json_stringn(key->mv_data, key->mv_size);
        bool is_step = name && strcmp(json_string_value(name), TT_MEMORY_META_LAST_STEP) == 0;
        json_object_set_new(line, "key", name ? name : json_null());
        json_t *value = is_step && val->mv_size == 4
                            ? json_integer(tt_memory_impl_be32_get(val->mv_data))
                            : json_stringn(val->mv_data, val->mv_size);
        json_object_set_new(line, "value", value ? value : json_null());
        break;
    }
    }
    return line;
}

static int
s_dump_db(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, const char *agent, FILE *out)
{
    MDB_cursor *cur;
    MDB_val key, val;
    int rc = mdb_cursor_open(txn, m->s->dbi[db], &cur);
    if (rc != MDB_SUCCESS)
        return rc;
    for (rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_FIRST); rc == MDB_SUCCESS;
         rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_NEXT)) {
        if ((rc = tt_memory_impl_unseal(m, db, &key, &val)) != MDB_SUCCESS)
            break;
        json_t *line = s_dump_line(db, &key, &val);
        if (agent)
            json_object_set_new(line, "agent", json_string(agent));
        if (json_dumpf(line, out, JSON_COMPACT) != 0 || fputc('\n', out) == EOF)
            rc = EIO;
        json_decref(line);
        if (rc != MDB_SUCCESS)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

/* An agent's databases (not the store's agents database). */
static int
s_dump_agent(tt_memory_t *m, MDB_txn *txn, const char *agent, FILE *out)
{
    int rc = MDB_SUCCESS;
    for (int db = 0; db < TT_MEMORY_DB_COUNT && rc == MDB_SUCCESS; db++)
        if (db != TT_MEMORY_DB_AGENTS)
            rc = s_dump_db(m, txn, (tt_memory_db_t)db, agent, out);
    return rc;
}

tt_err_t
tt_memory_dump(tt_memory_t *m, FILE *out)
{
    TT_ASSERT(m && out);
    MDB_txn *txn;
    int rc = tt_memory_impl_read_begin(m, &txn);
    if (rc != MDB_SUCCESS)
        return tt_memory_impl_err(m, rc, "dump");
    rc = s_dump_agent(m, txn, NULL, out);
    tt_memory_impl_read_end(m);
    if (rc == MDB_SUCCESS && fflush(out) != 0)
        rc = EIO;
    return tt_memory_impl_err(m, rc, "dump");
}

/* Every named agent of the store, in the order of their names' hashes. */
static int
s_dump_named(tt_memory_t *self, MDB_txn *txn, FILE *out)
{
    MDB_cursor *cur;
    MDB_val key, val;
    int rc = mdb_cursor_open(txn, self->s->dbi[TT_MEMORY_DB_AGENTS], &cur);
    if (rc != MDB_SUCCESS)
        return rc;
    for (rc = tt_memory_impl_cget(self, cur, &key, &val, MDB_FIRST); rc == MDB_SUCCESS;
         rc = tt_memory_impl_cget(self, cur, &key, &val, MDB_NEXT)) {
        if ((rc = tt_memory_impl_unseal(self, TT_MEMORY_DB_AGENTS, &key, &val)) != MDB_SUCCESS)
            break;
        if (val.mv_size <= TT_MEMORY_ID_LEN) {
            rc = TT_MEMORY_RC_BADSUM;
            break;
        }
        tt_memory_t agent = {.s = self->s, .id = tt_memory_impl_be32_get(val.mv_data)};
        char *name = tt_strndup((const char *)val.mv_data + TT_MEMORY_ID_LEN,
                                val.mv_size - TT_MEMORY_ID_LEN);
        rc = s_dump_agent(&agent, txn, name, out);
        free(name);
        if (rc != MDB_SUCCESS)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

tt_err_t
tt_memory_store_dump(tt_memory_store_t *s, FILE *out)
{
    TT_ASSERT(s && out);
    tt_memory_t *self = s->self;
    MDB_txn *txn;
    int rc = tt_memory_impl_read_begin(self, &txn);
    if (rc != MDB_SUCCESS)
        return tt_memory_impl_err(self, rc, "dump");
    tt_memory_t private_agent = {.s = s, .id = TT_MEMORY_ID_PRIVATE};
    rc = s_dump_agent(&private_agent, txn, NULL, out);
    if (rc == MDB_SUCCESS)
        rc = s_dump_named(self, txn, out);
    tt_memory_impl_read_end(self);
    if (rc == MDB_SUCCESS && fflush(out) != 0)
        rc = EIO;
    return tt_memory_impl_err(self, rc, "dump");
}
