/*
 * test_retake_credentials — ~/.config/retake/credentials.json (src/retake/credentials.c): the
 * round trip of the document's fields, permissions refused with the command that fixes them,
 * atomic saves that leave no temp file, RETAKE_ACCESS_TOKEN over the file, token redaction, and
 * saving the token address after the first stream. Every test works in its own temp directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "retake/credentials.h"

#define TOKEN "rtk_0123456789abcdefWXYZ"

static char err[1024];

struct fixture {
    char dir[256];  /* the temp directory */
    char cdir[300]; /* dir/config/retake */
    char path[400]; /* cdir/credentials.json */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_retake_credentials.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->cdir, sizeof(f->cdir), "%s/config/retake", f->dir);
    snprintf(f->path, sizeof(f->path), "%s/credentials.json", f->cdir);
    unsetenv(RETAKE_ENV_TOKEN);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    unsetenv(RETAKE_ENV_TOKEN);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void fill(struct retake_credentials *c)
{
    retake_credentials_clear(c);
    strcpy(c->access_token, TOKEN);
    strcpy(c->file_access_token, TOKEN);
    strcpy(c->agent_name, "YourAgent");
    strcpy(c->agent_id, "agent_xyz");
    strcpy(c->user_db_id, "user_abc");
    strcpy(c->wallet_address, "So11111111111111111111111111111111111111112");
    strcpy(c->ticker, "YOU");
}

static void save_ok(const char *path, const struct retake_credentials *c)
{
    if (retake_credentials_save(path, c, err, sizeof(err)) != 0)
        fail_msg("save: %s", err);
}

static int load(const char *path, struct retake_credentials *c)
{
    err[0] = '\0';
    return retake_credentials_load(path, c, err, sizeof(err));
}

static char *slurp(const char *path)
{
    static char buf[70000];
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* Names of the entries in dir, space-separated, sorted. */
static const char *listing(const char *dir)
{
    static char out[1024];
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n >= 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            strcat(out, out[0] ? " " : "");
            strcat(out, names[i]->d_name);
        }
        free(names[i]);
    }
    free(names);
    return out;
}

/* "Save to ~/.config/retake/credentials.json: { access_token, agent_name, agent_id, userDbId,
 * wallet_address, ticker, token_address, token_ticker }" — "Restrict file permissions
 * immediately after creation: chmod 600". */
static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct retake_credentials c, back;
    fill(&c);
    save_ok(f->path, &c);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(f->cdir, &st), 0); /* created 0700 (umask may only remove bits) */
    assert_int_equal(st.st_mode & 077, 0);

    cJSON *o = cJSON_Parse(slurp(f->path));
    assert_true(cJSON_IsObject(o));
    assert_int_equal(cJSON_GetArraySize(o), 8);
    const char *names[] = {"access_token",   "agent_name", "agent_id",      "userDbId",
                           "wallet_address", "ticker",     "token_address", "token_ticker"};
    for (size_t i = 0; i < 8; i++)
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, names[i])));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "userDbId")->valuestring, "user_abc");
    cJSON_Delete(o);

    assert_int_equal(load(f->path, &back), 0);
    assert_true(back.file_found);
    assert_false(back.token_from_env);
    assert_string_equal(back.access_token, TOKEN);
    assert_string_equal(back.file_access_token, TOKEN);
    assert_string_equal(back.agent_name, "YourAgent");
    assert_string_equal(back.agent_id, "agent_xyz");
    assert_string_equal(back.user_db_id, "user_abc");
    assert_string_equal(back.wallet_address, "So11111111111111111111111111111111111111112");
    assert_string_equal(back.ticker, "YOU");
    assert_string_equal(back.token_address, "");
    assert_string_equal(back.token_ticker, "");
    retake_credentials_clear(&back);
    assert_int_equal(back.access_token[0], 0);
}

/* A file group or others can read or write is refused with the chmod that fixes it. */
static void test_file_permissions_refused(void **state)
{
    struct fixture *f = *state;
    struct retake_credentials c;
    fill(&c);
    save_ok(f->path, &c);
    const mode_t bad[] = {0644, 0640, 0604, 0620, 0602, 0660, 0666, 0700 | 0040};
    char want[600];
    snprintf(want, sizeof(want), "fix with: chmod 600 %s", f->path);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(chmod(f->path, bad[i]), 0);
        assert_int_equal(load(f->path, &c), -EACCES);
        if (!strstr(err, want))
            fail_msg("mode %o: \"%s\" lacks \"%s\"", (unsigned)bad[i], err, want);
        assert_non_null(strstr(err, "group or others"));
        assert_null(strstr(err, "0123456789")); /* never the token */
        assert_int_equal(c.user_db_id[0], 0);   /* nothing loaded */
    }
    assert_int_equal(chmod(f->path, 0400), 0); /* owner-only, read-only: fine */
    assert_int_equal(load(f->path, &c), 0);
    assert_int_equal(chmod(f->path, 0600), 0);
    assert_int_equal(load(f->path, &c), 0);

    /* Paths that need quoting are quoted in the command. */
    char odd[600];
    snprintf(odd, sizeof(odd), "%s/my creds'.json", f->cdir);
    save_ok(odd, &c);
    assert_int_equal(chmod(odd, 0644), 0);
    assert_int_equal(load(odd, &c), -EACCES);
    snprintf(want, sizeof(want), "chmod 600 '%s/my creds'\\''.json'", f->cdir);
    if (!strstr(err, want))
        fail_msg("\"%s\" lacks \"%s\"", err, want);
}

static void test_owner_and_directory_refused(void **state)
{
    struct fixture *f = *state;
    struct retake_credentials c;
    fill(&c);
    save_ok(f->path, &c);
    char want[1000];
    /* A directory others can write could have the file swapped. */
    assert_int_equal(chmod(f->cdir, 0777), 0);
    assert_int_equal(load(f->path, &c), -EACCES);
    snprintf(want, sizeof(want), "fix with: chmod go-w %s", f->cdir);
    assert_non_null(strstr(err, want));
    assert_int_equal(retake_credentials_save(f->path, &c, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, want));
    assert_int_equal(chmod(f->cdir, 0770), 0);
    assert_int_equal(load(f->path, &c), -EACCES);
    /* Sticky (like /tmp): others cannot rename or remove our file. */
    assert_int_equal(chmod(f->cdir, 01777), 0);
    assert_int_equal(load(f->path, &c), 0);
    assert_int_equal(chmod(f->cdir, 0755), 0); /* readable by others is fine for a directory */
    assert_int_equal(load(f->path, &c), 0);
    assert_int_equal(chmod(f->cdir, 0700), 0);

    /* A file that is not ours; only root can make one to test with. */
    if (geteuid() == 0) {
        fill(&c);
        assert_int_equal(chown(f->path, 65534, 65534), 0);
        assert_int_equal(load(f->path, &c), -EACCES);
        assert_non_null(strstr(err, "belongs to uid 65534"));
        snprintf(want, sizeof(want), "sudo chown 0 %s && chmod 600 %s", f->path, f->path);
        assert_non_null(strstr(err, want));
        assert_int_equal(chown(f->path, 0, 0), 0);
        assert_int_equal(load(f->path, &c), 0);
    }
}

/* Temp file + rename: nothing else is ever left in the directory, also when the save fails. */
static void test_atomic_save(void **state)
{
    struct fixture *f = *state;
    struct retake_credentials c, back;
    fill(&c);
    save_ok(f->path, &c);
    assert_string_equal(listing(f->cdir), "credentials.json");
    struct stat before, after;
    assert_int_equal(stat(f->path, &before), 0);
    strcpy(c.agent_name, "Renamed");
    save_ok(f->path, &c);
    assert_string_equal(listing(f->cdir), "credentials.json");
    assert_int_equal(stat(f->path, &after), 0);
    assert_true(before.st_ino != after.st_ino); /* replaced, not rewritten in place */
    assert_int_equal(load(f->path, &back), 0);
    assert_string_equal(back.agent_name, "Renamed");
    /* An existing file with loose permissions is replaced by a 0600 one. */
    assert_int_equal(chmod(f->path, 0644), 0);
    save_ok(f->path, &c);
    assert_int_equal(stat(f->path, &after), 0);
    assert_int_equal(after.st_mode & 07777, 0600);

    /* rename() onto a directory fails: an error, and the temp file is gone. */
    char target[600];
    snprintf(target, sizeof(target), "%s/taken", f->cdir);
    assert_int_equal(mkdir(target, 0700), 0);
    char sub[700];
    snprintf(sub, sizeof(sub), "%s/x", target);
    write_file(sub, "keep", 0600); /* a non-empty directory cannot be replaced */
    assert_true(retake_credentials_save(target, &c, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "renaming over"));
    assert_string_equal(listing(f->cdir), "credentials.json taken");
    const char *text = slurp(f->path);
    assert_string_equal(text + strlen(text) - 2, "}\n"); /* the old file is whole */
}

/* "RETAKE_ACCESS_TOKEN … If set, takes priority over the credentials.json value." */
static void test_env_override(void **state)
{
    struct fixture *f = *state;
    struct retake_credentials c;
    fill(&c);
    save_ok(f->path, &c);
    setenv(RETAKE_ENV_TOKEN, "rtk_from_environment_9999", 1);
    assert_int_equal(load(f->path, &c), 0);
    assert_true(c.token_from_env);
    assert_true(c.file_found);
    assert_string_equal(c.access_token, "rtk_from_environment_9999");
    assert_string_equal(c.file_access_token, TOKEN);
    assert_string_equal(c.user_db_id, "user_abc");
    /* Saving writes the file's token, never the environment's. */
    strcpy(c.token_address, "TokAddr");
    save_ok(f->path, &c);
    assert_null(strstr(slurp(f->path), "from_environment"));
    assert_non_null(strstr(slurp(f->path), TOKEN));

    /* With the env token a missing file is fine; without it, it is not. */
    char missing[600];
    snprintf(missing, sizeof(missing), "%s/none.json", f->cdir);
    assert_int_equal(load(missing, &c), 0);
    assert_false(c.file_found);
    assert_string_equal(c.access_token, "rtk_from_environment_9999");
    setenv(RETAKE_ENV_TOKEN, "", 1); /* empty counts as unset */
    assert_int_equal(load(missing, &c), -ENOENT);
    assert_non_null(strstr(err, "run `agentcast register`"));
    assert_non_null(strstr(err, missing));
    assert_int_equal(load(f->path, &c), 0);
    assert_false(c.token_from_env);
    assert_string_equal(c.access_token, TOKEN);

    setenv(RETAKE_ENV_TOKEN, "rtk_x", 1);
    retake_credentials_forget_env();
    assert_null(getenv(RETAKE_ENV_TOKEN));
}

static void test_bad_files(void **state)
{
    struct fixture *f = *state;
    struct retake_credentials c;
    fill(&c);
    save_ok(f->path, &c); /* creates the directory */
    write_file(f->path, "{\"agent_name\":\"A\"}", 0600);
    assert_int_equal(load(f->path, &c), -EINVAL);
    assert_non_null(strstr(err, "has no access_token"));
    write_file(f->path, "{\"access_token\":\"rtk_1\",\"userDbId\":5}", 0600);
    assert_int_equal(load(f->path, &c), -EINVAL);
    assert_non_null(strstr(err, "field \"userDbId\" must be a string"));
    assert_int_equal(c.access_token[0], 0); /* cleared on failure */
    write_file(f->path, "{\"access_token\":\"rtk_1\",", 0600);
    assert_int_equal(load(f->path, &c), -EINVAL);
    assert_non_null(strstr(err, "is not a JSON object"));
    write_file(f->path, "[]", 0600);
    assert_int_equal(load(f->path, &c), -EINVAL);
    /* Null and unknown fields are fine. */
    write_file(f->path, "{\"access_token\":\"rtk_1\",\"ticker\":null,\"other\":[1]}", 0600);
    assert_int_equal(load(f->path, &c), 0);
    assert_string_equal(c.access_token, "rtk_1");
    assert_string_equal(c.ticker, "");
    /* Field too long for its buffer. */
    char big[2048];
    snprintf(big, sizeof(big), "{\"access_token\":\"rtk_1\",\"agent_id\":\"%0300d\"}", 1);
    write_file(f->path, big, 0600);
    assert_int_equal(load(f->path, &c), -EINVAL);
    assert_non_null(strstr(err, "\"agent_id\" is too long"));
    /* Larger than 64 KiB. */
    static char huge[70000];
    memset(huge, ' ', sizeof(huge) - 1);
    huge[0] = '{';
    huge[sizeof(huge) - 2] = '}';
    write_file(f->path, huge, 0600);
    assert_int_equal(load(f->path, &c), -EFBIG);
    /* A FIFO is refused at once rather than blocking the open. */
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(mkfifo(f->path, 0600), 0);
    assert_int_equal(load(f->path, &c), -EINVAL);
    assert_non_null(strstr(err, "not a regular file"));
}

/* "The token never appears in logs (at most rtk_… plus its last 4 characters)" (issue 3). */
static void test_redact(void **state)
{
    (void)state;
    char out[64];
    retake_token_redact("rtk_0123456789abcdefWXYZ", out, sizeof(out));
    assert_string_equal(out, "rtk_\xe2\x80\xa6WXYZ");
    retake_token_redact("rtk_abcdefgh", out, sizeof(out)); /* 12 characters */
    assert_string_equal(out, "rtk_\xe2\x80\xa6"
                             "efgh");
    retake_token_redact("rtk_abcdefg", out, sizeof(out)); /* 11: too short to show any */
    assert_string_equal(out, "rtk_\xe2\x80\xa6");
    retake_token_redact("", out, sizeof(out));
    assert_string_equal(out, "rtk_\xe2\x80\xa6");
    retake_token_redact(NULL, out, sizeof(out));
    assert_string_equal(out, "rtk_\xe2\x80\xa6");
    char tiny[5];
    retake_token_redact("rtk_0123456789abcdefWXYZ", tiny, sizeof(tiny));
    assert_string_equal(tiny, "rtk_");
    /* Whatever the token, at most its last 4 characters show. */
    char tok[64];
    for (int len = 0; len < 60; len++) {
        memset(tok, 'q', (size_t)len);
        tok[len] = '\0';
        if (len >= 4)
            memcpy(tok + len - 4, "ABCD", 4);
        retake_token_redact(tok, out, sizeof(out));
        assert_true(strlen(out) <= strlen("rtk_\xe2\x80\xa6") + 4);
        assert_null(strstr(out, "q"));
    }
}

/* "On first stream, save the returned tokenAddress and ticker to credentials." */
static void test_register_and_token_info(void **state)
{
    struct fixture *f = *state;
    const struct retake_register_req req = {"YourAgent", "bio", "https://e/a.png", "WalletReq",
                                            "YOU"};
    struct retake_register_resp resp = {0};
    strcpy(resp.access_token, TOKEN);
    strcpy(resp.agent_id, "agent_xyz");
    strcpy(resp.user_db_id, "user_abc");
    struct retake_credentials *c = retake_credentials_new();
    assert_non_null(c);
    assert_int_equal(c->access_token[0], 0);
    retake_credentials_from_register(c, &req, &resp);
    assert_string_equal(c->access_token, TOKEN);
    assert_string_equal(c->file_access_token, TOKEN);
    assert_string_equal(c->agent_name, "YourAgent");
    assert_string_equal(c->ticker, "YOU");
    assert_string_equal(c->wallet_address, "WalletReq"); /* the response had none */
    assert_string_equal(c->user_db_id, "user_abc");
    save_ok(f->path, c);

    struct retake_stream_start start = {0};
    bool changed = true;
    assert_int_equal(
        retake_credentials_set_token_info(c, f->path, &start, &changed, err, sizeof(err)), 0);
    assert_false(changed); /* no token object */
    start.has_token = true;
    strcpy(start.token_address, "TokAddr1");
    strcpy(start.token_ticker, "YOU");
    assert_int_equal(
        retake_credentials_set_token_info(c, f->path, &start, &changed, err, sizeof(err)), 0);
    assert_true(changed);
    struct retake_credentials back;
    assert_int_equal(load(f->path, &back), 0);
    assert_string_equal(back.token_address, "TokAddr1");
    assert_string_equal(back.token_ticker, "YOU");
    assert_string_equal(back.access_token, TOKEN);
    /* The same values again: nothing to write, the file is left alone. */
    struct stat before, after;
    assert_int_equal(stat(f->path, &before), 0);
    assert_int_equal(
        retake_credentials_set_token_info(c, f->path, &start, &changed, err, sizeof(err)), 0);
    assert_false(changed);
    assert_int_equal(stat(f->path, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);
    /* Empty values never erase what is known. */
    start.token_address[0] = start.token_ticker[0] = '\0';
    assert_int_equal(retake_credentials_set_token_info(c, f->path, &start, NULL, err, sizeof(err)),
                     0);
    assert_string_equal(c->token_address, "TokAddr1");
    retake_credentials_free(c);
    retake_credentials_free(NULL);
}

/* "Load ~/.config/retake/credentials.json" — the default path follows $HOME. */
static void test_default_path(void **state)
{
    struct fixture *f = *state;
    char *old = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    char p[600], want[600];
    setenv("HOME", f->dir, 1);
    assert_int_equal(retake_credentials_default_path(p, sizeof(p), err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/.config/retake/credentials.json", f->dir);
    assert_string_equal(p, want);
    assert_int_equal(retake_credentials_default_path(p, 10, err, sizeof(err)), -ENOSPC);
    struct retake_credentials c, back;
    fill(&c);
    save_ok(NULL, &c);
    assert_int_equal(load(NULL, &back), 0);
    assert_string_equal(back.agent_id, "agent_xyz");
    snprintf(want, sizeof(want), "%s/.config", f->dir);
    struct stat st;
    assert_int_equal(stat(want, &st), 0);
    assert_int_equal(st.st_mode & 077, 0); /* created directories are 0700 */
    if (old) {
        setenv("HOME", old, 1);
        free(old);
    } else {
        unsetenv("HOME");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_permissions_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_and_directory_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_save, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test(test_redact),
        cmocka_unit_test_setup_teardown(test_register_and_token_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
