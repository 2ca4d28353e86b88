/*  coord_cli -- see coord_cli.h. */
#include "coord_cli.h"

#include <stdarg.h>
#include <stdio.h>

int
coord_cli_bad(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "coordinator %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see `coordinator %s --help`)\n", cmd);
    va_end(ap);
    return COORD_EXIT_USAGE;
}
