/*  coord_forkserver -- local agentds started by a fork server
 *  (`agentd --fork-server`, agentd/agent_forkserver.c).
 */
#ifndef COORD_FORKSERVER_H
#define COORD_FORKSERVER_H

#include <stddef.h>
#include <sys/types.h>

typedef struct coord_forkserver coord_forkserver_t;

/* Start AGENTD by exec, with ARGV and ENVP and no blocked signal: 0 with *pid,
 * or posix_spawn's error. */
int coord_exec_agentd(const char *agentd, char *const argv[], char *const envp[], pid_t *pid);

/* Start the server (AGENTD, with ENVP), making this process the adopter of
 * the agentds it forks; TITLE_LEN is room for an agentd's arguments, which it
 * shows in place of the server's. NULL if it cannot be: exec agentds then. */
coord_forkserver_t *coord_forkserver_start(const char *agentd, char *const envp[],
                                           size_t title_len);

/* Start N agentds with ARGV (as exec would see them), asked for at once: their
 * pids in PIDS, in the order they answer. Returns how many started; when fewer
 * than N, *err says why: an errno value (EAGAIN: the process limit), or
 * ENOTCONN: the server is gone or stopped answering for TIMEOUT_MS; stop it
 * and exec agentds instead. */
size_t coord_forkserver_spawn(coord_forkserver_t *fs, char *const argv[], size_t n, int timeout_ms,
                              pid_t *pids, int *err);

/* The coordinator reaped PID: if it was the server, never signal it again. */
void coord_forkserver_reaped(coord_forkserver_t *fs, pid_t pid);

void coord_forkserver_stop(coord_forkserver_t **fs);

#endif
