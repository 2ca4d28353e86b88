/*  test_tlog_parts -- records written in Parts (format version 2): a record's
 *  Parts fold into it on read, a count that does not match is corruption,
 *  Parts with no record after them are an unfinished write, truncation takes
 *  a record's Parts with it, and a version 1 log is still read and appended to
 *  whole. Also the usage example of tt_tlog_append_part.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_test.h"
#include "tt_tlog.h"
#include "tt_wire.h"

#define S_AGENTS 6
#define S_FIELD  3 /* StepCommit.agents */

/* StepCommit entries by hand: AgentStep{agent: 1 or 2, input: {}} */
static const uint8_t s_entry1[] = {0x1a, 0x04, 0x08, 0x01, 0x12, 0x00};
static const uint8_t s_entry2[] = {0x1a, 0x04, 0x08, 0x02, 0x12, 0x00};

/* ------------------------------------------------------------------ builders */

/* A StepCommit of S_AGENTS agents and its telemetry; built in place. */
typedef struct {
    Tt__StepInput input[S_AGENTS];
    Tt__Action act[S_AGENTS];
    Tt__Action *actp[S_AGENTS];
    char text[S_AGENTS][64];
    Tt__AgentStep as[S_AGENTS];
    Tt__AgentStep *asp[S_AGENTS];
    Tt__AgentTelemetry at[S_AGENTS];
    Tt__AgentTelemetry *atp[S_AGENTS];
    Tt__StepCommit step;
    Tt__Telemetry tel;
    Tt__RecordBody body;
} s_step_t;

static void
s_step_build(s_step_t *s, uint32_t step)
{
    for (int i = 0; i < S_AGENTS; i++) {
        snprintf(s->text[i], sizeof s->text[i], "agent %d says something at step %u", i, step);
        tt__step_input__init(&s->input[i]);
        tt__action__init(&s->act[i]);
        s->act[i].type = "TALK";
        s->act[i].content = s->text[i];
        s->actp[i] = &s->act[i];
        tt__agent_step__init(&s->as[i]);
        s->as[i].agent = (uint32_t)i;
        s->as[i].input = &s->input[i];
        s->as[i].n_actions = 1;
        s->as[i].actions = &s->actp[i];
        s->as[i].status = "ok";
        s->asp[i] = &s->as[i];
        tt__agent_telemetry__init(&s->at[i]);
        s->at[i].agent = (uint32_t)i;
        s->at[i].has_busy_ms = true;
        s->at[i].busy_ms = 100 + (uint32_t)i;
        s->atp[i] = &s->at[i];
    }
    tt__step_commit__init(&s->step);
    s->step.step = step;
    s->step.datetime = "2026-03-01T09:10:00";
    s->step.n_agents = S_AGENTS;
    s->step.agents = s->asp;
    tt__telemetry__init(&s->tel);
    s->tel.has_wall_ms = true;
    s->tel.wall_ms = 1234;
    s->tel.n_agents = S_AGENTS;
    s->tel.agents = s->atp;
    tt__record_body__init(&s->body);
    s->body.kind_case = TT__RECORD_BODY__KIND_STEP;
    s->body.step = &s->step;
}

/* Encoded entries of agents [from, to): tag, length, AgentStep. */
static void
s_entries(const s_step_t *s, int from, int to, tt_buf_t *out)
{
    for (int i = from; i < to; i++) {
        size_t n = tt__agent_step__get_packed_size(&s->as[i]);
        TT_ASSERT(n < 128); /* one-byte length */
        uint8_t head[2] = {S_FIELD << 3 | 2, (uint8_t)n};
        uint8_t *packed = tt_malloc(n);
        tt__agent_step__pack(&s->as[i], packed);
        tt_buf_add(out, head, 2);
        tt_buf_add(out, packed, n);
        free(packed);
    }
}

/* Append step as Parts of agents [0,2) and [2,4), then the record with the
 * rest; each Part carries its agents' telemetry. */
static void
s_append_step_in_parts(tt_tlog_t *log, uint32_t step)
{
    s_step_t s;
    s_step_build(&s, step);
    for (int from = 0; from < 4; from += 2) {
        tt_buf_t b;
        tt_buf_init(&b, 0);
        s_entries(&s, from, from + 2, &b);
        Tt__Telemetry t = TT__TELEMETRY__INIT;
        t.n_agents = 2;
        t.agents = s.atp + from;
        assert_int_equal(tt_tlog_append_part(log, (uint8_t *)b.data, b.len, &t), TT_OK);
        tt_buf_fini(&b);
    }
    assert_int_equal(tt_tlog_pending_parts(log), 2);
    s.step.n_agents = S_AGENTS - 4;
    s.step.agents = s.asp + 4;
    s.tel.n_agents = S_AGENTS - 4;
    s.tel.agents = s.atp + 4;
    assert_int_equal(tt_tlog_append(log, &s.body, &s.tel, true), TT_OK);
    assert_int_equal(tt_tlog_pending_parts(log), 0);
}

static tt_err_t
s_append_checkpoint(tt_tlog_t *log, uint32_t step)
{
    Tt__Checkpoint cp = TT__CHECKPOINT__INIT;
    cp.step = step;
    cp.name = "here";
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_CHECKPOINT;
    body.checkpoint = &cp;
    return tt_tlog_append(log, &body, NULL, true);
}

static uint64_t
s_file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

typedef struct {
    char *dir;
    char *path;
} s_fix_t;

static int
s_setup(void **state)
{
    s_fix_t *fx = tt_new(s_fix_t);
    fx->dir = tt_test_tmpdir("tlog-parts");
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

/* ------------------------------------------------------------- hand framing */

static void
s_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Frame body by hand after prev (updated), as the writer would, but with
 * whatever parts count the body says: the writer never writes a wrong one. */
static void
s_frame(FILE *f, uint8_t prev[TT_SHA256_LEN], const Tt__RecordBody *body)
{
    size_t blen, rlen;
    uint8_t *bytes = tt_wire_pack_body(body, &blen);
    Tt__Record rec = TT__RECORD__INIT;
    rec.prev_hash.data = prev;
    rec.prev_hash.len = TT_SHA256_LEN;
    rec.body.data = bytes;
    rec.body.len = blen;
    uint8_t *payload = tt_wire_pack_record(&rec, &rlen);
    uint8_t head[12];
    s_put_le32(head, 0x524C5454u);
    s_put_le32(head + 4, (uint32_t)rlen);
    s_put_le32(head + 8, tt_crc32c(tt_crc32c(0, head + 4, 4), payload, rlen));
    assert_int_equal(fwrite(head, 1, 12, f), 12);
    assert_int_equal(fwrite(payload, 1, rlen, f), rlen);
    uint8_t *joined = tt_malloc(TT_SHA256_LEN + blen);
    memcpy(joined, prev, TT_SHA256_LEN);
    memcpy(joined + TT_SHA256_LEN, bytes, blen);
    tt_sha256(joined, TT_SHA256_LEN + blen, prev);
    free(joined);
    free(payload);
    free(bytes);
}

/* What the second hand Part holds: agents' entries, or these bytes. */
static const char *s_odd_part;
static size_t s_odd_len;

static void
s_part_frame(FILE *f, uint8_t prev[TT_SHA256_LEN], const s_step_t *s, int from, int to)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    if (from > 0 && s_odd_part)
        tt_buf_add(&b, s_odd_part, s_odd_len);
    else
        s_entries(s, from, to, &b);
    Tt__Part part = TT__PART__INIT;
    part.bytes.data = (uint8_t *)b.data;
    part.bytes.len = b.len;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_PART;
    body.part = &part;
    s_frame(f, prev, &body);
    tt_buf_fini(&b);
}

/* A log of: a checkpoint, two Parts, then last (whose parts count is its own). */
static void
s_hand_log(const char *path, const Tt__RecordBody *last, uint16_t version)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t header[16] = {'T', 'R', 'O', 'U', 'P', 'E', 'L', 'O', 'G', 0, (uint8_t)version, 0};
    assert_int_equal(fwrite(header, 1, 16, f), 16);
    uint8_t prev[TT_SHA256_LEN] = {0};
    Tt__Checkpoint cp = TT__CHECKPOINT__INIT;
    cp.name = "start";
    Tt__RecordBody first = TT__RECORD_BODY__INIT;
    first.kind_case = TT__RECORD_BODY__KIND_CHECKPOINT;
    first.checkpoint = &cp;
    s_frame(f, prev, &first);
    s_step_t s;
    s_step_build(&s, 1);
    s_part_frame(f, prev, &s, 0, 2);
    s_part_frame(f, prev, &s, 2, 4);
    s_frame(f, prev, last);
    assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------ tests */

/* Parts fold into their record: the agents in order, the telemetry merged,
 * the body as a whole record's; the record's hash is its last frame's. */
static void
test_parts_fold_into_the_record(void **state)
{
    s_fix_t *fx = *state;
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_version(log), 2);
    assert_int_equal(s_append_checkpoint(log, 0), TT_OK);
    s_append_step_in_parts(log, 1);
    assert_int_equal(s_append_checkpoint(log, 1), TT_OK);
    assert_int_equal(tt_tlog_count(log), 3);
    tt_tlog_close(&log);

    tt_tlog_verify_t rep;
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_false(rep.corrupt || rep.torn_tail);
    assert_int_equal(rep.records, 3);
    assert_int_equal(rep.version, 2);

    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_count(log), 3);
    assert_memory_equal(tt_tlog_last_hash(log), rep.final_hash, TT_SHA256_LEN);
    tt_tlog_entry_t before, e;
    assert_int_equal(tt_tlog_read(log, 0, &before), TT_OK);
    assert_int_equal(tt_tlog_read(log, 1, &e), TT_OK);
    assert_int_equal(e.body->kind_case, TT__RECORD_BODY__KIND_STEP);
    assert_false(e.body->has_parts);
    const Tt__StepCommit *sc = e.body->step;
    assert_int_equal(sc->step, 1);
    assert_int_equal(sc->n_agents, S_AGENTS);
    for (uint32_t i = 0; i < S_AGENTS; i++) {
        assert_int_equal(sc->agents[i]->agent, i);
        char want[64];
        snprintf(want, sizeof want, "agent %u says something at step 1", i);
        assert_string_equal(sc->agents[i]->actions[0]->content, want);
    }
    /* the folded body is the whole record, byte for byte */
    s_step_t whole;
    s_step_build(&whole, 1);
    size_t a_len, b_len;
    uint8_t *a = tt_wire_pack_body(e.body, &a_len);
    uint8_t *b = tt_wire_pack_body(&whole.body, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    free(a);
    free(b);
    assert_non_null(e.telemetry);
    assert_int_equal(e.telemetry->wall_ms, 1234);
    assert_int_equal(e.telemetry->n_agents, S_AGENTS);
    for (uint32_t i = 0; i < S_AGENTS; i++)
        assert_int_equal(e.telemetry->agents[i]->busy_ms, 100 + i);
    assert_memory_equal(e.prev_hash, before.hash, TT_SHA256_LEN);
    assert_true(e.offset > before.offset);
    tt_tlog_entry_t after;
    assert_int_equal(tt_tlog_read(log, 2, &after), TT_OK);
    assert_int_equal(after.body->kind_case, TT__RECORD_BODY__KIND_CHECKPOINT);
    assert_memory_equal(after.prev_hash, e.hash, TT_SHA256_LEN);
    tt_tlog_entry_fini(&before);
    tt_tlog_entry_fini(&e);
    tt_tlog_entry_fini(&after);
    tt_tlog_close(&log);
}

/* A parts count that is not the number of Parts before the record, or Parts
 * before a record that cannot have them, is corruption in either mode. */
static void
test_mismatched_parts_are_corruption(void **state)
{
    s_fix_t *fx = *state;
    s_step_t s;
    s_step_build(&s, 1);
    s.step.n_agents = 2;
    s.step.agents = s.asp + 4;
    Tt__Checkpoint cp = TT__CHECKPOINT__INIT;
    cp.name = "late";
    Tt__RecordBody cp_body = TT__RECORD_BODY__INIT;
    cp_body.kind_case = TT__RECORD_BODY__KIND_CHECKPOINT;
    cp_body.checkpoint = &cp;
    struct {
        const Tt__RecordBody *last;
        uint32_t parts;
        uint16_t version;
        const char *what;
    } cases[] = {
        {&s.body, 1, 2, "parts count"}, {&s.body, 3, 2, "parts count"},
        {&s.body, 0, 2, "parts count"}, {&cp_body, 0, 2, "cannot have parts"},
        {&s.body, 2, 1, "version 1"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        Tt__RecordBody last = *cases[k].last;
        last.has_parts = cases[k].parts > 0;
        last.parts = cases[k].parts;
        s_hand_log(fx->path, &last, cases[k].version);
        tt_tlog_verify_t rep;
        assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
        assert_true(rep.corrupt);
        assert_non_null(strstr(rep.message, cases[k].what));
        for (int mode = TT_TLOG_READ; mode <= TT_TLOG_APPEND; mode++) {
            tt_tlog_t *log;
            char *err = NULL;
            assert_int_equal(tt_tlog_open(fx->path, mode, &log, &err), TT_ECORRUPT);
            assert_non_null(strstr(err, "record 1 at byte"));
            assert_non_null(strstr(err, cases[k].what));
            free(err);
        }
    }
    s_odd_part = NULL;
    /* the right count reads */
    Tt__RecordBody last = s.body;
    last.has_parts = true;
    last.parts = 2;
    s_hand_log(fx->path, &last, 2);
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &log, NULL), TT_OK);
    tt_tlog_entry_t e;
    assert_int_equal(tt_tlog_read(log, 1, &e), TT_OK);
    assert_int_equal(e.body->step->n_agents, 6);
    tt_tlog_entry_fini(&e);
    tt_tlog_close(&log);
}

/* Parts with no record after them: ignored in READ, cut in APPEND. */
static void
test_trailing_parts_are_an_unfinished_write(void **state)
{
    s_fix_t *fx = *state;
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(s_append_checkpoint(log, 0), TT_OK);
    uint64_t whole = s_file_size(fx->path);
    uint8_t hash[TT_SHA256_LEN];
    memcpy(hash, tt_tlog_last_hash(log), TT_SHA256_LEN);
    assert_int_equal(tt_tlog_append_part(log, s_entry1, sizeof s_entry1, NULL), TT_OK);
    assert_int_equal(tt_tlog_append_part(log, s_entry2, sizeof s_entry2, NULL), TT_OK);
    /* a record that cannot have them is refused while they wait */
    assert_int_equal(s_append_checkpoint(log, 0), TT_EINVAL);
    assert_int_equal(tt_tlog_count(log), 1);
    assert_memory_equal(tt_tlog_last_hash(log), hash, TT_SHA256_LEN);
    tt_tlog_close(&log); /* a crash before the record */
    uint64_t size = s_file_size(fx->path);
    assert_true(size > whole);

    tt_tlog_verify_t rep;
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_true(rep.torn_tail);
    assert_false(rep.corrupt);
    assert_int_equal(rep.records, 1);
    assert_int_equal(rep.valid_bytes, whole);
    assert_int_equal(rep.bad_offset, whole);
    assert_non_null(strstr(rep.message, "2 Part records with no record after them"));
    assert_memory_equal(rep.final_hash, hash, TT_SHA256_LEN);

    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_count(log), 1);
    assert_int_equal(tt_tlog_cut_bytes(log), size - whole);
    assert_memory_equal(tt_tlog_last_hash(log), hash, TT_SHA256_LEN);
    tt_tlog_close(&log);
    assert_int_equal(s_file_size(fx->path), size); /* READ never writes */

    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_count(log), 1);
    assert_int_equal(tt_tlog_pending_parts(log), 0);
    assert_int_equal(s_file_size(fx->path), whole);
    s_append_step_in_parts(log, 1); /* and the log goes on */
    tt_tlog_close(&log);
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_false(rep.torn_tail || rep.corrupt);
    assert_int_equal(rep.records, 2);

    /* parts dropped by the writer leave nothing behind */
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    whole = s_file_size(fx->path);
    assert_int_equal(tt_tlog_append_part(log, s_entry1, sizeof s_entry1, NULL), TT_OK);
    assert_int_equal(tt_tlog_drop_parts(log), TT_OK);
    assert_int_equal(s_file_size(fx->path), whole);
    assert_int_equal(s_append_checkpoint(log, 1), TT_OK);
    tt_tlog_close(&log);
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_false(rep.torn_tail || rep.corrupt);
    assert_int_equal(rep.records, 3);
}

/* Truncating at a record cuts its Parts too; pending Parts go as well. */
static void
test_truncate_takes_the_parts(void **state)
{
    s_fix_t *fx = *state;
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(s_append_checkpoint(log, 0), TT_OK);
    s_append_step_in_parts(log, 1);
    s_append_step_in_parts(log, 2);
    tt_tlog_close(&log);

    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_count(log), 3);
    tt_tlog_entry_t e1, e2;
    assert_int_equal(tt_tlog_read(log, 1, &e1), TT_OK);
    assert_int_equal(tt_tlog_read(log, 2, &e2), TT_OK);
    assert_int_equal(tt_tlog_truncate(log, 2), TT_OK);
    assert_int_equal(s_file_size(fx->path), e2.offset);
    assert_memory_equal(tt_tlog_last_hash(log), e1.hash, TT_SHA256_LEN);
    /* pending Parts go with a truncate at the end */
    assert_int_equal(tt_tlog_append_part(log, s_entry1, sizeof s_entry1, NULL), TT_OK);
    assert_int_equal(tt_tlog_truncate(log, 2), TT_OK);
    assert_int_equal(tt_tlog_pending_parts(log), 0);
    assert_int_equal(s_file_size(fx->path), e2.offset);
    assert_int_equal(tt_tlog_truncate(log, 1), TT_OK);
    assert_int_equal(s_file_size(fx->path), e1.offset);
    tt_tlog_entry_fini(&e1);
    tt_tlog_entry_fini(&e2);
    s_append_step_in_parts(log, 1); /* the same again: the same hash */
    tt_tlog_close(&log);

    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_READ, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_count(log), 2);
    tt_tlog_entry_t e;
    assert_int_equal(tt_tlog_read(log, 1, &e), TT_OK);
    assert_int_equal(e.body->step->n_agents, S_AGENTS);
    tt_tlog_entry_fini(&e);
    tt_tlog_close(&log);
}

/* A version 1 log (no Parts) reads, and is appended to whole, as version 1. */
static void
test_version_1_log_still_reads(void **state)
{
    s_fix_t *fx = *state;
    tt_tlog_t *log;
    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(s_append_checkpoint(log, 0), TT_OK);
    s_step_t s;
    s_step_build(&s, 1);
    assert_int_equal(tt_tlog_append(log, &s.body, &s.tel, true), TT_OK);
    tt_tlog_close(&log);
    /* the header is outside every CRC: make it a version 1 file */
    FILE *f = fopen(fx->path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 10, SEEK_SET), 0);
    assert_int_equal(fputc(1, f), 1);
    assert_int_equal(fclose(f), 0);

    assert_int_equal(tt_tlog_open(fx->path, TT_TLOG_APPEND, &log, NULL), TT_OK);
    assert_int_equal(tt_tlog_version(log), 1);
    assert_int_equal(tt_tlog_count(log), 2);
    tt_tlog_entry_t e;
    assert_int_equal(tt_tlog_read(log, 1, &e), TT_OK);
    assert_int_equal(e.body->step->n_agents, S_AGENTS);
    tt_tlog_entry_fini(&e);
    assert_int_equal(tt_tlog_append_part(log, s_entry1, sizeof s_entry1, NULL), TT_EINVAL);
    s_step_build(&s, 2);
    assert_int_equal(tt_tlog_append(log, &s.body, &s.tel, true), TT_OK);
    tt_tlog_close(&log);

    size_t size;
    char *file = tt_test_read_file(fx->path, &size);
    assert_non_null(file);
    assert_int_equal(file[10], 1); /* still version 1 */
    free(file);
    tt_tlog_verify_t rep;
    assert_int_equal(tt_tlog_verify(fx->path, &rep), TT_OK);
    assert_false(rep.corrupt || rep.torn_tail);
    assert_int_equal(rep.version, 1);
    assert_int_equal(rep.records, 3);
}

int
main(void)
{
    tt_log_level = TT_LOG_LEVEL_NONE; /* the damage below is meant */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parts_fold_into_the_record, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_mismatched_parts_are_corruption, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trailing_parts_are_an_unfinished_write, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_truncate_takes_the_parts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_version_1_log_still_reads, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
