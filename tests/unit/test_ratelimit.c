/*
 * test_ratelimit.c - provider token buckets and per-number SMS windows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ratelimit.h"

static void test_bucket_allows_rate_then_waits(void **state)
{
    (void)state;
    struct bucket b;
    bucket_init(&b, 5, 1000);
    for (int i = 0; i < 5; i++)
        assert_int_equal(bucket_take(&b, 1000), 0);
    int64_t wait = bucket_take(&b, 1000);
    assert_true(wait > 0 && wait <= 201);
    /* 200 ms later one token is back. */
    assert_int_equal(bucket_take(&b, 1200), 0);
    assert_true(bucket_take(&b, 1200) > 0);
}

static void test_bucket_does_not_hoard(void **state)
{
    (void)state;
    struct bucket b;
    bucket_init(&b, 2, 0);
    assert_int_equal(bucket_take(&b, 0), 0);
    assert_int_equal(bucket_take(&b, 0), 0);
    /* An idle hour refills to the burst (2), not 7200. */
    assert_int_equal(bucket_take(&b, 3600 * 1000), 0);
    assert_int_equal(bucket_take(&b, 3600 * 1000), 0);
    assert_true(bucket_take(&b, 3600 * 1000) > 0);
}

/* Defaults from the issue: 1 per minute, 5 per hour, 10 per day. */
static void test_per_number_minute_hour_day(void **state)
{
    (void)state;
    struct number_limits *nl = number_limits_new(1, 5, 10);
    const char *n = "13812345678";
    int64_t t = 1000000;
    assert_int_equal(number_limits_next(nl, n, t), t);
    number_limits_note(nl, n, t);
    /* Second one: a minute later. */
    assert_int_equal(number_limits_next(nl, n, t + 10), t + 60);
    /* Five within the hour, a minute apart: the sixth waits for the hour. */
    for (int i = 1; i < 5; i++)
        number_limits_note(nl, n, t + 60 * i);
    assert_int_equal(number_limits_next(nl, n, t + 300), t + 3600);
    /* Ten within the day: the eleventh waits until the first is a day old. */
    for (int i = 0; i < 5; i++)
        number_limits_note(nl, n, t + 3600 + 60 * i);
    assert_int_equal(number_limits_next(nl, n, t + 4000), t + 86400);
    /* Another number is not affected. */
    assert_int_equal(number_limits_next(nl, "13900000000", t + 4000), t + 4000);
    number_limits_free(nl);
}

static void test_zero_means_unlimited(void **state)
{
    (void)state;
    struct number_limits *nl = number_limits_new(0, 0, 0);
    for (int i = 0; i < 100; i++)
        number_limits_note(nl, "13812345678", 5000);
    assert_int_equal(number_limits_next(nl, "13812345678", 5000), 5000);
    /* Nothing to enforce, so no number is remembered (memory stays flat). */
    assert_int_equal(number_limits_size(nl), 0);
    number_limits_free(nl);
}

static void test_many_numbers_and_expiry(void **state)
{
    (void)state;
    struct number_limits *nl = number_limits_new(1, 5, 10);
    char num[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(num, sizeof num, "138%08d", i);
        number_limits_note(nl, num, 100 + i);
    }
    assert_int_equal(number_limits_size(nl), 5000);
    snprintf(num, sizeof num, "138%08d", 4321);
    assert_int_equal(number_limits_next(nl, num, 100 + 4321), 100 + 4321 + 60);
    /* Half a day on, only the numbers sent to in the last day are kept,
     * each with its history. */
    number_limits_expire(nl, 100 + 2500 + 86400);
    assert_int_equal(number_limits_size(nl), 2499);
    assert_int_equal(number_limits_next(nl, num, 100 + 4321), 100 + 4321 + 60);
    snprintf(num, sizeof num, "138%08d", 1000);
    assert_int_equal(number_limits_next(nl, num, 200000), 200000);
    snprintf(num, sizeof num, "138%08d", 4321);
    /* A day later everything is forgotten. */
    number_limits_expire(nl, 100 + 5000 + 86400);
    assert_int_equal(number_limits_size(nl), 0);
    assert_int_equal(number_limits_next(nl, num, 200000), 200000);
    number_limits_free(nl);
}

/* Per-address limits: a burst, then the rate; addresses are independent. */
static void test_ip_burst_then_rate(void **state)
{
    (void)state;
    struct ip_limits *l = ip_limits_new(2, 5);
    uint32_t a = 0x0100007f, b = 0x0200007f;
    for (int i = 0; i < 5; i++)
        assert_int_equal(ip_limits_take(l, a, 1000), 0);
    int64_t wait = ip_limits_take(l, a, 1000);
    assert_true(wait > 0 && wait <= 501);
    assert_int_equal(ip_limits_take(l, b, 1000), 0);  /* another address */
    assert_true(ip_limits_take(l, a, 1400) > 0);      /* 0.8 of a token */
    assert_int_equal(ip_limits_take(l, a, 1501), 0);  /* one token after 500 ms */
    assert_true(ip_limits_take(l, a, 1502) > 0);
    /* 2.5 s later the bucket is full again: a burst of 5, no more. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(ip_limits_take(l, a, 4100), 0);
    assert_true(ip_limits_take(l, a, 4100) > 0);
    ip_limits_free(l);
    ip_limits_free(NULL);
}

/* Addresses whose bucket refilled are forgotten: a sweep over a million
 * addresses keeps the table small as long as few are limited at once. */
static void test_ip_table_forgets_refilled(void **state)
{
    (void)state;
    struct ip_limits *l = ip_limits_new(10, 2); /* refills in 200 ms */
    int64_t now = 0;
    for (uint32_t ip = 1; ip <= 1000000; ip++) {
        if (ip % 1000 == 0)
            now += 250;
        assert_int_equal(ip_limits_take(l, ip, now), 0);
    }
    assert_true(ip_limits_size(l) <= 2000);
    /* A limited address is remembered across a rebuild. */
    uint32_t x = 0xdeadbeef;
    assert_int_equal(ip_limits_take(l, x, now), 0);
    assert_int_equal(ip_limits_take(l, x, now), 0);
    assert_true(ip_limits_take(l, x, now) > 0);
    for (uint32_t ip = 2000001; ip <= 2000200; ip++)
        ip_limits_take(l, ip, now + 10);
    assert_true(ip_limits_take(l, x, now + 10) > 0);
    ip_limits_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_allows_rate_then_waits),
        cmocka_unit_test(test_bucket_does_not_hoard),
        cmocka_unit_test(test_per_number_minute_hour_day),
        cmocka_unit_test(test_zero_means_unlimited),
        cmocka_unit_test(test_many_numbers_and_expiry),
        cmocka_unit_test(test_ip_burst_then_rate),
        cmocka_unit_test(test_ip_table_forgets_refilled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
