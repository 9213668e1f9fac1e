/*
 * campaign.c - a campaign trigger for a list of customers.
 */
#include "campaign.h"
#include "log.h"
#include "plan.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int campaign_validate(const cJSON *doc, struct api_error *e)
{
    if (cJSON_GetObjectItemCaseSensitive(doc, "project") ||
        cJSON_GetObjectItemCaseSensitive(doc, "customer")) {
        const char *f = cJSON_GetObjectItemCaseSensitive(doc, "project") ? "project" : "customer";
        api_error_set(e, 400, "unknown_field", f,
                      "a campaign names its customers in \"customers\" (ids), not %s", f);
        return -1;
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "customers");
    if (!list) {
        api_error_set(e, 400, "missing_field", "customers", "customers is required");
        return -1;
    }
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : -1;
    if (n < 1 || n > CAMPAIGN_MAX_CUSTOMERS) {
        api_error_set(e, 400, "invalid_field", "customers",
                      "customers must be an array of 1 to %d customer ids",
                      CAMPAIGN_MAX_CUSTOMERS);
        return -1;
    }
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, list) {
        if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) > 64 ||
            !ascii_printable(v->valuestring)) {
            char field[32];
            snprintf(field, sizeof field, "customers[%d]", i);
            api_error_set(e, 400, "invalid_field", field,
                          "%s must be a customer id: 1 to 64 printable ASCII characters", field);
            return -1;
        }
        i++;
    }
    return 0;
}

static void skip(cJSON *skipped, cJSON *counts, const char *id, const char *reason)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "customer", id);
    cJSON_AddStringToObject(o, "reason", reason);
    cJSON_AddItemToArray(skipped, o);
    cJSON *c = cJSON_GetObjectItemCaseSensitive(counts, reason);
    if (c)
        cJSON_SetNumberValue(c, c->valuedouble + 1);
    else
        cJSON_AddNumberToObject(counts, reason, 1);
}

/* 1 if @id appears among the first @before entries of @list. */
static int listed_before(const cJSON *list, const char *id, int before)
{
    const cJSON *v = list->child;
    for (int i = 0; i < before && v; i++, v = v->next)
        if (strcmp(v->valuestring, id) == 0)
            return 1;
    return 0;
}

/* Plan and store the campaign's messages for one customer (@who from the
 * store). Returns the number of messages, 0 when skipped (reason added),
 * -1 on a store error. */
static int one_customer(struct store *s, struct intake_trigger *t, const cJSON *who,
                        const char *token_name, int64_t now, cJSON *sent, cJSON *skipped,
                        cJSON *counts)
{
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(who, "customer");
    const cJSON *proj = cJSON_GetObjectItemCaseSensitive(who, "project");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cust, "id"));
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(who, "opted_out"))) {
        skip(skipped, counts, id, "opted_out");
        return 0;
    }
    if (!proj) {
        skip(skipped, counts, id, "no_project");
        return 0;
    }
    struct planned plans[CATALOGUE_MAX_MESSAGES];
    char why[256];
    int n = plan_milestone(t->cfg, t->cal, t->m, t->occurred_at, now, cust, NULL, plans,
                           CATALOGUE_MAX_MESSAGES, why, sizeof why);
    if (n <= 0) {
        skip(skipped, counts, id, "no_channel");
        return 0;
    }
    /* The customer's own trigger: what rendering and the timeline read. */
    char *key = xasprintf("campaign:%s:%s", t->idem_key, id);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "idempotency_key", key);
    cJSON_AddStringToObject(doc, "milestone", t->m->id);
    cJSON_AddItemToObject(doc, "occurred_at",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(t->doc, "occurred_at"), 1));
    cJSON_AddStringToObject(doc, "campaign", t->idem_key);
    cJSON_AddItemToObject(doc, "customer", cJSON_Duplicate(cust, 1));
    cJSON_AddItemToObject(doc, "project", cJSON_Duplicate(proj, 1));
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(t->doc, "variables");
    if (vars)
        cJSON_AddItemToObject(doc, "variables", cJSON_Duplicate(vars, 1));
    char *body = cJSON_PrintUnformatted(doc);
    char hash[65];
    sha256_hex(body, strlen(body), hash);
    const char *pid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(proj, "id"));
    struct trigger_rec tr = {
        .idem_key = key, .body_hash = hash, .milestone = t->m->id, .project_id = pid,
        .customer_id = id, .occurred_at = t->occurred_at, .received_at = now, .body = body,
        .token_name = token_name,
    };
    int64_t trigger_id, ids[CATALOGUE_MAX_MESSAGES];
    int rc = store_trigger_insert(s, &tr, &trigger_id);
    if (rc == HF_OK) {
        struct message_owner own = {
            .trigger_id = trigger_id, .milestone = t->m->id, .customer_id = id,
            .project_id = pid,
            .mobile = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cust, "mobile")),
            .openid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cust, "wechat_openid")),
        };
        rc = intake_insert_messages(s, &own, plans, n, now, ids);
    }
    if (rc == HF_OK) {
        for (int i = 0; i < n; i++) {
            cJSON *m = cJSON_CreateObject();
            char iso[32];
            cJSON_AddStringToObject(m, "customer", id);
            cJSON_AddNumberToObject(m, "id", (double)ids[i]);
            cJSON_AddStringToObject(m, "message", plans[i].cm->id);
            cJSON_AddStringToObject(m, "channel", plans[i].channel);
            iso8601_format_local(plans[i].due_at, iso);
            cJSON_AddStringToObject(m, "due_at", iso);
            cJSON_AddItemToArray(sent, m);
        }
    }
    free(body);
    cJSON_Delete(doc);
    free(key);
    return rc == HF_OK ? n : -1;
}

int campaign_store(struct store *s, struct intake_trigger *t, const char *token_name,
                   int64_t now, int *status, char **response)
{
    char hash[65];
    char *prev = NULL;
    int rc = store_campaign_find(s, t->idem_key, hash, &prev);
    if (rc == HF_OK) {
        if (strcmp(hash, t->hash) == 0) {
            *status = 200; /* a retry of the same campaign: the first answer, nothing new */
            *response = prev;
        } else {
            free(prev);
            *status = 409;
            *response = api_error_body("idempotency_conflict", "idempotency_key",
                                   "this idempotency_key was already used with a different body");
        }
        return 0;
    }
    if (rc != HF_ERR_NOTFOUND || store_savepoint(s) != HF_OK) {
        *status = 500;
        *response = api_error_body("store_error", NULL, "the campaign could not be stored; retry");
        return 0;
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(t->doc, "customers");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "idempotency_key", t->idem_key);
    cJSON_AddStringToObject(r, "milestone", t->m->id);
    cJSON *reached = cJSON_AddNumberToObject(r, "accepted", 0);
    cJSON *nskipped = cJSON_AddNumberToObject(r, "skipped", 0);
    cJSON *counts = cJSON_AddObjectToObject(r, "skipped_by_reason");
    cJSON *skipped = cJSON_AddArrayToObject(r, "skipped_customers");
    cJSON *sent = cJSON_AddArrayToObject(r, "messages");
    int messages = 0, accepted = 0, nskip = 0, i = 0, failed = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, list) {
        const char *id = v->valuestring;
        cJSON *who = NULL;
        int got = 0;
        if (listed_before(list, id, i)) {
            skip(skipped, counts, id, "duplicate");
        } else if ((rc = store_campaign_customer(s, id, &who)) == HF_ERR_NOTFOUND) {
            skip(skipped, counts, id, "unknown_customer");
        } else if (rc != HF_OK || (got = one_customer(s, t, who, token_name, now, sent, skipped,
                                                       counts)) < 0) {
            cJSON_Delete(who);
            failed = 1;
            break;
        }
        cJSON_Delete(who);
        if (got > 0) {
            accepted++;
            messages += got;
        }
        i++;
    }
    nskip = i - accepted;
    cJSON_SetNumberValue(reached, accepted);
    cJSON_SetNumberValue(nskipped, nskip);
    char *resp = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    struct campaign_rec cr = {
        .idem_key = t->idem_key, .body_hash = t->hash, .milestone = t->m->id,
        .token_name = token_name, .response = resp, .received_at = now, .accepted = accepted,
        .skipped = nskip,
    };
    if (failed || store_campaign_insert(s, &cr) != HF_OK || store_release(s) != HF_OK) {
        free(resp);
        store_rollback_to(s);
        *status = 500;
        *response = api_error_body("store_error", NULL, "the campaign could not be stored; retry");
        return 0;
    }
    LOG_INFO("campaign", "key=%s milestone=%s accepted=%d skipped=%d messages=%d", t->idem_key,
             t->m->id, accepted, nskip, messages);
    *status = 202;
    *response = resp;
    return messages;
}
