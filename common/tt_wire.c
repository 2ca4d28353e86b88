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

static bool
s_stimuli_ok(size_t n, Tt__Stimulus **items)
{
    if (n > S_MAX_REPEATED)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_text_ok(items[i]->type) || !s_text_ok(items[i]->content) ||
            !s_text_ok(items[i]->source))
            return false;
    return true;
}

static bool
s_actions_ok(size_t n, Tt__Action **items)
{
    if (n > S_MAX_REPEATED)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_text_ok(items[i]->type) || !s_text_ok(items[i]->content) ||
            !s_text_ok(items[i]->target))
            return false;
    return true;
}

static bool
s_strings_ok(size_t n, char **items)
{
    if (n > S_MAX_REPEATED)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_text_ok(items[i]))
            return false;
    return true;
}

static bool
s_exchanges_ok(size_t n, Tt__Exchange **items)
{
    if (n > S_MAX_REPEATED)
        return false;
    for (size_t i = 0; i < n; i++)
        if (items[i]->request_digest.len != 32 || !s_text_ok(items[i]->response) ||
            !s_text_ok(items[i]->purpose))
            return false;
    return true;
}

static bool
s_telemetry_ok(size_t n, Tt__ExchangeTelemetry **items)
{
    if (n > S_MAX_REPEATED)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_text_ok(items[i]->model))
            return false;
    return true;
}

static bool
s_input_ok(const Tt__StepInput *in)
{
    return in && s_stimuli_ok(in->n_stimuli, in->stimuli) &&
           s_strings_ok(in->n_accessible, in->accessible) && s_text_ok(in->location) &&
           s_strings_ok(in->n_context, in->context);
}

static bool
s_cognitive_ok(const Tt__CognitiveState *cs)
{
    return !cs || (s_text_ok(cs->goals) && s_strings_ok(cs->n_context, cs->context) &&
                   s_text_ok(cs->attention) && s_text_ok(cs->emotions));
}

static bool
s_envelope_ok(const Tt__Envelope *env)
{
    switch (env->body_case) {
    case TT__ENVELOPE__BODY_HELLO:
        return env->hello->slots >= 1 && env->hello->slots <= 1000000 &&
               s_text_ok(env->hello->instance) && s_text_ok(env->hello->host);
    case TT__ENVELOPE__BODY_WELCOME:
    case TT__ENVELOPE__BODY_ASSIGNED:
    case TT__ENVELOPE__BODY_HEARTBEAT:
        return true;
    case TT__ENVELOPE__BODY_ASSIGN:
        return s_text_ok(env->assign->name) && s_text_ok(env->assign->persona_json) &&
               s_text_ok(env->assign->agent_config_json) && s_text_ok(env->assign->data_dir) &&
               env->assign->run_id.len == 32;
    case TT__ENVELOPE__BODY_STEP:
        return s_text_ok(env->step->datetime) && s_input_ok(env->step->input) &&
               s_exchanges_ok(env->step->n_recorded, env->step->recorded);
    case TT__ENVELOPE__BODY_ACTIONS: {
        const Tt__Actions *a = env->actions;
        return s_actions_ok(a->n_actions, a->actions) && s_cognitive_ok(a->cognitive_state) &&
               s_exchanges_ok(a->n_exchanges, a->exchanges) &&
               s_telemetry_ok(a->n_telemetry, a->telemetry) && s_text_ok(a->error) &&
               s_text_ok(a->divergence);
    }
    case TT__ENVELOPE__BODY_SHUTDOWN:
        return s_text_ok(env->shutdown->reason);
    case TT__ENVELOPE__BODY_ERROR:
        return s_text_ok(env->error->message);
    default:
        return false;
    }
}

/* protobuf-c keeps an unknown field numbered 0 when its tag comes in more than
 * one byte, then packs it back in one byte, which its own decoder refuses. A
 * handler that forwards part of such a message (an agent's Actions go into the
 * log's StepCommit) would make a record that cannot be appended or read back.
 * Field 0 does not exist: refuse it anywhere in the message. */
static bool
s_no_field_zero(const ProtobufCMessage *m, int depth)
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
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (!s_no_field_zero(items[k], depth + 1))
                    return false;
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue; /* another member of the oneof is set */
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
        if (sub && !s_no_field_zero(sub, depth + 1))
            return false;
    }
    return true;
}

tt_err_t
tt_wire_decode(const uint8_t *data, size_t len, Tt__Envelope **out)
{
    *out = NULL;
    if (len > TT_WIRE_MAX_FRAME)
        return TT_ETOOBIG;
    Tt__Envelope *env = tt__envelope__unpack(NULL, len, data);
    if (!env)
        return TT_EPROTO;
    if (env->version != TT_PROTOCOL_VERSION || !s_envelope_ok(env) ||
        !s_no_field_zero(&env->base, 0)) {
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
s_varint(const uint8_t *bytes, size_t len, size_t *at, uint64_t *v)
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
        if (!s_varint(bytes, len, &at, &tag) || !s_varint(bytes, len, &at, &n) || n > len - at)
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
    case TT__ENVELOPE__BODY_STEP:
        return "step";
    case TT__ENVELOPE__BODY_ACTIONS:
        return "actions";
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
