/*
 * store_sqlite.c - the embedded SQLite store.
 *
 * One connection, WAL mode, synchronous=FULL by default (a commit, and so
 * every 2xx, survives power loss), a short busy_timeout, and every
 * statement prepared once and cached in struct store.
 *
 * Schema changes are numbered migrations applied in one transaction each;
 * PRAGMA user_version records the last one applied.
 */
#include "store.h"
#include "store_internal.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ---- migrations ------------------------------------------------------ */

static const char *const migrations[] = {
    /* 1: the core tables. */
    "CREATE TABLE customers ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  mobile TEXT NOT NULL,"
    "  wechat_openid TEXT,"
    "  preferred_channel TEXT,"
    "  opted_out INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX customers_mobile ON customers(mobile);"
    "CREATE TABLE projects ("
    "  id TEXT PRIMARY KEY,"
    "  customer_id TEXT NOT NULL REFERENCES customers(id),"
    "  address TEXT NOT NULL,"
    "  kickoff_date TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE project_staff ("
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  role TEXT NOT NULL CHECK (role IN ('pm','designer','foreman','supervisor')),"
    "  name TEXT NOT NULL,"
    "  phone TEXT,"
    "  wecom_id TEXT,"
    "  PRIMARY KEY (project_id, role));"
    "CREATE TABLE triggers ("
    "  id INTEGER PRIMARY KEY,"
    "  idem_key TEXT NOT NULL UNIQUE,"
    "  body_hash TEXT NOT NULL,"
    "  milestone TEXT NOT NULL,"
    "  project_id TEXT NOT NULL REFERENCES projects(id),"
    "  customer_id TEXT NOT NULL REFERENCES customers(id),"
    "  occurred_at INTEGER NOT NULL,"
    "  received_at INTEGER NOT NULL,"
    "  token_name TEXT,"
    "  body TEXT NOT NULL,"
    "  response TEXT);"
    "CREATE INDEX triggers_project ON triggers(project_id);"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  trigger_id INTEGER NOT NULL REFERENCES triggers(id),"
    "  milestone TEXT NOT NULL,"
    "  message TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('notice','survey','alert')),"
    "  recipient TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  fallback_from TEXT,"
    "  window TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN "
    "    ('pending','sending','sent','delivered','failed','expired','cancelled')),"
    "  due_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  provider_id TEXT,"
    "  last_code TEXT,"
    "  last_error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  sent_at INTEGER);"
    "CREATE INDEX messages_trigger ON messages(trigger_id);"
    /* The scheduler's index: only pending rows, ordered by next attempt. */
    "CREATE INDEX messages_due ON messages(next_attempt_at) WHERE state = 'pending';"
    "CREATE INDEX messages_state ON messages(state) WHERE state = 'sending';"
    "CREATE TABLE attempts ("
    "  id INTEGER PRIMARY KEY,"
    "  message_id INTEGER NOT NULL REFERENCES messages(id),"
    "  attempt INTEGER NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  started_ms INTEGER NOT NULL,"
    "  latency_ms INTEGER NOT NULL,"
    "  http_status INTEGER,"
    "  code TEXT,"
    "  provider_id TEXT,"
    "  error TEXT);"
    "CREATE INDEX attempts_message ON attempts(message_id);",

    /* 2: real channels: which adapter made an attempt, provider ids for
     * receipts, the token cache, and receipts (deduplicated). */
    "ALTER TABLE attempts ADD COLUMN adapter TEXT;"
    "ALTER TABLE attempts ADD COLUMN request_id TEXT;"
    "CREATE INDEX messages_provider_id ON messages(provider_id) WHERE provider_id IS NOT NULL;"
    "CREATE TABLE provider_tokens ("
    "  name TEXT PRIMARY KEY,"
    "  token TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE receipts ("
    "  id INTEGER PRIMARY KEY,"
    "  provider TEXT NOT NULL,"
    "  dedup_key TEXT NOT NULL,"
    "  message_id INTEGER REFERENCES messages(id),"
    "  delivered INTEGER NOT NULL,"
    "  code TEXT,"
    "  detail TEXT,"
    "  received_at INTEGER NOT NULL,"
    "  UNIQUE (provider, dedup_key));",

    /* 3: answers. A survey instance per survey message; every answer that
     * arrives (page, WeChat, SMS) is kept, the first complete one is the
     * result and later ones are amendments; complaint tickets. */
    "ALTER TABLE customers ADD COLUMN wechat_subscribed INTEGER;"
    "CREATE TABLE surveys ("
    "  message_id INTEGER PRIMARY KEY REFERENCES messages(id),"
    "  survey TEXT NOT NULL,"
    "  trigger_id INTEGER NOT NULL REFERENCES triggers(id),"
    "  customer_id TEXT NOT NULL,"
    "  project_id TEXT NOT NULL,"
    "  milestone TEXT NOT NULL,"
    "  mobile TEXT NOT NULL,"
    "  openid TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','answered','unanswered','expired')),"
    "  answered_at INTEGER,"
    "  score INTEGER,"
    "  flagged INTEGER NOT NULL DEFAULT 0,"
    "  answers TEXT);"
    "CREATE INDEX surveys_mobile ON surveys(mobile, created_at);"
    "CREATE INDEX surveys_openid ON surveys(openid, created_at) WHERE openid IS NOT NULL;"
    "CREATE INDEX surveys_project ON surveys(project_id);"
    "CREATE TABLE answers ("
    "  id INTEGER PRIMARY KEY,"
    "  message_id INTEGER REFERENCES surveys(message_id),"
    "  customer_id TEXT,"
    "  mobile TEXT,"
    "  channel TEXT NOT NULL CHECK (channel IN ('page','wechat','sms')),"
    "  raw TEXT,"
    "  parsed TEXT,"
    "  score INTEGER,"
    "  flagged INTEGER NOT NULL DEFAULT 0,"
    "  amendment INTEGER NOT NULL DEFAULT 0,"
    "  dedup_key TEXT UNIQUE,"
    "  received_at INTEGER NOT NULL);"
    "CREATE INDEX answers_message ON answers(message_id);"
    "CREATE TABLE tickets ("
    "  id INTEGER PRIMARY KEY,"
    "  trigger_id INTEGER NOT NULL REFERENCES triggers(id),"
    "  survey_id INTEGER REFERENCES surveys(message_id),"
    "  customer_id TEXT NOT NULL,"
    "  project_id TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  detail TEXT,"
    "  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','reported','resolved')),"
    "  opened_at INTEGER NOT NULL,"
    "  report_due_at INTEGER NOT NULL,"
    "  answer_due_at INTEGER NOT NULL,"
    "  reported_at INTEGER,"
    "  report_note TEXT,"
    "  resolved_at INTEGER,"
    "  resolution TEXT,"
    "  report_escalated INTEGER NOT NULL DEFAULT 0,"
    "  answer_escalated INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX tickets_state ON tickets(state, report_due_at);",

    /* 4: survey reminders: a reminder is a message of its own that opens
     * the same survey (survey_id); a survey with no answer a day after its
     * reminder is "unanswered". */
    "ALTER TABLE messages ADD COLUMN survey_id INTEGER REFERENCES surveys(message_id);"
    "ALTER TABLE surveys ADD COLUMN reminded_at INTEGER;"
    "CREATE INDEX surveys_open ON surveys(state) WHERE state = 'open';",

    /* 5: surveys due the same day go out as one message with one link: the
     * others are merged into the one sent (its page links to them).
     * Parenthesised: one migration is several statements in one literal,
     * which clang's -Wstring-concatenation would take for a missing comma. */
    ("ALTER TABLE surveys ADD COLUMN merged_into INTEGER REFERENCES surveys(message_id);"
     "CREATE INDEX surveys_merged ON surveys(merged_into) WHERE merged_into IS NOT NULL;"),

    /* 6: the whole catalogue: messages planned by another milestone's
     * schedule carry their occurrence (the 3rd weekly check-in) and the
     * schedule's variables; a customer's own preferred contact window. */
    ("ALTER TABLE messages ADD COLUMN occurrence INTEGER;"
    "ALTER TABLE messages ADD COLUMN vars TEXT;"
    "ALTER TABLE customers ADD COLUMN preferred_time TEXT;"
    "CREATE INDEX triggers_project_milestone ON triggers(project_id, milestone);"
    /* A campaign trigger (a list of customers) is one row here, for its
     * idempotency, and one trigger per customer it reached. */
    "CREATE TABLE campaigns ("
    "  idem_key TEXT PRIMARY KEY,"
    "  body_hash TEXT NOT NULL,"
    "  milestone TEXT NOT NULL,"
    "  received_at INTEGER NOT NULL,"
    "  token_name TEXT,"
    "  accepted INTEGER NOT NULL,"
    "  skipped INTEGER NOT NULL,"
    "  response TEXT NOT NULL);"),

    /* 7: staff tasks with deadlines (the refund procedure's steps, tasks.c).
     * A task waiting for another ("after") has no clock (started_at,
     * due_at, remind_at NULL) until that one is marked done. */
    ("CREATE TABLE tasks ("
    "  id INTEGER PRIMARY KEY,"
    "  trigger_id INTEGER NOT NULL REFERENCES triggers(id),"
    "  project_id TEXT NOT NULL,"
    "  customer_id TEXT NOT NULL,"
    "  milestone TEXT NOT NULL,"
    "  task TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  after TEXT,"
    "  due_s INTEGER NOT NULL,"
    "  remind_s INTEGER NOT NULL,"
    "  note_required INTEGER NOT NULL DEFAULT 0,"
    "  started_at INTEGER,"
    "  due_at INTEGER,"
    "  remind_at INTEGER,"
    "  done_at INTEGER,"
    "  done_by TEXT,"
    "  note TEXT,"
    "  reminded INTEGER NOT NULL DEFAULT 0,"
    "  escalated INTEGER NOT NULL DEFAULT 0,"
    "  reminder_message_id INTEGER REFERENCES messages(id),"
    "  escalation_message_id INTEGER REFERENCES messages(id),"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (trigger_id, task));"
    "CREATE INDEX tasks_overdue ON tasks(due_at) WHERE done_at IS NULL AND escalated = 0;"
    "CREATE INDEX tasks_remind ON tasks(remind_at) WHERE done_at IS NULL AND reminded = 0;"
    "CREATE INDEX tasks_project ON tasks(project_id);"
    "CREATE INDEX tasks_reminder_msg ON tasks(reminder_message_id)"
    "  WHERE reminder_message_id IS NOT NULL;"
    "CREATE INDEX tasks_escalation_msg ON tasks(escalation_message_id)"
    "  WHERE escalation_message_id IS NOT NULL;"),

    /* 8: several instances on one PostgreSQL (issue 9): a claimed message
     * names its owner, and each live instance keeps a lease row; a claim
     * whose owner's lease ran out is claimable again (store_cluster.c). */
    ("ALTER TABLE messages ADD COLUMN claimed_by TEXT;"
    "CREATE TABLE instances ("
    "  id TEXT PRIMARY KEY,"
    "  started_at INTEGER NOT NULL,"
    "  lease_until INTEGER NOT NULL);"),

    /* 9: one token owner across instances (tokens.c): when a WeChat
     * force_refresh was last asked for, by any instance (wall-clock ms),
     * so that forced refreshes stay 30 s apart cluster-wide. */
    ("ALTER TABLE provider_tokens ADD COLUMN forced_ms INTEGER;"),

    /* 10: a receipt that overtook its send's answer (Tencent's push names
     * only the SerialNo that answer carries) waits with its reference and
     * settles the message when that answer is stored (store_attempt_finish). */
    ("ALTER TABLE receipts ADD COLUMN ref TEXT;"
    "CREATE INDEX receipts_unmatched ON receipts(ref) WHERE message_id IS NULL;"),
};

/* ---- statements ------------------------------------------------------- */

enum stmt_id {
    ST_BEGIN = 0,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_TRIGGER_FIND,
    ST_TRIGGER_INSERT,
    ST_TRIGGER_SET_RESPONSE,
    ST_TRIGGER_BODY,
    ST_CUSTOMER_UPSERT,
    ST_PROJECT_UPSERT,
    ST_STAFF_DELETE,
    ST_STAFF_INSERT,
    ST_MESSAGE_INSERT,
    ST_CLAIM_SELECT,
    ST_CLAIM_UPDATE,
    ST_CLAIM_PG,
    ST_NEXT_DUE,
    ST_REQUEUE,
    ST_REQUEUE_EXPIRED,
    ST_ATTEMPT_INSERT,
    ST_MESSAGE_FINISH,
    ST_MESSAGE_RESCHEDULE,
    ST_MESSAGE_SET_STATE,
    ST_MESSAGE_COUNTS,
    ST_DUE_COUNT,
    ST_MESSAGE_GET,
    ST_UNCOUNT,
    ST_FALLBACK,
    ST_TOKEN_GET,
    ST_TOKEN_PUT,
    ST_TOKEN_FORCED,
    ST_RECEIPT_INSERT,
    ST_MESSAGE_BY_PROVIDER_ID,
    ST_MESSAGE_STATE,
    ST_RECEIPT_APPLY,
    ST_RECEIPT_WAITING,
    ST_RECEIPT_ADOPT,
    ST_SURVEY_CREATE,
    ST_SURVEY_GET,
    ST_SURVEY_OPEN_BY_MOBILE,
    ST_SURVEY_OPEN_BY_OPENID,
    ST_SURVEY_UPDATE,
    ST_ANSWER_ADD,
    ST_TICKET_OPEN,
    ST_TICKET_REPORT,
    ST_TICKET_RESOLVE,
    ST_TICKET_OVERDUE_REPORT,
    ST_TICKET_OVERDUE_ANSWER,
    ST_TICKET_ESCALATED,
    ST_TICKET_GET,
    ST_CUSTOMER_OPT_OUT,
    ST_CUSTOMER_SUBSCRIBED,
    ST_TICKET_BY_TRIGGER,
    ST_CUSTOMER_OPTED_OUT,
    ST_SURVEYS_TO_REMIND,
    ST_REMINDER_INSERT,
    ST_SURVEY_REMINDED,
    ST_SURVEYS_UNANSWERED,
    ST_SURVEYS_SENT_SINCE,
    ST_TICKET_REOPEN,
    ST_SURVEYS_DUE_TODAY,
    ST_SURVEY_MERGE_MSG,
    ST_SURVEY_MERGE,
    ST_SURVEYS_MERGED_INTO,
    ST_SURVEY_BY_EXTEND,
    ST_CANCEL_SURVEYS,
    ST_CANCEL_MESSAGES,
    ST_ALREADY_SENT,
    ST_CUSTOMER_PREFERRED,
    ST_CAMPAIGN_FIND,
    ST_CAMPAIGN_INSERT,
    ST_CAMPAIGN_CUSTOMER,
    ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT req",
    [ST_RELEASE] = "RELEASE req",
    [ST_ROLLBACK_TO] = "ROLLBACK TO req",
    [ST_TRIGGER_FIND] = "SELECT body_hash, response FROM triggers WHERE idem_key = ?1",
    [ST_TRIGGER_INSERT] =
        "INSERT INTO triggers (idem_key, body_hash, milestone, project_id, customer_id,"
        " occurred_at, received_at, token_name, body) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
    [ST_TRIGGER_SET_RESPONSE] = "UPDATE triggers SET response = ?2 WHERE id = ?1",
    [ST_TRIGGER_BODY] = "SELECT body FROM triggers WHERE id = ?1",
    [ST_CUSTOMER_UPSERT] =
        "INSERT INTO customers (id, name, title, mobile, wechat_openid, preferred_channel,"
        " created_at, updated_at, preferred_time)"
        " VALUES (?1,?2,COALESCE(?3,'先生/女士'),?4,?5,?6,?7,?7,?8)"
        /* the old values qualified: PostgreSQL finds a bare name ambiguous */
        " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
        " title = COALESCE(?3, customers.title), mobile = excluded.mobile,"
        " wechat_openid = COALESCE(excluded.wechat_openid, customers.wechat_openid),"
        " preferred_channel = COALESCE(excluded.preferred_channel, customers.preferred_channel),"
        " preferred_time = COALESCE(excluded.preferred_time, customers.preferred_time),"
        " updated_at = excluded.updated_at",
    [ST_PROJECT_UPSERT] =
        "INSERT INTO projects (id, customer_id, address, kickoff_date, created_at, updated_at)"
        " VALUES (?1,?2,?3,?4,?5,?5)"
        " ON CONFLICT(id) DO UPDATE SET customer_id = excluded.customer_id,"
        " address = excluded.address,"
        " kickoff_date = COALESCE(excluded.kickoff_date, projects.kickoff_date),"
        " updated_at = excluded.updated_at",
    [ST_STAFF_DELETE] = "DELETE FROM project_staff WHERE project_id = ?1",
    [ST_STAFF_INSERT] = "INSERT INTO project_staff (project_id, role, name, phone, wecom_id)"
                        " VALUES (?1,?2,?3,?4,?5)",
    [ST_MESSAGE_INSERT] =
        "INSERT INTO messages (trigger_id, milestone, message, kind, recipient, channel, window,"
        " state, due_at, expires_at, next_attempt_at, created_at, updated_at, occurrence, vars)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,'pending',?8,?9,?8,?10,?10,?11,?12)",
#define CLAIM_COLUMNS                                                                        \
    "id, trigger_id, milestone, message, kind, recipient, channel, window, due_at,"          \
    " expires_at, next_attempt_at, attempts, COALESCE(survey_id, 0), vars,"                 \
    " CASE WHEN kind = 'survey' AND recipient = 'customer' THEN (SELECT c.preferred_time"    \
    "   FROM triggers t JOIN customers c ON c.id = t.customer_id WHERE t.id = trigger_id)"  \
    " END, created_at, last_code"
    /* SQLite: one writer at a time (BEGIN IMMEDIATE), so select then update. */
    [ST_CLAIM_SELECT] =
        "SELECT " CLAIM_COLUMNS " FROM messages"
        " WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
    [ST_CLAIM_UPDATE] = "UPDATE messages SET state = 'sending', attempts = attempts + 1,"
                        " updated_at = ?2, claimed_by = ?3 WHERE id = ?1",
    /* PostgreSQL: instances claim at the same time; each locks the due rows
     * no other holds (SKIP LOCKED) and marks them its own in one statement.
     * The attempts returned are those before the claim, as above. */
    [ST_CLAIM_PG] =
        "WITH due AS (SELECT id FROM messages WHERE state = 'pending' AND next_attempt_at <= ?1"
        "   ORDER BY next_attempt_at, id LIMIT ?2 FOR UPDATE SKIP LOCKED),"
        " claimed AS (UPDATE messages m SET state = 'sending', attempts = m.attempts + 1,"
        "   updated_at = ?1, claimed_by = ?3 FROM due WHERE m.id = due.id"
        "   RETURNING m.id, m.trigger_id, m.milestone, m.message, m.kind, m.recipient, m.channel,"
        "   m.window, m.due_at, m.expires_at, m.next_attempt_at, m.attempts - 1 AS attempts,"
        "   m.survey_id, m.vars, m.created_at, m.last_code)"
        " SELECT " CLAIM_COLUMNS " FROM claimed ORDER BY next_attempt_at, id",
#undef CLAIM_COLUMNS
    [ST_NEXT_DUE] = "SELECT MIN(next_attempt_at) FROM messages WHERE state = 'pending'",
    /* The interrupted attempt still counts: a message that crashed the
     * daemon every time must reach max_attempts, not loop forever. */
#define REQUEUE_SET                                                                          \
    "UPDATE messages SET state = 'pending', claimed_by = NULL,"                                \
    " next_attempt_at = CASE WHEN channel = 'sms' AND ?1 > next_attempt_at"                  \
    " THEN ?1 ELSE next_attempt_at END,"                                                    \
    " last_code = CASE WHEN channel = 'sms' THEN '" MSG_CODE_INTERRUPTED "'"                \
    " ELSE last_code END"
    [ST_REQUEUE] = REQUEUE_SET " WHERE state = 'sending'",
    /* Several instances (PostgreSQL): only the claims whose owner's lease
     * ran out (or that name no owner: left by a version before leases). */
    [ST_REQUEUE_EXPIRED] =
        REQUEUE_SET " WHERE state = 'sending' AND (claimed_by IS NULL OR NOT EXISTS"
        " (SELECT 1 FROM instances i WHERE i.id = messages.claimed_by AND i.lease_until >= ?2))",
#undef REQUEUE_SET
    [ST_ATTEMPT_INSERT] =
        "INSERT INTO attempts (message_id, attempt, channel, started_ms, latency_ms, http_status,"
        " code, provider_id, error, adapter, request_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
    [ST_UNCOUNT] = "UPDATE messages SET attempts = MAX(attempts - 1, 0) WHERE id = ?1",
    [ST_FALLBACK] = "UPDATE messages SET channel = ?2, fallback_from = ?3, state = 'pending',"
                    " next_attempt_at = ?4, updated_at = ?5 WHERE id = ?1",
    [ST_TOKEN_GET] = "SELECT token, expires_at, forced_ms FROM provider_tokens WHERE name = ?1",
    [ST_TOKEN_PUT] = "INSERT INTO provider_tokens (name, token, expires_at, updated_at)"
                     " VALUES (?1,?2,?3,?4) ON CONFLICT(name) DO UPDATE SET token = excluded.token,"
                     " expires_at = excluded.expires_at, updated_at = excluded.updated_at",
    [ST_TOKEN_FORCED] = "INSERT INTO provider_tokens (name, token, expires_at, updated_at, forced_ms)"
                        " VALUES (?1,'',0,?3,?2) ON CONFLICT(name) DO UPDATE SET"
                        " forced_ms = excluded.forced_ms",
    [ST_RECEIPT_INSERT] =
        "INSERT OR IGNORE INTO receipts (provider, dedup_key, message_id, delivered, code, detail,"
        " received_at, ref) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
    [ST_MESSAGE_BY_PROVIDER_ID] =
        "SELECT id FROM messages WHERE provider_id = ?1 AND channel = ?2 ORDER BY id DESC LIMIT 1",
    [ST_MESSAGE_STATE] = "SELECT state FROM messages WHERE id = ?1 AND channel = ?2",
    /* A receipt settles a message the provider accepted: sent, sending
     * (the receipt overtook the answer to the send), or pending when our
     * side never saw the answer (it must not be sent again). */
    [ST_RECEIPT_APPLY] =
        "UPDATE messages SET state = ?2, last_code = ?3, last_error = ?4, updated_at = ?5,"
        " provider_id = COALESCE(?6, provider_id)"
        " WHERE id = ?1 AND state IN ('sent', 'pending', 'sending')",
    /* The oldest receipt that matched no message and names @ref. */
    [ST_RECEIPT_WAITING] = "SELECT id, delivered, code, detail FROM receipts"
                           " WHERE ref = ?1 AND message_id IS NULL ORDER BY id LIMIT 1",
    [ST_RECEIPT_ADOPT] = "UPDATE receipts SET message_id = ?2 WHERE id = ?1",
    [ST_SURVEY_CREATE] =
        "INSERT INTO surveys (message_id, survey, trigger_id, customer_id, project_id, milestone,"
        " mobile, openid, created_at, expires_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    [ST_SURVEY_GET] =
        "SELECT s.message_id, s.survey, s.trigger_id, s.customer_id, s.project_id, s.milestone,"
        " s.mobile, s.expires_at, s.state, s.answered_at, s.score, s.answers, m.state"
        " FROM surveys s JOIN messages m ON m.id = s.message_id WHERE s.message_id = ?1",
    /* The newest survey the person was actually sent and can still answer. */
    [ST_SURVEY_OPEN_BY_MOBILE] =
        "SELECT s.message_id FROM surveys s JOIN messages m ON m.id = s.message_id"
        " WHERE s.mobile = ?1 AND s.expires_at > ?2 AND s.state IN ('open','answered')"
        " AND m.state IN ('sent','delivered') ORDER BY m.sent_at DESC, s.message_id DESC LIMIT 1",
    [ST_SURVEY_OPEN_BY_OPENID] =
        "SELECT s.message_id FROM surveys s JOIN messages m ON m.id = s.message_id"
        " WHERE s.openid = ?1 AND s.expires_at > ?2 AND s.state IN ('open','answered')"
        " AND m.state IN ('sent','delivered') ORDER BY m.sent_at DESC, s.message_id DESC LIMIT 1",
    [ST_SURVEY_UPDATE] =
        "UPDATE surveys SET state = ?2, answers = ?3, score = ?4, flagged = MAX(flagged, ?5),"
        " answered_at = COALESCE(answered_at, ?6) WHERE message_id = ?1",
    [ST_ANSWER_ADD] =
        "INSERT INTO answers (message_id, customer_id, mobile, channel, raw, parsed, score,"
        " flagged, amendment, dedup_key, received_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
    [ST_TICKET_OPEN] =
        "INSERT INTO tickets (trigger_id, survey_id, customer_id, project_id, reason, detail,"
        " opened_at, report_due_at, answer_due_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
    [ST_TICKET_REPORT] =
        "UPDATE tickets SET state = 'reported', reported_at = ?2, report_note = ?3"
        " WHERE id = ?1 AND state = 'open'",
    [ST_TICKET_RESOLVE] =
        "UPDATE tickets SET state = 'resolved', resolved_at = ?2, resolution = ?3,"
        " reported_at = COALESCE(reported_at, ?2) WHERE id = ?1 AND state != 'resolved'",
    [ST_TICKET_OVERDUE_REPORT] =
        "SELECT id, trigger_id FROM tickets WHERE state = 'open' AND report_escalated = 0"
        " AND report_due_at <= ?1 ORDER BY id LIMIT 100",
    [ST_TICKET_OVERDUE_ANSWER] =
        "SELECT id, trigger_id FROM tickets WHERE state != 'resolved' AND answer_escalated = 0"
        " AND answer_due_at <= ?1 ORDER BY id LIMIT 100",
    [ST_TICKET_ESCALATED] =
        "UPDATE tickets SET report_escalated = MAX(report_escalated, ?2),"
        " answer_escalated = MAX(answer_escalated, ?3) WHERE id = ?1",
    [ST_TICKET_GET] = "SELECT id, trigger_id, survey_id, state FROM tickets WHERE id = ?1",
    [ST_CUSTOMER_OPT_OUT] = "UPDATE customers SET opted_out = 1, updated_at = ?2"
                            " WHERE mobile = ?1 OR wechat_openid = ?3",
    [ST_TICKET_BY_TRIGGER] =
        "SELECT id, report_due_at, answer_due_at FROM tickets WHERE trigger_id = ?1",
    [ST_CUSTOMER_OPTED_OUT] = "SELECT opted_out FROM customers WHERE id = ?1",
    /* Open surveys sent a day ago or more, not reminded yet, still valid. */
    [ST_SURVEYS_TO_REMIND] =
        "SELECT s.message_id FROM surveys s JOIN messages m ON m.id = s.message_id"
        " WHERE s.state = 'open' AND s.reminded_at IS NULL AND m.state IN ('sent','delivered')"
        " AND m.sent_at <= ?1 AND s.expires_at > ?2 ORDER BY s.message_id LIMIT 200",
    [ST_REMINDER_INSERT] =
        "INSERT INTO messages (trigger_id, milestone, message, kind, recipient, channel, window,"
        " state, due_at, expires_at, next_attempt_at, created_at, updated_at, survey_id)"
        " SELECT trigger_id, milestone, message, kind, recipient, channel, window, 'pending',"
        " ?2, expires_at, ?2, ?3, ?3, id FROM messages WHERE id = ?1",
    [ST_SURVEY_REMINDED] = "UPDATE surveys SET reminded_at = ?2 WHERE message_id = ?1",
    [ST_SURVEYS_UNANSWERED] =
        "UPDATE surveys SET state = 'unanswered' WHERE state = 'open' AND (reminded_at <= ?1"
        " OR merged_into IN (SELECT message_id FROM surveys WHERE reminded_at <= ?1))",
    /* Other first-time surveys for this customer still waiting to go today. */
    [ST_SURVEYS_DUE_TODAY] =
        "SELECT m.id, m.milestone, m.message FROM messages m JOIN triggers t ON t.id = m.trigger_id"
        " WHERE t.customer_id = ?1 AND m.kind = 'survey' AND m.recipient = 'customer'"
        " AND m.state = 'pending' AND m.survey_id IS NULL AND m.id != ?2"
        " AND m.next_attempt_at < ?3 ORDER BY m.id LIMIT 16",
    [ST_SURVEY_MERGE_MSG] =
        "UPDATE messages SET state = 'cancelled', last_code = 'merged', last_error = ?2,"
        " updated_at = ?3,"
        " attempts = CASE WHEN state = 'sending' THEN MAX(attempts - 1, 0) ELSE attempts END"
        /* "sending" only when this instance claimed it: another instance
         * may be sending it right now (several instances, PostgreSQL). */
        " WHERE id = ?1 AND (state = 'pending' OR (state = 'sending' AND claimed_by = ?4))",
    [ST_SURVEY_MERGE] = "UPDATE surveys SET merged_into = ?2 WHERE message_id = ?1",
    [ST_SURVEY_BY_EXTEND] =
        "SELECT message_id FROM surveys WHERE mobile = ?1 AND expires_at > ?2"
        " AND state IN ('open','answered') AND message_id % ?3 = ?4"
        " ORDER BY message_id DESC LIMIT 1",
    [ST_SURVEYS_MERGED_INTO] =
        "SELECT message_id, survey, expires_at, state FROM surveys WHERE merged_into = ?1"
        " ORDER BY message_id",
    [ST_TICKET_REOPEN] =
        "UPDATE tickets SET state = 'open', report_due_at = ?2, answer_due_at = ?3,"
        " report_escalated = 0, answer_escalated = 0,"
        " detail = COALESCE(detail, '') || '；重新打开：' || ?4"
        " WHERE id = ?1 AND state = 'resolved'",
    /* Survey messages that reached this customer since @since (fatigue). */
    [ST_SURVEYS_SENT_SINCE] =
        "SELECT COALESCE(m.survey_id, m.id) FROM messages m JOIN triggers t ON t.id = m.trigger_id"
        " WHERE t.customer_id = ?1 AND m.kind = 'survey' AND m.recipient = 'customer'"
        " AND (m.state IN ('sent','delivered') OR (m.state = 'sending' AND m.id < ?3))"
        " AND COALESCE(m.sent_at, m.updated_at) >= ?2 ORDER BY m.id LIMIT 1",
    [ST_CUSTOMER_SUBSCRIBED] =
        "UPDATE customers SET wechat_subscribed = ?2, updated_at = ?3 WHERE wechat_openid = ?1",
    [ST_MESSAGE_FINISH] =
        /* A delivery receipt may overtake the provider's answer to the send:
         * "sent" never overwrites the state a receipt already set. */
        "UPDATE messages SET"
        " state = CASE WHEN ?2 = 'sent' AND state IN ('delivered','failed') THEN state ELSE ?2 END,"
        " next_attempt_at = ?3,"
        " last_code = CASE WHEN ?2 = 'sent' AND state IN ('delivered','failed') THEN last_code"
        "   ELSE ?4 END,"
        " last_error = CASE WHEN ?2 = 'sent' AND state IN ('delivered','failed') THEN last_error"
        "   ELSE ?5 END,"
        " provider_id = COALESCE(?6, provider_id), updated_at = ?7,"
        " sent_at = CASE WHEN ?2 = 'sent' THEN ?7 ELSE sent_at END WHERE id = ?1",
    [ST_MESSAGE_RESCHEDULE] =
        "UPDATE messages SET state = 'pending', next_attempt_at = ?2,"
        " attempts = attempts - ?3 WHERE id = ?1",
    /* Settled before anything reached a provider: the claim's attempt does
     * not count. */
    [ST_MESSAGE_SET_STATE] = "UPDATE messages SET state = ?2, last_code = ?3, last_error = ?4,"
                             " updated_at = ?5, attempts = MAX(attempts - 1, 0) WHERE id = ?1",
    [ST_MESSAGE_COUNTS] = "SELECT state, channel, COUNT(*) FROM messages GROUP BY state, channel",
    [ST_DUE_COUNT] =
        "SELECT COUNT(*) FROM messages WHERE state = 'pending' AND next_attempt_at <= ?1",
    [ST_MESSAGE_GET] =
        "SELECT id, trigger_id, milestone, message, kind, recipient, channel, fallback_from,"
        " state, due_at, expires_at, next_attempt_at, attempts, provider_id, last_code,"
        " last_error, sent_at FROM messages WHERE id = ?1",
    /* Cancelling a project's pending messages: those of the milestone ?2
     * (or, ?2 NULL, every customer notice and survey), or with ?3 those of
     * earlier triggers of the milestone ?3 (a repeated trigger re-plans). */
#define CANCEL_WHERE                                                                           \
    " m.state = 'pending' AND m.trigger_id IN (SELECT id FROM triggers WHERE project_id = ?1"  \
    "   AND (?3 IS NULL OR milestone = ?3))"                                                   \
    " AND (?3 IS NOT NULL OR (?2 IS NULL AND m.recipient = 'customer' AND m.kind <> 'alert')"   \
    "      OR m.milestone = ?2)"
    [ST_CANCEL_SURVEYS] = "UPDATE surveys SET state = 'expired' WHERE state = 'open' AND"
                          " message_id IN (SELECT m.id FROM messages m WHERE" CANCEL_WHERE ")",
    [ST_CANCEL_MESSAGES] = "UPDATE messages AS m SET state = 'cancelled', last_code = ?4,"
                           " last_error = ?5, updated_at = ?6 WHERE" CANCEL_WHERE,
#undef CANCEL_WHERE
    [ST_ALREADY_SENT] =
        "SELECT 1 FROM messages m JOIN triggers t ON t.id = m.trigger_id"
        " WHERE t.project_id = ?1 AND t.milestone = ?2 AND m.milestone = ?3 AND m.message = ?4"
        " AND COALESCE(m.occurrence, 0) = ?5 AND m.state IN ('sending','sent','delivered') LIMIT 1",
    [ST_CUSTOMER_PREFERRED] =
        "UPDATE customers SET preferred_time = ?2, updated_at = ?3 WHERE id = ?1",
    [ST_CAMPAIGN_FIND] = "SELECT body_hash, response FROM campaigns WHERE idem_key = ?1",
    [ST_CAMPAIGN_INSERT] =
        "INSERT INTO campaigns (idem_key, body_hash, milestone, received_at, token_name, accepted,"
        " skipped, response) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
    /* The customer and their newest project. */
    [ST_CAMPAIGN_CUSTOMER] =
        "SELECT c.name, c.title, c.mobile, c.wechat_openid, c.preferred_channel, c.opted_out,"
        " p.id, p.address FROM customers c LEFT JOIN projects p ON p.customer_id = c.id"
        " WHERE c.id = ?1 ORDER BY p.updated_at DESC, p.id LIMIT 1",
};

/* Room for the staff-task statements (their own block at the end). */
#define STORE_TASK_STMTS 12

struct store {
    sqlite3 *db;                  /* the one connection */
    sqlite3_stmt *st[ST__COUNT];  /* prepared lazily, finalized at close */
    sqlite3_stmt *task_st[STORE_TASK_STMTS]; /* the same for the tasks block */
    int version;                  /* schema version after migrations */
    char owner[96];               /* this instance's id: claims are marked with it */
    char where[256];              /* the path or URL, without a password */
};

sqlite3 *store__db(struct store *s)
{
    return s->db;
}

static sqlite3_stmt *stmt(struct store *s, enum stmt_id id)
{
    if (!s->st[id]) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->st[id], NULL);
        if (rc != SQLITE_OK) {
            LOG_ERR("store", "prepare failed: %s", sqlite3_errmsg(s->db));
            HF_ASSERT(!"statement does not prepare"); /* a bug in stmt_sql */
        }
    }
    return s->st[id];
}

/* Binds v, or NULL when the value is absent. */
static void bind_opt_int64(sqlite3_stmt *q, int i, int64_t v, int present)
{
    if (present)
        sqlite3_bind_int64(q, i, v);
    else
        sqlite3_bind_null(q, i);
}

/* NULL @v binds an absent text (typed text on PostgreSQL, see store_db.h). */
static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
    sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

/* Step a statement that returns no rows, then reset it. */
static int exec_stmt(struct store *s, sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        LOG_ERR("store", "statement failed: %s", sqlite3_errmsg(s->db));
        return HF_ERR_DB;
    }
    return HF_OK;
}

static void col_copy(sqlite3_stmt *q, int col, char *dst, size_t n)
{
    const char *v = (const char *)sqlite3_column_text(q, col);
    snprintf(dst, n, "%s", v ? v : "");
}

static int exec_id(struct store *s, enum stmt_id id)
{
    return exec_stmt(s, stmt(s, id));
}

int store_begin(struct store *s) { return exec_id(s, ST_BEGIN); }
int store_commit(struct store *s) { return exec_id(s, ST_COMMIT); }
int store_rollback(struct store *s) { return exec_id(s, ST_ROLLBACK); }
int store_savepoint(struct store *s) { return exec_id(s, ST_SAVEPOINT); }
int store_release(struct store *s) { return exec_id(s, ST_RELEASE); }

int store_rollback_to(struct store *s)
{
    int rc = exec_id(s, ST_ROLLBACK_TO);
    if (rc == HF_OK)
        rc = exec_id(s, ST_RELEASE);
    return rc;
}

static int migrate(struct store *s, char *err, size_t errlen)
{
    if (store_db_is_pg(s->db))
        return store_db_migrate_pg(s->db, migrations, (int)HF_ARRAY_LEN(migrations), &s->version,
                                   err, errlen);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        goto dberr;
    int version = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
    int latest = (int)HF_ARRAY_LEN(migrations);
    if (version > latest) {
        snprintf(err, errlen, "database schema version %d is newer than this huifangd (%d)",
                 version, latest);
        return -1;
    }
    for (int v = version; v < latest; v++) {
        char *msg = NULL;
        char setv[64];
        snprintf(setv, sizeof setv, "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(s->db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(s->db, setv, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %d failed: %s", v + 1, msg ? msg : "?");
            sqlite3_free(msg);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        LOG_INFO("store", "applied migration=%d", v + 1);
    }
    s->version = latest;
    return 0;
dberr:
    snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
    return -1;
}

struct store *store_open(const char *path, int synchronous_full, char *err, size_t errlen)
{
    struct store *s = xcalloc(1, sizeof *s);
    char name[256]; /* a PostgreSQL URL without its password */
    store_db_redact(path, name, sizeof name);
    snprintf(s->where, sizeof s->where, "%s", name);
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open database: %s", name, sqlite3_errmsg(s->db));
        store_close(s);
        return NULL;
    }
    char merr[256];
    if (!store_db_is_pg(s->db)) { /* PostgreSQL: the server's own settings */
        char *msg = NULL;
        char pragmas[256];
        snprintf(pragmas, sizeof pragmas,
                 "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA foreign_keys = ON;"
                 " PRAGMA busy_timeout = 2000; PRAGMA temp_store = MEMORY;",
                 synchronous_full ? "FULL" : "NORMAL");
        if (sqlite3_exec(s->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s", name, msg ? msg : "pragma failed");
            sqlite3_free(msg);
            store_close(s);
            return NULL;
        }
    }
    if (migrate(s, merr, sizeof merr) != 0) {
        snprintf(err, errlen, "%s: %s", name, merr);
        store_close(s);
        return NULL;
    }
    return s;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    for (int i = 0; i < STORE_TASK_STMTS; i++)
        sqlite3_finalize(s->task_st[i]);
    if (s->db) {
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_close(s->db);
    }
    free(s);
}

int store_schema_version(struct store *s)
{
    return s->version;
}

const char *store_backend(struct store *s)
{
    return store_db_is_pg(s->db) ? "postgresql" : "sqlite";
}

void store_describe(struct store *s, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", s->where);
}

int store_ping(struct store *s, char *err, size_t errlen)
{
    return store_db_ping(s->db, err, errlen);
}

/* ---- intake ----------------------------------------------------------- */

int store_trigger_find(struct store *s, const char *idem_key, char body_hash[65], char **response)
{
    sqlite3_stmt *q = stmt(s, ST_TRIGGER_FIND);
    bind_text(q, 1, idem_key);
    int rc = sqlite3_step(q), ret;
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(q, 0);
        const char *r = (const char *)sqlite3_column_text(q, 1);
        snprintf(body_hash, 65, "%s", h ? h : "");
        *response = r ? xstrdup(r) : NULL;
        ret = HF_OK;
    } else if (rc == SQLITE_DONE) {
        ret = HF_ERR_NOTFOUND;
    } else {
        LOG_ERR("store", "trigger lookup failed: %s", sqlite3_errmsg(s->db));
        ret = HF_ERR_DB;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ret;
}

int store_trigger_insert(struct store *s, const struct trigger_rec *t, int64_t *id)
{
    sqlite3_stmt *q = stmt(s, ST_TRIGGER_INSERT);
    bind_text(q, 1, t->idem_key);
    bind_text(q, 2, t->body_hash);
    bind_text(q, 3, t->milestone);
    bind_text(q, 4, t->project_id);
    bind_text(q, 5, t->customer_id);
    sqlite3_bind_int64(q, 6, t->occurred_at);
    sqlite3_bind_int64(q, 7, t->received_at);
    bind_text(q, 8, t->token_name);
    bind_text(q, 9, t->body);
    int rc = sqlite3_step(q);
    int ext = sqlite3_extended_errcode(s->db);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(s->db);
        return HF_OK;
    }
    if (ext == SQLITE_CONSTRAINT_UNIQUE)
        return HF_ERR_CONFLICT; /* another instance stored this key since our lookup */
    LOG_ERR("store", "trigger insert failed: %s", sqlite3_errmsg(s->db));
    return HF_ERR_DB;
}

int store_trigger_set_response(struct store *s, int64_t id, const char *response)
{
    sqlite3_stmt *q = stmt(s, ST_TRIGGER_SET_RESPONSE);
    sqlite3_bind_int64(q, 1, id);
    bind_text(q, 2, response);
    return exec_stmt(s, q);
}

int store_customer_upsert(struct store *s, const struct customer_rec *c, int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_CUSTOMER_UPSERT);
    bind_text(q, 1, c->id);
    bind_text(q, 2, c->name);
    bind_text(q, 3, c->title);
    bind_text(q, 4, c->mobile);
    bind_text(q, 5, c->openid);
    bind_text(q, 6, c->preferred_channel);
    sqlite3_bind_int64(q, 7, now);
    bind_text(q, 8, c->preferred_time);
    return exec_stmt(s, q);
}

int store_project_upsert(struct store *s, const struct project_rec *p, int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_PROJECT_UPSERT);
    bind_text(q, 1, p->id);
    bind_text(q, 2, p->customer_id);
    bind_text(q, 3, p->address);
    bind_text(q, 4, p->kickoff_date);
    sqlite3_bind_int64(q, 5, now);
    int rc = exec_stmt(s, q);
    if (rc != HF_OK)
        return rc;
    q = stmt(s, ST_STAFF_DELETE);
    bind_text(q, 1, p->id);
    if ((rc = exec_stmt(s, q)) != HF_OK)
        return rc;
    for (size_t i = 0; i < p->nstaff; i++) {
        q = stmt(s, ST_STAFF_INSERT);
        bind_text(q, 1, p->id);
        bind_text(q, 2, p->staff[i].role);
        bind_text(q, 3, p->staff[i].name);
        bind_text(q, 4, p->staff[i].phone);
        bind_text(q, 5, p->staff[i].wecom_id);
        if ((rc = exec_stmt(s, q)) != HF_OK)
            return rc;
    }
    return HF_OK;
}

int store_message_insert(struct store *s, const struct message_new *m, int64_t *id)
{
    sqlite3_stmt *q = stmt(s, ST_MESSAGE_INSERT);
    sqlite3_bind_int64(q, 1, m->trigger_id);
    bind_text(q, 2, m->milestone);
    bind_text(q, 3, m->message);
    bind_text(q, 4, m->kind);
    bind_text(q, 5, m->recipient);
    bind_text(q, 6, m->channel);
    bind_text(q, 7, m->window);
    sqlite3_bind_int64(q, 8, m->due_at);
    sqlite3_bind_int64(q, 9, m->expires_at);
    sqlite3_bind_int64(q, 10, clock_now());
    bind_opt_int64(q, 11, m->occurrence, m->occurrence > 0);
    bind_text(q, 12, m->vars);
    int rc = exec_stmt(s, q);
    if (rc == HF_OK)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_messages_cancel(struct store *s, const char *project_id, const char *milestone,
                          const char *replanned_by, const char *code, const char *why, int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_CANCEL_SURVEYS);
    bind_text(q, 1, project_id);
    bind_text(q, 2, milestone);
    bind_text(q, 3, replanned_by);
    if (exec_stmt(s, q) != HF_OK)
        return -1;
    q = stmt(s, ST_CANCEL_MESSAGES);
    bind_text(q, 1, project_id);
    bind_text(q, 2, milestone);
    bind_text(q, 3, replanned_by);
    bind_text(q, 4, code);
    bind_text(q, 5, why);
    sqlite3_bind_int64(q, 6, now);
    if (exec_stmt(s, q) != HF_OK)
        return -1;
    return sqlite3_changes(s->db);
}

int store_campaign_find(struct store *s, const char *idem_key, char body_hash[65], char **response)
{
    sqlite3_stmt *q = stmt(s, ST_CAMPAIGN_FIND);
    bind_text(q, 1, idem_key);
    int rc = sqlite3_step(q), out = HF_ERR_DB;
    if (rc == SQLITE_ROW) {
        col_copy(q, 0, body_hash, 65);
        *response = xstrdup((const char *)sqlite3_column_text(q, 1));
        out = HF_OK;
    } else if (rc == SQLITE_DONE) {
        out = HF_ERR_NOTFOUND;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return out;
}

int store_campaign_insert(struct store *s, const struct campaign_rec *c)
{
    sqlite3_stmt *q = stmt(s, ST_CAMPAIGN_INSERT);
    bind_text(q, 1, c->idem_key);
    bind_text(q, 2, c->body_hash);
    bind_text(q, 3, c->milestone);
    sqlite3_bind_int64(q, 4, c->received_at);
    bind_text(q, 5, c->token_name);
    sqlite3_bind_int(q, 6, c->accepted);
    sqlite3_bind_int(q, 7, c->skipped);
    bind_text(q, 8, c->response);
    return exec_stmt(s, q);
}

static void add_col_str(cJSON *o, const char *key, sqlite3_stmt *q, int col)
{
    const char *v = (const char *)sqlite3_column_text(q, col);
    if (v)
        cJSON_AddStringToObject(o, key, v);
}

int store_campaign_customer(struct store *s, const char *customer_id, cJSON **out)
{
    sqlite3_stmt *q = stmt(s, ST_CAMPAIGN_CUSTOMER);
    bind_text(q, 1, customer_id);
    int rc = sqlite3_step(q), ret = HF_ERR_DB;
    if (rc == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON *c = cJSON_AddObjectToObject(o, "customer");
        cJSON_AddStringToObject(c, "id", customer_id);
        add_col_str(c, "name", q, 0);
        add_col_str(c, "title", q, 1);
        add_col_str(c, "mobile", q, 2);
        add_col_str(c, "wechat_openid", q, 3);
        add_col_str(c, "preferred_channel", q, 4);
        cJSON_AddBoolToObject(o, "opted_out", sqlite3_column_int(q, 5) != 0);
        if (sqlite3_column_type(q, 6) != SQLITE_NULL) {
            cJSON *p = cJSON_AddObjectToObject(o, "project");
            add_col_str(p, "id", q, 6);
            add_col_str(p, "address", q, 7);
        }
        *out = o;
        ret = HF_OK;
    } else if (rc == SQLITE_DONE) {
        ret = HF_ERR_NOTFOUND;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ret;
}

int store_customer_set_preferred_time(struct store *s, const char *customer_id, const char *pref,
                                      int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_CUSTOMER_PREFERRED);
    bind_text(q, 1, customer_id);
    bind_text(q, 2, pref);
    sqlite3_bind_int64(q, 3, now);
    if (exec_stmt(s, q) != HF_OK)
        return HF_ERR_DB;
    return sqlite3_changes(s->db) ? HF_OK : HF_ERR_NOTFOUND;
}

int store_message_already_sent(struct store *s, const char *project_id,
                               const char *trigger_milestone, const char *milestone,
                               const char *message, int occurrence)
{
    sqlite3_stmt *q = stmt(s, ST_ALREADY_SENT);
    bind_text(q, 1, project_id);
    bind_text(q, 2, trigger_milestone);
    bind_text(q, 3, milestone);
    bind_text(q, 4, message);
    sqlite3_bind_int(q, 5, occurrence);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* ---- outbox ----------------------------------------------------------- */

void store_set_owner(struct store *s, const char *instance_id)
{
    snprintf(s->owner, sizeof s->owner, "%s", instance_id);
}

int store_claim_due(struct store *s, int64_t now, int limit, struct message_row *out)
{
    int pg = store_db_is_pg(s->db);
    sqlite3_stmt *q = stmt(s, pg ? ST_CLAIM_PG : ST_CLAIM_SELECT);
    sqlite3_bind_int64(q, 1, now);
    sqlite3_bind_int(q, 2, limit);
    if (pg)
        bind_text(q, 3, s->owner);
    int n = 0, rc = SQLITE_DONE;
    while (n < limit && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct message_row *m = &out[n++];
        m->id = sqlite3_column_int64(q, 0);
        m->trigger_id = sqlite3_column_int64(q, 1);
        col_copy(q, 2, m->milestone, sizeof m->milestone);
        col_copy(q, 3, m->message, sizeof m->message);
        col_copy(q, 4, m->kind, sizeof m->kind);
        col_copy(q, 5, m->recipient, sizeof m->recipient);
        col_copy(q, 6, m->channel, sizeof m->channel);
        col_copy(q, 7, m->window, sizeof m->window);
        m->due_at = sqlite3_column_int64(q, 8);
        m->expires_at = sqlite3_column_int64(q, 9);
        m->next_attempt_at = sqlite3_column_int64(q, 10);
        m->attempts = sqlite3_column_int(q, 11) + 1; /* the one being claimed */
        m->survey_id = sqlite3_column_int64(q, 12);
        col_copy(q, 13, m->vars, sizeof m->vars);
        col_copy(q, 14, m->preferred, sizeof m->preferred);
        m->created_at = sqlite3_column_int64(q, 15);
        col_copy(q, 16, m->last_code, sizeof m->last_code);
        snprintf(m->state, sizeof m->state, "%s", MSG_SENDING);
    }
    if (n < limit && rc != SQLITE_DONE) {
        LOG_ERR("store", "claim failed: %s", sqlite3_errmsg(s->db));
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        return -1;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    for (int i = 0; !pg && i < n; i++) {
        sqlite3_stmt *u = stmt(s, ST_CLAIM_UPDATE);
        sqlite3_bind_int64(u, 1, out[i].id);
        sqlite3_bind_int64(u, 2, now);
        bind_text(u, 3, s->owner);
        if (exec_stmt(s, u) != HF_OK)
            return -1;
    }
    return n;
}

int64_t store_next_due(struct store *s)
{
    sqlite3_stmt *q = stmt(s, ST_NEXT_DUE);
    int64_t t = -1;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        t = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return t;
}

int store_requeue_inflight(struct store *s, int64_t sms_not_before)
{
    sqlite3_stmt *q = stmt(s, ST_REQUEUE);
    sqlite3_bind_int64(q, 1, sms_not_before);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        LOG_ERR("store", "requeue in-flight messages: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    return sqlite3_changes(s->db);
}

int store_requeue_expired(struct store *s, int64_t now, int64_t sms_not_before)
{
    sqlite3_stmt *q = stmt(s, ST_REQUEUE_EXPIRED);
    sqlite3_bind_int64(q, 1, sms_not_before);
    sqlite3_bind_int64(q, 2, now);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE) {
        LOG_ERR("store", "requeue expired claims: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    return sqlite3_changes(s->db);
}

int store_trigger_body(struct store *s, int64_t trigger_id, char **body)
{
    sqlite3_stmt *q = stmt(s, ST_TRIGGER_BODY);
    sqlite3_bind_int64(q, 1, trigger_id);
    int rc = sqlite3_step(q), ret = HF_ERR_NOTFOUND;
    if (rc == SQLITE_ROW) {
        *body = xstrdup((const char *)sqlite3_column_text(q, 0));
        ret = HF_OK;
    } else if (rc != SQLITE_DONE) {
        ret = HF_ERR_DB;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ret;
}

/* ---- the project manager's page -------------------------------------------- */

char *store_pm_projects_json(struct store *s, const char *staff_id)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT p.id, p.address, p.kickoff_date, c.name, c.title, c.mobile,"
            " (SELECT MAX(received_at) FROM triggers WHERE project_id = p.id) AS last,"
            " (SELECT json_group_array(milestone) FROM (SELECT DISTINCT milestone FROM triggers"
            "   WHERE project_id = p.id ORDER BY milestone) d)"
            " FROM projects p JOIN project_staff ps ON ps.project_id = p.id AND ps.role = 'pm'"
            " LEFT JOIN customers c ON c.id = p.customer_id"
            " WHERE COALESCE(ps.wecom_id, ps.phone, ps.name) = ?1"
            " ORDER BY last DESC, p.id LIMIT 200",
            -1, &q, NULL) != SQLITE_OK) {
        LOG_ERR("store", "PM projects query failed: %s", sqlite3_errmsg(s->db));
        return NULL;
    }
    bind_text(q, 1, staff_id);
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        static const char *const names[] = {"id", "address", "kickoff_date", "customer_name",
                                            "customer_title"};
        for (int c = 0; c < 5; c++) {
            const char *v = (const char *)sqlite3_column_text(q, c);
            if (v)
                cJSON_AddStringToObject(o, names[c], v);
            else
                cJSON_AddNullToObject(o, names[c]);
        }
        char masked[24];
        const char *mobile = (const char *)sqlite3_column_text(q, 5);
        cJSON_AddStringToObject(o, "customer_mobile", log_mask_phone(mobile, masked));
        char iso[32];
        iso8601_format_local(sqlite3_column_int64(q, 6), iso);
        cJSON_AddStringToObject(o, "last_trigger_at", iso);
        cJSON *ms = cJSON_Parse((const char *)sqlite3_column_text(q, 7));
        cJSON_AddItemToObject(o, "milestones", ms ? ms : cJSON_CreateArray());
        cJSON_AddItemToArray(arr, o);
    }
    sqlite3_finalize(q);
    char *out = rc == SQLITE_DONE ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    return out;
}

int store_project_last_trigger_body(struct store *s, const char *project_id, char **body)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT body FROM triggers WHERE project_id = ?1 ORDER BY id DESC"
                           " LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return HF_ERR_DB;
    bind_text(q, 1, project_id);
    int rc = sqlite3_step(q), ret = HF_ERR_NOTFOUND;
    if (rc == SQLITE_ROW) {
        *body = xstrdup((const char *)sqlite3_column_text(q, 0));
        ret = HF_OK;
    } else if (rc != SQLITE_DONE) {
        ret = HF_ERR_DB;
    }
    sqlite3_finalize(q);
    return ret;
}

int store_attempt_finish(struct store *s, const struct attempt_rec *a, const char *state,
                         int64_t next_attempt_at, int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_ATTEMPT_INSERT);
    sqlite3_bind_int64(q, 1, a->message_id);
    sqlite3_bind_int(q, 2, a->attempt);
    bind_text(q, 3, a->channel);
    sqlite3_bind_int64(q, 4, a->started_ms);
    sqlite3_bind_int64(q, 5, a->latency_ms);
    bind_opt_int64(q, 6, a->http_status, a->http_status != 0);
    bind_text(q, 7, a->code);
    bind_text(q, 8, a->provider_id);
    bind_text(q, 9, a->error);
    bind_text(q, 10, a->adapter);
    bind_text(q, 11, a->request_id);
    int rc = exec_stmt(s, q);
    if (rc != HF_OK)
        return rc;
    if (a->uncount) {
        q = stmt(s, ST_UNCOUNT);
        sqlite3_bind_int64(q, 1, a->message_id);
        if ((rc = exec_stmt(s, q)) != HF_OK)
            return rc;
    }
    q = stmt(s, ST_MESSAGE_FINISH);
    sqlite3_bind_int64(q, 1, a->message_id);
    bind_text(q, 2, state);
    sqlite3_bind_int64(q, 3, next_attempt_at);
    bind_text(q, 4, a->code);
    bind_text(q, 5, a->error);
    bind_text(q, 6, a->provider_id && *a->provider_id ? a->provider_id : NULL);
    sqlite3_bind_int64(q, 7, now);
    if ((rc = exec_stmt(s, q)) != HF_OK)
        return rc;
    if (strcmp(state, MSG_SENT) != 0 || !a->provider_id || !*a->provider_id)
        return HF_OK;
    /* Its receipt may have come first: Tencent's push names only the
     * SerialNo this answer carried, and the push can overtake the commit.
     * Such a receipt was kept unmatched; it settles the message now. */
    q = stmt(s, ST_RECEIPT_WAITING);
    bind_text(q, 1, a->provider_id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(q);
        return HF_OK;
    }
    if (rc != SQLITE_ROW) {
        LOG_ERR("store", "waiting receipts: %s", sqlite3_errmsg(s->db));
        sqlite3_reset(q);
        return HF_ERR_DB;
    }
    int64_t rid = sqlite3_column_int64(q, 0);
    int delivered = sqlite3_column_int(q, 1);
    char code[64], detail[256];
    col_copy(q, 2, code, sizeof code);
    col_copy(q, 3, detail, sizeof detail);
    sqlite3_reset(q);
    q = stmt(s, ST_RECEIPT_ADOPT);
    sqlite3_bind_int64(q, 1, rid);
    sqlite3_bind_int64(q, 2, a->message_id);
    if ((rc = exec_stmt(s, q)) != HF_OK)
        return rc;
    q = stmt(s, ST_RECEIPT_APPLY);
    sqlite3_bind_int64(q, 1, a->message_id);
    bind_text(q, 2, delivered ? MSG_DELIVERED : MSG_FAILED);
    bind_text(q, 3, code[0] ? code : NULL);
    bind_text(q, 4, delivered || !detail[0] ? NULL : detail);
    sqlite3_bind_int64(q, 5, now);
    bind_text(q, 6, NULL);
    return exec_stmt(s, q);
}

int store_message_uncount(struct store *s, int64_t id)
{
    sqlite3_stmt *q = stmt(s, ST_UNCOUNT);
    sqlite3_bind_int64(q, 1, id);
    return exec_stmt(s, q);
}

int store_message_reschedule(struct store *s, int64_t id, int64_t next_attempt_at, int uncount)
{
    sqlite3_stmt *q = stmt(s, ST_MESSAGE_RESCHEDULE);
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, next_attempt_at);
    sqlite3_bind_int(q, 3, uncount ? 1 : 0);
    return exec_stmt(s, q);
}

int store_message_set_state(struct store *s, int64_t id, const char *state, const char *code,
                            const char *error, int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_MESSAGE_SET_STATE);
    sqlite3_bind_int64(q, 1, id);
    bind_text(q, 2, state);
    bind_text(q, 3, code);
    bind_text(q, 4, error);
    sqlite3_bind_int64(q, 5, now);
    return exec_stmt(s, q);
}

/* ---- reading ---------------------------------------------------------- */

int store_message_counts(struct store *s,
                         void (*fn)(void *arg, const char *state, const char *channel, int64_t n),
                         void *arg)
{
    sqlite3_stmt *q = stmt(s, ST_MESSAGE_COUNTS);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        fn(arg, (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1),
           sqlite3_column_int64(q, 2));
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? HF_OK : HF_ERR_DB;
}

int64_t store_due_count(struct store *s, int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_DUE_COUNT);
    sqlite3_bind_int64(q, 1, now);
    int64_t n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_reset(q);
    return n;
}

int store_message_json(struct store *s, int64_t id, char **json)
{
    static const char *const names[] = {"id", "trigger_id", "milestone", "message", "kind",
                                        "recipient", "channel", "fallback_from", "state",
                                        "due_at",
                                        "expires_at", "next_attempt_at", "attempts",
                                        "provider_id", "last_code", "last_error", "sent_at"};
    sqlite3_stmt *q = stmt(s, ST_MESSAGE_GET);
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q), ret = HF_ERR_NOTFOUND;
    if (rc == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        for (int i = 0; i < (int)HF_ARRAY_LEN(names); i++) {
            int t = sqlite3_column_type(q, i);
            if (t == SQLITE_NULL) {
                cJSON_AddNullToObject(o, names[i]);
            } else if (t == SQLITE_INTEGER && strstr(names[i], "_at")) {
                char iso[32];
                iso8601_format_local(sqlite3_column_int64(q, i), iso);
                cJSON_AddStringToObject(o, names[i], iso);
            } else if (t == SQLITE_INTEGER) {
                cJSON_AddNumberToObject(o, names[i], (double)sqlite3_column_int64(q, i));
            } else {
                cJSON_AddStringToObject(o, names[i], (const char *)sqlite3_column_text(q, i));
            }
        }
        *json = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        ret = HF_OK;
    } else if (rc != SQLITE_DONE) {
        ret = HF_ERR_DB;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ret;
}

/* ---- channels: fallback, tokens, receipts ------------------------------- */

int store_message_fallback(struct store *s, int64_t id, const char *channel, const char *from,
                           int64_t next_attempt_at, int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_FALLBACK);
    sqlite3_bind_int64(q, 1, id);
    bind_text(q, 2, channel);
    bind_text(q, 3, from);
    sqlite3_bind_int64(q, 4, next_attempt_at);
    sqlite3_bind_int64(q, 5, now);
    return exec_stmt(s, q);
}

int store_token_get(struct store *s, const char *name, char *token, size_t toklen,
                    int64_t *expires_at, int64_t *forced_ms)
{
    sqlite3_stmt *q = stmt(s, ST_TOKEN_GET);
    bind_text(q, 1, name);
    int rc = sqlite3_step(q), ret = HF_ERR_NOTFOUND;
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        if (t && strlen(t) < toklen) {
            memcpy(token, t, strlen(t) + 1);
            *expires_at = sqlite3_column_int64(q, 1);
            if (forced_ms)
                *forced_ms = sqlite3_column_int64(q, 2); /* NULL reads 0: never */
            ret = HF_OK;
        }
    } else if (rc != SQLITE_DONE) {
        ret = HF_ERR_DB;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ret;
}

int store_token_put(struct store *s, const char *name, const char *token, int64_t expires_at,
                    int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_TOKEN_PUT);
    bind_text(q, 1, name);
    bind_text(q, 2, token);
    sqlite3_bind_int64(q, 3, expires_at);
    sqlite3_bind_int64(q, 4, now);
    return exec_stmt(s, q);
}

int store_token_forced(struct store *s, const char *name, int64_t forced_ms, int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_TOKEN_FORCED);
    bind_text(q, 1, name);
    sqlite3_bind_int64(q, 2, forced_ms);
    sqlite3_bind_int64(q, 3, now);
    return exec_stmt(s, q);
}

int store_token_lock(struct store *s, const char *name)
{
    char key[200];
    snprintf(key, sizeof key, "token:%s", name);
    int rc = store_db_try_lock(s->db, key);
    if (rc < 0)
        LOG_ERR("store", "token lock name=%s: %s", name, sqlite3_errmsg(s->db));
    return rc == 1 ? HF_OK : rc == 0 ? HF_ERR_CONFLICT : HF_ERR_DB;
}

void store_token_unlock(struct store *s, const char *name)
{
    char key[200];
    snprintf(key, sizeof key, "token:%s", name);
    store_db_unlock(s->db, key);
}

int64_t store_message_by_provider_id(struct store *s, const char *provider_id, const char *channel)
{
    sqlite3_stmt *q = stmt(s, ST_MESSAGE_BY_PROVIDER_ID);
    bind_text(q, 1, provider_id);
    bind_text(q, 2, channel);
    int64_t id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return id;
}

int store_receipt_apply(struct store *s, const struct receipt_rec *r, int64_t now, int *applied)
{
    *applied = 0;
    sqlite3_stmt *q = stmt(s, ST_RECEIPT_INSERT);
    bind_text(q, 1, r->provider);
    bind_text(q, 2, r->dedup_key);
    bind_opt_int64(q, 3, r->message_id, r->message_id > 0);
    sqlite3_bind_int(q, 4, r->delivered);
    bind_text(q, 5, r->code);
    bind_text(q, 6, r->detail);
    sqlite3_bind_int64(q, 7, now);
    bind_text(q, 8, r->ref);
    int rc = exec_stmt(s, q);
    if (rc != HF_OK)
        return rc;
    if (sqlite3_changes(s->db) == 0 || r->message_id <= 0)
        return HF_OK; /* the same receipt again, or nothing to update */
    q = stmt(s, ST_RECEIPT_APPLY);
    sqlite3_bind_int64(q, 1, r->message_id);
    bind_text(q, 2, r->delivered ? MSG_DELIVERED : MSG_FAILED);
    bind_text(q, 3, r->code);
    bind_text(q, 4, r->delivered ? NULL : r->detail);
    sqlite3_bind_int64(q, 5, now);
    bind_text(q, 6, r->provider_id && r->provider_id[0] ? r->provider_id : NULL);
    rc = exec_stmt(s, q);
    if (rc == HF_OK)
        *applied = sqlite3_changes(s->db) > 0;
    return rc;
}

/* ---- surveys, answers, tickets ---------------------------------------------- */

int store_survey_create(struct store *s, const struct survey_new *n)
{
    sqlite3_stmt *q = stmt(s, ST_SURVEY_CREATE);
    sqlite3_bind_int64(q, 1, n->message_id);
    bind_text(q, 2, n->survey);
    sqlite3_bind_int64(q, 3, n->trigger_id);
    bind_text(q, 4, n->customer_id);
    bind_text(q, 5, n->project_id);
    bind_text(q, 6, n->milestone);
    bind_text(q, 7, n->mobile);
    bind_text(q, 8, n->openid);
    sqlite3_bind_int64(q, 9, n->created_at);
    sqlite3_bind_int64(q, 10, n->expires_at);
    return exec_stmt(s, q);
}

int store_survey_get(struct store *s, int64_t message_id, struct survey_row *r)
{
    sqlite3_stmt *q = stmt(s, ST_SURVEY_GET);
    sqlite3_bind_int64(q, 1, message_id);
    int rc = sqlite3_step(q), ret = HF_ERR_NOTFOUND;
    memset(r, 0, sizeof *r);
    if (rc == SQLITE_ROW) {
        r->message_id = sqlite3_column_int64(q, 0);
        col_copy(q, 1, r->survey, sizeof r->survey);
        r->trigger_id = sqlite3_column_int64(q, 2);
        col_copy(q, 3, r->customer_id, sizeof r->customer_id);
        col_copy(q, 4, r->project_id, sizeof r->project_id);
        col_copy(q, 5, r->milestone, sizeof r->milestone);
        col_copy(q, 6, r->mobile, sizeof r->mobile);
        r->expires_at = sqlite3_column_int64(q, 7);
        col_copy(q, 8, r->state, sizeof r->state);
        r->answered_at = sqlite3_column_type(q, 9) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 9);
        r->score = sqlite3_column_type(q, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 10);
        const char *a = (const char *)sqlite3_column_text(q, 11);
        r->answers = a ? xstrdup(a) : NULL;
        col_copy(q, 12, r->message_state, sizeof r->message_state);
        ret = HF_OK;
    } else if (rc != SQLITE_DONE) {
        ret = HF_ERR_DB;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ret;
}

static int64_t find_open(struct store *s, enum stmt_id id, const char *key, int64_t now)
{
    sqlite3_stmt *q = stmt(s, id);
    bind_text(q, 1, key);
    sqlite3_bind_int64(q, 2, now);
    int64_t found = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return found;
}

int64_t store_survey_open_by_mobile(struct store *s, const char *mobile, int64_t now)
{
    return find_open(s, ST_SURVEY_OPEN_BY_MOBILE, mobile, now);
}

int64_t store_survey_open_by_openid(struct store *s, const char *openid, int64_t now)
{
    return find_open(s, ST_SURVEY_OPEN_BY_OPENID, openid, now);
}

int store_survey_update(struct store *s, int64_t message_id, const char *state,
                        const char *answers, int score, int flagged, int64_t answered_at)
{
    sqlite3_stmt *q = stmt(s, ST_SURVEY_UPDATE);
    sqlite3_bind_int64(q, 1, message_id);
    bind_text(q, 2, state);
    bind_text(q, 3, answers);
    bind_opt_int64(q, 4, score, score >= 0);
    sqlite3_bind_int(q, 5, flagged);
    bind_opt_int64(q, 6, answered_at, answered_at > 0);
    return exec_stmt(s, q);
}

int store_answer_add(struct store *s, const struct answer_rec *a, int64_t *id)
{
    sqlite3_stmt *q = stmt(s, ST_ANSWER_ADD);
    bind_opt_int64(q, 1, a->message_id, a->message_id > 0);
    bind_text(q, 2, a->customer_id);
    bind_text(q, 3, a->mobile);
    bind_text(q, 4, a->channel);
    bind_text(q, 5, a->raw);
    bind_text(q, 6, a->parsed);
    bind_opt_int64(q, 7, a->score, a->score >= 0);
    sqlite3_bind_int(q, 8, a->flagged);
    sqlite3_bind_int(q, 9, a->amendment);
    bind_text(q, 10, a->dedup_key);
    sqlite3_bind_int64(q, 11, a->received_at);
    int rc = sqlite3_step(q);
    int ext = sqlite3_extended_errcode(s->db);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc == SQLITE_DONE) {
        if (id)
            *id = sqlite3_last_insert_rowid(s->db);
        return HF_OK;
    }
    if (ext == SQLITE_CONSTRAINT_UNIQUE)
        return HF_ERR_CONFLICT; /* the same inbound message again */
    LOG_ERR("store", "answer insert failed: %s", sqlite3_errmsg(s->db));
    return HF_ERR_DB;
}

int store_ticket_open(struct store *s, const struct ticket_new *t, int64_t *id)
{
    sqlite3_stmt *q = stmt(s, ST_TICKET_OPEN);
    sqlite3_bind_int64(q, 1, t->trigger_id);
    bind_opt_int64(q, 2, t->survey_id, t->survey_id > 0);
    bind_text(q, 3, t->customer_id);
    bind_text(q, 4, t->project_id);
    bind_text(q, 5, t->reason);
    bind_text(q, 6, t->detail);
    sqlite3_bind_int64(q, 7, t->opened_at);
    sqlite3_bind_int64(q, 8, t->report_due_at);
    sqlite3_bind_int64(q, 9, t->answer_due_at);
    int rc = exec_stmt(s, q);
    if (rc == HF_OK && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_ticket_get(struct store *s, int64_t id, int64_t *trigger_id, int64_t *survey_id,
                     char state[16])
{
    sqlite3_stmt *q = stmt(s, ST_TICKET_GET);
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q), ret = HF_ERR_NOTFOUND;
    if (rc == SQLITE_ROW) {
        *trigger_id = sqlite3_column_int64(q, 1);
        *survey_id = sqlite3_column_type(q, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 2);
        col_copy(q, 3, state, 16);
        ret = HF_OK;
    } else if (rc != SQLITE_DONE) {
        ret = HF_ERR_DB;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ret;
}

static int ticket_change(struct store *s, enum stmt_id id, int64_t ticket, const char *note,
                         int64_t now, int *changed)
{
    sqlite3_stmt *q = stmt(s, id);
    sqlite3_bind_int64(q, 1, ticket);
    sqlite3_bind_int64(q, 2, now);
    bind_text(q, 3, note);
    int rc = exec_stmt(s, q);
    *changed = rc == HF_OK && sqlite3_changes(s->db) > 0;
    return rc;
}

int store_ticket_report(struct store *s, int64_t id, const char *note, int64_t now, int *changed)
{
    return ticket_change(s, ST_TICKET_REPORT, id, note, now, changed);
}

int store_ticket_resolve(struct store *s, int64_t id, const char *resolution, int64_t now,
                         int *changed)
{
    return ticket_change(s, ST_TICKET_RESOLVE, id, resolution, now, changed);
}

int store_tickets_overdue(struct store *s, int64_t now, int answer_clock,
                          void (*fn)(void *arg, int64_t id, int64_t trigger_id), void *arg)
{
    sqlite3_stmt *q = stmt(s, answer_clock ? ST_TICKET_OVERDUE_ANSWER : ST_TICKET_OVERDUE_REPORT);
    sqlite3_bind_int64(q, 1, now);
    /* Collect first: the callback writes to the store. */
    int64_t ids[100][2];
    int n = 0, rc;
    while (n < 100 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        ids[n][0] = sqlite3_column_int64(q, 0);
        ids[n][1] = sqlite3_column_int64(q, 1);
        n++;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    for (int i = 0; i < n; i++)
        fn(arg, ids[i][0], ids[i][1]);
    return n;
}

int store_ticket_escalated(struct store *s, int64_t id, int report, int answer)
{
    sqlite3_stmt *q = stmt(s, ST_TICKET_ESCALATED);
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int(q, 2, report);
    sqlite3_bind_int(q, 3, answer);
    return exec_stmt(s, q);
}

int store_customer_opt_out(struct store *s, const char *mobile, const char *openid, int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_CUSTOMER_OPT_OUT);
    bind_text(q, 1, mobile);
    sqlite3_bind_int64(q, 2, now);
    bind_text(q, 3, openid);
    return exec_stmt(s, q);
}

int store_customer_wechat_subscribed(struct store *s, const char *openid, int subscribed,
                                     int64_t now)
{
    sqlite3_stmt *q = stmt(s, ST_CUSTOMER_SUBSCRIBED);
    bind_text(q, 1, openid);
    sqlite3_bind_int(q, 2, subscribed);
    sqlite3_bind_int64(q, 3, now);
    return exec_stmt(s, q);
}

int store_message_on_channel(struct store *s, int64_t id, const char *channel)
{
    sqlite3_stmt *q = stmt(s, ST_MESSAGE_STATE);
    sqlite3_bind_int64(q, 1, id);
    bind_text(q, 2, channel);
    int found = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return found;
}

int store_ticket_by_trigger(struct store *s, int64_t trigger_id, int64_t *id, int64_t *report_due,
                            int64_t *answer_due)
{
    sqlite3_stmt *q = stmt(s, ST_TICKET_BY_TRIGGER);
    sqlite3_bind_int64(q, 1, trigger_id);
    int ret = HF_ERR_NOTFOUND;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        *report_due = sqlite3_column_int64(q, 1);
        *answer_due = sqlite3_column_int64(q, 2);
        ret = HF_OK;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ret;
}

int store_customer_opted_out(struct store *s, const char *customer_id)
{
    sqlite3_stmt *q = stmt(s, ST_CUSTOMER_OPTED_OUT);
    bind_text(q, 1, customer_id);
    int out = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) != 0;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return out;
}

int store_surveys_remind(struct store *s, int64_t sent_before, int64_t now, int64_t due_at,
                         int64_t *ids, int max)
{
    sqlite3_stmt *q = stmt(s, ST_SURVEYS_TO_REMIND);
    sqlite3_bind_int64(q, 1, sent_before);
    sqlite3_bind_int64(q, 2, now);
    int64_t found[200];
    int n = 0;
    while (n < 200 && n < max && sqlite3_step(q) == SQLITE_ROW)
        found[n++] = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    for (int i = 0; i < n; i++) {
        q = stmt(s, ST_REMINDER_INSERT);
        sqlite3_bind_int64(q, 1, found[i]);
        sqlite3_bind_int64(q, 2, due_at);
        sqlite3_bind_int64(q, 3, now);
        if (exec_stmt(s, q) != HF_OK)
            return -1;
        ids[i] = sqlite3_last_insert_rowid(s->db);
        q = stmt(s, ST_SURVEY_REMINDED);
        sqlite3_bind_int64(q, 1, found[i]);
        sqlite3_bind_int64(q, 2, now);
        if (exec_stmt(s, q) != HF_OK)
            return -1;
    }
    return n;
}

int store_surveys_unanswered(struct store *s, int64_t reminded_before)
{
    sqlite3_stmt *q = stmt(s, ST_SURVEYS_UNANSWERED);
    sqlite3_bind_int64(q, 1, reminded_before);
    if (exec_stmt(s, q) != HF_OK)
        return -1;
    return sqlite3_changes(s->db);
}

int64_t store_surveys_sent_since(struct store *s, const char *customer_id, int64_t since,
                                 int64_t except_id)
{
    sqlite3_stmt *q = stmt(s, ST_SURVEYS_SENT_SINCE);
    bind_text(q, 1, customer_id);
    sqlite3_bind_int64(q, 2, since);
    sqlite3_bind_int64(q, 3, except_id);
    int64_t id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return id;
}

int store_survey_resend(struct store *s, int64_t survey_id, int64_t due_at, int64_t now,
                        int64_t *id)
{
    sqlite3_stmt *q = stmt(s, ST_REMINDER_INSERT);
    sqlite3_bind_int64(q, 1, survey_id);
    sqlite3_bind_int64(q, 2, due_at);
    sqlite3_bind_int64(q, 3, now);
    int rc = exec_stmt(s, q);
    if (rc == HF_OK && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_ticket_reopen(struct store *s, int64_t id, int64_t report_due, int64_t answer_due,
                        const char *why, int *changed)
{
    sqlite3_stmt *q = stmt(s, ST_TICKET_REOPEN);
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, report_due);
    sqlite3_bind_int64(q, 3, answer_due);
    bind_text(q, 4, why);
    int rc = exec_stmt(s, q);
    *changed = rc == HF_OK && sqlite3_changes(s->db) > 0;
    return rc;
}

int store_surveys_due_today(struct store *s, const char *customer_id, int64_t carrier,
                            int64_t day_end, struct merge_candidate *out, int max)
{
    sqlite3_stmt *q = stmt(s, ST_SURVEYS_DUE_TODAY);
    bind_text(q, 1, customer_id);
    sqlite3_bind_int64(q, 2, carrier);
    sqlite3_bind_int64(q, 3, day_end);
    int n = 0;
    while (n < max && sqlite3_step(q) == SQLITE_ROW) {
        out[n].id = sqlite3_column_int64(q, 0);
        col_copy(q, 1, out[n].milestone, sizeof out[n].milestone);
        col_copy(q, 2, out[n].message, sizeof out[n].message);
        n++;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return n;
}

int store_survey_merge(struct store *s, int64_t id, int64_t carrier, int64_t now)
{
    char why[64];
    snprintf(why, sizeof why, "sent together with message %lld", (long long)carrier);
    sqlite3_stmt *q = stmt(s, ST_SURVEY_MERGE_MSG);
    sqlite3_bind_int64(q, 1, id);
    bind_text(q, 2, why);
    sqlite3_bind_int64(q, 3, now);
    bind_text(q, 4, s->owner);
    int rc = exec_stmt(s, q);
    if (rc != HF_OK)
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return HF_OK; /* claimed by another instance meanwhile: it goes on its own */
    q = stmt(s, ST_SURVEY_MERGE);
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, carrier);
    return exec_stmt(s, q);
}

int store_surveys_merged_into(struct store *s, int64_t carrier, struct merged_survey *out,
                              int max)
{
    sqlite3_stmt *q = stmt(s, ST_SURVEYS_MERGED_INTO);
    sqlite3_bind_int64(q, 1, carrier);
    int n = 0;
    while (n < max && sqlite3_step(q) == SQLITE_ROW) {
        out[n].id = sqlite3_column_int64(q, 0);
        col_copy(q, 1, out[n].survey, sizeof out[n].survey);
        out[n].expires_at = sqlite3_column_int64(q, 2);
        col_copy(q, 3, out[n].state, sizeof out[n].state);
        n++;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return n;
}

int64_t store_survey_by_extend(struct store *s, const char *mobile, int64_t now, int64_t modulus,
                               int64_t code)
{
    sqlite3_stmt *q = stmt(s, ST_SURVEY_BY_EXTEND);
    bind_text(q, 1, mobile);
    sqlite3_bind_int64(q, 2, now);
    sqlite3_bind_int64(q, 3, modulus);
    sqlite3_bind_int64(q, 4, code);
    int64_t id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return id;
}

/* ---- staff tasks (tasks.c) ----------------------------------------------------- */

/* The tasks block keeps its own statement ids so that it stays one block. */
enum task_stmt_id {
    TST_INSERT = 0,
    TST_GET,
    TST_BY_MESSAGE,
    TST_DONE,
    TST_START_AFTER,
    TST_REMIND_DUE,
    TST_OVERDUE,
    TST_REMINDED,
    TST_ESCALATED,
    TST_COUNTS,
    TST__COUNT
};
_Static_assert(TST__COUNT <= STORE_TASK_STMTS, "raise STORE_TASK_STMTS");

#define TASK_COLS                                                                             \
    "id, trigger_id, milestone, task, role, title, COALESCE(started_at, 0),"                  \
    " COALESCE(due_at, 0), COALESCE(done_at, 0), note_required, reminded, escalated"

static const char *const task_sql[TST__COUNT] = {
    [TST_INSERT] =
        "INSERT INTO tasks (trigger_id, project_id, customer_id, milestone, task, title, role,"
        " after, due_s, remind_s, note_required, started_at, due_at, remind_at, created_at)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?12 + ?9,?12 + ?9 - ?10,?13)",
    [TST_GET] = "SELECT " TASK_COLS " FROM tasks WHERE id = ?1",
    [TST_BY_MESSAGE] = "SELECT " TASK_COLS " FROM tasks"
                       " WHERE reminder_message_id = ?1 OR escalation_message_id = ?1",
    /* Only a started task that is not done yet. */
    [TST_DONE] = "UPDATE tasks SET done_at = ?2, done_by = ?3, note = ?4"
                 " WHERE id = ?1 AND done_at IS NULL AND started_at IS NOT NULL",
    [TST_START_AFTER] =
        "UPDATE tasks SET started_at = ?3, due_at = ?3 + due_s, remind_at = ?3 + due_s - remind_s"
        " WHERE trigger_id = ?1 AND after = ?2 AND started_at IS NULL",
    [TST_REMIND_DUE] = "SELECT " TASK_COLS " FROM tasks WHERE done_at IS NULL AND reminded = 0"
                       " AND remind_at <= ?1 AND due_at > ?1 ORDER BY remind_at, id LIMIT 100",
    [TST_OVERDUE] = "SELECT " TASK_COLS " FROM tasks WHERE done_at IS NULL AND escalated = 0"
                    " AND due_at <= ?1 ORDER BY due_at, id LIMIT 100",
    /* An escalation also settles the reminder: a task first seen overdue
     * (the daemon was down) gets the escalation alone. */
    [TST_REMINDED] = "UPDATE tasks SET reminded = 1, reminder_message_id = ?2 WHERE id = ?1",
    [TST_ESCALATED] = "UPDATE tasks SET escalated = 1, reminded = 1,"
                      " escalation_message_id = ?2 WHERE id = ?1",
    [TST_COUNTS] =
        "SELECT COALESCE(SUM(started_at IS NULL), 0),"
        " COALESCE(SUM(started_at IS NOT NULL AND done_at IS NULL AND due_at > ?1), 0),"
        " COALESCE(SUM(started_at IS NOT NULL AND done_at IS NULL AND due_at <= ?1), 0),"
        " COALESCE(SUM(done_at IS NOT NULL), 0), COALESCE(SUM(reminder_message_id IS NOT NULL), 0),"
        " COALESCE(SUM(escalation_message_id IS NOT NULL), 0) FROM tasks",
};

static sqlite3_stmt *task_stmt(struct store *s, enum task_stmt_id id)
{
    if (!s->task_st[id]) {
        if (sqlite3_prepare_v3(s->db, task_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->task_st[id],
                               NULL) != SQLITE_OK) {
            LOG_ERR("store", "prepare failed: %s", sqlite3_errmsg(s->db));
            HF_ASSERT(!"task statement does not prepare"); /* a bug in task_sql */
        }
    }
    return s->task_st[id];
}

static void task_row_read(sqlite3_stmt *q, struct task_row *r)
{
    r->id = sqlite3_column_int64(q, 0);
    r->trigger_id = sqlite3_column_int64(q, 1);
    col_copy(q, 2, r->milestone, sizeof r->milestone);
    col_copy(q, 3, r->task, sizeof r->task);
    col_copy(q, 4, r->role, sizeof r->role);
    col_copy(q, 5, r->title, sizeof r->title);
    r->started_at = sqlite3_column_int64(q, 6);
    r->due_at = sqlite3_column_int64(q, 7);
    r->done_at = sqlite3_column_int64(q, 8);
    r->note_required = sqlite3_column_int(q, 9);
    r->reminded = sqlite3_column_int(q, 10);
    r->escalated = sqlite3_column_int(q, 11);
}

int store_task_insert(struct store *s, const struct task_new *t, int64_t *id)
{
    sqlite3_stmt *q = task_stmt(s, TST_INSERT);
    sqlite3_bind_int64(q, 1, t->trigger_id);
    bind_text(q, 2, t->project_id);
    bind_text(q, 3, t->customer_id);
    bind_text(q, 4, t->milestone);
    bind_text(q, 5, t->task);
    bind_text(q, 6, t->title);
    bind_text(q, 7, t->role);
    bind_text(q, 8, t->after);
    sqlite3_bind_int64(q, 9, t->due_s);
    sqlite3_bind_int64(q, 10, t->remind_s);
    sqlite3_bind_int(q, 11, t->note_required);
    /* NULL start: the due and reminder times come out NULL too. */
    bind_opt_int64(q, 12, t->started_at, t->started_at >= 0);
    sqlite3_bind_int64(q, 13, t->created_at);
    int rc = exec_stmt(s, q);
    if (rc == HF_OK)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int task_get_by(struct store *s, enum task_stmt_id st, int64_t key, struct task_row *r)
{
    sqlite3_stmt *q = task_stmt(s, st);
    sqlite3_bind_int64(q, 1, key);
    int rc = sqlite3_step(q), ret = HF_ERR_DB;
    if (rc == SQLITE_ROW) {
        task_row_read(q, r);
        ret = HF_OK;
    } else if (rc == SQLITE_DONE) {
        ret = HF_ERR_NOTFOUND;
    } else {
        LOG_ERR("store", "task lookup failed: %s", sqlite3_errmsg(s->db));
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ret;
}

int store_task_get(struct store *s, int64_t id, struct task_row *r)
{
    return task_get_by(s, TST_GET, id, r);
}

int store_task_by_message(struct store *s, int64_t message_id, struct task_row *r)
{
    return task_get_by(s, TST_BY_MESSAGE, message_id, r);
}

int store_task_done(struct store *s, int64_t id, const char *by, const char *note, int64_t now,
                    int *changed)
{
    sqlite3_stmt *q = task_stmt(s, TST_DONE);
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, now);
    bind_text(q, 3, by);
    bind_text(q, 4, note);
    int rc = exec_stmt(s, q);
    *changed = rc == HF_OK && sqlite3_changes(s->db) > 0;
    return rc;
}

int store_tasks_start_after(struct store *s, int64_t trigger_id, const char *task, int64_t now)
{
    sqlite3_stmt *q = task_stmt(s, TST_START_AFTER);
    sqlite3_bind_int64(q, 1, trigger_id);
    bind_text(q, 2, task);
    sqlite3_bind_int64(q, 3, now);
    if (exec_stmt(s, q) != HF_OK)
        return -1;
    return sqlite3_changes(s->db);
}

int store_tasks_alerts_due(struct store *s, int64_t now, int overdue,
                           void (*fn)(void *arg, const struct task_row *t), void *arg)
{
    sqlite3_stmt *q = task_stmt(s, overdue ? TST_OVERDUE : TST_REMIND_DUE);
    sqlite3_bind_int64(q, 1, now);
    /* Collect first: the callback writes to the store. */
    struct task_row *rows = xcalloc(100, sizeof *rows);
    int n = 0, rc;
    while (n < 100 && (rc = sqlite3_step(q)) == SQLITE_ROW)
        task_row_read(q, &rows[n++]);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    for (int i = 0; i < n; i++)
        fn(arg, &rows[i]);
    free(rows);
    return n;
}

int store_task_alerted(struct store *s, int64_t id, int overdue, int64_t message_id)
{
    sqlite3_stmt *q = task_stmt(s, overdue ? TST_ESCALATED : TST_REMINDED);
    sqlite3_bind_int64(q, 1, id);
    bind_opt_int64(q, 2, message_id, message_id > 0);
    return exec_stmt(s, q);
}

char *store_tasks_json(struct store *s, const struct task_filter *f, int64_t now)
{
    char nowbuf[24], idbuf[24], trigbuf[24];
    snprintf(nowbuf, sizeof nowbuf, "%lld", (long long)now);
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)f->id);
    snprintf(trigbuf, sizeof trigbuf, "%lld", (long long)f->trigger_id);
    const char *binds[5] = {nowbuf, idbuf, trigbuf, f->project ? f->project : "",
                            f->state ? f->state : ""};
    return store__query_json(
        s,
        "SELECT * FROM (SELECT t.id, t.trigger_id, t.milestone, t.task, t.title, t.role, t.after,"
        " t.project_id, t.customer_id, c.name AS customer_name,"
        " CASE WHEN t.done_at IS NOT NULL THEN 'done' WHEN t.started_at IS NULL THEN 'waiting'"
        "  ELSE 'open' END AS state,"
        " CASE WHEN t.done_at IS NULL AND t.due_at <= CAST(?1 AS INTEGER) THEN 1 ELSE 0 END"
        "  AS overdue,"
        " t.started_at, t.due_at, t.done_at, t.done_by, t.note, t.note_required, t.reminded,"
        " t.escalated, t.created_at"
        " FROM tasks t LEFT JOIN customers c ON c.id = t.customer_id"
        " WHERE (CAST(?2 AS INTEGER) = 0 OR t.id = CAST(?2 AS INTEGER))"
        " AND (CAST(?3 AS INTEGER) = 0 OR t.trigger_id = CAST(?3 AS INTEGER))"
        " AND (?4 = '' OR t.project_id = ?4)) x" /* the alias PostgreSQL requires */
        " WHERE ?5 = '' OR state = ?5 OR (?5 = 'overdue' AND overdue = 1)"
        " ORDER BY CASE state WHEN 'done' THEN 2 WHEN 'waiting' THEN 1 ELSE 0 END,"
        " due_at IS NULL, due_at, id LIMIT 500",
        binds, 5, NULL);
}

int store_task_counts(struct store *s, int64_t now, int64_t counts[6])
{
    sqlite3_stmt *q = task_stmt(s, TST_COUNTS);
    sqlite3_bind_int64(q, 1, now);
    int ret = HF_ERR_DB;
    if (sqlite3_step(q) == SQLITE_ROW) {
        for (int i = 0; i < 6; i++)
            counts[i] = sqlite3_column_int64(q, i);
        ret = HF_OK;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return ret;
}
