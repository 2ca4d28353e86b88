/*  tt_test -- temporary directories and files for tests. */
#define _GNU_SOURCE
#include "tt_test.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tt_mem.h"

char *
tt_test_tmpdir(const char *name)
{
    const char *base = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *path = tt_asprintf("%s/tt-%s-XXXXXX", base, name);
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        abort();
    }
    return path;
}

static int
s_unlink(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void
tt_test_rmtree(const char *path)
{
    if (!path || strncmp(path, "/tmp/", 5) != 0 || strstr(path, ".."))
        return;
    nftw(path, s_unlink, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tt_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = tt_malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

bool
tt_test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(text, 1, strlen(text), f) == strlen(text);
    return fclose(f) == 0 && ok;
}

char *
tt_test_source_path(const char *rel)
{
    const char *dir = getenv("TT_SOURCE_DIR");
    return tt_asprintf("%s/%s", dir ? dir : ".", rel);
}

char *
tt_test_bin_path(const char *name)
{
    const char *dir = getenv("TT_BIN_DIR");
    return tt_asprintf("%s/%s", dir ? dir : "build/bin", name);
}

size_t
tt_test_count(const char *haystack, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = haystack; len && (p = strstr(p, needle)); p += len)
        n++;
    return n;
}
