/*
 * wxgen.c - WeChat secure-mode callback generator for the benchmark
 * (issue 8, item 4; PROTOCOLS.md A6-A7).
 *
 *   wxgen --token T --aes-key KEY43 --appid wx... [--count N] [--out FILE]
 *         [--timestamp UNIX] [--to gh_...] [--msgid-base N]
 *
 * Writes N distinct POST requests for /wechat/callback, one per line:
 *
 *   <query string> TAB <body>
 *
 * each a customer's text message (its own openid and MsgId) encrypted with
 * wx_encrypt() under KEY for receive id APPID, wrapped in the safe-mode
 * envelope <xml><ToUserName/><Encrypt/></xml>, with
 *   signature=sha1(sort(token, timestamp, nonce))
 *   timestamp, nonce (distinct per request), openid,
 *   encrypt_type=aes, msg_signature=sha1(sort(token, timestamp, nonce, Encrypt))
 * in the query, exactly as WeChat sends them. Neither part holds a TAB or a
 * newline (the body is one line of XML, Encrypt is base64), so a wrk Lua
 * script can split each line at the TAB and replay it verbatim
 * (tools/bench/callbacks_wechat.lua).
 *
 * The timestamp defaults to now: huifangd refuses one more than 5 minutes
 * off, so generate shortly before the run. The first request is decrypted
 * again and its signatures checked before anything is written (a broken
 * generator must not be mistaken for a slow gateway).
 */
#include "wechat_msg.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Typical customer replies; none joins a survey (there is none open), so
 * each is kept as an unmatched answer for customer service. */
static const char *const contents[] = {
    "师傅做得很好，谢谢",
    "材料收到了，什么时候开始下一步？",
    "卫生间防水什么时候验收",
    "好的，知道了",
    "请项目经理给我回个电话",
    "墙面有一点裂缝，麻烦看一下",
};

static void usage(void)
{
    fprintf(stderr,
            "usage: wxgen --token T --aes-key KEY43 --appid APPID [--count N] [--out FILE]\n"
            "             [--timestamp UNIX] [--to gh_...] [--msgid-base N]\n"
            "  writes N signed secure-mode POSTs for /wechat/callback, one per line:\n"
            "  <query>\\t<body>\n");
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64*: nonces and openids only need to be distinct, not secret. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * (uint64_t)2685821657736338717u;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

/* Check request 0 the way huifangd will: both signatures, then decrypt. */
static int self_check(const unsigned char key[32], const char *token, const char *appid,
                      const char *ts, const char *nonce, const char *enc, const char *sig,
                      const char *msig, const char *plain)
{
    const char *p3[] = {token, ts, nonce};
    const char *p4[] = {token, ts, nonce, enc};
    char err[256] = "";
    char *back = NULL;
    size_t blen = 0;
    if (!wx_signature_ok(p3, 3, sig) || !wx_signature_ok(p4, 4, msig)) {
        fprintf(stderr, "wxgen: self-check: signatures do not verify\n");
        return -1;
    }
    if (wx_decrypt(key, enc, appid, &back, &blen, err, sizeof err) != 0) {
        fprintf(stderr, "wxgen: self-check: %s\n", err);
        return -1;
    }
    struct wx_msg m;
    int ok = blen == strlen(plain) && memcmp(back, plain, blen) == 0 &&
             wx_xml_parse(back, blen, &m, err, sizeof err) == 0;
    free(back);
    if (!ok) {
        fprintf(stderr, "wxgen: self-check: the decrypted message differs or does not parse %s\n",
                err);
        return -1;
    }
    ok = strcmp(m.msg_type, "text") == 0 && m.msg_id[0];
    wx_msg_cleanup(&m);
    if (!ok) {
        fprintf(stderr, "wxgen: self-check: not a text message with a MsgId\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *token = NULL, *aes = NULL, *appid = NULL, *out_path = NULL;
    const char *to = "gh_0123456789ab";
    uint64_t count = 1000, ts = (uint64_t)time(NULL), msgid_base = 0;
    enum { O_TOKEN = 1, O_AES, O_APPID, O_COUNT, O_OUT, O_TS, O_TO, O_MSGID, O_HELP };
    static const struct option opts[] = {
        {"token", required_argument, NULL, O_TOKEN},
        {"aes-key", required_argument, NULL, O_AES},
        {"appid", required_argument, NULL, O_APPID},
        {"count", required_argument, NULL, O_COUNT},
        {"out", required_argument, NULL, O_OUT},
        {"timestamp", required_argument, NULL, O_TS},
        {"to", required_argument, NULL, O_TO},
        {"msgid-base", required_argument, NULL, O_MSGID},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_TOKEN: token = optarg; break;
        case O_AES: aes = optarg; break;
        case O_APPID: appid = optarg; break;
        case O_OUT: out_path = optarg; break;
        case O_TO: to = optarg; break;
        case O_COUNT:
            if (parse_u64(optarg, &count) != 0 || count == 0 || count > 10000000) {
                fprintf(stderr, "wxgen: --count: expected 1..10000000\n");
                return 2;
            }
            break;
        case O_TS:
            if (parse_u64(optarg, &ts) != 0) {
                fprintf(stderr, "wxgen: --timestamp: expected Unix seconds\n");
                return 2;
            }
            break;
        case O_MSGID:
            if (parse_u64(optarg, &msgid_base) != 0) {
                fprintf(stderr, "wxgen: --msgid-base: expected a number\n");
                return 2;
            }
            break;
        case O_HELP: usage(); return 0;
        default: usage(); return 2;
        }
    }
    if (!token || !aes || !appid || optind != argc) {
        usage();
        return 2;
    }
    unsigned char key[32];
    if (wx_aes_key(aes, key) != 0) {
        fprintf(stderr, "wxgen: --aes-key: not a 43-character EncodingAESKey\n");
        return 2;
    }
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "wxgen: %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    rng_state = ((uint64_t)now.tv_sec << 20) ^ (uint64_t)now.tv_nsec ^ (uint64_t)0x9E3779B97F4A7C15u;
    if (!msgid_base) /* WeChat's MsgIds are 64-bit, about 2.4e16 today */
        msgid_base = (uint64_t)24000000000000000 + (ts % 100000) * (uint64_t)100000000;

    char tsbuf[24];
    snprintf(tsbuf, sizeof tsbuf, "%" PRIu64, ts);
    struct buf plain, line;
    buf_init(&plain);
    buf_init(&line);
    for (uint64_t i = 0; i < count; i++) {
        char openid[40], nonce[24], sig[41], msig[41];
        /* openids look like WeChat's: 28 characters starting with 'o'. */
        uint64_t r = rng();
        snprintf(openid, sizeof openid, "oBench%010" PRIu64 "%012" PRIx64, i,
                 r & (uint64_t)0xffffffffffff);
        snprintf(nonce, sizeof nonce, "%" PRIu64, (uint64_t)1000000000 + rng() % 9000000000u);
        plain.len = 0;
        buf_printf(&plain,
                   "<xml><ToUserName><![CDATA[%s]]></ToUserName>"
                   "<FromUserName><![CDATA[%s]]></FromUserName>"
                   "<CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                   "<Content><![CDATA[%s]]></Content><MsgId>%" PRIu64 "</MsgId></xml>",
                   to, openid, tsbuf, contents[i % HF_ARRAY_LEN(contents)], msgid_base + i);
        char *enc = NULL;
        if (wx_encrypt(key, plain.data, plain.len, appid, NULL, &enc) != 0) {
            fprintf(stderr, "wxgen: encryption failed\n");
            return 1;
        }
        const char *p3[] = {token, tsbuf, nonce};
        const char *p4[] = {token, tsbuf, nonce, enc};
        wx_signature(p3, 3, sig);
        wx_signature(p4, 4, msig);
        if (i == 0 && self_check(key, token, appid, tsbuf, nonce, enc, sig, msig, plain.data) != 0)
            return 1;
        line.len = 0;
        buf_printf(&line,
                   "signature=%s&timestamp=%s&nonce=%s&openid=%s&encrypt_type=aes&msg_signature=%s"
                   "\t<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt>"
                   "</xml>\n",
                   sig, tsbuf, nonce, openid, msig, to, enc);
        free(enc);
        if (fwrite(line.data, 1, line.len, out) != line.len) {
            fprintf(stderr, "wxgen: write failed: %s\n", strerror(errno));
            return 1;
        }
    }
    buf_cleanup(&plain);
    buf_cleanup(&line);
    if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
        fprintf(stderr, "wxgen: write failed: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
