/*  coord_check -- one small model call before a run spends anything.
 *
 *  A wrong key, an unknown model or an endpoint that is not there would
 *  otherwise show up as every agent failing every step. The check is a chat
 *  call of one line with few attempts and a short deadline; what it proves is
 *  that the endpoint answers, accepts the key and knows the model. An answer
 *  the model gets wrong (not "OK", empty, cut) still proves that much.
 */
#define TT_LOG_MODULE "check"
#include "coord_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_llm.h"
#include "tt_log.h"
#include "tt_mem.h"

#define S_CHECK_ATTEMPTS   3
#define S_CHECK_TIMEOUT_S  30.0
#define S_CHECK_MAX_TOKENS 256

/* The HTTP status an error text names ("... (HTTP 401) ..."), or 0. */
static long
s_status_in(const char *text)
{
    const char *p = text ? strstr(text, "HTTP ") : NULL;
    return p ? strtol(p + 5, NULL, 10) : 0;
}

/* The client's text without the URL it starts with ("URL: why" -> "why"). */
static const char *
s_cause(const char *text)
{
    const char *p = strstr(text, ": ");
    return p && !strncmp(text, "http", 4) ? p + 2 : text;
}

static char *
s_explain(const tt_config_t *cfg, const tt_llm_result_t *r)
{
    bool azure = !strcmp(cfg->provider, "azure");
    const char *where = azure ? cfg->azure_endpoint : cfg->base_url;
    const char *key_env = azure ? "AZURE_OPENAI_KEY" : "OPENAI_API_KEY";
    const char *url_env = azure ? "AZURE_OPENAI_ENDPOINT" : "OPENAI_BASE_URL";
    const char *text = r->error_text ? r->error_text : tt_strerror(r->err);
    long status = s_status_in(r->error_text);
    switch (r->err) {
    case TT_EAUTH:
        return tt_asprintf("%s refused the API key (HTTP %ld): set %s to a key it accepts", where,
                           status, key_env);
    case TT_ENOTFOUND:
        return tt_asprintf("%s does not know the model \"%s\" (HTTP 404): pick one it serves with "
                           "--model, TROUPE_MODEL or MODEL in config.ini%s",
                           where, cfg->model, azure ? " (the deployment name)" : "");
    case TT_EQUOTA:
        return tt_asprintf("%s: the API key has no quota left (HTTP 429 insufficient_quota): "
                           "add credit or use another key in %s",
                           where, key_env);
    case TT_EINVAL:
        return tt_asprintf("%s rejected a one-line request for model \"%s\" (HTTP %ld): %s", where,
                           cfg->model, status, text);
    default:
        if (status)
            return tt_asprintf("%s answered a one-line request with HTTP %ld: %s", where, status,
                               text);
        return tt_asprintf("cannot reach the model at %s (%s): start the server or set %s "
                           "(or use --llm offline)",
                           where, s_cause(text), url_env);
    }
}

tt_err_t
coord_check_model(const tt_config_t *cfg, char **errmsg)
{
    *errmsg = NULL;
    if (tt_config_is_offline(cfg))
        return TT_OK;
    tt_config_t quick = *cfg; /* tt_llm_new copies what it keeps */
    if (quick.max_attempts > S_CHECK_ATTEMPTS)
        quick.max_attempts = S_CHECK_ATTEMPTS;
    if (quick.timeout_s > S_CHECK_TIMEOUT_S)
        quick.timeout_s = S_CHECK_TIMEOUT_S;
    if (quick.max_completion_tokens > S_CHECK_MAX_TOKENS)
        quick.max_completion_tokens = S_CHECK_MAX_TOKENS;
    quick.action_max_attempts = 1;
    quick.cache_api_calls = false;
    quick.max_concurrent_calls = 1;
    tt_llm_t *llm = NULL;
    tt_err_t err = tt_llm_new(&quick, &llm);
    if (err) {
        *errmsg = tt_asprintf("cannot start the model client: %s", tt_strerror(err));
        return err;
    }
    json_t *messages =
        json_pack("[{s:s, s:s}]", "role", "user", "content", "Reply with the word OK.");
    tt_llm_request_t *req = tt_llm_request_chat("check", messages, NULL, NULL);
    json_decref(messages);
    tt_llm_result_t *r = NULL;
    /* the client's own warning would say it twice: the line below is the message */
    tt_log_level_t level = tt_log_level;
    if (level == TT_LOG_LEVEL_WARN)
        tt_log_level = TT_LOG_LEVEL_ERROR;
    err = tt_llm_call(llm, &req, &r);
    tt_log_level = level;
    if (err == TT_ELLM || err == TT_ETOOBIG)
        err = TT_OK; /* it answered: endpoint, key and model are fine */
    if (err == TT_EINTR)
        *errmsg = tt_strdup("interrupted during the model check");
    else if (err)
        *errmsg = s_explain(cfg, r);
    else
        TT_LOG_INFO("model check: %s answered in %u ms", cfg->model, r ? r->latency_ms : 0);
    tt_llm_result_destroy(&r);
    tt_llm_destroy(&llm);
    return err;
}

void
coord_announce_model(const tt_config_t *cfg, const char *cmd)
{
    if (tt_config_is_offline(cfg))
        fprintf(stderr,
                "%s: the offline model answers (a scripted stand-in, NOT an LLM); for a real "
                "one set OPENAI_API_KEY or OPENAI_BASE_URL\n",
                cmd);
}
