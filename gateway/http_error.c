/*
 * http_error.c - the JSON error body.
 */
#include "http_error.h"

#include <stdarg.h>
#include <stdio.h>

#include <cjson/cJSON.h>

void api_error_set(struct api_error *e, int status, const char *code, const char *field,
                   const char *fmt, ...)
{
    e->status = status;
    snprintf(e->code, sizeof e->code, "%s", code);
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

char *api_error_json(const struct api_error *e)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(err, "code", e->code);
    if (e->field[0])
        cJSON_AddStringToObject(err, "field", e->field);
    else
        cJSON_AddNullToObject(err, "field");
    cJSON_AddStringToObject(err, "message", e->message);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

char *api_error_body(const char *code, const char *field, const char *message)
{
    struct api_error e = {0};
    api_error_set(&e, 0, code, field, "%s", message);
    return api_error_json(&e);
}
