/*
 * wecom.c - WeCom (企业微信) application messages: alerts to staff (PM,
 * customer-service manager). PROTOCOLS.md B1, B2.
 *
 * Token (B1), built and parsed here; gateway/tokens.c owns the cache:
 *   GET <base>/cgi-bin/gettoken?corpid=..&corpsecret=..
 *   answer {"errcode":0,"errmsg":"ok","access_token":"..","expires_in":7200}
 *   WeCom has no forced refresh: within its validity the same token comes
 *   back, so @force is ignored.
 *
 * Send (B2):
 *   POST <base>/cgi-bin/message/send?access_token=<token>
 *   {"touser":"<wecom_id>","msgtype":"text","agentid":1000002,
 *    "text":{"content":".."},"safe":0,"enable_duplicate_check":1,
 *    "duplicate_check_interval":1800}
 *   agentid is a JSON integer. content is capped at 2048 bytes (the
 *   reported limit, PROTOCOLS G7) on a UTF-8 boundary, ending in "…" when
 *   cut. enable_duplicate_check makes WeCom drop an identical request
 *   within 30 minutes: a retry after a lost answer is not delivered twice.
 *   answer {"errcode":0,"errmsg":"ok","invaliduser":"","msgid":".."}
 *
 * Classification:
 *   0                    SEND_OK, provider_id = msgid; but SEND_UNREACHABLE
 *                        when our user is listed in "invaliduser" or
 *                        "unlicenseduser" (the send "succeeded" for nobody)
 *   40014 42001 40001    SEND_TOKEN_INVALID
 *   -1                   SEND_RETRY
 *   81013                SEND_UNREACHABLE (every recipient invalid)
 *   45009                SEND_DEFER: to the next midnight in Beijing when the
 *                        errmsg speaks of a daily quota, else one minute
 *                        (WeCom uses 45009 for every frequency limit)
 *   45033                SEND_DEFER one minute (too many concurrent calls)
 *   anything else        SEND_FAIL "wecom_<errcode>"
 *   HTTP and transport errors as adapter_classify_http().
 *
 * The token is in the URL: nothing here logs URLs, and the corpsecret
 * never appears in an error text.
 */
#include "adapter.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WECOM_CONTENT_MAX 2048             /* bytes of text.content */
#define WECOM_ELLIPSIS "\xe2\x80\xa6"      /* "…", 3 bytes */
#define WECOM_DUP_INTERVAL_S 1800
#define WECOM_MINUTE_DEFER_S 60

/* ===================================================================== */
/* Helpers                                                                 */
/* ===================================================================== */

/* The length of the longest prefix of @s (@len bytes) that is at most
 * @max bytes and does not end inside a UTF-8 sequence. */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    /* s[n] is the first byte left out: back up while it continues a
     * sequence, so the cut falls before the sequence's lead byte. */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* 1 if the '|'-separated list @list names @user (WeCom lower-cases the
 * userids it returns, so the match ignores case). */
static int list_has_user(const char *list, const char *user)
{
    size_t ulen = strlen(user);
    for (const char *p = list; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == ulen && strncasecmp(p, user, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

/* ===================================================================== */
/* Channel                                                                 */
/* ===================================================================== */

static int wecom_enabled(const struct config *cfg)
{
    return cfg->wecom_enabled;
}

static int wecom_can_reach(const struct config *cfg, const cJSON *recipient)
{
    (void)cfg;
    return adapter_str(recipient, "wecom_id") != NULL;
}

/* ===================================================================== */
/* access_token (B1)                                                       */
/* ===================================================================== */

static int wecom_token_request(const struct config *cfg, int force, struct http_req *req,
                               char *err, size_t errlen)
{
    (void)force;
    if (!cfg->wecom_base_url || !cfg->wecom_corpid || !cfg->wecom_corpid[0] ||
        !cfg->wecom_secret || !cfg->wecom_secret[0]) {
        snprintf(err, errlen, "channels.wecom.base_url, corpid and secret are required");
        return -1;
    }
    struct buf u;
    buf_init(&u);
    char *base = adapter_url_join(cfg->wecom_base_url, "/cgi-bin/gettoken?corpid=");
    buf_puts(&u, base);
    free(base);
    adapter_pct_encode(&u, cfg->wecom_corpid);
    buf_puts(&u, "&corpsecret=");
    adapter_pct_encode(&u, cfg->wecom_secret);
    req->method = xstrdup("GET");
    req->url = buf_steal(&u);
    return 0;
}

static const char *token_error_hint(long code)
{
    switch (code) {
    case -1: return "WeCom system busy";
    case 40001: return "invalid secret: check channels.wecom.secret (the app's Secret)";
    case 40013: return "invalid CorpID: check channels.wecom.corpid";
    case 40091: return "invalid secret: check channels.wecom.secret";
    case 41002: return "corpid missing";
    case 41004: return "corpsecret missing";
    case 45009: return "gettoken frequency limit";
    case 45033: return "too many concurrent calls";
    case 60020: return "this server's IP is not trusted by the app";
    default: return "token request refused";
    }
}

static int wecom_token_parse(const struct config *cfg, const struct http_resp *resp, char *token,
                             size_t toklen, int64_t *expires_in, int *retryable, char *err,
                             size_t errlen)
{
    static const long retry[] = {-1, 45009, 45033};
    return adapter_token_answer("wecom", resp, cfg->wecom_secret, retry, sizeof retry / sizeof retry[0],
                                token_error_hint, token, toklen, expires_in, retryable, err,
                                errlen);
}

/* ===================================================================== */
/* Application message send (B2)                                           */
/* ===================================================================== */

static int wecom_build(const struct config *cfg, const struct out_msg *m, struct http_req *req,
                       char *err, size_t errlen)
{
    if (!m->access_token || !m->access_token[0]) {
        snprintf(err, errlen, "no access token");
        return -1;
    }
    if (!cfg->wecom_base_url) {
        snprintf(err, errlen, "channels.wecom.base_url is not set");
        return -1;
    }
    const char *user = adapter_str(m->recipient, "wecom_id");
    if (!user) {
        snprintf(err, errlen, "recipient has no wecom_id");
        return -1;
    }
    const char *text = adapter_str(m->rendered, "text");
    if (!text) {
        snprintf(err, errlen, "rendered message has no text");
        return -1;
    }
    /* Every alert ends with its reference: staff can quote it, and two
     * alerts with the same text stay distinct for WeCom's duplicate check
     * (which is there to absorb our own resends of one alert). */
    char ref[48], id[32];
    adapter_dedup_id(m->id, id);
    snprintf(ref, sizeof ref, "\n编号：%s", id);
    size_t len = strlen(text), reflen = strlen(ref);
    char *content;
    if (len + reflen <= WECOM_CONTENT_MAX) {
        content = xasprintf("%s%s", text, ref);
    } else {
        size_t keep = utf8_prefix(text, len,
                                  WECOM_CONTENT_MAX - (sizeof WECOM_ELLIPSIS - 1) - reflen);
        content = xasprintf("%.*s%s%s", (int)keep, text, WECOM_ELLIPSIS, ref);
    }

    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "touser", user);
    cJSON_AddStringToObject(doc, "msgtype", "text");
    cJSON_AddNumberToObject(doc, "agentid", cfg->wecom_agentid);
    cJSON *t = cJSON_AddObjectToObject(doc, "text");
    cJSON_AddStringToObject(t, "content", content);
    cJSON_AddNumberToObject(doc, "safe", 0);
    cJSON_AddNumberToObject(doc, "enable_duplicate_check", 1);
    cJSON_AddNumberToObject(doc, "duplicate_check_interval", WECOM_DUP_INTERVAL_S);
    free(content);
    char *body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    HF_ASSERT(body);

    struct buf u;
    buf_init(&u);
    char *base = adapter_url_join(cfg->wecom_base_url, "/cgi-bin/message/send?access_token=");
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

static void wecom_parse(const struct config *cfg, const struct out_msg *m,
                        const struct http_resp *resp, struct send_result *res)
{
    (void)cfg;
    if (adapter_classify_http(resp, res))
        return;
    cJSON *j = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
    const cJSON *ec = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "errcode") : NULL;
    long code;
    if (adapter_errcode(ec, &code) != 0) {
        /* duplicate_check makes the retry safe */
        res->outcome = SEND_RETRY;
        snprintf(res->code, sizeof res->code, "wecom_bad_response");
        snprintf(res->detail, sizeof res->detail, "unreadable answer (HTTP %ld, %zu bytes)",
                 resp->status, resp->body_len);
        cJSON_Delete(j);
        return;
    }
    snprintf(res->code, sizeof res->code, "wecom_%ld", code);
    adapter_copy_sanitized(res->detail, sizeof res->detail, adapter_str(j, "errmsg"), NULL);

    switch (code) {
    case 0: {
        const char *user = adapter_str(m->recipient, "wecom_id");
        const char *lists[] = {"invaliduser", "unlicenseduser"};
        for (size_t i = 0; user && i < HF_ARRAY_LEN(lists); i++) {
            if (list_has_user(adapter_str(j, lists[i]), user)) {
                res->outcome = SEND_UNREACHABLE;
                snprintf(res->code, sizeof res->code, "wecom_%s", lists[i]);
                snprintf(res->detail, sizeof res->detail,
                         "WeCom listed the recipient in %s (unknown userid, outside the app's "
                         "visibility or unlicensed)", lists[i]);
                cJSON_Delete(j);
                return;
            }
        }
        res->outcome = SEND_OK;
        const cJSON *msgid = cJSON_GetObjectItemCaseSensitive(j, "msgid");
        if (cJSON_IsString(msgid))
            snprintf(res->provider_id, sizeof res->provider_id, "%s", msgid->valuestring);
        else if (cJSON_IsNumber(msgid)) /* documented as a string; best effort */
            snprintf(res->provider_id, sizeof res->provider_id, "%.0f", msgid->valuedouble);
        break;
    }
    case 40014:
    case 42001:
    case 40001:
        res->outcome = SEND_TOKEN_INVALID;
        break;
    case -1:
        res->outcome = SEND_RETRY;
        break;
    case 81013:
        res->outcome = SEND_UNREACHABLE;
        break;
    case 45009: {
        const char *msg = adapter_str(j, "errmsg");
        res->outcome = SEND_DEFER;
        res->defer_until = msg && strstr(msg, "daily") ? adapter_next_beijing_midnight(m->now)
                                                       : m->now + WECOM_MINUTE_DEFER_S;
        break;
    }
    case 45033:
        res->outcome = SEND_DEFER;
        res->defer_until = m->now + WECOM_MINUTE_DEFER_S;
        break;
    default:
        res->outcome = SEND_FAIL;
        break;
    }
    cJSON_Delete(j);
}

const struct channel_adapter wecom_adapter = {
    .name = "wecom",
    .channel = "wecom",
    .enabled = wecom_enabled,
    .can_reach = wecom_can_reach,
    .build_request = wecom_build,
    .parse_response = wecom_parse,
    .token_request = wecom_token_request,
    .token_parse = wecom_token_parse,
};
