/*  tt_memory_check -- is an agent's data.mdb whole enough to hand to LMDB?
 *
 *  LMDB trusts its file: a cut file is mapped past its end (SIGBUS on the
 *  first read there) and a damaged meta page makes it assert or walk pages
 *  that are not there. So before mdb_env_open the two meta pages are read with
 *  pread (never through a map) and checked: page number, meta flag, magic,
 *  version, page size, and that the newer meta's last page and both roots lie
 *  inside the file. A file that fails is damaged: the caller wipes it and the
 *  coordinator rebuilds the agent from the log.
 *
 *  The layout read here is LMDB's on-disk format 1 on a 64-bit host (a 16-byte
 *  page header, then MDB_meta); the offsets are named below.
 */
#define TT_LOG_MODULE "memory"
#include "tt_memory_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_log.h"

#define S_MAGIC        0xBEEFC0DEu
#define S_VERSION      1u
#define S_P_META       0x08u
#define S_OFF_PGNO     0  /* mp_pgno, 8 bytes */
#define S_OFF_FLAGS    10 /* mp_flags, 2 bytes */
#define S_OFF_MAGIC    16 /* mm_magic, 4 */
#define S_OFF_VERSION  20 /* mm_version, 4 */
#define S_OFF_DBS      40 /* mm_dbs[2], 48 bytes each; dbs[0].md_pad = page size */
#define S_DB_SIZE      48
#define S_DB_ROOT      40 /* md_root inside an MDB_db */
#define S_OFF_LAST_PG  136
#define S_OFF_TXNID    144
#define S_META_SIZE    152
#define S_INVALID_PGNO UINT64_MAX

typedef struct {
    uint64_t last_pg, txnid, root[2];
    uint32_t psize;
} s_meta_t;

static uint64_t
s_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t
s_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The meta page at page n (page size psize), or a reason it is not one. */
static const char *
s_read_meta(int fd, uint64_t n, uint32_t psize, s_meta_t *m)
{
    unsigned char b[S_META_SIZE];
    if (pread(fd, b, sizeof b, (off_t)(n * psize)) != (ssize_t)sizeof b)
        return "meta page cut short";
    uint16_t flags;
    memcpy(&flags, b + S_OFF_FLAGS, sizeof flags);
    if (s_u64(b + S_OFF_PGNO) != n || !(flags & S_P_META))
        return "not a meta page";
    if (s_u32(b + S_OFF_MAGIC) != S_MAGIC)
        return "bad magic";
    if (s_u32(b + S_OFF_VERSION) != S_VERSION)
        return "unknown version";
    m->psize = s_u32(b + S_OFF_DBS); /* dbs[FREE].md_pad */
    m->last_pg = s_u64(b + S_OFF_LAST_PG);
    m->txnid = s_u64(b + S_OFF_TXNID);
    for (int i = 0; i < 2; i++)
        m->root[i] = s_u64(b + S_OFF_DBS + i * S_DB_SIZE + S_DB_ROOT);
    return NULL;
}

static const char *
s_check_fd(int fd, uint64_t size)
{
    long sys = sysconf(_SC_PAGESIZE);
    uint32_t psize = sys > 0 ? (uint32_t)sys : 4096u;
    s_meta_t m[2];
    const char *why = s_read_meta(fd, 0, psize, &m[0]);
    if (why)
        return why;
    if (m[0].psize != psize)
        return "page size differs from this host's";
    why = s_read_meta(fd, 1, psize, &m[1]);
    if (why)
        return why;
    if (m[1].psize != psize)
        return "page size differs between meta pages";
    const s_meta_t *cur = m[1].txnid > m[0].txnid ? &m[1] : &m[0];
    uint64_t pages = size / psize;
    if (cur->last_pg < 1 || cur->last_pg >= pages)
        return "file cut short of its last page";
    for (int i = 0; i < 2; i++)
        if (cur->root[i] != S_INVALID_PGNO && (cur->root[i] < 2 || cur->root[i] > cur->last_pg))
            return "a root page outside the file";
    return NULL;
}

tt_err_t
tt_memory_impl_check_file(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? TT_OK : TT_EIO; /* none yet: LMDB makes one */
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) != 0)
        why = "cannot stat";
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_size > 0)
        why = s_check_fd(fd, (uint64_t)st.st_size);
    close(fd);
    if (!why)
        return TT_OK;
    TT_LOG_ERROR("%s: damaged: %s", path, why);
    return TT_ECORRUPT;
}
