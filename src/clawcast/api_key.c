/*
 * api_key — see api_key.h. Every copy of the key made here is zeroed before it is freed.
 */
#include "clawcast/api_key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clawcast/api_internal.h"

#define FILE_MAX (CLAWCAST_API_KEY_MAX + 64)

static int read_file(const char *path, char *buf, size_t *len, char *err, size_t err_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return clawcast_fail(err, err_size, -errno, "API key file %s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = clawcast_fail(err, err_size, -errno, "API key file %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = clawcast_fail(err, err_size, -EINVAL, "API key file %s is not a regular file", path);
    else if (st.st_uid != geteuid())
        rc = clawcast_fail(err, err_size, -EACCES,
                           "API key file %s belongs to uid %u, not to you; refusing it", path,
                           (unsigned)st.st_uid);
    else if (st.st_mode & 077)
        rc = clawcast_fail(err, err_size, -EACCES,
                           "API key file %s can be read by group or others (mode 0%03o); "
                           "refusing it — fix with: chmod 600 '%s'",
                           path, (unsigned)(st.st_mode & 0777), path);
    size_t n = 0;
    while (rc == 0) {
        ssize_t r = read(fd, buf + n, FILE_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = clawcast_fail(err, err_size, -errno, "API key file %s: %s", path, strerror(errno));
        else if (r == 0)
            break;
        else if ((n += (size_t)r) >= FILE_MAX)
            rc =
                clawcast_fail(err, err_size, -EINVAL, "API key file %s: too large for a key", path);
    }
    close(fd);
    buf[n < FILE_MAX ? n : FILE_MAX] = '\0';
    *len = n;
    return rc;
}

int clawcast_api_key_load(const char *path, char *key, char *err, size_t err_size)
{
    char buf[FILE_MAX + 1];
    size_t n = 0;
    int rc = 0;
    key[0] = '\0';
    if (path) {
        rc = read_file(path, buf, &n, err, err_size);
    } else {
        const char *env = getenv(CLAWCAST_ENV_API_KEY);
        n = env ? strlen(env) : 0;
        if (n > FILE_MAX)
            rc = clawcast_fail(err, err_size, -EINVAL, "%s: too long for a key",
                               CLAWCAST_ENV_API_KEY);
        else if (n)
            memcpy(buf, env, n + 1);
        if (env) {
            explicit_bzero((char *)env, strlen(env));
            unsetenv(CLAWCAST_ENV_API_KEY); /* children never see it */
        }
        if (rc == 0 && n == 0)
            return 0;
    }
    while (rc == 0 && n > 0 && strchr(" \t\r\n", buf[n - 1]))
        buf[--n] = '\0';
    if (rc == 0) {
        rc = clawcast_api_key_check(buf, err, err_size);
        if (rc < 0) {
            size_t m = strlen(err ? err : "");
            if (err && m < err_size)
                snprintf(err + m, err_size - m, " (from %s)", path ? path : CLAWCAST_ENV_API_KEY);
        }
    }
    if (rc == 0)
        memcpy(key, buf, n + 1);
    explicit_bzero(buf, sizeof(buf));
    return rc;
}
