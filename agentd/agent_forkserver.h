/*  agent_forkserver -- start agentds by fork instead of exec (`agentd
 *  --fork-server FD`, for the coordinator's local agentds).
 */
#ifndef AGENT_FORKSERVER_H
#define AGENT_FORKSERVER_H

#include <stdbool.h>
#include <stddef.h>

/* Serve the coordinator's requests on FD until it goes away (returns false:
 * the server exits). Returns true in each agentd it starts, with *argc and
 * *argv its arguments, and TITLE (this process's own argument area, TITLE_CAP
 * bytes) rewritten to show them. */
bool agent_forkserver_run(int fd, char *title, size_t title_cap, int *argc, char ***argv);

#endif
