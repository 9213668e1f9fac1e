/*
 * api_surveys.c - the survey page: GET/POST /s/<token>.
 *
 * The token (survey_token.c) signs the survey id and its expiry; a
 * tampered, unknown or expired link gets a friendly page (404 / 410), never
 * an error trace or another customer's data. Submitting stores the answers
 * (answers.c); submitting again inside the validity period amends them.
 * Pages are self-contained HTML (survey_page.c) served with a strict
 * Content-Security-Policy.
 */
#include "answers.h"
#include "api.h"
#include "gateway.h"
#include "http_error.h"
#include "log.h"
#include "survey_def.h"
#include "survey_page.h"
#include "survey_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTML "text/html; charset=utf-8"

static const char *csp(void)
{
    static char buf[512];
    if (!buf[0])
        survey_page_csp(buf, sizeof buf);
    return buf;
}

static void message_page(struct gateway *gw, struct http_response *resp, int status,
                         const char *kind)
{
    resp->status = status;
    resp->body = survey_page_message(kind, gw->cfg->company_name, gw->cfg->company_phone);
    resp->content_type = HTML;
    resp->csp = csp();
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Length of a form submission id: 128 random bits in hex. */
#define SUBMISSION_HEX 32

/* A fresh submission id for a rendered form (hex, NUL-terminated). Each
 * page view gets its own, so an edit made after reloading the page is an
 * amendment, while the same form posted twice is one answer. */
static void submission_new(char out[SUBMISSION_HEX + 1])
{
    snprintf(out, SUBMISSION_HEX + 1, "%016llx%016llx", (unsigned long long)rand_u64(),
             (unsigned long long)rand_u64());
}

/* The submission id "n" of the url-encoded form body @body (@len bytes),
 * copied into @out; 0, or -1 when there is none or it is not 32 lowercase
 * hex digits (an old page, or a forged value: the answer is then stored
 * without a dedup key, as before). Hex needs no url-decoding. */
static int submission_of(const char *body, size_t len, char out[SUBMISSION_HEX + 1])
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && body[j] != '&')
            j++;
        if (j - i == 2 + SUBMISSION_HEX && body[i] == 'n' && body[i + 1] == '=') {
            for (size_t k = 0; k < SUBMISSION_HEX; k++) {
                char c = body[i + 2 + k];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                    return -1;
                out[k] = c;
            }
            out[SUBMISSION_HEX] = '\0';
            return 0;
        }
        i = j + 1;
    }
    return -1;
}

/* Render the survey's page with its current answers and @notice. */
static void render(struct gateway *gw, struct http_request *req, struct http_response *resp,
                   int64_t sid, int status, const char *notice, const char *notice_field,
                   const cJSON *pending)
{
    struct survey_row sr;
    if (store_survey_get(gw->store, sid, &sr) != HF_OK) {
        message_page(gw, resp, 404, "invalid");
        return;
    }
    const struct survey_def *d = survey_set_find(gw->surveys, sr.survey);
    char *body = NULL;
    cJSON *doc = NULL;
    if (d && store_trigger_body(gw->store, sr.trigger_id, &body) == HF_OK)
        doc = cJSON_Parse(body);
    free(body);
    if (!d || !doc) {
        free(sr.answers);
        cJSON_Delete(doc);
        message_page(gw, resp, 404, "invalid");
        return;
    }
    cJSON *previous = sr.answers ? cJSON_Parse(sr.answers) : NULL;
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(doc, "customer");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(doc, "variables");
    const struct milestone *m = catalogue_find(gw->cat, sr.milestone);
    char expires[32], action[128];
    time_t tt = (time_t)sr.expires_at;
    struct tm tm;
    localtime_r(&tt, &tm);
    snprintf(expires, sizeof expires, "%d月%d日", tm.tm_mon + 1, tm.tm_mday);
    snprintf(action, sizeof action, "/s/%s", req->path_tail);
    /* The surveys sent together with this one today, reached from here. */
    struct merged_survey ms[8];
    struct page_link links[8];
    char hrefs[8][SURVEY_TOKEN_MAX + 8];
    int nm = store_surveys_merged_into(gw->store, sid, ms, 8), nl = 0;
    for (int i = 0; i < nm; i++) {
        const struct survey_def *md = survey_set_find(gw->surveys, ms[i].survey);
        if (!md || clock_now() > ms[i].expires_at || strcmp(ms[i].state, "unanswered") == 0)
            continue;
        char tok[SURVEY_TOKEN_MAX];
        survey_token_make(gw->cfg->survey_secret, ms[i].id, ms[i].expires_at, tok);
        snprintf(hrefs[nl], sizeof hrefs[nl], "/s/%s", tok);
        links[nl].title = md->title;
        links[nl].href = hrefs[nl];
        links[nl].answered = strcmp(ms[i].state, "answered") == 0;
        nl++;
    }
    char submission[SUBMISSION_HEX + 1];
    submission_new(submission);
    struct page_ctx ctx = {
        .company_name = gw->cfg->company_name, .company_phone = gw->cfg->company_phone,
        .customer_name = jstr(cust, "name"), .customer_title = jstr(cust, "title"),
        .milestone_name = m ? m->name : NULL, .stage = jstr(vars, "stage"),
        .expires = expires, .action = action,
        .previous = pending ? pending : previous, .notice = notice, .notice_field = notice_field,
        .more = nl ? links : NULL, .nmore = (size_t)nl, .submission = submission,
    };
    resp->status = status;
    resp->body = survey_page_render(d, &ctx);
    resp->content_type = HTML;
    resp->csp = csp();
    cJSON_Delete(previous);
    cJSON_Delete(doc);
    free(sr.answers);
}

/* The survey id of the link, or -1 after answering with the right page. */
static int64_t resolve_link(struct gateway *gw, struct http_request *req,
                            struct http_response *resp)
{
    int64_t sid;
    int rc = survey_token_verify(gw->cfg->survey_secret, req->path_tail, clock_now(), &sid);
    if (rc == -2) {
        message_page(gw, resp, 410, "expired");
        return -1;
    }
    if (rc != 0) {
        message_page(gw, resp, 404, "invalid");
        return -1;
    }
    struct survey_row sr;
    if (store_survey_get(gw->store, sid, &sr) != HF_OK) {
        message_page(gw, resp, 404, "invalid");
        return -1;
    }
    free(sr.answers);
    if (strcmp(sr.state, "expired") == 0 || strcmp(sr.state, "unanswered") == 0) {
        message_page(gw, resp, 410, "closed");
        return -1;
    }
    return sid;
}

enum http_result api_get_survey(struct gateway *gw, struct http_request *req,
                                struct http_response *resp)
{
    int64_t sid = resolve_link(gw, req, resp);
    if (sid > 0)
        render(gw, req, resp, sid, 200, NULL, NULL, NULL);
    return HTTP_DONE;
}

enum http_result api_post_survey(struct gateway *gw, struct http_request *req,
                                 struct http_response *resp)
{
    /* The page's form posts application/x-www-form-urlencoded; anything
     * else is not our form (415), whatever the link. */
    const char *ct = req->content_type;
    size_t fl = strlen("application/x-www-form-urlencoded");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", fl) != 0 ||
        (ct[fl] != '\0' && ct[fl] != ';' && ct[fl] != ' ')) {
        resp->status = 415;
        resp->body = api_error_body("unsupported_media_type", NULL,
                                    "the survey form is application/x-www-form-urlencoded");
        return HTTP_DONE;
    }
    int64_t sid = resolve_link(gw, req, resp);
    if (sid < 0)
        return HTTP_DONE;
    struct survey_row sr;
    if (store_survey_get(gw->store, sid, &sr) != HF_OK) {
        message_page(gw, resp, 404, "invalid");
        return HTTP_DONE;
    }
    free(sr.answers);
    const struct survey_def *d = survey_set_find(gw->surveys, sr.survey);
    if (!d) {
        message_page(gw, resp, 404, "invalid");
        return HTTP_DONE;
    }
    cJSON *values = NULL;
    char field[64] = "", err[256] = "";
    int rc = survey_form_parse(d, req->body.data, req->body.len, &values, field, sizeof field,
                               err, sizeof err);
    if (rc != 0) {
        /* Show the page again with what is wrong; nothing is stored. */
        render(gw, req, resp, sid, 400, err[0] ? err : "提交的内容无法识别，请重新填写。",
               field[0] ? field : NULL, NULL);
        return HTTP_DONE;
    }
    /* The same form posted again (the browser retried a submit whose
     * answer never arrived, e.g. huifangd was restarted meanwhile) carries
     * the same submission id: one answer is stored, and the retry gets the
     * same thank-you page. */
    char sub[SUBMISSION_HEX + 1], key[64];
    const char *dedup = NULL;
    if (submission_of(req->body.data, req->body.len, sub) == 0) {
        snprintf(key, sizeof key, "page:%lld:%s", (long long)sid, sub);
        dedup = key;
    }
    enum answer_outcome out = answers_from_page(gw, sid, values, req->body.data, dedup);
    if (out == ANSWER_CLOSED) {
        cJSON_Delete(values);
        message_page(gw, resp, 410, "closed");
        return HTTP_DONE;
    }
    if (out == ANSWER_ERROR) {
        render(gw, req, resp, sid, 503, "暂时无法保存，请稍后再提交一次。", NULL, values);
        cJSON_Delete(values);
        return HTTP_DONE;
    }
    cJSON_Delete(values);
    render(gw, req, resp, sid, 200, "谢谢，您的回答已保存。有效期内您仍可修改。", NULL, NULL);
    return HTTP_DONE;
}
