/*
 * util.h - leaf helpers shared by every module: the error enum, the
 * allocation policy, small string and time helpers.
 *
 * Leaf module: never includes gateway.h.
 */
#ifndef HF_UTIL_H
#define HF_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* One error type for the whole code base. */
enum hf_err {
    HF_OK = 0,
    HF_ERR_NOMEM,
    HF_ERR_INVAL,
    HF_ERR_IO,
    HF_ERR_DB,
    HF_ERR_PROTO,
    HF_ERR_TIMEOUT,
    HF_ERR_NOTFOUND,
    HF_ERR_CONFLICT,
};

const char *hf_strerror(enum hf_err e);

/* Allocation policy (decided once, Redis zmalloc style): a gateway that
 * cannot allocate a few KiB cannot keep its promises anyway, so these log
 * and abort() on failure. Sizes coming from untrusted input are checked
 * against their limits before anyone calls these. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new heap string. Caller owns the result; free with free(). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Programmer errors only: logs file, line and expression, then aborts. */
#define HF_ASSERT(expr) \
    ((expr) ? (void)0 : hf_assert_fail(#expr, __FILE__, __LINE__))
void hf_assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

#define HF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- growable byte buffer ------------------------------------------- */

struct buf {
    char *data;  /* NUL-terminated after every append */
    size_t len;  /* bytes used, not counting the NUL */
    size_t cap;  /* bytes allocated */
};

void buf_init(struct buf *b);
void buf_cleanup(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the data to the caller and reset @b. Caller owns the result; free(). */
char *buf_steal(struct buf *b);

/* ---- time ------------------------------------------------------------ */

/* Wall-clock "now" in UTC epoch seconds / milliseconds. In tests the clock
 * can be started at another instant (HUIFANG_CLOCK_START, ISO-8601 with
 * optional milliseconds); it then advances at the real rate from there. */
void clock_init_from_env(void);
int64_t clock_now(void);
int64_t clock_now_ms(void);
/* Monotonic milliseconds, for latencies and deadlines. */
int64_t clock_mono_ms(void);

/* Parse an ISO-8601 timestamp with a mandatory offset ("Z", "+08:00",
 * "+0800"), optional fractional seconds. Returns 0 and sets *out (UTC epoch
 * seconds) or -1. */
int iso8601_parse(const char *s, int64_t *out);
/* Format @t as local time of the process time zone with its offset,
 * "2026-11-24T10:30:00+08:00". @out needs 32 bytes. */
void iso8601_format_local(int64_t t, char out[32]);
/* Format @t as UTC, "2026-11-24T02:30:00Z". @out needs 32 bytes. */
void iso8601_format_utc(int64_t t, char out[32]);
/* Parse "YYYY-MM-DD" strictly (a real calendar date). 0 or -1. */
int date_parse(const char *s, int *y, int *m, int *d);

/* Parse a duration: "0", "90s", "30m", "2h", "1d", "1500ms" or a bare
 * number of seconds. Result in milliseconds. 0 or -1. */
int duration_parse_ms(const char *s, int64_t *out_ms);

/* 1 if @zone names a time zone file of the system's zoneinfo database
 * (a TZif file, not a directory like "Asia"), or is "UTC". */
int tz_valid(const char *zone);
/* Set the process time zone (TZ + tzset). Returns 0, or -1 when the zone
 * is not in the system's zoneinfo database. */
int tz_set(const char *zone);

/* ---- crypto helpers (OpenSSL underneath) ------------------------------ */

/* SHA-256 of @p as 64 lower-case hex chars + NUL. */
void sha256_hex(const void *p, size_t n, char out[65]);
/* HMAC-SHA256 of @msg under @key as 64 hex chars + NUL. */
void hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t n, char out[65]);
/* Constant-time comparison of two equal-length buffers; 1 if equal. */
int ct_equal(const void *a, const void *b, size_t n);
/* Uniform random 64-bit value from the OS CSPRNG (for jitter and ids). */
uint64_t rand_u64(void);

/* ---- text ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at @p (at most @n bytes): 1-4, or 0
 * when it is not one (overlong, surrogate, truncated, stray byte). */
size_t utf8_seq(const unsigned char *p, size_t n);
/* 1 if @s is valid UTF-8 (no overlongs, no surrogates). */
int utf8_valid(const char *s, size_t n);
/* Number of Unicode code points in valid UTF-8 @s. */
size_t utf8_chars(const char *s);
/* Make @s, in place, a one-line text of 1 to @maxchars (>= 2) code points
 * that a trigger field accepts: control characters (C0, DEL, C1) become
 * spaces, an invalid or truncated UTF-8 sequence ends the text, and a
 * longer text is cut at a character boundary ending in "…". Leading and
 * trailing spaces go. Returns the number of code points left (0: nothing
 * printable was left; @s is ""). */
size_t text_one_line_clip(char *s, size_t maxchars);
/* 1 if @s is printable ASCII without spaces (ids, keys). */
int ascii_printable(const char *s);
/* 1 if @s is a mainland China mobile number: 11 digits, 1[3-9]xxxxxxxxx,
 * optionally prefixed by "+86" or "86". *norm gets the 11 digits. */
int mobile_normalize(const char *s, char norm[12]);

#endif
