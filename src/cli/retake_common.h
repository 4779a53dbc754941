/*
 * retake_common — what the one-shot retake.tv commands (register, verify, chat, status, discover)
 * share: the global options, loading the credentials, the HTTP client with its token origin, and
 * retake_cli_call(), which performs one API request with retries and turns a failure into one
 * line on stderr and an exit code (0 ok, 1 runtime failure, 2 usage, 3 access token refused).
 *
 * Global options, accepted after the command name by every command:
 *   --api-base URL       default https://retake.tv/api/v1 (http only for loopback hosts)
 *   --credentials PATH   default ~/.config/retake/credentials.json
 *   --timeout SECONDS    per attempt (default 15); at most RETAKE_CLI_MAX_ATTEMPTS attempts
 *   --ca-file PEM        CA bundle instead of the system's (tests with their own CA)
 *   --json               machine-readable output
 *   -v/--verbose, -h/--help, --version
 * The access token is never an option: it comes from RETAKE_ACCESS_TOKEN or the file.
 */
#ifndef AGENTCAST_CLI_RETAKE_COMMON_H
#define AGENTCAST_CLI_RETAKE_COMMON_H

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "net/http.h"
#include "retake/api.h"
#include "retake/credentials.h"

#define RETAKE_CLI_EXIT_OK 0
#define RETAKE_CLI_EXIT_FAIL 1
#define RETAKE_CLI_EXIT_USAGE 2
#define RETAKE_CLI_EXIT_AUTH 3

#define RETAKE_CLI_MAX_ATTEMPTS 4
#define RETAKE_CLI_DEFAULT_TIMEOUT_S 15

enum {
    RETAKE_CLI_OPT_API_BASE = 0x1000,
    RETAKE_CLI_OPT_CREDENTIALS,
    RETAKE_CLI_OPT_TIMEOUT,
    RETAKE_CLI_OPT_CA_FILE,
    RETAKE_CLI_OPT_JSON,
    RETAKE_CLI_OPT_VERSION,
    RETAKE_CLI_OPT_FIRST_FREE /* commands number their own long-only options from here */
};

/* Entries for a command's getopt_long table (put them before its {NULL, 0, NULL, 0}), and the
 * short options they use. */
#define RETAKE_CLI_GLOBAL_OPTIONS                                                                  \
    {"api-base", required_argument, NULL, RETAKE_CLI_OPT_API_BASE},                                \
        {"credentials", required_argument, NULL, RETAKE_CLI_OPT_CREDENTIALS},                      \
        {"timeout", required_argument, NULL, RETAKE_CLI_OPT_TIMEOUT},                              \
        {"ca-file", required_argument, NULL, RETAKE_CLI_OPT_CA_FILE},                              \
        {"json", no_argument, NULL, RETAKE_CLI_OPT_JSON}, {"verbose", no_argument, NULL, 'v'},     \
        {"help", no_argument, NULL, 'h'},                                                          \
    {                                                                                              \
        "version", no_argument, NULL, RETAKE_CLI_OPT_VERSION                                       \
    }
#define RETAKE_CLI_GLOBAL_SHORT "hv"

struct retake_cli {
    const char *cmd;              /* "agentcast chat send", for messages */
    const char *api_base;         /* validated by retake_cli_open */
    const char *credentials_path; /* NULL: the default path */
    const char *ca_file;
    bool json;
    bool verbose;
    int timeout_ms;
    /* Set by retake_cli_open / retake_cli_load_credentials; freed by retake_cli_finish. */
    struct event_loop *loop;
    struct http_client *http;
    struct retake_credentials *creds; /* NULL until loaded */
    char creds_path[PATH_MAX];        /* the path in use (default resolved) */
    uint64_t rng;
};

/* Defaults for cmd (static string). */
void retake_cli_init(struct retake_cli *cli, const char *cmd);

enum retake_cli_opt_result { RETAKE_CLI_OPT_RUN = -1 };
/* Handles a global option (or '?', ':' from getopt). Returns RETAKE_CLI_OPT_RUN to go on, or
 * the exit code to return now (0 after --help/--version, 2 for a bad value or an unknown
 * option); usage(stdout) prints the command's help. */
int retake_cli_global_option(struct retake_cli *cli, int opt, const char *arg,
                             void (*usage)(FILE *));
/* The help text of the global options, for a command's usage(). */
void retake_cli_global_usage(FILE *f);

/* Validates --api-base (exit 2 when wrong), creates the loop and the HTTP client and sets the
 * token origin. Returns 0 or an exit code, the reason printed. */
int retake_cli_open(struct retake_cli *cli);
/* Loads the credentials (RETAKE_ACCESS_TOKEN over the file) into cli->creds and removes the
 * variable from the environment. Returns 0 or an exit code, the reason printed. */
int retake_cli_load_credentials(struct retake_cli *cli);
/* Frees what open/load created (the credentials zeroed). */
void retake_cli_finish(struct retake_cli *cli);

struct retake_cli_request {
    enum retake_endpoint ep;
    const char *param;                /* value of the path's ":param", or NULL */
    const struct retake_query *query; /* documented query parameters, or NULL */
    size_t n_query;
    const char *path;      /* a path already built (e.g. retake_comments_path), or NULL */
    const char *json_body; /* or NULL; may hold the token (never logged) */
    bool quiet;            /* print nothing on failure (the caller reports) */
};

/* Performs req against cli->api_base, with the Bearer token when the endpoint needs one
 * (retake_cli_load_credentials first). 5xx, timeouts and lost connections are retried after
 * http_retry_delay_ms, at most RETAKE_CLI_MAX_ATTEMPTS attempts in all — except that register
 * and chat/send, which must not happen twice, are repeated after a timeout or a lost connection
 * only when the request cannot have reached the server. Returns 0 with a 2xx response in *resp
 * (the caller clears it), or an exit code with the reason printed on stderr: 3 for 401, 2 for
 * a path that cannot be built, 1 for everything else. *resp is cleared on failure. */
int retake_cli_call(struct retake_cli *cli, const struct retake_cli_request *req,
                    struct http_response *resp);

/* Prints "agentcast …: msg" on stderr for a failure after the call (parse errors etc.). */
void retake_cli_error(const struct retake_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copies server text for a terminal: control characters and invalid UTF-8 become '?', newlines
 * and tabs a space; cut (on a character boundary) to fit out. */
void retake_cli_sanitize(const char *in, char *out, size_t out_size);

/* Prints item compactly on one line of stdout and flushes. 0 or -ENOMEM. */
int retake_cli_print_json_line(const cJSON *item);

/* Runs cli->loop for ms milliseconds or until event_loop_stop (a signal): true when stopped. */
bool retake_cli_sleep(struct retake_cli *cli, uint32_t ms);

#endif
