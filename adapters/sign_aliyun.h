/*
 * sign_aliyun.h - Aliyun (Alibaba Cloud) OpenAPI request signing for
 * dysmsapi 2017-05-25 (PROTOCOLS.md sections C6 and C7).
 *
 * Pure functions: no I/O, no clock, no globals, no logging. The Aliyun SMS
 * adapter signs with them; the mock provider verifies by recomputing with
 * the same functions from what it received. Every intermediate string is
 * exposed so the unit tests compare each one with the vendor vectors
 * (vectors/expected-output.txt: V1-a..V1-d, V3-a, V3-b).
 *
 * Percent-encoding (pct, C6.2), over the UTF-8 bytes:
 *   A-Z a-z 0-9 - _ . ~ are kept; every other byte is %XY, upper-case hex.
 *   Space is %20 (never '+'), '*' is %2A, '~' is kept.
 * This is exactly adapter_pct_encode() in registry.c; the signer carries
 * its own copy because the mock provider links this file without the
 * adapter registry (the unit test checks that both agree byte for byte).
 *
 * V1 (RPC, SignatureVersion 1.0, HMAC-SHA1; Aliyun's newer docs say "V2"):
 *   CanonicalizedQuery = sort params by key (byte order), excluding
 *                        Signature; join pct(key) "=" pct(value) with '&'
 *   StringToSign       = METHOD "&" pct("/") "&" pct(CanonicalizedQuery)
 *   Signature          = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))
 *   sent as the query parameter Signature=pct(Signature).
 *
 * V3 (ACS3-HMAC-SHA256):
 *   CanonicalQueryString = sort query by key; join key "=" pct(value) with '&'
 *                          (keys are not encoded, as the SDK does; ours are
 *                          ASCII letters)
 *   CanonicalHeaders     = for each header named host, content-type or
 *                          x-acs-*: lower-cased name ":" trimmed value "\n",
 *                          sorted by name
 *   SignedHeaders        = those names joined with ';'
 *   CanonicalRequest     = METHOD "\n" URI "\n" CanonicalQueryString "\n"
 *                          CanonicalHeaders "\n" SignedHeaders "\n" HashedPayload
 *   StringToSign         = "ACS3-HMAC-SHA256\n" hex(sha256(CanonicalRequest))
 *   Signature            = hex(HMAC-SHA256(AccessKeySecret, StringToSign))
 *   Authorization        = "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<list>,
 *                           Signature=<hex>"  (no spaces after the commas)
 *
 * Secrets: AccessKeySecret only enters the HMAC key. Signatures are not
 * secret-equivalent but are never logged either (STYLE.md 2.10).
 */
#ifndef HF_SIGN_ALIYUN_H
#define HF_SIGN_ALIYUN_H

#include <stddef.h>

#include "util.h"

#define SIGN_ALIYUN_V3_ALGORITHM "ACS3-HMAC-SHA256"
#define SIGN_ALIYUN_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One (key, value) pair: a query parameter or a header. Borrowed. */
struct sign_aliyun_kv {
    const char *key;
    const char *value;
};

/* Append pct(@s) (C6.2) to @out. */
void sign_aliyun_pct(struct buf *out, const char *s);

/* ---- V1: RPC, HMAC-SHA1 ---------------------------------------------- */

/* The V1 result and its intermediates. Heap members are owned by the
 * struct; sign_aliyun_v1_cleanup() frees them. */
struct sign_aliyun_v1 {
    char *canonical_query;   /* "AccessKeyId=testid&Action=..." */
    char *string_to_sign;    /* "GET&%2F&AccessKeyId%3Dtestid%26..." */
    char signature[32];      /* base64 of the 20-byte MAC: 28 chars + NUL */
};

/*
 * Sign @params (@n pairs; a pair whose key is "Signature" is skipped) for
 * HTTP @method ("GET"/"POST", the one actually used) with @secret.
 * Keys must be unique (asserted: a duplicate is a programmer error).
 * Fills @out (initialised here). Always succeeds. Caller owns the heap
 * members; free with sign_aliyun_v1_cleanup(). Safe in loop callbacks
 * (no I/O).
 */
void sign_aliyun_v1(const char *method, const struct sign_aliyun_kv *params, size_t n,
                    const char *secret, struct sign_aliyun_v1 *out);
void sign_aliyun_v1_cleanup(struct sign_aliyun_v1 *s);

/* ---- V3: ACS3-HMAC-SHA256 --------------------------------------------- */

/* What a V3 signature covers. All pointers are borrowed. */
struct sign_aliyun_v3_in {
    const char *method;                   /* "POST" */
    const char *uri;                      /* canonical URI, "/" for RPC-style APIs */
    const struct sign_aliyun_kv *query;   /* decoded query parameters, any order */
    size_t nquery;
    const struct sign_aliyun_kv *headers; /* any case; only host, content-type and x-acs-*
                                             are signed, the others are ignored */
    size_t nheaders;
    const char *payload_hash;             /* hex sha256 of the body (x-acs-content-sha256) */
    const char *key_id;                   /* AccessKeyId */
    const char *key_secret;               /* AccessKeySecret; never logged */
};

/* The V3 result and its intermediates (heap members owned by the struct;
 * sign_aliyun_v3_cleanup() frees them). */
struct sign_aliyun_v3 {
    char *canonical_query;      /* "OutId=order-42&PhoneNumbers=..." */
    char *canonical_headers;    /* "host:...\nx-acs-action:...\n" */
    char *signed_headers;       /* "host;x-acs-action;..." */
    char *canonical_request;
    char hashed_request[65];    /* hex sha256 of canonical_request */
    char *string_to_sign;       /* "ACS3-HMAC-SHA256\n<hashed_request>" */
    char signature[65];         /* hex HMAC-SHA256 */
    char *authorization;        /* the Authorization header value */
};

/*
 * Sign @in. Query keys and signed header names must be unique (asserted).
 * Fills @out (initialised here). Always succeeds. Caller owns the heap
 * members; free with sign_aliyun_v3_cleanup(). Safe in loop callbacks.
 */
void sign_aliyun_v3(const struct sign_aliyun_v3_in *in, struct sign_aliyun_v3 *out);
void sign_aliyun_v3_cleanup(struct sign_aliyun_v3 *s);

/*
 * Split an Authorization header value of the V3 form back into its parts
 * (for the verifying side). Writes NUL-terminated copies into the
 * caller's buffers: @key_id (@idlen), @signed_headers (@shlen), @signature
 * (65 bytes: 64 hex chars). Returns 0, or -1 when @auth is not
 * "ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=.." or a part
 * does not fit.
 */
int sign_aliyun_v3_parse_authorization(const char *auth, char *key_id, size_t idlen,
                                       char *signed_headers, size_t shlen, char signature[65]);

/* A UUID-shaped string ("45e25e9b-0a6f-4070-8c85-2956eda1b466") from a
 * 32-hex-char @nonce, for the V1 SignatureNonce. Any other @nonce is copied
 * as is (truncated to 36 chars). @out needs 37 bytes. */
void sign_aliyun_uuid_from_nonce(const char *nonce, char out[37]);

#endif
