/*  coord_extract_export -- the extraction table as CSV (RFC 4180).
 *
 *  extraction.json keeps the table as {"columns": [...], "rows": [[...], ...]}
 *  and extraction.csv is made from exactly that table, so the two always agree:
 *  a string cell is its text, null is an empty cell, a number or boolean its
 *  JSON spelling, a list or object its compact JSON. A cell holding a comma, a
 *  double quote, CR or LF is quoted, with quotes doubled; every record ends in
 *  CRLF; the first record is the header.
 */
#include <string.h>

#include "coord_extract_impl.h"
#include "tt_buf.h"
#include "tt_json.h"
#include "tt_mem.h"

char *
coord_extract_cell_text(const json_t *value)
{
    if (!value || json_is_null(value))
        return tt_strdup("");
    if (json_is_string(value))
        return tt_strdup(json_string_value(value));
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    TT_ASSERT(text);
    return text;
}

static void
s_cell(tt_buf_t *b, const json_t *value)
{
    char *text = coord_extract_cell_text(value);
    if (!text[strcspn(text, ",\"\r\n")]) {
        tt_buf_adds(b, text);
    } else {
        tt_buf_adds(b, "\"");
        for (const char *p = text; *p; p++) {
            if (*p == '"')
                tt_buf_adds(b, "\"\"");
            else
                tt_buf_add(b, p, 1);
        }
        tt_buf_adds(b, "\"");
    }
    free(text);
}

static void
s_record(tt_buf_t *b, const json_t *cells)
{
    size_t i;
    json_t *v;
    json_array_foreach(cells, i, v)
    {
        if (i)
            tt_buf_adds(b, ",");
        s_cell(b, v);
    }
    tt_buf_adds(b, "\r\n");
}

char *
coord_extract_csv(const json_t *columns, const json_t *rows)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    s_record(&b, columns);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) s_record(&b, row);
    return tt_buf_take(&b);
}
