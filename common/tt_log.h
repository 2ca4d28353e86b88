/*  tt_log -- one line per event on stderr: `time level role module: message`.
 *
 *  Each .c file may define TT_LOG_MODULE before including this header. The
 *  macros test the level before formatting, so a DEBUG line on a hot path costs
 *  one comparison when DEBUG is off. Secrets registered with tt_log_add_secret()
 *  are replaced by "[redacted]" in every line, as a last line of defence: code
 *  must still never format a key in the first place.
 */
#ifndef TT_LOG_H
#define TT_LOG_H

#include <stdbool.h>

typedef enum {
    TT_LOG_LEVEL_NONE = 0,
    TT_LOG_LEVEL_ERROR = 1,
    TT_LOG_LEVEL_WARN = 2,
    TT_LOG_LEVEL_INFO = 3,
    TT_LOG_LEVEL_DEBUG = 4,
} tt_log_level_t;

#ifndef TT_LOG_MODULE
#define TT_LOG_MODULE "main"
#endif

/* The only mutable globals besides the interrupted flag: read-mostly, set at start. */
extern tt_log_level_t tt_log_level;

/* Set the role shown on every line ("coordinator", "agentd"). Copies role. */
void tt_log_set_role(const char *role);
/* Parse "error|warn|info|debug|none" (TinyTroupe's LOGLEVEL names, any case). */
bool tt_log_parse_level(const char *text, tt_log_level_t *level);
/* Never print this string. Copies it; empty or NULL is ignored. */
void tt_log_add_secret(const char *secret);
/* Replace registered secrets in buf (in place); returns buf. */
char *tt_log_redact(char *buf);

void tt_log_write(tt_log_level_t level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define TT_LOG_AT(lvl, ...)                                                                        \
    do {                                                                                           \
        if ((lvl) <= tt_log_level)                                                                 \
            tt_log_write((lvl), TT_LOG_MODULE, __VA_ARGS__);                                       \
    } while (0)
#define TT_LOG_ERROR(...) TT_LOG_AT(TT_LOG_LEVEL_ERROR, __VA_ARGS__)
#define TT_LOG_WARN(...)  TT_LOG_AT(TT_LOG_LEVEL_WARN, __VA_ARGS__)
#define TT_LOG_INFO(...)  TT_LOG_AT(TT_LOG_LEVEL_INFO, __VA_ARGS__)
#define TT_LOG_DEBUG(...) TT_LOG_AT(TT_LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
