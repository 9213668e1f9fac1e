/*
 * ratelimit.h - our own send limits, so the providers' limits are never the
 * ones that bite: a token bucket per provider (requests per second) and
 * per-mobile-number windows for SMS (per minute / hour / day).
 *
 * A limited message is not dropped: the caller learns when it may go and
 * reschedules it (inside its send window). State is in memory; after a
 * restart a provider's own limit (isv.BUSINESS_LIMIT_CONTROL,
 * LimitExceeded.*) still defers rather than fails.
 *
 * Leaf module.
 */
#ifndef HF_RATELIMIT_H
#define HF_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

/* A token bucket: @rate tokens per second, at most @rate in the bucket. */
struct bucket {
    double tokens;
    double rate;
    int64_t last_ms;   /* monotonic */
};

void bucket_init(struct bucket *b, double rate, int64_t now_ms);
/* Take one token: 0 if it was there, else the milliseconds until one is. */
int64_t bucket_take(struct bucket *b, int64_t now_ms);

struct number_limits;

/* Limits per number: at most @per_minute in 60 s, @per_hour in 3600 s,
 * @per_day in 86400 s (0 = no limit of that kind). Caller owns the
 * result; free with number_limits_free(). */
struct number_limits *number_limits_new(int per_minute, int per_hour, int per_day);
void number_limits_free(struct number_limits *nl);
/* The earliest UTC second >= @now at which @number may get one more
 * message (@now itself when it may now). */
int64_t number_limits_next(struct number_limits *nl, const char *number, int64_t now);
/* Count one message sent to @number at @now. */
void number_limits_note(struct number_limits *nl, const char *number, int64_t now);
/* Forget sends older than a day (housekeeping). */
void number_limits_expire(struct number_limits *nl, int64_t now);
size_t number_limits_size(const struct number_limits *nl);

/*
 * Per-client-address limits on the public endpoints (survey pages,
 * provider callbacks): a token bucket per IPv4 address, @rate requests per
 * second with bursts of @burst. Brute force on survey links or on the
 * callback path secret, and floods from one address, are answered 429
 * while everyone else is served.
 *
 * An address whose bucket has refilled holds no state: the table only
 * remembers addresses seen within the last burst/rate seconds, and it is
 * bounded (IP_LIMITS_MAX addresses; beyond that new addresses are let
 * through rather than locking every customer out).
 */
struct ip_limits;

#define IP_LIMITS_MAX (1u << 20)

/* Caller owns the result; free with ip_limits_free(). @rate > 0, @burst >= 1. */
struct ip_limits *ip_limits_new(double rate, double burst);
void ip_limits_free(struct ip_limits *l);
/* Take one request for @ip (network byte order) at monotonic @now_ms:
 * 0 if it may go, else the milliseconds until it may. */
int64_t ip_limits_take(struct ip_limits *l, uint32_t ip, int64_t now_ms);
/* Addresses currently remembered. */
size_t ip_limits_size(const struct ip_limits *l);

#endif
