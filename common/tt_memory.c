/*  tt_memory -- an agent's memory in LMDB: the environment, its map, its
 *  transactions and the translation of LMDB's codes.
 *
 *  One environment per store directory (0700, files 0600), six named
 *  databases whose keys tt_memory.h describes, every key under its agent's
 *  id (tt_memory_impl.h). This file opens and closes stores and handles,
 *  gives agents their ids, and owns the two transaction paths; the writes (batch, commit, rollback)
 *  are in tt_memory_write.c, the reads (window, search, dump) in
 *  tt_memory_read.c; what they share is in tt_memory_impl.h.
 *
 *  Flags are MDB_NOSYNC | MDB_NOTLS, on purpose:
 *  - MDB_NOSYNC: a commit hands its pages and its meta page to the kernel with
 *    write(2) and does not wait for the disk. A process crash (kill -9, abort,
 *    OOM kill) loses nothing that was committed: the writes are in the page
 *    cache, and LMDB never overwrites a live page, so the newest meta page
 *    always names a complete tree. Only an OS crash or a power cut can lose
 *    recent commits (or, on a filesystem that reorders writes, damage the
 *    file); the coordinator's fsynced transaction log can rebuild any agent
 *    (wipe and replay), which is why the agent may skip the fsync that would
 *    otherwise cost a millisecond or more per agent-step. close() syncs once,
 *    so a clean shutdown is durable.
 *  - MDB_NOTLS: a read transaction is not bound to a thread-local reader slot,
 *    so the handle keeps one read transaction, resets it after each read and
 *    renews it for the next (no malloc, no slot search per read), and a read
 *    may be open while this process writes.
 *
 *  Crashes of other processes: a process killed inside a read leaves its
 *  reader slot behind, which pins old pages and makes the file grow; open()
 *  clears such slots with mdb_reader_check. A process killed inside a write
 *  leaves a robust mutex that LMDB recovers on the next write; its pages were
 *  never reachable from a meta page, so nothing is lost but the aborted write.
 *
 *  The map of a private store starts small (1 MiB, or $TT_MEMORY_INITIAL_MAP
 *  bytes) because hundreds of agentds of one agent may share a host; a
 *  shared store's starts at 64 MiB (address space, not memory). MDB_MAP_FULL aborts the
 *  transaction; the map doubles (no transaction open) and the whole write is
 *  applied again from the batch, which is still in RAM. A map grown by another
 *  process is adopted on MDB_MAP_RESIZED. At open, a map more than half full
 *  is grown at once, so a reopened agent does not pay a failed commit.
 *
 *  Every write goes through tt_memory_impl_write(): begin, apply, commit, and
 *  the MAP_FULL loop. An apply function may refuse (fencing, a step older than
 *  the last); the transaction is then aborted and nothing is written.
 */
#define TT_LOG_MODULE "memory"
#include "tt_memory_impl.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_file.h"
#include "tt_log.h"
#include "tt_mem.h"

#define TT_MEMORY_MAP_DEFAULT ((size_t)1 << 20)
#define TT_MEMORY_MAP_SHARED  ((size_t)64 << 20)
/* processes that may have a shared store open at once (one slot each) */
#define TT_MEMORY_MAX_READERS 1024
#define TT_MEMORY_MAP_MIN     ((size_t)64 << 10)
#define TT_MEMORY_MAP_ALIGN   ((size_t)64 << 10) /* a multiple of any page size */
#define TT_MEMORY_MAP_MAX     (SIZE_MAX / 4)
#define TT_MEMORY_DIR_MODE    0700
#define TT_MEMORY_FILE_MODE   0600

static const char *const s_db_names[TT_MEMORY_DB_COUNT] = {"episodic", "semantic", "docs",
                                                           "state",    "meta",     "agents"};

/* ---------------------------------------------------------------- the edge */

const char *
tt_memory_impl_db_name(tt_memory_db_t db)
{
    TT_ASSERT(db < TT_MEMORY_DB_COUNT);
    return s_db_names[db];
}

static tt_err_t
s_translate(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return TT_OK;
    case MDB_NOTFOUND:
        return TT_ENOTFOUND;
    case MDB_KEYEXIST:
        return TT_EEXIST;
    case MDB_MAP_FULL:
    case MDB_READERS_FULL:
    case MDB_DBS_FULL:
        return TT_ENOMEM;
    case MDB_TXN_FULL:
    case MDB_BAD_VALSIZE:
        return TT_ETOOBIG;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case TT_MEMORY_RC_BADSUM:
    case TT_MEMORY_RC_FAULT:
        return TT_ECORRUPT;
    default:
        return rc > 0 ? tt_err_from_errno(rc) : TT_EDB;
    }
}

static const char *
s_strerror(int rc)
{
    if (rc == TT_MEMORY_RC_BADSUM)
        return "damaged: a stored value fails its checksum";
    if (rc == TT_MEMORY_RC_FAULT)
        return "damaged: reading the file faulted";
    return mdb_strerror(rc);
}

tt_err_t
tt_memory_impl_err(tt_memory_t *m, int rc, const char *what)
{
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        TT_LOG_ERROR("%s: %s: %s", tt_memory_impl_path(m), what, s_strerror(rc));
    tt_err_t err = s_translate(rc);
    if (err == TT_ECORRUPT)
        m->damaged = TT_ECORRUPT; /* MDB_CORRUPTED, a missing page, a bad checksum */
    return err;
}

const char *
tt_memory_impl_path(const tt_memory_t *m)
{
    const char *path = NULL;
    return mdb_env_get_path(m->s->env, &path) == 0 && path ? path : "?";
}

/* ------------------------------------------------- transactions and the map */

static void
s_drop_read_txn(tt_memory_store_t *s)
{
    if (s->rtxn) {
        mdb_txn_abort(s->rtxn);
        s->rtxn = NULL;
    }
}

/* Another process grew the map: take its size (set_mapsize 0 reads it from
 * the meta page). */
static int
s_adopt_map(tt_memory_t *m)
{
    s_drop_read_txn(m->s);
    int rc = mdb_env_set_mapsize(m->s->env, 0);
    if (rc == MDB_SUCCESS)
        TT_LOG_INFO("%s: adopted a map grown by another process", tt_memory_impl_path(m));
    return rc;
}

int
tt_memory_impl_read_begin(tt_memory_t *m, MDB_txn **txn)
{
    tt_memory_store_t *s = m->s;
    if (s->rtxn) {
        int rc = mdb_txn_renew(s->rtxn);
        if (rc == MDB_SUCCESS) {
            *txn = s->rtxn;
            return rc;
        }
        s_drop_read_txn(s);
    }
    int rc = MDB_SUCCESS;
    for (int attempt = 0; attempt < 2; attempt++) {
        MDB_txn *fresh = NULL;
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &fresh);
        if (rc == MDB_SUCCESS) {
            s->rtxn = *txn = fresh;
            return rc;
        }
        if (rc == MDB_MAP_RESIZED) {
            rc = s_adopt_map(m);
        } else if (rc == MDB_READERS_FULL) {
            int dead = 0;
            rc = mdb_reader_check(s->env, &dead);
            TT_LOG_WARN("%s: reader table full, cleared %d stale readers", tt_memory_impl_path(m),
                        dead);
        }
        if (rc != MDB_SUCCESS)
            break;
    }
    return rc;
}

void
tt_memory_impl_read_end(tt_memory_t *m)
{
    if (m->s->rtxn)
        mdb_txn_reset(m->s->rtxn);
}

static int
s_set_map(tt_memory_t *m, size_t size)
{
    s_drop_read_txn(m->s);
    int rc = mdb_env_set_mapsize(m->s->env, size);
    if (rc == MDB_SUCCESS)
        TT_LOG_INFO("%s: map is now %zu KiB", tt_memory_impl_path(m), size >> 10);
    return rc;
}

static int
s_grow(tt_memory_t *m)
{
    MDB_envinfo info;
    int rc = mdb_env_info(m->s->env, &info);
    if (rc != MDB_SUCCESS)
        return rc;
    if (info.me_mapsize >= TT_MEMORY_MAP_MAX)
        return MDB_MAP_FULL;
    return s_set_map(m, info.me_mapsize * 2);
}

/* A reopened environment gets max(initial map, used pages): grow it now if it
 * is more than half full, rather than fail the first commit. */
static int
s_fit_map(tt_memory_t *m)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(m->s->env, &info);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_stat(m->s->env, &st);
    if (rc != MDB_SUCCESS)
        return rc;
    size_t used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
    size_t size = info.me_mapsize;
    if (used <= size / 2)
        return MDB_SUCCESS;
    while (size / 2 < used && size < TT_MEMORY_MAP_MAX)
        size *= 2;
    return s_set_map(m, size);
}

static int
s_write_begin(tt_memory_t *m, MDB_txn **txn)
{
    int rc = mdb_txn_begin(m->s->env, NULL, 0, txn);
    if (rc == MDB_MAP_RESIZED) {
        rc = s_adopt_map(m);
        if (rc == MDB_SUCCESS)
            rc = mdb_txn_begin(m->s->env, NULL, 0, txn);
    }
    return rc;
}

typedef struct {
    tt_memory_apply_fn *apply;
    void *ctx;
    tt_err_t refused;
    MDB_txn *txn; /* while it is open: a fault leaves it to the caller */
} s_write_t;

static int
s_write_once(tt_memory_t *m, void *arg)
{
    s_write_t *w = arg;
    int rc = s_write_begin(m, &w->txn);
    if (rc != MDB_SUCCESS) {
        w->txn = NULL;
        return rc;
    }
    rc = w->apply(m, w->txn, w->ctx, &w->refused);
    if (rc == MDB_SUCCESS && w->refused == TT_OK)
        rc = mdb_txn_commit(w->txn); /* frees it, committed or not */
    else
        mdb_txn_abort(w->txn);
    w->txn = NULL;
    return rc;
}

static int
s_write_abandon(tt_memory_t *m, void *arg)
{
    (void)m;
    mdb_txn_abort(arg);
    return MDB_SUCCESS;
}

/* One write transaction running apply, under the guard; on MDB_MAP_FULL the
 * map doubles and apply runs again from the start. */
tt_err_t
tt_memory_impl_write(tt_memory_t *m, tt_memory_apply_fn *apply, void *ctx, const char *what)
{
    for (;;) {
        s_write_t w = {apply, ctx, TT_OK, NULL};
        int rc =
            m->s->faulted ? TT_MEMORY_RC_FAULT : tt_memory_impl_guarded_hot(m, s_write_once, &w);
        if (rc == TT_MEMORY_RC_FAULT) {
            if (w.txn) /* its writer mutex and dirty pages (see tt_memory_guard.c) */
                tt_memory_impl_guarded_hot(m, s_write_abandon, w.txn);
            return tt_memory_impl_err(m, rc, what);
        }
        if (w.refused != TT_OK)
            return w.refused;
        if (rc != MDB_MAP_FULL)
            return tt_memory_impl_err(m, rc, what);
        rc = s_grow(m);
        if (rc != MDB_SUCCESS)
            return tt_memory_impl_err(m, rc, what);
    }
}

/* ------------------------------------------------------------ open, close */

static size_t
s_initial_map(void)
{
    const char *text = getenv("TT_MEMORY_INITIAL_MAP");
    if (!text || !*text)
        return TT_MEMORY_MAP_DEFAULT;
    char *end = NULL;
    errno = 0;
    unsigned long long size = strtoull(text, &end, 10);
    if (errno || *end || size < TT_MEMORY_MAP_MIN || size > TT_MEMORY_MAP_MAX) {
        TT_LOG_WARN("TT_MEMORY_INITIAL_MAP=%s is not a size in [%zu, %zu]; using %zu", text,
                    TT_MEMORY_MAP_MIN, TT_MEMORY_MAP_MAX, TT_MEMORY_MAP_DEFAULT);
        return TT_MEMORY_MAP_DEFAULT;
    }
    return ((size_t)size + TT_MEMORY_MAP_ALIGN - 1) / TT_MEMORY_MAP_ALIGN * TT_MEMORY_MAP_ALIGN;
}

static tt_err_t
s_mkdirs(const char *dir)
{
    tt_err_t err = tt_mkdirs(dir, TT_MEMORY_DIR_MODE);
    if (err)
        TT_LOG_ERROR("%s: cannot create the directory: %s", dir, strerror(errno));
    return err;
}

/* Open (create) the databases; a new store gets the format key. One that
 * holds data but no format key (or another) is refused as damaged. Runs with
 * the store's own handle. */
static int
s_apply_open_dbs(tt_memory_t *m, MDB_txn *txn, void *ctx, tt_err_t *refused)
{
    (void)ctx;
    size_t entries = 0;
    for (int i = 0; i < TT_MEMORY_DB_COUNT; i++) {
        MDB_stat st;
        int rc = mdb_dbi_open(txn, s_db_names[i], MDB_CREATE, &m->s->dbi[i]);
        if (rc == MDB_SUCCESS)
            rc = mdb_stat(txn, m->s->dbi[i], &st);
        if (rc != MDB_SUCCESS)
            return rc;
        entries += st.ms_entries;
    }
    MDB_val key = tt_memory_impl_text_val(TT_MEMORY_META_FORMAT), val;
    int rc = tt_memory_impl_get(m, txn, TT_MEMORY_DB_META, &key, &val);
    if (rc != MDB_NOTFOUND)
        return rc; /* present: tt_memory_impl_verify has checked it */
    if (entries == 0)
        return tt_memory_impl_put(m, txn, TT_MEMORY_DB_META, &key, TT_MEMORY_FORMAT,
                                  strlen(TT_MEMORY_FORMAT));
    TT_LOG_ERROR("%s: a memory without a format key (format 1, no checksums): not used",
                 tt_memory_impl_path(m));
    *refused = TT_ECORRUPT;
    return MDB_SUCCESS;
}

int
tt_memory_impl_last_step(tt_memory_t *m, MDB_txn *txn, uint32_t *step)
{
    MDB_val key = tt_memory_impl_text_val(TT_MEMORY_META_LAST_STEP), val;
    int rc = tt_memory_impl_get(m, txn, TT_MEMORY_DB_META, &key, &val);
    *step = rc == MDB_SUCCESS && val.mv_size == 4 ? tt_memory_impl_be32_get(val.mv_data) : 0;
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

static tt_err_t
s_load_last_step(tt_memory_t *m)
{
    MDB_txn *txn;
    int rc = tt_memory_impl_read_begin(m, &txn);
    if (rc == MDB_SUCCESS) {
        rc = tt_memory_impl_last_step(m, txn, &m->last_step);
        tt_memory_impl_read_end(m);
    }
    return tt_memory_impl_err(m, rc, "read last_step");
}

/* Everything after mdb_env_open: stale readers, the verification of a file
 * that was already there, databases, map. */
static tt_err_t
s_open_finish(tt_memory_t *self, bool existed)
{
    int dead = 0;
    int rc = mdb_reader_check(self->s->env, &dead);
    if (rc != MDB_SUCCESS)
        return tt_memory_impl_err(self, rc, "mdb_reader_check");
    if (dead > 0)
        TT_LOG_INFO("%s: cleared %d stale reader slot(s)", tt_memory_impl_path(self), dead);
    if (existed && (rc = tt_memory_impl_verify(self)) != MDB_SUCCESS)
        return tt_memory_impl_err(self, rc, "verify");
    tt_err_t err = tt_memory_impl_write(self, s_apply_open_dbs, NULL, "open databases");
    if (err == TT_OK && (rc = s_fit_map(self)) != MDB_SUCCESS)
        err = tt_memory_impl_err(self, rc, "grow map");
    return err;
}

static tt_memory_t *
s_handle(tt_memory_store_t *s, uint32_t id, bool owns_store)
{
    tt_memory_t *m = tt_new(tt_memory_t);
    m->s = s;
    m->id = id;
    m->owns_store = owns_store;
    m->n_semantic = TT_MEMORY_UNCOUNTED;
    return m;
}

static tt_err_t
s_store_open(const char *dir, bool shared, tt_memory_store_t **out)
{
    TT_ASSERT(dir && *dir && out);
    *out = NULL;
    tt_err_t err = s_mkdirs(dir);
    if (err != TT_OK)
        return err;
    err = tt_memory_impl_check_file(dir);
    if (err != TT_OK)
        return err;
    char *file = tt_asprintf("%s/data.mdb", dir);
    struct stat st;
    bool existed = stat(file, &st) == 0 && st.st_size > 0;
    free(file);
    tt_memory_store_t *s = tt_new(tt_memory_store_t);
    s->shared = shared;
    s->self = s_handle(s, TT_MEMORY_ID_STORE, false);
    size_t map = s_initial_map();
    const char *what = "mdb_env_create";
    int rc = mdb_env_create(&s->env);
    if (rc == MDB_SUCCESS) {
        tt_memory_impl_guard_env(s->env);
        what = "mdb_env_set_maxdbs";
        rc = mdb_env_set_maxdbs(s->env, TT_MEMORY_DB_COUNT);
    }
    if (rc == MDB_SUCCESS && shared) {
        what = "mdb_env_set_maxreaders";
        rc = mdb_env_set_maxreaders(s->env, TT_MEMORY_MAX_READERS);
    }
    if (rc == MDB_SUCCESS) {
        what = "mdb_env_set_mapsize";
        rc = mdb_env_set_mapsize(s->env,
                                 shared && map < TT_MEMORY_MAP_SHARED ? TT_MEMORY_MAP_SHARED : map);
    }
    if (rc == MDB_SUCCESS) {
        what = "mdb_env_open";
        rc = mdb_env_open(s->env, dir, MDB_NOSYNC | MDB_NOTLS, TT_MEMORY_FILE_MODE);
    }
    if (rc != MDB_SUCCESS) {
        /* A failed env is only fit for mdb_env_close: LMDB has already freed
         * its path (left dangling) and closed its files. */
        TT_LOG_ERROR("%s: %s: %s", dir, what, mdb_strerror(rc));
        err = s_translate(rc);
        mdb_env_close(s->env);
        s->env = NULL;
    } else {
        err = s_open_finish(s->self, existed);
    }
    if (err != TT_OK) {
        tt_memory_store_close(&s);
        return err;
    }
    *out = s;
    return TT_OK;
}

tt_err_t
tt_memory_store_open(const char *dir, tt_memory_store_t **out)
{
    return s_store_open(dir, true, out);
}

void
tt_memory_store_close(tt_memory_store_t **self_p)
{
    TT_ASSERT(self_p);
    tt_memory_store_t *s = *self_p;
    if (!s)
        return;
    s_drop_read_txn(s);
    if (s->env) { /* NULL if mdb_env_create or mdb_env_open failed */
        int rc = mdb_env_sync(s->env, 1);
        if (rc != MDB_SUCCESS)
            tt_memory_impl_err(s->self, rc, "mdb_env_sync");
        mdb_env_close(s->env);
    }
    free(s->self);
    free(s);
    *self_p = NULL;
}

tt_err_t
tt_memory_open(const char *dir, tt_memory_t **out)
{
    TT_ASSERT(out);
    *out = NULL;
    tt_memory_store_t *s = NULL;
    tt_err_t err = s_store_open(dir, false, &s);
    if (err != TT_OK)
        return err;
    tt_memory_t *m = s_handle(s, TT_MEMORY_ID_PRIVATE, true);
    if ((err = s_load_last_step(m)) != TT_OK) {
        tt_memory_close(&m);
        return err;
    }
    *out = m;
    return TT_OK;
}

/* ------------------------------------------------------------ agent ids */

typedef struct {
    const char *name;
    uint8_t hash[TT_MEMORY_NAME_HASH_LEN];
    uint32_t id;
} s_name_t;

/* The agent's id: the one its name has, or the next free one. */
static int
s_apply_name(tt_memory_t *self, MDB_txn *txn, void *ctx, tt_err_t *refused)
{
    s_name_t *x = ctx;
    size_t len = strlen(x->name);
    MDB_val key = {sizeof x->hash, x->hash}, val;
    int rc = tt_memory_impl_get(self, txn, TT_MEMORY_DB_AGENTS, &key, &val);
    if (rc == MDB_SUCCESS) {
        if (val.mv_size != TT_MEMORY_ID_LEN + len ||
            memcmp((const uint8_t *)val.mv_data + TT_MEMORY_ID_LEN, x->name, len) != 0) {
            TT_LOG_ERROR("%s: the agent names '%s' and '%.*s' hash alike: not stored together",
                         tt_memory_impl_path(self), x->name,
                         (int)(val.mv_size > TT_MEMORY_ID_LEN ? val.mv_size - TT_MEMORY_ID_LEN : 0),
                         (const char *)val.mv_data + TT_MEMORY_ID_LEN);
            *refused = TT_EEXIST;
            return MDB_SUCCESS;
        }
        x->id = tt_memory_impl_be32_get(val.mv_data);
        return MDB_SUCCESS;
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    MDB_val next_key = tt_memory_impl_text_val(TT_MEMORY_META_NEXT_ID), next;
    rc = tt_memory_impl_get(self, txn, TT_MEMORY_DB_META, &next_key, &next);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        return rc;
    x->id = rc == MDB_SUCCESS && next.mv_size == 4 ? tt_memory_impl_be32_get(next.mv_data) : 1;
    if (x->id == TT_MEMORY_ID_STORE) {
        *refused = TT_ENOMEM; /* 4 billion agents */
        return MDB_SUCCESS;
    }
    uint8_t buf[4];
    tt_memory_impl_be32_put(buf, x->id + 1);
    rc = tt_memory_impl_put(self, txn, TT_MEMORY_DB_META, &next_key, buf, sizeof buf);
    uint8_t *p = NULL;
    if (rc == MDB_SUCCESS)
        rc = tt_memory_impl_reserve(self, txn, TT_MEMORY_DB_AGENTS, &key, TT_MEMORY_ID_LEN + len,
                                    &p);
    if (rc == MDB_SUCCESS) {
        tt_memory_impl_be32_put(p, x->id);
        memcpy(p + TT_MEMORY_ID_LEN, x->name, len);
        tt_memory_impl_seal(TT_MEMORY_DB_AGENTS, &key, p, TT_MEMORY_ID_LEN + len);
    }
    return rc;
}

tt_err_t
tt_memory_open_in(tt_memory_store_t *s, const char *agent, tt_memory_t **out)
{
    TT_ASSERT(s && s->shared && agent && out);
    *out = NULL;
    s_name_t x = {.name = agent};
    crypto_generichash(x.hash, sizeof x.hash, (const uint8_t *)agent, strlen(agent), NULL, 0);
    tt_err_t err = tt_memory_impl_write(s->self, s_apply_name, &x, "name an agent");
    if (err != TT_OK)
        return err;
    tt_memory_t *m = s_handle(s, x.id, false);
    if ((err = s_load_last_step(m)) != TT_OK) {
        tt_memory_close(&m);
        return err;
    }
    *out = m;
    return TT_OK;
}

tt_err_t
tt_memory_discard(const char *dir)
{
    TT_ASSERT(dir && *dir);
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char *path = tt_asprintf("%s/%s", dir, files[i]);
        int rc = unlink(path);
        int e = errno;
        free(path);
        if (rc != 0 && e != ENOENT)
            return TT_EIO;
    }
    return TT_OK;
}

void
tt_memory_close(tt_memory_t **self_p)
{
    TT_ASSERT(self_p);
    tt_memory_t *m = *self_p;
    if (!m)
        return;
    if (m->owns_store)
        tt_memory_store_close(&m->s);
    free(m);
    *self_p = NULL;
}

tt_err_t
tt_memory_damaged(const tt_memory_t *m)
{
    TT_ASSERT(m);
    return m->damaged;
}

uint32_t
tt_memory_last_step(const tt_memory_t *m)
{
    TT_ASSERT(m);
    return m->last_step;
}
