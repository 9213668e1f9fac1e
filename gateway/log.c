/*
 * log.c - leveled logging to stderr with UTC millisecond timestamps.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum log_level log_min_level = LOG_LVL_INFO;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

int log_level_parse(const char *s, enum log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_write(enum log_level lvl, const char *tag, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, level_names[lvl], tag);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    /* One write per line keeps lines whole when several processes share
     * the file; newlines inside the message would forge log lines. */
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
    fflush(stderr);
}

const char *log_mask_phone(const char *phone, char out[24])
{
    char digits[24];
    size_t nd = 0;
    if (phone) {
        for (const char *p = phone; *p && nd < sizeof digits - 1; p++)
            if (*p >= '0' && *p <= '9')
                digits[nd++] = *p;
    }
    digits[nd] = '\0';
    if (nd < 11) {
        /* Not a mobile number: the 3+4 pattern would show (almost) all of it. */
        strcpy(out, "***");
        return out;
    }
    /* Keep the last 11 digits (drops a +86 country code). */
    const char *d = nd > 11 ? digits + nd - 11 : digits;
    size_t dl = strlen(d);
    snprintf(out, 24, "%.3s****%s", d, d + dl - 4);
    return out;
}
