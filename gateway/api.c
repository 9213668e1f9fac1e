/*
 * api.c - the route table, bearer-token authentication, /healthz,
 * /metrics and the message lookup.
 */
#include "api.h"
#include "console.h"
#include "console_session.h"
#include "dispatch.h"
#include "gateway.h"
#include "http_error.h"
#include "log.h"
#include "outbound.h"
#include "tasks.h"
#include "tokens.h"
#include "windows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct api_token *api_auth(struct gateway *gw, const struct http_request *req,
                                 unsigned roles, struct http_response *resp)
{
    const char *h = req->authorization;
    if (!h && http_request_cookie(req, CONSOLE_COOKIE))
        return console_api_auth(gw, req, roles, resp); /* the console's session cookie */
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        resp->status = 401;
        resp->body = api_error_body("unauthorized", "Authorization",
                                    "send the API token as Authorization: Bearer <token>");
        return NULL;
    }
    const struct api_token *t = config_find_token(gw->cfg, h + 7);
    if (!t) {
        resp->status = 401;
        resp->body = api_error_body("unauthorized", "Authorization", "unknown API token");
        return NULL;
    }
    if (!(t->roles & roles)) {
        resp->status = 403;
        resp->body = api_error_body("forbidden", "Authorization",
                                    "this API token does not have the role for this endpoint");
        return NULL;
    }
    return t;
}

static enum http_result get_healthz(struct gateway *gw, struct http_request *req,
                                    struct http_response *resp)
{
    (void)req;
    cJSON *o = cJSON_CreateObject();
    int warn = gw->calendar_days_ahead < 60;
    char dberr[256] = "";
    int db_ok = store_ping(gw->store, dberr, sizeof dberr) == HF_OK;
    cJSON_AddStringToObject(o, "status", gw->stopping ? "stopping"
                                         : !db_ok     ? "unavailable"
                                         : warn       ? "degraded"
                                                      : "ok");
    cJSON_AddNumberToObject(o, "uptime_s", (double)(clock_now() - gw->started_at));
    cJSON_AddNumberToObject(o, "schema_version", store_schema_version(gw->store));
    cJSON *db = cJSON_AddObjectToObject(o, "database");
    cJSON_AddStringToObject(db, "backend", store_backend(gw->store));
    cJSON_AddStringToObject(db, "state", db_ok ? "ok" : "unreachable");
    if (!db_ok)
        cJSON_AddStringToObject(db, "error", dberr);
    cJSON *cal = cJSON_AddObjectToObject(o, "holiday_calendar");
    cJSON_AddNumberToObject(cal, "last_year", calendar_last_year(gw->cal));
    cJSON_AddNumberToObject(cal, "days_ahead_covered", gw->calendar_days_ahead);
    if (warn)
        cJSON_AddStringToObject(cal, "warning",
                                "fewer than 60 days ahead are covered by the holiday calendar: "
                                "add next year's official arrangement to the holidays file; until "
                                "then weekends are treated as the only rest days");
    cJSON_AddNumberToObject(o, "in_flight", (double)dispatch_in_flight(gw->disp));
    cJSON *cl = cJSON_AddObjectToObject(o, "instance");
    cJSON_AddStringToObject(cl, "id", gw->instance_id);
    cJSON_AddBoolToObject(cl, "cron_leader", cluster_is_cron_leader(gw));
    cJSON_AddNumberToObject(cl, "lease_s", (double)((gw->cfg->lease_ms + 999) / 1000));
    resp->status = gw->stopping || !db_ok ? 503 : 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return HTTP_DONE;
}

struct count_ctx {
    struct buf *b;
};

static void count_row(void *arg, const char *state, const char *channel, int64_t n)
{
    struct count_ctx *c = arg;
    buf_printf(c->b, "huifang_messages{state=\"%s\",channel=\"%s\"} %lld\n", state, channel,
               (long long)n);
}

static enum http_result get_metrics(struct gateway *gw, struct http_request *req,
                                    struct http_response *resp)
{
    (void)req;
    struct metrics *m = &gw->metrics;
    struct buf b;
    buf_init(&b);
    static const char *const rej[] = {"bad_request", "auth", "conflict", "too_large",
                                      "media_type", "other"};
    buf_puts(&b, "# HELP huifang_triggers_total Triggers answered, by outcome.\n"
                 "# TYPE huifang_triggers_total counter\n");
    buf_printf(&b, "huifang_triggers_total{outcome=\"accepted\"} %llu\n",
               (unsigned long long)m->triggers_accepted);
    buf_printf(&b, "huifang_triggers_total{outcome=\"replayed\"} %llu\n",
               (unsigned long long)m->triggers_replayed);
    for (size_t i = 0; i < HF_ARRAY_LEN(rej); i++)
        buf_printf(&b, "huifang_triggers_total{outcome=\"rejected\",reason=\"%s\"} %llu\n", rej[i],
                   (unsigned long long)m->triggers_rejected[i]);
    buf_puts(&b, "# HELP huifang_messages Messages in the store, by state and channel.\n"
                 "# TYPE huifang_messages gauge\n");
    struct count_ctx cc = {&b};
    store_message_counts(gw->store, count_row, &cc);
    buf_puts(&b, "# HELP huifang_queue_depth Pending messages already due.\n"
                 "# TYPE huifang_queue_depth gauge\n");
    buf_printf(&b, "huifang_queue_depth %lld\n", (long long)store_due_count(gw->store, clock_now()));
    buf_puts(&b, "# HELP huifang_in_flight Provider requests in flight.\n"
                 "# TYPE huifang_in_flight gauge\n");
    buf_printf(&b, "huifang_in_flight %zu\n", dispatch_in_flight(gw->disp));
    buf_puts(&b, "# HELP huifang_send_attempts_total Send attempts, by result.\n"
                 "# TYPE huifang_send_attempts_total counter\n");
    buf_printf(&b, "huifang_send_attempts_total{result=\"ok\"} %llu\n",
               (unsigned long long)m->sends_ok);
    buf_printf(&b, "huifang_send_attempts_total{result=\"retry\"} %llu\n",
               (unsigned long long)m->sends_retry);
    buf_printf(&b, "huifang_send_attempts_total{result=\"failed\"} %llu\n",
               (unsigned long long)m->sends_failed);
    buf_printf(&b, "huifang_send_attempts_total{result=\"expired\"} %llu\n",
               (unsigned long long)m->sends_expired);
    buf_printf(&b, "huifang_send_attempts_total{result=\"fallback\"} %llu\n",
               (unsigned long long)m->sends_fallback);
    buf_puts(&b, "# HELP huifang_receipts_total Delivery receipts from SMS providers.\n"
                 "# TYPE huifang_receipts_total counter\n");
    buf_printf(&b, "huifang_receipts_total{result=\"delivered\"} %llu\n",
               (unsigned long long)m->receipts_delivered);
    buf_printf(&b, "huifang_receipts_total{result=\"failed\"} %llu\n",
               (unsigned long long)m->receipts_failed);
    buf_printf(&b, "huifang_receipts_total{result=\"duplicate\"} %llu\n",
               (unsigned long long)m->receipts_duplicate);
    buf_printf(&b, "huifang_receipts_total{result=\"unknown_message\"} %llu\n",
               (unsigned long long)m->receipts_unknown);
    buf_puts(&b, "# HELP huifang_status_pulls_total SMS status pulls for sends cut short "
                 "(Tencent), by result.\n"
                 "# TYPE huifang_status_pulls_total counter\n");
    static const char *const pull_results[] = {"delivered", "failed", "none", "error"};
    for (size_t i = 0; i < HF_ARRAY_LEN(pull_results); i++)
        buf_printf(&b, "huifang_status_pulls_total{result=\"%s\"} %llu\n", pull_results[i],
                   (unsigned long long)m->status_pulls[i]);
    buf_puts(&b, "# HELP huifang_token_fetches_total Access-token fetches (WeChat, WeCom).\n"
                 "# TYPE huifang_token_fetches_total counter\n");
    buf_printf(&b, "huifang_token_fetches_total %llu\n",
               (unsigned long long)tokens_fetches(gw->tokens));
    buf_puts(&b, "# HELP huifang_send_latency_seconds Provider request latency.\n"
                 "# TYPE huifang_send_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
        cum += m->latency_bucket[i];
        if (i == METRICS_LATENCY_BUCKETS - 1)
            buf_printf(&b, "huifang_send_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
                       (unsigned long long)cum);
        else
            buf_printf(&b, "huifang_send_latency_seconds_bucket{le=\"%g\"} %llu\n",
                       metrics_latency_bounds[i] / 1000.0, (unsigned long long)cum);
    }
    buf_printf(&b, "huifang_send_latency_seconds_sum %.3f\n", m->latency_sum_ms / 1000.0);
    buf_printf(&b, "huifang_send_latency_seconds_count %llu\n",
               (unsigned long long)m->latency_count);
    buf_puts(&b, "# HELP huifang_group_commits_total Intake transactions and the triggers they "
                 "carried.\n# TYPE huifang_group_commits_total counter\n");
    buf_printf(&b, "huifang_group_commits_total %llu\n", (unsigned long long)m->group_commits);
    buf_printf(&b, "huifang_group_commit_triggers_total %llu\n",
               (unsigned long long)m->group_commit_triggers);
    buf_puts(&b, "# HELP huifang_http_requests_total Inbound HTTP requests answered.\n"
                 "# TYPE huifang_http_requests_total counter\n");
    buf_printf(&b, "huifang_http_requests_total %llu\n", (unsigned long long)m->http_requests);
    buf_puts(&b, "# HELP huifang_http_rate_limited_total Requests to public endpoints refused "
                 "429 by the per-address limit (listen.public_rate).\n"
                 "# TYPE huifang_http_rate_limited_total counter\n");
    buf_printf(&b, "huifang_http_rate_limited_total %llu\n",
               (unsigned long long)m->http_rate_limited);
    buf_puts(&b, "# HELP huifang_holiday_calendar_days_ahead Days ahead the holiday file covers "
                 "(warns below 60).\n# TYPE huifang_holiday_calendar_days_ahead gauge\n");
    buf_printf(&b, "huifang_holiday_calendar_days_ahead %d\n", gw->calendar_days_ahead);
    buf_puts(&b, "# HELP huifang_instance This instance (its id) and whether it runs the cron "
                 "jobs that write (ticket clocks, reminders).\n# TYPE huifang_instance gauge\n");
    buf_printf(&b, "huifang_instance{id=\"%s\",cron_leader=\"%s\"} 1\n", gw->instance_id,
               cluster_is_cron_leader(gw) ? "true" : "false");
    tasks_metrics(gw, &b);
    resp->status = 200;
    resp->body = buf_steal(&b);
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return HTTP_DONE;
}

static enum http_result get_message(struct gateway *gw, struct http_request *req,
                                    struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    char *end;
    long long id = strtoll(req->path_tail, &end, 10);
    if (!*req->path_tail || *end || id <= 0) {
        resp->status = 404;
        resp->body = api_error_body("not_found", "id", "no such message");
        return HTTP_DONE;
    }
    char *json = NULL;
    int rc = store_message_json(gw->store, id, &json);
    if (rc == HF_OK) {
        resp->status = 200;
        resp->body = json;
    } else if (rc == HF_ERR_NOTFOUND) {
        resp->status = 404;
        resp->body = api_error_body("not_found", "id", "no such message");
    } else {
        resp->status = 500;
        resp->body = api_error_body("store_error", NULL, "the store could not be read");
    }
    return HTTP_DONE;
}

/* POST /v1/admin/reload (admin): as SIGHUP. The reload runs in the
 * before-sleep hook of this loop iteration, after the parked triggers are
 * committed (they hold catalogue pointers), never inside an HTTP callback;
 * its outcome is logged. */
static enum http_result post_admin_reload(struct gateway *gw, struct http_request *req,
                                          struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_ADMIN, resp))
        return HTTP_DONE;
    gw->reload_requested = 1;
    resp->status = 202;
    resp->body = xstrdup("{\"reload\":\"requested\"}");
    return HTTP_DONE;
}

static void trigger_refused(struct gateway *gw, int status)
{
    metrics_reject(&gw->metrics, status);
}

const struct http_route api_routes[] = {
    {"GET", "/healthz", 0, 0, get_healthz, NULL, 0},
    {"GET", "/metrics", 0, 0, get_metrics, NULL, 0},
    {"POST", "/v1/triggers", 0, 1, api_post_trigger, trigger_refused, 0},
    {"GET", "/v1/messages/", 1, 0, get_message, NULL, 0},
    {"POST", "/callbacks/", 1, 0, api_post_callback, NULL, 1},
    {"GET", "/s/", 1, 0, api_get_survey, NULL, 1},
    {"POST", "/s/", 1, 0, api_post_survey, NULL, 1},
    {"GET", "/v1/results", 0, 0, api_get_results, NULL, 0},
    {"GET", "/v1/tickets", 0, 0, api_get_tickets, NULL, 0},
    {"GET", "/v1/tickets/", 1, 0, api_get_ticket, NULL, 0},
    {"POST", "/v1/tickets/", 1, 1, api_post_ticket, NULL, 0},
    {"POST", "/v1/customers/", 1, 1, api_post_customer, NULL, 0},
    {"GET", "/wechat/callback", 0, 0, api_wechat_get, NULL, 1},
    {"POST", "/wechat/callback", 0, 0, api_wechat_post, NULL, 1},
    /* issue 6: the customer-service API */
    {"GET", "/v1/messages", 0, 0, api_get_messages, NULL, 0},
    {"GET", "/v1/projects/", 1, 0, api_get_project, NULL, 0},
    {"GET", "/v1/reports/", 1, 0, api_get_report, NULL, 0},
    {"POST", "/v1/admin/reload", 0, 0, post_admin_reload, NULL, 0},
    {"GET", "/v1/tasks", 0, 0, api_get_tasks, NULL, 0},
    {"GET", "/v1/tasks/", 1, 0, api_get_task, NULL, 0},
    {"POST", "/v1/tasks/", 1, 1, api_post_task, NULL, 0},
    /* the web console, the PM page and the PM's endpoints (console.c); the
     * sign-in forms are public, so rate-limited per address */
    {"GET", "/console", 0, 0, console_get, NULL, 0},
    {"GET", "/console/", 1, 0, console_get, NULL, 0},
    {"POST", "/console/", 1, 0, console_post, NULL, 1},
    {"GET", "/pm", 0, 0, console_pm_get, NULL, 0},
    {"GET", "/pm/", 1, 0, console_pm_get, NULL, 0},
    {"POST", "/pm/", 1, 0, console_pm_post, NULL, 1},
    {"GET", "/v1/pm/projects", 0, 0, console_pm_projects, NULL, 0},
    {"POST", "/v1/pm/projects/", 1, 1, console_pm_trigger, NULL, 0},
};
const size_t api_nroutes = HF_ARRAY_LEN(api_routes);
