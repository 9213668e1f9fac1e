/*
 * adapters.c - libFuzzer harness: the providers' answers (PROTOCOLS.md A-E)
 * through every adapter's parse_response() and, for WeChat and WeCom,
 * token_parse(). A provider is not trusted to answer sanely (a proxy's
 * HTML, a truncated body, an errcode of 1e300).
 *
 * Input: byte 0 picks the adapter (registry order), byte 1 the HTTP
 * status, byte 2 (bit 0) token_parse (WeChat, WeCom) or status_parse
 * (Tencent's status pull) instead of parse_response, the rest is the
 * body. The outcome must be one of the enum, the texts NUL-terminated,
 * and a token error or a pull's detail must not repeat the secret even
 * when the provider echoes it.
 * Run from the repository root (uses config/huifang.json).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "adapter.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define SECRET "fuzz-provider-secret-0123456789"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct config *cfg;
static cJSON *recipient, *project;

static void set_secret(char **field)
{
    free(*field);
    *field = xstrdup(SECRET);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[512];
    log_min_level = LOG_LVL_ERR;
    setenv("HUIFANG_SURVEY_SECRET", "fuzz-survey-secret-0123456789", 0);
    setenv("HUIFANG_WEBHOOK_SECRET", SECRET, 0);
    cfg = config_load("config/huifang.json", err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "fuzz adapters: run from the repository root: %s\n", err);
        abort();
    }
    set_secret(&cfg->wechat_secret);
    set_secret(&cfg->wecom_secret);
    set_secret(&cfg->aliyun_key_secret);
    set_secret(&cfg->tencent_secret_key);
    recipient = cJSON_Parse("{\"role\":\"customer\",\"name\":\"王建国\",\"title\":\"先生\","
                            "\"mobile\":\"13812345678\",\"wechat_openid\":\"oUser_OpenID_0001\","
                            "\"wecom_id\":\"liqiang\"}");
    project = cJSON_Parse("{\"id\":\"P1\",\"address\":\"杭州市西湖区文三路88号\"}");
    if (!recipient || !project)
        abort();
    return 0;
}

static int terminated(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

/* 1 when @out shows a configured secret the provider's answer (@body) did
 * not itself carry: an answer's own text may be quoted, ours may not. */
static int leaks_secret(const char *out, const char *body, size_t len)
{
    return strstr(out, SECRET) && !memmem(body, len, SECRET, strlen(SECRET));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 200, 200, 200, 400, 403, 429, 500, 502, 503, 0, 302};
    if (size < 3)
        return 0;
    const struct channel_adapter *a = adapter_registry[data[0] % adapter_registry_len];
    long status = statuses[data[1] % HF_ARRAY_LEN(statuses)];
    /* exactly the body's bytes plus the NUL struct http_resp promises */
    size_t len = size - 3;
    char *body = xmalloc(len + 1);
    memcpy(body, data + 3, len);
    body[len] = '\0';
    struct http_resp resp = {.status = status, .body = body, .body_len = len,
                             .transport_error = status == 0, .error = status ? NULL : "reset"};
    if ((data[2] & 1) && a->token_parse) {
        char token[600], err[256] = "";
        int64_t exp = -1;
        int retryable = -1;
        int rc = a->token_parse(cfg, &resp, token, sizeof token, &exp, &retryable, err, sizeof err);
        if (rc == 0 && (!terminated(token, sizeof token) || exp < 1))
            abort();
        if (rc != 0 && (!err[0] || (retryable != 0 && retryable != 1) ||
                        leaks_secret(err, body, len)))
            abort();
    } else if ((data[2] & 1) && a->status_parse) {
        struct status_query q = {.id = 42, .recipient = recipient, .since = 1763990000,
                                 .now = 1764000000};
        struct status_result res;
        memset(&res, 0x5a, sizeof res);
        a->status_parse(cfg, &q, &resp, &res);
        if (res.outcome > STATUS_UNKNOWN || !terminated(res.code, sizeof res.code) ||
            !terminated(res.provider_id, sizeof res.provider_id) ||
            !terminated(res.request_id, sizeof res.request_id) ||
            !terminated(res.detail, sizeof res.detail) ||
            (res.outcome != STATUS_NONE && !res.code[0]) || leaks_secret(res.detail, body, len))
            abort();
    } else {
        struct out_msg m = {.id = 42, .kind = "survey", .milestone = "completion",
                            .message = "survey", .channel = a->channel, .attempt = 1,
                            .recipient = recipient, .project = project,
                            .access_token = "ACCESS_TOKEN", .now = 1764000000,
                            .nonce = "0123456789abcdef0123456789abcdef"};
        struct send_result res;
        memset(&res, 0, sizeof res);
        a->parse_response(cfg, &m, &resp, &res);
        if (res.outcome > SEND_TOKEN_INVALID || !res.code[0] ||
            !terminated(res.code, sizeof res.code) ||
            !terminated(res.provider_id, sizeof res.provider_id) ||
            !terminated(res.request_id, sizeof res.request_id) ||
            !terminated(res.detail, sizeof res.detail))
            abort();
        /* A send request never carries the secret (it signs, or uses the
         * access token), so a provider cannot echo it: only text we made
         * could hold it. The token request does carry it (checked above). */
        if (leaks_secret(res.detail, body, len))
            abort();
    }
    free(body);
    return 0;
}
