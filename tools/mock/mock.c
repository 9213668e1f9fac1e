/*
 * mock_provider.c - a local stand-in for the far side of the network.
 *
 * huifangd's end-to-end tests and `make run` point every provider base URL
 * at this process instead of the real services, so the daemon's outbound
 * path (adapters, curl, retries, idempotency) is exercised over real HTTP
 * without leaving 127.0.0.1.
 *
 * What the mock promises
 * ----------------------
 *  - It listens on 127.0.0.1 only. With --port 0 the kernel picks the port;
 *    once the socket is listening the port is written, followed by "\n", to
 *    --ready-file atomically (PATH.tmp, fsync, rename, fsync of the
 *    directory), so a test that sees the file can connect at once.
 *  - Provider routes behave like a strict, well-behaved provider: they check
 *    what a real receiver would check (JSON body, HMAC signature when a
 *    secret is configured), deduplicate by Idempotency-Key the way a real
 *    provider does (a repeat of a key already answered 2xx is answered 200
 *    again with the *same* id and flagged as a duplicate), and record every
 *    accepted request as one JSON line, appended and flushed to --record
 *    before the answer is sent. A test that got the answer can therefore
 *    read the line.
 *  - Faults are injected on demand (POST /_mock/faults, or --fail-first):
 *    an error status, a delay before answering, or a hang that never
 *    answers. Faults are queued in order; each provider request consumes
 *    the first queued fault that applies to it.
 *  - SIGTERM/SIGINT stop it cleanly (exit status 0): every connection
 *    thread is joined, the record file is flushed and closed and all memory
 *    is freed, so the ASan build reports nothing.
 *
 * Routes (see the route table below)
 * ----------------------------------
 *  POST   /webhook, /webhook/...   generic JSON webhook adapter
 *  POST   /_mock/faults            queue fault(s): object or array of objects
 *  GET    /_mock/faults            list the faults still queued
 *  DELETE /_mock/faults            drop every queued fault
 *  GET    /_mock/requests          JSON array of the recorded lines
 *  GET    /_mock/stats             counters (received/accepted/...)
 *  GET    /_mock/token_fetches     every access-token fetch: [{"path","force",
 *                                  "start_ms","end_ms"}] on the mock's monotonic
 *                                  clock (end_ms 0 while still being answered)
 *  POST   /_mock/reset             forget records, dedup keys, counters, ids
 *  anything else                   404 {"error":"not found"}
 *
 * Why thread-per-connection
 * -------------------------
 * The daemon itself runs MHD in external epoll mode inside one libev loop
 * (STYLE.md section 3), because it must never block. The mock has the
 * opposite need: a fault such as "answer after 3 s" or "never answer" is
 * simplest and most faithful when the handler just sleeps. With
 * MHD_USE_THREAD_PER_CONNECTION each connection has its own thread, so a
 * sleeping handler stalls only its own connection while the others (and
 * the /_mock control routes the test uses meanwhile) are served normally.
 * The price is shared state touched from many threads: everything mutable
 * lives in struct mock behind one mutex, held only for short bookkeeping,
 * never while sleeping.
 *
 * Adding a provider
 * -----------------
 * Write a handler with the signature of struct mock_route.handle and add
 * a row to mock_routes[]. Rows flagged MOCK_ROUTE_PROVIDER are counted in
 * /_mock/stats and are subject to fault injection before the handler runs;
 * the handler only has to speak the provider's protocol and call
 * mock_record() for what it accepts. WeChat and WeCom both use /cgi-bin/...
 * paths on different hosts, so give each its own prefix (point the daemon's
 * base URL at http://127.0.0.1:PORT/wechat and .../wecom) rather than
 * matching on Host.
 */
#include "mock.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <microhttpd.h>

static void handle_webhook(struct mock *m, struct mock_req *r, struct mock_resp *out);
static void handle_faults_post(struct mock *m, struct mock_req *r, struct mock_resp *out);
static void handle_faults_get(struct mock *m, struct mock_req *r, struct mock_resp *out);
static void handle_faults_delete(struct mock *m, struct mock_req *r, struct mock_resp *out);
static void handle_requests(struct mock *m, struct mock_req *r, struct mock_resp *out);
static void handle_stats(struct mock *m, struct mock_req *r, struct mock_resp *out);
static void handle_token_fetches(struct mock *m, struct mock_req *r, struct mock_resp *out);
static void handle_reset(struct mock *m, struct mock_req *r, struct mock_resp *out);

/* The route table. First row whose path and method match wins. To add a
 * provider (WeChat, WeCom, Aliyun SMS, Tencent SMS) add rows here with
 * MOCK_ROUTE_PROVIDER; nothing else in the dispatch path changes. */
static const struct mock_route mock_routes[] = {
    { "POST",   "/webhook",        MOCK_MATCH_TREE,  MOCK_ROUTE_PROVIDER, handle_webhook },
    { "POST",   "/_mock/faults",   MOCK_MATCH_EXACT, 0, handle_faults_post },
    { "GET",    "/_mock/faults",   MOCK_MATCH_EXACT, 0, handle_faults_get },
    { "DELETE", "/_mock/faults",   MOCK_MATCH_EXACT, 0, handle_faults_delete },
    { "GET",    "/_mock/requests", MOCK_MATCH_EXACT, 0, handle_requests },
    { "GET",    "/_mock/stats",    MOCK_MATCH_EXACT, 0, handle_stats },
    { "GET",    "/_mock/token_fetches", MOCK_MATCH_EXACT, 0, handle_token_fetches },
    { "POST",   "/_mock/reset",    MOCK_MATCH_EXACT, 0, handle_reset },
    { NULL, NULL, 0, 0, NULL },
};

static void handle_config_post(struct mock *m, struct mock_req *r, struct mock_resp *out);

static const struct mock_route mock_core_routes[] = {
    { "POST",   "/_mock/config",   MOCK_MATCH_EXACT, 0, handle_config_post },
    { NULL, NULL, 0, 0, NULL },
};

/* Every provider's routes, searched after mock_routes[]. */
static const struct mock_provider *const mock_providers[] = {
    &mock_wechat_provider,
    &mock_wecom_provider,
    &mock_aliyun_provider,
    &mock_tencent_provider,
};

static int route_path_matches(const struct mock_route *rt, const char *path)
{
    size_t n = strlen(rt->path);
    if (strncmp(path, rt->path, n) != 0)
        return 0;
    if (path[n] == '\0')
        return 1;
    /* A subtree matches on a segment boundary: /webhook/x, not /webhookx. */
    return rt->match == MOCK_MATCH_TREE && path[n] == '/';
}

/* Find the route for @method @path. Returns the row, or NULL; then @allow
 * (@allowlen bytes) lists the methods the path accepts, "" if none (404). */
static const struct mock_route *route_find(const char *method, const char *path, char *allow,
                                          size_t allowlen)
{
    const struct mock_route *tables[2 + HF_ARRAY_LEN(mock_providers)];
    size_t ntables = 0, used = 0;
    tables[ntables++] = mock_routes;
    tables[ntables++] = mock_core_routes;
    for (size_t p = 0; p < HF_ARRAY_LEN(mock_providers); p++)
        tables[ntables++] = mock_providers[p]->routes;
    allow[0] = '\0';
    for (size_t t = 0; t < ntables; t++) {
        for (const struct mock_route *rt = tables[t]; rt->method; rt++) {
            if (!route_path_matches(rt, path))
                continue;
            if (strcmp(rt->method, method) == 0)
                return rt;
            int n = snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", rt->method);
            if (n > 0 && (size_t)n < allowlen - used)
                used += (size_t)n;
        }
    }
    return NULL;
}

/* ===================================================================== */
/* Small helpers                                                           */
/* ===================================================================== */

const char *mock_req_header(const struct mock_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Answer @status with @obj printed compactly. Takes ownership of @obj. */
void mock_resp_json(struct mock_resp *out, unsigned status, cJSON *obj)
{
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    HF_ASSERT(text != NULL); /* cJSON only fails on allocation failure */
    out->status = status;
    out->body = xstrdup(text);
    cJSON_free(text);
}

/* Answer @status with {"error": @msg} plus "field" when @field is set. */
void mock_resp_error(struct mock_resp *out, unsigned status, const char *msg, const char *field)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    if (field)
        cJSON_AddStringToObject(o, "field", field);
    mock_resp_json(out, status, o);
}

/* Parse the whole of @p/@n as one JSON value; trailing whitespace only.
 * Returns NULL on any error. Caller owns the result; free with cJSON_Delete(). */
cJSON *mock_json_parse_exact(const char *p, size_t n)
{
    const char *end = NULL;
    if (!p || n == 0)
        return NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    if (!j)
        return NULL;
    while (end < p + n && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end != p + n) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* Integer out of a JSON number in [min, max]. 0, or -1 if not one. */
int mock_json_long(const cJSON *j, long min, long max, long *out)
{
    if (!cJSON_IsNumber(j))
        return -1;
    double d = j->valuedouble;
    if (!(d >= (double)min && d <= (double)max) || d != (double)(long)d)
        return -1;
    *out = (long)d;
    return 0;
}

/* strtol with end-pointer and range check (never atoi). 0 or -1. */
static int parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Sleep @ms, waking every MOCK_WAIT_SLICE_MS to notice shutdown. When
 * @fd >= 0 also stop as soon as the peer closes or half-closes the socket
 * (the client gave up). Returns 1 after the full time, 0 if cut short. */
int mock_wait_ms(struct mock *m, long ms, int fd)
{
    int64_t deadline = clock_mono_ms() + ms;
    for (;;) {
        if (atomic_load(&m->stopping))
            return 0;
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0)
            return 1;
        int slice = left < MOCK_WAIT_SLICE_MS ? (int)left : MOCK_WAIT_SLICE_MS;
        if (fd >= 0) {
            /* Safe: in thread-per-connection mode MHD is not using this
             * socket while our handler runs on its thread. POLLRDHUP (no
             * POLLIN) so a pipelined next request does not count as gone. */
            struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };
            int rc = poll(&pfd, 1, slice);
            if (rc > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
                return 0;
            if (rc < 0 && errno != EINTR)
                return 0;
        } else {
            struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)slice * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
}

/* ===================================================================== */
/* Records and dedup (call with m->lock held)                              */
/* ===================================================================== */

static struct mock_seen *seen_find(struct mock *m, const char *key)
{
    for (size_t i = 0; i < m->nseen; i++)
        if (strcmp(m->seen[i].key, key) == 0)
            return &m->seen[i];
    return NULL;
}

static void seen_add(struct mock *m, const char *key, uint64_t seq)
{
    if (m->nseen == m->capseen) {
        m->capseen = m->capseen ? m->capseen * 2 : 16;
        m->seen = xrealloc(m->seen, m->capseen * sizeof *m->seen);
    }
    m->seen[m->nseen].key = xstrdup(key);
    m->seen[m->nseen].seq = seq;
    m->nseen++;
}

/* Append one record line to memory and to the record file (flushed).
 * Takes ownership of @line (a heap string without newline). */
static void records_append(struct mock *m, char *line)
{
    if (m->nrecords == m->caprecords) {
        m->caprecords = m->caprecords ? m->caprecords * 2 : 16;
        m->records = xrealloc(m->records, m->caprecords * sizeof *m->records);
    }
    m->records[m->nrecords++] = line;
    if (m->record) {
        if (fputs(line, m->record) == EOF || fputc('\n', m->record) == EOF ||
            fflush(m->record) != 0)
            LOG_ERR(MOCK_TAG, "record write failed path=%s err=%s", m->record_path,
                    strerror(errno));
    }
}

/* Forget records, dedup keys, counters and ids. Not the record file, not
 * the fault queue. */
static void records_reset(struct mock *m)
{
    for (size_t i = 0; i < m->nrecords; i++)
        free(m->records[i]);
    free(m->records); m->records = NULL;
    m->nrecords = m->caprecords = 0;
    for (size_t i = 0; i < m->nseen; i++)
        free(m->seen[i].key);
    free(m->seen); m->seen = NULL;
    m->nseen = m->capseen = 0;
    free(m->token_fetches); m->token_fetches = NULL;
    m->ntoken_fetches = m->captoken_fetches = 0;
    int in_flight = m->stats.token_in_flight; /* requests still running keep counting */
    memset(&m->stats, 0, sizeof m->stats);
    m->stats.token_in_flight = in_flight;
    m->seq = 0;
}

/*
 * Record an accepted provider request and work out its answer id.
 *
 * @path and @key are borrowed (@key may be NULL: no Idempotency-Key, never a
 * duplicate). Takes ownership of @body (the parsed request; may be NULL).
 * Sets *dup, and returns the seq whose id ("mock-<seq>") the answer must
 * carry: the first answer's seq for a duplicate, a new one otherwise.
 * Takes m->lock itself. Provider handlers call this for every 2xx they give.
 */
uint64_t mock_record(struct mock *m, const char *path, const char *key, cJSON *body,
                            unsigned status, int *dup)
{
    char ts[24], id[32];
    snprintf(ts, sizeof ts, "%lld", (long long)clock_now_ms());

    pthread_mutex_lock(&m->lock);
    uint64_t seq = ++m->seq;
    uint64_t id_seq = seq;
    struct mock_seen *s = key ? seen_find(m, key) : NULL;
    *dup = s != NULL;
    if (s)
        id_seq = s->seq;
    else if (key)
        seen_add(m, key, seq);
    snprintf(id, sizeof id, "mock-%llu", (unsigned long long)id_seq);

    cJSON *rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "seq", (double)seq);
    cJSON_AddRawToObject(rec, "ts_ms", ts); /* raw: an exact int64, not a double */
    cJSON_AddStringToObject(rec, "path", path);
    if (key)
        cJSON_AddStringToObject(rec, "idempotency_key", key);
    else
        cJSON_AddNullToObject(rec, "idempotency_key");
    cJSON_AddBoolToObject(rec, "duplicate", *dup);
    cJSON_AddNumberToObject(rec, "status", status);
    cJSON_AddStringToObject(rec, "id", id);
    cJSON_AddItemToObject(rec, "body", body ? body : cJSON_CreateNull());
    char *text = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    HF_ASSERT(text != NULL);
    records_append(m, xstrdup(text));
    cJSON_free(text);

    m->stats.accepted++;
    if (*dup)
        m->stats.duplicates++;
    pthread_mutex_unlock(&m->lock);
    return id_seq;
}

void mock_stats_rejected(struct mock *m)
{
    pthread_mutex_lock(&m->lock);
    m->stats.rejected++;
    pthread_mutex_unlock(&m->lock);
}

/* ===================================================================== */
/* Faults                                                                  */
/* ===================================================================== */

static void fault_free(struct mock_fault *f)
{
    if (!f)
        return;
    free(f->match);
    free(f->path);
    free(f->body);
    free(f);
}

static void faults_free_list(struct mock_fault *f)
{
    while (f) {
        struct mock_fault *next = f->next;
        fault_free(f);
        f = next;
    }
}

/*
 * Take one use of the first queued fault that applies to a request with
 * Idempotency-Key @key (NULL: only unrestricted faults apply). Call with
 * m->lock held. Returns a private copy the caller owns (free with
 * fault_free(), outside the lock is fine), or NULL when no fault applies.
 */
static int fault_applies(const struct mock_fault *f, const struct mock_req *r, const char *key)
{
    if (f->path && strncmp(r->path, f->path, strlen(f->path)) != 0)
        return 0;
    if (!f->match)
        return 1;
    if (key && strcmp(f->match, key) == 0)
        return 1;
    /* Provider dedup ids travel in the query (Aliyun OutId) or the body
     * (client_msg_id, SessionContext, openids). */
    if (r->query && strstr(r->query, f->match))
        return 1;
    return r->body.data && strstr(r->body.data, f->match) != NULL;
}

/* 1 for the access-token endpoints: WeChat token / stable_token, WeCom
 * gettoken. */
static int is_token_path(const char *path)
{
    return strcmp(path, "/wechat/cgi-bin/token") == 0 ||
           strcmp(path, "/wechat/cgi-bin/stable_token") == 0 ||
           strcmp(path, "/wecom/cgi-bin/gettoken") == 0;
}

/* Uniform in [0, 1) from the mock's xorshift64* generator. Call with
 * m->lock held. */
static double rng_unit(struct mock *m)
{
    uint64_t x = m->rng ? m->rng : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    m->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static struct mock_fault *faults_take(struct mock *m, const struct mock_req *r, const char *key)
{
    struct mock_fault **pp = &m->faults;
    for (; *pp; pp = &(*pp)->next) {
        struct mock_fault *f = *pp;
        if (!fault_applies(f, r, key))
            continue;
        if (f->probability > 0 && rng_unit(m) >= f->probability)
            continue; /* this request is spared; the next fault may still apply */
        struct mock_fault *copy = xcalloc(1, sizeof *copy);
        copy->status = f->status;
        copy->delay_ms = f->delay_ms;
        copy->hang = f->hang;
        copy->probability = f->probability;
        copy->count = 1;
        copy->match = f->match ? xstrdup(f->match) : NULL;
        copy->path = f->path ? xstrdup(f->path) : NULL;
        copy->body = f->body ? xstrdup(f->body) : NULL;
        if (--f->count <= 0) {
            *pp = f->next;
            fault_free(f);
        }
        return copy;
    }
    return NULL;
}

/* Append the list @list to the queue. Call with m->lock held. Takes
 * ownership of @list. Returns the queue length afterwards. */
static size_t faults_append(struct mock *m, struct mock_fault *list)
{
    struct mock_fault **pp = &m->faults;
    size_t n = 0;
    while (*pp) {
        pp = &(*pp)->next;
        n++;
    }
    *pp = list;
    for (; list; list = list->next)
        n++;
    return n;
}

/*
 * Build a fault from one JSON object:
 *   {"status": 500, "delay_ms": 3000, "hang": true, "count": 2,
 *    "match": "hf-7", "body": <any JSON, sent instead of {"error":"injected"}>,
 *    "probability": 0.3}
 * With a probability, each matching request is faulted with that chance
 * (from a fixed seed, so a run repeats) and count uses are only
 * taken by the requests actually faulted.
 * At least one of status, delay_ms > 0 or hang is required; count defaults
 * to 1. Returns the fault (caller owns it; free with fault_free()), or NULL
 * with *why and *field describing the first problem.
 */
static struct mock_fault *fault_from_json(const cJSON *j, const char **why, const char **field)
{
    *field = NULL;
    if (!cJSON_IsObject(j)) {
        *why = "fault must be an object";
        return NULL;
    }
    struct mock_fault *f = xcalloc(1, sizeof *f);
    f->count = 1;
    const cJSON *c;
    long v;
    cJSON_ArrayForEach(c, j) {
        *field = c->string;
        if (strcmp(c->string, "status") == 0) {
            if (mock_json_long(c, 200, 599, &v) != 0) {
                *why = "status must be an integer 200..599";
                goto err;
            }
            f->status = (int)v;
        } else if (strcmp(c->string, "delay_ms") == 0) {
            if (mock_json_long(c, 0, MOCK_DELAY_MAX_MS, &f->delay_ms) != 0) {
                *why = "delay_ms must be an integer 0..600000";
                goto err;
            }
        } else if (strcmp(c->string, "hang") == 0) {
            if (!cJSON_IsBool(c)) {
                *why = "hang must be a boolean";
                goto err;
            }
            f->hang = cJSON_IsTrue(c);
        } else if (strcmp(c->string, "probability") == 0) {
            if (!cJSON_IsNumber(c) || c->valuedouble <= 0 || c->valuedouble > 1) {
                *why = "probability must be a number in (0, 1]";
                goto err;
            }
            f->probability = c->valuedouble >= 1 ? 0 : c->valuedouble;
        } else if (strcmp(c->string, "count") == 0) {
            if (mock_json_long(c, 1, 1000000, &f->count) != 0) {
                *why = "count must be an integer 1..1000000";
                goto err;
            }
        } else if (strcmp(c->string, "match") == 0) {
            if (!cJSON_IsString(c)) {
                *why = "match must be a string";
                goto err;
            }
            free(f->match);
            f->match = xstrdup(c->valuestring);
        } else if (strcmp(c->string, "path") == 0) {
            if (!cJSON_IsString(c) || c->valuestring[0] != '/') {
                *why = "path must be a string starting with /";
                goto err;
            }
            free(f->path);
            f->path = xstrdup(c->valuestring);
        } else if (strcmp(c->string, "body") == 0) {
            char *text = cJSON_PrintUnformatted(c);
            HF_ASSERT(text != NULL);
            free(f->body);
            f->body = xstrdup(text);
            cJSON_free(text);
        } else {
            *why = "unknown field";
            goto err;
        }
    }
    *field = NULL;
    if (f->status == 0 && f->delay_ms == 0 && !f->hang) {
        *why = "a fault needs status, delay_ms or hang";
        goto err;
    }
    return f;
err:
    fault_free(f);
    return NULL;
}

/*
 * Run before every provider handler: count the request and apply the
 * first fault that matches it. Returns 1 when the fault produced the final
 * outcome (@out filled, or status 0 = close without answering), 0 when the
 * route's handler must run (no fault, or a delay-only fault that has slept).
 *
 * A delay sleeps the full time even if the client has given up meanwhile,
 * then the request is processed: that is the "provider accepted it but the
 * answer was lost" case that idempotency keys exist for. A hang watches the
 * socket instead and ends when the client closes it, at shutdown, or after
 * MOCK_HANG_CAP_MS; it is never answered.
 */
static int provider_faults(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    const char *key = mock_req_header(r, "Idempotency-Key");
    pthread_mutex_lock(&m->lock);
    m->stats.received++;
    struct mock_fault *f = faults_take(m, r, key);
    pthread_mutex_unlock(&m->lock);
    if (!f)
        return 0;

    int done = 1;
    if (f->hang) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        LOG_INFO(MOCK_TAG, "fault hang path=%s key=%s", r->path, key ? key : "-");
        mock_wait_ms(m, MOCK_HANG_CAP_MS, ci ? ci->connect_fd : -1);
        out->status = 0;
    } else if (f->delay_ms > 0 && !mock_wait_ms(m, f->delay_ms, -1)) {
        out->status = 0; /* shutting down: drop it, neither faulted nor accepted */
        fault_free(f);
        return 1;
    } else if (f->status) {
        out->status = (unsigned)f->status;
        out->body = f->body ? f->body : xstrdup("{\"error\":\"injected\"}");
        f->body = NULL;
    } else {
        done = 0; /* delay only: now behave normally */
    }
    if (done) {
        pthread_mutex_lock(&m->lock);
        m->stats.faulted++;
        pthread_mutex_unlock(&m->lock);
    }
    fault_free(f);
    return done;
}

/* ===================================================================== */
/* Provider: generic JSON webhook                                          */
/* ===================================================================== */

/* 1 if the media type of Content-Type @ct is application/json (parameters
 * such as "; charset=utf-8" allowed). */
static int content_type_is_json(const char *ct)
{
    static const char want[] = "application/json";
    if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0)
        return 0;
    ct += sizeof want - 1;
    return *ct == '\0' || *ct == ';' || *ct == ' ' || *ct == '\t';
}

/* 1 if @header is "sha256=<hex HMAC-SHA256 of @body under @secret>".
 * The hex is compared case-insensitively and in constant time. */
static int webhook_signature_ok(const char *secret, const char *header, const struct buf *body)
{
    static const char prefix[] = "sha256=";
    char want[65], got[65];
    if (!header || strncmp(header, prefix, sizeof prefix - 1) != 0)
        return 0;
    header += sizeof prefix - 1;
    if (strlen(header) != 64)
        return 0;
    for (size_t i = 0; i < 64; i++) {
        char c = header[i];
        got[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    got[64] = '\0';
    hmac_sha256_hex(secret, strlen(secret), body->data ? body->data : "", body->len, want);
    return ct_equal(want, got, 64);
}

/*
 * POST /webhook[/...]: what the webhook adapter sends.
 * Checks, in the order a careful receiver applies them: the signature over
 * the raw bytes first when a secret is configured (401 {"error":"bad
 * signature"}: authenticate before parsing untrusted input), then
 * Content-Type (415), then the JSON body (400 {"error":"bad json"}).
 * Accepted: recorded, answered 200 {"id":"mock-<seq>","status":"accepted"},
 * where a repeated Idempotency-Key gets the first answer's id again.
 */
static void handle_webhook(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    if (m->webhook_secret &&
        !webhook_signature_ok(m->webhook_secret, mock_req_header(r, "X-Huifang-Signature"), &r->body)) {
        mock_stats_rejected(m);
        mock_resp_error(out, 401, "bad signature", NULL);
        return;
    }
    if (!content_type_is_json(mock_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        mock_stats_rejected(m);
        mock_resp_error(out, 415, "content type must be application/json", NULL);
        return;
    }
    cJSON *body = mock_json_parse_exact(r->body.data, r->body.len);
    if (!body) {
        mock_stats_rejected(m);
        mock_resp_error(out, 400, "bad json", NULL);
        return;
    }
    int dup = 0;
    uint64_t id_seq = mock_record(m, r->path, mock_req_header(r, "Idempotency-Key"), body, 200, &dup);
    out->status = 200;
    out->body = xasprintf("{\"id\":\"mock-%llu\",\"status\":\"accepted\"}",
                          (unsigned long long)id_seq);
}

/* ===================================================================== */
/* Control routes (/_mock/...)                                             */
/* ===================================================================== */

/* POST /_mock/faults: one fault object, or an array of them queued
 * together (all or nothing). 200 {"queued": n, "pending": total}. */
static void handle_faults_post(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    cJSON *j = mock_json_parse_exact(r->body.data, r->body.len);
    if (!j) {
        mock_resp_error(out, 400, "bad json", NULL);
        return;
    }
    struct mock_fault *list = NULL, **tail = &list;
    size_t queued = 0;
    const cJSON *items = cJSON_IsArray(j) ? j : NULL;
    const cJSON *c = items ? items->child : j;
    for (; c; c = items ? c->next : NULL) {
        const char *why = NULL, *field = NULL;
        struct mock_fault *f = fault_from_json(c, &why, &field);
        if (!f) {
            mock_resp_error(out, 400, why, field);
            faults_free_list(list);
            cJSON_Delete(j);
            return;
        }
        *tail = f;
        tail = &f->next;
        queued++;
    }
    cJSON_Delete(j);
    if (queued == 0) {
        mock_resp_error(out, 400, "no fault given", NULL);
        return;
    }
    pthread_mutex_lock(&m->lock);
    size_t pending = faults_append(m, list);
    pthread_mutex_unlock(&m->lock);
    out->status = 200;
    out->body = xasprintf("{\"queued\":%zu,\"pending\":%zu}", queued, pending);
}

/* GET /_mock/faults: the queue, next to consume first. */
static void handle_faults_get(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    (void)r;
    cJSON *arr = cJSON_CreateArray();
    pthread_mutex_lock(&m->lock);
    for (const struct mock_fault *f = m->faults; f; f = f->next) {
        cJSON *o = cJSON_CreateObject();
        if (f->status)
            cJSON_AddNumberToObject(o, "status", f->status);
        if (f->delay_ms)
            cJSON_AddNumberToObject(o, "delay_ms", (double)f->delay_ms);
        if (f->hang)
            cJSON_AddTrueToObject(o, "hang");
        cJSON_AddNumberToObject(o, "count", (double)f->count);
        if (f->match)
            cJSON_AddStringToObject(o, "match", f->match);
        if (f->path)
            cJSON_AddStringToObject(o, "path", f->path);
        if (f->body)
            cJSON_AddRawToObject(o, "body", f->body);
        cJSON_AddItemToArray(arr, o);
    }
    pthread_mutex_unlock(&m->lock);
    mock_resp_json(out, 200, arr);
}

/* DELETE /_mock/faults: drop every queued fault. 200 {"cleared": n}. */
static void handle_faults_delete(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    (void)r;
    pthread_mutex_lock(&m->lock);
    struct mock_fault *list = m->faults;
    m->faults = NULL;
    pthread_mutex_unlock(&m->lock);
    size_t n = 0;
    for (const struct mock_fault *f = list; f; f = f->next)
        n++;
    faults_free_list(list);
    out->status = 200;
    out->body = xasprintf("{\"cleared\":%zu}", n);
}

/* GET /_mock/requests: the recorded lines as one JSON array. The lines are
 * already JSON, so they are joined rather than re-parsed. */
static void handle_requests(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    (void)r;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "[");
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nrecords; i++) {
        if (i)
            buf_puts(&b, ",");
        buf_puts(&b, m->records[i]);
    }
    pthread_mutex_unlock(&m->lock);
    buf_puts(&b, "]");
    out->status = 200;
    out->body = buf_steal(&b);
}

/* GET /_mock/stats. */
static void handle_stats(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    (void)r;
    pthread_mutex_lock(&m->lock);
    struct mock_stats s = m->stats;
    size_t pending = 0;
    for (const struct mock_fault *f = m->faults; f; f = f->next)
        pending++;
    pthread_mutex_unlock(&m->lock);
    out->status = 200;
    out->body = xasprintf("{\"received\":%llu,\"accepted\":%llu,\"duplicates\":%llu,"
                          "\"faulted\":%llu,\"rejected\":%llu,\"faults_pending\":%zu,"
                          "\"token_requests\":%llu,\"token_max_in_flight\":%d}",
                          (unsigned long long)s.received, (unsigned long long)s.accepted,
                          (unsigned long long)s.duplicates, (unsigned long long)s.faulted,
                          (unsigned long long)s.rejected, pending,
                          (unsigned long long)s.token_requests, s.token_max_in_flight);
}

/* GET /_mock/token_fetches. */
static void handle_token_fetches(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    (void)r;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "[");
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->ntoken_fetches; i++) {
        const struct mock_token_fetch *f = &m->token_fetches[i];
        buf_printf(&b, "%s{\"path\":\"%s\",\"force\":%s,\"start_ms\":%lld,\"end_ms\":%lld}",
                   i ? "," : "", f->path, f->force ? "true" : "false", (long long)f->start_ms,
                   (long long)f->end_ms);
    }
    pthread_mutex_unlock(&m->lock);
    buf_puts(&b, "]");
    out->status = 200;
    out->body = buf_steal(&b);
}

/* Log the start of a token fetch (call with m->lock held); its id. */
static uint64_t token_fetch_begin(struct mock *m, const struct mock_req *r)
{
    if (m->ntoken_fetches == m->captoken_fetches) {
        m->captoken_fetches = m->captoken_fetches ? m->captoken_fetches * 2 : 16;
        m->token_fetches = xrealloc(m->token_fetches,
                                    m->captoken_fetches * sizeof *m->token_fetches);
    }
    struct mock_token_fetch *f = &m->token_fetches[m->ntoken_fetches++];
    memset(f, 0, sizeof *f);
    f->id = ++m->token_fetch_serial;
    snprintf(f->path, sizeof f->path, "%s", r->path);
    f->start_ms = clock_mono_ms();
    /* The only body that matters here: a stable_token force_refresh. */
    cJSON *body = r->body.len ? mock_json_parse_exact(r->body.data, r->body.len) : NULL;
    f->force = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "force_refresh"));
    cJSON_Delete(body);
    return f->id;
}

/* Log the end of token fetch @id (call with m->lock held); gone after a reset. */
static void token_fetch_end(struct mock *m, uint64_t id)
{
    for (size_t i = m->ntoken_fetches; i-- > 0;)
        if (m->token_fetches[i].id == id) {
            m->token_fetches[i].end_ms = clock_mono_ms();
            return;
        }
}

/* POST /_mock/reset: forget records, dedup keys, counters and ids (the
 * next accepted request is mock-1 again). The record file keeps its lines
 * and the fault queue is untouched (DELETE /_mock/faults clears it). */
static void handle_reset(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    (void)r;
    pthread_mutex_lock(&m->lock);
    records_reset(m);
    pthread_mutex_unlock(&m->lock);
    for (size_t p = 0; p < HF_ARRAY_LEN(mock_providers); p++)
        if (mock_providers[p]->reset)
            mock_providers[p]->reset(m);
    out->status = 200;
    out->body = xstrdup("{\"reset\":true}");
}

/* POST /_mock/config: replace the provider settings (same shape as
 * --config FILE). */
static void handle_config_post(struct mock *m, struct mock_req *r, struct mock_resp *out)
{
    cJSON *c = mock_json_parse_exact(r->body.data, r->body.len);
    if (!cJSON_IsObject(c)) {
        cJSON_Delete(c);
        mock_resp_error(out, 400, "config must be a JSON object", NULL);
        return;
    }
    pthread_mutex_lock(&m->lock);
    cJSON_Delete(m->config);
    m->config = c;
    pthread_mutex_unlock(&m->lock);
    out->status = 200;
    out->body = xstrdup("{\"config\":true}");
}

cJSON *mock_config_section(struct mock *m, const char *name)
{
    pthread_mutex_lock(&m->lock);
    const cJSON *sec = m->config ? cJSON_GetObjectItemCaseSensitive(m->config, name) : NULL;
    cJSON *copy = sec ? cJSON_Duplicate(sec, 1) : NULL;
    pthread_mutex_unlock(&m->lock);
    return copy;
}

const char *mock_req_query(const struct mock_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* MHD_KeyValueIterator: rebuild the (decoded) query for fault matching. */
static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct buf *b = cls;
    buf_printf(b, "%s%s=%s", b->len ? "&" : "", key, value ? value : "");
    return MHD_YES;
}

struct push_job {
    struct mock *m;
    char *url;
    char *body;
    long delay_ms;
};

static size_t push_discard(char *p, size_t size, size_t n, void *u)
{
    (void)p;
    (void)u;
    return size * n;
}

/* A push that gets no 2xx-4xx answer (the receiver is down, or answers
 * 5xx or 429) is tried again, as the providers do: MOCK_PUSH_TRIES times in all,
 * waiting 200 ms, 400 ms, ... up to 2 s in between (about 20 s overall),
 * and never past shutdown. */
#define MOCK_PUSH_TRIES 14

static void *push_thread(void *arg)
{
    struct push_job *j = arg;
    long wait = j->delay_ms;
    for (int attempt = 1; attempt <= MOCK_PUSH_TRIES && mock_wait_ms(j->m, wait, -1);
         attempt++) {
        CURL *e = curl_easy_init();
        if (!e)
            break;
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(e, CURLOPT_URL, j->url);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, push_discard);
        CURLcode rc = curl_easy_perform(e);
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        /* Not the URL: it carries the daemon's callback secret. */
        LOG_INFO(MOCK_TAG, "push status=%ld result=%s attempt=%d", status,
                 curl_easy_strerror(rc), attempt);
        curl_slist_free_all(h);
        curl_easy_cleanup(e);
        if (rc == CURLE_OK && status > 0 && status < 500 && status != 429)
            break;
        wait = attempt >= 4 ? 2000 : 100L << attempt;
    }
    atomic_fetch_sub(&j->m->pushes, 1);
    free(j->url);
    free(j->body);
    free(j);
    return NULL;
}

void mock_push_json(struct mock *m, const char *url, const char *body, long delay_ms)
{
    struct push_job *j = xcalloc(1, sizeof *j);
    j->m = m;
    j->url = xstrdup(url);
    j->body = xstrdup(body);
    j->delay_ms = delay_ms;
    atomic_fetch_add(&m->pushes, 1);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, push_thread, j) != 0) {
        atomic_fetch_sub(&m->pushes, 1);
        free(j->url);
        free(j->body);
        free(j);
    }
    pthread_attr_destroy(&attr);
}

/* ===================================================================== */
/* MHD glue                                                                */
/* ===================================================================== */

/* Queue @out on @conn and release its body. Returns what the access
 * handler must return: MHD_NO (close) when there is nothing to send. */
static enum MHD_Result send_resp(struct mock_req *r, struct mock_resp *out)
{
    const char *key = mock_req_header(r, "Idempotency-Key");
    r->answered = 1;
    if (out->status == 0) {
        LOG_INFO(MOCK_TAG, "method=%s path=%s status=none key=%s", r->method, r->path,
                 key ? key : "-");
        free(out->body); out->body = NULL;
        return MHD_NO;
    }
    LOG_INFO(MOCK_TAG, "method=%s path=%s status=%u key=%s", r->method, r->path, out->status,
             key ? key : "-");
    const char *text = out->body ? out->body : "{}";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    free(out->body); out->body = NULL;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (out->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, out->allow);
    enum MHD_Result rc = MHD_queue_response(r->conn, out->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/*
 * MHD access handler; runs on the connection's thread. First call: route
 * and refuse early (404, 405, 413 on a declared Content-Length) without
 * reading the body. Body calls: buffer up to MOCK_BODY_MAX, then discard
 * and answer 413 at the end. Final call: faults (provider routes), then
 * the route's handler.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    struct mock *m = cls;
    struct mock_req *r = *req_cls;
    struct mock_resp out = { 0 };
    (void)version;

    if (!r) {
        r = xcalloc(1, sizeof *r);
        r->conn = conn;
        r->method = method;
        r->path = url;
        buf_init(&r->body);
        buf_init(&r->query_buf);
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &r->query_buf);
        r->query = r->query_buf.data ? r->query_buf.data : "";
        *req_cls = r; /* freed in on_completed, whatever happens next */

        r->route = route_find(method, url, out.allow, sizeof out.allow);
        if (!r->route) {
            if (out.allow[0])
                mock_resp_error(&out, 405, "method not allowed", NULL);
            else
                mock_resp_error(&out, 404, "not found", NULL);
            return send_resp(r, &out);
        }
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        long declared;
        if (cl && parse_long(cl, 0, LONG_MAX, &declared) == 0 &&
            (unsigned long)declared > MOCK_BODY_MAX) {
            if (r->route->flags & MOCK_ROUTE_PROVIDER) {
                pthread_mutex_lock(&m->lock);
                m->stats.received++;
                m->stats.rejected++;
                pthread_mutex_unlock(&m->lock);
            }
            /* Queued before the body is read: MHD sends it and closes. */
            mock_resp_error(&out, 413, "body too large", NULL);
            return send_resp(r, &out);
        }
        return MHD_YES;
    }

    if (*upload_data_size) {
        if (!r->answered && !r->too_large) {
            if (r->body.len + *upload_data_size > MOCK_BODY_MAX) {
                r->too_large = 1;
                buf_cleanup(&r->body);
            } else {
                buf_append(&r->body, upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->answered)
        return MHD_YES;

    if (r->too_large) {
        if (r->route->flags & MOCK_ROUTE_PROVIDER) {
            pthread_mutex_lock(&m->lock);
            m->stats.received++;
            m->stats.rejected++;
            pthread_mutex_unlock(&m->lock);
        }
        mock_resp_error(&out, 413, "body too large", NULL);
        return send_resp(r, &out);
    }
    /* Access-token fetches are counted with how many run at once, so a
     * test can check that the daemon never has two refreshes in flight. */
    int is_token = (r->route->flags & MOCK_ROUTE_PROVIDER) && is_token_path(r->path);
    uint64_t fetch_id = 0;
    if (is_token) {
        pthread_mutex_lock(&m->lock);
        m->stats.token_requests++;
        if (++m->stats.token_in_flight > m->stats.token_max_in_flight)
            m->stats.token_max_in_flight = m->stats.token_in_flight;
        fetch_id = token_fetch_begin(m, r);
        pthread_mutex_unlock(&m->lock);
    }
    if (!(r->route->flags & MOCK_ROUTE_PROVIDER) || !provider_faults(m, r, &out))
        r->route->handle(m, r, &out);
    if (is_token) {
        pthread_mutex_lock(&m->lock);
        m->stats.token_in_flight--;
        token_fetch_end(m, fetch_id);
        pthread_mutex_unlock(&m->lock);
    }
    return send_resp(r, &out);
}

/* MHD_OPTION_NOTIFY_COMPLETED: the only place a request is freed. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct mock_req *r = *req_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (!r)
        return;
    buf_cleanup(&r->body);
    buf_cleanup(&r->query_buf);
    free(r);
    *req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    LOG_WARN("mhd", "%s", msg);
}

static void on_mhd_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
    (void)cls;
    log_write(LOG_LVL_ERR, "mhd", "panic at %s:%u: %s", file ? file : "?", line,
              reason ? reason : "?");
    abort();
}

/* ===================================================================== */
/* Startup and shutdown                                                    */
/* ===================================================================== */

/*
 * Write "@port\n" to @path atomically: PATH.tmp (stale one unlinked first),
 * fsync, rename, then fsync the directory so the rename itself is durable.
 * Readers see either no file or the whole line. 0 or -1 (logged).
 */
static int ready_file_write(const char *path, unsigned port)
{
    char *tmp = xasprintf("%s.tmp", path);
    char line[16];
    int n = snprintf(line, sizeof line, "%u\n", port);
    int rc = -1, fd = -1;

    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto out;
    if (write(fd, line, (size_t)n) != n || fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out;

    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir); dir = NULL;
    if (dfd >= 0) {
        fsync(dfd); /* best effort: the file is already in place */
        close(dfd);
    }
    rc = 0;
out:
    if (rc != 0) {
        LOG_ERR(MOCK_TAG, "cannot write ready file path=%s err=%s", path, strerror(errno));
        unlink(tmp);
    }
    if (fd >= 0)
        close(fd);
    free(tmp); tmp = NULL;
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mock_provider [--listen 127.0.0.1] [--port N] [--ready-file PATH]\n"
            "                     [--record PATH] [--webhook-secret SECRET]\n"
            "                     [--fail-first N] [--fail-status CODE] [--config FILE]\n"
            "\n"
            "  --listen ADDR          only 127.0.0.1 is accepted\n"
            "  --port N               0 (default) lets the kernel pick\n"
            "  --ready-file PATH      write the bound port here once listening\n"
            "  --record PATH          append one JSON line per accepted request\n"
            "  --webhook-secret S     require X-Huifang-Signature on /webhook\n"
            "  --fail-first N         answer the first N provider requests with an error\n"
            "  --fail-status CODE     status for --fail-first (default 500)\n"
            "  --config FILE          provider settings (JSON, see tools/mock/mock.h)\n");
}

/* Command line, parsed into this and then applied to struct mock. */
struct mock_opts {
    long port;
    const char *ready_file;
    const char *record;
    const char *webhook_secret;
    long fail_first;
    long fail_status;
    const char *config;
};

/* 0, or -1 after printing why (exit status 2). */
static int opts_parse(int argc, char **argv, struct mock_opts *o)
{
    enum { OPT_LISTEN = 256, OPT_PORT, OPT_READY, OPT_RECORD, OPT_SECRET, OPT_FAIL_FIRST,
           OPT_FAIL_STATUS, OPT_CONFIG, OPT_HELP };
    static const struct option longopts[] = {
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "port", required_argument, NULL, OPT_PORT },
        { "ready-file", required_argument, NULL, OPT_READY },
        { "record", required_argument, NULL, OPT_RECORD },
        { "webhook-secret", required_argument, NULL, OPT_SECRET },
        { "fail-first", required_argument, NULL, OPT_FAIL_FIRST },
        { "fail-status", required_argument, NULL, OPT_FAIL_STATUS },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "help", no_argument, NULL, OPT_HELP },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    o->fail_status = 500;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN:
            /* The mock must never be reachable from another host. */
            if (strcmp(optarg, "127.0.0.1") != 0) {
                fprintf(stderr, "mock_provider: --listen: only 127.0.0.1 is allowed, got '%s'\n",
                        optarg);
                return -1;
            }
            break;
        case OPT_PORT:
            if (parse_long(optarg, 0, 65535, &o->port) != 0) {
                fprintf(stderr, "mock_provider: --port: expected 0..65535, got '%s'\n", optarg);
                return -1;
            }
            break;
        case OPT_READY: o->ready_file = optarg; break;
        case OPT_RECORD: o->record = optarg; break;
        case OPT_SECRET: o->webhook_secret = optarg; break;
        case OPT_CONFIG: o->config = optarg; break;
        case OPT_FAIL_FIRST:
            if (parse_long(optarg, 0, 1000000, &o->fail_first) != 0) {
                fprintf(stderr, "mock_provider: --fail-first: expected 0..1000000, got '%s'\n",
                        optarg);
                return -1;
            }
            break;
        case OPT_FAIL_STATUS:
            if (parse_long(optarg, 200, 599, &o->fail_status) != 0) {
                fprintf(stderr, "mock_provider: --fail-status: expected 200..599, got '%s'\n",
                        optarg);
                return -1;
            }
            break;
        case OPT_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "mock_provider: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static void mock_cleanup(struct mock *m)
{
    /* Receipt pushes check m->stopping while they wait; let them finish. */
    while (atomic_load(&m->pushes) > 0) {
        struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    for (size_t p = 0; p < HF_ARRAY_LEN(mock_providers); p++)
        if (mock_providers[p]->cleanup)
            mock_providers[p]->cleanup(m);
    cJSON_Delete(m->config); m->config = NULL;
    curl_global_cleanup();
    faults_free_list(m->faults); m->faults = NULL;
    records_reset(m);
    if (m->record) {
        if (fclose(m->record) != 0)
            LOG_ERR(MOCK_TAG, "closing record file failed path=%s err=%s", m->record_path,
                    strerror(errno));
        m->record = NULL;
    }
    pthread_mutex_destroy(&m->lock);
}

int main(int argc, char **argv)
{
    static struct mock m; /* the one state instance; MHD's closure */
    struct mock_opts o;
    sigset_t stop_sigs;
    int sig = 0, rc = 1;

    if (opts_parse(argc, argv, &o) != 0)
        return 2;
    clock_init_from_env(); /* ts_ms follows the daemon's test clock if set */

    /* Signals: SIGPIPE ignored (a client that hung up must not kill us).
     * SIGTERM/SIGINT blocked before MHD creates any thread, so every thread
     * inherits the mask and only main's sigwait() sees them: no handler
     * runs in signal context at all. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGTERM);
    sigaddset(&stop_sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);

    pthread_mutex_init(&m.lock, NULL);
    atomic_init(&m.stopping, 0);
    atomic_init(&m.pushes, 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (o.config) {
        FILE *cf = fopen(o.config, "rb");
        struct buf cb;
        buf_init(&cb);
        char chunk[4096];
        size_t n;
        while (cf && (n = fread(chunk, 1, sizeof chunk, cf)) > 0)
            buf_append(&cb, chunk, n);
        if (cf)
            fclose(cf);
        m.config = cb.data ? mock_json_parse_exact(cb.data, cb.len) : NULL;
        buf_cleanup(&cb);
        if (!cJSON_IsObject(m.config)) {
            LOG_ERR(MOCK_TAG, "--config %s: not a readable JSON object", o.config);
            goto out;
        }
    }
    m.webhook_secret = o.webhook_secret;
    m.record_path = o.record;
    if (o.record) {
        m.record = fopen(o.record, "ae");
        if (!m.record) {
            LOG_ERR(MOCK_TAG, "cannot open record file path=%s err=%s", o.record,
                    strerror(errno));
            goto out;
        }
    }
    if (o.fail_first > 0) {
        struct mock_fault *f = xcalloc(1, sizeof *f);
        f->status = (int)o.fail_status;
        f->count = o.fail_first;
        faults_append(&m, f);
    }

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    MHD_set_panic_func(on_mhd_panic, NULL);
    m.daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, &m,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, &m, /* first, or MHD complains */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_TIMEOUT, MOCK_CONN_TIMEOUT_S,
        MHD_OPTION_CONNECTION_LIMIT, MOCK_CONN_LIMIT,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &m,
        MHD_OPTION_END);
    if (!m.daemon) {
        LOG_ERR(MOCK_TAG, "cannot listen on 127.0.0.1:%ld", o.port);
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(m.daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : 0;
    if (port == 0) {
        LOG_ERR(MOCK_TAG, "cannot read the bound port");
        goto out;
    }
    if (o.ready_file && ready_file_write(o.ready_file, port) != 0)
        goto out;
    LOG_INFO(MOCK_TAG, "listening addr=127.0.0.1 port=%u record=%s signed=%s fail_first=%ld",
             port, o.record ? o.record : "-", o.webhook_secret ? "yes" : "no", o.fail_first);

    while (sigwait(&stop_sigs, &sig) != 0)
        ;
    LOG_INFO(MOCK_TAG, "stopping signal=%d", sig);
    rc = 0;
out:
    /* Sleepers (delay, hang) see the flag within MOCK_WAIT_SLICE_MS, so
     * MHD_stop_daemon's joins of the connection threads finish promptly. */
    atomic_store(&m.stopping, 1);
    if (m.daemon) {
        MHD_stop_daemon(m.daemon);
        m.daemon = NULL;
    }
    mock_cleanup(&m);
    return rc;
}
