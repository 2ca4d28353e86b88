/*  test_world -- routing, reachability, inboxes and events, on real scenarios. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "coord_scenario.h"
#include "coord_world.h"
#include "tt_mem.h"
#include "tt_test.h"

static char *s_dir;

static coord_scenario_t *
s_scenario(const char *world, const char *extra)
{
    if (!s_dir)
        s_dir = tt_test_tmpdir("world");
    char *text = tt_asprintf("{\"world\":%s,\"agents\":["
                             "{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"Ann\"}},"
                             "{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"Bob\"}},"
                             "{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"Cid\"}}]%s}",
                             world, extra ? extra : "");
    char *path = tt_asprintf("%s/s.json", s_dir);
    assert_true(tt_test_write_file(path, text));
    coord_scenario_t *s = NULL;
    char *err = NULL;
    if (coord_scenario_load(path, &s, &err))
        fail_msg("%s", err);
    free(path);
    free(text);
    return s;
}

static Tt__Action *
s_action(const char *type, const char *content, const char *target)
{
    Tt__Action *a = tt_new(Tt__Action);
    tt__action__init(a);
    a->type = (char *)type;
    a->content = (char *)content;
    a->target = (char *)target;
    return a;
}

static void
s_route1(coord_world_t *w, uint32_t from, const char *type, const char *content, const char *target)
{
    Tt__Action *a = s_action(type, content, target);
    coord_world_route(w, from, &a, 1);
    free(a);
}

static size_t
s_take(coord_world_t *w, uint32_t agent, const char *type, const char *needle)
{
    Tt__StepInput *in = coord_world_take_input(w, agent);
    size_t hits = 0;
    for (size_t i = 0; i < in->n_stimuli; i++)
        hits += !strcmp(in->stimuli[i]->type, type) &&
                (!needle || strstr(in->stimuli[i]->content, needle));
    coord_world_input_free(&in);
    return hits;
}

static void
test_talk_goes_to_the_named_agent_only(void **state)
{
    coord_scenario_t *s = s_scenario("{}", NULL);
    coord_world_t *w = coord_world_new(s);
    coord_world_begin_step(w);
    s_route1(w, 0, "TALK", "hello Bob", "Bob");
    assert_int_equal(s_take(w, 1, "CONVERSATION", "hello Bob"), 1);
    assert_int_equal(s_take(w, 2, "CONVERSATION", NULL), 0);
    assert_int_equal(s_take(w, 0, "CONVERSATION", NULL), 0);
    /* no such target: broadcast to everyone else */
    s_route1(w, 0, "TALK", "anyone?", "Zed");
    assert_int_equal(s_take(w, 1, "CONVERSATION", "anyone?"), 1);
    assert_int_equal(s_take(w, 2, "CONVERSATION", "anyone?"), 1);
    assert_int_equal(s_take(w, 0, "CONVERSATION", NULL), 0);
    coord_world_destroy(&w);
    coord_scenario_destroy(&s);
}

static void
test_social_network_blocks_and_reach_out(void **state)
{
    coord_scenario_t *s = s_scenario(
        "{\"relations\":{\"friends\":[[\"Ann\",\"Bob\"]]},\"talk_to_inaccessible\":\"refuse\"}",
        NULL);
    coord_world_t *w = coord_world_new(s);
    assert_true(coord_world_can_reach(w, 0, 1));
    assert_false(coord_world_can_reach(w, 0, 2));
    s_route1(w, 0, "TALK", "psst Cid", "Cid");
    assert_int_equal(s_take(w, 2, "CONVERSATION", NULL), 0);
    assert_int_equal(s_take(w, 0, "SOCIAL", "cannot hear you"), 1);
    /* outside a relation REACH_OUT is refused; inside it works both ways */
    s_route1(w, 0, "REACH_OUT", "", "Cid");
    assert_int_equal(s_take(w, 0, "SOCIAL", "not connected"), 1);
    assert_false(coord_world_can_reach(w, 0, 2));
    s_route1(w, 1, "REACH_OUT", "", "Ann");
    assert_int_equal(s_take(w, 1, "SOCIAL", "reached out to Ann"), 1);
    assert_int_equal(s_take(w, 0, "SOCIAL", "Bob reached out"), 1);
    /* a broadcast reaches only those the speaker can reach */
    s_route1(w, 0, "TALK", "all?", "");
    assert_int_equal(s_take(w, 1, "CONVERSATION", "all?"), 1);
    assert_int_equal(s_take(w, 2, "CONVERSATION", "all?"), 0);
    coord_world_destroy(&w);
    coord_scenario_destroy(&s);
}

static void
test_none_accessibility_opens_with_reach_out(void **state)
{
    coord_scenario_t *s = s_scenario("{\"accessibility\":\"none\"}", NULL);
    coord_world_t *w = coord_world_new(s);
    assert_false(coord_world_can_reach(w, 0, 1));
    s_route1(w, 0, "REACH_OUT", "", "Bob");
    assert_true(coord_world_can_reach(w, 0, 1));
    assert_true(coord_world_can_reach(w, 1, 0));
    Tt__StepInput *in = coord_world_take_input(w, 0);
    assert_int_equal(in->n_accessible, 1);
    assert_string_equal(in->accessible[0], "Bob");
    coord_world_input_free(&in);
    coord_world_destroy(&w);
    coord_scenario_destroy(&s);
}

static void
test_events_land_at_their_step_and_clock_advances(void **state)
{
    coord_scenario_t *s = s_scenario(
        "{\"start\":\"2026-03-01T09:00:00\",\"step\":\"PT1H\"}",
        ",\"events\":[{\"step\":2,\"broadcast\":\"news\"},"
        "{\"step\":1,\"move\":\"Cid\",\"location\":\"the park\",\"context\":[\"sunny\"]}]");
    coord_world_t *w = coord_world_new(s);
    coord_world_begin_step(w);
    assert_string_equal(coord_world_datetime(w), "2026-03-01T10:00:00");
    assert_int_equal(s_take(w, 0, "CONVERSATION", "news"), 0);
    Tt__StepInput *in = coord_world_take_input(w, 2);
    assert_string_equal(in->location, "the park");
    assert_true(in->has_context);
    assert_string_equal(in->context[0], "sunny");
    assert_int_equal(in->n_stimuli, 1);
    assert_string_equal(in->stimuli[0]->type, "LOCATION");
    coord_world_input_free(&in);
    coord_world_begin_step(w);
    assert_string_equal(coord_world_datetime(w), "2026-03-01T11:00:00");
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(s_take(w, i, "CONVERSATION", "news"), 1);
    coord_world_destroy(&w);
    coord_scenario_destroy(&s);
}

static void
test_inbox_is_capped(void **state)
{
    coord_scenario_t *s = s_scenario("{}", NULL);
    coord_world_t *w = coord_world_new(s);
    for (int i = 0; i < COORD_MAX_INBOX + 10; i++)
        coord_world_deliver(w, 0, "VISUAL", "a bird", "");
    Tt__StepInput *in = coord_world_take_input(w, 0);
    assert_int_equal(in->n_stimuli, COORD_MAX_INBOX);
    assert_int_equal(coord_world_dropped(w), 10);
    coord_world_input_free(&in);
    coord_world_destroy(&w);
    coord_scenario_destroy(&s);
}

static int
s_cleanup(void **state)
{
    tt_test_rmtree(s_dir);
    free(s_dir);
    s_dir = NULL;
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_talk_goes_to_the_named_agent_only),
        cmocka_unit_test(test_social_network_blocks_and_reach_out),
        cmocka_unit_test(test_none_accessibility_opens_with_reach_out),
        cmocka_unit_test(test_events_land_at_their_step_and_clock_advances),
        cmocka_unit_test(test_inbox_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, s_cleanup);
}
