/*  coord_forkserver -- local agentds started by a fork server.
 *
 *  One `agentd --fork-server FD` per run, started by exec like any agentd,
 *  forks the others (agentd/agent_forkserver.c says why and how). This side
 *  makes the coordinator the "child subreaper" that adopts them, so they are
 *  its children as exec'd ones are, and asks for a batch of them at once. When
 *  the server cannot be started or stops answering, agentds are exec'd as
 *  before.
 */
#define TT_LOG_MODULE "peers"
#include "coord_forkserver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tt_log.h"
#include "tt_mem.h"

#define S_MAX_REQUEST (64 << 10) /* as agent_forkserver.c reads */

struct coord_forkserver {
    int fd;
    pid_t pid; /* 0 once reaped */
};

int
coord_exec_agentd(const char *agentd, char *const argv[], char *const envp[], pid_t *pid)
{
    /* agentds do not inherit the coordinator's blocked SIGUSR1 */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    int rc = posix_spawn(pid, agentd, NULL, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    return rc;
}

/* ENVP and LD_BIND_NOW=1: the server binds every symbol once, for all */
static char **
s_server_environ(char *const envp[])
{
    size_t n = 0;
    while (envp[n])
        n++;
    char **env = tt_calloc(n + 2, sizeof *env);
    memcpy(env, envp, n * sizeof *env);
    env[n] = "LD_BIND_NOW=1";
    return env;
}

coord_forkserver_t *
coord_forkserver_start(const char *agentd, char *const envp[], size_t title_len)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        TT_LOG_INFO("no fork server: cannot adopt agentds (%s)", strerror(errno));
        return NULL;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
        return NULL;
    fcntl(sv[0], F_SETFD, FD_CLOEXEC); /* ours; sv[1] is the server's */
    char fd_text[16];
    snprintf(fd_text, sizeof fd_text, "%d", sv[1]);
    /* room for the agentds' arguments, which they show in place of ours */
    char *title = tt_malloc(title_len + 1);
    memset(title, ' ', title_len);
    title[title_len] = '\0';
    char *const argv[] = {(char *)agentd, "--fork-server", fd_text, title, NULL};
    pid_t pid;
    char **env = s_server_environ(envp);
    int rc = coord_exec_agentd(agentd, argv, env, &pid);
    free(env);
    free(title);
    close(sv[1]);
    if (rc != 0) {
        TT_LOG_INFO("no fork server: cannot start %s: %s", agentd, strerror(rc));
        close(sv[0]);
        return NULL;
    }
    coord_forkserver_t *fs = tt_calloc(1, sizeof *fs);
    fs->fd = sv[0];
    fs->pid = pid;
    return fs;
}

size_t
coord_forkserver_spawn(coord_forkserver_t *fs, char *const argv[], size_t n, int timeout_ms,
                       pid_t *pids, int *err)
{
    char *buf = tt_malloc(S_MAX_REQUEST);
    size_t len = 0;
    *err = 0;
    for (size_t i = 0; argv[i] && !*err; i++) {
        size_t k = strlen(argv[i]) + 1;
        if (k > S_MAX_REQUEST - len)
            *err = E2BIG;
        else
            memcpy(buf + len, argv[i], k);
        len += k;
    }
    size_t asked = 0;
    while (!*err && asked < n)
        if (send(fs->fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len)
            asked++;
        else
            *err = ENOTCONN;
    free(buf);
    /* every answer is read, even after an error: each pid is an agentd */
    size_t started = 0;
    for (size_t answered = 0; answered < asked; answered++) {
        struct pollfd p = {.fd = fs->fd, .events = POLLIN};
        int ready;
        while ((ready = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
            ;
        int32_t v;
        if (ready != 1 || recv(fs->fd, &v, sizeof v, 0) != (ssize_t)sizeof v) {
            *err = ENOTCONN;
            break;
        }
        if (v > 0)
            pids[started++] = (pid_t)v;
        else if (!*err)
            *err = v < 0 ? -v : EIO;
    }
    return started;
}

void
coord_forkserver_reaped(coord_forkserver_t *fs, pid_t pid)
{
    if (fs && fs->pid == pid)
        fs->pid = 0;
}

void
coord_forkserver_stop(coord_forkserver_t **fsp)
{
    coord_forkserver_t *fs = *fsp;
    if (!fs)
        return;
    close(fs->fd); /* the server leaves when it reads EOF; make sure */
    if (fs->pid > 0 && waitpid(fs->pid, NULL, WNOHANG) == 0) {
        kill(fs->pid, SIGKILL);
        waitpid(fs->pid, NULL, 0);
    }
    free(fs);
    *fsp = NULL;
}
