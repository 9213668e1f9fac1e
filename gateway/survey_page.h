/*
 * survey_page.h - the customer's survey page (GET/POST /s/<token>) as pure
 * functions: render the form for one survey definition, render the short
 * message pages (expired, invalid, thanks, closed), and parse the posted
 * form. No store, no HTTP, no I/O: the daemon's route looks the instance up,
 * calls these, and sends the result.
 *
 * The pages are made for a phone inside WeChat's browser and plain mobile
 * browsers:
 *   - one self-contained HTML5 document, UTF-8, a viewport meta, one inline
 *     <style> block and nothing else: no script, no image, no font, no
 *     external resource of any kind, no inline event handler, no style=""
 *     attribute;
 *   - it carries its own Content-Security-Policy <meta> (default-src 'none',
 *     the stylesheet allowed by its sha256 hash, form-action 'self',
 *     base-uri 'none'); the route should send the same policy as a header
 *     too (survey_page_csp()), which can add frame-ancestors;
 *   - readable and submittable without JavaScript: a plain
 *     <form method="post">, radio groups for yes/no, score and choice
 *     questions (styled as big tappable boxes), a textarea for text;
 *     required questions carry the HTML `required` attribute as well, the
 *     server check (survey_form_parse) is the one that counts;
 *   - every dynamic string (company, customer, question texts, options,
 *     previous answers, the notice) is HTML-escaped; invalid UTF-8 in
 *     them is replaced by U+FFFD and control characters other than TAB,
 *     LF and CR are dropped.
 *
 * Form field names are the question ids; values are "yes"/"no" for yes/no
 * questions, "1".."10" for scores, the option text itself for choices, and
 * the text for text questions. A hidden field "_" (value "1") keeps the
 * body non-empty when nothing is answered; the parser ignores it.
 *
 * Everything here is pure computation and may be called from loop callbacks.
 *
 * Depends on survey_def, util, log and cJSON only.
 */
#ifndef HF_SURVEY_PAGE_H
#define HF_SURVEY_PAGE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "survey_def.h"
#include "util.h"

/* Limits on what a customer may post (enforced before anything is kept). */
#define SURVEY_FORM_MAX_BODY 16384  /* bytes of the urlencoded body */
#define SURVEY_TEXT_MAX_CHARS 1000  /* code points per text answer, after trimming */

/* What the page shows besides the survey definition. All strings borrowed,
 * NULL allowed for every one (a neutral fallback is shown, or the element is
 * left out). Zero-initialise the struct and set what you have. */
/* Another survey reached through this page (surveys due the same day are
 * sent as one message with one link: the others are listed on its page). */
struct page_link {
    const char *title;          /* "完工评定确认" */
    const char *href;           /* same-origin path "/s/<token>" */
    int answered;               /* 1: already answered (shown as such) */
};

struct page_ctx {
    const char *company_name;   /* header and footer; NULL -> "客户服务" */
    const char *company_phone;  /* service phone at the bottom, as a tel: link */
    const char *customer_name;  /* "张伟" */
    const char *customer_title; /* "先生"; greeting "张伟先生，您好！" */
    const char *milestone_name; /* "竣工验收" */
    const char *stage;          /* stage_acceptance's stage ("水电"), or NULL */
    const char *expires;        /* "12月1日", shown as "12月1日前有效" */
    const char *action;         /* form action path "/s/<token>" (same origin) */
    const cJSON *previous;      /* answers already given {"qid": "value"}: prefilled,
                                   and the page says they can be amended; or NULL.
                                   Numbers are accepted for scores too. */
    const char *notice;         /* banner text ("谢谢，您的回答已保存" or the @err of
                                   survey_form_parse()), or NULL for no banner */
    const struct page_link *more; /* the other surveys of today's message, or NULL */
    size_t nmore;
    const char *notice_field;   /* when the notice is an error about one question:
                                   that question's id (the @field of
                                   survey_form_parse()). The banner is then shown
                                   as an error, links to the question, and the
                                   question's card is highlighted. NULL: the
                                   banner is a confirmation (green). */
    const char *submission;     /* this form's submission id (hex), sent back as the
                                   hidden field "n": submitting the same form twice
                                   (a browser retry after a lost answer) stores one
                                   answer. NULL: no such field. */
};

/*
 * The whole survey page for @d. @d and @ctx are borrowed.
 * Never NULL. Caller owns the result; free with free().
 */
char *survey_page_render(const struct survey_def *d, const struct page_ctx *ctx);

/*
 * A friendly full page for a link that cannot show the form, or for the
 * thank-you after a submit. @kind is "expired" | "invalid" | "thanks" |
 * "closed"; anything else (NULL included) is rendered as "invalid". The page
 * shows only the company name, the kind's fixed text and the service phone:
 * never an id, a token or anything about a customer. @company_name and
 * @company_phone may be NULL.
 * Never NULL. Caller owns the result; free with free().
 */
char *survey_page_message(const char *kind, const char *company_name, const char *company_phone);

/*
 * The Content-Security-Policy the pages are written for, for the route to
 * send as a header:
 *   default-src 'none'; style-src 'sha256-<hash of the inline stylesheet>';
 *   form-action 'self'; base-uri 'none'; frame-ancestors 'none'
 * Writes it NUL-terminated into @out (160 bytes are enough; truncated if
 * @outlen is smaller).
 */
void survey_page_csp(char *out, size_t outlen);

/*
 * Parse an application/x-www-form-urlencoded body of @len bytes (need not be
 * NUL-terminated) against @d.
 *
 * Decoding: pairs split on '&', name and value split on the first '=',
 * '+' is a space, "%XY" needs two hex digits. Every decoded name and value
 * must be valid UTF-8 (strict: no overlongs, no surrogates).
 *
 * Values per question type:
 *   yes/no  "yes" or "no"
 *   score   "1" .. "10" exactly (no sign, no leading zero, no spaces)
 *   choice  exactly one of the question's options (the option text)
 *   text    any UTF-8 up to SURVEY_TEXT_MAX_CHARS code points; CR LF and a
 *           lone CR become LF, a tab becomes a space, other control
 *           characters (C0 except LF, DEL, C1) are refused; leading and
 *           trailing spaces, newlines and U+3000 are trimmed.
 * An empty value (or, for text, one that trims to nothing) means "not
 * answered". Fields that name no question, and the field "_", are ignored
 * (their contents must still decode to valid UTF-8).
 *
 * Duplicate fields: a question id that appears twice is refused (-1 with
 * @field set), even when both values are equal. A browser never sends a
 * radio group or a textarea twice, so a duplicate is a forged or broken
 * client, and "last one wins" would silently store a value the customer
 * may not have seen.
 *
 * Returns:
 *    0  *answers = {"qid": "value", ...} holding the answered questions
 *       only, in question order (an empty object when nothing was answered
 *       and nothing is required).
 *   -1  one question's answer is at fault: @field = its id, @err = a Chinese
 *       sentence for the banner naming the question, e.g.
 *       "请回答：您对本次装修的整体满意度打几分？" (missing required answer),
 *       "请重新选择：…" (value not allowed), "内容过长，最多1000字：…",
 *       "内容含有无法识别的字符：…", "同一题目收到多个回答，请重新提交：…".
 *       Value errors are reported before missing answers, each in question
 *       order.
 *   -2  the body as a whole is refused (over SURVEY_FORM_MAX_BODY bytes,
 *       bad percent-encoding, invalid UTF-8 outside a question's value):
 *       @field = "", @err = a Chinese sentence.
 * On failure *answers is NULL. @field/@err may be NULL with length 0;
 * @err is truncated on a UTF-8 character boundary.
 * Caller owns *answers; free with cJSON_Delete().
 */
int survey_form_parse(const struct survey_def *d, const char *body, size_t len, cJSON **answers,
                      char *field, size_t fieldlen, char *err, size_t errlen);

/* Helpers shared with the console's server-rendered pages (console.c).
 * page_html_escape: append @s HTML-escaped to @b (text and double-quoted
 * attributes; invalid UTF-8 -> U+FFFD, control characters dropped; NULL
 * appends nothing). page_form_decode: decode @n bytes of
 * application/x-www-form-urlencoded text; NULL on a bad %-escape; caller
 * frees the result. */
void page_html_escape(struct buf *b, const char *s);
char *page_form_decode(const char *s, size_t n, size_t *outlen);

#endif
