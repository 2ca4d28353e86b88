/*  tt_llm_cache -- the API cache: accepted answers keyed by request digest (private).
 *
 *  CACHE_API_CALLS in TinyTroupe is a pickle file (unsafe to load, one writer);
 *  ours is one LMDB environment in a single file (MDB_NOSUBDIR; LMDB adds
 *  "PATH-lock"), shared safely by every agentd on the host through LMDB's own
 *  multi-process locking. Stale reader slots left by killed processes are
 *  cleared on open (mdb_reader_check).
 *
 *  Bounded: at most max_entries answers. When a put would pass the bound, or the
 *  map (TT_LLM_CACHE_MAP_BYTES) is full, the oldest answers (by time of
 *  insertion, kept in a second table) are evicted first.
 *
 *  A process must open a given cache file once only (an LMDB rule): one
 *  tt_llm_t per process. Only the worker thread uses the handle after open.
 *  Values hold the answer and its token usage, never a key or a header.
 */
#ifndef TT_LLM_CACHE_H
#define TT_LLM_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tt_err.h"
#include "tt_hash.h"

#define TT_LLM_CACHE_MAP_BYTES ((size_t)1 << 30)

typedef struct tt_llm_cache tt_llm_cache_t;

/* Open (creating, mode 0600) the cache file at path. TT_EDB on failure, logged. */
tt_err_t tt_llm_cache_open(const char *path, size_t max_entries, tt_llm_cache_t **out);
void tt_llm_cache_close(tt_llm_cache_t **self_p);

/* Look digest up. TT_OK with *content (caller frees) and usage, TT_ENOTFOUND,
 * or TT_EDB. */
tt_err_t tt_llm_cache_get(tt_llm_cache_t *self, const uint8_t digest[TT_SHA256_LEN], char **content,
                          uint32_t *prompt_tokens, uint32_t *completion_tokens);
/* Store an accepted answer (an existing entry is kept: answers for one digest
 * are interchangeable). Evicts the oldest entries to stay bounded. */
tt_err_t tt_llm_cache_put(tt_llm_cache_t *self, const uint8_t digest[TT_SHA256_LEN],
                          const char *content, uint32_t prompt_tokens, uint32_t completion_tokens);
/* Entries stored now (all processes). */
size_t tt_llm_cache_count(tt_llm_cache_t *self);

#endif
