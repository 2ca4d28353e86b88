/*  tt_merge -- merge_dicts as TinyTroupe does it (see tt_merge.h).
 *
 *  The merge works on a deep copy of the current object, so a conflict found
 *  halfway leaves the caller's value untouched (TinyTroupe's own copy is shallow
 *  and its lists are extended in place before a later key can raise).
 */
#include "tt_merge.h"

#include <string.h>

#include "tt_buf.h"
#include "tt_mem.h"

typedef struct {
    tt_merge_opts_t opts;
    tt_buf_t path; /* dot path of the key being merged */
    char *why;
} s_merge_t;

/* Python's type names, which is what decides "different types" in merge_dicts. */
static const char *
s_pytype(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "dict";
    case JSON_ARRAY:
        return "list";
    case JSON_STRING:
        return "str";
    case JSON_INTEGER:
        return "int";
    case JSON_REAL:
        return "float";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "NoneType";
    }
}

static bool
s_is_numeric(const json_t *v)
{
    return json_is_number(v) || json_is_boolean(v);
}

static double
s_number(const json_t *v)
{
    if (json_is_boolean(v))
        return json_is_true(v) ? 1.0 : 0.0;
    return json_number_value(v);
}

bool
tt_merge_equal(const json_t *a, const json_t *b)
{
    if (s_is_numeric(a) && s_is_numeric(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return s_number(a) == s_number(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!tt_merge_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)a, key, v)
        {
            json_t *w = json_object_get(b, key);
            if (!w || !tt_merge_equal(v, w))
                return false;
        }
        return true;
    }
    default:
        return true; /* null */
    }
}

/* remove_duplicate_items: order kept, first occurrence wins. An object item is
 * hashed as frozenset(item.items()) there, which fails on list or object values. */
static tt_err_t
s_dedup(s_merge_t *m, json_t *list, json_t **out)
{
    json_t *result = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        if (json_is_object(item)) {
            const char *k;
            json_t *v;
            json_object_foreach(item, k, v)
            {
                if (json_is_array(v) || json_is_object(v)) {
                    json_decref(result);
                    m->why = tt_asprintf("cannot join these lists: an item is an object whose "
                                         "\"%s\" is a %s, which TinyTroupe cannot compare "
                                         "(TypeError)",
                                         k, s_pytype(v));
                    return TT_EINVAL;
                }
            }
        }
        bool seen = false;
        for (size_t j = 0; j < json_array_size(result) && !seen; j++)
            seen = tt_merge_equal(json_array_get(result, j), item);
        if (!seen)
            json_array_append(result, item);
    }
    *out = result;
    return TT_OK;
}

static char *
s_show(const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text && strlen(text) > 60)
        memcpy(text + 56, "...", 4);
    return text ? text : tt_strdup("?");
}

static tt_err_t s_merge(s_merge_t *m, json_t *merged, const json_t *additions, bool dedup);

static tt_err_t
s_merge_key(s_merge_t *m, json_t *merged, const char *key, const json_t *add, bool dedup)
{
    json_t *cur = json_object_get(merged, key);
    if (!cur || json_is_null(cur)) {
        json_object_set_new(merged, key, json_deep_copy(add));
        return TT_OK;
    }
    if (json_is_object(cur) && json_is_object(add))
        return s_merge(m, cur, add, true); /* the recursion keeps the default */
    if (json_is_array(cur) && json_is_array(add)) {
        json_t *copy = json_deep_copy(add);
        json_array_extend(cur, copy);
        json_decref(copy);
        if (!dedup)
            return TT_OK;
        json_t *unique;
        tt_err_t err = s_dedup(m, cur, &unique);
        if (!err)
            json_object_set_new(merged, key, unique);
        return err;
    }
    if (strcmp(s_pytype(cur), s_pytype(add))) {
        m->why = tt_asprintf("cannot merge a %s into a %s (TinyTroupe's merge_dicts: TypeError)",
                             s_pytype(add), s_pytype(cur));
        return TT_EINVAL;
    }
    if (m->opts.overwrite) {
        json_object_set_new(merged, key, json_deep_copy(add));
    } else if (!tt_merge_equal(cur, add) && m->opts.error_on_conflict) {
        char *was = s_show(cur), *now = s_show(add);
        m->why = tt_asprintf("conflicting value: the persona has %s, this says %s "
                             "(TinyTroupe's merge_dicts refuses to overwrite)",
                             was, now);
        free(was);
        free(now);
        return TT_EINVAL;
    }
    return TT_OK;
}

static tt_err_t
s_merge(s_merge_t *m, json_t *merged, const json_t *additions, bool dedup)
{
    const char *key;
    json_t *add;
    json_object_foreach((json_t *)additions, key, add)
    {
        size_t mark = m->path.len;
        if (mark)
            tt_buf_adds(&m->path, ".");
        tt_buf_adds(&m->path, key);
        tt_err_t err = s_merge_key(m, merged, key, add, dedup);
        if (err)
            return err; /* the path stays, naming the key */
        m->path.len = mark;
        m->path.data[mark] = '\0';
    }
    return TT_OK;
}

tt_err_t
tt_merge_dicts(const json_t *current, const json_t *additions, const tt_merge_opts_t *opts,
               json_t **out, char **conflict_path, char **why)
{
    TT_ASSERT(json_is_object(current) && json_is_object(additions));
    s_merge_t m = {.opts = opts ? *opts : TT_MERGE_DEFAULTS};
    tt_buf_init(&m.path, 0);
    json_t *merged = json_deep_copy(current);
    tt_err_t err = s_merge(&m, merged, additions, m.opts.remove_duplicates);
    *out = NULL;
    if (err) {
        json_decref(merged);
        if (conflict_path)
            *conflict_path = tt_strdup(tt_buf_str(&m.path));
        if (why)
            *why = m.why;
        else
            free(m.why);
    } else {
        *out = merged;
    }
    tt_buf_fini(&m.path);
    return err;
}
