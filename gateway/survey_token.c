/*
 * survey_token.c - HMAC-signed survey link tokens.
 */
#include "survey_token.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAC_HEX 32

static void mac_of(const char *secret, int64_t id, int64_t expires, char mac[65])
{
    char msg[48];
    int n = snprintf(msg, sizeof msg, "%lld.%lld", (long long)id, (long long)expires);
    hmac_sha256_hex(secret, strlen(secret), msg, (size_t)n, mac);
}

void survey_token_make(const char *secret, int64_t id, int64_t expires,
                       char out[SURVEY_TOKEN_MAX])
{
    char mac[65];
    mac_of(secret, id, expires, mac);
    snprintf(out, SURVEY_TOKEN_MAX, "%lld.%lld.%.*s", (long long)id, (long long)expires, MAC_HEX,
             mac);
}

static int parse_num(const char **p, char stop, int64_t *out)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s) || (*s == '0' && s[1] != stop))
        return -1;
    int64_t v = 0;
    int digits = 0;
    for (; isdigit((unsigned char)*s); s++) {
        if (++digits > 15)
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (*s != stop)
        return -1;
    *p = s + 1;
    *out = v;
    return 0;
}

int survey_token_verify(const char *secret, const char *token, int64_t now, int64_t *id)
{
    const char *p = token;
    int64_t sid, exp;
    if (parse_num(&p, '.', &sid) || parse_num(&p, '.', &exp) || strlen(p) != MAC_HEX)
        return -1;
    char mac[65];
    mac_of(secret, sid, exp, mac);
    if (!ct_equal(mac, p, MAC_HEX))
        return -1;
    if (now > exp)
        return -2;
    *id = sid;
    return 0;
}

void survey_extend_code(int64_t id, int digits, char out[8])
{
    int64_t mod = 1;
    for (int i = 0; i < digits && i < 7; i++)
        mod *= 10;
    snprintf(out, 8, "%0*lld", digits, (long long)(id % mod));
}
