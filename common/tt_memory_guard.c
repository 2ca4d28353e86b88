/*  tt_memory_guard -- reads of a mapped LMDB file that cannot take the
 *  process down.
 *
 *  LMDB 0.9 trusts its pages. A damaged page can make it assert (abort), read
 *  past the map (SIGSEGV), or touch a part of the file that is no longer
 *  there (SIGBUS: the file was cut under the map). tt_memory_impl_guarded()
 *  runs a read inside a sigsetjmp frame: SIGSEGV and SIGBUS handlers, and
 *  LMDB's assert callback, jump back to it when the fault happens on the
 *  guarded thread, and the read returns TT_MEMORY_RC_FAULT instead.
 *
 *  Why this is sound enough: a read transaction holds no lock and allocates
 *  nothing inside LMDB's page walk, so abandoning it mid-walk leaves only the
 *  transaction and its cursors to release, which the caller does. A write
 *  abandoned mid-walk holds the writer mutex and its dirty pages, all in this
 *  process's heap and consistent at the faulting load (a page copy is listed
 *  before it is filled): tt_memory_impl_write aborts it, under the guard
 *  again, which frees them and releases the mutex.
 *
 *  What is guarded: the open-time verification (tt_memory_impl_verify), which
 *  reads every live page of a memory that was already on disk, and every read
 *  of a running agent (tt_memory_impl_read: the read transaction's start, the
 *  walk, the copies out of the map), and every write (tt_memory_impl_write:
 *  its transaction from begin to commit). A file cut or damaged under the map
 *  while its agent runs makes that read or write fail as a checksum mismatch
 *  does: the handle is marked damaged (tt_memory_damaged), the store faulted
 *  (no later read or write touches its map: each returns the fault at once),
 *  and agentd discards the memory and stops, so the agent is moved and
 *  rebuilt from the log. Not guarded: the dump (`agentd --dump-memory`, of a
 *  memory the open has just verified).
 *
 *  Faults on unguarded threads, or outside a guard, go to the handler that was
 *  there before (ASan's, or the default action), so crashes elsewhere keep
 *  their usual report. The handlers are put in front at each open (two
 *  sigaction calls, and two more to install them the first time); a read
 *  costs a sigsetjmp that saves no signal mask (no system call: the handlers
 *  run with SA_NODEFER, so nothing is left blocked after the jump) and two
 *  thread-local stores: about 5 ns of CPU (the cheapest read, a count, went
 *  from 53 to 57 ns; a search over 1,000 vectors, 180 us, did not move;
 *  tests/bench/bench_memory_read.c).
 */
#define TT_LOG_MODULE "memory"
#include "tt_memory_impl.h"

#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>

#include "tt_log.h"

/* The current guard of this thread; initial-exec so that the handler reads it
 * without a lazy TLS allocation. */
static __thread sigjmp_buf *s_jump __attribute__((tls_model("initial-exec")));
static struct sigaction s_old_segv, s_old_bus;

static void
s_on_fault(int sig, siginfo_t *info, void *uc)
{
    if (s_jump)
        siglongjmp(*s_jump, sig);
    const struct sigaction *old = sig == SIGBUS ? &s_old_bus : &s_old_segv;
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
        old->sa_sigaction(sig, info, uc);
        return;
    }
    if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
        return;
    }
    /* the default action: put it back; the faulting access runs again */
    sigaction(sig, old, NULL);
}

/* Ours in front of whatever handles sig now (which becomes *old), unless it
 * is ours already. */
static void
s_install_one(int sig, struct sigaction *old)
{
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
        cur.sa_sigaction == s_on_fault)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = s_on_fault;
    /* NODEFER: the jump leaves the handler without restoring a mask, so the
     * signal must not be blocked while it runs. Not ONSTACK: on the thread's
     * own stack the jump unwinds the frames it abandons (ASan unpoisons them;
     * from an alternate stack it would unpoison that one instead) */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, old);
}

/* Checked at every guard, not once: a handler installed since (a test
 * harness's, a library's) would otherwise take the fault. */
static void
s_install(void)
{
    s_install_one(SIGSEGV, &s_old_segv);
    s_install_one(SIGBUS, &s_old_bus);
}

static void
s_on_assert(MDB_env *env, const char *msg)
{
    if (!s_jump)
        return; /* LMDB aborts, as it would have */
    TT_LOG_ERROR("lmdb: %s", msg);
    siglongjmp(*s_jump, SIGABRT);
}

void
tt_memory_impl_guard_env(MDB_env *env)
{
    mdb_env_set_assert(env, s_on_assert);
}

/* The guard without the handler check (see tt_memory_impl_read). */
static int
s_guarded(tt_memory_t *m, tt_memory_guarded_fn *fn, void *ctx)
{
    sigjmp_buf jump;
    sigjmp_buf *volatile outer = s_jump; /* guards nest */
    int sig = sigsetjmp(jump, 0);
    if (sig != 0) {
        s_jump = outer;
        m->s->faulted = true;
        TT_LOG_ERROR("%s: a read of the map faulted (%s): the file is damaged",
                     tt_memory_impl_path(m),
                     sig == SIGBUS    ? "SIGBUS"
                     : sig == SIGSEGV ? "SIGSEGV"
                                      : "LMDB assertion");
        return TT_MEMORY_RC_FAULT;
    }
    s_jump = &jump;
    int rc = fn(m, ctx);
    s_jump = outer;
    return rc;
}

int
tt_memory_impl_guarded(tt_memory_t *m, tt_memory_guarded_fn *fn, void *ctx)
{
    s_install();
    return s_guarded(m, fn, ctx);
}

/* The guard of a running agent's reads and writes, without the handler
 * check: the handlers were put in front when the handle was opened (its
 * verification, or a new file's first guard here); checking them again at
 * every access would cost two system calls. */
int
tt_memory_impl_guarded_hot(tt_memory_t *m, tt_memory_guarded_fn *fn, void *ctx)
{
    static _Atomic bool installed;
    if (!installed) {
        s_install();
        installed = true;
    }
    return s_guarded(m, fn, ctx);
}

typedef struct {
    tt_memory_read_fn *fn;
    void *ctx;
} s_read_t;

static int
s_read(tt_memory_t *m, void *arg)
{
    s_read_t *r = arg;
    MDB_txn *txn;
    int rc = tt_memory_impl_read_begin(m, &txn); /* reads the meta pages: guarded too */
    return rc == MDB_SUCCESS ? r->fn(m, txn, r->ctx) : rc;
}

int
tt_memory_impl_read(tt_memory_t *m, tt_memory_read_fn *fn, void *ctx)
{
    if (m->s->faulted)
        return TT_MEMORY_RC_FAULT; /* logged when it happened */
    s_read_t r = {fn, ctx};
    int rc = tt_memory_impl_guarded_hot(m, s_read, &r);
    if (m->s->rcur) {
        mdb_cursor_close(m->s->rcur);
        m->s->rcur = NULL;
    }
    /* after a fault too: a reset only marks the reader slot free and the
     * transaction finished, so the next read renews it. (Aborting it would
     * make the next read begin a new one, and a fault inside mdb_txn_begin
     * loses the allocation; so does one after the map grew, which drops
     * the transaction: a few hundred bytes, once, in a process that stops.) */
    tt_memory_impl_read_end(m);
    return rc;
}

int
tt_memory_impl_cursor(tt_memory_t *m, MDB_txn *txn, tt_memory_db_t db, MDB_cursor **cur)
{
    TT_ASSERT(!m->s->rcur);
    /* A database is looked up afresh in each transaction; mdb_cursor_open
     * does that after allocating the cursor, so a fault there would lose it.
     * mdb_stat looks it up with a cursor on the stack. */
    MDB_stat st;
    int rc = mdb_stat(txn, m->s->dbi[db], &st);
    if (rc != MDB_SUCCESS)
        return rc;
    rc = mdb_cursor_open(txn, m->s->dbi[db], cur);
    m->s->rcur = rc == MDB_SUCCESS ? *cur : NULL;
    return rc;
}
