/*  coord_exp_data -- a column of answers from a CSV or JSON table.
 *
 *  The CSV reader is RFC 4180 (quoted fields may hold commas, quotes as "",
 *  and line breaks) and keeps the line and column of each field so an error
 *  names where the file is wrong.
 */
#include "coord_exp_data.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tt_buf.h"
#include "tt_file.h"
#include "tt_mem.h"

#define S_FILE_CAP ((size_t)64 << 20)

static void
s_add(coord_exp_sample_t *s, const char *text)
{
    if (!text || !*text)
        return; /* a missing answer */
    s->text = tt_realloc(s->text, (s->n + 1) * sizeof *s->text);
    s->text[s->n++] = tt_strdup(text);
}

/* One CSV field from *p; *line, *col follow it. Caller frees. NULL at an
 * unterminated quote. *end: 0 more fields, 1 end of row, 2 end of file. */
static char *
s_field(const char **p, size_t *line, size_t *col, int *end)
{
    tt_buf_t b;
    tt_buf_init(&b, S_FILE_CAP);
    const char *s = *p;
    if (*s == '"') {
        s++, (*col)++;
        for (;;) {
            if (!*s) {
                tt_buf_fini(&b);
                return NULL;
            }
            if (*s == '"' && s[1] != '"')
                break;
            if (*s == '"')
                s++, (*col)++;
            if (*s == '\n')
                (*line)++, *col = 0;
            tt_buf_add(&b, s++, 1);
            (*col)++;
        }
        s++, (*col)++;
    }
    while (*s && *s != ',' && *s != '\n' && *s != '\r') {
        tt_buf_add(&b, s++, 1);
        (*col)++;
    }
    if (*s == '\r')
        s++;
    *end = *s == ',' ? 0 : *s == '\n' ? (s[1] ? 1 : 2) : 2;
    if (*s == ',')
        (*col)++;
    else if (*s == '\n')
        (*line)++, *col = 1;
    if (*s)
        s++;
    *p = s;
    char *f = tt_strdup(tt_buf_str(&b));
    tt_buf_fini(&b);
    return f;
}

static tt_err_t
s_csv(const char *path, const char *text, const char *column, coord_exp_sample_t *out,
      char **errmsg)
{
    const char *p = text;
    size_t line = 1, col = 1, at = 0, wanted = (size_t)-1, ncols = 0;
    int end = *p ? 0 : 2;
    bool header = true;
    tt_buf_t names;
    tt_buf_init(&names, S_FILE_CAP);
    while (end != 2) {
        size_t fline = line, fcol = col;
        char *f = s_field(&p, &line, &col, &end);
        if (!f) {
            *errmsg = tt_asprintf("%s:%zu:%zu: unterminated quoted field", path, fline, fcol);
            tt_buf_fini(&names);
            return TT_EINVAL;
        }
        if (header) {
            if ((column && !strcmp(f, column)) || (!column && at == 0))
                wanted = at;
            tt_buf_addf(&names, "%s\"%s\"", at ? ", " : "", f);
            ncols++;
        } else if (at == wanted) {
            s_add(out, f);
        } else if (at >= ncols) {
            *errmsg =
                tt_asprintf("%s:%zu:%zu: a row of more than %zu fields", path, fline, fcol, ncols);
            free(f);
            tt_buf_fini(&names);
            return TT_EINVAL;
        }
        free(f);
        at++;
        if (end) {
            if (header && wanted == (size_t)-1) {
                *errmsg = column ? tt_asprintf("%s:1:1: no column \"%s\" (columns: %s)", path,
                                               column, tt_buf_str(&names))
                                 : tt_asprintf("%s:1:1: no header row", path);
                tt_buf_fini(&names);
                return TT_EINVAL;
            }
            header = false;
            at = 0;
        }
    }
    tt_buf_fini(&names);
    if (header) {
        *errmsg = tt_asprintf("%s:1:1: empty: expected a header row", path);
        return TT_EINVAL;
    }
    return TT_OK;
}

static void
s_add_json(coord_exp_sample_t *s, const json_t *v)
{
    if (json_is_string(v)) {
        s_add(s, json_string_value(v));
    } else if (v && !json_is_null(v)) {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        s_add(s, t);
        free(t);
    }
}

static tt_err_t
s_json(const char *path, const char *text, const char *column, coord_exp_sample_t *out,
       char **errmsg)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root) {
        *errmsg = tt_asprintf("%s:%d:%d: %s", path, je.line, je.column, je.text);
        return TT_EINVAL;
    }
    const json_t *table = json_object_get(root, "table"), *rows = root;
    long wanted = -1;
    if (table) { /* extraction.json */
        rows = json_object_get(table, "rows");
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(table, "columns"), i, c)
        {
            if (column && !strcmp(json_string_value(c), column))
                wanted = (long)i;
        }
        if (wanted < 0) {
            *errmsg = tt_asprintf("%s:1:1: no column \"%s\" in the table", path,
                                  column ? column : "(none given)");
            json_decref(root);
            return TT_EINVAL;
        }
    }
    if (!json_is_array(rows)) {
        *errmsg = tt_asprintf("%s:1:1: expected an array of answers or an extraction table", path);
        json_decref(root);
        return TT_EINVAL;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (wanted >= 0)
            s_add_json(out, json_array_get(row, (size_t)wanted));
        else if (json_is_object(row) && column)
            s_add_json(out, json_object_get(row, column));
        else
            s_add_json(out, row);
    }
    json_decref(root);
    return TT_OK;
}

static void
s_numbers(coord_exp_sample_t *s)
{
    s->numeric = s->n > 0;
    s->num = tt_calloc(s->n + 1, sizeof *s->num);
    for (size_t i = 0; i < s->n && s->numeric; i++) {
        char *end;
        errno = 0;
        s->num[i] = strtod(s->text[i], &end);
        s->numeric = end != s->text[i] && !*end && !errno && isfinite(s->num[i]);
    }
}

tt_err_t
coord_exp_sample_load(const char *path, const char *column, coord_exp_sample_t *out, char **errmsg)
{
    *out = (coord_exp_sample_t){0};
    *errmsg = NULL;
    struct stat st;
    char *file = stat(path, &st) == 0 && S_ISDIR(st.st_mode)
                     ? tt_asprintf("%s/extraction.csv", path)
                     : tt_strdup(path);
    tt_buf_t b;
    tt_buf_init(&b, S_FILE_CAP);
    char *why = NULL;
    tt_err_t err = tt_read_file(file, &b, &why);
    if (err) {
        *errmsg = tt_asprintf("%s:1:1: %s", file, why ? why : tt_strerror(err));
        free(why);
    } else {
        const char *text = tt_buf_str(&b);
        size_t skip = strspn(text, " \t\r\n");
        bool json = text[skip] == '[' || text[skip] == '{';
        err =
            json ? s_json(file, text, column, out, errmsg) : s_csv(file, text, column, out, errmsg);
    }
    tt_buf_fini(&b);
    if (err) {
        free(file);
        coord_exp_sample_fini(out);
        return err == TT_ENOTFOUND ? err : TT_EINVAL;
    }
    out->source = file;
    s_numbers(out);
    return TT_OK;
}

void
coord_exp_sample_fini(coord_exp_sample_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->text[i]);
    free(s->text);
    free(s->num);
    free(s->source);
    *s = (coord_exp_sample_t){0};
}
