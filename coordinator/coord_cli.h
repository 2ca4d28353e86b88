/*  coord_cli -- what the coordinator's subcommands share on the command line. */
#ifndef COORD_CLI_H
#define COORD_CLI_H

#define COORD_EXIT_USAGE 2

/* "coordinator CMD: <what>" and where to look, on stderr; returns
 * COORD_EXIT_USAGE (bad usage or bad input). */
int coord_cli_bad(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
