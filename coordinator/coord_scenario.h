/*  coord_scenario -- a scenario file, loaded, checked and expanded.
 *
 *  Paths inside a scenario are relative to the scenario file. Every error is
 *  reported as `file:line:col: what is wrong` (the scenario's own position, or
 *  the agent file's) and nothing is written before a scenario has loaded.
 *  See examples/scenario.schema.json and the README for the format.
 */
#ifndef COORD_SCENARIO_H
#define COORD_SCENARIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tt_err.h"
#include "tt_persona.h"

#define COORD_MAX_AGENTS 100000
#define COORD_MAX_STEPS  1000000

typedef enum {
    COORD_MODE_PARALLEL = 0,
    COORD_MODE_SEQUENTIAL = 1,
} coord_mode_t;

typedef enum {
    COORD_ACCESS_EVERYONE = 0, /* everyone can reach everyone */
    COORD_ACCESS_NETWORK = 1,  /* only related agents (TinySocialNetwork) */
    COORD_ACCESS_NONE = 2,     /* nobody, until REACH_OUT succeeds */
} coord_access_t;

typedef enum {
    COORD_EVENT_STIMULUS = 0, /* a stimulus to targets (all when n_targets == 0) */
    COORD_EVENT_CONTEXT = 1,  /* replace targets' context */
    COORD_EVENT_MOVE = 2,     /* move targets to a location (+ LOCATION stimulus) */
} coord_event_kind_t;

typedef struct {
    uint32_t step;
    coord_event_kind_t kind;
    char *stimulus; /* CONVERSATION, THOUGHT, ... */
    char *content;
    char *source;      /* "" = the world */
    uint32_t *targets; /* agent indices; NULL/0 = everyone (minus source) */
    size_t n_targets;
    char *location;
    json_t *context; /* array of strings, for CONTEXT and MOVE */
} coord_event_t;

typedef enum {
    COORD_WHEN_STEP = 0,        /* at step N */
    COORD_WHEN_EVERY = 1,       /* every N steps (N, 2N, ...) */
    COORD_WHEN_ACTION = 2,      /* an action in the previous step contains text */
    COORD_WHEN_PROPOSITION = 3, /* the model judges a proposition true */
} coord_when_t;

typedef struct {
    char *name;
    coord_when_t when;
    uint32_t n;        /* step or period */
    char *text;        /* action text or proposition */
    bool repeat;       /* may fire again (ACTION/PROPOSITION); default once */
    uint32_t *targets; /* NULL = everyone */
    size_t n_targets;
    char *stimulus; /* effect */
    char *content;
    char *source;
} coord_intervention_t;

typedef struct {
    uint32_t step;
    char *name;
} coord_checkpoint_t;

typedef struct {
    tt_persona_t *persona;
    json_t *faculties; /* ["recall", "documents", "<custom name>"] */
    json_t *tools;     /* ["word_processor", "calendar"] */
    json_t *documents; /* [{"name","text"}] read from the documents folder */
    json_t *web;       /* ["http(s)://..."]: pages read by coord_web_ground */
} coord_agent_spec_t;

typedef struct {
    char *path; /* as given */
    char *dir;  /* directory of the scenario, for relative paths */
    char *text; /* the file's bytes (recorded in SimBegin) */
    char *name;
    uint64_t seed;
    /* world */
    char *world_name;
    int64_t start; /* seconds, simulated */
    int64_t step_seconds;
    coord_mode_t mode;
    coord_access_t access;
    uint32_t *relations;   /* pairs of agent indices (network access) */
    char **relation_names; /* one per pair */
    size_t n_relations;
    bool broadcast_if_no_target;
    bool refuse_inaccessible; /* TALK to an unreachable agent: refuse with feedback */
    /* run */
    uint32_t steps;
    uint32_t skip_steps; /* advance the clock this many steps before acting */
    /* agents, in index order */
    coord_agent_spec_t *agents;
    size_t n_agents;
    json_t *by_name;          /* name -> index (names are unique) */
    json_t *custom_faculties; /* [{"name","actions":{TYPE: description},"constraints"}] */
    coord_event_t *events;
    size_t n_events;
    coord_intervention_t *interventions;
    size_t n_interventions;
    coord_checkpoint_t *checkpoints;
    size_t n_checkpoints;
    json_t *extract; /* the "extract" section, if any */
    json_t *factory; /* the "factory" section, if any */
} coord_scenario_t;

/* Load and check. *errmsg = "file:line:col: what" on failure (caller frees). */
tt_err_t coord_scenario_load(const char *path, coord_scenario_t **out, char **errmsg);
/* The same, adding the *.agent.json files of generated_dir (what the factory
 * made for the scenario's "factory" section) after the listed agents. */
tt_err_t coord_scenario_load_generated(const char *path, const char *generated_dir,
                                       coord_scenario_t **out, char **errmsg);
/* The same from text instead of the file's bytes (the file as edited by
 * --set): path still places relative paths; errors name "PATH (after --set)". */
tt_err_t coord_scenario_load_text(const char *path, const char *text, const char *generated_dir,
                                  coord_scenario_t **out, char **errmsg);
/* A session's starting point (coordinator serve): the scenario file at path,
 * whose agent list may be empty, or, with path NULL, an empty session (no
 * agent, a world where nobody is reachable until made so). */
tt_err_t coord_scenario_load_session(const char *path, coord_scenario_t **out, char **errmsg);
/* Append an agent with the default faculties (sessions). Takes *p on success.
 * TT_EEXIST: the name is taken; TT_EINVAL: no usable name. *errmsg says which
 * (caller frees). */
tt_err_t coord_scenario_add_agent(coord_scenario_t *s, tt_persona_t **p, char **errmsg);
void coord_scenario_destroy(coord_scenario_t **self_p);
/* Index of the agent with this exact name, or -1. */
long coord_scenario_find(const coord_scenario_t *s, const char *name);
/* Bytes of what an agentd is sent and SimBegin records for the agent: persona,
 * documents, faculties and tools as compact JSON (see tt_limits.h). */
size_t coord_scenario_agent_payload(const coord_agent_spec_t *a);
/* The secret-free agent settings that travel in Assign for agent i (caller owns). */
json_t *coord_scenario_agent_config(const coord_scenario_t *s, size_t i);

#endif
