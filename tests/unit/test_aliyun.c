/*
 * test_aliyun.c - Aliyun SMS: the V1/V3 signers against the vendor vectors
 * (PROTOCOLS.md C6/C7, vectors/expected-output.txt; the published doc
 * examples V1-a, V1-c and V3-a are the ground truth), the adapter's
 * request for a fixed message (exact URL, headers, empty body, signature
 * recomputed from what would go on the wire), and the answer
 * classification table row by row.
 *
 * The adapter's expected signatures were computed independently with
 * Python's hmac/hashlib from the documented algorithm, not with this code.
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

#include "adapter.h"
#include "config.h"
#include "sign_aliyun.h"
#include "util.h"

/* ===================================================================== */
/* Vectors                                                                 */
/* ===================================================================== */

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGN_NAME "阿里云短信测试"
#define SIGN_NAME_PCT "%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95"

static const struct sign_aliyun_kv v1a_params[] = {
    {"AccessKeyId", "testid"},
    {"Action", "DescribeRegions"},
    {"Format", "XML"},
    {"SignatureMethod", "HMAC-SHA1"},
    {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
    {"SignatureVersion", "1.0"},
    {"Timestamp", "2016-02-23T12:46:24Z"},
    {"Version", "2014-05-26"},
};
#define V1A_QUERY                                                                              \
    "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&"          \
    "SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&"                \
    "Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26"
#define V1A_STS_TAIL                                                                           \
    "&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3D" \
    "HMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D"  \
    "1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"

static void sig_query_value(const char *sig, char *out, size_t n)
{
    struct buf b;
    buf_init(&b);
    sign_aliyun_pct(&b, sig);
    snprintf(out, n, "%s", b.data);
    buf_cleanup(&b);
}

/* V1-a: the published doc example (ECS DescribeRegions, GET). */
static void test_v1a_published(void **state)
{
    (void)state;
    struct sign_aliyun_v1 s;
    sign_aliyun_v1("GET", v1a_params, HF_ARRAY_LEN(v1a_params), "testsecret", &s);
    assert_string_equal(s.canonical_query, V1A_QUERY);
    assert_string_equal(s.string_to_sign, "GET" V1A_STS_TAIL);
    assert_string_equal(s.signature, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    char q[64];
    sig_query_value(s.signature, q, sizeof q);
    assert_string_equal(q, "OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D");
    sign_aliyun_v1_cleanup(&s);
}

/* V1-b: the same parameters signed for POST: only the verb differs. */
static void test_v1b_post(void **state)
{
    (void)state;
    struct sign_aliyun_v1 s;
    sign_aliyun_v1("POST", v1a_params, HF_ARRAY_LEN(v1a_params), "testsecret", &s);
    assert_string_equal(s.canonical_query, V1A_QUERY);
    assert_string_equal(s.string_to_sign, "POST" V1A_STS_TAIL);
    assert_string_equal(s.signature, "MxbnVAM4w6sft9xjVpe/GCKueuk=");
    char q[64];
    sig_query_value(s.signature, q, sizeof q);
    assert_string_equal(q, "MxbnVAM4w6sft9xjVpe%2FGCKueuk%3D");
    sign_aliyun_v1_cleanup(&s);
}

/* V1-c: the published doc example (ECS DescribeDedicatedHosts), given in
 * scrambled order and with a Signature parameter that must be ignored. */
static void test_v1c_published(void **state)
{
    (void)state;
    const struct sign_aliyun_kv p[] = {
        {"Version", "2014-05-26"},
        {"Timestamp", "2023-03-13T08:34:30Z"},
        {"Signature", "must-not-be-signed"},
        {"SignatureVersion", "1.0"},
        {"SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb"},
        {"SignatureMethod", "HMAC-SHA1"},
        {"RegionId", "cn-beijing"},
        {"Format", "JSON"},
        {"Action", "DescribeDedicatedHosts"},
        {"AccessKeyId", "testid"},
    };
    struct sign_aliyun_v1 s;
    sign_aliyun_v1("GET", p, HF_ARRAY_LEN(p), "testsecret", &s);
    assert_string_equal(s.canonical_query,
                        "AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON&"
                        "RegionId=cn-beijing&SignatureMethod=HMAC-SHA1&"
                        "SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&SignatureVersion=1.0&"
                        "Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26");
    assert_string_equal(s.string_to_sign,
                        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26"
                        "Format%3DJSON%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26"
                        "SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D"
                        "1.0%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26");
    assert_string_equal(s.signature, "9NaGiOspFP5UPcwX8Iwt2YJXXuk=");
    sign_aliyun_v1_cleanup(&s);
}

/* V1-d: the SMS fixture (dysmsapi SendSms, POST, UTF-8 sign name, JSON
 * template parameters). */
static void test_v1d_sms(void **state)
{
    (void)state;
    const struct sign_aliyun_kv p[] = {
        {"AccessKeyId", "testid"},
        {"Action", "SendSms"},
        {"Format", "JSON"},
        {"PhoneNumbers", "13800138000"},
        {"SignName", SIGN_NAME},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"},
        {"SignatureVersion", "1.0"},
        {"TemplateCode", "SMS_154950909"},
        {"TemplateParam", "{\"code\":\"1234\"}"},
        {"Timestamp", "2023-11-14T22:13:20Z"},
        {"Version", "2017-05-25"},
        {"OutId", "order-42"},
    };
    struct sign_aliyun_v1 s;
    sign_aliyun_v1("POST", p, HF_ARRAY_LEN(p), "testsecret", &s);
    assert_string_equal(
        s.canonical_query,
        "AccessKeyId=testid&Action=SendSms&Format=JSON&OutId=order-42&PhoneNumbers=13800138000&"
        "SignName=" SIGN_NAME_PCT "&SignatureMethod=HMAC-SHA1&"
        "SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0&"
        "TemplateCode=SMS_154950909&TemplateParam=%7B%22code%22%3A%221234%22%7D&"
        "Timestamp=2023-11-14T22%3A13%3A20Z&Version=2017-05-25");
    assert_string_equal(
        s.string_to_sign,
        "POST&%2F&AccessKeyId%3Dtestid%26Action%3DSendSms%26Format%3DJSON%26OutId%3Dorder-42%26"
        "PhoneNumbers%3D13800138000%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591"
        "%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%26SignatureMethod%3D"
        "HMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion"
        "%3D1.0%26TemplateCode%3DSMS_154950909%26TemplateParam%3D%257B%2522code%2522%253A%2522"
        "1234%2522%257D%26Timestamp%3D2023-11-14T22%253A13%253A20Z%26Version%3D2017-05-25");
    assert_string_equal(s.signature, "hGFiTO4BDH8v/ruWGhtkxZR6LgM=");
    char q[64];
    sig_query_value(s.signature, q, sizeof q);
    assert_string_equal(q, "hGFiTO4BDH8v%2FruWGhtkxZR6LgM%3D");
    sign_aliyun_v1_cleanup(&s);
}

/* V3-a: the published doc example (ECS RunInstances, params in the query,
 * empty body). Headers are given in mixed case with padding, plus one
 * that must not be signed. */
static void test_v3a_published(void **state)
{
    (void)state;
    const struct sign_aliyun_kv q[] = {
        {"RegionId", "cn-shanghai"},
        {"ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"},
    };
    const struct sign_aliyun_kv h[] = {
        {"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
        {"Host", " ecs.cn-shanghai.aliyuncs.com "},
        {"User-Agent", "not signed"},
        {"X-Acs-Action", "RunInstances"},
        {"x-acs-version", "2014-05-26"},
        {"x-acs-date", "2023-10-26T10:22:32Z"},
        {"x-acs-content-sha256", EMPTY_SHA256},
    };
    struct sign_aliyun_v3_in in = {
        .method = "POST", .uri = "/", .query = q, .nquery = HF_ARRAY_LEN(q), .headers = h,
        .nheaders = HF_ARRAY_LEN(h), .payload_hash = EMPTY_SHA256, .key_id = "YourAccessKeyId",
        .key_secret = "YourAccessKeySecret",
    };
    struct sign_aliyun_v3 s;
    sign_aliyun_v3(&in, &s);
    assert_string_equal(s.canonical_query,
                        "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&"
                        "RegionId=cn-shanghai");
    assert_string_equal(s.signed_headers, "host;x-acs-action;x-acs-content-sha256;x-acs-date;"
                                          "x-acs-signature-nonce;x-acs-version");
    assert_string_equal(
        s.canonical_request,
        "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
        "\nhost:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:"
        EMPTY_SHA256 "\nx-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:"
        "3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n\nhost;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" EMPTY_SHA256);
    assert_string_equal(s.hashed_request,
                        "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
    assert_string_equal(s.string_to_sign,
                        "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
    assert_string_equal(s.signature,
                        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
    assert_string_equal(s.authorization,
                        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;"
                        "x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;"
                        "x-acs-version,Signature="
                        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
    sign_aliyun_v3_cleanup(&s);
}

/* V3-b: the SMS fixture (dysmsapi SendSms, params in the query). */
static void test_v3b_sms(void **state)
{
    (void)state;
    const struct sign_aliyun_kv q[] = {
        {"PhoneNumbers", "13800138000"},
        {"SignName", SIGN_NAME},
        {"TemplateCode", "SMS_154950909"},
        {"TemplateParam", "{\"code\":\"1234\"}"},
        {"OutId", "order-42"},
    };
    const struct sign_aliyun_kv h[] = {
        {"host", "dysmsapi.aliyuncs.com"},
        {"x-acs-action", "SendSms"},
        {"x-acs-version", "2017-05-25"},
        {"x-acs-date", "2023-11-14T22:13:20Z"},
        {"x-acs-signature-nonce", "45e25e9b0a6f40708c852956eda1b466"},
        {"x-acs-content-sha256", EMPTY_SHA256},
    };
    struct sign_aliyun_v3_in in = {
        .method = "POST", .uri = "/", .query = q, .nquery = HF_ARRAY_LEN(q), .headers = h,
        .nheaders = HF_ARRAY_LEN(h), .payload_hash = EMPTY_SHA256, .key_id = "YourAccessKeyId",
        .key_secret = "YourAccessKeySecret",
    };
    struct sign_aliyun_v3 s;
    sign_aliyun_v3(&in, &s);
    assert_string_equal(s.canonical_query,
                        "OutId=order-42&PhoneNumbers=13800138000&SignName=" SIGN_NAME_PCT
                        "&TemplateCode=SMS_154950909&TemplateParam=%7B%22code%22%3A%221234%22%7D");
    assert_string_equal(s.canonical_headers,
                        "host:dysmsapi.aliyuncs.com\nx-acs-action:SendSms\nx-acs-content-sha256:"
                        EMPTY_SHA256 "\nx-acs-date:2023-11-14T22:13:20Z\nx-acs-signature-nonce:"
                        "45e25e9b0a6f40708c852956eda1b466\nx-acs-version:2017-05-25\n");
    assert_string_equal(
        s.canonical_request,
        "POST\n/\nOutId=order-42&PhoneNumbers=13800138000&SignName=" SIGN_NAME_PCT
        "&TemplateCode=SMS_154950909&TemplateParam=%7B%22code%22%3A%221234%22%7D\n"
        "host:dysmsapi.aliyuncs.com\nx-acs-action:SendSms\nx-acs-content-sha256:" EMPTY_SHA256
        "\nx-acs-date:2023-11-14T22:13:20Z\nx-acs-signature-nonce:"
        "45e25e9b0a6f40708c852956eda1b466\nx-acs-version:2017-05-25\n\nhost;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" EMPTY_SHA256);
    assert_string_equal(s.hashed_request,
                        "9812b1928109f80222f9041f0a08152d89c6097b959ea523453bb078dada7eea");
    assert_string_equal(s.string_to_sign,
                        "ACS3-HMAC-SHA256\n9812b1928109f80222f9041f0a08152d89c6097b959ea523453bb078dada7eea");
    assert_string_equal(s.signature,
                        "8e55b2b099ba995b0212a9e2fc31b1645057b6c1cecc76e552fce656ca1903d3");
    assert_string_equal(s.authorization,
                        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;"
                        "x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;"
                        "x-acs-version,Signature="
                        "8e55b2b099ba995b0212a9e2fc31b1645057b6c1cecc76e552fce656ca1903d3");
    sign_aliyun_v3_cleanup(&s);
}

/* A signed content-type joins the canonical headers in sort order. */
static void test_v3_content_type_signed(void **state)
{
    (void)state;
    const struct sign_aliyun_kv h[] = {
        {"x-acs-action", "SendSms"},
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"host", "h"},
    };
    struct sign_aliyun_v3_in in = {
        .method = "POST", .uri = "/", .headers = h, .nheaders = HF_ARRAY_LEN(h),
        .payload_hash = EMPTY_SHA256, .key_id = "id", .key_secret = "secret",
    };
    struct sign_aliyun_v3 s;
    sign_aliyun_v3(&in, &s);
    assert_string_equal(s.canonical_query, "");
    assert_string_equal(s.signed_headers, "content-type;host;x-acs-action");
    assert_string_equal(s.canonical_headers,
                        "content-type:application/x-www-form-urlencoded\nhost:h\n"
                        "x-acs-action:SendSms\n");
    sign_aliyun_v3_cleanup(&s);
}

/* C6.2 exactly: unreserved kept (incl. '~'), '*' and space encoded, upper
 * hex, UTF-8 bytes; and byte for byte the same as adapter_pct_encode(). */
static void test_pct_rules(void **state)
{
    (void)state;
    struct buf a;
    buf_init(&a);
    sign_aliyun_pct(&a, "AZaz09-_.~ *+/=:!'()&%\"{}阿");
    assert_string_equal(a.data, "AZaz09-_.~%20%2A%2B%2F%3D%3A%21%27%28%29%26%25%22%7B%7D%E9%98%BF");
    buf_cleanup(&a);

    char all[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    struct buf b;
    buf_init(&a);
    buf_init(&b);
    sign_aliyun_pct(&a, all);
    adapter_pct_encode(&b, all);
    assert_int_equal(a.len, b.len);
    assert_string_equal(a.data, b.data);
    buf_cleanup(&a);
    buf_cleanup(&b);
}

static void test_parse_authorization(void **state)
{
    (void)state;
    char id[64], sh[256], sig[65];
    assert_int_equal(sign_aliyun_v3_parse_authorization(
                         "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-date,"
                         "Signature="
                         "8e55b2b099ba995b0212a9e2fc31b1645057b6c1cecc76e552fce656ca1903d3",
                         id, sizeof id, sh, sizeof sh, sig),
                     0);
    assert_string_equal(id, "testid");
    assert_string_equal(sh, "host;x-acs-date");
    assert_string_equal(sig, "8e55b2b099ba995b0212a9e2fc31b1645057b6c1cecc76e552fce656ca1903d3");
    const char *bad[] = {
        NULL,
        "",
        "TC3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=ab",
        "ACS3-HMAC-SHA256 Credential=a, SignedHeaders=host,Signature=ab",
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=ab",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=ab,Extra=1",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature="
        "8e55b2b099ba995b0212a9e2fc31b1645057b6c1cecc76e552fce656ca1903d3ff",
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(bad); i++)
        assert_int_equal(sign_aliyun_v3_parse_authorization(bad[i], id, sizeof id, sh, sizeof sh,
                                                            sig),
                         -1);
}

static void test_uuid_from_nonce(void **state)
{
    (void)state;
    char u[37];
    sign_aliyun_uuid_from_nonce("45e25e9b0a6f40708c852956eda1b466", u);
    assert_string_equal(u, "45e25e9b-0a6f-4070-8c85-2956eda1b466");
    sign_aliyun_uuid_from_nonce("not-hex", u);
    assert_string_equal(u, "not-hex");
}

/* ===================================================================== */
/* The adapter's request                                                   */
/* ===================================================================== */

#define BASE_URL "http://127.0.0.1:9200/aliyun"
#define NOW 1700000000 /* 2023-11-14T22:13:20Z */
#define NONCE "45e25e9b0a6f40708c852956eda1b466"
#define API_QUERY                                                                  \
    "OutId=hf-42&PhoneNumbers=13800138000&SignName=" SIGN_NAME_PCT                 \
    "&TemplateCode=SMS_154950909&TemplateParam=%7B%22code%22%3A%221234%22%7D"
/* Computed with Python hmac/hashlib (see the file comment). */
#define ADAPTER_V3_AUTH                                                            \
    "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;"          \
    "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"         \
    "Signature=949f97327b7943dffc0e4265e90d482d9b5c8e78b2b19e7015a1a7afa1dff644"
#define ADAPTER_V1_SIG_PCT "sfJFEBHk3V%2Ba718Szn8YTnql5VM%3D"

struct fx {
    struct config cfg;
    cJSON *recipient, *rendered;
    struct out_msg msg;
    struct http_req req;
    char err[256];
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->cfg.sms_provider = "aliyun";
    f->cfg.sms_sign_name = SIGN_NAME;
    f->cfg.aliyun_base_url = BASE_URL;
    f->cfg.aliyun_key_id = "testid";
    f->cfg.aliyun_key_secret = "testsecret";
    f->cfg.aliyun_signature = "v3";
    f->recipient = cJSON_Parse("{\"role\":\"customer\",\"name\":\"王明\",\"title\":\"先生\","
                               "\"mobile\":\"+8613800138000\"}");
    f->rendered = cJSON_Parse("{\"text\":\"您的验证码为1234\",\"sms\":{\"template_code\":"
                              "\"SMS_154950909\",\"params\":{\"code\":\"1234\"},\"preview\":"
                              "\"您的验证码为1234\",\"length\":20,\"segments\":1}}");
    if (!f->recipient || !f->rendered)
        return -1;
    f->msg = (struct out_msg){.id = 42, .kind = "notice", .milestone = "kickoff",
                              .message = "notice", .channel = "sms", .attempt = 1,
                              .recipient = f->recipient, .rendered = f->rendered,
                              .now = NOW, .nonce = NONCE};
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
    free(f);
    return 0;
}

static int build(struct fx *f)
{
    http_req_cleanup(&f->req);
    f->err[0] = '\0';
    return aliyun_sms_adapter.build_request(&f->cfg, &f->msg, &f->req, f->err, sizeof f->err);
}

/* The value of header @name ("Name: value", name compared exactly), or
 * NULL. */
static const char *header(const struct http_req *r, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < r->nheaders; i++)
        if (strncmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
            return r->headers[i][n + 1] == ' ' ? r->headers[i] + n + 2 : r->headers[i] + n + 1;
    return NULL;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode @s (@n bytes) into a new heap string ('+' stays '+'). */
static char *pct_decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* The query of @url split into decoded pairs (what a server sees). Returns
 * the count; keys and values are heap strings the caller frees. */
static size_t split_query(const char *url, struct sign_aliyun_kv *kv, size_t max)
{
    const char *q = strchr(url, '?');
    size_t n = 0;
    if (!q)
        return 0;
    q++;
    while (*q && n < max) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        assert_non_null(eq);
        kv[n].key = pct_decode(q, (size_t)(eq - q));
        kv[n].value = pct_decode(eq + 1, len - (size_t)(eq - q) - 1);
        n++;
        q += len;
        if (*q == '&')
            q++;
    }
    return n;
}

static void free_kv(struct sign_aliyun_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)kv[i].key);
        free((char *)kv[i].value);
    }
}

static const char *kv_get(const struct sign_aliyun_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

/* No part of the request carries the secret. */
static void assert_no_secret(const struct http_req *r)
{
    assert_null(strstr(r->url, "testsecret"));
    for (int i = 0; i < r->nheaders; i++)
        assert_null(strstr(r->headers[i], "testsecret"));
}

static void test_request_v3_exact(void **state)
{
    struct fx *f = *state;
    assert_int_equal(build(f), 0);
    assert_string_equal(f->req.method, "POST");
    assert_string_equal(f->req.url, BASE_URL "/?" API_QUERY);
    assert_null(f->req.body);
    assert_int_equal(f->req.body_len, 0);
    const char *want[] = {
        "host: 127.0.0.1:9200",
        "x-acs-action: SendSms",
        "x-acs-version: 2017-05-25",
        "x-acs-date: 2023-11-14T22:13:20Z",
        "x-acs-signature-nonce: " NONCE,
        "x-acs-content-sha256: " EMPTY_SHA256,
        "Authorization: " ADAPTER_V3_AUTH,
        "Content-Type:",
        "Accept: application/json",
    };
    assert_int_equal(f->req.nheaders, HF_ARRAY_LEN(want));
    for (size_t i = 0; i < HF_ARRAY_LEN(want); i++)
        assert_string_equal(f->req.headers[i], want[i]);
    assert_no_secret(&f->req);
}

/* The mock's view: decode what arrived and recompute the signature. */
static void test_request_v3_verifies(void **state)
{
    struct fx *f = *state;
    f->cfg.aliyun_signature = NULL; /* unset means V3 */
    assert_int_equal(build(f), 0);
    struct sign_aliyun_kv q[24];
    size_t nq = split_query(f->req.url, q, HF_ARRAY_LEN(q));
    assert_int_equal(nq, 5);
    assert_string_equal(kv_get(q, nq, "SignName"), SIGN_NAME);
    assert_string_equal(kv_get(q, nq, "TemplateParam"), "{\"code\":\"1234\"}");
    assert_string_equal(kv_get(q, nq, "PhoneNumbers"), "13800138000");
    assert_string_equal(kv_get(q, nq, "OutId"), "hf-42");

    char id[64], sh[256], sig[65];
    assert_int_equal(sign_aliyun_v3_parse_authorization(header(&f->req, "Authorization"), id,
                                                        sizeof id, sh, sizeof sh, sig),
                     0);
    assert_string_equal(id, "testid");
    /* Headers as a server gets them: every one, unsigned ones included. */
    struct sign_aliyun_kv h[HTTP_REQ_MAX_HEADERS];
    char *names[HTTP_REQ_MAX_HEADERS];
    size_t nh = 0;
    for (int i = 0; i < f->req.nheaders; i++) {
        const char *line = f->req.headers[i];
        const char *colon = strchr(line, ':');
        if (strncmp(line, "Authorization", 13) == 0 || colon[1] == '\0')
            continue;
        names[nh] = xstrndup(line, (size_t)(colon - line));
        h[nh] = (struct sign_aliyun_kv){names[nh], colon + 1};
        nh++;
    }
    struct sign_aliyun_v3_in in = {
        .method = "POST", .uri = "/", .query = q, .nquery = nq, .headers = h, .nheaders = nh,
        .payload_hash = header(&f->req, "x-acs-content-sha256"), .key_id = "testid",
        .key_secret = "testsecret",
    };
    struct sign_aliyun_v3 s;
    sign_aliyun_v3(&in, &s);
    assert_string_equal(s.signed_headers, sh);
    assert_string_equal(s.signature, sig);
    assert_string_equal(s.authorization, ADAPTER_V3_AUTH);
    sign_aliyun_v3_cleanup(&s);
    for (size_t i = 0; i < nh; i++)
        free(names[i]);
    free_kv(q, nq);
}

static void test_request_v1_exact(void **state)
{
    struct fx *f = *state;
    f->cfg.aliyun_signature = "v1";
    assert_int_equal(build(f), 0);
    assert_string_equal(f->req.method, "POST");
    assert_string_equal(
        f->req.url,
        BASE_URL "/?AccessKeyId=testid&Action=SendSms&Format=JSON&OutId=hf-42&"
                 "PhoneNumbers=13800138000&SignName=" SIGN_NAME_PCT "&SignatureMethod=HMAC-SHA1&"
                 "SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0&"
                 "TemplateCode=SMS_154950909&TemplateParam=%7B%22code%22%3A%221234%22%7D&"
                 "Timestamp=2023-11-14T22%3A13%3A20Z&Version=2017-05-25&"
                 "Signature=" ADAPTER_V1_SIG_PCT);
    assert_null(f->req.body);
    assert_int_equal(f->req.body_len, 0);
    assert_int_equal(f->req.nheaders, 2);
    assert_string_equal(f->req.headers[0], "Content-Type:");
    assert_string_equal(f->req.headers[1], "Accept: application/json");
    assert_null(header(&f->req, "Authorization"));
    assert_no_secret(&f->req);

    /* Recompute from the decoded query, Signature included (it is skipped). */
    struct sign_aliyun_kv q[24];
    size_t nq = split_query(f->req.url, q, HF_ARRAY_LEN(q));
    assert_int_equal(nq, 14);
    struct sign_aliyun_v1 s;
    sign_aliyun_v1("POST", q, nq, "testsecret", &s);
    assert_string_equal(s.signature, kv_get(q, nq, "Signature"));
    assert_string_equal(s.signature, "sfJFEBHk3V+a718Szn8YTnql5VM=");
    sign_aliyun_v1_cleanup(&s);
    free_kv(q, nq);
}

/* The production endpoint: host without a port, trailing slash folded. */
static void test_request_host_from_base_url(void **state)
{
    struct fx *f = *state;
    f->cfg.aliyun_base_url = "https://dysmsapi.aliyuncs.com/";
    assert_int_equal(build(f), 0);
    assert_string_equal(f->req.url, "https://dysmsapi.aliyuncs.com/?" API_QUERY);
    assert_string_equal(header(&f->req, "host"), "dysmsapi.aliyuncs.com");
    f->cfg.aliyun_base_url = "not a url";
    assert_int_equal(build(f), -1);
    assert_non_null(strstr(f->err, "base_url"));
}

/* A number that is not mainland is passed as given (Aliyun judges it);
 * a template without params sends no TemplateParam. */
static void test_request_other_number_no_params(void **state)
{
    struct fx *f = *state;
    cJSON_ReplaceItemInObject(f->recipient, "mobile", cJSON_CreateString("+85291234567"));
    cJSON *sms = cJSON_GetObjectItem(f->rendered, "sms");
    cJSON_DeleteItemFromObject(sms, "params");
    assert_int_equal(build(f), 0);
    assert_string_equal(f->req.url, BASE_URL "/?OutId=hf-42&PhoneNumbers=%2B85291234567&SignName="
                                    SIGN_NAME_PCT "&TemplateCode=SMS_154950909");
}

/* Values are sent as JSON strings; numbers become strings; order kept;
 * characters JSON must escape are escaped. */
static void test_request_template_param_json(void **state)
{
    struct fx *f = *state;
    cJSON *sms = cJSON_GetObjectItem(f->rendered, "sms");
    cJSON_ReplaceItemInObject(sms, "params",
                              cJSON_Parse("{\"name\":\"陈\\\"女士\\\"\",\"n\":3,\"date\":\"11月24日\"}"));
    assert_int_equal(build(f), 0);
    struct sign_aliyun_kv q[24];
    size_t nq = split_query(f->req.url, q, HF_ARRAY_LEN(q));
    assert_string_equal(kv_get(q, nq, "TemplateParam"),
                        "{\"name\":\"陈\\\"女士\\\"\",\"n\":\"3\",\"date\":\"11月24日\"}");
    free_kv(q, nq);

    cJSON_ReplaceItemInObject(sms, "params", cJSON_Parse("{\"x\":{\"y\":1}}"));
    assert_int_equal(build(f), -1);
    assert_non_null(strstr(f->err, "sms.params.x"));
}

static void test_request_missing_sms_part(void **state)
{
    struct fx *f = *state;
    cJSON_DeleteItemFromObject(f->rendered, "sms");
    assert_int_equal(build(f), -1);
    assert_string_equal(f->err, "the message template has no sms part");
    assert_null(f->req.url);

    cJSON_AddItemToObject(f->rendered, "sms", cJSON_Parse("{\"params\":{}}"));
    assert_int_equal(build(f), -1);
    assert_non_null(strstr(f->err, "template_code"));
}

static void test_request_missing_config(void **state)
{
    struct fx *f = *state;
    f->cfg.sms_sign_name = NULL;
    assert_int_equal(build(f), -1);
    assert_non_null(strstr(f->err, "sign_name"));
    f->cfg.sms_sign_name = SIGN_NAME;
    f->cfg.aliyun_key_secret = NULL;
    assert_int_equal(build(f), -1);
    assert_non_null(strstr(f->err, "access_key_secret"));
}

static void test_can_reach_and_enabled(void **state)
{
    struct fx *f = *state;
    const struct channel_adapter *a = &aliyun_sms_adapter;
    assert_string_equal(a->name, "aliyun_sms");
    assert_string_equal(a->channel, "sms");
    assert_null(a->token_request);
    assert_int_equal(a->can_reach(&f->cfg, f->recipient), 1);
    const char *no[] = {"{}", "{\"mobile\":\"\"}", "{\"mobile\":null}", "{\"mobile\":13800138000}",
                        "{\"wechat_openid\":\"oX\"}"};
    for (size_t i = 0; i < HF_ARRAY_LEN(no); i++) {
        cJSON *r = cJSON_Parse(no[i]);
        assert_int_equal(a->can_reach(&f->cfg, r), 0);
        cJSON_Delete(r);
    }
    assert_int_equal(a->can_reach(&f->cfg, NULL), 0);

    assert_int_equal(a->enabled(&f->cfg), 1);
    assert_ptr_equal(adapter_for_channel(&f->cfg, "sms"), a);
    assert_ptr_equal(adapter_find("aliyun_sms"), a);
    f->cfg.sms_provider = "tencent";
    assert_int_equal(a->enabled(&f->cfg), 0);
    f->cfg.sms_provider = NULL;
    assert_int_equal(a->enabled(&f->cfg), 0);
}

/* ===================================================================== */
/* Classification, row by row                                              */
/* ===================================================================== */

#define BJ_MIDNIGHT_AFTER_NOW 1700064000 /* 2023-11-16T00:00:00+08:00 */

struct row {
    const char *name;
    int transport;      /* 1 = connect error, 2 = timeout */
    long status;
    const char *body;   /* NULL = empty */
    int64_t now;        /* 0 = NOW */
    enum send_outcome outcome;
    const char *code;
    const char *provider_id;
    int64_t defer_until;
};

#define ANSWER(code, msg) "{\"Code\":\"" code "\",\"Message\":\"" msg "\",\"RequestId\":\"R-1\"}"
#define FAILROW(c, st) {c, 0, st, ANSWER(c, "x"), 0, SEND_FAIL, c, "", 0}
#define RETRYROW(c, st) {c, 0, st, ANSWER(c, "x"), 0, SEND_RETRY, c, "", 0}

static const struct row rows[] = {
    {"OK", 0, 200,
     "{\"Code\":\"OK\",\"Message\":\"OK\",\"BizId\":\"900619746936498440^0\","
     "\"RequestId\":\"F655A8D5-B967-440B-8683-DAD6FF8DE990\"}",
     0, SEND_OK, "OK", "900619746936498440^0", 0},
    {"BUSINESS_LIMIT minute", 0, 200, ANSWER("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
     0, SEND_DEFER, "isv.BUSINESS_LIMIT_CONTROL", "", NOW + 60},
    {"BUSINESS_LIMIT hour", 0, 200, ANSWER("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5"),
     0, SEND_DEFER, "isv.BUSINESS_LIMIT_CONTROL", "", 0},
    {"BUSINESS_LIMIT day", 0, 200, ANSWER("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10"),
     0, SEND_DEFER, "isv.BUSINESS_LIMIT_CONTROL", "", 0},
    {"DAY_LIMIT", 0, 200, ANSWER("isv.DAY_LIMIT_CONTROL", "触发日发送限额"), 0, SEND_DEFER,
     "isv.DAY_LIMIT_CONTROL", "", BJ_MIDNIGHT_AFTER_NOW},
    {"DAY_LIMIT at Beijing midnight", 0, 200, ANSWER("isv.DAY_LIMIT_CONTROL", "x"),
     BJ_MIDNIGHT_AFTER_NOW, SEND_DEFER, "isv.DAY_LIMIT_CONTROL", "", BJ_MIDNIGHT_AFTER_NOW + 86400},
    {"DAY_LIMIT one second before", 0, 200, ANSWER("isv.DAY_LIMIT_CONTROL", "x"),
     BJ_MIDNIGHT_AFTER_NOW - 1, SEND_DEFER, "isv.DAY_LIMIT_CONTROL", "", BJ_MIDNIGHT_AFTER_NOW},
    FAILROW("isv.MOBILE_NUMBER_ILLEGAL", 200),
    FAILROW("isv.MOBILE_COUNT_OVER_LIMIT", 200),
    FAILROW("isv.TEMPLATE_MISSING_PARAMETERS", 200),
    FAILROW("isv.INVALID_JSON_PARAM", 200),
    FAILROW("isv.INVALID_PARAMETERS", 200),
    FAILROW("isv.SMS_TEMPLATE_ILLEGAL", 200),
    FAILROW("isv.SMS_SIGNATURE_ILLEGAL", 200),
    FAILROW("isv.BLACK_KEY_CONTROL_LIMIT", 200),
    FAILROW("isv.PARAM_LENGTH_LIMIT", 200),
    FAILROW("isv.PARAM_NOT_SUPPORT_URL", 200),
    FAILROW("isv.AMOUNT_NOT_ENOUGH", 200),
    FAILROW("isv.OUT_OF_SERVICE", 200),
    FAILROW("isv.PRODUCT_UN_SUBSCRIPT", 200),
    FAILROW("isv.PRODUCT_UNSUBSCRIBE", 200),
    FAILROW("isv.ACCOUNT_NOT_EXISTS", 200),
    FAILROW("isv.ACCOUNT_ABNORMAL", 200),
    FAILROW("isp.RAM_PERMISSION_DENY", 200),
    FAILROW("SignatureDoesNotMatch", 400),
    FAILROW("InvalidAccessKeyId.NotFound", 404),
    FAILROW("InvalidAccessKeyId.Inactive", 400),
    FAILROW("InvalidTimeStamp.Expired", 400),
    FAILROW("SignatureNonceUsed", 400),
    FAILROW("isv.SOMETHING_NEW", 200),
    RETRYROW("Throttling", 400),
    RETRYROW("Throttling.User", 400),
    RETRYROW("Throttling.Api", 503),
    RETRYROW("isp.SYSTEM_ERROR", 200),
    RETRYROW("isp.GATEWAY_ERROR", 200),
    RETRYROW("ServiceUnavailable", 503),
    RETRYROW("InternalError", 500),
    RETRYROW("UnknownError", 500),
    {"HTTP 500 no JSON", 0, 500, "<html>oops</html>", 0, SEND_RETRY, "http_500", "", 0},
    {"HTTP 502 empty", 0, 502, NULL, 0, SEND_RETRY, "http_502", "", 0},
    {"HTTP 429", 0, 429, NULL, 0, SEND_RETRY, "http_429", "", 0},
    {"HTTP 404 no JSON", 0, 404, "not found", 0, SEND_FAIL, "http_404", "", 0},
    {"HTTP 200 not JSON", 0, 200, "<html>ok</html>", 0, SEND_RETRY, "bad_response", "", 0},
    {"HTTP 200 empty", 0, 200, NULL, 0, SEND_RETRY, "bad_response", "", 0},
    {"HTTP 200 no Code", 0, 200, "{\"Message\":\"OK\"}", 0, SEND_RETRY, "bad_response", "", 0},
    {"HTTP 200 array", 0, 200, "[]", 0, SEND_RETRY, "bad_response", "", 0},
    /* found by the adapters fuzzer: a Code of bytes that are no Aliyun code
     * was cut to "" and stored as the message's code */
    {"HTTP 500 unreadable Code", 0, 500, "{\"Code\":\"x\x97\x97\x97\"}", 0, SEND_RETRY,
     "http_500", "", 0},
    {"HTTP 200 Code with a space", 0, 200, "{\"Code\":\"O K\"}", 0, SEND_RETRY, "bad_response",
     "", 0},
    {"transport error", 1, 0, NULL, 0, SEND_RETRY, "transport", "", 0},
    {"timeout", 2, 0, NULL, 0, SEND_RETRY, "timeout", "", 0},
};

static void classify(const struct row *r, struct send_result *res)
{
    struct config cfg = {0};
    struct out_msg m = {.id = 42, .now = r->now ? r->now : NOW, .nonce = NONCE};
    struct http_resp resp = {0};
    resp.transport_error = r->transport != 0;
    resp.timed_out = r->transport == 2;
    resp.error = r->transport ? "Connection refused" : NULL;
    resp.status = r->status;
    resp.body = r->body ? r->body : "";
    resp.body_len = strlen(resp.body);
    memset(res, 0, sizeof *res);
    aliyun_sms_adapter.parse_response(&cfg, &m, &resp, res);
}

static void test_classify_row(void **state)
{
    const struct row *r = *state;
    struct send_result res;
    classify(r, &res);
    assert_int_equal(res.outcome, r->outcome);
    assert_string_equal(res.code, r->code);
    assert_string_equal(res.provider_id, r->provider_id);
    assert_int_equal(res.defer_until, r->defer_until);
    assert_true(utf8_valid(res.detail, strlen(res.detail)));
    if (r->body && strstr(r->body, "\"Message\":\"x\""))
        assert_string_equal(res.detail, "x; RequestId R-1");
}

/* The detail: Message and RequestId; a SignatureDoesNotMatch answer's
 * server string to sign (it holds the number) is cut off; a long message
 * is cut on a UTF-8 boundary. */
static void test_classify_detail(void **state)
{
    (void)state;
    struct row r = {"sig", 0, 400,
                    "{\"RequestId\":\"A1\",\"Code\":\"SignatureDoesNotMatch\",\"Message\":"
                    "\"Specified signature is not matched with our calculation. server string "
                    "to sign is:POST&%2F&OutId%3Dhf-42%26PhoneNumbers%3D13800138000\"}",
                    0, SEND_FAIL, "SignatureDoesNotMatch", "", 0};
    struct send_result res;
    classify(&r, &res);
    assert_string_equal(res.detail,
                        "Specified signature is not matched with our calculation; RequestId A1");
    assert_null(strstr(res.detail, "13800138000"));

    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"Code\":\"isv.SMS_TEMPLATE_ILLEGAL\",\"Message\":\"");
    for (int i = 0; i < 200; i++)
        buf_puts(&b, "模");
    buf_puts(&b, "\",\"RequestId\":\"F655A8D5-B967-440B-8683-DAD6FF8DE990\"}");
    r.status = 200;
    r.body = b.data;
    classify(&r, &res);
    assert_int_equal(res.outcome, SEND_FAIL);
    assert_true(utf8_valid(res.detail, strlen(res.detail)));
    assert_true(strlen(res.detail) < sizeof res.detail);
    assert_non_null(strstr(res.detail, "; RequestId F655A8D5-B967-440B-8683-DAD6FF8DE990"));
    buf_cleanup(&b);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_v1a_published),
        cmocka_unit_test(test_v1b_post),
        cmocka_unit_test(test_v1c_published),
        cmocka_unit_test(test_v1d_sms),
        cmocka_unit_test(test_v3a_published),
        cmocka_unit_test(test_v3b_sms),
        cmocka_unit_test(test_v3_content_type_signed),
        cmocka_unit_test(test_pct_rules),
        cmocka_unit_test(test_parse_authorization),
        cmocka_unit_test(test_uuid_from_nonce),
        cmocka_unit_test_setup_teardown(test_request_v3_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_v3_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_v1_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_host_from_base_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_other_number_no_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_template_param_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_missing_sms_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_missing_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_can_reach_and_enabled, setup, teardown),
        cmocka_unit_test(test_classify_detail),
    };
    /* One cmocka test per classification row, named after the row. */
    enum { NFIXED = HF_ARRAY_LEN(fixed), NROWS = HF_ARRAY_LEN(rows) };
    static struct CMUnitTest all[NFIXED + NROWS];
    static char names[NROWS][80];
    memcpy(all, fixed, sizeof fixed);
    for (size_t i = 0; i < NROWS; i++) {
        snprintf(names[i], sizeof names[i], "classify: %s", rows[i].name);
        all[NFIXED + i] = (struct CMUnitTest){names[i], test_classify_row, NULL, NULL,
                                              (void *)&rows[i]};
    }
    return _cmocka_run_group_tests("aliyun", all, NFIXED + NROWS, NULL, NULL);
}
