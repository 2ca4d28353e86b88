/*  tt_memory_write -- the writes: claim, wipe, rollback, and the step batch
 *  with its commit, alone or in a group (the slots of an agentd commit the
 *  turns that end together in one transaction: one commit, one writer lock
 *  and one write of the shared pages for all of them).
 *
 *  A batch is filled in RAM while the agent acts (copies of everything) and
 *  applied by tt_memory_commit() in one write transaction, through
 *  tt_memory_impl_write(), which retries the whole batch if the map fills.
 *  The apply function decides in order: fencing (the stored owner must be the
 *  committer), no step older than the committed last_step (a replayed or
 *  stale step must not land twice), key sizes; only then does it write. seq
 *  numbers continue from the largest one already stored for the step, so two
 *  commits of one step append rather than overwrite.
 *
 *  Rollback is a range delete from (to_step + 1, 0) in the step-keyed
 *  databases; documents are not step-keyed and stay. A wipe deletes the
 *  agent's whole range (its owner stays); other agents of the store, and the
 *  store's own keys, are not touched.
 */
#define TT_LOG_MODULE "memory"
#include "tt_memory_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tt_log.h"
#include "tt_mem.h"

#define TT_MEMORY_SEQ_MAX     (UINT32_MAX - 1) /* (step, UINT32_MAX) is a search bound */
#define TT_MEMORY_BATCH_FIRST 8

typedef enum {
    TT_MEMORY_ENTRY_EPISODE,
    TT_MEMORY_ENTRY_SEMANTIC,
    TT_MEMORY_ENTRY_DOCUMENT,
    TT_MEMORY_ENTRY_META,
} tt_memory_entry_kind_t;

typedef struct {
    tt_memory_entry_kind_t kind;
    uint32_t chunk; /* documents */
    uint32_t dim;   /* semantic, documents */
    char *name;     /* documents: document name; meta: key */
    char *text;     /* item JSON, chunk text or meta value */
    float *vec;
} tt_memory_entry_t;

struct tt_memory_batch {
    uint32_t step;
    char *state; /* cognitive state JSON, or NULL */
    tt_memory_entry_t *entries;
    size_t n_entries;
    size_t alloc;
    size_t n_semantic; /* of the entries */
};

/* ------------------------------------------------ claim, wipe, rollback */

static int
s_put_last_step(tt_memory_t *m, MDB_txn *txn, uint32_t step)
{
    uint8_t buf[4];
    tt_memory_impl_be32_put(buf, step);
    MDB_val key = tt_memory_impl_text_val(TT_MEMORY_META_LAST_STEP);
    return tt_memory_impl_put(m, txn, TT_MEMORY_DB_META, &key, buf, sizeof buf);
}

typedef struct {
    const char *owner;
    uint32_t last_step; /* as the claim found it */
} s_claim_t;

static int
s_apply_claim(tt_memory_t *m, MDB_txn *txn, void *ctx, tt_err_t *refused)
{
    (void)refused;
    s_claim_t *c = ctx;
    MDB_val key = tt_memory_impl_text_val(TT_MEMORY_META_OWNER);
    int rc = tt_memory_impl_last_step(m, txn, &c->last_step);
    return rc == MDB_SUCCESS
               ? tt_memory_impl_put(m, txn, TT_MEMORY_DB_META, &key, c->owner, strlen(c->owner))
               : rc;
}

tt_err_t
tt_memory_claim(tt_memory_t *m, const char *owner)
{
    TT_ASSERT(m && owner);
    s_claim_t c = {owner, 0};
    tt_err_t err = tt_memory_impl_write(m, s_apply_claim, &c, "claim");
    if (err == TT_OK) {
        /* a fenced-off writer may have committed since the open */
        m->last_step = c.last_step;
        m->n_semantic = TT_MEMORY_UNCOUNTED;
    }
    return err;
}

/* Delete every key of m's agent >= from (its whole range if from_len is 0). */
static int
s_delete_from(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, const void *from, size_t from_len)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, m->s->dbi[db], &cur);
    if (rc != MDB_SUCCESS)
        return rc;
    MDB_val key = {from_len, (void *)from}, val;
    rc = tt_memory_impl_cget(m, cur, &key, &val, from_len ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == MDB_SUCCESS) {
        rc = mdb_cursor_del(cur, 0);
        if (rc == MDB_SUCCESS) /* the key after the deleted one */
            rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

static int
s_apply_wipe(tt_memory_t *m, MDB_txn *txn, void *ctx, tt_err_t *refused)
{
    (void)ctx;
    (void)refused;
    MDB_val key = tt_memory_impl_text_val(TT_MEMORY_META_OWNER), val;
    int rc = tt_memory_impl_get(m, txn, TT_MEMORY_DB_META, &key, &val);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        return rc;
    /* copied: the owner's page is freed by the deletes below */
    MDB_val owner = {rc == MDB_SUCCESS ? val.mv_size : 0, NULL};
    if (rc == MDB_SUCCESS)
        owner.mv_data = memcpy(tt_malloc(val.mv_size + 1), val.mv_data, val.mv_size);
    rc = MDB_SUCCESS;
    for (int i = 0; i < TT_MEMORY_DB_COUNT && rc == MDB_SUCCESS; i++)
        if (i != TT_MEMORY_DB_AGENTS) /* the store's, not the agent's */
            rc = s_delete_from(m, txn, (tt_memory_db_t)i, NULL, 0);
    if (rc == MDB_SUCCESS && owner.mv_data)
        rc = tt_memory_impl_put(m, txn, TT_MEMORY_DB_META, &key, owner.mv_data, owner.mv_size);
    free(owner.mv_data);
    return rc;
}

tt_err_t
tt_memory_wipe(tt_memory_t *m)
{
    TT_ASSERT(m);
    tt_err_t err = tt_memory_impl_write(m, s_apply_wipe, NULL, "wipe");
    if (err == TT_OK) {
        m->last_step = 0;
        m->n_semantic = 0;
    }
    return err;
}

static int
s_apply_rollback(tt_memory_t *m, MDB_txn *txn, void *ctx, tt_err_t *refused)
{
    uint32_t to_step = *(const uint32_t *)ctx;
    int rc = MDB_SUCCESS;
    if (to_step < UINT32_MAX) {
        uint8_t key[TT_MEMORY_STEP_KEY_LEN], state_key[TT_MEMORY_STATE_KEY_LEN];
        tt_memory_impl_step_key(key, to_step + 1, 0);
        tt_memory_impl_state_key(state_key, to_step + 1);
        rc = s_delete_from(m, txn, TT_MEMORY_DB_EPISODIC, key, sizeof key);
        if (rc == MDB_SUCCESS)
            rc = s_delete_from(m, txn, TT_MEMORY_DB_SEMANTIC, key, sizeof key);
        if (rc == MDB_SUCCESS)
            rc = s_delete_from(m, txn, TT_MEMORY_DB_STATE, state_key, sizeof state_key);
    }
    return rc == MDB_SUCCESS ? s_put_last_step(m, txn, to_step) : rc;
}

tt_err_t
tt_memory_rollback(tt_memory_t *m, uint32_t to_step)
{
    TT_ASSERT(m);
    tt_err_t err = tt_memory_impl_write(m, s_apply_rollback, &to_step, "rollback");
    if (err == TT_OK) {
        m->last_step = to_step;
        m->n_semantic = TT_MEMORY_UNCOUNTED;
    }
    return err;
}

/* ------------------------------------------------------------- the batch */

tt_memory_batch_t *
tt_memory_batch_new(uint32_t step)
{
    tt_memory_batch_t *b = tt_new(tt_memory_batch_t);
    b->step = step;
    return b;
}

void
tt_memory_batch_destroy(tt_memory_batch_t **self_p)
{
    TT_ASSERT(self_p);
    tt_memory_batch_t *b = *self_p;
    if (!b)
        return;
    for (size_t i = 0; i < b->n_entries; i++) {
        free(b->entries[i].name);
        free(b->entries[i].text);
        free(b->entries[i].vec);
    }
    free(b->entries);
    free(b->state);
    free(b);
    *self_p = NULL;
}

static tt_memory_entry_t *
s_batch_add(tt_memory_batch_t *b, tt_memory_entry_kind_t kind, const char *text)
{
    TT_ASSERT(b && text);
    if (b->n_entries == b->alloc) {
        b->alloc = b->alloc ? b->alloc * 2 : TT_MEMORY_BATCH_FIRST;
        b->entries = tt_realloc(b->entries, b->alloc * sizeof *b->entries);
    }
    tt_memory_entry_t *e = &b->entries[b->n_entries++];
    *e = (tt_memory_entry_t){.kind = kind, .text = tt_strdup(text)};
    return e;
}

static float *
s_vec_copy(const float *vec, uint32_t dim)
{
    TT_ASSERT(vec || dim == 0);
    return dim ? memcpy(tt_malloc(dim * sizeof(float)), vec, dim * sizeof(float)) : NULL;
}

void
tt_memory_batch_episode(tt_memory_batch_t *b, const char *item_json)
{
    s_batch_add(b, TT_MEMORY_ENTRY_EPISODE, item_json);
}

void
tt_memory_batch_semantic(tt_memory_batch_t *b, const char *item_json, const float *vec,
                         uint32_t dim)
{
    tt_memory_entry_t *e = s_batch_add(b, TT_MEMORY_ENTRY_SEMANTIC, item_json);
    e->vec = s_vec_copy(vec, dim);
    e->dim = dim;
    b->n_semantic++;
}

void
tt_memory_batch_document(tt_memory_batch_t *b, const char *name, uint32_t chunk, const char *text,
                         const float *vec, uint32_t dim)
{
    TT_ASSERT(name && *name);
    tt_memory_entry_t *e = s_batch_add(b, TT_MEMORY_ENTRY_DOCUMENT, text);
    e->name = tt_strdup(name);
    e->chunk = chunk;
    e->vec = s_vec_copy(vec, dim);
    e->dim = dim;
}

void
tt_memory_batch_state(tt_memory_batch_t *b, const char *cognitive_json)
{
    TT_ASSERT(b && cognitive_json);
    free(b->state);
    b->state = tt_strdup(cognitive_json);
}

void
tt_memory_batch_meta(tt_memory_batch_t *b, const char *key, const char *value)
{
    /* last_step and owner belong to commit and claim */
    TT_ASSERT(key && *key && strcmp(key, TT_MEMORY_META_LAST_STEP) != 0 &&
              strcmp(key, TT_MEMORY_META_OWNER) != 0 && strcmp(key, TT_MEMORY_META_FORMAT) != 0);
    tt_memory_entry_t *e = s_batch_add(b, TT_MEMORY_ENTRY_META, value);
    e->name = tt_strdup(key);
}

/* ---------------------------------------------------------------- commit */

typedef struct {
    const tt_memory_batch_t *batch;
    const char *owner;
    uint32_t seq[2]; /* next episodic and semantic seq of the batch's step */
} tt_memory_commit_t;

static int
s_check_owner(tt_memory_t *m, MDB_txn *txn, const char *owner, tt_err_t *refused)
{
    MDB_val key = tt_memory_impl_text_val(TT_MEMORY_META_OWNER), val = {0, ""};
    int rc = tt_memory_impl_get(m, txn, TT_MEMORY_DB_META, &key, &val);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        return rc;
    size_t len = strlen(owner);
    if (rc == MDB_SUCCESS && val.mv_size == len && memcmp(val.mv_data, owner, len) == 0)
        return MDB_SUCCESS;
    TT_LOG_WARN("%s: commit by %s fenced off: the owner is '%.*s'", tt_memory_impl_path(m), owner,
                (int)val.mv_size, (const char *)val.mv_data);
    *refused = TT_ESTALE;
    return MDB_SUCCESS;
}

/* The seq after the largest one stored for step (0 if none). */
static int
s_next_seq(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, uint32_t step, uint32_t *seq)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, m->s->dbi[db], &cur);
    if (rc != MDB_SUCCESS)
        return rc;
    uint8_t bound[TT_MEMORY_STEP_KEY_LEN];
    tt_memory_impl_step_key(bound, step, UINT32_MAX);
    MDB_val key = {sizeof bound, bound}, val;
    rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS)
        rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_LAST);
    *seq = 0;
    if (rc == MDB_SUCCESS && key.mv_size == TT_MEMORY_STEP_KEY_LEN &&
        tt_memory_impl_be32_get(key.mv_data) == step)
        *seq = tt_memory_impl_be32_get((const uint8_t *)key.mv_data + 4) + 1;
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

static int
s_put_vector(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, MDB_val *key,
             const tt_memory_entry_t *e)
{
    size_t vlen = (size_t)e->dim * sizeof(float), tlen = strlen(e->text);
    size_t len = TT_MEMORY_VEC_HDR_LEN + vlen + tlen;
    MDB_val k = *key;
    uint8_t *p;
    int rc = tt_memory_impl_reserve(m, txn, db, &k, len, &p);
    if (rc != MDB_SUCCESS)
        return rc;
    memcpy(p, &e->dim, TT_MEMORY_VEC_HDR_LEN);
    if (vlen)
        memcpy(p + TT_MEMORY_VEC_HDR_LEN, e->vec, vlen);
    memcpy(p + TT_MEMORY_VEC_HDR_LEN + vlen, e->text, tlen);
    tt_memory_impl_seal(db, key, p, len);
    return MDB_SUCCESS;
}

static int
s_put_entry(tt_memory_t *m, MDB_txn *txn, tt_memory_commit_t *c, const tt_memory_entry_t *e)
{
    uint8_t buf[TT_MEMORY_KEY_MAX];
    MDB_val key = {0, buf};
    size_t len = strlen(e->text);
    switch (e->kind) {
    case TT_MEMORY_ENTRY_EPISODE:
        tt_memory_impl_step_key(buf, c->batch->step, c->seq[0]++);
        key.mv_size = TT_MEMORY_STEP_KEY_LEN;
        return tt_memory_impl_put(m, txn, TT_MEMORY_DB_EPISODIC, &key, e->text, len);
    case TT_MEMORY_ENTRY_SEMANTIC:
        tt_memory_impl_step_key(buf, c->batch->step, c->seq[1]++);
        key.mv_size = TT_MEMORY_STEP_KEY_LEN;
        return s_put_vector(m, txn, TT_MEMORY_DB_SEMANTIC, &key, e);
    case TT_MEMORY_ENTRY_DOCUMENT:
        key.mv_size = strlen(e->name) + 1 + TT_MEMORY_CHUNK_LEN; /* checked by s_check_batch */
        memcpy(buf, e->name, key.mv_size - TT_MEMORY_CHUNK_LEN);
        tt_memory_impl_be32_put(buf + key.mv_size - TT_MEMORY_CHUNK_LEN, e->chunk);
        return s_put_vector(m, txn, TT_MEMORY_DB_DOCS, &key, e);
    case TT_MEMORY_ENTRY_META:
        key = tt_memory_impl_text_val(e->name);
        return tt_memory_impl_put(m, txn, TT_MEMORY_DB_META, &key, e->text, len);
    }
    return EINVAL;
}

/* Refusals decided before anything is written: an old step, oversize keys, a
 * step whose seq numbers ran out. */
static int
s_check_batch(tt_memory_t *m, MDB_txn *txn, tt_memory_commit_t *c, tt_err_t *refused)
{
    const tt_memory_batch_t *b = c->batch;
    uint32_t last;
    int rc = tt_memory_impl_last_step(m, txn, &last);
    if (rc != MDB_SUCCESS)
        return rc;
    if (b->step < last) {
        TT_LOG_WARN("%s: commit of step %u refused: step %u is committed", tt_memory_impl_path(m),
                    b->step, last);
        *refused = TT_ESTALE;
        return MDB_SUCCESS;
    }
    size_t n[2] = {0, b->n_semantic};
    size_t key_max = (size_t)mdb_env_get_maxkeysize(m->s->env) - TT_MEMORY_ID_LEN;
    for (size_t i = 0; i < b->n_entries; i++) {
        const tt_memory_entry_t *e = &b->entries[i];
        n[0] += e->kind == TT_MEMORY_ENTRY_EPISODE;
        if (e->name && strlen(e->name) + 1 + TT_MEMORY_CHUNK_LEN > key_max)
            *refused = TT_ETOOBIG;
    }
    rc = n[0] ? s_next_seq(m, txn, TT_MEMORY_DB_EPISODIC, b->step, &c->seq[0]) : rc;
    if (rc == MDB_SUCCESS && n[1])
        rc = s_next_seq(m, txn, TT_MEMORY_DB_SEMANTIC, b->step, &c->seq[1]);
    if (n[0] > TT_MEMORY_SEQ_MAX - c->seq[0] || n[1] > TT_MEMORY_SEQ_MAX - c->seq[1])
        *refused = TT_ETOOBIG;
    if (*refused != TT_OK)
        TT_LOG_WARN("%s: commit of step %u refused: %s", tt_memory_impl_path(m), b->step,
                    tt_strerror(*refused));
    return rc;
}

static int
s_apply_batch(tt_memory_t *m, MDB_txn *txn, void *ctx, tt_err_t *refused)
{
    tt_memory_commit_t *c = ctx;
    const tt_memory_batch_t *b = c->batch;
    c->seq[0] = c->seq[1] = 0;
    int rc = c->owner ? s_check_owner(m, txn, c->owner, refused) : MDB_SUCCESS;
    if (rc == MDB_SUCCESS && *refused == TT_OK)
        rc = s_check_batch(m, txn, c, refused);
    for (size_t i = 0; rc == MDB_SUCCESS && *refused == TT_OK && i < b->n_entries; i++)
        rc = s_put_entry(m, txn, c, &b->entries[i]);
    if (rc != MDB_SUCCESS || *refused != TT_OK)
        return rc;
    if (b->state) {
        uint8_t buf[TT_MEMORY_STATE_KEY_LEN];
        tt_memory_impl_state_key(buf, b->step);
        MDB_val key = {sizeof buf, buf};
        rc = tt_memory_impl_put(m, txn, TT_MEMORY_DB_STATE, &key, b->state, strlen(b->state));
    }
    return rc == MDB_SUCCESS ? s_put_last_step(m, txn, b->step) : rc;
}

/* The handle's caches after b landed. */
static void
s_landed(tt_memory_t *m, const tt_memory_batch_t *b)
{
    m->last_step = b->step;
    if (m->n_semantic != TT_MEMORY_UNCOUNTED)
        m->n_semantic += b->n_semantic; /* each under a new key: seq numbers only grow */
}

/* A damaged memory takes no commit: a step computed from it must not land.
 * Destroys the batch and says so; TT_OK for a sound memory. */
static tt_err_t
s_refuse_damaged(tt_memory_t *m, tt_memory_batch_t **b)
{
    if (!m->damaged)
        return TT_OK;
    TT_LOG_ERROR("%s: commit of step %u refused: the memory is damaged", tt_memory_impl_path(m),
                 (*b)->step);
    tt_memory_batch_destroy(b);
    return m->damaged;
}

tt_err_t
tt_memory_commit(tt_memory_t *m, tt_memory_batch_t **b, const char *owner)
{
    TT_ASSERT(m && b && *b);
    tt_err_t err = s_refuse_damaged(m, b);
    if (err)
        return err;
    tt_memory_commit_t c = {.batch = *b, .owner = owner};
    err = tt_memory_impl_write(m, s_apply_batch, &c, "commit");
    if (err == TT_OK)
        s_landed(m, *b);
    tt_memory_batch_destroy(b);
    return err;
}

typedef struct {
    tt_memory_t **ms;
    tt_memory_batch_t **bs;
    const char **owners;
    tt_err_t *errs;
    size_t n;
} s_group_t;

/* Every batch still there, in order; a refused one writes nothing (the checks
 * come before the writes), so it is left out and the others go on. */
static int
s_apply_group(tt_memory_t *store_self, MDB_txn *txn, void *ctx, tt_err_t *refused)
{
    (void)store_self;
    (void)refused;
    s_group_t *g = ctx;
    for (size_t i = 0; i < g->n; i++) {
        if (!g->bs[i])
            continue;
        tt_memory_commit_t c = {.batch = g->bs[i], .owner = g->owners[i]};
        g->errs[i] = TT_OK;
        int rc = s_apply_batch(g->ms[i], txn, &c, &g->errs[i]);
        if (rc != MDB_SUCCESS)
            return rc;
    }
    return MDB_SUCCESS;
}

void
tt_memory_commit_all(tt_memory_t **ms, tt_memory_batch_t **bs, const char **owners, size_t n,
                     tt_err_t *errs)
{
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        TT_ASSERT(ms[i] && bs[i] && ms[i]->s == ms[0]->s);
        errs[i] = s_refuse_damaged(ms[i], &bs[i]);
        live += bs[i] != NULL;
    }
    if (live > 1) {
        s_group_t g = {ms, bs, owners, errs, n};
        tt_err_t err = tt_memory_impl_write(ms[0]->s->self, s_apply_group, &g, "commit");
        if (err == TT_OK) {
            for (size_t i = 0; i < n; i++) {
                if (bs[i] && errs[i] == TT_OK)
                    s_landed(ms[i], bs[i]);
                tt_memory_batch_destroy(&bs[i]);
            }
            return;
        }
        TT_LOG_WARN("%s: a group commit of %zu steps failed (%s): committing them one by one",
                    tt_memory_impl_path(ms[0]), live, tt_strerror(err));
    }
    /* one batch, or the group's transaction failed as a whole (nothing of it
     * landed): each alone, so that each agent gets its own outcome */
    for (size_t i = 0; i < n; i++)
        if (bs[i])
            errs[i] = tt_memory_commit(ms[i], &bs[i], owners[i]);
}
