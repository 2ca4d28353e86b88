/*  coord_transcript -- rendering committed steps for people.
 *
 *  Styles follow TinyTroupe's, by event type: CONVERSATION bold italic cyan,
 *  THOUGHT dim italic cyan, other stimuli italic; TALK bold green, THINK green,
 *  DONE grey, other actions purple; interventions bright magenta. Content is
 *  wrapped under a "> " marker -- at 100 columns in the file, at the
 *  terminal's width on stdout when it is a terminal -- and truncated at
 *  MAX_CONTENT_DISPLAY_LENGTH with " (...)".
 */
#include "coord_transcript.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <czmq.h>

#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_mem.h"

#define S_WIDTH     100 /* the file's width */
#define S_MIN_WIDTH 40  /* narrower terminals are treated as this wide */

struct coord_transcript {
    FILE *file;
    char *path;
    int write_errno;      /* of the first failed write to the file, 0 while all went well */
    zhash_t *agent_names; /* to tell agents' words from the world's */
    zhash_t *said_before; /* keys of the TALKs shown at the previous step */
    bool colour;
    bool quiet;
    size_t term_width; /* stdout's columns when it is a terminal, else S_WIDTH */
};

/* Where s_emit writes. */
typedef enum { S_TO_BOTH, S_TO_FILE, S_TO_TERMINAL } s_to_t;

tt_err_t
coord_transcript_open(const char *path, bool quiet, coord_transcript_t **out)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return TT_EIO;
    coord_transcript_t *t = tt_new(coord_transcript_t);
    t->file = f;
    t->path = tt_strdup(path);
    t->quiet = quiet;
    const char *no_color = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    t->colour = !quiet && isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
                !(term && !strcmp(term, "dumb"));
    struct winsize ws;
    t->term_width = S_WIDTH;
    if (!quiet && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
        t->term_width = ws.ws_col < S_MIN_WIDTH ? S_MIN_WIDTH : ws.ws_col;
    *out = t;
    return TT_OK;
}

void
coord_transcript_close(coord_transcript_t **self_p)
{
    coord_transcript_t *t = *self_p;
    if (!t)
        return;
    fclose(t->file);
    zhash_destroy(&t->agent_names);
    zhash_destroy(&t->said_before);
    free(t->path);
    free(t);
    *self_p = NULL;
}

int
coord_transcript_errno(const coord_transcript_t *t)
{
    return t->write_errno;
}

const char *
coord_transcript_path(const coord_transcript_t *t)
{
    return t->path;
}

/* Push what is buffered to the file, noting the first failure. */
static void
s_flush(coord_transcript_t *t)
{
    if (fflush(t->file) != 0 && !t->write_errno)
        t->write_errno = errno ? errno : EIO;
}

/* Write plain text to the file and, styled, to the terminal. */
static void
s_emit_to(coord_transcript_t *t, s_to_t to, const char *style, const char *text)
{
    if (to != S_TO_TERMINAL && fputs(text, t->file) == EOF && !t->write_errno)
        t->write_errno = errno ? errno : EIO;
    if (t->quiet || to == S_TO_FILE)
        return;
    if (t->colour && style)
        printf("\x1b[%sm%s\x1b[0m", style, text);
    else
        fputs(text, stdout);
}

static void
s_emit(coord_transcript_t *t, const char *style, const char *text)
{
    s_emit_to(t, S_TO_BOTH, style, text);
}

static const char *
s_action_style(const char *type)
{
    if (!strcmp(type, "TALK"))
        return "1;38;5;40";
    if (!strcmp(type, "THINK"))
        return "32";
    if (!strcmp(type, "DONE"))
        return "38;5;252";
    return "38;5;129";
}

static const char *
s_stimulus_style(const char *type)
{
    if (!strcmp(type, "CONVERSATION"))
        return "1;3;38;5;51";
    if (!strcmp(type, "THOUGHT"))
        return "2;3;38;5;51";
    return "3";
}

/* Content under its header, for a page of columns: "> " marker, wrapped,
 * truncated. A header too wide for the page gets its content under a small
 * indent instead. */
static void
s_render_content(tt_buf_t *b, size_t columns, size_t indent, const char *text, int max)
{
    size_t len = strlen(text);
    bool cut = max > 0 && len > (size_t)max;
    if (cut)
        len = tt_utf8_cut(text, len, (size_t)max);
    size_t width;
    if (columns > indent + 20) {
        width = columns - indent - 2;
    } else if (columns >= S_WIDTH) {
        width = 40; /* the file, as it always was */
    } else {
        indent = 2;
        width = columns - 4;
    }
    size_t pos = 0;
    while (pos < len) {
        size_t n = len - pos;
        if (n > width) {
            n = width;
            while (n > width / 2 && text[pos + n] != ' ')
                n--;
            if (text[pos + n] != ' ')
                n = tt_utf8_cut(text + pos, len - pos, width);
        }
        const char *nl = memchr(text + pos, '\n', n);
        if (nl)
            n = (size_t)(nl - (text + pos));
        tt_buf_addf(b, "%*s> %.*s", (int)indent, "", (int)n, text + pos);
        pos += n;
        while (pos < len && (text[pos] == ' ' || text[pos] == '\n'))
            pos++;
        if (pos >= len && cut)
            tt_buf_adds(b, " (...)");
        tt_buf_adds(b, "\n");
    }
}

/* A rule with the step's title in the middle, columns wide. */
static void
s_render_rule(tt_buf_t *b, size_t columns, const char *title)
{
    size_t len = strlen(title);
    size_t side = len < columns ? (columns - len) / 2 : 2;
    tt_buf_adds(b, "\n");
    for (size_t i = 0; i < side; i++)
        tt_buf_adds(b, "\xe2\x94\x80");
    tt_buf_adds(b, title);
    for (size_t i = 0; i < side; i++)
        tt_buf_adds(b, "\xe2\x94\x80");
    tt_buf_adds(b, "\n");
}

/* Text rendered for the file's width and, when it differs, the terminal's. */
typedef void(s_render_fn)(tt_buf_t *b, size_t columns, const void *arg);

static void
s_emit_rendered(coord_transcript_t *t, const char *style, s_render_fn *render, const void *arg)
{
    tt_buf_t b;
    tt_buf_init(&b, 1 << 20);
    render(&b, S_WIDTH, arg);
    bool same = t->term_width == S_WIDTH;
    s_emit_to(t, same ? S_TO_BOTH : S_TO_FILE, style, tt_buf_str(&b));
    if (!same && !t->quiet) {
        tt_buf_reset(&b);
        render(&b, t->term_width, arg);
        s_emit_to(t, S_TO_TERMINAL, style, tt_buf_str(&b));
    }
    tt_buf_fini(&b);
}

typedef struct {
    size_t indent;
    const char *text;
    int max;
} s_content_arg_t;

static void
s_content_render(tt_buf_t *b, size_t columns, const void *arg)
{
    const s_content_arg_t *a = arg;
    s_render_content(b, columns, a->indent, a->text, a->max);
}

static void
s_content(coord_transcript_t *t, const char *style, size_t indent, const char *text, int max)
{
    s_content_arg_t a = {indent, text, max};
    s_emit_rendered(t, style, s_content_render, &a);
}

static void
s_rule_render(tt_buf_t *b, size_t columns, const void *arg)
{
    s_render_rule(b, columns, arg);
}

void
coord_transcript_header(coord_transcript_t *t, const Tt__SimBegin *b)
{
    char line[512];
    bool offline = !strcmp(b->provider, "offline");
    snprintf(line, sizeof line, "Troupe: %s (%zu agents, seed %llu, %s mode)\n", b->scenario_name,
             b->n_agents, (unsigned long long)b->seed, b->mode);
    s_emit(t, "1", line);
    if (offline)
        snprintf(line, sizeof line,
                 "Model: the offline model (a scripted stand-in, NOT an LLM; set "
                 "OPENAI_API_KEY or OPENAI_BASE_URL for a real one)\n");
    else
        snprintf(line, sizeof line, "Model: %s via %s\n", b->model, b->provider);
    s_emit(t, offline ? "33" : NULL, line);
    s_flush(t);
}

void
coord_transcript_intervention(coord_transcript_t *t, const Tt__Intervention *iv)
{
    char line[512];
    snprintf(line, sizeof line, "!! Intervention <<%s>> triggered at step %u%s%s\n", iv->name,
             iv->step, iv->justification && *iv->justification ? ": " : "",
             iv->justification ? iv->justification : "");
    s_emit(t, "95", line);
}

static void
s_rule(coord_transcript_t *t, uint32_t step, uint32_t total, const char *datetime)
{
    char title[128];
    const char *time = strlen(datetime) > 11 ? datetime + 11 : "";
    if (total) /* a session (total 0) does not know how many steps will come */
        snprintf(title, sizeof title, " World step %u of %u (%.10s %.5s) ", step, total, datetime,
                 time);
    else
        snprintf(title, sizeof title, " Step %u (%.10s %.5s) ", step, datetime, time);
    s_emit_rendered(t, "1", s_rule_render, title);
}

static uint64_t
s_stimulus_hash(const Tt__Stimulus *s)
{
    return tt_fnv1a_str(s->content, tt_fnv1a_str(s->type, 0));
}

static bool
s_is_agent(coord_transcript_t *t, char *const *names, size_t n_names, const char *source)
{
    if (!source || !*source)
        return false;
    if (!t->agent_names) {
        t->agent_names = zhash_new();
        for (size_t i = 0; i < n_names; i++)
            zhash_insert(t->agent_names, names[i], (void *)1);
    }
    return zhash_lookup(t->agent_names, source) != NULL;
}

/* A TALK delivered as a CONVERSATION: its key, source and words. */
static void
s_said_key(const char *source, const char *content, char key[17])
{
    snprintf(key, 17, "%016" PRIx64, tt_fnv1a_str(content, tt_fnv1a_str(source, 0)));
}

/* What agents said this step (parallel mode delivers it next step,
 * sequential mode at once). */
static zhash_t *
s_said_now(const Tt__StepCommit *sc, char *const *names)
{
    zhash_t *said = zhash_new();
    char key[17];
    for (size_t k = 0; k < sc->n_agents; k++)
        for (size_t i = 0; i < sc->agents[k]->n_actions; i++) {
            const Tt__Action *a = sc->agents[k]->actions[i];
            if (!strcmp(a->type, "TALK")) {
                s_said_key(names[sc->agents[k]->agent], a->content, key);
                zhash_insert(said, key, (void *)1);
            }
        }
    return said;
}

/* A CONVERSATION from an agent that is one of its TALKs was shown when it was
 * said; anything else from an agent's name (a scripted event or intervention
 * with "source": "Lisa") was not, and is shown like the world's. */
static bool
s_already_shown(coord_transcript_t *t, zhash_t *said_now, char *const *names, size_t n_names,
                const Tt__Stimulus *s)
{
    if (!s_is_agent(t, names, n_names, s->source) || strcmp(s->type, "CONVERSATION"))
        return false;
    char key[17];
    s_said_key(s->source, s->content, key);
    return zhash_lookup(said_now, key) || (t->said_before && zhash_lookup(t->said_before, key));
}

/* Stimuli from the world and scripted ones (not other agents' TALKs, shown
 * when they were said), each shown once with the agents that got it. */
static void
s_world_stimuli(coord_transcript_t *t, const Tt__StepCommit *sc, zhash_t *said_now,
                char *const *names, size_t n_names, int max)
{
    uint64_t *shown = NULL;
    size_t n_shown = 0;
    for (size_t k = 0; k < sc->n_agents; k++) {
        const Tt__StepInput *in = sc->agents[k]->input;
        for (size_t i = 0; in && i < in->n_stimuli; i++) {
            const Tt__Stimulus *s = in->stimuli[i];
            if (s_already_shown(t, said_now, names, n_names, s))
                continue;
            uint64_t h = s_stimulus_hash(s);
            bool seen = false;
            for (size_t j = 0; j < n_shown && !seen; j++)
                seen = shown[j] == h;
            if (seen)
                continue;
            shown = tt_realloc(shown, (n_shown + 1) * sizeof *shown);
            shown[n_shown++] = h;
            tt_buf_t who;
            tt_buf_init(&who, 1 << 16);
            size_t count = 0;
            for (size_t kk = k; kk < sc->n_agents; kk++) {
                const Tt__StepInput *pin = sc->agents[kk]->input;
                for (size_t ii = 0; pin && ii < pin->n_stimuli; ii++) {
                    if (s_stimulus_hash(pin->stimuli[ii]) != h)
                        continue;
                    if (count < 3)
                        tt_buf_addf(&who, "%s%s", count ? ", " : "", names[sc->agents[kk]->agent]);
                    count++;
                    break;
                }
            }
            if (count > 3)
                tt_buf_addf(&who, " and %zu other%s", count - 3, count - 3 == 1 ? "" : "s");
            const char *src = s->source && *s->source ? s->source : "World";
            char *head = tt_asprintf("%s --> %s: [%s]\n", src, tt_buf_str(&who), s->type);
            s_emit(t, s_stimulus_style(s->type), head);
            s_content(t, s_stimulus_style(s->type), strlen(src) + 5, s->content, max);
            free(head);
            tt_buf_fini(&who);
        }
    }
    free(shown);
}

void
coord_transcript_step(coord_transcript_t *t, const Tt__StepCommit *sc, uint32_t total,
                      char *const *names, size_t n_names, int max)
{
    s_rule(t, sc->step, total, sc->datetime);
    zhash_t *said_now = s_said_now(sc, names);
    s_world_stimuli(t, sc, said_now, names, n_names, max);
    zhash_destroy(&t->said_before);
    t->said_before = said_now;
    for (size_t k = 0; k < sc->n_agents; k++) {
        const Tt__AgentStep *as = sc->agents[k];
        const char *name = names[as->agent];
        if (as->status && strcmp(as->status, "ok")) {
            char *line = tt_asprintf("%s failed this step: [%s] %s\n", name, as->status,
                                     as->error ? as->error : "");
            s_emit(t, "1;31", line);
            free(line);
            continue;
        }
        for (size_t i = 0; i < as->n_actions; i++) {
            const Tt__Action *a = as->actions[i];
            char *head = a->target && *a->target && !strcmp(a->type, "TALK")
                             ? tt_asprintf("%s --> %s: [%s]\n", name, a->target, a->type)
                         : a->target && *a->target
                             ? tt_asprintf("%s acts: [%s] (%s)\n", name, a->type, a->target)
                             : tt_asprintf("%s acts: [%s]\n", name, a->type);
            s_emit(t, s_action_style(a->type), head);
            free(head);
            if (*a->content)
                s_content(t, s_action_style(a->type), strlen(name) + 6, a->content, max);
        }
    }
    s_flush(t);
    if (!t->quiet)
        fflush(stdout);
}

void
coord_transcript_footer(coord_transcript_t *t, const char *text)
{
    s_emit(t, "1", text);
    s_flush(t);
}
