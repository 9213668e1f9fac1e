/*
 * api_results.c - what customer service reads and does: callback results
 * (回访结果) and complaint tickets.
 *
 *   GET  /v1/results?from=&to=&project=&customer=&milestone=&state=&score_min=&score_max=
 *                   &flagged=1&cursor=&limit=
 *   GET  /v1/tickets?state=open|reported|resolved
 *   GET  /v1/tickets/<id>
 *   POST /v1/tickets/<id>/report   {"note": "..."}
 *   POST /v1/tickets/<id>/resolve  {"resolution": "..."}
 * All need a cs or admin token.
 */
#include "api.h"
#include "gateway.h"
#include "http_error.h"
#include "tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad_param(struct http_response *resp, const char *field, const char *msg)
{
    resp->status = 400;
    resp->body = api_error_body("invalid_field", field, msg);
    return -1;
}

static int int_arg(struct http_request *req, struct http_response *resp, const char *name,
                   long min, long max, long *out)
{
    const char *v = http_request_arg(req, name);
    if (!v)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < min || n > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be a whole number %ld..%ld", name, min, max);
        return bad_param(resp, name, msg);
    }
    *out = n;
    return 1;
}

static int time_arg(struct http_request *req, struct http_response *resp, const char *name,
                    int64_t *out)
{
    const char *v = http_request_arg(req, name);
    if (!v)
        return 0;
    if (iso8601_parse(v, out) != 0)
        return bad_param(resp, name, "must be ISO-8601 with an offset, e.g. 2026-11-24T00:00:00+08:00");
    return 1;
}

enum http_result api_get_results(struct gateway *gw, struct http_request *req,
                                    struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    struct result_filter f = {.limit = 50, .score_min = -1, .score_max = -1};
    long n;
    int rc;
    if ((rc = int_arg(req, resp, "limit", 1, 500, &n)) < 0)
        return HTTP_DONE;
    if (rc)
        f.limit = (int)n;
    if ((rc = int_arg(req, resp, "cursor", 0, 0x7fffffffL, &n)) < 0)
        return HTTP_DONE;
    if (rc)
        f.cursor = n;
    if ((rc = int_arg(req, resp, "score_min", 1, 10, &n)) < 0)
        return HTTP_DONE;
    if (rc)
        f.score_min = (int)n;
    if ((rc = int_arg(req, resp, "score_max", 1, 10, &n)) < 0)
        return HTTP_DONE;
    if (rc)
        f.score_max = (int)n;
    if (time_arg(req, resp, "from", &f.from) < 0 || time_arg(req, resp, "to", &f.to) < 0)
        return HTTP_DONE;
    f.project = http_request_arg(req, "project");
    f.customer = http_request_arg(req, "customer");
    f.milestone = http_request_arg(req, "milestone");
    f.state = http_request_arg(req, "state");
    if (f.state && strcmp(f.state, "open") && strcmp(f.state, "answered") &&
        strcmp(f.state, "unanswered") && strcmp(f.state, "expired")) {
        bad_param(resp, "state", "state must be open, answered, unanswered or expired");
        return HTTP_DONE;
    }
    const char *flagged = http_request_arg(req, "flagged");
    f.flagged_only = flagged && strcmp(flagged, "1") == 0;
    int64_t next = -1;
    char *rows = store_results_json(gw->store, &f, &next);
    if (!rows) {
        resp->status = 500;
        resp->body = api_error_body("store_error", NULL, "the results could not be read");
        return HTTP_DONE;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_Parse(rows);
    free(rows);
    int count = cJSON_GetArraySize(arr);
    cJSON_AddItemToObject(o, "results", arr ? arr : cJSON_CreateArray());
    if (count == f.limit && next > 0)
        cJSON_AddNumberToObject(o, "next_cursor", (double)next);
    else
        cJSON_AddNullToObject(o, "next_cursor");
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return HTTP_DONE;
}

enum http_result api_get_tickets(struct gateway *gw, struct http_request *req,
                                    struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    const char *state = http_request_arg(req, "state");
    if (state && strcmp(state, "open") && strcmp(state, "reported") && strcmp(state, "resolved")) {
        bad_param(resp, "state", "state must be open, reported or resolved");
        return HTTP_DONE;
    }
    char *rows = store_tickets_json(gw->store, state, clock_now(), 0);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = rows ? cJSON_Parse(rows) : NULL;
    free(rows);
    cJSON_AddItemToObject(o, "tickets", arr ? arr : cJSON_CreateArray());
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return HTTP_DONE;
}

/* "<id>" or "<id>/<action>" of /v1/tickets/... ; -1 if not a ticket path. */
static int64_t ticket_path(const char *tail, const char **action)
{
    char *end;
    long long id = strtoll(tail, &end, 10);
    if (end == tail || id <= 0)
        return -1;
    if (*end == '\0') {
        *action = NULL;
        return id;
    }
    if (*end != '/')
        return -1;
    *action = end + 1;
    return id;
}

enum http_result api_get_ticket(struct gateway *gw, struct http_request *req,
                                   struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    const char *action;
    int64_t id = ticket_path(req->path_tail, &action);
    char *rows = id > 0 && !action ? store_tickets_json(gw->store, NULL, clock_now(), id) : NULL;
    cJSON *arr = rows ? cJSON_Parse(rows) : NULL;
    free(rows);
    if (cJSON_GetArraySize(arr) != 1) {
        cJSON_Delete(arr);
        resp->status = 404;
        resp->body = api_error_body("not_found", "id", "no such ticket");
        return HTTP_DONE;
    }
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(cJSON_GetArrayItem(arr, 0));
    cJSON_Delete(arr);
    return HTTP_DONE;
}

enum http_result api_post_ticket(struct gateway *gw, struct http_request *req,
                                    struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    const char *action;
    int64_t id = ticket_path(req->path_tail, &action);
    int resolve = action && strcmp(action, "resolve") == 0;
    if (id < 0 || !action || (!resolve && strcmp(action, "report") != 0)) {
        resp->status = 404;
        resp->body = api_error_body("not_found", NULL, "no such endpoint");
        return HTTP_DONE;
    }
    const char *key = resolve ? "resolution" : "note";
    cJSON *body = cJSON_ParseWithLength(req->body.data, req->body.len);
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(body, key);
    if (!cJSON_IsObject(body) || !cJSON_IsString(text) || !text->valuestring[0] ||
        !utf8_valid(text->valuestring, strlen(text->valuestring)) ||
        utf8_chars(text->valuestring) > 2000) {
        /* Decided before the delete: reading @body after it was a
         * use-after-free (inside libcjson, so only valgrind saw it). */
        const char *code = cJSON_IsObject(body) || !body ? "invalid_field" : "invalid_json";
        cJSON_Delete(body);
        char msg[96];
        snprintf(msg, sizeof msg, "%s is required: 1 to 2000 characters of what was done", key);
        resp->status = 400;
        resp->body = api_error_body(code, key, msg);
        return HTTP_DONE;
    }
    char *json = NULL;
    resp->status = resolve ? tickets_resolve(gw, id, text->valuestring, &json)
                           : tickets_report(gw, id, text->valuestring, &json);
    resp->body = json;
    cJSON_Delete(body);
    return HTTP_DONE;
}

