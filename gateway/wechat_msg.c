/*
 * wechat_msg.c - WeChat / WeCom callback messages: signatures,
 * WXBizMsgCrypt, inbound XML (libexpat) and passive replies.
 * See wechat_msg.h for the contracts and PROTOCOLS.md A6/A7/B3.
 */
#include "wechat_msg.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* Write a reason into @err (may be NULL / zero-sized). */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ======================================================================
 * Signatures
 * ====================================================================== */

void wx_signature(const char *const *parts, size_t n, char out[41])
{
    static const char hex[] = "0123456789abcdef";
    const char *sorted[WX_SIG_MAX_PARTS];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    HF_ASSERT(parts != NULL && n >= 1 && n <= WX_SIG_MAX_PARTS);
    /* Insertion sort by strcmp(), which compares as unsigned char: the
     * bytewise order the vendors' code uses. */
    for (size_t i = 0; i < n; i++) {
        const char *s = parts[i];
        HF_ASSERT(s != NULL);
        size_t j = i;
        while (j > 0 && strcmp(sorted[j - 1], s) > 0) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = s;
    }

    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    HF_ASSERT(ctx != NULL);
    int ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, sorted[i], strlen(sorted[i])) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 20;
    EVP_MD_CTX_free(ctx);
    /* SHA-1 is in every OpenSSL provider set we build against; failing
     * here is a broken installation, not an input problem. */
    HF_ASSERT(ok);

    for (unsigned i = 0; i < 20; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[40] = '\0';
}

int wx_signature_ok(const char *const *parts, size_t n, const char *sig_hex)
{
    char want[41], got[41];

    if (!sig_hex || strnlen(sig_hex, 41) != 40)
        return 0;
    for (int i = 0; i < 40; i++) {
        char c = sig_hex[i];
        got[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    got[40] = '\0';
    wx_signature(parts, n, want);
    return ct_equal(want, got, 40);
}

/* ======================================================================
 * Base64 (OpenSSL does the decoding; the strictness is ours)
 * ====================================================================== */

static int b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

/* Decode standard base64 with '=' padding. EVP_DecodeBlock() itself skips
 * whitespace and takes '=' anywhere, so the shape is checked first: length
 * a non-zero multiple of 4, alphabet only, at most two '=' and only at the
 * end. Unused low bits of the last character are not checked (the
 * official EncodingAESKey sample has them set). 0 with *out (caller
 * frees) and *outlen, or -1. */
static int b64_decode_strict(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
    size_t pad = 0;

    *out = NULL;
    *outlen = 0;
    if (n == 0 || n % 4 != 0 || n > WX_CIPHER_B64_MAX)
        return -1;
    if (s[n - 1] == '=')
        pad++;
    if (pad && s[n - 2] == '=')
        pad++;
    for (size_t i = 0; i < n - pad; i++)
        if (!b64_char((unsigned char)s[i]))
            return -1;

    unsigned char *buf = xmalloc(n / 4 * 3 + 1);
    int r = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
    if (r < 0 || (size_t)r != n / 4 * 3) {
        free(buf);
        return -1;
    }
    *out = buf;
    *outlen = (size_t)r - pad;
    return 0;
}

/* Standard base64 of @n bytes, no line breaks. Caller frees. */
static char *b64_encode(const unsigned char *p, size_t n)
{
    char *out = xmalloc((n + 2) / 3 * 4 + 1);
    int r = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    HF_ASSERT(r >= 0);
    out[r] = '\0';
    return out;
}

/* ======================================================================
 * WXBizMsgCrypt
 * ====================================================================== */

#define WX_BLOCK 32 /* the scheme's PKCS#7 block size: 32, not AES's 16 */

int wx_aes_key(const char *encoding_aes_key, unsigned char key[32])
{
    char tmp[WX_ENCODING_AES_KEY_LEN + 1];
    unsigned char *raw = NULL;
    size_t rawlen = 0;

    memset(key, 0, 32);
    if (!encoding_aes_key || strnlen(encoding_aes_key, WX_ENCODING_AES_KEY_LEN + 1) !=
                                 WX_ENCODING_AES_KEY_LEN)
        return -1;
    for (size_t i = 0; i < WX_ENCODING_AES_KEY_LEN; i++) {
        unsigned char c = (unsigned char)encoding_aes_key[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return -1;
    }
    memcpy(tmp, encoding_aes_key, WX_ENCODING_AES_KEY_LEN);
    tmp[WX_ENCODING_AES_KEY_LEN] = '=';
    int rc = -1;
    if (b64_decode_strict(tmp, sizeof tmp, &raw, &rawlen) == 0 && rawlen == 32) {
        memcpy(key, raw, 32);
        rc = 0;
    }
    if (raw)
        OPENSSL_cleanse(raw, rawlen);
    free(raw);
    OPENSSL_cleanse(tmp, sizeof tmp);
    return rc;
}

void wx_random16(unsigned char out[16])
{
    static const char alnum[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t got = 0;

    while (got < 16) {
        unsigned char r[32];
        HF_ASSERT(RAND_bytes(r, sizeof r) == 1);
        /* Rejection sampling: 248 = 4 * 62, so no modulo bias. */
        for (size_t i = 0; i < sizeof r && got < 16; i++)
            if (r[i] < 248)
                out[got++] = (unsigned char)alnum[r[i] % 62];
    }
}

/* AES-256-CBC, IV = key[0..16), no cipher padding, @n a multiple of 16.
 * Writes @n bytes to @out. 0 or -1. */
static int aes_cbc(int enc, const unsigned char key[32], const unsigned char *in, size_t n,
                   unsigned char *out)
{
    int l1 = 0, l2 = 0, ok;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

    HF_ASSERT(ctx != NULL);
    ok = EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, key, enc) == 1 &&
         EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
         EVP_CipherUpdate(ctx, out, &l1, in, (int)n) == 1 &&
         EVP_CipherFinal_ex(ctx, out + l1, &l2) == 1 && (size_t)(l1 + l2) == n;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int wx_decrypt(const unsigned char key[32], const char *encrypt_b64, const char *expect_id,
               char **plain, size_t *plain_len, char *err, size_t errlen)
{
    unsigned char *ct = NULL, *pt = NULL;
    size_t ctlen = 0;
    int rc = -1;

    HF_ASSERT(key && expect_id && plain && plain_len);
    *plain = NULL;
    *plain_len = 0;
    if (!encrypt_b64 || strnlen(encrypt_b64, WX_CIPHER_B64_MAX + 1) > WX_CIPHER_B64_MAX) {
        set_err(err, errlen, "encrypted value missing or too long (-40010)");
        goto out;
    }
    if (b64_decode_strict(encrypt_b64, strlen(encrypt_b64), &ct, &ctlen) != 0) {
        set_err(err, errlen, "encrypted value is not valid base64 (-40010)");
        goto out;
    }
    if (ctlen == 0 || ctlen % 16 != 0) {
        set_err(err, errlen, "ciphertext length %zu is not a non-zero multiple of 16 (-40007)",
                ctlen);
        goto out;
    }
    pt = xmalloc(ctlen);
    if (aes_cbc(0, key, ct, ctlen, pt) != 0) {
        set_err(err, errlen, "AES decryption failed (-40007)");
        goto out;
    }

    /* Padding (A7 step 5): last byte n in 1..32, strip n bytes. */
    size_t pad = pt[ctlen - 1];
    if (pad < 1 || pad > WX_BLOCK || pad > ctlen) {
        set_err(err, errlen, "bad padding (-40008)");
        goto out;
    }
    size_t len = ctlen - pad;
    /* random(16) | msg_len(4, big-endian) | msg | receive_id */
    if (len < 20) {
        set_err(err, errlen, "decrypted buffer too short (-40008)");
        goto out;
    }
    uint32_t mlen = (uint32_t)pt[16] << 24 | (uint32_t)pt[17] << 16 |
                    (uint32_t)pt[18] << 8 | (uint32_t)pt[19];
    if (mlen > len - 20) {
        set_err(err, errlen, "message length field exceeds the buffer (-40008)");
        goto out;
    }
    const unsigned char *id = pt + 20 + mlen;
    size_t idlen = len - 20 - mlen;
    size_t want = strlen(expect_id);
    if (idlen != want || memcmp(id, expect_id, want) != 0) {
        set_err(err, errlen, "receive id does not match our AppID/CorpID (-40005)");
        goto out;
    }
    *plain = xmalloc((size_t)mlen + 1);
    memcpy(*plain, pt + 20, mlen);
    (*plain)[mlen] = '\0';
    *plain_len = mlen;
    rc = 0;
out:
    if (pt)
        OPENSSL_cleanse(pt, ctlen);
    free(pt);
    free(ct);
    return rc;
}

int wx_encrypt(const unsigned char key[32], const char *plain, size_t len,
               const char *receive_id, const unsigned char random16[16], char **b64)
{
    HF_ASSERT(key && (plain || len == 0) && receive_id && b64);
    *b64 = NULL;
    size_t idlen = strlen(receive_id);
    if (len > WX_PLAIN_MAX || idlen > WX_PLAIN_MAX - len)
        return -1;

    size_t raw = 16 + 4 + len + idlen;
    size_t pad = WX_BLOCK - raw % WX_BLOCK; /* 1..32; a full block when aligned */
    size_t total = raw + pad;
    unsigned char *pt = xmalloc(total);
    unsigned char *ct = xmalloc(total);
    int rc = -1;

    if (random16)
        memcpy(pt, random16, 16);
    else
        wx_random16(pt);
    pt[16] = (unsigned char)(len >> 24);
    pt[17] = (unsigned char)(len >> 16);
    pt[18] = (unsigned char)(len >> 8);
    pt[19] = (unsigned char)len;
    if (len)
        memcpy(pt + 20, plain, len);
    memcpy(pt + 20 + len, receive_id, idlen);
    memset(pt + raw, (int)pad, pad);

    if (aes_cbc(1, key, pt, total, ct) == 0) {
        *b64 = b64_encode(ct, total);
        rc = 0;
    }
    OPENSSL_cleanse(pt, total);
    free(pt);
    free(ct);
    return rc;
}

/* ======================================================================
 * Inbound XML
 * ====================================================================== */

enum {
    F_TRIM = 1u << 0,  /* strip surrounding ASCII whitespace */
    F_TRUNC = 1u << 1, /* cut on a UTF-8 boundary instead of failing */
    F_INT = 1u << 2,   /* CreateTime -> int64 */
    F_HEAP = 1u << 3,  /* Encrypt -> heap string */
};

#define MSG_FIELD(f) offsetof(struct wx_msg, f), sizeof(((struct wx_msg *)0)->f)

static const struct wx_field {
    const char *name;
    size_t off;   /* of the char array in struct wx_msg (0 for F_INT/F_HEAP) */
    size_t size;  /* of that array, NUL included */
    unsigned flags;
} wx_fields[] = {
    { "ToUserName", MSG_FIELD(to_user), 0 },
    { "FromUserName", MSG_FIELD(from_user), 0 },
    { "MsgType", MSG_FIELD(msg_type), 0 },
    { "Event", MSG_FIELD(event), 0 },
    { "EventKey", MSG_FIELD(event_key), 0 },
    { "Content", MSG_FIELD(content), F_TRUNC },
    { "MsgId", MSG_FIELD(msg_id), F_TRIM },
    { "MsgID", MSG_FIELD(msg_id_event), F_TRIM },
    { "Status", MSG_FIELD(status), 0 },
    { "AgentID", MSG_FIELD(agent_id), F_TRIM },
    { "CreateTime", 0, 32, F_INT | F_TRIM },
    { "Encrypt", 0, WX_XML_MAX + 1, F_HEAP },
    { "MsgSignature", MSG_FIELD(msg_signature), 0 },
    { "TimeStamp", MSG_FIELD(timestamp), F_TRIM },
    { "Nonce", MSG_FIELD(nonce), 0 },
};

struct wx_px {
    XML_Parser p;
    struct wx_msg *m;
    char *err;
    size_t errlen;
    int failed;
    int depth;           /* current element depth, <xml> = 1 */
    int cur;             /* index in wx_fields of the open depth-2 element, or -1 */
    int truncated;       /* the open F_TRUNC element overflowed */
    uint32_t seen;       /* bit i: wx_fields[i] already given */
    struct buf text;     /* character data of the open field */
};

static void px_fail(struct wx_px *px, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void px_fail(struct wx_px *px, const char *fmt, ...)
{
    if (px->failed)
        return;
    px->failed = 1;
    if (px->err && px->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(px->err, px->errlen, fmt, ap);
        va_end(ap);
    }
    XML_StopParser(px->p, XML_FALSE);
}

/* Length of @s (n bytes, valid UTF-8 up to a possible cut) without an
 * incomplete sequence at its end. */
static size_t utf8_cut(const char *s, size_t n)
{
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0)
        return n; /* only continuation bytes: cannot happen with valid input */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return (back + 1 >= need) ? n : i - 1;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void px_commit(struct wx_px *px)
{
    const struct wx_field *f = &wx_fields[px->cur];
    char *s = px->text.data ? px->text.data : "";
    size_t n = px->text.len;

    if (f->flags & F_TRIM) {
        while (n && is_ws(*s)) {
            s++;
            n--;
        }
        while (n && is_ws(s[n - 1]))
            n--;
    }
    if (f->flags & F_HEAP) {
        px->m->encrypt = xstrndup(s, n);
        px->m->encrypt_len = n;
        return;
    }
    if (f->flags & F_INT) {
        int64_t v = 0;
        if (n == 0 || n > 18) {
            px_fail(px, "%s is not a decimal integer", f->name);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '9') {
                px_fail(px, "%s is not a decimal integer", f->name);
                return;
            }
            v = v * 10 + (s[i] - '0');
        }
        px->m->create_time = v;
        return;
    }
    if (f->flags & F_TRUNC) {
        if (px->truncated)
            n = utf8_cut(s, n);
        px->m->content_truncated = px->truncated;
    }
    HF_ASSERT(n < f->size);
    char *dst = (char *)px->m + f->off;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static void XMLCALL px_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct wx_px *px = ud;
    (void)atts;
    if (px->failed)
        return;
    px->depth++;
    if (px->depth > WX_XML_MAX_DEPTH) {
        px_fail(px, "elements nested deeper than %d", WX_XML_MAX_DEPTH);
        return;
    }
    if (px->depth == 1) {
        if (strcmp(name, "xml") != 0)
            px_fail(px, "root element is not <xml> (-40002)");
        return;
    }
    if (px->depth != 2)
        return;
    px->cur = -1;
    for (size_t i = 0; i < HF_ARRAY_LEN(wx_fields); i++) {
        if (strcmp(name, wx_fields[i].name) == 0) {
            if (px->seen & (1u << i)) {
                px_fail(px, "element <%s> given twice", wx_fields[i].name);
                return;
            }
            px->seen |= 1u << i;
            px->cur = (int)i;
            px->truncated = 0;
            px->text.len = 0;
            if (px->text.data)
                px->text.data[0] = '\0';
            break;
        }
    }
}

static void XMLCALL px_end(void *ud, const XML_Char *name)
{
    struct wx_px *px = ud;
    (void)name;
    if (px->failed)
        return;
    if (px->depth == 2 && px->cur >= 0) {
        px_commit(px);
        px->cur = -1;
    }
    px->depth--;
}

static void XMLCALL px_text(void *ud, const XML_Char *s, int len)
{
    struct wx_px *px = ud;
    if (px->failed || px->depth != 2 || px->cur < 0 || len <= 0)
        return;
    const struct wx_field *f = &wx_fields[px->cur];
    size_t cap = f->size - 1, n = (size_t)len;
    if (px->text.len + n > cap) {
        if (!(f->flags & F_TRUNC)) {
            px_fail(px, "element <%s> longer than %zu bytes", f->name, cap);
            return;
        }
        px->truncated = 1;
        n = cap - px->text.len;
    }
    if (n)
        buf_append(&px->text, s, n);
}

static void XMLCALL px_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    px_fail(ud, "DOCTYPE refused (-40002)");
}

static void XMLCALL px_entity(void *ud, const XML_Char *name, int is_param,
                              const XML_Char *value, int value_len, const XML_Char *base,
                              const XML_Char *sysid, const XML_Char *pubid,
                              const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base;
    (void)sysid, (void)pubid, (void)notation;
    px_fail(ud, "entity declaration refused (-40002)");
}

static int XMLCALL px_extent(XML_Parser p, const XML_Char *context, const XML_Char *base,
                             const XML_Char *sysid, const XML_Char *pubid)
{
    (void)p, (void)context, (void)base, (void)sysid, (void)pubid;
    return XML_STATUS_ERROR; /* never fetch anything */
}

int wx_xml_parse(const char *xml, size_t len, struct wx_msg *out, char *err, size_t errlen)
{
    struct wx_px px;
    int rc = -1;

    HF_ASSERT(out != NULL);
    memset(out, 0, sizeof *out);
    HF_ASSERT(HF_ARRAY_LEN(wx_fields) <= 32);
    if (!xml || len == 0) {
        set_err(err, errlen, "empty XML body (-40002)");
        return -1;
    }
    if (len > WX_XML_MAX) {
        set_err(err, errlen, "XML body of %zu bytes exceeds %d (-40002)", len, WX_XML_MAX);
        return -1;
    }

    memset(&px, 0, sizeof px);
    px.m = out;
    px.err = err;
    px.errlen = errlen;
    px.cur = -1;
    buf_init(&px.text);
    /* "UTF-8" overrides any encoding declaration in the document. */
    px.p = XML_ParserCreate("UTF-8");
    HF_ASSERT(px.p != NULL);
    XML_SetUserData(px.p, &px);
    XML_SetElementHandler(px.p, px_start, px_end);
    XML_SetCharacterDataHandler(px.p, px_text);
    XML_SetStartDoctypeDeclHandler(px.p, px_doctype);
    XML_SetEntityDeclHandler(px.p, px_entity);
    XML_SetExternalEntityRefHandler(px.p, px_extent);
    XML_SetParamEntityParsing(px.p, XML_PARAM_ENTITY_PARSING_NEVER);

    enum XML_Status st = XML_Parse(px.p, xml, (int)len, XML_TRUE);
    if (px.failed)
        goto out;
    if (st != XML_STATUS_OK) {
        set_err(err, errlen, "malformed XML at line %lu column %lu: %s (-40002)",
                (unsigned long)XML_GetCurrentLineNumber(px.p),
                (unsigned long)XML_GetCurrentColumnNumber(px.p),
                XML_ErrorString(XML_GetErrorCode(px.p)));
        goto out;
    }
    rc = 0;
out:
    XML_ParserFree(px.p);
    buf_cleanup(&px.text);
    if (rc != 0)
        wx_msg_cleanup(out);
    return rc;
}

void wx_msg_cleanup(struct wx_msg *m)
{
    if (!m)
        return;
    free(m->encrypt);
    memset(m, 0, sizeof *m);
}

/* ======================================================================
 * Passive replies
 * ====================================================================== */

/* 1 if @s is valid UTF-8 that XML 1.0 can carry: no C0 controls other than
 * TAB/LF/CR, no U+FFFE/U+FFFF (utf8_valid() already refuses surrogates). */
static int xml_text_ok(const char *s)
{
    size_t n = strlen(s);
    if (!utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return 0;
        if (c == 0xEF && i + 2 < n && (unsigned char)s[i + 1] == 0xBF &&
            ((unsigned char)s[i + 2] == 0xBE || (unsigned char)s[i + 2] == 0xBF))
            return 0;
    }
    return 1;
}

/* <tag><![CDATA[value]]></tag>, a "]]>" inside @v split across two CDATA
 * sections. */
static void put_cdata(struct buf *b, const char *tag, const char *v)
{
    buf_printf(b, "<%s><![CDATA[", tag);
    const char *p;
    while ((p = strstr(v, "]]>")) != NULL) {
        buf_append(b, v, (size_t)(p - v) + 2); /* up to and including "]]" */
        buf_puts(b, "]]><![CDATA[");
        v = p + 2;                              /* continue with ">" */
    }
    buf_puts(b, v);
    buf_printf(b, "]]></%s>", tag);
}

char *wx_reply_text(const char *to_user, const char *from_user, int64_t now,
                    const char *content)
{
    struct buf b;

    HF_ASSERT(to_user && from_user && content);
    if (!xml_text_ok(to_user) || !xml_text_ok(from_user) || !xml_text_ok(content))
        return NULL;
    buf_init(&b);
    buf_puts(&b, "<xml>");
    put_cdata(&b, "ToUserName", to_user);
    put_cdata(&b, "FromUserName", from_user);
    buf_printf(&b, "<CreateTime>%" PRId64 "</CreateTime>", now);
    put_cdata(&b, "MsgType", "text");
    put_cdata(&b, "Content", content);
    buf_puts(&b, "</xml>");
    return buf_steal(&b);
}

static int nonce_ok(const char *s)
{
    size_t n = strnlen(s, 64);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

char *wx_reply_secure(const unsigned char key[32], const char *token, const char *receive_id,
                      const char *plain_xml, int64_t timestamp, const char *nonce,
                      const unsigned char random16[16])
{
    char ts[24], sig[41];
    char *enc = NULL;
    struct buf b;

    HF_ASSERT(key && token && receive_id && plain_xml && nonce);
    if (!nonce_ok(nonce))
        return NULL;
    if (wx_encrypt(key, plain_xml, strlen(plain_xml), receive_id, random16, &enc) != 0)
        return NULL;
    snprintf(ts, sizeof ts, "%" PRId64, timestamp);
    const char *parts[4] = { token, ts, nonce, enc };
    wx_signature(parts, 4, sig);

    buf_init(&b);
    /* Base64, hex and [A-Za-z0-9_-] hold no "]]>": plain CDATA is safe. */
    buf_printf(&b,
               "<xml><Encrypt><![CDATA[%s]]></Encrypt>"
               "<MsgSignature><![CDATA[%s]]></MsgSignature>"
               "<TimeStamp>%s</TimeStamp><Nonce><![CDATA[%s]]></Nonce></xml>",
               enc, sig, ts, nonce);
    free(enc);
    return buf_steal(&b);
}
