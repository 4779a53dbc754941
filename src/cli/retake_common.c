/*
 * retake_common — see retake_common.h. The one place where the one-shot retake.tv commands talk
 * HTTP: retries and the meaning of an error status (the document's error table, through
 * retake_http_error) are decided here once, so every command fails the same way.
 */
#include "cli/retake_common.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/utf8_strict.h"
#include "retake/validate.h"

static const char *COMPONENT = "retake";

void retake_cli_init(struct retake_cli *cli, const char *cmd)
{
    *cli = (struct retake_cli){
        .cmd = cmd,
        .api_base = RETAKE_API_BASE_DEFAULT,
        .timeout_ms = RETAKE_CLI_DEFAULT_TIMEOUT_S * 1000,
    };
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cli->rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
}

void retake_cli_error(const struct retake_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void retake_cli_global_usage(FILE *f)
{
    fprintf(f,
            "Global options:\n"
            "  --api-base URL       retake.tv API (default %s;\n"
            "                       plain http only to localhost/127.0.0.1/::1)\n"
            "  --credentials PATH   credentials file (default ~/.config/retake/credentials.json);\n"
            "                       the environment variable %s overrides its token\n"
            "  --timeout SECONDS    per HTTP attempt (default %d; up to %d attempts on 5xx,\n"
            "                       timeouts and lost connections)\n"
            "  --ca-file PEM        trust this CA bundle instead of the system's\n"
            "  --json               machine-readable output\n"
            "  -v, --verbose        debug log on stderr (never the token)\n"
            "  -h, --help           this help;  --version  the version\n"
            "Exit codes: 0 ok, 1 failure, 2 usage or invalid value (nothing sent),\n"
            "            3 access token rejected (HTTP 401)\n",
            RETAKE_API_BASE_DEFAULT, RETAKE_ENV_TOKEN, RETAKE_CLI_DEFAULT_TIMEOUT_S,
            RETAKE_CLI_MAX_ATTEMPTS);
}

int retake_cli_global_option(struct retake_cli *cli, int opt, const char *arg,
                             void (*usage)(FILE *))
{
    char err[160];
    long v;
    switch (opt) {
    case RETAKE_CLI_OPT_API_BASE:
        cli->api_base = arg;
        return RETAKE_CLI_OPT_RUN;
    case RETAKE_CLI_OPT_CREDENTIALS:
        if (!arg[0]) {
            retake_cli_error(cli, "--credentials: empty path");
            return RETAKE_CLI_EXIT_USAGE;
        }
        cli->credentials_path = arg;
        return RETAKE_CLI_OPT_RUN;
    case RETAKE_CLI_OPT_TIMEOUT:
        if (parse_int(arg, 1, 600, &v, err, sizeof(err)) < 0) {
            retake_cli_error(cli, "--timeout: %s", err);
            return RETAKE_CLI_EXIT_USAGE;
        }
        cli->timeout_ms = (int)v * 1000;
        return RETAKE_CLI_OPT_RUN;
    case RETAKE_CLI_OPT_CA_FILE:
        cli->ca_file = arg;
        return RETAKE_CLI_OPT_RUN;
    case RETAKE_CLI_OPT_JSON:
        cli->json = true;
        return RETAKE_CLI_OPT_RUN;
    case 'v':
        cli->verbose = true;
        log_set_level(LOG_DEBUG);
        return RETAKE_CLI_OPT_RUN;
    case 'h':
        usage(stdout);
        return RETAKE_CLI_EXIT_OK;
    case RETAKE_CLI_OPT_VERSION:
        printf("agentcast %s (retake.tv skill %s)\n", AGENTCAST_VERSION, RETAKE_SKILL_VERSION);
        return RETAKE_CLI_EXIT_OK;
    default: /* '?' or ':': getopt_long has said what was wrong */
        fprintf(stderr, "%s: see %s --help\n", cli->cmd, cli->cmd);
        return RETAKE_CLI_EXIT_USAGE;
    }
}

int retake_cli_open(struct retake_cli *cli)
{
    char err[256];
    if (retake_validate_api_base(cli->api_base, NULL, err, sizeof(err)) < 0) {
        retake_cli_error(cli, "--api-base: %s", err);
        return RETAKE_CLI_EXIT_USAGE;
    }
    cli->loop = event_loop_new();
    cli->http = cli->loop ? http_client_new(cli->loop) : NULL;
    if (!cli->http) {
        retake_cli_error(cli, "cannot create the HTTP client");
        return RETAKE_CLI_EXIT_FAIL;
    }
    int rc = http_client_set_token_origin(cli->http, cli->api_base, err, sizeof(err));
    if (rc < 0) {
        retake_cli_error(cli, "--api-base: %s", err);
        return rc == -EPERM || rc == -EINVAL ? RETAKE_CLI_EXIT_USAGE : RETAKE_CLI_EXIT_FAIL;
    }
    if (cli->ca_file && http_client_set_ca_file(cli->http, cli->ca_file) < 0) {
        retake_cli_error(cli, "--ca-file %s: cannot use it", cli->ca_file);
        return RETAKE_CLI_EXIT_USAGE;
    }
    return 0;
}

int retake_cli_load_credentials(struct retake_cli *cli)
{
    char err[512];
    if (cli->credentials_path) {
        if (strlen(cli->credentials_path) >= sizeof(cli->creds_path)) {
            retake_cli_error(cli, "--credentials: path too long");
            return RETAKE_CLI_EXIT_USAGE;
        }
        strcpy(cli->creds_path, cli->credentials_path);
    } else if (retake_credentials_default_path(cli->creds_path, sizeof(cli->creds_path), err,
                                               sizeof(err)) < 0) {
        retake_cli_error(cli, "%s", err);
        return RETAKE_CLI_EXIT_FAIL;
    }
    cli->creds = retake_credentials_new();
    if (!cli->creds) {
        retake_cli_error(cli, "out of memory");
        return RETAKE_CLI_EXIT_FAIL;
    }
    int rc = retake_credentials_load(cli->creds_path, cli->creds, err, sizeof(err));
    retake_credentials_forget_env();
    if (rc < 0) {
        retake_cli_error(cli, "%s", err);
        return RETAKE_CLI_EXIT_FAIL;
    }
    char red[32];
    retake_token_redact(cli->creds->access_token, red, sizeof(red));
    log_debug(COMPONENT, "credentials: token %s from %s", red,
              cli->creds->token_from_env ? RETAKE_ENV_TOKEN : cli->creds_path);
    return 0;
}

void retake_cli_finish(struct retake_cli *cli)
{
    retake_credentials_free(cli->creds);
    cli->creds = NULL;
    http_client_free(cli->http);
    cli->http = NULL;
    event_loop_free(cli->loop);
    cli->loop = NULL;
}

bool retake_cli_sleep(struct retake_cli *cli, uint32_t ms)
{
    bool never = false;
    int rc = event_loop_run_until(cli->loop, &never, clock_now_ns() + (int64_t)ms * NS_PER_MS);
    return rc == -EINTR;
}

/* register and chat/send must not happen twice: after a timeout or a dropped connection the
 * first attempt may have taken effect. Only failures before anything was sent are safe. */
static bool may_retry(enum retake_endpoint ep, const struct http_response *r)
{
    if (!http_is_retryable(r->status, r->curl_code))
        return false;
    if (ep != RETAKE_EP_REGISTER && ep != RETAKE_EP_CHAT_SEND)
        return true;
    if (r->curl_code == 0)
        return true; /* a 5xx: "Server error — Retry" (the document's error table) */
    return r->curl_code == CURLE_COULDNT_CONNECT || r->curl_code == CURLE_COULDNT_RESOLVE_HOST;
}

static int build_url(struct retake_cli *cli, const struct retake_cli_request *req, char **url)
{
    char err[256];
    char *path = NULL;
    if (!req->path &&
        retake_path(req->ep, req->param, req->query, req->n_query, &path, err, sizeof(err)) < 0) {
        retake_cli_error(cli, "%s", err);
        return RETAKE_CLI_EXIT_USAGE;
    }
    *url = retake_url_join(cli->api_base, req->path ? req->path : path);
    free(path);
    if (!*url) {
        retake_cli_error(cli, "out of memory");
        return RETAKE_CLI_EXIT_FAIL;
    }
    return 0;
}

/* The failure of the last attempt as one line on stderr; returns the exit code. */
static int report_failure(struct retake_cli *cli, const struct retake_cli_request *req,
                          const struct http_response *r, unsigned attempts)
{
    char msg[512];
    int code = RETAKE_CLI_EXIT_FAIL;
    const char *hint = "";
    if (r->error) {
        snprintf(msg, sizeof(msg), "%s", r->error_msg[0] ? r->error_msg : strerror(-r->error));
    } else if (r->status >= 300 && r->status < 400) {
        /* The document: "Never follow redirects to alternate domains"; the token stays here. */
        snprintf(msg, sizeof(msg), "%s: HTTP %ld redirect, not followed",
                 retake_endpoint_get(req->ep)->name, r->status);
    } else {
        retake_http_error(req->ep, r->status, r->body, r->body_len, msg, sizeof(msg));
        if (r->status == 401)
            code = RETAKE_CLI_EXIT_AUTH;
        else if (r->status == 409)
            hint = " (`agentcast live` starts a session)";
    }
    if (!req->quiet) {
        if (attempts > 1)
            retake_cli_error(cli, "%s%s (after %u attempts)", msg, hint, attempts);
        else
            retake_cli_error(cli, "%s%s", msg, hint);
    }
    return code;
}

int retake_cli_call(struct retake_cli *cli, const struct retake_cli_request *req,
                    struct http_response *resp)
{
    const struct retake_endpoint_info *info = retake_endpoint_get(req->ep);
    *resp = (struct http_response){0};
    if (!info)
        return RETAKE_CLI_EXIT_FAIL;
    if (info->auth && (!cli->creds || !cli->creds->access_token[0])) {
        retake_cli_error(cli, "no access token: run `agentcast register` or set %s",
                         RETAKE_ENV_TOKEN);
        return RETAKE_CLI_EXIT_FAIL;
    }
    char *url = NULL;
    int code = build_url(cli, req, &url);
    if (code)
        return code;
    struct http_request hr = {
        .method = info->method == RETAKE_POST ? "POST" : "GET",
        .url = url,
        .json_body = req->json_body,
        .bearer_token = info->auth ? cli->creds->access_token : NULL,
        .timeout_ms = cli->timeout_ms,
    };
    unsigned attempt = 0;
    for (;;) {
        int64_t t0 = clock_now_ns();
        int rc = http_perform_sync(cli->http, &hr, resp);
        attempt++;
        log_debug(COMPONENT, "%s %s: attempt %u: HTTP %ld%s%s (%lld ms)", hr.method, info->name,
                  attempt, resp->status, resp->error ? ", " : "",
                  resp->error ? resp->error_msg : "",
                  (long long)((clock_now_ns() - t0) / NS_PER_MS));
        if (rc == -EINTR) {
            retake_cli_error(cli, "interrupted");
            code = RETAKE_CLI_EXIT_FAIL;
            break;
        }
        if (rc == 0 && resp->status >= 200 && resp->status < 300) {
            code = 0;
            break;
        }
        if (attempt >= RETAKE_CLI_MAX_ATTEMPTS || !may_retry(req->ep, resp)) {
            code = report_failure(cli, req, resp, attempt);
            break;
        }
        uint32_t delay = http_retry_delay_ms(attempt - 1, &cli->rng);
        log_info(COMPONENT, "%s: %s; retrying in %u ms", info->name,
                 resp->error ? resp->error_msg : "server error", delay);
        http_response_clear(resp);
        if (retake_cli_sleep(cli, delay)) {
            retake_cli_error(cli, "interrupted");
            code = RETAKE_CLI_EXIT_FAIL;
            break;
        }
    }
    free(url);
    if (code)
        http_response_clear(resp);
    return code;
}

void retake_cli_sanitize(const char *in, char *out, size_t out_size)
{
    size_t o = 0, len = strlen(in);
    if (!out_size)
        return;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = utf8_strict_next(in + i, len - i, &cp);
        if (n < 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
            char c = (n > 0 && (cp == '\n' || cp == '\t')) ? ' ' : '?';
            if (o + 1 >= out_size)
                break;
            out[o++] = c;
            i += n > 0 ? (size_t)n : 1;
            continue;
        }
        if (o + (size_t)n >= out_size)
            break;
        memcpy(out + o, in + i, (size_t)n);
        o += (size_t)n;
        i += (size_t)n;
    }
    out[o] = '\0';
}

int retake_cli_print_json_line(const cJSON *item)
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
