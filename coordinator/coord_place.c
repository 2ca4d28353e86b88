/*  coord_place -- putting agents on slots and bringing their memory up to date.
 *
 *  Placement is the coordinator's: unplaced agents go, in index order, to the
 *  free slots of live peers in registration order. Each (re)assignment bumps
 *  the agent's incarnation. The agent answers with the step its memory holds
 *  (after rolling back anything the log does not have); every step it lacks is
 *  replayed to it from the log with the recorded model answers -- no model
 *  calls -- one step at a time. Only then is it READY.
 */
#define TT_LOG_MODULE "place"
#include "coord.h"

#include <string.h>

#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"
#include "tt_wire.h"

static void s_rebuild_next(coord_t *c, coord_agent_t *a);

static void
s_assign(coord_t *c, coord_agent_t *a, coord_peer_t *p, uint32_t slot)
{
    a->peer = p - c->peers;
    a->slot = slot;
    a->incarnation++;
    a->state = COORD_AGENT_ASSIGNING;
    a->placed_ms = tt_now_ms();
    p->slot_agent[slot] = a->index + 1;
    const coord_agent_spec_t *spec = &c->scenario->agents[a->index];
    char *persona = tt_persona_spec_text(spec->persona);
    json_t *cfg = coord_scenario_agent_config(c->scenario, a->index);
    json_object_update(cfg, c->agent_config);
    char *cfg_text = tt_json_compact(cfg);
    json_decref(cfg);
    Tt__Assign as = TT__ASSIGN__INIT;
    as.slot = slot;
    as.name = (char *)a->name;
    as.persona_json = persona;
    as.agent_config_json = cfg_text;
    as.run_id.data = c->run_id;
    as.run_id.len = TT_SHA256_LEN;
    as.committed_step = c->committed_step;
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.body_case = TT__ENVELOPE__BODY_ASSIGN;
    env.assign = &as;
    coord_send(c, p, a->index + 1, a->incarnation, &env);
    free(persona);
    free(cfg_text);
}

void
coord_place_reassign(coord_t *c, coord_agent_t *a)
{
    TT_ASSERT(a->peer >= 0);
    if (a->state == COORD_AGENT_ACTING && c->in_flight)
        c->in_flight--;
    s_assign(c, a, &c->peers[a->peer], a->slot);
}

static int
s_on_place_more(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    coord_t *c = arg;
    c->placing_on = false;
    coord_place_unplaced(c);
    return 0;
}

void
coord_place_unplaced(coord_t *c)
{
    if (c->placing_on)
        return; /* a slice is due anyway */
    size_t next = 0, assigned = 0;
    for (size_t i = 0; i < c->n_peers; i++) {
        coord_peer_t *p = &c->peers[i];
        if (p->state != COORD_PEER_LIVE || !p->routing_id)
            continue;
        for (uint32_t s = 0; s < p->slots; s++) {
            if (p->slot_agent[s])
                continue;
            while (next < c->n_agents && c->agents[next].state != COORD_AGENT_UNPLACED)
                next++;
            if (next == c->n_agents)
                return;
            coord_agent_t *a = &c->agents[next];
            if (a->restarts > COORD_MAX_RESTARTS) {
                coord_fail(c,
                           "agent %s was restarted %u times: giving up (last agentd death: "
                           "%s; its errors are above)",
                           a->name, a->restarts, c->last_death[0] ? c->last_death : "?");
                return;
            }
            if (assigned++ == COORD_PLACE_SLICE && c->loop) {
                /* the rest on the next turn of the loop, after its reads */
                c->placing_on = zloop_timer(c->loop, 1, 1, s_on_place_more, c) >= 0;
                if (c->placing_on)
                    return;
            }
            s_assign(c, a, p, s);
            if (p->state != COORD_PEER_LIVE)
                break; /* the send found it dead */
        }
    }
}

void
coord_place_unplace(coord_t *c, coord_agent_t *a)
{
    if (a->state == COORD_AGENT_ACTING && c->in_flight)
        c->in_flight--;
    if (a->state == COORD_AGENT_ACTING || a->state == COORD_AGENT_ASSIGNING ||
        a->state == COORD_AGENT_REBUILDING || a->state == COORD_AGENT_READY)
        a->restarts++;
    if (a->peer >= 0) {
        coord_peer_t *p = &c->peers[a->peer];
        if (p->slot_agent && a->slot < p->slots && p->slot_agent[a->slot] == a->index + 1)
            p->slot_agent[a->slot] = 0;
    }
    a->peer = -1;
    a->state = COORD_AGENT_UNPLACED;
    TT_LOG_INFO("%s: unplaced (incarnation %u)", a->name, a->incarnation);
}

void
coord_place_tick(coord_t *c)
{
    int64_t limit = (int64_t)c->config.liveness_ms * COORD_PLACE_DEADLINE_LIVENESS;
    int64_t now = tt_now_ms();
    for (size_t i = 0; i < c->n_agents; i++) {
        coord_agent_t *a = &c->agents[i];
        if ((a->state != COORD_AGENT_ASSIGNING && a->state != COORD_AGENT_REBUILDING) ||
            a->peer < 0)
            continue;
        int64_t progress = c->peers[a->peer].progress_ms;
        if (now - (a->placed_ms > progress ? a->placed_ms : progress) <= limit)
            continue;
        /* it heartbeats but does not do its agents' work: hung or hostile */
        char why[160];
        snprintf(why, sizeof why, "no progress %s %s for %lld ms",
                 a->state == COORD_AGENT_ASSIGNING ? "assigning" : "rebuilding", a->name,
                 (long long)limit);
        coord_peer_dead(c, &c->peers[a->peer], why);
    }
}

bool
coord_place_all_ready(const coord_t *c)
{
    for (size_t i = 0; i < c->n_agents; i++)
        if (c->agents[i].state != COORD_AGENT_READY)
            return false;
    return true;
}

/* The agent's memory is up to date with the log: what next? */
static void
s_caught_up(coord_t *c, coord_agent_t *a)
{
    a->state = COORD_AGENT_READY;
    c->scan_from = 0; /* it may be owed a step the cursor has passed */
    if (c->state != COORD_RUN_STEPPING || a->input == NULL)
        return;
    if (a->answer) {
        /* it answered this step before its agentd died: bring the new memory
         * to the same point from the answer we hold, without a model call */
        const Tt__Actions *ans = a->answer;
        Tt__Step st = TT__STEP__INIT;
        st.step = c->step;
        st.datetime = (char *)coord_world_datetime(c->world);
        st.input = a->input;
        st.n_recorded = ans->n_exchanges;
        st.recorded = ans->exchanges;
        st.has_rebuild = st.rebuild = true;
        st.has_perceive_only = true;
        st.perceive_only = ans->error != NULL;
        a->state = COORD_AGENT_REBUILDING;
        a->placed_ms = tt_now_ms();
        a->memory_step = c->step - 1;
        coord_batch_send_step(c, a, &st);
        return;
    }
    if (a->must_act)
        coord_step_dispatch(c);
}

void
coord_place_on_assigned(coord_t *c, coord_agent_t *a, const Tt__Assigned *m)
{
    c->peers[a->peer].progress_ms = tt_now_ms();
    a->memory_step = m->last_committed_step;
    if (a->memory_step > c->committed_step) {
        coord_fail(c, "agent %s reports memory at step %u beyond the log's %u", a->name,
                   a->memory_step, c->committed_step);
        return;
    }
    if (a->memory_step < c->committed_step) {
        TT_LOG_INFO("%s: memory at step %u, log at %u: rebuilding from the log", a->name,
                    a->memory_step, c->committed_step);
        a->state = COORD_AGENT_REBUILDING;
        s_rebuild_next(c, a);
        return;
    }
    s_caught_up(c, a);
}

static void
s_rebuild_next(coord_t *c, coord_agent_t *a)
{
    uint32_t step = a->memory_step + 1;
    Tt__RecordBody *body = NULL;
    char *datetime = NULL;
    const Tt__AgentStep *as = coord_record_agent_step(c, step, a->index, &body, &datetime);
    Tt__StepInput empty = TT__STEP_INPUT__INIT;
    Tt__Step st = TT__STEP__INIT;
    st.step = step;
    st.datetime = datetime ? datetime : "";
    st.input = as ? as->input : &empty;
    st.n_recorded = as ? as->n_exchanges : 0;
    st.recorded = as ? as->exchanges : NULL;
    st.has_rebuild = st.rebuild = true;
    st.has_perceive_only = true;
    st.perceive_only = !as || !as->status || strcmp(as->status, "ok");
    a->placed_ms = tt_now_ms();
    coord_batch_send_step(c, a, &st);
    tt_wire_free_body(&body);
}

void
coord_place_on_rebuilt(coord_t *c, coord_agent_t *a, const Tt__Actions *m)
{
    c->peers[a->peer].progress_ms = tt_now_ms();
    if (m->step != a->memory_step + 1) {
        TT_LOG_DEBUG("%s: rebuild answer for step %u, expected %u: dropped", a->name, m->step,
                     a->memory_step + 1);
        return;
    }
    if (m->error)
        TT_LOG_WARN("%s: rebuilding step %u: %s", a->name, m->step, m->error);
    a->memory_step = m->step;
    if (a->memory_step < c->committed_step) {
        s_rebuild_next(c, a);
        return;
    }
    if (a->memory_step == c->step && a->answer) {
        /* caught up through the answer we held for the step in progress */
        a->state = COORD_AGENT_ANSWERED;
        coord_step_dispatch(c);
        return;
    }
    s_caught_up(c, a);
}
