/*  fuzz_tlog -- a sim.tlog file on disk, as every reader of the log opens it.
 *
 *  Two input shapes, so the fuzzer reaches past the CRC and the hash chain:
 *    - input starting with 'T' (as "TROUPELOG" does) is the file, byte for byte;
 *    - anything else is a list of chunks, [flags u8][len u16 LE][len bytes],
 *      from which the target writes a well-formed log: the header, then one
 *      frame per chunk with a correct length and CRC and a Record whose
 *      prev_hash continues the chain. A chunk is a RecordBody, or with
 *      S_WHOLE_RECORD a whole Record (its prev_hash is then set to the right
 *      value when it decodes). Flags also break the CRC or the chain, or tear
 *      the frame off half-way (and end the file there).
 *  The file is then checked with tt_tlog_verify, opened with tt_tlog_open READ,
 *  read record by record, and inspected with `log verify|stats|dump`. Verify
 *  and open share one scanner and must agree: a log verify calls sound opens
 *  with the same record count and final hash, every record reads back and
 *  chains to the one before, and a log verify calls corrupt does not open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_logcmd.h"
#include "fuzz_util.h"
#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_pbjson.h"
#include "tt_tlog.h"
#include "tt_wire.h"

#define S_WHOLE_RECORD 0x01
#define S_BAD_CRC      0x02
#define S_BAD_CHAIN    0x04
#define S_TORN         0x08

static const uint8_t s_header[16] = {'T', 'R', 'O', 'U', 'P', 'E', 'L', 'O',
                                     'G', 0,   2,   0,   0,   0,   0,   0};
static FILE *s_null;

static void
s_broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_tlog: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void
s_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* One frame for payload into out; returns false when the file ends here. */
static bool
s_frame(tt_buf_t *out, const uint8_t *payload, size_t len, uint8_t flags)
{
    uint8_t head[12];
    s_le32(head, 0x524C5454u);
    s_le32(head + 4, (uint32_t)len);
    uint32_t crc = tt_crc32c(tt_crc32c(0, head + 4, 4), payload, len);
    s_le32(head + 8, crc ^ (flags & S_BAD_CRC ? 1u : 0u));
    tt_buf_add(out, head, sizeof head);
    if (flags & S_TORN) {
        tt_buf_add(out, payload, len / 2);
        return false;
    }
    tt_buf_add(out, payload, len);
    return true;
}

/* Build a log from chunks; out gets the file's bytes. */
static void
s_build(const uint8_t *data, size_t size, tt_buf_t *out)
{
    uint8_t prev[TT_SHA256_LEN] = {0};
    tt_buf_add(out, s_header, sizeof s_header);
    size_t off = 0;
    while (off + 3 <= size) {
        uint8_t flags = data[off];
        size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        if (len > size - off)
            len = size - off;
        const uint8_t *chunk = data + off;
        off += len;

        Tt__Record rec = TT__RECORD__INIT;
        Tt__Record *whole = NULL;
        if (flags & S_WHOLE_RECORD) {
            whole = tt__record__unpack(NULL, len, chunk);
            if (!whole) {
                /* not a record: written as it is, which the reader must refuse */
                if (!s_frame(out, chunk, len, flags))
                    return;
                continue;
            }
            rec = *whole;
        } else {
            rec.body.data = (uint8_t *)chunk;
            rec.body.len = len;
        }
        uint8_t chained[TT_SHA256_LEN];
        memcpy(chained, prev, sizeof prev);
        if (flags & S_BAD_CHAIN)
            chained[0] ^= 0xff;
        rec.prev_hash.data = chained;
        rec.prev_hash.len = sizeof chained;
        size_t plen;
        uint8_t *payload = tt_wire_pack_record(&rec, &plen);
        tt_sha256_t h;
        tt_sha256_init(&h);
        tt_sha256_update(&h, prev, sizeof prev);
        tt_sha256_update(&h, rec.body.data, rec.body.len);
        tt_sha256_final(&h, prev);
        bool more = s_frame(out, payload, plen, flags);
        free(payload);
        if (whole)
            tt__record__free_unpacked(whole, NULL);
        if (!more)
            return;
    }
}

static void
s_logcmd(const char *cmd, const char *path)
{
    char *argv[] = {"log", (char *)cmd, (char *)path, NULL};
    coord_logcmd_run(3, argv, s_null, s_null);
}

static void
s_read_all(tt_tlog_t *log)
{
    uint8_t prev[TT_SHA256_LEN] = {0};
    for (uint64_t i = 0; i < tt_tlog_count(log); i++) {
        tt_tlog_entry_t e;
        if (tt_tlog_read(log, i, &e) != TT_OK)
            s_broken("a record that opened does not read back", NULL);
        if (e.index != i || memcmp(e.prev_hash, prev, sizeof prev) || !e.body)
            s_broken("a record read back out of chain", NULL);
        memcpy(prev, e.hash, sizeof prev);
        json_t *j = tt_pbjson_from_message(&e.body->base);
        json_decref(j);
        if (e.telemetry) {
            j = tt_pbjson_from_message(&e.telemetry->base);
            json_decref(j);
        }
        tt_tlog_entry_fini(&e);
    }
    if (memcmp(prev, tt_tlog_last_hash(log), sizeof prev))
        s_broken("the last record's hash is not tt_tlog_last_hash", NULL);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    s_null = fopen("/dev/null", "w");
    if (!s_null)
        s_broken("cannot open /dev/null", NULL);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path;
    if (size && data[0] == 'T') {
        path = fuzz_write("sim.tlog", data, size);
    } else {
        tt_buf_t file;
        tt_buf_init(&file, (size_t)64 << 20);
        s_build(size ? data + 1 : data, size ? size - 1 : 0, &file);
        path = fuzz_write("sim.tlog", (const uint8_t *)file.data, file.len);
        tt_buf_fini(&file);
    }

    tt_tlog_verify_t rep;
    if (tt_tlog_verify(path, &rep) != TT_OK)
        s_broken("a readable file failed tt_tlog_verify", rep.message);
    if (rep.valid_bytes > rep.bytes || (rep.torn_tail && rep.corrupt))
        s_broken("an inconsistent verify report", rep.message);

    tt_tlog_t *log = NULL;
    char *errmsg = NULL;
    tt_err_t err = tt_tlog_open(path, TT_TLOG_READ, &log, &errmsg);
    if (err == TT_OK) {
        if (rep.corrupt)
            s_broken("a log verify calls corrupt opened", rep.message);
        if (tt_tlog_count(log) != rep.records ||
            memcmp(tt_tlog_last_hash(log), rep.final_hash, TT_SHA256_LEN))
            s_broken("open and verify disagree on the records", NULL);
        s_read_all(log);
        tt_tlog_close(&log);
    } else if (!rep.corrupt) {
        s_broken("a log verify calls sound did not open", errmsg);
    }
    free(errmsg);

    s_logcmd("verify", path);
    s_logcmd("stats", path);
    s_logcmd("dump", path);
    free(path);
    return 0;
}
