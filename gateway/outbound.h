/*
 * outbound.h - outbound HTTP: the libcurl multi_socket API driven by the
 * gateway's libev loop. The only file that includes <curl/curl.h> is
 * outbound.c.
 *
 * Every request has connect and total timeouts, keep-alive through the
 * multi handle's connection cache, a capped response size and no signals.
 * Completion callbacks always run from the drain loop after
 * curl_multi_socket_action returned, never from inside a curl callback, so
 * they may submit new requests and write to the store.
 */
#ifndef HF_OUTBOUND_H
#define HF_OUTBOUND_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "adapter.h"
#include "config.h"

struct outbound;

/* @resp is valid only during the call. @latency_ms is measured on the
 * monotonic clock from submit to completion. */
typedef void (*outbound_done_fn)(void *arg, const struct http_resp *resp, int64_t latency_ms);

/* Global curl init (once per process, before anything else). 0 or -1. */
int outbound_global_init(void);
void outbound_global_cleanup(void);

/* Create the client on @loop with the limits of @cfg (borrowed; must stay
 * valid: call outbound_set_config after a reload). NULL on failure. */
struct outbound *outbound_new(struct ev_loop *loop, const struct config *cfg);
void outbound_set_config(struct outbound *o, const struct config *cfg);
/* Start @req. Takes ownership of @req's contents (they are freed when the
 * request ends; the struct itself is copied). @done runs exactly once,
 * from a later loop callback. 0, or -1 if curl refused (then nothing is
 * called and @req's contents are freed). */
int outbound_submit(struct outbound *o, struct http_req *req, outbound_done_fn done, void *arg);
size_t outbound_in_flight(const struct outbound *o);
/* Abandon every request (shutdown deadline): each @done runs with
 * resp->cancelled = 1. */
void outbound_cancel_all(struct outbound *o);
/* Free; requests still in flight are cancelled first. NULL is a no-op. */
void outbound_free(struct outbound *o);

#endif
