/*
 * plan.c - channel choice, due times and send windows for planned messages.
 */
#include "plan.h"
#include "adapter.h"
#include "util.h"
#include "windows.h"

#include <stdio.h>
#include <string.h>

static const struct window_def always_open = {.any_time = 1};

static const struct window_def *window_for(const struct config *cfg, enum window_class w)
{
    switch (w) {
    case WINCLASS_SURVEY: return &cfg->win_survey;
    case WINCLASS_NOTICE: return &cfg->win_notice;
    case WINCLASS_ANY: break;
    }
    return &always_open;
}

int64_t plan_window_next(const struct config *cfg, const struct calendar *cal,
                         enum window_class w, int64_t t)
{
    return window_next_open(window_for(cfg, w), cal, t);
}

int plan_window_contains(const struct config *cfg, const struct calendar *cal,
                         enum window_class w, int64_t t)
{
    return window_contains(window_for(cfg, w), cal, t);
}

int plan_preferred_window(const struct config *cfg, const char *pref, struct window_def *out)
{
    struct window_def w;
    if (!pref || window_parse_list(pref, &w))
        return -1;
    for (int i = 0; i < w.nspans; i++) {
        int inside = 0;
        for (int k = 0; k < cfg->win_notice.nspans && !inside; k++)
            inside = cfg->win_notice.spans[k].start_min <= w.spans[i].start_min &&
                     w.spans[i].end_min <= cfg->win_notice.spans[k].end_min;
        if (!inside && !cfg->win_notice.any_time)
            return -1; /* never at night: inside the notice hours */
    }
    w.workdays_only = cfg->win_survey.workdays_only;
    *out = w;
    return 0;
}

/* A usable preference of a customer survey, else NULL. */
static const struct window_def *preferred(const struct config *cfg, const char *pref,
                                          struct window_def *buf)
{
    return pref && *pref && plan_preferred_window(cfg, pref, buf) == 0 ? buf : NULL;
}

/* The window a message goes in: the customer's preference, else its class. */
static const struct window_def *message_window(const struct config *cfg, const char *window,
                                               const char *pref, struct window_def *buf)
{
    const struct window_def *p = preferred(cfg, pref, buf);
    if (p)
        return p;
    enum window_class wc = WINCLASS_ANY;
    window_class_parse(window, &wc);
    return window_for(cfg, wc);
}

int64_t plan_message_next(const struct config *cfg, const struct calendar *cal,
                          const char *window, const char *pref, int64_t t)
{
    struct window_def buf;
    return window_next_open(message_window(cfg, window, pref, &buf), cal, t);
}

int plan_message_contains(const struct config *cfg, const struct calendar *cal,
                          const char *window, const char *pref, int64_t t)
{
    struct window_def buf;
    return window_contains(message_window(cfg, window, pref, &buf), cal, t);
}

static const char *usable(const struct config *cfg, const char *name, const cJSON *recipient)
{
    const struct channel_adapter *a = adapter_for_channel(cfg, name);
    if (a && a->enabled(cfg) && a->can_reach(cfg, recipient))
        return a->channel;
    return NULL;
}

static int has_string(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && *v->valuestring;
}

const char *plan_channel(const struct config *cfg, enum recipient_role role,
                         const cJSON *recipient)
{
    const char *c = NULL;
    if (role == RCPT_CUSTOMER) {
        const cJSON *pref = cJSON_GetObjectItemCaseSensitive(recipient, "preferred_channel");
        if (cJSON_IsString(pref))
            c = usable(cfg, pref->valuestring, recipient);
        if (!c && has_string(recipient, "wechat_openid"))
            c = usable(cfg, "wechat", recipient);
    } else if (has_string(recipient, "wecom_id")) {
        c = usable(cfg, "wecom", recipient);
    }
    if (!c && role == RCPT_CUSTOMER && has_string(recipient, "mobile")) {
        c = usable(cfg, "sms", recipient);
    } else if (!c && has_string(recipient, "phone")) {
        /* Staff carry "phone"; adapters read "mobile" (as dispatch gives it). */
        cJSON *r = cJSON_Duplicate(recipient, 1);
        if (!has_string(r, "mobile"))
            cJSON_AddStringToObject(r, "mobile",
                                    cJSON_GetObjectItemCaseSensitive(recipient, "phone")->valuestring);
        c = usable(cfg, "sms", r);
        cJSON_Delete(r);
    }
    if (!c)
        c = usable(cfg, "webhook", recipient);
    return c;
}

int plan_milestone(const struct config *cfg, const struct calendar *cal,
                   const struct milestone *m, int64_t occurred_at, int64_t now,
                   const cJSON *customer, const cJSON *staff, struct planned *out, size_t max,
                   char *err, size_t errlen)
{
    return plan_event(cfg, cal, m, NULL, occurred_at, now, customer, staff, out, max, err,
                      errlen);
}

/* Plan one catalogue message counted from @base. Returns 1 planned, 0 when
 * there is nobody to send it to (no such staff member, no cs manager), -1
 * with @err set. @mgr caches the cs manager recipient (caller frees). */
static int plan_one(const struct config *cfg, const struct calendar *cal,
                    const struct cat_message *cm, int64_t base, int64_t now, const cJSON *customer,
                    const cJSON *staff, cJSON **mgr, struct planned *out, char *err, size_t errlen)
{
    const cJSON *rcpt = customer;
    if (cm->to == RCPT_CS_MANAGER) {
        rcpt = *mgr = *mgr ? *mgr : plan_cs_manager(cfg);
    } else if (cm->to != RCPT_CUSTOMER) {
        rcpt = staff ? cJSON_GetObjectItemCaseSensitive(staff, recipient_role_name(cm->to)) : NULL;
    }
    if (!rcpt)
        return 0; /* the project has no such staff member, or no cs manager: nobody to alert */
    const char *ch = plan_channel(cfg, cm->to, rcpt);
    if (!ch) {
        snprintf(err, errlen, "no enabled channel can reach the %s for message '%s'",
                 recipient_role_name(cm->to), cm->id);
        return -1;
    }
    if (cm->day_offset)
        base = local_day_start(base, cm->day_offset);
    base += cm->delay_ms / 1000;
    if (base < now)
        base = now; /* a late trigger sends now, never in the past */
    /* A customer's own preferred time replaces the survey window. */
    const char *pref = cm->kind == KIND_SURVEY && cm->to == RCPT_CUSTOMER
                           ? cJSON_GetStringValue(
                                 cJSON_GetObjectItemCaseSensitive(customer, "preferred_time"))
                           : NULL;
    int64_t due = plan_message_next(cfg, cal, window_class_name(cm->window), pref, base);
    if (due < 0) {
        snprintf(err, errlen, "window '%s' never opens for message '%s'",
                 window_class_name(cm->window), cm->id);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->cm = cm;
    out->channel = ch;
    out->due_at = due;
    switch (cm->kind) {
    case KIND_SURVEY: out->expires_at = due + cfg->survey_validity_ms / 1000; break;
    case KIND_NOTICE: out->expires_at = due + cfg->notice_ttl_ms / 1000; break;
    case KIND_ALERT: out->expires_at = due + 86400; break;
    }
    return 1;
}

/* Plan the messages of @m (those of @event, or the trigger's own when
 * @event is NULL) from @occurred_at into @out; each "after" message counts
 * from its predecessor's due time. Returns how many, or -1. */
static int plan_messages(const struct config *cfg, const struct calendar *cal,
                         const struct milestone *m, const char *event, int64_t occurred_at,
                         int64_t now, const cJSON *customer, const cJSON *staff, cJSON **mgr,
                         struct planned *out, size_t max, char *err, size_t errlen)
{
    size_t n = 0;
    int64_t due_of[CATALOGUE_MAX_MESSAGES]; /* per catalogue message, -1 if not planned */
    for (size_t i = 0; i < m->nmsgs; i++) {
        due_of[i] = -1;
        const struct cat_message *cm = &m->msgs[i];
        if (event ? !cm->on || strcmp(cm->on, event) != 0 : cm->on != NULL)
            continue; /* another event's message (or the trigger's) */
        int64_t base = occurred_at;
        if (cm->after >= 0 && due_of[cm->after] >= 0)
            base = due_of[cm->after];
        if (n >= max) {
            snprintf(err, errlen, "more than %zu messages planned at once", max);
            return -1;
        }
        int r = plan_one(cfg, cal, cm, base, now, customer, staff, mgr, &out[n], err, errlen);
        if (r < 0)
            return -1;
        if (r > 0) {
            /* cppcheck-suppress unreadVariable ; read by later messages (cm->after) */
            due_of[i] = out[n++].due_at;
        }
    }
    return (int)n;
}

int plan_event(const struct config *cfg, const struct calendar *cal, const struct milestone *m,
               const char *event, int64_t occurred_at, int64_t now, const cJSON *customer,
               const cJSON *staff, struct planned *out, size_t max, char *err, size_t errlen)
{
    cJSON *mgr = NULL; /* the cs manager as a recipient, built when needed */
    int n = plan_messages(cfg, cal, m, event, occurred_at, now, customer, staff, &mgr, out, max,
                          err, errlen);
    cJSON_Delete(mgr);
    return n;
}

int plan_schedules(const struct config *cfg, const struct calendar *cal,
                   const struct milestone *m, int64_t occurred_at, const char *kickoff_date,
                   int64_t now, const cJSON *customer, const cJSON *staff, struct planned *out,
                   size_t max, char *err, size_t errlen)
{
    size_t n = 0;
    cJSON *mgr = NULL;
    int64_t today = local_day_start(now, 0);
    for (size_t k = 0; k < m->nschedules; k++) {
        const struct cat_schedule *sc = &m->schedules[k];
        int y, mo, d;
        int64_t from = local_day_start(occurred_at, 0);
        if (sc->from_kickoff && kickoff_date && date_parse(kickoff_date, &y, &mo, &d) == 0)
            from = local_date_start(y, mo, d);
        int occurrences = sc->at_days ? (int)sc->nat : sc->count;
        for (int o = 0; o < occurrences; o++) {
            int days = sc->at_days ? sc->at_days[o] : (o + 1) * sc->every_days;
            int64_t day = local_day_start(from, days);
            if (day < today)
                continue; /* its day has passed: a schedule never sends late */
            int got = plan_messages(cfg, cal, sc->ms, NULL, day, now, customer, staff, &mgr,
                                    out + n, max - n, err, errlen);
            if (got < 0) {
                cJSON_Delete(mgr);
                return -1;
            }
            for (int i = 0; i < got; i++) {
                out[n + (size_t)i].ms = sc->ms;
                out[n + (size_t)i].vars = sc->vars;
                out[n + (size_t)i].occurrence = o + 1;
            }
            n += (size_t)got;
        }
    }
    cJSON_Delete(mgr);
    return (int)n;
}

cJSON *plan_cs_manager(const struct config *cfg)
{
    if (!cfg->cs_manager_name && !cfg->cs_manager_wecom_id && !cfg->cs_manager_phone)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", cfg->cs_manager_name ? cfg->cs_manager_name : "客服经理");
    if (cfg->cs_manager_wecom_id)
        cJSON_AddStringToObject(o, "wecom_id", cfg->cs_manager_wecom_id);
    if (cfg->cs_manager_phone) {
        char norm[12];
        if (mobile_normalize(cfg->cs_manager_phone, norm)) {
            cJSON_AddStringToObject(o, "phone", norm);
            cJSON_AddStringToObject(o, "mobile", norm);
        }
    }
    return o;
}
