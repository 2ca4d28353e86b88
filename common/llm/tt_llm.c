/*  tt_llm -- the client's caller side: requests, digests, results, the pipe.
 *
 *  This file runs on the thread that owns the tt_llm_t. It copies the config
 *  once (the worker reads that copy, which never changes again), starts the
 *  worker thread, and talks to it over two inproc PAIR pipes with unlimited
 *  high-water marks (a send never blocks and nothing is dropped):
 *    - the main pipe carries every request in and asynchronous results out; it
 *      is the socket tt_llm_pipe() gives to the caller's zloop or zpoller;
 *    - the sync pipe carries tt_llm_call()'s results only, so a blocking call
 *      never has to set aside results that the event loop is waiting for.
 *  The worker sleeps in epoll_wait over curl's sockets and the main pipe's
 *  ZMQ_FD (the epoll set is made here, so that a failure to make it is
 *  tt_llm_new's), so a send wakes it at once.
 *
 *  Requests are deep-copied when submitted: from then on the worker's copy is
 *  private to it and the caller may keep changing its own JSON.
 */
#define TT_LOG_MODULE "llm"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "tt_json.h"
#include "tt_llm_cache.h"
#include "tt_llm_impl.h"
#include "tt_limits.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_time.h"

struct tt_llm {
    tt_llm_conf_t conf;
    zsock_t *pipe; /* caller ends */
    zsock_t *sync;
    zsock_t *worker_pipe; /* worker ends (created here, used only there) */
    zsock_t *worker_sync;
    CURLM *multi;
    int epoll;
    tt_llm_cache_t *cache;
    tt_llm_worker_args_t args;
    pthread_t thread;
    bool started;
    tt_llm_stats_t stats; /* as of the last result received */
    uint64_t sync_seq;
};

static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_global_init(void)
{
    TT_ASSERT(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
    TT_ASSERT(sodium_init() >= 0);
}

void
tt_llm_global_init(void)
{
    pthread_once(&s_once, s_global_init);
}

/* ------------------------------------------------------------ requests */

static tt_llm_request_t *
s_request_new(tt_llm_kind_t kind, const char *purpose)
{
    tt_llm_request_t *r = tt_new(tt_llm_request_t);
    r->kind = kind;
    r->purpose = tt_strdup(purpose ? purpose : "llm");
    return r;
}

tt_llm_request_t *
tt_llm_request_chat(const char *purpose, json_t *messages, const char *schema_name, json_t *schema)
{
    TT_ASSERT(json_is_array(messages));
    tt_llm_request_t *r = s_request_new(TT_LLM_CHAT, purpose);
    r->messages = json_incref(messages);
    r->schema_name = schema_name ? tt_strdup(schema_name) : NULL;
    r->schema = schema ? json_incref(schema) : NULL;
    return r;
}

tt_llm_request_t *
tt_llm_request_embed(const char *purpose, json_t *texts)
{
    TT_ASSERT(json_is_array(texts));
    tt_llm_request_t *r = s_request_new(TT_LLM_EMBED, purpose);
    r->texts = json_incref(texts);
    return r;
}

void
tt_llm_request_set_validator(tt_llm_request_t *req, tt_llm_validate_fn *fn, const void *arg)
{
    req->validate = fn;
    req->validate_arg = arg;
}

void
tt_llm_request_set_checker(tt_llm_request_t *req, tt_llm_check_fn *fn, const void *arg)
{
    req->check = fn;
    req->check_arg = arg;
}

void
tt_llm_request_set_temperature(tt_llm_request_t *req, double temperature)
{
    req->has_temperature = true;
    req->has_digest = false;
    req->temperature = temperature;
}

void
tt_llm_request_set_seed(tt_llm_request_t *req, uint64_t seed)
{
    req->has_seed = true;
    req->has_digest = false;
    req->seed = seed;
}

void
tt_llm_request_destroy(tt_llm_request_t **self_p)
{
    tt_llm_request_t *r = *self_p;
    if (!r)
        return;
    free(r->purpose);
    free(r->schema_name);
    json_decref(r->messages);
    json_decref(r->schema);
    json_decref(r->texts);
    free(r);
    *self_p = NULL;
}

/* Before the request changes thread: the caller may go on appending to the
 * lists it passed (a turn adds its follow-up messages), so the request gets
 * lists of its own; their items are shared, and never change (jansson's
 * reference counts are atomic). */
#if !JANSSON_THREAD_SAFE_REFCOUNT
#error "requests share JSON across threads: jansson must count references atomically"
#endif

static void
s_detach(tt_llm_request_t *r)
{
    json_t **lists[] = {&r->messages, &r->texts};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        if (!*lists[i])
            continue;
        json_t *copy = json_copy(*lists[i]);
        TT_ASSERT(copy);
        json_decref(*lists[i]);
        *lists[i] = copy;
    }
}

/* ------------------------------------------------------------ digest */

const char *
tt_llm_conf_model(const tt_llm_conf_t *conf, tt_llm_kind_t kind)
{
    return kind == TT_LLM_CHAT ? conf->model : conf->embedding_model;
}

static json_t *
s_canonical_json(const tt_llm_conf_t *conf, const tt_llm_request_t *req)
{
    bool chat = req->kind == TT_LLM_CHAT;
    double t = req->has_temperature ? req->temperature : conf->temperature;
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string(chat ? "chat" : "embed"));
    json_object_set_new(j, "model", json_string(tt_llm_conf_model(conf, req->kind)));
    json_object_set(j, "messages", req->messages ? req->messages : json_null());
    json_object_set_new(j, "schema_name",
                        req->schema_name ? json_string(req->schema_name) : json_null());
    json_object_set(j, "schema", req->schema ? req->schema : json_null());
    json_object_set_new(j, "temperature", chat && t >= 0 ? json_real(t) : json_null());
    json_object_set_new(j, "seed",
                        req->has_seed ? json_integer((json_int_t)req->seed) : json_null());
    json_object_set(j, "input", req->texts ? req->texts : json_null());
    return j;
}

static char *
s_canonical(const tt_llm_conf_t *conf, const tt_llm_request_t *req)
{
    json_t *j = s_canonical_json(conf, req);
    char *text = tt_json_canonical(j);
    json_decref(j);
    return text;
}

void
tt_llm_digest_conf(const tt_llm_conf_t *conf, const tt_llm_request_t *req,
                   uint8_t out[TT_SHA256_LEN])
{
    if (req->has_digest) {
        memcpy(out, req->digest, TT_SHA256_LEN);
        return;
    }
    json_t *j = s_canonical_json(conf, req);
    tt_json_digest(j, "troupe model request 2", out);
    json_decref(j);
    tt_llm_request_t *memo = (tt_llm_request_t *)req; /* logically const: a cache */
    memcpy(memo->digest, out, TT_SHA256_LEN);
    memo->has_digest = true;
}

void
tt_llm_request_digest(const tt_llm_t *llm, const tt_llm_request_t *req, uint8_t out[TT_SHA256_LEN])
{
    tt_llm_digest_conf(&llm->conf, req, out);
}

char *
tt_llm_request_canonical(const tt_llm_t *llm, const tt_llm_request_t *req)
{
    return s_canonical(&llm->conf, req);
}

/* ------------------------------------------------------------ results */

tt_llm_result_t *
tt_llm_result_new(const tt_llm_conf_t *conf, const tt_llm_request_t *req)
{
    tt_llm_result_t *r = tt_new(tt_llm_result_t);
    r->purpose = tt_strdup(req->purpose);
    tt_llm_digest_conf(conf, req, r->digest);
    return r;
}

void
tt_llm_result_fail(tt_llm_result_t *r, tt_err_t err, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->err = err;
    free(r->error_text);
    r->error_text = tt_strdup(tt_log_redact(buf));
}

void
tt_llm_result_destroy(tt_llm_result_t **self_p)
{
    tt_llm_result_t *r = *self_p;
    if (!r)
        return;
    free(r->error_text);
    free(r->content);
    json_decref(r->parsed);
    free(r->vectors);
    free(r->purpose);
    free(r);
    *self_p = NULL;
}

void
tt_llm_msg_destroy(tt_llm_msg_t **self_p)
{
    tt_llm_msg_t *m = *self_p;
    if (!m)
        return;
    tt_llm_request_destroy(&m->req);
    tt_llm_result_destroy(&m->result);
    free(m);
    *self_p = NULL;
}

tt_llm_result_t *
tt_llm_result_replay(const tt_llm_t *llm, tt_llm_request_t **req_p, const char *content)
{
    tt_llm_request_t *req = *req_p;
    *req_p = NULL;
    tt_llm_result_t *r = tt_llm_result_new(&llm->conf, req);
    r->replayed = true;
    r->content = tt_strdup(content ? content : "");
    if (req->kind == TT_LLM_CHAT) {
        char *why = NULL;
        if (tt_llm_accept_chat(req, content, &r->parsed, &why) != TT_OK)
            tt_llm_result_fail(r, TT_ELLM, "the recorded answer is not acceptable: %s", why);
        free(why);
    } else {
        uint32_t n = (uint32_t)json_array_size(req->texts);
        if (tt_llm_vectors_decode(content, n, &r->vectors, &r->dim) == TT_OK)
            r->n_vectors = n;
        else
            tt_llm_result_fail(r, TT_ECORRUPT,
                               "the recorded embedding is not %u base64 float32 vectors", n);
    }
    tt_llm_request_destroy(&req);
    return r;
}

/* ------------------------------------------------------------ the client */

/* The URL without trailing slashes before its query string, if any. */
static char *
s_dup_url(const char *url)
{
    size_t q = strcspn(url, "?"), n = q;
    while (n > 0 && url[n - 1] == '/')
        n--;
    return tt_asprintf("%.*s%s", (int)n, url, url + q);
}

tt_err_t
tt_llm_conf_init(tt_llm_conf_t *c, const tt_config_t *cfg)
{
    c->provider = tt_llm_provider_find(cfg->provider, cfg->base_url);
    if (!c->provider) {
        TT_LOG_ERROR("unknown LLM provider \"%s\"", cfg->provider);
        return TT_EINVAL;
    }
    bool local = c->provider->url_shape == TT_LLM_URL_LOCAL;
    if (c->provider->url_shape == TT_LLM_URL_AZURE && !cfg->azure_endpoint) {
        TT_LOG_ERROR("the azure provider needs AZURE_OPENAI_ENDPOINT");
        return TT_EINVAL;
    }
    c->model = tt_strdup(local ? TT_OFFLINE_MODEL : cfg->model ? cfg->model : "");
    c->embedding_model = tt_strdup(!local && cfg->embedding_model ? cfg->embedding_model : "local");
    c->local_embeddings = local || !strcmp(c->embedding_model, "local");
    c->base_url = s_dup_url(cfg->base_url ? cfg->base_url : "https://api.openai.com/v1");
    c->azure_endpoint = s_dup_url(cfg->azure_endpoint ? cfg->azure_endpoint : "");
    c->azure_api_version = tt_strdup(cfg->azure_api_version ? cfg->azure_api_version : "");
    c->reasoning_effort = cfg->reasoning_effort ? tt_strdup(cfg->reasoning_effort) : NULL;
    c->api_key = cfg->api_key ? tt_strdup(cfg->api_key) : NULL;
    c->max_completion_tokens = cfg->max_completion_tokens;
    c->temperature = cfg->temperature;
    c->top_p = cfg->top_p;
    c->freq_penalty = cfg->freq_penalty;
    c->presence_penalty = cfg->presence_penalty;
    c->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 480;
    c->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 1;
    c->waiting_time_s = cfg->waiting_time_s;
    c->backoff_factor = cfg->backoff_factor;
    /* 0 is MAX_CONCURRENT_MODEL_CALLS=0 or NONE: no limit */
    c->max_concurrent_calls = cfg->max_concurrent_calls > 0 ? cfg->max_concurrent_calls : INT_MAX;
    c->response_cap =
        cfg->response_cap_kb > 0 ? (size_t)cfg->response_cap_kb * 1024 : TT_LIMIT_RESPONSE_DEFAULT;
    if (c->response_cap > TT_LIMIT_RESPONSE) /* what a turn's Actions can carry */
        c->response_cap = TT_LIMIT_RESPONSE;
    c->action_max_attempts = cfg->action_max_attempts > 0 ? cfg->action_max_attempts : 0;
    c->cache_api_calls = cfg->cache_api_calls && !local;
    c->cache_file_name =
        tt_strdup(cfg->cache_file_name ? cfg->cache_file_name : "troupe_api_cache.lmdb");
    tt_log_add_secret(c->api_key);
    return TT_OK;
}

void
tt_llm_conf_fini(tt_llm_conf_t *c)
{
    if (c->api_key)
        sodium_memzero(c->api_key, strlen(c->api_key));
    free(c->api_key);
    free(c->model);
    free(c->embedding_model);
    free(c->base_url);
    free(c->azure_endpoint);
    free(c->azure_api_version);
    free(c->reasoning_effort);
    free(c->cache_file_name);
    memset(c, 0, sizeof *c);
}

/* A PAIR pipe with no high-water mark: sends never block, nothing is dropped. */
static tt_err_t
s_pipe_new(const char *name, zsock_t **front, zsock_t **back)
{
    /* Random names: a closed inproc endpoint stays bound for a moment, so an
     * address-derived name could collide with the last client's. */
    uint8_t nonce[8];
    char hex[2 * sizeof nonce + 1], endpoint[96];
    randombytes_buf(nonce, sizeof nonce);
    snprintf(endpoint, sizeof endpoint, "inproc://tt-llm-%s-%s", name,
             tt_hex(nonce, sizeof nonce, hex));
    *back = zsock_new(ZMQ_PAIR);
    *front = zsock_new(ZMQ_PAIR);
    if (!*back || !*front)
        return TT_EIO;
    zsock_set_sndhwm(*back, 0);
    zsock_set_rcvhwm(*back, 0);
    zsock_set_sndhwm(*front, 0);
    zsock_set_rcvhwm(*front, 0);
    if (zsock_bind(*back, "%s", endpoint) != 0 || zsock_connect(*front, "%s", endpoint) != 0)
        return TT_EIO;
    return TT_OK;
}

tt_err_t
tt_llm_new(const tt_config_t *cfg, tt_llm_t **out)
{
    *out = NULL;
    tt_llm_global_init();
    tt_llm_t *self = tt_new(tt_llm_t);
    self->epoll = -1;
    tt_err_t err = tt_llm_conf_init(&self->conf, cfg);
    if (err)
        goto fail;
    if (self->conf.cache_api_calls &&
        (err =
             tt_llm_cache_open(self->conf.cache_file_name, TT_LLM_CACHE_MAX_ENTRIES, &self->cache)))
        goto fail;
    self->multi = curl_multi_init();
    TT_ASSERT(self->multi);
    long maxconnects = self->conf.max_concurrent_calls > 4 ? self->conf.max_concurrent_calls : 4;
    if (maxconnects > TT_LLM_MAX_CONNECTS)
        maxconnects = TT_LLM_MAX_CONNECTS;
    curl_multi_setopt(self->multi, CURLMOPT_MAXCONNECTS, maxconnects);
    if ((err = s_pipe_new("main", &self->pipe, &self->worker_pipe)) ||
        (err = s_pipe_new("sync", &self->sync, &self->worker_sync))) {
        TT_LOG_ERROR("cannot create the worker pipes: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = zsock_fd(self->worker_pipe)};
    if ((self->epoll = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        epoll_ctl(self->epoll, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0) {
        TT_LOG_ERROR("cannot make the LLM worker's epoll set: %s", strerror(errno));
        err = TT_ENOMEM;
        goto fail;
    }
    self->args = (tt_llm_worker_args_t){&self->conf, self->worker_pipe, self->worker_sync,
                                        self->multi, self->epoll,       self->cache};
    if (pthread_create(&self->thread, NULL, tt_llm_worker_main, &self->args) != 0) {
        TT_LOG_ERROR("cannot start the LLM worker thread");
        err = TT_ENOMEM;
        goto fail;
    }
    self->started = true;
    TT_LOG_DEBUG("client for %s (%s), %d concurrent calls", self->conf.provider->name,
                 self->conf.model, self->conf.max_concurrent_calls);
    *out = self;
    return TT_OK;
fail:
    tt_llm_destroy(&self);
    return err;
}

/* Free every result still waiting in a pipe. */
static void
s_drain(zsock_t *sock)
{
    while (sock && (zsock_events(sock) & ZMQ_POLLIN)) {
        char *cmd = NULL;
        void *ptr = NULL;
        if (zsock_recv(sock, "sp", &cmd, &ptr) != 0)
            break;
        tt_llm_msg_t *msg = ptr;
        tt_llm_msg_destroy(&msg);
        free(cmd);
    }
}

void
tt_llm_destroy(tt_llm_t **self_p)
{
    tt_llm_t *self = *self_p;
    if (!self)
        return;
    if (self->started) {
        zsock_send(self->pipe, "sp", "TERM", NULL);
        pthread_join(self->thread, NULL);
    }
    s_drain(self->pipe);
    s_drain(self->sync);
    zsock_destroy(&self->pipe);
    zsock_destroy(&self->sync);
    zsock_destroy(&self->worker_pipe);
    zsock_destroy(&self->worker_sync);
    if (self->multi)
        curl_multi_cleanup(self->multi);
    if (self->epoll >= 0)
        close(self->epoll);
    tt_llm_cache_close(&self->cache);
    tt_llm_conf_fini(&self->conf);
    free(self);
    *self_p = NULL;
}

static void
s_send(tt_llm_t *self, tt_llm_request_t **req_p, void *tag, uint64_t sync_id)
{
    TT_ASSERT(req_p && *req_p);
    tt_llm_msg_t *msg = tt_new(tt_llm_msg_t);
    msg->req = *req_p;
    *req_p = NULL;
    msg->tag = tag;
    msg->sync_id = sync_id;
    msg->submitted_ms = tt_now_ms();
    s_detach(msg->req);
    if (zsock_send(self->pipe, "sp", "CALL", msg) != 0) {
        TT_LOG_ERROR("%s: cannot hand the call to the worker: %s", msg->req->purpose,
                     zmq_strerror(zmq_errno()));
        tt_llm_msg_destroy(&msg);
        return;
    }
}

void
tt_llm_submit(tt_llm_t *llm, tt_llm_request_t **req, void *tag)
{
    s_send(llm, req, tag, 0);
}

zsock_t *
tt_llm_pipe(tt_llm_t *llm)
{
    return llm->pipe;
}

static tt_llm_result_t *
s_unwrap(tt_llm_t *self, tt_llm_msg_t *msg, void **tag)
{
    /* Snapshots are taken as each call finishes, so the one with the most calls
     * is the newest, whichever pipe it came by. */
    if (msg->stats.calls > self->stats.calls)
        self->stats = msg->stats;
    tt_llm_result_t *r = msg->result;
    msg->result = NULL;
    if (tag)
        *tag = msg->tag;
    tt_llm_msg_destroy(&msg);
    return r;
}

tt_llm_result_t *
tt_llm_recv(tt_llm_t *llm, void **tag)
{
    char *cmd = NULL;
    void *ptr = NULL;
    if (zsock_recv(llm->pipe, "sp", &cmd, &ptr) != 0)
        return NULL; /* interrupted */
    free(cmd);
    return s_unwrap(llm, ptr, tag);
}

tt_err_t
tt_llm_call(tt_llm_t *llm, tt_llm_request_t **req, tt_llm_result_t **out)
{
    uint64_t id = ++llm->sync_seq;
    s_send(llm, req, NULL, id);
    for (;;) {
        char *cmd = NULL;
        void *ptr = NULL;
        if (zsock_recv(llm->sync, "sp", &cmd, &ptr) != 0) {
            *out = tt_new(tt_llm_result_t);
            tt_llm_result_fail(*out, TT_EINTR, "interrupted while waiting for the model");
            return TT_EINTR;
        }
        free(cmd);
        tt_llm_msg_t *msg = ptr;
        if (msg->sync_id == id) {
            *out = s_unwrap(llm, msg, NULL);
            return (*out)->err;
        }
        tt_llm_msg_destroy(&msg); /* left over from an interrupted call */
    }
}

void
tt_llm_stats(const tt_llm_t *llm, tt_llm_stats_t *out)
{
    *out = llm->stats;
}

const char *
tt_llm_model(const tt_llm_t *llm)
{
    return llm->conf.model;
}

bool
tt_llm_is_offline(const tt_llm_t *llm)
{
    return llm->conf.provider->url_shape == TT_LLM_URL_LOCAL;
}
