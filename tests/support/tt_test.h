/*  tt_test -- small helpers shared by the cmocka tests.
 *
 *  Include after the cmocka prelude (stdarg.h, stddef.h, setjmp.h, stdint.h,
 *  cmocka.h). Temporary directories come from mkdtemp under $TMPDIR and are
 *  removed by tt_test_rmtree.
 */
#ifndef TT_TEST_H
#define TT_TEST_H

#include <stdbool.h>
#include <stddef.h>

/* Fresh directory "/tmp/tt-<name>-XXXXXX"; caller frees the string. */
char *tt_test_tmpdir(const char *name);
/* rm -rf path (refuses anything outside /tmp). */
void tt_test_rmtree(const char *path);
/* Whole file into a NUL-terminated string (caller frees); NULL if unreadable. */
char *tt_test_read_file(const char *path, size_t *len);
bool tt_test_write_file(const char *path, const char *text);
/* $TT_SOURCE_DIR/rel (the repository), caller frees. */
char *tt_test_source_path(const char *rel);
/* $TT_BIN_DIR/name (build/bin), caller frees. */
char *tt_test_bin_path(const char *name);
/* Count occurrences of needle in haystack. */
size_t tt_test_count(const char *haystack, const char *needle);

#endif
