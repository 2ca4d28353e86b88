/*  coord_step -- one world step: begin, judge interventions, dispatch, collect,
 *  commit.
 *
 *  Parallel mode: every agent's input is taken when the step begins (the same
 *  pre-step world for all), agents act with at most max_concurrency at once, and
 *  nothing is routed until all have answered; the StepCommit lists agents in
 *  index order, so arrival order never reaches the log. Sequential mode: a
 *  seeded order, one agent at a time, each agent's input taken when it is its
 *  turn and its actions routed at once, so later agents hear earlier ones.
 */
#define _GNU_SOURCE   /* strcasestr */
#define TT_LOG_MODULE "step"
#include "coord.h"

#include <strings.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_repair.h"
#include "tt_rng.h"
#include "tt_time.h"
#include "tt_wire.h"

static void s_commit(coord_t *c);
static void s_after_judging(coord_t *c);
static tt_err_t s_stream_parts(coord_t *c);

/* ------------------------------------------------------------------ interventions */

typedef struct {
    coord_t *c;
    size_t index;
} s_judge_tag_t;

static bool
s_action_matches(coord_t *c, const char *text)
{
    /* actions of the last committed step */
    if (c->committed_step == 0)
        return false;
    Tt__RecordBody *body = NULL;
    bool hit = false;
    for (size_t i = 0; i < c->n_agents && !hit; i++) {
        char *dt = NULL;
        const Tt__AgentStep *as =
            coord_record_agent_step(c, c->committed_step, (uint32_t)i, &body, &dt);
        for (size_t k = 0; as && k < as->n_actions && !hit; k++)
            hit = strcasestr(as->actions[k]->content, text) != NULL;
        tt_wire_free_body(&body);
    }
    return hit;
}

static json_t *
s_judge_messages(coord_t *c, const coord_intervention_t *iv)
{
    tt_buf_t b;
    tt_buf_init(&b, 1 << 20);
    tt_buf_addf(&b, "Proposition: %s\n\nWhat happened in the last step:\n", iv->text);
    Tt__RecordBody *body = NULL;
    for (size_t i = 0; c->committed_step && i < c->n_agents; i++) {
        char *dt = NULL;
        const Tt__AgentStep *as =
            coord_record_agent_step(c, c->committed_step, (uint32_t)i, &body, &dt);
        for (size_t k = 0; as && k < as->n_actions; k++)
            if (strcmp(as->actions[k]->type, "DONE"))
                tt_buf_addf(&b, "- %s [%s]%s%s: %s\n", c->agents[i].name, as->actions[k]->type,
                            as->actions[k]->target && *as->actions[k]->target ? " to " : "",
                            as->actions[k]->target ? as->actions[k]->target : "",
                            as->actions[k]->content);
        tt_wire_free_body(&body);
    }
    json_t *m = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
                          "You judge whether a proposition about a simulation is true, from "
                          "what happened. Answer with JSON: {\"value\": true or false, "
                          "\"justification\": TEXT}.",
                          "role", "user", "content", tt_buf_str(&b));
    tt_buf_fini(&b);
    return m;
}

static tt_err_t
s_check_judgement(const json_t *root, const void *arg, json_t **parsed, char **why)
{
    (void)arg;
    (void)parsed; /* keep the answer as it is */
    if (!json_is_boolean(json_object_get(root, "value"))) {
        *why = tt_strdup("\"value\" must be true or false");
        return TT_ELLM;
    }
    return TT_OK;
}

static void
s_fire(coord_t *c, size_t index, const tt_llm_result_t *judged)
{
    const coord_intervention_t *iv = &c->scenario->interventions[index];
    c->intervention_fired[index] = true;
    coord_world_intervene(c->world, iv);
    json_array_append_new(c->fired_now, json_string(iv->name));
    Tt__Intervention rec = TT__INTERVENTION__INIT;
    rec.step = c->step;
    rec.name = iv->name;
    size_t n_targets = iv->n_targets ? iv->n_targets : c->n_agents;
    char **targets = tt_calloc(n_targets + 1, sizeof(char *));
    for (size_t i = 0; i < n_targets; i++)
        targets[i] = (char *)c->agents[iv->n_targets ? iv->targets[i] : i].name;
    rec.n_targets = n_targets;
    rec.targets = targets;
    Tt__Stimulus effect = TT__STIMULUS__INIT;
    effect.type = iv->stimulus;
    effect.content = iv->content;
    effect.source = iv->source;
    Tt__Stimulus *effects[] = {&effect};
    rec.n_effects = 1;
    rec.effects = effects;
    Tt__Exchange x = TT__EXCHANGE__INIT;
    Tt__Exchange *xs[] = {&x};
    Tt__ExchangeTelemetry xt = TT__EXCHANGE_TELEMETRY__INIT;
    Tt__ExchangeTelemetry *xts[] = {&xt};
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.has_unix_ms = true;
    tel.unix_ms = (uint64_t)tt_wall_ms();
    if (judged) {
        x.request_digest.data = (uint8_t *)judged->digest;
        x.request_digest.len = TT_SHA256_LEN;
        x.response = judged->content;
        x.purpose = "judge";
        rec.n_exchanges = 1;
        rec.exchanges = xs;
        rec.justification = (char *)tt_json_str(judged->parsed, "justification", "");
        xt.has_latency_ms = xt.has_attempts = xt.has_prompt_tokens = true;
        xt.has_completion_tokens = xt.has_replayed = true;
        xt.latency_ms = judged->latency_ms;
        xt.attempts = judged->attempts;
        xt.prompt_tokens = judged->prompt_tokens;
        xt.completion_tokens = judged->completion_tokens;
        xt.replayed = judged->replayed;
        tel.n_exchanges = 1;
        tel.exchanges = xts;
    }
    coord_record_intervention(c, &rec, &tel);
    coord_transcript_intervention(c->transcript, &rec);
    free(targets);
}

static void
s_judge(coord_t *c, size_t index)
{
    const coord_intervention_t *iv = &c->scenario->interventions[index];
    if (!c->llm) {
        tt_err_t err = tt_llm_new(&c->config, &c->llm);
        if (err) {
            coord_fail(c, "cannot start the LLM client: %s", tt_strerror(err));
            return;
        }
        zloop_reader(c->loop, tt_llm_pipe(c->llm), coord_step_on_judgement, c);
    }
    json_t *msgs = s_judge_messages(c, iv);
    json_t *schema =
        json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:[s,s], s:b}", "type", "object", "properties",
                  "value", "type", "boolean", "justification", "type", "string", "required",
                  "value", "justification", "additionalProperties", 0);
    tt_llm_request_t *req = tt_llm_request_chat("judge", msgs, "proposition", schema);
    json_decref(msgs);
    json_decref(schema);
    tt_llm_request_set_checker(req, s_check_judgement, NULL);
    tt_llm_request_set_seed(req, c->scenario->seed);
    uint8_t digest[TT_SHA256_LEN];
    tt_llm_request_digest(c->llm, req, digest);
    const char *recorded = c->replay ? coord_replay_judgement(c->replay, digest) : NULL;
    if (recorded) {
        tt_llm_result_t *r = tt_llm_result_replay(c->llm, &req, recorded);
        if (!r->err && json_is_true(json_object_get(r->parsed, "value")))
            s_fire(c, index, r);
        tt_llm_result_destroy(&r);
        return;
    }
    c->pending_judgements++;
    tt_llm_submit(c->llm, &req, (void *)(uintptr_t)(index + 1));
}

int
coord_step_on_judgement(zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    (void)pipe;
    coord_t *c = arg;
    void *tag = NULL;
    tt_llm_result_t *r = tt_llm_recv(c->llm, &tag);
    if (tag == COORD_SESSION_LLM_TAG) {
        coord_session_on_judgement(c, r);
        tt_llm_result_destroy(&r);
        coord_batch_flush(c);
        return 0;
    }
    size_t index = (size_t)(uintptr_t)tag - 1;
    c->llm_calls++;
    if (r->err)
        TT_LOG_WARN("intervention \"%s\": the judgement failed: %s",
                    c->scenario->interventions[index].name,
                    r->error_text ? r->error_text : tt_strerror(r->err));
    else if (json_is_true(json_object_get(r->parsed, "value")))
        s_fire(c, index, r);
    tt_llm_result_destroy(&r);
    if (c->pending_judgements && --c->pending_judgements == 0 && c->state == COORD_RUN_JUDGING)
        s_after_judging(c);
    coord_batch_flush(c);
    return 0;
}

static void
s_interventions(coord_t *c)
{
    for (size_t i = 0; i < c->scenario->n_interventions; i++) {
        const coord_intervention_t *iv = &c->scenario->interventions[i];
        switch (iv->when) {
        case COORD_WHEN_STEP:
            if (c->step == iv->n)
                s_fire(c, i, NULL);
            break;
        case COORD_WHEN_EVERY:
            if (c->step % iv->n == 0)
                s_fire(c, i, NULL);
            break;
        case COORD_WHEN_ACTION:
            if ((iv->repeat || !c->intervention_fired[i]) && s_action_matches(c, iv->text))
                s_fire(c, i, NULL);
            break;
        case COORD_WHEN_PROPOSITION:
            if ((iv->repeat || !c->intervention_fired[i]) && c->committed_step > 0)
                s_judge(c, i);
            break;
        }
    }
}

/* ------------------------------------------------------------------ begin, dispatch */

void
coord_step_begin(coord_t *c)
{
    c->step = c->committed_step + 1;
    c->step_started_ms = tt_now_ms();
    c->rate_limited = 0;
    c->step_frames_out = c->step_frames_in = 0;
    json_array_clear(c->fired_now);
    if (c->session)
        coord_session_begin_step(c);
    else
        coord_world_begin_step(c->world);
    c->state = COORD_RUN_JUDGING;
    s_interventions(c);
    if (c->pending_judgements == 0 && c->state == COORD_RUN_JUDGING)
        s_after_judging(c);
}

static void
s_after_judging(coord_t *c)
{
    c->state = COORD_RUN_STEPPING;
    if (c->session) {
        c->n_order = coord_session_acting(c, c->order);
    } else {
        c->n_order = c->n_agents;
        for (size_t i = 0; i < c->n_agents; i++)
            c->order[i] = (uint32_t)i;
    }
    if (c->scenario->mode == COORD_MODE_SEQUENTIAL) {
        tt_rng_t rng;
        tt_rng_seed(&rng, c->scenario->seed * 1000003u + c->step);
        tt_rng_shuffle(&rng, c->order, c->n_order);
    }
    c->order_next = 0;
    c->owing = c->n_order;
    c->scan_from = 0;
    coord_record_parts_reset(c);
    for (size_t k = 0; k < c->n_order; k++) {
        uint32_t i = c->order[k];
        coord_agent_t *a = &c->agents[i];
        a->must_act = true;
        a->status = "ok";
        if (c->scenario->mode == COORD_MODE_PARALLEL)
            a->input = coord_world_take_input(c->world, (uint32_t)i);
    }
    coord_step_dispatch(c);
}

static void
s_send_step(coord_t *c, coord_agent_t *a)
{
    if (!a->input)
        a->input = coord_world_take_input(c->world, a->index);
    Tt__Step st = TT__STEP__INIT;
    st.step = c->step;
    st.datetime = (char *)coord_world_datetime(c->world);
    st.input = a->input;
    size_t n = 0;
    Tt__Exchange **rec = c->replay ? coord_replay_exchanges(c->replay, c->step, a->name, &n) : NULL;
    st.n_recorded = n;
    st.recorded = rec;
    a->state = COORD_AGENT_ACTING;
    a->dispatched_ms = tt_now_ms();
    c->in_flight++;
    coord_batch_send_step(c, a, &st);
    coord_replay_free_exchanges(rec, n);
}

/* An agent answered, or timed out: it no longer owes this step. */
static void
s_settled(coord_t *c, coord_agent_t *a)
{
    a->must_act = false;
    a->state = COORD_AGENT_ANSWERED;
    if (c->owing)
        c->owing--;
    if (c->in_flight)
        c->in_flight--;
}

/* Dispatch in order while under the concurrency cap. An agent that is not
 * ready yet (being placed) is skipped and dispatched later, which never
 * changes what is committed. The cursor keeps this linear over a step: it
 * passes only agents that are acting or have answered. */
void
coord_step_dispatch(coord_t *c)
{
    if (c->state != COORD_RUN_STEPPING)
        return;
    bool sequential = c->scenario->mode == COORD_MODE_SEQUENTIAL;
    /* PARALLEL_AGENT_ACTIONS=False: one agent acts at a time (in the same
     * order and with the same pre-step world, so the log is the same); a
     * concurrency of 0 is MAX_CONCURRENT_MODEL_CALLS=0 or NONE, no limit */
    size_t cap = sequential || !c->config.parallel_agent_actions ? 1 : c->max_concurrency;
    if (cap == 0)
        cap = SIZE_MAX;
    size_t n = c->n_order;
    while (c->scan_from < n) {
        const coord_agent_t *a = &c->agents[c->order[c->scan_from]];
        if (a->must_act && a->state != COORD_AGENT_ACTING)
            break;
        c->scan_from++;
    }
    for (size_t k = c->scan_from; k < n && c->in_flight < cap; k++) {
        coord_agent_t *a = &c->agents[c->order[k]];
        if (!a->must_act || a->state != COORD_AGENT_READY)
            continue;
        if (sequential && k != c->order_next)
            break;
        s_send_step(c, a);
    }
    tt_err_t err = s_stream_parts(c);
    if (err) {
        coord_fail(c, "cannot write the log: %s", tt_strerror(err));
        return;
    }
    if (c->owing == 0)
        s_commit(c);
}

void
coord_step_on_actions(coord_t *c, coord_agent_t *a, Tt__Actions **mp)
{
    if ((*mp)->step != c->step || !a->must_act) {
        TT_LOG_DEBUG("%s: answer for step %u while at %u: dropped", a->name, (*mp)->step, c->step);
        return;
    }
    a->answer = *mp;
    *mp = NULL;
    s_settled(c, a);
    const Tt__Actions *m = a->answer;
    if (m->error)
        a->status = "failed";
    if (m->divergence && !c->divergence_reported) {
        c->divergence_reported = true;
        c->divergence = tt_strdup(m->divergence);
        TT_LOG_WARN("replay diverged: %s", m->divergence);
        if (!c->opts.quiet)
            fprintf(stderr, "troupe: replay diverged at %s\n", m->divergence);
    }
    for (size_t i = 0; i < m->n_telemetry; i++) {
        const Tt__ExchangeTelemetry *t = m->telemetry[i];
        c->llm_calls += !t->replayed && !t->cached;
        c->tokens += t->prompt_tokens + t->completion_tokens;
        c->rate_limited += t->rate_limited;
    }
    if (c->scenario->mode == COORD_MODE_SEQUENTIAL) {
        coord_world_route(c->world, a->index, m->actions, m->n_actions);
        c->order_next++;
    }
    coord_step_dispatch(c);
}

/* Deadlines: an agent that takes longer than STEP_TIMEOUT_S fails the step. */
void
coord_step_tick(coord_t *c)
{
    if (c->state != COORD_RUN_STEPPING)
        return;
    int64_t now = tt_now_ms();
    for (size_t i = 0; i < c->n_agents; i++) {
        coord_agent_t *a = &c->agents[i];
        if (a->state != COORD_AGENT_ACTING ||
            now - a->dispatched_ms < (int64_t)c->config.step_timeout_s * 1000)
            continue;
        TT_LOG_WARN("%s: no answer to step %u after %d s: timed out", a->name, c->step,
                    c->config.step_timeout_s);
        a->status = "timeout";
        s_settled(c, a);
        a->reset_after_commit = true;
        if (c->scenario->mode == COORD_MODE_SEQUENTIAL)
            c->order_next++;
    }
    coord_step_dispatch(c);
}

/* ------------------------------------------------------------------ commit */

static Tt__AgentStep *
s_agent_step(coord_agent_t *a)
{
    Tt__AgentStep *as = tt_new(Tt__AgentStep);
    tt__agent_step__init(as);
    as->agent = a->index;
    as->input = a->input;
    as->status = (char *)a->status;
    const Tt__Actions *m = a->answer;
    if (m && !strcmp(a->status, "ok")) {
        as->n_actions = m->n_actions;
        as->actions = m->actions;
        as->cognitive_state = m->cognitive_state;
    }
    if (m) {
        as->n_exchanges = m->n_exchanges;
        as->exchanges = m->exchanges;
        as->error = m->error;
    }
    if (!strcmp(a->status, "timeout"))
        as->error = "no answer before the step deadline";
    return as;
}

static Tt__AgentTelemetry *
s_agent_telemetry(const coord_agent_t *a)
{
    Tt__AgentTelemetry *t = tt_new(Tt__AgentTelemetry);
    tt__agent_telemetry__init(t);
    t->agent = a->index;
    if (a->answer) {
        t->has_busy_ms = a->answer->has_busy_ms;
        t->busy_ms = a->answer->busy_ms;
        t->n_exchanges = a->answer->n_telemetry;
        t->exchanges = a->answer->telemetry;
    }
    return t;
}

/* Hand the log the StepCommit's entries of the agents that have settled, in
 * the record's order, as far as no agent before them still owes the step: an
 * entry never changes once its agent has settled, so the Parts written are
 * the same whenever the answers came (and the answers stay in memory until
 * the commit, which routes and transcribes them). */
static tt_err_t
s_stream_parts(coord_t *c)
{
    tt_err_t err = TT_OK;
    while (!err && c->parts.encoded < c->n_order) {
        coord_agent_t *a = &c->agents[c->order[c->parts.encoded]];
        if (a->must_act)
            break;
        Tt__AgentStep *as = s_agent_step(a);
        err = coord_record_part(c, 3, &as->base, s_agent_telemetry(a));
        free(as);
    }
    return err;
}

static void
s_commit(coord_t *c)
{
    /* parallel mode: order is ascending, so agents go in index order */
    size_t n = c->n_order;
    bool sequential = c->scenario->mode == COORD_MODE_SEQUENTIAL;
    Tt__AgentStep **steps = tt_calloc(n + 1, sizeof *steps);
    Tt__AgentTelemetry **tels = tt_calloc(n + 1, sizeof *tels);
    for (size_t k = 0; k < n; k++) {
        coord_agent_t *a = &c->agents[c->order[k]];
        steps[k] = s_agent_step(a);
        tels[k] = s_agent_telemetry(a);
    }
    Tt__StepCommit sc = TT__STEP_COMMIT__INIT;
    sc.step = c->step;
    sc.datetime = (char *)coord_world_datetime(c->world);
    sc.n_agents = n;
    sc.agents = steps;
    if (c->session)
        coord_session_label(c, &sc);
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.has_unix_ms = tel.has_wall_ms = true;
    tel.unix_ms = (uint64_t)tt_wall_ms();
    tel.wall_ms = (uint32_t)(tt_now_ms() - c->step_started_ms);
    tel.n_agents = n;
    tel.agents = tels;
    tel.has_frames_out = tel.has_frames_in = true;
    tel.frames_out = c->step_frames_out;
    tel.frames_in = c->step_frames_in;
    tt_err_t err = coord_record_step(c, &sc, &tel);
    if (!err) {
        /* deliver: parallel mode routes only now, in index order */
        if (!sequential)
            for (size_t k = 0; k < n; k++)
                if (steps[k]->n_actions)
                    coord_world_route(c->world, steps[k]->agent, steps[k]->actions,
                                      steps[k]->n_actions);
        char **names = tt_calloc(c->n_agents + 1, sizeof(char *));
        for (size_t i = 0; i < c->n_agents; i++)
            names[i] = (char *)c->agents[i].name;
        coord_progress_clear(c);
        coord_transcript_step(c->transcript, &sc, c->total_steps, names, c->n_agents,
                              c->config.max_content_display_length);
        free(names);
        coord_results_add_step(c->results, &sc, &tel);
    }
    if (!err && c->session)
        coord_session_on_commit(c, &sc);
    for (size_t k = 0; k < n; k++) {
        free(steps[k]);
        free(tels[k]);
    }
    free(steps);
    free(tels);
    for (size_t k = 0; k < n; k++) {
        coord_agent_t *a = &c->agents[c->order[k]];
        coord_world_input_free(&a->input);
        tt_wire_free_actions(&a->answer);
        if (a->state == COORD_AGENT_ANSWERED)
            a->state = COORD_AGENT_READY;
        if (a->reset_after_commit) {
            /* cancel its turn by reassigning the slot; it rebuilds this step */
            a->reset_after_commit = false;
            if (a->peer >= 0 && a->state == COORD_AGENT_READY)
                coord_place_unplace(c, a);
        }
    }
    if (err) {
        coord_fail(c, "cannot write the log: %s", tt_strerror(err));
        return;
    }
    c->committed_step = c->step;
    if (!coord_check_transcript(c))
        return;
    for (size_t i = 0; i < c->scenario->n_checkpoints; i++)
        if (c->scenario->checkpoints[i].step == c->step)
            coord_record_checkpoint(c, c->scenario->checkpoints[i].name);
    if (c->checkpoint_requested) {
        c->checkpoint_requested = false;
        coord_record_checkpoint(c, "SIGUSR1");
    }
    coord_place_unplaced(c);
    if (c->session) {
        coord_session_after_commit(c);
        return;
    }
    if (c->committed_step >= c->total_steps) {
        c->state = COORD_RUN_DONE;
        return;
    }
    if (coord_place_all_ready(c))
        coord_step_begin(c);
    else
        c->state = COORD_RUN_PLACING;
}
