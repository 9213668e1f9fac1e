/*
 * survey_token.c - libFuzzer harness: the signed survey link token
 * (GET/POST /s/<token>) through survey_token_verify().
 *
 * A token the verifier accepts must be exactly the one survey_token_make()
 * writes for its id and expiry: one canonical spelling per link, so no
 * second form of a token (leading zeros, signs, case) passes the MAC check.
 * The first 16 bytes also drive a make/verify round trip.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "survey_token.h"
#include "util.h"

#define SECRET "fuzz-survey-secret-0123456789"
#define NOW 1764000000 /* 2025-11-24 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *token = xstrndup((const char *)data, size);
    int64_t id = -1;
    int rc = survey_token_verify(SECRET, token, NOW, &id);
    if (rc == 0) {
        /* The expiry is the middle field; re-make and compare. */
        const char *dot = strchr(token, '.');
        int64_t exp = dot ? strtoll(dot + 1, NULL, 10) : -1;
        char again[SURVEY_TOKEN_MAX];
        survey_token_make(SECRET, id, exp, again);
        if (strcmp(again, token) != 0 || exp < NOW)
            abort();
    } else if (rc != -1 && rc != -2) {
        abort();
    }
    free(token);

    if (size >= 16) {
        uint64_t a, b;
        memcpy(&a, data, 8);
        memcpy(&b, data + 8, 8);
        int64_t sid = (int64_t)(a % 1000000000000000ULL);      /* < 10^15 */
        int64_t exp = NOW + (int64_t)(b % 1000000000ULL);       /* not expired */
        char t[SURVEY_TOKEN_MAX];
        survey_token_make(SECRET, sid, exp, t);
        int64_t got = -1;
        if (survey_token_verify(SECRET, t, NOW, &got) != 0 || got != sid)
            abort();
        if (survey_token_verify("another-secret", t, NOW, &got) != -1)
            abort();
    }
    return 0;
}
