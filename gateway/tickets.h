/*
 * tickets.h - complaint tickets (投诉) and their two clocks.
 *
 * A ticket opens with a trigger of a milestone marked opens_ticket (the
 * "complaint" milestone: sent by the ERP, or made by huifang itself when a
 * survey answer is bad). Opening plans, like any trigger, the
 * acknowledgement to the customer and the alerts to the PM and the
 * customer-service manager. From the seeds: the internal report is due in
 * 2 hours, the answer to the customer in 48 hours (tickets.*); a clock
 * that runs out plans the milestone's "escalation" messages once per
 * breach; resolving plans its "resolved" messages (the follow-up survey,
 * two days later). Clocks live in the store and survive restarts.
 */
#ifndef HF_TICKETS_H
#define HF_TICKETS_H

#include <stdint.h>

#include <cjson/cJSON.h>

struct gateway;

/* Plan the messages of the ticket trigger's milestone marked on=@event,
 * counted from @now (the event's time, possibly later than the clock),
 * inside the caller's transaction. Returns how many, or
 * -1 on a store error. */
int tickets_event(struct gateway *gw, int64_t trigger_id, const char *event, int64_t now);
/* The same for the messages of @milestone (NULL: the trigger's) marked
 * on=@event, e.g. a scheduled survey's "answered_ok" thanks. */
int milestone_event(struct gateway *gw, int64_t trigger_id, const char *milestone,
                    const char *event, int64_t now);

/* Open a ticket for a survey answer (@why names it for people) by making
 * the internal "complaint" trigger, inside the caller's transaction. The
 * same survey opens at most one ticket; a bad answer to a complaint's
 * follow-up survey reopens that complaint's ticket instead. Returns the ticket id, 0 when the
 * survey already had one, -1 on error. */
int64_t tickets_open_for_survey(struct gateway *gw, int64_t survey_id, const char *why,
                                int64_t now);

/* Housekeeping: escalate tickets whose clocks ran out (once per breach). */
void tickets_cron(struct gateway *gw);

/* POST /v1/tickets/<id>/report and /resolve. Each commits; returns the HTTP
 * status (200, 404 no ticket, 409 not in a state for it, 500) and sets
 * *json to the ticket or the error body. Caller frees. */
int tickets_report(struct gateway *gw, int64_t id, const char *note, char **json);
int tickets_resolve(struct gateway *gw, int64_t id, const char *resolution, char **json);

#endif
