/*  coord_live -- `coordinator run --serve-report PORT`: the report of the run
 *  in progress, on loopback, rebuilt from DIR/sim.tlog at each request.
 *
 *  libmicrohttpd on one internal thread answers GET / with the same page
 *  `coordinator log report` writes (coord_logreport), made from the log as
 *  it stands: the log is read-only there, and a record being written is a
 *  torn tail the reader leaves out. A `Refresh` header makes the browser ask
 *  again every few seconds, so the page follows the steps as they commit.
 */
#ifndef COORD_LIVE_H
#define COORD_LIVE_H

#include "tt_err.h"

typedef struct coord_live coord_live_t;

/* Serve the report of the run in out_dir on 127.0.0.1:port (0: any free
 * port). *url is set (borrowed until stop). TT_EINVAL with *errmsg (caller
 * frees) when the port cannot be had. */
tt_err_t coord_live_start(const char *out_dir, unsigned port, coord_live_t **out, const char **url,
                          char **errmsg);
void coord_live_stop(coord_live_t **self_p);

#endif
