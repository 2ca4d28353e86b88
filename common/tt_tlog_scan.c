/*  tt_tlog_scan -- the open-time scan of a transaction log, and verify.
 *
 *  One scanner serves tt_tlog_open and tt_tlog_verify. It walks the frames from
 *  the header on, reading through a 1 MiB window so a long log costs a few
 *  hundred syscalls, not two per record. For each frame it checks magic, length
 *  (bounded by TT_TLOG_MAX_RECORD and by what is left of the file), CRC32C, that
 *  the payload decodes as a Record whose body decodes as a RecordBody, that
 *  prev_hash is the hash of the frame before, and that Parts and the record
 *  after them agree (tt_tlog_impl_shape_check). The first frame that fails
 *  stops the walk, and the scanner decides what kind of failure it is:
 *
 *    - a frame that is short or fails its CRC is what a crash leaves behind.
 *      If no CRC-valid frame starts anywhere after it, it is a torn tail; if
 *      one does, bytes in the middle were damaged and the log is corrupt.
 *    - a frame that passes its CRC but does not decode, does not chain or
 *      does not fit the Parts before it was written that way (a bug or a
 *      hand), not torn by a crash: corrupt, so it is refused, not silently cut.
 *    - Part frames at the end with no record after them are a record that was
 *      being written: a torn tail, like a partial frame.
 */
#define _GNU_SOURCE   /* memmem */
#define TT_LOG_MODULE "tlog"
#include "tt_tlog_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_mem.h"
#include "tt_wire.h"

#define S_WINDOW       ((size_t)1 << 20)
#define S_SEARCH_SLACK ((uint64_t)256 << 20) /* CRC work allowed beyond the file size */

const uint8_t tt_tlog_impl_header[TT_TLOG_HEADER_LEN] = {
    'T', 'R', 'O', 'U', 'P', 'E', 'L', 'O', 'G', 0, TT_TLOG_VERSION, 0, 0, 0, 0, 0};
const uint8_t tt_tlog_impl_zero_hash[TT_SHA256_LEN];

/* A read-ahead window over the file, for the scanner. */
typedef struct {
    int fd;
    uint64_t size;
    uint8_t *buf;
    size_t alloc;
    uint64_t base; /* file offset of buf[0] */
    size_t len;
} s_reader_t;

uint32_t
tt_tlog_impl_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t
tt_tlog_impl_frame_crc(const uint8_t *len_bytes, const uint8_t *payload, size_t len)
{
    return tt_crc32c(tt_crc32c(0, len_bytes, 4), payload, len);
}

void
tt_tlog_impl_chain_hash(const uint8_t *prev, const uint8_t *body, size_t len,
                        uint8_t out[TT_SHA256_LEN])
{
    tt_sha256_t h;
    tt_sha256_init(&h);
    tt_sha256_update(&h, prev, TT_SHA256_LEN);
    tt_sha256_update(&h, body, len);
    tt_sha256_final(&h, out);
}

/* Read exactly n bytes at off; TT_EIO on error, *got < n at end of file. */
tt_err_t
tt_tlog_impl_pread_full(int fd, uint8_t *buf, size_t n, uint64_t off, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t k = pread(fd, buf + *got, n - *got, (off_t)(off + *got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return TT_EIO;
        if (k == 0)
            break;
        *got += (size_t)k;
    }
    return TT_OK;
}

/* Point *out at file bytes [off, off+n), or NULL if the file ends before. */
static tt_err_t
s_reader_get(s_reader_t *r, uint64_t off, size_t n, const uint8_t **out)
{
    *out = NULL;
    if (off > r->size || n > r->size - off)
        return TT_OK;
    if (off >= r->base && off - r->base + n <= r->len) {
        *out = r->buf + (off - r->base);
        return TT_OK;
    }
    size_t want = n > S_WINDOW ? n : S_WINDOW;
    if (want > r->size - off)
        want = (size_t)(r->size - off);
    if (want > r->alloc) {
        r->buf = tt_realloc(r->buf, want);
        r->alloc = want;
    }
    r->len = 0;
    size_t got;
    if (tt_tlog_impl_pread_full(r->fd, r->buf, want, off, &got) != TT_OK)
        return TT_EIO;
    r->base = off;
    r->len = got;
    if (got >= n)
        *out = r->buf;
    return TT_OK;
}

typedef enum {
    S_FRAME_GOOD = 0,
    S_FRAME_SHORT_HEAD,
    S_FRAME_BAD_MAGIC,
    S_FRAME_TOO_LONG,
    S_FRAME_PARTIAL,
    S_FRAME_BAD_CRC,
} s_frame_state_t;

static const char *const s_frame_what[] = {
    [S_FRAME_GOOD] = "good frame",           [S_FRAME_SHORT_HEAD] = "partial frame header",
    [S_FRAME_BAD_MAGIC] = "bad frame magic", [S_FRAME_TOO_LONG] = "frame length over the limit",
    [S_FRAME_PARTIAL] = "partial frame",     [S_FRAME_BAD_CRC] = "bad CRC",
};

/* Check the frame at off: magic, bounded length, CRC. On S_FRAME_GOOD
 * payload and len describe it; len is also set for S_FRAME_BAD_CRC. */
static tt_err_t
s_frame_at(s_reader_t *r, uint64_t off, const uint8_t **payload, uint32_t *len,
           s_frame_state_t *state)
{
    const uint8_t *head;
    *state = S_FRAME_SHORT_HEAD;
    *len = 0;
    tt_err_t err = s_reader_get(r, off, TT_TLOG_FRAME_HEAD, &head);
    if (err || !head)
        return err;
    *state = S_FRAME_BAD_MAGIC;
    if (tt_tlog_impl_le32(head) != TT_TLOG_MAGIC)
        return TT_OK;
    uint32_t n = tt_tlog_impl_le32(head + 4);
    uint32_t crc = tt_tlog_impl_le32(head + 8);
    uint8_t len_bytes[4];
    memcpy(len_bytes, head + 4, 4);
    *state = n > TT_TLOG_MAX_RECORD ? S_FRAME_TOO_LONG : S_FRAME_PARTIAL;
    if (n > TT_TLOG_MAX_RECORD || n > r->size - off - TT_TLOG_FRAME_HEAD)
        return TT_OK;
    if ((err = s_reader_get(r, off + TT_TLOG_FRAME_HEAD, n, payload)) != TT_OK || !*payload)
        return err;
    *len = n;
    *state = tt_tlog_impl_frame_crc(len_bytes, *payload, n) == crc ? S_FRAME_GOOD : S_FRAME_BAD_CRC;
    return TT_OK;
}

/* Decode a CRC-valid payload, check its chain link, compute its hash. Returns
 * NULL when sound, else what is wrong. On success body and telemetry (if asked
 * for) are the caller's, and shape says the body's kind and parts. */
const char *
tt_tlog_impl_record_check(const uint8_t *payload, size_t len, const uint8_t *prev,
                          uint8_t hash[TT_SHA256_LEN], Tt__RecordBody **body,
                          Tt__Telemetry **telemetry, tt_tlog_shape_t *shape)
{
    Tt__Record *rec = NULL;
    Tt__RecordBody *b = NULL;
    const char *what = NULL;
    if (tt_wire_decode_record(payload, len, &rec) != TT_OK)
        return "record does not decode";
    if (memcmp(rec->prev_hash.data, prev, TT_SHA256_LEN) != 0)
        what = "hash chain broken (prev_hash is not the previous record's hash)";
    else if (tt_wire_decode_body(rec->body.data, rec->body.len, &b) != TT_OK)
        what = "record body does not decode";
    if (!what) {
        tt_tlog_impl_chain_hash(rec->prev_hash.data, rec->body.data, rec->body.len, hash);
        shape->kind = b->kind_case;
        shape->parts = b->has_parts ? b->parts : 0;
        if (b->kind_case == TT__RECORD_BODY__KIND_PART &&
            tt_wire_part_check(b->part->bytes.data, b->part->bytes.len, &shape->part_of))
            what = "a Part whose entries do not decode";
    }
    if (!what) {
        if (telemetry) {
            *telemetry = rec->telemetry; /* detached: freed on its own */
            rec->telemetry = NULL;
        }
        if (body)
            *body = b;
        else
            tt_wire_free_body(&b);
    }
    tt_wire_free_record(&rec);
    return what;
}

/* Bytes from off on that the window already holds, refilling it when fewer
 * than want are there. *avail is 0 at the end of the file. */
static tt_err_t
s_reader_span(s_reader_t *r, uint64_t off, size_t want, const uint8_t **out, size_t *avail)
{
    *avail = 0;
    if (off >= r->base && off - r->base + want <= r->len) {
        *out = r->buf + (off - r->base);
        *avail = (size_t)(r->base + r->len - off);
        return TT_OK;
    }
    size_t n = (size_t)(r->size - off < S_WINDOW ? r->size - off : S_WINDOW);
    tt_err_t err = s_reader_get(r, off, n < want ? n : want, out);
    if (!err && *out)
        *avail = (size_t)(r->base + r->len - off);
    return err;
}

/* Is there a CRC-valid frame starting anywhere in [from, size)? Each candidate
 * costs a header check, or a CRC over its length when the header is plausible;
 * past a budget of CRC work the answer is a cautious yes. */
static tt_err_t
s_find_frame(s_reader_t *r, uint64_t from, uint64_t *found)
{
    static const uint8_t magic[4] = {0x54, 0x54, 0x4C, 0x52};
    uint64_t budget = r->size + S_SEARCH_SLACK;
    *found = UINT64_MAX;
    for (uint64_t pos = from; pos + TT_TLOG_FRAME_HEAD <= r->size;) {
        const uint8_t *win;
        size_t n;
        tt_err_t err = s_reader_span(r, pos, TT_TLOG_FRAME_HEAD, &win, &n);
        if (err || n < TT_TLOG_FRAME_HEAD)
            return err;
        const uint8_t *hit = memmem(win, n, magic, sizeof magic);
        if (!hit) {
            pos += n - (sizeof magic - 1);
            continue;
        }
        uint64_t at = pos + (uint64_t)(hit - win);
        const uint8_t *payload;
        uint32_t len;
        s_frame_state_t state;
        if ((err = s_frame_at(r, at, &payload, &len, &state)) != TT_OK)
            return err;
        if (state == S_FRAME_GOOD || (state == S_FRAME_BAD_CRC && len > budget)) {
            *found = at;
            return TT_OK;
        }
        budget -= len;
        pos = at + 1;
    }
    return TT_OK;
}

void
tt_tlog_impl_slot_push(tt_tlog_t *log, uint64_t offset, const uint8_t hash[TT_SHA256_LEN])
{
    if (log->n_slots == log->alloc) {
        log->alloc = log->alloc ? log->alloc * 2 : 64;
        log->slots = tt_realloc(log->slots, log->alloc * sizeof *log->slots);
    }
    log->slots[log->n_slots].offset = offset;
    memcpy(log->slots[log->n_slots].hash, hash, TT_SHA256_LEN);
    log->n_slots++;
}

/* The frame just pushed ends a logical record. */
void
tt_tlog_impl_rec_push(tt_tlog_t *log)
{
    if (log->count == log->recs_alloc) {
        log->recs_alloc = log->recs_alloc ? log->recs_alloc * 2 : 64;
        log->recs = tt_realloc(log->recs, log->recs_alloc * sizeof *log->recs);
    }
    log->recs[log->count++] = log->n_slots - 1;
    log->run = (tt_tlog_run_t){0};
}

const char *
tt_tlog_impl_shape_check(uint16_t version, const tt_tlog_shape_t *shape, tt_tlog_run_t *run)
{
    bool foldable =
        shape->kind == TT__RECORD_BODY__KIND_BEGIN || shape->kind == TT__RECORD_BODY__KIND_STEP;
    if (shape->kind == TT__RECORD_BODY__KIND_PART) {
        if (version < 2)
            return "a Part record in a version 1 log";
        if (shape->part_of && run->of && shape->part_of != run->of)
            return "Part records of two kinds of record";
        run->parts++;
        run->of = shape->part_of ? shape->part_of : run->of;
        return NULL;
    }
    if ((run->parts || shape->parts) && !foldable)
        return "Part records before a record that cannot have parts";
    if (shape->parts != run->parts)
        return "the record's parts count is not the number of Part records before it";
    if (run->of && run->of != shape->kind)
        return "Part records of another kind of record before it";
    *run = (tt_tlog_run_t){0};
    return NULL;
}

/* The header: a prefix of it in a short file is a torn creation. */
static tt_err_t
s_scan_header(s_reader_t *r, tt_tlog_verify_t *rep)
{
    const uint8_t *head;
    size_t n = r->size < TT_TLOG_HEADER_LEN ? (size_t)r->size : TT_TLOG_HEADER_LEN;
    if (s_reader_get(r, 0, n, &head) != TT_OK || !head)
        return TT_EIO; /* the file shrank under us, or cannot be read */
    if (n < TT_TLOG_HEADER_LEN) {
        bool prefix = memcmp(head, tt_tlog_impl_header, n) == 0;
        rep->torn_tail = prefix;
        rep->corrupt = !prefix;
        snprintf(rep->message, sizeof rep->message, "%s",
                 prefix ? "partial header" : "bad header: not a troupe log");
        return TT_OK;
    }
    uint16_t version = (uint16_t)(head[TT_TLOG_NAME_LEN] | head[TT_TLOG_NAME_LEN + 1] << 8);
    if (memcmp(head, tt_tlog_impl_header, TT_TLOG_NAME_LEN) != 0) {
        rep->corrupt = true;
        snprintf(rep->message, sizeof rep->message, "bad header: not a troupe log");
    } else if (version < TT_TLOG_VERSION_MIN || version > TT_TLOG_VERSION) {
        rep->corrupt = true;
        snprintf(rep->message, sizeof rep->message,
                 "unsupported log format version %u (this coordinator reads %d and %d)", version,
                 TT_TLOG_VERSION_MIN, TT_TLOG_VERSION);
    } else if (memcmp(head + TT_TLOG_NAME_LEN + 2, tt_tlog_impl_header + TT_TLOG_NAME_LEN + 2, 4) !=
               0) {
        rep->corrupt = true;
        snprintf(rep->message, sizeof rep->message, "bad header: reserved bytes are not zero");
    } else {
        rep->valid_bytes = TT_TLOG_HEADER_LEN;
        rep->version = version;
    }
    return TT_OK;
}

/* A bad frame at off: torn tail, or corruption if a valid frame follows. */
static tt_err_t
s_classify(s_reader_t *r, uint64_t off, const char *what, bool crc_valid, tt_tlog_verify_t *rep)
{
    uint64_t next = UINT64_MAX;
    tt_err_t err = crc_valid ? TT_OK : s_find_frame(r, off + 1, &next);
    if (err)
        return err;
    rep->bad_index = rep->records;
    rep->bad_offset = off;
    if (crc_valid || next != UINT64_MAX) {
        rep->corrupt = true;
        if (next != UINT64_MAX)
            snprintf(rep->message, sizeof rep->message,
                     "record %" PRIu64 " at byte %" PRIu64 ": %s; a valid frame follows at byte "
                     "%" PRIu64,
                     rep->records, off, what, next);
        else
            snprintf(rep->message, sizeof rep->message,
                     "record %" PRIu64 " at byte %" PRIu64 ": %s", rep->records, off, what);
    } else {
        rep->torn_tail = true;
        snprintf(rep->message, sizeof rep->message,
                 "record %" PRIu64 " at byte %" PRIu64 ": %s (%" PRIu64 " bytes to the end)",
                 rep->records, off, what, r->size - off);
    }
    return TT_OK;
}

/* Part frames after the last whole record, with no damage after them: an
 * append that never wrote its record. Like a torn tail, they are cut (APPEND)
 * or ignored (READ). */
static void
s_dangling_parts(tt_tlog_verify_t *rep, uint64_t pending, uint64_t off)
{
    rep->torn_tail = true;
    rep->bad_index = rep->records;
    rep->bad_offset = off;
    snprintf(rep->message, sizeof rep->message,
             "record %" PRIu64 " at byte %" PRIu64 ": %" PRIu64
             " Part records with no record after them (an unfinished write)",
             rep->records, off, pending);
}

/* Walk the whole file. Fills rep; if log is set, fills its index too. TT_EIO
 * only when the file cannot be read; damage is reported, not returned.
 * valid_bytes and records count whole logical records: Part frames belong to
 * the record after them. */
tt_err_t
tt_tlog_impl_scan(int fd, tt_tlog_t *log, tt_tlog_verify_t *rep)
{
    memset(rep, 0, sizeof *rep);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return TT_EIO;
    s_reader_t r = {.fd = fd, .size = (uint64_t)st.st_size};
    rep->bytes = r.size;
    tt_err_t err = r.size > 0 ? s_scan_header(&r, rep) : TT_OK;
    uint8_t prev[TT_SHA256_LEN]; /* the last frame's hash: the chain */
    memcpy(prev, tt_tlog_impl_zero_hash, TT_SHA256_LEN);
    memcpy(rep->final_hash, tt_tlog_impl_zero_hash, TT_SHA256_LEN);
    uint64_t off = rep->valid_bytes, pending_off = 0;
    tt_tlog_run_t run = {0};
    bool header_ok = rep->valid_bytes > 0;
    while (!err && header_ok && off < r.size) {
        const uint8_t *payload = NULL;
        uint32_t len = 0;
        s_frame_state_t state;
        tt_tlog_shape_t shape = {0};
        uint8_t hash[TT_SHA256_LEN];
        if ((err = s_frame_at(&r, off, &payload, &len, &state)) != TT_OK)
            break;
        bool crc_valid = state == S_FRAME_GOOD;
        const char *what = s_frame_what[state];
        if (crc_valid)
            what = tt_tlog_impl_record_check(payload, len, prev, hash, NULL, NULL, &shape);
        if (crc_valid && !what)
            what = tt_tlog_impl_shape_check(rep->version, &shape, &run);
        if (what) {
            err = s_classify(&r, off, what, crc_valid, rep);
            break;
        }
        if (log)
            tt_tlog_impl_slot_push(log, off, hash);
        memcpy(prev, hash, TT_SHA256_LEN);
        if (shape.kind == TT__RECORD_BODY__KIND_PART) {
            pending_off = run.parts > 1 ? pending_off : off;
            off += TT_TLOG_FRAME_HEAD + len;
            continue;
        }
        off += TT_TLOG_FRAME_HEAD + len;
        if (log)
            tt_tlog_impl_rec_push(log);
        memcpy(rep->final_hash, hash, TT_SHA256_LEN);
        rep->records++;
        rep->valid_bytes = off;
    }
    if (!err && run.parts && !rep->torn_tail && !rep->corrupt)
        s_dangling_parts(rep, run.parts, pending_off);
    if (log) /* dangling Parts are not part of the log */
        log->n_slots = log->count ? log->recs[log->count - 1] + 1 : 0;
    free(r.buf);
    return err;
}