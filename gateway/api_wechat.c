/*
 * api_wechat.c - the WeChat Official Account server callback (服务器配置).
 *
 *   GET  /wechat/callback?signature&timestamp&nonce&echostr   URL verification
 *   POST /wechat/callback?signature&timestamp&nonce[&encrypt_type=aes&msg_signature]
 *
 * Every request is checked against channels.wechat.callback_token (plain
 * signature; in secure mode also msg_signature over the Encrypt value,
 * before anything is decrypted) and a timestamp within 5 minutes; a
 * forged or stale one gets 403 and nothing is stored. WeChat repeats a
 * message it got no answer to within 5 seconds up to three times: text
 * messages are deduplicated by MsgId, events by sender and CreateTime.
 *
 * Text from a customer becomes an answer to their open survey
 * (answers.c) and gets a short passive reply; subscribe / unsubscribe
 * update the customer's reachability; TEMPLATESENDJOBFINISH settles the
 * template message (a failure falls back to SMS).
 */
#include "answers.h"
#include "adapter.h"
#include "api.h"
#include "dispatch.h"
#include "gateway.h"
#include "http_error.h"
#include "log.h"
#include "wechat_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WX_SKEW_S 300

static enum http_result deny(struct http_response *resp, int status, const char *why)
{
    resp->status = status;
    resp->body = api_error_body(status == 404 ? "not_found" : "forbidden", NULL, why);
    return HTTP_DONE;
}

/* Plain signature and timestamp check shared by GET and POST. */
static int verified(struct gateway *gw, struct http_request *req, struct http_response *resp)
{
    const char *token = gw->cfg->wechat_callback_token;
    if (!token) {
        deny(resp, 404, "no such endpoint");
        return 0;
    }
    const char *sig = http_request_arg(req, "signature");
    const char *ts = http_request_arg(req, "timestamp");
    const char *nonce = http_request_arg(req, "nonce");
    if (!sig || !ts || !nonce) {
        deny(resp, 403, "signature, timestamp and nonce are required");
        return 0;
    }
    const char *parts[] = {token, ts, nonce};
    if (!wx_signature_ok(parts, 3, sig)) {
        LOG_WARN("wechat", "callback with a bad signature refused");
        deny(resp, 403, "bad signature");
        return 0;
    }
    char *end;
    long long t = strtoll(ts, &end, 10);
    long long skew = t - (long long)clock_now();
    if (*end || skew > WX_SKEW_S || skew < -WX_SKEW_S) {
        LOG_WARN("wechat", "callback with a stale timestamp refused skew_s=%lld", skew);
        deny(resp, 403, "stale timestamp");
        return 0;
    }
    return 1;
}

enum http_result api_wechat_get(struct gateway *gw, struct http_request *req,
                                struct http_response *resp)
{
    if (!verified(gw, req, resp))
        return HTTP_DONE;
    const char *echostr = http_request_arg(req, "echostr");
    if (!echostr)
        return deny(resp, 403, "echostr is required");
    resp->status = 200;
    resp->body = xstrdup(echostr); /* verbatim, the whole body */
    resp->content_type = "text/plain; charset=utf-8";
    return HTTP_DONE;
}

/* TEMPLATESENDJOBFINISH: the template message's delivery result. */
static void template_finished(struct gateway *gw, const struct wx_msg *m)
{
    int64_t id = store_message_by_provider_id(gw->store, m->msg_id_event, "wechat");
    int ok = strcmp(m->status, "success") == 0;
    struct store *s = gw->store;
    int64_t now = clock_now();
    char key[128];
    snprintf(key, sizeof key, "%s:%s", m->msg_id_event, m->status);
    struct receipt_rec r = {
        .provider = "wechat", .dedup_key = key, .message_id = id, .delivered = ok,
        .code = m->status, .detail = ok ? NULL : "template message not delivered",
        .ref = m->msg_id_event,
    };
    const struct channel_adapter *sms = adapter_for_channel(gw->cfg, "sms");
    /* Still a WeChat message (a repeated callback finds it moved to SMS). */
    int fallback = !ok && id > 0 && sms && sms->enabled(gw->cfg) &&
                   store_message_on_channel(s, id, "wechat");
    if (fallback)
        r.message_id = -1; /* kept for the record; the message moves to SMS, not to failed */
    int applied = 0;
    if (store_begin(s) != HF_OK)
        return;
    int rc = store_receipt_apply(s, &r, now, &applied);
    if (rc == HF_OK && fallback)
        rc = store_message_fallback(s, id, "sms", "wechat", now, now);
    if (rc != HF_OK || store_commit(s) != HF_OK) {
        store_rollback(s);
        return;
    }
    LOG_INFO("wechat", "template finished message=%lld status=\"%s\"%s", (long long)id,
             m->status, fallback ? " fallback=sms" : "");
    if (fallback)
        dispatch_kick(gw->disp);
}

/* The passive reply to a customer's text. */
static const char *reply_text(enum answer_outcome out, const struct reply *r, char *buf,
                              size_t n, const char *phone)
{
    switch (out) {
    case ANSWER_STORED:
        if (r->kind == REPLY_SCORE || r->kind == REPLY_SATISFACTION)
            snprintf(buf, n, "谢谢您的评价（%d分），我们已记录。如有其他意见，欢迎直接回复。",
                     r->score);
        else if (r->kind == REPLY_TEXT)
            snprintf(buf, n, "谢谢，您的意见已记录，客服会尽快处理。如需评分，请直接回复1-10的数字。");
        else if (r->kind == REPLY_BUSY)
            snprintf(buf, n, "好的，不打扰您了，我们稍后再联系您。");
        else
            snprintf(buf, n, "谢谢您的回复，我们已记录。");
        return buf;
    case ANSWER_UNMATCHED:
        snprintf(buf, n, "您好，已收到您的留言，客服会尽快与您联系。客服电话：%s", phone);
        return buf;
    case ANSWER_OPTED_OUT:
        return "已为您退订回访消息。";
    case ANSWER_CLOSED:
        snprintf(buf, n, "该回访已结束，如有问题请拨打客服电话：%s", phone);
        return buf;
    case ANSWER_DUPLICATE:
    case ANSWER_ERROR:
        break;
    }
    return NULL;
}

enum http_result api_wechat_post(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp)
{
    if (!verified(gw, req, resp))
        return HTTP_DONE;
    const char *token = gw->cfg->wechat_callback_token;
    const char *ts = http_request_arg(req, "timestamp");
    const char *nonce = http_request_arg(req, "nonce");
    const char *etype = http_request_arg(req, "encrypt_type");
    int secure = etype && strcmp(etype, "aes") == 0;
    unsigned char key[32];
    char err[256];
    struct wx_msg outer = {0}, m = {0};
    if (wx_xml_parse(req->body.data, req->body.len, &outer, err, sizeof err) != 0) {
        resp->status = 400;
        resp->body = api_error_body("invalid_xml", NULL, err);
        return HTTP_DONE;
    }
    if (secure) {
        const char *msig = http_request_arg(req, "msg_signature");
        const char *parts[] = {token, ts, nonce, outer.encrypt ? outer.encrypt : ""};
        char *plain = NULL;
        size_t plen = 0;
        if (!gw->cfg->wechat_aes_key || wx_aes_key(gw->cfg->wechat_aes_key, key) != 0 ||
            !outer.encrypt || !msig || !wx_signature_ok(parts, 4, msig)) {
            wx_msg_cleanup(&outer);
            LOG_WARN("wechat", "secure-mode callback with a bad msg_signature refused");
            return deny(resp, 403, "bad msg_signature");
        }
        if (wx_decrypt(key, outer.encrypt, gw->cfg->wechat_appid ? gw->cfg->wechat_appid : "",
                       &plain, &plen, err, sizeof err) != 0 ||
            wx_xml_parse(plain, plen, &m, err, sizeof err) != 0) {
            free(plain);
            wx_msg_cleanup(&outer);
            resp->status = 400;
            resp->body = api_error_body("invalid_message", NULL, err);
            return HTTP_DONE;
        }
        free(plain);
    } else {
        m = outer;
        memset(&outer, 0, sizeof outer);
    }
    wx_msg_cleanup(&outer);

    const char *answer_text = NULL;
    /* cppcheck-suppress variableScope ; answer_text may point into buf after the branches */
    char buf[512];
    int failed = 0;
    if (strcmp(m.msg_type, "text") == 0) {
        char dedup[80];
        snprintf(dedup, sizeof dedup, "wechat:%s", m.msg_id[0] ? m.msg_id : m.from_user);
        struct reply parsed;
        int64_t sid;
        enum answer_outcome out = answers_from_reply(gw, "wechat", NULL, m.from_user, m.content, NULL,
                                                     m.msg_id[0] ? dedup : NULL, &parsed, &sid);
        failed = out == ANSWER_ERROR;
        answer_text = reply_text(out, &parsed, buf, sizeof buf, gw->cfg->company_phone);
    } else if (strcmp(m.msg_type, "event") == 0) {
        if (strcmp(m.event, "subscribe") == 0 || strcmp(m.event, "unsubscribe") == 0) {
            int sub = strcmp(m.event, "subscribe") == 0;
            if (store_begin(gw->store) == HF_OK &&
                store_customer_wechat_subscribed(gw->store, m.from_user, sub, clock_now()) ==
                    HF_OK &&
                store_commit(gw->store) == HF_OK)
                LOG_INFO("wechat", "event=%s", m.event);
            else
                store_rollback(gw->store), failed = 1;
        } else if (strcmp(m.event, "TEMPLATESENDJOBFINISH") == 0) {
            template_finished(gw, &m);
        }
    }
    if (failed) {
        /* No answer: WeChat repeats the message, and it is stored then. */
        wx_msg_cleanup(&m);
        resp->status = 503;
        resp->body = api_error_body("store_unavailable", NULL, "retry");
        return HTTP_DONE;
    }
    char *plain_reply = answer_text ? wx_reply_text(m.from_user, m.to_user, clock_now(),
                                                    answer_text)
                                    : NULL;
    wx_msg_cleanup(&m);
    resp->status = 200;
    if (!plain_reply) {
        resp->body = xstrdup("success"); /* nothing to say: WeChat's "no reply" */
        resp->content_type = "text/plain; charset=utf-8";
    } else if (secure) {
        resp->body = wx_reply_secure(key, token, gw->cfg->wechat_appid, plain_reply, clock_now(),
                                     nonce, NULL);
        free(plain_reply);
        if (!resp->body)
            resp->body = xstrdup("success");
        resp->content_type = "application/xml; charset=utf-8";
    } else {
        resp->body = plain_reply;
        resp->content_type = "application/xml; charset=utf-8";
    }
    return HTTP_DONE;
}
