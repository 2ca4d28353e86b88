/*  coord_extract_history -- what each agent perceived and did, read back from
 *  the log; the scenario's "extract" section; the reduction rules.
 *
 *  A StepCommit holds, for every agent, the stimuli it was given that step and
 *  the actions it took, so the log alone rebuilds TinyTroupe's per-agent
 *  interaction history. The world's history is every agent's actions plus what
 *  the world itself said (stimuli whose source is not an agent), once per step.
 *  DONE actions are left out: they say nothing about the person.
 */
#define _GNU_SOURCE /* strcasestr */
#include <czmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "coord_extract_impl.h"
#include "tt_buf.h"
#include "tt_hash.h"
#include "coord_results.h"
#include "coord_session.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_tlog.h"

/* ------------------------------------------------------------------ the log */

static void
s_add_event(coord_xagent_t *a, uint32_t step, const char *when, bool action, const char *type,
            const char *content, const char *other)
{
    if (a->n_events == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->events = tt_realloc(a->events, a->cap * sizeof *a->events);
    }
    coord_xevent_t *e = &a->events[a->n_events++];
    e->step = step;
    /* "2026-03-01T09:10:00" -> "2026-03-01 09:10" */
    snprintf(e->when, sizeof e->when, "%.16s", when ? when : "");
    if (strlen(e->when) > 10 && e->when[10] == 'T')
        e->when[10] = ' ';
    e->action = action;
    e->type = tt_strdup(type ? type : "");
    e->content = tt_strdup(content ? content : "");
    e->other = tt_strdup(other ? other : "");
}

static void
s_add_step(coord_xrun_t *run, const Tt__StepCommit *sc)
{
    run->steps++;
    for (size_t k = 0; k < sc->n_agents; k++) {
        const Tt__AgentStep *as = sc->agents[k];
        if (as->agent >= run->n_agents)
            continue;
        coord_xagent_t *a = &run->agents[as->agent];
        for (size_t j = 0; as->input && j < as->input->n_stimuli; j++) {
            const Tt__Stimulus *s = as->input->stimuli[j];
            s_add_event(a, sc->step, sc->datetime, false, s->type, s->content, s->source);
        }
        for (size_t j = 0; j < as->n_actions; j++) {
            const Tt__Action *x = as->actions[j];
            if (strcmp(x->type, "DONE") != 0)
                s_add_event(a, sc->step, sc->datetime, true, x->type, x->content, x->target);
        }
    }
}

static void
s_add_begin(coord_xrun_t *run, const Tt__SimBegin *b)
{
    if (run->agents)
        return; /* a resumed log has one SimBegin; keep the first anyway */
    run->scenario_name = tt_strdup(b->scenario_name);
    run->scenario_json = tt_strdup(b->scenario_json);
    run->seed = b->seed;
    snprintf(run->provider, sizeof run->provider, "%s", b->provider ? b->provider : "");
    run->n_agents = b->n_agents;
    run->agents = tt_calloc(b->n_agents + 1, sizeof *run->agents);
    coord_persona_memo_t memo = {0};
    for (size_t i = 0; i < b->n_agents; i++) {
        run->agents[i].name = tt_strdup(b->agents[i]->name);
        run->agents[i].persona =
            coord_results_persona_columns_next(&memo, b->agents[i]->persona_json);
    }
    coord_persona_memo_fini(&memo);
}

static void
s_add_session_agent(coord_xrun_t *run, const Tt__Session *rec)
{
    char *name = coord_session_created_agent(rec);
    if (!name)
        return;
    run->agents = tt_realloc(run->agents, (run->n_agents + 2) * sizeof *run->agents);
    memset(&run->agents[run->n_agents], 0, sizeof run->agents[run->n_agents]);
    json_t *effect = json_loads(rec->effect_json, 0, NULL);
    char *spec = tt_json_compact(json_object_get(effect, "spec"));
    run->agents[run->n_agents].persona = coord_results_persona_columns(spec);
    free(spec);
    json_decref(effect);
    run->agents[run->n_agents++].name = name;
}

tt_err_t
coord_xrun_load(const char *dir, coord_xrun_t **out, char **errmsg)
{
    *out = NULL;
    coord_xrun_t *run = tt_new(coord_xrun_t);
    run->path = tt_asprintf("%s/sim.tlog", dir);
    tt_tlog_t *log = NULL;
    char *msg = NULL;
    tt_err_t err = tt_tlog_open(run->path, TT_TLOG_READ, &log, &msg);
    if (err) {
        *errmsg = tt_asprintf("%s:1:1: %s", run->path,
                              err == TT_ENOTFOUND ? "no run here (no sim.tlog)"
                              : msg               ? msg
                                                  : tt_strerror(err));
        free(msg);
        coord_xrun_destroy(&run);
        return err == TT_ENOTFOUND ? TT_ENOTFOUND : TT_EINVAL;
    }
    uint64_t n = tt_tlog_count(log);
    for (uint64_t i = 0; i < n && !err; i++) {
        tt_tlog_entry_t e;
        if ((err = tt_tlog_read(log, i, &e)) != TT_OK) {
            *errmsg = tt_asprintf("%s:1:1: record %llu unreadable: %s", run->path,
                                  (unsigned long long)i, tt_strerror(err));
            break;
        }
        if (e.body->kind_case == TT__RECORD_BODY__KIND_BEGIN)
            s_add_begin(run, e.body->begin);
        else if (e.body->kind_case == TT__RECORD_BODY__KIND_SESSION && run->agents)
            s_add_session_agent(run, e.body->session);
        else if (e.body->kind_case == TT__RECORD_BODY__KIND_STEP && run->agents)
            s_add_step(run, e.body->step);
        tt_tlog_entry_fini(&e);
    }
    tt_hex(tt_tlog_last_hash(log), TT_SHA256_LEN, run->final_hash);
    tt_tlog_close(&log);
    if (!err && !run->agents) {
        *errmsg = tt_asprintf("%s:1:1: not a run log (no SimBegin)", run->path);
        err = TT_EINVAL;
    }
    if (err) {
        coord_xrun_destroy(&run);
        return err;
    }
    *out = run;
    return TT_OK;
}

void
coord_xrun_destroy(coord_xrun_t **self_p)
{
    coord_xrun_t *run = *self_p;
    if (!run)
        return;
    for (size_t i = 0; i < run->n_agents; i++) {
        coord_xagent_t *a = &run->agents[i];
        for (size_t j = 0; j < a->n_events; j++) {
            free(a->events[j].type);
            free(a->events[j].content);
            free(a->events[j].other);
        }
        free(a->events);
        free(a->name);
        json_decref(a->persona);
    }
    free(run->agents);
    free(run->path);
    free(run->scenario_name);
    free(run->scenario_json);
    free(run);
    *self_p = NULL;
}

/* ------------------------------------------------------------------ history */

static bool
s_is_agent(const coord_xrun_t *run, const char *name)
{
    for (size_t i = 0; i < run->n_agents; i++)
        if (!strcmp(run->agents[i].name, name))
            return true;
    return false;
}

/* One display line, content on one line. */
static void
s_line(tt_buf_t *b, const char *agent, const coord_xevent_t *e)
{
    tt_buf_addf(b, "[%s] ", e->when);
    if (!e->action)
        tt_buf_addf(b, "%s --> %s: [%s] > ", *e->other ? e->other : "USER", agent, e->type);
    else if (*e->other)
        tt_buf_addf(b, "%s --> %s: [%s] > ", agent, e->other, e->type);
    else
        tt_buf_addf(b, "%s acts: [%s] > ", agent, e->type);
    for (const char *p = e->content; *p; p++)
        tt_buf_add(b, *p == '\n' || *p == '\r' ? " " : p, 1);
    tt_buf_adds(b, "\n");
}

/* Show a world stimulus once per step, however many agents received it. */
static bool
s_first_sighting(zhash_t *seen, const coord_xevent_t *e)
{
    char *key = tt_asprintf("%s\x1f%s\x1f%s", e->type, e->other, e->content);
    bool first = zhash_insert(seen, key, (void *)1) == 0;
    free(key);
    return first;
}

static void
s_world(const coord_xrun_t *run, tt_buf_t *b)
{
    size_t *at = tt_calloc(run->n_agents + 1, sizeof *at);
    for (;;) {
        /* the next step any agent has events for */
        uint32_t step = UINT32_MAX;
        for (size_t i = 0; i < run->n_agents; i++)
            if (at[i] < run->agents[i].n_events && run->agents[i].events[at[i]].step < step)
                step = run->agents[i].events[at[i]].step;
        if (step == UINT32_MAX)
            break;
        zhash_t *seen = zhash_new();
        for (size_t i = 0; i < run->n_agents; i++) {
            const coord_xagent_t *a = &run->agents[i];
            for (; at[i] < a->n_events && a->events[at[i]].step == step; at[i]++) {
                const coord_xevent_t *e = &a->events[at[i]];
                if (e->action)
                    s_line(b, a->name, e);
                else if (!s_is_agent(run, e->other) && s_first_sighting(seen, e))
                    s_line(b, "everyone", e);
            }
        }
        zhash_destroy(&seen);
    }
    free(at);
}

char *
coord_xrun_history(const coord_xrun_t *run, long i, size_t cap)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    if (i < 0) {
        s_world(run, &b);
    } else {
        const coord_xagent_t *a = &run->agents[i];
        for (size_t k = 0; k < a->n_events; k++)
            s_line(&b, a->name, &a->events[k]);
    }
    char *text = tt_buf_take(&b);
    size_t len = strlen(text);
    if (len <= cap)
        return text;
    /* keep the most recent whole lines */
    const char *keep = text + len - cap;
    const char *nl = strchr(keep, '\n');
    keep = nl ? nl + 1 : keep;
    size_t omitted = 0;
    for (const char *p = text; p < keep; p++)
        omitted += *p == '\n';
    char *cut = tt_asprintf("(... %zu earlier events omitted ...)\n%s", omitted, keep);
    free(text);
    return cut;
}

/* ------------------------------------------------------------------ settings */

typedef struct {
    const tt_jdoc_t *doc;
    char *err;
} s_ctx_t;

static bool s_fail(s_ctx_t *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
s_fail(s_ctx_t *c, const char *path, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!c->err)
        c->err = tt_jdoc_errorf(c->doc, path, "%s", buf);
    return false;
}

static bool
s_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > COORD_EXTRACT_FIELD_MAX || !tt_utf8_valid(name, n))
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static bool
s_text(s_ctx_t *c, const json_t *obj, const char *key, const char *path, char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    char sub[128];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    if (!json_is_string(v) || !*json_string_value(v))
        return s_fail(c, sub, "expected non-empty text");
    free(*out);
    *out = tt_strdup(json_string_value(v));
    return true;
}

static bool
s_fields(s_ctx_t *c, const json_t *list, coord_xsettings_t *s)
{
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > COORD_EXTRACT_MAX_FIELDS)
        return s_fail(c, "extract.fields", "expected a list of 1 to %d field names",
                      COORD_EXTRACT_MAX_FIELDS);
    size_t i;
    json_t *f;
    json_array_foreach(list, i, f)
    {
        char sub[64];
        snprintf(sub, sizeof sub, "extract.fields[%zu]", i);
        if (!json_is_string(f) || !s_name_ok(json_string_value(f)))
            return s_fail(c, sub, "expected a name of 1 to %d bytes", COORD_EXTRACT_FIELD_MAX);
        for (size_t j = 0; j < i; j++)
            if (json_equal(f, json_array_get(list, j)))
                return s_fail(c, sub, "\"%s\" is listed twice", json_string_value(f));
    }
    s->fields = json_deep_copy(list);
    return true;
}

static bool
s_rule_kind(s_ctx_t *c, const json_t *r, const char *path, coord_xrule_t *x)
{
    json_t *act = json_object_get(r, "action"), *sti = json_object_get(r, "stimulus");
    if (!act == !sti)
        return s_fail(c, path, "a rule has exactly one of \"action\" and \"stimulus\"");
    json_t *t = act ? act : sti;
    char sub[96];
    snprintf(sub, sizeof sub, "%s.%s", path, act ? "action" : "stimulus");
    if (!json_is_string(t) || !*json_string_value(t))
        return s_fail(c, sub, "expected a type such as \"TALK\", or \"*\" for any");
    x->action = act != NULL;
    x->type = strcmp(json_string_value(t), "*") ? tt_strdup(json_string_value(t)) : NULL;
    json_t *to = json_object_get(r, "to"), *from = json_object_get(r, "from");
    if ((to && !x->action) || (from && x->action))
        return s_fail(c, path, "\"to\" filters actions, \"from\" filters stimuli");
    json_t *who = to ? to : from;
    if (who && (!json_is_string(who) || !*json_string_value(who)))
        return s_fail(c, path, "\"%s\": expected a name", to ? "to" : "from");
    x->who = who ? tt_strdup(json_string_value(who)) : NULL;
    json_t *has = json_object_get(r, "contains");
    if (has && (!json_is_string(has) || !*json_string_value(has)))
        return s_fail(c, path, "\"contains\": expected non-empty text");
    x->contains = has ? tt_strdup(json_string_value(has)) : NULL;
    return true;
}

static bool
s_rule_how(s_ctx_t *c, const json_t *r, const char *path, coord_xrule_t *x)
{
    json_t *count = json_object_get(r, "count"), *take = json_object_get(r, "take");
    char sub[96];
    if ((count != NULL) == (take != NULL) || (count && !json_is_true(count)))
        return s_fail(c, path,
                      "a rule has either \"count\": true or \"take\": \"first\" | "
                      "\"last\" | \"all\"");
    if (count) {
        x->how = COORD_XRULE_COUNT;
        return true;
    }
    snprintf(sub, sizeof sub, "%s.take", path);
    const char *t = json_is_string(take) ? json_string_value(take) : "";
    if (!strcmp(t, "first"))
        x->how = COORD_XRULE_FIRST;
    else if (!strcmp(t, "last"))
        x->how = COORD_XRULE_LAST;
    else if (!strcmp(t, "all"))
        x->how = COORD_XRULE_ALL;
    else
        return s_fail(c, sub, "expected \"first\", \"last\" or \"all\"");
    return true;
}

static bool
s_column_taken(const coord_xsettings_t *s, const char *name)
{
    if (!strcmp(name, "name"))
        return true;
    size_t i;
    json_t *f;
    json_array_foreach(s->fields, i, f)
    {
        if (!strcmp(json_string_value(f), name))
            return true;
    }
    for (size_t r = 0; r < s->n_rules; r++)
        if (!strcmp(s->rules[r].name, name))
            return true;
    return false;
}

static bool
s_rules(s_ctx_t *c, const json_t *list, coord_xsettings_t *s)
{
    static const char *const keys[] = {"name", "action", "stimulus", "contains", "to",
                                       "from", "count",  "take",     NULL};
    if (!json_is_array(list))
        return s_fail(c, "extract.reduce", "expected a list of rules");
    s->rules = tt_calloc(json_array_size(list) + 1, sizeof *s->rules);
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        char path[64], sub[128];
        snprintf(path, sizeof path, "extract.reduce[%zu]", i);
        if (!json_is_object(r))
            return s_fail(c, path, "expected a rule object");
        const char *key;
        json_t *v;
        json_object_foreach(r, key, v)
        {
            bool known = false;
            for (size_t k = 0; keys[k] && !known; k++)
                known = !strcmp(key, keys[k]);
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            if (!known)
                return s_fail(c, sub, "unknown key \"%s\"", key);
        }
        const char *name = tt_json_str(r, "name", "");
        snprintf(sub, sizeof sub, "%s.name", path);
        if (!s_name_ok(name))
            return s_fail(c, json_object_get(r, "name") ? sub : path,
                          "expected \"name\": a column name of 1 to %d bytes",
                          COORD_EXTRACT_FIELD_MAX);
        if (s_column_taken(s, name))
            return s_fail(c, sub, "the column \"%s\" already exists", name);
        coord_xrule_t *x = &s->rules[s->n_rules++];
        x->name = tt_strdup(name);
        if (!s_rule_kind(c, r, path, x) || !s_rule_how(c, r, path, x))
            return false;
    }
    return true;
}

static bool
s_section(s_ctx_t *c, const json_t *x, coord_xsettings_t *s)
{
    static const char *const keys[] = {"objective", "situation", "fields", "fields_hints",
                                       "scope",     "reduce",    NULL};
    if (!json_is_object(x))
        return s_fail(c, "extract", "expected an object {objective, fields, reduce, ...}");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)x, key, v)
    {
        bool known = false;
        for (size_t k = 0; keys[k] && !known; k++)
            known = !strcmp(key, keys[k]);
        char sub[128];
        snprintf(sub, sizeof sub, "extract.%s", key);
        if (!known)
            return s_fail(c, sub, "unknown key \"%s\" (%s)", key,
                          "objective, situation, fields, fields_hints, scope, reduce");
    }
    if (!s_text(c, x, "objective", "extract", &s->objective) ||
        !s_text(c, x, "situation", "extract", &s->situation))
        return false;
    json_t *fields = json_object_get(x, "fields"), *hints = json_object_get(x, "fields_hints");
    if (fields && !s_fields(c, fields, s))
        return false;
    if (hints && !json_is_object(hints))
        return s_fail(c, "extract.fields_hints", "expected {field: hint text}");
    s->hints = hints ? json_deep_copy(hints) : NULL;
    json_t *scope = json_object_get(x, "scope");
    const char *sc = json_is_string(scope) ? json_string_value(scope) : "";
    if (scope && strcmp(sc, "per_agent") && strcmp(sc, "world"))
        return s_fail(c, "extract.scope", "expected \"per_agent\" or \"world\"");
    s->scope = !scope                 ? COORD_EXTRACT_SCOPE_DEFAULT
               : !strcmp(sc, "world") ? COORD_EXTRACT_WORLD
                                      : COORD_EXTRACT_PER_AGENT;
    json_t *reduce = json_object_get(x, "reduce");
    return !reduce || s_rules(c, reduce, s);
}

tt_err_t
coord_xsettings_load(const char *doc_name, const char *scenario_json, coord_xsettings_t *out,
                     char **errmsg)
{
    memset(out, 0, sizeof *out);
    tt_jdoc_t *doc = NULL;
    const char *text = scenario_json ? scenario_json : "{}";
    tt_err_t err = tt_jdoc_load_text(doc_name, text, strlen(text), &doc, errmsg);
    if (err)
        return TT_EINVAL;
    s_ctx_t c = {.doc = doc};
    json_t *x = json_object_get(tt_jdoc_root(doc), "extract");
    bool ok = !x || s_section(&c, x, out);
    tt_jdoc_destroy(&doc);
    if (!ok) {
        *errmsg = c.err;
        coord_xsettings_fini(out);
        return TT_EINVAL;
    }
    return TT_OK;
}

tt_err_t
coord_xsettings_set_fields(coord_xsettings_t *s, const char *list, char **errmsg)
{
    json_t *fields = json_array();
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        const char *a = p, *b = p + n;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        char *name = tt_strndup(a, (size_t)(b - a));
        bool dup = false;
        size_t i;
        json_t *f;
        json_array_foreach(fields, i, f) dup = dup || !strcmp(json_string_value(f), name);
        if (!s_name_ok(name) || dup || json_array_size(fields) >= COORD_EXTRACT_MAX_FIELDS) {
            *errmsg = tt_asprintf("--fields: \"%s\" %s", name,
                                  dup ? "is listed twice"
                                      : "is not a field name (1 to 64 bytes, no control "
                                        "characters; at most 64 fields)");
            free(name);
            json_decref(fields);
            return TT_EINVAL;
        }
        json_array_append_new(fields, json_string(name));
        free(name);
        p += n + (p[n] == ',');
    }
    if (!json_array_size(fields)) {
        json_decref(fields);
        *errmsg = tt_strdup("--fields: expected a comma-separated list of names");
        return TT_EINVAL;
    }
    for (size_t i = 0; i < s->n_rules; i++) {
        size_t j;
        json_t *f;
        json_array_foreach(fields, j, f)
        {
            if (strcmp(s->rules[i].name, json_string_value(f)) &&
                strcmp("name", json_string_value(f)))
                continue;
            *errmsg = tt_asprintf("--fields: \"%s\" is already a column (the name or a "
                                  "reduce rule)",
                                  json_string_value(f));
            json_decref(fields);
            return TT_EINVAL;
        }
    }
    json_decref(s->fields);
    s->fields = fields;
    return TT_OK;
}

void
coord_xsettings_fini(coord_xsettings_t *s)
{
    free(s->objective);
    free(s->situation);
    json_decref(s->fields);
    json_decref(s->hints);
    for (size_t i = 0; i < s->n_rules; i++) {
        free(s->rules[i].name);
        free(s->rules[i].type);
        free(s->rules[i].contains);
        free(s->rules[i].who);
    }
    free(s->rules);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ reduce */

static bool
s_match(const coord_xrule_t *r, const coord_xevent_t *e)
{
    return e->action == r->action && (!r->type || !strcmp(r->type, e->type)) &&
           (!r->who || !strcmp(r->who, e->other)) &&
           (!r->contains || strcasestr(e->content, r->contains));
}

static void
s_apply(const coord_xrule_t *r, const coord_xagent_t *a, json_int_t *count, const char **first,
        const char **last, json_t *all)
{
    for (size_t k = 0; k < a->n_events; k++) {
        const coord_xevent_t *e = &a->events[k];
        if (!s_match(r, e))
            continue;
        (*count)++;
        if (!*first)
            *first = e->content;
        *last = e->content;
        json_array_append_new(all, json_string(e->content));
    }
}

json_t *
coord_xreduce(const coord_xsettings_t *s, const coord_xrun_t *run, long i)
{
    json_t *out = json_object();
    for (size_t k = 0; k < s->n_rules; k++) {
        const coord_xrule_t *r = &s->rules[k];
        json_int_t count = 0;
        const char *first = NULL, *last = NULL;
        json_t *all = json_array();
        for (size_t a = 0; a < run->n_agents; a++)
            if (i < 0 || (size_t)i == a)
                s_apply(r, &run->agents[a], &count, &first, &last, all);
        json_t *v = r->how == COORD_XRULE_COUNT   ? json_integer(count)
                    : r->how == COORD_XRULE_ALL   ? json_incref(all)
                    : r->how == COORD_XRULE_FIRST ? (first ? json_string(first) : json_null())
                                                  : (last ? json_string(last) : json_null());
        json_object_set_new(out, r->name, v);
        json_decref(all);
    }
    return out;
}
