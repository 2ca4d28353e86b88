/*  test_exp_stats -- the experiment's statistical tests against SciPy 1.10's
 *  numbers (computed once, written here), and the table reader behind
 *  `coordinator stats` and `empirical`: RFC 4180 quoting, missing answers,
 *  numbers or labels, JSON arrays and extraction tables, and where a bad
 *  file is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coord_exp_data.h"
#include "coord_exp_stats.h"
#include "tt_mem.h"
#include "tt_test.h"

static const double s_a[] = {1, 2, 2, 3, 4};
static const double s_b[] = {3, 4, 4, 5, 6, 7};

static void
s_close(double got, double want)
{
    if (fabs(got - want) > 1e-9 * fmax(1.0, fabs(want)))
        fail_msg("got %.15g, want %.15g", got, want);
}

static void
test_numeric_tests_match_scipy(void **state)
{
    (void)state;
    coord_exp_result_t r;
    /* scipy.stats.ttest_ind(a, b, equal_var=False) */
    assert_true(coord_exp_welch(s_a, 5, s_b, 6, &r));
    s_close(r.statistic, -3.087571021396039);
    s_close(r.p_value, 0.013021579125213399);
    assert_true(r.effect_size < -1.5); /* Cohen's d: a large effect, a below b */
    /* mannwhitneyu(a, b, method="asymptotic"): ties and the continuity correction */
    assert_true(coord_exp_mann_whitney(s_a, 5, s_b, 6, &r));
    s_close(r.statistic, 2.5);
    s_close(r.p_value, 0.026324467776937442);
    s_close(r.effect_size, 1.0 - 2.0 * (30 - 2.5) / 30);
    /* ks_2samp(a, b, method="exact") */
    assert_true(coord_exp_ks(s_a, 5, s_b, 6, &r));
    s_close(r.statistic, 0.6333333333333333);
    s_close(r.p_value, 0.17748917748917747);
}

static void
test_same_samples_differ_in_nothing(void **state)
{
    (void)state;
    coord_exp_result_t r;
    assert_true(coord_exp_ks(s_b, 6, s_b, 6, &r));
    s_close(r.statistic, 0);
    s_close(r.p_value, 1);
    assert_true(coord_exp_welch(s_b, 6, s_b, 6, &r));
    s_close(r.p_value, 1);
    /* undefined: no variance at all, a single value */
    static const double flat[] = {2, 2, 2};
    assert_false(coord_exp_welch(flat, 3, flat, 3, &r));
    assert_false(coord_exp_welch(s_a, 1, s_b, 6, &r));
}

static void
test_chi_square_matches_scipy(void **state)
{
    (void)state;
    /* chi2_contingency([[3,1,1],[0,2,4]]): labels x, y, z */
    const char *a[] = {"x", "x", "x", "y", "z"};
    const char *b[] = {"z", "y", "z", "z", "y", "z"};
    coord_exp_result_t r;
    assert_true(coord_exp_chi_square(a, 5, b, 6, &r));
    s_close(r.statistic, 5.084444444444445);
    s_close(r.p_value, 0.07869133571215906);
    s_close(r.df, 2);
    s_close(coord_exp_total_variation(a, 5, b, 6),
            0.5 * (0.6 + fabs(0.2 - 2.0 / 6) + fabs(0.2 - 4.0 / 6)));
    const char *one[] = {"x", "x"};
    assert_false(coord_exp_chi_square(one, 2, one, 2, &r)); /* one category */
}

static coord_exp_sample_t
s_load(const char *dir, const char *text, const char *column)
{
    char *path = tt_asprintf("%s/t.data", dir), *err = NULL;
    assert_true(tt_test_write_file(path, text));
    coord_exp_sample_t s;
    tt_err_t e = coord_exp_sample_load(path, column, &s, &err);
    if (e)
        fail_msg("%s", err);
    free(path);
    return s;
}

static void
test_reads_csv_and_json_tables(void **state)
{
    (void)state;
    char *dir = tt_test_tmpdir("exp_data");
    coord_exp_sample_t s =
        s_load(dir, "name,opinion,score\r\nAna,\"good, \"\"really\"\"\nyes\",4\r\nLi,,5\nBo,no,\n",
               "opinion");
    assert_int_equal(s.n, 2); /* Li's empty answer is missing */
    assert_string_equal(s.text[0], "good, \"really\"\nyes");
    assert_false(s.numeric);
    coord_exp_sample_fini(&s);
    s = s_load(dir, "name,score\nAna,4\nLi,5.5\n", "score");
    assert_true(s.numeric);
    assert_int_equal(s.n, 2);
    s_close(s.num[1], 5.5);
    coord_exp_sample_fini(&s);
    s = s_load(dir, "[1, 2, null, \"3\"]", NULL);
    assert_int_equal(s.n, 3);
    assert_true(s.numeric);
    coord_exp_sample_fini(&s);
    s = s_load(dir,
               "{\"table\": {\"columns\": [\"name\", \"use\"], \"rows\": "
               "[[\"Ana\", \"yes\"], [\"Li\", null], [\"Bo\", \"no\"]]}}",
               "use");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.text[1], "no");
    coord_exp_sample_fini(&s);
    tt_test_rmtree(dir);
    free(dir);
}

static void
s_refused(const char *dir, const char *text, const char *column, const char *want)
{
    char *path = tt_asprintf("%s/bad.csv", dir), *err = NULL;
    assert_true(tt_test_write_file(path, text));
    coord_exp_sample_t s;
    assert_int_equal(coord_exp_sample_load(path, column, &s, &err), TT_EINVAL);
    assert_non_null(err);
    if (!strstr(err, want))
        fail_msg("\"%s\" does not say \"%s\"", err, want);
    assert_int_equal(s.n, 0);
    free(err);
    free(path);
}

static void
test_bad_tables_say_where(void **state)
{
    (void)state;
    char *dir = tt_test_tmpdir("exp_bad");
    s_refused(dir, "a,b\n1,2\n3,\"4\n", "b", "bad.csv:3:3: unterminated quoted field");
    s_refused(dir, "a,b\n1,2\n", "c", "bad.csv:1:1: no column \"c\" (columns: \"a\", \"b\")");
    s_refused(dir, "a,b\n1,2,3\n", "a", "bad.csv:2:5: a row of more than 2 fields");
    s_refused(dir, "[1, 2,\n  oops]", NULL, "bad.csv:2:");
    s_refused(dir, "{\"x\": 1}", NULL, "bad.csv:1:1: expected an array");
    s_refused(dir, "", "a", "bad.csv:1:1: empty: expected a header row");
    tt_test_rmtree(dir);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_tests_match_scipy),
        cmocka_unit_test(test_same_samples_differ_in_nothing),
        cmocka_unit_test(test_chi_square_matches_scipy),
        cmocka_unit_test(test_reads_csv_and_json_tables),
        cmocka_unit_test(test_bad_tables_say_where),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
