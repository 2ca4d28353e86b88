/*  test_config -- defaults, TinyTroupe's config.ini, environment, errors, secrets,
 *  and the effect of each TinyTroupe key that has one here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tt_config.h"
#include "tt_json.h"
#include "tt_llm_impl.h"
#include "tt_mem.h"
#include "tt_test.h"

static char *s_dir;

static int
s_setup(void **state)
{
    s_dir = tt_test_tmpdir("config");
    unsetenv("OPENAI_API_KEY");
    unsetenv("OPENAI_BASE_URL");
    unsetenv("AZURE_OPENAI_ENDPOINT");
    unsetenv("AZURE_OPENAI_KEY");
    unsetenv("TROUPE_MODEL");
    return 0;
}

static int
s_teardown(void **state)
{
    tt_test_rmtree(s_dir);
    free(s_dir);
    return 0;
}

static char *
s_write_ini(const char *text)
{
    char *path = tt_asprintf("%s/config.ini", s_dir);
    assert_true(tt_test_write_file(path, text));
    return path;
}

static void
test_tinytroupe_ini_is_read_verbatim(void **state)
{
    char *path = s_write_ini("[OpenAI]\n"
                             "API_TYPE=openai\n"
                             "MODEL=gpt-4.1-mini\n"
                             "MAX_ATTEMPTS=7\n"
                             "TIMEOUT=30  ; seconds\n"
                             "# a comment\n"
                             "CACHE_API_CALLS=True\n"
                             "MAX_CONCURRENT_MODEL_CALLS=16\n"
                             "[Cognition]\n"
                             "MIN_EPISODE_LENGTH=4\n"
                             "[Logging]\n"
                             "LOGLEVEL=DEBUG\n"
                             "[Unknown]\n"
                             "WHATEVER=1\n");
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_OK);
    assert_string_equal(cfg.model, "gpt-4.1-mini");
    assert_int_equal(cfg.max_attempts, 7);
    assert_true(cfg.timeout_s == 30);
    assert_true(cfg.cache_api_calls);
    assert_int_equal(cfg.max_concurrent_calls, 16);
    assert_int_equal(cfg.min_episode_length, 4);
    assert_int_equal(cfg.log_level, TT_LOG_LEVEL_DEBUG);
    tt_config_fini(&cfg);
    free(path);
}

static void
test_bad_value_names_line_and_column(void **state)
{
    char *path = s_write_ini("[OpenAI]\nMODEL=x\nMAX_ATTEMPTS = many\n");
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_EINVAL);
    char *want = tt_asprintf("%s:3:16: MAX_ATTEMPTS:", path);
    assert_non_null(err);
    assert_true(strncmp(err, want, strlen(want)) == 0);
    free(want);
    free(err);
    tt_config_fini(&cfg);
    free(path);
}

static void
test_syntax_error_has_line(void **state)
{
    char *path = s_write_ini("[OpenAI]\nMODEL=x\nthis line is not ini\n");
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_EINVAL);
    char *want = tt_asprintf("%s:3:1:", path);
    assert_true(strncmp(err, want, strlen(want)) == 0);
    free(want);
    free(err);
    tt_config_fini(&cfg);
    free(path);
}

static void
test_missing_optional_file_is_fine(void **state)
{
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    char *path = tt_asprintf("%s/nope.ini", s_dir);
    assert_int_equal(tt_config_load_ini(&cfg, path, true, &err), TT_ENOTFOUND);
    assert_null(err);
    assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_ENOTFOUND);
    assert_non_null(err);
    free(err);
    free(path);
    tt_config_fini(&cfg);
}

static void
test_no_key_no_base_url_means_offline(void **state)
{
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_resolve(&cfg, NULL, &err), TT_OK);
    assert_string_equal(cfg.provider, "offline");
    assert_true(tt_config_is_offline(&cfg));
    tt_config_fini(&cfg);
    /* forcing openai without a key or URL is a usage error */
    tt_config_init(&cfg);
    assert_int_equal(tt_config_resolve(&cfg, "openai", &err), TT_EINVAL);
    assert_non_null(strstr(err, "OPENAI_API_KEY"));
    free(err);
    tt_config_fini(&cfg);
}

static void
test_environment_selects_provider_and_key_stays_secret(void **state)
{
    setenv("OPENAI_API_KEY", "sk-CANARY-test-123456", 1);
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1", 1);
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_resolve(&cfg, NULL, &err), TT_OK);
    assert_string_equal(cfg.provider, "openai");
    assert_string_equal(cfg.base_url, "http://127.0.0.1:9/v1");
    assert_string_equal(cfg.api_key, "sk-CANARY-test-123456");
    json_t *j = tt_config_to_json(&cfg);
    char *text = tt_json_canonical(j);
    assert_null(strstr(text, "CANARY"));
    /* and the JSON round trip keeps the settings */
    tt_config_t other;
    tt_config_init(&other);
    tt_config_from_json(&other, j);
    assert_string_equal(other.provider, "openai");
    assert_string_equal(other.base_url, "http://127.0.0.1:9/v1");
    tt_config_fini(&other);
    free(text);
    json_decref(j);
    tt_config_fini(&cfg);
    unsetenv("OPENAI_API_KEY");
    unsetenv("OPENAI_BASE_URL");
}

static void
test_azure_needs_endpoint_and_key(void **state)
{
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_resolve(&cfg, "azure", &err), TT_EINVAL);
    free(err);
    tt_config_fini(&cfg);
    setenv("AZURE_OPENAI_ENDPOINT", "https://example.invalid", 1);
    setenv("AZURE_OPENAI_KEY", "azure-secret-key", 1);
    tt_config_init(&cfg);
    assert_int_equal(tt_config_resolve(&cfg, "azure", &err), TT_OK);
    assert_string_equal(cfg.provider, "azure");
    assert_string_equal(cfg.api_key, "azure-secret-key");
    tt_config_fini(&cfg);
    unsetenv("AZURE_OPENAI_ENDPOINT");
    unsetenv("AZURE_OPENAI_KEY");
}

/* Environment values that are not printable UTF-8 are ignored, not used. */
static void
test_unprintable_environment_is_ignored(void **state)
{
    static const char *bad[] = {"http://127.0.0.1:9/v1\x01", "http://caf\xc3/v1",
                                "http://127.0.0.1:9/v1\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv("OPENAI_BASE_URL", bad[i], 1);
        tt_config_t cfg;
        tt_config_init(&cfg);
        assert_null(cfg.base_url);
        tt_config_fini(&cfg);
    }
    setenv("OPENAI_BASE_URL", "http://caf\xc3\xa9.test/v1", 1);
    tt_config_t cfg;
    tt_config_init(&cfg);
    assert_string_equal(cfg.base_url, "http://caf\xc3\xa9.test/v1");
    tt_config_fini(&cfg);
    unsetenv("OPENAI_BASE_URL");
}

/* TinyTroupe's _parse_concurrency_limit: 0, a negative number, NONE, OFF,
 * DISABLE(D) mean no limit; the client then has no cap on calls in flight. */
static void
test_concurrency_limit_none_means_unlimited(void **state)
{
    static const struct {
        const char *value;
        int want;
    } cases[] = {{"0", 0},        {"NONE", 0}, {"none", 0}, {"Off", 0},
                 {"DISABLED", 0}, {"-1", 0},   {"4", 4},    {"250", 250}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = tt_asprintf("[OpenAI]\nMAX_CONCURRENT_MODEL_CALLS=%s\n", cases[i].value);
        char *path = s_write_ini(text);
        tt_config_t cfg;
        tt_config_init(&cfg);
        char *err = NULL;
        if (tt_config_load_ini(&cfg, path, false, &err))
            fail_msg("%s: %s", cases[i].value, err);
        assert_int_equal(cfg.max_concurrent_calls, cases[i].want);
        /* survives the trip to agentd */
        json_t *j = tt_config_to_json(&cfg);
        tt_config_t other;
        tt_config_init(&other);
        tt_config_from_json(&other, j);
        assert_int_equal(other.max_concurrent_calls, cases[i].want);
        tt_config_fini(&other);
        json_decref(j);
        /* the client's cap */
        assert_int_equal(tt_config_resolve(&cfg, "offline", &err), TT_OK);
        tt_llm_conf_t conf = {0};
        assert_int_equal(tt_llm_conf_init(&conf, &cfg), TT_OK);
        assert_int_equal(conf.max_concurrent_calls, cases[i].want ? cases[i].want : INT_MAX);
        tt_llm_conf_fini(&conf);
        tt_config_fini(&cfg);
        free(path);
        free(text);
    }
}

/* FREQ_PENALTY and PRESENCE_PENALTY go into chat requests as frequency_penalty
 * and presence_penalty when non-zero, never to reasoning models. */
static void
test_penalties_are_sent(void **state)
{
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1", 1);
    const char *models[] = {"gpt-4.1-mini", "o3-mini"};
    for (int m = 0; m < 2; m++) {
        for (int set = 0; set < 2; set++) {
            char *text = tt_asprintf("[OpenAI]\nMODEL=%s\n%s", models[m],
                                     set ? "FREQ_PENALTY=0.5\nPRESENCE_PENALTY=-0.25\n" : "");
            char *path = s_write_ini(text);
            tt_config_t cfg;
            tt_config_init(&cfg);
            char *err = NULL;
            assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_OK);
            assert_int_equal(tt_config_resolve(&cfg, NULL, &err), TT_OK);
            tt_llm_conf_t conf = {0};
            assert_int_equal(tt_llm_conf_init(&conf, &cfg), TT_OK);
            json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", "hi");
            tt_llm_request_t *req = tt_llm_request_chat("test", msgs, NULL, NULL);
            json_decref(msgs); /* the request took its own reference */
            char *body_text = tt_llm_http_chat_body(&conf, req, NULL);
            json_t *body = json_loads(body_text, 0, NULL);
            assert_non_null(body);
            json_t *fp = json_object_get(body, "frequency_penalty");
            json_t *pp = json_object_get(body, "presence_penalty");
            if (set && m == 0) {
                assert_true(json_real_value(fp) == 0.5);
                assert_true(json_real_value(pp) == -0.25);
            } else {
                assert_null(fp);
                assert_null(pp);
            }
            /* and they reach agentd */
            json_t *j = tt_config_to_json(&cfg);
            tt_config_t other;
            tt_config_init(&other);
            tt_config_from_json(&other, j);
            assert_true(other.freq_penalty == (set ? 0.5 : 0));
            assert_true(other.presence_penalty == (set ? -0.25 : 0));
            tt_config_fini(&other);
            json_decref(j);
            json_decref(body);
            free(body_text);
            tt_llm_request_destroy(&req);
            tt_llm_conf_fini(&conf);
            tt_config_fini(&cfg);
            free(path);
            free(text);
        }
    }
    unsetenv("OPENAI_BASE_URL");
}

/* CACHE_FILE_NAME names the API cache in every process (it travels to agentd),
 * PARALLEL_AGENT_ACTIONS travels too; neither changes the config digest. */
static void
test_cache_file_name_and_parallel_actions_travel(void **state)
{
    char *path = s_write_ini("[OpenAI]\nCACHE_API_CALLS=True\nCACHE_FILE_NAME=my_cache.lmdb\n"
                             "[Simulation]\nPARALLEL_AGENT_ACTIONS=False\n");
    tt_config_t cfg;
    tt_config_init(&cfg);
    json_t *plain = tt_config_semantic_json(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_OK);
    assert_string_equal(cfg.cache_file_name, "my_cache.lmdb");
    assert_false(cfg.parallel_agent_actions);
    json_t *j = tt_config_to_json(&cfg);
    tt_config_t other;
    tt_config_init(&other);
    tt_config_from_json(&other, j);
    assert_string_equal(other.cache_file_name, "my_cache.lmdb");
    assert_false(other.parallel_agent_actions);
    assert_int_equal(tt_config_resolve(&other, "openai", &err), TT_EINVAL); /* no URL */
    free(err);
    tt_config_fini(&other);
    json_t *semantic = tt_config_semantic_json(&cfg);
    assert_true(json_equal(semantic, plain));
    json_decref(semantic);
    json_decref(plain);
    json_decref(j);
    tt_config_fini(&cfg);
    free(path);
}

/* The environment overrides the file, as the README and DESIGN say. */
static void
test_environment_overrides_base_url_in_file(void **state)
{
    char *path = s_write_ini("[OpenAI]\nBASE_URL=http://from-file.test/v1\n");
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_OK);
    assert_string_equal(cfg.base_url, "http://from-file.test/v1"); /* no environment */
    tt_config_fini(&cfg);
    setenv("OPENAI_BASE_URL", "http://from-env.test/v1", 1);
    setenv("AZURE_OPENAI_ENDPOINT", "https://env.example.invalid", 1);
    tt_config_init(&cfg);
    assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_OK);
    assert_string_equal(cfg.base_url, "http://from-env.test/v1");
    tt_config_fini(&cfg);
    unsetenv("OPENAI_BASE_URL");
    unsetenv("AZURE_OPENAI_ENDPOINT");
    free(path);
}

/* LOGLEVEL_CONSOLE is the stderr level, LOGLEVEL when it is absent. */
static void
test_console_log_level(void **state)
{
    static const struct {
        const char *text;
        tt_log_level_t want;
    } cases[] = {
        {"[Logging]\nLOGLEVEL=ERROR\n", TT_LOG_LEVEL_ERROR},
        {"[Logging]\nLOGLEVEL=ERROR\nLOGLEVEL_CONSOLE=INFO\nLOGLEVEL_FILE=DEBUG\n",
         TT_LOG_LEVEL_INFO},
        {"[Logging]\nLOGLEVEL=DEBUG\nLOGLEVEL_CONSOLE=NONE\n", TT_LOG_LEVEL_NONE},
    };
    unsetenv("TROUPE_LOG_LEVEL");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = s_write_ini(cases[i].text);
        tt_config_t cfg;
        tt_config_init(&cfg);
        char *err = NULL;
        assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_OK);
        assert_int_equal(tt_config_console_level(&cfg), cases[i].want);
        tt_config_fini(&cfg);
        /* and tt_config_setup applies it to stderr */
        tt_log_level_t saved = tt_log_level;
        tt_log_level = TT_LOG_LEVEL_WARN;
        assert_int_equal(tt_config_setup(&cfg, path, "offline", &err), TT_OK);
        assert_int_equal(tt_log_level, cases[i].want);
        tt_log_level = saved;
        tt_config_fini(&cfg);
        free(path);
    }
}

/* Broken config files: each names its line and column and what is wrong. */
static void
test_broken_configs_table(void **state)
{
    static const struct {
        const char *text;
        const char *where; /* ":line:col:" */
        const char *what;
    } cases[] = {
        {"[OpenAI]\nTIMEOUT=soon\n", ":2:9:", "TIMEOUT"},
        {"[OpenAI]\nMAX_ATTEMPTS=1e12\n", ":2:14:", "MAX_ATTEMPTS"},
        {"[OpenAI]\nMAX_ATTEMPTS=-3\n", ":2:14:", "integer"},
        {"[OpenAI]\nTEMPERATURE=9\n", ":2:13:", "TEMPERATURE"},
        {"[OpenAI]\nCACHE_API_CALLS=maybe\n", ":2:17:", "True or False"},
        {"[OpenAI]\nAPI_TYPE=carrier-pigeon\n", ":2:10:", "openai, azure"},
        {"[Logging]\nLOGLEVEL=LOUD\n", ":2:10:", "LOGLEVEL"},
        {"[OpenAI]\nMODEL=caf\xc3\n", ":2:7:", "UTF-8"},
        {"[OpenAI\nMODEL=x\n", ":1:1:", "syntax"},
        {"[Troupe]\nLIVENESS_MS=10\n", ":2:13:", "LIVENESS_MS"},
        {"[OpenAI]\nMAX_CONCURRENT_MODEL_CALLS=lots\n", ":2:28:", "NONE for no limit"},
        {"[OpenAI]\nFREQ_PENALTY=3\n", ":2:14:", "FREQ_PENALTY"},
        {"[Logging]\nLOGLEVEL_CONSOLE=CHATTY\n", ":2:18:", "LOGLEVEL_CONSOLE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = s_write_ini(cases[i].text);
        tt_config_t cfg;
        tt_config_init(&cfg);
        char *err = NULL;
        if (tt_config_load_ini(&cfg, path, false, &err) != TT_EINVAL || !err)
            fail_msg("case %zu accepted", i);
        char *want = tt_asprintf("%s%s", path, cases[i].where);
        if (strncmp(err, want, strlen(want)) || !strstr(err, cases[i].what))
            fail_msg("case %zu: \"%s\", want \"%s\" and \"%s\"", i, err, want, cases[i].what);
        free(want);
        free(err);
        free(path);
        tt_config_fini(&cfg);
    }
}

/* A key before any [section] is reported where it is, not ignored; a FIFO
 * (or any file that is not a regular one) is refused, never waited on. */
static void
test_key_outside_section_and_fifo(void **state)
{
    char *path = s_write_ini("; troupe\n\nMODEL = gpt-4.1\n[OpenAI]\nMODEL=x\n");
    tt_config_t cfg;
    tt_config_init(&cfg);
    char *err = NULL;
    assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_EINVAL);
    char *want = tt_asprintf("%s:3:9: MODEL: a key outside any [section]", path);
    if (!err || strncmp(err, want, strlen(want)))
        fail_msg("\"%s\", want \"%s\"", err ? err : "(null)", want);
    free(want);
    free(err);
    err = NULL;
    free(path);
    path = tt_asprintf("%s/fifo.ini", s_dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(tt_config_load_ini(&cfg, path, false, &err), TT_EINVAL);
    assert_non_null(err);
    assert_non_null(strstr(err, "not a regular file"));
    free(err);
    free(path);
    tt_config_fini(&cfg);
}

/* --model beats TROUPE_MODEL beats config.ini's MODEL; Section.KEY=value
 * settings go through config.ini's checks; the offline model keeps its name. */
static void
test_model_precedence_and_settings(void **state)
{
    char *path = s_write_ini("[OpenAI]\nMODEL=from-ini\nTEMPERATURE=1.0\n");
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1", 1);
    tt_config_t cfg;
    char *err = NULL;
    tt_config_flags_t none = {0};
    assert_int_equal(tt_config_setup_flags(&cfg, path, &none, &err), TT_OK);
    assert_string_equal(cfg.model, "from-ini");
    tt_config_fini(&cfg);
    setenv("TROUPE_MODEL", "from-env", 1);
    assert_int_equal(tt_config_setup_flags(&cfg, path, &none, &err), TT_OK);
    assert_string_equal(cfg.model, "from-env");
    tt_config_fini(&cfg);
    const char *settings[] = {"openai.temperature=0.2", "Cognition.RETRIEVAL_TOP_K=3", NULL};
    tt_config_flags_t flags = {.model = "from-flag", .settings = settings};
    assert_int_equal(tt_config_setup_flags(&cfg, path, &flags, &err), TT_OK);
    assert_string_equal(cfg.model, "from-flag");
    assert_true(cfg.temperature == 0.2);
    assert_int_equal(cfg.retrieval_top_k, 3);
    tt_config_fini(&cfg);
    const char *bad_value[] = {"OpenAI.TEMPERATURE=9", NULL};
    flags.settings = bad_value;
    assert_int_equal(tt_config_setup_flags(&cfg, path, &flags, &err), TT_EINVAL);
    assert_non_null(strstr(err, "OpenAI.TEMPERATURE=9: expected a number in [0, 2]"));
    free(err);
    tt_config_fini(&cfg);
    const char *bad_key[] = {"OpenAI.TEMPRATURE=0.2", NULL};
    flags.settings = bad_key;
    assert_int_equal(tt_config_setup_flags(&cfg, path, &flags, &err), TT_EINVAL);
    assert_non_null(strstr(err, "no such setting"));
    free(err);
    tt_config_fini(&cfg);
    flags = (tt_config_flags_t){.llm = "offline", .model = "from-flag"};
    assert_int_equal(tt_config_setup_flags(&cfg, path, &flags, &err), TT_OK);
    assert_string_equal(cfg.model, "troupe-offline");
    tt_config_fini(&cfg);
    unsetenv("TROUPE_MODEL");
    unsetenv("OPENAI_BASE_URL");
    free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tinytroupe_ini_is_read_verbatim, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_value_names_line_and_column, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_has_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_optional_file_is_fine, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_key_outside_section_and_fifo, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_no_key_no_base_url_means_offline, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_environment_selects_provider_and_key_stays_secret,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_azure_needs_endpoint_and_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unprintable_environment_is_ignored, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_concurrency_limit_none_means_unlimited, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_penalties_are_sent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cache_file_name_and_parallel_actions_travel, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_environment_overrides_base_url_in_file, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_console_log_level, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_broken_configs_table, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_model_precedence_and_settings, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
