/*
 * test_survey_token.c - signed, expiring survey links.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "survey_token.h"
#include "util.h"

#define SECRET "survey-secret-0123456789"

static void test_round_trip(void **state)
{
    (void)state;
    char tok[SURVEY_TOKEN_MAX];
    survey_token_make(SECRET, 42, 1796108700, tok);
    /* "<id>.<expiry>.<32 hex of HMAC-SHA256(secret, "<id>.<expiry>")>" */
    char mac[65];
    hmac_sha256_hex(SECRET, strlen(SECRET), "42.1796108700", 13, mac);
    char want[SURVEY_TOKEN_MAX];
    snprintf(want, sizeof want, "42.1796108700.%.32s", mac);
    assert_string_equal(tok, want);
    int64_t id = 0;
    assert_int_equal(survey_token_verify(SECRET, tok, 1796108700, &id), 0);
    assert_int_equal(id, 42);
}

static void test_expired(void **state)
{
    (void)state;
    char tok[SURVEY_TOKEN_MAX];
    int64_t id = -7;
    survey_token_make(SECRET, 42, 1000, tok);
    assert_int_equal(survey_token_verify(SECRET, tok, 1001, &id), -2);
    assert_int_equal(id, -7); /* untouched */
}

static void test_tampered_and_malformed(void **state)
{
    (void)state;
    char tok[SURVEY_TOKEN_MAX], bad[SURVEY_TOKEN_MAX];
    int64_t id;
    survey_token_make(SECRET, 42, 1796108700, tok);
    /* Another survey id, another expiry, another mac byte, another secret. */
    snprintf(bad, sizeof bad, "43%s", tok + 2);
    assert_int_equal(survey_token_verify(SECRET, bad, 0, &id), -1);
    snprintf(bad, sizeof bad, "%s", tok);
    bad[3] = bad[3] == '1' ? '2' : '1';
    assert_int_equal(survey_token_verify(SECRET, bad, 0, &id), -1);
    snprintf(bad, sizeof bad, "%s", tok);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'a' ? 'b' : 'a';
    assert_int_equal(survey_token_verify(SECRET, bad, 0, &id), -1);
    assert_int_equal(survey_token_verify("another-secret-value", tok, 0, &id), -1);
    const char *junk[] = {"", "42", "42.1796108700", "42.1796108700.", "x.1.abc",
                          "042.1796108700.00000000000000000000000000000000",
                          "-1.1796108700.00000000000000000000000000000000",
                          "42.1796108700.0000000000000000000000000000000000", /* 34 hex */
                          "../../etc/passwd", "9999999999999999.1.00000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(survey_token_verify(SECRET, junk[i], 0, &id), -1);
}

/* The SMS extension code: the survey id's last digits, zero-padded. */
static void test_extend_code(void **state)
{
    (void)state;
    char c[8];
    survey_extend_code(42, 4, c);
    assert_string_equal(c, "0042");
    survey_extend_code(1234567, 4, c);
    assert_string_equal(c, "4567");
    survey_extend_code(7, 1, c);
    assert_string_equal(c, "7");
    survey_extend_code(999999, 6, c);
    assert_string_equal(c, "999999");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_tampered_and_malformed),
        cmocka_unit_test(test_extend_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
