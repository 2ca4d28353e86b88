/*  coord_web -- grounding documents read from the web (see coord_web.h).
 *
 *  libcurl and libxml2 stay in this file: the rest of the coordinator sees an
 *  address, a text, or one sentence saying why there is none.
 */
#define TT_LOG_MODULE "web"
#include "coord_web.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "coord_documents.h"
#include "tt_buf.h"
#include "tt_file.h"
#include "tt_hash.h"
#include "tt_limits.h"
#include "tt_json.h"
#include "tt_log.h"
#include "tt_mem.h"
#include "tt_persona.h"

bool
coord_web_url_ok(const char *url)
{
    size_t n = strlen(url);
    if (n > COORD_WEB_MAX_URL)
        return false;
    size_t scheme = !strncasecmp(url, "http://", 7) ? 7 : !strncasecmp(url, "https://", 8) ? 8 : 0;
    if (!scheme || n == scheme)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
            return false;
    return true;
}

bool
coord_web_needed(const coord_scenario_t *s)
{
    for (size_t i = 0; i < s->n_agents; i++)
        if (json_array_size(s->agents[i].web))
            return true;
    return false;
}

/* ------------------------------------------------------------------ fetching */

static size_t
s_body(char *data, size_t size, size_t n, void *arg)
{
    return tt_buf_add(arg, data, size * n) ? 0 : size * n;
}

/* The page at url into body; *type is its Content-Type (caller frees; NULL
 * when the server gave none). */
static tt_err_t
s_fetch(const char *url, double timeout_s, tt_buf_t *body, char **type, char **why)
{
    *type = NULL;
    CURL *h = curl_easy_init();
    if (!h) {
        *why = tt_strdup("cannot start libcurl");
        return TT_EIO;
    }
    char reason[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "troupe-grounding");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)TT_LIMIT_WEB_PAGE);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, reason);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    char *ctype = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    tt_err_t err = TT_OK;
    if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED) {
        *why = tt_asprintf("the page is larger than %zu MiB", TT_LIMIT_WEB_PAGE / TT_MIB);
        err = TT_EINVAL;
    } else if (rc != CURLE_OK) {
        *why = tt_strdup(*reason ? reason : curl_easy_strerror(rc));
        err = TT_EIO;
    } else if (status < 200 || status > 299) {
        *why = tt_asprintf("HTTP %ld", status);
        err = TT_EIO;
    } else if (ctype) {
        *type = tt_strdup(ctype);
    }
    curl_easy_cleanup(h);
    return err;
}

/* ------------------------------------------------------------------ HTML to text */

static bool
s_named(const xmlNode *n, const char *const *names)
{
    for (; *names; names++)
        if (!strcasecmp((const char *)n->name, *names))
            return true;
    return false;
}

static const char *const s_skipped[] = {"script", "style",  "noscript", "template", "svg",
                                        "iframe", "object", "canvas",   NULL};
static const char *const s_blocks[] = {
    "p",       "div",     "br",      "li",         "tr",         "h1",     "h2",     "h3",
    "h4",      "h5",      "h6",      "pre",        "title",      "table",  "ul",     "ol",
    "dl",      "dt",      "dd",      "section",    "article",    "header", "footer", "nav",
    "aside",   "main",    "figure",  "figcaption", "blockquote", "hr",     "form",   "address",
    "caption", "details", "summary", NULL};

static void
s_newline(tt_buf_t *out)
{
    if (out->len && out->data[out->len - 1] != '\n')
        tt_buf_add(out, "\n", 1);
}

/* Text with runs of white space made one space, none at a line's start. */
static void
s_text(const char *t, bool pre, tt_buf_t *out)
{
    if (pre) {
        tt_buf_adds(out, t);
        return;
    }
    for (; *t; t++) {
        bool space = *t == ' ' || *t == '\t' || *t == '\n' || *t == '\r' || *t == '\f';
        char last = out->len ? out->data[out->len - 1] : '\n';
        if (!space)
            tt_buf_add(out, t, 1);
        else if (last != ' ' && last != '\n')
            tt_buf_add(out, " ", 1);
    }
}

static void
s_walk(const xmlNode *n, bool pre, int depth, tt_buf_t *out)
{
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content)
                s_text((const char *)n->content, pre, out);
        } else if (n->type == XML_ELEMENT_NODE && !s_named(n, s_skipped) && depth < 256) {
            bool block = s_named(n, s_blocks);
            if (block)
                s_newline(out);
            s_walk(n->children, pre || !strcasecmp((const char *)n->name, "pre"), depth + 1, out);
            if (block)
                s_newline(out);
        }
    }
}

/* The charset a Content-Type names ("text/html; charset=utf-8"), or NULL. */
static char *
s_charset(const char *type)
{
    const char *c = type;
    while (c && *c && strncasecmp(c, "charset=", 8))
        c++;
    if (!c || !*c)
        return NULL;
    c += 8;
    c += *c == '"';
    size_t n = strcspn(c, "\"; \t");
    return n ? tt_strndup(c, n) : NULL;
}

static tt_err_t
s_html_text(const char *url, const tt_buf_t *body, const char *type, tt_buf_t *out, char **why)
{
    char *charset = s_charset(type);
    /* undeclared: UTF-8 when it is (libxml2 would guess Latin-1) */
    const char *enc = charset ? charset : tt_utf8_valid(body->data, body->len) ? "UTF-8" : NULL;
    htmlDocPtr doc = htmlReadMemory(body->data ? body->data : "", (int)body->len, url, enc,
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                        HTML_PARSE_NONET);
    free(charset);
    if (!doc) {
        *why = tt_strdup("not a web page libxml2 can read");
        return TT_EINVAL;
    }
    s_walk(xmlDocGetRootElement(doc), false, 0, out);
    xmlFreeDoc(doc);
    return TT_OK;
}

/* Lines without trailing blanks, at most one empty line in a row. */
static char *
s_tidy(const char *text, size_t *len)
{
    tt_buf_t b;
    tt_buf_init(&b, 0);
    int empty = 1;
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        size_t k = n;
        while (k && (line[k - 1] == ' ' || line[k - 1] == '\t'))
            k--;
        if (k || !empty) {
            tt_buf_add(&b, line, k);
            tt_buf_add(&b, "\n", 1);
        }
        empty = k ? 0 : 1;
        line += n + (line[n] == '\n');
    }
    while (b.len > 1 && b.data[b.len - 1] == '\n' && b.data[b.len - 2] == '\n')
        b.len--;
    if (b.data)
        b.data[b.len] = '\0';
    *len = b.len;
    return tt_buf_take(&b);
}

static bool
s_is_html(const char *type)
{
    return !strncasecmp(type, "text/html", 9) || !strncasecmp(type, "application/xhtml", 17);
}

static bool
s_is_text(const char *type)
{
    return !strncasecmp(type, "text/", 5) || !strncasecmp(type, "application/json", 16) ||
           !strncasecmp(type, "application/xml", 15);
}

/* The text of the page at url, fetched now. */
static tt_err_t
s_download(const char *url, double timeout_s, char **text, size_t *len, char **why)
{
    tt_buf_t body, out;
    tt_buf_init(&body, TT_LIMIT_WEB_PAGE);
    tt_buf_init(&out, TT_LIMIT_WEB_PAGE);
    char *type = NULL;
    tt_err_t err = s_fetch(url, timeout_s, &body, &type, why);
    if (!err && (!type || s_is_html(type)))
        err = s_html_text(url, &body, type, &out, why);
    else if (!err && s_is_text(type))
        err = tt_buf_add(&out, body.data ? body.data : "", body.len);
    else if (!err) {
        *why = tt_asprintf("it is %s, not a web page or text", type);
        err = TT_EINVAL;
    }
    if (!err && !tt_utf8_valid(tt_buf_str(&out), out.len)) {
        *why = tt_strdup("its text is not valid UTF-8");
        err = TT_EINVAL;
    }
    if (!err)
        *text = s_tidy(tt_buf_str(&out), len);
    free(type);
    tt_buf_fini(&body);
    tt_buf_fini(&out);
    return err;
}

/* ------------------------------------------------------------------ pages kept */

static char *
s_page_file(const char *dir, const char *url)
{
    uint8_t digest[TT_SHA256_LEN];
    char hex[2 * TT_SHA256_LEN + 1];
    tt_sha256(url, strlen(url), digest);
    tt_hex(digest, 16, hex);
    return tt_asprintf("%s/%s.txt", dir, hex);
}

/* A page's text as kept at file (ENOTFOUND when it is not there). */
static tt_err_t
s_kept(const char *file, char **text, size_t *len, char **why)
{
    tt_buf_t b;
    tt_buf_init(&b, TT_LIMIT_WEB_PAGE);
    tt_err_t err = tt_read_file(file, &b, why);
    if (!err && !tt_utf8_valid(tt_buf_str(&b), b.len)) {
        *why = tt_strdup("not valid UTF-8 text");
        err = TT_EINVAL;
    }
    if (!err) {
        *len = b.len;
        *text = tt_buf_take(&b);
    }
    tt_buf_fini(&b);
    return err;
}

static tt_err_t
s_page(const char *url, const char *dir, const char *replay_dir, double timeout_s, char **text,
       size_t *len, char **why)
{
    char *file = s_page_file(dir, url);
    char *what = NULL;
    tt_err_t err = s_kept(file, text, len, &what);
    const char *from = "kept";
    if (err == TT_ENOTFOUND && replay_dir) {
        free(what);
        what = NULL;
        char *rdir = tt_asprintf("%s/web", replay_dir);
        char *rfile = s_page_file(rdir, url);
        err = s_kept(rfile, text, len, &what);
        from = "replayed";
        if (err && err != TT_ENOTFOUND) {
            *why = tt_asprintf("%s: %s", rfile, what);
            free(what);
            what = NULL;
        }
        free(rfile);
        free(rdir);
        if (!err && tt_write_file(file, *text, *len, 0600)) {
            *why = tt_asprintf("cannot write %s: %s", file, strerror(errno));
            err = TT_EIO;
        }
    } else if (err && err != TT_ENOTFOUND) {
        *why = tt_asprintf("%s: %s", file, what);
    }
    if (err == TT_ENOTFOUND) {
        free(what);
        what = NULL;
        from = "fetched";
        err = s_download(url, timeout_s, text, len, &what);
        if (err)
            *why = tt_asprintf("web page %s: %s", url, what);
        else if (tt_write_file(file, *text, *len, 0600)) {
            *why = tt_asprintf("cannot write %s: %s", file, strerror(errno));
            err = TT_EIO;
        }
    }
    if (!err)
        TT_LOG_INFO("web page %s: %zu bytes of text (%s)", url, *len, from);
    else if (*text) {
        free(*text);
        *text = NULL;
    }
    free(what);
    free(file);
    return err;
}

static size_t
s_documents_size(const json_t *docs)
{
    size_t total = 0, i;
    json_t *d;
    json_array_foreach(docs, i, d)
    {
        total += json_string_length(json_object_get(d, "text"));
    }
    return total;
}

/* With its pages an agent must still fit what carries it (tt_limits.h), as
 * the loader checked without them. */
static tt_err_t
s_check_sizes(const coord_scenario_t *s, char **why)
{
    size_t begin = 0;
    for (size_t i = 0; i < s->n_agents; i++) {
        const coord_agent_spec_t *a = &s->agents[i];
        const char *name = tt_persona_name(a->persona);
        size_t payload = coord_scenario_agent_payload(a);
        begin += payload;
        if (s_documents_size(a->documents) > TT_LIMIT_DOCUMENTS) {
            *why = tt_asprintf("%s: documents and web pages more than %zu MiB of text "
                               "(TT_LIMIT_DOCUMENTS)",
                               name, TT_LIMIT_DOCUMENTS / TT_MIB);
            return TT_EINVAL;
        }
        if (payload > TT_LIMIT_AGENT_PAYLOAD) {
            *why = tt_asprintf("%s: with its web pages its persona and documents are %zu bytes, "
                               "more than %zu (TT_LIMIT_AGENT_PAYLOAD, one wire frame)",
                               name, payload, TT_LIMIT_AGENT_PAYLOAD);
            return TT_EINVAL;
        }
    }
    if (begin > TT_LIMIT_BEGIN_AGENTS) {
        *why = tt_asprintf("with their web pages the agents' personas and documents are %zu "
                           "bytes, more than the %zu MiB the log's first record may hold "
                           "(TT_LIMIT_BEGIN_AGENTS); give fewer agents the pages",
                           begin, TT_LIMIT_BEGIN_AGENTS / TT_MIB);
        return TT_EINVAL;
    }
    return TT_OK;
}

tt_err_t
coord_web_ground(coord_scenario_t *s, const char *out_dir, const char *replay_dir, double timeout_s,
                 char **why)
{
    *why = NULL;
    char *dir = tt_asprintf("%s/web", out_dir);
    if (tt_mkdirs(dir, 0700)) {
        *why = tt_asprintf("cannot create %s: %s", dir, strerror(errno));
        free(dir);
        return TT_EIO;
    }
    json_t *pages = json_object(); /* address -> text: a page many agents read is read once */
    tt_err_t err = TT_OK;
    for (size_t i = 0; !err && i < s->n_agents; i++) {
        coord_agent_spec_t *a = &s->agents[i];
        size_t k;
        json_t *u;
        json_array_foreach(a->web, k, u)
        {
            const char *url = json_string_value(u);
            json_t *text = json_object_get(pages, url);
            if (!text) {
                char *t = NULL;
                size_t n = 0;
                if ((err = s_page(url, dir, replay_dir, timeout_s, &t, &n, why)) != TT_OK)
                    break;
                text = json_stringn_nocheck(t, n);
                json_object_set_new(pages, url, text);
                free(t);
            }
            coord_documents_add_text(url, json_string_value(text), json_string_length(text),
                                     a->documents);
        }
    }
    if (!err)
        err = s_check_sizes(s, why);
    json_decref(pages);
    free(dir);
    return err;
}
