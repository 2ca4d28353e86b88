/*  tt_wire -- pack, send, receive, unpack and validate.
 *
 *  Validation is structural and cheap: protobuf-c has already enforced the
 *  schema's types and required fields; we add bounds protobuf-c cannot know
 *  (string lengths, UTF-8, repeated counts) so a handler can trust what it gets.
 */
#define TT_LOG_MODULE "wire"
#include "tt_wire.h"

#include <string.h>

#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"

#define S_MAX_TEXT     TT_LIMIT_TEXT /* any single string field (tt_limits.h) */
#define S_MAX_REPEATED 100000        /* any repeated field */
#define S_MAX_DEPTH    8             /* messages inside messages: the schema has 4 */

tt_err_t
tt_wire_send(zsock_t *sock, zframe_t *routing_id, Tt__Envelope *env)
{
    env->version = TT_PROTOCOL_VERSION;
    size_t len = tt__envelope__get_packed_size(env);
    if (len > TT_WIRE_MAX_FRAME)
        return TT_ETOOBIG;
    zframe_t *frame = zframe_new(NULL, len);
    tt__envelope__pack(env, zframe_data(frame));
    zmsg_t *msg = zmsg_new();
    if (routing_id) {
        zframe_t *id = zframe_dup(routing_id);
        zmsg_append(msg, &id);
    }
    zmsg_append(msg, &frame);
    int rc = zmsg_send(&msg, sock);
    if (rc != 0) {
        zmsg_destroy(&msg);
        return TT_EPEER;
    }
    return TT_OK;
}

static bool
s_text_ok(const char *s)
{
    if (!s)
        return true;
    size_t len = strnlen(s, S_MAX_TEXT + 1);
    return len <= S_MAX_TEXT && tt_utf8_valid(s, len);
}

static bool s_message_ok(const ProtobufCMessage *m, int depth);

static bool
s_value_ok(const ProtobufCFieldDescriptor *f, const void *slot, int depth)
{
    if (f->type == PROTOBUF_C_TYPE_STRING)
        return s_text_ok(*(char *const *)slot);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)slot;
        return !sub || s_message_ok(sub, depth + 1);
    }
    return true;
}

/* The bounds protobuf-c cannot know, for every field of every message, by its
 * descriptor, so that no string field is ever left out: each string valid
 * UTF-8 of at most S_MAX_TEXT bytes, each repeated field at most
 * S_MAX_REPEATED long, nesting bounded. And no field numbered 0: protobuf-c
 * keeps an unknown field 0 when its tag comes in more than one byte, then packs
 * it back in one byte, which its own decoder refuses. A handler that forwards
 * part of such a message (an agent's Actions go into the log's StepCommit)
 * would make a record that cannot be appended or read back. */
static bool
s_message_ok(const ProtobufCMessage *m, int depth)
{
    if (depth > S_MAX_DEPTH)
        return false;
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return false;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            if (n > S_MAX_REPEATED)
                return false;
            if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
                continue;
            void *const *items = *(void *const *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (!s_value_ok(f, &items[k], depth))
                    return false;
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue; /* another member of the oneof is set */
        if (!s_value_ok(f, base + f->offset, depth))
            return false;
    }
    return true;
}

/* What the schema cannot say, message by message. */
static bool
s_digests_ok(size_t n, Tt__Exchange **items)
{
    for (size_t i = 0; i < n; i++)
        if (items[i]->request_digest.len != 32)
            return false;
    return true;
}

static bool
s_step_batch_ok(const Tt__StepBatch *b)
{
    if (b->n_items == 0)
        return false;
    for (size_t i = 0; i < b->n_items; i++) {
        const Tt__Step *st = b->items[i]->step;
        if (b->items[i]->agent == 0 || !st->input || !s_digests_ok(st->n_recorded, st->recorded))
            return false;
    }
    return true;
}

static bool
s_actions_batch_ok(const Tt__ActionsBatch *b)
{
    if (b->n_items == 0)
        return false;
    for (size_t i = 0; i < b->n_items; i++) {
        const Tt__Actions *a = b->items[i]->actions;
        if (b->items[i]->agent == 0 || !s_digests_ok(a->n_exchanges, a->exchanges))
            return false;
    }
    return true;
}

static bool
s_envelope_ok(const Tt__Envelope *env)
{
    switch (env->body_case) {
    case TT__ENVELOPE__BODY_HELLO:
        return env->hello->slots >= 1 && env->hello->slots <= 1000000;
    case TT__ENVELOPE__BODY_WELCOME:
    case TT__ENVELOPE__BODY_ASSIGNED:
    case TT__ENVELOPE__BODY_HEARTBEAT:
    case TT__ENVELOPE__BODY_SHUTDOWN:
    case TT__ENVELOPE__BODY_ERROR:
        return true;
    case TT__ENVELOPE__BODY_ASSIGN:
        return env->assign->run_id.len == 32;
    case TT__ENVELOPE__BODY_STEP_BATCH:
        return s_step_batch_ok(env->step_batch);
    case TT__ENVELOPE__BODY_ACTIONS_BATCH:
        return s_actions_batch_ok(env->actions_batch);
    default:
        return false;
    }
}

/* The version is the first field of every envelope (field 1, a varint), so
 * it is read before unpacking: a peer of another release is named as such
 * even when the rest of its message means something else here. */
static bool
s_other_version(const uint8_t *data, size_t len)
{
    if (len < 2 || data[0] != 0x08) /* field 1, varint */
        return false;
    uint64_t v = 0;
    for (size_t i = 1; i < len && i < 11; i++) {
        v |= (uint64_t)(data[i] & 0x7f) << (7 * (i - 1));
        if (!(data[i] & 0x80))
            return v != TT_PROTOCOL_VERSION;
    }
    return false;
}

tt_err_t
tt_wire_decode(const uint8_t *data, size_t len, Tt__Envelope **out)
{
    *out = NULL;
    if (len > TT_WIRE_MAX_FRAME)
        return TT_ETOOBIG;
    if (s_other_version(data, len))
        return TT_EVERSION;
    Tt__Envelope *env = tt__envelope__unpack(NULL, len, data);
    if (!env)
        return TT_EPROTO;
    if (env->version != TT_PROTOCOL_VERSION) {
        tt__envelope__free_unpacked(env, NULL);
        return TT_EVERSION;
    }
    if (!s_envelope_ok(env) || !s_message_ok(&env->base, 0)) {
        tt__envelope__free_unpacked(env, NULL);
        return TT_EPROTO;
    }
    *out = env;
    return TT_OK;
}

tt_err_t
tt_wire_recv(zsock_t *sock, zframe_t **routing_id, Tt__Envelope **env)
{
    *env = NULL;
    if (routing_id)
        *routing_id = NULL;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return TT_EINTR;
    tt_err_t err = TT_OK;
    if (routing_id && zmsg_size(msg) >= 1)
        *routing_id = zmsg_pop(msg);
    if (zmsg_size(msg) != 1) {
        err = TT_EPROTO;
    } else {
        zframe_t *frame = zmsg_first(msg);
        err = tt_wire_decode(zframe_data(frame), zframe_size(frame), env);
    }
    zmsg_destroy(&msg);
    return err;
}

void
tt_wire_free(Tt__Envelope **env)
{
    if (*env)
        tt__envelope__free_unpacked(*env, NULL);
    *env = NULL;
}

/* protobuf-c allocates every unpacked message on its own, and skips a NULL
 * sub-message when it frees, so a message may leave its envelope. */
void
tt_wire_free_step(Tt__Step **step)
{
    if (*step)
        tt__step__free_unpacked(*step, NULL);
    *step = NULL;
}

void
tt_wire_free_actions(Tt__Actions **actions)
{
    if (*actions)
        tt__actions__free_unpacked(*actions, NULL);
    *actions = NULL;
}

uint8_t *
tt_wire_pack_body(const Tt__RecordBody *body, size_t *len)
{
    *len = tt__record_body__get_packed_size(body);
    uint8_t *buf = tt_malloc(*len);
    tt__record_body__pack(body, buf);
    return buf;
}

uint8_t *
tt_wire_pack_record(const Tt__Record *rec, size_t *len)
{
    *len = tt__record__get_packed_size(rec);
    uint8_t *buf = tt_malloc(*len);
    tt__record__pack(rec, buf);
    return buf;
}

tt_err_t
tt_wire_decode_record(const uint8_t *data, size_t len, Tt__Record **out)
{
    *out = tt__record__unpack(NULL, len, data);
    if (!*out)
        return TT_ECORRUPT;
    if ((*out)->prev_hash.len != 32) {
        tt_wire_free_record(out);
        return TT_ECORRUPT;
    }
    return TT_OK;
}

void
tt_wire_free_record(Tt__Record **rec)
{
    if (*rec)
        tt__record__free_unpacked(*rec, NULL);
    *rec = NULL;
}

tt_err_t
tt_wire_decode_body(const uint8_t *data, size_t len, Tt__RecordBody **out)
{
    *out = tt__record_body__unpack(NULL, len, data);
    if (!*out)
        return TT_ECORRUPT;
    if ((*out)->kind_case == TT__RECORD_BODY__KIND__NOT_SET) {
        tt_wire_free_body(out);
        return TT_ECORRUPT;
    }
    return TT_OK;
}

void
tt_wire_free_body(Tt__RecordBody **body)
{
    if (*body)
        tt__record_body__free_unpacked(*body, NULL);
    *body = NULL;
}

/* A protobuf varint at bytes[*at], bounded by len. */
static bool
s_varint_read(const uint8_t *bytes, size_t len, size_t *at, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *at < len && shift < 64; shift += 7) {
        uint8_t b = bytes[(*at)++];
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (b < 0x80)
            return true;
    }
    return false;
}

tt_err_t
tt_wire_part_check(const uint8_t *bytes, size_t len, Tt__RecordBody__KindCase *kind)
{
    *kind = TT__RECORD_BODY__KIND__NOT_SET;
    for (size_t at = 0; at < len;) {
        uint64_t tag, n;
        if (!s_varint_read(bytes, len, &at, &tag) || !s_varint_read(bytes, len, &at, &n) ||
            n > len - at)
            return TT_ECORRUPT;
        Tt__RecordBody__KindCase k = tag == (3 << 3 | PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
                                         ? TT__RECORD_BODY__KIND_STEP
                                     : tag == (7 << 3 | PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
                                         ? TT__RECORD_BODY__KIND_BEGIN
                                         : TT__RECORD_BODY__KIND__NOT_SET;
        if (k == TT__RECORD_BODY__KIND__NOT_SET || (*kind && *kind != k))
            return TT_ECORRUPT;
        *kind = k;
        const ProtobufCMessageDescriptor *desc = k == TT__RECORD_BODY__KIND_STEP
                                                     ? &tt__agent_step__descriptor
                                                     : &tt__agent_info__descriptor;
        ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, (size_t)n, bytes + at);
        if (!m)
            return TT_ECORRUPT;
        protobuf_c_message_free_unpacked(m, NULL);
        at += (size_t)n;
    }
    return TT_OK;
}

tt_err_t
tt_wire_fold_body(Tt__RecordBody *body, const uint8_t *parts, size_t len)
{
    ProtobufCMessage **inner;
    const ProtobufCMessageDescriptor *desc;
    if (body->kind_case == TT__RECORD_BODY__KIND_BEGIN) {
        inner = (ProtobufCMessage **)&body->begin;
        desc = &tt__sim_begin__descriptor;
    } else if (body->kind_case == TT__RECORD_BODY__KIND_STEP) {
        inner = (ProtobufCMessage **)&body->step;
        desc = &tt__step_commit__descriptor;
    } else {
        return TT_EINVAL;
    }
    /* repeated fields concatenate: this is the message the Parts were cut from */
    size_t tail = protobuf_c_message_get_packed_size(*inner);
    uint8_t *whole = tt_malloc(len + tail + 1);
    if (len)
        memcpy(whole, parts, len);
    protobuf_c_message_pack(*inner, whole + len);
    ProtobufCMessage *folded = protobuf_c_message_unpack(desc, NULL, len + tail, whole);
    free(whole);
    if (!folded)
        return TT_ECORRUPT;
    protobuf_c_message_free_unpacked(*inner, NULL);
    *inner = folded;
    body->has_parts = false;
    body->parts = 0;
    return TT_OK;
}

const char *
tt_wire_body_name(const Tt__Envelope *env)
{
    switch (env->body_case) {
    case TT__ENVELOPE__BODY_HELLO:
        return "hello";
    case TT__ENVELOPE__BODY_WELCOME:
        return "welcome";
    case TT__ENVELOPE__BODY_ASSIGN:
        return "assign";
    case TT__ENVELOPE__BODY_ASSIGNED:
        return "assigned";
    case TT__ENVELOPE__BODY_STEP_BATCH:
        return "step batch";
    case TT__ENVELOPE__BODY_ACTIONS_BATCH:
        return "actions batch";
    case TT__ENVELOPE__BODY_HEARTBEAT:
        return "heartbeat";
    case TT__ENVELOPE__BODY_SHUTDOWN:
        return "shutdown";
    case TT__ENVELOPE__BODY_ERROR:
        return "error";
    default:
        return "unknown";
    }
}

/* ------------------------------------------------------------------ batches
 *
 * A batch frame is an Envelope whose body (StepBatch or ActionsBatch) is
 * written by hand: the header (version, seq) packed by protobuf-c, then the
 * body's tag and length, then the items exactly as protobuf-c packs a
 * repeated message field (tag 1, length, the packed item), concatenated. It
 * is the encoding protobuf-c would produce, without holding every item's
 * message until the frame is complete. */

#define S_WIRE_LEN   2u                       /* protobuf wire type: length-delimited */
#define S_ITEM_TAG   ((1u << 3) | S_WIRE_LEN) /* repeated Item items = 1 */
#define S_FRAME_ROOM 32u /* header (<= 17 bytes) + body tag (2) + length (<= 5) */

/* A frame in the making: S_FRAME_ROOM bytes for its header, then the items.
 * The header is written just before the items when the frame is sent, and the
 * buffer goes to ZeroMQ as it is (no copy). */
typedef struct {
    uint8_t *data;   /* the buffer: header room, then items */
    size_t len, cap; /* of the items */
} s_chunk_t;

struct tt_wire_batch {
    tt_wire_batch_kind_t kind;
    size_t max_body;   /* a frame's bytes less S_FRAME_ROOM */
    s_chunk_t *chunks; /* one per frame to send */
    size_t n_chunks;
    size_t items;
};

static size_t
s_varint_put(uint64_t v, uint8_t *out)
{
    size_t n = 0;
    do {
        out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

tt_wire_batch_t *
tt_wire_batch_new(tt_wire_batch_kind_t kind, size_t max_frame)
{
    TT_ASSERT(max_frame > S_FRAME_ROOM && max_frame <= TT_WIRE_MAX_FRAME);
    tt_wire_batch_t *b = tt_new(tt_wire_batch_t);
    b->kind = kind;
    b->max_body = max_frame - S_FRAME_ROOM;
    return b;
}

void
tt_wire_batch_clear(tt_wire_batch_t *b)
{
    for (size_t i = 0; i < b->n_chunks; i++)
        free(b->chunks[i].data);
    free(b->chunks);
    b->chunks = NULL;
    b->n_chunks = 0;
    b->items = 0;
}

void
tt_wire_batch_destroy(tt_wire_batch_t **self_p)
{
    if (!*self_p)
        return;
    tt_wire_batch_clear(*self_p);
    free(*self_p);
    *self_p = NULL;
}

size_t
tt_wire_batch_items(const tt_wire_batch_t *b)
{
    return b->items;
}

/* Room for an item of `need` bytes: in the last chunk, else in a new one. */
static uint8_t *
s_reserve(tt_wire_batch_t *b, size_t need)
{
    s_chunk_t *c = b->n_chunks ? &b->chunks[b->n_chunks - 1] : NULL;
    if (!c || c->len + need > b->max_body) {
        b->chunks = tt_realloc(b->chunks, (b->n_chunks + 1) * sizeof *b->chunks);
        c = &b->chunks[b->n_chunks++];
        memset(c, 0, sizeof *c);
    }
    if (c->len + need > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + need)
            cap *= 2;
        c->cap = cap < b->max_body ? cap : b->max_body;
        c->data = tt_realloc(c->data, S_FRAME_ROOM + c->cap);
    }
    uint8_t *at = c->data + S_FRAME_ROOM + c->len;
    c->len += need;
    return at;
}

static tt_err_t
s_add(tt_wire_batch_t *b, const ProtobufCMessage *item)
{
    size_t size = protobuf_c_message_get_packed_size(item);
    uint8_t head[16];
    size_t n = 0;
    head[n++] = S_ITEM_TAG;
    n += s_varint_put(size, head + n);
    if (n + size > b->max_body)
        return TT_ETOOBIG;
    uint8_t *at = s_reserve(b, n + size);
    memcpy(at, head, n);
    protobuf_c_message_pack(item, at + n);
    b->items++;
    return TT_OK;
}

tt_err_t
tt_wire_batch_add_step(tt_wire_batch_t *b, uint32_t agent, uint32_t incarnation,
                       const Tt__Step *step)
{
    TT_ASSERT(b->kind == TT_WIRE_BATCH_STEPS);
    Tt__StepBatch__Item item = TT__STEP_BATCH__ITEM__INIT;
    item.agent = agent;
    item.incarnation = incarnation;
    item.step = (Tt__Step *)step;
    return s_add(b, &item.base);
}

tt_err_t
tt_wire_batch_add_actions(tt_wire_batch_t *b, uint32_t agent, uint32_t incarnation,
                          const Tt__Actions *actions)
{
    TT_ASSERT(b->kind == TT_WIRE_BATCH_ACTIONS);
    Tt__ActionsBatch__Item item = TT__ACTIONS_BATCH__ITEM__INIT;
    item.agent = agent;
    item.incarnation = incarnation;
    item.actions = (Tt__Actions *)actions;
    return s_add(b, &item.base);
}

/* One chunk as a frame: header, body tag and length, the items; *size its
 * bytes from the returned start, which is inside the chunk's buffer. */
static uint8_t *
s_frame(const tt_wire_batch_t *b, const s_chunk_t *c, uint64_t seq, size_t *size)
{
    Tt__Envelope hdr = TT__ENVELOPE__INIT;
    hdr.version = TT_PROTOCOL_VERSION;
    hdr.seq = seq;
    uint8_t head[S_FRAME_ROOM];
    size_t n = tt__envelope__pack(&hdr, head);
    uint32_t field = b->kind == TT_WIRE_BATCH_STEPS ? TT__ENVELOPE__BODY_STEP_BATCH
                                                    : TT__ENVELOPE__BODY_ACTIONS_BATCH;
    n += s_varint_put(((uint64_t)field << 3) | S_WIRE_LEN, head + n);
    n += s_varint_put(c->len, head + n);
    TT_ASSERT(n <= S_FRAME_ROOM);
    uint8_t *start = c->data + S_FRAME_ROOM - n;
    memcpy(start, head, n);
    *size = n + c->len;
    return start;
}

static void
s_free_buffer(void *data, void *buffer)
{
    (void)data;
    free(buffer);
}

/* Send chunk C (its buffer given to ZeroMQ) after ROUTING_ID if any. */
static int
s_send_chunk(tt_wire_batch_t *b, s_chunk_t *c, void *sock, zframe_t *routing_id, uint64_t seq)
{
    if (routing_id &&
        zmq_send(sock, zframe_data(routing_id), zframe_size(routing_id), ZMQ_SNDMORE) < 0)
        return -1;
    size_t size;
    uint8_t *start = s_frame(b, c, seq, &size);
    zmq_msg_t msg;
    zmq_msg_init_data(&msg, start, size, s_free_buffer, c->data);
    c->data = NULL;
    if (zmq_msg_send(&msg, sock, 0) < 0) {
        zmq_msg_close(&msg);
        return -1;
    }
    return 0;
}

tt_err_t
tt_wire_batch_send(tt_wire_batch_t *b, zsock_t *sock, zframe_t *routing_id, uint64_t *seq,
                   size_t *frames)
{
    tt_err_t err = TT_OK;
    size_t sent = 0;
    for (size_t i = 0; i < b->n_chunks && !err; i++) {
        if (s_send_chunk(b, &b->chunks[i], zsock_resolve(sock), routing_id, ++*seq) != 0)
            err = TT_EPEER;
        else
            sent++;
    }
    tt_wire_batch_clear(b);
    if (frames)
        *frames = sent;
    return err;
}
