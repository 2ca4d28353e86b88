/*  coord_documents -- grounding documents as text (see coord_documents.h).
 *
 *  Foreign errors (GError, libzip codes, libxml2) are turned into one sentence
 *  here; nothing else in the coordinator sees those libraries.
 */
#define TT_LOG_MODULE "documents"
#include "coord_documents.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <poppler.h>
#include <zip.h>

#include "tt_buf.h"
#include "tt_file.h"
#include "tt_json.h"
#include "tt_mem.h"

#define S_CUT_WINDOW ((size_t)64 << 10) /* look this far back for a line end */

static const char *
s_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? dot : "";
}

bool
coord_documents_supported(const char *name)
{
    static const char *const exts[] = {".txt", ".md", ".json", ".pdf", ".docx"};
    const char *ext = s_ext(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(ext, exts[i]))
            return true;
    return false;
}

/* Plain text, through the one reader that refuses FIFOs and devices. */
static tt_err_t
s_read_file(const char *file, tt_buf_t *out, char **why)
{
    char *what = NULL;
    tt_err_t err = tt_read_file(file, out, &what);
    if (err == TT_ETOOBIG)
        *why = tt_asprintf("a document is larger than %zu MiB", COORD_DOCUMENT_FILE_CAP >> 20);
    else if (err)
        *why = tt_asprintf("%s: %s", file, what);
    free(what);
    return err ? TT_EINVAL : TT_OK;
}

static tt_err_t
s_pdf(const char *file, tt_buf_t *out, char **why)
{
    char *abs = realpath(file, NULL);
    GError *error = NULL;
    char *uri = abs ? g_filename_to_uri(abs, NULL, &error) : NULL;
    PopplerDocument *doc = uri ? poppler_document_new_from_file(uri, NULL, &error) : NULL;
    free(abs);
    g_free(uri);
    if (!doc) {
        *why = tt_asprintf("cannot read the PDF: %s", error ? error->message : "no such file");
        if (error)
            g_error_free(error);
        return TT_EINVAL;
    }
    tt_err_t err = TT_OK;
    int pages = poppler_document_get_n_pages(doc);
    for (int i = 0; !err && i < pages; i++) {
        PopplerPage *page = poppler_document_get_page(doc, i);
        char *text = page ? poppler_page_get_text(page) : NULL;
        if (text && (tt_buf_adds(out, text) || tt_buf_adds(out, "\n"))) {
            *why =
                tt_asprintf("a PDF's text is larger than %zu MiB", COORD_DOCUMENT_FILE_CAP >> 20);
            err = TT_EINVAL;
        }
        g_free(text);
        if (page)
            g_object_unref(page);
    }
    g_object_unref(doc);
    return err;
}

/* The text of word/document.xml: w:t runs, w:tab, w:br/w:cr, a line per w:p. */
static void
s_docx_walk(const xmlNode *node, tt_buf_t *out)
{
    for (const xmlNode *n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *tag = (const char *)n->name;
        if (!strcmp(tag, "t")) {
            xmlChar *text = xmlNodeGetContent(n);
            if (text)
                tt_buf_adds(out, (const char *)text);
            xmlFree(text);
            continue;
        }
        if (!strcmp(tag, "tab"))
            tt_buf_adds(out, "\t");
        else if (!strcmp(tag, "br") || !strcmp(tag, "cr"))
            tt_buf_adds(out, "\n");
        s_docx_walk(n->children, out);
        if (!strcmp(tag, "p"))
            tt_buf_adds(out, "\n");
    }
}

static tt_err_t
s_docx(const char *file, tt_buf_t *out, char **why)
{
    int zerr = 0;
    zip_t *z = zip_open(file, ZIP_RDONLY, &zerr);
    zip_stat_t st;
    zip_file_t *f = NULL;
    char *xml = NULL;
    tt_err_t err = TT_EINVAL;
    if (!z) {
        *why = tt_strdup("cannot read the DOCX: not a ZIP archive");
        return TT_EINVAL;
    }
    zip_stat_init(&st);
    if (zip_stat(z, "word/document.xml", 0, &st) || !(st.valid & ZIP_STAT_SIZE)) {
        *why = tt_strdup("cannot read the DOCX: no word/document.xml in it");
        goto fail;
    }
    if (st.size > COORD_DOCUMENT_FILE_CAP || st.size > INT_MAX) {
        *why = tt_asprintf("a DOCX's text is larger than %zu MiB", COORD_DOCUMENT_FILE_CAP >> 20);
        goto fail;
    }
    xml = tt_malloc(st.size + 1);
    f = zip_fopen(z, "word/document.xml", 0);
    if (!f || zip_fread(f, xml, st.size) != (zip_int64_t)st.size) {
        *why = tt_strdup("cannot read the DOCX: word/document.xml is damaged");
        goto fail;
    }
    /* no network, no entity substitution: a document is data, not a program */
    xmlDocPtr doc = xmlReadMemory(xml, (int)st.size, "document.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        *why = tt_strdup("cannot read the DOCX: word/document.xml is not XML");
        goto fail;
    }
    s_docx_walk(xmlDocGetRootElement(doc), out);
    xmlFreeDoc(doc);
    err = TT_OK;
fail:
    if (f)
        zip_fclose(f);
    free(xml);
    zip_discard(z);
    return err;
}

/* Where to end a part that starts at text: at most COORD_DOCUMENT_CHUNK bytes,
 * after a line end near the limit if there is one, on a character boundary. */
static size_t
s_cut(const char *text, size_t len)
{
    if (len <= COORD_DOCUMENT_CHUNK)
        return len;
    size_t cut = tt_utf8_cut(text, len, COORD_DOCUMENT_CHUNK);
    for (size_t i = cut; i > 0 && cut - i < S_CUT_WINDOW; i--)
        if (text[i - 1] == '\n')
            return i;
    return cut;
}

void
coord_documents_add_text(const char *name, const char *text, size_t len, json_t *docs)
{
    size_t parts = 0;
    for (size_t at = 0; at < len; parts++)
        at += s_cut(text + at, len - at);
    if (parts <= 1) {
        json_array_append_new(docs, json_pack("{s:s, s:s#}", "name", name, "text", text, len));
        return;
    }
    size_t at = 0;
    for (size_t k = 1; k <= parts; k++) {
        size_t n = s_cut(text + at, len - at);
        char *part = tt_asprintf("%s (part %zu of %zu)", name, k, parts);
        json_array_append_new(docs, json_pack("{s:s, s:s#}", "name", part, "text", text + at, n));
        free(part);
        at += n;
    }
}

tt_err_t
coord_documents_read(const char *file, const char *name, json_t *docs, size_t *total, char **why)
{
    *why = NULL;
    tt_buf_t b;
    tt_buf_init(&b, COORD_DOCUMENT_FILE_CAP);
    const char *ext = s_ext(name);
    /* nothing that could block the loader (a FIFO) reaches the PDF and DOCX readers */
    char *what = NULL;
    if (tt_check_regular_file(file, &what) != TT_OK) {
        *why = tt_asprintf("%s: %s", file, what);
        free(what);
        tt_buf_fini(&b);
        return TT_EINVAL;
    }
    tt_err_t err = !strcasecmp(ext, ".pdf")    ? s_pdf(file, &b, why)
                   : !strcasecmp(ext, ".docx") ? s_docx(file, &b, why)
                                               : s_read_file(file, &b, why);
    if (!err && !tt_utf8_valid(tt_buf_str(&b), b.len)) {
        *why = tt_strdup("a document is not valid UTF-8 text");
        err = TT_EINVAL;
    }
    if (!err) {
        coord_documents_add_text(name, tt_buf_str(&b), b.len, docs);
        *total += b.len;
    }
    tt_buf_fini(&b);
    return err;
}
