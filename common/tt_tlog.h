/*  tt_tlog -- the Simulation transaction log: append-only, framed, hash-chained.
 *
 *  File layout:
 *      header  16 bytes: "TROUPELOG" NUL, u16 LE format version (2), 4 reserved
 *      frame*  u32 LE magic 0x524C5454 ("TTLR"), u32 LE payload length,
 *              u32 LE CRC32C over (length bytes || payload), payload
 *  The payload is a packed tt.Record {prev_hash, body, telemetry}; body is a
 *  packed tt.RecordBody. hash(record) = SHA-256(prev_hash || body bytes), and a
 *  record's prev_hash is the hash of the record before it (32 zero bytes for
 *  the first). Telemetry (wall times, latencies) is framed and CRC-checked but
 *  outside the chain, so two runs that decided the same things have the same
 *  final hash however long their calls took.
 *
 *  Records and frames (format version 2): a record that would grow with the
 *  population (SimBegin's agents, StepCommit's agents) may be written as Part
 *  frames followed by the record's own frame, whose body says how many Parts
 *  (RecordBody.parts) directly precede it. A Part holds encoded field entries
 *  of the record's inner message; the record is read as that message unpacked
 *  from the Parts' bytes followed by its own (see tt_wire_fold_body). Parts
 *  are frames like any other: CRC-checked, and in the hash chain, which runs
 *  through every frame. Everything below speaks of records, the logical
 *  ones: count, read, truncate and the last hash (the record's last frame's).
 *  A parts count that does not match the Part frames before the record, or
 *  Part frames before a record that cannot have them, is corruption. Part
 *  frames with no record after them are an unfinished write, a torn tail:
 *  cut in APPEND mode, ignored in READ mode. Version 1 logs (no Parts) are
 *  read, and appended to as version 1 (tt_tlog_append_part refuses); a
 *  version above 2 is refused.
 *
 *  Opening scans every frame, checks CRC and chain, and builds an offset index.
 *  A damaged or incomplete frame with no valid frame after it is a torn tail:
 *  in TT_TLOG_APPEND mode it is cut off (truncate + fsync) and counted in
 *  tt_tlog_cut_bytes(); in TT_TLOG_READ mode nothing is written and the log
 *  reads as if cut. A damaged frame followed by a valid one is corruption in
 *  the middle: open fails with TT_ECORRUPT and an "path: record N at byte B: ..."
 *  message, whatever the mode. A frame whose CRC holds but that does not decode
 *  or does not chain was written that way, not torn by a crash: it is
 *  corruption even at the end of the file.
 *
 *  Only the coordinator writes a log, one process at a time (an advisory lock
 *  is held while open for append).
 */
#ifndef TT_TLOG_H
#define TT_TLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "troupe.pb-c.h"
#include "tt_err.h"
#include "tt_hash.h"
#include "tt_limits.h"

#define TT_TLOG_MAX_RECORD ((uint32_t)TT_LIMIT_RECORD) /* larger frames are corrupt */

typedef struct tt_tlog tt_tlog_t;

typedef enum {
    TT_TLOG_READ = 1,   /* never writes */
    TT_TLOG_APPEND = 2, /* creates if missing, cuts a torn tail, appends */
} tt_tlog_mode_t;

typedef struct {
    uint64_t index;                   /* 0-based record number */
    uint64_t offset;                  /* byte offset of its first frame (a Part's, if any) */
    uint8_t hash[TT_SHA256_LEN];      /* this record's hash: its last frame's */
    uint8_t prev_hash[TT_SHA256_LEN]; /* the record before's hash */
    Tt__RecordBody *body;             /* owned by the entry */
    Tt__Telemetry *telemetry;         /* owned by the entry; NULL if absent */
} tt_tlog_entry_t;

/* Open a log. On failure *errmsg says why (caller frees): TT_ENOTFOUND (READ
 * of a missing file), TT_ECORRUPT (bad header, mid-log damage), TT_EIO,
 * TT_EEXIST (another process holds it for append). */
tt_err_t tt_tlog_open(const char *path, tt_tlog_mode_t mode, tt_tlog_t **out, char **errmsg);
void tt_tlog_close(tt_tlog_t **self_p);

/* Append one record. Packs body, chains it, frames and writes it; with sync,
 * fdatasync before returning (one sync per committed step is the rule).
 * telemetry may be NULL. The Parts appended since the last record belong to
 * this one (body->parts is set from them; the caller's value is ignored).
 * TT_EIO leaves the log as it was (the partial frame is truncated away).
 * TT_EINVAL: a READ log, a body that would not decode (no kind set) or is a
 * Part, or Parts pending before a kind that cannot have them; TT_ETOOBIG:
 * over TT_TLOG_MAX_RECORD. Nothing is written then. tt_tlog_sync and
 * tt_tlog_truncate also answer TT_EINVAL on a READ log. */
tt_err_t tt_tlog_append(tt_tlog_t *log, const Tt__RecordBody *body, const Tt__Telemetry *telemetry,
                        bool sync);

/* Append a Part of the next record (a SimBegin or a StepCommit): bytes are
 * encoded field entries of its inner message (tag, length, message), copied.
 * telemetry (may be NULL) is merged into the record's likewise. Not synced:
 * the record's append syncs. TT_EINVAL on a READ or a version 1 log (write
 * the record whole then), or for bytes that are not whole AgentStep or
 * AgentInfo entries of the same record as the Parts before (see
 * tt_wire_part_check); TT_EIO and TT_ETOOBIG as tt_tlog_append. */
tt_err_t tt_tlog_append_part(tt_tlog_t *log, const uint8_t *bytes, size_t len,
                             const Tt__Telemetry *telemetry);
/* Parts appended with no record after them yet. */
uint64_t tt_tlog_pending_parts(const tt_tlog_t *log);
/* Cut the pending Parts (a record abandoned before it was written). */
tt_err_t tt_tlog_drop_parts(tt_tlog_t *log);
/* Format version of the file (2 for a new one). */
uint16_t tt_tlog_version(const tt_tlog_t *log);
tt_err_t tt_tlog_sync(tt_tlog_t *log);

uint64_t tt_tlog_count(const tt_tlog_t *log);
/* Hash of the last record (32 zero bytes for an empty log); borrowed. */
const uint8_t *tt_tlog_last_hash(const tt_tlog_t *log);
/* Bytes cut (APPEND) or ignored (READ) from a torn tail at open. */
uint64_t tt_tlog_cut_bytes(const tt_tlog_t *log);
const char *tt_tlog_path(const tt_tlog_t *log);

/* Read record index (0 <= index < count), folded with its Parts. Fill *entry;
 * free with tt_tlog_entry_fini. Re-checks CRC and hash of every frame. */
tt_err_t tt_tlog_read(tt_tlog_t *log, uint64_t index, tt_tlog_entry_t *entry);
void tt_tlog_entry_fini(tt_tlog_entry_t *entry);

/* Drop records from index on (keeping 0..index-1), with their Parts and any
 * pending Parts: used by --resume to cut back to the last whole StepCommit.
 * Truncates and syncs. APPEND mode only. */
tt_err_t tt_tlog_truncate(tt_tlog_t *log, uint64_t index);

/* What `coordinator log verify` reports. */
typedef struct {
    uint16_t version;     /* format version of the header */
    uint64_t records;     /* whole, valid records (a record's Parts are in it) */
    uint64_t bytes;       /* file size */
    uint64_t valid_bytes; /* end of the last valid record */
    bool torn_tail;       /* damaged or partial data after the last valid record */
    bool corrupt;         /* damage followed by valid records, or a bad header */
    uint64_t bad_index;   /* first bad record (when torn_tail or corrupt) */
    uint64_t bad_offset;
    char message[256]; /* what is wrong, empty when sound */
    uint8_t final_hash[TT_SHA256_LEN];
} tt_tlog_verify_t;

/* Check framing and the hash chain of a file without writing it. TT_OK when
 * the file could be read at all (look at the report), else TT_EIO/TT_ENOTFOUND. */
tt_err_t tt_tlog_verify(const char *path, tt_tlog_verify_t *report);

#endif
