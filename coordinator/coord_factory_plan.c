/*  coord_factory_plan -- population files, dimensions and the sampling plan.
 *
 *  TinyTroupe asks the model for a plan whose quantities "should" add up to the
 *  population size and only warns when they do not. Here the model's plan says
 *  which subpopulations exist and roughly how big they are; the quantities are
 *  then decided by a deterministic rule (coord_factory_plan_fix):
 *
 *    1. Row weights start as the model's quantities (a row it gave 0 keeps a
 *       small weight, S_ZERO_WEIGHT, so that a share only it carries can live).
 *    2. Raking (iterative proportional fitting, simultaneous form): every
 *       weighted dimension says by what factor each row should change for
 *       that dimension's declared shares to hold (renormalised over the values
 *       the plan uses); each row moves by the geometric mean of those factors.
 *       Sweeps repeat until every share holds (1e-9) or S_RAKE_SWEEPS. A plan
 *       whose rows can meet every distribution ends up meeting them all; one
 *       that cannot (fewer rows than constraints, the usual case with a model's
 *       plan) settles on a compromise that spreads the error over all
 *       dimensions. A last exact pass gives the primary dimension (the first
 *       weighted one the plan uses) its shares.
 *    3. Largest-remainder rounding in two levels: N is first apportioned among
 *       the values of the primary dimension (the first weighted one the plan
 *       uses), so that dimension is within one person of its declared shares;
 *       each value's count is then apportioned among its rows. Remainders go to
 *       the largest fractional parts; ties to the larger ideal, then the earlier
 *       row.
 *  So the quantities always sum to exactly N (N = 1 included; with N smaller
 *  than the number of rows, the least likely rows get 0) and follow the
 *  distributions as far as whole people allow.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coord_factory_impl.h"
#include "tt_buf.h"
#include "tt_mem.h"
#include "tt_rng.h"

#define S_ZERO_WEIGHT  0.1
#define S_RAKE_SWEEPS  2000
#define S_RAKE_EPSILON 1e-9
#define S_NAME_MAX     200
#define S_SUM_LOW      0.9                 /* shares of a distribution add up to 1 (or 100%), */
#define S_SUM_HIGH     1.1                 /* give or take rounding */
#define S_FLATTEN_SALT 0x666c617474656eull /* "flatten" */

/* ------------------------------------------------------------------ population */

typedef struct {
    const tt_jdoc_t *doc;
    json_t *dims;
    json_t *values; /* every distribution's values, lower case: the groups of the file */
    tt_buf_t context;
    char *err;
} s_pop_t;

/* A share: a number >= 0, or text "12", "12.5 %", "12% (2021)" (the number). */
static bool
s_share(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return *out >= 0 && isfinite(*out);
    }
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    char *end;
    double x = strtod(s, &end);
    if (end == s || !isfinite(x) || x < 0)
        return false;
    while (*end == ' ')
        end++;
    end += *end == '%';
    while (*end == ' ')
        end++;
    if (*end && *end != '(')
        return false;
    *out = x;
    return true;
}

/* At least two values whose shares add up to about 1 or about 100 (percent):
 * {"Female": "51%", "Male": "49%"}. Shares of unrelated things ({"Trusts the
 * news": "62%", "Owns a car": "81%"}) do not add up, and stay facts. */
static bool
s_is_distribution(const json_t *obj)
{
    if (json_object_size(obj) < 2)
        return false;
    const char *key;
    json_t *v;
    double sum = 0, x;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!*key || !s_share(v, &x))
            return false;
        sum += x;
    }
    return (sum >= S_SUM_LOW && sum <= S_SUM_HIGH) ||
           (sum >= 100 * S_SUM_LOW && sum <= 100 * S_SUM_HIGH);
}

static bool
s_is_range(const json_t *obj)
{
    json_t *lo = json_object_get(obj, "min"), *hi = json_object_get(obj, "max");
    return json_is_number(lo) && json_is_number(hi) &&
           json_number_value(lo) <= json_number_value(hi);
}

static bool
s_dim_exists(const json_t *dims, const char *name)
{
    size_t i;
    json_t *d;
    json_array_foreach(dims, i, d)
    {
        if (!strcasecmp(tt_json_str(d, "name", ""), name))
            return true;
    }
    return false;
}

static bool
s_pop_fail(s_pop_t *p, const char *path, const char *what)
{
    if (!p->err)
        p->err = tt_jdoc_errorf(p->doc, path, "%s", what);
    return false;
}

/* Add a dimension named key (or "label / key" when key is taken). */
static bool
s_pop_add(s_pop_t *p, const char *path, const char *key, const char *label, json_t *values,
          json_t *range)
{
    if (json_array_size(p->dims) >= COORD_FACTORY_MAX_DIMS) {
        json_decref(values);
        json_decref(range);
        return s_pop_fail(p, path, "too many distributions (at most 64)");
    }
    if (json_array_size(values) > COORD_FACTORY_MAX_VALUES) {
        json_decref(values);
        json_decref(range);
        return s_pop_fail(p, path, "too many values in one distribution (at most 200)");
    }
    char *name = s_dim_exists(p->dims, key) ? tt_strdup(label) : tt_strdup(key);
    if (strlen(name) > S_NAME_MAX)
        name[S_NAME_MAX] = '\0';
    json_t *d = json_pack("{s:s, s:o}", "name", name, "values", values);
    if (range)
        json_object_set_new(d, "range", range);
    json_array_append_new(p->dims, d);
    free(name);
    return true;
}

/* The values of every distribution in the file ("female", "democrat", ...). */
static void
s_pop_collect(s_pop_t *p, const json_t *v)
{
    const char *k;
    json_t *x;
    bool dist = s_is_distribution(v);
    json_object_foreach((json_t *)v, k, x)
    {
        if (dist) {
            char *low = coord_factory_lower(k);
            json_object_set_new(p->values, low, json_true());
            free(low);
        } else if (json_is_object(x)) {
            s_pop_collect(p, x);
        }
    }
}

static bool
s_same_keys(const json_t *a, const json_t *b)
{
    if (json_object_size(a) != json_object_size(b))
        return false;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)a, k, x)
    {
        if (!json_object_get(b, k))
            return false;
    }
    return true;
}

/* Not a person's attribute, but something about groups of them (TinyTroupe's
 * factory prompt: "values are not distributions, probabilities or other
 * statistics, but concrete, specific, people attributes"), kept as context:
 *  - lists by level, {"High": ["New York", ...], "Low": [...]}: places or
 *    groups where a trait is high or low, not a value a person has;
 *  - a table of distributions per group, {"Democrat": {"Women": "56%", "Men":
 *    "44%"}, "Republican": {...}}: shares within groups;
 *  - a distribution named by a value of another one, {"Independent": {"Under
 *    30": "40%", ...}}: the same, for one group. */
static bool
s_pop_is_group_level(const s_pop_t *p, const json_t *v, const char *key)
{
    size_t n = json_object_size(v), lists = 0, tables = 0;
    const char *k;
    json_t *x, *first = NULL;
    json_object_foreach((json_t *)v, k, x)
    {
        lists += json_is_array(x);
        if (!s_is_distribution(x))
            continue;
        first = first ? first : x;
        tables += s_same_keys(first, x);
    }
    if (n >= 2 && (lists == n || tables == n))
        return true;
    if (!key || !s_is_distribution(v))
        return false;
    char *low = coord_factory_lower(key);
    bool group = json_object_get(p->values, low) != NULL;
    free(low);
    return group;
}

static void
s_pop_fact(s_pop_t *p, const char *label, const json_t *v)
{
    char *text = json_is_string(v) ? tt_strdup(json_string_value(v)) : tt_json_compact(v);
    if (*text && p->context.len < COORD_FACTORY_CONTEXT_MAX)
        tt_buf_addf(&p->context, "%s: %s\n", label, text);
    free(text);
}

static bool s_pop_walk(s_pop_t *p, const json_t *v, const char *path, const char *key,
                       const char *label);

static bool
s_pop_object(s_pop_t *p, const json_t *v, const char *path, const char *key, const char *label)
{
    if (key && s_pop_is_group_level(p, v, key)) {
        s_pop_fact(p, label, v);
        return true;
    }
    if (key && s_is_range(v)) {
        json_t *range = json_pack("[f, f]", json_number_value(json_object_get(v, "min")),
                                  json_number_value(json_object_get(v, "max")));
        return s_pop_add(p, path, key, label, json_array(), range);
    }
    if (key && s_is_distribution(v)) {
        json_t *values = json_array();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            double share = 0;
            s_share(x, &share);
            json_array_append_new(values, json_pack("{s:s, s:f}", "value", k, "weight", share));
        }
        return s_pop_add(p, path, key, label, values, NULL);
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        char *sub = tt_asprintf("%s%s%s", path, *path ? "." : "", k);
        char *sublabel = label ? tt_asprintf("%s / %s", label, k) : tt_strdup(k);
        bool ok = s_pop_walk(p, x, sub, k, sublabel);
        free(sub);
        free(sublabel);
        if (!ok)
            return false;
    }
    return true;
}

static bool
s_all_strings(const json_t *arr)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (!json_is_string(x) || !*json_string_value(x))
            return false;
    }
    return json_array_size(arr) >= 2;
}

static bool
s_pop_walk(s_pop_t *p, const json_t *v, const char *path, const char *key, const char *label)
{
    if (json_is_object(v))
        return s_pop_object(p, v, path, key, label);
    if (json_is_array(v) && key && s_all_strings(v)) {
        json_t *values = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            json_array_append_new(values, json_pack("{s:O, s:f}", "value", x, "weight", 0.0));
        }
        return s_pop_add(p, path, key, label, values, NULL);
    }
    if (!json_is_null(v))
        s_pop_fact(p, label ? label : "fact", v);
    return true;
}

tt_err_t
coord_factory_population_parse(const tt_jdoc_t *doc, json_t **dims, char **context, char **errmsg)
{
    *dims = NULL;
    *context = NULL;
    *errmsg = NULL;
    const json_t *root = tt_jdoc_root(doc);
    s_pop_t p = {.doc = doc, .dims = json_array(), .values = json_object()};
    tt_buf_init(&p.context, 2 * COORD_FACTORY_CONTEXT_MAX);
    const json_t *content = json_object_get(root, "content");
    if (!json_is_object(root))
        s_pop_fail(&p, "",
                   "a population file is a JSON object {title, description, source, "
                   "content:{...}}");
    else if (json_object_get(root, "title") && !json_is_string(json_object_get(root, "title")))
        s_pop_fail(&p, "title", "expected a string");
    else if (!json_is_object(content))
        s_pop_fail(&p, content ? "content" : "",
                   "expected \"content\": an object of distributions, e.g. {\"Demographics\": "
                   "{\"Gender\": {\"Female\": \"51%\", \"Male\": \"49%\"}}}");
    if (!p.err) {
        tt_buf_addf(&p.context, "%s\n", tt_json_str(root, "title", "A population"));
        if (json_is_string(json_object_get(root, "description")))
            tt_buf_addf(&p.context, "%s\n", tt_json_str(root, "description", ""));
        s_pop_collect(&p, content);
        if (s_pop_object(&p, content, "content", NULL, NULL) && json_array_size(p.dims) == 0)
            s_pop_fail(&p, "content",
                       "no distributions found: expected objects of value: share pairs such as "
                       "{\"Female\": \"51%\", \"Male\": \"49%\"}");
    }
    char *why = NULL;
    if (!p.err && !coord_factory_dims_normalise(p.dims, &why)) {
        p.err = tt_jdoc_errorf(doc, "content", "%s", why);
        free(why);
    }
    json_decref(p.values);
    if (p.err) {
        *errmsg = p.err;
        json_decref(p.dims);
        tt_buf_fini(&p.context);
        return TT_EINVAL;
    }
    *dims = p.dims;
    *context = tt_buf_take(&p.context);
    return TT_OK;
}

/* ------------------------------------------------------------------ dimensions */

static bool s_failf(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
s_failf(char **why, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    *why = tt_strdup(buf);
    return false;
}

/* values -> [{"value","weight"}] with unique values; plain strings allowed. */
static bool
s_dim_values(json_t *d, size_t k, json_t **out, double *sum, char **why)
{
    json_t *values = json_object_get(d, "values");
    if (values && !json_is_array(values))
        return s_failf(why, "$.dimensions[%zu].values: expected a list", k);
    if (json_array_size(values) > COORD_FACTORY_MAX_VALUES)
        return s_failf(why, "$.dimensions[%zu].values: at most %d values", k,
                       COORD_FACTORY_MAX_VALUES);
    *out = json_array();
    *sum = 0;
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        const char *text = json_is_string(v) ? json_string_value(v) : tt_json_str(v, "value", "");
        json_t *w = json_is_object(v) ? json_object_get(v, "weight") : NULL;
        double weight = w ? json_number_value(w) : 0;
        if (!*text || (w && (!json_is_number(w) || weight < 0 || !isfinite(weight)))) {
            json_decref(*out);
            return s_failf(why,
                           "$.dimensions[%zu].values[%zu]: expected {\"value\": non-empty "
                           "text, \"weight\": a share >= 0}",
                           k, i);
        }
        for (size_t j = 0; j < i; j++)
            if (!strcasecmp(tt_json_str(json_array_get(*out, j), "value", ""), text)) {
                json_decref(*out);
                return s_failf(why, "$.dimensions[%zu].values[%zu]: \"%s\" is listed twice", k, i,
                               text);
            }
        json_array_append_new(*out, json_pack("{s:s, s:f}", "value", text, "weight", weight));
        *sum += weight;
    }
    return true;
}

/* range -> [lo, hi] or NULL; [] and absent mean none. */
static bool
s_dim_range(const json_t *d, size_t k, json_t **out, char **why)
{
    *out = NULL;
    json_t *r = json_object_get(d, "range");
    if (!r || json_is_null(r) || (json_is_array(r) && json_array_size(r) == 0))
        return true;
    json_t *lo = json_array_get(r, 0), *hi = json_array_get(r, 1);
    if (json_array_size(r) != 2 || !json_is_number(lo) || !json_is_number(hi) ||
        json_number_value(lo) > json_number_value(hi))
        return s_failf(why, "$.dimensions[%zu].range: expected [min, max] with min <= max", k);
    *out = json_pack("[f, f]", json_number_value(lo), json_number_value(hi));
    return true;
}

bool
coord_factory_dims_normalise(json_t *dims, char **why)
{
    *why = NULL;
    size_t n = json_array_size(dims);
    if (!json_is_array(dims) || n == 0)
        return s_failf(why, "$.dimensions: expected a non-empty list");
    if (n > COORD_FACTORY_MAX_DIMS)
        return s_failf(why, "$.dimensions: at most %d dimensions", COORD_FACTORY_MAX_DIMS);
    json_t *out = json_array();
    for (size_t k = 0; k < n; k++) {
        json_t *d = json_array_get(dims, k), *values = NULL, *range = NULL;
        const char *name = tt_json_str(d, "name", "");
        double sum = 0;
        bool ok = true;
        if (!*name || strlen(name) > S_NAME_MAX)
            ok = s_failf(why, "$.dimensions[%zu].name: expected a name of 1 to %d bytes", k,
                         S_NAME_MAX);
        else if (s_dim_exists(out, name))
            ok = s_failf(why, "$.dimensions[%zu].name: \"%s\" is listed twice", k, name);
        ok = ok && s_dim_values(d, k, &values, &sum, why) && s_dim_range(d, k, &range, why);
        if (ok && json_array_size(values) == 0 && !range)
            ok = s_failf(why, "$.dimensions[%zu]: give values or a range", k);
        if (!ok) {
            json_decref(values);
            json_decref(out);
            return false;
        }
        size_t i;
        json_t *v;
        json_array_foreach(values, i, v)
        {
            double w = sum > 0 ? json_number_value(json_object_get(v, "weight")) / sum : 0;
            json_object_set_new(v, "weight", json_real(w));
        }
        json_t *nd = json_pack("{s:s, s:o, s:b}", "name", name, "values", values, "weighted",
                               sum > 0 && json_array_size(values) > 0);
        if (range)
            json_object_set_new(nd, "range", range);
        json_array_append_new(out, nd);
    }
    json_array_clear(dims);
    json_array_extend(dims, out);
    json_decref(out);
    return true;
}

/* ------------------------------------------------------------------ plan */

/* Declared value index of row's value for dimension dim, or -1. */
static long
s_value_index(const json_t *dim, const json_t *row)
{
    const json_t *sv = json_object_get(row, "sampled_values");
    const char *key;
    json_t *v;
    const char *name = tt_json_str(dim, "name", "");
    json_object_foreach((json_t *)sv, key, v)
    {
        if (strcasecmp(key, name) || !json_is_string(v))
            continue;
        const char *text = json_string_value(v);
        while (isspace((unsigned char)*text))
            text++;
        size_t len = strlen(text);
        while (len && isspace((unsigned char)text[len - 1]))
            len--;
        size_t i;
        json_t *dv;
        json_array_foreach(json_object_get(dim, "values"), i, dv)
        {
            const char *want = tt_json_str(dv, "value", "");
            if (strlen(want) == len && !strncasecmp(want, text, len))
                return (long)i;
        }
        return -1;
    }
    return -1;
}

/* Largest remainder: split total among k shares (>= 0, any scale) into out. */
static void
s_apportion(const double *share, size_t k, uint32_t total, uint32_t *out)
{
    double sum = 0;
    for (size_t j = 0; j < k; j++)
        sum += share[j];
    double *ideal = tt_calloc(k + 1, sizeof *ideal);
    uint32_t given = 0;
    for (size_t j = 0; j < k; j++) {
        ideal[j] = sum > 0 ? share[j] / sum * total : (double)total / (double)k;
        out[j] = (uint32_t)floor(ideal[j] + 1e-9);
        if (out[j] > total)
            out[j] = total;
        given += out[j];
    }
    while (given > total) { /* only from rounding noise */
        for (size_t j = 0; j < k && given > total; j++)
            if (out[j] > 0) {
                out[j]--;
                given--;
            }
    }
    for (; given < total; given++) {
        size_t best = k;
        double best_frac = -1;
        for (size_t j = 0; j < k; j++) {
            double frac = ideal[j] - out[j];
            if (best == k || frac > best_frac + 1e-12 ||
                (fabs(frac - best_frac) <= 1e-12 && ideal[j] > ideal[best] + 1e-12)) {
                best = j;
                best_frac = frac;
            }
        }
        out[best]++;
    }
    free(ideal);
}

/* The factor that would give each row's value of dimension dim its declared
 * share (into f, 1 for rows without a declared value); returns the largest
 * share error now. */
static double
s_rake_factors(const json_t *dim, const long *vi, const double *w, size_t m, double *f)
{
    const json_t *values = json_object_get(dim, "values");
    size_t nv = json_array_size(values);
    double *cur = tt_calloc(nv + 1, sizeof *cur), present = 0, total = 0, worst = 0;
    for (size_t i = 0; i < m; i++)
        if (vi[i] >= 0) {
            cur[vi[i]] += w[i];
            total += w[i];
        }
    for (size_t v = 0; v < nv; v++)
        if (cur[v] > 0)
            present += json_number_value(json_object_get(json_array_get(values, v), "weight"));
    for (size_t i = 0; i < m; i++) {
        f[i] = 1;
        if (vi[i] < 0 || cur[vi[i]] <= 0 || present <= 0 || total <= 0)
            continue;
        double p = json_number_value(json_object_get(json_array_get(values, vi[i]), "weight"));
        double want = p / present * total;
        f[i] = want / cur[vi[i]];
        worst = fmax(worst, fabs(cur[vi[i]] - want) / total);
    }
    free(cur);
    return worst;
}

/* Simultaneous raking: each sweep moves every row by the geometric mean of what
 * each weighted dimension asks of it, so no dimension wins by being last. When
 * the plan's rows can meet every share this converges to them; when they
 * cannot, it settles on a compromise. Then one exact pass for the primary. */
static void
s_rake(const json_t *dims, const long *vi, double *w, size_t m, size_t primary)
{
    size_t nd = json_array_size(dims);
    double *f = tt_calloc(m, sizeof *f), *logf = tt_calloc(m, sizeof *logf);
    for (int sweep = 0; sweep < S_RAKE_SWEEPS; sweep++) {
        double worst = 0;
        size_t weighted = 0;
        memset(logf, 0, m * sizeof *logf);
        for (size_t d = 0; d < nd; d++) {
            if (!json_is_true(json_object_get(json_array_get(dims, d), "weighted")))
                continue;
            worst = fmax(worst, s_rake_factors(json_array_get(dims, d), vi + d * m, w, m, f));
            weighted++;
            for (size_t i = 0; i < m; i++)
                logf[i] += log(f[i]);
        }
        if (worst < S_RAKE_EPSILON || !weighted)
            break;
        for (size_t i = 0; i < m; i++)
            w[i] *= exp(logf[i] / (double)weighted);
    }
    s_rake_factors(json_array_get(dims, primary), vi + primary * m, w, m, f);
    for (size_t i = 0; i < m; i++)
        w[i] *= f[i];
    free(f);
    free(logf);
}

/* Quantities for rows with weights w: N among the primary dimension's values
 * (index pv, -1 = rows without one), then within each value among its rows. */
static void
s_two_level(const long *pv, size_t nvalues, const double *w, size_t m, uint32_t n, uint32_t *q)
{
    size_t groups = nvalues + 1; /* group 0: no primary value */
    double *gw = tt_calloc(groups, sizeof *gw);
    uint32_t *gq = tt_calloc(groups, sizeof *gq);
    for (size_t i = 0; i < m; i++)
        gw[pv ? (size_t)(pv[i] + 1) : 0] += w[i];
    s_apportion(gw, groups, n, gq);
    double *sub = tt_calloc(m + 1, sizeof *sub);
    uint32_t *subq = tt_calloc(m + 1, sizeof *subq);
    size_t *idx = tt_calloc(m + 1, sizeof *idx);
    for (size_t g = 0; g < groups; g++) {
        size_t k = 0;
        for (size_t i = 0; i < m; i++)
            if ((pv ? (size_t)(pv[i] + 1) : 0) == g) {
                idx[k] = i;
                sub[k++] = w[i];
            }
        if (!k)
            continue;
        s_apportion(sub, k, gq[g], subq);
        for (size_t j = 0; j < k; j++)
            q[idx[j]] = subq[j];
    }
    free(gw);
    free(gq);
    free(sub);
    free(subq);
    free(idx);
}

void
coord_factory_plan_fix(json_t *rows, const json_t *dims, uint32_t n)
{
    size_t m = json_array_size(rows), nd = json_array_size(dims);
    if (m == 0)
        return;
    double *w = tt_calloc(m, sizeof *w);
    long *vi = tt_calloc(m * (nd ? nd : 1), sizeof *vi);
    for (size_t i = 0; i < m; i++) {
        json_t *row = json_array_get(rows, i);
        if (!json_object_get(row, "requested_quantity")) {
            json_t *asked = json_incref(json_object_get(row, "quantity"));
            json_object_del(row, "quantity"); /* it comes back after requested_quantity */
            json_object_set_new(row, "requested_quantity", asked ? asked : json_integer(0));
        }
        json_int_t asked = tt_json_int(row, "requested_quantity", 0);
        w[i] = asked > 0 ? (double)asked : S_ZERO_WEIGHT;
        for (size_t d = 0; d < nd; d++)
            vi[d * m + i] = s_value_index(json_array_get(dims, d), row);
    }
    long primary = -1;
    for (size_t d = 0; d < nd; d++) {
        bool used = false;
        for (size_t i = 0; i < m && !used; i++)
            used = vi[d * m + i] >= 0;
        if (used && json_is_true(json_object_get(json_array_get(dims, d), "weighted")) &&
            primary < 0)
            primary = (long)d;
    }
    if (primary >= 0)
        s_rake(dims, vi, w, m, (size_t)primary);
    uint32_t *q = tt_calloc(m, sizeof *q);
    size_t nvalues =
        primary >= 0
            ? json_array_size(json_object_get(json_array_get(dims, (size_t)primary), "values"))
            : 0;
    s_two_level(primary >= 0 ? vi + (size_t)primary * m : NULL, nvalues, w, m, n, q);
    for (size_t i = 0; i < m; i++)
        json_object_set_new(json_array_get(rows, i), "quantity", json_integer(q[i]));
    free(q);
    free(vi);
    free(w);
}

uint32_t *
coord_factory_plan_flatten(const json_t *rows, uint64_t seed, uint32_t *n)
{
    uint64_t total = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_int_t q = tt_json_int(row, "quantity", 0);
        total += q > 0 ? (uint64_t)q : 0;
    }
    uint32_t *flat = tt_calloc(total + 1, sizeof *flat);
    uint32_t k = 0;
    json_array_foreach(rows, i, row)
    {
        json_int_t q = tt_json_int(row, "quantity", 0);
        for (json_int_t j = 0; j < q; j++)
            flat[k++] = (uint32_t)i;
    }
    tt_rng_t rng;
    tt_rng_seed(&rng, seed ^ S_FLATTEN_SALT);
    tt_rng_shuffle(&rng, flat, k);
    *n = k;
    return flat;
}
