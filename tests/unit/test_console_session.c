/*
 * test_console_session.c - the console's server-side sessions: ids,
 * sliding expiry, CSRF tokens, sign-out, tokens removed from the config,
 * and eviction when the table is full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "console_session.h"
#include "util.h"

#define TTL 60000 /* ms */

/* A config with two tokens, enough for console_session_get(). */
static struct api_token toks[2];
static struct config cfg;

static int setup(void **state)
{
    (void)state;
    memset(toks, 0, sizeof toks);
    toks[0].name = "cs";
    toks[0].roles = ROLE_CS;
    sha256_hex("cs-token", 8, toks[0].sha256);
    toks[1].name = "pm";
    toks[1].roles = ROLE_TRIGGER;
    sha256_hex("pm-token", 8, toks[1].sha256);
    memset(&cfg, 0, sizeof cfg);
    cfg.tokens = toks;
    cfg.ntokens = 2;
    *state = console_sessions_new();
    return 0;
}

static int teardown(void **state)
{
    console_sessions_free(*state);
    return 0;
}

static void test_create_and_get(void **state)
{
    struct console_sessions *s = *state;
    char a[CONSOLE_SID_LEN + 1], b[CONSOLE_SID_LEN + 1];
    assert_int_equal(console_session_create(s, &toks[0], 1000, TTL, a), 0);
    assert_int_equal(console_session_create(s, &toks[1], 1000, TTL, b), 0);
    assert_int_equal(strlen(a), CONSOLE_SID_LEN);
    assert_string_not_equal(a, b);
    for (const char *p = a; *p; p++)
        assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    struct console_session cs, cs2;
    assert_int_equal(console_session_get(s, &cfg, a, 2000, TTL, &cs), 0);
    assert_ptr_equal(cs.token, &toks[0]);
    assert_int_equal(cs.expires_at, 2000 + TTL);
    assert_int_equal(strlen(cs.csrf), CONSOLE_CSRF_LEN);
    assert_int_equal(console_session_get(s, &cfg, b, 2000, TTL, &cs2), 0);
    assert_ptr_equal(cs2.token, &toks[1]);
    assert_string_not_equal(cs.csrf, cs2.csrf);
    /* Unknown, malformed, or one character off: no session. */
    char c[CONSOLE_SID_LEN + 1];
    memcpy(c, a, sizeof c);
    c[0] = c[0] == 'A' ? 'B' : 'A';
    assert_int_equal(console_session_get(s, &cfg, c, 2000, TTL, &cs), -1);
    assert_int_equal(console_session_get(s, &cfg, "short", 2000, TTL, &cs), -1);
    assert_int_equal(console_session_get(s, &cfg, "", 2000, TTL, &cs), -1);
    assert_int_equal(console_sessions_count(s, 2000), 2);
}

static void test_sliding_expiry(void **state)
{
    struct console_sessions *s = *state;
    char a[CONSOLE_SID_LEN + 1];
    struct console_session cs;
    console_session_create(s, &toks[0], 0, TTL, a);
    /* Used just before it ends: lives another TTL from then. */
    assert_int_equal(console_session_get(s, &cfg, a, TTL - 1, TTL, &cs), 0);
    assert_int_equal(console_session_get(s, &cfg, a, 2 * TTL - 2, TTL, &cs), 0);
    /* Not used for a whole TTL: gone, and stays gone. */
    assert_int_equal(console_session_get(s, &cfg, a, 3 * TTL - 2, TTL, &cs), -1);
    assert_int_equal(console_session_get(s, &cfg, a, 3 * TTL - 2, TTL, &cs), -1);
    assert_int_equal(console_sessions_count(s, 3 * TTL), 0);
}

static void test_csrf(void **state)
{
    struct console_sessions *s = *state;
    char a[CONSOLE_SID_LEN + 1];
    struct console_session cs;
    console_session_create(s, &toks[0], 0, TTL, a);
    assert_int_equal(console_session_get(s, &cfg, a, 1, TTL, &cs), 0);
    char good[CONSOLE_CSRF_LEN + 1];
    memcpy(good, cs.csrf, sizeof good);
    assert_true(console_session_csrf_ok(&cs, good));
    assert_false(console_session_csrf_ok(&cs, NULL));
    assert_false(console_session_csrf_ok(&cs, ""));
    good[CONSOLE_CSRF_LEN - 1] ^= 1;
    assert_false(console_session_csrf_ok(&cs, good));
    /* The session id is not the CSRF token. */
    assert_false(console_session_csrf_ok(&cs, a));
}

static void test_sign_out_and_removed_token(void **state)
{
    struct console_sessions *s = *state;
    char a[CONSOLE_SID_LEN + 1], b[CONSOLE_SID_LEN + 1];
    struct console_session cs;
    console_session_create(s, &toks[0], 0, TTL, a);
    console_session_create(s, &toks[1], 0, TTL, b);
    console_session_delete(s, a);
    console_session_delete(s, "not-a-session"); /* ignored */
    assert_int_equal(console_session_get(s, &cfg, a, 1, TTL, &cs), -1);
    assert_int_equal(console_session_get(s, &cfg, b, 1, TTL, &cs), 0);
    /* The PM's token is taken out of the config: the session ends. */
    cfg.ntokens = 1;
    assert_int_equal(console_session_get(s, &cfg, b, 2, TTL, &cs), -1);
    cfg.ntokens = 2;
    assert_int_equal(console_session_get(s, &cfg, b, 3, TTL, &cs), -1);
}

static void test_full_table_drops_the_least_recently_used(void **state)
{
    struct console_sessions *s = *state;
    static char ids[CONSOLE_MAX_SESSIONS][CONSOLE_SID_LEN + 1];
    struct console_session cs;
    for (int i = 0; i < CONSOLE_MAX_SESSIONS; i++)
        console_session_create(s, &toks[0], 1000 + i, TTL, ids[i]);
    assert_int_equal(console_sessions_count(s, 2000), CONSOLE_MAX_SESSIONS);
    /* Session 0 is used again; session 1 is now the least recently used. */
    assert_int_equal(console_session_get(s, &cfg, ids[0], 5000, TTL, &cs), 0);
    char extra[CONSOLE_SID_LEN + 1];
    console_session_create(s, &toks[0], 5001, TTL, extra);
    assert_int_equal(console_sessions_count(s, 5002), CONSOLE_MAX_SESSIONS);
    assert_int_equal(console_session_get(s, &cfg, ids[1], 5002, TTL, &cs), -1);
    assert_int_equal(console_session_get(s, &cfg, ids[0], 5002, TTL, &cs), 0);
    assert_int_equal(console_session_get(s, &cfg, ids[2], 5002, TTL, &cs), 0);
    assert_int_equal(console_session_get(s, &cfg, extra, 5002, TTL, &cs), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sliding_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_out_and_removed_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_table_drops_the_least_recently_used, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
