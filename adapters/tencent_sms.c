/*
 * tencent_sms.c - Tencent Cloud SMS, API 3.0, version 2021-01-11: SendSms
 * and PullSmsSendStatusByPhoneNumber (PROTOCOLS.md section D).
 *
 * Request (one number per message):
 *   POST <channels.tencent.base_url>/
 *   Content-Type: application/json          (exactly; it is signed)
 *   Host: <host[:port] of the base URL>     (signed)
 *   X-TC-Action: SendSms
 *   X-TC-Version: 2021-01-11
 *   X-TC-Timestamp: <m->now>
 *   X-TC-Region: <channels.tencent.region>
 *   Authorization: TC3-HMAC-SHA256 Credential=<id>/<date>/sms/tc3_request,
 *                  SignedHeaders=content-type;host, Signature=<hex>
 *   {"PhoneNumberSet":["+86<mobile>"],"SmsSdkAppId":"...","SignName":"...",
 *    "TemplateId":"<sms.template_code>","TemplateParamSet":["v1","v2"],
 *    "SessionContext":"hf-<message id>"}
 *
 * The body is printed once and those exact bytes are both signed and sent.
 * The canonical URI is "/" whatever path the base URL has (API 3.0 fixes
 * it; the mock serves under /tencent/ and checks over "/" too). Tencent
 * positional templates ({1}..{n}) take the rendered sms.params values in
 * the template file's order. SessionContext carries our dedup id: Tencent
 * echoes it but does not deduplicate on it.
 *
 * Answer (always HTTP 200 from the real API):
 *   {"Response":{"Error":{"Code","Message"},"RequestId"}}  whole request refused
 *   {"Response":{"SendStatusSet":[{"SerialNo","PhoneNumber","Fee",
 *     "SessionContext","Code","Message","IsoCode"}],"RequestId"}}
 * Response.Error is checked first; otherwise SendStatusSet[0].Code decides
 * ("Ok" = accepted; SerialNo is the id the status callback's "sid" carries).
 * The classification table is tencent_rules[] below. Transport errors and
 * HTTP 5xx are retried (adapter_classify_http); a 200 that is not the
 * documented JSON is retried as "bad_response".
 *
 * Status pull (PullSmsSendStatusByPhoneNumber, same signing): for a send
 * whose answer was lost, see "Status pull" below; dispatch.c decides when.
 *
 * Secrets: the secret key only enters the signature; nothing is logged here.
 */
#include "adapter.h"
#include "sign_tc3.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TENCENT_SERVICE "sms"
#define TENCENT_ACTION "SendSms"
#define TENCENT_VERSION "2021-01-11"
#define TENCENT_CONTENT_TYPE "application/json"
#define TENCENT_CN_OFFSET (8 * 3600) /* Tencent's daily caps reset at Beijing midnight */

static int tencent_sms_enabled(const struct config *cfg)
{
    return cfg->sms_provider && strcmp(cfg->sms_provider, "tencent") == 0;
}

/* The recipient's mobile as 11 digits in @norm, or 0. */
static int recipient_mobile(const cJSON *recipient, char norm[12])
{
    const cJSON *mob = recipient ? cJSON_GetObjectItemCaseSensitive(recipient, "mobile") : NULL;
    return cJSON_IsString(mob) && mobile_normalize(mob->valuestring, norm);
}

static int tencent_sms_can_reach(const struct config *cfg, const cJSON *recipient)
{
    char norm[12];
    (void)cfg;
    return recipient_mobile(recipient, norm);
}

/* The authority of @url ("host" or "host:port"), without scheme, userinfo,
 * path, query or fragment. 0, or -1 if there is none or it does not fit. */
static int url_authority(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (n == 0 || n >= cap)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* The settings every API 3.0 call needs; NULL, or the first missing key. */
static const char *missing_setting(const struct config *cfg)
{
    return !cfg->tencent_base_url     ? "channels.tencent.base_url"
           : !cfg->tencent_secret_id  ? "channels.tencent.secret_id"
           : !cfg->tencent_secret_key ? "channels.tencent.secret_key"
           : !cfg->tencent_sdk_app_id ? "channels.tencent.sdk_app_id"
           : !cfg->tencent_region     ? "channels.tencent.region"
                                      : NULL;
}

/* Fill @req with the TC3-signed API 3.0 call @action whose body is @doc
 * (printed once; those exact bytes are signed and sent). Borrows @doc.
 * 0, or -1 with @err set. */
static int tc3_request(const struct config *cfg, const char *action, int64_t now,
                       const cJSON *doc, struct http_req *req, char *err, size_t errlen)
{
    char host[256];
    if (url_authority(cfg->tencent_base_url, host, sizeof host) != 0) {
        snprintf(err, errlen, "channels.tencent.base_url has no host");
        return -1;
    }
    char *printed = cJSON_PrintUnformatted(doc);
    HF_ASSERT(printed != NULL);
    char *body = xstrdup(printed); /* http_req frees with free(), not cJSON_free() */
    cJSON_free(printed);
    size_t body_len = strlen(body);

    /* Sign those exact bytes. */
    struct tc3_params sp = {
        .secret_id = cfg->tencent_secret_id,
        .secret_key = cfg->tencent_secret_key,
        .service = TENCENT_SERVICE,
        .host = host,
        .content_type = TENCENT_CONTENT_TYPE,
        .timestamp = now,
        .payload = body,
        .payload_len = body_len,
    };
    struct tc3_sig sig;
    if (tc3_sign(&sp, &sig) != HF_OK) {
        snprintf(err, errlen, "cannot sign the request (bad host, key id or timestamp)");
        free(body);
        return -1;
    }

    size_t blen = strlen(cfg->tencent_base_url);
    int slash = blen > 0 && cfg->tencent_base_url[blen - 1] == '/';
    req->method = xstrdup("POST");
    req->url = xasprintf("%s%s", cfg->tencent_base_url, slash ? "" : "/");
    req->body = body;
    req->body_len = body_len;
    http_req_add_header(req, "Content-Type: " TENCENT_CONTENT_TYPE);
    http_req_add_header(req, "Host: %s", host);
    http_req_add_header(req, "X-TC-Action: %s", action);
    http_req_add_header(req, "X-TC-Version: " TENCENT_VERSION);
    http_req_add_header(req, "X-TC-Timestamp: %lld", (long long)now);
    http_req_add_header(req, "X-TC-Region: %s", cfg->tencent_region);
    http_req_add_header(req, "Authorization: %s", sig.authorization);
    tc3_sig_cleanup(&sig);
    return 0;
}

static int tencent_sms_build(const struct config *cfg, const struct out_msg *m, struct http_req *req,
                             char *err, size_t errlen)
{
    const char *missing = missing_setting(cfg);
    if (!missing && !cfg->sms_sign_name)
        missing = "channels.sms.sign_name";
    if (missing) {
        snprintf(err, errlen, "%s is not configured", missing);
        return -1;
    }
    char mobile[12];
    if (!recipient_mobile(m->recipient, mobile)) {
        snprintf(err, errlen, "recipient has no mainland mobile number");
        return -1;
    }
    const cJSON *sms = cJSON_GetObjectItemCaseSensitive(m->rendered, "sms");
    if (!cJSON_IsObject(sms)) {
        snprintf(err, errlen, "the template has no sms part");
        return -1;
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(sms, "template_code");
    if (!cJSON_IsString(code) || !code->valuestring[0]) {
        snprintf(err, errlen, "the template's sms part has no template_code");
        return -1;
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(sms, "params");
    if (params && !cJSON_IsObject(params)) {
        snprintf(err, errlen, "sms.params is not an object");
        return -1;
    }

    /* The body, in the documented field order. */
    char dedup[32], phone[16];
    adapter_dedup_id(m->id, dedup);
    snprintf(phone, sizeof phone, "+86%s", mobile);
    cJSON *doc = cJSON_CreateObject();
    cJSON *set = cJSON_AddArrayToObject(doc, "PhoneNumberSet");
    cJSON_AddItemToArray(set, cJSON_CreateString(phone));
    cJSON_AddStringToObject(doc, "SmsSdkAppId", cfg->tencent_sdk_app_id);
    cJSON_AddStringToObject(doc, "SignName", cfg->sms_sign_name);
    cJSON_AddStringToObject(doc, "TemplateId", code->valuestring);
    cJSON *vals = cJSON_AddArrayToObject(doc, "TemplateParamSet");
    const cJSON *p;
    cJSON_ArrayForEach(p, params) {
        if (!cJSON_IsString(p)) {
            snprintf(err, errlen, "sms.params.%s is not a string", p->string ? p->string : "?");
            cJSON_Delete(doc);
            return -1;
        }
        cJSON_AddItemToArray(vals, cJSON_CreateString(p->valuestring));
    }
    cJSON_AddStringToObject(doc, "SessionContext", dedup);
    if (m->extend_code && m->extend_code[0])
        cJSON_AddStringToObject(doc, "ExtendCode", m->extend_code);
    int rc = tc3_request(cfg, TENCENT_ACTION, m->now, doc, req, err, errlen);
    cJSON_Delete(doc);
    return rc;
}

/* ===================================================================== */
/* Classification                                                          */
/* ===================================================================== */

enum tencent_defer {
    DEFER_NONE = 0,
    DEFER_30S,       /* per-number 30-second window */
    DEFER_1H,        /* per-number hour window, console frequency policy */
    DEFER_MIDNIGHT,  /* daily caps: the next Beijing midnight */
};

/* A code pattern: exact, or with one '*' standing for any run of chars. */
struct tencent_rule {
    const char *pattern;
    enum send_outcome outcome;
    enum tencent_defer defer;
};

/* First match wins; anything unmatched is a permanent failure with the
 * code recorded (a new code is better looked at than retried forever). */
static const struct tencent_rule tencent_rules[] = {
    /* Per-number throttles: reschedule, not fail. */
    {"LimitExceeded.PhoneNumberThirtySecondLimit", SEND_DEFER, DEFER_30S},
    {"LimitExceeded.PhoneNumberOneHourLimit", SEND_DEFER, DEFER_1H},
    {"LimitExceeded.PhoneNumberDailyLimit", SEND_DEFER, DEFER_MIDNIGHT},
    {"LimitExceeded.PhoneNumberSameContentDailyLimit", SEND_DEFER, DEFER_MIDNIGHT},
    /* A console frequency policy of unknown period: an hour is the
     * shortest window such policies commonly use beyond 30 s. */
    {"LimitExceeded.DeliveryFrequencyLimit", SEND_DEFER, DEFER_1H},
    /* App-level daily caps: nothing goes out before tomorrow (Beijing). */
    {"LimitExceeded.App*DailyLimit", SEND_DEFER, DEFER_MIDNIGHT},
    {"LimitExceeded.DailyLimit", SEND_DEFER, DEFER_MIDNIGHT},
    /* More than 200 numbers: we send one, so this is a bug, not a limit. */
    {"LimitExceeded.PhoneNumberCountLimit", SEND_FAIL, DEFER_NONE},
    /* Any other limit: reschedule conservatively. */
    {"LimitExceeded.*", SEND_DEFER, DEFER_1H},
    /* Transient. SendAndRecvFail is a timeout on Tencent's side: the message
     * may have gone out, and Tencent does not dedup on SessionContext. */
    {"InternalError*", SEND_RETRY, DEFER_NONE},
    {"RequestLimitExceeded*", SEND_RETRY, DEFER_NONE},
    /* Permanent: credentials, configuration, the number, the payload. */
    {"AuthFailure.*", SEND_FAIL, DEFER_NONE},
    {"UnauthorizedOperation.*", SEND_FAIL, DEFER_NONE},
    {"InvalidParameter*", SEND_FAIL, DEFER_NONE}, /* also InvalidParameterValue.* */
    {"MissingParameter*", SEND_FAIL, DEFER_NONE},
    {"FailedOperation.PhoneNumberInBlacklist", SEND_FAIL, DEFER_NONE},
    {"FailedOperation.SignatureIncorrectOrUnapproved", SEND_FAIL, DEFER_NONE},
    {"FailedOperation.TemplateIncorrectOrUnapproved", SEND_FAIL, DEFER_NONE},
    {"FailedOperation.InsufficientBalanceInSmsPackage", SEND_FAIL, DEFER_NONE},
};

static int pattern_match(const char *pat, const char *code)
{
    const char *star = strchr(pat, '*');
    if (!star)
        return strcmp(pat, code) == 0;
    size_t pre = (size_t)(star - pat), suf = strlen(star + 1), n = strlen(code);
    return n >= pre + suf && strncmp(code, pat, pre) == 0 &&
           strcmp(code + n - suf, star + 1) == 0;
}

/* Fill @res for a Tencent error @code with @message (may be NULL). */
static void classify_code(const char *code, const char *message, int64_t now,
                          struct send_result *res)
{
    res->outcome = SEND_FAIL;
    enum tencent_defer defer = DEFER_NONE;
    for (size_t i = 0; i < HF_ARRAY_LEN(tencent_rules); i++) {
        if (pattern_match(tencent_rules[i].pattern, code)) {
            res->outcome = tencent_rules[i].outcome;
            defer = tencent_rules[i].defer;
            break;
        }
    }
    switch (defer) {
    case DEFER_30S: res->defer_until = now + 30; break;
    case DEFER_1H: res->defer_until = now + 3600; break;
    case DEFER_MIDNIGHT: res->defer_until = adapter_next_beijing_midnight(now); break;
    case DEFER_NONE: res->defer_until = 0; break;
    }
    snprintf(res->code, sizeof res->code, "%s", code);
    /* Some documented codes are longer than res->code: keep the whole
     * code in the detail then, so nothing is lost. */
    if (strlen(code) >= sizeof res->code)
        snprintf(res->detail, sizeof res->detail, "%s: %s", code, message ? message : "");
    else
        snprintf(res->detail, sizeof res->detail, "%s", message ? message : "");
}

static void bad_response(struct send_result *res, const char *why)
{
    res->outcome = SEND_RETRY;
    snprintf(res->code, sizeof res->code, "bad_response");
    snprintf(res->detail, sizeof res->detail, "%s", why);
}

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void tencent_sms_parse(const struct config *cfg, const struct out_msg *m,
                              const struct http_resp *resp, struct send_result *res)
{
    (void)cfg;
    memset(res, 0, sizeof *res);
    if (adapter_classify_http(resp, res))
        return;
    cJSON *j = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
    const cJSON *r = j ? cJSON_GetObjectItemCaseSensitive(j, "Response") : NULL;
    if (!cJSON_IsObject(r)) {
        bad_response(res, "answer is not a Tencent API 3.0 JSON response");
        goto out;
    }
    const char *rid = json_str(r, "RequestId");
    if (rid)
        snprintf(res->request_id, sizeof res->request_id, "%s", rid);
    /* Response.Error first: the whole request was refused. */
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "Error");
    if (e) {
        const char *code = json_str(e, "Code");
        if (!code || !code[0]) {
            bad_response(res, "Response.Error without a Code");
            goto out;
        }
        classify_code(code, json_str(e, "Message"), m->now, res);
        goto out;
    }
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(r, "SendStatusSet");
    const cJSON *st = cJSON_IsArray(set) ? cJSON_GetArrayItem(set, 0) : NULL;
    const char *code = cJSON_IsObject(st) ? json_str(st, "Code") : NULL;
    if (!code || !code[0]) {
        bad_response(res, "no SendStatusSet entry with a Code");
        goto out;
    }
    if (strcmp(code, "Ok") == 0) {
        const char *serial = json_str(st, "SerialNo");
        const char *msg = json_str(st, "Message");
        res->outcome = SEND_OK;
        snprintf(res->code, sizeof res->code, "Ok");
        snprintf(res->provider_id, sizeof res->provider_id, "%s", serial ? serial : "");
        snprintf(res->detail, sizeof res->detail, "%s", msg ? msg : "");
        goto out;
    }
    classify_code(code, json_str(st, "Message"), m->now, res);
out:
    cJSON_Delete(j);
}

/* ===================================================================== */
/* Status pull: PullSmsSendStatusByPhoneNumber                             */
/* ===================================================================== */

/*
 * A send whose answer never came (timeout, crash) may have been taken:
 * Tencent does not deduplicate SessionContext, and its status callback
 * names only the SerialNo the lost answer carried. The pull by number
 * echoes SessionContext, so "hf-<id>" finds the message. Fields, as in the
 * official SDK (tencentcloud-sdk-go tencentcloud/sms/v20210111/models.go,
 * PullSmsSendStatusByPhoneNumberRequestParams and PullSmsSendStatus;
 * PROTOCOLS.md section D5 "Pull alternatives"):
 *
 *   X-TC-Action: PullSmsSendStatusByPhoneNumber (version 2021-01-11, TC3)
 *   {"BeginTime":<unix s>,"EndTime":<unix s>,"Offset":0,"Limit":100,
 *    "PhoneNumber":"+86<mobile>","SmsSdkAppId":"..."}
 *   BeginTime: at most 7 days back; Offset: "currently fixed at 0";
 *   Limit: at most 100.
 *
 *   {"Response":{"PullSmsSendStatusSet":[{"UserReceiveTime":<unix s>,
 *     "CountryCode":"86","SubscriberNumber":"138...","PhoneNumber":"+86...",
 *     "SerialNo":"...","ReportStatus":"SUCCESS"|"FAIL","Description":"...",
 *     "SessionContext":"hf-<id>"}],"RequestId":"..."}}
 *
 * The SDK notes that SessionContext in pull results is empty unless
 * Tencent support enables it for the account (README). Only delivery
 * reports are listed: a send still waiting for its report is not there
 * yet, which is why the dispatcher pulls after dispatch.receipt_grace.
 */
#define TENCENT_PULL_ACTION "PullSmsSendStatusByPhoneNumber"
#define TENCENT_PULL_LIMIT 100           /* the API's maximum */
#define TENCENT_PULL_MAX_BACK (7 * 86400) /* BeginTime: at most 7 days back */
#define TENCENT_PULL_SKEW 60             /* our clock against the provider's */

static int tencent_sms_status_request(const struct config *cfg, const struct status_query *q,
                                      struct http_req *req, char *err, size_t errlen)
{
    const char *missing = missing_setting(cfg);
    if (missing) {
        snprintf(err, errlen, "%s is not configured", missing);
        return -1;
    }
    char mobile[12], phone[16];
    if (!recipient_mobile(q->recipient, mobile)) {
        snprintf(err, errlen, "recipient has no mainland mobile number");
        return -1;
    }
    snprintf(phone, sizeof phone, "+86%s", mobile);
    int64_t begin = q->since - TENCENT_PULL_SKEW;
    int64_t oldest = q->now - TENCENT_PULL_MAX_BACK + TENCENT_PULL_SKEW;
    if (begin < oldest)
        begin = oldest;
    if (begin < 0)
        begin = 0;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "BeginTime", (double)begin);
    cJSON_AddNumberToObject(doc, "EndTime", (double)q->now);
    cJSON_AddNumberToObject(doc, "Offset", 0);
    cJSON_AddNumberToObject(doc, "Limit", TENCENT_PULL_LIMIT);
    cJSON_AddStringToObject(doc, "PhoneNumber", phone);
    cJSON_AddStringToObject(doc, "SmsSdkAppId", cfg->tencent_sdk_app_id);
    int rc = tc3_request(cfg, TENCENT_PULL_ACTION, q->now, doc, req, err, errlen);
    cJSON_Delete(doc);
    return rc;
}

static void pull_unknown(struct status_result *res, const char *code, const char *detail)
{
    res->outcome = STATUS_UNKNOWN;
    snprintf(res->code, sizeof res->code, "%s", code);
    snprintf(res->detail, sizeof res->detail, "%s", detail);
}

static void tencent_sms_status_parse(const struct config *cfg, const struct status_query *q,
                                     const struct http_resp *resp, struct status_result *res)
{
    memset(res, 0, sizeof *res);
    struct send_result http;
    memset(&http, 0, sizeof http);
    if (adapter_classify_http(resp, &http)) {
        pull_unknown(res, http.code, http.detail);
        return;
    }
    cJSON *j = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
    const cJSON *r = j ? cJSON_GetObjectItemCaseSensitive(j, "Response") : NULL;
    if (!cJSON_IsObject(r)) {
        pull_unknown(res, "bad_response", "answer is not a Tencent API 3.0 JSON response");
        goto out;
    }
    const char *rid = json_str(r, "RequestId");
    if (rid)
        snprintf(res->request_id, sizeof res->request_id, "%s", rid);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "Error");
    if (e) {
        const char *code = json_str(e, "Code");
        char msg[160];
        adapter_copy_sanitized(msg, sizeof msg, json_str(e, "Message"),
                               cfg->tencent_secret_key);
        pull_unknown(res, code && code[0] ? code : "bad_response", msg);
        goto out;
    }
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(r, "PullSmsSendStatusSet");
    if (!cJSON_IsNull(set) && !cJSON_IsArray(set)) { /* absent, or not a list */
        pull_unknown(res, "bad_response", "no PullSmsSendStatusSet array in the answer");
        goto out;
    }
    char want[32];
    adapter_dedup_id(q->id, want);
    int n = 0, found = 0;
    const cJSON *st;
    const cJSON *list = cJSON_IsArray(set) ? set : NULL;
    cJSON_ArrayForEach(st, list) {
        n++;
        const char *ctx = json_str(st, "SessionContext");
        const char *status = json_str(st, "ReportStatus");
        if (!ctx || strcmp(ctx, want) != 0 || !status || !status[0])
            continue; /* not ours, or no report to settle it with */
        /* One send of this message, reported: it settles the message, as
         * its status callback would have. */
        int ok = strcmp(status, "SUCCESS") == 0;
        found = 1;
        res->outcome = ok ? STATUS_DELIVERED : STATUS_FAILED;
        snprintf(res->code, sizeof res->code, "%s", status);
        const char *serial = json_str(st, "SerialNo"), *desc = json_str(st, "Description");
        snprintf(res->provider_id, sizeof res->provider_id, "%s", serial ? serial : "");
        adapter_copy_sanitized(res->detail, sizeof res->detail, desc ? desc : "", NULL);
        if (ok)
            break; /* a delivered send wins over a failed earlier one */
    }
    if (found)
        goto out;
    if (n >= TENCENT_PULL_LIMIT) {
        /* A full page without our entry: Offset is fixed at 0, so what lies
         * beyond cannot be seen. Not "none": that would resend blindly. */
        pull_unknown(res, "pull_truncated",
                     "100 statuses in the window, none of this message; cannot see further");
        goto out;
    }
    res->outcome = STATUS_NONE;
    snprintf(res->detail, sizeof res->detail, "no status of this message among %d", n);
out:
    cJSON_Delete(j);
}

const struct channel_adapter tencent_sms_adapter = {
    .name = "tencent_sms",
    .channel = "sms",
    .enabled = tencent_sms_enabled,
    .can_reach = tencent_sms_can_reach,
    .build_request = tencent_sms_build,
    .parse_response = tencent_sms_parse,
    .status_request = tencent_sms_status_request,
    .status_parse = tencent_sms_status_parse,
};
