/*  coord_overrides -- KEY.PATH=VALUE edits of the scenario and the config.
 *
 *  The scenario is parsed once (as a loader would, duplicate keys refused),
 *  edited in place, and written back indented; jansson keeps the keys in
 *  their order, so the recorded text still reads like the file.
 */
#include "coord_overrides.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tt_json.h"
#include "tt_mem.h"

#define S_CONFIG_PREFIX "config."
#define S_MAX_OVERRIDES 256

struct coord_overrides {
    const char *args[S_MAX_OVERRIDES + 1];
    size_t n;
    char *config[S_MAX_OVERRIDES + 1]; /* "Section.KEY=value", NULL-terminated */
    size_t n_config;
};

coord_overrides_t *
coord_overrides_new(void)
{
    return tt_new(coord_overrides_t);
}

void
coord_overrides_destroy(coord_overrides_t **self_p)
{
    coord_overrides_t *o = *self_p;
    if (!o)
        return;
    for (size_t i = 0; i < o->n_config; i++)
        free(o->config[i]);
    free(o);
    *self_p = NULL;
}

static bool
s_is_config(const char *arg)
{
    return !strncmp(arg, S_CONFIG_PREFIX, strlen(S_CONFIG_PREFIX));
}

tt_err_t
coord_overrides_add(coord_overrides_t *o, const char *arg, char **errmsg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        *errmsg = tt_asprintf("--set %s: expected KEY.PATH=VALUE (e.g. world.step=PT5M, "
                              "steps=8, config.OpenAI.TEMPERATURE=0.2)",
                              arg);
        return TT_EINVAL;
    }
    if (o->n == S_MAX_OVERRIDES) {
        *errmsg = tt_asprintf("--set: at most %d overrides", S_MAX_OVERRIDES);
        return TT_EINVAL;
    }
    o->args[o->n++] = arg;
    if (s_is_config(arg))
        o->config[o->n_config++] = tt_strdup(arg + strlen(S_CONFIG_PREFIX));
    return TT_OK;
}

const char *const *
coord_overrides_config(const coord_overrides_t *o)
{
    return (const char *const *)o->config;
}

bool
coord_overrides_touch_scenario(const coord_overrides_t *o)
{
    for (size_t i = 0; i < o->n; i++)
        if (!s_is_config(o->args[i]))
            return true;
    return false;
}

/* The value of KEY=VALUE: JSON if it parses (a bare scalar too), else text. */
static json_t *
s_value(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    return v ? v : json_string(text);
}

/* Next segment of a key path: a name (up to '.' or '[') or an index ("[3]",
 * or all digits). Returns false at the end. */
static bool
s_segment(const char **p, char *name, size_t cap, long *index)
{
    const char *s = *p;
    if (*s == '.')
        s++;
    if (!*s)
        return false;
    *index = -1;
    name[0] = '\0';
    if (*s == '[') {
        char *end;
        errno = 0;
        long v = strtol(s + 1, &end, 10);
        if (errno || end == s + 1 || *end != ']' || v < 0)
            return *index = -2, *p = s, true;
        *index = v;
        *p = end + 1;
        return true;
    }
    size_t n = strcspn(s, ".[");
    snprintf(name, cap, "%.*s", (int)n, s);
    bool digits = n > 0;
    for (size_t i = 0; i < n; i++)
        digits = digits && isdigit((unsigned char)s[i]);
    if (digits)
        *index = strtol(name, NULL, 10);
    *p = s + n;
    return true;
}

/* Set value at key path inside root. On failure *why says what. Takes value. */
static bool
s_set_path(json_t *root, const char *key, json_t *value, char *why, size_t cap)
{
    json_t *at = root;
    const char *p = key;
    char name[256];
    long index;
    bool more = s_segment(&p, name, sizeof name, &index);
    while (more) {
        char cur[256];
        long cur_index = index;
        snprintf(cur, sizeof cur, "%s", name);
        more = s_segment(&p, name, sizeof name, &index);
        if (cur_index == -2 || (cur[0] == '\0' && cur_index < 0)) {
            snprintf(why, cap, "bad key path (expected names and [N] list indexes)");
            break;
        }
        json_t *next = NULL;
        if (json_is_array(at) && cur_index >= 0) {
            if ((size_t)cur_index >= json_array_size(at)) {
                snprintf(why, cap, "index %ld is past the end of a list of %zu", cur_index,
                         json_array_size(at));
                break;
            }
            if (!more)
                return json_array_set_new(at, (size_t)cur_index, value) == 0;
            next = json_array_get(at, (size_t)cur_index);
        } else if (json_is_object(at) && cur[0]) {
            if (!more)
                return json_object_set_new(at, cur, value) == 0;
            next = json_object_get(at, cur);
            if (!next) {
                next = json_object();
                json_object_set_new(at, cur, next);
            }
        } else {
            snprintf(why, cap, "cannot take %s \"%.100s\" of %s", cur_index >= 0 ? "item" : "key",
                     cur,
                     json_is_array(at)    ? "a list (use [N])"
                     : json_is_object(at) ? "an object"
                                          : "a plain value");
            break;
        }
        at = next;
    }
    if (!why[0])
        snprintf(why, cap, "empty key path");
    json_decref(value);
    return false;
}

tt_err_t
coord_overrides_apply(const coord_overrides_t *o, const char *path, char **text, char **errmsg)
{
    *text = NULL;
    tt_jdoc_t *doc;
    tt_err_t err = tt_jdoc_load_file(path, &doc, errmsg);
    if (err)
        return err;
    json_t *root = json_deep_copy(tt_jdoc_root(doc));
    tt_jdoc_destroy(&doc);
    for (size_t i = 0; i < o->n && !err; i++) {
        if (s_is_config(o->args[i]))
            continue;
        const char *eq = strchr(o->args[i], '=');
        char *key = tt_strndup(o->args[i], (size_t)(eq - o->args[i]));
        char why[300] = "";
        if (!s_set_path(root, key, s_value(eq + 1), why, sizeof why)) {
            *errmsg = tt_asprintf("--set %s: %s: %s", o->args[i], key, why);
            err = TT_EINVAL;
        }
        free(key);
    }
    if (!err) {
        char *dumped = json_dumps(root, JSON_INDENT(2) | JSON_ENCODE_ANY);
        *text = tt_asprintf("%s\n", dumped);
        free(dumped);
    }
    json_decref(root);
    return err;
}

json_t *
coord_overrides_json(const coord_overrides_t *o)
{
    json_t *j = json_object();
    for (size_t i = 0; i < o->n; i++) {
        const char *eq = strchr(o->args[i], '=');
        char *key = tt_strndup(o->args[i], (size_t)(eq - o->args[i]));
        json_object_set_new(j, key, s_value(eq + 1));
        free(key);
    }
    return j;
}
