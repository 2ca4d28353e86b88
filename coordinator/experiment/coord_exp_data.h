/*  coord_exp_data -- one column of answers, read from a table: the
 *  extraction.csv or extraction.json of `coordinator extract`, any CSV with a
 *  header row (RFC 4180), or a JSON array of values or of objects.
 *
 *  Empty cells and nulls are missing answers and are skipped. The column is
 *  numeric when every answer reads as a number; otherwise it is labels.
 */
#ifndef COORD_EXP_DATA_H
#define COORD_EXP_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "tt_err.h"

typedef struct {
    char *source; /* the path read */
    char **text;  /* each answer as text */
    double *num;  /* each answer as a number, when numeric */
    size_t n;
    bool numeric;
} coord_exp_sample_t;

/* Read column `column` of path (a directory: its extraction.csv). column may
 * be NULL for a JSON array of plain values, or for a table of one column.
 * TT_EINVAL/TT_ENOTFOUND with *errmsg "path:line:col: what is wrong" (caller
 * frees); out is then empty. */
tt_err_t coord_exp_sample_load(const char *path, const char *column, coord_exp_sample_t *out,
                               char **errmsg);
void coord_exp_sample_fini(coord_exp_sample_t *s);

#endif
