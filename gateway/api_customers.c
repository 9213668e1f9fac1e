/*
 * api_customers.c - POST /v1/customers/<id>/preferences: a customer's
 * preferred contact time, set by customer service (the customer said on
 * the phone "evenings, please") or by the ERP.
 *
 *   {"preferred_time": "19:00-20:30"}   (comma-separated spans, inside the
 *                                        notice hours: never at night)
 *   {"preferred_time": null}            back to the default survey windows
 *
 * It applies to the customer's surveys from then on, those already planned
 * included: the dispatcher reads it when a survey falls due.
 */
#include "api.h"
#include "gateway.h"
#include "http_error.h"
#include "log.h"
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static void not_found(struct http_response *resp)
{
    resp->status = 404;
    resp->body = api_error_body("not_found", "id", "no such customer");
}

enum http_result api_post_customer(struct gateway *gw, struct http_request *req,
                                   struct http_response *resp)
{
    if (!api_auth(gw, req, ROLE_TRIGGER | ROLE_CS | ROLE_ADMIN, resp))
        return HTTP_DONE;
    /* path_tail: "<id>/preferences" */
    const char *slash = strchr(req->path_tail, '/');
    if (!slash || slash == req->path_tail || strcmp(slash, "/preferences") != 0 ||
        slash - req->path_tail > 64) {
        resp->status = 404;
        resp->body = api_error_body("not_found", NULL, "no such endpoint");
        return HTTP_DONE;
    }
    char id[72];
    snprintf(id, sizeof id, "%.*s", (int)(slash - req->path_tail), req->path_tail);
    cJSON *body = cJSON_ParseWithLength(req->body.data, req->body.len);
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(body, "preferred_time");
    struct window_def w;
    if (!cJSON_IsObject(body)) {
        resp->status = 400;
        resp->body = api_error_body("invalid_json", NULL, "the body must be a JSON object");
    } else if (cJSON_GetArraySize(body) != 1 || !pt) {
        resp->status = 400;
        resp->body = api_error_body("invalid_field", "preferred_time",
                                    "send exactly {\"preferred_time\": \"HH:MM-HH:MM\" or null}");
    } else if (!cJSON_IsNull(pt) &&
               (!cJSON_IsString(pt) || plan_preferred_window(gw->cfg, pt->valuestring, &w))) {
        resp->status = 400;
        resp->body = api_error_body("invalid_field", "preferred_time",
                                    "preferred_time must be times HH:MM-HH:MM (comma-separated) "
                                    "inside the notice hours, never at night, e.g. 19:00-20:30");
    } else {
        const char *pref = cJSON_IsString(pt) ? pt->valuestring : NULL;
        int rc = store_customer_set_preferred_time(gw->store, id, pref, clock_now());
        if (rc == HF_ERR_NOTFOUND) {
            not_found(resp);
        } else if (rc != HF_OK) {
            resp->status = 500;
            resp->body = api_error_body("store_error", NULL, "the store could not be written");
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "customer", id);
            if (pref)
                cJSON_AddStringToObject(o, "preferred_time", pref);
            else
                cJSON_AddNullToObject(o, "preferred_time");
            resp->status = 200;
            resp->body = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            LOG_INFO("api", "customer=%s preferred_time=%s", id, pref ? pref : "-");
        }
    }
    cJSON_Delete(body);
    return HTTP_DONE;
}
