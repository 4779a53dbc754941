/*
 * retake_chat — `agentcast chat send|read`: section 3 of the skill document from a shell.
 *
 * send posts to agent/stream/chat/send ("Use your own userDbId to chat in your stream";
 * --to for another agent's). read prints a page of agent/stream/comments oldest first;
 * --follow then keeps polling as the document's "Chat Polling Strategy" says (2-3 s during
 * active chat, 5-10 s when quiet), printing each new comment exactly once. New comments are
 * found by remembering the ids already shown (retake_comments_new_since), never by comparing
 * ids; when a poll shows nothing already seen, older pages are fetched with beforeId so that
 * a burst is not lost.
 */
#include "cli/commands.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/retake_common.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/parse.h"
#include "retake/validate.h"

#define DEFAULT_LIMIT 50
#define ACTIVE_MIN_MS 2000 /* "Poll every 2-3 seconds during active chat" */
#define ACTIVE_MAX_MS 3000
#define QUIET_MIN_MS 5000 /* "5-10 seconds during quiet periods" */
#define QUIET_MAX_MS 10000
#define QUIET_AFTER_NS (30 * NS_PER_SEC) /* ours: chat is quiet after 30 s without a comment */
#define GAP_PAGES_MAX 10                 /* ours: older pages fetched after a burst */

enum {
    OPT_TO = RETAKE_CLI_OPT_FIRST_FREE,
    OPT_USER,
    OPT_LIMIT,
    OPT_FOLLOW,
};

static const struct option send_options[] = {
    {"to", required_argument, NULL, OPT_TO},
    RETAKE_CLI_GLOBAL_OPTIONS,
    {NULL, 0, NULL, 0},
};

static const struct option read_options[] = {
    {"user", required_argument, NULL, OPT_USER},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"follow", no_argument, NULL, OPT_FOLLOW},
    RETAKE_CLI_GLOBAL_OPTIONS,
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: agentcast chat send TEXT [--to USERDBID]\n"
            "       agentcast chat read [--user USERDBID] [--limit N] [--follow] [--json]\n"
            "\n"
            "send   a message to your own stream's chat, or with --to to another agent's\n"
            "       (find a userDbId with `agentcast discover search NAME`). No live stream is\n"
            "       needed. TEXT: 1-%d characters; put -- before a TEXT that starts with '-'.\n"
            "read   the newest comments (default %d, at most %d) of your chat or --user's,\n"
            "       oldest first. --follow keeps polling (every 2-3 s while chat is active,\n"
            "       5-10 s when quiet) and prints each new comment once, until Ctrl-C.\n"
            "       --json: one comment object per line, as retake.tv sent it.\n"
            "\n"
            "Example:\n"
            "  agentcast chat send \"I'm live. What should we explore today?\"\n"
            "  agentcast chat read --follow --json | my-agent-brain\n"
            "\n",
            RETAKE_CHAT_TEXT_MAX, DEFAULT_LIMIT, RETAKE_COMMENTS_LIMIT_MAX);
    retake_cli_global_usage(f);
}

/* The userDbId given, or the agent's own from the credentials file. */
static int pick_user(struct retake_cli *cli, const char *given, const char *opt, const char **out)
{
    *out = given ? given : cli->creds->user_db_id;
    if (!(*out)[0]) {
        retake_cli_error(cli, "no userDbId in the credentials (token from %s only): give %s",
                         RETAKE_ENV_TOKEN, opt);
        return RETAKE_CLI_EXIT_USAGE;
    }
    return 0;
}

static int chat_send(struct retake_cli *cli, const char *text, const char *to)
{
    const char *dest;
    int code = pick_user(cli, to, "--to", &dest);
    if (code)
        return code;
    char *body = retake_body_chat_send(text, dest, cli->creds->access_token);
    if (!body) {
        retake_cli_error(cli, "out of memory");
        return RETAKE_CLI_EXIT_FAIL;
    }
    struct http_response resp;
    code = retake_cli_call(
        cli, &(struct retake_cli_request){.ep = RETAKE_EP_CHAT_SEND, .json_body = body}, &resp);
    retake_body_free(body);
    if (code)
        return code;
    http_response_clear(&resp);
    if (cli->json) {
        cJSON *o = cJSON_CreateObject();
        if (o && cJSON_AddBoolToObject(o, "sent", true) &&
            cJSON_AddStringToObject(o, "destination_user_id", dest))
            retake_cli_print_json_line(o);
        cJSON_Delete(o);
    } else {
        printf("sent to %s\n", dest == cli->creds->user_db_id ? "your own chat" : dest);
    }
    return 0;
}

static void print_comment(const struct retake_cli *cli, const struct retake_comment *c)
{
    if (cli->json) {
        fputs(c->json, stdout);
        fputc('\n', stdout);
    } else {
        char who[128], text[2048];
        retake_cli_sanitize(c->author_username[0] ? c->author_username : "?", who, sizeof(who));
        retake_cli_sanitize(c->text, text, sizeof(text));
        if (c->timestamp[0]) {
            char ts[64];
            retake_cli_sanitize(c->timestamp, ts, sizeof(ts));
            printf("[%s] %s: %s\n", ts, who, text);
        } else {
            printf("%s: %s\n", who, text);
        }
    }
    fflush(stdout);
}

struct reader {
    struct retake_cli *cli;
    const char *user;
    int limit;
    struct retake_seen_ids seen;
};

/* One page (beforeId may be NULL) into *page. Returns 0 or an exit code (reported). */
static int fetch_page(struct reader *r, const char *before, struct retake_comments *page)
{
    char *path = NULL, err[256];
    *page = (struct retake_comments){0};
    if (retake_comments_path(r->user, r->limit, before, &path, err, sizeof(err)) < 0) {
        retake_cli_error(r->cli, "%s", err);
        return RETAKE_CLI_EXIT_USAGE;
    }
    struct http_response resp;
    int code = retake_cli_call(
        r->cli, &(struct retake_cli_request){.ep = RETAKE_EP_COMMENTS, .path = path}, &resp);
    free(path);
    if (code)
        return code;
    if (retake_parse_comments(resp.body, resp.body_len, page, err, sizeof(err)) < 0) {
        retake_cli_error(r->cli, "%s", err);
        code = RETAKE_CLI_EXIT_FAIL;
    } else if (page->skipped) {
        log_warn("chat", "%zu comment(s) skipped: %s", page->skipped, page->skip_reason);
    }
    http_response_clear(&resp);
    return code;
}

static bool page_has_seen(const struct reader *r, const struct retake_comments *p)
{
    for (size_t i = 0; i < p->count; i++)
        if (retake_seen_contains(&r->seen, p->items[i].id))
            return true;
    return false;
}

/* Prints the new comments of pages[n-1] (oldest) .. pages[0] (newest); their count in *n_new. */
static int deliver(struct reader *r, struct retake_comments *pages, size_t n, bool print,
                   size_t *n_new)
{
    *n_new = 0;
    for (size_t p = n; p-- > 0;) {
        size_t *idx = calloc(pages[p].count ? pages[p].count : 1, sizeof(*idx));
        size_t k = 0;
        if (!idx || retake_comments_new_since(&pages[p], &r->seen, idx, &k, NULL) < 0) {
            free(idx);
            retake_cli_error(r->cli, "out of memory");
            return RETAKE_CLI_EXIT_FAIL;
        }
        for (size_t i = 0; print && i < k; i++)
            print_comment(r->cli, &pages[p].items[idx[i]]);
        *n_new += k;
        free(idx);
    }
    return 0;
}

/* One poll: the newest page, plus older ones while nothing on them was seen before (a burst
 * bigger than a page). */
static int poll_once(struct reader *r, bool print, size_t *n_new)
{
    struct retake_comments pages[GAP_PAGES_MAX];
    size_t n = 0;
    int code = 0;
    bool first = r->seen.count == 0;
    while (n < GAP_PAGES_MAX) {
        const char *before = n ? retake_comments_oldest_id(&pages[n - 1]) : NULL;
        if ((code = fetch_page(r, before, &pages[n])) != 0)
            break;
        n++;
        const struct retake_comments *p = &pages[n - 1];
        if (first || p->count < (size_t)r->limit || page_has_seen(r, p))
            break;
    }
    if (!code)
        code = deliver(r, pages, n, print, n_new);
    for (size_t i = 0; i < n; i++)
        retake_comments_free(&pages[i]);
    return code;
}

static void on_signal(struct event_loop *loop, int signo, void *arg)
{
    (void)signo;
    *(bool *)arg = true;
    event_loop_stop(loop);
}

static uint32_t pick_ms(uint64_t *rng, uint32_t lo, uint32_t hi)
{
    *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (uint32_t)((*rng >> 33) % (hi - lo + 1));
}

/* --follow: runs until SIGINT/SIGTERM (exit 0) or a failure that retrying cannot fix. */
static int follow(struct reader *r)
{
    bool stop = false;
    if (event_loop_watch_signal(r->cli->loop, SIGINT, on_signal, &stop) < 0 ||
        event_loop_watch_signal(r->cli->loop, SIGTERM, on_signal, &stop) < 0) {
        retake_cli_error(r->cli, "cannot watch signals");
        return RETAKE_CLI_EXIT_FAIL;
    }
    int64_t last_comment = clock_now_ns(); /* start as active: "never see silence" */
    while (!stop) {
        bool active = clock_now_ns() - last_comment < QUIET_AFTER_NS;
        uint32_t ms = active ? pick_ms(&r->cli->rng, ACTIVE_MIN_MS, ACTIVE_MAX_MS)
                             : pick_ms(&r->cli->rng, QUIET_MIN_MS, QUIET_MAX_MS);
        if (retake_cli_sleep(r->cli, ms) || stop)
            break;
        size_t n_new = 0;
        int code = poll_once(r, true, &n_new);
        if (stop)
            break;
        if (code == RETAKE_CLI_EXIT_AUTH || code == RETAKE_CLI_EXIT_USAGE)
            return code;
        /* Other failures were retried and reported: keep following, as the chat loop would. */
        if (n_new)
            last_comment = clock_now_ns();
    }
    return 0;
}

static int chat_read(struct retake_cli *cli, const char *user, int limit, bool follow_mode)
{
    struct reader r = {.cli = cli, .limit = limit};
    int code = pick_user(cli, user, "--user", &r.user);
    if (code)
        return code;
    /* Enough to remember every id still on a page after a burst of GAP_PAGES_MAX pages. */
    if (retake_seen_init(&r.seen, (size_t)limit * (GAP_PAGES_MAX + 2)) < 0) {
        retake_cli_error(cli, "out of memory");
        return RETAKE_CLI_EXIT_FAIL;
    }
    size_t n_new;
    code = poll_once(&r, true, &n_new);
    if (!code && follow_mode)
        code = follow(&r);
    retake_seen_free(&r.seen);
    return code;
}

static int parse_sub(struct retake_cli *cli, int argc, char **argv, const struct option *opts,
                     const char **to_user, long *limit, bool *follow_mode)
{
    char err[128];
    int opt, code;
    optind = 0;
    while ((opt = getopt_long(argc, argv, RETAKE_CLI_GLOBAL_SHORT, opts, NULL)) != -1) {
        switch (opt) {
        case OPT_TO:
        case OPT_USER:
            if (retake_validate_user_db_id(optarg, err, sizeof(err)) < 0) {
                retake_cli_error(cli, "%s: %s", opt == OPT_TO ? "--to" : "--user", err);
                return RETAKE_CLI_EXIT_USAGE;
            }
            *to_user = optarg;
            break;
        case OPT_LIMIT:
            if (parse_int(optarg, 1, RETAKE_COMMENTS_LIMIT_MAX, limit, err, sizeof(err)) < 0) {
                retake_cli_error(cli, "--limit: %s", err);
                return RETAKE_CLI_EXIT_USAGE;
            }
            break;
        case OPT_FOLLOW:
            *follow_mode = true;
            break;
        default:
            if ((code = retake_cli_global_option(cli, opt, optarg, usage)) != RETAKE_CLI_OPT_RUN)
                return code;
        }
    }
    return RETAKE_CLI_OPT_RUN;
}

int cmd_chat(int argc, char **argv)
{
    struct retake_cli cli;
    retake_cli_init(&cli, "agentcast chat");
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        retake_cli_error(&cli, "send or read? (see --help)");
        return RETAKE_CLI_EXIT_USAGE;
    }
    bool is_send = strcmp(argv[1], "send") == 0;
    if (!is_send && strcmp(argv[1], "read") != 0) {
        retake_cli_error(&cli, "unknown subcommand \"%s\" (send or read)", argv[1]);
        return RETAKE_CLI_EXIT_USAGE;
    }
    cli.cmd = is_send ? "agentcast chat send" : "agentcast chat read";
    const char *user = NULL;
    long limit = DEFAULT_LIMIT;
    bool follow_mode = false;
    int code = parse_sub(&cli, argc - 1, argv + 1, is_send ? send_options : read_options, &user,
                         &limit, &follow_mode);
    if (code != RETAKE_CLI_OPT_RUN)
        return code;
    int first = optind + 1; /* optind counts in argv + 1 */
    const char *text = NULL;
    char err[256];
    if (is_send) {
        if (first >= argc || first + 1 < argc) {
            retake_cli_error(&cli, "give the message as one argument (quote it)");
            return RETAKE_CLI_EXIT_USAGE;
        }
        text = argv[first];
        if (retake_validate_chat_text(text, err, sizeof(err)) < 0) {
            retake_cli_error(&cli, "%s", err);
            return RETAKE_CLI_EXIT_USAGE;
        }
    } else if (first < argc) {
        retake_cli_error(&cli, "unexpected argument \"%s\" (see --help)", argv[first]);
        return RETAKE_CLI_EXIT_USAGE;
    }
    if ((code = retake_cli_open(&cli)) == 0 && (code = retake_cli_load_credentials(&cli)) == 0)
        code =
            is_send ? chat_send(&cli, text, user) : chat_read(&cli, user, (int)limit, follow_mode);
    retake_cli_finish(&cli);
    return code;
}
