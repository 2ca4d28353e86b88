/*  coord_record -- what the coordinator writes to the log, and how a run is
 *  brought back from it.
 *
 *  Resuming replays the log through the same world, transcript and results
 *  code a live run uses: the world's inboxes, reachability and locations after
 *  the last StepCommit are exactly what they were, and transcript.txt and
 *  results.json are rewritten complete. Records after the last StepCommit
 *  (an Intervention of a step that never committed, a SimEnd of an interrupted
 *  run) are cut; Checkpoints right after it are kept.
 */
#define TT_LOG_MODULE "record"
#include "coord.h"

#include <string.h>

#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"
#include "tt_wire.h"

static tt_err_t
s_append(coord_t *c, Tt__RecordBody *body, const Tt__Telemetry *tel, bool sync)
{
    if (tt_tlog_pending_parts(c->log) && body->kind_case != TT__RECORD_BODY__KIND_STEP &&
        body->kind_case != TT__RECORD_BODY__KIND_BEGIN)
        coord_record_parts_reset(c); /* a step that will not commit: its Parts go */
    tt_err_t err = tt_tlog_append(c->log, body, tel, sync);
    if (err)
        TT_LOG_ERROR("cannot append to %s: %s", tt_tlog_path(c->log), tt_strerror(err));
    return err;
}

/* ------------------------------------------------------------------ parts */

static void
s_free_tels(coord_parts_t *p)
{
    for (size_t i = 0; i < p->n_tels; i++)
        free(p->tels[i]);
    p->n_tels = 0;
}

void
coord_record_parts_reset(coord_t *c)
{
    coord_parts_t *p = &c->parts;
    tt_buf_reset(&p->buf);
    s_free_tels(p);
    p->written = p->encoded = 0;
    if (c->log && tt_tlog_pending_parts(c->log)) {
        TT_LOG_INFO("cutting %llu Parts of a record never written",
                    (unsigned long long)tt_tlog_pending_parts(c->log));
        tt_tlog_drop_parts(c->log);
    }
}

void
coord_record_parts_fini(coord_t *c)
{
    s_free_tels(&c->parts);
    free(c->parts.tels);
    tt_buf_fini(&c->parts.buf);
    memset(&c->parts, 0, sizeof c->parts);
}

static size_t
s_put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        out[n++] = (uint8_t)(v | 0x80);
    out[n++] = (uint8_t)v;
    return n;
}

/* Write what buf holds as a Part. */
static tt_err_t
s_flush_part(coord_t *c)
{
    coord_parts_t *p = &c->parts;
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.n_agents = p->n_tels;
    tel.agents = p->tels;
    tt_err_t err = tt_tlog_append_part(c->log, (const uint8_t *)p->buf.data, p->buf.len,
                                       p->n_tels ? &tel : NULL);
    if (err) {
        TT_LOG_ERROR("cannot append to %s: %s", tt_tlog_path(c->log), tt_strerror(err));
        return err;
    }
    tt_buf_reset(&p->buf);
    s_free_tels(p);
    p->written = p->encoded;
    return TT_OK;
}

tt_err_t
coord_record_part(coord_t *c, uint32_t field, const ProtobufCMessage *msg, Tt__AgentTelemetry *tel)
{
    coord_parts_t *p = &c->parts;
    if (tt_tlog_version(c->log) < 2) { /* an old log is written as it was */
        free(tel);
        p->encoded++; /* handed over; it goes in the record itself */
        return TT_OK;
    }
    if (!p->buf.cap)
        tt_buf_init(&p->buf, TT_LIMIT_RECORD);
    uint8_t head[20];
    size_t len = protobuf_c_message_get_packed_size(msg);
    size_t h = s_put_varint(head, (uint64_t)field << 3 | PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
    h += s_put_varint(head + h, len);
    uint8_t *packed = tt_malloc(len + 1);
    protobuf_c_message_pack(msg, packed);
    tt_err_t err = tt_buf_add(&p->buf, head, h);
    if (!err)
        err = tt_buf_add(&p->buf, packed, len);
    free(packed);
    if (tel) {
        if (p->n_tels == p->tels_alloc) {
            p->tels_alloc = p->tels_alloc ? 2 * p->tels_alloc : 256;
            p->tels = tt_realloc(p->tels, p->tels_alloc * sizeof *p->tels);
        }
        p->tels[p->n_tels++] = tel;
    }
    p->encoded++;
    if (!err && p->buf.len >= TT_LIMIT_RECORD_PART)
        err = s_flush_part(c);
    return err;
}

/* ------------------------------------------------------------------ records */

static void
s_note_step_record(coord_t *c, uint32_t step, uint64_t index)
{
    if (step >= c->step_records_alloc) {
        size_t n = c->step_records_alloc ? c->step_records_alloc : 64;
        while (n <= step)
            n *= 2;
        c->step_records = tt_realloc(c->step_records, n * sizeof *c->step_records);
        memset(c->step_records + c->step_records_alloc, 0,
               (n - c->step_records_alloc) * sizeof *c->step_records);
        c->step_records_alloc = n;
    }
    c->step_records[step] = index;
}

static void
s_fill_begin(coord_t *c, Tt__SimBegin *b, Tt__AgentInfo **infos, char **personas,
             uint8_t scenario_digest[32], uint8_t config_digest[32], char *config_text)
{
    const coord_scenario_t *s = c->scenario;
    tt_sha256(s->text, strlen(s->text), scenario_digest);
    tt_sha256(config_text, strlen(config_text), config_digest);
    b->version = TT_VERSION;
    b->scenario_digest.data = scenario_digest;
    b->scenario_digest.len = TT_SHA256_LEN;
    b->config_digest.data = config_digest;
    b->config_digest.len = TT_SHA256_LEN;
    b->seed = s->seed;
    b->scenario_name = s->name;
    b->scenario_json = s->text;
    for (size_t i = 0; i < s->n_agents; i++) {
        infos[i] = tt_new(Tt__AgentInfo);
        tt__agent_info__init(infos[i]);
        infos[i]->name = (char *)c->agents[i].name;
        personas[i] = tt_persona_spec_text(s->agents[i].persona);
        infos[i]->persona_json = personas[i];
        json_t *own = coord_scenario_agent_config(s, i);
        infos[i]->agent_config_json = tt_json_compact(own);
        json_decref(own);
    }
    b->n_agents = s->n_agents;
    b->agents = infos;
    char start[TT_DATETIME_LEN];
    b->world_start = tt_strdup(tt_datetime_format(s->start, start));
    b->step_seconds = (uint32_t)s->step_seconds;
    b->steps = c->total_steps;
    b->mode = s->mode == COORD_MODE_SEQUENTIAL ? "sequential" : "parallel";
    b->provider = c->config.provider;
    b->model = c->config.model;
}

tt_err_t
coord_record_begin(coord_t *c, char **errmsg)
{
    size_t n = c->scenario->n_agents;
    Tt__AgentInfo **infos = tt_calloc(n + 1, sizeof *infos);
    char **personas = tt_calloc(n + 1, sizeof *personas);
    uint8_t sd[32], cd[32];
    json_t *cfg = tt_config_semantic_json(&c->config);
    char *cfg_text = tt_json_canonical(cfg);
    Tt__SimBegin b = TT__SIM_BEGIN__INIT;
    s_fill_begin(c, &b, infos, personas, sd, cd, cfg_text);
    /* what agents were told, minus where the model lives (see tt_config_semantic_json) */
    json_t *agent_cfg =
        json_pack("{s:O, s:I}", "config", cfg, "seed", (json_int_t)c->scenario->seed);
    b.agent_config_json = tt_json_compact(agent_cfg);
    json_decref(agent_cfg);
    coord_record_parts_reset(c);
    tt_err_t err = TT_OK;
    for (size_t i = 0; i < n && !err; i++)
        err = coord_record_part(c, 7, &infos[i]->base, NULL);
    Tt__SimBegin rest = b; /* the agents not in Parts */
    rest.n_agents -= c->parts.written;
    rest.agents += c->parts.written;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_BEGIN;
    body.begin = &rest;
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.has_unix_ms = true;
    tel.unix_ms = (uint64_t)tt_wall_ms();
    if (!err)
        err = s_append(c, &body, &tel, true);
    coord_record_parts_reset(c);
    if (!err) {
        memcpy(c->run_id, tt_tlog_last_hash(c->log), TT_SHA256_LEN);
        coord_transcript_header(c->transcript, &b);
        c->results = coord_results_new(&b);
    } else {
        *errmsg = tt_asprintf("%s: cannot write: %s", tt_tlog_path(c->log), tt_strerror(err));
    }
    for (size_t i = 0; i < n; i++) {
        free(infos[i]->agent_config_json);
        free(infos[i]);
        free(personas[i]);
    }
    free(infos);
    free(personas);
    free(b.world_start);
    free(b.agent_config_json);
    json_decref(cfg);
    free(cfg_text);
    return err;
}

tt_err_t
coord_record_step(coord_t *c, const Tt__StepCommit *sc, const Tt__Telemetry *tel)
{
    /* the agents already in Parts are left out of the record itself */
    size_t w = c->parts.written;
    TT_ASSERT(w <= sc->n_agents && w <= tel->n_agents);
    Tt__StepCommit rest = *sc;
    rest.n_agents -= w;
    rest.agents += w;
    Tt__Telemetry rest_tel = *tel;
    rest_tel.n_agents -= w;
    rest_tel.agents += w;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_STEP;
    body.step = &rest;
    tt_err_t err = s_append(c, &body, &rest_tel, true);
    if (!err)
        s_note_step_record(c, sc->step, tt_tlog_count(c->log) - 1);
    c->parts.written = c->parts.encoded = 0;
    tt_buf_reset(&c->parts.buf);
    s_free_tels(&c->parts);
    return err;
}

tt_err_t
coord_record_intervention(coord_t *c, const Tt__Intervention *iv, const Tt__Telemetry *tel)
{
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_INTERVENTION;
    body.intervention = (Tt__Intervention *)iv;
    return s_append(c, &body, tel, false);
}

tt_err_t
coord_record_checkpoint(coord_t *c, const char *name)
{
    Tt__Checkpoint cp = TT__CHECKPOINT__INIT;
    cp.step = c->committed_step;
    cp.name = (char *)name;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_CHECKPOINT;
    body.checkpoint = &cp;
    TT_LOG_INFO("checkpoint \"%s\" after step %u", name, c->committed_step);
    return s_append(c, &body, NULL, true);
}

tt_err_t
coord_record_end(coord_t *c, const char *reason)
{
    Tt__SimEnd end = TT__SIM_END__INIT;
    end.steps = c->committed_step;
    end.reason = (char *)reason;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_END;
    body.end = &end;
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.has_unix_ms = tel.has_wall_ms = true;
    tel.unix_ms = (uint64_t)tt_wall_ms();
    tel.wall_ms = (uint32_t)(tt_now_ms() - c->started_ms);
    return s_append(c, &body, &tel, true);
}

tt_err_t
coord_record_session_call(coord_t *c, const char *op, const char *effect_json,
                          const Tt__ExchangeTelemetry *xt)
{
    Tt__Session rec = TT__SESSION__INIT;
    rec.op = (char *)op;
    rec.effect_json = (char *)effect_json;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_SESSION;
    body.session = &rec;
    Tt__ExchangeTelemetry *xts[] = {(Tt__ExchangeTelemetry *)xt};
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.has_unix_ms = true;
    tel.unix_ms = (uint64_t)tt_wall_ms();
    tel.n_exchanges = xt ? 1 : 0;
    tel.exchanges = xt ? xts : NULL;
    return s_append(c, &body, &tel, true);
}

tt_err_t
coord_record_session(coord_t *c, const char *op, const char *effect_json)
{
    return coord_record_session_call(c, op, effect_json, NULL);
}

const Tt__AgentStep *
coord_record_agent_step(coord_t *c, uint32_t step, uint32_t agent, Tt__RecordBody **body,
                        char **datetime)
{
    *body = NULL;
    if (step == 0 || step >= c->step_records_alloc)
        return NULL;
    tt_tlog_entry_t e;
    if (tt_tlog_read(c->log, c->step_records[step], &e) != TT_OK)
        return NULL;
    *body = e.body; /* keep the body, free the rest */
    e.body = NULL;
    tt_tlog_entry_fini(&e);
    if (!*body || (*body)->kind_case != TT__RECORD_BODY__KIND_STEP)
        return NULL;
    const Tt__StepCommit *sc = (*body)->step;
    *datetime = sc->datetime;
    for (size_t i = 0; i < sc->n_agents; i++)
        if (sc->agents[i]->agent == agent)
            return sc->agents[i];
    return NULL;
}

/* ------------------------------------------------------------------ resume */

static void
s_replay_intervention(coord_t *c, const Tt__Intervention *iv)
{
    for (size_t i = 0; i < c->scenario->n_interventions; i++)
        if (!strcmp(c->scenario->interventions[i].name, iv->name))
            c->intervention_fired[i] = true;
    for (size_t e = 0; e < iv->n_effects; e++)
        for (size_t t = 0; t < iv->n_targets; t++) {
            long idx = coord_scenario_find(c->scenario, iv->targets[t]);
            if (idx >= 0)
                coord_world_deliver(c->world, (uint32_t)idx, iv->effects[e]->type,
                                    iv->effects[e]->content, iv->effects[e]->source);
        }
    coord_transcript_intervention(c->transcript, iv);
}

static void
s_replay_step(coord_t *c, const Tt__StepCommit *sc, const Tt__Telemetry *tel)
{
    /* inputs are taken exactly as the live run took them, then discarded */
    bool sequential = c->scenario->mode == COORD_MODE_SEQUENTIAL;
    for (size_t k = 0; k < sc->n_agents; k++) {
        const Tt__AgentStep *as = sc->agents[k];
        if (as->agent >= c->n_agents)
            continue;
        Tt__StepInput *in = coord_world_take_input(c->world, as->agent);
        coord_world_input_free(&in);
        if (sequential && as->n_actions)
            coord_world_route(c->world, as->agent, as->actions, as->n_actions);
    }
    if (!sequential)
        for (size_t k = 0; k < sc->n_agents; k++)
            if (sc->agents[k]->agent < c->n_agents && sc->agents[k]->n_actions)
                coord_world_route(c->world, sc->agents[k]->agent, sc->agents[k]->actions,
                                  sc->agents[k]->n_actions);
    char **names = tt_calloc(c->n_agents + 1, sizeof(char *));
    for (size_t i = 0; i < c->n_agents; i++)
        names[i] = (char *)c->agents[i].name;
    coord_transcript_step(c->transcript, sc, c->total_steps, names, c->n_agents,
                          c->config.max_content_display_length);
    free(names);
    coord_results_add_step(c->results, sc, tel);
}

static bool
s_same_text(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

/* A resumed run goes on as it began: the seed, provider, model and semantic
 * config of this invocation must be the SimBegin's, or the later steps would
 * come from another simulation under the same hash chain. */
static tt_err_t
s_check_settings(coord_t *c, const Tt__SimBegin *b, char **errmsg)
{
    const char *path = tt_tlog_path(c->log);
    const char *again = "; resume with the settings the run began with";
    if (b->seed != c->scenario->seed) {
        *errmsg =
            tt_asprintf("%s: the run began with seed %llu, this resume has seed %llu%s", path,
                        (unsigned long long)b->seed, (unsigned long long)c->scenario->seed, again);
        return TT_EINVAL;
    }
    if (!s_same_text(b->provider, c->config.provider)) {
        *errmsg = tt_asprintf("%s: the run began with provider %s, this resume has %s%s", path,
                              b->provider ? b->provider : "(none)",
                              c->config.provider ? c->config.provider : "(none)", again);
        return TT_EINVAL;
    }
    if (!s_same_text(b->model, c->config.model)) {
        *errmsg = tt_asprintf("%s: the run began with model %s, this resume has %s%s", path,
                              b->model ? b->model : "(none)",
                              c->config.model ? c->config.model : "(none)", again);
        return TT_EINVAL;
    }
    json_t *cfg = tt_config_semantic_json(&c->config);
    char *text = tt_json_canonical(cfg);
    uint8_t digest[TT_SHA256_LEN];
    tt_sha256(text, strlen(text), digest);
    json_decref(cfg);
    free(text);
    if (b->config_digest.len != TT_SHA256_LEN ||
        memcmp(b->config_digest.data, digest, TT_SHA256_LEN)) {
        *errmsg = tt_asprintf("%s: the run began with another configuration (config.ini, "
                              "environment or flags: the config digest differs)%s",
                              path, again);
        return TT_EINVAL;
    }
    return TT_OK;
}

static tt_err_t
s_check_begin(coord_t *c, const Tt__SimBegin *b, char **errmsg)
{
    uint8_t digest[32];
    tt_sha256(c->scenario->text, strlen(c->scenario->text), digest);
    if (b->scenario_digest.len != 32 || memcmp(b->scenario_digest.data, digest, 32)) {
        *errmsg = tt_asprintf("%s: the log was written for another version of %s (or other "
                              "--set values); cannot resume it with this scenario",
                              tt_tlog_path(c->log), c->scenario->path);
        return TT_EINVAL;
    }
    if (b->n_agents != c->n_agents) {
        *errmsg = tt_asprintf("%s: the log has %zu agents, the scenario %zu", tt_tlog_path(c->log),
                              b->n_agents, c->n_agents);
        return TT_EINVAL;
    }
    return s_check_settings(c, b, errmsg);
}

tt_err_t
coord_record_resume(coord_t *c, char **errmsg)
{
    uint64_t n = tt_tlog_count(c->log);
    tt_tlog_entry_t e;
    if (n == 0 || tt_tlog_read(c->log, 0, &e) != TT_OK ||
        e.body->kind_case != TT__RECORD_BODY__KIND_BEGIN) {
        if (n)
            tt_tlog_entry_fini(&e);
        *errmsg = tt_asprintf("%s: not a Troupe run log (no SimBegin)", tt_tlog_path(c->log));
        return TT_ECORRUPT;
    }
    tt_err_t err = s_check_begin(c, e.body->begin, errmsg);
    if (!err) {
        memcpy(c->run_id, e.hash, TT_SHA256_LEN);
        coord_transcript_header(c->transcript, e.body->begin);
        c->results = coord_results_new(e.body->begin);
    }
    tt_tlog_entry_fini(&e);
    if (err)
        return err;
    uint64_t keep = 1; /* records to keep: through the last StepCommit (+checkpoints) */
    bool complete = false;
    for (uint64_t i = 1; i < n && !err; i++) {
        if ((err = tt_tlog_read(c->log, i, &e)) != TT_OK) {
            *errmsg = tt_asprintf("%s: record %llu unreadable", tt_tlog_path(c->log),
                                  (unsigned long long)i);
            break;
        }
        switch (e.body->kind_case) {
        case TT__RECORD_BODY__KIND_STEP:
            if (e.body->step->step != c->committed_step + 1) {
                *errmsg =
                    tt_asprintf("%s: record %llu is step %u after step %u", tt_tlog_path(c->log),
                                (unsigned long long)i, e.body->step->step, c->committed_step);
                err = TT_ECORRUPT;
                break;
            }
            if (c->session)
                coord_session_resume_step(c, e.body->step);
            else
                coord_world_begin_step(c->world);
            for (uint64_t k = keep; k < i; k++) {
                tt_tlog_entry_t iv;
                if (tt_tlog_read(c->log, k, &iv) == TT_OK) {
                    if (iv.body->kind_case == TT__RECORD_BODY__KIND_INTERVENTION)
                        s_replay_intervention(c, iv.body->intervention);
                    tt_tlog_entry_fini(&iv);
                }
            }
            s_replay_step(c, e.body->step, e.telemetry);
            c->committed_step = e.body->step->step;
            s_note_step_record(c, c->committed_step, i);
            keep = i + 1;
            break;
        case TT__RECORD_BODY__KIND_CHECKPOINT:
            if (keep == i)
                keep = i + 1;
            break;
        case TT__RECORD_BODY__KIND_SESSION:
            /* a command applies when its record is read: the StepCommits
             * after it were taken in the state it made */
            if (!c->session) {
                *errmsg = tt_asprintf("%s: a session's log; continue it with `coordinator serve "
                                      "--resume`",
                                      tt_tlog_path(c->log));
                err = TT_EINVAL;
                break;
            }
            if ((err = coord_session_resume_record(c, e.body->session, errmsg)) == TT_OK)
                keep = i + 1;
            break;
        case TT__RECORD_BODY__KIND_END:
            complete = !strcmp(e.body->end->reason, "completed");
            break;
        default:
            break;
        }
        tt_tlog_entry_fini(&e);
    }
    if (err)
        return err;
    if (complete && c->committed_step >= c->total_steps) {
        c->state = COORD_RUN_DONE;
        return TT_OK;
    }
    if (keep < n) {
        TT_LOG_INFO("resume: cutting %llu records after step %u", (unsigned long long)(n - keep),
                    c->committed_step);
        err = tt_tlog_truncate(c->log, keep);
        if (err)
            *errmsg =
                tt_asprintf("%s: cannot cut the tail: %s", tt_tlog_path(c->log), tt_strerror(err));
    }
    TT_LOG_INFO("resuming after step %u of %u", c->committed_step, c->total_steps);
    return err;
}
