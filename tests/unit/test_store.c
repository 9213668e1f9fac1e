/*
 * test_store.c - the embedded SQLite store on a temp file: schema and
 * migrations, intake rows (triggers, customers, projects), the outbox
 * (claim, retry, crash recovery), savepoints inside a group commit, and
 * the read side.
 *
 * Rows are checked through the store's API and, where the API has no
 * reader (customers, staff, attempts), through a second read-only SQLite
 * connection to the same file (WAL lets it read committed data).
 *
 * With HUIFANG_TEST_PG_URL=postgresql://... (tests/run_tests.sh starts a
 * server with tests/pg_server.sh) the same tests run on PostgreSQL: each
 * starts from an empty schema, the second connection is a libpq one, and
 * the tests about SQLite files are replaced by their PostgreSQL analogues.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "util.h"

#define NOW INT64_C(1795487400) /* 2026-11-24T10:30:00+08:00 */

struct fx {
    char dir[64];     /* temp dir */
    char path[128];   /* <dir>/hf.db */
    struct store *s;
    int64_t trigger;  /* a trigger the messages hang off */
};

/* ---- helpers ----------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static struct store *open_ok(const char *path)
{
    char err[512] = "";
    struct store *s = store_open(path, 1, err, sizeof err);
    if (!s)
        fail_msg("store_open(%s) failed: %s", path, err);
    return s;
}

static void seed_customer(struct store *s, const char *id)
{
    struct customer_rec c = {.id = id, .name = "王明", .title = "先生", .mobile = "13812345678",
                             .openid = NULL, .preferred_channel = NULL};
    assert_int_equal(store_customer_upsert(s, &c, NOW), HF_OK);
}

static void seed_project(struct store *s, const char *id, const char *customer)
{
    struct staff_rec staff[] = {{"pm", "李工", "13900000001", NULL}};
    struct project_rec p = {.id = id, .customer_id = customer, .address = "上海市浦东新区 1 号",
                            .kickoff_date = "2026-09-01", .staff = staff, .nstaff = 1};
    assert_int_equal(store_project_upsert(s, &p, NOW), HF_OK);
}

static int insert_trigger(struct store *s, const char *idem, int64_t *id)
{
    char hash[65];
    sha256_hex(idem, strlen(idem), hash);
    struct trigger_rec t = {.idem_key = idem, .body_hash = hash, .milestone = "completion",
                            .project_id = "P1", .customer_id = "C1", .occurred_at = NOW - 60,
                            .received_at = NOW, .body = "{\"milestone\":\"completion\"}",
                            .token_name = "erp"};
    return store_trigger_insert(s, &t, id);
}

static int64_t add_message(struct fx *f, const char *channel, int64_t due)
{
    struct message_new m = {.trigger_id = f->trigger, .milestone = "completion",
                            .message = "survey", .kind = "survey", .recipient = "customer",
                            .channel = channel, .window = "survey", .due_at = due,
                            .expires_at = due + 7 * 86400};
    int64_t id = 0;
    assert_int_equal(store_message_insert(f->s, &m, &id), HF_OK);
    assert_true(id > 0);
    return id;
}

/* The PostgreSQL server under test, or NULL: SQLite files. */
static const char *pg_url;

/* Run @sql on PostgreSQL; the result's first row, first column in @out
 * ("(null)" for NULL, "(none)" for no row). */
static void pg_q(const char *sql, char *out, size_t n)
{
    PGconn *c = PQconnectdb(pg_url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("%s: %s", pg_url, PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        fail_msg("%s: %s", sql, msg);
    }
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0)
        snprintf(out, n, "%s", PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0));
    else
        snprintf(out, n, "(none)");
    PQclear(r);
    PQfinish(c);
}

/* Run @sql (one row, one column) on a separate connection. */
static int64_t q_int(const char *path, const char *sql)
{
    if (pg_url) {
        char v[64];
        pg_q(sql, v, sizeof v);
        if (strcmp(v, "(none)") == 0)
            return INT64_MIN;
        if (strcmp(v, "(null)") == 0)
            return INT64_MIN + 1;
        return strtoll(v, NULL, 10);
    }
    sqlite3 *db;
    sqlite3_stmt *q;
    int64_t v = INT64_MIN;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_type(q, 0) == SQLITE_NULL ? INT64_MIN + 1 : sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

/* Text result of @sql in @out ("(null)" for NULL, "(none)" for no row). */
static void q_text(const char *path, const char *sql, char *out, size_t n)
{
    if (pg_url) {
        pg_q(sql, out, n);
        return;
    }
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        snprintf(out, n, "%s", t ? t : "(null)");
    } else {
        snprintf(out, n, "(none)");
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void expect_text(struct fx *f, const char *sql, const char *want)
{
    char got[256];
    q_text(f->path, sql, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("%s -> \"%s\", expected \"%s\"", sql, got, want);
}

static void expect_int(struct fx *f, const char *sql, int64_t want)
{
    int64_t got = q_int(f->path, sql);
    if (got != want)
        fail_msg("%s -> %lld, expected %lld", sql, (long long)got, (long long)want);
}

static void expect_state(struct fx *f, int64_t id, const char *state)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT state FROM messages WHERE id = %lld", (long long)id);
    expect_text(f, sql, state);
}

static void finish(struct fx *f, int64_t id, int attempt, const char *state, long http,
                   const char *code, const char *provider_id, const char *error, int64_t next)
{
    struct attempt_rec a = {.message_id = id, .attempt = attempt, .channel = "webhook",
                            .started_ms = NOW * 1000, .latency_ms = 42, .http_status = http,
                            .code = code, .provider_id = provider_id, .error = error};
    assert_int_equal(store_attempt_finish(f->s, &a, state, next, NOW), HF_OK);
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/hf_store_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/hf.db", f->dir);
    if (pg_url) { /* every test on an empty database */
        char out[16];
        pg_q("SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public", out, sizeof out);
        snprintf(f->path, sizeof f->path, "%s", pg_url);
    }
    char err[512];
    f->s = store_open(f->path, 1, err, sizeof err);
    if (!f->s) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    seed_customer(f->s, "C1");
    seed_project(f->s, "P1", "C1");
    if (insert_trigger(f->s, "erp-1", &f->trigger) != HF_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- open and migrations ------------------------------------------------ */

static void test_open_creates_schema(void **state)
{
    struct fx *f = *state;
    int v = store_schema_version(f->s);
    assert_true(v >= 1);
    if (pg_url) {
        expect_int(f, "SELECT MAX(version) FROM schema_version", v);
        expect_int(f, "SELECT COUNT(*) FROM schema_version", v);
        static const char *const pg_tables[] = {"customers", "projects", "project_staff",
                                                "triggers", "messages", "attempts", "surveys",
                                                "answers", "tickets", "tasks"};
        for (size_t i = 0; i < HF_ARRAY_LEN(pg_tables); i++) {
            char sql[160];
            snprintf(sql, sizeof sql,
                     "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
                     " AND table_name = '%s'",
                     pg_tables[i]);
            expect_int(f, sql, 1);
        }
        /* the scheduler's partial index */
        expect_text(f, "SELECT indexdef FROM pg_indexes WHERE indexname = 'messages_due'",
                    "CREATE INDEX messages_due ON public.messages USING btree (next_attempt_at)"
                    " WHERE (state = 'pending'::text)");
        return;
    }
    expect_int(f, "PRAGMA user_version", v);
    static const char *const tables[] = {"customers", "projects", "project_staff", "triggers",
                                         "messages", "attempts"};
    for (size_t i = 0; i < HF_ARRAY_LEN(tables); i++) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
                 tables[i]);
        expect_int(f, sql, 1);
    }
    expect_text(f, "PRAGMA journal_mode", "wal");
}

static void test_reopen_keeps_data_without_remigrating(void **state)
{
    struct fx *f = *state;
    int v = store_schema_version(f->s);
    int64_t id = add_message(f, "webhook", NOW);
    store_close(f->s);
    f->s = open_ok(f->path); /* re-running migration 1 would fail on CREATE TABLE */
    assert_int_equal(store_schema_version(f->s), v);
    expect_int(f, pg_url ? "SELECT COUNT(*) FROM schema_version" : "PRAGMA user_version", v);
    char hash[65], *resp = NULL;
    assert_int_equal(store_trigger_find(f->s, "erp-1", hash, &resp), HF_OK);
    free(resp);
    struct message_row rows[4];
    assert_int_equal(store_claim_due(f->s, NOW, 4, rows), 1);
    assert_int_equal(rows[0].id, id);
}

static void test_open_refuses_newer_schema(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    f->s = NULL;
    if (pg_url) {
        char out[16];
        pg_q("INSERT INTO schema_version (version) VALUES (999)", out, sizeof out);
    } else {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
    }
    char err[512] = "";
    struct store *s = store_open(f->path, 1, err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "newer"));
}

/* PostgreSQL: a server that does not answer fails with the URL (its
 * password hidden) and libpq's reason. */
static void pg_open_unreachable_fails(void)
{
    char err[512] = "";
    const char *url = "postgresql://huifang:s3cret@127.0.0.1:1/huifang?connect_timeout=2";
    struct store *s = store_open(url, 1, err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "postgresql://huifang:***@127.0.0.1:1/huifang"));
    assert_null(strstr(err, "s3cret"));
    assert_non_null(strstr(err, "cannot open database"));
}

static void test_open_on_directory_fails(void **state)
{
    struct fx *f = *state;
    if (pg_url) {
        pg_open_unreachable_fails();
        return;
    }
    char err[512] = "";
    struct store *s = store_open(f->dir, 1, err, sizeof err);
    if (s) {
        store_close(s);
        fail_msg("store_open on a directory succeeded");
    }
    assert_non_null(strstr(err, f->dir));
    assert_true(strlen(err) > strlen(f->dir) + 2); /* a reason after the path */
}

static void test_open_unwritable_path_fails(void **state)
{
    struct fx *f = *state;
    if (pg_url)
        skip(); /* SQLite files only */
    char path[256], err[512] = "";
    /* A directory that does not exist. */
    snprintf(path, sizeof path, "%s/no/such/dir/hf.db", f->dir);
    struct store *s = store_open(path, 1, err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cannot open"));
    /* A "directory" that is a regular file (unwritable even for root). */
    snprintf(path, sizeof path, "%s/hf.db/inner.db", f->dir);
    err[0] = '\0';
    s = store_open(path, 1, err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, path));
}

static void test_open_not_a_database_fails(void **state)
{
    struct fx *f = *state;
    if (pg_url)
        skip(); /* SQLite files only */
    char path[256], err[512] = "";
    snprintf(path, sizeof path, "%s/notes.txt", f->dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database\n", fp);
    assert_int_equal(fclose(fp), 0);
    struct store *s = store_open(path, 1, err, sizeof err);
    if (s) {
        store_close(s);
        fail_msg("store_open on a text file succeeded");
    }
    assert_non_null(strstr(err, path));
}

static void test_close_null_is_noop(void **state)
{
    (void)state;
    store_close(NULL);
}

/* ---- intake ---------------------------------------------------------------- */

static void test_trigger_insert_find_round_trip(void **state)
{
    struct fx *f = *state;
    char hash[65] = "", want[65], *resp = (char *)"untouched";
    int64_t id = 0;
    assert_int_equal(insert_trigger(f->s, "erp-2", &id), HF_OK);
    assert_true(id > f->trigger);
    sha256_hex("erp-2", 5, want);
    assert_int_equal(store_trigger_find(f->s, "erp-2", hash, &resp), HF_OK);
    assert_string_equal(hash, want);
    assert_null(resp); /* no response recorded yet */
    assert_int_equal(store_trigger_set_response(f->s, id, "{\"trigger_id\":2}"), HF_OK);
    assert_int_equal(store_trigger_find(f->s, "erp-2", hash, &resp), HF_OK);
    assert_string_equal(resp, "{\"trigger_id\":2}");
    free(resp);
    char *body = NULL;
    assert_int_equal(store_trigger_body(f->s, id, &body), HF_OK);
    assert_string_equal(body, "{\"milestone\":\"completion\"}");
    free(body);
    assert_int_equal(store_trigger_body(f->s, 9999, &body), HF_ERR_NOTFOUND);
    expect_text(f, "SELECT token_name FROM triggers WHERE idem_key = 'erp-2'", "erp");
}

static void test_trigger_find_unknown(void **state)
{
    struct fx *f = *state;
    char hash[65];
    char *resp = NULL;
    assert_int_equal(store_trigger_find(f->s, "never-seen", hash, &resp), HF_ERR_NOTFOUND);
    assert_null(resp);
}

static void test_trigger_duplicate_idem_key_fails(void **state)
{
    struct fx *f = *state;
    int64_t id = -7;
    /* HF_ERR_CONFLICT: intake answers it as a replay (another instance
     * stored the key first). */
    assert_int_equal(insert_trigger(f->s, "erp-1", &id), HF_ERR_CONFLICT);
    assert_int_equal(id, -7); /* untouched on failure */
    expect_int(f, "SELECT COUNT(*) FROM triggers WHERE idem_key = 'erp-1'", 1);
    /* The connection is still usable afterwards. */
    assert_int_equal(insert_trigger(f->s, "erp-3", &id), HF_OK);
}

static void test_trigger_needs_known_project(void **state)
{
    struct fx *f = *state;
    struct trigger_rec t = {.idem_key = "orphan", .body_hash = "x", .milestone = "completion",
                            .project_id = "NOPE", .customer_id = "C1", .occurred_at = NOW,
                            .received_at = NOW, .body = "{}", .token_name = NULL};
    int64_t id;
    assert_int_not_equal(store_trigger_insert(f->s, &t, &id), HF_OK);
}

static void test_customer_upsert_updates_and_keeps_openid(void **state)
{
    struct fx *f = *state;
    struct customer_rec c = {.id = "C2", .name = "张伟", .title = "先生", .mobile = "13800000002",
                             .openid = "oOPENID-1", .preferred_channel = "wechat"};
    assert_int_equal(store_customer_upsert(f->s, &c, NOW), HF_OK);
    struct customer_rec c2 = {.id = "C2", .name = "张伟伟", .title = "女士",
                              .mobile = "13800000003", .openid = NULL,
                              .preferred_channel = NULL};
    assert_int_equal(store_customer_upsert(f->s, &c2, NOW + 100), HF_OK);
    expect_text(f, "SELECT name FROM customers WHERE id = 'C2'", "张伟伟");
    expect_text(f, "SELECT title FROM customers WHERE id = 'C2'", "女士");
    expect_text(f, "SELECT mobile FROM customers WHERE id = 'C2'", "13800000003");
    expect_text(f, "SELECT wechat_openid FROM customers WHERE id = 'C2'", "oOPENID-1");
    expect_text(f, "SELECT preferred_channel FROM customers WHERE id = 'C2'", "wechat");
    expect_int(f, "SELECT created_at FROM customers WHERE id = 'C2'", NOW);
    expect_int(f, "SELECT updated_at FROM customers WHERE id = 'C2'", NOW + 100);
    expect_int(f, "SELECT COUNT(*) FROM customers WHERE id = 'C2'", 1);
    /* A new openid replaces the old one. */
    c2.openid = "oOPENID-2";
    assert_int_equal(store_customer_upsert(f->s, &c2, NOW + 200), HF_OK);
    expect_text(f, "SELECT wechat_openid FROM customers WHERE id = 'C2'", "oOPENID-2");
}

static void test_project_upsert_replaces_staff(void **state)
{
    struct fx *f = *state;
    struct staff_rec staff[] = {{"pm", "李工", "13900000001", "wecom-li"},
                                {"designer", "赵设计", NULL, NULL},
                                {"foreman", "钱工长", "13900000003", NULL}};
    struct project_rec p = {.id = "P2", .customer_id = "C1", .address = "A 路 1 号",
                            .kickoff_date = "2026-10-01", .staff = staff, .nstaff = 3};
    assert_int_equal(store_project_upsert(f->s, &p, NOW), HF_OK);
    expect_int(f, "SELECT COUNT(*) FROM project_staff WHERE project_id = 'P2'", 3);
    struct staff_rec staff2[] = {{"pm", "周工", "13900000009", NULL}};
    struct project_rec p2 = {.id = "P2", .customer_id = "C1", .address = "A 路 2 号",
                             .kickoff_date = NULL, .staff = staff2, .nstaff = 1};
    assert_int_equal(store_project_upsert(f->s, &p2, NOW + 10), HF_OK);
    expect_int(f, "SELECT COUNT(*) FROM project_staff WHERE project_id = 'P2'", 1);
    expect_text(f, "SELECT name FROM project_staff WHERE project_id = 'P2' AND role = 'pm'",
                "周工");
    expect_text(f, "SELECT wecom_id FROM project_staff WHERE project_id = 'P2'", "(null)");
    expect_text(f, "SELECT address FROM projects WHERE id = 'P2'", "A 路 2 号");
    expect_text(f, "SELECT kickoff_date FROM projects WHERE id = 'P2'", "2026-10-01");
    expect_int(f, "SELECT COUNT(*) FROM projects WHERE id = 'P2'", 1);
    /* Other projects' staff are untouched. */
    expect_int(f, "SELECT COUNT(*) FROM project_staff WHERE project_id = 'P1'", 1);
    /* No staff at all empties the list. */
    struct project_rec p3 = {.id = "P2", .customer_id = "C1", .address = "A 路 2 号",
                             .staff = NULL, .nstaff = 0};
    assert_int_equal(store_project_upsert(f->s, &p3, NOW + 20), HF_OK);
    expect_int(f, "SELECT COUNT(*) FROM project_staff WHERE project_id = 'P2'", 0);
}

/* ---- outbox ------------------------------------------------------------------ */

static void test_claim_due_only_due_pending_oldest_first(void **state)
{
    struct fx *f = *state;
    int64_t m1 = add_message(f, "webhook", NOW - 10);
    int64_t m2 = add_message(f, "webhook", NOW - 100);
    int64_t m3 = add_message(f, "webhook", NOW + 100); /* not due */
    int64_t m4 = add_message(f, "sms", NOW - 50);
    int64_t m5 = add_message(f, "webhook", NOW);       /* due exactly now */
    assert_int_equal(store_message_set_state(f->s, m4, MSG_EXPIRED, "expired", NULL, NOW), HF_OK);

    struct message_row rows[8];
    memset(rows, 0, sizeof rows);
    int n = store_claim_due(f->s, NOW, 8, rows);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].id, m2);
    assert_int_equal(rows[1].id, m1);
    assert_int_equal(rows[2].id, m5);
    for (int i = 0; i < n; i++) {
        assert_string_equal(rows[i].state, MSG_SENDING);
        assert_int_equal(rows[i].attempts, 1);
        assert_int_equal(rows[i].trigger_id, f->trigger);
        assert_string_equal(rows[i].milestone, "completion");
        assert_string_equal(rows[i].message, "survey");
        assert_string_equal(rows[i].kind, "survey");
        assert_string_equal(rows[i].recipient, "customer");
        assert_string_equal(rows[i].channel, "webhook");
        assert_string_equal(rows[i].window, "survey");
    }
    assert_int_equal(rows[0].due_at, NOW - 100);
    assert_int_equal(rows[0].next_attempt_at, NOW - 100);
    assert_int_equal(rows[0].expires_at, NOW - 100 + 7 * 86400);
    expect_state(f, m1, MSG_SENDING);
    expect_state(f, m2, MSG_SENDING);
    expect_state(f, m3, MSG_PENDING);
    expect_state(f, m4, MSG_EXPIRED);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT attempts FROM messages WHERE id = %lld", (long long)m2);
    expect_int(f, sql, 1);
    /* Claimed rows are not claimed twice. */
    assert_int_equal(store_claim_due(f->s, NOW, 8, rows), 0);
    /* The future one comes when its time comes. */
    assert_int_equal(store_claim_due(f->s, NOW + 100, 8, rows), 1);
    assert_int_equal(rows[0].id, m3);
}

static void test_claim_due_respects_limit(void **state)
{
    struct fx *f = *state;
    int64_t ids[5];
    for (int i = 0; i < 5; i++)
        ids[i] = add_message(f, "webhook", NOW - 50 + i); /* ids[0] oldest */
    struct message_row rows[5];
    assert_int_equal(store_claim_due(f->s, NOW, 2, rows), 2);
    assert_int_equal(rows[0].id, ids[0]);
    assert_int_equal(rows[1].id, ids[1]);
    expect_state(f, ids[2], MSG_PENDING);
    assert_int_equal(store_claim_due(f->s, NOW, 2, rows), 2);
    assert_int_equal(rows[0].id, ids[2]);
    assert_int_equal(rows[1].id, ids[3]);
    assert_int_equal(store_claim_due(f->s, NOW, 2, rows), 1);
    assert_int_equal(rows[0].id, ids[4]);
    assert_int_equal(store_claim_due(f->s, NOW, 2, rows), 0);
}

static void test_claim_due_same_time_in_id_order(void **state)
{
    struct fx *f = *state;
    int64_t a = add_message(f, "webhook", NOW - 5);
    int64_t b = add_message(f, "webhook", NOW - 5);
    int64_t c = add_message(f, "webhook", NOW - 5);
    struct message_row rows[3];
    assert_int_equal(store_claim_due(f->s, NOW, 3, rows), 3);
    assert_int_equal(rows[0].id, a);
    assert_int_equal(rows[1].id, b);
    assert_int_equal(rows[2].id, c);
}

static void test_next_due(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_next_due(f->s), -1);
    add_message(f, "webhook", NOW + 300);
    int64_t early = add_message(f, "webhook", NOW - 20);
    add_message(f, "webhook", NOW + 30);
    assert_int_equal(store_next_due(f->s), NOW - 20);
    /* A claimed message no longer counts. */
    struct message_row rows[1];
    assert_int_equal(store_claim_due(f->s, NOW, 1, rows), 1);
    assert_int_equal(rows[0].id, early);
    assert_int_equal(store_next_due(f->s), NOW + 30);
}

static void test_requeue_inflight_after_crash(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_requeue_inflight(f->s, 0), 0);
    int64_t a = add_message(f, "webhook", NOW - 10);
    int64_t b = add_message(f, "webhook", NOW - 5);
    int64_t c = add_message(f, "webhook", NOW + 500);
    struct message_row rows[4];
    /* A child process claims the due messages and dies before any answer:
     * no close, no checkpoint. */
    store_close(f->s);
    f->s = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512];
        struct store *cs = store_open(f->path, 1, err, sizeof err);
        _exit(cs && store_claim_due(cs, NOW, 4, rows) == 2 ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    f->s = open_ok(f->path);
    expect_state(f, a, MSG_SENDING);
    assert_int_equal(store_requeue_inflight(f->s, 0), 2);
    expect_state(f, a, MSG_PENDING);
    expect_state(f, b, MSG_PENDING);
    expect_state(f, c, MSG_PENDING);
    assert_int_equal(store_next_due(f->s), NOW - 10);
    assert_int_equal(store_claim_due(f->s, NOW, 4, rows), 2);
    assert_int_equal(rows[0].id, a);
    assert_int_equal(rows[1].id, b);
    assert_true(rows[0].attempts >= 1);
    /* nothing else is touched by a second requeue of these */
    finish(f, a, rows[0].attempts, MSG_SENT, 200, "http_200", "p-a", NULL, NOW);
    assert_int_equal(store_requeue_inflight(f->s, 0), 1); /* only b */
    expect_state(f, a, MSG_SENT);
}

/* SMS cut short by a crash wait for their receipt (sms_not_before); other
 * channels, and SMS already due later, are not held back. */
static void test_requeue_holds_sms_for_receipts(void **state)
{
    struct fx *f = *state;
    int64_t sms = add_message(f, "sms", NOW - 10);
    int64_t later = add_message(f, "sms", NOW + 500);
    int64_t wx = add_message(f, "wechat", NOW - 10);
    struct message_row rows[4];
    assert_int_equal(store_claim_due(f->s, NOW + 600, 4, rows), 3);
    assert_int_equal(store_requeue_inflight(f->s, NOW + 120), 3);
    char sql[128];
    const struct { int64_t id, next; } want[] = {{sms, NOW + 120}, {later, NOW + 500},
                                                 {wx, NOW - 10}};
    for (size_t i = 0; i < 3; i++) {
        expect_state(f, want[i].id, MSG_PENDING);
        snprintf(sql, sizeof sql, "SELECT next_attempt_at FROM messages WHERE id = %lld",
                 (long long)want[i].id);
        expect_int(f, sql, want[i].next);
    }
    assert_int_equal(store_next_due(f->s), NOW - 10);
}

/* Tencent's receipt names only the SerialNo the send's answer carries; a
 * push that overtakes the commit of that answer matches no message and is
 * kept. When the answer is stored, the waiting receipt settles the message
 * (and a repeat of the push changes nothing). */
static void test_receipt_before_the_answer_settles_it_later(void **state)
{
    struct fx *f = *state;
    int64_t id = add_message(f, "sms", NOW - 10);
    int64_t other = add_message(f, "sms", NOW - 9);
    struct message_row rows[4];
    assert_int_equal(store_claim_due(f->s, NOW, 4, rows), 2);
    struct receipt_rec r = {.provider = "tencent", .dedup_key = "k1", .message_id = -1,
                            .delivered = 0, .code = "MK:0001", .detail = "用户关机",
                            .ref = "2019:538884*98"};
    int applied = 1;
    assert_int_equal(store_receipt_apply(f->s, &r, NOW, &applied), HF_OK);
    assert_int_equal(applied, 0);
    expect_state(f, id, MSG_SENDING);
    /* another SMS's answer does not take it */
    finish(f, other, 1, MSG_SENT, 200, "Ok", "2019:000000*01", NULL, NOW);
    expect_state(f, other, MSG_SENT);
    finish(f, id, 1, MSG_SENT, 200, "Ok", "2019:538884*98", NULL, NOW);
    expect_state(f, id, MSG_FAILED);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT last_code FROM messages WHERE id = %lld", (long long)id);
    expect_text(f, sql, "MK:0001");
    expect_int(f, "SELECT COUNT(*) FROM receipts WHERE message_id IS NULL", 0);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM receipts WHERE message_id = %lld",
             (long long)id);
    expect_int(f, sql, 1);
    /* the same push again: stored once, the message stays as it is */
    assert_int_equal(store_receipt_apply(f->s, &r, NOW, &applied), HF_OK);
    assert_int_equal(applied, 0);
    expect_int(f, "SELECT COUNT(*) FROM receipts", 1);
}

/* Several instances: a claim is its owner's while the owner's lease runs;
 * once it ended (or with no owner named) it goes back to pending, SMS
 * after their receipt grace as at start. */
static void test_requeue_expired_only_after_the_lease(void **state)
{
    struct fx *f = *state;
    int64_t a1 = add_message(f, "webhook", NOW - 10);
    int64_t b1 = add_message(f, "webhook", NOW - 9);
    int64_t b2 = add_message(f, "sms", NOW - 8);
    struct message_row rows[4];
    assert_int_equal(store_instance_heartbeat(f->s, "host-a:1:aa", NOW, NOW + 30), HF_OK);
    assert_int_equal(store_instance_heartbeat(f->s, "host-b:2:bb", NOW, NOW + 5), HF_OK);
    store_set_owner(f->s, "host-a:1:aa");
    assert_int_equal(store_claim_due(f->s, NOW, 1, rows), 1);
    assert_int_equal(rows[0].id, a1);
    store_set_owner(f->s, "host-b:2:bb");
    assert_int_equal(store_claim_due(f->s, NOW, 4, rows), 2);
    expect_text(f, "SELECT claimed_by FROM messages ORDER BY id LIMIT 1", "host-a:1:aa");
    /* Both leases run: nothing moves. */
    assert_int_equal(store_requeue_expired(f->s, NOW + 5, NOW + 125), 0);
    /* b renewed its lease once, then went silent. */
    assert_int_equal(store_instance_heartbeat(f->s, "host-b:2:bb", NOW + 3, NOW + 8), HF_OK);
    assert_int_equal(store_requeue_expired(f->s, NOW + 8, NOW + 128), 0);
    assert_int_equal(store_requeue_expired(f->s, NOW + 9, NOW + 129), 2);
    expect_state(f, a1, MSG_SENDING);
    expect_state(f, b1, MSG_PENDING);
    expect_state(f, b2, MSG_PENDING);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT next_attempt_at FROM messages WHERE id = %lld",
             (long long)b2);
    expect_int(f, sql, NOW + 129); /* the SMS waits for its receipt */
    snprintf(sql, sizeof sql, "SELECT attempts FROM messages WHERE id = %lld", (long long)b1);
    expect_int(f, sql, 1); /* the cut-short attempt counts */
    expect_int(f, "SELECT COUNT(*) FROM messages WHERE claimed_by = 'host-b:2:bb'", 0);
    /* A clean stop drops the lease: a's claim is claimable at once. */
    assert_int_equal(store_instance_leave(f->s, "host-a:1:aa"), HF_OK);
    assert_int_equal(store_requeue_expired(f->s, NOW + 10, 0), 1);
    expect_state(f, a1, MSG_PENDING);
    /* A claim that names no owner (made before leases existed) is expired. */
    store_set_owner(f->s, "");
    assert_int_equal(store_claim_due(f->s, NOW + 10, 1, rows), 1);
    assert_int_equal(store_instance_heartbeat(f->s, "", NOW, NOW + 60), HF_OK);
    expect_int(f, "SELECT COUNT(*) FROM instances", 2);
}

/* PostgreSQL: two connections claiming at the same time never get the same
 * message; the cron lock has one holder, released with its connection. On
 * SQLite (one instance) the claim is single-writer and the lock always
 * ours. */
static void test_two_instances_claim_apart_and_one_holds_the_cron_lock(void **state)
{
    struct fx *f = *state;
    if (!pg_url) {
        assert_int_equal(store_cron_leader(f->s), 1);
        assert_int_equal(store_cron_leader(f->s), 1);
        return;
    }
    int64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = add_message(f, "webhook", NOW - 10 + i);
    struct store *other = open_ok(f->path);
    struct message_row rows[4], orows[4];
    store_set_owner(f->s, "one");
    store_set_owner(other, "two");
    /* "one" holds its claim open (not committed) while "two" claims. */
    assert_int_equal(store_begin(f->s), HF_OK);
    assert_int_equal(store_claim_due(f->s, NOW, 2, rows), 2);
    assert_int_equal(store_claim_due(other, NOW, 4, orows), 1);
    assert_int_equal(orows[0].id, ids[2]);
    assert_int_equal(store_commit(f->s), HF_OK);
    assert_int_equal(rows[0].id, ids[0]);
    assert_int_equal(rows[1].id, ids[1]);
    assert_int_equal(rows[0].attempts, 1);
    assert_int_equal(store_claim_due(other, NOW, 4, orows), 0);
    expect_int(f, "SELECT COUNT(*) FROM messages WHERE claimed_by = 'one'", 2);
    expect_int(f, "SELECT COUNT(*) FROM messages WHERE claimed_by = 'two'", 1);

    assert_int_equal(store_cron_leader(f->s), 1);
    assert_int_equal(store_cron_leader(other), 0);
    assert_int_equal(store_cron_leader(f->s), 1); /* asked again: still ours */
    assert_int_equal(store_cron_leader(other), 0);
    store_close(f->s); /* the holder's connection ends */
    f->s = NULL;
    /* The server ends the session a moment after the client left: the
     * daemon asks every second; here every 10 ms for up to 5 s. */
    int leader = 0;
    for (int i = 0; i < 500 && (leader = store_cron_leader(other)) == 0; i++)
        usleep(10000);
    assert_int_equal(leader, 1);
    f->s = other;
    expect_int(f, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND database ="
                  " (SELECT oid FROM pg_database WHERE datname = current_database())", 1);
}

/* Merging a survey into today's carrier takes a pending one, or one this
 * instance claimed; never one another instance is sending. */
static void test_survey_merge_leaves_other_instances_claims(void **state)
{
    struct fx *f = *state;
    int64_t carrier = add_message(f, "webhook", NOW - 20);
    int64_t theirs = add_message(f, "webhook", NOW - 10);
    int64_t pending = add_message(f, "webhook", NOW + 100);
    struct message_row rows[4];
    store_set_owner(f->s, "other:1:aa");
    assert_int_equal(store_claim_due(f->s, NOW, 2, rows), 2); /* carrier and theirs */
    store_set_owner(f->s, "this:2:bb");
    assert_int_equal(store_survey_merge(f->s, theirs, carrier, NOW), HF_OK);
    expect_state(f, theirs, MSG_SENDING);
    assert_int_equal(store_survey_merge(f->s, pending, carrier, NOW), HF_OK);
    expect_state(f, pending, "cancelled");
    store_set_owner(f->s, "other:1:aa");
    assert_int_equal(store_survey_merge(f->s, theirs, carrier, NOW), HF_OK);
    expect_state(f, theirs, "cancelled");
}

static void test_attempt_finish_sent(void **state)
{
    struct fx *f = *state;
    int64_t id = add_message(f, "webhook", NOW - 1);
    struct message_row rows[1];
    assert_int_equal(store_claim_due(f->s, NOW, 1, rows), 1);
    finish(f, id, 1, MSG_SENT, 200, "http_200", "prov-77", NULL, NOW);
    char sql[320];
    expect_state(f, id, MSG_SENT);
    snprintf(sql, sizeof sql, "SELECT provider_id FROM messages WHERE id = %lld", (long long)id);
    expect_text(f, sql, "prov-77");
    snprintf(sql, sizeof sql, "SELECT sent_at FROM messages WHERE id = %lld", (long long)id);
    expect_int(f, sql, NOW);
    snprintf(sql, sizeof sql, "SELECT last_code FROM messages WHERE id = %lld", (long long)id);
    expect_text(f, sql, "http_200");
    /* the attempts table has the row */
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM attempts WHERE message_id = %lld",
             (long long)id);
    expect_int(f, sql, 1);
    snprintf(sql, sizeof sql,
             "SELECT attempt || '|' || channel || '|' || started_ms || '|' || latency_ms || '|'"
             " || http_status || '|' || code || '|' || provider_id || '|' || COALESCE(error, '-')"
             " FROM attempts WHERE message_id = %lld",
             (long long)id);
    char want[160];
    snprintf(want, sizeof want, "1|webhook|%lld|42|200|http_200|prov-77|-",
             (long long)(NOW * 1000));
    expect_text(f, sql, want);
    /* not claimable any more */
    assert_int_equal(store_claim_due(f->s, NOW + 86400, 1, rows), 0);
    assert_int_equal(store_next_due(f->s), -1);
}

static void test_attempt_finish_failed(void **state)
{
    struct fx *f = *state;
    int64_t id = add_message(f, "webhook", NOW - 1);
    struct message_row rows[1];
    assert_int_equal(store_claim_due(f->s, NOW, 1, rows), 1);
    finish(f, id, 1, MSG_FAILED, 400, "http_400", NULL, "provider answered HTTP 400", NOW);
    char sql[320];
    expect_state(f, id, MSG_FAILED);
    snprintf(sql, sizeof sql, "SELECT last_error FROM messages WHERE id = %lld", (long long)id);
    expect_text(f, sql, "provider answered HTTP 400");
    snprintf(sql, sizeof sql, "SELECT sent_at FROM messages WHERE id = %lld", (long long)id);
    expect_text(f, sql, "(null)");
    snprintf(sql, sizeof sql, "SELECT provider_id FROM messages WHERE id = %lld", (long long)id);
    expect_text(f, sql, "(null)");
    snprintf(sql, sizeof sql,
             "SELECT http_status || '|' || code || '|' || error FROM attempts WHERE message_id = %lld",
             (long long)id);
    expect_text(f, sql, "400|http_400|provider answered HTTP 400");
    assert_int_equal(store_claim_due(f->s, NOW + 86400, 1, rows), 0);
}

static void test_attempt_finish_retry_later(void **state)
{
    struct fx *f = *state;
    int64_t id = add_message(f, "webhook", NOW - 1);
    struct message_row rows[1];
    assert_int_equal(store_claim_due(f->s, NOW, 1, rows), 1);
    /* transport error: no HTTP status */
    finish(f, id, 1, MSG_PENDING, 0, "timeout", NULL, "operation timed out", NOW + 60);
    expect_state(f, id, MSG_PENDING);
    assert_int_equal(store_next_due(f->s), NOW + 60);
    assert_int_equal(store_claim_due(f->s, NOW + 59, 1, rows), 0);
    assert_int_equal(store_due_count(f->s, NOW + 59), 0);
    assert_int_equal(store_due_count(f->s, NOW + 60), 1);
    assert_int_equal(store_claim_due(f->s, NOW + 60, 1, rows), 1);
    assert_int_equal(rows[0].id, id);
    assert_int_equal(rows[0].attempts, 2);
    assert_int_equal(rows[0].due_at, NOW - 1); /* the original due time is kept */
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT COALESCE(CAST(http_status AS TEXT), 'null') || '|' || code FROM attempts WHERE message_id = %lld",
             (long long)id);
    expect_text(f, sql, "null|timeout");
    finish(f, id, 2, MSG_SENT, 202, "http_202", "", NULL, NOW + 61);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM attempts WHERE message_id = %lld",
             (long long)id);
    expect_int(f, sql, 2);
    snprintf(sql, sizeof sql, "SELECT attempts FROM messages WHERE id = %lld", (long long)id);
    expect_int(f, sql, 2);
}

static void test_reschedule_and_set_state(void **state)
{
    struct fx *f = *state;
    int64_t id = add_message(f, "webhook", NOW - 1);
    struct message_row rows[1];
    assert_int_equal(store_claim_due(f->s, NOW, 1, rows), 1);
    /* outside its window: back to pending, the attempt not counted */
    assert_int_equal(store_message_reschedule(f->s, id, NOW + 3600, 1), HF_OK);
    expect_state(f, id, MSG_PENDING);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT attempts FROM messages WHERE id = %lld", (long long)id);
    expect_int(f, sql, 0);
    assert_int_equal(store_next_due(f->s), NOW + 3600);
    assert_int_equal(store_message_set_state(f->s, id, MSG_EXPIRED, "expired", "too late", NOW),
                     HF_OK);
    expect_state(f, id, MSG_EXPIRED);
    assert_int_equal(store_next_due(f->s), -1);
    /* the schema refuses states that do not exist */
    assert_int_not_equal(store_message_set_state(f->s, id, "bogus", NULL, NULL, NOW), HF_OK);
}

/* ---- transactions ------------------------------------------------------------- */

/* A group commit of three requests where the second fails: its rows go,
 * the first and third are committed. */
static void test_savepoint_rollback_to_undoes_one_request(void **state)
{
    struct fx *f = *state;
    int64_t id;
    assert_int_equal(store_begin(f->s), HF_OK);

    assert_int_equal(store_savepoint(f->s), HF_OK);
    assert_int_equal(insert_trigger(f->s, "req-A", &id), HF_OK);
    assert_int_equal(store_release(f->s), HF_OK);

    assert_int_equal(store_savepoint(f->s), HF_OK);
    seed_customer(f->s, "C-B");
    assert_int_equal(insert_trigger(f->s, "req-B", &id), HF_OK);
    assert_int_not_equal(insert_trigger(f->s, "req-A", &id), HF_OK); /* its failure */
    assert_int_equal(store_rollback_to(f->s), HF_OK);

    assert_int_equal(store_savepoint(f->s), HF_OK);
    assert_int_equal(insert_trigger(f->s, "req-C", &id), HF_OK);
    assert_int_equal(store_release(f->s), HF_OK);

    assert_int_equal(store_commit(f->s), HF_OK);

    char hash[65], *resp = NULL;
    assert_int_equal(store_trigger_find(f->s, "req-A", hash, &resp), HF_OK);
    free(resp);
    resp = NULL;
    assert_int_equal(store_trigger_find(f->s, "req-B", hash, &resp), HF_ERR_NOTFOUND);
    assert_int_equal(store_trigger_find(f->s, "req-C", hash, &resp), HF_OK);
    free(resp);
    expect_int(f, "SELECT COUNT(*) FROM customers WHERE id = 'C-B'", 0);
    expect_int(f, "SELECT COUNT(*) FROM triggers WHERE idem_key IN ('req-A','req-C')", 2);
}

static void test_rollback_discards_transaction(void **state)
{
    struct fx *f = *state;
    int64_t id;
    assert_int_equal(store_begin(f->s), HF_OK);
    assert_int_equal(insert_trigger(f->s, "gone", &id), HF_OK);
    add_message(f, "webhook", NOW);
    assert_int_equal(store_rollback(f->s), HF_OK);
    char hash[65], *resp = NULL;
    assert_int_equal(store_trigger_find(f->s, "gone", hash, &resp), HF_ERR_NOTFOUND);
    assert_int_equal(store_due_count(f->s, NOW), 0);
    /* a claim inside a rolled-back transaction leaves the rows pending */
    int64_t m = add_message(f, "webhook", NOW);
    struct message_row rows[1];
    assert_int_equal(store_begin(f->s), HF_OK);
    assert_int_equal(store_claim_due(f->s, NOW, 1, rows), 1);
    assert_int_equal(store_rollback(f->s), HF_OK);
    expect_state(f, m, MSG_PENDING);
}

/* ---- reading ---------------------------------------------------------------- */

struct counts {
    int64_t pending_webhook, pending_sms, sending_webhook, sent_webhook, failed_sms, other;
    int calls;
};

static void count_cb(void *arg, const char *st, const char *channel, int64_t n)
{
    struct counts *c = arg;
    c->calls++;
    if (!strcmp(st, "pending") && !strcmp(channel, "webhook"))
        c->pending_webhook = n;
    else if (!strcmp(st, "pending") && !strcmp(channel, "sms"))
        c->pending_sms = n;
    else if (!strcmp(st, "sending") && !strcmp(channel, "webhook"))
        c->sending_webhook = n;
    else if (!strcmp(st, "sent") && !strcmp(channel, "webhook"))
        c->sent_webhook = n;
    else if (!strcmp(st, "failed") && !strcmp(channel, "sms"))
        c->failed_sms = n;
    else
        c->other += n;
}

static void test_message_counts_and_due_count(void **state)
{
    struct fx *f = *state;
    struct counts c = {0};
    assert_int_equal(store_message_counts(f->s, count_cb, &c), HF_OK);
    assert_int_equal(c.calls, 0);
    assert_int_equal(store_due_count(f->s, NOW), 0);

    int64_t sent = add_message(f, "webhook", NOW - 30);
    add_message(f, "webhook", NOW - 20);  /* will be sending */
    add_message(f, "webhook", NOW - 10);  /* pending, due */
    add_message(f, "webhook", NOW + 100); /* pending, not due */
    int64_t sms1 = add_message(f, "sms", NOW - 40);
    add_message(f, "sms", NOW - 1);       /* pending, due */
    assert_int_equal(store_message_set_state(f->s, sms1, MSG_FAILED, "x", NULL, NOW), HF_OK);
    struct message_row rows[2];
    assert_int_equal(store_claim_due(f->s, NOW, 2, rows), 2); /* sent, then NOW-20 */
    assert_int_equal(rows[0].id, sent);
    finish(f, sent, 1, MSG_SENT, 200, "http_200", "p", NULL, NOW);

    memset(&c, 0, sizeof c);
    assert_int_equal(store_message_counts(f->s, count_cb, &c), HF_OK);
    assert_int_equal(c.pending_webhook, 2);
    assert_int_equal(c.pending_sms, 1);
    assert_int_equal(c.sending_webhook, 1);
    assert_int_equal(c.sent_webhook, 1);
    assert_int_equal(c.failed_sms, 1);
    assert_int_equal(c.other, 0);
    assert_int_equal(c.calls, 5);

    assert_int_equal(store_due_count(f->s, NOW), 2);       /* NOW-10 webhook, NOW-1 sms */
    assert_int_equal(store_due_count(f->s, NOW + 100), 3); /* and the future one */
    assert_int_equal(store_due_count(f->s, NOW - 1000), 0);
}

static void test_message_json_has_fields(void **state)
{
    struct fx *f = *state;
    assert_int_equal(tz_set("Asia/Shanghai"), 0);
    int64_t id = add_message(f, "webhook", NOW);
    struct message_row rows[1];
    assert_int_equal(store_claim_due(f->s, NOW, 1, rows), 1);
    finish(f, id, 1, MSG_PENDING, 503, "http_503", NULL, "provider answered HTTP 503", NOW + 60);

    char *json = NULL;
    assert_int_equal(store_message_json(f->s, id, &json), HF_OK);
    cJSON *o = cJSON_Parse(json);
    if (!o)
        fail_msg("store_message_json is not JSON: %s", json);
    free(json);
    assert_int_equal(cJSON_GetObjectItem(o, "id")->valuedouble, (double)id);
    assert_int_equal(cJSON_GetObjectItem(o, "trigger_id")->valuedouble, (double)f->trigger);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "milestone")), "completion");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "message")), "survey");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind")), "survey");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "recipient")), "customer");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "channel")), "webhook");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "state")), "pending");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "due_at")),
                        "2026-11-24T10:30:00+08:00");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "next_attempt_at")),
                        "2026-11-24T10:31:00+08:00");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "expires_at")),
                        "2026-12-01T10:30:00+08:00");
    cJSON *attempts = cJSON_GetObjectItem(o, "attempts");
    assert_true(cJSON_IsNumber(attempts));
    assert_int_equal(attempts->valuedouble, 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "last_code")), "http_503");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "last_error")),
                        "provider answered HTTP 503");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "provider_id")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "sent_at")));
    cJSON_Delete(o);

    json = (char *)"untouched";
    assert_int_equal(store_message_json(f->s, 424242, &json), HF_ERR_NOTFOUND);
}

/* ---- provider tokens: one owner across instances -------------------------- */

static void test_token_put_get_and_forced_time(void **state)
{
    struct fx *f = *state;
    char tok[64];
    int64_t exp = -1, forced = -1;
    assert_int_equal(store_token_get(f->s, "wechat:wx1", tok, sizeof tok, &exp, &forced),
                     HF_ERR_NOTFOUND);
    /* A forced refresh recorded before any token: a row without one. */
    assert_int_equal(store_token_forced(f->s, "wechat:wx1", NOW * 1000 + 123, NOW), HF_OK);
    assert_int_equal(store_token_get(f->s, "wechat:wx1", tok, sizeof tok, &exp, &forced), HF_OK);
    assert_string_equal(tok, "");
    assert_int_equal(exp, 0);
    assert_int_equal(forced, NOW * 1000 + 123);
    /* Storing the token keeps the forced time; a new forced time replaces it. */
    assert_int_equal(store_token_put(f->s, "wechat:wx1", "TOK-1", NOW + 7000, NOW), HF_OK);
    assert_int_equal(store_token_get(f->s, "wechat:wx1", tok, sizeof tok, &exp, &forced), HF_OK);
    assert_string_equal(tok, "TOK-1");
    assert_int_equal(exp, NOW + 7000);
    assert_int_equal(forced, NOW * 1000 + 123);
    assert_int_equal(store_token_forced(f->s, "wechat:wx1", NOW * 1000 + 31000, NOW + 31), HF_OK);
    assert_int_equal(store_token_get(f->s, "wechat:wx1", tok, sizeof tok, &exp, NULL), HF_OK);
    assert_string_equal(tok, "TOK-1");
    assert_int_equal(store_token_get(f->s, "wechat:wx1", tok, sizeof tok, &exp, &forced), HF_OK);
    assert_int_equal(forced, NOW * 1000 + 31000);
    /* A token never forced reads 0; a buffer too small is not a token. */
    assert_int_equal(store_token_put(f->s, "wecom:ww1", "TOK-2", NOW + 7000, NOW), HF_OK);
    assert_int_equal(store_token_get(f->s, "wecom:ww1", tok, sizeof tok, &exp, &forced), HF_OK);
    assert_int_equal(forced, 0);
    assert_int_equal(store_token_get(f->s, "wecom:ww1", tok, 5, &exp, &forced), HF_ERR_NOTFOUND);
}

/* Two instances on one database (two store connections): on PostgreSQL
 * one at a time holds a token's lock, whatever the transactions do, and
 * the server frees it when the holder's connection ends (a crash). SQLite
 * serves one instance: the lock is always granted. */
static void test_token_lock_one_owner_at_a_time(void **state)
{
    struct fx *f = *state;
    struct store *other = open_ok(f->path);
    assert_int_equal(store_token_lock(f->s, "wechat:wx1"), HF_OK);
    if (!pg_url) {
        assert_int_equal(store_token_lock(other, "wechat:wx1"), HF_OK);
        store_token_unlock(other, "wechat:wx1");
        store_token_unlock(f->s, "wechat:wx1");
        store_close(other);
        return;
    }
    assert_int_equal(store_token_lock(other, "wechat:wx1"), HF_ERR_CONFLICT);
    /* Another token is another lock. */
    assert_int_equal(store_token_lock(other, "wecom:ww1"), HF_OK);
    assert_int_equal(store_token_lock(f->s, "wecom:ww1"), HF_ERR_CONFLICT);
    /* A transaction rolled back does not release it. */
    assert_int_equal(store_begin(f->s), HF_OK);
    assert_int_equal(store_token_put(f->s, "wechat:wx1", "TOK-1", NOW + 7000, NOW), HF_OK);
    store_rollback(f->s);
    assert_int_equal(store_token_lock(other, "wechat:wx1"), HF_ERR_CONFLICT);
    /* Released: the other instance takes it. */
    store_token_unlock(f->s, "wechat:wx1");
    assert_int_equal(store_token_lock(other, "wechat:wx1"), HF_OK);
    assert_int_equal(store_token_lock(f->s, "wechat:wx1"), HF_ERR_CONFLICT);
    /* The holder dies (its connection ends): both locks are free again,
     * once its server process has gone (it exits after the connection
     * closes, hence the bounded wait). */
    store_close(other);
    int rc = HF_ERR_CONFLICT;
    for (int i = 0; i < 500 && rc == HF_ERR_CONFLICT; i++) {
        rc = store_token_lock(f->s, "wechat:wx1");
        if (rc == HF_ERR_CONFLICT)
            usleep(10000);
    }
    assert_int_equal(rc, HF_OK);
    assert_int_equal(store_token_lock(f->s, "wecom:ww1"), HF_OK);
    store_token_unlock(f->s, "wechat:wx1");
    store_token_unlock(f->s, "wecom:ww1");
}

int main(void)
{
    log_min_level = LOG_LVL_WARN; /* keep "applied migration" lines out of the output */
    pg_url = getenv("HUIFANG_TEST_PG_URL");
    if (pg_url && !*pg_url)
        pg_url = NULL;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_creates_schema),
        T(test_reopen_keeps_data_without_remigrating),
        T(test_open_refuses_newer_schema),
        T(test_open_on_directory_fails),
        T(test_open_unwritable_path_fails),
        T(test_open_not_a_database_fails),
        T(test_close_null_is_noop),
        T(test_trigger_insert_find_round_trip),
        T(test_trigger_find_unknown),
        T(test_trigger_duplicate_idem_key_fails),
        T(test_trigger_needs_known_project),
        T(test_customer_upsert_updates_and_keeps_openid),
        T(test_project_upsert_replaces_staff),
        T(test_claim_due_only_due_pending_oldest_first),
        T(test_claim_due_respects_limit),
        T(test_claim_due_same_time_in_id_order),
        T(test_next_due),
        T(test_requeue_inflight_after_crash),
        T(test_requeue_holds_sms_for_receipts),
        T(test_receipt_before_the_answer_settles_it_later),
        T(test_requeue_expired_only_after_the_lease),
        T(test_two_instances_claim_apart_and_one_holds_the_cron_lock),
        T(test_survey_merge_leaves_other_instances_claims),
        T(test_attempt_finish_sent),
        T(test_attempt_finish_failed),
        T(test_attempt_finish_retry_later),
        T(test_reschedule_and_set_state),
        T(test_savepoint_rollback_to_undoes_one_request),
        T(test_rollback_discards_transaction),
        T(test_message_counts_and_due_count),
        T(test_message_json_has_fields),
        T(test_token_put_get_and_forced_time),
        T(test_token_lock_one_owner_at_a_time),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
