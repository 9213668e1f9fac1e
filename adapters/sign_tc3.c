/*
 * sign_tc3.c - TC3-HMAC-SHA256, Tencent Cloud API 3.0 signing (see
 * sign_tc3.h for the algorithm and PROTOCOLS.md section D4 for sources).
 *
 * Crypto goes through OpenSSL (EVP digest via util.c's sha256_hex, HMAC()
 * here for the raw derived keys); nothing is hand-written.
 */
#include "sign_tc3.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* One canonical header: name and value trimmed and lower-cased (heap). */
struct canon_header {
    char *name;
    char *value;
};

/* Copy @s without leading/trailing spaces and tabs, ASCII lower-cased.
 * Caller owns the result; free(). */
static char *trim_lower(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    char *out = xstrndup(s, n);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

static int has_crlf(const char *s)
{
    return strchr(s, '\r') != NULL || strchr(s, '\n') != NULL;
}

static int nonempty(const char *s)
{
    return s && *s;
}

static int canon_cmp(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* Raw HMAC-SHA256 of @msg under @key into @md (32 bytes). */
static void hmac_raw(const void *key, size_t keylen, const char *msg, unsigned char md[32])
{
    unsigned int mdlen = 0;
    unsigned char *r = HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
                            strlen(msg), md, &mdlen);
    HF_ASSERT(r != NULL && mdlen == 32); /* fails only on allocation failure */
}

void tc3_date(int64_t ts, char out[11])
{
    time_t t = (time_t)ts;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
        snprintf(out, 11, "0000-00-00"); /* year outside 0..9999: no valid scope anyway */
}

void tc3_sig_cleanup(struct tc3_sig *s)
{
    free(s->canonical_request);
    free(s->credential_scope);
    free(s->string_to_sign);
    free(s->signed_headers);
    free(s->authorization);
    /* The derived keys go too: they sign anything for a day. */
    memset(s, 0, sizeof *s);
}

int tc3_sign(const struct tc3_params *p, struct tc3_sig *out)
{
    struct canon_header hs[2 + TC3_MAX_EXTRA_HEADERS];
    size_t nh = 0;
    int rc = HF_ERR_INVAL;

    memset(out, 0, sizeof *out);
    if (!nonempty(p->secret_id) || !nonempty(p->secret_key) || !nonempty(p->service) ||
        !nonempty(p->host) || !nonempty(p->content_type) || p->timestamp < 0 ||
        p->nextra > TC3_MAX_EXTRA_HEADERS || (p->nextra && !p->extra) ||
        (p->payload_len && !p->payload))
        return HF_ERR_INVAL;
    if (has_crlf(p->host) || has_crlf(p->content_type) || has_crlf(p->service) ||
        has_crlf(p->secret_id))
        return HF_ERR_INVAL;

    hs[nh].name = xstrdup("content-type");
    hs[nh++].value = trim_lower(p->content_type);
    hs[nh].name = xstrdup("host");
    hs[nh++].value = trim_lower(p->host);
    for (size_t i = 0; i < p->nextra; i++) {
        const struct tc3_header *h = &p->extra[i];
        if (!h->name || !h->value || has_crlf(h->name) || has_crlf(h->value))
            goto out;
        hs[nh].name = trim_lower(h->name);
        hs[nh++].value = trim_lower(h->value);
        if (!hs[nh - 1].name[0] || strchr(hs[nh - 1].name, ':') || strchr(hs[nh - 1].name, ';'))
            goto out;
    }
    qsort(hs, nh, sizeof hs[0], canon_cmp);
    for (size_t i = 1; i < nh; i++)
        if (strcmp(hs[i - 1].name, hs[i].name) == 0)
            goto out;

    /* 1. CanonicalRequest. */
    sha256_hex(p->payload_len ? p->payload : "", p->payload_len, out->hashed_payload);
    struct buf canon, names;
    buf_init(&canon);
    buf_init(&names);
    buf_puts(&canon, "POST\n/\n\n");
    for (size_t i = 0; i < nh; i++) {
        buf_printf(&canon, "%s:%s\n", hs[i].name, hs[i].value);
        buf_printf(&names, "%s%s", i ? ";" : "", hs[i].name);
    }
    buf_printf(&canon, "\n%s\n%s", names.data, out->hashed_payload);
    out->canonical_request = buf_steal(&canon);
    out->signed_headers = buf_steal(&names);
    sha256_hex(out->canonical_request, strlen(out->canonical_request),
               out->hashed_canonical_request);

    /* 2-4. Date (UTC), CredentialScope, StringToSign. */
    tc3_date(p->timestamp, out->date);
    out->credential_scope = xasprintf("%s/%s/tc3_request", out->date, p->service);
    out->string_to_sign = xasprintf(TC3_ALGORITHM "\n%lld\n%s\n%s", (long long)p->timestamp,
                                    out->credential_scope, out->hashed_canonical_request);

    /* 5. Derived keys: each raw 32-byte output keys the next step. */
    char *k0 = xasprintf("TC3%s", p->secret_key);
    hmac_raw(k0, strlen(k0), out->date, out->k_date);
    OPENSSL_cleanse(k0, strlen(k0));
    free(k0); k0 = NULL;
    hmac_raw(out->k_date, 32, p->service, out->k_service);
    hmac_raw(out->k_service, 32, "tc3_request", out->k_signing);

    /* 6-7. Signature and the header value. */
    hmac_sha256_hex(out->k_signing, 32, out->string_to_sign, strlen(out->string_to_sign),
                    out->signature);
    out->authorization = xasprintf(TC3_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
                                   "Signature=%s",
                                   p->secret_id, out->credential_scope, out->signed_headers,
                                   out->signature);
    rc = HF_OK;
out:
    for (size_t i = 0; i < nh; i++) {
        free(hs[i].name);
        free(hs[i].value);
    }
    if (rc != HF_OK)
        tc3_sig_cleanup(out);
    return rc;
}

/* Copy [@s, @e) into @dst (@cap bytes with NUL). 0, or -1 if empty or too long. */
static int copy_span(char *dst, size_t cap, const char *s, const char *e)
{
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= cap)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* Skip "," and spaces between parts; the comma is required. */
static const char *skip_sep(const char *p)
{
    while (*p == ' ')
        p++;
    if (*p != ',')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

int tc3_parse_authorization(const char *value, struct tc3_auth *out)
{
    static const char algo[] = TC3_ALGORITHM " ";
    static const char cred[] = "Credential=";
    static const char sh[] = "SignedHeaders=";
    static const char sig[] = "Signature=";
    static const char tail[] = "/tc3_request";

    memset(out, 0, sizeof *out);
    if (!value || strncmp(value, algo, sizeof algo - 1) != 0)
        return HF_ERR_PROTO;
    const char *p = value + sizeof algo - 1;
    while (*p == ' ')
        p++;

    /* Credential=<id>/<date>/<service>/tc3_request */
    if (strncmp(p, cred, sizeof cred - 1) != 0)
        return HF_ERR_PROTO;
    p += sizeof cred - 1;
    const char *end = strchr(p, ',');
    if (!end)
        return HF_ERR_PROTO;
    const char *e = end;
    while (e > p && e[-1] == ' ')
        e--;
    size_t tl = sizeof tail - 1;
    /* cppcheck-suppress knownConditionTrueFalse ; false positive: e - p depends on the header text */
    if ((size_t)(e - p) <= tl || strncmp(e - tl, tail, tl) != 0)
        return HF_ERR_PROTO;
    const char *scope_end = e - tl;      /* end of <service> */
    const char *s1 = memchr(p, '/', (size_t)(scope_end - p));
    if (!s1)
        return HF_ERR_PROTO;
    const char *s2 = memchr(s1 + 1, '/', (size_t)(scope_end - s1 - 1));
    if (!s2 || memchr(s2 + 1, '/', (size_t)(scope_end - s2 - 1)))
        return HF_ERR_PROTO;
    if (copy_span(out->secret_id, sizeof out->secret_id, p, s1) != 0 ||
        copy_span(out->date, sizeof out->date, s1 + 1, s2) != 0 ||
        copy_span(out->service, sizeof out->service, s2 + 1, scope_end) != 0)
        goto bad;

    /* SignedHeaders=<a;b> */
    p = skip_sep(end);
    if (!p || strncmp(p, sh, sizeof sh - 1) != 0)
        goto bad;
    p += sizeof sh - 1;
    end = strchr(p, ',');
    if (!end)
        goto bad;
    e = end;
    while (e > p && e[-1] == ' ')
        e--;
    if (copy_span(out->signed_headers, sizeof out->signed_headers, p, e) != 0)
        goto bad;

    /* Signature=<64 hex> */
    p = skip_sep(end);
    if (!p || strncmp(p, sig, sizeof sig - 1) != 0)
        goto bad;
    p += sizeof sig - 1;
    e = p + strlen(p);
    while (e > p && e[-1] == ' ')
        e--;
    /* cppcheck-suppress knownConditionTrueFalse ; false positive: e = p + strlen(p) */
    if (e - p != 64)
        goto bad;
    for (const char *c = p; c < e; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            goto bad;
    memcpy(out->signature, p, 64);
    out->signature[64] = '\0';
    return HF_OK;
bad:
    memset(out, 0, sizeof *out);
    return HF_ERR_PROTO;
}
