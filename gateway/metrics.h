/*
 * metrics.h - in-memory counters and the Prometheus text exposition.
 *
 * Counters are plain integers bumped on the loop thread; gauges that the
 * store knows better (messages by state and channel, queue depth) are read
 * from it at scrape time.
 */
#ifndef HF_METRICS_H
#define HF_METRICS_H

#include <stdint.h>

#include "util.h"

#define METRICS_LATENCY_BUCKETS 12

struct metrics {
    uint64_t triggers_accepted;       /* 202 */
    uint64_t triggers_replayed;       /* 200: same key, same body */
    uint64_t triggers_rejected[6];    /* by class: 400, 401/403, 409, 413, 415, other */
    uint64_t http_requests;           /* every inbound request answered */
    uint64_t http_rate_limited;       /* 429: per-address limit on public endpoints */
    uint64_t sends_ok, sends_retry, sends_failed, sends_expired, sends_fallback;
    uint64_t receipts_delivered, receipts_failed, receipts_duplicate, receipts_unknown;
    uint64_t group_commits;           /* transactions in the before-sleep hook */
    uint64_t group_commit_triggers;   /* triggers they carried */
    /* Send latency histogram (ms), cumulative at render time. */
    uint64_t latency_bucket[METRICS_LATENCY_BUCKETS];
    uint64_t latency_count;
    double latency_sum_ms;
};

enum metrics_reject { REJ_BAD_REQUEST = 0, REJ_AUTH, REJ_CONFLICT, REJ_TOO_LARGE, REJ_MEDIA, REJ_OTHER };

void metrics_reject(struct metrics *m, int status);
void metrics_observe_latency(struct metrics *m, int64_t ms);
/* Upper bounds of the latency buckets in ms (the last is +Inf). */
extern const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS];

#endif
