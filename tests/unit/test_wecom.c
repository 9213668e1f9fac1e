/*
 * test_wecom.c - the WeCom application-message adapter (PROTOCOLS.md B1,
 * B2): the gettoken request and its answers, the exact message/send
 * request (agentid an integer, text capped at 2048 bytes on a UTF-8
 * boundary), invaliduser handling and the errcode table row by row.
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

#define BASE "http://127.0.0.1:9100/wecom"
#define CORPID "wx5823bf96d3bd56c7"
#define SECRET "Ab+c/De=f&g?h i"
#define SECRET_PCT "Ab%2Bc%2FDe%3Df%26g%3Fh%20i"
#define TOKEN "wc-TOKEN_123"
#define USER "ZhangWei"
#define TEXT "【告警】项目 P-2026-0042 回访差评：客户陈女士对水电验收不满意，请 24 小时内联系。"
#define NOW_1505 1795503900LL     /* 2026-11-24T15:05:00+08:00 */
#define MIDNIGHT_25 1795536000LL  /* 2026-11-25T00:00:00+08:00 */

struct fx {
    struct config cfg;
    cJSON *recipient, *rendered;
    struct out_msg msg;
    struct http_req req;
};

/* ---- helpers ----------------------------------------------------------- */

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->cfg.wecom_enabled = 1;
    f->cfg.wecom_base_url = xstrdup(BASE);
    f->cfg.wecom_corpid = xstrdup(CORPID);
    f->cfg.wecom_secret = xstrdup(SECRET);
    f->cfg.wecom_agentid = 1000002;
    f->recipient = cJSON_Parse("{\"role\":\"pm\",\"name\":\"张伟\",\"mobile\":\"13900001111\","
                               "\"wecom_id\":\"" USER "\"}");
    f->rendered = cJSON_CreateObject();
    cJSON_AddStringToObject(f->rendered, "text", TEXT);
    if (!f->recipient)
        return -1;
    f->msg = (struct out_msg){.id = 31, .kind = "alert", .milestone = "completion",
                              .message = "alert", .channel = "wecom", .attempt = 1,
                              .recipient = f->recipient, .rendered = f->rendered,
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
    cJSON_Delete(f->rendered);
    free(f->cfg.wecom_base_url);
    free(f->cfg.wecom_corpid);
    free(f->cfg.wecom_secret);
    free(f);
    return 0;
}

static void build_ok(struct fx *f)
{
    char err[256] = "";
    if (wecom_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err) != 0)
        fail_msg("build_request failed: %s", err);
}

static void build_fails(struct fx *f, const char *why)
{
    char err[256] = "";
    http_req_cleanup(&f->req);
    assert_int_equal(wecom_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err), -1);
    if (!strstr(err, why))
        fail_msg("error \"%s\" does not mention \"%s\"", err, why);
    assert_null(f->req.url);
    assert_null(f->req.body);
    assert_int_equal(f->req.nheaders, 0);
}

/* The text.content of the built body. Caller owns; free(). */
/* Every alert ends with its reference line "\n编号：hf-<id>" (so two alerts
 * with the same text are not merged by WeCom's duplicate check). */
#define REF "\n编号：hf-31"
#define BUDGET (2048 - (sizeof REF - 1)) /* bytes left for the text itself */

/* The text part of the built content (the reference checked and cut off). */
static char *built_content(struct fx *f)
{
    cJSON *j = cJSON_ParseWithLength(f->req.body, f->req.body_len);
    assert_non_null(j);
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "text"),
                                                             "content"));
    assert_non_null(c);
    size_t n = strlen(c);
    assert_true(n <= 2048);
    assert_true(n >= sizeof REF - 1);
    assert_string_equal(c + n - (sizeof REF - 1), REF);
    char *copy = xstrndup(c, n - (sizeof REF - 1));
    cJSON_Delete(j);
    return copy;
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
    wecom_adapter.parse_response(&f->cfg, &f->msg, &resp, res);
}

static int tparse(struct fx *f, long status, const char *body, char *tok, size_t toklen,
                  int64_t *exp, int *retryable, char *err, size_t errlen)
{
    struct http_resp resp = {.status = status, .body = body ? body : "",
                             .body_len = body ? strlen(body) : 0};
    *exp = -7;
    *retryable = -7;
    err[0] = '\0';
    return wecom_adapter.token_parse(&f->cfg, &resp, tok, toklen, exp, retryable, err, errlen);
}

/* ---- enabled / can_reach ------------------------------------------------ */

static void test_enabled_and_can_reach(void **state)
{
    struct fx *f = *state;
    assert_string_equal(wecom_adapter.name, "wecom");
    assert_string_equal(wecom_adapter.channel, "wecom");
    assert_ptr_equal(adapter_for_channel(&f->cfg, "wecom"), &wecom_adapter);
    assert_true(wecom_adapter.enabled(&f->cfg));
    f->cfg.wecom_enabled = 0;
    assert_false(wecom_adapter.enabled(&f->cfg));
    assert_true(wecom_adapter.can_reach(&f->cfg, f->recipient));
    cJSON *r = cJSON_Parse("{\"role\":\"pm\",\"mobile\":\"13900001111\",\"wecom_id\":\"\"}");
    assert_false(wecom_adapter.can_reach(&f->cfg, r));
    cJSON_Delete(r);
    r = cJSON_Parse("{\"role\":\"pm\",\"wechat_openid\":\"oX\"}");
    assert_false(wecom_adapter.can_reach(&f->cfg, r));
    cJSON_Delete(r);
}

/* ---- token -------------------------------------------------------------- */

static void test_token_request(void **state)
{
    struct fx *f = *state;
    char err[256] = "";
    assert_int_equal(wecom_adapter.token_request(&f->cfg, 0, &f->req, err, sizeof err), 0);
    assert_string_equal(f->req.method, "GET");
    assert_string_equal(f->req.url,
                        BASE "/cgi-bin/gettoken?corpid=" CORPID "&corpsecret=" SECRET_PCT);
    assert_null(f->req.body);
    /* no forced refresh in WeCom: the same request */
    http_req_cleanup(&f->req);
    assert_int_equal(wecom_adapter.token_request(&f->cfg, 1, &f->req, err, sizeof err), 0);
    assert_string_equal(f->req.url,
                        BASE "/cgi-bin/gettoken?corpid=" CORPID "&corpsecret=" SECRET_PCT);
    http_req_cleanup(&f->req);

    free(f->cfg.wecom_corpid);
    f->cfg.wecom_corpid = NULL;
    assert_int_equal(wecom_adapter.token_request(&f->cfg, 0, &f->req, err, sizeof err), -1);
    assert_non_null(strstr(err, "corpid"));
    assert_null(f->req.url);
}

static void test_token_parse_ok(void **state)
{
    struct fx *f = *state;
    char tok[600], err[256];
    int64_t exp;
    int retry;
    assert_int_equal(tparse(f, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"access_token\":"
                                    "\"accesstoken000001\",\"expires_in\":7200}",
                            tok, sizeof tok, &exp, &retry, err, sizeof err), 0);
    assert_string_equal(tok, "accesstoken000001");
    assert_int_equal(exp, 7200);
}

static void expect_token_err(struct fx *f, long status, const char *body, int want_retry,
                             const char *mention)
{
    char tok[600], err[256];
    int64_t exp;
    int retry;
    assert_int_equal(tparse(f, status, body, tok, sizeof tok, &exp, &retry, err, sizeof err), -1);
    if (retry != want_retry)
        fail_msg("%s: retryable=%d, expected %d (err: %s)", body, retry, want_retry, err);
    assert_true(strlen(err) > 0);
    if (mention && !strstr(err, mention))
        fail_msg("%s: error \"%s\" does not mention \"%s\"", body, err, mention);
    assert_null(strstr(err, SECRET));
}

static void test_token_parse_errors(void **state)
{
    struct fx *f = *state;
    expect_token_err(f, 200, "{\"errcode\":-1,\"errmsg\":\"system busy\"}", 1, "-1");
    expect_token_err(f, 200, "{\"errcode\":1e300,\"errmsg\":\"?\"}", 1, "not an integer");
    expect_token_err(f, 200, "{\"errcode\":0.5,\"access_token\":\"T\",\"expires_in\":7200}", 1,
                     "not an integer");
    expect_token_err(f, 200, "{\"errcode\":40013,\"errmsg\":\"invalid corpid\"}", 0, "40013");
    expect_token_err(f, 200, "{\"errcode\":40001,\"errmsg\":\"invalid credential\"}", 0, "40001");
    expect_token_err(f, 200, "{\"errcode\":40091,\"errmsg\":\"secret is invalid " SECRET "\"}",
                     0, "40091");
    expect_token_err(f, 200, "{\"errcode\":60020,\"errmsg\":\"not allow to access from your ip\"}",
                     0, "60020");
    expect_token_err(f, 200, "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}", 1,
                     "45009");
    expect_token_err(f, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", 1, NULL);
    expect_token_err(f, 200, "not json", 1, NULL);
    expect_token_err(f, 502, "", 1, "502");
    expect_token_err(f, 404, "", 0, "404");
}

/* ---- build_request -------------------------------------------------------- */

static void test_build_exact_request(void **state)
{
    struct fx *f = *state;
    build_ok(f);
    assert_string_equal(f->req.method, "POST");
    assert_string_equal(f->req.url, BASE "/cgi-bin/message/send?access_token=" TOKEN);
    assert_string_equal(f->req.body,
                        "{\"touser\":\"" USER "\",\"msgtype\":\"text\",\"agentid\":1000002,"
                        "\"text\":{\"content\":\"" TEXT "\\n编号：hf-31\"},\"safe\":0,"
                        "\"enable_duplicate_check\":1,\"duplicate_check_interval\":1800}");
    assert_int_equal(f->req.body_len, strlen(f->req.body));
    int found = 0;
    for (int i = 0; i < f->req.nheaders; i++)
        found |= strncasecmp(f->req.headers[i], "Content-Type: application/json", 30) == 0;
    assert_true(found);
    assert_null(strstr(f->req.body, SECRET));
}

static void test_build_agentid_is_integer(void **state)
{
    struct fx *f = *state;
    f->cfg.wecom_agentid = 2147483647;
    build_ok(f);
    assert_non_null(strstr(f->req.body, "\"agentid\":2147483647,"));
    cJSON *j = cJSON_ParseWithLength(f->req.body, f->req.body_len);
    cJSON *a = cJSON_GetObjectItem(j, "agentid");
    assert_true(cJSON_IsNumber(a));
    assert_true(a->valuedouble == 2147483647.0);
    cJSON_Delete(j);
}

static void test_build_text_cap_utf8(void **state)
{
    struct fx *f = *state;
    /* exactly the budget in ASCII: kept whole */
    char ascii[2050];
    memset(ascii, 'a', BUDGET);
    ascii[BUDGET] = '\0';
    cJSON_ReplaceItemInObject(f->rendered, "text", cJSON_CreateString(ascii));
    build_ok(f);
    char *c = built_content(f);
    assert_string_equal(c, ascii);
    free(c);

    /* one more byte: cut to budget-3 + "…" */
    http_req_cleanup(&f->req);
    ascii[BUDGET] = 'b';
    ascii[BUDGET + 1] = '\0';
    cJSON_ReplaceItemInObject(f->rendered, "text", cJSON_CreateString(ascii));
    build_ok(f);
    c = built_content(f);
    assert_int_equal(strlen(c), BUDGET);
    assert_int_equal(strncmp(c, ascii, BUDGET - 3), 0);
    assert_string_equal(c + BUDGET - 3, "\xe2\x80\xa6");
    free(c);

    /* 3-byte characters: 700 x "验" = 2100 bytes; the cut backs up to a
     * whole character */
    http_req_cleanup(&f->req);
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 700; i++)
        buf_puts(&b, "验");
    cJSON_ReplaceItemInObject(f->rendered, "text", cJSON_CreateString(b.data));
    build_ok(f);
    c = built_content(f);
    size_t whole = (BUDGET - 3) / 3 * 3;
    assert_int_equal(strlen(c), whole + 3);
    assert_true(utf8_valid(c, strlen(c)));
    assert_int_equal(strncmp(c, b.data, whole), 0);
    assert_string_equal(c + whole, "\xe2\x80\xa6");
    free(c);
    buf_cleanup(&b);

    /* a 4-byte emoji across the cut is dropped whole */
    http_req_cleanup(&f->req);
    buf_init(&b);
    for (size_t i = 0; i < BUDGET - 4; i++)
        buf_puts(&b, "x");
    buf_puts(&b, "\xf0\x9f\x98\x80tail");
    cJSON_ReplaceItemInObject(f->rendered, "text", cJSON_CreateString(b.data));
    build_ok(f);
    c = built_content(f);
    assert_int_equal(strlen(c), BUDGET - 4 + 3);
    assert_true(utf8_valid(c, strlen(c)));
    assert_int_equal(strncmp(c, b.data, BUDGET - 4), 0);
    free(c);
    buf_cleanup(&b);
}

static void test_build_errors(void **state)
{
    struct fx *f = *state;
    f->msg.access_token = NULL;
    build_fails(f, "access token");
    f->msg.access_token = TOKEN;

    cJSON *r = cJSON_Parse("{\"role\":\"pm\",\"mobile\":\"13900001111\"}");
    f->msg.recipient = r;
    build_fails(f, "wecom_id");
    f->msg.recipient = f->recipient;
    cJSON_Delete(r);

    cJSON_DeleteItemFromObject(f->rendered, "text");
    build_fails(f, "text");
}

/* ---- parse_response --------------------------------------------------------- */

static void test_parse_ok(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    parse(f, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"\",\"msgid\":"
                  "\"hmyyxBgTXZu2sy-OkWsRHIbUNNlE2dCB6sQtAbzYqyrtbs7oirtB7pOl4hTMDf5CmoMtZx8C\"}",
          &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.code, "wecom_0");
    assert_string_equal(res.provider_id,
                        "hmyyxBgTXZu2sy-OkWsRHIbUNNlE2dCB6sQtAbzYqyrtbs7oirtB7pOl4hTMDf5CmoMtZx8C");
    /* without invaliduser at all */
    parse(f, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"m1\"}", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "m1");
}

static void test_parse_invaliduser(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    /* WeCom lower-cases the userids it lists */
    const char *unreachable[] = {
        "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"zhangwei\",\"msgid\":\"m\"}",
        "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"ZhangWei\",\"msgid\":\"m\"}",
        "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"lisi|zhangwei\",\"msgid\":\"m\"}",
        "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"zhangwei|lisi\",\"msgid\":\"m\"}",
        "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"\",\"unlicenseduser\":\"zhangwei\"}",
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(unreachable); i++) {
        parse(f, 200, unreachable[i], &res);
        if (res.outcome != SEND_UNREACHABLE)
            fail_msg("%s -> %s", unreachable[i], outcome_name(res.outcome));
        assert_int_equal(strncmp(res.code, "wecom_", 6), 0);
        assert_string_equal(res.provider_id, "");
    }
    parse(f, 200, unreachable[0], &res);
    assert_string_equal(res.code, "wecom_invaliduser");
    /* other users listed, or a longer name: still delivered to ours */
    const char *ok[] = {
        "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"zhangwei2\",\"msgid\":\"m\"}",
        "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"xzhangwei|lisi\",\"msgid\":\"m\"}",
        "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"zhang\",\"msgid\":\"m\"}",
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(ok); i++) {
        parse(f, 200, ok[i], &res);
        if (res.outcome != SEND_OK)
            fail_msg("%s -> %s", ok[i], outcome_name(res.outcome));
        assert_string_equal(res.provider_id, "m");
    }
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
        {40014, SEND_TOKEN_INVALID},
        {42001, SEND_TOKEN_INVALID},
        {40001, SEND_TOKEN_INVALID},
        {-1, SEND_RETRY},
        {81013, SEND_UNREACHABLE},
        {45009, SEND_DEFER},
        {45033, SEND_DEFER},
        {40056, SEND_FAIL},
        {40008, SEND_FAIL},
        {44004, SEND_FAIL},
        {45002, SEND_FAIL},
        {48002, SEND_FAIL},
        {60020, SEND_FAIL},
        {301002, SEND_FAIL},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(rows); i++) {
        char body[200], code[48], detail[48];
        snprintf(body, sizeof body,
                 "{\"errcode\":%ld,\"errmsg\":\"msg %ld\",\"invaliduser\":\"\",\"msgid\":\"id7\"}",
                 rows[i].errcode, rows[i].errcode);
        struct send_result res;
        parse(f, 200, body, &res);
        if (res.outcome != rows[i].outcome)
            fail_msg("errcode %ld -> %s, expected %s", rows[i].errcode,
                     outcome_name(res.outcome), outcome_name(rows[i].outcome));
        snprintf(code, sizeof code, "wecom_%ld", rows[i].errcode);
        assert_string_equal(res.code, code);
        snprintf(detail, sizeof detail, "msg %ld", rows[i].errcode);
        assert_string_equal(res.detail, detail);
        assert_string_equal(res.provider_id, rows[i].outcome == SEND_OK ? "id7" : "");
    }
}

static void test_parse_defer_times(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    parse(f, 200, "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}", &res);
    assert_int_equal(res.outcome, SEND_DEFER);
    assert_int_equal(res.defer_until, NOW_1505 + 60);
    parse(f, 200, "{\"errcode\":45009,\"errmsg\":\"reach max api daily quota limit\"}", &res);
    assert_int_equal(res.outcome, SEND_DEFER);
    assert_int_equal(res.defer_until, MIDNIGHT_25);
    parse(f, 200, "{\"errcode\":45033,\"errmsg\":\"api concurrent out of limit\"}", &res);
    assert_int_equal(res.outcome, SEND_DEFER);
    assert_int_equal(res.defer_until, NOW_1505 + 60);
}

static void test_parse_http_and_garbage(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    parse(f, 502, "", &res);
    assert_int_equal(res.outcome, SEND_RETRY);
    assert_string_equal(res.code, "http_502");
    parse(f, 400, "{\"errcode\":0}", &res);
    assert_int_equal(res.outcome, SEND_FAIL);
    struct http_resp tr = {.transport_error = 1, .error = "reset", .body = "", .body_len = 0};
    memset(&res, 0, sizeof res);
    wecom_adapter.parse_response(&f->cfg, &f->msg, &tr, &res);
    assert_int_equal(res.outcome, SEND_RETRY);
    assert_string_equal(res.code, "transport");
    /* 1e300 and 0.5 were cast to long unchecked (undefined behaviour; a
     * provider's 0.5 read as success): now unreadable answers. */
    const char *garbage[] = {"", "<html/>", "{\"errmsg\":\"ok\"}", "{\"errcode\":\"0\"}",
                             "{\"errcode\":1e300}", "{\"errcode\":-1e300}", "{\"errcode\":0.5}"};
    for (size_t i = 0; i < HF_ARRAY_LEN(garbage); i++) {
        parse(f, 200, garbage[i], &res);
        if (res.outcome != SEND_RETRY)
            fail_msg("body '%s' -> %s", garbage[i], outcome_name(res.outcome));
        assert_string_equal(res.code, "wecom_bad_response");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enabled_and_can_reach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_parse_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_parse_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_exact_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_agentid_is_integer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_text_cap_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_invaliduser, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_classification_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_defer_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_http_and_garbage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
