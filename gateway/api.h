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
 *   GET  /v1/tasks[/<id>], POST /v1/tasks/<id>/done (cs/admin, api_tasks.c)
 *   POST /v1/customers/<id>/preferences  preferred contact time (api_customers.c)
 */
#ifndef HF_API_H
#define HF_API_H

#include <stddef.h>

#include "http_server.h"

struct gateway;
struct api_token;

extern const struct http_route api_routes[];
extern const size_t api_nroutes;

/* Check the bearer token of @req for one of @roles (enum api_role bits).
 * Returns the token, or NULL with @resp set to 401 (no or unknown token)
 * or 403 (token without the role). */
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
