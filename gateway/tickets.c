/*
 * tickets.c - opening tickets from survey answers, ticket events, clocks.
 */
#include "tickets.h"
#include "dispatch.h"
#include "gateway.h"
#include "http_error.h"
#include "intake.h"
#include "log.h"
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *trigger_doc(struct gateway *gw, int64_t trigger_id)
{
    char *body = NULL;
    if (store_trigger_body(gw->store, trigger_id, &body) != HF_OK)
        return NULL;
    cJSON *doc = cJSON_Parse(body);
    free(body);
    return doc;
}

int tickets_event(struct gateway *gw, int64_t trigger_id, const char *event, int64_t now)
{
    return milestone_event(gw, trigger_id, NULL, event, now);
}

int milestone_event(struct gateway *gw, int64_t trigger_id, const char *milestone,
                    const char *event, int64_t now)
{
    cJSON *doc = trigger_doc(gw, trigger_id);
    if (!doc)
        return -1;
    const char *mid = milestone ? milestone : jstr(doc, "milestone");
    const struct milestone *m = mid ? catalogue_find(gw->cat, mid) : NULL;
    int n = 0;
    if (m) {
        const cJSON *cust = cJSON_GetObjectItemCaseSensitive(doc, "customer");
        const cJSON *proj = cJSON_GetObjectItemCaseSensitive(doc, "project");
        struct planned plans[PLAN_MAX_MESSAGES];
        char err[256];
        n = plan_event(gw->cfg, gw->cal, m, event, now, clock_now(), cust,
                       cJSON_GetObjectItemCaseSensitive(proj, "staff"), plans, PLAN_MAX_MESSAGES,
                       err, sizeof err);
        if (n < 0) {
            LOG_WARN("tickets", "trigger=%lld event=%s not planned: %s", (long long)trigger_id,
                     event, err);
            n = 0;
        } else if (n > 0) {
            struct message_owner own = {
                .trigger_id = trigger_id, .milestone = m->id, .customer_id = jstr(cust, "id"),
                .project_id = jstr(proj, "id"), .mobile = jstr(cust, "mobile"),
                .openid = jstr(cust, "wechat_openid"),
            };
            int64_t ids[PLAN_MAX_MESSAGES];
            if (intake_insert_messages(gw->store, &own, plans, n, now, ids) != HF_OK)
                n = -1;
        }
    }
    cJSON_Delete(doc);
    return n;
}

int64_t tickets_open_for_survey(struct gateway *gw, int64_t survey_id, const char *why,
                                int64_t now)
{
    struct survey_row sr;
    if (store_survey_get(gw->store, survey_id, &sr) != HF_OK)
        return -1;
    free(sr.answers);
    /* The reason quotes the customer's own words: one line, within what a
     * trigger variable may hold (the whole answer is kept with the
     * survey), so a long or multi-line complaint still opens its ticket. */
    char reason[4 * (INTAKE_VAR_MAX_CHARS + 1) + 4];
    snprintf(reason, sizeof reason, "%s", why);
    if (text_one_line_clip(reason, INTAKE_VAR_MAX_CHARS) == 0)
        snprintf(reason, sizeof reason, "客户反映问题");
    /* The follow-up survey of a resolved complaint: a bad answer reopens
     * that ticket (seed 002: confirm the customer is satisfied with how
     * it was handled) rather than opening another one. */
    int64_t tid, rdue, adue;
    if (store_ticket_by_trigger(gw->store, sr.trigger_id, &tid, &rdue, &adue) == HF_OK) {
        int changed = 0;
        if (store_ticket_reopen(gw->store, tid, now + gw->cfg->ticket_report_ms / 1000,
                                now + gw->cfg->ticket_answer_ms / 1000, reason, &changed) != HF_OK)
            return -1;
        if (changed)
            LOG_INFO("tickets", "reopened ticket=%lld survey=%lld", (long long)tid,
                     (long long)survey_id);
        return changed ? tid : 0;
    }
    cJSON *doc = trigger_doc(gw, sr.trigger_id);
    if (!doc)
        return -1;
    /* The complaint trigger huifang makes for itself: the same project and
     * customer, milestone "complaint", keyed on the survey so a second bad
     * answer (an amendment, a repeated reply) opens no second ticket. */
    char key[64], occurred[32];
    snprintf(key, sizeof key, "survey-%lld-complaint", (long long)survey_id);
    iso8601_format_utc(now, occurred);
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "idempotency_key", cJSON_CreateString(key));
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "milestone", cJSON_CreateString("complaint"));
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "occurred_at", cJSON_CreateString(occurred));
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "variables");
    cJSON *vars = cJSON_AddObjectToObject(doc, "variables");
    cJSON_AddStringToObject(vars, "reason", reason);
    char *body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    struct intake_trigger t;
    struct api_error e;
    int64_t ticket = -1;
    if (intake_validate(gw->cfg, gw->cat, gw->cal, body, strlen(body), now, &t, &e) != 0) {
        LOG_ERR("tickets", "survey=%lld cannot make its complaint trigger: %s %s",
                (long long)survey_id, e.field, e.message);
        free(body);
        return -1;
    }
    free(body);
    t.survey_id = survey_id;
    int status;
    char *resp = NULL;
    intake_store(gw->store, &t, "huifang", now, &status, &resp);
    free(resp);
    if (status == 202) {
        ticket = t.ticket_id;
        LOG_INFO("tickets", "opened ticket=%lld survey=%lld", (long long)ticket,
                 (long long)survey_id);
    } else if (status == 200) {
        ticket = 0; /* this survey already has its ticket */
    }
    intake_trigger_cleanup(&t);
    return ticket;
}

struct escalate_ctx {
    struct gateway *gw;
    int answer_clock;
    int64_t now;
    int planned;
};

static void escalate_one(void *arg, int64_t id, int64_t trigger_id)
{
    struct escalate_ctx *c = arg;
    struct store *s = c->gw->store;
    if (store_begin(s) != HF_OK)
        return;
    int n = tickets_event(c->gw, trigger_id, "escalation", c->now);
    if (n < 0 || store_ticket_escalated(s, id, !c->answer_clock, c->answer_clock) != HF_OK ||
        store_commit(s) != HF_OK) {
        store_rollback(s);
        return;
    }
    c->planned += n;
    LOG_WARN("tickets", "ticket=%lld overdue: %s clock ran out, escalated", (long long)id,
             c->answer_clock ? "answer-to-customer" : "internal-report");
}

void tickets_cron(struct gateway *gw)
{
    struct escalate_ctx c = {.gw = gw, .now = clock_now()};
    for (c.answer_clock = 0; c.answer_clock < 2; c.answer_clock++)
        store_tickets_overdue(gw->store, c.now, c.answer_clock, escalate_one, &c);
    if (c.planned > 0)
        dispatch_kick(gw->disp);
}

/* The ticket as a JSON object (the first row of store_tickets_json). */
static char *ticket_json(struct gateway *gw, int64_t id)
{
    char *arr = store_tickets_json(gw->store, NULL, clock_now(), id);
    cJSON *a = arr ? cJSON_Parse(arr) : NULL;
    free(arr);
    cJSON *first = cJSON_IsArray(a) ? cJSON_DetachItemFromArray(a, 0) : NULL;
    cJSON_Delete(a);
    char *out = first ? cJSON_PrintUnformatted(first) : NULL;
    cJSON_Delete(first);
    return out;
}

static int change(struct gateway *gw, int64_t id, const char *text, int resolve, char **json)
{
    struct store *s = gw->store;
    int64_t trigger_id, survey_id, now = clock_now();
    char state[16];
    int rc = store_ticket_get(s, id, &trigger_id, &survey_id, state);
    if (rc == HF_ERR_NOTFOUND) {
        *json = api_error_body("not_found", "id", "no such ticket");
        return 404;
    }
    int changed = 0;
    if (rc != HF_OK || store_begin(s) != HF_OK)
        goto dberr;
    rc = resolve ? store_ticket_resolve(s, id, text, now, &changed)
                 : store_ticket_report(s, id, text, now, &changed);
    if (rc != HF_OK)
        goto rollback;
    /* The follow-up survey goes tickets.followup_after after the
     * resolution (seed 002: "two or three days later"). */
    if (changed && resolve &&
        tickets_event(gw, trigger_id, "resolved", now + gw->cfg->ticket_followup_ms / 1000) < 0)
        goto rollback;
    if (store_commit(s) != HF_OK)
        goto rollback;
    if (!changed) {
        *json = api_error_body("ticket_state", "id",
                               resolve ? "the ticket is already resolved"
                                       : "only an open ticket can be reported");
        return 409;
    }
    LOG_INFO("tickets", "ticket=%lld %s", (long long)id, resolve ? "resolved" : "reported");
    if (resolve)
        dispatch_kick(gw->disp);
    *json = ticket_json(gw, id);
    return *json ? 200 : 500;
rollback:
    store_rollback(s);
dberr:
    *json = api_error_body("store_error", NULL, "the ticket could not be updated; retry");
    return 500;
}

int tickets_report(struct gateway *gw, int64_t id, const char *note, char **json)
{
    return change(gw, id, note, 0, json);
}

int tickets_resolve(struct gateway *gw, int64_t id, const char *resolution, char **json)
{
    return change(gw, id, resolution, 1, json);
}
