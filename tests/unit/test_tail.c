/* Unit tests for src/render/tail.c: following a file like `tail -F` without blocking — the
 * initial window, appends, truncation, rotation, a file that vanishes and reappears, FIFOs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "render/tail.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    strcpy(dir, "/tmp/test_tail.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/log", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void write_file(const char *p, const char *mode, const char *s)
{
    FILE *f = fopen(p, mode);
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
    assert_int_equal(fclose(f), 0);
}

/* Reads until nothing is left; returns the bytes as a string and ORs the events. */
static const char *read_all(struct tail *t, unsigned *events)
{
    static char buf[65536];
    size_t n = 0;
    *events = 0;
    for (;;) {
        unsigned ev = 0;
        ssize_t r = tail_read(t, (uint8_t *)buf + n, sizeof(buf) - 1 - n, &ev);
        *events |= ev;
        assert_true(r >= 0);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    return buf;
}

static struct tail *open_tail(size_t backlog, int64_t recheck_ns)
{
    struct tail_params p = {.path = path, .backlog_bytes = backlog, .recheck_ns = recheck_ns};
    struct tail *t = NULL;
    assert_int_equal(tail_open(&t, &p), 0);
    assert_non_null(t);
    return t;
}

/* stderr into a file while a test looks at what was logged. */
static int saved_stderr = -1;
static char capture_path[160];

static void capture_begin(void)
{
    snprintf(capture_path, sizeof(capture_path), "%s/stderr", dir);
    int fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

static const char *capture_end(void)
{
    static char text[8192];
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    FILE *f = fopen(capture_path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    return text;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* "An unreadable file at open is an error with a clear message naming the path and errno
 * text." */
static void test_open_errors(void **state)
{
    struct tail *t = (struct tail *)1;
    struct tail_params p = {.path = path};
    capture_begin();
    int ret = tail_open(&t, &p);
    const char *log = capture_end();
    assert_int_equal(ret, -ENOENT);
    assert_null(t);
    assert_non_null(strstr(log, path));
    assert_non_null(strstr(log, strerror(ENOENT)));

    p.path = dir;
    capture_begin();
    ret = tail_open(&t, &p);
    log = capture_end();
    assert_int_equal(ret, -EISDIR);
    assert_non_null(strstr(log, strerror(EISDIR)));

    if (geteuid() != 0) { /* root reads anything */
        write_file(path, "w", "secret\n");
        chmod(path, 0);
        p.path = path;
        assert_int_equal(tail_open(&t, &p), -EACCES);
    }
}

/* "starts with the last N lines' worth of the existing file (read the tail end, not the whole
 * file)" */
static void test_initial_window(void **state)
{
    char line[32];
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++)
        fprintf(f, "line %03d\n", i); /* 9 bytes each */
    fclose(f);

    unsigned ev;
    struct tail *t = open_tail(100, 0);
    const char *got = read_all(t, &ev);
    assert_int_equal(ev, 0);
    /* 100 bytes back is mid-line: the window starts at the next whole line. */
    assert_int_equal(strlen(got), 99);
    assert_memory_equal(got, "line 189\n", 9);
    snprintf(line, sizeof(line), "line %03d\n", 199);
    assert_string_equal(got + strlen(got) - 9, line);
    tail_close(t);

    /* A window that starts exactly at a line keeps that line. */
    t = open_tail(27, 0);
    assert_string_equal(read_all(t, &ev), "line 197\nline 198\nline 199\n");
    tail_close(t);

    /* A file smaller than the window is read whole. */
    write_file(path, "w", "short\nfile");
    t = open_tail(100, 0);
    assert_string_equal(read_all(t, &ev), "short\nfile");
    tail_close(t);
}

/* "follows a file … like `tail -f` without blocking the caller" */
static void test_follow_appends(void **state)
{
    write_file(path, "w", "first\n");
    unsigned ev;
    struct tail *t = open_tail(0, 0);
    assert_string_equal(read_all(t, &ev), "first\n");
    int64_t t0 = clock_now_ns();
    assert_string_equal(read_all(t, &ev), "");
    assert_true(clock_now_ns() - t0 < 50 * NS_PER_MS); /* nothing new: returns at once */
    write_file(path, "a", "partial");
    assert_string_equal(read_all(t, &ev), "partial");
    write_file(path, "a", " line\nnext\n");
    assert_string_equal(read_all(t, &ev), " line\nnext\n");
    assert_int_equal(ev, 0);
    tail_close(t);
    tail_close(NULL);
}

/* "notices truncation (start over)" */
static void test_truncation(void **state)
{
    write_file(path, "w", "a long first line\nand a second\n");
    unsigned ev;
    struct tail *t = open_tail(0, 0);
    read_all(t, &ev);
    write_file(path, "w", "fresh\n");
    assert_string_equal(read_all(t, &ev), "fresh\n");
    assert_int_equal(ev, TAIL_EVENT_TRUNCATED);
    write_file(path, "a", "more\n");
    assert_string_equal(read_all(t, &ev), "more\n");
    assert_int_equal(ev, 0);
    tail_close(t);
}

/* A writer far ahead of us: the part older than the window is skipped. */
static void test_skip_when_behind(void **state)
{
    write_file(path, "w", "start\n");
    unsigned ev;
    struct tail *t = open_tail(64, 0);
    read_all(t, &ev);
    FILE *f = fopen(path, "a");
    for (int i = 0; i < 100; i++)
        fprintf(f, "burst %03d\n", i); /* 10 bytes each */
    fclose(f);
    const char *got = read_all(t, &ev);
    assert_int_equal(ev, TAIL_EVENT_SKIPPED);
    assert_true(strlen(got) <= 64);
    assert_memory_equal(got, "burst 0", 7);
    assert_string_equal(got + strlen(got) - 10, "burst 099\n");
    tail_close(t);
}

/* "replacement/rotation (reopen by path when the inode changes)" — the old file is read to its
 * end first. */
static void test_rotation(void **state)
{
    char old[160];
    snprintf(old, sizeof(old), "%s.1", path);
    write_file(path, "w", "before\n");
    unsigned ev;
    struct tail *t = open_tail(0, 1 * NS_PER_MS);
    assert_string_equal(read_all(t, &ev), "before\n");
    assert_int_equal(rename(path, old), 0);
    write_file(old, "a", "late\n"); /* the writer still had the old file open */
    write_file(path, "w", "new file\n");
    sleep_ms(5);
    assert_string_equal(read_all(t, &ev), "late\nnew file\n");
    assert_int_equal(ev, TAIL_EVENT_REPLACED);
    write_file(path, "a", "appended\n");
    sleep_ms(5);
    assert_string_equal(read_all(t, &ev), "appended\n");
    assert_int_equal(ev, 0);
    tail_close(t);
}

/* "a file that vanishes (keep showing the last text, log a warning once, reopen when it
 * reappears)" */
static void test_vanish_and_reappear(void **state)
{
    write_file(path, "w", "here\n");
    unsigned ev;
    struct tail *t = open_tail(0, 1 * NS_PER_MS);
    assert_string_equal(read_all(t, &ev), "here\n");
    assert_int_equal(unlink(path), 0);
    capture_begin();
    for (int i = 0; i < 5; i++) {
        sleep_ms(3);
        unsigned e;
        uint8_t buf[16];
        assert_int_equal(tail_read(t, buf, sizeof(buf), &e), 0);
        assert_int_equal(e, 0);
    }
    const char *log = capture_end();
    assert_int_equal(count(log, "vanished"), 1);
    assert_non_null(strstr(log, path));

    write_file(path, "w", "back again\n");
    sleep_ms(5);
    capture_begin();
    const char *got = read_all(t, &ev);
    log = capture_end();
    assert_string_equal(got, "back again\n");
    assert_int_equal(ev, TAIL_EVENT_REPLACED);
    assert_non_null(strstr(log, "reappeared"));
    tail_close(t);
}

/* "FIFOs (open O_RDONLY|O_NONBLOCK; writer closing is not an error)" */
static void test_fifo(void **state)
{
    assert_int_equal(mkfifo(path, 0600), 0);
    unsigned ev;
    struct tail *t = open_tail(0, 1 * NS_PER_MS); /* no writer yet: must not block */
    assert_string_equal(read_all(t, &ev), "");
    int w = open(path, O_WRONLY | O_NONBLOCK);
    assert_true(w >= 0);
    assert_int_equal(write(w, "hello\n", 6), 6);
    assert_string_equal(read_all(t, &ev), "hello\n");
    assert_string_equal(read_all(t, &ev), ""); /* writer connected, nothing written */
    close(w);
    sleep_ms(3);
    assert_string_equal(read_all(t, &ev), ""); /* writer gone: no data, no error */
    assert_int_equal(ev, 0);
    w = open(path, O_WRONLY | O_NONBLOCK);
    assert_true(w >= 0);
    assert_int_equal(write(w, "again\n", 6), 6);
    close(w);
    assert_string_equal(read_all(t, &ev), "again\n");
    assert_int_equal(ev, 0);
    tail_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initial_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skip_when_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vanish_and_reappear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
