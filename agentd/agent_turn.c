/*  agent_turn -- the turn state machine.
 *
 *  Phases, in order (each may be skipped):
 *      DOCS       embed grounding documents not yet in memory (once per agent)
 *      RETRIEVE   embed the context query, pick the top-k semantic memories
 *      TURN       the turn call (and, after faculty results, follow-up calls)
 *      RECALL     embed RECALL queries for the semantic search
 *      CONSOLIDATE  episode -> memories (one call), then EMBED_MEMORIES
 *      COMMIT     one LMDB write transaction, then the answer is ready
 *  Every model call goes through agent_turn_call(), which serves it from the recorded
 *  exchanges when it can. Local embeddings (the offline model's, or
 *  EMBEDDING_MODEL=local) are computed inline and are not model calls.
 */
#define TT_LOG_MODULE "turn"
#include "agent_turn.h"
#include "agent_turn_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent_faculty.h"
#include "agent_quality.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_limits.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_prompt.h"
#include "tt_repair.h"
#include "tt_time.h"

#define S_DOC_CHUNK 1200 /* bytes per grounding-document chunk */

static bool
s_remote_embeddings(const agent_t *a)
{
    return strcmp(a->config.embedding_model, "local") != 0 && !tt_config_is_offline(&a->config);
}

/* ------------------------------------------------------------------ exchanges */

static void
s_record(agent_turn_t *t, const tt_llm_result_t *r)
{
    t->exchanges = tt_realloc(t->exchanges, (t->n_exchanges + 1) * sizeof *t->exchanges);
    t->telemetry = tt_realloc(t->telemetry, (t->n_exchanges + 1) * sizeof *t->telemetry);
    Tt__Exchange *x = tt_new(Tt__Exchange);
    tt__exchange__init(x);
    x->request_digest.len = TT_SHA256_LEN;
    x->request_digest.data = tt_malloc(TT_SHA256_LEN);
    memcpy(x->request_digest.data, r->digest, TT_SHA256_LEN);
    x->response = tt_strdup(r->content ? r->content : "");
    x->purpose = tt_strdup(r->purpose ? r->purpose : "");
    Tt__ExchangeTelemetry *tm = tt_new(Tt__ExchangeTelemetry);
    tt__exchange_telemetry__init(tm);
    tm->has_latency_ms = tm->has_attempts = tm->has_prompt_tokens = true;
    tm->has_completion_tokens = tm->has_replayed = tm->has_cached = true;
    tm->latency_ms = r->latency_ms;
    tm->attempts = r->attempts;
    tm->prompt_tokens = r->prompt_tokens;
    tm->completion_tokens = r->completion_tokens;
    tm->replayed = r->replayed;
    tm->cached = r->cached;
    tm->has_rate_limited = r->rate_limited > 0;
    tm->rate_limited = r->rate_limited;
    tm->model = tt_strdup(tt_llm_model(t->llm));
    t->exchanges[t->n_exchanges] = x;
    t->telemetry[t->n_exchanges++] = tm;
}

void
agent_turn_fail(agent_turn_t *t, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof msg) /* a wire string must stay UTF-8 */
        msg[tt_utf8_cut(msg, sizeof msg - 1, sizeof msg - 2)] = '\0';
    if (!t->failed) {
        TT_LOG_WARN("%s: step %u failed: %s", t->a->name, t->step->step, msg);
        t->answer_msg.error = tt_strdup(msg);
    }
    t->failed = true;
    t->phase = PH_COMMIT;
}

/* Serve from the recorded exchanges or submit. Returns true when t->result is
 * ready now; false when the turn must wait (or failed). */
bool
agent_turn_call(agent_turn_t *t, tt_llm_request_t **req)
{
    uint8_t digest[TT_SHA256_LEN];
    tt_llm_request_digest(t->llm, *req, digest);
    if (t->observe)
        t->observe(t->llm, *req, digest, t->observe_arg);
    const Tt__Step *st = t->step;
    for (size_t i = 0; i < st->n_recorded; i++) {
        if (t->recorded_used[i] || memcmp(st->recorded[i]->request_digest.data, digest, 32))
            continue;
        t->recorded_used[i] = true;
        t->result = tt_llm_result_replay(t->llm, req, st->recorded[i]->response);
        return true;
    }
    if (st->rebuild) {
        tt_llm_request_destroy(req);
        agent_turn_fail(t, "rebuild needs a model call the log does not hold");
        return false;
    }
    if (st->n_recorded && !t->answer_msg.divergence) {
        char hex[TT_SHA256_HEX_LEN + 1];
        t->answer_msg.divergence =
            tt_asprintf("step %u, agent %s: request %.12s is not among the %zu recorded "
                        "(the prompt differs from the recorded run); calling the model",
                        st->step, t->a->name, tt_hex(digest, 32, hex), st->n_recorded);
    }
    tt_llm_submit(t->llm, req, (void *)(uintptr_t)t->id);
    t->waiting = true;
    return false;
}

/* Take the ready result: record it; false (and the turn fails) if it failed. */
tt_llm_result_t *
agent_turn_take(agent_turn_t *t)
{
    tt_llm_result_t *r = t->result;
    t->result = NULL;
    if (!r)
        return NULL;
    if (r->err) {
        agent_turn_fail(t, "%s call failed: %s", r->purpose ? r->purpose : "model",
                        r->error_text ? r->error_text : tt_strerror(r->err));
        tt_llm_result_destroy(&r);
        return NULL;
    }
    /* Each answer is under RESPONSE_CAP_KB; many of them (regenerations,
     * follow-ups) could still outgrow the frame that carries the turn back. */
    size_t len = r->content ? strlen(r->content) : 0;
    if (len > TT_LIMIT_TURN_ANSWERS - t->answer_bytes) {
        agent_turn_fail(t,
                        "%s call failed: the model's answers in this turn exceeded %zu bytes "
                        "(%zu before this one of %zu)",
                        r->purpose ? r->purpose : "model", TT_LIMIT_TURN_ANSWERS, t->answer_bytes,
                        len);
        tt_llm_result_destroy(&r);
        return NULL;
    }
    t->answer_bytes += len;
    s_record(t, r);
    return r;
}

static tt_llm_request_t *
s_embed_request(agent_turn_t *t, json_t *texts)
{
    tt_llm_request_t *req = tt_llm_request_embed("embedding", texts);
    tt_llm_request_set_seed(req, t->a->seed);
    return req;
}

/* ------------------------------------------------------------------ memory items */

static void
s_store_stimuli(agent_turn_t *t)
{
    const Tt__StepInput *in = t->step->input;
    for (size_t i = 0; i < in->n_stimuli; i++) {
        const Tt__Stimulus *s = in->stimuli[i];
        json_array_append_new(t->stimuli,
                              json_pack("{s:s, s:s, s:s}", "type", s->type, "content", s->content,
                                        "source", s->source ? s->source : ""));
        json_array_append_new(t->stimulus_items, agent_stimulus_item(s->type, s->content, s->source,
                                                                     t->step->datetime));
    }
    agent_t *a = t->a;
    if (in->location && (!a->location || strcmp(in->location, a->location))) {
        free(a->location);
        a->location = tt_strdup(in->location);
    }
    if (in->has_has_context && in->has_context) {
        json_t *ctx = json_array();
        for (size_t i = 0; i < in->n_context; i++)
            json_array_append_new(ctx, json_string(in->context[i]));
        json_object_set_new(a->cognitive, "context", ctx);
    }
}

/* ------------------------------------------------------------------ phases */

/* Vector i of an embeddings answer r; without an answer (the offline model),
 * the offline embedding of text, computed into local[]. */
static const float *
s_vector(const tt_llm_result_t *r, size_t i, const char *text, float *local, uint32_t *dim)
{
    if (r && i < r->n_vectors) {
        *dim = r->dim;
        return r->vectors + i * r->dim;
    }
    tt_offline_embed(text, local);
    *dim = TT_OFFLINE_EMBED_DIM;
    return local;
}

static void
s_phase_docs(agent_turn_t *t)
{
    agent_t *a = t->a;
    if (!t->doc_chunks) {
        t->doc_chunks = json_array();
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(a->agent_config, "documents"), i, d)
        {
            const char *name = tt_json_str(d, "name", "");
            const char *text = tt_json_str(d, "text", "");
            if (!*name || tt_memory_has_document(a->memory, name))
                continue;
            size_t len = strlen(text), off = 0;
            for (uint32_t chunk = 0; off < len || chunk == 0; chunk++) {
                size_t n = tt_utf8_cut(text + off, len - off, S_DOC_CHUNK);
                char *piece = tt_strndup(text + off, n);
                json_array_append_new(t->doc_chunks, json_pack("{s:s, s:i, s:s}", "name", name,
                                                               "chunk", (int)chunk, "text", piece));
                free(piece);
                off += n;
                if (n == 0)
                    break;
            }
        }
        if (!json_array_size(t->doc_chunks)) {
            t->phase = PH_RETRIEVE;
            return;
        }
        if (s_remote_embeddings(a)) {
            json_t *texts = json_array();
            json_array_foreach(t->doc_chunks, i, d)
                json_array_append_new(texts, json_string(tt_json_str(d, "text", "")));
            tt_llm_request_t *req = s_embed_request(t, texts);
            json_decref(texts);
            if (!agent_turn_call(t, &req))
                return;
        }
    }
    tt_llm_result_t *r = NULL;
    if (s_remote_embeddings(a) && !(r = agent_turn_take(t)))
        return;
    /* Documents are not part of any step: commit them now, at the step the
     * memory already holds, so this very turn can list and consult them. */
    tt_memory_batch_t *docs = tt_memory_batch_new(agent_last_step(a));
    size_t i;
    json_t *d;
    json_array_foreach(t->doc_chunks, i, d)
    {
        float local[TT_OFFLINE_EMBED_DIM];
        uint32_t dim;
        const float *vec = s_vector(r, i, tt_json_str(d, "text", ""), local, &dim);
        tt_memory_batch_document(docs, tt_json_str(d, "name", ""),
                                 (uint32_t)tt_json_int(d, "chunk", 0), tt_json_str(d, "text", ""),
                                 vec, dim);
    }
    tt_llm_result_destroy(&r);
    tt_err_t err = tt_memory_commit(a->memory, &docs, a->owner);
    if (err) {
        agent_turn_fail(t, "cannot store documents: %s", tt_strerror(err));
        return;
    }
    t->phase = PH_RETRIEVE;
}

static char *
s_context_query(agent_turn_t *t)
{
    tt_buf_t b;
    tt_buf_init(&b, 1 << 16);
    tt_buf_addf(&b, "%s %s ", tt_json_str(t->a->cognitive, "goals", ""),
                tt_json_str(t->a->cognitive, "attention", ""));
    size_t i;
    json_t *s;
    json_array_foreach(t->stimuli, i, s) tt_buf_addf(&b, "%s ", tt_json_str(s, "content", ""));
    return tt_buf_take(&b);
}

static void
s_search_memories(agent_turn_t *t, const float *q, uint32_t dim)
{
    size_t k = (size_t)t->a->config.retrieval_top_k;
    tt_memory_hit_t *hits = tt_calloc(k + 1, sizeof *hits);
    size_t n = 0;
    if (tt_memory_search(t->a->memory, false, q, dim, k, hits, &n) == TT_OK) {
        for (size_t i = 0; i < n; i++) {
            json_t *content = tt_json_extract(hits[i].text, strlen(hits[i].text), "content");
            json_array_append_new(t->memories, json_is_string(content) ? json_incref(content)
                                                                       : json_string(hits[i].text));
            json_decref(content);
            tt_memory_hit_fini(&hits[i]);
        }
    }
    free(hits);
}

/* Does a's turn begin by retrieving semantic memories for its context? */
static bool
s_retrieves(const agent_t *a)
{
    return a->config.contextual_retrieval && tt_memory_semantic_count(a->memory) > 0;
}

static void
s_phase_retrieve(agent_turn_t *t)
{
    agent_t *a = t->a;
    if (!s_retrieves(a)) {
        t->phase = PH_TURN;
        return;
    }
    if (!s_remote_embeddings(a)) {
        char *q = s_context_query(t);
        float v[TT_OFFLINE_EMBED_DIM];
        tt_offline_embed(q, v);
        free(q);
        s_search_memories(t, v, TT_OFFLINE_EMBED_DIM);
        t->phase = PH_TURN;
        return;
    }
    if (!t->result) {
        char *q = s_context_query(t);
        json_t *texts = json_pack("[s]", q);
        free(q);
        tt_llm_request_t *req = s_embed_request(t, texts);
        json_decref(texts);
        if (!agent_turn_call(t, &req))
            return;
    }
    tt_llm_result_t *r = agent_turn_take(t);
    if (!r)
        return;
    if (r->n_vectors)
        s_search_memories(t, r->vectors, r->dim);
    tt_llm_result_destroy(&r);
    t->phase = PH_TURN;
}

static json_t *
s_first_messages(agent_turn_t *t)
{
    agent_t *a = t->a;
    size_t n_lines = 0, omitted_after = 0, omitted = 0;
    const char **lines = agent_window_lines(a, &n_lines, &omitted_after, &omitted);
    const Tt__StepInput *in = t->step->input;
    size_t n_mem = json_array_size(t->memories);
    const char **mems = tt_calloc(n_mem + 1, sizeof(char *));
    for (size_t i = 0; i < n_mem; i++)
        mems[i] = json_string_value(json_array_get(t->memories, i));
    tt_prompt_turn_t p = {
        .agent = a->name,
        .datetime = t->step->datetime,
        .location = a->location,
        .cognitive = a->cognitive,
        .accessible = (const char *const *)in->accessible,
        .n_accessible = in->n_accessible,
        .more_accessible = in->has_more_accessible ? in->more_accessible : 0,
        .memories = mems,
        .n_memories = n_mem,
        .episodes = lines,
        .n_episodes = n_lines,
        .episodes_omitted_after = omitted_after,
        .episodes_omitted = omitted,
        .stimuli = t->stimuli,
        .rules = &a->rules,
    };
    json_t *m = tt_prompt_turn_messages(a->system_prompt, &p);
    free(lines);
    free(mems);
    return m;
}

static void
s_phase_turn(agent_turn_t *t)
{
    if (!t->result) {
        if (!t->messages)
            t->messages = s_first_messages(t);
        if (!t->a->turn_schema)
            t->a->turn_schema = tt_turn_schema(&t->a->rules);
        tt_llm_request_t *req = tt_llm_request_chat(
            agent_quality_purpose(t), agent_quality_messages(t), "agent_turn", t->a->turn_schema);
        tt_llm_request_set_checker(req, tt_turn_check, &t->a->rules);
        tt_llm_request_set_seed(req, t->a->seed);
        if (t->a->config.temperature >= 0)
            tt_llm_request_set_temperature(req, t->a->config.temperature);
        if (!agent_turn_call(t, &req))
            return;
    }
    tt_llm_result_t *r = agent_turn_take(t);
    if (!r)
        return;
    json_decref(t->answer);
    t->answer = r->parsed ? json_incref(r->parsed) : NULL;
    char *content = tt_strdup(r->content ? r->content : "");
    tt_llm_result_destroy(&r);
    if (!json_is_object(t->answer)) {
        free(content);
        agent_turn_fail(t, "the model's answer could not be read as a turn");
        return;
    }
    json_t *prev = json_string(content);
    json_object_set_new(t->answer, "_raw", prev);
    free(content);
    t->phase = agent_quality_next(t);
}

/* The agent's last non-DONE action, for the repetition guard. */
static const json_t *
s_last_action(agent_turn_t *t)
{
    size_t n = json_array_size(t->actions);
    for (size_t i = n; i > 0; i--) {
        json_t *a = json_array_get(t->actions, i - 1);
        if (strcmp(tt_json_str(a, "type", ""), "DONE"))
            return a;
    }
    return NULL;
}

bool
agent_turn_repeats(const json_t *last, const json_t *action)
{
    if (!last || strcmp(tt_json_str(last, "type", ""), tt_json_str(action, "type", "")) ||
        strcmp(tt_json_str(last, "target", ""), tt_json_str(action, "target", "")))
        return false;
    return tt_turn_jaccard(tt_json_str(last, "content", ""), tt_json_str(action, "content", "")) >
           TT_MAX_ACTION_SIMILARITY;
}

static bool
s_repeats(agent_turn_t *t, const json_t *action, const json_t *last_before)
{
    const json_t *last = s_last_action(t);
    return agent_turn_repeats(last ? last : last_before, action);
}

static void
s_commit_action(agent_turn_t *t, json_t *action)
{
    json_t *cog = json_object_get(t->answer, "cognitive_state");
    json_array_append_new(
        t->action_items, agent_action_item(action, cog ? cog : t->a->cognitive, t->step->datetime));
    json_array_append(t->actions, action);
}

/* Run a faculty or tool; what it returns the agent also remembers, as the
 * THOUGHT stimulus TinyTroupe would deliver. */
static void
s_handle(agent_turn_t *t, json_t *act, const float *qvec, uint32_t dim)
{
    size_t before = json_array_size(t->results);
    agent_faculty_handle(t->a, act, t->batch, t->results, qvec, dim);
    for (size_t i = before; i < json_array_size(t->results); i++) {
        const char *text = tt_json_str(json_array_get(t->results, i), "result", "");
        json_array_append_new(t->action_items,
                              agent_stimulus_item("THOUGHT", text, t->a->name, t->step->datetime));
    }
}

static void
s_phase_actions(agent_turn_t *t)
{
    json_t *list = json_object_get(t->answer, "actions");
    const json_t *before = t->a->last_action;
    size_t i;
    json_t *act;
    json_array_foreach(list, i, act)
    {
        if (json_array_size(t->actions) >= TT_MAX_ACTIONS_PER_TURN - 1) {
            break;
        }
        const char *type = tt_json_str(act, "type", "");
        /* DONE ends the turn; so does a near-repeat (TinyTroupe's guard) */
        if (!strcmp(type, "DONE") || s_repeats(t, act, before))
            break;
        s_commit_action(t, act);
        if (!strcmp(type, "RECALL") || !strcmp(type, "RECALL_WITH_FULL_SCAN"))
            json_array_append(t->pending_recalls, act);
        else
            s_handle(t, act, NULL, 0);
    }
    t->phase = json_array_size(t->pending_recalls) ? PH_RECALL : PH_CONSOLIDATE;
    if (t->phase == PH_CONSOLIDATE && json_array_size(t->results) &&
        t->followups < AGENT_MAX_FOLLOWUPS &&
        json_array_size(t->actions) < TT_MAX_ACTIONS_PER_TURN - 1) {
        tt_prompt_add_followup(t->messages, tt_json_str(t->answer, "_raw", "{}"), t->results);
        json_array_clear(t->results);
        t->followups++;
        t->phase = PH_TURN;
    }
}

static void
s_phase_recall(agent_turn_t *t)
{
    agent_t *a = t->a;
    tt_llm_result_t *r = NULL;
    if (s_remote_embeddings(a) && tt_memory_semantic_count(a->memory) > 0) {
        if (!t->result) {
            json_t *texts = json_array();
            size_t i;
            json_t *act;
            json_array_foreach(t->pending_recalls, i, act)
                json_array_append_new(texts, json_string(tt_json_str(act, "content", "")));
            tt_llm_request_t *req = s_embed_request(t, texts);
            json_decref(texts);
            if (!agent_turn_call(t, &req))
                return;
        }
        if (!(r = agent_turn_take(t)))
            return;
    }
    size_t i;
    json_t *act;
    json_array_foreach(t->pending_recalls, i, act)
    {
        float local[TT_OFFLINE_EMBED_DIM];
        uint32_t dim = 0;
        /* a remote answer short of vectors: recall without one */
        const float *q = r && i >= r->n_vectors
                             ? NULL
                             : s_vector(r, i, tt_json_str(act, "content", ""), local, &dim);
        s_handle(t, act, q, dim);
    }
    tt_llm_result_destroy(&r);
    json_array_clear(t->pending_recalls);
    t->phase = PH_CONSOLIDATE;
    if (json_array_size(t->results) && t->followups < AGENT_MAX_FOLLOWUPS) {
        tt_prompt_add_followup(t->messages, tt_json_str(t->answer, "_raw", "{}"), t->results);
        json_array_clear(t->results);
        t->followups++;
        t->phase = PH_TURN;
    }
}

static tt_err_t
s_check_consolidation(const json_t *root, const void *arg, json_t **parsed, char **why)
{
    (void)arg;
    json_t *list = json_object_get(root, "consolidation");
    if (!json_is_array(list)) {
        *why = tt_strdup("the answer has no \"consolidation\" array");
        return TT_ELLM;
    }
    json_t *clean = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m)
    {
        const char *text = json_is_string(m) ? json_string_value(m) : tt_json_str(m, "content", "");
        if (*text && strlen(text) <= TT_MAX_CONTENT_BYTES && i < 12)
            json_array_append_new(clean, json_string(text));
    }
    *parsed = clean;
    return TT_OK;
}

/* Does a's episode, grown by n_new events, close (and consolidate)? */
static bool
s_episode_closes(const agent_t *a, size_t n_new)
{
    return a->config.enable_consolidation &&
           a->episode_events + n_new > (size_t)a->config.min_episode_length;
}

static bool
s_needs_consolidation(agent_turn_t *t)
{
    return !t->failed && s_episode_closes(t->a, json_array_size(t->stimulus_items) +
                                                    json_array_size(t->action_items));
}

static void
s_phase_consolidate(agent_turn_t *t)
{
    agent_t *a = t->a;
    if (!s_needs_consolidation(t)) {
        t->phase = PH_COMMIT;
        return;
    }
    if (!t->result) {
        /* the stored part of the episode as lines already, then this step's items */
        size_t n = 0;
        const char *const *stored = agent_episode_lines(a, &n);
        size_t max = (size_t)a->config.max_content_display_length;
        size_t n_stim = json_array_size(t->stimulus_items);
        size_t n_new = n_stim + json_array_size(t->action_items), nl = 0;
        const char **l = tt_calloc(n + n_new + 1, sizeof(char *));
        char **fresh = tt_calloc(n_new + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            l[nl++] = stored[i];
        for (size_t i = 0; i < n_new; i++) {
            const json_t *item = i < n_stim ? json_array_get(t->stimulus_items, i)
                                            : json_array_get(t->action_items, i - n_stim);
            fresh[i] = tt_prompt_episode_line(item, max);
            if (fresh[i])
                l[nl++] = fresh[i];
        }
        char *bio = tt_persona_minibio(a->persona);
        json_t *msgs = tt_prompt_consolidation_messages(a->name, bio, l, nl, t->step->datetime);
        free(bio);
        free(l);
        for (size_t i = 0; i < n_new; i++)
            free(fresh[i]);
        free(fresh);
        json_t *schema = tt_prompt_consolidation_schema();
        tt_llm_request_t *req = tt_llm_request_chat("consolidation", msgs, "consolidation", schema);
        json_decref(schema);
        json_decref(msgs);
        tt_llm_request_set_checker(req, s_check_consolidation, NULL);
        tt_llm_request_set_seed(req, a->seed);
        if (!agent_turn_call(t, &req))
            return;
    }
    tt_llm_result_t *r = agent_turn_take(t);
    if (!r)
        return;
    t->consolidated = r->parsed ? json_incref(r->parsed) : json_array();
    tt_llm_result_destroy(&r);
    a->episode_events = 0;
    a->episode_start = t->step->step + 1;
    agent_episode_reset(a);
    t->phase = json_array_size(t->consolidated) ? PH_EMBED_MEMORIES : PH_COMMIT;
}

static void
s_phase_embed_memories(agent_turn_t *t)
{
    tt_llm_result_t *r = NULL;
    if (s_remote_embeddings(t->a)) {
        if (!t->result) {
            tt_llm_request_t *req = s_embed_request(t, t->consolidated);
            if (!agent_turn_call(t, &req))
                return;
        }
        if (!(r = agent_turn_take(t)))
            return;
    }
    size_t i;
    json_t *text;
    json_array_foreach(t->consolidated, i, text)
    {
        float local[TT_OFFLINE_EMBED_DIM];
        uint32_t dim;
        const float *vec = s_vector(r, i, json_string_value(text), local, &dim);
        json_t *item = json_pack("{s:s, s:s, s:s, s:s}", "role", "assistant", "type",
                                 "consolidated", "simulation_timestamp", t->step->datetime,
                                 "content", json_string_value(text));
        char *item_text = tt_json_compact(item);
        tt_memory_batch_semantic(t->batch, item_text, vec, dim);
        free(item_text);
        json_decref(item);
    }
    tt_llm_result_destroy(&r);
    t->phase = PH_COMMIT;
}

/* ------------------------------------------------------------------ commit, answer */

static Tt__Action *
s_pb_action(const json_t *a)
{
    Tt__Action *x = tt_new(Tt__Action);
    tt__action__init(x);
    x->type = tt_strdup(tt_json_str(a, "type", "DONE"));
    x->content = tt_strdup(tt_json_str(a, "content", ""));
    x->target = tt_strdup(tt_json_str(a, "target", ""));
    return x;
}

static void
s_build_answer(agent_turn_t *t)
{
    Tt__Actions *m = &t->answer_msg;
    m->step = t->step->step;
    size_t n = t->failed ? 0 : json_array_size(t->actions) + 1;
    m->n_actions = n;
    m->actions = tt_calloc(n + 1, sizeof(Tt__Action *));
    for (size_t i = 0; i + 1 < n; i++)
        m->actions[i] = s_pb_action(json_array_get(t->actions, i));
    if (n) {
        json_t *done = json_pack("{s:s, s:s, s:s}", "type", "DONE", "content", "", "target", "");
        m->actions[n - 1] = s_pb_action(done);
        json_decref(done);
        Tt__CognitiveState *cs = tt_new(Tt__CognitiveState);
        tt__cognitive_state__init(cs);
        const json_t *c = t->a->cognitive;
        cs->goals = tt_strdup(tt_json_str(c, "goals", ""));
        cs->attention = tt_strdup(tt_json_str(c, "attention", ""));
        cs->emotions = tt_strdup(tt_json_str(c, "emotions", ""));
        json_t *ctx = json_object_get(c, "context");
        cs->n_context = json_array_size(ctx);
        cs->context = tt_calloc(cs->n_context + 1, sizeof(char *));
        for (size_t i = 0; i < cs->n_context; i++) {
            const char *c_i = json_string_value(json_array_get(ctx, i));
            cs->context[i] = tt_strdup(c_i ? c_i : "");
        }
        m->cognitive_state = cs;
    }
    m->n_exchanges = t->n_exchanges;
    m->exchanges = t->exchanges;
    m->n_telemetry = t->n_exchanges;
    m->telemetry = t->telemetry;
    m->has_busy_ms = true;
    m->busy_ms = (uint32_t)(tt_now_ms() - t->started_ms);
}

static void
s_batch_item(agent_turn_t *t, const json_t *item)
{
    char *text = tt_json_compact(item);
    tt_memory_batch_episode(t->batch, text);
    free(text);
}

static void s_committed(agent_turn_t *t, tt_err_t err);

static void
s_phase_commit(agent_turn_t *t)
{
    agent_t *a = t->a;
    size_t i;
    json_t *item;
    /* stimuli were perceived even when the turn failed */
    json_array_foreach(t->stimulus_items, i, item) s_batch_item(t, item);
    if (!t->failed) {
        json_t *done = json_pack("{s:s, s:s, s:s}", "type", "DONE", "content", "", "target", "");
        json_t *cog = json_object_get(t->answer, "cognitive_state");
        if (cog) {
            /* keep the attention the model gave (TinyTroupe overwrote it with emotions) */
            json_decref(a->cognitive);
            a->cognitive = json_deep_copy(cog);
        }
        s_commit_action(t, done);
        json_array_remove(t->actions, json_array_size(t->actions) - 1);
        json_decref(done);
        const json_t *last = s_last_action(t);
        if (last) { /* in the state below: a resumed agent's guard starts from it */
            json_decref(a->last_action);
            a->last_action = json_deep_copy(last);
        }
        json_array_foreach(t->action_items, i, item) s_batch_item(t, item);
        a->last_turn_actions = (uint32_t)json_array_size(t->action_items);
        a->episode_events += (uint32_t)json_array_size(t->stimulus_items) + a->last_turn_actions;
    } else {
        a->episode_events += (uint32_t)json_array_size(t->stimulus_items);
    }
    char *state = agent_state_json(a);
    tt_memory_batch_state(t->batch, state);
    free(state);
    if (t->defer_commit) {
        t->phase = PH_COMMITTING;
        t->waiting = true;
        return;
    }
    s_committed(t, tt_memory_commit(a->memory, &t->batch, a->owner));
}

/* The commit's outcome: a fenced or failed commit answers nothing; a landed
 * one puts the step's items in the agent's window. */
static void
s_committed(agent_turn_t *t, tt_err_t err)
{
    agent_t *a = t->a;
    size_t i;
    json_t *item;
    if (err == TT_ESTALE) {
        TT_LOG_WARN("%s: a newer incarnation owns this memory: dropping step %u", a->name,
                    t->step->step);
        t->fenced = true;
    } else if (err) {
        /* the disk, not the agent: never an answer (that would be committed
         * as the agent's step); the agentd stops instead */
        TT_LOG_ERROR("%s: cannot commit memory for step %u: %s", a->name, t->step->step,
                     tt_strerror(err));
        t->memory_err = err;
    } else {
        /* a consolidation this step closed the episode these items belong to */
        bool in_episode = !t->consolidated;
        json_array_foreach(t->stimulus_items, i, item) agent_window_push_item(a, item, in_episode);
        if (!t->failed)
            json_array_foreach(t->action_items, i, item)
                agent_window_push_item(a, item, in_episode);
    }
    s_build_answer(t);
    t->phase = PH_DONE;
}

/* ------------------------------------------------------------------ public */

uint32_t
agent_turn_expected_calls(const agent_t *a, const Tt__Step *step)
{
    if (step->perceive_only || tt_config_is_offline(&a->config))
        return 0;
    bool remote = s_remote_embeddings(a);
    uint32_t calls = 1; /* the turn */
    if (remote && s_retrieves(a))
        calls++; /* the retrieval's embedding */
    /* as many actions as last time, one at least */
    if (s_episode_closes(a, step->input->n_stimuli +
                                (a->last_turn_actions ? a->last_turn_actions : 1)))
        calls += remote ? 2 : 1; /* consolidation, then embedding its memories */
    return calls;
}

agent_turn_t *
agent_turn_new(agent_t *a, tt_llm_t *llm, const Tt__Step *step, uint64_t id)
{
    agent_turn_t *t = tt_new(agent_turn_t);
    t->a = a;
    t->llm = llm;
    t->step = step;
    t->id = id;
    t->started_ms = tt_now_ms();
    t->recorded_used = tt_calloc(step->n_recorded + 1, sizeof(bool));
    t->stimuli = json_array();
    t->stimulus_items = json_array();
    t->action_items = json_array();
    t->actions = json_array();
    t->results = json_array();
    t->memories = json_array();
    t->pending_recalls = json_array();
    t->batch = tt_memory_batch_new(step->step);
    t->qc_best_total = -1;
    tt__actions__init(&t->answer_msg);
    s_store_stimuli(t);
    t->phase = step->perceive_only ? PH_COMMIT : PH_DOCS;
    if (step->perceive_only)
        t->failed = true; /* a failed step rebuilt: what was perceived, nothing done */
    return t;
}

void
agent_turn_set_observer(agent_turn_t *t, agent_turn_observe_fn *fn, void *arg)
{
    t->observe = fn;
    t->observe_arg = arg;
}

bool
agent_turn_run(agent_turn_t *t)
{
    while (!t->waiting && t->phase != PH_DONE) {
        switch (t->phase) {
        case PH_DOCS:
            s_phase_docs(t);
            break;
        case PH_RETRIEVE:
            s_phase_retrieve(t);
            break;
        case PH_TURN:
            s_phase_turn(t);
            break;
        case PH_JUDGE:
            agent_quality_judge(t);
            break;
        case PH_CORRECT:
            agent_quality_correct(t);
            break;
        case PH_ACTIONS:
            s_phase_actions(t);
            break;
        case PH_RECALL:
            s_phase_recall(t);
            break;
        case PH_CONSOLIDATE:
            s_phase_consolidate(t);
            break;
        case PH_EMBED_MEMORIES:
            s_phase_embed_memories(t);
            break;
        case PH_COMMIT:
            s_phase_commit(t);
            break;
        case PH_COMMITTING: /* waiting: agent_turn_committed moves it on */
        case PH_DONE:
            break;
        }
    }
    return t->phase == PH_DONE;
}

bool
agent_turn_on_result(agent_turn_t *t, tt_llm_result_t **result)
{
    TT_ASSERT(t->waiting && !t->result);
    t->result = *result;
    *result = NULL;
    t->waiting = false;
    return agent_turn_run(t);
}

void
agent_turn_defer_commit(agent_turn_t *t)
{
    t->defer_commit = true;
}

tt_memory_batch_t *
agent_turn_take_batch(agent_turn_t *t)
{
    if (t->phase != PH_COMMITTING)
        return NULL;
    tt_memory_batch_t *b = t->batch;
    t->batch = NULL;
    return b;
}

void
agent_turn_committed(agent_turn_t *t, tt_err_t err)
{
    TT_ASSERT(t->phase == PH_COMMITTING && !t->batch);
    t->waiting = false;
    s_committed(t, err);
}

Tt__Actions *
agent_turn_answer(agent_turn_t *t)
{
    return t->phase == PH_DONE ? &t->answer_msg : NULL;
}

uint64_t
agent_turn_id(const agent_turn_t *t)
{
    return t->id;
}

tt_err_t
agent_turn_memory_error(const agent_turn_t *t)
{
    return t->memory_err;
}

bool
agent_turn_fenced(const agent_turn_t *t)
{
    return t->fenced;
}

void
agent_turn_destroy(agent_turn_t **self_p)
{
    agent_turn_t *t = *self_p;
    if (!t)
        return;
    tt_llm_result_destroy(&t->result);
    tt_memory_batch_destroy(&t->batch);
    agent_quality_fini(t);
    json_decref(t->stimuli);
    json_decref(t->stimulus_items);
    json_decref(t->action_items);
    json_decref(t->actions);
    json_decref(t->answer);
    json_decref(t->results);
    json_decref(t->messages);
    json_decref(t->memories);
    json_decref(t->pending_recalls);
    json_decref(t->consolidated);
    json_decref(t->doc_chunks);
    free(t->recorded_used);
    Tt__Actions *m = &t->answer_msg;
    for (size_t i = 0; i < m->n_actions; i++) {
        free(m->actions[i]->type);
        free(m->actions[i]->content);
        free(m->actions[i]->target);
        free(m->actions[i]);
    }
    free(m->actions);
    if (m->cognitive_state) {
        Tt__CognitiveState *cs = m->cognitive_state;
        free(cs->goals);
        free(cs->attention);
        free(cs->emotions);
        for (size_t i = 0; i < cs->n_context; i++)
            free(cs->context[i]);
        free(cs->context);
        free(cs);
    }
    for (size_t i = 0; i < t->n_exchanges; i++) {
        free(t->exchanges[i]->request_digest.data);
        free(t->exchanges[i]->response);
        free(t->exchanges[i]->purpose);
        free(t->exchanges[i]);
        free(t->telemetry[i]->model);
        free(t->telemetry[i]);
    }
    free(t->exchanges);
    free(t->telemetry);
    free(m->error);
    free(m->divergence);
    free(t);
    *self_p = NULL;
}
