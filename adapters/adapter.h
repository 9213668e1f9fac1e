/*
 * adapter.h - the channel adapter interface.
 *
 * Each channel (webhook now; WeChat, WeCom, Aliyun SMS, Tencent SMS next)
 * is one file exporting a const struct channel_adapter. Adapters never
 * touch the event loop, curl or the store: they turn a rendered message
 * into an HTTP request description, and the provider's answer into a
 * send_result. outbound.c does the I/O, dispatch.c the bookkeeping.
 */
#ifndef HF_ADAPTER_H
#define HF_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "util.h"

#define HTTP_REQ_MAX_HEADERS 12

/* An outbound HTTP request. All strings are heap-owned by the struct;
 * http_req_cleanup() frees them. */
struct http_req {
    char *method;                          /* "POST" */
    char *url;
    char *headers[HTTP_REQ_MAX_HEADERS];   /* "Name: value" */
    int nheaders;
    char *body;
    size_t body_len;
};

void http_req_init(struct http_req *r);
void http_req_cleanup(struct http_req *r);
/* Append a header line built with printf. Asserts on overflow (programmer
 * error: adapters know how many headers they add). */
void http_req_add_header(struct http_req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The answer to an outbound request, as outbound.c saw it. */
struct http_resp {
    int transport_error;   /* 1 if no HTTP answer (connect, timeout, reset, too big) */
    int timed_out;         /* 1 when the transport error was a timeout */
    int cancelled;         /* 1 at shutdown: the request was abandoned, not answered */
    const char *error;     /* transport error text, or NULL */
    long status;           /* HTTP status, 0 on transport errors */
    const char *body;      /* NUL-terminated, may be empty */
    size_t body_len;
};

/* A message as the adapter sees it. Everything is borrowed for the
 * duration of the call. */
struct out_msg {
    int64_t id;                 /* our message id; also the provider-side dedup id */
    const char *kind;           /* "notice" | "survey" | "alert" */
    const char *milestone;      /* "completion" */
    const char *message;        /* "survey" (the catalogue's message id) */
    const char *channel;        /* the channel this attempt goes through */
    int attempt;                /* 1 for the first try */
    const cJSON *recipient;     /* {"role","name","title","mobile","wechat_openid","wecom_id"} */
    const cJSON *project;       /* {"id","address"} */
    const cJSON *rendered;      /* msg_template_render() output: text, sms, wechat */
    const char *survey_link;    /* or NULL */
    const char *extend_code;    /* SMS surveys with channels.sms.extend_code_digits: the
                                   per-survey upstream extension code, else NULL */
    const char *access_token;   /* for token providers (WeChat, WeCom); NULL otherwise */
    int64_t now;                /* UTC seconds, for request timestamps and signatures */
    const char *nonce;          /* 32 random hex chars, unique per request */
};

enum send_outcome {
    SEND_OK = 0,         /* the provider accepted the message */
    SEND_RETRY,          /* transient: try again after a backoff */
    SEND_FAIL,           /* permanent: record the provider's code, stop */
    SEND_UNREACHABLE,    /* this channel cannot reach the user: fall back */
    SEND_DEFER,          /* provider limit: try again at defer_until, no attempt counted as failure */
    SEND_TOKEN_INVALID,  /* the access token was refused (40001/40014/42001): refresh, resend once */
};

struct send_result {
    enum send_outcome outcome;
    char code[64];          /* provider's code ("OK", "isv.MOBILE_NUMBER_ILLEGAL", "http_500") */
    char provider_id[96];   /* provider's message id (BizId, msgid, ...) */
    char request_id[64];    /* provider's id of this request (Aliyun/Tencent RequestId), for support */
    char detail[192];       /* human-readable reason; never contains secrets */
    int64_t defer_until;    /* for SEND_DEFER: UTC seconds, 0 = backoff */
};

struct channel_adapter {
    const char *name;     /* adapter name, stored on every attempt: "aliyun_sms" */
    const char *channel;  /* logical channel stored on messages: "wechat", "wecom", "sms",
                             "webhook" (Aliyun and Tencent are both "sms") */
    /* 1 if the config enables this channel. */
    int (*enabled)(const struct config *cfg);
    /* 1 if this channel can reach @recipient (e.g. it has a mobile). */
    int (*can_reach)(const struct config *cfg, const cJSON *recipient);
    /* Build the provider request for @m. Returns 0, or -1 with @err set
     * (a permanent failure: the message cannot be expressed for this
     * provider). */
    int (*build_request)(const struct config *cfg, const struct out_msg *m, struct http_req *req,
                         char *err, size_t errlen);
    /* Classify the provider's answer. Never fails. */
    void (*parse_response)(const struct config *cfg, const struct out_msg *m,
                           const struct http_resp *resp, struct send_result *res);

    /* Providers that need an access token (WeChat, WeCom); NULL otherwise.
     * token_request builds the token fetch (@force: WeChat stable_token
     * force_refresh=true); token_parse reads the answer into @token
     * (NUL-terminated, < @toklen) and its lifetime in seconds, or returns
     * -1 with @err set and *retryable = 1 for a transient failure (busy,
     * network) or 0 for a configuration error (bad AppSecret). */
    int (*token_request)(const struct config *cfg, int force, struct http_req *req, char *err,
                         size_t errlen);
    int (*token_parse)(const struct config *cfg, const struct http_resp *resp, char *token,
                       size_t toklen, int64_t *expires_in, int *retryable, char *err,
                       size_t errlen);
};

/* The adapter that serves logical @channel under @cfg ("sms" -> the
 * configured SMS provider), or NULL. */
const struct channel_adapter *adapter_for_channel(const struct config *cfg, const char *channel);

/* The registry: every compiled-in adapter. */
const struct channel_adapter *adapter_find(const char *name);
extern const struct channel_adapter *const adapter_registry[];
extern const size_t adapter_registry_len;

/* Shared classification of plain HTTP outcomes (transport error, 429,
 * 5xx -> retry; other 4xx -> permanent) for adapters whose provider speaks
 * status codes. Fills @res and returns 1 when it decided, 0 for 2xx. */
int adapter_classify_http(const struct http_resp *resp, struct send_result *res);

extern const struct channel_adapter webhook_adapter;
extern const struct channel_adapter wechat_adapter;      /* wechat.c */
extern const struct channel_adapter wecom_adapter;       /* wecom.c */
extern const struct channel_adapter aliyun_sms_adapter;  /* aliyun_sms.c */
extern const struct channel_adapter tencent_sms_adapter; /* tencent_sms.c */

/* Percent-encoding of Aliyun's signatures and of query strings (RFC 3986
 * unreserved kept, everything else %XX upper-case, space as %20). Appends
 * to @out. */
void adapter_pct_encode(struct buf *out, const char *s);
/* @base without trailing slashes, then @path. Caller owns; free(). */
char *adapter_url_join(const char *base, const char *path);
/* A non-empty string member of @o, or NULL. Borrowed. */
const char *adapter_str(const cJSON *o, const char *key);
/* A provider's numeric "errcode" item @ec as a long in *code: 0, or -1
 * when @ec is not a number, or not a whole one within +-2^53 (1e300, 0.5):
 * an unreadable answer. Never casts out of range (undefined behaviour). */
int adapter_errcode(const cJSON *ec, long *code);
/* Copy a provider's message for an error text: control characters become
 * spaces, and nothing is copied if it contains @secret (a provider that
 * echoes its parameters must not leak a secret into logs). */
void adapter_copy_sanitized(char *out, size_t outlen, const char *s, const char *secret);
/* The next 00:00 in Beijing (UTC+8) strictly after @now, UTC seconds:
 * providers' daily quotas start over then. */
int64_t adapter_next_beijing_midnight(int64_t now);
/* Read a WeChat-family token answer ({"access_token","expires_in"} or
 * {"errcode","errmsg"}) for token_parse: errcodes in @retry_codes (busy,
 * quotas) are retryable, others need a person (@hint names them). */
int adapter_token_answer(const char *provider, const struct http_resp *resp, const char *secret,
                         const long *retry_codes, size_t nretry, const char *(*hint)(long code),
                         char *token, size_t toklen, int64_t *expires_in, int *retryable,
                         char *err, size_t errlen);

/* "hf-<id>": the provider-side dedup id of a message (client_msg_id,
 * OutId, SessionContext, Idempotency-Key). @out needs 32 bytes. */
void adapter_dedup_id(int64_t id, char out[32]);

#endif
