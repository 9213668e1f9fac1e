/*
 * http_server.c - libmicrohttpd in external-epoll mode inside libev.
 *
 * Watchers (all on gw->loop, all owned here):
 *   mhd_io     EV_READ on MHD's internal epoll fd  -> MHD_run
 *   mhd_timer  one-shot, re-armed every loop iteration from MHD_get_timeout
 *              in http_server_before_sleep()        -> MHD_run
 * Nothing else calls MHD_run. A resume only sets need_run; the gateway's
 * before-sleep hook then runs MHD before libev computes its block time.
 * This is required on Debian's 0.9.75, where MHD_resume_connection in
 * external mode neither wakes the epoll fd nor shortens MHD_get_timeout.
 *
 * MHD's defaults are unsafe for a daemon (no connection timeout, a limit
 * near FD_SETSIZE, no body cap): every one is set from the config.
 */
#include "http_server.h"
#include "gateway.h"
#include "http_error.h"
#include "log.h"
#include "ratelimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

struct http_server {
    struct gateway *gw;              /* back pointer, for handlers */
    struct MHD_Daemon *d;
    const struct http_route *routes; /* borrowed */
    size_t nroutes;
    ev_io mhd_io;                    /* MHD's epoll fd */
    ev_timer mhd_timer;              /* MHD's own timeouts */
    int need_run;                    /* a resume happened: run MHD before sleeping */
    int port;                        /* bound port */
    MHD_socket quiesced_fd;          /* listen fd returned by quiesce, closed at free */
    struct http_request *parked;     /* doubly linked list of suspended requests */
    size_t nparked;
    struct ip_limits *iplim;         /* per-address limit of public routes; NULL = off */
};

static void on_mhd_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct http_server *h = w->data;
    MHD_run(h->d);
}

static void on_mhd_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct http_server *h = w->data;
    MHD_run(h->d);
}

void http_server_before_sleep(struct http_server *h)
{
    if (!h || !h->d)
        return;
    if (h->need_run) {
        h->need_run = 0;
        MHD_run(h->d);
    }
    MHD_UNSIGNED_LONG_LONG ms;
    ev_timer_stop(h->gw->loop, &h->mhd_timer);
    if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
        /* Floating-point seconds: integer ms/1000 would turn 999 ms into a
         * zero timer and spin. */
        ev_timer_set(&h->mhd_timer, (double)ms / 1000.0, 0.);
        ev_timer_start(h->gw->loop, &h->mhd_timer);
    }
}

/* ---- parked list -------------------------------------------------------- */

static void park(struct http_server *h, struct http_request *r)
{
    r->parked = 1;
    r->park_prev = NULL;
    r->park_next = h->parked;
    if (h->parked)
        h->parked->park_prev = r;
    h->parked = r;
    h->nparked++;
}

static void unpark(struct http_server *h, struct http_request *r)
{
    if (!r->parked)
        return;
    if (r->park_prev)
        r->park_prev->park_next = r->park_next;
    else
        h->parked = r->park_next;
    if (r->park_next)
        r->park_next->park_prev = r->park_prev;
    r->park_next = r->park_prev = NULL;
    r->parked = 0;
    h->nparked--;
}

size_t http_server_parked(const struct http_server *h)
{
    return h ? h->nparked : 0;
}

void http_server_resume(struct http_server *h, struct http_request *req, int status, char *body,
                        const char *content_type)
{
    HF_ASSERT(req->parked);
    unpark(h, req);
    req->answered = 1;
    req->resp_status = status;
    req->resp_body = body;
    req->resp_type = content_type ? content_type : "application/json";
    MHD_resume_connection(req->conn);
    h->need_run = 1; /* MHD_run happens in before_sleep, never here */
}

/* ---- responses ---------------------------------------------------------- */

/* @more: a handler's response for its cookie and redirect (Set-Cookie,
 * Location), or NULL. Takes @more->set_cookie. */
static enum MHD_Result queue_full(struct MHD_Connection *conn, int status, char *body,
                                  const char *ctype, const char *allow, const char *csp,
                                  const char *disposition, const char *retry_after,
                                  struct http_response *more)
{
    char *cookie = more ? more->set_cookie : NULL;
    if (more)
        more->set_cookie = NULL;
    size_t len = body ? strlen(body) : 0;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, body ? body : (void *)"",
                                        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        free(cookie);
        return MHD_NO;
    }
    if (cookie)
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    free(cookie);
    if (more && more->location)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, more->location);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            ctype ? ctype : "application/json; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (disposition)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
    if (retry_after)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    if (csp) {
        MHD_add_response_header(r, "Content-Security-Policy", csp);
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result queue(struct MHD_Connection *conn, int status, char *body,
                             const char *ctype, const char *allow, const char *csp,
                             const char *disposition)
{
    return queue_full(conn, status, body, ctype, allow, csp, disposition, NULL, NULL);
}

static enum MHD_Result queue_error(struct http_server *h, struct MHD_Connection *conn,
                                   const struct http_route *rt, int status, const char *code,
                                   const char *msg, const char *allow)
{
    h->gw->metrics.http_requests++;
    if (rt && rt->on_reject)
        rt->on_reject(h->gw, status);
    return queue(conn, status, api_error_body(code, NULL, msg), NULL, allow, NULL, NULL);
}

/* ---- request lifecycle --------------------------------------------------- */

static const struct http_route *route_find(struct http_server *h, const char *path,
                                           const char *method, int *path_found)
{
    *path_found = 0;
    for (size_t i = 0; i < h->nroutes; i++) {
        const struct http_route *r = &h->routes[i];
        int match = r->prefix ? strncmp(path, r->path, strlen(r->path)) == 0
                              : strcmp(path, r->path) == 0;
        if (!match)
            continue;
        *path_found = 1;
        if (strcmp(method, r->method) == 0)
            return r;
    }
    return NULL;
}

static void allowed_methods(struct http_server *h, const char *path, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < h->nroutes; i++) {
        const struct http_route *r = &h->routes[i];
        int match = r->prefix ? strncmp(path, r->path, strlen(r->path)) == 0
                              : strcmp(path, r->path) == 0;
        if (match && !strstr(out, r->method)) {
            size_t l = strlen(out);
            snprintf(out + l, n - l, "%s%s", l ? ", " : "", r->method);
        }
    }
}

static int is_json_type(const char *ct)
{
    if (!ct)
        return 0;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' ||
                                                             ct[n] == ' ');
}

/* The per-address limit for a request on @conn: 0 if it may go, else the
 * milliseconds until it may. Only IPv4 is listened on; anything else is
 * let through. */
static int64_t rate_check(struct http_server *h, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET)
        return 0;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ci->client_addr;
    return ip_limits_take(h->iplim, sin->sin_addr.s_addr, clock_mono_ms());
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)version;
    struct http_server *h = cls;
    struct gateway *gw = h->gw;
    struct http_request *req = *req_cls;

    if (!req) {
        /* First call: headers only. Route, check method, type and size. */
        int path_found;
        const struct http_route *rt = route_find(h, url, method, &path_found);
        if (!rt) {
            if (path_found) {
                char allow[64];
                allowed_methods(h, url, allow, sizeof allow);
                return queue_error(h, conn, NULL, 405, "method_not_allowed",
                                   "this method is not allowed on this path", allow);
            }
            return queue_error(h, conn, NULL, 404, "not_found", "no such endpoint", NULL);
        }
        if (rt->public_limit && h->iplim) {
            /* Before anything else is looked at: a brute force on survey
             * links or on the callback path secret costs us no more than
             * a table lookup. */
            int64_t wait_ms = rate_check(h, conn);
            if (wait_ms > 0) {
                char ra[24];
                snprintf(ra, sizeof ra, "%lld", (long long)((wait_ms + 999) / 1000));
                gw->metrics.http_requests++;
                gw->metrics.http_rate_limited++;
                return queue_full(conn, 429,
                                  api_error_body("rate_limited", NULL,
                                                 "too many requests from this address; "
                                                 "retry later"),
                                  NULL, NULL, NULL, NULL, ra, NULL);
            }
        }
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_TYPE);
        if (rt->json_body && !is_json_type(ct))
            return queue_error(h, conn, rt, 415, "unsupported_media_type",
                               "the body must be JSON (Content-Type: application/json)", NULL);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (*end == '\0' && n > (unsigned long long)gw->cfg->max_body)
                /* Refused before a byte of the body is read. */
                return queue_error(h, conn, rt, 413, "body_too_large", "the body is too large",
                                   NULL);
        }
        req = xcalloc(1, sizeof *req);
        req->conn = conn;
        req->method = method;
        req->path = url;
        req->route = rt;
        req->path_tail = url + (rt->prefix ? strlen(rt->path) : strlen(url));
        req->content_type = ct;
        req->authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_AUTHORIZATION);
        buf_init(&req->body);
        *req_cls = req;
        return MHD_YES;
    }

    if (*upload_data_size > 0) {
        /* Body chunk: keep up to the cap, then discard and answer 413. */
        if (!req->too_large &&
            req->body.len + *upload_data_size <= (size_t)gw->cfg->max_body)
            buf_append(&req->body, upload_data, *upload_data_size);
        else
            req->too_large = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }

    /* Final call (or the call after a resume). */
    if (req->answered) {
        req->answered = 0;
        char *body = req->resp_body;
        req->resp_body = NULL;
        gw->metrics.http_requests++;
        return queue(conn, req->resp_status, body, req->resp_type, NULL, NULL, NULL);
    }
    if (req->too_large)
        return queue_error(h, conn, req->route, 413, "body_too_large", "the body is too large",
                           NULL);
    if (!req->body.data)
        buf_append(&req->body, "", 0); /* handlers always get a string */

    struct http_response resp = {0};
    enum http_result r = req->route->fn(gw, req, &resp);
    if (r == HTTP_PARK) {
        free(resp.set_cookie); /* a parked answer carries no cookie */
        park(h, req);
        MHD_suspend_connection(conn);
        return MHD_YES;
    }
    gw->metrics.http_requests++;
    return queue_full(conn, resp.status, resp.body, resp.content_type, resp.allow, resp.csp,
                      resp.disposition, NULL, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct http_server *h = cls;
    struct http_request *req = *req_cls;
    if (!req)
        return;
    if (req->parked) {
        unpark(h, req);
        if (req->on_abort)
            req->on_abort(req);
    }
    free(req->resp_body);
    buf_cleanup(&req->body);
    free(req);
    *req_cls = NULL;
}

/* MHD's own messages, at most MHD_LOG_PER_S lines a second: a flood of
 * connections at the limit must not turn into a flood of log lines. */
#define MHD_LOG_PER_S 10

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    static int64_t second;
    static unsigned lines, dropped;
    int64_t now = clock_mono_ms() / 1000;
    if (now != second) {
        if (dropped)
            LOG_WARN("http", "mhd: %u more messages suppressed", dropped);
        second = now;
        lines = dropped = 0;
    }
    if (++lines > MHD_LOG_PER_S) {
        dropped++;
        return;
    }
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    LOG_WARN("http", "mhd: %s", line);
}

static void mhd_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
    (void)cls;
    LOG_ERR("http", "libmicrohttpd panic at %s:%u: %s", file, line, reason ? reason : "?");
    abort();
}

struct http_server *http_server_start(struct gateway *gw, const struct http_route *routes,
                                      size_t nroutes, char *err, size_t errlen)
{
    struct http_server *h = xcalloc(1, sizeof *h);
    h->gw = gw;
    h->routes = routes;
    h->nroutes = nroutes;
    h->quiesced_fd = MHD_INVALID_SOCKET;

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)gw->cfg->listen_port);
    inet_pton(AF_INET, gw->cfg->listen_address, &sa.sin_addr);

    MHD_set_panic_func(mhd_panic, NULL);
    h->d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
        h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)gw->cfg->connection_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)gw->cfg->max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)gw->cfg->connection_memory_limit, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned int)gw->cfg->max_connections_per_ip, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen on %s:%d (address in use or not permitted)",
                 gw->cfg->listen_address, gw->cfg->listen_port);
        free(h);
        return NULL;
    }
    if (gw->cfg->public_rate > 0)
        h->iplim = ip_limits_new(gw->cfg->public_rate, gw->cfg->public_burst);
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = pi ? pi->port : gw->cfg->listen_port;
    const union MHD_DaemonInfo *ei = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    HF_ASSERT(ei);
    ev_io_init(&h->mhd_io, on_mhd_io, ei->epoll_fd, EV_READ);
    h->mhd_io.data = h;
    ev_io_start(gw->loop, &h->mhd_io);
    ev_init(&h->mhd_timer, on_mhd_timer);
    h->mhd_timer.data = h;
    return h;
}

const char *http_request_arg(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_request_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_request_cookie(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

int http_server_port(const struct http_server *h)
{
    return h->port;
}

void http_server_quiesce(struct http_server *h)
{
    if (!h || h->quiesced_fd != MHD_INVALID_SOCKET)
        return;
    h->quiesced_fd = MHD_quiesce_daemon(h->d);
    /* A parked request that is still here at shutdown is answered 503;
     * its handler's on_abort releases what it held. */
    while (h->parked) {
        struct http_request *r = h->parked;
        if (r->on_abort)
            r->on_abort(r);
        r->on_abort = NULL;
        http_server_resume(h, r, 503,
                           api_error_body("shutting_down", NULL, "the gateway is restarting; retry"),
                           NULL);
    }
}

void http_server_free(struct http_server *h)
{
    if (!h)
        return;
    ev_io_stop(h->gw->loop, &h->mhd_io);
    ev_timer_stop(h->gw->loop, &h->mhd_timer);
    HF_ASSERT(h->nparked == 0); /* MHD must not be stopped with suspended connections */
    MHD_stop_daemon(h->d);
    if (h->quiesced_fd != MHD_INVALID_SOCKET)
        close(h->quiesced_fd);
    ip_limits_free(h->iplim);
    free(h);
}
