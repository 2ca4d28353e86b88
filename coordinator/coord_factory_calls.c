/*  coord_factory_calls -- run, record and replay batches of keyed model calls.
 *
 *  Why a reorder buffer rather than appending answers as they arrive: the log
 *  is a hash chain, and two factory runs that got the same answers should end
 *  with the same hash, as two simulation runs do. Answers mostly arrive in
 *  submission order anyway, so holding the few early ones back costs little.
 *
 *  The replay index keeps every recorded answer in memory (digest hex ->
 *  content): factory and extraction logs hold one answer per person, a few MB
 *  for thousands of people, and reading them up front lets the caller replace
 *  the very directory the recorded log lives in.
 */
#define TT_LOG_MODULE "fcalls"
#include "coord_check.h"
#include "coord_factory_calls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_hash.h"
#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_time.h"
#include "tt_tlog.h"

struct coord_fcalls {
    tt_llm_t *llm;
    char provider[TT_PROVIDER_LEN];
    char *kind;
    char *spec_text;
    uint64_t seed;
    zhash_t *replay; /* digest hex -> recorded content */
    tt_tlog_t *log;
    uint32_t concurrency;
    coord_fcalls_stats_t stats;
};

/* One call of a batch while it runs. */
typedef struct {
    bool settled; /* answered (or failed for good): its result is in place */
} s_slot_t;

/* ------------------------------------------------------------------ replay */

static tt_err_t
s_replay_index(coord_fcalls_t *fc, tt_tlog_t *log, char **errmsg)
{
    uint64_t n = tt_tlog_count(log), calls = 0;
    for (uint64_t i = 0; i < n; i++) {
        tt_tlog_entry_t e;
        tt_err_t err = tt_tlog_read(log, i, &e);
        if (err) {
            *errmsg = tt_asprintf("%s:1:1: record %llu unreadable: %s", tt_tlog_path(log),
                                  (unsigned long long)i, tt_strerror(err));
            return err;
        }
        if (e.body->kind_case == TT__RECORD_BODY__KIND_FACTORY_CALL) {
            const Tt__Exchange *x = e.body->factory_call->exchange;
            if (x && x->request_digest.len == TT_SHA256_LEN && x->response) {
                char hex[TT_SHA256_HEX_LEN + 1];
                tt_hex(x->request_digest.data, TT_SHA256_LEN, hex);
                zhash_update(fc->replay, hex, tt_strdup(x->response));
                zhash_freefn(fc->replay, hex, free);
                calls++;
            }
        }
        tt_tlog_entry_fini(&e);
    }
    if (!calls) {
        *errmsg = tt_asprintf("%s:1:1: no recorded model calls to replay (not a factory or "
                              "extraction log)",
                              tt_tlog_path(log));
        return TT_EINVAL;
    }
    TT_LOG_INFO("replaying %s: %llu recorded calls", tt_tlog_path(log), (unsigned long long)calls);
    return TT_OK;
}

static tt_err_t
s_replay_open(coord_fcalls_t *fc, const coord_fcalls_opts_t *opts, char **errmsg)
{
    struct stat st;
    char *path = NULL;
    if (stat(opts->replay_path, &st) == 0 && S_ISDIR(st.st_mode))
        path = tt_asprintf("%s/%s", opts->replay_path, opts->replay_name);
    else
        path = tt_strdup(opts->replay_path);
    tt_tlog_t *log = NULL;
    char *msg = NULL;
    tt_err_t err = tt_tlog_open(path, TT_TLOG_READ, &log, &msg);
    if (err) {
        *errmsg = tt_asprintf("%s:1:1: cannot replay: %s", path, msg ? msg : tt_strerror(err));
        free(msg);
    } else {
        fc->replay = zhash_new();
        err = s_replay_index(fc, log, errmsg);
    }
    tt_tlog_close(&log);
    free(path);
    return err;
}

/* ------------------------------------------------------------------ lifecycle */

tt_err_t
coord_fcalls_open(const tt_config_t *cfg, const coord_fcalls_opts_t *opts, coord_fcalls_t **out,
                  char **errmsg)
{
    *out = NULL;
    *errmsg = NULL;
    coord_fcalls_t *fc = tt_new(coord_fcalls_t);
    fc->kind = tt_strdup(opts->kind);
    fc->spec_text = opts->spec ? tt_json_canonical(opts->spec) : tt_strdup("{}");
    fc->seed = opts->seed;
    snprintf(fc->provider, sizeof fc->provider, "%s", cfg->provider);
    bool offline = tt_config_is_offline(cfg);
    uint32_t k = opts->concurrency;
    if (!k)
        k = offline                         ? COORD_FCALLS_OFFLINE_CONCURRENCY
            : cfg->max_concurrent_calls > 0 ? (uint32_t)cfg->max_concurrent_calls
                                            : COORD_FCALLS_MAX_CONCURRENCY; /* no limit */
    fc->concurrency = k > COORD_FCALLS_MAX_CONCURRENCY ? COORD_FCALLS_MAX_CONCURRENCY : k;
    fc->stats.concurrency = fc->concurrency;
    tt_err_t err = opts->replay_path ? s_replay_open(fc, opts, errmsg) : TT_OK;
    if (!err) {
        /* a shallow copy: tt_llm_new copies what it keeps */
        tt_config_t mine = *cfg;
        mine.max_concurrent_calls = (int)fc->concurrency;
        if (opts->reasks >= 0)
            mine.action_max_attempts = opts->reasks;
        if ((err = tt_llm_new(&mine, &fc->llm)) != TT_OK)
            *errmsg = tt_asprintf("cannot start the %s model client: %s", cfg->provider,
                                  tt_strerror(err));
    }
    if (err) {
        coord_fcalls_close(&fc);
        return err;
    }
    *out = fc;
    return TT_OK;
}

void
coord_fcalls_close(coord_fcalls_t **self_p)
{
    coord_fcalls_t *fc = *self_p;
    if (!fc)
        return;
    if (fc->log)
        tt_tlog_sync(fc->log);
    tt_tlog_close(&fc->log);
    tt_llm_destroy(&fc->llm);
    zhash_destroy(&fc->replay);
    free(fc->kind);
    free(fc->spec_text);
    free(fc);
    *self_p = NULL;
}

tt_err_t
coord_fcalls_begin(coord_fcalls_t *fc, const char *log_path, char **errmsg)
{
    *errmsg = NULL;
    if (unlink(log_path) != 0 && errno != ENOENT) {
        *errmsg = tt_asprintf("%s: cannot replace: %s", log_path, strerror(errno));
        return TT_EIO;
    }
    char *msg = NULL;
    tt_err_t err = tt_tlog_open(log_path, TT_TLOG_APPEND, &fc->log, &msg);
    if (err) {
        *errmsg = msg ? msg : tt_asprintf("%s: %s", log_path, tt_strerror(err));
        return err;
    }
    free(msg);
    Tt__FactoryBegin b = TT__FACTORY_BEGIN__INIT;
    b.version = TT_VERSION;
    b.kind = fc->kind;
    b.spec_json = fc->spec_text;
    b.seed = fc->seed;
    b.provider = fc->provider;
    b.model = (char *)tt_llm_model(fc->llm);
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_FACTORY_BEGIN;
    body.factory_begin = &b;
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.has_unix_ms = true;
    tel.unix_ms = (uint64_t)tt_wall_ms();
    if ((err = tt_tlog_append(fc->log, &body, &tel, true)) != TT_OK)
        *errmsg = tt_asprintf("%s: cannot write: %s", log_path, tt_strerror(err));
    return err;
}

/* ------------------------------------------------------------------ batches */

static tt_err_t
s_record(coord_fcalls_t *fc, const char *key, const tt_llm_result_t *r)
{
    Tt__Exchange x = TT__EXCHANGE__INIT;
    x.request_digest.len = TT_SHA256_LEN;
    x.request_digest.data = (uint8_t *)r->digest;
    x.response = r->content;
    x.purpose = r->purpose;
    Tt__FactoryCall call = TT__FACTORY_CALL__INIT;
    call.key = (char *)key;
    call.exchange = &x;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_FACTORY_CALL;
    body.factory_call = &call;
    Tt__ExchangeTelemetry xt = TT__EXCHANGE_TELEMETRY__INIT;
    xt.has_latency_ms = xt.has_attempts = xt.has_prompt_tokens = xt.has_completion_tokens = true;
    xt.latency_ms = r->latency_ms;
    xt.attempts = r->attempts;
    xt.prompt_tokens = r->prompt_tokens;
    xt.completion_tokens = r->completion_tokens;
    xt.has_replayed = xt.has_cached = true;
    xt.replayed = r->replayed;
    xt.cached = r->cached;
    xt.model = (char *)tt_llm_model(fc->llm);
    Tt__ExchangeTelemetry *list[1] = {&xt};
    Tt__Telemetry tel = TT__TELEMETRY__INIT;
    tel.has_unix_ms = true;
    tel.unix_ms = (uint64_t)tt_wall_ms();
    tel.n_exchanges = 1;
    tel.exchanges = list;
    return tt_tlog_append(fc->log, &body, &tel, false);
}

static void
s_count(coord_fcalls_t *fc, const tt_llm_result_t *r)
{
    if (r->err)
        fc->stats.failed++;
    if (r->replayed) {
        fc->stats.replayed++;
        return;
    }
    if (!r->err && !r->cached)
        fc->stats.calls++;
    fc->stats.attempts += r->attempts;
    if (!r->cached) {
        fc->stats.prompt_tokens += r->prompt_tokens;
        fc->stats.completion_tokens += r->completion_tokens;
    }
}

/* Record every settled call from *next on, in order, up to the first unsettled. */
static tt_err_t
s_flush(coord_fcalls_t *fc, s_slot_t *slots, const char *const *keys, tt_llm_result_t **results,
        size_t n, size_t *next)
{
    tt_err_t err = TT_OK;
    for (; *next < n && slots[*next].settled && !err; (*next)++) {
        const tt_llm_result_t *r = results[*next];
        if (r->err == TT_OK && fc->log && (err = s_record(fc, keys[*next], r)) != TT_OK)
            TT_LOG_ERROR("cannot append to %s: %s", tt_tlog_path(fc->log), tt_strerror(err));
    }
    return err;
}

/* Serve what the replay log holds; queue the rest. Returns how many are left. */
static size_t
s_serve_replayed(coord_fcalls_t *fc, tt_llm_request_t **reqs, size_t n, s_slot_t *slots,
                 tt_llm_result_t **results, size_t *queue)
{
    size_t left = 0;
    for (size_t i = 0; i < n; i++) {
        const char *content = NULL;
        if (fc->replay) {
            uint8_t digest[TT_SHA256_LEN];
            char hex[TT_SHA256_HEX_LEN + 1];
            tt_llm_request_digest(fc->llm, reqs[i], digest);
            content = zhash_lookup(fc->replay, tt_hex(digest, TT_SHA256_LEN, hex));
        }
        if (content) {
            results[i] = tt_llm_result_replay(fc->llm, &reqs[i], content);
            slots[i].settled = true;
            s_count(fc, results[i]);
        } else {
            queue[left++] = i;
        }
    }
    return left;
}

tt_err_t
coord_fcalls_run(coord_fcalls_t *fc, tt_llm_request_t **reqs, const char *const *keys, size_t n,
                 tt_llm_result_t **results)
{
    s_slot_t *slots = tt_calloc(n + 1, sizeof *slots);
    size_t *queue = tt_calloc(n + 1, sizeof *queue);
    memset(results, 0, n * sizeof *results);
    size_t left = s_serve_replayed(fc, reqs, n, slots, results, queue);
    size_t next_record = 0, submitted = 0, in_flight = 0;
    tt_err_t err = s_flush(fc, slots, keys, results, n, &next_record);
    while (!err && (submitted < left || in_flight > 0)) {
        while (submitted < left && in_flight < fc->concurrency) {
            size_t i = queue[submitted++];
            tt_llm_submit(fc->llm, &reqs[i], (void *)(uintptr_t)(i + 1));
            in_flight++;
        }
        void *tag = NULL;
        tt_llm_result_t *r = tt_llm_recv(fc->llm, &tag);
        if (!r) {
            err = TT_EINTR;
            break;
        }
        size_t i = (size_t)(uintptr_t)tag - 1;
        TT_ASSERT(i < n && !slots[i].settled);
        in_flight--;
        results[i] = r;
        slots[i].settled = true;
        s_count(fc, r);
        err = s_flush(fc, slots, keys, results, n, &next_record);
    }
    if (!err && fc->log)
        err = tt_tlog_sync(fc->log);
    for (size_t i = 0; i < n; i++)
        tt_llm_request_destroy(&reqs[i]); /* those never submitted */
    free(slots);
    free(queue);
    return err;
}

void
coord_fcalls_stats(const coord_fcalls_t *fc, coord_fcalls_stats_t *out)
{
    *out = fc->stats;
}

tt_llm_t *
coord_fcalls_llm(coord_fcalls_t *fc)
{
    return fc->llm;
}

const char *
coord_fcalls_provider(const coord_fcalls_t *fc)
{
    return fc->provider;
}

/* ------------------------------------------------------------------ command line */

int
coord_fcalls_cli_take(coord_fcalls_cli_t *o, int ch, const char *arg, const char **why)
{
    char *end;
    unsigned long long v;
    switch (ch) {
    case 'L':
        o->llm = arg;
        return 1;
    case 'M':
        o->model = arg;
        return 1;
    case 'c':
        o->config = arg;
        return 1;
    case 'k':
        errno = 0;
        v = strtoull(arg, &end, 10);
        if (errno || *end || end == arg || arg[0] == '-' || v == 0 ||
            v > COORD_FCALLS_MAX_CONCURRENCY) {
            *why = "--concurrency: expected 1..4096";
            return -1;
        }
        o->concurrency = (uint32_t)v;
        return 1;
    case 'r':
        o->replay_path = arg;
        return 1;
    case 'q':
        o->quiet = true;
        return 1;
    case 'v':
        if (!tt_log_parse_level(arg, &tt_log_level)) {
            *why = "--log-level: expected error, warn, info or debug";
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

bool
coord_fcalls_cli_config(const char *cmd, const coord_fcalls_cli_t *o, tt_config_t *cfg)
{
    char *err = NULL;
    tt_config_flags_t flags = {.llm = o->llm, .model = o->model};
    if (tt_config_setup_flags(cfg, o->config, &flags, &err) == TT_OK) {
        char who[64];
        snprintf(who, sizeof who, "coordinator %s", cmd);
        coord_announce_model(cfg, who);
        return true;
    }
    fprintf(stderr, "coordinator %s: %s\n", cmd, err);
    free(err);
    tt_config_fini(cfg);
    return false;
}
