/*
 * test_plan.c - planning a milestone's messages: channel choice, due times
 * moved into the send windows (real config/holidays-cn.json), expiry, and
 * the refusal to plan what no channel can reach.
 *
 * Uses the real catalogue (config/milestones.json + templates/) and the
 * fixture catalogue tests/fixtures/catalogue/valid.json (staff alerts,
 * delays, day_offset + delay). The config is built by hand with the
 * defaults of config.c: surveys 10:30-11:40 + 15:00-18:00 on working days,
 * notices 08:00-21:00, surveys valid 7 days, notices 2 days, only the
 * webhook channel enabled. Run from the repository root.
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

#include <cjson/cJSON.h>

#include "calendar.h"
#include "catalogue.h"
#include "config.h"
#include "plan.h"
#include "util.h"
#include "windows.h"

#define DAY (86400LL)

static struct calendar *cal;     /* the real holiday calendar */
static struct catalogue *real;   /* the real catalogue */
static struct catalogue *fx;     /* tests/fixtures/catalogue/valid.json */
static struct config *cfg;       /* built by hand, see make_config() */
static cJSON *customer;          /* a full customer object */
static cJSON *staff;             /* pm, designer, foreman, supervisor */

/* ---- helpers ----------------------------------------------------------- */

static int64_t ts(const char *iso)
{
    int64_t t = 0;
    if (iso8601_parse(iso, &t) != 0)
        fail_msg("bad timestamp in test: %s", iso);
    return t;
}

static void expect_time(int64_t got, const char *want, const char *what)
{
    char s[32];
    iso8601_format_local(got, s);
    if (strcmp(s, want) != 0)
        fail_msg("%s = %s, expected %s", what, s, want);
}

static int weekday_of(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return tm.tm_wday;
}

static int add_span(struct window_def *w, const char *span)
{
    int a, b;
    return window_parse_span(span, &a, &b) || window_add_span(w, a, b) ? -1 : 0;
}

static struct config *make_config(void)
{
    struct config *c = xcalloc(1, sizeof *c);
    if (add_span(&c->win_survey, "10:30-11:40") || add_span(&c->win_survey, "15:00-18:00") ||
        add_span(&c->win_notice, "08:00-21:00")) {
        free(c);
        return NULL;
    }
    c->win_survey.workdays_only = 1;
    c->survey_validity_ms = 7 * DAY * 1000;
    c->notice_ttl_ms = 2 * DAY * 1000;
    c->webhook_enabled = 1;
    c->webhook_url = xstrdup("http://127.0.0.1:9/hook");
    return c;
}

static void free_config(struct config *c)
{
    if (!c)
        return;
    free(c->webhook_url);
    free(c);
}

static int group_setup(void **state)
{
    (void)state;
    char err[512] = "";
    if (tz_set("Asia/Shanghai") != 0)
        return -1;
    cal = calendar_load("config/holidays-cn.json", err, sizeof err);
    if (!cal) {
        fprintf(stderr, "calendar: %s\n", err);
        return -1;
    }
    real = catalogue_load("config/milestones.json", "templates", err, sizeof err);
    if (!real) {
        fprintf(stderr, "catalogue: %s\n", err);
        return -1;
    }
    fx = catalogue_load("tests/fixtures/catalogue/valid.json", "tests/fixtures/catalogue/templates",
                        err, sizeof err);
    if (!fx) {
        fprintf(stderr, "fixture catalogue: %s\n", err);
        return -1;
    }
    customer = cJSON_Parse("{\"id\":\"C-88\",\"name\":\"王建国\",\"title\":\"先生\","
                           "\"mobile\":\"13812345678\",\"wechat_openid\":\"oAbC123\","
                           "\"preferred_channel\":\"sms\"}");
    staff = cJSON_Parse("{\"pm\":{\"name\":\"李强\",\"phone\":\"13900001111\","
                        "\"wecom_id\":\"liqiang\"},"
                        "\"designer\":{\"name\":\"陈晓\",\"phone\":\"13900002222\"},"
                        "\"foreman\":{\"name\":\"张师傅\"},"
                        "\"supervisor\":{\"name\":\"赵敏\"}}");
    return customer && staff ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    cJSON_Delete(customer);
    cJSON_Delete(staff);
    catalogue_free(fx);
    catalogue_free(real);
    calendar_free(cal);
    return 0;
}

/* Each test gets a fresh config (some tests switch channels off). */
static int setup(void **state)
{
    (void)state;
    if (tz_set("Asia/Shanghai") != 0)
        return -1;
    cfg = make_config();
    return cfg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free_config(cfg);
    cfg = NULL;
    return 0;
}

static const struct milestone *ms(const struct catalogue *c, const char *id)
{
    const struct milestone *m = catalogue_find(c, id);
    if (!m)
        fail_msg("milestone %s missing", id);
    return m;
}

/* Plan @m for a trigger at @occurred, received at @now; must succeed with
 * @want messages. */
static int plan_ok(const struct milestone *m, const char *occurred, const char *now,
                   const cJSON *st, struct planned *out, int want)
{
    char err[256] = "";
    int n = plan_milestone(cfg, cal, m, ts(occurred), ts(now), customer, st, out,
                           PLAN_MAX_MESSAGES, err, sizeof err);
    if (n != want)
        fail_msg("plan_milestone(%s at %s) = %d (%s), expected %d", m->id, occurred, n, err, want);
    return n;
}

/* Plan @p must be message @id, going out through the webhook at @due and
 * expiring @ttl seconds later. */
static void expect_plan(const struct planned *p, const char *id, const char *due, int64_t ttl)
{
    assert_non_null(p->cm);
    assert_string_equal(p->cm->id, id);
    assert_non_null(p->channel);
    assert_string_equal(p->channel, "webhook");
    expect_time(p->due_at, due, id);
    assert_int_equal(p->expires_at - p->due_at, ttl);
}

/* Every planned message lies inside its window and not before @now. */
static void expect_all_in_window(const struct planned *p, int n, int64_t now)
{
    for (int i = 0; i < n; i++) {
        if (p[i].due_at < now)
            fail_msg("%s is due in the past", p[i].cm->id);
        if (!plan_window_contains(cfg, cal, p[i].cm->window, p[i].due_at))
            fail_msg("%s is due outside its %s window", p[i].cm->id,
                     window_class_name(p[i].cm->window));
    }
}

/* ---- schedules: messages no trigger of their own plans ------------------------ */

/* Plan @m's schedules; must succeed with @want messages. */
static int schedules_ok(const struct milestone *m, const char *occurred, const char *kickoff,
                        const char *now, struct planned *out, int want)
{
    char err[256] = "";
    int n = plan_schedules(cfg, cal, m, ts(occurred), kickoff, ts(now), customer, staff, out,
                           PLAN_MAX_MESSAGES, err, sizeof err);
    if (n != want)
        fail_msg("plan_schedules(%s) = %d (%s), expected %d", m->id, n, err, want);
    return n;
}

static void expect_scheduled(const struct planned *p, const char *milestone, int occurrence,
                             const char *due)
{
    assert_non_null(p->ms);
    assert_string_equal(p->ms->id, milestone);
    assert_int_equal(p->occurrence, occurrence);
    assert_string_equal(p->cm->id, "survey");
    assert_int_equal(p->cm->kind, KIND_SURVEY);
    expect_time(p->due_at, due, milestone);
    assert_int_equal(p->expires_at - p->due_at, 7 * DAY);
}

/* Seed 000: day 7 and day 15 after kickoff; seed 002: every 7 days until
 * completion (26 weeks at most), all in the survey window of working days. */
static void test_kickoff_schedules(void **state)
{
    (void)state;
    struct planned own[PLAN_MAX_MESSAGES], p[PLAN_MAX_MESSAGES];
    plan_ok(ms(real, "kickoff"), "2026-11-23T09:00:00+08:00", "2026-11-23T09:00:00+08:00",
            staff, own, 1);
    expect_plan(&own[0], "survey", "2026-11-23T10:30:00+08:00", 7 * DAY);
    assert_null(own[0].ms);
    int n = schedules_ok(ms(real, "kickoff"), "2026-11-23T09:00:00+08:00", "2026-11-23",
                         "2026-11-23T09:00:00+08:00", p, 28);
    expect_scheduled(&p[0], "construction_day7", 1, "2026-11-30T10:30:00+08:00");
    expect_scheduled(&p[1], "construction_day15", 1, "2026-12-08T10:30:00+08:00");
    expect_scheduled(&p[2], "weekly_checkin", 1, "2026-11-30T10:30:00+08:00");
    expect_scheduled(&p[3], "weekly_checkin", 2, "2026-12-07T10:30:00+08:00");
    expect_scheduled(&p[27], "weekly_checkin", 26, "2027-05-24T10:30:00+08:00");
    expect_all_in_window(p, n, ts("2026-11-23T09:00:00+08:00"));
    for (int i = 0; i < n; i++)
        assert_null(p[i].vars);
}

/* The days count from the project's kickoff date, not from when the
 * trigger was sent; a check-in that falls in the National Day holiday goes
 * on the first working day after it. */
static void test_kickoff_date_and_holiday(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    schedules_ok(ms(real, "kickoff"), "2026-09-01T18:00:00+08:00", "2026-09-03",
                 "2026-09-01T18:00:00+08:00", p, 28);
    expect_scheduled(&p[0], "construction_day7", 1, "2026-09-10T10:30:00+08:00");
    expect_scheduled(&p[1], "construction_day15", 1, "2026-09-18T10:30:00+08:00");
    /* day 28 = Thursday 1 October: the holiday runs to the 7th */
    expect_scheduled(&p[5], "weekly_checkin", 4, "2026-10-08T10:30:00+08:00");
}

/* A kickoff reported late: days already past are skipped (a schedule never
 * sends late), the rest keep their days. */
static void test_kickoff_late_trigger_skips_past_days(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    schedules_ok(ms(real, "kickoff"), "2026-11-24T10:00:00+08:00", "2026-11-01",
                 "2026-11-24T10:00:00+08:00", p, 23);
    /* day 7 (8th) and day 15 (16th) are gone, as are check-ins 1-3 */
    expect_scheduled(&p[0], "weekly_checkin", 4, "2026-11-30T10:30:00+08:00");
    expect_scheduled(&p[22], "weekly_checkin", 26, "2027-05-03T10:30:00+08:00");
}

/* Without a kickoff date the days count from the trigger's day. */
static void test_kickoff_without_date(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    schedules_ok(ms(real, "kickoff"), "2026-11-23T09:00:00+08:00", NULL,
                 "2026-11-23T09:00:00+08:00", p, 28);
    expect_scheduled(&p[0], "construction_day7", 1, "2026-11-30T10:30:00+08:00");
}

/* Completion plans the warranty follow-ups: the whole works for two years,
 * plumbing and wiring for five (seed 002 保质期), each with its scope. */
static void test_completion_warranty(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    int n = schedules_ok(ms(real, "completion"), "2026-11-24T10:00:00+08:00", "2026-08-01",
                         "2026-11-24T10:00:00+08:00", p, 7);
    expect_scheduled(&p[0], "warranty_followup", 1, "2026-12-24T10:30:00+08:00");
    assert_string_equal(p[0].vars, "{\"scope\":\"整体装修\"}");
    expect_scheduled(&p[3], "warranty_followup", 4, "2028-11-23T10:30:00+08:00");
    expect_scheduled(&p[4], "warranty_followup", 1, "2029-11-23T10:30:00+08:00");
    assert_string_equal(p[4].vars, "{\"scope\":\"水电工程\"}");
    expect_time(p[6].due_at, "2031-11-24T10:30:00+08:00", "5 years");
    expect_all_in_window(p, n, ts("2026-11-24T10:00:00+08:00"));
    const struct milestone *c = ms(real, "completion");
    assert_int_equal(c->nends, 3);
    assert_string_equal(c->ends[0], "weekly_checkin");
}

/* Milestones without schedules plan nothing more. */
static void test_no_schedules(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    schedules_ok(ms(real, "material_inspection"), "2026-11-24T10:00:00+08:00", NULL,
                 "2026-11-24T10:00:00+08:00", p, 0);
}

/* ---- material_inspection ---------------------------------------------------- */

static void test_material_tuesday_afternoon(void **state)
{
    (void)state;
    assert_int_equal(weekday_of(ts("2026-11-24T14:00:00+08:00")), 2);
    struct planned p[PLAN_MAX_MESSAGES];
    plan_ok(ms(real, "material_inspection"), "2026-11-24T14:00:00+08:00",
            "2026-11-24T14:00:00+08:00", staff, p, 2);
    expect_plan(&p[0], "notice", "2026-11-24T14:00:00+08:00", 2 * DAY);
    expect_plan(&p[1], "survey", "2026-11-24T15:00:00+08:00", 7 * DAY);
    expect_time(p[0].expires_at, "2026-11-26T14:00:00+08:00", "notice expiry");
    expect_time(p[1].expires_at, "2026-12-01T15:00:00+08:00", "survey expiry");
}

static void test_material_friday_evening(void **state)
{
    (void)state;
    assert_int_equal(weekday_of(ts("2026-11-27T19:00:00+08:00")), 5);
    struct planned p[PLAN_MAX_MESSAGES];
    plan_ok(ms(real, "material_inspection"), "2026-11-27T19:00:00+08:00",
            "2026-11-27T19:00:00+08:00", staff, p, 2);
    expect_plan(&p[0], "notice", "2026-11-27T19:00:00+08:00", 2 * DAY);
    expect_plan(&p[1], "survey", "2026-11-30T10:30:00+08:00", 7 * DAY);
}

static void test_material_late_evening_notice_next_morning(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    plan_ok(ms(real, "material_inspection"), "2026-11-24T22:00:00+08:00",
            "2026-11-24T22:00:00+08:00", staff, p, 2);
    expect_plan(&p[0], "notice", "2026-11-25T08:00:00+08:00", 2 * DAY);
    expect_plan(&p[1], "survey", "2026-11-25T10:30:00+08:00", 7 * DAY);
}

static void test_notice_window_edges(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    /* 21:00 is the end of the notice window (exclusive). */
    plan_ok(ms(real, "hidden_works_acceptance"), "2026-11-24T21:00:00+08:00",
            "2026-11-24T21:00:00+08:00", staff, p, 2);
    expect_plan(&p[0], "notice", "2026-11-25T08:00:00+08:00", 2 * DAY);
    /* 20:59:59 is still inside. */
    plan_ok(ms(real, "hidden_works_acceptance"), "2026-11-24T20:59:59+08:00",
            "2026-11-24T20:59:59+08:00", staff, p, 2);
    expect_plan(&p[0], "notice", "2026-11-24T20:59:59+08:00", 2 * DAY);
    /* Weekends are fine for notices, not for surveys. */
    plan_ok(ms(real, "hidden_works_acceptance"), "2026-11-28T09:15:00+08:00",
            "2026-11-28T09:15:00+08:00", staff, p, 2);
    expect_plan(&p[0], "notice", "2026-11-28T09:15:00+08:00", 2 * DAY);
    expect_plan(&p[1], "survey", "2026-11-30T10:30:00+08:00", 7 * DAY);
}

/* ---- completion across National Day --------------------------------------- */

static void test_completion_before_national_day(void **state)
{
    (void)state;
    assert_int_equal(weekday_of(ts("2026-09-30T16:00:00+08:00")), 3);
    struct planned p[PLAN_MAX_MESSAGES];
    plan_ok(ms(real, "completion"), "2026-09-30T16:00:00+08:00", "2026-09-30T16:00:00+08:00",
            staff, p, 3);
    expect_plan(&p[0], "notice", "2026-09-30T16:00:00+08:00", 2 * DAY);
    expect_plan(&p[1], "survey", "2026-09-30T16:00:00+08:00", 7 * DAY);
    /* day_offset 1 = from midnight of Oct 1; Oct 1-7 is the holiday. */
    expect_plan(&p[2], "rating_confirm", "2026-10-08T10:30:00+08:00", 7 * DAY);
    expect_time(p[2].expires_at, "2026-10-15T10:30:00+08:00", "rating_confirm expiry");
}

static void test_completion_rating_next_working_day(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    /* Tuesday afternoon: the confirmation goes Wednesday morning. */
    plan_ok(ms(real, "completion"), "2026-11-24T16:30:00+08:00", "2026-11-24T16:30:00+08:00",
            staff, p, 3);
    expect_plan(&p[1], "survey", "2026-11-24T16:30:00+08:00", 7 * DAY);
    expect_plan(&p[2], "rating_confirm", "2026-11-25T10:30:00+08:00", 7 * DAY);
}

/* ---- late triggers ------------------------------------------------------------ */

/* rating_confirm counts "the day after" from the completion survey, not
 * from the trigger: a Friday-evening completion must not put both surveys
 * on Monday morning (at most one survey a day). */
static void test_completion_friday_evening_rating_day_after_survey(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    plan_ok(ms(real, "completion"), "2026-11-27T19:00:00+08:00", "2026-11-27T19:00:00+08:00",
            staff, p, 3);
    expect_plan(&p[0], "notice", "2026-11-27T19:00:00+08:00", 2 * DAY);
    expect_plan(&p[1], "survey", "2026-11-30T10:30:00+08:00", 7 * DAY);
    expect_plan(&p[2], "rating_confirm", "2026-12-01T10:30:00+08:00", 7 * DAY);
}

static void test_past_trigger_plans_from_now(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    /* Occurred Saturday 10:00, reported Tuesday 14:00:37. */
    const char *now = "2026-11-24T14:00:37+08:00";
    plan_ok(ms(real, "material_inspection"), "2026-11-21T10:00:00+08:00", now, staff, p, 2);
    expect_plan(&p[0], "notice", now, 2 * DAY);
    expect_plan(&p[1], "survey", "2026-11-24T15:00:00+08:00", 7 * DAY);

    int n = plan_ok(ms(real, "completion"), "2026-11-21T10:00:00+08:00", now, staff, p, 3);
    expect_all_in_window(p, n, ts(now));
    expect_plan(&p[0], "notice", now, 2 * DAY);
    expect_plan(&p[1], "survey", "2026-11-24T15:00:00+08:00", 7 * DAY);
    assert_true(p[2].due_at >= ts(now));
}

static void test_future_trigger_plans_from_occurrence(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    /* Reported in advance (clock skew): the notice waits for the event. */
    plan_ok(ms(real, "material_inspection"), "2026-11-24T15:20:00+08:00",
            "2026-11-24T14:00:00+08:00", staff, p, 2);
    expect_plan(&p[0], "notice", "2026-11-24T15:20:00+08:00", 2 * DAY);
    expect_plan(&p[1], "survey", "2026-11-24T15:20:00+08:00", 7 * DAY);
}

/* ---- fixture: staff alerts, delays, day_offset + delay ------------------------ */

static void test_fixture_alert_delay_day_offset(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    /* Saturday 20:00. */
    const char *at = "2026-11-28T20:00:00+08:00";
    int n = plan_ok(ms(fx, "fx"), at, at, staff, p, 5);
    expect_all_in_window(p, n, ts(at));
    expect_plan(&p[0], "notice", at, 2 * DAY);
    expect_plan(&p[1], "survey", "2026-11-30T10:30:00+08:00", 7 * DAY);
    expect_plan(&p[2], "pm_alert", at, DAY); /* staff alerts: any time, 1 day */
    assert_int_equal(p[2].cm->to, RCPT_PM);
    /* +2h = 22:00, after the notice window: Sunday 08:00. */
    expect_plan(&p[3], "later", "2026-11-29T08:00:00+08:00", 2 * DAY);
    /* Sunday midnight + 10h. */
    expect_plan(&p[4], "next_morning", "2026-11-29T10:00:00+08:00", 2 * DAY);
}

static void test_fixture_alert_at_night_not_moved(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    const char *at = "2026-10-03T23:30:00+08:00"; /* a holiday night */
    plan_ok(ms(fx, "fx"), at, at, staff, p, 5);
    expect_plan(&p[2], "pm_alert", at, DAY);
    expect_plan(&p[0], "notice", "2026-10-04T08:00:00+08:00", 2 * DAY);
    expect_plan(&p[1], "survey", "2026-10-08T10:30:00+08:00", 7 * DAY);
}

static void test_fixture_alert_skipped_without_that_staff(void **state)
{
    (void)state;
    struct planned p[PLAN_MAX_MESSAGES];
    const char *at = "2026-11-24T14:00:00+08:00";
    cJSON *no_pm = cJSON_Parse("{\"designer\":{\"name\":\"陈晓\"}}");
    assert_non_null(no_pm);
    plan_ok(ms(fx, "fx"), at, at, no_pm, p, 4);
    for (int i = 0; i < 4; i++)
        assert_int_not_equal(p[i].cm->kind, KIND_ALERT);
    assert_string_equal(p[2].cm->id, "later");
    cJSON_Delete(no_pm);
    /* No staff object at all. */
    plan_ok(ms(fx, "fx"), at, at, NULL, p, 4);
    assert_string_equal(p[0].cm->id, "notice");
    assert_string_equal(p[1].cm->id, "survey");
    assert_string_equal(p[2].cm->id, "later");
    assert_string_equal(p[3].cm->id, "next_morning");
}

/* ---- windows by class ----------------------------------------------------------- */

static void test_window_classes(void **state)
{
    (void)state;
    int64_t sat_night = ts("2026-11-28T23:00:00+08:00");
    assert_true(plan_window_contains(cfg, cal, WINCLASS_ANY, sat_night));
    assert_false(plan_window_contains(cfg, cal, WINCLASS_NOTICE, sat_night));
    assert_false(plan_window_contains(cfg, cal, WINCLASS_SURVEY, sat_night));
    assert_int_equal(plan_window_next(cfg, cal, WINCLASS_ANY, sat_night), sat_night);
    expect_time(plan_window_next(cfg, cal, WINCLASS_NOTICE, sat_night),
                "2026-11-29T08:00:00+08:00", "notice next");
    expect_time(plan_window_next(cfg, cal, WINCLASS_SURVEY, sat_night),
                "2026-11-30T10:30:00+08:00", "survey next");
    /* Between the two survey spans on a working day. */
    int64_t noon = ts("2026-11-24T12:00:00+08:00");
    assert_true(plan_window_contains(cfg, cal, WINCLASS_NOTICE, noon));
    assert_false(plan_window_contains(cfg, cal, WINCLASS_SURVEY, noon));
    expect_time(plan_window_next(cfg, cal, WINCLASS_SURVEY, noon), "2026-11-24T15:00:00+08:00",
                "survey next");
}

/* ---- channels ---------------------------------------------------------------------- */

static void test_channel_webhook_only(void **state)
{
    (void)state;
    /* The customer prefers SMS and has an openid: neither adapter exists
     * yet, so the webhook takes everything. */
    assert_string_equal(plan_channel(cfg, RCPT_CUSTOMER, customer), "webhook");
    cJSON *wx = cJSON_Parse("{\"mobile\":\"13812345678\",\"preferred_channel\":\"wechat\"}");
    cJSON *bare = cJSON_Parse("{}");
    assert_string_equal(plan_channel(cfg, RCPT_CUSTOMER, wx), "webhook");
    assert_string_equal(plan_channel(cfg, RCPT_CUSTOMER, bare), "webhook");
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(staff, "pm");
    const cJSON *foreman = cJSON_GetObjectItemCaseSensitive(staff, "foreman");
    assert_string_equal(plan_channel(cfg, RCPT_PM, pm), "webhook");
    assert_string_equal(plan_channel(cfg, RCPT_FOREMAN, foreman), "webhook");
    cJSON_Delete(wx);
    cJSON_Delete(bare);

    struct planned p[PLAN_MAX_MESSAGES];
    int n = plan_ok(ms(fx, "fx"), "2026-11-24T14:00:00+08:00", "2026-11-24T14:00:00+08:00", staff,
                    p, 5);
    for (int i = 0; i < n; i++)
        assert_string_equal(p[i].channel, "webhook");
}

static void test_channel_webhook_disabled(void **state)
{
    (void)state;
    cfg->webhook_enabled = 0;
    assert_null(plan_channel(cfg, RCPT_CUSTOMER, customer));
    assert_null(plan_channel(cfg, RCPT_PM, cJSON_GetObjectItemCaseSensitive(staff, "pm")));

    struct planned p[PLAN_MAX_MESSAGES];
    char err[256] = "";
    int n = plan_milestone(cfg, cal, ms(real, "material_inspection"),
                           ts("2026-11-24T14:00:00+08:00"), ts("2026-11-24T14:00:00+08:00"),
                           customer, staff, p, PLAN_MAX_MESSAGES, err, sizeof err);
    assert_int_equal(n, -1);
    assert_string_equal(err, "no enabled channel can reach the customer for message 'notice'");
}

static void test_channel_webhook_without_url(void **state)
{
    (void)state;
    /* Enabled but no URL configured: not usable. */
    free(cfg->webhook_url);
    cfg->webhook_url = NULL;
    assert_null(plan_channel(cfg, RCPT_CUSTOMER, customer));
    struct planned p[PLAN_MAX_MESSAGES];
    char err[256] = "";
    assert_int_equal(plan_milestone(cfg, cal, ms(real, "completion"),
                                    ts("2026-11-24T14:00:00+08:00"),
                                    ts("2026-11-24T14:00:00+08:00"), customer, staff, p,
                                    PLAN_MAX_MESSAGES, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "customer"));
}

/* ---- the seed catalogue, table-driven ------------------------------------------ */

/* One trigger of a shipped milestone and what it must plan: every message
 * to the customer, through the webhook, due at @due (local time), valid for
 * the notice TTL (2 days) or the survey validity (7 days). */
struct seed_case {
    const char *milestone;
    const char *occurred;       /* = now: reported as it happens */
    const char *why;
    int n;
    struct {
        const char *id;
        enum msg_kind kind;
        const char *survey;     /* survey definition, NULL for notices */
        const char *due;
    } want[2];
};

static const struct seed_case seed_cases[] = {
    {"kickoff", "2026-11-24T14:00:00+08:00", "same-day survey, afternoon window", 1,
     {{"survey", KIND_SURVEY, "kickoff", "2026-11-24T15:00:00+08:00"}}},
    {"kickoff", "2026-11-24T11:00:00+08:00", "inside the morning window: at once", 1,
     {{"survey", KIND_SURVEY, "kickoff", "2026-11-24T11:00:00+08:00"}}},
    {"material_delivery_notice", "2026-11-24T22:30:00+08:00", "no notice at night", 1,
     {{"notice", KIND_NOTICE, NULL, "2026-11-25T08:00:00+08:00"}}},
    {"material_delivery_notice", "2026-11-28T19:00:00+08:00", "notices go on Saturdays", 1,
     {{"notice", KIND_NOTICE, NULL, "2026-11-28T19:00:00+08:00"}}},
    {"stage_acceptance", "2026-11-28T10:00:00+08:00", "Saturday acceptance: Monday survey", 1,
     {{"survey", KIND_SURVEY, "stage_acceptance", "2026-11-30T10:30:00+08:00"}}},
    {"stage_acceptance", "2026-11-24T17:59:00+08:00", "last minute of the window", 1,
     {{"survey", KIND_SURVEY, "stage_acceptance", "2026-11-24T17:59:00+08:00"}}},
    {"completion_appointment", "2026-11-29T09:00:00+08:00", "Sunday morning notice", 1,
     {{"notice", KIND_NOTICE, NULL, "2026-11-29T09:00:00+08:00"}}},
    {"settlement_invite", "2026-11-24T07:59:00+08:00", "before 08:00 waits", 1,
     {{"notice", KIND_NOTICE, NULL, "2026-11-24T08:00:00+08:00"}}},
    {"praise_received", "2026-11-24T18:30:00+08:00", "after the window: next morning", 1,
     {{"survey", KIND_SURVEY, "praise_verification", "2026-11-25T10:30:00+08:00"}}},
    {"repair_done", "2026-11-24T09:00:00+08:00", "the day after, not the same afternoon", 1,
     {{"survey", KIND_SURVEY, "repair_done", "2026-11-25T10:30:00+08:00"}}},
    {"repair_done", "2026-11-27T16:00:00+08:00", "Friday repair: Monday survey", 1,
     {{"survey", KIND_SURVEY, "repair_done", "2026-11-30T10:30:00+08:00"}}},
    {"repair_done", "2026-09-30T10:00:00+08:00", "National Day 10-01..07 skipped", 1,
     {{"survey", KIND_SURVEY, "repair_done", "2026-10-08T10:30:00+08:00"}}},
    {"repair_done", "2026-10-09T16:00:00+08:00", "make-up working day Saturday 10-10", 1,
     {{"survey", KIND_SURVEY, "repair_done", "2026-10-10T10:30:00+08:00"}}},
    {"visit_unsigned", "2026-11-29T15:00:00+08:00", "Sunday visit: Monday survey", 1,
     {{"survey", KIND_SURVEY, "visit_unsigned", "2026-11-30T10:30:00+08:00"}}},
    {"visit_unsigned", "2026-11-24T10:00:00+08:00", "the day after the visit", 1,
     {{"survey", KIND_SURVEY, "visit_unsigned", "2026-11-25T10:30:00+08:00"}}},
    {"design_ready", "2026-11-24T07:00:00+08:00", "design ready early: 08:00", 1,
     {{"notice", KIND_NOTICE, NULL, "2026-11-24T08:00:00+08:00"}}},
};

static void test_seed_catalogue_plans(void **state)
{
    (void)state;
    for (size_t i = 0; i < HF_ARRAY_LEN(seed_cases); i++) {
        const struct seed_case *c = &seed_cases[i];
        struct planned p[PLAN_MAX_MESSAGES];
        print_message("%s at %s: %s\n", c->milestone, c->occurred, c->why);
        int n = plan_ok(ms(real, c->milestone), c->occurred, c->occurred, staff, p, c->n);
        expect_all_in_window(p, n, ts(c->occurred));
        for (int k = 0; k < n; k++) {
            assert_int_equal(p[k].cm->kind, c->want[k].kind);
            assert_int_equal(p[k].cm->to, RCPT_CUSTOMER);
            if (c->want[k].survey)
                assert_string_equal(p[k].cm->survey, c->want[k].survey);
            else
                assert_null(p[k].cm->survey);
            expect_plan(&p[k], c->want[k].id, c->want[k].due,
                        c->want[k].kind == KIND_SURVEY ? 7 * DAY : 2 * DAY);
        }
    }
}

/* A repair survey is not held back by the one-survey-a-day rule (the
 * customer asked for the repair); the other seed surveys are. */
static void test_seed_fatigue_exemptions(void **state)
{
    (void)state;
    assert_true(ms(real, "repair_done")->msgs[0].fatigue_exempt);
    static const char *const held[] = {"kickoff", "stage_acceptance", "praise_received",
                                       "visit_unsigned"};
    for (size_t i = 0; i < HF_ARRAY_LEN(held); i++)
        assert_false(ms(real, held[i])->msgs[0].fatigue_exempt);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_material_tuesday_afternoon),
        T(test_seed_catalogue_plans),
        T(test_seed_fatigue_exemptions),
        T(test_material_friday_evening),
        T(test_material_late_evening_notice_next_morning),
        T(test_notice_window_edges),
        T(test_completion_before_national_day),
        T(test_completion_rating_next_working_day),
        T(test_completion_friday_evening_rating_day_after_survey),
        T(test_past_trigger_plans_from_now),
        T(test_future_trigger_plans_from_occurrence),
        T(test_fixture_alert_delay_day_offset),
        T(test_fixture_alert_at_night_not_moved),
        T(test_fixture_alert_skipped_without_that_staff),
        T(test_window_classes),
        T(test_channel_webhook_only),
        T(test_channel_webhook_disabled),
        T(test_channel_webhook_without_url),
        T(test_kickoff_schedules),
        T(test_kickoff_date_and_holiday),
        T(test_kickoff_late_trigger_skips_past_days),
        T(test_kickoff_without_date),
        T(test_completion_warranty),
        T(test_no_schedules),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
