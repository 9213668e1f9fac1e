/*
 * template.c - "{{placeholder}}" texts and the message template files.
 *
 * A compiled text is an array of parts, each either a literal chunk or a
 * variable name. Compiling does all the syntax work once, at load time,
 * so rendering on the send path is a linear walk with no parsing.
 */
#include "template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

/* Largest template file we read: real ones are ~2 KiB. */
#define MSG_TEMPLATE_MAX_FILE (256 * 1024)

/* ==== the text engine ================================================= */

/* Part kinds. A section "{{#name}}...{{/name}}" is shown only when the
 * variable is non-empty, so optional data (a project without a
 * supervisor) leaves no dangling label like "验收监理：。". */
enum { PART_TEXT = 0, PART_VAR = 1, PART_OPEN = 2, PART_CLOSE = 3 };

struct tmpl_part {
    int is_var;  /* a PART_* kind (the name is historical: PART_VAR == 1) */
    char *s;     /* chunk or name, NUL-terminated */
    size_t len;  /* strlen(s) */
    size_t end;  /* PART_OPEN: index of its PART_CLOSE */
};

#define TMPL_MAX_DEPTH 8

struct tmpl {
    size_t nparts;
    struct tmpl_part *parts;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void tmpl_add(struct tmpl *t, int is_var, const char *s, size_t len)
{
    t->parts = xrealloc(t->parts, (t->nparts + 1) * sizeof(*t->parts));
    t->parts[t->nparts].end = 0;
    t->parts[t->nparts].is_var = is_var;
    t->parts[t->nparts].s = xstrndup(s, len);
    t->parts[t->nparts].len = len;
    t->nparts++;
}

static int is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Describe byte @ch for an error message: 'X' when printable ASCII,
 * else its hex value (the first byte of a multi-byte character). */
static void describe_byte(char ch, char out[16])
{
    unsigned char u = (unsigned char)ch;
    if (u > 0x20 && u < 0x7f)
        snprintf(out, 16, "'%c'", ch);
    else
        snprintf(out, 16, "byte 0x%02x", u);
}

/* Parse the inside of one placeholder, src[b..e) (between "{{" and "}}"),
 * and append the name to @t. @open is the offset of the "{{". */
static int parse_placeholder(struct tmpl *t, const char *src, size_t open, size_t b, size_t e,
                             char *err, size_t errlen)
{
    while (b < e && is_space(src[b]))
        b++;
    int kind = PART_VAR;
    if (b < e && (src[b] == '#' || src[b] == '/')) {
        kind = src[b] == '#' ? PART_OPEN : PART_CLOSE;
        b++;
        while (b < e && is_space(src[b]))
            b++;
    }
    size_t ns = b;
    while (b < e && is_name_char(src[b]))
        b++;
    size_t ne = b;
    while (b < e && is_space(src[b]))
        b++;
    if (b < e) {
        char what[16];
        describe_byte(src[b], what);
        set_err(err, errlen, "bad character %s in placeholder at offset %zu", what, b);
        return -1;
    }
    if (ns == ne) {
        set_err(err, errlen, "empty placeholder name at offset %zu", open);
        return -1;
    }
    /* Dots separate non-empty segments: no leading, trailing or double dot. */
    for (size_t i = ns; i < ne; i++) {
        if (src[i] == '.' && (i == ns || i + 1 == ne || src[i + 1] == '.')) {
            set_err(err, errlen, "empty name segment in placeholder at offset %zu", i);
            return -1;
        }
    }
    tmpl_add(t, kind, src + ns, ne - ns);
    return 0;
}

struct tmpl *tmpl_compile(const char *src, char *err, size_t errlen)
{
    HF_ASSERT(src != NULL);
    struct tmpl *t = xcalloc(1, sizeof(*t));
    size_t stack[TMPL_MAX_DEPTH], depth = 0;
    const char *p = src;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) {
            tmpl_add(t, 0, p, strlen(p));
            break;
        }
        if (open > p)
            tmpl_add(t, 0, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            set_err(err, errlen, "unclosed \"{{\" at offset %zu", (size_t)(open - src));
            goto fail;
        }
        if (parse_placeholder(t, src, (size_t)(open - src), (size_t)(open + 2 - src),
                              (size_t)(close - src), err, errlen) != 0)
            goto fail;
        struct tmpl_part *last = &t->parts[t->nparts - 1];
        if (last->is_var == PART_OPEN) {
            if (depth == TMPL_MAX_DEPTH) {
                set_err(err, errlen, "sections nested too deep at offset %zu",
                        (size_t)(open - src));
                goto fail;
            }
            stack[depth++] = t->nparts - 1;
        } else if (last->is_var == PART_CLOSE) {
            if (depth == 0 || strcmp(t->parts[stack[depth - 1]].s, last->s) != 0) {
                set_err(err, errlen, "\"{{/%s}}\" at offset %zu closes no open section", last->s,
                        (size_t)(open - src));
                goto fail;
            }
            t->parts[stack[--depth]].end = t->nparts - 1;
        }
        p = close + 2;
    }
    if (depth > 0) {
        set_err(err, errlen, "section \"{{#%s}}\" is never closed", t->parts[stack[depth - 1]].s);
        goto fail;
    }
    return t;
fail:
    tmpl_free(t);
    return NULL;
}

void tmpl_free(struct tmpl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nparts; i++)
        free(t->parts[i].s);
    free(t->parts);
    free(t);
}

int tmpl_check(const struct tmpl *t, tmpl_known_fn known, void *arg, const char **bad)
{
    HF_ASSERT(t != NULL && known != NULL);
    for (size_t i = 0; i < t->nparts; i++) {
        if (t->parts[i].is_var != PART_TEXT && !known(arg, t->parts[i].s)) {
            if (bad)
                *bad = t->parts[i].s;
            return -1;
        }
    }
    return 0;
}

int tmpl_uses(const struct tmpl *t, const char *name)
{
    if (!t)
        return 0;
    for (size_t i = 0; i < t->nparts; i++)
        if (t->parts[i].is_var && strcmp(t->parts[i].s, name) == 0)
            return 1;
    return 0;
}

char *tmpl_render(const struct tmpl *t, tmpl_lookup_fn lookup, void *arg)
{
    HF_ASSERT(t != NULL && lookup != NULL);
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < t->nparts; i++) {
        const struct tmpl_part *pt = &t->parts[i];
        if (pt->is_var == PART_TEXT) {
            buf_append(&b, pt->s, pt->len);
            continue;
        }
        if (pt->is_var == PART_CLOSE)
            continue;
        const char *v = lookup(arg, pt->s);
        if (pt->is_var == PART_OPEN) {
            if (!v || !*v)
                i = pt->end; /* skip the section */
            continue;
        }
        if (v)
            buf_puts(&b, v);
    }
    return buf_steal(&b);
}

/* 1 if any placeholder of @t names a link: last segment "link" or "url". */
static int tmpl_uses_link(const struct tmpl *t)
{
    for (size_t i = 0; i < t->nparts; i++) {
        if (!t->parts[i].is_var)
            continue;
        const char *dot = strrchr(t->parts[i].s, '.');
        const char *last = dot ? dot + 1 : t->parts[i].s;
        if (strcmp(last, "link") == 0 || strcmp(last, "url") == 0)
            return 1;
    }
    return 0;
}

/* ==== SMS length ======================================================= */

size_t sms_length(const char *sign_name, const char *text)
{
    size_t n = text ? utf8_chars(text) : 0;
    if (sign_name && *sign_name)
        n += utf8_chars(sign_name) + 2; /* 【 and 】 count one each */
    return n;
}

int sms_segments(size_t length)
{
    if (length == 0)
        return 0;
    if (length <= 70)
        return 1;
    return (int)((length + 66) / 67);
}

/* ==== message template files ========================================== */

struct load_ctx {
    const char *path;
    tmpl_known_fn known;
    void *arg;
    char *err;
    size_t errlen;
};

/* "path: key: reason" (or "path: reason" when @key is NULL). Returns -1. */
static int load_fail(struct load_ctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int load_fail(struct load_ctx *c, const char *key, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (key)
        set_err(c->err, c->errlen, "%s: %s: %s", c->path, key, reason);
    else
        set_err(c->err, c->errlen, "%s: %s", c->path, reason);
    return -1;
}

/* Read the whole file at c->path into a new NUL-terminated string. */
static char *read_file(struct load_ctx *c, size_t *len)
{
    FILE *f = fopen(c->path, "rb");
    if (!f) {
        load_fail(c, NULL, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        load_fail(c, NULL, "not a regular file");
        fclose(f);
        return NULL;
    }
    if (st.st_size > MSG_TEMPLATE_MAX_FILE) {
        load_fail(c, NULL, "file too large (%lld bytes, limit %d)", (long long)st.st_size,
                  MSG_TEMPLATE_MAX_FILE);
        fclose(f);
        return NULL;
    }
    /* Read at most limit + 1 bytes, in case the file grew since fstat(). */
    char *data = xmalloc((size_t)MSG_TEMPLATE_MAX_FILE + 2);
    size_t n = fread(data, 1, (size_t)MSG_TEMPLATE_MAX_FILE + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        load_fail(c, NULL, "read error");
        free(data);
        return NULL;
    }
    if (n > MSG_TEMPLATE_MAX_FILE) {
        load_fail(c, NULL, "file too large (limit %d bytes)", MSG_TEMPLATE_MAX_FILE);
        free(data);
        return NULL;
    }
    data[n] = '\0';
    *len = n;
    return data;
}

/* Check that @obj's keys are all in @allowed (NULL-terminated; NULL
 * @allowed = any key) and none repeats. @where is the object's key path,
 * NULL for the top level. */
static int check_keys(struct load_ctx *c, const cJSON *obj, const char *where,
                      const char *const *allowed)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        if (!utf8_valid(it->string, strlen(it->string)))
            return load_fail(c, where, "invalid UTF-8 in a key");
        if (allowed) {
            int ok = 0;
            for (const char *const *a = allowed; *a; a++)
                if (strcmp(*a, it->string) == 0)
                    ok = 1;
            if (!ok)
                return load_fail(c, where, "unknown key '%s'", it->string);
        }
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (strcmp(prev->string, it->string) == 0)
                return load_fail(c, where, "duplicate key '%s'", it->string);
    }
    return 0;
}

/* Provider parameter / WeChat field names: [A-Za-z0-9_], 1..64 bytes. */
static int valid_ident(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return 0;
    }
    return 1;
}

/* @it must be a non-empty (unless @allow_empty) valid UTF-8 string.
 * Returns its value, or NULL after load_fail(). */
static const char *get_string(struct load_ctx *c, const cJSON *it, const char *key,
                              int allow_empty)
{
    if (!cJSON_IsString(it) || !it->valuestring) {
        load_fail(c, key, "must be a string");
        return NULL;
    }
    const char *s = it->valuestring;
    if (!utf8_valid(s, strlen(s))) {
        load_fail(c, key, "invalid UTF-8");
        return NULL;
    }
    if (!allow_empty && *s == '\0') {
        load_fail(c, key, "must not be empty");
        return NULL;
    }
    return s;
}

/* Compile the string @it (key path @key) and check its placeholders. */
static struct tmpl *compile_field(struct load_ctx *c, const cJSON *it, const char *key,
                                  int allow_empty)
{
    const char *s = get_string(c, it, key, allow_empty);
    if (!s)
        return NULL;
    char why[256];
    struct tmpl *t = tmpl_compile(s, why, sizeof(why));
    if (!t) {
        load_fail(c, key, "%s", why);
        return NULL;
    }
    const char *bad = NULL;
    if (tmpl_check(t, c->known, c->arg, &bad) != 0) {
        load_fail(c, key, "unknown placeholder {{%s}}", bad);
        tmpl_free(t);
        return NULL;
    }
    return t;
}

/* Load an object of name -> template string (sms.params, wechat.data).
 * Allocates *names and *values for every member, filling *n as it goes so that
 * msg_template_free() cleans a partial result. */
static int load_map(struct load_ctx *c, const cJSON *obj, const char *where, int sms_param,
                    size_t *n, char ***names, struct tmpl ***values)
{
    if (!cJSON_IsObject(obj))
        return load_fail(c, where, "must be an object");
    if (check_keys(c, obj, where, NULL) != 0)
        return -1;
    size_t count = (size_t)cJSON_GetArraySize(obj);
    *names = xcalloc(count ? count : 1, sizeof(**names));
    *values = xcalloc(count ? count : 1, sizeof(**values));
    *n = 0;
    for (const cJSON *it = obj->child; it; it = it->next) {
        char key[160];
        snprintf(key, sizeof(key), "%s.%s", where, it->string);
        if (!valid_ident(it->string))
            return load_fail(c, key, "bad name (use letters, digits and '_')");
        struct tmpl *v = compile_field(c, it, key, 0);
        if (!v)
            return -1;
        (*names)[*n] = xstrdup(it->string);
        (*values)[*n] = v;
        (*n)++;
        /* Aliyun and Tencent refuse links inside variables. */
        if (sms_param && (strstr(it->valuestring, "://") || tmpl_uses_link(v)))
            return load_fail(c, key,
                             "links are not allowed in SMS variables; put the link in the "
                             "preview (the provider template text)");
    }
    return 0;
}

static int load_sms(struct load_ctx *c, const cJSON *sms, struct msg_template *t)
{
    static const char *const keys[] = {"template_code", "params", "preview", "parts", NULL};
    if (!cJSON_IsObject(sms))
        return load_fail(c, "sms", "must be an object");
    if (check_keys(c, sms, "sms", keys) != 0)
        return -1;
    t->sms.present = 1;

    const cJSON *code = cJSON_GetObjectItemCaseSensitive(sms, "template_code");
    if (!code)
        return load_fail(c, "sms", "missing key template_code");
    const char *s = get_string(c, code, "sms.template_code", 0);
    if (!s)
        return -1;
    t->sms.template_code = xstrdup(s);

    const cJSON *params = cJSON_GetObjectItemCaseSensitive(sms, "params");
    if (params && load_map(c, params, "sms.params", 1, &t->sms.nparams, &t->sms.param_names,
                           &t->sms.param_values) != 0)
        return -1;

    const cJSON *preview = cJSON_GetObjectItemCaseSensitive(sms, "preview");
    if (!preview)
        return load_fail(c, "sms", "missing key preview");
    t->sms.preview = compile_field(c, preview, "sms.preview", 0);
    if (!t->sms.preview)
        return -1;
    if (strstr(preview->valuestring, "【"))
        return load_fail(c, "sms.preview",
                         "must not contain the signature: the platform adds 【sign】");

    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(sms, "parts");
    t->sms.parts = 1;
    if (parts) {
        if (!cJSON_IsNumber(parts) || parts->valuedouble != (double)parts->valueint ||
            parts->valueint < 1 || parts->valueint > MSG_TEMPLATE_MAX_PARTS)
            return load_fail(c, "sms.parts", "must be a whole number of SMS parts 1..%d",
                             MSG_TEMPLATE_MAX_PARTS);
        t->sms.parts = parts->valueint;
    }
    return 0;
}

static int load_wechat(struct load_ctx *c, const cJSON *wx, struct msg_template *t)
{
    static const char *const keys[] = {"template_id", "url", "data", NULL};
    if (!cJSON_IsObject(wx))
        return load_fail(c, "wechat", "must be an object");
    if (check_keys(c, wx, "wechat", keys) != 0)
        return -1;
    t->wechat.present = 1;

    const cJSON *id = cJSON_GetObjectItemCaseSensitive(wx, "template_id");
    if (!id)
        return load_fail(c, "wechat", "missing key template_id");
    const char *s = get_string(c, id, "wechat.template_id", 0);
    if (!s)
        return -1;
    t->wechat.template_id = xstrdup(s);

    const cJSON *url = cJSON_GetObjectItemCaseSensitive(wx, "url");
    if (url) {
        t->wechat.url = compile_field(c, url, "wechat.url", 1);
        if (!t->wechat.url)
            return -1;
    }

    const cJSON *data = cJSON_GetObjectItemCaseSensitive(wx, "data");
    if (!data)
        return load_fail(c, "wechat", "missing key data");
    if (load_map(c, data, "wechat.data", 0, &t->wechat.nfields, &t->wechat.field_names,
                 &t->wechat.field_values) != 0)
        return -1;
    if (t->wechat.nfields == 0)
        return load_fail(c, "wechat.data", "must have at least one field");
    return 0;
}

/* 1-based line and column of byte @off in @s, for JSON syntax errors. */
static void line_col(const char *s, size_t off, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && s[i]; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

struct msg_template *msg_template_load(const char *path, const char *name, tmpl_known_fn known,
                                       void *arg, char *err, size_t errlen)
{
    HF_ASSERT(path != NULL && known != NULL);
    struct load_ctx c = {.path = path, .known = known, .arg = arg, .err = err, .errlen = errlen};
    static const char *const keys[] = {"text", "sms", "wechat", NULL};
    struct msg_template *t = NULL;
    cJSON *root = NULL;
    size_t len = 0;

    char *data = read_file(&c, &len);
    if (!data)
        return NULL;
    if (strlen(data) != len) {
        load_fail(&c, NULL, "file contains a NUL byte");
        goto fail;
    }
    /* The length includes the NUL: with require_null_terminated, cJSON
     * wants to see it after the value (trailing garbage is an error). */
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(data, len + 1, &end, 1);
    if (!root) {
        size_t line, col;
        size_t off = end && end >= data && end <= data + len ? (size_t)(end - data) : 0;
        line_col(data, off, &line, &col);
        load_fail(&c, NULL, "invalid JSON near line %zu, column %zu", line, col);
        goto fail;
    }
    if (!cJSON_IsObject(root)) {
        load_fail(&c, NULL, "the top level must be a JSON object");
        goto fail;
    }
    if (check_keys(&c, root, NULL, keys) != 0)
        goto fail;

    t = xcalloc(1, sizeof(*t));
    t->name = xstrdup(name ? name : path);

    const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text");
    if (!text) {
        load_fail(&c, NULL, "missing key text");
        goto fail;
    }
    t->text = compile_field(&c, text, "text", 0);
    if (!t->text)
        goto fail;

    const cJSON *sms = cJSON_GetObjectItemCaseSensitive(root, "sms");
    if (sms && load_sms(&c, sms, t) != 0)
        goto fail;
    const cJSON *wx = cJSON_GetObjectItemCaseSensitive(root, "wechat");
    if (wx && load_wechat(&c, wx, t) != 0)
        goto fail;

    cJSON_Delete(root);
    free(data);
    return t;
fail:
    msg_template_free(t);
    cJSON_Delete(root);
    free(data);
    return NULL;
}

void msg_template_free(struct msg_template *t)
{
    if (!t)
        return;
    free(t->name);
    tmpl_free(t->text);

    free(t->sms.template_code);
    for (size_t i = 0; i < t->sms.nparams; i++) {
        free(t->sms.param_names[i]);
        tmpl_free(t->sms.param_values[i]);
    }
    free(t->sms.param_names);
    free(t->sms.param_values);
    tmpl_free(t->sms.preview);

    free(t->wechat.template_id);
    tmpl_free(t->wechat.url);
    for (size_t i = 0; i < t->wechat.nfields; i++) {
        free(t->wechat.field_names[i]);
        tmpl_free(t->wechat.field_values[i]);
    }
    free(t->wechat.field_names);
    free(t->wechat.field_values);
    free(t);
}

int msg_template_uses(const struct msg_template *t, const char *name)
{
    if (!t)
        return 0;
    if (tmpl_uses(t->text, name) || tmpl_uses(t->sms.preview, name) ||
        tmpl_uses(t->wechat.url, name))
        return 1;
    for (size_t i = 0; i < t->sms.nparams; i++)
        if (tmpl_uses(t->sms.param_values[i], name))
            return 1;
    for (size_t i = 0; i < t->wechat.nfields; i++)
        if (tmpl_uses(t->wechat.field_values[i], name))
            return 1;
    return 0;
}

/* ---- rendering ------------------------------------------------------- */

/* cJSON allocates with malloc and returns NULL on failure; the project's
 * policy is to abort on OOM (util.h), so these never return NULL. */
static cJSON *json_checked(cJSON *j)
{
    if (!j) {
        log_write(LOG_LVL_ERR, "template", "out of memory building JSON");
        abort();
    }
    return j;
}

static void json_add_owned_str(cJSON *obj, const char *key, char *value)
{
    json_checked(cJSON_AddStringToObject(obj, key, value));
    free(value);
}

cJSON *msg_template_render(const struct msg_template *t, tmpl_lookup_fn lookup, void *arg,
                           const char *sms_sign_name)
{
    HF_ASSERT(t != NULL && lookup != NULL);
    cJSON *root = json_checked(cJSON_CreateObject());
    json_add_owned_str(root, "text", tmpl_render(t->text, lookup, arg));

    if (t->sms.present) {
        cJSON *sms = json_checked(cJSON_AddObjectToObject(root, "sms"));
        json_checked(cJSON_AddStringToObject(sms, "template_code", t->sms.template_code));
        cJSON *params = json_checked(cJSON_AddObjectToObject(sms, "params"));
        for (size_t i = 0; i < t->sms.nparams; i++)
            json_add_owned_str(params, t->sms.param_names[i],
                               tmpl_render(t->sms.param_values[i], lookup, arg));
        char *preview = tmpl_render(t->sms.preview, lookup, arg);
        size_t length = sms_length(sms_sign_name, preview);
        json_add_owned_str(sms, "preview", preview);
        json_checked(cJSON_AddNumberToObject(sms, "length", (double)length));
        json_checked(cJSON_AddNumberToObject(sms, "segments", sms_segments(length)));
    }

    if (t->wechat.present) {
        cJSON *wx = json_checked(cJSON_AddObjectToObject(root, "wechat"));
        json_checked(cJSON_AddStringToObject(wx, "template_id", t->wechat.template_id));
        if (t->wechat.url) {
            char *url = tmpl_render(t->wechat.url, lookup, arg);
            if (*url)
                json_checked(cJSON_AddStringToObject(wx, "url", url));
            free(url);
        }
        cJSON *data = json_checked(cJSON_AddObjectToObject(wx, "data"));
        for (size_t i = 0; i < t->wechat.nfields; i++) {
            cJSON *field = json_checked(cJSON_AddObjectToObject(data, t->wechat.field_names[i]));
            json_add_owned_str(field, "value", tmpl_render(t->wechat.field_values[i], lookup, arg));
        }
    }
    return root;
}

/* Append @line to a text field of @obj (with a space when it does not end
 * in sentence punctuation). */
static void append_line(cJSON *obj, const char *key, const char *line)
{
    const char *old = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
    if (!old)
        return;
    char *joined = xasprintf("%s%s", old, line);
    cJSON_ReplaceItemInObjectCaseSensitive(obj, key, json_checked(cJSON_CreateString(joined)));
    free(joined);
}

void msg_rendered_append(cJSON *rendered, const char *line, const char *sms_sign_name)
{
    if (!line || !*line)
        return;
    append_line(rendered, "text", line);
    cJSON *sms = cJSON_GetObjectItemCaseSensitive(rendered, "sms");
    if (sms) {
        append_line(sms, "preview", line);
        size_t length =
            sms_length(sms_sign_name, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sms, "preview")));
        cJSON_ReplaceItemInObjectCaseSensitive(sms, "length",
                                               json_checked(cJSON_CreateNumber((double)length)));
        cJSON_ReplaceItemInObjectCaseSensitive(sms, "segments",
                                               json_checked(cJSON_CreateNumber(sms_segments(length))));
    }
    cJSON *data = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(rendered, "wechat"), "data");
    cJSON *remark = cJSON_GetObjectItemCaseSensitive(data, "remark");
    if (remark)
        append_line(remark, "value", line);
}
