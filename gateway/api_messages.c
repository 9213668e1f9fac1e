/*
 * api_messages.c - what was sent to whom: the outbox and a project's
 * timeline.
 *
 *   GET /v1/messages?project=&customer=&milestone=&state=&channel=&since=&until=
 *                    &cursor=&limit=&format=csv
 *   GET /v1/projects/<id>   {"project", "customer", "timeline": [{"at", "type", ...}]}
 *
 * Messages: cs and admin. A project: cs and admin, and a trigger token
 * too (the ERP, a project manager's page: what was planned and sent for
 * a site), with mobile numbers masked and without the customer's own
 * words (those are for customer service).
 */
#include "api.h"
#include "csv.h"
#include "gateway.h"
#include "http_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define PROJECT_READERS (ROLE_CS | ROLE_ADMIN | ROLE_TRIGGER)

static const struct csv_col message_cols[] = {
    {"id", "消息编号"},
    {"project", "项目编号"},
    {"customer.id", "客户编号"},
    {"customer.name", "客户姓名"},
    {"customer.mobile", "手机"},
    {"milestone_name", "节点"},
    {"message", "消息"},
    {"kind_zh", "类型"},
    {"recipient_zh", "接收人"},
    {"channel_zh", "渠道"},
    {"fallback_from_zh", "原渠道"},
    {"state_zh", "状态"},
    {"due_at", "计划发送"},
    {"sent_at", "发送时间"},
    {"attempts", "尝试次数"},
    {"last_code", "错误码"},
    {"last_error", "错误信息"},
};

enum http_result api_get_messages(struct gateway *gw, struct http_request *req,
                                  struct http_response *resp)
{
    const struct api_token *tok = api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp);
    if (!tok)
        return HTTP_DONE;
    static const char *const states[] = {"pending", "sending", "sent", "delivered", "failed",
                                         "expired", "cancelled", NULL};
    struct message_filter f = {.limit = 50};
    long n = 0;
    int csv = 0, rc;
    if (api_arg_format(req, resp, &csv) < 0)
        return HTTP_DONE;
    if ((rc = api_arg_int(req, resp, "limit", 1, csv ? 10000 : 500, &n)) < 0)
        return HTTP_DONE;
    f.limit = rc ? (int)n : csv ? 10000 : 50;
    if ((rc = api_arg_int(req, resp, "cursor", 0, 0x7fffffffL, &n)) < 0)
        return HTTP_DONE;
    f.cursor = rc ? n : 0;
    if (api_arg_time(req, resp, "since", 0, &f.since) < 0 ||
        api_arg_time(req, resp, "until", 1, &f.until) < 0 ||
        api_arg_text(req, resp, "project", &f.project) < 0 ||
        api_arg_text(req, resp, "customer", &f.customer) < 0 ||
        api_arg_text(req, resp, "milestone", &f.milestone) < 0 ||
        api_arg_text(req, resp, "channel", &f.channel) < 0 ||
        api_arg_enum(req, resp, "state", states, &f.state) < 0)
        return HTTP_DONE;
    char next[STORE_CURSOR_LEN];
    cJSON *items = store_messages(gw->store, &f, next);
    if (!items) {
        api_store_error(resp);
        return HTTP_DONE;
    }
    api_milestone_names(gw, items, "milestone");
    api_redact(tok, items);
    if (csv) {
        api_zh_label(items, "kind", api_zh_kind);
        api_zh_label(items, "recipient", api_zh_recipient);
        api_zh_label(items, "channel", api_zh_channel);
        api_zh_label(items, "fallback_from", api_zh_channel);
        api_zh_label(items, "state", api_zh_message_state);
        api_csv_answer(resp, items, message_cols, HF_ARRAY_LEN(message_cols),
                       "attachment; filename=\"huifang-messages.csv\"");
        cJSON_Delete(items);
        return HTTP_DONE;
    }
    api_list_answer(resp, items, next);
    return HTTP_DONE;
}

enum http_result api_get_project(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp)
{
    const struct api_token *tok = api_auth(gw, req, PROJECT_READERS, resp);
    if (!tok)
        return HTTP_DONE;
    const char *id = req->path_tail;
    cJSON *project = NULL, *customer = NULL, *timeline = NULL;
    int rc = *id && strlen(id) <= 64 && !strchr(id, '/')
                 ? store_project(gw->store, id, &project, &customer, &timeline)
                 : HF_ERR_NOTFOUND;
    if (rc == HF_ERR_NOTFOUND) {
        resp->status = 404;
        resp->body = api_error_body("not_found", "id", "no such project");
        return HTTP_DONE;
    }
    if (rc != HF_OK) {
        api_store_error(resp);
        return HTTP_DONE;
    }
    if (!api_sees_mobiles(tok)) {
        /* Not customer service: no openid, and answers without the
         * customer's words. */
        cJSON_DeleteItemFromObjectCaseSensitive(customer, "wechat_openid");
        cJSON *e;
        cJSON_ArrayForEach(e, timeline) {
            cJSON_DeleteItemFromObjectCaseSensitive(e, "raw");
            cJSON_DeleteItemFromObjectCaseSensitive(e, "parsed");
        }
    }
    api_milestone_names(gw, timeline, "milestone");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "project", project);
    cJSON_AddItemToObject(o, "customer", customer);
    cJSON_AddItemToObject(o, "timeline", timeline);
    api_redact(tok, o);
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return HTTP_DONE;
}
