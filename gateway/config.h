/*
 * config.h - the daemon's JSON configuration file.
 *
 * The file is checked whole at start (and at SIGHUP): unknown keys, wrong
 * types, out-of-range values and missing files are errors that name the
 * file, the key and the reason, and the daemon refuses to start. Every
 * option lives in one table in config.c (name, type, bounds, default,
 * flags); the same table prints the effective configuration with secrets
 * shown as "***".
 *
 * Secrets (API token hashes are not secrets; provider keys and the survey
 * link secret are) may be given literally or as {"env": "VAR_NAME"}.
 * Relative paths are resolved against the directory of the config file.
 */
#ifndef HF_CONFIG_H
#define HF_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "windows.h"

/* Roles an API token may hold (bit set). */
enum api_role {
    ROLE_TRIGGER = 1 << 0, /* ERP / project managers: POST /v1/triggers */
    ROLE_CS = 1 << 1,      /* customer service: read results, handle tickets */
    ROLE_ADMIN = 1 << 2,   /* reload, tokens */
};

struct api_token {
    char *name;        /* who holds it, for logs ("erp") */
    unsigned roles;    /* enum api_role bits */
    char sha256[65];   /* hex SHA-256 of the bearer token; the token itself is never stored */
    char *staff_id;    /* optional: the staff member who holds it, for the PM page: their
                          staff id as in the reports (wecom_id, else phone, else name from
                          triggers' project.staff); NULL if none */
};

struct config {
    char *path;                      /* the file this was loaded from */
    char *dir;                       /* its directory, for relative paths */

    /* listen.* */
    char *listen_address;            /* IPv4 literal, default 127.0.0.1 */
    int listen_port;                 /* 0 = kernel picks (tests) */
    char *ready_file;                /* bound port written here once listening; NULL = none */
    int max_connections;             /* MHD connection limit */
    int connection_timeout_s;        /* idle connections are dropped after this */
    int64_t connection_memory_limit; /* MHD per-connection pool, bytes */
    int64_t max_body;                /* request body cap, bytes (413 above) */
    int max_connections_per_ip;      /* concurrent connections per client address; 0 = no limit */
    int public_rate;                 /* requests/s per client address on the public endpoints
                                        (survey pages, callbacks); 0 = no limit */
    int public_burst;                /* ... with bursts up to this many */

    char *public_url;                /* base of links sent to customers (survey pages) */
    char *timezone;                  /* IANA zone, default Asia/Shanghai */
    enum log_level log_level;

    /* store.* */
    char *database;                  /* SQLite file, or NULL with database_url */
    char *database_url;              /* postgresql://... (a secret: may hold a password) */
    int synchronous_full;            /* 1: synchronous=FULL (a 2xx survives power loss) */
    int64_t lease_ms;                /* PostgreSQL, several instances: how long a silent
                                        instance keeps its claims (cluster.h) */

    /* company.* */
    char *company_name;
    char *company_phone;
    char *opt_out_text;              /* campaigns: the opt-out line ("回复TD退订") */

    /* paths of the data the catalogue is made of */
    char *catalogue_path;            /* milestones JSON */
    char *holidays_path;             /* holiday calendar JSON */
    char *templates_dir;             /* templates/ root */

    /* windows.* */
    struct window_def win_survey;    /* survey follow-up windows, working days */
    struct window_def win_notice;    /* notice hours, any day */

    /* console.* (the web console and the PM page) */
    int64_t console_session_ttl_ms;  /* a session ends after this long unused; default 8h */

    struct api_token *tokens;        /* api_tokens[] */
    size_t ntokens;

    /* survey.* */
    char *survey_secret;             /* HMAC key for signed survey links (secret) */
    int64_t survey_validity_ms;      /* default 7 days */

    /* dispatch.* */
    int max_in_flight;               /* concurrent provider requests */
    int max_attempts;                /* per message, then failed */
    int64_t retry_base_ms;           /* first backoff */
    int64_t retry_max_ms;            /* backoff cap */
    int64_t notice_ttl_ms;           /* a notice not sent by due+ttl expires */
    int64_t receipt_grace_ms;        /* after a crash, an SMS that was in flight waits this
                                        long for its receipt before it is sent again */
    int batch_size;                  /* messages claimed per scheduler pass */

    /* outbound.* */
    int64_t connect_timeout_ms;
    int64_t request_timeout_ms;
    int64_t max_response;            /* provider response cap, bytes */
    int out_max_connections;
    int out_max_host_connections;

    /* channels.webhook.* */
    int webhook_enabled;
    char *webhook_url;
    char *webhook_secret;            /* HMAC key for X-Huifang-Signature (secret); NULL = unsigned */

    /* channels.wechat.* (Official Account template messages) */
    int wechat_enabled;
    char *wechat_base_url;           /* https://api.weixin.qq.com */
    char *wechat_appid;
    char *wechat_secret;             /* AppSecret (secret) */
    char *wechat_token_api;          /* "stable" (POST /cgi-bin/stable_token) or "plain" */
    int wechat_qps;                  /* our own request rate cap */

    /* channels.wecom.* (staff alerts) */
    int wecom_enabled;
    char *wecom_base_url;            /* https://qyapi.weixin.qq.com */
    char *wecom_corpid;
    char *wecom_secret;              /* the application's corpsecret (secret) */
    int wecom_agentid;
    int wecom_qps;

    /* channels.sms.* (whichever provider is configured) */
    char *sms_provider;              /* "none", "aliyun", "tencent" */
    char *sms_sign_name;             /* approved signature, without 【】 */
    int sms_qps;
    int sms_per_minute;              /* per mobile number; 0 = no limit */
    int sms_per_hour;
    int sms_per_day;
    int sms_extend_digits;           /* per-survey extension code length, 0 = off (needs the
                                        provider account's 扩展码 enabled) */

    /* channels.aliyun.* (dysmsapi 2017-05-25) */
    char *aliyun_base_url;           /* https://dysmsapi.aliyuncs.com */
    char *aliyun_key_id;
    char *aliyun_key_secret;         /* (secret) */
    char *aliyun_signature;          /* "v3" (ACS3-HMAC-SHA256) or "v1" (HMAC-SHA1 RPC) */

    /* channels.tencent.* (SMS API 3.0, 2021-01-11) */
    char *tencent_base_url;          /* https://sms.tencentcloudapi.com */
    char *tencent_secret_id;
    char *tencent_secret_key;        /* (secret) */
    char *tencent_sdk_app_id;
    char *tencent_region;            /* ap-guangzhou */

    char *wechat_callback_token;     /* channels.wechat.callback_token: the 令牌 of 服务器配置 (secret) */
    char *wechat_aes_key;            /* channels.wechat.encoding_aes_key: 43 chars, secure mode (secret) */

    /* surveys / tickets / staff */
    char *surveys_dir;               /* survey definitions (templates/surveys) */
    int ticket_threshold;            /* tickets.score_threshold: a score at or below opens a ticket */
    int64_t ticket_report_ms;        /* tickets.report_within: internal report due (2 h) */
    int64_t ticket_answer_ms;        /* tickets.answer_within: answer to the customer due (48 h) */
    int64_t ticket_followup_ms;      /* tickets.followup_after: satisfaction follow-up after resolve */
    char *cs_manager_name;           /* staff.cs_manager.*: who gets complaint alerts and escalations */
    char *cs_manager_wecom_id;
    char *cs_manager_phone;

    /* callbacks.* (provider pushes: receipts, replies) */
    char *callback_token;            /* path segment that proves a push is meant for us (secret) */
};

/* Load and check @path. On success returns a config; on failure NULL and
 * @err holds "file: key: reason". Caller owns the result; free with
 * config_free(). Not for loop callbacks (reads a file). */
struct config *config_load(const char *path, char *err, size_t errlen);
/* What store_open() opens: store.url (PostgreSQL) or store.path (SQLite).
 * Borrowed from @c. Never log it: the URL may hold a password. */
const char *config_store_location(const struct config *c);
/* Largest config file accepted, in bytes. */
#define CONFIG_MAX_BYTES (1 << 20)
/* The same from @len bytes of @text (need not be NUL-terminated; borrowed)
 * that were read from @path: @path names the file in errors and anchors
 * relative paths, and the files the config names must exist. Used by
 * config_load() and the config fuzzer. Caller owns the result; free with
 * config_free(). */
struct config *config_parse(const char *path, const char *text, size_t len, char *err,
                            size_t errlen);
void config_free(struct config *c);

/* Print the effective configuration as "key = value" lines, secrets as
 * "***". */
void config_print(const struct config *c, FILE *out);

/* Find the token whose SHA-256 matches @bearer (constant-time compare of
 * the hashes). Returns it (borrowed) or NULL. */
const struct api_token *config_find_token(const struct config *c, const char *bearer);

#endif
