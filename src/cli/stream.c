/*
 * stream — `agentcast stream`: the media pipeline without any platform.
 *
 * The main thread is the control plane here: it waits in poll() on a signalfd (SIGINT,
 * SIGTERM), a one-second timerfd for stats and the pipeline's end-of-stream eventfd. Signals are
 * blocked before any thread starts, so only the signalfd ever sees them.
 */
#include "cli/commands.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "media/stats_report.h"
#include "cli/stream_options.h"
#include "core/clock.h"
#include "core/log.h"

static const char *COMPONENT = "stream";

struct stream_run {
    struct stream_options opts;
    FILE *stats_file; /* NULL: the human line on stderr */
    int signal_fd, timer_fd;
    int64_t started_ns;
};

static int open_fds(struct stream_run *run)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
        return -errno;
    signal(SIGPIPE, SIG_IGN);
    run->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
    run->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (run->signal_fd < 0 || run->timer_fd < 0)
        return -errno;
    struct itimerspec every_second = {.it_interval = {1, 0}, .it_value = {1, 0}};
    return timerfd_settime(run->timer_fd, 0, &every_second, NULL) < 0 ? -errno : 0;
}

static void report(struct stream_run *run, struct pipeline *p)
{
    struct pipeline_stats st;
    pipeline_get_stats(p, &st);
    if (run->stats_file)
        stats_report_json(run->stats_file, &st,
                          (double)(clock_now_ns() - run->started_ns) / NS_PER_SEC);
    else
        stats_report_line(stderr, &st);
}

/* Waits until a signal or the end of the stream; prints stats every second. */
static void wait_for_end(struct stream_run *run, struct pipeline *p)
{
    struct pollfd fds[3] = {
        {.fd = run->signal_fd, .events = POLLIN},
        {.fd = run->timer_fd, .events = POLLIN},
        {.fd = pipeline_event_fd(p), .events = POLLIN},
    };
    for (;;) {
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error(COMPONENT, "poll: %s", strerror(errno));
            return;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(run->signal_fd, &si, sizeof(si)) == sizeof(si))
                log_info(COMPONENT, "%s: stopping", strsignal((int)si.ssi_signo));
            return;
        }
        if (fds[2].revents & POLLIN)
            return;
        if (fds[1].revents & POLLIN) {
            uint64_t ticks;
            if (read(run->timer_fd, &ticks, sizeof(ticks)) == sizeof(ticks))
                report(run, p);
        }
    }
}

static void print_made(const struct stream_run *run, const struct pipeline_stats *st)
{
    double secs = (double)(clock_now_ns() - run->started_ns) / NS_PER_SEC;
    const struct stream_options *o = &run->opts;
    for (int i = 0; i < o->pipeline.n_outputs; i++) {
        const struct pipeline_output_stats *out = &st->outputs[i];
        struct stat sb;
        if (stat(o->pipeline.outputs[i], &sb) == 0 && S_ISREG(sb.st_mode))
            fprintf(stderr, "agentcast: recorded %llu frames (%.1f s) to %s, %.1f MB\n",
                    (unsigned long long)out->s.video_sent, secs, o->pipeline.outputs[i],
                    (double)sb.st_size / 1e6);
        else
            fprintf(stderr,
                    "agentcast: sent %llu frames (%.1f s, %.1f MB) to %s, %llu dropped, "
                    "%u reconnects\n",
                    (unsigned long long)out->s.video_sent, secs, (double)out->s.bytes_sent / 1e6,
                    out->name, (unsigned long long)out->s.video_dropped, out->s.reconnects);
    }
}

int cmd_stream(int argc, char **argv)
{
    struct stream_run run = {.signal_fd = -1, .timer_fd = -1};
    switch (stream_options_parse(argc, argv, &run.opts, stdout, stderr)) {
    case STREAM_OPTIONS_EXIT:
        return 0;
    case STREAM_OPTIONS_USAGE:
        return 2;
    case STREAM_OPTIONS_RUN:
        break;
    }
    log_set_level(run.opts.verbose ? LOG_DEBUG : LOG_INFO);
    log_set_json(run.opts.log_json);
    if (run.opts.stats_json) {
        run.stats_file = strcmp(run.opts.stats_json, "-") == 0 ? stdout
                                                               : fopen(run.opts.stats_json, "w");
        if (!run.stats_file) {
            fprintf(stderr, "agentcast stream: --stats-json: cannot write %s: %s\n",
                    run.opts.stats_json, strerror(errno));
            return 2;
        }
    }
    int rc = open_fds(&run);
    if (rc < 0) {
        log_error(COMPONENT, "cannot set up signals and timers: %s", strerror(-rc));
        return 1;
    }
    if (run.opts.output_defaulted)
        log_info(COMPONENT, "no --output given: recording to ./%s", run.opts.default_output);

    run.started_ns = clock_now_ns();
    struct pipeline *p = pipeline_start(&run.opts.pipeline);
    int exit_code = 1;
    if (p) {
        wait_for_end(&run, p);
        struct pipeline_stats st;
        rc = pipeline_stop(p, &st);
        print_made(&run, &st);
        exit_code = rc == 0 ? 0 : 1;
    }
    if (run.stats_file && run.stats_file != stdout)
        fclose(run.stats_file);
    close(run.signal_fd);
    close(run.timer_fd);
    return exit_code;
}
