/*  tt_llm_http -- building one HTTP exchange: URL, headers, body, curl options.
 *
 *  Everything provider-specific is read from the provider row (token-cap field,
 *  schema support, auth header, URL shape); nothing here compares names. The
 *  key only ever goes into the header list, which lives on the worker and is
 *  freed (after being wiped) when the worker stops. CURLOPT_VERBOSE is never
 *  set, so libcurl never prints the headers.
 *
 *  curl options follow libcurl's own advice for untrusted servers
 *  (libcurl-security "Denial of Service"): a connect timeout, a total timeout,
 *  a stall watch, a size cap enforced in the write callback
 *  (CURLOPT_MAXFILESIZE only catches honest Content-Lengths), no redirects,
 *  http and https only, and NOSIGNAL because we are threaded.
 *
 *  The stall watch is a progress callback rather than CURLOPT_LOW_SPEED_*:
 *  curl's low-speed check also counts the silence before the first byte, and
 *  a non-streaming chat completion is silent until the model is done -- often
 *  longer than 30 s for reasoning models or long answers. So silence before
 *  the answer starts is bounded by TIMEOUT alone, and a body that stops
 *  arriving is cut after half the timeout, at most 30 s.
 */
#include <string.h>
#include <strings.h>

#include "tt_json.h"
#include "tt_llm_impl.h"
#include "tt_mem.h"
#include "tt_time.h"

char *
tt_llm_http_url(const tt_llm_conf_t *conf, tt_llm_kind_t kind)
{
    const char *path = kind == TT_LLM_CHAT ? "chat/completions" : "embeddings";
    if (conf->provider->url_shape != TT_LLM_URL_AZURE) {
        /* a query string in the base URL (a proxy's token, say) stays at the end */
        size_t at = strcspn(conf->base_url, "?");
        return tt_asprintf("%.*s/%s%s", (int)at, conf->base_url, path, conf->base_url + at);
    }
    const char *model = tt_llm_conf_model(conf, kind);
    char *deployment = curl_easy_escape(NULL, model, 0);
    TT_ASSERT(deployment);
    char *url = tt_asprintf("%s/openai/deployments/%s/%s?api-version=%s", conf->azure_endpoint,
                            deployment, path, conf->azure_api_version);
    curl_free(deployment);
    return url;
}

char *
tt_llm_http_url_public(const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *path = host + strcspn(host, "/?#");
    const char *at = memchr(host, '@', (size_t)(path - host));
    if (at)
        host = at + 1; /* drop user:password@ */
    size_t path_len = strcspn(path, "?#");
    return tt_asprintf("%.*s%.*s%.*s", scheme ? (int)(scheme + 3 - url) : 0, url,
                       (int)(path - host), host, (int)path_len, path);
}

struct curl_slist *
tt_llm_http_headers(const tt_llm_conf_t *conf)
{
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    h = curl_slist_append(h, "User-Agent: troupe/" TT_VERSION);
    if (conf->api_key && *conf->api_key) {
        char *line = conf->provider->auth == TT_LLM_AUTH_API_KEY
                         ? tt_asprintf("api-key: %s", conf->api_key)
                         : tt_asprintf("Authorization: Bearer %s", conf->api_key);
        h = curl_slist_append(h, line);
        memset(line, 0, strlen(line));
        free(line);
    }
    TT_ASSERT(h);
    return h;
}

/* The system line that carries the schema when only json_object is taken. */
static json_t *
s_json_mode_messages(const tt_llm_request_t *req, const json_t *conversation)
{
    char *schema = req->schema ? tt_json_canonical(req->schema) : NULL;
    char *line = tt_asprintf("%s\"%s\"%s%s", TT_LLM_JSON_MODE_PREFIX,
                             req->schema_name ? req->schema_name : "response", schema ? ": " : "",
                             schema ? schema : "");
    json_t *messages = json_copy((json_t *)conversation);
    size_t at = 0;
    while (at < json_array_size(messages) &&
           !strcmp(tt_json_str(json_array_get(messages, at), "role", ""), "system"))
        at++;
    json_array_insert_new(messages, at, json_pack("{s:s, s:s}", "role", "system", "content", line));
    free(schema);
    free(line);
    return messages;
}

static void
s_sampling(const tt_llm_conf_t *conf, const tt_llm_request_t *req, json_t *body)
{
    if (tt_llm_model_is_reasoning(conf->model)) {
        if (tt_llm_model_takes_effort(conf->model) && conf->reasoning_effort &&
            *conf->reasoning_effort)
            json_object_set_new(body, "reasoning_effort", json_string(conf->reasoning_effort));
        return;
    }
    double t = req->has_temperature ? req->temperature : conf->temperature;
    if (t >= 0)
        json_object_set_new(body, "temperature", json_real(t));
    if (conf->top_p >= 0)
        json_object_set_new(body, "top_p", json_real(conf->top_p));
    /* FREQ_PENALTY / PRESENCE_PENALTY when set, for providers that take them;
     * like TinyTroupe, never to reasoning models (returned above) */
    if (conf->freq_penalty != 0)
        json_object_set_new(body, "frequency_penalty", json_real(conf->freq_penalty));
    if (conf->presence_penalty != 0)
        json_object_set_new(body, "presence_penalty", json_real(conf->presence_penalty));
}

/* Beside the messages' text, what a chat body holds: names, a schema. */
#define S_BODY_ROOM 4096

static size_t
s_text_size(const json_t *conversation)
{
    size_t n = 0, i;
    json_t *m;
    json_array_foreach(conversation, i, m) n += json_string_length(json_object_get(m, "content"));
    return n;
}

char *
tt_llm_http_chat_body(const tt_llm_conf_t *conf, const tt_llm_request_t *req,
                      const json_t *conversation)
{
    json_t *body = json_object();
    json_object_set_new(body, "model", json_string(conf->model));
    bool structured = req->schema || req->schema_name;
    bool schema_mode = structured && req->schema &&
                       tt_llm_provider_takes_schema(conf->provider, conf->azure_api_version);
    if (structured && !schema_mode) {
        json_object_set_new(body, "messages", s_json_mode_messages(req, conversation));
        json_object_set_new(body, "response_format", json_pack("{s:s}", "type", "json_object"));
    } else {
        json_object_set(body, "messages", (json_t *)conversation);
    }
    if (schema_mode) {
        json_t *js =
            json_pack("{s:s, s:O}", "name", req->schema_name ? req->schema_name : "response",
                      "schema", req->schema);
        if (conf->provider->strict)
            json_object_set_new(js, "strict", json_true());
        json_object_set_new(body, "response_format",
                            json_pack("{s:s, s:o}", "type", "json_schema", "json_schema", js));
    }
    if (conf->max_completion_tokens > 0)
        json_object_set_new(body, conf->provider->token_cap_field,
                            json_integer(conf->max_completion_tokens));
    s_sampling(conf, req, body);
    if (req->has_seed)
        json_object_set_new(body, "seed", json_integer((json_int_t)req->seed));
    /* a prompt is several KB: room for its text and the rest at once, not by
     * doubling from a few hundred bytes (each step a copy, and work for malloc) */
    tt_buf_t text;
    tt_buf_init(&text, 0);
    tt_buf_reserve(&text, s_text_size(conversation) + S_BODY_ROOM);
    tt_json_compact_into(body, &text);
    json_decref(body);
    return tt_buf_take(&text);
}

char *
tt_llm_http_embed_body(const tt_llm_conf_t *conf, const tt_llm_request_t *req)
{
    /* base64 (packed little-endian float32) is a quarter of the size of float
     * arrays and far cheaper to read; a server that ignores it sends arrays,
     * which are read too */
    json_t *body = json_pack("{s:s, s:O, s:s}", "model", conf->embedding_model, "input", req->texts,
                             "encoding_format", "base64");
    TT_ASSERT(body);
    char *text = tt_json_compact(body);
    json_decref(body);
    return text;
}

/* Append to the capped response buffer; returning less than asked makes curl
 * stop with CURLE_WRITE_ERROR, which the reply judge reads as "too big". */
static size_t
s_write(char *data, size_t size, size_t n, void *arg)
{
    tt_buf_t *buf = arg;
    return tt_buf_add(buf, data, size * n) == TT_OK ? size * n : 0;
}

bool
tt_llm_watch_expired(const tt_llm_watch_t *w, int64_t now_ms)
{
    return w->last_bytes > 0 && now_ms - w->last_ms > w->window_ms;
}

static int
s_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    tt_llm_watch_t *w = arg;
    int64_t now = tt_now_ms();
    if (dlnow > w->last_bytes) {
        w->last_bytes = dlnow;
        w->last_ms = now;
    } else if (tt_llm_watch_expired(w, now)) {
        w->stalled = true;
        return 1; /* abort: CURLE_ABORTED_BY_CALLBACK */
    }
    return 0;
}

void
tt_llm_http_setup(CURL *easy, const tt_llm_conf_t *conf, const char *url,
                  struct curl_slist *headers, const char *body, tt_buf_t *response,
                  tt_llm_watch_t *watch, void *private_ptr)
{
    long timeout_ms = (long)(conf->timeout_s * 1000);
    *watch = (tt_llm_watch_t){
        .window_ms = timeout_ms / 2 < TT_LLM_STALL_MAX_MS ? timeout_ms / 2 : TT_LLM_STALL_MAX_MS};
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, response);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, private_ptr);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < TT_LLM_CONNECT_TIMEOUT_MS ? timeout_ms
                                                            : (long)TT_LLM_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, s_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, watch);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)conf->response_cap);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Over TLS the server may offer HTTP/2, and new transfers had better wait
     * to share the first connection than open their own. Plain http is
     * HTTP/1.1 here: waiting would only hold every transfer of a burst back
     * until the first one's answer (a whole model latency). */
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, strncasecmp(url, "https:", 6) ? 0L : 1L);
}
