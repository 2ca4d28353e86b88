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
    assert_int_equal(tt_wire_decode(buf, n, &env), TT_EPROTO);
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
    Tt__Envelope e = TT__ENVELOPE__INIT;
    e.version = TT_PROTOCOL_VERSION;
    e.body_case = TT__ENVELOPE__BODY_STEP;
    e.step = &step;
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
    assert_string_equal(env->step->input->stimuli[0]->content, "caf\xc3\xa9");
    tt_wire_free(&env);
    free(buf);
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
static Tt__Envelope *
s_actions_with_answer(Tt__Envelope *env, Tt__Actions *a, Tt__Exchange *x, Tt__Exchange **xs,
                      uint8_t digest[32], char *answer)
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
    tt__envelope__init(env);
    env->seq = 1;
    env->body_case = TT__ENVELOPE__BODY_ACTIONS;
    env->actions = a;
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
    Tt__Actions a;
    Tt__Exchange x, *xs[1];
    s_actions_with_answer(&env, &a, &x, xs, digest, answer);
    assert_int_equal(tt_wire_send(dealer, NULL, &env), TT_OK);
    zframe_t *id = NULL;
    Tt__Envelope *got = NULL;
    assert_int_equal(tt_wire_recv(router, &id, &got), TT_OK);
    assert_int_equal(strlen(got->actions->exchanges[0]->response), n);
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
    free(answer);
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
        cmocka_unit_test(test_router_reports_unreachable_peer),
        cmocka_unit_test(test_record_body_round_trip),
        cmocka_unit_test(test_limits_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
