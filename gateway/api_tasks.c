/*
 * api_tasks.c - staff tasks over HTTP (tasks.h): what customer service
 * reads and marks done.
 *
 *   GET  /v1/tasks?project=&trigger=&state=waiting|open|overdue|done
 *   GET  /v1/tasks/<id>
 *   POST /v1/tasks/<id>/done   {"note": "..."}   (note required by some tasks)
 * All need a cs or admin token.
 */
#include "api.h"
#include "config.h"
#include "gateway.h"
#include "http_error.h"
#include "tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum http_result answer(struct http_response *resp, int status, const char *code,
                               const char *field, const char *msg)
{
    resp->status = status;
    resp->body = api_error_body(code, field, msg);
    return HTTP_DONE;
}

/* Answer with {"tasks": [...]} for @f. */
static enum http_result list(struct gateway *gw, const struct task_filter *f,
                             struct http_response *resp)
{
    char *rows = store_tasks_json(gw->store, f, clock_now());
    cJSON *arr = rows ? cJSON_Parse(rows) : NULL;
    free(rows);
    if (!arr)
        return answer(resp, 500, "store_error", NULL, "the tasks could not be read");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "tasks", arr);
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return HTTP_DONE;
}

enum http_result api_get_tasks(struct gateway *gw, struct http_request *req,
                               struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    struct task_filter f = {.project = http_request_arg(req, "project"),
                            .state = http_request_arg(req, "state")};
    if (f.state && strcmp(f.state, "waiting") && strcmp(f.state, "open") &&
        strcmp(f.state, "overdue") && strcmp(f.state, "done"))
        return answer(resp, 400, "invalid_field", "state",
                      "state must be waiting, open, overdue or done");
    if (f.project && (!*f.project || strlen(f.project) > 64))
        return answer(resp, 400, "invalid_field", "project", "project must be a project id");
    const char *trig = http_request_arg(req, "trigger");
    if (trig) {
        char *end;
        long long v = strtoll(trig, &end, 10);
        if (!*trig || *end || v <= 0)
            return answer(resp, 400, "invalid_field", "trigger",
                          "trigger must be a trigger id (a positive whole number)");
        f.trigger_id = v;
    }
    return list(gw, &f, resp);
}

/* "<id>" or "<id>/<action>" of /v1/tasks/...; -1 if not a task path. */
static int64_t task_path(const char *tail, const char **action)
{
    char *end;
    long long id = strtoll(tail, &end, 10);
    if (end == tail || id <= 0 || (*end && *end != '/'))
        return -1;
    *action = *end ? end + 1 : NULL;
    return id;
}

enum http_result api_get_task(struct gateway *gw, struct http_request *req,
                              struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    const char *action = NULL;
    struct task_filter f = {.id = task_path(req->path_tail, &action)};
    char *rows = f.id > 0 && !action ? store_tasks_json(gw->store, &f, clock_now()) : NULL;
    cJSON *arr = rows ? cJSON_Parse(rows) : NULL;
    free(rows);
    if (cJSON_GetArraySize(arr) != 1) {
        cJSON_Delete(arr);
        return answer(resp, 404, "not_found", "id", "no such task");
    }
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(cJSON_GetArrayItem(arr, 0));
    cJSON_Delete(arr);
    return HTTP_DONE;
}

enum http_result api_post_task(struct gateway *gw, struct http_request *req,
                               struct http_response *resp)
{
    const struct api_token *tok = api_auth(gw, req, ROLE_CS | ROLE_ADMIN, resp);
    if (!tok)
        return HTTP_DONE;
    const char *action = NULL;
    int64_t id = task_path(req->path_tail, &action);
    if (id < 0 || !action || strcmp(action, "done") != 0)
        return answer(resp, 404, "not_found", NULL, "no such endpoint");
    cJSON *body = cJSON_ParseWithLength(req->body.data, req->body.len);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return answer(resp, 400, "invalid_json", NULL, "the body must be a JSON object");
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, body) {
        if (strcmp(v->string, "note") != 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown field '%.64s'", v->string);
            enum http_result r = answer(resp, 400, "unknown_field", v->string, msg);
            cJSON_Delete(body);
            return r;
        }
    }
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(body, "note");
    if (note && !cJSON_IsNull(note) &&
        (!cJSON_IsString(note) || !note->valuestring[0] ||
         !utf8_valid(note->valuestring, strlen(note->valuestring)) ||
         utf8_chars(note->valuestring) > 2000)) {
        cJSON_Delete(body);
        return answer(resp, 400, "invalid_field", "note",
                      "note must be 1 to 2000 characters of what was done or found");
    }
    char *json = NULL;
    resp->status = tasks_done(gw, id, tok->name, cJSON_IsString(note) ? note->valuestring : NULL,
                              &json);
    resp->body = json;
    cJSON_Delete(body);
    return HTTP_DONE;
}
