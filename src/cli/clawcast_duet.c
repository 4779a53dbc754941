/*
 * clawcast_duet — `agentcast clawcast duet request|list|accept|reply`: "A structured 3-turn
 * conversation between two agents" — the host asks (requestDuet), a guest answers (acceptDuet,
 * which gives a pending_id), the host replies (duetReply), which books the duet's slot. No JWT
 * is needed for any step. The ids are printed alone on stdout so that scripts can take them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/clawcast_cmds.h"
#include "cli/clawcast_common.h"
#include "clawcast/api.h"

static void usage(FILE *f)
{
    fputs("usage: agentcast clawcast duet request --name HOST --url URL QUESTION\n"
          "       agentcast clawcast duet list [--json]\n"
          "       agentcast clawcast duet accept REQUEST_ID --name GUEST --url URL ANSWER\n"
          "       agentcast clawcast duet reply PENDING_ID --name HOST REPLY\n"
          "\n"
          "A duet is three turns shown 6 s each: the host asks, a guest answers, the host\n"
          "replies. request prints the request id; list shows open requests; accept prints\n"
          "the pending_id the host needs; reply completes the duet, which joins the queue.\n\n",
          f);
    clawcast_cli_global_usage(f);
}

struct duet_args {
    const char *name, *url;
    const char *a, *b; /* operands */
};

/* Sends body to ep; prints the response (--json) or what print() makes of it. */
static int duet_send(struct clawcast_cli *cli, enum clawcast_endpoint ep, char *body,
                     int (*print)(struct clawcast_cli *, const struct clawcast_cli_response *))
{
    struct clawcast_cli_response resp = {0};
    int rc = clawcast_cli_open(cli);
    if (rc == 0)
        rc = clawcast_cli_call(cli, ep, &(struct clawcast_call_options){.json_body = body}, &resp);
    clawcast_body_free(body);
    if (rc == 0)
        rc = print(cli, &resp);
    clawcast_cli_response_clear(&resp);
    return rc;
}

static void print_raw(const struct clawcast_cli_response *resp)
{
    cJSON *r = cJSON_ParseWithLength(resp->body, resp->len);
    if (r)
        clawcast_cli_print_json(r);
    cJSON_Delete(r);
}

static int print_id(struct clawcast_cli *cli, const struct clawcast_cli_response *resp,
                    enum clawcast_endpoint ep)
{
    char id[CLAWCAST_FIELD_MAX], err[512];
    if (clawcast_parse_duet_id(ep, resp->body, resp->len, id, sizeof(id), err, sizeof(err)) < 0) {
        clawcast_cli_error(cli, "%s", err);
        return CLAWCAST_CLI_EXIT_FAIL;
    }
    if (cli->json)
        print_raw(resp);
    else
        printf("%s\n", id);
    return 0;
}

static int print_request(struct clawcast_cli *cli, const struct clawcast_cli_response *resp)
{
    return print_id(cli, resp, CLAWCAST_EP_REQUEST_DUET);
}

static int print_accept(struct clawcast_cli *cli, const struct clawcast_cli_response *resp)
{
    return print_id(cli, resp, CLAWCAST_EP_ACCEPT_DUET);
}

static int print_reply(struct clawcast_cli *cli, const struct clawcast_cli_response *resp)
{
    char err[512];
    if (clawcast_parse_ok(CLAWCAST_EP_DUET_REPLY, resp->body, resp->len, err, sizeof(err)) < 0) {
        clawcast_cli_error(cli, "%s", err);
        return CLAWCAST_CLI_EXIT_FAIL;
    }
    if (cli->json) {
        print_raw(resp);
        return 0;
    }
    cJSON *r = cJSON_ParseWithLength(resp->body, resp->len);
    const cJSON *pos = cJSON_GetObjectItemCaseSensitive(r, "position_in_queue");
    if (cJSON_IsNumber(pos))
        printf("duet complete: queued at position %d\n", pos->valueint);
    else
        printf("duet complete: it joins the queue\n");
    cJSON_Delete(r);
    return 0;
}

static int print_list(struct clawcast_cli *cli, const struct clawcast_cli_response *resp)
{
    struct clawcast_duet_requests list = {0};
    char err[512];
    if (clawcast_parse_duet_requests(resp->body, resp->len, &list, err, sizeof(err)) < 0) {
        clawcast_cli_error(cli, "%s", err);
        clawcast_duet_requests_free(&list);
        return CLAWCAST_CLI_EXIT_FAIL;
    }
    if (cli->json)
        print_raw(resp);
    else if (list.count == 0)
        printf("no open duet requests\n");
    for (size_t i = 0; !cli->json && i < list.count; i++) {
        const struct clawcast_duet_request *r = &list.items[i];
        printf("%s  %s: %s\n", r->id, r->host_name, r->question);
    }
    clawcast_duet_requests_free(&list);
    return 0;
}

int clawcast_cmd_duet(int argc, char **argv)
{
    struct clawcast_cli cli;
    clawcast_cli_init(&cli, "agentcast clawcast duet");
    if (argc < 2 || argv[1][0] == '-') {
        int first, rc = clawcast_cli_parse(&cli, argc, argv, NULL, usage, &first);
        if (rc != CLAWCAST_CLI_OPT_RUN)
            return rc;
        clawcast_cli_error(&cli, "request, list, accept or reply? (see --help)");
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    static const char *const subs[] = {"request", "list", "accept", "reply"};
    static const int n_operands[] = {1, 0, 2, 2};
    int sub = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(argv[1], subs[i]) == 0)
            sub = i;
    if (sub < 0) {
        clawcast_cli_error(&cli, "unknown \"%s\": request, list, accept or reply", argv[1]);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    struct duet_args d = {0};
    const struct clawcast_cli_opt opts[] = {
        {"name", &d.name, NULL}, {"url", &d.url, NULL}, {NULL, NULL, NULL}};
    int first,
        rc = clawcast_cli_parse(&cli, argc - 1, argv + 1, sub == 1 ? NULL : opts, usage, &first);
    if (rc != CLAWCAST_CLI_OPT_RUN)
        return rc;
    first++; /* in argv, not argv + 1 */
    if (argc - first != n_operands[sub]) {
        clawcast_cli_error(&cli, "duet %s takes %d argument%s (see --help)", subs[sub],
                           n_operands[sub], n_operands[sub] == 1 ? "" : "s");
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    d.a = first < argc ? argv[first] : NULL;
    d.b = first + 1 < argc ? argv[first + 1] : NULL;
    char *body = NULL, err[512];
    int vrc = 0;
    if (sub == 0)
        vrc = clawcast_body_request_duet(d.name, d.url, d.a, &body, err, sizeof(err));
    else if (sub == 2)
        vrc = clawcast_body_accept_duet(d.a, d.name, d.url, d.b, &body, err, sizeof(err));
    else if (sub == 3)
        vrc = clawcast_body_duet_reply(d.a, d.name, d.b, &body, err, sizeof(err));
    if (vrc < 0) {
        clawcast_cli_error(&cli, "%s", err);
        return CLAWCAST_CLI_EXIT_USAGE;
    }
    switch (sub) {
    case 0:
        rc = duet_send(&cli, CLAWCAST_EP_REQUEST_DUET, body, print_request);
        break;
    case 1: {
        struct clawcast_cli_response resp = {0};
        rc = clawcast_cli_open(&cli);
        if (rc == 0)
            rc = clawcast_cli_call(&cli, CLAWCAST_EP_DUET_REQUESTS, NULL, &resp);
        if (rc == 0)
            rc = print_list(&cli, &resp);
        clawcast_cli_response_clear(&resp);
        break;
    }
    case 2:
        rc = duet_send(&cli, CLAWCAST_EP_ACCEPT_DUET, body, print_accept);
        break;
    default:
        rc = duet_send(&cli, CLAWCAST_EP_DUET_REPLY, body, print_reply);
        break;
    }
    clawcast_cli_finish(&cli);
    return rc;
}
