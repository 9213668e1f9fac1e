/*
 * wecom.c - placeholder until the adapter lands (issue 3).
 */
#include "adapter.h"

#include <stdio.h>

static int wecom_enabled(const struct config *cfg)
{
    (void)cfg;
    return 0;
}

static int wecom_can_reach(const struct config *cfg, const cJSON *recipient)
{
    (void)cfg;
    (void)recipient;
    return 0;
}

static int wecom_build(const struct config *cfg, const struct out_msg *m, struct http_req *req,
                      char *err, size_t errlen)
{
    (void)cfg;
    (void)m;
    (void)req;
    snprintf(err, errlen, "the wecom adapter is not built yet");
    return -1;
}

static void wecom_parse(const struct config *cfg, const struct out_msg *m,
                       const struct http_resp *resp, struct send_result *res)
{
    (void)cfg;
    (void)m;
    (void)resp;
    res->outcome = SEND_FAIL;
}

const struct channel_adapter wecom_adapter = {
    .name = "wecom",
    .channel = "wecom",
    .enabled = wecom_enabled,
    .can_reach = wecom_can_reach,
    .build_request = wecom_build,
    .parse_response = wecom_parse,
};
