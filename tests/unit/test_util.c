/*
 * test_util.c - the leaf helpers every module leans on: ISO-8601 and
 * duration parsing, dates, the test clock, mobile numbers, UTF-8, phone
 * masking for logs, SHA-256 / HMAC-SHA256 against published vectors,
 * constant-time compare and the growable buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

/* 2026-11-24T02:30:00Z (date -u -d 2026-11-24T02:30:00Z +%s) */
#define T_2026_11_24_0230Z INT64_C(1795487400)

/* ---- helpers ----------------------------------------------------------- */

static void expect_iso(const char *s, int64_t want)
{
    int64_t got = -12345;
    if (iso8601_parse(s, &got) != 0)
        fail_msg("iso8601_parse(\"%s\") rejected, expected %lld", s, (long long)want);
    if (got != want)
        fail_msg("iso8601_parse(\"%s\") = %lld, expected %lld", s, (long long)got,
                 (long long)want);
}

static void expect_iso_rejected(const char *s)
{
    int64_t got = -12345;
    if (iso8601_parse(s, &got) == 0)
        fail_msg("iso8601_parse(\"%s\") accepted (%lld), expected rejection", s, (long long)got);
}

static void expect_duration(const char *s, int64_t want_ms)
{
    int64_t got = -12345;
    if (duration_parse_ms(s, &got) != 0)
        fail_msg("duration_parse_ms(\"%s\") rejected, expected %lld ms", s, (long long)want_ms);
    if (got != want_ms)
        fail_msg("duration_parse_ms(\"%s\") = %lld ms, expected %lld ms", s, (long long)got,
                 (long long)want_ms);
}

static void expect_duration_rejected(const char *s)
{
    int64_t got = -12345;
    if (duration_parse_ms(s, &got) == 0)
        fail_msg("duration_parse_ms(\"%s\") accepted (%lld ms), expected rejection",
                 s ? s : "(null)", (long long)got);
}

static void expect_mobile(const char *s, const char *want)
{
    char norm[12] = "untouched";
    if (!mobile_normalize(s, norm))
        fail_msg("mobile_normalize(\"%s\") rejected, expected %s", s, want);
    assert_string_equal(norm, want);
}

static void expect_mobile_rejected(const char *s)
{
    char norm[12] = "";
    if (mobile_normalize(s, norm))
        fail_msg("mobile_normalize(\"%s\") accepted as %s, expected rejection", s ? s : "(null)",
                 norm);
}

static void expect_mask(const char *phone, const char *want)
{
    char out[24];
    const char *r = log_mask_phone(phone, out);
    assert_ptr_equal(r, out);
    if (strcmp(out, want) != 0)
        fail_msg("log_mask_phone(\"%s\") = \"%s\", expected \"%s\"", phone ? phone : "(null)", out,
                 want);
}

static void expect_utf8(const char *s, size_t n, int want, const char *what)
{
    int got = utf8_valid(s, n);
    if (got != want)
        fail_msg("utf8_valid(%s) = %d, expected %d", what, got, want);
}

/* ---- iso8601_parse ------------------------------------------------------ */

static void test_iso_utc_z(void **state)
{
    (void)state;
    expect_iso("2026-11-24T02:30:00Z", T_2026_11_24_0230Z);
    expect_iso("1970-01-01T00:00:00Z", 0);
    expect_iso("2000-01-01T00:00:00Z", INT64_C(946684800));
    expect_iso("2024-02-29T12:00:00Z", INT64_C(1709208000)); /* leap day */
    expect_iso("2026-11-24T02:30:00z", T_2026_11_24_0230Z);   /* lower-case z */
}

static void test_iso_offset_with_colon(void **state)
{
    (void)state;
    expect_iso("2026-11-24T10:30:00+08:00", T_2026_11_24_0230Z);
    expect_iso("2026-11-23T21:30:00-05:00", T_2026_11_24_0230Z);
    expect_iso("2026-11-24T08:00:00+05:30", T_2026_11_24_0230Z);
}

static void test_iso_offset_without_colon(void **state)
{
    (void)state;
    expect_iso("2026-11-24T10:30:00+0800", T_2026_11_24_0230Z);
    expect_iso("2026-11-23T21:30:00-0500", T_2026_11_24_0230Z);
}

static void test_iso_fractional_seconds(void **state)
{
    (void)state;
    /* Fractions are accepted and truncated to the whole second. */
    expect_iso("2026-11-24T10:30:00.123+08:00", T_2026_11_24_0230Z);
    expect_iso("2026-11-24T02:30:00.999999Z", T_2026_11_24_0230Z);
    expect_iso("2026-11-24T02:30:05.5Z", T_2026_11_24_0230Z + 5);
    expect_iso_rejected("2026-11-24T02:30:00.Z"); /* a dot needs digits */
}

static void test_iso_without_seconds(void **state)
{
    (void)state;
    expect_iso("2026-11-24T10:30+08:00", T_2026_11_24_0230Z);
}

static void test_iso_missing_offset_rejected(void **state)
{
    (void)state;
    /* Local time without an offset is ambiguous: never guessed. */
    expect_iso_rejected("2026-11-24T10:30:00");
    expect_iso_rejected("2026-11-24T10:30:00.123");
    expect_iso_rejected("2026-11-24");
}

static void test_iso_impossible_dates_rejected(void **state)
{
    (void)state;
    expect_iso_rejected("2026-02-30T10:00:00Z");
    expect_iso_rejected("2026-02-29T10:00:00Z"); /* 2026 is not a leap year */
    expect_iso_rejected("2100-02-29T10:00:00Z"); /* century, not a leap year */
    expect_iso_rejected("2026-04-31T10:00:00Z");
    expect_iso_rejected("2026-13-01T10:00:00Z");
    expect_iso_rejected("2026-00-10T10:00:00Z");
    expect_iso_rejected("2026-11-00T10:00:00Z");
    expect_iso_rejected("2026-11-24T24:00:00Z");
    expect_iso_rejected("2026-11-24T10:60:00Z");
    expect_iso_rejected("2026-11-24T10:30:61Z");
    expect_iso_rejected("2026-11-24T10:30:00+24:00");
    expect_iso_rejected("2026-11-24T10:30:00+08:60");
    expect_iso("2000-02-29T00:00:00Z", INT64_C(951782400)); /* 400-year rule: leap */
}

static void test_iso_trailing_junk_rejected(void **state)
{
    (void)state;
    expect_iso_rejected("2026-11-24T02:30:00Zjunk");
    expect_iso_rejected("2026-11-24T02:30:00Z ");
    expect_iso_rejected("2026-11-24T10:30:00+08:00x");
    expect_iso_rejected("2026-11-24T10:30:00+08:000");
}

static void test_iso_malformed_rejected(void **state)
{
    (void)state;
    expect_iso_rejected("");
    expect_iso_rejected("now");
    expect_iso_rejected("2026-1-24T02:30:00Z");
    expect_iso_rejected("2026/11/24T02:30:00Z");
    expect_iso_rejected("2026-11-24X02:30:00Z");
    expect_iso_rejected("2026-11-24T2:30:00Z");
    expect_iso_rejected("2026-11-24T02:30:00+8:00");
    expect_iso_rejected("2026-11-24T02:30:00+08:0");
    expect_iso_rejected("1969-12-31T23:59:59Z");
}

/* ---- formatting and time zones ------------------------------------------ */

static void test_format_local_shanghai(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(tz_set("Asia/Shanghai"), 0);
    iso8601_format_local(T_2026_11_24_0230Z, out);
    assert_string_equal(out, "2026-11-24T10:30:00+08:00");
    /* And it parses back to the same instant. */
    expect_iso(out, T_2026_11_24_0230Z);
}

static void test_format_local_negative_and_half_hour_offsets(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(tz_set("America/New_York"), 0);
    iso8601_format_local(INT64_C(1782907200), out); /* 2026-07-01T12:00:00Z, EDT */
    assert_string_equal(out, "2026-07-01T08:00:00-04:00");
    iso8601_format_local(T_2026_11_24_0230Z, out); /* EST */
    assert_string_equal(out, "2026-11-23T21:30:00-05:00");
    assert_int_equal(tz_set("Asia/Kolkata"), 0);
    iso8601_format_local(T_2026_11_24_0230Z, out);
    assert_string_equal(out, "2026-11-24T08:00:00+05:30");
    assert_int_equal(tz_set("Asia/Shanghai"), 0);
}

static void test_format_utc(void **state)
{
    (void)state;
    char out[32];
    iso8601_format_utc(T_2026_11_24_0230Z, out);
    assert_string_equal(out, "2026-11-24T02:30:00Z");
    iso8601_format_utc(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
}

static void test_tz_set_rejects_unknown_and_escaping_zones(void **state)
{
    (void)state;
    assert_int_equal(tz_set("Asia/Shanghai"), 0);
    assert_int_equal(tz_set("Mars/Olympus_Mons"), -1);
    assert_int_equal(tz_set(""), -1);
    assert_int_equal(tz_set(NULL), -1);
    assert_int_equal(tz_set("/etc/localtime"), -1);
    assert_int_equal(tz_set("../../../etc/passwd"), -1);
    assert_int_equal(tz_set("UTC"), 0);
    /* A rejected zone leaves the previous one in force. */
    assert_int_equal(tz_set("Asia/Shanghai"), 0);
    assert_int_equal(tz_set("Nowhere/City"), -1);
    char out[32];
    iso8601_format_local(T_2026_11_24_0230Z, out);
    assert_string_equal(out, "2026-11-24T10:30:00+08:00");
}

/*
 * A directory of the zoneinfo tree ("Asia") or a data file in it
 * ("zone.tab") is not a zone: glibc silently runs such a TZ as UTC, so
 * the daemon would think it is in China and send at UTC hours.
 */
static void test_tz_set_rejects_directories_and_non_zone_files(void **state)
{
    (void)state;
    assert_int_equal(tz_set("Asia/Shanghai"), 0);
    assert_int_equal(tz_set("Asia"), -1);
    assert_int_equal(tz_set("Asia/"), -1);
    assert_int_equal(tz_set("zone.tab"), -1);
    char out[32];
    iso8601_format_local(T_2026_11_24_0230Z, out);
    assert_string_equal(out, "2026-11-24T10:30:00+08:00");
}

/* ---- durations ------------------------------------------------------------ */

static void test_duration_units(void **state)
{
    (void)state;
    expect_duration("0", 0);
    expect_duration("500ms", 500);
    expect_duration("1500ms", 1500);
    expect_duration("30s", 30000);
    expect_duration("5m", 300000);
    expect_duration("2h", 7200000);
    expect_duration("7d", INT64_C(604800000));
    expect_duration("0s", 0);
}

static void test_duration_bare_number_is_seconds(void **state)
{
    (void)state;
    expect_duration("90", 90000);
    expect_duration("1", 1000);
}

static void test_duration_rejects_bad_input(void **state)
{
    (void)state;
    expect_duration_rejected("5x");
    expect_duration_rejected("");
    expect_duration_rejected("-1");
    expect_duration_rejected("-5s");
    expect_duration_rejected("+5s");
    expect_duration_rejected("s");
    expect_duration_rejected("ms");
    expect_duration_rejected(" 5s");
    expect_duration_rejected("5 s");
    expect_duration_rejected("5s ");
    expect_duration_rejected("5S");
    expect_duration_rejected("1.5s");
    expect_duration_rejected("5mss");
    expect_duration_rejected(NULL);
}

static void test_duration_rejects_overflow(void **state)
{
    (void)state;
    expect_duration_rejected("99999999999999999999");
    expect_duration_rejected("99999999999999999d");
    expect_duration_rejected("18446744073709551615ms");
    expect_duration("36500d", INT64_C(36500) * 86400 * 1000); /* the cap itself: 100 years */
}

/* ---- dates ------------------------------------------------------------- */

static void test_date_parse_valid(void **state)
{
    (void)state;
    int y = 0, m = 0, d = 0;
    assert_int_equal(date_parse("2026-11-24", &y, &m, &d), 0);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 11);
    assert_int_equal(d, 24);
    assert_int_equal(date_parse("2024-02-29", &y, &m, &d), 0);
    assert_int_equal(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    assert_int_equal(date_parse("2026-12-31", &y, &m, &d), 0);
}

static void test_date_parse_rejects(void **state)
{
    (void)state;
    int y, m, d;
    static const char *const bad[] = {
        "2026-02-30", "2026-02-29", "2026-04-31", "2026-13-01", "2026-00-01", "2026-01-00",
        "2026-1-24",  "26-11-24",   "2026-11-24x", "2026-11-24T00:00:00Z", "2026/11/24", "",
        "abcd-ef-gh", " 2026-11-24",
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(bad); i++)
        if (date_parse(bad[i], &y, &m, &d) == 0)
            fail_msg("date_parse(\"%s\") accepted, expected rejection", bad[i]);
}

/* ---- mobile numbers ------------------------------------------------------ */

static void test_mobile_accepts_plain_and_country_code(void **state)
{
    (void)state;
    expect_mobile("13812345678", "13812345678");
    expect_mobile("+8613812345678", "13812345678");
    expect_mobile("8613812345678", "13812345678");
    expect_mobile("19912345678", "19912345678");
}

static void test_mobile_rejects(void **state)
{
    (void)state;
    expect_mobile_rejected("12812345678");   /* second digit must be 3-9 */
    expect_mobile_rejected("1381234567");    /* 10 digits */
    expect_mobile_rejected("138123456789");  /* 12 digits */
    expect_mobile_rejected("1381234567a");
    expect_mobile_rejected("23812345678");
    expect_mobile_rejected("+86 13812345678");
    expect_mobile_rejected("+8612812345678");
    expect_mobile_rejected("+85213812345678");
    expect_mobile_rejected("");
    expect_mobile_rejected(NULL);
}

/* ---- UTF-8 ---------------------------------------------------------------- */

static void test_utf8_accepts_ascii_chinese_and_emoji(void **state)
{
    (void)state;
    const char *zh = "您好，装修已完工，请评价。";
    expect_utf8("hello", 5, 1, "ascii");
    expect_utf8("", 0, 1, "empty");
    expect_utf8(zh, strlen(zh), 1, "chinese");
    expect_utf8("\xF0\x9F\x98\x80", 4, 1, "U+1F600");
    expect_utf8("\xF4\x8F\xBF\xBF", 4, 1, "U+10FFFF");
    expect_utf8("\xEF\xBF\xBD", 3, 1, "U+FFFD");
    expect_utf8("\xC2\x80", 2, 1, "U+0080");
}

static void test_utf8_rejects_overlong(void **state)
{
    (void)state;
    expect_utf8("\xC0\xAF", 2, 0, "overlong '/' (2 bytes)");
    expect_utf8("\xC1\xBF", 2, 0, "overlong (C1)");
    expect_utf8("\xE0\x80\xAF", 3, 0, "overlong '/' (3 bytes)");
    expect_utf8("\xE0\x9F\xBF", 3, 0, "overlong U+07FF (3 bytes)");
    expect_utf8("\xF0\x80\x80\xAF", 4, 0, "overlong '/' (4 bytes)");
    expect_utf8("\xF0\x8F\xBF\xBF", 4, 0, "overlong U+FFFF (4 bytes)");
}

static void test_utf8_rejects_surrogates(void **state)
{
    (void)state;
    expect_utf8("\xED\xA0\x80", 3, 0, "U+D800");
    expect_utf8("\xED\xBF\xBF", 3, 0, "U+DFFF");
    expect_utf8("\xED\xA0\xBD\xED\xB8\x80", 6, 0, "CESU-8 pair");
}

static void test_utf8_rejects_truncated_and_stray(void **state)
{
    (void)state;
    const char *zh = "回访";
    expect_utf8(zh, strlen(zh) - 1, 0, "Chinese cut mid-character");
    expect_utf8("\xE4\xB8", 2, 0, "truncated 3-byte");
    expect_utf8("\xF0\x9F\x98", 3, 0, "truncated 4-byte");
    expect_utf8("\xC3", 1, 0, "truncated 2-byte");
    expect_utf8("\x80", 1, 0, "stray continuation");
    expect_utf8("a\xBF" "b", 3, 0, "stray continuation inside");
    expect_utf8("\xE4\x41\x41", 3, 0, "lead byte followed by ASCII");
    expect_utf8("\xF4\x90\x80\x80", 4, 0, "above U+10FFFF");
    expect_utf8("\xF5\x80\x80\x80", 4, 0, "F5 lead");
    expect_utf8("\xFF", 1, 0, "FF");
    expect_utf8("\xFE", 1, 0, "FE");
}

static void test_utf8_chars_counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(utf8_chars(""), 0);
    assert_int_equal(utf8_chars("abc"), 3);
    assert_int_equal(utf8_chars("回访"), 2);
    assert_int_equal(utf8_chars("回访ok"), 4);
    assert_int_equal(utf8_chars("\xF0\x9F\x98\x80!"), 2);
    assert_int_equal(utf8_chars("【惠方装饰】您好"), 8);
}

/* ---- log masking -------------------------------------------------------- */

static void test_mask_phone_mobile(void **state)
{
    (void)state;
    expect_mask("13812345678", "138****5678");
    expect_mask("+8613812345678", "138****5678");
    expect_mask("8613812345678", "138****5678");
    expect_mask("138-1234-5678", "138****5678");
}

static void test_mask_phone_short_or_empty(void **state)
{
    (void)state;
    expect_mask("12345", "***");
    expect_mask("123456", "***");
    expect_mask("", "***");
    expect_mask("abc", "***");
    expect_mask(NULL, "***");
}

/*
 * Masking must hide something: a 7- or 8-digit number shown as
 * "123****4567" would print every digit it has.
 */
static void test_mask_phone_never_reveals_whole_number(void **state)
{
    (void)state;
    static const char *const phones[] = {"1234567", "87654321", "021-8765432", "13812345678",
                                         "+8613812345678"};
    for (size_t i = 0; i < HF_ARRAY_LEN(phones); i++) {
        char out[24];
        size_t in_digits = 0, out_digits = 0;
        for (const char *p = phones[i]; *p; p++)
            in_digits += *p >= '0' && *p <= '9';
        log_mask_phone(phones[i], out);
        for (const char *p = out; *p; p++)
            out_digits += *p >= '0' && *p <= '9';
        if (in_digits > 11)
            in_digits = 11; /* the country code is dropped, not masked */
        if (out_digits + 4 > in_digits)
            fail_msg("log_mask_phone(\"%s\") = \"%s\" hides fewer than 4 of its %zu digits",
                     phones[i], out, in_digits);
    }
}

static void test_log_level_parse(void **state)
{
    (void)state;
    enum log_level l = LOG_LVL_ERR;
    assert_int_equal(log_level_parse("debug", &l), 0);
    assert_int_equal(l, LOG_LVL_DEBUG);
    assert_int_equal(log_level_parse("info", &l), 0);
    assert_int_equal(l, LOG_LVL_INFO);
    assert_int_equal(log_level_parse("warn", &l), 0);
    assert_int_equal(l, LOG_LVL_WARN);
    assert_int_equal(log_level_parse("error", &l), 0);
    assert_int_equal(l, LOG_LVL_ERR);
    assert_int_equal(log_level_parse("verbose", &l), -1);
    assert_int_equal(log_level_parse("INFO", &l), -1);
    assert_int_equal(log_level_parse("", &l), -1);
}

/* ---- crypto --------------------------------------------------------------- */

static void test_sha256_known_vectors(void **state)
{
    (void)state;
    char out[65];
    sha256_hex("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* FIPS 180-2, two-block message. */
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(m2, strlen(m2), out);
    assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_int_equal(strlen(out), 64);
}

static void test_hmac_sha256_rfc4231(void **state)
{
    (void)state;
    char out[65];
    /* RFC 4231 test case 2. */
    const char *data = "what do ya want for nothing?";
    hmac_sha256_hex("Jefe", 4, data, strlen(data), out);
    assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 4231 test case 1: key = 20 x 0x0b. */
    unsigned char key[20];
    memset(key, 0x0b, sizeof key);
    hmac_sha256_hex(key, sizeof key, "Hi There", 8, out);
    assert_string_equal(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* RFC 4231 test case 6: a key longer than the block size. */
    unsigned char longkey[131];
    memset(longkey, 0xaa, sizeof longkey);
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_sha256_hex(longkey, sizeof longkey, d6, strlen(d6), out);
    assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_ct_equal(void **state)
{
    (void)state;
    const char *a = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    char b[65];
    memcpy(b, a, 65);
    assert_int_equal(ct_equal(a, b, 64), 1);
    b[63] = '4';
    assert_int_equal(ct_equal(a, b, 64), 0);
    b[63] = a[63];
    b[0] = '4';
    assert_int_equal(ct_equal(a, b, 64), 0);
    assert_int_equal(ct_equal(a, b, 0), 1); /* nothing to compare */
    assert_int_equal(ct_equal(a + 1, b + 1, 63), 1);
}

static void test_rand_u64_varies(void **state)
{
    (void)state;
    uint64_t a = rand_u64(), b = rand_u64(), c = rand_u64();
    /* Three equal draws from a 64-bit CSPRNG would mean it is broken. */
    assert_false(a == b && b == c);
}

/* ---- buf ------------------------------------------------------------------ */

static void test_buf_grows_and_stays_terminated(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    char expect[10001];
    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        buf_append(&b, &c, 1);
        expect[i] = c;
        assert_int_equal(b.len, (size_t)i + 1);
        assert_true(b.cap >= b.len + 1);
        assert_int_equal(b.data[b.len], '\0');
    }
    expect[10000] = '\0';
    assert_string_equal(b.data, expect);
    buf_cleanup(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void test_buf_large_append_and_printf(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "head:");
    char big[5000];
    memset(big, 'x', sizeof big);
    buf_append(&b, big, sizeof big); /* far beyond the first 256-byte block */
    assert_int_equal(b.len, 5 + sizeof big);
    buf_printf(&b, "|%d|%s|", 42, "回访");
    assert_int_equal(b.len, 5 + sizeof big + strlen("|42|回访|"));
    assert_string_equal(b.data + 5 + sizeof big, "|42|回访|");
    assert_memory_equal(b.data, "head:xxx", 8);
    /* A printf that by itself crosses the capacity. */
    struct buf p;
    buf_init(&p);
    buf_printf(&p, "%0300d", 7);
    assert_int_equal(p.len, 300);
    assert_int_equal(p.data[299], '7');
    assert_int_equal(p.data[300], '\0');
    buf_cleanup(&p);
    buf_cleanup(&b);
}

static void test_buf_empty_append_and_steal(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_append(&b, NULL, 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    buf_puts(&b, "abc");
    char *s = buf_steal(&b);
    assert_string_equal(s, "abc");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    /* Stealing from a buffer that never had data gives an empty string. */
    s = buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_xasprintf_and_strndup(void **state)
{
    (void)state;
    char *s = xasprintf("hf-%lld", (long long)12);
    assert_string_equal(s, "hf-12");
    free(s);
    s = xstrndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
    assert_string_equal(hf_strerror(HF_OK), "ok");
    assert_string_equal(hf_strerror(HF_ERR_NOTFOUND), "not found");
}

/* ---- clock ------------------------------------------------------------------- */

static void test_clock_real_by_default(void **state)
{
    (void)state;
    int64_t now = (int64_t)time(NULL);
    assert_true(llabs((long long)(clock_now() - now)) <= 2);
    int64_t a = clock_mono_ms(), b = clock_mono_ms();
    assert_true(b >= a);
}

static void test_clock_starts_at_env_instant(void **state)
{
    (void)state;
    assert_int_equal(setenv("HUIFANG_CLOCK_START", "2026-11-24T10:30:00+08:00", 1), 0);
    clock_init_from_env();
    int64_t now = clock_now();
    if (llabs((long long)(now - T_2026_11_24_0230Z)) > 3)
        fail_msg("clock_now() = %lld, expected within 3 s of %lld", (long long)now,
                 (long long)T_2026_11_24_0230Z);
    int64_t ms = clock_now_ms();
    assert_true(llabs((long long)(ms - T_2026_11_24_0230Z * 1000)) <= 3000);
    /* It keeps running at the real rate from there. */
    assert_true(clock_now_ms() >= ms);
    unsetenv("HUIFANG_CLOCK_START");
}

/* A complaint's reason from a customer's reply: one line, at most N code
 * points, cut on a character boundary with an ellipsis. */
static void clip_check(const char *in, size_t max, const char *want, size_t want_chars)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", in);
    assert_int_equal(text_one_line_clip(buf, max), want_chars);
    assert_string_equal(buf, want);
    assert_true(utf8_valid(buf, strlen(buf)));
}

static void test_text_one_line_clip(void **state)
{
    (void)state;
    clip_check("墙面开裂", 10, "墙面开裂", 4);
    clip_check("  墙面开裂\r\n卫生间漏水\t\t ", 100, "墙面开裂 卫生间漏水", 10);
    clip_check("a\x7f\xc2\x85" "b", 10, "a b", 3);               /* DEL and C1 NEL */
    clip_check("一二三四五六七八九十", 10, "一二三四五六七八九十", 10); /* exactly max */
    clip_check("一二三四五六七八九十十", 10, "一二三四五六七八九…", 10);
    clip_check("abcdefghijk", 5, "abcd…", 5);
    clip_check("ok\xe5\xa2", 10, "ok", 2);                      /* truncated sequence */
    clip_check("ok\xff rest", 10, "ok", 2);                       /* stray byte */
    clip_check("\n\t ", 10, "", 0);
    clip_check("", 10, "", 0);
    /* a long reply of 4-byte characters stays within 100 code points */
    char big[4 * 150 + 1] = "";
    for (int i = 0; i < 150; i++)
        strcat(big, "\xf0\x9f\x98\x80"); /* U+1F600 */
    assert_int_equal(text_one_line_clip(big, 100), 100);
    assert_int_equal(utf8_chars(big), 100);
    assert_int_equal(strlen(big), 99 * 4 + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso_utc_z),
        cmocka_unit_test(test_iso_offset_with_colon),
        cmocka_unit_test(test_iso_offset_without_colon),
        cmocka_unit_test(test_iso_fractional_seconds),
        cmocka_unit_test(test_iso_without_seconds),
        cmocka_unit_test(test_iso_missing_offset_rejected),
        cmocka_unit_test(test_iso_impossible_dates_rejected),
        cmocka_unit_test(test_iso_trailing_junk_rejected),
        cmocka_unit_test(test_iso_malformed_rejected),
        cmocka_unit_test(test_format_local_shanghai),
        cmocka_unit_test(test_format_local_negative_and_half_hour_offsets),
        cmocka_unit_test(test_format_utc),
        cmocka_unit_test(test_tz_set_rejects_unknown_and_escaping_zones),
        cmocka_unit_test(test_tz_set_rejects_directories_and_non_zone_files),
        cmocka_unit_test(test_duration_units),
        cmocka_unit_test(test_duration_bare_number_is_seconds),
        cmocka_unit_test(test_duration_rejects_bad_input),
        cmocka_unit_test(test_duration_rejects_overflow),
        cmocka_unit_test(test_date_parse_valid),
        cmocka_unit_test(test_date_parse_rejects),
        cmocka_unit_test(test_mobile_accepts_plain_and_country_code),
        cmocka_unit_test(test_mobile_rejects),
        cmocka_unit_test(test_utf8_accepts_ascii_chinese_and_emoji),
        cmocka_unit_test(test_utf8_rejects_overlong),
        cmocka_unit_test(test_utf8_rejects_surrogates),
        cmocka_unit_test(test_utf8_rejects_truncated_and_stray),
        cmocka_unit_test(test_utf8_chars_counts_code_points),
        cmocka_unit_test(test_mask_phone_mobile),
        cmocka_unit_test(test_mask_phone_short_or_empty),
        cmocka_unit_test(test_mask_phone_never_reveals_whole_number),
        cmocka_unit_test(test_log_level_parse),
        cmocka_unit_test(test_sha256_known_vectors),
        cmocka_unit_test(test_hmac_sha256_rfc4231),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_text_one_line_clip),
        cmocka_unit_test(test_rand_u64_varies),
        cmocka_unit_test(test_buf_grows_and_stays_terminated),
        cmocka_unit_test(test_buf_large_append_and_printf),
        cmocka_unit_test(test_buf_empty_append_and_steal),
        cmocka_unit_test(test_xasprintf_and_strndup),
        cmocka_unit_test(test_clock_real_by_default),
        cmocka_unit_test(test_clock_starts_at_env_instant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
