/*
 * survey_def.c - loading, checking and judging survey definitions.
 *
 * See survey_def.h for the file shape. Every string taken from a file is
 * checked (valid UTF-8, not blank, no control characters, a length that
 * fits a phone screen) before it is copied, and a definition is built
 * completely or not at all.
 */
#include "survey_def.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

/* Lengths in code points: what fits one line (or a few) on a phone. */
#define SURVEY_MAX_ID 48
#define SURVEY_MAX_TITLE 40
#define SURVEY_MAX_INTRO 200
#define SURVEY_MAX_QTEXT 200
#define SURVEY_MAX_OPTION 40

struct survey_set {
    struct survey_def *defs; /* sorted by id (= file name) */
    size_t n;
};

static const char *const type_names[] = {"yesno", "score", "choice", "text"};

const char *survey_q_type_name(enum q_type t)
{
    return (unsigned)t < HF_ARRAY_LEN(type_names) ? type_names[t] : "?";
}

/* ---- error reporting -------------------------------------------------- */

/* One load in progress: the file being read and where errors go. */
struct sd_load {
    const char *path;
    char *err;
    size_t errlen;
};

/* "<path>: <key>: <reason>" into the caller's buffer. Always returns -1. */
static int sd_fail(const struct sd_load *lc, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sd_fail(const struct sd_load *lc, const char *key, const char *fmt, ...)
{
    if (!lc->err || lc->errlen == 0)
        return -1;
    int n = snprintf(lc->err, lc->errlen, "%s: %s: ", lc->path, key);
    if (n < 0 || (size_t)n >= lc->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lc->err + n, lc->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- freeing ------------------------------------------------------------ */

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void question_cleanup(struct question *q)
{
    free(q->id);
    free(q->text);
    free_strv(q->options, q->noptions);
    free_strv(q->bad_options, q->nbad);
    memset(q, 0, sizeof *q);
}

static void def_cleanup(struct survey_def *d)
{
    free(d->id);
    free(d->title);
    free(d->intro);
    for (size_t i = 0; i < d->nq; i++)
        question_cleanup(&d->q[i]);
    free(d->q);
    memset(d, 0, sizeof *d);
}

void survey_set_free(struct survey_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        def_cleanup(&s->defs[i]);
    free(s->defs);
    free(s);
}

/* ---- field checks ------------------------------------------------------- */

static int valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SURVEY_MAX_ID)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

/* 1 if @s has nothing but ASCII white space and U+3000 (ideographic space). */
static int blank(const char *s)
{
    while (*s) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
            s++;
        else if ((unsigned char)s[0] == 0xE3 && (unsigned char)s[1] == 0x80 &&
                 (unsigned char)s[2] == 0x80)
            s += 3;
        else
            return 0;
    }
    return 1;
}

static int has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return 1;
    return 0;
}

/* Check a customer-facing text; 0 or -1 with the error set. */
static int check_text(const struct sd_load *lc, const char *key, const char *s, size_t max_chars)
{
    if (!utf8_valid(s, strlen(s)))
        return sd_fail(lc, key, "not valid UTF-8");
    if (blank(s))
        return sd_fail(lc, key, "must not be empty");
    if (has_control(s))
        return sd_fail(lc, key, "must not contain control characters");
    size_t n = utf8_chars(s);
    if (n > max_chars)
        return sd_fail(lc, key, "too long (%zu characters, limit %zu)", n, max_chars);
    return 0;
}

/* Reject keys outside @allowed and keys that appear twice (cJSON keeps
 * both, and only the first would ever be read). */
static int check_keys(const struct sd_load *lc, const cJSON *obj, const char *where,
                      const char *const *allowed, size_t nallowed)
{
    char key[128];
    for (const cJSON *v = obj->child; v; v = v->next) {
        snprintf(key, sizeof key, "%s%s%s", where, *where ? "." : "", v->string);
        if (!utf8_valid(v->string, strlen(v->string)))
            return sd_fail(lc, where[0] ? where : "(top)", "a key is not valid UTF-8");
        int known = 0;
        for (size_t i = 0; i < nallowed && !known; i++)
            known = strcmp(allowed[i], v->string) == 0;
        if (!known)
            return sd_fail(lc, key, "unknown key");
        for (const cJSON *w = obj->child; w != v; w = w->next)
            if (strcmp(w->string, v->string) == 0)
                return sd_fail(lc, key, "key appears twice");
    }
    return 0;
}

/* Optional boolean @name of @obj into *out (unchanged when absent). */
static int get_bool(const struct sd_load *lc, const cJSON *obj, const char *where,
                    const char *name, int *out, int *present)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (present)
        *present = v != NULL;
    if (!v)
        return 0;
    if (!cJSON_IsBool(v)) {
        char key[128];
        snprintf(key, sizeof key, "%s.%s", where, name);
        return sd_fail(lc, key, "must be true or false");
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return 0;
}

/* A string array of 1..max non-blank unique entries, copied into *out. */
static int get_strv(const struct sd_load *lc, const cJSON *arr, const char *key, size_t min,
                    size_t max, char ***out, size_t *nout)
{
    if (!cJSON_IsArray(arr))
        return sd_fail(lc, key, "must be an array of texts");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n < min || n > max)
        return sd_fail(lc, key, "must have %zu to %zu entries, not %zu", min, max, n);
    char **v = xcalloc(n, sizeof *v);
    size_t i = 0;
    char ekey[160];
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        snprintf(ekey, sizeof ekey, "%s[%zu]", key, i);
        if (!cJSON_IsString(e)) {
            sd_fail(lc, ekey, "must be a text");
            goto fail;
        }
        if (check_text(lc, ekey, e->valuestring, SURVEY_MAX_OPTION))
            goto fail;
        for (size_t j = 0; j < i; j++)
            if (strcmp(v[j], e->valuestring) == 0) {
                sd_fail(lc, ekey, "'%s' is listed twice", e->valuestring);
                goto fail;
            }
        v[i] = xstrdup(e->valuestring);
    }
    *out = v;
    *nout = n;
    return 0;
fail:
    free_strv(v, n);
    return -1;
}

/* ---- one question ------------------------------------------------------- */

static int load_question(const struct sd_load *lc, const cJSON *j, size_t idx,
                         struct question *q)
{
    static const char *const keys[] = {"id", "type", "text", "required", "critical", "main",
                                       "options", "bad_options"};
    char where[32], key[128];
    snprintf(where, sizeof where, "questions[%zu]", idx);
    if (!cJSON_IsObject(j))
        return sd_fail(lc, where, "must be an object");
    if (check_keys(lc, j, where, keys, HF_ARRAY_LEN(keys)))
        return -1;

    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    snprintf(key, sizeof key, "%s.id", where);
    if (!id)
        return sd_fail(lc, key, "missing");
    if (!cJSON_IsString(id) || !valid_id(id->valuestring))
        return sd_fail(lc, key, "must be a name of 1 to %d characters [a-z0-9_]", SURVEY_MAX_ID);
    q->id = xstrdup(id->valuestring);

    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    snprintf(key, sizeof key, "%s.type", where);
    if (!type)
        return sd_fail(lc, key, "missing");
    int t = -1;
    if (cJSON_IsString(type))
        for (size_t i = 0; i < HF_ARRAY_LEN(type_names); i++)
            if (strcmp(type_names[i], type->valuestring) == 0)
                t = (int)i;
    if (t < 0)
        return sd_fail(lc, key, "must be yesno, score, choice or text");
    q->type = (enum q_type)t;

    const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
    snprintf(key, sizeof key, "%s.text", where);
    if (!text)
        return sd_fail(lc, key, "missing");
    if (!cJSON_IsString(text))
        return sd_fail(lc, key, "must be a text");
    if (check_text(lc, key, text->valuestring, SURVEY_MAX_QTEXT))
        return -1;
    q->text = xstrdup(text->valuestring);

    q->required = q->type != Q_TEXT;
    if (get_bool(lc, j, where, "required", &q->required, NULL))
        return -1;

    int present = 0;
    if (get_bool(lc, j, where, "critical", &q->critical, &present))
        return -1;
    if (present && q->type != Q_YESNO) {
        snprintf(key, sizeof key, "%s.critical", where);
        return sd_fail(lc, key, "only a yesno question can be critical (a choice has bad_options)");
    }
    if (get_bool(lc, j, where, "main", &q->main, &present))
        return -1;
    if (present && q->type != Q_SCORE) {
        snprintf(key, sizeof key, "%s.main", where);
        return sd_fail(lc, key, "only a score question can be main");
    }

    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(j, "options");
    const cJSON *bad = cJSON_GetObjectItemCaseSensitive(j, "bad_options");
    if (q->type != Q_CHOICE) {
        snprintf(key, sizeof key, "%s.%s", where, opts ? "options" : "bad_options");
        if (opts || bad)
            return sd_fail(lc, key, "only a choice question has options");
        return 0;
    }
    snprintf(key, sizeof key, "%s.options", where);
    if (!opts)
        return sd_fail(lc, key, "a choice question needs options");
    if (get_strv(lc, opts, key, 2, SURVEY_MAX_OPTIONS, &q->options, &q->noptions))
        return -1;
    if (!bad)
        return 0;
    snprintf(key, sizeof key, "%s.bad_options", where);
    if (get_strv(lc, bad, key, 1, q->noptions - 1, &q->bad_options, &q->nbad))
        return -1;
    for (size_t i = 0; i < q->nbad; i++) {
        int found = 0;
        for (size_t k = 0; k < q->noptions && !found; k++)
            found = strcmp(q->options[k], q->bad_options[i]) == 0;
        if (!found) {
            snprintf(key, sizeof key, "%s.bad_options[%zu]", where, i);
            return sd_fail(lc, key, "'%s' is not one of the options", q->bad_options[i]);
        }
    }
    return 0;
}

/* ---- one file ------------------------------------------------------------ */

static int load_def(const struct sd_load *lc, const cJSON *root, const char *file_id,
                    struct survey_def *d)
{
    static const char *const keys[] = {"id", "title", "intro", "questions", "_comment"};
    d->main_index = -1;
    if (!cJSON_IsObject(root))
        return sd_fail(lc, "(top)", "must be a JSON object");
    if (check_keys(lc, root, "", keys, HF_ARRAY_LEN(keys)))
        return -1;

    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (!id)
        return sd_fail(lc, "id", "missing");
    if (!cJSON_IsString(id) || !valid_id(id->valuestring))
        return sd_fail(lc, "id", "must be a name of 1 to %d characters [a-z0-9_]", SURVEY_MAX_ID);
    if (strcmp(id->valuestring, file_id) != 0)
        return sd_fail(lc, "id", "'%s' does not match the file name (expected '%s')",
                       id->valuestring, file_id);
    d->id = xstrdup(id->valuestring);

    const cJSON *title = cJSON_GetObjectItemCaseSensitive(root, "title");
    if (!title)
        return sd_fail(lc, "title", "missing");
    if (!cJSON_IsString(title))
        return sd_fail(lc, "title", "must be a text");
    if (check_text(lc, "title", title->valuestring, SURVEY_MAX_TITLE))
        return -1;
    d->title = xstrdup(title->valuestring);

    const cJSON *intro = cJSON_GetObjectItemCaseSensitive(root, "intro");
    if (intro) {
        if (!cJSON_IsString(intro))
            return sd_fail(lc, "intro", "must be a text");
        if (check_text(lc, "intro", intro->valuestring, SURVEY_MAX_INTRO))
            return -1;
        d->intro = xstrdup(intro->valuestring);
    }

    const cJSON *comment = cJSON_GetObjectItemCaseSensitive(root, "_comment");
    if (comment && !cJSON_IsString(comment))
        return sd_fail(lc, "_comment", "must be a text");

    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(root, "questions");
    if (!qs)
        return sd_fail(lc, "questions", "missing");
    if (!cJSON_IsArray(qs))
        return sd_fail(lc, "questions", "must be an array of questions");
    size_t n = (size_t)cJSON_GetArraySize(qs);
    if (n < 1 || n > SURVEY_MAX_QUESTIONS)
        return sd_fail(lc, "questions", "must have 1 to %d questions, not %zu",
                       SURVEY_MAX_QUESTIONS, n);
    d->q = xcalloc(n, sizeof *d->q);
    int has_score = 0;
    char key[128];
    for (const cJSON *e = qs->child; e; e = e->next) {
        size_t i = d->nq++;  /* counted first so a half-built question is freed too */
        struct question *q = &d->q[i];
        if (load_question(lc, e, i, q))
            return -1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(d->q[k].id, q->id) == 0) {
                snprintf(key, sizeof key, "questions[%zu].id", i);
                return sd_fail(lc, key, "'%s' is used twice", q->id);
            }
        has_score |= q->type == Q_SCORE;
        if (q->main) {
            if (d->main_index >= 0) {
                snprintf(key, sizeof key, "questions[%zu].main", i);
                return sd_fail(lc, key, "only one question can be main (already '%s')",
                               d->q[d->main_index].id);
            }
            d->main_index = (int)i;
        }
    }
    if (has_score && d->main_index < 0)
        return sd_fail(lc, "questions", "a survey with a score question marks one of them "
                                        "\"main\": true (the score reports use)");
    return 0;
}

/* Read @lc->path whole (NUL-terminated), or NULL with the error set. */
static char *read_def_file(const struct sd_load *lc, size_t *len)
{
    char *data = NULL;
    FILE *f = fopen(lc->path, "rb");
    if (!f) {
        sd_fail(lc, "(file)", "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        sd_fail(lc, "(file)", "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        sd_fail(lc, "(file)", "not a regular file");
        goto out;
    }
    if (st.st_size > SURVEY_MAX_FILE) {
        sd_fail(lc, "(file)", "too large (%lld bytes, limit %d)", (long long)st.st_size,
                SURVEY_MAX_FILE);
        goto out;
    }
    data = xmalloc((size_t)st.st_size + 1);
    *len = fread(data, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        sd_fail(lc, "(file)", "read error: %s", strerror(errno));
        free(data);
        data = NULL;
        goto out;
    }
    data[*len] = '\0';
out:
    fclose(f);
    return data;
}

static int load_file(const struct sd_load *lc, const char *file_id, struct survey_def *d)
{
    size_t len = 0;
    cJSON *root = NULL;
    int rc = -1;
    char *data = read_def_file(lc, &len);
    if (!data)
        return -1;
    if (!utf8_valid(data, len)) {
        sd_fail(lc, "(file)", "not valid UTF-8 text");
        goto out;
    }
    if (memchr(data, '\0', len)) {
        sd_fail(lc, "(file)", "contains a NUL byte");
        goto out;
    }
    const char *end = NULL;
    /* Length includes the NUL: with require_null_terminated cJSON wants to
     * see it, which rejects trailing garbage. */
    root = cJSON_ParseWithLengthOpts(data, len + 1, &end, 1);
    if (!root) {
        int line = 1;
        for (const char *p = data; end && p < end && *p; p++)
            line += *p == '\n';
        sd_fail(lc, "(file)", "line %d: not valid JSON", line);
        goto out;
    }
    rc = load_def(lc, root, file_id, d);
out:
    cJSON_Delete(root);
    free(data);
    return rc;
}

/* ---- the directory ------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct survey_set *survey_set_load(const char *dir, char *err, size_t errlen)
{
    struct sd_load dl = {dir, err, errlen};
    struct survey_set *s = NULL;
    char **names = NULL;
    size_t nnames = 0;
    char *path = NULL;

    if (err && errlen)
        err[0] = '\0';
    DIR *dh = opendir(dir);
    if (!dh) {
        sd_fail(&dl, "(dir)", "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || n <= 5 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        if (nnames == SURVEY_MAX_FILES) {
            sd_fail(&dl, "(dir)", "more than %d survey definitions", SURVEY_MAX_FILES);
            closedir(dh);
            goto fail;
        }
        names = xrealloc(names, (nnames + 1) * sizeof *names);
        names[nnames++] = xstrdup(de->d_name);
    }
    closedir(dh);
    if (nnames == 0) {
        sd_fail(&dl, "(dir)", "no *.json survey definitions");
        goto fail;
    }
    qsort(names, nnames, sizeof *names, cmp_str);

    s = xcalloc(1, sizeof *s);
    s->defs = xcalloc(nnames, sizeof *s->defs);
    size_t dlen = strlen(dir);
    int slash = dlen > 0 && dir[dlen - 1] == '/';
    for (size_t i = 0; i < nnames; i++) {
        path = xasprintf("%s%s%s", dir, slash ? "" : "/", names[i]);
        struct sd_load lc = {path, err, errlen};
        /* The file name without ".json" is the id it must declare. */
        names[i][strlen(names[i]) - 5] = '\0';
        struct survey_def *d = &s->defs[s->n++];
        if (load_file(&lc, names[i], d))
            goto fail;
        /* Ids equal file names, which are unique in a directory; the
         * check keeps the set's contract (unique ids) local and explicit. */
        for (size_t k = 0; k + 1 < s->n; k++)
            if (strcmp(s->defs[k].id, d->id) == 0) {
                sd_fail(&lc, "id", "'%s' is used by another file", d->id);
                goto fail;
            }
        free(path);
        path = NULL;
    }
    free_strv(names, nnames);
    LOG_DEBUG("survey", "loaded dir=%s surveys=%zu", dir, s->n);
    return s;
fail:
    free(path);
    free_strv(names, nnames);
    survey_set_free(s);
    return NULL;
}

const struct survey_def *survey_set_find(const struct survey_set *s, const char *id)
{
    if (!s || !id)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->defs[i].id, id) == 0)
            return &s->defs[i];
    return NULL;
}

size_t survey_set_count(const struct survey_set *s)
{
    return s ? s->n : 0;
}

const struct survey_def *survey_set_at(const struct survey_set *s, size_t i)
{
    return s && i < s->n ? &s->defs[i] : NULL;
}

const struct question *survey_find_question(const struct survey_def *d, const char *qid)
{
    if (!d || !qid)
        return NULL;
    for (size_t i = 0; i < d->nq; i++)
        if (strcmp(d->q[i].id, qid) == 0)
            return &d->q[i];
    return NULL;
}

/* ---- answers --------------------------------------------------------------- */

/* "1".."10" strictly (no sign, space or leading zero); the value or -1. */
static int parse_score(const char *v)
{
    if (v[0] >= '1' && v[0] <= '9' && v[1] == '\0')
        return v[0] - '0';
    if (strcmp(v, "10") == 0)
        return 10;
    return -1;
}

static int is_option(char *const *opts, size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(opts[i], v) == 0)
            return 1;
    return 0;
}

int survey_answer_valid(const struct question *q, const char *value)
{
    if (!q || !value)
        return 0;
    switch (q->type) {
    case Q_YESNO:
        return strcmp(value, "yes") == 0 || strcmp(value, "no") == 0;
    case Q_SCORE:
        return parse_score(value) >= SURVEY_SCORE_MIN;
    case Q_CHOICE:
        return is_option(q->options, q->noptions, value);
    case Q_TEXT:
        return utf8_valid(value, strlen(value));
    }
    return 0;
}

int survey_judge(const struct survey_def *d, const char *const *qids, const char *const *values,
                 size_t n, int threshold, int *score, const char **why)
{
    HF_ASSERT(d);
    HF_ASSERT(n == 0 || (qids && values));
    int sc = -1, critical_no = 0, bad_option = 0;

    /* Walk the questions, not the answers: each question's last valid
     * answer is the one that counts. */
    for (size_t qi = 0; qi < d->nq; qi++) {
        const struct question *q = &d->q[qi];
        const char *last = NULL;
        for (size_t i = 0; i < n; i++)
            if (qids[i] && values[i] && strcmp(qids[i], q->id) == 0 &&
                survey_answer_valid(q, values[i]))
                last = values[i];
        if (!last)
            continue;
        if (q->type == Q_YESNO && q->critical && strcmp(last, "no") == 0)
            critical_no = 1;
        else if (q->type == Q_CHOICE && is_option(q->bad_options, q->nbad, last))
            bad_option = 1;
        else if (q->type == Q_SCORE && (int)qi == d->main_index)
            sc = parse_score(last);
    }

    const char *reason = NULL;
    if (critical_no)
        reason = SURVEY_WHY_CRITICAL;
    else if (bad_option)
        reason = SURVEY_WHY_BAD_OPTION;
    else if (sc >= 0 && sc <= threshold)
        reason = SURVEY_WHY_SCORE;
    if (score)
        *score = sc;
    if (why)
        *why = reason;
    return reason != NULL;
}
