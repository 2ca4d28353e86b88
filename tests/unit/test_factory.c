/*  test_factory -- the person factory: the plan's quantities always sum to N and
 *  follow the distributions, population files parse (and fail with positions),
 *  1,000 offline people get unique names fast, malformed people are re-asked
 *  and then reported, duplicate names are asked again and then made unique,
 *  and --replay regenerates the same bytes with no model call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <math.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "coord_factory.h"
#include "coord_factory_impl.h"
#include "fakellm.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_time.h"
#include "tt_tlog.h"
#include "tt_test.h"

static char *s_dir;

static int
s_setup(void **state)
{
    s_dir = tt_test_tmpdir("factory");
    return 0;
}

static int
s_teardown(void **state)
{
    tt_test_rmtree(s_dir);
    free(s_dir);
    return 0;
}

static void
s_offline(tt_config_t *cfg)
{
    char *err = NULL;
    tt_config_init(cfg);
    assert_int_equal(tt_config_resolve(cfg, "offline", &err), TT_OK);
}

static json_t *
s_load_json(const char *path)
{
    json_error_t e;
    json_t *v = json_load_file(path, 0, &e);
    if (!v)
        fail_msg("%s: %s", path, e.text);
    return v;
}

/* ------------------------------------------------------------------ the plan */

static json_t *
s_dims(void)
{
    json_t *dims =
        json_loads("[{\"name\":\"Age\",\"values\":[{\"value\":\"18-34\",\"weight\":50},"
                   "{\"value\":\"35-64\",\"weight\":30},{\"value\":\"65+\",\"weight\":20}]},"
                   "{\"name\":\"Gender\",\"values\":[{\"value\":\"Female\",\"weight\":0.6},"
                   "{\"value\":\"Male\",\"weight\":0.4}]},"
                   "{\"name\":\"Hobby\",\"values\":[\"chess\",\"darts\"]},"
                   "{\"name\":\"Income\",\"range\":[10000,90000]}]",
                   0, NULL);
    char *why = NULL;
    assert_true(coord_factory_dims_normalise(dims, &why));
    return dims;
}

/* A plan: every Age x Gender combination, with quantities a model might give. */
static json_t *
s_cross_plan(void)
{
    static const char *ages[] = {"18-34", "35-64", "65+"}, *genders[] = {"Female", "Male"};
    static const int asked[] = {7, 1, 0, 3, 12, 2};
    json_t *rows = json_array();
    for (int i = 0; i < 6; i++)
        json_array_append_new(rows, json_pack("{s:i, s:s, s:{s:s, s:s, s:s}, s:i}", "id", i + 1,
                                              "subpopulation_description", "", "sampled_values",
                                              "Age", ages[i / 2], "gender", genders[i % 2], "Hobby",
                                              "chess", "quantity", asked[i]));
    return rows;
}

static uint32_t
s_count(const json_t *rows, const char *dim, const char *value)
{
    uint32_t n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(r, "sampled_values"), key, v)
        {
            if (!strcasecmp(key, dim) && !strcmp(json_string_value(v), value))
                n += (uint32_t)tt_json_int(r, "quantity", 0);
        }
    }
    return n;
}

static void
test_plan_sums_to_n_and_follows_the_distributions(void **state)
{
    static const uint32_t ns[] = {1, 2, 3, 5, 6, 7, 10, 97, 100, 1000, 100000};
    json_t *dims = s_dims();
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        uint32_t n = ns[k];
        json_t *rows = s_cross_plan();
        coord_factory_plan_fix(rows, dims, n);
        uint32_t sum = 0, used = 0;
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            json_int_t q = tt_json_int(r, "quantity", -1);
            assert_true(q >= 0);
            sum += (uint32_t)q;
            used += q > 0;
            assert_non_null(json_object_get(r, "requested_quantity"));
        }
        assert_int_equal(sum, n);
        assert_true(used <= n); /* N smaller than the rows: some rows get nobody */
        /* the primary dimension (Age) within one person of its shares */
        static const char *ages[] = {"18-34", "35-64", "65+"};
        static const double age_p[] = {0.5, 0.3, 0.2};
        for (int a = 0; a < 3; a++)
            assert_true(fabs(s_count(rows, "Age", ages[a]) - age_p[a] * n) < 1.0 + 1e-9);
        /* the others within one person per row that carries the value */
        assert_true(fabs(s_count(rows, "Gender", "Female") - 0.6 * n) <= 3.0 + 1e-9);
        assert_true(fabs(s_count(rows, "Gender", "Male") - 0.4 * n) <= 3.0 + 1e-9);
        /* the same plan always gives the same quantities */
        json_t *again = s_cross_plan();
        coord_factory_plan_fix(again, dims, n);
        assert_true(json_equal(rows, again));
        json_decref(again);
        json_decref(rows);
    }
    json_decref(dims);
}

static void
test_plan_of_one_person(void **state)
{
    json_t *dims = s_dims(), *rows = s_cross_plan();
    coord_factory_plan_fix(rows, dims, 1);
    uint32_t ones = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) ones += tt_json_int(r, "quantity", 0) == 1;
    assert_int_equal(ones, 1);
    assert_int_equal(s_count(rows, "Age", "18-34"), 1); /* the most likely age */
    json_decref(rows);
    json_decref(dims);
}

static void
test_plan_without_weights_keeps_the_models_proportions(void **state)
{
    json_t *dims = json_loads("[{\"name\":\"Hobby\",\"values\":[\"chess\",\"darts\"]}]", 0, NULL);
    char *why = NULL;
    assert_true(coord_factory_dims_normalise(dims, &why));
    json_t *rows = json_array();
    for (int i = 1; i <= 4; i++)
        json_array_append_new(
            rows, json_pack("{s:{s:s}, s:i}", "sampled_values", "Hobby", "chess", "quantity", i));
    coord_factory_plan_fix(rows, dims, 20); /* asked 1+2+3+4 = 10: scaled to 20 */
    for (int i = 0; i < 4; i++)
        assert_int_equal(tt_json_int(json_array_get(rows, (size_t)i), "quantity", 0), 2 * (i + 1));
    json_decref(rows);
    json_decref(dims);
}

static void
test_plan_a_model_got_wrong_still_sums(void **state)
{
    /* values nobody declared, a missing dimension, zeros, a huge quantity */
    json_t *dims = s_dims();
    json_t *rows = json_loads(
        "[{\"sampled_values\":{\"Age\":\"18-34\"},\"quantity\":0},"
        "{\"sampled_values\":{\"Age\":\"not an age\",\"Gender\":\"Male\"},\"quantity\":900},"
        "{\"sampled_values\":{\"Colour\":\"blue\"},\"quantity\":0},"
        "{\"sampled_values\":{\"Age\":\"65+\",\"Gender\":\"female\"},\"quantity\":1}]",
        0, NULL);
    for (uint32_t n = 1; n <= 50; n++) {
        coord_factory_plan_fix(rows, dims, n);
        uint32_t sum = 0;
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) sum += (uint32_t)tt_json_int(r, "quantity", 0);
        assert_int_equal(sum, n);
    }
    json_decref(rows);
    json_decref(dims);
}

static void
test_flatten_is_a_seeded_shuffle(void **state)
{
    json_t *dims = s_dims(), *rows = s_cross_plan();
    coord_factory_plan_fix(rows, dims, 200);
    uint32_t n = 0, n2 = 0, n3 = 0;
    uint32_t *a = coord_factory_plan_flatten(rows, 42, &n);
    uint32_t *b = coord_factory_plan_flatten(rows, 42, &n2);
    uint32_t *c = coord_factory_plan_flatten(rows, 43, &n3);
    assert_int_equal(n, 200);
    assert_int_equal(n2, 200);
    assert_memory_equal(a, b, n * sizeof *a);
    assert_memory_not_equal(a, c, n * sizeof *a);
    uint32_t per_row[6] = {0};
    for (uint32_t k = 0; k < n; k++)
        per_row[a[k]]++;
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(per_row[i], tt_json_int(json_array_get(rows, i), "quantity", -1));
    free(a);
    free(b);
    free(c);
    json_decref(rows);
    json_decref(dims);
}

/* ------------------------------------------------------------------ populations */

static tt_err_t
s_parse_text(const char *text, json_t **dims, char **context, char **err)
{
    tt_jdoc_t *doc = NULL;
    tt_err_t rc = tt_jdoc_load_text("pop.json", text, strlen(text), &doc, err);
    if (!rc)
        rc = coord_factory_population_parse(doc, dims, context, err);
    tt_jdoc_destroy(&doc);
    return rc;
}

static void
test_example_populations_parse(void **state)
{
    static const char *files[] = {"halifax.json", "rural_saskatchewan.json",
                                  "montreal_students.json"};
    for (size_t f = 0; f < 3; f++) {
        char *rel = tt_asprintf("examples/populations/%s", files[f]);
        char *path = tt_test_source_path(rel);
        tt_jdoc_t *doc = NULL;
        char *err = NULL, *context = NULL;
        json_t *dims = NULL;
        assert_int_equal(tt_jdoc_load_file(path, &doc, &err), TT_OK);
        assert_int_equal(coord_factory_population_parse(doc, &dims, &context, &err), TT_OK);
        assert_true(json_array_size(dims) >= 6);
        json_t *age = json_array_get(dims, 0);
        assert_string_equal(tt_json_str(age, "name", ""), "Age");
        assert_true(json_is_true(json_object_get(age, "weighted")));
        double sum = 0;
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(age, "values"), i, v) sum +=
            json_number_value(json_object_get(v, "weight"));
        assert_true(fabs(sum - 1.0) < 1e-9);
        assert_non_null(strstr(context, tt_json_str(tt_jdoc_root(doc), "title", "?")));
        json_decref(dims);
        free(context);
        tt_jdoc_destroy(&doc);
        free(path);
        free(rel);
    }
}

static void
test_population_shapes(void **state)
{
    const char *text = "{\"title\":\"Town\",\"content\":{"
                       "\"People\":{\"Sex\":{\"F\":\"50.5 %\",\"M\":\"49.5% (2021)\"},"
                       "\"Tenure\":{\"Owner\":0.7,\"Renter\":0.3},"
                       "\"Age\":{\"min\":18,\"max\":90},"
                       "\"Opinions\":{\"Trusts the news\":\"62%\",\"Owns a car\":\"81%\"},"
                       "\"Median income\":52000},"
                       "\"Hobbies\":[\"chess\",\"darts\",\"bingo\"],"
                       "\"Other\":{\"Sex\":{\"a\":1,\"b\":99}}}}";
    json_t *dims = NULL;
    char *context = NULL, *err = NULL;
    if (s_parse_text(text, &dims, &context, &err) != TT_OK)
        fail_msg("%s", err);
    assert_int_equal(json_array_size(dims), 5);
    json_t *sex = json_array_get(dims, 0), *age = json_array_get(dims, 2);
    assert_string_equal(tt_json_str(sex, "name", ""), "Sex");
    double f = json_number_value(
        json_object_get(json_array_get(json_object_get(sex, "values"), 0), "weight"));
    assert_true(fabs(f - 0.505) < 1e-9);
    assert_string_equal(tt_json_str(age, "name", ""), "Age");
    assert_int_equal(json_array_size(json_object_get(age, "range")), 2);
    json_t *hobbies = json_array_get(dims, 3);
    assert_false(json_is_true(json_object_get(hobbies, "weighted")));
    /* a second "Sex" is named by its path */
    assert_string_equal(tt_json_str(json_array_get(dims, 4), "name", ""), "Other / Sex");
    /* shares of unrelated things and plain numbers are facts */
    assert_non_null(strstr(context, "People / Opinions / Owns a car: 81%"));
    assert_non_null(strstr(context, "People / Median income: 52000"));
    json_decref(dims);
    free(context);
}

/* A population file in TinyTroupe's format read the way its factory reads one:
 * only what a person can have is sampled. Lists of places by level (High/Low)
 * and per-party breakdowns are context. */
static void
test_population_person_level_only(void **state)
{
    char *path = tt_test_source_path("tests/data/fidelity/lakeside.population.json");
    tt_jdoc_t *doc = NULL;
    char *err = NULL, *context = NULL;
    json_t *dims = NULL;
    assert_int_equal(tt_jdoc_load_file(path, &doc, &err), TT_OK);
    if (coord_factory_population_parse(doc, &dims, &context, &err))
        fail_msg("%s", err);
    const char *want[] = {"Age Distribution", "Gender Distribution", "Political Affiliation",
                          "Outdoor Activities"};
    if (json_array_size(dims) != 4) {
        char *text = json_dumps(dims, JSON_COMPACT);
        fail_msg("dimensions: %s", text);
    }
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(tt_json_str(json_array_get(dims, i), "name", ""), want[i]);
    /* the group-level parts are context for every person */
    assert_non_null(strstr(context, "Personality Traits / Openness to Experience: "));
    assert_non_null(strstr(context, "the northern townships"));
    assert_non_null(strstr(context, "Vote by party and sex: "));
    assert_non_null(strstr(context, "Independents / Independent: "));
    assert_non_null(strstr(context, "Interests and Hobbies / Fishing: 34%"));
    json_decref(dims);
    free(context);
    tt_jdoc_destroy(&doc);
    free(path);
}

static void
test_population_errors_have_positions(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{\"title\": \"x\",\n \"content\": {\"Age\": {\"a\": 1,,}}}", "pop.json:2:"},
        {"[1, 2]", "pop.json:1:1: a population file is a JSON object"},
        {"{\"title\": \"x\"}", "pop.json:1:1: expected \"content\""},
        {"{\"title\": 7, \"content\": {}}", "pop.json:1:11: title: expected a string"},
        {"{\"title\": \"x\",\n  \"content\": {\"Note\": \"nothing to sample\"}}",
         "pop.json:2:14: content: no distributions found"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *dims = NULL;
        char *context = NULL, *err = NULL;
        assert_int_equal(s_parse_text(cases[i].text, &dims, &context, &err), TT_EINVAL);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].want);
        assert_null(dims);
        free(err);
    }
}

/* ------------------------------------------------------------------ checkers */

/* Run a checker on an answer's text, as the client does after parsing it. */
static tt_err_t
s_check(tt_llm_check_fn *fn, const char *text, json_t **out, char **why)
{
    json_t *value = json_loads(text, 0, NULL);
    *out = NULL;
    *why = NULL;
    tt_err_t err = fn(value, NULL, out, why);
    json_decref(value);
    return err;
}

static char *
s_offline_person(const char *data)
{
    json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", data);
    char *out = tt_offline_chat(msgs, "person", 7, NULL);
    json_decref(msgs);
    return out;
}

static void
test_person_checker(void **state)
{
    char *good = s_offline_person("{\"particularities\":{\"sampled_values\":{\"Age\":\"30-39\","
                                  "\"Gender\":\"Female\"}}}");
    json_t *parsed = NULL;
    char *why = NULL;
    assert_int_equal(s_check(coord_factory_person_check, good, &parsed, &why), TT_OK);
    json_int_t age = tt_json_int(parsed, "age", 0);
    assert_true(age >= 30 && age <= 39);
    assert_string_equal(tt_json_str(parsed, "gender", ""), "Female");
    /* TinyTroupe's order, whatever the model's */
    assert_string_equal(json_object_iter_key(json_object_iter(parsed)), "name");
    json_decref(parsed);
    static const struct {
        const char *path, *value, *why;
    } bad[] = {
        {"occupation", NULL, "$.occupation: missing"},
        {"age", "\"forty\"", "$.age: expected a whole number"},
        {"age", "130", "$.age: expected a whole number"},
        {"name", "\"\"", "$.name: expected non-empty text"},
        {"beliefs", "[]", "$.beliefs: expected a non-empty list"},
        {"personality", "{\"traits\":[\"kind\"]}", "$.personality.big_five.openness"},
        {"relationships", "[{\"name\":\"X\"}]", "$.relationships[0]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *v = json_loads(good, 0, NULL);
        if (bad[i].value)
            json_object_set_new(v, bad[i].path, json_loads(bad[i].value, JSON_DECODE_ANY, NULL));
        else
            json_object_del(v, bad[i].path);
        char *text = tt_json_compact(v);
        parsed = NULL;
        why = NULL;
        assert_int_equal(s_check(coord_factory_person_check, text, &parsed, &why), TT_ELLM);
        if (!strstr(why, bad[i].why))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, why, bad[i].why);
        assert_null(parsed);
        free(why);
        free(text);
        json_decref(v);
    }
    free(good);
}

static void
test_offline_dimensions_and_plan_validate(void **state)
{
    json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content",
                             "{\"population_context\":\"Adults in Halifax, Canada\","
                             "\"population_size\":25}");
    char *dims_text = tt_offline_chat(msgs, "dimensions", 1, NULL);
    json_t *answer = NULL, *plan = NULL, *none = NULL;
    char *why = NULL;
    assert_int_equal(s_check(coord_factory_dims_check, dims_text, &answer, &why), TT_OK);
    json_t *dims = json_object_get(answer, "dimensions");
    assert_true(json_array_size(dims) >= 5);
    char *dims_json = tt_json_compact(dims);
    char *data = tt_asprintf("{\"population_size\":25,\"dimensions\":%s}", dims_json);
    json_t *plan_msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", data);
    char *plan_text = tt_offline_chat(plan_msgs, "sample_plan", 1, NULL);
    assert_int_equal(s_check(coord_factory_plan_check, plan_text, &plan, &why), TT_OK);
    json_t *rows = json_object_get(plan, "sample_plan");
    assert_true(json_array_size(rows) >= 4);
    assert_true(json_is_object(json_object_get(json_array_get(rows, 0), "sampled_values")));
    /* and what a bad model might say */
    assert_int_equal(s_check(coord_factory_plan_check, "{\"sample_plan\":[]}", &none, &why),
                     TT_ELLM);
    assert_non_null(strstr(why, "$.sample_plan"));
    free(why);
    why = NULL;
    assert_int_equal(
        s_check(coord_factory_dims_check, "{\"dimensions\":[{\"name\":\"A\"}]}", &none, &why),
        TT_ELLM);
    assert_non_null(strstr(why, "give values or a range"));
    assert_null(none);
    free(why);
    json_decref(plan);
    json_decref(plan_msgs);
    json_decref(answer);
    json_decref(msgs);
    free(plan_text);
    free(dims_text);
    free(dims_json);
    free(data);
}

/* ------------------------------------------------------------------ generation */

static coord_factory_spec_t
s_spec(const char *sub, uint32_t count)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", s_dir, sub);
    coord_factory_spec_t spec = {.count = count, .seed = 42, .out_dir = path, .reasks = -1};
    return spec;
}

static json_t *
s_summary(const char *dir)
{
    char *path = tt_asprintf("%s/factory.json", dir);
    json_t *v = s_load_json(path);
    free(path);
    return v;
}

static char *
s_read_person(const char *dir, const char *file)
{
    char *path = tt_asprintf("%s/%s", dir, file);
    char *text = tt_test_read_file(path, NULL);
    assert_non_null(text);
    free(path);
    return text;
}

static void
test_thousand_offline_people_have_unique_names(void **state)
{
    tt_config_t cfg;
    s_offline(&cfg);
    coord_factory_spec_t spec = s_spec("thousand", 1000);
    spec.context = "Adults living in Halifax, Nova Scotia, Canada";
    coord_factory_report_t rep;
    char *err = NULL;
    int64_t t0 = tt_now_ms();
    assert_int_equal(coord_factory_generate(&spec, &cfg, &rep, &err), TT_OK);
    print_message("1000 offline people in %lld ms (%llu calls, %u renamed)\n",
                  (long long)(tt_now_ms() - t0), (unsigned long long)rep.llm.calls, rep.renamed);
    assert_int_equal(rep.written, 1000);
    assert_int_equal(rep.failed, 0);
    json_t *sum = s_summary(spec.out_dir), *seen = json_object();
    json_t *people = json_object_get(sum, "people");
    assert_int_equal(json_array_size(people), 1000);
    size_t i;
    json_t *p;
    json_array_foreach(people, i, p)
    {
        char *key = tt_strdup(tt_json_str(p, "name", ""));
        for (char *c = key; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        assert_null(json_object_get(seen, key));
        json_object_set_new(seen, key, json_true());
        free(key);
        char *text = s_read_person(spec.out_dir, tt_json_str(p, "file", ""));
        json_t *spec_json = json_loads(text, 0, NULL);
        assert_string_equal(tt_json_str(spec_json, "type", ""), "TinyPerson");
        assert_string_equal(tt_json_str(json_object_get(spec_json, "persona"), "name", ""),
                            tt_json_str(p, "name", ""));
        json_decref(spec_json);
        free(text);
    }
    json_decref(seen);
    json_decref(sum);
    tt_config_fini(&cfg);
}

static void
s_same_files(const char *a, const char *b, const json_t *people)
{
    size_t i;
    json_t *p;
    json_array_foreach(people, i, p)
    {
        char *ta = s_read_person(a, tt_json_str(p, "file", ""));
        char *tb = s_read_person(b, tt_json_str(p, "file", ""));
        assert_string_equal(ta, tb);
        free(ta);
        free(tb);
    }
}

static void
s_final_hash(const char *dir, uint8_t out[32])
{
    char *path = tt_asprintf("%s/factory.tlog", dir), *err = NULL;
    tt_tlog_t *log = NULL;
    assert_int_equal(tt_tlog_open(path, TT_TLOG_READ, &log, &err), TT_OK);
    memcpy(out, tt_tlog_last_hash(log), 32);
    tt_tlog_close(&log);
    free(path);
}

static void
test_replay_regenerates_the_same_files_without_the_model(void **state)
{
    tt_config_t cfg;
    s_offline(&cfg);
    char *pop = tt_test_source_path("examples/populations/halifax.json");
    coord_factory_spec_t a = s_spec("replay-a", 40);
    a.population_path = pop;
    char *a_dir = tt_strdup(a.out_dir), *err = NULL;
    coord_factory_report_t ra, rb;
    assert_int_equal(coord_factory_generate(&a, &cfg, &ra, &err), TT_OK);
    assert_true(ra.llm.calls >= 41);
    coord_factory_spec_t b = s_spec("replay-b", 40);
    b.population_path = pop;
    b.replay_path = a_dir; /* a directory: its factory.tlog */
    assert_int_equal(coord_factory_generate(&b, &cfg, &rb, &err), TT_OK);
    assert_int_equal(rb.llm.calls, 0);
    assert_int_equal(rb.llm.replayed, ra.llm.calls);
    json_t *sa = s_summary(a_dir), *sb = s_summary(b.out_dir);
    assert_true(json_equal(json_object_get(sa, "people"), json_object_get(sb, "people")));
    assert_true(json_equal(json_object_get(sa, "plan"), json_object_get(sb, "plan")));
    s_same_files(a_dir, b.out_dir, json_object_get(sa, "people"));
    uint8_t ha[32], hb[32];
    s_final_hash(a_dir, ha);
    s_final_hash(b.out_dir, hb);
    assert_memory_equal(ha, hb, 32); /* same answers, same chain */
    /* replaying into the very directory it came from works too */
    a.replay_path = a_dir;
    a.force = true;
    assert_int_equal(coord_factory_generate(&a, &cfg, &ra, &err), TT_OK);
    assert_int_equal(ra.llm.calls, 0);
    s_same_files(a_dir, b.out_dir, json_object_get(sa, "people"));
    /* reuse: a finished generation of the same spec is kept as it is */
    b.replay_path = NULL;
    b.reuse = true;
    assert_int_equal(coord_factory_generate(&b, &cfg, &rb, &err), TT_OK);
    assert_true(rb.reused);
    json_decref(sa);
    json_decref(sb);
    free(a_dir);
    free(pop);
    tt_config_fini(&cfg);
}

/* fakellm in-process, one call at a time, so a script meets the calls in order. */
typedef struct {
    fakellm_t *fake;
    tt_config_t cfg;
} s_fake_t;

static void
s_fake_start(s_fake_t *f)
{
    fakellm_opts_t opts = {.keep_last_request = true};
    f->fake = fakellm_start(&opts);
    assert_non_null(f->fake);
    tt_config_init(&f->cfg);
    fakellm_config_client(f->fake, &f->cfg);
}

static void
s_fake_stop(s_fake_t *f)
{
    tt_config_fini(&f->cfg);
    fakellm_stop(&f->fake);
}

static uint64_t
s_requests(s_fake_t *f)
{
    fakellm_stats_t st;
    fakellm_stats(f->fake, &st);
    return st.requests;
}

static char *
s_valid_person(const char *name, int age)
{
    char *text = s_offline_person("{\"particularities\":{\"sampled_values\":{}}}");
    json_t *v = json_loads(text, 0, NULL);
    json_object_set_new(v, "name", json_string(name));
    json_object_set_new(v, "age", json_integer(age));
    free(text);
    text = tt_json_compact(v);
    json_decref(v);
    return text;
}

static void
test_malformed_people_are_reasked_then_reported(void **state)
{
    s_fake_t f;
    s_fake_start(&f);
    char *pop = tt_test_source_path("examples/populations/halifax.json");
    char *too_old = s_valid_person("Old Timer", 200);
    /* plan; person 0: the answer and both re-asks unusable; person 1: the model's */
    fakellm_script_t s[] = {{.kind = FAKELLM_SCRIPT_FENCED},
                            {.kind = FAKELLM_SCRIPT_CONTENT, .content = "{\"name\": \"Nobody\"}"},
                            {.kind = FAKELLM_SCRIPT_CONTENT, .content = too_old},
                            {.kind = FAKELLM_SCRIPT_CONTENT, .content = "not even JSON"}};
    fakellm_script(f.fake, s, 4);
    coord_factory_spec_t spec = s_spec("malformed", 2);
    spec.population_path = pop;
    spec.concurrency = 1;
    spec.reasks = 2;
    coord_factory_report_t rep;
    char *err = NULL;
    assert_int_equal(coord_factory_generate(&spec, &f.cfg, &rep, &err), TT_EAGENT);
    assert_null(err);
    assert_int_equal(rep.written, 1);
    assert_int_equal(rep.failed, 1);
    assert_int_equal(s_requests(&f), 1 + 3 + 1);
    json_t *sum = s_summary(spec.out_dir);
    json_t *failure = json_array_get(json_object_get(sum, "failures"), 0);
    assert_int_equal(json_array_size(json_object_get(sum, "failures")), 1);
    assert_int_equal(tt_json_int(failure, "index", -1), 0);
    assert_int_equal(tt_json_int(sum, "failed", -1), 1);
    assert_non_null(strstr(tt_json_str(failure, "error", ""), "re-ask"));
    json_decref(sum);

    /* once unusable, then usable: re-asked with the reason, and accepted */
    fakellm_reset(f.fake);
    fakellm_script_t s2[] = {{.kind = FAKELLM_SCRIPT_FENCED},
                             {.kind = FAKELLM_SCRIPT_CONTENT, .content = too_old}};
    fakellm_script(f.fake, s2, 2);
    spec.force = true;
    assert_int_equal(coord_factory_generate(&spec, &f.cfg, &rep, &err), TT_OK);
    assert_int_equal(rep.written, 2);
    assert_int_equal(s_requests(&f), 1 + 2 + 1);
    free(too_old);
    free(pop);
    s_fake_stop(&f);
}

static void
test_taken_names_are_asked_again_then_made_unique(void **state)
{
    s_fake_t f;
    s_fake_start(&f);
    char *same = s_valid_person("Ana Souza", 40);
    /* dimensions and plan from the model, then every person is "Ana Souza" */
    fakellm_script_t s[9] = {{.kind = FAKELLM_SCRIPT_FENCED}, {.kind = FAKELLM_SCRIPT_FENCED}};
    for (int i = 2; i < 9; i++)
        s[i] = (fakellm_script_t){.kind = FAKELLM_SCRIPT_CONTENT, .content = same};
    fakellm_script(f.fake, s, 9);
    coord_factory_spec_t spec = s_spec("names", 3);
    spec.context = "Adults in Recife, Brazil";
    spec.concurrency = 1;
    coord_factory_report_t rep;
    char *err = NULL;
    assert_int_equal(coord_factory_generate(&spec, &f.cfg, &rep, &err), TT_OK);
    /* dimensions, plan, 3 people, 2 asked again twice */
    assert_int_equal(s_requests(&f), 2 + 3 + 2 + 2);
    assert_int_equal(rep.renamed, 2);
    char *last = fakellm_take_last_request(f.fake);
    assert_non_null(strstr(last, "names_already_taken"));
    assert_non_null(strstr(last, "Ana Souza"));
    free(last);
    json_t *sum = s_summary(spec.out_dir), *people = json_object_get(sum, "people");
    assert_string_equal(tt_json_str(json_array_get(people, 0), "name", ""), "Ana Souza");
    assert_string_equal(tt_json_str(json_array_get(people, 1), "name", ""), "Ana Souza 2");
    assert_string_equal(tt_json_str(json_array_get(people, 2), "name", ""), "Ana Souza 3");
    assert_string_equal(tt_json_str(json_array_get(people, 1), "renamed_from", ""), "Ana Souza");
    assert_int_equal(tt_json_int(json_array_get(people, 1), "name_waves", 0),
                     COORD_FACTORY_NAME_WAVES);
    char *text = s_read_person(spec.out_dir, "Ana Souza 3.agent.json");
    assert_non_null(strstr(text, "\"name\": \"Ana Souza 3\""));
    free(text);
    json_decref(sum);
    free(same);
    s_fake_stop(&f);
}

static void
test_bad_input_is_refused_before_anything_is_written(void **state)
{
    tt_config_t cfg;
    s_offline(&cfg);
    char *bad = tt_asprintf("%s/bad-pop.json", s_dir);
    assert_true(tt_test_write_file(bad, "{\"title\": \"x\",\n \"content\": {\"Age\": [1,}}\n"));
    char *missing = tt_asprintf("%s/no-such.json", s_dir);
    struct {
        coord_factory_spec_t spec;
        tt_err_t want;
        const char *msg;
    } cases[] = {
        {s_spec("bad0", 0), TT_EINVAL, "--count: expected 1..100000"},
        {s_spec("bad1", COORD_FACTORY_MAX_COUNT + 1), TT_EINVAL, "--count"},
        {{.count = 3, .context = "x", .reasks = -1}, TT_EINVAL, "--out DIR is required"},
        {s_spec("bad2", 3), TT_EINVAL, "give --context TEXT, --population FILE or both"},
        {s_spec("bad3", 3), TT_EINVAL, ":2:"},
        {s_spec("bad4", 3), TT_EINVAL, "no-such.json"},
        {s_spec("bad5", 3), TT_EINVAL, "cannot replay"},
    };
    cases[0].spec.context = cases[1].spec.context = "x";
    cases[2].spec.context = "x";
    cases[4].spec.context = "x"; /* with a context too, the file is still read */
    cases[4].spec.population_path = bad;
    cases[5].spec.population_path = missing;
    cases[6].spec.context = "x";
    cases[6].spec.replay_path = missing;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *err = NULL;
        char dir[512];
        snprintf(dir, sizeof dir, "%s", cases[i].spec.out_dir ? cases[i].spec.out_dir : "");
        assert_int_equal(coord_factory_generate(&cases[i].spec, &cfg, NULL, &err), cases[i].want);
        if (!err || !strstr(err, cases[i].msg))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err ? err : "", cases[i].msg);
        struct stat st;
        assert_true(!*dir || stat(dir, &st) != 0); /* nothing written */
        free(err);
    }
    /* a directory with something in it: refused, then replaced with --force */
    coord_factory_spec_t spec = s_spec("busy", 2);
    spec.context = "Adults in Lyon, France";
    mkdir(spec.out_dir, 0755);
    char *mine = tt_asprintf("%s/notes.txt", spec.out_dir);
    char *old = tt_asprintf("%s/Old Person.agent.json", spec.out_dir);
    assert_true(tt_test_write_file(mine, "keep me"));
    assert_true(tt_test_write_file(old, "{}"));
    char *err = NULL;
    assert_int_equal(coord_factory_generate(&spec, &cfg, NULL, &err), TT_EEXIST);
    assert_non_null(strstr(err, "--force"));
    free(err);
    spec.force = true;
    assert_int_equal(coord_factory_generate(&spec, &cfg, NULL, &err), TT_OK);
    struct stat st;
    assert_int_equal(stat(mine, &st), 0);
    assert_int_not_equal(stat(old, &st), 0);
    free(mine);
    free(old);
    free(bad);
    free(missing);
    tt_config_fini(&cfg);
}

static void
test_scenario_factory_section(void **state)
{
    const char *text = "{\"factory\": {\"count\": 5, \"population\": \"../populations/x.json\", "
                       "\"seed\": 9},\n \"bad\": {\"count\": 0, \"context\": \"x\"},\n"
                       " \"none\": {\"count\": 2, \"seed\": 1},\n"
                       " \"typo\": {\"count\": 2, \"contxt\": \"x\"},\n"
                       " \"both\": {\"count\": 2, \"context\": \"x\", \"population\": \"y\", "
                       "\"describe\": \"A nurse\"},\n"
                       " \"empty\": {\"count\": 2, \"context\": \"x\", \"describe\": \"\"}}";
    tt_jdoc_t *doc = NULL;
    char *err = NULL;
    assert_int_equal(tt_jdoc_load_text("sc.json", text, strlen(text), &doc, &err), TT_OK);
    coord_factory_section_t sec;
    assert_int_equal(coord_factory_section_parse(doc, "factory", "/x/scenarios", &sec, &err),
                     TT_OK);
    assert_int_equal(sec.count, 5);
    assert_true(sec.has_seed);
    assert_int_equal(sec.seed, 9);
    assert_string_equal(sec.population_path, "/x/scenarios/../populations/x.json");
    assert_null(sec.context);
    coord_factory_section_fini(&sec);
    static const struct {
        const char *path, *want;
    } bad[] = {{"bad", "sc.json:2:19: bad.count: expected a whole number of people"},
               {"none", "sc.json:3:10: none: give \"context\", \"population\" or both"},
               {"typo", "sc.json:4:33: typo.contxt: unknown key"},
               {"empty", "sc.json:6:52: empty.describe: expected non-empty text"}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(coord_factory_section_parse(doc, bad[i].path, NULL, &sec, &err),
                         TT_EINVAL);
        if (!strstr(err, bad[i].want))
            fail_msg("\"%s\" does not contain \"%s\"", err, bad[i].want);
        free(err);
    }
    /* a population and a context together, and a description of everyone */
    if (coord_factory_section_parse(doc, "both", "/x", &sec, &err) != TT_OK)
        fail_msg("%s", err);
    assert_string_equal(sec.context, "x");
    assert_string_equal(sec.population_path, "/x/y");
    assert_string_equal(sec.describe, "A nurse");
    coord_factory_section_fini(&sec);
    tt_jdoc_destroy(&doc);
}

static void
test_for_scenario_generates_once_then_keeps(void **state)
{
    tt_config_t cfg;
    s_offline(&cfg);
    char *pop = tt_test_source_path("examples/populations/montreal_students.json");
    char *sc = tt_asprintf("%s/sc.json", s_dir), *out = tt_asprintf("%s/run", s_dir);
    char *text =
        tt_asprintf("{\"seed\": 5, \"factory\": {\"count\": 4, \"population\": \"%s\"}}", pop);
    assert_true(tt_test_write_file(sc, text));
    char *folder = NULL, *err = NULL;
    assert_int_equal(coord_factory_for_scenario(sc, out, NULL, &cfg, true, &folder, &err), TT_OK);
    char *want = tt_asprintf("%s/factory", out);
    assert_string_equal(folder, want);
    json_t *sum = s_summary(folder);
    assert_int_equal(tt_json_int(json_object_get(sum, "spec"), "seed", 0), 5);
    assert_int_equal(tt_json_int(sum, "written", 0), 4);
    json_t *llm1 = json_incref(json_object_get(sum, "llm"));
    json_decref(sum);
    free(folder);
    /* again (a --resume): kept as it is, no model call */
    assert_int_equal(coord_factory_for_scenario(sc, out, NULL, &cfg, true, &folder, &err), TT_OK);
    sum = s_summary(folder);
    assert_true(json_equal(json_object_get(sum, "llm"), llm1));
    json_decref(sum);
    json_decref(llm1);
    free(folder);
    /* no section: nothing to do */
    assert_true(tt_test_write_file(sc, "{\"name\": \"plain\"}"));
    assert_int_equal(coord_factory_for_scenario(sc, out, NULL, &cfg, true, &folder, &err), TT_OK);
    assert_null(folder);
    /* a bad section: positioned */
    assert_true(tt_test_write_file(sc, "{\"factory\": {\"count\": 2}}"));
    assert_int_equal(coord_factory_for_scenario(sc, out, NULL, &cfg, true, &folder, &err),
                     TT_EINVAL);
    assert_non_null(strstr(err, "sc.json:1:13: factory: give \"context\""));
    free(err);
    free(want);
    free(text);
    free(sc);
    free(out);
    free(pop);
    tt_config_fini(&cfg);
}

/* --population and --context together, and --describe: the context reaches
 * every person call after the population's facts, the description is each
 * person's primary characteristics (the offline model follows it), and both are
 * part of the spec. */
static void
test_population_context_and_describe(void **state)
{
    tt_config_t cfg;
    s_offline(&cfg);
    coord_factory_spec_t spec = s_spec("described", 4);
    char *pop = tt_test_source_path("tests/data/fidelity/lakeside.population.json");
    spec.population_path = pop;
    spec.context = "People who answered a survey about the new ferry";
    spec.describe = "A registered nurse who works night shifts";
    char *err = NULL;
    if (coord_factory_generate(&spec, &cfg, NULL, &err))
        fail_msg("%s", err);
    json_t *sum = s_summary(spec.out_dir);
    json_t *sp = json_object_get(sum, "spec");
    assert_string_equal(tt_json_str(sp, "context", ""), spec.context);
    assert_string_equal(tt_json_str(sp, "describe", ""), spec.describe);
    assert_string_equal(tt_json_str(sp, "population", ""), pop);
    size_t i;
    json_t *person;
    json_array_foreach(json_object_get(sum, "people"), i, person)
    {
        char *file = tt_asprintf("%s/%s", spec.out_dir, tt_json_str(person, "file", ""));
        json_t *spec_json = json_load_file(file, 0, NULL);
        json_t *p = json_object_get(spec_json, "persona");
        assert_string_equal(tt_json_str(json_object_get(p, "occupation"), "title", ""),
                            "Registered nurse");
        assert_string_equal(json_string_value(json_array_get(json_object_get(p, "other_facts"), 0)),
                            "Above all: A registered nurse who works night shifts");
        json_decref(spec_json);
        free(file);
    }
    json_decref(sum);
    /* what a person call says */
    json_t *row = json_pack("{s:s, s:{s:s}}", "subpopulation_description", "x", "sampled_values",
                            "Gender Distribution", "Female");
    tt_llm_request_t *req = coord_factory_person_request("Lakeside\nContext: ferry survey\n",
                                                         spec.describe, 0, 1, row, NULL, 0, 1);
    tt_llm_t *llm = NULL;
    assert_int_equal(tt_llm_new(&cfg, &llm), TT_OK);
    char *canon = tt_llm_request_canonical(llm, req);
    assert_non_null(strstr(canon, "primary_characteristics"));
    assert_non_null(strstr(canon, "A registered nurse who works night shifts"));
    assert_non_null(strstr(canon, "Context: ferry survey"));
    free(canon);
    tt_llm_destroy(&llm);
    tt_llm_request_destroy(&req);
    json_decref(row);
    free(pop);
    tt_config_fini(&cfg);
}

/* Ages within the bounds the context states: the population's age values are
 * cut to them before the plan, and every person's age follows. */
static void
test_ages_within_the_contexts_bounds(void **state)
{
    static const struct {
        const char *text;
        int lo, hi; /* lo < 0: no bounds */
    } texts[] = {
        {"Lakeside residents aged 25 to 40", 25, 40},
        {"Students between 18 and 30 years old", 18, 30},
        {"18-24 year olds who cycle", 18, 24},
        {"Pensioners aged 65 and over in Halifax", 65, 120},
        {"People over 70 years of age", 71, 120},
        {"Young people under 30 years of age", 0, 29},
        {"Adults in Lyon, France", 18, 120},
        {"Night-shift nurses in Lyon, France", -1, -1},
        {"Owners of 2-3 cars", -1, -1}, /* a number pair, but not about age */
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int lo = -1, hi = -1;
        bool found = coord_factory_ages_from_text(texts[i].text, &lo, &hi);
        if (found != (texts[i].lo >= 0) || (found && (lo != texts[i].lo || hi != texts[i].hi)))
            fail_msg("\"%s\": got %d %d..%d", texts[i].text, found, lo, hi);
    }
    tt_config_t cfg;
    s_offline(&cfg);
    coord_factory_spec_t spec = s_spec("bounded", 12);
    char *pop = tt_test_source_path("tests/data/fidelity/lakeside.population.json");
    spec.population_path = pop;
    spec.context = "Lakeside residents aged 25 to 40 who take the ferry";
    char *err = NULL;
    if (coord_factory_generate(&spec, &cfg, NULL, &err))
        fail_msg("%s", err);
    json_t *sum = s_summary(spec.out_dir);
    json_t *age = json_array_get(json_object_get(sum, "dimensions"), 0);
    assert_string_equal(tt_json_str(age, "name", ""), "Age Distribution");
    json_t *values = json_object_get(age, "values");
    assert_int_equal(json_array_size(values), 2); /* "55+" is gone */
    assert_string_equal(tt_json_str(json_array_get(values, 0), "value", ""), "25-34");
    assert_string_equal(tt_json_str(json_array_get(values, 1), "value", ""), "35-40");
    double w = json_number_value(json_object_get(json_array_get(values, 0), "weight"));
    assert_true(fabs(w - 27.0 / 60.0) < 1e-9);
    size_t i;
    json_t *person;
    json_array_foreach(json_object_get(sum, "people"), i, person)
    {
        char *file = tt_asprintf("%s/%s", spec.out_dir, tt_json_str(person, "file", ""));
        json_t *spec_json = json_load_file(file, 0, NULL);
        json_int_t a = json_integer_value(tt_json_get_path(spec_json, "persona.age"));
        if (a < 25 || a > 40)
            fail_msg("%s is %lld", file, (long long)a);
        json_decref(spec_json);
        free(file);
    }
    json_decref(sum);
    free(pop);
    tt_config_fini(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_sums_to_n_and_follows_the_distributions),
        cmocka_unit_test(test_plan_of_one_person),
        cmocka_unit_test(test_plan_without_weights_keeps_the_models_proportions),
        cmocka_unit_test(test_plan_a_model_got_wrong_still_sums),
        cmocka_unit_test(test_flatten_is_a_seeded_shuffle),
        cmocka_unit_test(test_population_person_level_only),
        cmocka_unit_test(test_example_populations_parse),
        cmocka_unit_test(test_population_shapes),
        cmocka_unit_test(test_population_errors_have_positions),
        cmocka_unit_test(test_person_checker),
        cmocka_unit_test(test_offline_dimensions_and_plan_validate),
        cmocka_unit_test(test_thousand_offline_people_have_unique_names),
        cmocka_unit_test(test_replay_regenerates_the_same_files_without_the_model),
        cmocka_unit_test(test_malformed_people_are_reasked_then_reported),
        cmocka_unit_test(test_taken_names_are_asked_again_then_made_unique),
        cmocka_unit_test(test_bad_input_is_refused_before_anything_is_written),
        cmocka_unit_test(test_scenario_factory_section),
        cmocka_unit_test(test_for_scenario_generates_once_then_keeps),
        cmocka_unit_test(test_population_context_and_describe),
        cmocka_unit_test(test_ages_within_the_contexts_bounds),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
