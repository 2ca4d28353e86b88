/*  coord -- the state of one `coordinator run`, shared by its modules.
 *
 *  One event-loop thread owns all of it. The modules are:
 *    coord_run.c        lifecycle: set up, the loop, finish
 *    coord_peers.c      agentd connections: hello, liveness, local processes
 *    coord_place.c      agents onto slots, assignment, rebuild from the log
 *    coord_step.c       a step: interventions, dispatch, collect, commit
 *    coord_record.c     what goes into the log (SimBegin, StepCommit, ...)
 *    coord_replay.c     the recorded run served by --replay
 *    coord_transcript.c, coord_results.c   what people read
 *
 *  An agent's lifecycle on the coordinator side:
 *    UNPLACED -> ASSIGNING -> (REBUILDING) -> READY -> ACTING -> ANSWERED -> READY
 *  and back to UNPLACED whenever its agentd dies or it must be reset.
 */
#ifndef COORD_H
#define COORD_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "coord_forkserver.h"
#include "coord_replay.h"
#include "coord_results.h"
#include "coord_run.h"
#include "coord_scenario.h"
#include "coord_session.h"
#include "coord_transcript.h"
#include "coord_world.h"
#include "troupe.pb-c.h"
#include "tt_buf.h"
#include "tt_config.h"
#include "tt_hash.h"
#include "tt_llm.h"
#include "tt_tlog.h"
#include "tt_wire.h"

#define COORD_TICK_MS      100
#define COORD_MAX_PEERS    100000
#define COORD_MAX_RESTARTS 20 /* per agent, per run */
/* peer messages read per turn of the loop, and read at most before a tick
 * judges which peers are silent (coord_peers_tick) */
#define COORD_READ_SLICE          256
#define COORD_READ_BEFORE_JUDGING 10000
/* without --slots: slot agentds beyond this many agents, about this many a core */
#define COORD_AUTO_SLOTS_FROM  256
#define COORD_AGENTDS_PER_CORE 4
/* a tick this late (ms) means the coordinator did not run: see coord_peers_tick */
#define COORD_STALL_MS 1000
/* descriptors kept for the log, the transcript, libcurl, the live report */
#define COORD_SPARE_FDS 64
/* local agentds started a tick at most (coord_peers_start), and started but
 * not yet registered at once, per core: starting one costs tens of ms of CPU
 * (its loader alone maps some 55 libraries), and a thousand started at once
 * starve the ones already registered of the CPU their heartbeats need */
#define COORD_SPAWN_BATCH       32
#define COORD_STARTING_PER_CORE 8
/* the same when the fork server starts them (coord_forkserver.c): a few ms */
#define COORD_FORK_BATCH      128
#define COORD_FORKED_PER_CORE 32
/* Slots all live peers may offer together (beyond 4 per agent): a peer's
 * slot table is never larger than the population, and hellos past this
 * are refused, so hostile hellos cannot exhaust memory. */
#define COORD_MAX_SLOTS 100000
/* Connections accepted beyond the agentds a run can use (coord_gate.c), and
 * messages queued per connection before libzmq stops reading it: together
 * they bound what peers that never say hello can make us hold. */
#define COORD_GATE_MARGIN 8
#define COORD_PEER_RCVHWM 1
/* the largest frame decoded from a peer that has not registered (a hello) */
#define COORD_GATE_HELLO_MAX (64 << 10)
/* blocks this large and up are mapped and unmapped, never kept in a heap */
#define COORD_GATE_MMAP_FROM (1 << 20)
/* A peer that holds an agent in ASSIGNING or REBUILDING this many liveness
 * intervals without progress is hung: it is declared dead. Progress is the
 * peer's, not each agent's: an agentd given 12,500 agents at once readies
 * them one after the other, and the last may wait far longer than this. */
#define COORD_PLACE_DEADLINE_LIVENESS 4
/* Agents assigned per turn of the loop: 100,000 agents take seconds to
 * assign, and the loop's reads, heartbeats and ticks go on in between. */
#define COORD_PLACE_SLICE 512

typedef enum {
    COORD_PEER_LIVE = 0,
    COORD_PEER_DEAD = 1,
} coord_peer_state_t;

typedef struct {
    zframe_t *routing_id;
    char key[64]; /* routing id as hex, the peers table key */
    char *instance;
    char *host;
    uint32_t slots;
    uint32_t *slot_agent; /* agent index + 1 per slot; 0 = free */
    int64_t last_seen_ms;
    int64_t heartbeat_ms; /* when we last sent it a heartbeat */
    int64_t progress_ms;  /* last agent it readied or rebuilt a step of */
    uint64_t last_seq;
    pid_t pid;           /* local child, 0 for external agentds */
    uint32_t remote_pid; /* as the agentd said in its hello (for messages) */
    coord_peer_state_t state;
    bool lost; /* a local child whose connection is gone: coord_peer_unreachable */
    /* Steps for its agents gathered while the loop handles one event, sent
     * as one frame (or as few as fit) when the handler ends: coord_peers_flush */
    tt_wire_batch_t *outbox;
    bool outbox_listed; /* its index is in coord_t.outbox_peers */
} coord_peer_t;

typedef enum {
    COORD_AGENT_UNPLACED = 0,
    COORD_AGENT_ASSIGNING,
    COORD_AGENT_REBUILDING,
    COORD_AGENT_READY,
    COORD_AGENT_ACTING,
    COORD_AGENT_ANSWERED,
} coord_agent_state_t;

typedef struct {
    uint32_t index;
    const char *name; /* borrowed from the scenario */
    coord_agent_state_t state;
    long peer; /* -1 when unplaced */
    uint32_t slot;
    uint32_t incarnation;
    uint32_t memory_step; /* the agent's memory, as it reported */
    uint32_t restarts;
    bool must_act;           /* has not answered the step in progress */
    bool reset_after_commit; /* timed out: reset its slot once the step commits */
    Tt__StepInput *input;    /* this step's input, kept until commit */
    Tt__Actions *answer;     /* this step's Actions, kept until commit */
    const char *status;      /* "ok", "failed", "timeout" */
    int64_t dispatched_ms;
    int64_t placed_ms; /* last progress while ASSIGNING or REBUILDING */
} coord_agent_t;

typedef enum {
    COORD_RUN_PLACING = 0, /* waiting for every agent to be ready */
    COORD_RUN_JUDGING,     /* step begun, waiting for intervention judgements */
    COORD_RUN_STEPPING,    /* dispatching and collecting */
    COORD_RUN_DONE,
    COORD_RUN_IDLE, /* a session between commands */
} coord_run_state_t;

/* A record's entries on their way to the log as Parts (coord_record_part):
 * boundaries depend only on the entries, so the log does not depend on when
 * they came. */
typedef struct {
    tt_buf_t buf;              /* encoded entries not yet in a Part */
    Tt__AgentTelemetry **tels; /* their telemetry */
    size_t n_tels;
    size_t tels_alloc;
    size_t written; /* entries in Parts in the log */
    size_t encoded; /* entries in Parts or in buf */
} coord_parts_t;

typedef struct coord {
    coord_run_opts_t opts;
    tt_config_t config;
    coord_scenario_t *scenario;
    coord_world_t *world;
    tt_tlog_t *log;
    coord_replay_t *replay;
    tt_llm_t *llm; /* interventions judged by the model (lazily) */
    coord_transcript_t *transcript;
    coord_results_t *results;
    char *out_dir;
    char *scenario_text; /* the scenario as edited by --set; NULL: the file as is */
    /* network */
    zloop_t *loop;
    zsock_t *router;
    char *endpoint;      /* what agentds connect to */
    zactor_t *auth;      /* CURVE authenticator, when secured */
    zactor_t *gate;      /* the connection cap (coord_gate.c), its own thread */
    char *server_public; /* CURVE server key (Z85) */
    char *spawn_token;   /* local mode: the secret our children say hello with */
    /* local mode: forks our agentds (NULL: they are exec'd) */
    coord_forkserver_t *forkserver;
    bool forkserver_tried;
    coord_peer_t *peers;
    size_t n_peers;
    zhash_t *peer_index; /* key -> peer index + 1 */
    uint64_t seq;
    uint64_t dropped_frames;
    uint64_t other_versions; /* frames of another protocol version, dropped */
    size_t *outbox_peers;    /* peers with Steps to send (indexes) */
    size_t n_outbox_peers;
    long outbox_last;          /* the peer the last Step was queued for; -1 none */
    uint32_t step_frames_out;  /* StepBatch frames sent in the step in progress */
    uint32_t step_frames_in;   /* ActionsBatch frames received in it */
    uint64_t ignored_messages; /* from dead or unknown peers */
    size_t respawns;           /* local agentds to start on the next tick */
    size_t unborn_deaths;      /* local agentds dead before their hello, since the last hello */
    char *unborn_why;          /* how the last of them died */
    char last_death[160];      /* how the last agentd that died did (for messages) */
    /* agents */
    coord_agent_t *agents;
    size_t n_agents;
    json_t *agent_config; /* the shared part of every Assign's agent config */
    uint8_t run_id[TT_SHA256_LEN];
    uint64_t *step_records; /* log record index of StepCommit per step (1-based) */
    size_t step_records_alloc;
    /* the run */
    coord_run_state_t state;
    uint32_t committed_step;
    uint32_t total_steps;
    uint32_t step; /* the step in progress */
    int64_t step_started_ms;
    uint32_t *order;     /* acting order of the step in progress */
    size_t n_order;      /* agents acting in it (all of them, but in a session) */
    size_t order_next;   /* next in order to dispatch */
    size_t owing;        /* agents that have not answered the step in progress */
    size_t scan_from;    /* positions in order before it are acting or answered */
    coord_parts_t parts; /* the record being written in Parts (coord_record_part) */
    size_t in_flight;
    int64_t last_tick_ms; /* when coord_peers_tick last ran */
    uint32_t stalls;      /* times the coordinator did not run for COORD_STALL_MS */
    bool placing_on;      /* a placement slice is due on the next turn of the loop */
    size_t max_concurrency;
    size_t pending_judgements;
    bool *intervention_fired; /* once-only interventions that fired */
    json_t *fired_now;        /* interventions fired this step (names) */
    int64_t started_ms;
    int64_t startup_ms; /* until every agent was first ready */
    int64_t placing_since_ms;
    uint64_t llm_calls;
    uint64_t tokens;
    uint64_t rate_limited; /* model answers of this step that were rate limited */
    bool divergence_reported;
    char *divergence;
    bool already_complete;     /* --resume of a finished run: write nothing */
    int signal_fd;             /* SIGUSR1 as a readable fd: a checkpoint is asked for */
    bool checkpoint_requested; /* by SIGUSR1: recorded after the next commit */
    int exit_code;
    char *failure;            /* why the run failed, for the final message */
    coord_session_t *session; /* coordinator serve; NULL for a run */
    struct coord_live *live;  /* --serve-report: the live report's server */
} coord_t;

/* ---- coord_peers.c */
tt_err_t coord_peers_bind(coord_t *c, char **errmsg);
tt_err_t coord_peers_spawn(coord_t *c, size_t n_processes, uint32_t slots, char **errmsg);
/* Local mode, at the start: a batch of agentds now, the rest as the ones
 * started register (the loop answers Hellos in between); fails early,
 * naming `ulimit -n`, when the descriptors cannot suffice. */
tt_err_t coord_peers_start(coord_t *c, size_t n_processes, char **errmsg);
int coord_peers_on_message(zloop_t *loop, zsock_t *sock, void *arg);
void coord_peers_tick(coord_t *c);
tt_err_t coord_send(coord_t *c, coord_peer_t *p, uint32_t agent, uint32_t incarnation,
                    Tt__Envelope *env);
void coord_peers_shutdown(coord_t *c, const char *reason);
void coord_peers_destroy(coord_t *c);
void coord_peer_dead(coord_t *c, coord_peer_t *p, const char *why);
/* A send to p found no route: its connection is gone (coord_peers.c). */
void coord_peer_unreachable(coord_t *c, coord_peer_t *p);
/* The agent a message of peer p is about, if it comes from the agent's
 * agentd and current incarnation; else NULL (logged at DEBUG as stale, what
 * names the message). */
coord_agent_t *coord_peers_agent_of(coord_t *c, const coord_peer_t *p, uint32_t agent,
                                    uint32_t incarnation, const char *what);

/* ---- coord_batch.c: a step's work, one frame per agentd each way */
/* Queue agent a's Step for its agentd (st is borrowed for the call only): it
 * leaves with the other Steps for that agentd at the next coord_batch_flush.
 * The agent must be placed. */
void coord_batch_send_step(coord_t *c, coord_agent_t *a, const Tt__Step *st);
/* Send every queued Step: one frame per agentd (more only past the frame
 * limit). Every loop handler that may dispatch calls it before returning. */
void coord_batch_flush(coord_t *c);
/* Send what is queued for p now (before anything else goes to it, so an
 * agentd sees messages in the order they were made). */
void coord_batch_flush_peer(coord_t *c, coord_peer_t *p);
/* The answers in an ActionsBatch from live peer p, each to its agent. */
void coord_batch_on_answers(coord_t *c, coord_peer_t *p, Tt__ActionsBatch *b);
void coord_batch_fini(coord_t *c);

/* The peers table's key of a routing id: its bytes as hex, cut to fit cap. */
void coord_peer_key(zframe_t *id, char *key, size_t cap);

/* ---- coord_gate.c */
/* Watch the ROUTER's connections from a thread of their own: accept at most
 * what this run can use, shut down the rest. */
tt_err_t coord_gate_start(coord_t *c, char **errmsg);
void coord_gate_stop(coord_t *c);
/* tt_wire_recv on the ROUTER, but a frame larger than COORD_GATE_HELLO_MAX
 * from a peer that is not a live registered one is dropped undecoded
 * (TT_ETOOBIG): all it may send is a hello. */
tt_err_t coord_gate_recv(coord_t *c, zsock_t *sock, zframe_t **id, Tt__Envelope **env);

/* ---- coord_place.c */
/* Put unplaced agents on free slots: COORD_PLACE_SLICE of them, the rest on
 * the following turns of the loop. */
void coord_place_unplaced(coord_t *c);
void coord_place_on_assigned(coord_t *c, coord_agent_t *a, const Tt__Assigned *m);
/* Actions for an agent that is REBUILDING. */
void coord_place_on_rebuilt(coord_t *c, coord_agent_t *a, const Tt__Actions *m);
void coord_place_unplace(coord_t *c, coord_agent_t *a);
/* Send the agent's (changed) persona to the slot it has: a new incarnation
 * that keeps its memory. */
void coord_place_reassign(coord_t *c, coord_agent_t *a);
bool coord_place_all_ready(const coord_t *c);
/* Declare dead the peers that hold an agent in ASSIGNING or REBUILDING past
 * the deadline (COORD_PLACE_DEADLINE_LIVENESS x LIVENESS_MS). */
void coord_place_tick(coord_t *c);

/* ---- coord_step.c */
void coord_step_begin(coord_t *c);
void coord_step_dispatch(coord_t *c);
/* Agent a (ACTING) answered: takes *m when it is the answer to the step in
 * progress (sets it to NULL), else leaves it to the caller. */
void coord_step_on_actions(coord_t *c, coord_agent_t *a, Tt__Actions **m);
void coord_step_tick(coord_t *c);
int coord_step_on_judgement(zloop_t *loop, zsock_t *pipe, void *arg);

/* ---- coord_record.c */
/* Add the next entry (field number field, message msg) of the record being
 * written: it goes to the log in a Part once TT_LIMIT_RECORD_PART bytes of
 * entries are waiting, with the telemetry tel (taken, may be NULL). Entries
 * not yet in a Part when the record is written go in the record itself; on a
 * version 1 log nothing is written here. */
tt_err_t coord_record_part(coord_t *c, uint32_t field, const ProtobufCMessage *msg,
                           Tt__AgentTelemetry *tel);
/* Forget the entries of an unwritten record, and cut its Parts from the log. */
void coord_record_parts_reset(coord_t *c);
/* Free them, leaving the log alone. */
void coord_record_parts_fini(coord_t *c);
tt_err_t coord_record_begin(coord_t *c, char **errmsg);
tt_err_t coord_record_resume(coord_t *c, char **errmsg);
tt_err_t coord_record_step(coord_t *c, const Tt__StepCommit *sc, const Tt__Telemetry *tel);
tt_err_t coord_record_intervention(coord_t *c, const Tt__Intervention *iv,
                                   const Tt__Telemetry *tel);
tt_err_t coord_record_checkpoint(coord_t *c, const char *name);
tt_err_t coord_record_end(coord_t *c, const char *reason);
/* A session command's effect (compact JSON), synced. */
tt_err_t coord_record_session(coord_t *c, const char *op, const char *effect_json);
/* The same for a command that called the model (xt: how the call went). */
tt_err_t coord_record_session_call(coord_t *c, const char *op, const char *effect_json,
                                   const Tt__ExchangeTelemetry *xt);
/* The AgentStep of agent in committed step (from the log); caller frees with
 * tt_wire_free_body(body). NULL if absent. */
const Tt__AgentStep *coord_record_agent_step(coord_t *c, uint32_t step, uint32_t agent,
                                             Tt__RecordBody **body, char **datetime);

/* ---- coord_progress.c: the status line on stderr (a terminal only) */
void coord_progress_draw(coord_t *c);
/* Clear it before writing anything else to the terminal. */
void coord_progress_clear(coord_t *c);

/* ---- helpers */
coord_agent_t *coord_agent(coord_t *c, uint32_t envelope_agent);
void coord_fail(coord_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Has every write to the transcript gone through? If not, the run fails
 * (an output lost is never a success) and false is returned. */
bool coord_check_transcript(coord_t *c);

#endif
