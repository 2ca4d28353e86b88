/*  agent_forkserver -- start agentds by fork instead of exec.
 *
 *  Starting an agentd by exec costs ~30 ms of CPU, nearly all of it the
 *  dynamic loader mapping and relocating some 55 libraries; a thousand local
 *  agentds cost half a minute of two cores before any of them runs. The
 *  coordinator therefore starts one `agentd --fork-server FD` per run and asks
 *  it for agentds: the server, already loaded and still single-threaded, forks
 *  them. Each request is one SOCK_SEQPACKET message holding the new agentd's
 *  arguments, NUL-terminated one after another; the answer is its pid as an
 *  int32 (or -errno).
 *
 *  The new agentd must be the coordinator's child, as an exec'd one is (the
 *  coordinator reaps its children, takes their exit status, signals them). So
 *  the server forks a go-between which forks the agentd, answers its pid and
 *  exits: the orphan goes to the nearest "child subreaper" above it, which the
 *  coordinator makes itself (it reaps with waitpid(-1), so an agentd that dies
 *  before it is reparented is reaped all the same). The server does not wait
 *  for the go-between: the coordinator sends a batch of requests at once, and
 *  while one go-between forks and answers, the server forks the next (waiting
 *  for each, on a busy host, cost ~6 ms an agentd: most of a 1,000-agentd
 *  start-up).
 *
 *  What every agentd would do first is done here once, before any fork: the
 *  coordinator starts the server with LD_BIND_NOW, so no agentd resolves a
 *  library symbol again; libcurl's, OpenSSL's and libsodium's setup; and what
 *  a ZeroMQ context's creation costs (OpenPGM's, which loads name-service
 *  modules). None of these leaves a thread or a descriptor behind.
 */
#include "agent_forkserver.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "tt_llm.h"

#define S_MAX_REQUEST (64 << 10)
#define S_MAX_ARGS    64

/* The request as an argv (pointing into buf), or 0 arguments if malformed. */
static int
s_parse(char *buf, size_t len, char **argv)
{
    if (len == 0 || buf[len - 1] != '\0')
        return 0;
    int argc = 0;
    for (size_t at = 0; at < len; at += strlen(buf + at) + 1) {
        if (argc == S_MAX_ARGS - 1)
            return 0;
        argv[argc++] = buf + at;
    }
    argv[argc] = NULL;
    return argc;
}

/* `ps` and `pgrep -f` show what an agentd was asked to be: its arguments are
 * written over the server's own (which the coordinator padded for them), the
 * rest zeroed. What does not fit is cut; only the display is. */
static void
s_retitle(char *area, size_t cap, int argc, char **argv)
{
    size_t at = 0;
    for (int i = 0; i < argc && at < cap; i++) {
        size_t n = strlen(argv[i]) + 1;
        if (n > cap - at)
            n = cap - at;
        memmove(area + at, argv[i], n);
        at += n;
    }
    memset(area + at, 0, cap - at);
    if (cap)
        area[cap - 1] = '\0';
}

static void
s_answer(int fd, int32_t v)
{
    while (send(fd, &v, sizeof v, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

/* In the new agentd, wait until the go-between has exited and we belong to
 * the coordinator (a few µs; bounded in case the go-between is stopped). */
static void
s_await_new_parent(pid_t go_between)
{
    struct timespec pause = {0, 100 * 1000};
    for (int i = 0; i < 100000 && getppid() == go_between; i++)
        nanosleep(&pause, NULL);
}

/* Fork an agentd for one request. Returns true in the agentd, false in the
 * server, which goes on to the next request at once: the go-between answers
 * (the agentd's pid, or -errno) and exits (SA_NOCLDWAIT: nobody waits). */
static bool
s_start_one(int fd, int argc, char **argv, char *title, size_t title_cap)
{
    pid_t go_between = fork();
    if (go_between < 0) {
        s_answer(fd, -errno);
        return false;
    }
    if (go_between == 0) {
        pid_t self = getpid();
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGCHLD, SIG_DFL); /* an agentd waits for its children */
            s_retitle(title, title_cap, argc, argv);
            close(fd);
            s_await_new_parent(self);
            return true;
        }
        s_answer(fd, pid > 0 ? (int32_t)pid : -errno);
        _exit(0);
    }
    return false;
}

bool
agent_forkserver_run(int fd, char *title, size_t title_cap, int *argc, char ***argv)
{
    /* the coordinator going away ends the server: its socket reads EOF */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    prctl(PR_SET_DUMPABLE, 0); /* its environment may hold an API key */
    unsetenv("LD_BIND_NOW");   /* done with: the agentds start no programs, but still */
    tt_llm_global_init();
    zmq_ctx_term(zmq_ctx_new());
    /* go-betweens are reaped by the kernel as they exit */
    struct sigaction reap = {.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT};
    sigemptyset(&reap.sa_mask);
    sigaction(SIGCHLD, &reap, NULL);
    static char buf[S_MAX_REQUEST];
    static char *args[S_MAX_ARGS];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        int k = s_parse(buf, (size_t)n, args);
        if (k == 0) {
            s_answer(fd, -EINVAL);
            continue;
        }
        if (s_start_one(fd, k, args, title, title_cap)) {
            *argc = k;
            *argv = args;
            return true;
        }
    }
}
