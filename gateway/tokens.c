/*
 * tokens.c - access-token cache, refresh and waiting list per provider.
 */
#include "tokens.h"
#include "adapter.h"
#include "gateway.h"
#include "log.h"
#include "outbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MARGIN_S 60          /* treat a token as expired this much early */
#define TOKEN_REFRESH_AHEAD_S 300  /* refresh in the background this long before expiry */
#define TOKEN_FORCE_GAP_MS 30000   /* WeChat: forced refreshes at least 30 s apart */
/* The stored time of another instance's forced refresh comes from its
 * clock: allow this much difference between the machines' clocks. */
#define TOKEN_CLOCK_SKEW_MS 1000
#define TOKEN_RETRY_MAX_S 60.0
#define TOKEN_POLL_S 0.2           /* another instance fetches: re-read the store this often */

struct waiter {
    token_ready_fn fn;
    void *arg;
    struct waiter *next;
};

struct entry {
    struct tokens *owner;
    const struct channel_adapter *a;
    char key[160];                 /* store name: "<adapter>:<appid or corpid>" */
    char token[TOKEN_MAX];         /* "" when none */
    int64_t expires_at;            /* UTC seconds, margin already taken off */
    char bad[TOKEN_MAX];           /* the token a provider last refused */
    int fetching;                  /* a fetch is in flight */
    int locked;                    /* this instance holds the token's lock (store_token_lock) */
    int force_next;                /* next fetch uses force_refresh */
    int64_t last_force_ms;         /* monotonic, this instance's last forced refresh */
    int64_t last_ahead;            /* UTC seconds of the last refresh-ahead */
    int ahead;                     /* the current obtain() is a refresh-ahead */
    double retry_s;                /* backoff for failed fetches */
    ev_timer retry;                /* re-fetch after a transient failure */
    ev_timer poll;                 /* another instance fetches: re-read the store */
    int64_t poll_since_ms;         /* monotonic start of this wait for another instance, 0 */
    struct waiter *waiters;
    struct entry *next;
};

struct tokens {
    struct gateway *gw;
    struct entry *entries;
    uint64_t fetches;
};

static void fetch(struct entry *e);
static void obtain(struct entry *e, int ahead);

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct entry *e = w->data;
    if (!e->fetching && (e->waiters || !e->token[0]))
        obtain(e, 0);
}

static void on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct entry *e = w->data;
    obtain(e, e->ahead);
}

static struct entry *entry_for(struct tokens *t, const struct channel_adapter *a)
{
    for (struct entry *e = t->entries; e; e = e->next)
        if (e->a == a)
            return e;
    const struct config *cfg = t->gw->cfg;
    struct entry *e = xcalloc(1, sizeof *e);
    e->owner = t;
    e->a = a;
    const char *app = strcmp(a->name, "wecom") == 0 ? cfg->wecom_corpid : cfg->wechat_appid;
    snprintf(e->key, sizeof e->key, "%s:%s", a->name, app ? app : "");
    e->retry_s = 1.0;
    ev_init(&e->retry, on_retry);
    e->retry.data = e;
    ev_init(&e->poll, on_poll);
    e->poll.data = e;
    /* A token fetched before a restart (or by another instance) is still
     * good: reuse it. */
    int64_t exp;
    if (store_token_get(t->gw->store, e->key, e->token, sizeof e->token, &exp, NULL) == HF_OK &&
        e->token[0]) {
        e->expires_at = exp;
        LOG_INFO("tokens", "reusing stored token provider=%s valid_for_s=%lld", a->name,
                 (long long)(exp - clock_now()));
    } else {
        e->token[0] = '\0';
    }
    e->next = t->entries;
    t->entries = e;
    return e;
}

static int valid(const struct entry *e)
{
    return e->token[0] && e->expires_at > clock_now();
}

/* What obtain() is after: a valid token, and for a refresh-ahead one that
 * is not about to expire. */
static int satisfied(const struct entry *e, int ahead)
{
    return valid(e) && (!ahead || e->expires_at - clock_now() > TOKEN_REFRESH_AHEAD_S);
}

/* Take the stored token if another instance (or this one before a
 * restart) stored a better one: valid, not the one a provider refused
 * here, and lasting longer than the cached one. 1 if taken. */
static int reread(struct entry *e)
{
    char tok[TOKEN_MAX];
    int64_t exp = 0;
    if (store_token_get(e->owner->gw->store, e->key, tok, sizeof tok, &exp, NULL) != HF_OK)
        return 0;
    if (!tok[0] || exp <= clock_now() || strcmp(tok, e->bad) == 0 ||
        (valid(e) && exp <= e->expires_at))
        return 0;
    snprintf(e->token, sizeof e->token, "%s", tok);
    e->expires_at = exp;
    e->bad[0] = '\0';
    return 1;
}

/* Release the cluster-wide lock once this instance's fetch is over. */
static void release(struct entry *e)
{
    if (!e->locked)
        return;
    e->locked = 0;
    store_token_unlock(e->owner->gw->store, e->key);
}

/* Answer every waiter; the list is detached first because a callback may
 * wait again (a resend after an invalid token). */
static void answer_all(struct entry *e, const char *token, const char *why)
{
    struct waiter *w = e->waiters;
    e->waiters = NULL;
    while (w) {
        struct waiter *next = w->next;
        w->fn(w->arg, token, why);
        free(w);
        w = next;
    }
}

/* Schedule another try after a transient failure (backoff up to 60 s). */
static void retry_later(struct entry *e)
{
    struct gateway *gw = e->owner->gw;
    ev_timer_stop(gw->loop, &e->retry);
    ev_timer_set(&e->retry, e->retry_s, 0.);
    ev_timer_start(gw->loop, &e->retry);
    e->retry_s = e->retry_s * 2 > TOKEN_RETRY_MAX_S ? TOKEN_RETRY_MAX_S : e->retry_s * 2;
}

/* The provider returned the token it refused here (stable_token in normal
 * mode hands back the same token while it is valid): 1 if a forced
 * refresh may be asked for now, which is then recorded in the store
 * before it is sent. At most one per 30 s by this instance (monotonic
 * clock) and, through the stored time, by any instance. */
static int may_force(struct entry *e)
{
    struct gateway *gw = e->owner->gw;
    int64_t mono = clock_mono_ms(), now_ms = clock_now_ms();
    if (e->last_force_ms && mono - e->last_force_ms < TOKEN_FORCE_GAP_MS)
        return 0;
    char tok[TOKEN_MAX];
    int64_t exp = 0, forced = 0;
    int rc = store_token_get(gw->store, e->key, tok, sizeof tok, &exp, &forced);
    if (rc == HF_ERR_DB)
        return 0; /* cannot tell what the others did: not now */
    if (rc == HF_OK && forced && now_ms - forced < TOKEN_FORCE_GAP_MS + TOKEN_CLOCK_SKEW_MS)
        return 0;
    if (store_begin(gw->store) != HF_OK ||
        store_token_forced(gw->store, e->key, now_ms, clock_now()) != HF_OK ||
        store_commit(gw->store) != HF_OK) {
        store_rollback(gw->store);
        return 0;
    }
    return 1;
}

static void on_fetched(void *arg, const struct http_resp *resp, int64_t latency_ms)
{
    struct entry *e = arg;
    struct gateway *gw = e->owner->gw;
    e->fetching = 0;
    if (resp->cancelled) {
        release(e);
        answer_all(e, NULL, "shutting down");
        return;
    }
    char tok[TOKEN_MAX], err[256] = "";
    int64_t expires_in = 0;
    int retryable = 1;
    if (e->a->token_parse(gw->cfg, resp, tok, sizeof tok, &expires_in, &retryable, err,
                          sizeof err) != 0) {
        release(e);
        if (!retryable) {
            LOG_ERR("tokens", "cannot get an access token provider=%s reason=\"%s\" (check the "
                    "channel's credentials)", e->a->name, err);
            answer_all(e, NULL, err);
            return;
        }
        LOG_WARN("tokens", "token fetch failed provider=%s reason=\"%s\" retry_in_s=%.0f",
                 e->a->name, err, e->retry_s);
        retry_later(e);
        return;
    }
    e->retry_s = 1.0;
    /* The refused token came back: force a new one (WeChat limits that to
     * one per 30 s), still holding the lock. */
    if (e->bad[0] && strcmp(tok, e->bad) == 0 && strcmp(e->a->name, "wechat") == 0) {
        if (may_force(e)) {
            e->force_next = 1;
            fetch(e);
            return;
        }
        LOG_WARN("tokens", "provider=%s refused token returned again; forced refresh not before "
                 "30 s after the last one (any instance)", e->a->name);
    }
    int64_t now = clock_now();
    snprintf(e->token, sizeof e->token, "%s", tok);
    int64_t margin = expires_in > 2 * TOKEN_MARGIN_S ? TOKEN_MARGIN_S : expires_in / 4;
    e->expires_at = now + expires_in - margin;
    e->bad[0] = '\0';
    if (store_begin(gw->store) != HF_OK ||
        store_token_put(gw->store, e->key, e->token, e->expires_at, now) != HF_OK ||
        store_commit(gw->store) != HF_OK)
        store_rollback(gw->store); /* still usable from memory */
    /* Stored first, then released: an instance waiting for it finds it. */
    release(e);
    LOG_INFO("tokens", "token fetched provider=%s expires_in_s=%lld latency_ms=%lld", e->a->name,
             (long long)expires_in, (long long)latency_ms);
    answer_all(e, e->token, NULL);
}

/* Send the token request. The caller holds the lock (e->locked, or
 * SQLite); it is released when the answer is in (on_fetched). */
static void fetch(struct entry *e)
{
    struct gateway *gw = e->owner->gw;
    if (e->fetching)
        return;
    struct http_req req;
    http_req_init(&req);
    char err[256] = "";
    int force = e->force_next;
    e->force_next = 0;
    if (e->a->token_request(gw->cfg, force, &req, err, sizeof err) != 0) {
        http_req_cleanup(&req);
        release(e);
        LOG_ERR("tokens", "cannot build the token request provider=%s: %s", e->a->name, err);
        answer_all(e, NULL, err);
        return;
    }
    if (force) {
        e->last_force_ms = clock_mono_ms();
        LOG_WARN("tokens", "provider=%s asking for a forced token refresh", e->a->name);
    }
    if (outbound_submit(gw->out, &req, on_fetched, e) != 0) {
        release(e);
        answer_all(e, NULL, "outbound request refused");
        return;
    }
    e->fetching = 1;
    e->owner->fetches++;
}

/*
 * Get a token for the waiters (@ahead 0: a valid one) or refresh ahead of
 * expiry (@ahead 1: one that is not about to expire). In order:
 *  1. the store may hold one already (another instance fetched it);
 *  2. else take the lock and fetch, unless the store got one meanwhile;
 *  3. another instance holds the lock: it is fetching, so poll the store
 *     (on_poll calls this again) instead of fetching too; after twice the
 *     request timeout + 10 s the holder is stuck: fetch without the lock.
 * Nothing happens while this instance fetches, backs off or polls.
 */
static void obtain(struct entry *e, int ahead)
{
    struct gateway *gw = e->owner->gw;
    if (e->fetching || ev_is_active(&e->retry))
        return;
    ev_timer_stop(gw->loop, &e->poll);
    e->ahead = ahead;
    reread(e);
    if (satisfied(e, ahead)) {
        e->poll_since_ms = 0;
        answer_all(e, e->token, NULL);
        return;
    }
    int rc = e->locked ? HF_OK : store_token_lock(gw->store, e->key);
    if (rc == HF_OK) {
        e->poll_since_ms = 0;
        e->locked = 1;
        if (reread(e) && satisfied(e, ahead)) { /* stored just before we took the lock */
            release(e);
            answer_all(e, e->token, NULL);
            return;
        }
        fetch(e);
        return;
    }
    if (rc == HF_ERR_CONFLICT) {
        /* The holder's fetch lasts at most the request timeout, twice with
         * a forced refresh. Held much longer, the holder is stuck (frozen,
         * cut off) with its connection still open: fetch without the lock
         * rather than wait for the server to notice. */
        int64_t mono = clock_mono_ms(), stuck_ms = 2 * gw->cfg->request_timeout_ms + 10000;
        if (!e->poll_since_ms)
            e->poll_since_ms = mono;
        if (mono - e->poll_since_ms < stuck_ms) {
            ev_timer_set(&e->poll, TOKEN_POLL_S, 0.);
            ev_timer_start(gw->loop, &e->poll);
            return;
        }
        LOG_WARN("tokens", "provider=%s another instance has held the token lock for %llds "
                 "without storing a token; fetching without it", e->a->name,
                 (long long)((mono - e->poll_since_ms) / 1000));
        e->poll_since_ms = 0;
        fetch(e);
        return;
    }
    LOG_WARN("tokens", "provider=%s cannot take the token lock (database); retry_in_s=%.0f",
             e->a->name, e->retry_s);
    retry_later(e);
}

struct tokens *tokens_new(struct gateway *gw)
{
    struct tokens *t = xcalloc(1, sizeof *t);
    t->gw = gw;
    return t;
}

void tokens_wait(struct tokens *t, const struct channel_adapter *a, token_ready_fn fn, void *arg)
{
    struct entry *e = entry_for(t, a);
    if (valid(e)) {
        fn(arg, e->token, NULL);
        return;
    }
    struct waiter *w = xcalloc(1, sizeof *w);
    w->fn = fn;
    w->arg = arg;
    w->next = e->waiters;
    e->waiters = w;
    /* No-op while a fetch is in flight, backing off or polling: everyone
     * waits for that one. */
    if (!ev_is_active(&e->poll))
        obtain(e, 0);
}

void tokens_invalidate(struct tokens *t, const struct channel_adapter *a, const char *bad_token)
{
    struct entry *e = entry_for(t, a);
    if (!bad_token || strcmp(e->token, bad_token) != 0)
        return; /* already replaced: the resend will use the new one */
    snprintf(e->bad, sizeof e->bad, "%s", bad_token);
    e->token[0] = '\0';
    e->expires_at = 0;
    LOG_WARN("tokens", "provider=%s refused the access token; getting a new one", a->name);
}

void tokens_cron(struct tokens *t)
{
    int64_t now = clock_now();
    for (struct entry *e = t->entries; e; e = e->next) {
        if (e->fetching || !e->token[0] || e->expires_at - now > TOKEN_REFRESH_AHEAD_S ||
            now - e->last_ahead < 60 || ev_is_active(&e->poll))
            continue;
        e->last_ahead = now;
        obtain(e, 1);
    }
}

uint64_t tokens_fetches(const struct tokens *t)
{
    return t ? t->fetches : 0;
}

void tokens_free(struct tokens *t)
{
    if (!t)
        return;
    while (t->entries) {
        struct entry *e = t->entries;
        t->entries = e->next;
        ev_timer_stop(t->gw->loop, &e->retry);
        ev_timer_stop(t->gw->loop, &e->poll);
        release(e);
        answer_all(e, NULL, "shutting down");
        free(e);
    }
    free(t);
}
