/*
 * aliyun.c - mock aliyun SMS API (/aliyun). (Routes are added with the adapter.)
 */
#include "mock.h"

static const struct mock_route aliyun_routes[] = {
    { NULL, NULL, 0, 0, NULL },
};

const struct mock_provider mock_aliyun_provider = { "aliyun", aliyun_routes, NULL, NULL };
