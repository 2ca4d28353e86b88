/*  coord_factory_ages -- people's ages within the bounds their context states.
 *
 *  A population file describes everyone ("Age Distribution": {"0-14": "18.6%",
 *  ..., "65+": "16%"}) while the people wanted may be a part of it ("Lakeside
 *  residents aged 25 to 40", "adults"). TinyTroupe leaves that to its model;
 *  here the age dimensions are cut to the bounds the context text states before
 *  the plan is made: a value wholly outside is dropped (the others' shares are
 *  renormalised), one that straddles a bound is narrowed ("18-34" -> "25-34"),
 *  a range is intersected. Only the user's context and the population's title
 *  and description are read for bounds, never its statistics ("65+: 16%" is a
 *  share, not a bound).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coord_factory_impl.h"
#include "tt_mem.h"

#define S_AGE_MAX 120
#define S_ADULT   18
#define S_NEAR    16 /* bytes around a number pair where "age" or "year" must be */

char *
coord_factory_lower(const char *text)
{
    char *low = tt_strdup(text);
    for (char *c = low; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return low;
}

/* "age" or "year" within S_NEAR bytes before from or after to. */
static bool
s_about_age(const char *text, const char *from, const char *to)
{
    const char *start = from - text > S_NEAR ? from - S_NEAR : text;
    size_t before = (size_t)(from - start);
    char window[2 * S_NEAR + 64];
    size_t after = strnlen(to, S_NEAR);
    snprintf(window, sizeof window, "%.*s|%.*s", (int)before, start, (int)after, to);
    return strstr(window, "age") || strstr(window, "year") || strstr(window, "between");
}

/* The first "N-M", "N–M", "N to M", "N and M" at or after p: *a, *b and where
 * the pair ends. */
static const char *
s_pair(const char *p, long *a, long *b, const char **start)
{
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > *start && isdigit((unsigned char)p[-1])))
            continue;
        char *end;
        long x = strtol(p, &end, 10);
        const char *q = end;
        static const char *const seps[] = {"-", "\xe2\x80\x93", " - ", " to ", " and "};
        for (size_t i = 0; i < sizeof seps / sizeof seps[0]; i++) {
            size_t n = strlen(seps[i]);
            if (!strncmp(q, seps[i], n) && isdigit((unsigned char)q[n])) {
                *b = strtol(q + n, &end, 10);
                *a = x;
                *start = p;
                return end;
            }
        }
    }
    return NULL;
}

/* "65+", "65 and over", "65 or older", "over 65", "older than 65" -> 65. */
static bool
s_lower_bound(const char *text, long *a)
{
    static const char *const after[] = {"+", " and over", " and older", " or older", " or over"};
    static const char *const before[] = {"over ", "older than ", "at least "};
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > text && isdigit((unsigned char)p[-1])))
            continue;
        char *end;
        long x = strtol(p, &end, 10);
        for (size_t i = 0; i < sizeof after / sizeof after[0]; i++)
            if (!strncmp(end, after[i], strlen(after[i])) && s_about_age(text, p, end)) {
                *a = x;
                return true;
            }
        for (size_t i = 0; i < sizeof before / sizeof before[0]; i++) {
            size_t n = strlen(before[i]);
            if ((size_t)(p - text) >= n && !strncmp(p - n, before[i], n) &&
                s_about_age(text, p - n, end)) {
                *a = x + 1;
                return true;
            }
        }
    }
    return false;
}

static bool
s_upper_bound(const char *text, long *b)
{
    static const char *const before[] = {"under ", "younger than ", "below "};
    for (size_t i = 0; i < sizeof before / sizeof before[0]; i++) {
        const char *p = strstr(text, before[i]);
        const char *num = p ? p + strlen(before[i]) : NULL;
        if (num && isdigit((unsigned char)*num)) {
            char *end;
            long x = strtol(num, &end, 10);
            if (s_about_age(text, p, end)) {
                *b = x - 1;
                return true;
            }
        }
    }
    return false;
}

bool
coord_factory_ages_from_text(const char *text, int *lo, int *hi)
{
    if (!text || !*text)
        return false;
    char *low = coord_factory_lower(text);
    long a = -1, b = -1;
    const char *start = low, *p = low;
    bool found = false;
    while (!found && (p = s_pair(p, &a, &b, &start)) != NULL)
        found = a <= b && s_about_age(low, start, p);
    if (!found) {
        a = 0;
        b = S_AGE_MAX;
        bool got_lo = s_lower_bound(low, &a), got_hi = s_upper_bound(low, &b);
        if (!got_lo && (strstr(low, "adults") || strstr(low, "adult "))) {
            a = S_ADULT;
            got_lo = true;
        }
        found = got_lo || got_hi;
    }
    free(low);
    if (!found || a < 0 || b > S_AGE_MAX || a > b)
        return false;
    *lo = (int)a;
    *hi = (int)b;
    return true;
}

/* A value's own bounds: "18-34", "65+", "65 and over", "Under 18", "42". */
static bool
s_value_bounds(const char *value, long *a, long *b)
{
    char *low = coord_factory_lower(value);
    const char *start = low;
    bool ok = s_pair(low, a, b, &start) != NULL;
    if (!ok) {
        const char *d = low;
        while (*d && !isdigit((unsigned char)*d))
            d++;
        if (*d) {
            long x = strtol(d, NULL, 10);
            ok = true;
            *a = *b = x;
            if (strchr(low, '+') || strstr(low, "over") || strstr(low, "older"))
                *b = S_AGE_MAX;
            else if (strstr(low, "under") || strstr(low, "below") || strstr(low, "younger")) {
                *a = 0;
                *b = x - 1;
            }
        }
    }
    free(low);
    return ok;
}

static bool
s_is_age_dimension(const char *name)
{
    char *low = coord_factory_lower(name);
    bool age = false;
    for (const char *p = strstr(low, "age"); p && !age; p = strstr(p + 1, "age")) {
        bool left = p == low || !isalpha((unsigned char)p[-1]);
        bool right = !isalpha((unsigned char)p[3]) || !strncmp(p + 3, "s ", 2) || !p[3];
        age = left && right;
    }
    free(low);
    return age;
}

static void
s_bound_values(json_t *d, int lo, int hi)
{
    json_t *values = json_object_get(d, "values");
    json_t *kept = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        const char *text = tt_json_str(v, "value", "");
        long a, b;
        if (!s_value_bounds(text, &a, &b)) {
            json_array_append(kept, v);
            continue;
        }
        if (b < lo || a > hi)
            continue;
        if (a < lo || b > hi) {
            char *narrowed = tt_asprintf("%ld-%ld", a < lo ? (long)lo : a, b > hi ? (long)hi : b);
            json_t *nv = json_deep_copy(v);
            json_object_set_new(nv, "value", json_string(narrowed));
            json_array_append_new(kept, nv);
            free(narrowed);
        } else {
            json_array_append(kept, v);
        }
    }
    if (json_array_size(values) && !json_array_size(kept)) /* none left: the bounds */
        json_object_set_new(d, "range", json_pack("[i, i]", lo, hi));
    json_object_set_new(d, "values", kept);
}

bool
coord_factory_ages_bound(json_t *dims, int lo, int hi, char **why)
{
    size_t k;
    json_t *d;
    json_array_foreach(dims, k, d)
    {
        if (!s_is_age_dimension(tt_json_str(d, "name", "")))
            continue;
        s_bound_values(d, lo, hi);
        json_t *range = json_object_get(d, "range");
        if (json_array_size(range) == 2) {
            double a = json_number_value(json_array_get(range, 0));
            double b = json_number_value(json_array_get(range, 1));
            a = a < lo ? lo : a;
            b = b > hi ? hi : b;
            json_object_set_new(d, "range",
                                a <= b ? json_pack("[f, f]", a, b) : json_pack("[i, i]", lo, hi));
        }
    }
    return coord_factory_dims_normalise(dims, why);
}
