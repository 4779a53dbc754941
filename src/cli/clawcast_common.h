/*
 * clawcast_common — what the `agentcast clawcast …` subcommands share: the global options, the
 * event loop with a ClawCast client (clawcast/client.h), one call performed to its end with the
 * failure turned into one line on stderr and an exit code, the slot state file, the API key
 * (from a file or the environment, never argv) and JSON input files.
 *
 * Exit codes: 0 ok, 1 runtime failure (network, 5xx after retries, malformed answer),
 * 2 usage or a value the document's rules refuse (nothing sent), 3 refused by ClawCast (401,
 * 403, 409, other 4xx; an expired slot JWT).
 *
 * Global options, accepted after the subcommand by every command:
 *   --clawcast-base URL   default https://tvterminal.com (plain http only to loopback hosts)
 *   --state FILE          the slot file (default $XDG_STATE_HOME/agentcast/clawcast-slot.json)
 *   --timeout SECONDS     per attempt (default 15); up to CLAWCAST_CLIENT_ATTEMPTS attempts
 *   --ca-file PEM         CA bundle instead of the system's (tests with their own CA)
 *   --json                machine-readable output
 *   -v/--verbose, -h/--help, --version
 */
#ifndef AGENTCAST_CLI_CLAWCAST_COMMON_H
#define AGENTCAST_CLI_CLAWCAST_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "clawcast/api_key.h"
#include "clawcast/client.h"
#include "clawcast/state.h"

#define CLAWCAST_CLI_EXIT_OK 0
#define CLAWCAST_CLI_EXIT_FAIL 1
#define CLAWCAST_CLI_EXIT_USAGE 2
#define CLAWCAST_CLI_EXIT_REFUSED 3

enum {
    CLAWCAST_CLI_OPT_BASE = 0x1000,
    CLAWCAST_CLI_OPT_STATE,
    CLAWCAST_CLI_OPT_TIMEOUT,
    CLAWCAST_CLI_OPT_CA_FILE,
    CLAWCAST_CLI_OPT_JSON,
    CLAWCAST_CLI_OPT_VERSION,
    CLAWCAST_CLI_OPT_FIRST_FREE /* commands number their own long-only options from here */
};

/* Entries for a command's getopt_long table, before its {NULL, 0, NULL, 0}. */
#define CLAWCAST_CLI_GLOBAL_OPTIONS                                                                \
    {"clawcast-base", required_argument, NULL, CLAWCAST_CLI_OPT_BASE},                             \
        {"state", required_argument, NULL, CLAWCAST_CLI_OPT_STATE},                                \
        {"timeout", required_argument, NULL, CLAWCAST_CLI_OPT_TIMEOUT},                            \
        {"ca-file", required_argument, NULL, CLAWCAST_CLI_OPT_CA_FILE},                            \
        {"json", no_argument, NULL, CLAWCAST_CLI_OPT_JSON}, {"verbose", no_argument, NULL, 'v'},   \
        {"help", no_argument, NULL, 'h'},                                                          \
    {                                                                                              \
        "version", no_argument, NULL, CLAWCAST_CLI_OPT_VERSION                                     \
    }
#define CLAWCAST_CLI_GLOBAL_SHORT "hv"

struct clawcast_cli {
    const char *cmd; /* "agentcast clawcast book", for messages */
    const char *base;
    const char *state_path; /* NULL: the default */
    const char *ca_file;
    bool json;
    int timeout_ms;
    struct event_loop *loop;          /* clawcast_cli_open */
    struct clawcast_client *client;   /* clawcast_cli_open */
    struct clawcast_slot_state *slot; /* clawcast_cli_load_slot */
};

void clawcast_cli_init(struct clawcast_cli *cli, const char *cmd);
/* A global option (or getopt's '?'/':'): CLAWCAST_CLI_OPT_RUN to go on, or the exit code to
 * return now (0 after --help/--version, 2 for a bad value). */
enum { CLAWCAST_CLI_OPT_RUN = -1 };
int clawcast_cli_global_option(struct clawcast_cli *cli, int opt, const char *arg,
                               void (*usage)(FILE *));
void clawcast_cli_global_usage(FILE *f);

/* A command's own options: --name VALUE (str) or --flag (flag). */
struct clawcast_cli_opt {
    const char *name;
    const char **str; /* takes a value; NULL for a flag */
    bool *flag;
};
/* Parses argv (argv[0] is the command's name) with getopt_long: the global options and opts
 * (NULL-name terminated; at most 16). Returns CLAWCAST_CLI_OPT_RUN with *first_arg the index of
 * the first operand, or the exit code to return now. */
int clawcast_cli_parse(struct clawcast_cli *cli, int argc, char **argv,
                       const struct clawcast_cli_opt *opts, void (*usage)(FILE *), int *first_arg);

/* The loop and the client (--clawcast-base checked: exit 2 when refused). 0 or exit code. */
int clawcast_cli_open(struct clawcast_cli *cli);
/* Frees what open/load_slot made (the slot zeroed). */
void clawcast_cli_finish(struct clawcast_cli *cli);

/* Loads the slot file into cli->slot and checks that its JWT has not expired. 0 or an exit
 * code with the reason printed (1: no file / unreadable; 3: expired). */
int clawcast_cli_load_slot(struct clawcast_cli *cli);

struct clawcast_cli_response {
    long status;
    char *body; /* NUL-terminated, malloc'd; clawcast_cli_response_clear */
    size_t len;
};
/* Performs one call (retries per client.h) and runs the loop until it ends. 0 with a 2xx
 * response in *resp (the caller clears it), or an exit code with the reason printed (3 for 4xx
 * and an expired JWT, 1 otherwise; 1 too when SIGINT/SIGTERM interrupts). o->timeout_ms 0:
 * --timeout. */
int clawcast_cli_call(struct clawcast_cli *cli, enum clawcast_endpoint ep,
                      const struct clawcast_call_options *o, struct clawcast_cli_response *resp);
/* As clawcast_cli_call, but a failure is returned in msg and resp->status instead of printed
 * (for commands that explain a status themselves). Returns 0 on 2xx, else the exit code. */
int clawcast_cli_call_quiet(struct clawcast_cli *cli, enum clawcast_endpoint ep,
                            const struct clawcast_call_options *o,
                            struct clawcast_cli_response *resp, char *msg, size_t msg_size);
void clawcast_cli_response_clear(struct clawcast_cli_response *resp);

/* The API key: from path (NULL: $CLAWCAST_API_KEY, which is then removed from the
 * environment; neither: *key = "" and 0). The file must be ours and not readable by group or
 * others (like the slot file). Trailing whitespace is dropped. 0 or an exit code with the
 * reason printed (2: bad file or key). key has CLAWCAST_API_KEY_MAX + 1 bytes. */
int clawcast_cli_read_api_key(struct clawcast_cli *cli, const char *path, char *key);

/* Parses the JSON of path ("-": stdin). 0 with *out (cJSON_Delete), or exit code 2 with the
 * reason printed. */
int clawcast_cli_read_json(struct clawcast_cli *cli, const char *path, cJSON **out);

void clawcast_cli_error(const struct clawcast_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints item compact on one line of stdout. 0 or -ENOMEM. */
int clawcast_cli_print_json(const cJSON *item);

#endif
