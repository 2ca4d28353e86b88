/*  rogue -- a hostile peer for chaos tests: connects a DEALER to a coordinator
 *  and sends garbage for a while: random bytes, random multi-frame messages,
 *  oversize frames (past MAXMSGSIZE), truncated and mutated real envelopes,
 *  envelopes for agents it does not own, hellos with absurd slot counts.
 *
 *      rogue ENDPOINT SECONDS [SEED]
 *
 *  Prints how many messages it sent. Exits 0 unless it could not connect.
 */
#include <czmq.h>
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
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.version = TT_PROTOCOL_VERSION;
    env.has_agent = env.has_incarnation = true;
    env.agent = (uint32_t)tt_rng_below(rng, 8);
    env.incarnation = (uint32_t)tt_rng_below(rng, 3);
    env.seq = tt_rng_next(rng);
    env.body_case = TT__ENVELOPE__BODY_ACTIONS;
    env.actions = &act;
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
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.has_agent = env.has_incarnation = true;
    env.agent = 1 + (uint32_t)tt_rng_below(rng, 4);
    env.incarnation = 1 + (uint32_t)tt_rng_below(rng, 2);
    env.seq = tt_rng_next(rng) >> 1;
    env.body_case = TT__ENVELOPE__BODY_ACTIONS;
    env.actions = &act;
    tt_wire_send(s, NULL, &env);
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
