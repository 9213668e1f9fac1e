/*
 * sign_aliyun.c - Aliyun OpenAPI signatures V1 (RPC, HMAC-SHA1) and V3
 * (ACS3-HMAC-SHA256). See sign_aliyun.h for the algorithms and
 * PROTOCOLS.md C6/C7 for the sources.
 *
 * Crypto goes through OpenSSL (HMAC(), EVP_EncodeBlock, and util.c's
 * sha256_hex/hmac_sha256_hex); nothing is hand-written.
 */
#include "sign_aliyun.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

void sign_aliyun_pct(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            buf_append(out, p, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(out, e, 3);
        }
    }
}

static int kv_cmp(const void *a, const void *b)
{
    const struct sign_aliyun_kv *x = a, *y = b;
    return strcmp(x->key, y->key);
}

/* A sorted copy of @kv (@n pairs) without the pairs whose key equals
 * @skip (may be NULL). *nout gets the count. Asserts unique keys. Caller
 * owns the array (not the strings); free(). */
static struct sign_aliyun_kv *kv_sorted(const struct sign_aliyun_kv *kv, size_t n,
                                        const char *skip, size_t *nout)
{
    struct sign_aliyun_kv *s = xcalloc(n ? n : 1, sizeof *s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        HF_ASSERT(kv[i].key && kv[i].value);
        if (skip && strcmp(kv[i].key, skip) == 0)
            continue;
        s[k++] = kv[i];
    }
    qsort(s, k, sizeof *s, kv_cmp);
    for (size_t i = 1; i < k; i++)
        HF_ASSERT(strcmp(s[i - 1].key, s[i].key) != 0);
    *nout = k;
    return s;
}

/* ===================================================================== */
/* V1                                                                      */
/* ===================================================================== */

void sign_aliyun_v1(const char *method, const struct sign_aliyun_kv *params, size_t n,
                    const char *secret, struct sign_aliyun_v1 *out)
{
    memset(out, 0, sizeof *out);
    size_t k;
    struct sign_aliyun_kv *s = kv_sorted(params, n, "Signature", &k);

    struct buf q;
    buf_init(&q);
    for (size_t i = 0; i < k; i++) {
        if (i)
            buf_puts(&q, "&");
        sign_aliyun_pct(&q, s[i].key);
        buf_puts(&q, "=");
        sign_aliyun_pct(&q, s[i].value);
    }
    free(s);
    out->canonical_query = buf_steal(&q);

    struct buf sts;
    buf_init(&sts);
    buf_puts(&sts, method);
    buf_puts(&sts, "&");
    sign_aliyun_pct(&sts, "/");
    buf_puts(&sts, "&");
    sign_aliyun_pct(&sts, out->canonical_query);
    out->string_to_sign = buf_steal(&sts);

    /* The key is the secret with "&" appended (C6.5). */
    size_t slen = strlen(secret);
    char *key = xmalloc(slen + 2);
    memcpy(key, secret, slen);
    key[slen] = '&';
    key[slen + 1] = '\0';
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HF_ASSERT(HMAC(EVP_sha1(), key, (int)(slen + 1), (const unsigned char *)out->string_to_sign,
                   strlen(out->string_to_sign), md, &mdlen) != NULL);
    OPENSSL_cleanse(key, slen + 1);
    free(key);
    HF_ASSERT(mdlen == 20);
    int b64 = EVP_EncodeBlock((unsigned char *)out->signature, md, (int)mdlen);
    HF_ASSERT(b64 == 28);
}

void sign_aliyun_v1_cleanup(struct sign_aliyun_v1 *s)
{
    free(s->canonical_query);
    free(s->string_to_sign);
    memset(s, 0, sizeof *s);
}

/* ===================================================================== */
/* V3                                                                      */
/* ===================================================================== */

/* 1 if lower-cased header @name is signed under V3 (C7.3). */
static int v3_signed_name(const char *name)
{
    return strcmp(name, "host") == 0 || strcmp(name, "content-type") == 0 ||
           strncmp(name, "x-acs-", 6) == 0;
}

/* Heap copy of @s, ASCII lower-cased. */
static char *lower_dup(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

/* Heap copy of @s without leading/trailing spaces and tabs. */
static char *trim_dup(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return xstrndup(s, n);
}

void sign_aliyun_v3(const struct sign_aliyun_v3_in *in, struct sign_aliyun_v3 *out)
{
    memset(out, 0, sizeof *out);

    /* CanonicalQueryString: key=pct(value), sorted by key. */
    size_t nq;
    struct sign_aliyun_kv *q = kv_sorted(in->query, in->nquery, NULL, &nq);
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < nq; i++) {
        if (i)
            buf_puts(&b, "&");
        buf_puts(&b, q[i].key);
        buf_puts(&b, "=");
        sign_aliyun_pct(&b, q[i].value);
    }
    free(q);
    out->canonical_query = buf_steal(&b);

    /* CanonicalHeaders / SignedHeaders: host, content-type, x-acs-*. The
     * lower-cased names and trimmed values are heap copies, kept in one
     * array and freed below. */
    struct sign_aliyun_kv *h = xcalloc(in->nheaders ? in->nheaders : 1, sizeof *h);
    size_t nh = 0;
    for (size_t i = 0; i < in->nheaders; i++) {
        char *name = lower_dup(in->headers[i].key);
        if (!v3_signed_name(name)) {
            free(name);
            continue;
        }
        h[nh].key = name;
        h[nh].value = trim_dup(in->headers[i].value);
        nh++;
    }
    qsort(h, nh, sizeof *h, kv_cmp);
    struct buf ch, sh;
    buf_init(&ch);
    buf_init(&sh);
    for (size_t i = 0; i < nh; i++) {
        HF_ASSERT(i == 0 || strcmp(h[i - 1].key, h[i].key) != 0);
        buf_printf(&ch, "%s:%s\n", h[i].key, h[i].value);
        buf_printf(&sh, "%s%s", i ? ";" : "", h[i].key);
    }
    for (size_t i = 0; i < nh; i++) {
        free((char *)h[i].key);
        free((char *)h[i].value);
    }
    free(h);
    out->canonical_headers = buf_steal(&ch);
    out->signed_headers = buf_steal(&sh);

    out->canonical_request = xasprintf("%s\n%s\n%s\n%s\n%s\n%s", in->method, in->uri,
                                       out->canonical_query, out->canonical_headers,
                                       out->signed_headers, in->payload_hash);
    sha256_hex(out->canonical_request, strlen(out->canonical_request), out->hashed_request);
    out->string_to_sign = xasprintf(SIGN_ALIYUN_V3_ALGORITHM "\n%s", out->hashed_request);
    hmac_sha256_hex(in->key_secret, strlen(in->key_secret), out->string_to_sign,
                    strlen(out->string_to_sign), out->signature);
    out->authorization = xasprintf(SIGN_ALIYUN_V3_ALGORITHM " Credential=%s,SignedHeaders=%s,"
                                   "Signature=%s", in->key_id, out->signed_headers,
                                   out->signature);
}

void sign_aliyun_v3_cleanup(struct sign_aliyun_v3 *s)
{
    free(s->canonical_query);
    free(s->canonical_headers);
    free(s->signed_headers);
    free(s->canonical_request);
    free(s->string_to_sign);
    free(s->authorization);
    memset(s, 0, sizeof *s);
}

/* Copy the value of "@name=" that starts @p and ends at ',' or NUL into
 * @dst (@dstlen). Returns the position after the value, or NULL when @p
 * does not start with @name= or the value is empty or does not fit. */
static const char *auth_part(const char *p, const char *name, char *dst, size_t dstlen)
{
    size_t nl = strlen(name);
    if (strncmp(p, name, nl) != 0 || p[nl] != '=')
        return NULL;
    p += nl + 1;
    size_t vl = strcspn(p, ",");
    if (vl == 0 || vl >= dstlen)
        return NULL;
    memcpy(dst, p, vl);
    dst[vl] = '\0';
    return p + vl;
}

int sign_aliyun_v3_parse_authorization(const char *auth, char *key_id, size_t idlen,
                                       char *signed_headers, size_t shlen, char signature[65])
{
    static const char algo[] = SIGN_ALIYUN_V3_ALGORITHM " ";
    if (!auth || strncmp(auth, algo, sizeof algo - 1) != 0)
        return -1;
    const char *p = auth + sizeof algo - 1;
    if (!(p = auth_part(p, "Credential", key_id, idlen)) || *p++ != ',')
        return -1;
    if (!(p = auth_part(p, "SignedHeaders", signed_headers, shlen)) || *p++ != ',')
        return -1;
    if (!(p = auth_part(p, "Signature", signature, 65)) || *p != '\0')
        return -1;
    return 0;
}

void sign_aliyun_uuid_from_nonce(const char *nonce, char out[37])
{
    size_t n = strlen(nonce);
    int hex = n == 32;
    for (size_t i = 0; hex && i < n; i++) {
        char c = nonce[i];
        hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
    if (!hex) {
        snprintf(out, 37, "%s", nonce);
        return;
    }
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", nonce, nonce + 8, nonce + 12, nonce + 16,
             nonce + 20);
}
