/*
 * wechat_msg.h - the WeChat / WeCom callback server's message layer
 * (PROTOCOLS.md A3, A6, A7 and B3): request signatures, the WXBizMsgCrypt
 * "safe mode" AES scheme, the inbound XML messages and the passive replies.
 *
 * Pure functions: no I/O, no clock, no globals, no logging (secrets,
 * signatures and message bodies never reach the log from here). Every
 * function may be called from a loop callback. OpenSSL EVP does the
 * SHA-1, AES-256-CBC and base64; libexpat parses the XML.
 *
 * One scheme serves the Official Account (receive id = AppID), WeCom
 * (receive id = CorpID, or SuiteID for third-party suites) and the other
 * Tencent platforms; only the receive id differs.
 *
 * How the callback server uses it:
 *
 *   plain GET  (URL verification)   wx_signature_ok({token,timestamp,nonce},
 *                                   signature) -> answer echostr verbatim
 *   WeCom GET  (URL verification)   wx_signature_ok({token,timestamp,nonce,
 *                                   echostr}, msg_signature) -> wx_decrypt(
 *                                   echostr, CorpID) -> answer the plaintext
 *   POST, plain                     wx_signature_ok(plain 3) -> wx_xml_parse
 *   POST, encrypt_type=aes          wx_signature_ok(plain 3) and
 *                                   wx_xml_parse(body) -> envelope .encrypt ->
 *                                   wx_signature_ok({token,timestamp,nonce,
 *                                   encrypt}, msg_signature) -> wx_decrypt ->
 *                                   wx_xml_parse(plaintext)
 *   reply                           wx_reply_text(), then in safe mode
 *                                   wx_reply_secure() around it
 *
 * The msg_signature check MUST come before wx_decrypt(): the scheme has no
 * MAC, the signature (keyed by the token) is what authenticates the
 * ciphertext. CBC is malleable: a flipped bit in ciphertext block 0 past
 * the length field flips the same bit of the message and still decrypts
 * (the unit test shows it), so wx_decrypt()'s own checks catch accidents,
 * not forgeries. Answer every failure to the requester the same way (403,
 * no body) and keep @err for the log: distinct answers per reason would
 * make a padding oracle.
 *
 * Error detail: functions that can fail on input take @err/@errlen and
 * write one short English sentence naming the reason and the matching code
 * of the official sample library where there is one ("-40008"). The text
 * never contains key material, plaintext or signatures; it is safe to log.
 *
 * Leaf module: depends on util (and OpenSSL, libexpat) only.
 */
#ifndef HF_WECHAT_MSG_H
#define HF_WECHAT_MSG_H

#include <stddef.h>
#include <stdint.h>

/* ---- signatures (A6, A7, B3) ------------------------------------------ */

/* Most strings a signature may cover (the secure form uses 4). */
#define WX_SIG_MAX_PARTS 8

/*
 * SHA-1, as 40 lower-case hex digits + NUL in @out, of the concatenation of
 * the @n strings @parts after sorting them bytewise (strcmp order), with no
 * separator. This is the WeChat/WeCom request signature:
 *   plain  (signature):      parts = { token, timestamp, nonce }
 *   secure (msg_signature):  parts = { token, timestamp, nonce, Encrypt }
 *                            (WeCom URL check: Encrypt = the echostr)
 * The order of @parts does not matter. @n must be 1..WX_SIG_MAX_PARTS and
 * no part may be NULL (programmer errors: asserted). Borrows @parts.
 */
void wx_signature(const char *const *parts, size_t n, char out[41]);

/*
 * 1 if @sig_hex is the signature of @parts (as wx_signature()), else 0.
 * The comparison is constant-time over the 40 digits; hex digits are
 * accepted in either case. NULL, empty or any length other than 40 gives 0.
 */
int wx_signature_ok(const char *const *parts, size_t n, const char *sig_hex);

/* ---- WXBizMsgCrypt (A7) ----------------------------------------------- */

/* Length of an EncodingAESKey. */
#define WX_ENCODING_AES_KEY_LEN 43
/* Largest Encrypt value / decrypted message wx_decrypt() accepts: the XML
 * it comes in is capped at WX_XML_MAX anyway. */
#define WX_CIPHER_B64_MAX (64 * 1024)
/* Largest message + receive id wx_encrypt() takes (far above anything
 * WeChat accepts in a passive reply). */
#define WX_PLAIN_MAX (1024 * 1024)

/*
 * EncodingAESKey -> AES key: key = Base64Decode(@encoding_aes_key + "=").
 * The key must be exactly 43 characters of [A-Za-z0-9] (the alphabet the
 * consoles generate from; anything else, or another length, is refused,
 * the sample library's -40004). The unused low bits of the last character
 * are ignored, as every SDK does (the official test key ends in 'G').
 * The IV of the scheme is key[0..16). Returns 0 with @key set, or -1
 * (@key then zeroed). @key is secret: never log it.
 */
int wx_aes_key(const char *encoding_aes_key, unsigned char key[32]);

/*
 * 16 random characters of [A-Za-z0-9] from OpenSSL's CSPRNG, for the
 * random prefix of wx_encrypt() (the official samples use printable
 * characters; any 16 bytes are valid).
 */
void wx_random16(unsigned char out[16]);

/*
 * Decrypt an Encrypt value (or a WeCom echostr, already URL-decoded).
 *
 *   1. Base64-decode @encrypt_b64: standard alphabet, '=' padding, length a
 *      multiple of 4, no whitespace (-40010). The result must be a non-zero
 *      multiple of 16 bytes (-40007).
 *   2. AES-256-CBC with @key, IV = key[0..16), no cipher padding.
 *   3. Padding, exactly as A7 step 5 and the official samples: the last
 *      byte n must be in 1..32, then n bytes are stripped (-40008). The
 *      other pad bytes are not checked (the samples do not either).
 *   4. Layout random(16) | msg_len(4, big-endian) | msg | receive_id:
 *      at least 20 bytes must remain and msg_len must not exceed what
 *      follows them (-40008).
 *   5. receive_id must equal @expect_id byte for byte, length included
 *      (-40005): the AppID for the OA, the CorpID (or SuiteID) for WeCom.
 *
 * Returns 0 with *plain set to a NUL-terminated copy of msg and *plain_len
 * to its length (msg may itself contain NUL bytes; trust *plain_len), or
 * -1 with a reason in @err and *plain = NULL. The plaintext is not checked
 * for UTF-8 here: wx_xml_parse() does that. Call only after the
 * msg_signature over @encrypt_b64 checked out (see the top of this file).
 * Caller owns *plain; free with free().
 */
int wx_decrypt(const unsigned char key[32], const char *encrypt_b64, const char *expect_id,
               char **plain, size_t *plain_len, char *err, size_t errlen);

/*
 * Encrypt @len bytes of @plain for receive id @receive_id (our AppID or
 * CorpID) into *b64, the Encrypt value: random16 | be32(len) | plain |
 * receive_id, PKCS#7-padded to a multiple of 32 bytes (n = 32 - size % 32,
 * so 1..32 bytes of value n), AES-256-CBC with IV = key[0..16), standard
 * base64 with '=' padding and no line breaks.
 *
 * @random16 is the 16-byte prefix: tests pass a vector's to reproduce it
 * exactly; NULL draws a fresh one with wx_random16(). Returns 0, or -1 if
 * the message and receive id together exceed WX_PLAIN_MAX bytes (or
 * OpenSSL fails); *b64 is then NULL. Caller owns *b64; free with free().
 */
int wx_encrypt(const unsigned char key[32], const char *plain, size_t len,
               const char *receive_id, const unsigned char random16[16], char **b64);

/* ---- inbound XML (A3, A6, B3) ----------------------------------------- */

/* Largest XML document wx_xml_parse() accepts, in bytes. */
#define WX_XML_MAX (64 * 1024)
/* Deepest element nesting accepted (<xml> is depth 1). */
#define WX_XML_MAX_DEPTH 16
/* Capacity of wx_msg.content, NUL included. */
#define WX_CONTENT_MAX 2048

/*
 * One inbound message, event or envelope, flattened. Only the direct
 * children of <xml> are read; every field is optional: "" (or 0, NULL)
 * when the element is absent. Text and CDATA are both accepted, entities
 * and character references are decoded, the result is UTF-8.
 */
struct wx_msg {
    char to_user[64];        /* ToUserName: gh_... (OA), CorpID (WeCom) */
    char from_user[64];      /* FromUserName: the sender's openid / UserID */
    char msg_type[32];       /* MsgType: text, event, image, ... */
    char event[64];          /* Event: subscribe, unsubscribe, SCAN,
                                TEMPLATESENDJOBFINISH, ... (exact case) */
    char event_key[128];     /* EventKey: qrscene_<scene>, <scene>, ... */
    char content[WX_CONTENT_MAX]; /* Content, cut on a UTF-8 boundary if longer */
    int content_truncated;   /* 1 if Content was longer than WX_CONTENT_MAX - 1 bytes */
    char msg_id[32];         /* MsgId (ordinary messages; 64-bit decimal, kept as text) */
    char msg_id_event[32];   /* MsgID, capital D (TEMPLATESENDJOBFINISH: the msgid
                                the template send returned) */
    char status[64];         /* Status (TEMPLATESENDJOBFINISH): "success",
                                "failed:user block", "failed: system failed" */
    char agent_id[16];       /* AgentID (WeCom) */
    int64_t create_time;     /* CreateTime, Unix seconds; 0 when absent */
    char *encrypt;           /* Encrypt (safe / compatible mode), heap, NULL when
                                absent; released by wx_msg_cleanup() */
    size_t encrypt_len;      /* strlen(encrypt) */
    char msg_signature[64];  /* MsgSignature (reply envelopes) */
    char timestamp[32];      /* TimeStamp (reply envelopes), as text: signatures
                                cover the text */
    char nonce[64];          /* Nonce (reply envelopes) */
};

/*
 * Parse @len bytes of @xml into @out (which is overwritten: zeroed first;
 * call wx_msg_cleanup() before reusing a parsed one).
 *
 * Accepts: a well-formed UTF-8 document whose root is <xml> (an encoding
 * declaration is overridden: the input is always read as UTF-8), optional
 * XML declaration, comments and processing instructions. Unknown elements
 * (MsgDataId, Idx, Ticket, <Video>, ...) and anything below depth 2 are
 * ignored.
 * Refuses (-1, reason in @err):
 *   - more than WX_XML_MAX bytes (checked before parsing), or nesting
 *     deeper than WX_XML_MAX_DEPTH;
 *   - any DOCTYPE, hence any entity declaration: no billion laughs, no
 *     external entities (no file or network access ever happens);
 *   - malformed XML, invalid UTF-8, another root element;
 *   - a known field given twice (which Encrypt would the signature cover?);
 *   - a value longer than its field (no silent truncation), except Content,
 *     which is cut on a UTF-8 boundary and flagged in content_truncated;
 *   - a CreateTime that is not a decimal integer. CreateTime, MsgId, MsgID,
 *     AgentID and TimeStamp are trimmed of surrounding ASCII whitespace;
 *     the other values are kept byte for byte.
 * Returns 0, or -1 with @out zeroed (nothing to clean up).
 */
int wx_xml_parse(const char *xml, size_t len, struct wx_msg *out, char *err, size_t errlen);

/* Release what wx_xml_parse() allocated in @m and zero it. Safe on a
 * zeroed struct and twice in a row. */
void wx_msg_cleanup(struct wx_msg *m);

/* ---- passive replies (A6, A7) ----------------------------------------- */

/*
 * The passive text reply, as the whole HTTP body:
 *   <xml><ToUserName><![CDATA[to]]></ToUserName><FromUserName><![CDATA[from]]>
 *   </FromUserName><CreateTime>now</CreateTime><MsgType><![CDATA[text]]>
 *   </MsgType><Content><![CDATA[content]]></Content></xml>   (one line)
 * @to_user is the inbound FromUserName (the openid), @from_user the inbound
 * ToUserName (gh_...). A "]]>" inside any value is split across two CDATA
 * sections ("]]]]><![CDATA[>"), so every value survives wx_xml_parse()
 * byte for byte. Returns NULL if a value is not valid UTF-8 or holds a
 * character XML cannot carry (C0 controls other than TAB, LF, CR; U+FFFE,
 * U+FFFF): answer "success" instead. No length cap is applied (A6 mentions
 * an UNCONFIRMED 2048-byte cap on Content: keep replies short).
 * Caller owns the result; free with free().
 */
char *wx_reply_text(const char *to_user, const char *from_user, int64_t now,
                    const char *content);

/*
 * The safe-mode envelope around @plain_xml (e.g. wx_reply_text()'s):
 *   <xml><Encrypt><![CDATA[E]]></Encrypt><MsgSignature><![CDATA[S]]>
 *   </MsgSignature><TimeStamp>T</TimeStamp><Nonce><![CDATA[N]]></Nonce></xml>
 * where E = wx_encrypt(@key, @plain_xml, @receive_id, @random16) and
 * S = wx_signature({@token, T, @nonce, E}), T = @timestamp in decimal.
 * @timestamp and @nonce are ours to choose (the current time and a fresh
 * random nonce; echoing the request's also works). @random16 as in
 * wx_encrypt() (NULL = fresh). Returns NULL if @nonce is not 1..63
 * characters of [A-Za-z0-9_-] (WeChat's are digits), or if encryption
 * fails. Caller owns the result; free with free().
 */
char *wx_reply_secure(const unsigned char key[32], const char *token, const char *receive_id,
                      const char *plain_xml, int64_t timestamp, const char *nonce,
                      const unsigned char random16[16]);

#endif
