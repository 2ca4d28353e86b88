/*  tt_offline -- the offline model: a deterministic "scripted persona".
 *
 *  No LLM can be reached from the build and test machines, so Troupe ships a
 *  stand-in that speaks the real formats. It answers a chat request from the
 *  request alone (so fakellm can serve it over HTTP with the same code): the
 *  task is picked by the structured-output schema name, and the answer is a
 *  deterministic function of the messages and the seed. It is labelled as the
 *  offline model in every output that depends on it.
 *
 *  Tasks (schema names): "agent_turn" (think about the latest stimulus, talk to
 *  its source or an accessible agent, use RECALL / CONSULT / WRITE_DOCUMENT /
 *  CREATE_EVENT when the stimulus asks for it, DONE), "consolidation",
 *  "proposition", "person", "dimensions", "sample_plan", "extraction". Anything
 *  else gets a short plain-text answer.
 */
#ifndef TT_OFFLINE_H
#define TT_OFFLINE_H

#include <jansson.h>
#include <stdint.h>

#define TT_OFFLINE_MODEL     "troupe-offline"
#define TT_OFFLINE_EMBED_DIM 256

/* Answer a chat request. messages: [{"role","content"}...]. Returns the
 * answer's text (caller frees). value (may be NULL) gets the same answer as
 * JSON when the task's answers are JSON the model built itself (a turn, a
 * consolidation), so an in-process caller need not parse it back; else NULL. */
char *tt_offline_chat(const json_t *messages, const char *schema_name, uint64_t seed,
                      json_t **value);

/* Unit-length embedding from hashed word and word-pair features: texts that
 * share words are close, so retrieval behaves sensibly. */
void tt_offline_embed(const char *text, float out[TT_OFFLINE_EMBED_DIM]);

/* Token estimate used wherever the real tokenizer is not available (offline
 * model, fakellm, prompt budgets): about four bytes per token. */
uint32_t tt_tokens_estimate(const char *text);
/* Tokens of a whole chat message list, with a small per-message overhead. */
uint32_t tt_tokens_messages(const json_t *messages);

/* The content of the last user message ("" without one). Borrowed. */
const char *tt_offline_last_user(const json_t *messages);

#endif
