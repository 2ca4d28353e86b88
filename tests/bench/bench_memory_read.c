/*  bench_memory_read -- what a read of an agent's memory costs, to weigh the
 *  guard around it (tt_memory_guard.c). Not a test: run it by hand, on a
 *  build with and one without the change, and compare.
 *
 *      bench_memory_read [N]
 *
 *  Times N of the cheapest read (tt_memory_episode_count: start the read
 *  transaction, read a count, end it: where a per-read overhead shows most)
 *  and N/100 searches over 1,000 vectors, and prints CPU nanoseconds per call
 *  (CPU time, not wall time: the machine may be busy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tt_memory.h"
#include "tt_mem.h"
#include "tt_test.h"

enum { S_STEPS = 100, S_PER_STEP = 10, S_DIM = 64 };

static double
s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine may be busy */
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
s_fill(tt_memory_t *m)
{
    for (uint32_t step = 1; step <= S_STEPS; step++) {
        tt_memory_batch_t *b = tt_memory_batch_new(step);
        for (int i = 0; i < S_PER_STEP; i++) {
            float vec[S_DIM];
            for (int k = 0; k < S_DIM; k++)
                vec[k] = (float)((step * 31 + (uint32_t)(i * 7 + k)) % 17) - 8.0f;
            tt_memory_batch_episode(b, "{\"content\":\"an episode of some length\"}");
            tt_memory_batch_semantic(b, "{\"content\":\"a memory\"}", vec, S_DIM);
        }
        if (tt_memory_commit(m, &b, NULL) != TT_OK)
            exit(1);
    }
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    char *tmp = tt_test_tmpdir("bench-memory");
    char *dir = tt_asprintf("%s/agent", tmp);
    tt_memory_t *m = NULL;
    if (tt_memory_open(dir, &m) != TT_OK)
        return 1;
    s_fill(m);
    size_t sink = 0;
    double t0 = s_now_ns();
    for (long i = 0; i < n; i++)
        sink += tt_memory_episode_count(m);
    double count_ns = (s_now_ns() - t0) / (double)n;
    float q[S_DIM];
    for (int k = 0; k < S_DIM; k++)
        q[k] = (float)(k % 5) - 2.0f;
    tt_memory_hit_t hits[8];
    long searches = n / 100 > 0 ? n / 100 : 1;
    t0 = s_now_ns();
    for (long i = 0; i < searches; i++) {
        size_t got = 0;
        tt_memory_search(m, false, q, S_DIM, 8, hits, &got);
        for (size_t h = 0; h < got; h++)
            tt_memory_hit_fini(&hits[h]);
        sink += got;
    }
    double search_ns = (s_now_ns() - t0) / (double)searches;
    printf("episode_count: %.1f ns/read (%ld reads); search of %d vectors: %.0f ns (%ld); %zu\n",
           count_ns, n, S_STEPS * S_PER_STEP, search_ns, searches, sink);
    tt_memory_close(&m);
    tt_test_rmtree(tmp);
    free(dir);
    free(tmp);
    return 0;
}
