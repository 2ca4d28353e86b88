/*  coord_logcmd -- read-only inspection of sim.tlog files.
 *
 *  Every subcommand opens its logs in TT_TLOG_READ mode, which never writes:
 *  a torn tail is ignored (and said so on stderr), not cut. Records are read
 *  one at a time through tt_tlog_read, which re-checks CRC and chain, so memory
 *  stays flat whatever the size of the log.
 *
 *  JSON comes from tt_pbjson, which walks protobuf-c descriptors: a field added
 *  to proto/troupe.proto appears in `log dump` and is compared by `log diff`
 *  without a change here. `log stats` reads named fields, because it counts.
 *
 *  `log report` is the one command that writes a file: the HTML page named by
 *  --html (coord_logreport, with the helpers below that every command uses).
 */
#define TT_LOG_MODULE "logcmd"
#include "coord_logcmd.h"
#include "coord_session.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "coord_logprompt.h"
#include "coord_logreport.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_pbjson.h"
#include "tt_tlog.h"
#include "tt_wire.h"

#define S_EXIT_OK     0
#define S_EXIT_FAILED 1
#define S_EXIT_USAGE  2
#define S_OPT_JSON    1u
#define S_OPT_COMPACT 2u
#define S_OPT_HTML    4u
#define S_OPT_MANY    8u  /* more logs than npos, up to S_POS_MAX (report) */
#define S_OPT_AGENT   16u /* --agent NAME --step N (prompt) */
#define S_POS_MAX     8

typedef struct {
    const char *pos[S_POS_MAX];
    int npos;
    bool help;
    bool json;
    bool compact;
    const char *html;       /* --html OUT */
    const char *extraction; /* --extraction FILE (report) */
    const char *agent;      /* --agent NAME (prompt) */
    const char *step;       /* --step N (prompt) */
} s_args_t;

typedef struct {
    const char *name;
    int npos; /* positional arguments wanted (at least, with S_OPT_MANY) */
    unsigned opts;
    const char *usage;
    int (*run)(const s_args_t *a, FILE *out, FILE *err);
} s_cmd_t;

static const char s_usage[] =
    "usage: coordinator log <command> [options]\n"
    "\n"
    "Read a transaction log (sim.tlog) without ever writing it.\n"
    "\n"
    "  stats LOG [--compact]   counts, token usage and final hash as one JSON object\n"
    "  dump LOG                one JSON object per record (JSON lines)\n"
    "  diff A B                name the first divergent record (exit 0 same, 1 different)\n"
    "  verify LOG [--json]     check framing and hash chain (exit 0 sound, 1 broken)\n"
    "  report LOG... --html OUT  the run (or runs side by side) as one HTML page\n"
    "  prompt LOG --agent NAME --step N  the requests that agent sent in that step\n"
    "\n"
    "`coordinator log COMMAND --help` describes one command. Exit 2: bad usage or an\n"
    "unreadable file.\n";

/* ------------------------------------------------------------------ helpers */

static int
s_usage_error(FILE *err, const s_cmd_t *cmd, const char *what, const char *arg)
{
    fprintf(err, "coordinator log: %s%s%s\n%s", what, arg ? " " : "", arg ? arg : "",
            cmd ? cmd->usage : s_usage);
    return S_EXIT_USAGE;
}

static int
s_parse(const s_cmd_t *cmd, int argc, char **argv, s_args_t *a, FILE *err)
{
    memset(a, 0, sizeof *a);
    bool options = true;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (options && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0))
            a->help = true;
        else if (options && (cmd->opts & S_OPT_JSON) && strcmp(arg, "--json") == 0)
            a->json = true;
        else if (options && (cmd->opts & S_OPT_COMPACT) && strcmp(arg, "--compact") == 0)
            a->compact = true;
        else if (options && (cmd->opts & S_OPT_HTML) && strncmp(arg, "--html=", 7) == 0)
            a->html = arg + 7;
        else if (options && (cmd->opts & S_OPT_HTML) && strcmp(arg, "--html") == 0) {
            if (i + 1 >= argc)
                return s_usage_error(err, cmd, "missing value for", arg);
            a->html = argv[++i];
        } else if (options && (cmd->opts & S_OPT_HTML) && strcmp(arg, "--extraction") == 0) {
            if (i + 1 >= argc)
                return s_usage_error(err, cmd, "missing value for", arg);
            a->extraction = argv[++i];
        } else if (options && (cmd->opts & S_OPT_AGENT) &&
                   (strcmp(arg, "--agent") == 0 || strcmp(arg, "--step") == 0)) {
            if (i + 1 >= argc)
                return s_usage_error(err, cmd, "missing value for", arg);
            *(arg[2] == 'a' ? &a->agent : &a->step) = argv[++i];
        } else if (options && strcmp(arg, "--") == 0)
            options = false;
        else if (options && arg[0] == '-' && arg[1])
            return s_usage_error(err, cmd, "unknown option", arg);
        else if (a->npos < ((cmd->opts & S_OPT_MANY) ? S_POS_MAX : cmd->npos))
            a->pos[a->npos++] = arg;
        else
            return s_usage_error(err, cmd, "unexpected argument", arg);
    }
    if (!a->help && a->npos < cmd->npos)
        return s_usage_error(err, cmd, "missing argument", NULL);
    if (!a->help && (cmd->opts & S_OPT_AGENT) && (!a->agent || !a->step))
        return s_usage_error(err, cmd, "missing option", a->agent ? "--step N" : "--agent NAME");
    if (!a->help && (cmd->opts & S_OPT_HTML) && (!a->html || !*a->html))
        return s_usage_error(err, cmd, "missing option", "--html OUT");
    return S_EXIT_OK;
}

/* "path: what" from tt_tlog becomes "path:1:1: what". */
static void
s_file_error(FILE *err, const char *path, const char *msg, tt_err_t code)
{
    size_t n = strlen(path);
    const char *what = msg ? msg : tt_strerror(code);
    if (strncmp(what, path, n) == 0 && strncmp(what + n, ": ", 2) == 0)
        what += n + 2;
    fprintf(err, "%s:1:1: %s\n", path, what);
}

static int
s_open(const char *path, tt_tlog_t **log, FILE *err)
{
    char *msg = NULL;
    tt_err_t rc = tt_tlog_open(path, TT_TLOG_READ, log, &msg);
    if (rc != TT_OK) {
        s_file_error(err, path, msg, rc);
        free(msg);
        return S_EXIT_USAGE;
    }
    if (tt_tlog_cut_bytes(*log) > 0)
        fprintf(err, "%s: note: %" PRIu64 " bytes of torn tail ignored\n", path,
                tt_tlog_cut_bytes(*log));
    return S_EXIT_OK;
}

static int
s_read(tt_tlog_t *log, uint64_t index, tt_tlog_entry_t *entry, FILE *err)
{
    tt_err_t rc = tt_tlog_read(log, index, entry);
    if (rc == TT_OK)
        return S_EXIT_OK;
    char *what = tt_asprintf("record %" PRIu64 ": %s", index, tt_strerror(rc));
    s_file_error(err, tt_tlog_path(log), what, rc);
    free(what);
    return S_EXIT_USAGE;
}

static json_t *
s_hex_json(const uint8_t *hash)
{
    char hex[TT_SHA256_HEX_LEN + 1];
    return json_string(tt_hex(hash, TT_SHA256_LEN, hex));
}

/* The oneof member's name: begin, step, intervention, ... */
static const char *
s_kind(const Tt__RecordBody *body)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&tt__record_body__descriptor, body->kind_case);
    return f ? f->name : "unknown";
}

static void
s_print_json(FILE *out, json_t *value, bool compact)
{
    json_dumpf(value, out, compact ? JSON_COMPACT : JSON_INDENT(2));
    fputc('\n', out);
}

/* -------------------------------------------------------------------- stats */

typedef struct {
    uint64_t records, steps, actions, interventions, checkpoints, factory_calls, failed;
    uint64_t exchanges, calls, replayed, cached, prompt, completion, recorded_prompt, wall_ms;
    json_t *by_type;
    json_t *begin; /* first SimBegin's facts, or NULL */
    const char *end_reason;
    char *end_reason_copy;
} s_stats_t;

/* Telemetry of exchange j of agent (AgentTelemetry with that index), or NULL. */
static const Tt__ExchangeTelemetry *
s_agent_tel(const Tt__Telemetry *tel, uint32_t agent, size_t j)
{
    for (size_t i = 0; tel && i < tel->n_agents; i++) {
        const Tt__AgentTelemetry *at = tel->agents[i];
        if (at->agent == agent)
            return j < at->n_exchanges ? at->exchanges[j] : NULL;
    }
    return NULL;
}

static const Tt__ExchangeTelemetry *
s_record_tel(const Tt__Telemetry *tel, size_t j)
{
    return tel && j < tel->n_exchanges ? tel->exchanges[j] : NULL;
}

static void
s_count_exchange(s_stats_t *st, const Tt__ExchangeTelemetry *t)
{
    st->exchanges++;
    if (t && t->has_prompt_tokens)
        st->recorded_prompt += t->prompt_tokens;
    if (t && t->has_replayed && t->replayed) {
        st->replayed++;
    } else if (t && t->has_cached && t->cached) {
        st->cached++;
    } else {
        st->calls++;
        st->prompt += t && t->has_prompt_tokens ? t->prompt_tokens : 0;
        st->completion += t && t->has_completion_tokens ? t->completion_tokens : 0;
    }
}

static void
s_count_action(s_stats_t *st, const Tt__Action *action)
{
    const char *type = action->type ? action->type : "";
    json_t *n = json_object_get(st->by_type, type);
    if (n)
        json_integer_set(n, json_integer_value(n) + 1);
    else
        json_object_set_new(st->by_type, type, json_integer(1));
    st->actions++;
}

static void
s_stats_step(s_stats_t *st, const Tt__StepCommit *step, const Tt__Telemetry *tel)
{
    st->steps++;
    if (tel && tel->has_wall_ms)
        st->wall_ms += tel->wall_ms;
    for (size_t i = 0; i < step->n_agents; i++) {
        const Tt__AgentStep *as = step->agents[i];
        for (size_t k = 0; k < as->n_actions; k++)
            s_count_action(st, as->actions[k]);
        for (size_t j = 0; j < as->n_exchanges; j++)
            s_count_exchange(st, s_agent_tel(tel, as->agent, j));
        if (as->status && strcmp(as->status, "ok") != 0)
            st->failed++;
    }
}

static void
s_stats_begin(s_stats_t *st, const Tt__SimBegin *b)
{
    if (st->begin)
        return;
    st->begin =
        json_pack("{s:s?, s:I, s:s?, s:s?, s:s?, s:s?, s:I}", "scenario", b->scenario_name, "seed",
                  (json_int_t)b->seed, "provider", b->provider, "model", b->model, "mode", b->mode,
                  "version", b->version, "agents", (json_int_t)b->n_agents);
    if (b->seed > INT64_MAX) /* keep it exact */
        json_object_set_new(st->begin, "seed", json_sprintf("%" PRIu64, b->seed));
}

/* A factory.tlog or extraction.tlog starts with a FactoryBegin: its provider,
 * model and seed stand where a run's SimBegin facts would. */
static void
s_stats_factory_begin(s_stats_t *st, const Tt__FactoryBegin *b)
{
    if (st->begin)
        return;
    st->begin = json_pack("{s:s?, s:I, s:s?, s:s?, s:s?, s:I}", "scenario", b->kind, "seed",
                          (json_int_t)b->seed, "provider", b->provider, "model", b->model,
                          "version", b->version, "agents", (json_int_t)0);
    if (b->seed > INT64_MAX)
        json_object_set_new(st->begin, "seed", json_sprintf("%" PRIu64, b->seed));
}

static void
s_stats_record(s_stats_t *st, const tt_tlog_entry_t *e)
{
    const Tt__RecordBody *body = e->body;
    st->records++;
    switch (body->kind_case) {
    case TT__RECORD_BODY__KIND_BEGIN:
        s_stats_begin(st, body->begin);
        break;
    case TT__RECORD_BODY__KIND_STEP:
        s_stats_step(st, body->step, e->telemetry);
        break;
    case TT__RECORD_BODY__KIND_INTERVENTION:
        st->interventions++;
        for (size_t j = 0; j < body->intervention->n_exchanges; j++)
            s_count_exchange(st, s_record_tel(e->telemetry, j));
        break;
    case TT__RECORD_BODY__KIND_CHECKPOINT:
        st->checkpoints++;
        break;
    case TT__RECORD_BODY__KIND_SESSION: {
        for (size_t j = 0; e->telemetry && j < e->telemetry->n_exchanges; j++)
            s_count_exchange(st, s_record_tel(e->telemetry, j));
        char *name = coord_session_created_agent(body->session);
        if (name && st->begin)
            json_object_set_new(
                st->begin, "agents",
                json_integer(json_integer_value(json_object_get(st->begin, "agents")) + 1));
        free(name);
        break;
    }
    case TT__RECORD_BODY__KIND_END:
        free(st->end_reason_copy);
        st->end_reason_copy = tt_strdup(body->end->reason);
        st->end_reason = st->end_reason_copy;
        break;
    case TT__RECORD_BODY__KIND_FACTORY_CALL:
        st->factory_calls++;
        s_count_exchange(st, s_record_tel(e->telemetry, 0));
        break;
    case TT__RECORD_BODY__KIND_FACTORY_BEGIN:
        s_stats_factory_begin(st, body->factory_begin);
        break;
    default:
        break;
    }
}

static json_t *
s_begin_field(const s_stats_t *st, const char *key)
{
    json_t *v = st->begin ? json_object_get(st->begin, key) : NULL;
    return v ? json_incref(v) : json_null();
}

static json_t *
s_stats_json(s_stats_t *st, tt_tlog_t *log)
{
    const char *provider = st->begin ? tt_json_str(st->begin, "provider", "") : "";
    json_t *o = json_object();
    json_object_set_new(o, "scenario", s_begin_field(st, "scenario"));
    json_object_set_new(o, "seed", s_begin_field(st, "seed"));
    json_object_set_new(o, "provider", s_begin_field(st, "provider"));
    json_object_set_new(o, "model", s_begin_field(st, "model"));
    json_object_set_new(o, "offline", json_boolean(strcmp(provider, "offline") == 0));
    json_object_set_new(o, "mode", s_begin_field(st, "mode"));
    json_object_set_new(o, "version", s_begin_field(st, "version"));
    json_object_set_new(o, "agents", json_integer(tt_json_int(st->begin, "agents", 0)));
    json_object_set_new(o, "steps", json_integer((json_int_t)st->steps));
    json_object_set_new(o, "records", json_integer((json_int_t)st->records));
    json_object_set_new(o, "complete", json_boolean(st->end_reason != NULL));
    json_object_set_new(o, "end_reason",
                        st->end_reason ? json_string(st->end_reason) : json_null());
    json_object_set_new(o, "actions", json_integer((json_int_t)st->actions));
    json_object_set_new(o, "actions_by_type", json_incref(st->by_type));
    json_object_set_new(o, "failed_agent_steps", json_integer((json_int_t)st->failed));
    json_object_set_new(o, "interventions", json_integer((json_int_t)st->interventions));
    json_object_set_new(o, "checkpoints", json_integer((json_int_t)st->checkpoints));
    json_object_set_new(o, "factory_calls", json_integer((json_int_t)st->factory_calls));
    json_object_set_new(o, "exchanges", json_integer((json_int_t)st->exchanges));
    json_object_set_new(o, "llm_calls", json_integer((json_int_t)st->calls));
    json_object_set_new(o, "llm_replayed", json_integer((json_int_t)st->replayed));
    json_object_set_new(o, "llm_cached", json_integer((json_int_t)st->cached));
    json_object_set_new(o, "prompt_tokens", json_integer((json_int_t)st->prompt));
    json_object_set_new(o, "completion_tokens", json_integer((json_int_t)st->completion));
    json_object_set_new(o, "recorded_prompt_tokens", json_integer((json_int_t)st->recorded_prompt));
    json_object_set_new(o, "wall_ms", json_integer((json_int_t)st->wall_ms));
    json_object_set_new(o, "final_hash", s_hex_json(tt_tlog_last_hash(log)));
    json_object_set_new(o, "torn_tail_bytes", json_integer((json_int_t)tt_tlog_cut_bytes(log)));
    return o;
}

static int
s_cmd_stats(const s_args_t *a, FILE *out, FILE *err)
{
    tt_tlog_t *log = NULL;
    int rc = s_open(a->pos[0], &log, err);
    s_stats_t st = {.by_type = json_object()};
    for (uint64_t i = 0; !rc && i < tt_tlog_count(log); i++) {
        tt_tlog_entry_t e;
        if ((rc = s_read(log, i, &e, err)) == S_EXIT_OK)
            s_stats_record(&st, &e);
        tt_tlog_entry_fini(&e);
    }
    if (!rc) {
        json_t *o = s_stats_json(&st, log);
        s_print_json(out, o, a->compact);
        json_decref(o);
    }
    json_decref(st.by_type);
    json_decref(st.begin);
    free(st.end_reason_copy);
    tt_tlog_close(&log);
    return rc;
}

/* --------------------------------------------------------------------- dump */

static json_t *
s_entry_json(const tt_tlog_entry_t *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)e->index));
    json_object_set_new(o, "offset", json_integer((json_int_t)e->offset));
    json_object_set_new(o, "hash", s_hex_json(e->hash));
    json_object_set_new(o, "prev_hash", s_hex_json(e->prev_hash));
    json_object_set_new(o, "kind", json_string(s_kind(e->body)));
    json_object_set_new(o, "body", tt_pbjson_from_message(&e->body->base));
    json_object_set_new(o, "telemetry",
                        e->telemetry ? tt_pbjson_from_message(&e->telemetry->base) : json_null());
    return o;
}

static int
s_cmd_dump(const s_args_t *a, FILE *out, FILE *err)
{
    tt_tlog_t *log = NULL;
    int rc = s_open(a->pos[0], &log, err);
    for (uint64_t i = 0; !rc && i < tt_tlog_count(log); i++) {
        tt_tlog_entry_t e;
        if ((rc = s_read(log, i, &e, err)) == S_EXIT_OK) {
            json_t *o = s_entry_json(&e);
            s_print_json(out, o, true);
            json_decref(o);
        }
        tt_tlog_entry_fini(&e);
    }
    tt_tlog_close(&log);
    return rc;
}

/* --------------------------------------------------------------------- diff */

static bool
s_same(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && json_equal((json_t *)a, (json_t *)b));
}

/* First key whose value differs between two objects (borrowed), or NULL. */
static const char *
s_first_diff_key(json_t *a, json_t *b)
{
    const char *key;
    json_t *value;
    json_object_foreach(a, key, value)
    {
        if (!s_same(value, json_object_get(b, key)))
            return key;
    }
    json_object_foreach(b, key, value)
    {
        if (!json_object_get(a, key))
            return key;
    }
    return NULL;
}

/* Which part of an agent's step differs, in words. */
static void
s_agent_part(const Tt__AgentStep *sa, const Tt__AgentStep *sb, char *out, size_t cap)
{
    static const struct {
        const char *key, *words;
    } parts[] = {
        {"agent", "agent index"},   {"input", "input"},
        {"actions", "actions"},     {"cognitive_state", "cognitive state"},
        {"exchanges", "exchanges"}, {"status", "status"},
        {"error", "status"},
    };
    json_t *ja = tt_pbjson_from_message(&sa->base), *jb = tt_pbjson_from_message(&sb->base);
    const char *words = NULL;
    for (size_t i = 0; !words && i < sizeof parts / sizeof parts[0]; i++) {
        json_t *va = json_object_get(ja, parts[i].key), *vb = json_object_get(jb, parts[i].key);
        if (s_same(va, vb))
            continue;
        words = parts[i].words;
        if (strcmp(parts[i].key, "input") == 0 && va && vb &&
            !s_same(json_object_get(va, "stimuli"), json_object_get(vb, "stimuli")))
            words = "input stimuli";
    }
    const char *key = words ? NULL : s_first_diff_key(ja, jb);
    snprintf(out, cap, "%s", words ? words : key ? key : "encoding");
    json_decref(ja);
    json_decref(jb);
}

static void
s_agent_name(const Tt__SimBegin *begin, uint32_t index, char *out, size_t cap)
{
    if (begin && index < begin->n_agents && begin->agents[index]->name)
        snprintf(out, cap, "\"%s\" (#%" PRIu32 ")", begin->agents[index]->name, index);
    else
        snprintf(out, cap, "#%" PRIu32, index);
}

static void
s_describe_step(const Tt__StepCommit *a, const Tt__StepCommit *b, const Tt__SimBegin *begin,
                char *out, size_t cap)
{
    if (a->step != b->step) {
        snprintf(out, cap, "step %" PRIu32 " in A, step %" PRIu32 " in B", a->step, b->step);
        return;
    }
    size_t n = a->n_agents < b->n_agents ? a->n_agents : b->n_agents;
    for (size_t i = 0; i < n; i++) {
        char part[64], name[160];
        json_t *ja = tt_pbjson_from_message(&a->agents[i]->base);
        json_t *jb = tt_pbjson_from_message(&b->agents[i]->base);
        bool same = s_same(ja, jb);
        json_decref(ja);
        json_decref(jb);
        if (same)
            continue;
        s_agent_part(a->agents[i], b->agents[i], part, sizeof part);
        s_agent_name(begin, a->agents[i]->agent, name, sizeof name);
        snprintf(out, cap, "step %" PRIu32 ": agent %s differs in %s", a->step, name, part);
        return;
    }
    if (a->n_agents != b->n_agents)
        snprintf(out, cap, "step %" PRIu32 ": %zu agents in A, %zu in B", a->step, a->n_agents,
                 b->n_agents);
    else if (!a->datetime || !b->datetime || strcmp(a->datetime, b->datetime) != 0)
        snprintf(out, cap, "step %" PRIu32 ": datetime differs", a->step);
    else
        snprintf(out, cap, "step %" PRIu32 ": same content, different encoding", a->step);
}

static void
s_describe(const tt_tlog_entry_t *ea, const tt_tlog_entry_t *eb, const Tt__SimBegin *begin,
           char *out, size_t cap)
{
    const Tt__RecordBody *a = ea->body, *b = eb->body;
    if (a->kind_case != b->kind_case) {
        snprintf(out, cap, "%s in A, %s in B", s_kind(a), s_kind(b));
        return;
    }
    if (a->kind_case == TT__RECORD_BODY__KIND_STEP) {
        s_describe_step(a->step, b->step, begin, out, cap);
        return;
    }
    json_t *ja = tt_pbjson_from_message(&a->base), *jb = tt_pbjson_from_message(&b->base);
    json_t *ia = json_object_get(ja, s_kind(a)), *ib = json_object_get(jb, s_kind(b));
    const char *key = ia && ib ? s_first_diff_key(ia, ib) : NULL;
    if (key)
        snprintf(out, cap, "field %s differs", key);
    else
        snprintf(out, cap, "same content, different encoding");
    json_decref(ja);
    json_decref(jb);
}

static void
s_print_divergence(FILE *out, const s_args_t *a, const tt_tlog_entry_t *ea,
                   const tt_tlog_entry_t *eb, const Tt__SimBegin *begin)
{
    char what[512], ha[TT_SHA256_HEX_LEN + 1], hb[TT_SHA256_HEX_LEN + 1];
    s_describe(ea, eb, begin, what, sizeof what);
    fprintf(out, "first difference at record %" PRIu64 " (%s): %s\n", ea->index, s_kind(ea->body),
            what);
    fprintf(out, "  A %s: hash %s\n", a->pos[0], tt_hex(ea->hash, TT_SHA256_LEN, ha));
    fprintf(out, "  B %s: hash %s\n", a->pos[1], tt_hex(eb->hash, TT_SHA256_LEN, hb));
}

/* Same body bytes (what the chain hashes, without the previous hash)? */
static bool
s_same_body(const tt_tlog_entry_t *ea, const tt_tlog_entry_t *eb)
{
    size_t la, lb;
    uint8_t *ba = tt_wire_pack_body(ea->body, &la), *bb = tt_wire_pack_body(eb->body, &lb);
    bool same = la == lb && memcmp(ba, bb, la) == 0;
    free(ba);
    free(bb);
    return same;
}

/* After a divergence in the SimBegin (another scenario or config), every later
 * hash differs too: name the first step whose own content differs. */
static void
s_first_divergent_step(FILE *out, tt_tlog_t *la, tt_tlog_t *lb, uint64_t from,
                       const Tt__SimBegin *begin, FILE *err)
{
    uint64_t n = tt_tlog_count(la) < tt_tlog_count(lb) ? tt_tlog_count(la) : tt_tlog_count(lb);
    for (uint64_t i = from; i < n; i++) {
        tt_tlog_entry_t ea = {0}, eb = {0};
        bool found = false;
        if (s_read(la, i, &ea, err) == S_EXIT_OK && s_read(lb, i, &eb, err) == S_EXIT_OK &&
            !s_same_body(&ea, &eb)) {
            char what[512];
            s_describe(&ea, &eb, begin, what, sizeof what);
            fprintf(out, "first divergent content at record %" PRIu64 " (%s): %s\n", i,
                    s_kind(ea.body), what);
            found = true;
        }
        tt_tlog_entry_fini(&ea);
        tt_tlog_entry_fini(&eb);
        if (found)
            return;
    }
    fprintf(out, "every later record has the same content\n");
}

/* Walk both logs; 0 identical, 1 different, 2 unreadable. */
static int
s_diff_walk(const s_args_t *a, tt_tlog_t *la, tt_tlog_t *lb, FILE *out, FILE *err)
{
    uint64_t na = tt_tlog_count(la), nb = tt_tlog_count(lb), n = na < nb ? na : nb;
    tt_tlog_entry_t begin = {0}; /* A's SimBegin, for agent names */
    int rc = S_EXIT_OK;
    for (uint64_t i = 0; rc == S_EXIT_OK && i < n; i++) {
        tt_tlog_entry_t ea, eb = {0};
        if ((rc = s_read(la, i, &ea, err)) == S_EXIT_OK && (rc = s_read(lb, i, &eb, err)) == 0 &&
            memcmp(ea.hash, eb.hash, TT_SHA256_LEN) != 0) {
            const Tt__SimBegin *b = begin.body ? begin.body->begin
                                    : ea.body->kind_case == TT__RECORD_BODY__KIND_BEGIN
                                        ? ea.body->begin
                                        : NULL;
            s_print_divergence(out, a, &ea, &eb, b);
            if (ea.body->kind_case == TT__RECORD_BODY__KIND_BEGIN)
                s_first_divergent_step(out, la, lb, i + 1, b, err);
            rc = S_EXIT_FAILED;
        }
        if (!rc && !begin.body && ea.body->kind_case == TT__RECORD_BODY__KIND_BEGIN) {
            begin = ea; /* keep it: ownership moves */
            memset(&ea, 0, sizeof ea);
        }
        tt_tlog_entry_fini(&ea);
        tt_tlog_entry_fini(&eb);
    }
    tt_tlog_entry_fini(&begin);
    if (rc != S_EXIT_OK)
        return rc;
    char hex[TT_SHA256_HEX_LEN + 1];
    if (na == nb) {
        fprintf(out, "identical: %" PRIu64 " records, final hash %s\n", na,
                tt_hex(tt_tlog_last_hash(la), TT_SHA256_LEN, hex));
        return S_EXIT_OK;
    }
    fprintf(out, "%s has %" PRIu64 " more records; the first %" PRIu64 " are identical\n",
            na > nb ? a->pos[0] : a->pos[1], na > nb ? na - nb : nb - na, n);
    return S_EXIT_FAILED;
}

static int
s_cmd_diff(const s_args_t *a, FILE *out, FILE *err)
{
    tt_tlog_t *la = NULL, *lb = NULL;
    int rc = s_open(a->pos[0], &la, err);
    if (!rc)
        rc = s_open(a->pos[1], &lb, err);
    if (!rc)
        rc = s_diff_walk(a, la, lb, out, err);
    tt_tlog_close(&la);
    tt_tlog_close(&lb);
    return rc;
}

/* ------------------------------------------------------------------- verify */

static json_t *
s_verify_json(const char *path, const tt_tlog_verify_t *r, const char *verdict)
{
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:I, s:I, s:b, s:b}", "path", path, "verdict", verdict,
                  "records", (json_int_t)r->records, "bytes", (json_int_t)r->bytes, "valid_bytes",
                  (json_int_t)r->valid_bytes, "torn_tail", r->torn_tail, "corrupt", r->corrupt);
    if (r->torn_tail || r->corrupt) {
        json_object_set_new(o, "bad_index", json_integer((json_int_t)r->bad_index));
        json_object_set_new(o, "bad_offset", json_integer((json_int_t)r->bad_offset));
    }
    json_object_set_new(o, "message", json_string(r->message));
    json_object_set_new(o, "final_hash", s_hex_json(r->final_hash));
    return o;
}

static int
s_cmd_verify(const s_args_t *a, FILE *out, FILE *err)
{
    tt_tlog_verify_t r;
    const char *path = a->pos[0];
    tt_err_t rc = tt_tlog_verify(path, &r);
    if (rc != TT_OK) {
        s_file_error(err, path, r.message[0] ? r.message : NULL, rc);
        return S_EXIT_USAGE;
    }
    /* sound framing around no record at all is no run either: a run's log
     * starts with its SimBegin, and one killed before writing it is not one */
    bool empty = !r.corrupt && !r.torn_tail && r.records == 0;
    if (empty)
        snprintf(r.message, sizeof r.message, "%s",
                 r.bytes ? "a header and no record (no SimBegin)" : "empty file (no SimBegin)");
    const char *verdict = r.corrupt     ? "corrupt"
                          : r.torn_tail ? "torn_tail"
                          : empty       ? "empty"
                                        : "ok";
    const char *words = r.corrupt ? "corrupt" : r.torn_tail ? "torn tail" : "no run";
    char hex[TT_SHA256_HEX_LEN + 1];
    FILE *line = a->json ? err : out;
    if (!r.corrupt && !r.torn_tail && !empty)
        fprintf(line, "ok: %" PRIu64 " records, %" PRIu64 " bytes, final hash %s\n", r.records,
                r.bytes, tt_hex(r.final_hash, TT_SHA256_LEN, hex));
    else
        fprintf(line, "broken: %s: %s; %" PRIu64 " whole records end at byte %" PRIu64 "\n", words,
                r.message, r.records, r.valid_bytes);
    if (a->json) {
        json_t *o = s_verify_json(path, &r, verdict);
        s_print_json(out, o, false);
        json_decref(o);
    }
    return r.corrupt || r.torn_tail || empty ? S_EXIT_FAILED : S_EXIT_OK;
}

/* ------------------------------------------------------------------- report */

static int
s_cmd_report(const s_args_t *a, FILE *out, FILE *err)
{
    (void)out;
    return coord_logreport_run(a->pos, a->npos, a->html, a->extraction, err);
}

/* ------------------------------------------------------------ shared helpers */

int
coord_logcmd_open(const char *path, tt_tlog_t **log, FILE *err)
{
    return s_open(path, log, err);
}

int
coord_logcmd_read(tt_tlog_t *log, uint64_t index, tt_tlog_entry_t *entry, FILE *err)
{
    return s_read(log, index, entry, err);
}

int
coord_logcmd_diff(const char *a, const char *b, FILE *out, FILE *err)
{
    s_args_t pair = {.pos = {a, b}, .npos = 2};
    return s_cmd_diff(&pair, out, err);
}

static int
s_cmd_prompt(const s_args_t *a, FILE *out, FILE *err)
{
    return coord_logprompt_run(a->pos[0], a->agent, a->step, out, err);
}

/* ----------------------------------------------------------------- dispatch */

static const s_cmd_t s_cmds[] = {
    {"stats", 1, S_OPT_COMPACT,
     "usage: coordinator log stats LOG [--compact]\n"
     "Print one JSON object: steps, agents, actions (and by type), llm_calls (made by\n"
     "a model), llm_replayed, llm_cached, prompt/completion tokens of calls made,\n"
     "recorded_prompt_tokens, records, interventions, checkpoints, failed_agent_steps,\n"
     "complete, scenario, seed, provider, model, offline, wall_ms, final_hash.\n",
     s_cmd_stats},
    {"dump", 1, 0,
     "usage: coordinator log dump LOG\n"
     "Print one JSON object per record: index, offset, hash, prev_hash, kind, body,\n"
     "telemetry (null when absent). Bytes are lowercase hex.\n",
     s_cmd_dump},
    {"diff", 2, 0,
     "usage: coordinator log diff A B\n"
     "Compare two logs record by record. Exit 0 and print \"identical: N records, final\n"
     "hash H\" when equal; else exit 1 and name the first divergent record (for a step,\n"
     "the first agent that differs and in what), or say which log has more records.\n",
     s_cmd_diff},
    {"verify", 1, S_OPT_JSON,
     "usage: coordinator log verify LOG [--json]\n"
     "Check the header, every frame's CRC and the hash chain. Print a one-line verdict\n"
     "(with --json, the report as JSON on stdout and the verdict on stderr). Exit 0\n"
     "when sound, 1 when broken (torn tail or corruption), 2 when unreadable.\n",
     s_cmd_verify},
    {"report", 1, S_OPT_HTML | S_OPT_MANY,
     "usage: coordinator log report LOG [LOG...] --html OUT.html [--extraction FILE]\n"
     "Write the run as one self-contained HTML page: identity (scenario, seed, model,\n"
     "final hash, complete or not), the conversation step by step with filters and\n"
     "search, each agent's persona, actions and cognitive state, and charts of model\n"
     "calls, tokens, latency, retries and step wall time. The page fetches nothing.\n"
     "With extraction.json beside LOG (or --extraction FILE), the results: each\n"
     "field charted and sliceable by persona, with the quotes behind each answer;\n"
     "world-extraction.json beside it adds the world's answer.\n"
     "With several logs (up to 8), the runs side by side: results or action counts,\n"
     "and the first divergence as `log diff` names it. Only OUT.html is written\n"
     "(through OUT.html.tmp). Exit 1 when it cannot be written, 2 when a log or an\n"
     "extraction is unreadable.\n",
     s_cmd_report},
    {"prompt", 1, S_OPT_AGENT,
     "usage: coordinator log prompt LOG --agent NAME --step N\n"
     "Rebuild the agent from the log (its memory is a function of the log, rebuilt\n"
     "in a temporary directory) and print every model request it sent in step N --\n"
     "turn, follow-ups, consolidation, embeddings -- as the canonical JSON its digest\n"
     "covers, each followed by \"digest matches\" or a mismatch. No model is called.\n"
     "Exit 0 when every digest matches the log's, 1 on a mismatch or when the step\n"
     "cannot be rebuilt, 2 on bad usage or an unreadable log.\n",
     s_cmd_prompt},
};

int
coord_logcmd_run(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 2)
        return s_usage_error(err, NULL, "missing command", NULL);
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        fputs(s_usage, out);
        return S_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++) {
        const s_cmd_t *cmd = &s_cmds[i];
        if (strcmp(sub, cmd->name) != 0)
            continue;
        s_args_t a;
        int rc = s_parse(cmd, argc, argv, &a, err);
        if (rc != S_EXIT_OK)
            return rc;
        if (a.help) {
            fputs(cmd->usage, out);
            return S_EXIT_OK;
        }
        return cmd->run(&a, out, err);
    }
    return s_usage_error(err, NULL, "unknown command", sub);
}

int
coord_logcmd_main(int argc, char **argv)
{
    int rc = coord_logcmd_run(argc, argv, stdout, stderr);
    if (fflush(stdout) != 0 && rc == S_EXIT_OK)
        rc = S_EXIT_FAILED;
    return rc;
}
