/*
 * wechat_msg.c - libFuzzer harness: the WeChat callback body (PROTOCOLS.md
 * A3, A6, A7) through wechat_msg.c, plain and AES ("safe mode").
 *
 * The first byte picks the path, the rest is the input:
 *   even  a POST body: wx_xml_parse(); an Encrypt envelope is decrypted
 *         with the test key and its plaintext parsed in turn. A parsed text
 *         message is answered with wx_reply_text() and wx_reply_secure(),
 *         and both must give back what went in (To/From/Content byte for
 *         byte, the envelope's signature valid).
 *   odd   the decrypted layout itself (random16 | be32 len | msg |
 *         receive id | padding): AES-256-CBC-encrypted here under the test
 *         key, base64-encoded, then fed to wx_decrypt(), so the length and
 *         padding checks see arbitrary plaintext, which mutating the
 *         ciphertext alone would never reach.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util.h"
#include "wechat_msg.h"

#define KEY_A "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" /* the official test key */
#define APPID "wx1234567890abcdef"
#define TOKEN "fuzztoken"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char key[32];
static int have_key;

static void parse_plain(const char *xml, size_t len, int depth);

/* Answer a parsed message as the callback would, and check the reply
 * survives the round trip through our own parser. */
static void reply_round_trip(const struct wx_msg *m)
{
    char *r = wx_reply_text(m->from_user, m->to_user, m->create_time, m->content);
    if (!r)
        return; /* a value XML cannot carry: the route answers "success" */
    struct wx_msg back;
    char err[128];
    if (wx_xml_parse(r, strlen(r), &back, err, sizeof err) != 0)
        abort();
    if (strcmp(back.to_user, m->from_user) != 0 || strcmp(back.from_user, m->to_user) != 0 ||
        strcmp(back.content, m->content) != 0)
        abort();
    wx_msg_cleanup(&back);

    static const unsigned char r16[16] = "0123456789abcdef";
    char *env = wx_reply_secure(key, TOKEN, APPID, r, 1700000001, "987654321", r16);
    if (!env)
        abort();
    if (wx_xml_parse(env, strlen(env), &back, err, sizeof err) != 0 || !back.encrypt)
        abort();
    const char *parts[] = {TOKEN, back.timestamp, back.nonce, back.encrypt};
    if (!wx_signature_ok(parts, 4, back.msg_signature))
        abort();
    char *plain = NULL;
    size_t plen = 0;
    if (wx_decrypt(key, back.encrypt, APPID, &plain, &plen, err, sizeof err) != 0 ||
        plen != strlen(r) || memcmp(plain, r, plen) != 0)
        abort();
    free(plain);
    wx_msg_cleanup(&back);
    free(env);
    free(r);
}

static void decrypt_and_parse(const char *b64, int depth)
{
    char *plain = NULL;
    size_t plen = 0;
    char err[128];
    if (wx_decrypt(key, b64, APPID, &plain, &plen, err, sizeof err) == 0) {
        if (!plain || plain[plen] != '\0')
            abort();
        parse_plain(plain, plen, depth + 1);
        free(plain);
    } else if (plain || !err[0]) {
        abort();
    }
}

static void parse_plain(const char *xml, size_t len, int depth)
{
    struct wx_msg m;
    char err[128];
    if (wx_xml_parse(xml, len, &m, err, sizeof err) != 0) {
        if (!err[0] || m.encrypt)
            abort();
        return;
    }
    if (strnlen(m.content, sizeof m.content) == sizeof m.content)
        abort();
    const char *parts[] = {TOKEN, m.timestamp, m.nonce, m.encrypt ? m.encrypt : ""};
    (void)wx_signature_ok(parts, 4, m.msg_signature);
    if (m.encrypt && depth == 0)
        decrypt_and_parse(m.encrypt, depth);
    else if (strcmp(m.msg_type, "text") == 0 && !m.content_truncated)
        reply_round_trip(&m);
    wx_msg_cleanup(&m);
}

static void layout(const uint8_t *p, size_t n)
{
    n -= n % 16;
    if (n == 0 || n > 4096)
        return;
    unsigned char *ct = xmalloc(n);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, key) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
        EVP_EncryptUpdate(ctx, ct, &len, p, (int)n) != 1 ||
        EVP_EncryptFinal_ex(ctx, ct + len, &fin) != 1)
        abort();
    EVP_CIPHER_CTX_free(ctx);
    char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, ct, (int)n);
    decrypt_and_parse(b64, 0);
    free(b64);
    free(ct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!have_key) {
        if (wx_aes_key(KEY_A, key) != 0)
            abort();
        have_key = 1;
    }
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        layout(data + 1, size - 1);
    } else {
        /* a copy of exactly the input: bytes after it are not readable */
        char *xml = xmalloc(size - 1 ? size - 1 : 1);
        memcpy(xml, data + 1, size - 1);
        parse_plain(xml, size - 1, 0);
        free(xml);
    }
    return 0;
}
