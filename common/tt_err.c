/*  tt_err -- error texts and the errno translation. */
#include "tt_err.h"

#include <errno.h>

const char *
tt_strerror(tt_err_t err)
{
    switch (err) {
    case TT_OK:
        return "success";
    case TT_EIO:
        return "input/output error";
    case TT_ENOMEM:
        return "resource exhausted";
    case TT_EINVAL:
        return "invalid input";
    case TT_ENOTFOUND:
        return "not found";
    case TT_EEXIST:
        return "already exists";
    case TT_ETIMEOUT:
        return "timed out";
    case TT_EPROTO:
        return "protocol error";
    case TT_ETOOBIG:
        return "too big";
    case TT_ECORRUPT:
        return "corrupt data";
    case TT_ESTALE:
        return "stale message";
    case TT_EPEER:
        return "peer gone";
    case TT_EDB:
        return "database error";
    case TT_EHTTP:
        return "HTTP transport error";
    case TT_ELLM:
        return "unusable model answer";
    case TT_EAUTH:
        return "credentials rejected";
    case TT_EQUOTA:
        return "quota exhausted";
    case TT_EDIVERGED:
        return "replay diverged";
    case TT_EINTR:
        return "interrupted";
    case TT_ESECURITY:
        return "refused for security";
    case TT_EAGENT:
        return "agent failed";
    case TT_EVERSION:
        return "another protocol version (a peer of a different Troupe release)";
    default:
        return "unknown error";
    }
}

tt_err_t
tt_err_from_errno(int errnum)
{
    switch (errnum) {
    case 0:
        return TT_OK;
    case ENOENT:
        return TT_ENOTFOUND;
    case EEXIST:
        return TT_EEXIST;
    case ENOMEM:
    case ENOSPC:
    case EMFILE:
    case ENFILE:
        return TT_ENOMEM;
    case EINVAL:
        return TT_EINVAL;
    case ETIMEDOUT:
        return TT_ETIMEOUT;
    case EINTR:
        return TT_EINTR;
    case EACCES:
    case EPERM:
        return TT_ESECURITY;
    default:
        return TT_EIO;
    }
}
