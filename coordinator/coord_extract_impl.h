/*  coord_extract_impl -- the extractor's parts, shared by its files and tests.
 *
 *  The scenario's "extract" section (all keys optional):
 *      {"objective": TEXT, "situation": TEXT, "fields": [NAME, ...],
 *       "fields_hints": {NAME: TEXT}, "scope": "per_agent" | "world",
 *       "reduce": [RULE, ...]}
 *  A RULE counts or picks the agent's own actions or the stimuli it received:
 *      {"name": COLUMN,
 *       "action": TYPE | "*"   or   "stimulus": TYPE | "*",
 *       "contains": TEXT,      optional: content holds TEXT (any case)
 *       "to": NAME,            optional, actions: the target is NAME
 *       "from": NAME,          optional, stimuli: the source is NAME
 *       "count": true          the number of matches, or
 *       "take": "first" | "last" | "all"   the matching content(s)}
 */
#ifndef COORD_EXTRACT_IMPL_H
#define COORD_EXTRACT_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "coord_extract.h"
#include "tt_err.h"

#define COORD_EXTRACT_MAX_FIELDS  64
#define COORD_EXTRACT_FIELD_MAX   64     /* bytes of a field or rule name */
#define COORD_EXTRACT_HISTORY_MAX 200000 /* bytes of history sent per call */

/* ------------------------------------------------ coord_extract_history.c */

typedef struct {
    uint32_t step;
    char when[20]; /* "2026-03-01 09:10" */
    bool action;   /* else a stimulus */
    char *type;
    char *content;
    char *other; /* action: target; stimulus: source ("" = the world) */
} coord_xevent_t;

typedef struct {
    char *name;
    json_t *persona; /* flattened persona columns (coord_results_persona_columns) */
    coord_xevent_t *events;
    size_t n_events, cap;
} coord_xagent_t;

typedef struct {
    char *path; /* DIR/sim.tlog */
    char *scenario_name;
    char *scenario_json; /* the scenario's text, as recorded */
    uint64_t seed;
    char provider[32];
    char final_hash[65];
    uint32_t steps; /* StepCommits read */
    coord_xagent_t *agents;
    size_t n_agents;
} coord_xrun_t;

/* Read DIR/sim.tlog. TT_ENOTFOUND/TT_ECORRUPT/TT_EINVAL with *errmsg. */
tt_err_t coord_xrun_load(const char *dir, coord_xrun_t **out, char **errmsg);
void coord_xrun_destroy(coord_xrun_t **self_p);
/* Agent i's interaction history (i < 0: the whole world), one TinyTroupe
 * display line per event, at most cap bytes (the oldest lines give way).
 * Caller frees. */
char *coord_xrun_history(const coord_xrun_t *run, long i, size_t cap);

typedef enum {
    COORD_XRULE_COUNT = 0,
    COORD_XRULE_FIRST = 1,
    COORD_XRULE_LAST = 2,
    COORD_XRULE_ALL = 3,
} coord_xrule_how_t;

typedef struct {
    char *name;
    bool action;
    char *type;     /* NULL: any */
    char *contains; /* NULL: any */
    char *who;      /* to / from; NULL: anyone */
    coord_xrule_how_t how;
} coord_xrule_t;

typedef struct {
    char *objective;
    char *situation;
    json_t *fields; /* array of names, or NULL: free-form */
    json_t *hints;  /* object, or NULL */
    coord_extract_scope_t scope;
    coord_xrule_t *rules;
    size_t n_rules;
} coord_xsettings_t;

/* The "extract" section of the recorded scenario (doc_name names it in
 * messages). A missing section gives empty settings. */
tt_err_t coord_xsettings_load(const char *doc_name, const char *scenario_json,
                              coord_xsettings_t *out, char **errmsg);
/* "a, b,c" -> ["a","b","c"] into s->fields (replacing), checked. */
tt_err_t coord_xsettings_set_fields(coord_xsettings_t *s, const char *list, char **errmsg);
void coord_xsettings_fini(coord_xsettings_t *s);
/* Rule results for agent i (i < 0: every agent): {rule name: value}. */
json_t *coord_xreduce(const coord_xsettings_t *s, const coord_xrun_t *run, long i);

/* ------------------------------------------------ coord_extract_export.c */

/* The table as RFC 4180 CSV (header row, CRLF line ends). Caller frees. */
char *coord_extract_csv(const json_t *columns, const json_t *rows);
/* One table cell as CSV text (no quoting): "" for null, JSON for non-strings. */
char *coord_extract_cell_text(const json_t *value);

#endif
