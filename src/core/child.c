/*
 * child — see child.h. Three loop watches per child (stdin writer, stdout reader, pidfd) and
 * one timer; the child is finished when the pidfd says it exited and stdout reached EOF.
 */
#include "core/child.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/event_loop.h"
#include "core/log.h"

extern char **environ;

static const char *COMPONENT = "hook";

struct child {
    struct event_loop *loop;
    pid_t pid;
    int pidfd, in_fd, out_fd;
    struct event_watch *pid_watch, *in_watch, *out_watch;
    struct event_timer *timer;
    char *input;
    size_t input_len, input_off;
    char *out;
    size_t out_len, max_out;
    bool truncated, exited, timed_out;
    int status;
    child_done_fn done;
    void *opaque;
};

static void close_watch(struct event_watch **w, int *fd)
{
    event_watch_remove(*w);
    *w = NULL;
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void child_free(struct child *c)
{
    close_watch(&c->pid_watch, &c->pidfd);
    close_watch(&c->in_watch, &c->in_fd);
    close_watch(&c->out_watch, &c->out_fd);
    event_timer_free(c->timer);
    free(c->input);
    free(c->out);
    free(c);
}

static void maybe_finish(struct child *c)
{
    if (!c->exited || c->out_fd >= 0)
        return;
    struct child_result res = {
        .exit_code = WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1,
        .signal = WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0,
        .timed_out = c->timed_out,
        .out = c->out ? c->out : "",
        .out_len = c->out_len,
        .truncated = c->truncated,
    };
    c->done(&res, c->opaque);
    child_free(c);
}

static void on_exit_fd(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct child *c = arg;
    if (waitpid(c->pid, &c->status, WNOHANG) != c->pid)
        return;
    c->exited = true;
    close_watch(&c->pid_watch, &c->pidfd);
    close_watch(&c->in_watch, &c->in_fd); /* it will never read the rest */
    event_timer_stop(c->timer);
    maybe_finish(c);
}

static void on_stdout(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct child *c = arg;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            size_t keep = c->max_out - c->out_len;
            if ((size_t)n < keep)
                keep = (size_t)n;
            if (keep < (size_t)n)
                c->truncated = true;
            memcpy(c->out + c->out_len, buf, keep);
            c->out_len += keep;
            c->out[c->out_len] = '\0';
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        break; /* EOF or error: the child's stdout is done */
    }
    close_watch(&c->out_watch, &c->out_fd);
    maybe_finish(c);
}

static void on_stdin(struct event_loop *loop, int fd, unsigned events, void *arg)
{
    struct child *c = arg;
    while (c->input_off < c->input_len) {
        ssize_t n = write(fd, c->input + c->input_off, c->input_len - c->input_off);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0)
            break; /* EPIPE: the command does not read its input, which is its right */
        c->input_off += (size_t)n;
    }
    close_watch(&c->in_watch, &c->in_fd);
}

static void on_timeout(struct event_loop *loop, struct event_timer *t, void *arg)
{
    struct child *c = arg;
    c->timed_out = true;
    log_warn(COMPONENT, "hook pid %d still running after its time limit: killed", (int)c->pid);
    child_kill(c);
}

void child_kill(struct child *c)
{
    if (c && !c->exited)
        kill(-c->pid, SIGKILL);
}

/* environ without the scrubbed names; the strings stay environ's. */
static char **scrubbed_env(const char *const *scrub)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 1, sizeof(*env));
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool drop = false;
        for (const char *const *s = scrub; s && *s && !drop; s++) {
            size_t len = strlen(*s);
            drop = strncmp(environ[i], *s, len) == 0 && environ[i][len] == '=';
        }
        if (!drop)
            env[k++] = environ[i];
    }
    return env;
}

static int spawn(struct child *c, const struct child_options *o, int in_pipe[2], int out_pipe[2])
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, in_pipe[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* libraries' fds need not be CLOEXEC */
    sigset_t none, deflt;
    sigemptyset(&none);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGPIPE); /* we ignore SIGPIPE; a shell pipeline expects the default */
    sigaddset(&deflt, SIGINT);
    sigaddset(&deflt, SIGTERM);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &deflt);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    char **env = scrubbed_env(o->scrub_env);
    char *argv[] = {"sh", "-c", (char *)o->command, NULL};
    int rc = env ? posix_spawn(&c->pid, "/bin/sh", &fa, &attr, argv, env) : ENOMEM;
    free(env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return -rc;
}

/* A child that exits without reading its input turns our next write into EPIPE; that must not
 * be a SIGPIPE that kills the appliance. Set once, only if nobody chose a disposition. */
static void ignore_sigpipe(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
}

int child_start(struct event_loop *loop, const struct child_options *o, child_done_fn done,
                void *opaque, struct child **handle)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, ignore_sigpipe);
    struct child *c = calloc(1, sizeof(*c));
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
    int rc = -ENOMEM;
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    c->pidfd = c->in_fd = c->out_fd = -1;
    c->done = done;
    c->opaque = opaque;
    c->max_out = o->max_out;
    c->out = malloc(o->max_out + 1);
    c->input = o->input_len ? malloc(o->input_len) : NULL;
    c->timer = event_timer_new(loop, on_timeout, c);
    if (!c->out || (o->input_len && !c->input) || !c->timer)
        goto fail;
    c->out[0] = '\0';
    if (o->input_len)
        memcpy(c->input, o->input, o->input_len);
    c->input_len = o->input_len;
    if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0) {
        rc = -errno;
        goto fail;
    }
    rc = spawn(c, o, in_pipe, out_pipe);
    close(in_pipe[0]);
    close(out_pipe[1]);
    c->in_fd = in_pipe[1];
    c->out_fd = out_pipe[0];
    if (rc < 0) {
        log_error(COMPONENT, "cannot run /bin/sh: %s", strerror(-rc));
        goto fail_fds;
    }
    c->pidfd = pidfd_open(c->pid, 0);
    fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
    fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
    c->pid_watch = c->pidfd >= 0 ? event_loop_add_fd(loop, c->pidfd, EVENT_READ, on_exit_fd, c)
                                 : NULL;
    c->out_watch = event_loop_add_fd(loop, c->out_fd, EVENT_READ, on_stdout, c);
    c->in_watch = event_loop_add_fd(loop, c->in_fd, EVENT_WRITE, on_stdin, c);
    if (!c->pid_watch || !c->out_watch || !c->in_watch) {
        rc = errno ? -errno : -ENOMEM;
        kill(-c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        goto fail_fds;
    }
    if (o->timeout_ms > 0)
        event_timer_start(c->timer, (uint64_t)o->timeout_ms, 0);
    if (handle)
        *handle = c;
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (in_pipe[i] >= 0)
            close(in_pipe[i]);
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
    }
fail_fds:
    child_free(c);
    return rc;
}
