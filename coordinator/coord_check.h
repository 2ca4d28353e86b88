/*  coord_check -- prove the model endpoint, key and model name before a run.
 */
#ifndef COORD_CHECK_H
#define COORD_CHECK_H

#include "tt_config.h"
#include "tt_err.h"

/* One small chat call to cfg's model (nothing for the offline model). TT_OK
 * when the model answered at all; otherwise the call's error, with *errmsg
 * (caller frees) one line naming the endpoint, the HTTP status when there is
 * one, and what to change. Blocks for at most a few seconds on a refused
 * connection, about a minute on a silent endpoint. */
tt_err_t coord_check_model(const tt_config_t *cfg, char **errmsg);
/* With the offline model, one line on stderr saying so and how to use a real
 * one (printed even with --quiet: nobody should mistake it for an LLM). */
void coord_announce_model(const tt_config_t *cfg, const char *cmd);

#endif
