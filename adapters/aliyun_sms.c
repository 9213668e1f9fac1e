/*
 * aliyun_sms.c - the Aliyun SMS channel (dysmsapi 2017-05-25, SendSms;
 * PROTOCOLS.md section C).
 *
 * Request, as the official SDK (@alicloud/dysmsapi20170525 on
 * openapi-core) sends it: POST <channels.aliyun.base_url>/ with every API
 * parameter in the query string and an empty body.
 *
 *   PhoneNumbers   the recipient's mobile (11 digits when it is a mainland
 *                  number; anything else is passed on for Aliyun to judge)
 *   SignName       channels.sms.sign_name (without 【】)
 *   TemplateCode   rendered.sms.template_code
 *   TemplateParam  rendered.sms.params as a compact JSON object of strings,
 *                  in template order (left out when the template has none)
 *   OutId          hf-<message id>: echoed in the SmsReport receipt, which
 *                  is how a receipt finds its message
 *
 * Signature V3 (ACS3-HMAC-SHA256, the default; channels.aliyun.signature
 * "v3"): headers host (host[:port] of the base URL), x-acs-action,
 * x-acs-version, x-acs-date (m->now), x-acs-signature-nonce (m->nonce),
 * x-acs-content-sha256 (of the empty body) and Authorization. We also send
 * "Content-Type:" with no value, which tells libcurl not to add its
 * default "application/x-www-form-urlencoded" to the empty POST: every
 * header on the wire that V3 would sign (host, content-type, x-acs-*) is
 * then signed, and the request looks like the SDK's (no body, no
 * content type).
 *
 * Signature V1 (RPC HMAC-SHA1, channels.aliyun.signature "v1"): the common
 * parameters AccessKeyId, Action, Format=JSON, SignatureMethod=HMAC-SHA1,
 * SignatureNonce (UUID-shaped, from m->nonce), SignatureVersion=1.0,
 * Timestamp, Version join the API parameters in the query, followed by
 * Signature.
 *
 * Answer (JSON, HTTP 200 for business errors too): {"Code":"OK","Message":
 * "OK","BizId":"...","RequestId":"..."}; see aliyun_rules[] for how each
 * Code is classified. SendSms is not idempotent: Aliyun does not dedup on
 * OutId, so the classification sends to "retry" only what cannot have
 * been delivered (throttling, gateway/system errors, 5xx) and transport
 * failures, which the dispatcher bounds by the message's deadline.
 *
 * Secrets: the AccessKeySecret only enters the signer. Logs and
 * res->detail never carry it, nor the signature.
 */
#include "adapter.h"
#include "sign_aliyun.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIYUN_ACTION "SendSms"
#define ALIYUN_VERSION "2017-05-25"
#define ALIYUN_MINUTE_DEFER_S 60

static int aliyun_sms_enabled(const struct config *cfg)
{
    return cfg->sms_provider && strcmp(cfg->sms_provider, "aliyun") == 0;
}

/* The recipient's mobile as given, or NULL. */
static const char *recipient_mobile(const cJSON *recipient)
{
    const cJSON *m = recipient ? cJSON_GetObjectItemCaseSensitive(recipient, "mobile") : NULL;
    return cJSON_IsString(m) && m->valuestring[0] ? m->valuestring : NULL;
}

static int aliyun_sms_can_reach(const struct config *cfg, const cJSON *recipient)
{
    (void)cfg;
    return recipient_mobile(recipient) != NULL;
}

/* ===================================================================== */
/* Request                                                                 */
/* ===================================================================== */

/*
 * The Host header value of @url: its authority without userinfo, port
 * kept ("dysmsapi.aliyuncs.com", "127.0.0.1:8080"). Writes @out (@outlen)
 * and returns 0, or -1 when @url has no "scheme://host".
 */
static int url_host(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    if (!p)
        return -1;
    p += 3;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (n == 0 || n >= outlen)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/*
 * TemplateParam: rendered.sms.params as a compact JSON object whose values
 * are all strings (Aliyun answers isv.INVALID_JSON_PARAM otherwise).
 * Numbers and booleans are turned into their text; other values are an
 * error. Returns the text (caller owns; free()), NULL with @err set on
 * error, or NULL with @err "" when there are no parameters.
 */
static char *template_param_json(const cJSON *params, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!params || cJSON_IsNull(params))
        return NULL;
    if (!cJSON_IsObject(params)) {
        snprintf(err, errlen, "sms.params must be an object");
        return NULL;
    }
    if (!params->child)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    const cJSON *c;
    cJSON_ArrayForEach(c, params) {
        char num[48];
        const char *v = NULL;
        if (cJSON_IsString(c)) {
            v = c->valuestring;
        } else if (cJSON_IsNumber(c)) {
            double d = c->valuedouble;
            if (d >= -9e15 && d <= 9e15 && d == (double)(long long)d)
                snprintf(num, sizeof num, "%lld", (long long)d);
            else
                snprintf(num, sizeof num, "%.17g", c->valuedouble);
            v = num;
        } else if (cJSON_IsBool(c)) {
            v = cJSON_IsTrue(c) ? "true" : "false";
        } else {
            snprintf(err, errlen, "sms.params.%s must be a string", c->string);
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToObject(o, c->string, cJSON_CreateString(v));
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    HF_ASSERT(text != NULL);
    char *copy = xstrdup(text);
    cJSON_free(text);
    return copy;
}

static int aliyun_sms_build(const struct config *cfg, const struct out_msg *m,
                            struct http_req *req, char *err, size_t errlen)
{
    HF_ASSERT(m->nonce != NULL);
    const cJSON *sms = m->rendered ? cJSON_GetObjectItemCaseSensitive(m->rendered, "sms") : NULL;
    if (!cJSON_IsObject(sms)) {
        snprintf(err, errlen, "the message template has no sms part");
        return -1;
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(sms, "template_code");
    if (!cJSON_IsString(code) || !code->valuestring[0]) {
        snprintf(err, errlen, "the message template has no sms.template_code");
        return -1;
    }
    const char *mobile = recipient_mobile(m->recipient);
    if (!mobile) {
        snprintf(err, errlen, "the recipient has no mobile number");
        return -1;
    }
    if (!cfg->sms_sign_name || !cfg->sms_sign_name[0]) {
        snprintf(err, errlen, "channels.sms.sign_name is not set");
        return -1;
    }
    if (!cfg->aliyun_key_id || !cfg->aliyun_key_secret || !cfg->aliyun_base_url) {
        snprintf(err, errlen,
                 "channels.aliyun needs base_url, access_key_id and access_key_secret");
        return -1;
    }
    char host[256];
    if (url_host(cfg->aliyun_base_url, host, sizeof host) != 0) {
        snprintf(err, errlen, "channels.aliyun.base_url has no host");
        return -1;
    }
    int v1 = cfg->aliyun_signature && strcmp(cfg->aliyun_signature, "v1") == 0;

    char perr[128];
    char *tparam = template_param_json(cJSON_GetObjectItemCaseSensitive(sms, "params"), perr,
                                       sizeof perr);
    if (!tparam && perr[0]) {
        snprintf(err, errlen, "%s", perr);
        return -1;
    }
    /* cppcheck-suppress variableScope ; q[] keeps a pointer to uuid past the v1 block */
    char phone[12], outid[32], date[32], uuid[37];
    if (!mobile_normalize(mobile, phone))
        phone[0] = '\0'; /* not a mainland number: send it as given */
    adapter_dedup_id(m->id, outid);
    iso8601_format_utc(m->now, date);

    struct sign_aliyun_kv q[16];
    size_t nq = 0;
    q[nq++] = (struct sign_aliyun_kv){"PhoneNumbers", phone[0] ? phone : mobile};
    q[nq++] = (struct sign_aliyun_kv){"SignName", cfg->sms_sign_name};
    q[nq++] = (struct sign_aliyun_kv){"TemplateCode", code->valuestring};
    if (tparam)
        q[nq++] = (struct sign_aliyun_kv){"TemplateParam", tparam};
    q[nq++] = (struct sign_aliyun_kv){"OutId", outid};
    if (m->extend_code && m->extend_code[0])
        q[nq++] = (struct sign_aliyun_kv){"SmsUpExtendCode", m->extend_code};

    /* The base URL's path is kept (the mock serves under /aliyun); the
     * API's own path is "/". The query on the wire is the canonical one
     * (sorted, pct-encoded; our keys are plain letters, which V3 leaves
     * unencoded too), so what is signed is literally what is sent. */
    size_t blen = strlen(cfg->aliyun_base_url);
    while (blen > 0 && cfg->aliyun_base_url[blen - 1] == '/')
        blen--;
    struct buf url;
    buf_init(&url);
    buf_append(&url, cfg->aliyun_base_url, blen);
    buf_puts(&url, "/?");

    req->method = xstrdup("POST");
    if (v1) {
        sign_aliyun_uuid_from_nonce(m->nonce, uuid);
        q[nq++] = (struct sign_aliyun_kv){"AccessKeyId", cfg->aliyun_key_id};
        q[nq++] = (struct sign_aliyun_kv){"Action", ALIYUN_ACTION};
        q[nq++] = (struct sign_aliyun_kv){"Format", "JSON"};
        q[nq++] = (struct sign_aliyun_kv){"SignatureMethod", "HMAC-SHA1"};
        q[nq++] = (struct sign_aliyun_kv){"SignatureNonce", uuid};
        q[nq++] = (struct sign_aliyun_kv){"SignatureVersion", "1.0"};
        q[nq++] = (struct sign_aliyun_kv){"Timestamp", date};
        q[nq++] = (struct sign_aliyun_kv){"Version", ALIYUN_VERSION};
        struct sign_aliyun_v1 sig;
        sign_aliyun_v1("POST", q, nq, cfg->aliyun_key_secret, &sig);
        buf_puts(&url, sig.canonical_query);
        buf_puts(&url, "&Signature=");
        sign_aliyun_pct(&url, sig.signature);
        sign_aliyun_v1_cleanup(&sig);
    } else {
        struct sign_aliyun_kv h[] = {
            {"host", host},
            {"x-acs-action", ALIYUN_ACTION},
            {"x-acs-version", ALIYUN_VERSION},
            {"x-acs-date", date},
            {"x-acs-signature-nonce", m->nonce},
            {"x-acs-content-sha256", SIGN_ALIYUN_EMPTY_SHA256},
        };
        struct sign_aliyun_v3_in in = {
            .method = "POST", .uri = "/", .query = q, .nquery = nq, .headers = h,
            .nheaders = HF_ARRAY_LEN(h), .payload_hash = SIGN_ALIYUN_EMPTY_SHA256,
            .key_id = cfg->aliyun_key_id, .key_secret = cfg->aliyun_key_secret,
        };
        struct sign_aliyun_v3 sig;
        sign_aliyun_v3(&in, &sig);
        buf_puts(&url, sig.canonical_query);
        for (size_t i = 0; i < HF_ARRAY_LEN(h); i++)
            http_req_add_header(req, "%s: %s", h[i].key, h[i].value);
        http_req_add_header(req, "Authorization: %s", sig.authorization);
        sign_aliyun_v3_cleanup(&sig);
    }
    /* No body, so no content type (see the head comment). */
    http_req_add_header(req, "Content-Type:");
    http_req_add_header(req, "Accept: application/json");
    req->url = buf_steal(&url);
    req->body = NULL;
    req->body_len = 0;
    free(tparam);
    return 0;
}

/* ===================================================================== */
/* Answer                                                                  */
/* ===================================================================== */

enum aliyun_action {
    ALIYUN_FAIL = 0,   /* permanent: record the code */
    ALIYUN_RETRY,      /* transient: the platform did not take the message */
    ALIYUN_LIMIT,      /* per-number frequency control: defer */
    ALIYUN_DAY_LIMIT,  /* daily limit: defer to the next Beijing midnight */
};

/* One classification row: @code exactly, or (@prefix) every code starting
 * with it. First match wins; a code matching no row is a permanent
 * failure (an unknown answer must not loop on a non-idempotent API). */
static const struct aliyun_rule {
    const char *code;
    int prefix;
    enum aliyun_action action;
} aliyun_rules[] = {
    { "isv.BUSINESS_LIMIT_CONTROL", 0, ALIYUN_LIMIT },
    { "isv.DAY_LIMIT_CONTROL", 0, ALIYUN_DAY_LIMIT },
    { "Throttling", 1, ALIYUN_RETRY },          /* Throttling, Throttling.User, .Api */
    { "isp.SYSTEM_ERROR", 0, ALIYUN_RETRY },
    { "isp.GATEWAY_ERROR", 0, ALIYUN_RETRY },
    { "ServiceUnavailable", 0, ALIYUN_RETRY },
    { "InternalError", 0, ALIYUN_RETRY },
    /* Permanent, listed for the record (the default is the same). */
    { "isv.MOBILE_NUMBER_ILLEGAL", 0, ALIYUN_FAIL },
    { "isv.MOBILE_COUNT_OVER_LIMIT", 0, ALIYUN_FAIL },
    { "isv.TEMPLATE_MISSING_PARAMETERS", 0, ALIYUN_FAIL },
    { "isv.INVALID_JSON_PARAM", 0, ALIYUN_FAIL },
    { "isv.INVALID_PARAMETERS", 0, ALIYUN_FAIL },
    { "isv.SMS_TEMPLATE_ILLEGAL", 0, ALIYUN_FAIL },
    { "isv.SMS_SIGNATURE_ILLEGAL", 0, ALIYUN_FAIL },
    { "isv.BLACK_KEY_CONTROL_LIMIT", 0, ALIYUN_FAIL },
    { "isv.PARAM_LENGTH_LIMIT", 0, ALIYUN_FAIL },
    { "isv.PARAM_NOT_SUPPORT_URL", 0, ALIYUN_FAIL },
    { "isv.AMOUNT_NOT_ENOUGH", 0, ALIYUN_FAIL },
    { "isv.OUT_OF_SERVICE", 0, ALIYUN_FAIL },
    { "isv.PRODUCT_UN_SUBSCRIPT", 0, ALIYUN_FAIL },
    { "isv.PRODUCT_UNSUBSCRIBE", 0, ALIYUN_FAIL },
    { "isv.ACCOUNT_", 1, ALIYUN_FAIL },          /* ACCOUNT_NOT_EXISTS, ACCOUNT_ABNORMAL */
    { "isp.RAM_PERMISSION_DENY", 0, ALIYUN_FAIL },
    { "SignatureDoesNotMatch", 0, ALIYUN_FAIL },
    { "InvalidAccessKeyId", 1, ALIYUN_FAIL },    /* .NotFound, .Inactive */
};

static enum aliyun_action aliyun_classify(const char *code, long status)
{
    for (size_t i = 0; i < HF_ARRAY_LEN(aliyun_rules); i++) {
        const struct aliyun_rule *r = &aliyun_rules[i];
        if (r->prefix ? strncmp(code, r->code, strlen(r->code)) == 0 : strcmp(code, r->code) == 0)
            return r->action;
    }
    /* An unknown code on a 5xx is the platform failing, not a verdict. */
    return status >= 500 ? ALIYUN_RETRY : ALIYUN_FAIL;
}

/* Copy at most @n - 1 bytes of @src (@len bytes) into @dst, cut on a
 * UTF-8 character boundary, NUL-terminated. */
static void copy_utf8(char *dst, size_t n, const char *src, size_t len)
{
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* res->detail from the answer's Message (and RequestId, for support
 * tickets). SignatureDoesNotMatch messages carry the server's string to
 * sign, which holds the recipient's number: it is cut off. */
static void set_detail(struct send_result *res, const cJSON *msg, const cJSON *rid)
{
    const char *text = cJSON_IsString(msg) ? msg->valuestring : "";
    size_t len = strlen(text);
    const char *cut = strstr(text, "server string to sign");
    if (cut) {
        len = (size_t)(cut - text);
        while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == ':' || text[len - 1] == '.'))
            len--;
    }
    /* Keep room for the RequestId (a 36-char UUID). */
    char head[sizeof res->detail - 48];
    copy_utf8(head, sizeof head, text, len);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, head);
    if (cJSON_IsString(rid) && rid->valuestring[0])
        buf_printf(&b, "%sRequestId %s", head[0] ? "; " : "", rid->valuestring);
    copy_utf8(res->detail, sizeof res->detail, b.data ? b.data : "", b.len);
    buf_cleanup(&b);
}

static void aliyun_sms_parse(const struct config *cfg, const struct out_msg *m,
                             const struct http_resp *resp, struct send_result *res)
{
    (void)cfg;
    if (resp->transport_error) {
        adapter_classify_http(resp, res);
        return;
    }
    cJSON *j = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
    const cJSON *code = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "Code") : NULL;
    if (!cJSON_IsString(code) || !code->valuestring[0] || !ascii_printable(code->valuestring) ||
        strlen(code->valuestring) >= sizeof res->code) {
        /* No Aliyun answer (its codes are short ASCII names such as
         * isv.BUSINESS_LIMIT_CONTROL): judge the HTTP status alone. */
        if (!adapter_classify_http(resp, res)) {
            res->outcome = SEND_RETRY;
            snprintf(res->code, sizeof res->code, "bad_response");
            snprintf(res->detail, sizeof res->detail,
                     "HTTP %ld without an Aliyun JSON answer (no Code)", resp->status);
        }
        cJSON_Delete(j);
        return;
    }
    const char *c = code->valuestring;
    copy_utf8(res->code, sizeof res->code, c, strlen(c));
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "Message");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(j, "RequestId");
    set_detail(res, msg, rid);
    if (cJSON_IsString(rid))
        snprintf(res->request_id, sizeof res->request_id, "%s", rid->valuestring);

    if (strcmp(c, "OK") == 0 && resp->status >= 200 && resp->status < 300) {
        res->outcome = SEND_OK;
        const cJSON *biz = cJSON_GetObjectItemCaseSensitive(j, "BizId");
        if (cJSON_IsString(biz))
            copy_utf8(res->provider_id, sizeof res->provider_id, biz->valuestring,
                      strlen(biz->valuestring));
        cJSON_Delete(j);
        return;
    }
    switch (aliyun_classify(c, resp->status)) {
    case ALIYUN_RETRY:
        res->outcome = SEND_RETRY;
        break;
    case ALIYUN_LIMIT:
        /* "触发分钟级流控Permits:1" is the per-minute limit: one minute is
         * enough. Hour and day limits ("小时级", "天级") are rolling
         * windows only the dispatcher's per-number limiter can place. */
        res->outcome = SEND_DEFER;
        res->defer_until = cJSON_IsString(msg) && strstr(msg->valuestring, "分钟级")
                               ? m->now + ALIYUN_MINUTE_DEFER_S
                               : 0;
        break;
    case ALIYUN_DAY_LIMIT:
        res->outcome = SEND_DEFER;
        res->defer_until = adapter_next_beijing_midnight(m->now);
        break;
    case ALIYUN_FAIL:
    default:
        res->outcome = SEND_FAIL;
        break;
    }
    cJSON_Delete(j);
}

const struct channel_adapter aliyun_sms_adapter = {
    .name = "aliyun_sms",
    .channel = "sms",
    .enabled = aliyun_sms_enabled,
    .can_reach = aliyun_sms_can_reach,
    .build_request = aliyun_sms_build,
    .parse_response = aliyun_sms_parse,
};
