/*  fuzz_persona -- a persona spec as it travels in Assign and SimBegin.
 *
 *  tt_persona_from_text takes a C string, so the input is made one (an
 *  embedded NUL ends it early, as it would on the wire). A persona that loads
 *  must have a usable name (tt_persona_name_ok), a directory name that is one
 *  safe path component, and a spec text that loads again to the same persona;
 *  the agent's system prompt and one-line bio are built from it as agentd does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tt_json.h"
#include "tt_persona.h"
#include "tt_prompt.h"

static void
s_broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_persona: %s: %s\n", what, detail ? detail : "");
    abort();
}

static void
s_use(tt_persona_t *p)
{
    const char *name = tt_persona_name(p);
    if (!tt_persona_name_ok(name))
        s_broken("a loaded persona has an unusable name", name);
    char *dir = tt_persona_dirname(name);
    if (!*dir || strchr(dir, '/') || dir[0] == '.')
        s_broken("an agent directory name that is not one safe component", dir);
    free(dir);

    char *spec = tt_persona_spec_text(p);
    tt_persona_t *again = NULL;
    char *err = NULL;
    if (tt_persona_from_text(spec, &again, &err) != TT_OK)
        s_broken("the spec text of a loaded persona does not load", err);
    char *a = tt_json_canonical(tt_persona_json(p));
    char *b = tt_json_canonical(tt_persona_json(again));
    if (strcmp(a, b))
        s_broken("the spec text does not give the same persona back", spec);
    free(a);
    free(b);
    tt_persona_destroy(&again);
    free(spec);

    free(tt_persona_minibio(p));
    (void)tt_persona_get(p, "occupation.title");
    (void)tt_persona_get(p, "personality.traits");
    tt_prompt_stable_t st = {p, "  - RECALL: remember\n", "", true, true};
    free(tt_prompt_system(&st));

    tt_persona_t *copy = tt_persona_dup(p);
    tt_persona_define(copy, "occupation.title", json_string("fuzzer"), false, NULL);
    tt_persona_define(copy, "preferences", json_pack("{s:[s]}", "likes", "bytes"), true, NULL);
    tt_persona_merge(copy, tt_persona_json(p), NULL, NULL);
    tt_persona_destroy(&copy);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    tt_persona_t *p = NULL;
    char *err = NULL;
    if (tt_persona_from_text(text, &p, &err) == TT_OK) {
        s_use(p);
        tt_persona_destroy(&p);
    } else if (!err) {
        s_broken("a refused persona without a message", text);
    }
    free(err);
    free(text);
    return 0;
}
