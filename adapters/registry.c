/*
 * registry.c - the table of compiled-in channel adapters and the helpers
 * every adapter shares (request building, plain HTTP classification).
 */
#include "adapter.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct channel_adapter *const adapter_registry[] = {
    &webhook_adapter,
    &wechat_adapter,
    &wecom_adapter,
    &aliyun_sms_adapter,
    &tencent_sms_adapter,
};
const size_t adapter_registry_len = HF_ARRAY_LEN(adapter_registry);

const struct channel_adapter *adapter_find(const char *name)
{
    for (size_t i = 0; i < adapter_registry_len; i++)
        if (strcmp(adapter_registry[i]->name, name) == 0)
            return adapter_registry[i];
    return NULL;
}

const struct channel_adapter *adapter_for_channel(const struct config *cfg, const char *channel)
{
    if (strcmp(channel, "sms") == 0) {
        if (!cfg->sms_provider)
            return NULL;
        if (strcmp(cfg->sms_provider, "aliyun") == 0)
            return &aliyun_sms_adapter;
        if (strcmp(cfg->sms_provider, "tencent") == 0)
            return &tencent_sms_adapter;
        return NULL;
    }
    for (size_t i = 0; i < adapter_registry_len; i++)
        if (strcmp(adapter_registry[i]->channel, channel) == 0)
            return adapter_registry[i];
    return NULL;
}

void adapter_pct_encode(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            buf_append(out, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(out, e, 3);
        }
    }
}

void adapter_dedup_id(int64_t id, char out[32])
{
    snprintf(out, 32, "hf-%lld", (long long)id);
}

void http_req_init(struct http_req *r)
{
    memset(r, 0, sizeof *r);
}

void http_req_cleanup(struct http_req *r)
{
    free(r->method);
    free(r->url);
    for (int i = 0; i < r->nheaders; i++)
        free(r->headers[i]);
    free(r->body);
    http_req_init(r);
}

void http_req_add_header(struct http_req *r, const char *fmt, ...)
{
    HF_ASSERT(r->nheaders < HTTP_REQ_MAX_HEADERS);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    HF_ASSERT(n >= 0);
    char *h = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(h, (size_t)n + 1, fmt, ap);
    va_end(ap);
    r->headers[r->nheaders++] = h;
}

int adapter_classify_http(const struct http_resp *resp, struct send_result *res)
{
    if (resp->transport_error) {
        res->outcome = SEND_RETRY;
        snprintf(res->code, sizeof res->code, "%s", resp->timed_out ? "timeout" : "transport");
        snprintf(res->detail, sizeof res->detail, "%s", resp->error ? resp->error : "no answer");
        return 1;
    }
    if (resp->status >= 200 && resp->status < 300)
        return 0;
    snprintf(res->code, sizeof res->code, "http_%ld", resp->status);
    snprintf(res->detail, sizeof res->detail, "provider answered HTTP %ld", resp->status);
    if (resp->status == 408 || resp->status == 425 || resp->status == 429 || resp->status >= 500)
        res->outcome = SEND_RETRY;
    else
        res->outcome = SEND_FAIL;
    return 1;
}
