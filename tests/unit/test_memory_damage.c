/*  test_memory_damage -- tt_memory against damage in its own file: a flipped
 *  byte in a stored value, a value changed behind the agent's back while it
 *  runs, every data page overwritten in turn, the file cut under an open
 *  handle (before a read, before a write), a memory of the older format
 *  without checksums. Damage is found (TT_ECORRUPT), never used and never a
 *  crash; what is reported sound reads back exactly as written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tt_log.h"
#include "tt_memory.h"
#include "tt_mem.h"
#include "tt_test.h"

#define TEST_STEPS     40
#define TEST_PER_STEP  8
#define TEST_DIM       16
#define TEST_PAGE_FILL 0xA5

typedef struct {
    char *tmp;
    char *path; /* the environment directory */
    char *file; /* its data.mdb */
    tt_memory_t *mem;
} fixture_t;

static int
s_setup(void **state)
{
    fixture_t *f = tt_new(fixture_t);
    f->tmp = tt_test_tmpdir("memory-damage");
    f->path = tt_asprintf("%s/agent", f->tmp);
    f->file = tt_asprintf("%s/data.mdb", f->path);
    if (tt_memory_open(f->path, &f->mem) != TT_OK)
        return -1;
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *f = *state;
    tt_memory_close(&f->mem);
    tt_test_rmtree(f->tmp);
    free(f->tmp);
    free(f->path);
    free(f->file);
    free(f);
    return 0;
}

/* Episodes "s<step>-<i>" and one semantic item per step, over many pages. */
static void
s_fill(tt_memory_t *m)
{
    for (uint32_t step = 1; step <= TEST_STEPS; step++) {
        tt_memory_batch_t *b = tt_memory_batch_new(step);
        for (int i = 0; i < TEST_PER_STEP; i++) {
            char *item = tt_asprintf("{\"role\":\"user\",\"content\":\"s%u-%d %s\"}", step, i,
                                     "words that make the item long enough to fill pages");
            tt_memory_batch_episode(b, item);
            free(item);
        }
        float vec[TEST_DIM];
        for (int i = 0; i < TEST_DIM; i++)
            vec[i] = (float)((step * 7 + (uint32_t)i) % 11) - 5.0f;
        tt_memory_batch_semantic(b, "{\"content\":\"a memory\"}", vec, TEST_DIM);
        tt_memory_batch_state(b, "{\"cognitive\":{}}");
        assert_int_equal(tt_memory_commit(m, &b, NULL), TT_OK);
    }
}

/* Every episode, one string, to compare memories by. */
static char *
s_everything(tt_memory_t *m)
{
    char **items = NULL;
    size_t n = 0;
    assert_int_equal(tt_memory_episodes(m, 0, SIZE_MAX / 2, &items, &n), TT_OK);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(items[i]) + 1;
    char *all = tt_calloc(1, len);
    for (size_t i = 0; i < n; i++) {
        strcat(all, items[i]);
        strcat(all, "\n");
        free(items[i]);
    }
    free(items);
    return all;
}

static void
s_xor_at(const char *file, off_t at, uint8_t mask)
{
    int fd = open(file, O_RDWR);
    assert_true(fd >= 0);
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= mask;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
}

/* Offset of the first occurrence of text in the file, or -1. */
static off_t
s_find(const char *file, const char *text)
{
    size_t len = 0;
    char *data = tt_test_read_file(file, &len);
    assert_non_null(data);
    off_t at = -1;
    for (size_t i = 0; at < 0 && i + strlen(text) <= len; i++)
        if (memcmp(data + i, text, strlen(text)) == 0)
            at = (off_t)i;
    free(data);
    return at;
}

static void
test_flipped_value_is_found_at_open(void **state)
{
    fixture_t *f = *state;
    s_fill(f->mem);
    tt_memory_close(&f->mem);
    off_t at = s_find(f->file, "s17-3 ");
    assert_true(at > 0);
    s_xor_at(f->file, at + 1, 0x01); /* "s17" -> "s07": still valid JSON */
    assert_int_equal(tt_memory_open(f->path, &f->mem), TT_ECORRUPT);
    assert_null(f->mem);
    /* discarded, it opens empty: the owner rebuilds it from the log */
    assert_int_equal(tt_memory_discard(f->path), TT_OK);
    assert_int_equal(tt_memory_open(f->path, &f->mem), TT_OK);
    assert_int_equal(tt_memory_last_step(f->mem), 0);
    assert_int_equal(tt_memory_episode_count(f->mem), 0);
}

/* Another process rewrites a value (no checksum) while the memory is open:
 * the next read of it says damaged, and no commit is taken after that. */
static void
test_damage_found_by_a_read_stops_commits(void **state)
{
    fixture_t *f = *state;
    s_fill(f->mem);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        /* the private agent's (id 0) last step's first item */
        uint8_t k[12] = {0, 0, 0, 0, 0, 0, 0, TEST_STEPS, 0, 0, 0, 0};
        MDB_val key = {sizeof k, k}, val = {12, "{\"x\":\"junk\"}"};
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 6) ||
            mdb_env_set_mapsize(env, 1 << 24) ||
            mdb_env_open(env, f->path, MDB_NOTLS | MDB_NOSYNC, 0600) ||
            mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, "episodic", 0, &dbi) ||
            mdb_put(txn, dbi, &key, &val, 0) || mdb_txn_commit(txn))
            _exit(2);
        mdb_env_close(env);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    assert_int_equal(tt_memory_damaged(f->mem), TT_OK);
    char **items = NULL;
    size_t n = 0;
    assert_int_equal(tt_memory_episodes(f->mem, 0, TEST_PER_STEP, &items, &n), TT_ECORRUPT);
    assert_null(items);
    assert_int_equal(tt_memory_damaged(f->mem), TT_ECORRUPT);
    tt_memory_batch_t *b = tt_memory_batch_new(TEST_STEPS + 1);
    tt_memory_batch_episode(b, "{\"content\":\"from damaged data\"}");
    assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_ECORRUPT);
    assert_null(b);
    tt_memory_close(&f->mem);
    assert_int_equal(tt_memory_open(f->path, &f->mem), TT_ECORRUPT); /* and at the next open */
}

/* Each page past the meta pages overwritten in turn: the open finds the
 * damage, or the page held nothing live and the memory reads back exactly
 * as before. The process survives every one (LMDB's assertions and faults
 * in the pass are caught by the guard). */
static void
test_every_page_overwritten(void **state)
{
    fixture_t *f = *state;
    s_fill(f->mem);
    char *want = s_everything(f->mem);
    tt_memory_close(&f->mem);
    size_t len = 0;
    char *pristine = tt_test_read_file(f->file, &len);
    assert_non_null(pristine);
    long psize = sysconf(_SC_PAGESIZE);
    size_t pages = len / (size_t)psize, found = 0;
    assert_true(pages > 8);
    char *junk = tt_malloc((size_t)psize);
    for (size_t page = 2; page < pages; page++) {
        for (long i = 0; i < psize; i++)
            junk[i] = (char)(TEST_PAGE_FILL ^ (uint8_t)(i * 31 + page));
        int fd = open(f->file, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, pristine, len), (ssize_t)len);
        assert_int_equal(pwrite(fd, junk, (size_t)psize, (off_t)(page * (size_t)psize)), psize);
        close(fd);
        tt_err_t err = tt_memory_open(f->path, &f->mem);
        if (err == TT_ECORRUPT) {
            found++;
            continue;
        }
        assert_int_equal(err, TT_OK);
        char *got = s_everything(f->mem);
        assert_string_equal(got, want);
        free(got);
        tt_memory_close(&f->mem);
    }
    print_message("%zu of %zu data pages held live data; each was found damaged\n", found,
                  pages - 2);
    assert_true(found > 0);
    assert_true(found < pages - 2); /* free pages: damage there is harmless and read as such */
    free(junk);
    free(pristine);
    free(want);
}

/* Each read of a handle whose file was cut under it (another process, a
 * full disk's victim, an operator), at each of these lengths. */
/* The memory back as it was (pristine, len bytes), opened, then its file cut
 * to cut bytes under the open handle. */
static void
s_open_then_cut(fixture_t *f, const char *pristine, size_t len, off_t cut)
{
    int fd = open(f->file, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pristine, len), (ssize_t)len);
    close(fd);
    assert_int_equal(tt_memory_open(f->path, &f->mem), TT_OK);
    assert_int_equal(truncate(f->file, cut), 0);
}

static void
s_read_cut(fixture_t *f, const char *pristine, size_t len, off_t cut)
{
    s_open_then_cut(f, pristine, len, cut);
    char **items = NULL;
    size_t n = 0;
    assert_int_equal(tt_memory_episodes(f->mem, 0, SIZE_MAX / 2, &items, &n), TT_ECORRUPT);
    assert_null(items);
    assert_int_equal(tt_memory_damaged(f->mem), TT_ECORRUPT);
    float q[TEST_DIM] = {1.0f};
    tt_memory_hit_t hits[4];
    assert_int_equal(tt_memory_search(f->mem, false, q, TEST_DIM, 4, hits, &n), TT_ECORRUPT);
    assert_int_equal(n, 0);
    char *state = NULL;
    assert_int_equal(tt_memory_state(f->mem, &state), TT_ECORRUPT);
    assert_null(state);
    tt_memory_batch_t *b = tt_memory_batch_new(TEST_STEPS + 1);
    tt_memory_batch_episode(b, "{\"content\":\"after the cut\"}");
    assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_ECORRUPT);
    tt_memory_close(&f->mem);
    /* at the next open: damaged, or (nothing left) a new, empty memory */
    tt_err_t err = tt_memory_open(f->path, &f->mem);
    print_message("cut at %lld bytes: the next open says %s\n", (long long)cut, tt_strerror(err));
    if (err == TT_OK) {
        assert_int_equal(cut, 0);
        assert_int_equal(tt_memory_last_step(f->mem), 0);
        tt_memory_close(&f->mem);
    } else {
        assert_int_equal(err, TT_ECORRUPT);
    }
}

/* The file cut while its handle is open: a read touching the lost pages
 * faults (SIGBUS) inside LMDB; the guard turns it into damage, as a checksum
 * mismatch is, so the process survives and commits nothing more. */
static void
test_file_cut_under_a_read(void **state)
{
    fixture_t *f = *state;
    s_fill(f->mem);
    tt_memory_close(&f->mem);
    size_t len = 0;
    char *pristine = tt_test_read_file(f->file, &len);
    assert_non_null(pristine);
    long psize = sysconf(_SC_PAGESIZE);
    assert_true(len > (size_t)(8 * psize));
    /* half the data pages; just the two meta pages; nothing (the meta pages
     * too: the read transaction's start faults) */
    off_t cuts[] = {(off_t)(len / 2 / (size_t)psize * (size_t)psize), 2 * psize, 0};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
        s_read_cut(f, pristine, len, cuts[i]);
    free(pristine);
}

/* The file cut under a handle whose next access is a write (an agent cut
 * between reading its memory and committing its turn): the write's page walk
 * faults inside the guard too; the commit is refused as damaged, the handle
 * is, and nothing later touches the map. */
static void
test_file_cut_under_a_write(void **state)
{
    fixture_t *f = *state;
    s_fill(f->mem);
    tt_memory_close(&f->mem);
    size_t len = 0;
    char *pristine = tt_test_read_file(f->file, &len);
    assert_non_null(pristine);
    long psize = sysconf(_SC_PAGESIZE);
    off_t cuts[] = {(off_t)(len / 2 / (size_t)psize * (size_t)psize), 2 * psize, 0};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        s_open_then_cut(f, pristine, len, cuts[i]);
        for (uint32_t k = 1; k <= 2; k++) {
            tt_memory_batch_t *b = tt_memory_batch_new(TEST_STEPS + k);
            tt_memory_batch_episode(b, "{\"content\":\"after the cut\"}");
            tt_memory_batch_state(b, "{\"cognitive\":{}}");
            assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_ECORRUPT);
            assert_int_equal(tt_memory_damaged(f->mem), TT_ECORRUPT);
        }
        char *st = NULL;
        assert_int_equal(tt_memory_state(f->mem, &st), TT_ECORRUPT);
        assert_null(st);
        tt_memory_close(&f->mem);
    }
    free(pristine);
}

/* A memory written before checksums (format 1: no "format" key, bare
 * values) is not read as format 2: it is refused like a damaged one, and
 * rebuilt from the log by its owner. */
static void
test_older_format_is_refused(void **state)
{
    fixture_t *f = *state;
    tt_memory_close(&f->mem);
    assert_int_equal(tt_memory_discard(f->path), TT_OK);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi[5];
    const char *names[5] = {"episodic", "semantic", "docs", "state", "meta"};
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 6), 0);
    assert_int_equal(mdb_env_open(env, f->path, MDB_NOTLS, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(mdb_dbi_open(txn, names[i], MDB_CREATE, &dbi[i]), 0);
    uint8_t k[8] = {0, 0, 0, 1, 0, 0, 0, 0}, step[4] = {0, 0, 0, 1};
    MDB_val key = {sizeof k, k}, val = {15, "{\"content\":\"a\"}"};
    assert_int_equal(mdb_put(txn, dbi[0], &key, &val, 0), 0);
    key = (MDB_val){9, "last_step"};
    val = (MDB_val){sizeof step, step};
    assert_int_equal(mdb_put(txn, dbi[4], &key, &val, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(tt_memory_open(f->path, &f->mem), TT_ECORRUPT);
}

int
main(void)
{
    /* the damage is logged as errors; TT_TEST_LOG=error shows them */
    tt_log_level = TT_LOG_LEVEL_NONE;
    if (getenv("TT_TEST_LOG"))
        tt_log_parse_level(getenv("TT_TEST_LOG"), &tt_log_level);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flipped_value_is_found_at_open, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_damage_found_by_a_read_stops_commits, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_every_page_overwritten, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_file_cut_under_a_read, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_file_cut_under_a_write, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_older_format_is_refused, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
