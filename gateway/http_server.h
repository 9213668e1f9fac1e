/*
 * http_server.h - inbound HTTP: libmicrohttpd in external-epoll mode,
 * driven by the gateway's libev loop. The only file that includes
 * <microhttpd.h> is http_server.c.
 *
 * Route handlers get a parsed request (method, path, selected headers,
 * the whole body up to listen.max_body) and either answer at once
 * (HTTP_DONE) or park the request (HTTP_PARK) to answer it later with
 * http_server_resume(), e.g. after the group commit. Body limits,
 * Content-Type checks, 404/405 and the JSON error shape are handled here,
 * once, for every route.
 */
#ifndef HF_HTTP_SERVER_H
#define HF_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct gateway;
struct http_server;

struct http_request {
    void *conn;              /* MHD connection: opaque to handlers */
    const char *method;      /* borrowed from MHD for the request's life */
    const char *path;        /* without the query string */
    const char *authorization; /* "Authorization" header or NULL */
    const char *content_type;  /* or NULL */
    struct buf body;         /* the request body, NUL-terminated */
    int too_large;           /* body exceeded listen.max_body */
    const struct http_route *route;
    const char *path_tail;   /* for prefix routes: what follows the prefix */
    void *user;              /* handler state while parked */
    /* Called if the request dies while parked (shutdown); may be NULL. */
    void (*on_abort)(struct http_request *req);

    /* internal */
    int parked;              /* suspended, waiting for http_server_resume */
    int answered;            /* a response was prepared by resume */
    int resp_status;
    char *resp_body;
    const char *resp_type;
    struct http_request *park_next, *park_prev;
};

struct http_response {
    int status;
    char *body;                /* heap, owned by the server after return; may be NULL */
    const char *content_type;  /* static; default application/json */
    const char *allow;         /* for 405: static "GET, POST" */
    const char *csp;           /* Content-Security-Policy, static; NULL = none */
    char *set_cookie;          /* Set-Cookie value, heap, owned by the server; or NULL */
    const char *location;      /* Location (redirects), static or borrowed; or NULL */
    const char *disposition;   /* Content-Disposition (downloads), static; or NULL */
};

enum http_result { HTTP_DONE = 0, HTTP_PARK };

typedef enum http_result (*http_handler)(struct gateway *gw, struct http_request *req,
                                         struct http_response *resp);

struct http_route {
    const char *method;  /* "GET", "POST" */
    const char *path;    /* exact path, or a prefix ending in '/' when prefix=1 */
    int prefix;
    int json_body;       /* requires Content-Type: application/json (415 otherwise) */
    http_handler fn;
    /* Told about requests this server refused for the route before the
     * handler ran (413, 415), e.g. for metrics. May be NULL. */
    void (*on_reject)(struct gateway *gw, int status);
    /* A public endpoint (survey pages, provider callbacks): subject to the
     * per-address limit listen.public_rate / public_burst (429 above). */
    int public_limit;
};

/* A decoded query argument of @req, or NULL. Borrowed from MHD. */
const char *http_request_arg(const struct http_request *req, const char *name);
/* A request header (case-insensitive name) or a cookie of @req, or NULL.
 * Borrowed from MHD for the request's life. */
const char *http_request_header(const struct http_request *req, const char *name);
const char *http_request_cookie(const struct http_request *req, const char *name);

/* Start listening on cfg listen.address:listen.port with the given routes
 * (borrowed: must outlive the server). Registers its watchers on gw->loop.
 * NULL on failure with @err set. */
struct http_server *http_server_start(struct gateway *gw, const struct http_route *routes,
                                      size_t nroutes, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
int http_server_port(const struct http_server *h);
/* Call from the before-sleep hook: runs MHD if a resume asked for it, then
 * re-arms MHD's timer from MHD_get_timeout. */
void http_server_before_sleep(struct http_server *h);
/* Answer a parked request with @status and @body (taken; may be NULL).
 * Safe from any loop callback, never calls MHD_run itself. */
void http_server_resume(struct http_server *h, struct http_request *req, int status, char *body,
                        const char *content_type);
/* Number of parked requests. */
size_t http_server_parked(const struct http_server *h);
/* Stop accepting new connections (shutdown step 1); parked requests are
 * answered 503. */
void http_server_quiesce(struct http_server *h);
/* Stop MHD and free. Call only when nothing is parked. NULL is a no-op. */
void http_server_free(struct http_server *h);

#endif
