/*
 * test_store_read.c - the read side of the store (store_read.c) on a temp
 * file: result filters and keyset pagination, the "asked" rule, ticket
 * clocks at the edges (due = under an hour, overdue), the ticket cursor,
 * a project's timeline order, and the report aggregates.
 *
 * The rows are seeded with plain SQL through a second connection after
 * store_open() has migrated the schema: these tests are about reading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "util.h"

#define NOW INT64_C(1795503900) /* 2026-11-24T15:05:00+08:00 */

struct fx {
    char dir[64];
    char path[128];
    struct store *s;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("seed failed: %s", err);
    sqlite3_close(db);
}

/* Two projects: P1 (PM 张伟 13900000001, designer 李娜 wecom LiNa), P2 (PM
 * 孙丽 13900000002, designer 李娜). Surveys: 11 (P1, answered 4, sms),
 * 12 (P1, pending: not asked yet), 21 (P2, answered 9, flagged, wechat),
 * 22 (P2, sent, open). Tickets: 1 on P1 (open, report due in 30 min),
 * 2 on P2 (reported, answer overdue), 3 on P2 (resolved in time),
 * 4 on P1 (repair request, open, clocks far away). */
static const char seed[] =
    "INSERT INTO customers (id,name,title,mobile,created_at,updated_at) VALUES"
    " ('C1','陈','女士','13812340001',0,0), ('C2','刘','先生','13812340002',0,0);"
    "INSERT INTO projects (id,customer_id,address,created_at,updated_at) VALUES"
    " ('P1','C1','一号',0,0), ('P2','C2','二号',0,0);"
    "INSERT INTO project_staff VALUES ('P1','pm','张伟','13900000001',NULL),"
    " ('P1','designer','李娜',NULL,'LiNa'), ('P2','pm','孙丽','13900000002',NULL),"
    " ('P2','designer','李娜',NULL,'LiNa');"
    "INSERT INTO triggers (id,idem_key,body_hash,milestone,project_id,customer_id,occurred_at,"
    " received_at,body) VALUES (1,'k1','h','completion','P1','C1',1795500000,1795500000,'{}'),"
    " (2,'k2','h','completion','P2','C2',1795500100,1795500100,'{}');"
    "INSERT INTO messages (id,trigger_id,milestone,message,kind,recipient,channel,window,state,"
    " due_at,expires_at,next_attempt_at,attempts,created_at,updated_at,sent_at) VALUES"
    " (11,1,'completion','survey','survey','customer','sms','survey','delivered',1795500000,"
    "  1796000000,1795500000,1,1795500000,1795500000,1795500060),"
    " (12,1,'completion','rating_confirm','survey','customer','sms','survey','pending',"
    "  1795590000,1796000000,1795590000,0,1795500000,1795500000,NULL),"
    " (21,2,'completion','survey','survey','customer','wechat','survey','sent',1795500100,"
    "  1796000000,1795500100,1,1795500100,1795500100,1795500160),"
    " (22,2,'material_inspection','survey','survey','customer','wechat','survey','sent',"
    "  1795500100,1796000000,1795500100,1,1795500100,1795500100,1795500170);"
    "INSERT INTO surveys (message_id,survey,trigger_id,customer_id,project_id,milestone,mobile,"
    " created_at,expires_at,state,answered_at,score,flagged,answers) VALUES"
    " (11,'completion',1,'C1','P1','completion','13812340001',1795500000,1796000000,"
    "  'answered',1795501000,4,0,'{\"score\":\"4\"}'),"
    " (12,'completion_rating',1,'C1','P1','completion','13812340001',1795590000,1796000000,"
    "  'open',NULL,NULL,0,NULL),"
    " (21,'completion',2,'C2','P2','completion','13812340002',1795500100,1796000000,"
    "  'answered',1795502000,9,1,'{\"score\":\"9\"}'),"
    " (22,'material_inspection',2,'C2','P2','material_inspection','13812340002',1795500100,"
    "  1796000000,'open',NULL,NULL,0,NULL);"
    "INSERT INTO answers (message_id,customer_id,mobile,channel,raw,parsed,score,received_at)"
    " VALUES (11,'C1','13812340001','sms','4分','{}',4,1795501000),"
    " (21,'C2','13812340002','wechat','9','{}',9,1795502000);"
    "INSERT INTO tickets (id,trigger_id,survey_id,customer_id,project_id,reason,detail,state,"
    " opened_at,report_due_at,answer_due_at,reported_at,resolved_at) VALUES"
    " (1,1,11,'C1','P1','survey','4分','open',1795501000,1795505700,1795673800,NULL,NULL),"
    " (2,2,21,'C2','P2','complaint','漏水','reported',1795300000,1795307200,1795472800,"
    "  1795301000,NULL),"
    " (3,2,NULL,'C2','P2','complaint','地砖','resolved',1795400000,1795407200,1795572800,"
    "  1795401000,1795450000),"
    " (4,1,NULL,'C1','P1','repair_request','报修','open',1795503000,1795510200,1795675800,"
    "  NULL,NULL);";

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hf_store_read_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/hf.db", f->dir);
    char err[256] = "";
    f->s = store_open(f->path, 0, err, sizeof err);
    if (!f->s)
        return -1;
    exec_sql(f->path, seed);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* The "id" members of @arr as "11,21". */
static void ids(const cJSON *arr, char *out, size_t n)
{
    out[0] = '\0';
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%d", len ? "," : "",
                 cJSON_GetObjectItemCaseSensitive(it, "id")->valueint);
    }
}

static void expect_results(struct store *s, struct result_filter f, const char *want)
{
    char next[STORE_CURSOR_LEN], got[128];
    if (!f.limit)
        f.limit = 50;
    cJSON *arr = store_results(s, &f, next);
    assert_non_null(arr);
    ids(arr, got, sizeof got);
    cJSON_Delete(arr);
    assert_string_equal(got, want);
}

static void test_results_filters(void **state)
{
    struct fx *f = *state;
    struct result_filter base = {.score_min = -1, .score_max = -1};
    /* 12 waits for its day: not a result yet. */
    expect_results(f->s, base, "11,21,22");
    struct result_filter x = base;
    x.staff = "李娜";
    expect_results(f->s, x, "11,21,22");
    x.staff = "LiNa"; /* the WeCom id */
    expect_results(f->s, x, "11,21,22");
    x.staff = "13900000002"; /* 孙丽's phone */
    expect_results(f->s, x, "21,22");
    x = base;
    x.channel = "sms";
    expect_results(f->s, x, "11");
    x = base;
    x.state = "flagged";
    expect_results(f->s, x, "21");
    x = base;
    x.state = "open";
    expect_results(f->s, x, "22");
    x = base;
    x.score_max = 6;
    expect_results(f->s, x, "11");
    x = base;
    x.from = 1795501500; /* answered (else planned) after 11 was answered */
    expect_results(f->s, x, "21");
    x = base;
    x.staff = "nobody'); DROP TABLE surveys; --";
    expect_results(f->s, x, "");
    expect_results(f->s, base, "11,21,22");
}

static void test_results_keyset_pages(void **state)
{
    struct fx *f = *state;
    struct result_filter p = {.score_min = -1, .score_max = -1, .limit = 2};
    char next[STORE_CURSOR_LEN], got[64];
    cJSON *a = store_results(f->s, &p, next);
    ids(a, got, sizeof got);
    cJSON_Delete(a);
    assert_string_equal(got, "11,21");
    assert_string_equal(next, "21");
    p.cursor = 21;
    a = store_results(f->s, &p, next);
    ids(a, got, sizeof got);
    cJSON_Delete(a);
    assert_string_equal(got, "22");
    assert_string_equal(next, ""); /* a short page: the end */
}

static const char *member(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void test_ticket_clocks_and_filters(void **state)
{
    struct fx *f = *state;
    struct ticket_filter tf = {.limit = 50, .now = NOW};
    char next[STORE_CURSOR_LEN], got[64];
    cJSON *a = store_tickets(f->s, &tf, next);
    assert_non_null(a);
    ids(a, got, sizeof got);
    /* Unresolved first, nearest answer deadline first; resolved last. */
    assert_string_equal(got, "2,1,4,3");
    /* 2: reported, its answer clock ran out; 1: report due in 30 min;
     * 4: far away; 3: resolved. */
    assert_string_equal(member(cJSON_GetArrayItem(a, 0), "clock"), "overdue");
    assert_string_equal(member(cJSON_GetArrayItem(a, 1), "clock"), "due");
    assert_string_equal(member(cJSON_GetArrayItem(a, 2), "clock"), "ok");
    assert_string_equal(member(cJSON_GetArrayItem(a, 3), "clock"), "ok");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(a, 3),
                                                              "next_due_at")));
    /* Ticket 1's next deadline is its report. */
    assert_string_equal(member(cJSON_GetArrayItem(a, 1), "next_due_at"),
                        member(cJSON_GetArrayItem(a, 1), "report_due_at"));
    cJSON_Delete(a);

    /* An hour and a minute before ticket 1's report is due: ok. */
    tf.now = 1795505700 - 3660;
    tf.id = 1;
    a = store_tickets(f->s, &tf, next);
    assert_string_equal(member(cJSON_GetArrayItem(a, 0), "clock"), "ok");
    cJSON_Delete(a);
    tf.now = 1795505700; /* the very second: overdue */
    a = store_tickets(f->s, &tf, next);
    assert_string_equal(member(cJSON_GetArrayItem(a, 0), "clock"), "overdue");
    cJSON_Delete(a);

    tf = (struct ticket_filter){.limit = 50, .now = NOW, .state = "overdue"};
    a = store_tickets(f->s, &tf, next);
    ids(a, got, sizeof got);
    cJSON_Delete(a);
    assert_string_equal(got, "2");
    tf.state = "open"; /* not resolved */
    a = store_tickets(f->s, &tf, next);
    ids(a, got, sizeof got);
    cJSON_Delete(a);
    assert_string_equal(got, "2,1,4");
}

static void test_ticket_cursor(void **state)
{
    struct fx *f = *state;
    struct ticket_filter tf = {.limit = 3, .now = NOW};
    char next[STORE_CURSOR_LEN], got[64];
    cJSON *a = store_tickets(f->s, &tf, next);
    ids(a, got, sizeof got);
    cJSON_Delete(a);
    assert_string_equal(got, "2,1,4");
    assert_true(store_ticket_cursor_ok(next));
    tf.cursor = next;
    char second[STORE_CURSOR_LEN];
    a = store_tickets(f->s, &tf, second);
    ids(a, got, sizeof got);
    cJSON_Delete(a);
    assert_string_equal(got, "3");
    assert_string_equal(second, "");
    static const char *const bad[] = {"", "1", "1.2", "2.0.1", "x.1.1", "0.1.1x", "-1.0.0",
                                      "0.1.-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (store_ticket_cursor_ok(bad[i]))
            fail_msg("cursor \"%s\" accepted", bad[i]);
}

static void test_project_timeline(void **state)
{
    struct fx *f = *state;
    cJSON *p = NULL, *c = NULL, *tl = NULL;
    assert_int_equal(store_project(f->s, "P-NONE", &p, &c, &tl), HF_ERR_NOTFOUND);
    assert_int_equal(store_project(f->s, "P1", &p, &c, &tl), HF_OK);
    assert_string_equal(member(c, "mobile"), "13812340001");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "staff")), 2);
    assert_string_equal(member(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "staff"),
                                                  0), "role"), "pm");
    /* trigger, message 11 (sent), answer, ticket 1, ticket 4, then the
     * pending message 12 at its due time; times are local ISO strings. */
    struct buf types;
    buf_init(&types);
    const cJSON *e;
    const char *prev = "";
    cJSON_ArrayForEach(e, tl) {
        buf_printf(&types, "%s%s", types.len ? "," : "", member(e, "type"));
        assert_true(strcmp(prev, member(e, "at")) <= 0);
        prev = member(e, "at");
    }
    assert_string_equal(types.data, "trigger,message,answer,ticket,ticket,message");
    assert_string_equal(member(cJSON_GetArrayItem(tl, 0), "at"), "2026-11-24T14:00:00+08:00");
    buf_cleanup(&types);
    cJSON_Delete(p);
    cJSON_Delete(c);
    cJSON_Delete(tl);
}

static void test_reports(void **state)
{
    struct fx *f = *state;
    cJSON *m = store_report_milestones(f->s, 0, 0);
    char *txt = cJSON_PrintUnformatted(m);
    assert_string_equal(txt,
                        "[{\"milestone\":\"completion\",\"sent\":2,\"delivered\":1,\"answered\":2,"
                        "\"avg_score\":6.5,\"score_distribution\":{\"1\":0,\"2\":0,\"3\":0,"
                        "\"4\":1,\"5\":0,\"6\":0,\"7\":0,\"8\":0,\"9\":1,\"10\":0}},"
                        "{\"milestone\":\"material_inspection\",\"sent\":1,\"delivered\":0,"
                        "\"answered\":0,\"avg_score\":null,\"score_distribution\":{\"1\":0,"
                        "\"2\":0,\"3\":0,\"4\":0,\"5\":0,\"6\":0,\"7\":0,\"8\":0,\"9\":0,"
                        "\"10\":0}}]");
    free(txt);
    cJSON_Delete(m);

    /* Staff: 李娜 is one person on both projects (her WeCom id); the
     * repair request is no complaint. */
    cJSON *st = store_report_staff(f->s, NULL, 0, 0);
    txt = cJSON_PrintUnformatted(st);
    assert_string_equal(txt,
                        "[{\"role\":\"pm\",\"staff_id\":\"13900000002\",\"name\":\"孙丽\","
                        "\"avg_score\":9,\"answered\":1,\"complaints\":2},"
                        "{\"role\":\"pm\",\"staff_id\":\"13900000001\",\"name\":\"张伟\","
                        "\"avg_score\":4,\"answered\":1,\"complaints\":1},"
                        "{\"role\":\"designer\",\"staff_id\":\"LiNa\",\"name\":\"李娜\","
                        "\"avg_score\":6.5,\"answered\":2,\"complaints\":3}]");
    free(txt);
    cJSON_Delete(st);
    st = store_report_staff(f->s, "pm", 1795501500, 0); /* answered after 11 */
    txt = cJSON_PrintUnformatted(st);
    assert_string_equal(txt, "[{\"role\":\"pm\",\"staff_id\":\"13900000002\",\"name\":\"孙丽\","
                             "\"avg_score\":9,\"answered\":1,\"complaints\":0}]");
    free(txt);
    cJSON_Delete(st);

    cJSON *d = store_report_departments(f->s, 0, 0);
    txt = cJSON_PrintUnformatted(d);
    assert_string_equal(txt, "[{\"department\":\"工程部\",\"complaints\":3},"
                             "{\"department\":\"设计部\",\"complaints\":3}]");
    free(txt);
    cJSON_Delete(d);

    cJSON *t = store_report_tickets(f->s, 0, 0, NOW);
    txt = cJSON_PrintUnformatted(t);
    /* 4 opened; 3 closed in time; 2 overdue now (its answer); reported in
     * time: 1 (reported), 3 (reported); answered in time: 3. */
    assert_string_equal(txt, "{\"opened\":4,\"closed\":1,\"closed_within_clock\":1,"
                             "\"overdue_now\":1,\"reported_in_time\":2,\"answered_in_time\":1}");
    free(txt);
    cJSON_Delete(t);
}

static void count_sent(void *arg, int64_t t, int answered)
{
    int *n = arg;
    (void)t;
    n[0]++;
    n[1] += answered;
}

static void test_sent_surveys(void **state)
{
    struct fx *f = *state;
    int n[2] = {0, 0};
    assert_int_equal(store_report_sent_surveys(f->s, 0, 0, count_sent, n), HF_OK);
    assert_int_equal(n[0], 3); /* 12 was not sent */
    assert_int_equal(n[1], 2);
    n[0] = n[1] = 0;
    assert_int_equal(store_report_sent_surveys(f->s, 1795500100, 0, count_sent, n), HF_OK);
    assert_int_equal(n[0], 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    log_min_level = LOG_LVL_ERR;
    tz_set("Asia/Shanghai");
    const struct CMUnitTest tests[] = {
        T(test_results_filters), T(test_results_keyset_pages), T(test_ticket_clocks_and_filters),
        T(test_ticket_cursor),   T(test_project_timeline),     T(test_reports),
        T(test_sent_surveys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
