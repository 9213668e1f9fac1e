/*
 * sign_aliyun.c - placeholder until the signer lands (issue 3).
 */
#include "adapter.h"

typedef int sign_aliyun_placeholder;
