/*  coord_logprompt -- `coordinator log prompt LOG --agent NAME --step N`.
 *
 *  An agent's memory is a function of the log, so its prompts are too: this
 *  rebuilds the agent in a private temporary LMDB environment, replays its
 *  steps 1..N-1 exactly as a coordinator rebuilds a lost agent (rebuild steps,
 *  every call served from the recorded exchanges), then runs step N the same
 *  way with an observer on the turn, printing each request it makes as its
 *  canonical JSON (what the digest covers) and checking that request's digest
 *  against the one the log recorded at that position. The model is never
 *  called: rebuild turns take every answer from the log.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#define TT_LOG_MODULE "logprompt"
#include "coord_logprompt.h"

#include <ftw.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_turn.h"
#include "tt_config.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_llm.h"
#include "tt_mem.h"
#include "tt_tlog.h"
#include "tt_wire.h"

#define S_EXIT_OK     0
#define S_EXIT_FAILED 1
#define S_EXIT_USAGE  2
#define S_NOWHERE     "http://127.0.0.1:9/v1" /* never called */

typedef struct {
    FILE *out;
    const Tt__AgentStep *recorded; /* the agent's part of step N, while it runs */
    size_t n_recorded;             /* its exchanges */
    size_t seen;                   /* requests printed */
    size_t mismatched;
} s_watch_t;

/* Each request of step N: its canonical JSON and whether its digest is the one
 * recorded at the same position. */
static void
s_on_request(const tt_llm_t *llm, const tt_llm_request_t *req, const uint8_t digest[TT_SHA256_LEN],
             void *arg)
{
    s_watch_t *w = arg;
    char hex[TT_SHA256_HEX_LEN + 1];
    const Tt__Exchange *x =
        w->seen < w->recorded->n_exchanges ? w->recorded->exchanges[w->seen] : NULL;
    bool same = x && x->request_digest.len == TT_SHA256_LEN &&
                memcmp(x->request_digest.data, digest, TT_SHA256_LEN) == 0;
    if (!same)
        w->mismatched++;
    char *text = tt_llm_request_canonical(llm, req);
    json_t *j = json_loads(text, 0, NULL);
    char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    fprintf(w->out, "request %zu (%s): digest %s: %s\n%s\n\n", w->seen + 1,
            x && x->purpose ? x->purpose : "?", tt_hex(digest, TT_SHA256_LEN, hex),
            same ? "digest matches"
            : x  ? "DIGEST MISMATCH (the log recorded another request)"
                 : "DIGEST MISMATCH (the log recorded no request here)",
            pretty ? pretty : text);
    free(pretty);
    json_decref(j);
    free(text);
    w->seen++;
}

static int
s_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A client with the run's provider and model names, so digests are the run's.
 * It never calls out: rebuild turns are served from the log or fail. Where
 * the model lives is not in the log (nor needed): a loopback placeholder. */
static tt_err_t
s_llm(const agent_t *a, tt_llm_t **llm, char **errmsg)
{
    tt_config_t cfg;
    tt_config_init(&cfg);
    tt_config_from_json(&cfg, json_object_get(a->agent_config, "config"));
    tt_config_set(&cfg.base_url, S_NOWHERE);
    if (!cfg.azure_endpoint)
        tt_config_set(&cfg.azure_endpoint, S_NOWHERE);
    tt_err_t err = tt_llm_new(&cfg, llm);
    if (err)
        *errmsg = tt_asprintf("cannot start the LLM client: %s", tt_strerror(err));
    tt_config_fini(&cfg);
    return err;
}

/* The Assign a coordinator would send this agent, from SimBegin. */
static tt_err_t
s_agent(const Tt__SimBegin *b, const uint8_t run_id[TT_SHA256_LEN], size_t index, const char *dir,
        agent_t **out, char **errmsg)
{
    const Tt__AgentInfo *info = b->agents[index];
    json_t *cfg = info->agent_config_json ? json_loads(info->agent_config_json, 0, NULL) : NULL;
    if (!cfg)
        cfg = json_object();
    json_t *base = json_loads(b->agent_config_json ? b->agent_config_json : "{}", 0, NULL);
    json_object_update(cfg, base);
    json_decref(base);
    char *cfg_text = tt_json_compact(cfg);
    json_decref(cfg);
    Tt__Assign as = TT__ASSIGN__INIT;
    as.name = info->name;
    as.persona_json = info->persona_json;
    as.agent_config_json = cfg_text;
    as.run_id.data = (uint8_t *)run_id;
    as.run_id.len = TT_SHA256_LEN;
    tt_err_t err = agent_new(&as, (uint32_t)index, 1, dir, NULL, out, errmsg);
    free(cfg_text);
    return err;
}

/* The agent's part of step `step` in the log (NULL if it had none); *datetime
 * borrowed from *body, which the caller frees with tt_wire_free_body. */
static const Tt__AgentStep *
s_agent_step(tt_tlog_t *log, uint32_t step, uint32_t index, Tt__RecordBody **body,
             const char **datetime)
{
    *body = NULL;
    *datetime = "";
    for (uint64_t i = 1; i < tt_tlog_count(log); i++) {
        tt_tlog_entry_t e;
        if (tt_tlog_read(log, i, &e) != TT_OK)
            return NULL;
        const Tt__StepCommit *sc =
            e.body->kind_case == TT__RECORD_BODY__KIND_STEP ? e.body->step : NULL;
        if (sc && sc->step == step) {
            for (size_t k = 0; k < sc->n_agents; k++) {
                if (sc->agents[k]->agent != index)
                    continue;
                *body = e.body;
                e.body = NULL;
                *datetime = sc->datetime;
                tt_tlog_entry_fini(&e);
                return (*body)->step->agents[k];
            }
        }
        tt_tlog_entry_fini(&e);
    }
    return NULL;
}

/* One rebuild step; with w, step N watched. False if the turn failed. */
static bool
s_step(agent_t *a, tt_llm_t *llm, tt_tlog_t *log, uint32_t step, s_watch_t *w, FILE *err)
{
    Tt__RecordBody *body = NULL;
    const char *datetime = "";
    const Tt__AgentStep *as = s_agent_step(log, step, a->index, &body, &datetime);
    Tt__StepInput empty = TT__STEP_INPUT__INIT;
    Tt__Step st = TT__STEP__INIT;
    st.step = step;
    st.datetime = (char *)datetime;
    st.input = as ? as->input : &empty;
    st.n_recorded = as ? as->n_exchanges : 0;
    st.recorded = as ? as->exchanges : NULL;
    st.has_rebuild = st.rebuild = true;
    st.has_perceive_only = true;
    st.perceive_only = !as || !as->status || strcmp(as->status, "ok");
    bool ok = true;
    if (w && st.perceive_only) {
        fprintf(err, "coordinator log prompt: %s made no model call in step %u (%s)\n", a->name,
                step, as ? as->status : "not in the log");
        ok = false;
    } else {
        agent_turn_t *t = agent_turn_new(a, llm, &st, step);
        if (w) {
            w->recorded = as;
            w->n_recorded = as->n_exchanges;
            agent_turn_set_observer(t, s_on_request, w);
        }
        bool done = agent_turn_run(t);
        Tt__Actions *ans = done ? agent_turn_answer(t) : NULL;
        if (!done || (ans->error && !st.perceive_only)) {
            fprintf(err, "coordinator log prompt: %s, step %u: %s\n", a->name, step,
                    ans && ans->error ? ans->error : "the turn did not finish from the log");
            ok = false;
        }
        agent_turn_destroy(&t);
    }
    if (w)
        w->recorded = NULL; /* freed with body */
    tt_wire_free_body(&body);
    return ok;
}

static long
s_find_agent(const Tt__SimBegin *b, const char *name)
{
    for (size_t i = 0; i < b->n_agents; i++)
        if (strcmp(b->agents[i]->name, name) == 0)
            return (long)i;
    return -1;
}

static int
s_rebuild(tt_tlog_t *log, const tt_tlog_entry_t *begin, long index, uint32_t step, FILE *out,
          FILE *err)
{
    char dir[] = "/tmp/troupe-prompt-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(err, "coordinator log prompt: cannot make a temporary directory\n");
        return S_EXIT_FAILED;
    }
    agent_t *a = NULL;
    tt_llm_t *llm = NULL;
    char *msg = NULL;
    int rc = S_EXIT_FAILED;
    if (s_agent(begin->body->begin, begin->hash, (size_t)index, dir, &a, &msg) ||
        s_llm(a, &llm, &msg)) {
        fprintf(err, "coordinator log prompt: %s\n", msg ? msg : "cannot rebuild the agent");
        goto fail;
    }
    for (uint32_t s = 1; s < step; s++)
        if (!s_step(a, llm, log, s, NULL, err))
            goto fail;
    s_watch_t w = {.out = out};
    if (!s_step(a, llm, log, step, &w, err))
        goto fail;
    fprintf(out, "%s, step %u: %zu request(s) rebuilt, %zu recorded, %zu mismatched\n", a->name,
            step, w.seen, w.n_recorded, w.mismatched);
    rc = w.mismatched || w.seen != w.n_recorded ? S_EXIT_FAILED : S_EXIT_OK;
fail:
    free(msg);
    tt_llm_destroy(&llm);
    agent_destroy(&a);
    nftw(dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

int
coord_logprompt_run(const char *path, const char *agent, const char *step_text, FILE *out,
                    FILE *err)
{
    char *end = NULL;
    unsigned long step = strtoul(step_text, &end, 10);
    if (!*step_text || *end || step < 1 || step > UINT32_MAX) {
        fprintf(err, "coordinator log prompt: --step wants a step number (1 or more), not %s\n",
                step_text);
        return S_EXIT_USAGE;
    }
    tt_tlog_t *log = NULL;
    char *msg = NULL;
    if (tt_tlog_open(path, TT_TLOG_READ, &log, &msg) != TT_OK) {
        fprintf(err, "%s:1:1: %s\n", path, msg ? msg : "cannot open");
        free(msg);
        return S_EXIT_USAGE;
    }
    tt_tlog_entry_t begin;
    int rc = S_EXIT_USAGE;
    if (tt_tlog_count(log) == 0 || tt_tlog_read(log, 0, &begin) != TT_OK) {
        fprintf(err, "%s:1:1: no readable first record\n", path);
        tt_tlog_close(&log);
        return rc;
    }
    long index = -1;
    if (begin.body->kind_case != TT__RECORD_BODY__KIND_BEGIN)
        fprintf(err, "%s:1:1: not a simulation log (its first record is no SimBegin)\n", path);
    else if ((index = s_find_agent(begin.body->begin, agent)) < 0)
        fprintf(err, "%s:1:1: no agent named \"%s\" in this run\n", path, agent);
    else
        rc = s_rebuild(log, &begin, index, (uint32_t)step, out, err);
    tt_tlog_entry_fini(&begin);
    tt_tlog_close(&log);
    return rc;
}
