/*
 * store_read.c - the read-only queries behind the customer-service API:
 * callback results, messages, tickets, a project's timeline and the
 * reports.
 *
 * Their SQL depends on the filters of each request, so the statements are
 * built per call (with bound parameters only, never spliced values) and
 * finalized after it; the write paths in store_sqlite.c keep their cached
 * statements. Every list is bounded by its limit (at most a few thousand
 * rows for a CSV export) and every filter column is indexed or reached
 * through an indexed join.
 */
#include "store.h"
#include "store_internal.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ---- a small query builder: SQL text plus typed binds ------------------- */

#define QB_MAX_BINDS 24

struct qb {
    struct buf sql;
    int n;
    struct {
        int is_int;
        int64_t i;
        const char *s; /* borrowed */
    } b[QB_MAX_BINDS];
};

static void qb_init(struct qb *q, const char *sql)
{
    buf_init(&q->sql);
    buf_puts(&q->sql, sql);
    q->n = 0;
}

/* Append @frag with every bare "?" replaced by "?N" of the bind just
 * added; numbered ones ("?1") are kept. */
static void qb_frag(struct qb *q, const char *frag)
{
    for (const char *p = frag; *p; p++) {
        if (*p == '?' && !(p[1] >= '0' && p[1] <= '9'))
            buf_printf(&q->sql, "?%d", q->n);
        else
            buf_append(&q->sql, p, 1);
    }
}

/* Append @frag with every bare "?" replaced by "?N" of a new text bind. */
static void qb_text(struct qb *q, const char *frag, const char *v)
{
    HF_ASSERT(q->n < QB_MAX_BINDS);
    q->b[q->n].is_int = 0;
    q->b[q->n].s = v;
    q->n++;
    qb_frag(q, frag);
}

static void qb_int(struct qb *q, const char *frag, int64_t v)
{
    HF_ASSERT(q->n < QB_MAX_BINDS);
    q->b[q->n].is_int = 1;
    q->b[q->n].i = v;
    q->n++;
    qb_frag(q, frag);
}

static sqlite3_stmt *qb_prepare(struct store *s, struct qb *q)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store__db(s), q->sql.data, -1, &st, NULL) != SQLITE_OK) {
        LOG_ERR("store", "query failed: %s", sqlite3_errmsg(store__db(s)));
        buf_cleanup(&q->sql);
        return NULL;
    }
    for (int i = 0; i < q->n; i++) {
        if (q->b[i].is_int)
            sqlite3_bind_int64(st, i + 1, q->b[i].i);
        else
            sqlite3_bind_text(st, i + 1, q->b[i].s, -1, SQLITE_STATIC);
    }
    buf_cleanup(&q->sql);
    return st;
}

static int ends_with_at(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "at") == 0 || (n > 3 && strcmp(name + n - 3, "_at") == 0);
}

/* Integers under keys ending in "_at" (and "at") inside @j become local
 * ISO-8601 strings, recursively (timeline entries carry raw epochs). */
static void times_to_iso(cJSON *j)
{
    for (cJSON *c = j->child, *next; c; c = next) {
        next = c->next; /* c may be replaced (and freed) below */
        if (c->string && cJSON_IsNumber(c) && ends_with_at(c->string)) {
            char iso[32];
            iso8601_format_local((int64_t)c->valuedouble, iso);
            cJSON *n = cJSON_CreateString(iso);
            n->string = xstrdup(c->string); /* ViaPointer does not copy the key */
            cJSON_ReplaceItemViaPointer(j, c, n);
            continue;
        }
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            times_to_iso(c);
    }
}

/* Columns that hold JSON text (built with json_object in SQL). */
static int json_column(const char *name)
{
    static const char *const names[] = {"answers", "parsed", "history", "staff", "customer",
                                        "score_distribution", "data"};
    for (size_t i = 0; i < HF_ARRAY_LEN(names); i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

/* One row of @q as an object. Columns whose name starts with "_" are
 * internal (cursors) and left out. */
static cJSON *row_object(sqlite3_stmt *q)
{
    cJSON *o = cJSON_CreateObject();
    int nc = sqlite3_column_count(q);
    for (int c = 0; c < nc; c++) {
        const char *name = sqlite3_column_name(q, c);
        if (name[0] == '_')
            continue;
        int t = sqlite3_column_type(q, c);
        if (t == SQLITE_NULL) {
            cJSON_AddNullToObject(o, name);
        } else if (t == SQLITE_INTEGER && ends_with_at(name)) {
            char iso[32];
            iso8601_format_local(sqlite3_column_int64(q, c), iso);
            cJSON_AddStringToObject(o, name, iso);
        } else if (t == SQLITE_INTEGER) {
            cJSON_AddNumberToObject(o, name, (double)sqlite3_column_int64(q, c));
        } else if (t == SQLITE_FLOAT) {
            cJSON_AddNumberToObject(o, name, sqlite3_column_double(q, c));
        } else if (json_column(name)) {
            cJSON *j = cJSON_Parse((const char *)sqlite3_column_text(q, c));
            if (j) {
                times_to_iso(j);
                cJSON_AddItemToObject(o, name, j);
            } else {
                cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(q, c));
            }
        } else {
            cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(q, c));
        }
    }
    return o;
}

/* Run the built query; rows as an array. With @cursor_fn, it is called on
 * the last row to set the cursor (only when the page is full). */
static cJSON *run_rows(struct store *s, struct qb *qb, int limit,
                       void (*cursor_fn)(sqlite3_stmt *q, char *cursor), char *cursor)
{
    sqlite3_stmt *q = qb_prepare(s, qb);
    if (!q)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    int n = 0, rc;
    char last[STORE_CURSOR_LEN] = "";
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cJSON_AddItemToArray(arr, row_object(q));
        n++;
        if (cursor_fn)
            cursor_fn(q, last);
    }
    if (rc != SQLITE_DONE) {
        LOG_ERR("store", "query failed: %s", sqlite3_errmsg(store__db(s)));
        sqlite3_finalize(q);
        cJSON_Delete(arr);
        return NULL;
    }
    sqlite3_finalize(q);
    if (cursor)
        snprintf(cursor, STORE_CURSOR_LEN, "%s", limit > 0 && n == limit ? last : "");
    return arr;
}

char *store__query_json(struct store *s, const char *sql, const char *const *binds, int nbinds,
                        int64_t *last_id)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(store__db(s), sql, -1, &q, NULL) != SQLITE_OK) {
        LOG_ERR("store", "query failed: %s", sqlite3_errmsg(store__db(s)));
        return NULL;
    }
    for (int i = 0; i < nbinds; i++)
        sqlite3_bind_text(q, i + 1, binds[i], -1, SQLITE_STATIC);
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cJSON_AddItemToArray(arr, row_object(q));
        if (last_id)
            *last_id = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    char *out = rc == SQLITE_DONE ? cJSON_PrintUnformatted(arr) : NULL;
    if (rc != SQLITE_DONE)
        LOG_ERR("store", "query failed: %s", sqlite3_errmsg(store__db(s)));
    cJSON_Delete(arr);
    return out;
}

/* The first column is the row's id: the cursor. */
static void id_cursor(sqlite3_stmt *q, char *cursor)
{
    snprintf(cursor, STORE_CURSOR_LEN, "%" PRId64, (int64_t)sqlite3_column_int64(q, 0));
}

/* The state of a survey's message, or, for a survey merged into another
 * message, of the message that carried it: a survey counts as sent when
 * that reached the provider. */
#define SURVEY_SENT_STATE "COALESCE(cm.state, m.state)"

/* ---- callback results ------------------------------------------------------ */

cJSON *store_results(struct store *s, const struct result_filter *f,
                     char next_cursor[STORE_CURSOR_LEN])
{
    struct qb q;
    qb_init(&q,
            "SELECT s.message_id AS id, s.survey, s.milestone, s.project_id, s.customer_id,"
            " c.name AS customer_name, c.mobile AS customer_mobile, s.state, s.score, s.flagged,"
            " s.answers, COALESCE(cm.channel, m.channel) AS channel,"
            " COALESCE(cm.state, m.state) AS message_state,"
            " COALESCE(cm.sent_at, m.sent_at) AS sent_at, s.answered_at, s.expires_at,"
            " (SELECT json_group_array(json_object('channel', a.channel, 'raw', a.raw,"
            "   'parsed', json(a.parsed), 'score', a.score, 'flagged', a.flagged,"
            "   'amendment', a.amendment, 'received_at', a.received_at))"
            "  FROM (SELECT * FROM answers WHERE message_id = s.message_id ORDER BY id) a)"
            "  AS history,"
            " (SELECT json_object('pm', (SELECT name FROM project_staff WHERE project_id ="
            "   s.project_id AND role = 'pm'), 'designer', (SELECT name FROM project_staff WHERE"
            "   project_id = s.project_id AND role = 'designer'), 'foreman', (SELECT name FROM"
            "   project_staff WHERE project_id = s.project_id AND role = 'foreman'),"
            "   'supervisor', (SELECT name FROM project_staff WHERE project_id = s.project_id"
            "   AND role = 'supervisor'))) AS staff"
            " FROM surveys s JOIN messages m ON m.id = s.message_id"
            " LEFT JOIN messages cm ON cm.id = s.merged_into"
            " LEFT JOIN customers c ON c.id = s.customer_id"
            /* a result once asked: not the surveys still waiting for their
             * day (tomorrow's confirmation, next year's warranty visit) */
            " WHERE (" SURVEY_SENT_STATE " NOT IN ('pending', 'sending')"
            "  OR s.answered_at IS NOT NULL)");
    qb_int(&q, " AND s.message_id > ?", f->cursor);
    if (f->from > 0)
        qb_int(&q, " AND COALESCE(s.answered_at, s.created_at) >= ?", f->from);
    if (f->to > 0)
        qb_int(&q, " AND COALESCE(s.answered_at, s.created_at) < ?", f->to);
    if (f->project)
        qb_text(&q, " AND s.project_id = ?", f->project);
    if (f->customer)
        qb_text(&q, " AND s.customer_id = ?", f->customer);
    if (f->milestone)
        qb_text(&q, " AND s.milestone = ?", f->milestone);
    if (f->channel)
        qb_text(&q, " AND COALESCE(cm.channel, m.channel) = ?", f->channel);
    if (f->state && strcmp(f->state, "flagged") == 0)
        buf_puts(&q.sql, " AND s.flagged = 1");
    else if (f->state)
        qb_text(&q, " AND s.state = ?", f->state);
    if (f->flagged_only)
        buf_puts(&q.sql, " AND s.flagged = 1");
    if (f->staff) {
        /* Three binds of the same value. */
        qb_text(&q, " AND EXISTS (SELECT 1 FROM project_staff ps WHERE ps.project_id ="
                    " s.project_id AND (ps.name = ?", f->staff);
        qb_text(&q, " OR ps.phone = ?", f->staff);
        qb_text(&q, " OR ps.wecom_id = ?))", f->staff);
    }
    if (f->score_min >= 0)
        qb_int(&q, " AND s.score >= ?", f->score_min);
    if (f->score_max >= 0)
        qb_int(&q, " AND s.score <= ?", f->score_max);
    qb_int(&q, " ORDER BY s.message_id LIMIT ?", f->limit);
    return run_rows(s, &q, f->limit, id_cursor, next_cursor);
}

/* ---- messages ----------------------------------------------------------------- */

cJSON *store_messages(struct store *s, const struct message_filter *f,
                      char next_cursor[STORE_CURSOR_LEN])
{
    struct qb q;
    qb_init(&q,
            "SELECT m.id, m.trigger_id, t.project_id AS project,"
            " json_object('id', t.customer_id, 'name', c.name, 'title', c.title,"
            "  'mobile', c.mobile) AS customer,"
            " m.milestone, m.message, m.kind, m.recipient, m.channel, m.fallback_from, m.state,"
            " m.due_at, m.sent_at, m.expires_at, m.attempts, m.last_code, m.last_error,"
            " m.provider_id, m.created_at"
            " FROM messages m JOIN triggers t ON t.id = m.trigger_id"
            " LEFT JOIN customers c ON c.id = t.customer_id WHERE 1");
    qb_int(&q, " AND m.id > ?", f->cursor);
    if (f->since > 0)
        qb_int(&q, " AND m.due_at >= ?", f->since);
    if (f->until > 0)
        qb_int(&q, " AND m.due_at < ?", f->until);
    if (f->project)
        qb_text(&q, " AND t.project_id = ?", f->project);
    if (f->customer)
        qb_text(&q, " AND t.customer_id = ?", f->customer);
    if (f->milestone)
        qb_text(&q, " AND m.milestone = ?", f->milestone);
    if (f->state)
        qb_text(&q, " AND m.state = ?", f->state);
    if (f->channel)
        qb_text(&q, " AND m.channel = ?", f->channel);
    qb_int(&q, " ORDER BY m.id LIMIT ?", f->limit);
    return run_rows(s, &q, f->limit, id_cursor, next_cursor);
}

/* ---- tickets ------------------------------------------------------------------- */

/* A running clock: the report clock until the report (or the resolution),
 * the answer clock until the resolution. */
#define TK_REPORT_RUNNING "(t.state = 'open')"
#define TK_ANSWER_RUNNING "(t.state != 'resolved')"

/* Cursor "rank.answer_due_at.id" of the ordering below. */
static void ticket_cursor(sqlite3_stmt *q, char *cursor)
{
    int nc = sqlite3_column_count(q);
    int64_t rank = 0, due = 0, id = sqlite3_column_int64(q, 0);
    for (int c = 0; c < nc; c++) {
        if (strcmp(sqlite3_column_name(q, c), "_rank") == 0)
            rank = sqlite3_column_int64(q, c);
        else if (strcmp(sqlite3_column_name(q, c), "_due") == 0)
            due = sqlite3_column_int64(q, c);
    }
    snprintf(cursor, STORE_CURSOR_LEN, "%" PRId64 ".%" PRId64 ".%" PRId64, rank, due, id);
}

static int parse_ticket_cursor(const char *c, int64_t *rank, int64_t *due, int64_t *id)
{
    long long r, d, i;
    char tail;
    if (!c || sscanf(c, "%lld.%lld.%lld%c", &r, &d, &i, &tail) != 3 || r < 0 || r > 1 || i < 0)
        return -1;
    *rank = r;
    *due = d;
    *id = i;
    return 0;
}

int store_ticket_cursor_ok(const char *cursor)
{
    int64_t r, d, i;
    return parse_ticket_cursor(cursor, &r, &d, &i) == 0;
}

cJSON *store_tickets(struct store *s, const struct ticket_filter *f,
                     char next_cursor[STORE_CURSOR_LEN])
{
    struct qb q;
    qb_init(&q, "SELECT t.id, t.reason, t.detail, t.state, t.project_id, t.customer_id,"
                " c.name AS customer_name, c.mobile AS customer_mobile, t.survey_id, t.opened_at,"
                " t.report_due_at, t.answer_due_at, t.reported_at, t.report_note,"
                " t.resolved_at, t.resolution,");
    /* ?1 is now. */
    qb_int(&q, " CASE WHEN " TK_REPORT_RUNNING " AND t.report_due_at <= ? THEN 1 ELSE 0 END"
               "  AS report_overdue,", f->now);
    buf_puts(&q.sql, " CASE WHEN " TK_ANSWER_RUNNING " AND t.answer_due_at <= ?1 THEN 1 ELSE 0"
                     "  END AS answer_overdue,"
                     " CASE WHEN t.state = 'resolved' THEN 'ok'"
                     "  WHEN (" TK_REPORT_RUNNING " AND t.report_due_at <= ?1) OR"
                     "   t.answer_due_at <= ?1 THEN 'overdue'"
                     "  WHEN (" TK_REPORT_RUNNING " AND t.report_due_at - ?1 < 3600) OR"
                     "   t.answer_due_at - ?1 < 3600 THEN 'due'"
                     "  ELSE 'ok' END AS clock,"
                     " CASE WHEN t.state = 'resolved' THEN NULL"
                     "  WHEN " TK_REPORT_RUNNING " THEN MIN(t.report_due_at, t.answer_due_at)"
                     "  ELSE t.answer_due_at END AS next_due_at,"
                     " t.report_escalated, t.answer_escalated,"
                     " CASE t.state WHEN 'resolved' THEN 1 ELSE 0 END AS _rank,"
                     " t.answer_due_at AS _due"
                     " FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id WHERE 1");
    if (f->id > 0)
        qb_int(&q, " AND t.id = ?", f->id);
    if (f->state && strcmp(f->state, "open") == 0)
        buf_puts(&q.sql, " AND t.state != 'resolved'");
    else if (f->state && strcmp(f->state, "overdue") == 0)
        buf_puts(&q.sql, " AND t.state != 'resolved' AND ((" TK_REPORT_RUNNING
                         " AND t.report_due_at <= ?1) OR t.answer_due_at <= ?1)");
    else if (f->state)
        qb_text(&q, " AND t.state = ?", f->state);
    int64_t rank, due, id;
    if (parse_ticket_cursor(f->cursor, &rank, &due, &id) == 0) {
        qb_int(&q, " AND (CASE t.state WHEN 'resolved' THEN 1 ELSE 0 END, t.answer_due_at, t.id)"
                   " > (?", rank);
        qb_int(&q, ", ?", due);
        qb_int(&q, ", ?)", id);
    }
    qb_int(&q, " ORDER BY _rank, t.answer_due_at, t.id LIMIT ?", f->limit);
    return run_rows(s, &q, f->limit, ticket_cursor, next_cursor);
}

char *store_tickets_json(struct store *s, const char *state, int64_t now, int64_t id)
{
    struct ticket_filter f = {.limit = 500, .state = state, .id = id, .now = now};
    cJSON *arr = store_tickets(s, &f, NULL);
    if (!arr)
        return NULL;
    char *out = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    return out;
}

/* ---- a project's timeline -------------------------------------------------------- */

static cJSON *one_row(struct store *s, struct qb *q, int *err)
{
    cJSON *arr = run_rows(s, q, 0, NULL, NULL);
    if (!arr) {
        *err = 1;
        return NULL;
    }
    cJSON *first = cJSON_GetArraySize(arr) > 0 ? cJSON_DetachItemFromArray(arr, 0) : NULL;
    cJSON_Delete(arr);
    return first;
}

int store_project(struct store *s, const char *id, cJSON **project, cJSON **customer,
                  cJSON **timeline)
{
    int err = 0;
    struct qb q;
    qb_init(&q, "SELECT p.id, p.address, p.kickoff_date, p.customer_id, p.created_at,"
                " p.updated_at, (SELECT json_group_array(json_object('role', role, 'name', name,"
                "  'phone', phone, 'wecom_id', wecom_id)) FROM (SELECT * FROM project_staff"
                "  WHERE project_id = p.id ORDER BY CASE role WHEN 'pm' THEN 0 WHEN 'designer'"
                "  THEN 1 WHEN 'foreman' THEN 2 ELSE 3 END) ps) AS staff" /* alias: PostgreSQL */
                " FROM projects p");
    qb_text(&q, " WHERE p.id = ?", id);
    cJSON *p = one_row(s, &q, &err);
    if (!p)
        return err ? HF_ERR_DB : HF_ERR_NOTFOUND;
    qb_init(&q, "SELECT c.id, c.name, c.title, c.mobile, c.wechat_openid, c.preferred_channel,"
                " c.opted_out, c.wechat_subscribed FROM customers c");
    qb_text(&q, " WHERE c.id = ?",
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "customer_id")));
    cJSON *c = one_row(s, &q, &err);
    if (err) {
        cJSON_Delete(p);
        return HF_ERR_DB;
    }
    /* Every event with its instant; "data" carries raw epochs that
     * row_object turns into local times. */
    qb_init(&q, "SELECT x.at, x.type, x.data FROM (");
    qb_text(&q,
            "SELECT t.occurred_at AS at, 'trigger' AS type, 0 AS ord, t.id AS rid,"
            " json_object('id', t.id, 'milestone', t.milestone, 'idempotency_key', t.idem_key,"
            "  'received_at', t.received_at, 'token', t.token_name) AS data"
            " FROM triggers t WHERE t.project_id = ?"
            " UNION ALL SELECT COALESCE(m.sent_at, m.due_at), 'message', 1, m.id,"
            " json_object('id', m.id, 'milestone', m.milestone, 'message', m.message, 'kind',"
            "  m.kind, 'recipient', m.recipient, 'channel', m.channel, 'fallback_from',"
            "  m.fallback_from, 'state', m.state, 'due_at', m.due_at, 'sent_at', m.sent_at,"
            "  'attempts', m.attempts, 'last_code', m.last_code, 'last_error', m.last_error)"
            " FROM messages m JOIN triggers t ON t.id = m.trigger_id WHERE t.project_id = ?1"
            " UNION ALL SELECT a.received_at, 'answer', 2, a.id,"
            " json_object('id', a.id, 'survey_id', a.message_id, 'milestone', s.milestone,"
            "  'survey', s.survey, 'channel', a.channel, 'raw', a.raw, 'parsed', json(a.parsed),"
            "  'score', a.score, 'flagged', a.flagged, 'amendment', a.amendment)"
            " FROM answers a JOIN surveys s ON s.message_id = a.message_id"
            " WHERE s.project_id = ?1"
            " UNION ALL SELECT k.opened_at, 'ticket', 3, k.id,"
            " json_object('id', k.id, 'reason', k.reason, 'detail', k.detail, 'state', k.state,"
            "  'survey_id', k.survey_id, 'report_due_at', k.report_due_at, 'answer_due_at',"
            "  k.answer_due_at, 'reported_at', k.reported_at, 'resolved_at', k.resolved_at,"
            "  'resolution', k.resolution)"
            " FROM tickets k WHERE k.project_id = ?1"
            ") x ORDER BY x.at, x.ord, x.rid LIMIT 2000",
            id);
    cJSON *rows = run_rows(s, &q, 0, NULL, NULL);
    if (!rows) {
        cJSON_Delete(p);
        cJSON_Delete(c);
        return HF_ERR_DB;
    }
    /* Flatten {at, type, data:{...}} into {at, type, ...}. */
    cJSON *tl = cJSON_CreateArray(), *r;
    cJSON_ArrayForEach(r, rows) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToObject(e, "at", cJSON_DetachItemFromObject(r, "at"));
        cJSON_AddItemToObject(e, "type", cJSON_DetachItemFromObject(r, "type"));
        cJSON *data = cJSON_GetObjectItemCaseSensitive(r, "data");
        while (data && data->child) {
            cJSON *kv = cJSON_DetachItemViaPointer(data, data->child);
            cJSON_AddItemToObject(e, kv->string, kv);
        }
        cJSON_AddItemToArray(tl, e);
    }
    cJSON_Delete(rows);
    *project = p;
    *customer = c ? c : cJSON_CreateNull();
    *timeline = tl;
    return HF_OK;
}

/* ---- reports ------------------------------------------------------------------ */

static void range(struct qb *q, const char *col, int64_t since, int64_t until)
{
    char frag[96];
    if (since > 0) {
        snprintf(frag, sizeof frag, " AND %s >= ?", col);
        qb_int(q, frag, since);
    }
    if (until > 0) {
        snprintf(frag, sizeof frag, " AND %s < ?", col);
        qb_int(q, frag, until);
    }
}

cJSON *store_report_milestones(struct store *s, int64_t since, int64_t until)
{
    struct qb q;
    qb_init(&q,
            "SELECT s.milestone,"
            " SUM(" SURVEY_SENT_STATE " IN ('sent', 'delivered')) AS sent,"
            " SUM(" SURVEY_SENT_STATE " = 'delivered') AS delivered,"
            " SUM(s.state = 'answered') AS answered,"
            " ROUND(AVG(CASE WHEN s.state = 'answered' AND s.score BETWEEN 1 AND 10"
            "  THEN s.score END), 2) AS avg_score,"
            " json_object('1', SUM(s.state = 'answered' AND s.score = 1),"
            "  '2', SUM(s.state = 'answered' AND s.score = 2),"
            "  '3', SUM(s.state = 'answered' AND s.score = 3),"
            "  '4', SUM(s.state = 'answered' AND s.score = 4),"
            "  '5', SUM(s.state = 'answered' AND s.score = 5),"
            "  '6', SUM(s.state = 'answered' AND s.score = 6),"
            "  '7', SUM(s.state = 'answered' AND s.score = 7),"
            "  '8', SUM(s.state = 'answered' AND s.score = 8),"
            "  '9', SUM(s.state = 'answered' AND s.score = 9),"
            "  '10', SUM(s.state = 'answered' AND s.score = 10)) AS score_distribution"
            " FROM surveys s JOIN messages m ON m.id = s.message_id"
            " LEFT JOIN messages cm ON cm.id = s.merged_into"
            /* surveys asked, as in the results: not those waiting for their day */
            " WHERE (" SURVEY_SENT_STATE " NOT IN ('pending', 'sending')"
            "  OR s.answered_at IS NOT NULL)");
    range(&q, "s.created_at", since, until);
    buf_puts(&q.sql, " GROUP BY s.milestone ORDER BY s.milestone");
    return run_rows(s, &q, 0, NULL, NULL);
}

/* A staff member is one person across projects: their WeCom id, else their
 * phone, else their name. */
#define STAFF_ID "COALESCE(ps.wecom_id, ps.phone, ps.name)"

cJSON *store_report_staff(struct store *s, const char *role, int64_t since, int64_t until)
{
    /* Two aggregates joined on (role, staff id): answered surveys of their
     * projects (through surveys_project) and complaints on them. */
    struct qb q;
    qb_init(&q, "WITH a AS (SELECT ps.role, " STAFF_ID " AS staff_id, MAX(ps.name) AS name,"
                " ROUND(AVG(CASE WHEN sv.score BETWEEN 1 AND 10 THEN sv.score END), 2)"
                "  AS avg_score, COUNT(sv.message_id) AS answered"
                " FROM project_staff ps LEFT JOIN surveys sv ON sv.project_id = ps.project_id"
                "  AND sv.state = 'answered'");
    range(&q, "sv.answered_at", since, until);
    buf_puts(&q.sql, " WHERE 1");
    if (role)
        qb_text(&q, " AND ps.role = ?", role);
    buf_puts(&q.sql, " GROUP BY 1, 2), c AS (SELECT ps.role, " STAFF_ID " AS staff_id,"
                     " COUNT(k.id) AS complaints FROM project_staff ps JOIN tickets k"
                     " ON k.project_id = ps.project_id AND k.reason != 'repair_request'");
    range(&q, "k.opened_at", since, until);
    buf_puts(&q.sql, " WHERE 1");
    if (role)
        qb_text(&q, " AND ps.role = ?", role);
    buf_puts(&q.sql,
             " GROUP BY 1, 2)"
             " SELECT a.role, a.staff_id, a.name, a.avg_score, a.answered,"
             " COALESCE(c.complaints, 0) AS complaints"
             " FROM a LEFT JOIN c ON c.role = a.role AND c.staff_id = a.staff_id"
             " WHERE a.answered > 0 OR c.complaints > 0"
             " ORDER BY CASE a.role WHEN 'pm' THEN 0 WHEN 'designer' THEN 1 WHEN 'foreman' THEN 2"
             "  ELSE 3 END, a.avg_score IS NULL, a.avg_score DESC, complaints, a.staff_id");
    return run_rows(s, &q, 0, NULL, NULL);
}

cJSON *store_report_departments(struct store *s, int64_t since, int64_t until)
{
    struct qb q;
    qb_init(&q, "SELECT d.department, (SELECT COUNT(DISTINCT k.id) FROM tickets k"
                " JOIN project_staff ps ON ps.project_id = k.project_id"
                " WHERE k.reason != 'repair_request' AND (CASE ps.role WHEN 'designer'"
                "  THEN '设计部' ELSE '工程部' END) = d.department");
    range(&q, "k.opened_at", since, until);
    buf_puts(&q.sql, ") AS complaints FROM (SELECT '工程部' AS department UNION ALL"
                     " SELECT '设计部') d ORDER BY complaints DESC, d.department");
    return run_rows(s, &q, 0, NULL, NULL);
}

cJSON *store_report_tickets(struct store *s, int64_t since, int64_t until, int64_t now)
{
    /* ?1 since (0 = open), ?2 until (0 = open), ?3 now. */
    struct qb q;
    qb_init(&q, "");
    qb_int(&q, "SELECT ? AS _since,", since);
    qb_int(&q, " ? AS _until,", until);
    qb_int(&q, " ? AS _now,", now);
    buf_puts(&q.sql,
             " COALESCE(SUM(t.opened_at >= ?1 AND (?2 = 0 OR t.opened_at < ?2)), 0) AS opened,"
             " COALESCE(SUM(t.resolved_at >= ?1 AND (?2 = 0 OR t.resolved_at < ?2)), 0)"
             "  AS closed,"
             " COALESCE(SUM(t.resolved_at >= ?1 AND (?2 = 0 OR t.resolved_at < ?2) AND"
             "  t.resolved_at <= t.answer_due_at), 0) AS closed_within_clock,"
             " COALESCE(SUM(t.state != 'resolved' AND ((" TK_REPORT_RUNNING
             "  AND t.report_due_at <= ?3) OR t.answer_due_at <= ?3)), 0) AS overdue_now,"
             " COALESCE(SUM(t.opened_at >= ?1 AND (?2 = 0 OR t.opened_at < ?2) AND"
             "  COALESCE(t.reported_at, t.resolved_at) <= t.report_due_at), 0)"
             "  AS reported_in_time,"
             " COALESCE(SUM(t.opened_at >= ?1 AND (?2 = 0 OR t.opened_at < ?2) AND"
             "  t.resolved_at <= t.answer_due_at), 0) AS answered_in_time"
             " FROM tickets t");
    int err = 0;
    cJSON *o = one_row(s, &q, &err);
    return o;
}

int store_report_sent_surveys(struct store *s, int64_t since, int64_t until,
                              void (*fn)(void *arg, int64_t sent_at, int answered), void *arg)
{
    struct qb q;
    qb_init(&q, "SELECT COALESCE(cm.sent_at, m.sent_at) AS t, s.state = 'answered'"
                " FROM surveys s JOIN messages m ON m.id = s.message_id"
                " LEFT JOIN messages cm ON cm.id = s.merged_into"
                " WHERE " SURVEY_SENT_STATE " IN ('sent', 'delivered')");
    range(&q, "COALESCE(cm.sent_at, m.sent_at)", since, until);
    sqlite3_stmt *st = qb_prepare(s, &q);
    if (!st)
        return HF_ERR_DB;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            fn(arg, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? HF_OK : HF_ERR_DB;
}
