/*
 * cluster.c - this instance among others on one PostgreSQL: its id, its
 * lease, expired claims and the cron lock. See cluster.h for the
 * semantics and store_cluster.c for why a lease row per instance.
 */
#include "cluster.h"
#include "dispatch.h"
#include "gateway.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int is_pg(const struct gateway *gw)
{
    return strcmp(store_backend(gw->store), "postgresql") == 0;
}

static int64_t lease_s(const struct gateway *gw)
{
    return (gw->cfg->lease_ms + 999) / 1000;
}

/* Put back what crashed while in flight. SMS wait their receipt grace
 * first, exactly as at start (gateway_new explains why): the provider may
 * have accepted the request the crash cut short. */
static int requeue(struct gateway *gw, int64_t now, int at_start)
{
    int64_t grace = dispatch_receipt_grace_s(gw->cfg);
    int64_t sms_not_before = grace > 0 ? now + grace : 0;
    int n = is_pg(gw) ? store_requeue_expired(gw->store, now, sms_not_before)
                      : store_requeue_inflight(gw->store, sms_not_before);
    if (n > 0)
        LOG_WARN("cluster", "recovered %d messages that were in flight %s%s", n,
                 at_start ? "when the last run ended" : "on an instance whose lease ended",
                 sms_not_before ? " (SMS among them wait for their receipts first)" : "");
    return n;
}

static int heartbeat(struct gateway *gw, int64_t now)
{
    if (store_instance_heartbeat(gw->store, gw->instance_id, now, now + lease_s(gw)) != HF_OK)
        return -1;
    if (gw->lease_renewed_at && now - gw->lease_renewed_at > lease_s(gw))
        LOG_WARN("cluster", "the lease lapsed for %llds (the store was unreachable): other "
                 "instances may have taken over messages this one had in flight",
                 (long long)(now - gw->lease_renewed_at));
    gw->lease_renewed_at = now;
    return 0;
}

int cluster_start(struct gateway *gw)
{
    char host[64] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    snprintf(gw->instance_id, sizeof gw->instance_id, "%s:%ld:%08llx", host, (long)getpid(),
             (unsigned long long)(rand_u64() & 0xffffffffu));
    store_set_owner(gw->store, gw->instance_id);
    int64_t now = clock_now();
    gw->cron_leader = !is_pg(gw);
    if (is_pg(gw) && heartbeat(gw, now) != 0)
        return -1;
    if (requeue(gw, now, 1) < 0)
        return -1;
    LOG_INFO("cluster", "instance=%s lease=%llds", gw->instance_id, (long long)lease_s(gw));
    return 0;
}

void cluster_cron(struct gateway *gw)
{
    if (!is_pg(gw))
        return;
    int64_t now = clock_now();
    heartbeat(gw, now);
    if (requeue(gw, now, 0) > 0)
        dispatch_kick(gw->disp);
    int leader = store_cron_leader(gw->store) == 1;
    if (leader != gw->cron_leader)
        LOG_INFO("cluster", "instance=%s %s the cron jobs (ticket clocks, reminders)",
                 gw->instance_id, leader ? "now runs" : "no longer runs");
    gw->cron_leader = leader;
}

int cluster_is_cron_leader(const struct gateway *gw)
{
    return gw->cron_leader;
}

void cluster_stop(struct gateway *gw)
{
    if (gw->store && gw->instance_id[0] && is_pg(gw))
        store_instance_leave(gw->store, gw->instance_id);
}
