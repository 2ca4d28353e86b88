/*  coord_session_ops -- the commands that change a session, as effects.
 *
 *  Each command has a maker and an applier. The maker reads the command's
 *  arguments (and any file they name), checks everything against the state
 *  of the session, and returns the effect: a JSON object that holds all the
 *  applier needs (a persona as loaded, a clock as set), so the log alone
 *  rebuilds the session. The effect is recorded, then applied; --resume
 *  applies the recorded effects through the same appliers. A maker that
 *  refuses changes nothing.
 */
#define TT_LOG_MODULE "session"
#include "coord_session_impl.h"

#include <string.h>

#include "tt_json.h"
#include "tt_limits.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"

#define S_MAX_KEY_PATH 256

static const char *s_stimulus_types[] = {
    "CONVERSATION", "THOUGHT", "VISUAL", "SOCIAL", "INTERNAL_GOAL_FORMULATION", "LOCATION", NULL};

static uint32_t
s_index(coord_t *c, const json_t *effect, const char *key)
{
    return (uint32_t)coord_scenario_find(c->scenario, tt_json_str(effect, key, ""));
}

/* The agent's new persona reaches its agentd: the same slot, a new Assign. */
static void
s_reassign(coord_t *c, uint32_t agent)
{
    if (c->loop && c->agents[agent].peer >= 0)
        coord_place_reassign(c, &c->agents[agent]);
}

/* Local mode: enough agentds for every agent (started or starting). */
static void
s_ensure_capacity(coord_t *c)
{
    if (c->opts.external || !c->loop)
        return;
    size_t capacity = 0;
    for (size_t i = 0; i < c->n_peers; i++) {
        const coord_peer_t *p = &c->peers[i];
        if (p->state == COORD_PEER_LIVE)
            capacity += p->routing_id ? p->slots : c->opts.slots;
    }
    if (capacity < c->n_agents) {
        size_t procs = (c->n_agents - capacity + c->opts.slots - 1) / c->opts.slots;
        char *err = NULL;
        if (coord_peers_spawn(c, procs, c->opts.slots, &err))
            coord_fail(c, "%s", err);
        free(err);
    }
    coord_place_unplaced(c);
}

/* ------------------------------------------------------------------ agents */

static json_t *
s_spec_json(const tt_persona_t *p)
{
    char *text = tt_persona_spec_text(p);
    json_t *spec = json_loads(text, 0, NULL);
    free(text);
    return spec;
}

/* TinyPerson(name=...) or a spec object: {"type":"TinyPerson","persona":{...}}
 * or the persona object itself. */
static tt_persona_t *
s_persona_from_object(const json_t *obj, coord_session_error_t *e)
{
    json_t *spec = json_object_get(obj, "persona") && json_object_get(obj, "type")
                       ? json_incref((json_t *)obj)
                       : json_pack("{s:s, s:O}", "type", "TinyPerson", "persona", obj);
    char *text = tt_json_compact(spec);
    json_decref(spec);
    tt_persona_t *p = NULL;
    char *err = NULL;
    if (tt_persona_from_text(text, &p, &err))
        coord_session_fail(e, 400, "bad_request", "persona: %s", err ? err : "invalid");
    free(err);
    free(text);
    return p;
}

static json_t *
s_make_create(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    const char *path = json_string_value(json_object_get(args, "spec"));
    json_t *inline_persona = json_object_get(args, "persona");
    tt_persona_t *p = NULL;
    char *err = NULL;
    if (path && tt_persona_load_file(path, &p, &err)) {
        coord_session_fail(e, 400, "bad_request", "%s", err);
        free(err);
        return NULL;
    }
    if (!path && json_is_object(inline_persona))
        p = s_persona_from_object(inline_persona, e);
    else if (!path)
        return coord_session_bad(e,
                                 "agent.create needs \"spec\" (a .agent.json path) or \"persona\"");
    if (!p)
        return NULL;
    json_t *name = json_object_get(args, "name");
    if (name && !json_is_null(name)) {
        if (!json_is_string(name) || !tt_persona_name_ok(json_string_value(name))) {
            tt_persona_destroy(&p);
            return coord_session_bad(e, "\"name\": 1 to 128 bytes of printable text");
        }
        tt_persona_set_name(p, json_string_value(name));
    }
    json_t *frags = json_object_get(args, "fragments");
    size_t i;
    json_t *f;
    if (frags && !json_is_array(frags)) {
        tt_persona_destroy(&p);
        return coord_session_bad(e, "\"fragments\": expected a list of .fragment.json paths");
    }
    json_array_foreach(frags, i, f)
    {
        if (!json_is_string(f) ||
            tt_persona_apply_fragment_file(p, json_string_value(f), &err) != TT_OK) {
            coord_session_fail(e, 400, "bad_request", "%s",
                               err ? err : "\"fragments\" must hold paths");
            free(err);
            tt_persona_destroy(&p);
            return NULL;
        }
    }
    const char *n = tt_persona_name(p);
    if (!tt_persona_name_ok(n)) {
        tt_persona_destroy(&p);
        return coord_session_bad(e, "the persona needs a \"name\"");
    }
    if (coord_scenario_find(c->scenario, n) >= 0) {
        coord_session_fail(e, 409, "conflict", "there is already an agent named \"%s\"", n);
        tt_persona_destroy(&p);
        return NULL;
    }
    json_t *effect = json_pack("{s:o}", "spec", s_spec_json(p));
    tt_persona_destroy(&p);
    return effect;
}

static tt_err_t
s_apply_create(coord_t *c, const json_t *effect, char **errmsg)
{
    char *text = tt_json_compact(json_object_get(effect, "spec"));
    tt_persona_t *p = NULL;
    tt_err_t err = tt_persona_from_text(text, &p, errmsg);
    free(text);
    if (!err)
        err = coord_scenario_add_agent(c->scenario, &p, errmsg);
    tt_persona_destroy(&p);
    if (err)
        return err;
    size_t i = c->n_agents++;
    c->agents = tt_realloc(c->agents, c->n_agents * sizeof *c->agents);
    c->order = tt_realloc(c->order, (c->n_agents + 1) * sizeof *c->order);
    memset(&c->agents[i], 0, sizeof c->agents[i]);
    c->agents[i].index = (uint32_t)i;
    c->agents[i].name = tt_persona_name(c->scenario->agents[i].persona);
    c->agents[i].peer = -1;
    c->agents[i].status = "ok";
    coord_world_add_agent(c->world);
    char *spec = tt_persona_spec_text(c->scenario->agents[i].persona);
    coord_results_add_agent(c->results, c->agents[i].name, spec);
    free(spec);
    s_ensure_capacity(c);
    return TT_OK;
}

static json_t *
s_answer_create(coord_t *c, const json_t *effect)
{
    const tt_persona_t *p = c->scenario->agents[c->n_agents - 1].persona;
    char *bio = tt_persona_minibio(p);
    json_t *r = json_pack("{s:s, s:s}", "name", tt_persona_name(p), "minibio", bio);
    free(bio);
    return r;
}

/* A dot path whose every step is a key of an object (or not there yet). */
static bool
s_key_path_ok(const tt_persona_t *p, const char *key, coord_session_error_t *e)
{
    size_t len = strlen(key);
    if (len == 0 || len > S_MAX_KEY_PATH || key[0] == '.' || key[len - 1] == '.' ||
        strstr(key, "..")) {
        coord_session_fail(e, 400, "bad_request",
                           "\"key\": \"%s\" is not a dot path such as \"occupation.title\"", key);
        return false;
    }
    if (!strcmp(key, "name") || !strncmp(key, "name.", 5)) {
        coord_session_fail(e, 400, "bad_request",
                           "\"key\": %s: an agent's name cannot be redefined", key);
        return false;
    }
    char *prefix = tt_strdup(key);
    bool ok = true;
    for (char *dot = strchr(prefix, '.'); dot && ok; dot = strchr(dot + 1, '.')) {
        *dot = '\0';
        json_t *v = tt_persona_get(p, prefix);
        if (v && !json_is_object(v)) {
            coord_session_fail(e, 400, "bad_request",
                               "\"key\": %s: \"%s\" holds a value, not an object", key, prefix);
            ok = false;
        }
        *dot = '.';
    }
    free(prefix);
    return ok;
}

/* define(key, value, merge) or, without a key, include_persona_definitions(value):
 * both TinyTroupe merges are merge_dicts (tt_merge.h). *why: caller frees. */
static tt_err_t
s_define(tt_persona_t *p, const char *key, const json_t *value, bool merge, char **why)
{
    if (key)
        return tt_persona_define(p, key, json_incref((json_t *)value), merge, why);
    char *where = NULL, *what = NULL;
    tt_err_t rc = tt_persona_merge(p, value, &where, &what);
    if (rc)
        *why = tt_asprintf("%s: %s", where, what);
    free(where);
    free(what);
    return rc;
}

static json_t *
s_make_define(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    long agent = coord_session_agent_arg(c, args, "agent", e);
    if (agent < 0)
        return NULL;
    json_t *key = json_object_get(args, "key");
    json_t *value = json_object_get(args, "value");
    json_t *merge = json_object_get(args, "merge");
    if (!value)
        return coord_session_bad(e, "\"value\" is required");
    if (merge && !json_is_boolean(merge))
        return coord_session_bad(e, "\"merge\": expected true or false");
    const tt_persona_t *p = c->scenario->agents[agent].persona;
    if (key && !json_is_null(key)) {
        if (!json_is_string(key))
            return coord_session_bad(e, "\"key\": expected a dot path or null");
        if (!s_key_path_ok(p, json_string_value(key), e))
            return NULL;
    } else if (!json_is_object(value) || json_object_get(value, "name")) {
        return coord_session_bad(e, "without \"key\", \"value\" must be an object of persona "
                                    "definitions (without \"name\")");
    }
    /* a merge follows TinyTroupe's merge_dicts, which refuses conflicting values:
     * tried on a copy, so a refused define records nothing */
    tt_persona_t *copy = tt_persona_dup(p);
    char *why = NULL;
    tt_err_t rc = s_define(copy, json_string_value(key), value, json_is_true(merge), &why);
    tt_persona_destroy(&copy);
    if (rc) {
        coord_session_fail(e, 400, "bad_request", "%s", why ? why : "conflicting value");
        free(why);
        return NULL;
    }
    return json_pack("{s:s, s:O, s:O, s:b}", "agent", c->agents[agent].name, "key",
                     key ? key : json_null(), "value", value, "merge", json_is_true(merge));
}

static tt_err_t
s_apply_define(coord_t *c, const json_t *effect, char **errmsg)
{
    long agent = coord_scenario_find(c->scenario, tt_json_str(effect, "agent", ""));
    if (agent < 0) {
        *errmsg = tt_strdup("agent.define of an unknown agent");
        return TT_ECORRUPT;
    }
    tt_persona_t *p = c->scenario->agents[agent].persona;
    const char *key = json_string_value(json_object_get(effect, "key"));
    json_t *value = json_object_get(effect, "value");
    char *why = NULL;
    if (s_define(p, key, value, tt_json_bool(effect, "merge", false), &why)) {
        *errmsg = tt_asprintf("agent.define does not apply: %s", why ? why : "conflict");
        free(why);
        return TT_ECORRUPT;
    }
    s_reassign(c, (uint32_t)agent);
    return TT_OK;
}

static json_t *
s_answer_persona(coord_t *c, const json_t *effect)
{
    uint32_t agent = s_index(c, effect, "agent");
    return json_pack("{s:O}", "persona", tt_persona_json(c->scenario->agents[agent].persona));
}

static json_t *
s_make_fragment(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    long agent = coord_session_agent_arg(c, args, "agent", e);
    const char *path = json_string_value(json_object_get(args, "path"));
    if (agent < 0)
        return NULL;
    if (!path)
        return coord_session_bad(e, "\"path\": a .fragment.json file is required");
    /* applied to a copy first: a fragment that does not apply changes nothing */
    tt_persona_t *copy = tt_persona_dup(c->scenario->agents[agent].persona);
    char *err = NULL;
    tt_err_t rc = tt_persona_apply_fragment_file(copy, path, &err);
    tt_persona_destroy(&copy);
    if (rc) {
        coord_session_fail(e, 400, "bad_request", "%s", err ? err : path);
        free(err);
        return NULL;
    }
    tt_jdoc_t *doc = NULL;
    if (tt_jdoc_load_file(path, &doc, &err)) {
        coord_session_fail(e, 400, "bad_request", "%s", err);
        free(err);
        return NULL;
    }
    json_t *effect = json_pack("{s:s, s:O}", "agent", c->agents[agent].name, "fragment",
                               json_object_get(tt_jdoc_root(doc), "persona"));
    tt_jdoc_destroy(&doc);
    return effect;
}

static tt_err_t
s_apply_fragment(coord_t *c, const json_t *effect, char **errmsg)
{
    long agent = coord_scenario_find(c->scenario, tt_json_str(effect, "agent", ""));
    json_t *frag = json_object_get(effect, "fragment");
    if (agent < 0 || !json_is_object(frag)) {
        *errmsg = tt_strdup("agent.import_fragment of an unknown agent");
        return TT_ECORRUPT;
    }
    char *why = NULL;
    if (s_define(c->scenario->agents[agent].persona, NULL, frag, false, &why)) {
        *errmsg = tt_asprintf("agent.import_fragment does not apply: %s", why ? why : "conflict");
        free(why);
        return TT_ECORRUPT;
    }
    s_reassign(c, (uint32_t)agent);
    return TT_OK;
}

/* ------------------------------------------------------------------ stimuli */

json_t *
coord_session_make_stimulus(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    long agent = coord_session_agent_arg(c, args, "agent", e);
    if (agent < 0)
        return NULL;
    const char *type = coord_session_text_arg(args, "type", true, e);
    const char *content = type ? coord_session_text_arg(args, "content", true, e) : NULL;
    const char *source = content ? coord_session_text_arg(args, "source", false, e) : NULL;
    if (!source)
        return NULL;
    bool known = false;
    for (size_t i = 0; s_stimulus_types[i]; i++)
        known |= !strcmp(type, s_stimulus_types[i]);
    if (!known) {
        coord_session_fail(e, 400, "bad_request",
                           "\"type\": %s is not a stimulus (CONVERSATION, THOUGHT, VISUAL, "
                           "SOCIAL, INTERNAL_GOAL_FORMULATION, LOCATION)",
                           type);
        return NULL;
    }
    if (strlen(content) > TT_LIMIT_STIMULUS) {
        coord_session_fail(e, 400, "bad_request",
                           "\"content\" is %zu bytes, more than the %zu a stimulus may have "
                           "(TT_LIMIT_STIMULUS); give long texts to agents as documents",
                           strlen(content), TT_LIMIT_STIMULUS);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:s}", "agent", c->agents[agent].name, "type", type,
                     "content", content, "source", source);
}

static tt_err_t
s_apply_stimulus(coord_t *c, const json_t *effect, char **errmsg)
{
    long agent = coord_scenario_find(c->scenario, tt_json_str(effect, "agent", ""));
    if (agent < 0) {
        *errmsg = tt_strdup("a stimulus to an unknown agent");
        return TT_ECORRUPT;
    }
    coord_world_deliver(c->world, (uint32_t)agent, tt_json_str(effect, "type", "CONVERSATION"),
                        tt_json_str(effect, "content", ""), tt_json_str(effect, "source", ""));
    return TT_OK;
}

static json_t *
s_make_move(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    long agent = coord_session_agent_arg(c, args, "agent", e);
    const char *location = agent < 0 ? NULL : coord_session_text_arg(args, "location", true, e);
    if (!location)
        return NULL;
    json_t *effect = json_pack("{s:s, s:s}", "agent", c->agents[agent].name, "location", location);
    if (json_object_get(args, "context") && !json_is_null(json_object_get(args, "context"))) {
        json_t *ctx = coord_session_strings_arg(args, "context", e);
        if (!ctx) {
            json_decref(effect);
            return NULL;
        }
        json_object_set_new(effect, "context", ctx);
    }
    return effect;
}

static tt_err_t
s_apply_move(coord_t *c, const json_t *effect, char **errmsg)
{
    long agent = coord_scenario_find(c->scenario, tt_json_str(effect, "agent", ""));
    if (agent < 0) {
        *errmsg = tt_strdup("agent.move_to of an unknown agent");
        return TT_ECORRUPT;
    }
    coord_world_move(c->world, (uint32_t)agent, tt_json_str(effect, "location", ""));
    if (json_object_get(effect, "context"))
        coord_world_set_context(c->world, (uint32_t)agent, json_object_get(effect, "context"));
    return TT_OK;
}

static json_t *
s_make_context(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    long agent = coord_session_agent_arg(c, args, "agent", e);
    json_t *ctx = agent < 0 ? NULL : coord_session_strings_arg(args, "context", e);
    return ctx ? json_pack("{s:s, s:o}", "agent", c->agents[agent].name, "context", ctx) : NULL;
}

static tt_err_t
s_apply_context(coord_t *c, const json_t *effect, char **errmsg)
{
    long agent = coord_scenario_find(c->scenario, tt_json_str(effect, "agent", ""));
    if (agent < 0) {
        *errmsg = tt_strdup("agent.change_context of an unknown agent");
        return TT_ECORRUPT;
    }
    coord_world_set_context(c->world, (uint32_t)agent, json_object_get(effect, "context"));
    return TT_OK;
}

static json_t *
s_make_accessible(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    long a = coord_session_agent_arg(c, args, "agent", e);
    long b = a < 0 ? -1 : coord_session_agent_arg(c, args, "other", e);
    if (b < 0)
        return NULL;
    if (a == b)
        return coord_session_bad(e, "an agent is always accessible to itself");
    return json_pack("{s:s, s:s}", "agent", c->agents[a].name, "other", c->agents[b].name);
}

static tt_err_t
s_apply_accessible(coord_t *c, const json_t *effect, char **errmsg)
{
    long a = coord_scenario_find(c->scenario, tt_json_str(effect, "agent", ""));
    long b = coord_scenario_find(c->scenario, tt_json_str(effect, "other", ""));
    if (a < 0 || b < 0) {
        *errmsg = tt_strdup("agent.make_accessible of an unknown agent");
        return TT_ECORRUPT;
    }
    coord_world_connect(c->world, (uint32_t)a, (uint32_t)b);
    return TT_OK;
}

/* A record that changed nothing but holds a model's answer (proposition). */
static tt_err_t
s_apply_nothing(coord_t *c, const json_t *effect, char **errmsg)
{
    (void)c;
    (void)effect;
    (void)errmsg;
    return TT_OK;
}

/* ------------------------------------------------------------------ the table */

static const coord_session_op_t s_ops[] = {
    {"agent.create", s_make_create, s_apply_create, s_answer_create},
    {"agent.define", s_make_define, s_apply_define, s_answer_persona},
    {"agent.import_fragment", s_make_fragment, s_apply_fragment, s_answer_persona},
    {"agent.stimulus", coord_session_make_stimulus, s_apply_stimulus, NULL},
    {"agent.move_to", s_make_move, s_apply_move, NULL},
    {"agent.change_context", s_make_context, s_apply_context, NULL},
    {"agent.make_accessible", s_make_accessible, s_apply_accessible, NULL},
    {"proposition", NULL, s_apply_nothing, NULL}, /* coord_session_judge.c */
    {"llm", NULL, s_apply_nothing, NULL},
};

static const coord_session_op_t *
s_find(const char *name)
{
    for (size_t i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (!strcmp(s_ops[i].name, name))
            return &s_ops[i];
    for (size_t i = 0; i < coord_session_n_world_ops; i++)
        if (!strcmp(coord_session_world_ops[i].name, name))
            return &coord_session_world_ops[i];
    return NULL;
}

int
coord_session_change(coord_t *c, const char *command, const json_t *args, json_t **result,
                     coord_session_error_t *e)
{
    const coord_session_op_t *op = s_find(command);
    if (!op || !op->make)
        return -2;
    json_t *effect = op->make(c, args, e);
    if (!effect)
        return -1;
    char *text = tt_json_compact(effect);
    tt_err_t err = coord_record_session(c, op->name, text);
    free(text);
    char *why = NULL;
    if (!err && (err = op->apply(c, effect, &why)) != TT_OK)
        coord_fail(c, "session: %s: %s", op->name, why ? why : tt_strerror(err));
    free(why);
    if (err) {
        coord_session_fail(e, 500, "failed", "%s: %s", op->name, tt_strerror(err));
        json_decref(effect);
        return -1;
    }
    *result = op->answer ? op->answer(c, effect) : json_object();
    json_decref(effect);
    return 0;
}

tt_err_t
coord_session_apply(coord_t *c, const char *name, const json_t *effect, char **errmsg)
{
    const coord_session_op_t *op = s_find(name);
    if (!op) {
        *errmsg = tt_asprintf("a Session record of unknown kind \"%s\"", name);
        return TT_ECORRUPT;
    }
    return op->apply(c, effect, errmsg);
}
