/*
 * aliyun.c - mock Aliyun SMS API (dysmsapi 2017-05-25, SendSms) under
 * /aliyun, speaking the real protocol (PROTOCOLS.md section C).
 *
 * Point the daemon's channels.aliyun.base_url at http://127.0.0.1:PORT/aliyun.
 *
 * POST /aliyun/ (or /aliyun), parameters in the query string:
 *   1. Authentication, recomputed from what arrived with the configured
 *      secret (sign_aliyun.c, the same code the adapter signs with):
 *      - V3 when an Authorization header is present: ACS3-HMAC-SHA256 over
 *        the headers named in SignedHeaders (which must include host and
 *        every x-acs-* header sent), the decoded query and
 *        x-acs-content-sha256, which must be the SHA-256 of the body.
 *        The canonical URI is "/" (the real API's path), whatever prefix
 *        the mock serves under.
 *      - V1 when a Signature query parameter is present: RPC HMAC-SHA1
 *        over every other query parameter, method POST.
 *      x-acs-date / Timestamp must be yyyy-MM-ddTHH:mm:ssZ within 15 min
 *      of clock_now() (HUIFANG_CLOCK_START applies); a nonce seen in the
 *      last 15 min is refused (SignatureNonceUsed). Failures answer
 *      Aliyun's error JSON {"RequestId","HostId","Code","Message",
 *      "Recommend"} with its HTTP status (400 SignatureDoesNotMatch /
 *      InvalidTimeStamp.Expired / SignatureNonceUsed / IncompleteSignature
 *      / Missing<Param>, 404 InvalidAccessKeyId.NotFound /
 *      InvalidAction.NotFound) and count in /_mock/stats "rejected".
 *   2. Action SendSms, Version 2017-05-25; PhoneNumbers, SignName,
 *      TemplateCode required; TemplateParam, when given, a JSON object of
 *      strings (else 200 isv.INVALID_JSON_PARAM); PhoneNumbers one
 *      mainland number, 11 digits 1[3-9]..., optionally +86/0086/86
 *      (else 200 isv.MOBILE_NUMBER_ILLEGAL). The mock takes one number
 *      per request (huifang never sends more): a list answers
 *      isv.MOBILE_COUNT_OVER_LIMIT.
 *   3. "fail_codes" forces a code for a number; per-number limits
 *      (rolling 60 s / 1 h / 24 h over accepted sends) answer
 *      isv.BUSINESS_LIMIT_CONTROL with Aliyun's own messages
 *      ("触发分钟级流控Permits:1", "触发小时级流控...", "触发天级流控...").
 *      Business refusals are HTTP 200 with a Code, like the real API, and
 *      also count as "rejected".
 *   4. Accepted: 200 {"Code":"OK","Message":"OK","BizId":"<unique>",
 *      "RequestId":"<uuid>"}, recorded with mock_record() under key OutId.
 *      SendSms is not idempotent: a repeated OutId is sent (and billed)
 *      again with a new BizId; the record says duplicate=true.
 *      When "receipt_url" is set, an SmsReport JSON array is POSTed there
 *      after "receipt_delay_ms" (C8).
 *
 * POST /_mock/aliyun/push_receipt {"out_id": "hf-7", "success": false,
 *   "err_code": "MK:0001", "err_msg": "...", "times": 2, "delay_ms": 0,
 *   "url": "..."}: push an SmsReport for the last accepted send with that
 *   OutId, @times times (the same body each time, for duplicate-receipt
 *   tests). url defaults to the configured receipt_url. Answers
 *   200 {"pushed": n, "receipt": [...]} or 404/400 {"error": ...}.
 *
 * Config section "aliyun" (--config FILE or POST /_mock/config):
 *   {"access_key_id": "...", "access_key_secret": "...",
 *    "receipt_url": "http://127.0.0.1:D/callbacks/...", "receipt_delay_ms": 200,
 *    "per_number_minute": 0, "per_number_hour": 0, "per_number_day": 0,
 *    "undeliverable_numbers": ["13800000002"],
 *    "fail_codes": {"13800000001": "isv.MOBILE_NUMBER_ILLEGAL"}}
 * Limits of 0 mean unlimited. Without access_key_id/secret every request
 * is refused (InvalidAccessKeyId.NotFound).
 *
 * Secrets and signatures are never logged; numbers are masked.
 */
#include "mock.h"
#include "sign_aliyun.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ALI_TAG "mock.aliyun"
#define ALI_PREFIX "/aliyun"
#define ALI_SKEW_S 900            /* x-acs-date / Timestamp tolerance, and nonce memory */
#define ALI_HISTORY_S (2 * 86400) /* sends kept for limits and push_receipt */
#define ALI_MAX_PARAMS 64
#define ALI_MAX_PUSH_TIMES 10
#define ALI_DEFAULT_RECEIPT_DELAY_MS 200
#define ALI_BEIJING_OFFSET (8 * 3600)

/* ===================================================================== */
/* State (behind ali_lock; cleared by reset, freed by cleanup)             */
/* ===================================================================== */

struct ali_nonce {
    char *nonce;
    int64_t at;   /* clock_now() when first seen */
};

/* One accepted send: per-number limits and push_receipt look here. */
struct ali_send {
    char *phone;  /* 11 digits */
    char *out_id; /* or NULL */
    char *biz_id;
    int64_t at;
};

static pthread_mutex_t ali_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ali_nonce *ali_nonces;
static size_t ali_nnonces, ali_capnonces;
static struct ali_send *ali_sends;
static size_t ali_nsends, ali_capsends;
static uint64_t ali_biz_seq;

/* Forget everything. Call with ali_lock held. */
static void ali_clear_locked(void)
{
    for (size_t i = 0; i < ali_nnonces; i++)
        free(ali_nonces[i].nonce);
    free(ali_nonces); ali_nonces = NULL;
    ali_nnonces = ali_capnonces = 0;
    for (size_t i = 0; i < ali_nsends; i++) {
        free(ali_sends[i].phone);
        free(ali_sends[i].out_id);
        free(ali_sends[i].biz_id);
    }
    free(ali_sends); ali_sends = NULL;
    ali_nsends = ali_capsends = 0;
    ali_biz_seq = 0;
}

static void ali_reset(struct mock *m)
{
    (void)m;
    pthread_mutex_lock(&ali_lock);
    ali_clear_locked();
    pthread_mutex_unlock(&ali_lock);
}

static void ali_cleanup(struct mock *m)
{
    ali_reset(m);
}

/* 1 if @nonce was seen in the last ALI_SKEW_S seconds; otherwise remember
 * it and return 0. Old nonces are dropped on the way (a timestamp older
 * than the window is refused anyway, so they cannot come back). */
static int nonce_used(const char *nonce, int64_t now)
{
    int used = 0;
    pthread_mutex_lock(&ali_lock);
    size_t k = 0;
    for (size_t i = 0; i < ali_nnonces; i++) {
        if (now - ali_nonces[i].at > ALI_SKEW_S) {
            free(ali_nonces[i].nonce);
            continue;
        }
        if (strcmp(ali_nonces[i].nonce, nonce) == 0)
            used = 1;
        ali_nonces[k++] = ali_nonces[i];
    }
    ali_nnonces = k;
    if (!used) {
        if (ali_nnonces == ali_capnonces) {
            ali_capnonces = ali_capnonces ? ali_capnonces * 2 : 32;
            ali_nonces = xrealloc(ali_nonces, ali_capnonces * sizeof *ali_nonces);
        }
        ali_nonces[ali_nnonces].nonce = xstrdup(nonce);
        ali_nonces[ali_nnonces].at = now;
        ali_nnonces++;
    }
    pthread_mutex_unlock(&ali_lock);
    return used;
}

/* ===================================================================== */
/* Helpers                                                                 */
/* ===================================================================== */

/* A request id shaped like Aliyun's: upper-case UUID. @out needs 37. */
static void request_id(char out[37])
{
    uint64_t a = rand_u64(), b = rand_u64();
    snprintf(out, 37, "%08X-%04X-%04X-%04X-%012llX", (unsigned)(a >> 32),
             (unsigned)((a >> 16) & 0xFFFF), (unsigned)(0x4000 | (a & 0x0FFF)),
             (unsigned)(0x8000 | ((b >> 48) & 0x3FFF)),
             (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
}

/* Aliyun's error envelope (signature, parameter and API errors). */
static void ali_error(struct mock *m, struct mock_resp *out, unsigned status, const char *code,
                      const char *msg)
{
    char rid[37];
    request_id(rid);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "RequestId", rid);
    cJSON_AddStringToObject(o, "HostId", "dysmsapi.aliyuncs.com");
    cJSON_AddStringToObject(o, "Code", code);
    cJSON_AddStringToObject(o, "Message", msg);
    char *rec = xasprintf("https://api.aliyun.com/troubleshoot?q=%s&product=Dysmsapi", code);
    cJSON_AddStringToObject(o, "Recommend", rec);
    free(rec);
    mock_stats_rejected(m);
    LOG_INFO(ALI_TAG, "refused status=%u code=%s", status, code);
    mock_resp_json(out, status, o);
}

/* A business answer: HTTP 200 with a Code other than OK. */
static void ali_business(struct mock *m, struct mock_resp *out, const char *code, const char *msg)
{
    char rid[37];
    request_id(rid);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Code", code);
    cJSON_AddStringToObject(o, "Message", msg);
    cJSON_AddStringToObject(o, "RequestId", rid);
    mock_stats_rejected(m);
    LOG_INFO(ALI_TAG, "business refusal code=%s", code);
    mock_resp_json(out, 200, o);
}

/* Aliyun's wording for the codes the mock can be told to answer. */
static const char *code_message(const char *code)
{
    static const struct { const char *code, *msg; } t[] = {
        { "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号" },
        { "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1" },
        { "isv.DAY_LIMIT_CONTROL", "触发日发送限额" },
        { "isv.AMOUNT_NOT_ENOUGH", "账户余额不足" },
        { "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板" },
        { "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名" },
        { "isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值" },
        { "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值" },
        { "isv.BLACK_KEY_CONTROL_LIMIT", "变量中传入疑似违规信息" },
        { "isp.SYSTEM_ERROR", "系统错误" },
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(t); i++)
        if (strcmp(t[i].code, code) == 0)
            return t[i].msg;
    return code;
}

/* Decoded query arguments, copied (MHD's strings live as long as the
 * connection, but copies keep ownership simple). */
struct ali_params {
    struct sign_aliyun_kv kv[ALI_MAX_PARAMS];
    size_t n;
    int overflow;
};

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct ali_params *p = cls;
    (void)kind;
    if (p->n == ALI_MAX_PARAMS) {
        p->overflow = 1;
        return MHD_NO;
    }
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->kv[i].key, key) == 0)
            return MHD_YES; /* a repeated key: the first one counts */
    p->kv[p->n].key = xstrdup(key);
    p->kv[p->n].value = xstrdup(value ? value : "");
    p->n++;
    return MHD_YES;
}

static void params_free(struct ali_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free((char *)p->kv[i].key);
        free((char *)p->kv[i].value);
    }
    p->n = 0;
}

static const char *param(const struct ali_params *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->kv[i].key, key) == 0)
            return p->kv[i].value;
    return NULL;
}

/* yyyy-MM-ddTHH:mm:ssZ exactly. 0 and *t, or -1. */
static int parse_acs_time(const char *s, int64_t *t)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (!s || strlen(s) != sizeof shape - 1)
        return -1;
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return -1;
    }
    return iso8601_parse(s, t);
}

/* Check the request time; 0, or -1 after answering. */
static int check_time(struct mock *m, struct mock_resp *out, const char *s)
{
    int64_t t;
    if (parse_acs_time(s, &t) != 0) {
        ali_error(m, out, 400, "InvalidTimeStamp.Format",
                  "Specified time stamp or date value is not well formatted.");
        return -1;
    }
    int64_t d = clock_now() - t;
    if (d > ALI_SKEW_S || d < -ALI_SKEW_S) {
        ali_error(m, out, 400, "InvalidTimeStamp.Expired",
                  "Specified time stamp or date value is expired.");
        return -1;
    }
    return 0;
}

/* The configured credentials; 0, or -1 after answering (unknown key). */
static int check_key(struct mock *m, struct mock_resp *out, const cJSON *cfg, const char *key_id,
                     const char **secret)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(cfg, "access_key_id");
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(cfg, "access_key_secret");
    if (!cJSON_IsString(id) || !cJSON_IsString(sec) || !key_id ||
        strcmp(id->valuestring, key_id) != 0) {
        ali_error(m, out, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
        return -1;
    }
    *secret = sec->valuestring;
    return 0;
}

/* ===================================================================== */
/* V3 and V1 verification                                                  */
/* ===================================================================== */

struct hdr_scan {
    const char *signed_list; /* ";"-joined lower-case names */
    const char *unsigned_name;
};

/* 1 if lower-case @name is one of the ';'-separated @list. */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ";");
        if (len == n && strncasecmp(p, name, n) == 0)
            return 1;
        p += len;
        if (*p == ';')
            p++;
    }
    return 0;
}

static enum MHD_Result scan_acs_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    struct hdr_scan *s = cls;
    (void)kind;
    (void)value;
    if (strncasecmp(key, "x-acs-", 6) == 0 && !in_list(s->signed_list, key)) {
        s->unsigned_name = key;
        return MHD_NO;
    }
    return MHD_YES;
}

/* Verify an ACS3-HMAC-SHA256 request. 0, or -1 after answering. */
static int verify_v3(struct mock *m, struct mock_req *r, struct mock_resp *out, const cJSON *cfg,
                     const struct ali_params *q)
{
    char key_id[128], signed_list[512], sig[65];
    if (sign_aliyun_v3_parse_authorization(mock_req_header(r, "Authorization"), key_id,
                                           sizeof key_id, signed_list, sizeof signed_list,
                                           sig) != 0) {
        ali_error(m, out, 400, "IncompleteSignature",
                  "The request signature does not conform to Aliyun standards.");
        return -1;
    }
    const char *secret;
    if (check_key(m, out, cfg, key_id, &secret) != 0)
        return -1;
    static const char *const required[] = {"host", "x-acs-action", "x-acs-version",
                                           "x-acs-date", "x-acs-signature-nonce",
                                           "x-acs-content-sha256"};
    for (size_t i = 0; i < HF_ARRAY_LEN(required); i++) {
        if (!mock_req_header(r, required[i]) || !in_list(signed_list, required[i])) {
            char *msg = xasprintf("%s is mandatory for this action and must be signed.",
                                  required[i]);
            ali_error(m, out, 400, "IncompleteSignature", msg);
            free(msg);
            return -1;
        }
    }
    struct hdr_scan scan = {signed_list, NULL};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, scan_acs_header, &scan);
    if (scan.unsigned_name) {
        char *msg = xasprintf("Header %s is not signed.", scan.unsigned_name);
        ali_error(m, out, 400, "IncompleteSignature", msg);
        free(msg);
        return -1;
    }
    if (check_time(m, out, mock_req_header(r, "x-acs-date")) != 0)
        return -1;

    char body_hash[65];
    sha256_hex(r->body.data ? r->body.data : "", r->body.len, body_hash);
    const char *claimed = mock_req_header(r, "x-acs-content-sha256");
    if (strcasecmp(claimed, body_hash) != 0) {
        ali_error(m, out, 400, "SignatureDoesNotMatch",
                  "x-acs-content-sha256 is not the SHA-256 of the request body.");
        return -1;
    }

    /* The headers exactly as named in SignedHeaders (values from the
     * request; names are matched case-insensitively by MHD). */
    struct sign_aliyun_kv h[32];
    char names[32][64];
    size_t nh = 0;
    for (const char *p = signed_list; *p && nh < HF_ARRAY_LEN(h);) {
        size_t len = strcspn(p, ";");
        if (len == 0 || len >= sizeof names[0]) {
            ali_error(m, out, 400, "IncompleteSignature", "Bad SignedHeaders.");
            return -1;
        }
        memcpy(names[nh], p, len);
        names[nh][len] = '\0';
        const char *v = mock_req_header(r, names[nh]);
        if (!v) {
            char *msg = xasprintf("Signed header %s is missing.", names[nh]);
            ali_error(m, out, 400, "IncompleteSignature", msg);
            free(msg);
            return -1;
        }
        h[nh] = (struct sign_aliyun_kv){names[nh], v};
        nh++;
        p += len;
        if (*p == ';')
            p++;
    }
    struct sign_aliyun_v3_in in = {
        .method = r->method, .uri = "/", .query = q->kv, .nquery = q->n, .headers = h,
        .nheaders = nh, .payload_hash = claimed, .key_id = key_id, .key_secret = secret,
    };
    struct sign_aliyun_v3 s;
    sign_aliyun_v3(&in, &s);
    int ok = strcmp(s.signed_headers, signed_list) == 0 && strlen(sig) == 64 &&
             ct_equal(s.signature, sig, 64);
    if (!ok) {
        char *msg = xasprintf("Specified signature is not matched with our calculation. "
                              "server string to sign is:%s", s.string_to_sign);
        ali_error(m, out, 400, "SignatureDoesNotMatch", msg);
        free(msg);
    }
    sign_aliyun_v3_cleanup(&s);
    if (!ok)
        return -1;
    if (nonce_used(mock_req_header(r, "x-acs-signature-nonce"), clock_now())) {
        ali_error(m, out, 400, "SignatureNonceUsed", "Specified signature nonce was used already.");
        return -1;
    }
    const char *action = mock_req_header(r, "x-acs-action");
    const char *version = mock_req_header(r, "x-acs-version");
    if (strcmp(action, "SendSms") != 0) {
        ali_error(m, out, 404, "InvalidAction.NotFound",
                  "Specified api is not found, please check your url and method.");
        return -1;
    }
    if (strcmp(version, "2017-05-25") != 0) {
        ali_error(m, out, 400, "InvalidVersion", "Specified parameter Version is not valid.");
        return -1;
    }
    return 0;
}

/* Answer "Missing<name>" when @p lacks @name. 0, or -1 after answering. */
static int need(struct mock *m, struct mock_resp *out, const struct ali_params *p,
                const char *name)
{
    const char *v = param(p, name);
    if (v && v[0])
        return 0;
    char *code = xasprintf("Missing%s", name);
    char *msg = xasprintf("%s is mandatory for this action.", name);
    ali_error(m, out, 400, code, msg);
    free(code);
    free(msg);
    return -1;
}

/* Verify an RPC (V1) request. 0, or -1 after answering. */
static int verify_v1(struct mock *m, struct mock_req *r, struct mock_resp *out, const cJSON *cfg,
                     const struct ali_params *q)
{
    static const char *const common[] = {"AccessKeyId", "Action", "Format", "SignatureMethod",
                                         "SignatureNonce", "SignatureVersion", "Timestamp",
                                         "Version"};
    for (size_t i = 0; i < HF_ARRAY_LEN(common); i++)
        if (need(m, out, q, common[i]) != 0)
            return -1;
    const char *secret;
    if (check_key(m, out, cfg, param(q, "AccessKeyId"), &secret) != 0)
        return -1;
    if (strcmp(param(q, "SignatureMethod"), "HMAC-SHA1") != 0) {
        ali_error(m, out, 400, "InvalidSignatureMethod",
                  "Specified signature method is not supported.");
        return -1;
    }
    if (strcmp(param(q, "SignatureVersion"), "1.0") != 0) {
        ali_error(m, out, 400, "InvalidSignatureVersion",
                  "Specified signature version is not supported.");
        return -1;
    }
    if (strcasecmp(param(q, "Format"), "JSON") != 0) {
        ali_error(m, out, 400, "InvalidParameter", "The mock answers JSON only: set Format=JSON.");
        return -1;
    }
    if (check_time(m, out, param(q, "Timestamp")) != 0)
        return -1;
    struct sign_aliyun_v1 s;
    sign_aliyun_v1(r->method, q->kv, q->n, secret, &s);
    const char *got = param(q, "Signature");
    size_t n = strlen(s.signature);
    int ok = strlen(got) == n && ct_equal(s.signature, got, n);
    if (!ok) {
        char *msg = xasprintf("Specified signature is not matched with our calculation. "
                              "server string to sign is:%s", s.string_to_sign);
        ali_error(m, out, 400, "SignatureDoesNotMatch", msg);
        free(msg);
    }
    sign_aliyun_v1_cleanup(&s);
    if (!ok)
        return -1;
    if (nonce_used(param(q, "SignatureNonce"), clock_now())) {
        ali_error(m, out, 400, "SignatureNonceUsed", "Specified signature nonce was used already.");
        return -1;
    }
    if (strcmp(param(q, "Action"), "SendSms") != 0) {
        ali_error(m, out, 404, "InvalidAction.NotFound",
                  "Specified api is not found, please check your url and method.");
        return -1;
    }
    if (strcmp(param(q, "Version"), "2017-05-25") != 0) {
        ali_error(m, out, 400, "InvalidVersion", "Specified parameter Version is not valid.");
        return -1;
    }
    return 0;
}

/* ===================================================================== */
/* SendSms                                                                 */
/* ===================================================================== */

/* A mainland number with an optional +86 / 0086 / 86 prefix into 11
 * digits. 1 or 0. */
static int phone_normalize(const char *s, char out[12])
{
    if (strncmp(s, "0086", 4) == 0)
        s += 4;
    return mobile_normalize(s, out);
}

/* "yyyy-MM-dd HH:mm:ss" in Beijing time, as SmsReport carries it. */
static void beijing_time(int64_t t, char out[20])
{
    time_t lt = (time_t)(t + ALI_BEIJING_OFFSET);
    struct tm tm;
    gmtime_r(&lt, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Number of accepted sends to @phone at or after @since. Lock held. */
static long sends_since_locked(const char *phone, int64_t since)
{
    long n = 0;
    for (size_t i = 0; i < ali_nsends; i++)
        if (ali_sends[i].at >= since && strcmp(ali_sends[i].phone, phone) == 0)
            n++;
    return n;
}

/* A config integer >= 0, or @def. */
static long cfg_long(const cJSON *cfg, const char *name, long def)
{
    long v;
    if (mock_json_long(cJSON_GetObjectItemCaseSensitive(cfg, name), 0, 1000000000L, &v) == 0)
        return v;
    return def;
}

/* 1 if @phone is listed (as given or normalised) in array @name. */
static int cfg_lists(const cJSON *cfg, const char *name, const char *phone)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(cfg, name), *e;
    cJSON_ArrayForEach(e, a) {
        char norm[12];
        if (cJSON_IsString(e) && (strcmp(e->valuestring, phone) == 0 ||
                                  (phone_normalize(e->valuestring, norm) && !strcmp(norm, phone))))
            return 1;
    }
    return 0;
}

/* The SmsReport array for one send (C8). Caller owns; cJSON_Delete(). */
static cJSON *sms_report(const char *phone, const char *out_id, const char *biz_id,
                         int64_t sent_at, int64_t report_at, int success, const char *err_code,
                         const char *err_msg)
{
    char st[20], rt[20];
    beijing_time(sent_at, st);
    beijing_time(report_at, rt);
    cJSON *arr = cJSON_CreateArray();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "phone_number", phone);
    cJSON_AddStringToObject(o, "send_time", st);
    cJSON_AddStringToObject(o, "report_time", rt);
    cJSON_AddBoolToObject(o, "success", success);
    cJSON_AddStringToObject(o, "err_code", err_code);
    cJSON_AddStringToObject(o, "err_msg", err_msg);
    cJSON_AddStringToObject(o, "sms_size", "1");
    cJSON_AddStringToObject(o, "biz_id", biz_id);
    cJSON_AddStringToObject(o, "out_id", out_id ? out_id : "");
    cJSON_AddItemToArray(arr, o);
    return arr;
}

static void push_report(struct mock *m, const char *url, cJSON *report, long delay_ms)
{
    char *text = cJSON_PrintUnformatted(report);
    HF_ASSERT(text != NULL);
    mock_push_json(m, url, text, delay_ms);
    cJSON_free(text);
}

/*
 * After authentication: the SendSms checks, limits and the answer.
 */
static void send_sms(struct mock *m, struct mock_req *r, struct mock_resp *out, const cJSON *cfg,
                     const struct ali_params *q, const char *method)
{
    static const char *const api[] = {"PhoneNumbers", "SignName", "TemplateCode"};
    for (size_t i = 0; i < HF_ARRAY_LEN(api); i++)
        if (need(m, out, q, api[i]) != 0)
            return;

    cJSON *tparam = NULL;
    const char *tp = param(q, "TemplateParam");
    if (tp) {
        tparam = mock_json_parse_exact(tp, strlen(tp));
        int ok = cJSON_IsObject(tparam);
        for (const cJSON *c = ok ? tparam->child : NULL; c; c = c->next)
            if (!cJSON_IsString(c))
                ok = 0;
        if (!ok) {
            cJSON_Delete(tparam);
            ali_business(m, out, "isv.INVALID_JSON_PARAM", code_message("isv.INVALID_JSON_PARAM"));
            return;
        }
    }
    const char *numbers = param(q, "PhoneNumbers");
    char phone[12], masked[24];
    if (strchr(numbers, ',')) {
        cJSON_Delete(tparam);
        ali_business(m, out, "isv.MOBILE_COUNT_OVER_LIMIT",
                     "the mock takes one number per request");
        return;
    }
    if (!phone_normalize(numbers, phone)) {
        cJSON_Delete(tparam);
        ali_business(m, out, "isv.MOBILE_NUMBER_ILLEGAL",
                     code_message("isv.MOBILE_NUMBER_ILLEGAL"));
        return;
    }
    log_mask_phone(phone, masked);

    const cJSON *forced = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cfg, "fail_codes"), phone);
    if (!forced)
        forced = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cfg, "fail_codes"), numbers);
    if (cJSON_IsString(forced)) {
        cJSON_Delete(tparam);
        LOG_INFO(ALI_TAG, "forced code phone=%s", masked);
        ali_business(m, out, forced->valuestring, code_message(forced->valuestring));
        return;
    }

    /* Per-number limits, then the send is counted, under one lock so two
     * concurrent requests cannot both take the last permit. */
    static const struct { const char *key, *level; int64_t window; } lim[] = {
        { "per_number_minute", "分钟级", 60 },
        { "per_number_hour", "小时级", 3600 },
        { "per_number_day", "天级", 86400 },
    };
    int64_t now = clock_now();
    const char *out_id = param(q, "OutId");
    char biz[32], limit_msg[64] = "";
    pthread_mutex_lock(&ali_lock);
    for (size_t i = 0; i < HF_ARRAY_LEN(lim) && !limit_msg[0]; i++) {
        long max = cfg_long(cfg, lim[i].key, 0);
        if (max > 0 && sends_since_locked(phone, now - lim[i].window + 1) >= max)
            snprintf(limit_msg, sizeof limit_msg, "触发%s流控Permits:%ld", lim[i].level, max);
    }
    if (!limit_msg[0]) {
        /* Drop sends older than any window and push_receipt's memory. */
        size_t k = 0;
        for (size_t i = 0; i < ali_nsends; i++) {
            if (now - ali_sends[i].at > ALI_HISTORY_S) {
                free(ali_sends[i].phone);
                free(ali_sends[i].out_id);
                free(ali_sends[i].biz_id);
                continue;
            }
            ali_sends[k++] = ali_sends[i];
        }
        ali_nsends = k;
        if (ali_nsends == ali_capsends) {
            ali_capsends = ali_capsends ? ali_capsends * 2 : 32;
            ali_sends = xrealloc(ali_sends, ali_capsends * sizeof *ali_sends);
        }
        snprintf(biz, sizeof biz, "%010lld%08llu^0", (long long)now,
                 (unsigned long long)++ali_biz_seq);
        ali_sends[ali_nsends++] = (struct ali_send){xstrdup(phone),
                                                    out_id ? xstrdup(out_id) : NULL,
                                                    xstrdup(biz), now};
    }
    pthread_mutex_unlock(&ali_lock);
    if (limit_msg[0]) {
        cJSON_Delete(tparam);
        LOG_INFO(ALI_TAG, "per-number limit phone=%s", masked);
        ali_business(m, out, "isv.BUSINESS_LIMIT_CONTROL", limit_msg);
        return;
    }

    /* Record: every parameter (Signature left out), TemplateParam parsed. */
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "action", "SendSms");
    cJSON_AddStringToObject(rec, "signature_method", method);
    cJSON_AddStringToObject(rec, "phone", phone);
    cJSON_AddStringToObject(rec, "biz_id", biz);
    cJSON *params = cJSON_AddObjectToObject(rec, "params");
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->kv[i].key, "Signature") == 0)
            continue;
        if (strcmp(q->kv[i].key, "TemplateParam") == 0 && tparam) {
            cJSON_AddItemToObject(params, "TemplateParam", tparam);
            tparam = NULL;
        } else {
            cJSON_AddStringToObject(params, q->kv[i].key, q->kv[i].value);
        }
    }
    cJSON_Delete(tparam);
    int dup = 0;
    mock_record(m, r->path, out_id, rec, 200, &dup);
    LOG_INFO(ALI_TAG, "accepted phone=%s out_id=%s biz_id=%s method=%s duplicate=%d", masked,
             out_id ? out_id : "-", biz, method, dup);

    const cJSON *url = cJSON_GetObjectItemCaseSensitive(cfg, "receipt_url");
    if (cJSON_IsString(url) && url->valuestring[0]) {
        long delay = cfg_long(cfg, "receipt_delay_ms", ALI_DEFAULT_RECEIPT_DELAY_MS);
        int ok = !cfg_lists(cfg, "undeliverable_numbers", phone);
        cJSON *report = sms_report(phone, out_id, biz, now, now + (delay + 999) / 1000, ok,
                                   ok ? "DELIVERED" : "MK:0001", ok ? "用户接收成功" : "用户接收失败");
        push_report(m, url->valuestring, report, delay);
        cJSON_Delete(report);
    }

    char rid[37];
    request_id(rid);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Code", "OK");
    cJSON_AddStringToObject(o, "Message", "OK");
    cJSON_AddStringToObject(o, "BizId", biz);
    cJSON_AddStringToObject(o, "RequestId", rid);
    mock_resp_json(out, 200, o);
}

/* POST /aliyun[/]: see the head comment. */
static void handle_sendsms(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    const char *rest = r->path + strlen(ALI_PREFIX);
    if (strcmp(rest, "") != 0 && strcmp(rest, "/") != 0) {
        ali_error(m, out, 404, "InvalidAction.NotFound",
                  "Specified api is not found, please check your url and method.");
        return;
    }
    cJSON *cfg = mock_config_section(m, "aliyun");
    struct ali_params q = {0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_param, &q);
    if (q.overflow) {
        ali_error(m, out, 400, "InvalidParameter", "Too many parameters.");
    } else if (mock_req_header(r, "Authorization")) {
        if (verify_v3(m, r, out, cfg, &q) == 0)
            send_sms(m, r, out, cfg, &q, SIGN_ALIYUN_V3_ALGORITHM);
    } else if (param(&q, "Signature")) {
        if (verify_v1(m, r, out, cfg, &q) == 0)
            send_sms(m, r, out, cfg, &q, "HMAC-SHA1");
    } else {
        ali_error(m, out, 400, "MissingSignature", "Signature is mandatory for this action.");
    }
    params_free(&q);
    cJSON_Delete(cfg);
}

/* POST /_mock/aliyun/push_receipt: see the head comment. */
static void handle_push_receipt(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    cJSON *j = mock_json_parse_exact(r->body.data, r->body.len);
    cJSON *cfg = mock_config_section(m, "aliyun");
    cJSON *report = NULL;
    const cJSON *oid = cJSON_GetObjectItemCaseSensitive(j, "out_id");
    const cJSON *succ = cJSON_GetObjectItemCaseSensitive(j, "success");
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(j, "err_code");
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(j, "err_msg");
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "url");
    long times = 1, delay = 0;
    if (!cJSON_IsObject(j) || !cJSON_IsString(oid)) {
        mock_resp_error(out, 400, "out_id (string) is required", "out_id");
        goto out;
    }
    if (succ && !cJSON_IsBool(succ)) {
        mock_resp_error(out, 400, "success must be a boolean", "success");
        goto out;
    }
    if ((ec && !cJSON_IsString(ec)) || (em && !cJSON_IsString(em))) {
        mock_resp_error(out, 400, "err_code and err_msg must be strings",
                        ec ? "err_code" : "err_msg");
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(j, "times") &&
        mock_json_long(cJSON_GetObjectItemCaseSensitive(j, "times"), 1, ALI_MAX_PUSH_TIMES,
                       &times) != 0) {
        mock_resp_error(out, 400, "times must be an integer 1..10", "times");
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(j, "delay_ms") &&
        mock_json_long(cJSON_GetObjectItemCaseSensitive(j, "delay_ms"), 0, MOCK_DELAY_MAX_MS,
                       &delay) != 0) {
        mock_resp_error(out, 400, "delay_ms must be an integer 0..600000", "delay_ms");
        goto out;
    }
    if (!cJSON_IsString(url))
        url = cJSON_GetObjectItemCaseSensitive(cfg, "receipt_url");
    if (!cJSON_IsString(url) || !url->valuestring[0]) {
        mock_resp_error(out, 400, "no url given and no aliyun.receipt_url configured", "url");
        goto out;
    }
    int ok = succ ? cJSON_IsTrue(succ) : 1;
    pthread_mutex_lock(&ali_lock);
    for (size_t i = ali_nsends; i-- > 0;) {
        if (ali_sends[i].out_id && strcmp(ali_sends[i].out_id, oid->valuestring) == 0) {
            const struct ali_send *a = &ali_sends[i];
            report = sms_report(a->phone, a->out_id, a->biz_id, a->at, clock_now(), ok,
                                ec ? ec->valuestring : ok ? "DELIVERED" : "MK:0001",
                                em ? em->valuestring : ok ? "用户接收成功" : "用户接收失败");
            break;
        }
    }
    pthread_mutex_unlock(&ali_lock);
    if (!report) {
        mock_resp_error(out, 404, "no accepted send with this out_id", "out_id");
        goto out;
    }
    for (long i = 0; i < times; i++)
        push_report(m, url->valuestring, report, delay);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pushed", (double)times);
    cJSON_AddItemToObject(o, "receipt", report);
    report = NULL;
    mock_resp_json(out, 200, o);
out:
    cJSON_Delete(report);
    cJSON_Delete(cfg);
    cJSON_Delete(j);
}

static const struct mock_route aliyun_routes[] = {
    { "POST", ALI_PREFIX, MOCK_MATCH_TREE, MOCK_ROUTE_PROVIDER, handle_sendsms },
    { "POST", "/_mock/aliyun/push_receipt", MOCK_MATCH_EXACT, 0, handle_push_receipt },
    { NULL, NULL, 0, 0, NULL },
};

const struct mock_provider mock_aliyun_provider = { "aliyun", aliyun_routes, ali_reset,
                                                    ali_cleanup };
