/*
 * catalogue.c - loading and checking the milestone catalogue.
 *
 * File shape (config/milestones.json):
 *   {"milestones": {
 *      "completion": {
 *        "name": "竣工验收",
 *        "variables": ["stage"],                       (optional)
 *        "messages": [
 *          {"id": "notice", "kind": "notice", "to": "customer",
 *           "delay": "0", "day_offset": 0, "window": "notice",
 *           "after": "survey",                          (optional: base is that message's due time)
 *           "template": "completion/notice"}            (optional; default <milestone>/<id>)
 *        ],
 *        "schedules": [                                 (optional: messages of other milestones
 *          {"milestone": "weekly_checkin",                planned by this trigger)
 *           "from": "kickoff_date" | "occurred",
 *           "at_days": [7, 15]  or  "every_days": 7, "count": 26,
 *           "variables": {"scope": "水电"}}],             (optional)
 *        "ends": ["weekly_checkin"] | ["*"],             (optional: pending messages of the
 *                                                          project this trigger cancels)
 *        "tasks": [                                     (optional: staff tasks, see load_tasks)
 *          {"id": "contact", "title": "...", "to": "cs_manager", "due": "2h",
 *           "after": "paperwork", "remind": "30m", "note_required": true}
 *        ]}}}
 */
#include "catalogue.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char *const kind_names[] = {"notice", "survey", "alert"};
static const char *const role_names[] = {"customer", "pm", "designer", "foreman", "supervisor",
                                         "cs_manager"};
static const char *const window_names[] = {"notice", "survey", "any"};

const char *msg_kind_name(enum msg_kind k) { return kind_names[k]; }
const char *recipient_role_name(enum recipient_role r) { return role_names[r]; }
const char *window_class_name(enum window_class w) { return window_names[w]; }

static int name_index(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

int window_class_parse(const char *s, enum window_class *out)
{
    int i = name_index(window_names, HF_ARRAY_LEN(window_names), s);
    if (i < 0)
        return -1;
    *out = (enum window_class)i;
    return 0;
}

/* Variables every message of every milestone can use. Keep the README's
 * template section in step with this list. */
static const char *const common_vars[] = {
    "company.name", "company.phone",
    "customer.name", "customer.title",
    "project.id", "project.address", "project.kickoff_date",
    "staff.pm.name", "staff.pm.phone",
    "staff.designer.name", "staff.designer.phone",
    "staff.foreman.name", "staff.foreman.phone",
    "staff.supervisor.name", "staff.supervisor.phone",
    "milestone.id", "milestone.name",
    "occurred.date", "occurred.time",
};
static const char *const survey_vars[] = {"survey.link", "survey.expires", "survey.token"};
/* Staff alerts may show the customer's full number to the staff member. */
static const char *const alert_vars[] = {"customer.mobile", "ticket.id", "ticket.report_due",
                                         "ticket.answer_due", "task.id", "task.title",
                                         "task.due", "task.role"};

int catalogue_var_known(const struct milestone *m, enum msg_kind kind, const char *name)
{
    if (name_index(common_vars, HF_ARRAY_LEN(common_vars), name) >= 0)
        return 1;
    if (kind == KIND_SURVEY && name_index(survey_vars, HF_ARRAY_LEN(survey_vars), name) >= 0)
        return 1;
    if (kind == KIND_ALERT && name_index(alert_vars, HF_ARRAY_LEN(alert_vars), name) >= 0)
        return 1;
    if (strncmp(name, "vars.", 5) == 0)
        for (size_t i = 0; i < m->nvariables; i++)
            if (strcmp(m->variables[i], name + 5) == 0)
                return 1;
    return 0;
}

struct known_ctx {
    const struct milestone *m;
    enum msg_kind kind;
};

static int known_cb(void *arg, const char *name)
{
    const struct known_ctx *k = arg;
    return catalogue_var_known(k->m, k->kind, name);
}

static int valid_ident(const char *s)
{
    if (!*s || strlen(s) > 48)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static int check_keys(const cJSON *obj, const char *const *allowed, size_t n, const char *file,
                      const char *where, char *err, size_t errlen)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, obj) {
        if (name_index(allowed, n, v->string) < 0) {
            snprintf(err, errlen, "%s: %s.%s: unknown key", file, where, v->string);
            return -1;
        }
    }
    return 0;
}

static int load_message(struct catalogue *c, struct milestone *m, struct cat_message *cm,
                        const cJSON *j, const char *file, const char *tdir, const char *where,
                        char *err, size_t errlen)
{
    (void)c;
    static const char *const keys[] = {"id", "kind", "to", "delay", "day_offset", "window",
                                       "template", "after", "survey", "on", "fatigue_exempt"};
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "%s: %s: must be an object", file, where);
        return -1;
    }
    if (check_keys(j, keys, HF_ARRAY_LEN(keys), file, where, err, errlen))
        return -1;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(j, "to");
    const cJSON *delay = cJSON_GetObjectItemCaseSensitive(j, "delay");
    const cJSON *dayoff = cJSON_GetObjectItemCaseSensitive(j, "day_offset");
    const cJSON *window = cJSON_GetObjectItemCaseSensitive(j, "window");
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(j, "template");
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(j, "after");
    const cJSON *survey = cJSON_GetObjectItemCaseSensitive(j, "survey");
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(j, "on");
    const cJSON *exempt = cJSON_GetObjectItemCaseSensitive(j, "fatigue_exempt");
    if (exempt && !cJSON_IsBool(exempt)) {
        snprintf(err, errlen, "%s: %s.fatigue_exempt: must be true or false", file, where);
        return -1;
    }
    cm->fatigue_exempt = cJSON_IsTrue(exempt);
    if (on) {
        if (!cJSON_IsString(on) ||
            (strcmp(on->valuestring, "escalation") && strcmp(on->valuestring, "resolved") &&
             strcmp(on->valuestring, "answered_ok") && strcmp(on->valuestring, "task_due") &&
             strcmp(on->valuestring, "task_overdue"))) {
            snprintf(err, errlen,
                     "%s: %s.on: must be \"escalation\", \"resolved\", \"answered_ok\", "
                     "\"task_due\" or \"task_overdue\"", file, where);
            return -1;
        }
        cm->on = xstrdup(on->valuestring);
    }
    if (!cJSON_IsString(id) || !valid_ident(id->valuestring)) {
        snprintf(err, errlen, "%s: %s.id: must be a name of [a-z0-9_]", file, where);
        return -1;
    }
    cm->id = xstrdup(id->valuestring);
    int k = cJSON_IsString(kind) ? name_index(kind_names, 3, kind->valuestring) : -1;
    if (k < 0) {
        snprintf(err, errlen, "%s: %s.kind: must be notice, survey or alert", file, where);
        return -1;
    }
    cm->kind = (enum msg_kind)k;
    int r = cJSON_IsString(to) ? name_index(role_names, HF_ARRAY_LEN(role_names), to->valuestring)
                               : -1;
    if (r < 0) {
        snprintf(err, errlen,
                 "%s: %s.to: must be customer, pm, designer, foreman, supervisor or cs_manager",
                 file, where);
        return -1;
    }
    cm->to = (enum recipient_role)r;
    if ((cm->kind == KIND_ALERT) != (cm->to != RCPT_CUSTOMER)) {
        snprintf(err, errlen, "%s: %s.to: alerts go to staff, notices and surveys to the customer",
                 file, where);
        return -1;
    }
    cm->delay_ms = 0;
    if (delay && (!cJSON_IsString(delay) || duration_parse_ms(delay->valuestring, &cm->delay_ms))) {
        snprintf(err, errlen, "%s: %s.delay: must be a duration such as \"0\", \"2h\", \"1d\"",
                 file, where);
        return -1;
    }
    if (dayoff) {
        if (!cJSON_IsNumber(dayoff) || dayoff->valuedouble != (double)dayoff->valueint ||
            dayoff->valueint < 0 || dayoff->valueint > 3650) {
            snprintf(err, errlen, "%s: %s.day_offset: must be a whole number of days 0..3650",
                     file, where);
            return -1;
        }
        cm->day_offset = dayoff->valueint;
    }
    if (survey && (cm->kind != KIND_SURVEY || !cJSON_IsString(survey) ||
                   !valid_ident(survey->valuestring))) {
        snprintf(err, errlen, "%s: %s.survey: a survey definition id, only on survey messages",
                 file, where);
        return -1;
    }
    if (cm->kind == KIND_SURVEY)
        cm->survey = xstrdup(survey ? survey->valuestring : m->id);
    cm->after = -1;
    if (after) {
        /* m->nmsgs already counts this message: earlier ones are [0, nmsgs-1). */
        for (size_t i = 0; cJSON_IsString(after) && i + 1 < m->nmsgs; i++)
            if (strcmp(m->msgs[i].id, after->valuestring) == 0)
                cm->after = (int)i;
        if (cm->after < 0) {
            snprintf(err, errlen, "%s: %s.after: must name an earlier message of this milestone",
                     file, where);
            return -1;
        }
    }
    cm->window = cm->kind == KIND_SURVEY ? WINCLASS_SURVEY
                 : cm->kind == KIND_NOTICE ? WINCLASS_NOTICE
                                           : WINCLASS_ANY;
    if (window && (!cJSON_IsString(window) || window_class_parse(window->valuestring, &cm->window))) {
        snprintf(err, errlen, "%s: %s.window: must be notice, survey or any", file, where);
        return -1;
    }
    if (cm->kind != KIND_ALERT && cm->window == WINCLASS_ANY) {
        snprintf(err, errlen, "%s: %s.window: customers are never messaged at any hour", file,
                 where);
        return -1;
    }
    char tname[160];
    if (tmpl) {
        if (!cJSON_IsString(tmpl) || strstr(tmpl->valuestring, "..") ||
            tmpl->valuestring[0] == '/' || strlen(tmpl->valuestring) > 120) {
            snprintf(err, errlen, "%s: %s.template: must be a relative name like \"completion/notice\"",
                     file, where);
            return -1;
        }
        snprintf(tname, sizeof tname, "%s", tmpl->valuestring);
    } else {
        snprintf(tname, sizeof tname, "%s/%s", m->id, cm->id);
    }
    char *tpath = xasprintf("%s/%s.json", tdir, tname);
    struct known_ctx kc = {m, cm->kind};
    cm->tmpl = msg_template_load(tpath, tname, known_cb, &kc, err, errlen);
    free(tpath);
    if (!cm->tmpl) {
        /* err already names the template file; say who referenced it. */
        size_t n = strlen(err);
        snprintf(err + n, errlen > n ? errlen - n : 0, " (referenced by %s: %s)", file, where);
        return -1;
    }
    return 0;
}

/* The milestone's staff tasks (key "tasks"), e.g. seed 002's refund
 * procedure: [{"id": "contact", "title": "2小时内联系客户…", "to": "cs_manager",
 * "due": "2h"}, {"id": "private_check_1", …, "due": "15d", "after": "paperwork"}].
 * "due" counts from the trigger's occurred_at, or, with "after", from the
 * moment the earlier task is marked done. "remind" (default a quarter of
 * "due", at most a day) is how long before the due time the task's role
 * is reminded. Messages "on": "task_due" / "task_overdue" are the reminder
 * and the escalation; they need tasks, and alerts. */
static int load_tasks(struct milestone *m, const cJSON *tasks, const char *file,
                      const char *where, char *err, size_t errlen)
{
    static const char *const keys[] = {"id", "title", "to", "due", "after", "remind",
                                       "note_required"};
    for (size_t i = 0; i < m->nmsgs; i++) {
        const struct cat_message *cm = &m->msgs[i];
        if (!cm->on || strncmp(cm->on, "task_", 5) != 0)
            continue;
        if (!tasks) {
            snprintf(err, errlen, "%s: %s.messages[%zu].on: \"%s\" needs the milestone's tasks",
                     file, where, i, cm->on);
            return -1;
        }
        if (cm->kind != KIND_ALERT) {
            snprintf(err, errlen, "%s: %s.messages[%zu].on: \"%s\" messages are staff alerts",
                     file, where, i, cm->on);
            return -1;
        }
    }
    if (!tasks)
        return 0;
    if (!cJSON_IsArray(tasks) || cJSON_GetArraySize(tasks) == 0 ||
        cJSON_GetArraySize(tasks) > CATALOGUE_MAX_TASKS) {
        snprintf(err, errlen, "%s: %s.tasks: must be an array of 1 to %d tasks", file, where,
                 CATALOGUE_MAX_TASKS);
        return -1;
    }
    m->tasks = xcalloc((size_t)cJSON_GetArraySize(tasks), sizeof *m->tasks);
    const cJSON *tj;
    cJSON_ArrayForEach(tj, tasks) {
        char tw[160];
        snprintf(tw, sizeof tw, "%s.tasks[%zu]", where, m->ntasks);
        struct cat_task *t = &m->tasks[m->ntasks++];
        t->after = -1;
        if (!cJSON_IsObject(tj)) {
            snprintf(err, errlen, "%s: %s: must be an object", file, tw);
            return -1;
        }
        if (check_keys(tj, keys, HF_ARRAY_LEN(keys), file, tw, err, errlen))
            return -1;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(tj, "id");
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(tj, "title");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(tj, "to");
        const cJSON *due = cJSON_GetObjectItemCaseSensitive(tj, "due");
        const cJSON *after = cJSON_GetObjectItemCaseSensitive(tj, "after");
        const cJSON *remind = cJSON_GetObjectItemCaseSensitive(tj, "remind");
        const cJSON *note = cJSON_GetObjectItemCaseSensitive(tj, "note_required");
        if (!cJSON_IsString(id) || !valid_ident(id->valuestring)) {
            snprintf(err, errlen, "%s: %s.id: must be a name of [a-z0-9_]", file, tw);
            return -1;
        }
        t->id = xstrdup(id->valuestring);
        for (size_t i = 0; i + 1 < m->ntasks; i++) {
            if (strcmp(m->tasks[i].id, t->id) == 0) {
                snprintf(err, errlen, "%s: %s.id: '%s' is used twice", file, tw, t->id);
                return -1;
            }
        }
        if (!cJSON_IsString(title) || !*title->valuestring ||
            utf8_chars(title->valuestring) > 100) {
            snprintf(err, errlen, "%s: %s.title: must be 1 to 100 characters", file, tw);
            return -1;
        }
        t->title = xstrdup(title->valuestring);
        int r = cJSON_IsString(to) ? name_index(role_names, HF_ARRAY_LEN(role_names),
                                                to->valuestring)
                                   : -1;
        if (r <= (int)RCPT_CUSTOMER) {
            snprintf(err, errlen,
                     "%s: %s.to: must be pm, designer, foreman, supervisor or cs_manager", file,
                     tw);
            return -1;
        }
        t->to = (enum recipient_role)r;
        if (!cJSON_IsString(due) || duration_parse_ms(due->valuestring, &t->due_ms) ||
            t->due_ms < 1000) {
            snprintf(err, errlen, "%s: %s.due: must be a duration of at least 1s, e.g. \"2h\", "
                     "\"5d\"", file, tw);
            return -1;
        }
        t->remind_ms = t->due_ms / 4 < 86400000 ? t->due_ms / 4 : 86400000;
        if (remind && (!cJSON_IsString(remind) ||
                       duration_parse_ms(remind->valuestring, &t->remind_ms) ||
                       t->remind_ms > t->due_ms)) {
            snprintf(err, errlen, "%s: %s.remind: must be a duration no longer than due", file,
                     tw);
            return -1;
        }
        if (after) {
            for (size_t i = 0; cJSON_IsString(after) && i + 1 < m->ntasks; i++)
                if (strcmp(m->tasks[i].id, after->valuestring) == 0)
                    t->after = (int)i;
            if (t->after < 0) {
                snprintf(err, errlen, "%s: %s.after: must name an earlier task of this milestone",
                         file, tw);
                return -1;
            }
        }
        if (note && !cJSON_IsBool(note)) {
            snprintf(err, errlen, "%s: %s.note_required: must be true or false", file, tw);
            return -1;
        }
        t->note_required = cJSON_IsTrue(note);
    }
    return 0;
}

static int load_schedule(struct cat_schedule *sc, const cJSON *j, const char *file,
                         const char *where, char *err, size_t errlen)
{
    static const char *const keys[] = {"milestone", "from", "at_days", "every_days", "count",
                                       "variables"};
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "%s: %s: must be an object", file, where);
        return -1;
    }
    if (check_keys(j, keys, HF_ARRAY_LEN(keys), file, where, err, errlen))
        return -1;
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(j, "milestone");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(j, "from");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "at_days");
    const cJSON *every = cJSON_GetObjectItemCaseSensitive(j, "every_days");
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(j, "count");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(j, "variables");
    if (!cJSON_IsString(ms) || !valid_ident(ms->valuestring)) {
        snprintf(err, errlen, "%s: %s.milestone: must name a milestone of the catalogue", file,
                 where);
        return -1;
    }
    sc->milestone = xstrdup(ms->valuestring);
    if (!cJSON_IsString(from) || (strcmp(from->valuestring, "kickoff_date") &&
                                  strcmp(from->valuestring, "occurred"))) {
        snprintf(err, errlen, "%s: %s.from: must be \"kickoff_date\" or \"occurred\"", file,
                 where);
        return -1;
    }
    sc->from_kickoff = strcmp(from->valuestring, "kickoff_date") == 0;
    if (!at == !every || (every && !count) || (count && !every)) {
        snprintf(err, errlen, "%s: %s: give either at_days or every_days with count", file, where);
        return -1;
    }
    if (at) {
        int n = cJSON_IsArray(at) ? cJSON_GetArraySize(at) : 0;
        if (n < 1 || n > CATALOGUE_MAX_OCCURRENCES) {
            snprintf(err, errlen, "%s: %s.at_days: must be an array of 1 to %d day numbers", file,
                     where, CATALOGUE_MAX_OCCURRENCES);
            return -1;
        }
        sc->at_days = xcalloc((size_t)n, sizeof *sc->at_days);
        const cJSON *v;
        cJSON_ArrayForEach(v, at) {
            if (!cJSON_IsNumber(v) || v->valuedouble != (double)v->valueint || v->valueint < 0 ||
                v->valueint > 3650 || (sc->nat && v->valueint <= sc->at_days[sc->nat - 1])) {
                snprintf(err, errlen,
                         "%s: %s.at_days: whole days 0..3650 in ascending order, each once", file,
                         where);
                return -1;
            }
            sc->at_days[sc->nat++] = v->valueint;
        }
    } else {
        if (!cJSON_IsNumber(every) || every->valuedouble != (double)every->valueint ||
            every->valueint < 1 || every->valueint > 366) {
            snprintf(err, errlen, "%s: %s.every_days: must be a whole number of days 1..366",
                     file, where);
            return -1;
        }
        if (!cJSON_IsNumber(count) || count->valuedouble != (double)count->valueint ||
            count->valueint < 1 || count->valueint > CATALOGUE_MAX_OCCURRENCES ||
            (int64_t)every->valueint * count->valueint > 3650) {
            snprintf(err, errlen, "%s: %s.count: must be 1..%d occurrences within 10 years", file,
                     where, CATALOGUE_MAX_OCCURRENCES);
            return -1;
        }
        sc->every_days = every->valueint;
        sc->count = count->valueint;
    }
    if (vars) {
        const cJSON *v;
        int ok = cJSON_IsObject(vars);
        cJSON_ArrayForEach(v, vars)
            ok = ok && valid_ident(v->string) && cJSON_IsString(v) && *v->valuestring;
        if (!ok) {
            snprintf(err, errlen, "%s: %s.variables: an object of name: non-empty text", file,
                     where);
            return -1;
        }
        sc->vars = cJSON_PrintUnformatted(vars);
        if (strlen(sc->vars) > 200) {
            snprintf(err, errlen, "%s: %s.variables: at most 200 bytes of JSON", file, where);
            return -1;
        }
    }
    return 0;
}

/* The "schedules" and "ends" of a milestone (resolved against the whole
 * catalogue by resolve_schedules once every milestone is loaded). */
static int load_schedules(struct milestone *m, const cJSON *sched, const cJSON *ends,
                          const char *file, const char *where, char *err, size_t errlen)
{
    if (sched) {
        int n = cJSON_IsArray(sched) ? cJSON_GetArraySize(sched) : 0;
        if (n < 1 || n > 8) {
            snprintf(err, errlen, "%s: %s.schedules: must be an array of 1 to 8 schedules", file,
                     where);
            return -1;
        }
        m->schedules = xcalloc((size_t)n, sizeof *m->schedules);
        const cJSON *sj;
        cJSON_ArrayForEach(sj, sched) {
            char swhere[160];
            snprintf(swhere, sizeof swhere, "%s.schedules[%zu]", where, m->nschedules);
            if (load_schedule(&m->schedules[m->nschedules++], sj, file, swhere, err, errlen))
                return -1;
        }
    }
    if (ends) {
        int n = cJSON_IsArray(ends) ? cJSON_GetArraySize(ends) : 0;
        if (n < 1) {
            snprintf(err, errlen, "%s: %s.ends: must be an array of milestone ids, or [\"*\"]",
                     file, where);
            return -1;
        }
        m->ends = xcalloc((size_t)n, sizeof *m->ends);
        const cJSON *v;
        cJSON_ArrayForEach(v, ends) {
            if (cJSON_IsString(v) && strcmp(v->valuestring, "*") == 0 && n == 1) {
                m->ends_all = 1;
                continue;
            }
            if (!cJSON_IsString(v) || !valid_ident(v->valuestring)) {
                snprintf(err, errlen,
                         "%s: %s.ends: must be an array of milestone ids, or [\"*\"] alone",
                         file, where);
                return -1;
            }
            m->ends[m->nends++] = xstrdup(v->valuestring);
        }
    }
    return 0;
}

/* The milestone @id among the first @n. */
static const struct milestone *catalogue_find_n(const struct catalogue *c, const char *id, size_t n);

/* Every schedule and "ends" names a milestone of the catalogue; a
 * scheduled milestone plans nothing further (no chains, no loops) and has
 * no event messages of its own to plan. */
static int resolve_schedules(struct catalogue *c, const char *file, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->n; i++) {
        struct milestone *m = &c->ms[i];
        for (size_t k = 0; k < m->nschedules; k++) {
            struct cat_schedule *sc = &m->schedules[k];
            sc->ms = catalogue_find_n(c, sc->milestone, c->n);
            if (!sc->ms || sc->ms == m) {
                snprintf(err, errlen, "%s: milestones.%s.schedules[%zu].milestone: '%s' %s", file,
                         m->id, k, sc->milestone,
                         sc->ms ? "cannot schedule itself" : "is not in the catalogue");
                return -1;
            }
            if (sc->ms->nschedules || sc->ms->opens_ticket) {
                snprintf(err, errlen,
                         "%s: milestones.%s.schedules[%zu].milestone: '%s' has schedules or "
                         "opens tickets: it cannot be scheduled",
                         file, m->id, k, sc->milestone);
                return -1;
            }
            if (sc->vars) {
                /* Every variable the scheduled milestone requires must come from here. */
                cJSON *v = cJSON_Parse(sc->vars);
                for (size_t x = 0; x < sc->ms->nvariables; x++) {
                    if (!cJSON_GetObjectItemCaseSensitive(v, sc->ms->variables[x])) {
                        snprintf(err, errlen,
                                 "%s: milestones.%s.schedules[%zu].variables: '%s' needs '%s'",
                                 file, m->id, k, sc->milestone, sc->ms->variables[x]);
                        cJSON_Delete(v);
                        return -1;
                    }
                }
                cJSON_Delete(v);
            } else if (sc->ms->nvariables) {
                snprintf(err, errlen,
                         "%s: milestones.%s.schedules[%zu].variables: '%s' needs '%s'", file,
                         m->id, k, sc->milestone, sc->ms->variables[0]);
                return -1;
            }
        }
        for (size_t k = 0; k < m->nends; k++) {
            if (!catalogue_find_n(c, m->ends[k], c->n)) {
                snprintf(err, errlen, "%s: milestones.%s.ends: '%s' is not in the catalogue",
                         file, m->id, m->ends[k]);
                return -1;
            }
        }
    }
    return 0;
}

static int load_milestone(struct catalogue *c, struct milestone *m, const cJSON *j,
                          const char *file, const char *tdir, char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "variables", "messages", "opens_ticket",
                                       "schedules", "ends", "campaign", "tasks"};
    char where[128];
    snprintf(where, sizeof where, "milestones.%s", m->id);
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "%s: %s: must be an object", file, where);
        return -1;
    }
    if (check_keys(j, keys, HF_ARRAY_LEN(keys), file, where, err, errlen))
        return -1;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(j, "variables");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
    const cJSON *ticket = cJSON_GetObjectItemCaseSensitive(j, "opens_ticket");
    if (ticket && !cJSON_IsBool(ticket)) {
        snprintf(err, errlen, "%s: %s.opens_ticket: must be true or false", file, where);
        return -1;
    }
    m->opens_ticket = cJSON_IsTrue(ticket);
    const cJSON *campaign = cJSON_GetObjectItemCaseSensitive(j, "campaign");
    if (campaign && !cJSON_IsBool(campaign)) {
        snprintf(err, errlen, "%s: %s.campaign: must be true or false", file, where);
        return -1;
    }
    m->campaign = cJSON_IsTrue(campaign);
    if (load_schedules(m, cJSON_GetObjectItemCaseSensitive(j, "schedules"),
                       cJSON_GetObjectItemCaseSensitive(j, "ends"), file, where, err, errlen))
        return -1;
    if (!cJSON_IsString(name) || !*name->valuestring) {
        snprintf(err, errlen, "%s: %s.name: must be a non-empty string", file, where);
        return -1;
    }
    m->name = xstrdup(name->valuestring);
    if (vars) {
        if (!cJSON_IsArray(vars)) {
            snprintf(err, errlen, "%s: %s.variables: must be an array of names", file, where);
            return -1;
        }
        m->variables = xcalloc((size_t)cJSON_GetArraySize(vars) + 1, sizeof(char *));
        const cJSON *v;
        cJSON_ArrayForEach(v, vars) {
            if (!cJSON_IsString(v) || !valid_ident(v->valuestring)) {
                snprintf(err, errlen, "%s: %s.variables: names must be [a-z0-9_]", file, where);
                return -1;
            }
            m->variables[m->nvariables++] = xstrdup(v->valuestring);
        }
    }
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0 ||
        cJSON_GetArraySize(msgs) > CATALOGUE_MAX_MESSAGES) {
        snprintf(err, errlen, "%s: %s.messages: must be an array of 1 to %d messages", file, where,
                 CATALOGUE_MAX_MESSAGES);
        return -1;
    }
    m->msgs = xcalloc((size_t)cJSON_GetArraySize(msgs), sizeof *m->msgs);
    const cJSON *mj;
    cJSON_ArrayForEach(mj, msgs) {
        char mwhere[160];
        snprintf(mwhere, sizeof mwhere, "%s.messages[%zu]", where, m->nmsgs);
        struct cat_message *cm = &m->msgs[m->nmsgs++];
        if (load_message(c, m, cm, mj, file, tdir, mwhere, err, errlen))
            return -1;
        if (m->campaign && (cm->kind != KIND_NOTICE || cm->on)) {
            snprintf(err, errlen, "%s: %s.kind: a campaign sends notices to its customers only",
                     file, mwhere);
            return -1;
        }
        for (size_t i = 0; i + 1 < m->nmsgs; i++) {
            if (strcmp(m->msgs[i].id, cm->id) == 0) {
                snprintf(err, errlen, "%s: %s.id: '%s' is used twice", file, mwhere, cm->id);
                return -1;
            }
        }
    }
    return load_tasks(m, cJSON_GetObjectItemCaseSensitive(j, "tasks"), file, where, err, errlen);
}

static const struct milestone *catalogue_find_n(const struct catalogue *c, const char *id, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c->ms[i].id, id) == 0)
            return &c->ms[i];
    return NULL;
}

struct catalogue *catalogue_load(const char *path, const char *templates_dir, char *err,
                                 size_t errlen)
{
    struct catalogue *c = xcalloc(1, sizeof *c);
    cJSON *root = NULL;
    struct buf b;
    buf_init(&b);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    root = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
    if (!root || !cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: not a valid JSON object", path);
        goto fail;
    }
    static const char *const top[] = {"milestones", "_comment"};
    if (check_keys(root, top, HF_ARRAY_LEN(top), path, "(top)", err, errlen))
        goto fail;
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(root, "milestones");
    if (!cJSON_IsObject(ms) || cJSON_GetArraySize(ms) == 0) {
        snprintf(err, errlen, "%s: milestones: must be a non-empty object", path);
        goto fail;
    }
    c->ms = xcalloc((size_t)cJSON_GetArraySize(ms), sizeof *c->ms);
    const cJSON *mj;
    cJSON_ArrayForEach(mj, ms) {
        struct milestone *m = &c->ms[c->n++];
        m->id = xstrdup(mj->string);
        if (!valid_ident(m->id)) {
            snprintf(err, errlen, "%s: milestones.%s: milestone ids must be [a-z0-9_]", path, m->id);
            goto fail;
        }
        if (c->n > 1 && catalogue_find_n(c, m->id, c->n - 1)) {
            snprintf(err, errlen, "%s: milestones.%s: milestone id is used twice", path, m->id);
            goto fail;
        }
        if (load_milestone(c, m, mj, path, templates_dir, err, errlen))
            goto fail;
        if (m->campaign && (m->nschedules || m->nends || m->ends_all || m->opens_ticket)) {
            snprintf(err, errlen,
                     "%s: milestones.%s.campaign: a campaign has no schedules, ends or tickets",
                     path, m->id);
            goto fail;
        }
    }
    if (resolve_schedules(c, path, err, errlen))
        goto fail;
    cJSON_Delete(root);
    buf_cleanup(&b);
    return c;
fail:
    cJSON_Delete(root);
    buf_cleanup(&b);
    catalogue_free(c);
    return NULL;
}

void catalogue_free(struct catalogue *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        struct milestone *m = &c->ms[i];
        free(m->id);
        free(m->name);
        for (size_t v = 0; v < m->nvariables; v++)
            free(m->variables[v]);
        free(m->variables);
        for (size_t k = 0; k < m->nmsgs; k++) {
            free(m->msgs[k].id);
            free(m->msgs[k].survey);
            free(m->msgs[k].on);
            msg_template_free(m->msgs[k].tmpl);
        }
        free(m->msgs);
        for (size_t k = 0; k < m->ntasks; k++) {
            free(m->tasks[k].id);
            free(m->tasks[k].title);
        }
        free(m->tasks);
        for (size_t k = 0; k < m->nschedules; k++) {
            free(m->schedules[k].milestone);
            free(m->schedules[k].at_days);
            free(m->schedules[k].vars);
        }
        free(m->schedules);
        for (size_t k = 0; k < m->nends; k++)
            free(m->ends[k]);
        free(m->ends);
    }
    free(c->ms);
    free(c);
}

const struct milestone *catalogue_find(const struct catalogue *c, const char *id)
{
    return catalogue_find_n(c, id, c->n);
}

const struct cat_message *milestone_find_message(const struct milestone *m, const char *id)
{
    for (size_t i = 0; i < m->nmsgs; i++)
        if (strcmp(m->msgs[i].id, id) == 0)
            return &m->msgs[i];
    return NULL;
}

const struct cat_message *milestone_message_on(const struct milestone *m, const char *on)
{
    for (size_t i = 0; i < m->nmsgs; i++)
        if (m->msgs[i].on && strcmp(m->msgs[i].on, on) == 0)
            return &m->msgs[i];
    return NULL;
}
