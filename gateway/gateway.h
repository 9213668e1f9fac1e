/*
 * gateway.h - the daemon's one state struct (the umbrella header).
 *
 * One thread, one libev loop. Everything the daemon holds hangs off
 * struct gateway and is passed explicitly as `gw`. Leaf modules (util,
 * log, config, calendar, windows, template, catalogue, plan, store,
 * adapters) never include this header, so they stay testable alone.
 */
#ifndef HF_GATEWAY_H
#define HF_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "calendar.h"
#include "catalogue.h"
#include "cluster.h"
#include "config.h"
#include "metrics.h"
#include "store.h"

struct http_server;
struct outbound;
struct intake_batch;
struct dispatcher;
struct tokens;
struct survey_set;
struct console_sessions;

struct gateway {
    struct ev_loop *loop;          /* the one event loop */
    struct config *cfg;            /* immutable between reloads */
    char *config_path;             /* for SIGHUP reloads */
    struct catalogue *cat;         /* milestones + templates; swapped whole on reload */
    struct calendar *cal;          /* holidays; swapped whole on reload */
    struct survey_set *surveys;    /* survey definitions; swapped whole on reload */
    struct store *store;           /* the durable store */
    struct http_server *http;      /* inbound HTTP (MHD) */
    struct outbound *out;          /* outbound HTTP (curl multi) */
    struct intake_batch *intake;   /* triggers waiting for the group commit */
    struct dispatcher *disp;       /* the outbox sender */
    struct tokens *tokens;         /* WeChat / WeCom access tokens */
    struct metrics metrics;        /* counters for /metrics */
    struct console_sessions *sessions; /* web console / PM page sign-ins (console_session.c) */

    ev_signal sig_term, sig_int, sig_hup;
    ev_prepare before_sleep;       /* group commit, resumes, MHD re-arm */
    ev_timer cron;                 /* 1 s housekeeping: calendar coverage, shutdown deadline */

    int stopping;                  /* SIGTERM/SIGINT received: drain */
    int reload_requested;          /* SIGHUP received: reload in before_sleep */
    int64_t stop_deadline_ms;      /* monotonic ms after which in-flight sends are abandoned */
    int calendar_days_ahead;       /* days from today the holiday file covers */
    int64_t started_at;            /* UTC seconds */
    char instance_id[CLUSTER_ID_MAX]; /* host:pid:random, marks this instance's claims */
    int cron_leader;               /* 1: this instance runs the writing cron jobs (cluster.c) */
    int64_t lease_renewed_at;      /* UTC seconds of the last lease renewal (PostgreSQL) */
};

/* Create the gateway from a loaded config: open the store, load the
 * catalogue and calendar, start HTTP and the outbound client, recover
 * in-flight messages. NULL on failure (logged). Caller owns; gateway_free(). */
struct gateway *gateway_new(struct config *cfg, const char *config_path);
/* Run the loop until a clean stop. Returns the process exit code. */
int gateway_run(struct gateway *gw);
void gateway_free(struct gateway *gw);

/* Load the catalogue (and its templates), the survey definitions and the
 * holiday calendar named by @cfg, and check they fit together. 0, or -1
 * with @err naming file, key and reason. Callers own the results. */
int gateway_load_data(const struct config *cfg, struct catalogue **cat, struct calendar **cal,
                      struct survey_set **surveys, char *err, size_t errlen);

/* SIGHUP work: reload config-independent data (catalogue, templates,
 * calendar). A bad file keeps the old data and logs why. 0 or -1. */
int gateway_reload(struct gateway *gw);

#endif
