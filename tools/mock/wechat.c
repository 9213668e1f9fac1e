/*
 * wechat.c - mock WeChat Official Account (/wechat) and WeCom (/wecom) APIs
 * (PROTOCOLS.md A1, A2, A8, B1, B2). Point the daemon's
 * channels.wechat.base_url at http://127.0.0.1:PORT/wechat and
 * channels.wecom.base_url at http://127.0.0.1:PORT/wecom.
 *
 * WeChat
 *   GET  /wechat/cgi-bin/token?grant_type=client_credential&appid=&secret=
 *        every call issues a new token; the previous ones stay valid for
 *        5 more minutes (then 42001).
 *   POST /wechat/cgi-bin/stable_token {"grant_type","appid","secret","force_refresh"}
 *        normal mode returns the same token while it is valid (a new one
 *        once fewer than stable_prerefresh_s remain; the old one stays
 *        valid until its own expiry); force_refresh=true invalidates the
 *        previous stable token (40001 from then on) and issues a new one,
 *        at most once per 30 s (a closer call refreshes nothing and returns
 *        the current token) and 20 times per Beijing day (then 45009).
 *        Plain and stable tokens are isolated from each other.
 *   Credentials: grant_type must be client_credential (40002), appid the
 *   configured one (missing 41002, other 40013), secret the configured one
 *   (missing 41004, other 40001). An unset appid/secret accepts any value.
 *   POST /wechat/cgi-bin/message/template/send?access_token=
 *        token missing 41001, unknown 40001, expired 42001; body not a JSON
 *        object 47001; touser/template_id/data missing or of the wrong type,
 *        data entries without a string "value" 47003; touser in
 *        invalid_openids 40003, unsubscribed_openids 43004, refused_openids
 *        43101; template_id not in template_ids (when set) 40037.
 *        Accepted: {"errcode":0,"errmsg":"ok","msgid":<2^62 + seq>} where
 *        seq is the record's ("mock-<seq>"); every msgid is above 2^53, so
 *        a client that reads it through a double gets it wrong. The record
 *        key is client_msg_id: a repeat gets the first msgid and is
 *        recorded with duplicate=true, and is not delivered again.
 *
 * WeCom
 *   GET  /wecom/cgi-bin/gettoken?corpid=&corpsecret=
 *        corpid missing 41002, other 40013; corpsecret missing 41004, other
 *        40001. The same token while it is valid, a new one after expiry.
 *   POST /wecom/cgi-bin/message/send?access_token=
 *        token missing 41001, unknown 40014, expired 42001; body not a JSON
 *        object 47001; agentid not the configured integer 40056; msgtype
 *        other than text/textcard 40008; touser missing 40035; empty
 *        text.content 44004, longer than 2048 bytes 45002; every userid of
 *        touser in invalid_users 81013, some of them: accepted with
 *        "invaliduser":"a|b" (lower-cased).
 *        Accepted: {"errcode":0,"errmsg":"ok","invaliduser":"","msgid":"mock-wecom-<seq>"}.
 *        The record key is "wecom:<sha256 of the JSON>": the same JSON again
 *        is recorded duplicate=true with the first msgid. With
 *        enable_duplicate_check=1 a repeat within duplicate_check_interval
 *        (default 1800 s) is not delivered again; otherwise it is.
 *
 * Tokens really expire after token_ttl_s (default 7200), on clock_now()
 * (which follows HUIFANG_CLOCK_START like the daemon).
 *
 * Control
 *   POST /_mock/wechat/expire_tokens  every WeChat and WeCom token expires now
 *                                     (42001 on the next send) -> {"expired": n}
 *   POST /_mock/wechat/refuse_tokens  every valid WeChat stable token is refused
 *                                     by sends from now on (40001), while
 *                                     stable_token in normal mode keeps returning
 *                                     it: a token the platform revoked (leaked),
 *                                     which only a force_refresh replaces
 *                                     -> {"refused": n}
 *   GET  /_mock/wechat/stats          {"wechat_token_requests","wechat_force_refreshes",
 *                                      "wecom_token_requests","tokens_valid",
 *                                      "wechat_delivered","wecom_delivered"}
 *   POST /_mock/reset also forgets every token, counter and dedup window here.
 *
 * Config (--config FILE or POST /_mock/config):
 *   "wechat": {"appid","secret","token_ttl_s","stable_prerefresh_s",
 *              "unsubscribed_openids":[],"refused_openids":[],
 *              "invalid_openids":[],"template_ids":[]}
 *   "wecom":  {"corpid","corpsecret","agentid","token_ttl_s","invalid_users":[]}
 *   stable_prerefresh_s defaults to 300 when token_ttl_s >= 1200, else 0.
 *
 * Every errcode answer is HTTP 200, as WeChat's are, and counts as
 * "rejected" in /_mock/stats. Nothing here logs a token or a secret (the
 * core logs paths without their query).
 */
#include "mock.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WX_MSGID_BASE 4611686018427387904ULL /* 2^62 */
#define WX_DEFAULT_TTL_S 7200L
#define WX_PLAIN_OVERLAP_MS (300 * 1000L)    /* old /cgi-bin/token tokens live on 5 min */
#define WX_FORCE_GAP_MS (30 * 1000L)
#define WX_FORCE_PER_DAY 20
#define WX_PRUNE_AFTER_MS (86400 * 1000L)    /* forget tokens expired a day ago */
#define WC_CONTENT_MAX 2048
#define WC_DUP_INTERVAL_DEFAULT 1800L
#define WC_DUP_INTERVAL_MAX (4 * 3600L)

enum tok_kind { TOK_PLAIN = 0, TOK_STABLE, TOK_WECOM };

struct wx_token {
    char *value;
    enum tok_kind kind;
    int64_t expires_ms;   /* clock_now_ms() after which it answers 42001 */
    int revoked;          /* invalidated by a forced refresh: 40001 */
    int refused;          /* refuse_tokens: 40001 on sends, still handed out */
};

/* The same JSON sent to WeCom before: when its duplicate window began. */
struct wc_dup {
    char hash[65];
    int64_t window_start_ms;
};

/* File-level state, guarded by wx.lock (never held while calling into
 * mock.c, which takes m->lock). */
static struct {
    pthread_mutex_t lock;
    struct wx_token *toks;
    size_t ntoks, captoks;
    uint64_t serial;                 /* tokens issued, for their text */
    int64_t last_force_ms;           /* 0 = never */
    int64_t force_day;               /* Beijing day number of force_count */
    int force_count;
    uint64_t wechat_token_requests, wechat_force_refreshes, wecom_token_requests;
    uint64_t wechat_delivered, wecom_delivered;
    struct wc_dup *dups;
    size_t ndups, capdups;
} wx = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ===================================================================== */
/* Helpers                                                                 */
/* ===================================================================== */

/* Answer {"errcode":@code,"errmsg":@msg} with HTTP 200 and count it. */
static void answer_err(struct mock *m, struct mock_resp *out, long code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "errcode", (double)code);
    cJSON_AddStringToObject(o, "errmsg", msg);
    mock_resp_json(out, 200, o);
    mock_stats_rejected(m);
}

static const char *cfg_str(const cJSON *sec, const char *key)
{
    const cJSON *v = sec ? cJSON_GetObjectItemCaseSensitive(sec, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long cfg_long(const cJSON *sec, const char *key, long def)
{
    long v;
    const cJSON *j = sec ? cJSON_GetObjectItemCaseSensitive(sec, key) : NULL;
    return j && mock_json_long(j, 0, 100L * 365 * 86400, &v) == 0 ? v : def;
}

/* 1 if the array @key of @sec holds the string @s (@nocase: ignoring case). */
static int cfg_list_has(const cJSON *sec, const char *key, const char *s, int nocase)
{
    const cJSON *arr = sec ? cJSON_GetObjectItemCaseSensitive(sec, key) : NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (cJSON_IsString(e) &&
            (nocase ? strcasecmp(e->valuestring, s) : strcmp(e->valuestring, s)) == 0)
            return 1;
    }
    return 0;
}

static int64_t ttl_ms(const cJSON *sec)
{
    long ttl = cfg_long(sec, "token_ttl_s", WX_DEFAULT_TTL_S);
    return (int64_t)(ttl > 0 ? ttl : 1) * 1000;
}

/* Seconds left of a token, rounded up, at least 1. */
static long secs_left(int64_t expires_ms, int64_t now_ms)
{
    int64_t left = expires_ms - now_ms;
    return left <= 0 ? 1 : (long)((left + 999) / 1000);
}

/* ---- tokens (call with wx.lock held) ---------------------------------- */

static int tok_valid(const struct wx_token *t, int64_t now_ms)
{
    return !t->revoked && now_ms < t->expires_ms;
}

static void toks_prune(int64_t now_ms)
{
    size_t k = 0;
    for (size_t i = 0; i < wx.ntoks; i++) {
        if (wx.toks[i].expires_ms + WX_PRUNE_AFTER_MS < now_ms)
            free(wx.toks[i].value);
        else
            wx.toks[k++] = wx.toks[i];
    }
    wx.ntoks = k;
}

/* Issue a new token of @kind; returns it (borrowed from the table). */
static struct wx_token *tok_issue(enum tok_kind kind, int64_t now_ms, int64_t ttl)
{
    toks_prune(now_ms);
    if (wx.ntoks == wx.captoks) {
        wx.captoks = wx.captoks ? wx.captoks * 2 : 16;
        wx.toks = xrealloc(wx.toks, wx.captoks * sizeof *wx.toks);
    }
    /* Real tokens are 130-160 characters of [A-Za-z0-9_-]. */
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s_%llu_", kind == TOK_WECOM ? "WCAT" : kind == TOK_STABLE ? "WXST" : "WXAT",
               (unsigned long long)++wx.serial);
    for (int i = 0; i < 8; i++)
        buf_printf(&b, "%016llx", (unsigned long long)rand_u64());
    struct wx_token *t = &wx.toks[wx.ntoks++];
    t->value = buf_steal(&b);
    t->kind = kind;
    t->expires_ms = now_ms + ttl;
    t->revoked = 0;
    t->refused = 0;
    return t;
}

/* The newest valid token of @kind, or NULL. */
static struct wx_token *tok_current(enum tok_kind kind, int64_t now_ms)
{
    for (size_t i = wx.ntoks; i-- > 0;)
        if (wx.toks[i].kind == kind && tok_valid(&wx.toks[i], now_ms))
            return &wx.toks[i];
    return NULL;
}

enum tok_state { TOK_OK = 0, TOK_MISSING, TOK_UNKNOWN, TOK_EXPIRED, TOK_REVOKED };

/* Check the access_token query argument of @r against the tokens of the
 * kinds @wecom selects (WeChat's plain and stable, or WeCom's). */
static enum tok_state tok_check(const struct mock_req *r, int wecom)
{
    const char *v = mock_req_query(r, "access_token");
    if (!v || !v[0])
        return TOK_MISSING;
    int64_t now_ms = clock_now_ms();
    enum tok_state st = TOK_UNKNOWN;
    pthread_mutex_lock(&wx.lock);
    for (size_t i = 0; i < wx.ntoks; i++) {
        const struct wx_token *t = &wx.toks[i];
        if ((t->kind == TOK_WECOM) != !!wecom || strcmp(t->value, v) != 0)
            continue;
        st = t->revoked || t->refused ? TOK_REVOKED
             : now_ms >= t->expires_ms ? TOK_EXPIRED : TOK_OK;
        break;
    }
    pthread_mutex_unlock(&wx.lock);
    return st;
}

/* Beijing day number of @now_ms (for the forced-refresh daily cap). */
static int64_t beijing_day(int64_t now_ms)
{
    return (now_ms / 1000 + 8 * 3600) / 86400;
}

/* Answer {"access_token":@value,"expires_in":@secs} (+ errcode 0 for WeCom). */
static void answer_token(struct mock_resp *out, const char *value, long secs, int wecom)
{
    cJSON *o = cJSON_CreateObject();
    if (wecom) {
        cJSON_AddNumberToObject(o, "errcode", 0);
        cJSON_AddStringToObject(o, "errmsg", "ok");
    }
    cJSON_AddStringToObject(o, "access_token", value);
    cJSON_AddNumberToObject(o, "expires_in", (double)secs);
    mock_resp_json(out, 200, o);
}

/* WeChat credentials: 0, or an errcode with *msg. */
static long wechat_check_creds(const cJSON *sec, const char *grant, const char *appid,
                               const char *secret, const char **msg)
{
    const char *want_appid = cfg_str(sec, "appid"), *want_secret = cfg_str(sec, "secret");
    if (!grant || strcmp(grant, "client_credential") != 0) {
        *msg = "invalid grant_type";
        return 40002;
    }
    if (!appid || !appid[0]) {
        *msg = "appid missing";
        return 41002;
    }
    if (want_appid && strcmp(appid, want_appid) != 0) {
        *msg = "invalid appid";
        return 40013;
    }
    if (!secret || !secret[0]) {
        *msg = "appsecret missing";
        return 41004;
    }
    if (want_secret && strcmp(secret, want_secret) != 0) {
        *msg = "invalid credential, access_token is invalid or not latest";
        return 40001;
    }
    return 0;
}

/* ===================================================================== */
/* WeChat                                                                  */
/* ===================================================================== */

/* GET /wechat/cgi-bin/token */
static void handle_wechat_token(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    cJSON *sec = mock_config_section(m, "wechat");
    pthread_mutex_lock(&wx.lock);
    wx.wechat_token_requests++;
    pthread_mutex_unlock(&wx.lock);
    const char *msg = NULL;
    long code = wechat_check_creds(sec, mock_req_query(r, "grant_type"),
                                   mock_req_query(r, "appid"), mock_req_query(r, "secret"), &msg);
    if (code) {
        answer_err(m, out, code, msg);
        cJSON_Delete(sec);
        return;
    }
    int64_t now_ms = clock_now_ms(), ttl = ttl_ms(sec);
    pthread_mutex_lock(&wx.lock);
    /* The new token replaces the old ones, which overlap for 5 minutes. */
    for (size_t i = 0; i < wx.ntoks; i++)
        if (wx.toks[i].kind == TOK_PLAIN && wx.toks[i].expires_ms > now_ms + WX_PLAIN_OVERLAP_MS)
            wx.toks[i].expires_ms = now_ms + WX_PLAIN_OVERLAP_MS;
    struct wx_token *t = tok_issue(TOK_PLAIN, now_ms, ttl);
    char *value = xstrdup(t->value);
    pthread_mutex_unlock(&wx.lock);
    answer_token(out, value, (long)(ttl / 1000), 0);
    free(value);
    cJSON_Delete(sec);
}

/* POST /wechat/cgi-bin/stable_token */
static void handle_wechat_stable_token(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    cJSON *sec = mock_config_section(m, "wechat");
    cJSON *body = mock_json_parse_exact(r->body.data, r->body.len);
    pthread_mutex_lock(&wx.lock);
    wx.wechat_token_requests++;
    pthread_mutex_unlock(&wx.lock);
    const cJSON *force_j = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body,
                                                                                 "force_refresh")
                                                : NULL;
    if (!cJSON_IsObject(body) || (force_j && !cJSON_IsBool(force_j))) {
        answer_err(m, out, 47001, "data format error");
        goto out;
    }
    const char *msg = NULL;
    long code = wechat_check_creds(sec, cfg_str(body, "grant_type"), cfg_str(body, "appid"),
                                   cfg_str(body, "secret"), &msg);
    if (code) {
        answer_err(m, out, code, msg);
        goto out;
    }
    int force = cJSON_IsTrue(force_j);
    int64_t now_ms = clock_now_ms(), ttl = ttl_ms(sec);
    long ttl_s = (long)(ttl / 1000);
    int64_t prerefresh =
        (int64_t)cfg_long(sec, "stable_prerefresh_s", ttl_s >= 1200 ? 300 : 0) * 1000;

    pthread_mutex_lock(&wx.lock);
    struct wx_token *cur = tok_current(TOK_STABLE, now_ms);
    if (force) {
        int64_t day = beijing_day(now_ms);
        if (day != wx.force_day) {
            wx.force_day = day;
            wx.force_count = 0;
        }
        if (wx.force_count >= WX_FORCE_PER_DAY) {
            pthread_mutex_unlock(&wx.lock);
            answer_err(m, out, 45009, "reach max api daily quota limit");
            goto out;
        }
        /* Too soon after the last forced refresh: nothing is refreshed. */
        if (!(cur && wx.last_force_ms && now_ms - wx.last_force_ms < WX_FORCE_GAP_MS)) {
            for (size_t i = 0; i < wx.ntoks; i++)
                if (wx.toks[i].kind == TOK_STABLE)
                    wx.toks[i].revoked = 1;
            cur = NULL;
            wx.last_force_ms = now_ms;
            wx.force_count++;
            wx.wechat_force_refreshes++;
        }
    }
    if (cur && cur->expires_ms - now_ms <= prerefresh)
        cur = NULL; /* pre-refresh: a new one, the old lives until its expiry */
    if (!cur)
        cur = tok_issue(TOK_STABLE, now_ms, ttl);
    char *value = xstrdup(cur->value);
    long left = secs_left(cur->expires_ms, now_ms);
    pthread_mutex_unlock(&wx.lock);
    answer_token(out, value, left, 0);
    free(value);
out:
    cJSON_Delete(body);
    cJSON_Delete(sec);
}

/* 1 if @data is an object whose every member is {"value": "<string>", ...}. */
static int template_data_ok(const cJSON *data)
{
    if (!cJSON_IsObject(data))
        return 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, data) {
        if (!cJSON_IsObject(e) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "value")))
            return 0;
    }
    return 1;
}

/* POST /wechat/cgi-bin/message/template/send */
static void handle_wechat_send(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    cJSON *sec = NULL, *body = NULL;
    switch (tok_check(r, 0)) {
    case TOK_OK: break;
    case TOK_MISSING: answer_err(m, out, 41001, "access_token missing"); return;
    case TOK_UNKNOWN:
    case TOK_REVOKED:
        answer_err(m, out, 40001, "invalid credential, access_token is invalid or not latest");
        return;
    case TOK_EXPIRED: answer_err(m, out, 42001, "access_token expired"); return;
    }
    body = mock_json_parse_exact(r->body.data, r->body.len);
    if (!cJSON_IsObject(body)) {
        answer_err(m, out, 47001, "data format error");
        goto out;
    }
    const char *touser = cfg_str(body, "touser");
    const char *template_id = cfg_str(body, "template_id");
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(body, "url");
    const cJSON *cmid = cJSON_GetObjectItemCaseSensitive(body, "client_msg_id");
    if (!touser || !touser[0] || !template_id || !template_id[0] ||
        !template_data_ok(cJSON_GetObjectItemCaseSensitive(body, "data")) ||
        (url && !cJSON_IsString(url)) || (cmid && !cJSON_IsString(cmid))) {
        answer_err(m, out, 47003, "argument invalid!");
        goto out;
    }
    sec = mock_config_section(m, "wechat");
    if (cfg_list_has(sec, "invalid_openids", touser, 0)) {
        answer_err(m, out, 40003, "invalid openid");
        goto out;
    }
    if (sec && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(sec, "template_ids")) &&
        !cfg_list_has(sec, "template_ids", template_id, 0)) {
        answer_err(m, out, 40037, "invalid template_id");
        goto out;
    }
    if (cfg_list_has(sec, "unsubscribed_openids", touser, 0)) {
        answer_err(m, out, 43004, "require subscribe");
        goto out;
    }
    if (cfg_list_has(sec, "refused_openids", touser, 0)) {
        answer_err(m, out, 43101, "user refuse to accept the msg");
        goto out;
    }
    /* client_msg_id (A2): one message per openid + id; a repeat answers the
     * first msgid. The record says duplicate=true either way. */
    char *key = cmid && cmid->valuestring[0] ? xstrdup(cmid->valuestring) : NULL;
    int dup = 0;
    uint64_t seq = mock_record(m, r->path, key, body, 200, &dup);
    body = NULL; /* owned by the record now */
    free(key);
    if (!dup) {
        pthread_mutex_lock(&wx.lock);
        wx.wechat_delivered++;
        pthread_mutex_unlock(&wx.lock);
    }
    out->status = 200;
    out->body = xasprintf("{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":%llu}",
                          (unsigned long long)(WX_MSGID_BASE + seq));
out:
    cJSON_Delete(body);
    cJSON_Delete(sec);
}

/* ===================================================================== */
/* WeCom                                                                   */
/* ===================================================================== */

/* GET /wecom/cgi-bin/gettoken */
static void handle_wecom_gettoken(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    cJSON *sec = mock_config_section(m, "wecom");
    pthread_mutex_lock(&wx.lock);
    wx.wecom_token_requests++;
    pthread_mutex_unlock(&wx.lock);
    const char *corpid = mock_req_query(r, "corpid"), *secret = mock_req_query(r, "corpsecret");
    const char *want_corpid = cfg_str(sec, "corpid"), *want_secret = cfg_str(sec, "corpsecret");
    if (!corpid || !corpid[0])
        answer_err(m, out, 41002, "corpid missing");
    else if (want_corpid && strcmp(corpid, want_corpid) != 0)
        answer_err(m, out, 40013, "invalid corpid");
    else if (!secret || !secret[0])
        answer_err(m, out, 41004, "corpsecret missing");
    else if (want_secret && strcmp(secret, want_secret) != 0)
        answer_err(m, out, 40001, "invalid credential");
    else {
        int64_t now_ms = clock_now_ms();
        pthread_mutex_lock(&wx.lock);
        struct wx_token *t = tok_current(TOK_WECOM, now_ms);
        if (!t)
            t = tok_issue(TOK_WECOM, now_ms, ttl_ms(sec));
        char *value = xstrdup(t->value);
        long left = secs_left(t->expires_ms, now_ms);
        pthread_mutex_unlock(&wx.lock);
        answer_token(out, value, left, 1);
        free(value);
    }
    cJSON_Delete(sec);
}

/* POST /wecom/cgi-bin/message/send */
static void handle_wecom_send(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    cJSON *sec = NULL, *body = NULL;
    struct buf invalid;
    buf_init(&invalid);
    switch (tok_check(r, 1)) {
    case TOK_OK: break;
    case TOK_MISSING: answer_err(m, out, 41001, "access_token missing"); return;
    case TOK_UNKNOWN:
    case TOK_REVOKED: answer_err(m, out, 40014, "invalid access_token"); return;
    case TOK_EXPIRED: answer_err(m, out, 42001, "access_token expired"); return;
    }
    body = mock_json_parse_exact(r->body.data, r->body.len);
    if (!cJSON_IsObject(body)) {
        answer_err(m, out, 47001, "data format error");
        goto out;
    }
    sec = mock_config_section(m, "wecom");
    const cJSON *agentid = cJSON_GetObjectItemCaseSensitive(body, "agentid");
    const cJSON *want_agentid = sec ? cJSON_GetObjectItemCaseSensitive(sec, "agentid") : NULL;
    long aid;
    if (mock_json_long(agentid, 0, 2147483647L, &aid) != 0 ||
        (cJSON_IsNumber(want_agentid) && (double)aid != want_agentid->valuedouble)) {
        answer_err(m, out, 40056, "invalid agentid");
        goto out;
    }
    const char *msgtype = cfg_str(body, "msgtype");
    if (!msgtype || (strcmp(msgtype, "text") != 0 && strcmp(msgtype, "textcard") != 0)) {
        answer_err(m, out, 40008, "invalid message type");
        goto out;
    }
    const char *touser = cfg_str(body, "touser");
    if (!touser || !touser[0]) {
        answer_err(m, out, 40035, "invalid parameter: touser");
        goto out;
    }
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(body, msgtype);
    const char *content = cfg_str(part, strcmp(msgtype, "text") == 0 ? "content" : "title");
    if (!content || !content[0]) {
        answer_err(m, out, 44004, "empty content");
        goto out;
    }
    if (strlen(content) > WC_CONTENT_MAX) {
        answer_err(m, out, 45002, "content size out of limit");
        goto out;
    }
    /* Recipients: "a|b|c" or "@all". */
    size_t nusers = 0, ninvalid = 0;
    char *users = xstrdup(touser), *save = NULL;
    for (char *u = strtok_r(users, "|", &save); u; u = strtok_r(NULL, "|", &save)) {
        nusers++;
        if (strcmp(u, "@all") != 0 && cfg_list_has(sec, "invalid_users", u, 1)) {
            ninvalid++;
            for (char *c = u; *c; c++)
                *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
            buf_printf(&invalid, "%s%s", invalid.len ? "|" : "", u);
        }
    }
    free(users);
    if (nusers == 0 || ninvalid == nusers) {
        answer_err(m, out, 81013, "user & party & tag all invalid");
        goto out;
    }

    /* enable_duplicate_check (B2): identical JSON within the interval is
     * not delivered again. */
    long dup_check = 0, interval = WC_DUP_INTERVAL_DEFAULT;
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(body, "enable_duplicate_check");
    const cJSON *di = cJSON_GetObjectItemCaseSensitive(body, "duplicate_check_interval");
    if ((dc && mock_json_long(dc, 0, 1, &dup_check) != 0) ||
        (di && mock_json_long(di, 1, WC_DUP_INTERVAL_MAX, &interval) != 0)) {
        answer_err(m, out, 40035, "invalid parameter: duplicate check");
        goto out;
    }
    char *canon = cJSON_PrintUnformatted(body);
    HF_ASSERT(canon);
    char hash[65];
    sha256_hex(canon, strlen(canon), hash);
    cJSON_free(canon);
    int64_t now_ms = clock_now_ms();
    int deliver = 1;
    pthread_mutex_lock(&wx.lock);
    /* Windows end after at most 4 h: forget older entries. */
    size_t k = 0;
    for (size_t i = 0; i < wx.ndups; i++)
        if (now_ms - wx.dups[i].window_start_ms < WC_DUP_INTERVAL_MAX * 1000)
            wx.dups[k++] = wx.dups[i];
    wx.ndups = k;
    struct wc_dup *d = NULL;
    for (size_t i = 0; i < wx.ndups && !d; i++)
        if (strcmp(wx.dups[i].hash, hash) == 0)
            d = &wx.dups[i];
    if (!d) {
        if (wx.ndups == wx.capdups) {
            wx.capdups = wx.capdups ? wx.capdups * 2 : 16;
            wx.dups = xrealloc(wx.dups, wx.capdups * sizeof *wx.dups);
        }
        d = &wx.dups[wx.ndups++];
        memcpy(d->hash, hash, sizeof d->hash);
        d->window_start_ms = now_ms;
    } else if (dup_check && now_ms - d->window_start_ms < (int64_t)interval * 1000) {
        deliver = 0;
    } else {
        d->window_start_ms = now_ms;
    }
    if (deliver)
        wx.wecom_delivered++;
    pthread_mutex_unlock(&wx.lock);

    char key[80];
    snprintf(key, sizeof key, "wecom:%s", hash);
    int dup = 0;
    uint64_t seq = mock_record(m, r->path, key, body, 200, &dup);
    body = NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "errcode", 0);
    cJSON_AddStringToObject(o, "errmsg", "ok");
    cJSON_AddStringToObject(o, "invaliduser", invalid.data ? invalid.data : "");
    char msgid[48];
    snprintf(msgid, sizeof msgid, "mock-wecom-%llu", (unsigned long long)seq);
    cJSON_AddStringToObject(o, "msgid", msgid);
    mock_resp_json(out, 200, o);
out:
    buf_cleanup(&invalid);
    cJSON_Delete(body);
    cJSON_Delete(sec);
}

/* ===================================================================== */
/* Control                                                                 */
/* ===================================================================== */

/* POST /_mock/wechat/expire_tokens: every token expires now. */
static void handle_expire_tokens(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    (void)m;
    (void)r;
    int64_t now_ms = clock_now_ms();
    size_t n = 0;
    pthread_mutex_lock(&wx.lock);
    for (size_t i = 0; i < wx.ntoks; i++) {
        if (tok_valid(&wx.toks[i], now_ms))
            n++;
        if (wx.toks[i].expires_ms > now_ms)
            wx.toks[i].expires_ms = now_ms;
    }
    pthread_mutex_unlock(&wx.lock);
    out->status = 200;
    out->body = xasprintf("{\"expired\":%zu}", n);
}

/* POST /_mock/wechat/refuse_tokens: sends refuse the valid stable tokens. */
static void handle_refuse_tokens(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    (void)m;
    (void)r;
    int64_t now_ms = clock_now_ms();
    size_t n = 0;
    pthread_mutex_lock(&wx.lock);
    for (size_t i = 0; i < wx.ntoks; i++)
        if (wx.toks[i].kind == TOK_STABLE && tok_valid(&wx.toks[i], now_ms) &&
            !wx.toks[i].refused) {
            wx.toks[i].refused = 1;
            n++;
        }
    pthread_mutex_unlock(&wx.lock);
    out->status = 200;
    out->body = xasprintf("{\"refused\":%zu}", n);
}

/* GET /_mock/wechat/stats */
static void handle_wx_stats(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    (void)m;
    (void)r;
    int64_t now_ms = clock_now_ms();
    size_t valid = 0;
    pthread_mutex_lock(&wx.lock);
    for (size_t i = 0; i < wx.ntoks; i++)
        valid += (size_t)tok_valid(&wx.toks[i], now_ms);
    out->body = xasprintf("{\"wechat_token_requests\":%llu,\"wechat_force_refreshes\":%llu,"
                          "\"wecom_token_requests\":%llu,\"tokens_valid\":%zu,"
                          "\"wechat_delivered\":%llu,\"wecom_delivered\":%llu}",
                          (unsigned long long)wx.wechat_token_requests,
                          (unsigned long long)wx.wechat_force_refreshes,
                          (unsigned long long)wx.wecom_token_requests, valid,
                          (unsigned long long)wx.wechat_delivered,
                          (unsigned long long)wx.wecom_delivered);
    pthread_mutex_unlock(&wx.lock);
    out->status = 200;
}

/* Forget every token, counter and dedup window (POST /_mock/reset, exit). */
static void wx_reset(struct mock *m)
{
    (void)m;
    pthread_mutex_lock(&wx.lock);
    for (size_t i = 0; i < wx.ntoks; i++)
        free(wx.toks[i].value);
    free(wx.toks); wx.toks = NULL;
    wx.ntoks = wx.captoks = 0;
    free(wx.dups); wx.dups = NULL;
    wx.ndups = wx.capdups = 0;
    wx.serial = 0;
    wx.last_force_ms = 0;
    wx.force_day = 0;
    wx.force_count = 0;
    wx.wechat_token_requests = wx.wechat_force_refreshes = wx.wecom_token_requests = 0;
    wx.wechat_delivered = wx.wecom_delivered = 0;
    pthread_mutex_unlock(&wx.lock);
}

static const struct mock_route wechat_routes[] = {
    { "GET",  "/wechat/cgi-bin/token", MOCK_MATCH_EXACT, MOCK_ROUTE_PROVIDER, handle_wechat_token },
    { "POST", "/wechat/cgi-bin/stable_token", MOCK_MATCH_EXACT, MOCK_ROUTE_PROVIDER,
      handle_wechat_stable_token },
    { "POST", "/wechat/cgi-bin/message/template/send", MOCK_MATCH_EXACT, MOCK_ROUTE_PROVIDER,
      handle_wechat_send },
    { "POST", "/_mock/wechat/expire_tokens", MOCK_MATCH_EXACT, 0, handle_expire_tokens },
    { "POST", "/_mock/wechat/refuse_tokens", MOCK_MATCH_EXACT, 0, handle_refuse_tokens },
    { "GET",  "/_mock/wechat/stats", MOCK_MATCH_EXACT, 0, handle_wx_stats },
    { NULL, NULL, 0, 0, NULL },
};
static const struct mock_route wecom_routes[] = {
    { "GET",  "/wecom/cgi-bin/gettoken", MOCK_MATCH_EXACT, MOCK_ROUTE_PROVIDER,
      handle_wecom_gettoken },
    { "POST", "/wecom/cgi-bin/message/send", MOCK_MATCH_EXACT, MOCK_ROUTE_PROVIDER,
      handle_wecom_send },
    { NULL, NULL, 0, 0, NULL },
};

/* Both share the state above: WeChat's hooks reset and free it, WeCom has
 * none of its own (a second reset would be harmless, a second free not
 * needed). */
const struct mock_provider mock_wechat_provider = { "wechat", wechat_routes, wx_reset, wx_reset };
const struct mock_provider mock_wecom_provider = { "wecom", wecom_routes, NULL, NULL };
