/*
 * metrics.c - counter helpers. The exposition itself is in api.c, which
 * also reads the store's gauges.
 */
#include "metrics.h"

const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 1e300,
};

void metrics_reject(struct metrics *m, int status)
{
    enum metrics_reject r;
    switch (status) {
    case 400: case 422: r = REJ_BAD_REQUEST; break;
    case 401: case 403: r = REJ_AUTH; break;
    case 409: r = REJ_CONFLICT; break;
    case 413: r = REJ_TOO_LARGE; break;
    case 415: r = REJ_MEDIA; break;
    default: r = REJ_OTHER; break;
    }
    m->triggers_rejected[r]++;
}

void metrics_observe_latency(struct metrics *m, int64_t ms)
{
    for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
        if ((double)ms <= metrics_latency_bounds[i]) {
            m->latency_bucket[i]++;
            break;
        }
    }
    m->latency_count++;
    m->latency_sum_ms += (double)ms;
}
