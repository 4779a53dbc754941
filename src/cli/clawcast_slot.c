/*
 * clawcast_slot — the `agentcast clawcast` commands of one booked slot: book (bookSlot, the JWT
 * saved in the 0600 slot file, never printed), frame (publishFrame), batch (publishBatch), end
 * (endSlot, the file removed) and poll-results (pollResults). Everything is validated before it
 * is sent (clawcast/validate.h): a refused value exits 2 with the field and the rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/clawcast_cmds.h"
#include "cli/clawcast_common.h"
#include "clawcast/api.h"
#include "clawcast/state.h"
#include "clawcast/validate.h"
#include "core/parse.h"

/* ---- book -------------------------------------------------------------------------------- */

static void usage_book(FILE *f)
{
    fputs("usage: agentcast clawcast book --name NAME --url URL [--minutes 1..3]\n"
          "                               [--slides FILE.json] [--api-key-file FILE]\n"
          "\n"
          "Books a ClawCast.tv slot (bookSlot). Position 0 means live now; otherwise the slot\n"
          "is queued. --slides: a JSON array of slides (or {\"slides\": [...]}) that auto-play\n"
          "when the slot starts; without it, push frames with `agentcast clawcast frame`.\n"
          "The slot JWT is kept in the --state file (0600) for the other commands; it is never\n"
          "printed. A claimed name needs its API key: --api-key-file FILE (0600), or the\n"
          "environment variable " CLAWCAST_ENV_API_KEY " — never a command-line argument.\n\n",
          f);
    clawcast_cli_global_usage(f);
}

/* A slides file: an array, or {"slides": [...]}. Takes ownership of j. */
static cJSON *take_slides(cJSON *j)
{
    if (cJSON_IsObject(j)) {
        cJSON *s = cJSON_DetachItemFromObjectCaseSensitive(j, "slides");
        cJSON_Delete(j);
        return s;
    }
    return j;
}

static void print_booking(struct clawcast_cli *cli, const struct clawcast_booking *b,
                          const char *name)
{
    if (cli->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON *timing = cJSON_Parse(b->timing_json);
        if (o) {
            cJSON_AddStringToObject(o, "streamer_name", name);
            cJSON_AddNumberToObject(o, "position_in_queue", (double)b->position_in_queue);
            cJSON_AddBoolToObject(o, "live", b->position_in_queue == 0);
            if (timing)
                cJSON_AddItemToObject(o, "timing", timing);
            else
                cJSON_AddNullToObject(o, "timing");
            clawcast_cli_print_json(o);
        }
        cJSON_Delete(o);
        return;
    }
    if (b->position_in_queue == 0)
        printf("booked: %s is live now (position 0)\n", name);
    else
        printf("booked: %s is queued at position %lld\n", name, (long long)b->position_in_queue);
    printf("timing: %s\n", b->timing_json);
}

static int book_send(struct clawcast_cli *cli, const struct clawcast_book_req *req, const char *key)
{
    char *body = NULL, err[512];
    if (clawcast_body_book_slot(req, &body, err, sizeof(err)) < 0) {
        clawcast_cli_error(cli, "%s", err);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    int code = clawcast_cli_open(cli);
    struct clawcast_cli_response resp = {0};
    if (code == 0) {
        struct clawcast_call_options co = {.json_body = body, .api_key = key[0] ? key : NULL};
        code = clawcast_cli_call(cli, CLAWCAST_EP_BOOK_SLOT, &co, &resp);
    }
    clawcast_body_free(body);
    if (code)
        return code;
    struct clawcast_booking *b = calloc(1, sizeof(*b));
    cli->slot = clawcast_state_new();
    if (!b || !cli->slot) {
        clawcast_cli_error(cli, "out of memory");
        code = CLAWCAST_CLI_EXIT_FAIL;
    } else if (clawcast_parse_booking(resp.body, resp.len, b, err, sizeof(err)) < 0 ||
               clawcast_state_from_booking(cli->slot, b, req->streamer_name, req->duration_minutes,
                                           (int64_t)time(NULL), err, sizeof(err)) < 0) {
        clawcast_cli_error(cli, "%s", err);
        code = CLAWCAST_CLI_EXIT_FAIL;
    } else if (clawcast_state_save(cli->state_path, cli->slot, err, sizeof(err)) < 0) {
        clawcast_cli_error(cli, "booked, but the slot JWT could not be saved: %s", err);
        code = CLAWCAST_CLI_EXIT_FAIL;
    } else {
        print_booking(cli, b, req->streamer_name);
    }
    clawcast_cli_response_clear(&resp);
    if (b) {
        clawcast_booking_clear(b);
        free(b);
    }
    return code;
}

/* An earlier booking whose JWT still works is replaced: say so. */
static void warn_replacing(struct clawcast_cli *cli)
{
    struct clawcast_slot_state *old = clawcast_state_new();
    if (old && clawcast_state_load(cli->state_path, old, NULL, 0) == 0 &&
        clawcast_state_check_usable(old, (int64_t)time(NULL), NULL, 0) == 0)
        clawcast_cli_error(cli,
                           "note: replacing the slot file of an earlier booking by %s "
                           "(end it first with `agentcast clawcast end` to release it)",
                           old->streamer_name);
    clawcast_state_free(old);
}

int clawcast_cmd_book(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast book");
    const char *name = NULL, *url = NULL, *minutes = "1", *slides_path = NULL, *key_file = NULL;
    const struct clawcast_cli_opt opts[] = {{"name", &name, NULL},
                                            {"url", &url, NULL},
                                            {"minutes", &minutes, NULL},
                                            {"slides", &slides_path, NULL},
                                            {"api-key-file", &key_file, NULL},
                                            {NULL, NULL, NULL}};
    int first, rc = clawcast_cli_parse(&cli, argc, argv, opts, usage_book, &first);
    if (rc != CLAWCAST_CLI_OPT_RUN)
        return rc;
    char err[512], key[CLAWCAST_API_KEY_MAX + 1];
    long m = 0;
    if (first < argc) {
        clawcast_cli_error(&cli, "unexpected argument \"%s\" (see --help)", argv[first]);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    if (!name || !url) {
        clawcast_cli_error(&cli, "--name and --url are required (see --help)");
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    if (parse_int(minutes, 1, 3, &m, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "--minutes: duration_minutes must be 1, 2 or 3 (%s)", err);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    cJSON *slides = NULL;
    if (slides_path) {
        rc = clawcast_cli_read_json(&cli, slides_path, &slides);
        if (rc)
            return rc;
        slides = take_slides(slides);
    }
    rc = clawcast_cli_read_api_key(&cli, key_file, key);
    if (rc == 0) {
        warn_replacing(&cli);
        struct clawcast_book_req req = {.streamer_name = name,
                                        .streamer_url = url,
                                        .duration_minutes = (int)m,
                                        .slides = slides};
        if (slides_path && !slides) {
            clawcast_cli_error(&cli, "%s: expected an array of slides or {\"slides\": [...]}",
                               slides_path);
            rc = CLAWCAST_CLI_EXIT_USAGE;
        } else {
            rc = book_send(&cli, &req, key);
        }
    }
    explicit_bzero(key, sizeof(key));
    cJSON_Delete(slides);
    clawcast_cli_finish(&cli);
    return rc;
}

/* ---- frame ------------------------------------------------------------------------------- */

static void usage_frame(FILE *f)
{
    fputs("usage: agentcast clawcast frame [--type terminal|text|data|image|poll|build]\n"
          "                                [--delta] [--json FILE|-] [TEXT]\n"
          "\n"
          "Pushes one frame to the booked slot (publishFrame; the slot must be live).\n"
          "TEXT is the screen of a terminal frame (a newline is added when missing) or the\n"
          "body of a text frame. --json FILE (\"-\": stdin) is the frame's content object, e.g.\n"
          "{\"rows\": [{\"label\": \"Score\", \"value\": \"99\"}]} with --type data, or a whole\n"
          "frame {\"type\": …, \"content\": …}. --delta appends to the terminal screen instead\n"
          "of replacing it. A poll frame prints its poll_id when ClawCast returns one.\n\n",
          f);
    clawcast_cli_global_usage(f);
}

/* Builds the publishFrame body object from the options. 0 or exit code. */
static int frame_object(struct clawcast_cli *cli, const char *type, bool type_given, bool delta,
                        const char *json_path, const char *text, cJSON **out)
{
    enum clawcast_content_type t;
    char err[256];
    *out = NULL;
    if (clawcast_content_type_parse(type, &t, err, sizeof(err)) < 0) {
        clawcast_cli_error(cli, "--type: %s", err);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    if (!!json_path == !!text) {
        clawcast_cli_error(cli, "give either TEXT or --json FILE (see --help)");
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    cJSON *content = NULL;
    if (json_path) {
        int rc = clawcast_cli_read_json(cli, json_path, &content);
        if (rc)
            return rc;
        if (cJSON_IsObject(content) && cJSON_HasObjectItem(content, "content")) {
            if (type_given || delta) /* a whole frame: it says its type and delta itself */
                clawcast_cli_error(cli, "note: --type/--delta are ignored: %s is a whole frame",
                                   json_path);
            *out = content;
            return 0;
        }
    } else if (t == CLAWCAST_TERMINAL || t == CLAWCAST_TEXT) {
        size_t n = strlen(text);
        char *s = malloc(n + 2);
        if (!s)
            return CLAWCAST_CLI_EXIT_FAIL;
        memcpy(s, text, n + 1);
        if (t == CLAWCAST_TERMINAL && (n == 0 || s[n - 1] != '\n'))
            memcpy(s + n, "\n", 2);
        content = cJSON_CreateObject();
        if (content)
            cJSON_AddStringToObject(content, t == CLAWCAST_TERMINAL ? "screen" : "body", s);
        free(s);
    } else {
        clawcast_cli_error(cli, "TEXT is for --type terminal or text; a %s frame needs --json",
                           type);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    cJSON *frame = cJSON_CreateObject();
    if (!frame || !content || !cJSON_AddStringToObject(frame, "type", type) ||
        !cJSON_AddItemToObject(frame, "content", content)) {
        cJSON_Delete(frame);
        cJSON_Delete(content);
        return CLAWCAST_CLI_EXIT_FAIL;
    }
    if (delta)
        cJSON_AddTrueToObject(frame, "delta");
    *out = frame;
    return 0;
}

int clawcast_cmd_frame(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast frame");
    const char *type = NULL, *json_path = NULL;
    bool delta = false;
    const struct clawcast_cli_opt opts[] = {{"type", &type, NULL},
                                            {"json", &json_path, NULL},
                                            {"delta", NULL, &delta},
                                            {NULL, NULL, NULL}};
    int first, rc = clawcast_cli_parse(&cli, argc, argv, opts, usage_frame, &first);
    if (rc != CLAWCAST_CLI_OPT_RUN)
        return rc;
    if (argc - first > 1) {
        clawcast_cli_error(&cli, "one TEXT argument at most (quote it)");
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    cJSON *frame = NULL;
    rc = frame_object(&cli, type ? type : "terminal", type != NULL, delta, json_path,
                      first < argc ? argv[first] : NULL, &frame);
    char *body = NULL, err[512];
    if (rc == 0 && clawcast_body_frame(frame, &body, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        rc = CLAWCAST_CLI_EXIT_USAGE;
    }
    cJSON_Delete(frame);
    if (rc == 0)
        rc = clawcast_cli_open(&cli);
    if (rc == 0)
        rc = clawcast_cli_load_slot(&cli);
    struct clawcast_cli_response resp = {0};
    if (rc == 0) {
        struct clawcast_call_options co = {.json_body = body, .slot = cli.slot};
        rc = clawcast_cli_call(&cli, CLAWCAST_EP_PUBLISH_FRAME, &co, &resp);
    }
    if (rc == 0) {
        cJSON *r = cJSON_ParseWithLength(resp.body, resp.len);
        const cJSON *pid = cJSON_GetObjectItemCaseSensitive(r, "poll_id");
        if (cli.json && r)
            clawcast_cli_print_json(r);
        else if (cJSON_IsString(pid))
            printf("poll_id: %s\n", pid->valuestring);
        else if (!cli.json)
            printf("frame sent\n");
        cJSON_Delete(r);
    }
    clawcast_cli_response_clear(&resp);
    clawcast_body_free(body);
    clawcast_cli_finish(&cli);
    return rc;
}

/* ---- batch ------------------------------------------------------------------------------- */

static void usage_batch(FILE *f)
{
    fputs("usage: agentcast clawcast batch FILE.json\n"
          "\n"
          "Publishes slides to the booked slot (publishBatch): FILE is an array of at most 10\n"
          "slides, or {\"slides\": [...]} (\"-\": stdin). One batch per slot; the slot shortens\n"
          "to the slides' total duration.\n\n",
          f);
    clawcast_cli_global_usage(f);
}

int clawcast_cmd_batch(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast batch");
    int first, rc = clawcast_cli_parse(&cli, argc, argv, NULL, usage_batch, &first);
    if (rc != CLAWCAST_CLI_OPT_RUN)
        return rc;
    if (argc - first != 1) {
        clawcast_cli_error(&cli, "one FILE.json is needed (see --help)");
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    cJSON *slides = NULL;
    char *body = NULL, err[512];
    rc = clawcast_cli_read_json(&cli, argv[first], &slides);
    slides = take_slides(slides);
    if (rc == 0 && clawcast_body_batch(slides, &body, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        rc = CLAWCAST_CLI_EXIT_USAGE;
    }
    long total = rc == 0 ? clawcast_slides_total_seconds(slides) : -1;
    int n = cJSON_GetArraySize(slides);
    cJSON_Delete(slides);
    if (rc == 0)
        rc = clawcast_cli_open(&cli);
    if (rc == 0)
        rc = clawcast_cli_load_slot(&cli);
    if (rc == 0 && clawcast_state_check_batch(cli.slot, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        rc = CLAWCAST_CLI_EXIT_REFUSED;
    }
    struct clawcast_cli_response resp = {0};
    if (rc == 0) {
        struct clawcast_call_options co = {.json_body = body, .slot = cli.slot};
        rc = clawcast_cli_call(&cli, CLAWCAST_EP_PUBLISH_BATCH, &co, &resp);
        /* Published now, or refused as the slot's second batch: either way it has had one. */
        if (rc == 0 || resp.status == 409) {
            cli.slot->batch_published = true;
            if (clawcast_state_save(cli.state_path, cli.slot, err, sizeof(err)) < 0)
                clawcast_cli_error(&cli, "%s", err);
        }
    }
    if (rc == 0 && cli.json) {
        cJSON *r = cJSON_ParseWithLength(resp.body, resp.len);
        if (r)
            clawcast_cli_print_json(r);
        cJSON_Delete(r);
    } else if (rc == 0) {
        printf("batch published: %d slides, %ld s\n", n, total);
    }
    clawcast_cli_response_clear(&resp);
    clawcast_body_free(body);
    clawcast_cli_finish(&cli);
    return rc;
}

/* ---- end --------------------------------------------------------------------------------- */

static void usage_end(FILE *f)
{
    fputs("usage: agentcast clawcast end\n"
          "\n"
          "Ends the booked slot early (endSlot) and removes the slot file. A slot that is over\n"
          "already (ended, or its JWT expired) just loses its file.\n\n",
          f);
    clawcast_cli_global_usage(f);
}

int clawcast_cmd_end(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast end");
    int first, rc = clawcast_cli_parse(&cli, argc, argv, NULL, usage_end, &first);
    if (rc != CLAWCAST_CLI_OPT_RUN)
        return rc;
    if (first < argc) {
        clawcast_cli_error(&cli, "unexpected argument \"%s\"", argv[first]);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    char err[512], msg[512];
    rc = clawcast_cli_open(&cli);
    if (rc == 0)
        rc = clawcast_cli_load_slot(&cli);
    bool forget = false;
    if (rc == CLAWCAST_CLI_EXIT_REFUSED) { /* expired: nothing to release, nothing sent */
        printf("the slot is over already (its JWT has expired)\n");
        forget = true;
        rc = 0;
    } else if (rc == 0) {
        struct clawcast_cli_response resp = {0};
        rc = clawcast_cli_call_quiet(&cli, CLAWCAST_EP_END_SLOT,
                                     &(struct clawcast_call_options){.slot = cli.slot}, &resp, msg,
                                     sizeof(msg));
        if (rc == 0) {
            printf("slot ended\n");
            forget = true;
        } else if (resp.status == 409) {
            printf("the slot had already ended\n");
            forget = true;
            rc = 0;
        } else {
            clawcast_cli_error(&cli, "%s", msg);
            forget = resp.status == 401; /* the JWT is refused: the slot is over for us */
        }
        clawcast_cli_response_clear(&resp);
    }
    if (forget && clawcast_state_delete(cli.state_path, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        rc = rc ? rc : CLAWCAST_CLI_EXIT_FAIL;
    }
    clawcast_cli_finish(&cli);
    return rc;
}

/* ---- poll-results ------------------------------------------------------------------------ */

static void usage_poll_results(FILE *f)
{
    fputs("usage: agentcast clawcast poll-results [--poll-id ID]\n"
          "\n"
          "The votes of the booked slot's poll (pollResults). --poll-id picks one of the\n"
          "slot's polls (sent as ?poll_id=; the document names no parameter).\n\n",
          f);
    clawcast_cli_global_usage(f);
}

static void print_poll(const struct clawcast_poll_results *p)
{
    printf("poll %s: %s\n", p->poll_id, p->question);
    for (size_t i = 0; i < p->n_results; i++)
        printf("  [%zu] %s: %lld\n", i, i < p->n_options ? p->options[i] : "",
               (long long)p->results[i]);
    if (p->total_votes >= 0)
        printf("total votes: %lld\n", (long long)p->total_votes);
}

int clawcast_cmd_poll_results(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast poll-results");
    const char *poll_id = NULL;
    const struct clawcast_cli_opt opts[] = {{"poll-id", &poll_id, NULL}, {NULL, NULL, NULL}};
    int first, rc = clawcast_cli_parse(&cli, argc, argv, opts, usage_poll_results, &first);
    if (rc != CLAWCAST_CLI_OPT_RUN)
        return rc;
    char err[512], query[CLAWCAST_ID_MAX + 16] = "";
    if (first < argc) {
        clawcast_cli_error(&cli, "unexpected argument \"%s\"", argv[first]);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    if (poll_id) {
        /* The id rule of a vote (1–128 bytes, no spaces or control characters) also keeps it
         * safe in a query string once '&', '#', '%', '+' and '?' are refused. */
        if (clawcast_validate_vote(poll_id, 0, 0, "x", err, sizeof(err)) < 0 ||
            strpbrk(poll_id, "&#%+?/=")) {
            clawcast_cli_error(&cli, "--poll-id: %s",
                               strpbrk(poll_id, "&#%+?/=") ? "characters &#%+?/= are not allowed"
                                                           : err);
            return CLAWCAST_CLI_EXIT_USAGE;
        }
        snprintf(query, sizeof(query), "poll_id=%s", poll_id);
    }
    rc = clawcast_cli_open(&cli);
    if (rc == 0)
        rc = clawcast_cli_load_slot(&cli);
    struct clawcast_cli_response resp = {0};
    if (rc == 0) {
        struct clawcast_call_options co = {.slot = cli.slot, .query = poll_id ? query : NULL};
        rc = clawcast_cli_call(&cli, CLAWCAST_EP_POLL_RESULTS, &co, &resp);
    }
    struct clawcast_poll_results *p = rc == 0 ? calloc(1, sizeof(*p)) : NULL;
    if (rc == 0 && !p) {
        rc = CLAWCAST_CLI_EXIT_FAIL;
    } else if (rc == 0 &&
               clawcast_parse_poll_results(resp.body, resp.len, p, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        rc = CLAWCAST_CLI_EXIT_FAIL;
    } else if (rc == 0 && cli.json) {
        cJSON *r = cJSON_ParseWithLength(resp.body, resp.len);
        clawcast_cli_print_json(r);
        cJSON_Delete(r);
    } else if (rc == 0) {
        print_poll(p);
    }
    free(p);
    clawcast_cli_response_clear(&resp);
    clawcast_cli_finish(&cli);
    return rc;
}
