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
#define TOKEN_RETRY_MAX_S 60.0

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
    int force_next;                /* next fetch uses force_refresh */
    int64_t last_force_ms;         /* monotonic */
    int64_t last_ahead;            /* UTC seconds of the last refresh-ahead */
    double retry_s;                /* backoff for failed fetches */
    ev_timer retry;                /* re-fetch after a transient failure */
    struct waiter *waiters;
    struct entry *next;
};

struct tokens {
    struct gateway *gw;
    struct entry *entries;
    uint64_t fetches;
};

static void fetch(struct entry *e);

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct entry *e = w->data;
    if (!e->fetching && (e->waiters || !e->token[0]))
        fetch(e);
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
    /* A token fetched before a restart is still good: reuse it. */
    int64_t exp;
    if (store_token_get(t->gw->store, e->key, e->token, sizeof e->token, &exp) == HF_OK) {
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

static void on_fetched(void *arg, const struct http_resp *resp, int64_t latency_ms)
{
    struct entry *e = arg;
    struct gateway *gw = e->owner->gw;
    e->fetching = 0;
    if (resp->cancelled) {
        answer_all(e, NULL, "shutting down");
        return;
    }
    char tok[TOKEN_MAX], err[256] = "";
    int64_t expires_in = 0;
    int retryable = 1;
    if (e->a->token_parse(gw->cfg, resp, tok, sizeof tok, &expires_in, &retryable, err,
                          sizeof err) != 0) {
        if (!retryable) {
            LOG_ERR("tokens", "cannot get an access token provider=%s reason=\"%s\" (check the "
                    "channel's credentials)", e->a->name, err);
            answer_all(e, NULL, err);
            return;
        }
        LOG_WARN("tokens", "token fetch failed provider=%s reason=\"%s\" retry_in_s=%.0f",
                 e->a->name, err, e->retry_s);
        ev_timer_stop(gw->loop, &e->retry);
        ev_timer_set(&e->retry, e->retry_s, 0.);
        ev_timer_start(gw->loop, &e->retry);
        e->retry_s = e->retry_s * 2 > TOKEN_RETRY_MAX_S ? TOKEN_RETRY_MAX_S : e->retry_s * 2;
        return;
    }
    e->retry_s = 1.0;
    /* stable_token in normal mode hands back the same token while it is
     * valid: if that is the one the provider just refused, force a new
     * one (rate-limited by WeChat to one per 30 s). */
    if (e->bad[0] && strcmp(tok, e->bad) == 0 && strcmp(e->a->name, "wechat") == 0) {
        int64_t now_ms = clock_mono_ms();
        if (now_ms - e->last_force_ms >= TOKEN_FORCE_GAP_MS) {
            e->force_next = 1;
            fetch(e);
            return;
        }
        LOG_WARN("tokens", "provider=%s refused token returned again; forced refresh not before "
                 "30 s", e->a->name);
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
    LOG_INFO("tokens", "token fetched provider=%s expires_in_s=%lld latency_ms=%lld", e->a->name,
             (long long)expires_in, (long long)latency_ms);
    answer_all(e, e->token, NULL);
}

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
        LOG_ERR("tokens", "cannot build the token request provider=%s: %s", e->a->name, err);
        answer_all(e, NULL, err);
        return;
    }
    if (force)
        e->last_force_ms = clock_mono_ms();
    if (outbound_submit(gw->out, &req, on_fetched, e) != 0) {
        answer_all(e, NULL, "outbound request refused");
        return;
    }
    e->fetching = 1;
    e->owner->fetches++;
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
    if (!ev_is_active(&e->retry))
        fetch(e); /* no-op when one is in flight: everyone waits for it */
}

void tokens_invalidate(struct tokens *t, const struct channel_adapter *a, const char *bad_token)
{
    struct entry *e = entry_for(t, a);
    if (!bad_token || strcmp(e->token, bad_token) != 0)
        return; /* already replaced: the resend will use the new one */
    snprintf(e->bad, sizeof e->bad, "%s", bad_token);
    e->token[0] = '\0';
    e->expires_at = 0;
    LOG_WARN("tokens", "provider=%s refused the access token; fetching a new one", a->name);
}

void tokens_cron(struct tokens *t)
{
    int64_t now = clock_now();
    for (struct entry *e = t->entries; e; e = e->next) {
        if (e->fetching || !e->token[0] || e->expires_at - now > TOKEN_REFRESH_AHEAD_S ||
            now - e->last_ahead < 60)
            continue;
        e->last_ahead = now;
        fetch(e);
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
        answer_all(e, NULL, "shutting down");
        free(e);
    }
    free(t);
}
