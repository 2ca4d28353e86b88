/*  tt_pbjson -- any protobuf-c message as a jansson value, by its descriptor.
 *
 *  Reflection over ProtobufCMessageDescriptor, so a field added to a .proto
 *  shows up in every dump without touching this code. The mapping:
 *
 *      message            object, keys are the .proto field names, in
 *                         descriptor order
 *      repeated           array (always present, possibly empty)
 *      optional, unset    key absent (has_ flag false, NULL pointer, other oneof
 *                         member set)
 *      int32/64, uint32   integer
 *      uint64, fixed64    integer, or a decimal string above INT64_MAX
 *      float, double      real (null when not finite)
 *      bool               true/false
 *      enum               the value's name, its number when unnamed
 *      string             string; invalid UTF-8 is replaced by U+FFFD
 *      bytes              lowercase hex string
 *
 *  Unknown fields kept by the decoder are not shown. Used by `coordinator log
 *  dump`, `log diff` and the HTML report.
 */
#ifndef TT_PBJSON_H
#define TT_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* msg as JSON (never NULL; msg NULL gives JSON null). Caller owns the
 * reference (json_decref). msg is only read. */
json_t *tt_pbjson_from_message(const ProtobufCMessage *msg);

#endif
