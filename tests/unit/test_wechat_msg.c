/*
 * test_wechat_msg.c - the WeChat / WeCom callback message layer
 * (PROTOCOLS.md A3, A6, A7, B3): every vector W0..W6 of
 * ../shared/vectors/expected-output.txt with its intermediates (key, IV,
 * padded plaintext block, length field, signatures), the refusals of
 * wx_decrypt (tampered ciphertext, wrong receive id, bad padding, bad
 * base64) and of the signature check, the XML parser on every message
 * shape the callback server meets plus hostile documents (billion laughs,
 * external entities, depth, size), and the passive replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util.h"
#include "wechat_msg.h"

/* ---- vectors (copied verbatim from ../shared/vectors/wechat.js and
 *      expected-output.txt) ----------------------------------------------- */

#define KEY_A "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"   /* W1, W3, W4, W6 */
#define KEY_B "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"   /* W2, W2b */
#define KEY_E "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"   /* W5 */

#define W1_APPID "wxb11529c136998cb6"
#define W1_MSG "我是中文abcd123"
#define W1_ENC "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="

#define W2_CORPID "wx5823bf96d3bd56c7"
#define W2_ECHO "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="

#define W3_APPID "wx2c2769f8efd9abc2"
#define W5_CORPID "wx49f0ab532d5d035a"
#define W6_APPID "wx1234567890abcdef"

#define W1B_XML \
    "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><!" \
    "[CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDA" \
    "TA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6" \
    "Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Descrip" \
    "tion><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>"

#define W1B_ENC \
    "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlk" \
    "upqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5" \
    "nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJuc" \
    "QHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92" \
    "vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+Rd" \
    "xSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8" \
    "xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkd" \
    "PrEeOwofJb"

#define W2B_ENC \
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdC" \
    "Upj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4X" \
    "gpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+K" \
    "qCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XX" \
    "ZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHB" \
    "ZZIs2pDBS8R07+qN+E7Q=="

#define W3_ENC \
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8" \
    "PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jis" \
    "a+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6" \
    "X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl" \
    "9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="

#define W4_ENC \
    "mfBCs65c67CeJw22u4VT2TD73q5H06+ocrAIxswCaeZ/d/Lw0msSZFHY0teqgSYiI1zR2gD2DKrB3TIrmX/liNSDrG" \
    "qS8jSI/WPeKB5VPr7Ezr7gomZAyGCwJSgT1TRFWPfONGJMxuj2nk4faTuspAuVIFQ6SHwZuJBZC7mcJp7Cgr9cUhAT" \
    "QWDbOPaE7ukZBTV2YqyzH+UI2AK+J1S47cE79k1RX8t0hcTz/O0hlK8DGXKnvYv88qKQcI7z4iaajqHfRVZKBNyOOD" \
    "abs+It+ZfM3dWTeFcPgDbGtIEnpt/EDtuuA/zMvtkaKdHdswPnVZQ+xdwbYr3ldGvfT8HlEYEgkgKaThxTFobVlwzu" \
    "2ZkXCjicbP3xdr15Iq48ObgzPpqYuZ3IEoyggZDKClquk0u0orMck4GTF/XyE8yGzc4="

#define W5_ECHO \
    "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="

#define W5_REPLY_XML \
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUser" \
    "Name><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUs" \
    "erName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"

#define W5_REPLY_ENC \
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBq" \
    "GsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFh" \
    "HZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX0" \
    "5UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3" \
    "WeK2XeFYFMNMpatF9XiKzHo3"

#define W5_IN_ENC \
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrs" \
    "TyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+" \
    "BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7" \
    "vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dS" \
    "hyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="

#define W6_XML \
    "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oUser_Open" \
    "ID_0001]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></Msg" \
    "Type><Content><![CDATA[退订 TD]]></Content><MsgId>24000000000000001</MsgId></xml>"

#define W6_REPLY_XML \
    "<xml><ToUserName><![CDATA[oUser_OpenID_0001]]></ToUserName><FromUserName><![CDATA[gh_01234" \
    "56789ab]]></FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[text]]></Msg" \
    "Type><Content><![CDATA[已退订]]></Content></xml>"

#define W6_ENC \
    "Q3stYC6hdFzMh9T8HCvyDJd3XGghJQYcUf1O/1QxqEwnZmwboEez5qKF8tKzOUd2ZgSU9TithrykWOGhllq4YIRYlt" \
    "W5nKx1gYU/hheSFAbC/s86wgT7Bj8bnaA/U2Y1ZQ8mocHharw6qNHyYgKVKPFPNIWAUHUZNU3f59VH5pltGsJ/cnQn" \
    "bGKDej3JHto3E7F5TxcijnRyb+9s5xHMnkXV63KFdTdTqmV9SbODicMh7OCVuKf6rdJXGw03pjgplIeilD1E0Mu7pu" \
    "SAHHt+OFvLxwawBEUvtMJbBHN3NCvhLzKGsbzKoctUzUkNa727yacRNrfpF349XUYyToiLPw5weYhOrj2Agl1PX+wA" \
    "SPdQ80h0raehLqz77OxH6/YFFYhLIwzs/MvvIVOmIdYhTNnQBCZxrk1czWlrcdHHgoA="

#define W6_REPLY_ENC \
    "DpQeJfnf/MGZ/+GTIspwVHJJRssNfe3ojOFS7T5aheyUhcUKYDxz4TUfBdS0wtfQQ/uMobOM51UyqrFrox8k/cE2af" \
    "Om/6Ip3t3O+b6Jq9UNwIEPgeuPQXbFtRvalNXZ2hm1rbo7mPsEg+rMZgJVE/u5wdVwSNfXOmBruEHJdHLoPg1MZJlc" \
    "4f93PmAzD1KLzvfJhmy4l1XXJXSnZsTDIag9ChK/xVe6pRj3T+Dfj3fG6HUZiRbYnZzFIgLI3mT8X+Xza7lc2liiFx" \
    "21VW43XaAEhSJYxMEwfrZeOrqG+kG0JSny7aMjzC92NU7uXVsT2BS5Pvg5ShVVM2qb1a1CqAW7xZP8dXkMCJ3nO6sg" \
    "r2Jrce+C7hY/fYczGBMCCyFJ"

#define W6_REPLY_ENVELOPE \
    "<xml><Encrypt><![CDATA[DpQeJfnf/MGZ/+GTIspwVHJJRssNfe3ojOFS7T5aheyUhcUKYDxz4TUfBdS0wtfQQ/u" \
    "MobOM51UyqrFrox8k/cE2afOm/6Ip3t3O+b6Jq9UNwIEPgeuPQXbFtRvalNXZ2hm1rbo7mPsEg+rMZgJVE/u5wdVwS" \
    "NfXOmBruEHJdHLoPg1MZJlc4f93PmAzD1KLzvfJhmy4l1XXJXSnZsTDIag9ChK/xVe6pRj3T+Dfj3fG6HUZiRbYnZz" \
    "FIgLI3mT8X+Xza7lc2liiFx21VW43XaAEhSJYxMEwfrZeOrqG+kG0JSny7aMjzC92NU7uXVsT2BS5Pvg5ShVVM2qb1" \
    "a1CqAW7xZP8dXkMCJ3nO6sgr2Jrce+C7hY/fYczGBMCCyFJ]]></Encrypt><MsgSignature><![CDATA[b3d6322" \
    "f0013a4e56bd0d735904ca93ab708e48b]]></MsgSignature><TimeStamp>1700000001</TimeStamp><Nonce" \
    "><![CDATA[987654321]]></Nonce></xml>"

#define W6_POST_BODY \
    "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[Q3stYC6hdFzMh9T" \
    "8HCvyDJd3XGghJQYcUf1O/1QxqEwnZmwboEez5qKF8tKzOUd2ZgSU9TithrykWOGhllq4YIRYltW5nKx1gYU/hheSF" \
    "AbC/s86wgT7Bj8bnaA/U2Y1ZQ8mocHharw6qNHyYgKVKPFPNIWAUHUZNU3f59VH5pltGsJ/cnQnbGKDej3JHto3E7F" \
    "5TxcijnRyb+9s5xHMnkXV63KFdTdTqmV9SbODicMh7OCVuKf6rdJXGw03pjgplIeilD1E0Mu7puSAHHt+OFvLxwawB" \
    "EUvtMJbBHN3NCvhLzKGsbzKoctUzUkNa727yacRNrfpF349XUYyToiLPw5weYhOrj2Agl1PX+wASPdQ80h0raehLqz" \
    "77OxH6/YFFYhLIwzs/MvvIVOmIdYhTNnQBCZxrk1czWlrcdHHgoA=]]></Encrypt></xml>"

#define W2B_PLAIN \
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycre" \
    "ate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></Msg" \
    "Type>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>" \
    "218</AgentID>\n</xml>"

#define W4_PLAIN \
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8" \
    "q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1410349438</CreateTime>\n<MsgType><![C" \
    "DATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6057404712141979648" \
    "</MsgId>\n</xml>"

#define W5_IN_PLAIN \
    "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<FromUserName><![CDATA[messe" \
    "nse]]></FromUserName>\n<CreateTime>1411525903</CreateTime>\n<MsgType><![CDATA[text]]></Msg" \
    "Type>\n<Content><![CDATA[test]]></Content>\n<MsgId>4363689963896700987</MsgId>\n<AgentID>1" \
    "</AgentID>\n</xml>"

#define W3_PLAIN \
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8" \
    "q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![C" \
    "DATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728" \
    "</MsgId>\n</xml>"


/* ---- helpers ----------------------------------------------------------- */

static void tohex(const unsigned char *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void key_of(const char *encoding, unsigned char key[32])
{
    assert_int_equal(wx_aes_key(encoding, key), 0);
}

/* Independent of the module: OpenSSL base64 + AES-256-CBC without padding,
 * to look at the raw padded plaintext block. Returns a heap buffer. */
static unsigned char *raw_decrypt(const unsigned char key[32], const char *b64, size_t *n)
{
    size_t blen = strlen(b64);
    unsigned char *ct = malloc(blen);
    int r = EVP_DecodeBlock(ct, (const unsigned char *)b64, (int)blen);
    assert_true(r > 0);
    size_t ctlen = (size_t)r - (b64[blen - 1] == '=') - (b64[blen - 2] == '=');
    unsigned char *pt = malloc(ctlen);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0;
    assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, key, key), 1);
    EVP_CIPHER_CTX_set_padding(c, 0);
    assert_int_equal(EVP_DecryptUpdate(c, pt, &l1, ct, (int)ctlen), 1);
    assert_int_equal(EVP_DecryptFinal_ex(c, pt + l1, &l2), 1);
    EVP_CIPHER_CTX_free(c);
    free(ct);
    *n = (size_t)(l1 + l2);
    return pt;
}

/* The reverse: encrypt an arbitrary (already padded) block, to forge bad
 * paddings and layouts. Returns heap base64. */
static char *raw_encrypt(const unsigned char key[32], const unsigned char *pt, size_t n)
{
    unsigned char *ct = malloc(n + 16);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0;
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, key, key), 1);
    EVP_CIPHER_CTX_set_padding(c, 0);
    assert_int_equal(EVP_EncryptUpdate(c, ct, &l1, pt, (int)n), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, ct + l1, &l2), 1);
    EVP_CIPHER_CTX_free(c);
    char *b64 = malloc((n + 2) / 3 * 4 + 1);
    EVP_EncodeBlock((unsigned char *)b64, ct, l1 + l2);
    free(ct);
    return b64;
}

static void sha1_hex(const char *s, char out[41])
{
    unsigned char md[20];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha1(), NULL);
    tohex(md, 20, out);
}

static void sig4(const char *token, const char *ts, const char *nonce, const char *enc,
                 char out[41])
{
    const char *p[4] = { token, ts, nonce, enc };
    wx_signature(p, 4, out);
}

static int sig4_ok(const char *token, const char *ts, const char *nonce, const char *enc,
                   const char *sig)
{
    const char *p[4] = { token, ts, nonce, enc };
    return wx_signature_ok(p, 4, sig);
}

/* wx_decrypt that must succeed; returns the heap plaintext. */
static char *decrypt_ok(const unsigned char key[32], const char *enc, const char *id,
                        size_t *len)
{
    char *plain = NULL, err[160] = "";
    size_t n = 0;
    int rc = wx_decrypt(key, enc, id, &plain, &n, err, sizeof err);
    if (rc != 0)
        fail_msg("wx_decrypt: %s", err);
    assert_non_null(plain);
    assert_int_equal(strlen(plain), n);
    if (len)
        *len = n;
    return plain;
}

/* wx_decrypt that must fail, with @code in the reason. */
static void decrypt_refused(const unsigned char key[32], const char *enc, const char *id,
                            const char *code)
{
    char *plain = (char *)1, err[160] = "";
    size_t n = 99;
    assert_int_equal(wx_decrypt(key, enc, id, &plain, &n, err, sizeof err), -1);
    assert_null(plain);
    assert_int_equal(n, 0);
    if (code && !strstr(err, code))
        fail_msg("expected %s in \"%s\"", code, err);
}

static char *encrypt_ok(const unsigned char key[32], const char *msg, const char *id,
                        const char *random16)
{
    char *b64 = NULL;
    assert_int_equal(wx_encrypt(key, msg, strlen(msg), id, (const unsigned char *)random16,
                                &b64), 0);
    assert_non_null(b64);
    return b64;
}

static void parse_ok(const char *xml, struct wx_msg *m)
{
    char err[200] = "";
    if (wx_xml_parse(xml, strlen(xml), m, err, sizeof err) != 0)
        fail_msg("wx_xml_parse: %s\n%s", err, xml);
}

static void parse_refused(const char *xml, size_t len, const char *why)
{
    struct wx_msg m;
    char err[200] = "";
    memset(&m, 0x5a, sizeof m);
    assert_int_equal(wx_xml_parse(xml, len, &m, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    if (why && !strstr(err, why))
        fail_msg("expected \"%s\" in \"%s\"", why, err);
    /* refused -> zeroed, nothing to clean up */
    assert_null(m.encrypt);
    assert_string_equal(m.to_user, "");
    assert_int_equal(m.create_time, 0);
}

/* ======================================================================
 * W0: plain signature (A6)
 * ====================================================================== */

static void test_w0_plain_signature(void **state)
{
    (void)state;
    char sig[41], direct[41];
    const char *p[3] = { "pamtest", "1409304348", "xxxxxx" };
    const char *q[3] = { "xxxxxx", "pamtest", "1409304348" };

    /* intermediate: the sorted concatenation */
    sha1_hex("1409304348pamtestxxxxxx", direct);
    wx_signature(p, 3, sig);
    assert_string_equal(sig, direct);
    assert_string_equal(sig, "76480565cbe296026c53aaacd1ad523a1ddba24f");
    wx_signature(q, 3, sig); /* order of the parts does not matter */
    assert_string_equal(sig, "76480565cbe296026c53aaacd1ad523a1ddba24f");

    assert_true(wx_signature_ok(p, 3, "76480565cbe296026c53aaacd1ad523a1ddba24f"));
    assert_true(wx_signature_ok(p, 3, "76480565CBE296026C53AAACD1AD523A1DDBA24F"));
    /* W6's query signature (plain form on a safe-mode POST) */
    const char *w6[3] = { "steeringToken2024", "1700000000", "1234567890" };
    assert_true(wx_signature_ok(w6, 3, "cee450405f144e8dac7b156fb2c900bb88d03e65"));
}

static void test_signature_refusals(void **state)
{
    (void)state;
    const char *p[3] = { "pamtest", "1409304348", "xxxxxx" };
    assert_false(wx_signature_ok(p, 3, "76480565cbe296026c53aaacd1ad523a1ddba24e")); /* last digit */
    assert_false(wx_signature_ok(p, 3, "76480565cbe296026c53aaacd1ad523a1ddba24"));   /* 39 */
    assert_false(wx_signature_ok(p, 3, "76480565cbe296026c53aaacd1ad523a1ddba24f0")); /* 41 */
    assert_false(wx_signature_ok(p, 3, ""));
    assert_false(wx_signature_ok(p, 3, NULL));
    const char *wrong_token[3] = { "pamtest2", "1409304348", "xxxxxx" };
    const char *wrong_ts[3] = { "pamtest", "1409304349", "xxxxxx" };
    const char *wrong_nonce[3] = { "pamtest", "1409304348", "xxxxxy" };
    assert_false(wx_signature_ok(wrong_token, 3, "76480565cbe296026c53aaacd1ad523a1ddba24f"));
    assert_false(wx_signature_ok(wrong_ts, 3, "76480565cbe296026c53aaacd1ad523a1ddba24f"));
    assert_false(wx_signature_ok(wrong_nonce, 3, "76480565cbe296026c53aaacd1ad523a1ddba24f"));

    /* W6 msg_signature: right over its Encrypt, wrong over anything else */
    assert_true(sig4_ok("steeringToken2024", "1700000000", "1234567890", W6_ENC,
                        "f10c3773c000c74ca3e457e2f0d1a2ae4feba853"));
    assert_false(sig4_ok("steeringToken2024", "1700000001", "1234567890", W6_ENC,
                         "f10c3773c000c74ca3e457e2f0d1a2ae4feba853"));
    assert_false(sig4_ok("steeringToken2024", "1700000000", "1234567891", W6_ENC,
                         "f10c3773c000c74ca3e457e2f0d1a2ae4feba853"));
    assert_false(sig4_ok("steeringToken2025", "1700000000", "1234567890", W6_ENC,
                         "f10c3773c000c74ca3e457e2f0d1a2ae4feba853"));
    assert_false(sig4_ok("steeringToken2024", "1700000000", "1234567890", W6_REPLY_ENC,
                         "f10c3773c000c74ca3e457e2f0d1a2ae4feba853"));
    /* the plain (3-part) signature is not a msg_signature */
    assert_false(sig4_ok("steeringToken2024", "1700000000", "1234567890", W6_ENC,
                         "cee450405f144e8dac7b156fb2c900bb88d03e65"));
}

/* ======================================================================
 * Key
 * ====================================================================== */

static void test_aes_key(void **state)
{
    (void)state;
    unsigned char key[32];
    char hex[65];

    key_of(KEY_A, key);
    tohex(key, 32, hex);
    assert_string_equal(hex, "69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051");
    tohex(key, 16, hex); /* IV = key[0..16) */
    assert_string_equal(hex, "69b71d79f8218a39259a7a29aabb2dba");
    key_of(KEY_B, key);
    key_of(KEY_E, key);

    static const char *bad[] = {
        "",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF",     /* 42 */
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",   /* 44 */
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF=",    /* '=' */
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF+",    /* outside [A-Za-z0-9] */
        "abcdefghijklmnopqrstuvwxyz 0123456789ABCDEF",    /* space */
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=",   /* already padded */
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(bad); i++) {
        memset(key, 0xAA, sizeof key);
        assert_int_equal(wx_aes_key(bad[i], key), -1);
        for (size_t j = 0; j < 32; j++)
            assert_int_equal(key[j], 0);
    }
    assert_int_equal(wx_aes_key(NULL, key), -1);
}

/* ======================================================================
 * W1 / W1b: official Java sample, exact Encrypt for a fixed random
 * ====================================================================== */

static void test_w1_encrypt(void **state)
{
    (void)state;
    unsigned char key[32];
    char sig[41];
    key_of(KEY_A, key);

    assert_int_equal(strlen(W1_MSG), 19);
    char *enc = encrypt_ok(key, W1_MSG, W1_APPID, "aaaabbbbccccdddd");
    assert_string_equal(enc, W1_ENC);

    /* intermediate: the padded plaintext block, field by field */
    size_t n = 0;
    unsigned char *raw = raw_decrypt(key, enc, &n);
    char hex[2 * 64 + 1];
    assert_int_equal(n, 64);
    tohex(raw, 64, hex);
    assert_string_equal(hex, "61616161626262626363636364646464" "00000013"
                             "e68891e698afe4b8ade6968761626364313233"
                             "777862313135323963313336393938636236" "07070707070707");
    tohex(raw, 16, hex);
    assert_string_equal(hex, "61616161626262626363636364646464");
    tohex(raw + 16, 4, hex);
    assert_string_equal(hex, "00000013");
    tohex(raw + 57, 7, hex);
    assert_string_equal(hex, "07070707070707");
    free(raw);

    sig4("pamtest", "1409304348", "xxxxxx", enc, sig);
    assert_string_equal(sig, "82c962d39941aa48552f90ef55aa323dc620cc10");

    size_t len = 0;
    char *plain = decrypt_ok(key, enc, W1_APPID, &len);
    assert_int_equal(len, 19);
    assert_string_equal(plain, W1_MSG);
    free(plain);
    free(enc);
}

static void test_w1b_encrypt_video_reply(void **state)
{
    (void)state;
    unsigned char key[32];
    char sig[41];
    key_of(KEY_A, key);

    char *enc = encrypt_ok(key, W1B_XML, W1_APPID, "aaaabbbbccccdddd");
    assert_string_equal(enc, W1B_ENC);
    sig4("pamtest", "1409304348", "xxxxxx", enc, sig);
    assert_string_equal(sig, "ea88b765074e41eb8c7a75b449db34fa2fd560d5");
    char *plain = decrypt_ok(key, enc, W1_APPID, NULL);
    assert_string_equal(plain, W1B_XML);
    free(plain);

    /* the nested <Video> element is ignored, the rest is read */
    struct wx_msg m;
    parse_ok(W1B_XML, &m);
    assert_string_equal(m.to_user, "oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw");
    assert_string_equal(m.from_user, "gh_7f083739789a");
    assert_string_equal(m.msg_type, "video");
    assert_int_equal(m.create_time, 1407743423);
    wx_msg_cleanup(&m);
    free(enc);
}

/* ======================================================================
 * W2 / W2b: WeCom official samples (receive id = CorpID)
 * ====================================================================== */

static void test_w2_wecom_verify_url(void **state)
{
    (void)state;
    unsigned char key[32];
    key_of(KEY_B, key);

    assert_true(sig4_ok("QDG6eK", "1409659589", "263014780", W2_ECHO,
                        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"));
    size_t len = 0;
    char *plain = decrypt_ok(key, W2_ECHO, W2_CORPID, &len);
    assert_string_equal(plain, "1616140317555161061");
    assert_int_equal(len, 19);
    free(plain);
    /* the same echostr under another corp id is refused */
    decrypt_refused(key, W2_ECHO, "wx5823bf96d3bd56c8", "-40005");
}

static void test_w2b_wecom_decrypt_msg(void **state)
{
    (void)state;
    unsigned char key[32];
    key_of(KEY_B, key);

    assert_true(sig4_ok("QDG6eK", "1409659813", "1372623149", W2B_ENC,
                        "477715d11cdb4164915debcba66cb864d751f3e6"));
    char *plain = decrypt_ok(key, W2B_ENC, W2_CORPID, NULL);
    assert_string_equal(plain, W2B_PLAIN);

    struct wx_msg m;
    parse_ok(plain, &m);
    assert_string_equal(m.to_user, W2_CORPID);
    assert_string_equal(m.from_user, "mycreate");
    assert_int_equal(m.create_time, 1409659813);
    assert_string_equal(m.msg_type, "text");
    assert_string_equal(m.content, "hello");
    assert_int_equal(m.content_truncated, 0);
    assert_string_equal(m.msg_id, "4561255354251345929");
    assert_string_equal(m.agent_id, "218");
    assert_null(m.encrypt);
    wx_msg_cleanup(&m);
    free(plain);
}

/* ======================================================================
 * W3 / W4: official OA decrypt samples
 * ====================================================================== */

static void test_w3_official_decrypt(void **state)
{
    (void)state;
    unsigned char key[32];
    key_of(KEY_A, key);

    assert_true(sig4_ok("spamtest", "1409735669", "1320562132", W3_ENC,
                        "5d197aaffba7e9b25a30732f161a50dee96bd5fa"));
    char *plain = decrypt_ok(key, W3_ENC, W3_APPID, NULL);
    assert_string_equal(plain, W3_PLAIN);
    struct wx_msg m;
    parse_ok(plain, &m);
    assert_string_equal(m.to_user, "gh_10f6c3c3ac5a");
    assert_string_equal(m.from_user, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    assert_int_equal(m.create_time, 1409735668);
    assert_string_equal(m.msg_type, "text");
    assert_string_equal(m.content, "abcdteT");
    assert_string_equal(m.msg_id, "6054768590064713728");
    wx_msg_cleanup(&m);
    free(plain);
    decrypt_refused(key, W3_ENC, W1_APPID, "-40005");
}

static void test_w4_official_decrypt(void **state)
{
    (void)state;
    unsigned char key[32];
    key_of(KEY_A, key);

    assert_true(sig4_ok("spamtest", "1410349438", "298025754", W4_ENC,
                        "003fee52ecc56afb46c00b5c7721be87860ce785"));
    char *plain = decrypt_ok(key, W4_ENC, W3_APPID, NULL);
    assert_string_equal(plain, W4_PLAIN);
    struct wx_msg m;
    parse_ok(plain, &m);
    assert_int_equal(m.create_time, 1410349438);
    assert_string_equal(m.content, "abcdteT");
    assert_string_equal(m.msg_id, "6057404712141979648");
    wx_msg_cleanup(&m);
    free(plain);
}

/* ======================================================================
 * W5: wechatpy (WeCom)
 * ====================================================================== */

static void test_w5_wechatpy(void **state)
{
    (void)state;
    unsigned char key[32];
    char sig[41];
    key_of(KEY_E, key);

    /* URL verification */
    assert_true(sig4_ok("123456", "1411443780", "437374425", W5_ECHO,
                        "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"));
    char *plain = decrypt_ok(key, W5_ECHO, W5_CORPID, NULL);
    assert_string_equal(plain, "5927782489442352469");
    free(plain);
    size_t n = 0;
    unsigned char *raw = raw_decrypt(key, W5_ECHO, &n);
    assert_memory_equal(raw, "2304fc2fe146f1f8", 16); /* the random prefix */
    free(raw);

    /* the encrypted reply */
    char *enc = encrypt_ok(key, W5_REPLY_XML, W5_CORPID, "1234567890123456");
    assert_string_equal(enc, W5_REPLY_ENC);
    sig4("123456", "1411525903", "461056294", enc, sig);
    assert_string_equal(sig, "407518b7649e86ef23978113f92d27afa9296533");

    char *env = wx_reply_secure(key, "123456", W5_CORPID, W5_REPLY_XML, 1411525903,
                                "461056294", (const unsigned char *)"1234567890123456");
    assert_non_null(env);
    char *want = xasprintf("<xml><Encrypt><![CDATA[%s]]></Encrypt><MsgSignature><![CDATA["
                           "407518b7649e86ef23978113f92d27afa9296533]]></MsgSignature>"
                           "<TimeStamp>1411525903</TimeStamp><Nonce><![CDATA[461056294]]>"
                           "</Nonce></xml>", W5_REPLY_ENC);
    assert_string_equal(env, want);
    free(want);
    free(env);
    free(enc);

    /* the inbound message */
    assert_true(sig4_ok("123456", "1411525903", "461056294", W5_IN_ENC,
                        "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"));
    plain = decrypt_ok(key, W5_IN_ENC, W5_CORPID, NULL);
    assert_string_equal(plain, W5_IN_PLAIN);
    struct wx_msg m;
    parse_ok(plain, &m);
    assert_string_equal(m.from_user, "messense");
    assert_string_equal(m.content, "test");
    assert_string_equal(m.agent_id, "1");
    assert_string_equal(m.msg_id, "4363689963896700987");
    wx_msg_cleanup(&m);
    free(plain);
}

/* ======================================================================
 * W6: our fixture, the whole safe-mode exchange
 * ====================================================================== */

static void test_w6_fixture(void **state)
{
    (void)state;
    unsigned char key[32];
    char sig[41];
    key_of(KEY_A, key);
    const char *tok = "steeringToken2024";

    /* the inbound message as WeChat would build it */
    assert_int_equal(strlen(W6_XML), 263);
    char *enc = encrypt_ok(key, W6_XML, W6_APPID, "0123456789abcdef");
    assert_string_equal(enc, W6_ENC);
    assert_memory_equal(enc, "Q3stYC6hdFzMh9T8HCvyDJd3XGgh", 28);
    size_t n = 0;
    unsigned char *raw = raw_decrypt(key, enc, &n);
    char hex[9];
    tohex(raw + 16, 4, hex);
    assert_string_equal(hex, "00000107");
    assert_memory_equal(raw, "0123456789abcdef", 16);
    assert_int_equal(n % 32, 0);
    free(raw);
    sig4(tok, "1700000000", "1234567890", enc, sig);
    assert_string_equal(sig, "f10c3773c000c74ca3e457e2f0d1a2ae4feba853");
    free(enc);

    /* what the callback server does with the POST */
    const char *q[3] = { tok, "1700000000", "1234567890" };
    assert_true(wx_signature_ok(q, 3, "cee450405f144e8dac7b156fb2c900bb88d03e65"));
    struct wx_msg env;
    parse_ok(W6_POST_BODY, &env);
    assert_string_equal(env.to_user, "gh_0123456789ab");
    assert_non_null(env.encrypt);
    assert_string_equal(env.encrypt, W6_ENC);
    assert_int_equal(env.encrypt_len, strlen(W6_ENC));
    assert_true(sig4_ok(tok, "1700000000", "1234567890", env.encrypt,
                        "f10c3773c000c74ca3e457e2f0d1a2ae4feba853"));
    size_t len = 0;
    char *plain = decrypt_ok(key, env.encrypt, W6_APPID, &len);
    assert_int_equal(len, 263);
    assert_string_equal(plain, W6_XML);
    wx_msg_cleanup(&env);
    wx_msg_cleanup(&env); /* twice is fine */

    struct wx_msg m;
    parse_ok(plain, &m);
    assert_string_equal(m.to_user, "gh_0123456789ab");
    assert_string_equal(m.from_user, "oUser_OpenID_0001");
    assert_int_equal(m.create_time, 1700000000);
    assert_string_equal(m.msg_type, "text");
    assert_string_equal(m.content, "退订 TD");
    assert_string_equal(m.msg_id, "24000000000000001");
    free(plain);

    /* the passive reply, plain then encrypted */
    char *reply = wx_reply_text(m.from_user, m.to_user, 1700000001, "已退订");
    assert_non_null(reply);
    assert_string_equal(reply, W6_REPLY_XML);
    wx_msg_cleanup(&m);
    char *out = wx_reply_secure(key, tok, W6_APPID, reply, 1700000001, "987654321",
                                (const unsigned char *)"fedcba9876543210");
    assert_non_null(out);
    assert_string_equal(out, W6_REPLY_ENVELOPE);

    /* and back, as WeChat reads it */
    parse_ok(out, &env);
    assert_string_equal(env.encrypt, W6_REPLY_ENC);
    assert_string_equal(env.msg_signature, "b3d6322f0013a4e56bd0d735904ca93ab708e48b");
    assert_string_equal(env.timestamp, "1700000001");
    assert_string_equal(env.nonce, "987654321");
    assert_true(sig4_ok(tok, env.timestamp, env.nonce, env.encrypt, env.msg_signature));
    plain = decrypt_ok(key, env.encrypt, W6_APPID, NULL);
    assert_string_equal(plain, W6_REPLY_XML);
    parse_ok(plain, &m);
    assert_string_equal(m.content, "已退订");
    assert_string_equal(m.to_user, "oUser_OpenID_0001");
    assert_int_equal(m.create_time, 1700000001);
    wx_msg_cleanup(&m);
    wx_msg_cleanup(&env);
    free(plain);
    free(out);
    free(reply);
}

/* ======================================================================
 * Encrypt details
 * ====================================================================== */

static void test_encrypt_padding_rule(void **state)
{
    (void)state;
    unsigned char key[32];
    key_of(KEY_A, key);

    /* 16 + 4 + 26 + 18 = 64: already aligned -> a whole block of 0x20 */
    const char *msg = "abcdefghijklmnopqrstuvwxyz";
    char *enc = encrypt_ok(key, msg, W6_APPID, "0123456789abcdef");
    size_t n = 0;
    unsigned char *raw = raw_decrypt(key, enc, &n);
    assert_int_equal(n, 96);
    for (size_t i = 64; i < 96; i++)
        assert_int_equal(raw[i], 0x20);
    free(raw);
    char *plain = decrypt_ok(key, enc, W6_APPID, NULL);
    assert_string_equal(plain, msg);
    free(plain);
    free(enc);

    /* one byte more -> 31 bytes of 31; one less -> 1 byte of 1 */
    enc = encrypt_ok(key, "abcdefghijklmnopqrstuvwxyz!", W6_APPID, "0123456789abcdef");
    raw = raw_decrypt(key, enc, &n);
    assert_int_equal(n, 96);
    assert_int_equal(raw[95], 31);
    assert_int_equal(raw[65], 31);
    free(raw);
    free(enc);
    enc = encrypt_ok(key, "abcdefghijklmnopqrstuvwxy", W6_APPID, "0123456789abcdef");
    raw = raw_decrypt(key, enc, &n);
    assert_int_equal(n, 64);
    assert_int_equal(raw[63], 1);
    assert_int_equal(raw[62], 'f');
    free(raw);
    free(enc);

    /* empty message */
    enc = encrypt_ok(key, "", W6_APPID, "0123456789abcdef");
    size_t len = 99;
    plain = decrypt_ok(key, enc, W6_APPID, &len);
    assert_int_equal(len, 0);
    assert_string_equal(plain, "");
    free(plain);
    free(enc);
}

static void test_encrypt_fresh_random(void **state)
{
    (void)state;
    unsigned char key[32], r[16];
    key_of(KEY_A, key);

    wx_random16(r);
    for (int i = 0; i < 16; i++)
        assert_true((r[i] >= 'A' && r[i] <= 'Z') || (r[i] >= 'a' && r[i] <= 'z') ||
                    (r[i] >= '0' && r[i] <= '9'));

    char *a = encrypt_ok(key, "同一条消息", W6_APPID, NULL);
    char *b = encrypt_ok(key, "同一条消息", W6_APPID, NULL);
    assert_string_not_equal(a, b); /* the random prefix differs */
    char *pa = decrypt_ok(key, a, W6_APPID, NULL);
    char *pb = decrypt_ok(key, b, W6_APPID, NULL);
    assert_string_equal(pa, "同一条消息");
    assert_string_equal(pb, "同一条消息");
    size_t n = 0;
    unsigned char *raw = raw_decrypt(key, a, &n);
    for (int i = 0; i < 16; i++)
        assert_true(raw[i] > 0x20 && raw[i] < 0x7f);
    free(raw);
    free(pa);
    free(pb);
    free(a);
    free(b);

    /* a message with a NUL byte round-trips by length */
    char *enc = NULL, *plain = NULL, err[160];
    size_t len = 0;
    assert_int_equal(wx_encrypt(key, "a\0b", 3, W6_APPID, NULL, &enc), 0);
    assert_int_equal(wx_decrypt(key, enc, W6_APPID, &plain, &len, err, sizeof err), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(plain, "a\0b", 4);
    free(plain);
    free(enc);
}

/* ======================================================================
 * wx_decrypt refusals
 * ====================================================================== */

/* Flip bits @mask of ciphertext byte @at of @b64 (or drop/add blocks). */
static char *tamper(const char *b64, long at, unsigned char mask, int add_blocks)
{
    size_t blen = strlen(b64);
    unsigned char *ct = calloc(1, blen + 64);
    int r = EVP_DecodeBlock(ct, (const unsigned char *)b64, (int)blen);
    size_t n = (size_t)r - (b64[blen - 1] == '=') - (b64[blen - 2] == '=');
    if (at >= 0)
        ct[at] ^= mask;
    if (add_blocks < 0)
        n -= 16 * (size_t)-add_blocks;
    else if (add_blocks > 0) {
        memcpy(ct + n, ct, 16 * (size_t)add_blocks); /* replay a block */
        n += 16 * (size_t)add_blocks;
    }
    char *out = malloc((n + 2) / 3 * 4 + 1);
    EVP_EncodeBlock((unsigned char *)out, ct, (int)n);
    free(ct);
    return out;
}

static void test_decrypt_refuses_tampered(void **state)
{
    (void)state;
    unsigned char key[32];
    key_of(KEY_A, key);
    const char *tok = "steeringToken2024", *sig = "f10c3773c000c74ca3e457e2f0d1a2ae4feba853";

    /* W6: 16 + 4 + 263 + 18 = 301 plaintext bytes, padded to 320 */
    static const struct { long at; unsigned char mask; int blocks; const char *code; } cases[] = {
        { 319, 0x80, 0, "-40008" },  /* last block garbled: padding byte */
        { 303, 0x01, 0, "-40005" },  /* pad 19 -> 18 and the id block garbled */
        { 0, 0x80, 0, "-40008" },    /* length field 0x80000107 */
        { 3, 0x01, 0, "-40005" },    /* length field 0x106: id shifted */
        { -1, 0, -1, "-40005" },     /* last block dropped */
        { -1, 0, 1, NULL },          /* a block appended */
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(cases); i++) {
        char *bad = tamper(W6_ENC, cases[i].at, cases[i].mask, cases[i].blocks);
        assert_string_not_equal(bad, W6_ENC);
        assert_false(sig4_ok(tok, "1700000000", "1234567890", bad, sig));
        decrypt_refused(key, bad, W6_APPID, cases[i].code);
        free(bad);
    }

    /* Any change to the Encrypt text breaks the msg_signature... */
    char *copy = xstrdup(W6_ENC);
    for (size_t i = 0; copy[i] && copy[i] != '='; i += 7) {
        char c = copy[i];
        copy[i] = c == 'A' ? 'B' : 'A';
        assert_false(sig4_ok(tok, "1700000000", "1234567890", copy, sig));
        copy[i] = c;
    }
    free(copy);
    /* ...and it has to: CBC without a MAC is malleable. Flipping a bit in
     * ciphertext block 0 past the length field garbles only the random
     * prefix and flips the same bit of the message, which still decrypts
     * ("<" 0x3c -> 0x3d "="). This is why the msg_signature is checked
     * before wx_decrypt. */
    char *mal = tamper(W6_ENC, 4, 0x01, 0);
    assert_false(sig4_ok(tok, "1700000000", "1234567890", mal, sig));
    char *plain = decrypt_ok(key, mal, W6_APPID, NULL);
    assert_int_equal(plain[0], '=');
    assert_string_equal(plain + 1, &W6_XML[1]);
    free(plain);
    free(mal);
    /* Likewise the last block of W6 is pure padding (bytes 304..319, all
     * 0x13) and only its last byte is checked (A7 step 5): with bit 0x01 of
     * the last ciphertext byte flipped, that block decrypts to garbage that
     * happens to end in 0x13 again, so wx_decrypt accepts it. */
    mal = tamper(W6_ENC, 319, 0x01, 0);
    assert_false(sig4_ok(tok, "1700000000", "1234567890", mal, sig));
    plain = decrypt_ok(key, mal, W6_APPID, NULL);
    assert_string_equal(plain, W6_XML);
    free(plain);
    free(mal);
}

static void test_decrypt_refuses_wrong_id(void **state)
{
    (void)state;
    unsigned char key[32], other[32];
    key_of(KEY_A, key);

    decrypt_refused(key, W6_ENC, "wx0000000000000000", "-40005");
    decrypt_refused(key, W6_ENC, "wx1234567890abcde", "-40005");    /* prefix */
    decrypt_refused(key, W6_ENC, "wx1234567890abcdef0", "-40005");  /* longer */
    decrypt_refused(key, W6_ENC, "WX1234567890ABCDEF", "-40005");   /* case */
    decrypt_refused(key, W6_ENC, "", "-40005");
    /* another key: garbage, refused somewhere */
    key_of(KEY_B, other);
    decrypt_refused(other, W6_ENC, W6_APPID, NULL);
}

/* Build random16 | be32(mlen) | msg | id | pad bytes, and encrypt it raw. */
static char *forge(const unsigned char key[32], uint32_t mlen, const char *msg, const char *id,
                   const unsigned char *pad, size_t padlen)
{
    unsigned char buf[256];
    size_t n = 0;
    memcpy(buf, "0123456789abcdef", 16);
    n = 16;
    buf[n++] = (unsigned char)(mlen >> 24);
    buf[n++] = (unsigned char)(mlen >> 16);
    buf[n++] = (unsigned char)(mlen >> 8);
    buf[n++] = (unsigned char)mlen;
    memcpy(buf + n, msg, strlen(msg));
    n += strlen(msg);
    memcpy(buf + n, id, strlen(id));
    n += strlen(id);
    memcpy(buf + n, pad, padlen);
    n += padlen;
    assert_int_equal(n % 16, 0);
    return raw_encrypt(key, buf, n);
}

static void test_decrypt_padding(void **state)
{
    (void)state;
    unsigned char key[32], pad[64];
    key_of(KEY_A, key);
    char *b64, *plain;

    /* 16 + 4 + 10 + 18 = 48: the scheme pads to 64 with 16 x 0x10 */
    memset(pad, 16, 16);
    b64 = forge(key, 10, "0123456789", W6_APPID, pad, 16);
    plain = decrypt_ok(key, b64, W6_APPID, NULL);
    assert_string_equal(plain, "0123456789");
    free(plain);
    free(b64);

    /* last byte 0, 33, 255: refused */
    static const unsigned char bad_last[] = { 0, 33, 255 };
    for (size_t i = 0; i < sizeof bad_last; i++) {
        memset(pad, 16, 16);
        pad[15] = bad_last[i];
        b64 = forge(key, 10, "0123456789", W6_APPID, pad, 16);
        decrypt_refused(key, b64, W6_APPID, "-40008");
        free(b64);
    }

    /* a whole block of 0x20 on an aligned plaintext (48 + 32 = 80 bytes) */
    memset(pad, 32, 32);
    b64 = forge(key, 10, "0123456789", W6_APPID, pad, 32);
    plain = decrypt_ok(key, b64, W6_APPID, NULL);
    assert_string_equal(plain, "0123456789");
    free(plain);
    free(b64);

    /* n in 1..32 but more than the data left after it: refused */
    {
        unsigned char blk[32];
        memset(blk, 32, sizeof blk);
        b64 = raw_encrypt(key, blk, sizeof blk);
        decrypt_refused(key, b64, W6_APPID, "-40008");
        free(b64);
        memset(blk, 16, sizeof blk); /* 16 left: shorter than random + length */
        b64 = raw_encrypt(key, blk, 16 + 16);
        decrypt_refused(key, b64, W6_APPID, "-40008");
        free(b64);
    }

    /* the length field pointing past the end */
    memset(pad, 16, 16);
    b64 = forge(key, 10 + 18 + 1, "0123456789", W6_APPID, pad, 16);
    decrypt_refused(key, b64, W6_APPID, "-40008");
    free(b64);
    b64 = forge(key, 0xFFFFFFFFu, "0123456789", W6_APPID, pad, 16);
    decrypt_refused(key, b64, W6_APPID, "-40008");
    free(b64);

    /* A7 step 5 checks the last byte only, as the official samples do: a
     * 16-byte PKCS#7 padding (48 bytes, n = 5) and odd interior pad bytes
     * are accepted. */
    memset(pad, 0, sizeof pad);
    pad[4] = 5;
    b64 = forge(key, 5, "01234", W6_APPID, pad, 5);
    plain = decrypt_ok(key, b64, W6_APPID, NULL);
    assert_string_equal(plain, "01234");
    free(plain);
    free(b64);
}

static void test_decrypt_bad_base64(void **state)
{
    (void)state;
    unsigned char key[32];
    key_of(KEY_A, key);

    static const char *bad[] = {
        "", "abc", "ab=c", "QU=D", "QUJD\n", " QUJD", "QU*D", "A===", "====", "QUJD====",
        "QUJD-_==", /* URL-safe alphabet is not the scheme's */
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(bad); i++)
        decrypt_refused(key, bad[i], W6_APPID, "-40010");
    decrypt_refused(key, NULL, W6_APPID, "-40010");

    char *s = xstrdup(W6_ENC);
    s[strlen(s) - 1] = '\0'; /* '=' dropped: length no longer a multiple of 4 */
    decrypt_refused(key, s, W6_APPID, "-40010");
    free(s);
    s = xasprintf("%.100s %s", W6_ENC, &W6_ENC[100]); /* a space inside */
    decrypt_refused(key, s, W6_APPID, "-40010");
    free(s);
    s = xasprintf("%.100s\r\n%s", W6_ENC, &W6_ENC[100]);
    decrypt_refused(key, s, W6_APPID, "-40010");
    free(s);

    /* valid base64, but not whole AES blocks */
    decrypt_refused(key, "QUJD", W6_APPID, "-40007");                 /* 3 bytes */
    decrypt_refused(key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", W6_APPID, "-40007"); /* 21 */

    /* over the size cap */
    s = xmalloc(WX_CIPHER_B64_MAX + 5);
    memset(s, 'A', WX_CIPHER_B64_MAX + 4);
    s[WX_CIPHER_B64_MAX + 4] = '\0';
    decrypt_refused(key, s, W6_APPID, "-40010");
    free(s);
}

/* ======================================================================
 * XML: the messages the callback server meets
 * ====================================================================== */

static void test_xml_text_message(void **state)
{
    (void)state;
    struct wx_msg m;
    parse_ok("<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]>"
             "</FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]>"
             "</MsgType><Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456"
             "</MsgId></xml>", &m);
    assert_string_equal(m.to_user, "toUser");
    assert_string_equal(m.from_user, "fromUser");
    assert_int_equal(m.create_time, 1348831860);
    assert_string_equal(m.msg_type, "text");
    assert_string_equal(m.content, "this is a test");
    assert_int_equal(m.content_truncated, 0);
    assert_string_equal(m.msg_id, "1234567890123456");
    assert_string_equal(m.event, "");
    assert_string_equal(m.msg_id_event, "");
    assert_string_equal(m.status, "");
    assert_string_equal(m.agent_id, "");
    assert_null(m.encrypt);
    wx_msg_cleanup(&m);

    /* plain text instead of CDATA, entities, newlines, an XML declaration
     * naming another encoding (overridden: always UTF-8), unknown elements
     * (MsgDataId, Idx, nested ones) ignored, numbers trimmed */
    parse_ok("<?xml version=\"1.0\" encoding=\"GBK\"?>\n<xml>\n <ToUserName>gh_1</ToUserName>\n"
             " <FromUserName>o&amp;1</FromUserName>\n <CreateTime> 1700000000\n</CreateTime>\n"
             " <MsgType>text</MsgType>\n <Content>9分 &lt;工长&gt; &#x5F88;好\n第二行</Content>\n"
             " <MsgId>\n42 </MsgId><MsgDataId>7</MsgDataId><Idx>1</Idx>"
             " <Extra><Content>nested, ignored</Content></Extra><!-- a comment -->\n</xml>\n", &m);
    assert_string_equal(m.to_user, "gh_1");
    assert_string_equal(m.from_user, "o&1");
    assert_int_equal(m.create_time, 1700000000);
    assert_string_equal(m.content, "9分 <工长> 很好\n第二行");
    assert_string_equal(m.msg_id, "42");
    wx_msg_cleanup(&m);

    /* an element with child elements: only its own text counts */
    parse_ok("<xml><Content>a<b>x</b>c</Content></xml>", &m);
    assert_string_equal(m.content, "ac");
    wx_msg_cleanup(&m);

    /* an empty document element is a valid, empty message */
    parse_ok("<xml/>", &m);
    assert_string_equal(m.msg_type, "");
    assert_int_equal(m.create_time, 0);
    wx_msg_cleanup(&m);
}

static void test_xml_subscribe_events(void **state)
{
    (void)state;
    struct wx_msg m;
    parse_ok("<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA["
             "oUser_OpenID_0001]]></FromUserName><CreateTime>1700000100</CreateTime><MsgType>"
             "<![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]>"
             "</EventKey></xml>", &m);
    assert_string_equal(m.msg_type, "event");
    assert_string_equal(m.event, "subscribe");
    assert_string_equal(m.event_key, "");
    assert_string_equal(m.from_user, "oUser_OpenID_0001");
    assert_int_equal(m.create_time, 1700000100);
    assert_string_equal(m.msg_id, "");
    wx_msg_cleanup(&m);

    parse_ok("<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA["
             "oUser_OpenID_0002]]></FromUserName><CreateTime>1700000101</CreateTime><MsgType>"
             "<![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA["
             "qrscene_P42]]></EventKey><Ticket><![CDATA[gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFx"
             "LmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==]]></Ticket></xml>", &m);
    assert_string_equal(m.event, "subscribe");
    assert_string_equal(m.event_key, "qrscene_P42");
    wx_msg_cleanup(&m);

    parse_ok("<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA["
             "oUser_OpenID_0001]]></FromUserName><CreateTime>1700000200</CreateTime><MsgType>"
             "<![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event><EventKey>"
             "<![CDATA[]]></EventKey></xml>", &m);
    assert_string_equal(m.event, "unsubscribe");
    assert_int_equal(m.create_time, 1700000200);
    wx_msg_cleanup(&m);
}

static void test_xml_templatesendjobfinish(void **state)
{
    (void)state;
    struct wx_msg m;
    /* A3's doc sample, and the two failure statuses byte for byte */
    parse_ok("<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA["
             "oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName><CreateTime>1395658920</CreateTime>"
             "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"
             "<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status></xml>", &m);
    assert_string_equal(m.event, "TEMPLATESENDJOBFINISH");
    assert_string_equal(m.msg_id_event, "200163836");
    assert_string_equal(m.msg_id, "");   /* MsgID is not MsgId */
    assert_string_equal(m.status, "success");
    assert_int_equal(m.create_time, 1395658920);
    wx_msg_cleanup(&m);

    parse_ok("<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA["
             "oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName><CreateTime>1395658984</CreateTime>"
             "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"
             "<MsgID>200163840</MsgID><Status><![CDATA[failed: system failed]]></Status></xml>",
             &m);
    assert_string_equal(m.msg_id_event, "200163840");
    assert_string_equal(m.status, "failed: system failed");
    wx_msg_cleanup(&m);

    parse_ok("<xml><MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event>"
             "<MsgID>3147483648123456789</MsgID><Status>failed:user block</Status></xml>", &m);
    assert_string_equal(m.msg_id_event, "3147483648123456789"); /* above 2^53, kept as text */
    assert_string_equal(m.status, "failed:user block");
    wx_msg_cleanup(&m);
}

static void test_xml_secure_envelope(void **state)
{
    (void)state;
    struct wx_msg m;
    parse_ok(W6_POST_BODY, &m);
    assert_string_equal(m.to_user, "gh_0123456789ab");
    assert_string_equal(m.encrypt, W6_ENC);
    assert_int_equal(m.encrypt_len, strlen(W6_ENC));
    assert_string_equal(m.msg_type, "");
    wx_msg_cleanup(&m);
    assert_null(m.encrypt);

    /* compatible mode: plaintext fields and Encrypt side by side (W3) */
    parse_ok("<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA["
             "oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n"
             "<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>"
             "6054768590064713728</MsgId>\n<Encrypt><![CDATA[" W3_ENC "]]></Encrypt>\n</xml>", &m);
    assert_string_equal(m.content, "abcdteT");
    assert_string_equal(m.encrypt, W3_ENC);
    wx_msg_cleanup(&m);

    /* WeCom's envelope carries AgentID */
    parse_ok("<xml><ToUserName><![CDATA[" W2_CORPID "]]></ToUserName><Encrypt><![CDATA["
             W2B_ENC "]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>", &m);
    assert_string_equal(m.agent_id, "218");
    assert_string_equal(m.encrypt, W2B_ENC);
    wx_msg_cleanup(&m);
}

/* ======================================================================
 * XML: hostile and broken documents
 * ====================================================================== */

#define PR(s, why) parse_refused((s), strlen(s), (why))

static void test_xml_refuses_entities(void **state)
{
    (void)state;
    PR("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
       " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
       " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
       " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
       " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
       " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
       " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
       " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
       " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
       "]>\n<xml><Content>&lol9;</Content></xml>", "DOCTYPE");
    /* external entity (XXE) */
    PR("<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
       "<xml><ToUserName>&xxe;</ToUserName></xml>", "DOCTYPE");
    PR("<!DOCTYPE xml SYSTEM \"http://127.0.0.1:1/evil.dtd\"><xml><Content>x</Content></xml>",
       "DOCTYPE");
    /* parameter entities */
    PR("<!DOCTYPE xml [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><xml/>", "DOCTYPE");
    /* a bare DOCTYPE without any entity is refused as well */
    PR("<!DOCTYPE xml><xml><Content>x</Content></xml>", "DOCTYPE");
    /* an undeclared entity is simply malformed */
    PR("<xml><Content>&xxe;</Content></xml>", "malformed");
}

static void test_xml_malformed(void **state)
{
    (void)state;
    PR("", "empty");
    parse_refused(NULL, 0, "empty");
    PR("<xml><Content>unclosed</xml>", "malformed");
    PR("<xml><Content>x</Content>", "malformed");
    PR("<xml><Content><![CDATA[x]]</Content></xml>", "malformed");
    PR("not xml at all", "malformed");
    PR("{\"MsgType\":\"text\"}", "malformed");
    PR("<xml></xml><xml></xml>", "malformed");                  /* junk after the root */
    PR("<xml/>trailing", "malformed");
    PR("<root><Content>x</Content></root>", "root");            /* another root */
    PR("<XML><Content>x</Content></XML>", "root");
    PR("<xml><Content>\xff\xfe</Content></xml>", "malformed");  /* invalid UTF-8 */
    PR("<xml><Content>\xe4\xb8</Content></xml>", "malformed");  /* cut sequence */
    PR("<xml><Content>a\x01</Content></xml>", "malformed");     /* control character */
    parse_refused("<xml><Content>a\0b</Content></xml>", 33, "malformed"); /* NUL */
    /* duplicate known fields */
    PR("<xml><Encrypt>QUJD</Encrypt><Encrypt>REVG</Encrypt></xml>", "twice");
    PR("<xml><MsgType>text</MsgType><MsgType>event</MsgType></xml>", "twice");
    /* CreateTime must be a decimal integer */
    PR("<xml><CreateTime>12a</CreateTime></xml>", "CreateTime");
    PR("<xml><CreateTime>-5</CreateTime></xml>", "CreateTime");
    PR("<xml><CreateTime></CreateTime></xml>", "CreateTime");
    PR("<xml><CreateTime>9999999999999999999</CreateTime></xml>", "CreateTime");
}

static void test_xml_limits(void **state)
{
    (void)state;
    struct wx_msg m;
    char err[200];

    /* size: exactly WX_XML_MAX is parsed, one byte more is refused before
     * parsing (the body is a valid document either way) */
    size_t cap = WX_XML_MAX;
    char *doc = xmalloc(cap + 2);
    const char *head = "<xml><MsgType>text</MsgType><!--", *tail = "--></xml>";
    memset(doc, 'x', cap + 1);
    memcpy(doc, head, strlen(head));
    memcpy(doc + cap - strlen(tail), tail, strlen(tail));
    assert_int_equal(wx_xml_parse(doc, cap, &m, err, sizeof err), 0);
    assert_string_equal(m.msg_type, "text");
    wx_msg_cleanup(&m);
    memcpy(doc + cap + 1 - strlen(tail), tail, strlen(tail));
    parse_refused(doc, cap + 1, "exceeds");
    free(doc);

    /* depth: 16 levels accepted, 17 refused */
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 16; i++)
        buf_puts(&b, i ? "<a>" : "<xml>");
    for (int i = 15; i >= 0; i--)
        buf_puts(&b, i ? "</a>" : "</xml>");
    parse_ok(b.data, &m);
    wx_msg_cleanup(&m);
    buf_cleanup(&b);
    for (int i = 0; i < 17; i++)
        buf_puts(&b, i ? "<a>" : "<xml>");
    for (int i = 16; i >= 0; i--)
        buf_puts(&b, i ? "</a>" : "</xml>");
    PR(b.data, "deeper");
    buf_cleanup(&b);
    /* a deep bomb with no end tags at all */
    for (int i = 0; i < 5000; i++)
        buf_puts(&b, i ? "<a>" : "<xml>");
    PR(b.data, "deeper");
    buf_cleanup(&b);

    /* field lengths: 63 bytes fit ToUserName, 64 are refused, never cut */
    char v[80];
    memset(v, 'o', sizeof v);
    v[63] = '\0';
    char *x = xasprintf("<xml><ToUserName>%s</ToUserName></xml>", v);
    parse_ok(x, &m);
    assert_int_equal(strlen(m.to_user), 63);
    wx_msg_cleanup(&m);
    free(x);
    v[63] = 'o';
    v[64] = '\0';
    x = xasprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName></xml>", v);
    PR(x, "ToUserName");
    free(x);
    x = xasprintf("<xml><MsgId>%s</MsgId></xml>", "123456789012345678901234567890123");
    PR(x, "MsgId");
    free(x);
}

static void test_xml_long_content_truncated(void **state)
{
    (void)state;
    struct wx_msg m;
    struct buf b;

    /* 1000 x "中" (3000 bytes): cut to 682 characters = 2046 bytes, which
     * is the last UTF-8 boundary below 2047, and flagged */
    buf_init(&b);
    buf_puts(&b, "<xml><MsgType>text</MsgType><Content><![CDATA[");
    for (int i = 0; i < 1000; i++)
        buf_puts(&b, "中");
    buf_puts(&b, "]]></Content><MsgId>7</MsgId></xml>");
    parse_ok(b.data, &m);
    assert_int_equal(m.content_truncated, 1);
    assert_int_equal(strlen(m.content), 2046);
    assert_true(utf8_valid(m.content, strlen(m.content)));
    assert_int_equal(utf8_chars(m.content), 682);
    assert_string_equal(m.msg_id, "7"); /* the rest of the message is intact */
    wx_msg_cleanup(&m);
    buf_cleanup(&b);

    /* "a" + 1000 x "中": 1 + 682 * 3 = 2047 fits exactly */
    buf_puts(&b, "<xml><Content>a");
    for (int i = 0; i < 1000; i++)
        buf_puts(&b, "中");
    buf_puts(&b, "</Content></xml>");
    parse_ok(b.data, &m);
    assert_int_equal(m.content_truncated, 1);
    assert_int_equal(strlen(m.content), 2047);
    assert_true(utf8_valid(m.content, 2047));
    wx_msg_cleanup(&m);
    buf_cleanup(&b);

    /* 4-byte characters: 2047 / 4 -> 511 characters, 2044 bytes */
    buf_puts(&b, "<xml><Content>");
    for (int i = 0; i < 600; i++)
        buf_puts(&b, "😀");
    buf_puts(&b, "</Content></xml>");
    parse_ok(b.data, &m);
    assert_int_equal(strlen(m.content), 2044);
    assert_int_equal(utf8_chars(m.content), 511);
    wx_msg_cleanup(&m);
    buf_cleanup(&b);

    /* exactly 2047 ASCII bytes: kept whole, not flagged */
    buf_puts(&b, "<xml><Content>");
    for (int i = 0; i < 2047; i++)
        buf_puts(&b, "z");
    buf_puts(&b, "</Content></xml>");
    parse_ok(b.data, &m);
    assert_int_equal(strlen(m.content), 2047);
    assert_int_equal(m.content_truncated, 0);
    wx_msg_cleanup(&m);
    buf_cleanup(&b);
}

/* ======================================================================
 * Replies
 * ====================================================================== */

static void test_reply_text_cdata_roundtrip(void **state)
{
    (void)state;
    struct wx_msg m;

    const char *content = "a]]>b ]]]]> <![CDATA[ & < > \" ' \n第二行]]>";
    char *x = wx_reply_text("o]]>user", "gh_1", 1700000002, content);
    assert_non_null(x);
    assert_null(strstr(x, "a]]>b")); /* split, never verbatim */
    assert_non_null(strstr(x, "a]]]]><![CDATA[>b"));
    parse_ok(x, &m);
    assert_string_equal(m.content, content);
    assert_string_equal(m.to_user, "o]]>user");
    assert_string_equal(m.from_user, "gh_1");
    assert_string_equal(m.msg_type, "text");
    assert_int_equal(m.create_time, 1700000002);
    wx_msg_cleanup(&m);
    free(x);

    x = wx_reply_text("o1", "gh_1", 1700000002, "]]>");
    assert_string_equal(x, "<xml><ToUserName><![CDATA[o1]]></ToUserName><FromUserName><![CDATA["
                           "gh_1]]></FromUserName><CreateTime>1700000002</CreateTime><MsgType>"
                           "<![CDATA[text]]></MsgType><Content><![CDATA[]]]]><![CDATA[>]]>"
                           "</Content></xml>");
    parse_ok(x, &m);
    assert_string_equal(m.content, "]]>");
    wx_msg_cleanup(&m);
    free(x);

    x = wx_reply_text("o1", "gh_1", 0, "");
    parse_ok(x, &m);
    assert_string_equal(m.content, "");
    wx_msg_cleanup(&m);
    free(x);

    /* what XML cannot carry is refused, not mangled */
    assert_null(wx_reply_text("o1", "gh_1", 1, "bad \xff byte"));
    assert_null(wx_reply_text("o1", "gh_1", 1, "bell \x07"));
    assert_null(wx_reply_text("o1", "gh_1", 1, "\xef\xbf\xbe"));   /* U+FFFE */
    assert_null(wx_reply_text("o\x01", "gh_1", 1, "ok"));
    assert_null(wx_reply_text("o1", "gh_\xc3", 1, "ok"));
    x = wx_reply_text("o1", "gh_1", 1, "tab\tcr\r\nok");
    assert_non_null(x);
    free(x);
}

static void test_reply_secure_roundtrip(void **state)
{
    (void)state;
    unsigned char key[32];
    key_of(KEY_A, key);
    const char *tok = "steeringToken2024";

    char *reply = wx_reply_text("oUser_OpenID_0001", "gh_0123456789ab", 1700000003,
                                "谢谢您的评价 ]]> 9分");
    char *env = wx_reply_secure(key, tok, W6_APPID, reply, 1700000003, "Nonce_1-x", NULL);
    assert_non_null(env);
    struct wx_msg e, m;
    parse_ok(env, &e);
    assert_string_equal(e.timestamp, "1700000003");
    assert_string_equal(e.nonce, "Nonce_1-x");
    assert_int_equal(strlen(e.msg_signature), 40);
    assert_true(sig4_ok(tok, e.timestamp, e.nonce, e.encrypt, e.msg_signature));
    char *plain = decrypt_ok(key, e.encrypt, W6_APPID, NULL);
    assert_string_equal(plain, reply);
    parse_ok(plain, &m);
    assert_string_equal(m.content, "谢谢您的评价 ]]> 9分");
    wx_msg_cleanup(&m);
    wx_msg_cleanup(&e);
    free(plain);
    free(env);

    /* nonces that do not fit the envelope */
    assert_null(wx_reply_secure(key, tok, W6_APPID, reply, 1, "", NULL));
    assert_null(wx_reply_secure(key, tok, W6_APPID, reply, 1, "12]]>3", NULL));
    assert_null(wx_reply_secure(key, tok, W6_APPID, reply, 1, "a b", NULL));
    assert_null(wx_reply_secure(key, tok, W6_APPID, reply, 1,
                                "0123456789012345678901234567890123456789012345678901234567890123",
                                NULL)); /* 64 */
    free(reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_w0_plain_signature),
        cmocka_unit_test(test_signature_refusals),
        cmocka_unit_test(test_aes_key),
        cmocka_unit_test(test_w1_encrypt),
        cmocka_unit_test(test_w1b_encrypt_video_reply),
        cmocka_unit_test(test_w2_wecom_verify_url),
        cmocka_unit_test(test_w2b_wecom_decrypt_msg),
        cmocka_unit_test(test_w3_official_decrypt),
        cmocka_unit_test(test_w4_official_decrypt),
        cmocka_unit_test(test_w5_wechatpy),
        cmocka_unit_test(test_w6_fixture),
        cmocka_unit_test(test_encrypt_padding_rule),
        cmocka_unit_test(test_encrypt_fresh_random),
        cmocka_unit_test(test_decrypt_refuses_tampered),
        cmocka_unit_test(test_decrypt_refuses_wrong_id),
        cmocka_unit_test(test_decrypt_padding),
        cmocka_unit_test(test_decrypt_bad_base64),
        cmocka_unit_test(test_xml_text_message),
        cmocka_unit_test(test_xml_subscribe_events),
        cmocka_unit_test(test_xml_templatesendjobfinish),
        cmocka_unit_test(test_xml_secure_envelope),
        cmocka_unit_test(test_xml_refuses_entities),
        cmocka_unit_test(test_xml_malformed),
        cmocka_unit_test(test_xml_limits),
        cmocka_unit_test(test_xml_long_content_truncated),
        cmocka_unit_test(test_reply_text_cdata_roundtrip),
        cmocka_unit_test(test_reply_secure_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
