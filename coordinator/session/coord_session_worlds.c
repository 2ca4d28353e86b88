/*  coord_session_worlds -- the commands that change a session's worlds
 *  (TinyWorld, TinySocialNetwork): create, members, accessibility, relations,
 *  broadcasts, contexts and skipped time, as effects (see coord_session_ops.c).
 */
#define TT_LOG_MODULE "session"
#include "coord_session_impl.h"

#include <string.h>

#include "tt_json.h"
#include "tt_mem.h"
#include "tt_time.h"

static bool
s_is_member(const coord_sworld_t *w, uint32_t agent)
{
    for (size_t i = 0; i < w->n_members; i++)
        if (w->members[i] == agent)
            return true;
    return false;
}

static json_t *
s_make_world(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    coord_session_t *s = c->session;
    const char *name = coord_session_text_arg(args, "name", true, e);
    if (!name)
        return NULL;
    if (!*name || strlen(name) > TT_NAME_MAX)
        return coord_session_bad(e, "\"name\": 1 to 128 bytes of text");
    if (coord_session_world(s, name)) {
        coord_session_fail(e, 409, "conflict", "there is already a world named \"%s\"", name);
        return NULL;
    }
    json_t *agents = json_object_get(args, "agents")
                         ? coord_session_agents_arg(c, args, "agents", e)
                         : json_array();
    if (!agents)
        return NULL;
    int64_t start = s->base_now, step = 0;
    const char *start_text = json_string_value(json_object_get(args, "start"));
    const char *step_text = json_string_value(json_object_get(args, "step"));
    if (start_text && !tt_datetime_parse(start_text, &start)) {
        json_decref(agents);
        return coord_session_bad(e,
                                 "\"start\": expected a datetime such as \"2026-03-01T09:00:00\"");
    }
    if (step_text && !tt_duration_parse(step_text, &step)) {
        json_decref(agents);
        return coord_session_bad(e, "\"step\": expected an ISO 8601 duration such as \"PT10M\"");
    }
    char when[TT_DATETIME_LEN];
    return json_pack("{s:s, s:o, s:s, s:I, s:b}", "name", name, "agents", agents, "start",
                     tt_datetime_format(start, when), "step_seconds", (json_int_t)step, "network",
                     tt_json_bool(args, "network", false));
}

static void
s_add_member(coord_sworld_t *w, uint32_t agent)
{
    if (s_is_member(w, agent))
        return;
    w->members = tt_realloc(w->members, (w->n_members + 1) * sizeof *w->members);
    w->members[w->n_members++] = agent;
}

static void
s_add_members(coord_t *c, coord_sworld_t *w, const json_t *names)
{
    size_t i;
    json_t *x;
    json_array_foreach(names, i, x)
    {
        long a = coord_scenario_find(c->scenario, json_string_value(x));
        if (a >= 0)
            s_add_member(w, (uint32_t)a);
    }
}

static tt_err_t
s_apply_world(coord_t *c, const json_t *effect, char **errmsg)
{
    coord_session_t *s = c->session;
    int64_t start = 0;
    if (!tt_datetime_parse(tt_json_str(effect, "start", ""), &start)) {
        *errmsg = tt_strdup("world.create without a start");
        return TT_ECORRUPT;
    }
    s->worlds = tt_realloc(s->worlds, (s->n_worlds + 1) * sizeof *s->worlds);
    coord_sworld_t *w = &s->worlds[s->n_worlds++];
    memset(w, 0, sizeof *w);
    w->name = tt_strdup(tt_json_str(effect, "name", ""));
    w->now = start;
    w->step_seconds = tt_json_int(effect, "step_seconds", 0);
    w->network = tt_json_bool(effect, "network", false);
    s_add_members(c, w, json_object_get(effect, "agents"));
    return TT_OK;
}

static json_t *
s_answer_world(coord_t *c, const json_t *effect)
{
    (void)c;
    return json_pack("{s:s}", "name", tt_json_str(effect, "name", ""));
}

static json_t *
s_make_add_agents(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    coord_sworld_t *w = coord_session_world_arg(c->session, args, "world", e);
    json_t *agents = w ? coord_session_agents_arg(c, args, "agents", e) : NULL;
    return agents ? json_pack("{s:s, s:o}", "world", w->name, "agents", agents) : NULL;
}

static tt_err_t
s_apply_add_agents(coord_t *c, const json_t *effect, char **errmsg)
{
    coord_sworld_t *w = coord_session_world(c->session, tt_json_str(effect, "world", ""));
    if (!w) {
        *errmsg = tt_strdup("world.add_agents to an unknown world");
        return TT_ECORRUPT;
    }
    s_add_members(c, w, json_object_get(effect, "agents"));
    return TT_OK;
}

static json_t *
s_make_remove_agent(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    coord_sworld_t *w = coord_session_world_arg(c->session, args, "world", e);
    long a = w ? coord_session_agent_arg(c, args, "agent", e) : -1;
    if (a < 0)
        return NULL;
    if (!s_is_member(w, (uint32_t)a)) {
        coord_session_fail(e, 404, "unknown_agent", "\"%s\" is not in world \"%s\"",
                           c->agents[a].name, w->name);
        return NULL;
    }
    return json_pack("{s:s, s:s}", "world", w->name, "agent", c->agents[a].name);
}

static tt_err_t
s_apply_remove_agent(coord_t *c, const json_t *effect, char **errmsg)
{
    coord_sworld_t *w = coord_session_world(c->session, tt_json_str(effect, "world", ""));
    long a = coord_scenario_find(c->scenario, tt_json_str(effect, "agent", ""));
    if (!w || a < 0) {
        *errmsg = tt_strdup("world.remove_agent of an unknown world or agent");
        return TT_ECORRUPT;
    }
    size_t k = 0;
    for (size_t i = 0; i < w->n_members; i++)
        if (w->members[i] != (uint32_t)a)
            w->members[k++] = w->members[i];
    w->n_members = k;
    return TT_OK;
}

static json_t *
s_make_world_only(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    coord_sworld_t *w = coord_session_world_arg(c->session, args, "world", e);
    return w ? json_pack("{s:s}", "world", w->name) : NULL;
}

static tt_err_t
s_apply_everyone(coord_t *c, const json_t *effect, char **errmsg)
{
    coord_sworld_t *w = coord_session_world(c->session, tt_json_str(effect, "world", ""));
    if (!w) {
        *errmsg = tt_strdup("world.make_everyone_accessible of an unknown world");
        return TT_ECORRUPT;
    }
    for (size_t i = 0; i < w->n_members; i++)
        for (size_t k = i + 1; k < w->n_members; k++)
            coord_world_connect(c->world, w->members[i], w->members[k]);
    return TT_OK;
}

static json_t *
s_make_relate(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    coord_sworld_t *w = coord_session_world_arg(c->session, args, "world", e);
    const char *relation = w ? coord_session_text_arg(args, "relation", false, e) : NULL;
    json_t *pair = relation ? coord_session_agents_arg(c, args, "agents", e) : NULL;
    if (!pair)
        return NULL;
    if (json_array_size(pair) != 2 || !strcmp(json_string_value(json_array_get(pair, 0)),
                                              json_string_value(json_array_get(pair, 1)))) {
        json_decref(pair);
        return coord_session_bad(e, "\"agents\": a relation is between two different agents");
    }
    return json_pack("{s:s, s:s, s:o}", "world", w->name, "relation",
                     *relation ? relation : "default", "agents", pair);
}

static tt_err_t
s_apply_relate(coord_t *c, const json_t *effect, char **errmsg)
{
    coord_sworld_t *w = coord_session_world(c->session, tt_json_str(effect, "world", ""));
    json_t *pair = json_object_get(effect, "agents");
    long a = coord_scenario_find(c->scenario, json_string_value(json_array_get(pair, 0)));
    long b = coord_scenario_find(c->scenario, json_string_value(json_array_get(pair, 1)));
    if (!w || a < 0 || b < 0 || a == b) {
        *errmsg = tt_strdup("world.relate of an unknown world or agent");
        return TT_ECORRUPT;
    }
    s_add_member(w, (uint32_t)a);
    s_add_member(w, (uint32_t)b);
    coord_world_connect(c->world, (uint32_t)a, (uint32_t)b);
    return TT_OK;
}

static json_t *
s_make_broadcast(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    coord_sworld_t *w = coord_session_world_arg(c->session, args, "world", e);
    const char *content = w ? coord_session_text_arg(args, "content", true, e) : NULL;
    const char *source = content ? coord_session_text_arg(args, "source", false, e) : NULL;
    if (!source)
        return NULL;
    json_t *stim =
        json_pack("{s:s, s:s, s:s, s:s}", "agent", "", "type",
                  tt_json_str(args, "type", "CONVERSATION"), "content", content, "source", source);
    /* the type is checked as a stimulus to one agent would be */
    json_t *check = NULL;
    if (w->n_members) {
        json_object_set_new(stim, "agent", json_string(c->agents[w->members[0]].name));
        check = coord_session_make_stimulus(c, stim, e);
        if (!check) {
            json_decref(stim);
            return NULL;
        }
    }
    json_decref(check);
    json_object_del(stim, "agent");
    json_object_set_new(stim, "world", json_string(w->name));
    return stim;
}

static tt_err_t
s_apply_broadcast(coord_t *c, const json_t *effect, char **errmsg)
{
    coord_sworld_t *w = coord_session_world(c->session, tt_json_str(effect, "world", ""));
    if (!w) {
        *errmsg = tt_strdup("world.broadcast to an unknown world");
        return TT_ECORRUPT;
    }
    const char *source = tt_json_str(effect, "source", "");
    for (size_t i = 0; i < w->n_members; i++)
        if (strcmp(c->agents[w->members[i]].name, source))
            coord_world_deliver(c->world, w->members[i], tt_json_str(effect, "type", ""),
                                tt_json_str(effect, "content", ""), source);
    return TT_OK;
}

static json_t *
s_answer_broadcast(coord_t *c, const json_t *effect)
{
    const coord_sworld_t *w = coord_session_world(c->session, tt_json_str(effect, "world", ""));
    size_t n = 0;
    const char *source = tt_json_str(effect, "source", "");
    for (size_t i = 0; w && i < w->n_members; i++)
        n += strcmp(c->agents[w->members[i]].name, source) != 0;
    return json_pack("{s:I}", "delivered", (json_int_t)n);
}

static json_t *
s_make_world_context(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    coord_sworld_t *w = coord_session_world_arg(c->session, args, "world", e);
    json_t *ctx = w ? coord_session_strings_arg(args, "context", e) : NULL;
    return ctx ? json_pack("{s:s, s:o}", "world", w->name, "context", ctx) : NULL;
}

static tt_err_t
s_apply_world_context(coord_t *c, const json_t *effect, char **errmsg)
{
    coord_sworld_t *w = coord_session_world(c->session, tt_json_str(effect, "world", ""));
    if (!w) {
        *errmsg = tt_strdup("world.change_context of an unknown world");
        return TT_ECORRUPT;
    }
    for (size_t i = 0; i < w->n_members; i++)
        coord_world_set_context(c->world, w->members[i], json_object_get(effect, "context"));
    return TT_OK;
}

static json_t *
s_make_skip(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    coord_sworld_t *w = coord_session_world_arg(c->session, args, "world", e);
    if (!w)
        return NULL;
    json_t *steps = json_object_get(args, "steps");
    if (!json_is_integer(steps) || json_integer_value(steps) < 1 ||
        json_integer_value(steps) > 1000000)
        return coord_session_bad(e, "\"steps\": expected 1..1000000");
    int64_t seconds = w->step_seconds;
    const char *step = json_string_value(json_object_get(args, "step"));
    if (step && !tt_duration_parse(step, &seconds))
        return coord_session_bad(e, "\"step\": expected an ISO 8601 duration such as \"PT10M\"");
    char when[TT_DATETIME_LEN];
    int64_t now = w->now + seconds * json_integer_value(steps);
    return json_pack("{s:s, s:s}", "world", w->name, "datetime", tt_datetime_format(now, when));
}

static tt_err_t
s_apply_skip(coord_t *c, const json_t *effect, char **errmsg)
{
    coord_sworld_t *w = coord_session_world(c->session, tt_json_str(effect, "world", ""));
    int64_t now;
    if (!w || !tt_datetime_parse(tt_json_str(effect, "datetime", ""), &now)) {
        *errmsg = tt_strdup("world.skip of an unknown world");
        return TT_ECORRUPT;
    }
    w->now = now;
    return TT_OK;
}

static json_t *
s_answer_skip(coord_t *c, const json_t *effect)
{
    return json_pack("{s:s}", "datetime", tt_json_str(effect, "datetime", ""));
}

const coord_session_op_t coord_session_world_ops[] = {
    {"world.create", s_make_world, s_apply_world, s_answer_world},
    {"world.add_agents", s_make_add_agents, s_apply_add_agents, NULL},
    {"world.remove_agent", s_make_remove_agent, s_apply_remove_agent, NULL},
    {"world.make_everyone_accessible", s_make_world_only, s_apply_everyone, NULL},
    {"world.relate", s_make_relate, s_apply_relate, NULL},
    {"world.broadcast", s_make_broadcast, s_apply_broadcast, s_answer_broadcast},
    {"world.change_context", s_make_world_context, s_apply_world_context, NULL},
    {"world.skip", s_make_skip, s_apply_skip, s_answer_skip},
};
const size_t coord_session_n_world_ops =
    sizeof coord_session_world_ops / sizeof coord_session_world_ops[0];
