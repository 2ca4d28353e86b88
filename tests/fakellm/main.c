/*  fakellm -- command line: parse, start the server, wait for a signal, stop.
 *
 *  The first line on stdout is the bound port, bare and flushed, so a script
 *  can start `fakellm --port 0` and read where it listens. The final counters
 *  go to stderr as one JSON line on exit (unless --quiet).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fakellm.h"
#include "tt_malloc_conf.h"

#define S_EXIT_USAGE 2

const char *malloc_conf = TT_MALLOC_CONF; /* read by jemalloc before main */

static const char s_usage[] =
    "Usage: fakellm --port P [--latency-ms L] [--fault-rate R] [--seed S]\n"
    "               [--stall-ms MS] [--retry-after-ms MS] [--max-connections N]\n"
    "               [--model NAME] [--fail-after N] [--poor-first-turn]\n"
    "               [--capacity N] [--pad-answers BYTES] [--quiet]\n"
    "\n"
    "An OpenAI-compatible LLM server on 127.0.0.1 for tests and benchmarks. Answers come\n"
    "from Troupe's offline model; faults are drawn from (seed, request body, retry count).\n"
    "\n"
    "  --port P             port to listen on; 0 picks a free one. The first line on\n"
    "                       stdout is the port.\n"
    "  --latency-ms L       answer L ms after a request arrives, fakellm's own work\n"
    "                       included, as a remote model would (default 0)\n"
    "  --fault-rate R       probability in [0,1] that a request is faulty (default 0):\n"
    "                       429 with Retry-After 10, 500/503 5, connection reset 5,\n"
    "                       stall 3, truncated JSON 5, schema-invalid JSON 2 (weights)\n"
    "  --seed S             seed of the fault draw (default 0)\n"
    "  --stall-ms MS        how long a stall lasts (default 60000)\n"
    "  --retry-after-ms MS  wait asked for by a 429 (default 1000)\n"
    "  --max-connections N  concurrent connections accepted (default 4096)\n"
    "  --model NAME         know only this chat model: any other gets 404\n"
    "                       model_not_found (default: every name is served)\n"
    "  --fail-after N       answer the first N model requests (chat or embeddings),\n"
    "                       then 503 to every one: a model that goes down mid-run\n"
    "  --poor-first-turn    an agent's turn is first answered with stuttering actions\n"
    "                       (the same words over and over); only a regeneration after\n"
    "                       failed quality checks gets the offline model's own answer\n"
    "  --capacity N         at most N requests in flight: the rest get 429 with\n"
    "                       --retry-after-ms (a rate-limited provider)\n"
    "  --pad-answers BYTES  pad every chat answer's content with spaces to BYTES\n"
    "                       (the same JSON, only larger: a model that rambles)\n"
    "  --quiet              no counters on stderr at exit\n"
    "  --help               this text\n"
    "\n"
    "Endpoints: POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models,\n"
    "GET /stats, POST /stats/reset. Environment: FAKELLM_API_KEY, when set, is the only\n"
    "key accepted (Authorization: Bearer or api-key); others get 401.\n"
    "Exit status: 0 after SIGINT or SIGTERM, 1 if the port cannot be bound, 2 bad usage.\n";

static const char s_synopsis[] =
    "usage: fakellm --port P [--latency-ms L] [--fault-rate R] [--seed S] (--help for more)\n";

static int
s_bad(const char *flag, const char *value)
{
    fprintf(stderr, "fakellm: %s: invalid value \"%s\"\n%s", flag, value ? value : "", s_synopsis);
    return S_EXIT_USAGE;
}

static bool
s_number(const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = text ? strtod(text, &end) : 0;
    if (!text || errno || end == text || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool
s_integer(const char *text, double hi, uint64_t *out)
{
    double v;
    if (!s_number(text, 0, hi, &v) || v != floor(v))
        return false;
    *out = (uint64_t)v;
    return true;
}

/* Parse argv into opts. Returns -1 to go on, else an exit status. */
static int
s_parse(int argc, char **argv, fakellm_opts_t *opts, bool *quiet)
{
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n = 0;
        if (!strcmp(flag, "--help") || !strcmp(flag, "-h")) {
            fputs(s_usage, stdout);
            return 0;
        } else if (!strcmp(flag, "--quiet")) {
            *quiet = true;
            continue;
        } else if (!strcmp(flag, "--poor-first-turn")) {
            opts->poor_first_turn = true;
            continue;
        } else if (!strcmp(flag, "--port")) {
            if (!s_integer(value, 65535, &n))
                return s_bad(flag, value);
            opts->port = (uint16_t)n;
        } else if (!strcmp(flag, "--pad-answers")) {
            if (!s_integer(value, (double)(1 << 30), &n))
                return s_bad(flag, value);
            opts->pad_answers = (size_t)n;
        } else if (!strcmp(flag, "--latency-ms")) {
            if (!s_integer(value, 3600000, &n))
                return s_bad(flag, value);
            opts->latency_ms = (uint32_t)n;
        } else if (!strcmp(flag, "--fault-rate")) {
            if (!s_number(value, 0, 1, &opts->fault_rate))
                return s_bad(flag, value);
        } else if (!strcmp(flag, "--seed")) {
            if (!s_integer(value, 9007199254740992.0, &n))
                return s_bad(flag, value);
            opts->seed = n;
        } else if (!strcmp(flag, "--stall-ms")) {
            if (!s_integer(value, 3600000, &n) || n == 0)
                return s_bad(flag, value);
            opts->stall_ms = (uint32_t)n;
        } else if (!strcmp(flag, "--retry-after-ms")) {
            if (!s_integer(value, 600000, &n) || n == 0)
                return s_bad(flag, value);
            opts->retry_after_ms = (uint32_t)n;
        } else if (!strcmp(flag, "--max-connections")) {
            if (!s_integer(value, 1000000, &n) || n == 0)
                return s_bad(flag, value);
            opts->max_connections = (unsigned)n;
        } else if (!strcmp(flag, "--model")) {
            if (!value || !*value)
                return s_bad(flag, value);
            opts->model = value;
        } else if (!strcmp(flag, "--fail-after")) {
            if (!s_integer(value, 1e15, &n) || n == 0)
                return s_bad(flag, value);
            opts->fail_after = n;
        } else if (!strcmp(flag, "--capacity")) {
            if (!s_integer(value, 1000000, &n) || n == 0)
                return s_bad(flag, value);
            opts->capacity = (unsigned)n;
        } else {
            fprintf(stderr, "fakellm: unknown option \"%s\"\n%s", flag, s_synopsis);
            return S_EXIT_USAGE;
        }
        i++; /* the value */
    }
    return -1;
}

/* Thousands of connections need thousands of descriptors. */
static void
s_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int
main(int argc, char **argv)
{
    fakellm_opts_t opts = {0};
    bool quiet = false;
    int rc = s_parse(argc, argv, &opts, &quiet);
    if (rc >= 0)
        return rc;
    opts.api_key = getenv("FAKELLM_API_KEY");
    s_raise_fd_limit();
    /* Block the stop signals before any thread starts, then wait for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    fakellm_t *f = fakellm_start(&opts);
    if (!f)
        return 1;
    printf("%u\n", (unsigned)fakellm_port(f));
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    if (!quiet) {
        char *stats = fakellm_stats_json(f);
        fprintf(stderr, "%s\n", stats);
        free(stats);
    }
    fakellm_stop(&f);
    return 0;
}
