/*  coord_extract -- ResultsExtractor over a run's log: one model call per agent
 *  (or one for the world), reduction rules, JSON and CSV out.
 *
 *  The request is a system message (our instructions) and a user message that
 *  is a JSON object: objective, situation, fields and their hints, the focus
 *  (the agent's name, or null for the world) and the interaction history as
 *  display lines. With fields, the answer's schema has exactly those
 *  properties (text, number, boolean or null), so strict providers enforce it;
 *  without, any JSON object is accepted (json_object mode).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coord_extract_impl.h"
#include "coord_cli.h"
#include "tt_file.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_mem.h"

#define S_EXIT_OK     0
#define S_EXIT_FAILED 1
#define S_EXIT_USAGE  2
#define S_WORLD_ROW   "world"

/* The files of one scope: a world extraction never replaces the per-agent one. */
static const char *
s_base(coord_extract_scope_t scope)
{
    return scope == COORD_EXTRACT_WORLD ? "world-extraction" : "extraction";
}

static const char s_system[] =
    "You extract results from a simulation of people. You get an objective, perhaps the "
    "situation the people were in, the fields wanted (with hints), whose results to extract "
    "(focus: a person's name, or null for everyone together) and the interaction history: "
    "what was perceived (\"SOURCE --> NAME: [STIMULUS] > content\") and what was done "
    "(\"NAME acts: [ACTION] > content\", or \"NAME --> TARGET: [TALK] > content\"). Answer "
    "with one JSON object that meets the objective; when fields are given, use exactly those "
    "keys. Base every value on the history alone and use null where it says nothing. Quote "
    "the person's own words when a field asks for what they said or think; answer yes/no "
    "questions with \"yes\" or \"no\".";

typedef struct {
    const coord_extract_spec_t *spec;
    coord_xrun_t *run;
    coord_xsettings_t set;
    coord_extract_scope_t scope;
    coord_fcalls_t *fc;
    json_t *spec_json;
    char *err;
    bool rules_only; /* no objective, only reduction rules: no model at all */
} s_ext_t;

/* ------------------------------------------------------------------ requests */

static tt_err_t
s_check(const json_t *value, const void *arg, json_t **normal, char **why)
{
    (void)arg;
    (void)normal;
    if (json_is_object(value))
        return TT_OK;
    *why = tt_strdup("expected one JSON object");
    return TT_ELLM;
}

static json_t *
s_schema(const json_t *fields)
{
    if (!fields)
        return NULL;
    json_t *props = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        json_object_set_new(
            props, json_string_value(f),
            json_pack("{s:[s, s, s, s]}", "type", "string", "number", "boolean", "null"));
    }
    return json_pack("{s:s, s:o, s:O, s:b}", "type", "object", "properties", props, "required",
                     fields, "additionalProperties", 0);
}

static tt_llm_request_t *
s_request(const s_ext_t *x, long i)
{
    char *history = coord_xrun_history(x->run, i, COORD_EXTRACT_HISTORY_MAX);
    const char *focus = i < 0 ? NULL : x->run->agents[i].name;
    json_t *user = json_pack("{s:s, s:s?, s:O?, s:O?, s:s?, s:s}", "objective", x->set.objective,
                             "situation", x->set.situation, "fields", x->set.fields, "fields_hints",
                             x->set.hints, "focus", focus, "interaction_history", history);
    char *text = tt_json_compact(user);
    json_t *msgs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", s_system,
                             "role", "user", "content", text);
    json_t *schema = s_schema(x->set.fields);
    tt_llm_request_t *req = tt_llm_request_chat("extraction", msgs, "extraction", schema);
    tt_llm_request_set_checker(req, s_check, NULL);
    tt_llm_request_set_temperature(req, 0.0);
    tt_llm_request_set_seed(req, x->run->seed ^ tt_fnv1a_str(focus ? focus : "", 0x65787472));
    json_decref(schema);
    json_decref(msgs);
    json_decref(user);
    free(text);
    free(history);
    return req;
}

/* ------------------------------------------------------------------ results */

/* Columns: name, the fields (or every key the answers used), the rules. */
static json_t *
s_columns(const s_ext_t *x, tt_llm_result_t **results, size_t n)
{
    json_t *cols = json_pack("[s]", "name");
    if (x->set.fields) {
        json_array_extend(cols, x->set.fields);
    } else {
        json_t *seen = json_object();
        for (size_t i = 0; i < n; i++) {
            const char *key;
            json_t *v;
            json_object_foreach(results[i] && !results[i]->err ? results[i]->parsed : NULL, key, v)
            {
                bool taken = !strcmp(key, "name") || json_object_get(seen, key);
                for (size_t r = 0; r < x->set.n_rules && !taken; r++)
                    taken = !strcmp(x->set.rules[r].name, key);
                if (!taken) {
                    json_object_set_new(seen, key, json_true());
                    json_array_append_new(cols, json_string(key));
                }
            }
        }
        json_decref(seen);
    }
    for (size_t r = 0; r < x->set.n_rules; r++)
        json_array_append_new(cols, json_string(x->set.rules[r].name));
    /* the agents' personas, so a table groups by age or occupation without a join */
    json_t *seen = json_object();
    for (size_t i = 0; x->scope != COORD_EXTRACT_WORLD && i < x->run->n_agents; i++) {
        const char *key;
        json_t *v;
        json_object_foreach(x->run->agents[i].persona, key, v)
        {
            if (!json_object_get(seen, key)) {
                json_object_set_new(seen, key, json_true());
                json_array_append_new(cols, json_string(key));
            }
        }
    }
    json_decref(seen);
    return cols;
}

/* How many of the columns are persona columns (they come last). */
static size_t
s_persona_count(const json_t *cols)
{
    size_t n = 0;
    for (size_t c = json_array_size(cols); c > 0; c--, n++)
        if (strncmp(json_string_value(json_array_get(cols, c - 1)), "persona.", 8))
            break;
    return n;
}

static json_t *
s_row(const s_ext_t *x, const json_t *cols, const char *name, const json_t *answer,
      const json_t *reduced, const json_t *persona)
{
    json_t *row = json_pack("[s]", name);
    size_t n_persona = s_persona_count(cols);
    size_t n_fields = json_array_size(cols) - 1 - x->set.n_rules - n_persona;
    for (size_t c = 1; c <= n_fields; c++) {
        json_t *v = json_object_get(answer, json_string_value(json_array_get(cols, c)));
        json_array_append_new(row, v ? json_incref(v) : json_null());
    }
    for (size_t r = 0; r < x->set.n_rules; r++)
        json_array_append(row, json_object_get(reduced, x->set.rules[r].name));
    for (size_t c = json_array_size(cols) - n_persona; c < json_array_size(cols); c++) {
        json_t *v = json_object_get(persona, json_string_value(json_array_get(cols, c)));
        json_array_append_new(row, v ? json_incref(v) : json_null());
    }
    return row;
}

static json_t *
s_document(const s_ext_t *x, tt_llm_result_t **results, size_t n, uint32_t *failed)
{
    json_t *cols = s_columns(x, results, n), *rows = json_array();
    json_t *agents = json_object(), *reductions = json_object(), *failures = json_array();
    json_t *world = json_null();
    for (size_t i = 0; i < n; i++) {
        bool w = x->scope == COORD_EXTRACT_WORLD;
        const char *name = w ? S_WORLD_ROW : x->run->agents[i].name;
        const tt_llm_result_t *r = results[i];
        json_t *answer = r && !r->err ? r->parsed : NULL;
        if (!answer && !x->rules_only) {
            (*failed)++;
            json_array_append_new(failures,
                                  json_pack("{s:s, s:s}", "name", name, "error",
                                            r && r->error_text ? r->error_text : "no answer"));
        }
        json_t *reduced = coord_xreduce(&x->set, x->run, w ? -1 : (long)i);
        if (w) {
            json_decref(world);
            world = answer ? json_incref(answer) : json_null();
        } else {
            json_object_set_new(agents, name, answer ? json_incref(answer) : json_null());
        }
        json_array_append_new(
            rows, s_row(x, cols, name, answer, reduced, w ? NULL : x->run->agents[i].persona));
        json_object_set_new(reductions, name, reduced);
    }
    tt_llm_t *llm = x->fc ? coord_fcalls_llm(x->fc) : NULL;
    coord_fcalls_stats_t st = {0};
    if (x->fc)
        coord_fcalls_stats(x->fc, &st);
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s, s:s, s:I}, s:s, s:s, s:b, s:s?, s:s?, s:O?, s:s, s:o, s:o, s:o, "
        "s:{s:o, s:o}, s:o}",
        "troupe_version", TT_VERSION, "run", "scenario", x->run->scenario_name, "log", x->run->path,
        "final_hash", x->run->final_hash, "steps", (json_int_t)x->run->steps, "provider",
        llm ? coord_fcalls_provider(x->fc) : "none", "model", llm ? tt_llm_model(llm) : "none",
        "offline", llm && tt_llm_is_offline(llm), "objective", x->set.objective, "situation",
        x->set.situation, "fields", x->set.fields, "scope",
        x->scope == COORD_EXTRACT_WORLD ? "world" : "per_agent", "agent_extractions", agents,
        "world_extraction", world, "reductions", reductions, "table", "columns", cols, "rows", rows,
        "failures", failures);
    json_object_set_new(doc, "llm",
                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "calls", (json_int_t)st.calls,
                                  "replayed", (json_int_t)st.replayed, "failed",
                                  (json_int_t)st.failed, "prompt_tokens",
                                  (json_int_t)st.prompt_tokens, "completion_tokens",
                                  (json_int_t)st.completion_tokens));
    return doc;
}

static tt_err_t
s_write(s_ext_t *x, const json_t *doc)
{
    const json_t *table = json_object_get(doc, "table");
    char *json_text = json_dumps(doc, JSON_INDENT(2));
    char *body = tt_asprintf("%s\n", json_text);
    char *csv =
        coord_extract_csv(json_object_get(table, "columns"), json_object_get(table, "rows"));
    char *jpath = tt_asprintf("%s/%s.json", x->spec->run_dir, s_base(x->scope));
    char *cpath = tt_asprintf("%s/%s.csv", x->spec->run_dir, s_base(x->scope));
    tt_err_t err = tt_write_file(jpath, body, strlen(body), 0644);
    if (err)
        x->err = tt_asprintf("cannot write %s: %s", jpath, strerror(errno));
    else if ((err = tt_write_file(cpath, csv, strlen(csv), 0644)) != TT_OK)
        x->err = tt_asprintf("cannot write %s: %s", cpath, strerror(errno));
    free(jpath);
    free(cpath);
    free(csv);
    free(body);
    free(json_text);
    return err;
}

/* ------------------------------------------------------------------ the pipeline */

static tt_err_t
s_settings(s_ext_t *x)
{
    const coord_extract_spec_t *spec = x->spec;
    char *name = tt_asprintf("%s (scenario)", x->run->path);
    tt_err_t err = coord_xsettings_load(name, x->run->scenario_json, &x->set, &x->err);
    free(name);
    if (!err && spec->objective) {
        free(x->set.objective);
        x->set.objective = tt_strdup(spec->objective);
    }
    if (!err && spec->fields)
        err = coord_xsettings_set_fields(&x->set, spec->fields, &x->err);
    if (!err && (!x->set.objective || !*x->set.objective)) {
        /* reduction rules count and pick without a model: they need no objective */
        x->rules_only = x->set.n_rules > 0;
        if (!x->rules_only) {
            x->err = tt_strdup("--objective TEXT is required (the scenario has no "
                               "extract.objective and no reduction rules)");
            err = TT_EINVAL;
        }
    }
    x->scope = spec->scope ? spec->scope : x->set.scope ? x->set.scope : COORD_EXTRACT_PER_AGENT;
    return err;
}

/* Reduction rules alone: rows from the log, no model, no .tlog of answers. */
static tt_err_t
s_reduce_only(s_ext_t *x, coord_extract_report_t *rep)
{
    size_t n = x->scope == COORD_EXTRACT_WORLD ? 1 : x->run->n_agents;
    tt_llm_result_t **none = tt_calloc(n + 1, sizeof *none);
    json_t *doc = s_document(x, none, n, &rep->failed);
    rep->rows = (uint32_t)n;
    tt_err_t err = s_write(x, doc);
    json_decref(doc);
    free(none);
    return err;
}

static tt_err_t
s_run(s_ext_t *x, const tt_config_t *cfg, coord_extract_report_t *rep)
{
    const coord_extract_spec_t *spec = x->spec;
    tt_err_t err = coord_xrun_load(spec->run_dir, &x->run, &x->err);
    if (err)
        return TT_EINVAL;
    if ((err = s_settings(x)) != TT_OK)
        return err;
    x->spec_json = json_pack("{s:s, s:s, s:s?, s:s?, s:O?, s:s}", "run", spec->run_dir,
                             "final_hash", x->run->final_hash, "objective", x->set.objective,
                             "situation", x->set.situation, "fields", x->set.fields, "scope",
                             x->scope == COORD_EXTRACT_WORLD ? "world" : "per_agent");
    if (x->rules_only)
        return s_reduce_only(x, rep);
    char *tlog_name = tt_asprintf("%s.tlog", s_base(x->scope));
    coord_fcalls_opts_t fo = {.kind = "extraction",
                              .spec = x->spec_json,
                              .seed = x->run->seed,
                              .replay_path = spec->replay_path,
                              .replay_name = tlog_name,
                              .concurrency = spec->concurrency,
                              .reasks = -1};
    err = coord_fcalls_open(cfg, &fo, &x->fc, &x->err);
    if (err) {
        free(tlog_name);
        return err == TT_ENOTFOUND || err == TT_ECORRUPT ? TT_EINVAL : err;
    }
    char *log_path = tt_asprintf("%s/%s", spec->run_dir, tlog_name);
    free(tlog_name);
    err = coord_fcalls_begin(x->fc, log_path, &x->err);
    free(log_path);
    if (err)
        return err;
    size_t n = x->scope == COORD_EXTRACT_WORLD ? 1 : x->run->n_agents;
    tt_llm_request_t **reqs = tt_calloc(n + 1, sizeof *reqs);
    char **keys = tt_calloc(n + 1, sizeof *keys);
    tt_llm_result_t **results = tt_calloc(n + 1, sizeof *results);
    for (size_t i = 0; i < n; i++) {
        long who = x->scope == COORD_EXTRACT_WORLD ? -1 : (long)i;
        reqs[i] = s_request(x, who);
        keys[i] = tt_asprintf("extraction/%s", who < 0 ? S_WORLD_ROW : x->run->agents[i].name);
    }
    err = coord_fcalls_run(x->fc, reqs, (const char *const *)keys, n, results);
    if (err) {
        x->err = tt_asprintf("extracting: %s", tt_strerror(err));
    } else {
        json_t *doc = s_document(x, results, n, &rep->failed);
        rep->rows = (uint32_t)n;
        err = s_write(x, doc);
        json_decref(doc);
    }
    coord_fcalls_stats(x->fc, &rep->llm);
    for (size_t i = 0; i < n; i++) {
        tt_llm_result_destroy(&results[i]);
        free(keys[i]);
    }
    free(reqs);
    free(keys);
    free(results);
    return !err && rep->failed ? TT_EAGENT : err;
}

tt_err_t
coord_extract_run(const coord_extract_spec_t *spec, const tt_config_t *cfg,
                  coord_extract_report_t *report, char **errmsg)
{
    *errmsg = NULL;
    coord_extract_report_t rep = {0};
    s_ext_t x = {.spec = spec};
    tt_err_t err = s_run(&x, cfg, &rep);
    rep.base = s_base(x.scope);
    if (err && err != TT_EAGENT)
        *errmsg = x.err ? x.err : tt_strdup(tt_strerror(err));
    else
        free(x.err);
    coord_fcalls_close(&x.fc);
    coord_xsettings_fini(&x.set);
    coord_xrun_destroy(&x.run);
    json_decref(x.spec_json);
    if (report)
        *report = rep;
    return err;
}

/* ------------------------------------------------------------------ CLI */

static void
s_usage(FILE *out)
{
    fprintf(out,
            "Usage: coordinator extract DIR [--objective TEXT] [--fields a,b,c]\n"
            "                           [--per-agent | --world] [options]\n"
            "\n"
            "Extracts results from the run in DIR (TinyTroupe's ResultsExtractor and\n"
            "ResultsReducer): for each agent, or once for the whole world, its interaction\n"
            "history from DIR/sim.tlog goes to the model with the objective; the scenario's\n"
            "\"extract\" section may give the objective, fields and reduction rules. Writes\n"
            "DIR/extraction.json, DIR/extraction.csv (one row per agent, one column per field\n"
            "and rule) and DIR/extraction.tlog (the model's answers), replacing earlier ones;\n"
            "with --world, DIR/world-extraction.json, .csv and .tlog instead, so the\n"
            "per-agent results stay.\n"
            "\n"
            "Options:\n"
            "  --objective TEXT       what to extract (default: the scenario's extract.objective;\n"
            "                         with neither, only the reduction rules run: no model)\n"
            "  --fields a,b,c         the JSON fields wanted (default: the scenario's, else free)\n"
            "  --per-agent, --world   one call per agent (default) or one for everyone\n"
            "  --llm PROVIDER         offline, openai, azure or ollama\n"
            "  --model NAME           the model (default: TROUPE_MODEL, then config.ini MODEL)\n"
            "  --config FILE          config.ini to read (default ./config.ini if present)\n"
            "  --concurrency K        model calls in flight\n"
            "  --replay OLD           an earlier run DIR or its (world-)extraction.tlog: serve\n"
            "                         recorded\n"
            "                         answers from it, call the model for the rest\n"
            "  --quiet                no summary line\n"
            "  --log-level LEVEL      error, warn, info, debug\n"
            "  --help\n"
            "\n"
            "Exit status: 0 success, 1 some extraction failed (listed in the .json and\n"
            "on stderr), 2 bad usage or bad input.\n");
}

/* bad usage: says so, exit 2 */
#define s_bad(...) coord_cli_bad("extract", __VA_ARGS__)

typedef struct {
    coord_extract_spec_t spec;
    coord_fcalls_cli_t shared;
} s_opts_t;

static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option options[] = {{"objective", required_argument, NULL, 'O'},
                                            {"fields", required_argument, NULL, 'F'},
                                            {"per-agent", no_argument, NULL, 'a'},
                                            {"world", no_argument, NULL, 'w'},
                                            COORD_FCALLS_CLI_OPTIONS,
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        const char *why;
        int taken = coord_fcalls_cli_take(&o->shared, ch, optarg, &why);
        if (taken < 0)
            return s_bad("%s, got \"%s\"", why, optarg);
        if (taken)
            continue;
        switch (ch) {
        case 'O':
            if (!*optarg)
                return s_bad("--objective: expected non-empty text");
            o->spec.objective = optarg;
            break;
        case 'F':
            o->spec.fields = optarg;
            break;
        case 'a':
        case 'w':
            if (o->spec.scope)
                return s_bad("give only one of --per-agent and --world");
            o->spec.scope = ch == 'w' ? COORD_EXTRACT_WORLD : COORD_EXTRACT_PER_AGENT;
            break;
        case 'h':
            s_usage(stdout);
            return -1;
        default:
            return s_bad("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return s_bad("the run directory DIR is required");
    if (optind + 1 < argc)
        return s_bad("one run directory only (unexpected \"%s\")", argv[optind + 1]);
    o->spec.run_dir = argv[optind];
    o->spec.concurrency = o->shared.concurrency;
    o->spec.replay_path = o->shared.replay_path;
    o->spec.quiet = o->shared.quiet;
    return S_EXIT_OK;
}

int
coord_extract_main(int argc, char **argv)
{
    s_opts_t o = {0};
    int rc = s_parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? S_EXIT_OK : rc;
    tt_config_t cfg;
    if (!coord_fcalls_cli_config("extract", &o.shared, &cfg))
        return S_EXIT_USAGE;
    char *err = NULL;
    coord_extract_report_t rep;
    tt_err_t e = coord_extract_run(&o.spec, &cfg, &rep, &err);
    if (e == TT_OK || e == TT_EAGENT) {
        if (e == TT_EAGENT)
            fprintf(stderr,
                    "coordinator extract: %u of %u extractions failed (see "
                    "%s/%s.json)\n",
                    rep.failed, rep.rows, o.spec.run_dir, rep.base);
        if (!o.spec.quiet)
            fprintf(stderr,
                    "extract: %u row(s) in %s/%s.json and .csv%s; %llu model "
                    "calls, %llu replayed\n",
                    rep.rows, o.spec.run_dir, rep.base,
                    tt_config_is_offline(&cfg) ? " (offline model: a scripted stand-in, NOT an LLM)"
                                               : "",
                    (unsigned long long)rep.llm.calls, (unsigned long long)rep.llm.replayed);
        if (o.spec.replay_path && rep.llm.replayed == 0)
            fprintf(stderr,
                    "coordinator extract: note: no recorded answer of %s matched (another "
                    "objective, fields or model?)\n",
                    o.spec.replay_path);
        rc = e == TT_OK ? S_EXIT_OK : S_EXIT_FAILED;
    } else {
        fprintf(stderr, "coordinator extract: %s\n", err);
        rc = e == TT_EINVAL ? S_EXIT_USAGE : S_EXIT_FAILED;
    }
    free(err);
    tt_config_fini(&cfg);
    return rc;
}
