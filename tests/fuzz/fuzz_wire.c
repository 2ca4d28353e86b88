/*  fuzz_wire -- one packed envelope from a peer, as tt_wire_recv hands it on.
 *
 *  tt_wire_decode promises that a message it accepts has a known body, and that
 *  every string in it is valid UTF-8 of bounded length and every repeated field
 *  bounded, "so a handler can trust what it gets". This target checks that
 *  promise by reflection over the whole decoded message (aborting if it is
 *  broken), then does what the handlers do with the untrusted parts that are
 *  pure functions: names the body for the log, parses an Assign's persona and
 *  agent configuration and derives the agent's directory name (which must stay
 *  one safe path component), checks that what it accepted packs back into
 *  bytes that decode (handlers forward parts of it into the log), and renders
 *  the message as JSON like `log dump`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tt_config.h"
#include "tt_json.h"
#include "tt_pbjson.h"
#include "tt_persona.h"
#include "tt_wire.h"

#define S_MAX_TEXT     TT_LIMIT_TEXT /* what tt_wire.c promises */
#define S_MAX_REPEATED 100000
#define S_MAX_DEPTH    16

static void
s_broken(const char *what, const char *field)
{
    fprintf(stderr, "fuzz_wire: decoded envelope breaks its promise: %s in field %s\n", what,
            field);
    abort();
}

static void
s_check_string(const char *s, const char *field)
{
    if (!s)
        return;
    size_t len = strnlen(s, S_MAX_TEXT + 1);
    if (len > S_MAX_TEXT)
        s_broken("string longer than the cap", field);
    if (!tt_utf8_valid(s, len))
        s_broken("string that is not UTF-8", field);
}

static void s_check_message(const ProtobufCMessage *m, int depth);

static void
s_check_value(const ProtobufCFieldDescriptor *f, const void *slot, int depth)
{
    if (f->type == PROTOBUF_C_TYPE_STRING)
        s_check_string(*(char *const *)slot, f->name);
    else if (f->type == PROTOBUF_C_TYPE_MESSAGE && *(ProtobufCMessage *const *)slot)
        s_check_message(*(ProtobufCMessage *const *)slot, depth + 1);
}

/* Every string and every repeated count, recursively, by descriptor. */
static void
s_check_message(const ProtobufCMessage *m, int depth)
{
    if (depth > S_MAX_DEPTH)
        s_broken("nesting deeper than the schema allows", m->descriptor->name);
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            if (n > S_MAX_REPEATED)
                s_broken("repeated field over the cap", f->name);
            const char *items = *(char *const *)(base + f->offset);
            size_t size = f->type == PROTOBUF_C_TYPE_STRING    ? sizeof(char *)
                          : f->type == PROTOBUF_C_TYPE_MESSAGE ? sizeof(void *)
                                                               : 0;
            for (size_t k = 0; size && k < n; k++)
                s_check_value(f, items + k * size, depth);
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue; /* another member of the oneof is set */
        s_check_value(f, base + f->offset, depth);
    }
}

/* What agent_new does with an Assign before it touches the disk. */
static void
s_assign(const Tt__Assign *as)
{
    char *dir = tt_persona_dirname(as->name);
    if (strchr(dir, '/') || !strcmp(dir, ".") || !strcmp(dir, ".."))
        s_broken("agent name that escapes its directory", "assign.name");
    free(dir);

    tt_persona_t *p = NULL;
    char *err = NULL;
    if (tt_persona_from_text(as->persona_json, &p, &err) == TT_OK) {
        char *bio = tt_persona_minibio(p);
        free(bio);
        tt_persona_destroy(&p);
    }
    free(err);

    json_t *cfg_json = json_loads(as->agent_config_json, 0, NULL);
    if (json_is_object(cfg_json)) {
        tt_config_t cfg;
        tt_config_init(&cfg);
        tt_config_from_json(&cfg, json_object_get(cfg_json, "config"));
        tt_config_fini(&cfg);
    }
    json_decref(cfg_json);
}

/* An accepted answer, as the log body the coordinator writes for it. */
static void
s_answer_round_trip(const Tt__Actions *m)
{
    size_t len;
    Tt__StepInput input = TT__STEP_INPUT__INIT;
    Tt__AgentStep as = TT__AGENT_STEP__INIT;
    as.input = &input;
    as.n_actions = m->n_actions;
    as.actions = m->actions;
    as.cognitive_state = m->cognitive_state;
    as.n_exchanges = m->n_exchanges;
    as.exchanges = m->exchanges;
    as.error = m->error;
    Tt__AgentStep *steps[1] = {&as};
    Tt__StepCommit sc = TT__STEP_COMMIT__INIT;
    sc.step = m->step;
    sc.datetime = "2026-03-01T09:00:00";
    sc.n_agents = 1;
    sc.agents = steps;
    Tt__RecordBody body = TT__RECORD_BODY__INIT;
    body.kind_case = TT__RECORD_BODY__KIND_STEP;
    body.step = &sc;
    uint8_t *packed = tt_wire_pack_body(&body, &len);
    Tt__RecordBody *back = NULL;
    if (tt_wire_decode_body(packed, len, &back) != TT_OK)
        s_broken("accepted actions make a log record that does not decode", "actions");
    tt_wire_free_body(&back);
    free(packed);
}

/* Handlers forward what peers send: an agent's actions, cognitive state and
 * exchanges go into the log's StepCommit as they were decoded. Whatever was
 * accepted must pack into bytes that decode again, as an envelope and, for
 * Actions, as the log body the coordinator writes. */
static void
s_round_trip(Tt__Envelope *env)
{
    size_t len = tt__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len ? len : 1);
    tt__envelope__pack(env, buf);
    Tt__Envelope *again = NULL;
    if (tt_wire_decode(buf, len, &again) != TT_OK)
        s_broken("an accepted envelope does not decode once packed again", "envelope");
    tt_wire_free(&again);
    free(buf);
    if (env->body_case != TT__ENVELOPE__BODY_ACTIONS_BATCH)
        return;
    for (size_t i = 0; i < env->actions_batch->n_items; i++)
        s_answer_round_trip(env->actions_batch->items[i]->actions);
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
    Tt__Envelope *env = NULL;
    if (tt_wire_decode(data, size, &env) != TT_OK) {
        if (env)
            s_broken("a failed decode that returned a message", "envelope");
        return 0;
    }
    if (!strcmp(tt_wire_body_name(env), "unknown"))
        s_broken("accepted envelope without a known body", "body");
    s_check_message(&env->base, 0);
    if (env->body_case == TT__ENVELOPE__BODY_ASSIGN)
        s_assign(env->assign);
    s_round_trip(env);
    json_t *dump = tt_pbjson_from_message(&env->base);
    char *text = json_dumps(dump, JSON_COMPACT);
    if (!text)
        s_broken("message that does not render as JSON", "envelope");
    free(text);
    json_decref(dump);
    tt_wire_free(&env);
    if (env)
        s_broken("tt_wire_free left the pointer set", "envelope");
    return 0;
}
