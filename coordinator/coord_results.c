/*  coord_results -- aggregate committed steps into results.json and results.csv.
 *
 *  Per-agent totals are kept as they go. CSV rows go to an anonymous spool
 *  file (tmpfile) as steps commit, so the coordinator's memory does not grow
 *  with the rows of a long or large run (100,000 agents x 5 steps is ~3 GB of
 *  CSV); at the end the spool is copied to results.csv.tmp, with persona
 *  cells added, and renamed, so a crash never leaves a half CSV beside a
 *  complete log (a resumed run rewrites both).
 *
 *  results.csv is ready to analyse: each action row carries the stimulus it
 *  answered (the last one the agent perceived in that step) and the agent's
 *  persona as columns (flattened names such as "persona.occupation.title";
 *  short scalar values only, lists joined with "; "), so a pandas groupby
 *  by age or occupation needs no join. Persona cells are added when the file
 *  is written (a session can add agents, and columns, later): rows remember
 *  their agent and where they end in the spool.
 */
#define TT_LOG_MODULE "results"
#include "coord_results.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
    json_t *persona; /* flattened name -> text */
} s_agent_t;

typedef struct {
    uint32_t agent;
    uint64_t end; /* offset of the row's end in the spool */
} s_row_t;

#define S_PERSONA_CELL_MAX 200                   /* longer values stay out of the CSV */
#define S_PERSONA_CSV_CAP  ((uint64_t)512 << 20) /* past this, rows go without persona columns */
#define S_CSV_HEADER       "step,datetime,agent,type,target,content,stimulus_type,stimulus"
#define S_ROW_MAX          ((size_t)96 << 20) /* a row: a frame's worth of quotes, doubled */

struct coord_results {
    json_t *identity;
    s_agent_t *agents;
    size_t n;
    json_t *steps;
    json_t *notes;
    FILE *spool; /* rows without persona columns, each CRLF + fields */
    uint64_t spool_len;
    int spool_errno; /* the first failed spool write, 0 when none */
    tt_buf_t row;    /* the row being built */
    uint64_t agent_steps;
    uint64_t failed_steps;
    char *first_failure;
    s_row_t *rows;
    size_t n_rows, rows_alloc;
};

/* Text of a scalar, or of a list of scalars joined with "; "; NULL otherwise. */
static char *
s_cell_text(const json_t *v)
{
    if (json_is_string(v))
        return tt_strdup(json_string_value(v));
    if (json_is_integer(v))
        return tt_asprintf("%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return tt_asprintf("%.17g", json_real_value(v));
    if (json_is_boolean(v))
        return tt_strdup(json_is_true(v) ? "true" : "false");
    if (!json_is_array(v))
        return NULL;
    tt_buf_t b;
    tt_buf_init(&b, 4096);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        char *t = json_is_array(x) ? NULL : s_cell_text(x);
        if (!t) {
            tt_buf_fini(&b);
            return NULL;
        }
        tt_buf_addf(&b, "%s%s", i ? "; " : "", t);
        free(t);
    }
    return tt_buf_take(&b);
}

static void
s_flatten(const json_t *v, const char *prefix, json_t *out)
{
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)v, key, x)
        {
            char *name = tt_asprintf("%s.%s", prefix, key);
            s_flatten(x, name, out);
            free(name);
        }
        return;
    }
    char *text = s_cell_text(v);
    if (text && strlen(text) <= S_PERSONA_CELL_MAX)
        json_object_set_new(out, prefix, json_string(text));
    free(text);
}

/* The persona of a spec's text without its name (the agent column says it). */
static json_t *
s_persona_rest(const char *spec_json)
{
    json_t *spec = spec_json ? json_loads(spec_json, 0, NULL) : NULL;
    json_t *persona = json_object_get(spec, "persona");
    json_t *rest = NULL;
    if (json_is_object(persona)) {
        rest = json_incref(persona);
        json_object_del(rest, "name");
    }
    json_decref(spec);
    return rest;
}

static json_t *
s_columns(const json_t *rest)
{
    json_t *out = json_object();
    if (rest)
        s_flatten(rest, "persona", out);
    return out;
}

json_t *
coord_results_persona_columns(const char *spec_json)
{
    json_t *rest = s_persona_rest(spec_json);
    json_t *out = s_columns(rest);
    json_decref(rest);
    return out;
}

json_t *
coord_results_persona_columns_next(coord_persona_memo_t *m, const char *spec_json)
{
    json_t *rest = s_persona_rest(spec_json);
    if (!rest || !m->rest || !json_equal(rest, m->rest)) {
        coord_persona_memo_fini(m);
        m->columns = s_columns(rest);
    }
    json_decref(m->rest);
    m->rest = rest;
    return json_incref(m->columns);
}

void
coord_persona_memo_fini(coord_persona_memo_t *m)
{
    json_decref(m->rest);
    json_decref(m->columns);
    m->rest = m->columns = NULL;
}

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
    coord_persona_memo_t memo = {0};
    for (size_t i = 0; i < r->n; i++) {
        r->agents[i].name = tt_strdup(b->agents[i]->name);
        r->agents[i].actions = json_object();
        r->agents[i].persona =
            coord_results_persona_columns_next(&memo, b->agents[i]->persona_json);
    }
    coord_persona_memo_fini(&memo);
    r->steps = json_array();
    r->notes = json_object();
    tt_buf_init(&r->row, S_ROW_MAX);
    r->spool = tmpfile();
    r->spool_errno = r->spool ? 0 : errno;
    return r;
}

void
coord_results_add_agent(coord_results_t *r, const char *name, const char *spec_json)
{
    r->agents = tt_realloc(r->agents, (r->n + 1) * sizeof *r->agents);
    memset(&r->agents[r->n], 0, sizeof r->agents[r->n]);
    r->agents[r->n].name = tt_strdup(name);
    r->agents[r->n].actions = json_object();
    r->agents[r->n].persona = coord_results_persona_columns(spec_json);
    r->n++;
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
        json_decref(r->agents[i].persona);
    }
    free(r->agents);
    free(r->rows);
    json_decref(r->identity);
    json_decref(r->steps);
    json_decref(r->notes);
    free(r->first_failure);
    tt_buf_fini(&r->row);
    if (r->spool)
        fclose(r->spool);
    free(r);
    *self_p = NULL;
}

/* RFC 4180: quote every field that needs it, double the quotes inside. A
 * field goes after a comma; the caller ends rows. */
static void
s_csv_field(tt_buf_t *b, const char *text, bool first)
{
    if (!first)
        tt_buf_adds(b, ",");
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
}

/* Spool the row built in r->row. */
static void
s_add_row(coord_results_t *r, uint32_t agent)
{
    if (!r->spool_errno && fwrite(r->row.data, 1, r->row.len, r->spool) != r->row.len)
        r->spool_errno = errno ? errno : EIO;
    r->spool_len += r->row.len;
    tt_buf_reset(&r->row);
    if (r->n_rows == r->rows_alloc) {
        r->rows_alloc = r->rows_alloc ? 2 * r->rows_alloc : 256;
        r->rows = tt_realloc(r->rows, r->rows_alloc * sizeof *r->rows);
    }
    r->rows[r->n_rows].agent = agent;
    r->rows[r->n_rows++].end = r->spool_len;
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
        r->agent_steps++;
        r->failed_steps += !good;
        if (!good && !r->first_failure)
            r->first_failure = tt_asprintf("%s at step %u: %s", a->name, sc->step,
                                           as->error ? as->error : as->status);
        for (size_t i = 0; i < as->n_actions; i++) {
            const Tt__Action *act = as->actions[i];
            json_t *n = json_object_get(a->actions, act->type);
            json_object_set_new(a->actions, act->type,
                                json_integer(n ? json_integer_value(n) + 1 : 1));
            /* what it answered: the last thing it perceived this step */
            const Tt__Stimulus *heard = as->input && as->input->n_stimuli
                                            ? as->input->stimuli[as->input->n_stimuli - 1]
                                            : NULL;
            char step[16];
            snprintf(step, sizeof step, "%u", sc->step);
            tt_buf_t *row = &r->row;
            tt_buf_adds(row, "\r\n");
            s_csv_field(row, step, true);
            s_csv_field(row, sc->datetime, false);
            s_csv_field(row, a->name, false);
            s_csv_field(row, act->type, false);
            s_csv_field(row, act->target ? act->target : "", false);
            s_csv_field(row, act->content, false);
            s_csv_field(row, heard ? heard->type : "", false);
            s_csv_field(row, heard ? heard->content : "", false);
            s_add_row(r, as->agent);
        }
    }
    uint64_t rate_limited = 0;
    for (size_t k = 0; tel && k < tel->n_agents; k++) {
        const Tt__AgentTelemetry *t = tel->agents[k];
        if (t->agent >= r->n)
            continue;
        s_agent_t *a = &r->agents[t->agent];
        for (size_t i = 0; i < t->n_exchanges; i++) {
            const Tt__ExchangeTelemetry *x = t->exchanges[i];
            rate_limited += x->rate_limited;
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
    json_t *entry =
        json_pack("{s:i, s:s, s:i, s:i, s:i}", "step", (int)sc->step, "datetime", sc->datetime,
                  "wall_ms", tel && tel->has_wall_ms ? (int)tel->wall_ms : 0, "agents_ok", (int)ok,
                  "agents_failed", (int)failed);
    /* the model server's rate limit set the pace of this step */
    if (rate_limited)
        json_object_set_new(entry, "rate_limited", json_integer((json_int_t)rate_limited));
    /* how the step's work travelled: one frame per agentd each way is the
     * norm (more when answers came at different times, or past a frame) */
    if (tel && tel->has_frames_out)
        json_object_set_new(entry, "frames_out", json_integer(tel->frames_out));
    if (tel && tel->has_frames_in)
        json_object_set_new(entry, "frames_in", json_integer(tel->frames_in));
    json_array_append_new(r->steps, entry);
}

void
coord_results_failures(const coord_results_t *r, uint64_t *agent_steps, uint64_t *failed,
                       const char **first)
{
    *agent_steps = r->agent_steps;
    *failed = r->failed_steps;
    *first = r->first_failure;
}

bool
coord_results_too_many_failures(const coord_results_t *r, long max_steps, double max_share,
                                char **why)
{
    double allowed = max_steps >= 0 ? (double)max_steps : max_share * (double)r->agent_steps;
    if ((double)r->failed_steps <= allowed)
        return false;
    *why = tt_asprintf("%llu of %llu agent-steps failed (allowed: %g, --max-failed-steps); the "
                       "first: %s",
                       (unsigned long long)r->failed_steps, (unsigned long long)r->agent_steps,
                       allowed, r->first_failure ? r->first_failure : "?");
    return true;
}

void
coord_results_set(coord_results_t *r, const char *key, json_t *value)
{
    json_object_set_new(r->identity, key, value);
}

void
coord_results_note(coord_results_t *r, const char *key, const char *text)
{
    json_object_set_new(r->notes, key, json_string(text));
}

/* Copy the next n bytes of in to out. */
static bool
s_copy(FILE *in, FILE *out, uint64_t n)
{
    char buf[1 << 16];
    while (n > 0) {
        size_t want = n < sizeof buf ? (size_t)n : sizeof buf;
        if (fread(buf, 1, want, in) != want || fwrite(buf, 1, want, out) != want)
            return false;
        n -= want;
    }
    return true;
}

/* Every persona column any agent has, in first-seen order. */
static json_t *
s_persona_columns(const coord_results_t *r)
{
    json_t *cols = json_array(), *seen = json_object();
    for (size_t i = 0; i < r->n; i++) {
        const char *key;
        json_t *v;
        json_object_foreach(r->agents[i].persona, key, v)
        {
            if (!json_object_get(seen, key)) {
                json_object_set_new(seen, key, json_true());
                json_array_append_new(cols, json_string(key));
            }
        }
    }
    json_decref(seen);
    return cols;
}

/* results.csv from the spool: the header, then each row with its agent's
 * persona cells. TT_EIO with errno set when it cannot be written. */
static tt_err_t
s_write_csv(coord_results_t *r, const char *path)
{
    if (r->spool_errno || fflush(r->spool) != 0 || fseeko(r->spool, 0, SEEK_SET) != 0) {
        errno = r->spool_errno ? r->spool_errno : errno;
        return TT_EIO;
    }
    json_t *cols = s_persona_columns(r);
    size_t n_cols = json_array_size(cols);
    bool with_persona = n_cols && r->spool_len + r->n_rows * n_cols * 16 < S_PERSONA_CSV_CAP;
    char *tmp = tt_asprintf("%s.tmp", path);
    FILE *out = fopen(tmp, "we");
    tt_buf_t cells;
    tt_buf_init(&cells, S_ROW_MAX);
    tt_buf_adds(&cells, S_CSV_HEADER);
    for (size_t c = 0; with_persona && c < n_cols; c++)
        s_csv_field(&cells, json_string_value(json_array_get(cols, c)), false);
    bool ok = out && fwrite(cells.data, 1, cells.len, out) == cells.len;
    uint64_t from = 0;
    for (size_t k = 0; ok && k < r->n_rows; k++) {
        ok = s_copy(r->spool, out, r->rows[k].end - from);
        from = r->rows[k].end;
        tt_buf_reset(&cells);
        const json_t *persona =
            r->rows[k].agent < r->n ? r->agents[r->rows[k].agent].persona : NULL;
        for (size_t c = 0; with_persona && c < n_cols; c++)
            s_csv_field(&cells,
                        tt_json_str(persona, json_string_value(json_array_get(cols, c)), ""),
                        false);
        ok = ok && fwrite(cells.data, 1, cells.len, out) == cells.len;
    }
    ok = ok && fputs("\r\n", out) >= 0 && fflush(out) == 0 && fsync(fileno(out)) == 0;
    if (out)
        ok = fclose(out) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    int saved = errno;
    if (!ok)
        unlink(tmp);
    /* rows may follow (a session writes results more than once): back to the end */
    if (fseeko(r->spool, 0, SEEK_END) != 0 && !r->spool_errno)
        r->spool_errno = errno;
    tt_buf_fini(&cells);
    json_decref(cols);
    free(tmp);
    errno = saved;
    return ok ? TT_OK : TT_EIO;
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
    json_object_set_new(root, "agent_steps", json_integer((json_int_t)r->agent_steps));
    json_object_set_new(root, "failed_agent_steps", json_integer((json_int_t)r->failed_steps));
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
    if (!err && (err = s_write_csv(r, csv_path)) != TT_OK)
        failed = csv_path;
    if (err)
        TT_LOG_ERROR("cannot write %s: %s", failed, strerror(errno));
    free(text);
    free(json_path);
    free(csv_path);
    return err;
}
