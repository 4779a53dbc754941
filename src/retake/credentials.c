/*
 * credentials — see credentials.h. Read at the start of every `agentcast live` and by the
 * commands that call the agent API; written by `agentcast register` and after the first
 * stream/start. Copies of the token made here (file buffer, JSON tree, serialized text) are
 * zeroed before they are freed.
 */
#include "retake/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "retake/api_internal.h"

#define CREDENTIALS_MAX_BYTES (64L * 1024)
#define CREDENTIALS_REL_PATH "/.config/retake/credentials.json"
#define CMD_MAX (3 * PATH_MAX + 64)

struct retake_credentials *retake_credentials_new(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (sizeof(struct retake_credentials) + page - 1) / page * page;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    (void)madvise(p, size, MADV_DONTDUMP); /* best effort: older kernels lack it */
    return p;                              /* anonymous pages are zero */
}

void retake_credentials_free(struct retake_credentials *c)
{
    if (!c)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (sizeof(*c) + page - 1) / page * page;
    explicit_bzero(c, sizeof(*c));
    munmap(c, size);
}

void retake_credentials_clear(struct retake_credentials *c)
{
    explicit_bzero(c, sizeof(*c));
}

void retake_token_redact(const char *token, char *out, size_t out_size)
{
    size_t n = token ? strlen(token) : 0;
    if (n >= 12)
        snprintf(out, out_size, "rtk_\xe2\x80\xa6%s", token + n - 4);
    else
        snprintf(out, out_size, "rtk_\xe2\x80\xa6");
}

int retake_credentials_default_path(char *out, size_t out_size, char *err, size_t err_size)
{
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(geteuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return errmsg_fail(err, err_size, -ENOENT,
                           "cannot find the home directory for %s (HOME is unset)",
                           CREDENTIALS_REL_PATH + 1);
    int n = snprintf(out, out_size, "%s%s", home, CREDENTIALS_REL_PATH);
    if (n < 0 || (size_t)n >= out_size)
        return errmsg_fail(err, err_size, -ENOSPC, "home directory path too long");
    return 0;
}

/* path as one shell word: as is when it is plain, else single-quoted. */
static void shell_quote(const char *path, char *out, size_t out_size)
{
    if (strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+,=:@%") ==
        strlen(path)) {
        snprintf(out, out_size, "%s", path);
        return;
    }
    size_t n = 0;
    if (out_size < 3)
        return;
    out[n++] = '\'';
    for (const char *p = path; *p && n + 6 < out_size; p++) {
        if (*p == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else {
            out[n++] = *p;
        }
    }
    out[n++] = '\'';
    out[n] = '\0';
}

/* The directory part of path ("." when it has none). */
static int dir_of(const char *path, char *out, size_t out_size)
{
    const char *slash = strrchr(path, '/');
    int n = !slash          ? snprintf(out, out_size, ".")
            : slash == path ? snprintf(out, out_size, "/")
                            : snprintf(out, out_size, "%.*s", (int)(slash - path), path);
    return (n < 0 || (size_t)n >= out_size) ? -ENAMETOOLONG : 0;
}

/* A directory others can write could have the file swapped under us; a sticky one (like /tmp)
 * cannot have our file renamed or removed by others. */
static int check_dir(const char *dir, char *err, size_t err_size)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return errmsg_fail(err, err_size, -errno, "credentials directory %s: %s", dir,
                           strerror(errno));
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
        char q[PATH_MAX + 16];
        shell_quote(dir, q, sizeof(q));
        return errmsg_fail(err, err_size, -EACCES,
                           "credentials directory %s can be written by group or others (mode "
                           "0%03o); refusing it — fix with: chmod go-w %s",
                           dir, (unsigned)(st.st_mode & 0777), q);
    }
    return 0;
}

static int check_file(const char *path, const struct stat *st, char *err, size_t err_size)
{
    char q[PATH_MAX + 16];
    shell_quote(path, q, sizeof(q));
    if (!S_ISREG(st->st_mode))
        return errmsg_fail(err, err_size, -EINVAL, "credentials file %s is not a regular file",
                           path);
    if (st->st_uid != geteuid())
        return errmsg_fail(err, err_size, -EACCES,
                           "credentials file %s belongs to uid %u, not to you (uid %u); refusing "
                           "it — fix with: sudo chown %u %s && chmod 600 %s",
                           path, (unsigned)st->st_uid, (unsigned)geteuid(), (unsigned)geteuid(), q,
                           q);
    if (st->st_mode & 077)
        return errmsg_fail(err, err_size, -EACCES,
                           "credentials file %s can be read or written by group or others (mode "
                           "0%03o); refusing it — fix with: chmod 600 %s",
                           path, (unsigned)(st->st_mode & 0777), q);
    if (st->st_size > CREDENTIALS_MAX_BYTES)
        return errmsg_fail(err, err_size, -EFBIG, "credentials file %s is larger than %ld bytes",
                           path, CREDENTIALS_MAX_BYTES);
    return 0;
}

/* Reads up to size bytes of fd into a malloc'd, NUL-terminated *buf (zero it before freeing). A
 * file that shrank under us gives what was there. */
static int read_all(int fd, const char *path, size_t size, char **buf, size_t *len, char *err,
                    size_t err_size)
{
    char *data = malloc(size + 1);
    if (!data)
        return errmsg_fail(err, err_size, -ENOMEM, "out of memory");
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            explicit_bzero(data, size + 1);
            free(data);
            return errmsg_fail(err, err_size, -e, "reading %s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    data[got] = '\0';
    *buf = data;
    *len = got;
    return 0;
}

/* Opens path, checks its owner and mode and its directory's, then reads it whole. */
static int read_checked(const char *path, char **buf, size_t *len, char *err, size_t err_size)
{
    char dir[PATH_MAX];
    *buf = NULL;
    if (dir_of(path, dir, sizeof(dir)) != 0)
        return errmsg_fail(err, err_size, -ENAMETOOLONG, "credentials path too long");
    /* O_NONBLOCK: a FIFO planted at the path must not hang us; regular files ignore it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return errmsg_fail(err, err_size, -e, "credentials file %s: %s", path, strerror(e));
    }
    struct stat st;
    int rc;
    if (fstat(fd, &st) != 0)
        rc = errmsg_fail(err, err_size, -errno, "credentials file %s: %s", path, strerror(errno));
    else
        rc = check_file(path, &st, err, err_size);
    if (rc == 0)
        rc = check_dir(dir, err, err_size);
    if (rc == 0)
        rc = read_all(fd, path, (size_t)st.st_size, buf, len, err, err_size);
    close(fd);
    return rc;
}

/* A string field of the file: absent or null leave dst "", anything else but a string is an
 * error naming the field. */
static int file_field(const cJSON *root, const char *path, const char *name, char *dst,
                      size_t dst_size, char *err, size_t err_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);
    dst[0] = '\0';
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsString(item) || !item->valuestring)
        return errmsg_fail(err, err_size, -EINVAL,
                           "credentials file %s: field \"%s\" must be a string", path, name);
    size_t n = strlen(item->valuestring);
    if (n >= dst_size)
        return errmsg_fail(err, err_size, -EINVAL,
                           "credentials file %s: field \"%s\" is too long (at most %zu bytes)",
                           path, name, dst_size - 1);
    memcpy(dst, item->valuestring, n + 1);
    return 0;
}

static int parse_file(const char *path, const char *data, size_t len, struct retake_credentials *c,
                      char *err, size_t err_size)
{
    cJSON *root = cJSON_ParseWithLength(data, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return errmsg_fail(err, err_size, -EINVAL,
                           "credentials file %s is not a JSON object; fix or remove it", path);
    }
    struct {
        const char *name;
        char *dst;
        size_t size;
    } fields[] = {
        {"access_token", c->file_access_token, sizeof(c->file_access_token)},
        {"agent_name", c->agent_name, sizeof(c->agent_name)},
        {"agent_id", c->agent_id, sizeof(c->agent_id)},
        {"userDbId", c->user_db_id, sizeof(c->user_db_id)},
        {"wallet_address", c->wallet_address, sizeof(c->wallet_address)},
        {"ticker", c->ticker, sizeof(c->ticker)},
        {"token_address", c->token_address, sizeof(c->token_address)},
        {"token_ticker", c->token_ticker, sizeof(c->token_ticker)},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(fields) / sizeof(fields[0]); i++)
        rc = file_field(root, path, fields[i].name, fields[i].dst, fields[i].size, err, err_size);
    cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
    if (cJSON_IsString(tok) && tok->valuestring) /* the tree's copy of the token */
        explicit_bzero(tok->valuestring, strlen(tok->valuestring));
    cJSON_Delete(root);
    return rc;
}

int retake_credentials_load(const char *path, struct retake_credentials *c, char *err,
                            size_t err_size)
{
    char def[PATH_MAX];
    retake_credentials_clear(c);
    if (!path) {
        int rc = retake_credentials_default_path(def, sizeof(def), err, err_size);
        if (rc)
            return rc;
        path = def;
    }
    const char *env = getenv(RETAKE_ENV_TOKEN);
    if (env && *env) {
        if (strlen(env) >= sizeof(c->access_token))
            return errmsg_fail(err, err_size, -EINVAL, "%s is too long (at most %zu bytes)",
                               RETAKE_ENV_TOKEN, sizeof(c->access_token) - 1);
        memcpy(c->access_token, env, strlen(env) + 1);
        c->token_from_env = true;
    }
    char *data = NULL;
    size_t len = 0;
    int rc = read_checked(path, &data, &len, err, err_size);
    if (rc == -ENOENT) {
        if (c->token_from_env)
            return 0;
        return errmsg_fail(err, err_size, -ENOENT,
                           "no retake.tv credentials at %s — run `agentcast register` (or set %s)",
                           path, RETAKE_ENV_TOKEN);
    }
    if (rc == 0 && data) {
        c->file_found = true;
        rc = parse_file(path, data, len, c, err, err_size);
        explicit_bzero(data, len);
        free(data);
    }
    if (rc == 0 && !c->token_from_env) {
        if (!c->file_access_token[0])
            rc = errmsg_fail(err, err_size, -EINVAL,
                             "credentials file %s has no access_token — run `agentcast register` "
                             "or set %s",
                             path, RETAKE_ENV_TOKEN);
        else
            memcpy(c->access_token, c->file_access_token, sizeof(c->access_token));
    }
    if (rc)
        retake_credentials_clear(c);
    return rc;
}

/* mkdir -p with mode 0700 for each component that does not exist yet. */
static int make_dirs(const char *dir, char *err, size_t err_size)
{
    char buf[PATH_MAX];
    int n = snprintf(buf, sizeof(buf), "%s", dir);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return errmsg_fail(err, err_size, -ENAMETOOLONG, "credentials path too long");
    for (char *p = buf + 1;; p++) {
        bool end = (*p == '\0');
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return errmsg_fail(err, err_size, -errno, "creating %s: %s", buf, strerror(errno));
        if (end)
            return 0;
        *p = '/';
    }
}

static char *serialize(const struct retake_credentials *c)
{
    const char *const names[] = {"access_token",   "agent_name", "agent_id",      "userDbId",
                                 "wallet_address", "ticker",     "token_address", "token_ticker"};
    const char *const values[] = {c->file_access_token, c->agent_name,     c->agent_id,
                                  c->user_db_id,        c->wallet_address, c->ticker,
                                  c->token_address,     c->token_ticker};
    cJSON *obj = cJSON_CreateObject();
    char *out = NULL;
    size_t i = 0;
    for (; obj && i < sizeof(names) / sizeof(names[0]); i++) {
        cJSON *v = cJSON_CreateStringReference(values[i]);
        if (!v || !cJSON_AddItemToObject(obj, names[i], v)) {
            cJSON_Delete(v);
            break;
        }
    }
    if (obj && i == sizeof(names) / sizeof(names[0]))
        out = retake_json_print_secret(obj, true);
    cJSON_Delete(obj);
    return out;
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

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

/* Temp file → fsync → rename → fsync(dir). The caller checked the directory. */
static int write_atomic(const char *path, const char *dir, const char *text, char *err,
                        size_t err_size)
{
    char tmp[PATH_MAX];
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int n = snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-XXXXXX", dir, base);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return errmsg_fail(err, err_size, -ENAMETOOLONG, "credentials path too long");
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return errmsg_fail(err, err_size, -errno, "creating a temp file in %s: %s", dir,
                           strerror(errno));
    bool renaming = false;
    int rc = fchmod(fd, 0600) ? -errno : 0;
    if (rc == 0)
        rc = write_all(fd, text, strlen(text));
    if (rc == 0)
        rc = write_all(fd, "\n", 1);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -errno;
        renaming = true;
    }
    if (rc) {
        unlink(tmp);
        return errmsg_fail(err, err_size, rc, "%s %s: %s", renaming ? "renaming over" : "writing",
                           renaming ? path : tmp, strerror(-rc));
    }
    rc = fsync_dir(dir);
    if (rc) /* the file is in place; only its durability across a crash is in doubt */
        return errmsg_fail(err, err_size, rc, "syncing directory %s: %s", dir, strerror(-rc));
    return 0;
}

int retake_credentials_save(const char *path, const struct retake_credentials *c, char *err,
                            size_t err_size)
{
    char def[PATH_MAX], dir[PATH_MAX];
    if (!path) {
        int rc = retake_credentials_default_path(def, sizeof(def), err, err_size);
        if (rc)
            return rc;
        path = def;
    }
    if (dir_of(path, dir, sizeof(dir)) != 0)
        return errmsg_fail(err, err_size, -ENAMETOOLONG, "credentials path too long");
    int rc = make_dirs(dir, err, err_size);
    if (rc == 0)
        rc = check_dir(dir, err, err_size);
    if (rc)
        return rc;
    char *text = serialize(c);
    if (!text)
        return errmsg_fail(err, err_size, -ENOMEM, "out of memory");
    rc = write_atomic(path, dir, text, err, err_size);
    retake_body_free(text);
    return rc;
}

static void copy_field(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

void retake_credentials_from_register(struct retake_credentials *c,
                                      const struct retake_register_req *req,
                                      const struct retake_register_resp *resp)
{
    retake_credentials_clear(c);
    memcpy(c->access_token, resp->access_token, sizeof(c->access_token));
    memcpy(c->file_access_token, resp->access_token, sizeof(c->file_access_token));
    copy_field(c->agent_name, sizeof(c->agent_name), req->agent_name);
    copy_field(c->ticker, sizeof(c->ticker), req->ticker);
    copy_field(c->agent_id, sizeof(c->agent_id), resp->agent_id);
    copy_field(c->user_db_id, sizeof(c->user_db_id), resp->user_db_id);
    copy_field(c->wallet_address, sizeof(c->wallet_address),
               resp->wallet_address[0] ? resp->wallet_address : req->wallet_address);
    copy_field(c->token_address, sizeof(c->token_address), resp->token_address);
    copy_field(c->token_ticker, sizeof(c->token_ticker), resp->token_ticker);
}

int retake_credentials_set_token_info(struct retake_credentials *c, const char *path,
                                      const struct retake_stream_start *start, bool *changed,
                                      char *err, size_t err_size)
{
    bool diff = false;
    if (start->has_token && start->token_address[0] &&
        strcmp(c->token_address, start->token_address) != 0) {
        copy_field(c->token_address, sizeof(c->token_address), start->token_address);
        diff = true;
    }
    if (start->has_token && start->token_ticker[0] &&
        strcmp(c->token_ticker, start->token_ticker) != 0) {
        copy_field(c->token_ticker, sizeof(c->token_ticker), start->token_ticker);
        diff = true;
    }
    if (changed)
        *changed = diff;
    return diff ? retake_credentials_save(path, c, err, err_size) : 0;
}

void retake_credentials_forget_env(void)
{
    unsetenv(RETAKE_ENV_TOKEN);
}
