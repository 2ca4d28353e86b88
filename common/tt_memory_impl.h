/*  tt_memory_impl -- what the two halves of tt_memory share: the handle, the key
 *  layouts and the LMDB edge (error translation, the reused read transaction).
 *
 *  tt_memory.c opens, closes and writes; tt_memory_read.c reads, searches and
 *  dumps. Nothing outside those two files includes this header.
 */
#ifndef TT_MEMORY_IMPL_H
#define TT_MEMORY_IMPL_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tt_memory.h"

typedef enum {
    TT_MEMORY_DB_EPISODIC = 0,
    TT_MEMORY_DB_SEMANTIC,
    TT_MEMORY_DB_DOCS,
    TT_MEMORY_DB_STATE,
    TT_MEMORY_DB_META,
    TT_MEMORY_DB_AGENTS,
    TT_MEMORY_DB_COUNT
} tt_memory_db_t;

/* episodic and semantic keys: step (u32 BE) | seq (u32 BE) */
#define TT_MEMORY_STEP_KEY_LEN 8
/* state keys: "cog/" | step (u32 BE) */
#define TT_MEMORY_STATE_PREFIX  "cog/"
#define TT_MEMORY_STATE_KEY_LEN 8
/* docs keys: name | NUL | chunk (u32 BE) */
#define TT_MEMORY_CHUNK_LEN 4
/* vector values: [u32 dim][dim x float32][text], dim and floats in host order
 * (an environment is local state: LMDB files do not cross byte orders anyway) */
#define TT_MEMORY_VEC_HDR_LEN 4
/* meta keys that commit and claim own; last_step is a u32 BE, the rest text */
#define TT_MEMORY_META_LAST_STEP "last_step"
#define TT_MEMORY_META_OWNER     "owner"
/* meta "format": the layout of values. Format 1 (no key) had no checksums;
 * format 2 prefixes every value with one (tt_memory_sum.c); format 3 puts
 * every key under its agent's id (below). Stored under the store's id. */
#define TT_MEMORY_META_FORMAT "format"
#define TT_MEMORY_FORMAT      "3"
/* Every key as stored: [agent id, u32 BE][the key the code above describes].
 * A private store (one agent's directory) holds agent 0; a shared store
 * gives each agent an id from the agents database, whose keys are
 * BLAKE2b-256 of the name and whose values are [id, u32 BE][name]. The
 * store's own keys (format, next id, the agents database) use the last id. */
#define TT_MEMORY_ID_LEN        4
#define TT_MEMORY_ID_PRIVATE    0u
#define TT_MEMORY_ID_STORE      UINT32_MAX
#define TT_MEMORY_META_NEXT_ID  "next_agent"
#define TT_MEMORY_NAME_HASH_LEN 32
/* every value: [8-byte SipHash][payload]; what the readers see is the payload */
#define TT_MEMORY_SUM_LEN 8
/* Our own codes beside LMDB's (which are -30799..-30780); both mean damage
 * and are translated into TT_ECORRUPT at the edge. */
#define TT_MEMORY_RC_BADSUM (-30600) /* a value fails its checksum or its shape */
#define TT_MEMORY_RC_FAULT  (-30601) /* a guarded access faulted: SIGSEGV, SIGBUS, assert */
/* room for any key after the id: LMDB's default limit is 511 bytes */
#define TT_MEMORY_KEY_MAX 512

/* One LMDB environment and what its users in this process share. */
struct tt_memory_store {
    MDB_env *env;
    /* One read transaction, kept reset between reads: mdb_txn_renew reuses its
     * reader slot and allocation, so a read costs no malloc and no slot search.
     * Shared by the store's handles: reads happen one at a time, on the
     * thread that runs the agents, and a process takes one reader slot per
     * store however many agents it holds. */
    MDB_txn *rtxn;
    MDB_cursor *rcur; /* the cursor of the read in progress (tt_memory_impl_cursor) */
    MDB_dbi dbi[TT_MEMORY_DB_COUNT];
    bool shared;       /* agents by name (tt_memory_open_in), not the one private agent */
    bool faulted;      /* a guarded access faulted: the map is never read again */
    tt_memory_t *self; /* a handle on the store's own keys (TT_MEMORY_ID_STORE) */
};

/* One agent's view of a store: its keys are those under its id. */
struct tt_memory {
    tt_memory_store_t *s;
    bool owns_store;    /* tt_memory_open: the store is this handle's alone */
    uint32_t id;        /* the agent's key prefix */
    uint32_t last_step; /* cache of meta last_step, refreshed by every write */
    size_t n_semantic;  /* cache of the semantic item count, TT_MEMORY_UNCOUNTED
                         * until first read, then kept by every write */
    tt_err_t damaged;   /* TT_ECORRUPT once any read found damage; sticky */
};

#define TT_MEMORY_UNCOUNTED SIZE_MAX

/* A vector value split into its parts; pointers into the map, valid until the
 * transaction ends. floats may be unaligned: read them with memcpy. */
typedef struct {
    uint32_t dim;
    const uint8_t *floats;
    const char *text;
    size_t text_len;
} tt_memory_vec_t;

/* Runs inside a write transaction and returns an MDB code; setting *refused
 * aborts the transaction and makes the write return that tt_err_t. */
typedef int(tt_memory_apply_fn)(tt_memory_t *m, MDB_txn *txn, void *ctx, tt_err_t *refused);

/* One write transaction running apply, then commit. On MDB_MAP_FULL the map
 * doubles and apply runs again from the start, so apply must take everything
 * from ctx and nothing from an earlier attempt. */
tt_err_t tt_memory_impl_write(tt_memory_t *m, tt_memory_apply_fn *apply, void *ctx,
                              const char *what);
/* meta last_step as seen by txn (0 if absent). Returns an MDB code. */
int tt_memory_impl_last_step(tt_memory_t *m, MDB_txn *txn, uint32_t *step);
/* The environment's directory, for log lines; never NULL. */
const char *tt_memory_impl_path(const tt_memory_t *m);
/* "episodic", "semantic", ...: the database's name in the file and in dumps. */
const char *tt_memory_impl_db_name(tt_memory_db_t db);
/* Translate an MDB_* or errno code into a tt_err_t, logging it (with what was
 * being done) unless it is MDB_NOTFOUND. The one place foreign codes cross. */
tt_err_t tt_memory_impl_err(tt_memory_t *m, int rc, const char *what);
/* Start the handle's read transaction (renew, or begin; adopts a map grown by
 * another process). Returns an MDB code; on success *txn is m->rtxn. */
int tt_memory_impl_read_begin(tt_memory_t *m, MDB_txn **txn);
/* Reset the read transaction: every MDB_val from it is dead after this. */
void tt_memory_impl_read_end(tt_memory_t *m);
/* mdb_cursor_get inside m's id: keys go in and come out without the id,
 * and a key of another agent is MDB_NOTFOUND. Supports MDB_FIRST, MDB_LAST,
 * MDB_SET_RANGE, MDB_NEXT and MDB_PREV. */
int tt_memory_impl_cget(tt_memory_t *m, MDB_cursor *cur, MDB_val *key, MDB_val *val,
                        MDB_cursor_op op);
/* key with m's id in front, in buf (TT_MEMORY_ID_LEN + TT_MEMORY_KEY_MAX
 * bytes); false if the key is too long to be one of ours. */
bool tt_memory_impl_full_key(const tt_memory_t *m, const MDB_val *key, uint8_t *buf, MDB_val *full);
/* Entries of db (cur's database) under m's id; moves cur. */
int tt_memory_impl_count(tt_memory_t *m, MDB_cursor *cur, tt_memory_db_t db, size_t *n);
/* Split a vector value; false if it is too short for its own dim. */
bool tt_memory_impl_vec_split(const MDB_val *val, tt_memory_vec_t *vec);

static inline MDB_val
tt_memory_impl_text_val(const char *text)
{
    return (MDB_val){strlen(text), (void *)text};
}

static inline void
tt_memory_impl_be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t
tt_memory_impl_be32_get(const void *data)
{
    const uint8_t *p = data;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void
tt_memory_impl_step_key(uint8_t key[TT_MEMORY_STEP_KEY_LEN], uint32_t step, uint32_t seq)
{
    tt_memory_impl_be32_put(key, step);
    tt_memory_impl_be32_put(key + 4, seq);
}

static inline void
tt_memory_impl_state_key(uint8_t key[TT_MEMORY_STATE_KEY_LEN], uint32_t step)
{
    memcpy(key, TT_MEMORY_STATE_PREFIX, 4);
    tt_memory_impl_be32_put(key + 4, step);
}

/* ---- checksums (tt_memory_sum.c). All return MDB codes. */
/* mdb_put with MDB_RESERVE of a len-byte payload; *payload is where to write
 * it, then seal it (before any other write in txn). */
int tt_memory_impl_reserve(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, MDB_val *key,
                           size_t len, uint8_t **payload);
void tt_memory_impl_seal(tt_memory_db_t db, const MDB_val *key, uint8_t *payload, size_t len);
/* Store data (len bytes) under key with its checksum. */
int tt_memory_impl_put(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, MDB_val *key,
                       const void *data, size_t len);
/* Check val (read under key from db) and strip its checksum: on success val
 * is the payload; TT_MEMORY_RC_BADSUM (logged, the handle marked damaged)
 * if it does not match. */
int tt_memory_impl_unseal(tt_memory_t *m, tt_memory_db_t db, const MDB_val *key, MDB_val *val);
/* mdb_get then unseal. */
int tt_memory_impl_get(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, MDB_val *key, MDB_val *val);
/* The open-time pass over a file already on disk: names, format, every key,
 * checksum and count, the free list; guarded. */
int tt_memory_impl_verify(tt_memory_t *m);

/* ---- the guard (tt_memory_guard.c) */
typedef int(tt_memory_guarded_fn)(tt_memory_t *m, void *ctx);
/* Run fn; a SIGSEGV, SIGBUS or LMDB assertion inside it returns
 * TT_MEMORY_RC_FAULT (logged). fn must keep whatever it must release (an
 * open cursor) in ctx, not in locals, so the caller can release it after a
 * fault; the read transaction is the caller's to drop. */
int tt_memory_impl_guarded(tt_memory_t *m, tt_memory_guarded_fn *fn, void *ctx);
/* The same for the accesses of a running agent (reads, writes): the signal
 * handlers are not checked again, the open put them in front. */
int tt_memory_impl_guarded_hot(tt_memory_t *m, tt_memory_guarded_fn *fn, void *ctx);
/* A read of a running agent: runs fn in the handle's read transaction, begun
 * and ended around it, all under the guard. fn returns an MDB code and opens
 * its cursor (one) with tt_memory_impl_cursor, which is closed for it; what
 * it allocates must be reachable from ctx, so the caller can release it
 * after a fault. Returns fn's code, or TT_MEMORY_RC_FAULT (logged; pass it
 * to tt_memory_impl_err, which marks the handle damaged). */
typedef int(tt_memory_read_fn)(tt_memory_t *m, MDB_txn *txn, void *ctx);
int tt_memory_impl_read(tt_memory_t *m, tt_memory_read_fn *fn, void *ctx);
/* Open the read's cursor on db; tt_memory_impl_read closes it. */
int tt_memory_impl_cursor(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, MDB_cursor **cur);
/* Route env's assertions to the guard (once, at create). */
void tt_memory_impl_guard_env(MDB_env *env);

/* data.mdb in dir checked before LMDB maps it (tt_memory_check.c):
 * TT_ECORRUPT, logged with the reason, if it is damaged. */
tt_err_t tt_memory_impl_check_file(const char *dir);

#endif
