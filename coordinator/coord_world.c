/*  coord_world -- clock, inboxes, reachability and routing.
 *
 *  Reachability is never a matrix: "everyone" is a flag, a social network is a
 *  short adjacency list per agent, and REACH_OUT adds to a per-agent contact
 *  list. That keeps a 10,000-agent world at a few hundred bytes per agent.
 */
#define TT_LOG_MODULE "world"
#include "coord_world.h"

#include <string.h>

#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"

#define S_RECENT 8

typedef struct {
    char *type;
    char *content;
    char *source;
} s_stimulus_t;

typedef struct {
    s_stimulus_t inbox[COORD_MAX_INBOX];
    uint32_t n_inbox;
    char *location;
    json_t *context;   /* pending context change, or NULL */
    uint32_t *related; /* network relations (static) */
    uint32_t n_related;
    uint32_t *contacts; /* reached through REACH_OUT */
    uint32_t n_contacts;
    uint32_t recent[S_RECENT]; /* latest interlocutors, most recent first */
    uint32_t n_recent;
} s_agent_t;

struct coord_world {
    const coord_scenario_t *s;
    uint32_t step;
    int64_t now;
    char datetime[TT_DATETIME_LEN];
    s_agent_t *agents;
    size_t n;
    uint64_t dropped;
};

static bool
s_has(const uint32_t *list, uint32_t n, uint32_t x)
{
    for (uint32_t i = 0; i < n; i++)
        if (list[i] == x)
            return true;
    return false;
}

static void
s_push(uint32_t **list, uint32_t *n, uint32_t x)
{
    if (s_has(*list, *n, x))
        return;
    *list = tt_realloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = x;
}

static void
s_touch_recent(s_agent_t *a, uint32_t who)
{
    uint32_t i = 0;
    while (i < a->n_recent && a->recent[i] != who)
        i++;
    if (i == a->n_recent) {
        /* not there yet: take a new slot, or the oldest one when full */
        if (a->n_recent < S_RECENT)
            a->n_recent++;
        i = a->n_recent - 1;
    }
    memmove(&a->recent[1], &a->recent[0], i * sizeof a->recent[0]);
    a->recent[0] = who;
}

coord_world_t *
coord_world_new(const coord_scenario_t *s)
{
    coord_world_t *w = tt_new(coord_world_t);
    w->s = s;
    w->n = s->n_agents;
    w->now = s->start;
    tt_datetime_format(w->now, w->datetime);
    w->agents = tt_calloc(w->n, sizeof *w->agents);
    for (size_t r = 0; r < s->n_relations; r++) {
        uint32_t a = s->relations[2 * r], b = s->relations[2 * r + 1];
        if (a == b)
            continue;
        s_push(&w->agents[a].related, &w->agents[a].n_related, b);
        s_push(&w->agents[b].related, &w->agents[b].n_related, a);
    }
    return w;
}

static void
s_clear_inbox(s_agent_t *a)
{
    for (uint32_t i = 0; i < a->n_inbox; i++) {
        free(a->inbox[i].type);
        free(a->inbox[i].content);
        free(a->inbox[i].source);
    }
    a->n_inbox = 0;
}

void
coord_world_destroy(coord_world_t **self_p)
{
    coord_world_t *w = *self_p;
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++) {
        s_agent_t *a = &w->agents[i];
        s_clear_inbox(a);
        free(a->location);
        json_decref(a->context);
        free(a->related);
        free(a->contacts);
    }
    free(w->agents);
    free(w);
    *self_p = NULL;
}

uint32_t
coord_world_step(const coord_world_t *w)
{
    return w->step;
}

int64_t
coord_world_now(const coord_world_t *w)
{
    return w->now;
}

const char *
coord_world_datetime(const coord_world_t *w)
{
    return w->datetime;
}

void
coord_world_deliver(coord_world_t *w, uint32_t agent, const char *type, const char *content,
                    const char *source)
{
    TT_ASSERT(agent < w->n);
    s_agent_t *a = &w->agents[agent];
    if (a->n_inbox >= COORD_MAX_INBOX) {
        w->dropped++;
        TT_LOG_DEBUG("inbox of %s full: dropping a %s stimulus",
                     tt_persona_name(w->s->agents[agent].persona), type);
        return;
    }
    s_stimulus_t *st = &a->inbox[a->n_inbox++];
    st->type = tt_strdup(type);
    st->content = tt_strdup(content);
    st->source = tt_strdup(source ? source : "");
}

static const char *
s_name(const coord_world_t *w, uint32_t i)
{
    return tt_persona_name(w->s->agents[i].persona);
}

/* Deliver to targets, or to everyone but the source when there are none. */
static void
s_deliver_many(coord_world_t *w, const uint32_t *targets, size_t n_targets, const char *type,
               const char *content, const char *source)
{
    long skip = source && *source ? coord_scenario_find(w->s, source) : -1;
    if (n_targets) {
        for (size_t i = 0; i < n_targets; i++)
            coord_world_deliver(w, targets[i], type, content, source);
        return;
    }
    for (uint32_t i = 0; i < w->n; i++)
        if ((long)i != skip)
            coord_world_deliver(w, i, type, content, source);
}

void
coord_world_set_context(coord_world_t *w, uint32_t agent, json_t *context)
{
    TT_ASSERT(agent < w->n);
    s_agent_t *a = &w->agents[agent];
    json_decref(a->context);
    a->context = json_incref(context);
}

void
coord_world_move(coord_world_t *w, uint32_t agent, const char *location)
{
    TT_ASSERT(agent < w->n);
    s_agent_t *a = &w->agents[agent];
    free(a->location);
    a->location = tt_strdup(location);
    char *text = tt_asprintf("You are now at %s.", location);
    coord_world_deliver(w, agent, "LOCATION", text, "");
    free(text);
}

static void
s_apply_event(coord_world_t *w, const coord_event_t *e)
{
    switch (e->kind) {
    case COORD_EVENT_STIMULUS:
        s_deliver_many(w, e->targets, e->n_targets, e->stimulus, e->content, e->source);
        break;
    case COORD_EVENT_CONTEXT:
    case COORD_EVENT_MOVE:
        for (uint32_t k = 0; k < (e->n_targets ? e->n_targets : w->n); k++) {
            uint32_t i = e->n_targets ? e->targets[k] : k;
            if (e->context)
                coord_world_set_context(w, i, e->context);
            if (e->kind == COORD_EVENT_MOVE)
                coord_world_move(w, i, e->location);
        }
        break;
    }
}

void
coord_world_begin_step(coord_world_t *w)
{
    coord_world_begin_step_at(w, w->now + w->s->step_seconds);
}

void
coord_world_begin_step_at(coord_world_t *w, int64_t now)
{
    w->step++;
    coord_world_set_clock(w, now);
    for (size_t i = 0; i < w->s->n_events; i++)
        if (w->s->events[i].step == w->step)
            s_apply_event(w, &w->s->events[i]);
}

void
coord_world_set_clock(coord_world_t *w, int64_t now)
{
    w->now = now;
    tt_datetime_format(w->now, w->datetime);
}

void
coord_world_add_agent(coord_world_t *w)
{
    TT_ASSERT(w->n + 1 == w->s->n_agents);
    w->agents = tt_realloc(w->agents, (w->n + 1) * sizeof *w->agents);
    memset(&w->agents[w->n], 0, sizeof w->agents[w->n]);
    w->n++;
}

void
coord_world_connect(coord_world_t *w, uint32_t a, uint32_t b)
{
    TT_ASSERT(a < w->n && b < w->n);
    if (a == b)
        return;
    s_push(&w->agents[a].contacts, &w->agents[a].n_contacts, b);
    s_push(&w->agents[b].contacts, &w->agents[b].n_contacts, a);
}

void
coord_world_skip(coord_world_t *w, uint32_t n)
{
    w->now += (int64_t)n * w->s->step_seconds;
    tt_datetime_format(w->now, w->datetime);
}

void
coord_world_intervene(coord_world_t *w, const coord_intervention_t *iv)
{
    s_deliver_many(w, iv->targets, iv->n_targets, iv->stimulus, iv->content, iv->source);
}

bool
coord_world_can_reach(const coord_world_t *w, uint32_t from, uint32_t to)
{
    if (from == to)
        return false;
    const s_agent_t *a = &w->agents[from];
    if (s_has(a->contacts, a->n_contacts, to))
        return true;
    switch (w->s->access) {
    case COORD_ACCESS_EVERYONE:
        return true;
    case COORD_ACCESS_NETWORK:
        return s_has(a->related, a->n_related, to);
    case COORD_ACCESS_NONE:
        return false;
    }
    return false;
}

/* Names listed in the prompt: recent interlocutors, contacts, relations, then
 * (when everyone is reachable) the agents after this one in index order. */
static void
s_fill_accessible(const coord_world_t *w, uint32_t agent, Tt__StepInput *in)
{
    const s_agent_t *a = &w->agents[agent];
    uint32_t chosen[COORD_MAX_ACCESSIBLE];
    uint32_t n = 0;
#define S_TAKE(x)                                                                                  \
    do {                                                                                           \
        uint32_t x_ = (x);                                                                         \
        if (n < COORD_MAX_ACCESSIBLE && coord_world_can_reach(w, agent, x_) &&                     \
            !s_has(chosen, n, x_))                                                                 \
            chosen[n++] = x_;                                                                      \
    } while (0)
    for (uint32_t i = 0; i < a->n_recent; i++)
        S_TAKE(a->recent[i]);
    for (uint32_t i = 0; i < a->n_contacts; i++)
        S_TAKE(a->contacts[i]);
    for (uint32_t i = 0; i < a->n_related; i++)
        S_TAKE(a->related[i]);
    if (w->s->access == COORD_ACCESS_EVERYONE)
        for (uint32_t k = 1; k < w->n && n < COORD_MAX_ACCESSIBLE; k++)
            S_TAKE((uint32_t)((agent + k) % w->n));
#undef S_TAKE
    size_t reachable = 0;
    if (w->s->access == COORD_ACCESS_EVERYONE) {
        reachable = w->n - 1;
    } else {
        for (uint32_t i = 0; i < a->n_related; i++)
            reachable++;
        for (uint32_t i = 0; i < a->n_contacts; i++)
            reachable += !s_has(a->related, a->n_related, a->contacts[i]);
    }
    in->n_accessible = n;
    in->accessible = tt_calloc(n + 1, sizeof(char *));
    for (uint32_t i = 0; i < n; i++)
        in->accessible[i] = tt_strdup(s_name(w, chosen[i]));
    if (reachable > n) {
        in->has_more_accessible = true;
        in->more_accessible = (uint32_t)(reachable - n);
    }
}

Tt__StepInput *
coord_world_take_input(coord_world_t *w, uint32_t agent)
{
    s_agent_t *a = &w->agents[agent];
    Tt__StepInput *in = tt_new(Tt__StepInput);
    tt__step_input__init(in);
    in->n_stimuli = a->n_inbox;
    in->stimuli = tt_calloc(a->n_inbox + 1, sizeof(Tt__Stimulus *));
    for (uint32_t i = 0; i < a->n_inbox; i++) {
        Tt__Stimulus *st = tt_new(Tt__Stimulus);
        tt__stimulus__init(st);
        st->type = a->inbox[i].type;
        st->content = a->inbox[i].content;
        st->source = a->inbox[i].source;
        in->stimuli[i] = st;
    }
    a->n_inbox = 0; /* ownership of the strings moved into the input */
    s_fill_accessible(w, agent, in);
    if (a->location)
        in->location = tt_strdup(a->location);
    if (a->context) {
        in->has_has_context = in->has_context = true;
        in->n_context = json_array_size(a->context);
        in->context = tt_calloc(in->n_context + 1, sizeof(char *));
        for (size_t i = 0; i < in->n_context; i++) {
            const char *c = json_string_value(json_array_get(a->context, i));
            in->context[i] = tt_strdup(c ? c : "");
        }
        json_decref(a->context);
        a->context = NULL;
    }
    return in;
}

void
coord_world_input_free(Tt__StepInput **input)
{
    Tt__StepInput *in = *input;
    if (!in)
        return;
    for (size_t i = 0; i < in->n_stimuli; i++) {
        free(in->stimuli[i]->type);
        free(in->stimuli[i]->content);
        free(in->stimuli[i]->source);
        free(in->stimuli[i]);
    }
    free(in->stimuli);
    for (size_t i = 0; i < in->n_accessible; i++)
        free(in->accessible[i]);
    free(in->accessible);
    for (size_t i = 0; i < in->n_context; i++)
        free(in->context[i]);
    free(in->context);
    free(in->location);
    free(in);
    *input = NULL;
}

static void
s_social(coord_world_t *w, uint32_t agent, char *text)
{
    coord_world_deliver(w, agent, "SOCIAL", text, "");
    free(text);
}

static void
s_talk(coord_world_t *w, uint32_t from, const Tt__Action *act)
{
    const char *target = act->target ? act->target : "";
    long to = *target ? coord_scenario_find(w->s, target) : -1;
    const char *me = s_name(w, from);
    if (to == (long)from)
        return;
    if (to >= 0) {
        if (!coord_world_can_reach(w, from, (uint32_t)to) && w->s->refuse_inaccessible) {
            s_social(w, from,
                     tt_asprintf("%s cannot hear you: you cannot reach them. Use REACH_OUT "
                                 "first.",
                                 target));
            return;
        }
        coord_world_deliver(w, (uint32_t)to, "CONVERSATION", act->content, me);
        s_touch_recent(&w->agents[to], from);
        s_touch_recent(&w->agents[from], (uint32_t)to);
        return;
    }
    if (!w->s->broadcast_if_no_target)
        return;
    for (uint32_t i = 0; i < w->n; i++)
        if (i != from && coord_world_can_reach(w, from, i))
            coord_world_deliver(w, i, "CONVERSATION", act->content, me);
}

static void
s_reach_out(coord_world_t *w, uint32_t from, const Tt__Action *act)
{
    const char *target = act->target ? act->target : "";
    long to = coord_scenario_find(w->s, target);
    if (to < 0 || to == (long)from) {
        s_social(w, from,
                 tt_asprintf("There is nobody called \"%s\" here to reach out to.", target));
        return;
    }
    s_agent_t *a = &w->agents[from], *b = &w->agents[to];
    if (w->s->access == COORD_ACCESS_NETWORK && !s_has(a->related, a->n_related, (uint32_t)to)) {
        s_social(w, from,
                 tt_asprintf("You could not reach %s: you are not connected to them.", target));
        return;
    }
    s_push(&a->contacts, &a->n_contacts, (uint32_t)to);
    s_push(&b->contacts, &b->n_contacts, from);
    s_touch_recent(a, (uint32_t)to);
    s_touch_recent(b, from);
    s_social(
        w, from,
        tt_asprintf("You reached out to %s, who is now available for you to talk to.", target));
    s_social(w, (uint32_t)to,
             tt_asprintf("%s reached out to you and is now available for you to talk to.",
                         s_name(w, from)));
}

void
coord_world_route(coord_world_t *w, uint32_t agent, Tt__Action *const *actions, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const Tt__Action *act = actions[i];
        if (!strcmp(act->type, "TALK"))
            s_talk(w, agent, act);
        else if (!strcmp(act->type, "REACH_OUT"))
            s_reach_out(w, agent, act);
    }
}

uint64_t
coord_world_dropped(const coord_world_t *w)
{
    return w->dropped;
}
