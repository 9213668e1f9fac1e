/*
 * gateway.c - assembling the daemon and running its one loop.
 *
 * Watchers on the loop and who owns them:
 *   sig_term, sig_int, sig_hup   here: stop / reload requests
 *   before_sleep (ev_prepare)    here: group commits (triggers, finished attempts)
 *                                -> reload -> MHD run/re-arm
 *   cron (1 s)                   here: shutdown deadline, calendar coverage
 *   mhd_io, mhd_timer            http_server.c
 *   curl timer + socket ios      outbound.c
 *   dispatch timer               dispatch.c
 *
 * Order inside before_sleep matters: triggers are committed first (their
 * answers resume parked connections), then MHD runs so those answers go
 * out in this iteration, then MHD's timer is re-armed from
 * MHD_get_timeout, which must be the last MHD call before libev blocks.
 */
#include "gateway.h"
#include "api.h"
#include "cluster.h"
#include "console_session.h"
#include "dispatch.h"
#include "http_server.h"
#include "log.h"
#include "outbound.h"
#include "survey_def.h"
#include "tasks.h"
#include "tickets.h"
#include "tokens.h"
#include "windows.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 10000

/* Write @port to @path atomically: tmp file, fsync, rename, fsync dir. */
static int write_ready_file(const char *path, int port)
{
    char *tmp = xasprintf("%s.tmp", path);
    unlink(tmp);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        char line[16];
        int n = snprintf(line, sizeof line, "%d\n", port);
        if (write(fd, line, (size_t)n) == n && fsync(fd) == 0)
            rc = 0;
        close(fd);
    }
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc == 0) {
        char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(tmp);
    return rc;
}

static void check_calendar(struct gateway *gw, int log_always)
{
    int y, m, d;
    local_date(clock_now(), &y, &m, &d);
    int days = calendar_days_covered(gw->cal, y, m, d);
    int was_ok = gw->calendar_days_ahead >= 60;
    gw->calendar_days_ahead = days;
    if (days < 60 && (log_always || was_ok))
        LOG_WARN("calendar",
                 "the holiday calendar covers only %d days ahead (last year %d): add next year's "
                 "official holidays and make-up working days to %s; until then only weekends are "
                 "rest days",
                 days, calendar_last_year(gw->cal), gw->cfg->holidays_path);
}

int gateway_load_data(const struct config *cfg, struct catalogue **cat, struct calendar **cal,
                      struct survey_set **surveys, char *err, size_t errlen)
{
    *cat = NULL;
    *surveys = NULL;
    *cal = calendar_load(cfg->holidays_path, err, errlen);
    if (!*cal)
        return -1;
    *surveys = survey_set_load(cfg->surveys_dir, err, errlen);
    if (*surveys)
        *cat = catalogue_load(cfg->catalogue_path, cfg->templates_dir, err, errlen);
    /* Every survey message must name a survey definition that exists. */
    for (size_t i = 0; *cat && i < (*cat)->n; i++) {
        const struct milestone *m = &(*cat)->ms[i];
        for (size_t k = 0; k < m->nmsgs; k++) {
            const char *sv = m->msgs[k].survey;
            if (sv && !survey_set_find(*surveys, sv)) {
                snprintf(err, errlen, "%s: milestones.%s.messages[%zu].survey: no survey '%s' in %s",
                         cfg->catalogue_path, m->id, k, sv, cfg->surveys_dir);
                catalogue_free(*cat);
                *cat = NULL;
            }
        }
    }
    if (*cat)
        return 0;
    survey_set_free(*surveys);
    calendar_free(*cal);
    *surveys = NULL;
    *cal = NULL;
    return -1;
}

int gateway_reload(struct gateway *gw)
{
    char err[512];
    struct catalogue *cat;
    struct calendar *cal;
    struct survey_set *surveys;
    if (gateway_load_data(gw->cfg, &cat, &cal, &surveys, err, sizeof err) != 0) {
        LOG_ERR("reload", "kept the old catalogue, surveys and calendar: %s", err);
        return -1;
    }
    /* Nothing holds pointers into the old catalogue across iterations:
     * parked triggers were committed just before this runs, and in-flight
     * sends carry their rendered text, not template pointers. */
    catalogue_free(gw->cat);
    calendar_free(gw->cal);
    survey_set_free(gw->surveys);
    gw->cat = cat;
    gw->cal = cal;
    gw->surveys = surveys;
    check_calendar(gw, 1);
    LOG_INFO("reload", "catalogue and calendar reloaded milestones=%zu", cat->n);
    dispatch_kick(gw->disp);
    return 0;
}

static void begin_shutdown(struct gateway *gw)
{
    if (gw->stopping)
        return;
    gw->stopping = 1;
    gw->stop_deadline_ms = clock_mono_ms() + SHUTDOWN_GRACE_MS;
    LOG_INFO("main", "stopping: in_flight=%zu", dispatch_in_flight(gw->disp));
    /* Triggers already validated are written and answered first. */
    api_triggers_commit(gw);
    dispatch_stop(gw->disp);
    http_server_quiesce(gw->http);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    struct gateway *gw = w->data;
    if (w->signum == SIGHUP)
        gw->reload_requested = 1; /* done in before_sleep, outside any callback chain */
    else
        begin_shutdown(gw);
}

static int drained(struct gateway *gw)
{
    return outbound_in_flight(gw->out) == 0 && dispatch_in_flight(gw->disp) == 0 &&
           http_server_parked(gw->http) == 0 &&
           api_triggers_pending(gw) == 0;
}

static void on_before_sleep(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)revents;
    struct gateway *gw = w->data;
    api_triggers_commit(gw);
    dispatch_commit(gw->disp);
    if (gw->reload_requested) {
        gw->reload_requested = 0;
        gateway_reload(gw);
    }
    http_server_before_sleep(gw->http);
    if (gw->stopping && drained(gw))
        ev_break(loop, EVBREAK_ALL);
}

static void on_cron(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct gateway *gw = w->data;
    static int64_t last_calendar_check;
    int64_t now = clock_mono_ms();
    if (gw->stopping && now > gw->stop_deadline_ms && outbound_in_flight(gw->out) > 0) {
        LOG_WARN("main", "shutdown deadline: abandoning %zu requests; they stay pending",
                 outbound_in_flight(gw->out));
        outbound_cancel_all(gw->out);
    }
    /* The lease is renewed while draining too: in-flight sends are ours. */
    cluster_cron(gw);
    if (!gw->stopping)
        tokens_cron(gw->tokens);
    /* Cron jobs that write run on one instance at a time (cluster.h). */
    int leader = cluster_is_cron_leader(gw);
    static int64_t last_survey_cron;
    if (!gw->stopping && leader)
        tickets_cron(gw);
    if (!gw->stopping && leader && tasks_cron(gw) > 0)
        dispatch_kick(gw->disp);
    if (!gw->stopping && leader && now - last_survey_cron >= 60 * 1000) {
        last_survey_cron = now;
        dispatch_surveys_cron(gw->disp);
    }
    if (now - last_calendar_check > 3600 * 1000) {
        last_calendar_check = now;
        check_calendar(gw, 0);
        dispatch_cron(gw->disp);
    }
}

struct gateway *gateway_new(struct config *cfg, const char *config_path)
{
    struct gateway *gw = xcalloc(1, sizeof *gw);
    char err[512];
    gw->cfg = cfg;
    gw->config_path = xstrdup(config_path);
    gw->started_at = clock_now();
    gw->calendar_days_ahead = 366;
    gw->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (!gw->loop) {
        LOG_ERR("main", "cannot create the event loop");
        goto fail;
    }
    if (gateway_load_data(cfg, &gw->cat, &gw->cal, &gw->surveys, err, sizeof err) != 0) {
        LOG_ERR("main", "%s", err);
        goto fail;
    }
    gw->store = store_open(config_store_location(cfg), cfg->synchronous_full, err, sizeof err);
    if (!gw->store) {
        LOG_ERR("main", "%s", err);
        goto fail;
    }
    /* This instance's id and lease, and what an earlier run left in
     * flight (cluster.c: all of it on SQLite, expired claims only on
     * PostgreSQL). An SMS among them may have been accepted (Aliyun and
     * Tencent do not deduplicate): it waits receipt_grace, marked
     * interrupted; Aliyun's receipt names our OutId and settles it, for
     * Tencent the dispatcher pulls the number's statuses, which name our
     * SessionContext (dispatch.c). Settled by neither, it is sent again. */
    if (cluster_start(gw) != 0) {
        LOG_ERR("main", "the store failed while recovering in-flight messages");
        goto fail;
    }
    gw->out = outbound_new(gw->loop, cfg);
    if (!gw->out) {
        LOG_ERR("main", "cannot create the outbound HTTP client");
        goto fail;
    }
    gw->tokens = tokens_new(gw);
    gw->sessions = console_sessions_new();
    gw->disp = dispatch_new(gw);
    gw->http = http_server_start(gw, api_routes, api_nroutes, err, sizeof err);
    if (!gw->http) {
        LOG_ERR("main", "%s", err);
        goto fail;
    }

    ev_signal_init(&gw->sig_term, on_signal, SIGTERM);
    ev_signal_init(&gw->sig_int, on_signal, SIGINT);
    ev_signal_init(&gw->sig_hup, on_signal, SIGHUP);
    gw->sig_term.data = gw->sig_int.data = gw->sig_hup.data = gw;
    ev_signal_start(gw->loop, &gw->sig_term);
    ev_signal_start(gw->loop, &gw->sig_int);
    ev_signal_start(gw->loop, &gw->sig_hup);
    ev_prepare_init(&gw->before_sleep, on_before_sleep);
    gw->before_sleep.data = gw;
    ev_prepare_start(gw->loop, &gw->before_sleep);
    ev_timer_init(&gw->cron, on_cron, 1.0, 1.0);
    gw->cron.data = gw;
    ev_timer_start(gw->loop, &gw->cron);

    check_calendar(gw, 1);
    int port = http_server_port(gw->http);
    if (cfg->ready_file && write_ready_file(cfg->ready_file, port) != 0) {
        LOG_ERR("main", "cannot write the ready file %s: %s", cfg->ready_file, strerror(errno));
        goto fail;
    }
    char store_name[256]; /* a PostgreSQL URL without its password */
    store_describe(gw->store, store_name, sizeof store_name);
    LOG_INFO("main", "listening on http://%s:%d store=%s schema=%d milestones=%zu tz=%s"
             " instance=%s",
             cfg->listen_address, port, store_name, store_schema_version(gw->store),
             gw->cat->n, cfg->timezone, gw->instance_id);
    dispatch_kick(gw->disp);
    return gw;
fail:
    gateway_free(gw);
    return NULL;
}

int gateway_run(struct gateway *gw)
{
    ev_run(gw->loop, 0);
    LOG_INFO("main", "stopped");
    return 0;
}

void gateway_free(struct gateway *gw)
{
    if (!gw)
        return;
    if (gw->loop) {
        ev_signal_stop(gw->loop, &gw->sig_term);
        ev_signal_stop(gw->loop, &gw->sig_int);
        ev_signal_stop(gw->loop, &gw->sig_hup);
        ev_prepare_stop(gw->loop, &gw->before_sleep);
        ev_timer_stop(gw->loop, &gw->cron);
    }
    if (gw->http)
        http_server_quiesce(gw->http);
    api_triggers_free(gw);
    http_server_free(gw->http);
    /* Completes (cancels) every job and token fetch: their callbacks still
     * use the store; then the jobs still waiting for a token. */
    outbound_free(gw->out);
    tokens_free(gw->tokens);
    console_sessions_free(gw->sessions);
    dispatch_free(gw->disp);
    cluster_stop(gw);
    store_close(gw->store);
    catalogue_free(gw->cat);
    calendar_free(gw->cal);
    survey_set_free(gw->surveys);
    if (gw->loop)
        ev_loop_destroy(gw->loop);
    free(gw->config_path);
    free(gw);
}
