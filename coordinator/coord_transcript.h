/*  coord_transcript -- the run as people read it, in TinyTroupe's shape:
 *
 *      ──────── World step 1 of 3 (2026-03-01 09:10) ────────
 *      World --> Lisa Carter: [CONVERSATION]
 *                > What do you think of the new app?
 *      Lisa Carter acts: [THINK]
 *                > ...
 *      Lisa Carter --> Oscar: [TALK]
 *                > ...
 *
 *  It is rendered from committed log records only, so a resumed or replayed run
 *  prints exactly what the original printed. DIR/transcript.txt never has
 *  colours; the terminal copy has them (by action type, as TinyTroupe) unless
 *  NO_COLOR is set, TERM is dumb, stdout is not a terminal, or --quiet.
 */
#ifndef COORD_TRANSCRIPT_H
#define COORD_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "troupe.pb-c.h"
#include "tt_err.h"

typedef struct coord_transcript coord_transcript_t;

/* Open path for writing (truncating). quiet: nothing on stdout. */
tt_err_t coord_transcript_open(const char *path, bool quiet, coord_transcript_t **out);
void coord_transcript_close(coord_transcript_t **self_p);

/* The header: scenario, seed, model (and that the offline model is not an LLM). */
void coord_transcript_header(coord_transcript_t *t, const Tt__SimBegin *begin);
/* Interventions fired at the start of a step. */
void coord_transcript_intervention(coord_transcript_t *t, const Tt__Intervention *iv);
/* One committed step. names[i] is agent i's name. max_content truncates. */
void coord_transcript_step(coord_transcript_t *t, const Tt__StepCommit *sc, uint32_t total_steps,
                           char *const *names, size_t n_names, int max_content);
void coord_transcript_footer(coord_transcript_t *t, const char *text);
/* The errno of the first write to the file that failed (each call above
 * flushes, so a full disk shows here right after it), 0 while none has. */
int coord_transcript_errno(const coord_transcript_t *t);
/* The file's path; borrowed, valid until close. */
const char *coord_transcript_path(const coord_transcript_t *t);

#endif
