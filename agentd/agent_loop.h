/*  agent_loop -- the agentd daemon: one DEALER to the coordinator, N slots.
 *
 *  Lifecycle of a connection: CONNECTING (Hello sent) -> WELCOMED -> agents
 *  assigned to slots, steps answered -> Shutdown, or the coordinator falls
 *  silent for 3 x the liveness interval (or our parent dies, in local mode)
 *  and we exit. One thread owns all state; model calls run on the LLM client's
 *  worker and come back through its pipe.
 */
#ifndef AGENT_LOOP_H
#define AGENT_LOOP_H

#include <stdint.h>
#include <sys/types.h>

typedef struct {
    const char *endpoint;   /* tcp://HOST:PORT or ipc://PATH */
    uint32_t slots;         /* agents this process may host */
    const char *data_dir;   /* agents/NAME (LMDB) and documents/ live here */
    pid_t parent_pid;       /* local mode: exit when this process is gone; 0 = none */
    const char *server_key; /* CURVE: the coordinator's public key (Z85), or NULL */
    const char *cert_path;  /* CURVE: this agentd's certificate file, or NULL */
    const char *token;      /* local mode: the coordinator's secret for its children */
} agent_loop_opts_t;

/* Exit status of an agentd stopped by an infrastructure fault (its agents'
 * memory cannot be written). */
#define AGENT_EXIT_INFRA 3

/* Run until shutdown. Returns the process exit code. */
int agent_loop_run(const agent_loop_opts_t *opts);

#endif
