/*  tt_config -- the effective configuration of a run.
 *
 *  Layers, later wins: built-in defaults (TinyTroupe's shipped values where they
 *  apply) -> config.ini (TinyTroupe's sections and keys, read verbatim) ->
 *  environment (OPENAI_API_KEY, OPENAI_BASE_URL, AZURE_OPENAI_ENDPOINT,
 *  AZURE_OPENAI_KEY / AZURE_OPENAI_API_KEY, TROUPE_MODEL, TROUPE_LOG_LEVEL) ->
 *  command-line flags (tt_config_flags_t: --llm, --model, Section.KEY=value).
 *
 *  Secrets (api_key) live only here and in the HTTP client; tt_config_to_json()
 *  never includes them, so the config digest in the log and the config sent to
 *  agentds are secret-free.
 */
#ifndef TT_CONFIG_H
#define TT_CONFIG_H

#include <jansson.h>
#include <stdbool.h>

#include "tt_err.h"
#include "tt_log.h"

#define TT_PROVIDER_LEN 16

typedef struct {
    /* [OpenAI] */
    char api_type[TT_PROVIDER_LEN]; /* as configured: openai | azure | ollama */
    char *model;
    char *embedding_model; /* "local" = in-process hashed embeddings */
    char *azure_api_version;
    char *base_url;       /* BASE_URL / OPENAI_BASE_URL */
    char *azure_endpoint; /* AZURE_OPENAI_ENDPOINT */
    char *reasoning_effort;
    int max_completion_tokens;
    double temperature;      /* < 0: not sent */
    double top_p;            /* < 0: not sent */
    double freq_penalty;     /* FREQ_PENALTY, sent as frequency_penalty; 0: not sent */
    double presence_penalty; /* PRESENCE_PENALTY, sent as presence_penalty; 0: not sent */
    double timeout_s;
    int max_attempts;
    double waiting_time_s;
    double backoff_factor;
    int max_concurrent_calls; /* 0: no limit (MAX_CONCURRENT_MODEL_CALLS=0 or NONE) */
    bool cache_api_calls;
    char *cache_file_name; /* the API cache (LMDB), relative to the working directory */
    int max_content_display_length;
    /* [Cognition] */
    bool enable_consolidation;
    int min_episode_length;
    int max_episode_length;
    int episodic_prefix;   /* EPISODIC_MEMORY_FIXED_PREFIX_LENGTH */
    int episodic_lookback; /* EPISODIC_MEMORY_LOOKBACK_LENGTH */
    bool contextual_retrieval;
    int retrieval_top_k;
    /* [ActionGenerator] */
    int action_max_attempts; /* malformed-output retries per call; also the
                                quality checks' regenerations and corrections */
    bool quality_checks;     /* ENABLE_QUALITY_CHECKS (tt_quality.h) */
    bool qc_regeneration;    /* ENABLE_REGENERATION */
    bool qc_direct_correction;
    bool qc_persona_adherence; /* ENABLE_QUALITY_CHECK_FOR_PERSONA_ADHERENCE */
    bool qc_selfconsistency;
    bool qc_fluency;
    bool qc_suitability;
    bool qc_similarity;
    bool qc_continue_on_failure; /* CONTINUE_ON_FAILURE: keep the best attempt */
    int quality_threshold;       /* QUALITY_THRESHOLD, 0..9 */
    /* [Simulation] */
    bool parallel_agent_actions; /* false: one agent acts at a time */
    bool rai_harmful_content;
    bool rai_copyright;
    /* [Logging] */
    tt_log_level_t log_level;         /* LOGLEVEL */
    tt_log_level_t log_level_console; /* LOGLEVEL_CONSOLE, when log_console_set */
    bool log_console_set;
    tt_log_level_t log_level_file; /* LOGLEVEL_FILE: read, but Troupe writes no log file */
    bool log_file_set;
    /* [Troupe] -- ours */
    int heartbeat_ms;
    int liveness_ms;
    int step_timeout_s;
    int register_timeout_s;
    int response_cap_kb;
    int max_connections; /* agentd connections at once, at most (coord_gate) */
    /* resolved */
    char provider[TT_PROVIDER_LEN]; /* offline | openai | azure */
    char *api_key;                  /* secret: never logged, never serialised */
} tt_config_t;

/* Defaults, then the environment. */
void tt_config_init(tt_config_t *cfg);
void tt_config_fini(tt_config_t *cfg);
/* Apply a config.ini, then the environment again (the environment overrides the
 * file: OPENAI_BASE_URL beats BASE_URL). On error *errmsg = "path:line:col:
 * what" (caller frees). A missing file is TT_ENOTFOUND with no message when
 * optional is true. */
tt_err_t tt_config_load_ini(tt_config_t *cfg, const char *path, bool optional, char **errmsg);
/* Environment variables (secrets and endpoints). */
void tt_config_load_env(tt_config_t *cfg);
/* Decide the provider: forced ("offline", "openai", "azure", "ollama") or, when
 * forced is NULL, from what is configured: no key and no base URL -> offline.
 * Returns TT_EINVAL with *errmsg when the forced provider lacks what it needs. */
tt_err_t tt_config_resolve(tt_config_t *cfg, const char *forced, char **errmsg);
/* What a command that calls the model does: init (defaults, environment), then
 * path (or ./config.ini when present and path is NULL), then resolve with the
 * forced provider (may be NULL), and raise tt_log_level to the config's unless
 * TROUPE_LOG_LEVEL is set. On error *errmsg (caller frees): "path:line:col:
 * what" for the file. cfg must be finalised by the caller either way. */
tt_err_t tt_config_setup(tt_config_t *cfg, const char *path, const char *forced, char **errmsg);

/* What a command line may set on top of config.ini and the environment. */
typedef struct {
    const char *llm;             /* --llm: the forced provider, or NULL */
    const char *model;           /* --model: beats TROUPE_MODEL, which beats config.ini's MODEL;
                                    the offline model keeps its own name */
    const char *const *settings; /* "Section.KEY=value" (config.ini's names, any case),
                                    applied in order after config.ini; NULL-terminated
                                    or NULL */
    const char *settings_flag;   /* how errors name a setting: "--set config." makes
                                    "--set config.OpenAI.X=1: ..." (NULL: "") */
} tt_config_flags_t;

/* tt_config_setup with flags. A bad setting is TT_EINVAL with *errmsg
 * "Section.KEY=value: what is wrong" (no file position: it is a flag). */
tt_err_t tt_config_setup_flags(tt_config_t *cfg, const char *path, const tt_config_flags_t *flags,
                               char **errmsg);
/* Secret-free JSON of every setting that shapes a run. Caller owns. */
json_t *tt_config_to_json(const tt_config_t *cfg);
/* The settings that can change what agents decide (model, sampling, cognition),
 * without where the model lives or how patiently it is called (URLs, timeouts,
 * retries, concurrency, heartbeats). Its digest identifies a run's config in the
 * log, so the same simulation against another endpoint hashes the same. */
json_t *tt_config_semantic_json(const tt_config_t *cfg);
/* Apply what tt_config_to_json produced (agentd side). Secrets stay as they are. */
void tt_config_from_json(tt_config_t *cfg, const json_t *json);
/* Set a string field, replacing (and freeing) the old value. */
void tt_config_set(char **field, const char *value);
bool tt_config_is_offline(const tt_config_t *cfg);
/* The level for stderr: LOGLEVEL_CONSOLE when given, else LOGLEVEL (TinyTroupe). */
tt_log_level_t tt_config_console_level(const tt_config_t *cfg);

#endif
