/*  tt_turn -- the turn schema and its validator.
 *
 *  The validator is deliberately lenient about shape where the meaning is
 *  clear (a goals list becomes one string, a missing target becomes "", an
 *  object content becomes its JSON text) and strict where it is not (unknown
 *  action types, no actions array, oversize text), because a strict failure
 *  costs a re-ask and a lenient one costs nothing.
 */
#include "tt_turn.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tt_json.h"
#include "tt_mem.h"
#include "tt_repair.h"

void
tt_turn_rules_init(tt_turn_rules_t *rules)
{
    memset(rules, 0, sizeof *rules);
    static const char *base[] = {"TALK", "THINK", "REACH_OUT", "DONE"};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        tt_turn_rules_add(rules, base[i]);
}

bool
tt_turn_rules_add(tt_turn_rules_t *rules, const char *type)
{
    size_t len = strlen(type);
    if (len == 0 || len >= TT_MAX_TYPE_LEN)
        return false;
    for (const char *p = type; *p; p++)
        if (!(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return false;
    if (tt_turn_rules_has(rules, type))
        return true;
    if (rules->n_types >= TT_MAX_ACTION_TYPES)
        return false;
    memcpy(rules->types[rules->n_types++], type, len + 1);
    return true;
}

bool
tt_turn_rules_has(const tt_turn_rules_t *rules, const char *type)
{
    for (size_t i = 0; i < rules->n_types; i++)
        if (!strcmp(rules->types[i], type))
            return true;
    return false;
}

json_t *
tt_turn_schema(const tt_turn_rules_t *rules)
{
    json_t *types = json_array();
    for (size_t i = 0; i < rules->n_types; i++)
        json_array_append_new(types, json_string(rules->types[i]));
    json_t *action = json_pack("{s:s, s:{s:{s:s, s:o}, s:{s:s}, s:{s:s}}, s:[s,s,s], s:b}", "type",
                               "object", "properties", "type", "type", "string", "enum", types,
                               "content", "type", "string", "target", "type", "string", "required",
                               "type", "content", "target", "additionalProperties", 0);
    json_t *cog = json_pack("{s:s, s:{s:{s:s}, s:{s:s, s:{s:s}}, s:{s:s}, s:{s:s}},"
                            " s:[s,s,s,s], s:b}",
                            "type", "object", "properties", "goals", "type", "string", "context",
                            "type", "array", "items", "type", "string", "attention", "type",
                            "string", "emotions", "type", "string", "required", "goals", "context",
                            "attention", "emotions", "additionalProperties", 0);
    json_t *schema =
        json_pack("{s:s, s:{s:{s:s, s:o}, s:o}, s:[s,s], s:b}", "type", "object", "properties",
                  "actions", "type", "array", "items", action, "cognitive_state", cog, "required",
                  "actions", "cognitive_state", "additionalProperties", 0);
    TT_ASSERT(schema);
    return schema;
}

/* A string field: strings pass, null/absent become "", numbers and bools are
 * printed, objects and arrays become compact JSON. Bounded. */
static bool
s_text(json_t *v, char **out, char **why, const char *what)
{
    char *text;
    if (!v || json_is_null(v))
        text = tt_strdup("");
    else if (json_is_string(v))
        text = tt_strdup(json_string_value(v));
    else
        text = tt_json_compact(v);
    if (strlen(text) > TT_MAX_CONTENT_BYTES) {
        *why = tt_asprintf("%s is longer than %d bytes; keep it short", what, TT_MAX_CONTENT_BYTES);
        free(text);
        return false;
    }
    *out = text;
    return true;
}

static json_t *
s_action(const char *type, const char *content, const char *target)
{
    return json_pack("{s:s, s:s, s:s}", "type", type, "content", content, "target", target);
}

static bool
s_actions(json_t *list, const tt_turn_rules_t *rules, json_t *out, char **why)
{
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a)
    {
        if (json_array_size(out) >= TT_MAX_ACTIONS_PER_TURN - 1)
            break; /* keep room for the final DONE */
        if (!json_is_object(a)) {
            *why = tt_asprintf("actions[%zu] is not an object with type, content and target", i);
            return false;
        }
        const char *t = tt_json_str(a, "type", NULL);
        char type[TT_MAX_TYPE_LEN];
        size_t n = 0;
        for (; t && t[n] && n + 1 < sizeof type; n++)
            type[n] = (char)toupper((unsigned char)t[n]);
        type[n] = '\0';
        if (!t || !tt_turn_rules_has(rules, type)) {
            *why = tt_asprintf("actions[%zu].type \"%.40s\" is not one of the available action "
                               "types",
                               i, t ? t : "(missing)");
            return false;
        }
        char *content = NULL, *target = NULL;
        if (!s_text(json_object_get(a, "content"), &content, why, "an action's content") ||
            !s_text(json_object_get(a, "target"), &target, why, "an action's target")) {
            free(content);
            return false;
        }
        json_array_append_new(out, s_action(type, content, target));
        free(content);
        free(target);
        if (!strcmp(type, "DONE"))
            return true;
    }
    json_array_append_new(out, s_action("DONE", "", ""));
    return true;
}

static bool
s_cognitive(json_t *cs, json_t **out, char **why)
{
    if (cs && !json_is_object(cs)) {
        *why = tt_strdup("cognitive_state must be an object with goals, context, attention and "
                         "emotions");
        return false;
    }
    char *goals = NULL, *attention = NULL, *emotions = NULL;
    json_t *goals_v = json_object_get(cs, "goals");
    if (json_is_array(goals_v)) {
        /* a list of goals reads better as one line */
        char *joined = NULL;
        size_t i;
        json_t *g;
        json_array_foreach(goals_v, i, g)
        {
            char *prev = joined;
            joined = tt_asprintf("%s%s%s", prev ? prev : "", prev ? "; " : "",
                                 json_is_string(g) ? json_string_value(g) : "");
            free(prev);
        }
        goals_v = json_string(joined ? joined : "");
        free(joined);
    } else {
        json_incref(goals_v);
    }
    bool ok = s_text(goals_v, &goals, why, "goals") &&
              s_text(json_object_get(cs, "attention"), &attention, why, "attention") &&
              s_text(json_object_get(cs, "emotions"), &emotions, why, "emotions");
    json_decref(goals_v);
    json_t *context = json_array();
    json_t *ctx = json_object_get(cs, "context");
    if (ok && json_is_string(ctx)) {
        json_array_append(context, ctx);
    } else if (ok && json_is_array(ctx)) {
        size_t i;
        json_t *c;
        json_array_foreach(ctx, i, c)
        {
            char *text;
            if (i >= 20 || !(ok = s_text(c, &text, why, "a context item")))
                break;
            json_array_append_new(context, json_string(text));
            free(text);
        }
    }
    if (ok)
        *out = json_pack("{s:s, s:o, s:s, s:s}", "goals", goals, "context", context, "attention",
                         attention, "emotions", emotions);
    else
        json_decref(context);
    free(goals);
    free(attention);
    free(emotions);
    return ok;
}

tt_err_t
tt_turn_check(const json_t *root, const void *arg, json_t **parsed, char **why)
{
    const tt_turn_rules_t *rules = arg;
    *parsed = NULL;
    *why = NULL;
    json_t *list = json_object_get(root, "actions");
    json_t *single = NULL;
    if (!json_is_array(list)) {
        /* TinyTroupe v1 answers {"action":{...}}: accept one action */
        json_t *one = json_object_get(root, "action");
        if (!json_is_object(one)) {
            *why = tt_strdup("the answer has no \"actions\" array");
            return TT_ELLM;
        }
        list = single = json_pack("[O]", one);
    }
    json_t *actions = json_array(), *cog = NULL;
    bool ok = s_actions(list, rules, actions, why) &&
              s_cognitive(json_object_get(root, "cognitive_state"), &cog, why);
    json_decref(single);
    if (!ok) {
        json_decref(actions);
        return TT_ELLM;
    }
    *parsed = json_pack("{s:o, s:o}", "actions", actions, "cognitive_state", cog);
    return TT_OK;
}

tt_err_t
tt_turn_validate(const char *content, const void *arg, json_t **parsed, char **why)
{
    *parsed = NULL;
    *why = NULL;
    json_t *root = tt_repair_json(content, strlen(content), why);
    if (!root)
        return TT_ELLM;
    tt_err_t err = tt_turn_check(root, arg, parsed, why);
    json_decref(root);
    return err;
}

double
tt_turn_jaccard(const char *a, const char *b)
{
    unsigned ca[256] = {0}, cb[256] = {0};
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        ca[*p]++;
    for (const unsigned char *p = (const unsigned char *)b; *p; p++)
        cb[*p]++;
    unsigned long inter = 0, uni = 0;
    for (int i = 0; i < 256; i++) {
        inter += ca[i] < cb[i] ? ca[i] : cb[i];
        uni += ca[i] > cb[i] ? ca[i] : cb[i];
    }
    return uni ? (double)inter / (double)uni : 1.0;
}
