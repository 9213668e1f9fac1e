/*
 * calendar.h - the public-holiday calendar: which local dates are working
 * days (SPEC section 4).
 *
 * The calendar is loaded from a JSON file in config/ (holidays-cn.json):
 *
 *   {
 *     "country": "CN",
 *     "source": "<the notice the dates come from>",
 *     "years": {
 *       "2026": {
 *         "holidays": [ {"name": "元旦", "from": "2026-01-01", "to": "2026-01-03"} ],
 *         "workdays": [ {"name": "元旦调休", "date": "2026-01-04"} ]
 *       }
 *     }
 *   }
 *
 * "years" is required; "country" and "source" are optional strings; in a
 * year both arrays are optional. Every holiday needs "name", "from" and
 * "to", every workday "name" and "date" (strict YYYY-MM-DD, inside the
 * year that lists it). The keys of "years" are the covered years: a year
 * listed with no holidays is still covered (its weekends rest, its
 * weekdays work).
 *
 * Outside the covered years the calendar falls back to Mon-Fri work,
 * Sat/Sun rest, and says so through the @covered out-parameter, so the
 * daemon can warn the operator to update the file.
 *
 * A loaded calendar is immutable: it may be shared and read from any loop
 * callback. Leaf-ish module: depends on util and log only.
 */
#ifndef HF_CALENDAR_H
#define HF_CALENDAR_H

#include <stddef.h>

struct calendar; /* opaque */

/*
 * Load and validate the holiday calendar JSON file at @path.
 *
 * Validation is strict: not JSON or not UTF-8, unknown or duplicate keys,
 * wrong types, missing keys, empty names, dates that are not real
 * calendar dates, "from" after "to", dates outside the year that lists
 * them, overlapping holiday ranges, a workday listed twice, and a date
 * that is both a holiday and a workday are all errors.
 *
 * On error returns NULL and writes one line naming the file, the key path
 * and the reason into @err (at most @errlen bytes, always NUL-terminated
 * when @errlen > 0), e.g.
 *   "config/holidays-cn.json: years.2026.holidays[2].to: not a date: '2026-02-30'"
 * @err may be NULL when @errlen is 0.
 *
 * Does blocking file I/O: call at start-up or on reload, not from a hot
 * loop callback.
 *
 * Caller owns the result; free with calendar_free().
 */
struct calendar *calendar_load(const char *path, char *err, size_t errlen);

/* Free a calendar from calendar_load(). NULL is a no-op. */
void calendar_free(struct calendar *c);

/*
 * 1 if the local calendar date @y-@m-@d is a working day, else 0.
 *
 * In years the file covers: listed holidays rest, listed make-up working
 * days (调休) work, otherwise Mon-Fri work and Sat/Sun rest. In years it
 * does not cover (or when @c is NULL): Mon-Fri work, Sat/Sun rest.
 *
 * @covered, if non-NULL, gets 1 when the year is covered by the file and
 * 0 when the answer is only the weekday fallback. An invalid date (e.g.
 * 2026-02-30) returns 0 with *covered = 0.
 *
 * Borrows @c. Pure lookup: safe from any loop callback.
 */
int calendar_is_workday(const struct calendar *c, int y, int m, int d, int *covered);

/*
 * Number of consecutive days, starting at @y-@m-@d inclusive, that the
 * file covers: the rest of that year, plus every following year as long as
 * it is listed too. 0 if that year is not covered, @c is NULL or the date
 * is invalid. The daemon warns while this is below 60 for today.
 *
 * Borrows @c.
 */
int calendar_days_covered(const struct calendar *c, int y, int m, int d);

/* The last (highest) covered year, 0 if none or @c is NULL. Borrows @c. */
int calendar_last_year(const struct calendar *c);

#endif
