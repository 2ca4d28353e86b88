/*  tt_tlog -- the transaction log: framing, hash chain, open-time scan, index.
 *
 *  One scanner serves tt_tlog_open and tt_tlog_verify. It walks the frames from
 *  the header on, reading through a 1 MiB window so a long log costs a few
 *  hundred syscalls, not two per record. For each frame it checks magic, length
 *  (bounded by TT_TLOG_MAX_RECORD and by what is left of the file), CRC32C, that
 *  the payload decodes as a Record whose body decodes as a RecordBody, and that
 *  prev_hash is the hash of the record before. The first frame that fails
 *  stops the walk, and the scanner decides what kind of failure it is:
 *
 *    - a frame that is short or fails its CRC is what a crash leaves behind.
 *      If no CRC-valid frame starts anywhere after it, it is a torn tail; if
 *      one does, bytes in the middle were damaged and the log is corrupt.
 *    - a frame that passes its CRC but does not decode or does not chain was
 *      written that way (a bug or a hand), not torn by a crash: corrupt, so it
 *      is refused instead of silently cut.
 *
 *  The index keeps each record's offset and hash (40 bytes a record), so a read
 *  is one pread and can re-check the chain on both sides without a second read.
 *
 *  An append packs the record, assembles header and payload in one reusable
 *  buffer and writes it with one pwrite at the known end of the last whole
 *  record. If the write or its sync fails, the file is cut back to that end,
 *  so the log on disk is always a sequence of whole records.
 */
#define _GNU_SOURCE   /* memmem */
#define TT_LOG_MODULE "tlog"
#include "tt_tlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_buf.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_wire.h"

#define S_HEADER_LEN   16
#define S_NAME_LEN     10 /* "TROUPELOG" and its NUL */
#define S_VERSION      2  /* written; 1 (no Part records) is still read */
#define S_VERSION_MIN  1
#define S_FRAME_HEAD   12 /* magic, length, crc */
#define S_MAGIC        0x524C5454u
#define S_WINDOW       ((size_t)1 << 20)
#define S_SEARCH_SLACK ((uint64_t)256 << 20) /* CRC work allowed beyond the file size */

static const uint8_t s_header[S_HEADER_LEN] = {'T', 'R', 'O',       'U', 'P', 'E', 'L', 'O',
                                               'G', 0,   S_VERSION, 0,   0,   0,   0,   0};
static const uint8_t s_zero_hash[TT_SHA256_LEN];

typedef struct {
    uint64_t offset;
    uint8_t hash[TT_SHA256_LEN];
} s_slot_t;

struct tt_tlog {
    char *path;
    int fd;
    tt_tlog_mode_t mode;
    uint16_t version;
    s_slot_t *slots; /* every frame: whole records' and pending Parts' */
    uint64_t n_slots;
    uint64_t alloc;
    uint64_t *recs; /* per logical record: the slot of its last frame */
    uint64_t count;
    uint64_t recs_alloc;
    uint64_t pending;   /* Part frames appended since the last record */
    uint64_t end;       /* end of the last frame written: where the next one goes */
    uint64_t cut_bytes; /* torn tail found at open */
    uint8_t *frame;     /* reusable frame buffer for append and read */
    size_t frame_alloc;
    bool dirty; /* a failed write may have left bytes after end */
};

/* A read-ahead window over the file, for the scanner. */
typedef struct {
    int fd;
    uint64_t size;
    uint8_t *buf;
    size_t alloc;
    uint64_t base; /* file offset of buf[0] */
    size_t len;
} s_reader_t;

static uint32_t
s_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
s_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t
s_frame_crc(const uint8_t *len_bytes, const uint8_t *payload, size_t len)
{
    return tt_crc32c(tt_crc32c(0, len_bytes, 4), payload, len);
}

static void
s_chain_hash(const uint8_t *prev, const uint8_t *body, size_t len, uint8_t out[TT_SHA256_LEN])
{
    tt_sha256_t h;
    tt_sha256_init(&h);
    tt_sha256_update(&h, prev, TT_SHA256_LEN);
    tt_sha256_update(&h, body, len);
    tt_sha256_final(&h, out);
}

/* Read exactly n bytes at off; TT_EIO on error, *got < n at end of file. */
static tt_err_t
s_pread_full(int fd, uint8_t *buf, size_t n, uint64_t off, size_t *got)
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
    if (s_pread_full(r->fd, r->buf, want, off, &got) != TT_OK)
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
    tt_err_t err = s_reader_get(r, off, S_FRAME_HEAD, &head);
    if (err || !head)
        return err;
    *state = S_FRAME_BAD_MAGIC;
    if (s_le32(head) != S_MAGIC)
        return TT_OK;
    uint32_t n = s_le32(head + 4);
    uint32_t crc = s_le32(head + 8);
    uint8_t len_bytes[4];
    memcpy(len_bytes, head + 4, 4);
    *state = n > TT_TLOG_MAX_RECORD ? S_FRAME_TOO_LONG : S_FRAME_PARTIAL;
    if (n > TT_TLOG_MAX_RECORD || n > r->size - off - S_FRAME_HEAD)
        return TT_OK;
    if ((err = s_reader_get(r, off + S_FRAME_HEAD, n, payload)) != TT_OK || !*payload)
        return err;
    *len = n;
    *state = s_frame_crc(len_bytes, *payload, n) == crc ? S_FRAME_GOOD : S_FRAME_BAD_CRC;
    return TT_OK;
}

/* What the scanner needs of a frame's body to fold Parts. */
typedef struct {
    Tt__RecordBody__KindCase kind;
    uint32_t parts;
} s_shape_t;

/* Decode a CRC-valid payload, check its chain link, compute its hash. Returns
 * NULL when sound, else what is wrong. On success body and telemetry (if asked
 * for) are the caller's, and shape says the body's kind and parts. */
static const char *
s_record_check(const uint8_t *payload, size_t len, const uint8_t *prev, uint8_t hash[TT_SHA256_LEN],
               Tt__RecordBody **body, Tt__Telemetry **telemetry, s_shape_t *shape)
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
        s_chain_hash(rec->prev_hash.data, rec->body.data, rec->body.len, hash);
        shape->kind = b->kind_case;
        shape->parts = b->has_parts ? b->parts : 0;
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
    for (uint64_t pos = from; pos + S_FRAME_HEAD <= r->size;) {
        const uint8_t *win;
        size_t n;
        tt_err_t err = s_reader_span(r, pos, S_FRAME_HEAD, &win, &n);
        if (err || n < S_FRAME_HEAD)
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

static void
s_slot_push(tt_tlog_t *log, uint64_t offset, const uint8_t hash[TT_SHA256_LEN])
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
static void
s_rec_push(tt_tlog_t *log)
{
    if (log->count == log->recs_alloc) {
        log->recs_alloc = log->recs_alloc ? log->recs_alloc * 2 : 64;
        log->recs = tt_realloc(log->recs, log->recs_alloc * sizeof *log->recs);
    }
    log->recs[log->count++] = log->n_slots - 1;
    log->pending = 0;
}

/* First slot of record index (its first Part, or the record itself). */
static uint64_t
s_first_slot(const tt_tlog_t *log, uint64_t index)
{
    return index ? log->recs[index - 1] + 1 : 0;
}

/* Can a frame of this shape follow `pending` Part frames? NULL if so. */
static const char *
s_shape_check(uint16_t version, const s_shape_t *shape, uint64_t pending)
{
    bool foldable =
        shape->kind == TT__RECORD_BODY__KIND_BEGIN || shape->kind == TT__RECORD_BODY__KIND_STEP;
    if (shape->kind == TT__RECORD_BODY__KIND_PART)
        return version < 2 ? "a Part record in a version 1 log" : NULL;
    if ((pending || shape->parts) && !foldable)
        return "Part records before a record that cannot have parts";
    if (shape->parts != pending)
        return "the record's parts count is not the number of Part records before it";
    return NULL;
}

/* The header: a prefix of it in a short file is a torn creation. */
static tt_err_t
s_scan_header(s_reader_t *r, tt_tlog_verify_t *rep)
{
    const uint8_t *head;
    size_t n = r->size < S_HEADER_LEN ? (size_t)r->size : S_HEADER_LEN;
    if (s_reader_get(r, 0, n, &head) != TT_OK || !head)
        return TT_EIO; /* the file shrank under us, or cannot be read */
    if (n < S_HEADER_LEN) {
        bool prefix = memcmp(head, s_header, n) == 0;
        rep->torn_tail = prefix;
        rep->corrupt = !prefix;
        snprintf(rep->message, sizeof rep->message, "%s",
                 prefix ? "partial header" : "bad header: not a troupe log");
        return TT_OK;
    }
    uint16_t version = (uint16_t)(head[S_NAME_LEN] | head[S_NAME_LEN + 1] << 8);
    if (memcmp(head, s_header, S_NAME_LEN) != 0) {
        rep->corrupt = true;
        snprintf(rep->message, sizeof rep->message, "bad header: not a troupe log");
    } else if (version < S_VERSION_MIN || version > S_VERSION) {
        rep->corrupt = true;
        snprintf(rep->message, sizeof rep->message,
                 "unsupported log format version %u (this coordinator reads %d and %d)", version,
                 S_VERSION_MIN, S_VERSION);
    } else if (memcmp(head + S_NAME_LEN + 2, s_header + S_NAME_LEN + 2, 4) != 0) {
        rep->corrupt = true;
        snprintf(rep->message, sizeof rep->message, "bad header: reserved bytes are not zero");
    } else {
        rep->valid_bytes = S_HEADER_LEN;
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
static tt_err_t
s_scan(int fd, tt_tlog_t *log, tt_tlog_verify_t *rep)
{
    memset(rep, 0, sizeof *rep);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return TT_EIO;
    s_reader_t r = {.fd = fd, .size = (uint64_t)st.st_size};
    rep->bytes = r.size;
    tt_err_t err = r.size > 0 ? s_scan_header(&r, rep) : TT_OK;
    uint8_t prev[TT_SHA256_LEN]; /* the last frame's hash: the chain */
    memcpy(prev, s_zero_hash, TT_SHA256_LEN);
    memcpy(rep->final_hash, s_zero_hash, TT_SHA256_LEN);
    uint64_t off = rep->valid_bytes, pending = 0, pending_off = 0;
    bool header_ok = rep->valid_bytes > 0;
    while (!err && header_ok && off < r.size) {
        const uint8_t *payload = NULL;
        uint32_t len = 0;
        s_frame_state_t state;
        s_shape_t shape = {0};
        uint8_t hash[TT_SHA256_LEN];
        if ((err = s_frame_at(&r, off, &payload, &len, &state)) != TT_OK)
            break;
        bool crc_valid = state == S_FRAME_GOOD;
        const char *what = s_frame_what[state];
        if (crc_valid)
            what = s_record_check(payload, len, prev, hash, NULL, NULL, &shape);
        if (crc_valid && !what)
            what = s_shape_check(rep->version, &shape, pending);
        if (what) {
            err = s_classify(&r, off, what, crc_valid, rep);
            break;
        }
        if (log)
            s_slot_push(log, off, hash);
        memcpy(prev, hash, TT_SHA256_LEN);
        if (shape.kind == TT__RECORD_BODY__KIND_PART) {
            pending_off = pending++ ? pending_off : off;
            off += S_FRAME_HEAD + len;
            continue;
        }
        off += S_FRAME_HEAD + len;
        pending = 0;
        if (log)
            s_rec_push(log);
        memcpy(rep->final_hash, hash, TT_SHA256_LEN);
        rep->records++;
        rep->valid_bytes = off;
    }
    if (!err && pending && !rep->torn_tail && !rep->corrupt)
        s_dangling_parts(rep, pending, pending_off);
    if (log) /* dangling Parts are not part of the log */
        log->n_slots = log->count ? log->recs[log->count - 1] + 1 : 0;
    free(r.buf);
    return err;
}

/* Set *errmsg (if wanted) to "path: what detail" and return err. */
static tt_err_t
s_fail(tt_err_t err, char **errmsg, const char *path, const char *what, const char *detail)
{
    if (errmsg)
        *errmsg = tt_asprintf("%s: %s%s", path, what, detail ? detail : "");
    return err;
}

/* Open the file: READ never creates, APPEND creates 0600 and takes the lock. */
static tt_err_t
s_open_fd(const char *path, tt_tlog_mode_t mode, int *fd_out, char **errmsg)
{
    int flags = O_CLOEXEC | O_NONBLOCK | (mode == TT_TLOG_APPEND ? O_RDWR | O_CREAT : O_RDONLY);
    int fd = open(path, flags, 0600);
    if (fd < 0) {
        int e = errno;
        return s_fail(e == ENOENT ? TT_ENOTFOUND : TT_EIO, errmsg, path,
                      "cannot open: ", strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return s_fail(TT_EIO, errmsg, path, "not a regular file", NULL);
    }
    if (mode == TT_TLOG_APPEND && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return s_fail(TT_EEXIST, errmsg, path, "another process holds this log open for append",
                          NULL);
        return s_fail(TT_EIO, errmsg, path, "cannot lock: ", strerror(e));
    }
    *fd_out = fd;
    return TT_OK;
}

/* Make a fresh file's directory entry durable. */
static void
s_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir =
        slash ? tt_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : tt_strdup(".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0)
            TT_LOG_WARN("%s: fsync of directory failed: %s", dir, strerror(errno));
        close(fd);
    }
    free(dir);
}

static tt_err_t
s_pwrite_full(int fd, const uint8_t *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = pwrite(fd, buf + done, n - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return TT_EIO;
        done += (size_t)k;
    }
    return TT_OK;
}

/* Cut the file back to log->end; on failure the file stays dirty. */
static tt_err_t
s_cut(tt_tlog_t *log)
{
    if (ftruncate(log->fd, (off_t)log->end) != 0 || fdatasync(log->fd) != 0) {
        TT_LOG_ERROR("%s: cannot cut back to byte %" PRIu64 ": %s", log->path, log->end,
                     strerror(errno));
        log->dirty = true;
        return TT_EIO;
    }
    log->dirty = false;
    return TT_OK;
}

/* APPEND after the scan: write the header of a new file, or cut a torn tail. */
static tt_err_t
s_prepare_append(tt_tlog_t *log, const tt_tlog_verify_t *rep, char **errmsg)
{
    if (rep->valid_bytes < S_HEADER_LEN) {
        if (ftruncate(log->fd, 0) != 0 || s_pwrite_full(log->fd, s_header, S_HEADER_LEN, 0) ||
            fdatasync(log->fd) != 0)
            return s_fail(TT_EIO, errmsg, log->path, "cannot write header: ", strerror(errno));
        s_sync_dir(log->path);
        log->end = S_HEADER_LEN;
        return TT_OK;
    }
    if (log->cut_bytes > 0) {
        TT_LOG_WARN("%s: torn tail: %s; cutting %" PRIu64 " bytes", log->path, rep->message,
                    log->cut_bytes);
        if (s_cut(log) != TT_OK)
            return s_fail(TT_EIO, errmsg, log->path, "cannot cut torn tail: ", strerror(errno));
    }
    return TT_OK;
}

tt_err_t
tt_tlog_open(const char *path, tt_tlog_mode_t mode, tt_tlog_t **out, char **errmsg)
{
    TT_ASSERT(path && out && (mode == TT_TLOG_READ || mode == TT_TLOG_APPEND));
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    int fd;
    tt_err_t err = s_open_fd(path, mode, &fd, errmsg);
    if (err)
        return err;
    tt_tlog_t *log = tt_new(tt_tlog_t);
    log->path = tt_strdup(path);
    log->fd = fd;
    log->mode = mode;
    tt_tlog_verify_t rep;
    if ((err = s_scan(fd, log, &rep)) != TT_OK) {
        err = s_fail(TT_EIO, errmsg, path, "read failed: ", strerror(errno));
        goto fail;
    }
    if (rep.corrupt) { /* the message goes to the caller, who reports it once */
        err = s_fail(TT_ECORRUPT, errmsg, path, rep.message, NULL);
        goto fail;
    }
    log->end = rep.valid_bytes;
    log->cut_bytes = rep.bytes - rep.valid_bytes;
    log->version = rep.version ? rep.version : S_VERSION; /* a new file gets this one */
    if (mode == TT_TLOG_APPEND && (err = s_prepare_append(log, &rep, errmsg)) != TT_OK)
        goto fail;
    *out = log;
    return TT_OK;
fail:
    tt_tlog_close(&log);
    return err;
}

void
tt_tlog_close(tt_tlog_t **self_p)
{
    tt_tlog_t *log = *self_p;
    if (!log)
        return;
    if (log->fd >= 0)
        close(log->fd); /* releases the lock */
    free(log->slots);
    free(log->recs);
    free(log->frame);
    free(log->path);
    free(log);
    *self_p = NULL;
}

static uint8_t *
s_frame_buf(tt_tlog_t *log, size_t n)
{
    if (n > log->frame_alloc) {
        log->frame = tt_realloc(log->frame, n);
        log->frame_alloc = n;
    }
    return log->frame;
}

/* Pack the Record for body and frame it into log->frame. Returns the frame
 * length, 0 if the body is unfit to log. */
static size_t
s_build_frame(tt_tlog_t *log, const Tt__RecordBody *body, const Tt__Telemetry *telemetry,
              uint8_t hash[TT_SHA256_LEN], tt_err_t *err)
{
    size_t body_len, len;
    uint8_t *body_bytes = tt_wire_pack_body(body, &body_len);
    Tt__RecordBody *check = NULL;
    /* What open would refuse must never be written. */
    *err = tt_wire_decode_body(body_bytes, body_len, &check) == TT_OK ? TT_OK : TT_EINVAL;
    tt_wire_free_body(&check);
    if (*err) {
        free(body_bytes);
        return 0;
    }
    /* the chain runs through every frame, Parts included */
    const uint8_t *prev = log->n_slots ? log->slots[log->n_slots - 1].hash : s_zero_hash;
    s_chain_hash(prev, body_bytes, body_len, hash);
    Tt__Record rec = TT__RECORD__INIT;
    rec.prev_hash.len = TT_SHA256_LEN;
    rec.prev_hash.data = (uint8_t *)prev;
    rec.body.len = body_len;
    rec.body.data = body_bytes;
    rec.telemetry = (Tt__Telemetry *)telemetry;
    uint8_t *payload = tt_wire_pack_record(&rec, &len);
    free(body_bytes);
    if (len > TT_TLOG_MAX_RECORD) {
        free(payload);
        *err = TT_ETOOBIG;
        return 0;
    }
    uint8_t *frame = s_frame_buf(log, S_FRAME_HEAD + len);
    s_put_le32(frame, S_MAGIC);
    s_put_le32(frame + 4, (uint32_t)len);
    memcpy(frame + S_FRAME_HEAD, payload, len);
    s_put_le32(frame + 8, s_frame_crc(frame + 4, payload, len));
    free(payload);
    return S_FRAME_HEAD + len;
}

/* Frame body and write it after the last frame. */
static tt_err_t
s_write_frame(tt_tlog_t *log, const Tt__RecordBody *body, const Tt__Telemetry *telemetry, bool sync)
{
    if (log->dirty && s_cut(log) != TT_OK)
        return TT_EIO;
    uint8_t hash[TT_SHA256_LEN];
    tt_err_t err;
    size_t n = s_build_frame(log, body, telemetry, hash, &err);
    if (err)
        return err;
    err = s_pwrite_full(log->fd, log->frame, n, log->end);
    if (!err && sync && fdatasync(log->fd) != 0)
        err = TT_EIO;
    if (err) {
        TT_LOG_ERROR("%s: append of record %" PRIu64 " failed: %s", log->path, log->count,
                     strerror(errno));
        s_cut(log);
        return TT_EIO;
    }
    s_slot_push(log, log->end, hash);
    log->end += n;
    return TT_OK;
}

tt_err_t
tt_tlog_append(tt_tlog_t *log, const Tt__RecordBody *body, const Tt__Telemetry *telemetry,
               bool sync)
{
    TT_ASSERT(log && body);
    if (log->mode != TT_TLOG_APPEND || body->kind_case == TT__RECORD_BODY__KIND__NOT_SET ||
        body->kind_case == TT__RECORD_BODY__KIND_PART)
        return TT_EINVAL;
    s_shape_t shape = {.kind = body->kind_case, .parts = (uint32_t)log->pending};
    if (s_shape_check(log->version, &shape, log->pending))
        return TT_EINVAL; /* Parts pending before a record that cannot take them */
    Tt__RecordBody whole = *body;
    whole.has_parts = log->pending > 0;
    whole.parts = (uint32_t)log->pending;
    tt_err_t err = s_write_frame(log, &whole, telemetry, sync);
    if (!err)
        s_rec_push(log);
    return err;
}

tt_err_t
tt_tlog_append_part(tt_tlog_t *log, const uint8_t *bytes, size_t len,
                    const Tt__Telemetry *telemetry)
{
    TT_ASSERT(log && (bytes || !len));
    if (log->mode != TT_TLOG_APPEND || log->version < 2)
        return TT_EINVAL;
    Tt__Part part = TT__PART__INIT;
    part.bytes.data = (uint8_t *)bytes;
    part.bytes.len = len;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_PART;
    body.part = &part;
    tt_err_t err = s_write_frame(log, &body, telemetry, false);
    if (!err)
        log->pending++;
    return err;
}

tt_err_t
tt_tlog_drop_parts(tt_tlog_t *log)
{
    if (log->mode != TT_TLOG_APPEND)
        return TT_EINVAL;
    if (!log->pending)
        return TT_OK;
    log->n_slots -= log->pending;
    log->end = log->slots[log->n_slots].offset;
    log->pending = 0;
    return s_cut(log);
}

uint64_t
tt_tlog_pending_parts(const tt_tlog_t *log)
{
    return log->pending;
}

uint16_t
tt_tlog_version(const tt_tlog_t *log)
{
    return log->version;
}

tt_err_t
tt_tlog_sync(tt_tlog_t *log)
{
    if (log->mode != TT_TLOG_APPEND)
        return TT_EINVAL;
    if (fdatasync(log->fd) != 0) {
        TT_LOG_ERROR("%s: fdatasync failed: %s", log->path, strerror(errno));
        return TT_EIO;
    }
    return TT_OK;
}

uint64_t
tt_tlog_count(const tt_tlog_t *log)
{
    return log->count;
}

const uint8_t *
tt_tlog_last_hash(const tt_tlog_t *log)
{
    return log->count ? log->slots[log->recs[log->count - 1]].hash : s_zero_hash;
}

uint64_t
tt_tlog_cut_bytes(const tt_tlog_t *log)
{
    return log->cut_bytes;
}

const char *
tt_tlog_path(const tt_tlog_t *log)
{
    return log->path;
}

/* Check frame slot j, read back from the file, against the index. */
static const char *
s_read_check(tt_tlog_t *log, uint64_t j, const uint8_t *frame, size_t n, Tt__RecordBody **body,
             Tt__Telemetry **telemetry)
{
    if (n < S_FRAME_HEAD || s_le32(frame) != S_MAGIC)
        return "bad frame magic";
    uint32_t len = s_le32(frame + 4);
    if (len != n - S_FRAME_HEAD)
        return "frame length changed since open";
    if (s_frame_crc(frame + 4, frame + S_FRAME_HEAD, len) != s_le32(frame + 8))
        return "bad CRC";
    const uint8_t *prev = j ? log->slots[j - 1].hash : s_zero_hash;
    uint8_t hash[TT_SHA256_LEN];
    s_shape_t shape;
    const char *what =
        s_record_check(frame + S_FRAME_HEAD, len, prev, hash, body, telemetry, &shape);
    if (what)
        return what;
    if (memcmp(hash, log->slots[j].hash, TT_SHA256_LEN) != 0)
        return "hash changed since open";
    return NULL;
}

/* Keep a frame's telemetry for the fold: packed, since Telemetry messages
 * concatenate like the bodies' inner messages (repeated agents append). */
static void
s_keep_telemetry(tt_buf_t *tels, Tt__Telemetry **t)
{
    if (!*t)
        return;
    size_t n = tt__telemetry__get_packed_size(*t);
    uint8_t *packed = tt_malloc(n ? n : 1);
    tt__telemetry__pack(*t, packed);
    tt_buf_add(tels, packed, n);
    free(packed);
    tt__telemetry__free_unpacked(*t, NULL);
    *t = NULL;
}

/* Check and fold the frames first..last (buf holds them all, n bytes) into
 * entry: the Parts' bytes go in front of the record's inner message. */
static const char *
s_read_frames(tt_tlog_t *log, uint64_t first, uint64_t last, const uint8_t *buf, size_t n,
              tt_tlog_entry_t *entry)
{
    tt_buf_t parts, tels;
    tt_buf_init(&parts, SIZE_MAX);
    tt_buf_init(&tels, SIZE_MAX);
    const char *what = NULL;
    size_t pos = 0;
    for (uint64_t j = first; j <= last && !what; j++) {
        uint64_t end = j + 1 < log->n_slots ? log->slots[j + 1].offset : log->end;
        size_t fn = (size_t)(end - log->slots[j].offset);
        Tt__RecordBody *b = NULL;
        Tt__Telemetry *t = NULL;
        what = fn <= n - pos ? s_read_check(log, j, buf + pos, fn, &b, &t) : "file shrank";
        pos += fn;
        if (what)
            break;
        if (j == last) {
            entry->body = b;
        } else if (b->kind_case != TT__RECORD_BODY__KIND_PART) {
            what = "a record where a Part was indexed";
        } else {
            tt_buf_add(&parts, b->part->bytes.data, b->part->bytes.len);
        }
        if (j != last)
            tt_wire_free_body(&b);
        if (first == last)
            entry->telemetry = t;
        else
            s_keep_telemetry(&tels, &t);
    }
    if (!what && first < last) {
        if (tt_wire_fold_body(entry->body, (const uint8_t *)parts.data, parts.len) != TT_OK)
            what = "the record and its Parts do not decode together";
        else if (tels.len &&
                 !(entry->telemetry = tt__telemetry__unpack(NULL, tels.len, (uint8_t *)tels.data)))
            what = "the telemetry of the record and its Parts does not decode together";
    }
    tt_buf_fini(&parts);
    tt_buf_fini(&tels);
    return what;
}

tt_err_t
tt_tlog_read(tt_tlog_t *log, uint64_t index, tt_tlog_entry_t *entry)
{
    memset(entry, 0, sizeof *entry);
    if (index >= log->count)
        return TT_EINVAL;
    uint64_t first = s_first_slot(log, index), last = log->recs[index];
    uint64_t off = log->slots[first].offset;
    uint64_t end = last + 1 < log->n_slots ? log->slots[last + 1].offset : log->end;
    size_t n = (size_t)(end - off), got;
    uint8_t *frame = s_frame_buf(log, n);
    if (s_pread_full(log->fd, frame, n, off, &got) != TT_OK || got != n) {
        TT_LOG_ERROR("%s: cannot read record %" PRIu64 ": %s", log->path, index,
                     got != n ? "file shrank" : strerror(errno));
        return TT_EIO;
    }
    const char *what = s_read_frames(log, first, last, frame, n, entry);
    if (what) {
        TT_LOG_ERROR("%s: record %" PRIu64 " at byte %" PRIu64 ": %s", log->path, index, off, what);
        tt_tlog_entry_fini(entry);
        return TT_ECORRUPT;
    }
    entry->index = index;
    entry->offset = off;
    memcpy(entry->hash, log->slots[last].hash, TT_SHA256_LEN);
    memcpy(entry->prev_hash, first ? log->slots[first - 1].hash : s_zero_hash, TT_SHA256_LEN);
    return TT_OK;
}

void
tt_tlog_entry_fini(tt_tlog_entry_t *entry)
{
    tt_wire_free_body(&entry->body);
    if (entry->telemetry)
        tt__telemetry__free_unpacked(entry->telemetry, NULL);
    entry->telemetry = NULL;
}

tt_err_t
tt_tlog_truncate(tt_tlog_t *log, uint64_t index)
{
    if (log->mode != TT_TLOG_APPEND || index > log->count)
        return TT_EINVAL;
    if (index == log->count && !log->pending && !log->dirty)
        return TT_OK;
    /* On failure the records may or may not be gone from the file; they are
     * gone from the log, and the next append retries the cut. A record goes
     * with its Parts, and Parts pending after the last record go too. */
    uint64_t first = s_first_slot(log, index);
    log->end = first < log->n_slots ? log->slots[first].offset : log->end;
    log->n_slots = first;
    log->count = index;
    log->pending = 0;
    return s_cut(log);
}

tt_err_t
tt_tlog_verify(const char *path, tt_tlog_verify_t *report)
{
    memset(report, 0, sizeof *report);
    int fd;
    char *errmsg = NULL;
    tt_err_t err = s_open_fd(path, TT_TLOG_READ, &fd, &errmsg);
    if (err) {
        snprintf(report->message, sizeof report->message, "%s", errmsg);
        free(errmsg);
        return err;
    }
    err = s_scan(fd, NULL, report);
    close(fd);
    if (err)
        snprintf(report->message, sizeof report->message, "%s: read failed", path);
    return err;
}
