/*
 * webhook.c - the generic JSON webhook channel.
 *
 * POSTs one JSON document per message to channels.webhook.url, for any
 * provider huifang has no adapter for, or the company's own systems.
 *
 * Request:
 *   POST <url>
 *   Content-Type: application/json
 *   Idempotency-Key: hf-<message id>        (the receiver's dedup key)
 *   X-Huifang-Signature: sha256=<hex>       (HMAC-SHA256 of the body with
 *                                            channels.webhook.secret, if set)
 *   {"id":"hf-12","message_id":12,"attempt":1,"kind":"survey",
 *    "milestone":"completion","message":"survey",
 *    "recipient":{...},"project":{...},"text":"...","survey_link":"...",
 *    "sms":{...},"wechat":{...}}
 *
 * Answer: any 2xx is accepted; a JSON body's "id" (string or number) is
 * kept as the provider id. 408/425/429/5xx and transport errors are
 * retried; other statuses are permanent failures.
 */
#include "adapter.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static int webhook_enabled(const struct config *cfg)
{
    return cfg->webhook_enabled && cfg->webhook_url;
}

static int webhook_can_reach(const struct config *cfg, const cJSON *recipient)
{
    (void)cfg;
    (void)recipient;
    return 1; /* the receiver decides how to reach the person */
}

static int webhook_build(const struct config *cfg, const struct out_msg *m, struct http_req *req,
                         char *err, size_t errlen)
{
    cJSON *doc = cJSON_CreateObject();
    char idbuf[32];
    adapter_dedup_id(m->id, idbuf);
    cJSON_AddStringToObject(doc, "id", idbuf);
    cJSON_AddNumberToObject(doc, "message_id", (double)m->id);
    cJSON_AddNumberToObject(doc, "attempt", m->attempt);
    cJSON_AddStringToObject(doc, "kind", m->kind);
    cJSON_AddStringToObject(doc, "milestone", m->milestone);
    cJSON_AddStringToObject(doc, "message", m->message);
    if (m->recipient)
        cJSON_AddItemToObject(doc, "recipient", cJSON_Duplicate(m->recipient, 1));
    if (m->project)
        cJSON_AddItemToObject(doc, "project", cJSON_Duplicate(m->project, 1));
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(m->rendered, "text");
    if (!cJSON_IsString(text)) {
        snprintf(err, errlen, "rendered message has no text");
        cJSON_Delete(doc);
        return -1;
    }
    cJSON_AddStringToObject(doc, "text", text->valuestring);
    if (m->survey_link)
        cJSON_AddStringToObject(doc, "survey_link", m->survey_link);
    const char *parts[] = {"sms", "wechat"};
    for (size_t i = 0; i < HF_ARRAY_LEN(parts); i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(m->rendered, parts[i]);
        if (p)
            cJSON_AddItemToObject(doc, parts[i], cJSON_Duplicate(p, 1));
    }
    char *body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    HF_ASSERT(body);

    req->method = xstrdup("POST");
    req->url = xstrdup(cfg->webhook_url);
    req->body = body;
    req->body_len = strlen(body);
    http_req_add_header(req, "Content-Type: application/json; charset=utf-8");
    http_req_add_header(req, "Idempotency-Key: %s", idbuf);
    if (cfg->webhook_secret) {
        char sig[65];
        hmac_sha256_hex(cfg->webhook_secret, strlen(cfg->webhook_secret), body, req->body_len, sig);
        http_req_add_header(req, "X-Huifang-Signature: sha256=%s", sig);
    }
    return 0;
}

static void webhook_parse(const struct config *cfg, const struct out_msg *m,
                          const struct http_resp *resp, struct send_result *res)
{
    (void)cfg;
    (void)m;
    if (adapter_classify_http(resp, res))
        return;
    res->outcome = SEND_OK;
    snprintf(res->code, sizeof res->code, "http_%ld", resp->status);
    cJSON *j = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
    const cJSON *id = j ? cJSON_GetObjectItemCaseSensitive(j, "id") : NULL;
    if (cJSON_IsString(id))
        snprintf(res->provider_id, sizeof res->provider_id, "%s", id->valuestring);
    else if (cJSON_IsNumber(id))
        snprintf(res->provider_id, sizeof res->provider_id, "%.0f", id->valuedouble);
    cJSON_Delete(j);
}

const struct channel_adapter webhook_adapter = {
    .name = "webhook",
    .channel = "webhook",
    .enabled = webhook_enabled,
    .can_reach = webhook_can_reach,
    .build_request = webhook_build,
    .parse_response = webhook_parse,
};
