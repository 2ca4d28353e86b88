/*  fuzz_record -- one log record's payload, as the log reader decodes it.
 *
 *  A frame in sim.tlog holds a packed tt.Record whose body is a packed
 *  tt.RecordBody. Both decoders run on the input (so the corpus can hold
 *  either), and what decodes is rendered the way `coordinator log dump` does:
 *  tt_pbjson over the record, its body and its telemetry.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "tt_pbjson.h"
#include "tt_wire.h"

static void
s_render(const ProtobufCMessage *m)
{
    json_t *j = tt_pbjson_from_message(m);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) {
        fprintf(stderr, "fuzz_record: a decoded %s does not render as JSON\n", m->descriptor->name);
        abort();
    }
    free(text);
    json_decref(j);
}

static void
s_body(const uint8_t *data, size_t size)
{
    Tt__RecordBody *body = NULL;
    if (tt_wire_decode_body(data, size, &body) != TT_OK)
        return;
    s_render(&body->base);
    /* No pack round trip here: a body read from a log is never packed again,
     * and protobuf-c does not round-trip an unknown field numbered 0 (see
     * s_no_field_zero in tt_wire.c; fuzz_wire checks that for peers). */
    tt_wire_free_body(&body);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Tt__Record *rec = NULL;
    if (tt_wire_decode_record(data, size, &rec) == TT_OK) {
        s_render(&rec->base);
        if (rec->telemetry)
            s_render(&rec->telemetry->base);
        s_body(rec->body.data, rec->body.len);
        tt_wire_free_record(&rec);
    }
    s_body(data, size);
    return 0;
}
