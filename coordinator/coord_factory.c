/*  coord_factory -- the generation pipeline: dimensions, plan, people, names,
 *  files.
 *
 *  Determinism: every request is a function of the spec, the plan and (for a
 *  name asked again) the names taken in earlier waves, never of timing. People
 *  are settled in index order after each wave, so which duplicate keeps a name
 *  does not depend on which answer came first. With the same answers -- from
 *  the model or from --replay -- the same files come out byte for byte.
 *
 *  Waves: wave 0 asks for everyone at once (K in flight). A person whose name
 *  (compared as its file name, case-folded) is already taken by an earlier
 *  person is asked again in wave 1 with the taken names listed, then wave 2;
 *  after COORD_FACTORY_NAME_WAVES the name gets the smallest free " 2", " 3"...
 */
#define TT_LOG_MODULE "factory"
#include "coord_factory.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coord_factory_impl.h"
#include "tt_file.h"
#include "tt_hash.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_persona.h"
#include "tt_time.h"

#define S_SALT_DIMS   1u
#define S_SALT_PLAN   2u
#define S_SALT_PERSON 1000u

typedef struct {
    uint32_t row;       /* plan row */
    json_t *persona;    /* accepted (or, while pending, the one whose name was taken) */
    char *error;        /* why no persona could be made */
    char *renamed_from; /* last-resort renaming */
    char *file;         /* NAME.agent.json */
    uint32_t waves;     /* times asked again for another name */
    bool pending;       /* name taken: ask again */
} s_person_t;

typedef struct {
    const coord_factory_spec_t *spec;
    coord_fcalls_t *fc;
    char *context;
    json_t *dims;
    json_t *dims_description; /* the model's restatement, or NULL */
    json_t *rows;
    uint32_t *flat;
    s_person_t *people;
    zhash_t *taken; /* folded file name -> person index + 1 */
    json_t *spec_json;
    int age_lo, age_hi; /* bounds the context states; age_lo < 0: none */
    char *err;
} s_gen_t;

static uint64_t
s_seed(uint64_t seed, uint64_t salt)
{
    uint8_t bytes[16];
    for (int i = 0; i < 8; i++) {
        bytes[i] = (uint8_t)(seed >> (8 * i));
        bytes[8 + i] = (uint8_t)(salt >> (8 * i));
    }
    return tt_fnv1a(bytes, sizeof bytes, 0x74726f757065ull) >> 1; /* fits a JSON integer */
}

/* ------------------------------------------------------------------ the scenario section */

tt_err_t
coord_factory_section_parse(const tt_jdoc_t *doc, const char *path, const char *base_dir,
                            coord_factory_section_t *out, char **errmsg)
{
    memset(out, 0, sizeof *out);
    *errmsg = NULL;
    const json_t *f = tt_json_at(tt_jdoc_root(doc), path);
    char sub[256];
#define S_AT(key) (snprintf(sub, sizeof sub, "%s.%s", path, key), sub)
    const char *key;
    json_t *v;
    if (!json_is_object(f)) {
        *errmsg = tt_jdoc_errorf(doc, path,
                                 "expected {\"count\": N, \"context\": TEXT and/or "
                                 "\"population\": FILE, \"describe\": TEXT, \"seed\": S}");
        return TT_EINVAL;
    }
    json_object_foreach((json_t *)f, key, v)
    {
        if (strcmp(key, "count") && strcmp(key, "context") && strcmp(key, "population") &&
            strcmp(key, "describe") && strcmp(key, "seed")) {
            *errmsg = tt_jdoc_errorf(
                doc, S_AT(key), "unknown key \"%s\" (count, context, population, describe, seed)",
                key);
            return TT_EINVAL;
        }
        if (strcmp(key, "count") && strcmp(key, "seed") &&
            (!json_is_string(v) || !*json_string_value(v))) {
            *errmsg = tt_jdoc_errorf(doc, S_AT(key), "expected non-empty text");
            return TT_EINVAL;
        }
    }
    json_t *count = json_object_get(f, "count"), *ctx = json_object_get(f, "context");
    json_t *pop = json_object_get(f, "population"), *seed = json_object_get(f, "seed");
    json_t *describe = json_object_get(f, "describe");
    if (!json_is_integer(count) || json_integer_value(count) < 1 ||
        json_integer_value(count) > COORD_FACTORY_MAX_COUNT)
        *errmsg =
            tt_jdoc_errorf(doc, count ? S_AT("count") : path,
                           "expected a whole number of people, 1 to %d", COORD_FACTORY_MAX_COUNT);
    else if (!ctx && !pop)
        *errmsg = tt_jdoc_errorf(doc, path, "give \"context\", \"population\" or both");
    else if (seed && (!json_is_integer(seed) || json_integer_value(seed) < 0))
        *errmsg = tt_jdoc_errorf(doc, S_AT("seed"), "expected a non-negative integer");
#undef S_AT
    if (*errmsg)
        return TT_EINVAL;
    out->count = (uint32_t)json_integer_value(count);
    out->context = ctx ? tt_strdup(json_string_value(ctx)) : NULL;
    out->describe = describe ? tt_strdup(json_string_value(describe)) : NULL;
    if (pop) {
        const char *p = json_string_value(pop);
        out->population_path =
            p[0] == '/' || !base_dir ? tt_strdup(p) : tt_asprintf("%s/%s", base_dir, p);
    }
    out->has_seed = seed != NULL;
    out->seed = seed ? (uint64_t)json_integer_value(seed) : COORD_FACTORY_DEFAULT_SEED;
    return TT_OK;
}

void
coord_factory_section_fini(coord_factory_section_t *section)
{
    free(section->context);
    free(section->population_path);
    free(section->describe);
    memset(section, 0, sizeof *section);
}

/* ------------------------------------------------------------------ output directory */

static bool
s_ours(const char *name)
{
    size_t n = strlen(name);
    return (n > 11 && !strcmp(name + n - 11, ".agent.json")) ||
           (n > 15 && !strcmp(name + n - 15, ".agent.json.tmp")) || !strcmp(name, "factory.json") ||
           !strcmp(name, "factory.json.tmp") || !strcmp(name, "factory.tlog");
}

/* Create dir; refuse a non-empty one unless force, then remove our old files. */
static tt_err_t
s_prepare_dir(const char *dir, bool force, char **errmsg)
{
    if (tt_mkdirs(dir, 0755)) {
        *errmsg = tt_asprintf("cannot create %s: %s", dir, strerror(errno));
        return TT_EIO;
    }
    DIR *d = opendir(dir);
    if (!d) {
        *errmsg = tt_asprintf("cannot read %s: %s", dir, strerror(errno));
        return TT_EIO;
    }
    tt_err_t err = TT_OK;
    struct dirent *e;
    while ((e = readdir(d)) && !err) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (!force) {
            *errmsg = tt_asprintf("%s is not empty; use --force to replace its factory output, or "
                                  "another --out",
                                  dir);
            err = TT_EEXIST;
        } else if (s_ours(e->d_name)) {
            char *path = tt_asprintf("%s/%s", dir, e->d_name);
            if (unlink(path) != 0) {
                *errmsg = tt_asprintf("cannot remove %s: %s", path, strerror(errno));
                err = TT_EIO;
            }
            free(path);
        }
    }
    closedir(d);
    return err;
}

/* Is dir a finished generation of this very spec? (for spec->reuse) */
static bool
s_reusable(const char *dir, const json_t *spec_json)
{
    char *path = tt_asprintf("%s/factory.json", dir);
    json_t *old = json_load_file(path, 0, NULL);
    free(path);
    bool ok = old && json_equal(json_object_get(old, "spec"), (json_t *)spec_json) &&
              json_integer_value(json_object_get(old, "failed")) == 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(old, "people"), i, p)
    {
        char *file = tt_asprintf("%s/%s", dir, tt_json_str(p, "file", ""));
        ok = ok && access(file, R_OK) == 0;
        free(file);
    }
    json_decref(old);
    return ok;
}

/* ------------------------------------------------------------------ dimensions and plan */

/* One call; its parsed answer (caller owns) or NULL with g->err set. */
static json_t *
s_call_one(s_gen_t *g, tt_llm_request_t *req, const char *key, const char *what)
{
    tt_llm_result_t *r = NULL;
    const char *keys[1] = {key};
    tt_err_t err = coord_fcalls_run(g->fc, &req, keys, 1, &r);
    json_t *parsed = NULL;
    if (err)
        g->err = tt_asprintf("%s: %s", what, tt_strerror(err));
    else if (r->err)
        g->err = tt_asprintf("the model gave no usable %s: %s", what,
                             r->error_text ? r->error_text : tt_strerror(r->err));
    else
        parsed = json_incref(r->parsed);
    tt_llm_result_destroy(&r);
    return parsed;
}

static tt_err_t
s_plan(s_gen_t *g)
{
    const coord_factory_spec_t *spec = g->spec;
    if (!g->dims) {
        json_t *ans = s_call_one(
            g, coord_factory_dims_request(g->context, spec->count, s_seed(spec->seed, S_SALT_DIMS)),
            "dimensions", "dimensions");
        if (!ans)
            return TT_ELLM;
        g->dims = json_incref(json_object_get(ans, "dimensions"));
        g->dims_description = json_incref(json_object_get(ans, "sampling_space_description"));
        json_decref(ans);
    }
    char *why = NULL;
    if (g->age_lo >= 0 && !coord_factory_ages_bound(g->dims, g->age_lo, g->age_hi, &why)) {
        g->err = tt_asprintf("ages %d to %d: %s", g->age_lo, g->age_hi, why);
        free(why);
        return TT_ELLM;
    }
    json_t *ans = s_call_one(g,
                             coord_factory_plan_request(g->context, spec->count, g->dims,
                                                        s_seed(spec->seed, S_SALT_PLAN)),
                             "plan", "sampling plan");
    if (!ans)
        return TT_ELLM;
    g->rows = json_incref(json_object_get(ans, "sample_plan"));
    json_decref(ans);
    coord_factory_plan_fix(g->rows, g->dims, spec->count);
    uint32_t n = 0;
    g->flat = coord_factory_plan_flatten(g->rows, spec->seed, &n);
    TT_ASSERT(n == spec->count);
    return TT_OK;
}

/* ------------------------------------------------------------------ names */

/* The uniqueness key of a name: its file name, ASCII case-folded. */
static char *
s_fold(const char *name)
{
    char *d = tt_persona_dirname(name);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

static bool
s_shares_word(const char *a, const char *b)
{
    for (const char *p = a; *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n > 1) {
            for (const char *q = b; *q;) {
                while (*q == ' ')
                    q++;
                size_t m = strcspn(q, " ");
                if (m == n && !strncasecmp(p, q, n))
                    return true;
                q += m;
            }
        }
        p += n;
    }
    return false;
}

/* Names to avoid when asking person k again: those sharing a word with its
 * rejected name first (the likeliest clashes), then the others, capped. */
static json_t *
s_taken_hint(const s_gen_t *g, uint32_t k)
{
    const char *rejected = tt_json_str(g->people[k].persona, "name", "");
    json_t *near = json_array(), *far = json_array();
    for (uint32_t i = 0; i < g->spec->count; i++) {
        const s_person_t *p = &g->people[i];
        if (!p->persona || p->pending)
            continue;
        const char *name = tt_json_str(p->persona, "name", "");
        json_array_append_new(s_shares_word(name, rejected) ? near : far, json_string(name));
    }
    json_array_extend(near, far);
    json_decref(far);
    while (json_array_size(near) > COORD_FACTORY_TAKEN_HINT_MAX)
        json_array_remove(near, json_array_size(near) - 1);
    return near;
}

/* Settle person k's answer of this wave: take its name, or mark it pending. */
static void
s_settle(s_gen_t *g, uint32_t k, tt_llm_result_t *r)
{
    s_person_t *p = &g->people[k];
    if (r && r->err == TT_OK) {
        json_decref(p->persona);
        p->persona = json_incref(r->parsed);
    } else if (!p->persona) {
        free(p->error);
        p->error =
            tt_strdup(r ? (r->error_text ? r->error_text : tt_strerror(r->err)) : "interrupted");
        p->pending = false;
        return;
    }
    char *key = s_fold(tt_json_str(p->persona, "name", ""));
    p->pending = zhash_lookup(g->taken, key) != NULL;
    if (!p->pending)
        zhash_insert(g->taken, key, (void *)(uintptr_t)(k + 1));
    free(key);
}

static tt_err_t
s_wave(s_gen_t *g, uint32_t wave, uint32_t *todo, uint32_t n)
{
    const coord_factory_spec_t *spec = g->spec;
    tt_llm_request_t **reqs = tt_calloc(n + 1, sizeof *reqs);
    char **keys = tt_calloc(n + 1, sizeof *keys);
    tt_llm_result_t **results = tt_calloc(n + 1, sizeof *results);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t k = todo[j];
        json_t *taken = wave ? s_taken_hint(g, k) : NULL;
        uint64_t seed = s_seed(spec->seed, S_SALT_PERSON + k + (uint64_t)wave * 0x100000000ull);
        reqs[j] = coord_factory_person_request(g->context, spec->describe, k, spec->count,
                                               json_array_get(g->rows, g->people[k].row), taken,
                                               wave, seed);
        keys[j] = wave ? tt_asprintf("person/%u/wave%u", k, wave) : tt_asprintf("person/%u", k);
        json_decref(taken);
    }
    tt_err_t err = coord_fcalls_run(g->fc, reqs, (const char *const *)keys, n, results);
    for (uint32_t j = 0; j < n && !err; j++) {
        if (wave)
            g->people[todo[j]].waves++;
        s_settle(g, todo[j], results[j]);
    }
    for (uint32_t j = 0; j < n; j++) {
        tt_llm_result_destroy(&results[j]);
        free(keys[j]);
    }
    free(reqs);
    free(keys);
    free(results);
    if (err)
        g->err = tt_asprintf("generating people: %s", tt_strerror(err));
    return err;
}

/* Last resort: "Name 2", "Name 3", ... the smallest that is free. */
static void
s_rename(s_gen_t *g, uint32_t k)
{
    s_person_t *p = &g->people[k];
    const char *old = tt_json_str(p->persona, "name", "");
    size_t keep = tt_utf8_cut(old, strlen(old), TT_NAME_MAX - 8);
    for (uint32_t i = 2;; i++) {
        char *name = tt_asprintf("%.*s %u", (int)keep, old, i);
        char *key = s_fold(name);
        if (!zhash_lookup(g->taken, key)) {
            zhash_insert(g->taken, key, (void *)(uintptr_t)(k + 1));
            p->renamed_from = tt_strdup(old);
            json_t *copy = json_deep_copy(p->persona);
            json_object_set_new(copy, "name", json_string(name));
            json_decref(p->persona);
            p->persona = copy;
            p->pending = false;
            free(key);
            free(name);
            return;
        }
        free(key);
        free(name);
    }
}

static tt_err_t
s_people(s_gen_t *g)
{
    uint32_t count = g->spec->count;
    g->people = tt_calloc(count, sizeof *g->people);
    uint32_t *todo = tt_calloc(count, sizeof *todo);
    for (uint32_t k = 0; k < count; k++) {
        g->people[k].row = g->flat[k];
        todo[k] = k;
    }
    tt_err_t err = s_wave(g, 0, todo, count);
    for (uint32_t wave = 1; !err && wave <= COORD_FACTORY_NAME_WAVES; wave++) {
        uint32_t n = 0;
        for (uint32_t k = 0; k < count; k++)
            if (g->people[k].pending)
                todo[n++] = k;
        if (!n)
            break;
        TT_LOG_INFO("%u name(s) already taken: asking again (wave %u)", n, wave);
        err = s_wave(g, wave, todo, n);
    }
    for (uint32_t k = 0; !err && k < count; k++)
        if (g->people[k].pending)
            s_rename(g, k);
    free(todo);
    return err;
}

/* ------------------------------------------------------------------ output */

static tt_err_t
s_write_people(s_gen_t *g, coord_factory_report_t *rep)
{
    for (uint32_t k = 0; k < g->spec->count; k++) {
        s_person_t *p = &g->people[k];
        if (!p->persona) {
            rep->failed++;
            continue;
        }
        char *base = tt_persona_dirname(tt_json_str(p->persona, "name", ""));
        p->file = tt_asprintf("%s.agent.json", base);
        free(base);
        json_t *spec = json_pack("{s:s, s:O}", "type", "TinyPerson", "persona", p->persona);
        char *text = json_dumps(spec, JSON_INDENT(2));
        char *body = tt_asprintf("%s\n", text);
        char *path = tt_asprintf("%s/%s", g->spec->out_dir, p->file);
        tt_err_t err = tt_write_file(path, body, strlen(body), 0644);
        if (err)
            g->err = tt_asprintf("cannot write %s: %s", path, strerror(errno));
        free(path);
        free(body);
        free(text);
        json_decref(spec);
        if (err)
            return err;
        rep->written++;
        rep->renamed += p->renamed_from != NULL;
    }
    return TT_OK;
}

static json_t *
s_people_json(const s_gen_t *g, json_t *failures)
{
    json_t *people = json_array();
    for (uint32_t k = 0; k < g->spec->count; k++) {
        const s_person_t *p = &g->people[k];
        if (!p->persona) {
            json_array_append_new(failures, json_pack("{s:i, s:i, s:s}", "index", (int)k,
                                                      "plan_row", (int)p->row, "error", p->error));
            continue;
        }
        json_t *o = json_pack("{s:i, s:s, s:s, s:i, s:i}", "index", (int)k, "name",
                              tt_json_str(p->persona, "name", ""), "file", p->file, "plan_row",
                              (int)p->row, "name_waves", (int)p->waves);
        if (p->renamed_from)
            json_object_set_new(o, "renamed_from", json_string(p->renamed_from));
        json_array_append_new(people, o);
    }
    return people;
}

static tt_err_t
s_write_summary(s_gen_t *g, const coord_factory_report_t *rep)
{
    json_t *failures = json_array();
    json_t *people = s_people_json(g, failures);
    tt_llm_t *llm = coord_fcalls_llm(g->fc);
    json_t *o = json_pack(
        "{s:s, s:O, s:s, s:s, s:b, s:O, s:O, s:s, s:O, s:i, s:i, s:i, s:o, s:o}", "troupe_version",
        TT_VERSION, "spec", g->spec_json, "provider", coord_fcalls_provider(g->fc), "model",
        tt_llm_model(llm), "offline", tt_llm_is_offline(llm), "sampling_space_description",
        g->dims_description ? g->dims_description : json_null(), "dimensions", g->dims, "plan_rule",
        "raking to the declared shares, then largest remainder: N among the values of the "
        "first weighted dimension, then each value's count among its rows",
        "plan", g->rows, "requested", (int)g->spec->count, "written", (int)rep->written, "failed",
        (int)rep->failed, "people", people, "failures", failures);
    json_object_set_new(
        o, "llm",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:i}", "calls", (json_int_t)rep->llm.calls,
                  "replayed", (json_int_t)rep->llm.replayed, "failed", (json_int_t)rep->llm.failed,
                  "attempts", (json_int_t)rep->llm.attempts, "prompt_tokens",
                  (json_int_t)rep->llm.prompt_tokens, "completion_tokens",
                  (json_int_t)rep->llm.completion_tokens, "concurrency",
                  (int)rep->llm.concurrency));
    char *text = json_dumps(o, JSON_INDENT(2));
    char *body = tt_asprintf("%s\n", text);
    char *path = tt_asprintf("%s/factory.json", g->spec->out_dir);
    tt_err_t err = tt_write_file(path, body, strlen(body), 0644);
    if (err)
        g->err = tt_asprintf("cannot write %s: %s", path, strerror(errno));
    free(path);
    free(body);
    free(text);
    json_decref(o);
    return err;
}

static void
s_report_failures(const s_gen_t *g)
{
    for (uint32_t k = 0; k < g->spec->count; k++) {
        const s_person_t *p = &g->people[k];
        if (!p->persona)
            fprintf(stderr, "factory: person %u (plan row %u) could not be generated: %s\n", k,
                    p->row, p->error ? p->error : "no answer");
    }
}

/* ------------------------------------------------------------------ the pipeline */

static tt_err_t
s_check_spec(s_gen_t *g)
{
    const coord_factory_spec_t *s = g->spec;
    if (s->count < 1 || s->count > COORD_FACTORY_MAX_COUNT)
        g->err = tt_asprintf("--count: expected 1..%d, got %u", COORD_FACTORY_MAX_COUNT, s->count);
    else if (!s->out_dir || !*s->out_dir)
        g->err = tt_strdup("--out DIR is required");
    else if (!s->context && !s->population_path)
        g->err = tt_strdup("give --context TEXT, --population FILE or both");
    else if (s->context && !*s->context)
        g->err = tt_strdup("--context: expected non-empty text");
    else if (s->describe && !*s->describe)
        g->err = tt_strdup("--describe: expected non-empty text");
    if (g->err)
        return TT_EINVAL;
    g->spec_json = json_pack("{s:i, s:I}", "count", (int)s->count, "seed", (json_int_t)s->seed);
    if (s->context)
        json_object_set_new(g->spec_json, "context", json_string(s->context));
    if (s->describe)
        json_object_set_new(g->spec_json, "describe", json_string(s->describe));
    g->age_lo = -1;
    if (s->context && !coord_factory_ages_from_text(s->context, &g->age_lo, &g->age_hi))
        g->age_lo = -1;
    if (!s->population_path) {
        g->context = tt_strndup(s->context, COORD_FACTORY_CONTEXT_MAX);
        return TT_OK;
    }
    tt_jdoc_t *doc = NULL;
    char *pop_context = NULL;
    tt_err_t err = tt_jdoc_load_file(s->population_path, &doc, &g->err);
    if (!err)
        err = coord_factory_population_parse(doc, &g->dims, &pop_context, &g->err);
    if (!err) {
        json_t *root = tt_jdoc_root(doc);
        json_object_set_new(g->spec_json, "population", json_string(s->population_path));
        json_object_set_new(g->spec_json, "population_title",
                            json_string(tt_json_str(root, "title", "")));
        /* the population's facts, then the user's context, which guides the
         * plan and every person (TinyTroupe's factory context) */
        g->context = s->context ? tt_asprintf("%s\nContext: %.*s\n", pop_context,
                                              COORD_FACTORY_CONTEXT_MAX, s->context)
                                : tt_strdup(pop_context);
        /* no bounds in the context: the population's own words, never its numbers */
        char *own = tt_asprintf("%s. %s", tt_json_str(root, "title", ""),
                                tt_json_str(root, "description", ""));
        if (g->age_lo < 0 && !coord_factory_ages_from_text(own, &g->age_lo, &g->age_hi))
            g->age_lo = -1;
        free(own);
    }
    free(pop_context);
    tt_jdoc_destroy(&doc);
    return err ? TT_EINVAL : TT_OK;
}

static tt_err_t
s_run(s_gen_t *g, const tt_config_t *cfg, coord_factory_report_t *rep)
{
    const coord_factory_spec_t *spec = g->spec;
    tt_err_t err = s_check_spec(g);
    if (err)
        return err;
    if (spec->reuse && s_reusable(spec->out_dir, g->spec_json)) {
        rep->reused = true;
        return TT_OK;
    }
    coord_fcalls_opts_t fo = {.kind = "factory",
                              .spec = g->spec_json,
                              .seed = spec->seed,
                              .replay_path = spec->replay_path,
                              .replay_name = "factory.tlog",
                              .concurrency = spec->concurrency,
                              .reasks = spec->reasks < 0 ? COORD_FACTORY_REASKS : spec->reasks};
    if ((err = coord_fcalls_open(cfg, &fo, &g->fc, &g->err)) != TT_OK)
        return err == TT_ENOTFOUND || err == TT_ECORRUPT ? TT_EINVAL : err;
    if ((err = s_prepare_dir(spec->out_dir, spec->force || spec->reuse, &g->err)) != TT_OK)
        return err;
    char *log_path = tt_asprintf("%s/factory.tlog", spec->out_dir);
    err = coord_fcalls_begin(g->fc, log_path, &g->err);
    free(log_path);
    g->taken = zhash_new();
    if (!err)
        err = s_plan(g);
    if (!err)
        err = s_people(g);
    coord_fcalls_stats(g->fc, &rep->llm);
    if (!err)
        err = s_write_people(g, rep);
    if (!err)
        err = s_write_summary(g, rep);
    if (!err && rep->failed) {
        s_report_failures(g);
        err = TT_EAGENT;
    }
    return err;
}

tt_err_t
coord_factory_generate(const coord_factory_spec_t *spec, const tt_config_t *cfg,
                       coord_factory_report_t *report, char **errmsg)
{
    *errmsg = NULL;
    coord_factory_report_t rep = {0};
    int64_t t0 = tt_now_ms();
    s_gen_t g = {.spec = spec, .age_lo = -1};
    tt_err_t err = s_run(&g, cfg, &rep);
    rep.wall_ms = tt_now_ms() - t0;
    if (err && err != TT_EAGENT)
        *errmsg = g.err ? g.err : tt_strdup(tt_strerror(err));
    else
        free(g.err);
    for (uint32_t k = 0; g.people && k < spec->count; k++) {
        json_decref(g.people[k].persona);
        free(g.people[k].error);
        free(g.people[k].renamed_from);
        free(g.people[k].file);
    }
    free(g.people);
    free(g.flat);
    zhash_destroy(&g.taken);
    json_decref(g.rows);
    json_decref(g.dims);
    json_decref(g.dims_description);
    json_decref(g.spec_json);
    free(g.context);
    coord_fcalls_close(&g.fc);
    if (report)
        *report = rep;
    return err;
}

/* ------------------------------------------------------------------ scenarios */

tt_err_t
coord_factory_for_scenario(const char *scenario_path, const char *out_dir, const char *replay_dir,
                           const tt_config_t *cfg, bool quiet, char **folder, char **errmsg)
{
    return coord_factory_for_scenario_text(scenario_path, NULL, out_dir, replay_dir, cfg, quiet,
                                           folder, errmsg);
}

tt_err_t
coord_factory_for_scenario_text(const char *scenario_path, const char *scenario_text,
                                const char *out_dir, const char *replay_dir, const tt_config_t *cfg,
                                bool quiet, char **folder, char **errmsg)
{
    *folder = NULL;
    *errmsg = NULL;
    tt_jdoc_t *doc = NULL;
    tt_err_t err = scenario_text ? tt_jdoc_load_text(scenario_path, scenario_text,
                                                     strlen(scenario_text), &doc, errmsg)
                                 : tt_jdoc_load_file(scenario_path, &doc, errmsg);
    json_t *root = err ? NULL : tt_jdoc_root(doc);
    if (err || !json_object_get(root, "factory")) {
        tt_jdoc_destroy(&doc);
        return err ? TT_EINVAL : TT_OK;
    }
    const char *slash = strrchr(scenario_path, '/');
    char *base =
        slash ? tt_strndup(scenario_path, (size_t)(slash - scenario_path)) : tt_strdup(".");
    coord_factory_section_t sec;
    err = coord_factory_section_parse(doc, "factory", base, &sec, errmsg);
    json_t *seed = json_object_get(root, "seed");
    char *dir = tt_asprintf("%s/factory", out_dir);
    if (!err) {
        coord_factory_spec_t spec = {.count = sec.count,
                                     .context = sec.context,
                                     .population_path = sec.population_path,
                                     .describe = sec.describe,
                                     .seed = sec.has_seed ? sec.seed
                                             : json_is_integer(seed)
                                                 ? (uint64_t)json_integer_value(seed)
                                                 : COORD_FACTORY_DEFAULT_SEED,
                                     .out_dir = dir,
                                     .replay_path = replay_dir,
                                     .reasks = -1,
                                     .reuse = true,
                                     .quiet = quiet};
        coord_factory_report_t rep;
        err = coord_factory_generate(&spec, cfg, &rep, errmsg);
        if (err == TT_EAGENT)
            *errmsg =
                tt_asprintf("%s: %u of %u people could not be generated (see %s/factory.json)",
                            scenario_path, rep.failed, sec.count, dir);
    }
    coord_factory_section_fini(&sec);
    tt_jdoc_destroy(&doc);
    free(base);
    if (err)
        free(dir);
    else
        *folder = dir;
    return err;
}
