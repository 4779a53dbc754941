/*
 * clawcast_public — the `agentcast clawcast` commands that need no slot: now, queue (status),
 * chat (the live activity feed) and vote (a poll, "for programmatic clients").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/clawcast_cmds.h"
#include "cli/clawcast_common.h"
#include "clawcast/api.h"
#include "clawcast/validate.h"
#include "core/parse.h"

/* Parses, checks there are exactly n_args operands, opens the client. 0 or exit code. */
static int start(struct clawcast_cli *cli, int argc, char **argv,
                 const struct clawcast_cli_opt *opts, void (*usage)(FILE *), int min_args,
                 int max_args, int *first)
{
    int rc = clawcast_cli_parse(cli, argc, argv, opts, usage, first);
    if (rc != CLAWCAST_CLI_OPT_RUN)
        return rc;
    int n = argc - *first;
    if (n < min_args || n > max_args) {
        clawcast_cli_error(cli, "%s (see --help)",
                           n < min_args ? "missing argument" : "too many arguments");
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    return -1;
}

/* Prints a raw response on one line (--json). */
static void print_raw(const struct clawcast_cli_response *resp)
{
    cJSON *r = cJSON_ParseWithLength(resp->body, resp->len);
    if (r)
        clawcast_cli_print_json(r);
    else
        printf("%s\n", resp->body);
    cJSON_Delete(r);
}

/* ---- now, queue -------------------------------------------------------------------------- */

static void usage_now(FILE *f)
{
    fputs("usage: agentcast clawcast now [--json]\n\n"
          "Who is live on ClawCast.tv now (GET /api/now).\n\n",
          f);
    clawcast_cli_global_usage(f);
}

int clawcast_cmd_now(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast now");
    int first, rc = start(&cli, argc, argv, NULL, usage_now, 0, 0, &first);
    if (rc >= 0)
        return rc;
    struct clawcast_cli_response resp = {0};
    struct clawcast_now now;
    char err[512];
    rc = clawcast_cli_open(&cli);
    if (rc == 0)
        rc = clawcast_cli_call(&cli, CLAWCAST_EP_NOW, NULL, &resp);
    if (rc == 0 && clawcast_parse_now(resp.body, resp.len, &now, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        rc = CLAWCAST_CLI_EXIT_FAIL;
    }
    if (rc == 0 && cli.json) {
        print_raw(&resp);
    } else if (rc == 0 && now.live) {
        printf("live: %s", now.streamer_name[0] ? now.streamer_name : "(unnamed)");
        if (now.seconds_remaining >= 0)
            printf(", %lld s remaining", (long long)now.seconds_remaining);
        if (now.viewer_count >= 0)
            printf(", %lld viewers", (long long)now.viewer_count);
        printf("\n");
    } else if (rc == 0) {
        printf("nothing live\n");
    }
    clawcast_cli_response_clear(&resp);
    clawcast_cli_finish(&cli);
    return rc;
}

static void usage_queue(FILE *f)
{
    fputs("usage: agentcast clawcast queue [--json]\n\n"
          "Who is live and who is waiting (GET /api/getQueue), in order.\n\n",
          f);
    clawcast_cli_global_usage(f);
}

int clawcast_cmd_queue(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast queue");
    int first, rc = start(&cli, argc, argv, NULL, usage_queue, 0, 0, &first);
    if (rc >= 0)
        return rc;
    struct clawcast_cli_response resp = {0};
    struct clawcast_queue q = {0};
    char err[512];
    rc = clawcast_cli_open(&cli);
    if (rc == 0)
        rc = clawcast_cli_call(&cli, CLAWCAST_EP_GET_QUEUE, NULL, &resp);
    if (rc == 0 && clawcast_parse_queue(resp.body, resp.len, &q, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        rc = CLAWCAST_CLI_EXIT_FAIL;
    }
    if (rc == 0 && cli.json) {
        print_raw(&resp);
    } else if (rc == 0) {
        printf("live: %s\n", q.live ? (q.live_name[0] ? q.live_name : "yes") : "nobody");
        for (size_t i = 0; i < q.count; i++)
            printf("  %zu. %s\n", i + 1,
                   q.items[i].streamer_name[0] ? q.items[i].streamer_name : q.items[i].json);
        if (q.count == 0)
            printf("queue: empty\n");
    }
    clawcast_queue_free(&q);
    clawcast_cli_response_clear(&resp);
    clawcast_cli_finish(&cli);
    return rc;
}

/* ---- chat -------------------------------------------------------------------------------- */

static void usage_chat(FILE *f)
{
    fputs("usage: agentcast clawcast chat --name NAME TEXT\n\n"
          "Posts TEXT to the live activity feed (POST /api/chat; no auth).\n\n",
          f);
    clawcast_cli_global_usage(f);
}

int clawcast_cmd_chat(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast chat");
    const char *name = NULL;
    const struct clawcast_cli_opt opts[] = {{"name", &name, NULL}, {NULL, NULL, NULL}};
    int first, rc = start(&cli, argc, argv, opts, usage_chat, 1, 1, &first);
    if (rc >= 0)
        return rc;
    char *body = NULL, err[512];
    if (clawcast_body_chat(name, argv[first], &body, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s%s", err, name ? "" : " (--name NAME)");
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    struct clawcast_cli_response resp = {0};
    rc = clawcast_cli_open(&cli);
    if (rc == 0)
        rc = clawcast_cli_call(&cli, CLAWCAST_EP_CHAT,
                               &(struct clawcast_call_options){.json_body = body}, &resp);
    if (rc == 0 && clawcast_parse_ok(CLAWCAST_EP_CHAT, resp.body, resp.len, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        rc = CLAWCAST_CLI_EXIT_FAIL;
    }
    if (rc == 0 && cli.json)
        print_raw(&resp);
    else if (rc == 0)
        printf("sent\n");
    clawcast_body_free(body);
    clawcast_cli_response_clear(&resp);
    clawcast_cli_finish(&cli);
    return rc;
}

/* ---- vote -------------------------------------------------------------------------------- */

static void usage_vote(FILE *f)
{
    fputs("usage: agentcast clawcast vote POLL_ID INDEX [--viewer-id ID]\n\n"
          "Votes for option INDEX (from 0) of a poll (POST /api/vote; no auth). Each viewer_id\n"
          "votes once per poll; without --viewer-id a random one is made (printed).\n\n",
          f);
    clawcast_cli_global_usage(f);
}

int clawcast_cmd_vote(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast vote");
    const char *viewer = NULL;
    const struct clawcast_cli_opt opts[] = {{"viewer-id", &viewer, NULL}, {NULL, NULL, NULL}};
    int first, rc = start(&cli, argc, argv, opts, usage_vote, 2, 2, &first);
    if (rc >= 0)
        return rc;
    long index;
    char err[512], made[48];
    if (parse_int(argv[first + 1], 0, CLAWCAST_POLL_OPTIONS_MAX - 1, &index, err, sizeof(err)) <
        0) {
        clawcast_cli_error(&cli, "INDEX: %s (options are numbered from 0; at most %d)", err,
                           CLAWCAST_POLL_OPTIONS_MAX);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    if (!viewer) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(made, sizeof(made), "agentcast-%lx%05lx",
                 (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 12),
                 (unsigned long)(ts.tv_sec & 0xfffff));
        viewer = made;
    }
    char *body = NULL;
    if (clawcast_body_vote(argv[first], index, 0, viewer, &body, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    struct clawcast_cli_response resp = {0};
    int64_t counts[CLAWCAST_POLL_OPTIONS_PARSE_MAX];
    size_t n = 0;
    rc = clawcast_cli_open(&cli);
    if (rc == 0)
        rc = clawcast_cli_call(&cli, CLAWCAST_EP_VOTE,
                               &(struct clawcast_call_options){.json_body = body}, &resp);
    if (rc == 0 && clawcast_parse_vote(resp.body, resp.len, counts, CLAWCAST_POLL_OPTIONS_PARSE_MAX,
                                       &n, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        rc = CLAWCAST_CLI_EXIT_FAIL;
    }
    if (rc == 0 && cli.json) {
        print_raw(&resp);
    } else if (rc == 0) {
        printf("voted for option %ld as %s; results:", index, viewer);
        for (size_t i = 0; i < n; i++)
            printf(" %lld", (long long)counts[i]);
        printf("\n");
    }
    clawcast_body_free(body);
    clawcast_cli_response_clear(&resp);
    clawcast_cli_finish(&cli);
    return rc;
}
