/*  coord_session_http -- the session's control API: JSON over HTTP.
 *
 *  libmicrohttpd serves POST /v1/command on one internal thread. That thread
 *  checks the token and the size, then hands the body to the coordinator's
 *  loop over an inproc PAIR socket and waits for the reply, so commands run
 *  one at a time, in arrival order, on the thread that owns the simulation.
 *  The token is 32 random bytes (hex), written to DIR/session.token (0600)
 *  and compared in constant time; DIR/session.json says where to connect.
 *  Beyond loopback the server speaks only TLS.
 */
#ifndef COORD_SESSION_HTTP_H
#define COORD_SESSION_HTTP_H

#include <czmq.h>

#include "tt_err.h"

#define COORD_SESSION_BODY_CAP ((size_t)16 << 20) /* one request */

typedef struct coord_session_http coord_session_http_t;

typedef struct {
    const char *address;  /* "HOST:PORT"; NULL = 127.0.0.1:0 */
    const char *tls_cert; /* PEM files; required beyond loopback */
    const char *tls_key;
    const char *out_dir; /* where session.token and session.json go */
} coord_session_http_opts_t;

/* Check the address and TLS options before anything is written. TT_EINVAL
 * with *errmsg (caller frees). */
tt_err_t coord_session_http_check(const coord_session_http_opts_t *opts, char **errmsg);
/* Listen and write the token and session.json. *pipe is the loop's end of
 * the request pipe (borrowed until stop): each request arrives as one frame
 * holding the body; answer it with coord_session_http_reply. TT_EINVAL: a bad
 * or refused address (*errmsg says why, caller frees). */
tt_err_t coord_session_http_start(const coord_session_http_opts_t *opts, coord_session_http_t **out,
                                  zsock_t **pipe, char **errmsg);
/* Answer the request in progress: status is the HTTP status, json the body. */
void coord_session_http_reply(coord_session_http_t *h, int status, const char *json);
/* The URL clients use. Borrowed. */
const char *coord_session_http_url(const coord_session_http_t *h);
/* Stop serving (an unanswered request gets 503) and remove session.json. */
void coord_session_http_stop(coord_session_http_t **self_p);

#endif
