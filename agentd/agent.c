/*  agent -- building an agent from an Assign, its memory lifecycle, and the
 *  in-RAM episode window.
 *
 *  Memory lifecycle on assignment, in one place because the order matters:
 *    open -> claim with this incarnation's owner token (from then on a stale
 *    process of an older incarnation can no longer commit) -> if it holds
 *    another run, wipe -> if it is past the log's last committed step, roll
 *    back.
 */
#define TT_LOG_MODULE "agent"
#include "agent.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "agent_faculty.h"
#include "tt_buf.h"
#include "tt_file.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_prompt.h"

/* Open the agent's memory; a damaged one is never used: it is discarded, so
 * it opens empty and the coordinator rebuilds the agent from the log. (In a
 * shared store the damage is the store's: the agentd discards it whole.) */
static tt_err_t
s_open_memory(agent_t *a)
{
    if (a->store)
        return tt_memory_open_in(a->store, a->name, &a->memory);
    tt_err_t err = tt_memory_open(a->dir, &a->memory);
    if (err != TT_ECORRUPT)
        return err;
    TT_LOG_WARN("%s: memory in %s is damaged: discarding it (rebuilt from the log)", a->name,
                a->dir);
    err = tt_memory_discard(a->dir);
    return err ? err : tt_memory_open(a->dir, &a->memory);
}

/* Claim the memory, then bring it to this run and to committed_step. The
 * claim comes first: it fences off any older owner (an agentd of a killed
 * coordinator still finishing its turn), so no step of theirs can land after
 * the rollback below has decided what to keep. */
static tt_err_t
s_prepare_memory(agent_t *a, const Tt__Assign *as, char **errmsg)
{
    char run_hex[TT_SHA256_HEX_LEN + 1];
    tt_hex(as->run_id.data, as->run_id.len, run_hex);
    free(a->owner);
    a->owner = tt_asprintf("%s/%u", run_hex, a->incarnation);
    tt_err_t err = tt_memory_claim(a->memory, a->owner);
    char *stored = NULL;
    if (!err && tt_memory_meta_get(a->memory, "run_id", &stored) == TT_OK &&
        strcmp(stored, run_hex)) {
        TT_LOG_INFO("%s: memory belongs to another run: wiping it", a->name);
        err = tt_memory_wipe(a->memory);
    }
    free(stored);
    if (!err && tt_memory_last_step(a->memory) > as->committed_step) {
        TT_LOG_INFO("%s: memory is at step %u, the log at %u: rolling back", a->name,
                    tt_memory_last_step(a->memory), as->committed_step);
        err = tt_memory_rollback(a->memory, as->committed_step);
    }
    if (!err && tt_memory_last_step(a->memory) == 0) {
        /* remember whose memory this is, in the first commit */
        tt_memory_batch_t *b = tt_memory_batch_new(0);
        tt_memory_batch_meta(b, "run_id", run_hex);
        err = tt_memory_commit(a->memory, &b, a->owner);
    }
    if (err)
        *errmsg =
            tt_asprintf("%s: cannot prepare memory in %s: %s", a->name, a->dir, tt_strerror(err));
    return err;
}

static void s_window_caps(const agent_t *a, size_t *first, size_t *last);
static void s_episode_add(agent_t *a, const char *line);

static void
s_load_state(agent_t *a)
{
    /* the window cache first: pushing items also notes the last action, which
     * the stored state then settles exactly (the window may not reach back to
     * it) */
    size_t first, last, n = 0;
    s_window_caps(a, &first, &last);
    size_t total = tt_memory_episode_count(a->memory);
    char **items = NULL;
    if (tt_memory_episodes(a->memory, first, last, &items, &n) == TT_OK) {
        for (size_t i = 0; i < n; i++) {
            agent_window_push(a, items[i]);
            free(items[i]);
        }
        free(items);
    }
    a->window.total = total;

    char *text = NULL;
    json_t *st = NULL;
    if (tt_memory_state(a->memory, &text) == TT_OK)
        st = json_loads(text, 0, NULL);
    free(text);
    json_t *cog = json_object_get(st, "cognitive");
    a->cognitive = json_is_object(cog) ? json_incref(cog)
                                       : json_pack("{s:s, s:[], s:s, s:s}", "goals", "", "context",
                                                   "attention", "", "emotions", "calm");
    json_t *cal = json_object_get(st, "calendar");
    a->calendar = json_is_array(cal) ? json_incref(cal) : json_array();
    const char *loc = tt_json_str(st, "location", NULL);
    a->location = loc ? tt_strdup(loc) : NULL;
    a->episode_events = (uint32_t)tt_json_int(st, "episode_events", 0);
    a->episode_start = (uint32_t)tt_json_int(st, "episode_start", 0);
    /* the current episode's lines, so a consolidation needs no reading back */
    n = 0;
    items = NULL;
    if (tt_memory_episodes_since(a->memory, a->episode_start, &items, &n) == TT_OK) {
        size_t max = (size_t)a->config.max_content_display_length;
        for (size_t i = 0; i < n; i++) {
            json_t *item = json_loads(items[i], 0, NULL);
            char *line = item ? tt_prompt_episode_line(item, max) : NULL;
            if (line)
                s_episode_add(a, line);
            free(line);
            json_decref(item);
            free(items[i]);
        }
        free(items);
    }
    json_t *act = json_object_get(st, "last_action");
    json_decref(a->last_action);
    a->last_action = json_is_object(act) ? json_incref(act) : NULL;
    json_decref(st);
}

/* Forget what s_load_state read (before loading again). */
static void
s_unload_state(agent_t *a)
{
    for (size_t i = 0; i < a->window.n_first; i++)
        free(a->window.first[i]);
    for (size_t i = 0; i < a->window.n_last; i++)
        free(a->window.last[i]);
    memset(&a->window, 0, sizeof a->window);
    agent_episode_reset(a);
    json_decref(a->cognitive);
    json_decref(a->calendar);
    json_decref(a->last_action);
    a->cognitive = a->calendar = a->last_action = NULL;
    tt_free(&a->location);
    a->episode_events = a->episode_start = 0;
}

/* Open, prepare and load the memory. Damage the open-time check missed but a
 * read found (the handle says so) gets the same treatment as damage found at
 * open: the memory is discarded and this is done once more, from empty. */
static tt_err_t
s_memory_setup(agent_t *a, const Tt__Assign *as, char **errmsg)
{
    for (int attempt = 0;; attempt++) {
        tt_err_t err = s_open_memory(a);
        if (err) {
            *errmsg =
                tt_asprintf("%s: cannot open memory in %s: %s", a->name, a->dir, tt_strerror(err));
            return err;
        }
        err = s_prepare_memory(a, as, errmsg);
        if (!err)
            s_load_state(a);
        if (!tt_memory_damaged(a->memory) || attempt > 0 || a->store) {
            if (!err && (err = tt_memory_damaged(a->memory)) != TT_OK)
                *errmsg = tt_asprintf("%s: memory in %s is damaged%s", a->name, a->dir,
                                      a->store ? "" : " again");
            return err;
        }
        TT_LOG_WARN("%s: memory in %s is damaged: discarding it (rebuilt from the log)", a->name,
                    a->dir);
        free(*errmsg);
        *errmsg = NULL;
        s_unload_state(a);
        tt_memory_close(&a->memory);
        if ((err = tt_memory_discard(a->dir)) != TT_OK) {
            *errmsg = tt_asprintf("%s: cannot discard memory in %s", a->name, a->dir);
            return err;
        }
    }
}

tt_err_t
agent_new(const Tt__Assign *as, uint32_t index, uint32_t incarnation, const char *data_dir,
          tt_memory_store_t *store, agent_t **out, char **errmsg)
{
    *out = NULL;
    *errmsg = NULL;
    agent_t *a = tt_new(agent_t);
    a->index = index;
    a->slot = as->slot;
    a->incarnation = incarnation;
    a->name = tt_strdup(as->name);
    tt_config_init(&a->config);
    tt_err_t err = tt_persona_from_text(as->persona_json, &a->persona, errmsg);
    json_t *cfg = err ? NULL : json_loads(as->agent_config_json, 0, NULL);
    if (!err && !json_is_object(cfg)) {
        *errmsg = tt_asprintf("%s: agent configuration is not a JSON object", as->name);
        err = TT_EPROTO;
    }
    if (err) {
        json_decref(cfg);
        agent_destroy(&a);
        return err;
    }
    a->agent_config = cfg;
    tt_config_from_json(&a->config, json_object_get(cfg, "config"));
    a->seed = (uint64_t)tt_json_int(cfg, "seed", 0) ^ tt_fnv1a_str(a->name, 0);
    a->store = store;
    char *dirname = tt_persona_dirname(a->name);
    a->dir = store ? tt_asprintf("%s/%s", data_dir, AGENT_STORE_DIR)
                   : tt_asprintf("%s/agents/%s", data_dir, dirname);
    a->documents_dir = tt_asprintf("%s/documents", data_dir);
    free(dirname);

    tt_buf_t defs, cons;
    tt_buf_init(&defs, 1 << 20);
    tt_buf_init(&cons, 1 << 20);
    tt_turn_rules_init(&a->rules);
    err = agent_faculty_setup(a, &defs, &cons, errmsg);
    if (!err) {
        tt_prompt_stable_t st = {a->persona, tt_buf_str(&defs), tt_buf_str(&cons),
                                 a->config.rai_harmful_content, a->config.rai_copyright};
        a->system_prompt = tt_prompt_system(&st);
        err = tt_mkdirs(a->dir, 0700);
        if (err)
            *errmsg = tt_asprintf("%s: cannot create %s: %s", a->name, a->dir, tt_strerror(err));
    }
    tt_buf_fini(&defs);
    tt_buf_fini(&cons);
    if (!err)
        err = s_memory_setup(a, as, errmsg);
    if (err) {
        agent_destroy(&a);
        return err;
    }
    *out = a;
    return TT_OK;
}

void
agent_destroy(agent_t **self_p)
{
    agent_t *a = *self_p;
    if (!a)
        return;
    tt_memory_close(&a->memory);
    tt_persona_destroy(&a->persona);
    tt_config_fini(&a->config);
    json_decref(a->agent_config);
    json_decref(a->turn_schema);
    s_unload_state(a);
    free(a->system_prompt);
    free(a->name);
    free(a->dir);
    free(a->documents_dir);
    free(a->owner);
    free(a);
    *self_p = NULL;
}

uint32_t
agent_last_step(const agent_t *a)
{
    return tt_memory_last_step(a->memory);
}

static void
s_window_caps(const agent_t *a, size_t *first, size_t *last)
{
    *first = (size_t)a->config.episodic_prefix;
    *last = (size_t)a->config.episodic_lookback;
    if (*first > AGENT_WINDOW_FIRST_MAX)
        *first = AGENT_WINDOW_FIRST_MAX;
    if (*last > AGENT_WINDOW_LAST_MAX)
        *last = AGENT_WINDOW_LAST_MAX;
}

void
agent_window_push(agent_t *a, const char *item_json)
{
    json_t *item = json_loads(item_json, 0, NULL);
    if (item)
        agent_window_push_item(a, item, false);
    json_decref(item);
}

static void
s_episode_add(agent_t *a, const char *line)
{
    a->episode_lines =
        tt_realloc(a->episode_lines, (a->n_episode_lines + 1) * sizeof *a->episode_lines);
    a->episode_lines[a->n_episode_lines++] = tt_strdup(line);
}

const char *const *
agent_episode_lines(const agent_t *a, size_t *n)
{
    *n = a->n_episode_lines;
    return (const char *const *)a->episode_lines;
}

void
agent_episode_reset(agent_t *a)
{
    for (size_t i = 0; i < a->n_episode_lines; i++)
        free(a->episode_lines[i]);
    free(a->episode_lines);
    a->episode_lines = NULL;
    a->n_episode_lines = 0;
}

void
agent_window_push_item(agent_t *a, const json_t *item, bool in_episode)
{
    agent_window_t *w = &a->window;
    size_t first, last;
    s_window_caps(a, &first, &last);
    char *line = tt_prompt_episode_line(item, (size_t)a->config.max_content_display_length);
    if (line && in_episode)
        s_episode_add(a, line);
    json_t *act = json_object_get(json_object_get(item, "content"), "action");
    if (act && strcmp(tt_json_str(act, "type", ""), "DONE")) {
        json_decref(a->last_action);
        a->last_action = json_deep_copy(act);
    }
    w->total++;
    if (w->n_first < first) {
        w->first[w->n_first++] = line;
        return;
    }
    if (last == 0) {
        free(line);
        return;
    }
    if (w->n_last < last) {
        w->last[w->n_last++] = line;
        w->head = w->n_last % last;
        return;
    }
    free(w->last[w->head]);
    w->last[w->head] = line;
    w->head = (w->head + 1) % last;
}

const char **
agent_window_lines(const agent_t *a, size_t *n_lines, size_t *omitted_after, size_t *omitted)
{
    const agent_window_t *w = &a->window;
    const char **lines = tt_calloc(w->n_first + w->n_last + 1, sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; i < w->n_first; i++)
        if (w->first[i])
            lines[n++] = w->first[i];
    *omitted_after = n;
    uint64_t shown = w->n_first + w->n_last;
    *omitted = w->total > shown ? (size_t)(w->total - shown) : 0;
    for (size_t k = 0; k < w->n_last; k++) {
        const char *line = w->last[(w->head + k) % w->n_last]; /* oldest first */
        if (line)
            lines[n++] = line;
    }
    *n_lines = n;
    return lines;
}

char *
agent_state_json(const agent_t *a)
{
    json_t *st = json_pack("{s:O, s:O, s:s?, s:I, s:I, s:O?}", "cognitive", a->cognitive,
                           "calendar", a->calendar, "location", a->location, "episode_events",
                           (json_int_t)a->episode_events, "episode_start",
                           (json_int_t)a->episode_start, "last_action", a->last_action);
    char *text = tt_json_compact(st);
    json_decref(st);
    return text;
}

json_t *
agent_stimulus_item(const char *type, const char *content, const char *source, const char *datetime)
{
    return json_pack("{s:s, s:{s:[{s:s, s:s, s:s}]}, s:s, s:s}", "role", "user", "content",
                     "stimuli", "type", type, "content", content, "source", source ? source : "",
                     "type", "stimulus", "simulation_timestamp", datetime);
}

json_t *
agent_action_item(const json_t *action, const json_t *cognitive, const char *datetime)
{
    return json_pack("{s:s, s:{s:O, s:O}, s:s, s:s}", "role", "assistant", "content", "action",
                     action, "cognitive_state", cognitive, "type", "action", "simulation_timestamp",
                     datetime);
}
