/*  coord_results -- aggregate committed steps into results.json and results.csv.
 *
 *  Per-agent totals are kept as they go; the CSV rows are streamed to a
 *  temporary file and renamed at the end, so a crash never leaves a half CSV
 *  beside a complete log (a resumed run rewrites both).
 */
#define TT_LOG_MODULE "results"
#include "coord_results.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_file.h"
#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"

typedef struct {
    char *name;
    json_t *actions; /* type -> count */
    uint64_t llm_calls;
    uint64_t replayed;
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    uint64_t latency_ms;
    uint32_t latency_max_ms;
    uint32_t failures;
} s_agent_t;

struct coord_results {
    json_t *identity;
    s_agent_t *agents;
    size_t n;
    json_t *steps;
    json_t *notes;
    tt_buf_t csv;
};

coord_results_t *
coord_results_new(const Tt__SimBegin *b)
{
    coord_results_t *r = tt_new(coord_results_t);
    r->identity =
        json_pack("{s:s, s:I, s:s, s:s, s:b, s:s, s:s, s:i}", "scenario", b->scenario_name, "seed",
                  (json_int_t)b->seed, "provider", b->provider, "model", b->model, "offline_model",
                  !strcmp(b->provider, "offline"), "mode", b->mode, "start", b->world_start,
                  "step_seconds", (int)b->step_seconds);
    r->n = b->n_agents;
    r->agents = tt_calloc(r->n + 1, sizeof *r->agents);
    for (size_t i = 0; i < r->n; i++) {
        r->agents[i].name = tt_strdup(b->agents[i]->name);
        r->agents[i].actions = json_object();
    }
    r->steps = json_array();
    r->notes = json_object();
    tt_buf_init(&r->csv, (size_t)1 << 30);
    tt_buf_adds(&r->csv, "step,datetime,agent,type,target,content\r\n");
    return r;
}

void
coord_results_destroy(coord_results_t **self_p)
{
    coord_results_t *r = *self_p;
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->agents[i].name);
        json_decref(r->agents[i].actions);
    }
    free(r->agents);
    json_decref(r->identity);
    json_decref(r->steps);
    json_decref(r->notes);
    tt_buf_fini(&r->csv);
    free(r);
    *self_p = NULL;
}

/* RFC 4180: quote every field that needs it, double the quotes inside. */
static void
s_csv_field(tt_buf_t *b, const char *text, bool last)
{
    if (strpbrk(text, ",\"\r\n")) {
        tt_buf_adds(b, "\"");
        for (const char *p = text; *p; p++) {
            if (*p == '"')
                tt_buf_adds(b, "\"");
            tt_buf_add(b, p, 1);
        }
        tt_buf_adds(b, "\"");
    } else {
        tt_buf_adds(b, text);
    }
    tt_buf_adds(b, last ? "\r\n" : ",");
}

void
coord_results_add_step(coord_results_t *r, const Tt__StepCommit *sc, const Tt__Telemetry *tel)
{
    size_t ok = 0, failed = 0;
    for (size_t k = 0; k < sc->n_agents; k++) {
        const Tt__AgentStep *as = sc->agents[k];
        if (as->agent >= r->n)
            continue;
        s_agent_t *a = &r->agents[as->agent];
        bool good = !as->status || !strcmp(as->status, "ok");
        ok += good;
        failed += !good;
        a->failures += !good;
        for (size_t i = 0; i < as->n_actions; i++) {
            const Tt__Action *act = as->actions[i];
            json_t *n = json_object_get(a->actions, act->type);
            json_object_set_new(a->actions, act->type,
                                json_integer(n ? json_integer_value(n) + 1 : 1));
            char step[16];
            snprintf(step, sizeof step, "%u", sc->step);
            s_csv_field(&r->csv, step, false);
            s_csv_field(&r->csv, sc->datetime, false);
            s_csv_field(&r->csv, a->name, false);
            s_csv_field(&r->csv, act->type, false);
            s_csv_field(&r->csv, act->target ? act->target : "", false);
            s_csv_field(&r->csv, act->content, true);
        }
    }
    for (size_t k = 0; tel && k < tel->n_agents; k++) {
        const Tt__AgentTelemetry *t = tel->agents[k];
        if (t->agent >= r->n)
            continue;
        s_agent_t *a = &r->agents[t->agent];
        for (size_t i = 0; i < t->n_exchanges; i++) {
            const Tt__ExchangeTelemetry *x = t->exchanges[i];
            if (x->replayed) {
                a->replayed++;
                continue;
            }
            a->llm_calls += !x->cached;
            a->prompt_tokens += x->prompt_tokens;
            a->completion_tokens += x->completion_tokens;
            a->latency_ms += x->latency_ms;
            if (x->latency_ms > a->latency_max_ms)
                a->latency_max_ms = x->latency_ms;
        }
    }
    json_array_append_new(r->steps, json_pack("{s:i, s:s, s:i, s:i, s:i}", "step", (int)sc->step,
                                              "datetime", sc->datetime, "wall_ms",
                                              tel && tel->has_wall_ms ? (int)tel->wall_ms : 0,
                                              "agents_ok", (int)ok, "agents_failed", (int)failed));
}

void
coord_results_note(coord_results_t *r, const char *key, const char *text)
{
    json_object_set_new(r->notes, key, json_string(text));
}

tt_err_t
coord_results_write(coord_results_t *r, const char *dir, const char *final_hash, const char *status)
{
    json_t *agents = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const s_agent_t *a = &r->agents[i];
        json_array_append_new(
            agents,
            json_pack("{s:s, s:O, s:I, s:I, s:I, s:I, s:I, s:i, s:i}", "name", a->name, "actions",
                      a->actions, "llm_calls", (json_int_t)a->llm_calls, "llm_replayed",
                      (json_int_t)a->replayed, "prompt_tokens", (json_int_t)a->prompt_tokens,
                      "completion_tokens", (json_int_t)a->completion_tokens, "latency_ms_total",
                      (json_int_t)a->latency_ms, "latency_ms_max", (int)a->latency_max_ms,
                      "failed_steps", (int)a->failures));
    }
    json_t *root = json_deep_copy(r->identity);
    json_object_set_new(root, "status", json_string(status));
    json_object_set_new(root, "final_hash", json_string(final_hash));
    json_object_set_new(root, "steps", json_incref(r->steps));
    json_object_set_new(root, "agents", agents);
    if (json_object_size(r->notes))
        json_object_set(root, "notes", r->notes);
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    char *json_path = tt_asprintf("%s/results.json", dir);
    char *csv_path = tt_asprintf("%s/results.csv", dir);
    const char *failed = json_path;
    tt_err_t err = tt_write_file(json_path, text, strlen(text), 0644);
    if (!err && (err = tt_write_file(csv_path, tt_buf_str(&r->csv), r->csv.len, 0644)) != TT_OK)
        failed = csv_path;
    if (err)
        TT_LOG_ERROR("cannot write %s: %s", failed, strerror(errno));
    free(text);
    free(json_path);
    free(csv_path);
    return err;
}
