/*  fuzz_scenario -- a scenario file, as `coordinator run SCENARIO` loads it.
 *
 *  The target builds a small tree in its temporary directory, like the
 *  repository's examples/:
 *      agents/NAME.agent.json   the example personas
 *      fragments/likes.fragment.json, documents/notes.txt
 *      scenarios/scenario.json  the input
 *  so the example scenario's "../agents/lisa_carter.agent.json" resolves. Paths
 *  in a scenario are the user's to choose, and the loader opens what they name;
 *  to keep the fuzzer inside its directory, an input with a string that starts
 *  with '/' or climbs further than one leading "../" is skipped (not loaded).
 *  So is one asking for more than S_MAX_COUNT copies of an agent: sizes are
 *  not what this target is about. A scenario that loads must have agents with
 *  usable, unique names, findable by name, each with a settings object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_scenario.h"
#include "fuzz_util.h"
#include "tt_json.h"
#include "tt_persona.h"

#define S_MAX_COUNT 64

static const char *s_agents[] = {"lisa_carter", "oscar_ramos", "marcos_oliveira", "amara_okafor"};

static void
s_broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_scenario: %s: %s\n", what, detail ? detail : "");
    abort();
}

/* Would the loader stay inside the temporary tree with these strings? */
static bool
s_safe(const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len && s[0] == '/')
            return false;
        if (len >= 3 && !memcmp(s, "../", 3)) {
            s += 3;
            len -= 3;
        }
        for (size_t i = 0; i + 1 < len; i++)
            if (s[i] == '.' && s[i + 1] == '.')
                return false;
        return true;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (!s_safe(x))
                return false;
        }
        return true;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)v, key, x)
        {
            if (!strcmp(key, "count") && json_is_integer(x) && json_integer_value(x) > S_MAX_COUNT)
                return false;
            if (!s_safe(x))
                return false;
        }
        return true;
    }
    return true;
}

static void
s_use(const coord_scenario_t *s)
{
    if (s->n_agents == 0)
        s_broken("a loaded scenario without agents", s->name);
    for (size_t i = 0; i < s->n_agents; i++) {
        const char *name = tt_persona_name(s->agents[i].persona);
        if (!tt_persona_name_ok(name))
            s_broken("an agent with an unusable name", name);
        if (coord_scenario_find(s, name) != (long)i)
            s_broken("agent names are not unique", name);
        json_t *cfg = coord_scenario_agent_config(s, i);
        if (!json_is_object(cfg))
            s_broken("an agent without settings", name);
        free(tt_json_compact(cfg));
        json_decref(cfg);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    for (size_t i = 0; i < sizeof s_agents / sizeof s_agents[0]; i++) {
        char src[128], dst[128];
        snprintf(src, sizeof src, "examples/agents/%s.agent.json", s_agents[i]);
        snprintf(dst, sizeof dst, "agents/%s.agent.json", s_agents[i]);
        if (!fuzz_copy_source(src, dst))
            s_broken("cannot copy an example persona (set TT_SOURCE_DIR)", src);
    }
    static const char fragment[] = "{\"type\": \"Fragment\", \"persona\": {\"preferences\": "
                                   "{\"likes\": [\"tools\", \"gardens\"]}, \"age\": 41}}";
    free(fuzz_write("fragments/likes.fragment.json", (const uint8_t *)fragment,
                    sizeof fragment - 1));
    static const char notes[] = "ToolShare pilot notes: 40 members, 2 dollars a day.\n";
    free(fuzz_write("documents/notes.txt", (const uint8_t *)notes, sizeof notes - 1));
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the most lenient parse: whatever the loader accepts, this sees the same */
    json_t *all = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    bool safe = !all || s_safe(all);
    json_decref(all);
    if (!safe)
        return 0;

    char *path = fuzz_write("scenarios/scenario.json", data, size);
    coord_scenario_t *s = NULL;
    char *err = NULL;
    if (coord_scenario_load(path, &s, &err) == TT_OK) {
        s_use(s);
        coord_scenario_destroy(&s);
    } else if (!err) {
        s_broken("a refused scenario without a message", NULL);
    }
    free(err);
    free(path);
    return 0;
}
