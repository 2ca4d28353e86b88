/*  tt_file -- directories and whole files, written so a crash never leaves a
 *  half-written one behind.
 */
#ifndef TT_FILE_H
#define TT_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "tt_buf.h"
#include "tt_err.h"

/* mkdir -p: every missing directory of path is created with mode. An existing
 * path that is not a directory is TT_EIO. */
tt_err_t tt_mkdirs(const char *path, mode_t mode);

/* Replace path with len bytes of data: path.tmp (mode), fsync, rename. Either
 * the old file or the whole new one is there afterwards. TT_EIO (errno kept)
 * on failure, and path.tmp is removed. */
tt_err_t tt_write_file(const char *path, const void *data, size_t len, mode_t mode);

/* Append the whole of the regular file at path to buf (its cap bounds it).
 * Anything that is not a regular file -- a FIFO, a device, a directory,
 * a socket -- is refused without reading, so that no input can block a
 * loader forever. On failure *why says what is wrong, without the path
 * (caller frees): TT_ENOTFOUND/TT_EIO (cannot open or read), TT_EINVAL (not a
 * regular file), TT_ETOOBIG (larger than buf's cap). */
tt_err_t tt_read_file(const char *path, tt_buf_t *buf, char **why);
/* The same refusal for a file a library opens by name (a PDF, a DOCX): TT_OK
 * for a regular file, else as tt_read_file, without opening it. */
tt_err_t tt_check_regular_file(const char *path, char **why);

#endif
