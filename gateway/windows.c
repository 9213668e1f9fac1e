/*
 * windows.c - send windows: span parsing, membership and "next opening"
 * searches in the process's local time zone.
 *
 * How local time is handled
 * -------------------------
 * For an instant u let off(u) be the zone's UTC offset at u (tm_gmtoff from
 * localtime_r) and L(u) = u + off(u) the "local seconds" shown by the wall
 * clock, counted from 1970-01-01 00:00 local. Between two offset changes L
 * is linear, so the instant at which the wall clock shows local second W
 * is simply W - off. The searches below walk time in segments of at most
 * one day within which the offset is constant (seg_end() finds the next
 * offset change by bisection when there is one), and solve linearly inside
 * each segment. That gives exact answers around DST changes without ever
 * stepping minute by minute and without relying on how mktime() treats
 * local times that do not exist or exist twice (implementation-defined
 * with tm_isdst = -1):
 *   - a span opening inside a spring-forward gap is never crossed by the
 *     wall clock; the window opens at the segment start after the gap
 *     (window_contains() is true there), i.e. the opening moves forward;
 *   - on a fall-back day the wall clock passes a repeated time twice and
 *     the window is open both times.
 * Assumption: a zone changes its offset at most once within any 24 hours.
 */
#include "windows.h"

#include <string.h>

#include <time.h>

#define WIN_DAY 86400
#define WIN_MIN_PER_DAY 1440
#define WIN_SEARCH_DAYS 400

/* ======================================================================
 * Local-time primitives
 * ====================================================================== */

static int64_t win_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* localtime_r on an int64 instant. 0, or -1 if out of range. */
static int win_localtime(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    if ((int64_t)tt != t || !localtime_r(&tt, tm))
        return -1;
    return 0;
}

/* UTC offset of the local zone at @u, in seconds east of UTC. */
static int64_t win_off(int64_t u)
{
    struct tm tm;
    return win_localtime(u, &tm) == 0 ? (int64_t)tm.tm_gmtoff : 0;
}

/* Local day number (days since 1970-01-01 local) of a local second. */
static int64_t win_day_of(int64_t local_sec)
{
    return win_floordiv(local_sec, WIN_DAY);
}

/* Civil date of day number @n (Howard Hinnant's civil_from_days). */
static void win_civil(int64_t n, int *y, int *m, int *d)
{
    n += 719468;
    int64_t era = (n >= 0 ? n : n - 146096) / 146097;
    int64_t doe = n - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

/*
 * End (exclusive) of the constant-offset segment starting at @a, capped
 * at one day: the first instant in (a, a + 1 day] whose offset differs
 * from off(a), or a + 1 day when off(a + 1 day) == off(a).
 */
static int64_t win_seg_end(int64_t a)
{
    if (a > INT64_MAX - WIN_DAY)
        return INT64_MAX;
    int64_t o = win_off(a), lo = a, hi = a + WIN_DAY;
    if (win_off(hi) == o)
        return hi;
    while (hi - lo > 1) { /* invariant: off(lo) == o, off(hi) != o */
        int64_t mid = lo + (hi - lo) / 2;
        if (win_off(mid) == o)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/*
 * The first instant u at which the wall clock shows local second @w or
 * later (L(u) >= w). If @w falls in a spring-forward gap this is the end
 * of the gap; if it exists twice, the earlier instant.
 */
static int64_t win_first_wall(int64_t w)
{
    /* No zone is 26 h or more ahead of UTC, so L(a) < w here. */
    int64_t a = w - 26 * 3600;
    for (int i = 0; i < 8; i++) {
        int64_t o = win_off(a);
        if (a + o >= w)
            return a; /* jumped over w at an offset change */
        int64_t b = win_seg_end(a);
        if (w - o < b)
            return w - o;
        a = b;
    }
    return w - win_off(w); /* unreachable for real zones */
}

/*
 * Index of the span of @w containing minute @min of a day, or -1.
 * Reads at most WINDOW_MAX_SPANS spans whatever nspans says.
 */
static int win_span_at(const struct window_def *w, int min)
{
    int n = w->nspans < WINDOW_MAX_SPANS ? w->nspans : WINDOW_MAX_SPANS;
    for (int i = 0; i < n; i++)
        if (w->spans[i].start_min <= min && min < w->spans[i].end_min)
            return i;
    return -1;
}

static int win_day_allowed(const struct window_def *w, const struct calendar *cal, int y, int m,
                           int d)
{
    return !w->workdays_only || calendar_is_workday(cal, y, m, d, NULL);
}

/*
 * If @t is inside a span of @w on an allowed day, return that span's index
 * and set *day (local day number of @t); else -1.
 */
static int win_locate(const struct window_def *w, const struct calendar *cal, int64_t t,
                      int64_t *day)
{
    struct tm tm;
    if (win_localtime(t, &tm) != 0)
        return -1;
    if (!win_day_allowed(w, cal, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday))
        return -1;
    int i = win_span_at(w, tm.tm_hour * 60 + tm.tm_min);
    if (i >= 0)
        *day = win_day_of(t + (int64_t)tm.tm_gmtoff);
    return i;
}

/* ======================================================================
 * Spans
 * ====================================================================== */

/* Two digits at @s into *out. 0 or -1. */
static int win_two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

/* "HH:MM" at @s into minutes; @is_end allows "24:00". 0 or -1. */
static int win_parse_hhmm(const char *s, int is_end, int *out)
{
    int h, m;
    if (win_two_digits(s, &h) != 0 || s[2] != ':' || win_two_digits(s + 3, &m) != 0)
        return -1;
    if (m > 59 || h > 24 || (h == 24 && (!is_end || m != 0)))
        return -1;
    *out = h * 60 + m;
    return 0;
}

int window_parse_span(const char *s, int *start_min, int *end_min)
{
    int a, b;
    if (!s)
        return -1;
    /* exactly 11 characters; never read past a shorter string's NUL */
    for (int i = 0; i < 11; i++)
        if (s[i] == '\0')
            return -1;
    if (s[11] != '\0' || s[5] != '-')
        return -1;
    if (win_parse_hhmm(s, 0, &a) != 0 || win_parse_hhmm(s + 6, 1, &b) != 0 || b <= a)
        return -1;
    *start_min = a;
    *end_min = b;
    return 0;
}

int window_parse_list(const char *s, struct window_def *w)
{
    struct window_def tmp = {0};
    char span[12];
    while (s && *s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        int a, b;
        if (n != 11)
            return -1;
        memcpy(span, s, 11);
        span[11] = '\0';
        if (window_parse_span(span, &a, &b) || window_add_span(&tmp, a, b))
            return -1;
        s = comma ? comma + 1 : s + n;
        if (comma && !*s)
            return -1; /* a trailing comma */
    }
    if (tmp.nspans == 0)
        return -1;
    *w = tmp;
    return 0;
}

int window_add_span(struct window_def *w, int start_min, int end_min)
{
    if (!w || w->nspans < 0 || w->nspans >= WINDOW_MAX_SPANS)
        return -1;
    if (start_min < 0 || end_min > WIN_MIN_PER_DAY || start_min >= end_min)
        return -1;
    int pos = 0;
    while (pos < w->nspans && w->spans[pos].start_min < start_min)
        pos++;
    if (pos > 0 && w->spans[pos - 1].end_min > start_min)
        return -1; /* overlaps the previous span */
    if (pos < w->nspans && w->spans[pos].start_min < end_min)
        return -1; /* overlaps the next span */
    for (int i = w->nspans; i > pos; i--)
        w->spans[i] = w->spans[i - 1];
    w->spans[pos].start_min = start_min;
    w->spans[pos].end_min = end_min;
    w->nspans++;
    return 0;
}

/* ======================================================================
 * Membership and searches
 * ====================================================================== */

int window_contains(const struct window_def *w, const struct calendar *cal, int64_t t)
{
    int64_t day;
    if (!w)
        return 0;
    if (w->any_time)
        return 1;
    return win_locate(w, cal, t, &day) >= 0;
}

int64_t window_next_open(const struct window_def *w, const struct calendar *cal, int64_t t)
{
    if (!w)
        return -1;
    if (w->any_time)
        return t;
    int n = w->nspans < WINDOW_MAX_SPANS ? w->nspans : WINDOW_MAX_SPANS;
    /* cppcheck-suppress knownConditionTrueFalse ; false positive: nspans is 0..WINDOW_MAX_SPANS */
    if (n <= 0)
        return -1;

    if (t > INT64_MAX - (int64_t)WIN_SEARCH_DAYS * WIN_DAY)
        return -1; /* far beyond any zone rule; also keeps limit from overflowing */
    int64_t limit = t + (int64_t)WIN_SEARCH_DAYS * WIN_DAY;
    for (int64_t a = t; a < limit;) {
        /* Open at the start of the segment: @t itself, or the end of a
         * spring-forward gap, or a fall-back instant that re-enters. */
        if (window_contains(w, cal, a))
            return a;
        int64_t o = win_off(a), b = win_seg_end(a);
        /* Inside [a, b) the wall clock runs linearly: the window can only
         * open where it crosses a span start on an allowed day. Days and
         * spans are visited in order, so the first hit is the earliest. */
        for (int64_t day = win_day_of(a + o); day <= win_day_of(b - 1 + o); day++) {
            int y, m, d;
            win_civil(day, &y, &m, &d);
            if (!win_day_allowed(w, cal, y, m, d))
                continue;
            for (int i = 0; i < n; i++) {
                int64_t u = day * WIN_DAY + (int64_t)w->spans[i].start_min * 60 - o;
                if (u > a && u < b)
                    return u < limit ? u : -1;
            }
        }
        a = b;
    }
    return -1;
}

int64_t window_span_end(const struct window_def *w, const struct calendar *cal, int64_t t)
{
    int64_t day;
    if (!w)
        return -1;
    if (w->any_time)
        return INT64_MAX;
    int i = win_locate(w, cal, t, &day);
    if (i < 0)
        return -1;
    int64_t end_local = day * WIN_DAY + (int64_t)w->spans[i].end_min * 60;
    int64_t a = t;
    /* A span is shorter than a day, so this ends in the first segment
     * unless an offset change intervenes; a few rounds always suffice. */
    for (int round = 0; round < 8; round++) {
        int64_t o = win_off(a), b = win_seg_end(a);
        if (end_local - o < b)
            return end_local - o;
        /* Offset change at b: still in the same span on the same day? */
        int64_t day_b;
        if (win_locate(w, cal, b, &day_b) != i || day_b != day)
            return b;
        a = b;
    }
    return a;
}

int64_t local_day_start(int64_t t, int days)
{
    int64_t day = win_day_of(t + win_off(t)) + days;
    return win_first_wall(day * WIN_DAY);
}

int64_t local_date_start(int y, int m, int d)
{
    /* Howard Hinnant's days_from_civil, the inverse of win_civil. */
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return win_first_wall((era * 146097 + doe - 719468) * WIN_DAY);
}

void local_date(int64_t t, int *y, int *m, int *d)
{
    win_civil(win_day_of(t + win_off(t)), y, m, d);
}
