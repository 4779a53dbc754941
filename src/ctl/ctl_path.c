/*
 * ctl_path — the default control-socket path of a live instance and the private directory that
 * holds it. Used by the live side before binding and by one-shot commands before connecting.
 */
#include "ctl/ctl_path.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errmsg.h"

static int check_name(const char **name, char *err, size_t err_size)
{
    if (!*name || !**name)
        *name = "live";
    size_t n = strlen(*name);
    bool ok = n <= CTL_NAME_MAX && (*name)[0] != '.';
    for (size_t i = 0; ok && i < n; i++) {
        char c = (*name)[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '-';
    }
    if (!ok)
        return errmsg_fail(
            err, err_size, -EINVAL,
            "bad instance name \"%.80s\": use 1-%d of A-Z a-z 0-9 . _ - (no leading .)", *name,
            CTL_NAME_MAX);
    return 0;
}

static int compose(const char *base, const char *sub, const char *name, char *out, size_t out_size,
                   char *err, size_t err_size)
{
    char buf[PATH_MAX];
    int n = snprintf(buf, sizeof(buf), "%s%s/agentcast/%s.sock", base, sub, name);
    if (n < 0 || (size_t)n >= sizeof(buf) || (size_t)n >= CTL_PATH_MAX || (size_t)n >= out_size)
        return errmsg_fail(
            err, err_size, -ENAMETOOLONG,
            "control socket path %s%s/agentcast/%s.sock is longer than the %d bytes a "
            "socket address holds (pass a shorter path)",
            base, sub, name, CTL_PATH_MAX - 1);
    memcpy(out, buf, (size_t)n + 1);
    return 0;
}

int ctl_path_fallback(const char *name, char *out, size_t out_size, char *err, size_t err_size)
{
    int rc = check_name(&name, err, err_size);
    if (rc)
        return rc;
    const char *home = getenv("HOME");
    if (!home || home[0] != '/') {
        struct passwd *pw = getpwuid(geteuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || home[0] != '/')
        return errmsg_fail(err, err_size, -ENOENT,
                           "no place for the control socket: XDG_RUNTIME_DIR and HOME are unset");
    /* "/" as home (some service users) must not give "//.cache". */
    if (strcmp(home, "/") == 0)
        home = "";
    return compose(home, "/.cache", name, out, out_size, err, err_size);
}

int ctl_path_default(const char *name, char *out, size_t out_size, char *err, size_t err_size)
{
    int rc = check_name(&name, err, err_size);
    if (rc)
        return rc;
    /* The XDG spec: a relative XDG_RUNTIME_DIR is invalid and must be ignored. */
    const char *run = getenv("XDG_RUNTIME_DIR");
    if (run && run[0] == '/')
        return compose(strcmp(run, "/") == 0 ? "" : run, "", name, out, out_size, err, err_size);
    return ctl_path_fallback(name, out, out_size, err, err_size);
}

/* mkdir -p, 0700 for every component created here; existing ones are left alone. */
static int make_dirs(char *dir, char *err, size_t err_size)
{
    for (char *p = dir + 1;; p++) {
        bool end = (*p == '\0');
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return errmsg_fail(err, err_size, -errno, "creating %s: %s", dir, strerror(errno));
        if (end)
            return 0;
        *p = '/';
    }
}

int ctl_path_prepare_dir(const char *path, char *err, size_t err_size)
{
    char dir[PATH_MAX];
    int n = snprintf(dir, sizeof(dir), "%s", path ? path : "");
    if (n <= 0 || (size_t)n >= sizeof(dir))
        return errmsg_fail(err, err_size, -EINVAL, "bad control socket path");
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    if (slash == dir)
        return 0; /* a socket in "/": nothing to create, nothing we could own */
    *slash = '\0';
    int rc = make_dirs(dir, err, err_size);
    if (rc)
        return rc;
    struct stat st;
    if (stat(dir, &st) != 0)
        return errmsg_fail(err, err_size, -errno, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return errmsg_fail(err, err_size, -ENOTDIR, "%s is not a directory", dir);
    if (st.st_uid != geteuid())
        return errmsg_fail(err, err_size, -EPERM,
                           "%s belongs to uid %u, not to us (uid %u): refusing to put the control "
                           "socket there",
                           dir, (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return errmsg_fail(err, err_size, -EPERM,
                           "%s is writable by group or others: refusing to put the control socket "
                           "there (fix: chmod 700 %s)",
                           dir, dir);
    return 0;
}
