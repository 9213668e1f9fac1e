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

char *adapter_url_join(const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    return xasprintf("%.*s%s", (int)n, base, path);
}

const char *adapter_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

int adapter_errcode(const cJSON *ec, long *code)
{
    if (!cJSON_IsNumber(ec))
        return -1;
    double d = ec->valuedouble;
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != (double)(long)d)
        return -1;
    *code = (long)d;
    return 0;
}

void adapter_copy_sanitized(char *out, size_t outlen, const char *s, const char *secret)
{
    if (!outlen)
        return;
    out[0] = '\0';
    if (!s || (secret && secret[0] && strstr(s, secret)))
        return;
    size_t i = 0;
    for (; s[i] && i + 1 < outlen; i++)
        out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];
    out[i] = '\0';
}

int64_t adapter_next_beijing_midnight(int64_t now)
{
    int64_t local = now + 8 * 3600;
    int64_t day = local / 86400;
    if (local < 0 && local % 86400)
        day--; /* floor for times before 1970, for completeness */
    return (day + 1) * 86400 - 8 * 3600;
}

int adapter_token_answer(const char *provider, const struct http_resp *resp, const char *secret,
                         const long *retry_codes, size_t nretry, const char *(*hint)(long code),
                         char *token, size_t toklen, int64_t *expires_in, int *retryable,
                         char *err, size_t errlen)
{
    struct send_result http;
    memset(&http, 0, sizeof http);
    if (adapter_classify_http(resp, &http)) {
        *retryable = http.outcome == SEND_RETRY;
        snprintf(err, errlen, "%s token: %s (%s)", provider, http.code, http.detail);
        return -1;
    }
    cJSON *j = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
    int rc = -1;
    if (!cJSON_IsObject(j)) {
        *retryable = 1;
        snprintf(err, errlen, "%s token: unreadable answer (HTTP %ld, %zu bytes)", provider,
                 resp->status, resp->body_len);
        goto out;
    }
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(j, "errcode");
    long code = 0;
    if (cJSON_IsNumber(ec) && adapter_errcode(ec, &code) != 0) {
        *retryable = 1;
        snprintf(err, errlen, "%s token: unreadable answer (errcode is not an integer)", provider);
        goto out;
    }
    if (code != 0) {
        char msg[96];
        adapter_copy_sanitized(msg, sizeof msg, adapter_str(j, "errmsg"), secret);
        /* busy and quotas pass; everything else needs a person */
        *retryable = 0;
        for (size_t i = 0; i < nretry; i++)
            *retryable |= code == retry_codes[i];
        snprintf(err, errlen, "%s token: errcode %ld (%s)%s%s", provider, code, hint(code),
                 msg[0] ? ": " : "", msg);
        goto out;
    }
    const char *tok = adapter_str(j, "access_token");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    if (!tok || !cJSON_IsNumber(exp) || exp->valuedouble < 1 || exp->valuedouble > 1e9) {
        *retryable = 1;
        snprintf(err, errlen, "%s token: answer without access_token/expires_in", provider);
        goto out;
    }
    if (strlen(tok) >= toklen) {
        *retryable = 0;
        snprintf(err, errlen, "%s token: access_token longer than %zu bytes", provider, toklen - 1);
        goto out;
    }
    memcpy(token, tok, strlen(tok) + 1);
    *expires_in = (int64_t)exp->valuedouble;
    rc = 0;
out:
    cJSON_Delete(j);
    return rc;
}
