/*  tt_config -- defaults, config.ini (inih), environment, JSON round trip.
 *
 *  inih gives its handler no line number, so when a value is bad we note the
 *  section and key and find the line afterwards by scanning the file: the error
 *  still reads `config.ini:LINE:COL: KEY: what is wrong`.
 */
#define TT_LOG_MODULE "config"
#include "tt_config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tt_buf.h"
#include "tt_file.h"
#include "tt_json.h"
#include "tt_limits.h"
#include "tt_mem.h"

void
tt_config_set(char **field, const char *value)
{
    free(*field);
    *field = value ? tt_strdup(value) : NULL;
}

void
tt_config_init(tt_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->api_type, sizeof cfg->api_type, "openai");
    tt_config_set(&cfg->model, "gpt-5-mini");
    tt_config_set(&cfg->embedding_model, "text-embedding-3-small");
    tt_config_set(&cfg->azure_api_version, "2024-12-01-preview");
    tt_config_set(&cfg->reasoning_effort, "high");
    tt_config_set(&cfg->cache_file_name, "troupe_api_cache.lmdb");
    cfg->max_completion_tokens = 4096;
    cfg->temperature = -1;
    cfg->top_p = -1;
    cfg->timeout_s = 480;
    cfg->max_attempts = 5;
    cfg->waiting_time_s = 0; /* TinyTroupe sleeps 1 s before every call; we do not */
    cfg->backoff_factor = 5;
    /* TinyTroupe ships 4; Troupe's default is no cap (dispatch sized to the
     * population, throttled by the server's 429s and rate-limit headers in
     * tt_llm_worker). An explicit MAX_CONCURRENT_MODEL_CALLS is honoured. */
    cfg->max_concurrent_calls = 0;
    cfg->cache_api_calls = false;
    cfg->max_content_display_length = 4000;
    cfg->enable_consolidation = true;
    cfg->min_episode_length = 10;
    cfg->max_episode_length = 15;
    cfg->episodic_prefix = 10;
    cfg->episodic_lookback = 20;
    cfg->contextual_retrieval = true;
    cfg->retrieval_top_k = 7;
    cfg->action_max_attempts = 2;
    /* TinyTroupe's shipped [ActionGenerator] values */
    cfg->quality_checks = false;
    cfg->qc_regeneration = true;
    cfg->qc_direct_correction = false;
    cfg->qc_persona_adherence = true;
    cfg->qc_continue_on_failure = true;
    cfg->quality_threshold = 5;
    cfg->parallel_agent_actions = true;
    cfg->rai_harmful_content = true;
    cfg->rai_copyright = true;
    cfg->log_level = TT_LOG_LEVEL_WARN;
    cfg->heartbeat_ms = 500;
    cfg->liveness_ms = 5000;
    cfg->step_timeout_s = 600;
    cfg->register_timeout_s = 60;
    cfg->response_cap_kb = (int)(TT_LIMIT_RESPONSE_DEFAULT / 1024);
    cfg->max_connections = 100000;
    snprintf(cfg->provider, sizeof cfg->provider, "offline");
    tt_config_load_env(cfg);
}

void
tt_config_fini(tt_config_t *cfg)
{
    free(cfg->model);
    free(cfg->embedding_model);
    free(cfg->azure_api_version);
    free(cfg->base_url);
    free(cfg->azure_endpoint);
    free(cfg->reasoning_effort);
    free(cfg->cache_file_name);
    if (cfg->api_key) {
        memset(cfg->api_key, 0, strlen(cfg->api_key));
        free(cfg->api_key);
    }
    memset(cfg, 0, sizeof *cfg);
}

/* A set, non-empty variable of printable UTF-8 text; anything else is
 * ignored with a warning that names the variable, never its value. */
static const char *
s_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return NULL;
    size_t len = strlen(v);
    bool printable = tt_utf8_valid(v, len);
    for (size_t i = 0; printable && i < len; i++)
        printable = (unsigned char)v[i] >= 0x20 && v[i] != 0x7f;
    if (!printable) {
        TT_LOG_WARN("ignoring %s: its value is not printable UTF-8 text", name);
        return NULL;
    }
    return v;
}

/* The settings the environment overrides in a config.ini. */
static void
s_env_settings(tt_config_t *cfg)
{
    const char *v;
    if ((v = s_env("OPENAI_BASE_URL")))
        tt_config_set(&cfg->base_url, v);
    if ((v = s_env("AZURE_OPENAI_ENDPOINT")))
        tt_config_set(&cfg->azure_endpoint, v);
    if ((v = s_env("TROUPE_LOG_LEVEL")))
        tt_log_parse_level(v, &cfg->log_level);
}

void
tt_config_load_env(tt_config_t *cfg)
{
    s_env_settings(cfg);
    /* The key used depends on the provider, resolved later; remember both. */
    const char *key = s_env("OPENAI_API_KEY");
    const char *azure =
        s_env("AZURE_OPENAI_KEY") ? s_env("AZURE_OPENAI_KEY") : s_env("AZURE_OPENAI_API_KEY");
    tt_log_add_secret(key);
    tt_log_add_secret(azure);
}

/* ------------------------------------------------------------------ ini */

#define S_INI_CAP ((size_t)1 << 20) /* a config.ini is a few hundred bytes */

typedef struct {
    tt_config_t *cfg;
    char bad_section[64];
    char bad_key[64];
    char bad_what[160];
} s_ini_ctx_t;

static bool
s_parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
        !strcmp(v, "1")) {
        *out = true;
        return true;
    }
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
        !strcmp(v, "0")) {
        *out = false;
        return true;
    }
    return false;
}

static bool
s_parse_double(const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || d < lo || d > hi)
        return false;
    *out = d;
    return true;
}

static bool
s_parse_int(const char *v, int lo, int hi, int *out)
{
    double d;
    if (!s_parse_double(v, lo, hi, &d) || d != (double)(int)d)
        return false;
    *out = (int)d;
    return true;
}

typedef enum { S_STR, S_INT, S_DBL, S_BOOL, S_LEVEL, S_TYPE, S_LIMIT } s_kind_t;

typedef struct {
    const char *section;
    const char *key;
    s_kind_t kind;
    size_t offset;
    double lo, hi;
    size_t given; /* if not 0: a bool set when the key is in the file */
} s_key_t;

#define S_OFF(f) offsetof(tt_config_t, f)
static const s_key_t s_keys[] = {
    {"OpenAI", "API_TYPE", S_TYPE, 0, 0, 0},
    {"OpenAI", "MODEL", S_STR, S_OFF(model), 0, 0},
    {"OpenAI", "EMBEDDING_MODEL", S_STR, S_OFF(embedding_model), 0, 0},
    {"OpenAI", "AZURE_API_VERSION", S_STR, S_OFF(azure_api_version), 0, 0},
    {"OpenAI", "BASE_URL", S_STR, S_OFF(base_url), 0, 0},
    {"OpenAI", "REASONING_EFFORT", S_STR, S_OFF(reasoning_effort), 0, 0},
    {"OpenAI", "CACHE_FILE_NAME", S_STR, S_OFF(cache_file_name), 0, 0},
    {"OpenAI", "MAX_COMPLETION_TOKENS", S_INT, S_OFF(max_completion_tokens), 1, 1e7},
    {"OpenAI", "MAX_TOKENS", S_INT, S_OFF(max_completion_tokens), 1, 1e7},
    {"OpenAI", "TEMPERATURE", S_DBL, S_OFF(temperature), 0, 2},
    {"OpenAI", "TOP_P", S_DBL, S_OFF(top_p), 0, 1},
    {"OpenAI", "FREQ_PENALTY", S_DBL, S_OFF(freq_penalty), -2, 2},
    {"OpenAI", "PRESENCE_PENALTY", S_DBL, S_OFF(presence_penalty), -2, 2},
    {"OpenAI", "TIMEOUT", S_DBL, S_OFF(timeout_s), 0.1, 86400},
    {"OpenAI", "MAX_ATTEMPTS", S_INT, S_OFF(max_attempts), 1, 100},
    {"OpenAI", "WAITING_TIME", S_DBL, S_OFF(waiting_time_s), 0, 3600},
    {"OpenAI", "EXPONENTIAL_BACKOFF_FACTOR", S_DBL, S_OFF(backoff_factor), 1, 100},
    {"OpenAI", "MAX_CONCURRENT_MODEL_CALLS", S_LIMIT, S_OFF(max_concurrent_calls), -1e9, 100000},
    {"OpenAI", "CACHE_API_CALLS", S_BOOL, S_OFF(cache_api_calls), 0, 0},
    {"OpenAI", "MAX_CONTENT_DISPLAY_LENGTH", S_INT, S_OFF(max_content_display_length), 16, 1e7},
    {"Cognition", "ENABLE_MEMORY_CONSOLIDATION", S_BOOL, S_OFF(enable_consolidation), 0, 0},
    {"Cognition", "MIN_EPISODE_LENGTH", S_INT, S_OFF(min_episode_length), 1, 1e6},
    {"Cognition", "MAX_EPISODE_LENGTH", S_INT, S_OFF(max_episode_length), 1, 1e6},
    {"Cognition", "EPISODIC_MEMORY_FIXED_PREFIX_LENGTH", S_INT, S_OFF(episodic_prefix), 0, 1000},
    {"Cognition", "EPISODIC_MEMORY_LOOKBACK_LENGTH", S_INT, S_OFF(episodic_lookback), 0, 1000},
    {"Cognition", "ENABLE_CONTINUOUS_CONTEXTUAL_SEMANTIC_MEMORY_RETRIEVAL", S_BOOL,
     S_OFF(contextual_retrieval), 0, 0},
    {"Cognition", "RETRIEVAL_TOP_K", S_INT, S_OFF(retrieval_top_k), 1, 100},
    {"ActionGenerator", "MAX_ATTEMPTS", S_INT, S_OFF(action_max_attempts), 1, 20},
    {"ActionGenerator", "ENABLE_QUALITY_CHECKS", S_BOOL, S_OFF(quality_checks), 0, 0},
    {"ActionGenerator", "ENABLE_REGENERATION", S_BOOL, S_OFF(qc_regeneration), 0, 0},
    {"ActionGenerator", "ENABLE_DIRECT_CORRECTION", S_BOOL, S_OFF(qc_direct_correction), 0, 0},
    {"ActionGenerator", "ENABLE_QUALITY_CHECK_FOR_PERSONA_ADHERENCE", S_BOOL,
     S_OFF(qc_persona_adherence), 0, 0},
    {"ActionGenerator", "ENABLE_QUALITY_CHECK_FOR_SELFCONSISTENCY", S_BOOL,
     S_OFF(qc_selfconsistency), 0, 0},
    {"ActionGenerator", "ENABLE_QUALITY_CHECK_FOR_FLUENCY", S_BOOL, S_OFF(qc_fluency), 0, 0},
    {"ActionGenerator", "ENABLE_QUALITY_CHECK_FOR_SUITABILITY", S_BOOL, S_OFF(qc_suitability), 0,
     0},
    {"ActionGenerator", "ENABLE_QUALITY_CHECK_FOR_SIMILARITY", S_BOOL, S_OFF(qc_similarity), 0, 0},
    {"ActionGenerator", "CONTINUE_ON_FAILURE", S_BOOL, S_OFF(qc_continue_on_failure), 0, 0},
    {"ActionGenerator", "QUALITY_THRESHOLD", S_INT, S_OFF(quality_threshold), 0, 9},
    {"Simulation", "PARALLEL_AGENT_ACTIONS", S_BOOL, S_OFF(parallel_agent_actions), 0, 0},
    {"Simulation", "RAI_HARMFUL_CONTENT_PREVENTION", S_BOOL, S_OFF(rai_harmful_content), 0, 0},
    {"Simulation", "RAI_COPYRIGHT_INFRINGEMENT_PREVENTION", S_BOOL, S_OFF(rai_copyright), 0, 0},
    {"Logging", "LOGLEVEL", S_LEVEL, S_OFF(log_level), 0, 0},
    {"Logging", "LOGLEVEL_CONSOLE", S_LEVEL, S_OFF(log_level_console), 0, 0,
     S_OFF(log_console_set)},
    {"Logging", "LOGLEVEL_FILE", S_LEVEL, S_OFF(log_level_file), 0, 0, S_OFF(log_file_set)},
    {"Troupe", "HEARTBEAT_MS", S_INT, S_OFF(heartbeat_ms), 10, 600000},
    {"Troupe", "LIVENESS_MS", S_INT, S_OFF(liveness_ms), 50, 3600000},
    {"Troupe", "STEP_TIMEOUT_S", S_INT, S_OFF(step_timeout_s), 1, 86400},
    {"Troupe", "REGISTER_TIMEOUT_S", S_INT, S_OFF(register_timeout_s), 1, 86400},
    {"Troupe", "MAX_CONNECTIONS", S_INT, S_OFF(max_connections), 1, 1000000},
    {"Troupe", "RESPONSE_CAP_KB", S_INT, S_OFF(response_cap_kb), 1, TT_LIMIT_RESPONSE / 1024},
};

static bool
s_apply(tt_config_t *cfg, const s_key_t *k, const char *value, char *what, size_t cap)
{
    char *base = (char *)cfg;
    switch (k->kind) {
    case S_STR:
        if (!tt_utf8_valid(value, strlen(value))) {
            snprintf(what, cap, "expected UTF-8 text");
            return false;
        }
        tt_config_set((char **)(base + k->offset), value);
        return true;
    case S_INT:
        if (s_parse_int(value, (int)k->lo, (int)k->hi, (int *)(base + k->offset)))
            return true;
        snprintf(what, cap, "expected an integer in [%.0f, %.0f], got \"%s\"", k->lo, k->hi, value);
        return false;
    case S_DBL:
        if (s_parse_double(value, k->lo, k->hi, (double *)(base + k->offset)))
            return true;
        snprintf(what, cap, "expected a number in [%g, %g], got \"%s\"", k->lo, k->hi, value);
        return false;
    case S_BOOL:
        if (s_parse_bool(value, (bool *)(base + k->offset)))
            return true;
        snprintf(what, cap, "expected True or False, got \"%s\"", value);
        return false;
    case S_LEVEL:
        if (tt_log_parse_level(value, (tt_log_level_t *)(base + k->offset))) {
            if (k->given)
                *(bool *)(base + k->given) = true;
            return true;
        }
        snprintf(what, cap, "expected ERROR, WARNING, INFO, DEBUG or NONE, got \"%s\"", value);
        return false;
    case S_TYPE:
        if (!strcasecmp(value, "openai") || !strcasecmp(value, "azure") ||
            !strcasecmp(value, "ollama") || !strcasecmp(value, "offline")) {
            snprintf(cfg->api_type, sizeof cfg->api_type, "%s", value);
            for (char *c = cfg->api_type; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            return true;
        }
        snprintf(what, cap, "expected openai, azure, ollama or offline, got \"%s\"", value);
        return false;
    case S_LIMIT: {
        /* TinyTroupe's _parse_concurrency_limit: NONE/OFF/DISABLE(D) or <= 0 is
         * no limit (stored as 0) */
        static const char *off[] = {"NONE", "OFF", "DISABLE", "DISABLED"};
        int *limit = (int *)(base + k->offset);
        for (size_t i = 0; i < sizeof off / sizeof off[0]; i++)
            if (!strcasecmp(value, off[i])) {
                *limit = 0;
                return true;
            }
        if (s_parse_int(value, (int)k->lo, (int)k->hi, limit)) {
            if (*limit < 0)
                *limit = 0;
            return true;
        }
        snprintf(what, cap,
                 "expected a number of calls up to %.0f, or 0 or NONE for no limit, got \"%s\"",
                 k->hi, value);
        return false;
    }
    }
    return false;
}

static int
s_ini_handler(void *user, const char *section, const char *name, const char *value)
{
    s_ini_ctx_t *ctx = user;
    /* TinyTroupe's ini allows empty values meaning "unset": keep the default. */
    if (!value || !*value)
        return 1;
    if (!*section) {
        /* TinyTroupe's config.ini puts every key under a [section]; one
         * outside any would be silently ignored, so it is an error */
        snprintf(ctx->bad_key, sizeof ctx->bad_key, "%s", name);
        snprintf(ctx->bad_what, sizeof ctx->bad_what,
                 "a key outside any [section] (put it under [OpenAI], [Simulation], ...)");
        return 0;
    }
    for (size_t i = 0; i < sizeof s_keys / sizeof s_keys[0]; i++) {
        const s_key_t *k = &s_keys[i];
        if (strcasecmp(section, k->section) || strcasecmp(name, k->key))
            continue;
        if (s_apply(ctx->cfg, k, value, ctx->bad_what, sizeof ctx->bad_what))
            return 1;
        snprintf(ctx->bad_section, sizeof ctx->bad_section, "%s", section);
        snprintf(ctx->bad_key, sizeof ctx->bad_key, "%s", name);
        return 0;
    }
    TT_LOG_DEBUG("ignoring unknown key [%s] %s", section, name);
    return 1;
}

/* Find "key = value" inside [section]; report line and the value's column. */
static void
s_find_key(const char *path, const char *section, const char *key, int *line, int *col)
{
    *line = 1;
    *col = 1;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char buf[1024], cur[64] = "";
    for (int n = 1; fgets(buf, sizeof buf, f); n++) {
        char *p = buf;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '[') {
            char *end = strchr(p, ']');
            if (end)
                snprintf(cur, sizeof cur, "%.*s", (int)(end - p - 1), p + 1);
            continue;
        }
        size_t klen = strlen(key);
        if (!strcasecmp(cur, section) && !strncasecmp(p, key, klen) &&
            (isspace((unsigned char)p[klen]) || p[klen] == '=' || p[klen] == ':')) {
            char *v = p + klen;
            while (*v && (isspace((unsigned char)*v) || *v == '=' || *v == ':'))
                v++;
            *line = n;
            *col = (int)(v - buf) + 1;
            break;
        }
    }
    fclose(f);
}

tt_err_t
tt_config_load_ini(tt_config_t *cfg, const char *path, bool optional, char **errmsg)
{
    *errmsg = NULL;
    tt_buf_t text;
    tt_buf_init(&text, S_INI_CAP);
    char *why = NULL;
    tt_err_t err = tt_read_file(path, &text, &why);
    if (err) {
        if (!(optional && err == TT_ENOTFOUND))
            *errmsg = tt_asprintf("%s:1:1: %s", path, why);
        free(why);
        tt_buf_fini(&text);
        return err == TT_ENOTFOUND ? TT_ENOTFOUND : TT_EINVAL;
    }
    s_ini_ctx_t ctx = {.cfg = cfg};
    int rc = ini_parse_string(tt_buf_str(&text), s_ini_handler, &ctx);
    tt_buf_fini(&text);
    if (rc == 0) {
        s_env_settings(cfg); /* the environment overrides the file */
        return TT_OK;
    }
    int line = 0, col;
    if (ctx.bad_key[0])
        s_find_key(path, ctx.bad_section, ctx.bad_key, &line, &col);
    if (line && line <= rc) { /* else a syntax error came first (rc is its line) */
        *errmsg = tt_asprintf("%s:%d:%d: %s: %s", path, line, col, ctx.bad_key, ctx.bad_what);
    } else {
        *errmsg =
            tt_asprintf("%s:%d:1: syntax error (expected [section] or KEY = value)", path, rc);
    }
    return TT_EINVAL;
}

/* ------------------------------------------------------------------ resolve */

tt_err_t
tt_config_resolve(tt_config_t *cfg, const char *forced, char **errmsg)
{
    *errmsg = NULL;
    const char *openai_key = s_env("OPENAI_API_KEY");
    const char *azure_key =
        s_env("AZURE_OPENAI_KEY") ? s_env("AZURE_OPENAI_KEY") : s_env("AZURE_OPENAI_API_KEY");
    const char *want = forced;
    if (!want) {
        if (!strcmp(cfg->api_type, "offline"))
            want = "offline";
        else if (!strcmp(cfg->api_type, "azure") && cfg->azure_endpoint)
            want = "azure";
        else if (openai_key || cfg->base_url)
            want = "openai";
        else
            want = "offline";
    }
    if (!strcmp(want, "offline")) {
        snprintf(cfg->provider, sizeof cfg->provider, "offline");
        tt_config_set(&cfg->model, "troupe-offline");
        tt_config_set(&cfg->embedding_model, "local");
    } else if (!strcmp(want, "openai") || !strcmp(want, "ollama")) {
        if (!openai_key && !cfg->base_url) {
            *errmsg = tt_asprintf("--llm %s needs OPENAI_API_KEY or OPENAI_BASE_URL", want);
            return TT_EINVAL;
        }
        if (!cfg->base_url)
            tt_config_set(&cfg->base_url, !strcmp(want, "ollama") ? "http://localhost:11434/v1"
                                                                  : "https://api.openai.com/v1");
        snprintf(cfg->provider, sizeof cfg->provider, "%s", want);
        tt_config_set(&cfg->api_key, openai_key);
    } else if (!strcmp(want, "azure")) {
        if (!cfg->azure_endpoint || !azure_key) {
            *errmsg = tt_asprintf("--llm azure needs AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_KEY");
            return TT_EINVAL;
        }
        snprintf(cfg->provider, sizeof cfg->provider, "azure");
        tt_config_set(&cfg->api_key, azure_key);
    } else {
        *errmsg = tt_asprintf("unknown LLM provider \"%s\" (offline, openai, azure, ollama)", want);
        return TT_EINVAL;
    }
    return TT_OK;
}

bool
tt_config_is_offline(const tt_config_t *cfg)
{
    return strcmp(cfg->provider, "offline") == 0;
}

tt_log_level_t
tt_config_console_level(const tt_config_t *cfg)
{
    return cfg->log_console_set ? cfg->log_level_console : cfg->log_level;
}

/* ------------------------------------------------------------------ JSON */

json_t *
tt_config_to_json(const tt_config_t *c)
{
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:i, s:f, s:f, s:f, s:i, s:f, s:f, s:i, s:b,"
        " s:i, s:b, s:i, s:i, s:i, s:i, s:b, s:i, s:i, s:b, s:b, s:i, s:i, s:i}",
        "provider", c->provider, "model", c->model, "embedding_model", c->embedding_model,
        "base_url", c->base_url, "azure_endpoint", c->azure_endpoint, "azure_api_version",
        c->azure_api_version, "reasoning_effort", c->reasoning_effort, "max_completion_tokens",
        c->max_completion_tokens, "temperature", c->temperature, "top_p", c->top_p, "timeout_s",
        c->timeout_s, "max_attempts", c->max_attempts, "waiting_time_s", c->waiting_time_s,
        "backoff_factor", c->backoff_factor, "max_concurrent_calls", c->max_concurrent_calls,
        "cache_api_calls", c->cache_api_calls, "max_content_display_length",
        c->max_content_display_length, "enable_consolidation", c->enable_consolidation,
        "min_episode_length", c->min_episode_length, "max_episode_length", c->max_episode_length,
        "episodic_prefix", c->episodic_prefix, "episodic_lookback", c->episodic_lookback,
        "contextual_retrieval", c->contextual_retrieval, "retrieval_top_k", c->retrieval_top_k,
        "action_max_attempts", c->action_max_attempts, "rai_harmful_content",
        c->rai_harmful_content, "rai_copyright", c->rai_copyright, "heartbeat_ms", c->heartbeat_ms,
        "liveness_ms", c->liveness_ms, "response_cap_kb", c->response_cap_kb);
    TT_ASSERT(j);
    json_object_set_new(j, "cache_file_name", json_string(c->cache_file_name));
    json_object_set_new(j, "parallel_agent_actions", json_boolean(c->parallel_agent_actions));
    /* only when set, so that a config without them keeps its digest */
    if (c->freq_penalty != 0)
        json_object_set_new(j, "freq_penalty", json_real(c->freq_penalty));
    if (c->presence_penalty != 0)
        json_object_set_new(j, "presence_penalty", json_real(c->presence_penalty));
    /* only when on, so that a config without quality checks keeps its digest */
    if (c->quality_checks)
        json_object_set_new(
            j, "action_quality",
            json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:i}", "regeneration",
                      c->qc_regeneration, "direct_correction", c->qc_direct_correction,
                      "persona_adherence", c->qc_persona_adherence, "selfconsistency",
                      c->qc_selfconsistency, "fluency", c->qc_fluency, "suitability",
                      c->qc_suitability, "similarity", c->qc_similarity, "continue_on_failure",
                      c->qc_continue_on_failure, "threshold", c->quality_threshold));
    return j;
}

json_t *
tt_config_semantic_json(const tt_config_t *cfg)
{
    static const char *transport[] = {
        "base_url",        "azure_endpoint",         "azure_api_version",
        "timeout_s",       "max_attempts",           "waiting_time_s",
        "backoff_factor",  "max_concurrent_calls",   "cache_api_calls",
        "cache_file_name", "parallel_agent_actions", "heartbeat_ms",
        "liveness_ms",     "response_cap_kb",        NULL};
    json_t *j = tt_config_to_json(cfg);
    for (size_t i = 0; transport[i]; i++)
        json_object_del(j, transport[i]);
    return j;
}

static void
s_json_str(const json_t *j, const char *key, char **field)
{
    json_t *v = json_object_get(j, key);
    if (json_is_string(v))
        tt_config_set(field, json_string_value(v));
}

static void
s_json_int(const json_t *j, const char *key, int *field)
{
    json_t *v = json_object_get(j, key);
    if (json_is_integer(v))
        *field = (int)json_integer_value(v);
}

static void
s_json_num(const json_t *j, const char *key, double *field)
{
    json_t *v = json_object_get(j, key);
    if (json_is_number(v))
        *field = json_number_value(v);
}

static void
s_json_bool(const json_t *j, const char *key, bool *field)
{
    json_t *v = json_object_get(j, key);
    if (json_is_boolean(v))
        *field = json_is_true(v);
}

void
tt_config_from_json(tt_config_t *c, const json_t *j)
{
    char provider[TT_PROVIDER_LEN];
    snprintf(provider, sizeof provider, "%s", tt_json_str(j, "provider", c->provider));
    snprintf(c->provider, sizeof c->provider, "%s", provider);
    s_json_str(j, "model", &c->model);
    s_json_str(j, "embedding_model", &c->embedding_model);
    s_json_str(j, "base_url", &c->base_url);
    s_json_str(j, "azure_endpoint", &c->azure_endpoint);
    s_json_str(j, "azure_api_version", &c->azure_api_version);
    s_json_str(j, "reasoning_effort", &c->reasoning_effort);
    s_json_int(j, "max_completion_tokens", &c->max_completion_tokens);
    s_json_num(j, "temperature", &c->temperature);
    s_json_num(j, "top_p", &c->top_p);
    s_json_num(j, "freq_penalty", &c->freq_penalty);
    s_json_num(j, "presence_penalty", &c->presence_penalty);
    s_json_num(j, "timeout_s", &c->timeout_s);
    s_json_int(j, "max_attempts", &c->max_attempts);
    s_json_num(j, "waiting_time_s", &c->waiting_time_s);
    s_json_num(j, "backoff_factor", &c->backoff_factor);
    s_json_int(j, "max_concurrent_calls", &c->max_concurrent_calls);
    s_json_bool(j, "cache_api_calls", &c->cache_api_calls);
    s_json_str(j, "cache_file_name", &c->cache_file_name);
    s_json_bool(j, "parallel_agent_actions", &c->parallel_agent_actions);
    s_json_int(j, "max_content_display_length", &c->max_content_display_length);
    s_json_bool(j, "enable_consolidation", &c->enable_consolidation);
    s_json_int(j, "min_episode_length", &c->min_episode_length);
    s_json_int(j, "max_episode_length", &c->max_episode_length);
    s_json_int(j, "episodic_prefix", &c->episodic_prefix);
    s_json_int(j, "episodic_lookback", &c->episodic_lookback);
    s_json_bool(j, "contextual_retrieval", &c->contextual_retrieval);
    s_json_int(j, "retrieval_top_k", &c->retrieval_top_k);
    s_json_int(j, "action_max_attempts", &c->action_max_attempts);
    const json_t *q = json_object_get(j, "action_quality");
    c->quality_checks = json_is_object(q);
    if (c->quality_checks) {
        s_json_bool(q, "regeneration", &c->qc_regeneration);
        s_json_bool(q, "direct_correction", &c->qc_direct_correction);
        s_json_bool(q, "persona_adherence", &c->qc_persona_adherence);
        s_json_bool(q, "selfconsistency", &c->qc_selfconsistency);
        s_json_bool(q, "fluency", &c->qc_fluency);
        s_json_bool(q, "suitability", &c->qc_suitability);
        s_json_bool(q, "similarity", &c->qc_similarity);
        s_json_bool(q, "continue_on_failure", &c->qc_continue_on_failure);
        s_json_int(q, "threshold", &c->quality_threshold);
    }
    s_json_bool(j, "rai_harmful_content", &c->rai_harmful_content);
    s_json_bool(j, "rai_copyright", &c->rai_copyright);
    s_json_int(j, "heartbeat_ms", &c->heartbeat_ms);
    s_json_int(j, "liveness_ms", &c->liveness_ms);
    s_json_int(j, "response_cap_kb", &c->response_cap_kb);
}

/* One "Section.KEY=value" from a command line, through the same table and
 * checks as config.ini. */
static tt_err_t
s_apply_setting(tt_config_t *cfg, const char *flag, const char *setting, char **errmsg)
{
    const char *dot = strchr(setting, '.');
    const char *eq = strchr(setting, '=');
    if (!dot || !eq || dot > eq) {
        *errmsg = tt_asprintf("%s%s: expected Section.KEY=value (a config.ini key)", flag, setting);
        return TT_EINVAL;
    }
    size_t slen = (size_t)(dot - setting), klen = (size_t)(eq - dot - 1);
    for (size_t i = 0; i < sizeof s_keys / sizeof s_keys[0]; i++) {
        const s_key_t *k = &s_keys[i];
        if (strlen(k->section) != slen || strncasecmp(setting, k->section, slen) ||
            strlen(k->key) != klen || strncasecmp(dot + 1, k->key, klen))
            continue;
        char what[160];
        if (s_apply(cfg, k, eq + 1, what, sizeof what))
            return TT_OK;
        *errmsg = tt_asprintf("%s%s: %s", flag, setting, what);
        return TT_EINVAL;
    }
    *errmsg = tt_asprintf("%s%s: no such setting (config.ini's sections and keys, e.g. "
                          "OpenAI.TEMPERATURE, Cognition.RETRIEVAL_TOP_K)",
                          flag, setting);
    return TT_EINVAL;
}

tt_err_t
tt_config_setup_flags(tt_config_t *cfg, const char *path, const tt_config_flags_t *flags,
                      char **errmsg)
{
    *errmsg = NULL;
    tt_config_init(cfg);
    const char *file = path ? path : "config.ini";
    tt_err_t rc = tt_config_load_ini(cfg, file, path == NULL, errmsg);
    if (rc == TT_ENOTFOUND && !path) {
        free(*errmsg);
        *errmsg = NULL;
        rc = TT_OK;
    }
    if (rc) {
        if (!*errmsg)
            *errmsg = tt_asprintf("%s:1:1: %s", file, tt_strerror(rc));
        return rc;
    }
    const char *model = s_env("TROUPE_MODEL");
    if (model)
        tt_config_set(&cfg->model, model);
    for (size_t i = 0; flags->settings && flags->settings[i]; i++)
        if ((rc = s_apply_setting(cfg, flags->settings_flag ? flags->settings_flag : "",
                                  flags->settings[i], errmsg)) != TT_OK)
            return rc;
    if (flags->model)
        tt_config_set(&cfg->model, flags->model);
    if ((rc = tt_config_resolve(cfg, flags->llm, errmsg)) != TT_OK)
        return rc;
    tt_log_level_t level = tt_config_console_level(cfg);
    if (!getenv("TROUPE_LOG_LEVEL")) {
        /* flags were parsed first: a level raised by one stays; a quieter
         * level applies when nothing changed the default */
        if (tt_log_level < level || tt_log_level == TT_LOG_LEVEL_WARN)
            tt_log_level = level;
    }
    if (cfg->log_file_set && cfg->log_level_file != TT_LOG_LEVEL_NONE)
        TT_LOG_WARN("LOGLEVEL_FILE is not used: Troupe writes no log file (the run's record is "
                    "its transaction log); stderr follows LOGLEVEL_CONSOLE");
    return TT_OK;
}

tt_err_t
tt_config_setup(tt_config_t *cfg, const char *path, const char *forced, char **errmsg)
{
    tt_config_flags_t flags = {.llm = forced};
    return tt_config_setup_flags(cfg, path, &flags, errmsg);
}
