/*  test_tlog -- the transaction log: format, chain, torn tails, corruption,
 *  locking, truncation, verify. Also the module's usage example: build bodies,
 *  append them, reopen, read them back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tt_hash.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_rng.h"
#include "tt_test.h"
#include "tt_tlog.h"
#include "tt_wire.h"

#define S_AGENTS     3
#define S_STEPS      5
#define S_RECORDS    (S_STEPS + 4) /* begin, steps, checkpoint, intervention, end */
#define S_FLIP_CASES 3000

/* ------------------------------------------------------------------ builders */

/* Everything one StepCommit and its telemetry point to. Built in place; not
 * to be copied once built. */
typedef struct {
    Tt__Stimulus stim[S_AGENTS];
    Tt__Stimulus *stimp[S_AGENTS];
    Tt__StepInput input[S_AGENTS];
    Tt__Action act[S_AGENTS][2];
    Tt__Action *actp[S_AGENTS][2];
    Tt__CognitiveState cs[S_AGENTS];
    Tt__Exchange ex[S_AGENTS];
    Tt__Exchange *exp[S_AGENTS];
    uint8_t digest[S_AGENTS][TT_SHA256_LEN];
    char text[S_AGENTS][3][96];
    Tt__AgentStep as[S_AGENTS];
    Tt__AgentStep *asp[S_AGENTS];
    Tt__ExchangeTelemetry et[S_AGENTS];
    Tt__ExchangeTelemetry *etp[S_AGENTS];
    Tt__AgentTelemetry at[S_AGENTS];
    Tt__AgentTelemetry *atp[S_AGENTS];
    Tt__StepCommit step;
    Tt__Telemetry tel;
    Tt__RecordBody body;
} s_step_t;

static void
s_agent_build(s_step_t *s, int i, uint32_t step, uint32_t latency)
{
    snprintf(s->text[i][0], sizeof s->text[i][0], "step %u: what do you think of agent %d?", step,
             (i + 1) % S_AGENTS);
    snprintf(s->text[i][1], sizeof s->text[i][1], "I think step %u went well, says %d", step, i);
    snprintf(s->text[i][2], sizeof s->text[i][2], "{\"actions\":[{\"type\":\"TALK\"}],\"n\":%u}",
             step * 10 + (uint32_t)i);
    tt__stimulus__init(&s->stim[i]);
    s->stim[i].type = "CONVERSATION";
    s->stim[i].content = s->text[i][0];
    s->stimp[i] = &s->stim[i];
    tt__step_input__init(&s->input[i]);
    s->input[i].n_stimuli = 1;
    s->input[i].stimuli = &s->stimp[i];
    tt__action__init(&s->act[i][0]);
    s->act[i][0].type = "TALK";
    s->act[i][0].content = s->text[i][1];
    s->act[i][0].target = "everyone";
    tt__action__init(&s->act[i][1]);
    s->act[i][1].type = "DONE";
    s->act[i][1].content = "";
    s->actp[i][0] = &s->act[i][0];
    s->actp[i][1] = &s->act[i][1];
    tt__cognitive_state__init(&s->cs[i]);
    s->cs[i].goals = "talk";
    s->cs[i].emotions = "calm";
    memset(s->digest[i], (int)(step * 16 + (uint32_t)i), TT_SHA256_LEN);
    tt__exchange__init(&s->ex[i]);
    s->ex[i].request_digest.len = TT_SHA256_LEN;
    s->ex[i].request_digest.data = s->digest[i];
    s->ex[i].response = s->text[i][2];
    s->ex[i].purpose = "turn";
    s->exp[i] = &s->ex[i];
    tt__agent_step__init(&s->as[i]);
    s->as[i].agent = (uint32_t)i;
    s->as[i].input = &s->input[i];
    s->as[i].n_actions = 2;
    s->as[i].actions = s->actp[i];
    s->as[i].cognitive_state = &s->cs[i];
    s->as[i].n_exchanges = 1;
    s->as[i].exchanges = &s->exp[i];
    s->as[i].status = "ok";
    s->asp[i] = &s->as[i];
    tt__exchange_telemetry__init(&s->et[i]);
    s->et[i].has_latency_ms = 1;
    s->et[i].latency_ms = latency + (uint32_t)i;
    s->et[i].has_prompt_tokens = 1;
    s->et[i].prompt_tokens = 1000 + step;
    s->etp[i] = &s->et[i];
    tt__agent_telemetry__init(&s->at[i]);
    s->at[i].agent = (uint32_t)i;
    s->at[i].n_exchanges = 1;
    s->at[i].exchanges = &s->etp[i];
    s->atp[i] = &s->at[i];
}

static void
s_step_build(s_step_t *s, uint32_t step, uint32_t latency)
{
    for (int i = 0; i < S_AGENTS; i++)
        s_agent_build(s, i, step, latency);
    tt__step_commit__init(&s->step);
    s->step.step = step;
    s->step.datetime = "2026-03-01T09:10:00";
    s->step.n_agents = S_AGENTS;
    s->step.agents = s->asp;
    tt__telemetry__init(&s->tel);
    s->tel.has_wall_ms = 1;
    s->tel.wall_ms = latency * 2;
    s->tel.n_agents = S_AGENTS;
    s->tel.agents = s->atp;
    tt__record_body__init(&s->body);
    s->body.kind_case = TT__RECORD_BODY__KIND_STEP;
    s->body.step = &s->step;
}

static tt_err_t
s_append_step(tt_tlog_t *log, uint32_t step, uint32_t latency, bool telemetry, bool sync)
{
    s_step_t s;
    s_step_build(&s, step, latency);
    return tt_tlog_append(log, &s.body, telemetry ? &s.tel : NULL, sync);
}

static void
s_begin_build(Tt__RecordBody *body, Tt__SimBegin *b, Tt__AgentInfo ai[S_AGENTS],
              Tt__AgentInfo *aip[S_AGENTS], uint8_t digest[TT_SHA256_LEN])
{
    static const char *names[S_AGENTS] = {"Lisa", "Oscar", "Marcos"};
    memset(digest, 0xab, TT_SHA256_LEN);
    tt__sim_begin__init(b);
    b->version = "0.1.0";
    b->scenario_digest.len = b->config_digest.len = TT_SHA256_LEN;
    b->scenario_digest.data = b->config_digest.data = digest;
    b->seed = 42;
    b->scenario_name = "focus group";
    b->scenario_json = "{\"name\":\"focus group\"}";
    for (int i = 0; i < S_AGENTS; i++) {
        tt__agent_info__init(&ai[i]);
        ai[i].name = (char *)names[i];
        ai[i].persona_json = "{\"type\":\"TinyPerson\"}";
        aip[i] = &ai[i];
    }
    b->n_agents = S_AGENTS;
    b->agents = aip;
    b->world_start = "2026-03-01T09:00:00";
    b->step_seconds = 600;
    b->steps = S_STEPS;
    b->mode = "parallel";
    b->provider = "offline";
    b->model = "offline";
    tt__record_body__init(body);
    body->kind_case = TT__RECORD_BODY__KIND_BEGIN;
    body->begin = b;
}

static tt_err_t
s_append_begin(tt_tlog_t *log)
{
    Tt__RecordBody body;
    Tt__SimBegin b;
    Tt__AgentInfo ai[S_AGENTS], *aip[S_AGENTS];
    uint8_t digest[TT_SHA256_LEN];
    s_begin_build(&body, &b, ai, aip, digest);
    return tt_tlog_append(log, &body, NULL, true);
}

static tt_err_t
s_append_checkpoint(tt_tlog_t *log, uint32_t step, const char *name)
{
    Tt__Checkpoint c = TT__CHECKPOINT__INIT;
    c.step = step;
    c.name = (char *)name;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_CHECKPOINT;
    body.checkpoint = &c;
    return tt_tlog_append(log, &body, NULL, false);
}

static tt_err_t
s_append_intervention(tt_tlog_t *log, uint32_t step)
{
    Tt__Stimulus effect = TT__STIMULUS__INIT, *effects[1] = {&effect};
    effect.type = "CONVERSATION";
    effect.content = "Please consider the new product.";
    char *targets[2] = {"Lisa", "Oscar"};
    Tt__Intervention iv = TT__INTERVENTION__INIT;
    iv.step = step;
    iv.name = "nudge";
    iv.n_targets = 2;
    iv.targets = targets;
    iv.n_effects = 1;
    iv.effects = effects;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_INTERVENTION;
    body.intervention = &iv;
    return tt_tlog_append(log, &body, NULL, false);
}

static tt_err_t
s_append_end(tt_tlog_t *log, uint32_t steps)
{
    Tt__SimEnd e = TT__SIM_END__INIT;
    e.steps = steps;
    e.reason = "completed";
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_END;
    body.end = &e;
    return tt_tlog_append(log, &body, NULL, true);
}

/* The standard log: begin, S_STEPS steps, checkpoint, intervention, end. */
static void
s_write_log(const char *path, uint32_t latency, bool telemetry)
{
    tt_tlog_t *log;
    char *err = NULL;
    assert_int_equal(tt_tlog_open(path, TT_TLOG_APPEND, &log, &err), TT_OK);
    assert_int_equal(s_append_begin(log), TT_OK);
    for (uint32_t step = 1; step <= S_STEPS; step++)
        assert_int_equal(s_append_step(log, step, latency + step, telemetry, step == S_STEPS),
                         TT_OK);
    assert_int_equal(s_append_checkpoint(log, S_STEPS, "after-steps"), TT_OK);
    assert_int_equal(s_append_intervention(log, S_STEPS), TT_OK);
    assert_int_equal(s_append_end(log, S_STEPS), TT_OK);
    assert_int_equal(tt_tlog_count(log), S_RECORDS);
    tt_tlog_close(&log);
}

/* begin and steps only: the last records are large, telemetry-carrying steps. */
static void
s_write_steps(const char *path, uint32_t steps)
{
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(s_append_begin(log), TT_OK);
    for (uint32_t step = 1; step <= steps; step++)
        assert_int_equal(s_append_step(log, step, step * 10, true, false), TT_OK);
    assert_int_equal(tt_tlog_sync(log), TT_OK);
    tt_tlog_close(&log);
}

/* ------------------------------------------------------------------- helpers */

typedef struct {
    char *dir;
    char *path;
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *fx = tt_new(s_fix_t);
    fx->dir = tt_test_tmpdir("tlog");
    fx->path = tt_asprintf("%s/sim.tlog", fx->dir);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fix_t *fx = *state;
    tt_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx->path);
    free(fx);
    return 0;
}

static void
s_put_file(const char *path, const char *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static uint64_t
s_file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

/* Offsets of every record plus the end of the last one: offs[count] = size. */
static uint64_t *
s_offsets(const char *path, uint64_t *count)
{
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(path, TT_TLOG_READ, &log, NULL), TT_OK);
    *count = tt_tlog_count(log);
    uint64_t *offs = tt_calloc(*count + 1, sizeof *offs);
    for (uint64_t i = 0; i < *count; i++) {
        tt_tlog_entry_t e;
        assert_int_equal(tt_tlog_read(log, i, &e), TT_OK);
        offs[i] = e.offset;
        tt_tlog_entry_fini(&e);
    }
    offs[*count] = s_file_size(path);
    tt_tlog_close(&log);
    return offs;
}

static void
s_hash_of(const char *path, uint64_t index, uint8_t out[TT_SHA256_LEN])
{
    tt_tlog_t *log;
    tt_tlog_entry_t e;
    assert_int_equal(tt_tlog_open(path, TT_TLOG_READ, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_read(log, index, &e), TT_OK);
    memcpy(out, e.hash, TT_SHA256_LEN);
    tt_tlog_entry_fini(&e);
    tt_tlog_close(&log);
}

static uint32_t
s_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* --------------------------------------------------------------------- tests */

/* Usage example: write a log, reopen it, read every record back. */
/* The log's check value: CRC32C's check value, and the CPU's instruction
 * (where tt_crc32c uses it) equal to the table at every length, offset and
 * continuation. */
static void
test_crc32c_agrees_with_its_table(void **state)
{
    (void)state;
    assert_int_equal(tt_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(tt_crc32c_portable(0, "123456789", 9), 0xE3069283u);
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 131 + 7);
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; off + len <= sizeof data; len += 1 + len / 8) {
            uint32_t want = tt_crc32c_portable(0x5eed, data + off, len);
            assert_int_equal(tt_crc32c(0x5eed, data + off, len), want);
            size_t half = len / 2;
            assert_int_equal(
                tt_crc32c(tt_crc32c(0x5eed, data + off, half), data + off + half, len - half),
                want);
        }
}

static void
test_append_reopen_read_round_trip(void **state)
{
    s_fix_t *fx = *state;
    s_write_log(fx->path, 100, true);
    struct stat st;
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    tt_tlog_t *log;
    char *err = NULL;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &log, &err), TT_OK);
    assert_null(err);
    assert_int_equal(tt_tlog_count(log), S_RECORDS);
    assert_int_equal(tt_tlog_cut_bytes(log), 0);
    assert_string_equal(tt_tlog_path(log), fx->path);
    static const Tt__RecordBody__KindCase kinds[S_RECORDS] = {
        TT__RECORD_BODY__KIND_BEGIN,      TT__RECORD_BODY__KIND_STEP,
        TT__RECORD_BODY__KIND_STEP,       TT__RECORD_BODY__KIND_STEP,
        TT__RECORD_BODY__KIND_STEP,       TT__RECORD_BODY__KIND_STEP,
        TT__RECORD_BODY__KIND_CHECKPOINT, TT__RECORD_BODY__KIND_INTERVENTION,
        TT__RECORD_BODY__KIND_END};
    uint8_t prev[TT_SHA256_LEN] = {0};
    for (uint64_t i = 0; i < S_RECORDS; i++) {
        tt_tlog_entry_t e;
        assert_int_equal(tt_tlog_read(log, i, &e), TT_OK);
        assert_int_equal(e.index, i);
        assert_int_equal(e.body->kind_case, kinds[i]);
        assert_memory_equal(e.prev_hash, prev, TT_SHA256_LEN);
        memcpy(prev, e.hash, TT_SHA256_LEN);
        if (kinds[i] == TT__RECORD_BODY__KIND_STEP) {
            const Tt__StepCommit *sc = e.body->step;
            assert_int_equal(sc->step, i);
            assert_int_equal(sc->n_agents, S_AGENTS);
            assert_string_equal(sc->agents[1]->actions[0]->type, "TALK");
            assert_non_null(strstr(sc->agents[1]->actions[0]->content, "went well"));
            assert_int_equal(sc->agents[2]->exchanges[0]->request_digest.len, TT_SHA256_LEN);
            assert_non_null(e.telemetry);
            assert_int_equal(e.telemetry->wall_ms, (100 + i) * 2);
            assert_int_equal(e.telemetry->agents[2]->exchanges[0]->latency_ms, 100 + i + 2);
        } else {
            assert_null(e.telemetry);
        }
        if (kinds[i] == TT__RECORD_BODY__KIND_BEGIN)
            assert_string_equal(e.body->begin->agents[1]->name, "Oscar");
        tt_tlog_entry_fini(&e);
        assert_null(e.body);
    }
    assert_memory_equal(tt_tlog_last_hash(log), prev, TT_SHA256_LEN);
    tt_tlog_entry_t e;
    assert_int_equal(tt_tlog_read(log, S_RECORDS, &e), TT_EINVAL);
    tt_tlog_close(&log);
    assert_null(log);

    /* Reopened for append, it continues the chain. */
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_memory_equal(tt_tlog_last_hash(log), prev, TT_SHA256_LEN);
    assert_int_equal(s_append_checkpoint(log, 6, "more"), TT_OK);
    assert_int_equal(tt_tlog_sync(log), TT_OK);
    tt_tlog_close(&log);
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_count(log), S_RECORDS + 1);
    assert_int_equal(tt_tlog_read(log, S_RECORDS, &e), TT_OK);
    assert_memory_equal(e.prev_hash, prev, TT_SHA256_LEN);
    assert_string_equal(e.body->checkpoint->name, "more");
    tt_tlog_entry_fini(&e);
    tt_tlog_close(&log);
}

/* The file is exactly what tt_tlog.h documents: parse it by hand. */
static void
test_format_and_chain_by_hand(void **state)
{
    s_fix_t *fx = *state;
    s_write_log(fx->path, 7, true);
    size_t size;
    uint8_t *file = (uint8_t *)tt_test_read_file(fx->path, &size);
    assert_non_null(file);
    static const uint8_t header[16] = {'T', 'R', 'O', 'U', 'P', 'E', 'L', 'O',
                                       'G', 0,   2,   0,   0,   0,   0,   0};
    assert_memory_equal(file, header, 16);
    uint8_t hash[TT_SHA256_LEN] = {0};
    size_t off = 16;
    int records = 0;
    while (off < size) {
        assert_true(size - off >= 12);
        assert_int_equal(s_le32(file + off), 0x524C5454u);
        uint32_t len = s_le32(file + off + 4);
        assert_true(len <= size - off - 12);
        uint32_t crc = tt_crc32c(tt_crc32c(0, file + off + 4, 4), file + off + 12, len);
        assert_int_equal(crc, s_le32(file + off + 8));
        Tt__Record *rec;
        assert_int_equal(tt_wire_decode_record(file + off + 12, len, &rec), TT_OK);
        assert_memory_equal(rec->prev_hash.data, hash, TT_SHA256_LEN);
        tt_sha256_t h;
        tt_sha256_init(&h);
        tt_sha256_update(&h, hash, TT_SHA256_LEN);
        tt_sha256_update(&h, rec->body.data, rec->body.len);
        tt_sha256_final(&h, hash);
        tt_wire_free_record(&rec);
        off += 12 + len;
        records++;
    }
    assert_int_equal(records, S_RECORDS);

    /* Independently: the chain over the bodies as the builders pack them. */
    uint8_t expect[TT_SHA256_LEN] = {0};
    for (uint32_t i = 0; i <= S_STEPS; i++) {
        size_t n;
        uint8_t *bytes;
        if (i == 0) {
            Tt__RecordBody body;
            Tt__SimBegin b;
            Tt__AgentInfo ai[S_AGENTS], *aip[S_AGENTS];
            uint8_t digest[TT_SHA256_LEN];
            s_begin_build(&body, &b, ai, aip, digest);
            bytes = tt_wire_pack_body(&body, &n);
        } else {
            s_step_t s;
            s_step_build(&s, i, 7 + i);
            bytes = tt_wire_pack_body(&s.body, &n);
        }
        uint8_t *joined = tt_malloc(TT_SHA256_LEN + n);
        memcpy(joined, expect, TT_SHA256_LEN);
        memcpy(joined + TT_SHA256_LEN, bytes, n);
        tt_sha256(joined, TT_SHA256_LEN + n, expect);
        free(joined);
        free(bytes);
    }
    uint8_t got[TT_SHA256_LEN];
    s_hash_of(fx->path, S_STEPS, got);
    assert_memory_equal(got, expect, TT_SHA256_LEN);

    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &log, NULL), TT_OK);
    assert_memory_equal(tt_tlog_last_hash(log), hash, TT_SHA256_LEN);
    tt_tlog_close(&log);
    free(file);
}

/* Telemetry is in the file but not in the chain. */
static void
test_telemetry_is_outside_the_chain(void **state)
{
    s_fix_t *fx = *state;
    char *slow = tt_asprintf("%s/slow.tlog", fx->dir), *none = tt_asprintf("%s/none.tlog", fx->dir);
    s_write_log(fx->path, 10, true);
    s_write_log(slow, 9000, true);
    s_write_log(none, 0, false);
    size_t n1, n2;
    char *b1 = tt_test_read_file(fx->path, &n1), *b2 = tt_test_read_file(slow, &n2);
    assert_true(n1 != n2 || memcmp(b1, b2, n1) != 0);
    uint8_t h1[TT_SHA256_LEN], h2[TT_SHA256_LEN], h3[TT_SHA256_LEN];
    s_hash_of(fx->path, S_RECORDS - 1, h1);
    s_hash_of(slow, S_RECORDS - 1, h2);
    s_hash_of(none, S_RECORDS - 1, h3);
    assert_memory_equal(h1, h2, TT_SHA256_LEN);
    assert_memory_equal(h1, h3, TT_SHA256_LEN);
    free(b1);
    free(b2);
    free(slow);
    free(none);
}

/* Cut the file at every byte offset inside the last three records. */
static void
test_torn_tail_exhaustive(void **state)
{
    s_fix_t *fx = *state;
    char *orig = tt_asprintf("%s/orig.tlog", fx->dir);
    s_write_steps(orig, S_STEPS);
    uint64_t count;
    uint64_t *offs = s_offsets(orig, &count);
    size_t size;
    char *bytes = tt_test_read_file(orig, &size);
    int cases = 0;
    for (uint64_t cut = offs[count - 3]; cut < size; cut++, cases++) {
        s_put_file(fx->path, bytes, cut);
        uint64_t whole = 0;
        while (whole < count && offs[whole + 1] <= cut)
            whole++;
        tt_tlog_t *log;
        assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
        assert_int_equal(tt_tlog_count(log), whole);
        assert_int_equal(tt_tlog_cut_bytes(log), cut - offs[whole]);
        assert_int_equal(s_file_size(fx->path), offs[whole]);
        tt_tlog_verify_t rep;
        assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
        assert_false(rep.torn_tail || rep.corrupt);
        assert_int_equal(rep.records, whole);
        /* It still appends, and the result reopens whole. */
        assert_int_equal(s_append_checkpoint(log, 99, "after-cut"), TT_OK);
        tt_tlog_close(&log);
        assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &log, NULL), TT_OK);
        assert_int_equal(tt_tlog_count(log), whole + 1);
        assert_int_equal(tt_tlog_cut_bytes(log), 0);
        tt_tlog_close(&log);
    }
    print_message("torn tail: %d cut points over the last 3 records\n", cases);
    assert_int_equal(cases, offs[count] - offs[count - 3]);
    assert_true(cases > 1000);
    free(offs);
    free(bytes);
    free(orig);
}

/* 1 to 8 distinct random bits flipped in the last record: always detected. */
static void
test_bit_flips_in_last_record_are_cut(void **state)
{
    s_fix_t *fx = *state;
    char *orig = tt_asprintf("%s/orig.tlog", fx->dir);
    s_write_steps(orig, S_STEPS);
    uint64_t count;
    uint64_t *offs = s_offsets(orig, &count);
    uint8_t last_good[TT_SHA256_LEN];
    s_hash_of(orig, count - 2, last_good);
    size_t size;
    char *bytes = tt_test_read_file(orig, &size);
    char *work = tt_malloc(size);
    uint64_t first = offs[count - 1], span = size - first;
    tt_rng_t rng;
    tt_rng_seed(&rng, 20260301);
    for (int c = 0; c < S_FLIP_CASES; c++) {
        memcpy(work, bytes, size);
        int nbits = 1 + (int)tt_rng_below(&rng, 8);
        uint64_t bits[8];
        for (int k = 0; k < nbits; k++) {
            bool dup;
            do {
                bits[k] = tt_rng_below(&rng, span * 8);
                dup = false;
                for (int j = 0; j < k; j++)
                    dup = dup || bits[j] == bits[k];
            } while (dup);
            work[first + bits[k] / 8] ^= (char)(1u << (bits[k] % 8));
        }
        s_put_file(fx->path, work, size);
        tt_tlog_t *log;
        /* READ sees it as cut; APPEND cuts it. Alternate to keep fsyncs few. */
        tt_tlog_mode_t mode = c % 8 == 0 ? TT_TLOG_APPEND : TT_TLOG_READ;
        assert_int_equal(tt_tlog_open(fx->path, mode, &log, NULL), TT_OK);
        assert_int_equal(tt_tlog_count(log), count - 1);
        assert_int_equal(tt_tlog_cut_bytes(log), span);
        assert_memory_equal(tt_tlog_last_hash(log), last_good, TT_SHA256_LEN);
        tt_tlog_close(&log);
        assert_int_equal(s_file_size(fx->path), mode == TT_TLOG_APPEND ? first : size);
    }
    print_message("bit flips: %d cases in a %" PRIu64 "-byte record\n", S_FLIP_CASES, span);
    free(work);
    free(bytes);
    free(offs);
    free(orig);
}

/* A damaged byte in the middle, with whole records after it: refused. */
static void
test_mid_log_damage_is_refused(void **state)
{
    s_fix_t *fx = *state;
    char *orig = tt_asprintf("%s/orig.tlog", fx->dir);
    s_write_log(orig, 3, true);
    uint64_t count;
    uint64_t *offs = s_offsets(orig, &count);
    size_t size;
    char *bytes = tt_test_read_file(orig, &size);
    char *work = tt_malloc(size);
    const uint64_t victim = 2;
    int cases = 0;
    /* Every byte of record 2, one bit each. */
    for (uint64_t at = offs[victim]; at < offs[victim + 1]; at++, cases++) {
        memcpy(work, bytes, size);
        work[at] ^= (char)(1u << (at % 8));
        s_put_file(fx->path, work, size);
        for (int m = 0; m < 2; m++) {
            tt_tlog_t *log;
            char *err = NULL;
            tt_tlog_mode_t mode = m ? TT_TLOG_APPEND : TT_TLOG_READ;
            assert_int_equal(tt_tlog_open(fx->path, mode, &log, &err), TT_ECORRUPT);
            assert_null(log);
            char *want = tt_asprintf("%s: record 2 at byte %" PRIu64 ": ", fx->path, offs[victim]);
            assert_true(strncmp(err, want, strlen(want)) == 0);
            free(want);
            free(err);
        }
        size_t now;
        char *after = tt_test_read_file(fx->path, &now);
        assert_int_equal(now, size);
        assert_memory_equal(after, work, size);
        free(after);
        tt_tlog_verify_t rep;
        assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
        assert_true(rep.corrupt);
        assert_int_equal(rep.bad_index, victim);
        assert_int_equal(rep.bad_offset, offs[victim]);
        assert_int_equal(rep.records, victim);
    }
    print_message("mid-log damage: %d cases refused\n", cases);
    free(work);
    free(bytes);
    free(offs);
    free(orig);
}

/* A whole, CRC-valid frame that does not chain is not a torn write: refused. */
static void
test_valid_frame_with_broken_chain_is_refused(void **state)
{
    s_fix_t *fx = *state;
    char *other = tt_asprintf("%s/other.tlog", fx->dir);
    s_write_log(fx->path, 3, true);
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(other, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(s_append_checkpoint(log, 1, "foreign"), TT_OK);
    tt_tlog_close(&log);
    size_t n1, n2;
    char *a = tt_test_read_file(fx->path, &n1), *b = tt_test_read_file(other, &n2);
    char *joined = tt_malloc(n1 + n2 - 16);
    memcpy(joined, a, n1);
    memcpy(joined + n1, b + 16, n2 - 16);
    s_put_file(fx->path, joined, n1 + n2 - 16);
    char *err = NULL;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, &err), TT_ECORRUPT);
    assert_non_null(strstr(err, "record 9 at byte"));
    assert_non_null(strstr(err, "hash chain broken"));
    assert_int_equal(s_file_size(fx->path), n1 + n2 - 16);
    free(err);
    free(a);
    free(b);
    free(joined);
    free(other);
}

/* READ mode never touches the file, torn or not; it cannot append either. */
static void
test_read_mode_never_writes(void **state)
{
    s_fix_t *fx = *state;
    s_write_log(fx->path, 3, true);
    uint64_t size = s_file_size(fx->path);
    assert_int_equal(truncate(fx->path, (off_t)(size - 5)), 0);
    size_t before_len;
    char *before = tt_test_read_file(fx->path, &before_len);
    struct stat st0, st1;
    assert_int_equal(stat(fx->path, &st0), 0);
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_count(log), S_RECORDS - 1);
    assert_true(tt_tlog_cut_bytes(log) > 0);
    for (uint64_t i = 0; i < tt_tlog_count(log); i++) {
        tt_tlog_entry_t e;
        assert_int_equal(tt_tlog_read(log, i, &e), TT_OK);
        tt_tlog_entry_fini(&e);
    }
    assert_int_equal(s_append_checkpoint(log, 1, "no"), TT_EINVAL);
    assert_int_equal(tt_tlog_truncate(log, 1), TT_EINVAL);
    assert_int_equal(tt_tlog_sync(log), TT_EINVAL);
    tt_tlog_close(&log);
    size_t after_len;
    char *after = tt_test_read_file(fx->path, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    assert_int_equal(stat(fx->path, &st1), 0);
    assert_true(st0.st_mtim.tv_sec == st1.st_mtim.tv_sec &&
                st0.st_mtim.tv_nsec == st1.st_mtim.tv_nsec);
    free(before);
    free(after);

    /* A missing file is not created by a reader. */
    char *missing = tt_asprintf("%s/missing.tlog", fx->dir), *err = NULL;
    assert_int_equal(tt_tlog_open(missing, TT_TLOG_READ, &log, &err), TT_ENOTFOUND);
    assert_non_null(strstr(err, "missing.tlog"));
    assert_int_not_equal(access(missing, F_OK), 0);
    free(err);
    free(missing);
}

static void
test_truncate_to_index(void **state)
{
    s_fix_t *fx = *state;
    s_write_log(fx->path, 3, true);
    uint64_t count;
    uint64_t *offs = s_offsets(fx->path, &count);
    uint8_t h3[TT_SHA256_LEN];
    s_hash_of(fx->path, 3, h3);
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_truncate(log, count + 1), TT_EINVAL);
    assert_int_equal(tt_tlog_truncate(log, count), TT_OK);
    assert_int_equal(tt_tlog_count(log), count);
    assert_int_equal(tt_tlog_truncate(log, 4), TT_OK);
    assert_int_equal(tt_tlog_count(log), 4);
    assert_memory_equal(tt_tlog_last_hash(log), h3, TT_SHA256_LEN);
    assert_int_equal(s_file_size(fx->path), offs[4]);
    assert_int_equal(s_append_step(log, 4, 3, true, true), TT_OK);
    tt_tlog_close(&log);
    /* The rewritten step 4 is the same decision: the same hash as before. */
    uint8_t h4[TT_SHA256_LEN], h4_old[TT_SHA256_LEN];
    s_hash_of(fx->path, 4, h4);
    char *orig = tt_asprintf("%s/orig.tlog", fx->dir);
    s_write_log(orig, 3, true);
    s_hash_of(orig, 4, h4_old);
    assert_memory_equal(h4, h4_old, TT_SHA256_LEN);

    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_count(log), 5);
    assert_int_equal(tt_tlog_truncate(log, 0), TT_OK);
    assert_int_equal(tt_tlog_count(log), 0);
    static const uint8_t zero[TT_SHA256_LEN];
    assert_memory_equal(tt_tlog_last_hash(log), zero, TT_SHA256_LEN);
    assert_int_equal(s_file_size(fx->path), 16);
    assert_int_equal(s_append_begin(log), TT_OK);
    tt_tlog_close(&log);
    tt_tlog_verify_t rep;
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_int_equal(rep.records, 1);
    assert_false(rep.torn_tail || rep.corrupt);
    free(orig);
    free(offs);
}

static void
test_second_writer_gets_eexist(void **state)
{
    s_fix_t *fx = *state;
    tt_tlog_t *log, *other;
    char *err = NULL;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &other, &err), TT_EEXIST);
    assert_null(other);
    assert_non_null(strstr(err, "append"));
    free(err);
    /* Another process too. */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        tt_err_t rc = tt_tlog_open(fx->path, TT_TLOG_APPEND, &other, NULL);
        _exit(rc == TT_EEXIST ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* A reader is welcome meanwhile. */
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &other, NULL), TT_OK);
    tt_tlog_close(&other);
    tt_tlog_close(&log);
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &other, NULL), TT_OK);
    tt_tlog_close(&other);
}

static void
test_verify_reports(void **state)
{
    s_fix_t *fx = *state;
    tt_tlog_verify_t rep;
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_ENOTFOUND);
    s_write_log(fx->path, 3, true);
    uint64_t count;
    uint64_t *offs = s_offsets(fx->path, &count);
    uint8_t last[TT_SHA256_LEN];
    s_hash_of(fx->path, count - 1, last);
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_int_equal(rep.records, count);
    assert_int_equal(rep.bytes, offs[count]);
    assert_int_equal(rep.valid_bytes, offs[count]);
    assert_false(rep.torn_tail || rep.corrupt);
    assert_string_equal(rep.message, "");
    assert_memory_equal(rep.final_hash, last, TT_SHA256_LEN);

    assert_int_equal(truncate(fx->path, (off_t)(offs[count] - 3)), 0);
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_true(rep.torn_tail);
    assert_false(rep.corrupt);
    assert_int_equal(rep.records, count - 1);
    assert_int_equal(rep.bad_index, count - 1);
    assert_int_equal(rep.bad_offset, offs[count - 1]);
    assert_int_equal(rep.valid_bytes, offs[count - 1]);
    assert_non_null(strstr(rep.message, "partial frame"));

    /* Headers: garbage, a future version, a prefix, nothing at all. */
    s_put_file(fx->path, "hello, this is not a log at all", 31);
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_true(rep.corrupt);
    char *err = NULL;
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, &err), TT_ECORRUPT);
    assert_non_null(strstr(err, "not a troupe log"));
    free(err);
    s_put_file(fx->path, "TROUPELOG\0\3\0\0\0\0\0", 16);
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_true(rep.corrupt);
    assert_non_null(strstr(rep.message, "unsupported log format version 3"));
    s_put_file(fx->path, "TROUP", 5);
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_true(rep.torn_tail);
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_cut_bytes(log), 5);
    tt_tlog_close(&log);
    assert_int_equal(s_file_size(fx->path), 16);
    s_put_file(fx->path, "", 0);
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_false(rep.torn_tail || rep.corrupt);
    assert_int_equal(rep.records, 0);
    free(offs);
}

/* A write that fails part-way leaves the log as it was. */
static void
test_failed_write_is_rolled_back(void **state)
{
    s_fix_t *fx = *state;
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(s_append_begin(log), TT_OK);
    uint64_t size = s_file_size(fx->path);
    uint8_t hash[TT_SHA256_LEN];
    memcpy(hash, tt_tlog_last_hash(log), TT_SHA256_LEN);

    struct rlimit old, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = size + 100; /* a step record is larger: the write stops short */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    tt_err_t rc = s_append_step(log, 1, 3, true, true);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, TT_EIO);
    assert_int_equal(tt_tlog_count(log), 1);
    assert_int_equal(s_file_size(fx->path), size);
    assert_memory_equal(tt_tlog_last_hash(log), hash, TT_SHA256_LEN);

    assert_int_equal(s_append_step(log, 1, 3, true, true), TT_OK);
    tt_tlog_close(&log);
    tt_tlog_verify_t rep;
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_int_equal(rep.records, 2);
    assert_false(rep.torn_tail || rep.corrupt);
}

static void
test_unfit_bodies_are_refused(void **state)
{
    s_fix_t *fx = *state;
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    Tt__RecordBody empty = TT__RECORD_BODY__INIT;
    assert_int_equal(tt_tlog_append(log, &empty, NULL, false), TT_EINVAL);
    assert_int_equal(tt_tlog_count(log), 0);
    tt_tlog_close(&log);
    assert_int_equal(s_file_size(fx->path), 16);
}

/* Garbage after a good prefix: open never crashes and never accepts it. */
static void
test_hostile_bytes(void **state)
{
    s_fix_t *fx = *state;
    char *orig = tt_asprintf("%s/orig.tlog", fx->dir);
    s_write_log(orig, 3, true);
    size_t size;
    char *bytes = tt_test_read_file(orig, &size);
    uint64_t count;
    uint64_t *offs = s_offsets(orig, &count);
    tt_rng_t rng;
    tt_rng_seed(&rng, 7);
    char *work = tt_malloc(size + 4096);
    for (int c = 0; c < 500; c++) {
        uint64_t keep = offs[tt_rng_below(&rng, count + 1)];
        size_t junk = (size_t)tt_rng_below(&rng, 4096);
        memcpy(work, bytes, keep);
        for (size_t i = 0; i < junk; i++)
            work[keep + i] = (char)tt_rng_below(&rng, 256);
        if (junk >= 12 && c % 2) { /* a plausible frame head with a wild length */
            memcpy(work + keep, "TTLR", 4);
            uint32_t len = (uint32_t)tt_rng_next(&rng);
            memcpy(work + keep + 4, &len, 4);
        }
        s_put_file(fx->path, work, keep + junk);
        tt_tlog_t *log;
        tt_err_t rc = tt_tlog_open(fx->path, TT_TLOG_READ, &log, NULL);
        assert_true(rc == TT_OK || rc == TT_ECORRUPT);
        if (rc == TT_OK) {
            assert_true(tt_tlog_count(log) <= count);
            tt_tlog_close(&log);
        }
    }
    /* A megabyte of frame heads, every one a candidate: still linear. */
    static const char heads[2][8] = {{'T', 'T', 'L', 'R', 16, 0, 0, 0},
                                     {'T', 'T', 'L', 'R', (char)0xff, (char)0xff, (char)0xff, 0}};
    size_t big = (size_t)1 << 20;
    work = tt_realloc(work, offs[2] + big);
    for (int h = 0; h < 2; h++) {
        memcpy(work, bytes, offs[2]);
        for (size_t i = 0; i < big; i += 8)
            memcpy(work + offs[2] + i, heads[h], 8);
        s_put_file(fx->path, work, offs[2] + big);
        tt_tlog_t *log;
        assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &log, NULL), TT_OK);
        assert_int_equal(tt_tlog_count(log), 2);
        assert_int_equal(tt_tlog_cut_bytes(log), big);
        tt_tlog_close(&log);
    }
    free(work);
    free(offs);
    free(bytes);
    free(orig);
}

int
main(void)
{
    tt_log_level = TT_LOG_LEVEL_NONE; /* the damage below is meant */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_agrees_with_its_table),
        cmocka_unit_test_setup_teardown(test_append_reopen_read_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_format_and_chain_by_hand, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_telemetry_is_outside_the_chain, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_exhaustive, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bit_flips_in_last_record_are_cut, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_mid_log_damage_is_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_valid_frame_with_broken_chain_is_refused, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_read_mode_never_writes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_truncate_to_index, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_second_writer_gets_eexist, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_verify_reports, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_is_rolled_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unfit_bodies_are_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_bytes, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
