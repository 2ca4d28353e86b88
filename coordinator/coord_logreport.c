/*  coord_logreport -- `coordinator log report LOG... --html OUT`.
 *
 *  Each log becomes the report's data (coord_report_data), with the results
 *  of extraction.json beside it (coord_report_results); with more logs, the
 *  first is the page and the others are summaries compared with it, their
 *  divergence in the words of `log diff` (coord_logcmd_diff: one logic, its
 *  text captured). Logs are read through coord_logcmd's helpers, so errors
 *  read as in every log command; only OUT is written (coord_report_save).
 */
#define TT_LOG_MODULE "logcmd"
#include "coord_logreport.h"

#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "coord_logcmd.h"
#include "coord_report.h"
#include "coord_report_data.h"
#include "coord_report_results.h"
#include "tt_mem.h"

#define S_EXIT_FAILED 1
#define S_EXIT_USAGE  2

/* Would writing path overwrite the log? (the same file under another name) */
static bool
s_same_file(const char *log, const char *path)
{
    struct stat a, b;
    return stat(log, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

/* The report's data for one log (caller owns it), or NULL when unreadable. */
static json_t *
s_report_data(const char *path, FILE *err)
{
    tt_tlog_t *log = NULL;
    int rc = coord_logcmd_open(path, &log, err);
    coord_report_data_t *data = coord_report_data_new();
    for (uint64_t i = 0; !rc && i < tt_tlog_count(log); i++) {
        tt_tlog_entry_t e;
        if ((rc = coord_logcmd_read(log, i, &e, err)) == 0)
            coord_report_data_add(data, &e);
        tt_tlog_entry_fini(&e);
    }
    json_t *facts = rc ? NULL : coord_report_data_json(data, log);
    coord_report_data_destroy(&data);
    tt_tlog_close(&log);
    return facts;
}

/* Results beside the log (or --extraction, for the first log) into facts. */
static int
s_report_results(json_t *facts, const char *log, const char *given, FILE *err)
{
    char *path = given ? tt_strdup(given) : coord_report_results_beside(log), *msg = NULL;
    int rc = 0;
    if (path && coord_report_results_attach(facts, path, &msg) != TT_OK) {
        fprintf(err, "coordinator log report: %s\n", msg);
        rc = S_EXIT_USAGE;
    }
    free(msg);
    free(path);
    return rc;
}

/* `log diff` A B, its words kept for the page: the one divergence logic. */
static char *
s_divergence(const char *a, const char *b, bool *identical, FILE *err)
{
    char *words = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&words, &len);
    TT_ASSERT(out != NULL);
    *identical = coord_logcmd_diff(a, b, out, err) == 0;
    fclose(out);
    return words;
}

/* The first log's data, with "compare" when there are more logs. */
static json_t *
s_runs(const char *const *logs, int n, const char *extraction, FILE *err)
{
    json_t *first = s_report_data(logs[0], err);
    if (!first || s_report_results(first, logs[0], extraction, err) != 0) {
        json_decref(first);
        return NULL;
    }
    if (n < 2)
        return first;
    json_t *runs = json_array();
    json_array_append_new(runs, coord_report_results_summary(first, NULL, true));
    for (int i = 1; i < n; i++) {
        json_t *other = s_report_data(logs[i], err);
        if (!other || s_report_results(other, logs[i], NULL, err) != 0) {
            json_decref(other);
            json_decref(runs);
            json_decref(first);
            return NULL;
        }
        bool same = false;
        char *words = s_divergence(logs[0], logs[i], &same, err);
        json_array_append_new(runs, coord_report_results_summary(other, words, same));
        free(words);
        json_decref(other);
    }
    json_object_set_new(first, "compare", runs);
    return first;
}

int
coord_logreport_run(const char *const *logs, int n, const char *html, const char *extraction,
                    FILE *err)
{
    for (int i = 0; i < n; i++) {
        if (s_same_file(logs[i], html)) {
            fprintf(err, "coordinator log report: %s is a log; not overwriting it\n", html);
            return S_EXIT_USAGE;
        }
    }
    json_t *facts = s_runs(logs, n, extraction, err);
    if (!facts)
        return S_EXIT_USAGE;
    char *msg = NULL;
    int rc = 0;
    if (coord_report_save(facts, html, &msg) != TT_OK) {
        fprintf(err, "coordinator log report: %s\n", msg);
        rc = S_EXIT_FAILED;
    }
    free(msg);
    json_decref(facts);
    return rc;
}
