/*  tt_memory_keys -- each agent's keys under its id.
 *
 *  A store holds many agents (tt_memory.h); every key is stored as
 *  [agent id, u32 BE][key]. The code that reads and writes an agent's memory
 *  sees keys without the id: puts and gets add it (tt_memory_sum.c), and
 *  cursors move through tt_memory_impl_cget, which starts inside the id's
 *  range, strips the id from what it returns and ends the range with
 *  MDB_NOTFOUND, as the end of a database of the agent's own would.
 */
#define TT_LOG_MODULE "memory"
#include "tt_memory_impl.h"

#include <errno.h>

bool
tt_memory_impl_full_key(const tt_memory_t *m, const MDB_val *key, uint8_t *buf, MDB_val *full)
{
    if (key->mv_size > TT_MEMORY_KEY_MAX)
        return false;
    tt_memory_impl_be32_put(buf, m->id);
    if (key->mv_size)
        memcpy(buf + TT_MEMORY_ID_LEN, key->mv_data, key->mv_size);
    *full = (MDB_val){TT_MEMORY_ID_LEN + key->mv_size, buf};
    return true;
}

static bool
s_mine(const tt_memory_t *m, const MDB_val *stored)
{
    return stored->mv_size >= TT_MEMORY_ID_LEN && tt_memory_impl_be32_get(stored->mv_data) == m->id;
}

int
tt_memory_impl_cget(tt_memory_t *m, MDB_cursor *cur, MDB_val *key, MDB_val *val, MDB_cursor_op op)
{
    uint8_t buf[TT_MEMORY_ID_LEN + TT_MEMORY_KEY_MAX];
    MDB_val k = {0, NULL};
    int rc;
    switch (op) {
    case MDB_FIRST:
    case MDB_SET_RANGE: {
        MDB_val want = op == MDB_FIRST ? (MDB_val){0, NULL} : *key;
        if (!tt_memory_impl_full_key(m, &want, buf, &k))
            return MDB_NOTFOUND; /* no key that long is stored */
        rc = mdb_cursor_get(cur, &k, val, MDB_SET_RANGE);
        break;
    }
    case MDB_LAST:
        /* the key before the next id's first, or the very last */
        if (m->id == UINT32_MAX) {
            rc = mdb_cursor_get(cur, &k, val, MDB_LAST);
            break;
        }
        tt_memory_impl_be32_put(buf, m->id + 1);
        k = (MDB_val){TT_MEMORY_ID_LEN, buf};
        rc = mdb_cursor_get(cur, &k, val, MDB_SET_RANGE);
        if (rc == MDB_SUCCESS)
            rc = mdb_cursor_get(cur, &k, val, MDB_PREV);
        else if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(cur, &k, val, MDB_LAST);
        break;
    case MDB_NEXT:
    case MDB_PREV:
        rc = mdb_cursor_get(cur, &k, val, op);
        break;
    default:
        TT_ASSERT(!"cursor op not supported under an id");
        return EINVAL;
    }
    if (rc == MDB_SUCCESS && !s_mine(m, &k))
        rc = MDB_NOTFOUND;
    if (rc == MDB_SUCCESS)
        *key = (MDB_val){k.mv_size - TT_MEMORY_ID_LEN, (uint8_t *)k.mv_data + TT_MEMORY_ID_LEN};
    return rc;
}

int
tt_memory_impl_count(tt_memory_t *m, MDB_cursor *cur, tt_memory_db_t db, size_t *n)
{
    *n = 0;
    if (!m->s->shared && db != TT_MEMORY_DB_META && db != TT_MEMORY_DB_AGENTS) {
        /* a private store's agent is the only one with keys there */
        MDB_stat st;
        int rc = mdb_stat(mdb_cursor_txn(cur), mdb_cursor_dbi(cur), &st);
        *n = rc == MDB_SUCCESS ? st.ms_entries : 0;
        return rc;
    }
    MDB_val key, val;
    int rc;
    for (rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_FIRST); rc == MDB_SUCCESS;
         rc = tt_memory_impl_cget(m, cur, &key, &val, MDB_NEXT))
        ++*n;
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}
