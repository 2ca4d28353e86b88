/*  agentd -- hosts one agent (or N with --slots) for a Troupe coordinator.
 *
 *  main() only parses arguments, sets up logging and signals, and starts the
 *  loop (agent_loop.c). `agentd --dump-memory DIR` prints an agent's LMDB
 *  memory as JSON lines instead.
 */
#define TT_LOG_MODULE "main"
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_forkserver.h"
#include "agent_loop.h"
#include "tt_cert.h"
#include "tt_log.h"
#include "tt_malloc_conf.h"
#include "tt_mem.h"
#include "tt_memory.h"
#include "tt_wire.h"

/* jemalloc's settings (tt_malloc_conf.h), and one arena for all of an
 * agentd's threads. Each further arena is set up in every agentd as its
 * threads start (of a forked agentd's ~430 page faults at registration, ~50);
 * a slot agentd's threads do not contend enough to need them (10,000 agents
 * offline: the same step times). */
const char *malloc_conf = TT_MALLOC_CONF ",narenas:1";

static void
s_usage(FILE *out)
{
    fprintf(out,
            "Usage: agentd --connect ENDPOINT [--slots N] [--data-dir DIR] [options]\n"
            "       agentd --dump-memory DIR\n"
            "\n"
            "Hosts Troupe agents for a coordinator. Started by `coordinator run` in local\n"
            "mode, or by cluster scripts (ssh, Slurm, systemd) with --connect.\n"
            "\n"
            "Options:\n"
            "  --connect ENDPOINT    coordinator endpoint, e.g. tcp://10.0.0.1:5555\n"
            "  --slots N             number of agents this process hosts (default 1)\n"
            "  --data-dir DIR        agent memory (DIR/agents/NAME) and documents\n"
            "                        (DIR/documents) live here (default ./troupe-data)\n"
            "  --server-key Z85      CURVE: the coordinator's public key (or its .cert file)\n"
            "  --cert FILE           CURVE: this agentd's certificate (secret part beside it)\n"
            "  --parent-pid PID      exit when that process is gone (local mode)\n"
            "  --welcome-ms MS       exit if not welcomed by the coordinator within MS\n"
            "                        (default 60000; the coordinator passes its own)\n"
            "  --log-level LEVEL     error, warn, info, debug (default warn)\n"
            "  --dump-memory DIR     print the memory in DIR as JSON lines and exit: an\n"
            "                        agent's (DATA_DIR/agents/NAME) or, for DATA_DIR/memory\n"
            "                        (slot agentds), every agent's, each line naming it\n"
            "  --fork-server FD      the coordinator's: fork agentds when asked on FD\n"
            "                        (docs/cluster.md)\n"
            "  --version, --help\n"
            "\n"
            "API keys are read from the environment (OPENAI_API_KEY, AZURE_OPENAI_KEY),\n"
            "never from the command line. TROUPE_ANSWER_FLUSH_MS: finished answers wait\n"
            "at most this long for the rest of their step's batch (default 200).\n");
}

static int
s_dump(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "agentd: %s: no such agent memory directory\n", dir);
        return 2;
    }
    /* a store: one agent's directory, or a slot agentds' shared memory/ */
    tt_memory_store_t *s = NULL;
    tt_err_t err = tt_memory_store_open(dir, &s);
    if (!err)
        err = tt_memory_store_dump(s, stdout);
    tt_memory_store_close(&s);
    if (err == TT_ECORRUPT) {
        fprintf(stderr, "agentd: %s: damaged (or of an older format): not dumped\n", dir);
        return 1;
    }
    if (err) {
        fprintf(stderr, "agentd: %s: %s\n", dir, tt_strerror(err));
        return 1;
    }
    return 0;
}

/* --server-key accepts a public certificate file or the Z85 key itself. A file
 * that exists is read as a certificate first: a path can be 40 characters long
 * too (a Slurm job's /tmp/.../server.cert was), and a path taken for a key makes
 * every CURVE handshake fail without a word on either side. On failure *why says
 * what is wrong with ARG (caller frees). */
static char *
s_server_key(const char *arg, char **why)
{
    *why = NULL;
    struct stat st;
    if (stat(arg, &st) != 0) {
        uint8_t raw[32];
        size_t n = strlen(arg);
        bool cert_name = n >= 5 && !strcmp(arg + n - 5, ".cert");
        if (n == 40 && !cert_name && zmq_z85_decode(raw, arg))
            return strdup(arg);
        if (n == 40 && !cert_name) {
            *why = tt_asprintf("%s: not a Z85 key", arg);
            return NULL;
        }
    }
    zcert_t *cert = tt_cert_load(arg, false, why);
    if (!cert)
        return NULL;
    char *key = strdup(zcert_public_txt(cert));
    zcert_destroy(&cert);
    return key;
}

/* --cert must name a certificate whose secret part this user can read: a
 * service that cannot read it says so here, once, instead of retrying. */
static bool
s_cert_ok(const char *path)
{
    char *why = NULL;
    zcert_t *cert = tt_cert_load(path, true, &why);
    if (!cert) {
        fprintf(stderr, "agentd: --cert: %s\n", why);
        free(why);
        return false;
    }
    zcert_destroy(&cert);
    return true;
}

/* An agentd leaves without the libraries' exit handlers: its store is closed,
 * its sockets and threads gone and its lines written by now, and what those
 * handlers free the kernel takes back at once. In an agentd forked by the fork
 * server they were most of its exit, copying each page they touched (in 300
 * one-agent agentds, a tenth of the CPU of a start, a step and a stop). Under
 * AddressSanitizer it exits normally, so that leaks are still looked for. */
#if defined(__SANITIZE_ADDRESS__)
#define S_LEAK_CHECKED 1 /* GCC's -fsanitize=address */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_LEAK_CHECKED 1 /* clang's */
#endif
#endif

static _Noreturn void
s_leave(int rc)
{
#ifdef S_LEAK_CHECKED
    exit(rc);
#else
    fflush(NULL);
    _exit(rc);
#endif
}

int
main(int argc, char **argv)
{
    static const struct option options[] = {{"connect", required_argument, NULL, 'c'},
                                            {"slots", required_argument, NULL, 's'},
                                            {"data-dir", required_argument, NULL, 'd'},
                                            {"server-key", required_argument, NULL, 'k'},
                                            {"cert", required_argument, NULL, 'C'},
                                            {"parent-pid", required_argument, NULL, 'p'},
                                            {"log-level", required_argument, NULL, 'l'},
                                            {"welcome-ms", required_argument, NULL, 'w'},
                                            {"dump-memory", required_argument, NULL, 'm'},
                                            {"version", no_argument, NULL, 'V'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    /* `agentd --fork-server FD [PADDING]`: how the coordinator starts its local
     * agentds (agent_forkserver.c). Returns here in each agentd it starts. */
    if (argc >= 3 && !strcmp(argv[1], "--fork-server")) {
        char *last = argv[argc - 1];
        size_t title_cap = (size_t)(last + strlen(last) + 1 - argv[0]);
        if (!agent_forkserver_run(atoi(argv[2]), argv[0], title_cap, &argc, &argv))
            return 0;
    }
    agent_loop_opts_t opts = {.slots = 1, .data_dir = "troupe-data"};
    const char *server_key_arg = NULL;
    tt_log_set_role("agentd");
    const char *env_level = getenv("TROUPE_LOG_LEVEL");
    if (env_level)
        tt_log_parse_level(env_level, &tt_log_level);
    int c;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'c':
            opts.endpoint = optarg;
            break;
        case 's':
            errno = 0;
            opts.slots = (uint32_t)strtoul(optarg, &end, 10);
            if (errno || *end || opts.slots < 1 || opts.slots > 1000000) {
                fprintf(stderr, "agentd: --slots: expected a number from 1 to 1000000\n");
                return 2;
            }
            break;
        case 'd':
            opts.data_dir = optarg;
            break;
        case 'k':
            server_key_arg = optarg; /* loaded after the options: nothing to free before */
            break;
        case 'C':
            if (!s_cert_ok(optarg))
                return 2;
            opts.cert_path = optarg;
            break;
        case 'w':
            errno = 0;
            opts.welcome_ms = (int)strtol(optarg, &end, 10);
            if (errno || *end || opts.welcome_ms < 1 || opts.welcome_ms > 86400000) {
                fprintf(stderr, "agentd: --welcome-ms: expected a number from 1 to 86400000\n");
                return 2;
            }
            break;
        case 'p':
            opts.parent_pid = (pid_t)strtol(optarg, NULL, 10);
            break;
        case 'l':
            if (!tt_log_parse_level(optarg, &tt_log_level)) {
                fprintf(stderr, "agentd: --log-level: expected error, warn, info or debug\n");
                return 2;
            }
            break;
        case 'm':
            return s_dump(optarg);
        case 'V':
            printf("agentd (troupe) %s\n", TT_VERSION);
            return 0;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (optind < argc || !opts.endpoint) {
        fprintf(stderr, "agentd: %s\n",
                optind < argc ? "unexpected argument" : "--connect is required");
        s_usage(stderr);
        return 2;
    }
    char *server_key = NULL;
    if (server_key_arg) {
        char *why;
        server_key = s_server_key(server_key_arg, &why);
        if (!server_key) {
            fprintf(stderr, "agentd: --server-key: %s\n", why);
            free(why);
            return 2;
        }
    }
    opts.server_key = server_key;
    /* How long finished answers may wait for the rest of their batch (ms):
     * for tests that count frames, and for links where fewer, larger frames
     * pay. Not a flag: local agentds inherit it from the coordinator. */
    opts.answer_flush_ms = AGENT_ANSWER_FLUSH_MS;
    const char *flush = getenv("TROUPE_ANSWER_FLUSH_MS");
    if (flush && *flush) {
        char *end;
        errno = 0;
        long ms = strtol(flush, &end, 10);
        if (errno || *end || ms < 1 || ms > 3600000) {
            fprintf(stderr, "agentd: TROUPE_ANSWER_FLUSH_MS: expected 1..3600000 ms, not %s\n",
                    flush);
            free(server_key);
            return 2;
        }
        opts.answer_flush_ms = (int)ms;
    }
    /* taken out of the environment, so nothing this process starts inherits it */
    char *token = getenv(TT_SPAWN_TOKEN_ENV) ? strdup(getenv(TT_SPAWN_TOKEN_ENV)) : NULL;
    unsetenv(TT_SPAWN_TOKEN_ENV);
    tt_log_add_secret(token);
    opts.token = token;
    umask(077); /* agent memory and documents are private */
    /* secrets must not end up in a core file */
    prctl(PR_SET_DUMPABLE, 0);
    if (opts.parent_pid) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != opts.parent_pid) {
            free(server_key);
            free(token);
            return 1;
        }
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    zsys_init();
    zsys_set_logident("agentd");
    int rc = agent_loop_run(&opts);
    free(server_key);
    free(token);
    s_leave(rc);
}
