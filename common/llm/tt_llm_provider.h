/*  tt_llm_provider -- what differs between LLM backends, as data (private).
 *
 *  Every wire quirk the client knows lives in one table row: the name of the
 *  token-cap field, whether structured output may be asked for with a JSON
 *  schema or only as "some JSON object", the auth header, the URL shape and the
 *  environment variable to name when a key is rejected. Code asks the row; it
 *  never compares provider names. Rows are static and immutable, so both the
 *  caller thread and the worker read them freely.
 */
#ifndef TT_LLM_PROVIDER_H
#define TT_LLM_PROVIDER_H

#include <stdbool.h>

typedef enum {
    TT_LLM_AUTH_NONE,    /* in-process: no key */
    TT_LLM_AUTH_BEARER,  /* Authorization: Bearer KEY */
    TT_LLM_AUTH_API_KEY, /* api-key: KEY (Azure) */
} tt_llm_auth_t;

typedef enum {
    TT_LLM_URL_LOCAL, /* no URL: the offline model in this process */
    TT_LLM_URL_BASE,  /* {base}/chat/completions, {base}/embeddings */
    TT_LLM_URL_AZURE, /* {endpoint}/openai/deployments/{model}/...?api-version=V */
} tt_llm_url_shape_t;

typedef struct {
    const char *name; /* offline | openai | compat | ollama | azure */
    tt_llm_url_shape_t url_shape;
    tt_llm_auth_t auth;
    const char *token_cap_field;   /* "max_completion_tokens" or "max_tokens" */
    bool json_schema;              /* response_format json_schema is understood */
    const char *json_schema_since; /* first api-version that takes it (Azure); NULL: any */
    bool strict;                   /* send "strict": true with the schema */
    const char *key_env;           /* variable to check when the key is rejected */
} tt_llm_provider_t;

/* The row for a resolved provider name ("offline", "openai", "ollama", "azure").
 * "openai" with a base URL other than api.openai.com (llama.cpp, vLLM, a proxy)
 * gets the "compat" row. NULL for an unknown name. Static storage. */
const tt_llm_provider_t *tt_llm_provider_find(const char *provider, const char *base_url);

/* May a request ask for json_schema here? (Azure: only from json_schema_since.) */
bool tt_llm_provider_takes_schema(const tt_llm_provider_t *p, const char *api_version);

/* Reasoning models (name contains "o1" or "o3", or starts with "gpt-5") take
 * no temperature or top_p, as TinyTroupe does. */
bool tt_llm_model_is_reasoning(const char *model);
/* o-series models also get reasoning_effort (TinyTroupe sends it for o1/o3). */
bool tt_llm_model_takes_effort(const char *model);

#endif
