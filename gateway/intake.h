/*
 * intake.h - POST /v1/triggers: validating a milestone trigger, planning
 * its messages, and writing it durably (inside the caller's group-commit
 * transaction).
 *
 * Validation is pure (no store access), so api.c can answer 4xx at once
 * and park only valid requests for the group commit.
 */
#ifndef HF_INTAKE_H
#define HF_INTAKE_H

/* A trigger's variables are 1 to this many characters each. */
#define INTAKE_VAR_MAX_CHARS 100

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "calendar.h"
#include "catalogue.h"
#include "config.h"
#include "http_error.h"
#include "plan.h"
#include "store.h"

/* A validated trigger, waiting for the group commit. */
struct intake_trigger {
    cJSON *doc;                 /* normalized body (owned) */
    char *canonical;            /* compact JSON of doc (owned): stored, hashed */
    char hash[65];              /* SHA-256 hex of canonical */
    const char *idem_key;       /* borrowed from doc */
    const struct milestone *m;  /* borrowed from the catalogue in force */
    const struct config *cfg;   /* borrowed: what it was validated with (campaigns plan */
    const struct calendar *cal; /* per customer when they are stored) */
    int64_t occurred_at;
    int title_defaulted;        /* customer.title was absent: do not overwrite a known one */
    int64_t survey_id;          /* a ticket opened by a survey answer: that survey, else -1 */
    int64_t ticket_report_s;    /* the ticket clocks from the config (opens_ticket milestones) */
    int64_t ticket_answer_s;
    int64_t ticket_id;          /* set by intake_store when it opened a ticket */
    struct planned plans[PLAN_MAX_MESSAGES];
    int nplans;
};

/* Validate @body (JSON, @len bytes) as a trigger, normalize it (mobile
 * numbers to 11 digits, defaults filled) and plan its messages at @now.
 * Returns 0 with @t filled (release with intake_trigger_cleanup), or -1
 * with @e set (400 naming the field). */
int intake_validate(const struct config *cfg, const struct catalogue *cat,
                    const struct calendar *cal, const char *body, size_t len, int64_t now,
                    struct intake_trigger *t, struct api_error *e);
void intake_trigger_cleanup(struct intake_trigger *t);

/* Write @t inside an open transaction (its own savepoint): idempotency
 * check, customer/project upsert, trigger, messages. Sets *status (202
 * new, 200 replay, 409 conflict, 500 store error) and *response (caller
 * frees). Returns the number of new messages (0 for replays/errors). */
int intake_store(struct store *s, struct intake_trigger *t, const char *token_name, int64_t now,
                 int *status, char **response);

/* Who planned messages belong to (a trigger, its customer and project). */
struct message_owner {
    int64_t trigger_id;
    const char *milestone, *customer_id, *project_id, *mobile, *openid;
};
/* Insert @n planned messages (and a survey instance for each survey) for
 * @o inside the caller's transaction; @ids gets their ids. HF_OK or
 * HF_ERR_DB. Used by intake and by ticket events. */
int intake_insert_messages(struct store *s, const struct message_owner *o,
                           const struct planned *plans, int n, int64_t now, int64_t *ids);

#endif
