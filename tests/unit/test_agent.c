/*  test_agent -- an agent's turns in process: real LMDB memory, the real LLM
 *  client with the offline model, no network. Recall across steps, documents,
 *  tools, consolidation, rollback on reassignment, and the repetition guard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"
#include "agent_faculty.h"
#include "agent_turn.h"
#include "tt_json.h"
#include "tt_turn.h"
#include "tt_llm.h"
#include "tt_mem.h"
#include "tt_test.h"

typedef struct {
    char *dir;
    tt_llm_t *llm;
    agent_t *agent;
    uint32_t step;
    uint8_t run_id[32];
} s_fix_t;

static const char *s_persona = "{\"type\":\"TinyPerson\",\"persona\":{\"name\":\"Lisa\","
                               "\"occupation\":{\"title\":\"Engineer\"},"
                               "\"preferences\":{\"interests\":[\"trains\"]}}}";

static agent_t *
s_assign(s_fix_t *f, uint32_t committed, uint32_t incarnation, const char *extra)
{
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_resolve(&cfg, "offline", &err), TT_OK);
    json_t *conf =
        json_pack("{s:o, s:i, s:[s,s], s:[s,s], s:[{s:s, s:s}], s:[]}", "config",
                  tt_config_to_json(&cfg), "seed", 7, "faculties", "recall", "documents", "tools",
                  "word_processor", "calendar", "documents", "name", "menu.txt", "text",
                  "Soup of the day: pumpkin. Dessert: apple tart with cream.", "custom_faculties");
    if (extra)
        json_object_update(conf, json_loads(extra, 0, NULL));
    char *conf_text = tt_json_compact(conf);
    Tt__Assign as = TT__ASSIGN__INIT;
    as.slot = 0;
    as.name = "Lisa";
    as.persona_json = (char *)s_persona;
    as.agent_config_json = conf_text;
    as.run_id.data = f->run_id;
    as.run_id.len = 32;
    as.committed_step = committed;
    agent_t *a = NULL;
    if (agent_new(&as, 0, incarnation, f->dir, NULL, &a, &err))
        fail_msg("agent_new: %s", err);
    if (!f->llm)
        assert_int_equal(tt_llm_new(&cfg, &f->llm), TT_OK);
    free(conf_text);
    json_decref(conf);
    tt_config_fini(&cfg);
    return a;
}

static int
s_setup(void **state)
{
    s_fix_t *f = tt_new(s_fix_t);
    f->dir = tt_test_tmpdir("agent");
    memset(f->run_id, 0xab, sizeof f->run_id);
    f->agent = s_assign(f, 0, 1, NULL);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *f = *state;
    agent_destroy(&f->agent);
    tt_llm_destroy(&f->llm);
    tt_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Run one step with one CONVERSATION stimulus; returns the actions as JSON. */
static json_t *
s_step(s_fix_t *f, const char *content, const char *source)
{
    Tt__Stimulus st = TT__STIMULUS__INIT;
    st.type = "CONVERSATION";
    st.content = (char *)content;
    st.source = (char *)source;
    Tt__Stimulus *sts[] = {&st};
    char *acc[] = {"Oscar"};
    Tt__StepInput in = TT__STEP_INPUT__INIT;
    in.n_stimuli = content ? 1 : 0;
    in.stimuli = sts;
    in.n_accessible = 1;
    in.accessible = acc;
    Tt__Step step = TT__STEP__INIT;
    step.step = ++f->step;
    char dt[32];
    snprintf(dt, sizeof dt, "2026-03-01T%02u:00:00", 8 + f->step % 12);
    step.datetime = dt;
    step.input = &in;
    agent_turn_t *t = agent_turn_new(f->agent, f->llm, &step, f->step);
    while (!agent_turn_run(t)) {
        void *tag;
        tt_llm_result_t *r = tt_llm_recv(f->llm, &tag);
        assert_int_equal((uint64_t)(uintptr_t)tag, f->step);
        if (agent_turn_on_result(t, &r))
            break;
    }
    Tt__Actions *ans = agent_turn_answer(t);
    assert_non_null(ans);
    if (ans->error)
        fail_msg("step %u failed: %s", f->step, ans->error);
    json_t *list = json_array();
    for (size_t i = 0; i < ans->n_actions; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "type", ans->actions[i]->type,
                                              "content", ans->actions[i]->content, "target",
                                              ans->actions[i]->target));
    assert_true(ans->n_exchanges >= 1); /* the turn call at least */
    agent_turn_destroy(&t);
    return list;
}

static const json_t *
s_find(const json_t *actions, const char *type)
{
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        if (!strcmp(tt_json_str(a, "type", ""), type))
            return a;
    }
    return NULL;
}

static void
test_recalls_what_it_was_told_earlier(void **state)
{
    s_fix_t *f = *state;
    json_decref(s_step(f, "The spare key is hidden under the blue flowerpot.", "Oscar"));
    json_decref(s_step(f, "Nice weather today.", "Oscar"));
    json_t *acts = s_step(f, "Do you remember where the spare key is hidden?", "Oscar");
    assert_non_null(s_find(acts, "RECALL"));
    const json_t *talk = s_find(acts, "TALK");
    assert_non_null(talk);
    assert_non_null(strstr(tt_json_str(talk, "content", ""), "blue flowerpot"));
    assert_string_equal(tt_json_str(json_array_get(acts, json_array_size(acts) - 1), "type", ""),
                        "DONE");
    json_decref(acts);
    assert_int_equal(agent_last_step(f->agent), 3);
}

/* TinyTroupe's RECALL_WITH_FULL_SCAN is an action of the recall faculty: the
 * turn accepts it, and it goes through every memory -- all the matching
 * episodes, not RECALL's top few. */
static void
test_recall_with_full_scan(void **state)
{
    s_fix_t *f = *state;
    for (int i = 0; i < AGENT_RECALL_TOP_K + 3; i++) {
        char line[128];
        snprintf(line, sizeof line, "Parcel number %d went to the green shed.", i);
        json_decref(s_step(f, line, "Oscar"));
    }
    json_t *root = json_loads("{\"actions\":[{\"type\":\"RECALL_WITH_FULL_SCAN\","
                              "\"content\":\"parcel green shed\",\"target\":\"\"}],"
                              "\"cognitive_state\":{}}",
                              0, NULL);
    json_t *parsed = NULL;
    char *why = NULL;
    if (tt_turn_check(root, &f->agent->rules, &parsed, &why) != TT_OK)
        fail_msg("RECALL_WITH_FULL_SCAN refused: %s", why);
    json_decref(parsed);
    json_decref(root);
    json_t *act =
        json_pack("{s:s, s:s}", "type", "RECALL_WITH_FULL_SCAN", "content", "parcel green shed");
    json_t *full = json_array(), *top = json_array();
    agent_faculty_handle(f->agent, act, NULL, full, NULL, 0);
    json_object_set_new(act, "type", json_string("RECALL"));
    agent_faculty_handle(f->agent, act, NULL, top, NULL, 0);
    const char *all = tt_json_str(json_array_get(full, 0), "result", "");
    assert_string_equal(tt_json_str(json_array_get(full, 0), "action", ""),
                        "RECALL_WITH_FULL_SCAN");
    for (int i = 0; i < AGENT_RECALL_TOP_K + 3; i++) {
        char want[64];
        snprintf(want, sizeof want, "Parcel number %d went", i);
        if (!strstr(all, want))
            fail_msg("full scan misses \"%s\"", want);
    }
    const char *some = tt_json_str(json_array_get(top, 0), "result", "");
    int in_top = 0;
    for (const char *p = some; (p = strstr(p, "Parcel number")) != NULL; p++)
        in_top++;
    assert_true(in_top <= AGENT_RECALL_TOP_K);
    json_decref(full);
    json_decref(top);
    json_decref(act);
}

static void
test_consults_its_documents(void **state)
{
    s_fix_t *f = *state;
    json_t *acts =
        s_step(f, "Could you read the documents you have and tell me about dessert?", "Oscar");
    assert_non_null(s_find(acts, "LIST_DOCUMENTS"));
    const json_t *consult = s_find(acts, "CONSULT");
    assert_non_null(consult);
    assert_string_equal(tt_json_str(consult, "content", ""), "menu.txt");
    const json_t *talk = s_find(acts, "TALK");
    assert_non_null(talk);
    assert_non_null(strstr(tt_json_str(talk, "content", ""), "apple tart"));
    json_decref(acts);
}

static void
test_writes_documents_and_keeps_a_calendar(void **state)
{
    s_fix_t *f = *state;
    json_t *acts = s_step(f, "Please write a report about night trains.", "Oscar");
    assert_non_null(s_find(acts, "WRITE_DOCUMENT"));
    json_decref(acts);
    char *md = tt_asprintf("%s/documents/Lisa/Notes on night trains.md", f->dir);
    struct stat st;
    if (stat(md, &st) != 0)
        fail_msg("no document at %s", md);
    char *text = tt_test_read_file(md, NULL);
    assert_non_null(strstr(text, "night trains"));
    free(text);
    free(md);
    acts = s_step(f, "Can we schedule a meeting about the budget?", "Oscar");
    assert_non_null(s_find(acts, "CREATE_EVENT"));
    json_decref(acts);
    char *state_json = agent_state_json(f->agent);
    assert_non_null(strstr(state_json, "budget"));
    free(state_json);
}

static void
test_consolidates_long_episodes(void **state)
{
    s_fix_t *f = *state;
    assert_int_equal(tt_memory_semantic_count(f->agent->memory), 0);
    for (int i = 0; i < 5; i++) {
        char msg[128];
        snprintf(msg, sizeof msg, "Fact number %d: the train leaves at %d o'clock.", i, 7 + i);
        json_decref(s_step(f, msg, "Oscar"));
    }
    /* each step stores a stimulus and 2-3 actions: past MIN_EPISODE_LENGTH (10) */
    assert_true(tt_memory_semantic_count(f->agent->memory) > 0);
    assert_true(f->agent->episode_events < 10);
}

static void
s_set_provider(agent_t *a, const char *provider)
{
    snprintf(a->config.provider, sizeof a->config.provider, "%s", provider);
}

/* The chain of model calls a turn is expected to make, by which a slot
 * agentd orders its turns: the turn, a retrieval embedding when there are
 * semantic memories, a consolidation and its embedding when the episode
 * closes (guessed with as many actions as the last turn had). */
static void
test_expected_calls_count_the_chain_a_turn_will_make(void **state)
{
    s_fix_t *f = *state;
    agent_t *a = f->agent;
    Tt__Stimulus st = TT__STIMULUS__INIT;
    st.type = "CONVERSATION";
    st.content = "Hello";
    st.source = "Oscar";
    Tt__Stimulus *sts[] = {&st};
    Tt__StepInput in = TT__STEP_INPUT__INIT;
    in.n_stimuli = 1;
    in.stimuli = sts;
    Tt__Step step = TT__STEP__INIT;
    step.input = &in;
    /* the offline model answers at once: nothing to wait for */
    assert_int_equal(agent_turn_expected_calls(a, &step), 0);

    /* a turn keeps how many actions it had */
    json_t *acts = s_step(f, "What do you think of trains?", "Oscar");
    assert_true(a->last_turn_actions >= 1);
    assert_int_equal(a->last_turn_actions, json_array_size(acts));
    json_decref(acts);

    s_set_provider(a, "openai");
    free(a->config.embedding_model);
    a->config.embedding_model = tt_strdup("text-embedding-3-small");
    uint32_t events = a->episode_events;
    a->episode_events = 0;
    assert_int_equal(agent_turn_expected_calls(a, &step), 1);
    step.perceive_only = true; /* a failed step rebuilt: no call at all */
    assert_int_equal(agent_turn_expected_calls(a, &step), 0);
    step.perceive_only = false;

    /* two events short of closing: its stimulus and one action do not close
     * it, two actions (as in the last turn) do */
    uint32_t last = a->last_turn_actions;
    a->episode_events = (uint32_t)a->config.min_episode_length - 2;
    a->last_turn_actions = 1;
    assert_int_equal(agent_turn_expected_calls(a, &step), 1);
    a->last_turn_actions = 2;
    assert_int_equal(agent_turn_expected_calls(a, &step), 3);
    a->config.enable_consolidation = false;
    assert_int_equal(agent_turn_expected_calls(a, &step), 1);
    a->config.enable_consolidation = true;
    free(a->config.embedding_model); /* local embeddings are no call */
    a->config.embedding_model = tt_strdup("local");
    assert_int_equal(agent_turn_expected_calls(a, &step), 2);
    free(a->config.embedding_model);
    a->config.embedding_model = tt_strdup("text-embedding-3-small");

    /* semantic memories: a retrieval embedding comes before the turn */
    s_set_provider(a, "offline");
    a->episode_events = events;
    a->last_turn_actions = last;
    for (int i = 0; tt_memory_semantic_count(a->memory) == 0 && i < 10; i++)
        json_decref(s_step(f, "Another fact about the trains here.", "Oscar"));
    assert_true(tt_memory_semantic_count(a->memory) > 0);
    s_set_provider(a, "openai");
    a->episode_events = 0;
    assert_int_equal(agent_turn_expected_calls(a, &step), 2);
    a->episode_events = (uint32_t)a->config.min_episode_length;
    assert_int_equal(agent_turn_expected_calls(a, &step), 4);
    a->config.contextual_retrieval = false;
    assert_int_equal(agent_turn_expected_calls(a, &step), 3);
}

static void
test_reassignment_rolls_back_past_the_log(void **state)
{
    s_fix_t *f = *state;
    for (int i = 0; i < 3; i++)
        json_decref(s_step(f, "Tell me about your day.", "Oscar"));
    assert_int_equal(agent_last_step(f->agent), 3);
    agent_destroy(&f->agent);
    /* the log committed only step 2: the new incarnation's memory goes back there */
    f->agent = s_assign(f, 2, 2, NULL);
    assert_int_equal(agent_last_step(f->agent), 2);
    /* the old incarnation can no longer write */
    tt_memory_batch_t *b = tt_memory_batch_new(3);
    tt_memory_batch_episode(b, "{}");
    char run_hex[65];
    char *old_owner = tt_asprintf("%s/1", tt_hex(f->run_id, 32, run_hex));
    assert_int_equal(tt_memory_commit(f->agent->memory, &b, old_owner), TT_ESTALE);
    free(old_owner);
}

/* The repetition guard's last action is part of what a rollback restores: a
 * resumed agent ends a turn on a near-repeat exactly as the uninterrupted one
 * did (a resume after a kill at step 2 gave another final hash). */
static void
test_reassignment_restores_the_last_action(void **state)
{
    s_fix_t *f = *state;
    json_decref(s_step(f, "Tell me about your day.", "Oscar"));
    json_decref(s_step(f, "And about trains?", "Oscar"));
    assert_non_null(f->agent->last_action);
    json_t *at_two = json_deep_copy(f->agent->last_action);
    json_decref(s_step(f, "Anything else?", "Oscar"));
    agent_destroy(&f->agent);
    f->agent = s_assign(f, 2, 2, NULL);
    assert_int_equal(agent_last_step(f->agent), 2);
    assert_non_null(f->agent->last_action);
    assert_true(json_equal(f->agent->last_action, at_two));
    json_decref(at_two);
}

static void
test_memory_of_another_run_is_wiped(void **state)
{
    s_fix_t *f = *state;
    json_decref(s_step(f, "Remember this: pineapples.", "Oscar"));
    agent_destroy(&f->agent);
    memset(f->run_id, 0xcd, sizeof f->run_id);
    f->agent = s_assign(f, 0, 1, NULL);
    assert_int_equal(agent_last_step(f->agent), 0);
    assert_int_equal(tt_memory_episode_count(f->agent->memory), 0);
}

static void
test_repetition_guard(void **state)
{
    json_t *last = json_pack("{s:s, s:s, s:s}", "type", "TALK", "content",
                             "I think we should take the train.", "target", "Oscar");
    json_t *same = json_pack("{s:s, s:s, s:s}", "type", "TALK", "content",
                             "I think we should take the train!", "target", "Oscar");
    json_t *other_target = json_pack("{s:s, s:s, s:s}", "type", "TALK", "content",
                                     "I think we should take the train.", "target", "Ann");
    json_t *different =
        json_pack("{s:s, s:s, s:s}", "type", "TALK", "content", "No.", "target", "Oscar");
    assert_true(agent_turn_repeats(last, same));
    assert_false(agent_turn_repeats(last, other_target));
    assert_false(agent_turn_repeats(last, different));
    assert_false(agent_turn_repeats(NULL, same));
    json_decref(last);
    json_decref(same);
    json_decref(other_target);
    json_decref(different);
}

static void
test_unknown_faculty_is_refused(void **state)
{
    s_fix_t *f = *state;
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *conf = tt_asprintf("{\"config\":{},\"faculties\":[\"telepathy\"],\"tools\":[]}");
    Tt__Assign as = TT__ASSIGN__INIT;
    as.name = "Lisa";
    as.persona_json = (char *)s_persona;
    as.agent_config_json = conf;
    as.run_id.data = f->run_id;
    as.run_id.len = 32;
    agent_t *a = NULL;
    char *err = NULL;
    assert_int_equal(agent_new(&as, 0, 9, f->dir, NULL, &a, &err), TT_EINVAL);
    assert_null(a);
    assert_non_null(strstr(err, "telepathy"));
    free(err);
    free(conf);
    tt_config_fini(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recalls_what_it_was_told_earlier, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_recall_with_full_scan, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_consults_its_documents, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_writes_documents_and_keeps_a_calendar, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_consolidates_long_episodes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_expected_calls_count_the_chain_a_turn_will_make,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reassignment_rolls_back_past_the_log, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_reassignment_restores_the_last_action, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_memory_of_another_run_is_wiped, s_setup, s_teardown),
        cmocka_unit_test(test_repetition_guard),
        cmocka_unit_test_setup_teardown(test_unknown_faculty_is_refused, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
