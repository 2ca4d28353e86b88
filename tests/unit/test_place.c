/*  test_place -- the deadline of an agentd that readies agents (coord_place_tick):
 *  a peer is hung when it makes no progress at all, not when the last of
 *  many agents given to it at once is readied long after its Assign. And
 *  placement in slices (coord_place_unplaced): the loop runs between them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <string.h>

#include "coord.h"
#include "coord_scenario.h"
#include "tt_mem.h"
#include "tt_persona.h"
#include "tt_time.h"

#define S_AGENTS      3
#define S_LIVENESS_MS 1000

typedef struct {
    coord_t c;
    coord_peer_t peer;
    coord_agent_t agents[S_AGENTS];
    uint32_t slot_agent[S_AGENTS];
} s_world_t;

/* One external peer (pid 0: nothing to kill or respawn) holding three
 * agents in ASSIGNING, each assigned `assigned_ago` ms ago. */
static void
s_setup(s_world_t *w, int64_t assigned_ago)
{
    memset(w, 0, sizeof *w);
    w->c.config.liveness_ms = S_LIVENESS_MS;
    w->c.peers = &w->peer;
    w->c.n_peers = 1;
    w->c.agents = w->agents;
    w->c.n_agents = S_AGENTS;
    w->peer.state = COORD_PEER_LIVE;
    w->peer.slots = S_AGENTS;
    w->peer.slot_agent = tt_calloc(S_AGENTS, sizeof *w->peer.slot_agent);
    int64_t now = tt_now_ms();
    for (uint32_t i = 0; i < S_AGENTS; i++) {
        coord_agent_t *a = &w->agents[i];
        a->index = i;
        a->name = "agent";
        a->state = COORD_AGENT_ASSIGNING;
        a->peer = 0;
        a->slot = i;
        a->placed_ms = now - assigned_ago;
        w->peer.slot_agent[i] = i + 1;
    }
}

static void
s_teardown(s_world_t *w)
{
    free(w->peer.slot_agent);
}

static void
test_a_peer_that_readies_agents_is_not_hung(void **state)
{
    (void)state;
    s_world_t w;
    /* assigned long past the deadline, but the peer readied another agent
     * a moment ago: it is working through them */
    s_setup(&w, 20 * S_LIVENESS_MS);
    w.peer.progress_ms = tt_now_ms() - S_LIVENESS_MS / 2;
    coord_place_tick(&w.c);
    assert_int_equal(w.peer.state, COORD_PEER_LIVE);
    for (uint32_t i = 0; i < S_AGENTS; i++)
        assert_int_equal(w.agents[i].state, COORD_AGENT_ASSIGNING);
    s_teardown(&w);
}

static void
test_a_peer_without_progress_is_hung(void **state)
{
    (void)state;
    s_world_t w;
    /* its last progress is older than the deadline: dead, agents unplaced */
    s_setup(&w, 20 * S_LIVENESS_MS);
    w.peer.progress_ms = tt_now_ms() - (COORD_PLACE_DEADLINE_LIVENESS + 1) * S_LIVENESS_MS;
    coord_place_tick(&w.c);
    assert_int_equal(w.peer.state, COORD_PEER_DEAD);
    for (uint32_t i = 0; i < S_AGENTS; i++) {
        assert_int_equal(w.agents[i].state, COORD_AGENT_UNPLACED);
        assert_int_equal(w.agents[i].peer, -1);
    }
    assert_non_null(strstr(w.c.last_death, "no progress assigning"));
    s_teardown(&w);
}

static void
test_a_peer_that_never_progressed_has_the_deadline_of_its_assigns(void **state)
{
    (void)state;
    s_world_t w;
    /* never readied anything: fresh assignments are within their deadline... */
    s_setup(&w, S_LIVENESS_MS);
    coord_place_tick(&w.c);
    assert_int_equal(w.peer.state, COORD_PEER_LIVE);
    s_teardown(&w);
    /* ...and old ones are not */
    s_setup(&w, (COORD_PLACE_DEADLINE_LIVENESS + 1) * S_LIVENESS_MS);
    coord_place_tick(&w.c);
    assert_int_equal(w.peer.state, COORD_PEER_DEAD);
    s_teardown(&w);
}

/* Turns of the loop that saw a placement slice due; ends the loop at none. */
static int s_turns_placing;

static int
s_stop_when_placed(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    const coord_t *c = arg;
    if (!c->placing_on)
        return -1;
    s_turns_placing++;
    return 0;
}

static void
test_placement_goes_in_slices(void **state)
{
    (void)state;
    enum { N = 2 * COORD_PLACE_SLICE + 100 };
    coord_t c;
    memset(&c, 0, sizeof c);
    char *err = NULL;
    assert_int_equal(coord_scenario_load_session(NULL, &c.scenario, &err), TT_OK);
    for (int i = 0; i < N; i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"P %d\"}}", i);
        tt_persona_t *p = NULL;
        assert_int_equal(tt_persona_from_text(text, &p, &err), TT_OK);
        assert_int_equal(coord_scenario_add_agent(c.scenario, &p, &err), TT_OK);
    }
    coord_agent_t *agents = tt_calloc(N, sizeof *agents);
    for (uint32_t i = 0; i < N; i++) {
        agents[i].index = i;
        agents[i].name = "agent";
        agents[i].peer = -1;
        agents[i].state = COORD_AGENT_UNPLACED;
    }
    c.agents = agents;
    c.n_agents = N;
    c.agent_config = json_object();
    /* one peer with a slot for each, a DEALER the ROUTER knows */
    c.router = zsock_new_router("inproc://test-place");
    zsock_set_router_mandatory(c.router, 1);
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    zsock_set_identity(dealer, "peer");
    zsock_set_rcvhwm(dealer, 0);
    assert_int_equal(zsock_connect(dealer, "inproc://test-place"), 0);
    zstr_send(dealer, "hello");
    zmsg_t *hello = zmsg_recv(c.router);
    zmsg_destroy(&hello);
    coord_peer_t peer;
    memset(&peer, 0, sizeof peer);
    peer.state = COORD_PEER_LIVE;
    peer.slots = N;
    peer.slot_agent = tt_calloc(N, sizeof *peer.slot_agent);
    peer.routing_id = zframe_new("peer", 4);
    c.peers = &peer;
    c.n_peers = 1;
    c.loop = zloop_new();

    coord_place_unplaced(&c);
    size_t assigned = 0;
    for (uint32_t i = 0; i < N; i++)
        assigned += agents[i].state == COORD_AGENT_ASSIGNING;
    assert_int_equal(assigned, COORD_PLACE_SLICE); /* one slice, the rest due */
    assert_true(c.placing_on);
    coord_place_unplaced(&c); /* a hello meanwhile: the slice due does it */
    for (uint32_t i = COORD_PLACE_SLICE; i < N; i++)
        assert_int_equal(agents[i].state, COORD_AGENT_UNPLACED);

    zloop_timer(c.loop, 1, 0, s_stop_when_placed, &c);
    zloop_start(c.loop);
    assert_true(s_turns_placing >= 1); /* the loop ran while agents were being placed */
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(agents[i].state, COORD_AGENT_ASSIGNING);
        assert_int_equal(agents[i].slot, i); /* in order, each once */
        assert_int_equal(agents[i].incarnation, 1);
        assert_int_equal(peer.slot_agent[i], i + 1);
    }
    size_t received = 0;
    zsock_set_rcvtimeo(dealer, 0);
    zmsg_t *m;
    while ((m = zmsg_recv(dealer)) != NULL) {
        received++;
        zmsg_destroy(&m);
    }
    assert_int_equal(received, N); /* one Assign each */

    zloop_destroy(&c.loop);
    zframe_destroy(&peer.routing_id);
    free(peer.slot_agent);
    zsock_destroy(&dealer);
    zsock_destroy(&c.router);
    json_decref(c.agent_config);
    free(agents);
    coord_scenario_destroy(&c.scenario);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_peer_that_readies_agents_is_not_hung),
        cmocka_unit_test(test_a_peer_without_progress_is_hung),
        cmocka_unit_test(test_a_peer_that_never_progressed_has_the_deadline_of_its_assigns),
        cmocka_unit_test(test_placement_goes_in_slices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
