/*  tt_err -- the one table of errors the world can cause.
 *
 *  Every function that can fail because of something outside the program (I/O,
 *  LMDB, curl, decode, timeout, peer gone, bad input) returns a tt_err_t: 0 on
 *  success, a negative TT_E* value otherwise. Foreign codes (MDB_*, CURLcode,
 *  errno, zmq) are translated once, at the edge of the module that meets them.
 *  Programmer errors are not here: they are TT_ASSERT, which stays on in Release.
 */
#ifndef TT_ERR_H
#define TT_ERR_H

#include <stdio.h>
#include <stdlib.h>

typedef int tt_err_t;

#define TT_OK 0
/* X-macro free on purpose: one list, read top to bottom. Keep tt_err.c in step. */
#define TT_EIO       (-1001) /* read, write, fsync, open failed */
#define TT_ENOMEM    (-1002) /* a bounded resource is exhausted */
#define TT_EINVAL    (-1003) /* bad input: file, flag, message */
#define TT_ENOTFOUND (-1004) /* no such key, file, agent */
#define TT_EEXIST    (-1005) /* already there */
#define TT_ETIMEOUT  (-1006) /* a deadline passed */
#define TT_EPROTO    (-1007) /* malformed or unexpected message */
#define TT_ETOOBIG   (-1008) /* over a size cap */
#define TT_ECORRUPT  (-1009) /* checksum or hash chain broken */
#define TT_ESTALE    (-1010) /* old incarnation, duplicate sequence */
#define TT_EPEER     (-1011) /* the other side went away */
#define TT_EDB       (-1012) /* LMDB failed */
#define TT_EHTTP     (-1013) /* transport-level failure talking to the LLM */
#define TT_ELLM      (-1014) /* the LLM refused or answered unusably */
#define TT_EAUTH     (-1015) /* credentials rejected (401/403) */
#define TT_EQUOTA    (-1016) /* quota exhausted: do not retry */
#define TT_EDIVERGED (-1017) /* replay: request not among recorded ones */
#define TT_EINTR     (-1018) /* interrupted by a signal */
#define TT_ESECURITY (-1019) /* refused for safety (CURVE, paths) */
#define TT_EAGENT    (-1020) /* an agent failed its turn */
#define TT_EVERSION  (-1021) /* a peer speaks another protocol version */

/* Human-readable text for an error code; never NULL, static storage. */
const char *tt_strerror(tt_err_t err);

/* Translate errno into a tt_err_t (EIO family). */
tt_err_t tt_err_from_errno(int errnum);

/* Programmer error: print file:line and abort. On in every build type. */
#define TT_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
