/*  tt_merge -- TinyTroupe's merge_dicts (tinytroupe/utils/json.py), for JSON.
 *
 *  How persona fragments and define(..., merge=True) combine with a persona:
 *  - a key only in the additions is added;
 *  - a key whose current value is null takes the addition, whatever it is;
 *  - two objects merge recursively;
 *  - two lists are joined, then repeated items are dropped (the first kept, in
 *    order, over the whole joined list) unless remove_duplicates is off;
 *  - values of different types (Python's: bool, int, float, str, list, dict,
 *    None) are an error, even 30 against 30.0 or null against "x";
 *  - two scalars of one type: the addition wins with overwrite; otherwise if they
 *    differ it is an error (error_on_conflict) or the current value is kept.
 *  Equality is Python's: 1 == 1.0 == true, objects by content.
 *  TinyTroupe cannot drop repeats among list items that are objects holding lists
 *  or objects (it hashes them and raises TypeError); that is refused here too.
 *  As in TinyTroupe, the recursion always removes duplicates in nested lists.
 */
#ifndef TT_MERGE_H
#define TT_MERGE_H

#include <jansson.h>
#include <stdbool.h>

#include "tt_err.h"

typedef struct {
    bool overwrite;         /* same-type scalars: the addition wins */
    bool error_on_conflict; /* differing scalars without overwrite: error, or keep */
    bool remove_duplicates; /* joined lists of the top level drop repeats */
} tt_merge_opts_t;

/* merge_dicts' defaults: overwrite=False, error_on_conflict=True, remove_duplicates=True. */
#define TT_MERGE_DEFAULTS ((tt_merge_opts_t){false, true, true})

/* Merge additions into a copy of current (both objects; neither is changed).
 * Returns TT_OK and *out (caller owns), or TT_EINVAL with *conflict_path set to
 * the dot path of the offending key inside additions ("preferences.likes",
 * list items as "[i]") and *why to what is wrong (both caller frees). */
tt_err_t tt_merge_dicts(const json_t *current, const json_t *additions, const tt_merge_opts_t *opts,
                        json_t **out, char **conflict_path, char **why);

/* Python's == on JSON values: numbers and booleans by value, lists in order,
 * objects by content. */
bool tt_merge_equal(const json_t *a, const json_t *b);

#endif
