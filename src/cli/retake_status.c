/*
 * retake_status — `agentcast status`: the first and third steps of the document's heartbeat
 * loop (section 8) in one command: agent/stream/status ("am I live?", viewers, uptime) and,
 * when a token address is known, tokens/:address/stats ("check performance").
 *
 * The token address comes from the credentials (saved after the first stream), else from the
 * status answer's token_address. Token stats are extra: when they cannot be fetched the status
 * is still printed, with a warning, and the exit code stays 0.
 */
#include "cli/commands.h"

#include <getopt.h>
#include <string.h>

#include "cli/retake_common.h"

static const struct option long_options[] = {
    RETAKE_CLI_GLOBAL_OPTIONS,
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: agentcast status [--json]\n"
               "\n"
               "Is the agent live, with how many viewers and for how long; and its token's\n"
               "stats (price, market cap, growth, volume, earnings) once it has a token.\n"
               "\n"
               "Example:\n"
               "  agentcast status\n"
               "  agentcast status --json | jq .viewers\n"
               "\n");
    retake_cli_global_usage(f);
}

/* Token stats as a tree (NULL when unavailable, reported as a warning). */
static cJSON *token_stats(struct retake_cli *cli, const char *address)
{
    struct http_response resp;
    if (retake_cli_call(cli,
                        &(struct retake_cli_request){.ep = RETAKE_EP_TOKEN_STATS, .param = address},
                        &resp) != 0) {
        fprintf(stderr, "(token stats unavailable; the stream status above is current)\n");
        return NULL;
    }
    char err[256];
    cJSON *root = retake_json_parse(resp.body, resp.body_len, "tokens/:address/stats response", err,
                                    sizeof(err));
    if (!root)
        retake_cli_error(cli, "%s", err);
    http_response_clear(&resp);
    return root;
}

static void print_uptime(int64_t s)
{
    if (s < 0)
        printf("uptime:   unknown\n");
    else
        printf("uptime:   %lldh%02lldm%02llds\n", (long long)(s / 3600), (long long)(s / 60 % 60),
               (long long)(s % 60));
}

static int print_json(const struct retake_stream_status *st, const char *address, cJSON *stats)
{
    cJSON *o = cJSON_CreateObject();
    int rc = -1;
    if (o && cJSON_AddBoolToObject(o, "is_live", st->is_live) &&
        (st->viewers < 0 ? cJSON_AddNullToObject(o, "viewers")
                         : cJSON_AddNumberToObject(o, "viewers", (double)st->viewers)) &&
        (st->uptime_seconds < 0
             ? cJSON_AddNullToObject(o, "uptime_seconds")
             : cJSON_AddNumberToObject(o, "uptime_seconds", (double)st->uptime_seconds)) &&
        cJSON_AddStringToObject(o, "token_address", address) &&
        cJSON_AddStringToObject(o, "userDbId", st->user_db_id)) {
        if (stats)
            cJSON_AddItemReferenceToObject(o, "token_stats", stats);
        else
            cJSON_AddNullToObject(o, "token_stats");
        rc = retake_cli_print_json_line(o);
    }
    cJSON_Delete(o);
    return rc;
}

static int run(struct retake_cli *cli)
{
    struct http_response resp;
    int code =
        retake_cli_call(cli, &(struct retake_cli_request){.ep = RETAKE_EP_STREAM_STATUS}, &resp);
    if (code)
        return code;
    struct retake_stream_status st;
    char err[256];
    int rc = retake_parse_stream_status(resp.body, resp.body_len, &st, err, sizeof(err));
    http_response_clear(&resp);
    if (rc < 0) {
        retake_cli_error(cli, "%s", err);
        return RETAKE_CLI_EXIT_FAIL;
    }
    const char *address =
        cli->creds->token_address[0] ? cli->creds->token_address : st.token_address;
    if (!cli->json) {
        printf("live:     %s\n", st.is_live ? "yes" : "no");
        if (st.viewers >= 0)
            printf("viewers:  %lld\n", (long long)st.viewers);
        print_uptime(st.uptime_seconds);
        if (cli->creds->agent_name[0] && st.is_live)
            printf("watch:    https://retake.tv/%s\n", cli->creds->agent_name);
        printf("token:    %s\n", address[0] ? address
                                            : "none yet (created on the first "
                                              "stream once verified)");
        fflush(stdout);
    }
    cJSON *stats = address[0] ? token_stats(cli, address) : NULL;
    if (cli->json) {
        if (print_json(&st, address, stats) < 0)
            code = RETAKE_CLI_EXIT_FAIL;
    } else if (stats) {
        printf("token stats:\n");
        retake_format_public(RETAKE_EP_TOKEN_STATS, stats, stdout);
    }
    cJSON_Delete(stats);
    return code;
}

int cmd_status(int argc, char **argv)
{
    struct retake_cli cli;
    retake_cli_init(&cli, "agentcast status");
    int opt, code;
    optind = 0;
    while ((opt = getopt_long(argc, argv, RETAKE_CLI_GLOBAL_SHORT, long_options, NULL)) != -1)
        if ((code = retake_cli_global_option(&cli, opt, optarg, usage)) != RETAKE_CLI_OPT_RUN)
            return code;
    if (optind < argc) {
        retake_cli_error(&cli, "unexpected argument \"%s\" (see --help)", argv[optind]);
        return RETAKE_CLI_EXIT_USAGE;
    }
    if ((code = retake_cli_open(&cli)) == 0 && (code = retake_cli_load_credentials(&cli)) == 0)
        code = run(&cli);
    retake_cli_finish(&cli);
    return code;
}
