/*
 * tokens.h - the one owner of provider access tokens (WeChat Official
 * Account, WeCom).
 *
 * PROTOCOLS A1/B1: one central service fetches and refreshes the token,
 * everything else only borrows it. Here:
 *  - a token is cached with its expiry and persisted in the store, so a
 *    restart (or, later, another instance) reuses it instead of fetching
 *    a new one;
 *  - it is refreshed ahead of expiry, with at most one fetch in flight per
 *    provider;
 *  - a provider that reports the token invalid (40001/40014/42001) gets one
 *    re-fetch; WeChat's force_refresh is used only when the re-fetch
 *    returned the same token, and at most once per 30 s;
 *  - messages that need a token wait for it (tokens_wait); they are never
 *    failed because a refresh is under way.
 *
 * Several instances on one PostgreSQL database: one instance at a time
 * fetches a given token (store_token_lock(): an advisory lock held while
 * its fetch is in flight and released once the new token is stored, or by
 * the server if the instance dies). The others do not fetch: when their
 * cached token nears expiry or is refused they re-read the store, and
 * while another instance holds the lock they poll the store (an ev_timer,
 * every 200 ms) for its new token. The last forced refresh is stored with
 * the token, so forced refreshes stay 30 s apart cluster-wide. On SQLite
 * (one instance) the lock is always granted and nothing else changes.
 */
#ifndef HF_TOKENS_H
#define HF_TOKENS_H

#include <stddef.h>
#include <stdint.h>

struct gateway;
struct channel_adapter;
struct tokens;

#define TOKEN_MAX 600 /* providers promise at most 512 bytes */

/* Called once the token is there (@token borrowed for the call), or with
 * @token NULL and @why when it cannot be had now (the caller retries the
 * message later). Runs from a loop callback, never inside the caller. */
typedef void (*token_ready_fn)(void *arg, const char *token, const char *why);

struct tokens *tokens_new(struct gateway *gw);
/* Answers every waiter with "shutting down". NULL is a no-op. */
void tokens_free(struct tokens *t);
/* Get a valid token for @a into @arg's callback: at once (from within
 * this call) when cached, else once fetched here or by another instance. */
void tokens_wait(struct tokens *t, const struct channel_adapter *a, token_ready_fn fn, void *arg);
/* The provider refused @bad_token: drop it (if it is still the current
 * one) so the next tokens_wait fetches a new one. */
void tokens_invalidate(struct tokens *t, const struct channel_adapter *a, const char *bad_token);
/* Housekeeping (1 s): refresh tokens that expire within 5 minutes. */
void tokens_cron(struct tokens *t);
/* Fetches made by this instance since start, for metrics and tests. */
uint64_t tokens_fetches(const struct tokens *t);

#endif
