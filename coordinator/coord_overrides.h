/*  coord_overrides -- `run --set KEY.PATH=VALUE`: sweeps from the shell.
 *
 *  A key path is dotted, with [i] or a number for list items
 *  ("world.step", "events[0].content", "agents.1.count"). Paths that start
 *  with "config." name config.ini settings ("config.OpenAI.TEMPERATURE=0.2")
 *  and go to tt_config_setup_flags; every other path is in the scenario
 *  document. A value is JSON when it parses as JSON ("8", "true",
 *  "[1,2]", "\"x\""), otherwise the text as a string ("PT5M").
 *
 *  The scenario is edited as JSON and then loaded like a file, so an override
 *  is checked exactly as the file would be; the edited text is what SimBegin
 *  records (replay and --resume need the same --set).
 */
#ifndef COORD_OVERRIDES_H
#define COORD_OVERRIDES_H

#include <jansson.h>
#include <stdbool.h>

#include "tt_err.h"

typedef struct coord_overrides coord_overrides_t;

coord_overrides_t *coord_overrides_new(void);
void coord_overrides_destroy(coord_overrides_t **self_p);
/* Add one KEY.PATH=VALUE (arg is borrowed until destroy). TT_EINVAL with
 * *errmsg (caller frees) when it is not of that shape. */
tt_err_t coord_overrides_add(coord_overrides_t *o, const char *arg, char **errmsg);
/* The config settings, "Section.KEY=value", NULL-terminated. Borrowed until destroy. */
const char *const *coord_overrides_config(const coord_overrides_t *o);
/* True when some override is for the scenario document. */
bool coord_overrides_touch_scenario(const coord_overrides_t *o);
/* Apply the scenario overrides to the JSON text of the file at path. On
 * success *text is the edited document (caller frees). A path that cannot be
 * followed (through a value that is not an object or a list, a list index out
 * of range) is TT_EINVAL with *errmsg "--set ARG: what" (caller frees). */
tt_err_t coord_overrides_apply(const coord_overrides_t *o, const char *path, char **text,
                               char **errmsg);
/* {"KEY.PATH": value, ...} in the order given (new reference), for results.json. */
json_t *coord_overrides_json(const coord_overrides_t *o);

#endif
