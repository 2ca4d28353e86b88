/*  tt_tlog_impl -- what the halves of tt_tlog share: the handle and its
 *  index, the file format's constants, and the frame and record checks.
 *
 *  tt_tlog_scan.c walks a file (open and verify); tt_tlog.c opens, appends,
 *  reads and truncates. Nothing outside those two files includes this header.
 */
#ifndef TT_TLOG_IMPL_H
#define TT_TLOG_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tt_tlog.h"

#define TT_TLOG_HEADER_LEN  16
#define TT_TLOG_NAME_LEN    10 /* "TROUPELOG" and its NUL */
#define TT_TLOG_VERSION     2  /* written; 1 (no Part records) is still read */
#define TT_TLOG_VERSION_MIN 1
#define TT_TLOG_FRAME_HEAD  12 /* magic, length, crc */
#define TT_TLOG_MAGIC       0x524C5454u

/* The header of a new file, and the hash before the first frame. */
extern const uint8_t tt_tlog_impl_header[TT_TLOG_HEADER_LEN];
extern const uint8_t tt_tlog_impl_zero_hash[TT_SHA256_LEN];

/* What the scanner needs of a frame's body to fold Parts. */
typedef struct {
    Tt__RecordBody__KindCase kind;
    uint32_t parts;
    Tt__RecordBody__KindCase part_of; /* a Part: whose entries it holds */
} tt_tlog_shape_t;

/* The Part frames since the last record: how many, and whose. */
typedef struct {
    uint64_t parts;
    Tt__RecordBody__KindCase of;
} tt_tlog_run_t;

typedef struct {
    uint64_t offset;
    uint8_t hash[TT_SHA256_LEN];
} tt_tlog_slot_t;

struct tt_tlog {
    char *path;
    int fd;
    tt_tlog_mode_t mode;
    uint16_t version;
    tt_tlog_slot_t *slots; /* every frame: whole records' and pending Parts' */
    uint64_t n_slots;
    uint64_t alloc;
    uint64_t *recs; /* per logical record: the slot of its last frame */
    uint64_t count;
    uint64_t recs_alloc;
    tt_tlog_run_t run;  /* Part frames appended since the last record */
    uint64_t end;       /* end of the last frame written: where the next one goes */
    uint64_t cut_bytes; /* torn tail found at open */
    uint8_t *frame;     /* reusable frame buffer for append and read */
    size_t frame_alloc;
    bool dirty; /* a failed write may have left bytes after end */
};

uint32_t tt_tlog_impl_le32(const uint8_t *p);
/* CRC32C over the length bytes and the payload, as a frame carries it. */
uint32_t tt_tlog_impl_frame_crc(const uint8_t *len_bytes, const uint8_t *payload, size_t len);
/* SHA-256(prev || body): a frame's hash. */
void tt_tlog_impl_chain_hash(const uint8_t *prev, const uint8_t *body, size_t len,
                             uint8_t out[TT_SHA256_LEN]);
/* Read exactly n bytes at off; TT_EIO on error, *got < n at end of file. */
tt_err_t tt_tlog_impl_pread_full(int fd, uint8_t *buf, size_t n, uint64_t off, size_t *got);
/* Decode a CRC-valid payload, check its chain link, compute its hash. Returns
 * NULL when sound, else what is wrong. On success body and telemetry (if asked
 * for) are the caller's, and shape says the body's kind and parts. */
const char *tt_tlog_impl_record_check(const uint8_t *payload, size_t len, const uint8_t *prev,
                                      uint8_t hash[TT_SHA256_LEN], Tt__RecordBody **body,
                                      Tt__Telemetry **telemetry, tt_tlog_shape_t *shape);
/* Can a frame of this shape follow the Parts of run? NULL if so, and run
 * then takes the frame in (a Part joins it, a record ends it). */
const char *tt_tlog_impl_shape_check(uint16_t version, const tt_tlog_shape_t *shape,
                                     tt_tlog_run_t *run);
/* Index a frame; the frame just indexed ends a logical record. */
void tt_tlog_impl_slot_push(tt_tlog_t *log, uint64_t offset, const uint8_t hash[TT_SHA256_LEN]);
void tt_tlog_impl_rec_push(tt_tlog_t *log);
/* Walk the whole file. Fills rep; if log is set, fills its index too. TT_EIO
 * only when the file cannot be read; damage is reported, not returned. */
tt_err_t tt_tlog_impl_scan(int fd, tt_tlog_t *log, tt_tlog_verify_t *rep);

#endif
