/*  coord_scenario -- loading a scenario: world, agents, events, interventions.
 *
 *  The loader walks the parsed JSON once, resolving relative paths against the
 *  scenario's directory and naming each problem by its JSON path, which
 *  tt_jdoc_errorf turns into file:line:col. Agents are expanded here (files,
 *  folders, inline specs, fragments, {"file","count"} copies) so the rest of the
 *  coordinator only ever sees a flat, ordered, uniquely named list.
 */
#define TT_LOG_MODULE "scenario"
#include "coord_scenario.h"

#include <dirent.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "coord_documents.h"
#include "coord_web.h"
#include "tt_buf.h"
#include "tt_file.h"
#include "tt_json.h"
#include "tt_limits.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"

typedef struct {
    const tt_jdoc_t *doc;
    coord_scenario_t *s;
    char *err;
    size_t agents_alloc;
    const char *generated_dir; /* the factory's people, if any */
    bool session;              /* a session's start: agents may come later */
    size_t begin_bytes;        /* of every agent's payload, as SimBegin records it */
} s_ctx_t;

static const char *s_stimulus_types[] = {
    "CONVERSATION", "SOCIAL", "LOCATION", "VISUAL", "THOUGHT", "INTERNAL_GOAL_FORMULATION", NULL};

static bool
s_fail(s_ctx_t *c, const char *path, const char *what)
{
    if (!c->err)
        c->err = tt_jdoc_errorf(c->doc, path, "%s", what);
    return false;
}

static bool s_failf(s_ctx_t *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
s_failf(s_ctx_t *c, const char *path, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return s_fail(c, path, what);
}

static char *
s_resolve(const s_ctx_t *c, const char *rel)
{
    if (rel[0] == '/')
        return tt_strdup(rel);
    return tt_asprintf("%s/%s", c->s->dir, rel);
}

/* ------------------------------------------------------------------ small readers */

static bool
s_get_string(s_ctx_t *c, const json_t *obj, const char *key, const char *path, bool required,
             char **out)
{
    json_t *v = json_object_get(obj, key);
    char sub[256];
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
    if (!v) {
        if (required)
            return s_failf(c, path, "missing \"%s\"", key);
        return true;
    }
    if (!json_is_string(v))
        return s_fail(c, sub, "expected a string");
    free(*out);
    *out = tt_strdup(json_string_value(v));
    return true;
}

/* A string that becomes what agents perceive (a scripted event, an
 * intervention's effect): at most TT_LIMIT_STIMULUS bytes. */
static bool
s_get_text(s_ctx_t *c, const json_t *obj, const char *key, const char *path, bool required,
           char **out)
{
    if (!s_get_string(c, obj, key, path, required, out))
        return false;
    size_t len = *out ? strlen(*out) : 0;
    if (len <= TT_LIMIT_STIMULUS)
        return true;
    char sub[256];
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
    return s_failf(c, sub,
                   "this text is %zu bytes, more than the %zu a stimulus may have "
                   "(TT_LIMIT_STIMULUS: every agent it reaches gets it whole in its prompt and "
                   "its log); give long texts to agents as documents",
                   len, TT_LIMIT_STIMULUS);
}

static bool
s_get_count(s_ctx_t *c, const json_t *obj, const char *key, const char *path, uint32_t max,
            uint32_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    char sub[256];
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
        return s_failf(c, sub, "expected an integer from 0 to %u", max);
    }
    *out = (uint32_t)json_integer_value(v);
    return true;
}

static bool
s_is_stimulus(const char *type)
{
    for (size_t i = 0; s_stimulus_types[i]; i++)
        if (!strcmp(type, s_stimulus_types[i]))
            return true;
    return false;
}

/* ------------------------------------------------------------------ agents */

static coord_agent_spec_t *
s_new_agent(s_ctx_t *c)
{
    coord_scenario_t *s = c->s;
    if (s->n_agents == c->agents_alloc) {
        c->agents_alloc = c->agents_alloc ? c->agents_alloc * 2 : 16;
        s->agents = tt_realloc(s->agents, c->agents_alloc * sizeof *s->agents);
    }
    coord_agent_spec_t *a = &s->agents[s->n_agents++];
    memset(a, 0, sizeof *a);
    return a;
}

static bool
s_read_documents(s_ctx_t *c, const char *path, const char *folder, json_t **out)
{
    char *dir = s_resolve(c, folder);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return s_fail(c, path, "cannot open the documents folder");
    }
    struct dirent *e;
    json_t *docs = json_array();
    size_t total = 0;
    bool ok = true;
    /* sorted, so the order never depends on the file system */
    json_t *names = json_array();
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.' && coord_documents_supported(e->d_name))
            json_array_append_new(names, json_string(e->d_name));
    }
    closedir(d);
    size_t n = json_array_size(names);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(json_string_value(json_array_get(names, i)),
                       json_string_value(json_array_get(names, j))) > 0) {
                json_t *a = json_incref(json_array_get(names, i));
                json_array_set(names, i, json_array_get(names, j));
                json_array_set_new(names, j, a);
            }
    for (size_t i = 0; ok && i < n; i++) {
        const char *name = json_string_value(json_array_get(names, i));
        char *file = tt_asprintf("%s/%s", dir, name);
        char *why = NULL;
        if (coord_documents_read(file, name, docs, &total, &why))
            ok = s_failf(c, path, "%s: %s", name, why);
        else if (total > TT_LIMIT_DOCUMENTS)
            ok = s_failf(c, path,
                         "the documents are more than %zu MiB of text (TT_LIMIT_DOCUMENTS, what "
                         "one agent may hold) once %s is read",
                         TT_LIMIT_DOCUMENTS / TT_MIB, name);
        free(why);
        free(file);
    }
    json_decref(names);
    free(dir);
    if (!ok) {
        json_decref(docs);
        return false;
    }
    *out = docs;
    return true;
}

/* The "web" pages of an agent entry (TinyTroupe's read_documents_from_web),
 * falling back to the scenario-level list: checked here, read by coord_web. */
static bool
s_web_urls(s_ctx_t *c, const json_t *entry, const char *path, json_t **out)
{
    char at[256];
    json_t *web = json_object_get(entry, "web");
    snprintf(at, sizeof at, "%s%sweb", path, *path ? "." : "");
    if (!web) {
        web = json_object_get(tt_jdoc_root(c->doc), "web");
        snprintf(at, sizeof at, "web");
    }
    *out = json_array();
    if (!web)
        return true;
    if (!json_is_array(web) || json_array_size(web) > COORD_WEB_MAX_PAGES)
        return s_failf(c, at, "\"web\" must be a list of at most %d page addresses",
                       COORD_WEB_MAX_PAGES);
    size_t i;
    json_t *u;
    json_array_foreach(web, i, u)
    {
        const char *url = json_string_value(u);
        if (!url || !coord_web_url_ok(url)) {
            char item[300];
            snprintf(item, sizeof item, "%s[%zu]", at, i);
            return s_failf(c, item, "expected an http:// or https:// address of at most %d bytes",
                           COORD_WEB_MAX_URL);
        }
        json_array_append(*out, u);
    }
    return true;
}

/* Faculties, tools and documents of an agent entry, falling back to the
 * scenario-level defaults. */
static bool
s_agent_options(s_ctx_t *c, const json_t *entry, const char *path, coord_agent_spec_t *a)
{
    const json_t *root = tt_jdoc_root(c->doc);
    json_t *fac = json_object_get(entry, "faculties");
    json_t *tools = json_object_get(entry, "tools");
    json_t *docs = json_object_get(entry, "documents");
    if (!fac)
        fac = json_object_get(root, "faculties");
    if (!tools)
        tools = json_object_get(root, "tools");
    if (!docs)
        docs = json_object_get(root, "documents");
    if (!s_web_urls(c, entry, path, &a->web))
        return false;
    if (fac && !json_is_array(fac))
        return s_fail(c, path, "\"faculties\" must be a list such as [\"recall\"]");
    if (tools && !json_is_array(tools))
        return s_fail(c, path, "\"tools\" must be a list such as [\"word_processor\"]");
    a->faculties = fac ? json_incref(fac) : json_pack("[s]", "recall");
    a->tools = tools ? json_incref(tools) : json_array();
    if (docs && !json_is_string(docs))
        return s_fail(c, path, "\"documents\" must be a folder path");
    a->documents = NULL;
    if (docs && !s_read_documents(c, path, json_string_value(docs), &a->documents))
        return false;
    if (!a->documents)
        a->documents = json_array();
    if ((json_array_size(a->documents) || json_array_size(a->web)) && !json_array_size(fac)) {
        /* documents are only useful with the faculty that reads them */
        json_decref(a->faculties);
        a->faculties = json_pack("[s,s]", "recall", "documents");
    }
    return true;
}

static bool
s_apply_fragments(s_ctx_t *c, const json_t *entry, const char *path, tt_persona_t *p)
{
    json_t *frags = json_object_get(entry, "fragments");
    if (!frags)
        return true;
    if (!json_is_array(frags))
        return s_fail(c, path, "\"fragments\" must be a list of .fragment.json files");
    size_t i;
    json_t *f;
    json_array_foreach(frags, i, f)
    {
        if (!json_is_string(f))
            return s_fail(c, path, "\"fragments\" must hold file names");
        char *file = s_resolve(c, json_string_value(f));
        char *err = NULL;
        tt_err_t rc = tt_persona_apply_fragment_file(p, file, &err);
        free(file);
        if (rc) {
            if (!c->err)
                c->err = err;
            else
                free(err);
            return false;
        }
    }
    return true;
}

/* What an agentd is sent (Assign) and the log records (SimBegin) for this
 * agent must fit there: refuse it here, named, rather than fail to deliver it. */
size_t
coord_scenario_agent_payload(const coord_agent_spec_t *a)
{
    return json_dumpb(tt_persona_json(a->persona), NULL, 0, JSON_COMPACT) +
           json_dumpb(a->documents, NULL, 0, JSON_COMPACT) +
           json_dumpb(a->faculties, NULL, 0, JSON_COMPACT) +
           json_dumpb(a->tools, NULL, 0, JSON_COMPACT);
}

static bool
s_payload_ok(s_ctx_t *c, const char *path, const coord_agent_spec_t *a)
{
    const char *name = tt_persona_name(a->persona);
    size_t persona = json_dumpb(tt_persona_json(a->persona), NULL, 0, JSON_COMPACT);
    if (persona > TT_LIMIT_PERSONA)
        return s_failf(c, path,
                       "agent \"%s\": with its fragments the persona is %zu bytes as JSON, more "
                       "than the %zu a persona may have (TT_LIMIT_PERSONA: it goes whole into "
                       "every prompt)",
                       name, persona, TT_LIMIT_PERSONA);
    size_t payload = coord_scenario_agent_payload(a);
    if (payload > TT_LIMIT_AGENT_PAYLOAD)
        return s_failf(c, path,
                       "agent \"%s\": its persona and documents are %zu bytes as sent to its "
                       "agentd, more than %zu (TT_LIMIT_AGENT_PAYLOAD, one wire frame)",
                       name, payload, TT_LIMIT_AGENT_PAYLOAD);
    c->begin_bytes += payload;
    if (c->begin_bytes > TT_LIMIT_BEGIN_AGENTS)
        return s_failf(c, path,
                       "with agent \"%s\" the agents' personas and documents are %zu bytes, "
                       "more than the %zu MiB the log's first record may hold "
                       "(TT_LIMIT_BEGIN_AGENTS); give fewer agents the documents",
                       name, c->begin_bytes, TT_LIMIT_BEGIN_AGENTS / TT_MIB);
    return true;
}

static bool
s_add_persona(s_ctx_t *c, tt_persona_t *p, const json_t *entry, const char *path)
{
    if (c->s->n_agents >= COORD_MAX_AGENTS) {
        tt_persona_destroy(&p);
        return s_fail(c, path, "too many agents");
    }
    coord_agent_spec_t *a = s_new_agent(c);
    a->persona = p;
    if (!s_apply_fragments(c, entry, path, p) || !s_agent_options(c, entry, path, a) ||
        !s_payload_ok(c, path, a))
        return false;
    /* names must be unique: the world routes by name */
    const char *name = tt_persona_name(p);
    if (json_object_get(c->s->by_name, name))
        return s_failf(c, path,
                       "two agents are named \"%s\"; names must be unique (give each entry its "
                       "own \"name\", or use {\"file\":...,\"count\":N} for copies)",
                       name);
    json_object_set_new(c->s->by_name, name, json_integer((json_int_t)(c->s->n_agents - 1)));
    return true;
}

/* TinyTroupe's load_specification(path, new_agent_name=...): an entry's "name"
 * renames the person it loads, before fragments are merged. */
static bool
s_rename(s_ctx_t *c, const json_t *entry, const char *path, tt_persona_t *p)
{
    json_t *v = json_is_object(entry) ? json_object_get(entry, "name") : NULL;
    if (!v)
        return true;
    char sub[128];
    snprintf(sub, sizeof sub, "%s.name", path);
    if (!json_is_string(v) || !tt_persona_name_ok(json_string_value(v)))
        return s_failf(c, sub,
                       "\"name\" must be a non-empty string of at most %d bytes without "
                       "control characters",
                       TT_NAME_MAX);
    tt_persona_set_name(p, json_string_value(v));
    return true;
}

static bool
s_load_agent_file(s_ctx_t *c, const char *rel, const json_t *entry, const char *path,
                  uint32_t count)
{
    char *file = s_resolve(c, rel);
    tt_persona_t *p = NULL;
    char *err = NULL;
    if (tt_persona_load_file(file, &p, &err)) {
        free(file);
        if (!c->err)
            c->err = err;
        else
            free(err);
        return false;
    }
    free(file);
    if (count == 0 || !s_rename(c, entry, path, p)) {
        tt_persona_destroy(&p);
        return count == 0;
    }
    if (count == 1 && !json_object_get(entry, "count"))
        return s_add_persona(c, p, entry, path);
    char *base = tt_strdup(tt_persona_name(p));
    bool ok = true;
    for (uint32_t i = 1; ok && i <= count; i++) {
        tt_persona_t *copy = tt_persona_dup(p);
        char *name = tt_asprintf("%s %u", base, i);
        tt_persona_set_name(copy, name);
        free(name);
        ok = s_add_persona(c, copy, entry, path);
    }
    free(base);
    tt_persona_destroy(&p);
    return ok;
}

static bool
s_load_folder(s_ctx_t *c, const char *rel, const json_t *entry, const char *path)
{
    char *dir = s_resolve(c, rel);
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    if (n < 0) {
        free(dir);
        return s_fail(c, path, "cannot read the agents folder");
    }
    bool ok = true;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        size_t len = strlen(name);
        if (ok && len > 11 && !strcmp(name + len - 11, ".agent.json")) {
            char *file = tt_asprintf("%s/%s", rel, name);
            ok = s_load_agent_file(c, file, entry, path, 1);
            free(file);
        }
        free(list[i]);
    }
    free(list);
    free(dir);
    return ok;
}

static bool s_load_agent_list(s_ctx_t *c, const json_t *agents, bool factory);
static bool s_known_keys(s_ctx_t *c, const json_t *obj, const char *path, const char *const *known);

/* The keys of each kind of agent entry (examples/scenario.schema.json). */
static const char *s_file_keys[] = {"file",      "name",      "count", "fragments", "tools",
                                    "faculties", "documents", "web",   NULL};
static const char *s_folder_keys[] = {"folder",    "fragments", "tools", "faculties",
                                      "documents", "web",       NULL};
static const char *s_inline_keys[] = {"type",      "persona",   "name", "fragments", "tools",
                                      "faculties", "documents", "web",  NULL};

static bool
s_load_agents(s_ctx_t *c, const json_t *agents)
{
    bool factory = json_object_get(tt_jdoc_root(c->doc), "factory") != NULL;
    json_decref(c->s->by_name);
    c->s->by_name = json_object();
    if (!agents && c->session)
        return true;
    if (!agents && factory)
        agents = json_array(); /* the factory makes them all */
    else
        json_incref((json_t *)agents);
    bool ok = s_load_agent_list(c, agents, factory);
    json_decref((json_t *)agents);
    if (ok && c->generated_dir) {
        /* the factory's folder is named from the working directory (it is under
         * --out), not from the scenario's: make it absolute before it is resolved */
        char *abs = realpath(c->generated_dir, NULL);
        json_t *entry = json_object();
        ok = abs ? s_load_folder(c, abs, entry, factory ? "factory" : "")
                 : s_fail(c, factory ? "factory" : "", "cannot find the factory's people");
        json_decref(entry);
        free(abs);
    }
    if (ok && c->s->n_agents == 0 && !factory && !c->session)
        return s_fail(c, "",
                      "no agents: give a non-empty \"agents\" list or a \"factory\" section");
    return ok;
}

static bool
s_load_agent_list(s_ctx_t *c, const json_t *agents, bool factory)
{
    if (!json_is_array(agents) || (json_array_size(agents) == 0 && !factory && !c->session))
        return s_fail(c, agents ? "agents" : "", "\"agents\" must be a non-empty list");
    size_t i;
    json_t *e;
    char path[64];
    json_array_foreach(agents, i, e)
    {
        snprintf(path, sizeof path, "agents[%zu]", i);
        bool ok;
        if (json_is_string(e)) {
            ok = s_load_agent_file(c, json_string_value(e), e, path, 1);
        } else if (json_is_object(e) && json_object_get(e, "file")) {
            uint32_t count = 1;
            char *file = NULL;
            ok = s_known_keys(c, e, path, s_file_keys) &&
                 s_get_string(c, e, "file", path, true, &file) &&
                 s_get_count(c, e, "count", path, COORD_MAX_AGENTS, &count) &&
                 s_load_agent_file(c, file, e, path, count);
            free(file);
        } else if (json_is_object(e) && json_object_get(e, "folder")) {
            char *folder = NULL;
            ok = s_known_keys(c, e, path, s_folder_keys) &&
                 s_get_string(c, e, "folder", path, true, &folder) &&
                 s_load_folder(c, folder, e, path);
            free(folder);
        } else if (json_is_object(e) && json_object_get(e, "persona")) {
            tt_persona_t *p = NULL;
            char *err = NULL;
            ok = s_known_keys(c, e, path, s_inline_keys) &&
                 tt_persona_from_doc(c->doc, path, &p, &err) == TT_OK;
            if (!ok && err)
                c->err = c->err ? (free(err), c->err) : err;
            if (ok && !s_rename(c, e, path, p)) {
                tt_persona_destroy(&p);
                ok = false;
            }
            if (ok)
                ok = s_add_persona(c, p, e, path);
        } else {
            ok = s_fail(c, path,
                        "an agent is a file name, {\"file\":...,\"count\":N}, "
                        "{\"folder\":...} or {\"type\":\"TinyPerson\",\"persona\":{...}}");
        }
        if (!ok)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ world and run */

static bool
s_duration(s_ctx_t *c, const json_t *obj, const char *key, const char *path, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    char sub[256];
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
    if (!json_is_string(v) || !tt_duration_parse(json_string_value(v), out) || *out <= 0)
        return s_fail(c, sub, "expected an ISO-8601 duration such as \"PT10M\" or \"P1D\"");
    return true;
}

static bool
s_load_world(s_ctx_t *c, const json_t *w)
{
    coord_scenario_t *s = c->s;
    if (!json_is_object(w))
        return s_fail(c, w ? "world" : "", "\"world\" must be an object");
    s->world_name = tt_strdup("World");
    char *start = NULL, *mode = NULL, *access = NULL, *inaccessible = NULL;
    bool ok = s_get_string(c, w, "name", "world", false, &s->world_name) &&
              s_get_string(c, w, "start", "world", false, &start) &&
              s_get_string(c, w, "mode", "world", false, &mode) &&
              s_get_string(c, w, "accessibility", "world", false, &access) &&
              s_get_string(c, w, "talk_to_inaccessible", "world", false, &inaccessible);
    if (ok && start && !tt_datetime_parse(start, &s->start))
        ok = s_fail(c, "world.start", "expected a datetime such as \"2026-03-01T09:00:00\"");
    if (ok && !start)
        tt_datetime_parse("2026-03-01T09:00:00", &s->start);
    s->step_seconds = 600;
    if (ok && json_object_get(w, "step"))
        ok = s_duration(c, w, "step", "world", &s->step_seconds);
    if (ok && mode && strcmp(mode, "parallel") && strcmp(mode, "sequential"))
        ok = s_fail(c, "world.mode", "expected \"parallel\" or \"sequential\"");
    s->mode = mode && !strcmp(mode, "sequential") ? COORD_MODE_SEQUENTIAL : COORD_MODE_PARALLEL;
    if (ok && access && strcmp(access, "everyone") && strcmp(access, "network") &&
        strcmp(access, "none"))
        ok = s_fail(c, "world.accessibility", "expected \"everyone\", \"network\" or \"none\"");
    s->access = !access || !strcmp(access, "everyone") ? COORD_ACCESS_EVERYONE
                : !strcmp(access, "network")           ? COORD_ACCESS_NETWORK
                                                       : COORD_ACCESS_NONE;
    if (ok && json_object_get(w, "relations"))
        s->access = COORD_ACCESS_NETWORK;
    if (ok && inaccessible && strcmp(inaccessible, "deliver") && strcmp(inaccessible, "refuse"))
        ok = s_fail(c, "world.talk_to_inaccessible", "expected \"deliver\" or \"refuse\"");
    s->refuse_inaccessible = inaccessible && !strcmp(inaccessible, "refuse");
    s->broadcast_if_no_target = tt_json_bool(w, "broadcast_if_no_target", true);
    json_t *b = json_object_get(w, "broadcast_if_no_target");
    if (ok && b && !json_is_boolean(b))
        ok = s_fail(c, "world.broadcast_if_no_target", "expected true or false");
    free(start);
    free(mode);
    free(access);
    free(inaccessible);
    return ok;
}

/* "steps": N, or "run": "PT2H", or TinyTroupe's run_minutes ... run_years. */
static bool
s_load_steps(s_ctx_t *c, const json_t *root)
{
    static const struct {
        const char *key;
        int64_t seconds;
    } units[] = {{"run_minutes", 60},      {"run_hours", 3600},        {"run_days", 86400},
                 {"run_weeks", 7 * 86400}, {"run_months", 28 * 86400}, {"run_years", 365 * 86400}};
    coord_scenario_t *s = c->s;
    s->steps = 3;
    if (json_object_get(root, "steps"))
        return s_get_count(c, root, "steps", "", COORD_MAX_STEPS, &s->steps);
    int64_t total = -1;
    if (json_object_get(root, "run") && !s_duration(c, root, "run", "", &total))
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        json_t *v = json_object_get(root, units[i].key);
        if (!v)
            continue;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100000)
            return s_fail(c, units[i].key, "expected a whole number");
        total = json_integer_value(v) * units[i].seconds;
    }
    if (total >= 0)
        s->steps = (uint32_t)(total / s->step_seconds);
    return true;
}

static bool
s_load_skip(s_ctx_t *c, const json_t *root)
{
    json_t *v = json_object_get(root, "skip");
    if (!v)
        return true;
    if (json_is_integer(v))
        return s_get_count(c, root, "skip", "", COORD_MAX_STEPS, &c->s->skip_steps);
    int64_t seconds;
    if (!s_duration(c, root, "skip", "", &seconds))
        return false;
    c->s->skip_steps = (uint32_t)(seconds / c->s->step_seconds);
    return true;
}

static bool
s_target_list(s_ctx_t *c, const json_t *v, const char *path, uint32_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!v || (json_is_string(v) && !strcmp(json_string_value(v), "everyone")))
        return true;
    json_t *list = json_is_string(v) ? json_pack("[O]", v) : json_incref((json_t *)v);
    if (!json_is_array(list)) {
        json_decref(list);
        return s_fail(c, path, "expected an agent name, a list of names or \"everyone\"");
    }
    *out = tt_calloc(json_array_size(list) + 1, sizeof **out);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        long idx = json_is_string(e) ? coord_scenario_find(c->s, json_string_value(e)) : -1;
        if (idx < 0) {
            s_failf(c, path, "no agent named \"%s\"",
                    json_is_string(e) ? json_string_value(e) : "?");
            json_decref(list);
            tt_free(out); /* the caller keeps nothing on failure */
            *n = 0;
            return false;
        }
        (*out)[(*n)++] = (uint32_t)idx;
    }
    json_decref(list);
    return true;
}

static bool
s_load_relations(s_ctx_t *c, const json_t *w)
{
    json_t *rel = json_object_get(w, "relations");
    if (!rel)
        return true;
    if (!json_is_object(rel))
        return s_fail(c, "world.relations",
                      "expected {\"relation name\": [[\"A\",\"B\"], ...], ...}");
    coord_scenario_t *s = c->s;
    const char *name;
    json_t *pairs;
    json_object_foreach(rel, name, pairs)
    {
        char path[300];
        snprintf(path, sizeof path, "world.relations.%s", name);
        if (!json_is_array(pairs))
            return s_fail(c, path, "expected a list of [\"A\",\"B\"] pairs");
        size_t i;
        json_t *p;
        json_array_foreach(pairs, i, p)
        {
            uint32_t *idx;
            size_t n;
            if (!json_is_array(p) || json_array_size(p) != 2)
                return s_fail(c, path, "each relation is a pair [\"A\",\"B\"]");
            if (!s_target_list(c, p, path, &idx, &n))
                return false;
            s->relations = tt_realloc(s->relations, (s->n_relations + 1) * 2 * sizeof(uint32_t));
            s->relation_names =
                tt_realloc(s->relation_names, (s->n_relations + 1) * sizeof(char *));
            s->relations[2 * s->n_relations] = idx[0];
            s->relations[2 * s->n_relations + 1] = idx[1];
            s->relation_names[s->n_relations++] = tt_strdup(name);
            free(idx);
        }
    }
    return true;
}

/* ------------------------------------------------------------------ events */

static const char *s_event_keys[] = {"step",
                                     "source",
                                     "broadcast",
                                     "broadcast_thought",
                                     "broadcast_goal",
                                     "broadcast_visual",
                                     "broadcast_context",
                                     "to",
                                     "stimulus",
                                     "content",
                                     "move",
                                     "location",
                                     "context",
                                     NULL};

static bool
s_load_event(s_ctx_t *c, const json_t *e, const char *path, coord_event_t *ev)
{
    ev->step = 1;
    if (!json_is_object(e))
        return s_fail(c, path, "an event is an object with a \"step\"");
    if (!s_known_keys(c, e, path, s_event_keys))
        return false;
    if (!s_get_count(c, e, "step", path, COORD_MAX_STEPS, &ev->step))
        return false;
    ev->source = tt_strdup("");
    if (!s_get_string(c, e, "source", path, false, &ev->source))
        return false;
    static const struct {
        const char *key;
        const char *stimulus;
    } broadcasts[] = {{"broadcast", "CONVERSATION"},
                      {"broadcast_thought", "THOUGHT"},
                      {"broadcast_goal", "INTERNAL_GOAL_FORMULATION"},
                      {"broadcast_visual", "VISUAL"}};
    for (size_t i = 0; i < sizeof broadcasts / sizeof broadcasts[0]; i++) {
        if (!json_object_get(e, broadcasts[i].key))
            continue;
        ev->kind = COORD_EVENT_STIMULUS;
        ev->stimulus = tt_strdup(broadcasts[i].stimulus);
        return s_get_text(c, e, broadcasts[i].key, path, true, &ev->content) &&
               s_target_list(c, json_object_get(e, "to"), path, &ev->targets, &ev->n_targets);
    }
    if (json_object_get(e, "broadcast_context")) {
        ev->kind = COORD_EVENT_CONTEXT;
        ev->context = json_incref(json_object_get(e, "broadcast_context"));
        if (!json_is_array(ev->context))
            return s_fail(c, path, "\"broadcast_context\" must be a list of strings");
        if (json_dumpb(ev->context, NULL, 0, JSON_COMPACT) > TT_LIMIT_STIMULUS)
            return s_failf(c, path,
                           "\"broadcast_context\" is more than %zu bytes (TT_LIMIT_STIMULUS)",
                           TT_LIMIT_STIMULUS);
        return s_target_list(c, json_object_get(e, "to"), path, &ev->targets, &ev->n_targets);
    }
    if (json_object_get(e, "move")) {
        ev->kind = COORD_EVENT_MOVE;
        json_t *ctx = json_object_get(e, "context");
        ev->context = ctx ? json_incref(ctx) : NULL;
        if (ctx && !json_is_array(ctx))
            return s_fail(c, path, "\"context\" must be a list of strings");
        if (ctx && json_dumpb(ctx, NULL, 0, JSON_COMPACT) > TT_LIMIT_STIMULUS)
            return s_failf(c, path, "\"context\" is more than %zu bytes (TT_LIMIT_STIMULUS)",
                           TT_LIMIT_STIMULUS);
        return s_get_string(c, e, "location", path, true, &ev->location) &&
               s_target_list(c, json_object_get(e, "move"), path, &ev->targets, &ev->n_targets);
    }
    if (json_object_get(e, "to")) {
        ev->kind = COORD_EVENT_STIMULUS;
        ev->stimulus = tt_strdup("CONVERSATION");
        if (!s_get_string(c, e, "stimulus", path, false, &ev->stimulus) ||
            !s_get_text(c, e, "content", path, true, &ev->content))
            return false;
        if (!s_is_stimulus(ev->stimulus))
            return s_fail(c, path,
                          "\"stimulus\" must be CONVERSATION, SOCIAL, LOCATION, VISUAL, "
                          "THOUGHT or INTERNAL_GOAL_FORMULATION");
        return s_target_list(c, json_object_get(e, "to"), path, &ev->targets, &ev->n_targets);
    }
    return s_fail(c, path,
                  "an event needs one of broadcast, broadcast_thought, broadcast_goal, "
                  "broadcast_visual, broadcast_context, move or to");
}

static bool
s_load_events(s_ctx_t *c, const json_t *events)
{
    if (!events)
        return true;
    if (!json_is_array(events))
        return s_fail(c, "events", "\"events\" must be a list");
    coord_scenario_t *s = c->s;
    s->events = tt_calloc(json_array_size(events) + 1, sizeof *s->events);
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        char path[64];
        snprintf(path, sizeof path, "events[%zu]", i);
        coord_event_t *ev = &s->events[s->n_events++];
        if (!s_load_event(c, e, path, ev))
            return false;
    }
    return true;
}

static bool
s_load_intervention(s_ctx_t *c, const json_t *e, const char *path, coord_intervention_t *iv)
{
    if (!json_is_object(e))
        return s_fail(c, path, "an intervention is an object with name, when and effect");
    iv->name = tt_strdup("intervention");
    if (!s_get_string(c, e, "name", path, false, &iv->name))
        return false;
    json_t *when = json_object_get(e, "when");
    char sub[128];
    snprintf(sub, sizeof sub, "%s.when", path);
    if (!json_is_object(when))
        return s_fail(c, when ? sub : path,
                      "\"when\" must be {\"step\":N}, {\"every\":N}, {\"action_contains\":TEXT} "
                      "or {\"proposition\":TEXT}");
    if (json_object_get(when, "step")) {
        iv->when = COORD_WHEN_STEP;
        if (!s_get_count(c, when, "step", sub, COORD_MAX_STEPS, &iv->n))
            return false;
    } else if (json_object_get(when, "every")) {
        iv->when = COORD_WHEN_EVERY;
        if (!s_get_count(c, when, "every", sub, COORD_MAX_STEPS, &iv->n))
            return false;
        if (iv->n == 0) {
            char every[160];
            snprintf(every, sizeof every, "%s.every", sub);
            return s_fail(c, every, "\"every\" must be at least 1");
        }
    } else if (json_object_get(when, "action_contains")) {
        iv->when = COORD_WHEN_ACTION;
        if (!s_get_string(c, when, "action_contains", sub, true, &iv->text))
            return false;
    } else if (json_object_get(when, "proposition")) {
        iv->when = COORD_WHEN_PROPOSITION;
        if (!s_get_string(c, when, "proposition", sub, true, &iv->text))
            return false;
    } else {
        return s_fail(c, sub, "\"when\" needs step, every, action_contains or proposition");
    }
    iv->repeat = tt_json_bool(e, "repeat", false);
    if (!s_target_list(c, json_object_get(e, "targets"), path, &iv->targets, &iv->n_targets))
        return false;
    json_t *eff = json_object_get(e, "effect");
    snprintf(sub, sizeof sub, "%s.effect", path);
    if (!json_is_object(eff))
        return s_fail(c, eff ? sub : path,
                      "\"effect\" must be {\"stimulus\":TYPE,\"content\":TEXT}");
    iv->stimulus = tt_strdup("CONVERSATION");
    iv->source = tt_strdup("");
    if (!s_get_string(c, eff, "stimulus", sub, false, &iv->stimulus) ||
        !s_get_text(c, eff, "content", sub, true, &iv->content) ||
        !s_get_string(c, eff, "source", sub, false, &iv->source))
        return false;
    if (!s_is_stimulus(iv->stimulus))
        return s_fail(c, sub, "\"stimulus\" must be a stimulus type such as CONVERSATION");
    return true;
}

static bool
s_load_interventions(s_ctx_t *c, const json_t *list)
{
    if (!list)
        return true;
    if (!json_is_array(list))
        return s_fail(c, "interventions", "\"interventions\" must be a list");
    coord_scenario_t *s = c->s;
    s->interventions = tt_calloc(json_array_size(list) + 1, sizeof *s->interventions);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        char path[64];
        snprintf(path, sizeof path, "interventions[%zu]", i);
        if (!s_load_intervention(c, e, path, &s->interventions[s->n_interventions++]))
            return false;
    }
    return true;
}

static bool
s_load_checkpoints(s_ctx_t *c, const json_t *list)
{
    if (!list)
        return true;
    if (!json_is_array(list))
        return s_fail(c, "checkpoints", "\"checkpoints\" must be a list");
    coord_scenario_t *s = c->s;
    s->checkpoints = tt_calloc(json_array_size(list) + 1, sizeof *s->checkpoints);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        char path[64];
        snprintf(path, sizeof path, "checkpoints[%zu]", i);
        coord_checkpoint_t *cp = &s->checkpoints[s->n_checkpoints++];
        cp->name = tt_strdup("checkpoint");
        if (!json_is_object(e) || !s_get_count(c, e, "step", path, COORD_MAX_STEPS, &cp->step) ||
            !s_get_string(c, e, "name", path, false, &cp->name))
            return c->err ? false : s_fail(c, path, "expected {\"step\":N,\"name\":TEXT}");
    }
    return true;
}

static bool
s_load_custom_faculties(s_ctx_t *c, const json_t *list)
{
    c->s->custom_faculties = json_array();
    if (!list)
        return true;
    if (!json_is_array(list))
        return s_fail(c, "custom_faculties", "expected a list");
    size_t i;
    json_t *f;
    json_array_foreach(list, i, f)
    {
        char path[64];
        snprintf(path, sizeof path, "custom_faculties[%zu]", i);
        json_t *actions = json_object_get(f, "actions");
        if (!json_is_string(json_object_get(f, "name")) || !json_is_object(actions) ||
            json_object_size(actions) == 0)
            return s_fail(c, path,
                          "expected {\"name\":TEXT,\"actions\":{\"TYPE\":\"what it "
                          "does\"},\"constraints\":TEXT}");
        const char *type;
        json_t *desc;
        json_object_foreach(actions, type, desc)
        {
            bool ok = json_is_string(desc) && *type;
            for (const char *p = type; *p; p++)
                ok = ok && ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_');
            if (!ok)
                return s_fail(c, path,
                              "action types are UPPER_CASE names with a text "
                              "description");
        }
        json_array_append(c->s->custom_faculties, f);
    }
    return true;
}

/* ------------------------------------------------------------------ public */

/* The keys a scenario and its world may have (examples/scenario.schema.json):
 * anything else is a typo worth an error, not a silent default. */
static const char *s_top_keys[] = {
    "name",      "seed",          "world",       "steps",      "run",       "run_minutes",
    "run_hours", "run_days",      "run_weeks",   "run_months", "run_years", "skip",
    "faculties", "tools",         "documents",   "web",        "agents",    "custom_faculties",
    "events",    "interventions", "checkpoints", "factory",    "extract",   NULL};
static const char *s_world_keys[] = {"name",
                                     "start",
                                     "step",
                                     "mode",
                                     "accessibility",
                                     "relations",
                                     "broadcast_if_no_target",
                                     "talk_to_inaccessible",
                                     NULL};

static bool
s_known_keys(s_ctx_t *c, const json_t *obj, const char *path, const char *const *known)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        bool ok = false;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = !strcmp(key, known[i]);
        if (!ok) {
            char sub[300];
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
            return s_failf(c, sub, "unknown key \"%s\" (see examples/scenario.schema.json)", key);
        }
    }
    return true;
}

static bool
s_load(s_ctx_t *c)
{
    const json_t *root = tt_jdoc_root(c->doc);
    coord_scenario_t *s = c->s;
    if (!json_is_object(root))
        return s_fail(c, "", "a scenario is a JSON object");
    if (!s_known_keys(c, root, "", s_top_keys) ||
        (json_is_object(json_object_get(root, "world")) &&
         !s_known_keys(c, json_object_get(root, "world"), "world", s_world_keys)))
        return false;
    s->name = tt_strdup("scenario");
    if (!s_get_string(c, root, "name", "", false, &s->name))
        return false;
    json_t *seed = json_object_get(root, "seed");
    if (seed && (!json_is_integer(seed) || json_integer_value(seed) < 0))
        return s_fail(c, "seed", "expected a non-negative integer");
    s->seed = seed ? (uint64_t)json_integer_value(seed) : 42;
    s->extract = json_incref(json_object_get(root, "extract"));
    s->factory = json_incref(json_object_get(root, "factory"));
    json_t *world = json_object_get(root, "world");
    json_t *defaults = world ? NULL : json_object(); /* no "world": every default */
    bool ok = s_load_world(c, world ? world : defaults) && s_load_steps(c, root) &&
              s_load_skip(c, root) && s_load_agents(c, json_object_get(root, "agents")) &&
              s_load_relations(c, world) &&
              s_load_custom_faculties(c, json_object_get(root, "custom_faculties")) &&
              s_load_events(c, json_object_get(root, "events")) &&
              s_load_interventions(c, json_object_get(root, "interventions")) &&
              s_load_checkpoints(c, json_object_get(root, "checkpoints"));
    json_decref(defaults);
    return ok;
}

tt_err_t
coord_scenario_load(const char *path, coord_scenario_t **out, char **errmsg)
{
    return coord_scenario_load_generated(path, NULL, out, errmsg);
}

static tt_err_t
s_load_doc(tt_jdoc_t *doc, const char *path, const char *generated_dir, bool session,
           coord_scenario_t **out, char **errmsg)
{
    coord_scenario_t *s = tt_new(coord_scenario_t);
    s->path = tt_strdup(path);
    const char *slash = strrchr(path, '/');
    s->dir = slash ? tt_strndup(path, (size_t)(slash - path)) : tt_strdup(".");
    s->text = tt_strdup(tt_jdoc_text(doc));
    s_ctx_t c = {.doc = doc, .s = s, .generated_dir = generated_dir, .session = session};
    bool ok = s_load(&c);
    tt_jdoc_destroy(&doc);
    if (!ok) {
        *errmsg = c.err ? c.err : tt_asprintf("%s:1:1: invalid scenario", path);
        coord_scenario_destroy(&s);
        return TT_EINVAL;
    }
    *out = s;
    return TT_OK;
}

tt_err_t
coord_scenario_load_generated(const char *path, const char *generated_dir, coord_scenario_t **out,
                              char **errmsg)
{
    return coord_scenario_load_text(path, NULL, generated_dir, out, errmsg);
}

tt_err_t
coord_scenario_load_text(const char *path, const char *text, const char *generated_dir,
                         coord_scenario_t **out, char **errmsg)
{
    *out = NULL;
    tt_jdoc_t *doc;
    tt_err_t err;
    if (text) {
        char *name = tt_asprintf("%s (after --set)", path);
        err = tt_jdoc_load_text(name, text, strlen(text), &doc, errmsg);
        free(name);
    } else {
        err = tt_jdoc_load_file(path, &doc, errmsg);
    }
    return err ? err : s_load_doc(doc, path, generated_dir, false, out, errmsg);
}

/* What a session starts from without a scenario file: no agent yet, and
 * nobody reachable until a world makes them so (TinyWorld's default). */
static const char s_session_text[] =
    "{\"name\": \"session\", \"world\": {\"name\": \"session\", \"accessibility\": \"none\"}, "
    "\"agents\": [], \"steps\": 0}";

tt_err_t
coord_scenario_load_session(const char *path, coord_scenario_t **out, char **errmsg)
{
    *out = NULL;
    tt_jdoc_t *doc;
    tt_err_t err =
        path ? tt_jdoc_load_file(path, &doc, errmsg)
             : tt_jdoc_load_text("session", s_session_text, strlen(s_session_text), &doc, errmsg);
    return err ? err : s_load_doc(doc, path ? path : "session", NULL, true, out, errmsg);
}

tt_err_t
coord_scenario_add_agent(coord_scenario_t *s, tt_persona_t **p, char **errmsg)
{
    const char *name = tt_persona_name(*p);
    if (!tt_persona_name_ok(name)) {
        *errmsg = tt_strdup("an agent needs a name (persona.name: 1 to 128 bytes of text)");
        return TT_EINVAL;
    }
    if (coord_scenario_find(s, name) >= 0) {
        *errmsg = tt_asprintf("there is already an agent named \"%s\"", name);
        return TT_EEXIST;
    }
    if (s->n_agents >= COORD_MAX_AGENTS) {
        *errmsg = tt_strdup("too many agents");
        return TT_EINVAL;
    }
    s->agents = tt_realloc(s->agents, (s->n_agents + 1) * sizeof *s->agents);
    coord_agent_spec_t *a = &s->agents[s->n_agents];
    memset(a, 0, sizeof *a);
    a->persona = *p;
    *p = NULL;
    a->faculties = json_pack("[s]", "recall");
    a->tools = json_array();
    a->documents = json_array();
    a->web = json_array();
    json_object_set_new(s->by_name, name, json_integer((json_int_t)s->n_agents));
    s->n_agents++;
    return TT_OK;
}

void
coord_scenario_destroy(coord_scenario_t **self_p)
{
    coord_scenario_t *s = *self_p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_agents; i++) {
        tt_persona_destroy(&s->agents[i].persona);
        json_decref(s->agents[i].faculties);
        json_decref(s->agents[i].tools);
        json_decref(s->agents[i].documents);
        json_decref(s->agents[i].web);
    }
    free(s->agents);
    json_decref(s->by_name);
    for (size_t i = 0; i < s->n_events; i++) {
        coord_event_t *e = &s->events[i];
        free(e->stimulus);
        free(e->content);
        free(e->source);
        free(e->targets);
        free(e->location);
        json_decref(e->context);
    }
    free(s->events);
    for (size_t i = 0; i < s->n_interventions; i++) {
        coord_intervention_t *iv = &s->interventions[i];
        free(iv->name);
        free(iv->text);
        free(iv->targets);
        free(iv->stimulus);
        free(iv->content);
        free(iv->source);
    }
    free(s->interventions);
    for (size_t i = 0; i < s->n_checkpoints; i++)
        free(s->checkpoints[i].name);
    free(s->checkpoints);
    for (size_t i = 0; i < s->n_relations; i++)
        free(s->relation_names[i]);
    free(s->relation_names);
    free(s->relations);
    json_decref(s->custom_faculties);
    json_decref(s->extract);
    json_decref(s->factory);
    free(s->world_name);
    free(s->name);
    free(s->path);
    free(s->dir);
    free(s->text);
    free(s);
    *self_p = NULL;
}

long
coord_scenario_find(const coord_scenario_t *s, const char *name)
{
    json_t *i = json_object_get(s->by_name, name);
    return i ? (long)json_integer_value(i) : -1;
}

json_t *
coord_scenario_agent_config(const coord_scenario_t *s, size_t i)
{
    const coord_agent_spec_t *a = &s->agents[i];
    json_t *custom = json_array();
    size_t k;
    json_t *f;
    json_array_foreach(s->custom_faculties, k, f)
    {
        /* only the custom faculties this agent has */
        size_t j;
        json_t *name;
        json_array_foreach(a->faculties, j, name)
        {
            if (json_is_string(name) &&
                !strcmp(json_string_value(name), tt_json_str(f, "name", "")))
                json_array_append(custom, f);
        }
    }
    return json_pack("{s:O, s:O, s:O, s:o}", "faculties", a->faculties, "tools", a->tools,
                     "documents", a->documents, "custom_faculties", custom);
}
