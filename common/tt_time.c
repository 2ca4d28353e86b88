/*  tt_time -- datetime parsing and formatting in UTC arithmetic. */
#include "tt_time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool
s_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

bool
tt_datetime_parse(const char *text, int64_t *seconds)
{
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (!s_digits(&p, 4, &y) || *p++ != '-' || !s_digits(&p, 2, &mo) || *p++ != '-' ||
        !s_digits(&p, 2, &d))
        return false;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!s_digits(&p, 2, &h) || *p++ != ':' || !s_digits(&p, 2, &mi))
            return false;
        if (*p == ':') {
            p++;
            if (!s_digits(&p, 2, &s))
                return false;
            if (*p == '.') {
                p++;
                while (isdigit((unsigned char)*p))
                    p++;
            }
        }
        if (*p == 'Z')
            p++;
    }
    if (*p != '\0')
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1)
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    time_t t = timegm(&tm);
    /* timegm normalises 31 February into March: refuse dates that moved. */
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != d || back.tm_mon != mo - 1)
        return false;
    *seconds = (int64_t)t;
    return true;
}

char *
tt_datetime_format(int64_t seconds, char *out)
{
    time_t t = (time_t)seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    if (tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1)
        snprintf(out, TT_DATETIME_LEN, "out-of-range");
    else
        strftime(out, TT_DATETIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    return out;
}

bool
tt_duration_parse(const char *text, int64_t *seconds)
{
    const char *p = text;
    if (*p++ != 'P')
        return false;
    int64_t total = 0;
    bool in_time = false, any = false;
    while (*p) {
        if (*p == 'T') {
            if (in_time)
                return false;
            in_time = true;
            p++;
            continue;
        }
        if (!isdigit((unsigned char)*p))
            return false;
        int64_t n = 0;
        while (isdigit((unsigned char)*p)) {
            n = n * 10 + (*p++ - '0');
            if (n > 100000000)
                return false;
        }
        int64_t unit;
        switch (*p++) {
        case 'Y':
            unit = in_time ? -1 : 365 * 86400;
            break;
        case 'M':
            unit = in_time ? 60 : 28 * 86400;
            break;
        case 'W':
            unit = in_time ? -1 : 7 * 86400;
            break;
        case 'D':
            unit = in_time ? -1 : 86400;
            break;
        case 'H':
            unit = in_time ? 3600 : -1;
            break;
        case 'S':
            unit = in_time ? 1 : -1;
            break;
        default:
            unit = -1;
        }
        if (unit < 0)
            return false;
        total += n * unit;
        any = true;
    }
    if (!any)
        return false;
    *seconds = total;
    return true;
}

int64_t
tt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
tt_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
