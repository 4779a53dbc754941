/*
 * stream_options — see stream_options.h. Every value is checked here, before anything starts,
 * so a typo ends with one clear line and exit code 2 rather than a half-started stream.
 */
#include "cli/stream_options.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/parse.h"
#include "net/stream_url.h"

enum {
    OPT_OUTPUT = 'o',
    OPT_VERBOSE = 'v',
    OPT_HELP = 'h',
    OPT_SOURCE = 256,
    OPT_TEXT_FILE,
    OPT_ENCODER,
    OPT_SIZE,
    OPT_FPS,
    OPT_BITRATE,
    OPT_MAXRATE,
    OPT_BUFSIZE,
    OPT_KEYINT_SEC,
    OPT_PRESET,
    OPT_TUNE,
    OPT_PROFILE,
    OPT_THREADS,
    OPT_DURATION,
    OPT_CA_FILE,
    OPT_STATS_JSON,
    OPT_FONT,
    OPT_FONT_SIZE,
    OPT_FG,
    OPT_BG,
    OPT_ANSI,
    OPT_DROP_THRESHOLD,
    OPT_CONNECT_TIMEOUT,
    OPT_LOG_JSON,
    OPT_VERSION,
    OPT_DEVICE,
    OPT_DUMP_RAW,
};

static const struct option long_options[] = {
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"text-file", required_argument, NULL, OPT_TEXT_FILE},
    {"encoder", required_argument, NULL, OPT_ENCODER},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"dump-raw", required_argument, NULL, OPT_DUMP_RAW},
    {"size", required_argument, NULL, OPT_SIZE},
    {"fps", required_argument, NULL, OPT_FPS},
    {"bitrate", required_argument, NULL, OPT_BITRATE},
    {"maxrate", required_argument, NULL, OPT_MAXRATE},
    {"bufsize", required_argument, NULL, OPT_BUFSIZE},
    {"keyint-sec", required_argument, NULL, OPT_KEYINT_SEC},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"tune", required_argument, NULL, OPT_TUNE},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"stats-json", required_argument, NULL, OPT_STATS_JSON},
    {"font", required_argument, NULL, OPT_FONT},
    {"font-size", required_argument, NULL, OPT_FONT_SIZE},
    {"fg", required_argument, NULL, OPT_FG},
    {"bg", required_argument, NULL, OPT_BG},
    {"ansi", required_argument, NULL, OPT_ANSI},
    {"drop-threshold-ms", required_argument, NULL, OPT_DROP_THRESHOLD},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"log-json", no_argument, NULL, OPT_LOG_JSON},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void stream_options_usage(FILE *f)
{
    fputs("usage: agentcast stream [--output URL]... [options]\n"
          "\n"
          "Encodes a picture source to H.264 + silent AAC in FLV and sends it to every output.\n"
          "URL is rtmp://HOST[:PORT]/APP/KEY, rtmps://HOST[:PORT]/APP/KEY or a path ending in\n"
          ".flv (a local recording). Several --output share one encode. Without --output the\n"
          "stream is recorded to ./agentcast-<timestamp>.flv.\n"
          "\n"
          "Source:\n"
          "  --source terminal|testsrc   picture source (terminal when --text-file is given,\n"
          "                              else testsrc)\n"
          "  --text-file PATH            file or FIFO whose last lines the terminal shows\n"
          "  --font PATH  --font-size PX --fg COLOUR --bg COLOUR (default #00ff00 on black)\n"
          "  --ansi honour|strip         ANSI colour codes (default honour)\n"
          "Encoder (defaults equal the retake.tv seed's ffmpeg command):\n"
          "  --encoder auto|nvenc|vaapi|x264  (default auto: the first that works, in that\n"
          "                              order; `agentcast probe` shows which do and why)\n"
          "  --device DEV                vaapi render node (/dev/dri/renderD128) or nvenc GPU\n"
          "                              index (0); default: the first one\n"
          "  --size WxH (1280x720)  --fps N (30)  --bitrate R (1500k)  --maxrate R (1500k)\n"
          "  --bufsize R (3000k)  --keyint-sec S (2)  --preset P (veryfast)\n"
          "  --tune T|none (zerolatency)  --profile high|main|baseline (high)  --threads N\n"
          "Output:\n"
          "  --ca-file PATH              extra CA certificate (PEM) trusted for rtmps://\n"
          "  --drop-threshold-ms MS      queued duration that starts frame dropping (700)\n"
          "  --connect-timeout SECONDS   connect + handshake deadline (10)\n"
          "Run:\n"
          "  --duration SECONDS          stop after this long (default: until SIGINT/SIGTERM)\n"
          "  --stats-json PATH|-         stats as JSON lines instead of the stderr line\n"
          "  --dump-raw FILE.yuv         also write every encoded picture to FILE as raw I420\n"
          "                              (bench/debug aid; counted in copied_bytes_per_frame)\n"
          "  -v, --verbose   --log-json   --help   --version\n"
          "\n"
          "Exit codes: 0 ok, 1 runtime failure, 2 usage error.\n",
          f);
}

static void set_defaults(struct stream_options *o)
{
    memset(o, 0, sizeof(*o));
    hwenc_params_default(&o->pipeline.enc);
    o->pipeline.encoder = "auto";
    o->pipeline.provider_output = -1;
    output_options_default(&o->pipeline.output);
    terminal_options_default(&o->terminal);
}

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                      "medium",    "slow",      "slower",   "veryslow", "placebo",
                                      NULL};
static const char *const tunes[] = {"film",       "animation",   "grain",       "stillimage",
                                    "psnr",       "ssim",        "fastdecode",  "zerolatency",
                                    "none",       NULL};
static const char *const profiles[] = {"high", "main", "baseline", NULL};

/* Applies one option. Returns 0, or -1 after writing the reason to err. */
static int apply(struct stream_options *o, int opt, const char *arg, FILE *err)
{
    char why[256] = "";
    int rc = 0;
    struct hwenc_params *enc = &o->pipeline.enc;
    long l;
    double d;
    switch (opt) {
    case OPT_OUTPUT: {
        struct stream_url url;
        if (o->pipeline.n_outputs == PIPELINE_MAX_OUTPUTS) {
            snprintf(why, sizeof(why), "at most %d outputs", PIPELINE_MAX_OUTPUTS);
            rc = -1;
        } else if ((rc = stream_url_parse(arg, &url, why, sizeof(why))) == 0) {
            o->pipeline.outputs[o->pipeline.n_outputs++] = arg;
        }
        break;
    }
    case OPT_SOURCE:
        if (strcmp(arg, "terminal") && strcmp(arg, "testsrc")) {
            snprintf(why, sizeof(why), "unknown source \"%s\" (terminal or testsrc)", arg);
            rc = -1;
        }
        o->source = arg;
        break;
    case OPT_TEXT_FILE:
        o->terminal.text_file = arg;
        break;
    case OPT_ENCODER:
        if (strcmp(arg, "auto") != 0 && !hwenc_find(arg)) {
            snprintf(why, sizeof(why), "unknown encoder \"%s\" (auto or one of:", arg);
            for (const struct hwenc_ops *const *it = hwenc_backends; *it; it++)
                snprintf(why + strlen(why), sizeof(why) - strlen(why), " %s", (*it)->name);
            snprintf(why + strlen(why), sizeof(why) - strlen(why), ")");
            rc = -1;
        }
        o->pipeline.encoder = arg;
        break;
    case OPT_DEVICE:
        if (!arg[0]) {
            snprintf(why, sizeof(why), "empty device");
            rc = -1;
        }
        enc->device = arg;
        break;
    case OPT_SIZE:
        rc = parse_size(arg, &enc->width, &enc->height, why, sizeof(why));
        break;
    case OPT_FPS:
        rc = parse_fps(arg, &enc->fps_num, &enc->fps_den, why, sizeof(why));
        break;
    case OPT_BITRATE:
        rc = parse_kbps(arg, 16, 200000, &enc->bitrate_kbps, why, sizeof(why));
        break;
    case OPT_MAXRATE:
        rc = parse_kbps(arg, 16, 200000, &enc->maxrate_kbps, why, sizeof(why));
        break;
    case OPT_BUFSIZE:
        rc = parse_kbps(arg, 16, 400000, &enc->bufsize_kbit, why, sizeof(why));
        break;
    case OPT_KEYINT_SEC:
        rc = parse_double(arg, 0.1, 60, &d, why, sizeof(why));
        if (rc == 0)
            o->keyint_sec = d; /* frames are known once --fps is parsed: see finish */
        break;
    case OPT_PRESET:
        if (!one_of(arg, presets)) {
            snprintf(why, sizeof(why), "unknown preset \"%s\" (ultrafast … placebo)", arg);
            rc = -1;
        }
        enc->preset = arg;
        break;
    case OPT_TUNE:
        if (!one_of(arg, tunes)) {
            snprintf(why, sizeof(why), "unknown tune \"%s\"", arg);
            rc = -1;
        }
        enc->tune = strcmp(arg, "none") == 0 ? NULL : arg;
        break;
    case OPT_PROFILE:
        if (!one_of(arg, profiles)) {
            snprintf(why, sizeof(why), "unknown profile \"%s\" (high, main or baseline)", arg);
            rc = -1;
        }
        enc->profile = arg;
        break;
    case OPT_THREADS:
        rc = parse_int(arg, 0, 64, &l, why, sizeof(why));
        enc->threads = (int)l;
        break;
    case OPT_DURATION:
        rc = parse_double(arg, 0.001, 1e9, &o->pipeline.duration_sec, why, sizeof(why));
        break;
    case OPT_CA_FILE:
        if (access(arg, R_OK) != 0) {
            snprintf(why, sizeof(why), "cannot read CA file %s", arg);
            rc = -1;
        }
        o->pipeline.output.ca_file = arg;
        break;
    case OPT_STATS_JSON:
        o->stats_json = arg;
        break;
    case OPT_DUMP_RAW:
        o->pipeline.dump_raw = arg;
        break;
    case OPT_FONT:
        if (access(arg, R_OK) != 0) {
            snprintf(why, sizeof(why), "cannot read font %s", arg);
            rc = -1;
        }
        o->terminal.font_path = arg;
        break;
    case OPT_FONT_SIZE:
        rc = parse_int(arg, 6, 200, &l, why, sizeof(why));
        o->terminal.font_size_px = (int)l;
        break;
    case OPT_FG:
        rc = parse_rgb(arg, &o->terminal.fg_rgb, why, sizeof(why));
        break;
    case OPT_BG:
        rc = parse_rgb(arg, &o->terminal.bg_rgb, why, sizeof(why));
        break;
    case OPT_ANSI:
        if (strcmp(arg, "honour") == 0 || strcmp(arg, "honor") == 0) {
            o->terminal.ansi = TERMINAL_ANSI_HONOUR;
        } else if (strcmp(arg, "strip") == 0) {
            o->terminal.ansi = TERMINAL_ANSI_STRIP;
        } else {
            snprintf(why, sizeof(why), "--ansi takes honour or strip, got \"%s\"", arg);
            rc = -1;
        }
        break;
    case OPT_DROP_THRESHOLD:
        rc = parse_int(arg, 50, 60000, &l, why, sizeof(why));
        o->pipeline.output.drop_threshold_ms = l;
        break;
    case OPT_CONNECT_TIMEOUT:
        rc = parse_double(arg, 0.1, 300, &d, why, sizeof(why));
        o->pipeline.output.connect_timeout_ms = (int)(d * 1000);
        break;
    }
    if (rc != 0) {
        const char *name = "option";
        for (const struct option *lo = long_options; lo->name; lo++)
            if (lo->val == opt)
                name = lo->name;
        fprintf(err, "agentcast stream: --%s: %s\n", name, why);
        return -1;
    }
    return 0;
}

/* Cross-option checks and derived values, once everything is parsed. */
static int finish(struct stream_options *o, FILE *err)
{
    struct hwenc_params *enc = &o->pipeline.enc;
    if (!o->source)
        o->source = o->terminal.text_file ? "terminal" : "testsrc";
    if (strcmp(o->source, "terminal") == 0) {
        if (!o->terminal.text_file) {
            fprintf(err, "agentcast stream: --source terminal needs --text-file PATH\n");
            return -1;
        }
        if (access(o->terminal.text_file, R_OK) != 0) {
            fprintf(err, "agentcast stream: --text-file: cannot read %s: %s\n",
                    o->terminal.text_file, strerror(errno));
            return -1;
        }
        o->pipeline.source = &capture_terminal_ops;
        o->pipeline.source_options = &o->terminal;
    } else {
        if (o->terminal.text_file) {
            fprintf(err, "agentcast stream: --text-file is only used by --source terminal\n");
            return -1;
        }
        o->pipeline.source = &capture_testsrc_ops;
    }
    double fps = (double)enc->fps_num / enc->fps_den;
    double keyint = o->keyint_sec > 0 ? o->keyint_sec : 2.0;
    enc->keyint_frames = (int)(keyint * fps + 0.5);
    if (enc->keyint_frames < 1)
        enc->keyint_frames = 1;
    if (enc->maxrate_kbps < enc->bitrate_kbps) {
        fprintf(err, "agentcast stream: --maxrate (%dk) is below --bitrate (%dk)\n",
                enc->maxrate_kbps, enc->bitrate_kbps);
        return -1;
    }
    if (o->pipeline.n_outputs == 0) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(o->default_output, sizeof(o->default_output), "agentcast-%Y%m%d-%H%M%S.flv",
                 &tm);
        o->pipeline.outputs[o->pipeline.n_outputs++] = o->default_output;
        o->output_defaulted = true;
    }
    return 0;
}

enum stream_options_result stream_options_parse(int argc, char **argv, struct stream_options *o,
                                                FILE *out, FILE *err)
{
    set_defaults(o);
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":o:vh", long_options, NULL)) != -1) {
        switch (opt) {
        case OPT_HELP:
            stream_options_usage(out);
            return STREAM_OPTIONS_EXIT;
        case OPT_VERSION:
            fprintf(out, "agentcast %s\n", AGENTCAST_VERSION);
            return STREAM_OPTIONS_EXIT;
        case OPT_VERBOSE:
            o->verbose = true;
            break;
        case OPT_LOG_JSON:
            o->log_json = true;
            break;
        case ':':
            fprintf(err, "agentcast stream: %s needs a value\n", argv[optind - 1]);
            return STREAM_OPTIONS_USAGE;
        case '?':
            fprintf(err, "agentcast stream: unknown option %s (see --help)\n", argv[optind - 1]);
            return STREAM_OPTIONS_USAGE;
        default:
            if (apply(o, opt, optarg, err) < 0)
                return STREAM_OPTIONS_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(err, "agentcast stream: unexpected argument \"%s\"\n", argv[optind]);
        return STREAM_OPTIONS_USAGE;
    }
    return finish(o, err) < 0 ? STREAM_OPTIONS_USAGE : STREAM_OPTIONS_RUN;
}
