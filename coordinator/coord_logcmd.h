/*  coord_logcmd -- `coordinator log dump|stats|diff|verify`: read-only log inspection.
 *
 *      log stats LOG [--compact]   one JSON object: counts, tokens, final hash
 *      log dump LOG                one JSON object per record (JSON lines)
 *      log diff A B                first divergent record; exit 0 same, 1 different
 *      log verify LOG [--json]     framing and hash chain; exit 0 sound, 1 broken
 *      log report LOG... --html F  the run(s) as one HTML page (coord_logreport)
 *
 *  Logs are opened in TT_TLOG_READ mode and never written, whatever they hold.
 *  Exit 2 for bad usage and for a file that cannot be read (or, except for
 *  verify, is corrupt), with "path:1:1: what" on stderr.
 */
#ifndef COORD_LOGCMD_H
#define COORD_LOGCMD_H

#include <stdint.h>
#include <stdio.h>

#include "tt_tlog.h"

/* argv[0] is "log", argv[1] the subcommand. Writes to stdout and stderr.
 * Returns the process exit code. */
int coord_logcmd_main(int argc, char **argv);

/* The same, writing results to out and diagnostics to err (both borrowed). */
int coord_logcmd_run(int argc, char **argv, FILE *out, FILE *err);

/* Helpers every log command uses, for coord_logreport. Each returns an exit
 * code: 0, or 2 with "path:1:1: what" on err. */

/* Open path read-only (a torn tail is noted on err, not cut). */
int coord_logcmd_open(const char *path, tt_tlog_t **log, FILE *err);

/* Read record index into entry (tt_tlog_entry_fini it either way). */
int coord_logcmd_read(tt_tlog_t *log, uint64_t index, tt_tlog_entry_t *entry, FILE *err);

/* `log diff a b`: its words to out; 0 identical, 1 different, 2 unreadable. */
int coord_logcmd_diff(const char *a, const char *b, FILE *out, FILE *err);

#endif
