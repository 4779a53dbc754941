/*
 * test_file_output — the .flv recorder: what it writes parses back as FLV (file header, tag
 * headers, bodies, PreviousTagSize), through the backend alone and through output_start; an
 * unwritable path fails with a message naming it; a failed write leaves whole tags only.
 *
 * Issue: "SIGINT/SIGTERM: stop capture, flush, close outputs cleanly (the .flv stays valid)".
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "media/flv.h"
#include "media/output.h"

#define MAX_TAGS 64

struct parsed_tag {
    int type;
    size_t size;
    int64_t ts;
    const uint8_t *body;
};

struct parsed_file {
    uint8_t *data;
    size_t size;
    int ntags;
    struct parsed_tag tags[MAX_TAGS];
};

static uint32_t be24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | be24(p + 1);
}

/* Reads path and checks its whole structure; every byte must belong to a header or a tag. */
static void parse_flv(const char *path, struct parsed_file *f)
{
    memset(f, 0, sizeof(*f));
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    struct stat st;
    assert_int_equal(fstat(fileno(fp), &st), 0);
    f->size = (size_t)st.st_size;
    f->data = malloc(f->size + 1);
    assert_non_null(f->data);
    assert_int_equal(fread(f->data, 1, f->size, fp), f->size);
    fclose(fp);

    const uint8_t *d = f->data;
    assert_true(f->size >= 13);
    assert_memory_equal(d, "FLV", 3);
    assert_int_equal(d[3], 1);    /* version */
    assert_int_equal(d[4], 0x05); /* audio + video */
    assert_int_equal(be32(d + 5), 9);
    assert_int_equal(be32(d + 9), 0); /* PreviousTagSize0 */
    size_t pos = 13;
    while (pos < f->size) {
        assert_true(pos + 11 <= f->size);
        assert_true(f->ntags < MAX_TAGS);
        struct parsed_tag *t = &f->tags[f->ntags++];
        t->type = d[pos] & 0x1f;
        t->size = be24(d + pos + 1);
        t->ts = (int64_t)(be24(d + pos + 4) | (uint32_t)d[pos + 7] << 24);
        assert_int_equal(be24(d + pos + 8), 0); /* stream id */
        t->body = d + pos + 11;
        assert_true(pos + 11 + t->size + 4 <= f->size);
        assert_int_equal(be32(d + pos + 11 + t->size), 11 + t->size);
        pos += 11 + t->size + 4;
    }
    assert_int_equal(pos, f->size);
}

static struct flv_tag *tag_new(enum flv_tag_type type, int64_t dts, bool key, bool header,
                               size_t size, uint8_t fill)
{
    struct flv_tag *t = flv_tag_new(type, size);
    assert_non_null(t);
    memset(t->body, fill, size);
    t->dts_ms = dts;
    t->keyframe = key;
    t->header = header;
    return t;
}

static char tmpdir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/agentcast-test-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs fn with stderr captured into buf (what the log says). */
static void capture_stderr(void (*fn)(void *), void *arg, char *buf, size_t size)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn(arg);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, size - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
}

/* The backend alone: every tag as header + body + PreviousTagSize, timestamps as given
 * (including one that needs the extended byte), file mode 0644, truncating an old file. */
static void test_backend_writes_valid_flv(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/direct.flv", tmpdir);
    FILE *old = fopen(path, "wb");
    assert_non_null(old);
    fputs("old content that must go away", old);
    fclose(old);

    const struct output_backend_ops *ops = &output_file_backend;
    assert_string_equal(ops->name, "file");
    assert_false(ops->retry);
    void *st = NULL;
    assert_int_equal(ops->open(&st, path, NULL), 0);
    struct flv_tag *tags[4] = {
        tag_new(FLV_TAG_SCRIPT, 0, false, true, 40, 0x11),
        tag_new(FLV_TAG_VIDEO, 0, true, false, 1000, 0x22),
        tag_new(FLV_TAG_AUDIO, 0, false, false, 7, 0x33),
        tag_new(FLV_TAG_VIDEO, 0, false, false, 70000, 0x44),
    };
    const int64_t ts[4] = {0, 0, 23, 0x01234567};
    for (int i = 0; i < 4; i++)
        assert_int_equal(ops->write(st, tags[i], ts[i]), 0);
    ops->close(st);

    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(sb.st_mode & 0777, 0644 & ~mask);
    struct parsed_file f;
    parse_flv(path, &f);
    assert_int_equal(f.ntags, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(f.tags[i].type, tags[i]->type);
        assert_int_equal(f.tags[i].size, tags[i]->size);
        assert_int_equal(f.tags[i].ts, ts[i]);
        assert_memory_equal(f.tags[i].body, tags[i]->body, tags[i]->size);
        flv_tag_unref(tags[i]);
    }
    free(f.data);
}

struct open_attempt {
    const char *path;
    int rc;
};

static void try_open(void *arg)
{
    struct open_attempt *a = arg;
    void *st = NULL;
    a->rc = output_file_backend.open(&st, a->path, NULL);
    if (a->rc == 0)
        output_file_backend.close(st);
}

/* "Errors name the path and errno text." */
static void test_unwritable_path_fails(void **state)
{
    (void)state;
    char log[2048];
    struct open_attempt a = {.path = "/nonexistent-agentcast-dir/rec.flv"};
    capture_stderr(try_open, &a, log, sizeof(log));
    assert_int_equal(a.rc, -ENOENT);
    assert_non_null(strstr(log, "/nonexistent-agentcast-dir/rec.flv"));
    assert_non_null(strstr(log, strerror(ENOENT)));

    /* Opens, but the FLV header cannot be written. */
    a = (struct open_attempt){.path = "/dev/full"};
    capture_stderr(try_open, &a, log, sizeof(log));
    assert_int_equal(a.rc, -ENOSPC);
    assert_non_null(strstr(log, "/dev/full"));
    assert_non_null(strstr(log, strerror(ENOSPC)));
}

/* A write that fails half way (file size limit) is cut back: the file keeps whole tags only. */
static void test_failed_write_leaves_whole_tags(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/limited.flv", tmpdir);
    struct rlimit saved;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);

    void *st = NULL;
    assert_int_equal(output_file_backend.open(&st, path, NULL), 0);
    struct rlimit lim = {.rlim_cur = 1000, .rlim_max = saved.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    struct flv_tag *t = tag_new(FLV_TAG_VIDEO, 0, true, false, 300, 0x55);
    int rc = 0, written = 0;
    while (rc == 0 && written < 10) {
        rc = output_file_backend.write(st, t, written * 33);
        if (rc == 0)
            written++;
    }
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, old_handler);
    output_file_backend.close(st);
    flv_tag_unref(t);

    assert_int_equal(rc, -EFBIG);
    assert_int_equal(written, 3); /* 13 + 3 x 315 = 958 <= 1000 < 958 + 315 */
    struct parsed_file f;
    parse_flv(path, &f);
    assert_int_equal(f.ntags, 3);
    assert_int_equal(f.size, 13 + 3 * 315);
    free(f.data);
}

/* Through output_start: headers first at 0, then from the keyframe on with rebased timestamps;
 * output_stop flushes and the file parses. */
static void test_recording_through_output(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/rec.flv", tmpdir);
    struct output_options o;
    output_options_default(&o);
    o.drop_threshold_ms = 60000; /* all pushed at once: no congestion drops in this test */
    struct output *out = output_start(path, &o);
    assert_non_null(out);
    assert_string_equal(output_display_name(out), path);
    /* Pushed before the file is open, each keyframe would clear the queue (one GOP while
     * disconnected): wait for the open. */
    struct output_stats s = {0};
    for (int i = 0; i < 2000 && !s.connected; i++) {
        usleep(1000);
        output_get_stats(out, &s);
    }
    assert_true(s.connected);
    struct flv_tag *meta = tag_new(FLV_TAG_SCRIPT, 0, false, true, 30, 1);
    struct flv_tag *avc = tag_new(FLV_TAG_VIDEO, 0, false, true, 20, 2);
    struct flv_tag *aac = tag_new(FLV_TAG_AUDIO, 0, false, true, 4, 3);
    output_set_headers(out, meta, avc, aac);
    for (int i = 0; i < 30; i++) {
        struct flv_tag *v = tag_new(FLV_TAG_VIDEO, 500 + i * 33, i % 10 == 0, false, 200, 4);
        struct flv_tag *a = tag_new(FLV_TAG_AUDIO, 500 + i * 33 + 5, false, false, 10, 5);
        output_push(out, v);
        output_push(out, a);
        flv_tag_unref(v);
        flv_tag_unref(a);
    }
    output_stop(out);

    struct parsed_file f;
    parse_flv(path, &f);
    assert_int_equal(f.ntags, 3 + 60);
    assert_int_equal(f.tags[0].type, FLV_TAG_SCRIPT);
    assert_int_equal(f.tags[0].size, 30);
    assert_int_equal(f.tags[1].size, 20);
    assert_int_equal(f.tags[2].size, 4);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f.tags[i].ts, 0);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(f.tags[3 + 2 * i].type, FLV_TAG_VIDEO);
        assert_int_equal(f.tags[3 + 2 * i].ts, i * 33);
        assert_int_equal(f.tags[4 + 2 * i].type, FLV_TAG_AUDIO);
        assert_int_equal(f.tags[4 + 2 * i].ts, i * 33 + 5);
    }
    free(f.data);
    flv_tag_unref(meta);
    flv_tag_unref(avc);
    flv_tag_unref(aac);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_writes_valid_flv),
        cmocka_unit_test(test_unwritable_path_fails),
        cmocka_unit_test(test_failed_write_leaves_whole_tags),
        cmocka_unit_test(test_recording_through_output),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
