/*  tt_mem -- allocation that aborts with file:line instead of returning NULL. */
#include "tt_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_oom(size_t size, const char *file, int line)
{
    fprintf(stderr, "%s:%d: out of memory (%zu bytes)\n", file, line, size);
    abort();
}

void *
tt_malloc_at(size_t size, const char *file, int line)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        s_oom(size, file, line);
    return p;
}

void *
tt_calloc_at(size_t n, size_t size, const char *file, int line)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        s_oom(n * size, file, line);
    return p;
}

void *
tt_realloc_at(void *p, size_t size, const char *file, int line)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        s_oom(size, file, line);
    return q;
}

char *
tt_strdup_at(const char *s, const char *file, int line)
{
    return tt_strndup_at(s ? s : "", s ? strlen(s) : 0, file, line);
}

char *
tt_strndup_at(const char *s, size_t n, const char *file, int line)
{
    size_t len = strnlen(s, n);
    char *p = tt_malloc_at(len + 1, file, line);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
tt_asprintf_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        s_oom(0, file, line);
    char *p = tt_malloc_at((size_t)n + 1, file, line);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
