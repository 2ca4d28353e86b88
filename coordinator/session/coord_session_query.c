/*  coord_session_query -- questions a client asks a session; none changes it.
 *
 *  What an agent perceived and did comes from the log (its StepCommits), as
 *  the agent's episodic memory does: the log is the truth and the agentd's
 *  LMDB a cache of it. Personas come from the scenario the session holds.
 */
#define TT_LOG_MODULE "session"
#include "coord_session_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tt_json.h"
#include "tt_mem.h"
#include "tt_time.h"
#include "tt_wire.h"

#define S_TRANSCRIPT_CHUNK ((size_t)4 << 20)
#define S_MAX_EPISODES     100000

json_t *
coord_session_actions_json(Tt__Action *const *actions, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "type", actions[i]->type,
                                              "content", actions[i]->content, "target",
                                              actions[i]->target ? actions[i]->target : ""));
    return list;
}

json_t *
coord_session_cognitive_json(const Tt__CognitiveState *cs)
{
    json_t *ctx = json_array();
    for (size_t i = 0; i < cs->n_context; i++)
        json_array_append_new(ctx, json_string(cs->context[i]));
    return json_pack("{s:s, s:o, s:s, s:s}", "goals", cs->goals ? cs->goals : "", "context", ctx,
                     "attention", cs->attention ? cs->attention : "", "emotions",
                     cs->emotions ? cs->emotions : "");
}

static int
s_status(coord_t *c, const json_t *args, json_t **result, coord_session_error_t *e)
{
    (void)args;
    (void)e;
    coord_session_t *s = c->session;
    json_t *agents = json_array();
    for (size_t i = 0; i < c->n_agents; i++)
        json_array_append_new(agents, json_string(c->agents[i].name));
    json_t *worlds = json_array();
    char when[TT_DATETIME_LEN];
    for (size_t i = 0; i < s->n_worlds; i++) {
        const coord_sworld_t *w = &s->worlds[i];
        json_t *members = json_array();
        for (size_t k = 0; k < w->n_members; k++)
            json_array_append_new(members, json_string(c->agents[w->members[k]].name));
        json_array_append_new(worlds,
                              json_pack("{s:s, s:o, s:s, s:i, s:b}", "name", w->name, "agents",
                                        members, "datetime", tt_datetime_format(w->now, when),
                                        "step", (int)w->steps, "network", w->network));
    }
    *result = json_pack("{s:i, s:o, s:o, s:s, s:s, s:I, s:b}", "step", (int)c->committed_step,
                        "agents", agents, "worlds", worlds, "provider", c->config.provider, "model",
                        c->config.model, "llm_calls", (json_int_t)c->llm_calls, "replay",
                        c->replay != NULL);
    return 0;
}

static int
s_persona(coord_t *c, const json_t *args, json_t **result, coord_session_error_t *e)
{
    long a = coord_session_agent_arg(c, args, "agent", e);
    if (a < 0)
        return -1;
    *result = json_pack("{s:O}", "persona", tt_persona_json(c->scenario->agents[a].persona));
    return 0;
}

static int
s_minibio(coord_t *c, const json_t *args, json_t **result, coord_session_error_t *e)
{
    long a = coord_session_agent_arg(c, args, "agent", e);
    if (a < 0)
        return -1;
    char *bio = tt_persona_minibio(c->scenario->agents[a].persona);
    *result = json_pack("{s:s}", "minibio", bio);
    free(bio);
    return 0;
}

static void
s_episodes_of(const Tt__AgentStep *as, uint32_t step, const char *datetime, json_t *out)
{
    for (size_t i = 0; as->input && i < as->input->n_stimuli; i++) {
        const Tt__Stimulus *st = as->input->stimuli[i];
        json_array_append_new(out, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "step",
                                             (int)step, "datetime", datetime, "kind", "stimulus",
                                             "type", st->type, "content", st->content, "source",
                                             st->source ? st->source : "", "target", ""));
    }
    for (size_t i = 0; i < as->n_actions; i++) {
        const Tt__Action *ac = as->actions[i];
        json_array_append_new(out, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "step",
                                             (int)step, "datetime", datetime, "kind", "action",
                                             "type", ac->type, "content", ac->content, "source", "",
                                             "target", ac->target ? ac->target : ""));
    }
}

static int
s_memory(coord_t *c, const json_t *args, json_t **result, coord_session_error_t *e)
{
    long a = coord_session_agent_arg(c, args, "agent", e);
    if (a < 0)
        return -1;
    json_t *last = json_object_get(args, "last");
    if (last && !json_is_null(last) && (!json_is_integer(last) || json_integer_value(last) < 0)) {
        coord_session_fail(e, 400, "bad_request", "\"last\": expected a count");
        return -1;
    }
    json_t *episodes = json_array();
    for (uint32_t step = 1; step <= c->committed_step; step++) {
        Tt__RecordBody *body = NULL;
        char *datetime = NULL;
        const Tt__AgentStep *as = coord_record_agent_step(c, step, (uint32_t)a, &body, &datetime);
        if (as)
            s_episodes_of(as, step, datetime, episodes);
        tt_wire_free_body(&body);
        while (json_array_size(episodes) > S_MAX_EPISODES)
            json_array_remove(episodes, 0);
    }
    size_t keep = last && json_is_integer(last) ? (size_t)json_integer_value(last) : SIZE_MAX;
    while (json_array_size(episodes) > keep)
        json_array_remove(episodes, 0);
    *result = json_pack("{s:o}", "episodes", episodes);
    return 0;
}

static int
s_cognitive_state(coord_t *c, const json_t *args, json_t **result, coord_session_error_t *e)
{
    long a = coord_session_agent_arg(c, args, "agent", e);
    if (a < 0)
        return -1;
    for (uint32_t step = c->committed_step; step >= 1 && !*result; step--) {
        Tt__RecordBody *body = NULL;
        char *datetime = NULL;
        const Tt__AgentStep *as = coord_record_agent_step(c, step, (uint32_t)a, &body, &datetime);
        if (as && as->cognitive_state)
            *result = coord_session_cognitive_json(as->cognitive_state);
        tt_wire_free_body(&body);
    }
    if (!*result)
        *result = json_pack("{s:s, s:[], s:s, s:s}", "goals", "", "context", "attention", "",
                            "emotions", "");
    return 0;
}

static int
s_transcript(coord_t *c, const json_t *args, json_t **result, coord_session_error_t *e)
{
    json_t *from = json_object_get(args, "from");
    if (from && (!json_is_integer(from) || json_integer_value(from) < 0)) {
        coord_session_fail(e, 400, "bad_request", "\"from\": expected a byte offset");
        return -1;
    }
    long offset = from ? (long)json_integer_value(from) : 0;
    char *path = tt_asprintf("%s/transcript.txt", c->out_dir);
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f) {
        coord_session_fail(e, 500, "failed", "cannot read the transcript: %s", strerror(errno));
        return -1;
    }
    char *buf = tt_malloc(S_TRANSCRIPT_CHUNK + 1);
    size_t n = fseek(f, offset, SEEK_SET) == 0 ? fread(buf, 1, S_TRANSCRIPT_CHUNK, f) : 0;
    fclose(f);
    /* never cut a character in two */
    n = tt_utf8_cut(buf, n, n);
    buf[n] = '\0';
    *result = json_pack("{s:s%, s:I}", "text", buf, n, "next", (json_int_t)(offset + (long)n));
    free(buf);
    return 0;
}

typedef struct {
    const char *name;
    int (*fn)(coord_t *c, const json_t *args, json_t **result, coord_session_error_t *e);
} s_query_t;

static const s_query_t s_queries[] = {
    {"status", s_status},
    {"agent.persona", s_persona},
    {"agent.minibio", s_minibio},
    {"agent.memory", s_memory},
    {"agent.cognitive_state", s_cognitive_state},
    {"transcript", s_transcript},
};

int
coord_session_ask(coord_t *c, const char *command, const json_t *args, json_t **result,
                  coord_session_error_t *e)
{
    for (size_t i = 0; i < sizeof s_queries / sizeof s_queries[0]; i++)
        if (!strcmp(s_queries[i].name, command))
            return s_queries[i].fn(c, args, result, e);
    return -2;
}
