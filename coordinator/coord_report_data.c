/*  coord_report_data -- log records in, the run report's data out.
 *
 *  Why a string table: in a 1,000-agent run one broadcast reaches every agent
 *  and a goal stays the same for many steps; stored once and referred to by
 *  position, the report stays a fraction of the log's size, and the page can
 *  search each distinct text once. The table is a jansson array with a
 *  jansson object (text -> position) beside it as the index.
 *
 *  Why a telemetry table per step: telemetry lists agents in the order they
 *  answered, not in the step's order. Indexing it by agent once makes a
 *  1,000-agent step cost 1,000 look-ups, not a million.
 *
 *  World stimuli are the stimuli whose source is not an agent (an agent's
 *  words were already shown as its TALK); each is kept once per step with the
 *  agents that perceived it, as the transcript does.
 */
#define TT_LOG_MODULE "report"
#include "coord_report_data.h"
#include "coord_session.h"

#include <inttypes.h>
#include <string.h>

#include "tt_hash.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_pbjson.h"
#include "tt_persona.h"

#define S_ATTEMPTS_MAX 10  /* attempts[9] counts 10 and more */
#define S_ABOUT_CAP    400 /* bytes of occupation.description kept */
#define S_KEY_LEN      64  /* "type:source:content" as positions */

typedef struct {
    uint64_t actions, exchanges, calls, replayed, cached, prompt, completion;
    uint64_t latency_ms, busy_ms, retried, failed;
} s_sums_t;

struct coord_report_data {
    json_t *strings; /* the table; [0] is "" */
    json_t *index;   /* text -> its position in strings */
    json_t *names;   /* agent name -> agent index */
    json_t *run;     /* identity, from SimBegin */
    json_t *agents;  /* persona summaries; sums join them in _json */
    s_sums_t *agent_sums;
    size_t n_agents;
    json_t *steps, *interventions, *checkpoints, *latencies, *attempts;
    s_sums_t totals;
    s_sums_t pending; /* judge calls of interventions whose step is not committed yet */
    uint32_t pending_step;
    uint64_t records, factory_calls, wall_ms;
    char *end_reason;
    bool have_begin;
};

/* ------------------------------------------------------------------- texts */

/* s with every invalid byte replaced by U+FFFD. The one repair lives in
 * tt_pbjson; a one-field message is the way in. */
static json_t *
s_repaired(const char *s)
{
    Tt__Shutdown carrier = TT__SHUTDOWN__INIT;
    carrier.reason = (char *)s;
    json_t *o = tt_pbjson_from_message(&carrier.base);
    json_t *text = json_incref(json_object_get(o, "reason"));
    json_decref(o);
    return text;
}

/* s as a JSON string, valid UTF-8 whatever the log holds ("" for NULL). */
static json_t *
s_plain(const char *s)
{
    if (!s)
        return json_string("");
    return tt_utf8_valid(s, strlen(s)) ? json_string(s) : s_repaired(s);
}

/* Position of s in the string table, adding it if new; 0 for NULL and "". */
static json_int_t
s_text(coord_report_data_t *d, const char *s)
{
    if (!s || !*s)
        return 0;
    json_t *repaired = NULL;
    if (!tt_utf8_valid(s, strlen(s))) {
        repaired = s_repaired(s);
        s = json_string_value(repaired);
    }
    char *cut = NULL;
    size_t len = strlen(s);
    if (len > COORD_REPORT_TEXT_CAP) {
        size_t n = tt_utf8_cut(s, len, COORD_REPORT_TEXT_CAP);
        s = cut = tt_asprintf("%.*s (...)", (int)n, s);
    }
    json_t *known = json_object_get(d->index, s);
    json_int_t pos = known ? json_integer_value(known) : (json_int_t)json_array_size(d->strings);
    if (!known) {
        json_array_append_new(d->strings, json_string(s));
        json_object_set_new(d->index, s, json_integer(pos));
    }
    free(cut);
    json_decref(repaired);
    return pos;
}

/* The text at a position (borrowed from the table). */
static const char *
s_text_at(const coord_report_data_t *d, json_int_t pos)
{
    return json_string_value(json_array_get(d->strings, (size_t)pos));
}

/* -------------------------------------------------------------------- sums */

static void
s_merge(s_sums_t *into, const s_sums_t *s)
{
    into->actions += s->actions;
    into->exchanges += s->exchanges;
    into->calls += s->calls;
    into->replayed += s->replayed;
    into->cached += s->cached;
    into->prompt += s->prompt;
    into->completion += s->completion;
    into->latency_ms += s->latency_ms;
    into->busy_ms += s->busy_ms;
    into->retried += s->retried;
    into->failed += s->failed;
}

static void
s_set_sums(json_t *o, const s_sums_t *s)
{
    static const char *const keys[] = {"actions", "exchanges", "calls",      "replayed",
                                       "cached",  "prompt",    "completion", "latency_ms",
                                       "busy_ms", "retried",   "failed"};
    const uint64_t values[] = {s->actions, s->exchanges, s->calls,      s->replayed,
                               s->cached,  s->prompt,    s->completion, s->latency_ms,
                               s->busy_ms, s->retried,   s->failed};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        json_object_set_new(o, keys[i], json_integer((json_int_t)values[i]));
}

/* One exchange into s; a call made by a model also into the latency list. */
static void
s_count_exchange(coord_report_data_t *d, s_sums_t *s, const Tt__ExchangeTelemetry *t)
{
    s->exchanges++;
    s->latency_ms += t && t->has_latency_ms ? t->latency_ms : 0;
    uint32_t attempts = t && t->has_attempts && t->attempts > 0 ? t->attempts : 1;
    if (attempts > 1)
        s->retried++;
    size_t slot = (attempts < S_ATTEMPTS_MAX ? attempts : S_ATTEMPTS_MAX) - 1;
    while (json_array_size(d->attempts) <= slot)
        json_array_append_new(d->attempts, json_integer(0));
    json_t *n = json_array_get(d->attempts, slot);
    json_integer_set(n, json_integer_value(n) + 1);
    if (t && t->has_replayed && t->replayed) {
        s->replayed++;
    } else if (t && t->has_cached && t->cached) {
        s->cached++;
    } else {
        s->calls++;
        s->prompt += t && t->has_prompt_tokens ? t->prompt_tokens : 0;
        s->completion += t && t->has_completion_tokens ? t->completion_tokens : 0;
        if (t && t->has_latency_ms)
            json_array_append_new(d->latencies, json_integer(t->latency_ms));
    }
}

/* ------------------------------------------------------------------- begin */

static void
s_copy_string(json_t *to, const char *key, json_t *value)
{
    if (json_is_string(value) && json_string_length(value) > 0)
        json_object_set(to, key, value);
}

/* name, age, occupation, nationality, a few traits ... of a persona spec;
 * an empty object when the spec does not load (the name comes from AgentInfo). */
static json_t *
s_persona(const char *spec)
{
    json_t *o = json_object();
    tt_persona_t *p = NULL;
    char *msg = NULL;
    if (!spec || tt_persona_from_text(spec, &p, &msg) != TT_OK) {
        free(msg);
        return o;
    }
    json_t *pj = tt_persona_json(p);
    char *bio = tt_persona_minibio(p);
    json_object_set_new(o, "bio", s_plain(bio));
    free(bio);
    json_t *age = json_object_get(pj, "age");
    if (json_is_integer(age) || json_is_string(age))
        json_object_set(o, "age", age);
    s_copy_string(o, "gender", json_object_get(pj, "gender"));
    json_t *occ = json_object_get(pj, "occupation");
    s_copy_string(o, "occupation", json_is_object(occ) ? json_object_get(occ, "title") : occ);
    s_copy_string(o, "nationality", json_object_get(pj, "nationality"));
    s_copy_string(o, "residence", json_object_get(pj, "residence"));
    const char *about = json_is_object(occ) ? tt_json_str(occ, "description", NULL) : NULL;
    if (about && strlen(about) > S_ABOUT_CAP) {
        size_t n = tt_utf8_cut(about, strlen(about), S_ABOUT_CAP);
        json_object_set_new(o, "about", json_sprintf("%.*s (...)", (int)n, about));
    } else if (about && *about) {
        json_object_set_new(o, "about", json_string(about));
    }
    json_t *traits = tt_json_get_path(pj, "personality.traits"), *kept = json_array();
    for (size_t i = 0; i < json_array_size(traits) && json_array_size(kept) < COORD_REPORT_TRAITS;
         i++)
        if (json_is_string(json_array_get(traits, i)))
            json_array_append(kept, json_array_get(traits, i));
    json_object_set_new(o, "traits", kept);
    tt_persona_destroy(&p);
    return o;
}

static void
s_add_begin(coord_report_data_t *d, const Tt__SimBegin *b)
{
    if (d->have_begin)
        return;
    d->have_begin = true;
    json_t *run = d->run;
    json_object_set_new(run, "scenario", s_plain(b->scenario_name));
    if (b->seed > INT64_MAX) /* keep it exact, as log stats does */
        json_object_set_new(run, "seed", json_sprintf("%" PRIu64, b->seed));
    else
        json_object_set_new(run, "seed", json_integer((json_int_t)b->seed));
    json_object_set_new(run, "provider", s_plain(b->provider));
    json_object_set_new(run, "model", s_plain(b->model));
    json_object_set_new(run, "offline",
                        json_boolean(b->provider && !strcmp(b->provider, "offline")));
    json_object_set_new(run, "mode", s_plain(b->mode));
    json_object_set_new(run, "version", s_plain(b->version));
    json_object_set_new(run, "world_start", s_plain(b->world_start));
    json_object_set_new(run, "step_seconds", json_integer(b->step_seconds));
    json_object_set_new(run, "steps_planned", json_integer(b->steps));
    d->n_agents = b->n_agents;
    d->agent_sums = tt_calloc(b->n_agents ? b->n_agents : 1, sizeof *d->agent_sums);
    for (size_t i = 0; i < b->n_agents; i++) {
        json_t *a = s_persona(b->agents[i]->persona_json);
        json_t *name = s_plain(b->agents[i]->name);
        if (!json_object_get(d->names, json_string_value(name)))
            json_object_set_new(d->names, json_string_value(name), json_integer((json_int_t)i));
        json_object_set_new(a, "name", name);
        json_object_set_new(a, "by_type", json_object());
        json_array_append_new(d->agents, a);
    }
}

/* A session's agent.create: one more agent, as SimBegin's are read. */
static void
s_add_session_agent(coord_report_data_t *d, const Tt__Session *rec)
{
    char *name = coord_session_created_agent(rec);
    if (!name || !d->agent_sums) {
        free(name);
        return;
    }
    json_t *effect = json_loads(rec->effect_json, 0, NULL);
    char *spec = tt_json_compact(json_object_get(effect, "spec"));
    json_decref(effect);
    size_t i = d->n_agents++;
    d->agent_sums = tt_realloc(d->agent_sums, d->n_agents * sizeof *d->agent_sums);
    memset(&d->agent_sums[i], 0, sizeof d->agent_sums[i]);
    json_t *a = s_persona(spec);
    json_t *plain = s_plain(name);
    if (!json_object_get(d->names, json_string_value(plain)))
        json_object_set_new(d->names, json_string_value(plain), json_integer((json_int_t)i));
    json_object_set_new(a, "name", plain);
    json_object_set_new(a, "by_type", json_object());
    json_array_append_new(d->agents, a);
    free(spec);
    free(name);
}

/* -------------------------------------------------------------------- steps */

/* Telemetry of a step by agent index, for the agents SimBegin named (NULL
 * where absent; an index from the file never sizes an allocation). Caller
 * frees. */
static const Tt__AgentTelemetry **
s_tel_index(const coord_report_data_t *d, const Tt__Telemetry *tel)
{
    const Tt__AgentTelemetry **by = tt_calloc(d->n_agents ? d->n_agents : 1, sizeof *by);
    for (size_t i = 0; tel && i < tel->n_agents; i++) {
        uint32_t agent = tel->agents[i]->agent;
        if (agent < d->n_agents && !by[agent])
            by[agent] = tel->agents[i];
    }
    return by;
}

static void
s_bump(json_t *counts, const char *key)
{
    json_t *n = json_object_get(counts, key);
    if (n)
        json_integer_set(n, json_integer_value(n) + 1);
    else
        json_object_set_new(counts, key, json_integer(1));
}

static json_t *
s_actions(coord_report_data_t *d, const Tt__AgentStep *as, s_sums_t *sums)
{
    json_t *by_type = as->agent < d->n_agents
                          ? json_object_get(json_array_get(d->agents, as->agent), "by_type")
                          : NULL;
    json_t *acts = json_array();
    for (size_t k = 0; k < as->n_actions; k++) {
        const Tt__Action *a = as->actions[k];
        json_int_t type = s_text(d, a->type);
        json_array_append_new(
            acts, json_pack("[I,I,I]", type, s_text(d, a->content), s_text(d, a->target)));
        if (by_type)
            s_bump(by_type, s_text_at(d, type));
        sums->actions++;
    }
    return acts;
}

/* One agent's part of a step; its counts go to sums (fresh from the caller). */
static json_t *
s_turn(coord_report_data_t *d, const Tt__AgentStep *as, const Tt__AgentTelemetry *at,
       s_sums_t *sums)
{
    json_t *t = json_object();
    json_object_set_new(t, "a", json_integer(as->agent));
    json_object_set_new(t, "act", s_actions(d, as, sums));
    const Tt__CognitiveState *cs = as->cognitive_state;
    if (cs)
        json_object_set_new(t, "cs",
                            json_pack("[I,I,I]", s_text(d, cs->goals), s_text(d, cs->attention),
                                      s_text(d, cs->emotions)));
    for (size_t j = 0; j < as->n_exchanges; j++)
        s_count_exchange(d, sums, at && j < at->n_exchanges ? at->exchanges[j] : NULL);
    sums->busy_ms += at && at->has_busy_ms ? at->busy_ms : 0;
    if (as->n_exchanges || sums->busy_ms)
        json_object_set_new(
            t, "x",
            json_pack("[I,I,I,I]", (json_int_t)sums->exchanges, (json_int_t)sums->latency_ms,
                      (json_int_t)(sums->prompt + sums->completion), (json_int_t)sums->busy_ms));
    if (as->status && strcmp(as->status, "ok") != 0) {
        sums->failed++;
        json_object_set_new(t, "st", json_integer(s_text(d, as->status)));
    }
    if (as->error && *as->error)
        json_object_set_new(t, "err", json_integer(s_text(d, as->error)));
    return t;
}

/* The world's stimuli in one agent's input, merged into the step's list. */
static void
s_world(coord_report_data_t *d, const Tt__AgentStep *as, json_t *world, json_t *keys)
{
    for (size_t i = 0; as->input && i < as->input->n_stimuli; i++) {
        const Tt__Stimulus *s = as->input->stimuli[i];
        if (s->source && *s->source && json_object_get(d->names, s->source))
            continue;
        json_int_t type = s_text(d, s->type), source = s_text(d, s->source);
        json_int_t content = s_text(d, s->content);
        char key[S_KEY_LEN];
        snprintf(key, sizeof key,
                 "%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT, type,
                 source, content);
        json_t *known = json_object_get(keys, key), *entry;
        if (known) {
            entry = json_array_get(world, (size_t)json_integer_value(known));
        } else {
            json_object_set_new(keys, key, json_integer((json_int_t)json_array_size(world)));
            entry = json_pack("[I,I,I,[]]", type, source, content);
            json_array_append_new(world, entry);
        }
        json_t *who = json_array_get(entry, 3);
        size_t n = json_array_size(who);
        if (!n || json_integer_value(json_array_get(who, n - 1)) != (json_int_t)as->agent)
            json_array_append_new(who, json_integer(as->agent));
    }
}

/* A stimulus every agent of the step perceived says so with null. */
static void
s_everyone(json_t *world, size_t n_agents)
{
    size_t i;
    json_t *entry;
    json_array_foreach(world, i, entry)
    {
        if (n_agents > 1 && json_array_size(json_array_get(entry, 3)) == n_agents)
            json_array_set_new(entry, 3, json_null());
    }
}

static void
s_add_step(coord_report_data_t *d, const Tt__StepCommit *sc, const Tt__Telemetry *tel)
{
    s_sums_t step = {0};
    if (d->pending_step == sc->step)
        step = d->pending;
    else
        s_merge(&d->totals, &d->pending);
    memset(&d->pending, 0, sizeof d->pending);
    uint64_t floor_ms = 0;
    const Tt__AgentTelemetry **tels = s_tel_index(d, tel);
    json_t *turns = json_array(), *world = json_array(), *keys = json_object();
    for (size_t k = 0; k < sc->n_agents; k++) {
        const Tt__AgentStep *as = sc->agents[k];
        s_sums_t turn = {0};
        const Tt__AgentTelemetry *at = as->agent < d->n_agents ? tels[as->agent] : NULL;
        json_array_append_new(turns, s_turn(d, as, at, &turn));
        s_world(d, as, world, keys);
        if (turn.latency_ms > floor_ms)
            floor_ms = turn.latency_ms;
        s_merge(&step, &turn);
        if (as->agent < d->n_agents)
            s_merge(&d->agent_sums[as->agent], &turn);
    }
    s_everyone(world, sc->n_agents);
    json_t *o = json_object();
    json_object_set_new(o, "step", json_integer(sc->step));
    json_object_set_new(o, "datetime", s_plain(sc->datetime));
    if (tel && tel->has_wall_ms) {
        json_object_set_new(o, "wall_ms", json_integer(tel->wall_ms));
        d->wall_ms += tel->wall_ms;
    }
    json_object_set_new(o, "floor_ms", json_integer((json_int_t)floor_ms));
    s_set_sums(o, &step);
    json_object_set_new(o, "world", world);
    json_object_set_new(o, "turns", turns);
    json_array_append_new(d->steps, o);
    s_merge(&d->totals, &step);
    free(tels);
    json_decref(keys);
}

/* ------------------------------------------------------------ other records */

static json_t *
s_stimuli(coord_report_data_t *d, Tt__Stimulus *const *stimuli, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("[I,I,I]", s_text(d, stimuli[i]->type),
                                              s_text(d, stimuli[i]->source),
                                              s_text(d, stimuli[i]->content)));
    return list;
}

static void
s_add_intervention(coord_report_data_t *d, const Tt__Intervention *iv, const Tt__Telemetry *tel)
{
    if (d->pending_step != iv->step) {
        s_merge(&d->totals, &d->pending);
        memset(&d->pending, 0, sizeof d->pending);
        d->pending_step = iv->step;
    }
    s_sums_t calls = {0};
    for (size_t j = 0; j < iv->n_exchanges; j++)
        s_count_exchange(d, &calls, tel && j < tel->n_exchanges ? tel->exchanges[j] : NULL);
    s_merge(&d->pending, &calls);
    json_t *o = json_object();
    json_object_set_new(o, "step", json_integer(iv->step));
    json_object_set_new(o, "name", s_plain(iv->name));
    bool everyone = d->n_agents > 1 && iv->n_targets == d->n_agents;
    json_t *targets = everyone ? json_null() : json_array();
    for (size_t i = 0; !everyone && i < iv->n_targets; i++)
        json_array_append_new(targets, json_integer(s_text(d, iv->targets[i])));
    json_object_set_new(o, "targets", targets);
    json_object_set_new(o, "effects", s_stimuli(d, iv->effects, iv->n_effects));
    if (iv->justification && *iv->justification)
        json_object_set_new(o, "why", json_integer(s_text(d, iv->justification)));
    json_object_set_new(o, "calls", json_integer((json_int_t)calls.calls));
    json_array_append_new(d->interventions, o);
}

static void
s_add_factory_call(coord_report_data_t *d, const Tt__Telemetry *tel)
{
    d->factory_calls++;
    s_count_exchange(d, &d->totals, tel && tel->n_exchanges ? tel->exchanges[0] : NULL);
}

/* ------------------------------------------------------------------ the API */

coord_report_data_t *
coord_report_data_new(void)
{
    coord_report_data_t *d = tt_new(coord_report_data_t);
    d->strings = json_pack("[s]", "");
    d->index = json_object();
    d->names = json_object();
    d->run = json_object();
    d->agents = json_array();
    d->steps = json_array();
    d->interventions = json_array();
    d->checkpoints = json_array();
    d->latencies = json_array();
    d->attempts = json_array();
    return d;
}

void
coord_report_data_destroy(coord_report_data_t **self_p)
{
    coord_report_data_t *d = *self_p;
    if (!d)
        return;
    json_t *owned[] = {d->strings, d->index,         d->names,       d->run,       d->agents,
                       d->steps,   d->interventions, d->checkpoints, d->latencies, d->attempts};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        json_decref(owned[i]);
    free(d->agent_sums);
    free(d->end_reason);
    free(d);
    *self_p = NULL;
}

void
coord_report_data_add(coord_report_data_t *d, const tt_tlog_entry_t *e)
{
    const Tt__RecordBody *body = e->body;
    d->records++;
    switch (body->kind_case) {
    case TT__RECORD_BODY__KIND_BEGIN:
        s_add_begin(d, body->begin);
        break;
    case TT__RECORD_BODY__KIND_STEP:
        s_add_step(d, body->step, e->telemetry);
        break;
    case TT__RECORD_BODY__KIND_INTERVENTION:
        s_add_intervention(d, body->intervention, e->telemetry);
        break;
    case TT__RECORD_BODY__KIND_SESSION:
        s_add_session_agent(d, body->session);
        break;
    case TT__RECORD_BODY__KIND_CHECKPOINT:
        json_array_append_new(d->checkpoints,
                              json_pack("{s:I, s:o}", "step", (json_int_t)body->checkpoint->step,
                                        "name", s_plain(body->checkpoint->name)));
        break;
    case TT__RECORD_BODY__KIND_END:
        free(d->end_reason);
        d->end_reason = tt_strdup(body->end->reason ? body->end->reason : "");
        break;
    case TT__RECORD_BODY__KIND_FACTORY_CALL:
        s_add_factory_call(d, e->telemetry);
        break;
    default:
        break;
    }
}

static json_t *
s_run_json(const coord_report_data_t *d, const tt_tlog_t *log)
{
    json_t *run = json_copy(d->run);
    char hex[TT_SHA256_HEX_LEN + 1];
    const char *path = tt_tlog_path(log), *slash = strrchr(path, '/');
    json_object_set_new(run, "steps", json_integer((json_int_t)json_array_size(d->steps)));
    json_object_set_new(run, "records", json_integer((json_int_t)d->records));
    json_object_set_new(run, "complete", json_boolean(d->end_reason != NULL));
    json_object_set_new(run, "end_reason", d->end_reason ? s_plain(d->end_reason) : json_null());
    json_object_set_new(run, "final_hash",
                        json_string(tt_hex(tt_tlog_last_hash(log), TT_SHA256_LEN, hex)));
    json_object_set_new(run, "log", s_plain(slash ? slash + 1 : path));
    json_object_set_new(run, "torn_tail_bytes", json_integer((json_int_t)tt_tlog_cut_bytes(log)));
    json_object_set_new(run, "has_begin", json_boolean(d->have_begin));
    return run;
}

json_t *
coord_report_data_json(coord_report_data_t *d, const tt_tlog_t *log)
{
    s_sums_t totals = d->totals;
    s_merge(&totals, &d->pending); /* judge calls of a step never committed */
    json_t *t = json_object();
    s_set_sums(t, &totals);
    json_object_set_new(t, "wall_ms", json_integer((json_int_t)d->wall_ms));
    json_object_set_new(t, "interventions",
                        json_integer((json_int_t)json_array_size(d->interventions)));
    json_object_set_new(t, "checkpoints",
                        json_integer((json_int_t)json_array_size(d->checkpoints)));
    json_object_set_new(t, "factory_calls", json_integer((json_int_t)d->factory_calls));
    for (size_t i = 0; i < d->n_agents; i++)
        s_set_sums(json_array_get(d->agents, i), &d->agent_sums[i]);
    json_t *root = json_object();
    json_object_set_new(root, "format", json_integer(COORD_REPORT_FORMAT));
    json_object_set_new(root, "run", s_run_json(d, log));
    json_object_set_new(root, "totals", t);
    json_object_set(root, "strings", d->strings);
    json_object_set(root, "agents", d->agents);
    json_object_set(root, "steps", d->steps);
    json_object_set(root, "interventions", d->interventions);
    json_object_set(root, "checkpoints", d->checkpoints);
    json_object_set(root, "latencies", d->latencies);
    json_object_set(root, "attempts", d->attempts);
    return root;
}
