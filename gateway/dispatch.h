/*
 * dispatch.h - the outbox sender.
 *
 * Takes due messages from the store in batches, renders them, hands them
 * to their channel adapter and outbound HTTP, and records every attempt:
 * sent, retried with exponential backoff and jitter (moved back into the
 * message's send window, never past its expiry), or failed with the
 * provider's code. One ev_timer is armed for the next due message; the
 * store holds the future, memory holds only what is in flight.
 */
#ifndef HF_DISPATCH_H
#define HF_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

struct gateway;
struct dispatcher;

struct dispatcher *dispatch_new(struct gateway *gw);
/* Look for due messages at the next loop iteration (new triggers, freed
 * slots, a reload). */
void dispatch_kick(struct dispatcher *d);
/* Stop claiming new messages (shutdown); in-flight ones finish. */
void dispatch_stop(struct dispatcher *d);
size_t dispatch_in_flight(const struct dispatcher *d);
/* Survey reminders and unanswered surveys (run every minute or so). */
void dispatch_surveys_cron(struct dispatcher *d);
/* Daily housekeeping of the per-number windows. */
void dispatch_cron(struct dispatcher *d);
/* NULL is a no-op. Call after outbound_free and tokens_free (which
 * complete every job). */
/* Commit the attempts finished since the last call in one transaction;
 * called from the loop's before-sleep hook. */
void dispatch_commit(struct dispatcher *d);
void dispatch_free(struct dispatcher *d);

struct config;

/*
 * How long (seconds) an SMS whose send ended without a known answer (cut
 * short by a crash, or timed out) waits for the provider's delivery receipt
 * before it is sent again, or 0 when no receipt can settle it: SMS
 * providers do not deduplicate, so resending an SMS the provider did take
 * reaches the handset twice. Only Aliyun's SmsReport names our OutId
 * (hf-<id>); receipts need callbacks.token; dispatch.receipt_grace = 0
 * turns the wait off.
 */
int64_t dispatch_receipt_grace_s(const struct config *cfg);

/* Backoff before attempt @attempt+1: base * 2^(attempt-1), capped at @max,
 * with jitter drawn from [d/2, d]. Exposed for tests. */
int64_t dispatch_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint64_t rnd);

#endif
