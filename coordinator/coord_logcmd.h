/*  coord_logcmd -- `coordinator log dump|stats|diff|verify`: read-only log inspection.
 *
 *      log stats LOG [--compact]   one JSON object: counts, tokens, final hash
 *      log dump LOG                one JSON object per record (JSON lines)
 *      log diff A B                first divergent record; exit 0 same, 1 different
 *      log verify LOG [--json]     framing and hash chain; exit 0 sound, 1 broken
 *
 *  Logs are opened in TT_TLOG_READ mode and never written, whatever they hold.
 *  Exit 2 for bad usage and for a file that cannot be read (or, except for
 *  verify, is corrupt), with "path:1:1: what" on stderr.
 */
#ifndef COORD_LOGCMD_H
#define COORD_LOGCMD_H

#include <stdio.h>

/* argv[0] is "log", argv[1] the subcommand. Writes to stdout and stderr.
 * Returns the process exit code. */
int coord_logcmd_main(int argc, char **argv);

/* The same, writing results to out and diagnostics to err (both borrowed). */
int coord_logcmd_run(int argc, char **argv, FILE *out, FILE *err);

#endif
