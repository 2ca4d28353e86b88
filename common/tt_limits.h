/*  tt_limits -- the size limits of the whole system, in one place.
 *
 *  Bytes reach Troupe at a few doors: the scenario loader (JSON files,
 *  personas, documents, scripted events) and the model client (HTTP answers).
 *  From there they travel in wire frames (coordinator <-> agentd) and log
 *  records. Each limit below is derived from the one it must fit into, so that
 *  whatever a door accepts can always be carried and recorded; anything larger
 *  is refused at the door, with this limit named, never dropped later as a
 *  "malformed message".
 *
 *      TT_LIMIT_FRAME          one wire frame (a packed Envelope)
 *       - TT_LIMIT_ENVELOPE    room kept for the envelope and small fields
 *       = TT_LIMIT_TEXT        any one string field of a frame
 *      TT_LIMIT_AGENT_PAYLOAD  an Assign's persona + agent config (documents)
 *      TT_LIMIT_TURN_ANSWERS   the model answers one agent's turn carries back
 *                              (its Actions also repeat parts of the last one)
 *      TT_LIMIT_RESPONSE       the largest model answer (RESPONSE_CAP_KB's max)
 *      TT_LIMIT_PROMPT         one prompt part an agent builds
 *       >= TT_LIMIT_PERSONA + TT_LIMIT_INBOX * TT_LIMIT_STIMULUS + the rest
 *      TT_LIMIT_RECORD         one log frame (a record's agents go in Parts of
 *                              TT_LIMIT_RECORD_PART, see tt_tlog.h)
 *       > TT_LIMIT_BEGIN_AGENTS  all agents' payloads + the scenario text
 *
 *  The doors: TT_LIMIT_JSON_FILE (any JSON file read), TT_LIMIT_DOCUMENT_FILE
 *  (one grounding file), TT_LIMIT_DOCUMENTS (the text of one agent's
 *  documents), TT_LIMIT_DOCUMENT_PART (a document longer than this is split
 *  into parts), TT_LIMIT_PERSONA, TT_LIMIT_STIMULUS, TT_LIMIT_RESPONSE.
 */
#ifndef TT_LIMITS_H
#define TT_LIMITS_H

#include <stddef.h>

#define TT_MIB ((size_t)1 << 20)
#define TT_KIB ((size_t)1 << 10)

/* ------------------------------------------------------------ carriers */

#define TT_LIMIT_FRAME    (32 * TT_MIB) /* a packed Envelope on the wire */
#define TT_LIMIT_ENVELOPE (1 * TT_MIB)  /* envelope, names, config, actions */
#define TT_LIMIT_TEXT     (TT_LIMIT_FRAME - TT_LIMIT_ENVELOPE)
#define TT_LIMIT_RECORD   (256 * TT_MIB) /* a log frame; larger ones are corrupt */
/* A record that grows with the population (SimBegin, StepCommit) goes to the
 * log in Parts: one is closed at the first agent entry that takes it to this
 * size, so a frame is at most this plus one agent's entry. */
#define TT_LIMIT_RECORD_PART (1 * TT_MIB)

/* Persona + agent config (with its documents) as compact JSON, together, in
 * one Assign; the run's own config travels in the envelope's room. */
#define TT_LIMIT_AGENT_PAYLOAD TT_LIMIT_TEXT

/* SimBegin records every agent's persona and config, and the scenario's text
 * (a JSON file); the same again is kept for the rest of the record. */
#define TT_LIMIT_BEGIN_AGENTS (TT_LIMIT_RECORD - 2 * TT_LIMIT_JSON_FILE)

/* An agent's Actions carry the answers of its turn (exchanges) and the actions
 * and cognitive state taken from them (no larger than the answers): twice
 * this fits in a frame. A turn whose answers would pass it fails, named. */
#define TT_LIMIT_TURN_ANSWERS (TT_LIMIT_TEXT / 2)

/* ------------------------------------------------------------ doors */

/* The largest model answer (HTTP body) accepted; RESPONSE_CAP_KB may lower it,
 * never raise it. One such answer always fits a turn's Actions. */
#define TT_LIMIT_RESPONSE         (8 * TT_MIB)
#define TT_LIMIT_RESPONSE_DEFAULT TT_LIMIT_RESPONSE

#define TT_LIMIT_JSON_FILE     (16 * TT_MIB) /* a scenario, agent, fragment, population */
#define TT_LIMIT_DOCUMENT_FILE (64 * TT_MIB) /* a grounding file, or a DOCX's XML */
#define TT_LIMIT_DOCUMENT_PART (1 * TT_MIB)  /* longer texts become "NAME (part k of n)" */
#define TT_LIMIT_DOCUMENTS     (16 * TT_MIB) /* the text of all documents of one agent */
#define TT_LIMIT_WEB_PAGE      (16 * TT_MIB) /* a web page as served (coord_web) */

/* What an agent puts in one prompt part; the persona and a step's stimuli are
 * sent whole, so they are bounded to leave room for the rest (rules, episode
 * window, memories, faculty results). */
#define TT_LIMIT_PROMPT   (1 * TT_MIB)
#define TT_LIMIT_PERSONA  (256 * TT_KIB) /* a persona as compact JSON */
#define TT_LIMIT_INBOX    30             /* stimuli per agent per step; later ones dropped */
#define TT_LIMIT_STIMULUS (16 * TT_KIB)  /* a scripted event's text; longer: a document */

_Static_assert(TT_LIMIT_RESPONSE <= TT_LIMIT_TURN_ANSWERS, "one model answer must fit a turn");
_Static_assert(2 * TT_LIMIT_TURN_ANSWERS + TT_LIMIT_ENVELOPE <= TT_LIMIT_FRAME,
               "a turn's Actions must fit a frame");
_Static_assert(TT_LIMIT_DOCUMENTS + TT_LIMIT_PERSONA < TT_LIMIT_AGENT_PAYLOAD,
               "an agent's documents and persona must fit an Assign (before JSON escapes)");
_Static_assert(TT_LIMIT_AGENT_PAYLOAD <= TT_LIMIT_BEGIN_AGENTS, "one agent must fit SimBegin");
_Static_assert(TT_LIMIT_BEGIN_AGENTS + TT_LIMIT_JSON_FILE < TT_LIMIT_RECORD,
               "SimBegin must fit a log record");
_Static_assert(TT_LIMIT_PERSONA + TT_LIMIT_INBOX * TT_LIMIT_STIMULUS <= TT_LIMIT_PROMPT * 3 / 4,
               "persona and one step's stimuli must leave a quarter of a prompt");
_Static_assert(TT_LIMIT_INBOX *TT_LIMIT_STIMULUS + TT_LIMIT_TURN_ANSWERS + TT_LIMIT_ENVELOPE <=
                   TT_LIMIT_FRAME,
               "a replayed Step (stimuli and recorded answers) must fit a frame");

#endif
