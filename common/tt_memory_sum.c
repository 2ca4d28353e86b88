/*  tt_memory_sum -- every stored value carries a checksum, and a memory read
 *  back from disk is verified whole before it is used.
 *
 *  Value layout (memory formats 2 and 3): [8-byte sum][payload]. The sum is
 *  libsodium's SipHash-2-4 (crypto_shorthash) of the payload, under a hash
 *  key that is itself the SipHash of the database's index and the value's
 *  key (without the agent's id, tt_memory_keys.c): so a flipped byte in a
 *  value, in its key, or a value that moved to another key or database,
 *  fails the check. It is there to catch accidents
 *  -- bit rot, a torn or misdirected write, a stray writer -- not forgery
 *  (the hash key is a constant): whoever can write data.mdb can write
 *  anything. SipHash rather than the log's CRC32C (tt_crc32c): that one goes
 *  a byte at a time, and a search reads every semantic vector; SipHash is
 *  several times faster there and has no streaming API to need.
 *
 *  Every read strips the checksum through tt_memory_impl_unseal(); a mismatch
 *  is TT_MEMORY_RC_BADSUM, which the edge translates into TT_ECORRUPT and
 *  records on the handle (tt_memory_damaged), after which no commit is taken.
 *
 *  tt_memory_impl_verify() is the open-time pass over a file that was already
 *  on disk (a restart, a resume): the named databases must be exactly ours,
 *  the format key current, every key well formed, every checksum right, every
 *  count as recorded, every free-list page inside the file. It runs under the
 *  guard (tt_memory_guard.c), so page damage that makes LMDB assert or fault
 *  is a damaged memory, not a dead agentd.
 */
#define TT_LOG_MODULE "memory"
#include "tt_memory_impl.h"

#include <sodium.h>

#include "tt_log.h"

/* 16 bytes: the base hash key (a constant: this is no MAC) */
static const uint8_t s_base_key[crypto_shorthash_KEYBYTES] = "troupe-memory-v2";

/* The sum of payload under db and key; false if the key cannot be ours. */
static bool
s_sum(tt_memory_db_t db, const MDB_val *key, const void *payload, size_t len,
      uint8_t out[TT_MEMORY_SUM_LEN])
{
    uint8_t where[1 + TT_MEMORY_KEY_MAX], hash_key[crypto_shorthash_KEYBYTES];
    if (key->mv_size > TT_MEMORY_KEY_MAX)
        return false;
    where[0] = (uint8_t)db;
    memcpy(where + 1, key->mv_data, key->mv_size);
    crypto_shorthash(hash_key, where, 1 + key->mv_size, s_base_key);
    memcpy(hash_key + crypto_shorthash_BYTES, s_base_key + crypto_shorthash_BYTES,
           sizeof hash_key - crypto_shorthash_BYTES);
    crypto_shorthash(out, payload, len, hash_key);
    return true;
}

int
tt_memory_impl_reserve(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, MDB_val *key, size_t len,
                       uint8_t **payload)
{
    uint8_t buf[TT_MEMORY_ID_LEN + TT_MEMORY_KEY_MAX];
    MDB_val full, val = {TT_MEMORY_SUM_LEN + len, NULL};
    if (!tt_memory_impl_full_key(m, key, buf, &full))
        return MDB_BAD_VALSIZE;
    int rc = mdb_put(txn, m->s->dbi[db], &full, &val, MDB_RESERVE);
    *payload = rc == MDB_SUCCESS ? (uint8_t *)val.mv_data + TT_MEMORY_SUM_LEN : NULL;
    return rc;
}

void
tt_memory_impl_seal(tt_memory_db_t db, const MDB_val *key, uint8_t *payload, size_t len)
{
    bool ours = s_sum(db, key, payload, len, payload - TT_MEMORY_SUM_LEN);
    TT_ASSERT(ours); /* LMDB refuses keys longer than ours */
}

int
tt_memory_impl_put(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, MDB_val *key, const void *data,
                   size_t len)
{
    uint8_t *p;
    int rc = tt_memory_impl_reserve(m, txn, db, key, len, &p);
    if (rc != MDB_SUCCESS)
        return rc;
    if (len)
        memcpy(p, data, len);
    tt_memory_impl_seal(db, key, p, len);
    return MDB_SUCCESS;
}

static void
s_note_damage(tt_memory_t *m, tt_memory_db_t db, const MDB_val *key, const char *why)
{
    if (!m->damaged)
        TT_LOG_ERROR("%s: damaged: a value in %s (key of %zu bytes) %s", tt_memory_impl_path(m),
                     tt_memory_impl_db_name(db), key->mv_size, why);
    m->damaged = TT_ECORRUPT;
}

int
tt_memory_impl_unseal(tt_memory_t *m, tt_memory_db_t db, const MDB_val *key, MDB_val *val)
{
    if (val->mv_size < TT_MEMORY_SUM_LEN) {
        s_note_damage(m, db, key, "is too short for its checksum");
        return TT_MEMORY_RC_BADSUM;
    }
    uint8_t sum[TT_MEMORY_SUM_LEN];
    const uint8_t *payload = (const uint8_t *)val->mv_data + TT_MEMORY_SUM_LEN;
    size_t len = val->mv_size - TT_MEMORY_SUM_LEN;
    if (!s_sum(db, key, payload, len, sum) || memcmp(sum, val->mv_data, sizeof sum) != 0) {
        s_note_damage(m, db, key, "fails its checksum");
        return TT_MEMORY_RC_BADSUM;
    }
    *val = (MDB_val){len, (void *)payload};
    return MDB_SUCCESS;
}

int
tt_memory_impl_get(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, MDB_val *key, MDB_val *val)
{
    uint8_t buf[TT_MEMORY_ID_LEN + TT_MEMORY_KEY_MAX];
    MDB_val full; /* mdb_get may point it at its own copy */
    if (!tt_memory_impl_full_key(m, key, buf, &full))
        return MDB_NOTFOUND;
    int rc = mdb_get(txn, m->s->dbi[db], &full, val);
    return rc == MDB_SUCCESS ? tt_memory_impl_unseal(m, db, key, val) : rc;
}

/* ------------------------------------------------------- open-time verify */

typedef struct {
    MDB_txn *txn;
    MDB_cursor *cur; /* released by the caller, even after a fault */
    MDB_dbi dbi[TT_MEMORY_DB_COUNT];
    uint64_t last_pg; /* the last page the file uses */
    bool empty;       /* no databases yet: a file killed before its first write */
} s_verify_t;

/* Is this key (without its id) the shape its database uses? */
static bool
s_key_ok(tt_memory_db_t db, uint32_t id, const MDB_val *key)
{
    switch (db) {
    case TT_MEMORY_DB_AGENTS:
        return id == TT_MEMORY_ID_STORE && key->mv_size == TT_MEMORY_NAME_HASH_LEN;
    case TT_MEMORY_DB_EPISODIC:
    case TT_MEMORY_DB_SEMANTIC:
        return key->mv_size == TT_MEMORY_STEP_KEY_LEN;
    case TT_MEMORY_DB_STATE:
        return key->mv_size == TT_MEMORY_STATE_KEY_LEN &&
               memcmp(key->mv_data, TT_MEMORY_STATE_PREFIX, 4) == 0;
    case TT_MEMORY_DB_DOCS:
        return key->mv_size > 1 + TT_MEMORY_CHUNK_LEN &&
               ((const char *)key->mv_data)[key->mv_size - 1 - TT_MEMORY_CHUNK_LEN] == '\0';
    default:
        return key->mv_size > 0;
    }
}

/* Every entry of one database: key shape, checksum, value shape, count. */
static int
s_verify_db(tt_memory_t *m, s_verify_t *v, tt_memory_db_t db)
{
    MDB_stat st;
    int rc = mdb_stat(v->txn, v->dbi[db], &st);
    if (rc == MDB_SUCCESS)
        rc = mdb_cursor_open(v->txn, v->dbi[db], &v->cur);
    if (rc != MDB_SUCCESS)
        return rc;
    size_t n = 0;
    MDB_val key, val;
    tt_memory_vec_t vec;
    for (rc = mdb_cursor_get(v->cur, &key, &val, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(v->cur, &key, &val, MDB_NEXT), n++) {
        uint32_t id = key.mv_size >= TT_MEMORY_ID_LEN ? tt_memory_impl_be32_get(key.mv_data) : 0;
        MDB_val k = {key.mv_size - TT_MEMORY_ID_LEN, (uint8_t *)key.mv_data + TT_MEMORY_ID_LEN};
        if (key.mv_size < TT_MEMORY_ID_LEN || !s_key_ok(db, id, &k)) {
            s_note_damage(m, db, &key, "has a malformed key");
            return TT_MEMORY_RC_BADSUM;
        }
        if ((rc = tt_memory_impl_unseal(m, db, &k, &val)) != MDB_SUCCESS)
            return rc;
        bool vector = db == TT_MEMORY_DB_SEMANTIC || db == TT_MEMORY_DB_DOCS;
        if ((vector && !tt_memory_impl_vec_split(&val, &vec)) ||
            (db == TT_MEMORY_DB_AGENTS && val.mv_size <= TT_MEMORY_ID_LEN)) {
            s_note_damage(m, db, &key, "is shorter than its shape");
            return TT_MEMORY_RC_BADSUM;
        }
    }
    mdb_cursor_close(v->cur);
    v->cur = NULL;
    if (rc != MDB_NOTFOUND)
        return rc;
    if (n != st.ms_entries) {
        TT_LOG_ERROR("%s: damaged: %s holds %zu entries, its record says %zu",
                     tt_memory_impl_path(m), tt_memory_impl_db_name(db), n, (size_t)st.ms_entries);
        return TT_MEMORY_RC_BADSUM;
    }
    return MDB_SUCCESS;
}

/* The free list (database 0): each record a list of page numbers, its first
 * word the count; every page must lie inside the file, or a later write would
 * reuse a page that is not free. */
static int
s_verify_free(tt_memory_t *m, s_verify_t *v)
{
    int rc = mdb_cursor_open(v->txn, 0, &v->cur);
    if (rc != MDB_SUCCESS)
        return rc;
    MDB_val key, val;
    for (rc = mdb_cursor_get(v->cur, &key, &val, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(v->cur, &key, &val, MDB_NEXT)) {
        size_t words = val.mv_size / sizeof(size_t);
        size_t count = 0;
        if (val.mv_size % sizeof(size_t) == 0 && words > 0)
            memcpy(&count, val.mv_data, sizeof count);
        bool ok = key.mv_size == sizeof(size_t) && words > 0 && count == words - 1;
        for (size_t i = 1; ok && i < words; i++) {
            size_t pg;
            memcpy(&pg, (const uint8_t *)val.mv_data + i * sizeof pg, sizeof pg);
            ok = pg >= 2 && pg <= v->last_pg;
        }
        if (!ok) {
            TT_LOG_ERROR("%s: damaged: the free-page list names pages that are not in the file",
                         tt_memory_impl_path(m));
            return TT_MEMORY_RC_BADSUM;
        }
    }
    mdb_cursor_close(v->cur);
    v->cur = NULL;
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

/* The main database names exactly our databases (or none: an empty file). */
static int
s_verify_names(tt_memory_t *m, s_verify_t *v)
{
    MDB_dbi main_dbi;
    int rc = mdb_dbi_open(v->txn, NULL, 0, &main_dbi);
    if (rc == MDB_SUCCESS)
        rc = mdb_cursor_open(v->txn, main_dbi, &v->cur);
    if (rc != MDB_SUCCESS)
        return rc;
    unsigned seen = 0, others = 0;
    MDB_val key, val;
    for (rc = mdb_cursor_get(v->cur, &key, &val, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(v->cur, &key, &val, MDB_NEXT)) {
        int found = -1;
        for (int i = 0; i < TT_MEMORY_DB_COUNT && found < 0; i++) {
            const char *name = tt_memory_impl_db_name((tt_memory_db_t)i);
            if (key.mv_size == strlen(name) && memcmp(key.mv_data, name, key.mv_size) == 0)
                found = i;
        }
        if (found < 0)
            others++;
        else
            seen |= 1u << found;
    }
    mdb_cursor_close(v->cur);
    v->cur = NULL;
    if (rc != MDB_NOTFOUND)
        return rc;
    v->empty = seen == 0 && others == 0;
    if (v->empty)
        return MDB_SUCCESS;
    if (others || seen != (1u << TT_MEMORY_DB_COUNT) - 1) {
        TT_LOG_ERROR("%s: damaged: the file does not name exactly this memory's databases",
                     tt_memory_impl_path(m));
        return TT_MEMORY_RC_BADSUM;
    }
    rc = MDB_SUCCESS;
    for (int i = 0; i < TT_MEMORY_DB_COUNT && rc == MDB_SUCCESS; i++)
        rc = mdb_dbi_open(v->txn, tt_memory_impl_db_name((tt_memory_db_t)i), 0, &v->dbi[i]);
    if (rc == MDB_NOTFOUND) {
        TT_LOG_ERROR("%s: damaged: a database named in the file cannot be opened",
                     tt_memory_impl_path(m));
        return TT_MEMORY_RC_BADSUM;
    }
    return rc;
}

/* meta "format" must be this version's: a memory of format 1 has no
 * checksums and is rebuilt from the log like a damaged one. */
static int
s_verify_format(tt_memory_t *m, s_verify_t *v)
{
    uint8_t buf[TT_MEMORY_ID_LEN + TT_MEMORY_KEY_MAX];
    MDB_val key = tt_memory_impl_text_val(TT_MEMORY_META_FORMAT), full, val;
    tt_memory_impl_full_key(m, &key, buf, &full); /* m: the store's own handle */
    int rc = mdb_get(v->txn, v->dbi[TT_MEMORY_DB_META], &full, &val);
    if (rc == MDB_SUCCESS)
        rc = tt_memory_impl_unseal(m, TT_MEMORY_DB_META, &key, &val);
    if (rc == MDB_SUCCESS && val.mv_size == strlen(TT_MEMORY_FORMAT) &&
        memcmp(val.mv_data, TT_MEMORY_FORMAT, val.mv_size) == 0)
        return MDB_SUCCESS;
    if (rc == MDB_NOTFOUND || rc == MDB_SUCCESS) {
        TT_LOG_ERROR("%s: damaged or of an older memory format (this one is %s): not used",
                     tt_memory_impl_path(m), TT_MEMORY_FORMAT);
        m->damaged = TT_ECORRUPT;
        return TT_MEMORY_RC_BADSUM;
    }
    return rc;
}

static int
s_verify_all(tt_memory_t *m, void *ctx)
{
    s_verify_t *v = ctx;
    int rc = s_verify_names(m, v);
    if (rc != MDB_SUCCESS || v->empty)
        return rc;
    rc = s_verify_format(m, v);
    for (int db = 0; db < TT_MEMORY_DB_COUNT && rc == MDB_SUCCESS; db++)
        rc = s_verify_db(m, v, (tt_memory_db_t)db);
    return rc == MDB_SUCCESS ? s_verify_free(m, v) : rc;
}

int
tt_memory_impl_verify(tt_memory_t *m)
{
    /* the extent is read after the snapshot is taken: a store that other
     * processes write grows, and never shrinks, so the snapshot's pages all
     * lie within it (read before, a commit in between could have grown the
     * file and freed pages past it: a store in use taken for damaged) */
    MDB_envinfo info;
    s_verify_t v = {0};
    int rc = mdb_txn_begin(m->s->env, NULL, MDB_RDONLY, &v.txn);
    if (rc != MDB_SUCCESS)
        return rc;
    rc = mdb_env_info(m->s->env, &info);
    if (rc != MDB_SUCCESS) {
        mdb_txn_abort(v.txn);
        return rc;
    }
    v.last_pg = info.me_last_pgno;
    rc = tt_memory_impl_guarded(m, s_verify_all, &v);
    if (v.cur)
        mdb_cursor_close(v.cur); /* left open by a failed or faulted pass */
    mdb_txn_abort(v.txn);
    return rc;
}
