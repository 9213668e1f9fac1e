/*
 * util.c - allocation policy, buffers, time parsing, hashing, UTF-8 and
 * mobile-number helpers.
 */
#include "util.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

const char *hf_strerror(enum hf_err e)
{
    switch (e) {
    case HF_OK: return "ok";
    case HF_ERR_NOMEM: return "out of memory";
    case HF_ERR_INVAL: return "invalid argument";
    case HF_ERR_IO: return "i/o error";
    case HF_ERR_DB: return "database error";
    case HF_ERR_PROTO: return "protocol error";
    case HF_ERR_TIMEOUT: return "timeout";
    case HF_ERR_NOTFOUND: return "not found";
    case HF_ERR_CONFLICT: return "conflict";
    }
    return "unknown error";
}

void hf_assert_fail(const char *expr, const char *file, int line)
{
    log_write(LOG_LVL_ERR, "assert", "%s:%d: assertion failed: %s", file, line, expr);
    abort();
}

static void oom(size_t n)
{
    log_write(LOG_LVL_ERR, "alloc", "out of memory allocating %zu bytes", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    HF_ASSERT(n >= 0);
    char *p = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* ---- buf ------------------------------------------------------------ */

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_cleanup(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    HF_ASSERT(n >= 0);
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *buf_steal(struct buf *b)
{
    char *p = b->data ? b->data : xstrdup("");
    buf_init(b);
    return p;
}

/* ---- time ----------------------------------------------------------- */

/* Offset added to the real clock, in ms; non-zero only in tests. */
static int64_t clock_offset_ms;

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_init_from_env(void)
{
    const char *s = getenv("HUIFANG_CLOCK_START");
    int64_t t;
    if (s && *s && iso8601_parse(s, &t) == 0) {
        /* Milliseconds too ("...T15:05:00.250+08:00"): tests that start
         * several processes on one clock give each the same instant. */
        int64_t frac = 0;
        const char *dot = strchr(s, '.');
        for (int i = 0, scale = 100; dot && i < 3 && isdigit((unsigned char)dot[1 + i]);
             i++, scale /= 10)
            frac += (dot[1 + i] - '0') * scale;
        clock_offset_ms = t * 1000 + frac - real_now_ms();
        log_write(LOG_LVL_WARN, "clock", "test clock in use: HUIFANG_CLOCK_START=%s", s);
    }
}

int64_t clock_now_ms(void)
{
    return real_now_ms() + clock_offset_ms;
}

int64_t clock_now(void)
{
    return clock_now_ms() / 1000;
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil); avoids timegm's dependence on the process TZ. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int parse_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int date_parse(const char *s, int *y, int *m, int *d)
{
    const char *p = s;
    if (parse_digits(&p, 4, y) || *p++ != '-' || parse_digits(&p, 2, m) || *p++ != '-' ||
        parse_digits(&p, 2, d) || *p != '\0')
        return -1;
    if (*y < 1970 || *y > 9999 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
        return -1;
    return 0;
}

int iso8601_parse(const char *s, int64_t *out)
{
    const char *p = s;
    int y, mo, d, h, mi, sec = 0;
    if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) || *p++ != '-' ||
        parse_digits(&p, 2, &d))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi))
        return -1;
    if (*p == ':') {
        p++;
        if (parse_digits(&p, 2, &sec))
            return -1;
        if (*p == '.' || *p == ',') {
            p++;
            if (!isdigit((unsigned char)*p))
                return -1;
            while (isdigit((unsigned char)*p))
                p++;
        }
    }
    int off_min;
    if (*p == 'Z' || *p == 'z') {
        off_min = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (parse_digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (parse_digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        off_min = sign * (oh * 60 + om);
    } else {
        return -1; /* an offset is mandatory: local time is ambiguous */
    }
    if (*p != '\0')
        return -1;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || sec > 60)
        return -1;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *out = t - (int64_t)off_min * 60;
    return 0;
}

void iso8601_format_local(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    int off = (int)(tm.tm_gmtoff / 60);
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    snprintf(out + n, 32 - n, "%c%02d:%02d", sign, (off / 60) % 100, off % 60);
}

void iso8601_format_utc(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int duration_parse_ms(const char *s, int64_t *out_ms)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || v > 100ULL * 365 * 86400 * 1000)
        return -1;
    int64_t mul;
    if (*end == '\0' || strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "m") == 0)
        mul = 60 * 1000;
    else if (strcmp(end, "h") == 0)
        mul = 3600 * 1000;
    else if (strcmp(end, "d") == 0)
        mul = 86400 * 1000;
    else
        return -1;
    if (mul > 1 && v > (unsigned long long)(100LL * 365 * 86400 * 1000) / (unsigned long long)mul)
        return -1;
    *out_ms = (int64_t)v * mul;
    return 0;
}

int tz_valid(const char *zone)
{
    /* Reject names that could escape the zoneinfo tree. */
    if (!zone || !*zone || zone[0] == '/' || strstr(zone, ".."))
        return 0;
    if (strcmp(zone, "UTC") == 0)
        return 1;
    /* A directory ("Asia") or a data file ("zone.tab") would make the C
     * library fall back to UTC silently: require a real TZif file. */
    char path[512];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char magic[4] = {0};
    struct stat st;
    int ok = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
             fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok;
}

int tz_set(const char *zone)
{
    if (!tz_valid(zone))
        return -1;
    setenv("TZ", zone, 1);
    tzset();
    return 0;
}

/* ---- crypto --------------------------------------------------------- */

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    to_hex(md, 32, out);
}

void hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), key, (int)keylen, msg, n, md, &mdlen);
    to_hex(md, 32, out);
}

int ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

uint64_t rand_u64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
        /* getrandom on Linux >= 3.17 does not fail for 8 bytes once the
         * pool is initialised; fall back to the clock rather than abort. */
        v = (uint64_t)clock_mono_ms() * 0x9E3779B97F4A7C15ULL;
    }
    return v;
}

/* ---- text ----------------------------------------------------------- */

size_t utf8_seq(const unsigned char *p, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = p[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

int utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

size_t text_one_line_clip(char *s, size_t maxchars)
{
    static const char ellipsis[] = "\xE2\x80\xA6"; /* U+2026 */
    size_t len = strlen(s), in = 0, out = 0, chars = 0, cut = 0, cut_chars = 0;
    unsigned char *p = (unsigned char *)s;
    while (in < len && p[in] == ' ')
        in++;
    while (in < len) {
        size_t k = utf8_seq(p + in, len - in);
        if (k == 0)
            break; /* invalid or truncated: the text ends here */
        uint32_t cp = k == 1 ? p[in] : k == 2 ? ((p[in] & 0x1Fu) << 6) | (p[in + 1] & 0x3Fu) : 0x100;
        if (chars == maxchars - 1) {
            cut = out; /* room for the ellipsis from here on */
            cut_chars = chars;
        }
        if (chars == maxchars) {
            memcpy(p + cut, ellipsis, sizeof ellipsis - 1);
            out = cut + sizeof ellipsis - 1;
            chars = cut_chars + 1;
            p[out] = '\0';
            return chars;
        }
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
            if (out > 0 && p[out - 1] != ' ')
                p[out++] = ' ', chars++;
            in += k;
            continue;
        }
        memmove(p + out, p + in, k);
        out += k;
        in += k;
        chars++;
    }
    while (out > 0 && p[out - 1] == ' ')
        out--, chars--;
    p[out] = '\0';
    return chars;
}

int ascii_printable(const char *s)
{
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f)
            return 0;
    return 1;
}

int mobile_normalize(const char *s, char norm[12])
{
    if (!s)
        return 0;
    if (strncmp(s, "+86", 3) == 0)
        s += 3;
    else if (strlen(s) == 13 && strncmp(s, "86", 2) == 0)
        s += 2;
    if (strlen(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9')
        return 0;
    for (int i = 0; i < 11; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    memcpy(norm, s, 11);
    norm[11] = '\0';
    return 1;
}
