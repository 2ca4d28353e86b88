/*  fakellm_timer -- connections suspended until a moment, resumed by one thread.
 *
 *  A model's latency is a wait with nothing to do: the connection is taken out
 *  of libmicrohttpd's event loop (MHD_suspend_connection) and put in a min-heap
 *  by the moment it is due; one thread sleeps until the earliest and resumes
 *  it. Ten thousand requests in their latency cost ten thousand heap entries,
 *  not ten thousand threads.
 *
 *  Suspending and resuming happen under the heap's lock, so a connection is
 *  always suspended before anything can resume it, and none is left suspended
 *  once fakellm_timer_stop has returned (libmicrohttpd must not be stopped
 *  with suspended connections): later ones are refused, to be answered at
 *  once. fakellm_timer_free comes after libmicrohttpd has stopped.
 */
#include <time.h>

#include "fakellm_impl.h"
#include "tt_mem.h"

typedef struct {
    uint64_t due_ns; /* CLOCK_MONOTONIC */
    struct MHD_Connection *conn;
} s_entry_t;

struct fakellm_timer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool stopping;
    s_entry_t *heap;
    size_t len, cap;
};

static uint64_t
s_ns(const struct timespec *t)
{
    return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

static struct timespec
s_timespec(uint64_t ns)
{
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
                             .tv_nsec = (long)(ns % 1000000000u)};
}

static void
s_swap(s_entry_t *a, s_entry_t *b)
{
    s_entry_t t = *a;
    *a = *b;
    *b = t;
}

static void
s_push(fakellm_timer_t *t, s_entry_t e)
{
    if (t->len == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->heap = tt_realloc(t->heap, t->cap * sizeof *t->heap);
    }
    size_t i = t->len++;
    t->heap[i] = e;
    while (i && t->heap[(i - 1) / 2].due_ns > t->heap[i].due_ns) {
        s_swap(&t->heap[(i - 1) / 2], &t->heap[i]);
        i = (i - 1) / 2;
    }
}

static s_entry_t
s_pop(fakellm_timer_t *t)
{
    s_entry_t top = t->heap[0];
    t->heap[0] = t->heap[--t->len];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->len && t->heap[l].due_ns < t->heap[m].due_ns)
            m = l;
        if (r < t->len && t->heap[r].due_ns < t->heap[m].due_ns)
            m = r;
        if (m == i)
            break;
        s_swap(&t->heap[i], &t->heap[m]);
        i = m;
    }
    return top;
}

static void *
s_run(void *arg)
{
    fakellm_timer_t *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stopping) {
        if (!t->len) {
            pthread_cond_wait(&t->cv, &t->mu);
            continue;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (t->heap[0].due_ns <= s_ns(&now)) {
            MHD_resume_connection(s_pop(t).conn);
            continue;
        }
        struct timespec until = s_timespec(t->heap[0].due_ns);
        pthread_cond_timedwait(&t->cv, &t->mu, &until);
    }
    while (t->len) /* stopping: every wait ends now */
        MHD_resume_connection(s_pop(t).conn);
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

fakellm_timer_t *
fakellm_timer_start(void)
{
    fakellm_timer_t *t = tt_new(fakellm_timer_t);
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &attr);
    pthread_condattr_destroy(&attr);
    TT_ASSERT(pthread_create(&t->thread, NULL, s_run, t) == 0);
    return t;
}

bool
fakellm_timer_suspend(fakellm_timer_t *t, struct MHD_Connection *conn, const struct timespec *due)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&t->mu);
    bool ok = !t->stopping && s_ns(due) > s_ns(&now);
    if (ok) {
        MHD_suspend_connection(conn);
        s_push(t, (s_entry_t){.due_ns = s_ns(due), .conn = conn});
        if (t->heap[0].conn == conn)
            pthread_cond_signal(&t->cv); /* the earliest now: sleep less */
    }
    pthread_mutex_unlock(&t->mu);
    return ok;
}

void
fakellm_timer_stop(fakellm_timer_t *t)
{
    pthread_mutex_lock(&t->mu);
    bool running = !t->stopping;
    t->stopping = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (running)
        pthread_join(t->thread, NULL);
}

void
fakellm_timer_free(fakellm_timer_t **self_p)
{
    fakellm_timer_t *t = *self_p;
    if (!t)
        return;
    fakellm_timer_stop(t);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t->heap);
    free(t);
    *self_p = NULL;
}
