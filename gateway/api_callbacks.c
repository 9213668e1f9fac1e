/*
 * api_callbacks.c - pushes from the providers: SMS delivery receipts.
 *
 *   POST /callbacks/<callbacks.token>/aliyun/report   Aliyun SmsReport (JSON array)
 *   POST /callbacks/<callbacks.token>/tencent/status  Tencent status callback (JSON array)
 *
 *   POST /callbacks/<callbacks.token>/aliyun/reply    Aliyun SmsUp (JSON array)
 *   POST /callbacks/<callbacks.token>/tencent/reply   Tencent reply callback (JSON object)
 *
 * Replies are answers (answers.c): joined to the sender's newest open
 * survey by mobile number, or kept for customer service when there is
 * none; TD/退订 opts the number out.
 *
 * Neither provider signs its pushes (PROTOCOLS C8, D5), so the URL itself
 * carries a secret path segment; a wrong or missing one is answered 404
 * like any unknown path. Each receipt is joined to its message (Aliyun by
 * out_id = "hf-<id>", else biz_id; Tencent by sid = SerialNo), stored once
 * (the same receipt again changes nothing) and settles the message as
 * delivered or failed with the operator's code. A receipt for an unknown
 * message is logged and still answered as accepted, so the provider stops
 * repeating it. Every push is committed before it is answered.
 */
#include "answers.h"
#include "api.h"
#include "gateway.h"
#include "http_error.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum provider { PROV_ALIYUN = 0, PROV_TENCENT };

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Parse "hf-<id>" into an id, or -1. */
static int64_t dedup_id_parse(const char *s)
{
    if (!s || strncmp(s, "hf-", 3) != 0 || !s[3])
        return -1;
    char *end;
    long long v = strtoll(s + 3, &end, 10);
    return *end == '\0' && v > 0 ? v : -1;
}

/* Fill @r from one receipt element. 0, or -1 when it is not a receipt. */
static int receipt_from(struct gateway *gw, enum provider p, const cJSON *el,
                        struct receipt_rec *r, char key[65])
{
    if (!cJSON_IsObject(el))
        return -1;
    char *canon = cJSON_PrintUnformatted(el);
    sha256_hex(canon, strlen(canon), key);
    free(canon);
    memset(r, 0, sizeof *r);
    r->dedup_key = key;
    r->message_id = -1;
    if (p == PROV_ALIYUN) {
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(el, "success");
        if (!cJSON_IsBool(ok))
            return -1;
        r->provider = "aliyun";
        r->delivered = cJSON_IsTrue(ok);
        r->code = str(el, "err_code");
        r->detail = str(el, "err_msg");
        r->message_id = dedup_id_parse(str(el, "out_id"));
        if (r->message_id > 0 && !store_message_on_channel(gw->store, r->message_id, "sms"))
            r->message_id = -1; /* our shape, but no such SMS: look it up by biz_id */
        r->ref = str(el, "out_id") ? str(el, "out_id") : str(el, "biz_id");
        if (r->message_id < 0 && str(el, "biz_id"))
            r->message_id = store_message_by_provider_id(gw->store, str(el, "biz_id"), "sms");
    } else {
        const char *status = str(el, "report_status");
        if (!status)
            return -1;
        r->provider = "tencent";
        r->delivered = strcmp(status, "SUCCESS") == 0;
        r->code = str(el, "errmsg");
        r->detail = str(el, "description");
        r->ref = str(el, "sid");
        if (str(el, "sid"))
            r->message_id = store_message_by_provider_id(gw->store, str(el, "sid"), "sms");
    }
    return 0;
}

static void answer(struct http_response *resp, enum provider p, int ok, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    if (p == PROV_ALIYUN) {
        cJSON_AddNumberToObject(o, "code", ok ? 0 : 1);
        cJSON_AddStringToObject(o, "msg", ok ? "接收成功" : why);
    } else {
        cJSON_AddNumberToObject(o, "result", ok ? 0 : 1);
        cJSON_AddStringToObject(o, "errmsg", ok ? "OK" : why);
    }
    resp->status = ok ? 200 : 400;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
}

static enum http_result receipts(struct gateway *gw, enum provider p, struct http_request *req,
                                 struct http_response *resp)
{
    if (!utf8_valid(req->body.data, req->body.len)) {
        answer(resp, p, 0, "body is not valid UTF-8");
        return HTTP_DONE;
    }
    cJSON *arr = cJSON_ParseWithLength(req->body.data, req->body.len);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        answer(resp, p, 0, "body must be a JSON array of receipts");
        return HTTP_DONE;
    }
    int64_t now = clock_now();
    int ok = store_begin(gw->store) == HF_OK;
    struct buf logs; /* written once the receipts are committed */
    buf_init(&logs);
    uint64_t delivered = 0, failed = 0, dup = 0, unknown = 0;
    char unknown_refs[16][96];
    const cJSON *el;
    cJSON_ArrayForEach(el, arr) {
        if (!ok)
            break;
        struct receipt_rec r;
        char key[65];
        if (receipt_from(gw, p, el, &r, key) != 0) {
            LOG_WARN("receipts", "provider=%s skipped an element that is not a receipt",
                     p == PROV_ALIYUN ? "aliyun" : "tencent");
            continue;
        }
        int applied = 0;
        if (store_receipt_apply(gw->store, &r, now, &applied) != HF_OK) {
            ok = 0;
            break;
        }
        if (r.message_id < 0) {
            if (unknown < HF_ARRAY_LEN(unknown_refs))
                snprintf(unknown_refs[unknown], sizeof unknown_refs[0], "%.48s code=%.32s",
                         r.ref ? r.ref : "-", r.code ? r.code : "-");
            unknown++;
        } else if (applied) {
            if (r.delivered)
                delivered++;
            else
                failed++;
            if (logs.len < 4096)
                buf_printf(&logs, "message=%lld state=%s code=%.32s; ", (long long)r.message_id,
                           r.delivered ? "delivered" : "failed", r.code ? r.code : "-");
        } else {
            dup++;
        }
    }
    cJSON_Delete(arr);
    if (ok && store_commit(gw->store) != HF_OK)
        ok = 0;
    if (ok) {
        gw->metrics.receipts_delivered += delivered;
        gw->metrics.receipts_failed += failed;
        gw->metrics.receipts_duplicate += dup;
        gw->metrics.receipts_unknown += unknown;
        const char *prov = p == PROV_ALIYUN ? "aliyun" : "tencent";
        if (logs.len)
            LOG_INFO("receipts", "provider=%s %s", prov, logs.data);
        for (uint64_t i = 0; i < unknown && i < HF_ARRAY_LEN(unknown_refs); i++)
            LOG_WARN("receipts", "provider=%s receipt for an unknown message ref=%s", prov,
                     unknown_refs[i]);
    }
    buf_cleanup(&logs);
    if (!ok) {
        store_rollback(gw->store);
        /* Not stored: a non-zero answer makes the provider push again. */
        answer(resp, p, 0, "temporarily unavailable");
        resp->status = 503;
        return HTTP_DONE;
    }
    answer(resp, p, 1, NULL);
    return HTTP_DONE;
}

/* One SMS reply; 0, or -1 when it could not be stored (answer non-zero so
 * the provider pushes it again). */
static int one_reply(struct gateway *gw, const cJSON *el, const char *mobile_key,
                     const char *text_key, const char *extend_key)
{
    const char *mobile = str(el, mobile_key), *text = str(el, text_key);
    const char *extend = str(el, extend_key);
    char norm[12];
    if (!mobile || !text || !mobile_normalize(mobile, norm)) {
        LOG_WARN("replies", "skipped a reply without a mainland mobile number or text");
        return 0;
    }
    char *canon = cJSON_PrintUnformatted(el);
    char key[72] = "sms:";
    sha256_hex(canon, strlen(canon), key + 4);
    free(canon);
    struct reply parsed;
    int64_t sid;
    enum answer_outcome out =
        answers_from_reply(gw, "sms", norm, NULL, text, extend, key, &parsed, &sid);
    /* cppcheck-suppress variableScope ; only used inside LOG_INFO's level check */
    char masked[24];
    LOG_INFO("replies", "sms reply from=%s kind=%s survey=%lld outcome=%d",
             log_mask_phone(norm, masked), reply_kind_name(parsed.kind), (long long)sid, out);
    return out == ANSWER_ERROR ? -1 : 0;
}

static enum http_result replies(struct gateway *gw, enum provider p, struct http_request *req,
                                struct http_response *resp)
{
    /* A reply is customer text that staff read and export: a push that
     * is not UTF-8 is malformed, refused whole, and nothing is stored. */
    if (!utf8_valid(req->body.data, req->body.len)) {
        answer(resp, p, 0, "body is not valid UTF-8");
        return HTTP_DONE;
    }
    cJSON *doc = cJSON_ParseWithLength(req->body.data, req->body.len);
    int ok = 1;
    if (p == PROV_ALIYUN && cJSON_IsArray(doc)) {
        const cJSON *el;
        cJSON_ArrayForEach(el, doc)
            if (cJSON_IsObject(el) && one_reply(gw, el, "phone_number", "content", "dest_code") != 0)
                ok = 0;
    } else if (p == PROV_TENCENT && cJSON_IsObject(doc)) {
        ok = one_reply(gw, doc, "mobile", "text", "extend") == 0;
    } else {
        cJSON_Delete(doc);
        answer(resp, p, 0, p == PROV_ALIYUN ? "body must be a JSON array of replies"
                                            : "body must be a JSON object");
        return HTTP_DONE;
    }
    cJSON_Delete(doc);
    answer(resp, p, ok, "temporarily unavailable");
    if (!ok)
        resp->status = 503;
    return HTTP_DONE;
}

enum http_result api_post_callback(struct gateway *gw, struct http_request *req,
                                   struct http_response *resp)
{
    /* path_tail: "<token>/<provider>/<kind>" */
    const char *tail = req->path_tail;
    const char *slash = strchr(tail, '/');
    const char *want = gw->cfg->callback_token;
    size_t toklen = slash ? (size_t)(slash - tail) : 0;
    if (!want || !slash || toklen != strlen(want) || !ct_equal(tail, want, toklen)) {
        resp->status = 404;
        resp->body = api_error_body("not_found", NULL, "no such endpoint");
        return HTTP_DONE;
    }
    if (strcmp(slash, "/aliyun/report") == 0)
        return receipts(gw, PROV_ALIYUN, req, resp);
    if (strcmp(slash, "/tencent/status") == 0)
        return receipts(gw, PROV_TENCENT, req, resp);
    if (strcmp(slash, "/aliyun/reply") == 0)
        return replies(gw, PROV_ALIYUN, req, resp);
    if (strcmp(slash, "/tencent/reply") == 0)
        return replies(gw, PROV_TENCENT, req, resp);
    resp->status = 404;
    resp->body = api_error_body("not_found", NULL, "no such endpoint");
    return HTTP_DONE;
}
