/*  agent_loop -- the agentd daemon: one DEALER to the coordinator, N slots.
 *
 *  Lifecycle of a connection: CONNECTING (Hello sent) -> WELCOMED -> agents
 *  assigned to slots, steps answered -> Shutdown, or our parent dies (local
 *  mode), or a remote coordinator falls silent for AGENT_PATIENCE_LIVENESS x
 *  the liveness interval, or no Welcome comes within the deadline the
 *  coordinator gave (--welcome-ms), and we exit. One thread owns all state; model calls run on the
 * LLM client's worker and come back through its pipe.
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
    int welcome_ms;         /* give up without a Welcome after this long; 0 = the default */
    int answer_flush_ms;    /* AGENT_ANSWER_FLUSH_MS, or what TROUPE_ANSWER_FLUSH_MS says */
} agent_loop_opts_t;

/* Finished answers wait at most this long (ms) for the rest of their batch
 * before they are sent: progress stays visible, and a slow model call of one
 * agent does not hold back the others' answers. */
#define AGENT_ANSWER_FLUSH_MS 200
/* Ready results of model calls are taken for this much loop time (ms) at
 * most in a row, and a batch's turns are started one a loop turn, so
 * thousands of them never keep a heartbeat waiting. */
#define AGENT_SLICE_MS 20
/* A slot agentd's group commit takes at most this many turns: a transaction's
 * dirty pages are heap that LMDB keeps for the next one (~5 pages a turn), so
 * the group's size bounds the agentd's memory; the cost of a transaction is
 * spread thin well before it. */
#define AGENT_GROUP_COMMIT_MAX 32

/* A remote agentd (no --parent-pid) exits after this many LIVENESS_MS of
 * silence from the coordinator; a local child waits as long as its parent
 * lives (a busy or stopped coordinator is not a dead one). */
#define AGENT_PATIENCE_LIVENESS 24
/* Without --welcome-ms: the Welcome is awaited this long. */
#define AGENT_WELCOME_DEFAULT_MS 60000

/* Exit status of an agentd stopped by an infrastructure fault (its agents'
 * memory cannot be written). */
#define AGENT_EXIT_INFRA 3

/* Run until shutdown. Returns the process exit code. */
int agent_loop_run(const agent_loop_opts_t *opts);

#endif
