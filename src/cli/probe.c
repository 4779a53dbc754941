/*
 * probe — `agentcast probe [--json]`: every encoder backend agentcast knows, whether it is built
 * in and usable here (a real one-frame test encode, the same one `--encoder auto` runs), and what
 * the device says of itself: device, driver/vendor string, H.264 profiles, entrypoints, maximum
 * size. The first usable one in the table is what `auto` picks.
 */
#include "cli/commands.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/parse.h"
#include "hwenc/select.h"

enum { OPT_JSON = 256, OPT_DEVICE, OPT_SIZE, OPT_HELP, OPT_VERBOSE };

static const struct option long_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"size", required_argument, NULL, OPT_SIZE},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: agentcast probe [--json] [--device DEV] [--size WxH] [-v]\n"
               "\n"
               "Tests every H.264 encoder backend with a real one-frame encode (the test that\n"
               "--encoder auto runs) and prints, for each, whether it is usable here or why not,\n"
               "and its device, driver, profiles, entrypoints and maximum size. auto picks the\n"
               "first usable one, in this order: nvenc, vaapi, v4l2m2m, x264.\n"
               "\n"
               "  --device DEV   render node for vaapi (/dev/dri/renderD129) or GPU index for\n"
               "                 nvenc (1); default: the first one\n"
               "  --size WxH     picture size of the test encode (default 1280x720)\n"
               "  --json         one JSON object on stdout\n"
               "\n"
               "Exit status: 0 when at least one backend is usable, 1 when none is, 2 usage.\n"
               "\n"
               "Example:\n"
               "  agentcast probe\n"
               "  agentcast probe --json | jq -r '.auto'\n");
}

static const char *or_dash(const char *s)
{
    return s && s[0] ? s : "-";
}

static void print_table(const struct hwenc_report *r, size_t n, const char *chosen)
{
    printf("%-8s %-6s %-24s %-22s %-11s %s\n", "encoder", "usable", "device", "profiles",
           "max size", "driver / why not");
    for (size_t i = 0; i < n; i++) {
        char max[32] = "-";
        if (r[i].caps.max_width > 0)
            snprintf(max, sizeof(max), "%dx%d", r[i].caps.max_width, r[i].caps.max_height);
        printf("%-8s %-6s %-24s %-22s %-11s %s\n", r[i].name, r[i].usable ? "yes" : "no",
               or_dash(r[i].caps.device), or_dash(r[i].caps.profiles), max,
               r[i].usable ? or_dash(r[i].caps.driver) : r[i].why);
        if (r[i].caps.entrypoints[0])
            printf("%-8s %-6s entrypoints: %s\n", "", "", r[i].caps.entrypoints);
    }
    printf("auto: %s\n", chosen ? chosen : "none usable");
}

static int print_json(const struct hwenc_report *r, size_t n, const char *chosen)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = root ? cJSON_AddArrayToObject(root, "backends") : NULL;
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(arr, o) && cJSON_AddStringToObject(o, "name", r[i].name) &&
             cJSON_AddBoolToObject(o, "built", r[i].built) &&
             cJSON_AddBoolToObject(o, "usable", r[i].usable) &&
             cJSON_AddStringToObject(o, "why_not", r[i].usable ? "" : r[i].why) &&
             cJSON_AddStringToObject(o, "device", r[i].caps.device) &&
             cJSON_AddStringToObject(o, "driver", r[i].caps.driver) &&
             cJSON_AddStringToObject(o, "profiles", r[i].caps.profiles) &&
             cJSON_AddStringToObject(o, "entrypoints", r[i].caps.entrypoints) &&
             cJSON_AddNumberToObject(o, "max_width", r[i].caps.max_width) &&
             cJSON_AddNumberToObject(o, "max_height", r[i].caps.max_height);
    }
    if (ok)
        ok = chosen ? cJSON_AddStringToObject(root, "auto", chosen) != NULL
                    : cJSON_AddNullToObject(root, "auto") != NULL;
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    if (text)
        printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(root);
    if (!text)
        fprintf(stderr, "agentcast probe: out of memory\n");
    return text ? 0 : -1;
}

int cmd_probe(int argc, char **argv)
{
    struct hwenc_params params;
    hwenc_params_default(&params);
    bool json = false;
    int opt;
    char err[256];
    log_set_level(LOG_WARN); /* backends' per-step info lines would bury the table */
    while ((opt = getopt_long(argc, argv, "vh", long_options, NULL)) != -1) {
        switch (opt) {
        case OPT_JSON:
            json = true;
            break;
        case OPT_DEVICE:
            params.device = optarg;
            break;
        case OPT_SIZE:
            if (parse_size(optarg, &params.width, &params.height, err, sizeof(err)) < 0) {
                fprintf(stderr, "agentcast probe: --size: %s\n", err);
                return 2;
            }
            break;
        case 'v':
            log_set_level(LOG_DEBUG);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "agentcast probe: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    struct hwenc_report reports[8];
    size_t n = 0;
    const char *chosen = NULL;
    for (size_t i = 0; hwenc_known_names[i] && n < sizeof(reports) / sizeof(reports[0]); i++) {
        hwenc_select_report(hwenc_known_names[i], &params, &reports[n]);
        if (reports[n].usable && !chosen)
            chosen = reports[n].name;
        n++;
    }
    if (json ? print_json(reports, n, chosen) < 0 : (print_table(reports, n, chosen), false))
        return 1;
    return chosen ? 0 : 1;
}
