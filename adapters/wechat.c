/*
 * wechat.c - WeChat Official Account template messages (PROTOCOLS.md A1,
 * A2, A8).
 *
 * Token (A1), built here and parsed here; gateway/tokens.c owns the cache,
 * the single refresh in flight and the waiting messages:
 *   channels.wechat.token_api = "stable" (default):
 *     POST <base>/cgi-bin/stable_token
 *     {"grant_type":"client_credential","appid":"..","secret":"..","force_refresh":false}
 *   channels.wechat.token_api = "plain":
 *     GET <base>/cgi-bin/token?grant_type=client_credential&appid=..&secret=..
 *   answer {"access_token":"..","expires_in":7200} or {"errcode":N,"errmsg":".."}
 *
 * Send (A2):
 *   POST <base>/cgi-bin/message/template/send?access_token=<token>
 *   {"touser":"<openid>","template_id":"..","url":"..","client_msg_id":"hf-<id>",
 *    "data":{"keyword1":{"value":".."},...}}
 *   "url" only when the rendered template has one (the survey link).
 *   client_msg_id makes WeChat send one message per openid + id (10 min),
 *   so a retry after a lost answer does not reach the customer twice.
 *   answer {"errcode":0,"errmsg":"ok","msgid":200228332}; msgid is a 64-bit
 *   integer that can exceed 2^53, so it is copied from the raw JSON text,
 *   never through a double.
 *
 * Classification (A8 and issue 3):
 *   0                    SEND_OK, provider_id = msgid
 *   40001 40014 42001    SEND_TOKEN_INVALID (the owner refreshes, we resend once)
 *   -1                   SEND_RETRY (system busy)
 *   45009                SEND_DEFER to the next midnight in Beijing (daily quota)
 *   45011                SEND_DEFER one minute (minute quota)
 *   43004 43101 40003    SEND_UNREACHABLE (not a follower / refused / bad openid:
 *                        the dispatcher falls back to SMS)
 *   anything else        SEND_FAIL with code "wechat_<errcode>" (40037 bad
 *                        template, 47003 bad data, 48001 no permission, ...)
 *   HTTP and transport errors as adapter_classify_http().
 *
 * The access token travels in the URL: nothing here logs URLs, and the
 * AppSecret never appears in an error text.
 */
#include "adapter.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WECHAT_MINUTE_DEFER_S 60

/* ===================================================================== */
/* Helpers                                                                 */
/* ===================================================================== */

/* Skip JSON whitespace in @p[*i..n). */
static void skip_ws(const char *p, size_t n, size_t *i)
{
    while (*i < n && (p[*i] == ' ' || p[*i] == '\t' || p[*i] == '\r' || p[*i] == '\n'))
        (*i)++;
}

/* Skip a JSON string starting at the quote @p[*i]. 0, or -1 if unterminated. */
static int skip_string(const char *p, size_t n, size_t *i)
{
    for ((*i)++; *i < n; (*i)++) {
        if (p[*i] == '\\')
            (*i)++;
        else if (p[*i] == '"') {
            (*i)++;
            return 0;
        }
    }
    return -1;
}

/* Skip one JSON value (of already validated text) starting at @p[*i]. */
static int skip_value(const char *p, size_t n, size_t *i)
{
    if (*i >= n)
        return -1;
    if (p[*i] == '"')
        return skip_string(p, n, i);
    if (p[*i] == '{' || p[*i] == '[') {
        int depth = 0;
        while (*i < n) {
            char c = p[*i];
            if (c == '"') {
                if (skip_string(p, n, i) != 0)
                    return -1;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']')
                depth--;
            (*i)++;
            if (depth == 0)
                return 0;
        }
        return -1;
    }
    while (*i < n && p[*i] != ',' && p[*i] != '}' && p[*i] != ']' && p[*i] != ' ' &&
           p[*i] != '\t' && p[*i] != '\r' && p[*i] != '\n')
        (*i)++;
    return 0;
}

/*
 * The raw text of the integer value of top-level member @key in the JSON
 * object @p/@n (which cJSON has already accepted), copied to @out:
 * "9223372036854775806" stays exactly that, which a double cannot hold.
 * 1 when found and it is a plain integer that fits, else 0.
 */
static int json_raw_integer(const char *p, size_t n, const char *key, char *out, size_t outlen)
{
    size_t i = 0, klen = strlen(key);
    skip_ws(p, n, &i);
    if (i >= n || p[i] != '{')
        return 0;
    i++;
    for (;;) {
        skip_ws(p, n, &i);
        if (i >= n || p[i] != '"')
            return 0; /* '}' (end) or malformed */
        size_t kstart = i + 1;
        if (skip_string(p, n, &i) != 0)
            return 0;
        size_t kend = i - 1; /* at the closing quote */
        skip_ws(p, n, &i);
        if (i >= n || p[i] != ':')
            return 0;
        i++;
        skip_ws(p, n, &i);
        if (kend - kstart == klen && memcmp(p + kstart, key, klen) == 0) {
            size_t vstart = i, j = i;
            if (j < n && p[j] == '-')
                j++;
            size_t digits = j;
            while (j < n && isdigit((unsigned char)p[j]))
                j++;
            if (j == digits || (j < n && (p[j] == '.' || p[j] == 'e' || p[j] == 'E')) ||
                j - vstart + 1 > outlen)
                return 0;
            memcpy(out, p + vstart, j - vstart);
            out[j - vstart] = '\0';
            return 1;
        }
        if (skip_value(p, n, &i) != 0)
            return 0;
        skip_ws(p, n, &i);
        if (i >= n || p[i] != ',')
            return 0;
        i++;
    }
}

/* ===================================================================== */
/* Channel                                                                 */
/* ===================================================================== */

static int wechat_enabled(const struct config *cfg)
{
    return cfg->wechat_enabled;
}

static int wechat_can_reach(const struct config *cfg, const cJSON *recipient)
{
    (void)cfg;
    return adapter_str(recipient, "wechat_openid") != NULL;
}

/* ===================================================================== */
/* access_token (A1)                                                       */
/* ===================================================================== */

static int wechat_token_request(const struct config *cfg, int force, struct http_req *req,
                                char *err, size_t errlen)
{
    if (!cfg->wechat_base_url || !cfg->wechat_appid || !cfg->wechat_appid[0] ||
        !cfg->wechat_secret || !cfg->wechat_secret[0]) {
        snprintf(err, errlen, "channels.wechat.base_url, appid and secret are required");
        return -1;
    }
    const char *api = cfg->wechat_token_api ? cfg->wechat_token_api : "stable";
    if (strcmp(api, "stable") == 0) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "grant_type", "client_credential");
        cJSON_AddStringToObject(doc, "appid", cfg->wechat_appid);
        cJSON_AddStringToObject(doc, "secret", cfg->wechat_secret);
        cJSON_AddBoolToObject(doc, "force_refresh", force ? 1 : 0);
        char *body = cJSON_PrintUnformatted(doc);
        cJSON_Delete(doc);
        HF_ASSERT(body);
        req->method = xstrdup("POST");
        req->url = adapter_url_join(cfg->wechat_base_url, "/cgi-bin/stable_token");
        req->body = xstrdup(body);
        req->body_len = strlen(body);
        cJSON_free(body);
        http_req_add_header(req, "Content-Type: application/json; charset=utf-8");
        return 0;
    }
    if (strcmp(api, "plain") == 0) {
        /* force has no meaning here: every /cgi-bin/token call issues a new
         * token (the old one stays valid for 5 more minutes). */
        struct buf u;
        buf_init(&u);
        char *base = adapter_url_join(cfg->wechat_base_url, "/cgi-bin/token");
        buf_puts(&u, base);
        free(base);
        buf_puts(&u, "?grant_type=client_credential&appid=");
        adapter_pct_encode(&u, cfg->wechat_appid);
        buf_puts(&u, "&secret=");
        adapter_pct_encode(&u, cfg->wechat_secret);
        req->method = xstrdup("GET");
        req->url = buf_steal(&u);
        return 0;
    }
    snprintf(err, errlen, "channels.wechat.token_api must be \"stable\" or \"plain\"");
    return -1;
}

/* What a token-endpoint errcode means for the operator. */
static const char *token_error_hint(long code)
{
    switch (code) {
    case -1: return "WeChat system busy";
    case 40001: return "invalid credential: check channels.wechat.secret (the AppSecret)";
    case 40002: return "invalid grant_type";
    case 40013: return "invalid AppID: check channels.wechat.appid";
    case 40125: return "invalid AppSecret: check channels.wechat.secret";
    case 40164: return "this server's IP is not on the account's API IP whitelist";
    case 41002: return "appid missing";
    case 41004: return "secret missing";
    case 45009: return "daily token quota reached";
    case 45011: return "token API minute quota reached";
    case 89503: return "the account admin must confirm calls from this IP";
    default: return "token request refused";
    }
}

static int wechat_token_parse(const struct config *cfg, const struct http_resp *resp, char *token,
                             size_t toklen, int64_t *expires_in, int *retryable, char *err,
                             size_t errlen)
{
    static const long retry[] = {-1, 45009, 45011};
    return adapter_token_answer("wechat", resp, cfg->wechat_secret, retry, sizeof retry / sizeof retry[0],
                                token_error_hint, token, toklen, expires_in, retryable, err,
                                errlen);
}

/* ===================================================================== */
/* Template message send (A2)                                              */
/* ===================================================================== */

static int wechat_build(const struct config *cfg, const struct out_msg *m, struct http_req *req,
                        char *err, size_t errlen)
{
    if (!m->access_token || !m->access_token[0]) {
        snprintf(err, errlen, "no access token");
        return -1;
    }
    if (!cfg->wechat_base_url) {
        snprintf(err, errlen, "channels.wechat.base_url is not set");
        return -1;
    }
    const char *openid = adapter_str(m->recipient, "wechat_openid");
    if (!openid) {
        snprintf(err, errlen, "recipient has no wechat_openid");
        return -1;
    }
    const cJSON *wx = cJSON_GetObjectItemCaseSensitive(m->rendered, "wechat");
    if (!cJSON_IsObject(wx)) {
        snprintf(err, errlen, "the message template has no wechat part");
        return -1;
    }
    const char *template_id = adapter_str(wx, "template_id");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(wx, "data");
    if (!template_id || !cJSON_IsObject(data)) {
        snprintf(err, errlen, "the wechat part needs template_id and data");
        return -1;
    }
    const char *link = adapter_str(wx, "url");
    char dedup[32];
    adapter_dedup_id(m->id, dedup);

    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "touser", openid);
    cJSON_AddStringToObject(doc, "template_id", template_id);
    if (link)
        cJSON_AddStringToObject(doc, "url", link);
    cJSON_AddStringToObject(doc, "client_msg_id", dedup);
    cJSON_AddItemToObject(doc, "data", cJSON_Duplicate(data, 1));
    char *body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    HF_ASSERT(body);

    struct buf u;
    buf_init(&u);
    char *base = adapter_url_join(cfg->wechat_base_url, "/cgi-bin/message/template/send?access_token=");
    buf_puts(&u, base);
    free(base);
    adapter_pct_encode(&u, m->access_token);

    req->method = xstrdup("POST");
    req->url = buf_steal(&u);
    req->body = xstrdup(body);
    req->body_len = strlen(body);
    cJSON_free(body);
    http_req_add_header(req, "Content-Type: application/json; charset=utf-8");
    return 0;
}

static void wechat_parse(const struct config *cfg, const struct out_msg *m,
                         const struct http_resp *resp, struct send_result *res)
{
    (void)cfg;
    if (adapter_classify_http(resp, res))
        return;
    cJSON *j = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
    if (!cJSON_IsObject(j)) {
        /* Not WeChat's answer (a proxy page?). Whether it was sent is
         * unknown; client_msg_id makes the retry safe. */
        res->outcome = SEND_RETRY;
        snprintf(res->code, sizeof res->code, "wechat_bad_response");
        snprintf(res->detail, sizeof res->detail, "unreadable answer (HTTP %ld, %zu bytes)",
                 resp->status, resp->body_len);
        cJSON_Delete(j);
        return;
    }
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(j, "errcode");
    const cJSON *msgid = cJSON_GetObjectItemCaseSensitive(j, "msgid");
    long code = 0;
    if ((!cJSON_IsNumber(ec) && !msgid) || (cJSON_IsNumber(ec) && adapter_errcode(ec, &code) != 0)) {
        res->outcome = SEND_RETRY;
        snprintf(res->code, sizeof res->code, "wechat_bad_response");
        snprintf(res->detail, sizeof res->detail, "answer without an integer errcode");
        cJSON_Delete(j);
        return;
    }
    snprintf(res->code, sizeof res->code, "wechat_%ld", code);
    adapter_copy_sanitized(res->detail, sizeof res->detail, adapter_str(j, "errmsg"), NULL);

    switch (code) {
    case 0:
        res->outcome = SEND_OK;
        if (cJSON_IsString(msgid))
            snprintf(res->provider_id, sizeof res->provider_id, "%s", msgid->valuestring);
        else if (cJSON_IsNumber(msgid) &&
                 !json_raw_integer(resp->body, resp->body_len, "msgid", res->provider_id,
                                   sizeof res->provider_id))
            snprintf(res->provider_id, sizeof res->provider_id, "%.0f", msgid->valuedouble);
        break;
    case 40001:
    case 40014:
    case 42001:
        res->outcome = SEND_TOKEN_INVALID;
        break;
    case -1:
        res->outcome = SEND_RETRY;
        break;
    case 45009:
        res->outcome = SEND_DEFER;
        res->defer_until = adapter_next_beijing_midnight(m->now);
        break;
    case 45011:
        res->outcome = SEND_DEFER;
        res->defer_until = m->now + WECHAT_MINUTE_DEFER_S;
        break;
    case 43004:
    case 43101:
    case 40003:
        res->outcome = SEND_UNREACHABLE;
        break;
    default:
        res->outcome = SEND_FAIL;
        break;
    }
    cJSON_Delete(j);
}

const struct channel_adapter wechat_adapter = {
    .name = "wechat",
    .channel = "wechat",
    .enabled = wechat_enabled,
    .can_reach = wechat_can_reach,
    .build_request = wechat_build,
    .parse_response = wechat_parse,
    .token_request = wechat_token_request,
    .token_parse = wechat_token_parse,
};
