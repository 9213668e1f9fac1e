/*
 * tasks.c - staff tasks: opening them with a trigger, their clocks, the
 * reminder and escalation alerts, marking them done.
 */
#include "tasks.h"
#include "gateway.h"
#include "http_error.h"
#include "log.h"
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tasks_role_label(const char *role)
{
    static const struct {
        const char *role, *label;
    } labels[] = {
        {"cs_manager", "客服经理"}, {"pm", "项目经理"}, {"designer", "设计师"},
        {"foreman", "工长"},        {"supervisor", "监理"},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(labels); i++)
        if (strcmp(labels[i].role, role) == 0)
            return labels[i].label;
    return role;
}

/* ---- opening ------------------------------------------------------------- */

int tasks_create(struct store *s, const struct milestone *m, int64_t trigger_id,
                 const char *project_id, const char *customer_id, int64_t start, int64_t now,
                 cJSON *out)
{
    for (size_t i = 0; i < m->ntasks; i++) {
        const struct cat_task *ct = &m->tasks[i];
        struct task_new tn = {
            .trigger_id = trigger_id, .project_id = project_id, .customer_id = customer_id,
            .milestone = m->id, .task = ct->id, .title = ct->title,
            .role = recipient_role_name(ct->to),
            .after = ct->after >= 0 ? m->tasks[ct->after].id : NULL,
            .due_s = ct->due_ms / 1000, .remind_s = ct->remind_ms / 1000,
            .note_required = ct->note_required, .started_at = ct->after >= 0 ? -1 : start,
            .created_at = now,
        };
        int64_t id;
        if (store_task_insert(s, &tn, &id) != HF_OK)
            return HF_ERR_DB;
        if (!out)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)id);
        cJSON_AddStringToObject(o, "task", ct->id);
        cJSON_AddStringToObject(o, "title", ct->title);
        cJSON_AddStringToObject(o, "to", tn.role);
        if (tn.after)
            cJSON_AddStringToObject(o, "after", tn.after);
        else
            cJSON_AddNullToObject(o, "after");
        if (tn.started_at >= 0) {
            char iso[32];
            iso8601_format_local(start + tn.due_s, iso);
            cJSON_AddStringToObject(o, "due_at", iso);
        } else {
            cJSON_AddNullToObject(o, "due_at");
        }
        cJSON_AddItemToArray(out, o);
    }
    return HF_OK;
}

/* ---- reminders and escalations ------------------------------------------- */

struct alert_ctx {
    struct gateway *gw;
    int overdue;             /* 0 reminders, 1 escalations */
    int64_t now;
    int planned;
};

static enum recipient_role role_parse(const char *role)
{
    for (int r = RCPT_PM; r <= RCPT_CS_MANAGER; r++)
        if (strcmp(recipient_role_name((enum recipient_role)r), role) == 0)
            return (enum recipient_role)r;
    return RCPT_CS_MANAGER;
}

/* Plan @cm as an alert about task @t to @to; a project with nobody in that
 * role has the customer-service manager told instead (someone must hear
 * of the task). Returns the message id, 0 when nobody can be reached, -1
 * on a store error. Inside the caller's transaction. */
static int64_t plan_alert(struct alert_ctx *c, const struct task_row *t, const cJSON *doc,
                          const struct cat_message *cm, enum recipient_role to)
{
    const struct config *cfg = c->gw->cfg;
    const cJSON *staff = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "project"), "staff");
    const cJSON *rcpt = to == RCPT_CS_MANAGER
                            ? NULL
                            : cJSON_GetObjectItemCaseSensitive(staff, recipient_role_name(to));
    cJSON *mgr = NULL;
    if (!rcpt) {
        to = RCPT_CS_MANAGER;
        rcpt = mgr = plan_cs_manager(cfg);
    }
    const char *ch = rcpt ? plan_channel(cfg, to, rcpt) : NULL;
    int64_t due = plan_window_next(cfg, c->gw->cal, cm->window, c->now);
    int64_t id = 0;
    if (!ch || due < 0) {
        LOG_WARN("tasks", "task=%lld %s not sent: no channel reaches the %s", (long long)t->id,
                 c->overdue ? "escalation" : "reminder", recipient_role_name(to));
    } else {
        struct message_new mn = {
            .trigger_id = t->trigger_id, .milestone = t->milestone, .message = cm->id,
            .kind = msg_kind_name(cm->kind), .recipient = recipient_role_name(to),
            .channel = ch, .window = window_class_name(cm->window), .due_at = due,
            .expires_at = due + 86400,
        };
        if (store_message_insert(c->gw->store, &mn, &id) != HF_OK)
            id = -1;
    }
    cJSON_Delete(mgr);
    return id;
}

static void alert_one(void *arg, const struct task_row *t)
{
    struct alert_ctx *c = arg;
    struct gateway *gw = c->gw;
    char *body = NULL;
    cJSON *doc = NULL;
    if (store_trigger_body(gw->store, t->trigger_id, &body) == HF_OK)
        doc = cJSON_Parse(body);
    free(body);
    const struct milestone *m = catalogue_find(gw->cat, t->milestone);
    const struct cat_message *cm =
        m ? milestone_message_on(m, c->overdue ? "task_overdue" : "task_due") : NULL;
    if (store_begin(gw->store) != HF_OK) {
        cJSON_Delete(doc);
        return;
    }
    int64_t msg = 0;
    if (!cm || !doc)
        LOG_WARN("tasks", "task=%lld: no \"%s\" message in the catalogue for %s; not sent",
                 (long long)t->id, c->overdue ? "task_overdue" : "task_due", t->milestone);
    else
        /* The reminder goes to the task's role, the escalation to whom the
         * catalogue says (the customer-service manager). */
        msg = plan_alert(c, t, doc, cm, c->overdue ? cm->to : role_parse(t->role));
    cJSON_Delete(doc);
    if (msg < 0 || store_task_alerted(gw->store, t->id, c->overdue, msg) != HF_OK ||
        store_commit(gw->store) != HF_OK) {
        store_rollback(gw->store);
        return;
    }
    if (msg > 0)
        c->planned++;
    if (c->overdue)
        LOG_WARN("tasks", "task=%lld (%s) overdue since %lld, escalated message=%lld",
                 (long long)t->id, t->task, (long long)t->due_at, (long long)msg);
    else
        LOG_INFO("tasks", "task=%lld (%s) due at %lld, reminder message=%lld", (long long)t->id,
                 t->task, (long long)t->due_at, (long long)msg);
}

int tasks_cron(struct gateway *gw)
{
    struct alert_ctx c = {.gw = gw, .now = clock_now()};
    /* Escalations first: a task that is already overdue gets the
     * escalation, not a reminder that it is about to be due. */
    for (c.overdue = 1; c.overdue >= 0; c.overdue--)
        store_tasks_alerts_due(gw->store, c.now, c.overdue, alert_one, &c);
    return c.planned;
}

/* ---- marking done ----------------------------------------------------------- */

static char *task_json(struct gateway *gw, int64_t id)
{
    struct task_filter f = {.id = id};
    char *arr = store_tasks_json(gw->store, &f, clock_now());
    cJSON *a = arr ? cJSON_Parse(arr) : NULL;
    free(arr);
    cJSON *first = cJSON_IsArray(a) ? cJSON_DetachItemFromArray(a, 0) : NULL;
    cJSON_Delete(a);
    char *out = first ? cJSON_PrintUnformatted(first) : NULL;
    cJSON_Delete(first);
    return out;
}

int tasks_done(struct gateway *gw, int64_t id, const char *by, const char *note, char **json)
{
    struct store *s = gw->store;
    int64_t now = clock_now();
    struct task_row t;
    int rc = store_begin(s);
    if (rc != HF_OK)
        goto dberr;
    rc = store_task_get(s, id, &t);
    if (rc == HF_ERR_NOTFOUND) {
        store_rollback(s);
        *json = api_error_body("not_found", "id", "no such task");
        return 404;
    }
    if (rc != HF_OK)
        goto rollback;
    const char *conflict = t.done_at ? "the task is already done"
                           : !t.started_at ? "the task has not started: it waits for an earlier "
                                             "task to be done"
                                           : NULL;
    if (conflict) {
        store_rollback(s);
        *json = api_error_body(t.done_at ? "task_done" : "task_not_started", "id", conflict);
        return 409;
    }
    if (t.note_required && !note) {
        store_rollback(s);
        *json = api_error_body("missing_field", "note",
                               "note is required for this task: what was found (e.g. whether "
                               "the site became a private job)");
        return 400;
    }
    int changed = 0, started;
    if (store_task_done(s, id, by, note, now, &changed) != HF_OK || !changed ||
        (started = store_tasks_start_after(s, t.trigger_id, t.task, now)) < 0 ||
        store_commit(s) != HF_OK)
        goto rollback;
    LOG_INFO("tasks", "task=%lld (%s) done by %s; %d waiting task(s) started", (long long)id,
             t.task, by ? by : "-", started);
    *json = task_json(gw, id);
    return *json ? 200 : 500;
rollback:
    store_rollback(s);
dberr:
    *json = api_error_body("store_error", NULL, "the task could not be updated; retry");
    return 500;
}

/* ---- metrics ------------------------------------------------------------------ */

void tasks_metrics(struct gateway *gw, struct buf *b)
{
    int64_t n[6];
    if (store_task_counts(gw->store, clock_now(), n) != HF_OK)
        return;
    buf_puts(b, "# HELP huifang_tasks Staff tasks (refund procedure), by state.\n"
                "# TYPE huifang_tasks gauge\n");
    static const char *const states[] = {"waiting", "open", "overdue", "done"};
    for (int i = 0; i < 4; i++)
        buf_printf(b, "huifang_tasks{state=\"%s\"} %lld\n", states[i], (long long)n[i]);
    buf_puts(b, "# HELP huifang_task_alerts_total Task alerts planned, by kind.\n"
                "# TYPE huifang_task_alerts_total counter\n");
    buf_printf(b, "huifang_task_alerts_total{kind=\"reminder\"} %lld\n", (long long)n[4]);
    buf_printf(b, "huifang_task_alerts_total{kind=\"escalation\"} %lld\n", (long long)n[5]);
}
