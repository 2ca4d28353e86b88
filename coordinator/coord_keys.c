/*  coord_keys -- generating CURVE certificates with czmq's zcert. */
#include "coord_keys.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Public certificates are for everyone; secret ones for their owner, or for a
 * service's group with --group (root writes them, the `troupe` user reads). */
#define S_MODE_PUBLIC       0644
#define S_MODE_SECRET       0600
#define S_MODE_SECRET_GROUP 0640
#define S_MODE_DIR          0755
#define S_MODE_DIR_PRIVATE  0700
#define S_MODE_DIR_GROUP    0750
#define S_NO_GROUP          ((gid_t)-1)

static int
s_usage(FILE *out, int rc)
{
    fprintf(out, "Usage: coordinator keygen DIR [--clients N] [--group GROUP]\n"
                 "\n"
                 "Writes a CURVE certificate for the coordinator (DIR/server.cert and its\n"
                 "_secret) and N agentd certificates (default 1): DIR/agents/agent-I.cert and\n"
                 "_secret go to the agent hosts, DIR/clients/agent-I.cert (public) tells the\n"
                 "coordinator whom to accept. Existing files are never overwritten.\n"
                 "\n"
                 "Public certificates are 0644, secret ones 0600 (DIR/agents/ 0700). With\n"
                 "--group GROUP the secret files are 0640 and DIR/agents/ 0750, owned by\n"
                 "GROUP, so that a service running as that group (the systemd units' `troupe`)\n"
                 "can read them.\n");
    return rc;
}

/* Create path with mode and group; an existing directory is left as it is. */
static int
s_mkdir(const char *path, mode_t mode, gid_t gid)
{
    if (mkdir(path, 0700) != 0) {
        if (errno == EEXIST)
            return 0;
        fprintf(stderr, "coordinator keygen: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    if ((gid != S_NO_GROUP && chown(path, (uid_t)-1, gid) != 0) || chmod(path, mode) != 0) {
        fprintf(stderr, "coordinator keygen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Written with umask 077, then opened up: a secret is never readable by more
 * than its owner, even for a moment. */
static int
s_set_mode(const char *path, mode_t mode, gid_t gid)
{
    if ((gid != S_NO_GROUP && chown(path, (uid_t)-1, gid) != 0) || chmod(path, mode) != 0) {
        fprintf(stderr, "coordinator keygen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int
s_save(zcert_t *cert, const char *path, bool public_only, gid_t gid)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        fprintf(stderr, "coordinator keygen: %s exists; not overwriting it\n", path);
        return -1;
    }
    int rc = public_only ? zcert_save_public(cert, path) : zcert_save(cert, path);
    if (rc != 0) {
        fprintf(stderr, "coordinator keygen: cannot write %s\n", path);
        return rc;
    }
    rc = s_set_mode(path, S_MODE_PUBLIC, S_NO_GROUP);
    if (!rc && !public_only) {
        char secret[4096];
        snprintf(secret, sizeof secret, "%s_secret", path);
        rc = s_set_mode(secret, gid == S_NO_GROUP ? S_MODE_SECRET : S_MODE_SECRET_GROUP, gid);
    }
    return rc;
}

/* The directories and every certificate; 0 or -1 (already said on stderr). */
static int
s_write_all(const char *dir, long clients, gid_t gid)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/clients", dir);
    if (s_mkdir(dir, S_MODE_DIR, S_NO_GROUP) || s_mkdir(path, S_MODE_DIR, S_NO_GROUP))
        return -1;
    snprintf(path, sizeof path, "%s/agents", dir);
    if (s_mkdir(path, gid == S_NO_GROUP ? S_MODE_DIR_PRIVATE : S_MODE_DIR_GROUP, gid))
        return -1;
    zcert_t *server = zcert_new();
    zcert_set_meta(server, "role", "troupe coordinator");
    snprintf(path, sizeof path, "%s/server.cert", dir);
    int rc = s_save(server, path, false, gid);
    if (!rc)
        printf("server certificate: %s (public key %s)\n", path, zcert_public_txt(server));
    zcert_destroy(&server);
    for (long i = 1; !rc && i <= clients; i++) {
        zcert_t *cert = zcert_new();
        zcert_set_meta(cert, "role", "troupe agentd %ld", i);
        snprintf(path, sizeof path, "%s/agents/agent-%ld.cert", dir, i);
        rc = s_save(cert, path, false, gid);
        snprintf(path, sizeof path, "%s/clients/agent-%ld.cert", dir, i);
        if (!rc)
            rc = s_save(cert, path, true, S_NO_GROUP);
        zcert_destroy(&cert);
    }
    return rc;
}

int
coord_keygen_main(int argc, char **argv)
{
    static const struct option options[] = {{"clients", required_argument, NULL, 'n'},
                                            {"group", required_argument, NULL, 'g'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    long clients = 1;
    gid_t gid = S_NO_GROUP;
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
        case 'g': {
            struct group *gr = getgrnam(optarg);
            if (!gr)
                return fprintf(stderr, "coordinator keygen: --group %s: no such group\n", optarg),
                       2;
            gid = gr->gr_gid;
            break;
        }
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
    if (s_write_all(dir, clients, gid))
        return 1;
    printf("%ld agentd certificate(s) in %s/agents/ (copy one to each agent host);\n"
           "the coordinator accepts the public keys in %s/clients/.\n",
           clients, dir, dir);
    return 0;
}
