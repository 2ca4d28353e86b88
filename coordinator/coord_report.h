/*  coord_report -- the run report: one self-contained HTML file.
 *
 *  The page is a template (coordinator/report/report.html, with report.css
 *  and report.js put inline at build time by report/embed.cmake) and the data
 *  of coord_report_data in a <script type="application/json"> block, which
 *  report.js renders. The file fetches nothing: no fonts, images, styles or
 *  scripts from anywhere else, so it reads the same offline, years later.
 *
 *  The data holds what agents said, and agent text is untrusted. In the data
 *  block "<", ">" and "&" are written \u003c, \u003e, \u0026, so no text can
 *  close the script element or open a comment in it, and U+2028, U+2029 are
 *  written \u2028, \u2029; JSON.parse reads the same strings back. The page
 *  puts text into the DOM with textContent only.
 */
#ifndef COORD_REPORT_H
#define COORD_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "tt_err.h"

/* Write the page for data (from coord_report_data_json) to out. data is only
 * read. TT_EIO when out fails. */
tt_err_t coord_report_write(const json_t *data, FILE *out);

/* Write the page to path without ever leaving half a page there: it goes to
 * "path.tmp" first, then is renamed. On failure path is untouched, path.tmp
 * is removed, and *errmsg says why (caller frees). Returns TT_OK or TT_EIO. */
tt_err_t coord_report_save(const json_t *data, const char *path, char **errmsg);

#endif
