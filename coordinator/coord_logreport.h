/*  coord_logreport -- `coordinator log report LOG... --html OUT`: one run,
 *  or several side by side, as one self-contained HTML page (coord_report).
 *
 *  With extraction.json beside a log (or, for the first log, the file named
 *  by --extraction) the page shows its results (coord_report_results). With
 *  several logs, the first is shown in full and each other is compared with
 *  it, with the first divergence as `log diff` names it.
 */
#ifndef COORD_LOGREPORT_H
#define COORD_LOGREPORT_H

#include <stdio.h>

/* Write the page for logs[0..n) to html. extraction may be NULL (then
 * extraction.json beside each log, when there is one). Diagnostics to err.
 * Exit code: 0 written; 1 html cannot be written; 2 a log or an extraction
 * is unreadable, or html is one of the logs (nothing written then). */
int coord_logreport_run(const char *const *logs, int n, const char *html, const char *extraction,
                        FILE *err);

#endif
