/*
 * test_wechat.c - the WeChat Official Account adapter (PROTOCOLS.md A1,
 * A2, A8): the token requests it builds (stable_token with and without
 * force_refresh, plain /cgi-bin/token), how it reads token answers, the
 * exact template-message request, msgid kept exactly above 2^53, and the
 * errcode classification table row by row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "adapter.h"
#include "config.h"
#include "util.h"

#define BASE "http://127.0.0.1:9100/wechat"
#define APPID "wxb11529c136998cb6"
#define SECRET "3f1a9c0e+7b/2d=4&e?5"          /* needs percent-encoding */
#define SECRET_PCT "3f1a9c0e%2B7b%2F2d%3D4%26e%3F5"
#define TOKEN "80_Xk3Lw-9aBc_dEf"              /* unreserved characters only */
#define OPENID "oia2TjuEGTNoeX76QEjQNrcURxG8"
#define LINK "https://hf.example.com/s/abc.def?x=1&y=2"
#define NOW_1505 1795503900LL                  /* 2026-11-24T15:05:00+08:00 */
#define MIDNIGHT_25 1795536000LL               /* 2026-11-25T00:00:00+08:00 */
#define MIDNIGHT_26 1795622400LL               /* 2026-11-26T00:00:00+08:00 */

struct fx {
    struct config cfg;
    cJSON *recipient, *project, *rendered;
    struct out_msg msg;
    struct http_req req;
};

/* ---- helpers ----------------------------------------------------------- */

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->cfg.wechat_enabled = 1;
    f->cfg.wechat_base_url = xstrdup(BASE);
    f->cfg.wechat_appid = xstrdup(APPID);
    f->cfg.wechat_secret = xstrdup(SECRET);
    f->cfg.wechat_token_api = xstrdup("stable");
    f->recipient = cJSON_Parse("{\"role\":\"customer\",\"name\":\"王明\",\"title\":\"先生\","
                               "\"mobile\":\"13812345678\",\"wechat_openid\":\"" OPENID "\"}");
    f->project = cJSON_Parse("{\"id\":\"P1\",\"address\":\"上海市浦东新区 1 号\"}");
    f->rendered = cJSON_Parse(
        "{\"text\":\"王先生您好\","
        "\"sms\":{\"template_code\":\"SMS_1\",\"params\":{\"name\":\"王先生\"}},"
        "\"wechat\":{\"template_id\":\"HF_TPL_SURVEY\",\"url\":\"" LINK "\","
        "\"data\":{\"first\":{\"value\":\"王先生您好\"},\"keyword1\":{\"value\":\"回访\"},"
        "\"remark\":{\"value\":\"谢谢 \\\"您\\\"\"}}}}");
    if (!f->recipient || !f->project || !f->rendered)
        return -1;
    f->msg = (struct out_msg){.id = 12, .kind = "survey", .milestone = "completion",
                              .message = "survey", .channel = "wechat", .attempt = 1,
                              .recipient = f->recipient, .project = f->project,
                              .rendered = f->rendered, .survey_link = LINK,
                              .access_token = TOKEN, .now = NOW_1505,
                              .nonce = "0123456789abcdef0123456789abcdef"};
    http_req_init(&f->req);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    http_req_cleanup(&f->req);
    cJSON_Delete(f->recipient);
    cJSON_Delete(f->project);
    cJSON_Delete(f->rendered);
    free(f->cfg.wechat_base_url);
    free(f->cfg.wechat_appid);
    free(f->cfg.wechat_secret);
    free(f->cfg.wechat_token_api);
    free(f);
    return 0;
}

static const char *header(const struct http_req *r, const char *name)
{
    const char *found = NULL;
    size_t n = strlen(name);
    for (int i = 0; i < r->nheaders; i++) {
        const char *h = r->headers[i];
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            if (found)
                fail_msg("header %s appears twice", name);
            found = h + n + 1;
            while (*found == ' ')
                found++;
        }
    }
    return found;
}

static void build_ok(struct fx *f)
{
    char err[256] = "";
    if (wechat_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err) != 0)
        fail_msg("build_request failed: %s", err);
}

/* build_request must fail, say why, and leave nothing half-built. */
static void build_fails(struct fx *f, const char *why)
{
    char err[256] = "";
    http_req_cleanup(&f->req);
    assert_int_equal(wechat_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err), -1);
    if (!strstr(err, why))
        fail_msg("error \"%s\" does not mention \"%s\"", err, why);
    assert_null(f->req.url);
    assert_null(f->req.body);
    assert_null(f->req.method);
    assert_int_equal(f->req.nheaders, 0);
}

static const char *outcome_name(enum send_outcome o)
{
    switch (o) {
    case SEND_OK: return "SEND_OK";
    case SEND_RETRY: return "SEND_RETRY";
    case SEND_FAIL: return "SEND_FAIL";
    case SEND_UNREACHABLE: return "SEND_UNREACHABLE";
    case SEND_DEFER: return "SEND_DEFER";
    case SEND_TOKEN_INVALID: return "SEND_TOKEN_INVALID";
    }
    return "?";
}

static void parse(struct fx *f, long status, const char *body, struct send_result *res)
{
    struct http_resp resp = {.status = status, .body = body ? body : "",
                             .body_len = body ? strlen(body) : 0};
    memset(res, 0, sizeof *res);
    wechat_adapter.parse_response(&f->cfg, &f->msg, &resp, res);
}

/* token_parse of HTTP @status / @body. Returns its rc. */
static int tparse(struct fx *f, long status, const char *body, char *tok, size_t toklen,
                  int64_t *exp, int *retryable, char *err, size_t errlen)
{
    struct http_resp resp = {.status = status, .body = body ? body : "",
                             .body_len = body ? strlen(body) : 0};
    *exp = -7;
    *retryable = -7;
    err[0] = '\0';
    return wechat_adapter.token_parse(&f->cfg, &resp, tok, toklen, exp, retryable, err, errlen);
}

/* ---- enabled / can_reach ------------------------------------------------ */

static void test_enabled_and_can_reach(void **state)
{
    struct fx *f = *state;
    assert_string_equal(wechat_adapter.name, "wechat");
    assert_string_equal(wechat_adapter.channel, "wechat");
    assert_ptr_equal(adapter_find("wechat"), &wechat_adapter);
    assert_true(wechat_adapter.enabled(&f->cfg));
    f->cfg.wechat_enabled = 0;
    assert_false(wechat_adapter.enabled(&f->cfg));
    assert_true(wechat_adapter.can_reach(&f->cfg, f->recipient));
    cJSON *r = cJSON_Parse("{\"role\":\"customer\",\"mobile\":\"13812345678\"}");
    assert_false(wechat_adapter.can_reach(&f->cfg, r));
    cJSON_AddStringToObject(r, "wechat_openid", "");
    assert_false(wechat_adapter.can_reach(&f->cfg, r));
    cJSON_Delete(r);
    r = cJSON_Parse("{\"wechat_openid\":null}");
    assert_false(wechat_adapter.can_reach(&f->cfg, r));
    cJSON_Delete(r);
    assert_non_null(wechat_adapter.token_request);
    assert_non_null(wechat_adapter.token_parse);
}

/* ---- token_request ------------------------------------------------------ */

static void test_token_request_stable(void **state)
{
    struct fx *f = *state;
    char err[256] = "";
    assert_int_equal(wechat_adapter.token_request(&f->cfg, 0, &f->req, err, sizeof err), 0);
    assert_string_equal(f->req.method, "POST");
    assert_string_equal(f->req.url, BASE "/cgi-bin/stable_token");
    assert_string_equal(f->req.body, "{\"grant_type\":\"client_credential\",\"appid\":\"" APPID
                                     "\",\"secret\":\"" SECRET "\",\"force_refresh\":false}");
    assert_int_equal(f->req.body_len, strlen(f->req.body));
    const char *ct = header(&f->req, "Content-Type");
    assert_non_null(ct);
    assert_int_equal(strncmp(ct, "application/json", 16), 0);
}

static void test_token_request_stable_force(void **state)
{
    struct fx *f = *state;
    char err[256] = "";
    assert_int_equal(wechat_adapter.token_request(&f->cfg, 1, &f->req, err, sizeof err), 0);
    assert_string_equal(f->req.method, "POST");
    assert_string_equal(f->req.url, BASE "/cgi-bin/stable_token");
    assert_string_equal(f->req.body, "{\"grant_type\":\"client_credential\",\"appid\":\"" APPID
                                     "\",\"secret\":\"" SECRET "\",\"force_refresh\":true}");
}

static void test_token_request_plain(void **state)
{
    struct fx *f = *state;
    char err[256] = "";
    free(f->cfg.wechat_token_api);
    f->cfg.wechat_token_api = xstrdup("plain");
    assert_int_equal(wechat_adapter.token_request(&f->cfg, 0, &f->req, err, sizeof err), 0);
    assert_string_equal(f->req.method, "GET");
    assert_string_equal(f->req.url, BASE "/cgi-bin/token?grant_type=client_credential&appid=" APPID
                                         "&secret=" SECRET_PCT);
    assert_null(f->req.body);
    assert_int_equal(f->req.body_len, 0);
    /* force means nothing for /cgi-bin/token: the same request */
    http_req_cleanup(&f->req);
    assert_int_equal(wechat_adapter.token_request(&f->cfg, 1, &f->req, err, sizeof err), 0);
    assert_string_equal(f->req.url, BASE "/cgi-bin/token?grant_type=client_credential&appid=" APPID
                                         "&secret=" SECRET_PCT);
}

static void test_token_request_base_with_slash_and_errors(void **state)
{
    struct fx *f = *state;
    char err[256] = "";
    free(f->cfg.wechat_base_url);
    f->cfg.wechat_base_url = xstrdup(BASE "/");
    assert_int_equal(wechat_adapter.token_request(&f->cfg, 0, &f->req, err, sizeof err), 0);
    assert_string_equal(f->req.url, BASE "/cgi-bin/stable_token");
    http_req_cleanup(&f->req);

    free(f->cfg.wechat_token_api);
    f->cfg.wechat_token_api = xstrdup("fancy");
    assert_int_equal(wechat_adapter.token_request(&f->cfg, 0, &f->req, err, sizeof err), -1);
    assert_non_null(strstr(err, "token_api"));
    assert_null(f->req.url);

    free(f->cfg.wechat_token_api);
    f->cfg.wechat_token_api = xstrdup("stable");
    free(f->cfg.wechat_secret);
    f->cfg.wechat_secret = NULL;
    assert_int_equal(wechat_adapter.token_request(&f->cfg, 0, &f->req, err, sizeof err), -1);
    assert_non_null(strstr(err, "secret"));
    assert_null(f->req.url);
    assert_null(f->req.body);
}

/* ---- token_parse -------------------------------------------------------- */

static void test_token_parse_ok(void **state)
{
    struct fx *f = *state;
    char tok[600], err[256];
    int64_t exp;
    int retry;
    assert_int_equal(tparse(f, 200, "{\"access_token\":\"ACCESS_TOKEN_1\",\"expires_in\":7200}",
                            tok, sizeof tok, &exp, &retry, err, sizeof err), 0);
    assert_string_equal(tok, "ACCESS_TOKEN_1");
    assert_int_equal(exp, 7200);
    /* errcode 0 alongside is fine; a shorter lifetime is used as given */
    assert_int_equal(tparse(f, 200, "{\"errcode\":0,\"access_token\":\"T2\",\"expires_in\":5400}",
                            tok, sizeof tok, &exp, &retry, err, sizeof err), 0);
    assert_string_equal(tok, "T2");
    assert_int_equal(exp, 5400);

    /* 512 bytes (the documented maximum) fit a 600-byte buffer */
    char body[700], big[513];
    memset(big, 'A', 512);
    big[512] = '\0';
    snprintf(body, sizeof body, "{\"access_token\":\"%s\",\"expires_in\":7200}", big);
    assert_int_equal(tparse(f, 200, body, tok, sizeof tok, &exp, &retry, err, sizeof err), 0);
    assert_string_equal(tok, big);
    /* ... but not a 100-byte one: a clean, non-retryable error */
    assert_int_equal(tparse(f, 200, body, tok, 100, &exp, &retry, err, sizeof err), -1);
    assert_int_equal(retry, 0);
    assert_true(strlen(err) > 0);
}

static void expect_token_err(struct fx *f, const char *body, int want_retry, const char *mention)
{
    char tok[600] = "untouched", err[256];
    int64_t exp;
    int retry;
    assert_int_equal(tparse(f, 200, body, tok, sizeof tok, &exp, &retry, err, sizeof err), -1);
    if (retry != want_retry)
        fail_msg("%s: retryable=%d, expected %d (err: %s)", body, retry, want_retry, err);
    assert_true(strlen(err) > 0);
    if (mention && !strstr(err, mention))
        fail_msg("%s: error \"%s\" does not mention \"%s\"", body, err, mention);
    assert_null(strstr(err, SECRET));
}

static void test_token_parse_errcodes(void **state)
{
    struct fx *f = *state;
    expect_token_err(f, "{\"errcode\":-1,\"errmsg\":\"system error\"}", 1, "-1");
    expect_token_err(f, "{\"errcode\":40001,\"errmsg\":\"invalid credential\"}", 0, "40001");
    expect_token_err(f, "{\"errcode\":40002,\"errmsg\":\"invalid grant_type\"}", 0, "40002");
    expect_token_err(f, "{\"errcode\":40013,\"errmsg\":\"invalid appid\"}", 0, "40013");
    expect_token_err(f, "{\"errcode\":40125,\"errmsg\":\"invalid appsecret\"}", 0, "40125");
    expect_token_err(f, "{\"errcode\":40164,\"errmsg\":\"invalid ip 1.2.3.4, not in whitelist\"}",
                     0, "40164");
    expect_token_err(f, "{\"errcode\":48001,\"errmsg\":\"api unauthorized\"}", 0, "48001");
    /* quotas pass */
    expect_token_err(f, "{\"errcode\":45009,\"errmsg\":\"reach max api daily quota limit\"}", 1,
                     "45009");
    expect_token_err(f, "{\"errcode\":45011,\"errmsg\":\"api minute-quota reach limit\"}", 1,
                     "45011");
    /* the errmsg is shown, the secret never: an echo of it is dropped */
    expect_token_err(f, "{\"errcode\":40001,\"errmsg\":\"invalid credential\"}", 0,
                     "invalid credential");
    expect_token_err(f, "{\"errcode\":40125,\"errmsg\":\"invalid appsecret " SECRET "\"}", 0,
                     "40125");
}

static void test_token_parse_garbage_and_http(void **state)
{
    struct fx *f = *state;
    expect_token_err(f, "<html>502 Bad Gateway</html>", 1, NULL);
    expect_token_err(f, "", 1, NULL);
    expect_token_err(f, "{}", 1, NULL);
    expect_token_err(f, "[1,2]", 1, NULL);
    expect_token_err(f, "{\"access_token\":\"T\"}", 1, NULL);
    expect_token_err(f, "{\"access_token\":\"\",\"expires_in\":7200}", 1, NULL);
    expect_token_err(f, "{\"access_token\":5,\"expires_in\":7200}", 1, NULL);
    expect_token_err(f, "{\"access_token\":\"T\",\"expires_in\":0}", 1, NULL);

    char tok[600], err[256];
    int64_t exp;
    int retry;
    assert_int_equal(tparse(f, 500, "{}", tok, sizeof tok, &exp, &retry, err, sizeof err), -1);
    assert_int_equal(retry, 1);
    assert_non_null(strstr(err, "500"));
    assert_int_equal(tparse(f, 503, "", tok, sizeof tok, &exp, &retry, err, sizeof err), -1);
    assert_int_equal(retry, 1);
    assert_int_equal(tparse(f, 404, "not found", tok, sizeof tok, &exp, &retry, err, sizeof err),
                     -1);
    assert_int_equal(retry, 0);

    struct http_resp tr = {.transport_error = 1, .error = "Couldn't connect to server",
                           .body = "", .body_len = 0};
    retry = -7;
    assert_int_equal(wechat_adapter.token_parse(&f->cfg, &tr, tok, sizeof tok, &exp, &retry, err,
                                                sizeof err), -1);
    assert_int_equal(retry, 1);
}

/* ---- build_request -------------------------------------------------------- */

#define DATA_JSON "{\"first\":{\"value\":\"王先生您好\"},\"keyword1\":{\"value\":\"回访\"}," \
                  "\"remark\":{\"value\":\"谢谢 \\\"您\\\"\"}}"

static void test_build_exact_request(void **state)
{
    struct fx *f = *state;
    build_ok(f);
    assert_string_equal(f->req.method, "POST");
    assert_string_equal(f->req.url, BASE "/cgi-bin/message/template/send?access_token=" TOKEN);
    const char *ct = header(&f->req, "Content-Type");
    assert_non_null(ct);
    assert_int_equal(strncmp(ct, "application/json", 16), 0);
    assert_string_equal(f->req.body, "{\"touser\":\"" OPENID "\",\"template_id\":\"HF_TPL_SURVEY\","
                                     "\"url\":\"" LINK "\",\"client_msg_id\":\"hf-12\","
                                     "\"data\":" DATA_JSON "}");
    assert_int_equal(f->req.body_len, strlen(f->req.body));
    assert_true(utf8_valid(f->req.body, f->req.body_len));
    /* nothing secret travels */
    assert_null(strstr(f->req.body, SECRET));
    assert_null(strstr(f->req.url, SECRET));
    assert_null(strstr(f->req.body, TOKEN));
}

static void test_build_without_url_omits_it(void **state)
{
    struct fx *f = *state;
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(f->rendered, "wechat"), "url");
    f->msg.survey_link = NULL;
    f->msg.id = 9000000000123LL;
    build_ok(f);
    assert_string_equal(f->req.body, "{\"touser\":\"" OPENID "\",\"template_id\":\"HF_TPL_SURVEY\","
                                     "\"client_msg_id\":\"hf-9000000000123\",\"data\":" DATA_JSON
                                     "}");
    /* an empty url is no url */
    http_req_cleanup(&f->req);
    cJSON_AddStringToObject(cJSON_GetObjectItem(f->rendered, "wechat"), "url", "");
    build_ok(f);
    assert_null(strstr(f->req.body, "\"url\""));
}

static void test_build_token_is_percent_encoded(void **state)
{
    struct fx *f = *state;
    f->msg.access_token = "a+b/c=";
    free(f->cfg.wechat_base_url);
    f->cfg.wechat_base_url = xstrdup("https://api.weixin.qq.com/");
    build_ok(f);
    assert_string_equal(f->req.url, "https://api.weixin.qq.com/cgi-bin/message/template/send"
                                    "?access_token=a%2Bb%2Fc%3D");
}

static void test_build_retry_same_client_msg_id(void **state)
{
    struct fx *f = *state;
    build_ok(f);
    char *first = xstrdup(f->req.body);
    http_req_cleanup(&f->req);
    f->msg.attempt = 4;
    f->msg.access_token = "ANOTHER_TOKEN";
    build_ok(f);
    assert_string_equal(f->req.body, first); /* same body, same dedup key */
    assert_string_equal(f->req.url, BASE "/cgi-bin/message/template/send?access_token=ANOTHER_TOKEN");
    free(first);
}

static void test_build_errors(void **state)
{
    struct fx *f = *state;
    f->msg.access_token = NULL;
    build_fails(f, "access token");
    f->msg.access_token = "";
    build_fails(f, "access token");
    f->msg.access_token = TOKEN;

    cJSON *r = cJSON_Parse("{\"role\":\"customer\",\"mobile\":\"13812345678\"}");
    f->msg.recipient = r;
    build_fails(f, "wechat_openid");
    f->msg.recipient = f->recipient;
    cJSON_Delete(r);

    cJSON *wx = cJSON_DetachItemFromObject(f->rendered, "wechat");
    build_fails(f, "wechat part");
    cJSON_AddStringToObject(f->rendered, "wechat", "not an object");
    build_fails(f, "wechat part");
    cJSON_DeleteItemFromObject(f->rendered, "wechat");

    cJSON *data = cJSON_DetachItemFromObject(wx, "data");
    cJSON_AddItemToObject(f->rendered, "wechat", wx);
    build_fails(f, "template_id and data");
    cJSON_AddItemToObject(wx, "data", data);
    cJSON_DeleteItemFromObject(wx, "template_id");
    build_fails(f, "template_id and data");
}

/* ---- parse_response --------------------------------------------------------- */

static void test_parse_ok_msgid_exact(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    parse(f, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":200228332}", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "200228332");
    assert_string_equal(res.code, "wechat_0");
    assert_string_equal(res.detail, "ok");

    /* above 2^53: a double would give ...808 */
    parse(f, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":9223372036854775806}", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "9223372036854775806");
    /* 2^53 + 1: the first integer a double cannot hold */
    parse(f, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":9007199254740993}", &res);
    assert_string_equal(res.provider_id, "9007199254740993");
    /* 2^62 + 1, as the mock answers, with spacing and members around it;
     * a nested "msgid" is not the top-level one */
    parse(f, 200, " { \"x\" : {\"msgid\":1,\"s\":\"}\\\"msgid\\\":2\"} , \"errcode\" : 0 ,"
                  "\"errmsg\":\"ok\",\n\"msgid\" :\t4611686018427387905 }\n", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "4611686018427387905");
    /* first member */
    parse(f, 200, "{\"msgid\":18446744073709551615,\"errcode\":0,\"errmsg\":\"ok\"}", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "18446744073709551615");
    /* a string msgid is kept as it is */
    parse(f, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"1234567890123456789\"}", &res);
    assert_string_equal(res.provider_id, "1234567890123456789");
    /* no msgid: accepted all the same */
    parse(f, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "");
}

struct row {
    long errcode;
    enum send_outcome outcome;
};

static void test_parse_classification_table(void **state)
{
    struct fx *f = *state;
    static const struct row rows[] = {
        {0, SEND_OK},
        {40001, SEND_TOKEN_INVALID},
        {40014, SEND_TOKEN_INVALID},
        {42001, SEND_TOKEN_INVALID},
        {-1, SEND_RETRY},
        {45009, SEND_DEFER},
        {45011, SEND_DEFER},
        {43004, SEND_UNREACHABLE},
        {43101, SEND_UNREACHABLE},
        {40003, SEND_UNREACHABLE},
        {40037, SEND_FAIL},
        {47003, SEND_FAIL},
        {47001, SEND_FAIL},
        {41001, SEND_FAIL},
        {48001, SEND_FAIL},
        {40164, SEND_FAIL},
        {40002, SEND_FAIL},
        {45015, SEND_FAIL},
        {99999, SEND_FAIL},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(rows); i++) {
        char body[160], code[48];
        snprintf(body, sizeof body,
                 "{\"errcode\":%ld,\"errmsg\":\"message for %ld rid: 6543\",\"msgid\":77}",
                 rows[i].errcode, rows[i].errcode);
        struct send_result res;
        parse(f, 200, body, &res);
        if (res.outcome != rows[i].outcome)
            fail_msg("errcode %ld -> %s, expected %s", rows[i].errcode,
                     outcome_name(res.outcome), outcome_name(rows[i].outcome));
        snprintf(code, sizeof code, "wechat_%ld", rows[i].errcode);
        assert_string_equal(res.code, code);
        char detail[64];
        snprintf(detail, sizeof detail, "message for %ld rid: 6543", rows[i].errcode);
        assert_string_equal(res.detail, detail);
        if (rows[i].outcome == SEND_OK)
            assert_string_equal(res.provider_id, "77");
        else
            assert_string_equal(res.provider_id, "");
        if (rows[i].outcome != SEND_DEFER)
            assert_int_equal(res.defer_until, 0);
    }
}

static void test_parse_defer_times(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    /* daily quota: the next midnight in Beijing */
    parse(f, 200, "{\"errcode\":45009,\"errmsg\":\"reach max api daily quota limit\"}", &res);
    assert_int_equal(res.outcome, SEND_DEFER);
    assert_int_equal(res.defer_until, MIDNIGHT_25);
    f->msg.now = MIDNIGHT_25 - 1; /* 23:59:59 */
    parse(f, 200, "{\"errcode\":45009,\"errmsg\":\"x\"}", &res);
    assert_int_equal(res.defer_until, MIDNIGHT_25);
    f->msg.now = MIDNIGHT_25; /* exactly midnight: the following one */
    parse(f, 200, "{\"errcode\":45009,\"errmsg\":\"x\"}", &res);
    assert_int_equal(res.defer_until, MIDNIGHT_26);
    f->msg.now = 1795478399LL; /* 07:59:59 Beijing = 23:59:59 UTC the day before */
    parse(f, 200, "{\"errcode\":45009,\"errmsg\":\"x\"}", &res);
    assert_int_equal(res.defer_until, MIDNIGHT_25);
    /* the formula of the brief */
    int64_t now = f->msg.now, h8 = 8 * 3600;
    assert_int_equal(res.defer_until, ((now + h8) / 86400 + 1) * 86400 - h8);

    /* minute quota: one minute */
    f->msg.now = NOW_1505;
    parse(f, 200, "{\"errcode\":45011,\"errmsg\":\"api minute-quota reach limit\"}", &res);
    assert_int_equal(res.outcome, SEND_DEFER);
    assert_int_equal(res.defer_until, NOW_1505 + 60);
}

static void test_parse_http_and_garbage(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    parse(f, 500, "{\"errcode\":0,\"msgid\":1}", &res);
    assert_int_equal(res.outcome, SEND_RETRY);
    assert_string_equal(res.code, "http_500");
    assert_string_equal(res.provider_id, "");
    parse(f, 429, "", &res);
    assert_int_equal(res.outcome, SEND_RETRY);
    parse(f, 403, "{}", &res);
    assert_int_equal(res.outcome, SEND_FAIL);
    assert_string_equal(res.code, "http_403");

    struct http_resp to = {.transport_error = 1, .timed_out = 1, .error = "timed out",
                           .body = "", .body_len = 0};
    memset(&res, 0, sizeof res);
    wechat_adapter.parse_response(&f->cfg, &f->msg, &to, &res);
    assert_int_equal(res.outcome, SEND_RETRY);
    assert_string_equal(res.code, "timeout");

    /* 1e300 was cast to long unchecked (undefined behaviour), 0.5 read as
     * success: both are unreadable answers now, msgid or not. */
    const char *garbage[] = {"", "<html>ok</html>", "{\"errmsg\":\"ok\"}", "[0]", "{\"errcode\":",
                             "{\"errcode\":1e300}", "{\"errcode\":0.5,\"msgid\":42}"};
    for (size_t i = 0; i < HF_ARRAY_LEN(garbage); i++) {
        parse(f, 200, garbage[i], &res);
        if (res.outcome != SEND_RETRY)
            fail_msg("body '%s' -> %s", garbage[i], outcome_name(res.outcome));
        assert_string_equal(res.code, "wechat_bad_response");
        assert_string_equal(res.provider_id, "");
    }
}

static void test_parse_long_errmsg_truncated(void **state)
{
    struct fx *f = *state;
    char body[1200], msg[1000];
    memset(msg, 'm', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    snprintf(body, sizeof body, "{\"errcode\":47003,\"errmsg\":\"%s\\n\"}", msg);
    struct send_result res;
    parse(f, 200, body, &res);
    assert_int_equal(res.outcome, SEND_FAIL);
    assert_int_equal(strlen(res.detail), sizeof res.detail - 1);
    assert_null(strchr(res.detail, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enabled_and_can_reach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_request_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_request_stable_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_request_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_request_base_with_slash_and_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_parse_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_parse_errcodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_parse_garbage_and_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_exact_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_without_url_omits_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_token_is_percent_encoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_retry_same_client_msg_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_ok_msgid_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_classification_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_defer_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_http_and_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_long_errmsg_truncated, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
