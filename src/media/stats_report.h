/*
 * stats_report — the once-a-second pipeline stats as one human line or one JSON line.
 */
#ifndef AGENTCAST_MEDIA_STATS_REPORT_H
#define AGENTCAST_MEDIA_STATS_REPORT_H

#include <stdio.h>

#include "media/pipeline.h"

/* "stats: fps_in=30.0 fps_out=30.0 encode_p50=2.1ms … | out0 rtmp://…/live/…abcd kbps=1498 …" */
void stats_report_line(FILE *f, const struct pipeline_stats *st);
/* One JSON object on one line; elapsed_sec is the time since the stream started. */
void stats_report_json(FILE *f, const struct pipeline_stats *st, double elapsed_sec);

#endif
