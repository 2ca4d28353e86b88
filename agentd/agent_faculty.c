/*  agent_faculty -- RECALL, LIST_DOCUMENTS, CONSULT, WRITE_DOCUMENT, calendar
 *  and custom faculties.
 *
 *  RECALL searches two places and merges them: the semantic memory (consolidated
 *  memories, by embedding) and the raw episodic memory (by the local hashed
 *  embedding), so something heard two steps ago can be recalled before any
 *  consolidation has happened -- TinyTroupe only finds consolidated memories.
 */
#define TT_LOG_MODULE "faculty"
#include "agent_faculty.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_text.h"

/* ------------------------------------------------------------------ setup */

typedef struct {
    const char *name;
    const char *const types[3];
    const char *definitions;
    const char *constraints;
} s_builtin_t;

static const s_builtin_t s_builtins[] = {
    {"recall",
     {"RECALL", "RECALL_WITH_FULL_SCAN", NULL},
     "  - RECALL: try to remember something; content is a few keywords about it. What you "
     "remember comes back to you as a THOUGHT within this same step.\n"
     "  - RECALL_WITH_FULL_SCAN: remember everything about a topic, going through all your "
     "memories, when nothing must be missed; content as for RECALL. Slower to read.\n",
     "- When you are asked about the past or need a fact you may have heard before, RECALL it "
     "before answering; if nothing comes back, say you do not remember.\n"},
    {"documents",
     {"LIST_DOCUMENTS", "CONSULT", NULL},
     "  - LIST_DOCUMENTS: see the names of the documents you have at hand.\n"
     "  - CONSULT: read one of your documents; content is its exact name. Its text comes back "
     "as a THOUGHT within this same step.\n",
     "- Before talking about a document, CONSULT it; if you do not know the names, "
     "LIST_DOCUMENTS first.\n"},
    {"word_processor",
     {"WRITE_DOCUMENT", NULL},
     "  - WRITE_DOCUMENT: write a document; content is a JSON object {\"title\": TEXT, "
     "\"content\": MARKDOWN, \"author\": YOUR NAME}.\n",
     "- Write documents in full, well organised, in your own voice.\n"},
    {"calendar",
     {"CREATE_EVENT", "LIST_EVENTS", NULL},
     "  - CREATE_EVENT: put an event in your calendar; content is a JSON object {\"title\": "
     "TEXT, \"when\": DATETIME, \"with\": NAMES}.\n"
     "  - LIST_EVENTS: see your calendar; it comes back as a THOUGHT within this same step.\n",
     ""},
};

static const s_builtin_t *
s_find_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof s_builtins / sizeof s_builtins[0]; i++)
        if (!strcmp(s_builtins[i].name, name))
            return &s_builtins[i];
    return NULL;
}

static const json_t *
s_find_custom(const agent_t *a, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(a->agent_config, "custom_faculties"), i, f)
    {
        if (!strcmp(tt_json_str(f, "name", ""), name))
            return f;
    }
    return NULL;
}

static tt_err_t
s_add(agent_t *a, const char *name, tt_buf_t *defs, tt_buf_t *cons, char **errmsg)
{
    const s_builtin_t *b = s_find_builtin(name);
    if (b) {
        for (size_t k = 0; b->types[k]; k++)
            tt_turn_rules_add(&a->rules, b->types[k]);
        tt_buf_adds(defs, b->definitions);
        tt_buf_adds(cons, b->constraints);
        return TT_OK;
    }
    const json_t *custom = s_find_custom(a, name);
    if (!custom) {
        *errmsg = tt_asprintf("%s: unknown faculty or tool \"%s\" (recall, documents, "
                              "word_processor, calendar, or a custom faculty)",
                              a->name, name);
        return TT_EINVAL;
    }
    const char *type;
    json_t *desc;
    json_object_foreach(json_object_get(custom, "actions"), type, desc)
    {
        if (!tt_turn_rules_add(&a->rules, type)) {
            *errmsg = tt_asprintf("%s: cannot add action type \"%s\"", a->name, type);
            return TT_EINVAL;
        }
        tt_buf_addf(defs, "  - %s: %s\n", type, json_string_value(desc));
    }
    const char *c = tt_json_str(custom, "constraints", NULL);
    if (c && *c)
        tt_buf_addf(cons, "- %s\n", c);
    return TT_OK;
}

tt_err_t
agent_faculty_setup(agent_t *a, tt_buf_t *defs, tt_buf_t *cons, char **errmsg)
{
    const char *lists[] = {"faculties", "tools"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *name;
        json_array_foreach(json_object_get(a->agent_config, lists[l]), i, name)
        {
            if (!json_is_string(name))
                continue;
            tt_err_t err = s_add(a, json_string_value(name), defs, cons, errmsg);
            if (err)
                return err;
        }
    }
    return TT_OK;
}

bool
agent_faculty_needs_followup(const char *type)
{
    return !strcmp(type, "RECALL") || !strcmp(type, "RECALL_WITH_FULL_SCAN") ||
           !strcmp(type, "CONSULT") || !strcmp(type, "LIST_DOCUMENTS") ||
           !strcmp(type, "LIST_EVENTS");
}

/* ------------------------------------------------------------------ handlers */

static void
s_result(json_t *results, const char *action, const char *query, const char *text)
{
    json_array_append_new(
        results, json_pack("{s:s, s:s, s:s}", "action", action, "query", query, "result", text));
}

/* The text of an episodic item, for lexical recall. */
static const char *
s_item_text(const json_t *item)
{
    json_t *content = json_object_get(item, "content");
    json_t *s = json_array_get(json_object_get(content, "stimuli"), 0);
    if (s)
        return tt_json_str(s, "content", "");
    return tt_json_str(json_object_get(content, "action"), "content", "");
}

/* Top episodic items by how many of the query's content words they contain;
 * ties go to the more recent. What one was told, not what one said. */
static void
s_recall_episodes(agent_t *a, const char *query, tt_buf_t *out, int *found)
{
    char words[16][TT_TEXT_WORD_MAX];
    size_t n_words = tt_text_keywords(query, NULL, words, 16);
    char **items = NULL;
    size_t n = 0;
    if (!n_words || tt_memory_episodes_since(a->memory, 0, &items, &n) != TT_OK)
        return;
    struct {
        double score;
        size_t index;
    } best[AGENT_RECALL_TOP_K];
    size_t n_best = 0;
    json_t **parsed = tt_calloc(n + 1, sizeof(json_t *));
    for (size_t i = n; i-- > 0;) {
        parsed[i] = json_loads(items[i], 0, NULL);
        if (strcmp(tt_json_str(parsed[i], "type", ""), "stimulus"))
            continue;
        double score = tt_text_coverage((const char(*)[TT_TEXT_WORD_MAX])words, n_words,
                                        s_item_text(parsed[i]));
        if (score < 0.25)
            continue;
        if (n_best < AGENT_RECALL_TOP_K)
            n_best++;
        else if (score <= best[n_best - 1].score)
            continue;
        size_t k = n_best - 1;
        for (; k > 0 && best[k - 1].score < score; k--)
            best[k] = best[k - 1];
        best[k].score = score;
        best[k].index = i;
    }
    for (size_t k = 0; k < n_best; k++) {
        const json_t *item = parsed[best[k].index];
        json_t *st =
            json_array_get(json_object_get(json_object_get(item, "content"), "stimuli"), 0);
        const char *src = tt_json_str(st, "source", "");
        tt_buf_addf(out, "SOURCE: %s at %s\nSIMILARITY SCORE: %.3f\nRELEVANT CONTENT: %s\n\n",
                    *src ? src : "the world", tt_json_str(item, "simulation_timestamp", ""),
                    best[k].score, s_item_text(item));
        (*found)++;
    }
    for (size_t i = 0; i < n; i++) {
        json_decref(parsed[i]);
        free(items[i]);
    }
    free(parsed);
    free(items);
}

/* RECALL_WITH_FULL_SCAN: every episodic item, what was told and what was done,
 * that holds a content word of the query, oldest first, up to the buffer's
 * cap. TinyTroupe has the model read each memory; here the scan is lexical
 * and makes no model call. */
static void
s_recall_all_episodes(agent_t *a, const char *query, tt_buf_t *out, int *found)
{
    char words[16][TT_TEXT_WORD_MAX];
    size_t n_words = tt_text_keywords(query, NULL, words, 16);
    char **items = NULL;
    size_t n = 0;
    if (!n_words || tt_memory_episodes_since(a->memory, 0, &items, &n) != TT_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_loads(items[i], 0, NULL);
        const char *text = s_item_text(item);
        double score = tt_text_coverage((const char(*)[TT_TEXT_WORD_MAX])words, n_words, text);
        if (score > 0 && tt_buf_addf(out, "AT %s (%s)\nRELEVANT CONTENT: %s\n\n",
                                     tt_json_str(item, "simulation_timestamp", ""),
                                     tt_json_str(item, "type", ""), text) == TT_OK)
            (*found)++;
        json_decref(item);
        free(items[i]);
    }
    free(items);
}

static void
s_recall(agent_t *a, const char *type, const char *query, const float *qvec, uint32_t dim,
         json_t *results)
{
    bool full = !strcmp(type, "RECALL_WITH_FULL_SCAN");
    tt_buf_t out;
    tt_buf_init(&out, full ? AGENT_FULL_SCAN_BYTES : 1 << 20);
    int found = 0;
    if (full)
        s_recall_all_episodes(a, query, &out, &found);
    else
        s_recall_episodes(a, query, &out, &found);
    size_t top_k = full ? tt_memory_semantic_count(a->memory) : AGENT_RECALL_TOP_K;
    if (qvec && dim && top_k) {
        tt_memory_hit_t *hits = tt_calloc(top_k, sizeof *hits);
        size_t n = 0;
        if (tt_memory_search(a->memory, false, qvec, dim, top_k, hits, &n) == TT_OK) {
            for (size_t i = 0; i < n; i++) {
                json_t *item = json_loads(hits[i].text, 0, NULL);
                if (hits[i].score >= 0.15f)
                    tt_buf_addf(&out,
                                "SOURCE: my memories\nSIMILARITY SCORE: %.3f\nRELEVANT "
                                "CONTENT: %s\n\n",
                                hits[i].score, tt_json_str(item, "content", hits[i].text));
                found += hits[i].score >= 0.15f;
                json_decref(item);
                tt_memory_hit_fini(&hits[i]);
            }
        }
        free(hits);
    }
    if (!found)
        tt_buf_addf(&out,
                    "I cannot remember anything more about \"%s\". I will go on with what "
                    "I know.",
                    query);
    s_result(results, type, query, tt_buf_str(&out));
    tt_buf_fini(&out);
}

static void
s_list_documents(agent_t *a, json_t *results)
{
    char **names = NULL;
    size_t n = 0;
    tt_buf_t out;
    tt_buf_init(&out, 1 << 20);
    if (tt_memory_document_names(a->memory, &names, &n) == TT_OK && n) {
        tt_buf_adds(&out, "These are the documents I have:\n");
        for (size_t i = 0; i < n; i++) {
            tt_buf_addf(&out, "- %s\n", names[i]);
            free(names[i]);
        }
    } else {
        tt_buf_adds(&out, "I have no documents at hand.");
    }
    free(names);
    s_result(results, "LIST_DOCUMENTS", "", tt_buf_str(&out));
    tt_buf_fini(&out);
}

static void
s_consult(agent_t *a, const char *name, json_t *results)
{
    char *text = NULL;
    char *msg;
    if (tt_memory_document_text(a->memory, name, &text) == TT_OK) {
        size_t len = tt_utf8_cut(text, strlen(text), AGENT_CONSULT_MAX);
        msg = tt_asprintf("I read \"%s\". SOURCE: %s\nRELEVANT CONTENT: %.*s%s", name, name,
                          (int)len, text, len < strlen(text) ? " (...)" : "");
    } else {
        msg = tt_asprintf("I have no document called \"%s\"; LIST_DOCUMENTS shows what I have.",
                          name);
    }
    s_result(results, "CONSULT", name, msg);
    free(msg);
    free(text);
}

/* A title made safe as a file name: letters, digits, space, - and _ only. */
static char *
s_safe_filename(const char *title)
{
    char *s = tt_strndup(title, 80);
    for (char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == ' ' || *p == '-' || *p == '_' ||
              (unsigned char)*p >= 0x80))
            *p = '-';
    if (!*s) {
        free(s);
        s = tt_strdup("untitled");
    }
    return s;
}

static bool
s_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

static void
s_write_document(agent_t *a, const char *content)
{
    json_t *doc = json_loads(content, 0, NULL);
    const char *title = tt_json_str(doc, "title", "Untitled");
    const char *body = tt_json_str(doc, "content", json_is_object(doc) ? "" : content);
    char *author_dir = tt_persona_dirname(a->name);
    char *dir = tt_asprintf("%s/%s", a->documents_dir, author_dir);
    mkdir(a->documents_dir, 0700);
    if (mkdir(dir, 0700) && errno != EEXIST)
        TT_LOG_WARN("%s: cannot create %s: %s", a->name, dir, strerror(errno));
    char *file = s_safe_filename(title);
    char *md = tt_asprintf("%s/%s.md", dir, file);
    char *js = tt_asprintf("%s/%s.json", dir, file);
    json_t *record =
        json_pack("{s:s, s:s, s:s}", "title", title, "content", body, "author", a->name);
    char *record_text = json_dumps(record, JSON_INDENT(2));
    if (!s_write_file(md, body) || !s_write_file(js, record_text))
        TT_LOG_WARN("%s: cannot write document %s", a->name, md);
    free(record_text);
    json_decref(record);
    json_decref(doc);
    free(md);
    free(js);
    free(file);
    free(dir);
    free(author_dir);
}

static void
s_calendar(agent_t *a, const char *type, const char *content, json_t *results)
{
    if (!strcmp(type, "CREATE_EVENT")) {
        json_t *ev = json_loads(content, 0, NULL);
        if (!json_is_object(ev)) {
            json_decref(ev);
            ev = json_pack("{s:s}", "title", content);
        }
        json_array_append_new(a->calendar, ev);
        return;
    }
    char *text = json_array_size(a->calendar) ? json_dumps(a->calendar, JSON_INDENT(1))
                                              : tt_strdup("My calendar is empty.");
    s_result(results, "LIST_EVENTS", "", text);
    free(text);
}

void
agent_faculty_handle(agent_t *a, const json_t *action, tt_memory_batch_t *batch, json_t *results,
                     const float *qvec, uint32_t dim)
{
    const char *type = tt_json_str(action, "type", "");
    const char *content = tt_json_str(action, "content", "");
    if (!strcmp(type, "RECALL") || !strcmp(type, "RECALL_WITH_FULL_SCAN"))
        s_recall(a, type, content, qvec, dim, results);
    else if (!strcmp(type, "LIST_DOCUMENTS"))
        s_list_documents(a, results);
    else if (!strcmp(type, "CONSULT"))
        s_consult(a, content, results);
    else if (!strcmp(type, "WRITE_DOCUMENT"))
        s_write_document(a, content);
    else if (!strcmp(type, "CREATE_EVENT") || !strcmp(type, "LIST_EVENTS"))
        s_calendar(a, type, content, results);
}
