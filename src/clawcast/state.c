/*
 * state — see state.h. Written by `agentcast clawcast book`, read by every later command of the
 * booking and by the mirror, deleted by `end`. Copies of the JWT made here (file buffer, JSON
 * tree, serialized text, decoded payload) are zeroed before they are freed.
 */
#include "clawcast/state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clawcast/api_internal.h"

#define STATE_MAX_BYTES (64L * 1024)
#define STATE_REL "agentcast/clawcast-slot.json"

struct clawcast_slot_state *clawcast_state_new(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (sizeof(struct clawcast_slot_state) + page - 1) / page * page;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    (void)madvise(p, size, MADV_DONTDUMP); /* best effort */
    struct clawcast_slot_state *st = p;
    st->position_in_queue = -1;
    return st;
}

void clawcast_state_free(struct clawcast_slot_state *st)
{
    if (!st)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (sizeof(*st) + page - 1) / page * page;
    explicit_bzero(st, sizeof(*st));
    munmap(st, size);
}

void clawcast_state_clear(struct clawcast_slot_state *st)
{
    explicit_bzero(st, sizeof(*st));
    st->position_in_queue = -1;
}

void clawcast_jwt_redact(const char *jwt, char *out, size_t out_size)
{
    size_t n = jwt ? strlen(jwt) : 0;
    if (n >= 24)
        snprintf(out, out_size, "eyJ\xe2\x80\xa6%s", jwt + n - 4);
    else
        snprintf(out, out_size, "eyJ\xe2\x80\xa6");
}

/* ---- JWT payload ----------------------------------------------------------------------------- */

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Decodes n base64url characters (padding '=' tolerated at the end) into out (room for
 * n * 3 / 4 + 1). Returns the decoded length, or -1. */
static long b64url_decode(const char *in, size_t n, unsigned char *out)
{
    while (n > 0 && in[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    long len = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (unsigned char)(acc >> bits);
        }
    }
    return len;
}

int clawcast_jwt_exp(const char *jwt, int64_t *exp, char *err, size_t err_size)
{
    *exp = 0;
    const char *dot1 = jwt ? strchr(jwt, '.') : NULL;
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot1 || !dot2 || strchr(dot2 + 1, '.') || dot1 == jwt || dot2 == dot1 + 1)
        return clawcast_fail(err, err_size, -EINVAL,
                             "slot_jwt is not a JWT (three dot-separated parts)");
    size_t n = (size_t)(dot2 - dot1 - 1);
    unsigned char *buf = malloc(n * 3 / 4 + 2);
    if (!buf)
        return clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    long len = b64url_decode(dot1 + 1, n, buf);
    cJSON *payload = len > 0 ? cJSON_ParseWithLength((const char *)buf, (size_t)len) : NULL;
    explicit_bzero(buf, n * 3 / 4 + 2);
    free(buf);
    int rc = 0;
    if (len < 0)
        rc = clawcast_fail(err, err_size, -EINVAL, "slot_jwt: payload is not base64url");
    else if (!cJSON_IsObject(payload))
        rc = clawcast_fail(err, err_size, -EINVAL, "slot_jwt: payload is not a JSON object");
    const cJSON *e = rc == 0 ? cJSON_GetObjectItemCaseSensitive(payload, "exp") : NULL;
    if (e && !(cJSON_IsNumber(e) && isfinite(e->valuedouble) && e->valuedouble > 0 &&
               e->valuedouble < 1e13))
        rc = clawcast_fail(err, err_size, -EINVAL, "slot_jwt: exp is not a time in seconds");
    else if (e)
        *exp = (int64_t)e->valuedouble;
    clawcast_json_delete_secret(payload);
    return rc;
}

int clawcast_state_from_booking(struct clawcast_slot_state *st, const struct clawcast_booking *b,
                                const char *streamer_name, int duration_minutes, int64_t now,
                                char *err, size_t err_size)
{
    clawcast_state_clear(st);
    int64_t exp;
    int rc = clawcast_jwt_exp(b->slot_jwt, &exp, err, err_size);
    if (rc)
        return rc;
    if (!streamer_name || strlen(streamer_name) >= sizeof(st->streamer_name))
        return clawcast_fail(err, err_size, -EINVAL, "streamer_name: missing or too long");
    memcpy(st->slot_jwt, b->slot_jwt, sizeof(st->slot_jwt));
    memcpy(st->streamer_name, streamer_name, strlen(streamer_name) + 1);
    st->exp = exp;
    st->booked_at = now;
    st->position_in_queue = b->position_in_queue;
    st->duration_minutes = duration_minutes;
    return 0;
}

int clawcast_state_check_usable(const struct clawcast_slot_state *st, int64_t now, char *err,
                                size_t err_size)
{
    if (!st->slot_jwt[0])
        return clawcast_fail(err, err_size, -ENOENT, "no slot JWT — book a slot first");
    if (st->exp > 0 && now >= st->exp - CLAWCAST_JWT_EXPIRY_MARGIN)
        return clawcast_fail(err, err_size, -EKEYEXPIRED,
                             "slot JWT expired (exp %lld, now %lld; it \"expires ~60s after "
                             "your slot ends\") — book a new slot",
                             (long long)st->exp, (long long)now);
    return 0;
}

int clawcast_state_check_batch(const struct clawcast_slot_state *st, char *err, size_t err_size)
{
    if (st->batch_published)
        return clawcast_fail(err, err_size, -EALREADY,
                             "this slot has already published its batch (\"One batch per slot\") "
                             "— push frames or book a new slot");
    return 0;
}

int64_t clawcast_state_slot_end(const struct clawcast_slot_state *st)
{
    return st->exp > 0 ? st->exp - CLAWCAST_JWT_AFTER_SLOT : 0;
}

/* ---- the file -------------------------------------------------------------------------------- */

int clawcast_state_default_path(char *out, size_t out_size, char *err, size_t err_size)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    int n;
    if (xdg && xdg[0] == '/') { /* the spec: relative values are to be ignored */
        n = snprintf(out, out_size, "%s/%s", xdg, STATE_REL);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(geteuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (!home || !*home)
            return clawcast_fail(err, err_size, -ENOENT,
                                 "cannot find the home directory for the ClawCast slot file "
                                 "(HOME and XDG_STATE_HOME are unset)");
        n = snprintf(out, out_size, "%s/.local/state/%s", home, STATE_REL);
    }
    if (n < 0 || (size_t)n >= out_size)
        return clawcast_fail(err, err_size, -ENAMETOOLONG, "slot file path too long");
    return 0;
}

static int resolve(const char *path, char *buf, size_t size, const char **out, char *err,
                   size_t err_size)
{
    *out = path;
    if (path)
        return 0;
    int rc = clawcast_state_default_path(buf, size, err, err_size);
    *out = buf;
    return rc;
}

static int dir_of(const char *path, char *out, size_t out_size)
{
    const char *slash = strrchr(path, '/');
    int n = !slash          ? snprintf(out, out_size, ".")
            : slash == path ? snprintf(out, out_size, "/")
                            : snprintf(out, out_size, "%.*s", (int)(slash - path), path);
    return (n < 0 || (size_t)n >= out_size) ? -ENAMETOOLONG : 0;
}

/* "0600 in a 0700 dir": a directory others can enter or list is refused. */
static int check_dir(const char *dir, char *err, size_t err_size)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return clawcast_fail(err, err_size, -errno, "slot file directory %s: %s", dir,
                             strerror(errno));
    if (st.st_uid != geteuid())
        return clawcast_fail(err, err_size, -EACCES,
                             "slot file directory %s belongs to uid %u, not to you; refusing it",
                             dir, (unsigned)st.st_uid);
    if (st.st_mode & 077)
        return clawcast_fail(err, err_size, -EACCES,
                             "slot file directory %s is open to group or others (mode 0%03o); "
                             "refusing it — fix with: chmod 700 '%s'",
                             dir, (unsigned)(st.st_mode & 0777), dir);
    return 0;
}

static int check_file(const char *path, const struct stat *st, char *err, size_t err_size)
{
    if (!S_ISREG(st->st_mode))
        return clawcast_fail(err, err_size, -EINVAL, "slot file %s is not a regular file", path);
    if (st->st_uid != geteuid())
        return clawcast_fail(err, err_size, -EACCES,
                             "slot file %s belongs to uid %u, not to you; refusing it", path,
                             (unsigned)st->st_uid);
    if (st->st_mode & 077)
        return clawcast_fail(err, err_size, -EACCES,
                             "slot file %s can be read or written by group or others (mode "
                             "0%03o); refusing it — fix with: chmod 600 '%s'",
                             path, (unsigned)(st->st_mode & 0777), path);
    if (st->st_size > STATE_MAX_BYTES)
        return clawcast_fail(err, err_size, -EFBIG, "slot file %s is larger than %ld bytes",
                             path, STATE_MAX_BYTES);
    return 0;
}

/* mkdir -p, each created component 0700. */
static int make_dirs(const char *dir, char *err, size_t err_size)
{
    char buf[PATH_MAX];
    int n = snprintf(buf, sizeof(buf), "%s", dir);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return clawcast_fail(err, err_size, -ENAMETOOLONG, "slot file path too long");
    for (char *p = buf + 1;; p++) {
        bool end = *p == '\0';
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return clawcast_fail(err, err_size, -errno, "creating %s: %s", buf, strerror(errno));
        if (end)
            return 0;
        *p = '/';
    }
}

static char *serialize(const struct clawcast_slot_state *st)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddItemToObject(o, "slot_jwt", cJSON_CreateStringReference(st->slot_jwt)) &&
              cJSON_AddStringToObject(o, "streamer_name", st->streamer_name) &&
              cJSON_AddNumberToObject(o, "booked_at", (double)st->booked_at) &&
              cJSON_AddNumberToObject(o, "exp", (double)st->exp) &&
              cJSON_AddNumberToObject(o, "position_in_queue", (double)st->position_in_queue) &&
              cJSON_AddNumberToObject(o, "duration_minutes", st->duration_minutes) &&
              cJSON_AddBoolToObject(o, "batch_published", st->batch_published);
    char *text = ok ? clawcast_json_print_secret(o) : NULL;
    cJSON_Delete(o); /* the JWT was a reference: the tree holds no copy */
    return text;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_atomic(const char *path, const char *dir, const char *text, char *err,
                        size_t err_size)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return clawcast_fail(err, err_size, -ENAMETOOLONG, "slot file path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return clawcast_fail(err, err_size, -errno, "creating %s: %s", tmp, strerror(errno));
    int rc = write_all(fd, text, strlen(text));
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return clawcast_fail(err, err_size, rc, "writing %s: %s", path, strerror(-rc));
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the rename survives a crash only once the directory is synced */
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

int clawcast_state_save(const char *path, const struct clawcast_slot_state *st, char *err,
                        size_t err_size)
{
    char def[PATH_MAX], dir[PATH_MAX];
    int rc = resolve(path, def, sizeof(def), &path, err, err_size);
    if (rc)
        return rc;
    if (dir_of(path, dir, sizeof(dir)) != 0)
        return clawcast_fail(err, err_size, -ENAMETOOLONG, "slot file path too long");
    rc = make_dirs(dir, err, err_size);
    if (rc == 0)
        rc = check_dir(dir, err, err_size);
    if (rc)
        return rc;
    char *text = serialize(st);
    if (!text)
        return clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    rc = write_atomic(path, dir, text, err, err_size);
    clawcast_body_free(text);
    return rc;
}

static int read_checked(const char *path, char **buf, size_t *len, char *err, size_t err_size)
{
    char dir[PATH_MAX];
    *buf = NULL;
    if (dir_of(path, dir, sizeof(dir)) != 0)
        return clawcast_fail(err, err_size, -ENAMETOOLONG, "slot file path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return clawcast_fail(err, err_size, -ENOENT,
                                 "no booked ClawCast slot (%s does not exist) — run `agentcast "
                                 "clawcast book`",
                                 path);
        return clawcast_fail(err, err_size, -e, "slot file %s: %s", path, strerror(e));
    }
    struct stat st;
    int rc = fstat(fd, &st) != 0 ? clawcast_fail(err, err_size, -errno, "slot file %s: %s", path,
                                                 strerror(errno))
                                 : check_file(path, &st, err, err_size);
    if (rc == 0)
        rc = check_dir(dir, err, err_size);
    char *data = rc == 0 ? malloc((size_t)st.st_size + 1) : NULL;
    if (rc == 0 && !data)
        rc = clawcast_fail(err, err_size, -ENOMEM, "out of memory");
    size_t got = 0;
    while (rc == 0 && got < (size_t)st.st_size) {
        ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = clawcast_fail(err, err_size, -errno, "reading %s: %s", path, strerror(errno));
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (rc && data) {
        explicit_bzero(data, (size_t)st.st_size + 1);
        free(data);
        return rc;
    }
    if (data) {
        data[got] = '\0';
        *buf = data;
        *len = got;
    }
    return rc;
}

static int parse_file(const char *path, const char *data, size_t len,
                      struct clawcast_slot_state *st, char *err, size_t err_size)
{
    char what[PATH_MAX + 16];
    snprintf(what, sizeof(what), "slot file %s", path);
    cJSON *root;
    int rc = clawcast_json_root(data, len, what, &root, err, err_size);
    if (rc)
        return clawcast_fail(err, err_size, -EINVAL, "slot file %s is not a JSON object; remove "
                             "it and book again", path);
    int64_t v;
    rc = clawcast_jstr(root, what, "slot_jwt", true, st->slot_jwt, sizeof(st->slot_jwt), err,
                       err_size);
    if (rc == 0)
        rc = clawcast_jstr(root, what, "streamer_name", true, st->streamer_name,
                           sizeof(st->streamer_name), err, err_size);
    if (rc == 0)
        rc = clawcast_jint(root, what, "booked_at", true, &st->booked_at, err, err_size);
    if (rc == 0)
        rc = clawcast_jint(root, what, "exp", true, &st->exp, err, err_size);
    if (rc == 0) {
        clawcast_jint(root, what, "position_in_queue", false, &st->position_in_queue, NULL, 0);
        clawcast_jint(root, what, "duration_minutes", false, &v, NULL, 0);
        st->duration_minutes = (v >= 1 && v <= CLAWCAST_DURATION_MINUTES_MAX) ? (int)v : 0;
        st->batch_published =
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "batch_published"));
    }
    clawcast_json_delete_secret(root);
    return rc ? -EINVAL : 0;
}

int clawcast_state_load(const char *path, struct clawcast_slot_state *st, char *err,
                        size_t err_size)
{
    char def[PATH_MAX];
    clawcast_state_clear(st);
    int rc = resolve(path, def, sizeof(def), &path, err, err_size);
    if (rc)
        return rc;
    char *data = NULL;
    size_t len = 0;
    rc = read_checked(path, &data, &len, err, err_size);
    if (rc == 0) {
        rc = parse_file(path, data, len, st, err, err_size);
        explicit_bzero(data, len);
        free(data);
    }
    if (rc)
        clawcast_state_clear(st);
    return rc;
}

int clawcast_state_delete(const char *path, char *err, size_t err_size)
{
    char def[PATH_MAX];
    int rc = resolve(path, def, sizeof(def), &path, err, err_size);
    if (rc)
        return rc;
    if (unlink(path) != 0 && errno != ENOENT)
        return clawcast_fail(err, err_size, -errno, "removing %s: %s", path, strerror(errno));
    return 0;
}
