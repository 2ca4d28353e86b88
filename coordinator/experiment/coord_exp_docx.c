/*  coord_exp_docx -- a .docx from text: [Content_Types].xml, _rels/.rels and
 *  word/document.xml, the last written by libxml2's text writer so every
 *  character is escaped as XML wants; the package assembled by libzip in a
 *  temporary file renamed into place.
 */
#include "coord_exp_docx.h"

#include <getopt.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <string.h>
#include <zip.h>

#include "tt_buf.h"
#include "tt_file.h"
#include "tt_mem.h"

#define S_TEXT_CAP ((size_t)16 << 20)
#define S_W_NS     "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

static const char s_types[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" "
    "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/"
    "vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
    "</Types>";
static const char s_rels[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/officeDocument\" Target=\"word/document.xml\"/>"
    "</Relationships>";

/* One w:p holding one run of text; bold for a title. */
static void
s_paragraph(xmlTextWriterPtr w, const char *text, size_t len, bool bold)
{
    xmlTextWriterStartElement(w, BAD_CAST "w:p");
    xmlTextWriterStartElement(w, BAD_CAST "w:r");
    if (bold) {
        xmlTextWriterStartElement(w, BAD_CAST "w:rPr");
        xmlTextWriterWriteElement(w, BAD_CAST "w:b", BAD_CAST "");
        xmlTextWriterEndElement(w);
    }
    xmlTextWriterStartElement(w, BAD_CAST "w:t");
    xmlTextWriterWriteAttribute(w, BAD_CAST "xml:space", BAD_CAST "preserve");
    char *part = tt_strndup(text, len);
    xmlTextWriterWriteString(w, BAD_CAST part);
    free(part);
    xmlTextWriterEndElement(w); /* w:t */
    xmlTextWriterEndElement(w); /* w:r */
    xmlTextWriterEndElement(w); /* w:p */
}

static char *
s_document(const char *title, const char *text)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = xmlNewTextWriterMemory(buf, 0);
    xmlTextWriterStartDocument(w, "1.0", "UTF-8", "yes");
    xmlTextWriterStartElement(w, BAD_CAST "w:document");
    xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:w", BAD_CAST S_W_NS);
    xmlTextWriterStartElement(w, BAD_CAST "w:body");
    if (title)
        s_paragraph(w, title, strlen(title), true);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        size_t trim = n && p[n - 1] == '\r' ? n - 1 : n;
        if (trim)
            s_paragraph(w, p, trim, false);
        p += n + (p[n] == '\n');
    }
    xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w);
    char *xml = tt_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return xml;
}

static bool
s_add(zip_t *z, const char *name, const char *data)
{
    zip_source_t *src = zip_source_buffer(z, data, strlen(data), 0);
    if (src && zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) >= 0)
        return true;
    zip_source_free(src);
    return false;
}

tt_err_t
coord_exp_docx_write(const char *path, const char *title, const char *text, char **errmsg)
{
    char *tmp = tt_asprintf("%s.tmp", path);
    char *doc = s_document(title, text);
    int zerr = 0;
    remove(tmp);
    zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    bool ok = z && s_add(z, "[Content_Types].xml", s_types) && s_add(z, "_rels/.rels", s_rels) &&
              s_add(z, "word/document.xml", doc);
    if (z && ok)
        ok = zip_close(z) == 0;
    else if (z)
        zip_discard(z);
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        *errmsg = tt_asprintf("cannot write %s", path);
        remove(tmp);
    }
    free(doc);
    free(tmp);
    return ok ? TT_OK : TT_EIO;
}

int
coord_exp_export_main(int argc, char **argv)
{
    static const struct option options[] = {{"out", required_argument, NULL, 'o'},
                                            {"title", required_argument, NULL, 't'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *out = NULL, *title = NULL;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (ch == 'o' && *optarg) {
            out = optarg;
        } else if (ch == 't') {
            title = optarg;
        } else if (ch == 'h') {
            printf("Usage: coordinator export TEXTFILE --out FILE.docx [--title TEXT]\n\n"
                   "TinyTroupe's ArtifactExporter to Word: TEXTFILE (a story, an extraction, any\n"
                   "text) as a .docx, one paragraph per line, under an optional bold title.\n"
                   "Exit status: 0 written, 1 cannot write, 2 bad usage or input.\n");
            return 0;
        } else {
            fprintf(stderr,
                    "coordinator export: unknown option or missing value: %s\n"
                    "(see `coordinator export --help`)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 1 || !out) {
        fprintf(stderr, "coordinator export: expected TEXTFILE and --out FILE.docx\n"
                        "(see `coordinator export --help`)\n");
        return 2;
    }
    tt_buf_t b;
    tt_buf_init(&b, S_TEXT_CAP);
    char *why = NULL;
    int rc = 0;
    if (tt_read_file(argv[optind], &b, &why) != TT_OK) {
        fprintf(stderr, "%s:1:1: %s\n", argv[optind], why ? why : "cannot read");
        rc = 2;
    } else if (strlen(tt_buf_str(&b)) != b.len) {
        fprintf(stderr, "%s:1:1: expected text, found a NUL byte\n", argv[optind]);
        rc = 2;
    } else if (coord_exp_docx_write(out, title, tt_buf_str(&b), &why) != TT_OK) {
        fprintf(stderr, "coordinator export: %s\n", why);
        rc = 1;
    }
    free(why);
    tt_buf_fini(&b);
    return rc;
}
