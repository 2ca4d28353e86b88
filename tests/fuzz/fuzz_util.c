/*  fuzz_util -- temporary directory, files and small splitting helpers for the
 *  fuzz targets. Kept free of libFuzzer so the seed generator can link it too.
 */
#define _GNU_SOURCE
#include "fuzz_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_log.h"
#include "tt_mem.h"

#ifndef FUZZ_SOURCE_DIR
#define FUZZ_SOURCE_DIR "."
#endif

static char *s_tmpdir;
static pid_t s_owner;

void
fuzz_quiet(void)
{
    tt_log_level = TT_LOG_LEVEL_NONE;
}

static int
s_remove(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
s_cleanup(void)
{
    /* only the process that made it (a forked child would see the same atexit) */
    if (s_tmpdir && getpid() == s_owner)
        nftw(s_tmpdir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    free(s_tmpdir);
    s_tmpdir = NULL;
}

static bool
s_writable_dir(const char *dir)
{
    struct stat st;
    return dir && *dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK) == 0;
}

const char *
fuzz_tmpdir(void)
{
    if (s_tmpdir)
        return s_tmpdir;
    const char *base = getenv("TT_FUZZ_TMPDIR");
    if (!s_writable_dir(base))
        base = s_writable_dir("/dev/shm") ? "/dev/shm" : getenv("TMPDIR");
    if (!s_writable_dir(base))
        base = "/tmp";
    s_tmpdir = tt_asprintf("%s/tt-fuzz-XXXXXX", base);
    if (!mkdtemp(s_tmpdir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    s_owner = getpid();
    atexit(s_cleanup);
    return s_tmpdir;
}

char *
fuzz_path(const char *rel)
{
    if (rel[0] == '/' || strstr(rel, "..")) {
        fprintf(stderr, "fuzz: refusing path %s\n", rel);
        abort();
    }
    return tt_asprintf("%s/%s", fuzz_tmpdir(), rel);
}

static void
s_mkparent(const char *path)
{
    char *dir = tt_strdup(path);
    for (char *p = dir + strlen(fuzz_tmpdir()) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            perror("fuzz: mkdir");
            abort();
        }
        *p = '/';
    }
    free(dir);
}

char *
fuzz_write(const char *rel, const uint8_t *data, size_t len)
{
    char *path = fuzz_path(rel);
    s_mkparent(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror("fuzz: open");
        abort();
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            perror("fuzz: write");
            abort();
        }
        done += (size_t)n;
    }
    close(fd);
    return path;
}

bool
fuzz_copy_source(const char *src_rel, const char *rel)
{
    const char *root = getenv("TT_SOURCE_DIR");
    char *src = tt_asprintf("%s/%s", root && *root ? root : FUZZ_SOURCE_DIR, src_rel);
    FILE *f = fopen(src, "rb");
    free(src);
    if (!f)
        return false;
    char *buf = NULL;
    size_t len = 0, alloc = 0, n;
    char chunk[65536];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n > alloc) {
            alloc = (len + n) * 2;
            buf = tt_realloc(buf, alloc);
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    free(fuzz_write(rel, (const uint8_t *)buf, len));
    free(buf);
    return true;
}

char *
fuzz_strndup(const uint8_t *data, size_t len)
{
    char *s = tt_malloc(len + 1);
    if (len)
        memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

void
fuzz_split_line(const uint8_t *data, size_t len, size_t max_header, char **header,
                const uint8_t **rest, size_t *rest_len)
{
    size_t scan = len < max_header ? len : max_header;
    const uint8_t *nl = scan ? memchr(data, '\n', scan) : NULL;
    if (!nl) {
        *header = NULL;
        *rest = data;
        *rest_len = len;
        return;
    }
    *header = fuzz_strndup(data, (size_t)(nl - data));
    *rest = nl + 1;
    *rest_len = len - (size_t)(nl - data) - 1;
}
