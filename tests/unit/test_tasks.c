/*
 * test_tasks.c - the staff-task clocks (tasks.c and the store's tasks
 * block): a refund_request trigger stored by intake_store() opens the
 * seed's tasks with their due times; marking a task done starts the tasks
 * waiting for it; the cron's selection gives each task one reminder
 * (inside its reminder span) and one escalation (once overdue), never for
 * a done task; tasks_done() answers 200/400/404/409.
 *
 * Real catalogue, calendar and SQLite store in a temporary directory; a
 * struct gateway filled by hand (no loop, no dispatcher). tasks_cron()
 * reads the real clock, so those tests place the trigger relative to it.
 * Run from the repository root.
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

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "calendar.h"
#include "catalogue.h"
#include "config.h"
#include "gateway.h"
#include "intake.h"
#include "log.h"
#include "store.h"
#include "tasks.h"
#include "util.h"
#include "windows.h"

#define HOUR 3600LL
#define DAY 86400LL

static struct calendar *cal;
static struct catalogue *cat;
static struct config *cfg;
static struct gateway gw;
static char tmpdir[64];
static char dbpath[128];

/* The seed's deadlines in seconds (seed 002 退单、退定金流程). */
static const struct {
    const char *task, *role;
    int64_t due_s;
    const char *after;
} seed[] = {
    {"contact", "cs_manager", 2 * HOUR, NULL},
    {"handling_plan", "cs_manager", 48 * HOUR, NULL},
    {"site_verification", "supervisor", 48 * HOUR, NULL},
    {"paperwork", "cs_manager", 5 * DAY, NULL},
    {"refund_collected", "cs_manager", 7 * DAY, NULL},
    {"private_check_1", "supervisor", 15 * DAY, "paperwork"},
    {"private_check_2", "supervisor", 40 * DAY, "paperwork"},
};
#define NSEED (sizeof seed / sizeof seed[0])

static int add_span(struct window_def *w, const char *span)
{
    int a, b;
    return window_parse_span(span, &a, &b) || window_add_span(w, a, b) ? -1 : 0;
}

static int group_setup(void **state)
{
    (void)state;
    char err[512] = "";
    log_min_level = LOG_LVL_ERR;
    if (tz_set("Asia/Shanghai") != 0)
        return -1;
    cal = calendar_load("config/holidays-cn.json", err, sizeof err);
    cat = cal ? catalogue_load("config/milestones.json", "templates", err, sizeof err) : NULL;
    if (!cat) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    catalogue_free(cat);
    calendar_free(cal);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    cfg = xcalloc(1, sizeof *cfg);
    if (add_span(&cfg->win_survey, "10:30-11:40") || add_span(&cfg->win_survey, "15:00-18:00") ||
        add_span(&cfg->win_notice, "08:00-21:00"))
        return -1;
    cfg->win_survey.workdays_only = 1;
    cfg->survey_validity_ms = 7 * DAY * 1000;
    cfg->notice_ttl_ms = 2 * DAY * 1000;
    cfg->webhook_enabled = 1;
    cfg->webhook_url = xstrdup("http://127.0.0.1:9/hook");
    cfg->cs_manager_name = xstrdup("刘芳");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hf_test_tasks_XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/huifang.db", tmpdir);
    char err[256] = "";
    memset(&gw, 0, sizeof gw);
    gw.cfg = cfg;
    gw.cal = cal;
    gw.cat = cat;
    gw.store = store_open(dbpath, 0, err, sizeof err);
    if (!gw.store) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(gw.store);
    gw.store = NULL;
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < HF_ARRAY_LEN(suffixes); i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", dbpath, suffixes[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    free(cfg->webhook_url);
    free(cfg->cs_manager_name);
    free(cfg);
    cfg = NULL;
    return 0;
}

/* Store a refund_request that occurred at @occurred, received at @now;
 * returns the 202 answer parsed (caller deletes). */
static cJSON *store_refund(const char *key, int64_t occurred, int64_t now)
{
    char iso[32], body[1024];
    iso8601_format_local(occurred, iso);
    snprintf(body, sizeof body,
             "{\"idempotency_key\":\"%s\",\"milestone\":\"refund_request\","
             "\"occurred_at\":\"%s\",\"project\":{\"id\":\"P-9\",\"address\":\"杭州市西湖区1号\","
             "\"staff\":{\"supervisor\":{\"name\":\"赵敏\",\"phone\":\"13900004444\"}}},"
             "\"customer\":{\"id\":\"C-9\",\"name\":\"王\",\"mobile\":\"13812345678\"},"
             "\"variables\":{\"reason\":\"不想装了\",\"kind\":\"退定金\"}}",
             key, iso);
    struct intake_trigger t;
    struct api_error e;
    if (intake_validate(cfg, cat, cal, body, strlen(body), now, &t, &e) != 0)
        fail_msg("refund trigger refused: %s %s", e.field, e.message);
    int status = 0;
    char *resp = NULL;
    assert_int_equal(store_begin(gw.store), HF_OK);
    intake_store(gw.store, &t, "erp", now, &status, &resp);
    assert_int_equal(store_commit(gw.store), HF_OK);
    intake_trigger_cleanup(&t);
    assert_int_equal(status, 202);
    cJSON *doc = cJSON_Parse(resp);
    free(resp);
    assert_non_null(doc);
    return doc;
}

/* The id of task @name in a 202 answer. */
static int64_t task_id(const cJSON *resp, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(resp, "tasks")) {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(t, "task")->valuestring, name) == 0)
            return (int64_t)cJSON_GetObjectItemCaseSensitive(t, "id")->valuedouble;
    }
    fail_msg("no task %s in the answer", name);
    return -1;
}

struct seen {
    int n;
    char tasks[16][64];
};

static void collect(void *arg, const struct task_row *t)
{
    struct seen *s = arg;
    if (s->n < 16)
        snprintf(s->tasks[s->n++], sizeof s->tasks[0], "%s", t->task);
}

/* The tasks the cron would remind (@overdue 0) or escalate (1) at @now,
 * as "a,b,c". */
static const char *due_list(int64_t now, int overdue, char *out, size_t n)
{
    struct seen s = {0};
    assert_true(store_tasks_alerts_due(gw.store, now, overdue, collect, &s) >= 0);
    out[0] = '\0';
    for (int i = 0; i < s.n; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", s.tasks[i]);
    return out;
}

/* ---- tests ------------------------------------------------------------------ */

/* The trigger opens every task of the seed, with its role and due time
 * counted from occurred_at; the checks wait for the paperwork. */
static void test_trigger_opens_seed_tasks(void **state)
{
    (void)state;
    int64_t t0 = 1795503600; /* 2026-11-24 15:00 +08:00 */
    cJSON *resp = store_refund("r-1", t0, t0 + 300);
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(resp, "tasks");
    assert_int_equal(cJSON_GetArraySize(tasks), NSEED);
    for (size_t i = 0; i < NSEED; i++) {
        const cJSON *t = cJSON_GetArrayItem(tasks, (int)i);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "task")->valuestring,
                            seed[i].task);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "to")->valuestring, seed[i].role);
        struct task_row r;
        assert_int_equal(store_task_get(gw.store, task_id(resp, seed[i].task), &r), HF_OK);
        assert_string_equal(r.role, seed[i].role);
        const cJSON *due = cJSON_GetObjectItemCaseSensitive(t, "due_at");
        if (seed[i].after) {
            assert_true(cJSON_IsNull(due));
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "after")->valuestring,
                                seed[i].after);
            assert_int_equal(r.started_at, 0);
            assert_int_equal(r.due_at, 0);
        } else {
            char want[32];
            iso8601_format_local(t0 + seed[i].due_s, want);
            assert_string_equal(due->valuestring, want);
            assert_int_equal(r.started_at, t0);
            assert_int_equal(r.due_at, t0 + seed[i].due_s);
        }
    }
    cJSON_Delete(resp);
}

/* Done starts the tasks waiting for it, at the moment it was done. */
static void test_done_starts_waiting_tasks(void **state)
{
    (void)state;
    int64_t t0 = 1795503600;
    cJSON *resp = store_refund("r-2", t0, t0);
    int64_t paper = task_id(resp, "paperwork"), check = task_id(resp, "private_check_1");
    int64_t done_at = t0 + 3 * DAY + 7;
    int changed = -1;
    /* A waiting task cannot be done. */
    assert_int_equal(store_task_done(gw.store, check, "cs", "x", done_at, &changed), HF_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(store_task_done(gw.store, paper, "cs", NULL, done_at, &changed), HF_OK);
    assert_int_equal(changed, 1);
    struct task_row r;
    assert_int_equal(store_task_get(gw.store, paper, &r), HF_OK);
    assert_string_equal(r.task, "paperwork");
    assert_int_equal(store_tasks_start_after(gw.store, r.trigger_id, "paperwork", done_at), 2);
    assert_int_equal(store_task_get(gw.store, check, &r), HF_OK);
    assert_int_equal(r.started_at, done_at);
    assert_int_equal(r.due_at, done_at + 15 * DAY);
    assert_int_equal(store_task_get(gw.store, task_id(resp, "private_check_2"), &r), HF_OK);
    assert_int_equal(r.due_at, done_at + 40 * DAY);
    /* Once started, a later call starts nothing again (the clock stays). */
    assert_int_equal(store_tasks_start_after(gw.store, r.trigger_id, "paperwork", done_at + DAY),
                     0);
    assert_int_equal(store_task_get(gw.store, check, &r), HF_OK);
    assert_int_equal(r.due_at, done_at + 15 * DAY);
    /* Done twice: no change. */
    assert_int_equal(store_task_done(gw.store, paper, "cs", NULL, done_at + 5, &changed), HF_OK);
    assert_int_equal(changed, 0);
    cJSON_Delete(resp);
}

/* Which tasks need a reminder or an escalation as time goes by: the
 * reminder inside [due - remind, due), the escalation from due on; once
 * recorded, never again; a done task never. */
static void test_alert_selection(void **state)
{
    (void)state;
    int64_t t0 = 1795503600;
    cJSON *resp = store_refund("r-3", t0, t0);
    char buf[512];
    assert_string_equal(due_list(t0 + 89 * 60, 0, buf, sizeof buf), "");
    /* 2 h task: reminded from 30 minutes before. */
    assert_string_equal(due_list(t0 + 90 * 60, 0, buf, sizeof buf), "contact");
    assert_string_equal(due_list(t0 + 90 * 60, 1, buf, sizeof buf), "");
    assert_int_equal(store_task_alerted(gw.store, task_id(resp, "contact"), 0, 0), HF_OK);
    assert_string_equal(due_list(t0 + 100 * 60, 0, buf, sizeof buf), "");
    assert_string_equal(due_list(t0 + 2 * HOUR, 1, buf, sizeof buf), "contact");
    assert_int_equal(store_task_alerted(gw.store, task_id(resp, "contact"), 1, 0), HF_OK);
    assert_string_equal(due_list(t0 + 3 * HOUR, 1, buf, sizeof buf), "");
    /* 48 h tasks: reminded 12 h before; the done one is skipped. */
    int changed;
    assert_int_equal(store_task_done(gw.store, task_id(resp, "handling_plan"), "cs", NULL,
                                     t0 + HOUR, &changed), HF_OK);
    assert_string_equal(due_list(t0 + 36 * HOUR, 0, buf, sizeof buf), "site_verification");
    /* Seen only once overdue (the daemon was down): the escalation alone;
     * recording it settles the reminder too. */
    assert_string_equal(due_list(t0 + 50 * HOUR, 0, buf, sizeof buf), "");
    assert_string_equal(due_list(t0 + 50 * HOUR, 1, buf, sizeof buf), "site_verification");
    assert_int_equal(store_task_alerted(gw.store, task_id(resp, "site_verification"), 1, 0),
                     HF_OK);
    struct task_row r;
    assert_int_equal(store_task_get(gw.store, task_id(resp, "site_verification"), &r), HF_OK);
    assert_int_equal((r.reminded << 1) | r.escalated, 3);
    /* 5 and 7 day tasks: a day ahead. Waiting tasks have no clock at all. */
    assert_string_equal(due_list(t0 + 4 * DAY, 0, buf, sizeof buf), "paperwork");
    assert_string_equal(due_list(t0 + 6 * DAY, 0, buf, sizeof buf), "refund_collected");
    assert_string_equal(due_list(t0 + 60 * DAY, 1, buf, sizeof buf), "paperwork,refund_collected");
    cJSON_Delete(resp);
}

/* One cron pass plans an alert message per due task, to the right person,
 * and records it; a second pass plans nothing. */
static void test_cron_plans_each_alert_once(void **state)
{
    (void)state;
    int64_t now = clock_now();
    /* The trigger occurred 3 h ago: "contact" (2 h) is overdue, the 48 h
     * tasks are not due for reminding yet. */
    cJSON *resp = store_refund("r-4", now - 3 * HOUR, now - 3 * HOUR);
    assert_int_equal(tasks_cron(&gw), 1);
    assert_int_equal(tasks_cron(&gw), 0);
    struct task_row r;
    assert_int_equal(store_task_get(gw.store, task_id(resp, "contact"), &r), HF_OK);
    assert_int_equal(r.escalated, 1);
    char *json = NULL;
    int64_t mid = -1;
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT escalation_message_id FROM tasks WHERE id = ?",
                                        -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_int64(q, 1, r.id);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    mid = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    assert_true(mid > 0);
    assert_int_equal(store_message_json(gw.store, mid, &json), HF_OK);
    cJSON *m = cJSON_Parse(json);
    free(json);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "message")->valuestring,
                        "task_escalation");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "recipient")->valuestring,
                        "cs_manager");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "kind")->valuestring, "alert");
    cJSON_Delete(m);
    /* The message leads back to its task (for task.* in the template). */
    struct task_row back;
    assert_int_equal(store_task_by_message(gw.store, mid, &back), HF_OK);
    assert_int_equal(back.id, r.id);
    cJSON_Delete(resp);
}

/* The supervisor's reminder goes to the supervisor; a project without
 * one has the cs manager reminded instead. */
static void test_cron_reminder_goes_to_the_role(void **state)
{
    (void)state;
    int64_t now = clock_now();
    /* 37 h ago: the 48 h tasks are inside their 12 h reminder span; the
     * contact task long overdue. */
    cJSON *resp = store_refund("r-5", now - 37 * HOUR, now - 37 * HOUR);
    assert_int_equal(tasks_cron(&gw), 3); /* contact escalated; two reminders */
    static const struct {
        const char *task, *recipient;
    } want[] = {{"handling_plan", "cs_manager"}, {"site_verification", "supervisor"}};
    for (size_t i = 0; i < HF_ARRAY_LEN(want); i++) {
        sqlite3 *db;
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT m.recipient, m.message FROM tasks t JOIN "
                                            "messages m ON m.id = t.reminder_message_id "
                                            "WHERE t.id = ?",
                                            -1, &q, NULL),
                         SQLITE_OK);
        sqlite3_bind_int64(q, 1, task_id(resp, want[i].task));
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(q, 0), want[i].recipient);
        assert_string_equal((const char *)sqlite3_column_text(q, 1), "task_reminder");
        sqlite3_finalize(q);
        sqlite3_close(db);
    }
    cJSON_Delete(resp);
}

/* POST /v1/tasks/<id>/done's answers. */
static void test_tasks_done_answers(void **state)
{
    (void)state;
    int64_t now = clock_now();
    cJSON *resp = store_refund("r-6", now - HOUR, now - HOUR);
    char *json = NULL;
    assert_int_equal(tasks_done(&gw, 999999, "cs", "x", &json), 404);
    assert_non_null(strstr(json, "\"not_found\""));
    free(json);
    assert_int_equal(tasks_done(&gw, task_id(resp, "private_check_2"), "cs", "x", &json), 409);
    assert_non_null(strstr(json, "\"task_not_started\""));
    free(json);
    assert_int_equal(tasks_done(&gw, task_id(resp, "paperwork"), "cs", NULL, &json), 200);
    cJSON *t = cJSON_Parse(json);
    free(json);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "state")->valuestring, "done");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "done_by")->valuestring, "cs");
    cJSON_Delete(t);
    assert_int_equal(tasks_done(&gw, task_id(resp, "paperwork"), "cs", NULL, &json), 409);
    assert_non_null(strstr(json, "\"task_done\""));
    free(json);
    /* The checks need their finding. */
    assert_int_equal(tasks_done(&gw, task_id(resp, "private_check_2"), "cs", NULL, &json), 400);
    assert_non_null(strstr(json, "\"field\":\"note\""));
    free(json);
    assert_int_equal(tasks_done(&gw, task_id(resp, "private_check_2"), "cs", "未发现私单", &json),
                     200);
    free(json);
    cJSON_Delete(resp);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_trigger_opens_seed_tasks),
        T(test_done_starts_waiting_tasks),
        T(test_alert_selection),
        T(test_cron_plans_each_alert_once),
        T(test_cron_reminder_goes_to_the_role),
        T(test_tasks_done_answers),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
