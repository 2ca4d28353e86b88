/*  test_memory -- tt_memory: round trips, time order, the prompt window,
 *  search, rollback, fencing, map growth, other processes dying inside
 *  transactions, wipe, dump.
 *
 *  Each test opens a fresh environment in a temporary directory (the fixture).
 *  Tests that fork close the parent's environment first: an LMDB environment
 *  must never cross fork(), so every child opens its own, with the raw LMDB
 *  API, to be caught inside a transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <lmdb.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tt_log.h"
#include "tt_memory.h"
#include "tt_mem.h"
#include "tt_test.h"

#define TEST_DIM        4
#define TEST_BIG_DIM    259 /* not a multiple of the 8-way unrolled loop */
#define TEST_READER_MAX 8192

typedef struct {
    char *tmp;  /* the mkdtemp directory */
    char *path; /* the environment: tmp/agent, created by tt_memory_open */
    tt_memory_t *mem;
} fixture_t;

static int
s_setup(void **state)
{
    fixture_t *f = tt_new(fixture_t);
    f->tmp = tt_test_tmpdir("memory");
    f->path = tt_asprintf("%s/agent", f->tmp);
    if (tt_memory_open(f->path, &f->mem) != TT_OK)
        return -1;
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *f = *state;
    unsetenv("TT_MEMORY_INITIAL_MAP"); /* even when a test failed half-way */
    tt_memory_close(&f->mem);
    tt_test_rmtree(f->tmp);
    free(f->tmp);
    free(f->path);
    free(f);
    return 0;
}

static void
s_reopen(fixture_t *f)
{
    tt_memory_close(&f->mem);
    assert_null(f->mem);
    assert_int_equal(tt_memory_open(f->path, &f->mem), TT_OK);
}

static char *
s_item(const char *content)
{
    return tt_asprintf("{\"role\":\"user\",\"content\":\"%s\",\"type\":\"stimulus\","
                       "\"simulation_timestamp\":\"2026-03-01T09:00:00\"}",
                       content);
}

/* Does item JSON carry this content? */
static bool
s_item_is(const char *item, const char *content)
{
    char *want = s_item(content);
    bool same = strcmp(item, want) == 0;
    free(want);
    return same;
}

static void
s_add_episode(tt_memory_batch_t *b, const char *content)
{
    char *item = s_item(content);
    tt_memory_batch_episode(b, item);
    free(item);
}

/* Commit episodes named "<prefix>0".. "<prefix>n-1" for step. */
static void
s_commit_episodes(tt_memory_t *m, uint32_t step, const char *prefix, int n)
{
    tt_memory_batch_t *b = tt_memory_batch_new(step);
    for (int i = 0; i < n; i++) {
        char *content = tt_asprintf("%s%d", prefix, i);
        s_add_episode(b, content);
        free(content);
    }
    assert_int_equal(tt_memory_commit(m, &b, NULL), TT_OK);
    assert_null(b);
}

static void
s_free_strings(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

static void
s_free_hits(tt_memory_hit_t *hits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tt_memory_hit_fini(&hits[i]);
        assert_null(hits[i].text);
    }
}

static void
s_assert_meta(tt_memory_t *m, const char *key, const char *want)
{
    char *value = NULL;
    assert_int_equal(tt_memory_meta_get(m, key, &value), TT_OK);
    assert_string_equal(value, want);
    free(value);
}

static off_t
s_file_size(const char *dir, const char *name)
{
    char *path = tt_asprintf("%s/%s", dir, name);
    struct stat st;
    int rc = stat(path, &st);
    free(path);
    return rc == 0 ? st.st_size : -1;
}

/* ------------------------------------------------------------ files */

static void
test_open_creates_private_files(void **state)
{
    fixture_t *f = *state;
    mode_t old = umask(022);
    char *nested = tt_asprintf("%s/agents/Lisa", f->tmp);
    tt_memory_t *m = NULL;
    assert_int_equal(tt_memory_open(nested, &m), TT_OK);
    tt_memory_close(&m);
    umask(old);

    const char *paths[] = {"agents", "agents/Lisa", "agents/Lisa/data.mdb", "agents/Lisa/lock.mdb"};
    const mode_t modes[] = {0700, 0700, 0600, 0600};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char *path = tt_asprintf("%s/%s", f->tmp, paths[i]);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, modes[i]);
        free(path);
    }
    free(nested);

    /* a file where the directory should be is an error, not a crash */
    char *file = tt_asprintf("%s/plain", f->tmp);
    assert_true(tt_test_write_file(file, "x"));
    assert_int_not_equal(tt_memory_open(file, &m), TT_OK);
    assert_null(m);
    free(file);

    /* LMDB itself refuses (data.mdb is a directory): a clean error too */
    char *broken = tt_asprintf("%s/broken", f->tmp);
    char *inner = tt_asprintf("%s/data.mdb", broken);
    assert_int_equal(mkdir(broken, 0700), 0);
    assert_int_equal(mkdir(inner, 0700), 0);
    assert_int_not_equal(tt_memory_open(broken, &m), TT_OK);
    assert_null(m);
    free(inner);
    free(broken);
}

/* ------------------------------------------------------------ round trip */

static void
s_commit_one_of_each(tt_memory_t *m, uint32_t step, const char *owner)
{
    const float east[TEST_DIM] = {1, 0, 0, 0}, north[TEST_DIM] = {0, 1, 0, 0};
    tt_memory_batch_t *b = tt_memory_batch_new(step);
    s_add_episode(b, "hello");
    s_add_episode(b, "how are you");
    tt_memory_batch_semantic(b, "{\"content\":\"Lisa likes tea\"}", east, TEST_DIM);
    tt_memory_batch_document(b, "guide.md", 0, "Hello ", north, TEST_DIM);
    tt_memory_batch_document(b, "guide.md", 1, "world", east, TEST_DIM);
    tt_memory_batch_state(b, "{\"goals\":\"old\"}");
    tt_memory_batch_state(b, "{\"goals\":\"listen\"}"); /* the last one wins */
    tt_memory_batch_meta(b, "run_id", "abc123");
    assert_int_equal(tt_memory_commit(m, &b, owner), TT_OK);
    assert_null(b);
}

static void
test_round_trip_each_kind(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(tt_memory_last_step(f->mem), 0);
    assert_int_equal(tt_memory_claim(f->mem, "run1/1"), TT_OK);
    s_commit_one_of_each(f->mem, 1, "run1/1");
    assert_int_equal(tt_memory_last_step(f->mem), 1);
    s_reopen(f); /* everything below comes from the file */
    assert_int_equal(tt_memory_last_step(f->mem), 1);

    char **items;
    size_t n;
    assert_int_equal(tt_memory_episode_count(f->mem), 2);
    assert_int_equal(tt_memory_episodes(f->mem, 10, 20, &items, &n), TT_OK);
    assert_int_equal(n, 2);
    assert_true(s_item_is(items[0], "hello"));
    assert_true(s_item_is(items[1], "how are you"));
    s_free_strings(items, n);

    const float q[TEST_DIM] = {1, 0, 0, 0};
    tt_memory_hit_t hits[4];
    assert_int_equal(tt_memory_semantic_count(f->mem), 1);
    assert_int_equal(tt_memory_search(f->mem, false, q, TEST_DIM, 4, hits, &n), TT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].text, "{\"content\":\"Lisa likes tea\"}");
    assert_null(hits[0].source);
    assert_int_equal(hits[0].step, 1);
    assert_float_equal(hits[0].score, 1.0f, 1e-6);
    s_free_hits(hits, n);
    assert_int_equal(tt_memory_search(f->mem, true, q, TEST_DIM, 4, hits, &n), TT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(hits[0].text, "world");
    assert_string_equal(hits[0].source, "guide.md");
    assert_string_equal(hits[1].text, "Hello ");
    s_free_hits(hits, n);

    assert_int_equal(tt_memory_document_names(f->mem, &items, &n), TT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0], "guide.md");
    s_free_strings(items, n);
    char *text;
    assert_int_equal(tt_memory_document_text(f->mem, "guide.md", &text), TT_OK);
    assert_string_equal(text, "Hello world");
    free(text);
    assert_true(tt_memory_has_document(f->mem, "guide.md"));
    assert_false(tt_memory_has_document(f->mem, "guide")); /* a prefix is not a name */
    assert_false(tt_memory_has_document(f->mem, "guide.md2"));

    assert_int_equal(tt_memory_state(f->mem, &text), TT_OK);
    assert_string_equal(text, "{\"goals\":\"listen\"}");
    free(text);
    s_assert_meta(f->mem, "run_id", "abc123");
    s_assert_meta(f->mem, "owner", "run1/1");
    s_assert_meta(f->mem, "last_step", "1");

    /* the newest state is the one of the highest step */
    tt_memory_batch_t *b = tt_memory_batch_new(300);
    tt_memory_batch_state(b, "{\"goals\":\"leave\"}");
    assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_OK);
    assert_int_equal(tt_memory_state(f->mem, &text), TT_OK);
    assert_string_equal(text, "{\"goals\":\"leave\"}");
    free(text);
}

static void
test_missing_things_are_not_found(void **state)
{
    fixture_t *f = *state;
    char *text = (char *)"sentinel", **items;
    size_t n;
    assert_int_equal(tt_memory_meta_get(f->mem, "run_id", &text), TT_ENOTFOUND);
    assert_null(text);
    assert_int_equal(tt_memory_state(f->mem, &text), TT_ENOTFOUND);
    assert_int_equal(tt_memory_document_text(f->mem, "nope", &text), TT_ENOTFOUND);
    assert_null(text);
    assert_false(tt_memory_has_document(f->mem, "nope"));
    assert_int_equal(tt_memory_episodes(f->mem, 10, 20, &items, &n), TT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tt_memory_episodes_since(f->mem, 0, &items, &n), TT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tt_memory_document_names(f->mem, &items, &n), TT_OK);
    assert_int_equal(n, 0);
    const float q[TEST_DIM] = {1, 0, 0, 0};
    tt_memory_hit_t hits[2];
    assert_int_equal(tt_memory_search(f->mem, false, q, TEST_DIM, 2, hits, &n), TT_OK);
    assert_int_equal(n, 0);
    tt_memory_close(&f->mem);
    tt_memory_close(&f->mem); /* closing twice is harmless */
}

/* ------------------------------------------------------------ time order */

static void
test_seq_orders_within_and_across_steps(void **state)
{
    fixture_t *f = *state;
    /* 256 and 65536 sort before 2 if keys were little-endian */
    s_commit_episodes(f->mem, 2, "a", 3);
    s_commit_episodes(f->mem, 2, "b", 1); /* same step again: seq 3, not 0 */
    s_commit_episodes(f->mem, 255, "c", 1);
    s_commit_episodes(f->mem, 256, "d", 2);
    s_commit_episodes(f->mem, 65536, "e", 1);
    const char *want[] = {"a0", "a1", "a2", "b0", "c0", "d0", "d1", "e0"};
    const size_t n_want = sizeof want / sizeof want[0];

    char **items;
    size_t n;
    assert_int_equal(tt_memory_episode_count(f->mem), n_want);
    assert_int_equal(tt_memory_episodes(f->mem, 100, 0, &items, &n), TT_OK);
    assert_int_equal(n, n_want);
    for (size_t i = 0; i < n; i++)
        assert_true(s_item_is(items[i], want[i]));
    s_free_strings(items, n);

    assert_int_equal(tt_memory_episodes_since(f->mem, 256, &items, &n), TT_OK);
    assert_int_equal(n, 3);
    assert_true(s_item_is(items[0], "d0") && s_item_is(items[2], "e0"));
    s_free_strings(items, n);
    assert_int_equal(tt_memory_episodes_since(f->mem, 3, &items, &n), TT_OK);
    assert_int_equal(n, 4);
    assert_true(s_item_is(items[0], "c0"));
    s_free_strings(items, n);
    assert_int_equal(tt_memory_episodes_since(f->mem, 70000, &items, &n), TT_OK);
    assert_int_equal(n, 0);

    /* the seq numbers themselves, as the dump shows them */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(tt_memory_dump(f->mem, out), TT_OK);
    fclose(out);
    assert_non_null(strstr(buf, "\"step\":2,\"seq\":3,"));
    assert_non_null(strstr(buf, "\"step\":256,\"seq\":1,"));
    assert_null(strstr(buf, "\"step\":2,\"seq\":4,"));
    free(buf);
}

static void
test_older_step_is_refused(void **state)
{
    fixture_t *f = *state;
    s_commit_episodes(f->mem, 5, "x", 1);
    tt_memory_batch_t *b = tt_memory_batch_new(4);
    s_add_episode(b, "late");
    assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_ESTALE);
    assert_null(b); /* consumed even when refused */
    assert_int_equal(tt_memory_last_step(f->mem), 5);
    assert_int_equal(tt_memory_episode_count(f->mem), 1);
}

/* ------------------------------------------------------------ the window */

static void
s_assert_window(tt_memory_t *m, size_t first_n, size_t last_n, const int *want, size_t n_want)
{
    char **items;
    size_t n;
    assert_int_equal(tt_memory_episodes(m, first_n, last_n, &items, &n), TT_OK);
    assert_int_equal(n, n_want);
    for (size_t i = 0; i < n; i++) {
        char content[16];
        snprintf(content, sizeof content, "e%d", want[i]);
        if (!s_item_is(items[i], content))
            fail_msg("window(%zu,%zu)[%zu] = %s, want %s", first_n, last_n, i, items[i], content);
    }
    s_free_strings(items, n);
}

static void
test_window_first_and_last_without_overlap(void **state)
{
    fixture_t *f = *state;
    enum { TOTAL = 50, PER_STEP = 5 };
    for (int s = 0; s < TOTAL / PER_STEP; s++) {
        tt_memory_batch_t *b = tt_memory_batch_new((uint32_t)s + 1);
        for (int i = 0; i < PER_STEP; i++) {
            char content[16];
            snprintf(content, sizeof content, "e%d", s * PER_STEP + i);
            s_add_episode(b, content);
        }
        assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_OK);
    }
    int want[TOTAL], n = 0;
    /* TinyTroupe's window: first 10 + last 20 */
    for (int i = 0; i < 10; i++)
        want[n++] = i;
    for (int i = 30; i < TOTAL; i++)
        want[n++] = i;
    s_assert_window(f->mem, 10, 20, want, (size_t)n);

    int all[TOTAL];
    for (int i = 0; i < TOTAL; i++)
        all[i] = i;
    s_assert_window(f->mem, 30, 30, all, TOTAL);             /* more asked than stored */
    s_assert_window(f->mem, 10, 40, all, TOTAL);             /* exactly all */
    s_assert_window(f->mem, SIZE_MAX, SIZE_MAX, all, TOTAL); /* no overflow */
    s_assert_window(f->mem, 0, 5, all + 45, 5);
    s_assert_window(f->mem, 5, 0, all, 5);
    s_assert_window(f->mem, 0, 0, all, 0);
    /* one short of all: only e10 is left out */
    n = 0;
    for (int i = 0; i < TOTAL; i++)
        if (i != 10)
            want[n++] = i;
    s_assert_window(f->mem, 10, 39, want, (size_t)n);
}

/* ------------------------------------------------------------ search */

static void
test_search_ranks_by_cosine(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *name;
        float vec[TEST_DIM];
        uint32_t dim;
    } items[] = {
        {"east", {1, 0, 0, 0}, 4},     {"north-east", {1, 1, 0, 0}, 4},
        {"north", {0, 1, 0, 0}, 4},    {"west", {-1, 0, 0, 0}, 4},
        {"short", {1, 0, 0, 0}, 3},    {"mostly-east", {2, 1, 0, 0}, 4},
        {"far-east", {5, 0, 0, 0}, 4}, /* ties with east, stored later */
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        tt_memory_batch_t *b = tt_memory_batch_new((uint32_t)i + 1);
        char *json = tt_asprintf("{\"content\":\"%s\"}", items[i].name);
        tt_memory_batch_semantic(b, json, items[i].vec, items[i].dim);
        assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_OK);
        free(json);
    }
    const float q[TEST_DIM] = {0.5f, 0, 0, 0};
    const char *order[] = {"east", "far-east", "mostly-east", "north-east", "north", "west"};
    const float score[] = {1, 1, 0.894427f, 0.707107f, 0, -1};
    const uint32_t step[] = {1, 7, 6, 2, 3, 4};
    tt_memory_hit_t hits[10];
    size_t n;
    assert_int_equal(tt_memory_search(f->mem, false, q, TEST_DIM, 10, hits, &n), TT_OK);
    assert_int_equal(n, 6); /* "short" has another dim */
    for (size_t i = 0; i < n; i++) {
        char *json = tt_asprintf("{\"content\":\"%s\"}", order[i]);
        assert_string_equal(hits[i].text, json);
        assert_float_equal(hits[i].score, score[i], 1e-5);
        assert_int_equal(hits[i].step, step[i]);
        free(json);
    }
    s_free_hits(hits, n);

    assert_int_equal(tt_memory_search(f->mem, false, q, TEST_DIM, 3, hits, &n), TT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(hits[2].text, "{\"content\":\"mostly-east\"}");
    s_free_hits(hits, n);

    assert_int_equal(tt_memory_search(f->mem, false, q, 3, 10, hits, &n), TT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].text, "{\"content\":\"short\"}");
    s_free_hits(hits, n);
}

static float
s_lcg(uint32_t *seed)
{
    *seed = *seed * 1664525u + 1013904223u;
    return (float)(*seed >> 8) / (float)(1u << 24) - 0.5f;
}

/* The unrolled loop against a plain double-precision reference, on vectors
 * whose dimension leaves a remainder, in documents. */
static void
test_search_matches_reference_cosine(void **state)
{
    fixture_t *f = *state;
    enum { N = 60, K = 5 };
    static float vecs[N][TEST_BIG_DIM];
    double ref[N];
    uint32_t seed = 42;
    tt_memory_batch_t *b = tt_memory_batch_new(1);
    for (int i = 0; i < N; i++) {
        for (int d = 0; d < TEST_BIG_DIM; d++)
            vecs[i][d] = s_lcg(&seed);
        char name[16], text[16];
        snprintf(name, sizeof name, "doc%02d", i / 3);
        snprintf(text, sizeof text, "chunk%d", i);
        tt_memory_batch_document(b, name, (uint32_t)(i % 3), text, vecs[i], TEST_BIG_DIM);
    }
    assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_OK);
    float q[TEST_BIG_DIM];
    for (int d = 0; d < TEST_BIG_DIM; d++)
        q[d] = 2 * vecs[17][d] + 0.1f * s_lcg(&seed);
    for (int i = 0; i < N; i++) {
        double dot = 0, qq = 0, vv = 0;
        for (int d = 0; d < TEST_BIG_DIM; d++) {
            dot += (double)q[d] * vecs[i][d];
            qq += (double)q[d] * q[d];
            vv += (double)vecs[i][d] * vecs[i][d];
        }
        ref[i] = dot / sqrt(qq * vv);
    }
    tt_memory_hit_t hits[K];
    size_t n;
    assert_int_equal(tt_memory_search(f->mem, true, q, TEST_BIG_DIM, K, hits, &n), TT_OK);
    assert_int_equal(n, K);
    assert_string_equal(hits[0].text, "chunk17");
    assert_string_equal(hits[0].source, "doc05");
    for (size_t k = 0; k < n; k++) {
        int i = atoi(hits[k].text + 5);
        assert_float_equal(hits[k].score, ref[i], 1e-4);
        for (int j = 0; j < N; j++) /* nothing better was left out */
            if (ref[j] > ref[i] + 1e-4) {
                bool listed = false;
                for (size_t l = 0; l < k; l++)
                    listed |= atoi(hits[l].text + 5) == j;
                assert_true(listed);
            }
    }
    s_free_hits(hits, n);
}

/* ------------------------------------------------------------ rollback */

static void
test_rollback_removes_exactly_later_steps(void **state)
{
    fixture_t *f = *state;
    const float v[TEST_DIM] = {1, 2, 3, 4};
    for (uint32_t s = 1; s <= 5; s++) {
        tt_memory_batch_t *b = tt_memory_batch_new(s);
        for (int i = 0; i < 2; i++) {
            char content[16];
            snprintf(content, sizeof content, "s%u-%d", s, i);
            s_add_episode(b, content);
        }
        char *json = tt_asprintf("{\"step\":%u}", s);
        tt_memory_batch_semantic(b, json, v, TEST_DIM);
        tt_memory_batch_state(b, json);
        if (s == 3)
            tt_memory_batch_document(b, "manual", 0, "read me", v, TEST_DIM);
        free(json);
        assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_OK);
    }
    assert_int_equal(tt_memory_rollback(f->mem, 3), TT_OK);
    assert_int_equal(tt_memory_last_step(f->mem), 3);
    s_reopen(f);
    assert_int_equal(tt_memory_last_step(f->mem), 3);
    s_assert_meta(f->mem, "last_step", "3");

    char **items, *text;
    size_t n;
    assert_int_equal(tt_memory_episodes(f->mem, 100, 0, &items, &n), TT_OK);
    assert_int_equal(n, 6);
    assert_true(s_item_is(items[0], "s1-0"));
    assert_true(s_item_is(items[5], "s3-1"));
    s_free_strings(items, n);
    assert_int_equal(tt_memory_semantic_count(f->mem), 3);
    assert_int_equal(tt_memory_state(f->mem, &text), TT_OK);
    assert_string_equal(text, "{\"step\":3}");
    free(text);
    assert_true(tt_memory_has_document(f->mem, "manual")); /* documents stay */

    /* step 4 again: a clean slate, seq from 0 */
    s_commit_episodes(f->mem, 4, "again", 1);
    assert_int_equal(tt_memory_episodes_since(f->mem, 4, &items, &n), TT_OK);
    assert_int_equal(n, 1);
    assert_true(s_item_is(items[0], "again0"));
    s_free_strings(items, n);

    assert_int_equal(tt_memory_rollback(f->mem, 0), TT_OK);
    assert_int_equal(tt_memory_episode_count(f->mem), 0);
    assert_int_equal(tt_memory_semantic_count(f->mem), 0);
    assert_int_equal(tt_memory_state(f->mem, &text), TT_ENOTFOUND);
    assert_true(tt_memory_has_document(f->mem, "manual"));
}

/* ------------------------------------------------------------ fencing */

static void
test_stale_owner_is_fenced_off(void **state)
{
    fixture_t *f = *state;
    /* nobody claimed: an owner cannot match */
    tt_memory_batch_t *b = tt_memory_batch_new(1);
    s_add_episode(b, "unclaimed");
    assert_int_equal(tt_memory_commit(f->mem, &b, "agent/1"), TT_ESTALE);

    assert_int_equal(tt_memory_claim(f->mem, "agent/1"), TT_OK);
    s_commit_one_of_each(f->mem, 1, "agent/1");
    assert_int_equal(tt_memory_claim(f->mem, "agent/2"), TT_OK); /* the successor */

    const float v[TEST_DIM] = {1, 0, 0, 0};
    const char *stale[] = {"agent/1", "agent/", "agent/22", ""};
    for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++) {
        b = tt_memory_batch_new(2);
        s_add_episode(b, "from the past");
        tt_memory_batch_semantic(b, "{}", v, TEST_DIM);
        tt_memory_batch_document(b, "stale.md", 0, "x", v, TEST_DIM);
        tt_memory_batch_state(b, "{\"goals\":\"stale\"}");
        tt_memory_batch_meta(b, "note", "stale");
        assert_int_equal(tt_memory_commit(f->mem, &b, stale[i]), TT_ESTALE);
        assert_null(b);
    }
    s_reopen(f);
    char *text;
    assert_int_equal(tt_memory_last_step(f->mem), 1);
    assert_int_equal(tt_memory_episode_count(f->mem), 2);
    assert_int_equal(tt_memory_semantic_count(f->mem), 1);
    assert_false(tt_memory_has_document(f->mem, "stale.md"));
    assert_int_equal(tt_memory_state(f->mem, &text), TT_OK);
    assert_string_equal(text, "{\"goals\":\"listen\"}");
    free(text);
    assert_int_equal(tt_memory_meta_get(f->mem, "note", &text), TT_ENOTFOUND);
    s_assert_meta(f->mem, "owner", "agent/2");

    b = tt_memory_batch_new(2);
    s_add_episode(b, "current");
    assert_int_equal(tt_memory_commit(f->mem, &b, "agent/2"), TT_OK);
    assert_int_equal(tt_memory_last_step(f->mem), 2);
    s_commit_episodes(f->mem, 3, "unchecked", 1); /* NULL owner: no check */
    assert_int_equal(tt_memory_episode_count(f->mem), 4);
}

/* ------------------------------------------------------------ the map */

static void
test_map_full_grows_and_retries(void **state)
{
    fixture_t *f = *state;
    enum { INITIAL = 64 << 10, BATCHES = 6, EPISODES = 40, SEMANTIC = 10, DIM = 512 };
    tt_memory_close(&f->mem);
    char *dir = tt_asprintf("%s/small", f->tmp);
    setenv("TT_MEMORY_INITIAL_MAP", "65536", 1);
    assert_int_equal(tt_memory_open(dir, &f->mem), TT_OK);

    char *filler = tt_malloc(4001);
    memset(filler, 'z', 4000);
    filler[4000] = '\0';
    float vec[DIM];
    for (int d = 0; d < DIM; d++)
        vec[d] = (float)d;
    for (uint32_t s = 1; s <= BATCHES; s++) {
        tt_memory_batch_t *b = tt_memory_batch_new(s);
        for (int i = 0; i < EPISODES; i++) {
            char *content = tt_asprintf("%u-%d-%s", s, i, filler);
            s_add_episode(b, content);
            free(content);
        }
        for (int i = 0; i < SEMANTIC; i++)
            tt_memory_batch_semantic(b, "{\"content\":\"big\"}", vec, DIM);
        assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_OK);
        if (s == 2) { /* a reopened env is more than half full: grown at open */
            tt_memory_close(&f->mem);
            assert_int_equal(tt_memory_open(dir, &f->mem), TT_OK);
        }
    }
    /* far more data than the initial map: it must have grown */
    assert_true(s_file_size(dir, "data.mdb") > 8 * INITIAL);
    assert_int_equal(tt_memory_episode_count(f->mem), BATCHES * EPISODES);
    assert_int_equal(tt_memory_semantic_count(f->mem), BATCHES * SEMANTIC);
    char **items;
    size_t n;
    assert_int_equal(tt_memory_episodes(f->mem, 1, 1, &items, &n), TT_OK);
    assert_int_equal(n, 2);
    assert_non_null(strstr(items[0], "\"1-0-zzz"));
    assert_non_null(strstr(items[1], "\"6-39-zzz"));
    assert_true(strlen(items[1]) > 4000);
    s_free_strings(items, n);
    tt_memory_hit_t hits[3];
    assert_int_equal(tt_memory_search(f->mem, false, vec, DIM, 3, hits, &n), TT_OK);
    assert_int_equal(n, 3);
    assert_float_equal(hits[0].score, 1.0f, 1e-5);
    s_free_hits(hits, n);
    unsetenv("TT_MEMORY_INITIAL_MAP");
    free(filler);
    free(dir);
}

/* The child of test_map_grown_by_another_process: waits for the go, then
 * commits far more than the parent's map holds. */
static void
s_grow_child(const char *path, int go)
{
    char c;
    if (read(go, &c, 1) != 1)
        _exit(2);
    tt_memory_t *m;
    if (tt_memory_open(path, &m) != TT_OK)
        _exit(3);
    char *filler = tt_malloc(3001);
    memset(filler, 'g', 3000);
    filler[3000] = '\0';
    tt_memory_batch_t *b = tt_memory_batch_new(2);
    for (int i = 0; i < 200; i++)
        s_add_episode(b, filler);
    tt_err_t err = tt_memory_commit(m, &b, NULL);
    tt_memory_close(&m);
    free(filler);
    _exit(err == TT_OK ? 0 : 4);
}

/* Another process grows the map past ours: our next read and write adopt it
 * (MDB_MAP_RESIZED) instead of failing. */
static void
test_map_grown_by_another_process(void **state)
{
    fixture_t *f = *state;
    tt_memory_close(&f->mem); /* fork with no environment open */
    setenv("TT_MEMORY_INITIAL_MAP", "65536", 1);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        s_grow_child(f->path, go[0]);
    }
    close(go[0]);
    assert_int_equal(tt_memory_open(f->path, &f->mem), TT_OK);
    s_commit_episodes(f->mem, 1, "small", 1);
    assert_int_equal(write(go[1], "g", 1), 1);
    close(go[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    char **items;
    size_t n;
    assert_int_equal(tt_memory_episodes(f->mem, 1, 1, &items, &n), TT_OK);
    assert_int_equal(n, 2);
    assert_true(s_item_is(items[0], "small0"));
    assert_non_null(strstr(items[1], "gggg"));
    s_free_strings(items, n);
    s_commit_episodes(f->mem, 3, "big", 50);
    assert_int_equal(tt_memory_episode_count(f->mem), 251);
}

/* ------------------------------------------------------------ other processes */

/* A child that opens the environment with the raw API, as another process
 * would. Returns the env or exits. */
static MDB_env *
s_child_env(const char *path)
{
    MDB_env *env;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 6) ||
        mdb_env_open(env, path, MDB_NOTLS | MDB_NOSYNC, 0600))
        _exit(2);
    return env;
}

static void
s_child_ready(int fd)
{
    if (write(fd, "r", 1) != 1)
        _exit(3);
}

static void
s_wait_ready(int fd)
{
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
}

/* Fork a child that holds a read transaction (write_txn false) or writes
 * junk into an uncommitted write transaction, then waits to be killed. */
static pid_t
s_fork_victim(const char *path, bool write_txn)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        MDB_env *env = s_child_env(path);
        MDB_txn *rtxn, *wtxn;
        MDB_dbi dbi;
        if (mdb_txn_begin(env, NULL, MDB_RDONLY, &rtxn))
            _exit(4);
        if (write_txn) {
            if (mdb_txn_begin(env, NULL, 0, &wtxn) || mdb_dbi_open(wtxn, "episodic", 0, &dbi))
                _exit(5);
            for (uint32_t i = 0; i < 100; i++) {
                uint8_t k[8] = {0xff,
                                0xff,
                                0,
                                0,
                                (uint8_t)(i >> 24),
                                (uint8_t)(i >> 16),
                                (uint8_t)(i >> 8),
                                (uint8_t)i};
                MDB_val key = {sizeof k, k}, val = {5, "junk!"};
                if (mdb_put(wtxn, dbi, &key, &val, 0))
                    _exit(6);
            }
        }
        s_child_ready(fds[1]);
        for (;;)
            pause();
    }
    close(fds[1]);
    s_wait_ready(fds[0]);
    close(fds[0]);
    return pid;
}

static void
s_kill9(pid_t pid)
{
    int status;
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

typedef struct {
    pid_t pid;
    int cmd;   /* parent -> keeper: 'l' list readers, 'q' quit */
    int reply; /* keeper -> parent: the reader table text, NUL-terminated */
} keeper_t;

static int
s_keeper_list(const char *msg, void *ctx)
{
    char *buf = ctx;
    size_t len = strlen(buf);
    snprintf(buf + len, TEST_READER_MAX - len, "%s", msg);
    return 0;
}

/* A child that keeps the environment open, so the lock file is not reset when
 * the parent opens it: stale reader slots survive until someone clears them. */
static keeper_t
s_fork_keeper(const char *path)
{
    int cmd[2], reply[2];
    assert_int_equal(pipe(cmd), 0);
    assert_int_equal(pipe(reply), 0);
    keeper_t k = {fork(), cmd[1], reply[0]};
    assert_true(k.pid >= 0);
    if (k.pid == 0) {
        close(cmd[1]);
        close(reply[0]);
        MDB_env *env = s_child_env(path);
        s_child_ready(reply[1]);
        char c;
        static char buf[TEST_READER_MAX];
        while (read(cmd[0], &c, 1) == 1 && c == 'l') {
            buf[0] = '\0';
            mdb_reader_list(env, s_keeper_list, buf);
            if (write(reply[1], buf, strlen(buf) + 1) < 0)
                _exit(7);
        }
        mdb_env_close(env);
        _exit(0);
    }
    close(cmd[0]);
    close(reply[1]);
    s_wait_ready(k.reply);
    return k;
}

/* Is pid in the keeper's view of the reader table? */
static bool
s_keeper_sees_reader(keeper_t *k, pid_t pid)
{
    static char buf[TEST_READER_MAX];
    assert_int_equal(write(k->cmd, "l", 1), 1);
    ssize_t got = read(k->reply, buf, sizeof buf - 1);
    assert_true(got > 0);
    buf[got] = '\0';
    for (char *line = buf; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        int reader = 0;
        if (sscanf(line, "%d", &reader) == 1 && reader == (int)pid)
            return true;
    }
    return false;
}

static void
s_keeper_stop(keeper_t *k)
{
    int status;
    assert_int_equal(write(k->cmd, "q", 1), 1);
    assert_int_equal(waitpid(k->pid, &status, 0), k->pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(k->cmd);
    close(k->reply);
}

static void
test_stale_reader_is_cleared_on_open(void **state)
{
    fixture_t *f = *state;
    s_commit_episodes(f->mem, 1, "before", 2);
    tt_memory_close(&f->mem); /* nothing of ours crosses fork() */
    keeper_t keeper = s_fork_keeper(f->path);
    pid_t victim = s_fork_victim(f->path, false);
    s_kill9(victim);
    assert_true(s_keeper_sees_reader(&keeper, victim)); /* the slot outlived its process */

    assert_int_equal(tt_memory_open(f->path, &f->mem), TT_OK);
    assert_false(s_keeper_sees_reader(&keeper, victim)); /* open cleared it */
    s_commit_episodes(f->mem, 2, "after", 1);
    assert_int_equal(tt_memory_episode_count(f->mem), 3);
    s_keeper_stop(&keeper);
}

/* kill -9 inside a write transaction, with (shared lock file, the robust
 * writer mutex must be recovered) and without another process holding the
 * environment open. */
static void
s_kill9_in_write(fixture_t *f, bool with_keeper)
{
    s_commit_episodes(f->mem, 1, "committed", 3);
    tt_memory_close(&f->mem);
    keeper_t keeper = {0};
    if (with_keeper)
        keeper = s_fork_keeper(f->path);
    pid_t victim = s_fork_victim(f->path, true);
    s_kill9(victim);

    assert_int_equal(tt_memory_open(f->path, &f->mem), TT_OK);
    assert_int_equal(tt_memory_last_step(f->mem), 1);
    assert_int_equal(tt_memory_episode_count(f->mem), 3); /* no junk */
    s_commit_episodes(f->mem, 2, "later", 2);
    char **items;
    size_t n;
    assert_int_equal(tt_memory_episodes(f->mem, 0, 10, &items, &n), TT_OK);
    assert_int_equal(n, 5);
    assert_true(s_item_is(items[0], "committed0"));
    assert_true(s_item_is(items[4], "later1"));
    s_free_strings(items, n);
    if (with_keeper)
        s_keeper_stop(&keeper);
}

static void
test_kill9_inside_write_txn(void **state)
{
    s_kill9_in_write(*state, false);
}

static void
test_kill9_inside_write_txn_while_shared(void **state)
{
    s_kill9_in_write(*state, true);
}

/* ------------------------------------------------------------ wipe, dump */

static void
test_wipe_keeps_only_the_owner(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(tt_memory_claim(f->mem, "o/1"), TT_OK);
    s_commit_one_of_each(f->mem, 1, "o/1");
    s_commit_one_of_each(f->mem, 2, "o/1");
    assert_int_equal(tt_memory_wipe(f->mem), TT_OK);
    assert_int_equal(tt_memory_last_step(f->mem), 0);
    s_reopen(f);
    char *text, **items;
    size_t n;
    assert_int_equal(tt_memory_last_step(f->mem), 0);
    assert_int_equal(tt_memory_episode_count(f->mem), 0);
    assert_int_equal(tt_memory_semantic_count(f->mem), 0);
    assert_int_equal(tt_memory_state(f->mem, &text), TT_ENOTFOUND);
    assert_int_equal(tt_memory_document_names(f->mem, &items, &n), TT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tt_memory_meta_get(f->mem, "run_id", &text), TT_ENOTFOUND);
    assert_int_equal(tt_memory_meta_get(f->mem, "last_step", &text), TT_ENOTFOUND);
    s_assert_meta(f->mem, "owner", "o/1");
    /* still fenced by the kept owner */
    s_commit_one_of_each(f->mem, 1, "o/1");
    assert_int_equal(tt_memory_episode_count(f->mem), 2);
}

/* One dump line, checked by kind; returns the index of its database. */
static int
s_check_dump_line(json_t *obj)
{
    static const char *dbs[] = {"episodic", "semantic", "docs", "state", "meta"};
    const char *db = json_string_value(json_object_get(obj, "db"));
    assert_non_null(db);
    int i = 0;
    while (i < 5 && strcmp(db, dbs[i]) != 0)
        i++;
    assert_true(i < 5);
    json_t *value = json_object_get(obj, "value");
    const char *key;
    json_t *field;
    json_object_foreach(obj, key, field)
        assert_false(json_is_array(field)); /* no floats in a dump */
    if (i == 0 || i == 1 || i == 3)
        assert_int_equal(json_integer_value(json_object_get(obj, "step")), 3);
    if (i == 0 && json_is_string(value))
        assert_string_equal(json_string_value(value), "not json \"quoted\"");
    else if (i == 0)
        assert_string_equal(json_string_value(json_object_get(value, "type")), "stimulus");
    if (i == 0 || i == 1)
        assert_true(json_is_integer(json_object_get(obj, "seq")));
    if (i == 1 || i == 2)
        assert_int_equal(json_integer_value(json_object_get(obj, "dim")), TEST_DIM);
    if (i == 1)
        assert_string_equal(json_string_value(json_object_get(value, "content")), "Lisa likes tea");
    if (i == 2) {
        assert_string_equal(json_string_value(json_object_get(obj, "name")), "guide.md");
        json_int_t chunk = json_integer_value(json_object_get(obj, "chunk"));
        assert_string_equal(json_string_value(json_object_get(obj, "text")),
                            chunk == 0 ? "Hello " : "world");
    }
    if (i == 3)
        assert_string_equal(json_string_value(json_object_get(value, "goals")), "listen");
    if (i == 4 && strcmp(json_string_value(json_object_get(obj, "key")), "last_step") == 0)
        assert_int_equal(json_integer_value(value), 3);
    return i;
}

static void
test_dump_is_json_lines(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(tt_memory_claim(f->mem, "d/1"), TT_OK);
    s_commit_one_of_each(f->mem, 3, NULL);
    tt_memory_batch_t *b = tt_memory_batch_new(3);
    tt_memory_batch_episode(b, "not json \"quoted\"");
    assert_int_equal(tt_memory_commit(f->mem, &b, NULL), TT_OK);

    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(tt_memory_dump(f->mem, out), TT_OK);
    fclose(out);
    assert_true(len > 0 && buf[len - 1] == '\n');

    /* meta: owner, last_step, run_id (the format is the store's, not the agent's) */
    const int want[5] = {3, 1, 2, 1, 3};
    int count[5] = {0};
    for (char *line = buf, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        json_error_t err;
        json_t *obj = json_loadb(line, (size_t)(nl - line), 0, &err);
        if (!obj)
            fail_msg("not JSON: %.*s (%s)", (int)(nl - line), line, err.text);
        count[s_check_dump_line(obj)]++;
        json_decref(obj);
    }
    for (int i = 0; i < 5; i++)
        assert_int_equal(count[i], want[i]);
    free(buf);
}

int
main(void)
{
    /* TT_TEST_LOG=info shows map growth and cleared readers */
    if (getenv("TT_TEST_LOG"))
        tt_log_parse_level(getenv("TT_TEST_LOG"), &tt_log_level);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_private_files, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_each_kind, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_things_are_not_found, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_seq_orders_within_and_across_steps, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_older_step_is_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_window_first_and_last_without_overlap, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_search_ranks_by_cosine, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_search_matches_reference_cosine, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_removes_exactly_later_steps, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_stale_owner_is_fenced_off, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_map_full_grows_and_retries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_map_grown_by_another_process, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stale_reader_is_cleared_on_open, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_kill9_inside_write_txn, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_kill9_inside_write_txn_while_shared, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_wipe_keeps_only_the_owner, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dump_is_json_lines, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
