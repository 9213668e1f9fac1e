/*
 * mock.h - the mock provider's shared core: state, requests, routes and the
 * helpers provider files use. See mock.c's head comment for what the mock
 * promises; each provider (webhook.c is in mock.c; wechat.c, aliyun.c,
 * tencent.c) speaks its vendor's real protocol on its own path prefix:
 *
 *   /webhook   generic JSON webhook          (mock.c)
 *   /wechat    WeChat Official Account API   (wechat.c; daemon base_url .../wechat)
 *   /wecom     WeCom API                     (wechat.c; daemon base_url .../wecom)
 *   /aliyun    Aliyun dysmsapi               (aliyun.c; daemon base_url .../aliyun)
 *   /tencent   Tencent Cloud SMS API 3.0     (tencent.c; daemon base_url .../tencent)
 *
 * Provider settings (keys, secrets, unsubscribed openids, per-number
 * limits, the daemon's receipt URLs) come from a JSON object given with
 * --config FILE or POST /_mock/config, one section per provider:
 *   {"wechat": {...}, "wecom": {...}, "aliyun": {...}, "tencent": {...}}
 */
#ifndef HF_MOCK_H
#define HF_MOCK_H

#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

/* ===================================================================== */
/* Limits                                                                  */
/* ===================================================================== */

#define MOCK_BODY_MAX ((size_t)1024 * 1024) /* larger request bodies get 413 */
#define MOCK_CONN_TIMEOUT_S 30u             /* idle connections are dropped */
#define MOCK_CONN_LIMIT 256u                /* threads are cheap, not free */
#define MOCK_HANG_CAP_MS 120000             /* a "hang" fault ends after this */
#define MOCK_DELAY_MAX_MS 600000            /* largest accepted delay_ms */
#define MOCK_WAIT_SLICE_MS 50               /* how often sleepers check for stop */
#define MOCK_TAG "mock"

/* ===================================================================== */
/* State                                                                   */
/* ===================================================================== */

/* One queued fault. Consumed by provider requests in queue order. */
struct mock_fault {
    struct mock_fault *next;
    int status;      /* injected HTTP status; 0 = answer normally (delay only) */
    long delay_ms;   /* sleep this long before answering; 0 = none */
    int hang;        /* never answer: hold the request until the client goes */
    long count;      /* requests this fault still applies to (>= 1 while queued) */
    char *match;     /* only requests whose Idempotency-Key equals this, or whose query
                        or body contains it (OutId, client_msg_id, ...); NULL = any */
    char *path;      /* only requests under this path prefix ("/aliyun"); NULL = any */
    char *body;      /* answer body (JSON text) instead of {"error":"injected"}; or NULL */
    double probability; /* 0 = every matching request; else each matching request is
                           faulted with this probability (a use of count is taken only
                           when it is), e.g. 0.3 for "30% of requests answer 500" */
};

/* An Idempotency-Key already answered 2xx, and the seq of that first answer. */
struct mock_seen {
    char *key;
    uint64_t seq;
};

/* Counters exposed by GET /_mock/stats. */
struct mock_stats {
    uint64_t received;   /* provider requests that reached the final call */
    uint64_t accepted;   /* answered 2xx and recorded (duplicates included) */
    uint64_t duplicates; /* accepted repeats of an Idempotency-Key */
    uint64_t faulted;    /* answered by an injected status, or hung */
    uint64_t rejected;   /* refused by the protocol checks (400/401/413/415) */
    uint64_t token_requests;        /* access-token fetches (WeChat, WeCom), faults included */
    int token_in_flight;            /* ... being answered right now */
    int token_max_in_flight;        /* the most at once since the start or reset */
};

/* One access-token fetch as the mock saw it (GET /_mock/token_fetches),
 * on the mock's monotonic clock: a test checks that no two overlap and
 * how far apart the forced refreshes are. */
struct mock_token_fetch {
    uint64_t id;          /* serial, to find it again when it ends */
    char path[40];        /* /wechat/cgi-bin/stable_token, /wecom/cgi-bin/gettoken, ... */
    int force;            /* stable_token with "force_refresh": true */
    int64_t start_ms;     /* clock_mono_ms() when its body was in */
    int64_t end_ms;       /* when its answer was ready; 0 while being answered */
};

/* The whole process state. One instance lives in main(); MHD hands it back
 * to every callback as its closure. Fields above `lock` are written before
 * the daemon starts and only read afterwards; fields below it are guarded
 * by `lock`. */
struct mock {
    const char *webhook_secret;   /* --webhook-secret, or NULL; never logged */
    const char *record_path;      /* --record, or NULL */
    struct MHD_Daemon *daemon;    /* the HTTP server */
    atomic_int stopping;          /* set once SIGTERM/SIGINT arrived; read by sleepers */

    pthread_mutex_t lock;         /* guards everything below */
    FILE *record;                 /* --record file, opened for append, or NULL */
    uint64_t seq;                 /* last seq handed out; ids are mock-<seq> */
    char **records;               /* recorded lines (no newline), in order */
    size_t nrecords, caprecords;
    /* Linear search is fine at test scale (hundreds of keys). */
    struct mock_seen *seen;       /* keys already answered 2xx */
    size_t nseen, capseen;
    struct mock_fault *faults;    /* queue head (next to consume) */
    struct mock_stats stats;      /* counters for /_mock/stats */
    struct mock_token_fetch *token_fetches; /* every token fetch since the start or reset */
    size_t ntoken_fetches, captoken_fetches;
    uint64_t token_fetch_serial;
    cJSON *config;                /* provider settings: --config FILE, POST /_mock/config */
    atomic_int pushes;            /* receipt pushes still running (mock_push_json) */
    uint64_t rng;                 /* xorshift state for probabilistic faults (fixed seed) */
};

/* ===================================================================== */
/* Requests, responses, routes                                             */
/* ===================================================================== */

/* What a handler answers. status 0 means "close the connection without an
 * answer" (hang, shutdown). */
struct mock_resp {
    unsigned status;
    char *body;             /* heap JSON text, owned here until queued */
    char allow[64];         /* value of an Allow header (405), or "" */
};

struct mock_req;

enum mock_route_match { MOCK_MATCH_EXACT = 0, MOCK_MATCH_TREE };
enum { MOCK_ROUTE_PROVIDER = 1 << 0 };

/* One row of the route table. A handler borrows @r and fills @out; it
 * runs on the connection's own thread and may sleep. */
struct mock_route {
    const char *method;              /* "POST", "GET", ... */
    const char *path;                /* exact path, or prefix of a subtree */
    enum mock_route_match match;     /* EXACT: path only; TREE: path and path/... */
    unsigned flags;                  /* MOCK_ROUTE_PROVIDER: counted, faultable */
    void (*handle)(struct mock *m, struct mock_req *r, struct mock_resp *out);
};

/* One HTTP request, from MHD's first call to NOTIFY_COMPLETED. */
struct mock_req {
    const char *query;               /* decoded query "a=1&b=2" (for fault matching) or "" */
    struct buf query_buf;            /* owns query */
    struct MHD_Connection *conn;     /* borrowed from MHD: headers, socket */
    const struct mock_route *route;  /* matched route; NULL once answered early */
    const char *method;              /* borrowed from MHD, valid until completion */
    const char *path;                /* likewise */
    struct buf body;                 /* request body, at most MOCK_BODY_MAX bytes */
    int too_large;                   /* body went past MOCK_BODY_MAX: answer 413 */
    int answered;                    /* a response was already queued */
};


/* A provider: its routes (terminated by a row with method NULL) and hooks
 * for POST /_mock/reset and for shutdown (free file-level state). */
struct mock_provider {
    const char *name;
    const struct mock_route *routes;
    void (*reset)(struct mock *m);    /* may be NULL */
    void (*cleanup)(struct mock *m);  /* may be NULL */
};

extern const struct mock_provider mock_wechat_provider;  /* wechat.c: WeChat + WeCom */
extern const struct mock_provider mock_wecom_provider;
extern const struct mock_provider mock_aliyun_provider;  /* aliyun.c */
extern const struct mock_provider mock_tencent_provider; /* tencent.c */

/* ---- helpers for provider handlers ------------------------------------ */

/* A request header, or NULL. */
const char *mock_req_header(const struct mock_req *r, const char *name);
/* A decoded query-string argument, or NULL. */
const char *mock_req_query(const struct mock_req *r, const char *name);
/* Answer @status with @obj printed compactly. Takes ownership of @obj. */
void mock_resp_json(struct mock_resp *out, unsigned status, cJSON *obj);
/* Answer @status with {"error": @msg} (+ "field"). */
void mock_resp_error(struct mock_resp *out, unsigned status, const char *msg, const char *field);
/* Parse exactly one JSON value (trailing whitespace only). Caller owns. */
cJSON *mock_json_parse_exact(const char *p, size_t n);
/* A whole number in [min, max] from a JSON number. 0 or -1. */
int mock_json_long(const cJSON *j, long min, long max, long *out);
/* Sleep @ms, cut short at shutdown or (fd >= 0) when the peer closes.
 * 1 after the full time, 0 if cut short. */
int mock_wait_ms(struct mock *m, long ms, int fd);
/* Record an accepted provider request (see mock.c). @key is the dedup key
 * (Idempotency-Key, client_msg_id, OutId, SessionContext) or NULL. Takes
 * ownership of @body. Sets *dup; returns the seq of the answer id. */
uint64_t mock_record(struct mock *m, const char *path, const char *key, cJSON *body,
                     unsigned status, int *dup);
/* Count a request refused by a protocol check (bad signature, ...). */
void mock_stats_rejected(struct mock *m);
/* A copy of config section @name (e.g. "aliyun"), or NULL. Caller owns;
 * cJSON_Delete(). */
cJSON *mock_config_section(struct mock *m, const char *name);
/* POST @body (JSON text, copied) to @url after @delay_ms, on a thread of
 * its own (receipts pushed back to the daemon). Logged; never blocks the
 * caller. Shutdown waits for pushes in flight. */
void mock_push_json(struct mock *m, const char *url, const char *body, long delay_ms);

#endif
