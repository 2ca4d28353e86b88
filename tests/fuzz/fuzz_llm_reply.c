/*  fuzz_llm_reply -- what an LLM server sends back, as the client reads it.
 *
 *  Input: an optional first line "STATUS KIND" (e.g. "200 chat", "429 chat",
 *  "200 embed 3"), then the HTTP response body. Without a readable first line
 *  the whole input is the body of a 200 answer to a chat request. The body goes
 *  through tt_llm_reply_parse (the body half of tt_llm_reply_judge: the answer
 *  of a 2xx, the verdict and quoted message of an error status); a chat answer
 *  is then accepted as the worker accepts it, structured with the turn schema
 *  and tt_turn_validate (repair, schema check, validation). A verdict must be
 *  consistent: OK carries content or vectors, RETRY and FAIL carry a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tt_buf.h"
#include "tt_json.h"
#include "tt_llm_impl.h"
#include "tt_turn.h"

#define S_MAX_TEXTS 8

static tt_llm_conf_t s_conf;
static tt_turn_rules_t s_rules;
static json_t *s_schema;

static void
s_broken(const char *what)
{
    fprintf(stderr, "fuzz_llm_reply: %s\n", what);
    abort();
}

/* "STATUS [chat|embed [N]]"; defaults 200, chat, 1 text. */
static void
s_header(const char *line, long *status, tt_llm_kind_t *kind, unsigned *n_texts)
{
    *status = 200;
    *kind = TT_LLM_CHAT;
    *n_texts = 1;
    if (!line)
        return;
    char *end;
    long s = strtol(line, &end, 10);
    if (end != line && s >= 0 && s <= 999)
        *status = s;
    while (*end == ' ')
        end++;
    if (!strncmp(end, "embed", 5)) {
        *kind = TT_LLM_EMBED;
        long n = strtol(end + 5, NULL, 10);
        *n_texts = n >= 1 && n <= S_MAX_TEXTS ? (unsigned)n : 1;
    }
}

static tt_llm_request_t *
s_request(tt_llm_kind_t kind, unsigned n_texts)
{
    if (kind == TT_LLM_EMBED) {
        json_t *texts = json_array();
        for (unsigned i = 0; i < n_texts; i++)
            json_array_append_new(texts, json_string("a memory to embed"));
        tt_llm_request_t *req = tt_llm_request_embed("embedding", texts);
        json_decref(texts);
        return req;
    }
    json_t *messages = json_pack("[{s:s, s:s}]", "role", "user", "content", "act");
    tt_llm_request_t *req = tt_llm_request_chat("turn", messages, "turn", s_schema);
    tt_llm_request_set_validator(req, tt_turn_validate, &s_rules);
    json_decref(messages);
    return req;
}

static void
s_check(const tt_llm_reply_t *r, tt_llm_kind_t kind, unsigned n_texts)
{
    if (r->kind == TT_LLM_REPLY_OK) {
        if (r->text)
            s_broken("an OK verdict with an error text");
        if (kind == TT_LLM_CHAT && !r->content)
            s_broken("an OK chat verdict without content");
        if (kind == TT_LLM_EMBED &&
            (!r->vectors || r->n_vectors != n_texts || !r->dim || r->dim > TT_LLM_MAX_EMBED_DIM))
            s_broken("an OK embed verdict without one vector per text");
    } else if (r->kind == TT_LLM_REPLY_RETRY || r->kind == TT_LLM_REPLY_FAIL) {
        if (!r->text || !r->err || r->content || r->vectors)
            s_broken("a RETRY/FAIL verdict without a reason, or with an answer");
        /* it becomes a log line and, through Actions.error, a wire string */
        if (strchr(r->text, '\n'))
            s_broken("an error text on more than one line");
        if (!tt_utf8_valid(r->text, strlen(r->text)))
            s_broken("an error text that is not UTF-8");
    } else {
        s_broken("an unknown verdict");
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    s_conf.provider = tt_llm_provider_find("openai", NULL);
    s_conf.model = "gpt-fuzz";
    s_conf.embedding_model = "text-embedding-fuzz";
    s_conf.timeout_s = 60;
    s_conf.max_attempts = 3;
    s_conf.response_cap = (size_t)4 << 20;
    s_conf.action_max_attempts = 2;
    tt_turn_rules_init(&s_rules);
    tt_turn_rules_add(&s_rules, "RECALL");
    s_schema = tt_turn_schema(&s_rules);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header;
    const uint8_t *body_bytes;
    size_t body_len;
    fuzz_split_line(data, size, 32, &header, &body_bytes, &body_len);
    long status;
    tt_llm_kind_t kind;
    unsigned n_texts;
    s_header(header, &status, &kind, &n_texts);
    free(header);

    tt_buf_t body;
    tt_buf_init(&body, s_conf.response_cap);
    if (tt_buf_add(&body, body_bytes, body_len) != TT_OK) {
        tt_buf_fini(&body);
        return 0;
    }
    tt_llm_request_t *req = s_request(kind, n_texts);
    tt_llm_reply_t reply;
    tt_llm_reply_parse(&s_conf, req, status, &body, "https://api.example.test/v1/chat/completions",
                       &reply);
    s_check(&reply, kind, n_texts);
    if (reply.kind == TT_LLM_REPLY_OK && kind == TT_LLM_CHAT) {
        json_t *parsed = NULL;
        char *why = NULL;
        tt_err_t err = tt_llm_accept_chat(req, reply.content, &parsed, &why);
        if (err == TT_OK && !parsed)
            s_broken("an accepted structured answer without a parsed value");
        if (err != TT_OK && !why)
            s_broken("a rejected answer without a reason");
        if (err != TT_OK) {
            /* what the worker sends back to the model on a re-ask */
            json_t *conversation = json_array();
            tt_llm_reask_append(conversation, reply.content, why);
            json_decref(conversation);
        }
        json_decref(parsed);
        free(why);
    }
    tt_llm_reply_fini(&reply);
    tt_llm_request_destroy(&req);
    tt_buf_fini(&body);
    return 0;
}
