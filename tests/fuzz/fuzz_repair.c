/*  fuzz_repair -- a model's answer, as the agent's turn sees it.
 *
 *  tt_repair_json gets exactly len bytes with nothing after them, so a read
 *  past the answer is caught. tt_turn_validate then judges the same text with
 *  every built-in action type allowed (what an agent with all faculties and
 *  tools has), and a turn it accepts must look as tt_turn.h promises: 1 to
 *  TT_MAX_ACTIONS_PER_TURN actions of known types, DONE last and only last,
 *  bounded texts, a context list; validating that normalised turn again must
 *  give it back unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tt_json.h"
#include "tt_repair.h"
#include "tt_turn.h"

static tt_turn_rules_t s_rules;

static void
s_broken(const char *what, const char *answer)
{
    fprintf(stderr, "fuzz_repair: accepted turn breaks tt_turn.h: %s\nturn: %s\n", what,
            answer ? answer : "(none)");
    abort();
}

static void
s_check_text(json_t *obj, const char *key, const char *turn)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        s_broken("a text field that is not a string", turn);
    if (strlen(json_string_value(v)) > TT_MAX_CONTENT_BYTES)
        s_broken("a text field over TT_MAX_CONTENT_BYTES", turn);
}

static void
s_check_turn(json_t *turn, const char *text)
{
    json_t *actions = json_object_get(turn, "actions");
    size_t n = json_array_size(actions);
    if (n < 1 || n > TT_MAX_ACTIONS_PER_TURN)
        s_broken("action count out of range", text);
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_array_get(actions, i);
        const char *type = tt_json_str(a, "type", NULL);
        if (!type || !tt_turn_rules_has(&s_rules, type))
            s_broken("an action type outside the rules", text);
        if ((i + 1 == n) != !strcmp(type, "DONE"))
            s_broken("DONE missing at the end or present before it", text);
        s_check_text(a, "content", text);
        s_check_text(a, "target", text);
    }
    json_t *cog = json_object_get(turn, "cognitive_state");
    if (!json_is_object(cog) || !json_is_array(json_object_get(cog, "context")))
        s_broken("cognitive_state without a context list", text);
    s_check_text(cog, "goals", text);
    s_check_text(cog, "attention", text);
    s_check_text(cog, "emotions", text);
}

static void
s_validate(const char *answer)
{
    json_t *turn = NULL;
    char *why = NULL;
    if (tt_turn_validate(answer, &s_rules, &turn, &why) != TT_OK) {
        if (!why || turn)
            s_broken("a refusal without a reason, or with a turn", answer);
        free(why);
        return;
    }
    free(why);
    char *text = tt_json_canonical(turn);
    s_check_turn(turn, text);
    json_t *again = NULL;
    if (tt_turn_validate(text, &s_rules, &again, &why) != TT_OK)
        s_broken("the normalised turn does not validate again", text);
    char *text2 = tt_json_canonical(again);
    if (strcmp(text, text2))
        s_broken("validating the normalised turn changes it", text2);
    free(text2);
    free(why);
    json_decref(again);
    free(text);
    json_decref(turn);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    tt_turn_rules_init(&s_rules);
    static const char *extra[] = {"RECALL",         "LIST_DOCUMENTS", "CONSULT",
                                  "WRITE_DOCUMENT", "CREATE_EVENT",   "LIST_EVENTS"};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        tt_turn_rules_add(&s_rules, extra[i]);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exactly size bytes: ASan sees any read past the answer */
    char *exact = malloc(size ? size : 1);
    if (size)
        memcpy(exact, data, size);
    char *why = NULL;
    json_t *v = tt_repair_json(exact, size, &why);
    if (!v && !why)
        s_broken("tt_repair_json failed without a reason", NULL);
    if (v && !json_is_object(v) && !json_is_array(v))
        s_broken("tt_repair_json returned a scalar", NULL);
    json_decref(v);
    free(why);
    free(exact);

    char *answer = fuzz_strndup(data, size);
    s_validate(answer);
    free(answer);
    return 0;
}
