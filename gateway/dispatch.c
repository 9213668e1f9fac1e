/*
 * dispatch.c - claiming due messages, rendering, sending, recording.
 *
 * Life of a message here:
 *   pending --claim--> sending --answer--> sent | pending (retry) | failed
 *                         \--outside window / expired--> pending | expired
 * A crash leaves claimed messages in "sending"; the next start puts them
 * back to "pending" (store_requeue_inflight) and they are sent again with
 * the same provider-side dedup id (Idempotency-Key hf-<id>), so the
 * provider sees one message.
 */
#include "dispatch.h"
#include "adapter.h"
#include "gateway.h"
#include "log.h"
#include "outbound.h"
#include "plan.h"
#include "ratelimit.h"
#include "survey_token.h"
#include "tasks.h"
#include "tokens.h"
#include "util.h"
#include "windows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dispatcher {
    struct gateway *gw;
    ev_timer timer;          /* next due message / next batch */
    size_t in_flight;        /* jobs claimed and not finished (waiting for a token included) */
    int stopped;             /* shutdown: claim nothing new */
    struct message_row *rows;/* claim buffer, batch_size rows */
    int rows_cap;
    struct bucket buckets[8];/* per adapter (registry order): our requests per second */
    struct number_limits *numbers; /* SMS per mobile number */
    struct finished *done;   /* attempts finished this loop iteration, not yet committed */
    size_t ndone, done_cap;
};

/* A finished attempt waiting for the iteration's commit; owns its strings. */
struct finished {
    struct attempt_rec a;
    const char *state;       /* one of the MSG_* constants */
    int64_t next, now;
};

/* One message in flight. */
struct send_job {
    struct dispatcher *d;
    struct message_row row;
    const struct channel_adapter *adapter;
    cJSON *recipient;        /* owned */
    cJSON *project;          /* owned */
    cJSON *rendered;         /* owned */
    char link[256];
    char token[TOKEN_MAX];   /* the access token this attempt used, "" if none */
    char extend[8];          /* SMS survey extension code, "" if none */
    int token_retried;       /* already resent once after an invalid token */
    int64_t started_ms;      /* wall clock, for the attempts table */
};

int64_t dispatch_receipt_grace_s(const struct config *cfg)
{
    if (cfg->receipt_grace_ms <= 0 || !cfg->callback_token || !cfg->sms_provider ||
        strcmp(cfg->sms_provider, "aliyun") != 0)
        return 0;
    return (cfg->receipt_grace_ms + 999) / 1000;
}

int64_t dispatch_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint64_t rnd)
{
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    int64_t half = d / 2;
    return half + (int64_t)(rnd % (uint64_t)(d - half + 1));
}

/* ---- rendering ---------------------------------------------------------- */

struct render_ctx {
    const struct config *cfg;
    const struct milestone *m;
    const cJSON *doc;        /* the trigger body */
    const cJSON *mvars;      /* a scheduled message's own variables, or NULL */
    const char *link;        /* or NULL */
    char token[SURVEY_TOKEN_MAX]; /* the signed survey token, "" if none */
    char ticket_id[24];      /* the complaint ticket of this trigger, "" if none */
    char report_due[32];     /* "11月24日 17:05" */
    char answer_due[32];
    char occurred_date[32];  /* "11月24日" */
    char occurred_time[8];   /* "10:30" */
    char expires[32];        /* "12月1日" */
    char task_id[24];        /* a staff-task alert: the task (tasks.c), "" if none */
    char task_title[404];
    char task_due[32];       /* "11月24日 17:00" */
    const char *task_role;   /* "监理" */
};

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *lookup_var(void *arg, const char *name)
{
    const struct render_ctx *c = arg;
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(c->doc, "customer");
    const cJSON *proj = cJSON_GetObjectItemCaseSensitive(c->doc, "project");
    if (strcmp(name, "company.name") == 0) return c->cfg->company_name;
    if (strcmp(name, "company.phone") == 0) return c->cfg->company_phone;
    if (strncmp(name, "customer.", 9) == 0) return json_str(cust, name + 9);
    if (strncmp(name, "project.", 8) == 0) return json_str(proj, name + 8);
    if (strncmp(name, "staff.", 6) == 0) {
        char role[32];
        const char *dot = strchr(name + 6, '.');
        if (!dot || (size_t)(dot - (name + 6)) >= sizeof role)
            return NULL;
        snprintf(role, sizeof role, "%.*s", (int)(dot - (name + 6)), name + 6);
        const cJSON *staff = cJSON_GetObjectItemCaseSensitive(proj, "staff");
        return json_str(cJSON_GetObjectItemCaseSensitive(staff, role), dot + 1);
    }
    if (strcmp(name, "milestone.id") == 0) return c->m->id;
    if (strcmp(name, "milestone.name") == 0) return c->m->name;
    if (strcmp(name, "occurred.date") == 0) return c->occurred_date;
    if (strcmp(name, "occurred.time") == 0) return c->occurred_time;
    if (strcmp(name, "survey.link") == 0) return c->link;
    if (strcmp(name, "survey.token") == 0) return c->token;
    if (strcmp(name, "ticket.id") == 0) return c->ticket_id;
    if (strcmp(name, "ticket.report_due") == 0) return c->report_due;
    if (strcmp(name, "ticket.answer_due") == 0) return c->answer_due;
    if (strcmp(name, "survey.expires") == 0) return c->expires;
    if (strcmp(name, "task.id") == 0) return c->task_id;
    if (strcmp(name, "task.title") == 0) return c->task_title;
    if (strcmp(name, "task.due") == 0) return c->task_due;
    if (strcmp(name, "task.role") == 0) return c->task_role;
    if (strncmp(name, "vars.", 5) == 0) {
        const char *v = json_str(c->mvars, name + 5);
        return v ? v : json_str(cJSON_GetObjectItemCaseSensitive(c->doc, "variables"), name + 5);
    }
    return NULL;
}

static void month_day(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    snprintf(out, n, "%d月%d日", tm.tm_mon + 1, tm.tm_mday);
}

/* "11月24日 17:05" */
static void month_day_time(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    snprintf(out, n, "%d月%d日 %02d:%02d", tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

/* The recipient object adapters get. Caller owns. */
static cJSON *recipient_json(const struct config *cfg, const cJSON *doc, const char *role)
{
    if (strcmp(role, "cs_manager") == 0) {
        cJSON *mgr = plan_cs_manager(cfg);
        if (!mgr)
            mgr = cJSON_CreateObject();
        cJSON_AddStringToObject(mgr, "role", role);
        return mgr;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "role", role);
    if (strcmp(role, "customer") == 0) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "customer");
        const char *keys[] = {"id", "name", "title", "mobile", "wechat_openid"};
        for (size_t i = 0; i < HF_ARRAY_LEN(keys); i++)
            if (json_str(c, keys[i]))
                cJSON_AddStringToObject(r, keys[i], json_str(c, keys[i]));
    } else {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "project");
        const cJSON *s =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "staff"), role);
        if (json_str(s, "name"))
            cJSON_AddStringToObject(r, "name", json_str(s, "name"));
        if (json_str(s, "phone"))
            cJSON_AddStringToObject(r, "mobile", json_str(s, "phone"));
        if (json_str(s, "wecom_id"))
            cJSON_AddStringToObject(r, "wecom_id", json_str(s, "wecom_id"));
    }
    return r;
}

/* ---- recording outcomes ------------------------------------------------ */

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void finished_free(struct finished *f)
{
    free((char *)f->a.channel);
    free((char *)f->a.code);
    free((char *)f->a.provider_id);
    free((char *)f->a.error);
    free((char *)f->a.adapter);
    free((char *)f->a.request_id);
}

/* Queue one finished attempt; dispatch_commit() writes all of an
 * iteration's attempts in one transaction (one fsync) before the loop
 * sleeps. Until then the row stays "sending", which is also what a crash
 * leaves: the next start requeues it and the provider-side dedup id keeps
 * it from arriving twice. */
static void record(struct dispatcher *d, const struct attempt_rec *a, const char *state,
                   int64_t next)
{
    if (d->ndone == d->done_cap) {
        d->done_cap = d->done_cap ? d->done_cap * 2 : 64;
        d->done = xrealloc(d->done, d->done_cap * sizeof *d->done);
    }
    struct finished *f = &d->done[d->ndone++];
    f->a = *a;
    f->a.channel = dup_or_null(a->channel);
    f->a.code = dup_or_null(a->code);
    f->a.provider_id = dup_or_null(a->provider_id);
    f->a.error = dup_or_null(a->error);
    f->a.adapter = dup_or_null(a->adapter);
    f->a.request_id = dup_or_null(a->request_id);
    f->state = state;
    f->next = next;
    f->now = clock_now();
}

static int write_finished(struct store *s, const struct finished *f, size_t n)
{
    if (store_begin(s) != HF_OK)
        return HF_ERR_DB;
    for (size_t i = 0; i < n; i++) {
        if (store_attempt_finish(s, &f[i].a, f[i].state, f[i].next, f[i].now) != HF_OK) {
            store_rollback(s);
            return HF_ERR_DB;
        }
    }
    if (store_commit(s) != HF_OK) {
        store_rollback(s);
        return HF_ERR_DB;
    }
    return HF_OK;
}

void dispatch_commit(struct dispatcher *d)
{
    if (d->ndone == 0)
        return;
    struct store *s = d->gw->store;
    if (write_finished(s, d->done, d->ndone) != HF_OK) {
        /* One at a time, so one bad row does not cost the others. */
        for (size_t i = 0; i < d->ndone; i++)
            if (write_finished(s, &d->done[i], 1) != HF_OK)
                LOG_ERR("dispatch", "cannot record attempt message=%lld",
                        (long long)d->done[i].a.message_id);
    }
    for (size_t i = 0; i < d->ndone; i++)
        finished_free(&d->done[i]);
    d->ndone = 0;
}

static void finish_simple(struct dispatcher *d, const struct message_row *row, const char *state,
                          const char *code, const char *why)
{
    struct store *s = d->gw->store;
    if (store_begin(s) != HF_OK ||
        store_message_set_state(s, row->id, state, code, why, clock_now()) != HF_OK ||
        store_commit(s) != HF_OK)
        store_rollback(s);
    if (strcmp(state, MSG_EXPIRED) == 0)
        d->gw->metrics.sends_expired++;
    else if (strcmp(state, MSG_FAILED) == 0)
        d->gw->metrics.sends_failed++;
    LOG_WARN("dispatch", "message=%lld milestone=%s state=%s code=%s reason=\"%s\"",
             (long long)row->id, row->milestone, state, code, why);
}

/* The next time worth trying, or -1 if that is past the expiry. */
static int64_t next_try(struct dispatcher *d, const struct message_row *row, int64_t earliest)
{
    int64_t t = plan_message_next(d->gw->cfg, d->gw->cal, row->window, row->preferred, earliest);
    return (t < 0 || t > row->expires_at) ? -1 : t;
}

static void job_free(struct send_job *j)
{
    cJSON_Delete(j->recipient);
    cJSON_Delete(j->project);
    cJSON_Delete(j->rendered);
    free(j);
}

/* The job is over: free its slot and look for more work. */
static void job_done(struct send_job *j)
{
    struct dispatcher *d = j->d;
    d->in_flight--;
    job_free(j);
    dispatch_kick(d);
}

/* Retry later (backoff inside the window), or give up when the attempts
 * are spent or the message would be sent past its purpose. */
static void retry_or_give_up(struct dispatcher *d, struct send_job *j, struct attempt_rec *a,
                             const char *code, const char *detail, int64_t earliest)
{
    struct gateway *gw = d->gw;
    int64_t now = clock_now();
    int exhausted = !a->uncount && j->row.attempts >= gw->cfg->max_attempts;
    int64_t next = -1;
    if (!exhausted) {
        if (earliest <= 0)
            earliest = now + dispatch_backoff_ms(j->row.attempts, gw->cfg->retry_base_ms,
                                                 gw->cfg->retry_max_ms, rand_u64()) / 1000 + 1;
        next = next_try(d, &j->row, earliest);
    }
    char masked[24];
    log_mask_phone(json_str(j->recipient, "mobile"), masked);
    if (next < 0) {
        const char *state = exhausted ? MSG_FAILED : MSG_EXPIRED;
        record(d, a, state, now);
        if (exhausted)
            gw->metrics.sends_failed++;
        else
            gw->metrics.sends_expired++;
        LOG_WARN("dispatch", "gave up message=%lld channel=%s to=%s state=%s code=%s attempts=%d "
                 "detail=\"%s\"", (long long)j->row.id, j->row.channel, masked, state, code,
                 j->row.attempts, detail);
        return;
    }
    record(d, a, MSG_PENDING, next);
    gw->metrics.sends_retry++;
    char iso[32];
    iso8601_format_local(next, iso);
    LOG_WARN("dispatch", "retry message=%lld channel=%s to=%s code=%s attempt=%d next=%s "
             "detail=\"%s\"", (long long)j->row.id, j->row.channel, masked, code,
             j->row.attempts, iso, detail);
}

/* WeChat (or WeCom) cannot reach this person: send the same message by
 * SMS, with its SMS template, if there is one and an SMS provider is on.
 * Returns 1 when the message was moved. */
static int fall_back_to_sms(struct dispatcher *d, struct send_job *j, struct attempt_rec *a)
{
    struct gateway *gw = d->gw;
    const struct channel_adapter *sms = adapter_for_channel(gw->cfg, "sms");
    if (strcmp(j->row.channel, "sms") == 0 || !sms || !sms->enabled(gw->cfg) ||
        !sms->can_reach(gw->cfg, j->recipient) ||
        !cJSON_GetObjectItemCaseSensitive(j->rendered, "sms"))
        return 0;
    struct store *s = gw->store;
    int64_t now = clock_now();
    a->uncount = 1; /* the SMS gets its own attempts */
    if (store_begin(s) != HF_OK || store_attempt_finish(s, a, MSG_PENDING, now, now) != HF_OK ||
        store_message_fallback(s, j->row.id, "sms", j->row.channel, now, now) != HF_OK ||
        store_commit(s) != HF_OK) {
        store_rollback(s);
        return 0;
    }
    gw->metrics.sends_fallback++;
    LOG_INFO("dispatch", "fallback message=%lld from=%s to=sms code=%s", (long long)j->row.id,
             j->row.channel, a->code ? a->code : "-");
    return 1;
}

static void job_submit(struct send_job *j, const char *token);

static void on_token(void *arg, const char *token, const char *why)
{
    struct send_job *j = arg;
    if (token) {
        job_submit(j, token);
        return;
    }
    /* No token now (provider busy, bad credentials, shutdown): the message
     * waits and tries again; it is not failed for the refresh. */
    struct attempt_rec a = {
        .message_id = j->row.id, .attempt = j->row.attempts, .channel = j->row.channel,
        .adapter = j->adapter->name, .started_ms = clock_now_ms(), .code = "token",
        .error = why,
    };
    if (j->d->stopped)
        store_message_reschedule(j->d->gw->store, j->row.id, clock_now(), 1);
    else
        retry_or_give_up(j->d, j, &a, "token", why ? why : "no access token", 0);
    job_done(j);
}

static void on_sent(void *arg, const struct http_resp *resp, int64_t latency_ms)
{
    struct send_job *j = arg;
    struct dispatcher *d = j->d;
    struct gateway *gw = d->gw;
    if (resp->cancelled) {
        /* Shutdown deadline: back to pending, the next start sends it. */
        store_message_reschedule(gw->store, j->row.id, clock_now(), 1);
        job_done(j);
        return;
    }
    struct out_msg m = {
        .id = j->row.id, .kind = j->row.kind, .milestone = j->row.milestone,
        .message = j->row.message, .channel = j->row.channel, .attempt = j->row.attempts,
        .recipient = j->recipient, .rendered = j->rendered, .project = j->project,
        .access_token = j->token[0] ? j->token : NULL, .now = clock_now(),
    };
    struct send_result res = {0};
    j->adapter->parse_response(gw->cfg, &m, resp, &res);
    metrics_observe_latency(&gw->metrics, latency_ms);

    struct attempt_rec a = {
        .message_id = j->row.id, .attempt = j->row.attempts, .channel = j->row.channel,
        .adapter = j->adapter->name, .started_ms = j->started_ms, .latency_ms = latency_ms,
        .http_status = resp->status, .code = res.code[0] ? res.code : NULL,
        .provider_id = res.provider_id[0] ? res.provider_id : NULL,
        .request_id = res.request_id[0] ? res.request_id : NULL,
        .error = res.outcome == SEND_OK ? NULL : res.detail,
    };
    const char *mobile = json_str(j->recipient, "mobile");
    char masked[24];
    log_mask_phone(mobile, masked);
    int64_t now = clock_now();
    switch (res.outcome) {
    case SEND_OK:
        record(d, &a, MSG_SENT, now);
        gw->metrics.sends_ok++;
        LOG_INFO("dispatch", "sent message=%lld milestone=%s/%s channel=%s adapter=%s to=%s "
                 "status=%ld latency_ms=%lld attempt=%d", (long long)j->row.id, j->row.milestone,
                 j->row.message, j->row.channel, j->adapter->name, masked, resp->status,
                 (long long)latency_ms, j->row.attempts);
        break;
    case SEND_TOKEN_INVALID:
        if (!j->token_retried) {
            /* One refresh and one resend, within the same attempt: the
             * message's attempt count stays as claimed. */
            j->token_retried = 1;
            record(d, &a, MSG_SENDING, now);
            tokens_invalidate(gw->tokens, j->adapter, j->token);
            tokens_wait(gw->tokens, j->adapter, on_token, j);
            return; /* the job lives on */
        }
        retry_or_give_up(d, j, &a, res.code, res.detail, 0);
        break;
    case SEND_RETRY: {
        /* A timed-out SMS may have been taken by the provider (PROTOCOLS
         * C1: query the receipt before retrying): wait for its receipt,
         * which settles the message, before sending it again. */
        int64_t grace = dispatch_receipt_grace_s(gw->cfg), earliest = 0;
        if (resp->timed_out && grace > 0 && strcmp(j->row.channel, "sms") == 0)
            earliest = now + grace;
        retry_or_give_up(d, j, &a, res.code, res.detail, earliest);
        break;
    }
    case SEND_DEFER:
        /* A provider limit (per number, daily quota): later, and it does
         * not count toward the attempts. */
        a.uncount = 1;
        retry_or_give_up(d, j, &a, res.code, res.detail,
                         res.defer_until > now ? res.defer_until : now + 60);
        break;
    case SEND_UNREACHABLE:
        if (fall_back_to_sms(d, j, &a))
            break;
        /* nobody else can reach this person */
        __attribute__((fallthrough));
    case SEND_FAIL:
        record(d, &a, MSG_FAILED, now);
        gw->metrics.sends_failed++;
        LOG_WARN("dispatch", "failed message=%lld channel=%s adapter=%s to=%s code=%s "
                 "detail=\"%s\"", (long long)j->row.id, j->row.channel, j->adapter->name,
                 masked, res.code, res.detail);
        break;
    }
    job_done(j);
}

/* Build the provider request (with @token when the provider needs one) and
 * hand it to outbound HTTP. */
static void job_submit(struct send_job *j, const char *token)
{
    struct dispatcher *d = j->d;
    struct gateway *gw = d->gw;
    snprintf(j->token, sizeof j->token, "%s", token ? token : "");
    char nonce[33];
    snprintf(nonce, sizeof nonce, "%016llx%016llx", (unsigned long long)rand_u64(),
             (unsigned long long)rand_u64());
    struct out_msg om = {
        .id = j->row.id, .kind = j->row.kind, .milestone = j->row.milestone,
        .message = j->row.message, .channel = j->row.channel, .attempt = j->row.attempts,
        .recipient = j->recipient, .project = j->project, .rendered = j->rendered,
        .survey_link = j->link[0] ? j->link : NULL, .access_token = token, .now = clock_now(),
        .extend_code = j->extend[0] ? j->extend : NULL,
        .nonce = nonce,
    };
    struct http_req req;
    http_req_init(&req);
    char err[256] = "";
    if (j->adapter->build_request(gw->cfg, &om, &req, err, sizeof err) != 0) {
        http_req_cleanup(&req);
        finish_simple(d, &j->row, MSG_FAILED, "build", err);
        job_done(j);
        return;
    }
    j->started_ms = clock_now_ms();
    if (outbound_submit(gw->out, &req, on_sent, j) != 0) {
        store_message_reschedule(gw->store, j->row.id, clock_now() + 1, 1);
        job_done(j);
    }
}

/* ---- sending -------------------------------------------------------------- */

/* Our own rate limits: the provider's requests per second and, for SMS,
 * the per-number windows. Returns 0 to send now, else when to try. */
static int64_t limited_until(struct dispatcher *d, const struct channel_adapter *ad,
                             const char *mobile, int64_t now)
{
    if (strcmp(ad->channel, "sms") == 0 && mobile) {
        int64_t t = number_limits_next(d->numbers, mobile, now);
        if (t > now)
            return t;
    }
    for (size_t i = 0; i < adapter_registry_len && i < HF_ARRAY_LEN(d->buckets); i++) {
        if (adapter_registry[i] != ad || d->buckets[i].rate <= 0)
            continue;
        int64_t wait_ms = bucket_take(&d->buckets[i], clock_mono_ms());
        if (wait_ms > 0)
            return now + (wait_ms + 999) / 1000;
    }
    return 0;
}

/* The other surveys this customer would get today go with this one: one
 * message, one link (its page lists them). Best effort: on a store error
 * they stay pending and are merged when their own turn comes. */
static void merge_todays_surveys(struct dispatcher *d, const struct message_row *row,
                                 const char *customer_id, int64_t now)
{
    struct gateway *gw = d->gw;
    struct merge_candidate c[16];
    int n = store_surveys_due_today(gw->store, customer_id, row->id, local_day_start(now, 1), c,
                                    16);
    if (n <= 0)
        return;
    if (store_begin(gw->store) != HF_OK)
        return;
    int merged = 0;
    for (int i = 0; i < n; i++) {
        const struct milestone *m = catalogue_find(gw->cat, c[i].milestone);
        const struct cat_message *cm = m ? milestone_find_message(m, c[i].message) : NULL;
        if (!cm || cm->fatigue_exempt)
            continue;
        if (store_survey_merge(gw->store, c[i].id, row->id, now) != HF_OK) {
            store_rollback(gw->store);
            return;
        }
        merged++;
    }
    if (store_commit(gw->store) != HF_OK) {
        store_rollback(gw->store);
        return;
    }
    if (merged)
        LOG_INFO("dispatch", "message=%lld carries %d more surveys due today", (long long)row->id,
                 merged);
}

/* Render and start one claimed message. Problems that no retry can fix
 * (template gone after a reload, channel disabled) fail the message with
 * a reason a person can act on. */
static void send_one(struct dispatcher *d, struct message_row *row, int64_t now)
{
    struct gateway *gw = d->gw;
    if (now > row->expires_at) {
        finish_simple(d, row, MSG_EXPIRED, "expired", "not sent before it expired");
        return;
    }
    if (!plan_message_contains(gw->cfg, gw->cal, row->window, row->preferred, now)) {
        /* Due while the daemon was down, the windows changed, or the
         * customer named a time of their own since: wait for the next
         * opening rather than message someone at the wrong hour. */
        int64_t next = next_try(d, row, now);
        if (next < 0)
            finish_simple(d, row, MSG_EXPIRED, "expired", "no send window before it expired");
        else
            store_message_reschedule(gw->store, row->id, next, 1);
        return;
    }
    const struct milestone *m = catalogue_find(gw->cat, row->milestone);
    const struct cat_message *cm = m ? milestone_find_message(m, row->message) : NULL;
    if (!cm) {
        finish_simple(d, row, MSG_FAILED, "catalogue",
                      "milestone or message no longer in the catalogue");
        return;
    }
    const struct channel_adapter *ad = adapter_for_channel(gw->cfg, row->channel);
    if (!ad || !ad->enabled(gw->cfg)) {
        finish_simple(d, row, MSG_FAILED, "channel_disabled", "the channel is not enabled");
        return;
    }
    char *body = NULL;
    if (store_trigger_body(gw->store, row->trigger_id, &body) != HF_OK) {
        finish_simple(d, row, MSG_FAILED, "store", "trigger body missing");
        return;
    }
    cJSON *doc = cJSON_Parse(body);
    free(body);
    if (!doc) {
        finish_simple(d, row, MSG_FAILED, "store", "trigger body unreadable");
        return;
    }
    if ((strcmp(row->kind, "survey") == 0 || m->campaign) &&
        strcmp(row->recipient, "customer") == 0) {
        const cJSON *cu = cJSON_GetObjectItemCaseSensitive(doc, "customer");
        const char *cid = json_str(cu, "id");
        if (cid && store_customer_opted_out(gw->store, cid)) {
            cJSON_Delete(doc);
            finish_simple(d, row, MSG_CANCELLED, "opted_out",
                          "the customer unsubscribed (TD/退订)");
            return;
        }
    }
    if (cm->kind == KIND_SURVEY && cm->to == RCPT_CUSTOMER && !cm->fatigue_exempt &&
        row->survey_id == 0 /* reminders and "later, please" resends are not new surveys */) {
        /* At most one survey message a customer a day (seed 000: never
         * pester the customer): one already went today, so this survey
         * goes with it, reached from its page; no second message. */
        const char *cid = json_str(cJSON_GetObjectItemCaseSensitive(doc, "customer"), "id");
        int64_t carrier = cid ? store_surveys_sent_since(gw->store, cid, local_day_start(now, 0),
                                                         row->id)
                              : -1;
        if (carrier > 0) {
            cJSON_Delete(doc);
            if (store_begin(gw->store) != HF_OK ||
                store_survey_merge(gw->store, row->id, carrier, now) != HF_OK ||
                store_commit(gw->store) != HF_OK) {
                store_rollback(gw->store);
                store_message_reschedule(gw->store, row->id, now + 60, 1);
                return;
            }
            LOG_INFO("dispatch", "message=%lld goes with survey %lld sent today (one survey a "
                     "day)", (long long)row->id, (long long)carrier);
            return;
        }
    }
    if (cm->kind == KIND_SURVEY && cm->to == RCPT_CUSTOMER && !cm->fatigue_exempt &&
        row->survey_id == 0) {
        const char *cid = json_str(cJSON_GetObjectItemCaseSensitive(doc, "customer"), "id");
        if (cid)
            merge_todays_surveys(d, row, cid, now);
    }
    cJSON *recipient = recipient_json(gw->cfg, doc, row->recipient);
    int64_t later = limited_until(d, ad, json_str(recipient, "mobile"), now);
    if (later > 0) {
        int64_t next = next_try(d, row, later);
        if (next < 0)
            finish_simple(d, row, MSG_EXPIRED, "rate_limit",
                          "the per-number limit left no send window before it expired");
        else
            store_message_reschedule(gw->store, row->id, next, 1);
        cJSON_Delete(recipient);
        cJSON_Delete(doc);
        return;
    }
    /* Counted when it starts, not when it succeeds: messages claimed
     * together for one number must not all pass the same window. */
    if (strcmp(ad->channel, "sms") == 0 && json_str(recipient, "mobile"))
        number_limits_note(d->numbers, json_str(recipient, "mobile"), now);
    struct send_job *j = xcalloc(1, sizeof *j);
    j->d = d;
    j->row = *row;
    j->adapter = ad;
    j->recipient = recipient;
    cJSON *mvars = row->vars[0] ? cJSON_Parse(row->vars) : NULL;
    struct render_ctx rc = {.cfg = gw->cfg, .m = m, .doc = doc, .mvars = mvars};
    const cJSON *occ = cJSON_GetObjectItemCaseSensitive(doc, "occurred_at");
    int64_t occurred = row->due_at;
    if (cJSON_IsString(occ))
        iso8601_parse(occ->valuestring, &occurred);
    month_day(occurred, rc.occurred_date, sizeof rc.occurred_date);
    {
        time_t tt = (time_t)occurred;
        struct tm tm;
        localtime_r(&tt, &tm);
        snprintf(rc.occurred_time, sizeof rc.occurred_time, "%02d:%02d", tm.tm_hour % 24,
                 tm.tm_min % 60);
    }
    if (m->opens_ticket) {
        int64_t tid, rdue, adue;
        if (store_ticket_by_trigger(gw->store, row->trigger_id, &tid, &rdue, &adue) == HF_OK) {
            snprintf(rc.ticket_id, sizeof rc.ticket_id, "%lld", (long long)tid);
            month_day_time(rdue, rc.report_due, sizeof rc.report_due);
            month_day_time(adue, rc.answer_due, sizeof rc.answer_due);
        }
    }
    if (m->ntasks > 0 && cm->kind == KIND_ALERT) {
        struct task_row tr;
        if (store_task_by_message(gw->store, row->id, &tr) == HF_OK) {
            snprintf(rc.task_id, sizeof rc.task_id, "%lld", (long long)tr.id);
            snprintf(rc.task_title, sizeof rc.task_title, "%s", tr.title);
            month_day_time(tr.due_at, rc.task_due, sizeof rc.task_due);
            rc.task_role = tasks_role_label(tr.role);
        }
    }
    if (cm->kind == KIND_SURVEY) {
        /* A reminder opens the survey it reminds of. */
        int64_t link_id = row->survey_id > 0 ? row->survey_id : row->id;
        survey_token_make(gw->cfg->survey_secret, link_id, row->expires_at, rc.token);
        snprintf(j->link, sizeof j->link, "%s/s/%s", gw->cfg->public_url, rc.token);
        rc.link = j->link;
        month_day(row->expires_at, rc.expires, sizeof rc.expires);
        if (gw->cfg->sms_extend_digits > 0 && strcmp(ad->channel, "sms") == 0)
            survey_extend_code(link_id, gw->cfg->sms_extend_digits, j->extend);
    }
    const char *sign = gw->cfg->sms_sign_name ? gw->cfg->sms_sign_name : gw->cfg->company_name;
    j->rendered = msg_template_render(cm->tmpl, lookup_var, &rc, sign);
    cJSON_Delete(mvars);
    if (m->campaign) /* marketing: how to stop it, on every channel */
        msg_rendered_append(j->rendered, gw->cfg->opt_out_text, sign);
    j->project = cJSON_CreateObject();
    const cJSON *proj = cJSON_GetObjectItemCaseSensitive(doc, "project");
    cJSON_AddStringToObject(j->project, "id", json_str(proj, "id") ? json_str(proj, "id") : "");
    cJSON_AddStringToObject(j->project, "address",
                            json_str(proj, "address") ? json_str(proj, "address") : "");
    cJSON_Delete(doc);
    d->in_flight++;
    if (ad->token_request)
        tokens_wait(gw->tokens, ad, on_token, j);
    else
        job_submit(j, NULL);
}

static void arm(struct dispatcher *d, double after_s)
{
    ev_timer_stop(d->gw->loop, &d->timer);
    ev_timer_set(&d->timer, after_s, 0.);
    ev_timer_start(d->gw->loop, &d->timer);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct dispatcher *d = w->data;
    struct gateway *gw = d->gw;
    if (d->stopped)
        return;
    int slots = gw->cfg->max_in_flight - (int)d->in_flight;
    if (slots <= 0)
        return; /* on_sent kicks when a slot frees */
    int limit = slots < d->rows_cap ? slots : d->rows_cap;
    int64_t now = clock_now();
    int n = -1;
    if (store_begin(gw->store) == HF_OK) {
        n = store_claim_due(gw->store, now, limit, d->rows);
        if (n < 0 || store_commit(gw->store) != HF_OK) {
            store_rollback(gw->store);
            n = -1;
        }
    }
    if (n < 0) {
        LOG_ERR("dispatch", "claiming due messages failed; retrying in 1 s");
        arm(d, 1.0);
        return;
    }
    for (int i = 0; i < n; i++)
        send_one(d, &d->rows[i], now);
    if (n == limit) {
        arm(d, 0.); /* more may be due: next batch after this iteration */
        return;
    }
    /* Sleep until the next pending message is due. The cap re-checks the
     * store now and then, e.g. after the wall clock jumped. A send that
     * already ended above (a retry planned without reaching the network)
     * is committed first, so its next try counts. */
    dispatch_commit(d);
    int64_t next = store_next_due(gw->store);
    double wait = 60.0;
    if (next >= 0) {
        double s = (double)(next - clock_now());
        wait = s < 0 ? 0. : s < wait ? s : wait;
    }
    arm(d, wait);
}

struct dispatcher *dispatch_new(struct gateway *gw)
{
    struct dispatcher *d = xcalloc(1, sizeof *d);
    d->gw = gw;
    d->rows_cap = gw->cfg->batch_size;
    d->rows = xcalloc((size_t)d->rows_cap, sizeof *d->rows);
    const struct config *cfg = gw->cfg;
    for (size_t i = 0; i < adapter_registry_len && i < HF_ARRAY_LEN(d->buckets); i++) {
        const char *ch = adapter_registry[i]->channel;
        int qps = strcmp(ch, "wechat") == 0 ? cfg->wechat_qps
                  : strcmp(ch, "wecom") == 0 ? cfg->wecom_qps
                  : strcmp(ch, "sms") == 0   ? cfg->sms_qps
                                             : 0; /* the webhook: the receiver's own business */
        if (qps > 0)
            bucket_init(&d->buckets[i], qps, clock_mono_ms());
    }
    d->numbers = number_limits_new(cfg->sms_per_minute, cfg->sms_per_hour, cfg->sms_per_day);
    ev_init(&d->timer, on_timer);
    d->timer.data = d;
    return d;
}

void dispatch_kick(struct dispatcher *d)
{
    if (!d->stopped)
        arm(d, 0.);
}

void dispatch_stop(struct dispatcher *d)
{
    d->stopped = 1;
    ev_timer_stop(d->gw->loop, &d->timer);
}

void dispatch_cron(struct dispatcher *d)
{
    number_limits_expire(d->numbers, clock_now());
}

void dispatch_surveys_cron(struct dispatcher *d)
{
    /* One reminder a day after a survey went out unanswered; a day after
     * the reminder it is unanswered (issue 4, seed 000's call-back rule). */
    struct store *s = d->gw->store;
    int64_t now = clock_now(), ids[200];
    if (store_begin(s) != HF_OK)
        return;
    int n = store_surveys_remind(s, now - 86400, now, now, ids, 200);
    int closed = n >= 0 ? store_surveys_unanswered(s, now - 86400) : -1;
    if (n < 0 || closed < 0 || store_commit(s) != HF_OK) {
        store_rollback(s);
        return;
    }
    if (n > 0 || closed > 0)
        LOG_INFO("dispatch", "survey reminders=%d unanswered=%d", n, closed);
    if (n > 0)
        dispatch_kick(d);
}

size_t dispatch_in_flight(const struct dispatcher *d)
{
    return d ? d->in_flight : 0;
}

void dispatch_free(struct dispatcher *d)
{
    if (!d)
        return;
    ev_timer_stop(d->gw->loop, &d->timer);
    dispatch_commit(d);
    free(d->done);
    number_limits_free(d->numbers);
    free(d->rows);
    free(d);
}
