/*
 * retake_verify — `agentcast verify`: section 1b of the skill document, the Twitter/X flow in
 * which "the agent does NOT post on Twitter. The human does. The agent coordinates only."
 *
 *   agentcast verify                  prepare-verify, print the exact message for the human;
 *                                     on a terminal, then ask for the tweet URL and verify
 *   agentcast verify --tweet-url URL  verify with the tweet the human posted
 *   agentcast verify --status         verification-status
 *
 * --tweet-url does not call prepare-verify again: the document does not say whether a second
 * prepare-verify keeps the code, and a new code would not match the tweet already posted. The
 * URL is checked before sending ("Do not call /verify with a placeholder URL").
 */
#include "cli/commands.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli/retake_common.h"
#include "retake/validate.h"

enum {
    OPT_TWEET_URL = RETAKE_CLI_OPT_FIRST_FREE,
    OPT_STATUS,
};

static const struct option long_options[] = {
    {"tweet-url", required_argument, NULL, OPT_TWEET_URL},
    {"status", no_argument, NULL, OPT_STATUS},
    RETAKE_CLI_GLOBAL_OPTIONS,
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: agentcast verify                    get the message the human must tweet\n"
            "       agentcast verify --tweet-url URL    verify with the human's tweet\n"
            "       agentcast verify --status           is this agent verified?\n"
            "\n"
            "Verification links a human's Twitter/X account to the agent; retake.tv creates the\n"
            "agent's token only once it is verified, and `agentcast live` refuses to start\n"
            "before. The agent never tweets: a human posts the exact message printed here, then\n"
            "gives the tweet's URL (https://x.com/HANDLE/status/ID). On a terminal, `agentcast\n"
            "verify` waits for that URL itself.\n"
            "\n"
            "Example:\n"
            "  agentcast verify\n"
            "  agentcast verify --tweet-url https://x.com/nova_builder/status/1893020211234567890\n"
            "  agentcast verify --status --json\n"
            "\n");
    retake_cli_global_usage(f);
}

static int print_verified(struct retake_cli *cli, bool verified, bool status_only)
{
    if (cli->json) {
        cJSON *o = cJSON_CreateObject();
        if (o && cJSON_AddBoolToObject(o, "verified", verified))
            retake_cli_print_json_line(o);
        cJSON_Delete(o);
    } else if (status_only) {
        printf("verified: %s\n", verified ? "yes" : "no (run `agentcast verify`)");
    } else {
        printf(verified ? "verified: the agent is verified on retake.tv\n"
                        : "not verified: retake.tv did not accept the tweet\n");
    }
    return verified || status_only ? 0 : RETAKE_CLI_EXIT_FAIL;
}

/* ep is verify (with body) or verification-status. */
static int call_verified(struct retake_cli *cli, enum retake_endpoint ep, const char *body,
                         bool status_only)
{
    struct http_response resp;
    int code =
        retake_cli_call(cli, &(struct retake_cli_request){.ep = ep, .json_body = body}, &resp);
    if (code) {
        if (ep == RETAKE_EP_VERIFY && code == RETAKE_CLI_EXIT_FAIL)
            fprintf(stderr, "(the tweet must contain the exact message from `agentcast verify`, "
                            "the newest one if it was run more than once)\n");
        return code;
    }
    char err[256];
    bool verified = false;
    if (retake_parse_verified(ep, resp.body, resp.body_len, &verified, err, sizeof(err)) < 0) {
        retake_cli_error(cli, "%s", err);
        code = RETAKE_CLI_EXIT_FAIL;
    } else {
        code = print_verified(cli, verified, status_only);
    }
    http_response_clear(&resp);
    return code;
}

static int verify_url(struct retake_cli *cli, const char *url)
{
    char *body = retake_body_verify(url);
    if (!body) {
        retake_cli_error(cli, "out of memory");
        return RETAKE_CLI_EXIT_FAIL;
    }
    int code = call_verified(cli, RETAKE_EP_VERIFY, body, false);
    retake_body_free(body);
    return code;
}

/* On a terminal: the human pastes the tweet URL here (empty line or EOF: stop). */
static int ask_for_tweet(struct retake_cli *cli)
{
    char line[RETAKE_URL_MAX + 4], err[256];
    for (;;) {
        fprintf(stderr, "Tweet URL (empty to stop and verify later): ");
        fflush(stderr);
        if (!fgets(line, sizeof(line), stdin))
            return 0;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            return 0;
        if (retake_validate_tweet_url(line, err, sizeof(err)) == 0)
            return verify_url(cli, line);
        fprintf(stderr, "%s\n", err);
    }
}

static int prepare(struct retake_cli *cli)
{
    struct http_response resp;
    int code =
        retake_cli_call(cli, &(struct retake_cli_request){.ep = RETAKE_EP_PREPARE_VERIFY}, &resp);
    if (code)
        return code;
    char msg[1024], err[256];
    int rc =
        retake_parse_prepare_verify(resp.body, resp.body_len, msg, sizeof(msg), err, sizeof(err));
    http_response_clear(&resp);
    if (rc < 0) {
        retake_cli_error(cli, "%s", err);
        return RETAKE_CLI_EXIT_FAIL;
    }
    if (cli->json) {
        cJSON *o = cJSON_CreateObject();
        if (o && cJSON_AddStringToObject(o, "verification_message", msg))
            retake_cli_print_json_line(o);
        cJSON_Delete(o);
        return 0;
    }
    /* The message goes alone on its own line so that it can be copied exactly. */
    printf("Please post this exact message in a tweet:\n\n%s\n\n"
           "Then give the link to the tweet (https://x.com/HANDLE/status/ID):\n"
           "  agentcast verify --tweet-url URL\n",
           msg);
    fflush(stdout);
    return isatty(STDIN_FILENO) && isatty(STDERR_FILENO) ? ask_for_tweet(cli) : 0;
}

int cmd_verify(int argc, char **argv)
{
    struct retake_cli cli;
    retake_cli_init(&cli, "agentcast verify");
    const char *tweet_url = NULL;
    bool status = false;
    int opt, code;
    optind = 0;
    while ((opt = getopt_long(argc, argv, RETAKE_CLI_GLOBAL_SHORT, long_options, NULL)) != -1) {
        if (opt == OPT_TWEET_URL)
            tweet_url = optarg;
        else if (opt == OPT_STATUS)
            status = true;
        else if ((code = retake_cli_global_option(&cli, opt, optarg, usage)) != RETAKE_CLI_OPT_RUN)
            return code;
    }
    if (optind < argc) {
        retake_cli_error(&cli, "unexpected argument \"%s\" (see --help)", argv[optind]);
        return RETAKE_CLI_EXIT_USAGE;
    }
    if (status && tweet_url) {
        retake_cli_error(&cli, "--status and --tweet-url do not go together");
        return RETAKE_CLI_EXIT_USAGE;
    }
    char err[256];
    if (tweet_url && retake_validate_tweet_url(tweet_url, err, sizeof(err)) < 0) {
        retake_cli_error(&cli, "--tweet-url: %s", err);
        return RETAKE_CLI_EXIT_USAGE;
    }
    if ((code = retake_cli_open(&cli)) == 0 && (code = retake_cli_load_credentials(&cli)) == 0) {
        if (status)
            code = call_verified(&cli, RETAKE_EP_VERIFICATION_STATUS, NULL, true);
        else if (tweet_url)
            code = verify_url(&cli, tweet_url);
        else
            code = prepare(&cli);
    }
    retake_cli_finish(&cli);
    return code;
}
