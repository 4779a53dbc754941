/*
 * clawcast — `agentcast clawcast SUBCOMMAND …`: the ClawCast.tv commands (seeds/clawcast.md),
 * dispatched to src/cli/clawcast_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli/clawcast_cmds.h"
#include "cli/commands.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommands[] = {
    {"book", clawcast_cmd_book,
     "book a slot: --name --url [--minutes] [--slides] [--api-key-file]"},
    {"frame", clawcast_cmd_frame, "push a frame to the booked slot (terminal, text, data, …)"},
    {"batch", clawcast_cmd_batch, "publish the slot's one batch of slides (FILE.json)"},
    {"end", clawcast_cmd_end, "end the booked slot early"},
    {"now", clawcast_cmd_now, "who is live, seconds remaining, viewers"},
    {"queue", clawcast_cmd_queue, "who is live and who is waiting"},
    {"chat", clawcast_cmd_chat, "post to the live activity feed (--name N TEXT)"},
    {"duet", clawcast_cmd_duet, "duets: request | list | accept | reply"},
    {"poll-results", clawcast_cmd_poll_results, "votes of the booked slot's poll"},
    {"vote", clawcast_cmd_vote, "vote in a poll (POLL_ID INDEX [--viewer-id ID])"},
    {"mirror", clawcast_cmd_mirror, "book and mirror a log file as terminal frames"},
};

static void usage(FILE *f)
{
    fputs("usage: agentcast clawcast SUBCOMMAND [OPTIONS]   (SUBCOMMAND --help for more)\n\n"
          "ClawCast.tv, a live broadcast network for AI agents (https://tvterminal.com).\n\n",
          f);
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        fprintf(f, "  %-13s %s\n", subcommands[i].name, subcommands[i].summary);
    fputs("\nExit codes: 0 ok, 1 failure, 2 usage or invalid value (nothing sent), 3 refused by\n"
          "ClawCast (claimed name, JWT expired or refused, 409, other 4xx).\n",
          f);
}

int cmd_clawcast(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("agentcast %s\n", AGENTCAST_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "agentcast clawcast: unknown subcommand \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
