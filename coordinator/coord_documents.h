/*  coord_documents -- grounding documents as text (TinyTroupe's
 *  GroundingFolder reads .txt, .md, .json, .pdf and .docx).
 *
 *  Text files are read as UTF-8; PDF through poppler-glib (the text of each
 *  page, in order); DOCX through libzip and libxml2 (word/document.xml: runs,
 *  tabs and breaks, one line per paragraph). A text longer than
 *  COORD_DOCUMENT_CHUNK is split into parts, "NAME (part 2 of 3)", cut at a line
 *  end when there is one near the limit, never inside a UTF-8 character.
 */
#ifndef COORD_DOCUMENTS_H
#define COORD_DOCUMENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "tt_err.h"
#include "tt_limits.h"

#define COORD_DOCUMENT_CHUNK    TT_LIMIT_DOCUMENT_PART /* bytes of text in one document */
#define COORD_DOCUMENT_FILE_CAP TT_LIMIT_DOCUMENT_FILE /* bytes of a file, or of a DOCX's XML */

/* True for the file names read as documents (by extension, any case). */
bool coord_documents_supported(const char *name);

/* Read file (shown as name) and append {"name", "text"} objects to docs: one, or
 * one per part. *total grows by the text's length. Errors: TT_EIO (cannot read),
 * TT_EINVAL (not a PDF/DOCX it can read, not UTF-8 text, too big), with *why
 * (caller frees) saying what. */
tt_err_t coord_documents_read(const char *file, const char *name, json_t *docs, size_t *total,
                              char **why);

/* Append text (UTF-8, len bytes) to docs as one {"name", "text"} object, or as
 * one per part when it is longer than COORD_DOCUMENT_CHUNK. */
void coord_documents_add_text(const char *name, const char *text, size_t len, json_t *docs);

#endif
