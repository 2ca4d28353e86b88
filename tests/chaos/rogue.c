/*  rogue -- a hostile peer for chaos tests: connects a DEALER to a coordinator
 *  and sends garbage for a while: random bytes, random multi-frame messages,
 *  oversize frames (past MAXMSGSIZE), truncated and mutated real envelopes,
 *  envelopes for agents it does not own, hellos with absurd slot counts.
 *
 *      rogue ENDPOINT SECONDS [SEED [MODE]]
 *
 *  MODE flood (the default): the garbage above; prints how many messages it
 *  sent. The other modes play a well-formed but hostile agentd and print
 *  "assigned N" (Assigns received), with a line "assigned" as soon as the
 *  first one arrives:
 *    squat    registers (4 slots), heartbeats, never answers an Assign;
 *    rehello  squats, and after its first Assign says hello again on the
 *             same connection as a new instance;
 *    hog      2,000 connections, each a hello with slots=1000000 (100 at a
 *             time; past the coordinator's connection cap most are refused).
 *  MODE bloat: 64 connections, each sending 31 MB frames (under MAXMSGSIZE)
 *  as fast as the coordinator takes them, until SECONDS pass or it is killed;
 *  prints how many it sent. One buffer, sent zero-copy: the rogue itself stays
 *  small, whatever the coordinator holds.
 *  Exits 0 unless it could not connect.
 */
#include <czmq.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_rng.h"
#include "tt_wire.h"

static void
s_send_frames(zsock_t *s, tt_rng_t *rng, size_t frames, size_t max_size)
{
    zmsg_t *msg = zmsg_new();
    for (size_t f = 0; f < frames; f++) {
        size_t n = (size_t)tt_rng_below(rng, max_size + 1);
        zframe_t *frame = zframe_new(NULL, n);
        uint8_t *p = zframe_data(frame);
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)tt_rng_next(rng);
        zmsg_append(msg, &frame);
    }
    zmsg_send(&msg, s);
}

/* A real envelope, then damaged: truncated or with bytes flipped. */
static void
s_send_mutant(zsock_t *s, tt_rng_t *rng)
{
    Tt__Actions act = TT__ACTIONS__INIT;
    act.step = (uint32_t)tt_rng_below(rng, 5);
    Tt__ActionsBatch__Item item = TT__ACTIONS_BATCH__ITEM__INIT;
    item.agent = (uint32_t)tt_rng_below(rng, 8);
    item.incarnation = (uint32_t)tt_rng_below(rng, 3);
    item.actions = &act;
    Tt__ActionsBatch__Item *items[1] = {&item};
    Tt__ActionsBatch batch = TT__ACTIONS_BATCH__INIT;
    batch.n_items = 1;
    batch.items = items;
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.version = TT_PROTOCOL_VERSION;
    env.seq = tt_rng_next(rng);
    env.body_case = TT__ENVELOPE__BODY_ACTIONS_BATCH;
    env.actions_batch = &batch;
    size_t len = tt__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len);
    tt__envelope__pack(&env, buf);
    size_t cut = tt_rng_below(rng, 2) ? len : (size_t)tt_rng_below(rng, len + 1);
    for (int k = 0; k < 3; k++)
        buf[tt_rng_below(rng, len)] ^= (uint8_t)(1u << tt_rng_below(rng, 8));
    zsock_send(s, "b", buf, cut);
    free(buf);
}

/* A well-formed message that must still be refused: actions for someone else. */
static void
s_send_impostor(zsock_t *s, tt_rng_t *rng)
{
    Tt__Actions act = TT__ACTIONS__INIT;
    act.step = 1 + (uint32_t)tt_rng_below(rng, 4);
    tt_wire_batch_t *b = tt_wire_batch_new(TT_WIRE_BATCH_ACTIONS, TT_WIRE_MAX_FRAME);
    tt_wire_batch_add_actions(b, 1 + (uint32_t)tt_rng_below(rng, 4),
                              1 + (uint32_t)tt_rng_below(rng, 2), &act);
    uint64_t seq = tt_rng_next(rng) >> 1;
    tt_wire_batch_send(b, s, NULL, &seq, NULL);
    tt_wire_batch_destroy(&b);
}

static void
s_hello(zsock_t *s, uint64_t *seq, const char *instance, uint32_t slots)
{
    Tt__Hello h = TT__HELLO__INIT;
    h.instance = (char *)instance;
    h.slots = slots;
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.seq = ++*seq;
    env.body_case = TT__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    tt_wire_send(s, NULL, &env);
}

/* A peer that looks like an agentd and does none of an agentd's work. */
static unsigned long
s_squat(zsock_t *s, int64_t end, bool rehello)
{
    uint64_t seq = 0;
    unsigned long assigned = 0;
    bool welcomed = false;
    int64_t next_beat = 0;
    s_hello(s, &seq, "rogue-squatter-1", 4);
    zpoller_t *poller = zpoller_new(s, NULL);
    while (zclock_mono() < end && !zsys_interrupted) {
        if (zclock_mono() >= next_beat) {
            Tt__Heartbeat hb = TT__HEARTBEAT__INIT;
            Tt__Envelope env = TT__ENVELOPE__INIT;
            env.seq = ++seq;
            env.body_case = TT__ENVELOPE__BODY_HEARTBEAT;
            env.heartbeat = &hb;
            if (!welcomed)
                s_hello(s, &seq, "rogue-squatter-1", 4);
            else
                tt_wire_send(s, NULL, &env);
            next_beat = zclock_mono() + 100;
        }
        if (!zpoller_wait(poller, 20))
            continue;
        Tt__Envelope *in = NULL;
        if (tt_wire_recv(s, NULL, &in) != TT_OK)
            continue;
        welcomed |= in->body_case == TT__ENVELOPE__BODY_WELCOME;
        if (in->body_case == TT__ENVELOPE__BODY_ASSIGN) {
            if (assigned++ == 0) {
                printf("assigned\n");
                fflush(stdout);
                if (rehello)
                    s_hello(s, &seq, "rogue-squatter-2", 4);
            }
        }
        tt_wire_free(&in);
    }
    zpoller_destroy(&poller);
    return assigned;
}

/* Many peers, each asking for a million slots. */
static void
s_hog(const char *endpoint)
{
    enum { S_BATCH = 100, S_BATCHES = 20 };
    for (int b = 0; b < S_BATCHES; b++) {
        zsock_t *socks[S_BATCH];
        for (int i = 0; i < S_BATCH; i++) {
            socks[i] = zsock_new(ZMQ_DEALER);
            zsock_set_linger(socks[i], 100);
            zsock_connect(socks[i], "%s", endpoint);
            char instance[32];
            snprintf(instance, sizeof instance, "rogue-hog-%d-%d", b, i);
            uint64_t seq = 0;
            s_hello(socks[i], &seq, instance, 1000000);
        }
        /* hang up once each hello was read (its answer, welcome or refusal,
         * proves it), or after 2 s for the batch: connections past the
         * coordinator's cap are shut down unread, and reconnect in vain */
        zpoller_t *poller = zpoller_new(NULL);
        for (int i = 0; i < S_BATCH; i++)
            zpoller_add(poller, socks[i]);
        int64_t deadline = zclock_mono() + 2000;
        for (int answered = 0; answered < S_BATCH && zclock_mono() < deadline; answered++) {
            zsock_t *which = zpoller_wait(poller, (int)(deadline - zclock_mono()));
            if (!which)
                break;
            zmsg_t *answer = zmsg_recv(which);
            zmsg_destroy(&answer);
            zpoller_remove(poller, which);
        }
        zpoller_destroy(&poller);
        for (int i = 0; i < S_BATCH; i++)
            zsock_destroy(&socks[i]);
    }
}

static void
s_no_free(void *data, void *hint)
{
    (void)data;
    (void)hint;
}

/* Many connections, each a stream of frames just under MAXMSGSIZE. */
static unsigned long
s_bloat(const char *endpoint, int64_t end)
{
    enum { S_CONNECTIONS = 64 };
    static const size_t size = (size_t)31 << 20;
    uint8_t *buf = malloc(size);
    memset(buf, 0x5a, size);
    void *socks[S_CONNECTIONS];
    for (int i = 0; i < S_CONNECTIONS; i++) {
        socks[i] = zmq_socket(zsys_init(), ZMQ_DEALER);
        int one = 1, zero = 0;
        zmq_setsockopt(socks[i], ZMQ_SNDHWM, &one, sizeof one);
        zmq_setsockopt(socks[i], ZMQ_LINGER, &zero, sizeof zero);
        zmq_connect(socks[i], endpoint);
    }
    unsigned long sent = 0;
    while (zclock_mono() < end && !zsys_interrupted) {
        bool any = false;
        for (int i = 0; i < S_CONNECTIONS; i++) {
            zmq_msg_t msg;
            zmq_msg_init_data(&msg, buf, size, s_no_free, NULL);
            if (zmq_msg_send(&msg, socks[i], ZMQ_DONTWAIT) >= 0) {
                sent++;
                any = true;
            } else {
                zmq_msg_close(&msg);
            }
        }
        if (!any)
            zclock_sleep(5);
    }
    for (int i = 0; i < S_CONNECTIONS; i++)
        zmq_close(socks[i]);
    /* buf is not freed: the I/O thread may still be writing it out */
    return sent;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rogue ENDPOINT SECONDS [SEED]\n");
        return 2;
    }
    tt_rng_t rng;
    tt_rng_seed(&rng, argc > 3 ? strtoull(argv[3], NULL, 10) : 1);
    zsock_t *s = zsock_new(ZMQ_DEALER);
    zsock_set_linger(s, 0);
    zsock_set_sndtimeo(s, 100);
    if (zsock_connect(s, "%s", argv[1]) != 0) {
        fprintf(stderr, "rogue: cannot connect to %s\n", argv[1]);
        return 1;
    }
    int64_t end = zclock_mono() + (int64_t)(atof(argv[2]) * 1000);
    const char *mode = argc > 4 ? argv[4] : "flood";
    if (strcmp(mode, "flood")) {
        if (!strcmp(mode, "bloat")) {
            printf("%lu\n", s_bloat(argv[1], end));
        } else if (!strcmp(mode, "hog")) {
            s_hog(argv[1]);
            printf("assigned 0\n");
        } else {
            printf("assigned %lu\n", s_squat(s, end, !strcmp(mode, "rehello")));
        }
        zsock_destroy(&s);
        return 0;
    }
    unsigned long sent = 0;
    while (zclock_mono() < end) {
        switch (tt_rng_below(&rng, 5)) {
        case 0:
            s_send_frames(s, &rng, 1, 256);
            break;
        case 1:
            s_send_frames(s, &rng, 1 + tt_rng_below(&rng, 5), 64);
            break;
        case 2:
            s_send_mutant(s, &rng);
            break;
        case 3:
            s_send_impostor(s, &rng);
            break;
        default:
            if (tt_rng_below(&rng, 50) == 0) /* now and then: past MAXMSGSIZE */
                s_send_frames(s, &rng, 1, (size_t)40 << 20);
            else
                s_send_frames(s, &rng, 2, 16);
        }
        sent++;
        if (sent % 64 == 0)
            zclock_sleep(1);
    }
    printf("%lu\n", sent);
    zsock_destroy(&s);
    return 0;
}
