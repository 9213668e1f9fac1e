/*
 * tencent.c - mock tencent SMS API (/tencent). (Routes are added with the adapter.)
 */
#include "mock.h"

static const struct mock_route tencent_routes[] = {
    { NULL, NULL, 0, 0, NULL },
};

const struct mock_provider mock_tencent_provider = { "tencent", tencent_routes, NULL, NULL };
