/*
 * test_dispatch.c - the retry backoff: exponential, capped, with jitter in
 * [d/2, d] so that retries after an outage do not arrive all at once. And
 * when an SMS cut short waits dispatch.receipt_grace: where something can
 * settle it meanwhile (Aliyun's pushed receipt, Tencent's status pull).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "dispatch.h"

static void test_backoff_doubles_within_jitter(void **state)
{
    (void)state;
    const int64_t base = 5000, max = 3600000;
    for (int attempt = 1; attempt <= 6; attempt++) {
        int64_t d = base << (attempt - 1);
        /* the extremes of the jitter: rnd picks the offset in [0, d - d/2] */
        assert_int_equal(dispatch_backoff_ms(attempt, base, max, 0), d / 2);
        assert_int_equal(dispatch_backoff_ms(attempt, base, max, (uint64_t)(d - d / 2)), d);
        for (uint64_t r = 1; r < 1000; r += 97) {
            int64_t v = dispatch_backoff_ms(attempt, base, max, r * 7919);
            assert_true(v >= d / 2 && v <= d);
        }
    }
}

static void test_backoff_is_capped(void **state)
{
    (void)state;
    /* 5 s * 2^19 is far past an hour: the cap holds, jitter included. */
    for (uint64_t r = 0; r < 5000; r += 123) {
        int64_t v = dispatch_backoff_ms(20, 5000, 3600000, r * 104729);
        assert_true(v >= 1800000 && v <= 3600000);
    }
    assert_int_equal(dispatch_backoff_ms(1000, 100, 1000, 0), 500);
}

static void test_receipt_grace_applies_where_something_settles(void **state)
{
    (void)state;
    struct config cfg = {0};
    cfg.receipt_grace_ms = 120000;
    cfg.sms_provider = (char *)"aliyun";
    assert_int_equal(dispatch_receipt_grace_s(&cfg), 0); /* no callbacks: no receipts */
    cfg.callback_token = (char *)"t0ken";
    assert_int_equal(dispatch_receipt_grace_s(&cfg), 120);
    /* Tencent: its pull settles it, callbacks or not. */
    cfg.sms_provider = (char *)"tencent";
    assert_int_equal(dispatch_receipt_grace_s(&cfg), 120);
    cfg.callback_token = NULL;
    assert_int_equal(dispatch_receipt_grace_s(&cfg), 120);
    cfg.receipt_grace_ms = 1500; /* whole seconds, rounded up */
    assert_int_equal(dispatch_receipt_grace_s(&cfg), 2);
    cfg.receipt_grace_ms = 0; /* switched off */
    assert_int_equal(dispatch_receipt_grace_s(&cfg), 0);
    cfg.receipt_grace_ms = 120000;
    cfg.sms_provider = (char *)"none";
    assert_int_equal(dispatch_receipt_grace_s(&cfg), 0);
    cfg.sms_provider = NULL;
    assert_int_equal(dispatch_receipt_grace_s(&cfg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_within_jitter),
        cmocka_unit_test(test_backoff_is_capped),
        cmocka_unit_test(test_receipt_grace_applies_where_something_settles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
