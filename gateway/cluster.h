/*
 * cluster.h - several huifangd instances on one PostgreSQL store.
 *
 * Each instance has an id (host:pid:random hex), logged at start and shown
 * in /healthz and /metrics. On PostgreSQL:
 *   - every claim it makes names it (store_claim_due), and a lease row
 *     renewed every cron tick (store.lease ahead) keeps those claims its
 *     own while the instance runs; a crashed instance's claims go back to
 *     "pending" once its lease ends, at any other instance's next tick,
 *     SMS among them after their receipt grace as at start (see
 *     cluster_requeue);
 *   - one instance at a time (the holder of an advisory lock) runs the cron
 *     jobs that write: ticket clocks, staff-task reminders, survey
 *     reminders (cluster_is_cron_leader).
 * On SQLite there is one instance: everything "sending" at start was
 * ours, and this instance is always the cron leader.
 */
#ifndef HF_CLUSTER_H
#define HF_CLUSTER_H

#include <stdint.h>

struct gateway;

#define CLUSTER_ID_MAX 96

/* At start, once the store is open: make this instance's id, mark the
 * store's claims with it, take the first lease (PostgreSQL), and put back
 * what an earlier run left in flight: everything on SQLite, only the
 * expired claims on PostgreSQL. 0, or -1 (logged) when the store fails. */
int cluster_start(struct gateway *gw);
/* Every cron tick (1 s): renew the lease, requeue expired claims (kicking
 * the dispatcher when there were some) and ask for the cron lock. */
void cluster_cron(struct gateway *gw);
/* 1 when this instance runs the writing cron jobs now. */
int cluster_is_cron_leader(const struct gateway *gw);
/* A clean stop: drop the lease, so what is left is claimable at once. */
void cluster_stop(struct gateway *gw);

#endif
