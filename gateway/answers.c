/*
 * answers.c - merging answers into survey results, judging them, opening
 * tickets.
 */
#include "answers.h"
#include "dispatch.h"
#include "gateway.h"
#include "log.h"
#include "survey_def.h"
#include "plan.h"
#include "tickets.h"
#include "windows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Why a ticket opened, in words customer service reads. */
static void ticket_reason(const struct survey_def *d, const cJSON *merged, const char *why,
                          int score, const char *comment, char *out, size_t n)
{
    if (why && strcmp(why, "score") == 0) {
        snprintf(out, n, "%s评分%d分%s%s", d->title, score, comment && *comment ? "：" : "",
                 comment ? comment : "");
        return;
    }
    /* A critical "no" or a bad option: name the question. */
    for (size_t i = 0; i < d->nq; i++) {
        const struct question *q = &d->q[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(merged, q->id);
        if (!cJSON_IsString(v))
            continue;
        int bad = (q->type == Q_YESNO && q->critical && strcmp(v->valuestring, "no") == 0);
        for (size_t b = 0; q->type == Q_CHOICE && b < q->nbad; b++)
            bad |= strcmp(q->bad_options[b], v->valuestring) == 0;
        if (bad) {
            snprintf(out, n, "%s：“%s”回答“%s”", d->title, q->text,
                     strcmp(v->valuestring, "no") == 0 ? "否" : v->valuestring);
            return;
        }
    }
    snprintf(out, n, "%s：%s", d->title, comment && *comment ? comment : "客户反映问题");
}

/* 1 when the survey has its result: every required question answered (the
 * page), or the question a reply answers — the main score, else the first
 * yes/no — which is all an SMS or WeChat reply can carry. */
static int complete(const struct survey_def *d, const cJSON *merged)
{
    const struct question *key = d->main_index >= 0 ? &d->q[d->main_index] : NULL;
    for (size_t i = 0; !key && i < d->nq; i++)
        if (d->q[i].type == Q_YESNO)
            key = &d->q[i];
    if (key && cJSON_GetObjectItemCaseSensitive(merged, key->id))
        return 1;
    for (size_t i = 0; i < d->nq; i++)
        if (d->q[i].required && !cJSON_GetObjectItemCaseSensitive(merged, d->q[i].id))
            return 0;
    return 1;
}

/* Merge @values into survey @sid and record the answer, in one transaction.
 * @complaint: the text itself carries complaint words (opens a ticket even
 * when the scores are fine). */
static enum answer_outcome record(struct gateway *gw, int64_t sid, const cJSON *values,
                                  const char *channel, const char *raw, int flagged,
                                  int complaint, const char *comment, const char *dedup_key)
{
    struct store *s = gw->store;
    int64_t now = clock_now();
    struct survey_row sr;
    if (store_survey_get(s, sid, &sr) != HF_OK)
        return ANSWER_ERROR;
    const struct survey_def *d = survey_set_find(gw->surveys, sr.survey);
    if (!d) {
        free(sr.answers);
        LOG_ERR("answers", "survey=%lld: definition '%s' is gone", (long long)sid, sr.survey);
        return ANSWER_ERROR;
    }
    if (now > sr.expires_at || strcmp(sr.state, "expired") == 0 ||
        strcmp(sr.state, "unanswered") == 0) {
        free(sr.answers);
        return ANSWER_CLOSED;
    }
    cJSON *merged = sr.answers ? cJSON_Parse(sr.answers) : NULL;
    free(sr.answers);
    if (!cJSON_IsObject(merged)) {
        cJSON_Delete(merged);
        merged = cJSON_CreateObject();
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, values) {
        cJSON_DeleteItemFromObjectCaseSensitive(merged, v->string);
        cJSON_AddItemToObject(merged, v->string, cJSON_Duplicate(v, 1));
    }
    /* Judge the merged answers. */
    size_t n = (size_t)cJSON_GetArraySize(merged), i = 0;
    const char **qids = xcalloc(n + 1, sizeof *qids), **vals = xcalloc(n + 1, sizeof *vals);
    cJSON_ArrayForEach(v, merged) {
        if (cJSON_IsString(v)) {
            qids[i] = v->string;
            vals[i++] = v->valuestring;
        }
    }
    int score = -1;
    const char *why = NULL;
    int bad = survey_judge(d, qids, vals, i, gw->cfg->ticket_threshold, &score, &why);
    free(qids);
    free(vals);
    int done = complete(d, merged);
    char *merged_text = cJSON_PrintUnformatted(merged);
    char *parsed = cJSON_PrintUnformatted(values);
    struct answer_rec a = {
        .message_id = sid, .customer_id = sr.customer_id, .mobile = sr.mobile,
        .channel = channel, .raw = raw, .parsed = parsed, .score = score,
        .flagged = flagged || complaint, .amendment = sr.answered_at > 0,
        .dedup_key = dedup_key, .received_at = now,
    };
    enum answer_outcome out = ANSWER_STORED;
    int rc = store_begin(s);
    if (rc == HF_OK)
        rc = store_answer_add(s, &a, NULL);
    if (rc == HF_ERR_CONFLICT) {
        store_rollback(s);
        out = ANSWER_DUPLICATE;
        goto done;
    }
    if (rc == HF_OK)
        rc = store_survey_update(s, sid, done ? "answered" : "open", merged_text, score,
                                 a.flagged, done ? now : 0);
    int64_t ticket = 0;
    if (rc == HF_OK && (bad || complaint)) {
        char reason[512];
        ticket_reason(d, merged, bad ? why : NULL, score, comment, reason, sizeof reason);
        ticket = tickets_open_for_survey(gw, sid, reason, now);
        if (ticket < 0)
            rc = HF_ERR_DB;
    }
    int thanked = 0;
    if (rc == HF_OK && done && !sr.answered_at && !bad && !complaint) {
        /* Answered well the first time: the milestone's "answered_ok"
         * messages (seed 002 回访结点八: a real praise is thanked). */
        thanked = milestone_event(gw, sr.trigger_id, sr.milestone, "answered_ok", now);
        if (thanked < 0)
            rc = HF_ERR_DB;
    }
    if (rc != HF_OK || store_commit(s) != HF_OK) {
        store_rollback(s);
        out = ANSWER_ERROR;
        goto done;
    }
    LOG_INFO("answers", "survey=%lld channel=%s score=%d complete=%d amendment=%d flagged=%d "
             "ticket=%lld", (long long)sid, channel, score, done, a.amendment, a.flagged,
             (long long)ticket);
    if (ticket > 0 || thanked > 0)
        dispatch_kick(gw->disp);
done:
    free(merged_text);
    free(parsed);
    cJSON_Delete(merged);
    return out;
}

enum answer_outcome answers_from_page(struct gateway *gw, int64_t survey_id,
                                      const cJSON *values, const char *raw,
                                      const char *dedup_key)
{
    /* The text answers may hold complaint words too. */
    struct reply r = {0};
    int complaint = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, values) {
        if (!cJSON_IsString(v) || strlen(v->valuestring) < 4)
            continue; /* yes/no, scores and short options */
        reply_parse(&reply_config_default, v->valuestring, &r);
        complaint |= r.complaint;
    }
    return record(gw, survey_id, values, "page", raw, complaint, complaint, NULL, dedup_key);
}

/* Map a free-text reply onto the survey's questions. */
static cJSON *values_from_reply(const struct survey_def *d, const struct reply *r)
{
    cJSON *o = cJSON_CreateObject();
    const struct question *main_q = d->main_index >= 0 ? &d->q[d->main_index] : NULL;
    const struct question *yesno = NULL, *text = NULL;
    for (size_t i = 0; i < d->nq; i++) {
        if (!yesno && d->q[i].type == Q_YESNO)
            yesno = &d->q[i];
        if (!text && d->q[i].type == Q_TEXT)
            text = &d->q[i];
    }
    if ((r->kind == REPLY_SCORE || r->kind == REPLY_SATISFACTION) && main_q) {
        char num[8];
        snprintf(num, sizeof num, "%d", r->score);
        cJSON_AddStringToObject(o, main_q->id, num);
    } else if (r->yes >= 0 && yesno) {
        /* "是/否", or "满意/不满意" on a survey without a score */
        cJSON_AddStringToObject(o, yesno->id, r->yes ? "yes" : "no");
    }
    if (r->comment[0] && text && r->kind != REPLY_BUSY)
        cJSON_AddStringToObject(o, text->id, r->comment);
    return o;
}

/* Keep one inbound answer in its own transaction, with @then (may be
 * NULL) doing the rest of the work in the same transaction. */
static enum answer_outcome keep(struct gateway *gw, const struct answer_rec *a,
                                int (*then)(struct gateway *gw, void *arg), void *arg,
                                enum answer_outcome ok)
{
    struct store *s = gw->store;
    int rc = store_begin(s);
    if (rc == HF_OK)
        rc = store_answer_add(s, a, NULL);
    if (rc == HF_ERR_CONFLICT) {
        store_rollback(s);
        return ANSWER_DUPLICATE;
    }
    if (rc == HF_OK && then)
        rc = then(gw, arg);
    if (rc != HF_OK || store_commit(s) != HF_OK) {
        store_rollback(s);
        return ANSWER_ERROR;
    }
    return ok;
}

struct resend {
    int64_t sid, at, now, expires, message_id;
    const char *customer_id, *pref; /* the time the customer named, kept as their preference */
};

static int resend_later(struct gateway *gw, void *arg)
{
    struct resend *r = arg;
    if (r->pref && r->customer_id &&
        store_customer_set_preferred_time(gw->store, r->customer_id, r->pref, r->now) ==
            HF_ERR_DB)
        return HF_ERR_DB;
    if (r->at <= 0 || r->at >= r->expires)
        return HF_OK; /* no window left before it expires: the reply is kept, that is all */
    return store_survey_resend(gw->store, r->sid, r->at, r->now, &r->message_id);
}

struct opt_out {
    const char *mobile, *openid;
    int64_t now;
};

static int opt_out(struct gateway *gw, void *arg)
{
    struct opt_out *o = arg;
    if (!o->mobile && !o->openid)
        return HF_OK;
    return store_customer_opt_out(gw->store, o->mobile, o->openid, o->now);
}

/* "现在不方便，晚点再说" (seed 000: ask when suits them, call back then): keep
 * the reply, and send the survey again at the hour they named (today, or
 * 明天/后天), else in the next follow-up window a few hours on — never at
 * night, inside the survey's validity. */
static enum answer_outcome busy(struct gateway *gw, int64_t sid, const char *channel,
                                const char *mobile, const char *text, const char *dedup_key,
                                const struct reply *r, int64_t now)
{
    int64_t at = now + 3 * 3600;
    if (r->busy_hour >= 0 || r->busy_days > 0) {
        at = local_day_start(now, r->busy_days) + (r->busy_hour >= 0 ? r->busy_hour : 10) * 3600;
        if (at <= now)
            at = now + 3600;
    }
    /* An hour they named ("晚上七点以后") becomes their preferred time for
     * the surveys to come: two hours from it, inside the notice hours. */
    char pref[32] = "";
    if (r->busy_hour >= 0 && r->busy_hour < 24) {
        const struct window_def *nw = &gw->cfg->win_notice;
        int a = r->busy_hour * 60;
        for (int k = 0; k < nw->nspans && !pref[0]; k++) {
            if (a < nw->spans[k].start_min || a >= nw->spans[k].end_min)
                continue;
            int b = a + 120 < nw->spans[k].end_min ? a + 120 : nw->spans[k].end_min;
            snprintf(pref, sizeof pref, "%02d:%02d-%02d:%02d", a / 60, a % 60, b / 60, b % 60);
        }
    }
    at = plan_message_next(gw->cfg, gw->cal, "survey", pref, at);
    struct survey_row sr;
    if (store_survey_get(gw->store, sid, &sr) != HF_OK)
        return ANSWER_ERROR;
    free(sr.answers);
    struct answer_rec a = {
        .message_id = sid, .customer_id = sr.customer_id, .mobile = mobile, .channel = channel,
        .raw = text, .parsed = "{\"busy\":true}", .score = -1, .amendment = sr.answered_at > 0,
        .dedup_key = dedup_key, .received_at = now,
    };
    struct resend rs = {.sid = sid, .at = at, .now = now, .expires = sr.expires_at,
                        .customer_id = sr.customer_id, .pref = pref[0] ? pref : NULL};
    enum answer_outcome out = keep(gw, &a, resend_later, &rs, ANSWER_STORED);
    if (out != ANSWER_STORED)
        return out;
    char iso[32];
    iso8601_format_local(at, iso);
    LOG_INFO("answers", "survey=%lld busy: asked again message=%lld at=%s", (long long)sid,
             (long long)rs.message_id, rs.message_id ? iso : "-");
    if (rs.message_id)
        dispatch_kick(gw->disp);
    return ANSWER_STORED;
}

/* The survey an SMS reply's extension code names, or -1. */
static int64_t survey_by_extend(struct gateway *gw, const char *mobile, const char *extend,
                                int64_t now)
{
    int digits = gw->cfg->sms_extend_digits;
    if (digits <= 0 || !mobile || !extend || (int)strlen(extend) < digits)
        return -1;
    /* The code is the last @digits digits of what the provider reports. */
    const char *tail = extend + strlen(extend) - digits;
    int64_t code = 0, mod = 1;
    for (int i = 0; i < digits; i++) {
        if (tail[i] < '0' || tail[i] > '9')
            return -1;
        code = code * 10 + (tail[i] - '0');
        mod *= 10;
    }
    return store_survey_by_extend(gw->store, mobile, now, mod, code);
}

enum answer_outcome answers_from_reply(struct gateway *gw, const char *channel,
                                       const char *mobile, const char *openid, const char *text,
                                       const char *extend, const char *dedup_key,
                                       struct reply *parsed, int64_t *survey_id)
{
    int64_t now = clock_now();
    reply_parse(&reply_config_default, text, parsed);
    *survey_id = -1;
    if (parsed->kind == REPLY_OPT_OUT) {
        struct answer_rec a = {
            .message_id = -1, .mobile = mobile, .channel = channel, .raw = text,
            .parsed = "{\"opt_out\":true}", .score = -1, .dedup_key = dedup_key,
            .received_at = now,
        };
        struct opt_out o = {mobile, openid, now};
        enum answer_outcome out = keep(gw, &a, opt_out, &o, ANSWER_OPTED_OUT);
        /* cppcheck-suppress variableScope ; only used inside LOG_INFO's level check */
        char masked[24];
        if (out == ANSWER_OPTED_OUT)
            LOG_INFO("answers", "opt-out channel=%s from=%s", channel,
                     mobile ? log_mask_phone(mobile, masked) : "wechat");
        return out;
    }
    int64_t sid = survey_by_extend(gw, mobile, extend, now);
    if (sid < 0 && openid)
        sid = store_survey_open_by_openid(gw->store, openid, now);
    if (sid < 0 && mobile)
        sid = store_survey_open_by_mobile(gw->store, mobile, now);
    if (sid < 0) {
        /* No survey to join: still kept, flagged for customer service. */
        struct answer_rec a = {
            .message_id = -1, .mobile = mobile, .channel = channel, .raw = text,
            .parsed = NULL, .score = parsed->score, .flagged = 1, .dedup_key = dedup_key,
            .received_at = now,
        };
        return keep(gw, &a, NULL, NULL, ANSWER_UNMATCHED);
    }
    *survey_id = sid;
    if (parsed->kind == REPLY_BUSY)
        return busy(gw, sid, channel, mobile, text, dedup_key, parsed, now);
    struct survey_row sr;
    if (store_survey_get(gw->store, sid, &sr) != HF_OK)
        return ANSWER_ERROR;
    free(sr.answers);
    const struct survey_def *d = survey_set_find(gw->surveys, sr.survey);
    if (!d)
        return ANSWER_ERROR;
    cJSON *values = values_from_reply(d, parsed);
    enum answer_outcome out = record(gw, sid, values, channel, text, parsed->flagged,
                                     parsed->complaint, parsed->comment, dedup_key);
    cJSON_Delete(values);
    return out;
}
