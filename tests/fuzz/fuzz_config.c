/*  fuzz_config -- a config.ini, as `coordinator run --config FILE` reads it.
 *
 *  The input is written to a config.ini in the target's temporary directory
 *  and applied over the defaults. A file that is refused must say where
 *  ("path:line:col: ..."). A file that loads is resolved to a provider, and
 *  its secret-free JSON (what agentds receive in Assign) must survive the trip
 *  through tt_config_from_json unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tt_config.h"
#include "tt_json.h"

static void
s_broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_config: %s: %s\n", what, detail ? detail : "");
    abort();
}

static void
s_round_trip(const tt_config_t *cfg)
{
    json_t *j = tt_config_to_json(cfg);
    tt_config_t other;
    tt_config_init(&other);
    tt_config_from_json(&other, j);
    json_t *k = tt_config_to_json(&other);
    char *a = tt_json_canonical(j);
    char *b = tt_json_canonical(k);
    if (strcmp(a, b))
        s_broken("tt_config_from_json(tt_config_to_json(c)) differs from c", b);
    free(a);
    free(b);
    json_decref(j);
    json_decref(k);
    tt_config_fini(&other);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    /* the environment is a layer of its own; keep it out of this target */
    static const char *vars[] = {"OPENAI_API_KEY",        "OPENAI_BASE_URL",
                                 "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_KEY",
                                 "AZURE_OPENAI_API_KEY",  "TROUPE_LOG_LEVEL"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_write("config.ini", data, size);
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    tt_err_t rc = tt_config_load_ini(&cfg, path, false, &err);
    if (rc != TT_OK) {
        if (!err || strncmp(err, path, strlen(path)) || err[strlen(path)] != ':')
            s_broken("a refused config.ini without a path:line:col message", err);
    } else {
        free(err);
        err = NULL;
        if (tt_config_resolve(&cfg, NULL, &err) == TT_OK)
            s_round_trip(&cfg);
        json_t *semantic = tt_config_semantic_json(&cfg);
        free(tt_json_compact(semantic));
        json_decref(semantic);
    }
    free(err);
    tt_config_fini(&cfg);
    free(path);
    return 0;
}
