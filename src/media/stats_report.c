/* stats_report — see stats_report.h. */
#include "media/stats_report.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static double us_to_ms(int64_t us)
{
    return us < 0 ? -1 : (double)us / 1000.0;
}

void stats_report_line(FILE *f, const struct pipeline_stats *st)
{
    fprintf(f,
            "stats: fps_in=%.1f fps_out=%.1f skipped=%llu encode_p50=%.1fms encode_p99=%.1fms "
            "copied_bytes_per_frame=%.0f",
            st->fps_in, st->fps_out, (unsigned long long)st->frames_skipped,
            us_to_ms(st->encode_p50_us), us_to_ms(st->encode_p99_us), st->copied_bytes_per_frame);
    for (int i = 0; i < st->n_outputs; i++) {
        const struct pipeline_output_stats *o = &st->outputs[i];
        fprintf(f,
                " | %s %s kbps=%.0f queued_ms=%lld dropped=%llu reconnects=%u latency_p50=%.1fms "
                "latency_p99=%.1fms",
                o->name, o->s.failed ? "failed" : o->s.connected ? "up" : "down", o->kbps,
                (long long)o->s.queued_ms, (unsigned long long)o->s.video_dropped, o->s.reconnects,
                us_to_ms(o->s.latency_p50_us), us_to_ms(o->s.latency_p99_us));
    }
    fputc('\n', f);
    fflush(f);
}

/* JSON numbers for optional latencies: null when there was no sample. */
static void add_ms(cJSON *obj, const char *key, int64_t us)
{
    if (us < 0)
        cJSON_AddNullToObject(obj, key);
    else
        cJSON_AddNumberToObject(obj, key, (double)us / 1000.0);
}

void stats_report_json(FILE *f, const struct pipeline_stats *st, double elapsed_sec)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return;
    cJSON_AddNumberToObject(root, "elapsed_sec", elapsed_sec);
    cJSON_AddStringToObject(root, "encoder", st->encoder);
    cJSON_AddNumberToObject(root, "encoder_fallbacks", st->encoder_fallbacks);
    cJSON_AddNumberToObject(root, "fps_in", st->fps_in);
    cJSON_AddNumberToObject(root, "fps_out", st->fps_out);
    cJSON_AddNumberToObject(root, "frames_in", (double)st->frames_in);
    cJSON_AddNumberToObject(root, "frames_out", (double)st->frames_out);
    cJSON_AddNumberToObject(root, "frames_skipped", (double)st->frames_skipped);
    add_ms(root, "encode_p50_ms", st->encode_p50_us);
    add_ms(root, "encode_p99_ms", st->encode_p99_us);
    cJSON_AddNumberToObject(root, "copied_bytes_per_frame", st->copied_bytes_per_frame);
    cJSON *outs = cJSON_AddArrayToObject(root, "outputs");
    for (int i = 0; outs && i < st->n_outputs; i++) {
        const struct pipeline_output_stats *o = &st->outputs[i];
        cJSON *j = cJSON_CreateObject();
        if (!j)
            break;
        cJSON_AddStringToObject(j, "name", o->name);
        cJSON_AddBoolToObject(j, "connected", o->s.connected);
        cJSON_AddBoolToObject(j, "failed", o->s.failed);
        cJSON_AddNumberToObject(j, "kbps", o->kbps);
        cJSON_AddNumberToObject(j, "bytes_sent", (double)o->s.bytes_sent);
        cJSON_AddNumberToObject(j, "video_sent", (double)o->s.video_sent);
        cJSON_AddNumberToObject(j, "queued_ms", (double)o->s.queued_ms);
        cJSON_AddNumberToObject(j, "queued_bytes", (double)o->s.queued_bytes);
        cJSON_AddNumberToObject(j, "dropped", (double)o->s.video_dropped);
        cJSON_AddNumberToObject(j, "reconnects", o->s.reconnects);
        add_ms(j, "latency_p50_ms", o->s.latency_p50_us);
        add_ms(j, "latency_p99_ms", o->s.latency_p99_us);
        cJSON_AddItemToArray(outs, j);
    }
    char *text = cJSON_PrintUnformatted(root);
    if (text) {
        fprintf(f, "%s\n", text);
        fflush(f);
        free(text);
    }
    cJSON_Delete(root);
}
