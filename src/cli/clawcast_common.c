/*
 * clawcast_common — see clawcast_common.h. The one place where the one-shot ClawCast.tv
 * commands wait for the network: a call is started on the client and the loop runs until its
 * callback has run, so every command fails the same way.
 */
#include "cli/clawcast_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clawcast/api_key.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/parse.h"

#define JSON_FILE_MAX (1L << 20)

void clawcast_cli_init(struct clawcast_cli *cli, const char *cmd)
{
    *cli = (struct clawcast_cli){
        .cmd = cmd,
        .base = CLAWCAST_API_BASE_DEFAULT,
        .timeout_ms = CLAWCAST_CLIENT_TIMEOUT_MS,
    };
}

void clawcast_cli_error(const struct clawcast_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void clawcast_cli_global_usage(FILE *f)
{
    fprintf(f,
            "Global options:\n"
            "  --clawcast-base URL  ClawCast.tv (default %s;\n"
            "                       plain http only to localhost/127.0.0.1/::1)\n"
            "  --state FILE         the booked slot's file, 0600 (default\n"
            "                       $XDG_STATE_HOME/agentcast/clawcast-slot.json)\n"
            "  --timeout SECONDS    per HTTP attempt (default %d; up to %d attempts on 5xx,\n"
            "                       timeouts and lost connections)\n"
            "  --ca-file PEM        trust this CA bundle instead of the system's\n"
            "  --json               machine-readable output\n"
            "  -v, --verbose        debug log on stderr (never the slot JWT or the API key)\n"
            "  -h, --help           this help;  --version  the version\n"
            "Exit codes: 0 ok, 1 failure, 2 usage or a value ClawCast's rules refuse (nothing\n"
            "            sent), 3 refused by ClawCast (claimed name, JWT, 409, other 4xx)\n",
            CLAWCAST_API_BASE_DEFAULT, CLAWCAST_CLIENT_TIMEOUT_MS / 1000, CLAWCAST_CLIENT_ATTEMPTS);
}

int clawcast_cli_global_option(struct clawcast_cli *cli, int opt, const char *arg,
                               void (*usage)(FILE *))
{
    char err[160];
    long v;
    switch (opt) {
    case CLAWCAST_CLI_OPT_BASE:
        cli->base = arg;
        return CLAWCAST_CLI_OPT_RUN;
    case CLAWCAST_CLI_OPT_STATE:
        if (!arg[0]) {
            clawcast_cli_error(cli, "--state: empty path");
            return CLAWCAST_CLI_EXIT_USAGE;
        }
        cli->state_path = arg;
        return CLAWCAST_CLI_OPT_RUN;
    case CLAWCAST_CLI_OPT_TIMEOUT:
        if (parse_int(arg, 1, 600, &v, err, sizeof(err)) < 0) {
            clawcast_cli_error(cli, "--timeout: %s", err);
            return CLAWCAST_CLI_EXIT_USAGE;
        }
        cli->timeout_ms = (int)v * 1000;
        return CLAWCAST_CLI_OPT_RUN;
    case CLAWCAST_CLI_OPT_CA_FILE:
        cli->ca_file = arg;
        return CLAWCAST_CLI_OPT_RUN;
    case CLAWCAST_CLI_OPT_JSON:
        cli->json = true;
        return CLAWCAST_CLI_OPT_RUN;
    case 'v':
        log_set_level(LOG_DEBUG);
        return CLAWCAST_CLI_OPT_RUN;
    case 'h':
        usage(stdout);
        return CLAWCAST_CLI_EXIT_OK;
    case CLAWCAST_CLI_OPT_VERSION:
        printf("agentcast %s\n", AGENTCAST_VERSION);
        return CLAWCAST_CLI_EXIT_OK;
    default: /* '?' or ':': getopt_long has said what was wrong */
        fprintf(stderr, "%s: see %s --help\n", cli->cmd, cli->cmd);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
}

#define CMD_OPTS_MAX 16

int clawcast_cli_parse(struct clawcast_cli *cli, int argc, char **argv,
                       const struct clawcast_cli_opt *opts, void (*usage)(FILE *), int *first_arg)
{
    static const struct option global[] = {CLAWCAST_CLI_GLOBAL_OPTIONS};
    const size_t n_global = sizeof(global) / sizeof(global[0]);
    struct option table[CMD_OPTS_MAX + sizeof(global) / sizeof(global[0]) + 1];
    size_t n = 0;
    for (; opts && opts[n].name && n < CMD_OPTS_MAX; n++)
        table[n] = (struct option){opts[n].name, opts[n].str ? required_argument : no_argument,
                                   NULL, CLAWCAST_CLI_OPT_FIRST_FREE + (int)n};
    memcpy(table + n, global, sizeof(global));
    table[n + n_global] = (struct option){NULL, 0, NULL, 0};
    optind = 0; /* a fresh scan (GNU): argv differs from any earlier parse */
    int opt;
    /* GNU getopt moves the operands to the end, in their order; "--" ends the options. */
    while ((opt = getopt_long(argc, argv, CLAWCAST_CLI_GLOBAL_SHORT, table, NULL)) != -1) {
        int k = opt - CLAWCAST_CLI_OPT_FIRST_FREE;
        if (k >= 0 && (size_t)k < n) {
            if (opts[k].str)
                *opts[k].str = optarg;
            else
                *opts[k].flag = true;
            continue;
        }
        int rc = clawcast_cli_global_option(cli, opt, optarg, usage);
        if (rc != CLAWCAST_CLI_OPT_RUN)
            return rc;
    }
    *first_arg = optind;
    return CLAWCAST_CLI_OPT_RUN;
}

int clawcast_cli_open(struct clawcast_cli *cli)
{
    char err[256];
    cli->loop = event_loop_new();
    if (!cli->loop) {
        clawcast_cli_error(cli, "cannot create the event loop");
        return CLAWCAST_CLI_EXIT_FAIL;
    }
    cli->client = clawcast_client_new(cli->loop, cli->base, cli->ca_file, err, sizeof(err));
    if (!cli->client) {
        clawcast_cli_error(cli, "--clawcast-base %s: %s", cli->base, err);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    return 0;
}

void clawcast_cli_finish(struct clawcast_cli *cli)
{
    clawcast_state_free(cli->slot);
    cli->slot = NULL;
    clawcast_client_free(cli->client);
    cli->client = NULL;
    event_loop_free(cli->loop);
    cli->loop = NULL;
}

int clawcast_cli_load_slot(struct clawcast_cli *cli)
{
    char err[512];
    if (!cli->slot && !(cli->slot = clawcast_state_new())) {
        clawcast_cli_error(cli, "out of memory");
        return CLAWCAST_CLI_EXIT_FAIL;
    }
    if (clawcast_state_load(cli->state_path, cli->slot, err, sizeof(err)) < 0) {
        clawcast_cli_error(cli, "%s", err);
        return CLAWCAST_CLI_EXIT_FAIL;
    }
    if (clawcast_state_check_usable(cli->slot, (int64_t)time(NULL), err, sizeof(err)) < 0) {
        clawcast_cli_error(cli, "%s", err);
        return CLAWCAST_CLI_EXIT_REFUSED;
    }
    return 0;
}

/* ---- calls ------------------------------------------------------------------------------- */

struct sync_call {
    bool done;
    struct clawcast_cli_response *resp;
    long status;
    int error;
    char message[512];
};

static void on_done(const struct clawcast_result *res, void *opaque)
{
    struct sync_call *s = opaque;
    s->done = true;
    s->status = res->status;
    s->error = res->error;
    if (!res->ok) {
        snprintf(s->message, sizeof(s->message), "%s", res->message);
        return;
    }
    s->resp->status = res->status;
    s->resp->body = malloc(res->len + 1);
    if (!s->resp->body) {
        snprintf(s->message, sizeof(s->message), "out of memory");
        s->error = -ENOMEM;
        return;
    }
    memcpy(s->resp->body, res->body ? res->body : "", res->len);
    s->resp->body[res->len] = '\0';
    s->resp->len = res->len;
}

static int exit_code_for(long status, int error)
{
    if (error == -EKEYEXPIRED || error == -ENOENT)
        return CLAWCAST_CLI_EXIT_REFUSED;
    if (error == -EINVAL)
        return CLAWCAST_CLI_EXIT_USAGE;
    if (status >= 400 && status < 500)
        return CLAWCAST_CLI_EXIT_REFUSED;
    return CLAWCAST_CLI_EXIT_FAIL;
}

int clawcast_cli_call_quiet(struct clawcast_cli *cli, enum clawcast_endpoint ep,
                            const struct clawcast_call_options *o,
                            struct clawcast_cli_response *resp, char *msg, size_t msg_size)
{
    struct clawcast_call_options co = o ? *o : (struct clawcast_call_options){0};
    if (!co.timeout_ms)
        co.timeout_ms = cli->timeout_ms;
    struct sync_call s = {.resp = resp};
    *resp = (struct clawcast_cli_response){0};
    msg[0] = '\0';
    struct clawcast_call *call = NULL;
    int rc = clawcast_client_call(cli->client, ep, &co, on_done, &s, &call, s.message,
                                  sizeof(s.message));
    if (rc < 0) {
        snprintf(msg, msg_size, "%s", s.message);
        return exit_code_for(0, rc);
    }
    rc = event_loop_run_until(cli->loop, &s.done, INT64_MAX);
    if (!s.done) {
        clawcast_call_cancel(call);
        snprintf(msg, msg_size, "interrupted");
        return CLAWCAST_CLI_EXIT_FAIL;
    }
    if (s.message[0] || !resp->body) {
        snprintf(msg, msg_size, "%s", s.message);
        clawcast_cli_response_clear(resp);
        resp->status = s.status;
        return exit_code_for(s.status, s.error);
    }
    return 0;
}

int clawcast_cli_call(struct clawcast_cli *cli, enum clawcast_endpoint ep,
                      const struct clawcast_call_options *o, struct clawcast_cli_response *resp)
{
    char msg[512];
    int rc = clawcast_cli_call_quiet(cli, ep, o, resp, msg, sizeof(msg));
    if (rc)
        clawcast_cli_error(cli, "%s", msg);
    return rc;
}

void clawcast_cli_response_clear(struct clawcast_cli_response *resp)
{
    if (resp->body) {
        explicit_bzero(resp->body, resp->len);
        free(resp->body);
    }
    *resp = (struct clawcast_cli_response){0};
}

/* ---- files ------------------------------------------------------------------------------- */

/* Reads a small file (at most max bytes; "-": stdin) into a malloc'd NUL-terminated buffer.
 * 0 or exit code (message printed). */
static int read_small(struct clawcast_cli *cli, const char *what, const char *path, long max,
                      char **out, size_t *len)
{
    *out = NULL;
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        clawcast_cli_error(cli, "%s %s: %s", what, path, strerror(errno));
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    char *buf = malloc((size_t)max + 1);
    size_t n = 0;
    int code = buf ? 0 : CLAWCAST_CLI_EXIT_FAIL;
    while (code == 0) {
        ssize_t r = read(fd, buf + n, (size_t)max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            clawcast_cli_error(cli, "%s %s: %s", what, path, strerror(errno));
            code = CLAWCAST_CLI_EXIT_USAGE;
        } else if (r == 0) {
            break;
        } else if ((n += (size_t)r) > (size_t)max) {
            clawcast_cli_error(cli, "%s %s: larger than %ld bytes", what, path, max);
            code = CLAWCAST_CLI_EXIT_USAGE;
        }
    }
    if (!is_stdin)
        close(fd);
    if (code) {
        if (buf) {
            explicit_bzero(buf, (size_t)max + 1);
            free(buf);
        } else {
            clawcast_cli_error(cli, "out of memory");
        }
        return code;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int clawcast_cli_read_api_key(struct clawcast_cli *cli, const char *path, char *key)
{
    char err[512];
    int rc = clawcast_api_key_load(path, key, err, sizeof(err));
    if (rc == -ENOMEM) {
        clawcast_cli_error(cli, "out of memory");
        return CLAWCAST_CLI_EXIT_FAIL;
    }
    if (rc < 0) {
        clawcast_cli_error(cli, "%s", err);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    return 0;
}

int clawcast_cli_read_json(struct clawcast_cli *cli, const char *path, cJSON **out)
{
    char *buf;
    size_t n;
    *out = NULL;
    int code = read_small(cli, "JSON file", path, JSON_FILE_MAX, &buf, &n);
    if (code)
        return code;
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(buf, n, &end, 0);
    if (!*out) {
        size_t at = end && end >= buf ? (size_t)(end - buf) : 0;
        clawcast_cli_error(cli, "%s: not valid JSON (near byte %zu)", path, at);
        code = CLAWCAST_CLI_EXIT_USAGE;
    }
    free(buf);
    return code;
}

int clawcast_cli_print_json(const cJSON *item)
{
    char *s = cJSON_PrintUnformatted(item);
    if (!s)
        return -ENOMEM;
    fputs(s, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    free(s);
    return 0;
}
