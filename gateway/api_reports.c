/*
 * api_reports.c - the reports customer service hands to management, as
 * JSON or CSV (?format=csv), cs or admin tokens:
 *
 *   GET /v1/reports/milestones?since&until  per milestone: sent, delivered, answered,
 *                                           response_rate, avg_score, score_distribution
 *   GET /v1/reports/staff?role&since&until  per PM / designer / foreman / supervisor
 *   GET /v1/reports/complaints?quarter=2026Q4  per department, and the ranking of fewest
 *                                           complaints (seed 002 考评与奖罚, 季度员工奖)
 *   GET /v1/reports/tickets?since&until     tickets opened/closed and within their clocks
 *   GET /v1/reports/trend?days=30           surveys sent and answered per local day
 *
 * since/until are dates (local days) or ISO-8601 times; a survey belongs
 * to the range by when it was planned (milestones), answered (staff) or
 * sent (trend), a ticket by when it was opened or closed.
 */
#include "api.h"
#include "csv.h"
#include "gateway.h"
#include "http_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

static int range_args(struct http_request *req, struct http_response *resp, int64_t *since,
                      int64_t *until)
{
    *since = *until = 0;
    if (api_arg_time(req, resp, "since", 0, since) < 0 ||
        api_arg_time(req, resp, "until", 1, until) < 0)
        return -1;
    return 0;
}

/* @num / @den rounded to 4 decimals, or null when @den is 0. */
static void add_rate(cJSON *o, const char *name, double num, double den)
{
    if (den > 0)
        cJSON_AddNumberToObject(o, name, round(num / den * 10000.0) / 10000.0);
    else
        cJSON_AddNullToObject(o, name);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Answer {@key: @rows} (taken), or the CSV of @rows. */
static void answer_rows(struct http_response *resp, int csv, const char *key, cJSON *rows,
                        const struct csv_col *cols, size_t ncols, const char *disposition)
{
    if (csv) {
        api_csv_answer(resp, rows, cols, ncols, disposition);
        cJSON_Delete(rows);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, key, rows);
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
}

/* ---- per milestone ------------------------------------------------------ */

static const struct csv_col milestone_cols[] = {
    {"milestone", "节点"},         {"name", "节点名称"},
    {"sent", "发送"},              {"delivered", "送达"},
    {"answered", "回答"},          {"response_rate", "回复率"},
    {"avg_score", "平均分"},       {"score_distribution.1", "1分"},
    {"score_distribution.2", "2分"}, {"score_distribution.3", "3分"},
    {"score_distribution.4", "4分"}, {"score_distribution.5", "5分"},
    {"score_distribution.6", "6分"}, {"score_distribution.7", "7分"},
    {"score_distribution.8", "8分"}, {"score_distribution.9", "9分"},
    {"score_distribution.10", "10分"},
};

static void report_milestones(struct gateway *gw, struct http_request *req,
                              struct http_response *resp, int csv)
{
    int64_t since, until;
    if (range_args(req, resp, &since, &until) < 0)
        return;
    cJSON *rows = store_report_milestones(gw->store, since, until);
    if (!rows) {
        api_store_error(resp);
        return;
    }
    /* Rebuilt in the contract's order, with the name and the rate. */
    cJSON *out = cJSON_CreateArray(), *r;
    cJSON_ArrayForEach(r, rows) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "milestone"));
        const struct milestone *m = id ? catalogue_find(gw->cat, id) : NULL;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "milestone", id ? id : "");
        cJSON_AddStringToObject(o, "name", m ? m->name : "");
        cJSON_AddNumberToObject(o, "sent", num(r, "sent"));
        cJSON_AddNumberToObject(o, "delivered", num(r, "delivered"));
        cJSON_AddNumberToObject(o, "answered", num(r, "answered"));
        add_rate(o, "response_rate", num(r, "answered"), num(r, "sent"));
        cJSON_AddItemToObject(o, "avg_score", cJSON_DetachItemFromObject(r, "avg_score"));
        cJSON_AddItemToObject(o, "score_distribution",
                              cJSON_DetachItemFromObject(r, "score_distribution"));
        cJSON_AddItemToArray(out, o);
    }
    cJSON_Delete(rows);
    rows = out;
    answer_rows(resp, csv, "rows", rows, milestone_cols, HF_ARRAY_LEN(milestone_cols),
                "attachment; filename=\"huifang-milestones.csv\"");
}

/* ---- per staff member ----------------------------------------------------- */

static const char *role_name_zh(const char *role)
{
    if (!role)
        return "";
    if (strcmp(role, "pm") == 0)
        return "项目经理";
    if (strcmp(role, "designer") == 0)
        return "设计师";
    if (strcmp(role, "foreman") == 0)
        return "工长";
    if (strcmp(role, "supervisor") == 0)
        return "监理";
    return role;
}

static const struct csv_col staff_cols[] = {
    {"role_name", "岗位"},       {"staff_id", "员工编号"}, {"name", "姓名"},
    {"avg_score", "平均分"},     {"answered", "回答问卷"}, {"complaints", "投诉"},
};

static void add_role_names(cJSON *rows)
{
    cJSON *r;
    cJSON_ArrayForEach(r, rows) {
        const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "role"));
        cJSON_AddStringToObject(r, "role_name", role_name_zh(role));
    }
}

static void report_staff(struct gateway *gw, struct http_request *req,
                         struct http_response *resp, int csv)
{
    static const char *const roles[] = {"pm", "designer", "foreman", "supervisor", NULL};
    const char *role = NULL;
    int64_t since, until;
    if (api_arg_enum(req, resp, "role", roles, &role) < 0 ||
        range_args(req, resp, &since, &until) < 0)
        return;
    cJSON *rows = store_report_staff(gw->store, role, since, until);
    if (!rows) {
        api_store_error(resp);
        return;
    }
    if (csv)
        add_role_names(rows);
    answer_rows(resp, csv, "rows", rows, staff_cols, HF_ARRAY_LEN(staff_cols),
                "attachment; filename=\"huifang-staff.csv\"");
}

/* ---- complaints per quarter ------------------------------------------------ */

/* Fewest complaints first; among equals the better average score, then
 * more answered surveys. Equal on all three: the same rank. */
static int rank_cmp(const void *pa, const void *pb)
{
    const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
    double ca = num(a, "complaints"), cb = num(b, "complaints");
    if (ca != cb)
        return ca < cb ? -1 : 1;
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "avg_score");
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(b, "avg_score");
    double va = cJSON_IsNumber(sa) ? sa->valuedouble : -1, vb = cJSON_IsNumber(sb) ? sb->valuedouble : -1;
    if (va != vb)
        return va > vb ? -1 : 1;
    double na = num(a, "answered"), nb = num(b, "answered");
    if (na != nb)
        return na > nb ? -1 : 1;
    return 0;
}

static const struct csv_col ranking_cols[] = {
    {"rank", "名次"},          {"staff_id", "员工编号"},   {"name", "姓名"},
    {"role_name", "岗位"},     {"department", "部门"},     {"complaints", "投诉"},
    {"answered", "回答问卷"},  {"avg_score", "平均分"},
};

static void report_complaints(struct gateway *gw, struct http_request *req,
                              struct http_response *resp, int csv)
{
    const char *q = http_request_arg(req, "quarter");
    int year, quarter;
    char tail;
    if (!q) {
        /* The current quarter. */
        time_t now = (time_t)clock_now();
        struct tm tm;
        localtime_r(&now, &tm);
        year = tm.tm_year + 1900;
        quarter = tm.tm_mon / 3 + 1;
    } else if (sscanf(q, "%4dQ%1d%c", &year, &quarter, &tail) != 2 || year < 2000 ||
               year > 2100 || quarter < 1 || quarter > 4) {
        resp->status = 400;
        resp->body = api_error_body("invalid_field", "quarter",
                                    "quarter must be a year and quarter, e.g. 2026Q4");
        return;
    }
    int64_t since = api_local_midnight(year, (quarter - 1) * 3 + 1, 1);
    int64_t until = api_local_midnight(year, quarter * 3 + 1, 1);
    cJSON *depts = store_report_departments(gw->store, since, until);
    cJSON *staff = depts ? store_report_staff(gw->store, NULL, since, until) : NULL;
    if (!staff) {
        cJSON_Delete(depts);
        api_store_error(resp);
        return;
    }
    /* Sort the staff rows and number them. */
    int n = cJSON_GetArraySize(staff);
    cJSON **v = xcalloc((size_t)n + 1, sizeof *v);
    for (int i = 0; i < n; i++)
        v[i] = cJSON_DetachItemFromArray(staff, 0);
    qsort(v, (size_t)n, sizeof *v, rank_cmp);
    int *ranks = xcalloc((size_t)n + 1, sizeof *ranks);
    for (int i = 0; i < n; i++)
        ranks[i] = i == 0 || rank_cmp(&v[i - 1], &v[i]) != 0 ? i + 1 : ranks[i - 1];
    cJSON *ranking = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        int rank = ranks[i];
        const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v[i], "role"));
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "rank", rank);
        cJSON_AddItemToObject(o, "staff_id", cJSON_DetachItemFromObject(v[i], "staff_id"));
        cJSON_AddItemToObject(o, "name", cJSON_DetachItemFromObject(v[i], "name"));
        cJSON_AddStringToObject(o, "role", role ? role : "");
        cJSON_AddStringToObject(o, "department",
                                role && strcmp(role, "designer") == 0 ? "设计部" : "工程部");
        cJSON_AddItemToObject(o, "complaints", cJSON_DetachItemFromObject(v[i], "complaints"));
        cJSON_AddItemToObject(o, "answered", cJSON_DetachItemFromObject(v[i], "answered"));
        cJSON_AddItemToObject(o, "avg_score", cJSON_DetachItemFromObject(v[i], "avg_score"));
        cJSON_AddItemToArray(ranking, o);
        cJSON_Delete(v[i]);
    }
    free(v);
    free(ranks);
    cJSON_Delete(staff);
    char qname[16];
    snprintf(qname, sizeof qname, "%04dQ%d", year, quarter);
    if (csv) {
        add_role_names(ranking);
        api_csv_answer(resp, ranking, ranking_cols, HF_ARRAY_LEN(ranking_cols),
                       "attachment; filename=\"huifang-complaints.csv\"");
        cJSON_Delete(ranking);
        cJSON_Delete(depts);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "quarter", qname);
    cJSON_AddItemToObject(o, "departments", depts);
    cJSON_AddItemToObject(o, "ranking", ranking);
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
}

/* ---- tickets and their clocks --------------------------------------------- */

static const struct csv_col ticket_report_cols[] = {
    {"opened", "新开工单"},
    {"closed", "已解决"},
    {"closed_within_clock", "按时解决"},
    {"overdue_now", "当前超时"},
    {"report_within_2h_rate", "按时内部报告率"},
    {"answer_within_48h_rate", "按时答复率"},
};

static void report_tickets(struct gateway *gw, struct http_request *req,
                           struct http_response *resp, int csv)
{
    int64_t since, until;
    if (range_args(req, resp, &since, &until) < 0)
        return;
    cJSON *o = store_report_tickets(gw->store, since, until, clock_now());
    if (!o) {
        api_store_error(resp);
        return;
    }
    double opened = num(o, "opened");
    /* The rates are against the configured clocks (2 h and 48 h by default). */
    add_rate(o, "report_within_2h_rate", num(o, "reported_in_time"), opened);
    add_rate(o, "answer_within_48h_rate", num(o, "answered_in_time"), opened);
    cJSON_DeleteItemFromObjectCaseSensitive(o, "reported_in_time");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "answered_in_time");
    if (csv) {
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, o);
        api_csv_answer(resp, arr, ticket_report_cols, HF_ARRAY_LEN(ticket_report_cols),
                       "attachment; filename=\"huifang-tickets-report.csv\"");
        cJSON_Delete(arr);
        return;
    }
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
}

/* ---- response-rate trend ---------------------------------------------------- */

#define TREND_MAX_DAYS 366

struct trend {
    int64_t start[TREND_MAX_DAYS + 1]; /* local midnights; start[days] = the end */
    int sent[TREND_MAX_DAYS], answered[TREND_MAX_DAYS];
    int days;
};

static void trend_add(void *arg, int64_t t, int answered)
{
    struct trend *tr = arg;
    /* Binary search for the day (days are 23-25 h long around DST). */
    int lo = 0, hi = tr->days - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (tr->start[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    if (t < tr->start[lo] || t >= tr->start[tr->days])
        return;
    tr->sent[lo]++;
    tr->answered[lo] += answered ? 1 : 0;
}

static const struct csv_col trend_cols[] = {
    {"date", "日期"}, {"sent", "发送"}, {"answered", "回答"}, {"response_rate", "回复率"},
};

static void report_trend(struct gateway *gw, struct http_request *req,
                         struct http_response *resp, int csv)
{
    long days = 30;
    if (api_arg_int(req, resp, "days", 1, TREND_MAX_DAYS, &days) < 0)
        return;
    struct trend *tr = xcalloc(1, sizeof *tr);
    tr->days = (int)days;
    time_t now = (time_t)clock_now();
    struct tm today;
    localtime_r(&now, &today);
    int y = today.tm_year + 1900, m = today.tm_mon + 1, d = today.tm_mday;
    for (int i = 0; i <= tr->days; i++)
        tr->start[i] = api_local_midnight(y, m, d - (tr->days - 1) + i);
    if (store_report_sent_surveys(gw->store, tr->start[0], tr->start[tr->days], trend_add, tr) !=
        HF_OK) {
        free(tr);
        api_store_error(resp);
        return;
    }
    cJSON *rows = cJSON_CreateArray();
    for (int i = 0; i < tr->days; i++) {
        time_t t = (time_t)tr->start[i];
        struct tm tm;
        localtime_r(&t, &tm);
        char date[16];
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "date", date);
        cJSON_AddNumberToObject(o, "sent", tr->sent[i]);
        cJSON_AddNumberToObject(o, "answered", tr->answered[i]);
        add_rate(o, "response_rate", tr->answered[i], tr->sent[i]);
        cJSON_AddItemToArray(rows, o);
    }
    free(tr);
    answer_rows(resp, csv, "days", rows, trend_cols, HF_ARRAY_LEN(trend_cols),
                "attachment; filename=\"huifang-trend.csv\"");
}

/* ---- routing ------------------------------------------------------------------ */

enum http_result api_get_report(struct gateway *gw, struct http_request *req,
                                struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    int csv = 0;
    if (api_arg_format(req, resp, &csv) < 0)
        return HTTP_DONE;
    static const struct {
        const char *name;
        void (*fn)(struct gateway *, struct http_request *, struct http_response *, int);
    } reports[] = {
        {"milestones", report_milestones}, {"staff", report_staff},
        {"complaints", report_complaints}, {"tickets", report_tickets},
        {"trend", report_trend},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(reports); i++) {
        if (strcmp(req->path_tail, reports[i].name) == 0) {
            reports[i].fn(gw, req, resp, csv);
            return HTTP_DONE;
        }
    }
    resp->status = 404;
    resp->body = api_error_body("not_found", NULL,
                                "no such report (milestones, staff, complaints, tickets, trend)");
    return HTTP_DONE;
}
