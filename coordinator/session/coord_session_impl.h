/*  coord_session_impl -- what the session's files share; not for elsewhere.
 *
 *    coord_session.c        commands in, answers out, the step hooks
 *    coord_session_ops.c    the effects that change the simulation (live and --resume)
 *    coord_session_query.c  questions answered from the log and the scenario
 *    coord_session_http.c   the HTTP server
 */
#ifndef COORD_SESSION_IMPL_H
#define COORD_SESSION_IMPL_H

#include <jansson.h>
#include <stdbool.h>

#include "coord.h"
#include "coord_session.h"
#include "coord_session_http.h"

/* A TinyWorld: members and a clock of its own. */
typedef struct {
    char *name;
    uint32_t *members; /* agent indices, in the order they joined */
    size_t n_members;
    int64_t now;          /* simulated seconds */
    int64_t step_seconds; /* per step unless a run says otherwise; 0 = the clock stays */
    bool network;         /* a TinySocialNetwork */
    uint32_t steps;       /* steps this world has run */
} coord_sworld_t;

typedef enum {
    COORD_SESSION_IDLE = 0,
    COORD_SESSION_ACT,   /* one agent's turn */
    COORD_SESSION_RUN,   /* a world's steps */
    COORD_SESSION_JUDGE, /* a proposition out with the model */
} coord_session_pending_t;

/* Why a command failed: HTTP status, code word, message. */
typedef struct {
    int status;
    const char *code;
    char *message;
} coord_session_error_t;

struct coord_session {
    coord_t *c;
    coord_session_http_t *http;
    zsock_t *pipe;
    int64_t base_now; /* the clock of agents in no world */
    coord_sworld_t *worlds;
    size_t n_worlds;
    /* the command that waits for steps */
    coord_session_pending_t pending;
    uint32_t agent;      /* ACT */
    size_t world;        /* RUN */
    uint32_t steps_left; /* RUN */
    int64_t run_seconds; /* RUN: seconds per step */
    json_t *collected;   /* what the steps did, for the answer */
    json_t *judging;     /* JUDGE: the proposition's record, without the answer */
    bool answered_on_end;
};

/* ---- coord_session.c */
void coord_session_fail(coord_session_error_t *e, int status, const char *code, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));
/* The index of the agent named by args[key]; -1 with *e set. */
long coord_session_agent_arg(coord_t *c, const json_t *args, const char *key,
                             coord_session_error_t *e);
/* The world named by args[key]; NULL with *e set. */
coord_sworld_t *coord_session_world_arg(coord_session_t *s, const json_t *args, const char *key,
                                        coord_session_error_t *e);
coord_sworld_t *coord_session_world(coord_session_t *s, const char *name);
/* The clock an agent's turn happens at: its first world's, else base_now. */
int64_t coord_session_agent_now(coord_session_t *s, uint32_t agent);

/* Answer the request in progress (takes result). */
void coord_session_answer_result(coord_session_t *s, json_t *result);
void coord_session_answer_error(coord_session_t *s, coord_session_error_t *e);

/* ---- coord_session_judge.c */
/* proposition.check: 1 (answered when the model has judged) or -1 with *e. */
int coord_session_judge(coord_t *c, const json_t *args, coord_session_error_t *e);
/* llm.ask: the same, for one call of the client's own. */
int coord_session_ask_model(coord_t *c, const json_t *args, coord_session_error_t *e);

/* Arguments: a value of the right type, or NULL with *e set (400). */
json_t *coord_session_bad(coord_session_error_t *e, const char *what);
json_t *coord_session_bad_key(coord_session_error_t *e, const char *key, const char *what);
/* Text (at most 1 MiB); "" when absent and not required. Borrowed. */
const char *coord_session_text_arg(const json_t *args, const char *key, bool required,
                                   coord_session_error_t *e);
/* A list of strings; of agents' names. New references. */
json_t *coord_session_strings_arg(const json_t *args, const char *key, coord_session_error_t *e);
json_t *coord_session_agents_arg(coord_t *c, const json_t *args, const char *key,
                                 coord_session_error_t *e);

/* ---- coord_session_ops.c, coord_session_worlds.c */
/* A command that changes the simulation: make its effect from the arguments
 * (NULL with *e when refused), apply an effect (live or --resume), answer. */
typedef struct {
    const char *name;
    json_t *(*make)(coord_t *c, const json_t *args, coord_session_error_t *e);
    tt_err_t (*apply)(coord_t *c, const json_t *effect, char **errmsg);
    json_t *(*answer)(coord_t *c, const json_t *effect); /* NULL: {} */
} coord_session_op_t;
extern const coord_session_op_t coord_session_world_ops[];
extern const size_t coord_session_n_world_ops;
/* agent.stimulus's maker (a broadcast checks its stimulus the same way). */
json_t *coord_session_make_stimulus(coord_t *c, const json_t *args, coord_session_error_t *e);

/* A command that changes the simulation: from its arguments make the effect
 * (reading the files it names), record it, apply it. 0 with *result set; -1
 * with *e set and nothing changed; -2 when command is not such a command. */
int coord_session_change(coord_t *c, const char *command, const json_t *args, json_t **result,
                         coord_session_error_t *e);
/* Apply a recorded effect again (--resume). */
tt_err_t coord_session_apply(coord_t *c, const char *op, const json_t *effect, char **errmsg);

/* ---- coord_session_query.c */
/* A question that changes nothing; the same returns as coord_session_change. */
int coord_session_ask(coord_t *c, const char *command, const json_t *args, json_t **result,
                      coord_session_error_t *e);
/* {"type","content","target"} of each action. New reference. */
json_t *coord_session_actions_json(Tt__Action *const *actions, size_t n);
json_t *coord_session_cognitive_json(const Tt__CognitiveState *cs);

#endif
