/*
 * retake_live — `agentcast live`: the retake.tv session (src/retake/live.c) around the media
 * pipeline. Takes every `agentcast stream` option plus its own; the live-only options are taken
 * out of argv first and the rest is parsed by stream_options_parse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "clawcast/validate.h"
#include "core/log.h"
#include "core/parse.h"
#include "retake/live.h"
#include "retake/validate.h"

static void usage(FILE *f)
{
    fputs("usage: agentcast live [agentcast stream options] [live options]\n"
          "\n"
          "Goes live on retake.tv: checks the agent is verified, gets fresh RTMP keys, calls\n"
          "stream/start, streams, waits for is_live, uploads a thumbnail of the stream, opens\n"
          "the chat, then polls comments (one JSON line each on stdout), refreshes the\n"
          "thumbnail every 3 min and recovers with fresh keys when the stream drops. SIGINT,\n"
          "SIGTERM or `agentcast stop` end it with stream/stop.\n"
          "\n"
          "Live options:\n"
          "  --api-base URL            default https://retake.tv/api/v1\n"
          "  --credentials PATH        default ~/.config/retake/credentials.json\n"
          "                            (RETAKE_ACCESS_TOKEN overrides its token)\n"
          "  --on-chat CMD             run CMD per comment, the comment as JSON on stdin;\n"
          "                            a non-empty stdout is sent as the reply\n"
          "  --notify CMD              run CMD when the stream goes live, recovers or fails,\n"
          "                            with a JSON event on stdin\n"
          "  --idle-messages FILE      lines sent in turn when chat has been quiet\n"
          "  --quiet-after SECONDS     quiet time before an idle message (120)\n"
          "  --opening-message TEXT    first chat message (\"I'm live. What should we explore"
          " today?\")\n"
          "  --live-timeout SECONDS    wait for is_live before recovering (30)\n"
          "  --thumbnail-interval S    thumbnail refresh (180)   --status-interval S (30)\n"
          "  --socket PATH             control socket for `agentcast stop` (default\n"
          "                            $XDG_RUNTIME_DIR/agentcast/live.sock)\n"
          "  --clawcast-mirror NAME    also mirror the --text-file to ClawCast.tv as NAME:\n"
          "                            slot after slot, terminal frames ~1/s (see `agentcast\n"
          "                            clawcast mirror --help`); its failures never end the\n"
          "                            retake.tv stream\n"
          "  --clawcast-base URL       default https://tvterminal.com\n"
          "  --clawcast-url URL        streamer_url (default https://retake.tv/AGENT)\n"
          "  --clawcast-minutes 1..3   slot length (1)\n"
          "  --clawcast-api-key-file F API key of a claimed NAME (or $CLAWCAST_API_KEY)\n"
          "  --clawcast-keepalive S    empty frame after S quiet seconds (20)\n"
          "  --clawcast-poll-interval S  queue / now polling (2)\n"
          "\n"
          "Without --output nothing is recorded locally; --output adds outputs beside retake.tv.\n"
          "Exit codes: 0 ok, 1 runtime failure, 2 usage, 3 refused by retake.tv (token, not\n"
          "verified).\n",
          f);
}

struct live_arg {
    const char *name;
    const char **str;
    int *ms; /* seconds on the command line, kept in ms */
};

/* Takes the live-only options out of argv (compacting it); -1 on a bad value. */
static int take_live_options(int *argc, char **argv, struct live_options *o)
{
    const struct live_arg args[] = {
        {"--api-base", &o->api_base, NULL},
        {"--credentials", &o->credentials_path, NULL},
        {"--on-chat", &o->on_chat, NULL},
        {"--notify", &o->notify, NULL},
        {"--idle-messages", &o->idle_messages, NULL},
        {"--opening-message", &o->opening_message, NULL},
        {"--socket", &o->socket_path, NULL},
        {"--clawcast-mirror", &o->clawcast_mirror, NULL},
        {"--clawcast-base", &o->clawcast_base, NULL},
        {"--clawcast-url", &o->clawcast_url, NULL},
        {"--clawcast-minutes", &o->clawcast_minutes, NULL},
        {"--clawcast-api-key-file", &o->clawcast_api_key_file, NULL},
        {"--clawcast-keepalive", NULL, &o->clawcast_keepalive_ms},
        {"--clawcast-poll-interval", NULL, &o->clawcast_poll_ms},
        {"--quiet-after", NULL, &o->quiet_after_ms},
        {"--live-timeout", NULL, &o->live_timeout_ms},
        {"--thumbnail-interval", NULL, &o->thumbnail_interval_ms},
        {"--status-interval", NULL, &o->status_interval_ms},
    };
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const struct live_arg *hit = NULL;
        const char *value = NULL;
        for (size_t k = 0; k < sizeof(args) / sizeof(args[0]); k++) {
            size_t n = strlen(args[k].name);
            if (strncmp(argv[i], args[k].name, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '=')) {
                hit = &args[k];
                value = argv[i][n] == '=' ? argv[i] + n + 1 : NULL;
                break;
            }
        }
        if (!hit) {
            argv[out++] = argv[i];
            continue;
        }
        if (!value) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "agentcast live: %s needs a value\n", hit->name);
                return -1;
            }
            value = argv[++i];
        }
        if (hit->str) {
            *hit->str = value;
        } else {
            double s;
            char err[128];
            if (parse_double(value, 1, 86400, &s, err, sizeof(err)) < 0) {
                fprintf(stderr, "agentcast live: %s: %s\n", hit->name, err);
                return -1;
            }
            *hit->ms = (int)(s * 1000);
        }
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

/* --clawcast-*: the values the document's rules refuse are refused before anything starts. */
static int validate_clawcast(const struct live_options *o)
{
    char err[256];
    long minutes;
    if (!o->clawcast_mirror)
        return 0;
    int rc = clawcast_validate_streamer_name(o->clawcast_mirror, err, sizeof(err));
    if (rc == 0 && o->clawcast_url)
        rc = clawcast_validate_streamer_url(o->clawcast_url, err, sizeof(err));
    if (rc == 0 && o->clawcast_base)
        rc = retake_validate_api_base(o->clawcast_base, NULL, err, sizeof(err));
    if (rc == 0 && o->clawcast_minutes &&
        parse_int(o->clawcast_minutes, 1, 3, &minutes, err, sizeof(err)) < 0)
        rc = clawcast_validate_duration_minutes(0, err, sizeof(err));
    if (rc == 0 && o->clawcast_keepalive_ms >= 30000) {
        snprintf(err, sizeof(err), "--clawcast-keepalive: below the 30 s idle cut, please");
        rc = -EINVAL;
    }
    if (rc < 0)
        fprintf(stderr, "agentcast live: --clawcast-mirror: %s\n", err);
    return rc;
}

static int validate(const struct live_options *o)
{
    char err[256];
    bool loopback;
    if (retake_validate_api_base(o->api_base, &loopback, err, sizeof(err)) < 0) {
        fprintf(stderr, "agentcast live: --api-base: %s\n", err);
        return -1;
    }
    if (o->opening_message && o->opening_message[0] &&
        retake_validate_chat_text(o->opening_message, err, sizeof(err)) < 0) {
        fprintf(stderr, "agentcast live: --opening-message: %s\n", err);
        return -1;
    }
    if (validate_clawcast(o) < 0)
        return -1;
    if (o->idle_messages && access(o->idle_messages, R_OK) != 0) {
        fprintf(stderr, "agentcast live: --idle-messages: cannot read %s: %s\n", o->idle_messages,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* The mirror tails the terminal source's file itself: a regular file (two readers of a FIFO
 * would share its lines between them). */
static bool mirror_file_ok(const char *path)
{
    struct stat st;
    if (!path || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        fputs("agentcast live: --clawcast-mirror mirrors the terminal source's text: it needs "
              "--text-file LOG, a regular file\n",
              stderr);
        return false;
    }
    return true;
}

int cmd_live(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            fputs("\nStream options (as for agentcast stream):\n", stdout);
            stream_options_usage(stdout);
            return 0;
        }
    }
    struct live_options *o = malloc(sizeof(*o));
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    if (!o || !args) {
        free(o);
        free(args);
        return 1;
    }
    live_options_default(o);
    memcpy(args, argv, (size_t)argc * sizeof(*args));
    int n = argc;
    int rc = 2;
    if (take_live_options(&n, args, o) == 0 && validate(o) == 0) {
        switch (stream_options_parse(n, args, &o->stream, stdout, stderr)) {
        case STREAM_OPTIONS_EXIT:
            rc = 0;
            break;
        case STREAM_OPTIONS_USAGE:
            rc = 2;
            break;
        case STREAM_OPTIONS_RUN:
            if (o->clawcast_mirror && !mirror_file_ok(o->stream.terminal.text_file))
                break;
            if (o->stream.output_defaulted)
                o->stream.pipeline.n_outputs = 0; /* live records nothing unless asked */
            log_set_level(o->stream.verbose ? LOG_DEBUG : LOG_INFO);
            log_set_json(o->stream.log_json);
            rc = live_run(o);
            break;
        }
    }
    free(args);
    free(o);
    return rc;
}
