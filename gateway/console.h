/*
 * console.h - the customer-service web console (/console) and the project
 * manager's page (/pm), served by huifangd itself.
 *
 *   GET  /console, /console/       the console (a small self-contained JS app
 *                                  that reads the JSON API with the session
 *                                  cookie); without a session: 303 to the sign-in
 *   GET  /console/login            sign-in form (a cs or admin token)
 *   POST /console/login            form: token -> session cookie, 303 /console/
 *   POST /console/logout           form: csrf -> session ended, 303 /console/login
 *   GET  /console/app.js, app.css  the app (embedded at build time from web/)
 *   GET  /pm, /pm/, /pm/login, POST /pm/login, /pm/logout, GET /pm/pm.js
 *                                  the same for a PM (trigger token with staff_id)
 *   GET  /v1/pm/projects           the signed-in PM's projects and the milestones
 *                                  they may report
 *   POST /v1/pm/projects/<id>/preview   what a milestone would send, and when
 *   POST /v1/pm/projects/<id>/triggers  report it: POST /v1/triggers' own path
 *
 * Every page is served with a strict Content-Security-Policy: scripts,
 * styles and fetches from this origin only, nothing from the internet, no
 * inline script or style.
 */
#ifndef HF_CONSOLE_H
#define HF_CONSOLE_H

#include "http_server.h"

struct gateway;
struct api_token;

/* api_auth() for a request that carries the console's session cookie and
 * no Authorization header: the session's token must have one of @roles;
 * any method other than GET must carry the session's CSRF token in the
 * X-CSRF-Token header. NULL with @resp set to 401 (no or expired
 * session), 403 (wrong or missing CSRF token, or no role). */
const struct api_token *console_api_auth(struct gateway *gw, const struct http_request *req,
                                         unsigned roles, struct http_response *resp);

enum http_result console_get(struct gateway *gw, struct http_request *req,
                             struct http_response *resp);
enum http_result console_post(struct gateway *gw, struct http_request *req,
                              struct http_response *resp);
enum http_result console_pm_get(struct gateway *gw, struct http_request *req,
                                struct http_response *resp);
enum http_result console_pm_post(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp);
enum http_result console_pm_projects(struct gateway *gw, struct http_request *req,
                                     struct http_response *resp);
enum http_result console_pm_trigger(struct gateway *gw, struct http_request *req,
                                    struct http_response *resp);

/* The files of web/, embedded by the build (build/gen/web_assets.c). */
struct web_asset {
    const char *name;          /* "console.js" */
    const unsigned char *data; /* NUL-terminated */
    size_t len;
};
extern const struct web_asset web_assets[];
extern const size_t web_nassets;

#endif
