/*  tt_mem -- allocation that never returns NULL.
 *
 *  Out of memory is not an error a simulation can handle: these abort with
 *  file:line. Sizes that come from the outside world must be bounded by the
 *  caller before they get here (see tt_buf for capped growth).
 */
#ifndef TT_MEM_H
#define TT_MEM_H

#include <stddef.h>

void *tt_malloc_at(size_t size, const char *file, int line);
void *tt_calloc_at(size_t n, size_t size, const char *file, int line);
void *tt_realloc_at(void *p, size_t size, const char *file, int line);
char *tt_strdup_at(const char *s, const char *file, int line);
char *tt_strndup_at(const char *s, size_t n, const char *file, int line);
/* printf into a fresh string. Caller owns the result. */
char *tt_asprintf_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define tt_malloc(n)     tt_malloc_at((n), __FILE__, __LINE__)
#define tt_calloc(n, s)  tt_calloc_at((n), (s), __FILE__, __LINE__)
#define tt_realloc(p, n) tt_realloc_at((p), (n), __FILE__, __LINE__)
#define tt_strdup(s)     tt_strdup_at((s), __FILE__, __LINE__)
#define tt_strndup(s, n) tt_strndup_at((s), (n), __FILE__, __LINE__)
#define tt_asprintf(...) tt_asprintf_at(__FILE__, __LINE__, __VA_ARGS__)
#define tt_new(type)     ((type *)tt_calloc(1, sizeof(type)))

/* Free *p and set it to NULL. */
#define tt_free(p)                                                                                 \
    do {                                                                                           \
        free(*(p));                                                                                \
        *(p) = NULL;                                                                               \
    } while (0)

#include <stdlib.h>

#endif
