/*  test_memory_store -- a shared store: many agents in one LMDB environment.
 *
 *  Each agent sees only its own keys (episodes, counts, search, documents,
 *  state, rollback, wipe), a group commit lands every agent's batch but a
 *  fenced or stale one's (which lands nothing) in one transaction, names map
 *  to memories one to one (Ann/Lee and Ann_Lee are two agents), ids survive
 *  a reopen, two processes write their own agents into one store at once,
 *  the dump names each agent, damage found by the open-time pass is
 *  reported for the whole store, and that pass takes no commit it races for
 *  damage.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <dlfcn.h>
#include <errno.h>
#include <lmdb.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tt_memory.h"
#include "tt_mem.h"
#include "tt_test.h"

#define TEST_DIM 4

/* While set, every read transaction this process begins first has another
 * process commit (a byte on s_race_go, its answer on s_race_done): the
 * commits a store in use races for, made to land in the worst place. */
static int s_race_go = -1, s_race_done = -1;

int
mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned int flags, MDB_txn **txn)
{
    static int (*real)(MDB_env *, MDB_txn *, unsigned int, MDB_txn **);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "mdb_txn_begin");
    char c = 'x';
    if (s_race_go >= 0 && (flags & MDB_RDONLY) &&
        (write(s_race_go, &c, 1) != 1 || read(s_race_done, &c, 1) != 1))
        return EIO;
    return real(env, parent, flags, txn);
}

typedef struct {
    char *tmp;
    char *path; /* the store: tmp/memory */
    tt_memory_store_t *store;
} fixture_t;

static int
s_setup(void **state)
{
    fixture_t *f = tt_new(fixture_t);
    f->tmp = tt_test_tmpdir("memory-store");
    f->path = tt_asprintf("%s/memory", f->tmp);
    if (tt_memory_store_open(f->path, &f->store) != TT_OK)
        return -1;
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *f = *state;
    tt_memory_store_close(&f->store);
    tt_test_rmtree(f->tmp);
    free(f->tmp);
    free(f->path);
    free(f);
    return 0;
}

static tt_memory_t *
s_agent(fixture_t *f, const char *name)
{
    tt_memory_t *m = NULL;
    assert_int_equal(tt_memory_open_in(f->store, name, &m), TT_OK);
    return m;
}

/* step's items for one agent: n episodes and a state */
static tt_memory_batch_t *
s_batch(uint32_t step, const char *who, int n)
{
    tt_memory_batch_t *b = tt_memory_batch_new(step);
    for (int i = 0; i < n; i++) {
        char *item = tt_asprintf("{\"content\":\"%s %u.%d\"}", who, step, i);
        tt_memory_batch_episode(b, item);
        free(item);
    }
    char *st = tt_asprintf("{\"who\":\"%s\",\"step\":%u}", who, step);
    tt_memory_batch_state(b, st);
    free(st);
    return b;
}

/* the same and one semantic item, committed */
static void
s_commit(tt_memory_t *m, uint32_t step, const char *who, int n, float x)
{
    tt_memory_batch_t *b = s_batch(step, who, n);
    float v[TEST_DIM] = {x, 1.0f - x, 0, 0};
    char *sem = tt_asprintf("{\"content\":\"%s knows %u\"}", who, step);
    tt_memory_batch_semantic(b, sem, v, TEST_DIM);
    free(sem);
    assert_int_equal(tt_memory_commit(m, &b, NULL), TT_OK);
}

/* LMDB's last transaction id of the store, as mdb_stat (lmdb-utils) reads it */
static long
s_last_txn(const fixture_t *f)
{
    char *cmd = tt_asprintf("mdb_stat -e '%s'", f->path);
    FILE *p = popen(cmd, "r");
    free(cmd);
    assert_non_null(p);
    char line[256];
    long id = -1;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, " Last transaction ID: %ld", &id) == 1)
            break;
    pclose(p);
    assert_true(id >= 0);
    return id;
}

static void
s_free_strings(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

/* every episode of m mentions who, and there are n of them */
static void
s_assert_own(tt_memory_t *m, const char *who, size_t n)
{
    assert_int_equal(tt_memory_episode_count(m), n);
    char **items = NULL;
    size_t got = 0;
    assert_int_equal(tt_memory_episodes(m, 2, 100, &items, &got), TT_OK);
    assert_int_equal(got, n);
    for (size_t i = 0; i < got; i++)
        assert_non_null(strstr(items[i], who));
    s_free_strings(items, got);
    char *state = NULL;
    assert_int_equal(tt_memory_state(m, &state), TT_OK);
    assert_non_null(strstr(state, who));
    free(state);
}

static void
test_agents_see_only_their_own(void **state)
{
    fixture_t *f = *state;
    /* three agents, the middle one's keys between the others' */
    tt_memory_t *a = s_agent(f, "Ann"), *b = s_agent(f, "Bob"), *c = s_agent(f, "Cy");
    for (uint32_t step = 1; step <= 3; step++) {
        s_commit(a, step, "Ann", 2, 0.9f);
        s_commit(b, step, "Bob", 3, 0.1f);
        s_commit(c, step, "Cy", 1, 0.5f);
    }
    s_assert_own(a, "Ann", 6);
    s_assert_own(b, "Bob", 9);
    s_assert_own(c, "Cy", 3);
    assert_int_equal(tt_memory_semantic_count(b), 3);
    assert_int_equal(tt_memory_last_step(b), 3);

    /* a search finds only the searcher's items, however close another's are */
    float q[TEST_DIM] = {0.9f, 0.1f, 0, 0};
    tt_memory_hit_t hits[10];
    size_t n = 0;
    assert_int_equal(tt_memory_search(b, false, q, TEST_DIM, 10, hits, &n), TT_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(strstr(hits[i].text, "Bob"));
        tt_memory_hit_fini(&hits[i]);
    }

    /* rollback and wipe of one agent leave the others whole */
    assert_int_equal(tt_memory_rollback(b, 1), TT_OK);
    s_assert_own(b, "Bob", 3);
    s_assert_own(a, "Ann", 6);
    s_assert_own(c, "Cy", 3);
    assert_int_equal(tt_memory_claim(a, "run/1"), TT_OK);
    assert_int_equal(tt_memory_wipe(a), TT_OK);
    assert_int_equal(tt_memory_episode_count(a), 0);
    assert_int_equal(tt_memory_semantic_count(a), 0);
    s_assert_own(b, "Bob", 3);
    s_assert_own(c, "Cy", 3);
    tt_memory_close(&a);
    tt_memory_close(&b);
    tt_memory_close(&c);
}

/* One transaction for several agents: each gets tt_memory_commit's outcome;
 * a fenced agent and a stale step land nothing, the others land whole. */
static void
test_group_commit_keeps_each_outcome(void **state)
{
    fixture_t *f = *state;
    tt_memory_t *ann = s_agent(f, "Ann"), *bob = s_agent(f, "Bob"), *cy = s_agent(f, "Cy"),
                *dee = s_agent(f, "Dee");
    assert_int_equal(tt_memory_claim(bob, "run/2"), TT_OK); /* a newer incarnation */
    s_commit(cy, 5, "Cy", 1, 0.5f);                         /* step 5 is committed */
    tt_memory_t *ms[] = {ann, bob, cy, dee};
    tt_memory_batch_t *bs[] = {s_batch(6, "Ann", 2), s_batch(6, "Bob", 3), s_batch(4, "Cy", 1),
                               s_batch(6, "Dee", 1)};
    const char *owners[] = {NULL, "run/1", NULL, NULL};
    tt_err_t errs[4];
    long before = s_last_txn(f);
    tt_memory_commit_all(ms, bs, owners, 4, errs);
    assert_int_equal(s_last_txn(f), before + 1); /* one transaction for all */
    assert_int_equal(errs[0], TT_OK);
    assert_int_equal(errs[1], TT_ESTALE);
    assert_int_equal(errs[2], TT_ESTALE);
    assert_int_equal(errs[3], TT_OK);
    for (int i = 0; i < 4; i++)
        assert_null(bs[i]);
    s_assert_own(ann, "Ann", 2);
    assert_int_equal(tt_memory_last_step(ann), 6);
    assert_int_equal(tt_memory_episode_count(bob), 0);
    assert_int_equal(tt_memory_last_step(cy), 5);
    s_assert_own(cy, "Cy", 1);
    s_assert_own(dee, "Dee", 1);

    /* a second group after the first: seq numbers go on within the step */
    tt_memory_t *again[] = {ann, dee};
    tt_memory_batch_t *more[] = {s_batch(6, "Ann", 1), s_batch(7, "Dee", 2)};
    const char *none[] = {NULL, NULL};
    tt_memory_commit_all(again, more, none, 2, errs);
    assert_int_equal(errs[0], TT_OK);
    assert_int_equal(errs[1], TT_OK);
    s_assert_own(ann, "Ann", 3);
    s_assert_own(dee, "Dee", 3);
    assert_int_equal(tt_memory_last_step(dee), 7);
    tt_memory_close(&ann);
    tt_memory_close(&bob);
    tt_memory_close(&cy);
    tt_memory_close(&dee);
}

static void
test_documents_are_per_agent(void **state)
{
    fixture_t *f = *state;
    tt_memory_t *a = s_agent(f, "Ann"), *b = s_agent(f, "Bob");
    float v[TEST_DIM] = {1, 0, 0, 0};
    tt_memory_batch_t *batch = tt_memory_batch_new(0);
    tt_memory_batch_document(batch, "plan.txt", 0, "Ann's plan, ", v, TEST_DIM);
    tt_memory_batch_document(batch, "plan.txt", 1, "part two", v, TEST_DIM);
    assert_int_equal(tt_memory_commit(a, &batch, NULL), TT_OK);
    assert_true(tt_memory_has_document(a, "plan.txt"));
    assert_false(tt_memory_has_document(b, "plan.txt"));
    char **names = NULL;
    size_t n = 0;
    assert_int_equal(tt_memory_document_names(b, &names, &n), TT_OK);
    assert_int_equal(n, 0);
    free(names);
    char *text = NULL;
    assert_int_equal(tt_memory_document_text(a, "plan.txt", &text), TT_OK);
    assert_string_equal(text, "Ann's plan, part two");
    free(text);
    tt_memory_close(&a);
    tt_memory_close(&b);
}

/* Names are compared whole: names that one directory per agent would have
 * folded together are two memories, and a name keeps its memory across a
 * reopen of the store. */
static void
test_names_are_memories_one_to_one(void **state)
{
    fixture_t *f = *state;
    const char *names[] = {"Ann/Lee", "Ann_Lee", "Ann\\Lee", "Ann Lee"};
    for (int i = 0; i < 4; i++) {
        tt_memory_t *m = s_agent(f, names[i]);
        s_commit(m, 1, names[i], i + 1, 0.5f);
        tt_memory_close(&m);
    }
    tt_memory_store_close(&f->store);
    assert_int_equal(tt_memory_store_open(f->path, &f->store), TT_OK);
    for (int i = 0; i < 4; i++) {
        tt_memory_t *m = s_agent(f, names[i]);
        assert_int_equal(tt_memory_episode_count(m), (size_t)i + 1);
        assert_int_equal(tt_memory_last_step(m), 1);
        tt_memory_close(&m);
    }
}

/* Two processes, each its own agent, committing into one store at once:
 * LMDB's writer lock orders them and nothing is lost. */
static void
test_two_processes_share_a_store(void **state)
{
    fixture_t *f = *state;
    tt_memory_store_close(&f->store); /* an environment must not cross fork() */
    enum { STEPS = 40 };
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        tt_memory_store_t *s = NULL;
        tt_memory_t *m = NULL;
        if (tt_memory_store_open(f->path, &s) || tt_memory_open_in(s, "Child", &m))
            _exit(2);
        for (uint32_t step = 1; step <= STEPS; step++) {
            tt_memory_batch_t *b = tt_memory_batch_new(step);
            tt_memory_batch_episode(b, "{\"content\":\"Child\"}");
            if (tt_memory_commit(m, &b, NULL))
                _exit(3);
        }
        tt_memory_close(&m);
        tt_memory_store_close(&s);
        _exit(0);
    }
    assert_int_equal(tt_memory_store_open(f->path, &f->store), TT_OK);
    tt_memory_t *m = s_agent(f, "Parent");
    for (uint32_t step = 1; step <= STEPS; step++)
        s_commit(m, step, "Parent", 1, 0.5f);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    s_assert_own(m, "Parent", STEPS);
    tt_memory_t *child = s_agent(f, "Child");
    assert_int_equal(tt_memory_episode_count(child), STEPS);
    assert_int_equal(tt_memory_last_step(child), STEPS);
    tt_memory_close(&child);
    tt_memory_close(&m);
}

/* A claim settles what the memory holds: a step a stale owner committed
 * after this handle was opened, but before the claim, is seen by the claim
 * (so the rollback that follows it removes it), and none lands after it. */
static void
test_claim_sees_a_late_commit(void **state)
{
    fixture_t *f = *state;
    tt_memory_t *m = s_agent(f, "Ann");
    assert_int_equal(tt_memory_claim(m, "run/1"), TT_OK);
    s_commit(m, 1, "Ann", 1, 0.5f);
    tt_memory_close(&m);
    tt_memory_store_close(&f->store); /* an environment must not cross fork() */
    assert_int_equal(tt_memory_store_open(f->path, &f->store), TT_OK);
    m = s_agent(f, "Ann"); /* the new incarnation opens: step 1 */
    assert_int_equal(tt_memory_last_step(m), 1);
    assert_int_equal(tt_memory_semantic_count(m), 1); /* counted, then kept by the handle */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* the old incarnation, still running, commits step 2 */
        tt_memory_store_t *s = NULL;
        tt_memory_t *old = NULL;
        if (tt_memory_store_open(f->path, &s) || tt_memory_open_in(s, "Ann", &old))
            _exit(2);
        tt_memory_batch_t *b = tt_memory_batch_new(2);
        tt_memory_batch_episode(b, "{\"content\":\"Ann late\"}");
        const float v[TEST_DIM] = {1, 0, 0, 0};
        tt_memory_batch_semantic(b, "{\"content\":\"Ann learnt late\"}", v, TEST_DIM);
        _exit(tt_memory_commit(old, &b, "run/1") == TT_OK ? 0 : 3);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(tt_memory_claim(m, "run/2"), TT_OK);
    assert_int_equal(tt_memory_last_step(m), 2);
    assert_int_equal(tt_memory_semantic_count(m), 2);
    assert_int_equal(tt_memory_rollback(m, 1), TT_OK);
    assert_int_equal(tt_memory_episode_count(m), 1);
    assert_int_equal(tt_memory_semantic_count(m), 1);
    tt_memory_close(&m);
}

/* The semantic count is kept by the handle once read (every turn asks it): it
 * must follow each write as a fresh count would, with no reopen between. */
static void
test_semantic_count_follows_every_write(void **state)
{
    fixture_t *f = *state;
    tt_memory_t *ann = s_agent(f, "Ann"), *bob = s_agent(f, "Bob");
    const float v[TEST_DIM] = {0, 0, 1, 0};
    assert_int_equal(tt_memory_semantic_count(ann), 0);
    s_commit(ann, 1, "Ann", 1, 0.5f);
    s_commit(bob, 1, "Bob", 1, 0.5f); /* another agent's: not Ann's */
    assert_int_equal(tt_memory_semantic_count(ann), 1);

    /* a group: Ann's batch lands with two items, Bob's is refused (old step) */
    tt_memory_t *ms[] = {ann, bob};
    tt_memory_batch_t *bs[] = {s_batch(2, "Ann", 1), s_batch(0, "Bob", 1)};
    for (int i = 0; i < 2; i++) {
        tt_memory_batch_semantic(bs[i], "{\"content\":\"one\"}", v, TEST_DIM);
        tt_memory_batch_semantic(bs[i], "{\"content\":\"two\"}", v, TEST_DIM);
    }
    const char *owners[] = {NULL, NULL};
    tt_err_t errs[2];
    assert_int_equal(tt_memory_semantic_count(bob), 1);
    tt_memory_commit_all(ms, bs, owners, 2, errs);
    assert_int_equal(errs[0], TT_OK);
    assert_int_equal(errs[1], TT_ESTALE);
    assert_int_equal(tt_memory_semantic_count(ann), 3);
    assert_int_equal(tt_memory_semantic_count(bob), 1);

    /* one commit refused: nothing counted */
    tt_memory_batch_t *b = s_batch(1, "Ann", 1);
    tt_memory_batch_semantic(b, "{\"content\":\"stale\"}", v, TEST_DIM);
    assert_int_equal(tt_memory_commit(ann, &b, NULL), TT_ESTALE);
    assert_int_equal(tt_memory_semantic_count(ann), 3);

    assert_int_equal(tt_memory_rollback(ann, 1), TT_OK);
    assert_int_equal(tt_memory_semantic_count(ann), 1);
    assert_int_equal(tt_memory_wipe(ann), TT_OK);
    assert_int_equal(tt_memory_semantic_count(ann), 0);
    s_commit(ann, 1, "Ann", 1, 0.5f);
    assert_int_equal(tt_memory_semantic_count(ann), 1);
    assert_int_equal(tt_memory_semantic_count(bob), 1);
    tt_memory_close(&ann);
    tt_memory_close(&bob);
}

static void
test_dump_names_each_agent(void **state)
{
    fixture_t *f = *state;
    tt_memory_t *a = s_agent(f, "Ann"), *b = s_agent(f, "Bob");
    s_commit(a, 1, "Ann", 2, 0.5f);
    s_commit(b, 1, "Bob", 1, 0.5f);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(tt_memory_store_dump(f->store, out), TT_OK);
    fclose(out);
    int ann = 0, bob = 0;
    for (char *line = buf, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        bool is_ann = strstr(line, "\"agent\":\"Ann\"") != NULL;
        bool is_bob = strstr(line, "\"agent\":\"Bob\"") != NULL;
        assert_true(is_ann != is_bob);
        if (strstr(line, "\"db\":\"episodic\"")) {
            ann += is_ann;
            bob += is_bob;
            assert_non_null(strstr(line, is_ann ? "Ann 1." : "Bob 1."));
        }
    }
    assert_int_equal(ann, 2);
    assert_int_equal(bob, 1);
    free(buf);
    tt_memory_close(&a);
    tt_memory_close(&b);
}

/* Slot agentds open the store one after another while the first ones
 * already write to it: the open-time pass over a store in use must not take
 * the commits it races for damage (it read the file's extent before the
 * snapshot it checked, and two commits in between had grown the file and
 * freed pages past that extent). */
static void
test_opening_while_another_process_writes(void **state)
{
    fixture_t *f = *state;
    tt_memory_t *ann = s_agent(f, "Ann");
    s_commit(ann, 1, "Ann", 1, 0.5f);
    tt_memory_close(&ann);
    tt_memory_store_close(&f->store); /* an environment must not cross fork() */
    int go[2], done[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* the writer: two new steps each time it is asked */
        close(go[1]);
        close(done[0]);
        tt_memory_store_t *s = NULL;
        tt_memory_t *w = NULL;
        if (tt_memory_store_open(f->path, &s) || tt_memory_open_in(s, "Writer", &w))
            _exit(2);
        char c;
        for (uint32_t step = 1; read(go[0], &c, 1) == 1; step += 2) {
            for (uint32_t k = step; k < step + 2; k++) {
                tt_memory_batch_t *b = tt_memory_batch_new(k);
                for (int i = 0; i < 40; i++) {
                    char item[96];
                    snprintf(item, sizeof item, "{\"content\":\"Writer %u.%d, at some length\"}", k,
                             i);
                    tt_memory_batch_episode(b, item);
                }
                if (tt_memory_commit(w, &b, NULL))
                    _exit(3);
            }
            if (write(done[1], &c, 1) != 1)
                _exit(4);
        }
        tt_memory_close(&w);
        tt_memory_store_close(&s);
        _exit(0);
    }
    close(go[0]);
    close(done[1]);
    s_race_go = go[1];
    s_race_done = done[0];
    int damaged = 0;
    for (int i = 0; i < 20; i++) {
        tt_memory_store_t *s = NULL;
        if (tt_memory_store_open(f->path, &s) != TT_OK)
            damaged++;
        tt_memory_store_close(&s);
    }
    s_race_go = s_race_done = -1;
    close(go[1]); /* the writer's read ends: it closes and exits */
    close(done[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(damaged, 0);
    assert_int_equal(tt_memory_store_open(f->path, &f->store), TT_OK);
    tt_memory_t *w = s_agent(f, "Writer");
    assert_true(tt_memory_last_step(w) >= 40); /* it wrote while the store was opened */
    tt_memory_close(&w);
}

/* A flipped byte in one agent's value: the open-time pass over a store that
 * was already on disk finds it, and the store is not used. */
static void
test_damage_found_at_open(void **state)
{
    fixture_t *f = *state;
    tt_memory_t *a = s_agent(f, "Ann");
    s_commit(a, 1, "Ann", 1, 0.5f);
    tt_memory_close(&a);
    tt_memory_store_close(&f->store);
    char *file = tt_asprintf("%s/data.mdb", f->path);
    FILE *fp = fopen(file, "r+b");
    assert_non_null(fp);
    char page[1 << 16];
    size_t n = fread(page, 1, sizeof page, fp);
    char *hit = memmem(page, n, "Ann 1.0", 7);
    assert_non_null(hit);
    hit[4] = 'X';
    assert_int_equal(fseek(fp, hit - page, SEEK_SET), 0);
    assert_int_equal(fwrite(hit, 1, 7, fp), 7);
    fclose(fp);
    free(file);
    assert_int_equal(tt_memory_store_open(f->path, &f->store), TT_ECORRUPT);
    assert_null(f->store);
    assert_int_equal(tt_memory_discard(f->path), TT_OK);
    assert_int_equal(tt_memory_store_open(f->path, &f->store), TT_OK);
    a = s_agent(f, "Ann");
    assert_int_equal(tt_memory_episode_count(a), 0);
    tt_memory_close(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_agents_see_only_their_own, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_keeps_each_outcome, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_documents_are_per_agent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_names_are_memories_one_to_one, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_two_processes_share_a_store, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_claim_sees_a_late_commit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_semantic_count_follows_every_write, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_dump_names_each_agent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_damage_found_at_open, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_opening_while_another_process_writes, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
