/*
 * test_calendar.c - holiday calendar: the shipped config/holidays-cn.json
 * and the loader's error messages on malformed files.
 *
 * Run from the repository root (the real file is "config/holidays-cn.json").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"

#define REAL_FILE "config/holidays-cn.json"

/* ---- helpers ----------------------------------------------------------- */

static struct calendar *load_real(void)
{
    char err[256];
    struct calendar *c = calendar_load(REAL_FILE, err, sizeof err);
    if (!c)
        fail_msg("loading %s: %s", REAL_FILE, err);
    return c;
}

/* Write @text to a fresh temp file; its name goes to @path (32 bytes). */
static void write_temp(const char *text, char path[32])
{
    strcpy(path, "/tmp/hf_cal_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), n);
    assert_int_equal(close(fd), 0);
}

/*
 * Load @text from a temp file and expect failure with an error that starts
 * with the file name and contains @want (the key path and reason).
 */
static void expect_error(const char *text, const char *want)
{
    char path[32], err[256], prefix[64];
    write_temp(text, path);
    struct calendar *c = calendar_load(path, err, sizeof err);
    unlink(path);
    if (c) {
        calendar_free(c);
        fail_msg("expected an error containing \"%s\", but the file loaded", want);
    }
    snprintf(prefix, sizeof prefix, "%s: ", path);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("error does not name the file: \"%s\"", err);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

/* Load @text from a temp file and expect success. */
static struct calendar *expect_ok(const char *text)
{
    char path[32], err[256];
    write_temp(text, path);
    struct calendar *c = calendar_load(path, err, sizeof err);
    unlink(path);
    if (!c)
        fail_msg("expected success, got \"%s\"", err);
    return c;
}

static void assert_day(const struct calendar *c, int y, int m, int d, int work, int covered)
{
    int cov = -1;
    int got = calendar_is_workday(c, y, m, d, &cov);
    if (got != work || cov != covered)
        fail_msg("%04d-%02d-%02d: workday=%d covered=%d, expected workday=%d covered=%d", y, m,
                 d, got, cov, work, covered);
}

/* ---- the real file ---------------------------------------------------- */

static void test_real_file_loads(void **state)
{
    (void)state;
    struct calendar *c = load_real();
    assert_non_null(c);
    calendar_free(c);
}

static void test_real_file_facts(void **state)
{
    (void)state;
    struct calendar *c = load_real();
    assert_day(c, 2026, 10, 1, 0, 1);  /* National Day, Thursday: rest */
    assert_day(c, 2026, 10, 7, 0, 1);  /* last day of National Day */
    assert_day(c, 2026, 10, 8, 1, 1);  /* Thursday after: work */
    assert_day(c, 2026, 10, 10, 1, 1); /* make-up Saturday */
    assert_day(c, 2026, 9, 20, 1, 1);  /* make-up Sunday */
    assert_day(c, 2026, 1, 1, 0, 1);   /* 元旦 */
    assert_day(c, 2026, 1, 4, 1, 1);   /* 元旦调休, Sunday */
    assert_day(c, 2026, 2, 14, 1, 1);  /* 春节调休, Saturday */
    assert_day(c, 2026, 2, 15, 0, 1);  /* 春节 starts */
    assert_day(c, 2026, 2, 23, 0, 1);  /* 春节 Monday, still rest */
    assert_day(c, 2026, 2, 24, 1, 1);  /* Tuesday after */
    assert_day(c, 2026, 2, 28, 1, 1);  /* 春节调休, Saturday */
    assert_day(c, 2026, 4, 6, 0, 1);   /* 清明节 Monday */
    assert_day(c, 2026, 5, 5, 0, 1);   /* 劳动节 Tuesday */
    assert_day(c, 2026, 5, 9, 1, 1);   /* 劳动节调休 Saturday */
    assert_day(c, 2026, 6, 19, 0, 1);  /* 端午节 Friday */
    assert_day(c, 2026, 9, 25, 0, 1);  /* 中秋节 Friday */
    assert_day(c, 2026, 11, 28, 0, 1); /* ordinary Saturday */
    assert_day(c, 2026, 11, 29, 0, 1); /* ordinary Sunday */
    assert_day(c, 2026, 11, 27, 1, 1); /* ordinary Friday */
    assert_day(c, 2026, 11, 30, 1, 1); /* ordinary Monday */
    calendar_free(c);
}

static void test_real_file_days_covered(void **state)
{
    (void)state;
    struct calendar *c = load_real();
    assert_int_equal(calendar_days_covered(c, 2026, 11, 24), 38);
    assert_int_equal(calendar_days_covered(c, 2026, 1, 1), 365);
    assert_int_equal(calendar_days_covered(c, 2026, 12, 31), 1);
    assert_int_equal(calendar_days_covered(c, 2027, 1, 1), 0);
    assert_int_equal(calendar_days_covered(c, 2025, 12, 31), 0);
    assert_int_equal(calendar_days_covered(c, 2026, 2, 30), 0);
    calendar_free(c);
}

static void test_real_file_last_year(void **state)
{
    (void)state;
    struct calendar *c = load_real();
    assert_int_equal(calendar_last_year(c), 2026);
    calendar_free(c);
}

static void test_uncovered_year_falls_back_to_weekends(void **state)
{
    (void)state;
    struct calendar *c = load_real();
    assert_day(c, 2027, 1, 1, 1, 0); /* Friday; a holiday in reality, unknown to the file */
    assert_day(c, 2027, 1, 2, 0, 0); /* Saturday */
    assert_day(c, 2027, 1, 3, 0, 0); /* Sunday */
    assert_day(c, 2027, 1, 4, 1, 0); /* Monday */
    assert_day(c, 2025, 12, 31, 1, 0);
    calendar_free(c);
}

static void test_null_calendar(void **state)
{
    (void)state;
    assert_day(NULL, 2026, 10, 1, 1, 0);  /* Thursday: weekday rule only */
    assert_day(NULL, 2026, 10, 10, 0, 0); /* Saturday */
    assert_int_equal(calendar_days_covered(NULL, 2026, 1, 1), 0);
    assert_int_equal(calendar_last_year(NULL), 0);
    assert_int_equal(calendar_is_workday(NULL, 2026, 1, 5, NULL), 1);
    calendar_free(NULL);
}

static void test_invalid_date_is_not_a_workday(void **state)
{
    (void)state;
    struct calendar *c = load_real();
    assert_day(c, 2026, 2, 30, 0, 0);
    assert_day(c, 2026, 13, 1, 0, 0);
    assert_day(c, 2026, 0, 1, 0, 0);
    calendar_free(c);
}

/* ---- small valid files ----------------------------------------------- */

static void test_year_without_holidays_is_covered(void **state)
{
    (void)state;
    struct calendar *c = expect_ok("{\"years\": {\"2030\": {}, \"2031\": {\"holidays\": []}}}");
    assert_day(c, 2030, 1, 1, 1, 1); /* Tuesday, covered, no holiday listed */
    assert_day(c, 2030, 1, 5, 0, 1); /* Saturday */
    assert_int_equal(calendar_last_year(c), 2031);
    calendar_free(c);
}

static void test_years_sorted_and_consecutive(void **state)
{
    (void)state;
    struct calendar *c = expect_ok("{\"years\": {\"2028\": {}, \"2026\": {}, \"2027\": {},"
                                   " \"2030\": {}}}");
    assert_int_equal(calendar_last_year(c), 2030);
    /* 2026-12-31 + all of 2027 + all of 2028 (leap); 2029 missing stops it */
    assert_int_equal(calendar_days_covered(c, 2026, 12, 31), 1 + 365 + 366);
    assert_int_equal(calendar_days_covered(c, 2029, 6, 1), 0);
    assert_int_equal(calendar_days_covered(c, 2030, 12, 31), 1);
    calendar_free(c);
}

static void test_workdays_before_holidays_in_file(void **state)
{
    (void)state;
    /* key order must not matter for the holiday/workday conflict check */
    expect_error("{\"years\": {\"2026\": {"
                 "\"workdays\": [{\"name\": \"x\", \"date\": \"2026-10-03\"}],"
                 "\"holidays\": [{\"name\": \"国庆节\", \"from\": \"2026-10-01\", \"to\": "
                 "\"2026-10-07\"}]}}}",
                 "years.2026.workdays[0].date: 2026-10-03 is also a holiday");
}

static void test_error_buffer_truncated_and_null(void **state)
{
    (void)state;
    char small[12];
    memset(small, 'x', sizeof small);
    assert_null(calendar_load("/nonexistent/holidays.json", small, sizeof small));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_null(calendar_load("/nonexistent/holidays.json", NULL, 0));
}

/* ---- malformed files -------------------------------------------------- */

static void test_error_unknown_top_key(void **state)
{
    (void)state;
    expect_error("{\"country\": \"CN\", \"contry\": \"CN\", \"years\": {}}",
                 "contry: unknown key");
}

static void test_error_unknown_nested_key(void **state)
{
    (void)state;
    expect_error("{\"years\": {\"2026\": {\"holidays\": [{\"name\": \"元旦\", \"from\": "
                 "\"2026-01-01\", \"to\": \"2026-01-03\", \"note\": 1}]}}}",
                 "years.2026.holidays[0].note: unknown key");
    expect_error("{\"years\": {\"2026\": {\"holiday\": []}}}", "years.2026.holiday: unknown key");
}

static void test_error_bad_date(void **state)
{
    (void)state;
    expect_error("{\"years\": {\"2026\": {\"holidays\": ["
                 "{\"name\": \"a\", \"from\": \"2026-01-01\", \"to\": \"2026-01-01\"},"
                 "{\"name\": \"b\", \"from\": \"2026-01-10\", \"to\": \"2026-01-10\"},"
                 "{\"name\": \"c\", \"from\": \"2026-02-20\", \"to\": \"2026-02-30\"}]}}}",
                 "years.2026.holidays[2].to: not a date: '2026-02-30'");
    expect_error("{\"years\": {\"2026\": {\"workdays\": [{\"name\": \"x\", \"date\": "
                 "\"2026-1-4\"}]}}}",
                 "years.2026.workdays[0].date: not a date: '2026-1-4'");
}

static void test_error_from_after_to(void **state)
{
    (void)state;
    expect_error("{\"years\": {\"2026\": {\"holidays\": [{\"name\": \"春节\", \"from\": "
                 "\"2026-02-23\", \"to\": \"2026-02-15\"}]}}}",
                 "years.2026.holidays[0].to: 2026-02-15 is before from 2026-02-23");
}

static void test_error_holiday_also_workday(void **state)
{
    (void)state;
    expect_error("{\"years\": {\"2026\": {"
                 "\"holidays\": [{\"name\": \"国庆节\", \"from\": \"2026-10-01\", \"to\": "
                 "\"2026-10-07\"}],"
                 "\"workdays\": [{\"name\": \"国庆节调休\", \"date\": \"2026-09-20\"},"
                 "{\"name\": \"国庆节调休\", \"date\": \"2026-10-07\"}]}}}",
                 "years.2026.workdays[1].date: 2026-10-07 is also a holiday");
}

static void test_error_not_json(void **state)
{
    (void)state;
    expect_error("{\n  \"years\": {\n    \"2026\": {,}\n  }\n}\n", "line 3: not valid JSON");
    expect_error("", "not valid JSON");
    expect_error("{\"years\": {}} trailing", "not valid JSON");
}

static void test_error_missing_file(void **state)
{
    (void)state;
    char err[256];
    assert_null(calendar_load("/tmp/hf_cal_does_not_exist.json", err, sizeof err));
    assert_string_equal(err,
                        "/tmp/hf_cal_does_not_exist.json: cannot open: No such file or directory");
}

static void test_error_date_outside_year(void **state)
{
    (void)state;
    expect_error("{\"years\": {\"2026\": {\"holidays\": [{\"name\": \"元旦\", \"from\": "
                 "\"2025-12-31\", \"to\": \"2026-01-01\"}]}}}",
                 "years.2026.holidays[0].from: 2025-12-31 is not in 2026");
    expect_error("{\"years\": {\"2026\": {\"workdays\": [{\"name\": \"x\", \"date\": "
                 "\"2027-01-04\"}]}}}",
                 "years.2026.workdays[0].date: 2027-01-04 is not in 2026");
}

static void test_error_wrong_types(void **state)
{
    (void)state;
    expect_error("[]", "top level is not a JSON object");
    expect_error("{\"years\": []}", "years: not an object");
    expect_error("{\"country\": 86, \"years\": {}}", "country: not a string");
    expect_error("{\"years\": {\"2026\": []}}", "years.2026: not an object");
    expect_error("{\"years\": {\"2026\": {\"holidays\": {}}}}",
                 "years.2026.holidays: not an array");
    expect_error("{\"years\": {\"2026\": {\"workdays\": [\"2026-01-04\"]}}}",
                 "years.2026.workdays[0]: not an object");
    expect_error("{\"years\": {\"2026\": {\"holidays\": [{\"name\": \"a\", \"from\": 20260101, "
                 "\"to\": \"2026-01-01\"}]}}}",
                 "years.2026.holidays[0].from: not a string");
}

static void test_error_missing_keys(void **state)
{
    (void)state;
    expect_error("{\"country\": \"CN\"}", "years: missing");
    expect_error("{\"years\": {\"2026\": {\"holidays\": [{\"name\": \"a\", \"from\": "
                 "\"2026-01-01\"}]}}}",
                 "years.2026.holidays[0].to: missing");
    expect_error("{\"years\": {\"2026\": {\"workdays\": [{\"date\": \"2026-01-04\"}]}}}",
                 "years.2026.workdays[0].name: missing");
    expect_error("{\"years\": {\"2026\": {\"workdays\": [{\"name\": \"\", \"date\": "
                 "\"2026-01-04\"}]}}}",
                 "years.2026.workdays[0].name: empty");
}

static void test_error_bad_year_key(void **state)
{
    (void)state;
    expect_error("{\"years\": {\"26\": {}}}", "years.26: not a year");
    expect_error("{\"years\": {\"2026x\": {}}}", "years.2026x: not a year");
}

static void test_error_duplicates(void **state)
{
    (void)state;
    expect_error("{\"years\": {\"2026\": {}, \"2026\": {}}}", "years.2026: duplicate key");
    expect_error("{\"country\": \"CN\", \"country\": \"CN\", \"years\": {}}",
                 "country: duplicate key");
    expect_error("{\"years\": {\"2026\": {\"holidays\": ["
                 "{\"name\": \"a\", \"from\": \"2026-10-01\", \"to\": \"2026-10-07\"},"
                 "{\"name\": \"b\", \"from\": \"2026-10-05\", \"to\": \"2026-10-08\"}]}}}",
                 "years.2026.holidays[1]: overlaps years.2026.holidays[0]");
    expect_error("{\"years\": {\"2026\": {\"workdays\": ["
                 "{\"name\": \"a\", \"date\": \"2026-10-10\"},"
                 "{\"name\": \"b\", \"date\": \"2026-10-10\"}]}}}",
                 "years.2026.workdays[1].date: 2026-10-10 is listed twice");
}

static void test_error_untrusted_text_is_sanitized(void **state)
{
    (void)state;
    /* a control character and a very long value must not reach the log raw */
    char path[32], err[256];
    write_temp("{\"years\": {\"2026\": {\"workdays\": [{\"name\": \"x\", \"date\": "
               "\"20\\n26-01-04aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}}}",
               path);
    assert_null(calendar_load(path, err, sizeof err));
    unlink(path);
    assert_null(strchr(err, '\n'));
    assert_non_null(strstr(err, "not a date: '20?26-01-04"));
    assert_non_null(strstr(err, "...'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_file_loads),
        cmocka_unit_test(test_real_file_facts),
        cmocka_unit_test(test_real_file_days_covered),
        cmocka_unit_test(test_real_file_last_year),
        cmocka_unit_test(test_uncovered_year_falls_back_to_weekends),
        cmocka_unit_test(test_null_calendar),
        cmocka_unit_test(test_invalid_date_is_not_a_workday),
        cmocka_unit_test(test_year_without_holidays_is_covered),
        cmocka_unit_test(test_years_sorted_and_consecutive),
        cmocka_unit_test(test_workdays_before_holidays_in_file),
        cmocka_unit_test(test_error_buffer_truncated_and_null),
        cmocka_unit_test(test_error_unknown_top_key),
        cmocka_unit_test(test_error_unknown_nested_key),
        cmocka_unit_test(test_error_bad_date),
        cmocka_unit_test(test_error_from_after_to),
        cmocka_unit_test(test_error_holiday_also_workday),
        cmocka_unit_test(test_error_not_json),
        cmocka_unit_test(test_error_missing_file),
        cmocka_unit_test(test_error_date_outside_year),
        cmocka_unit_test(test_error_wrong_types),
        cmocka_unit_test(test_error_missing_keys),
        cmocka_unit_test(test_error_bad_year_key),
        cmocka_unit_test(test_error_duplicates),
        cmocka_unit_test(test_error_untrusted_text_is_sanitized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
