/*  coord_report -- template + data = one HTML file.
 *
 *  The template is compiled in (coord_report_template.c, generated in the
 *  build tree from coordinator/report/), so the binary needs no files at run
 *  time. It holds S_DATA_MARKER exactly once, inside the data script element;
 *  the build refuses a template without it.
 *
 *  The data is dumped by jansson, then escaped for its place in the page.
 *  The escapes are safe to apply to the whole JSON text: "<", ">", "&" and
 *  U+2028/2029 can only occur inside JSON strings, where \uXXXX means the same
 *  character, and a backslash before them is always the end of a "\\" pair.
 */
#define TT_LOG_MODULE "report"
#include "coord_report.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tt_mem.h"

#define S_DATA_MARKER "@TT_DATA@"

/* Generated from coordinator/report/ (see report/embed.cmake). */
extern const unsigned char coord_report_template[];

/* The escape for the character at p and how many bytes it spans, or NULL. */
static const char *
s_escape(const unsigned char *p, size_t *span)
{
    *span = 1;
    switch (p[0]) {
    case '<':
        return "\\u003c";
    case '>':
        return "\\u003e";
    case '&':
        return "\\u0026";
    case 0xE2:
        if (p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
            *span = 3;
            return p[2] == 0xA8 ? "\\u2028" : "\\u2029";
        }
        return NULL;
    default:
        return NULL;
    }
}

static void
s_write_data(const json_t *data, FILE *out)
{
    char *text = json_dumps(data, JSON_COMPACT);
    if (!text) {
        fprintf(stderr, "%s:%d: out of memory (jansson)\n", __FILE__, __LINE__);
        abort();
    }
    const unsigned char *p = (const unsigned char *)text, *run = p;
    while (*p) {
        size_t span;
        const char *esc = s_escape(p, &span);
        if (!esc) {
            p++;
            continue;
        }
        fwrite(run, 1, (size_t)(p - run), out);
        fputs(esc, out);
        p += span;
        run = p;
    }
    fwrite(run, 1, (size_t)(p - run), out);
    free(text);
}

tt_err_t
coord_report_write(const json_t *data, FILE *out)
{
    const char *page = (const char *)coord_report_template;
    const char *marker = strstr(page, S_DATA_MARKER);
    TT_ASSERT(marker != NULL);
    fwrite(page, 1, (size_t)(marker - page), out);
    s_write_data(data, out);
    fputs(marker + strlen(S_DATA_MARKER), out);
    return fflush(out) == 0 && !ferror(out) ? TT_OK : TT_EIO;
}

tt_err_t
coord_report_save(const json_t *data, const char *path, char **errmsg)
{
    char *tmp = tt_asprintf("%s.tmp", path);
    tt_err_t rc = TT_EIO;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        *errmsg = tt_asprintf("cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return TT_EIO;
    }
    if (coord_report_write(data, f) != TT_OK || fsync(fileno(f)) != 0) {
        *errmsg = tt_asprintf("cannot write %s: %s", tmp, strerror(errno));
        fclose(f);
        goto fail;
    }
    if (fclose(f) != 0) {
        *errmsg = tt_asprintf("cannot write %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        *errmsg = tt_asprintf("cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto fail;
    }
    rc = TT_OK;
fail:
    if (rc != TT_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}
