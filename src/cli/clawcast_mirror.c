/*
 * clawcast_mirror — `agentcast clawcast mirror`: books a ClawCast.tv slot and mirrors a log
 * file to it as terminal frames until the slot is over (with --repeat: books again) or SIGINT /
 * SIGTERM ends the slot (clawcast/mirror.h does the work on this command's event loop).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli/clawcast_cmds.h"
#include "cli/clawcast_common.h"
#include "clawcast/mirror.h"
#include "clawcast/validate.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/parse.h"

static void usage(FILE *f)
{
    fputs("usage: agentcast clawcast mirror --name NAME --url URL --text-file LOG\n"
          "                                 [--minutes 1..3] [--repeat] [--api-key-file FILE]\n"
          "                                 [--keepalive SECONDS] [--poll-interval SECONDS]\n"
          "\n"
          "Books a slot and, once it is on air, publishes the new lines of LOG as terminal\n"
          "frames (\"delta\": true) at most once a second. While queued it shows the position.\n"
          "When nothing new is written it sends an empty frame every --keepalive seconds\n"
          "(default 20, below ClawCast's 30 s idle cut). SIGINT/SIGTERM end the slot\n"
          "(endSlot). When the slot is over: with --repeat book again, else exit.\n"
          "--poll-interval: how often the queue (waiting) or /api/now (on air) is read\n"
          "(default 2). The slot JWT is kept in the --state file while the slot lasts.\n\n",
          f);
    clawcast_cli_global_usage(f);
}

struct run {
    struct clawcast_mirror *mirror;
    struct event_loop *loop;
    int exit_code;
    bool ended;
};

static void on_done(int exit_code, void *opaque)
{
    struct run *r = opaque;
    r->exit_code = exit_code;
    r->ended = true;
    event_loop_stop(r->loop);
}

static void on_signal(struct event_loop *loop, int signo, void *arg)
{
    struct run *r = arg;
    if (signo == SIGINT || signo == SIGTERM) {
        log_info("clawcast", "stopping (%s)", strsignal(signo));
        clawcast_mirror_stop(r->mirror);
    }
}

/* seconds (may be fractional, for tests with a scaled clock) → ms; -1 when invalid. */
static int seconds_ms(struct clawcast_cli *cli, const char *opt, const char *s, double max)
{
    double v;
    char err[128];
    if (!s)
        return 0;
    if (parse_double(s, 0.1, max, &v, err, sizeof(err)) < 0) {
        clawcast_cli_error(cli, "%s: %s", opt, err);
        return -1;
    }
    return (int)(v * 1000);
}

int clawcast_cmd_mirror(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast mirror");
    const char *name = NULL, *url = NULL, *minutes = "1", *text_file = NULL, *key_file = NULL;
    const char *keepalive = NULL, *poll = NULL;
    bool repeat = false;
    const struct clawcast_cli_opt opts[] = {{"name", &name, NULL},
                                            {"url", &url, NULL},
                                            {"minutes", &minutes, NULL},
                                            {"text-file", &text_file, NULL},
                                            {"api-key-file", &key_file, NULL},
                                            {"keepalive", &keepalive, NULL},
                                            {"poll-interval", &poll, NULL},
                                            {"repeat", NULL, &repeat},
                                            {NULL, NULL, NULL}};
    int first, rc = clawcast_cli_parse(&cli, argc, argv, opts, usage, &first);
    if (rc != CLAWCAST_CLI_OPT_RUN)
        return rc;
    char err[512], key[CLAWCAST_API_KEY_MAX + 1];
    long m;
    if (first < argc) {
        clawcast_cli_error(&cli, "unexpected argument \"%s\" (see --help)", argv[first]);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    if (!name || !url || !text_file) {
        clawcast_cli_error(&cli, "--name, --url and --text-file are required (see --help)");
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    if (parse_int(minutes, 1, 3, &m, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "--minutes: duration_minutes must be 1, 2 or 3 (%s)", err);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    int keep_ms = seconds_ms(&cli, "--keepalive", keepalive, 29);
    int poll_ms = seconds_ms(&cli, "--poll-interval", poll, 60);
    if (keep_ms < 0 || poll_ms < 0)
        return CLAWCAST_CLI_EXIT_USAGE;
    if (clawcast_validate_streamer_name(name, err, sizeof(err)) < 0 ||
        clawcast_validate_streamer_url(url, err, sizeof(err)) < 0) {
        clawcast_cli_error(&cli, "%s", err);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    if (access(text_file, R_OK) != 0) {
        clawcast_cli_error(&cli, "--text-file: cannot read %s: %s", text_file, strerror(errno));
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    rc = clawcast_cli_read_api_key(&cli, key_file, key);
    if (rc)
        return rc;
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* the JWT and the key live in this process */
    signal(SIGPIPE, SIG_IGN);
    rc = clawcast_cli_open(&cli);
    struct run r = {.loop = cli.loop, .exit_code = CLAWCAST_CLI_EXIT_FAIL};
    if (rc == 0 && event_loop_watch_default_signals(cli.loop, on_signal, &r) < 0) {
        clawcast_cli_error(&cli, "cannot watch signals");
        rc = CLAWCAST_CLI_EXIT_FAIL;
    }
    if (rc == 0) {
        struct clawcast_mirror_options mo = {.streamer_name = name,
                                             .streamer_url = url,
                                             .duration_minutes = (int)m,
                                             .text_file = text_file,
                                             .api_key = key[0] ? key : NULL,
                                             .state_path = cli.state_path,
                                             .repeat = repeat,
                                             .keepalive_ms = keep_ms,
                                             .poll_ms = poll_ms};
        r.mirror = clawcast_mirror_start(cli.loop, cli.client, &mo, on_done, &r, err, sizeof(err));
        if (!r.mirror) {
            clawcast_cli_error(&cli, "%s", err);
            rc = CLAWCAST_CLI_EXIT_USAGE;
        }
    }
    explicit_bzero(key, sizeof(key));
    if (rc == 0) {
        while (!r.ended && event_loop_run(cli.loop) == 0)
            ;
        rc = r.exit_code;
    }
    clawcast_mirror_free(r.mirror);
    clawcast_cli_finish(&cli);
    return rc;
}
