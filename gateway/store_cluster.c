/*
 * store_cluster.c - the store's side of several instances on one
 * PostgreSQL: instance leases and the cron lock (cluster.c drives them).
 *
 * Leases: each instance has a row in "instances" whose lease_until it
 * pushes forward every cron tick (one small write per instance per second,
 * whatever the number of messages it holds). A claimed message names its
 * owner (messages.claimed_by); it is claimable again once that owner's row
 * says the lease ended (store_requeue_expired, store_sqlite.c). Why a row
 * per instance rather than a lease per message: renewal then costs the
 * same with 1 or 4,000 messages in flight (a slow provider, a long token
 * wait), and a live instance never loses a claim because one statement
 * was slow.
 *
 * The cron lock is a session-level advisory lock: the server releases it
 * when the holder's connection ends, a SIGKILL included, so another
 * instance takes over at its next tick without any timeout of ours.
 *
 * These run a few times a second at most: statements are prepared per
 * call rather than cached.
 */
#include "store_internal.h"
#include "log.h"
#include "util.h"

#include <stdio.h>

/* "huifang cron" as a 64-bit advisory lock key, fixed: every instance of
 * every version must name the same lock. */
#define CRON_LOCK_KEY "7526409620127428974"

/* Run @sql with ?1 = @id and, when @nints is 2, ?2 = @a and ?3 = @b. */
static int run(struct store *s, const char *sql, const char *what, const char *id, int nints,
               int64_t a, int64_t b)
{
    sqlite3 *db = store__db(s);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        LOG_ERR("store", "%s: %s", what, sqlite3_errmsg(db));
        return HF_ERR_DB;
    }
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (nints == 2) {
        sqlite3_bind_int64(q, 2, a);
        sqlite3_bind_int64(q, 3, b);
    }
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        LOG_ERR("store", "%s: %s", what, sqlite3_errmsg(db));
        return HF_ERR_DB;
    }
    return HF_OK;
}

int store_instance_heartbeat(struct store *s, const char *id, int64_t now, int64_t lease_until)
{
    return run(s,
               "INSERT INTO instances (id, started_at, lease_until) VALUES (?1, ?2, ?3)"
               " ON CONFLICT(id) DO UPDATE SET lease_until = excluded.lease_until",
               "instance lease", id, 2, now, lease_until);
}

int store_instance_leave(struct store *s, const char *id)
{
    return run(s, "DELETE FROM instances WHERE id = ?1", "instance leave", id, 0, 0, 0);
}

int store_cron_leader(struct store *s)
{
    sqlite3 *db = store__db(s);
    if (!store_db_is_pg(db))
        return 1;
    /* Asked every tick: once held, pg_locks answers without taking it again
     * (a session lock is re-entrant and would count up); after a reconnect
     * the lock is gone with the old session and is taken anew if free. */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype ="
                           " 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1"
                           " AND ((classid::bigint << 32) | objid::bigint) = " CRON_LOCK_KEY ")"
                           " THEN 1 WHEN pg_try_advisory_lock(" CRON_LOCK_KEY ") THEN 1 ELSE 0 END",
                           -1, &q, NULL) != SQLITE_OK) {
        LOG_ERR("store", "cron lock: %s", sqlite3_errmsg(db));
        return -1;
    }
    int rc = sqlite3_step(q), leader = -1;
    if (rc == SQLITE_ROW)
        leader = sqlite3_column_int(q, 0);
    else
        LOG_ERR("store", "cron lock: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return leader;
}

int store_instances(struct store *s, int64_t now,
                    void (*cb)(void *arg, const char *id, int64_t started_at, int64_t lease_until),
                    void *arg)
{
    sqlite3 *db = store__db(s);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, started_at, lease_until FROM instances"
                           " WHERE lease_until >= ?1 ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK) {
        LOG_ERR("store", "instances: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(q, 1, now);
    int n = 0, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cb(arg, (const char *)sqlite3_column_text(q, 0), sqlite3_column_int64(q, 1),
           sqlite3_column_int64(q, 2));
        n++;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? n : -1;
}
