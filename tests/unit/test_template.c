/*
 * test_template.c - the {{placeholder}} engine, template files, SMS length
 * and the real templates under templates/ (run from the repository root).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "template.h"
#include "util.h"

/* ---- fakes ------------------------------------------------------------ */

/* The variables every customer message may use (the catalogue's list). */
static const char *const common_vars[] = {
    "company.name",     "company.phone",        "customer.name",       "customer.title",
    "project.id",       "project.address",      "project.kickoff_date", "staff.pm.name",
    "staff.pm.phone",   "staff.designer.name",  "staff.foreman.name",  "staff.supervisor.name",
    "milestone.id",     "milestone.name",       "occurred.date",       NULL,
};
static const char *const survey_vars[] = {"survey.link", "survey.expires", "survey.token", NULL};

struct known_set {
    int with_survey;
};

static int in_list(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

static int known_vars(void *arg, const char *name)
{
    const struct known_set *ks = arg;
    if (in_list(common_vars, name))
        return 1;
    return ks && ks->with_survey && in_list(survey_vars, name);
}

struct kv {
    const char *k, *v;
};

/* Lookup over a NULL-terminated kv table; counts calls. */
struct lookup_ctx {
    const struct kv *kv;
    int calls;
};

static const char *lookup_kv(void *arg, const char *name)
{
    struct lookup_ctx *c = arg;
    c->calls++;
    for (const struct kv *p = c->kv; p->k; p++)
        if (strcmp(p->k, name) == 0)
            return p->v;
    return NULL;
}

static const struct kv sample_values[] = {
    {"company.name", "安居装饰"},
    {"company.phone", "400-800-1234"},
    {"customer.name", "王建国"},
    {"customer.title", "先生"},
    {"project.id", "P2026-0113"},
    {"project.address", "杭州市西湖区文三路88号3幢1201"},
    {"project.kickoff_date", "2026-10-08"},
    {"staff.pm.name", "李强"},
    {"staff.pm.phone", "13812345678"},
    {"staff.designer.name", "陈晓"},
    {"staff.foreman.name", "张师傅"},
    {"staff.supervisor.name", "赵敏"},
    {"milestone.id", "completion"},
    {"milestone.name", "竣工验收"},
    {"occurred.date", "11月24日"},
    {"survey.link", "https://hf.example.cn/s/Ab3dE9xQ"},
    {"survey.expires", "12月1日"},
    {"survey.token", "2.1796108700.bb27636cca54740fab244c2a75a20999"},
    {NULL, NULL},
};

/* Write @content to a new temp file; returns its path (caller frees and unlinks). */
static char *write_temp(const char *content, size_t len)
{
    char *path = xstrdup("/tmp/hf_test_template_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Load @json from a temp file; on failure copy the error into @err. */
static struct msg_template *load_json(const char *json, char **path_out, char *err, size_t errlen)
{
    char *path = write_temp(json, strlen(json));
    struct known_set ks = {.with_survey = 1};
    err[0] = '\0';
    struct msg_template *t = msg_template_load(path, "test/msg", known_vars, &ks, err, errlen);
    *path_out = path;
    return t;
}

static void drop_temp(char *path)
{
    unlink(path);
    free(path);
}

/* Assert that @err is exactly "<path>: <rest>". */
static void assert_err(const char *err, const char *path, const char *rest)
{
    char want[1024];
    snprintf(want, sizeof(want), "%s: %s", path, rest);
    assert_string_equal(err, want);
}

/* ---- the text engine --------------------------------------------------- */

static void expect_compile_error(const char *src, const char *want)
{
    char err[256] = "";
    struct tmpl *t = tmpl_compile(src, err, sizeof(err));
    assert_null(t);
    assert_string_equal(err, want);
}

static void test_compile_errors(void **state)
{
    (void)state;
    expect_compile_error("Hi {{name", "unclosed \"{{\" at offset 3");
    expect_compile_error("ok {{a}} then {{b }", "unclosed \"{{\" at offset 14");
    expect_compile_error("{{}}", "empty placeholder name at offset 0");
    expect_compile_error("x{{   }}", "empty placeholder name at offset 1");
    expect_compile_error("{{Name}}", "bad character 'N' in placeholder at offset 2");
    expect_compile_error("{{a-b}}", "bad character '-' in placeholder at offset 3");
    expect_compile_error("{{ a b }}", "bad character 'b' in placeholder at offset 5");
    expect_compile_error("{{名字}}", "bad character byte 0xe5 in placeholder at offset 2");
    expect_compile_error("{{a..b}}", "empty name segment in placeholder at offset 3");
    expect_compile_error("{{.a}}", "empty name segment in placeholder at offset 2");
    expect_compile_error("{{a.}}", "empty name segment in placeholder at offset 3");
    /* NULL err buffer is allowed. */
    assert_null(tmpl_compile("{{", NULL, 0));
}

static void test_render_spaces_and_missing(void **state)
{
    (void)state;
    char err[256];
    struct tmpl *t =
        tmpl_compile("{{ customer.name }}{{customer.title}}您好，{{\tnot.there }}材料已于"
                     "{{occurred.date}}进场 } {x} }}",
                     err, sizeof(err));
    assert_non_null(t);
    struct lookup_ctx lc = {.kv = sample_values};
    char *out = tmpl_render(t, lookup_kv, &lc);
    assert_string_equal(out, "王建国先生您好，材料已于11月24日进场 } {x} }}");
    assert_int_equal(lc.calls, 4);
    free(out);
    assert_true(tmpl_uses(t, "customer.name"));
    assert_false(tmpl_uses(t, "customer"));
    tmpl_free(t);

    /* Literal only, empty text, placeholder only. */
    t = tmpl_compile("", err, sizeof(err));
    assert_non_null(t);
    out = tmpl_render(t, lookup_kv, &lc);
    assert_string_equal(out, "");
    free(out);
    tmpl_free(t);

    t = tmpl_compile("{{missing}}", err, sizeof(err));
    assert_non_null(t);
    out = tmpl_render(t, lookup_kv, &lc);
    assert_string_equal(out, "");
    free(out);
    tmpl_free(t);

    tmpl_free(NULL);
}

/* A section shows its text only when its variable is non-empty: a project
 * without a supervisor gets no "验收监理：。" line. */
static void test_sections(void **state)
{
    (void)state;
    char err[256];
    struct tmpl *t = tmpl_compile("材料已进场。{{#staff.supervisor.name}}验收监理：{{"
                                  "staff.supervisor.name}}。{{/staff.supervisor.name}}"
                                  "{{# customer.name }}{{customer.name}}您好{{/customer.name}}",
                                  err, sizeof(err));
    assert_non_null(t);
    static const struct kv no_supervisor[] = {{"customer.name", "王建国"},
                                              {"staff.supervisor.name", ""}, {NULL, NULL}};
    struct lookup_ctx lc = {.kv = no_supervisor};
    char *out = tmpl_render(t, lookup_kv, &lc);
    assert_string_equal(out, "材料已进场。王建国您好");
    free(out);
    static const struct kv with_supervisor[] = {{"staff.supervisor.name", "钱监理"},
                                                {"customer.name", "王建国"}, {NULL, NULL}};
    struct lookup_ctx lc2 = {.kv = with_supervisor};
    out = tmpl_render(t, lookup_kv, &lc2);
    assert_string_equal(out, "材料已进场。验收监理：钱监理。王建国您好");
    free(out);
    /* Section names are placeholders too: checked and counted as used. */
    assert_true(tmpl_uses(t, "staff.supervisor.name"));
    tmpl_free(t);

    /* Nesting, and an empty outer section hides the inner one. */
    t = tmpl_compile("{{#a}}A{{#b}}B{{/b}}{{/a}}.", err, sizeof(err));
    assert_non_null(t);
    static const struct kv only_b[] = {{"b", "1"}, {NULL, NULL}};
    struct lookup_ctx lc3 = {.kv = only_b};
    out = tmpl_render(t, lookup_kv, &lc3);
    assert_string_equal(out, ".");
    free(out);
    tmpl_free(t);

    /* Unbalanced sections are compile errors. */
    assert_null(tmpl_compile("{{#a}}x", err, sizeof(err)));
    assert_non_null(strstr(err, "never closed"));
    assert_null(tmpl_compile("x{{/a}}", err, sizeof(err)));
    assert_non_null(strstr(err, "closes no open section"));
    assert_null(tmpl_compile("{{#a}}{{#b}}{{/a}}{{/b}}", err, sizeof(err)));
    assert_null(tmpl_compile("{{#}}", err, sizeof(err)));
}

static void test_check_first_unknown(void **state)
{
    (void)state;
    char err[256];
    struct tmpl *t = tmpl_compile("{{customer.name}} {{customer.nmae}} {{survey.link}} {{zzz}}",
                                  err, sizeof(err));
    assert_non_null(t);
    const char *bad = NULL;
    struct known_set no_survey = {0};
    assert_int_equal(tmpl_check(t, known_vars, &no_survey, &bad), -1);
    assert_string_equal(bad, "customer.nmae");
    tmpl_free(t);

    t = tmpl_compile("{{customer.name}} {{survey.link}} {{ survey.expires }}", err, sizeof(err));
    assert_non_null(t);
    bad = NULL;
    assert_int_equal(tmpl_check(t, known_vars, &no_survey, &bad), -1);
    assert_string_equal(bad, "survey.link");
    struct known_set with_survey = {.with_survey = 1};
    bad = NULL;
    assert_int_equal(tmpl_check(t, known_vars, &with_survey, &bad), 0);
    assert_null(bad);
    assert_int_equal(tmpl_check(t, known_vars, &with_survey, NULL), 0);
    tmpl_free(t);
}

/* ---- template files ---------------------------------------------------- */

static const char valid_json[] =
    "{\n"
    "  \"text\": \"{{customer.name}}{{customer.title}}您好，请点击 {{survey.link}}\",\n"
    "  \"sms\": {\n"
    "    \"template_code\": \"SMS_468170001\",\n"
    "    \"params\": {\"name\": \"{{ customer.name }}{{customer.title}}\", \"date\": "
    "\"{{occurred.date}}\", \"a_last\": \"{{milestone.name}}\"},\n"
    "    \"preview\": \"{{customer.name}}{{customer.title}}您好，您对{{occurred.date}}的{{milestone.name}}满意吗？\"\n"
    "  },\n"
    "  \"wechat\": {\n"
    "    \"template_id\": \"TPL_1\",\n"
    "    \"url\": \"{{survey.link}}\",\n"
    "    \"data\": {\"first\": \"您好\", \"keyword2\": \"{{milestone.name}}\", \"keyword1\": "
    "\"{{project.address}}\", \"remark\": \"电话{{company.phone}}\"}\n"
    "  }\n"
    "}\n";

static void test_load_valid(void **state)
{
    (void)state;
    char err[512], *path;
    struct msg_template *t = load_json(valid_json, &path, err, sizeof(err));
    assert_non_null(t);
    assert_string_equal(err, "");
    assert_string_equal(t->name, "test/msg");
    assert_true(t->sms.present);
    assert_string_equal(t->sms.template_code, "SMS_468170001");
    assert_int_equal(t->sms.nparams, 3);
    assert_string_equal(t->sms.param_names[0], "name");
    assert_string_equal(t->sms.param_names[1], "date");
    assert_string_equal(t->sms.param_names[2], "a_last");
    assert_true(t->wechat.present);
    assert_string_equal(t->wechat.template_id, "TPL_1");
    assert_non_null(t->wechat.url);
    assert_int_equal(t->wechat.nfields, 4);
    assert_string_equal(t->wechat.field_names[1], "keyword2");
    assert_true(msg_template_uses(t, "survey.link"));
    assert_true(msg_template_uses(t, "company.phone"));
    assert_false(msg_template_uses(t, "survey.expires"));
    msg_template_free(t);
    drop_temp(path);

    /* Text only: sms and wechat are optional. */
    t = load_json("{\"text\": \"纯文本\"}", &path, err, sizeof(err));
    assert_non_null(t);
    assert_false(t->sms.present);
    assert_false(t->wechat.present);
    assert_string_equal(t->name, "test/msg");
    msg_template_free(t);
    drop_temp(path);
    msg_template_free(NULL);
}

struct bad_case {
    const char *json;
    const char *error; /* after "<path>: " */
};

static void test_load_errors(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"{\"text\": \"x\", \"smss\": {}}", "unknown key 'smss'"},
        {"{\"sms\": {\"template_code\": \"S\", \"preview\": \"p\"}}", "missing key text"},
        {"{\"text\": \"x\", \"sms\": {\"template_code\": \"S\", \"params\": {\"name\": "
         "\"{{customer.nmae}}\"}, \"preview\": \"p\"}}",
         "sms.params.name: unknown placeholder {{customer.nmae}}"},
        {"{\"text\": \"x\", \"wechat\": {\"data\": {\"first\": \"a\"}}}",
         "wechat: missing key template_id"},
        {"{\"text\": \"x\", \"wechat\": {\"template_id\": \"T\", \"data\": {}}}",
         "wechat.data: must have at least one field"},
        {"{\"text\": \"x\", \"wechat\": {\"template_id\": \"T\", \"color\": \"#fff\", "
         "\"data\": {\"a\": \"b\"}}}",
         "wechat: unknown key 'color'"},
        {"{\"text\": \"x\", \"text\": \"y\"}", "duplicate key 'text'"},
        {"{\"text\": 5}", "text: must be a string"},
        {"{\"text\": \"\"}", "text: must not be empty"},
        {"{\"text\": \"a {{b\"}", "text: unclosed \"{{\" at offset 2"},
        {"{\"text\": \"x\", \"sms\": \"SMS_1\"}", "sms: must be an object"},
        {"{\"text\": \"x\", \"sms\": {\"template_code\": \"S\", \"params\": {\"link\": "
         "\"{{survey.link}}\"}, \"preview\": \"p\"}}",
         "sms.params.link: links are not allowed in SMS variables; put the link in the "
         "preview (the provider template text)"},
        {"{\"text\": \"x\", \"sms\": {\"template_code\": \"S\", \"params\": {\"u\": "
         "\"https://a.cn/{{project.id}}\"}, \"preview\": \"p\"}}",
         "sms.params.u: links are not allowed in SMS variables; put the link in the "
         "preview (the provider template text)"},
        {"{\"text\": \"x\", \"sms\": {\"template_code\": \"S\", \"params\": {\"bad-name\": "
         "\"v\"}, \"preview\": \"p\"}}",
         "sms.params.bad-name: bad name (use letters, digits and '_')"},
        {"{\"text\": \"x\", \"sms\": {\"template_code\": \"S\", \"preview\": \"【安居】您好\"}}",
         "sms.preview: must not contain the signature: the platform adds 【sign】"},
        {"{\"text\": \"x\", \"sms\": {\"template_code\": \"S\"}}", "sms: missing key preview"},
        {"{\"text\": \"x\",\n \"sms\": {,}}", "invalid JSON near line 2, column 11"},
        {"{\"text\": \"x\"} trailing", "invalid JSON near line 1, column 15"},
        {"[\"text\"]", "the top level must be a JSON object"},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(cases); i++) {
        char err[512], *path;
        struct msg_template *t = load_json(cases[i].json, &path, err, sizeof(err));
        if (t)
            fail_msg("case %zu loaded but should fail with: %s", i, cases[i].error);
        assert_err(err, path, cases[i].error);
        drop_temp(path);
    }
}

static void test_load_invalid_utf8(void **state)
{
    (void)state;
    char err[512], *path;
    /* "\xc3\x28" is an invalid 2-byte sequence; "\xed\xa0\x80" a surrogate. */
    struct msg_template *t = load_json("{\"text\": \"ok\", \"wechat\": {\"template_id\": \"T\", "
                                       "\"data\": {\"first\": \"bad \xc3\x28 byte\"}}}",
                                       &path, err, sizeof(err));
    assert_null(t);
    assert_err(err, path, "wechat.data.first: invalid UTF-8");
    drop_temp(path);

    t = load_json("{\"text\": \"\xed\xa0\x80\"}", &path, err, sizeof(err));
    assert_null(t);
    assert_err(err, path, "text: invalid UTF-8");
    drop_temp(path);

    /* An embedded NUL byte is refused, not silently truncated. */
    static const char with_nul[] = "{\"text\": \"x\"}\0{\"junk\"";
    path = write_temp(with_nul, sizeof(with_nul) - 1);
    t = msg_template_load(path, NULL, known_vars, NULL, err, sizeof(err));
    assert_null(t);
    assert_err(err, path, "file contains a NUL byte");
    drop_temp(path);
}

static void test_load_missing_file(void **state)
{
    (void)state;
    char err[512];
    struct msg_template *t =
        msg_template_load("/nonexistent/hf/x.json", NULL, known_vars, NULL, err, sizeof(err));
    assert_null(t);
    assert_string_equal(err, "/nonexistent/hf/x.json: cannot open: No such file or directory");
}

static void test_render_json(void **state)
{
    (void)state;
    char err[512], *path;
    struct msg_template *t = load_json(valid_json, &path, err, sizeof(err));
    assert_non_null(t);
    struct lookup_ctx lc = {.kv = sample_values};
    cJSON *j = msg_template_render(t, lookup_kv, &lc, "安居装饰");
    assert_non_null(j);

    char *s = cJSON_PrintUnformatted(j);
    assert_string_equal(
        s, "{\"text\":\"王建国先生您好，请点击 https://hf.example.cn/s/Ab3dE9xQ\","
           "\"sms\":{\"template_code\":\"SMS_468170001\","
           "\"params\":{\"name\":\"王建国先生\",\"date\":\"11月24日\",\"a_last\":\"竣工验收\"},"
           "\"preview\":\"王建国先生您好，您对11月24日的竣工验收满意吗？\","
           "\"length\":31,\"segments\":1},"
           "\"wechat\":{\"template_id\":\"TPL_1\",\"url\":\"https://hf.example.cn/s/Ab3dE9xQ\","
           "\"data\":{\"first\":{\"value\":\"您好\"},\"keyword2\":{\"value\":\"竣工验收\"},"
           "\"keyword1\":{\"value\":\"杭州市西湖区文三路88号3幢1201\"},"
           "\"remark\":{\"value\":\"电话400-800-1234\"}}}}");
    free(s);

    /* Param order is file order, for Tencent's positional {1}, {2}. */
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "sms"), "params");
    const char *order[] = {"name", "date", "a_last"};
    size_t i = 0;
    for (const cJSON *it = params->child; it; it = it->next, i++)
        assert_string_equal(it->string, order[i]);
    assert_int_equal(i, 3);
    cJSON_Delete(j);

    /* No signature: length of the preview alone; empty url is omitted;
     * missing values render as "". */
    static const struct kv sparse[] = {{"customer.name", "李"}, {NULL, NULL}};
    struct lookup_ctx lc2 = {.kv = sparse};
    j = msg_template_render(t, lookup_kv, &lc2, NULL);
    const cJSON *sms = cJSON_GetObjectItemCaseSensitive(j, "sms");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sms, "preview")->valuestring,
                        "李您好，您对的满意吗？");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sms, "length")->valueint, 11);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sms, "segments")->valueint, 1);
    const cJSON *wx = cJSON_GetObjectItemCaseSensitive(j, "wechat");
    assert_null(cJSON_GetObjectItemCaseSensitive(wx, "url"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(wx, "data"));
    cJSON_Delete(j);
    msg_template_free(t);
    drop_temp(path);

    /* Text-only template: no sms / wechat keys at all. */
    t = load_json("{\"text\": \"{{company.name}}\"}", &path, err, sizeof(err));
    assert_non_null(t);
    j = msg_template_render(t, lookup_kv, &lc, "安居装饰");
    s = cJSON_PrintUnformatted(j);
    assert_string_equal(s, "{\"text\":\"安居装饰\"}");
    free(s);
    cJSON_Delete(j);
    msg_template_free(t);
    drop_temp(path);
}

/* ---- SMS length -------------------------------------------------------- */

static char *repeat(const char *unit, size_t n)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++)
        buf_puts(&b, unit);
    return buf_steal(&b);
}

static void test_sms_length(void **state)
{
    (void)state;
    assert_int_equal(sms_segments(0), 0);
    assert_int_equal(sms_segments(1), 1);
    assert_int_equal(sms_segments(70), 1);
    assert_int_equal(sms_segments(71), 2);
    assert_int_equal(sms_segments(134), 2);
    assert_int_equal(sms_segments(135), 3);
    assert_int_equal(sms_segments(160), 3);
    assert_int_equal(sms_segments(201), 3);
    assert_int_equal(sms_segments(202), 4);

    /* Chinese, ASCII, full-width punctuation and spaces all count 1. */
    assert_int_equal(sms_length(NULL, "您好，abc 123！"), 11);
    assert_int_equal(sms_length("", "您好"), 2);
    /* The signature counts with its brackets: 【安居装饰】 = 6. */
    assert_int_equal(sms_length("安居装饰", "您好"), 8);
    assert_int_equal(sms_length("安居装饰", ""), 6);
    assert_int_equal(sms_length(NULL, NULL), 0);

    /* 64 characters + 【安居装饰】 = 70: one SMS; one more: two. */
    char *body = repeat("字", 64);
    assert_int_equal(sms_length("安居装饰", body), 70);
    assert_int_equal(sms_segments(sms_length("安居装饰", body)), 1);
    free(body);
    body = repeat("字", 65);
    assert_int_equal(sms_segments(sms_length("安居装饰", body)), 2);
    free(body);
    /* 160 characters -> 67 + 67 + 26. */
    body = repeat("a", 154);
    assert_int_equal(sms_length("安居装饰", body), 160);
    assert_int_equal(sms_segments(160), 3);
    free(body);
}

/* ---- the real templates ------------------------------------------------ */

static void test_real_templates(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int survey;
        int max_segments;
    } files[] = {
        {"material_inspection/notice", 0, 1},      {"material_inspection/survey", 1, 2},
        {"hidden_works_acceptance/notice", 0, 1},  {"hidden_works_acceptance/survey", 1, 2},
        {"completion/notice", 0, 1},               {"completion/survey", 1, 2},
        {"completion/rating_confirm", 0, 1},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(files); i++) {
        char path[256], err[512] = "";
        snprintf(path, sizeof(path), "templates/%s.json", files[i].name);
        struct known_set ks = {.with_survey = files[i].survey};
        struct msg_template *t = msg_template_load(path, files[i].name, known_vars, &ks, err,
                                                   sizeof(err));
        if (!t)
            fail_msg("%s", err);
        assert_string_equal(t->name, files[i].name);
        assert_true(t->sms.present);
        assert_true(t->wechat.present);
        assert_true(t->sms.nparams > 0);
        assert_true(msg_template_uses(t, "company.phone"));
        /* Surveys carry their link on every channel; notices none. */
        assert_int_equal(msg_template_uses(t, "survey.link"), files[i].survey);
        if (files[i].survey) {
            assert_true(tmpl_uses(t->text, "survey.link"));
            assert_true(tmpl_uses(t->sms.preview, "survey.link"));
            assert_true(tmpl_uses(t->wechat.url, "survey.link"));
        }

        /* With realistic values (4-character company sign) the SMS stays
         * within its budget, and nothing renders empty. */
        struct lookup_ctx lc = {.kv = sample_values};
        cJSON *j = msg_template_render(t, lookup_kv, &lc, "安居装饰");
        const cJSON *sms = cJSON_GetObjectItemCaseSensitive(j, "sms");
        int segs = cJSON_GetObjectItemCaseSensitive(sms, "segments")->valueint;
        if (segs > files[i].max_segments)
            fail_msg("%s: SMS preview has %d segments (length %d)", files[i].name, segs,
                     cJSON_GetObjectItemCaseSensitive(sms, "length")->valueint);
        for (const cJSON *p = cJSON_GetObjectItemCaseSensitive(sms, "params")->child; p;
             p = p->next) {
            assert_true(strlen(p->valuestring) > 0);
            assert_null(strstr(p->valuestring, "http"));
        }
        const char *text = cJSON_GetObjectItemCaseSensitive(j, "text")->valuestring;
        assert_non_null(strstr(text, "安居装饰"));
        assert_non_null(strstr(text, "400-800-1234"));
        cJSON_Delete(j);
        msg_template_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_render_spaces_and_missing),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_check_first_unknown),
        cmocka_unit_test(test_load_valid),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_invalid_utf8),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_render_json),
        cmocka_unit_test(test_sms_length),
        cmocka_unit_test(test_real_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
