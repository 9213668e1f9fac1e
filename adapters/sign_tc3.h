/*
 * sign_tc3.h - Tencent Cloud API 3.0 request signing, TC3-HMAC-SHA256
 * (PROTOCOLS.md section D4).
 *
 * Pure functions: no I/O, no clock, no globals. The Tencent SMS adapter
 * signs with tc3_sign(); the mock provider verifies by recomputing with
 * the same function from what it received (tc3_parse_authorization() reads
 * the header back). Every intermediate value of the algorithm is exposed
 * in struct tc3_sig so the unit tests can compare each one with the
 * vendor's vectors (vectors/expected-output.txt).
 *
 * The algorithm, for a POST with an empty query:
 *
 *   CanonicalRequest = "POST\n/\n\n" + CanonicalHeaders + "\n" + SignedHeaders
 *                      + "\n" + hex(sha256(payload bytes))
 *   CanonicalHeaders = "name:value\n" for content-type, host and any extra
 *                      signed headers, names and values trimmed and
 *                      lower-cased (the doc's rule), sorted by name
 *   SignedHeaders    = the names joined with ';'  ("content-type;host")
 *   Date             = UTC date of the timestamp, YYYY-MM-DD (never local time)
 *   StringToSign     = "TC3-HMAC-SHA256\n" + timestamp + "\n" + Date + "/" +
 *                      service + "/tc3_request\n" + hex(sha256(CanonicalRequest))
 *   kDate    = HMAC_SHA256("TC3" + SecretKey, Date)      (raw 32 bytes)
 *   kService = HMAC_SHA256(kDate, service)
 *   kSigning = HMAC_SHA256(kService, "tc3_request")
 *   Signature = hex(HMAC_SHA256(kSigning, StringToSign))
 *   Authorization = "TC3-HMAC-SHA256 Credential=<id>/<Date>/<service>/tc3_request,
 *                    SignedHeaders=<list>, Signature=<hex>"   (", " separators)
 *
 * The CanonicalURI is always "/" (API 3.0 fixes it), whatever path the
 * request really goes to: the mock serves under /tencent/ and still checks
 * the signature over "/".
 *
 * Secrets: the secret key enters kDate only; nothing here logs. The derived
 * keys in struct tc3_sig are secret-equivalent for one day and service:
 * callers must not log them either (tests compare them with the vectors).
 */
#ifndef HF_SIGN_TC3_H
#define HF_SIGN_TC3_H

#include <stddef.h>
#include <stdint.h>

#define TC3_ALGORITHM "TC3-HMAC-SHA256"
#define TC3_MAX_EXTRA_HEADERS 8

/* A signed header besides content-type and host ("X-TC-Action",
 * "SendSms"). Both strings are borrowed. */
struct tc3_header {
    const char *name;
    const char *value;
};

/* Everything the signature covers. All pointers are borrowed. */
struct tc3_params {
    const char *secret_id;      /* "AKID..." */
    const char *secret_key;     /* never logged */
    const char *service;        /* "sms" */
    const char *host;           /* the Host header value as sent: "sms.tencentcloudapi.com",
                                   "127.0.0.1:8080" */
    const char *content_type;   /* exactly as sent: "application/json" */
    int64_t timestamp;          /* X-TC-Timestamp, UTC seconds, >= 0 */
    const void *payload;        /* the exact body bytes (may be NULL when payload_len is 0) */
    size_t payload_len;
    const struct tc3_header *extra; /* more signed headers, or NULL */
    size_t nextra;              /* <= TC3_MAX_EXTRA_HEADERS */
};

/* The result and every intermediate. The char * members are heap-owned by
 * the struct; tc3_sig_cleanup() frees them. */
struct tc3_sig {
    char hashed_payload[65];           /* hex(sha256(payload)) */
    char *canonical_request;
    char hashed_canonical_request[65];
    char date[11];                     /* "2019-02-25" */
    char *credential_scope;            /* "2019-02-25/cvm/tc3_request" */
    char *string_to_sign;
    char *signed_headers;              /* "content-type;host" */
    unsigned char k_date[32];          /* derived keys, raw */
    unsigned char k_service[32];
    unsigned char k_signing[32];
    char signature[65];                /* lower-case hex */
    char *authorization;               /* the whole Authorization header value */
};

/*
 * Sign one POST request. Fills @out (initialise nothing first; on success
 * call tc3_sig_cleanup() when done).
 *
 * Rejects with HF_ERR_INVAL (and @out zeroed, nothing to free): a NULL or
 * empty secret id, secret key, service, host or content type; a negative
 * timestamp; a CR or LF in any header name or value; an empty or
 * duplicate header name (content-type and host included); more than
 * TC3_MAX_EXTRA_HEADERS extras. Returns HF_OK otherwise. Never logs.
 * Callable from any thread.
 */
int tc3_sign(const struct tc3_params *p, struct tc3_sig *out);

/* Free the heap members of @s and zero it. Safe on a zeroed struct. */
void tc3_sig_cleanup(struct tc3_sig *s);

/* The UTC date of @ts as "YYYY-MM-DD". @out needs 11 bytes. */
void tc3_date(int64_t ts, char out[11]);

/* An Authorization header value read back (the mock's side). */
struct tc3_auth {
    char secret_id[128];
    char date[11];
    char service[32];
    char signed_headers[256];
    char signature[65];
};

/*
 * Parse "TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request,
 * SignedHeaders=<list>, Signature=<64 hex>" into @out. The three parts must
 * come in that order, separated by "," with optional spaces. Returns HF_OK,
 * or HF_ERR_PROTO for anything else (other algorithm, missing part, a
 * field too long for @out, a signature that is not 64 lower-case hex).
 */
int tc3_parse_authorization(const char *value, struct tc3_auth *out);

#endif
