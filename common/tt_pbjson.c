/*  tt_pbjson -- protobuf-c reflection to jansson.
 *
 *  A field's value lives at (char *)msg + field->offset; its presence is the
 *  has_ flag, the oneof case or the pointer at field->quantifier_offset, and a
 *  repeated field's count is the size_t there. protobuf-c does not export the
 *  size of one element of each type, so s_elt_size knows it. The schema is not
 *  recursive, but a depth cap keeps a hostile descriptor from mattering.
 */
#include "tt_pbjson.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_err.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_mem.h"

#define S_MAX_DEPTH 64

static json_t *s_message(const ProtobufCMessage *msg, int depth);

/* jansson only fails on allocation; like tt_mem, that aborts. */
static json_t *
s_ok(json_t *value)
{
    if (!value) {
        fprintf(stderr, "%s:%d: out of memory (jansson)\n", __FILE__, __LINE__);
        abort();
    }
    return value;
}

/* Length of the UTF-8 sequence a lead byte announces, 1 for a stray byte. */
static size_t
s_seq_len(unsigned char c)
{
    if (c >= 0xF0)
        return 4;
    if (c >= 0xE0)
        return 3;
    if (c >= 0xC0)
        return 2;
    return 1;
}

static json_t *
s_string(const char *s)
{
    size_t len = strlen(s);
    if (tt_utf8_valid(s, len))
        return s_ok(json_stringn(s, len));
    tt_buf_t buf;
    tt_buf_init(&buf, 0);
    for (size_t i = 0; i < len;) {
        size_t n = s_seq_len((unsigned char)s[i]);
        if (n <= len - i && tt_utf8_valid(s + i, n)) {
            tt_buf_add(&buf, s + i, n);
            i += n;
        } else {
            tt_buf_adds(&buf, "\xEF\xBF\xBD");
            i++;
        }
    }
    json_t *value = s_ok(json_stringn(buf.data ? buf.data : "", buf.len));
    tt_buf_fini(&buf);
    return value;
}

static json_t *
s_bytes(const ProtobufCBinaryData *b)
{
    char *hex = tt_malloc(2 * b->len + 1);
    tt_hex(b->data, b->len, hex);
    json_t *value = s_ok(json_stringn(hex, 2 * b->len));
    free(hex);
    return value;
}

static size_t
s_elt_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4; /* int32 family, uint32 family, enum */
    }
}

static json_t *
s_real(double v)
{
    return isfinite(v) ? s_ok(json_real(v)) : json_null();
}

static json_t *
s_uint64(uint64_t v)
{
    if (v <= INT64_MAX)
        return s_ok(json_integer((json_int_t)v));
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, v);
    return s_ok(json_string(text));
}

static json_t *
s_enum(const ProtobufCFieldDescriptor *f, int v)
{
    const ProtobufCEnumValue *ev =
        f->descriptor ? protobuf_c_enum_descriptor_get_value(f->descriptor, v) : NULL;
    return ev ? s_ok(json_string(ev->name)) : s_ok(json_integer(v));
}

/* One value of field f stored at p. */
static json_t *
s_value(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return s_ok(json_integer(*(const int32_t *)p));
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return s_ok(json_integer(*(const uint32_t *)p));
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return s_ok(json_integer(*(const int64_t *)p));
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return s_uint64(*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return s_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return s_real(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM:
        return s_enum(f, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s ? s_string(s) : s_ok(json_string(""));
    }
    case PROTOBUF_C_TYPE_BYTES:
        return s_bytes(p);
    case PROTOBUF_C_TYPE_MESSAGE:
        return s_message(*(ProtobufCMessage *const *)p, depth + 1);
    }
    return json_null();
}

/* proto3-style presence: anything but the zero value. */
static bool
s_nonzero(const ProtobufCFieldDescriptor *f, const void *member)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)member;
        return s && *s && s != f->default_value;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(void *const *)member != NULL;
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)member)->len > 0;
    default: {
        static const uint8_t zero[8];
        return memcmp(member, zero, s_elt_size(f->type)) != 0;
    }
    }
}

static bool
s_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, const void *member)
{
    const char *base = (const char *)msg;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    switch (f->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
        return true;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
            const void *ptr = *(const void *const *)member;
            return ptr && ptr != f->default_value;
        }
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
    case PROTOBUF_C_LABEL_NONE:
        return s_nonzero(f, member);
    default:
        return false;
    }
}

static json_t *
s_repeated(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, const void *member,
           int depth)
{
    size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
    const char *items = *(const char *const *)member;
    size_t size = s_elt_size(f->type);
    json_t *array = s_ok(json_array());
    for (size_t i = 0; items && i < n; i++)
        json_array_append_new(array, s_value(f, items + i * size, depth));
    return array;
}

static json_t *
s_message(const ProtobufCMessage *msg, int depth)
{
    if (!msg || depth > S_MAX_DEPTH)
        return json_null();
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    TT_ASSERT(d && d->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    json_t *obj = s_ok(json_object());
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *member = (const char *)msg + f->offset;
        json_t *value = NULL;
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            value = s_repeated(msg, f, member, depth);
        else if (s_present(msg, f, member))
            value = s_value(f, member, depth);
        if (value)
            json_object_set_new(obj, f->name, value);
    }
    return obj;
}

json_t *
tt_pbjson_from_message(const ProtobufCMessage *msg)
{
    return s_message(msg, 0);
}
