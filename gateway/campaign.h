/*
 * campaign.h - marketing campaigns (seed 002 三、公司新活动): one trigger
 * names a list of customers huifang knows; each who has not opted out
 * (TD/退订) gets the campaign's notice with the opt-out line, in the notice
 * hours and within the per-number limits; the answer says how many were
 * reached and who was skipped and why.
 *
 *   {"idempotency_key": "...", "milestone": "campaign",
 *    "occurred_at": "2026-11-24T10:00:00+08:00",
 *    "customers": ["C-0042", "C-0043", ...],
 *    "variables": {"title": "...", ...}}
 *
 * The campaign is one row (its idempotency: a retry gets the first answer)
 * and one trigger per customer reached, so its messages are ordinary
 * messages: retried, rate limited, cancelled when the customer opts out
 * before they go.
 */
#ifndef HF_CAMPAIGN_H
#define HF_CAMPAIGN_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "http_error.h"
#include "intake.h"
#include "store.h"

/* Most customers one campaign trigger may name. */
#define CAMPAIGN_MAX_CUSTOMERS 2000

/* Check the campaign-specific members of @doc (customers; no project or
 * customer object). 0, or -1 with @e set (400 naming the field). */
int campaign_validate(const cJSON *doc, struct api_error *e);

/* Store campaign @t inside the open transaction (its own savepoint), as
 * intake_store does for one trigger: *status 202 / 200 replay / 409 /
 * 500 and *response. Returns the number of new messages. */
int campaign_store(struct store *s, struct intake_trigger *t, const char *token_name,
                   int64_t now, int *status, char **response);

#endif
