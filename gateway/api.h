/*
 * api.h - the HTTP API: route table, authentication, and the handlers.
 *
 *   GET  /healthz               liveness + calendar coverage (no token)
 *   GET  /metrics               Prometheus text (no token; bind to loopback)
 *   POST /v1/triggers           a milestone happened (trigger role)
 *   GET  /v1/messages/<id>      one message's state (cs or admin role)
 *   POST /callbacks/<token>/... provider pushes: SMS receipts and replies (api_callbacks.c)
 *   GET/POST /s/<token>         the survey page (api_surveys.c)
 *   GET  /v1/results            callback results (cs/admin, api_results.c)
 *   GET  /v1/tickets[/<id>], POST /v1/tickets/<id>/report|resolve (cs/admin)
 *   GET/POST /wechat/callback   WeChat server callback (api_wechat.c)
 *   GET  /v1/messages           the outbox, filtered (api_messages.c)
 *   GET  /v1/projects/<id>      a project, its customer and timeline (api_messages.c)
 *   GET  /v1/reports/...        milestones, staff, complaints, tickets, trend (api_reports.c)
 *   POST /v1/admin/reload       reload the catalogue, templates, calendar (admin)
 *   GET  /v1/tasks[/<id>], POST /v1/tasks/<id>/done (cs/admin, api_tasks.c)
 *   POST /v1/customers/<id>/preferences  preferred contact time (api_customers.c)
 *   /console..., /pm..., /v1/pm/... the web console, the PM page and the PM's projects
 *                               (console.c; session cookies in console_session.c)
 *
 * api_auth() takes a Bearer token, or, without one, the console's session
 * cookie (console_api_auth(): the same roles, plus the CSRF check).
 */
#ifndef HF_API_H
#define HF_API_H

#include <stddef.h>

#include "http_server.h"

struct gateway;
struct api_token;
struct cJSON;
struct csv_col;

extern const struct http_route api_routes[];
extern const size_t api_nroutes;

/* Check the bearer token of @req for one of @roles (enum api_role bits),
 * or without an Authorization header the console's session cookie.
 * Returns the token, or NULL with @resp set to 401 (no or unknown token,
 * no or expired session) or 403 (token without the role; a cookie POST
 * without the session's CSRF token). */
const struct api_token *api_auth(struct gateway *gw, const struct http_request *req,
                                 unsigned roles, struct http_response *resp);

/* POST /v1/triggers (api_triggers.c). Valid triggers are parked and
 * written by api_triggers_commit() in one transaction per loop iteration
 * (group commit), then answered. */
enum http_result api_post_trigger(struct gateway *gw, struct http_request *req,
                                  struct http_response *resp);
/* Before-sleep hook: commit every parked trigger, answer them all. */
void api_triggers_commit(struct gateway *gw);
/* POST /callbacks/<token>/<provider>/<kind> (api_callbacks.c). */
enum http_result api_post_callback(struct gateway *gw, struct http_request *req,
                                   struct http_response *resp);
/* Survey page (api_surveys.c). */
enum http_result api_get_survey(struct gateway *gw, struct http_request *req,
                                struct http_response *resp);
enum http_result api_post_survey(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp);
/* Results and tickets (api_results.c). */
enum http_result api_get_results(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp);
enum http_result api_get_tickets(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp);
enum http_result api_get_ticket(struct gateway *gw, struct http_request *req,
                                struct http_response *resp);
enum http_result api_post_ticket(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp);
/* WeChat callback server (api_wechat.c): URL check and messages/events. */
enum http_result api_wechat_get(struct gateway *gw, struct http_request *req,
                                struct http_response *resp);
enum http_result api_wechat_post(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp);
/* ---- read endpoints (api_messages.c, api_reports.c) ---------------------- */
enum http_result api_get_messages(struct gateway *gw, struct http_request *req,
                                  struct http_response *resp);
enum http_result api_get_project(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp);
enum http_result api_get_report(struct gateway *gw, struct http_request *req,
                                struct http_response *resp);

/* ---- what the read endpoints share (api_query.c) ---------------------------
 * The api_arg_* helpers return 1 with *out set, 0 when the argument is
 * absent, or -1 with @resp set to 400 invalid_field naming it. */
int api_arg_int(const struct http_request *req, struct http_response *resp, const char *name,
                long min, long max, long *out);
/* ISO-8601 with an offset, or a local date (YYYY-MM-DD): its start, or
 * with @end_of_day its end (the next midnight). */
int api_arg_time(const struct http_request *req, struct http_response *resp, const char *name,
                 int end_of_day, int64_t *out);
/* One of the NULL-terminated @allowed (*out points into it). */
int api_arg_enum(const struct http_request *req, struct http_response *resp, const char *name,
                 const char *const *allowed, const char **out);
/* Free text, 1 to 200 bytes of UTF-8 (borrowed from the request). */
int api_arg_text(const struct http_request *req, struct http_response *resp, const char *name,
                 const char **out);
/* ?format=json|csv; *csv = 1 for csv. */
int api_arg_format(const struct http_request *req, struct http_response *resp, int *csv);
/* Local midnight starting the given day (days may overflow the month). */
int64_t api_local_midnight(int y, int m, int d);
/* 200 {"items": @items, "next_cursor": @next_cursor or null}. Takes @items. */
void api_list_answer(struct http_response *resp, struct cJSON *items, const char *next_cursor);
/* 200 text/csv (UTF-8 with BOM) of @items. Borrows @items. @disposition:
 * a static Content-Disposition value (the download's file name) or NULL. */
void api_csv_answer(struct http_response *resp, const struct cJSON *items,
                    const struct csv_col *cols, size_t ncols, const char *disposition);
/* 500 store_error. */
void api_store_error(struct http_response *resp);
/* 1 if @t may see full mobile numbers (cs, admin). */
int api_sees_mobiles(const struct api_token *t);
/* Mask every "mobile", "phone" and "customer_mobile" string inside @j
 * (138****5678) unless @t may see them. */
void api_redact(const struct api_token *t, struct cJSON *j);
/* A code and its Chinese label, for CSV cells people read. */
struct api_zh {
    const char *code, *zh;
};
extern const struct api_zh api_zh_result_state[], api_zh_ticket_state[], api_zh_clock[],
    api_zh_reason[], api_zh_message_state[], api_zh_kind[], api_zh_channel[], api_zh_recipient[];
/* Add "<key>_zh" to every object of @items: the label of its @key in
 * @table (NULL-terminated), the code itself when not listed. */
void api_zh_label(struct cJSON *items, const char *key, const struct api_zh *table);
/* Add "milestone_name" (the catalogue's Chinese name, or null) to every
 * object of @items, from its member @key. */
void api_milestone_names(struct gateway *gw, struct cJSON *items, const char *key);

/* Staff tasks (api_tasks.c). */
enum http_result api_get_tasks(struct gateway *gw, struct http_request *req,
                               struct http_response *resp);
enum http_result api_get_task(struct gateway *gw, struct http_request *req,
                              struct http_response *resp);
enum http_result api_post_task(struct gateway *gw, struct http_request *req,
                               struct http_response *resp);
/* POST /v1/customers/<id>/preferences (api_customers.c). */
enum http_result api_post_customer(struct gateway *gw, struct http_request *req,
                                   struct http_response *resp);
/* Number of triggers waiting for the group commit. */
size_t api_triggers_pending(const struct gateway *gw);
void api_triggers_free(struct gateway *gw);

#endif
