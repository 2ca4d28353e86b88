/*  tt_log -- stderr logging with level check before formatting and redaction.
 *
 *  A line is formatted into a stack buffer and written with one write(2), so
 *  lines from the processes of one run do not interleave mid-line. On a
 *  terminal the line starts by clearing the current one: a status line drawn
 *  there in place (the coordinator's progress) is wiped rather than run into,
 *  and redrawn below by its owner.
 */
#include "tt_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define TT_LOG_LINE_MAX 2048
#define TT_LOG_SECRETS  8
#define TT_LOG_ROLE_MAX 64

tt_log_level_t tt_log_level = TT_LOG_LEVEL_WARN;
static char s_role[TT_LOG_ROLE_MAX] = "troupe";
static char *s_secrets[TT_LOG_SECRETS];
static int s_tty = -1; /* stderr is a terminal that takes escapes: 1, no: 0, not known: -1 */

static bool
s_stderr_is_terminal(void)
{
    if (s_tty < 0) {
        const char *term = getenv("TERM");
        s_tty = isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
    }
    return s_tty == 1;
}

void
tt_log_set_role(const char *role)
{
    snprintf(s_role, sizeof s_role, "%s", role ? role : "troupe");
}

bool
tt_log_parse_level(const char *text, tt_log_level_t *level)
{
    static const struct {
        const char *name;
        tt_log_level_t level;
    } names[] = {{"none", TT_LOG_LEVEL_NONE},      {"error", TT_LOG_LEVEL_ERROR},
                 {"critical", TT_LOG_LEVEL_ERROR}, {"warn", TT_LOG_LEVEL_WARN},
                 {"warning", TT_LOG_LEVEL_WARN},   {"info", TT_LOG_LEVEL_INFO},
                 {"debug", TT_LOG_LEVEL_DEBUG}};
    for (size_t i = 0; text && i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(text, names[i].name) == 0) {
            *level = names[i].level;
            return true;
        }
    }
    return false;
}

void
tt_log_add_secret(const char *secret)
{
    if (!secret || strlen(secret) < 4)
        return;
    for (int i = 0; i < TT_LOG_SECRETS; i++) {
        if (s_secrets[i] && strcmp(s_secrets[i], secret) == 0)
            return;
        if (!s_secrets[i]) {
            s_secrets[i] = strdup(secret);
            return;
        }
    }
}

char *
tt_log_redact(char *buf)
{
    static const char mask[] = "[redacted]";
    for (int i = 0; i < TT_LOG_SECRETS && s_secrets[i]; i++) {
        size_t slen = strlen(s_secrets[i]);
        char *hit;
        while ((hit = strstr(buf, s_secrets[i])) != NULL) {
            size_t mlen = sizeof mask - 1 < slen ? sizeof mask - 1 : slen;
            memcpy(hit, mask, mlen);
            memmove(hit + mlen, hit + slen, strlen(hit + slen) + 1);
        }
    }
    return buf;
}

void
tt_log_write(tt_log_level_t level, const char *module, const char *fmt, ...)
{
    static const char *names[] = {"NONE", "ERROR", "WARN", "INFO", "DEBUG"};
    char line[TT_LOG_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "%s%02d:%02d:%02d.%03d %s %s %s: ", s_stderr_is_terminal() ? "\r\x1b[K" : "",
                     tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), names[level],
                     s_role, module);
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    tt_log_redact(line);
    size_t len = strlen(line);
    line[len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}
