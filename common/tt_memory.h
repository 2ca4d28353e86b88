/*  tt_memory -- agents' memories in LMDB.
 *
 *  A store is one LMDB environment. A private store is one agent's directory
 *  (tt_memory_open: agentd with one slot, the tools). A shared store holds
 *  the memories of every agent that slot agentds run from one data directory
 *  (tt_memory_store_open + tt_memory_open_in): one map, one lock file, one
 *  set of databases, and LMDB's per-environment buffers once, rather than per
 *  agent (175 kB per agent went to ~70 kB; docs/cluster.md). The processes
 *  that share it write one at a time (LMDB's writer lock) and read at will.
 *  Each agent's keys are under its own id, so a handle sees and changes only
 *  its own agent: everything below holds per handle, whichever the store.
 *
 *  Named databases inside the environment (keys as seen by a handle):
 *    episodic  key = step (u32 BE) | seq (u32 BE) -> episodic item JSON, in
 *              TinyTroupe's format ({"role","content","type","simulation_timestamp"})
 *    semantic  key = step | seq -> [u32 dim][dim x float32][item JSON]
 *              (consolidated memories and other semantic items)
 *    docs      key = document name NUL chunk (u32 BE) -> [u32 dim][floats][chunk text]
 *              (grounding documents, chunked and embedded once)
 *    state     key = "cog/" step (u32 BE) -> cognitive state JSON of that step
 *    meta      "last_step" (u32), "owner" (fencing token), "run_id", anything else
 *
 *  Writes happen once per step: the agent fills a batch in RAM while it acts and
 *  tt_memory_commit() applies it in one write transaction, which also sets
 *  last_step. Because every key after the first is ordered by step, rolling back
 *  to a step is a range delete. The environment is opened with MDB_NOSYNC (the
 *  transaction log can rebuild everything) yet survives kill -9, which LMDB
 *  guarantees; stale reader slots are cleared on open; MDB_MAP_FULL grows the
 *  map and retries.
 *
 *  Damage: every value is stored with a checksum of its database, key and
 *  bytes (memory format 2, meta "format"), verified on every read; a memory
 *  already on disk is verified whole when it is opened (tt_memory_open says
 *  TT_ECORRUPT). A read that finds damage later returns TT_ECORRUPT and marks
 *  the handle damaged: from then on tt_memory_damaged() says so and every
 *  commit is refused, so nothing computed from damaged memory is stored. The
 *  owner of a damaged memory discards it and rebuilds it from the log.
 *
 *  Fencing: a restarted agent claims the environment with a new owner token;
 *  a commit whose owner token is not the stored one fails with TT_ESTALE, so a
 *  stale process that wakes up (SIGCONT) cannot write over its successor.
 */
#ifndef TT_MEMORY_H
#define TT_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tt_err.h"

typedef struct tt_memory tt_memory_t;
typedef struct tt_memory_store tt_memory_store_t;
typedef struct tt_memory_batch tt_memory_batch_t;

typedef struct {
    char *text;   /* item JSON (semantic) or chunk text (docs); caller frees */
    char *source; /* docs: document name; semantic: NULL */
    float score;  /* cosine similarity to the query */
    uint32_t step;
} tt_memory_hit_t;

/* Open a private store (creating dir and environment, mode 0700/0600) and
 * clear stale readers.
 * An environment already on disk is verified whole first (every checksum,
 * key and count). TT_ECORRUPT: the file is damaged, or of an older format
 * without checksums; nothing of it is used. */
tt_err_t tt_memory_open(const char *dir, tt_memory_t **out);
void tt_memory_close(tt_memory_t **self_p);
/* Remove a damaged memory's files (tt_memory_open said TT_ECORRUPT), so the
 * next open starts empty and the agent is rebuilt from the log. Also for a
 * shared store: a process that still has it open keeps the old file until it
 * closes it, and the next open anywhere starts empty. */
tt_err_t tt_memory_discard(const char *dir);

/* Open (creating) the shared store in dir, verified whole like a private
 * memory if it was already there (TT_ECORRUPT: discard it). */
tt_err_t tt_memory_store_open(const char *dir, tt_memory_store_t **out);
/* Close the store; every handle opened in it must be closed first. */
void tt_memory_store_close(tt_memory_store_t **self_p);
/* The memory of the agent named agent in a shared store: found by its name
 * (names are compared whole, so no two share a memory) or given a new id. */
tt_err_t tt_memory_open_in(tt_memory_store_t *s, const char *agent, tt_memory_t **out);
/* Every agent's items as tt_memory_dump writes them, each line with its
 * agent's name ("agent"; absent for a private store's agent). */
tt_err_t tt_memory_store_dump(tt_memory_store_t *s, FILE *out);

/* TT_ECORRUPT once a read (or the open) found damage, else TT_OK. Sticky:
 * the handle is only fit for tt_memory_close, then tt_memory_discard. */
tt_err_t tt_memory_damaged(const tt_memory_t *m);
/* Last committed step (0 = nothing committed). */
uint32_t tt_memory_last_step(const tt_memory_t *m);
/* Take ownership: write owner (e.g. "<run id hex>/<incarnation>"), and
 * refresh last_step in the same transaction: from then on no older owner can
 * commit, so what the memory holds is settled (claim before deciding to roll
 * back, or a stale writer's step can land in between). */
tt_err_t tt_memory_claim(tt_memory_t *m, const char *owner);
/* Read a meta value (caller frees *value); TT_ENOTFOUND if absent. */
tt_err_t tt_memory_meta_get(tt_memory_t *m, const char *key, char **value);
/* Delete everything: a memory from another run. Keeps the owner. */
tt_err_t tt_memory_wipe(tt_memory_t *m);
/* Delete every item of steps after to_step and set last_step = to_step. */
tt_err_t tt_memory_rollback(tt_memory_t *m, uint32_t to_step);

/* ---- one step's writes */
tt_memory_batch_t *tt_memory_batch_new(uint32_t step);
void tt_memory_batch_destroy(tt_memory_batch_t **self_p);
/* Copies. seq numbers are assigned in call order within the step. */
void tt_memory_batch_episode(tt_memory_batch_t *b, const char *item_json);
void tt_memory_batch_semantic(tt_memory_batch_t *b, const char *item_json, const float *vec,
                              uint32_t dim);
void tt_memory_batch_document(tt_memory_batch_t *b, const char *name, uint32_t chunk,
                              const char *text, const float *vec, uint32_t dim);
void tt_memory_batch_state(tt_memory_batch_t *b, const char *cognitive_json);
void tt_memory_batch_meta(tt_memory_batch_t *b, const char *key, const char *value);
/* Apply the batch in one write transaction if owner matches the stored owner
 * (NULL skips the check). Consumes *b. TT_ESTALE if fenced off. */
tt_err_t tt_memory_commit(tt_memory_t *m, tt_memory_batch_t **b, const char *owner);
/* n batches of memories of one store (tt_memory_open_in) in one write
 * transaction. errs[i] is what tt_memory_commit would have returned for the
 * i-th: a refused or damaged memory's batch is left out, the others land; if
 * the transaction itself fails, each batch is then committed alone. Consumes
 * every bs[i]. */
void tt_memory_commit_all(tt_memory_t **ms, tt_memory_batch_t **bs, const char **owners, size_t n,
                          tt_err_t *errs);

/* ---- reads */
/* Number of episodic items. */
size_t tt_memory_episode_count(tt_memory_t *m);
/* The first first_n and last last_n episodic items (no overlap), oldest first,
 * as JSON strings the caller frees (free each, then the array). */
tt_err_t tt_memory_episodes(tt_memory_t *m, size_t first_n, size_t last_n, char ***items,
                            size_t *n_items);
/* Episodic items of steps >= from_step (for consolidation), oldest first. */
tt_err_t tt_memory_episodes_since(tt_memory_t *m, uint32_t from_step, char ***items,
                                  size_t *n_items);
/* Latest cognitive state JSON (caller frees); TT_ENOTFOUND if none. */
tt_err_t tt_memory_state(tt_memory_t *m, char **cognitive_json);
/* Top-k semantic items (docs = false) or document chunks (docs = true) by cosine
 * similarity to q; vectors of another dimension are skipped. hits[] must hold
 * top_k entries; *n_hits is how many were filled, best first. Free each hit with
 * tt_memory_hit_fini. */
tt_err_t tt_memory_search(tt_memory_t *m, bool docs, const float *q, uint32_t dim, size_t top_k,
                          tt_memory_hit_t *hits, size_t *n_hits);
void tt_memory_hit_fini(tt_memory_hit_t *hit);
size_t tt_memory_semantic_count(tt_memory_t *m);
/* Names of stored documents (caller frees each and the array). */
tt_err_t tt_memory_document_names(tt_memory_t *m, char ***names, size_t *n_names);
/* All chunks of one document, concatenated in order (caller frees). */
tt_err_t tt_memory_document_text(tt_memory_t *m, const char *name, char **text);
bool tt_memory_has_document(tt_memory_t *m, const char *name);

/* Every item as one JSON object per line: {"db","step","seq","value"...}. */
tt_err_t tt_memory_dump(tt_memory_t *m, FILE *out);

#endif
