/*
 * test_webhook.c - the generic JSON webhook adapter and the adapter
 * registry: the request it builds (method, url, headers, signed body) and
 * how it classifies provider answers.
 *
 * The signature is checked against an HMAC-SHA256 computed here with
 * OpenSSL directly, not through util.c.
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
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "adapter.h"
#include "config.h"
#include "util.h"

#define URL "http://127.0.0.1:9100/webhook"
#define SECRET "webhook-secret-abcdef"
#define TEXT "王先生您好，您家的竣工验收已完成。请回复 1-10 分评价我们的服务 \"谢谢\"。"
#define LINK "https://hf.example.com/s/abc.def"

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
    f->cfg.webhook_enabled = 1;
    f->cfg.webhook_url = xstrdup(URL);
    f->cfg.webhook_secret = xstrdup(SECRET);
    f->recipient = cJSON_Parse("{\"role\":\"customer\",\"name\":\"王明\",\"title\":\"先生\","
                               "\"mobile\":\"13812345678\",\"wechat_openid\":\"oABC\"}");
    f->project = cJSON_Parse("{\"id\":\"P1\",\"address\":\"上海市浦东新区 1 号\"}");
    f->rendered = cJSON_CreateObject();
    cJSON_AddStringToObject(f->rendered, "text", TEXT);
    cJSON_AddItemToObject(f->rendered, "sms",
                          cJSON_Parse("{\"template\":\"SMS_123\",\"params\":{\"name\":\"王\"}}"));
    cJSON_AddItemToObject(f->rendered, "wechat",
                          cJSON_Parse("{\"template_id\":\"T1\",\"data\":{\"first\":\"您好\"}}"));
    if (!f->recipient || !f->project || !cJSON_GetObjectItem(f->rendered, "sms") ||
        !cJSON_GetObjectItem(f->rendered, "wechat"))
        return -1;
    f->msg = (struct out_msg){.id = 12, .kind = "survey", .milestone = "completion",
                              .message = "survey", .channel = "webhook", .attempt = 1,
                              .recipient = f->recipient, .project = f->project,
                              .rendered = f->rendered, .survey_link = LINK};
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
    free(f->cfg.webhook_url);
    free(f->cfg.webhook_secret);
    free(f);
    return 0;
}

static void build_ok(struct fx *f)
{
    char err[256] = "";
    if (webhook_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err) != 0)
        fail_msg("build_request failed: %s", err);
}

/* The value of header @name (case-insensitive), or NULL; fails if it
 * appears twice. */
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

static void hmac_hex(const char *key, const char *msg, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, n, md,
                         &mdlen));
    assert_int_equal(mdlen, 32);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static cJSON *body_json(const struct http_req *r)
{
    assert_non_null(r->body);
    assert_int_equal(r->body_len, strlen(r->body));
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    if (!j)
        fail_msg("body is not JSON: %s", r->body);
    return j;
}

static void parse(struct fx *f, long status, const char *body, struct send_result *res)
{
    struct http_resp resp = {.status = status, .body = body ? body : "",
                             .body_len = body ? strlen(body) : 0};
    memset(res, 0, sizeof *res);
    webhook_adapter.parse_response(&f->cfg, &f->msg, &resp, res);
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

static void expect_status(struct fx *f, long status, enum send_outcome want, const char *code)
{
    struct send_result res;
    parse(f, status, "{\"error\":\"x\"}", &res);
    if (res.outcome != want)
        fail_msg("HTTP %ld -> %s, expected %s", status, outcome_name(res.outcome),
                 outcome_name(want));
    assert_string_equal(res.code, code);
    assert_string_equal(res.provider_id, "");
}

/* ---- build_request ------------------------------------------------------- */

static void test_build_method_url_headers(void **state)
{
    struct fx *f = *state;
    build_ok(f);
    assert_string_equal(f->req.method, "POST");
    assert_string_equal(f->req.url, URL);
    const char *ct = header(&f->req, "Content-Type");
    assert_non_null(ct);
    assert_int_equal(strncmp(ct, "application/json", 16), 0);
    const char *idem = header(&f->req, "Idempotency-Key");
    assert_non_null(idem);
    assert_string_equal(idem, "hf-12");
}

static void test_build_signature_is_hmac_of_body(void **state)
{
    struct fx *f = *state;
    build_ok(f);
    const char *sig = header(&f->req, "X-Huifang-Signature");
    assert_non_null(sig);
    char want[80], hex[65];
    hmac_hex(SECRET, f->req.body, f->req.body_len, hex);
    snprintf(want, sizeof want, "sha256=%s", hex);
    assert_string_equal(sig, want);
    /* the secret itself never goes on the wire */
    for (int i = 0; i < f->req.nheaders; i++)
        assert_null(strstr(f->req.headers[i], SECRET));
    assert_null(strstr(f->req.body, SECRET));
}

static void test_build_body_fields(void **state)
{
    struct fx *f = *state;
    build_ok(f);
    cJSON *j = body_json(&f->req);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "id")), "hf-12");
    cJSON *mid = cJSON_GetObjectItem(j, "message_id");
    assert_true(cJSON_IsNumber(mid));
    assert_int_equal(mid->valuedouble, 12);
    cJSON *att = cJSON_GetObjectItem(j, "attempt");
    assert_true(cJSON_IsNumber(att));
    assert_int_equal(att->valuedouble, 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "kind")), "survey");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "milestone")), "completion");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "message")), "survey");
    assert_true(cJSON_Compare(cJSON_GetObjectItem(j, "recipient"), f->recipient, 1));
    assert_true(cJSON_Compare(cJSON_GetObjectItem(j, "project"), f->project, 1));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "text")), TEXT);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "survey_link")), LINK);
    assert_true(cJSON_Compare(cJSON_GetObjectItem(j, "sms"),
                              cJSON_GetObjectItem(f->rendered, "sms"), 1));
    assert_true(cJSON_Compare(cJSON_GetObjectItem(j, "wechat"),
                              cJSON_GetObjectItem(f->rendered, "wechat"), 1));
    assert_true(utf8_valid(f->req.body, f->req.body_len));
    cJSON_Delete(j);
}

/* A retry carries the same dedup key (the receiver sees one message) and
 * its own attempt number and signature. */
static void test_build_retry_keeps_idempotency_key(void **state)
{
    struct fx *f = *state;
    build_ok(f);
    char sig1[80];
    snprintf(sig1, sizeof sig1, "%s", header(&f->req, "X-Huifang-Signature"));
    http_req_cleanup(&f->req);
    f->msg.attempt = 3;
    build_ok(f);
    assert_string_equal(header(&f->req, "Idempotency-Key"), "hf-12");
    cJSON *j = body_json(&f->req);
    assert_int_equal(cJSON_GetObjectItem(j, "attempt")->valuedouble, 3);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "id")), "hf-12");
    cJSON_Delete(j);
    assert_string_not_equal(header(&f->req, "X-Huifang-Signature"), sig1);
}

static void test_build_without_secret_has_no_signature(void **state)
{
    struct fx *f = *state;
    free(f->cfg.webhook_secret);
    f->cfg.webhook_secret = NULL;
    build_ok(f);
    assert_null(header(&f->req, "X-Huifang-Signature"));
    assert_non_null(header(&f->req, "Idempotency-Key"));
    assert_non_null(header(&f->req, "Content-Type"));
}

static void test_build_without_survey_link_or_parts(void **state)
{
    struct fx *f = *state;
    cJSON_DeleteItemFromObject(f->rendered, "sms");
    cJSON_DeleteItemFromObject(f->rendered, "wechat");
    f->msg.survey_link = NULL;
    f->msg.kind = "notice";
    f->msg.message = "notice";
    build_ok(f);
    cJSON *j = body_json(&f->req);
    cJSON *link = cJSON_GetObjectItem(j, "survey_link");
    assert_true(link == NULL || cJSON_IsNull(link));
    assert_null(cJSON_GetObjectItem(j, "sms"));
    assert_null(cJSON_GetObjectItem(j, "wechat"));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "text")), TEXT);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "kind")), "notice");
    cJSON_Delete(j);
}

static void test_build_rendered_without_text_fails(void **state)
{
    struct fx *f = *state;
    cJSON_DeleteItemFromObject(f->rendered, "text");
    char err[256] = "";
    assert_int_equal(webhook_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    assert_non_null(strstr(err, "text"));
    /* nothing half-built is left behind */
    assert_null(f->req.body);
    assert_null(f->req.url);
    assert_int_equal(f->req.nheaders, 0);

    /* text of the wrong type is no better */
    cJSON_AddNumberToObject(f->rendered, "text", 5);
    err[0] = '\0';
    assert_int_equal(webhook_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
}

/* ---- parse_response ---------------------------------------------------------- */

static void test_parse_200_with_string_id(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    parse(f, 200, "{\"id\":\"x\"}", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "x");
    parse(f, 202, "{\"status\":\"queued\",\"id\":\"msg-7f3a\"}", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "msg-7f3a");
}

static void test_parse_200_with_numeric_id(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    parse(f, 200, "{\"id\":12345}", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "12345");
    parse(f, 201, "{\"id\":4000000001}", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "4000000001");
}

static void test_parse_200_without_usable_id(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    parse(f, 200, "OK, got it", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "");
    parse(f, 200, "", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "");
    parse(f, 204, NULL, &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "");
    parse(f, 200, "{\"id\":null}", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "");
    parse(f, 200, "[\"id\"]", &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "");
    parse(f, 200, "{\"id\":\"", &res); /* truncated JSON */
    assert_int_equal(res.outcome, SEND_OK);
    assert_string_equal(res.provider_id, "");
}

static void test_parse_long_provider_id_truncated_safely(void **state)
{
    struct fx *f = *state;
    char body[400], id[300];
    memset(id, 'a', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    snprintf(body, sizeof body, "{\"id\":\"%s\"}", id);
    struct send_result res;
    parse(f, 200, body, &res);
    assert_int_equal(res.outcome, SEND_OK);
    assert_int_equal(strlen(res.provider_id), sizeof res.provider_id - 1);
}

static void test_parse_transient_statuses_retry(void **state)
{
    struct fx *f = *state;
    expect_status(f, 500, SEND_RETRY, "http_500");
    expect_status(f, 502, SEND_RETRY, "http_502");
    expect_status(f, 503, SEND_RETRY, "http_503");
    expect_status(f, 504, SEND_RETRY, "http_504");
    expect_status(f, 429, SEND_RETRY, "http_429");
    expect_status(f, 408, SEND_RETRY, "http_408");
    expect_status(f, 425, SEND_RETRY, "http_425");
}

static void test_parse_client_errors_fail(void **state)
{
    struct fx *f = *state;
    expect_status(f, 400, SEND_FAIL, "http_400");
    expect_status(f, 401, SEND_FAIL, "http_401");
    expect_status(f, 403, SEND_FAIL, "http_403");
    expect_status(f, 404, SEND_FAIL, "http_404");
    expect_status(f, 422, SEND_FAIL, "http_422");
    /* a redirect is not an acceptance */
    expect_status(f, 301, SEND_FAIL, "http_301");
    /* an error body with an "id" is not a provider id */
    struct send_result res;
    parse(f, 400, "{\"id\":\"err-1\"}", &res);
    assert_int_equal(res.outcome, SEND_FAIL);
    assert_string_equal(res.provider_id, "");
}

static void test_parse_transport_error_and_timeout_retry(void **state)
{
    struct fx *f = *state;
    struct send_result res;
    struct http_resp resp = {.transport_error = 1, .error = "Couldn't connect to server",
                             .body = "", .body_len = 0};
    memset(&res, 0, sizeof res);
    webhook_adapter.parse_response(&f->cfg, &f->msg, &resp, &res);
    assert_int_equal(res.outcome, SEND_RETRY);
    assert_string_equal(res.code, "transport");
    assert_non_null(strstr(res.detail, "Couldn't connect"));

    struct http_resp to = {.transport_error = 1, .timed_out = 1,
                           .error = "Operation timed out after 15000 milliseconds",
                           .body = "", .body_len = 0};
    memset(&res, 0, sizeof res);
    webhook_adapter.parse_response(&f->cfg, &f->msg, &to, &res);
    assert_int_equal(res.outcome, SEND_RETRY);
    assert_string_equal(res.code, "timeout");

    struct http_resp noerr = {.transport_error = 1, .error = NULL, .body = "", .body_len = 0};
    memset(&res, 0, sizeof res);
    webhook_adapter.parse_response(&f->cfg, &f->msg, &noerr, &res);
    assert_int_equal(res.outcome, SEND_RETRY);
    assert_string_equal(res.code, "transport");
    assert_true(strlen(res.detail) > 0);
}

/* ---- registry and enablement -------------------------------------------------- */

static void test_adapter_find(void **state)
{
    (void)state;
    assert_ptr_equal(adapter_find("webhook"), &webhook_adapter);
    assert_string_equal(adapter_find("webhook")->name, "webhook");
    assert_null(adapter_find("pigeon"));
    assert_null(adapter_find(""));
    assert_null(adapter_find("Webhook"));
    /* every registered adapter is complete and findable by its own name */
    assert_true(adapter_registry_len >= 1);
    for (size_t i = 0; i < adapter_registry_len; i++) {
        const struct channel_adapter *a = adapter_registry[i];
        assert_non_null(a->name);
        assert_non_null(a->enabled);
        assert_non_null(a->can_reach);
        assert_non_null(a->build_request);
        assert_non_null(a->parse_response);
        assert_ptr_equal(adapter_find(a->name), a);
    }
}

static void test_enabled_follows_config(void **state)
{
    struct fx *f = *state;
    assert_int_equal(webhook_adapter.enabled(&f->cfg), 1);
    f->cfg.webhook_enabled = 0;
    assert_int_equal(webhook_adapter.enabled(&f->cfg), 0);
    struct config zero;
    memset(&zero, 0, sizeof zero);
    assert_int_equal(webhook_adapter.enabled(&zero), 0);
}

static void test_can_reach_anyone(void **state)
{
    struct fx *f = *state;
    assert_int_equal(webhook_adapter.can_reach(&f->cfg, f->recipient), 1);
    cJSON *empty = cJSON_CreateObject();
    assert_int_equal(webhook_adapter.can_reach(&f->cfg, empty), 1);
    cJSON_Delete(empty);
}

static void test_http_req_headers_and_cleanup(void **state)
{
    (void)state;
    struct http_req r;
    http_req_init(&r);
    http_req_add_header(&r, "X-A: %d", 1);
    http_req_add_header(&r, "X-B: %s", "two");
    assert_int_equal(r.nheaders, 2);
    assert_string_equal(r.headers[0], "X-A: 1");
    assert_string_equal(r.headers[1], "X-B: two");
    http_req_cleanup(&r);
    assert_int_equal(r.nheaders, 0);
    assert_null(r.body);
    http_req_cleanup(&r); /* twice is harmless */
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_build_method_url_headers),
        T(test_build_signature_is_hmac_of_body),
        T(test_build_body_fields),
        T(test_build_retry_keeps_idempotency_key),
        T(test_build_without_secret_has_no_signature),
        T(test_build_without_survey_link_or_parts),
        T(test_build_rendered_without_text_fails),
        T(test_parse_200_with_string_id),
        T(test_parse_200_with_numeric_id),
        T(test_parse_200_without_usable_id),
        T(test_parse_long_provider_id_truncated_safely),
        T(test_parse_transient_statuses_retry),
        T(test_parse_client_errors_fail),
        T(test_parse_transport_error_and_timeout_retry),
        T(test_adapter_find),
        T(test_enabled_follows_config),
        T(test_can_reach_anyone),
        T(test_http_req_headers_and_cleanup),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
