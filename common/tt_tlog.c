/*  tt_tlog -- the transaction log: open, append, read, truncate, verify.
 *
 *  The scan that opens a file and builds the index is in tt_tlog_scan.c. The
 *  index keeps each frame's offset and hash (40 bytes a frame) and each
 *  record's last frame (8 bytes a record), so a read is one pread of the
 *  record's frames, Parts and all, and can re-check the chain on both sides
 *  without a second read.
 *
 *  An append packs the record, assembles header and payload in one reusable
 *  buffer and writes it with one pwrite at the known end of the last frame. If
 *  the write or its sync fails, the file is cut back to that end, so the log on
 *  disk is always a sequence of whole frames; Parts not yet followed by their
 *  record are cut by the next open for append, or by tt_tlog_drop_parts.
 */
#define TT_LOG_MODULE "tlog"
#include "tt_tlog_impl.h"

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

static void
s_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* First slot of record index (its first Part, or the record itself). */
static uint64_t
s_first_slot(const tt_tlog_t *log, uint64_t index)
{
    return index ? log->recs[index - 1] + 1 : 0;
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
    if (rep->valid_bytes < TT_TLOG_HEADER_LEN) {
        if (ftruncate(log->fd, 0) != 0 ||
            s_pwrite_full(log->fd, tt_tlog_impl_header, TT_TLOG_HEADER_LEN, 0) ||
            fdatasync(log->fd) != 0)
            return s_fail(TT_EIO, errmsg, log->path, "cannot write header: ", strerror(errno));
        s_sync_dir(log->path);
        log->end = TT_TLOG_HEADER_LEN;
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
    if ((err = tt_tlog_impl_scan(fd, log, &rep)) != TT_OK) {
        err = s_fail(TT_EIO, errmsg, path, "read failed: ", strerror(errno));
        goto fail;
    }
    if (rep.corrupt) { /* the message goes to the caller, who reports it once */
        err = s_fail(TT_ECORRUPT, errmsg, path, rep.message, NULL);
        goto fail;
    }
    log->end = rep.valid_bytes;
    log->cut_bytes = rep.bytes - rep.valid_bytes;
    log->version = rep.version ? rep.version : TT_TLOG_VERSION; /* a new file gets this one */
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
    const uint8_t *prev = log->n_slots ? log->slots[log->n_slots - 1].hash : tt_tlog_impl_zero_hash;
    tt_tlog_impl_chain_hash(prev, body_bytes, body_len, hash);
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
    uint8_t *frame = s_frame_buf(log, TT_TLOG_FRAME_HEAD + len);
    s_put_le32(frame, TT_TLOG_MAGIC);
    s_put_le32(frame + 4, (uint32_t)len);
    memcpy(frame + TT_TLOG_FRAME_HEAD, payload, len);
    s_put_le32(frame + 8, tt_tlog_impl_frame_crc(frame + 4, payload, len));
    free(payload);
    return TT_TLOG_FRAME_HEAD + len;
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
    tt_tlog_impl_slot_push(log, log->end, hash);
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
    tt_tlog_shape_t shape = {.kind = body->kind_case, .parts = (uint32_t)log->run.parts};
    tt_tlog_run_t run = log->run;
    if (tt_tlog_impl_shape_check(log->version, &shape, &run))
        return TT_EINVAL; /* Parts pending before a record that cannot take them */
    Tt__RecordBody whole = *body;
    whole.has_parts = log->run.parts > 0;
    whole.parts = (uint32_t)log->run.parts;
    tt_err_t err = s_write_frame(log, &whole, telemetry, sync);
    if (!err)
        tt_tlog_impl_rec_push(log);
    return err;
}

tt_err_t
tt_tlog_append_part(tt_tlog_t *log, const uint8_t *bytes, size_t len,
                    const Tt__Telemetry *telemetry)
{
    TT_ASSERT(log && (bytes || !len));
    if (log->mode != TT_TLOG_APPEND || log->version < 2)
        return TT_EINVAL;
    /* what open would refuse is never written: entries that do not decode,
     * or of another record than the Parts before */
    tt_tlog_shape_t shape = {.kind = TT__RECORD_BODY__KIND_PART};
    tt_tlog_run_t run = log->run;
    if (tt_wire_part_check(bytes, len, &shape.part_of) != TT_OK ||
        tt_tlog_impl_shape_check(log->version, &shape, &run))
        return TT_EINVAL;
    Tt__Part part = TT__PART__INIT;
    part.bytes.data = (uint8_t *)bytes;
    part.bytes.len = len;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_PART;
    body.part = &part;
    tt_err_t err = s_write_frame(log, &body, telemetry, false);
    if (!err)
        log->run = run;
    return err;
}

tt_err_t
tt_tlog_drop_parts(tt_tlog_t *log)
{
    if (log->mode != TT_TLOG_APPEND)
        return TT_EINVAL;
    if (!log->run.parts)
        return TT_OK;
    log->n_slots -= log->run.parts;
    log->end = log->slots[log->n_slots].offset;
    log->run = (tt_tlog_run_t){0};
    return s_cut(log);
}

uint64_t
tt_tlog_pending_parts(const tt_tlog_t *log)
{
    return log->run.parts;
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
    return log->count ? log->slots[log->recs[log->count - 1]].hash : tt_tlog_impl_zero_hash;
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
    if (n < TT_TLOG_FRAME_HEAD || tt_tlog_impl_le32(frame) != TT_TLOG_MAGIC)
        return "bad frame magic";
    uint32_t len = tt_tlog_impl_le32(frame + 4);
    if (len != n - TT_TLOG_FRAME_HEAD)
        return "frame length changed since open";
    if (tt_tlog_impl_frame_crc(frame + 4, frame + TT_TLOG_FRAME_HEAD, len) !=
        tt_tlog_impl_le32(frame + 8))
        return "bad CRC";
    const uint8_t *prev = j ? log->slots[j - 1].hash : tt_tlog_impl_zero_hash;
    uint8_t hash[TT_SHA256_LEN];
    tt_tlog_shape_t shape;
    const char *what = tt_tlog_impl_record_check(frame + TT_TLOG_FRAME_HEAD, len, prev, hash, body,
                                                 telemetry, &shape);
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
    if (tt_tlog_impl_pread_full(log->fd, frame, n, off, &got) != TT_OK || got != n) {
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
    memcpy(entry->prev_hash, first ? log->slots[first - 1].hash : tt_tlog_impl_zero_hash,
           TT_SHA256_LEN);
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
    if (index == log->count && !log->run.parts && !log->dirty)
        return TT_OK;
    /* On failure the records may or may not be gone from the file; they are
     * gone from the log, and the next append retries the cut. A record goes
     * with its Parts, and Parts pending after the last record go too. */
    uint64_t first = s_first_slot(log, index);
    log->end = first < log->n_slots ? log->slots[first].offset : log->end;
    log->n_slots = first;
    log->count = index;
    log->run = (tt_tlog_run_t){0};
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
    err = tt_tlog_impl_scan(fd, NULL, report);
    close(fd);
    if (err)
        snprintf(report->message, sizeof report->message, "%s: read failed", path);
    return err;
}
