/*
 * stream_options — `agentcast stream` options: parsed, validated, turned into a pipeline_config.
 * Shared by every command that streams (`live` adds its own on top later).
 */
#ifndef AGENTCAST_CLI_STREAM_OPTIONS_H
#define AGENTCAST_CLI_STREAM_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "media/pipeline.h"
#include "render/terminal_source.h"

struct stream_options {
    struct pipeline_config pipeline;
    const char *source;            /* "testsrc" or "terminal" */
    struct terminal_options terminal;
    const char *stats_json;        /* path, "-" for stdout, NULL for the stderr line */
    bool verbose;
    bool log_json;
    double keyint_sec;             /* --keyint-sec, 0 = default 2 s */
    bool output_defaulted;         /* no --output given: recording to default_output */
    char default_output[128];
};

enum stream_options_result {
    STREAM_OPTIONS_RUN = 0,   /* go */
    STREAM_OPTIONS_EXIT = 1,  /* --help or --version printed: exit 0 */
    STREAM_OPTIONS_USAGE = 2, /* bad input, message printed to err: exit 2 */
};

/* Parses argv (argv[0] is the subcommand name). Strings point into argv. Messages go to err. */
enum stream_options_result stream_options_parse(int argc, char **argv, struct stream_options *o,
                                                FILE *out, FILE *err);
void stream_options_usage(FILE *f);

#endif
