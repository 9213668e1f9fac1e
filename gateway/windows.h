/*
 * windows.h - send windows: when a message of a given kind may go out
 * (SPEC section 4).
 *
 *   surveys   10:30-11:40 and 15:00-18:00 on working days (workdays_only)
 *   notices   08:00-21:00 on any day
 *   alerts    any time (any_time)
 *
 * Spans are wall-clock minutes of the process's local time zone (TZ; the
 * daemon calls tz_set() at start, default Asia/Shanghai). All instants in
 * and out are UTC epoch seconds. Time-zone rules come from the system's
 * zoneinfo through localtime_r(), so any zone works, including ones with
 * daylight saving time:
 *   - a local time that does not exist on a spring-forward day moves
 *     forward to the first instant after the gap;
 *   - a local time that exists twice on a fall-back day means both
 *     instants (the window is read off the wall clock).
 * Searches jump day by day (at most 400 days), never minute by minute.
 *
 * All functions are pure computations (no I/O, no allocation) and may be
 * called from any loop callback. They read the process time zone, so
 * change it (tz_set) only at start-up.
 */
#ifndef HF_WINDOWS_H
#define HF_WINDOWS_H

#include <stdint.h>

#include "calendar.h"

#define WINDOW_MAX_SPANS 8

struct window_def {
    int nspans;                       /* 0 with any_time=1 means always open */
    struct { int start_min, end_min; } spans[WINDOW_MAX_SPANS]; /* minutes after local midnight, [start, end), sorted, non-overlapping */
    int workdays_only;                /* 1: only on working days of the calendar (surveys) */
    int any_time;                     /* 1: always open (staff alerts) */
};

/*
 * Parse a span "HH:MM-HH:MM", e.g. "10:30-11:40": exactly two digits per
 * field, hours 00-23, minutes 00-59, except that the end may be "24:00"
 * (midnight at the end of the day). The end must be after the start;
 * spans across midnight are written as two spans.
 * On success returns 0 and sets *start_min / *end_min (minutes after
 * local midnight, end exclusive); on error returns -1 and leaves them
 * untouched.
 */
int window_parse_span(const char *s, int *start_min, int *end_min);

/*
 * Parse a list of spans "HH:MM-HH:MM[,HH:MM-HH:MM...]" (a customer's
 * preferred contact time) into @w (spans only: the caller sets
 * workdays_only). Returns 0, or -1 (and leaves @w untouched) when a span
 * is malformed, they overlap, or there are none or more than
 * WINDOW_MAX_SPANS.
 */
int window_parse_list(const char *s, struct window_def *w);

/*
 * Add the span [@start_min, @end_min) to @w, keeping spans sorted.
 * Accepts 0 <= start < end <= 1440. Spans may touch (10:00-11:00 and
 * 11:00-12:00) but not overlap.
 * Returns 0, or -1 (and leaves @w unchanged) if @w is full
 * (WINDOW_MAX_SPANS), the span is malformed or it overlaps another.
 */
int window_add_span(struct window_def *w, int start_min, int end_min);

/*
 * 1 if the UTC instant @t lies inside window @w, read in the process's
 * local time zone, else 0. An any_time window always contains @t; a
 * window with no spans (and not any_time) never does. With workdays_only
 * the local date of @t must be a working day of @cal (@cal may be NULL:
 * then Mon-Fri are working days). Borrows @w and @cal.
 */
int window_contains(const struct window_def *w, const struct calendar *cal, int64_t t);

/*
 * The first instant >= @t (UTC epoch seconds) inside window @w: @t itself
 * if it is inside, else the next span opening on an allowed day (on a
 * spring-forward day, an opening that falls in the gap moves to the end
 * of the gap). Returns -1 if there is none within 400 days (e.g. a window
 * with no spans). @cal may be NULL (then Mon-Fri are working days).
 * Borrows @w and @cal.
 */
int64_t window_next_open(const struct window_def *w, const struct calendar *cal, int64_t t);

/*
 * The end (exclusive, UTC epoch seconds) of the span that contains @t:
 * the first instant after @t at which the wall clock leaves that span.
 * A span that reaches 24:00 ends at the next local midnight, even when
 * another span starts there. Returns -1 if @t is not inside @w, and
 * INT64_MAX for an any_time window (it never closes).
 * Borrows @w and @cal.
 */
int64_t window_span_end(const struct window_def *w, const struct calendar *cal, int64_t t);

/*
 * UTC instant of local midnight of the local date of @t plus @days days
 * (@days may be negative). If midnight does not exist that day (a DST
 * change at 00:00), the first instant of that local date.
 */
int64_t local_day_start(int64_t t, int days);

/* UTC instant of local midnight of the date @y-@m-@d (same DST rule). */
int64_t local_date_start(int y, int m, int d);

/* Local calendar date of the UTC instant @t in the process time zone. */
void local_date(int64_t t, int *y, int *m, int *d);

#endif
