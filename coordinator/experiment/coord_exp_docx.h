/*  coord_exp_docx -- TinyTroupe's ArtifactExporter to Word: a text (a story,
 *  an extraction, anything an experiment wrote) as a minimal .docx, a title
 *  and one paragraph per line, built with libxml2 (the XML, escaped) and
 *  libzip (the package).
 */
#ifndef COORD_EXP_DOCX_H
#define COORD_EXP_DOCX_H

#include "tt_err.h"

/* Write path (replaced) holding title (NULL: none) and text, a paragraph per
 * non-empty line. TT_EIO with *errmsg (caller frees). */
tt_err_t coord_exp_docx_write(const char *path, const char *title, const char *text, char **errmsg);

/* `coordinator export TEXTFILE --out FILE.docx [--title TEXT]` (argv[0] = "export"). */
int coord_exp_export_main(int argc, char **argv);

#endif
