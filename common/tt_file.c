/*  tt_file -- directories and whole files: every input file is read here. */
#include "tt_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_mem.h"

tt_err_t
tt_mkdirs(const char *path, mode_t mode)
{
    if (!*path)
        return TT_EINVAL;
    char *p = tt_strdup(path);
    tt_err_t err = TT_OK;
    for (char *s = p + 1; !err; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            err = tt_err_from_errno(errno);
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    struct stat st;
    if (!err && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))) {
        errno = ENOTDIR;
        err = TT_EIO;
    }
    return err;
}

tt_err_t
tt_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    char *tmp = tt_asprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < len;) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        done += ok ? (size_t)w : 0;
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    free(tmp);
    return ok ? TT_OK : TT_EIO;
}

static tt_err_t
s_regular(const struct stat *st, char **why)
{
    if (S_ISREG(st->st_mode))
        return TT_OK;
    *why = tt_asprintf("not a regular file (%s)", S_ISDIR(st->st_mode)    ? "a directory"
                                                  : S_ISFIFO(st->st_mode) ? "a FIFO"
                                                  : S_ISSOCK(st->st_mode) ? "a socket"
                                                                          : "a device");
    return TT_EINVAL;
}

tt_err_t
tt_check_regular_file(const char *path, char **why)
{
    *why = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        *why = tt_asprintf("cannot open: %s", strerror(e));
        return tt_err_from_errno(e);
    }
    return s_regular(&st, why);
}

tt_err_t
tt_read_file(const char *path, tt_buf_t *buf, char **why)
{
    *why = NULL;
    /* O_NONBLOCK: opening a FIFO with no writer must not wait for one */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        *why = tt_asprintf("cannot open: %s", strerror(e));
        return tt_err_from_errno(e);
    }
    struct stat st;
    tt_err_t err = TT_OK;
    if (fstat(fd, &st) != 0) {
        *why = tt_asprintf("cannot read: %s", strerror(errno));
        err = TT_EIO;
    } else {
        err = s_regular(&st, why);
    }
    char chunk[65536];
    while (!err) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *why = tt_asprintf("cannot read: %s", strerror(errno));
            err = TT_EIO;
        } else if (n == 0) {
            break;
        } else if (tt_buf_add(buf, chunk, (size_t)n) != TT_OK) {
            *why = tt_asprintf("larger than %zu bytes", buf->cap);
            err = TT_ETOOBIG;
        }
    }
    close(fd);
    return err;
}
