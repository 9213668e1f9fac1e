/*
 * api_query.c - what the read endpoints share: query arguments checked
 * with one error shape, the list envelope {"items": [...], "next_cursor"},
 * CSV answers, and hiding mobile numbers from roles that may not see them.
 */
#include "api.h"
#include "csv.h"
#include "gateway.h"
#include "http_error.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

static int bad(struct http_response *resp, const char *field, const char *msg)
{
    resp->status = 400;
    resp->body = api_error_body("invalid_field", field, msg);
    return -1;
}

int api_arg_int(const struct http_request *req, struct http_response *resp, const char *name,
                long min, long max, long *out)
{
    const char *v = http_request_arg(req, name);
    if (!v)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < min || n > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be a whole number %ld..%ld", name, min, max);
        return bad(resp, name, msg);
    }
    *out = n;
    return 1;
}

int64_t api_local_midnight(int y, int m, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
    return (int64_t)mktime(&tm);
}

int api_arg_time(const struct http_request *req, struct http_response *resp, const char *name,
                 int end_of_day, int64_t *out)
{
    const char *v = http_request_arg(req, name);
    if (!v)
        return 0;
    int y, m, d;
    if (iso8601_parse(v, out) == 0)
        return 1;
    if (date_parse(v, &y, &m, &d) == 0) {
        /* A date is a whole local day: "until" means up to its end. */
        *out = api_local_midnight(y, m, d + (end_of_day ? 1 : 0));
        return 1;
    }
    char msg[128];
    snprintf(msg, sizeof msg,
             "%s must be a date (2026-11-24) or ISO-8601 with an offset (2026-11-24T00:00:00+08:00)",
             name);
    return bad(resp, name, msg);
}

int api_arg_enum(const struct http_request *req, struct http_response *resp, const char *name,
                 const char *const *allowed, const char **out)
{
    const char *v = http_request_arg(req, name);
    if (!v)
        return 0;
    for (size_t i = 0; allowed[i]; i++) {
        if (strcmp(v, allowed[i]) == 0) {
            *out = allowed[i];
            return 1;
        }
    }
    struct buf msg;
    buf_init(&msg);
    buf_printf(&msg, "%s must be one of:", name);
    for (size_t i = 0; allowed[i]; i++)
        buf_printf(&msg, "%s %s", i ? "," : "", allowed[i]);
    bad(resp, name, msg.data);
    buf_cleanup(&msg);
    return -1;
}

int api_arg_text(const struct http_request *req, struct http_response *resp, const char *name,
                 const char **out)
{
    const char *v = http_request_arg(req, name);
    if (!v)
        return 0;
    size_t n = strlen(v);
    if (n == 0 || n > 200 || !utf8_valid(v, n)) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be 1 to 200 bytes of UTF-8", name);
        return bad(resp, name, msg);
    }
    *out = v;
    return 1;
}

int api_arg_format(const struct http_request *req, struct http_response *resp, int *csv)
{
    static const char *const formats[] = {"json", "csv", NULL};
    const char *f = NULL;
    int rc = api_arg_enum(req, resp, "format", formats, &f);
    *csv = rc == 1 && strcmp(f, "csv") == 0;
    return rc;
}

void api_list_answer(struct http_response *resp, cJSON *items, const char *next_cursor)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", items);
    if (next_cursor && *next_cursor)
        cJSON_AddStringToObject(o, "next_cursor", next_cursor);
    else
        cJSON_AddNullToObject(o, "next_cursor");
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
}

void api_csv_answer(struct http_response *resp, const cJSON *items, const struct csv_col *cols,
                    size_t ncols, const char *disposition)
{
    resp->status = 200;
    resp->body = csv_from_items(items, cols, ncols);
    resp->content_type = "text/csv; charset=utf-8";
    resp->disposition = disposition;
}

void api_store_error(struct http_response *resp)
{
    resp->status = 500;
    resp->body = api_error_body("store_error", NULL, "the store could not be read");
}

int api_sees_mobiles(const struct api_token *t)
{
    return t && (t->roles & (ROLE_CS | ROLE_ADMIN));
}

static int mobile_key(const char *k)
{
    return k && (strcmp(k, "mobile") == 0 || strcmp(k, "phone") == 0 ||
                 strcmp(k, "customer_mobile") == 0);
}

void api_redact(const struct api_token *t, cJSON *j)
{
    if (api_sees_mobiles(t) || !j)
        return;
    for (cJSON *c = j->child; c; c = c->next) {
        if (mobile_key(c->string) && cJSON_IsString(c)) {
            char masked[24];
            log_mask_phone(c->valuestring, masked);
            cJSON_SetValuestring(c, masked);
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            api_redact(t, c);
        }
    }
}

void api_milestone_names(struct gateway *gw, cJSON *items, const char *key)
{
    cJSON *it;
    cJSON_ArrayForEach(it, items) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, key));
        const struct milestone *m = id ? catalogue_find(gw->cat, id) : NULL;
        if (m)
            cJSON_AddStringToObject(it, "milestone_name", m->name);
        else
            cJSON_AddNullToObject(it, "milestone_name");
    }
}

/* ---- Chinese labels for the CSV ---------------------------------------- */

const struct api_zh api_zh_result_state[] = {
    {"open", "待回答"}, {"answered", "已回答"}, {"unanswered", "未回答"}, {"expired", "已过期"},
    {NULL, NULL}};
const struct api_zh api_zh_ticket_state[] = {
    {"open", "待处理"}, {"reported", "已报告"}, {"resolved", "已解决"}, {NULL, NULL}};
const struct api_zh api_zh_clock[] = {
    {"ok", "正常"}, {"due", "即将到期"}, {"overdue", "已超时"}, {NULL, NULL}};
const struct api_zh api_zh_reason[] = {
    {"survey", "回访反馈"}, {"complaint", "客户投诉"}, {"repair_request", "保修报修"},
    {NULL, NULL}};
const struct api_zh api_zh_message_state[] = {
    {"pending", "待发送"}, {"sending", "发送中"}, {"sent", "已发送"}, {"delivered", "已送达"},
    {"failed", "失败"},    {"expired", "已过期"}, {"cancelled", "已取消"}, {NULL, NULL}};
const struct api_zh api_zh_kind[] = {
    {"notice", "通知"}, {"survey", "问卷"}, {"alert", "提醒"}, {NULL, NULL}};
const struct api_zh api_zh_channel[] = {
    {"wechat", "微信"}, {"sms", "短信"}, {"wecom", "企业微信"}, {"webhook", "webhook"},
    {NULL, NULL}};
const struct api_zh api_zh_recipient[] = {
    {"customer", "客户"}, {"pm", "项目经理"}, {"designer", "设计师"}, {"foreman", "工长"},
    {"supervisor", "监理"}, {"cs_manager", "客服经理"}, {NULL, NULL}};

void api_zh_label(cJSON *items, const char *key, const struct api_zh *table)
{
    char out[64];
    snprintf(out, sizeof out, "%s_zh", key);
    cJSON *it;
    cJSON_ArrayForEach(it, items) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, key));
        const char *zh = v;
        for (size_t i = 0; v && table[i].code; i++)
            if (strcmp(v, table[i].code) == 0)
                zh = table[i].zh;
        if (zh)
            cJSON_AddStringToObject(it, out, zh);
        else
            cJSON_AddNullToObject(it, out);
    }
}
