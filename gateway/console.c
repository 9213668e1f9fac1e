/*
 * console.c - the web console (/console), the project manager's page (/pm),
 * their sign-in and sign-out, and the PM's own endpoints (see console.h).
 *
 * Why a small JavaScript app rather than pages rendered here: the console
 * shows exactly what the JSON API gives (results, tickets, timelines,
 * reports), so it reads that API with the session cookie instead of a
 * second, parallel set of store queries and HTML renderers in C. Role
 * checks, masking of mobile numbers, filters and CSV stay in one place
 * (the API), and the charts are inline SVG drawn by the app. Only the
 * sign-in form and the shell that carries the CSRF token are rendered
 * here; they work without JavaScript.
 *
 * The PM's trigger goes through POST /v1/triggers' own handler
 * (api_post_trigger): the page sends the idempotency key, the milestone and
 * the instant; the project and customer are taken from the project's last
 * trigger (the ERP stays the master of that data, and the PM's phone never
 * receives the customer's full mobile number), and the assembled body is
 * validated, planned, group-committed and answered exactly like an ERP's.
 */
#include "console.h"
#include "api.h"
#include "console_session.h"
#include "gateway.h"
#include "http_error.h"
#include "intake.h"
#include "log.h"
#include "survey_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTML "text/html; charset=utf-8"

/* Scripts, styles and fetches from this origin only; nothing inline,
 * nothing from the internet. */
static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self'; connect-src 'self'; form-action 'self'; "
                          "base-uri 'none'; frame-ancestors 'none'";

/* One signed-in application: the console or the PM page. */
struct app {
    const char *base;       /* "/console" */
    const char *home;       /* "/console/" */
    const char *login;      /* "/console/login" */
    const char *title;      /* shown in the header and the sign-in form */
    const char *script;     /* its asset in web/ */
    unsigned roles;         /* a token with one of these may sign in */
    int needs_staff;        /* the token must name its staff member (PM page) */
    const char *who;        /* "客服" - who signs in, for the messages */
};

static const struct app CONSOLE = {"/console", "/console/", "/console/login", "回访客服台",
                                   "console.js", ROLE_CS | ROLE_ADMIN, 0, "客服或管理员"};
static const struct app PM = {"/pm", "/pm/", "/pm/login", "项目经理 · 节点上报", "pm.js",
                              ROLE_TRIGGER, 1, "项目经理"};

/* ---- helpers ------------------------------------------------------------- */

static const struct web_asset *asset(const char *name)
{
    for (size_t i = 0; i < web_nassets; i++)
        if (strcmp(web_assets[i].name, name) == 0)
            return &web_assets[i];
    return NULL;
}

static int app_allows(const struct app *a, const struct api_token *t)
{
    return (t->roles & a->roles) && (!a->needs_staff || t->staff_id);
}

static int64_t ttl_ms(const struct gateway *gw)
{
    return gw->cfg->console_session_ttl_ms;
}

/* The request's live session, or -1. */
static int session_of(struct gateway *gw, const struct http_request *req,
                      struct console_session *cs)
{
    const char *sid = http_request_cookie(req, CONSOLE_COOKIE);
    return sid ? console_session_get(gw->sessions, gw->cfg, sid, clock_now_ms(), ttl_ms(gw), cs)
               : -1;
}

/* A form POST from another site is refused: browsers send Origin with
 * every POST, and it must name this host. (SameSite=Strict already keeps
 * the cookie off cross-site requests; this also covers the sign-in form,
 * which has no cookie yet.) */
static int same_origin(const struct http_request *req)
{
    const char *origin = http_request_header(req, "Origin");
    if (!origin)
        return 1; /* not a browser, or an old one: nothing to forge with */
    const char *host = http_request_header(req, "Host");
    const char *p = strstr(origin, "://");
    return host && p && strcmp(p + 3, host) == 0;
}

/* The value of form field @name in the urlencoded @body, or NULL. Caller
 * frees. */
static char *form_field(const char *body, size_t len, const char *name)
{
    size_t nl = strlen(name);
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t outlen;
            char *v = page_form_decode(p + nl + 1, (size_t)(stop - p - nl - 1), &outlen);
            if (v && strlen(v) != outlen) { /* an embedded NUL */
                free(v);
                v = NULL;
            }
            return v;
        }
        p = stop + 1;
    }
    return NULL;
}

static void redirect(struct http_response *resp, const char *to)
{
    resp->status = 303;
    resp->location = to;
    resp->content_type = HTML;
    resp->body = NULL;
}

/* The session cookie. Secure when the gateway's public address is HTTPS
 * (behind a TLS proxy): the browser then never sends it in clear. */
static char *cookie(const struct gateway *gw, const char *sid, int64_t max_age_s)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", CONSOLE_COOKIE,
               sid, (long long)max_age_s,
               strncmp(gw->cfg->public_url, "https://", 8) == 0 ? "; Secure" : "");
    return buf_steal(&b);
}

/* The document around @body (HTML, already escaped): a strict CSP, the
 * shared stylesheet, and with @script the app (same origin). */
static void page(struct gateway *gw, struct http_response *resp, int status,
                 const struct app *a, const char *head_extra, const char *body,
                 const char *script)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 "<meta name=\"referrer\" content=\"same-origin\"><title>");
    buf_puts(&b, a->title);
    buf_puts(&b, " · ");
    page_html_escape(&b, gw->cfg->company_name);
    buf_printf(&b, "</title><link rel=\"stylesheet\" href=\"%s/app.css\">", a->base);
    if (head_extra)
        buf_puts(&b, head_extra);
    buf_printf(&b, "</head><body class=\"%s\">", a == &PM ? "pm" : "console");
    buf_puts(&b, body);
    if (script)
        buf_printf(&b, "<script src=\"%s/%s\"></script>", a->base, script);
    buf_puts(&b, "</body></html>\n");
    resp->status = status;
    resp->body = buf_steal(&b);
    resp->content_type = HTML;
    resp->csp = CSP;
}

static void login_page(struct gateway *gw, struct http_response *resp, const struct app *a,
                       int status, const char *error)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "<main class=\"login\"><h1>");
    page_html_escape(&b, gw->cfg->company_name);
    buf_printf(&b, "</h1><h2>%s</h2>", a->title);
    if (error)
        buf_printf(&b, "<p class=\"error\" role=\"alert\" id=\"login-error\">%s</p>", error);
    buf_printf(&b,
               "<form method=\"post\" action=\"%s/login\" class=\"card\">"
               "<label for=\"token\">访问令牌</label>"
               "<input type=\"password\" id=\"token\" name=\"token\" required "
               "autocomplete=\"current-password\" autofocus>"
               "<button type=\"submit\" class=\"primary\">登录</button></form>"
               "<p class=\"hint\">请使用管理员发给您的%s令牌登录。登录后在本机保持，"
               "闲置超时或退出后需重新登录。</p></main>",
               a->base, a->who);
    char *body = buf_steal(&b);
    page(gw, resp, status, a, NULL, body, NULL);
    free(body);
}

static void not_found_page(struct gateway *gw, struct http_response *resp, const struct app *a)
{
    char body[256];
    snprintf(body, sizeof body,
             "<main class=\"login\"><h2>页面不存在</h2><p><a href=\"%s/\">返回首页</a></p></main>",
             a->base);
    page(gw, resp, 404, a, NULL, body, NULL);
}

/* The app's shell: header, navigation, sign-out form with the CSRF token,
 * and the script. The CSRF token also goes to the script in a <meta>. */
static void shell(struct gateway *gw, struct http_response *resp, const struct app *a,
                  const struct console_session *cs)
{
    struct buf head, b;
    buf_init(&head);
    buf_printf(&head, "<meta name=\"hf-csrf\" content=\"%s\">", cs->csrf);
    buf_puts(&head, "<meta name=\"hf-company\" content=\"");
    page_html_escape(&head, gw->cfg->company_name);
    buf_puts(&head, "\">");
    /* Data for the app: the catalogue's milestone names and the zone's
     * current offset. A JSON data block is not executed, so the CSP allows
     * it; "<" is escaped so it cannot end the element. */
    cJSON *data = cJSON_CreateObject();
    cJSON *ms = cJSON_AddArrayToObject(data, "milestones");
    for (size_t i = 0; i < gw->cat->n; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "id", gw->cat->ms[i].id);
        cJSON_AddStringToObject(m, "name", gw->cat->ms[i].name);
        cJSON_AddItemToArray(ms, m);
    }
    char iso[32];
    iso8601_format_local(clock_now(), iso);
    size_t il = strlen(iso);
    cJSON_AddStringToObject(data, "offset", il > 6 && iso[il - 1] != 'Z' ? iso + il - 6 : "Z");
    char *dj = cJSON_PrintUnformatted(data);
    cJSON_Delete(data);
    buf_puts(&head, "<script type=\"application/json\" id=\"hf-data\">");
    for (const char *p = dj; *p; p++) {
        if (*p == '<')
            buf_puts(&head, "\\u003c");
        else
            buf_append(&head, p, 1);
    }
    buf_puts(&head, "</script>");
    free(dj);
    buf_init(&b);
    buf_puts(&b, "<header class=\"top\"><div class=\"brand\">");
    page_html_escape(&b, gw->cfg->company_name);
    buf_printf(&b, " <span>%s</span></div>", a->title);
    if (a == &CONSOLE)
        buf_puts(&b, "<nav id=\"nav\"><a href=\"#/worklist\">今日待办</a>"
                     "<a href=\"#/results\">回访结果</a><a href=\"#/tickets\">投诉工单</a>"
                     "<a href=\"#/reports\">报表</a></nav>");
    buf_puts(&b, "<div class=\"user\"><span id=\"user\">");
    page_html_escape(&b, cs->token->name);
    buf_printf(&b, "</span><form method=\"post\" action=\"%s/logout\">"
                   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                   "<button type=\"submit\" id=\"logout\">退出</button></form></div></header>"
                   "<main id=\"main\" aria-live=\"polite\"><p class=\"muted\">加载中…</p>"
                   "<noscript>此页面需要启用 JavaScript。</noscript></main>",
               a->base, cs->csrf);
    char *h = buf_steal(&head), *body = buf_steal(&b);
    page(gw, resp, 200, a, h, body, a->script);

    free(h);
    free(body);
}

static void serve_asset(struct http_response *resp, const struct web_asset *w)
{
    const char *dot = strrchr(w->name, '.');
    resp->status = 200;
    resp->body = xstrdup((const char *)w->data);
    resp->content_type = dot && strcmp(dot, ".css") == 0 ? "text/css; charset=utf-8"
                                                          : "text/javascript; charset=utf-8";
    resp->csp = CSP;
}

/* ---- GET /console..., /pm... --------------------------------------------- */

static enum http_result app_get(struct gateway *gw, struct http_request *req,
                                struct http_response *resp, const struct app *a)
{
    size_t bl = strlen(a->base);
    if (strcmp(req->path, a->base) == 0) { /* "/console" without the slash */
        redirect(resp, a->home);
        return HTTP_DONE;
    }
    const char *tail = req->path + bl + 1; /* after "/console/" */
    if (strcmp(tail, "app.css") == 0 || strcmp(tail, a->script) == 0) {
        const struct web_asset *w = asset(strcmp(tail, "app.css") == 0 ? "console.css" : tail);
        if (w) {
            serve_asset(resp, w);
            return HTTP_DONE;
        }
    }
    struct console_session cs;
    int signed_in = session_of(gw, req, &cs) == 0 && app_allows(a, cs.token);
    if (strcmp(tail, "login") == 0) {
        if (signed_in)
            redirect(resp, a->home);
        else
            login_page(gw, resp, a, 200, NULL);
        return HTTP_DONE;
    }
    if (*tail) {
        not_found_page(gw, resp, a);
        return HTTP_DONE;
    }
    if (!signed_in) {
        redirect(resp, a->login);
        return HTTP_DONE;
    }
    shell(gw, resp, a, &cs);
    return HTTP_DONE;
}

enum http_result console_get(struct gateway *gw, struct http_request *req,
                             struct http_response *resp)
{
    return app_get(gw, req, resp, &CONSOLE);
}

enum http_result console_pm_get(struct gateway *gw, struct http_request *req,
                                struct http_response *resp)
{
    return app_get(gw, req, resp, &PM);
}

/* ---- POST /console/login, /console/logout (and /pm/...) ------------------ */

static enum http_result app_post(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp, const struct app *a)
{
    const char *tail = req->path_tail;
    if (!same_origin(req)) {
        const char *o = http_request_header(req, "Origin");
        LOG_WARN("console", "form POST to %s/%s refused: Origin %.80s is not this host",
                 a->base, req->path_tail, o ? o : "-");
        login_page(gw, resp, a, 403, "请求来源不符，已拒绝。请从本系统的页面登录。");
        return HTTP_DONE;
    }
    if (strcmp(tail, "login") == 0) {
        char *token = form_field(req->body.data, req->body.len, "token");
        const struct api_token *t = token && *token ? config_find_token(gw->cfg, token) : NULL;
        if (token)
            memset(token, 0, strlen(token));
        free(token);
        if (!t) {
            LOG_INFO("console", "sign-in refused at %s: unknown token", a->base);
            login_page(gw, resp, a, 401, "令牌无效，请检查后重新输入。");
            return HTTP_DONE;
        }
        if (!app_allows(a, t)) {
            LOG_INFO("console", "sign-in refused at %s: token=%s lacks the role", a->base,
                     t->name);
            login_page(gw, resp, a, 403,
                       a == &PM ? "此令牌不是项目经理令牌（需要 trigger 角色并绑定 staff_id）。"
                                : "此令牌没有客服权限（需要 cs 或 admin 角色）。");
            return HTTP_DONE;
        }
        /* A new id at every sign-in (never one the browser brought), and
         * the session this browser had before ends. */
        const char *old_sid = http_request_cookie(req, CONSOLE_COOKIE);
        if (old_sid)
            console_session_delete(gw->sessions, old_sid);
        char sid[CONSOLE_SID_LEN + 1];
        console_session_create(gw->sessions, t, clock_now_ms(), ttl_ms(gw), sid);
        resp->set_cookie = cookie(gw, sid, ttl_ms(gw) / 1000);
        LOG_INFO("console", "signed in at %s: token=%s", a->base, t->name);
        redirect(resp, a->home);
        return HTTP_DONE;
    }
    if (strcmp(tail, "logout") == 0) {
        struct console_session cs;
        const char *sid = http_request_cookie(req, CONSOLE_COOKIE);
        if (sid && console_session_get(gw->sessions, gw->cfg, sid, clock_now_ms(), ttl_ms(gw),
                                       &cs) == 0) {
            char *csrf = form_field(req->body.data, req->body.len, "csrf");
            int ok = console_session_csrf_ok(&cs, csrf);
            free(csrf);
            if (!ok) {
                resp->status = 403;
                resp->body = api_error_body("csrf_failed", "csrf",
                                            "the form's CSRF token does not match the session");
                return HTTP_DONE;
            }
            LOG_INFO("console", "signed out at %s: token=%s", a->base, cs.token->name);
            console_session_delete(gw->sessions, sid);
        }
        resp->set_cookie = cookie(gw, "", 0);
        redirect(resp, a->login);
        return HTTP_DONE;
    }
    resp->status = 404;
    resp->body = api_error_body("not_found", NULL, "no such endpoint");
    return HTTP_DONE;
}

enum http_result console_post(struct gateway *gw, struct http_request *req,
                              struct http_response *resp)
{
    return app_post(gw, req, resp, &CONSOLE);
}

enum http_result console_pm_post(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp)
{
    return app_post(gw, req, resp, &PM);
}

/* ---- the API's cookie authentication ---------------------------------- */

const struct api_token *console_api_auth(struct gateway *gw, const struct http_request *req,
                                         unsigned roles, struct http_response *resp)
{
    struct console_session cs;
    if (session_of(gw, req, &cs) != 0) {
        resp->status = 401;
        resp->body = api_error_body("unauthorized", "Cookie",
                                    "the console session has ended or is unknown; sign in again");
        return NULL;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
        !console_session_csrf_ok(&cs, http_request_header(req, "X-CSRF-Token"))) {
        resp->status = 403;
        resp->body = api_error_body("csrf_failed", "X-CSRF-Token",
                                    "a request with the session cookie must carry the session's "
                                    "CSRF token in X-CSRF-Token");
        return NULL;
    }
    if (!(cs.token->roles & roles)) {
        resp->status = 403;
        resp->body = api_error_body("forbidden", "Cookie",
                                    "the signed-in token does not have the role for this endpoint");
        return NULL;
    }
    return cs.token;
}

/* ---- the PM's endpoints ------------------------------------------------ */

/* The PM token of the request (trigger role with a staff_id), or NULL with
 * @resp set. */
static const struct api_token *pm_auth(struct gateway *gw, struct http_request *req,
                                       struct http_response *resp)
{
    const struct api_token *t = api_auth(gw, req, ROLE_TRIGGER, resp);
    if (t && !t->staff_id) {
        resp->status = 403;
        resp->body = api_error_body("forbidden", "Authorization",
                                    "this token names no staff member (api_tokens[].staff_id)");
        return NULL;
    }
    return t;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* 1 if another milestone's schedule plans @m (day 7 after kickoff, the
 * weekly check-in, warranty visits): nobody reports those by hand. */
static int scheduled_by_another(const struct catalogue *cat, const struct milestone *m)
{
    for (size_t i = 0; i < cat->n; i++)
        for (size_t k = 0; k < cat->ms[i].nschedules; k++)
            if (cat->ms[i].schedules[k].ms == m)
                return 1;
    return 0;
}

/* The milestones a PM reports from the site: not complaints and repair
 * requests (they come from customers), not campaigns, not those that need
 * variables only the ERP has (a cancellation's reason), not those another
 * milestone schedules. */
static void add_milestones(struct gateway *gw, cJSON *o)
{
    cJSON *arr = cJSON_AddArrayToObject(o, "milestones");
    for (size_t i = 0; i < gw->cat->n; i++) {
        const struct milestone *m = &gw->cat->ms[i];
        if (m->opens_ticket || m->nvariables || m->campaign || scheduled_by_another(gw->cat, m))
            continue;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "id", m->id);
        cJSON_AddStringToObject(x, "name", m->name);
        cJSON *msgs = cJSON_AddArrayToObject(x, "messages");
        for (size_t k = 0; k < m->nmsgs; k++) {
            if (m->msgs[k].on)
                continue;
            cJSON *y = cJSON_CreateObject();
            cJSON_AddStringToObject(y, "message", m->msgs[k].id);
            cJSON_AddStringToObject(y, "kind", msg_kind_name(m->msgs[k].kind));
            cJSON_AddStringToObject(y, "to", recipient_role_name(m->msgs[k].to));
            cJSON_AddItemToArray(msgs, y);
        }
        cJSON_AddItemToArray(arr, x);
    }
}

enum http_result console_pm_projects(struct gateway *gw, struct http_request *req,
                                     struct http_response *resp)
{
    const struct api_token *t = pm_auth(gw, req, resp);
    if (!t)
        return HTTP_DONE;
    char *rows = store_pm_projects_json(gw->store, t->staff_id);
    cJSON *items = rows ? cJSON_Parse(rows) : NULL;
    free(rows);
    if (!items) {
        resp->status = 500;
        resp->body = api_error_body("store_error", NULL, "the projects could not be read");
        return HTTP_DONE;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *pm = cJSON_AddObjectToObject(o, "pm");
    cJSON_AddStringToObject(pm, "name", t->name);
    cJSON_AddStringToObject(pm, "staff_id", t->staff_id);
    cJSON_AddItemToObject(o, "items", items);
    cJSON_AddNullToObject(o, "next_cursor");
    /* The gateway's clock: the page reports milestones at this instant
     * (plus the time since), not at a phone's clock, which may be wrong. */
    char now[32];
    iso8601_format_local(clock_now(), now);
    cJSON_AddStringToObject(o, "now", now);
    add_milestones(gw, o);
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return HTTP_DONE;
}

/* 1 if @staff_id is the PM of the project in trigger body @doc. A staff
 * member's id is the one the reports use: the WeCom id, else the phone,
 * else the name. */
static int is_pm_of(const cJSON *doc, const char *staff_id)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "project");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(p, "staff");
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(st, "pm");
    const char *id = jstr(pm, "wecom_id");
    if (!id)
        id = jstr(pm, "phone");
    if (!id)
        id = jstr(pm, "name");
    return id && strcmp(id, staff_id) == 0;
}

/* Build the trigger body for project @pid from the page's request (the
 * key, milestone, instant and optional variables) and the project's last
 * trigger. Caller frees; NULL with @resp set. */
static char *pm_trigger_body(struct gateway *gw, struct http_request *req,
                             struct http_response *resp, const struct api_token *t,
                             const char *pid)
{
    char *last = NULL;
    int rc = store_project_last_trigger_body(gw->store, pid, &last);
    cJSON *doc = rc == HF_OK ? cJSON_Parse(last) : NULL;
    free(last);
    if (rc == HF_ERR_DB) {
        resp->status = 503;
        resp->body = api_error_body("store_unavailable", NULL, "the store could not be read");
        return NULL;
    }
    if (!doc || !is_pm_of(doc, t->staff_id)) {
        /* Someone else's project looks the same as no project. */
        cJSON_Delete(doc);
        resp->status = 404;
        resp->body = api_error_body("not_found", "project", "no such project of yours");
        return NULL;
    }
    cJSON *in = cJSON_ParseWithLength(req->body.data, req->body.len);
    if (!cJSON_IsObject(in)) {
        cJSON_Delete(in);
        cJSON_Delete(doc);
        resp->status = 400;
        resp->body = api_error_body("invalid_json", NULL, "the body must be a JSON object");
        return NULL;
    }
    cJSON *out = cJSON_CreateObject();
    const cJSON *v;
    cJSON_ArrayForEach(v, in) {
        if (strcmp(v->string, "idempotency_key") && strcmp(v->string, "milestone") &&
            strcmp(v->string, "occurred_at") && strcmp(v->string, "variables")) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "unknown field '%.60s' (idempotency_key, milestone, occurred_at, variables)",
                     v->string);
            resp->status = 400;
            resp->body = api_error_body("unknown_field", v->string, msg);
            cJSON_Delete(out);
            cJSON_Delete(in);
            cJSON_Delete(doc);
            return NULL;
        }
        cJSON_AddItemToObject(out, v->string, cJSON_Duplicate(v, 1));
    }
    cJSON_AddItemToObject(out, "project",
                          cJSON_DetachItemFromObjectCaseSensitive(doc, "project"));
    cJSON_AddItemToObject(out, "customer",
                          cJSON_DetachItemFromObjectCaseSensitive(doc, "customer"));
    char *body = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    cJSON_Delete(in);
    cJSON_Delete(doc);
    return body;
}

/* POST /v1/pm/projects/<id>/preview: the plan, nothing stored. */
static void pm_preview(struct gateway *gw, struct http_response *resp, const char *body)
{
    struct intake_trigger t;
    struct api_error e;
    if (intake_validate(gw->cfg, gw->cat, gw->cal, body, strlen(body), clock_now(), &t, &e) !=
        0) {
        resp->status = e.status;
        resp->body = api_error_json(&e);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "milestone", t.m->id);
    cJSON_AddStringToObject(o, "name", t.m->name);
    cJSON *arr = cJSON_AddArrayToObject(o, "messages");
    for (int i = 0; i < t.nplans; i++) {
        const struct planned *p = &t.plans[i];
        cJSON *m = cJSON_CreateObject();
        char iso[32];
        cJSON_AddStringToObject(m, "message", p->cm->id);
        cJSON_AddStringToObject(m, "kind", msg_kind_name(p->cm->kind));
        cJSON_AddStringToObject(m, "to", recipient_role_name(p->cm->to));
        cJSON_AddStringToObject(m, "channel", p->channel);
        iso8601_format_local(p->due_at, iso);
        cJSON_AddStringToObject(m, "due_at", iso);
        cJSON_AddItemToArray(arr, m);
    }
    resp->status = 200;
    resp->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    intake_trigger_cleanup(&t);
}

enum http_result console_pm_trigger(struct gateway *gw, struct http_request *req,
                                    struct http_response *resp)
{
    const struct api_token *t = pm_auth(gw, req, resp);
    if (!t)
        return HTTP_DONE;
    /* "<project id>/preview" or "<project id>/triggers" */
    const char *slash = strrchr(req->path_tail, '/');
    size_t idlen = slash ? (size_t)(slash - req->path_tail) : 0;
    int preview = slash && strcmp(slash, "/preview") == 0;
    if (!slash || idlen == 0 || idlen > 64 || (!preview && strcmp(slash, "/triggers") != 0)) {
        resp->status = 404;
        resp->body = api_error_body("not_found", NULL, "no such endpoint");
        return HTTP_DONE;
    }
    char pid[65];
    memcpy(pid, req->path_tail, idlen);
    pid[idlen] = '\0';
    char *body = pm_trigger_body(gw, req, resp, t, pid);
    if (!body)
        return HTTP_DONE;
    if (preview) {
        pm_preview(gw, resp, body);
        free(body);
        return HTTP_DONE;
    }
    LOG_INFO("console", "PM trigger for project %s by token=%s", pid, t->name);
    /* The ERP's path, from authentication to the group commit. */
    buf_cleanup(&req->body);
    buf_init(&req->body);
    buf_puts(&req->body, body);
    free(body);
    return api_post_trigger(gw, req, resp);
}
