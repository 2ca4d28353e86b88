/*  coord_replay -- index an old log and hand out its recorded exchanges.
 *
 *  Only offsets are kept in memory (step -> record, agent name -> old index);
 *  a step's record is read when that step is dispatched, so replaying a large
 *  log costs no more memory than running it.
 */
#define TT_LOG_MODULE "replay"
#include "coord_replay.h"

#include <czmq.h>
#include <string.h>

#include "tt_hash.h"
#include "coord_session.h"
#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_tlog.h"
#include "tt_wire.h"

struct coord_replay {
    tt_tlog_t *log;
    uint64_t *step_records; /* record index per step; 0 = none */
    size_t n_steps;
    zhash_t *agents;     /* name -> old index + 1 */
    zhash_t *judgements; /* digest hex -> response */
    uint32_t cached_step;
    Tt__RecordBody *cached; /* the StepCommit of cached_step */
    bool begun;             /* a SimBegin was read */
};

/* A session's model call: its digest and answer are in the effect. */
static void
s_index_session_call(coord_replay_t *r, const Tt__Session *se)
{
    json_t *effect = json_loads(se->effect_json, 0, NULL);
    const char *digest = json_string_value(json_object_get(effect, "request_digest"));
    const char *response = json_string_value(json_object_get(effect, "response"));
    if (digest && response && strlen(digest) == TT_SHA256_HEX_LEN) {
        zhash_update(r->judgements, digest, tt_strdup(response));
        zhash_freefn(r->judgements, digest, free);
    }
    json_decref(effect);
}

static void
s_index_record(coord_replay_t *r, uint64_t i, const tt_tlog_entry_t *e)
{
    switch (e->body->kind_case) {
    case TT__RECORD_BODY__KIND_BEGIN:
        r->begun = true;
        for (size_t k = 0; k < e->body->begin->n_agents; k++)
            zhash_insert(r->agents, e->body->begin->agents[k]->name, (void *)(uintptr_t)(k + 1));
        break;
    case TT__RECORD_BODY__KIND_SESSION: {
        /* a session's agents join as it goes, in the order of their records */
        const Tt__Session *se = e->body->session;
        if (!strcmp(se->op, "proposition") || !strcmp(se->op, "llm"))
            s_index_session_call(r, se);
        char *name = coord_session_created_agent(se);
        if (name)
            zhash_insert(r->agents, name, (void *)(uintptr_t)(zhash_size(r->agents) + 1));
        free(name);
        break;
    }
    case TT__RECORD_BODY__KIND_STEP: {
        uint32_t step = e->body->step->step;
        if (step >= r->n_steps) {
            size_t n = r->n_steps ? r->n_steps : 64;
            while (n <= step)
                n *= 2;
            r->step_records = tt_realloc(r->step_records, n * sizeof *r->step_records);
            memset(r->step_records + r->n_steps, 0, (n - r->n_steps) * sizeof *r->step_records);
            r->n_steps = n;
        }
        r->step_records[step] = i;
        break;
    }
    case TT__RECORD_BODY__KIND_INTERVENTION: {
        const Tt__Intervention *iv = e->body->intervention;
        for (size_t k = 0; k < iv->n_exchanges; k++) {
            char hex[TT_SHA256_HEX_LEN + 1];
            if (iv->exchanges[k]->request_digest.len != 32)
                continue;
            tt_hex(iv->exchanges[k]->request_digest.data, 32, hex);
            zhash_update(r->judgements, hex, tt_strdup(iv->exchanges[k]->response));
            zhash_freefn(r->judgements, hex, free);
        }
        break;
    }
    default:
        break;
    }
}

tt_err_t
coord_replay_open(const char *path, coord_replay_t **out, char **errmsg)
{
    *out = NULL;
    coord_replay_t *r = tt_new(coord_replay_t);
    r->agents = zhash_new();
    r->judgements = zhash_new();
    tt_err_t err = tt_tlog_open(path, TT_TLOG_READ, &r->log, errmsg);
    uint64_t n = err ? 0 : tt_tlog_count(r->log);
    for (uint64_t i = 0; i < n && !err; i++) {
        tt_tlog_entry_t e;
        err = tt_tlog_read(r->log, i, &e);
        if (err) {
            *errmsg = tt_asprintf("%s: record %llu unreadable: %s", path, (unsigned long long)i,
                                  tt_strerror(err));
            break;
        }
        s_index_record(r, i, &e);
        tt_tlog_entry_fini(&e);
    }
    if (!err && !r->begun) {
        *errmsg = tt_asprintf("%s: not a run log (no SimBegin)", path);
        err = TT_EINVAL;
    }
    if (err) {
        coord_replay_close(&r);
        return err;
    }
    TT_LOG_INFO("replaying %s: %llu records", path, (unsigned long long)n);
    *out = r;
    return TT_OK;
}

void
coord_replay_close(coord_replay_t **self_p)
{
    coord_replay_t *r = *self_p;
    if (!r)
        return;
    tt_wire_free_body(&r->cached);
    tt_tlog_close(&r->log);
    zhash_destroy(&r->agents);
    zhash_destroy(&r->judgements);
    free(r->step_records);
    free(r);
    *self_p = NULL;
}

static Tt__Exchange *
s_copy(const Tt__Exchange *x)
{
    Tt__Exchange *c = tt_new(Tt__Exchange);
    tt__exchange__init(c);
    c->request_digest.len = x->request_digest.len;
    c->request_digest.data = tt_malloc(x->request_digest.len);
    memcpy(c->request_digest.data, x->request_digest.data, x->request_digest.len);
    c->response = tt_strdup(x->response);
    c->purpose = x->purpose ? tt_strdup(x->purpose) : NULL;
    return c;
}

Tt__Exchange **
coord_replay_exchanges(coord_replay_t *r, uint32_t step, const char *agent, size_t *n)
{
    *n = 0;
    uintptr_t old = (uintptr_t)zhash_lookup(r->agents, agent);
    if (!old || step >= r->n_steps || !r->step_records[step])
        return NULL;
    if (r->cached_step != step) {
        tt_wire_free_body(&r->cached);
        tt_tlog_entry_t e;
        if (tt_tlog_read(r->log, r->step_records[step], &e) != TT_OK)
            return NULL;
        r->cached = e.body;
        e.body = NULL;
        tt_tlog_entry_fini(&e);
        r->cached_step = step;
    }
    const Tt__StepCommit *sc = r->cached->step;
    for (size_t k = 0; k < sc->n_agents; k++) {
        const Tt__AgentStep *as = sc->agents[k];
        if (as->agent != old - 1)
            continue;
        Tt__Exchange **list = tt_calloc(as->n_exchanges + 1, sizeof *list);
        for (size_t i = 0; i < as->n_exchanges; i++)
            list[i] = s_copy(as->exchanges[i]);
        *n = as->n_exchanges;
        return list;
    }
    return NULL;
}

void
coord_replay_free_exchanges(Tt__Exchange **list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i]->request_digest.data);
        free(list[i]->response);
        free(list[i]->purpose);
        free(list[i]);
    }
    free(list);
}

const char *
coord_replay_judgement(coord_replay_t *r, const uint8_t digest[32])
{
    char hex[TT_SHA256_HEX_LEN + 1];
    return zhash_lookup(r->judgements, tt_hex(digest, 32, hex));
}
