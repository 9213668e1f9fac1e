/*
 * config.c - table-driven loading and checking of the JSON config file.
 *
 * One table (opts[]) names every option by its dotted path. The loader
 * walks the JSON tree: a key that is an option is parsed by its type; a
 * key that is a prefix of options must be an object and is walked; any
 * other key is an error. A reload (SIGHUP) builds a fresh struct config
 * and the caller swaps it only when the whole file was valid.
 */
#include "config.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

enum cfg_type {
    CFG_BOOL = 0,
    CFG_INT,      /* int, with min/max */
    CFG_SIZE,     /* int64 bytes, with min/max */
    CFG_DURATION, /* int64 ms: "30s", "5m", "7d", or a number of seconds */
    CFG_STRING,
    CFG_PATH,     /* string, resolved against the config file's directory */
    CFG_URL,      /* http:// or https:// string */
    CFG_SECRET,   /* string or {"env": "NAME"} */
    CFG_ADDR,     /* IPv4 literal */
    CFG_ZONE,     /* IANA time zone */
    CFG_LOGLEVEL,
    CFG_SYNC,     /* "full" | "normal" */
    CFG_WINDOW,   /* ["10:30-11:40", ...] */
    CFG_TOKENS,   /* [{"name","roles":[..],"sha256"}] */
};

#define CFG_REQUIRED (1u << 0)
#define CFG_NULLABLE (1u << 1) /* a default of NULL is fine */

struct cfg_opt {
    const char *name;   /* dotted path in the file */
    enum cfg_type type;
    unsigned flags;
    size_t off;         /* offset of the field in struct config */
    int64_t min, max;   /* for INT, SIZE, DURATION (ms) */
    const char *def;    /* default as it would be written in the file; NULL = none */
    const char *choices;/* CFG_STRING: allowed values separated by '|', or NULL */
};

#define F(field) offsetof(struct config, field)
#define KIB 1024LL
#define MIB (1024LL * 1024)
#define DAY_MS (86400LL * 1000)

static const struct cfg_opt opts[] = {
    {"listen.address", CFG_ADDR, 0, F(listen_address), 0, 0, "127.0.0.1", NULL},
    {"listen.port", CFG_INT, 0, F(listen_port), 0, 65535, "8080", NULL},
    {"listen.ready_file", CFG_PATH, CFG_NULLABLE, F(ready_file), 0, 0, NULL, NULL},
    {"listen.max_connections", CFG_INT, 0, F(max_connections), 4, 60000, "1024", NULL},
    {"listen.connection_timeout", CFG_DURATION, 0, F(connection_timeout_s), 1000, 3600000, "30s", NULL},
    {"listen.connection_memory_limit", CFG_SIZE, 0, F(connection_memory_limit), 8 * KIB, 16 * MIB,
     "131072", NULL},
    {"listen.max_body", CFG_SIZE, 0, F(max_body), 1 * KIB, 16 * MIB, "65536", NULL},
    {"listen.max_connections_per_ip", CFG_INT, 0, F(max_connections_per_ip), 0, 60000, "128", NULL},
    {"listen.public_rate", CFG_INT, 0, F(public_rate), 0, 100000, "50", NULL},
    {"listen.public_burst", CFG_INT, 0, F(public_burst), 1, 100000, "200", NULL},
    {"public_url", CFG_URL, 0, F(public_url), 0, 0, "http://127.0.0.1:8080", NULL},
    {"timezone", CFG_ZONE, 0, F(timezone), 0, 0, "Asia/Shanghai", NULL},
    {"log_level", CFG_LOGLEVEL, 0, F(log_level), 0, 0, "info", NULL},
    /* One of store.path (SQLite) and store.url (PostgreSQL); checked below. */
    {"store.path", CFG_PATH, CFG_NULLABLE, F(database), 0, 0, NULL, NULL},
    {"store.url", CFG_SECRET, CFG_NULLABLE, F(database_url), 0, 0, NULL, NULL},
    {"store.synchronous", CFG_SYNC, 0, F(synchronous_full), 0, 0, "full", NULL},
    /* At least a few 1 s lease renewals long; at most what a crashed
     * instance's customers may reasonably wait. */
    {"store.lease", CFG_DURATION, 0, F(lease_ms), 3000, 600000, "30s", NULL},
    {"company.name", CFG_STRING, CFG_REQUIRED, F(company_name), 0, 0, NULL, NULL},
    {"company.phone", CFG_STRING, CFG_REQUIRED, F(company_phone), 0, 0, NULL, NULL},
    {"campaign.opt_out_text", CFG_STRING, 0, F(opt_out_text), 0, 0, "回复TD退订", NULL},
    {"catalogue", CFG_PATH, 0, F(catalogue_path), 0, 0, "milestones.json", NULL},
    {"holidays", CFG_PATH, 0, F(holidays_path), 0, 0, "holidays-cn.json", NULL},
    {"templates", CFG_PATH, 0, F(templates_dir), 0, 0, "../templates", NULL},
    {"windows.survey", CFG_WINDOW, 0, F(win_survey), 0, 0, "[\"10:30-11:40\",\"15:00-18:00\"]", NULL},
    {"windows.notice", CFG_WINDOW, 0, F(win_notice), 0, 0, "[\"08:00-21:00\"]", NULL},
    {"api_tokens", CFG_TOKENS, CFG_REQUIRED, F(tokens), 0, 0, NULL, NULL},
    {"survey.secret", CFG_SECRET, CFG_REQUIRED, F(survey_secret), 0, 0, NULL, NULL},
    {"survey.validity", CFG_DURATION, 0, F(survey_validity_ms), 3600000, 90 * DAY_MS, "7d", NULL},
    {"dispatch.max_in_flight", CFG_INT, 0, F(max_in_flight), 1, 4096, "64", NULL},
    {"dispatch.max_attempts", CFG_INT, 0, F(max_attempts), 1, 100, "8", NULL},
    {"dispatch.retry_base", CFG_DURATION, 0, F(retry_base_ms), 100, 3600000, "5s", NULL},
    {"dispatch.retry_max", CFG_DURATION, 0, F(retry_max_ms), 1000, DAY_MS, "1h", NULL},
    {"dispatch.notice_ttl", CFG_DURATION, 0, F(notice_ttl_ms), 10000, 30 * DAY_MS, "2d", NULL},
    {"dispatch.receipt_grace", CFG_DURATION, 0, F(receipt_grace_ms), 0, 3600000, "2m", NULL},
    {"dispatch.batch_size", CFG_INT, 0, F(batch_size), 1, 100000, "256", NULL},
    {"outbound.connect_timeout", CFG_DURATION, 0, F(connect_timeout_ms), 100, 60000, "5s", NULL},
    {"outbound.request_timeout", CFG_DURATION, 0, F(request_timeout_ms), 100, 300000, "15s", NULL},
    {"outbound.max_response", CFG_SIZE, 0, F(max_response), 1 * KIB, 16 * MIB, "262144", NULL},
    {"outbound.max_connections", CFG_INT, 0, F(out_max_connections), 1, 4096, "64", NULL},
    {"outbound.max_host_connections", CFG_INT, 0, F(out_max_host_connections), 1, 4096, "32", NULL},
    {"channels.webhook.enabled", CFG_BOOL, 0, F(webhook_enabled), 0, 0, "false", NULL},
    {"channels.webhook.url", CFG_URL, CFG_NULLABLE, F(webhook_url), 0, 0, NULL, NULL},
    {"channels.webhook.secret", CFG_SECRET, CFG_NULLABLE, F(webhook_secret), 0, 0, NULL, NULL},
    {"channels.wechat.enabled", CFG_BOOL, 0, F(wechat_enabled), 0, 0, "false", NULL},
    {"channels.wechat.base_url", CFG_URL, 0, F(wechat_base_url), 0, 0, "https://api.weixin.qq.com", NULL},
    {"channels.wechat.appid", CFG_STRING, CFG_NULLABLE, F(wechat_appid), 0, 0, NULL, NULL},
    {"channels.wechat.secret", CFG_SECRET, CFG_NULLABLE, F(wechat_secret), 0, 0, NULL, NULL},
    {"channels.wechat.token_api", CFG_STRING, 0, F(wechat_token_api), 0, 0, "stable",
     "stable|plain"},
    {"channels.wechat.qps", CFG_INT, 0, F(wechat_qps), 1, 10000, "50", NULL},
    {"channels.wecom.enabled", CFG_BOOL, 0, F(wecom_enabled), 0, 0, "false", NULL},
    {"channels.wecom.base_url", CFG_URL, 0, F(wecom_base_url), 0, 0, "https://qyapi.weixin.qq.com", NULL},
    {"channels.wecom.corpid", CFG_STRING, CFG_NULLABLE, F(wecom_corpid), 0, 0, NULL, NULL},
    {"channels.wecom.secret", CFG_SECRET, CFG_NULLABLE, F(wecom_secret), 0, 0, NULL, NULL},
    {"channels.wecom.agentid", CFG_INT, 0, F(wecom_agentid), 0, 2147483647, "0", NULL},
    {"channels.wecom.qps", CFG_INT, 0, F(wecom_qps), 1, 10000, "20", NULL},
    {"channels.sms.provider", CFG_STRING, 0, F(sms_provider), 0, 0, "none", "none|aliyun|tencent"},
    {"channels.sms.sign_name", CFG_STRING, CFG_NULLABLE, F(sms_sign_name), 0, 0, NULL, NULL},
    {"channels.sms.qps", CFG_INT, 0, F(sms_qps), 1, 10000, "50", NULL},
    {"channels.sms.per_number_minute", CFG_INT, 0, F(sms_per_minute), 0, 64, "1", NULL},
    {"channels.sms.per_number_hour", CFG_INT, 0, F(sms_per_hour), 0, 64, "5", NULL},
    {"channels.sms.per_number_day", CFG_INT, 0, F(sms_per_day), 0, 64, "10", NULL},
    {"channels.sms.extend_code_digits", CFG_INT, 0, F(sms_extend_digits), 0, 6, "0", NULL},
    {"channels.aliyun.base_url", CFG_URL, 0, F(aliyun_base_url), 0, 0,
     "https://dysmsapi.aliyuncs.com", NULL},
    {"channels.aliyun.access_key_id", CFG_STRING, CFG_NULLABLE, F(aliyun_key_id), 0, 0, NULL, NULL},
    {"channels.aliyun.access_key_secret", CFG_SECRET, CFG_NULLABLE, F(aliyun_key_secret), 0, 0,
     NULL, NULL},
    {"channels.aliyun.signature", CFG_STRING, 0, F(aliyun_signature), 0, 0, "v3", "v3|v1"},
    {"channels.tencent.base_url", CFG_URL, 0, F(tencent_base_url), 0, 0,
     "https://sms.tencentcloudapi.com", NULL},
    {"channels.tencent.secret_id", CFG_STRING, CFG_NULLABLE, F(tencent_secret_id), 0, 0, NULL, NULL},
    {"channels.tencent.secret_key", CFG_SECRET, CFG_NULLABLE, F(tencent_secret_key), 0, 0, NULL, NULL},
    {"channels.tencent.sdk_app_id", CFG_STRING, CFG_NULLABLE, F(tencent_sdk_app_id), 0, 0, NULL, NULL},
    {"channels.tencent.region", CFG_STRING, 0, F(tencent_region), 0, 0, "ap-guangzhou", NULL},
    {"channels.wechat.callback_token", CFG_SECRET, CFG_NULLABLE, F(wechat_callback_token), 0, 0,
     NULL, NULL},
    {"channels.wechat.encoding_aes_key", CFG_SECRET, CFG_NULLABLE, F(wechat_aes_key), 0, 0, NULL,
     NULL},
    {"surveys", CFG_PATH, 0, F(surveys_dir), 0, 0, "../templates/surveys", NULL},
    {"console.session_ttl", CFG_DURATION, 0, F(console_session_ttl_ms), 1000, 30 * DAY_MS, "8h",
     NULL},
    {"tickets.score_threshold", CFG_INT, 0, F(ticket_threshold), 0, 10, "6", NULL},
    {"tickets.report_within", CFG_DURATION, 0, F(ticket_report_ms), 60000, 30 * DAY_MS, "2h", NULL},
    {"tickets.answer_within", CFG_DURATION, 0, F(ticket_answer_ms), 60000, 30 * DAY_MS, "48h",
     NULL},
    {"tickets.followup_after", CFG_DURATION, 0, F(ticket_followup_ms), 60000, 30 * DAY_MS, "2d",
     NULL},
    {"staff.cs_manager.name", CFG_STRING, CFG_NULLABLE, F(cs_manager_name), 0, 0, NULL, NULL},
    {"staff.cs_manager.wecom_id", CFG_STRING, CFG_NULLABLE, F(cs_manager_wecom_id), 0, 0, NULL,
     NULL},
    {"staff.cs_manager.phone", CFG_STRING, CFG_NULLABLE, F(cs_manager_phone), 0, 0, NULL, NULL},
    {"callbacks.token", CFG_SECRET, CFG_NULLABLE, F(callback_token), 0, 0, NULL, NULL},
};

static void set_err(char *err, size_t errlen, const char *file, const char *key, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
static void set_err(char *err, size_t errlen, const char *file, const char *key, const char *fmt,
                    ...)
{
    int n = snprintf(err, errlen, "%s: %s: ", file, key);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static char *resolve_path(const struct config *c, const char *p)
{
    if (p[0] == '/')
        return xstrdup(p);
    return xasprintf("%s/%s", c->dir, p);
}

static int parse_roles(const cJSON *arr, unsigned *roles, const char **why)
{
    *roles = 0;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
        *why = "must be a non-empty array of \"trigger\", \"cs\", \"admin\"";
        return -1;
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, arr) {
        if (!cJSON_IsString(r)) {
            *why = "roles must be strings";
            return -1;
        }
        if (strcmp(r->valuestring, "trigger") == 0)
            *roles |= ROLE_TRIGGER;
        else if (strcmp(r->valuestring, "cs") == 0)
            *roles |= ROLE_CS;
        else if (strcmp(r->valuestring, "admin") == 0)
            *roles |= ROLE_ADMIN;
        else {
            *why = "unknown role (expected trigger, cs or admin)";
            return -1;
        }
    }
    return 0;
}

static int is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int parse_tokens(struct config *c, const cJSON *v, const char *file, char *err,
                        size_t errlen)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        set_err(err, errlen, file, "api_tokens", "must be a non-empty array");
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(v);
    c->tokens = xcalloc(n, sizeof *c->tokens);
    const cJSON *t;
    size_t i = 0;
    cJSON_ArrayForEach(t, v) {
        char key[64];
        snprintf(key, sizeof key, "api_tokens[%zu]", i);
        if (!cJSON_IsObject(t)) {
            set_err(err, errlen, file, key, "must be an object");
            return -1;
        }
        const cJSON *f;
        cJSON_ArrayForEach(f, t) {
            if (strcmp(f->string, "name") && strcmp(f->string, "roles") &&
                strcmp(f->string, "sha256") && strcmp(f->string, "staff_id") &&
                f->string[0] != '_') {
                set_err(err, errlen, file, key, "unknown key '%s'", f->string);
                return -1;
            }
        }
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
        const cJSON *roles = cJSON_GetObjectItemCaseSensitive(t, "roles");
        const cJSON *hash = cJSON_GetObjectItemCaseSensitive(t, "sha256");
        const char *why = NULL;
        if (!cJSON_IsString(name) || !*name->valuestring) {
            set_err(err, errlen, file, key, "name: must be a non-empty string");
            return -1;
        }
        if (parse_roles(roles, &c->tokens[i].roles, &why) != 0) {
            set_err(err, errlen, file, key, "roles: %s", why);
            return -1;
        }
        if (!cJSON_IsString(hash) || !is_hex64(hash->valuestring)) {
            set_err(err, errlen, file, key,
                    "sha256: must be the 64 lower-case hex digits of the token's SHA-256 "
                    "(huifangd --hash-token prints it)");
            return -1;
        }
        const cJSON *staff = cJSON_GetObjectItemCaseSensitive(t, "staff_id");
        if (staff && (!cJSON_IsString(staff) || !*staff->valuestring ||
                      strlen(staff->valuestring) > 64)) {
            set_err(err, errlen, file, key, "staff_id: must be a string of 1 to 64 characters "
                                            "(the PM's wecom_id, else phone, else name as in triggers)");
            return -1;
        }
        c->tokens[i].staff_id = staff ? xstrdup(staff->valuestring) : NULL;
        c->tokens[i].name = xstrdup(name->valuestring);
        memcpy(c->tokens[i].sha256, hash->valuestring, 65);
        c->ntokens = ++i;
    }
    return 0;
}

static int parse_window(struct window_def *w, const cJSON *v, const char *file, const char *key,
                        char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        set_err(err, errlen, file, key, "must be a non-empty array like [\"10:30-11:40\"]");
        return -1;
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, v) {
        int a, b;
        if (!cJSON_IsString(s) || window_parse_span(s->valuestring, &a, &b) != 0) {
            set_err(err, errlen, file, key, "'%s' is not a span HH:MM-HH:MM with end after start",
                    cJSON_IsString(s) ? s->valuestring : "(not a string)");
            return -1;
        }
        if (window_add_span(w, a, b) != 0) {
            set_err(err, errlen, file, key, "span '%s' overlaps another or too many spans (max %d)",
                    s->valuestring, WINDOW_MAX_SPANS);
            return -1;
        }
    }
    return 0;
}

/* 1 if @s is one of the '|'-separated @choices. */
static int in_choices(const char *choices, const char *s)
{
    size_t n = strlen(s);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0)
            return 1;
        if (!bar)
            break;
        p = bar + 1;
    }
    return 0;
}

/* Parse one option's JSON value into the struct. */
static int parse_opt(struct config *c, const struct cfg_opt *o, const cJSON *v, char *err,
                     size_t errlen)
{
    void *field = (char *)c + o->off;
    const char *file = c->path;
    switch (o->type) {
    case CFG_BOOL:
        if (!cJSON_IsBool(v)) {
            set_err(err, errlen, file, o->name, "must be true or false");
            return -1;
        }
        *(int *)field = cJSON_IsTrue(v);
        return 0;
    case CFG_INT:
    case CFG_SIZE:
    case CFG_DURATION: {
        int64_t val;
        if (o->type == CFG_DURATION && cJSON_IsString(v)) {
            if (duration_parse_ms(v->valuestring, &val) != 0) {
                set_err(err, errlen, file, o->name,
                        "'%s' is not a duration (examples: \"500ms\", \"30s\", \"5m\", \"2h\", \"7d\")",
                        v->valuestring);
                return -1;
            }
        } else if (cJSON_IsNumber(v)) {
            double d = v->valuedouble;
            /* Range first: casting 1e300 to int64_t is undefined. */
            if (!(d >= -9e15 && d <= 9e15) || d != (double)(int64_t)d) {
                set_err(err, errlen, file, o->name, "must be a whole number");
                return -1;
            }
            val = (int64_t)d;
            if (o->type == CFG_DURATION)
                val *= 1000; /* bare numbers are seconds */
        } else {
            set_err(err, errlen, file, o->name, "must be a %s",
                    o->type == CFG_DURATION ? "duration string or a number of seconds" : "number");
            return -1;
        }
        if (val < o->min || val > o->max) {
            if (o->type == CFG_DURATION)
                set_err(err, errlen, file, o->name, "out of range (%lld ms .. %lld ms)",
                        (long long)o->min, (long long)o->max);
            else
                set_err(err, errlen, file, o->name, "%lld is out of range (%lld .. %lld)",
                        (long long)val, (long long)o->min, (long long)o->max);
            return -1;
        }
        if (o->off == F(connection_timeout_s))
            *(int *)field = (int)(val / 1000);
        else if (o->type == CFG_INT)
            *(int *)field = (int)val;
        else
            *(int64_t *)field = val;
        return 0;
    }
    case CFG_STRING:
    case CFG_PATH:
    case CFG_URL:
    case CFG_ADDR:
    case CFG_ZONE: {
        if (cJSON_IsNull(v) && (o->flags & CFG_NULLABLE)) {
            free(*(char **)field);
            *(char **)field = NULL;
            return 0;
        }
        if (!cJSON_IsString(v) || !*v->valuestring) {
            set_err(err, errlen, file, o->name, "must be a non-empty string");
            return -1;
        }
        const char *s = v->valuestring;
        if (!utf8_valid(s, strlen(s))) {
            set_err(err, errlen, file, o->name, "is not valid UTF-8");
            return -1;
        }
        if (o->type == CFG_URL && strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) {
            set_err(err, errlen, file, o->name, "'%s' must start with http:// or https://", s);
            return -1;
        }
        if (o->type == CFG_ADDR) {
            struct in_addr a;
            if (inet_pton(AF_INET, s, &a) != 1) {
                set_err(err, errlen, file, o->name, "'%s' is not an IPv4 address", s);
                return -1;
            }
        }
        if (o->type == CFG_ZONE) {
            /* Checked, not applied: the caller applies it with tz_set(). */
            if (!tz_valid(s)) {
                set_err(err, errlen, file, o->name, "'%s' is not a known time zone", s);
                return -1;
            }
        }
        if (o->choices && !in_choices(o->choices, s)) {
            set_err(err, errlen, file, o->name, "'%s' is not one of %s", s, o->choices);
            return -1;
        }
        free(*(char **)field);
        *(char **)field = o->type == CFG_PATH ? resolve_path(c, s) : xstrdup(s);
        if (o->type == CFG_URL) { /* no trailing slash: callers append paths */
            char *u = *(char **)field;
            size_t n = strlen(u);
            while (n > 8 && u[n - 1] == '/')
                u[--n] = '\0';
        }
        return 0;
    }
    case CFG_SECRET: {
        const char *val = NULL;
        if (cJSON_IsNull(v) && (o->flags & CFG_NULLABLE)) {
            free(*(char **)field);
            *(char **)field = NULL;
            return 0;
        }
        if (cJSON_IsString(v)) {
            val = v->valuestring;
        } else if (cJSON_IsObject(v)) {
            const cJSON *env = cJSON_GetObjectItemCaseSensitive(v, "env");
            if (!cJSON_IsString(env) || cJSON_GetArraySize(v) != 1) {
                set_err(err, errlen, file, o->name,
                        "must be a string or {\"env\": \"VARIABLE_NAME\"}");
                return -1;
            }
            val = getenv(env->valuestring);
            if (!val || !*val) {
                set_err(err, errlen, file, o->name, "environment variable %s is not set",
                        env->valuestring);
                return -1;
            }
        } else {
            set_err(err, errlen, file, o->name, "must be a string or {\"env\": \"VARIABLE_NAME\"}");
            return -1;
        }
        if (strlen(val) < 8) {
            set_err(err, errlen, file, o->name, "is too short (at least 8 characters)");
            return -1;
        }
        free(*(char **)field);
        *(char **)field = xstrdup(val);
        return 0;
    }
    case CFG_LOGLEVEL:
        if (!cJSON_IsString(v) || log_level_parse(v->valuestring, (enum log_level *)field) != 0) {
            set_err(err, errlen, file, o->name, "must be one of debug, info, warn, error");
            return -1;
        }
        return 0;
    case CFG_SYNC:
        if (cJSON_IsString(v) && strcmp(v->valuestring, "full") == 0)
            *(int *)field = 1;
        else if (cJSON_IsString(v) && strcmp(v->valuestring, "normal") == 0)
            *(int *)field = 0;
        else {
            set_err(err, errlen, file, o->name, "must be \"full\" or \"normal\"");
            return -1;
        }
        return 0;
    case CFG_WINDOW:
        return parse_window((struct window_def *)field, v, file, o->name, err, errlen);
    case CFG_TOKENS:
        return parse_tokens(c, v, file, err, errlen);
    }
    return -1;
}

static const struct cfg_opt *find_opt(const char *name)
{
    for (size_t i = 0; i < HF_ARRAY_LEN(opts); i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

static int is_section(const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < HF_ARRAY_LEN(opts); i++)
        if (strncmp(opts[i].name, prefix, n) == 0 && opts[i].name[n] == '.')
            return 1;
    return 0;
}

/* Walk an object of the file; @seen marks the options that were given. */
static int walk(struct config *c, const cJSON *obj, const char *prefix, unsigned char *seen,
                char *err, size_t errlen)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, obj) {
        char name[128];
        if (*prefix)
            snprintf(name, sizeof name, "%s.%s", prefix, v->string);
        else
            snprintf(name, sizeof name, "%s", v->string);
        if (name[0] == '_' || strstr(name, "._")) /* "_comment" keys are allowed */
            continue;
        const struct cfg_opt *o = find_opt(name);
        if (o && seen[o - opts]) {
            set_err(err, errlen, c->path, name, "given twice");
            return -1;
        }
        if (o) {
            if (parse_opt(c, o, v, err, errlen) != 0)
                return -1;
            seen[o - opts] = 1;
        } else if (is_section(name)) {
            if (!cJSON_IsObject(v)) {
                set_err(err, errlen, c->path, name, "must be an object");
                return -1;
            }
            if (walk(c, v, name, seen, err, errlen) != 0)
                return -1;
        } else {
            set_err(err, errlen, c->path, name, "unknown key");
            return -1;
        }
    }
    return 0;
}

static char *read_file(const char *path, size_t max, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct buf b;
    buf_init(&b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf_append(&b, chunk, n);
        if (b.len > max) {
            snprintf(err, errlen, "%s: file is larger than %zu bytes", path, max);
            fclose(f);
            buf_cleanup(&b);
            return NULL;
        }
    }
    fclose(f);
    return buf_steal(&b);
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
    char *text = read_file(path, CONFIG_MAX_BYTES, err, errlen);
    if (!text)
        return NULL;
    struct config *c = config_parse(path, text, strlen(text), err, errlen);
    free(text);
    return c;
}

struct config *config_parse(const char *path, const char *text, size_t len, char *err,
                            size_t errlen)
{
    struct config *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    const char *slash = strrchr(path, '/');
    c->dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
    if (c->dir[0] == '\0') {
        free(c->dir);
        c->dir = xstrdup("/");
    }
    unsigned char seen[HF_ARRAY_LEN(opts)] = {0};
    cJSON *root = NULL;
    if (len > CONFIG_MAX_BYTES) {
        snprintf(err, errlen, "%s: file is larger than %d bytes", path, CONFIG_MAX_BYTES);
        goto fail;
    }
    root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1;
        for (const char *p = text; at && p < at && p < text + len; p++)
            line += *p == '\n';
        snprintf(err, errlen, "%s: line %d: not valid JSON", path, line);
        goto fail;
    }
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: the top level must be a JSON object", path);
        goto fail;
    }
    if (walk(c, root, "", seen, err, errlen) != 0)
        goto fail;
    /* Defaults for what the file did not set; required options. */
    for (size_t i = 0; i < HF_ARRAY_LEN(opts); i++) {
        const struct cfg_opt *o = &opts[i];
        if (seen[i])
            continue;
        if (o->flags & CFG_REQUIRED) {
            set_err(err, errlen, path, o->name, "missing (required)");
            goto fail;
        }
        if (!o->def)
            continue;
        cJSON *dv = cJSON_ParseWithOpts(o->def, NULL, 1);
        if (!dv) /* plain strings are written bare in the table */
            dv = cJSON_CreateString(o->def);
        int rc = parse_opt(c, o, dv, err, errlen);
        cJSON_Delete(dv);
        HF_ASSERT(rc == 0); /* the table's defaults are valid */
    }
    /* Surveys go out on working days only (SPEC 4); notices any day. */
    c->win_survey.workdays_only = 1;
    c->win_notice.workdays_only = 0;
    /* Cross-field checks. */
    if (!c->database && !c->database_url) {
        set_err(err, errlen, path, "store.path",
                "missing (required): a SQLite file, or store.url for PostgreSQL");
        goto fail;
    }
    if (c->database && c->database_url) {
        set_err(err, errlen, path, "store.url",
                "cannot be used together with store.path: choose SQLite or PostgreSQL");
        goto fail;
    }
    if (c->database_url && strncmp(c->database_url, "postgresql://", 13) != 0 &&
        strncmp(c->database_url, "postgres://", 11) != 0) {
        set_err(err, errlen, path, "store.url", "must start with postgresql:// or postgres://");
        goto fail;
    }
    if (c->webhook_enabled && !c->webhook_url) {
        set_err(err, errlen, path, "channels.webhook.url", "required when the webhook channel is enabled");
        goto fail;
    }
    struct { int on; const char *key; const void *val; } needs[] = {
        {c->wechat_enabled, "channels.wechat.appid", c->wechat_appid},
        {c->wechat_enabled, "channels.wechat.secret", c->wechat_secret},
        {c->wecom_enabled, "channels.wecom.corpid", c->wecom_corpid},
        {c->wecom_enabled, "channels.wecom.secret", c->wecom_secret},
        {strcmp(c->sms_provider, "none") != 0, "channels.sms.sign_name", c->sms_sign_name},
        {strcmp(c->sms_provider, "aliyun") == 0, "channels.aliyun.access_key_id", c->aliyun_key_id},
        {strcmp(c->sms_provider, "aliyun") == 0, "channels.aliyun.access_key_secret",
         c->aliyun_key_secret},
        {strcmp(c->sms_provider, "tencent") == 0, "channels.tencent.secret_id",
         c->tencent_secret_id},
        {strcmp(c->sms_provider, "tencent") == 0, "channels.tencent.secret_key",
         c->tencent_secret_key},
        {strcmp(c->sms_provider, "tencent") == 0, "channels.tencent.sdk_app_id",
         c->tencent_sdk_app_id},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(needs); i++) {
        if (needs[i].on && !needs[i].val) {
            set_err(err, errlen, path, needs[i].key, "required when this channel is enabled");
            goto fail;
        }
    }
    if (c->wechat_aes_key && strlen(c->wechat_aes_key) != 43) {
        set_err(err, errlen, path, "channels.wechat.encoding_aes_key",
                "must be the 43-character EncodingAESKey");
        goto fail;
    }
    if (c->cs_manager_phone) {
        char norm[12];
        if (!mobile_normalize(c->cs_manager_phone, norm)) {
            set_err(err, errlen, path, "staff.cs_manager.phone", "not a mainland mobile number");
            goto fail;
        }
    }
    if (c->wecom_enabled && c->wecom_agentid <= 0) {
        set_err(err, errlen, path, "channels.wecom.agentid",
                "required (the application's AgentId) when WeCom is enabled");
        goto fail;
    }
    if (c->retry_max_ms < c->retry_base_ms) {
        set_err(err, errlen, path, "dispatch.retry_max", "must not be below dispatch.retry_base");
        goto fail;
    }
    if (c->out_max_host_connections > c->out_max_connections) {
        set_err(err, errlen, path, "outbound.max_host_connections",
                "must not exceed outbound.max_connections");
        goto fail;
    }
    /* Files the daemon needs must exist now, not at the first send. */
    {
        struct { const char *key; const char *p; int dir; } files[] = {
            {"catalogue", c->catalogue_path, 0},
            {"holidays", c->holidays_path, 0},
            {"templates", c->templates_dir, 1},
            {"surveys", c->surveys_dir, 1},
        };
        for (size_t i = 0; i < HF_ARRAY_LEN(files); i++) {
            struct stat st;
            if (stat(files[i].p, &st) != 0) {
                set_err(err, errlen, path, files[i].key, "%s: %s", files[i].p, strerror(errno));
                goto fail;
            }
            if (files[i].dir != !!S_ISDIR(st.st_mode)) {
                set_err(err, errlen, path, files[i].key, "%s: %s", files[i].p,
                        files[i].dir ? "not a directory" : "is a directory");
                goto fail;
            }
        }
    }
    cJSON_Delete(root);
    return c;
fail:
    cJSON_Delete(root);
    config_free(c);
    return NULL;
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < HF_ARRAY_LEN(opts); i++) {
        switch (opts[i].type) {
        case CFG_STRING:
        case CFG_PATH:
        case CFG_URL:
        case CFG_SECRET:
        case CFG_ADDR:
        case CFG_ZONE: {
            char **f = (char **)((char *)c + opts[i].off);
            if (opts[i].type == CFG_SECRET && *f) /* wipe secrets before free */
                memset(*f, 0, strlen(*f));
            free(*f);
            *f = NULL;
            break;
        }
        default:
            break;
        }
    }
    for (size_t i = 0; i < c->ntokens; i++) {
        free(c->tokens[i].name);
        free(c->tokens[i].staff_id);
    }
    free(c->tokens);
    free(c->path);
    free(c->dir);
    free(c);
}

static void print_window(const struct window_def *w, FILE *out)
{
    for (int i = 0; i < w->nspans; i++)
        fprintf(out, "%s%02d:%02d-%02d:%02d", i ? ", " : "", w->spans[i].start_min / 60,
                w->spans[i].start_min % 60, w->spans[i].end_min / 60, w->spans[i].end_min % 60);
}

void config_print(const struct config *c, FILE *out)
{
    fprintf(out, "# effective configuration from %s\n", c->path);
    for (size_t i = 0; i < HF_ARRAY_LEN(opts); i++) {
        const struct cfg_opt *o = &opts[i];
        const void *field = (const char *)c + o->off;
        fprintf(out, "%s = ", o->name);
        switch (o->type) {
        case CFG_BOOL:
            fputs(*(const int *)field ? "true" : "false", out);
            break;
        case CFG_INT:
            fprintf(out, "%d", *(const int *)field);
            break;
        case CFG_SIZE:
            fprintf(out, "%lld", (long long)*(const int64_t *)field);
            break;
        case CFG_DURATION:
            if (o->off == F(connection_timeout_s))
                fprintf(out, "%ds", *(const int *)field);
            else
                fprintf(out, "%lldms", (long long)*(const int64_t *)field);
            break;
        case CFG_SECRET:
            fputs(*(char *const *)field ? "***" : "(none)", out);
            break;
        case CFG_STRING:
        case CFG_PATH:
        case CFG_URL:
        case CFG_ADDR:
        case CFG_ZONE: {
            const char *s = *(char *const *)field;
            fputs(s ? s : "(none)", out);
            break;
        }
        case CFG_LOGLEVEL: {
            static const char *const lv[] = {"debug", "info", "warn", "error"};
            fputs(lv[*(const enum log_level *)field], out);
            break;
        }
        case CFG_SYNC:
            fputs(*(const int *)field ? "full" : "normal", out);
            break;
        case CFG_WINDOW:
            print_window(field, out);
            break;
        case CFG_TOKENS:
            for (size_t t = 0; t < c->ntokens; t++)
                fprintf(out, "%s%s(%s%s%s)", t ? ", " : "", c->tokens[t].name,
                        c->tokens[t].roles & ROLE_TRIGGER ? "trigger " : "",
                        c->tokens[t].roles & ROLE_CS ? "cs " : "",
                        c->tokens[t].roles & ROLE_ADMIN ? "admin" : "");
            break;
        }
        fputc('\n', out);
    }
}

const struct api_token *config_find_token(const struct config *c, const char *bearer)
{
    char h[65];
    sha256_hex(bearer, strlen(bearer), h);
    const struct api_token *found = NULL;
    /* Compare against every token so the time taken does not depend on
     * which one matched. */
    for (size_t i = 0; i < c->ntokens; i++)
        if (ct_equal(h, c->tokens[i].sha256, 64) && !found)
            found = &c->tokens[i];
    return found;
}

const char *config_store_location(const struct config *c)
{
    return c->database_url ? c->database_url : c->database;
}
