/*
 * retake_register — `agentcast register`: section 1a of the skill document, run once per agent.
 * Every field is validated before anything is sent; the answer is saved to the credentials file
 * (atomically, 0600 in a 0700 directory) and only the agent name, userDbId and the redacted
 * token are shown. An existing credentials file is never replaced without --force: it holds the
 * only copy of another agent's token.
 */
#include "cli/commands.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/retake_common.h"
#include "retake/validate.h"

enum {
    OPT_NAME = RETAKE_CLI_OPT_FIRST_FREE,
    OPT_DESCRIPTION,
    OPT_IMAGE_URL,
    OPT_WALLET,
    OPT_TICKER,
    OPT_FORCE,
};

static const struct option long_options[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"description", required_argument, NULL, OPT_DESCRIPTION},
    {"image-url", required_argument, NULL, OPT_IMAGE_URL},
    {"wallet", required_argument, NULL, OPT_WALLET},
    {"ticker", required_argument, NULL, OPT_TICKER},
    {"force", no_argument, NULL, OPT_FORCE},
    RETAKE_CLI_GLOBAL_OPTIONS,
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: agentcast register --name NAME --description TEXT --image-url URL\n"
            "                          --wallet SOLANA_ADDRESS --ticker TICKER [--force]\n"
            "\n"
            "Creates the retake.tv agent account (once per agent) and saves its credentials\n"
            "(access_token, agent_name, agent_id, userDbId, wallet_address, ticker, ...) to the\n"
            "credentials file, mode 0600 in a 0700 directory. Prints the agent name, userDbId and\n"
            "the token redacted (rtk_... and its last 4 characters); the token is never shown.\n"
            "\n"
            "  --name NAME            agent_name: unique; becomes https://retake.tv/NAME\n"
            "  --description TEXT     agent_description: short bio\n"
            "  --image-url URL        image_url: public http(s) URL, square (1:1), jpg/png\n"
            "  --wallet ADDRESS       wallet_address: Solana public key (base58 of 32 bytes)\n"
            "  --ticker TICKER        ticker: 1-10 characters (token symbol)\n"
            "  --force                replace an existing credentials file (its token is lost)\n"
            "\n"
            "Example:\n"
            "  agentcast register --name Nova --description 'Live coding agent' \\\n"
            "      --image-url https://example.com/nova.png \\\n"
            "      --wallet TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA --ticker NOVA\n"
            "\n");
    retake_cli_global_usage(f);
}

struct register_args {
    struct retake_register_req req;
    bool force;
};

static int parse(struct retake_cli *cli, int argc, char **argv, struct register_args *a)
{
    optind = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, RETAKE_CLI_GLOBAL_SHORT, long_options, NULL)) != -1) {
        switch (opt) {
        case OPT_NAME:
            a->req.agent_name = optarg;
            break;
        case OPT_DESCRIPTION:
            a->req.agent_description = optarg;
            break;
        case OPT_IMAGE_URL:
            a->req.image_url = optarg;
            break;
        case OPT_WALLET:
            a->req.wallet_address = optarg;
            break;
        case OPT_TICKER:
            a->req.ticker = optarg;
            break;
        case OPT_FORCE:
            a->force = true;
            break;
        default: {
            int rc = retake_cli_global_option(cli, opt, optarg, usage);
            if (rc != RETAKE_CLI_OPT_RUN)
                return rc;
        }
        }
    }
    if (optind < argc) {
        retake_cli_error(cli, "unexpected argument \"%s\" (see --help)", argv[optind]);
        return RETAKE_CLI_EXIT_USAGE;
    }
    return RETAKE_CLI_OPT_RUN;
}

/* Every field, in the document's order; the first problem wins. */
static int validate(struct retake_cli *cli, const struct retake_register_req *r)
{
    const struct {
        const char *opt, *value;
        int (*check)(const char *, char *, size_t);
    } fields[] = {
        {"--name", r->agent_name, retake_validate_agent_name},
        {"--description", r->agent_description, retake_validate_description},
        {"--image-url", r->image_url, retake_validate_image_url},
        {"--wallet", r->wallet_address, retake_validate_wallet},
        {"--ticker", r->ticker, retake_validate_ticker},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!fields[i].value) {
            retake_cli_error(cli, "%s is required (see --help)", fields[i].opt);
            return RETAKE_CLI_EXIT_USAGE;
        }
        if (fields[i].check(fields[i].value, err, sizeof(err)) < 0) {
            retake_cli_error(cli, "%s: %s", fields[i].opt, err);
            return RETAKE_CLI_EXIT_USAGE;
        }
    }
    return 0;
}

/* Before registering: the answer holds a token that exists nowhere else, so make sure it can be
 * saved. Refuses an existing file without --force, and a directory (or the nearest existing
 * ancestor) we cannot write. */
static int preflight(struct retake_cli *cli, bool force)
{
    struct stat st;
    if (lstat(cli->creds_path, &st) == 0 && !force) {
        retake_cli_error(cli,
                         "%s already exists: it holds an agent's access token. Use --force to "
                         "replace it (that token is then lost), or --credentials PATH for "
                         "another agent",
                         cli->creds_path);
        return RETAKE_CLI_EXIT_FAIL;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", cli->creds_path);
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            strcpy(dir, ".");
        else if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
        if (stat(dir, &st) == 0)
            break;
        if (errno != ENOENT || strcmp(dir, ".") == 0 || strcmp(dir, "/") == 0)
            break;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        retake_cli_error(cli, "cannot write the credentials file under %s: %s", dir,
                         strerror(errno));
        return RETAKE_CLI_EXIT_FAIL;
    }
    return 0;
}

static int save_and_print(struct retake_cli *cli, const struct register_args *a,
                          const struct retake_register_resp *resp)
{
    struct retake_credentials *c = retake_credentials_new();
    if (!c) {
        retake_cli_error(cli, "out of memory");
        return RETAKE_CLI_EXIT_FAIL;
    }
    retake_credentials_from_register(c, &a->req, resp);
    char err[512], red[32];
    int rc = retake_credentials_save(cli->creds_path, c, err, sizeof(err));
    retake_token_redact(c->access_token, red, sizeof(red));
    if (rc < 0) {
        retake_cli_error(cli,
                         "registered agent %s (userDbId %s) but could not save its credentials: "
                         "%s. The access token (%s) was not saved anywhere",
                         c->agent_name, c->user_db_id, err, red);
        retake_credentials_free(c);
        return RETAKE_CLI_EXIT_FAIL;
    }
    if (cli->json) {
        cJSON *o = cJSON_CreateObject();
        if (o && cJSON_AddStringToObject(o, "agent_name", c->agent_name) &&
            cJSON_AddStringToObject(o, "agent_id", c->agent_id) &&
            cJSON_AddStringToObject(o, "userDbId", c->user_db_id) &&
            cJSON_AddStringToObject(o, "wallet_address", c->wallet_address) &&
            cJSON_AddStringToObject(o, "ticker", c->ticker) &&
            cJSON_AddStringToObject(o, "access_token", red) &&
            cJSON_AddStringToObject(o, "credentials", cli->creds_path))
            retake_cli_print_json_line(o);
        cJSON_Delete(o);
    } else {
        printf("registered agent %s\n"
               "  userDbId:     %s\n"
               "  access token: %s (saved to %s)\n"
               "next: `agentcast verify` (a human posts a tweet; required before the token is "
               "created)\n",
               c->agent_name, c->user_db_id, red, cli->creds_path);
    }
    retake_credentials_free(c);
    return 0;
}

int cmd_register(int argc, char **argv)
{
    struct retake_cli cli;
    retake_cli_init(&cli, "agentcast register");
    struct register_args a = {0};
    int code = parse(&cli, argc, argv, &a);
    if (code != RETAKE_CLI_OPT_RUN)
        return code;
    if ((code = validate(&cli, &a.req)) != 0)
        return code;
    char err[256];
    if (cli.credentials_path) {
        snprintf(cli.creds_path, sizeof(cli.creds_path), "%s", cli.credentials_path);
    } else if (retake_credentials_default_path(cli.creds_path, sizeof(cli.creds_path), err,
                                               sizeof(err)) < 0) {
        retake_cli_error(&cli, "%s", err);
        return RETAKE_CLI_EXIT_FAIL;
    }
    if ((code = preflight(&cli, a.force)) != 0 || (code = retake_cli_open(&cli)) != 0)
        goto out;
    char *body = retake_body_register(&a.req);
    if (!body) {
        retake_cli_error(&cli, "out of memory");
        code = RETAKE_CLI_EXIT_FAIL;
        goto out;
    }
    struct http_response resp;
    code = retake_cli_call(
        &cli, &(struct retake_cli_request){.ep = RETAKE_EP_REGISTER, .json_body = body}, &resp);
    retake_body_free(body);
    if (code)
        goto out;
    struct retake_register_resp reg;
    if (retake_parse_register(resp.body, resp.body_len, &reg, err, sizeof(err)) < 0) {
        retake_cli_error(&cli, "%s", err);
        code = RETAKE_CLI_EXIT_FAIL;
    } else {
        code = save_and_print(&cli, &a, &reg);
    }
    retake_register_resp_clear(&reg);
    if (resp.body)
        explicit_bzero(resp.body, resp.body_len);
    http_response_clear(&resp);
out:
    retake_cli_finish(&cli);
    return code;
}
