/*  fuzz_json -- a JSON document a loader reads, and the locator that points
 *  into it for error messages.
 *
 *  Input: an optional first line holding a locator path ("agents[2].count"),
 *  then the document. The text is handed over as exactly its bytes (no NUL
 *  after it), because tt_jdoc_load_text and tt_json_locate take a length and
 *  must not read past it. tt_json_locate runs on the raw text whether or not it
 *  parses ("it trusts nothing"); on a document that loads, tt_jdoc_errorf runs
 *  at the given path and at a few fixed ones, tt_json_at runs over the result,
 *  and the hand-written canonical and compact dumps must give jansson's bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tt_json.h"

static const char *s_paths[] = {"", "agents[0]", "world.step", "a.b[3].c", "[1]", "x[99999999999]"};

static void
s_locate(const char *text, size_t len, const char *path)
{
    int line = 0, col = 0;
    tt_json_locate(text, len, path, &line, &col);
    if (line < 1 || col < 1 || (size_t)line > len + 1 || (size_t)col > len + 1) {
        fprintf(stderr, "fuzz_json: tt_json_locate(\"%s\") gave %d:%d in %zu bytes\n", path, line,
                col, len);
        abort();
    }
}

/* Both texts must exist and be equal; frees both. */
static void
s_same(const char *what, char *ours, char *jansson)
{
    if (!ours || !jansson || strcmp(ours, jansson)) {
        fprintf(stderr, "fuzz_json: %s differs from json_dumps\nours:    %s\njansson: %s\n", what,
                ours ? ours : "(null)", jansson ? jansson : "(null)");
        abort();
    }
    free(ours);
    free(jansson);
}

static void
s_loaded(tt_jdoc_t *doc, const char *path)
{
    for (size_t i = 0; i < sizeof s_paths / sizeof s_paths[0]; i++)
        free(tt_jdoc_errorf(doc, s_paths[i], "fixed path %zu", i));
    if (path) {
        free(tt_jdoc_errorf(doc, path, "%s", "given path"));
        (void)tt_json_at(tt_jdoc_root(doc), path);
        (void)tt_json_get_path(tt_jdoc_root(doc), path);
    }
    /* tt_json.c writes these by hand and promises jansson's bytes */
    const json_t *root = tt_jdoc_root(doc);
    size_t flags = JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17);
    s_same("tt_json_canonical", tt_json_canonical(root), json_dumps(root, flags | JSON_SORT_KEYS));
    s_same("tt_json_compact", tt_json_compact(root), json_dumps(root, flags));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path;
    const uint8_t *rest;
    size_t len;
    fuzz_split_line(data, size, 256, &path, &rest, &len);
    char *text = malloc(len ? len : 1);
    if (len)
        memcpy(text, rest, len);

    for (size_t i = 0; i < sizeof s_paths / sizeof s_paths[0]; i++)
        s_locate(text, len, s_paths[i]);
    if (path)
        s_locate(text, len, path);

    tt_jdoc_t *doc = NULL;
    char *errmsg = NULL;
    if (tt_jdoc_load_text("fuzz.json", text, len, &doc, &errmsg) == TT_OK) {
        s_loaded(doc, path);
        tt_jdoc_destroy(&doc);
    } else if (!errmsg || strncmp(errmsg, "fuzz.json:", 10)) {
        fprintf(stderr, "fuzz_json: a refused document without a file:line:col message\n");
        abort();
    }
    free(errmsg);
    free(text);
    free(path);
    return 0;
}
