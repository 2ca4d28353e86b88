/*  fakellm_config -- point a client configuration at a fakellm (for tests).
 *
 *  Kept next to the server so every LLM test starts from the same small
 *  timeouts and backoff, and the suite stays fast.
 */
#include <stdio.h>

#include "fakellm_impl.h"
#include "tt_mem.h"

void
fakellm_config_client(const fakellm_t *self, tt_config_t *cfg)
{
    snprintf(cfg->provider, sizeof cfg->provider, "openai");
    snprintf(cfg->api_type, sizeof cfg->api_type, "openai");
    char *url = fakellm_base_url(self);
    tt_config_set(&cfg->base_url, url);
    free(url);
    tt_config_set(&cfg->model, "test-model");
    tt_config_set(&cfg->embedding_model, "test-embedding");
    tt_config_set(&cfg->api_key, self->api_key ? self->api_key : "sk-fakellm-test");
    cfg->timeout_s = 2;
    cfg->max_attempts = 4;
    cfg->waiting_time_s = 0.01;
    cfg->backoff_factor = 2;
    cfg->max_concurrent_calls = 8;
    cfg->action_max_attempts = 2;
    cfg->response_cap_kb = 1024;
    cfg->cache_api_calls = false;
}
