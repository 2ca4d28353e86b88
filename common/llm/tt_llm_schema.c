/*  tt_llm_schema -- check a model's JSON against the schema it was asked for.
 *
 *  Providers with strict structured output enforce the schema themselves; the
 *  rest (json_object mode, local servers, fakellm's schema-invalid fault) do
 *  not, so every structured answer is checked here before it is accepted. Only
 *  the subset of JSON Schema that strict mode allows and our schemas use is
 *  understood: type (a name or a list of names), enum, const, properties,
 *  required, additionalProperties (false or a schema), items, minItems and
 *  maxItems. Other keywords are ignored, never guessed at. The first problem
 *  found is reported as "$.path: what", short enough to paste into a re-ask.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_json.h"
#include "tt_llm_impl.h"
#include "tt_mem.h"

#define S_MAX_DEPTH 64
#define S_PATH_MAX  256
#define S_SHOW_MAX  80 /* longest value or list quoted in a reason */

typedef struct {
    char path[S_PATH_MAX];
    char *why;
} s_ctx_t;

static bool s_check(s_ctx_t *ctx, const json_t *schema, const json_t *v, int depth);

static const char *
s_type_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

static bool
s_type_is(const char *name, const json_t *v)
{
    if (!strcmp(name, "number"))
        return json_is_number(v);
    return !strcmp(name, s_type_of(v));
}

static bool __attribute__((format(printf, 2, 3))) s_fail(s_ctx_t *ctx, const char *fmt, ...)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    tt_buf_addf(&b, "%s: ", ctx->path[0] ? ctx->path : "$");
    va_list ap;
    va_start(ap, fmt);
    tt_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    ctx->why = tt_buf_take(&b);
    return false;
}

/* Compact JSON of v, cut to S_SHOW_MAX characters. Caller frees. */
static char *
s_show(const json_t *v)
{
    char *s = tt_json_compact(v);
    if (strlen(s) > S_SHOW_MAX)
        memcpy(s + S_SHOW_MAX - 3, "...", 4);
    return s;
}

static bool
s_check_type(s_ctx_t *ctx, const json_t *type, const json_t *v)
{
    if (json_is_string(type)) {
        if (s_type_is(json_string_value(type), v))
            return true;
        return s_fail(ctx, "expected %s, got %s", json_string_value(type), s_type_of(v));
    }
    if (!json_is_array(type))
        return true;
    size_t i;
    json_t *t;
    json_array_foreach(type, i, t)
    {
        if (json_is_string(t) && s_type_is(json_string_value(t), v))
            return true;
    }
    char *names = s_show(type);
    s_fail(ctx, "expected one of the types %s, got %s", names, s_type_of(v));
    free(names);
    return false;
}

static bool
s_check_enum(s_ctx_t *ctx, const json_t *schema, const json_t *v)
{
    const json_t *c = json_object_get(schema, "const");
    if (c && !json_equal(c, v)) {
        char *want = s_show(c);
        s_fail(ctx, "expected %s", want);
        free(want);
        return false;
    }
    const json_t *e = json_object_get(schema, "enum");
    if (!json_is_array(e))
        return true;
    size_t i;
    json_t *x;
    json_array_foreach(e, i, x)
    {
        if (json_equal(x, v))
            return true;
    }
    char *got = s_show(v), *want = s_show(e);
    s_fail(ctx, "%s is not one of %s", got, want);
    free(got);
    free(want);
    return false;
}

/* Descend into path + suffix for one check, then restore the path. */
static bool
s_check_at(s_ctx_t *ctx, const json_t *schema, const json_t *v, int depth, const char *key,
           size_t index)
{
    size_t len = strlen(ctx->path);
    if (key)
        snprintf(ctx->path + len, sizeof ctx->path - len, "%s.%s", len ? "" : "$", key);
    else
        snprintf(ctx->path + len, sizeof ctx->path - len, "%s[%zu]", len ? "" : "$", index);
    bool ok = s_check(ctx, schema, v, depth + 1);
    ctx->path[len] = '\0';
    return ok;
}

static bool
s_check_object(s_ctx_t *ctx, const json_t *schema, const json_t *v, int depth)
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *req = json_object_get(schema, "required");
    size_t i;
    json_t *x;
    json_array_foreach(req, i, x)
    {
        if (json_is_string(x) && !json_object_get(v, json_string_value(x)))
            return s_fail(ctx, "the required field \"%s\" is missing", json_string_value(x));
    }
    const json_t *extra = json_object_get(schema, "additionalProperties");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        const json_t *sub = json_object_get(props, key);
        if (!sub && json_is_false(extra))
            return s_fail(ctx, "the field \"%s\" is not allowed here", key);
        if (!sub && json_is_object(extra))
            sub = extra;
        if (sub && !s_check_at(ctx, sub, val, depth, key, 0))
            return false;
    }
    return true;
}

static bool
s_check_array(s_ctx_t *ctx, const json_t *schema, const json_t *v, int depth)
{
    json_int_t n = (json_int_t)json_array_size(v);
    json_int_t lo = tt_json_int(schema, "minItems", 0);
    json_int_t hi = tt_json_int(schema, "maxItems", -1);
    if (n < lo)
        return s_fail(ctx, "has %lld items, needs at least %lld", (long long)n, (long long)lo);
    if (hi >= 0 && n > hi)
        return s_fail(ctx, "has %lld items, allows at most %lld", (long long)n, (long long)hi);
    const json_t *items = json_object_get(schema, "items");
    if (!json_is_object(items))
        return true;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!s_check_at(ctx, items, x, depth, NULL, i))
            return false;
    }
    return true;
}

static bool
s_check(s_ctx_t *ctx, const json_t *schema, const json_t *v, int depth)
{
    if (!json_is_object(schema))
        return true; /* true/{} schemas accept anything */
    if (depth > S_MAX_DEPTH)
        return s_fail(ctx, "nests deeper than %d levels", S_MAX_DEPTH);
    if (!s_check_type(ctx, json_object_get(schema, "type"), v) || !s_check_enum(ctx, schema, v))
        return false;
    if (json_is_object(v))
        return s_check_object(ctx, schema, v, depth);
    if (json_is_array(v))
        return s_check_array(ctx, schema, v, depth);
    return true;
}

bool
tt_llm_schema_check(const json_t *schema, const json_t *value, char **why)
{
    *why = NULL;
    s_ctx_t ctx = {.path = ""};
    if (s_check(&ctx, schema, value, 0))
        return true;
    *why = ctx.why;
    return false;
}
