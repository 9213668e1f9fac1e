/*
 * test_tencent.c - TC3-HMAC-SHA256 (adapters/sign_tc3.c) and the Tencent
 * Cloud SMS adapter (adapters/tencent_sms.c).
 *
 *  - Vector 1 is the published doc example (cvm DescribeInstances; its
 *    payload holds literal \uXXXX escapes) and vector 2 the SMS fixture
 *    computed with the official SDK (shared/vectors/expected-output.txt).
 *    Every intermediate is compared: payload hash, canonical request, its
 *    hash, date, string to sign, kDate/kService/kSigning, signature and the
 *    Authorization value.
 *  - The adapter's request for a fixed message, config and clock is
 *    compared byte for byte (URL, headers, body). Its Authorization is
 *    checked against a literal computed with Python's hashlib/hmac and
 *    against a recomputation here with OpenSSL directly (not through
 *    sign_tc3.c).
 *  - The answer classification is one cmocka test per table row.
 *  - The status pull (PullSmsSendStatusByPhoneNumber): its request byte
 *    for byte (body, headers, Authorization against a Python literal and
 *    the OpenSSL recomputation), its window, its errors; its answer
 *    parsing, one case per kind of answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "adapter.h"
#include "config.h"
#include "sign_tc3.h"
#include "util.h"

#define SECRET_ID "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
#define SECRET_KEY "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"

/* ===================================================================== */
/* Reference TC3 with OpenSSL directly (content-type;host only)            */
/* ===================================================================== */

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
    out[2 * n] = '\0';
}

static void ref_sha256(const void *p, size_t n, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(p, n, md);
    hex(md, sizeof md, out);
}

static void ref_hmac(const void *key, size_t keylen, const char *msg, unsigned char md[32])
{
    unsigned int len = 0;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), md, &len);
    assert_int_equal(len, 32);
}

/* The Authorization value for a POST of @body with Content-Type @ct to
 * @host at @ts, UTC date @date. Caller frees. */
static char *ref_authorization(const char *host, const char *ct, const char *date, long long ts,
                               const char *body, size_t body_len)
{
    char ph[65], hc[65], sig[65];
    unsigned char k1[32], k2[32], k3[32], s[32];
    ref_sha256(body, body_len, ph);
    char *canon = xasprintf("POST\n/\n\ncontent-type:%s\nhost:%s\n\ncontent-type;host\n%s", ct,
                            host, ph);
    ref_sha256(canon, strlen(canon), hc);
    char *sts = xasprintf("TC3-HMAC-SHA256\n%lld\n%s/sms/tc3_request\n%s", ts, date, hc);
    char *k0 = xasprintf("TC3%s", SECRET_KEY);
    ref_hmac(k0, strlen(k0), date, k1);
    ref_hmac(k1, 32, "sms", k2);
    ref_hmac(k2, 32, "tc3_request", k3);
    ref_hmac(k3, 32, sts, s);
    hex(s, 32, sig);
    char *auth = xasprintf("TC3-HMAC-SHA256 Credential=%s/%s/sms/tc3_request, "
                           "SignedHeaders=content-type;host, Signature=%s",
                           SECRET_ID, date, sig);
    free(canon);
    free(sts);
    free(k0);
    return auth;
}

static void assert_key_hex(const unsigned char k[32], const char *want)
{
    char h[65];
    hex(k, 32, h);
    assert_string_equal(h, want);
}

/* ===================================================================== */
/* TC3 vectors                                                             */
/* ===================================================================== */

/* Vector 1: the published "签名方法 v3" example. The payload's \u672a...
 * are six literal bytes each (backslash, 'u', four hex digits). */
static void test_tc3_vector1_published(void **state)
{
    (void)state;
    static const char payload[] =
        "{\"Limit\": 1, \"Filters\": [{\"Values\": [\"\\u672a\\u547d\\u540d\"], "
        "\"Name\": \"instance-name\"}]}";
    assert_non_null(strstr(payload, "[\"\\u672a")); /* the escape really is literal */
    struct tc3_params p = {
        .secret_id = SECRET_ID,
        .secret_key = SECRET_KEY,
        .service = "cvm",
        .host = "cvm.tencentcloudapi.com",
        .content_type = "application/json; charset=utf-8",
        .timestamp = 1551113065,
        .payload = payload,
        .payload_len = strlen(payload),
    };
    struct tc3_sig s;
    assert_int_equal(tc3_sign(&p, &s), HF_OK);
    assert_string_equal(s.hashed_payload,
                        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
    assert_string_equal(s.canonical_request,
                        "POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
                        "host:cvm.tencentcloudapi.com\n\ncontent-type;host\n"
                        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
    assert_string_equal(s.hashed_canonical_request,
                        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
    /* 16:44 UTC is already the 26th in Beijing: the date must be UTC's. */
    assert_string_equal(s.date, "2019-02-25");
    assert_string_equal(s.credential_scope, "2019-02-25/cvm/tc3_request");
    assert_string_equal(s.string_to_sign,
                        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
                        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
    assert_string_equal(s.signed_headers, "content-type;host");
    assert_key_hex(s.k_date, "d1308c81fe71cfd4e06437bbc067b2b8a3d2d8c0e375d547f15c41d5214b395a");
    assert_key_hex(s.k_service,
                   "3c7cb7c7795393edc14fd2e0e6434a518564b4504b88e94f5d11bf59ba3e7050");
    assert_key_hex(s.k_signing,
                   "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1");
    assert_string_equal(s.signature,
                        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
    assert_string_equal(s.authorization,
                        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/"
                        "2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, "
                        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
    tc3_sig_cleanup(&s);
}

#define V2_BODY                                                                          \
    "{\"PhoneNumberSet\":[\"+8613800138000\"],\"SmsSdkAppId\":\"1400006666\","           \
    "\"SignName\":\"\xe8\x85\xbe\xe8\xae\xaf\xe4\xba\x91\",\"TemplateId\":\"1110\","     \
    "\"TemplateParamSet\":[\"4370\"],\"SessionContext\":\"order-42\"}"

/* Vector 2: SendSms with raw UTF-8 (腾讯云), as the official SDK signs it. */
static void test_tc3_vector2_sms(void **state)
{
    (void)state;
    static const char payload[] = V2_BODY;
    assert_non_null(strstr(payload, "腾讯云"));
    struct tc3_params p = {
        .secret_id = SECRET_ID,
        .secret_key = SECRET_KEY,
        .service = "sms",
        .host = "sms.tencentcloudapi.com",
        .content_type = "application/json",
        .timestamp = 1700000000,
        .payload = payload,
        .payload_len = strlen(payload),
    };
    struct tc3_sig s;
    assert_int_equal(tc3_sign(&p, &s), HF_OK);
    assert_string_equal(s.hashed_payload,
                        "71cc4f7e4f46964ef012fdd753083fa7d105296dc668e5c62a058ee59b917d15");
    assert_string_equal(s.canonical_request,
                        "POST\n/\n\ncontent-type:application/json\nhost:sms.tencentcloudapi.com\n"
                        "\ncontent-type;host\n"
                        "71cc4f7e4f46964ef012fdd753083fa7d105296dc668e5c62a058ee59b917d15");
    assert_string_equal(s.hashed_canonical_request,
                        "c69f1880cb49ef44e5aca2e6a1c8d0cd979307288f599baa84c95b322e31bb2c");
    assert_string_equal(s.date, "2023-11-14");
    assert_string_equal(s.credential_scope, "2023-11-14/sms/tc3_request");
    assert_string_equal(s.string_to_sign,
                        "TC3-HMAC-SHA256\n1700000000\n2023-11-14/sms/tc3_request\n"
                        "c69f1880cb49ef44e5aca2e6a1c8d0cd979307288f599baa84c95b322e31bb2c");
    assert_key_hex(s.k_date, "887d0077ac19ed5cba18590a4fe79f7e1d851a9b05bd4e02a3af730156456978");
    assert_key_hex(s.k_service,
                   "7ecd95c4a08b095be11369d2e19326b69efddd7d3f6a9e780f09cea4fbf7e0db");
    assert_key_hex(s.k_signing,
                   "0a217ad592544c30baf8f92382e97794175d4d06488032639cd2c1594cb492fa");
    assert_string_equal(s.signature,
                        "892c0a6c1843be82e289b01a8d00d7dcb7f0d5456bd004da3576fc333586e030");
    assert_string_equal(s.authorization,
                        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/"
                        "2023-11-14/sms/tc3_request, SignedHeaders=content-type;host, "
                        "Signature=892c0a6c1843be82e289b01a8d00d7dcb7f0d5456bd004da3576fc333586e030");
    /* The OpenSSL-only reference agrees. */
    char *ref = ref_authorization("sms.tencentcloudapi.com", "application/json", "2023-11-14",
                                  1700000000, payload, strlen(payload));
    assert_string_equal(s.authorization, ref);
    free(ref);
    tc3_sig_cleanup(&s);
}

/* Newer docs also sign x-tc-action, its value lower-cased ("sendsms").
 * Expected values computed with Python hashlib/hmac. Names are sorted
 * whatever order they are given in, and trimmed. */
static void test_tc3_extra_signed_header(void **state)
{
    (void)state;
    static const char payload[] = V2_BODY;
    const struct tc3_header extra[] = {{" X-TC-Action ", " SendSms"}};
    struct tc3_params p = {
        .secret_id = SECRET_ID,
        .secret_key = SECRET_KEY,
        .service = "sms",
        .host = "sms.tencentcloudapi.com",
        .content_type = "application/json",
        .timestamp = 1700000000,
        .payload = payload,
        .payload_len = strlen(payload),
        .extra = extra,
        .nextra = 1,
    };
    struct tc3_sig s;
    assert_int_equal(tc3_sign(&p, &s), HF_OK);
    assert_string_equal(s.signed_headers, "content-type;host;x-tc-action");
    assert_non_null(strstr(s.canonical_request,
                           "host:sms.tencentcloudapi.com\nx-tc-action:sendsms\n\n"
                           "content-type;host;x-tc-action\n"));
    assert_string_equal(s.hashed_canonical_request,
                        "d6d8ad14a66c1b14ab4377e49b6ee3c3eae38a02adb7d943f91b348b0a5f9683");
    assert_string_equal(s.signature,
                        "1d9c42c355034807667cceae24a6b4a05e3fdf0ccb28664c781117787a2f738f");
    assert_non_null(strstr(s.authorization, "SignedHeaders=content-type;host;x-tc-action, "));
    tc3_sig_cleanup(&s);

    /* A header name sorting before content-type lands first. */
    const struct tc3_header early[] = {{"Accept", "x"}};
    p.extra = early;
    assert_int_equal(tc3_sign(&p, &s), HF_OK);
    assert_string_equal(s.signed_headers, "accept;content-type;host");
    tc3_sig_cleanup(&s);
}

static void test_tc3_date_is_utc(void **state)
{
    (void)state;
    char d[11];
    tc3_date(0, d);
    assert_string_equal(d, "1970-01-01");
    tc3_date(1700006399, d); /* 23:59:59Z; 07:59:59 next day in Beijing */
    assert_string_equal(d, "2023-11-14");
    tc3_date(1700006400, d);
    assert_string_equal(d, "2023-11-15");
    tc3_date(1709164800, d); /* leap day */
    assert_string_equal(d, "2024-02-29");
}

static void test_tc3_rejects_bad_input(void **state)
{
    (void)state;
    static const char body[] = "{}";
    const struct tc3_params good = {
        .secret_id = SECRET_ID, .secret_key = SECRET_KEY, .service = "sms",
        .host = "sms.tencentcloudapi.com", .content_type = "application/json",
        .timestamp = 1700000000, .payload = body, .payload_len = 2,
    };
    struct tc3_sig s;
    assert_int_equal(tc3_sign(&good, &s), HF_OK);
    tc3_sig_cleanup(&s);
    assert_null(s.authorization);

    struct tc3_params p = good;
    p.secret_key = "";
    assert_int_equal(tc3_sign(&p, &s), HF_ERR_INVAL);
    assert_null(s.authorization);
    p = good;
    p.secret_id = NULL;
    assert_int_equal(tc3_sign(&p, &s), HF_ERR_INVAL);
    p = good;
    p.host = "evil\r\nx-injected: 1";
    assert_int_equal(tc3_sign(&p, &s), HF_ERR_INVAL);
    p = good;
    p.timestamp = -1;
    assert_int_equal(tc3_sign(&p, &s), HF_ERR_INVAL);
    p = good;
    p.payload = NULL;
    assert_int_equal(tc3_sign(&p, &s), HF_ERR_INVAL);

    const struct tc3_header dup_host[] = {{"Host", "other"}};
    p = good;
    p.extra = dup_host;
    p.nextra = 1;
    assert_int_equal(tc3_sign(&p, &s), HF_ERR_INVAL);
    assert_null(s.canonical_request);
    const struct tc3_header dup[] = {{"X-TC-Action", "a"}, {"x-tc-action", "b"}};
    p.extra = dup;
    p.nextra = 2;
    assert_int_equal(tc3_sign(&p, &s), HF_ERR_INVAL);
    const struct tc3_header crlf[] = {{"X-TC-Region", "ap\nx"}};
    p.extra = crlf;
    p.nextra = 1;
    assert_int_equal(tc3_sign(&p, &s), HF_ERR_INVAL);
    const struct tc3_header empty[] = {{"  ", "x"}};
    p.extra = empty;
    assert_int_equal(tc3_sign(&p, &s), HF_ERR_INVAL);

    /* An empty body is fine: sha256("") */
    p = good;
    p.payload = NULL;
    p.payload_len = 0;
    assert_int_equal(tc3_sign(&p, &s), HF_OK);
    assert_string_equal(s.hashed_payload,
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    tc3_sig_cleanup(&s);
}

static void test_tc3_parse_authorization(void **state)
{
    (void)state;
    struct tc3_auth a;
    assert_int_equal(
        tc3_parse_authorization(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
            "tc3_request, SignedHeaders=content-type;host, "
            "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
            &a),
        HF_OK);
    assert_string_equal(a.secret_id, SECRET_ID);
    assert_string_equal(a.date, "2019-02-25");
    assert_string_equal(a.service, "cvm");
    assert_string_equal(a.signed_headers, "content-type;host");
    assert_string_equal(a.signature,
                        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
    /* No space after the commas is accepted too. */
    assert_int_equal(tc3_parse_authorization(
                         "TC3-HMAC-SHA256 Credential=id/2023-11-14/sms/tc3_request,"
                         "SignedHeaders=content-type;host;x-tc-action,Signature="
                         "892c0a6c1843be82e289b01a8d00d7dcb7f0d5456bd004da3576fc333586e030",
                         &a),
                     HF_OK);
    assert_string_equal(a.signed_headers, "content-type;host;x-tc-action");

    static const char *const bad[] = {
        NULL,
        "",
        "HMAC-SHA256 Credential=id/2023-11-14/sms/tc3_request, SignedHeaders=host, Signature=00",
        "TC3-HMAC-SHA256 Credential=id/2023-11-14/sms/tc3_reques, SignedHeaders=content-type;host, "
        "Signature=892c0a6c1843be82e289b01a8d00d7dcb7f0d5456bd004da3576fc333586e030",
        "TC3-HMAC-SHA256 Credential=id/2023-11-14/tc3_request, SignedHeaders=content-type;host, "
        "Signature=892c0a6c1843be82e289b01a8d00d7dcb7f0d5456bd004da3576fc333586e030",
        "TC3-HMAC-SHA256 Credential=id/2023-11-14/sms/tc3_request, Signature="
        "892c0a6c1843be82e289b01a8d00d7dcb7f0d5456bd004da3576fc333586e030",
        "TC3-HMAC-SHA256 Credential=id/2023-11-14/sms/tc3_request, SignedHeaders=content-type;host, "
        "Signature=892C0A6C1843BE82E289B01A8D00D7DCB7F0D5456BD004DA3576FC333586E030",
        "TC3-HMAC-SHA256 Credential=id/2023-11-14/sms/tc3_request, SignedHeaders=content-type;host, "
        "Signature=892c0a6c",
        "TC3-HMAC-SHA256 Credential=id/2023-11-14/sms/tc3_request SignedHeaders=content-type;host "
        "Signature=892c0a6c1843be82e289b01a8d00d7dcb7f0d5456bd004da3576fc333586e030",
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(bad); i++) {
        if (tc3_parse_authorization(bad[i], &a) != HF_ERR_PROTO)
            fail_msg("bad[%zu] accepted: %s", i, bad[i] ? bad[i] : "(null)");
    }
}

/* ===================================================================== */
/* The adapter's request                                                   */
/* ===================================================================== */

struct fx {
    struct config cfg;
    cJSON *recipient, *project, *rendered;
    struct out_msg msg;
    struct http_req req;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->cfg.sms_provider = xstrdup("tencent");
    f->cfg.sms_sign_name = xstrdup("腾讯云");
    f->cfg.tencent_base_url = xstrdup("https://sms.tencentcloudapi.com");
    f->cfg.tencent_secret_id = xstrdup(SECRET_ID);
    f->cfg.tencent_secret_key = xstrdup(SECRET_KEY);
    f->cfg.tencent_sdk_app_id = xstrdup("1400006666");
    f->cfg.tencent_region = xstrdup("ap-guangzhou");
    f->recipient = cJSON_Parse("{\"role\":\"customer\",\"name\":\"王明\",\"title\":\"先生\","
                               "\"mobile\":\"13800138000\"}");
    f->project = cJSON_Parse("{\"id\":\"P1\",\"address\":\"上海市浦东新区 1 号\"}");
    f->rendered = cJSON_Parse("{\"text\":\"您的验证码是4370\",\"sms\":{\"template_code\":\"1110\","
                              "\"params\":{\"code\":\"4370\"},\"preview\":\"您的验证码是4370\","
                              "\"length\":14,\"segments\":1}}");
    if (!f->recipient || !f->project || !f->rendered)
        return -1;
    f->msg = (struct out_msg){.id = 42, .kind = "notice", .milestone = "completion",
                              .message = "notice", .channel = "sms", .attempt = 1,
                              .recipient = f->recipient, .project = f->project,
                              .rendered = f->rendered, .now = 1700000000,
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
    free(f->cfg.sms_provider);
    free(f->cfg.sms_sign_name);
    free(f->cfg.tencent_base_url);
    free(f->cfg.tencent_secret_id);
    free(f->cfg.tencent_secret_key);
    free(f->cfg.tencent_sdk_app_id);
    free(f->cfg.tencent_region);
    free(f);
    return 0;
}

/* The value of header @name in @r ("Name: value"), or NULL. */
static const char *req_header(const struct http_req *r, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < r->nheaders; i++)
        if (strncmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':' &&
            r->headers[i][n + 1] == ' ')
            return r->headers[i] + n + 2;
    return NULL;
}

/* Nothing the adapter produced carries the secret key. */
static void assert_no_secret(const struct http_req *r)
{
    assert_null(strstr(r->url, SECRET_KEY));
    assert_null(strstr(r->body, SECRET_KEY));
    for (int i = 0; i < r->nheaders; i++)
        assert_null(strstr(r->headers[i], SECRET_KEY));
}

#define FX_BODY                                                                          \
    "{\"PhoneNumberSet\":[\"+8613800138000\"],\"SmsSdkAppId\":\"1400006666\","           \
    "\"SignName\":\"腾讯云\",\"TemplateId\":\"1110\",\"TemplateParamSet\":[\"4370\"],"   \
    "\"SessionContext\":\"hf-42\"}"

static void test_build_exact_request(void **state)
{
    struct fx *f = *state;
    char err[128] = "";
    assert_int_equal(tencent_sms_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err),
                     0);
    assert_string_equal(f->req.method, "POST");
    assert_string_equal(f->req.url, "https://sms.tencentcloudapi.com/");
    assert_string_equal(f->req.body, FX_BODY);
    assert_int_equal(f->req.body_len, strlen(FX_BODY));
    /* Vector 2's body but for SessionContext, byte for byte. */
    assert_int_equal(f->req.body_len, strlen(V2_BODY) - strlen("order-42") + strlen("hf-42"));

    static const char *const want[] = {
        "Content-Type: application/json",
        "Host: sms.tencentcloudapi.com",
        "X-TC-Action: SendSms",
        "X-TC-Version: 2021-01-11",
        "X-TC-Timestamp: 1700000000",
        "X-TC-Region: ap-guangzhou",
        /* computed with Python hashlib/hmac over FX_BODY */
        "Authorization: TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/"
        "2023-11-14/sms/tc3_request, SignedHeaders=content-type;host, "
        "Signature=4af70fcbdaa6f3aef161222da8a32f99af37bcda7fd91d44b362d03f65ca476d",
    };
    assert_int_equal(f->req.nheaders, HF_ARRAY_LEN(want));
    for (size_t i = 0; i < HF_ARRAY_LEN(want); i++)
        assert_string_equal(f->req.headers[i], want[i]);

    /* Recomputed from what is sent: the headers and the exact body bytes. */
    char *ref = ref_authorization(req_header(&f->req, "Host"), req_header(&f->req, "Content-Type"),
                                  "2023-11-14", atoll(req_header(&f->req, "X-TC-Timestamp")),
                                  f->req.body, f->req.body_len);
    assert_string_equal(req_header(&f->req, "Authorization"), ref);
    free(ref);
    assert_no_secret(&f->req);
}

/* Pointed at the mock: the URL keeps its path (+ "/"), Host carries the
 * port, the canonical URI stays "/". */
static void test_build_mock_base_url(void **state)
{
    struct fx *f = *state;
    char err[128] = "";
    free(f->cfg.tencent_base_url);
    f->cfg.tencent_base_url = xstrdup("http://127.0.0.1:9100/tencent");
    free(f->cfg.tencent_region);
    f->cfg.tencent_region = xstrdup("ap-beijing");
    assert_int_equal(tencent_sms_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err),
                     0);
    assert_string_equal(f->req.url, "http://127.0.0.1:9100/tencent/");
    assert_string_equal(req_header(&f->req, "Host"), "127.0.0.1:9100");
    assert_string_equal(req_header(&f->req, "X-TC-Region"), "ap-beijing");
    assert_string_equal(f->req.body, FX_BODY);
    assert_string_equal(req_header(&f->req, "Authorization"),
                        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/"
                        "2023-11-14/sms/tc3_request, SignedHeaders=content-type;host, "
                        "Signature=9f1468936da80aba21507bf5f0ab5416dc7b774f9655f698ccab453998b9f610");
    char *ref = ref_authorization("127.0.0.1:9100", "application/json", "2023-11-14", 1700000000,
                                  f->req.body, f->req.body_len);
    assert_string_equal(req_header(&f->req, "Authorization"), ref);
    free(ref);

    /* A trailing slash is not doubled. */
    http_req_cleanup(&f->req);
    free(f->cfg.tencent_base_url);
    f->cfg.tencent_base_url = xstrdup("http://127.0.0.1:9100/tencent/");
    assert_int_equal(tencent_sms_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err),
                     0);
    assert_string_equal(f->req.url, "http://127.0.0.1:9100/tencent/");
}

/* TemplateParamSet follows the template file's params order; a +86 or 86
 * prefix on the stored mobile is normalised. */
static void test_build_params_in_order(void **state)
{
    struct fx *f = *state;
    char err[128] = "";
    cJSON_Delete(f->rendered);
    f->rendered = cJSON_Parse("{\"text\":\"t\",\"sms\":{\"template_code\":\"2233\",\"params\":"
                              "{\"name\":\"王\",\"date\":\"11月24日\",\"score\":\"10\"}}}");
    f->msg.rendered = f->rendered;
    cJSON_Delete(f->recipient);
    f->recipient = cJSON_Parse("{\"role\":\"customer\",\"mobile\":\"+8613912345678\"}");
    f->msg.recipient = f->recipient;
    f->msg.id = 7;
    assert_int_equal(tencent_sms_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err),
                     0);
    assert_string_equal(f->req.body,
                        "{\"PhoneNumberSet\":[\"+8613912345678\"],\"SmsSdkAppId\":\"1400006666\","
                        "\"SignName\":\"腾讯云\",\"TemplateId\":\"2233\",\"TemplateParamSet\":"
                        "[\"王\",\"11月24日\",\"10\"],\"SessionContext\":\"hf-7\"}");

    /* No params at all: an empty set. */
    http_req_cleanup(&f->req);
    cJSON_Delete(f->rendered);
    f->rendered = cJSON_Parse("{\"text\":\"t\",\"sms\":{\"template_code\":\"9\"}}");
    f->msg.rendered = f->rendered;
    assert_int_equal(tencent_sms_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err),
                     0);
    assert_non_null(strstr(f->req.body, "\"TemplateId\":\"9\",\"TemplateParamSet\":[],"));
}

static void expect_build_error(struct fx *f, const char *fragment)
{
    char err[128] = "";
    http_req_cleanup(&f->req);
    assert_int_equal(tencent_sms_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err),
                     -1);
    if (!strstr(err, fragment))
        fail_msg("error '%s' does not mention '%s'", err, fragment);
    assert_null(f->req.body);
    assert_int_equal(f->req.nheaders, 0);
}

static void test_build_errors(void **state)
{
    struct fx *f = *state;
    /* No sms part in the template. */
    cJSON *sms = cJSON_DetachItemFromObject(f->rendered, "sms");
    expect_build_error(f, "no sms part");
    /* No template code. */
    cJSON_AddItemToObject(f->rendered, "sms", cJSON_Parse("{\"params\":{\"a\":\"1\"}}"));
    expect_build_error(f, "template_code");
    cJSON_DeleteItemFromObject(f->rendered, "sms");
    /* A parameter that is not a string. */
    cJSON_AddItemToObject(f->rendered, "sms",
                          cJSON_Parse("{\"template_code\":\"1\",\"params\":{\"n\":3}}"));
    expect_build_error(f, "sms.params.n");
    cJSON_DeleteItemFromObject(f->rendered, "sms");
    cJSON_AddItemToObject(f->rendered, "sms", sms);
    /* No usable mobile. */
    cJSON_ReplaceItemInObject(f->recipient, "mobile", cJSON_CreateString("12345"));
    expect_build_error(f, "mobile");
    cJSON_DeleteItemFromObject(f->recipient, "mobile");
    expect_build_error(f, "mobile");
    cJSON_AddStringToObject(f->recipient, "mobile", "13800138000");
    /* Missing configuration. */
    char *id = f->cfg.tencent_sdk_app_id;
    f->cfg.tencent_sdk_app_id = NULL;
    expect_build_error(f, "channels.tencent.sdk_app_id");
    f->cfg.tencent_sdk_app_id = id;
    char *url = f->cfg.tencent_base_url;
    f->cfg.tencent_base_url = (char *)"http:///path";
    expect_build_error(f, "base_url");
    f->cfg.tencent_base_url = url;
    /* And it works again. */
    char err[128];
    http_req_cleanup(&f->req);
    assert_int_equal(tencent_sms_adapter.build_request(&f->cfg, &f->msg, &f->req, err, sizeof err),
                     0);
}

static void test_enabled_and_reach(void **state)
{
    struct fx *f = *state;
    assert_string_equal(tencent_sms_adapter.name, "tencent_sms");
    assert_string_equal(tencent_sms_adapter.channel, "sms");
    assert_true(tencent_sms_adapter.enabled(&f->cfg));
    assert_ptr_equal(adapter_for_channel(&f->cfg, "sms"), &tencent_sms_adapter);
    assert_ptr_equal(adapter_find("tencent_sms"), &tencent_sms_adapter);
    free(f->cfg.sms_provider);
    f->cfg.sms_provider = xstrdup("aliyun");
    assert_false(tencent_sms_adapter.enabled(&f->cfg));
    free(f->cfg.sms_provider);
    f->cfg.sms_provider = NULL;
    assert_false(tencent_sms_adapter.enabled(&f->cfg));

    assert_true(tencent_sms_adapter.can_reach(&f->cfg, f->recipient));
    cJSON *r = cJSON_Parse("{\"role\":\"pm\",\"wecom_id\":\"zhangwei\"}");
    assert_false(tencent_sms_adapter.can_reach(&f->cfg, r));
    cJSON_AddStringToObject(r, "mobile", "0755-1234567");
    assert_false(tencent_sms_adapter.can_reach(&f->cfg, r));
    cJSON_Delete(r);
    assert_false(tencent_sms_adapter.can_reach(&f->cfg, NULL));
}

/* ===================================================================== */
/* Classification, one test per row                                        */
/* ===================================================================== */

#define NOW 1700000000LL            /* 2023-11-14T22:13:20Z = 11-15 06:13:20 in Beijing */
#define BJ_MIDNIGHT 1700064000LL    /* 2023-11-16T00:00:00+08:00 */

struct row {
    const char *name;
    long status;          /* 0 with transport = 1 */
    int transport, timed_out;
    const char *body;     /* whole body, or NULL: built from error/status code */
    const char *err_code; /* Response.Error.Code */
    const char *st_code;  /* SendStatusSet[0].Code */
    int64_t now;
    enum send_outcome outcome;
    const char *code;     /* expected res.code (compared up to its size) */
    int64_t defer_until;
    const char *provider_id;
    const char *detail;   /* expected res.detail, or NULL: the Message */
};

#define ERR(c, o) {"Error " c, 200, 0, 0, NULL, c, NULL, NOW, o, c, 0, "", NULL}
#define ST(c, o, d) {"Status " c, 200, 0, 0, NULL, NULL, c, NOW, o, c, d, "", NULL}

static const struct row rows[] = {
    /* Response.Error: the whole request was refused. */
    ERR("AuthFailure.SignatureFailure", SEND_FAIL),
    ERR("AuthFailure.SignatureExpire", SEND_FAIL),
    ERR("AuthFailure.SecretIdNotFound", SEND_FAIL),
    ERR("AuthFailure.InvalidSecretId", SEND_FAIL),
    ERR("AuthFailure.UnauthorizedOperation", SEND_FAIL),
    ERR("RequestLimitExceeded", SEND_RETRY),
    ERR("InternalError", SEND_RETRY),
    ERR("InternalError.SendAndRecvFail", SEND_RETRY),
    ERR("InvalidParameter", SEND_FAIL),
    ERR("InvalidParameterValue", SEND_FAIL),
    ERR("MissingParameter", SEND_FAIL),
    ERR("MissingParameter.EmptyPhoneNumberSet", SEND_FAIL),
    ERR("FailedOperation.JsonParseFail", SEND_FAIL),
    ERR("UnauthorizedOperation.SmsSdkAppIdVerifyFail", SEND_FAIL),
    ERR("UnauthorizedOperation.RequestIpNotInWhitelist", SEND_FAIL),
    ERR("LimitExceeded.PhoneNumberCountLimit", SEND_FAIL),
    {"Error LimitExceeded.AppDailyLimit", 200, 0, 0, NULL, "LimitExceeded.AppDailyLimit", NULL,
     NOW, SEND_DEFER, "LimitExceeded.AppDailyLimit", BJ_MIDNIGHT, "", NULL},
    ERR("UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber", SEND_FAIL),
    ERR("SomeNewError.NeverSeen", SEND_FAIL),
    /* SendStatusSet[0].Code: per number. */
    {"Status Ok", 200, 0, 0, NULL, NULL, "Ok", NOW, SEND_OK, "Ok", 0,
     "5000:1045710669157053657849499619", NULL},
    ST("LimitExceeded.PhoneNumberThirtySecondLimit", SEND_DEFER, NOW + 30),
    ST("LimitExceeded.PhoneNumberOneHourLimit", SEND_DEFER, NOW + 3600),
    ST("LimitExceeded.PhoneNumberDailyLimit", SEND_DEFER, BJ_MIDNIGHT),
    ST("LimitExceeded.PhoneNumberSameContentDailyLimit", SEND_DEFER, BJ_MIDNIGHT),
    ST("LimitExceeded.DeliveryFrequencyLimit", SEND_DEFER, NOW + 3600),
    ST("LimitExceeded.AppDailyLimit", SEND_DEFER, BJ_MIDNIGHT),
    ST("LimitExceeded.AppMainlandChinaDailyLimit", SEND_DEFER, BJ_MIDNIGHT),
    ST("LimitExceeded.AppGlobalDailyLimit", SEND_DEFER, BJ_MIDNIGHT),
    ST("LimitExceeded.DailyLimit", SEND_DEFER, BJ_MIDNIGHT),
    ST("LimitExceeded.SomeNewLimit", SEND_DEFER, NOW + 3600),
    ST("LimitExceeded.PhoneNumberCountLimit", SEND_FAIL, 0),
    ST("InvalidParameterValue.IncorrectPhoneNumber", SEND_FAIL, 0),
    ST("InvalidParameterValue.TemplateParameterFormatError", SEND_FAIL, 0),
    ST("InvalidParameterValue.TemplateParameterLengthLimit", SEND_FAIL, 0),
    ST("FailedOperation.PhoneNumberInBlacklist", SEND_FAIL, 0),
    ST("FailedOperation.SignatureIncorrectOrUnapproved", SEND_FAIL, 0),
    ST("FailedOperation.TemplateIncorrectOrUnapproved", SEND_FAIL, 0),
    ST("FailedOperation.InsufficientBalanceInSmsPackage", SEND_FAIL, 0),
    ST("UnauthorizedOperation.SmsSdkAppIdVerifyFail", SEND_FAIL, 0),
    ST("UnauthorizedOperation.SerivceSuspendDueToArrears", SEND_FAIL, 0),
    ST("UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny", SEND_FAIL, 0),
    ST("InternalError.SendAndRecvFail", SEND_RETRY, 0),
    ST("FailedOperation.SomethingNew", SEND_FAIL, 0),
    /* Beijing-midnight edges: one second before, and exactly at, midnight. */
    {"Status DailyLimit at 23:59:59 Beijing", 200, 0, 0, NULL, NULL,
     "LimitExceeded.PhoneNumberDailyLimit", BJ_MIDNIGHT - 1, SEND_DEFER,
     "LimitExceeded.PhoneNumberDailyLimit", BJ_MIDNIGHT, "", NULL},
    {"Status DailyLimit at 00:00:00 Beijing", 200, 0, 0, NULL, NULL,
     "LimitExceeded.PhoneNumberDailyLimit", BJ_MIDNIGHT, SEND_DEFER,
     "LimitExceeded.PhoneNumberDailyLimit", BJ_MIDNIGHT + 86400, "", NULL},
    /* HTTP and transport. */
    {"transport error", 0, 1, 0, "", NULL, NULL, NOW, SEND_RETRY, "transport", 0, "",
     "connection refused"},
    {"timeout", 0, 1, 1, "", NULL, NULL, NOW, SEND_RETRY, "timeout", 0, "", "connection refused"},
    {"HTTP 500", 500, 0, 0, "oops", NULL, NULL, NOW, SEND_RETRY, "http_500", 0, "",
     "provider answered HTTP 500"},
    {"HTTP 503 with an Error body", 503, 0, 0,
     "{\"Response\":{\"Error\":{\"Code\":\"InvalidParameter\",\"Message\":\"x\"}}}", NULL, NULL,
     NOW, SEND_RETRY, "http_503", 0, "", "provider answered HTTP 503"},
    {"HTTP 200 not JSON", 200, 0, 0, "<html>gateway</html>", NULL, NULL, NOW, SEND_RETRY,
     "bad_response", 0, "", "answer is not a Tencent API 3.0 JSON response"},
    {"HTTP 200 empty", 200, 0, 0, "", NULL, NULL, NOW, SEND_RETRY, "bad_response", 0, "",
     "answer is not a Tencent API 3.0 JSON response"},
    {"HTTP 200 JSON without Response", 200, 0, 0, "{\"ok\":true}", NULL, NULL, NOW, SEND_RETRY,
     "bad_response", 0, "", "answer is not a Tencent API 3.0 JSON response"},
    {"HTTP 200 empty SendStatusSet", 200, 0, 0,
     "{\"Response\":{\"SendStatusSet\":[],\"RequestId\":\"r\"}}", NULL, NULL, NOW, SEND_RETRY,
     "bad_response", 0, "", "no SendStatusSet entry with a Code"},
    {"HTTP 200 Error without Code", 200, 0, 0,
     "{\"Response\":{\"Error\":{\"Message\":\"m\"},\"RequestId\":\"r\"}}", NULL, NULL, NOW,
     SEND_RETRY, "bad_response", 0, "", "Response.Error without a Code"},
};

static char *row_body(const struct row *r)
{
    if (r->body)
        return xstrdup(r->body);
    if (r->err_code)
        return xasprintf("{\"Response\":{\"Error\":{\"Code\":\"%s\",\"Message\":\"msg for %s\"},"
                         "\"RequestId\":\"a0aabda6-cf91-4f3e-a81f-9198114a2279\"}}",
                         r->err_code, r->err_code);
    int ok = strcmp(r->st_code, "Ok") == 0;
    return xasprintf("{\"Response\":{\"SendStatusSet\":[{\"SerialNo\":\"%s\",\"PhoneNumber\":"
                     "\"+8613800138000\",\"Fee\":%d,\"SessionContext\":\"hf-42\",\"Code\":\"%s\","
                     "\"Message\":\"msg for %s\",\"IsoCode\":\"%s\"}],"
                     "\"RequestId\":\"a0aabda6-cf91-4f3e-a81f-9198114a2279\"}}",
                     ok ? "5000:1045710669157053657849499619" : "", ok, r->st_code, r->st_code,
                     ok ? "CN" : "");
}

static void test_classify_row(void **state)
{
    const struct row *r = *state;
    struct config cfg = {0};
    struct out_msg m = {.id = 42, .now = r->now};
    char *body = row_body(r);
    struct http_resp resp = {.transport_error = r->transport, .timed_out = r->timed_out,
                             .error = r->transport ? "connection refused" : NULL,
                             .status = r->status, .body = body, .body_len = strlen(body)};
    struct send_result res;
    memset(&res, 0x5a, sizeof res); /* the adapter must set every field */
    tencent_sms_adapter.parse_response(&cfg, &m, &resp, &res);
    free(body);

    assert_int_equal(res.outcome, r->outcome);
    assert_non_null(memchr(res.code, '\0', sizeof res.code));
    /* Codes longer than res.code keep their whole text in the detail. */
    assert_int_equal(strncmp(res.code, r->code, sizeof res.code - 1), 0);
    if (strlen(r->code) < sizeof res.code)
        assert_string_equal(res.code, r->code);
    assert_int_equal(res.defer_until, r->defer_until);
    assert_string_equal(res.provider_id, r->provider_id);
    const char *code = r->err_code ? r->err_code : r->st_code;
    if (r->detail) {
        assert_string_equal(res.detail, r->detail);
    } else {
        char want[192];
        if (strlen(code) >= sizeof res.code)
            snprintf(want, sizeof want, "%s: msg for %s", code, code);
        else
            snprintf(want, sizeof want, "msg for %s", code);
        assert_string_equal(res.detail, want);
    }
}

/* ===================================================================== */
/* Status pull: PullSmsSendStatusByPhoneNumber                             */
/* ===================================================================== */

#define PULL_BODY                                                                        \
    "{\"BeginTime\":1699999340,\"EndTime\":1700000000,\"Offset\":0,\"Limit\":100,"       \
    "\"PhoneNumber\":\"+8613800138000\",\"SmsSdkAppId\":\"1400006666\"}"

static void test_pull_exact_request(void **state)
{
    struct fx *f = *state;
    char err[128] = "";
    /* The message was made 10 minutes ago: the window starts a minute
     * earlier (clock skew) and ends now. */
    struct status_query q = {.id = 42, .recipient = f->recipient, .since = 1700000000 - 600,
                             .now = 1700000000};
    assert_non_null(tencent_sms_adapter.status_request);
    assert_int_equal(tencent_sms_adapter.status_request(&f->cfg, &q, &f->req, err, sizeof err), 0);
    assert_string_equal(f->req.method, "POST");
    assert_string_equal(f->req.url, "https://sms.tencentcloudapi.com/");
    assert_string_equal(f->req.body, PULL_BODY);
    assert_int_equal(f->req.body_len, strlen(PULL_BODY));
    static const char *const want[] = {
        "Content-Type: application/json",
        "Host: sms.tencentcloudapi.com",
        "X-TC-Action: PullSmsSendStatusByPhoneNumber",
        "X-TC-Version: 2021-01-11",
        "X-TC-Timestamp: 1700000000",
        "X-TC-Region: ap-guangzhou",
        /* computed with Python hashlib/hmac over PULL_BODY */
        "Authorization: TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/"
        "2023-11-14/sms/tc3_request, SignedHeaders=content-type;host, "
        "Signature=4c9ebbcc78b049a0886674f39f4df9368e2cbad796d7fce960cb0d6df785e45e",
    };
    assert_int_equal(f->req.nheaders, HF_ARRAY_LEN(want));
    for (size_t i = 0; i < HF_ARRAY_LEN(want); i++)
        assert_string_equal(f->req.headers[i], want[i]);
    char *ref = ref_authorization("sms.tencentcloudapi.com", "application/json", "2023-11-14",
                                  1700000000, f->req.body, f->req.body_len);
    assert_string_equal(req_header(&f->req, "Authorization"), ref);
    free(ref);
    assert_no_secret(&f->req);
}

/* BeginTime reaches at most 7 days back (the API's limit); the sign name,
 * which only SendSms needs, is not required; a "+86" mobile is fine. */
static void test_pull_window_and_config(void **state)
{
    struct fx *f = *state;
    char err[128] = "";
    free(f->cfg.sms_sign_name);
    f->cfg.sms_sign_name = NULL;
    cJSON_Delete(f->recipient);
    f->recipient = cJSON_Parse("{\"role\":\"customer\",\"mobile\":\"+8613912345678\"}");
    struct status_query q = {.id = 7, .recipient = f->recipient, .since = 1700000000 - 10 * 86400,
                             .now = 1700000000};
    assert_int_equal(tencent_sms_adapter.status_request(&f->cfg, &q, &f->req, err, sizeof err), 0);
    cJSON *b = cJSON_Parse(f->req.body);
    assert_non_null(b);
    assert_int_equal((long long)cJSON_GetObjectItem(b, "BeginTime")->valuedouble,
                     1700000000LL - 7 * 86400 + 60);
    assert_string_equal(cJSON_GetObjectItem(b, "PhoneNumber")->valuestring, "+8613912345678");
    cJSON_Delete(b);
}

static void test_pull_errors(void **state)
{
    struct fx *f = *state;
    char err[128] = "";
    cJSON *nomobile = cJSON_Parse("{\"role\":\"customer\",\"wechat_openid\":\"o1\"}");
    struct status_query q = {.id = 7, .recipient = nomobile, .since = 1, .now = 1700000000};
    assert_int_equal(tencent_sms_adapter.status_request(&f->cfg, &q, &f->req, err, sizeof err),
                     -1);
    assert_string_equal(err, "recipient has no mainland mobile number");
    http_req_cleanup(&f->req);
    cJSON_Delete(nomobile);
    q.recipient = f->recipient;
    free(f->cfg.tencent_secret_key);
    f->cfg.tencent_secret_key = NULL;
    assert_int_equal(tencent_sms_adapter.status_request(&f->cfg, &q, &f->req, err, sizeof err),
                     -1);
    assert_string_equal(err, "channels.tencent.secret_key is not configured");
}

/* One answer to a pull for message 42 and what it must mean. */
struct pull_case {
    const char *name;
    int transport, timed_out;
    long status;
    const char *body;
    enum status_outcome outcome;
    const char *code, *provider_id, *detail, *request_id;
};

#define ENTRY(ctx, serial, status, desc)                                                   \
    "{\"UserReceiveTime\":1700000100,\"CountryCode\":\"86\",\"SubscriberNumber\":"        \
    "\"13800138000\",\"PhoneNumber\":\"+8613800138000\",\"SerialNo\":\"" serial "\","      \
    "\"ReportStatus\":\"" status "\",\"Description\":\"" desc "\",\"SessionContext\":" ctx "}"
#define SET(...) "{\"Response\":{\"PullSmsSendStatusSet\":[" __VA_ARGS__ "],\"RequestId\":\"r-1\"}}"

static const struct pull_case pull_cases[] = {
    {"ours delivered, among others", 0, 0, 200,
     SET(ENTRY("\"hf-4\"", "5000:1", "SUCCESS", "a") "," ENTRY("\"hf-420\"", "5000:2", "FAIL", "b")
         "," ENTRY("\"hf-42\"", "5000:3", "SUCCESS", "用户短信送达成功") "," ENTRY("null", "5000:4", "FAIL", "c")),
     STATUS_DELIVERED, "SUCCESS", "5000:3", "用户短信送达成功", "r-1"},
    {"ours failed", 0, 0, 200, SET(ENTRY("\"hf-42\"", "5000:9", "FAIL", "用户短信送达失败")),
     STATUS_FAILED, "FAIL", "5000:9", "用户短信送达失败", "r-1"},
    {"failed, then delivered on a resend", 0, 0, 200,
     SET(ENTRY("\"hf-42\"", "5000:1", "FAIL", "x") "," ENTRY("\"hf-42\"", "5000:2", "SUCCESS", "y")),
     STATUS_DELIVERED, "SUCCESS", "5000:2", "y", "r-1"},
    {"only other messages (and a prefix of ours)", 0, 0, 200,
     SET(ENTRY("\"hf-4\"", "5000:1", "SUCCESS", "a") "," ENTRY("\"hf-421\"", "5000:2", "SUCCESS", "b")),
     STATUS_NONE, "", "", "no status of this message among 2", "r-1"},
    {"empty set", 0, 0, 200, SET(), STATUS_NONE, "", "", "no status of this message among 0",
     "r-1"},
    {"null set", 0, 0, 200, "{\"Response\":{\"PullSmsSendStatusSet\":null,\"RequestId\":\"r-2\"}}",
     STATUS_NONE, "", "", "no status of this message among 0", "r-2"},
    {"ours without a ReportStatus", 0, 0, 200,
     "{\"Response\":{\"PullSmsSendStatusSet\":[{\"SessionContext\":\"hf-42\"}],\"RequestId\":\"r\"}}",
     STATUS_NONE, "", "", "no status of this message among 1", "r"},
    {"ours with an empty ReportStatus (found by the adapters fuzzer)", 0, 0, 200,
     SET(ENTRY("\"hf-42\"", "5000:1", "", "x")),
     STATUS_NONE, "", "", "no status of this message among 1", "r-1"},
    {"whole-request error", 0, 0, 200,
     "{\"Response\":{\"Error\":{\"Code\":\"AuthFailure.SignatureFailure\",\"Message\":\"bad "
     "sig\"},\"RequestId\":\"r-3\"}}",
     STATUS_UNKNOWN, "AuthFailure.SignatureFailure", "", "bad sig", "r-3"},
    {"an error echoing the secret", 0, 0, 200,
     "{\"Response\":{\"Error\":{\"Code\":\"InternalError\",\"Message\":\"key " SECRET_KEY
     "\"}}}",
     STATUS_UNKNOWN, "InternalError", "", "", ""},
    {"HTTP 500", 0, 0, 500, "oops", STATUS_UNKNOWN, "http_500", "", "provider answered HTTP 500",
     ""},
    {"timeout", 1, 1, 0, "", STATUS_UNKNOWN, "timeout", "", "connection refused", ""},
    {"not JSON", 0, 0, 200, "<html>", STATUS_UNKNOWN, "bad_response", "",
     "answer is not a Tencent API 3.0 JSON response", ""},
    {"no set", 0, 0, 200, "{\"Response\":{\"RequestId\":\"r-4\"}}", STATUS_UNKNOWN,
     "bad_response", "", "no PullSmsSendStatusSet array in the answer", "r-4"},
    {"set not a list", 0, 0, 200, "{\"Response\":{\"PullSmsSendStatusSet\":{}}}", STATUS_UNKNOWN,
     "bad_response", "", "no PullSmsSendStatusSet array in the answer", ""},
};

static void test_pull_parse_case(void **state)
{
    const struct pull_case *c = *state;
    struct config cfg = {0};
    cfg.tencent_secret_key = (char *)SECRET_KEY;
    struct status_query q = {.id = 42, .since = 1, .now = 1700000200};
    struct http_resp resp = {.transport_error = c->transport, .timed_out = c->timed_out,
                             .error = c->transport ? "connection refused" : NULL,
                             .status = c->status, .body = c->body, .body_len = strlen(c->body)};
    struct status_result res;
    memset(&res, 0x5a, sizeof res); /* the adapter must set every field */
    tencent_sms_adapter.status_parse(&cfg, &q, &resp, &res);
    assert_int_equal(res.outcome, c->outcome);
    assert_string_equal(res.code, c->code);
    assert_string_equal(res.provider_id, c->provider_id);
    assert_string_equal(res.detail, c->detail);
    assert_string_equal(res.request_id, c->request_id);
}

/* A full page (Limit 100, Offset fixed at 0) without our entry cannot say
 * "none": what lies beyond it is unseen. */
static void test_pull_parse_full_page(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"Response\":{\"PullSmsSendStatusSet\":[");
    for (int i = 0; i < 100; i++)
        buf_printf(&b, "%s{\"SessionContext\":\"hf-%d\",\"ReportStatus\":\"SUCCESS\","
                       "\"SerialNo\":\"5000:%d\"}", i ? "," : "", 1000 + i, i);
    buf_puts(&b, "],\"RequestId\":\"r\"}}");
    struct config cfg = {0};
    struct status_query q = {.id = 42, .since = 1, .now = 1700000200};
    struct http_resp resp = {.status = 200, .body = b.data, .body_len = b.len};
    struct status_result res;
    tencent_sms_adapter.status_parse(&cfg, &q, &resp, &res);
    assert_int_equal(res.outcome, STATUS_UNKNOWN);
    assert_string_equal(res.code, "pull_truncated");
    /* 99 others and ours last: found. */
    buf_cleanup(&b);
    buf_init(&b);
    buf_puts(&b, "{\"Response\":{\"PullSmsSendStatusSet\":[");
    for (int i = 0; i < 100; i++)
        buf_printf(&b, "%s{\"SessionContext\":\"hf-%d\",\"ReportStatus\":\"SUCCESS\","
                       "\"SerialNo\":\"5000:%d\"}", i ? "," : "", i == 99 ? 42 : 1000 + i, i);
    buf_puts(&b, "]}}");
    resp.body = b.data;
    resp.body_len = b.len;
    tencent_sms_adapter.status_parse(&cfg, &q, &resp, &res);
    assert_int_equal(res.outcome, STATUS_DELIVERED);
    assert_string_equal(res.provider_id, "5000:99");
    buf_cleanup(&b);
}

int main(void)
{
    log_min_level = LOG_LVL_ERR;
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_tc3_vector1_published),
        cmocka_unit_test(test_tc3_vector2_sms),
        cmocka_unit_test(test_tc3_extra_signed_header),
        cmocka_unit_test(test_tc3_date_is_utc),
        cmocka_unit_test(test_tc3_rejects_bad_input),
        cmocka_unit_test(test_tc3_parse_authorization),
        cmocka_unit_test_setup_teardown(test_build_exact_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_mock_base_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_params_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enabled_and_reach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pull_exact_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pull_window_and_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pull_errors, setup, teardown),
        cmocka_unit_test(test_pull_parse_full_page),
    };
    size_t nfixed = HF_ARRAY_LEN(fixed), nrows = HF_ARRAY_LEN(rows);
    size_t n = nfixed + nrows + HF_ARRAY_LEN(pull_cases);
    struct CMUnitTest *tests = xcalloc(n, sizeof *tests);
    memcpy(tests, fixed, sizeof fixed);
    char **names = xcalloc(n - nfixed, sizeof *names);
    for (size_t i = 0; i < nrows; i++) {
        names[i] = xasprintf("classify: %s", rows[i].name);
        tests[nfixed + i] = (struct CMUnitTest){.name = names[i],
                                                .test_func = test_classify_row,
                                                .initial_state = (void *)&rows[i]};
    }
    for (size_t i = 0; i < HF_ARRAY_LEN(pull_cases); i++) {
        names[nrows + i] = xasprintf("pull answer: %s", pull_cases[i].name);
        tests[nfixed + nrows + i] = (struct CMUnitTest){.name = names[nrows + i],
                                                        .test_func = test_pull_parse_case,
                                                        .initial_state = (void *)&pull_cases[i]};
    }
    int rc = _cmocka_run_group_tests("tencent", tests, n, NULL, NULL);
    for (size_t i = 0; i < n - nfixed; i++)
        free(names[i]);
    free(names);
    free(tests);
    return rc;
}
