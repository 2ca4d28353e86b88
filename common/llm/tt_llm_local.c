/*  tt_llm_local -- the in-process provider: the offline model and local embeddings.
 *
 *  Runs on the worker thread like every other call, so an agent's event loop
 *  sees the same asynchronous interface whichever provider is configured, and
 *  an offline answer goes through the same acceptance and re-ask path as a
 *  network one. Usage is the shared token estimate (tt_tokens_*), so offline
 *  runs report comparable token figures.
 */
#include "tt_llm_impl.h"
#include "tt_mem.h"
#include "tt_offline.h"

void
tt_llm_local_chat(const tt_llm_conf_t *conf, const tt_llm_request_t *req, tt_llm_result_t *r)
{
    /* A shallow copy: re-ask turns are appended to it, not to the request. */
    json_t *conversation = json_copy(req->messages);
    uint64_t seed = req->has_seed ? req->seed : 0;
    for (int reasks = 0;; reasks++) {
        json_t *value = NULL;
        /* a plain-text request names its task by its purpose */
        char *content = tt_offline_chat(
            conversation, req->schema_name ? req->schema_name : req->purpose, seed, &value);
        r->attempts++;
        r->prompt_tokens += tt_tokens_messages(conversation);
        r->completion_tokens += tt_tokens_estimate(content);
        json_t *parsed = NULL;
        char *why = NULL;
        tt_err_t err;
        if (value && (req->schema || req->schema_name)) {
            /* an answer the model built as JSON is not parsed back from its text */
            err = tt_llm_accept_value(req, value, &parsed, &why);
        } else {
            json_decref(value);
            err = tt_llm_accept_chat(req, content, &parsed, &why);
        }
        if (err == TT_OK) {
            r->content = content;
            r->parsed = parsed;
            break;
        }
        if (reasks >= conf->action_max_attempts) {
            tt_llm_result_fail(r, TT_ELLM,
                               "the offline model's answer was unusable after %d "
                               "re-ask(s): %s",
                               reasks, why);
            free(content);
            free(why);
            break;
        }
        tt_llm_reask_append(conversation, content, why);
        free(content);
        free(why);
    }
    json_decref(conversation);
}

void
tt_llm_local_embed(const tt_llm_request_t *req, tt_llm_result_t *r)
{
    size_t n = json_array_size(req->texts);
    float *v = tt_malloc(n * TT_OFFLINE_EMBED_DIM * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        const char *text = json_string_value(json_array_get(req->texts, i));
        tt_offline_embed(text, v + i * TT_OFFLINE_EMBED_DIM);
        r->prompt_tokens += tt_tokens_estimate(text);
    }
    r->attempts = 1;
    r->vectors = v;
    r->n_vectors = (uint32_t)n;
    r->dim = TT_OFFLINE_EMBED_DIM;
    r->content = tt_llm_vectors_encode(v, n * TT_OFFLINE_EMBED_DIM);
}
