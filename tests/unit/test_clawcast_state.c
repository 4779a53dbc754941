/*
 * test_clawcast_state — the booking's state file (src/clawcast/state.c): "the slot JWT lives in
 * a 0600 state file for the booking's life and is never printed"; round trip, permissions
 * refused with the chmod that fixes them, atomic replacement, and the JWT's exp decoded so that
 * no call is made with an expired JWT.
 */
#include <errno.h>
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

#include "clawcast/state.h"

/* Test JWTs (not credentials): header {"alg":"HS256"}; payloads {"exp":2000000000},
 * {"sub":"x"} and {"exp":"soon"}; the signatures are filler. */
#define JWT_EXP "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjIwMDAwMDAwMDB9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
#define JWT_NOEXP "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
#define JWT_BADEXP "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJzb29uIn0.c2ln"

static char err[1024];
static char dir[256], sub[300], path[400];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_clawcast_state.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(sub, sizeof(sub), "%s/agentcast", dir);
    snprintf(path, sizeof(path), "%s/clawcast-slot.json", sub);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(sub);
    rmdir(dir);
    return 0;
}

static void fill(struct clawcast_slot_state *st)
{
    struct clawcast_booking b = {.slot_jwt = JWT_EXP, .position_in_queue = 2};
    assert_int_equal(clawcast_state_from_booking(st, &b, "your_agent", 3, 1999999000, err,
                                                 sizeof(err)),
                     0);
}

/* The exp claim, decoded without verification ("Your JWT expires ~60s after your slot ends"). */
static void test_jwt_exp(void **state)
{
    (void)state;
    int64_t exp = -5;
    assert_int_equal(clawcast_jwt_exp(JWT_EXP, &exp, err, sizeof(err)), 0);
    assert_int_equal(exp, 2000000000);
    assert_int_equal(clawcast_jwt_exp(JWT_NOEXP, &exp, err, sizeof(err)), 0);
    assert_int_equal(exp, 0);
    assert_int_equal(clawcast_jwt_exp(JWT_BADEXP, &exp, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "exp"));
    assert_int_equal(clawcast_jwt_exp("abc.def", &exp, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "three"));
    assert_int_equal(clawcast_jwt_exp("a.!!!.c", &exp, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "base64url"));
    assert_int_equal(clawcast_jwt_exp("a.YWJj.c", &exp, err, sizeof(err)), -EINVAL); /* "abc" */
    assert_non_null(strstr(err, "not a JSON object"));
    assert_int_equal(clawcast_jwt_exp("a.b.c.d", &exp, err, sizeof(err)), -EINVAL);
    /* base64url with and without its '=' padding: {"exp":55}. */
    assert_int_equal(clawcast_jwt_exp("a.eyJleHAiOjU1fQ==.c", &exp, err, sizeof(err)), 0);
    assert_int_equal(exp, 55);
    assert_int_equal(clawcast_jwt_exp("a.eyJleHAiOjU1fQ.c", &exp, err, sizeof(err)), 0);
    assert_int_equal(exp, 55);
}

static void test_from_booking_and_expiry(void **state)
{
    (void)state;
    struct clawcast_slot_state *st = clawcast_state_new();
    assert_non_null(st);
    fill(st);
    assert_string_equal(st->slot_jwt, JWT_EXP);
    assert_string_equal(st->streamer_name, "your_agent");
    assert_int_equal(st->exp, 2000000000);
    assert_int_equal(st->booked_at, 1999999000);
    assert_int_equal(st->position_in_queue, 2);
    assert_int_equal(clawcast_state_slot_end(st), 2000000000 - 60);
    /* "no calls with an expired JWT", with a margin before exp. */
    assert_int_equal(clawcast_state_check_usable(st, 2000000000 - 3, err, sizeof(err)), 0);
    assert_int_equal(clawcast_state_check_usable(st, 2000000000 - 2, err, sizeof(err)),
                     -EKEYEXPIRED);
    assert_int_equal(clawcast_state_check_usable(st, 2000000100, err, sizeof(err)),
                     -EKEYEXPIRED);
    assert_non_null(strstr(err, "book a new slot"));
    assert_null(strstr(err, "eyJhbGci"));
    /* "One batch per slot." */
    assert_int_equal(clawcast_state_check_batch(st, err, sizeof(err)), 0);
    st->batch_published = true;
    assert_int_equal(clawcast_state_check_batch(st, err, sizeof(err)), -EALREADY);
    assert_non_null(strstr(err, "One batch per slot"));
    /* A booking whose JWT is not a JWT is refused; one without exp is usable. */
    struct clawcast_booking b = {.slot_jwt = "opaque", .position_in_queue = 0};
    assert_int_equal(clawcast_state_from_booking(st, &b, "a", 1, 0, err, sizeof(err)), -EINVAL);
    snprintf(b.slot_jwt, sizeof(b.slot_jwt), "%s", JWT_NOEXP);
    assert_int_equal(clawcast_state_from_booking(st, &b, "a", 1, 0, err, sizeof(err)), 0);
    assert_int_equal(clawcast_state_check_usable(st, INT64_MAX / 2, err, sizeof(err)), 0);
    clawcast_state_clear(st);
    assert_int_equal(clawcast_state_check_usable(st, 0, err, sizeof(err)), -ENOENT);
    clawcast_state_free(st);
    clawcast_state_free(NULL);
}

/* "lives in a 0600 state file": round trip, modes, no temp file left behind. */
static void test_round_trip(void **state)
{
    (void)state;
    struct clawcast_slot_state *st = clawcast_state_new(), *back = clawcast_state_new();
    fill(st);
    st->batch_published = true;
    assert_int_equal(clawcast_state_save(path, st, err, sizeof(err)), 0);
    struct stat fs, ds;
    assert_int_equal(stat(path, &fs), 0);
    assert_int_equal(fs.st_mode & 0777, 0600);
    assert_int_equal(stat(sub, &ds), 0);
    assert_int_equal(ds.st_mode & 0777, 0700);
    assert_int_equal(clawcast_state_load(path, back, err, sizeof(err)), 0);
    assert_string_equal(back->slot_jwt, JWT_EXP);
    assert_string_equal(back->streamer_name, "your_agent");
    assert_int_equal(back->exp, 2000000000);
    assert_int_equal(back->booked_at, 1999999000);
    assert_int_equal(back->position_in_queue, 2);
    assert_int_equal(back->duration_minutes, 3);
    assert_true(back->batch_published);
    /* Saved again over the old file: replaced, and the directory holds only the file. */
    st->batch_published = false;
    assert_int_equal(clawcast_state_save(path, st, err, sizeof(err)), 0);
    assert_int_equal(clawcast_state_load(path, back, err, sizeof(err)), 0);
    assert_false(back->batch_published);
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(access(tmp, F_OK), -1);
    /* Delete, then load says there is no booking; deleting twice is fine. */
    assert_int_equal(clawcast_state_delete(path, err, sizeof(err)), 0);
    assert_int_equal(clawcast_state_delete(path, err, sizeof(err)), 0);
    assert_int_equal(clawcast_state_load(path, back, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "agentcast clawcast book"));
    assert_string_equal(back->slot_jwt, "");
    clawcast_state_free(st);
    clawcast_state_free(back);
}

/* Looser permissions are refused with the chmod command that fixes them. */
static void test_permissions(void **state)
{
    (void)state;
    struct clawcast_slot_state *st = clawcast_state_new();
    fill(st);
    assert_int_equal(clawcast_state_save(path, st, err, sizeof(err)), 0);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(clawcast_state_load(path, st, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "chmod 600"));
    assert_non_null(strstr(err, path));
    assert_string_equal(st->slot_jwt, "");
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(chmod(sub, 0755), 0);
    assert_int_equal(clawcast_state_load(path, st, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "chmod 700"));
    fill(st);
    assert_int_equal(clawcast_state_save(path, st, err, sizeof(err)), -EACCES);
    assert_int_equal(chmod(sub, 0700), 0);
    assert_int_equal(clawcast_state_load(path, st, err, sizeof(err)), 0);
    /* A file that is not the state file's shape names the field. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"slot_jwt\":\"x\",\"booked_at\":1,\"exp\":2}", f);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(clawcast_state_load(path, st, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "streamer_name"));
    f = fopen(path, "w");
    fputs("{\"slot_jwt\":", f);
    fclose(f);
    assert_int_equal(clawcast_state_load(path, st, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a JSON object"));
    clawcast_state_free(st);
}

static void test_default_path_and_redact(void **state)
{
    (void)state;
    char out[512], old_xdg[256] = "";
    const char *x = getenv("XDG_STATE_HOME");
    if (x)
        snprintf(old_xdg, sizeof(old_xdg), "%s", x);
    setenv("XDG_STATE_HOME", "/srv/state", 1);
    assert_int_equal(clawcast_state_default_path(out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "/srv/state/agentcast/clawcast-slot.json");
    setenv("XDG_STATE_HOME", "relative", 1); /* "relative paths … should be ignored" */
    setenv("HOME", "/home/agent", 1);
    assert_int_equal(clawcast_state_default_path(out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "/home/agent/.local/state/agentcast/clawcast-slot.json");
    if (x)
        setenv("XDG_STATE_HOME", old_xdg, 1);
    else
        unsetenv("XDG_STATE_HOME");
    clawcast_jwt_redact(JWT_EXP, out, sizeof(out));
    assert_string_equal(out, "eyJ\xe2\x80\xa6" "VyZQ");
    clawcast_jwt_redact("eyJshort", out, sizeof(out));
    assert_string_equal(out, "eyJ\xe2\x80\xa6");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwt_exp),
        cmocka_unit_test(test_from_booking_and_expiry),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
        cmocka_unit_test(test_default_path_and_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
