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

/* Start one agentd with ARGV (as exec would see them): 0 with *pid, or an errno
 * value (EAGAIN: the process limit). ENOTCONN: the server is gone or did not
 * answer within TIMEOUT_MS; stop it and exec agentds instead. */
int coord_forkserver_spawn(coord_forkserver_t *fs, char *const argv[], int timeout_ms, pid_t *pid);

/* The coordinator reaped PID: if it was the server, never signal it again. */
void coord_forkserver_reaped(coord_forkserver_t *fs, pid_t pid);

void coord_forkserver_stop(coord_forkserver_t **fs);

#endif
