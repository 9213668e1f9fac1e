/*
 * template.h - message templates: a tiny "{{placeholder}}" text engine and
 * the per-message template files templates/<milestone>/<message>.json that
 * hold the customer-facing text for every channel (generic text, SMS
 * template code + parameters + handset preview, WeChat template message).
 *
 * Placeholder syntax: "{{name}}", optionally with spaces or tabs inside the
 * braces ("{{ customer.name }}"). A name is one or more segments of
 * [a-z0-9_] separated by single dots. There is no escaping: a text that
 * needs a literal "{{" cannot be expressed (customer messages never do).
 * A lone "{", "}" or "}}" is literal text.
 *
 * Everything here is pure computation (no I/O except msg_template_load()
 * reading its file), so it may be called from loop callbacks; loading is
 * meant for start-up and reload, not for the send path.
 *
 * Leaf-ish module: depends on util, log and cJSON only.
 */
#ifndef HF_TEMPLATE_H
#define HF_TEMPLATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* ---- the text engine ------------------------------------------------- */

/* A compiled text: literal chunks and placeholder names, in order.
 * Immutable after tmpl_compile(), so it may be shared read-only. */
struct tmpl;

/* Compile @src (NUL-terminated; borrowed, not kept).
 * Returns the compiled template, or NULL on a syntax error with a
 * message in @err naming the byte offset in @src, e.g.
 *   'unclosed "{{" at offset 12'
 *   'empty placeholder name at offset 3'
 *   'bad character 'X' in placeholder at offset 7'
 *   'empty name segment in placeholder at offset 7'   ("{{a..b}}")
 * @err may be NULL / @errlen 0 when the caller does not want the reason.
 * Caller owns the result; free with tmpl_free(). */
struct tmpl *tmpl_compile(const char *src, char *err, size_t errlen);

/* Free a compiled template. tmpl_free(NULL) is a no-op. */
void tmpl_free(struct tmpl *t);

/* Variable existence test: return 1 if @name is a variable the caller
 * will be able to supply, else 0. @arg is the caller's context. */
typedef int (*tmpl_known_fn)(void *arg, const char *name);

/* Variable lookup at render time: return the value of @name (borrowed;
 * it must stay valid until the lookup function is called again or the
 * render returns), or NULL for "no value", rendered as "". */
typedef const char *(*tmpl_lookup_fn)(void *arg, const char *name);

/* Check that every placeholder of @t is known to @known.
 * Returns 0 if all are known, else -1 with *@bad (if @bad is not NULL)
 * set to the first unknown name, in text order. *@bad is borrowed from
 * @t and lives as long as @t. */
int tmpl_check(const struct tmpl *t, tmpl_known_fn known, void *arg, const char **bad);

/* 1 if @t contains a placeholder named exactly @name, else 0. */
int tmpl_uses(const struct tmpl *t, const char *name);

/* Render @t, replacing each placeholder by lookup(arg, name) (NULL -> "").
 * Values are inserted verbatim (no escaping: these texts are not HTML).
 * Caller owns the result; free with free(). Never NULL (OOM aborts). */
char *tmpl_render(const struct tmpl *t, tmpl_lookup_fn lookup, void *arg);

/* ---- message template files ------------------------------------------ */

/*
 * One message template file, templates/<milestone>/<message>.json:
 *
 *   {
 *     "text": "generic text with {{placeholders}}",
 *     "sms": {                                   (optional)
 *       "template_code": "SMS_468170001",
 *       "params": { "name": "{{customer.name}}", "date": "{{occurred.date}}" },
 *       "preview": "what the handset shows, without the 【sign】",
 *       "parts": 2                               (optional, default 1: the most SMS
 *     },                                          parts the rendered preview may need)
 *     "wechat": {                                (optional)
 *       "template_id": "…",
 *       "url": "{{survey.link}}",                (optional)
 *       "data": { "first": "…", "keyword1": "…", "remark": "…" }
 *     }
 *   }
 *
 * Rules enforced by msg_template_load(): no other keys at any level, no
 * duplicate keys, every string valid UTF-8, text/template_code/template_id
 * non-empty, parameter and field names [A-Za-z0-9_], at least one WeChat
 * data field, the SMS preview without "【" (the platform adds the
 * signature), and SMS parameter values without links: providers refuse
 * links inside variables, so a param may neither contain "://" nor use a
 * placeholder whose last segment is "link" or "url" (the link belongs in
 * the provider-side template text, i.e. in the preview).
 */
/* Most SMS parts a template may declare (Aliyun caps a message at 500
 * characters: 8 parts of 67). */
#define MSG_TEMPLATE_MAX_PARTS 8

struct msg_template {
    char *name;                 /* "completion/survey" */
    struct tmpl *text;          /* generic text: webhook payload, logs, staff alerts */
    struct {
        int present;
        char *template_code;    /* provider template code, e.g. "SMS_468170001" */
        size_t nparams;
        char **param_names;     /* in file order (Tencent uses the order, Aliyun the names) */
        struct tmpl **param_values;
        struct tmpl *preview;   /* the text the handset shows, without 【sign】 */
        int parts;              /* most billed parts the rendered preview may need (1..
                                   MSG_TEMPLATE_MAX_PARTS; default 1); checked by
                                   catalogue_check() with sample data, not at send time */
    } sms;
    struct {
        int present;
        char *template_id;
        struct tmpl *url;       /* may be NULL */
        size_t nfields;
        char **field_names;     /* in file order */
        struct tmpl **field_values;
    } wechat;
};

/* Load the file at @path, compile every text and check every placeholder
 * with @known(@arg, name). @name is the template's catalogue name
 * ("completion/survey"; NULL: @path is used); both are borrowed.
 * Returns the template, or NULL with @err naming the file, the JSON key
 * and the reason, e.g.
 *   "templates/completion/survey.json: sms.params.name: unknown placeholder {{customer.nmae}}"
 *   "templates/completion/survey.json: wechat: missing key template_id"
 *   "templates/completion/survey.json: unknown key 'smss'"
 * Files larger than 256 KiB are refused before reading.
 * Caller owns the result; free with msg_template_free(). */
struct msg_template *msg_template_load(const char *path, const char *name, tmpl_known_fn known,
                                       void *arg, char *err, size_t errlen);

/* Free a loaded template. msg_template_free(NULL) is a no-op. */
void msg_template_free(struct msg_template *t);

/* 1 if any text of @t (text, SMS params/preview, WeChat url/fields) uses
 * the placeholder @name, e.g. to know whether a message needs a survey
 * link. */
int msg_template_uses(const struct msg_template *t, const char *name);

/* Render every part of @t with @lookup(@arg, name) into a new object:
 *   {"text": "...",
 *    "sms": {"template_code": "...", "params": {"name": "...", ...},
 *            "preview": "...", "length": 63, "segments": 1},
 *    "wechat": {"template_id": "...", "url": "...",
 *               "data": {"thing1": {"value": "..."}, ...}}}
 * "sms" and "wechat" appear only when present in the file; "url" is left
 * out when the template has none or it renders empty. params and data keep
 * the file order. length/segments count the signature "【@sms_sign_name】"
 * plus the rendered preview (@sms_sign_name NULL or "": no signature).
 * Caller owns the result; free with cJSON_Delete(). Never NULL (OOM aborts). */
cJSON *msg_template_render(const struct msg_template *t, tmpl_lookup_fn lookup, void *arg,
                           const char *sms_sign_name);

/* ---- SMS length (PROTOCOLS.md E) ------------------------------------- */

/* Billed length of an SMS: every code point of @text counts 1, plus, when
 * @sign_name is neither NULL nor "", its code points and the 2 brackets
 * of "【sign_name】". Both strings are UTF-8 (invalid bytes are counted
 * leniently, never read past the NUL). */
size_t sms_length(const char *sign_name, const char *text);

/* Number of billed segments for a message of @length code points:
 * 0 for 0, 1 up to 70, above that ceil(length / 67). */
int sms_segments(size_t length);

/* Add @line (a campaign's opt-out line, "回复TD退订") at the end of a
 * rendered message: its text, its SMS preview (length and segments
 * counted again; an approved SMS template carries the line itself) and its
 * WeChat "remark" field when there is one. */
void msg_rendered_append(cJSON *rendered, const char *line, const char *sms_sign_name);

#endif
