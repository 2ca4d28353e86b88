/*  coord_keys -- generating CURVE certificates with czmq's zcert. */
#include "coord_keys.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int
s_usage(FILE *out, int rc)
{
    fprintf(out, "Usage: coordinator keygen DIR [--clients N]\n"
                 "\n"
                 "Writes a CURVE certificate for the coordinator (DIR/server.cert and its\n"
                 "_secret) and N agentd certificates (default 1): DIR/agents/agent-I.cert and\n"
                 "_secret go to the agent hosts, DIR/clients/agent-I.cert (public) tells the\n"
                 "coordinator whom to accept. Existing files are never overwritten.\n");
    return rc;
}

static int
s_mkdir(const char *path)
{
    if (mkdir(path, 0700) && errno != EEXIST) {
        fprintf(stderr, "coordinator keygen: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int
s_save(zcert_t *cert, const char *path, bool public_only)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        fprintf(stderr, "coordinator keygen: %s exists; not overwriting it\n", path);
        return -1;
    }
    int rc = public_only ? zcert_save_public(cert, path) : zcert_save(cert, path);
    if (rc != 0)
        fprintf(stderr, "coordinator keygen: cannot write %s\n", path);
    return rc;
}

int
coord_keygen_main(int argc, char **argv)
{
    static const struct option options[] = {{"clients", required_argument, NULL, 'n'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    long clients = 1;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'n':
            errno = 0;
            clients = strtol(optarg, &end, 10);
            if (errno || *end || clients < 0 || clients > 100000)
                return fprintf(stderr, "coordinator keygen: --clients: expected 0..100000\n"), 2;
            break;
        case 'h':
            return s_usage(stdout, 0);
        default:
            return s_usage(stderr, 2);
        }
    }
    if (optind + 1 != argc)
        return s_usage(stderr, 2);
    if (!zsys_has_curve()) {
        fprintf(stderr, "coordinator keygen: this libzmq has no CURVE support\n");
        return 1;
    }
    const char *dir = argv[optind];
    umask(077);
    char path[4096];
    if (s_mkdir(dir))
        return 1;
    snprintf(path, sizeof path, "%s/clients", dir);
    if (s_mkdir(path))
        return 1;
    snprintf(path, sizeof path, "%s/agents", dir);
    if (s_mkdir(path))
        return 1;
    zcert_t *server = zcert_new();
    zcert_set_meta(server, "role", "troupe coordinator");
    snprintf(path, sizeof path, "%s/server.cert", dir);
    int rc = s_save(server, path, false);
    if (!rc)
        printf("server certificate: %s (public key %s)\n", path, zcert_public_txt(server));
    zcert_destroy(&server);
    for (long i = 1; !rc && i <= clients; i++) {
        zcert_t *cert = zcert_new();
        zcert_set_meta(cert, "role", "troupe agentd %ld", i);
        snprintf(path, sizeof path, "%s/agents/agent-%ld.cert", dir, i);
        rc = s_save(cert, path, false);
        snprintf(path, sizeof path, "%s/clients/agent-%ld.cert", dir, i);
        if (!rc)
            rc = s_save(cert, path, true);
        zcert_destroy(&cert);
    }
    if (rc)
        return 1;
    printf("%ld agentd certificate(s) in %s/agents/ (copy one to each agent host);\n"
           "the coordinator accepts the public keys in %s/clients/.\n",
           clients, dir, dir);
    return 0;
}
