/*
 * outbound.c - libcurl multi_socket + libev (after curl's evhiperfifo.c,
 * without its ms/1000 integer-division bug).
 *
 * Watchers:
 *   timer      one-shot, armed only by CURLMOPT_TIMERFUNCTION
 *   sock->io   one per curl socket, created/changed/stopped only by
 *              CURLMOPT_SOCKETFUNCTION
 * Both call curl_multi_socket_action and then drain(), which hands
 * finished transfers to their callbacks. Curl's own callbacks (socket,
 * timer, write) never call back into curl and never finish a job.
 */
#include "outbound.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

struct job {
    CURL *easy;
    struct curl_slist *headers;
    struct http_req req;          /* owned: url and body must outlive the transfer */
    struct buf resp;              /* capped response body */
    size_t cap;
    int overflow;                 /* the response exceeded the cap */
    outbound_done_fn done;
    void *arg;
    int64_t started_ms;           /* monotonic */
    char errbuf[CURL_ERROR_SIZE];
    struct job *next, *prev;      /* in-flight list */
};

struct sock {
    ev_io io;
    curl_socket_t fd;
    struct outbound *o;
};

struct outbound {
    struct ev_loop *loop;
    const struct config *cfg;     /* borrowed */
    CURLM *multi;
    ev_timer timer;
    struct job *jobs;             /* in flight */
    size_t njobs;
};

int outbound_global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (!(v->features & CURL_VERSION_ASYNCHDNS))
        LOG_WARN("outbound", "libcurl without an asynchronous resolver: DNS may block the loop");
    return 0;
}

void outbound_global_cleanup(void)
{
    curl_global_cleanup();
}

static void drain(struct outbound *o);

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct outbound *o = w->data;
    int running;
    curl_multi_socket_action(o->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(o);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    struct sock *s = w->data;
    struct outbound *o = s->o;
    int bits = ((revents & EV_READ) ? CURL_CSELECT_IN : 0) |
               ((revents & EV_WRITE) ? CURL_CSELECT_OUT : 0) |
               ((revents & EV_ERROR) ? CURL_CSELECT_ERR : 0);
    int running;
    curl_multi_socket_action(o->multi, s->fd, bits, &running);
    drain(o);
}

/* CURLMOPT_TIMERFUNCTION: arm or stop our one timer. Never calls curl. */
static int timer_cb(CURLM *multi, long ms, void *userp)
{
    (void)multi;
    struct outbound *o = userp;
    ev_timer_stop(o->loop, &o->timer);
    if (ms >= 0) {
        ev_timer_set(&o->timer, (double)ms / 1000.0, 0.);
        ev_timer_start(o->loop, &o->timer);
    }
    return 0;
}

/* CURLMOPT_SOCKETFUNCTION: mirror curl's interest in @s onto an ev_io.
 * REMOVE means "stop watching", not "close": curl owns the socket and may
 * keep it in its connection cache. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    struct outbound *o = userp;
    struct sock *sk = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            ev_io_stop(o->loop, &sk->io);
            curl_multi_assign(o->multi, s, NULL);
            free(sk);
        }
        return 0;
    }
    if (!sk) {
        sk = xcalloc(1, sizeof *sk);
        sk->fd = s;
        sk->o = o;
        curl_multi_assign(o->multi, s, sk);
    } else {
        ev_io_stop(o->loop, &sk->io);
    }
    int ev = ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    ev_io_init(&sk->io, on_io, s, ev);
    sk->io.data = sk;
    ev_io_start(o->loop, &sk->io);
    return 0;
}

/* CURLOPT_WRITEFUNCTION: append up to the cap; past it, abort the
 * transfer by returning a short count (only the buffer is touched here). */
static size_t write_cb(char *p, size_t size, size_t nmemb, void *userp)
{
    struct job *j = userp;
    size_t n = size * nmemb;
    if (j->resp.len + n > j->cap) {
        j->overflow = 1;
        return 0;
    }
    buf_append(&j->resp, p, n);
    return n;
}

struct outbound *outbound_new(struct ev_loop *loop, const struct config *cfg)
{
    struct outbound *o = xcalloc(1, sizeof *o);
    o->loop = loop;
    o->cfg = cfg;
    o->multi = curl_multi_init();
    if (!o->multi) {
        free(o);
        return NULL;
    }
    curl_multi_setopt(o->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(o->multi, CURLMOPT_SOCKETDATA, o);
    curl_multi_setopt(o->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(o->multi, CURLMOPT_TIMERDATA, o);
    curl_multi_setopt(o->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)cfg->out_max_connections);
    curl_multi_setopt(o->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)cfg->out_max_host_connections);
    curl_multi_setopt(o->multi, CURLMOPT_MAXCONNECTS, (long)cfg->out_max_connections);
    ev_init(&o->timer, on_timer);
    o->timer.data = o;
    return o;
}

void outbound_set_config(struct outbound *o, const struct config *cfg)
{
    o->cfg = cfg;
}

static void job_free(struct job *j)
{
    curl_slist_free_all(j->headers);
    http_req_cleanup(&j->req);
    buf_cleanup(&j->resp);
    free(j);
}

static void unlink_job(struct outbound *o, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        o->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    o->njobs--;
}

int outbound_submit(struct outbound *o, struct http_req *req, outbound_done_fn done, void *arg)
{
    struct job *j = xcalloc(1, sizeof *j);
    j->req = *req;
    http_req_init(req); /* ownership moved into the job */
    j->done = done;
    j->arg = arg;
    j->cap = (size_t)o->cfg->max_response;
    buf_init(&j->resp);
    j->easy = curl_easy_init();
    if (!j->easy) {
        job_free(j);
        return -1;
    }
    for (int i = 0; i < j->req.nheaders; i++)
        j->headers = curl_slist_append(j->headers, j->req.headers[i]);
    /* curl adds "Expect: 100-continue" to larger POSTs; providers answer
     * faster without the extra round trip. */
    j->headers = curl_slist_append(j->headers, "Expect:");
    CURL *e = j->easy;
    curl_easy_setopt(e, CURLOPT_URL, j->req.url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->cfg->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->cfg->request_timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "huifang/0.1");
    if (j->req.method && strcmp(j->req.method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->req.body ? j->req.body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->req.body_len);
    }
    j->started_ms = clock_mono_ms();
    if (curl_multi_add_handle(o->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        job_free(j);
        return -1;
    }
    j->next = o->jobs;
    if (o->jobs)
        o->jobs->prev = j;
    o->jobs = j;
    o->njobs++;
    return 0;
}

size_t outbound_in_flight(const struct outbound *o)
{
    return o ? o->njobs : 0;
}

static void finish(struct outbound *o, struct job *j, CURLcode rc, int cancelled)
{
    struct http_resp r = {0};
    long status = 0;
    if (!cancelled)
        curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(o->multi, j->easy);
    curl_easy_cleanup(j->easy);
    j->easy = NULL;
    unlink_job(o, j);
    if (!j->resp.data)
        buf_append(&j->resp, "", 0);
    r.body = j->resp.data;
    r.body_len = j->resp.len;
    r.status = status;
    if (cancelled) {
        r.cancelled = 1;
        r.transport_error = 1;
        r.error = "cancelled at shutdown";
    } else if (j->overflow) {
        r.transport_error = 1;
        r.error = "provider response larger than outbound.max_response";
        r.status = 0;
    } else if (rc != CURLE_OK) {
        r.transport_error = 1;
        r.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        r.error = j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc);
        r.status = 0;
    }
    j->done(j->arg, &r, clock_mono_ms() - j->started_ms);
    job_free(j);
}

/* Hand every finished transfer to its callback. Runs after
 * curl_multi_socket_action returned, so callbacks may add handles. */
static void drain(struct outbound *o)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(o->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct job *j = NULL;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
        finish(o, j, rc, 0);
    }
}

void outbound_cancel_all(struct outbound *o)
{
    while (o->jobs)
        finish(o, o->jobs, CURLE_OK, 1);
}

void outbound_free(struct outbound *o)
{
    if (!o)
        return;
    outbound_cancel_all(o);
    ev_timer_stop(o->loop, &o->timer);
    /* curl_multi_cleanup may still call socket_cb with REMOVE for cached
     * connections: @o stays valid until after it. */
    curl_multi_cleanup(o->multi);
    free(o);
}
