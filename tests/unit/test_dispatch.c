/*
 * test_dispatch.c - the retry backoff: exponential, capped, with jitter in
 * [d/2, d] so that retries after an outage do not arrive all at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_within_jitter),
        cmocka_unit_test(test_backoff_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
