/*  agent -- one TinyPerson hosted in an agentd slot.
 *
 *  An agent owns its persona, its LMDB memory, the rules of its turns (the base
 *  actions plus those of its faculties and tools), its cached system prompt and
 *  a cache of its episode window, so a step reads almost nothing from disk.
 *  Turns are run by agent_turn; this module is the state they work on.
 */
#ifndef AGENT_H
#define AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "troupe.pb-c.h"
#include "tt_config.h"
#include "tt_err.h"
#include "tt_memory.h"
#include "tt_persona.h"
#include "tt_turn.h"

#define AGENT_WINDOW_FIRST_MAX 64
#define AGENT_WINDOW_LAST_MAX  256
/* A slot agentd's memories: one shared store in DATA_DIR/memory, used by
 * every slot agentd of that data directory (tt_memory.h). */
#define AGENT_STORE_DIR "memory"

typedef struct agent agent_t;

/* The episode window: the first N and the last M items, kept in RAM. */
typedef struct {
    char *first[AGENT_WINDOW_FIRST_MAX]; /* item JSON, oldest first */
    size_t n_first;
    char *last[AGENT_WINDOW_LAST_MAX]; /* ring of the latest items */
    size_t n_last;
    size_t head;    /* next write position in last[] */
    uint64_t total; /* items ever stored */
} agent_window_t;

struct agent {
    uint32_t index; /* agent index in the run */
    uint32_t slot;
    uint32_t incarnation;
    char *name;
    char *dir;                /* LMDB environment: agents/NAME, or the shared store */
    tt_memory_store_t *store; /* the agentd's shared store (borrowed), or NULL */
    char *documents_dir;      /* where WRITE_DOCUMENT writes */
    char *owner;              /* fencing token "<run id>/<incarnation>" */
    uint64_t seed;            /* request seed for this agent */
    tt_persona_t *persona;
    tt_config_t config;   /* the run's settings (from Assign, no secrets inside) */
    json_t *agent_config; /* faculties, tools, documents, custom faculties */
    tt_memory_t *memory;
    tt_turn_rules_t rules;
    json_t *turn_schema; /* tt_turn_schema(rules), made at the first turn */
    char *system_prompt; /* stable prefix, built once */
    json_t *cognitive;   /* latest cognitive state */
    json_t *calendar;    /* CREATE_EVENT entries */
    json_t *last_action; /* latest non-DONE action, for the repetition guard */
    char *location;
    agent_window_t window;
    uint32_t episode_events;    /* since the last consolidation */
    uint32_t episode_start;     /* first step of the current episode */
    uint32_t last_turn_actions; /* actions of its latest turn (0: none yet) */
    char **episode_lines;       /* its stored items as prompt lines, for consolidation */
    size_t n_episode_lines;
    uint64_t turn_id; /* current turn (0 = none) */
};

/* Build an agent from an Assign message: open (or create) its memory -- in
 * store if there is one (slot agentds), else in data_dir/agents/NAME --,
 * wipe it if it belongs to another run, roll it back past committed_step,
 * claim it. On error *errmsg says why (caller frees); TT_ECORRUPT from a
 * store: the store is damaged and must be discarded whole. */
tt_err_t agent_new(const Tt__Assign *assign, uint32_t index, uint32_t incarnation,
                   const char *data_dir, tt_memory_store_t *store, agent_t **out, char **errmsg);
void agent_destroy(agent_t **self_p);

uint32_t agent_last_step(const agent_t *a);

/* The prompt's episode window lines (first N, last M), borrowed until the next
 * push; the caller frees only the array. omitted_after and omitted describe
 * the gap. */
const char **agent_window_lines(const agent_t *a, size_t *n_lines, size_t *omitted_after,
                                size_t *omitted);
/* Remember an item just committed (keeps the window cache in step), and when
 * in_episode, as a line of the current episode too. */
void agent_window_push_item(agent_t *a, const json_t *item, bool in_episode);
/* The same from stored text (rebuilding the window from memory). */
void agent_window_push(agent_t *a, const char *item_json);

/* The current episode's stored items as prompt lines (borrowed), and the
 * start of a new episode. */
const char *const *agent_episode_lines(const agent_t *a, size_t *n);
void agent_episode_reset(agent_t *a);

/* Everything about the agent that changes step by step besides its episodes:
 * cognitive state, location, episode counters, calendar, the last action (the
 * repetition guard's). Stored per step (the memory's "state" record), so a
 * rollback restores it exactly. Caller frees. */
char *agent_state_json(const agent_t *a);

/* Episodic items in TinyTroupe's format (new references). */
json_t *agent_stimulus_item(const char *type, const char *content, const char *source,
                            const char *datetime);
json_t *agent_action_item(const json_t *action, const json_t *cognitive, const char *datetime);

#endif
