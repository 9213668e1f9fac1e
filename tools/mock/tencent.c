/*
 * tencent.c - mock Tencent Cloud SMS, API 3.0, version 2021-01-11
 * (PROTOCOLS.md section D). Point the daemon's channels.tencent.base_url at
 * http://127.0.0.1:PORT/tencent.
 *
 *   POST /tencent[/...]   SendSms
 *
 * Whole-request checks, in this order, each answered HTTP 200 with
 * {"Response":{"Error":{"Code","Message"},"RequestId"}} as Tencent does, and
 * counted as "rejected" in /_mock/stats:
 *   X-TC-Action missing MissingParameter, not SendSms InvalidAction;
 *   X-TC-Version missing MissingParameter, not 2021-01-11 NoSuchVersion;
 *   X-TC-Region missing MissingParameter;
 *   X-TC-Timestamp missing MissingParameter, not an integer InvalidParameter;
 *   Authorization missing or not TC3-HMAC-SHA256 AuthFailure.InvalidAuthorization;
 *   X-TC-Timestamp more than 300 s from clock_now() AuthFailure.SignatureExpire;
 *   Credential's SecretId not the configured one AuthFailure.SecretIdNotFound;
 *   the signature, recomputed with the configured secret key over "POST",
 *   canonical URI "/" (whatever the path), the headers listed in
 *   SignedHeaders (at least content-type and host; values as received,
 *   Host from the Host header), the exact body bytes, and the credential
 *   date/service (UTC date of X-TC-Timestamp, "sms"): else
 *   AuthFailure.SignatureFailure;
 *   Content-Type not application/json InvalidParameter;
 *   body not a JSON object FailedOperation.JsonParseFail;
 *   SmsSdkAppId missing MissingParameter, not the configured one
 *   UnauthorizedOperation.SmsSdkAppIdVerifyFail; TemplateId or SignName
 *   missing MissingParameter; TemplateParamSet not an array of strings,
 *   SessionContext not a string of < 512 bytes InvalidParameter;
 *   PhoneNumberSet missing MissingParameter, empty
 *   MissingParameter.EmptyPhoneNumberSet, more than 200
 *   LimitExceeded.PhoneNumberCountLimit.
 *
 * Per number (one SendStatusSet entry each, HTTP 200):
 *   not "+86" + 11 digits (1[3-9]...) InvalidParameterValue.IncorrectPhoneNumber;
 *   the number in fail_codes: that code;
 *   per_number_30s / per_number_hour sends already accepted in the last
 *   30 s / 3600 s: LimitExceeded.PhoneNumberThirtySecondLimit /
 *   PhoneNumberOneHourLimit; per_number_day sends since the last Beijing
 *   midnight: LimitExceeded.PhoneNumberDailyLimit (0 = unlimited);
 *   else "Ok" with a new SerialNo ("5000:<digits>", unique), Fee 1.
 * A request with at least one "Ok" is recorded (key = SessionContext,
 * body = the parsed request). Tencent does not deduplicate on
 * SessionContext, so a repeat is sent again and recorded duplicate=true.
 *
 * Receipts: with "status_url" set, receipt_delay_ms (default 200) after an
 * accepted request the mock POSTs the real status callback array, one
 * element per accepted number:
 *   [{"user_receive_time":"YYYY-MM-DD HH:MM:SS" (Beijing),"nationcode":"86",
 *     "mobile":"138...","report_status":"SUCCESS","errmsg":"DELIVRD",
 *     "description":"用户短信送达成功","sid":"<SerialNo>"}]
 * Numbers in undeliverable_numbers get report_status "FAIL", errmsg
 * undeliverable_errmsg (default "MK:0001").
 *
 * Control
 *   POST /_mock/tencent/push_status {"sid": "...", "report_status": "FAIL",
 *        "errmsg": "...", "description": "...", "times": 2, "delay_ms": 0,
 *        "mobile": "...", "url": "..."}
 *        pushes the status callback for @sid @times times (default 1, at
 *        delay_ms, +100 ms for each repeat) to @url or status_url. mobile is
 *        taken from the send unless given; an unknown sid needs it (404
 *        otherwise). report_status defaults to SUCCESS, errmsg to DELIVRD
 *        (SUCCESS) or MK:0001 (FAIL). -> {"pushed": n, "sid": "..."}
 *   POST /_mock/reset also forgets every send (limits, sids).
 *
 * Config (--config FILE or POST /_mock/config):
 *   "tencent": {"secret_id", "secret_key", "sdk_app_id", "status_url",
 *               "receipt_delay_ms", "per_number_30s", "per_number_hour",
 *               "per_number_day", "undeliverable_numbers": [],
 *               "undeliverable_errmsg", "fail_codes": {"13800000001":
 *               "FailedOperation.PhoneNumberInBlacklist"}}
 *   fail_codes and undeliverable_numbers take 11-digit numbers (a "+86"
 *   form matches too). Without secret_id/secret_key every request is
 *   refused (AuthFailure.SecretIdNotFound): the mock never skips the check.
 *
 * Nothing here logs the secret key, a signature or a full mobile number.
 */
#include "mock.h"
#include "sign_tc3.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TC_TAG "mock.tencent"
#define TC_SKEW_S 300                 /* AuthFailure.SignatureExpire beyond this */
#define TC_MAX_NUMBERS 200
#define TC_SESSION_MAX 512
#define TC_RECEIPT_DELAY_DEFAULT 200L
#define TC_PUSH_TIMES_MAX 100
#define TC_PUSH_REPEAT_GAP_MS 100L
#define TC_CN_OFFSET (8 * 3600)       /* Beijing time, no DST */
#define TC_KEEP_S (2 * 86400)         /* sends older than this no longer count */

/* One accepted number: for the per-number limits and for push_status. */
struct tc_send {
    char serial[64];
    char mobile[12];
    int64_t t;          /* clock_now() when accepted */
};

/* File-level state, guarded by tc.lock (never held while calling into
 * mock.c, which takes m->lock). */
static struct {
    pthread_mutex_t lock;
    struct tc_send *sends;
    size_t nsends, capsends;
    uint64_t serial_seq;
} tc = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ===================================================================== */
/* Small helpers                                                           */
/* ===================================================================== */

/* A fresh RequestId, a version-4 UUID. @out needs 37 bytes. */
static void tc_uuid(char out[37])
{
    uint64_t a = rand_u64(), b = rand_u64();
    a = (a & ~0xF000ULL) | 0x4000ULL;                      /* version 4 */
    b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL; /* variant 10 */
    snprintf(out, 37, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(a >> 32),
             (unsigned long long)((a >> 16) & 0xFFFF), (unsigned long long)(a & 0xFFFF),
             (unsigned long long)(b >> 48), (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
}

/* Answer a whole-request error the way Tencent does: HTTP 200. */
static void tc_error(struct mock *m, struct mock_resp *out, const char *code, const char *msg)
{
    char rid[37];
    tc_uuid(rid);
    mock_stats_rejected(m);
    LOG_INFO(TC_TAG, "refused code=%s", code);
    cJSON *err = cJSON_CreateObject();
    cJSON_AddStringToObject(err, "Code", code);
    cJSON_AddStringToObject(err, "Message", msg);
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(resp, "Error", err);
    cJSON_AddStringToObject(resp, "RequestId", rid);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "Response", resp);
    mock_resp_json(out, 200, root);
}

static const char *cfg_str(const cJSON *cfg, const char *key)
{
    const cJSON *v = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, key) : NULL;
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static long cfg_long(const cJSON *cfg, const char *key, long dflt, long max)
{
    long v;
    const cJSON *j = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, key) : NULL;
    return j && mock_json_long(j, 0, max, &v) == 0 ? v : dflt;
}

/* 1 if the 11-digit @mobile (or "+86" + it) is listed in array @arr. */
static int list_has(const cJSON *arr, const char *mobile)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const char *s = cJSON_IsString(e) ? e->valuestring : "";
        if (strcmp(s, mobile) == 0 || (strncmp(s, "+86", 3) == 0 && strcmp(s + 3, mobile) == 0))
            return 1;
    }
    return 0;
}

/* fail_codes entry for @mobile, or NULL. */
static const char *fail_code_for(const cJSON *cfg, const char *mobile)
{
    const cJSON *fc = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "fail_codes") : NULL;
    if (!cJSON_IsObject(fc))
        return NULL;
    char plus[16];
    snprintf(plus, sizeof plus, "+86%s", mobile);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(fc, mobile);
    if (!v)
        v = cJSON_GetObjectItemCaseSensitive(fc, plus);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* "+86" + 11 digits 1[3-9]xxxxxxxxx -> the 11 digits in @mobile. */
static int tc_phone_ok(const char *s, char mobile[12])
{
    if (strncmp(s, "+86", 3) != 0 || strlen(s) != 14)
        return 0;
    s += 3;
    if (s[0] != '1' || s[1] < '3' || s[1] > '9')
        return 0;
    for (int i = 0; i < 11; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    memcpy(mobile, s, 11);
    mobile[11] = '\0';
    return 1;
}

/* Beijing wall time of @t, "YYYY-MM-DD HH:MM:SS". @out needs 20 bytes. */
static void tc_beijing_time(int64_t t, char out[20])
{
    time_t bt = (time_t)(t + TC_CN_OFFSET);
    struct tm tm;
    if (!gmtime_r(&bt, &tm) || strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) != 19)
        snprintf(out, 20, "1970-01-01 08:00:00");
}

static int64_t tc_beijing_day_start(int64_t now)
{
    return ((now + TC_CN_OFFSET) / 86400) * 86400 - TC_CN_OFFSET;
}

/* ===================================================================== */
/* Sends (call with tc.lock held)                                          */
/* ===================================================================== */

static void sends_prune(int64_t now)
{
    size_t j = 0;
    for (size_t i = 0; i < tc.nsends; i++)
        if (tc.sends[i].t > now - TC_KEEP_S)
            tc.sends[j++] = tc.sends[i];
    tc.nsends = j;
}

static const char *sends_add(const char *mobile, int64_t now)
{
    if (tc.nsends == tc.capsends) {
        tc.capsends = tc.capsends ? tc.capsends * 2 : 32;
        tc.sends = xrealloc(tc.sends, tc.capsends * sizeof *tc.sends);
    }
    struct tc_send *s = &tc.sends[tc.nsends++];
    memset(s, 0, sizeof *s);
    snprintf(s->serial, sizeof s->serial, "5000:%lld%08llu%010llu", (long long)now,
             (unsigned long long)(++tc.serial_seq % 100000000ULL),
             (unsigned long long)(rand_u64() % 10000000000ULL));
    memcpy(s->mobile, mobile, 12);
    s->t = now;
    return s->serial;
}

/* Accepted sends to @mobile at or after @since. */
static long sends_count(const char *mobile, int64_t since)
{
    long n = 0;
    for (size_t i = 0; i < tc.nsends; i++)
        if (tc.sends[i].t >= since && strcmp(tc.sends[i].mobile, mobile) == 0)
            n++;
    return n;
}

static const struct tc_send *sends_find(const char *serial)
{
    for (size_t i = 0; i < tc.nsends; i++)
        if (strcmp(tc.sends[i].serial, serial) == 0)
            return &tc.sends[i];
    return NULL;
}

/* ===================================================================== */
/* Signature                                                               */
/* ===================================================================== */

/* 1 if the media type is application/json (a charset parameter allowed). */
static int tc_content_type_json(const char *ct)
{
    static const char want[] = "application/json";
    if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0)
        return 0;
    ct += sizeof want - 1;
    return *ct == '\0' || *ct == ';' || *ct == ' ';
}

/*
 * Verify the TC3 Authorization of @r. Returns NULL when it holds, else the
 * error code, with *msg set to a message (static text).
 */
static const char *tc_verify(const struct mock_req *r, const cJSON *cfg, int64_t ts,
                             const char **msg)
{
    struct tc3_auth a;
    if (tc3_parse_authorization(mock_req_header(r, "Authorization"), &a) != HF_OK) {
        *msg = "The Authorization header is missing or does not follow TC3-HMAC-SHA256.";
        return "AuthFailure.InvalidAuthorization";
    }
    int64_t now = clock_now();
    if (ts < now - TC_SKEW_S || ts > now + TC_SKEW_S) {
        *msg = "Signature expired. Timestamp and server time cannot differ by more than "
               "five minutes.";
        return "AuthFailure.SignatureExpire";
    }
    const char *sid = cfg_str(cfg, "secret_id"), *skey = cfg_str(cfg, "secret_key");
    if (!sid || !skey || strcmp(a.secret_id, sid) != 0) {
        *msg = "The SecretId is not found, please ensure that your SecretId is correct.";
        return "AuthFailure.SecretIdNotFound";
    }
    *msg = "The provided credentials could not be validated. Please check your signature is "
           "correct.";
    char date[11];
    tc3_date(ts, date);
    if (strcmp(a.date, date) != 0 || strcmp(a.service, "sms") != 0)
        return "AuthFailure.SignatureFailure";

    /* The signed headers, as received; content-type and host are added by
     * tc3_sign itself, the list must match what it derives. */
    struct tc3_header extra[TC3_MAX_EXTRA_HEADERS];
    char names[sizeof a.signed_headers];
    size_t nextra = 0;
    snprintf(names, sizeof names, "%s", a.signed_headers);
    char *save = NULL;
    for (char *n = strtok_r(names, ";", &save); n; n = strtok_r(NULL, ";", &save)) {
        if (strcmp(n, "content-type") == 0 || strcmp(n, "host") == 0)
            continue;
        const char *v = mock_req_header(r, n);
        if (!v || nextra == TC3_MAX_EXTRA_HEADERS)
            return "AuthFailure.SignatureFailure";
        extra[nextra].name = n;
        extra[nextra++].value = v;
    }
    struct tc3_params p = {
        .secret_id = a.secret_id,
        .secret_key = skey,
        .service = "sms",
        .host = mock_req_header(r, "Host"),
        .content_type = mock_req_header(r, "Content-Type"),
        .timestamp = ts,
        .payload = r->body.data,
        .payload_len = r->body.len,
        .extra = extra,
        .nextra = nextra,
    };
    struct tc3_sig sig;
    if (tc3_sign(&p, &sig) != HF_OK)
        return "AuthFailure.SignatureFailure";
    int ok = strcmp(sig.signed_headers, a.signed_headers) == 0 &&
             ct_equal(sig.signature, a.signature, 64);
    tc3_sig_cleanup(&sig);
    return ok ? NULL : "AuthFailure.SignatureFailure";
}

/* ===================================================================== */
/* Receipts                                                                */
/* ===================================================================== */

static cJSON *receipt_item(const char *serial, const char *mobile, int64_t when, int ok,
                           const char *errmsg, const char *description)
{
    char t[20];
    tc_beijing_time(when, t);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "user_receive_time", t);
    cJSON_AddStringToObject(o, "nationcode", "86");
    cJSON_AddStringToObject(o, "mobile", mobile);
    cJSON_AddStringToObject(o, "report_status", ok ? "SUCCESS" : "FAIL");
    cJSON_AddStringToObject(o, "errmsg", errmsg ? errmsg : ok ? "DELIVRD" : "MK:0001");
    cJSON_AddStringToObject(o, "description",
                            description ? description
                            : ok        ? "用户短信送达成功"
                                        : "用户短信送达失败");
    cJSON_AddStringToObject(o, "sid", serial);
    return o;
}

static void push_array(struct mock *m, const char *url, cJSON *arr, long delay_ms)
{
    char *text = cJSON_PrintUnformatted(arr);
    HF_ASSERT(text != NULL);
    mock_push_json(m, url, text, delay_ms);
    cJSON_free(text);
}

/* ===================================================================== */
/* POST /tencent: SendSms                                                  */
/* ===================================================================== */

static const char *limit_message(const char *code)
{
    if (strcmp(code, "LimitExceeded.PhoneNumberThirtySecondLimit") == 0)
        return "the number of sms messages sent from a single mobile number within 30 seconds "
               "exceeds the upper limit";
    if (strcmp(code, "LimitExceeded.PhoneNumberOneHourLimit") == 0)
        return "the number of sms messages sent from a single mobile number within 1 hour "
               "exceeds the upper limit";
    if (strcmp(code, "LimitExceeded.PhoneNumberDailyLimit") == 0)
        return "the number of sms messages sent from a single mobile number every day exceeds "
               "the upper limit";
    if (strcmp(code, "InvalidParameterValue.IncorrectPhoneNumber") == 0)
        return "incorrect phone number";
    return "mock: configured failure (fail_codes)";
}

static void handle_send(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    cJSON *cfg = mock_config_section(m, "tencent");
    cJSON *body = NULL;
    const char *code = NULL, *msg = NULL;

    /* Headers first: a request that is not a SendSms 2021-01-11 call is
     * refused before anything is authenticated. */
    const char *action = mock_req_header(r, "X-TC-Action");
    const char *version = mock_req_header(r, "X-TC-Version");
    const char *region = mock_req_header(r, "X-TC-Region");
    const char *tss = mock_req_header(r, "X-TC-Timestamp");
    if (!action) {
        code = "MissingParameter";
        msg = "The request is missing a required header `X-TC-Action`.";
    } else if (strcmp(action, "SendSms") != 0) {
        code = "InvalidAction";
        msg = "The action requested is not supported (only SendSms).";
    } else if (!version) {
        code = "MissingParameter";
        msg = "The request is missing a required header `X-TC-Version`.";
    } else if (strcmp(version, "2021-01-11") != 0) {
        code = "NoSuchVersion";
        msg = "The API version does not exist (only 2021-01-11).";
    } else if (!region || !region[0]) {
        code = "MissingParameter";
        msg = "The request is missing a required header `X-TC-Region`.";
    } else if (!tss) {
        code = "MissingParameter";
        msg = "The request is missing a required header `X-TC-Timestamp`.";
    }
    if (code)
        goto refuse;
    char *end = NULL;
    long long ts = strtoll(tss, &end, 10);
    if (end == tss || *end != '\0' || ts < 0) {
        code = "InvalidParameter";
        msg = "X-TC-Timestamp must be Unix seconds.";
        goto refuse;
    }
    code = tc_verify(r, cfg, (int64_t)ts, &msg);
    if (code)
        goto refuse;
    if (!tc_content_type_json(mock_req_header(r, "Content-Type"))) {
        code = "InvalidParameter";
        msg = "Content-Type must be application/json.";
        goto refuse;
    }

    /* The body. */
    body = mock_json_parse_exact(r->body.data, r->body.len);
    if (!cJSON_IsObject(body)) {
        code = "FailedOperation.JsonParseFail";
        msg = "the request body is not a JSON object";
        goto refuse;
    }
    const cJSON *app = cJSON_GetObjectItemCaseSensitive(body, "SmsSdkAppId");
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(body, "TemplateId");
    const cJSON *sign = cJSON_GetObjectItemCaseSensitive(body, "SignName");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(body, "TemplateParamSet");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(body, "SessionContext");
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(body, "PhoneNumberSet");
    const char *want_app = cfg_str(cfg, "sdk_app_id");
    if (!cJSON_IsString(app) || !app->valuestring[0]) {
        code = "MissingParameter";
        msg = "The parameter `SmsSdkAppId` is missing.";
    } else if (!want_app || strcmp(app->valuestring, want_app) != 0) {
        code = "UnauthorizedOperation.SmsSdkAppIdVerifyFail";
        msg = "SmsSdkAppId verify failed.";
    } else if (!cJSON_IsString(tid) || !tid->valuestring[0]) {
        code = "MissingParameter";
        msg = "The parameter `TemplateId` is missing.";
    } else if (!cJSON_IsString(sign) || !sign->valuestring[0]) {
        code = "MissingParameter";
        msg = "The parameter `SignName` is missing.";
    } else if (sc && (!cJSON_IsString(sc) || strlen(sc->valuestring) >= TC_SESSION_MAX)) {
        code = "InvalidParameter";
        msg = "SessionContext must be a string shorter than 512 bytes.";
    } else if (params && !cJSON_IsArray(params)) {
        code = "InvalidParameter";
        msg = "TemplateParamSet must be an array of strings.";
    } else if (!set) {
        code = "MissingParameter";
        msg = "The parameter `PhoneNumberSet` is missing.";
    } else if (!cJSON_IsArray(set)) {
        code = "InvalidParameter";
        msg = "PhoneNumberSet must be an array of strings.";
    } else if (cJSON_GetArraySize(set) == 0) {
        code = "MissingParameter.EmptyPhoneNumberSet";
        msg = "the number of phone numbers is 0";
    } else if (cJSON_GetArraySize(set) > TC_MAX_NUMBERS) {
        code = "LimitExceeded.PhoneNumberCountLimit";
        msg = "the number of phone numbers exceeds 200";
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, params) {
        if (!code && !cJSON_IsString(e)) {
            code = "InvalidParameter";
            msg = "TemplateParamSet must be an array of strings.";
        }
    }
    if (code)
        goto refuse;

    /* Per number. */
    long lim30 = cfg_long(cfg, "per_number_30s", 0, 1000000);
    long limh = cfg_long(cfg, "per_number_hour", 0, 1000000);
    long limd = cfg_long(cfg, "per_number_day", 0, 1000000);
    long delay = cfg_long(cfg, "receipt_delay_ms", TC_RECEIPT_DELAY_DEFAULT, MOCK_DELAY_MAX_MS);
    const char *status_url = cfg_str(cfg, "status_url");
    const cJSON *undeliverable = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "undeliverable_numbers")
                                     : NULL;
    /* A copy: @body goes to the record below, SessionContext is used after. */
    char session[TC_SESSION_MAX];
    snprintf(session, sizeof session, "%s", cJSON_IsString(sc) ? sc->valuestring : "");
    int64_t now = clock_now();
    cJSON *statuses = cJSON_CreateArray();
    cJSON *receipts = cJSON_CreateArray();
    int accepted = 0;

    pthread_mutex_lock(&tc.lock);
    sends_prune(now);
    cJSON_ArrayForEach(e, set) {
        char mobile[12] = "";
        const char *ncode = NULL, *serial = "";
        const char *shown = cJSON_IsString(e) ? e->valuestring : "";
        if (!cJSON_IsString(e) || !tc_phone_ok(e->valuestring, mobile))
            ncode = "InvalidParameterValue.IncorrectPhoneNumber";
        else if (fail_code_for(cfg, mobile))
            ncode = fail_code_for(cfg, mobile);
        else if (lim30 > 0 && sends_count(mobile, now - 30 + 1) >= lim30)
            ncode = "LimitExceeded.PhoneNumberThirtySecondLimit";
        else if (limh > 0 && sends_count(mobile, now - 3600 + 1) >= limh)
            ncode = "LimitExceeded.PhoneNumberOneHourLimit";
        else if (limd > 0 && sends_count(mobile, tc_beijing_day_start(now)) >= limd)
            ncode = "LimitExceeded.PhoneNumberDailyLimit";
        else
            serial = sends_add(mobile, now);

        cJSON *st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "SerialNo", serial);
        cJSON_AddStringToObject(st, "PhoneNumber", shown);
        cJSON_AddNumberToObject(st, "Fee", ncode ? 0 : 1);
        cJSON_AddStringToObject(st, "SessionContext", session);
        cJSON_AddStringToObject(st, "Code", ncode ? ncode : "Ok");
        cJSON_AddStringToObject(st, "Message", ncode ? limit_message(ncode) : "send success");
        cJSON_AddStringToObject(st, "IsoCode", ncode ? "" : "CN");
        cJSON_AddItemToArray(statuses, st);
        /* cppcheck-suppress variableScope ; only used inside LOG_INFO's level check */
        char masked[24];
        LOG_INFO(TC_TAG, "number=%s code=%s session=%s", log_mask_phone(mobile, masked),
                 ncode ? ncode : "Ok", session);
        if (!ncode) {
            accepted++;
            int ok = !list_has(undeliverable, mobile);
            cJSON_AddItemToArray(receipts,
                                 receipt_item(serial, mobile, now + delay / 1000, ok,
                                              ok ? NULL : cfg_str(cfg, "undeliverable_errmsg"),
                                              NULL));
        }
    }
    pthread_mutex_unlock(&tc.lock);

    if (accepted) {
        int dup = 0;
        mock_record(m, r->path, session[0] ? session : NULL, body, 200, &dup);
        body = NULL; /* owned by the record now */
        if (dup)
            LOG_INFO(TC_TAG, "repeat session=%s sent again (Tencent does not dedup)", session);
        if (status_url)
            push_array(m, status_url, receipts, delay);
    }
    cJSON_Delete(receipts);

    char rid[37];
    tc_uuid(rid);
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(resp, "SendStatusSet", statuses);
    cJSON_AddStringToObject(resp, "RequestId", rid);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "Response", resp);
    mock_resp_json(out, 200, root);
    cJSON_Delete(body);
    cJSON_Delete(cfg);
    return;

refuse:
    tc_error(m, out, code, msg);
    cJSON_Delete(body);
    cJSON_Delete(cfg);
}

/* ===================================================================== */
/* POST /_mock/tencent/push_status                                         */
/* ===================================================================== */

static void handle_push_status(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    cJSON *j = mock_json_parse_exact(r->body.data, r->body.len);
    cJSON *cfg = mock_config_section(m, "tencent");
    const char *why = NULL, *field = NULL;
    unsigned status = 400;
    if (!cJSON_IsObject(j)) {
        why = "body must be a JSON object";
        goto bad;
    }
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(j, "sid");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "report_status");
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(j, "errmsg");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "description");
    const cJSON *mob = cJSON_GetObjectItemCaseSensitive(j, "mobile");
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "url");
    long times = 1, delay = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, j) {
        static const char *const known[] = {"sid", "report_status", "errmsg", "description",
                                            "times", "delay_ms", "mobile", "url"};
        int ok = 0;
        for (size_t i = 0; i < HF_ARRAY_LEN(known); i++)
            ok |= strcmp(c->string, known[i]) == 0;
        if (!ok) {
            why = "unknown field";
            field = c->string;
            goto bad;
        }
    }
    if (!cJSON_IsString(sid) || !sid->valuestring[0]) {
        why = "sid must be a non-empty string";
        field = "sid";
        goto bad;
    }
    if (rs && (!cJSON_IsString(rs) || (strcmp(rs->valuestring, "SUCCESS") != 0 &&
                                       strcmp(rs->valuestring, "FAIL") != 0))) {
        why = "report_status must be SUCCESS or FAIL";
        field = "report_status";
        goto bad;
    }
    if ((em && !cJSON_IsString(em)) || (desc && !cJSON_IsString(desc)) ||
        (mob && !cJSON_IsString(mob)) || (url && !cJSON_IsString(url))) {
        why = "must be a string";
        field = em && !cJSON_IsString(em) ? "errmsg" : desc && !cJSON_IsString(desc) ? "description"
                : mob && !cJSON_IsString(mob) ? "mobile" : "url";
        goto bad;
    }
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(j, "times");
    if (tj && mock_json_long(tj, 1, TC_PUSH_TIMES_MAX, &times) != 0) {
        why = "times must be an integer 1..100";
        field = "times";
        goto bad;
    }
    const cJSON *dj = cJSON_GetObjectItemCaseSensitive(j, "delay_ms");
    if (dj && mock_json_long(dj, 0, MOCK_DELAY_MAX_MS, &delay) != 0) {
        why = "delay_ms must be an integer 0..600000";
        field = "delay_ms";
        goto bad;
    }
    const char *target = url ? url->valuestring : cfg_str(cfg, "status_url");
    if (!target || !target[0]) {
        why = "no url given and tencent.status_url is not configured";
        field = "url";
        goto bad;
    }
    char mobile[16] = "";
    pthread_mutex_lock(&tc.lock);
    const struct tc_send *s = sends_find(sid->valuestring);
    if (s)
        snprintf(mobile, sizeof mobile, "%s", s->mobile);
    pthread_mutex_unlock(&tc.lock);
    if (mob)
        snprintf(mobile, sizeof mobile, "%s", mob->valuestring);
    if (!mobile[0]) {
        status = 404;
        why = "unknown sid (give mobile to push it anyway)";
        field = "sid";
        goto bad;
    }
    int ok = !rs || strcmp(rs->valuestring, "SUCCESS") == 0;
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, receipt_item(sid->valuestring, mobile, clock_now() + delay / 1000, ok,
                                           em ? em->valuestring : NULL,
                                           desc ? desc->valuestring : NULL));
    for (long i = 0; i < times; i++)
        push_array(m, target, arr, delay + i * TC_PUSH_REPEAT_GAP_MS);
    cJSON_Delete(arr);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pushed", (double)times);
    cJSON_AddStringToObject(o, "sid", sid->valuestring);
    mock_resp_json(out, 200, o);
    cJSON_Delete(j);
    cJSON_Delete(cfg);
    return;
bad:
    mock_resp_error(out, status, why, field);
    cJSON_Delete(j);
    cJSON_Delete(cfg);
}

/* ===================================================================== */
/* Provider                                                                */
/* ===================================================================== */

static void tc_reset(struct mock *m)
{
    (void)m;
    pthread_mutex_lock(&tc.lock);
    tc.nsends = 0;
    tc.serial_seq = 0;
    pthread_mutex_unlock(&tc.lock);
}

static void tc_cleanup(struct mock *m)
{
    (void)m;
    pthread_mutex_lock(&tc.lock);
    free(tc.sends);
    tc.sends = NULL;
    tc.nsends = tc.capsends = 0;
    pthread_mutex_unlock(&tc.lock);
}

static const struct mock_route tencent_routes[] = {
    { "POST", "/tencent", MOCK_MATCH_TREE, MOCK_ROUTE_PROVIDER, handle_send },
    { "POST", "/_mock/tencent/push_status", MOCK_MATCH_EXACT, 0, handle_push_status },
    { NULL, NULL, 0, 0, NULL },
};

const struct mock_provider mock_tencent_provider = { "tencent", tencent_routes, tc_reset,
                                                     tc_cleanup };
