/*
 * survey_def.h - survey definitions: the questions a customer answers on
 * the survey page (or by WeChat / SMS reply), loaded as data from
 * templates/surveys/<id>.json, and the rule that turns a set of answers
 * into "open a complaint ticket or not".
 *
 * File shape (one survey per file, the file name is the survey id):
 *   {"id": "completion",                     [a-z0-9_], equal to the file name
 *    "title": "竣工回访",                     non-empty
 *    "intro": "感谢您选择我们……",              optional, non-empty
 *    "_comment": "...",                       optional, ignored
 *    "questions": [                           1..SURVEY_MAX_QUESTIONS
 *      {"id": "score", "type": "score",       id unique in the survey; type yesno,
 *                                             score (1-10), choice or text
 *       "text": "请为本次装修整体打分（1-10分）",
 *       "required": true,                     optional; default true, false for text
 *       "main": true},                        score only; at most one per survey, and
 *                                             a survey with a score question has one
 *      {"id": "materials_ok", "type": "yesno", "text": "...",
 *       "critical": true},                    yesno only: a "no" opens a ticket
 *      {"id": "response", "type": "choice", "text": "...",
 *       "options": ["很及时", "一般", "不及时"],  choice only, 2..SURVEY_MAX_OPTIONS, unique
 *       "bad_options": ["不及时"]}]}           choice only, among options; choosing one
 *                                             counts like a critical "no"
 *
 * Loading is strict: unknown or duplicate keys, wrong types, keys that do
 * not fit the question type, empty or blank texts, control characters and
 * non-UTF-8 bytes are refused with "<file>: <key>: <reason>", so a typo
 * stops the start (or the reload), never a customer's page.
 *
 * Leaf module: util.h, log.h and cJSON only; never includes gateway.h.
 */
#ifndef HF_SURVEY_DEF_H
#define HF_SURVEY_DEF_H

#include <stddef.h>

#define SURVEY_MAX_QUESTIONS 20
#define SURVEY_MAX_OPTIONS 12
#define SURVEY_MAX_FILE (64 * 1024)   /* bytes per definition file */
#define SURVEY_MAX_FILES 256          /* definitions per directory */
#define SURVEY_SCORE_MIN 1
#define SURVEY_SCORE_MAX 10

/* The reasons survey_judge() names (static strings, stable: tickets and
 * reports store them). */
#define SURVEY_WHY_CRITICAL "critical"     /* "no" to a critical yes/no question */
#define SURVEY_WHY_BAD_OPTION "bad_option" /* a choice listed in bad_options */
#define SURVEY_WHY_SCORE "score"           /* main score at or below the threshold */

enum q_type { Q_YESNO = 0, Q_SCORE, Q_CHOICE, Q_TEXT };

struct question {
    char *id;            /* "materials_ok", unique within the survey */
    enum q_type type;
    char *text;          /* shown to the customer, Simplified Chinese */
    int required;        /* the page insists on an answer */
    int critical;        /* yesno only: "no" opens a ticket */
    int main;            /* score only: the survey's score for reports */
    char **options;      /* choice only, in display order */
    size_t noptions;
    char **bad_options;  /* choice only, a subset of options */
    size_t nbad;
};

struct survey_def {
    char *id;            /* "completion" (the file name without .json) */
    char *title;         /* "竣工回访" */
    char *intro;         /* NULL when the file has none */
    struct question *q;
    size_t nq;
    int main_index;      /* index of the main score question, -1 none */
};

struct survey_set;

/* Name of a question type ("yesno", "score", "choice", "text"). */
const char *survey_q_type_name(enum q_type t);

/*
 * Load every "*.json" file of @dir (hidden files are skipped, other names
 * ignored) into a new set, in file-name order. Any invalid file fails the
 * whole load: @err gets "<path>: <key>: <reason>" (key "(dir)" for the
 * directory, "(file)" for a file as a whole, "(top)" for its object) and
 * NULL is returned. A directory without definitions is an error too.
 * Not for loop callbacks on a hot path (reads files synchronously).
 * Caller owns the result; free with survey_set_free().
 */
struct survey_set *survey_set_load(const char *dir, char *err, size_t errlen);

/* Free @s and every definition in it. NULL is a no-op. */
void survey_set_free(struct survey_set *s);

/* The definition with @id, or NULL. Borrowed: valid until survey_set_free(). */
const struct survey_def *survey_set_find(const struct survey_set *s, const char *id);

/* Number of definitions in @s (0 for NULL). */
size_t survey_set_count(const struct survey_set *s);

/* The @i-th definition in id order (i < survey_set_count()), or NULL.
 * Borrowed, like survey_set_find(). */
const struct survey_def *survey_set_at(const struct survey_set *s, size_t i);

/* The question of @d with id @qid, or NULL. Borrowed from @d. */
const struct question *survey_find_question(const struct survey_def *d, const char *qid);

/*
 * 1 if @value is a well-formed answer to @q: "yes"/"no" for yesno,
 * "1".."10" for score (no sign, spaces or leading zeros), one of the
 * options for choice, any valid UTF-8 for text. 0 otherwise.
 */
int survey_answer_valid(const struct question *q, const char *value);

/*
 * Judge a complete set of answers to @d: @qids[i] answered @values[i]
 * (already normalised: "yes"/"no", "1".."10", an option, free text), for
 * i < @n. Answers to unknown questions and malformed values are ignored
 * (the reply parser flags those); when a question is answered twice the
 * last answer counts.
 *
 * *score (if @score is not NULL) gets the main score, or -1 when the
 * survey has none or it was not answered. Returns 1 when the answers must
 * open a complaint ticket, 0 otherwise. Reasons, in this order of
 * precedence: a "no" to a critical question (SURVEY_WHY_CRITICAL), a bad
 * option (SURVEY_WHY_BAD_OPTION), the main score at or below @threshold
 * (SURVEY_WHY_SCORE; a threshold below 1 never fires). *why (if @why is
 * not NULL) gets that static string, or NULL when no ticket is due.
 * Pure function; safe anywhere.
 */
int survey_judge(const struct survey_def *d, const char *const *qids, const char *const *values,
                 size_t n, int threshold, int *score, const char **why);

#endif
