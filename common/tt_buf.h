/*  tt_buf -- a growable byte buffer with a hard cap.
 *
 *  Anything filled from the outside world (HTTP bodies, LLM output, frames,
 *  files) goes through a tt_buf whose cap is chosen by the caller, so a hostile
 *  peer cannot make us allocate without bound. The contents are always
 *  NUL-terminated, so text can be read with tt_buf_str().
 */
#ifndef TT_BUF_H
#define TT_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "tt_err.h"

typedef struct {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap; /* maximum len; 0 means TT_BUF_DEFAULT_CAP */
} tt_buf_t;

#define TT_BUF_DEFAULT_CAP ((size_t)64 << 20)

/* Embed-style init; no allocation until the first add. */
void tt_buf_init(tt_buf_t *buf, size_t cap);
void tt_buf_fini(tt_buf_t *buf);
void tt_buf_reset(tt_buf_t *buf);
/* Room for EXTRA more bytes in one allocation, so that appends up to them
 * do not grow the buffer step by step; TT_ETOOBIG past the cap. */
tt_err_t tt_buf_reserve(tt_buf_t *buf, size_t extra);
/* Append; TT_ETOOBIG if the cap would be passed (nothing is appended then). */
tt_err_t tt_buf_add(tt_buf_t *buf, const void *data, size_t len);
tt_err_t tt_buf_adds(tt_buf_t *buf, const char *text);
tt_err_t tt_buf_addf(tt_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
tt_err_t tt_buf_vaddf(tt_buf_t *buf, const char *fmt, va_list ap);
/* The text so far; borrowed until the next change. Never NULL. */
const char *tt_buf_str(const tt_buf_t *buf);
/* Hand the contents to the caller (caller frees) and reset the buffer. */
char *tt_buf_take(tt_buf_t *buf);

#endif
