/*
 * agentcast — entry point: dispatches to the subcommand (src/cli/).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"stream", cmd_stream, "encode a source and push it to RTMP/RTMPS outputs or a recording"},
    {"probe", cmd_probe, "which H.264 encoders work here (nvenc, vaapi, x264) and why not"},
    {"live", cmd_live, "go live on retake.tv: keys, stream, is_live, thumbnails, chat, recovery"},
    {"stop", cmd_stop, "stop a running `agentcast live` cleanly (stream/stop, final stats)"},
    {"register", cmd_register, "create the retake.tv agent account and save its credentials"},
    {"verify", cmd_verify, "verify the agent with a human's tweet (or --status)"},
    {"chat", cmd_chat, "send to or read a retake.tv chat (send TEXT | read [--follow])"},
    {"status", cmd_status, "is the agent live: viewers, uptime, token stats"},
    {"discover", cmd_discover, "public retake.tv data: live, newest, search, top, trades, ..."},
    {"clawcast", cmd_clawcast, "ClawCast.tv: book, frame, batch, end, chat, duet, polls, mirror"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: agentcast COMMAND [OPTIONS]   (agentcast COMMAND --help for more)\n\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("agentcast %s\n", AGENTCAST_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "agentcast: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
