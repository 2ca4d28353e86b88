/*  coord_factory_prompt -- what the factory asks the model, and how it judges
 *  the answers.
 *
 *  Each task is one system message (the instructions, our own wording) and one
 *  user message that is a JSON object holding the data: the population context,
 *  the dimensions, the particularities of one person, the names already taken.
 *  Data as JSON keeps the model from confusing instructions with content, and
 *  lets the offline model (common/tt_offline_factory.c) read the same request a
 *  real model reads. The schemas use only what strict structured output accepts
 *  (every property required, no additional properties), so OpenAI enforces them;
 *  the validators check what a schema cannot say (ages, non-empty lists, names
 *  usable as agent names) and explain any problem in one line for the re-ask.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coord_factory_impl.h"
#include "tt_mem.h"
#include "tt_persona.h"

#define S_AGE_MAX      120
#define S_QUANTITY_MAX 1000000
#define S_PERSON_TEMP  1.0 /* TinyTroupe's: people should differ */

static const char s_dims_system[] =
    "You design the sampling space of a synthetic population for a social simulation. From "
    "the description of a population, list the dimensions along which its members differ and, "
    "for each, the values it takes with the share of people holding each value (shares of one "
    "dimension add up to 1). Cover demographics (age, gender, where people live, education, "
    "household income), work, personality, political and religious outlook, cultural "
    "background, tastes and everyday habits. Values must be concrete and mutually exclusive. "
    "Keep rare and extreme values, with small shares, so that the population is not made of "
    "averages. A numeric dimension may give a range [min, max] instead of values (then leave "
    "values empty; otherwise leave range empty). sampling_space_description restates the "
    "population in two or three sentences.";

static const char s_plan_system[] =
    "You turn a sampling space into a sampling plan: a list of subpopulations, each one "
    "combination of values (one value for each dimension, taken from that dimension's values, "
    "or for a range a number or a narrower range such as \"30-39\") and the number of people "
    "to draw from it. Follow the shares of the sampling space, but also include unusual "
    "combinations so that minorities and extremes are represented. Use between 4 and 40 "
    "subpopulations; the quantities should add up to population_size. Describe each "
    "subpopulation in one sentence.";

static const char s_person_system[] =
    "You write the specification of one realistic, specific person for a social simulation. "
    "The person belongs to the population described in population_context and has every "
    "characteristic listed in particularities; invent everything else so that it fits. Make "
    "the person believable and particular rather than typical: a real name that suits their "
    "age and background, a concrete job at a named (possibly fictional) organisation, strengths "
    "and flaws, opinions that may be unpopular, habits, a health condition if one is likely. "
    "Avoid clich\xc3\xa9s and filler. Fields: name (first and last name, never one of "
    "names_already_taken), age (an integer), gender, nationality, residence (city and "
    "country), education, long_term_goals (3 or more), occupation {title, organization, "
    "description of a working week}, style (how they speak and write), personality {traits "
    "(10 or more adjectives or short phrases), big_five {openness, conscientiousness, "
    "extraversion, agreeableness, neuroticism}, each a level with a few words}, preferences "
    "{interests, likes, dislikes: 10 or more each}, beliefs (15 or more, about work, society, "
    "money, technology, family), skills, behaviors {general habits, routines: morning, workday, "
    "evening, weekend}, health, relationships (people in their life: name and description), "
    "other_facts (10 or more facts from their past and present).";
/* added with --describe: what TinyTroupe says of agent_particularities, in our words */
static const char s_person_primary[] =
    " particularities.primary_characteristics come first: the person has them above all, and "
    "where a sampled value conflicts with them, follow the primary characteristics and drop "
    "that value.";

/* ------------------------------------------------------------------ schemas */

static json_t *
s_t(const char *type)
{
    return json_pack("{s:s}", "type", type);
}

static json_t *
s_list(json_t *items)
{
    return json_pack("{s:s, s:o}", "type", "array", "items", items);
}

/* A strict object: every property required, nothing else allowed. Steals props. */
static json_t *
s_object(json_t *props)
{
    json_t *req = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(props, key, v)
    {
        json_array_append_new(req, json_string(key));
    }
    return json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props, "required", req,
                     "additionalProperties", 0);
}

static json_t *
s_dims_schema(void)
{
    json_t *value =
        s_object(json_pack("{s:o, s:o}", "value", s_t("string"), "weight", s_t("number")));
    json_t *dim = s_object(json_pack("{s:o, s:o, s:o}", "name", s_t("string"), "values",
                                     s_list(value), "range", s_list(s_t("number"))));
    return s_object(json_pack("{s:o, s:o}", "sampling_space_description", s_t("string"),
                              "dimensions", s_list(dim)));
}

static json_t *
s_plan_schema(void)
{
    json_t *sv =
        s_object(json_pack("{s:o, s:o}", "dimension", s_t("string"), "value", s_t("string")));
    json_t *row = s_object(json_pack("{s:o, s:o, s:o, s:o}", "id", s_t("integer"),
                                     "subpopulation_description", s_t("string"), "sampled_values",
                                     s_list(sv), "quantity", s_t("integer")));
    return s_object(json_pack("{s:o}", "sample_plan", s_list(row)));
}

json_t *
coord_factory_person_schema(void)
{
    json_t *strs = s_list(s_t("string"));
    json_t *occupation =
        s_object(json_pack("{s:o, s:o, s:o}", "title", s_t("string"), "organization", s_t("string"),
                           "description", s_t("string")));
    json_t *big5 =
        s_object(json_pack("{s:o, s:o, s:o, s:o, s:o}", "openness", s_t("string"),
                           "conscientiousness", s_t("string"), "extraversion", s_t("string"),
                           "agreeableness", s_t("string"), "neuroticism", s_t("string")));
    json_t *personality = s_object(json_pack("{s:O, s:o}", "traits", strs, "big_five", big5));
    json_t *preferences =
        s_object(json_pack("{s:O, s:O, s:O}", "interests", strs, "likes", strs, "dislikes", strs));
    json_t *routines = s_object(json_pack("{s:O, s:O, s:O, s:O}", "morning", strs, "workday", strs,
                                          "evening", strs, "weekend", strs));
    json_t *behaviors = s_object(json_pack("{s:O, s:o}", "general", strs, "routines", routines));
    json_t *relation =
        s_object(json_pack("{s:o, s:o}", "name", s_t("string"), "description", s_t("string")));
    json_t *props = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:O, s:o, s:o, s:o, s:o, s:O, s:O, s:o, s:o, s:o, s:O}",
        "name", s_t("string"), "age", s_t("integer"), "gender", s_t("string"), "nationality",
        s_t("string"), "residence", s_t("string"), "education", s_t("string"), "long_term_goals",
        strs, "occupation", occupation, "style", s_t("string"), "personality", personality,
        "preferences", preferences, "skills", strs, "beliefs", strs, "behaviors", behaviors,
        "health", s_t("string"), "relationships", s_list(relation), "other_facts", strs);
    json_decref(strs);
    return s_object(props);
}

/* ------------------------------------------------------------------ requests */

static tt_llm_request_t *
s_request(const char *purpose, const char *system, json_t *user, const char *schema_name,
          json_t *schema, tt_llm_check_fn *check, uint64_t seed)
{
    char *text = tt_json_compact(user);
    json_t *msgs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", system,
                             "role", "user", "content", text);
    tt_llm_request_t *req = tt_llm_request_chat(purpose, msgs, schema_name, schema);
    tt_llm_request_set_checker(req, check, NULL);
    tt_llm_request_set_seed(req, seed);
    json_decref(msgs);
    json_decref(schema);
    json_decref(user);
    free(text);
    return req;
}

tt_llm_request_t *
coord_factory_dims_request(const char *context, uint32_t count, uint64_t seed)
{
    json_t *user =
        json_pack("{s:s, s:i}", "population_context", context, "population_size", (int)count);
    return s_request("factory dimensions", s_dims_system, user, "dimensions", s_dims_schema(),
                     coord_factory_dims_check, seed);
}

/* Dimensions as the model reads them: ranges and values, shares rounded. */
static json_t *
s_dims_for_prompt(const json_t *dims)
{
    json_t *out = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(dims, i, d)
    {
        json_t *o = json_pack("{s:O}", "name", json_object_get(d, "name"));
        json_t *values = json_array();
        size_t j;
        json_t *v;
        json_array_foreach(json_object_get(d, "values"), j, v)
        {
            double w = json_number_value(json_object_get(v, "weight"));
            if (json_is_true(json_object_get(d, "weighted")))
                json_array_append_new(values,
                                      json_pack("{s:O, s:f}", "value", json_object_get(v, "value"),
                                                "share", round(w * 1000) / 1000));
            else
                json_array_append(values, json_object_get(v, "value"));
        }
        json_object_set_new(o, "values", values);
        if (json_object_get(d, "range"))
            json_object_set(o, "range", json_object_get(d, "range"));
        json_array_append_new(out, o);
    }
    return out;
}

tt_llm_request_t *
coord_factory_plan_request(const char *context, uint32_t count, const json_t *dims, uint64_t seed)
{
    json_t *user = json_pack("{s:s, s:i, s:o}", "population_context", context, "population_size",
                             (int)count, "dimensions", s_dims_for_prompt(dims));
    return s_request("factory plan", s_plan_system, user, "sample_plan", s_plan_schema(),
                     coord_factory_plan_check, seed);
}

tt_llm_request_t *
coord_factory_person_request(const char *context, const char *describe, uint32_t k, uint32_t count,
                             const json_t *row, const json_t *taken, uint32_t wave, uint64_t seed)
{
    json_t *part = json_object();
    /* TinyTroupe's agent_particularities: the primary characteristics win over
     * any sampled value they conflict with (said in the system prompt) */
    if (describe)
        json_object_set_new(part, "primary_characteristics", json_string(describe));
    json_object_set_new(part, "subpopulation",
                        json_string(tt_json_str(row, "subpopulation_description", "")));
    json_object_set(part, "sampled_values", json_object_get(row, "sampled_values"));
    json_t *user = json_pack("{s:s, s:{s:i, s:i}, s:o}", "population_context", context, "person",
                             "number", (int)k + 1, "of", (int)count, "particularities", part);
    if (taken && json_array_size(taken))
        json_object_set(user, "names_already_taken", (json_t *)taken);
    if (wave > 0)
        json_object_set_new(user, "note",
                            json_string("The name you gave before is already taken: choose a "
                                        "different name, not in names_already_taken."));
    char *system = describe ? tt_asprintf("%s%s", s_person_system, s_person_primary) : NULL;
    tt_llm_request_t *req =
        s_request("factory person", system ? system : s_person_system, user, "person",
                  coord_factory_person_schema(), coord_factory_person_check, seed);
    free(system);
    tt_llm_request_set_temperature(req, S_PERSON_TEMP);
    return req;
}

/* ------------------------------------------------------------------ validators */

static tt_err_t s_why(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static tt_err_t
s_why(char **why, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    *why = tt_strdup(buf);
    return TT_ELLM;
}

/* A private copy of the answer to normalise (the caller's value is borrowed). */
static json_t *
s_copy(const json_t *value, char **why)
{
    if (!json_is_object(value)) {
        s_why(why, "expected one JSON object");
        return NULL;
    }
    return json_deep_copy(value);
}

tt_err_t
coord_factory_dims_check(const json_t *value, const void *arg, json_t **normal, char **why)
{
    (void)arg;
    json_t *v = s_copy(value, why);
    if (!v)
        return TT_ELLM;
    json_t *dims = json_object_get(v, "dimensions");
    if (!json_is_array(dims)) {
        json_decref(v);
        return s_why(why, "$.dimensions: expected a list of dimensions");
    }
    if (!coord_factory_dims_normalise(dims, why)) {
        json_decref(v);
        return TT_ELLM;
    }
    *normal = v;
    return TT_OK;
}

/* sampled_values [{"dimension","value"}] -> {dimension: value} */
static tt_err_t
s_plan_row(json_t *row, size_t i, char **why)
{
    json_t *q = json_object_get(row, "quantity");
    if (!json_is_integer(q) || json_integer_value(q) < 0 || json_integer_value(q) > S_QUANTITY_MAX)
        return s_why(why, "$.sample_plan[%zu].quantity: expected a whole number >= 0", i);
    json_t *sv = json_object_get(row, "sampled_values"), *obj = json_object();
    size_t j;
    json_t *pair;
    json_array_foreach(sv, j, pair)
    {
        const char *dim = tt_json_str(pair, "dimension", ""),
                   *value = tt_json_str(pair, "value", "");
        if (!*dim || !*value || json_object_get(obj, dim)) {
            json_decref(obj);
            return s_why(why,
                         "$.sample_plan[%zu].sampled_values[%zu]: expected a dimension named "
                         "once and a non-empty value",
                         i, j);
        }
        json_object_set_new(obj, dim, json_string(value));
    }
    if (!json_is_array(sv) || json_object_size(obj) == 0) {
        json_decref(obj);
        return s_why(why, "$.sample_plan[%zu].sampled_values: expected a non-empty list", i);
    }
    json_object_set_new(row, "sampled_values", obj);
    if (!json_is_string(json_object_get(row, "subpopulation_description")))
        json_object_set_new(row, "subpopulation_description", json_string(""));
    return TT_OK;
}

tt_err_t
coord_factory_plan_check(const json_t *value, const void *arg, json_t **normal, char **why)
{
    (void)arg;
    json_t *v = s_copy(value, why);
    if (!v)
        return TT_ELLM;
    json_t *rows = json_object_get(v, "sample_plan");
    size_t n = json_array_size(rows);
    tt_err_t err = TT_OK;
    if (!json_is_array(rows) || n == 0 || n > COORD_FACTORY_MAX_PLAN_ROWS)
        err = s_why(why, "$.sample_plan: expected a list of 1 to %d subpopulations",
                    COORD_FACTORY_MAX_PLAN_ROWS);
    for (size_t i = 0; i < n && !err; i++) {
        json_t *row = json_array_get(rows, i);
        err = json_is_object(row) ? s_plan_row(row, i, why)
                                  : s_why(why, "$.sample_plan[%zu]: expected an object", i);
    }
    if (err) {
        json_decref(v);
        return err;
    }
    *normal = v;
    return TT_OK;
}

/* --- the person */

typedef struct {
    const char *key;
    const char *shape; /* s: text, l: list of texts, o/p/r/b/x: objects below */
} s_field_t;

/* TinyTroupe's mandatory fields, in its order. */
static const s_field_t s_fields[] = {
    {"name", "s"},        {"age", "a"},         {"gender", "s"},          {"nationality", "s"},
    {"residence", "s"},   {"education", "s"},   {"long_term_goals", "l"}, {"occupation", "o"},
    {"style", "s"},       {"personality", "p"}, {"preferences", "r"},     {"skills", "l"},
    {"beliefs", "l"},     {"behaviors", "b"},   {"health", "s"},          {"relationships", "x"},
    {"other_facts", "l"},
};

static bool
s_text(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

static bool
s_texts(const json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return false;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!s_text(x))
            return false;
    }
    return true;
}

/* Check the object at path for texts (keys in t) and lists of texts (keys in l). */
static tt_err_t
s_members(const json_t *obj, const char *path, const char *const *t, const char *const *l,
          char **why)
{
    if (!json_is_object(obj))
        return s_why(why, "$.%s: expected an object", path);
    for (size_t i = 0; t && t[i]; i++)
        if (!s_text(json_object_get(obj, t[i])))
            return s_why(why, "$.%s.%s: expected non-empty text", path, t[i]);
    for (size_t i = 0; l && l[i]; i++)
        if (!s_texts(json_object_get(obj, l[i])))
            return s_why(why, "$.%s.%s: expected a non-empty list of texts", path, l[i]);
    return TT_OK;
}

static tt_err_t
s_personality(const json_t *p, char **why)
{
    static const char *const lists[] = {"traits", NULL};
    static const char *const five[] = {"openness",      "conscientiousness", "extraversion",
                                       "agreeableness", "neuroticism",       NULL};
    tt_err_t err = s_members(p, "personality", NULL, lists, why);
    const json_t *b5 = json_object_get(p, "big_five");
    for (size_t i = 0; !err && five[i]; i++) {
        const json_t *x = json_object_get(b5, five[i]);
        if (!s_text(x) && !json_is_number(x))
            err =
                s_why(why, "$.personality.big_five.%s: expected a level such as \"High\"", five[i]);
    }
    return err;
}

static tt_err_t
s_relationships(const json_t *v, char **why)
{
    if (!json_is_array(v))
        return s_why(why, "$.relationships: expected a list of {name, description}");
    size_t i;
    json_t *r;
    json_array_foreach(v, i, r)
    {
        if (!s_text(json_object_get(r, "name")) ||
            !json_is_string(json_object_get(r, "description")))
            return s_why(why, "$.relationships[%zu]: expected {name, description}", i);
    }
    return TT_OK;
}

static tt_err_t
s_field(const s_field_t *f, const json_t *v, char **why)
{
    static const char *const occ[] = {"title", "organization", "description", NULL};
    static const char *const prefs[] = {"interests", "likes", "dislikes", NULL};
    static const char *const general[] = {"general", NULL};
    if (!v)
        return s_why(why, "$.%s: missing (every field is mandatory)", f->key);
    switch (f->shape[0]) {
    case 's':
        return s_text(v) ? TT_OK : s_why(why, "$.%s: expected non-empty text", f->key);
    case 'a':
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > S_AGE_MAX)
            return s_why(why, "$.age: expected a whole number of years, 0 to %d", S_AGE_MAX);
        return TT_OK;
    case 'l':
        return s_texts(v) ? TT_OK : s_why(why, "$.%s: expected a non-empty list of texts", f->key);
    case 'o':
        return s_members(v, f->key, occ, NULL, why);
    case 'p':
        return s_personality(v, why);
    case 'r':
        return s_members(v, f->key, NULL, prefs, why);
    case 'b':
        if (s_members(v, f->key, NULL, general, why))
            return TT_ELLM;
        return json_is_object(json_object_get(v, "routines"))
                   ? TT_OK
                   : s_why(why, "$.behaviors.routines: expected an object");
    default:
        return s_relationships(v, why);
    }
}

tt_err_t
coord_factory_person_check(const json_t *v, const void *arg, json_t **normal, char **why)
{
    (void)arg;
    if (!json_is_object(v))
        return s_why(why, "expected one JSON object");
    tt_err_t err = TT_OK;
    size_t nf = sizeof s_fields / sizeof s_fields[0];
    for (size_t i = 0; i < nf && !err; i++)
        err = s_field(&s_fields[i], json_object_get(v, s_fields[i].key), why);
    const char *name = tt_json_str(v, "name", "");
    if (!err && (!tt_persona_name_ok(name) || name[0] == ' ' || name[strlen(name) - 1] == ' '))
        err = s_why(why,
                    "$.name: expected a person's name of at most %d bytes, without control "
                    "characters or surrounding spaces",
                    TT_NAME_MAX);
    if (err)
        return err;
    /* TinyTroupe's order first, then anything else the model added */
    json_t *ordered = json_object();
    for (size_t i = 0; i < nf; i++)
        json_object_set(ordered, s_fields[i].key, json_object_get(v, s_fields[i].key));
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        if (!json_object_get(ordered, key))
            json_object_set(ordered, key, x);
    }
    *normal = ordered;
    return TT_OK;
}
