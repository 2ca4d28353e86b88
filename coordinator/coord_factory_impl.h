/*  coord_factory_impl -- the factory's parts, shared by its files and its tests.
 *
 *  Dimensions, in every form they come in (a population file, the model's
 *  answer), end up as one JSON shape:
 *      [{"name": "Age", "values": [{"value": "25-34", "weight": 0.2}, ...],
 *        "weighted": true, "range": [18, 90]}]
 *  "values" may be empty when there is a "range"; weights of a weighted
 *  dimension sum to 1; an unweighted one has weight 0 everywhere.
 *  A plan is [{"id", "subpopulation_description", "sampled_values": {dim: value},
 *  "requested_quantity", "quantity"}], TinyTroupe's sample_plan shape plus the
 *  model's own quantity kept beside the one we force.
 */
#ifndef COORD_FACTORY_IMPL_H
#define COORD_FACTORY_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tt_err.h"
#include "tt_json.h"
#include "tt_llm.h"

#define COORD_FACTORY_MAX_DIMS       64
#define COORD_FACTORY_MAX_VALUES     200 /* per dimension */
#define COORD_FACTORY_MAX_PLAN_ROWS  500
#define COORD_FACTORY_CONTEXT_MAX    6000 /* bytes of population context sent to the model */
#define COORD_FACTORY_TAKEN_HINT_MAX 300  /* taken names listed when a name is asked again */

/* ------------------------------------------------ coord_factory_plan.c */

/* Read a TinyTroupe population file {title, description, source, content:{...}}.
 * Inside content, every object whose values are shares adding up to about 100%
 * (or 1) -- {"Female": "51%", "Male": "49%"} -- becomes a weighted dimension
 * named by its key, every list of texts an unweighted one, every {"min","max"}
 * a range; everything else becomes context lines. *dims and *context are the
 * caller's. Errors: "path:line:col: what", TT_EINVAL. */
tt_err_t coord_factory_population_parse(const tt_jdoc_t *doc, json_t **dims, char **context,
                                        char **errmsg);

/* Check and normalise dimensions in the shape above (weights scaled to sum 1,
 * names unique). On failure *why (caller frees) says what is wrong. */
bool coord_factory_dims_normalise(json_t *dims, char **why);

/* ------------------------------------------------ coord_factory_ages.c */

/* An ASCII lower-case copy of text (caller frees). */
char *coord_factory_lower(const char *text);

/* Age bounds a context text states: "aged 25 to 40", "between 18 and 30 years",
 * "18-24 year olds", "65 and over", "over 65 years", "under 30 years of age",
 * "adults" (18+). False when it states none. */
bool coord_factory_ages_from_text(const char *text, int *lo, int *hi);
/* Cut every age dimension ("Age", "Age Distribution", "Age group") to [lo, hi]:
 * values wholly outside are dropped, straddling ones narrowed ("18-34" ->
 * "25-34"), ranges intersected; then coord_factory_dims_normalise. */
bool coord_factory_ages_bound(json_t *dims, int lo, int hi, char **why);

/* ------------------------------------------------ coord_factory_plan.c */

/* Force the plan's quantities to sum to exactly n while following the weighted
 * dimensions (see coord_factory_plan.c for the rule). Sets each row's
 * "quantity"; the model's number is kept in "requested_quantity". */
void coord_factory_plan_fix(json_t *rows, const json_t *dims, uint32_t n);

/* The plan flattened to one row index per person, in an order shuffled with
 * seed. *n is the total quantity. Caller frees. */
uint32_t *coord_factory_plan_flatten(const json_t *rows, uint64_t seed, uint32_t *n);

/* ------------------------------------------------ coord_factory_prompt.c */

/* Requests for the three tasks; each sets its schema, validator and seed. */
tt_llm_request_t *coord_factory_dims_request(const char *context, uint32_t count, uint64_t seed);
tt_llm_request_t *coord_factory_plan_request(const char *context, uint32_t count,
                                             const json_t *dims, uint64_t seed);
/* Person k of count for plan row row; describe: every person's primary
 * characteristics (may be NULL); taken: names to avoid (array, may be NULL);
 * wave 0 is the first ask, wave w > 0 asks again for another name. */
tt_llm_request_t *coord_factory_person_request(const char *context, const char *describe,
                                               uint32_t k, uint32_t count, const json_t *row,
                                               const json_t *taken, uint32_t wave, uint64_t seed);

json_t *coord_factory_person_schema(void);
/* The checkers (tt_llm_check_fn) of the parsed answers. Dimensions answer
 * {"dimensions": [...]} normalised to the shape above; plans {"sample_plan":
 * [...]} with sampled_values turned into an object; a person is checked field by
 * field and its keys put in TinyTroupe's order. On failure *why says what is
 * wrong, in one line for the re-ask. */
tt_err_t coord_factory_dims_check(const json_t *value, const void *arg, json_t **normal,
                                  char **why);
tt_err_t coord_factory_plan_check(const json_t *value, const void *arg, json_t **normal,
                                  char **why);
tt_err_t coord_factory_person_check(const json_t *value, const void *arg, json_t **normal,
                                    char **why);

#endif
