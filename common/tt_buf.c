/*  tt_buf -- capped growable buffer (the idea of curl's dynbuf). */
#include "tt_buf.h"

#include <stdio.h>
#include <string.h>

#include "tt_mem.h"

void
tt_buf_init(tt_buf_t *buf, size_t cap)
{
    memset(buf, 0, sizeof *buf);
    buf->cap = cap ? cap : TT_BUF_DEFAULT_CAP;
}

void
tt_buf_fini(tt_buf_t *buf)
{
    free(buf->data);
    size_t cap = buf->cap;
    memset(buf, 0, sizeof *buf);
    buf->cap = cap;
}

void
tt_buf_reset(tt_buf_t *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

static tt_err_t
s_reserve(tt_buf_t *buf, size_t extra)
{
    if (extra > buf->cap || buf->len > buf->cap - extra)
        return TT_ETOOBIG;
    size_t need = buf->len + extra + 1;
    if (need <= buf->alloc)
        return TT_OK;
    size_t alloc = buf->alloc ? buf->alloc : 256;
    while (alloc < need)
        alloc *= 2;
    buf->data = tt_realloc(buf->data, alloc);
    buf->alloc = alloc;
    return TT_OK;
}

tt_err_t
tt_buf_reserve(tt_buf_t *buf, size_t extra)
{
    return s_reserve(buf, extra);
}

tt_err_t
tt_buf_add(tt_buf_t *buf, const void *data, size_t len)
{
    tt_err_t err = s_reserve(buf, len);
    if (err)
        return err;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return TT_OK;
}

tt_err_t
tt_buf_adds(tt_buf_t *buf, const char *text)
{
    return tt_buf_add(buf, text, strlen(text));
}

tt_err_t
tt_buf_vaddf(tt_buf_t *buf, const char *fmt, va_list ap)
{
    /* one pass into the room there is, a second only to grow: a pass that
     * just measures costs as much again (glibc formats it into a small scratch
     * buffer, over and over) */
    size_t room = buf->data ? buf->alloc - buf->len : 0;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(room ? buf->data + buf->len : NULL, room, fmt, copy);
    va_end(copy);
    if (n >= 0 && (size_t)n < room && buf->len + (size_t)n <= buf->cap) {
        buf->len += (size_t)n; /* the NUL is written */
        return TT_OK;
    }
    if (room)
        buf->data[buf->len] = '\0'; /* a part that did not fit is dropped */
    if (n < 0)
        return TT_EINVAL;
    tt_err_t err = s_reserve(buf, (size_t)n);
    if (err)
        return err;
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return TT_OK;
}

tt_err_t
tt_buf_addf(tt_buf_t *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tt_err_t err = tt_buf_vaddf(buf, fmt, ap);
    va_end(ap);
    return err;
}

const char *
tt_buf_str(const tt_buf_t *buf)
{
    return buf->data ? buf->data : "";
}

char *
tt_buf_take(tt_buf_t *buf)
{
    char *p = buf->data ? buf->data : tt_strdup("");
    buf->data = NULL;
    buf->len = buf->alloc = 0;
    return p;
}
