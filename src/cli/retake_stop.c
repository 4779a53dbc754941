/*
 * retake_stop — `agentcast stop`: asks a running `agentcast live` over its control socket to end
 * the session (stream/stop, final stats) and prints what it answers.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/commands.h"
#include "ctl/ctl_client.h"

#define STOP_TIMEOUT_MS 15000

static void usage(FILE *f)
{
    fputs("usage: agentcast stop [--socket PATH] [--json]\n"
          "\n"
          "Stops a running `agentcast live` cleanly (stream/stop, final stats) and prints its\n"
          "final stats. Exit codes: 0 stopped, 1 no running live or it failed, 2 usage.\n",
          f);
}

int cmd_stop(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            path = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "agentcast stop: bad option %s (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "agentcast stop: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    cJSON *reply = NULL;
    char err[512];
    if (ctl_client_command(path, "stop", STOP_TIMEOUT_MS, &reply, err, sizeof(err)) < 0) {
        fprintf(stderr, "agentcast stop: %s\n", err);
        return 1;
    }
    const char *fail = ctl_client_reply_error(reply);
    int rc = 0;
    if (fail) {
        fprintf(stderr, "agentcast stop: %s\n", fail);
        rc = 1;
    } else if (json) {
        char *text = cJSON_PrintUnformatted(reply);
        if (text)
            printf("%s\n", text);
        free(text);
    } else {
        const cJSON *outs = cJSON_GetObjectItemCaseSensitive(reply, "outputs");
        const cJSON *o;
        cJSON_ArrayForEach(o, outs)
        {
            printf("%s: %.0f frames, %.1f MB, %.0f dropped, %.0f reconnects\n",
                   cJSON_GetStringValue(cJSON_GetObjectItem(o, "name")),
                   cJSON_GetNumberValue(cJSON_GetObjectItem(o, "frames_sent")),
                   cJSON_GetNumberValue(cJSON_GetObjectItem(o, "bytes_sent")) / 1e6,
                   cJSON_GetNumberValue(cJSON_GetObjectItem(o, "dropped")),
                   cJSON_GetNumberValue(cJSON_GetObjectItem(o, "reconnects")));
        }
        const cJSON *d = cJSON_GetObjectItem(reply, "duration_seconds");
        if (cJSON_IsNumber(d))
            printf("retake.tv session: %.0f s, %.0f viewers\n", cJSON_GetNumberValue(d),
                   cJSON_GetNumberValue(cJSON_GetObjectItem(reply, "viewers")));
        else
            printf("stopped\n");
    }
    cJSON_Delete(reply);
    return rc;
}
