/*  tt_offline_agent -- the scripted persona: agent turns and consolidation.
 *
 *  It reads exactly what a real model reads -- the persona between <persona>
 *  tags in the system message, the {"situation":...} message, any
 *  {"faculty_results":...} follow-up -- and answers in the turn schema. Every
 *  choice comes from a hash of (seed, agent, time, stimulus), so the same
 *  request always gets the same answer, in this process or in fakellm.
 *
 *  Behaviour, in order of precedence, for the latest stimulus:
 *    asks for everything remembered   -> THINK, RECALL_WITH_FULL_SCAN <topic>, DONE
 *    asks to remember / recall        -> THINK, RECALL <topic>, DONE
 *    mentions documents to read       -> LIST_DOCUMENTS, DONE (then CONSULT, then TALK)
 *    asks to write something down     -> THINK, WRITE_DOCUMENT {title, content}, TALK, DONE
 *    names a custom action            -> that action about the topic, TALK, DONE
 *    asks to reach out to NAME        -> THINK, REACH_OUT NAME, DONE
 *    asks what is on its calendar     -> LIST_EVENTS, DONE (then TALK about it)
 *    mentions a meeting or calendar   -> CREATE_EVENT {title, when, with}, TALK, DONE
 *    anything else                    -> THINK about it, TALK to its source (or to someone
 *                                        reachable), DONE
 *  Faculty results in a follow-up are talked about, so what was recalled is
 *  visible in the transcript.
 */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <pthread.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_rng.h"
#include "tt_text.h"

json_t *tt_offline_agent_turn(const json_t *messages, uint64_t seed);
json_t *tt_offline_consolidation(const json_t *messages, uint64_t seed);

#define S_TOPIC_WORDS 6

typedef struct {
    json_t *persona;   /* owned */
    json_t *situation; /* owned: the "situation" object */
    json_t *results;   /* owned: faculty_results of the last follow-up, or NULL */
    const char *agent;
    tt_rng_t rng;
    json_t *actions;     /* what we answer */
    const json_t *focus; /* the stimulus we react to */
    char topic[160];
} s_turn_t;

/* Words of the names involved, which make poor topics ("lisa remember ..."). */
static size_t
s_name_words(const s_turn_t *t, char (*out)[TT_TEXT_WORD_MAX], const char **list, size_t max)
{
    size_t n = 0;
    const char *names[3] = {t->agent, t->focus ? tt_json_str(t->focus, "source", "") : "", NULL};
    json_t *acc = json_object_get(t->situation, "accessible_agents");
    for (size_t k = 0; k < 2 + json_array_size(acc); k++) {
        const char *name = k < 2 ? names[k] : json_string_value(json_array_get(acc, k - 2));
        for (const char *p = name; p && *p && n + 1 < max;) {
            while (*p == ' ')
                p++;
            size_t len = strcspn(p, " ");
            if (len > 0 && len < TT_TEXT_WORD_MAX) {
                memcpy(out[n], p, len);
                out[n][len] = '\0';
                list[n] = out[n];
                n++;
            }
            p += len;
        }
    }
    list[n] = NULL;
    return n;
}

/* The topic of a stimulus: content words of its question (or of all of it),
 * without the names of the people involved. */
static void
s_topic(const s_turn_t *t, const char *text, char *out, size_t cap)
{
    char name_words[48][TT_TEXT_WORD_MAX];
    const char *skip[49];
    s_name_words(t, name_words, skip, 48);
    const char *q = strrchr(text, '?');
    char *sentence = NULL;
    if (q) {
        const char *b = q;
        while (b > text && !strchr(".!?", b[-1]))
            b--;
        sentence = tt_strndup(b, (size_t)(q - b));
    }
    char words[S_TOPIC_WORDS][TT_TEXT_WORD_MAX];
    size_t n = sentence ? tt_text_keywords(sentence, skip, words, S_TOPIC_WORDS) : 0;
    if (n < 2)
        n = tt_text_keywords(text, skip, words, S_TOPIC_WORDS);
    free(sentence);
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < n && used + strlen(words[i]) + 2 < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? " " : "", words[i]);
    if (!used)
        snprintf(out, cap, "what is going on");
}

/* "a" or "an" before a word, by its first letter. */
static const char *
s_article(const char *word)
{
    return word && strchr("AEIOUaeiou", word[0]) ? "an" : "a";
}

static bool
s_mentions(const char *text, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strcasestr(text, words[i]))
            return true;
    return false;
}

static bool
s_can(const s_turn_t *t, const char *type)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(t->situation, "available_actions"), i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), type))
            return true;
    }
    return false;
}

static bool
s_reachable(const s_turn_t *t, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(t->situation, "accessible_agents"), i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), name))
            return true;
    }
    return false;
}

static void
s_act(s_turn_t *t, const char *type, const char *content, const char *target)
{
    json_array_append_new(t->actions, json_pack("{s:s, s:s, s:s}", "type", type, "content", content,
                                                "target", target ? target : ""));
}

static const char *
s_interest(s_turn_t *t)
{
    static const char *paths[] = {"preferences.interests", "preferences.likes", "skills",
                                  "long_term_goals"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        json_t *list = tt_json_get_path(t->persona, paths[i]);
        size_t n = json_array_size(list);
        if (n) {
            json_t *v = json_array_get(list, tt_rng_below(&t->rng, n));
            if (json_is_string(v))
                return json_string_value(v);
        }
    }
    return "the people around me";
}

static const char *
s_occupation(const s_turn_t *t)
{
    json_t *occ = json_object_get(t->persona, "occupation");
    if (json_is_string(occ))
        return json_string_value(occ);
    return tt_json_str(occ, "title", "person");
}

/* Someone reachable to talk to, other than ourselves; NULL if nobody. */
static const char *
s_someone(s_turn_t *t)
{
    json_t *list = json_object_get(t->situation, "accessible_agents");
    size_t n = json_array_size(list);
    if (!n)
        return NULL;
    const char *name = json_string_value(json_array_get(list, tt_rng_below(&t->rng, n)));
    return name && strcmp(name, t->agent) ? name : NULL;
}

/* ------------------------------------------------------------------ reactions */

static void
s_react_recall(s_turn_t *t)
{
    char *thought = tt_asprintf("Wait, I should remember what I know about %s.", t->topic);
    s_act(t, "THINK", thought, "");
    s_act(t, "RECALL", t->topic, "");
    free(thought);
}

static void
s_react_full_scan(s_turn_t *t)
{
    char *thought = tt_asprintf("I must go through everything I know about %s.", t->topic);
    s_act(t, "THINK", thought, "");
    s_act(t, "RECALL_WITH_FULL_SCAN", t->topic, "");
    free(thought);
}

static void
s_react_documents(s_turn_t *t)
{
    s_act(t, "THINK", "I should check which documents I have before answering.", "");
    s_act(t, "LIST_DOCUMENTS", "", "");
}

static void
s_react_write(s_turn_t *t, const char *source)
{
    const char *name = t->agent;
    char *title = tt_asprintf("Notes on %s", t->topic);
    json_t *doc = json_pack("{s:s, s:s, s:s}", "title", title, "content", "", "author", name);
    char *body = tt_asprintf("# %s\n\nWritten by %s, %s.\n\n- What was asked: %s\n- My view as "
                             "%s %s: it deserves care, starting with %s.\n",
                             title, name, s_occupation(t), tt_json_str(t->focus, "content", ""),
                             s_article(s_occupation(t)), s_occupation(t), s_interest(t));
    json_object_set_new(doc, "content", json_string(body));
    char *text = tt_json_compact(doc);
    s_act(t, "THINK", "I will write this down properly.", "");
    s_act(t, "WRITE_DOCUMENT", text, "");
    if (source && s_reachable(t, source)) {
        char *reply = tt_asprintf("I wrote it down in \"%s\".", title);
        s_act(t, "TALK", reply, source);
        free(reply);
    }
    json_decref(doc);
    free(text);
    free(body);
    free(title);
}

static void
s_react_meeting(s_turn_t *t, const char *source)
{
    const char *when = json_string_value(json_object_get(t->situation, "datetime"));
    json_t *ev = json_pack("{s:s, s:s, s:s}", "title", t->topic, "when", when ? when : "", "with",
                           source ? source : "");
    char *text = tt_json_compact(ev);
    s_act(t, "CREATE_EVENT", text, "");
    if (source && s_reachable(t, source))
        s_act(t, "TALK", "It is in my calendar now.", source);
    json_decref(ev);
    free(text);
}

/* The name after a phrase such as "reach out to ", up to punctuation. */
static bool
s_name_after(const char *content, const char *const *phrases, char *name, size_t cap)
{
    for (size_t i = 0; phrases[i]; i++) {
        const char *p = strcasestr(content, phrases[i]);
        if (!p)
            continue;
        p += strlen(phrases[i]);
        size_t n = strcspn(p, ",.;:!?\n(");
        while (n && p[n - 1] == ' ')
            n--;
        n = tt_utf8_cut(p, n, cap - 1);
        memcpy(name, p, n);
        name[n] = '\0';
        return n > 0;
    }
    return false;
}

static void
s_react_reach_out(s_turn_t *t, const char *name)
{
    char *thought = tt_asprintf("I should get to know %s.", name);
    s_act(t, "THINK", thought, "");
    s_act(t, "REACH_OUT", "", name);
    free(thought);
}

static void
s_react_list_events(s_turn_t *t)
{
    s_act(t, "THINK", "Let me look at my calendar first.", "");
    s_act(t, "LIST_EVENTS", "", "");
}

/* A custom faculty's action whose name the stimulus mentions, its words
 * joined by spaces ("sketch idea" for SKETCH_IDEA). NULL if none. */
static const char *
s_custom_action(const s_turn_t *t, const char *content)
{
    static const char *builtin[] = {"TALK",           "THINK",       "REACH_OUT",
                                    "DONE",           "RECALL",      "RECALL_WITH_FULL_SCAN",
                                    "LIST_DOCUMENTS", "CONSULT",     "WRITE_DOCUMENT",
                                    "CREATE_EVENT",   "LIST_EVENTS", NULL};
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(t->situation, "available_actions"), i, v)
    {
        const char *type = json_string_value(v);
        bool known = !type;
        for (size_t k = 0; !known && builtin[k]; k++)
            known = !strcmp(type, builtin[k]);
        if (known || strlen(type) >= 64)
            continue;
        char phrase[64];
        size_t n = 0;
        for (; type[n]; n++)
            phrase[n] = type[n] == '_' ? ' ' : (char)tolower((unsigned char)type[n]);
        phrase[n] = '\0';
        /* as whole words: PLANT is not in "explanation" */
        for (const char *p = content; (p = strcasestr(p, phrase)) != NULL; p++) {
            unsigned char before = p > content ? (unsigned char)p[-1] : ' ';
            unsigned char after = (unsigned char)p[n];
            if (!isalnum(before) && !isalnum(after))
                return type;
        }
    }
    return NULL;
}

static void
s_react_custom(s_turn_t *t, const char *type, const char *source)
{
    s_act(t, type, t->topic, "");
    if (source && s_reachable(t, source)) {
        char *reply = tt_asprintf("Done: %s.", t->topic);
        s_act(t, "TALK", reply, source);
        free(reply);
    }
}

static void
s_react_talk(s_turn_t *t, const char *source)
{
    const char *src = source && *source ? source : "the world";
    const char *occ = s_occupation(t);
    char *thought;
    switch (tt_rng_below(&t->rng, 3)) {
    case 0:
        thought = tt_asprintf("%s wants to talk about %s. As %s %s I have a view on that.", src,
                              t->topic, s_article(occ), occ);
        break;
    case 1:
        thought = tt_asprintf("So this is about %s (%s brought it up). My work as %s %s "
                              "taught me something about it.",
                              t->topic, src, s_article(occ), occ);
        break;
    default:
        thought = tt_asprintf("Interesting: %s, says %s. Let me answer the way %s %s would.",
                              t->topic, src, s_article(occ), occ);
    }
    s_act(t, "THINK", thought, "");
    free(thought);
    const char *target = source && *source && s_reachable(t, source) ? source : s_someone(t);
    if (!target)
        return;
    const char *interest = s_interest(t);
    char *reply;
    switch (tt_rng_below(&t->rng, 4)) {
    case 0:
        reply =
            tt_asprintf("About %s: honestly, what matters most to me is %s.", t->topic, interest);
        break;
    case 1:
        reply = tt_asprintf("I have been thinking about %s, and I keep coming back to %s.",
                            t->topic, interest);
        break;
    case 2:
        reply = tt_asprintf("On %s, my experience says one thing: do not forget %s.", t->topic,
                            interest);
        break;
    default:
        reply = tt_asprintf("Good point on %s. For me it comes down to %s.", t->topic, interest);
    }
    s_act(t, "TALK", reply, target);
    free(reply);
}

static void
s_react_idle(s_turn_t *t)
{
    const char *interest = s_interest(t);
    char *thought = tt_asprintf("Nothing new. My mind wanders to %s.", interest);
    s_act(t, "THINK", thought, "");
    free(thought);
    const char *target = s_someone(t);
    if (target && tt_rng_below(&t->rng, 2) == 0) {
        char *q = tt_asprintf("%s, what do you make of %s?", target, interest);
        s_act(t, "TALK", q, target);
        free(q);
    }
}

static void
s_fresh_turn(s_turn_t *t)
{
    static const char *recall_words[] = {"remember",  "recall",        "earlier",
                                         "last time", "you were told", NULL};
    static const char *doc_words[] = {"document", "documents", "read the", "consult", NULL};
    static const char *write_words[] = {"write", "written", "note down", "report", NULL};
    static const char *meeting_words[] = {"meeting", "calendar", "schedule", "appointment", NULL};
    static const char *reach_words[] = {"reach out to ", "introduce yourself to ",
                                        "get in touch with ", NULL};
    static const char *agenda_words[] = {"on your calendar", "in your calendar", "your agenda",
                                         NULL};
    static const char *all_words[] = {"everything you remember", "all you remember", NULL};
    char name[128];
    if (!t->focus) {
        s_react_idle(t);
        return;
    }
    const char *content = tt_json_str(t->focus, "content", "");
    const char *source = tt_json_str(t->focus, "source", "");
    s_topic(t, content, t->topic, sizeof t->topic);
    const char *custom = s_custom_action(t, content);
    if (custom)
        s_react_custom(t, custom, source);
    else if (s_name_after(content, reach_words, name, sizeof name) && strcmp(name, t->agent))
        s_react_reach_out(t, name);
    else if (s_can(t, "LIST_EVENTS") && s_mentions(content, agenda_words))
        s_react_list_events(t);
    else if (s_can(t, "RECALL_WITH_FULL_SCAN") && s_mentions(content, all_words))
        s_react_full_scan(t);
    else if (s_can(t, "RECALL") && s_mentions(content, recall_words))
        s_react_recall(t);
    else if (s_can(t, "LIST_DOCUMENTS") && s_mentions(content, doc_words))
        s_react_documents(t);
    else if (s_can(t, "WRITE_DOCUMENT") && s_mentions(content, write_words))
        s_react_write(t, source);
    else if (s_can(t, "CREATE_EVENT") && s_mentions(content, meeting_words))
        s_react_meeting(t, source);
    else
        s_react_talk(t, source);
}

/* A follow-up: react to what the faculties returned. */
static void
s_followup(s_turn_t *t)
{
    json_t *last = json_array_get(t->results, json_array_size(t->results) - 1);
    const char *action = tt_json_str(last, "action", "");
    const char *result = tt_json_str(last, "result", "");
    const char *source = t->focus ? tt_json_str(t->focus, "source", "") : "";
    const char *target = *source && s_reachable(t, source) ? source : s_someone(t);
    if (!strcmp(action, "LIST_DOCUMENTS") && s_can(t, "CONSULT")) {
        /* the listing is "- name" lines: consult the first one */
        const char *dash = strstr(result, "- ");
        if (dash) {
            const char *end = strchr(dash, '\n');
            char *name = tt_strndup(dash + 2, end ? (size_t)(end - dash - 2) : strlen(dash + 2));
            s_act(t, "CONSULT", name, "");
            free(name);
            return;
        }
    }
    /* RECALL, CONSULT, or nothing found: say what we now know */
    char snippet[240];
    const char *start = strstr(result, "RELEVANT CONTENT:");
    start = start ? start + 17 : result;
    while (*start == ' ' || *start == '\n')
        start++;
    size_t n = strcspn(start, "\n");
    n = tt_utf8_cut(start, n, sizeof snippet - 1);
    memcpy(snippet, start, n);
    snippet[n] = '\0';
    char *text = *snippet ? tt_asprintf("Here is what I have: %s", snippet)
                          : tt_strdup("I cannot find anything about that, sorry.");
    if (target)
        s_act(t, "TALK", text, target);
    else
        s_act(t, "THINK", text, "");
    free(text);
}

static json_t *
s_cognitive(s_turn_t *t)
{
    static const char *moods[] = {"calm and attentive",   "curious",    "a little impatient",
                                  "engaged and cheerful", "thoughtful", "sceptical"};
    json_t *goals_list = json_object_get(t->persona, "long_term_goals");
    const char *goal = json_string_value(json_array_get(goals_list, 0));
    char *context = tt_asprintf("Thinking about %s", t->topic[0] ? t->topic : "the day");
    json_t *cs =
        json_pack("{s:s, s:[s], s:s, s:s}", "goals", goal ? goal : "to take part thoughtfully",
                  "context", context, "attention", t->topic[0] ? t->topic : "my surroundings",
                  "emotions", moods[tt_rng_below(&t->rng, sizeof moods / sizeof moods[0])]);
    free(context);
    return cs;
}

/* ------------------------------------------------------------------ parsing */

static json_t *
s_parse_object(const char *text)
{
    if (!text || *text != '{')
        return NULL;
    return json_loads(text, 0, NULL);
}

/* The few persona facts the script uses, read straight out of the prompt text
 * (the persona between <persona> tags) without parsing the whole persona. */
static json_t *
s_persona_facts(const char *text, size_t len)
{
    static const char *paths[] = {"occupation",        "long_term_goals", "preferences.interests",
                                  "preferences.likes", "skills",          NULL};
    json_t *facts = json_object();
    for (size_t i = 0; paths[i]; i++) {
        json_t *v = tt_json_extract(text, len, paths[i]);
        if (!v)
            continue;
        const char *dot = strchr(paths[i], '.');
        if (!dot) {
            json_object_set_new(facts, paths[i], v);
            continue;
        }
        char parent[32];
        snprintf(parent, sizeof parent, "%.*s", (int)(dot - paths[i]), paths[i]);
        json_t *obj = json_object_get(facts, parent);
        if (!obj) {
            obj = json_object();
            json_object_set_new(facts, parent, obj);
        }
        json_object_set_new(obj, dot + 1, v);
    }
    return facts;
}

/* A persona's facts are read once per thread and remembered by its text
 * (compared in full, so a hit is never a guess): an agent's persona is the
 * same in every turn, and an agentd with --slots serves thousands of them. */
#define S_FACTS_SLOTS 4096

typedef struct {
    char *text;
    size_t len;
    json_t *facts;
} s_facts_memo_t;

static pthread_key_t s_facts_key;
static pthread_once_t s_facts_once = PTHREAD_ONCE_INIT;

static void
s_facts_free(void *p)
{
    s_facts_memo_t *memo = p;
    for (size_t i = 0; i < S_FACTS_SLOTS; i++) {
        free(memo[i].text);
        json_decref(memo[i].facts);
    }
    free(memo);
}

static void
s_facts_key_create(void)
{
    TT_ASSERT(pthread_key_create(&s_facts_key, s_facts_free) == 0);
}

static json_t *
s_persona_of(const char *system)
{
    const char *open = system ? strstr(system, "<persona>") : NULL;
    const char *close = open ? strstr(open, "</persona>") : NULL;
    if (!open || !close)
        return json_object();
    open += strlen("<persona>");
    size_t len = (size_t)(close - open);
    /* per thread, freed when the thread ends */
    pthread_once(&s_facts_once, s_facts_key_create);
    s_facts_memo_t *memo = pthread_getspecific(s_facts_key);
    if (!memo) {
        memo = tt_calloc(S_FACTS_SLOTS, sizeof *memo);
        pthread_setspecific(s_facts_key, memo);
    }
    s_facts_memo_t *m = &memo[tt_fnv1a(open, len, 0) % S_FACTS_SLOTS];
    if (m->text && m->len == len && memcmp(m->text, open, len) == 0)
        return json_incref(m->facts);
    free(m->text);
    json_decref(m->facts);
    m->text = tt_strndup(open, len);
    m->len = len;
    m->facts = s_persona_facts(open, len);
    return json_incref(m->facts);
}

static bool
s_parse(const json_t *messages, s_turn_t *t)
{
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        const char *role = tt_json_str(m, "role", "");
        const char *content = tt_json_str(m, "content", NULL);
        if (!strcmp(role, "system") && !t->persona) {
            t->persona = s_persona_of(content);
            continue;
        }
        if (strcmp(role, "user"))
            continue;
        json_t *obj = s_parse_object(content);
        if (json_is_object(json_object_get(obj, "situation"))) {
            json_decref(t->situation);
            t->situation = json_incref(json_object_get(obj, "situation"));
        } else if (json_is_array(json_object_get(obj, "faculty_results"))) {
            json_decref(t->results);
            t->results = json_incref(json_object_get(obj, "faculty_results"));
        }
        json_decref(obj);
    }
    if (!t->persona)
        t->persona = json_object();
    return t->situation != NULL;
}

/* The stimulus to react to: the last CONVERSATION, else the last of any kind. */
static const json_t *
s_focus(const json_t *stimuli)
{
    const json_t *last = NULL, *talk = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(stimuli, i, s)
    {
        last = s;
        if (!strcmp(tt_json_str(s, "type", ""), "CONVERSATION"))
            talk = s;
    }
    return talk ? talk : last;
}

json_t *
tt_offline_agent_turn(const json_t *messages, uint64_t seed)
{
    s_turn_t t = {0};
    t.actions = json_array();
    if (!s_parse(messages, &t)) {
        json_decref(t.persona);
        json_decref(t.actions);
        return json_pack("{s:[{s:s, s:s, s:s}], s:{s:s, s:[], s:s, s:s}}", "actions", "type",
                         "DONE", "content", "", "target", "", "cognitive_state", "goals", "",
                         "context", "attention", "", "emotions", "confused");
    }
    t.agent = tt_json_str(t.situation, "agent", "someone");
    t.focus = s_focus(json_object_get(t.situation, "new_stimuli"));
    uint64_t h = tt_fnv1a_str(t.agent, seed);
    h = tt_fnv1a_str(tt_json_str(t.situation, "datetime", ""), h);
    h = tt_fnv1a_str(t.focus ? tt_json_str(t.focus, "content", "") : "", h);
    h ^= (uint64_t)json_array_size(t.results) * 0x9E37u;
    tt_rng_seed(&t.rng, h);
    if (t.focus)
        s_topic(&t, tt_json_str(t.focus, "content", ""), t.topic, sizeof t.topic);
    if (t.results)
        s_followup(&t);
    else
        s_fresh_turn(&t);
    s_act(&t, "DONE", "", "");
    json_t *answer =
        json_pack("{s:o, s:o}", "actions", t.actions, "cognitive_state", s_cognitive(&t));
    json_decref(t.persona);
    json_decref(t.situation);
    json_decref(t.results);
    return answer;
}

/* ------------------------------------------------------------------ consolidation */

/* "- [STIMULUS:CONVERSATION] from Oscar [@...]: text" -> "Oscar told me: text" */
static char *
s_memory_of_line(const char *line)
{
    const char *colon = strstr(line, "]: ");
    const char *text = colon ? colon + 3 : line;
    char who[TT_OFFLINE_EMBED_DIM] = "";
    const char *from = strstr(line, "] from ");
    const char *to = strstr(line, "] to ");
    const char *at = strstr(line, " [@");
    if (from && at && at > from)
        snprintf(who, sizeof who, "%.*s", (int)(at - from - 7), from + 7);
    else if (to && at && at > to)
        snprintf(who, sizeof who, "%.*s", (int)(at - to - 5), to + 5);
    if (strstr(line, "[STIMULUS:CONVERSATION]"))
        return tt_asprintf("%s told me: %s", *who ? who : "Someone", text);
    if (strstr(line, "[ACTION:TALK]"))
        return tt_asprintf("I told %s: %s", *who ? who : "them", text);
    if (strstr(line, "[ACTION:THINK]"))
        return tt_asprintf("I thought: %s", text);
    if (strstr(line, "[STIMULUS:"))
        return tt_asprintf("I noticed: %s", text);
    return tt_asprintf("I did this: %s", text);
}

json_t *
tt_offline_consolidation(const json_t *messages, uint64_t seed)
{
    (void)seed;
    const char *user = NULL;
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        if (!strcmp(tt_json_str(m, "role", ""), "user"))
            user = tt_json_str(m, "content", NULL);
    }
    json_t *list = json_array();
    /* Keep the most informative lines: conversations first, at most six. */
    const char *kinds[] = {"[STIMULUS:CONVERSATION]", "[ACTION:TALK]", "[STIMULUS:", NULL};
    for (size_t k = 0; user && kinds[k] && json_array_size(list) < 6; k++) {
        const char *p = user;
        while (json_array_size(list) < 6 && (p = strstr(p, "\n- ")) != NULL) {
            p += 1;
            size_t n = strcspn(p, "\n");
            char *line = tt_strndup(p, n);
            bool want =
                strstr(line, kinds[k]) && (k != 2 || !strstr(line, "[STIMULUS:CONVERSATION]"));
            if (want) {
                char *mem = s_memory_of_line(line);
                json_array_append_new(
                    list, json_pack("{s:s, s:s}", "content", mem, "type", "consolidated"));
                free(mem);
            }
            free(line);
            p += n;
        }
    }
    return json_pack("{s:o}", "consolidation", list);
}
