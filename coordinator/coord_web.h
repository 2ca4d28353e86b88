/*  coord_web -- grounding documents read from the web (TinyTroupe's
 *  read_documents_from_web / WebPagesGroundingConnector).
 *
 *  A scenario's "web" list names pages (http:// or https://). Before the run
 *  begins, each page is fetched once through libcurl, its HTML turned into
 *  plain text through libxml2's HTML parser (scripts and styles left out, a
 *  line per block), and the text kept in OUT/web/<digest of the address>.txt.
 *  The agent gets it as a document named by its address, split like any long
 *  document. A run never fetches a page twice: --resume reads OUT/web, and
 *  --replay reads the replayed run's web/ folder, so a replay needs neither
 *  the network nor the page as it is today. The text also travels in the log
 *  (SimBegin's agent settings), like every document.
 */
#ifndef COORD_WEB_H
#define COORD_WEB_H

#include <stdbool.h>

#include "coord_scenario.h"
#include "tt_err.h"

#define COORD_WEB_MAX_PAGES 64   /* addresses in one "web" list */
#define COORD_WEB_MAX_URL   2048 /* bytes of one address */

/* True for an address a "web" list may hold: http:// or https://, no control
 * characters or spaces, at most COORD_WEB_MAX_URL bytes. */
bool coord_web_url_ok(const char *url);

/* True when some agent of s has a "web" list. */
bool coord_web_needed(const coord_scenario_t *s);

/* Read every agent's pages into its documents: from out_dir/web when there
 * (a resumed run), else from replay_dir/web when given (a replay), else from
 * the network, waiting at most timeout_s per page. Errors: TT_EIO (a page
 * cannot be fetched or kept; *why names the address, the HTTP status or
 * curl's reason), TT_EINVAL (a page is not text or HTML, or an agent's
 * an agent with its pages passes a limit of tt_limits.h). Caller frees *why. */
tt_err_t coord_web_ground(coord_scenario_t *s, const char *out_dir, const char *replay_dir,
                          double timeout_s, char **why);

#endif
