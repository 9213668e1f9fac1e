/*
 * test_windows.c - send windows against the real holiday calendar
 * (config/holidays-cn.json, run from the repository root), in
 * Asia/Shanghai and in zones with daylight saving time.
 *
 *   survey window  10:30-11:40 + 15:00-18:00, working days only
 *   notice window  08:00-21:00, any day
 *   alert window   any time
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "util.h"
#include "windows.h"

#define REAL_FILE "config/holidays-cn.json"

static struct calendar *cal; /* the real calendar, loaded once for the group */
static struct window_def survey, notice, alert;

/* ---- helpers ----------------------------------------------------------- */

static int64_t ts(const char *iso)
{
    int64_t t = 0;
    if (iso8601_parse(iso, &t) != 0)
        fail_msg("bad timestamp in test: %s", iso);
    return t;
}

/* @t as local ISO-8601, or "-1". */
static void fmt(int64_t t, char out[32])
{
    if (t == -1)
        snprintf(out, 32, "-1");
    else
        iso8601_format_local(t, out);
}

static void add(struct window_def *w, const char *span)
{
    int a, b;
    assert_int_equal(window_parse_span(span, &a, &b), 0);
    assert_int_equal(window_add_span(w, a, b), 0);
}

/* window_next_open(@due) must be @want (both local ISO-8601 strings). */
static void expect_next(const struct window_def *w, const struct calendar *c, const char *due,
                        const char *want)
{
    char got[32];
    fmt(window_next_open(w, c, ts(due)), got);
    if (strcmp(got, want) != 0)
        fail_msg("next_open(%s) = %s, expected %s", due, got, want);
}

/* A message due at @due is sent right away (it is inside the window). */
static void expect_stays(const struct window_def *w, const struct calendar *c, const char *due)
{
    int64_t t = ts(due);
    if (!window_contains(w, c, t))
        fail_msg("%s should be inside the window", due);
    if (window_next_open(w, c, t) != t)
        fail_msg("next_open(%s) should be the instant itself", due);
}

static int weekday_of(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return tm.tm_wday;
}

static int group_setup(void **state)
{
    (void)state;
    char err[256];
    if (tz_set("Asia/Shanghai") != 0)
        return -1;
    cal = calendar_load(REAL_FILE, err, sizeof err);
    if (!cal) {
        fprintf(stderr, "cannot load %s: %s\n", REAL_FILE, err);
        return -1;
    }
    memset(&survey, 0, sizeof survey);
    memset(&notice, 0, sizeof notice);
    memset(&alert, 0, sizeof alert);
    int a, b;
    /* added out of order on purpose: window_add_span keeps them sorted */
    if (window_parse_span("15:00-18:00", &a, &b) || window_add_span(&survey, a, b) ||
        window_parse_span("10:30-11:40", &a, &b) || window_add_span(&survey, a, b))
        return -1;
    survey.workdays_only = 1;
    if (window_parse_span("08:00-21:00", &a, &b) || window_add_span(&notice, a, b))
        return -1;
    alert.any_time = 1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    calendar_free(cal);
    cal = NULL;
    return 0;
}

/* Every test starts and ends in Asia/Shanghai, whatever zone it switched to. */
static int reset_tz(void **state)
{
    (void)state;
    return tz_set("Asia/Shanghai");
}

/* ---- surveys: working days and the two follow-up spans ----------------- */

static void test_survey_spans_sorted(void **state)
{
    (void)state;
    assert_int_equal(survey.nspans, 2);
    assert_int_equal(survey.spans[0].start_min, 10 * 60 + 30);
    assert_int_equal(survey.spans[0].end_min, 11 * 60 + 40);
    assert_int_equal(survey.spans[1].start_min, 15 * 60);
    assert_int_equal(survey.spans[1].end_min, 18 * 60);
}

static void test_survey_friday_evening_moves_to_monday(void **state)
{
    (void)state;
    assert_int_equal(weekday_of(ts("2026-11-27T19:00:00+08:00")), 5);
    expect_next(&survey, cal, "2026-11-27T19:00:00+08:00", "2026-11-30T10:30:00+08:00");
    assert_int_equal(weekday_of(ts("2026-11-30T10:30:00+08:00")), 1);
}

static void test_survey_national_day_moves_to_oct_8(void **state)
{
    (void)state;
    expect_next(&survey, cal, "2026-10-02T10:45:00+08:00", "2026-10-08T10:30:00+08:00");
    expect_next(&survey, cal, "2026-10-01T00:00:00+08:00", "2026-10-08T10:30:00+08:00");
    expect_next(&survey, cal, "2026-09-30T18:00:00+08:00", "2026-10-08T10:30:00+08:00");
    assert_int_equal(weekday_of(ts("2026-10-08T10:30:00+08:00")), 4); /* Thursday */
    int covered = -1;
    assert_int_equal(calendar_is_workday(cal, 2026, 10, 8, &covered), 1);
    assert_int_equal(covered, 1);
}

static void test_survey_makeup_sunday_sep_20(void **state)
{
    (void)state;
    assert_int_equal(weekday_of(ts("2026-09-20T09:00:00+08:00")), 0); /* Sunday */
    assert_int_equal(calendar_is_workday(cal, 2026, 9, 20, NULL), 1);
    expect_next(&survey, cal, "2026-09-20T09:00:00+08:00", "2026-09-20T10:30:00+08:00");
    /* the ordinary Saturday before it is still a rest day */
    expect_next(&survey, cal, "2026-09-19T10:30:00+08:00", "2026-09-20T10:30:00+08:00");
}

static void test_survey_makeup_saturday_oct_10(void **state)
{
    (void)state;
    assert_int_equal(weekday_of(ts("2026-10-10T12:00:00+08:00")), 6); /* Saturday */
    assert_int_equal(calendar_is_workday(cal, 2026, 10, 10, NULL), 1);
    expect_stays(&survey, cal, "2026-10-10T16:00:00+08:00");
    expect_next(&survey, cal, "2026-10-10T07:00:00+08:00", "2026-10-10T10:30:00+08:00");
    /* and Sunday 10-11 is a rest day again */
    expect_next(&survey, cal, "2026-10-10T18:30:00+08:00", "2026-10-12T10:30:00+08:00");
}

static void test_survey_between_and_at_span_edges(void **state)
{
    (void)state;
    expect_next(&survey, cal, "2026-11-24T11:50:00+08:00", "2026-11-24T15:00:00+08:00");
    expect_stays(&survey, cal, "2026-11-24T11:39:00+08:00");
    expect_stays(&survey, cal, "2026-11-24T11:39:59+08:00");
    expect_next(&survey, cal, "2026-11-24T11:40:00+08:00", "2026-11-24T15:00:00+08:00");
    expect_stays(&survey, cal, "2026-11-24T10:30:00+08:00");
    expect_next(&survey, cal, "2026-11-24T10:29:59+08:00", "2026-11-24T10:30:00+08:00");
    expect_stays(&survey, cal, "2026-11-24T17:59:59+08:00");
    expect_next(&survey, cal, "2026-11-24T18:00:00+08:00", "2026-11-25T10:30:00+08:00");
}

static void test_survey_spring_festival(void **state)
{
    (void)state;
    expect_stays(&survey, cal, "2026-02-14T16:00:00+08:00"); /* make-up Saturday */
    expect_next(&survey, cal, "2026-02-15T10:30:00+08:00", "2026-02-24T10:30:00+08:00");
    expect_next(&survey, cal, "2026-02-14T18:00:00+08:00", "2026-02-24T10:30:00+08:00");
    expect_stays(&survey, cal, "2026-02-28T10:30:00+08:00"); /* second make-up Saturday */
}

static void test_survey_uncovered_2027_falls_back_to_weekends(void **state)
{
    (void)state;
    int covered = -1;
    assert_int_equal(calendar_is_workday(cal, 2027, 1, 2, &covered), 0);
    assert_int_equal(covered, 0);
    assert_int_equal(calendar_is_workday(cal, 2027, 1, 4, &covered), 1);
    assert_int_equal(covered, 0);
    expect_next(&survey, cal, "2027-01-02T10:30:00+08:00", "2027-01-04T10:30:00+08:00");
    /* crossing from the covered year into the uncovered one */
    expect_next(&survey, cal, "2026-12-31T18:00:00+08:00", "2027-01-01T10:30:00+08:00");
}

static void test_survey_without_calendar_uses_weekdays(void **state)
{
    (void)state;
    /* 2026-10-01 is a Thursday: without a calendar it is a working day */
    expect_stays(&survey, NULL, "2026-10-01T10:30:00+08:00");
    expect_next(&survey, NULL, "2026-10-10T10:30:00+08:00", "2026-10-12T10:30:00+08:00");
}

/* ---- notices and alerts ------------------------------------------------- */

static void test_notice_night_moves_to_morning(void **state)
{
    (void)state;
    expect_next(&notice, cal, "2026-11-24T23:30:00+08:00", "2026-11-25T08:00:00+08:00");
    expect_next(&notice, cal, "2026-11-25T07:59:00+08:00", "2026-11-25T08:00:00+08:00");
    expect_next(&notice, cal, "2026-11-24T21:00:00+08:00", "2026-11-25T08:00:00+08:00");
    expect_stays(&notice, cal, "2026-11-24T20:59:59+08:00");
    expect_stays(&notice, cal, "2026-11-24T08:00:00+08:00");
}

static void test_notice_allowed_on_holidays_and_weekends(void **state)
{
    (void)state;
    expect_stays(&notice, cal, "2026-10-01T12:00:00+08:00"); /* National Day */
    expect_stays(&notice, cal, "2026-02-17T09:00:00+08:00"); /* Spring Festival */
    expect_stays(&notice, cal, "2026-11-28T20:00:00+08:00"); /* ordinary Saturday */
    expect_next(&notice, cal, "2026-10-01T22:00:00+08:00", "2026-10-02T08:00:00+08:00");
}

static void test_alert_never_moves(void **state)
{
    (void)state;
    const char *times[] = {"2026-10-01T03:00:00+08:00", "2026-11-24T23:59:59+08:00",
                           "2026-02-15T00:00:00+08:00", "2027-01-02T04:00:00+08:00"};
    for (size_t i = 0; i < HF_ARRAY_LEN(times); i++) {
        int64_t t = ts(times[i]);
        assert_true(window_contains(&alert, cal, t));
        assert_int_equal(window_next_open(&alert, cal, t), t);
        assert_true(window_span_end(&alert, cal, t) == INT64_MAX);
    }
}

static void test_empty_window_never_opens(void **state)
{
    (void)state;
    struct window_def none;
    memset(&none, 0, sizeof none);
    int64_t t = ts("2026-11-24T10:30:00+08:00");
    assert_false(window_contains(&none, cal, t));
    assert_int_equal(window_next_open(&none, cal, t), -1);
    assert_int_equal(window_span_end(&none, cal, t), -1);
    assert_int_equal(window_next_open(NULL, cal, t), -1);
}

static void test_out_of_range_instants(void **state)
{
    (void)state;
    /* no overflow (UBSan would trap) and no false answers */
    assert_int_equal(window_next_open(&notice, cal, INT64_MAX), -1);
    assert_int_equal(window_next_open(&survey, cal, INT64_MAX - 1000), -1);
    assert_false(window_contains(&notice, cal, INT64_MAX));
    assert_int_equal(window_span_end(&notice, cal, INT64_MAX), -1);
    assert_int_equal(window_next_open(&alert, cal, INT64_MAX), INT64_MAX);
}

/* ---- span ends ------------------------------------------------------------ */

static void test_span_end(void **state)
{
    (void)state;
    char got[32];
    fmt(window_span_end(&survey, cal, ts("2026-11-24T10:45:00+08:00")), got);
    assert_string_equal(got, "2026-11-24T11:40:00+08:00");
    fmt(window_span_end(&survey, cal, ts("2026-11-24T15:00:00+08:00")), got);
    assert_string_equal(got, "2026-11-24T18:00:00+08:00");
    fmt(window_span_end(&notice, cal, ts("2026-10-01T20:00:00+08:00")), got);
    assert_string_equal(got, "2026-10-01T21:00:00+08:00");
    assert_int_equal(window_span_end(&survey, cal, ts("2026-11-24T11:40:00+08:00")), -1);
    assert_int_equal(window_span_end(&survey, cal, ts("2026-10-01T10:45:00+08:00")), -1);

    struct window_def late;
    memset(&late, 0, sizeof late);
    add(&late, "22:00-24:00");
    fmt(window_span_end(&late, cal, ts("2026-11-24T23:59:00+08:00")), got);
    assert_string_equal(got, "2026-11-25T00:00:00+08:00");
    assert_false(window_contains(&late, cal, ts("2026-11-25T00:00:00+08:00")));
}

/* ---- parsing and building -------------------------------------------------- */

static void test_parse_span(void **state)
{
    (void)state;
    int a = -7, b = -7;
    assert_int_equal(window_parse_span("10:30-11:40", &a, &b), 0);
    assert_int_equal(a, 630);
    assert_int_equal(b, 700);
    assert_int_equal(window_parse_span("00:00-24:00", &a, &b), 0);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1440);
    assert_int_equal(window_parse_span("23:59-24:00", &a, &b), 0);

    a = b = -7;
    const char *bad[] = {"11:40-10:30", "25:00-26:00", "10:3-11:00", "abc",
                         "10:30-10:30", "24:00-24:00", "10:30-24:01", "10:60-11:00",
                         "10:30-11:40 ", " 10:30-11:40", "10:30~11:40", "10.30-11.40",
                         "", "10:30-", "1030-1140", "+1:30-11:40"};
    for (size_t i = 0; i < HF_ARRAY_LEN(bad); i++)
        if (window_parse_span(bad[i], &a, &b) != -1)
            fail_msg("window_parse_span accepted \"%s\"", bad[i]);
    assert_int_equal(window_parse_span(NULL, &a, &b), -1);
    assert_int_equal(a, -7); /* untouched on error */
    assert_int_equal(b, -7);
}

static void test_add_span(void **state)
{
    (void)state;
    struct window_def w;
    memset(&w, 0, sizeof w);
    assert_int_equal(window_add_span(&w, 900, 1080), 0);
    assert_int_equal(window_add_span(&w, 630, 700), 0);
    assert_int_equal(window_add_span(&w, 700, 720), 0);   /* touches: allowed */
    assert_int_equal(window_add_span(&w, 650, 660), -1);  /* inside another */
    assert_int_equal(window_add_span(&w, 600, 631), -1);  /* overlaps start */
    assert_int_equal(window_add_span(&w, 1079, 1100), -1); /* overlaps end */
    assert_int_equal(window_add_span(&w, 500, 1200), -1); /* covers others */
    assert_int_equal(window_add_span(&w, 700, 700), -1);  /* empty */
    assert_int_equal(window_add_span(&w, -1, 10), -1);
    assert_int_equal(window_add_span(&w, 1400, 1441), -1);
    assert_int_equal(window_add_span(NULL, 0, 10), -1);
    assert_int_equal(w.nspans, 3);
    int want[][2] = {{630, 700}, {700, 720}, {900, 1080}};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(w.spans[i].start_min, want[i][0]);
        assert_int_equal(w.spans[i].end_min, want[i][1]);
    }
    /* fill up to WINDOW_MAX_SPANS, then refuse */
    for (int i = 0; w.nspans < WINDOW_MAX_SPANS; i++)
        assert_int_equal(window_add_span(&w, 1200 + i * 10, 1205 + i * 10), 0);
    assert_int_equal(window_add_span(&w, 0, 10), -1);
    for (int i = 1; i < w.nspans; i++)
        assert_true(w.spans[i - 1].end_min <= w.spans[i].start_min);
}

/* ---- local days -------------------------------------------------------------- */

static void test_local_day_start(void **state)
{
    (void)state;
    char got[32];
    int64_t t = ts("2026-11-24T23:30:00+08:00");
    fmt(local_day_start(t, 1), got);
    assert_string_equal(got, "2026-11-25T00:00:00+08:00");
    assert_int_equal(local_day_start(t, 1), ts("2026-11-25T00:00:00+08:00"));
    fmt(local_day_start(t, 0), got);
    assert_string_equal(got, "2026-11-24T00:00:00+08:00");
    fmt(local_day_start(t, -24), got);
    assert_string_equal(got, "2026-10-31T00:00:00+08:00");
    fmt(local_day_start(t, 38), got);
    assert_string_equal(got, "2027-01-01T00:00:00+08:00");
}

static void test_parse_list(void **state)
{
    (void)state;
    struct window_def w = {0};
    assert_int_equal(window_parse_list("19:00-20:30", &w), 0);
    assert_int_equal(w.nspans, 1);
    assert_int_equal(w.spans[0].start_min, 19 * 60);
    assert_int_equal(w.spans[0].end_min, 20 * 60 + 30);
    assert_int_equal(window_parse_list("15:00-17:00,09:00-10:00", &w), 0);
    assert_int_equal(w.nspans, 2);
    assert_int_equal(w.spans[0].start_min, 9 * 60); /* sorted */
    static const char *const bad[] = {"", "19:00", "19:00-20:00,", ",19:00-20:00",
                                      "19:00-20:00,19:30-21:00", "20:00-19:00",
                                      "19:00-20:00 ", "9:00-10:00", "19:00-20:00;21:00-22:00"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct window_def keep = w;
        if (window_parse_list(bad[i], &w) == 0)
            fail_msg("'%s' parsed", bad[i]);
        assert_memory_equal(&keep, &w, sizeof w); /* untouched */
    }
}

static void test_local_date_start(void **state)
{
    (void)state;
    assert_int_equal(local_date_start(2026, 11, 24), ts("2026-11-24T00:00:00+08:00"));
    assert_int_equal(local_date_start(2024, 2, 29), ts("2024-02-29T00:00:00+08:00"));
    assert_int_equal(local_date_start(2027, 1, 1), ts("2027-01-01T00:00:00+08:00"));
    assert_int_equal(local_date_start(2000, 3, 1), ts("2000-03-01T00:00:00+08:00"));
    /* the round trip with local_date over five years of days */
    for (int64_t t = ts("2026-01-01T12:00:00+08:00"); t < ts("2031-01-01T00:00:00+08:00");
         t += 86400) {
        int y, m, d;
        local_date(t, &y, &m, &d);
        assert_int_equal(local_date_start(y, m, d), local_day_start(t, 0));
    }
}

static void test_local_date(void **state)
{
    (void)state;
    int y, m, d;
    local_date(ts("2026-11-24T16:30:00Z"), &y, &m, &d); /* 00:30 on the 25th in Shanghai */
    assert_int_equal(y, 2026);
    assert_int_equal(m, 11);
    assert_int_equal(d, 25);
    local_date(ts("2026-12-31T15:59:59Z"), &y, &m, &d);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
}

/* ---- zones with daylight saving time --------------------------------------- */

static void test_dst_new_york_notice_across_spring_forward(void **state)
{
    (void)state;
    assert_int_equal(tz_set("America/New_York"), 0);
    /* DST starts Sunday 2026-03-08 at 02:00 EST -> 03:00 EDT */
    expect_next(&notice, NULL, "2026-03-07T22:00:00-05:00", "2026-03-08T08:00:00-04:00");
    expect_next(&notice, NULL, "2026-03-08T01:30:00-05:00", "2026-03-08T08:00:00-04:00");
    expect_next(&notice, NULL, "2026-03-08T21:00:00-04:00", "2026-03-09T08:00:00-04:00");
    /* and surveys (no calendar: Mon-Fri) across the same weekend */
    expect_next(&survey, NULL, "2026-03-06T19:00:00-05:00", "2026-03-09T10:30:00-04:00");
    /* the day is 23 hours long */
    int64_t noon = ts("2026-03-08T12:00:00-04:00");
    char got[32];
    fmt(local_day_start(noon, 0), got);
    assert_string_equal(got, "2026-03-08T00:00:00-05:00");
    assert_int_equal(local_day_start(noon, 1) - local_day_start(noon, 0), 23 * 3600);
}

static void test_dst_opening_in_gap_moves_forward(void **state)
{
    (void)state;
    assert_int_equal(tz_set("America/New_York"), 0);
    struct window_def w;
    memset(&w, 0, sizeof w);
    add(&w, "02:30-04:00");
    /* 02:30 does not exist on 2026-03-08: the window opens at 03:00 EDT */
    expect_next(&w, NULL, "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00");
    assert_false(window_contains(&w, NULL, ts("2026-03-08T01:59:59-05:00")));
    assert_true(window_contains(&w, NULL, ts("2026-03-08T03:00:00-04:00")));
    char got[32];
    fmt(window_span_end(&w, NULL, ts("2026-03-08T03:00:00-04:00")), got);
    assert_string_equal(got, "2026-03-08T04:00:00-04:00");
    /* a span entirely inside the gap does not open that day at all */
    struct window_def g;
    memset(&g, 0, sizeof g);
    add(&g, "02:10-02:50");
    expect_next(&g, NULL, "2026-03-08T00:00:00-05:00", "2026-03-09T02:10:00-04:00");
    /* a span across the gap ends when the wall clock passes its end */
    struct window_def x;
    memset(&x, 0, sizeof x);
    add(&x, "01:00-02:30");
    fmt(window_span_end(&x, NULL, ts("2026-03-08T01:30:00-05:00")), got);
    assert_string_equal(got, "2026-03-08T03:00:00-04:00");
}

static void test_dst_fall_back_repeated_hour(void **state)
{
    (void)state;
    assert_int_equal(tz_set("America/New_York"), 0);
    /* DST ends Sunday 2026-11-01 at 02:00 EDT -> 01:00 EST */
    struct window_def w;
    memset(&w, 0, sizeof w);
    add(&w, "01:00-01:30");
    expect_next(&w, NULL, "2026-11-01T00:30:00-04:00", "2026-11-01T01:00:00-04:00");
    /* after the first 01:00-01:30 the wall clock shows it a second time */
    expect_next(&w, NULL, "2026-11-01T01:45:00-04:00", "2026-11-01T01:00:00-05:00");
    char got[32];
    fmt(window_span_end(&w, NULL, ts("2026-11-01T01:10:00-05:00")), got);
    assert_string_equal(got, "2026-11-01T01:30:00-05:00");
    /* a span across the fold lasts until its end on the second pass */
    struct window_def x;
    memset(&x, 0, sizeof x);
    add(&x, "00:30-01:30");
    fmt(window_span_end(&x, NULL, ts("2026-11-01T00:45:00-04:00")), got);
    assert_string_equal(got, "2026-11-01T01:30:00-04:00");
    /* the day is 25 hours long */
    int64_t noon = ts("2026-11-01T12:00:00-05:00");
    assert_int_equal(local_day_start(noon, 1) - local_day_start(noon, 0), 25 * 3600);
    expect_next(&notice, NULL, "2026-10-31T23:00:00-04:00", "2026-11-01T08:00:00-05:00");
}

static void test_dst_midnight_does_not_exist(void **state)
{
    (void)state;
    /* Havana springs forward at 00:00 -> 01:00 on 2026-03-08 */
    assert_int_equal(tz_set("America/Havana"), 0);
    char got[32];
    fmt(local_day_start(ts("2026-03-08T12:00:00-04:00"), 0), got);
    assert_string_equal(got, "2026-03-08T01:00:00-04:00");
    fmt(local_day_start(ts("2026-03-07T12:00:00-05:00"), 1), got);
    assert_string_equal(got, "2026-03-08T01:00:00-04:00");
    /* and falls back at 01:00 -> 00:00 on 2026-11-01: the first midnight */
    fmt(local_day_start(ts("2026-11-01T12:00:00-05:00"), 0), got);
    assert_string_equal(got, "2026-11-01T00:00:00-04:00");
    struct window_def w;
    memset(&w, 0, sizeof w);
    add(&w, "00:00-00:30");
    expect_next(&w, NULL, "2026-03-07T23:00:00-05:00", "2026-03-09T00:00:00-04:00");
}

/*
 * Cross-check next_open and span_end against a minute-by-minute walk over
 * window_contains (fine in a test, never in the daemon), for start times
 * spread over both DST changes in New York and over Golden Week in
 * Shanghai. The walk starts at the first whole minute after t; every
 * opening and offset change is on a whole minute in these zones.
 */
static void brute_check(const struct window_def *w, const struct calendar *c, int64_t from,
                        int64_t to, int64_t step)
{
    for (int64_t t = from; t < to; t += step) {
        int64_t want;
        if (window_contains(w, c, t)) {
            want = t;
        } else {
            want = -1;
            for (int64_t u = (t / 60 + 1) * 60; u < t + 10 * 86400; u += 60) {
                if (window_contains(w, c, u)) {
                    want = u;
                    break;
                }
            }
        }
        int64_t got = window_next_open(w, c, t);
        if (got != want) {
            char a[32], b[32], e[32];
            fmt(t, a);
            fmt(got, b);
            fmt(want, e);
            fail_msg("next_open(%s) = %s, walk says %s", a, b, e);
        }
        if (want < 0)
            continue;
        /* first whole minute after @want outside the window (spans in
         * these checks never touch, so that is also the span's end) */
        int64_t end = window_span_end(w, c, want), wend = want + 60;
        while (window_contains(w, c, wend))
            wend += 60;
        wend = wend / 60 * 60;
        if (end != wend) {
            char a[32], b[32], e[32];
            fmt(want, a);
            fmt(end, b);
            fmt(wend, e);
            fail_msg("span_end(%s) = %s, walk says %s", a, b, e);
        }
    }
}

static void test_dst_matches_minute_walk(void **state)
{
    (void)state;
    struct window_def night, fold;
    memset(&night, 0, sizeof night);
    memset(&fold, 0, sizeof fold);
    add(&night, "00:00-00:40");
    add(&night, "01:20-02:40");
    add(&night, "23:00-23:50");
    add(&fold, "01:10-01:50");

    assert_int_equal(tz_set("America/New_York"), 0);
    int64_t step = 97 * 60 + 13;
    brute_check(&notice, NULL, ts("2026-03-06T00:00:00-05:00"), ts("2026-03-10T00:00:00-04:00"), step);
    brute_check(&survey, NULL, ts("2026-03-06T00:00:00-05:00"), ts("2026-03-10T00:00:00-04:00"), step);
    brute_check(&night, NULL, ts("2026-03-07T00:00:00-05:00"), ts("2026-03-09T00:00:00-04:00"), 1111);
    brute_check(&night, NULL, ts("2026-10-31T00:00:00-04:00"), ts("2026-11-02T00:00:00-05:00"), 1111);
    brute_check(&fold, NULL, ts("2026-10-31T00:00:00-04:00"), ts("2026-11-02T00:00:00-05:00"), 1111);

    assert_int_equal(tz_set("Asia/Shanghai"), 0);
    brute_check(&survey, cal, ts("2026-09-24T00:00:00+08:00"), ts("2026-10-12T00:00:00+08:00"),
                step);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, reset_tz, reset_tz)
    const struct CMUnitTest tests[] = {
        T(test_survey_spans_sorted),
        T(test_survey_friday_evening_moves_to_monday),
        T(test_survey_national_day_moves_to_oct_8),
        T(test_survey_makeup_sunday_sep_20),
        T(test_survey_makeup_saturday_oct_10),
        T(test_survey_between_and_at_span_edges),
        T(test_survey_spring_festival),
        T(test_survey_uncovered_2027_falls_back_to_weekends),
        T(test_survey_without_calendar_uses_weekdays),
        T(test_notice_night_moves_to_morning),
        T(test_notice_allowed_on_holidays_and_weekends),
        T(test_alert_never_moves),
        T(test_empty_window_never_opens),
        T(test_out_of_range_instants),
        T(test_span_end),
        T(test_parse_span),
        T(test_add_span),
        T(test_local_day_start),
        T(test_local_date_start),
        T(test_parse_list),
        T(test_local_date),
        T(test_dst_new_york_notice_across_spring_forward),
        T(test_dst_opening_in_gap_moves_forward),
        T(test_dst_fall_back_repeated_hour),
        T(test_dst_midnight_does_not_exist),
        T(test_dst_matches_minute_walk),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
