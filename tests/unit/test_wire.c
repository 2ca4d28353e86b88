/*  test_wire -- the envelope codec over real ZeroMQ sockets, and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "tt_wire.h"

static void
test_round_trip_dealer_to_router(void **state)
{
    zsock_t *router = zsock_new_router("inproc://wire-rt");
    zsock_t *dealer = zsock_new_dealer(">inproc://wire-rt");
    Tt__Hello hello = TT__HELLO__INIT;
    hello.instance = "abc";
    hello.slots = 7;
    hello.host = "h";
    Tt__Envelope env = TT__ENVELOPE__INIT;
    env.seq = 42;
    env.body_case = TT__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    assert_int_equal(tt_wire_send(dealer, NULL, &env), TT_OK);
    zframe_t *id = NULL;
    Tt__Envelope *got = NULL;
    assert_int_equal(tt_wire_recv(router, &id, &got), TT_OK);
    assert_non_null(id);
    assert_int_equal(got->version, TT_PROTOCOL_VERSION);
    assert_int_equal(got->seq, 42);
    assert_int_equal(got->body_case, TT__ENVELOPE__BODY_HELLO);
    assert_int_equal(got->hello->slots, 7);
    assert_string_equal(got->hello->instance, "abc");
    /* and back, addressed by routing id */
    Tt__Heartbeat hb = TT__HEARTBEAT__INIT;
    Tt__Envelope back = TT__ENVELOPE__INIT;
    back.seq = 1;
    back.body_case = TT__ENVELOPE__BODY_HEARTBEAT;
    back.heartbeat = &hb;
    assert_int_equal(tt_wire_send(router, id, &back), TT_OK);
    Tt__Envelope *got2 = NULL;
    assert_int_equal(tt_wire_recv(dealer, NULL, &got2), TT_OK);
    assert_int_equal(got2->body_case, TT__ENVELOPE__BODY_HEARTBEAT);
    tt_wire_free(&got);
    tt_wire_free(&got2);
    assert_null(got);
    zframe_destroy(&id);
    zsock_destroy(&dealer);
    zsock_destroy(&router);
}

static size_t
s_pack(Tt__Envelope *env, uint8_t *buf)
{
    return tt__envelope__pack(env, buf);
}

static void
test_decode_refuses_garbage_and_wrong_version(void **state)
{
    Tt__Envelope *env = NULL;
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    assert_int_equal(tt_wire_decode(junk, sizeof junk, &env), TT_EPROTO);
    assert_null(env);
    /* a well-formed envelope of another protocol version */
    Tt__Heartbeat hb = TT__HEARTBEAT__INIT;
    Tt__Envelope e = TT__ENVELOPE__INIT;
    e.version = TT_PROTOCOL_VERSION + 1;
    e.body_case = TT__ENVELOPE__BODY_HEARTBEAT;
    e.heartbeat = &hb;
    uint8_t buf[256];
    size_t n = s_pack(&e, buf);
    assert_int_equal(tt_wire_decode(buf, n, &env), TT_EVERSION);
    assert_null(env);
    /* protocol 1 (one Step per frame) is another version, named as such */
    e.version = 1;
    n = s_pack(&e, buf);
    assert_int_equal(tt_wire_decode(buf, n, &env), TT_EVERSION);
    /* the right version passes */
    e.version = TT_PROTOCOL_VERSION;
    n = s_pack(&e, buf);
    assert_int_equal(tt_wire_decode(buf, n, &env), TT_OK);
    tt_wire_free(&env);
    /* no body at all is refused */
    Tt__Envelope empty = TT__ENVELOPE__INIT;
    empty.version = TT_PROTOCOL_VERSION;
    n = s_pack(&empty, buf);
    assert_int_equal(tt_wire_decode(buf, n, &env), TT_EPROTO);
}

static void
test_decode_refuses_bad_text_and_digests(void **state)
{
    Tt__Stimulus st = TT__STIMULUS__INIT;
    st.type = "CONVERSATION";
    st.content = "caf\xc3"; /* truncated UTF-8 */
    Tt__Stimulus *sts[] = {&st};
    Tt__StepInput in = TT__STEP_INPUT__INIT;
    in.n_stimuli = 1;
    in.stimuli = sts;
    Tt__Step step = TT__STEP__INIT;
    step.step = 1;
    step.datetime = "2026-03-01T09:00:00";
    step.input = &in;
    Tt__StepBatch__Item item = TT__STEP_BATCH__ITEM__INIT;
    item.agent = 1;
    item.step = &step;
    Tt__StepBatch__Item *items[] = {&item};
    Tt__StepBatch batch = TT__STEP_BATCH__INIT;
    batch.n_items = 1;
    batch.items = items;
    Tt__Envelope e = TT__ENVELOPE__INIT;
    e.version = TT_PROTOCOL_VERSION;
    e.body_case = TT__ENVELOPE__BODY_STEP_BATCH;
    e.step_batch = &batch;
    uint8_t *buf = malloc(tt__envelope__get_packed_size(&e));
    size_t n = s_pack(&e, buf);
    Tt__Envelope *env = NULL;
    assert_int_equal(tt_wire_decode(buf, n, &env), TT_EPROTO);
    free(buf);
    /* valid text, but a recorded exchange with a short digest */
    st.content = "caf\xc3\xa9";
    uint8_t digest[5] = {1, 2, 3, 4, 5};
    Tt__Exchange x = TT__EXCHANGE__INIT;
    x.request_digest.data = digest;
    x.request_digest.len = sizeof digest;
    x.response = "{}";
    Tt__Exchange *xs[] = {&x};
    step.n_recorded = 1;
    step.recorded = xs;
    buf = malloc(tt__envelope__get_packed_size(&e));
    n = s_pack(&e, buf);
    assert_int_equal(tt_wire_decode(buf, n, &env), TT_EPROTO);
    free(buf);
    step.n_recorded = 0;
    buf = malloc(tt__envelope__get_packed_size(&e));
    n = s_pack(&e, buf);
    assert_int_equal(tt_wire_decode(buf, n, &env), TT_OK);
    assert_string_equal(env->step_batch->items[0]->step->input->stimuli[0]->content, "caf\xc3\xa9");
    tt_wire_free(&env);
    free(buf);
    /* an item for agent 0 (no agent), and an empty batch, are refused */
    item.agent = 0;
    buf = malloc(tt__envelope__get_packed_size(&e));
    n = s_pack(&e, buf);
    assert_int_equal(tt_wire_decode(buf, n, &env), TT_EPROTO);
    free(buf);
    batch.n_items = 0;
    buf = malloc(tt__envelope__get_packed_size(&e));
    n = s_pack(&e, buf);
    assert_int_equal(tt_wire_decode(buf, n, &env), TT_EPROTO);
    free(buf);
}

/* Every string field is checked, also one added after the checks were
 * written: a Hello's token (once passed on unchecked, found by fuzz_wire). */
static void
test_decode_refuses_bad_text_in_any_field(void **state)
{
    Tt__Hello hello = TT__HELLO__INIT;
    hello.instance = "3f2a9c1e5b7d4a60";
    hello.slots = 4;
    hello.token = "work\xe4r-1";
    Tt__Envelope e = TT__ENVELOPE__INIT;
    e.version = TT_PROTOCOL_VERSION;
    e.body_case = TT__ENVELOPE__BODY_HELLO;
    e.hello = &hello;
    uint8_t buf[256];
    Tt__Envelope *env = NULL;
    assert_int_equal(tt_wire_decode(buf, s_pack(&e, buf), &env), TT_EPROTO);
    assert_null(env);
    hello.token = "work\xc3\xa4r-1";
    assert_int_equal(tt_wire_decode(buf, s_pack(&e, buf), &env), TT_OK);
    assert_string_equal(env->hello->token, "work\xc3\xa4r-1");
    tt_wire_free(&env);
    Tt__Error error = TT__ERROR__INIT;
    error.message = "\xff";
    e.body_case = TT__ENVELOPE__BODY_ERROR;
    e.error = &error;
    assert_int_equal(tt_wire_decode(buf, s_pack(&e, buf), &env), TT_EPROTO);
}

static void
test_router_reports_unreachable_peer(void **state)
{
    zsock_t *router = zsock_new_router("inproc://wire-mandatory");
    zsock_set_router_mandatory(router, 1);
    zframe_t *ghost = zframe_new("ghost", 5);
    Tt__Heartbeat hb = TT__HEARTBEAT__INIT;
    Tt__Envelope e = TT__ENVELOPE__INIT;
    e.body_case = TT__ENVELOPE__BODY_HEARTBEAT;
    e.heartbeat = &hb;
    assert_int_equal(tt_wire_send(router, ghost, &e), TT_EPEER);
    zframe_destroy(&ghost);
    zsock_destroy(&router);
}

static void
test_record_body_round_trip(void **state)
{
    Tt__Checkpoint cp = TT__CHECKPOINT__INIT;
    cp.step = 3;
    cp.name = "after intro";
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_CHECKPOINT;
    body.checkpoint = &cp;
    size_t len;
    uint8_t *buf = tt_wire_pack_body(&body, &len);
    Tt__RecordBody *got = NULL;
    assert_int_equal(tt_wire_decode_body(buf, len, &got), TT_OK);
    assert_int_equal(got->kind_case, TT__RECORD_BODY__KIND_CHECKPOINT);
    assert_string_equal(got->checkpoint->name, "after intro");
    tt_wire_free_body(&got);
    free(buf);
    uint8_t bad[] = {0xff, 0xff, 0xff};
    assert_int_equal(tt_wire_decode_body(bad, sizeof bad, &got), TT_ECORRUPT);
}

/* An answer as large as the model client accepts (TT_LIMIT_RESPONSE) is
 * carried in an agent's Actions over a real socket; a string over
 * TT_LIMIT_TEXT is refused, and a frame over TT_LIMIT_FRAME is not sent. */
typedef struct {
    Tt__ActionsBatch__Item item, *items[1];
    Tt__ActionsBatch batch;
} s_one_answer_t;

static Tt__Envelope *
s_actions_with_answer(Tt__Envelope *env, s_one_answer_t *one, Tt__Actions *a, Tt__Exchange *x,
                      Tt__Exchange **xs, uint8_t digest[32], char *answer)
{
    tt__exchange__init(x);
    x->request_digest.data = digest;
    x->request_digest.len = 32;
    x->response = answer;
    xs[0] = x;
    tt__actions__init(a);
    a->step = 1;
    a->n_exchanges = 1;
    a->exchanges = xs;
    tt__actions_batch__item__init(&one->item);
    one->item.agent = 1;
    one->item.actions = a;
    one->items[0] = &one->item;
    tt__actions_batch__init(&one->batch);
    one->batch.n_items = 1;
    one->batch.items = one->items;
    tt__envelope__init(env);
    env->seq = 1;
    env->body_case = TT__ENVELOPE__BODY_ACTIONS_BATCH;
    env->actions_batch = &one->batch;
    return env;
}

static void
test_limits_agree(void **state)
{
    (void)state;
    zsock_t *router = zsock_new_router("inproc://wire-limits");
    zsock_t *dealer = zsock_new_dealer(">inproc://wire-limits");
    zsock_set_maxmsgsize(router, (int64_t)TT_WIRE_MAX_FRAME);
    size_t n = TT_LIMIT_RESPONSE;
    char *answer = malloc(TT_LIMIT_TEXT + 2);
    memset(answer, ' ', TT_LIMIT_TEXT + 1);
    answer[0] = '{';
    answer[n] = '\0';
    uint8_t digest[32] = {0};
    Tt__Envelope env;
    s_one_answer_t one;
    Tt__Actions a;
    Tt__Exchange x, *xs[1];
    s_actions_with_answer(&env, &one, &a, &x, xs, digest, answer);
    assert_int_equal(tt_wire_send(dealer, NULL, &env), TT_OK);
    zframe_t *id = NULL;
    Tt__Envelope *got = NULL;
    assert_int_equal(tt_wire_recv(router, &id, &got), TT_OK);
    assert_int_equal(strlen(got->actions_batch->items[0]->actions->exchanges[0]->response), n);
    tt_wire_free(&got);
    zframe_destroy(&id);
    /* one byte over the string limit: packed, sent, refused on receipt */
    answer[n] = ' ';
    answer[TT_LIMIT_TEXT + 1] = '\0';
    size_t len = tt__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len);
    tt__envelope__pack(&env, buf);
    assert_int_equal(tt_wire_decode(buf, len, &got), TT_EPROTO);
    free(buf);
    /* over the frame: tt_wire_send refuses before anything leaves */
    Tt__Exchange y = x, *two[2] = {&x, &y};
    a.n_exchanges = 2;
    a.exchanges = two;
    assert_int_equal(tt_wire_send(dealer, NULL, &env), TT_ETOOBIG);
    /* nor does a batch take an item that alone would not fit a frame */
    tt_wire_batch_t *b = tt_wire_batch_new(TT_WIRE_BATCH_ACTIONS, TT_WIRE_MAX_FRAME);
    assert_int_equal(tt_wire_batch_add_actions(b, 1, 1, &a), TT_ETOOBIG);
    assert_int_equal(tt_wire_batch_items(b), 0);
    tt_wire_batch_destroy(&b);
    free(answer);
    zsock_destroy(&dealer);
    zsock_destroy(&router);
}

/* ------------------------------------------------------------------ batches */

/* A Step for agent k: its datetime says k, its one stimulus is content. */
typedef struct {
    Tt__Stimulus st, *sts[1];
    Tt__StepInput in;
    Tt__Step step;
    char datetime[32];
} s_step_t;

static void
s_make_step(s_step_t *m, uint32_t k, char *content)
{
    tt__stimulus__init(&m->st);
    m->st.type = "CONVERSATION";
    m->st.content = content;
    m->sts[0] = &m->st;
    tt__step_input__init(&m->in);
    m->in.n_stimuli = 1;
    m->in.stimuli = m->sts;
    tt__step__init(&m->step);
    m->step.step = 3;
    snprintf(m->datetime, sizeof m->datetime, "agent %u", k);
    m->step.datetime = m->datetime;
    m->step.input = &m->in;
}

/* Receive frames on sock until `want` items came; check each frame's size
 * and that the items are agents 1..want in order. Returns frames received. */
static size_t
s_recv_items(zsock_t *sock, bool router, size_t want, size_t max_frame)
{
    size_t got = 0, frames = 0;
    uint64_t last_seq = 0;
    while (got < want) {
        zmsg_t *msg = zmsg_recv(sock);
        assert_non_null(msg);
        if (router) {
            zframe_t *id = zmsg_pop(msg);
            zframe_destroy(&id);
        }
        zframe_t *f = zmsg_first(msg);
        assert_true(zframe_size(f) <= max_frame);
        Tt__Envelope *env = NULL;
        assert_int_equal(tt_wire_decode(zframe_data(f), zframe_size(f), &env), TT_OK);
        assert_true(env->seq > last_seq); /* each frame its own sequence number */
        last_seq = env->seq;
        assert_int_equal(env->body_case, TT__ENVELOPE__BODY_STEP_BATCH);
        for (size_t i = 0; i < env->step_batch->n_items; i++) {
            const Tt__StepBatch__Item *it = env->step_batch->items[i];
            got++;
            char want_dt[32];
            snprintf(want_dt, sizeof want_dt, "agent %zu", got);
            assert_int_equal(it->agent, got);
            assert_int_equal(it->incarnation, 7);
            assert_string_equal(it->step->datetime, want_dt);
        }
        tt_wire_free(&env);
        zmsg_destroy(&msg);
        frames++;
    }
    return frames;
}

/* Steps for several agents go as one frame, routed like any message, and
 * each item comes back as it was added, in order; the caller's messages may
 * go as soon as they are added. */
static void
test_batch_one_frame_routed(void **state)
{
    (void)state;
    zsock_t *router = zsock_new_router("inproc://wire-batch");
    zsock_t *dealer = zsock_new_dealer(">inproc://wire-batch");
    Tt__Heartbeat hb = TT__HEARTBEAT__INIT;
    Tt__Envelope hello = TT__ENVELOPE__INIT;
    hello.seq = 1;
    hello.body_case = TT__ENVELOPE__BODY_HEARTBEAT;
    hello.heartbeat = &hb;
    assert_int_equal(tt_wire_send(dealer, NULL, &hello), TT_OK);
    zframe_t *id = NULL;
    Tt__Envelope *got = NULL;
    assert_int_equal(tt_wire_recv(router, &id, &got), TT_OK);
    tt_wire_free(&got);
    tt_wire_batch_t *b = tt_wire_batch_new(TT_WIRE_BATCH_STEPS, TT_WIRE_MAX_FRAME);
    for (uint32_t k = 1; k <= 5; k++) {
        s_step_t *m = calloc(1, sizeof *m);
        s_make_step(m, k, "hello");
        assert_int_equal(tt_wire_batch_add_step(b, k, 7, &m->step), TT_OK);
        free(m); /* packed when added */
    }
    assert_int_equal(tt_wire_batch_items(b), 5);
    uint64_t seq = 10;
    size_t frames = 0;
    assert_int_equal(tt_wire_batch_send(b, router, id, &seq, &frames), TT_OK);
    assert_int_equal(frames, 1);
    assert_int_equal(seq, 11);
    assert_int_equal(tt_wire_batch_items(b), 0);
    assert_int_equal(s_recv_items(dealer, false, 5, TT_WIRE_MAX_FRAME), 1);
    /* an empty batch sends nothing */
    assert_int_equal(tt_wire_batch_send(b, router, id, &seq, &frames), TT_OK);
    assert_int_equal(frames, 0);
    zpoller_t *poller = zpoller_new(dealer, NULL);
    assert_null(zpoller_wait(poller, 50));
    zpoller_destroy(&poller);
    tt_wire_batch_destroy(&b);
    assert_null(b);
    zframe_destroy(&id);
    zsock_destroy(&dealer);
    zsock_destroy(&router);
}

/* A batch bigger than a frame is split, never refused: every frame within
 * the limit, every item exactly once, in order. A small limit here, the real
 * one (TT_WIRE_MAX_FRAME, with turn answers as large as they come) below. */
static void
test_batch_split_small_frames(void **state)
{
    (void)state;
    zsock_t *router = zsock_new_router("inproc://wire-split");
    zsock_t *dealer = zsock_new_dealer(">inproc://wire-split");
    const size_t max_frame = 4096;
    tt_wire_batch_t *b = tt_wire_batch_new(TT_WIRE_BATCH_STEPS, max_frame);
    char text[301];
    memset(text, 'x', 300);
    text[300] = '\0';
    for (uint32_t k = 1; k <= 100; k++) {
        s_step_t m;
        s_make_step(&m, k, text);
        assert_int_equal(tt_wire_batch_add_step(b, k, 7, &m.step), TT_OK);
    }
    /* one that alone exceeds the frame is refused, and nothing else changes */
    char *big = malloc(max_frame + 1);
    memset(big, 'y', max_frame);
    big[max_frame] = '\0';
    s_step_t m;
    s_make_step(&m, 999, big);
    assert_int_equal(tt_wire_batch_add_step(b, 999, 7, &m.step), TT_ETOOBIG);
    free(big);
    assert_int_equal(tt_wire_batch_items(b), 100);
    uint64_t seq = 0;
    size_t frames = 0;
    assert_int_equal(tt_wire_batch_send(b, dealer, NULL, &seq, &frames), TT_OK);
    /* about 340 bytes an item: 11 or 12 a frame, so 9 frames or 10 */
    assert_true(frames >= 9 && frames <= 10);
    assert_int_equal(seq, frames);
    assert_int_equal(s_recv_items(router, true, 100, max_frame), frames);
    tt_wire_batch_destroy(&b);
    zsock_destroy(&dealer);
    zsock_destroy(&router);
}

static void
test_batch_split_at_frame_limit(void **state)
{
    (void)state;
    zsock_t *router = zsock_new_router("inproc://wire-split-big");
    zsock_t *dealer = zsock_new_dealer(">inproc://wire-split-big");
    zsock_set_maxmsgsize(router, (int64_t)TT_WIRE_MAX_FRAME);
    /* five answers of the largest size a model may give: 40 MiB, over 32 */
    char *answer = malloc(TT_LIMIT_RESPONSE + 1);
    memset(answer, ' ', TT_LIMIT_RESPONSE);
    answer[0] = '{';
    answer[TT_LIMIT_RESPONSE] = '\0';
    uint8_t digest[32] = {0};
    Tt__Envelope env;
    s_one_answer_t one;
    Tt__Actions a;
    Tt__Exchange x, *xs[1];
    s_actions_with_answer(&env, &one, &a, &x, xs, digest, answer);
    tt_wire_batch_t *b = tt_wire_batch_new(TT_WIRE_BATCH_ACTIONS, TT_WIRE_MAX_FRAME);
    for (uint32_t k = 1; k <= 5; k++)
        assert_int_equal(tt_wire_batch_add_actions(b, k, 1, &a), TT_OK);
    free(answer);
    uint64_t seq = 0;
    size_t frames = 0;
    assert_int_equal(tt_wire_batch_send(b, dealer, NULL, &seq, &frames), TT_OK);
    assert_int_equal(frames, 2);
    uint32_t next = 1;
    for (size_t f = 0; f < frames; f++) {
        zframe_t *id = NULL;
        Tt__Envelope *got = NULL;
        assert_int_equal(tt_wire_recv(router, &id, &got), TT_OK);
        assert_int_equal(got->body_case, TT__ENVELOPE__BODY_ACTIONS_BATCH);
        for (size_t i = 0; i < got->actions_batch->n_items; i++) {
            Tt__ActionsBatch__Item *it = got->actions_batch->items[i];
            assert_int_equal(it->agent, next++);
            assert_int_equal(strlen(it->actions->exchanges[0]->response), TT_LIMIT_RESPONSE);
        }
        /* an answer taken out of its envelope outlives it (the coordinator
         * keeps answers until the step commits) */
        Tt__Actions *kept = got->actions_batch->items[0]->actions;
        got->actions_batch->items[0]->actions = NULL;
        tt_wire_free(&got);
        assert_int_equal(kept->exchanges[0]->response[0], '{');
        tt_wire_free_actions(&kept);
        assert_null(kept);
        zframe_destroy(&id);
    }
    assert_int_equal(next, 6);
    tt_wire_batch_destroy(&b);
    zsock_destroy(&dealer);
    zsock_destroy(&router);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_dealer_to_router),
        cmocka_unit_test(test_decode_refuses_garbage_and_wrong_version),
        cmocka_unit_test(test_decode_refuses_bad_text_and_digests),
        cmocka_unit_test(test_decode_refuses_bad_text_in_any_field),
        cmocka_unit_test(test_router_reports_unreachable_peer),
        cmocka_unit_test(test_record_body_round_trip),
        cmocka_unit_test(test_limits_agree),
        cmocka_unit_test(test_batch_one_frame_routed),
        cmocka_unit_test(test_batch_split_small_frames),
        cmocka_unit_test(test_batch_split_at_frame_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
