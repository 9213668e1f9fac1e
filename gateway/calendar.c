/*
 * calendar.c - holiday calendar: strict loader for config/holidays-cn.json
 * and working-day lookups.
 *
 * Representation: one entry per covered year, each with a 366-byte map
 * (day of year -> default / holiday / make-up workday). Lookups are a
 * binary search over a handful of years plus an array index.
 */
#include "calendar.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

/* A calendar file is a few KiB; refuse anything absurd before reading. */
#define CALENDAR_MAX_FILE (1024 * 1024)

enum calendar_kind {
    CAL_DEFAULT = 0, /* weekday rule: Mon-Fri work, Sat/Sun rest */
    CAL_HOLIDAY = 1, /* listed holiday: rest */
    CAL_WORKDAY = 2, /* listed make-up working day (调休): work */
};

struct calendar_year {
    int year;                /* e.g. 2026 */
    unsigned char day[366];  /* enum calendar_kind, by day of year (0 = Jan 1) */
};

struct calendar {
    int nyears;                   /* number of covered years */
    struct calendar_year *years;  /* sorted by year, ascending, no duplicates */
};

/* ======================================================================
 * Date arithmetic (proleptic Gregorian, independent of the process TZ)
 * ====================================================================== */

static int cal_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int cal_days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && cal_is_leap(y) ? 29 : dm[m - 1];
}

static int cal_valid_date(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= cal_days_in_month(y, m);
}

/* Days since 1970-01-01 (Howard Hinnant's days_from_civil). */
static long cal_days_from_civil(int y, int m, int d)
{
    long yy = y - (m <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* 0-based day of the year of a valid date. */
static int cal_day_of_year(int y, int m, int d)
{
    return (int)(cal_days_from_civil(y, m, d) - cal_days_from_civil(y, 1, 1));
}

/* 0 = Sunday ... 6 = Saturday. */
static int cal_weekday(int y, int m, int d)
{
    long n = cal_days_from_civil(y, m, d);
    long w = (n + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

/* ======================================================================
 * Lookups
 * ====================================================================== */

static const struct calendar_year *cal_find_year(const struct calendar *c, int y)
{
    if (!c)
        return NULL;
    int lo = 0, hi = c->nyears - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (c->years[mid].year == y)
            return &c->years[mid];
        if (c->years[mid].year < y)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

int calendar_is_workday(const struct calendar *c, int y, int m, int d, int *covered)
{
    if (covered)
        *covered = 0;
    if (!cal_valid_date(y, m, d))
        return 0;
    const struct calendar_year *cy = cal_find_year(c, y);
    if (cy) {
        if (covered)
            *covered = 1;
        switch (cy->day[cal_day_of_year(y, m, d)]) {
        case CAL_HOLIDAY: return 0;
        case CAL_WORKDAY: return 1;
        default: break;
        }
    }
    int wd = cal_weekday(y, m, d);
    return wd != 0 && wd != 6;
}

int calendar_days_covered(const struct calendar *c, int y, int m, int d)
{
    if (!cal_valid_date(y, m, d) || !cal_find_year(c, y))
        return 0;
    int n = (cal_is_leap(y) ? 366 : 365) - cal_day_of_year(y, m, d);
    for (int yy = y + 1; cal_find_year(c, yy); yy++)
        n += cal_is_leap(yy) ? 366 : 365;
    return n;
}

int calendar_last_year(const struct calendar *c)
{
    return c && c->nyears > 0 ? c->years[c->nyears - 1].year : 0;
}

void calendar_free(struct calendar *c)
{
    if (!c)
        return;
    free(c->years);
    free(c);
}

/* ======================================================================
 * Loading and validation
 * ====================================================================== */

/* State of one calendar_load() call; only the first error is kept. */
struct cal_load {
    const char *path;  /* file name, for messages */
    char *err;         /* caller's buffer */
    size_t errlen;     /* its size */
};

static void cal_fail(struct cal_load *lc, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write "path: key: reason" (or "path: reason" when @key is NULL). */
static void cal_fail(struct cal_load *lc, const char *key, const char *fmt, ...)
{
    if (!lc->err || lc->errlen == 0)
        return;
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (key)
        snprintf(lc->err, lc->errlen, "%s: %s: %s", lc->path, key, reason);
    else
        snprintf(lc->err, lc->errlen, "%s: %s", lc->path, reason);
}

/* Copy an untrusted string for an error message: at most ~40 bytes, cut
 * on a UTF-8 boundary, control characters and quotes replaced by '?'. */
static void cal_sanitize(const char *s, char out[64])
{
    size_t n = strlen(s), max = 40, i;
    int cut = n > max;
    if (cut) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = (ch < 0x20 || ch == 0x7f || ch == '\'') ? '?' : (char)ch;
    }
    if (cut) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

/* snprintf for key paths: a path longer than the buffer is cut, which is
 * fine for a message (and keeps -Wformat-truncation quiet). */
static void cal_keyf(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cal_keyf(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
}

/* @base + "." + @name into @out (just @name when @base is empty). */
static void cal_path(char *out, size_t n, const char *base, const char *name)
{
    char safe[64];
    cal_sanitize(name, safe);
    if (base[0])
        cal_keyf(out, n, "%s.%s", base, safe);
    else
        cal_keyf(out, n, "%s", safe);
}

/*
 * Check the members of object @obj (at key path @base) against the
 * NULL-terminated list @allowed: unknown and duplicate keys are errors.
 * 0 or -1.
 */
static int cal_check_keys(struct cal_load *lc, const cJSON *obj, const char *base,
                          const char *const *allowed)
{
    char key[160];
    for (const cJSON *it = obj->child; it; it = it->next) {
        int known = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(it->string, *a) == 0)
                known = 1;
        cal_path(key, sizeof key, base, it->string);
        if (!known) {
            cal_fail(lc, key, "unknown key");
            return -1;
        }
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next) {
            if (strcmp(prev->string, it->string) == 0) {
                cal_fail(lc, key, "duplicate key");
                return -1;
            }
        }
    }
    return 0;
}

/*
 * Fetch the string member @name of @obj. Missing: -1 with an error when
 * @required, else 0 with *out = NULL. Wrong type or empty: -1.
 */
static int cal_get_string(struct cal_load *lc, const cJSON *obj, const char *base,
                          const char *name, int required, const char **out)
{
    char key[160];
    cal_path(key, sizeof key, base, name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!v) {
        if (required) {
            cal_fail(lc, key, "missing");
            return -1;
        }
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        cal_fail(lc, key, "not a string");
        return -1;
    }
    if (!v->valuestring[0]) {
        cal_fail(lc, key, "empty");
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

/*
 * Fetch the required date member @name of @obj and check that it lies in
 * @year. Writes its 0-based day of year to *doy and the text to *text.
 * 0 or -1.
 */
static int cal_get_date(struct cal_load *lc, const cJSON *obj, const char *base,
                        const char *name, int year, int *doy, const char **text)
{
    char key[160];
    int y, m, d;
    if (cal_get_string(lc, obj, base, name, 1, text) != 0)
        return -1;
    cal_path(key, sizeof key, base, name);
    if (date_parse(*text, &y, &m, &d) != 0) {
        char safe[64];
        cal_sanitize(*text, safe);
        cal_fail(lc, key, "not a date: '%s'", safe);
        return -1;
    }
    if (y != year) {
        cal_fail(lc, key, "%s is not in %d", *text, year);
        return -1;
    }
    *doy = cal_day_of_year(y, m, d);
    return 0;
}

/* Parse "YYYY" (exactly four digits, 1970-9999). 0 or -1. */
static int cal_parse_year(const char *s, int *out)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (s[4] != '\0' || v < 1970)
        return -1;
    *out = v;
    return 0;
}

/*
 * Fill @cy from the object @yobj of year @year (key path @base).
 * Holidays are applied before workdays whatever their order in the file,
 * so the "both holiday and workday" check sees every holiday. 0 or -1.
 */
static int cal_parse_year_obj(struct cal_load *lc, const cJSON *yobj, const char *base,
                              int year, struct calendar_year *cy)
{
    static const char *const year_keys[] = {"holidays", "workdays", NULL};
    static const char *const holiday_keys[] = {"name", "from", "to", NULL};
    static const char *const workday_keys[] = {"name", "date", NULL};
    short owner[366]; /* index of the holiday or workday that set each day */
    char key[160], item[160];

    if (!cJSON_IsObject(yobj)) {
        cal_fail(lc, base, "not an object");
        return -1;
    }
    if (cal_check_keys(lc, yobj, base, year_keys) != 0)
        return -1;
    cy->year = year;
    memset(cy->day, CAL_DEFAULT, sizeof cy->day);

    const cJSON *hol = cJSON_GetObjectItemCaseSensitive(yobj, "holidays");
    cal_path(key, sizeof key, base, "holidays");
    if (hol && !cJSON_IsArray(hol)) {
        cal_fail(lc, key, "not an array");
        return -1;
    }
    int i = 0;
    for (const cJSON *h = hol ? hol->child : NULL; h; h = h->next, i++) {
        const char *name, *from_s, *to_s;
        int from, to;
        cal_keyf(item, sizeof item, "%s[%d]", key, i);
        if (!cJSON_IsObject(h)) {
            cal_fail(lc, item, "not an object");
            return -1;
        }
        if (cal_check_keys(lc, h, item, holiday_keys) != 0 ||
            cal_get_string(lc, h, item, "name", 1, &name) != 0 ||
            cal_get_date(lc, h, item, "from", year, &from, &from_s) != 0 ||
            cal_get_date(lc, h, item, "to", year, &to, &to_s) != 0)
            return -1;
        if (from > to) {
            char tokey[176];
            cal_keyf(tokey, sizeof tokey, "%s.to", item);
            cal_fail(lc, tokey, "%s is before from %s", to_s, from_s);
            return -1;
        }
        for (int dd = from; dd <= to; dd++) {
            if (cy->day[dd] == CAL_HOLIDAY) {
                cal_fail(lc, item, "overlaps %s[%d]", key, owner[dd]);
                return -1;
            }
            cy->day[dd] = CAL_HOLIDAY;
            owner[dd] = (short)i;
        }
    }

    const cJSON *wk = cJSON_GetObjectItemCaseSensitive(yobj, "workdays");
    cal_path(key, sizeof key, base, "workdays");
    if (wk && !cJSON_IsArray(wk)) {
        cal_fail(lc, key, "not an array");
        return -1;
    }
    i = 0;
    for (const cJSON *w = wk ? wk->child : NULL; w; w = w->next, i++) {
        const char *name, *date_s;
        int dd;
        char datekey[176];
        cal_keyf(item, sizeof item, "%s[%d]", key, i);
        if (!cJSON_IsObject(w)) {
            cal_fail(lc, item, "not an object");
            return -1;
        }
        if (cal_check_keys(lc, w, item, workday_keys) != 0 ||
            cal_get_string(lc, w, item, "name", 1, &name) != 0 ||
            cal_get_date(lc, w, item, "date", year, &dd, &date_s) != 0)
            return -1;
        cal_keyf(datekey, sizeof datekey, "%s.date", item);
        if (cy->day[dd] == CAL_HOLIDAY) {
            const cJSON *hn = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetArrayItem(hol, owner[dd]), "name");
            char safe[64];
            cal_sanitize(hn->valuestring, safe); /* validated above */
            cal_fail(lc, datekey, "%s is also a holiday (%s.holidays[%d] %s)", date_s, base,
                     owner[dd], safe);
            return -1;
        }
        if (cy->day[dd] == CAL_WORKDAY) {
            cal_fail(lc, datekey, "%s is listed twice (also %s[%d])", date_s, key, owner[dd]);
            return -1;
        }
        cy->day[dd] = CAL_WORKDAY;
        owner[dd] = (short)i;
    }
    return 0;
}

static int cal_year_cmp(const void *a, const void *b)
{
    const struct calendar_year *x = a, *y = b;
    return (x->year > y->year) - (x->year < y->year);
}

/* Validate the parsed document @root into a new calendar, or NULL. */
static struct calendar *cal_from_json(struct cal_load *lc, const cJSON *root)
{
    static const char *const top_keys[] = {"country", "source", "years", NULL};
    const char *s;

    if (!cJSON_IsObject(root)) {
        cal_fail(lc, NULL, "top level is not a JSON object");
        return NULL;
    }
    if (cal_check_keys(lc, root, "", top_keys) != 0 ||
        cal_get_string(lc, root, "", "country", 0, &s) != 0 ||
        cal_get_string(lc, root, "", "source", 0, &s) != 0)
        return NULL;
    const cJSON *years = cJSON_GetObjectItemCaseSensitive(root, "years");
    if (!years) {
        cal_fail(lc, "years", "missing");
        return NULL;
    }
    if (!cJSON_IsObject(years)) {
        cal_fail(lc, "years", "not an object");
        return NULL;
    }
    /* The keys of "years" are the years themselves: checked one by one
     * below (format, duplicates) instead of against a fixed list. */
    struct calendar *c = xcalloc(1, sizeof *c);
    int n = cJSON_GetArraySize(years);
    c->years = xcalloc((size_t)(n > 0 ? n : 1), sizeof *c->years);
    char key[160];
    for (const cJSON *y = years->child; y; y = y->next) {
        int year;
        cal_path(key, sizeof key, "years", y->string);
        if (cal_parse_year(y->string, &year) != 0) {
            cal_fail(lc, key, "not a year (expected YYYY)");
            goto fail;
        }
        for (int k = 0; k < c->nyears; k++) {
            if (c->years[k].year == year) {
                cal_fail(lc, key, "duplicate key");
                goto fail;
            }
        }
        if (cal_parse_year_obj(lc, y, key, year, &c->years[c->nyears]) != 0)
            goto fail;
        c->nyears++;
    }
    qsort(c->years, (size_t)c->nyears, sizeof *c->years, cal_year_cmp);
    return c;
fail:
    calendar_free(c);
    return NULL;
}

/* Read the whole file into a new NUL-terminated buffer, or NULL. */
static char *cal_read_file(struct cal_load *lc, size_t *len)
{
    char *data = NULL;
    FILE *f = fopen(lc->path, "rb");
    if (!f) {
        cal_fail(lc, NULL, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        cal_fail(lc, NULL, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        cal_fail(lc, NULL, "not a regular file");
        goto out;
    }
    if (st.st_size > CALENDAR_MAX_FILE) {
        cal_fail(lc, NULL, "file too large (%lld bytes, limit %d)", (long long)st.st_size,
                 CALENDAR_MAX_FILE);
        goto out;
    }
    data = xmalloc((size_t)st.st_size + 1);
    *len = fread(data, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        cal_fail(lc, NULL, "read error: %s", strerror(errno));
        free(data);
        data = NULL;
        goto out;
    }
    data[*len] = '\0';
out:
    fclose(f);
    return data;
}

struct calendar *calendar_load(const char *path, char *err, size_t errlen)
{
    struct cal_load lc = {path, err, errlen};
    struct calendar *c = NULL;
    cJSON *root = NULL;
    size_t len = 0;

    if (err && errlen)
        err[0] = '\0';
    char *data = cal_read_file(&lc, &len);
    if (!data)
        return NULL;
    if (!utf8_valid(data, len) || memchr(data, '\0', len)) {
        cal_fail(&lc, NULL, "not valid UTF-8 text");
        goto out;
    }
    const char *end = NULL;
    /* Length includes the terminating NUL: with require_null_terminated
     * cJSON wants to see it, which rejects trailing garbage. */
    root = cJSON_ParseWithLengthOpts(data, len + 1, &end, 1);
    if (!root) {
        int line = 1;
        for (const char *p = data; end && p < end && *p; p++)
            line += *p == '\n';
        cal_fail(&lc, NULL, "line %d: not valid JSON", line);
        goto out;
    }
    c = cal_from_json(&lc, root);
out:
    cJSON_Delete(root);
    free(data);
    return c;
}
