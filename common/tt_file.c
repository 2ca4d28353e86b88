/*  tt_file -- directories and whole files. */
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
