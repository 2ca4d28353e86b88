/*  coord_exp_stats -- the statistical tests of an experiment, through GSL.
 *
 *  Ties in the rank tests get average ranks and the normal approximation's
 *  tie correction; the chi-square table is 2 x categories, sorted by label so
 *  the same data give the same table whatever their order.
 */
#include "coord_exp_stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tt_mem.h"

bool
coord_exp_welch(const double *a, size_t na, const double *b, size_t nb, coord_exp_result_t *out)
{
    if (na < 2 || nb < 2)
        return false;
    double ma = gsl_stats_mean(a, 1, na), mb = gsl_stats_mean(b, 1, nb);
    double va = gsl_stats_variance_m(a, 1, na, ma), vb = gsl_stats_variance_m(b, 1, nb, mb);
    double sa = va / (double)na, sb = vb / (double)nb;
    if (sa + sb <= 0)
        return false;
    double t = (ma - mb) / sqrt(sa + sb);
    double df = (sa + sb) * (sa + sb) / (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
    double pooled = sqrt(((double)(na - 1) * va + (double)(nb - 1) * vb) / (double)(na + nb - 2));
    *out = (coord_exp_result_t){.statistic = t,
                                .p_value = 2.0 * gsl_cdf_tdist_Q(fabs(t), df),
                                .effect_size = pooled > 0 ? (ma - mb) / pooled : 0,
                                .df = df};
    return true;
}

bool
coord_exp_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
                       coord_exp_result_t *out)
{
    if (na < 1 || nb < 1)
        return false;
    size_t n = na + nb;
    double *all = tt_calloc(n, sizeof *all);
    size_t *order = tt_calloc(n, sizeof *order);
    memcpy(all, a, na * sizeof *a);
    memcpy(all + na, b, nb * sizeof *b);
    gsl_sort_index(order, all, 1, n);
    double rank_a = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && all[order[j + 1]] == all[order[i]])
            j++;
        double rank = ((double)i + (double)j) / 2.0 + 1.0, t = (double)(j - i + 1);
        ties += t * t * t - t;
        for (size_t k = i; k <= j; k++)
            if (order[k] < na)
                rank_a += rank;
        i = j + 1;
    }
    free(all);
    free(order);
    double fa = (double)na, fb = (double)nb, fn = (double)n;
    double u1 = rank_a - fa * (fa + 1) / 2.0, u2 = fa * fb - u1;
    double mu = fa * fb / 2.0;
    double sigma = sqrt(fa * fb / 12.0 * ((fn + 1) - ties / (fn * (fn - 1))));
    if (!(sigma > 0))
        return false;
    double z = ((u1 > u2 ? u1 : u2) - mu - 0.5) / sigma;
    double p = 2.0 * gsl_cdf_ugaussian_Q(z);
    *out = (coord_exp_result_t){
        .statistic = u1, .p_value = p > 1 ? 1 : p, .effect_size = 1.0 - 2.0 * u2 / (fa * fb)};
    return true;
}

static int
s_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* P(D < d) for samples of m and n: walk the lattice from (0,0) to (m,n),
 * each step a draw without replacement, keeping the probability of the
 * paths whose |i/m - j/n| stays below d. */
static double
s_ks_inside(size_t m, size_t n, double d)
{
    double *row = tt_calloc(n + 1, sizeof *row);
    double band = d - 1e-12; /* a gap equal to d is outside, as in SciPy */
    for (size_t i = 0; i <= m; i++) {
        for (size_t j = 0; j <= n; j++) {
            double p = i == 0 && j == 0 ? 1.0 : 0.0;
            size_t left = m + n - (i - 1) - j; /* draws left at (i-1, j) */
            if (i > 0)
                p += row[j] * (double)(m - (i - 1)) / (double)left;
            if (j > 0)
                p += row[j - 1] * (double)(n - (j - 1)) / (double)(m + n - i - (j - 1));
            if (fabs((double)i / (double)m - (double)j / (double)n) >= band)
                p = 0;
            row[j] = p;
        }
    }
    double inside = row[n];
    free(row);
    return inside;
}

bool
coord_exp_ks(const double *a, size_t na, const double *b, size_t nb, coord_exp_result_t *out)
{
    if (na < 1 || nb < 1 || (double)na * (double)nb > COORD_EXP_KS_EXACT_MAX)
        return false;
    double *x = tt_calloc(na, sizeof *x), *y = tt_calloc(nb, sizeof *y);
    memcpy(x, a, na * sizeof *a);
    memcpy(y, b, nb * sizeof *b);
    qsort(x, na, sizeof *x, s_cmp_double);
    qsort(y, nb, sizeof *y, s_cmp_double);
    double d = 0;
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        double v = j >= nb || (i < na && x[i] <= y[j]) ? x[i] : y[j];
        while (i < na && x[i] == v)
            i++;
        while (j < nb && y[j] == v)
            j++;
        double gap = fabs((double)i / (double)na - (double)j / (double)nb);
        d = gap > d ? gap : d;
    }
    free(x);
    free(y);
    double p = 1.0 - s_ks_inside(na, nb, d);
    *out = (coord_exp_result_t){.statistic = d,
                                .p_value = p < 0   ? 0
                                           : p > 1 ? 1
                                                   : p,
                                .effect_size = d};
    return true;
}

static int
s_cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The sorted distinct labels of both samples. Caller frees the array. */
static const char **
s_labels(const char *const *a, size_t na, const char *const *b, size_t nb, size_t *k)
{
    const char **all = tt_calloc(na + nb + 1, sizeof *all);
    memcpy(all, a, na * sizeof *a);
    memcpy(all + na, b, nb * sizeof *b);
    qsort(all, na + nb, sizeof *all, s_cmp_str);
    size_t n = 0;
    for (size_t i = 0; i < na + nb; i++)
        if (n == 0 || strcmp(all[n - 1], all[i]))
            all[n++] = all[i];
    *k = n;
    return all;
}

static void
s_count(const char *const *s, size_t n, const char **labels, size_t k, double *counts)
{
    for (size_t i = 0; i < n; i++) {
        const char **hit = bsearch(&s[i], labels, k, sizeof *labels, s_cmp_str);
        counts[hit - labels] += 1;
    }
}

bool
coord_exp_chi_square(const char *const *a, size_t na, const char *const *b, size_t nb,
                     coord_exp_result_t *out)
{
    size_t k;
    const char **labels = s_labels(a, na, b, nb, &k);
    if (k < 2 || na == 0 || nb == 0) {
        free(labels);
        return false;
    }
    double *ca = tt_calloc(k, sizeof *ca), *cb = tt_calloc(k, sizeof *cb);
    s_count(a, na, labels, k, ca);
    s_count(b, nb, labels, k, cb);
    double n = (double)(na + nb), chi2 = 0, df = (double)(k - 1);
    for (size_t c = 0; c < k; c++) {
        double col = ca[c] + cb[c];
        double obs[2] = {ca[c], cb[c]}, exp[2] = {col * (double)na / n, col * (double)nb / n};
        for (int r = 0; r < 2; r++) {
            double dev = fabs(obs[r] - exp[r]);
            if (df == 1) /* Yates: half a count towards the expected, never past it */
                dev = dev > 0.5 ? dev - 0.5 : 0;
            chi2 += dev * dev / exp[r];
        }
    }
    free(ca);
    free(cb);
    free(labels);
    *out = (coord_exp_result_t){.statistic = chi2,
                                .p_value = gsl_cdf_chisq_Q(chi2, df),
                                .effect_size = sqrt(chi2 / n), /* Cramér's V, two rows */
                                .df = df};
    return true;
}

double
coord_exp_total_variation(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return na == nb ? 0 : 1;
    size_t k;
    const char **labels = s_labels(a, na, b, nb, &k);
    double *ca = tt_calloc(k + 1, sizeof *ca), *cb = tt_calloc(k + 1, sizeof *cb), tv = 0;
    s_count(a, na, labels, k, ca);
    s_count(b, nb, labels, k, cb);
    for (size_t c = 0; c < k; c++)
        tv += fabs(ca[c] / (double)na - cb[c] / (double)nb);
    free(ca);
    free(cb);
    free(labels);
    return tv / 2.0;
}

json_t *
coord_exp_result_json(bool ok, const coord_exp_result_t *r, const char *effect_name)
{
    if (!ok)
        return json_null();
    json_t *o = json_pack("{s:f, s:f, s:f, s:s, s:b}", "statistic", r->statistic, "p_value",
                          r->p_value, "effect_size", r->effect_size, "effect_size_kind",
                          effect_name, "significant", r->p_value < 0.05);
    if (r->df > 0)
        json_object_set_new(o, "df", json_real(r->df));
    return o;
}
