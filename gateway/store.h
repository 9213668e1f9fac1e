/*
 * store.h - the durable store, behind one interface.
 *
 * store_sqlite.c implements it on one SQLite connection in WAL mode with
 * cached prepared statements; a PostgreSQL implementation can be added
 * behind the same functions without touching callers.
 *
 * Times are UTC epoch seconds (int64). Every function may be called from a
 * loop callback: each does a bounded amount of indexed work.
 *
 * Transactions: callers group writes with store_begin()/store_commit().
 * store_savepoint()/store_release()/store_rollback_to() let one request in
 * a group commit fail alone without spoiling the others.
 */
#ifndef HF_STORE_H
#define HF_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct store;
struct cJSON;

/* Message states (the outbox). */
#define MSG_PENDING "pending"     /* waiting for its due time or next attempt */
#define MSG_SENDING "sending"     /* claimed, request in flight */
#define MSG_SENT "sent"           /* accepted by the provider */
#define MSG_DELIVERED "delivered" /* delivery receipt says delivered */
#define MSG_FAILED "failed"       /* permanent failure or attempts exhausted */
#define MSG_EXPIRED "expired"     /* could no longer serve its purpose */
#define MSG_CANCELLED "cancelled" /* not to be sent any more (opted out, project ended) */

/* Open (creating if needed) and migrate the database at @path. On failure
 * NULL and @err says why. Caller owns the result; free with store_close(). */
struct store *store_open(const char *path, int synchronous_full, char *err, size_t errlen);
/* Checkpoint and close. NULL is a no-op. */
void store_close(struct store *s);
/* The schema version after migrations. */
int store_schema_version(struct store *s);
/* "sqlite" or "postgresql". */
const char *store_backend(struct store *s);
/* Where the store is, as it may be logged (a PostgreSQL URL's password
 * replaced by ***). */
void store_describe(struct store *s, char *out, size_t outlen);
/* Whether the database answers now (PostgreSQL: one round trip, and one
 * reconnect attempt after a lost connection). HF_OK, or HF_ERR_DB with
 * @err. */
int store_ping(struct store *s, char *err, size_t errlen);

int store_begin(struct store *s);     /* BEGIN IMMEDIATE */
int store_commit(struct store *s);
int store_rollback(struct store *s);
int store_savepoint(struct store *s);  /* SAVEPOINT req */
int store_release(struct store *s);    /* RELEASE req */
int store_rollback_to(struct store *s);/* ROLLBACK TO req; RELEASE req */

/* ---- intake ---------------------------------------------------------- */

/* Look up a trigger by idempotency key. HF_OK with *body_hash (65 bytes)
 * and *response (caller frees) filled, HF_ERR_NOTFOUND, or HF_ERR_DB. */
int store_trigger_find(struct store *s, const char *idem_key, char body_hash[65], char **response);

struct trigger_rec {
    const char *idem_key;
    const char *body_hash;     /* hex SHA-256 of the canonical body */
    const char *milestone;
    const char *project_id;
    const char *customer_id;
    int64_t occurred_at;
    int64_t received_at;
    const char *body;          /* canonical JSON, the variables for rendering */
    const char *token_name;    /* which API token sent it */
};
/* HF_OK with *id; HF_ERR_CONFLICT when the idempotency key is already
 * stored (another instance committed it after this one looked it up);
 * HF_ERR_DB. */
int store_trigger_insert(struct store *s, const struct trigger_rec *t, int64_t *id);
int store_trigger_set_response(struct store *s, int64_t id, const char *response);

struct customer_rec {
    const char *id, *name, *mobile;
    const char *title;             /* NULL: keep the known one (new rows: 先生/女士) */
    const char *openid, *preferred_channel; /* NULL: keep the known one */
    const char *preferred_time;    /* "19:00-20:30"; NULL: keep the known one */
};
int store_customer_upsert(struct store *s, const struct customer_rec *c, int64_t now);

struct staff_rec {
    const char *role, *name, *phone, *wecom_id; /* phone, wecom_id may be NULL */
};
struct project_rec {
    const char *id, *customer_id, *address, *kickoff_date; /* kickoff_date may be NULL */
    const struct staff_rec *staff;
    size_t nstaff;
};
/* Upsert the project and replace its staff list. */
int store_project_upsert(struct store *s, const struct project_rec *p, int64_t now);

struct message_new {
    int64_t trigger_id;
    const char *milestone;
    const char *message;       /* catalogue message id ("survey") */
    const char *kind;          /* notice | survey | alert */
    const char *recipient;     /* customer | pm | designer | foreman | supervisor */
    const char *channel;
    const char *window;        /* window class: survey | notice | any */
    int64_t due_at;
    int64_t expires_at;
    int occurrence;            /* planned by a schedule: 1, 2, ...; 0 otherwise */
    const char *vars;          /* the schedule's variables (JSON object) or NULL */
};
int store_message_insert(struct store *s, const struct message_new *m, int64_t *id);

/* Cancel pending messages of project @project_id (their open surveys
 * expire): with @replanned_by, those of earlier triggers of that milestone
 * (a repeated trigger re-plans what has not been sent); else those of
 * milestone @milestone, or with @milestone NULL every customer notice and
 * survey (the project ended). Records @code and @why on each. Returns how
 * many, or -1. */
int store_messages_cancel(struct store *s, const char *project_id, const char *milestone,
                          const char *replanned_by, const char *code, const char *why,
                          int64_t now);
/* 1 if a trigger of @trigger_milestone for the project already sent (or is
 * sending) message @message of @milestone (occurrence @occurrence, 0 for
 * none), 0 if not, -1 on error. */
int store_message_already_sent(struct store *s, const char *project_id,
                               const char *trigger_milestone, const char *milestone,
                               const char *message, int occurrence);

/* ---- outbox --------------------------------------------------------- */

struct message_row {
    int64_t id;
    int64_t trigger_id;
    char milestone[64];
    char message[64];
    char kind[16];
    char recipient[16];
    char channel[16];
    char window[16];
    char state[16];
    int64_t due_at;
    int64_t expires_at;
    int64_t next_attempt_at;
    int attempts;
    int64_t survey_id;      /* a reminder: the survey it opens (its own id otherwise 0) */
    char vars[256];         /* a scheduled message's variables (JSON object) or "" */
    char preferred[96];     /* a customer survey: the customer's preferred time, or "" */
    int64_t created_at;     /* UTC seconds: no send of this message is older */
    char last_code[64];     /* the last attempt's code ("timeout", MSG_CODE_INTERRUPTED), or "" */
};

/* This instance's id (cluster.c), recorded on every claim it makes.
 * Copied; "" until set. */
void store_set_owner(struct store *s, const char *instance_id);
/* Claim up to @limit pending messages whose next attempt is due at @now,
 * oldest first, marking them "sending", owned by this instance
 * (store_set_owner), and counting the attempt. Run inside the caller's
 * transaction or alone. On PostgreSQL several instances claim at once and
 * never get the same message (FOR UPDATE SKIP LOCKED). Fills @out (caller
 * provides @limit rows) and returns how many, or -1 on error. */
int store_claim_due(struct store *s, int64_t now, int limit, struct message_row *out);
/* Earliest next_attempt_at of a pending message, or -1 when none. */
int64_t store_next_due(struct store *s);
/* Messages left "sending" by a crash go back to "pending" (at start).
 * SMS among them are not tried again before @sms_not_before (UTC seconds;
 * 0 = at once): the provider may have accepted the request the crash cut
 * short, and its delivery receipt, which settles the message, gets that
 * long to arrive. Their last_code becomes MSG_CODE_INTERRUPTED, which
 * tells the dispatcher to ask the provider before sending again (a status
 * pull, where the provider has one). Returns how many, or -1. */
#define MSG_CODE_INTERRUPTED "interrupted"
int store_requeue_inflight(struct store *s, int64_t sms_not_before);
/* The same for several instances (PostgreSQL): only the "sending" messages
 * whose owner's lease (store_instance_heartbeat) ended before @now, or
 * that name no owner, go back to "pending", SMS among them not before
 * @sms_not_before as above. Returns how many, or -1. */
int store_requeue_expired(struct store *s, int64_t now, int64_t sms_not_before);

/* ---- several instances (store_cluster.c) ---- */
/* Record that instance @id is alive until @lease_until (UTC seconds),
 * creating its row (started @now) the first time. HF_OK or HF_ERR_DB. */
int store_instance_heartbeat(struct store *s, const char *id, int64_t now, int64_t lease_until);
/* A clean stop: drop @id's lease so that what it still held is claimable
 * at once. HF_OK or HF_ERR_DB. */
int store_instance_leave(struct store *s, const char *id);
/* Whether this connection holds the cluster's cron lock (taking it when
 * free): 1 yes, 0 another instance holds it, -1 on error. PostgreSQL: a
 * session-level advisory lock, released by the server when the holder's
 * connection ends (a crash included). SQLite: always 1 (one instance). */
int store_cron_leader(struct store *s);
/* The live instances (lease not ended at @now), as @cb(arg, id, started_at,
 * lease_until). Returns how many, or -1. */
int store_instances(struct store *s, int64_t now,
                    void (*cb)(void *arg, const char *id, int64_t started_at, int64_t lease_until),
                    void *arg);

/* Load a trigger's canonical body. Caller frees *body. */
int store_trigger_body(struct store *s, int64_t trigger_id, char **body);

/* ---- the project manager's page (console.c) ---- */
/* The projects whose PM is @staff_id (project_staff role pm with that
 * staff id: the WeCom id, else the phone, else the name, as in the
 * reports), newest trigger first, at most 200, as a JSON array:
 * [{"id","address","kickoff_date","customer_name","customer_title",
 *   "customer_mobile" (masked 138****5678),"last_trigger_at",
 *   "milestones" (the milestones triggered so far)}].
 * Caller frees; NULL on a store error. */
char *store_pm_projects_json(struct store *s, const char *staff_id);
/* The canonical body of the newest trigger of project @project_id: the
 * project and customer as the ERP last sent them. Caller frees *body.
 * HF_OK, HF_ERR_NOTFOUND or HF_ERR_DB. */
int store_project_last_trigger_body(struct store *s, const char *project_id, char **body);

/* Record the end of one attempt and the message's new state.
 * @next_attempt_at is used when @state is pending (retry / reschedule). */
struct attempt_rec {
    int64_t message_id;
    int attempt;
    const char *channel;
    int64_t started_ms;
    int64_t latency_ms;
    long http_status;
    const char *code;          /* provider code or NULL */
    const char *provider_id;   /* or NULL */
    const char *error;         /* or NULL */
    const char *adapter;       /* which adapter made it ("aliyun_sms"), or NULL */
    const char *request_id;    /* the provider's request id, or NULL */
    int uncount;               /* 1: do not count it toward max_attempts (provider deferral) */
};
int store_attempt_finish(struct store *s, const struct attempt_rec *a, const char *state,
                         int64_t next_attempt_at, int64_t now);
/* Put a claimed message back without counting the attempt (outside its
 * window, shutdown). */
int store_message_reschedule(struct store *s, int64_t id, int64_t next_attempt_at, int uncount);
/* The claim of message @id does not count toward max_attempts (it asked
 * the provider about an earlier attempt instead of sending). */
int store_message_uncount(struct store *s, int64_t id);
/* Settle a claimed message before it reached a provider (expired, opted
 * out, ...) with a reason; the claim's attempt does not count. */
int store_message_set_state(struct store *s, int64_t id, const char *state, const char *code,
                            const char *error, int64_t now);

/* Move a message to another channel (WeChat cannot reach the user -> SMS),
 * recording where it came from, due again at @next_attempt_at. */
int store_message_fallback(struct store *s, int64_t id, const char *channel, const char *from,
                           int64_t next_attempt_at, int64_t now);

/* ---- provider access tokens (WeChat, WeCom) ---------------------------- */

/* HF_OK with @token (< @toklen; "" when only a forced refresh was
 * recorded), *expires_at and, unless @forced_ms is NULL, when a forced
 * refresh was last asked for (wall-clock ms, 0: never); or HF_ERR_NOTFOUND. */
int store_token_get(struct store *s, const char *name, char *token, size_t toklen,
                    int64_t *expires_at, int64_t *forced_ms);
/* Store the token @name (keeps its forced refresh time). */
int store_token_put(struct store *s, const char *name, const char *token, int64_t expires_at,
                    int64_t now);
/* Record that a forced refresh of @name is being asked for at @forced_ms
 * (wall-clock ms), creating the row if needed (no token yet). */
int store_token_forced(struct store *s, const char *name, int64_t forced_ms, int64_t now);
/* One instance at a time fetches the token @name: HF_OK when this one may
 * (hold it until store_token_unlock(), after the new token is stored),
 * HF_ERR_CONFLICT while another instance holds it, HF_ERR_DB on error.
 * PostgreSQL: a session-level advisory lock, released by the server if
 * the instance dies (store_db_try_lock()); SQLite: always HF_OK. Not
 * re-entrant. Outside a transaction. */
int store_token_lock(struct store *s, const char *name);
void store_token_unlock(struct store *s, const char *name);

/* ---- delivery receipts -------------------------------------------------- */

/* The newest message on @channel with this provider id (BizId, SerialNo),
 * or -1. */
int64_t store_message_by_provider_id(struct store *s, const char *provider_id,
                                     const char *channel);

/* 1 if message @id exists and went out on @channel. */
int store_message_on_channel(struct store *s, int64_t id, const char *channel);

struct receipt_rec {
    const char *provider;      /* "aliyun", "tencent" */
    const char *dedup_key;     /* identifies this receipt: a repeat changes nothing */
    int64_t message_id;        /* -1 when no message matched (kept for the record) */
    int delivered;             /* 1 delivered, 0 failed */
    const char *code;          /* operator code: DELIVERED, DELIVRD, MK:0001 */
    const char *detail;        /* description, or NULL */
    const char *ref;           /* the provider's reference (out_id, biz_id, sid), for logs */
    const char *provider_id;   /* the provider's id of the send, learnt with this receipt (a
                                  status pull found it), recorded on the message; or NULL */
};
/* Store a receipt once and settle its message (delivered / failed) if the
 * message is still "sent" or "pending". *applied = 1 when the message
 * changed. */
int store_receipt_apply(struct store *s, const struct receipt_rec *r, int64_t now, int *applied);

/* ---- surveys, answers, tickets ------------------------------------------ */

/* A survey instance is its survey message: one per survey message, made
 * with the message at intake. */
struct survey_new {
    int64_t message_id, trigger_id;
    const char *survey, *customer_id, *project_id, *milestone, *mobile, *openid;
    int64_t created_at, expires_at;
};
int store_survey_create(struct store *s, const struct survey_new *n);

struct survey_row {
    int64_t message_id, trigger_id;
    char survey[64], customer_id[72], project_id[72], milestone[64], mobile[16];
    int64_t expires_at, answered_at;   /* answered_at 0 = not yet */
    char state[16];                    /* open | answered | unanswered | expired */
    char message_state[16];            /* the survey message's delivery state */
    int score;                         /* -1 none */
    char *answers;                     /* merged answers JSON {"qid":"value"} or NULL; caller frees */
};
/* HF_OK, HF_ERR_NOTFOUND or HF_ERR_DB. Free r->answers. */
int store_survey_get(struct store *s, int64_t message_id, struct survey_row *r);
/* The newest survey sent to this mobile / openid that can still be
 * answered, or -1. */
int64_t store_survey_open_by_mobile(struct store *s, const char *mobile, int64_t now);
int64_t store_survey_open_by_openid(struct store *s, const char *openid, int64_t now);
/* The open survey of @mobile whose id modulo @modulus is @code (the SMS
 * extension code a reply carries), or -1. */
int64_t store_survey_by_extend(struct store *s, const char *mobile, int64_t now, int64_t modulus,
                               int64_t code);
/* Set the merged answers and outcome; answered_at is kept once set. */
int store_survey_update(struct store *s, int64_t message_id, const char *state,
                        const char *answers, int score, int flagged, int64_t answered_at);

struct answer_rec {
    int64_t message_id;          /* the survey, or -1: a reply with no open survey */
    const char *customer_id, *mobile;
    const char *channel;         /* page | wechat | sms */
    const char *raw;             /* what the person wrote / submitted */
    const char *parsed;          /* JSON of what it means */
    int score;                   /* -1 none */
    int flagged;                 /* a person should read it */
    int amendment;               /* 1: the survey already had a result */
    const char *dedup_key;       /* provider message id (WeChat MsgId, SMS reply hash) or NULL */
    int64_t received_at;
};
/* HF_OK, HF_ERR_CONFLICT (the same inbound message again: nothing stored)
 * or HF_ERR_DB. */
int store_answer_add(struct store *s, const struct answer_rec *a, int64_t *id);

struct ticket_new {
    int64_t trigger_id, survey_id;   /* survey_id -1 when opened by a trigger */
    const char *customer_id, *project_id, *reason, *detail;
    int64_t opened_at, report_due_at, answer_due_at;
};
int store_ticket_open(struct store *s, const struct ticket_new *t, int64_t *id);
int store_ticket_get(struct store *s, int64_t id, int64_t *trigger_id, int64_t *survey_id,
                     char state[16]);
/* *changed = 0 when the ticket is not in a state that allows it. */
int store_ticket_report(struct store *s, int64_t id, const char *note, int64_t now, int *changed);
int store_ticket_resolve(struct store *s, int64_t id, const char *resolution, int64_t now,
                         int *changed);
/* Tickets past their report clock (@answer_clock 0) or answer clock (1)
 * not escalated yet; calls @fn for each (at most 100). */
int store_tickets_overdue(struct store *s, int64_t now, int answer_clock,
                          void (*fn)(void *arg, int64_t id, int64_t trigger_id), void *arg);
int store_ticket_escalated(struct store *s, int64_t id, int report, int answer);
/* A resolved ticket whose follow-up survey was answered badly opens again
 * with fresh clocks. *changed = 0 if it was not resolved. */
int store_ticket_reopen(struct store *s, int64_t id, int64_t report_due, int64_t answer_due,
                        const char *why, int *changed);
/* The ticket a (complaint) trigger opened: HF_OK or HF_ERR_NOTFOUND. */
int store_ticket_by_trigger(struct store *s, int64_t trigger_id, int64_t *id, int64_t *report_due,
                            int64_t *answer_due);
/* Campaigns: a trigger naming a list of customers. */
int store_campaign_find(struct store *s, const char *idem_key, char body_hash[65],
                        char **response);
struct campaign_rec {
    const char *idem_key, *body_hash, *milestone, *token_name, *response;
    int64_t received_at;
    int accepted, skipped;
};
int store_campaign_insert(struct store *s, const struct campaign_rec *c);
/* A known customer for a campaign: {"customer": {id, name, title, mobile,
 * wechat_openid?, preferred_channel?}, "opted_out": bool, "project"?: {id,
 * address} (their newest)}. HF_OK (*out is the caller's), HF_ERR_NOTFOUND
 * or HF_ERR_DB. */
int store_campaign_customer(struct store *s, const char *customer_id, struct cJSON **out);

/* Set (or with @pref NULL clear) a customer's preferred contact time.
 * HF_OK, HF_ERR_NOTFOUND (no such customer) or HF_ERR_DB. */
int store_customer_set_preferred_time(struct store *s, const char *customer_id, const char *pref,
                                      int64_t now);
/* 1 if the customer replied TD/退订. */
int store_customer_opted_out(struct store *s, const char *customer_id);

/* Opt-out (TD/退订) by mobile or openid (either may be NULL); WeChat
 * (un)subscribe by openid. */
int store_customer_opt_out(struct store *s, const char *mobile, const char *openid, int64_t now);
int store_customer_wechat_subscribed(struct store *s, const char *openid, int subscribed,
                                     int64_t now);

/* Reminders: for every open survey sent at or before @sent_before and still
 * valid at @now, not reminded yet, add a reminder message due at @due_at
 * (a copy of the survey message that opens the same survey) and mark the
 * survey reminded. Fills @ids; returns how many, or -1. */
int store_surveys_remind(struct store *s, int64_t sent_before, int64_t now, int64_t due_at,
                         int64_t *ids, int max);
/* Merging (one survey message a customer a day): the other first-time
 * survey messages of @customer_id still pending and due before @day_end. */
struct merge_candidate {
    int64_t id;
    char milestone[64], message[64];
};
int store_surveys_due_today(struct store *s, const char *customer_id, int64_t carrier,
                            int64_t day_end, struct merge_candidate *out, int max);
/* Survey message @id goes with @carrier: it is not sent itself (cancelled,
 * code "merged") and its survey is reached from the carrier's page. A
 * message another instance has claimed meanwhile is left alone. */
int store_survey_merge(struct store *s, int64_t id, int64_t carrier, int64_t now);
struct merged_survey {
    int64_t id, expires_at;
    char survey[64], state[16];
};
/* The surveys merged into @carrier's message. Returns how many. */
int store_surveys_merged_into(struct store *s, int64_t carrier, struct merged_survey *out,
                              int max);

/* Send survey @survey_id again at @due_at (the customer said "busy, later"):
 * a message of its own that opens the same survey. */
int store_survey_resend(struct store *s, int64_t survey_id, int64_t due_at, int64_t now,
                        int64_t *id);
/* Open surveys reminded at or before @reminded_before become "unanswered".
 * Returns how many, or -1. */
int store_surveys_unanswered(struct store *s, int64_t reminded_before);
/* The survey whose message already went to @customer_id since @since
 * (counting those in flight claimed before @except_id, the one being
 * decided), or -1: at most one survey message a customer a day. */
int64_t store_surveys_sent_since(struct store *s, const char *customer_id, int64_t since,
                                 int64_t except_id);

/* ---- staff tasks (tasks.c) ---------------------------------------------- */

/* A staff task a trigger opens (the refund procedure's steps). */
struct task_new {
    int64_t trigger_id;
    const char *project_id, *customer_id, *milestone;
    const char *task;          /* catalogue task id ("contact") */
    const char *title;         /* what to do */
    const char *role;          /* whose task: pm | designer | foreman | supervisor | cs_manager */
    const char *after;         /* the task whose completion starts this one, or NULL */
    int64_t due_s, remind_s;   /* deadline after the start; reminder this long before it */
    int note_required;
    int64_t started_at;        /* the clock's start, or -1: waits for @after */
    int64_t created_at;
};
/* Insert inside the caller's transaction. HF_OK (with *id) or HF_ERR_DB. */
int store_task_insert(struct store *s, const struct task_new *t, int64_t *id);

struct task_row {
    int64_t id, trigger_id;
    char milestone[64], task[64], role[16];
    char title[404];           /* up to 100 characters of UTF-8 */
    int64_t started_at, due_at, done_at; /* 0 = not yet */
    int note_required, reminded, escalated;
};
/* HF_OK, HF_ERR_NOTFOUND or HF_ERR_DB. */
int store_task_get(struct store *s, int64_t id, struct task_row *r);
/* The task whose reminder or escalation is message @message_id:
 * HF_OK or HF_ERR_NOTFOUND. */
int store_task_by_message(struct store *s, int64_t message_id, struct task_row *r);
/* Mark task @id done (by the API token @by, with @note or NULL). *changed
 * = 0 when it was already done or has not started. */
int store_task_done(struct store *s, int64_t id, const char *by, const char *note, int64_t now,
                    int *changed);
/* Start the clocks of @trigger_id's tasks that wait for @task, at @now.
 * Returns how many started, or -1. */
int store_tasks_start_after(struct store *s, int64_t trigger_id, const char *task, int64_t now);
/* Tasks that need an alert at @now and have not had it: @overdue 0 the
 * reminders (reminder time reached, not yet due), 1 the escalations (due
 * and not done). Calls @fn for each, at most 100, after reading them all
 * (@fn may write). Returns how many, or -1. */
int store_tasks_alerts_due(struct store *s, int64_t now, int overdue,
                           void (*fn)(void *arg, const struct task_row *t), void *arg);
/* Record that task @id had its reminder (@overdue 0) or escalation (1),
 * sent as message @message_id (0 when there was nobody to send it to). */
int store_task_alerted(struct store *s, int64_t id, int overdue, int64_t message_id);

struct task_filter {
    int64_t id;                /* one task, or 0 */
    int64_t trigger_id;        /* one trigger's tasks, or 0 */
    const char *project;       /* or NULL */
    const char *state;         /* waiting | open | overdue | done, or NULL = all */
};
/* Tasks as a JSON array (each with "state": waiting, open or done, and
 * "overdue" at @now), ordered by due time. Caller frees; NULL on error. */
char *store_tasks_json(struct store *s, const struct task_filter *f, int64_t now);
/* For /metrics: counts[0..5] = waiting, open (not overdue), overdue,
 * done, reminded, escalated. HF_OK or HF_ERR_DB. */
int store_task_counts(struct store *s, int64_t now, int64_t counts[6]);


/* ---- reading for the customer-service API (store_read.c) ------------------
 *
 * Each returns rows as a cJSON array of objects (times as local ISO-8601
 * strings, nested JSON columns parsed), or NULL when the store could not
 * be read. Caller owns the result; free with cJSON_Delete(). List queries
 * use keyset pagination: *next_cursor is set to the cursor of the row
 * after the last one returned when there may be more, else "". */

#define STORE_CURSOR_LEN 64

struct result_filter {
    int64_t cursor;              /* results after this survey id (0 = from the start) */
    int limit;
    int64_t from, to;            /* UTC seconds, 0 = open */
    const char *project, *customer, *milestone, *channel;  /* NULL = any */
    const char *state;           /* open|answered|unanswered|expired|flagged, NULL = any */
    const char *staff;           /* a staff member's id (wecom id, phone) or name, any role */
    int score_min, score_max;    /* -1 = any */
    int flagged_only;
};
/* Callback results (回访结果), oldest survey first. */
struct cJSON *store_results(struct store *s, const struct result_filter *f,
                            char next_cursor[STORE_CURSOR_LEN]);

struct message_filter {
    int64_t cursor;              /* messages after this id */
    int limit;
    int64_t since, until;        /* on the due time; 0 = open */
    const char *project, *customer, *milestone, *state, *channel;  /* NULL = any */
};
/* Outbox messages with their customer (id, name, mobile), oldest first. */
struct cJSON *store_messages(struct store *s, const struct message_filter *f,
                             char next_cursor[STORE_CURSOR_LEN]);

struct ticket_filter {
    const char *cursor;          /* a next_cursor from before, or NULL */
    int limit;
    const char *state;           /* open (not resolved)|reported|overdue|resolved, NULL = all */
    int64_t id;                  /* 0 = all, else only that ticket */
    int64_t now;                 /* for the clocks */
};
/* Tickets with their clocks ("clock": ok|due|overdue, due = under an hour
 * left on a running clock), unresolved first, nearest answer deadline
 * first. @f->cursor must have passed store_ticket_cursor_ok(). */
struct cJSON *store_tickets(struct store *s, const struct ticket_filter *f,
                            char next_cursor[STORE_CURSOR_LEN]);
/* 1 if @cursor has the shape of a ticket list cursor. */
int store_ticket_cursor_ok(const char *cursor);
/* One ticket (as in store_tickets) printed as a JSON array of 0 or 1
 * object. Caller frees. */
char *store_tickets_json(struct store *s, const char *state, int64_t now, int64_t id);

/* A project, its customer and its timeline: HF_OK with the three filled,
 * HF_ERR_NOTFOUND or HF_ERR_DB. Caller owns the three on HF_OK. */
int store_project(struct store *s, const char *id, struct cJSON **project,
                  struct cJSON **customer, struct cJSON **timeline);

/* Reports over [since, until) (0 = open). */
/* Per milestone: sent, delivered, answered, avg_score, score_distribution. */
struct cJSON *store_report_milestones(struct store *s, int64_t since, int64_t until);
/* Per staff member (@role NULL = all roles): role, staff_id, name,
 * avg_score, answered, complaints; only members with answers or
 * complaints in the range. */
struct cJSON *store_report_staff(struct store *s, const char *role, int64_t since,
                                 int64_t until);
/* Complaints per department (工程部: pm, foreman, supervisor; 设计部:
 * designer), as rows {department, complaints}. */
struct cJSON *store_report_departments(struct store *s, int64_t since, int64_t until);
/* Ticket figures: an object {opened, closed, closed_within_clock,
 * overdue_now, reported_in_time, answered_in_time}. */
struct cJSON *store_report_tickets(struct store *s, int64_t since, int64_t until, int64_t now);
/* Surveys sent in [since, until): calls @fn with the send time and
 * whether the survey was answered. HF_OK or HF_ERR_DB. */
int store_report_sent_surveys(struct store *s, int64_t since, int64_t until,
                              void (*fn)(void *arg, int64_t sent_at, int answered), void *arg);

/* Count messages per (state, channel); calls @fn for each group. */
int store_message_counts(struct store *s, void (*fn)(void *arg, const char *state,
                                                     const char *channel, int64_t n),
                         void *arg);
/* Pending messages due at or before @now (queue depth). */
int64_t store_due_count(struct store *s, int64_t now);

/* A message as JSON (state, attempts, last error, ...) for the API.
 * Caller frees. HF_ERR_NOTFOUND when absent. */
int store_message_json(struct store *s, int64_t id, char **json);

#endif
