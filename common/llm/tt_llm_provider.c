/*  tt_llm_provider -- the table of backend quirks.
 *
 *  Facts behind the rows (shared/reference/llm-and-deps.md sections 1.1, 1.6,
 *  1.7): OpenAI deprecates max_tokens in favour of max_completion_tokens, which
 *  o-series and gpt-5 models require; Ollama, llama.cpp and older vLLM read only
 *  max_tokens. All of them take response_format json_schema (Ollama and
 *  llama.cpp ignore "strict"). Azure authenticates with an "api-key" header,
 *  selects the model by deployment in the URL, and takes json_schema from API
 *  version 2024-08-01-preview on; older versions only take json_object.
 */
#include "tt_llm_provider.h"

#include <string.h>

static const tt_llm_provider_t s_providers[] = {
    {"offline", TT_LLM_URL_LOCAL, TT_LLM_AUTH_NONE, "max_tokens", true, NULL, true, NULL},
    {"openai", TT_LLM_URL_BASE, TT_LLM_AUTH_BEARER, "max_completion_tokens", true, NULL, true,
     "OPENAI_API_KEY"},
    {"compat", TT_LLM_URL_BASE, TT_LLM_AUTH_BEARER, "max_tokens", true, NULL, true,
     "OPENAI_API_KEY"},
    {"ollama", TT_LLM_URL_BASE, TT_LLM_AUTH_BEARER, "max_tokens", true, NULL, false,
     "OPENAI_API_KEY"},
    {"azure", TT_LLM_URL_AZURE, TT_LLM_AUTH_API_KEY, "max_completion_tokens", true,
     "2024-08-01-preview", true, "AZURE_OPENAI_KEY"},
};

#define S_OPENAI_HOST "https://api.openai.com/"

const tt_llm_provider_t *
tt_llm_provider_find(const char *provider, const char *base_url)
{
    if (provider && !strcmp(provider, "openai") && base_url &&
        strncmp(base_url, S_OPENAI_HOST, strlen(S_OPENAI_HOST)) != 0)
        provider = "compat";
    for (size_t i = 0; provider && i < sizeof s_providers / sizeof s_providers[0]; i++)
        if (!strcmp(s_providers[i].name, provider))
            return &s_providers[i];
    return NULL;
}

bool
tt_llm_provider_takes_schema(const tt_llm_provider_t *p, const char *api_version)
{
    if (!p->json_schema)
        return false;
    if (!p->json_schema_since)
        return true;
    /* Azure API versions are dates ("2024-10-21", "2024-08-01-preview"), so
     * comparing the first ten characters orders them. */
    return api_version && strncmp(api_version, p->json_schema_since, 10) >= 0;
}

bool
tt_llm_model_is_reasoning(const char *model)
{
    return model && (strstr(model, "o1") || strstr(model, "o3") || !strncmp(model, "gpt-5", 5));
}

bool
tt_llm_model_takes_effort(const char *model)
{
    return model && (strstr(model, "o1") || strstr(model, "o3"));
}
