/*  coord_exp_tests_cli -- `coordinator stats` and `coordinator empirical`:
 *  the statistical tests over two columns of answers, as one JSON document.
 *
 *  stats compares a control with a treatment (TinyTroupe's StatisticalTester):
 *  numbers get Welch's t, Mann-Whitney U and Kolmogorov-Smirnov, labels the
 *  chi-square test. empirical compares simulated answers with real ones
 *  (SimulationExperimentEmpiricalValidator): the same tests read as distances,
 *  with the total variation distance between the answers' frequencies.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coord_exp.h"
#include "coord_cli.h"
#include "coord_exp_data.h"
#include "coord_exp_stats.h"
#include "tt_mem.h"

#define S_EXIT_OK     0
#define S_EXIT_FAILED 1
#define S_EXIT_USAGE  2

typedef struct {
    const char *cmd;
    const char *a_name, *b_name; /* "control"/"treatment", "simulated"/"real" */
    const char *column, *column_b;
    const char *paths[2];
    const char *out;
} s_opts_t;

#define s_bad coord_cli_bad /* (cmd, fmt, ...): bad usage, exit 2 */

static void
s_usage(const s_opts_t *o, FILE *out)
{
    bool emp = !strcmp(o->cmd, "empirical");
    fprintf(out,
            "Usage: coordinator %s %s %s --column NAME [--column-b NAME] [--out FILE]\n"
            "\n"
            "%s\n"
            "Each of A and B is a table: a run directory (its extraction.csv), a CSV with a\n"
            "header row, extraction.json, or a JSON array of answers. Empty answers are\n"
            "skipped. Numbers get Welch's t-test (Cohen's d), Mann-Whitney U (rank-biserial\n"
            "r) and Kolmogorov-Smirnov (D); labels get the chi-square test (Cramér's V)%s.\n"
            "p-values through GSL. One JSON document on stdout (or --out FILE).\n"
            "\n"
            "Options:\n"
            "  --column NAME     the column of answers in A (and in B unless --column-b)\n"
            "  --column-b NAME   the column in B\n"
            "  --out FILE        write the JSON there\n"
            "\n"
            "Exit status: 0 done, 1 cannot write, 2 bad usage or bad input.\n",
            o->cmd, emp ? "SIMULATED" : "CONTROL", emp ? "REAL" : "TREATMENT",
            emp ? "TinyTroupe's SimulationExperimentEmpiricalValidator: how far the simulated\n"
                  "answers are from real ones."
                : "TinyTroupe's StatisticalTester: does the treatment's column differ from the\n"
                  "control's?",
            emp ? ", and both the total variation distance between the answers' frequencies" : "");
}

static int
s_parse(int argc, char **argv, s_opts_t *o)
{
    static const struct option options[] = {{"column", required_argument, NULL, 'c'},
                                            {"column-b", required_argument, NULL, 'b'},
                                            {"out", required_argument, NULL, 'o'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->column = optarg;
            break;
        case 'b':
            o->column_b = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'h':
            s_usage(o, stdout);
            return -1;
        default:
            return s_bad(o->cmd, "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return s_bad(o->cmd, "expected two tables, %s and %s", o->a_name, o->b_name);
    o->paths[0] = argv[optind];
    o->paths[1] = argv[optind + 1];
    if (!o->column_b)
        o->column_b = o->column;
    return S_EXIT_OK;
}

static json_t *
s_summary(const coord_exp_sample_t *s)
{
    json_t *o = json_pack("{s:s, s:I}", "source", s->source, "n", (json_int_t)s->n);
    if (s->numeric && s->n > 0) {
        double sum = 0;
        for (size_t i = 0; i < s->n; i++)
            sum += s->num[i];
        json_object_set_new(o, "mean", json_real(sum / (double)s->n));
    }
    json_t *freq = json_object();
    for (size_t i = 0; i < s->n; i++) {
        json_t *c = json_object_get(freq, s->text[i]);
        json_object_set_new(freq, s->text[i], json_integer(c ? json_integer_value(c) + 1 : 1));
    }
    json_object_set_new(o, "counts", freq);
    return o;
}

static json_t *
s_tests(const coord_exp_sample_t *a, const coord_exp_sample_t *b, bool empirical)
{
    json_t *t = json_object();
    coord_exp_result_t r;
    bool numeric = a->numeric && b->numeric;
    if (numeric) {
        json_object_set_new(
            t, "welch_t",
            coord_exp_result_json(coord_exp_welch(a->num, a->n, b->num, b->n, &r), &r, "cohens_d"));
        json_object_set_new(
            t, "mann_whitney_u",
            coord_exp_result_json(coord_exp_mann_whitney(a->num, a->n, b->num, b->n, &r), &r,
                                  "rank_biserial_r"));
        json_object_set_new(
            t, "ks",
            coord_exp_result_json(coord_exp_ks(a->num, a->n, b->num, b->n, &r), &r, "ks_d"));
    }
    if (!numeric || empirical) {
        bool ok = coord_exp_chi_square((const char *const *)a->text, a->n,
                                       (const char *const *)b->text, b->n, &r);
        json_object_set_new(t, "chi_square", coord_exp_result_json(ok, &r, "cramers_v"));
    }
    return t;
}

static int
s_main(s_opts_t *o, int argc, char **argv)
{
    int rc = s_parse(argc, argv, o);
    if (rc)
        return rc < 0 ? S_EXIT_OK : rc;
    coord_exp_sample_t s[2];
    const char *cols[2] = {o->column, o->column_b};
    for (int i = 0; i < 2; i++) {
        char *err = NULL;
        if (coord_exp_sample_load(o->paths[i], cols[i], &s[i], &err) != TT_OK) {
            fprintf(stderr, "%s\n", err);
            free(err);
            if (i)
                coord_exp_sample_fini(&s[0]);
            return S_EXIT_USAGE;
        }
    }
    bool empirical = !strcmp(o->cmd, "empirical");
    bool numeric = s[0].numeric && s[1].numeric;
    json_t *doc = json_pack(
        "{s:s, s:s?, s:s, s:o, s:o, s:o}", "tool",
        empirical ? "SimulationExperimentEmpiricalValidator" : "StatisticalTester", "column",
        o->column, "kind", numeric ? "numeric" : "categorical", o->a_name, s_summary(&s[0]),
        o->b_name, s_summary(&s[1]), "tests", s_tests(&s[0], &s[1], empirical));
    if (empirical)
        json_object_set_new(
            doc, "total_variation_distance",
            json_real(coord_exp_total_variation((const char *const *)s[0].text, s[0].n,
                                                (const char *const *)s[1].text, s[1].n)));
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    rc = S_EXIT_OK;
    FILE *f = o->out ? fopen(o->out, "w") : stdout;
    if (!f || fprintf(f, "%s\n", text) < 0 || (o->out && fclose(f) != 0)) {
        fprintf(stderr, "coordinator %s: cannot write %s\n", o->cmd, o->out ? o->out : "stdout");
        rc = S_EXIT_FAILED;
    }
    free(text);
    json_decref(doc);
    coord_exp_sample_fini(&s[0]);
    coord_exp_sample_fini(&s[1]);
    return rc;
}

int
coord_exp_stats_main(int argc, char **argv)
{
    s_opts_t o = {.cmd = "stats", .a_name = "control", .b_name = "treatment"};
    return s_main(&o, argc, argv);
}

int
coord_exp_empirical_main(int argc, char **argv)
{
    s_opts_t o = {.cmd = "empirical", .a_name = "simulated", .b_name = "real"};
    return s_main(&o, argc, argv);
}
