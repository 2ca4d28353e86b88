/*  coord_exp_stats -- TinyTroupe's StatisticalTester over two samples: Welch's
 *  t, Mann-Whitney U, two-sample Kolmogorov-Smirnov and the chi-square test of
 *  independence, each with a p-value and an effect size.
 *
 *  The distributions come from GSL (Student's t, normal, chi-square); the KS
 *  p-value is exact (the probability of the lattice paths that stay inside
 *  the band, as SciPy's method="exact"). Numbers agree with SciPy's
 *  ttest_ind(equal_var=False), mannwhitneyu(method="asymptotic"),
 *  ks_2samp(method="exact") and chi2_contingency (Yates' correction at one
 *  degree of freedom); tests/unit/test_exp_stats.c checks them.
 */
#ifndef COORD_EXP_STATS_H
#define COORD_EXP_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define COORD_EXP_KS_EXACT_MAX 4000000.0 /* m*n up to which the KS p-value is exact */

typedef struct {
    double statistic;
    double p_value;
    double effect_size; /* Cohen's d, rank-biserial r, KS D, Cramér's V */
    double df;          /* Welch and chi-square; 0 otherwise */
} coord_exp_result_t;

/* Each needs at least two values per sample (Welch: a non-zero variance in
 * one of them); false when the test is not defined for the data. */
bool coord_exp_welch(const double *a, size_t na, const double *b, size_t nb,
                     coord_exp_result_t *out);
bool coord_exp_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
                            coord_exp_result_t *out);
bool coord_exp_ks(const double *a, size_t na, const double *b, size_t nb, coord_exp_result_t *out);
/* Categories: the two samples' labels. False with fewer than two categories. */
bool coord_exp_chi_square(const char *const *a, size_t na, const char *const *b, size_t nb,
                          coord_exp_result_t *out);
/* Total variation distance between the two samples' label frequencies, 0..1. */
double coord_exp_total_variation(const char *const *a, size_t na, const char *const *b, size_t nb);

/* {"statistic", "p_value", "effect_size"[, "df"]} with the effect size's
 * name, or null when !ok. Caller owns the result. */
json_t *coord_exp_result_json(bool ok, const coord_exp_result_t *r, const char *effect_name);

#endif
