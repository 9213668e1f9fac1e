/*
 * aliyun_sms.c - placeholder until the adapter lands (issue 3).
 */
#include "adapter.h"

#include <stdio.h>

static int aliyun_sms_enabled(const struct config *cfg)
{
    (void)cfg;
    return 0;
}

static int aliyun_sms_can_reach(const struct config *cfg, const cJSON *recipient)
{
    (void)cfg;
    (void)recipient;
    return 0;
}

static int aliyun_sms_build(const struct config *cfg, const struct out_msg *m, struct http_req *req,
                      char *err, size_t errlen)
{
    (void)cfg;
    (void)m;
    (void)req;
    snprintf(err, errlen, "the aliyun_sms adapter is not built yet");
    return -1;
}

static void aliyun_sms_parse(const struct config *cfg, const struct out_msg *m,
                       const struct http_resp *resp, struct send_result *res)
{
    (void)cfg;
    (void)m;
    (void)resp;
    res->outcome = SEND_FAIL;
}

const struct channel_adapter aliyun_sms_adapter = {
    .name = "aliyun_sms",
    .channel = "sms",
    .enabled = aliyun_sms_enabled,
    .can_reach = aliyun_sms_can_reach,
    .build_request = aliyun_sms_build,
    .parse_response = aliyun_sms_parse,
};
