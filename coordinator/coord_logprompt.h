/*  coord_logprompt -- the requests an agent sent in one step, rebuilt from a log.
 */
#ifndef COORD_LOGPROMPT_H
#define COORD_LOGPROMPT_H

#include <stdio.h>

/* Print to out every request agent made in step step_text (a number), each as
 * its canonical JSON with its digest checked against the log's. Exit code: 0
 * all digests match, 1 a mismatch or the rebuild failed, 2 bad usage or an
 * unreadable log (message "path:1:1: what" on err). */
int coord_logprompt_run(const char *path, const char *agent, const char *step_text, FILE *out,
                        FILE *err);

#endif
