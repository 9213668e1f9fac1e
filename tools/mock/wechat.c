/*
 * wechat.c - mock WeChat Official Account (/wechat) and WeCom (/wecom) APIs.
 * (Routes are added with the WeChat and WeCom adapters.)
 */
#include "mock.h"

static const struct mock_route wechat_routes[] = {
    { NULL, NULL, 0, 0, NULL },
};
static const struct mock_route wecom_routes[] = {
    { NULL, NULL, 0, 0, NULL },
};

const struct mock_provider mock_wechat_provider = { "wechat", wechat_routes, NULL, NULL };
const struct mock_provider mock_wecom_provider = { "wecom", wecom_routes, NULL, NULL };
