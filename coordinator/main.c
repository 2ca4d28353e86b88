/*  coordinator -- one Troupe simulation: world clock, agents, transaction log.
 *
 *  main() only dispatches to a subcommand; each parses its own arguments.
 */
#define TT_LOG_MODULE "main"
#include <czmq.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "coord_exp.h"
#include "coord_exp_docx.h"
#include "coord_extract.h"
#include "coord_factory.h"
#include "coord_keys.h"
#include "coord_logcmd.h"
#include "coord_run.h"
#include "tt_log.h"
#include "tt_malloc_conf.h"

const char *malloc_conf = TT_MALLOC_CONF; /* read by jemalloc before main */

static void
s_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: coordinator COMMAND [options]\n"
        "\n"
        "Commands:\n"
        "  run SCENARIO.json --out DIR    run a simulation (see `coordinator run --help`)\n"
        "  serve --out DIR [SCENARIO]     a live session driven over HTTP, e.g. from Python\n"
        "  log COMMAND LOG ...            inspect a log: stats, dump, diff, verify, report\n"
        "  factory --count N --out DIR    generate people (`coordinator factory --help`)\n"
        "  extract DIR --objective TEXT   extract results of a run (`coordinator extract --help`)\n"
        "  keygen DIR [--clients N] [--group G]   CURVE certificates for running across machines\n"
        "  validate DIR --agent NAME|--all --expectations TEXT   TinyPersonValidator\n"
        "  proposition DIR \"CLAIM\"       is a claim true of a run? (Proposition)\n"
        "  assign DIR|--names a,b --seed S   ABRandomizer: people to treatments\n"
        "  stats CONTROL TREATMENT --column NAME   StatisticalTester: t, U, KS, chi-square\n"
        "  empirical SIMULATED REAL --column NAME  simulated answers against real ones\n"
        "  story DIR --purpose TEXT --out FILE [--continue STORY]   TinyStory\n"
        "  export TEXTFILE --out FILE.docx  ArtifactExporter to Word\n"
        "  rewrite enrich|style|normalize TEXTFILE --out FILE   TinyEnricher, TinyStyler\n"
        "  --version, --help\n"
        "\n"
        "Troupe simulates people with an LLM: a coordinator process owns the world and\n"
        "the log; every agent runs in its own agentd process.\n");
}

int
main(int argc, char **argv)
{
    tt_log_set_role("coordinator");
    const char *env_level = getenv("TROUPE_LOG_LEVEL");
    if (env_level)
        tt_log_parse_level(env_level, &tt_log_level);
    if (argc < 2) {
        s_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        s_usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("coordinator (troupe) %s\n", TT_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "log"))
        return coord_logcmd_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "factory"))
        return coord_factory_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "extract"))
        return coord_extract_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "validate"))
        return coord_exp_validate_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "proposition"))
        return coord_exp_proposition_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "story"))
        return coord_exp_story_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "assign"))
        return coord_exp_assign_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "rewrite"))
        return coord_exp_rewrite_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "export"))
        return coord_exp_export_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "stats"))
        return coord_exp_stats_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "empirical"))
        return coord_exp_empirical_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "keygen"))
        return coord_keygen_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "run") || !strcmp(cmd, "serve")) {
        prctl(PR_SET_DUMPABLE, 0); /* no API key in a core file */
        signal(SIGPIPE, SIG_IGN);  /* a closed stdout must not kill a run */
        umask(077);                /* a run's files hold conversations: private */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        /* SIGUSR1 asks for a checkpoint; coord_run reads it from a signalfd,
         * so no thread (ZeroMQ's and libcurl's included) may take it */
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &usr1, NULL);
        zsys_init();
        zsys_set_logident("coordinator");
        return coord_run_main(argc - 1, argv + 1);
    }
    fprintf(stderr, "coordinator: unknown command \"%s\"\n", cmd);
    s_usage(stderr);
    return 2;
}
