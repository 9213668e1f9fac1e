/*
 * intake.c - trigger validation, normalization, planning and storage.
 *
 * The accepted body (see README, "Trigger API"):
 *   {"idempotency_key": "...", "milestone": "completion",
 *    "occurred_at": "2026-11-24T10:00:00+08:00",
 *    "project": {"id", "address", "kickoff_date"?,
 *                "staff"?: {"pm"|"designer"|"foreman"|"supervisor":
 *                           {"name", "phone"?, "wecom_id"?}}},
 *    "customer": {"id", "name", "title"?, "mobile", "wechat_openid"?,
 *                 "preferred_channel"?, "preferred_time"?: "19:00-20:30"},
 *    "variables"?: {"name": "value"}}
 * or, for a campaign milestone, "customers": ["id", ...] instead of
 * project and customer (campaign.c).
 * Unknown keys are rejected so that a typo in an ERP integration shows at
 * once instead of silently dropping data.
 */
#include "intake.h"
#include "campaign.h"
#include "log.h"
#include "tasks.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- schema helpers ---------------------------------------------------- */

static int check_keys(const cJSON *obj, const char *prefix, const char *const *allowed, size_t n,
                      struct api_error *e)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, obj) {
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(v->string, allowed[i]) == 0)
                break;
        if (i == n) {
            char field[96];
            snprintf(field, sizeof field, "%s%s%s", prefix, *prefix ? "." : "", v->string);
            api_error_set(e, 400, "unknown_field", field, "unknown field '%s'", field);
            return -1;
        }
    }
    return 0;
}

static const cJSON *get_object(const cJSON *o, const char *key, const char *field, int required,
                               struct api_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            api_error_set(e, 400, "missing_field", field, "%s is required", field);
        return NULL;
    }
    if (!cJSON_IsObject(v)) {
        api_error_set(e, 400, "invalid_field", field, "%s must be an object", field);
        return NULL;
    }
    return v;
}

/* A string field: present (if required), a string, valid UTF-8, 1..maxchars
 * characters, no control characters. Returns the string (borrowed), NULL
 * when absent (e->status stays 0) or invalid (e set). */
static const char *get_string(const cJSON *o, const char *key, const char *field, int required,
                              size_t maxchars, struct api_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            api_error_set(e, 400, "missing_field", field, "%s is required", field);
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        api_error_set(e, 400, "invalid_field", field, "%s must be a string", field);
        return NULL;
    }
    const char *s = v->valuestring;
    size_t len = strlen(s);
    if (!utf8_valid(s, len)) {
        api_error_set(e, 400, "invalid_field", field, "%s is not valid UTF-8", field);
        return NULL;
    }
    for (const char *p = s; *p; p++) {
        /* C0, DEL, and C1 (U+0080..U+009F, UTF-8 C2 80..C2 9F): terminal
         * escapes have no place in a name or an address. */
        if ((unsigned char)*p < 0x20 || *p == 0x7f ||
            ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] >= 0x80 &&
             (unsigned char)p[1] <= 0x9F)) {
            api_error_set(e, 400, "invalid_field", field, "%s contains control characters", field);
            return NULL;
        }
    }
    size_t chars = utf8_chars(s);
    if (chars == 0 || chars > maxchars) {
        api_error_set(e, 400, "invalid_field", field, "%s must be 1 to %zu characters", field,
                      maxchars);
        return NULL;
    }
    return s;
}

/* Replace a mobile field by its normalized 11 digits. */
static int normalize_mobile(cJSON *o, const char *key, const char *field, int required,
                            struct api_error *e)
{
    const char *s = get_string(o, key, field, required, 20, e);
    if (!s)
        return e->status ? -1 : 0;
    char norm[12];
    if (!mobile_normalize(s, norm)) {
        api_error_set(e, 400, "invalid_mobile", field,
                      "%s is not a mainland China mobile number (11 digits starting 13-19)", field);
        return -1;
    }
    cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(norm));
    return 0;
}

static int validate_customer(const struct config *cfg, cJSON *c, int *title_defaulted,
                             struct api_error *e)
{
    static const char *const keys[] = {"id", "name", "title", "mobile", "wechat_openid",
                                       "preferred_channel", "preferred_time"};
    if (check_keys(c, "customer", keys, HF_ARRAY_LEN(keys), e))
        return -1;
    const char *id = get_string(c, "id", "customer.id", 1, 64, e);
    if (!id || !get_string(c, "name", "customer.name", 1, 32, e))
        return -1;
    if (!ascii_printable(id)) {
        api_error_set(e, 400, "invalid_field", "customer.id", "customer.id must be printable ASCII");
        return -1;
    }
    const char *title = get_string(c, "title", "customer.title", 0, 8, e);
    if (e->status)
        return -1;
    if (!title) {
        /* Unknown salutation: the neutral form Chinese forms use. */
        cJSON_AddStringToObject(c, "title", "先生/女士");
        *title_defaulted = 1;
    } else if (strcmp(title, "先生") && strcmp(title, "女士") && strcmp(title, "先生/女士")) {
        api_error_set(e, 400, "invalid_field", "customer.title",
                      "customer.title must be 先生 or 女士");
        return -1;
    }
    if (normalize_mobile(c, "mobile", "customer.mobile", 1, e))
        return -1;
    const char *openid = get_string(c, "wechat_openid", "customer.wechat_openid", 0, 64, e);
    if (e->status)
        return -1;
    if (openid && !ascii_printable(openid)) {
        api_error_set(e, 400, "invalid_field", "customer.wechat_openid",
                      "customer.wechat_openid must be printable ASCII");
        return -1;
    }
    const char *pref = get_string(c, "preferred_channel", "customer.preferred_channel", 0, 16, e);
    if (e->status)
        return -1;
    if (pref && strcmp(pref, "wechat") && strcmp(pref, "sms")) {
        api_error_set(e, 400, "invalid_field", "customer.preferred_channel",
                      "customer.preferred_channel must be wechat or sms");
        return -1;
    }
    const char *ptime = get_string(c, "preferred_time", "customer.preferred_time", 0, 95, e);
    if (e->status)
        return -1;
    struct window_def w;
    if (ptime && plan_preferred_window(cfg, ptime, &w)) {
        api_error_set(e, 400, "invalid_field", "customer.preferred_time",
                      "customer.preferred_time must be times HH:MM-HH:MM (comma-separated) "
                      "inside the notice hours, never at night, e.g. 19:00-20:30");
        return -1;
    }
    return 0;
}

static int validate_project(cJSON *p, struct api_error *e)
{
    static const char *const keys[] = {"id", "address", "kickoff_date", "staff"};
    if (check_keys(p, "project", keys, HF_ARRAY_LEN(keys), e))
        return -1;
    const char *id = get_string(p, "id", "project.id", 1, 64, e);
    if (!id || !get_string(p, "address", "project.address", 1, 200, e))
        return -1;
    if (!ascii_printable(id)) {
        api_error_set(e, 400, "invalid_field", "project.id", "project.id must be printable ASCII");
        return -1;
    }
    const char *kd = get_string(p, "kickoff_date", "project.kickoff_date", 0, 10, e);
    if (e->status)
        return -1;
    int y, m, d;
    if (kd && date_parse(kd, &y, &m, &d)) {
        api_error_set(e, 400, "invalid_field", "project.kickoff_date",
                      "project.kickoff_date must be a date YYYY-MM-DD");
        return -1;
    }
    cJSON *staff = (cJSON *)get_object(p, "staff", "project.staff", 0, e);
    if (e->status)
        return -1;
    if (!staff)
        return 0;
    static const char *const roles[] = {"pm", "designer", "foreman", "supervisor"};
    if (check_keys(staff, "project.staff", roles, HF_ARRAY_LEN(roles), e))
        return -1;
    for (size_t i = 0; i < HF_ARRAY_LEN(roles); i++) {
        char base[64], field[96];
        snprintf(base, sizeof base, "project.staff.%s", roles[i]);
        cJSON *s = (cJSON *)get_object(staff, roles[i], base, 0, e);
        if (e->status)
            return -1;
        if (!s)
            continue;
        static const char *const skeys[] = {"name", "phone", "wecom_id"};
        if (check_keys(s, base, skeys, HF_ARRAY_LEN(skeys), e))
            return -1;
        snprintf(field, sizeof field, "%s.name", base);
        if (!get_string(s, "name", field, 1, 32, e))
            return -1;
        snprintf(field, sizeof field, "%s.phone", base);
        if (normalize_mobile(s, "phone", field, 0, e))
            return -1;
        snprintf(field, sizeof field, "%s.wecom_id", base);
        const char *w = get_string(s, "wecom_id", field, 0, 64, e);
        if (e->status)
            return -1;
        if (w && !ascii_printable(w)) {
            api_error_set(e, 400, "invalid_field", field, "%s must be printable ASCII", field);
            return -1;
        }
    }
    return 0;
}

static int validate_variables(const cJSON *vars, const struct milestone *m, struct api_error *e)
{
    if (vars) {
        const cJSON *v;
        cJSON_ArrayForEach(v, vars) {
            char field[96];
            snprintf(field, sizeof field, "variables.%s", v->string);
            size_t i;
            for (i = 0; i < m->nvariables; i++)
                if (strcmp(m->variables[i], v->string) == 0)
                    break;
            if (i == m->nvariables) {
                api_error_set(e, 400, "unknown_field", field,
                              "milestone %s takes no variable '%s'", m->id, v->string);
                return -1;
            }
            if (!get_string(vars, v->string, field, 1, 100, e))
                return -1;
        }
    }
    for (size_t i = 0; i < m->nvariables; i++) {
        char field[96];
        snprintf(field, sizeof field, "variables.%s", m->variables[i]);
        if (!vars || !get_string(vars, m->variables[i], field, 1, INTAKE_VAR_MAX_CHARS, e)) {
            if (!e->status)
                api_error_set(e, 400, "missing_field", field, "%s is required", field);
            return -1;
        }
    }
    return 0;
}

/* 1 if the raw JSON text holds a \u0000 escape: cJSON would decode it to
 * a NUL and silently cut the string there. */
static int has_nul_escape(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
            return 1;
        i++; /* skip the escaped character, e.g. the second \ of \\ */
    }
    return 0;
}

/* 1 if an object anywhere in @o has a member twice (cJSON keeps both and
 * finds only the first: the second would be stored unchecked). @path gets
 * the dotted path of the first duplicate. */
static int find_duplicate(const cJSON *o, const char *prefix, char *path, size_t n)
{
    const cJSON *a, *b;
    cJSON_ArrayForEach(a, o) {
        char here[96];
        if (cJSON_IsObject(o))
            snprintf(here, sizeof here, "%s%s%s", prefix, *prefix ? "." : "", a->string);
        else
            snprintf(here, sizeof here, "%s", prefix);
        if (cJSON_IsObject(o))
            for (b = a->next; b; b = b->next)
                if (strcmp(a->string, b->string) == 0) {
                    snprintf(path, n, "%s", here);
                    return 1;
                }
        if ((cJSON_IsObject(a) || cJSON_IsArray(a)) && find_duplicate(a, here, path, n))
            return 1;
    }
    return 0;
}

static int member_cmp(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* Sort the members of every object under @o by name (the canonical form
 * that is hashed and stored). */
static void sort_members(cJSON *o)
{
    size_t n = 0;
    for (cJSON *c = o->child; c; c = c->next) {
        n++;
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            sort_members(c);
    }
    if (!cJSON_IsObject(o) || n < 2)
        return;
    cJSON **v = xmalloc(n * sizeof *v);
    size_t i = 0;
    for (cJSON *c = o->child; c; c = c->next)
        v[i++] = c;
    qsort(v, n, sizeof *v, member_cmp);
    /* cJSON's lists: next links forward, prev links back, and the first
     * child's prev points at the last child. */
    for (i = 0; i < n; i++) {
        v[i]->next = i + 1 < n ? v[i + 1] : NULL;
        v[i]->prev = i ? v[i - 1] : v[n - 1];
    }
    o->child = v[0];
    free(v);
}

int intake_validate(const struct config *cfg, const struct catalogue *cat,
                    const struct calendar *cal, const char *body, size_t len, int64_t now,
                    struct intake_trigger *t, struct api_error *e)
{
    memset(t, 0, sizeof *t);
    memset(e, 0, sizeof *e);
    if (!utf8_valid(body, len)) {
        api_error_set(e, 400, "invalid_json", NULL, "the body is not valid UTF-8");
        return -1;
    }
    if (has_nul_escape(body, len)) {
        api_error_set(e, 400, "invalid_json", NULL, "the body contains a \\u0000 escape");
        return -1;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!doc) {
        api_error_set(e, 400, "invalid_json", NULL, "the body is not valid JSON");
        return -1;
    }
    t->doc = doc;
    while (end < body + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end != body + len) {
        api_error_set(e, 400, "invalid_json", NULL, "text after the JSON document");
        goto fail;
    }
    char dup[96];
    if (find_duplicate(doc, "", dup, sizeof dup)) {
        api_error_set(e, 400, "duplicate_field", dup, "%s appears twice", dup);
        goto fail;
    }
    if (!cJSON_IsObject(doc)) {
        api_error_set(e, 400, "invalid_json", NULL, "the body must be a JSON object");
        goto fail;
    }
    static const char *const keys[] = {"idempotency_key", "milestone", "occurred_at", "project",
                                       "customer", "customers", "variables"};
    if (check_keys(doc, "", keys, HF_ARRAY_LEN(keys), e))
        goto fail;
    const char *key = get_string(doc, "idempotency_key", "idempotency_key", 1, 128, e);
    if (!key)
        goto fail;
    if (!ascii_printable(key)) {
        api_error_set(e, 400, "invalid_field", "idempotency_key",
                      "idempotency_key must be printable ASCII without spaces");
        goto fail;
    }
    t->idem_key = key;
    const char *ms = get_string(doc, "milestone", "milestone", 1, 64, e);
    if (!ms)
        goto fail;
    t->m = catalogue_find(cat, ms);
    if (!t->m) {
        api_error_set(e, 400, "unknown_milestone", "milestone",
                      "unknown milestone '%.64s'", ms);
        goto fail;
    }
    const char *occ = get_string(doc, "occurred_at", "occurred_at", 1, 40, e);
    if (!occ)
        goto fail;
    if (iso8601_parse(occ, &t->occurred_at)) {
        api_error_set(e, 400, "invalid_field", "occurred_at",
                      "occurred_at must be ISO-8601 with an offset, e.g. 2026-11-24T10:00:00+08:00");
        goto fail;
    }
    if (t->occurred_at > now + 86400) {
        api_error_set(e, 400, "invalid_field", "occurred_at",
                      "occurred_at is more than a day in the future");
        goto fail;
    }
    if (t->occurred_at < now - 30 * 86400) {
        api_error_set(e, 400, "invalid_field", "occurred_at",
                      "occurred_at is more than 30 days in the past");
        goto fail;
    }
    t->cfg = cfg;
    t->cal = cal;
    t->survey_id = -1;
    if (t->m->campaign) {
        /* Customers are looked up and planned one by one when stored. */
        const cJSON *cvars = get_object(doc, "variables", "variables", 0, e);
        if (e->status || campaign_validate(doc, e) || validate_variables(cvars, t->m, e))
            goto fail;
        goto canonical;
    }
    if (cJSON_GetObjectItemCaseSensitive(doc, "customers")) {
        api_error_set(e, 400, "unknown_field", "customers",
                      "only campaign milestones take a list of customers");
        goto fail;
    }
    cJSON *project = (cJSON *)get_object(doc, "project", "project", 1, e);
    if (!project || validate_project(project, e))
        goto fail;
    cJSON *customer = (cJSON *)get_object(doc, "customer", "customer", 1, e);
    if (!customer || validate_customer(cfg, customer, &t->title_defaulted, e))
        goto fail;
    const cJSON *vars = get_object(doc, "variables", "variables", 0, e);
    if (e->status || validate_variables(vars, t->m, e))
        goto fail;

    char why[256];
    int n = plan_milestone(cfg, cal, t->m, t->occurred_at, now, customer,
                           cJSON_GetObjectItemCaseSensitive(project, "staff"), t->plans,
                           PLAN_MAX_MESSAGES, why, sizeof why);
    if (n < 0) {
        api_error_set(e, 422, "cannot_plan", "customer", "%s", why);
        goto fail;
    }
    int ns = plan_schedules(cfg, cal, t->m, t->occurred_at,
                            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(project,
                                                                                  "kickoff_date")),
                            now, customer, cJSON_GetObjectItemCaseSensitive(project, "staff"),
                            t->plans + n, PLAN_MAX_MESSAGES - (size_t)n, why, sizeof why);
    if (ns < 0) {
        api_error_set(e, 422, "cannot_plan", "customer", "%s", why);
        goto fail;
    }
    t->nplans = n + ns;
    t->ticket_report_s = cfg->ticket_report_ms / 1000;
    t->ticket_answer_s = cfg->ticket_answer_ms / 1000;
canonical:
    /* Member order carries no meaning in JSON: an ERP that re-serializes
     * its retry must get the first answer, not a conflict. */
    sort_members(doc);
    t->canonical = cJSON_PrintUnformatted(doc);
    sha256_hex(t->canonical, strlen(t->canonical), t->hash);
    return 0;
fail:
    intake_trigger_cleanup(t);
    return -1;
}

void intake_trigger_cleanup(struct intake_trigger *t)
{
    cJSON_Delete(t->doc);
    free(t->canonical);
    memset(t, 0, sizeof *t);
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* @tasks: the staff tasks the trigger opened (a JSON array, taken) or NULL. */
static char *response_json(const struct intake_trigger *t, int64_t trigger_id,
                           const int64_t *ids, cJSON *tasks)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "trigger_id", (double)trigger_id);
    cJSON_AddStringToObject(r, "idempotency_key", t->idem_key);
    cJSON_AddStringToObject(r, "milestone", t->m->id);
    if (t->ticket_id > 0)
        cJSON_AddNumberToObject(r, "ticket_id", (double)t->ticket_id);
    /* The trigger's own messages, then those its schedules planned
     * (day 7 and 15, weekly check-ins, warranty follow-ups). */
    cJSON *own = cJSON_AddArrayToObject(r, "messages");
    cJSON *scheduled = t->m->nschedules ? cJSON_AddArrayToObject(r, "scheduled") : NULL;
    for (int i = 0; i < t->nplans; i++) {
        const struct planned *p = &t->plans[i];
        cJSON *arr = p->ms ? scheduled : own;
        cJSON *m = cJSON_CreateObject();
        char iso[32];
        cJSON_AddNumberToObject(m, "id", (double)ids[i]);
        if (p->ms) {
            cJSON_AddStringToObject(m, "milestone", p->ms->id);
            cJSON_AddNumberToObject(m, "occurrence", p->occurrence);
        }
        cJSON_AddStringToObject(m, "message", p->cm->id);
        cJSON_AddStringToObject(m, "kind", msg_kind_name(p->cm->kind));
        cJSON_AddStringToObject(m, "to", recipient_role_name(p->cm->to));
        cJSON_AddStringToObject(m, "channel", p->channel);
        iso8601_format_local(p->due_at, iso);
        cJSON_AddStringToObject(m, "due_at", iso);
        iso8601_format_local(p->expires_at, iso);
        cJSON_AddStringToObject(m, "expires_at", iso);
        cJSON_AddItemToArray(arr, m);
    }
    if (tasks)
        cJSON_AddItemToObject(r, "tasks", tasks);
    char *s = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return s;
}

int intake_insert_messages(struct store *s, const struct message_owner *o,
                           const struct planned *plans, int n, int64_t now, int64_t *ids)
{
    for (int i = 0; i < n; i++) {
        const struct planned *p = &plans[i];
        const char *milestone = p->ms ? p->ms->id : o->milestone;
        struct message_new mn = {
            .trigger_id = o->trigger_id, .milestone = milestone, .message = p->cm->id,
            .kind = msg_kind_name(p->cm->kind), .recipient = recipient_role_name(p->cm->to),
            .channel = p->channel, .window = window_class_name(p->cm->window),
            .due_at = p->due_at, .expires_at = p->expires_at, .occurrence = p->occurrence,
            .vars = p->vars,
        };
        if (store_message_insert(s, &mn, &ids[i]))
            return HF_ERR_DB;
        if (p->cm->kind == KIND_SURVEY) {
            /* The survey instance: what its link opens and replies join. */
            struct survey_new sn = {
                .message_id = ids[i], .trigger_id = o->trigger_id, .survey = p->cm->survey,
                .customer_id = o->customer_id, .project_id = o->project_id,
                .milestone = milestone, .mobile = o->mobile, .openid = o->openid,
                .created_at = now, .expires_at = p->expires_at,
            };
            if (store_survey_create(s, &sn))
                return HF_ERR_DB;
        }
    }
    return HF_OK;
}

/* What this trigger ends ("ends": the project's pending check-ins, or
 * everything of a cancelled project), and, for a milestone with schedules
 * (once per project: kickoff, completion), what an earlier trigger of it
 * planned: pending messages are cancelled and planned again from this
 * trigger's dates, except those already sent, which are dropped from the
 * new plan. HF_OK or HF_ERR_DB. */
static int end_and_replan(struct store *s, struct intake_trigger *t, const char *project_id,
                          int64_t now)
{
    const struct milestone *m = t->m;
    char why[160];
    snprintf(why, sizeof why, "ended by the %s trigger", m->id);
    if (m->ends_all && store_messages_cancel(s, project_id, NULL, NULL, "ended", why, now) < 0)
        return HF_ERR_DB;
    for (size_t i = 0; i < m->nends; i++)
        if (store_messages_cancel(s, project_id, m->ends[i], NULL, "ended", why, now) < 0)
            return HF_ERR_DB;
    if (!m->nschedules)
        return HF_OK;
    snprintf(why, sizeof why, "planned again by a later %s trigger", m->id);
    int n = store_messages_cancel(s, project_id, NULL, m->id, "replanned", why, now);
    if (n < 0)
        return HF_ERR_DB;
    if (n > 0)
        LOG_INFO("intake", "project=%s %s again: %d pending messages re-planned", project_id,
                 m->id, n);
    int kept = 0;
    for (int i = 0; i < t->nplans; i++) {
        const struct planned *p = &t->plans[i];
        int sent = store_message_already_sent(s, project_id, m->id, p->ms ? p->ms->id : m->id,
                                              p->cm->id, p->occurrence);
        if (sent < 0)
            return HF_ERR_DB;
        if (!sent)
            t->plans[kept++] = *p;
    }
    t->nplans = kept;
    return HF_OK;
}

int intake_store(struct store *s, struct intake_trigger *t, const char *token_name, int64_t now,
                 int *status, char **response)
{
    if (t->m->campaign)
        return campaign_store(s, t, token_name, now, status, response);
    char hash[65];
    char *prev = NULL;
    int raced = 0;
again:;
    int rc = store_trigger_find(s, t->idem_key, hash, &prev);
    if (rc == HF_OK) {
        if (strcmp(hash, t->hash) == 0 && prev) {
            *status = 200; /* a retry of the same request: same answer, nothing new */
            *response = prev;
        } else {
            free(prev);
            *status = 409;
            *response = api_error_body("idempotency_conflict", "idempotency_key",
                                   "this idempotency_key was already used with a different body");
        }
        return 0;
    }
    if (rc != HF_ERR_NOTFOUND)
        goto dberr;
    if (store_savepoint(s) != HF_OK)
        goto dberr;
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(t->doc, "customer");
    const cJSON *proj = cJSON_GetObjectItemCaseSensitive(t->doc, "project");
    struct customer_rec cr = {
        .id = str_of(cust, "id"), .name = str_of(cust, "name"), .title = t->title_defaulted ? NULL : str_of(cust, "title"),
        .mobile = str_of(cust, "mobile"), .openid = str_of(cust, "wechat_openid"),
        .preferred_channel = str_of(cust, "preferred_channel"),
        .preferred_time = str_of(cust, "preferred_time"),
    };
    struct staff_rec staff[4];
    size_t nstaff = 0;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(proj, "staff");
    const cJSON *member;
    cJSON_ArrayForEach(member, st) {
        staff[nstaff].role = member->string;
        staff[nstaff].name = str_of(member, "name");
        staff[nstaff].phone = str_of(member, "phone");
        staff[nstaff].wecom_id = str_of(member, "wecom_id");
        nstaff++;
    }
    struct project_rec pr = {
        .id = str_of(proj, "id"), .customer_id = cr.id, .address = str_of(proj, "address"),
        .kickoff_date = str_of(proj, "kickoff_date"), .staff = staff, .nstaff = nstaff,
    };
    struct trigger_rec tr = {
        .idem_key = t->idem_key, .body_hash = t->hash, .milestone = t->m->id,
        .project_id = pr.id, .customer_id = cr.id, .occurred_at = t->occurred_at,
        .received_at = now, .body = t->canonical, .token_name = token_name,
    };
    int64_t trigger_id, ids[PLAN_MAX_MESSAGES];
    if (store_customer_upsert(s, &cr, now) || store_project_upsert(s, &pr, now))
        goto rollback;
    rc = store_trigger_insert(s, &tr, &trigger_id);
    if (rc == HF_ERR_CONFLICT && !raced) {
        /* Several instances (PostgreSQL): the same key reached another
         * one, which committed it while this one was writing. Answer as
         * a retry of it would be answered: its stored response, or 409. */
        raced = 1;
        if (store_rollback_to(s) != HF_OK)
            goto dberr;
        goto again;
    }
    if (rc != HF_OK || end_and_replan(s, t, pr.id, now))
        goto rollback;
    struct message_owner own = {
        .trigger_id = trigger_id, .milestone = t->m->id, .customer_id = cr.id,
        .project_id = pr.id, .mobile = cr.mobile, .openid = cr.openid,
    };
    if (intake_insert_messages(s, &own, t->plans, t->nplans, now, ids))
        goto rollback;
    if (t->m->opens_ticket) {
        const cJSON *vars = cJSON_GetObjectItemCaseSensitive(t->doc, "variables");
        const char *reason = str_of(vars, "reason");
        struct ticket_new tn = {
            .trigger_id = trigger_id, .survey_id = t->survey_id, .customer_id = cr.id,
            .project_id = pr.id, .reason = t->survey_id > 0 ? "survey" : t->m->id,
            .detail = reason, .opened_at = now, .report_due_at = now + t->ticket_report_s,
            .answer_due_at = now + t->ticket_answer_s,
        };
        if (store_ticket_open(s, &tn, &t->ticket_id))
            goto rollback;
    }
    /* Staff tasks with deadlines (tasks.c): the refund procedure's steps. */
    cJSON *tasks = t->m->ntasks ? cJSON_CreateArray() : NULL;
    if (tasks && tasks_create(s, t->m, trigger_id, pr.id, cr.id, t->occurred_at, now, tasks)) {
        cJSON_Delete(tasks);
        goto rollback;
    }
    char *resp = response_json(t, trigger_id, ids, tasks);
    if (store_trigger_set_response(s, trigger_id, resp) || store_release(s)) {
        free(resp);
        goto rollback;
    }
    *status = 202;
    *response = resp;
    return t->nplans;
rollback:
    store_rollback_to(s);
dberr:
    *status = 500;
    *response = api_error_body("store_error", NULL, "the trigger could not be stored; retry");
    return 0;
}
