/*  tt_persona -- TinyTroupe person specifications, read as they are.
 *
 *  A spec is {"type":"TinyPerson","persona":{...}}; a fragment is
 *  {"type":"Fragment","persona":{...}} and merges into a persona as TinyTroupe's
 *  import_fragment does, with merge_dicts (tt_merge.h: objects merge key by key,
 *  lists join without repeats, a different scalar is a conflict).
 *  Values are reached with dot paths ("occupation.title").
 */
#ifndef TT_PERSONA_H
#define TT_PERSONA_H

#include <jansson.h>
#include <stdbool.h>

#include "tt_err.h"
#include "tt_json.h"

#define TT_NAME_MAX 128 /* bytes of an agent name */

typedef struct tt_persona tt_persona_t;

/* Load a .agent.json file. Errors: *errmsg = "file:line:col: what" (caller frees). */
tt_err_t tt_persona_load_file(const char *path, tt_persona_t **out, char **errmsg);
/* Build from a spec already parsed inside doc at path (for inline scenario agents);
 * messages point into doc. Takes a copy of the value. */
tt_err_t tt_persona_from_doc(const tt_jdoc_t *doc, const char *path, tt_persona_t **out,
                             char **errmsg);
/* Parse spec text (what travels in Assign and SimBegin). */
tt_err_t tt_persona_from_text(const char *text, tt_persona_t **out, char **errmsg);
tt_persona_t *tt_persona_dup(const tt_persona_t *p);
void tt_persona_destroy(tt_persona_t **self_p);

/* Merge a fragment file into the persona (merge_dicts). A conflict is TT_EINVAL
 * with *errmsg = "file:line:col: persona.KEY.PATH: what" at the fragment's value;
 * p is then unchanged. Caller frees *errmsg. */
tt_err_t tt_persona_apply_fragment_file(tt_persona_t *p, const char *path, char **errmsg);
/* Merge a persona object (borrowed) into p with merge_dicts' defaults. On a
 * conflict p is unchanged and TT_EINVAL comes with *conflict_path (dot path in
 * persona_obj) and *why, both caller frees (either may be NULL). */
tt_err_t tt_persona_merge(tt_persona_t *p, const json_t *persona_obj, char **conflict_path,
                          char **why);

const char *tt_persona_name(const tt_persona_t *p);
void tt_persona_set_name(tt_persona_t *p, const char *name);
/* The "persona" object; borrowed for the life of p. */
json_t *tt_persona_json(const tt_persona_t *p);
/* Value at a dot path, or NULL; borrowed. */
json_t *tt_persona_get(const tt_persona_t *p, const char *path);
/* TinyTroupe's define: set the value at path, creating objects on the way. With
 * merge, an object or list value is merged as define(key, value, merge=True)
 * does, merge_dicts(persona, {key: value}) with "a.b" read as {"a":{"b":...}};
 * a conflict is TT_EINVAL, *errmsg = "KEY.PATH: what" (caller frees; errmsg may
 * be NULL) and p unchanged. Scalars always overwrite. Takes a reference to value. */
tt_err_t tt_persona_define(tt_persona_t *p, const char *path, json_t *value, bool merge,
                           char **errmsg);
/* The whole spec as compact JSON text, {"type":"TinyPerson","persona":{...}}.
 * Caller frees. */
char *tt_persona_spec_text(const tt_persona_t *p);
/* One line: "Lisa Carter, 28, data scientist at Microsoft, Canadian, living in
 * Vancouver". Caller frees. */
char *tt_persona_minibio(const tt_persona_t *p);

/* Check that name is usable as an agent name (non-empty, <= TT_NAME_MAX bytes,
 * UTF-8, no control characters). */
bool tt_persona_name_ok(const char *name);
/* A file-system-safe directory name for an agent (caller frees), one to one:
 * a name with no '/', '\\', '~' or control character, not starting with '.'
 * (and at most 200 bytes) is its own directory name ("Lisa Carter"); any other
 * has those bytes replaced by '_' and "~" plus 16 hex digits of the SHA-256 of
 * the exact name appended ("Ann/Lee" -> "Ann_Lee~3f1c..."), so no two names
 * share a directory. */
char *tt_persona_dirname(const char *name);

#endif
