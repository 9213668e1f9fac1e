/*
 * test_intake.c - POST /v1/triggers without HTTP: intake_validate() on JSON
 * bodies (every rejection is 400 naming the exact field), the error body
 * shape of http_error.c, and intake_store() against a real SQLite store in
 * a temporary directory (202 new, 200 replay, 409 conflict, upserts).
 *
 * Uses the real catalogue and calendar, plus the fixture catalogue
 * tests/fixtures/catalogue/valid.json for declared trigger variables.
 * Config built by hand (webhook the only channel). Run from the repository
 * root.
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
#include "http_error.h"
#include "intake.h"
#include "log.h"
#include "plan.h"
#include "store.h"
#include "util.h"
#include "windows.h"

#define DAY (86400LL)
#define NOW_ISO "2026-11-24T14:00:00+08:00" /* a Tuesday */

static struct calendar *cal;
static struct catalogue *real;
static struct catalogue *fx;
static struct config *cfg;
static int64_t now;

/* The store of the current test (store tests only). */
static char tmpdir[64];
static char dbpath[128];
static struct store *st;
static sqlite3 *peek; /* a second, read-only connection for row counts */

/* A trigger using every field the API accepts. */
static const char full_body[] =
    "{\"idempotency_key\":\"erp-2026-11-24-0001\","
    "\"milestone\":\"material_inspection\","
    "\"occurred_at\":\"2026-11-24T14:00:00+08:00\","
    "\"project\":{\"id\":\"P2026-0113\",\"address\":\"杭州市西湖区文三路88号3幢1201\","
    "\"kickoff_date\":\"2026-10-08\","
    "\"staff\":{\"pm\":{\"name\":\"李强\",\"phone\":\"+8613900001111\",\"wecom_id\":\"liqiang\"},"
    "\"designer\":{\"name\":\"陈晓\",\"phone\":\"13900002222\"},"
    "\"foreman\":{\"name\":\"张师傅\",\"phone\":\"8613900003333\"},"
    "\"supervisor\":{\"name\":\"赵敏\"}}},"
    "\"customer\":{\"id\":\"C-88\",\"name\":\"王建国\",\"title\":\"先生\","
    "\"mobile\":\"+8613812345678\",\"wechat_openid\":\"oAbC-123_x\","
    "\"preferred_channel\":\"wechat\"},"
    "\"variables\":{}}";

/* ---- helpers ----------------------------------------------------------- */

/* Heap strings a test owns, freed by teardown even when an assertion
 * longjmps out of the test (so a failing test leaks nothing under ASan). */
static void *owned[64];
static size_t nowned;

static char *own(char *p)
{
    if (nowned == HF_ARRAY_LEN(owned))
        fail_msg("test owns too many strings");
    owned[nowned++] = p;
    return p;
}

static void free_owned(void)
{
    while (nowned)
        free(owned[--nowned]);
}

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

static int add_span(struct window_def *w, const char *span)
{
    int a, b;
    return window_parse_span(span, &a, &b) || window_add_span(w, a, b) ? -1 : 0;
}

static int group_setup(void **state)
{
    (void)state;
    char err[512] = "";
    log_min_level = LOG_LVL_WARN; /* no "applied migration" line per store test */
    if (tz_set("Asia/Shanghai") != 0)
        return -1;
    now = ts(NOW_ISO);
    cal = calendar_load("config/holidays-cn.json", err, sizeof err);
    real = cal ? catalogue_load("config/milestones.json", "templates", err, sizeof err) : NULL;
    fx = real ? catalogue_load("tests/fixtures/catalogue/valid.json",
                               "tests/fixtures/catalogue/templates", err, sizeof err)
              : NULL;
    if (!fx) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    catalogue_free(fx);
    catalogue_free(real);
    calendar_free(cal);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (tz_set("Asia/Shanghai") != 0)
        return -1;
    cfg = xcalloc(1, sizeof *cfg);
    if (add_span(&cfg->win_survey, "10:30-11:40") || add_span(&cfg->win_survey, "15:00-18:00") ||
        add_span(&cfg->win_notice, "08:00-21:00"))
        return -1;
    cfg->win_survey.workdays_only = 1;
    cfg->survey_validity_ms = 7 * DAY * 1000;
    cfg->notice_ttl_ms = 2 * DAY * 1000;
    cfg->webhook_enabled = 1;
    cfg->webhook_url = xstrdup("http://127.0.0.1:9/hook");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free_owned();
    if (cfg)
        free(cfg->webhook_url);
    free(cfg);
    cfg = NULL;
    return 0;
}

static int store_setup(void **state)
{
    if (setup(state))
        return -1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hf_test_intake_XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/huifang.db", tmpdir);
    char err[256] = "";
    st = store_open(dbpath, 0, err, sizeof err);
    if (!st) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    if (sqlite3_open_v2(dbpath, &peek, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;
    return 0;
}

static int store_teardown(void **state)
{
    sqlite3_close(peek);
    peek = NULL;
    store_close(st);
    st = NULL;
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < HF_ARRAY_LEN(suffixes); i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", dbpath, suffixes[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return teardown(state);
}

/* One integer from @sql on the peek connection. */
static int64_t q_int(const char *sql)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(peek, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(peek));
    if (sqlite3_step(q) != SQLITE_ROW)
        fail_msg("no row: %s", sql);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* One text from @sql on the peek connection into @out ("(null)" for NULL). */
static void q_text(const char *sql, char *out, size_t n)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(peek, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(peek));
    if (sqlite3_step(q) != SQLITE_ROW)
        fail_msg("no row: %s", sql);
    const unsigned char *v = sqlite3_column_text(q, 0);
    snprintf(out, n, "%s", v ? (const char *)v : "(null)");
    sqlite3_finalize(q);
}

static void expect_q_text(const char *sql, const char *want)
{
    char got[512];
    q_text(sql, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("%s -> '%s', expected '%s'", sql, got, want);
}

/* Navigate the dotted @path in @root; return the parent object of the last
 * segment and set *leaf to it. Parents must exist. */
static cJSON *parent_of(cJSON *root, const char *path, char leaf[128])
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *o = root;
    char *seg = buf, *dot;
    while ((dot = strchr(seg, '.')) != NULL) {
        *dot = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, seg);
        if (!o)
            fail_msg("test body has no '%s' (in %s)", seg, path);
        seg = dot + 1;
    }
    snprintf(leaf, 128, "%s", seg);
    return o;
}

/* The full body with @path set to the JSON value @json (added if absent),
 * or deleted when @json is NULL. Caller frees. */
static char *body_with(const char *path, const char *json)
{
    cJSON *root = cJSON_Parse(full_body);
    assert_non_null(root);
    char leaf[128];
    cJSON *parent = parent_of(root, path, leaf);
    if (!json) {
        cJSON_DeleteItemFromObjectCaseSensitive(parent, leaf);
    } else {
        cJSON *v = cJSON_Parse(json);
        if (!v)
            fail_msg("bad JSON value in test: %s", json);
        if (cJSON_GetObjectItemCaseSensitive(parent, leaf))
            cJSON_ReplaceItemInObjectCaseSensitive(parent, leaf, v);
        else
            cJSON_AddItemToObject(parent, leaf, v);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return own(s);
}

/* @body must be refused with @status, @code and @field (""= none). */
static void expect_reject_len(const char *body, size_t len, int status, const char *code,
                              const char *field)
{
    struct intake_trigger t;
    struct api_error e;
    int rc = intake_validate(cfg, real, cal, body, len, now, &t, &e);
    if (rc == 0) {
        intake_trigger_cleanup(&t);
        fail_msg("accepted, expected %d %s on '%s': %.300s", status, code, field, body);
    }
    assert_int_equal(rc, -1);
    if (e.status != status || strcmp(e.code, code) != 0 || strcmp(e.field, field) != 0)
        fail_msg("got %d %s field '%s' (%s), expected %d %s field '%s'", e.status, e.code,
                 e.field, e.message, status, code, field);
    assert_true(e.message[0] != '\0');
    assert_null(t.doc); /* nothing left to clean up */
    assert_null(t.canonical);
}

static void expect_reject(const char *body, int status, const char *code, const char *field)
{
    expect_reject_len(body, strlen(body), status, code, field);
}

/* The full body with @path set to @json must be refused with 400 @code @field. */
static void expect_field_error(const char *path, const char *json, const char *code,
                               const char *field)
{
    char *body = body_with(path, json);
    expect_reject(body, 400, code, field);
}

/* The full body with @path set to @json must be accepted. */
static void expect_accept_with(const char *path, const char *json)
{
    char *body = body_with(path, json);
    struct intake_trigger t;
    struct api_error e;
    if (intake_validate(cfg, real, cal, body, strlen(body), now, &t, &e) != 0)
        fail_msg("%s=%s refused: %d %s %s: %s", path, json ? json : "(deleted)", e.status, e.code,
                 e.field, e.message);
    intake_trigger_cleanup(&t);
}

static const char *doc_str(const cJSON *doc, const char *path)
{
    char leaf[128];
    cJSON *parent = parent_of((cJSON *)doc, path, leaf);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, leaf);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- intake_validate: the accepted trigger ------------------------------- */

static void test_full_trigger_accepted(void **state)
{
    (void)state;
    struct intake_trigger t;
    struct api_error e;
    int rc = intake_validate(cfg, real, cal, full_body, strlen(full_body), now, &t, &e);
    if (rc != 0)
        fail_msg("refused: %d %s %s: %s", e.status, e.code, e.field, e.message);
    assert_int_equal(e.status, 0);
    assert_string_equal(t.idem_key, "erp-2026-11-24-0001");
    assert_ptr_equal(t.m, catalogue_find(real, "material_inspection"));
    assert_int_equal(t.occurred_at, now);

    /* Normalized: mobiles to 11 digits, everything else kept. */
    assert_string_equal(doc_str(t.doc, "customer.mobile"), "13812345678");
    assert_string_equal(doc_str(t.doc, "project.staff.pm.phone"), "13900001111");
    assert_string_equal(doc_str(t.doc, "project.staff.designer.phone"), "13900002222");
    assert_string_equal(doc_str(t.doc, "project.staff.foreman.phone"), "13900003333");
    assert_null(doc_str(t.doc, "project.staff.supervisor.phone"));
    assert_string_equal(doc_str(t.doc, "customer.title"), "先生");
    assert_string_equal(doc_str(t.doc, "customer.wechat_openid"), "oAbC-123_x");
    assert_string_equal(doc_str(t.doc, "project.address"), "杭州市西湖区文三路88号3幢1201");

    /* The canonical text is the normalized document; its hash is SHA-256. */
    assert_non_null(t.canonical);
    assert_non_null(strstr(t.canonical, "\"mobile\":\"13812345678\""));
    assert_null(strstr(t.canonical, "+86"));
    char h[65];
    sha256_hex(t.canonical, strlen(t.canonical), h);
    assert_string_equal(t.hash, h);

    /* Planned: notice now, survey at 15:00, both through the webhook. */
    assert_int_equal(t.nplans, 2);
    assert_string_equal(t.plans[0].cm->id, "notice");
    assert_string_equal(t.plans[0].channel, "webhook");
    expect_time(t.plans[0].due_at, "2026-11-24T14:00:00+08:00", "notice due");
    expect_time(t.plans[0].expires_at, "2026-11-26T14:00:00+08:00", "notice expiry");
    assert_string_equal(t.plans[1].cm->id, "survey");
    assert_string_equal(t.plans[1].channel, "webhook");
    expect_time(t.plans[1].due_at, "2026-11-24T15:00:00+08:00", "survey due");
    expect_time(t.plans[1].expires_at, "2026-12-01T15:00:00+08:00", "survey expiry");
    intake_trigger_cleanup(&t);
    assert_null(t.doc);
}

/* Reverse the members of every object in a JSON text. */
static void reverse_members(cJSON *o)
{
    cJSON *items[64];
    int n = 0;
    for (cJSON *c = o->child; c && n < 64; c = c->next)
        items[n++] = c;
    for (int i = 0; i < n; i++) {
        if (cJSON_IsObject(items[i]))
            reverse_members(items[i]);
        cJSON_DetachItemViaPointer(o, items[i]);
    }
    for (int i = n - 1; i >= 0; i--)
        cJSON_AddItemToObject(o, items[i]->string, items[i]);
}

/* The same document with its members in another order is the same
 * trigger: same canonical text, same hash (an ERP that re-serializes its
 * retry gets the first answer, not a 409). */
static void test_member_order_does_not_change_hash(void **state)
{
    (void)state;
    struct intake_trigger a, b;
    struct api_error e;
    assert_int_equal(intake_validate(cfg, real, cal, full_body, strlen(full_body), now, &a, &e), 0);
    cJSON *j = cJSON_Parse(full_body);
    reverse_members(j);
    char *rev = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    assert_int_equal(intake_validate(cfg, real, cal, rev, strlen(rev), now, &b, &e), 0);
    assert_string_equal(a.canonical, b.canonical);
    assert_string_equal(a.hash, b.hash);
    free(rev);
    intake_trigger_cleanup(&a);
    intake_trigger_cleanup(&b);
}

static void test_minimal_trigger_fills_title(void **state)
{
    (void)state;
    const char *body =
        "{\"idempotency_key\":\"k1\",\"milestone\":\"completion\","
        "\"occurred_at\":\"2026-09-30T08:00:00Z\","
        "\"project\":{\"id\":\"P1\",\"address\":\"上海市徐汇区漕溪北路1号\"},"
        "\"customer\":{\"id\":\"C1\",\"name\":\"李梅\",\"mobile\":\"13812345678\"}}";
    struct intake_trigger t;
    struct api_error e;
    int rc = intake_validate(cfg, real, cal, body, strlen(body), ts("2026-09-30T16:00:00+08:00"),
                             &t, &e);
    if (rc != 0)
        fail_msg("refused: %d %s %s: %s", e.status, e.code, e.field, e.message);
    assert_string_equal(doc_str(t.doc, "customer.title"), "先生/女士");
    assert_non_null(strstr(t.canonical, "\"title\":\"先生/女士\""));
    assert_int_equal(t.nplans, 3 + 7); /* and the warranty follow-ups */
    expect_time(t.plans[0].due_at, "2026-09-30T16:00:00+08:00", "notice due");
    expect_time(t.plans[1].due_at, "2026-09-30T16:00:00+08:00", "survey due");
    expect_time(t.plans[2].due_at, "2026-10-08T10:30:00+08:00", "rating_confirm due");
    assert_string_equal(t.plans[3].ms->id, "warranty_followup");
    expect_time(t.plans[3].due_at, "2026-10-30T10:30:00+08:00", "first warranty follow-up");
    intake_trigger_cleanup(&t);
}

static void test_accepted_variants(void **state)
{
    (void)state;
    expect_accept_with("customer.title", "\"女士\"");
    expect_accept_with("customer.title", "\"先生/女士\"");
    expect_accept_with("customer.preferred_channel", "\"sms\"");
    expect_accept_with("customer.mobile", "\"8613812345678\"");
    expect_accept_with("customer.mobile", "\"19912345678\"");
    expect_accept_with("customer.name", "\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二\"");
    expect_accept_with("occurred_at", "\"2026-11-25T13:59:59+08:00\""); /* < 1 day ahead */
    expect_accept_with("occurred_at", "\"2026-11-21T14:00:00+0800\"");
    expect_accept_with("occurred_at", "\"2026-11-24T06:00:00.250Z\"");
    expect_accept_with("variables", NULL);
    expect_accept_with("project.staff", NULL);
    expect_accept_with("project.kickoff_date", NULL);
    expect_accept_with("customer.wechat_openid", NULL);
}

static void test_past_occurred_at_plans_from_now(void **state)
{
    (void)state;
    char *body = body_with("occurred_at", "\"2026-11-21T14:00:00+08:00\"");
    struct intake_trigger t;
    struct api_error e;
    assert_int_equal(intake_validate(cfg, real, cal, body, strlen(body), now, &t, &e), 0);
    assert_int_equal(t.occurred_at, ts("2026-11-21T14:00:00+08:00"));
    expect_time(t.plans[0].due_at, NOW_ISO, "notice due");
    expect_time(t.plans[1].due_at, "2026-11-24T15:00:00+08:00", "survey due");
    intake_trigger_cleanup(&t);
}

/* ---- intake_validate: rejections ------------------------------------------ */

static void test_reject_invalid_json(void **state)
{
    (void)state;
    expect_reject("{\"idempotency_key\":", 400, "invalid_json", "");
    expect_reject("", 400, "invalid_json", "");
    expect_reject("{\"customer\":{\"name\":\"\\ud800\"}}", 400, "invalid_json", "");
}

/* Text after the JSON value is not part of a valid JSON body, whatever the
 * value before it: a proxy or client bug, or a second request glued on. */
static void test_reject_trailing_garbage(void **state)
{
    (void)state;
    char *body = own(xasprintf("%s trailing", full_body));
    expect_reject(body, 400, "invalid_json", "");
    body = own(xasprintf("%s%s", full_body, full_body));
    expect_reject(body, 400, "invalid_json", "");
    /* Trailing whitespace (a final newline from curl -d @file) is fine. */
    body = own(xasprintf("%s\r\n", full_body));
    struct intake_trigger t;
    struct api_error e;
    if (intake_validate(cfg, real, cal, body, strlen(body), now, &t, &e) != 0)
        fail_msg("trailing newline refused: %s %s", e.code, e.message);
    intake_trigger_cleanup(&t);
}

static void test_reject_not_object(void **state)
{
    (void)state;
    expect_reject("[1,2]", 400, "invalid_json", "");
    expect_reject("\"trigger\"", 400, "invalid_json", "");
    expect_reject("null", 400, "invalid_json", "");
}

static void test_reject_missing_idempotency_key(void **state)
{
    (void)state;
    expect_field_error("idempotency_key", NULL, "missing_field", "idempotency_key");
    expect_field_error("idempotency_key", "null", "missing_field", "idempotency_key");
    expect_field_error("idempotency_key", "\"\"", "invalid_field", "idempotency_key");
    expect_field_error("idempotency_key", "42", "invalid_field", "idempotency_key");
    expect_field_error("idempotency_key", "\"has space\"", "invalid_field", "idempotency_key");
}

static void test_reject_missing_milestone(void **state)
{
    (void)state;
    expect_field_error("milestone", NULL, "missing_field", "milestone");
}

static void test_reject_unknown_milestone(void **state)
{
    (void)state;
    expect_field_error("milestone", "\"kickoff_meeting\"", "unknown_milestone", "milestone");
    expect_field_error("milestone", "\"Completion\"", "unknown_milestone", "milestone");
}

static void test_reject_occurred_at(void **state)
{
    (void)state;
    expect_field_error("occurred_at", NULL, "missing_field", "occurred_at");
    /* No offset: local time is ambiguous. */
    expect_field_error("occurred_at", "\"2026-11-24T14:00:00\"", "invalid_field", "occurred_at");
    expect_field_error("occurred_at", "\"2026-11-24\"", "invalid_field", "occurred_at");
    expect_field_error("occurred_at", "\"2026-02-30T10:00:00+08:00\"", "invalid_field",
                       "occurred_at");
    expect_field_error("occurred_at", "1764000000", "invalid_field", "occurred_at");
    /* Two days in the future. */
    expect_field_error("occurred_at", "\"2026-11-26T14:00:00+08:00\"", "invalid_field",
                       "occurred_at");
    /* Over 30 days in the past. */
    expect_field_error("occurred_at", "\"2026-10-20T14:00:00+08:00\"", "invalid_field",
                       "occurred_at");
}

static void test_reject_customer_mobile(void **state)
{
    (void)state;
    expect_field_error("customer.mobile", NULL, "missing_field", "customer.mobile");
    expect_field_error("customer.mobile", "\"12345\"", "invalid_mobile", "customer.mobile");
    expect_field_error("customer.mobile", "\"12812345678\"", "invalid_mobile", "customer.mobile");
    expect_field_error("customer.mobile", "\"1381234567a\"", "invalid_mobile", "customer.mobile");
    expect_field_error("customer.mobile", "\"+85213812345678\"", "invalid_mobile",
                       "customer.mobile");
    expect_field_error("customer.mobile", "13812345678", "invalid_field", "customer.mobile");
}

static void test_reject_staff_phone(void **state)
{
    (void)state;
    expect_field_error("project.staff.pm.phone", "\"010-12345678\"", "invalid_mobile",
                       "project.staff.pm.phone");
    expect_field_error("project.staff.supervisor.phone", "\"12345\"", "invalid_mobile",
                       "project.staff.supervisor.phone");
    expect_field_error("project.staff.pm.name", NULL, "missing_field", "project.staff.pm.name");
    expect_field_error("project.staff.pm.wecom_id", "\"li qiang\"", "invalid_field",
                       "project.staff.pm.wecom_id");
    expect_field_error("project.staff.pm", "\"李强\"", "invalid_field", "project.staff.pm");
}

static void test_reject_unknown_fields(void **state)
{
    (void)state;
    expect_field_error("customer.nmae", "\"王建国\"", "unknown_field", "customer.nmae");
    expect_field_error("project.budget", "1", "unknown_field", "project.budget");
    expect_field_error("idempotencyKey", "\"x\"", "unknown_field", "idempotencyKey");
    expect_field_error("project.staff.pm.email", "\"a@b.cn\"", "unknown_field",
                       "project.staff.pm.email");
}

static void test_reject_unknown_staff_role(void **state)
{
    (void)state;
    expect_field_error("project.staff.boss", "{\"name\":\"老板\"}", "unknown_field",
                       "project.staff.boss");
}

static void test_reject_bad_kickoff_date(void **state)
{
    (void)state;
    expect_field_error("project.kickoff_date", "\"2026-13-01\"", "invalid_field",
                       "project.kickoff_date");
    expect_field_error("project.kickoff_date", "\"2026-02-29\"", "invalid_field",
                       "project.kickoff_date");
    expect_field_error("project.kickoff_date", "\"2026/10/08\"", "invalid_field",
                       "project.kickoff_date");
    expect_field_error("project.kickoff_date", "\"2026-10-08T00:00:00+08:00\"", "invalid_field",
                       "project.kickoff_date");
}

static void test_reject_bad_title(void **state)
{
    (void)state;
    expect_field_error("customer.title", "\"老板\"", "invalid_field", "customer.title");
    expect_field_error("customer.title", "\"\"", "invalid_field", "customer.title");
    expect_field_error("customer.title", "1", "invalid_field", "customer.title");
}

static void test_reject_bad_preferred_channel(void **state)
{
    (void)state;
    expect_field_error("customer.preferred_channel", "\"email\"", "invalid_field",
                       "customer.preferred_channel");
    expect_field_error("customer.preferred_channel", "\"WeChat\"", "invalid_field",
                       "customer.preferred_channel");
}

static void test_reject_name_too_long(void **state)
{
    (void)state;
    /* 33 characters (32 is accepted, see test_accepted_variants). */
    expect_field_error("customer.name",
                       "\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三\"",
                       "invalid_field", "customer.name");
    expect_field_error("project.staff.foreman.name",
                       "\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三\"",
                       "invalid_field", "project.staff.foreman.name");
    expect_field_error("customer.name", "\"\"", "invalid_field", "customer.name");
}

static void test_reject_control_characters(void **state)
{
    (void)state;
    expect_field_error("customer.name", "\"王\\u0007建国\"", "invalid_field", "customer.name");
    expect_field_error("project.address", "\"文三路\\n88号\"", "invalid_field",
                       "project.address");
    expect_field_error("project.staff.pm.name", "\"李\\t强\"", "invalid_field",
                       "project.staff.pm.name");
    expect_field_error("customer.name", "\"王\\u007f建国\"", "invalid_field", "customer.name");
}

/* C1 control characters (U+0080..U+009F, Unicode category Cc like the C0
 * set) are control characters too: U+009B is the 8-bit CSI that starts
 * terminal escape sequences in logs and consoles. */
static void test_reject_c1_control_characters(void **state)
{
    (void)state;
    expect_field_error("customer.name", "\"王\\u009b31m建国\"", "invalid_field", "customer.name");
    expect_field_error("project.address", "\"文三路\\u008588号\"", "invalid_field",
                       "project.address");
}

/* "\u0000" decodes to a NUL byte inside the string: the value must not be
 * silently cut at that point ("王\u0000建国" stored as "王"). It must be
 * refused; if the answer names a field it must be the right one. */
static void test_reject_escaped_nul(void **state)
{
    (void)state;
    char *body = body_with("customer.name", "\"王建国\"");
    /* cJSON cannot build the escape; splice it into the text. */
    char *p = strstr(body, "\"王建国\"");
    assert_non_null(p);
    char *with_nul = own(xasprintf("%.*s\"王\\u0000建国\"%s", (int)(p - body), body,
                                   p + strlen("\"王建国\"")));
    struct intake_trigger t;
    struct api_error e;
    int rc = intake_validate(cfg, real, cal, with_nul, strlen(with_nul), now, &t, &e);
    if (rc == 0) {
        char name[64];
        snprintf(name, sizeof name, "%s", doc_str(t.doc, "customer.name"));
        intake_trigger_cleanup(&t);
        fail_msg("accepted a name with \\u0000; it was stored as '%s'", name);
    }
    assert_int_equal(e.status, 400);
    if (e.field[0])
        assert_string_equal(e.field, "customer.name");
}

static void test_reject_invalid_utf8(void **state)
{
    (void)state;
    /* Raw bytes that are not UTF-8 make the body itself invalid (RFC 8259
     * JSON text is UTF-8): refused before parsing, no field to name. */
    char *body = body_with("customer.name", "\"王建国\"");
    char *p = strstr(body, "王建国");
    assert_non_null(p);
    p[1] = (char)0xff; /* break the first character's continuation byte */
    expect_reject(body, 400, "invalid_json", "");
    /* A truncated sequence at the very end. */
    expect_reject("{\"a\":\"\xe7\xbd", 400, "invalid_json", "");
    /* An overlong encoding of '/'. */
    expect_reject("{\"idempotency_key\":\"\xc0\xaf\"}", 400, "invalid_json", "");
}

static void test_reject_undeclared_variable(void **state)
{
    (void)state;
    expect_field_error("variables", "{\"stage\":\"木作\"}", "unknown_field", "variables.stage");
    expect_field_error("variables", "[\"stage\"]", "invalid_field", "variables");
}

static void test_reject_other_required_fields(void **state)
{
    (void)state;
    expect_field_error("project", NULL, "missing_field", "project");
    expect_field_error("customer", NULL, "missing_field", "customer");
    expect_field_error("project", "\"P1\"", "invalid_field", "project");
    expect_field_error("project.id", NULL, "missing_field", "project.id");
    expect_field_error("project.id", "\"P 1\"", "invalid_field", "project.id");
    expect_field_error("project.address", NULL, "missing_field", "project.address");
    expect_field_error("customer.id", NULL, "missing_field", "customer.id");
    expect_field_error("customer.name", NULL, "missing_field", "customer.name");
    expect_field_error("customer.wechat_openid", "\"o 1\"", "invalid_field",
                       "customer.wechat_openid");
}

/* A member written twice: cJSON keeps both, validation reads the first,
 * and the second (never checked) would be stored in the canonical body
 * that dispatch renders from. The trigger must be refused, naming the
 * repeated field. */
static void test_reject_duplicate_member(void **state)
{
    (void)state;
    /* customer.mobile twice: the first is valid, the second is not. */
    const char *first = "\"mobile\":\"+8613812345678\"";
    const char *p = strstr(full_body, first);
    assert_non_null(p);
    p += strlen(first);
    char *dup = own(xasprintf("%.*s,\"mobile\":\"not a number\"%s", (int)(p - full_body),
                              full_body, p));
    struct intake_trigger t;
    struct api_error e;
    int rc = intake_validate(cfg, real, cal, dup, strlen(dup), now, &t, &e);
    if (rc == 0) {
        char canon[1024];
        snprintf(canon, sizeof canon, "%s", t.canonical);
        intake_trigger_cleanup(&t);
        fail_msg("accepted a body with customer.mobile twice; canonical: %s", canon);
    }
    assert_int_equal(e.status, 400);
    assert_string_equal(e.field, "customer.mobile");
}

static void test_cannot_plan_without_channel(void **state)
{
    (void)state;
    cfg->webhook_enabled = 0;
    struct intake_trigger t;
    struct api_error e;
    assert_int_equal(intake_validate(cfg, real, cal, full_body, strlen(full_body), now, &t, &e),
                     -1);
    assert_int_equal(e.status, 422);
    assert_string_equal(e.code, "cannot_plan");
    assert_string_equal(e.field, "customer");
    assert_non_null(strstr(e.message, "customer"));
    assert_null(t.doc);
}

static void test_declared_variables(void **state)
{
    (void)state;
    /* The fixture milestone "fx" declares the variable "stage". */
    static const char *const tmpl =
        "{\"idempotency_key\":\"fx-1\",\"milestone\":\"fx\","
        "\"occurred_at\":\"2026-11-24T14:00:00+08:00\","
        "\"project\":{\"id\":\"P1\",\"address\":\"地址\","
        "\"staff\":{\"pm\":{\"name\":\"李强\"}}},"
        "\"customer\":{\"id\":\"C1\",\"name\":\"李梅\",\"mobile\":\"13812345678\"}%s}";
    struct intake_trigger t;
    struct api_error e;
    struct {
        const char *vars;
        int status;
        const char *code, *field;
    } cases[] = {
        {",\"variables\":{\"stage\":\"木作\"}", 0, "", ""},
        {"", 400, "missing_field", "variables.stage"},
        {",\"variables\":{}", 400, "missing_field", "variables.stage"},
        {",\"variables\":{\"stage\":\"\"}", 400, "invalid_field", "variables.stage"},
        {",\"variables\":{\"stage\":3}", 400, "invalid_field", "variables.stage"},
        {",\"variables\":{\"stage\":\"木\\u0001作\"}", 400, "invalid_field", "variables.stage"},
        {",\"variables\":{\"stage\":\"木作\",\"room\":\"厨房\"}", 400, "unknown_field",
         "variables.room"},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(cases); i++) {
        char *body = own(xasprintf(tmpl, cases[i].vars));
        int rc = intake_validate(cfg, fx, cal, body, strlen(body), now, &t, &e);
        if (cases[i].status == 0) {
            if (rc != 0)
                fail_msg("case %zu refused: %s %s %s", i, e.code, e.field, e.message);
            assert_int_equal(t.nplans, 5); /* the pm alert included */
            intake_trigger_cleanup(&t);
        } else if (rc == 0 || e.status != cases[i].status || strcmp(e.code, cases[i].code) ||
                   strcmp(e.field, cases[i].field)) {
            if (rc == 0)
                intake_trigger_cleanup(&t);
            fail_msg("case %zu (%s): got rc %d %d %s '%s', expected %d %s '%s'", i, cases[i].vars,
                     rc, e.status, e.code, e.field, cases[i].status, cases[i].code,
                     cases[i].field);
        }
    }
}

/* ---- http_error ---------------------------------------------------------- */

static void test_api_error_json_shape(void **state)
{
    (void)state;
    struct api_error e;
    memset(&e, 0, sizeof e);
    api_error_set(&e, 400, "invalid_mobile", "customer.mobile", "%s is not \"%s\"",
                  "customer.mobile", "ok");
    assert_int_equal(e.status, 400);
    char *s = own(api_error_json(&e));
    assert_string_equal(s, "{\"error\":{\"code\":\"invalid_mobile\",\"field\":\"customer.mobile\","
                           "\"message\":\"customer.mobile is not \\\"ok\\\"\"}}");

    api_error_set(&e, 400, "invalid_json", NULL, "the body is not valid JSON");
    s = own(api_error_json(&e));
    assert_string_equal(s, "{\"error\":{\"code\":\"invalid_json\",\"field\":null,"
                           "\"message\":\"the body is not valid JSON\"}}");

    s = own(api_error_body("idempotency_conflict", "idempotency_key", "used before"));
    assert_string_equal(s, "{\"error\":{\"code\":\"idempotency_conflict\","
                           "\"field\":\"idempotency_key\",\"message\":\"used before\"}}");
}

static void test_api_error_from_validation(void **state)
{
    (void)state;
    char *body = body_with("customer.mobile", "\"12345\"");
    struct intake_trigger t;
    struct api_error e;
    assert_int_equal(intake_validate(cfg, real, cal, body, strlen(body), now, &t, &e), -1);
    char *s = own(api_error_json(&e));
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_true(cJSON_IsObject(err));
    assert_int_equal(cJSON_GetArraySize(err), 3);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "code")->valuestring,
                        "invalid_mobile");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "field")->valuestring,
                        "customer.mobile");
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(err, "message")->valuestring,
                           "customer.mobile"));
    cJSON_Delete(j);
}

/* ---- intake_store ---------------------------------------------------------- */

/* Validate @body at @at and store it in its own transaction. */
static int store_body(const char *body, int64_t at, int *status, char **response)
{
    struct intake_trigger t;
    struct api_error e;
    if (intake_validate(cfg, real, cal, body, strlen(body), at, &t, &e) != 0)
        fail_msg("refused: %d %s %s: %s", e.status, e.code, e.field, e.message);
    assert_int_equal(store_begin(st), HF_OK);
    *status = 0;
    *response = NULL;
    int n = intake_store(st, &t, "erp", at, status, response);
    assert_int_equal(store_commit(st), HF_OK);
    intake_trigger_cleanup(&t);
    assert_non_null(*response);
    own(*response);
    return n;
}

static void test_store_new_trigger(void **state)
{
    (void)state;
    int status;
    char *resp;
    int n = store_body(full_body, now, &status, &resp);
    assert_int_equal(status, 202);
    assert_int_equal(n, 2);

    cJSON *r = cJSON_Parse(resp);
    assert_non_null(r);
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(r, "trigger_id");
    assert_true(cJSON_IsNumber(tid));
    assert_int_equal((int64_t)tid->valuedouble, q_int("SELECT id FROM triggers"));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r, "idempotency_key")->valuestring,
                        "erp-2026-11-24-0001");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r, "milestone")->valuestring,
                        "material_inspection");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(r, "messages");
    assert_int_equal(cJSON_GetArraySize(msgs), 2);
    static const struct {
        const char *message, *kind, *due, *expires;
    } want[] = {
        {"notice", "notice", "2026-11-24T14:00:00+08:00", "2026-11-26T14:00:00+08:00"},
        {"survey", "survey", "2026-11-24T15:00:00+08:00", "2026-12-01T15:00:00+08:00"},
    };
    int64_t prev_id = 0;
    for (int i = 0; i < 2; i++) {
        const cJSON *m = cJSON_GetArrayItem(msgs, i);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
        assert_true(cJSON_IsNumber(id));
        assert_true((int64_t)id->valuedouble > prev_id);
        prev_id = (int64_t)id->valuedouble;
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "message")->valuestring,
                            want[i].message);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "kind")->valuestring,
                            want[i].kind);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "to")->valuestring, "customer");
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "channel")->valuestring,
                            "webhook");
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "due_at")->valuestring,
                            want[i].due);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "expires_at")->valuestring,
                            want[i].expires);
        /* The row behind each id. */
        char sql[256], got[64];
        snprintf(sql, sizeof sql,
                 "SELECT message || '/' || kind || '/' || channel || '/' || window || '/' || state"
                 " FROM messages WHERE id = %lld",
                 (long long)prev_id);
        q_text(sql, got, sizeof got);
        char expect[64];
        snprintf(expect, sizeof expect, "%s/%s/webhook/%s/pending", want[i].message, want[i].kind,
                 want[i].kind);
        assert_string_equal(got, expect);
        snprintf(sql, sizeof sql,
                 "SELECT due_at = %lld AND next_attempt_at = due_at AND expires_at = %lld"
                 " AND attempts = 0 FROM messages WHERE id = %lld",
                 (long long)ts(want[i].due), (long long)ts(want[i].expires), (long long)prev_id);
        assert_int_equal(q_int(sql), 1);
    }
    cJSON_Delete(r);

    assert_int_equal(q_int("SELECT COUNT(*) FROM triggers"), 1);
    assert_int_equal(q_int("SELECT COUNT(*) FROM messages"), 2);
    assert_int_equal(q_int("SELECT COUNT(*) FROM customers"), 1);
    assert_int_equal(q_int("SELECT COUNT(*) FROM projects"), 1);
    assert_int_equal(q_int("SELECT COUNT(*) FROM project_staff"), 4);
    expect_q_text("SELECT response FROM triggers", resp);
    expect_q_text("SELECT token_name || '/' || milestone || '/' || project_id || '/' || customer_id"
                  " FROM triggers",
                  "erp/material_inspection/P2026-0113/C-88");
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT occurred_at = %lld AND received_at = %lld FROM triggers",
             (long long)now, (long long)now);
    assert_int_equal(q_int(sql), 1);
    expect_q_text("SELECT name || '/' || title || '/' || mobile || '/' || wechat_openid || '/' ||"
                  " preferred_channel FROM customers WHERE id = 'C-88'",
                  "王建国/先生/13812345678/oAbC-123_x/wechat");
    expect_q_text("SELECT customer_id || '/' || address || '/' || kickoff_date FROM projects"
                  " WHERE id = 'P2026-0113'",
                  "C-88/杭州市西湖区文三路88号3幢1201/2026-10-08");
    expect_q_text("SELECT name || '/' || phone || '/' || wecom_id FROM project_staff"
                  " WHERE project_id = 'P2026-0113' AND role = 'pm'",
                  "李强/13900001111/liqiang");
    expect_q_text("SELECT phone FROM project_staff WHERE role = 'supervisor'", "(null)");
    /* The stored body is the normalized canonical text. */
    expect_q_text("SELECT instr(body, '\"mobile\":\"13812345678\"') > 0 FROM triggers", "1");
}

static void test_store_replay_same_body(void **state)
{
    (void)state;
    int status;
    char *first, *second;
    store_body(full_body, now, &status, &first);
    assert_int_equal(status, 202);

    /* The ERP retries a minute later: same answer, nothing new. */
    int n = store_body(full_body, now + 60, &status, &second);
    assert_int_equal(status, 200);
    assert_int_equal(n, 0);
    assert_string_equal(second, first);
    assert_int_equal(q_int("SELECT COUNT(*) FROM triggers"), 1);
    assert_int_equal(q_int("SELECT COUNT(*) FROM messages"), 2);
    assert_int_equal(q_int("SELECT COUNT(*) FROM customers"), 1);

    /* Formatting and the way the mobile is written do not make it a new
     * request: the canonical (normalized) bodies are equal. */
    char *spaced = body_with("customer.mobile", "\"13812345678\"");
    char *pretty;
    {
        cJSON *j = cJSON_Parse(spaced);
        pretty = own(cJSON_Print(j)); /* indented, with newlines */
        cJSON_Delete(j);
    }
    n = store_body(pretty, now + 120, &status, &second);
    assert_int_equal(status, 200);
    assert_int_equal(n, 0);
    assert_string_equal(second, first);
    assert_int_equal(q_int("SELECT COUNT(*) FROM messages"), 2);
}

static void test_store_conflict_different_body(void **state)
{
    (void)state;
    int status;
    char *first, *second;
    store_body(full_body, now, &status, &first);
    assert_int_equal(status, 202);

    char *other = body_with("milestone", "\"hidden_works_acceptance\"");
    int n = store_body(other, now + 60, &status, &second);
    assert_int_equal(status, 409);
    assert_int_equal(n, 0);
    cJSON *j = cJSON_Parse(second);
    assert_non_null(j);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "code")->valuestring,
                        "idempotency_conflict");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(err, "field")->valuestring,
                        "idempotency_key");
    cJSON_Delete(j);

    /* A changed customer name is a different body too. */
    other = body_with("customer.name", "\"王建军\"");
    store_body(other, now + 90, &status, &second);
    assert_int_equal(status, 409);

    assert_int_equal(q_int("SELECT COUNT(*) FROM triggers"), 1);
    assert_int_equal(q_int("SELECT COUNT(*) FROM messages"), 2);
    expect_q_text("SELECT name FROM customers WHERE id = 'C-88'", "王建国");
    expect_q_text("SELECT milestone FROM triggers", "material_inspection");
}

static void test_store_upserts_customer_and_project(void **state)
{
    (void)state;
    int status;
    char *resp;
    store_body(full_body, now, &status, &resp);
    assert_int_equal(status, 202);

    /* A later trigger for the same project: new key, the customer renamed,
     * no openid given, the staff list now only a pm. */
    cJSON *j = cJSON_Parse(full_body);
    cJSON *cust = cJSON_GetObjectItemCaseSensitive(j, "customer");
    cJSON *proj = cJSON_GetObjectItemCaseSensitive(j, "project");
    cJSON_ReplaceItemInObjectCaseSensitive(j, "idempotency_key", cJSON_CreateString("erp-2"));
    cJSON_ReplaceItemInObjectCaseSensitive(j, "milestone",
                                           cJSON_CreateString("hidden_works_acceptance"));
    cJSON_ReplaceItemInObjectCaseSensitive(cust, "name", cJSON_CreateString("王建军"));
    cJSON_ReplaceItemInObjectCaseSensitive(cust, "mobile", cJSON_CreateString("13987654321"));
    cJSON_DeleteItemFromObjectCaseSensitive(cust, "wechat_openid");
    cJSON_ReplaceItemInObjectCaseSensitive(cust, "title", cJSON_CreateString("女士"));
    cJSON_DeleteItemFromObjectCaseSensitive(proj, "kickoff_date");
    cJSON_ReplaceItemInObjectCaseSensitive(proj, "address", cJSON_CreateString("文三路90号"));
    cJSON_ReplaceItemInObjectCaseSensitive(
        proj, "staff", cJSON_Parse("{\"pm\":{\"name\":\"周杰\",\"phone\":\"13700001111\"}}"));
    char *body = own(cJSON_PrintUnformatted(j));
    cJSON_Delete(j);

    int n = store_body(body, now + 3600, &status, &resp);
    assert_int_equal(status, 202);
    assert_int_equal(n, 2);

    assert_int_equal(q_int("SELECT COUNT(*) FROM triggers"), 2);
    assert_int_equal(q_int("SELECT COUNT(*) FROM messages"), 4);
    assert_int_equal(q_int("SELECT COUNT(*) FROM customers"), 1);
    assert_int_equal(q_int("SELECT COUNT(*) FROM projects"), 1);
    /* Given fields replace, absent optional ones keep what was known. */
    expect_q_text("SELECT name || '/' || title || '/' || mobile || '/' || wechat_openid"
                  " FROM customers WHERE id = 'C-88'",
                  "王建军/女士/13987654321/oAbC-123_x");
    expect_q_text("SELECT address || '/' || kickoff_date FROM projects WHERE id = 'P2026-0113'",
                  "文三路90号/2026-10-08");
    /* The staff list is replaced, not merged. */
    assert_int_equal(q_int("SELECT COUNT(*) FROM project_staff"), 1);
    expect_q_text("SELECT role || '/' || name || '/' || phone FROM project_staff",
                  "pm/周杰/13700001111");
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT updated_at = %lld AND created_at = %lld FROM customers",
             (long long)(now + 3600), (long long)now);
    assert_int_equal(q_int(sql), 1);
}

/* A trigger that leaves the optional customer.title out says nothing new
 * about the salutation: like wechat_openid and kickoff_date, the title
 * already known from an earlier trigger must be kept, not replaced by the
 * neutral "先生/女士" that only stands in for an unknown title. */
static void test_store_upsert_keeps_known_title(void **state)
{
    (void)state;
    int status;
    char *resp;
    store_body(full_body, now, &status, &resp); /* title 先生 */
    assert_int_equal(status, 202);
    char *body = body_with("customer.title", NULL);
    cJSON *j = cJSON_Parse(body);
    cJSON_ReplaceItemInObjectCaseSensitive(j, "idempotency_key", cJSON_CreateString("erp-3"));
    body = own(cJSON_PrintUnformatted(j));
    cJSON_Delete(j);
    store_body(body, now + 60, &status, &resp);
    assert_int_equal(status, 202);
    assert_int_equal(q_int("SELECT COUNT(*) FROM customers"), 1);
    expect_q_text("SELECT title FROM customers WHERE id = 'C-88'", "先生");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define S(f) cmocka_unit_test_setup_teardown(f, store_setup, store_teardown)
    const struct CMUnitTest tests[] = {
        T(test_full_trigger_accepted),
        T(test_minimal_trigger_fills_title),
        T(test_member_order_does_not_change_hash),
        T(test_accepted_variants),
        T(test_past_occurred_at_plans_from_now),
        T(test_reject_invalid_json),
        T(test_reject_trailing_garbage),
        T(test_reject_not_object),
        T(test_reject_missing_idempotency_key),
        T(test_reject_missing_milestone),
        T(test_reject_unknown_milestone),
        T(test_reject_occurred_at),
        T(test_reject_customer_mobile),
        T(test_reject_staff_phone),
        T(test_reject_unknown_fields),
        T(test_reject_unknown_staff_role),
        T(test_reject_bad_kickoff_date),
        T(test_reject_bad_title),
        T(test_reject_bad_preferred_channel),
        T(test_reject_name_too_long),
        T(test_reject_control_characters),
        T(test_reject_c1_control_characters),
        T(test_reject_escaped_nul),
        T(test_reject_invalid_utf8),
        T(test_reject_undeclared_variable),
        T(test_reject_other_required_fields),
        T(test_reject_duplicate_member),
        T(test_cannot_plan_without_channel),
        T(test_declared_variables),
        T(test_api_error_json_shape),
        T(test_api_error_from_validation),
        S(test_store_new_trigger),
        S(test_store_replay_same_body),
        S(test_store_conflict_different_body),
        S(test_store_upserts_customer_and_project),
        S(test_store_upsert_keeps_known_title),
    };
#undef T
#undef S
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
