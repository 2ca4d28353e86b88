/*  tt_wire -- the envelope codec over czmq, and the one home of protobuf-c
 *  pack/unpack for the whole project.
 *
 *  A message on the wire is one ZeroMQ frame holding a packed tt.Envelope; on a
 *  ROUTER it is preceded by the peer's routing id. Everything received is
 *  untrusted: the frame count, the size (TT_WIRE_MAX_FRAME), the protocol
 *  version, that a body is set, and that every string is bounded UTF-8 are
 *  checked here, before any handler sees the message.
 */
#ifndef TT_WIRE_H
#define TT_WIRE_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "troupe.pb-c.h"
#include "tt_err.h"
#include "tt_limits.h"

/* 2: a step's work travels in batches (StepBatch, ActionsBatch), one frame per
 * agentd instead of one per agent. A frame of another version is refused as
 * TT_EVERSION before it is unpacked, and the daemons say so by name. */
#define TT_PROTOCOL_VERSION 2
#define TT_WIRE_MAX_FRAME   TT_LIMIT_FRAME
/* Local mode: the environment variable through which a coordinator hands the
 * agentds it starts a per-run secret, which they send in Hello.token; a hello
 * without it is refused, so no other local process can take agents. */
#define TT_SPAWN_TOKEN_ENV "TROUPE_SPAWN_TOKEN"

/* Pack env (caller keeps it) and send it; on a ROUTER pass the peer's routing
 * id (borrowed), else NULL. Sets env->version. Returns TT_EPEER if a ROUTER
 * with ROUTER_MANDATORY cannot reach the peer. */
tt_err_t tt_wire_send(zsock_t *sock, zframe_t *routing_id, Tt__Envelope *env);

/* Receive one message. On a ROUTER pass a routing_id pointer to receive the
 * peer's id (caller destroys it); else NULL. On success *env is the caller's,
 * freed with tt_wire_free(). A malformed message is consumed and reported as
 * TT_EPROTO/TT_ETOOBIG; *routing_id is still set when it was readable, so the
 * caller can count the peer's offences. */
tt_err_t tt_wire_recv(zsock_t *sock, zframe_t **routing_id, Tt__Envelope **env);

/* Decode and validate one packed envelope (what tt_wire_recv does after the
 * frames are read). The fuzz target calls this. TT_EVERSION: the frame is of
 * another protocol version (a peer of another release), not malformed. */
tt_err_t tt_wire_decode(const uint8_t *data, size_t len, Tt__Envelope **env);
void tt_wire_free(Tt__Envelope **env);

/* Free a message taken out of a decoded envelope: the taker set its pointer in
 * the envelope to NULL (tt_wire_free then skips it) and owns it until these. */
void tt_wire_free_step(Tt__Step **step);
void tt_wire_free_actions(Tt__Actions **actions);

/* ---- batches: many agents' Steps or Actions in as few frames as fit
 *
 * Each item is packed when it is added, so the caller's message may be freed
 * at once and nothing is encoded twice; tt_wire_batch_send cuts what was
 * added into frames of at most max_frame bytes, in order. A big batch is never
 * refused, only split: every item alone fits a frame (tt_limits.h), and one
 * that does not is refused when added. */
typedef enum {
    TT_WIRE_BATCH_STEPS,   /* StepBatch: coordinator -> agentd */
    TT_WIRE_BATCH_ACTIONS, /* ActionsBatch: agentd -> coordinator */
} tt_wire_batch_kind_t;

typedef struct tt_wire_batch tt_wire_batch_t;

/* max_frame: TT_WIRE_MAX_FRAME, or less (tests). */
tt_wire_batch_t *tt_wire_batch_new(tt_wire_batch_kind_t kind, size_t max_frame);
void tt_wire_batch_destroy(tt_wire_batch_t **self_p);
/* Add agent's (index + 1) item; the message is borrowed for the call only.
 * TT_ETOOBIG if the item alone would not fit a frame (nothing is added). A
 * kind the batch does not hold is a programmer error. */
tt_err_t tt_wire_batch_add_step(tt_wire_batch_t *b, uint32_t agent, uint32_t incarnation,
                                const Tt__Step *step);
tt_err_t tt_wire_batch_add_actions(tt_wire_batch_t *b, uint32_t agent, uint32_t incarnation,
                                   const Tt__Actions *actions);
/* Items added since the last send or clear. */
size_t tt_wire_batch_items(const tt_wire_batch_t *b);
/* Send them: one frame per max_frame bytes, each with the next sequence
 * number (++*seq), routed as tt_wire_send. *frames (if not NULL) = frames
 * sent. The batch is empty afterwards, whatever happened. TT_EPEER: the peer
 * cannot be reached (the rest is not sent). */
tt_err_t tt_wire_batch_send(tt_wire_batch_t *b, zsock_t *sock, zframe_t *routing_id, uint64_t *seq,
                            size_t *frames);
/* Forget what was added (its peer is gone). */
void tt_wire_batch_clear(tt_wire_batch_t *b);

/* Log records. Pack into a fresh buffer (caller frees); decode validates. */
uint8_t *tt_wire_pack_body(const Tt__RecordBody *body, size_t *len);
uint8_t *tt_wire_pack_record(const Tt__Record *rec, size_t *len);
tt_err_t tt_wire_decode_record(const uint8_t *data, size_t len, Tt__Record **rec);
void tt_wire_free_record(Tt__Record **rec);
tt_err_t tt_wire_decode_body(const uint8_t *data, size_t len, Tt__RecordBody **body);
void tt_wire_free_body(Tt__RecordBody **body);
/* Fold a logical record's Parts into its last frame's body: the inner message
 * (SimBegin or StepCommit) is unpacked again from parts || pack(inner), so the
 * Parts' AgentInfo or AgentStep entries come first, and body->parts is
 * cleared. TT_EINVAL for a kind that has no parts, TT_ECORRUPT when the
 * result does not decode (body is then unchanged). */
tt_err_t tt_wire_fold_body(Tt__RecordBody *body, const uint8_t *parts, size_t len);
/* Check a Part's bytes: whole entries of one record's agents, AgentStep
 * entries of a StepCommit (field 3) or AgentInfo entries of a SimBegin (field
 * 7), each decoding. *kind says whose (KIND__NOT_SET for an empty Part).
 * TT_ECORRUPT otherwise. A record whose Parts pass folds (tt_wire_fold_body). */
tt_err_t tt_wire_part_check(const uint8_t *bytes, size_t len, Tt__RecordBody__KindCase *kind);

/* Name of an envelope body for logs ("step", "actions", ...). */
const char *tt_wire_body_name(const Tt__Envelope *env);

#endif
