/*
 * retake_discover — `agentcast discover …`: the public API of the skill document's section 5
 * (no auth, no credentials needed), printed as a table or, with --json, as the JSON retake.tv
 * sent (one line).
 */
#include "cli/commands.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/retake_common.h"
#include "core/parse.h"

enum { OPT_LIMIT = RETAKE_CLI_OPT_FIRST_FREE };

static const struct option long_options[] = {
    {"limit", required_argument, NULL, OPT_LIMIT},
    RETAKE_CLI_GLOBAL_OPTIONS,
    {NULL, 0, NULL, 0},
};

struct subcommand {
    const char *name;
    enum retake_endpoint ep;
    const char *arg;                  /* the argument's name, NULL when none */
    enum retake_endpoint ep_with_arg; /* trades: with a token address */
    bool arg_optional;
    const char *help;
};

static const struct subcommand subcommands[] = {
    {"live", RETAKE_EP_USERS_LIVE, NULL, 0, false, "agents live now (users/live)"},
    {"newest", RETAKE_EP_USERS_NEWEST, NULL, 0, false, "newest agents (users/newest)"},
    {"search", RETAKE_EP_USERS_SEARCH, "QUERY", 0, false,
     "agents by name; user_id is their userDbId (users/search)"},
    {"streamer", RETAKE_EP_USERS_STREAMER, "NAME|ID", 0, false,
     "one streamer by username or id, with session info (users/streamer)"},
    {"metadata", RETAKE_EP_USERS_METADATA, "USER_ID", 0, false, "full profile (users/metadata)"},
    {"top", RETAKE_EP_TOKENS_TOP, NULL, 0, false, "top agents by market cap (tokens/top)"},
    {"trending", RETAKE_EP_TOKENS_TRENDING, NULL, 0, false,
     "fastest growing tokens, 24 h (tokens/trending)"},
    {"token", RETAKE_EP_TOKEN_STATS, "ADDRESS", 0, false,
     "one token's stats (tokens/:address/stats)"},
    {"trades", RETAKE_EP_TRADES_RECENT, "[TOKEN_ADDRESS]", RETAKE_EP_TRADES_RECENT_TOKEN, true,
     "latest trades, platform-wide or of one token (trades/recent; --limit N, max 100)"},
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: agentcast discover WHAT [ARG] [--json]\n\n");
    for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
        char left[40];
        snprintf(left, sizeof(left), "%s %s", subcommands[i].name,
                 subcommands[i].arg ? subcommands[i].arg : "");
        fprintf(f, "  %-26s %s\n", left, subcommands[i].help);
    }
    fprintf(f, "\nPublic data: no credentials needed.\n"
               "\nExample:\n"
               "  agentcast discover live\n"
               "  agentcast discover search nova --json\n"
               "  agentcast discover trades --limit 10\n\n");
    retake_cli_global_usage(f);
}

static int run(struct retake_cli *cli, const struct subcommand *sc, const char *arg, long limit)
{
    enum retake_endpoint ep = sc->ep;
    if (sc->arg_optional && arg)
        ep = sc->ep_with_arg;
    char limit_s[16];
    snprintf(limit_s, sizeof(limit_s), "%ld", limit);
    struct retake_query q = {"limit", limit_s};
    bool with_limit = limit > 0 && ep == RETAKE_EP_TRADES_RECENT;
    struct http_response resp;
    int code = retake_cli_call(
        cli,
        &(struct retake_cli_request){
            .ep = ep, .param = arg, .query = with_limit ? &q : NULL, .n_query = with_limit ? 1 : 0},
        &resp);
    if (code)
        return code;
    char what[96], err[256];
    snprintf(what, sizeof(what), "%s response", retake_endpoint_get(ep)->name);
    cJSON *root = retake_json_parse(resp.body, resp.body_len, what, err, sizeof(err));
    http_response_clear(&resp);
    if (!root) {
        retake_cli_error(cli, "%s", err);
        return RETAKE_CLI_EXIT_FAIL;
    }
    int rc = cli->json ? retake_cli_print_json_line(root) : retake_format_public(ep, root, stdout);
    cJSON_Delete(root);
    if (rc < 0) {
        retake_cli_error(cli, "cannot print the answer");
        return RETAKE_CLI_EXIT_FAIL;
    }
    return 0;
}

int cmd_discover(int argc, char **argv)
{
    struct retake_cli cli;
    retake_cli_init(&cli, "agentcast discover");
    long limit = 0;
    int opt, code;
    char err[128];
    optind = 0;
    while ((opt = getopt_long(argc, argv, RETAKE_CLI_GLOBAL_SHORT, long_options, NULL)) != -1) {
        if (opt == OPT_LIMIT) {
            if (parse_int(optarg, 1, 100, &limit, err, sizeof(err)) < 0) {
                retake_cli_error(&cli, "--limit: %s", err);
                return RETAKE_CLI_EXIT_USAGE;
            }
        } else if ((code = retake_cli_global_option(&cli, opt, optarg, usage)) !=
                   RETAKE_CLI_OPT_RUN) {
            return code;
        }
    }
    if (optind >= argc) {
        retake_cli_error(&cli, "what to discover? (see --help)");
        return RETAKE_CLI_EXIT_USAGE;
    }
    const struct subcommand *sc = NULL;
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        if (strcmp(argv[optind], subcommands[i].name) == 0)
            sc = &subcommands[i];
    if (!sc) {
        retake_cli_error(&cli, "unknown \"%s\" (see --help)", argv[optind]);
        return RETAKE_CLI_EXIT_USAGE;
    }
    int n_args = argc - optind - 1;
    const char *arg = n_args > 0 ? argv[optind + 1] : NULL;
    if (n_args > 1 || (sc->arg && !sc->arg_optional && !arg) || (!sc->arg && arg)) {
        retake_cli_error(&cli, "usage: agentcast discover %s %s", sc->name, sc->arg ? sc->arg : "");
        return RETAKE_CLI_EXIT_USAGE;
    }
    if (limit && sc->ep != RETAKE_EP_TRADES_RECENT) {
        retake_cli_error(&cli, "--limit goes with trades only");
        return RETAKE_CLI_EXIT_USAGE;
    }
    if (limit && arg) {
        /* The document lists limit for trades/recent/ only, not per token. */
        retake_cli_error(&cli, "--limit goes with platform-wide trades only");
        return RETAKE_CLI_EXIT_USAGE;
    }
    if ((code = retake_cli_open(&cli)) == 0)
        code = run(&cli, sc, arg, limit);
    retake_cli_finish(&cli);
    return code;
}
