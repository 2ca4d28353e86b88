/*  coord_report_results -- extraction.json and other runs, into the report.
 *
 *  Why the extraction goes in as written: the page slices it by persona
 *  column, charts each field and checks its numbers against the same file a
 *  reader has; a second shape would be a second thing to keep true. Only the
 *  model usage ("llm") is left out: the report already counts calls.
 *
 *  Why a comparison carries summaries, not whole runs: what differs between
 *  two runs is read from counts and results; the first run's timeline is the
 *  one shown, and the divergence names the record to look at.
 */
#define TT_LOG_MODULE "report"
#include "coord_report_results.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "tt_mem.h"

#define S_EXTRACTION       "extraction.json"
#define S_WORLD_EXTRACTION "world-extraction.json"

/* FILE in the folder of PATH, if it is a regular file there. */
static char *
s_sibling(const char *path, const char *file)
{
    const char *slash = strrchr(path, '/');
    char *sib = slash ? tt_asprintf("%.*s/%s", (int)(slash - path), path, file) : tt_strdup(file);
    struct stat st;
    if (stat(sib, &st) != 0 || !S_ISREG(st.st_mode)) {
        free(sib);
        return NULL;
    }
    return sib;
}

char *
coord_report_results_beside(const char *log_path)
{
    char *path = s_sibling(log_path, S_EXTRACTION);
    return path ? path : s_sibling(log_path, S_WORLD_EXTRACTION);
}

/* A per-agent extraction shows the world's answer of world-extraction.json
 * beside it, when there is one and it is of the same run. */
static void
s_add_world(json_t *x, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (strcmp(slash ? slash + 1 : path, S_EXTRACTION) != 0 ||
        !json_is_null(json_object_get(x, "world_extraction")))
        return;
    char *wpath = s_sibling(path, S_WORLD_EXTRACTION);
    json_t *w = wpath ? json_load_file(wpath, 0, NULL) : NULL;
    const json_t *wrun = json_object_get(json_object_get(w, "run"), "final_hash");
    if (wrun && json_equal(wrun, json_object_get(json_object_get(x, "run"), "final_hash")))
        json_object_set(x, "world_extraction", json_object_get(w, "world_extraction"));
    json_decref(w);
    free(wpath);
}

tt_err_t
coord_report_results_attach(json_t *data, const char *path, char **errmsg)
{
    json_error_t jerr;
    json_t *x = json_load_file(path, 0, &jerr);
    if (!x) {
        bool missing = jerr.line < 1;
        *errmsg = tt_asprintf("%s:%d:%d: %s", path, jerr.line > 0 ? jerr.line : 1,
                              jerr.column > 0 ? jerr.column : 1,
                              missing && errno ? strerror(errno) : jerr.text);
        return missing ? TT_EIO : TT_EINVAL;
    }
    json_t *table = json_object_get(x, "table");
    if (!json_is_object(x) || !json_is_array(json_object_get(table, "columns")) ||
        !json_is_array(json_object_get(table, "rows"))) {
        *errmsg = tt_asprintf("%s: not an extraction (no table with columns and rows)", path);
        json_decref(x);
        return TT_EINVAL;
    }
    json_object_del(x, "llm");
    s_add_world(x, path);
    const char *ran = json_string_value(json_object_get(json_object_get(x, "run"), "final_hash"));
    const char *ours =
        json_string_value(json_object_get(json_object_get(data, "run"), "final_hash"));
    json_object_set_new(x, "matches_run", json_boolean(ran && ours && strcmp(ran, ours) == 0));
    const char *slash = strrchr(path, '/');
    json_object_set_new(x, "file", json_string(slash ? slash + 1 : path));
    json_object_set_new(data, "extraction", x);
    return TT_OK;
}

static void
s_add_count(json_t *counts, const char *key, json_int_t n)
{
    json_t *had = json_object_get(counts, key);
    json_object_set_new(counts, key, json_integer(n + (had ? json_integer_value(had) : 0)));
}

/* Actions by type in one step, from its turns and the string table. */
static json_t *
s_step_types(const json_t *step, const json_t *strings)
{
    json_t *counts = json_object(), *turn, *act;
    size_t i, k;
    json_array_foreach(json_object_get(step, "turns"), i, turn)
    {
        json_array_foreach(json_object_get(turn, "act"), k, act)
        {
            json_int_t type = json_integer_value(json_array_get(act, 0));
            const char *name = json_string_value(json_array_get(strings, (size_t)type));
            s_add_count(counts, name && *name ? name : "?", 1);
        }
    }
    return counts;
}

json_t *
coord_report_results_summary(const json_t *data, const char *divergence, bool identical)
{
    json_t *s = json_object(), *by_type = json_object(), *steps = json_array(), *step;
    const json_t *strings = json_object_get(data, "strings");
    size_t i;
    json_array_foreach(json_object_get(data, "steps"), i, step)
    {
        json_t *types = s_step_types(step, strings), *n;
        const char *type;
        json_object_foreach(types, type, n)
        {
            s_add_count(by_type, type, json_integer_value(n));
        }
        json_array_append_new(steps, json_pack("[O,o]", json_object_get(step, "step"), types));
    }
    json_object_set(s, "run", json_object_get(data, "run"));
    json_object_set(s, "totals", json_object_get(data, "totals"));
    json_object_set_new(s, "agents",
                        json_integer((json_int_t)json_array_size(json_object_get(data, "agents"))));
    json_object_set_new(s, "by_type", by_type);
    json_object_set_new(s, "steps", steps);
    json_t *x = json_object_get(data, "extraction");
    if (x)
        json_object_set(s, "extraction", x);
    json_t *words = divergence ? json_string(divergence) : NULL;
    if (divergence) /* names from a log may be anything */
        json_object_set_new(s, "divergence", words ? words : json_string("(not UTF-8)"));
    json_object_set_new(s, "identical", json_boolean(identical));
    return s;
}
