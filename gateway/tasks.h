/*
 * tasks.h - staff tasks with deadlines (seed 002's 退单、退定金流程).
 *
 * A milestone of the catalogue may list "tasks" (catalogue.h struct
 * cat_task): a refund_request trigger opens "contact the customer within
 * 2 hours", "handling plan within 48 hours", "paperwork within 5 days", ...
 * each for the role the seed names. A task's clock starts with the
 * trigger's occurred_at (the acceptance, 受理), or, for a task "after"
 * another, when that one is marked done (the refund takes effect when the
 * paperwork is done: the 15- and 40-day private-job checks count from
 * there).
 *
 * The clocks live in the store (tasks table) and survive restarts. The
 * cron plans, through the ordinary outbox, the milestone's "task_due"
 * message to the task's role when its reminder time comes (default a
 * quarter of the span before the due time, at most a day) and its
 * "task_overdue" message to the customer-service manager once when it
 * is overdue and not done. Done tasks get neither.
 */
#ifndef HF_TASKS_H
#define HF_TASKS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "catalogue.h"
#include "store.h"
#include "util.h"

struct gateway;

/* Open the tasks of @m for trigger @trigger_id (project @project_id,
 * customer @customer_id) inside the caller's transaction; the clocks of
 * tasks without "after" start at @start. When @out (a JSON array) is given,
 * appends one object per task for the trigger's 202 answer: {"id", "task",
 * "title", "to", "after", "due_at"} (due_at null while it waits). Returns
 * HF_OK or HF_ERR_DB. Callable from loop callbacks. */
int tasks_create(struct store *s, const struct milestone *m, int64_t trigger_id,
                 const char *project_id, const char *customer_id, int64_t start, int64_t now,
                 cJSON *out);

/* Housekeeping, from the gateway's cron: plan the reminders and the
 * escalations that fell due (each once per task, each in its own
 * transaction). Returns how many messages it planned (the caller kicks
 * the dispatcher when > 0). */
int tasks_cron(struct gateway *gw);

/* POST /v1/tasks/<id>/done: mark task @id done by API token @by with
 * @note (NULL when none; required by tasks marked note_required), and
 * start the clocks of the tasks waiting for it; commits. Returns the HTTP
 * status (200, 400 note missing, 404 no task, 409 already done or not
 * started, 500) and sets *json to the task or the error body. Caller
 * frees *json. */
int tasks_done(struct gateway *gw, int64_t id, const char *by, const char *note, char **json);

/* The Chinese name of a task role ("supervisor" -> "监理"); static. */
const char *tasks_role_label(const char *role);

/* Append the task gauges and counters to a /metrics page. */
void tasks_metrics(struct gateway *gw, struct buf *b);

#endif
