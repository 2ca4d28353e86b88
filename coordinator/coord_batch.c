/*  coord_batch -- a step's work travels one frame per agentd each way.
 *
 *  Dispatch queues each agent's Step in its agentd's outbox (packed at once,
 *  so nothing is held but bytes); when the loop handler that dispatched
 *  returns, coord_batch_flush sends each outbox as one StepBatch frame, or as
 *  few as the frame limit allows. Answers come back as ActionsBatch frames
 *  whose items go, one by one, to the same per-agent handling a single answer
 *  would: the rebuild of a placed agent, or the step in progress. Liveness is
 *  apart from all of this: heartbeats are their own small frames, and any
 *  frame from a peer counts as word from it.
 *
 *  Agents are placed on slots in index order and dispatched in index order,
 *  so one agentd's Steps are added one after the other: when the next Step
 *  is for another agentd, the previous one's batch is complete and leaves at
 *  once, and that agentd works while the others' batches are made.
 *
 *  Per-agent order is kept: anything else sent to an agentd first flushes
 *  what is queued for it (coord_send), and the items of one agent are never
 *  reordered within a batch.
 */
#define TT_LOG_MODULE "batch"
#include "coord.h"

#include "tt_log.h"
#include "tt_mem.h"
#include "tt_wire.h"

void
coord_batch_send_step(coord_t *c, coord_agent_t *a, const Tt__Step *st)
{
    TT_ASSERT(a->peer >= 0 && (size_t)a->peer < c->n_peers);
    if (c->outbox_last >= 0 && c->outbox_last != a->peer)
        coord_batch_flush_peer(c, &c->peers[c->outbox_last]);
    c->outbox_last = a->peer;
    coord_peer_t *p = &c->peers[a->peer];
    if (p->state != COORD_PEER_LIVE || !p->routing_id)
        return; /* it is being declared dead: its agents are placed again */
    if (!p->outbox)
        p->outbox = tt_wire_batch_new(TT_WIRE_BATCH_STEPS, TT_WIRE_MAX_FRAME);
    tt_err_t err = tt_wire_batch_add_step(p->outbox, a->index + 1, a->incarnation, st);
    if (err) {
        /* tt_limits.h makes every Step fit a frame: this is a bug, said loudly */
        TT_LOG_ERROR("%s: the step does not fit a frame (%s): not sent", a->name, tt_strerror(err));
        return;
    }
    if (!p->outbox_listed) {
        p->outbox_listed = true;
        c->outbox_peers = tt_realloc(c->outbox_peers, (c->n_outbox_peers + 1) * sizeof(size_t));
        c->outbox_peers[c->n_outbox_peers++] = (size_t)a->peer;
    }
}

void
coord_batch_flush_peer(coord_t *c, coord_peer_t *p)
{
    if (!p->outbox || tt_wire_batch_items(p->outbox) == 0)
        return;
    if (p->state != COORD_PEER_LIVE || !p->routing_id) {
        tt_wire_batch_clear(p->outbox);
        return;
    }
    size_t frames = 0;
    tt_err_t err = tt_wire_batch_send(p->outbox, c->router, p->routing_id, &c->seq, &frames);
    c->step_frames_out += (uint32_t)frames;
    if (err == TT_EPEER)
        coord_peer_unreachable(c, p);
}

void
coord_batch_flush(coord_t *c)
{
    /* a peer declared dead while flushing only clears its own outbox */
    for (size_t i = 0; i < c->n_outbox_peers; i++) {
        coord_peer_t *p = &c->peers[c->outbox_peers[i]];
        p->outbox_listed = false;
        coord_batch_flush_peer(c, p);
    }
    c->n_outbox_peers = 0;
    c->outbox_last = -1;
}

/* One agent's answer, wherever it came from. */
static void
s_on_answer(coord_t *c, coord_agent_t *a, Tt__Actions **m)
{
    if (a->state == COORD_AGENT_REBUILDING)
        coord_place_on_rebuilt(c, a, *m);
    else if (a->state == COORD_AGENT_ACTING)
        coord_step_on_actions(c, a, m);
}

void
coord_batch_on_answers(coord_t *c, coord_peer_t *p, Tt__ActionsBatch *b)
{
    c->step_frames_in++;
    long peer = p - c->peers;
    for (size_t i = 0; i < b->n_items; i++) {
        Tt__ActionsBatch__Item *item = b->items[i];
        /* an earlier item may have found the peer dead (a send to it failed) */
        if (c->peers[peer].state != COORD_PEER_LIVE)
            break;
        coord_agent_t *a =
            coord_peers_agent_of(c, &c->peers[peer], item->agent, item->incarnation, "actions");
        if (a)
            s_on_answer(c, a, &item->actions); /* may take it: NULL is skipped when freed */
    }
}

void
coord_batch_fini(coord_t *c)
{
    for (size_t i = 0; i < c->n_peers; i++)
        tt_wire_batch_destroy(&c->peers[i].outbox);
    free(c->outbox_peers);
    c->outbox_peers = NULL;
    c->n_outbox_peers = 0;
}
