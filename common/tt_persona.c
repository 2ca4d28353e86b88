/*  tt_persona -- load, validate, merge and describe TinyTroupe personas. */
#include "tt_persona.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_limits.h"
#include "tt_mem.h"
#include "tt_merge.h"

#define S_DIRNAME_KEEP     200 /* bytes of a name kept in its directory name */
#define S_DIRNAME_HASH_HEX 16  /* hex digits of the hash that tells changed names apart */

struct tt_persona {
    json_t *persona; /* the "persona" object */
    char *name;      /* cached persona.name */
};

bool
tt_persona_name_ok(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > TT_NAME_MAX || !tt_utf8_valid(name, len))
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* A byte a directory name may hold as it is. '~' is left out on purpose: it
 * marks the names that were changed (see tt_persona_dirname). */
static bool
s_dir_byte_ok(unsigned char ch)
{
    return ch >= 0x20 && ch != 0x7f && ch != '/' && ch != '\\' && ch != '~';
}

char *
tt_persona_dirname(const char *name)
{
    size_t len = strlen(name);
    bool plain = len > 0 && len <= S_DIRNAME_KEEP && name[0] != '.';
    for (size_t i = 0; plain && i < len; i++)
        plain = s_dir_byte_ok((unsigned char)name[i]);
    if (plain)
        return tt_strdup(name);
    /* Changed names end in "~" and a hash of the exact name: no plain name
     * has a '~', and two changed names differ in their hash, so no two
     * names share a directory ("Ann/Lee" and "Ann_Lee" used to). */
    size_t keep = len < S_DIRNAME_KEEP ? len : S_DIRNAME_KEEP;
    char *d = tt_calloc(keep + 2 + S_DIRNAME_HASH_HEX + 1, 1);
    for (size_t i = 0; i < keep; i++)
        d[i] = s_dir_byte_ok((unsigned char)name[i]) ? name[i] : '_';
    if (keep && d[0] == '.')
        d[0] = '_';
    uint8_t digest[TT_SHA256_LEN];
    char hex[TT_SHA256_HEX_LEN + 1];
    tt_sha256(name, len, digest);
    tt_hex(digest, TT_SHA256_LEN, hex);
    snprintf(d + keep, 2 + S_DIRNAME_HASH_HEX + 1, "~%.*s", S_DIRNAME_HASH_HEX, hex);
    return d;
}

/* A persona is sent whole in every prompt: at most TT_LIMIT_PERSONA bytes of
 * compact JSON. Over it, name the largest of its keys, where the bulk is. */
static bool
s_size_ok(const tt_jdoc_t *doc, const char *path, const json_t *obj, char **errmsg)
{
    size_t total = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    if (total <= TT_LIMIT_PERSONA)
        return true;
    const char *key, *biggest = NULL;
    size_t most = 0;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
        if (n > most) {
            most = n;
            biggest = key;
        }
    }
    char sub[512];
    snprintf(sub, sizeof sub, "%s%spersona%s%s", path, *path ? "." : "", biggest ? "." : "",
             biggest ? biggest : "");
    *errmsg = tt_jdoc_errorf(doc, sub,
                             "the persona is %zu bytes as JSON (this value %zu), more than "
                             "the %zu a persona may have (TT_LIMIT_PERSONA: it goes whole into "
                             "every prompt); put long texts in a documents folder",
                             total, most, TT_LIMIT_PERSONA);
    return false;
}

static tt_err_t
s_from_value(const tt_jdoc_t *doc, const char *path, const json_t *spec, const char *want_type,
             json_t **persona, char **errmsg)
{
    char sub[512];
    if (!json_is_object(spec)) {
        *errmsg = tt_jdoc_errorf(
            doc, path, "expected an object {\"type\":\"%s\",\"persona\":{...}}", want_type);
        return TT_EINVAL;
    }
    json_t *type = json_object_get(spec, "type");
    snprintf(sub, sizeof sub, "%s%stype", path, *path ? "." : "");
    if (type && (!json_is_string(type) || strcmp(json_string_value(type), want_type))) {
        *errmsg = tt_jdoc_errorf(doc, sub, "expected \"%s\"", want_type);
        return TT_EINVAL;
    }
    json_t *obj = json_object_get(spec, "persona");
    snprintf(sub, sizeof sub, "%s%spersona", path, *path ? "." : "");
    if (!json_is_object(obj)) {
        *errmsg = tt_jdoc_errorf(doc, obj ? sub : path, "%s",
                                 obj ? "expected an object" : "missing \"persona\" object");
        return TT_EINVAL;
    }
    if (!strcmp(want_type, "TinyPerson")) {
        json_t *name = json_object_get(obj, "name");
        snprintf(sub, sizeof sub, "%s%spersona%s", path, *path ? "." : "", name ? ".name" : "");
        if (!json_is_string(name) || !tt_persona_name_ok(json_string_value(name))) {
            *errmsg = tt_jdoc_errorf(doc, sub,
                                     "persona.name must be a non-empty string of at most %d "
                                     "bytes without control characters",
                                     TT_NAME_MAX);
            return TT_EINVAL;
        }
    }
    return s_size_ok(doc, path, obj, errmsg) ? (*persona = json_deep_copy(obj), TT_OK) : TT_EINVAL;
}

static tt_persona_t *
s_wrap(json_t *persona)
{
    tt_persona_t *p = tt_new(tt_persona_t);
    p->persona = persona;
    p->name = tt_strdup(tt_json_str(persona, "name", ""));
    return p;
}

tt_err_t
tt_persona_from_doc(const tt_jdoc_t *doc, const char *path, tt_persona_t **out, char **errmsg)
{
    *out = NULL;
    json_t *spec = tt_json_at(tt_jdoc_root(doc), path ? path : "");
    json_t *persona;
    tt_err_t err = s_from_value(doc, path ? path : "", spec, "TinyPerson", &persona, errmsg);
    if (err)
        return err;
    *out = s_wrap(persona);
    return TT_OK;
}

tt_err_t
tt_persona_load_file(const char *path, tt_persona_t **out, char **errmsg)
{
    tt_jdoc_t *doc;
    tt_err_t err = tt_jdoc_load_file(path, &doc, errmsg);
    if (err)
        return err;
    err = tt_persona_from_doc(doc, "", out, errmsg);
    tt_jdoc_destroy(&doc);
    return err;
}

tt_err_t
tt_persona_from_text(const char *text, tt_persona_t **out, char **errmsg)
{
    tt_jdoc_t *doc;
    tt_err_t err = tt_jdoc_load_text("persona", text, strlen(text), &doc, errmsg);
    if (err)
        return err;
    err = tt_persona_from_doc(doc, "", out, errmsg);
    tt_jdoc_destroy(&doc);
    return err;
}

tt_persona_t *
tt_persona_dup(const tt_persona_t *p)
{
    return s_wrap(json_deep_copy(p->persona));
}

void
tt_persona_destroy(tt_persona_t **self_p)
{
    tt_persona_t *p = *self_p;
    if (!p)
        return;
    json_decref(p->persona);
    free(p->name);
    free(p);
    *self_p = NULL;
}

tt_err_t
tt_persona_apply_fragment_file(tt_persona_t *p, const char *path, char **errmsg)
{
    tt_jdoc_t *doc;
    tt_err_t err = tt_jdoc_load_file(path, &doc, errmsg);
    if (err)
        return err;
    json_t *frag;
    err = s_from_value(doc, "", tt_jdoc_root(doc), "Fragment", &frag, errmsg);
    if (!err) {
        /* a "name" is merged like any key: the same name is no change, another
         * one a conflict, as in TinyTroupe's import_fragment */
        char *where = NULL, *why = NULL;
        err = tt_persona_merge(p, frag, &where, &why);
        if (err) {
            char *at = tt_asprintf("persona.%s", where);
            *errmsg = tt_jdoc_errorf(doc, at, "%s", why);
            free(at);
        }
        free(where);
        free(why);
        json_decref(frag);
    }
    tt_jdoc_destroy(&doc);
    return err;
}

/* The persona's name may have changed: keep p->name (which callers borrow)
 * unless it did. */
static void
s_sync_name(tt_persona_t *p)
{
    const char *now = tt_json_str(p->persona, "name", "");
    if (p->name && !strcmp(p->name, now))
        return;
    free(p->name);
    p->name = tt_strdup(now);
}

tt_err_t
tt_persona_merge(tt_persona_t *p, const json_t *persona_obj, char **conflict_path, char **why)
{
    json_t *merged;
    tt_err_t err = tt_merge_dicts(p->persona, persona_obj, NULL, &merged, conflict_path, why);
    if (err)
        return err;
    /* in place: the persona object callers hold stays the same object */
    json_object_clear(p->persona);
    json_object_update(p->persona, merged);
    json_decref(merged);
    s_sync_name(p);
    return TT_OK;
}

const char *
tt_persona_name(const tt_persona_t *p)
{
    return p->name;
}

void
tt_persona_set_name(tt_persona_t *p, const char *name)
{
    json_object_set_new(p->persona, "name", json_string(name));
    free(p->name);
    p->name = tt_strdup(name);
}

json_t *
tt_persona_json(const tt_persona_t *p)
{
    return p->persona;
}

json_t *
tt_persona_get(const tt_persona_t *p, const char *path)
{
    return tt_json_get_path(p->persona, path);
}

/* {"a":{"b":value}} for the path "a.b"; takes value. */
static json_t *
s_nest(const char *path, json_t *value)
{
    const char *dot = strrchr(path, '.');
    json_t *obj = json_object();
    json_object_set_new(obj, dot ? dot + 1 : path, value);
    if (!dot)
        return obj;
    char *parent = tt_strndup(path, (size_t)(dot - path));
    json_t *outer = s_nest(parent, obj);
    free(parent);
    return outer;
}

tt_err_t
tt_persona_define(tt_persona_t *p, const char *path, json_t *value, bool merge, char **errmsg)
{
    if (merge && (json_is_object(value) || json_is_array(value))) {
        json_t *additions = s_nest(path, value);
        char *where = NULL, *why = NULL;
        tt_err_t err = tt_persona_merge(p, additions, &where, &why);
        if (err && errmsg)
            *errmsg = tt_asprintf("%s: %s", where, why);
        free(where);
        free(why);
        json_decref(additions);
        return err;
    }
    json_t *cur = p->persona;
    char key[256];
    for (;;) {
        size_t n = 0;
        while (*path && *path != '.' && n + 1 < sizeof key)
            key[n++] = *path++;
        key[n] = '\0';
        if (*path != '.') {
            json_object_set_new(cur, key, value);
            break;
        }
        path++;
        json_t *next = json_object_get(cur, key);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(cur, key, next);
        }
        cur = next;
    }
    s_sync_name(p);
    return TT_OK;
}

char *
tt_persona_spec_text(const tt_persona_t *p)
{
    json_t *spec = json_pack("{s:s, s:O}", "type", "TinyPerson", "persona", p->persona);
    char *text = tt_json_compact(spec);
    json_decref(spec);
    return text;
}

char *
tt_persona_minibio(const tt_persona_t *p)
{
    tt_buf_t b;
    tt_buf_init(&b, 4096);
    tt_buf_adds(&b, p->name);
    json_t *age = json_object_get(p->persona, "age");
    if (json_is_integer(age))
        tt_buf_addf(&b, ", %lld", (long long)json_integer_value(age));
    const char *title = NULL;
    json_t *occ = json_object_get(p->persona, "occupation");
    if (json_is_string(occ))
        title = json_string_value(occ);
    else
        title = tt_json_str(occ, "title", NULL);
    const char *org = json_is_object(occ) ? tt_json_str(occ, "organization", NULL) : NULL;
    if (title)
        tt_buf_addf(&b, ", %s%s%s", title, org ? " at " : "", org ? org : "");
    const char *nat = tt_json_str(p->persona, "nationality", NULL);
    if (nat)
        tt_buf_addf(&b, ", %s", nat);
    const char *res = tt_json_str(p->persona, "residence", NULL);
    if (!res)
        res = tt_json_str(p->persona, "country_of_residence", NULL);
    if (res)
        tt_buf_addf(&b, ", living in %s", res);
    return tt_buf_take(&b);
}
