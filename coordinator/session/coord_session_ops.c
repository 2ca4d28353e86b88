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
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"

#define S_TEXT_CAP     ((size_t)1 << 20) /* one stimulus */
#define S_MAX_KEY_PATH 256

typedef json_t *(*s_make_fn)(coord_t *c, const json_t *args, coord_session_error_t *e);
typedef tt_err_t (*s_apply_fn)(coord_t *c, const json_t *effect, char **errmsg);
typedef json_t *(*s_answer_fn)(coord_t *c, const json_t *effect);

typedef struct {
    const char *name;
    s_make_fn make;
    s_apply_fn apply;
    s_answer_fn answer; /* NULL: {} */
} s_op_t;

static const char *s_stimulus_types[] = {
    "CONVERSATION", "THOUGHT", "VISUAL", "SOCIAL", "INTERNAL_GOAL_FORMULATION", "LOCATION", NULL};

/* ------------------------------------------------------------------ argument helpers */

static json_t *
s_bad(coord_session_error_t *e, const char *what)
{
    coord_session_fail(e, 400, "bad_request", "%s", what);
    return NULL;
}

static json_t *
s_bad_key(coord_session_error_t *e, const char *key, const char *what)
{
    coord_session_fail(e, 400, "bad_request", "\"%s\": %s", key, what);
    return NULL;
}

static const char *
s_text_arg(const json_t *args, const char *key, bool required, coord_session_error_t *e)
{
    json_t *v = json_object_get(args, key);
    if ((!v || json_is_null(v)) && !required)
        return "";
    if (!json_is_string(v) || json_string_length(v) > S_TEXT_CAP) {
        s_bad_key(e, key, "expected text (at most 1 MiB)");
        return NULL;
    }
    return json_string_value(v);
}

/* A list of strings (new reference), or NULL with *e. */
static json_t *
s_strings_arg(const json_t *args, const char *key, coord_session_error_t *e)
{
    json_t *v = json_object_get(args, key);
    size_t i;
    json_t *x;
    if (!json_is_array(v))
        return s_bad_key(e, key, "expected a list of strings");
    json_array_foreach(v, i, x) if (!json_is_string(x)) return s_bad_key(
        e, key, "expected a list of strings");
    return json_incref(v);
}

/* Names that must all be agents; a new list of their names. */
static json_t *
s_agents_arg(coord_t *c, const json_t *args, const char *key, coord_session_error_t *e)
{
    json_t *names = s_strings_arg(args, key, e);
    size_t i;
    json_t *x;
    json_array_foreach(names, i, x)
    {
        if (coord_scenario_find(c->scenario, json_string_value(x)) < 0) {
            coord_session_fail(e, 404, "unknown_agent", "there is no agent named \"%s\"",
                               json_string_value(x));
            json_decref(names);
            return NULL;
        }
    }
    return names;
}

static uint32_t
s_index(coord_t *c, const json_t *effect, const char *key)
{
    return (uint32_t)coord_scenario_find(c->scenario, tt_json_str(effect, key, ""));
}

static bool
s_is_member(const coord_sworld_t *w, uint32_t agent)
{
    for (size_t i = 0; i < w->n_members; i++)
        if (w->members[i] == agent)
            return true;
    return false;
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
        return s_bad(e, "agent.create needs \"spec\" (a .agent.json path) or \"persona\"");
    if (!p)
        return NULL;
    json_t *name = json_object_get(args, "name");
    if (name && !json_is_null(name)) {
        if (!json_is_string(name) || !tt_persona_name_ok(json_string_value(name))) {
            tt_persona_destroy(&p);
            return s_bad(e, "\"name\": 1 to 128 bytes of printable text");
        }
        tt_persona_set_name(p, json_string_value(name));
    }
    json_t *frags = json_object_get(args, "fragments");
    size_t i;
    json_t *f;
    if (frags && !json_is_array(frags)) {
        tt_persona_destroy(&p);
        return s_bad(e, "\"fragments\": expected a list of .fragment.json paths");
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
        return s_bad(e, "the persona needs a \"name\"");
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
        return s_bad(e, "\"value\" is required");
    if (merge && !json_is_boolean(merge))
        return s_bad(e, "\"merge\": expected true or false");
    const tt_persona_t *p = c->scenario->agents[agent].persona;
    if (key && !json_is_null(key)) {
        if (!json_is_string(key))
            return s_bad(e, "\"key\": expected a dot path or null");
        if (!s_key_path_ok(p, json_string_value(key), e))
            return NULL;
    } else if (!json_is_object(value) || json_object_get(value, "name")) {
        return s_bad(e, "without \"key\", \"value\" must be an object of persona "
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
        return s_bad(e, "\"path\": a .fragment.json file is required");
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

static json_t *
s_make_stimulus(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    long agent = coord_session_agent_arg(c, args, "agent", e);
    if (agent < 0)
        return NULL;
    const char *type = s_text_arg(args, "type", true, e);
    const char *content = type ? s_text_arg(args, "content", true, e) : NULL;
    const char *source = content ? s_text_arg(args, "source", false, e) : NULL;
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
    const char *location = agent < 0 ? NULL : s_text_arg(args, "location", true, e);
    if (!location)
        return NULL;
    json_t *effect = json_pack("{s:s, s:s}", "agent", c->agents[agent].name, "location", location);
    if (json_object_get(args, "context") && !json_is_null(json_object_get(args, "context"))) {
        json_t *ctx = s_strings_arg(args, "context", e);
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
    json_t *ctx = agent < 0 ? NULL : s_strings_arg(args, "context", e);
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
        return s_bad(e, "an agent is always accessible to itself");
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

/* ------------------------------------------------------------------ worlds */

static json_t *
s_make_world(coord_t *c, const json_t *args, coord_session_error_t *e)
{
    coord_session_t *s = c->session;
    const char *name = s_text_arg(args, "name", true, e);
    if (!name)
        return NULL;
    if (!*name || strlen(name) > TT_NAME_MAX)
        return s_bad(e, "\"name\": 1 to 128 bytes of text");
    if (coord_session_world(s, name)) {
        coord_session_fail(e, 409, "conflict", "there is already a world named \"%s\"", name);
        return NULL;
    }
    json_t *agents =
        json_object_get(args, "agents") ? s_agents_arg(c, args, "agents", e) : json_array();
    if (!agents)
        return NULL;
    int64_t start = s->base_now, step = 0;
    const char *start_text = json_string_value(json_object_get(args, "start"));
    const char *step_text = json_string_value(json_object_get(args, "step"));
    if (start_text && !tt_datetime_parse(start_text, &start)) {
        json_decref(agents);
        return s_bad(e, "\"start\": expected a datetime such as \"2026-03-01T09:00:00\"");
    }
    if (step_text && !tt_duration_parse(step_text, &step)) {
        json_decref(agents);
        return s_bad(e, "\"step\": expected an ISO 8601 duration such as \"PT10M\"");
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
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(effect, "agents"), i, x)
    {
        long a = coord_scenario_find(c->scenario, json_string_value(x));
        if (a >= 0)
            s_add_member(w, (uint32_t)a);
    }
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
    json_t *agents = w ? s_agents_arg(c, args, "agents", e) : NULL;
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
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(effect, "agents"), i, x)
    {
        long a = coord_scenario_find(c->scenario, json_string_value(x));
        if (a >= 0)
            s_add_member(w, (uint32_t)a);
    }
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
    const char *relation = w ? s_text_arg(args, "relation", false, e) : NULL;
    json_t *pair = relation ? s_agents_arg(c, args, "agents", e) : NULL;
    if (!pair)
        return NULL;
    if (json_array_size(pair) != 2 || !strcmp(json_string_value(json_array_get(pair, 0)),
                                              json_string_value(json_array_get(pair, 1)))) {
        json_decref(pair);
        return s_bad(e, "\"agents\": a relation is between two different agents");
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
    const char *content = w ? s_text_arg(args, "content", true, e) : NULL;
    const char *source = content ? s_text_arg(args, "source", false, e) : NULL;
    if (!source)
        return NULL;
    json_t *stim =
        json_pack("{s:s, s:s, s:s, s:s}", "agent", "", "type",
                  tt_json_str(args, "type", "CONVERSATION"), "content", content, "source", source);
    /* the type is checked as a stimulus to one agent would be */
    json_t *check = NULL;
    if (w->n_members) {
        json_object_set_new(stim, "agent", json_string(c->agents[w->members[0]].name));
        check = s_make_stimulus(c, stim, e);
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
    json_t *ctx = w ? s_strings_arg(args, "context", e) : NULL;
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
        return s_bad(e, "\"steps\": expected 1..1000000");
    int64_t seconds = w->step_seconds;
    const char *step = json_string_value(json_object_get(args, "step"));
    if (step && !tt_duration_parse(step, &seconds))
        return s_bad(e, "\"step\": expected an ISO 8601 duration such as \"PT10M\"");
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

static const s_op_t s_ops[] = {
    {"agent.create", s_make_create, s_apply_create, s_answer_create},
    {"agent.define", s_make_define, s_apply_define, s_answer_persona},
    {"agent.import_fragment", s_make_fragment, s_apply_fragment, s_answer_persona},
    {"agent.stimulus", s_make_stimulus, s_apply_stimulus, NULL},
    {"agent.move_to", s_make_move, s_apply_move, NULL},
    {"agent.change_context", s_make_context, s_apply_context, NULL},
    {"agent.make_accessible", s_make_accessible, s_apply_accessible, NULL},
    {"world.create", s_make_world, s_apply_world, s_answer_world},
    {"world.add_agents", s_make_add_agents, s_apply_add_agents, NULL},
    {"world.remove_agent", s_make_remove_agent, s_apply_remove_agent, NULL},
    {"world.make_everyone_accessible", s_make_world_only, s_apply_everyone, NULL},
    {"world.relate", s_make_relate, s_apply_relate, NULL},
    {"world.broadcast", s_make_broadcast, s_apply_broadcast, s_answer_broadcast},
    {"world.change_context", s_make_world_context, s_apply_world_context, NULL},
    {"world.skip", s_make_skip, s_apply_skip, s_answer_skip},
    {"proposition", NULL, s_apply_nothing, NULL}, /* coord_session_judge.c */
    {"llm", NULL, s_apply_nothing, NULL},
};

static const s_op_t *
s_find(const char *name)
{
    for (size_t i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (!strcmp(s_ops[i].name, name))
            return &s_ops[i];
    return NULL;
}

int
coord_session_change(coord_t *c, const char *command, const json_t *args, json_t **result,
                     coord_session_error_t *e)
{
    const s_op_t *op = s_find(command);
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
    const s_op_t *op = s_find(name);
    if (!op) {
        *errmsg = tt_asprintf("a Session record of unknown kind \"%s\"", name);
        return TT_ECORRUPT;
    }
    return op->apply(c, effect, errmsg);
}
