/*
 * api_results.c - what customer service reads and does: callback results
 * (回访结果) and complaint tickets.
 *
 *   GET  /v1/results?since=&until=&project=&customer=&milestone=&channel=&staff=
 *                   &state=&score_min=&score_max=&flagged=1&cursor=&limit=&format=csv
 *                   (from/to: older names of since/until)
 *   GET  /v1/tickets?state=open|overdue|reported|resolved&cursor=&limit=&format=csv
 *   GET  /v1/tickets/<id>
 *   POST /v1/tickets/<id>/report   {"note": "..."}
 *   POST /v1/tickets/<id>/resolve  {"resolution": "..."}
 * All need a cs or admin token.
 */
#include "api.h"
#include "csv.h"
#include "gateway.h"
#include "http_error.h"
#include "survey_def.h"
#include "tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The results CSV: what a customer-service person reads in Excel. */
static const struct csv_col result_cols[] = {
    {"id", "编号"},
    {"milestone_name", "回访节点"},
    {"survey", "问卷"},
    {"project_id", "项目编号"},
    {"customer_id", "客户编号"},
    {"customer_name", "客户姓名"},
    {"customer_mobile", "手机"},
    {"state_zh", "状态"},
    {"score", "评分"},
    {"flagged", "需人工查看"},
    {"channel_zh", "渠道"},
    {"sent_at", "发送时间"},
    {"answered_at", "回答时间"},
    {"answers_text", "回答内容"},
    {"replies", "短信/微信回复"},
    {"staff.pm", "项目经理"},
    {"staff.designer", "设计师"},
    {"staff.foreman", "工长"},
    {"staff.supervisor", "监理"},
};

/* For the CSV and the console: "answers_text", every answer as "question：value" (是/否
 * for yes/no), and "replies", the customer's own SMS and WeChat words. */
static void add_texts(struct gateway *gw, cJSON *items)
{
    cJSON *it;
    cJSON_ArrayForEach(it, items) {
        struct buf b;
        buf_init(&b);
        const char *sid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "survey"));
        const struct survey_def *def = sid ? survey_set_find(gw->surveys, sid) : NULL;
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(it, "answers")) {
            if (!cJSON_IsString(a) || !a->string)
                continue;
            const struct question *qn = def ? survey_find_question(def, a->string) : NULL;
            const char *v = a->valuestring;
            if (qn && qn->type == Q_YESNO)
                v = strcmp(v, "yes") == 0 ? "是" : strcmp(v, "no") == 0 ? "否" : v;
            if (b.len)
                buf_puts(&b, "；");
            buf_printf(&b, "%s：%s", qn ? qn->text : a->string, v);
        }
        cJSON_AddStringToObject(it, "answers_text", b.data ? b.data : "");
        b.len = 0;
        const cJSON *h;
        cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(it, "history")) {
            const char *ch = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "channel"));
            const char *raw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "raw"));
            if (!raw || !*raw || (ch && strcmp(ch, "page") == 0))
                continue;
            if (b.len)
                buf_puts(&b, " | ");
            buf_puts(&b, raw);
        }
        cJSON_AddStringToObject(it, "replies", b.len ? b.data : "");
        buf_cleanup(&b);
    }
}

enum http_result api_get_results(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp)
{
    const struct api_token *tok = api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp);
    if (!tok)
        return HTTP_DONE;
    static const char *const states[] = {"open", "answered", "unanswered", "expired", "flagged",
                                         NULL};
    struct result_filter f = {.limit = 50, .score_min = -1, .score_max = -1};
    long n = 0;
    int csv = 0, rc;
    if (api_arg_format(req, resp, &csv) < 0)
        return HTTP_DONE;
    /* A CSV export is one document: up to 10,000 rows unless limited. */
    if ((rc = api_arg_int(req, resp, "limit", 1, csv ? 10000 : 500, &n)) < 0)
        return HTTP_DONE;
    f.limit = rc ? (int)n : csv ? 10000 : 50;
    if ((rc = api_arg_int(req, resp, "cursor", 0, 0x7fffffffL, &n)) < 0)
        return HTTP_DONE;
    f.cursor = rc ? n : 0;
    if ((rc = api_arg_int(req, resp, "score_min", 1, 10, &n)) < 0)
        return HTTP_DONE;
    f.score_min = rc ? (int)n : -1;
    if ((rc = api_arg_int(req, resp, "score_max", 1, 10, &n)) < 0)
        return HTTP_DONE;
    f.score_max = rc ? (int)n : -1;
    /* since/until, and their older names from/to. */
    if (api_arg_time(req, resp, "from", 0, &f.from) < 0 ||
        api_arg_time(req, resp, "to", 1, &f.to) < 0 ||
        api_arg_time(req, resp, "since", 0, &f.from) < 0 ||
        api_arg_time(req, resp, "until", 1, &f.to) < 0)
        return HTTP_DONE;
    if (api_arg_text(req, resp, "project", &f.project) < 0 ||
        api_arg_text(req, resp, "customer", &f.customer) < 0 ||
        api_arg_text(req, resp, "milestone", &f.milestone) < 0 ||
        api_arg_text(req, resp, "channel", &f.channel) < 0 ||
        api_arg_text(req, resp, "staff", &f.staff) < 0 ||
        api_arg_enum(req, resp, "state", states, &f.state) < 0)
        return HTTP_DONE;
    const char *flagged = http_request_arg(req, "flagged");
    f.flagged_only = flagged && strcmp(flagged, "1") == 0;
    char next[STORE_CURSOR_LEN];
    cJSON *items = store_results(gw->store, &f, next);
    if (!items) {
        api_store_error(resp);
        return HTTP_DONE;
    }
    api_milestone_names(gw, items, "milestone");
    api_redact(tok, items);
    add_texts(gw, items); /* the console shows them too */
    if (csv) {
        api_zh_label(items, "state", api_zh_result_state);
        api_zh_label(items, "channel", api_zh_channel);
        api_csv_answer(resp, items, result_cols, HF_ARRAY_LEN(result_cols),
                       "attachment; filename=\"huifang-results.csv\"");
        cJSON_Delete(items);
        return HTTP_DONE;
    }
    api_list_answer(resp, items, next);
    return HTTP_DONE;
}

static const struct csv_col ticket_cols[] = {
    {"id", "工单号"},
    {"reason_zh", "来源"},
    {"detail", "投诉内容"},
    {"state_zh", "状态"},
    {"clock_zh", "时限"},
    {"project_id", "项目编号"},
    {"customer_id", "客户编号"},
    {"customer_name", "客户姓名"},
    {"customer_mobile", "手机"},
    {"opened_at", "开单时间"},
    {"report_due_at", "内部报告期限"},
    {"reported_at", "报告时间"},
    {"report_note", "报告内容"},
    {"answer_due_at", "答复期限"},
    {"resolved_at", "解决时间"},
    {"resolution", "处理结果"},
};

enum http_result api_get_tickets(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp)
{
    const struct api_token *tok = api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp);
    if (!tok)
        return HTTP_DONE;
    static const char *const states[] = {"open", "overdue", "reported", "resolved", NULL};
    struct ticket_filter f = {.limit = 100, .now = clock_now()};
    long n = 0;
    int csv = 0, rc;
    if (api_arg_format(req, resp, &csv) < 0 || api_arg_enum(req, resp, "state", states, &f.state) < 0)
        return HTTP_DONE;
    if ((rc = api_arg_int(req, resp, "limit", 1, csv ? 10000 : 500, &n)) < 0)
        return HTTP_DONE;
    f.limit = rc ? (int)n : csv ? 10000 : 100;
    f.cursor = http_request_arg(req, "cursor");
    if (f.cursor && !store_ticket_cursor_ok(f.cursor)) {
        resp->status = 400;
        resp->body = api_error_body("invalid_field", "cursor",
                                    "cursor must be the next_cursor of an earlier page");
        return HTTP_DONE;
    }
    char next[STORE_CURSOR_LEN];
    cJSON *items = store_tickets(gw->store, &f, next);
    if (!items) {
        api_store_error(resp);
        return HTTP_DONE;
    }
    api_redact(tok, items);
    if (csv) {
        api_zh_label(items, "state", api_zh_ticket_state);
        api_zh_label(items, "clock", api_zh_clock);
        api_zh_label(items, "reason", api_zh_reason);
        api_csv_answer(resp, items, ticket_cols, HF_ARRAY_LEN(ticket_cols),
                       "attachment; filename=\"huifang-tickets.csv\"");
        cJSON_Delete(items);
        return HTTP_DONE;
    }
    api_list_answer(resp, items, next);
    return HTTP_DONE;
}

/* "<id>" or "<id>/<action>" of /v1/tickets/... ; -1 if not a ticket path. */
static int64_t ticket_path(const char *tail, const char **action)
{
    char *end;
    long long id = strtoll(tail, &end, 10);
    if (end == tail || id <= 0)
        return -1;
    if (*end == '\0') {
        *action = NULL;
        return id;
    }
    if (*end != '/')
        return -1;
    *action = end + 1;
    return id;
}

enum http_result api_get_ticket(struct gateway *gw, struct http_request *req,
                                   struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    const char *action;
    int64_t id = ticket_path(req->path_tail, &action);
    char *rows = id > 0 && !action ? store_tickets_json(gw->store, NULL, clock_now(), id) : NULL;
    cJSON *arr = rows ? cJSON_Parse(rows) : NULL;
    free(rows);
    if (cJSON_GetArraySize(arr) != 1) {
        cJSON_Delete(arr);
        resp->status = 404;
        resp->body = api_error_body("not_found", "id", "no such ticket");
        return HTTP_DONE;
    }
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(cJSON_GetArrayItem(arr, 0));
    cJSON_Delete(arr);
    return HTTP_DONE;
}

enum http_result api_post_ticket(struct gateway *gw, struct http_request *req,
                                    struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    const char *action;
    int64_t id = ticket_path(req->path_tail, &action);
    int resolve = action && strcmp(action, "resolve") == 0;
    if (id < 0 || !action || (!resolve && strcmp(action, "report") != 0)) {
        resp->status = 404;
        resp->body = api_error_body("not_found", NULL, "no such endpoint");
        return HTTP_DONE;
    }
    const char *key = resolve ? "resolution" : "note";
    cJSON *body = cJSON_ParseWithLength(req->body.data, req->body.len);
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(body, key);
    if (!cJSON_IsObject(body) || !cJSON_IsString(text) || !text->valuestring[0] ||
        !utf8_valid(text->valuestring, strlen(text->valuestring)) ||
        utf8_chars(text->valuestring) > 2000) {
        /* Decided before the delete: reading @body after it was a
         * use-after-free (inside libcjson, so only valgrind saw it). */
        const char *code = cJSON_IsObject(body) || !body ? "invalid_field" : "invalid_json";
        cJSON_Delete(body);
        char msg[96];
        snprintf(msg, sizeof msg, "%s is required: 1 to 2000 characters of what was done", key);
        resp->status = 400;
        resp->body = api_error_body(code, key, msg);
        return HTTP_DONE;
    }
    char *json = NULL;
    resp->status = resolve ? tickets_resolve(gw, id, text->valuestring, &json)
                           : tickets_report(gw, id, text->valuestring, &json);
    resp->body = json;
    cJSON_Delete(body);
    return HTTP_DONE;
}

