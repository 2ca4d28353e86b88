/*  tt_time -- simulated datetimes, ISO-8601 durations, monotonic clocks.
 *
 *  Simulated time is naive (no zone), held as seconds since 1970-01-01 in UTC
 *  arithmetic so no local timezone can shift it. Durations follow ISO-8601 with
 *  TinyTroupe's conventions: a month is 4 weeks and a year 365 days.
 */
#ifndef TT_TIME_H
#define TT_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TT_DATETIME_LEN 20 /* "YYYY-MM-DDTHH:MM:SS" + NUL */

/* "2026-03-01T09:00:00" (optional ".fff" and "Z"; a space also separates). */
bool tt_datetime_parse(const char *text, int64_t *seconds);
/* Writes "YYYY-MM-DDTHH:MM:SS" into out (TT_DATETIME_LEN bytes). Returns out. */
char *tt_datetime_format(int64_t seconds, char *out);
/* "PT10M", "P1DT2H", "P2W", "P1M" (= 4 weeks), "P1Y" (= 365 days). */
bool tt_duration_parse(const char *text, int64_t *seconds);

/* Milliseconds from a monotonic clock. */
int64_t tt_now_ms(void);
/* Wall clock, milliseconds since the epoch (for telemetry only). */
int64_t tt_wall_ms(void);

#endif
