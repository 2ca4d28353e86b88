/*  fuzz_seeds -- writes the binary seed inputs of the fuzz corpus.
 *
 *      fuzz_seeds SIM_TLOG CORPUS_DIR
 *
 *  SIM_TLOG is a small log the project wrote (tests/fuzz/make_corpus.sh runs
 *  the focus-group example for two steps). Writes, under CORPUS_DIR:
 *      wire/<body>.bin       one packed Envelope per body type, built with
 *                            the persona, settings and turn of that log
 *      record/NN-<kind>.bin  each record of the log as its frame payload, and
 *      record/NN-<kind>.body its packed RecordBody
 *      tlog/chunks.bin       the log's bodies in fuzz_tlog's chunk form
 *  Text seeds (answers, personas, ini files, ...) are committed as they are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_mem.h"
#include "tt_tlog.h"
#include "tt_wire.h"

static const char *s_out;

static void
s_write(const char *rel, const uint8_t *data, size_t len)
{
    char *path = tt_asprintf("%s/%s", s_out, rel);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        exit(1);
    }
    free(path);
}

static void
s_envelope(const char *name, Tt__Envelope *env)
{
    env->version = TT_PROTOCOL_VERSION;
    env->has_agent = true;
    env->agent = 1;
    env->has_incarnation = true;
    env->incarnation = 1;
    env->seq = 7;
    size_t len = tt__envelope__get_packed_size(env);
    uint8_t *buf = tt_malloc(len);
    tt__envelope__pack(env, buf);
    Tt__Envelope *check = NULL;
    if (tt_wire_decode(buf, len, &check) != TT_OK) {
        fprintf(stderr, "fuzz_seeds: the %s seed does not decode\n", name);
        exit(1);
    }
    tt_wire_free(&check);
    char rel[64];
    snprintf(rel, sizeof rel, "wire/%s.bin", name);
    s_write(rel, buf, len);
    free(buf);
}

/* One envelope of each body type, from what the log holds. */
static void
s_wire(const Tt__SimBegin *begin, const Tt__StepCommit *step)
{
    Tt__Envelope env;
    const Tt__AgentStep *as = step->agents[0];

    Tt__Hello hello = TT__HELLO__INIT;
    hello.instance = "3f2a9c1e5b7d4a60";
    hello.slots = 4;
    hello.host = "worker-1";
    hello.has_pid = true;
    hello.pid = 4242;
    tt__envelope__init(&env);
    env.body_case = TT__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    s_envelope("hello", &env);

    Tt__Welcome welcome = TT__WELCOME__INIT;
    welcome.heartbeat_ms = 1000;
    welcome.liveness_ms = 10000;
    tt__envelope__init(&env);
    env.body_case = TT__ENVELOPE__BODY_WELCOME;
    env.welcome = &welcome;
    s_envelope("welcome", &env);

    uint8_t run_id[TT_SHA256_LEN];
    tt_sha256("run", 3, run_id);
    Tt__Assign assign = TT__ASSIGN__INIT;
    assign.slot = 0;
    assign.name = begin->agents[0]->name;
    assign.persona_json = begin->agents[0]->persona_json;
    assign.agent_config_json = begin->agent_config_json ? begin->agent_config_json : "{}";
    assign.run_id.data = run_id;
    assign.run_id.len = sizeof run_id;
    assign.committed_step = 1;
    assign.data_dir = "/tmp/troupe-run";
    tt__envelope__init(&env);
    env.body_case = TT__ENVELOPE__BODY_ASSIGN;
    env.assign = &assign;
    s_envelope("assign", &env);

    Tt__Assigned assigned = TT__ASSIGNED__INIT;
    assigned.slot = 0;
    assigned.last_committed_step = 1;
    tt__envelope__init(&env);
    env.body_case = TT__ENVELOPE__BODY_ASSIGNED;
    env.assigned = &assigned;
    s_envelope("assigned", &env);

    Tt__Step st = TT__STEP__INIT;
    st.step = step->step;
    st.datetime = step->datetime;
    st.input = as->input;
    st.n_recorded = as->n_exchanges;
    st.recorded = as->exchanges;
    Tt__StepBatch__Item step_item = TT__STEP_BATCH__ITEM__INIT;
    step_item.agent = 1;
    step_item.incarnation = 1;
    step_item.step = &st;
    Tt__StepBatch__Item *step_items[1] = {&step_item};
    Tt__StepBatch steps = TT__STEP_BATCH__INIT;
    steps.n_items = 1;
    steps.items = step_items;
    tt__envelope__init(&env);
    env.body_case = TT__ENVELOPE__BODY_STEP_BATCH;
    env.step_batch = &steps;
    s_envelope("step", &env);

    Tt__ExchangeTelemetry tel = TT__EXCHANGE_TELEMETRY__INIT;
    tel.has_latency_ms = true;
    tel.latency_ms = 812;
    tel.has_attempts = true;
    tel.attempts = 1;
    tel.model = "troupe-offline";
    Tt__ExchangeTelemetry *tels[1] = {&tel};
    Tt__Actions actions = TT__ACTIONS__INIT;
    actions.step = step->step;
    actions.n_actions = as->n_actions;
    actions.actions = as->actions;
    actions.cognitive_state = as->cognitive_state;
    actions.n_exchanges = as->n_exchanges;
    actions.exchanges = as->exchanges;
    actions.n_telemetry = as->n_exchanges ? 1 : 0;
    actions.telemetry = tels;
    actions.has_busy_ms = true;
    actions.busy_ms = 900;
    Tt__ActionsBatch__Item answer_item = TT__ACTIONS_BATCH__ITEM__INIT;
    answer_item.agent = 1;
    answer_item.incarnation = 1;
    answer_item.actions = &actions;
    Tt__ActionsBatch__Item *answer_items[1] = {&answer_item};
    Tt__ActionsBatch answers = TT__ACTIONS_BATCH__INIT;
    answers.n_items = 1;
    answers.items = answer_items;
    tt__envelope__init(&env);
    env.body_case = TT__ENVELOPE__BODY_ACTIONS_BATCH;
    env.actions_batch = &answers;
    s_envelope("actions", &env);

    Tt__Heartbeat hb = TT__HEARTBEAT__INIT;
    tt__envelope__init(&env);
    env.body_case = TT__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_envelope("heartbeat", &env);

    Tt__Shutdown sd = TT__SHUTDOWN__INIT;
    sd.reason = "completed";
    tt__envelope__init(&env);
    env.body_case = TT__ENVELOPE__BODY_SHUTDOWN;
    env.shutdown = &sd;
    s_envelope("shutdown", &env);

    Tt__Error er = TT__ERROR__INIT;
    er.code = TT_EINVAL;
    er.message = "no such slot";
    tt__envelope__init(&env);
    env.body_case = TT__ENVELOPE__BODY_ERROR;
    env.error = &er;
    s_envelope("error", &env);
}

static const char *
s_kind(const Tt__RecordBody *b)
{
    switch (b->kind_case) {
    case TT__RECORD_BODY__KIND_BEGIN:
        return "begin";
    case TT__RECORD_BODY__KIND_STEP:
        return "step";
    case TT__RECORD_BODY__KIND_INTERVENTION:
        return "intervention";
    case TT__RECORD_BODY__KIND_CHECKPOINT:
        return "checkpoint";
    case TT__RECORD_BODY__KIND_END:
        return "end";
    case TT__RECORD_BODY__KIND_FACTORY_CALL:
        return "factory_call";
    default:
        return "unknown";
    }
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_seeds SIM_TLOG CORPUS_DIR\n");
        return 2;
    }
    s_out = argv[2];
    tt_tlog_t *log = NULL;
    char *err = NULL;
    if (tt_tlog_open(argv[1], TT_TLOG_READ, &log, &err) != TT_OK) {
        fprintf(stderr, "fuzz_seeds: %s\n", err ? err : argv[1]);
        return 1;
    }
    tt_buf_t chunks;
    tt_buf_init(&chunks, 0);
    uint8_t mode = 0; /* not 'T': the chunk form */
    tt_buf_add(&chunks, &mode, 1);
    tt_tlog_entry_t begin = {0}, step = {0};
    for (uint64_t i = 0; i < tt_tlog_count(log); i++) {
        tt_tlog_entry_t e;
        if (tt_tlog_read(log, i, &e) != TT_OK) {
            fprintf(stderr, "fuzz_seeds: cannot read record %llu\n", (unsigned long long)i);
            return 1;
        }
        size_t blen, rlen;
        uint8_t *body = tt_wire_pack_body(e.body, &blen);
        Tt__Record rec = TT__RECORD__INIT;
        rec.prev_hash.data = e.prev_hash;
        rec.prev_hash.len = TT_SHA256_LEN;
        rec.body.data = body;
        rec.body.len = blen;
        rec.telemetry = e.telemetry;
        uint8_t *record = tt_wire_pack_record(&rec, &rlen);
        char rel[64];
        snprintf(rel, sizeof rel, "record/%02llu-%s.bin", (unsigned long long)i, s_kind(e.body));
        s_write(rel, record, rlen);
        snprintf(rel, sizeof rel, "record/%02llu-%s.body", (unsigned long long)i, s_kind(e.body));
        s_write(rel, body, blen);
        uint8_t head[3] = {0, (uint8_t)blen, (uint8_t)(blen >> 8)};
        if (blen <= 0xffff) {
            tt_buf_add(&chunks, head, sizeof head);
            tt_buf_add(&chunks, body, blen);
        }
        free(record);
        free(body);
        if (e.body->kind_case == TT__RECORD_BODY__KIND_BEGIN && !begin.body)
            begin = e;
        else if (e.body->kind_case == TT__RECORD_BODY__KIND_STEP && !step.body)
            step = e;
        else
            tt_tlog_entry_fini(&e);
    }
    s_write("tlog/chunks.bin", (const uint8_t *)chunks.data, chunks.len);
    tt_buf_fini(&chunks);
    if (!begin.body || !step.body || !begin.body->begin->n_agents || !step.body->step->n_agents) {
        fprintf(stderr, "fuzz_seeds: the log needs a SimBegin with agents and a StepCommit\n");
        return 1;
    }
    s_wire(begin.body->begin, step.body->step);
    tt_tlog_entry_fini(&begin);
    tt_tlog_entry_fini(&step);
    tt_tlog_close(&log);
    return 0;
}
