/*  fuzz_util -- what every libFuzzer target in tests/fuzz shares.
 *
 *  A target never writes outside its own temporary directory: fuzz_tmpdir()
 *  creates one per process (under $TT_FUZZ_TMPDIR, else /dev/shm, else $TMPDIR
 *  or /tmp) and removes it when the process exits normally. After a crash
 *  libFuzzer leaves with _Exit and the directory stays; scripts/test-fuzz.sh
 *  points TT_FUZZ_TMPDIR into its own work directory and removes that.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Silence the project's log (a fuzzer prints millions of error paths). Call
 * from LLVMFuzzerInitialize or the first input. */
void fuzz_quiet(void);

/* This process's private temporary directory; borrowed, lives until exit. */
const char *fuzz_tmpdir(void);

/* fuzz_tmpdir()/rel, caller frees. rel must not climb out ("..") or be absolute. */
char *fuzz_path(const char *rel);

/* Write len bytes to fuzz_tmpdir()/rel, replacing it, creating the parent
 * directory if needed. Returns the full path (caller frees); aborts on I/O
 * errors, which are the harness's fault, not the input's. */
char *fuzz_write(const char *rel, const uint8_t *data, size_t len);

/* Copy a file from the source tree ($TT_SOURCE_DIR or the tree the target was
 * built from) into fuzz_tmpdir()/rel. Returns false if the source is missing. */
bool fuzz_copy_source(const char *src_rel, const char *rel);

/* A NUL-terminated copy of data (embedded NULs stay; C string readers stop
 * there). Caller frees. */
char *fuzz_strndup(const uint8_t *data, size_t len);

/* Split "HEADER\nREST": when a newline occurs within the first max_header
 * bytes, *header gets a NUL-terminated copy of the first line (caller frees)
 * and *rest, *rest_len what follows; otherwise *header is NULL and rest is all. */
void fuzz_split_line(const uint8_t *data, size_t len, size_t max_header, char **header,
                     const uint8_t **rest, size_t *rest_len);

#endif
