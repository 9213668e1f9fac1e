/*
 * sign_tc3.c - placeholder until the signer lands (issue 3).
 */
#include "adapter.h"

typedef int sign_tc3_placeholder;
