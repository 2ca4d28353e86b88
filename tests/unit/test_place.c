/*  test_place -- the deadline of an agentd that readies agents (coord_place_tick):
 *  a peer is hung when it makes no progress at all, not when the last of
 *  many agents given to it at once is readied long after its Assign. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "coord.h"
#include "tt_mem.h"
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_peer_that_readies_agents_is_not_hung),
        cmocka_unit_test(test_a_peer_without_progress_is_hung),
        cmocka_unit_test(test_a_peer_that_never_progressed_has_the_deadline_of_its_assigns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
