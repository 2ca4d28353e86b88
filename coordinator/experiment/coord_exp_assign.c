/*  coord_exp_assign -- `coordinator assign`: TinyTroupe's ABRandomizer as a
 *  seeded, balanced assignment of people to treatments. The names (a run's
 *  agents, or --names) are shuffled by GSL's Mersenne Twister seeded with
 *  --seed, then dealt to the treatments in turn, so group sizes differ by at
 *  most one and the same seed gives the same groups on every machine.
 */
#include <getopt.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coord_exp.h"
#include "coord_cli.h"
#include "coord_extract_impl.h"
#include "tt_mem.h"

#define S_EXIT_OK      0
#define S_EXIT_USAGE   2
#define S_MAX_GROUPS   64
#define S_DEFAULT_SEED 42

/* bad usage: says so, exit 2 */
#define s_bad(...) coord_cli_bad("assign", __VA_ARGS__)

/* "a,b,c" -> a JSON array of non-empty, distinct names; NULL when bad. */
static json_t *
s_list(const char *text)
{
    json_t *out = json_array();
    for (const char *p = text;; p++) {
        size_t n = strcspn(p, ",");
        char *name = tt_strndup(p, n);
        bool dup = false;
        size_t i;
        json_t *v;
        json_array_foreach(out, i, v) dup |= !strcmp(json_string_value(v), name);
        if (!n || dup) {
            free(name);
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, json_string(name));
        free(name);
        p += n;
        if (!*p)
            return out;
    }
}

static json_t *
s_assign(json_t *people, json_t *groups, unsigned long seed)
{
    size_t n = json_array_size(people), k = json_array_size(groups);
    size_t *order = tt_calloc(n + 1, sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    if (n > 1)
        gsl_ran_shuffle(rng, order, n, sizeof *order);
    gsl_rng_free(rng);
    json_t *out = json_object();
    for (size_t g = 0; g < k; g++)
        json_object_set_new(out, json_string_value(json_array_get(groups, g)), json_array());
    for (size_t i = 0; i < n; i++)
        json_array_append(json_object_get(out, json_string_value(json_array_get(groups, i % k))),
                          json_array_get(people, order[i]));
    free(order);
    return out;
}

int
coord_exp_assign_main(int argc, char **argv)
{
    static const struct option options[] = {{"names", required_argument, NULL, 'n'},
                                            {"treatments", required_argument, NULL, 't'},
                                            {"seed", required_argument, NULL, 's'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *names = NULL, *treatments = "control,treatment";
    unsigned long seed = S_DEFAULT_SEED;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        char *end;
        if (ch == 'n') {
            names = optarg;
        } else if (ch == 't') {
            treatments = optarg;
        } else if (ch == 's') {
            seed = strtoul(optarg, &end, 10);
            if (!*optarg || *end || *optarg == '-')
                return s_bad("--seed: expected a non-negative integer, got \"%s\"", optarg);
        } else if (ch == 'h') {
            printf("Usage: coordinator assign (DIR | --names a,b,c) [--treatments A,B,...]\n"
                   "                          [--seed S]\n\n"
                   "TinyTroupe's ABRandomizer: the run's agents (or the names) assigned at\n"
                   "random, seeded (default 42), to the treatments (default control,treatment),\n"
                   "balanced. JSON on stdout. Exit status: 0 done, 2 bad usage or input.\n");
            return S_EXIT_OK;
        } else {
            return s_bad("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if ((argc - optind == 1) == (names != NULL))
        return s_bad("give a run directory DIR or --names, one of them");
    json_t *groups = s_list(treatments);
    if (!groups || json_array_size(groups) < 2 || json_array_size(groups) > S_MAX_GROUPS) {
        json_decref(groups);
        return s_bad("--treatments: expected 2 to %d distinct, non-empty names, got \"%s\"",
                     S_MAX_GROUPS, treatments);
    }
    json_t *people = NULL;
    if (names && !(people = s_list(names))) {
        json_decref(groups);
        return s_bad("--names: expected distinct, non-empty names, got \"%s\"", names);
    }
    if (!names) {
        coord_xrun_t *run = NULL;
        char *err = NULL;
        if (coord_xrun_load(argv[optind], &run, &err) != TT_OK) {
            fprintf(stderr, "coordinator assign: %s\n", err);
            free(err);
            json_decref(groups);
            return S_EXIT_USAGE;
        }
        people = json_array();
        for (size_t i = 0; i < run->n_agents; i++)
            json_array_append_new(people, json_string(run->agents[i].name));
        coord_xrun_destroy(&run);
    }
    json_t *doc =
        json_pack("{s:s, s:I, s:O, s:o}", "tool", "ABRandomizer", "seed", (json_int_t)seed,
                  "treatments", groups, "groups", s_assign(people, groups, seed));
    char *text = json_dumps(doc, JSON_INDENT(2));
    printf("%s\n", text);
    free(text);
    json_decref(doc);
    json_decref(people);
    json_decref(groups);
    return fflush(stdout) == 0 ? S_EXIT_OK : 1;
}
