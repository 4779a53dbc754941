/*
 * stream_url — what `--output` accepts: rtmp://host[:port]/app[/…]/key, rtmps://… (port 443 by
 * default), or a local path ending in .flv. IPv6 literals in brackets. Parsed strictly, with an
 * error message that says what is wrong.
 */
#ifndef AGENTCAST_NET_STREAM_URL_H
#define AGENTCAST_NET_STREAM_URL_H

#include <stdbool.h>
#include <stddef.h>

enum stream_url_kind { STREAM_URL_RTMP, STREAM_URL_RTMPS, STREAM_URL_FILE };

struct stream_url {
    enum stream_url_kind kind;
    char host[256];   /* without brackets for IPv6 literals */
    int port;         /* 1935 for rtmp, 443 for rtmps unless given */
    char app[512];    /* everything between host and the last path segment, e.g. "live" */
    char key[1024];   /* the last path segment (with any ?query): the stream key */
    char path[4096];  /* STREAM_URL_FILE: the file path */
};

/* 0, or -EINVAL with a one-line reason in err (e.g. "rtmp URL has no stream key"). */
int stream_url_parse(const char *url, struct stream_url *out, char *err, size_t err_size);
/* url with its stream key shown as "…" plus the key's last 4 characters, for logs. */
void stream_url_redact(const char *url, char *out, size_t out_size);

#endif
