/*  coord_progress -- the status line on stderr while a run goes.
 *
 *  Redrawn in place every tick when stderr is a terminal (not in a session,
 *  not with
 *  --no-progress, TERM=dumb or stderr redirected; --quiet keeps it: it only
 *  silences the transcript). The line is made of fields in order of what
 *  matters most; when the terminal is narrow the least important fields are
 *  left out, and the first is cut, so the line never wraps. Whoever writes to
 *  the terminal clears the line first: the transcript (coord_progress_clear)
 *  and log lines (tt_log clears the line when stderr is a terminal), and the
 *  next tick draws it again.
 */
#include "coord.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tt_time.h"

#define S_FIELDS        8
#define S_FIELD_LEN     48
#define S_DEFAULT_WIDTH 80
#define S_SEPARATOR     " | "

typedef struct {
    char text[S_FIELD_LEN];
    int rank; /* 0 = kept longest */
} s_field_t;

static bool
s_enabled(const coord_t *c)
{
    const char *term = getenv("TERM");
    return !c->session && !c->opts.no_progress && isatty(STDERR_FILENO) &&
           !(term && !strcmp(term, "dumb"));
}

static size_t
s_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return S_DEFAULT_WIDTH;
}

/* 1234 -> "1234", 56789 -> "56.8k", 2078234 -> "2.1M" */
static void
s_count(char *out, size_t cap, uint64_t n)
{
    if (n < 10000)
        snprintf(out, cap, "%llu", (unsigned long long)n);
    else if (n < 1000000)
        snprintf(out, cap, "%.1fk", (double)n / 1e3);
    else
        snprintf(out, cap, "%.1fM", (double)n / 1e6);
}

static void s_add(s_field_t *f, size_t *n, int rank, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
s_add(s_field_t *f, size_t *n, int rank, const char *fmt, ...)
{
    if (*n == S_FIELDS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f[*n].text, sizeof f[*n].text, fmt, ap);
    va_end(ap);
    f[(*n)++].rank = rank;
}

/* While agentds start and agents are placed. */
static size_t
s_placing_fields(const coord_t *c, s_field_t *f, double elapsed)
{
    size_t n = 0, live = 0, ready = 0;
    for (size_t i = 0; i < c->n_peers; i++)
        live += c->peers[i].state == COORD_PEER_LIVE && c->peers[i].routing_id;
    for (size_t i = 0; i < c->n_agents; i++)
        ready += c->agents[i].state == COORD_AGENT_READY;
    if (c->opts.external)
        s_add(f, &n, 0, "waiting for agentds: %zu", live);
    else
        s_add(f, &n, 0, "starting agentds %zu/%zu", live,
              (c->n_agents + c->opts.slots - 1) / c->opts.slots);
    s_add(f, &n, 1, "agents ready %zu/%zu", ready, c->n_agents);
    s_add(f, &n, 4, "%.1f s", elapsed);
    return n;
}

static size_t
s_step_fields(const coord_t *c, s_field_t *f, double elapsed)
{
    size_t n = 0;
    size_t done = c->state == COORD_RUN_STEPPING ? c->n_agents - c->owing : 0;
    s_add(f, &n, 0, "step %u/%u", c->step ? c->step : 1, c->total_steps);
    s_add(f, &n, 1, "agents %zu/%zu", done, c->n_agents);
    uint64_t total = 0, failed = 0;
    const char *first;
    if (c->results)
        coord_results_failures(c->results, &total, &failed, &first);
    if (failed)
        s_add(f, &n, 2, "failed %llu", (unsigned long long)failed);
    /* the dispatch cap binds: agents wait for a turn, not for the model */
    if (c->state == COORD_RUN_STEPPING && c->max_concurrency &&
        c->in_flight >= c->max_concurrency && c->owing > c->in_flight)
        s_add(f, &n, 2, "capped at %zu in flight (--max-concurrency)", c->max_concurrency);
    /* the server's rate limit binds: agentds halve their calls in flight */
    if (c->state == COORD_RUN_STEPPING && c->rate_limited)
        s_add(f, &n, 2, "rate limited by the model server: %llu answers (HTTP 429)",
              (unsigned long long)c->rate_limited);
    uint32_t steps_done = c->committed_step;
    if (steps_done > 0 && c->total_steps > steps_done)
        s_add(f, &n, 3, "ETA %.0f s", elapsed / steps_done * (c->total_steps - steps_done));
    s_add(f, &n, 4, "%.1f s", elapsed);
    char calls[16], tokens[16];
    s_count(calls, sizeof calls, c->llm_calls);
    s_count(tokens, sizeof tokens, c->tokens);
    s_add(f, &n, 5, "calls %s", calls);
    s_add(f, &n, 6, "tokens %s", tokens);
    return n;
}

/* Join the fields that fit in width - 1 columns (all ASCII: bytes are columns). */
static void
s_compose(s_field_t *f, size_t n, size_t width, char *out, size_t cap)
{
    size_t limit = width > 1 ? width - 1 : 1;
    if (limit >= cap)
        limit = cap - 1;
    bool keep[S_FIELDS];
    for (size_t i = 0; i < n; i++)
        keep[i] = true;
    for (int worst = S_FIELDS; worst > 0; worst--) {
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
            if (keep[i])
                len += strlen(f[i].text) + (len ? strlen(S_SEPARATOR) : 0);
        if (len <= limit)
            break;
        for (size_t i = 0; i < n; i++)
            if (f[i].rank >= worst)
                keep[i] = false;
    }
    out[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        int w = snprintf(out + len, cap - len, "%s%s", len ? S_SEPARATOR : "", f[i].text);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    if (len > limit)
        out[limit] = '\0'; /* only the first field left, and still too wide */
}

void
coord_progress_draw(coord_t *c)
{
    if (!s_enabled(c) || c->state == COORD_RUN_DONE)
        return;
    double elapsed = (double)(tt_now_ms() - c->started_ms) / 1000.0;
    s_field_t f[S_FIELDS];
    size_t n = c->state == COORD_RUN_PLACING && !c->startup_ms ? s_placing_fields(c, f, elapsed)
                                                               : s_step_fields(c, f, elapsed);
    char line[512];
    s_compose(f, n, s_width(), line, sizeof line);
    fprintf(stderr, "\r\x1b[K%s", line);
}

void
coord_progress_clear(coord_t *c)
{
    if (s_enabled(c))
        fputs("\r\x1b[K", stderr);
}
