/*
 * answers.h - recording what customers answer, from any channel, as the
 * callback result (回访结果) of their survey.
 *
 * One survey instance has one result: answers from the page, WeChat and
 * SMS are merged question by question; every answer is also kept as it
 * came (channel, raw text, parsed value, time), later ones as amendments.
 * A complete answer that is bad (a score at or below the threshold, a
 * "no" to a critical question, a bad option, complaint words) opens a
 * complaint ticket (tickets.c). Each call commits before it returns.
 */
#ifndef HF_ANSWERS_H
#define HF_ANSWERS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "reply_parse.h"

struct gateway;

enum answer_outcome {
    ANSWER_STORED = 0,   /* kept (and the survey updated) */
    ANSWER_DUPLICATE,    /* the same inbound message again: nothing changed */
    ANSWER_UNMATCHED,    /* no open survey: kept for customer service */
    ANSWER_OPTED_OUT,    /* TD/退订: the customer gets no more non-essential messages */
    ANSWER_CLOSED,       /* the survey can no longer be answered */
    ANSWER_ERROR,        /* not stored: the caller answers 5xx so it is retried */
};

/* Answers submitted on the survey page: @values {"qid": "value"} checked by
 * survey_form_parse(); @raw the form body (for the record); @dedup_key the
 * form's submission key, or NULL: a second submit with the same key (the
 * browser retrying a post whose answer was lost) changes nothing and
 * returns ANSWER_DUPLICATE. */
enum answer_outcome answers_from_page(struct gateway *gw, int64_t survey_id,
                                      const cJSON *values, const char *raw,
                                      const char *dedup_key);

/* A free-text reply (SMS upstream, WeChat text) from @mobile or @openid:
 * parsed (reply_parse), joined to the newest open survey of that person,
 * stored — or, when the SMS carried a per-survey extension code (@extend,
 * channels.sms.extend_code_digits), joined to that survey. @dedup_key identifies the inbound message so a provider's repeat
 * changes nothing. *parsed and *survey_id (or -1) tell the caller what it
 * meant, e.g. for WeChat's passive reply. */
enum answer_outcome answers_from_reply(struct gateway *gw, const char *channel,
                                       const char *mobile, const char *openid, const char *text,
                                       const char *extend, const char *dedup_key,
                                       struct reply *parsed, int64_t *survey_id);

#endif
