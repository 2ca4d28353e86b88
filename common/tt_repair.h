/*  tt_repair -- getting a JSON object out of what a model actually wrote.
 *
 *  Models wrap JSON in code fences, put prose around it, leave trailing commas,
 *  start with a byte order mark or put raw line breaks inside strings.
 *  tt_repair_json() undoes exactly those, and nothing cleverer: a truncated or
 *  structurally wrong answer is reported (with a reason the model can act on)
 *  so the caller re-asks instead of guessing.
 */
#ifndef TT_REPAIR_H
#define TT_REPAIR_H

#include <jansson.h>
#include <stddef.h>

/* Parse text as a JSON object or array, repairing fences, surrounding prose and
 * trailing commas. Returns a new reference, or NULL with *why set (caller
 * frees) to a one-line reason such as "the JSON ends before the object closes". */
json_t *tt_repair_json(const char *text, size_t len, char **why);

#endif
