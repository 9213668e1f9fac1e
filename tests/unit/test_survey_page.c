/*
 * test_survey_page.c - the survey page, the message pages and the form
 * parser, against the real definitions in templates/surveys/ (run from the
 * repository root) and a few hand-built ones.
 *
 * It also writes build/survey_preview.html (the completion survey as a
 * customer sees it) and a few sibling previews, for a person or a browser
 * test to open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "survey_def.h"
#include "survey_page.h"
#include "util.h"

#define SURVEY_DIR "templates/surveys"

/* ---- helpers ----------------------------------------------------------- */

static struct survey_set *load_set(void)
{
    char err[512] = "";
    struct survey_set *s = survey_set_load(SURVEY_DIR, err, sizeof err);
    if (!s)
        fail_msg("survey_set_load(%s): %s", SURVEY_DIR, err);
    assert_true(survey_set_count(s) > 0);
    return s;
}

static const struct survey_def *find_def(const struct survey_set *s, const char *id)
{
    const struct survey_def *d = survey_set_find(s, id);
    if (!d)
        fail_msg("survey %s missing from %s", id, SURVEY_DIR);
    return d;
}

/* Independent HTML escape for expectations. Caller frees. */
static char *esc(const char *s)
{
    struct buf b;
    buf_init(&b);
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_puts(&b, "&amp;"); break;
        case '<': buf_puts(&b, "&lt;"); break;
        case '>': buf_puts(&b, "&gt;"); break;
        case '"': buf_puts(&b, "&quot;"); break;
        case '\'': buf_puts(&b, "&#39;"); break;
        default: buf_append(&b, s, 1);
        }
    }
    return buf_steal(&b);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, k = strlen(needle);
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += k)
        n++;
    return n;
}

static void expect_has(const char *page, const char *needle)
{
    if (!strstr(page, needle))
        fail_msg("page lacks \"%s\"", needle);
}

static void expect_lacks(const char *page, const char *needle)
{
    if (strstr(page, needle))
        fail_msg("page contains \"%s\"", needle);
}

/* Structural rules every page must keep. */
static void expect_self_contained(const char *page)
{
    assert_true(strncmp(page, "<!DOCTYPE html>", 15) == 0);
    assert_true(utf8_valid(page, strlen(page)));
    expect_has(page, "<meta charset=\"utf-8\">");
    expect_has(page, "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    expect_has(page, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';");
    expect_lacks(page, "http://");
    expect_lacks(page, "https://");
    expect_lacks(page, "//cdn");
    expect_lacks(page, "<script");
    expect_lacks(page, "<link");
    expect_lacks(page, "<img");
    expect_lacks(page, "<iframe");
    expect_lacks(page, "@import");
    expect_lacks(page, "url(");
    expect_lacks(page, " src=");
    expect_lacks(page, " style=");
    expect_lacks(page, "javascript:");
    /* no inline event handler: no attribute named on...= */
    for (const char *p = page; (p = strstr(p, " on")) != NULL; p += 3) {
        const char *q = p + 3;
        while (*q >= 'a' && *q <= 'z')
            q++;
        if (*q == '=' && q > p + 3)
            fail_msg("inline event handler near \"%.40s\"", p);
    }
    /* every link stays on the page or dials the phone */
    for (const char *p = page; (p = strstr(p, "href=\"")) != NULL; p += 6)
        if (strncmp(p + 6, "tel:", 4) != 0 && p[6] != '#')
            fail_msg("link to elsewhere: \"%.60s\"", p);
    assert_int_equal(count(page, "<style>"), 1);
    assert_int_equal(count(page, "</style>"), 1);
}

static const struct page_ctx base_ctx = {
    .company_name = "恒信装饰",
    .company_phone = "400-820-1234",
    .customer_name = "张伟",
    .customer_title = "先生",
    .milestone_name = "竣工验收",
    .expires = "12月1日",
    .action = "/s/42.1795487400.0123456789abcdef0123456789abcdef",
};

/* ---- the page for each real survey ------------------------------------- */

static void check_radio_group(const char *page, const char *qid, const char *const *vals,
                              size_t n)
{
    char needle[512];
    char *eq = esc(qid);
    snprintf(needle, sizeof needle, "type=\"radio\" name=\"%s\"", eq);
    if (count(page, needle) != n)
        fail_msg("question %s: %zu radios, expected %zu", qid, count(page, needle), n);
    for (size_t i = 0; i < n; i++) {
        char *ev = esc(vals[i]);
        snprintf(needle, sizeof needle, "name=\"%s\" value=\"%s\"", eq, ev);
        if (count(page, needle) != 1)
            fail_msg("question %s: value %s appears %zu times", qid, vals[i], count(page, needle));
        free(ev);
    }
    free(eq);
}

static void test_page_real_surveys(void **state)
{
    (void)state;
    static const char *const scores[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"};
    static const char *const yesno[] = {"yes", "no"};
    struct survey_set *s = load_set();
    size_t pages = 0;
    for (size_t k = 0; k < survey_set_count(s); k++) {
        const struct survey_def *d = survey_set_at(s, k);
        char *page = survey_page_render(d, &base_ctx);
        expect_self_contained(page);
        expect_has(page, "<form method=\"post\" action=\""
                         "/s/42.1795487400.0123456789abcdef0123456789abcdef\"");
        expect_has(page, "<button type=\"submit\" class=\"submit\">提交</button>");
        expect_has(page, "<div class=\"brand\">恒信装饰</div>");
        expect_has(page, "张伟先生，您好！");
        expect_has(page, "12月1日前有效");
        expect_has(page, "竣工验收");
        expect_has(page, "<a class=\"tel\" href=\"tel:4008201234\">400-820-1234</a>");
        char *t = esc(d->title);
        expect_has(page, t);
        free(t);
        size_t nradio = 0, ntext = 0, nreq = 0;
        for (size_t i = 0; i < d->nq; i++) {
            const struct question *q = &d->q[i];
            char *qt = esc(q->text);
            expect_has(page, qt);
            free(qt);
            char needle[256];
            snprintf(needle, sizeof needle, "id=\"q-%s\"", q->id);
            assert_int_equal(count(page, needle), 1);
            switch (q->type) {
            case Q_SCORE:
                check_radio_group(page, q->id, scores, 10);
                nradio += 10;
                break;
            case Q_YESNO:
                check_radio_group(page, q->id, yesno, 2);
                nradio += 2;
                break;
            case Q_CHOICE:
                check_radio_group(page, q->id, (const char *const *)q->options, q->noptions);
                nradio += q->noptions;
                break;
            case Q_TEXT:
                snprintf(needle, sizeof needle, "<textarea name=\"%s\"", q->id);
                assert_int_equal(count(page, needle), 1);
                ntext++;
                break;
            }
            if (q->required)
                nreq++;
        }
        /* nothing but these radios and textareas, one hidden field */
        assert_int_equal(count(page, "type=\"radio\""), nradio);
        assert_int_equal(count(page, "<textarea"), ntext);
        assert_int_equal(count(page, "<input"), nradio + 1);
        assert_int_equal(count(page, "<input type=\"hidden\" name=\"_\" value=\"1\">"), 1);
        assert_int_equal(count(page, "<span class=\"req\" title=\"必答\">*</span>"), nreq);
        /* no previous answers: nothing checked, no amend note, no banner */
        expect_lacks(page, " checked");
        expect_lacks(page, "您已提交过回答");
        expect_lacks(page, "class=\"notice");
        free(page);
        pages++;
    }
    assert_true(pages >= 13);
    survey_set_free(s);
}

static void test_page_completion_layout(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    char *page = survey_page_render(d, &base_ctx);
    /* the main score question is marked and comes with its scale ends */
    expect_has(page, "<fieldset class=\"card q main\" id=\"q-score\">");
    expect_has(page, "1分 非常不满意");
    expect_has(page, "10分 非常满意");
    /* required radios carry the HTML attribute, optional text does not */
    expect_has(page, "name=\"score\" value=\"7\" required>");
    expect_has(page, "<textarea name=\"suggestion\" rows=\"4\" maxlength=\"1000\" "
                     "placeholder=\"选填，欢迎留下您的意见和建议\">");
    /* questions are numbered in order */
    const char *p1 = strstr(page, "<span class=\"qn\">1.</span>");
    const char *p6 = strstr(page, "<span class=\"qn\">6.</span>");
    assert_non_null(p1);
    assert_non_null(p6);
    assert_true(p1 < p6);
    assert_null(strstr(page, "<span class=\"qn\">7.</span>"));
    free(page);
    survey_set_free(s);
}

static void test_page_stage_and_fallbacks(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "stage_acceptance");
    struct page_ctx ctx = base_ctx;
    ctx.milestone_name = "阶段验收";
    ctx.stage = "水电";
    char *page = survey_page_render(d, &ctx);
    expect_has(page, "阶段验收（水电）");
    free(page);

    /* an empty context renders a neutral page, never "(null)" */
    struct page_ctx none = {0};
    page = survey_page_render(d, &none);
    expect_self_contained(page);
    expect_has(page, "尊敬的客户，您好！");
    expect_has(page, "<div class=\"brand\">客户服务</div>");
    expect_has(page, "action=\"\"");
    expect_lacks(page, "(null)");
    expect_lacks(page, "tel:");
    expect_lacks(page, "前有效");
    free(page);
    page = survey_page_render(d, NULL);
    expect_self_contained(page);
    free(page);
    survey_set_free(s);
}

/* ---- escaping ---------------------------------------------------------- */

static void test_page_escapes_everything(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    struct page_ctx ctx = base_ctx;
    ctx.customer_name = "<script>alert(1)</script>";
    ctx.customer_title = "\"'&";
    ctx.company_name = "A&B <装饰>";
    ctx.company_phone = "400\"><script>";
    ctx.milestone_name = "<b>x</b>";
    ctx.stage = "<i>";
    ctx.expires = "<u>";
    ctx.action = "/s/x\" onmouseover=\"alert(1)";
    ctx.notice = "<img src=x>";
    cJSON *prev = cJSON_CreateObject();
    cJSON_AddStringToObject(prev, "suggestion", "</textarea><script>alert(1)</script>");
    ctx.previous = prev;
    char *page = survey_page_render(d, &ctx);
    /* (not expect_self_contained: the escaped attacker text itself holds
     * " onmouseover=" and " src=" as harmless character data) */
    assert_int_equal(count(page, "<script"), 0);
    assert_int_equal(count(page, "<img"), 0);
    assert_int_equal(count(page, "<b>x"), 0);
    assert_int_equal(count(page, "\" onmouseover"), 0);
    expect_has(page, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;，您好！");
    expect_has(page, "A&amp;B &lt;装饰&gt;");
    expect_has(page, "&lt;b&gt;x&lt;/b&gt;（&lt;i&gt;）");
    expect_has(page, "&lt;u&gt;前有效");
    expect_has(page, "action=\"/s/x&quot; onmouseover=&quot;alert(1)\"");
    expect_has(page, "&lt;img src=x&gt;");
    expect_has(page, "&lt;/textarea&gt;&lt;script&gt;");
    expect_has(page, "href=\"tel:400\"");
    assert_int_equal(count(page, "</textarea>"), 1);
    free(page);
    cJSON_Delete(prev);

    /* invalid UTF-8 and control characters from the data never reach the page */
    ctx = base_ctx;
    ctx.customer_name = "张\xFF伟\x01";
    page = survey_page_render(d, &ctx);
    assert_true(utf8_valid(page, strlen(page)));
    expect_has(page, "张\xEF\xBF\xBD伟先生");
    free(page);
    survey_set_free(s);
}

/* ---- previous answers and the banner ----------------------------------- */

static void test_page_prefills_previous(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    cJSON *prev = cJSON_Parse("{\"score\":\"4\",\"materials_ok\":\"no\",\"team_ok\":\"yes\","
                              "\"response\":\"一般\",\"suggestion\":\"工长<很>负责\\n谢谢\","
                              "\"unknown\":\"x\"}");
    assert_non_null(prev);
    struct page_ctx ctx = base_ctx;
    ctx.previous = prev;
    char *page = survey_page_render(d, &ctx);
    expect_has(page, "name=\"score\" value=\"4\" checked required>");
    expect_has(page, "name=\"materials_ok\" value=\"no\" checked required>");
    expect_has(page, "name=\"team_ok\" value=\"yes\" checked required>");
    expect_has(page, "name=\"response\" value=\"一般\" checked required>");
    assert_int_equal(count(page, " checked"), 4);
    expect_has(page, "placeholder=\"选填，欢迎留下您的意见和建议\">\n工长&lt;很&gt;负责\n谢谢</textarea>");
    expect_has(page, "您已提交过回答");
    expect_has(page, "可以修改");
    free(page);
    cJSON_Delete(prev);

    /* a score stored as a number is prefilled as well */
    prev = cJSON_Parse("{\"score\":7}");
    ctx.previous = prev;
    page = survey_page_render(d, &ctx);
    expect_has(page, "name=\"score\" value=\"7\" checked");
    assert_int_equal(count(page, " checked"), 1);
    free(page);
    cJSON_Delete(prev);

    /* a value that is no longer an option prefills nothing */
    prev = cJSON_Parse("{\"response\":\"还行\",\"score\":\"11\"}");
    ctx.previous = prev;
    page = survey_page_render(d, &ctx);
    expect_lacks(page, " checked");
    free(page);
    cJSON_Delete(prev);
    survey_set_free(s);
}

/* The form's submission id goes back as the hidden field "n", inside the
 * form, escaped; without one there is no such field. */
static void test_page_submission_id(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    struct page_ctx ctx = base_ctx;
    ctx.submission = "0123456789abcdef0123456789abcdef";
    char *page = survey_page_render(d, &ctx);
    const char *field = strstr(page, "<input type=\"hidden\" name=\"n\" "
                                     "value=\"0123456789abcdef0123456789abcdef\">");
    assert_non_null(field);
    assert_true(field > strstr(page, "<form ") && field < strstr(page, "</form>"));
    free(page);
    ctx.submission = "\"><script>";
    page = survey_page_render(d, &ctx);
    expect_lacks(page, "<script>");
    free(page);
    ctx.submission = NULL;
    page = survey_page_render(d, &ctx);
    expect_lacks(page, "name=\"n\"");
    free(page);
    survey_set_free(s);
}

static void test_page_notice_banner(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    struct page_ctx ctx = base_ctx;
    ctx.notice = "谢谢，您的回答已保存";
    char *page = survey_page_render(d, &ctx);
    expect_has(page, "<div class=\"notice ok\" role=\"status\">谢谢，您的回答已保存</div>");
    expect_lacks(page, " bad\"");
    /* the banner comes before the form */
    assert_true(strstr(page, "class=\"notice") < strstr(page, "<form"));
    free(page);

    ctx.notice = "请回答：请为本次装修整体打分（1-10分）";
    ctx.notice_field = "score";
    page = survey_page_render(d, &ctx);
    expect_has(page, "<div class=\"notice err\" role=\"alert\"><a href=\"#q-score\">"
                     "请回答：请为本次装修整体打分（1-10分）</a></div>");
    expect_has(page, "<fieldset class=\"card q main bad\" id=\"q-score\">");
    assert_int_equal(count(page, " bad\""), 1);
    free(page);

    /* a field without a notice highlights nothing */
    ctx.notice = NULL;
    page = survey_page_render(d, &ctx);
    expect_lacks(page, "class=\"notice");
    expect_lacks(page, " bad\"");
    free(page);
    survey_set_free(s);
}

/* Surveys sent together with this one (one message a day) are linked from
 * its page, after the form, escaped, answered ones marked. */
static void test_page_links_same_day_surveys(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "material_inspection");
    struct page_ctx ctx = base_ctx;
    struct page_link links[] = {{"水电隐蔽工程验收回访", "/s/7.1796108700.abc\"<", 0},
                                {"竣工回访", "/s/8.1796108700.def", 1}};
    ctx.more = links;
    ctx.nmore = 2;
    char *page = survey_page_render(d, &ctx);
    expect_has(page, "您今天还有以下回访");
    expect_has(page, "href=\"/s/7.1796108700.abc&quot;&lt;\">水电隐蔽工程验收回访</a>");
    expect_has(page, "href=\"/s/8.1796108700.def\">竣工回访（已填写，可修改）</a>");
    assert_true(strstr(page, "</form>") < strstr(page, "您今天还有以下回访"));
    free(page);
    ctx.more = NULL;
    ctx.nmore = 0;
    page = survey_page_render(d, &ctx);
    expect_lacks(page, "您今天还有以下回访");
    free(page);
    survey_set_free(s);
}

/* ---- CSP --------------------------------------------------------------- */

static void test_csp_matches_stylesheet(void **state)
{
    (void)state;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *page = survey_page_message("thanks", "恒信装饰", NULL);
    const char *a = strstr(page, "<style>") + 7;
    const char *e = strstr(page, "</style>");
    char hex[65];
    sha256_hex(a, (size_t)(e - a), hex);
    /* base64 of the digest, bit by bit */
    char want[64] = "sha256-";
    size_t o = 7;
    unsigned acc = 0;
    int bits = 0;
    for (int i = 0; i < 64; i++) {
        unsigned v = (unsigned)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
        acc = acc << 4 | v;
        bits += 4;
        if (bits >= 6) {
            want[o++] = b64[(acc >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    want[o++] = b64[(acc << (6 - bits)) & 63]; /* 256 bits = 42*6 + 4 */
    want[o++] = '=';
    want[o] = '\0';
    assert_int_equal(strlen(want), 7 + 44);

    char csp[256];
    survey_page_csp(csp, sizeof csp);
    char needle[128];
    snprintf(needle, sizeof needle, "style-src '%s'", want);
    expect_has(csp, needle);
    expect_has(csp, "default-src 'none'");
    expect_has(csp, "form-action 'self'");
    expect_has(csp, "frame-ancestors 'none'");
    assert_true(strlen(csp) < 160);
    expect_has(page, needle);
    free(page);

    /* the survey page uses the same stylesheet */
    struct survey_set *s = load_set();
    page = survey_page_render(find_def(s, "kickoff"), &base_ctx);
    expect_has(page, needle);
    free(page);
    survey_set_free(s);

    char tiny[8];
    survey_page_csp(tiny, sizeof tiny);
    assert_string_equal(tiny, "default");
}

/* ---- message pages ----------------------------------------------------- */

static void test_message_pages(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *title;
    } kinds[] = {{"expired", "问卷已过期"},
                 {"invalid", "链接无法打开"},
                 {"thanks", "感谢您的评价"},
                 {"closed", "回访已结束"}};
    for (size_t i = 0; i < HF_ARRAY_LEN(kinds); i++) {
        char *page = survey_page_message(kinds[i].kind, "恒信装饰", "400-820-1234");
        expect_self_contained(page);
        expect_has(page, kinds[i].title);
        expect_has(page, "<div class=\"brand\">恒信装饰</div>");
        expect_has(page, "href=\"tel:4008201234\"");
        expect_has(page, "拨打客服电话 400-820-1234");
        expect_lacks(page, "<form");
        expect_lacks(page, "<input");
        free(page);
    }
    /* unknown or missing kind: the invalid page */
    char *page = survey_page_message("bogus<script>", NULL, NULL);
    expect_self_contained(page);
    expect_has(page, "链接无法打开");
    expect_has(page, "<div class=\"brand\">客户服务</div>");
    expect_lacks(page, "bogus");
    expect_lacks(page, "tel:");
    free(page);
    page = survey_page_message(NULL, "A<B", "&");
    expect_has(page, "链接无法打开");
    expect_has(page, "A&lt;B");
    expect_lacks(page, "tel:"); /* no digits, no link */
    expect_has(page, "客服电话 &amp;");
    free(page);
}

/* ---- form parsing ------------------------------------------------------ */

struct parsed {
    int rc;
    cJSON *answers;
    char field[64];
    char err[256];
};

static struct parsed parse(const struct survey_def *d, const char *body)
{
    struct parsed p;
    memset(&p, 0, sizeof p);
    strcpy(p.field, "untouched");
    p.rc = survey_form_parse(d, body, strlen(body), &p.answers, p.field, sizeof p.field, p.err,
                             sizeof p.err);
    return p;
}

static void expect_answer(const cJSON *a, const char *qid, const char *want)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, qid);
    if (!cJSON_IsString(v))
        fail_msg("answer %s missing (want \"%s\")", qid, want);
    if (strcmp(v->valuestring, want) != 0)
        fail_msg("answer %s = \"%s\", want \"%s\"", qid, v->valuestring, want);
}

static void expect_rejected(const struct survey_def *d, const char *body, int rc,
                            const char *field, const char *err_prefix)
{
    struct parsed p = parse(d, body);
    if (p.rc != rc)
        fail_msg("body \"%.80s\": rc %d, want %d (field %s, err %s)", body, p.rc, rc, p.field,
                 p.err);
    assert_null(p.answers);
    assert_string_equal(p.field, field);
    if (strncmp(p.err, err_prefix, strlen(err_prefix)) != 0)
        fail_msg("body \"%.80s\": err \"%s\", want prefix \"%s\"", body, p.err, err_prefix);
}

#define COMPLETION_OK "score=9&materials_ok=yes&team_ok=yes&response=%E5%BE%88%E5%8F%8A%E6%97%B6" \
                      "&wechat_report=%E4%B8%80%E8%88%AC"

static void test_parse_valid(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    struct parsed p = parse(d, "_=1&" COMPLETION_OK "&suggestion=%E5%B7%A5%E9%95%BF%E5%BE%88"
                               "%E8%B4%9F%E8%B4%A3+thanks+a+lot&utm_source=x&=y&&bare");
    if (p.rc != 0)
        fail_msg("rc %d: %s %s", p.rc, p.field, p.err);
    assert_string_equal(p.field, "");
    assert_string_equal(p.err, "");
    expect_answer(p.answers, "score", "9");
    expect_answer(p.answers, "materials_ok", "yes");
    expect_answer(p.answers, "team_ok", "yes");
    expect_answer(p.answers, "response", "很及时");
    expect_answer(p.answers, "wechat_report", "一般");
    expect_answer(p.answers, "suggestion", "工长很负责 thanks a lot");
    assert_int_equal(cJSON_GetArraySize(p.answers), 6);
    /* question order, whatever the body order */
    assert_string_equal(cJSON_GetArrayItem(p.answers, 0)->string, "score");
    assert_string_equal(cJSON_GetArrayItem(p.answers, 5)->string, "suggestion");
    cJSON_Delete(p.answers);

    /* optional questions may stay out; empty values mean "not answered" */
    p = parse(d, "score=10&materials_ok=no&team_ok=no&response=&wechat_report=%E4%B8%8D%E6%96%B9"
                 "%E4%BE%BF&suggestion=");
    assert_int_equal(p.rc, -1); /* response is required (choice default) */
    assert_string_equal(p.field, "response");
    assert_null(p.answers);

    p = parse(d, "score=1&materials_ok=no&team_ok=no&response=%E4%B8%8D%E5%8F%8A%E6%97%B6"
                 "&wechat_report=%E4%B8%8D%E6%96%B9%E4%BE%BF&suggestion=+%0D%0A%E3%80%80");
    assert_int_equal(p.rc, 0);
    assert_int_equal(cJSON_GetArraySize(p.answers), 5);
    assert_null(cJSON_GetObjectItemCaseSensitive(p.answers, "suggestion"));
    /* cross-check with the definition module's own validator */
    for (size_t i = 0; i < d->nq; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p.answers, d->q[i].id);
        if (v)
            assert_true(survey_answer_valid(&d->q[i], v->valuestring));
    }
    cJSON_Delete(p.answers);
    survey_set_free(s);
}

static void test_parse_text_normalisation(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    struct parsed p = parse(d, COMPLETION_OK "&suggestion=%20%20line1%0D%0Aline2%0Dline3%0A"
                                             "%09tab%09end%E3%80%80%0A%0A");
    assert_int_equal(p.rc, 0);
    expect_answer(p.answers, "suggestion", "line1\nline2\nline3\n tab end");
    cJSON_Delete(p.answers);

    /* Chinese, emoji (4-byte UTF-8), quotes and '+' written as %2B */
    p = parse(d, COMPLETION_OK "&suggestion=%E5%BE%88%E5%A5%BD%F0%9F%91%8D+%22a%2Bb%22+%26+c%3Dd");
    assert_int_equal(p.rc, 0);
    expect_answer(p.answers, "suggestion", "很好👍 \"a+b\" & c=d");
    cJSON_Delete(p.answers);
    survey_set_free(s);
}

static void test_parse_missing_required(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    expect_rejected(d, "materials_ok=yes&team_ok=yes&response=%E4%B8%80%E8%88%AC"
                       "&wechat_report=%E4%B8%80%E8%88%AC",
                    -1, "score", "请回答：请为本次装修整体打分（1-10分）");
    expect_rejected(d, "", -1, "score", "请回答：");
    expect_rejected(d, "_=1", -1, "score", "请回答：");
    expect_rejected(d, "score=5&materials_ok=yes&response=%E4%B8%80%E8%88%AC"
                       "&wechat_report=%E4%B8%80%E8%88%AC",
                    -1, "team_ok", "请回答：您对设计师");
    /* a required text that trims to nothing is missing */
    struct question q[] = {{.id = "why", .type = Q_TEXT, .text = "原因", .required = 1}};
    struct survey_def td = {.id = "t", .title = "T", .q = q, .nq = 1, .main_index = -1};
    expect_rejected(&td, "why=+%0A+", -1, "why", "请回答：原因");
    survey_set_free(s);
}

static void test_parse_bad_values(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    static const char *const bad_scores[] = {"11", "0", "05", "+5", "-1", "5+", "%205", "5.0",
                                             "%EF%BC%99" /* full-width 9 */, "ten", "100"};
    for (size_t i = 0; i < HF_ARRAY_LEN(bad_scores); i++) {
        char body[256];
        snprintf(body, sizeof body, "materials_ok=yes&team_ok=yes&score=%s", bad_scores[i]);
        expect_rejected(d, body, -1, "score", "请重新选择：请为本次装修整体打分");
    }
    static const char *const bad_yn[] = {"YES", "y", "1", "true", "%E6%98%AF", "yes+", "nope"};
    for (size_t i = 0; i < HF_ARRAY_LEN(bad_yn); i++) {
        char body[256];
        snprintf(body, sizeof body, "score=8&materials_ok=%s&team_ok=yes", bad_yn[i]);
        expect_rejected(d, body, -1, "materials_ok", "请重新选择：您对主材的使用满意吗？");
    }
    /* an option of another question, a near miss, an index */
    expect_rejected(d, "score=8&materials_ok=yes&team_ok=yes&response=%E5%BE%88%E6%96%B9%E4%BE%BF",
                    -1, "response", "请重新选择：");
    expect_rejected(d, "score=8&materials_ok=yes&team_ok=yes&response=%E5%BE%88%E5%8F%8A%E6%97%B6+",
                    -1, "response", "请重新选择：");
    expect_rejected(d, "score=8&materials_ok=yes&team_ok=yes&response=0", -1, "response",
                    "请重新选择：");
    /* value errors are reported before missing answers */
    expect_rejected(d, "wechat_report=x", -1, "wechat_report", "请重新选择：");
    survey_set_free(s);
}

static void test_parse_bad_encoding(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    /* invalid UTF-8 in an answer names the question */
    expect_rejected(d, COMPLETION_OK "&suggestion=%FF", -1, "suggestion", "内容含有无法识别的字符：");
    expect_rejected(d, COMPLETION_OK "&suggestion=%C0%AF", -1, "suggestion", "内容含有无法识别的字符");
    expect_rejected(d, COMPLETION_OK "&suggestion=%ED%A0%80", -1, "suggestion", "内容含有");
    expect_rejected(d, COMPLETION_OK "&suggestion=%E5%BE", -1, "suggestion", "内容含有");
    expect_rejected(d, "score=%FF", -1, "score", "内容含有");
    /* ... raw (unencoded) invalid bytes too */
    expect_rejected(d, COMPLETION_OK "&suggestion=\xFF", -1, "suggestion", "内容含有");
    /* invalid UTF-8 elsewhere refuses the body */
    expect_rejected(d, COMPLETION_OK "&x=%FF", -2, "", "提交的内容含有无法识别的字符");
    expect_rejected(d, COMPLETION_OK "&%FF=1", -2, "", "提交的内容含有无法识别的字符");
    expect_rejected(d, COMPLETION_OK "&_=%FE", -2, "", "提交的内容含有无法识别的字符");
    /* broken percent escapes */
    static const char *const broken[] = {"&suggestion=%", "&suggestion=%4", "&suggestion=%G1",
                                         "&suggestion=a%2", "&sugg%zzestion=a", "&x=%%41"};
    for (size_t i = 0; i < HF_ARRAY_LEN(broken); i++) {
        char body[512];
        snprintf(body, sizeof body, "%s%s", COMPLETION_OK, broken[i]);
        expect_rejected(d, body, -2, "", "提交的内容无法识别");
    }
    /* a lone '%' as the whole body */
    expect_rejected(d, "%", -2, "", "提交的内容无法识别");
    /* but %41 works anywhere, including names */
    struct parsed p = parse(d, "%73core=%39&materials_ok=yes&team_ok=yes&response=%E4%B8%80%E8%88%AC"
                               "&wechat_report=%E4%B8%80%E8%88%AC");
    assert_int_equal(p.rc, 0);
    expect_answer(p.answers, "score", "9");
    cJSON_Delete(p.answers);
    survey_set_free(s);
}

static void test_parse_control_characters(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    static const char *const ctl[] = {"%00", "%01", "%07", "%08", "%0B", "%0C", "%1B",
                                      "%1F", "%7F", "%C2%80", "%C2%85", "%C2%9F"};
    for (size_t i = 0; i < HF_ARRAY_LEN(ctl); i++) {
        char body[512];
        snprintf(body, sizeof body, "%s&suggestion=ab%scd", COMPLETION_OK, ctl[i]);
        expect_rejected(d, body, -1, "suggestion",
                        "内容含有无法识别的字符：您对我们有什么宝贵建议？");
    }
    /* U+00A0 (C2 A0) is not a control character */
    struct parsed p = parse(d, COMPLETION_OK "&suggestion=a%C2%A0b");
    assert_int_equal(p.rc, 0);
    expect_answer(p.answers, "suggestion", "a\xC2\xA0" "b");
    cJSON_Delete(p.answers);
    /* a NUL inside a radio value is just a wrong value */
    expect_rejected(d, "score=9%00&materials_ok=yes&team_ok=yes", -1, "score", "请重新选择");
    survey_set_free(s);
}

static void test_parse_sizes(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    struct buf b;

    /* exactly 1000 Chinese characters: accepted (9000 bytes encoded) */
    buf_init(&b);
    buf_puts(&b, COMPLETION_OK "&suggestion=");
    for (int i = 0; i < SURVEY_TEXT_MAX_CHARS; i++)
        buf_puts(&b, "%E5%A5%BD");
    struct parsed p = parse(d, b.data);
    assert_int_equal(p.rc, 0);
    assert_int_equal(utf8_chars(cJSON_GetObjectItem(p.answers, "suggestion")->valuestring),
                     SURVEY_TEXT_MAX_CHARS);
    cJSON_Delete(p.answers);
    /* 1001: refused, naming the question */
    buf_puts(&b, "a");
    expect_rejected(d, b.data, -1, "suggestion", "内容过长，最多1000字：");
    buf_cleanup(&b);

    /* spaces around do not count */
    buf_init(&b);
    buf_puts(&b, COMPLETION_OK "&suggestion=++++");
    for (int i = 0; i < SURVEY_TEXT_MAX_CHARS; i++)
        buf_puts(&b, "a");
    buf_puts(&b, "%0A%0A++");
    p = parse(d, b.data);
    assert_int_equal(p.rc, 0);
    cJSON_Delete(p.answers);
    buf_cleanup(&b);

    /* the body cap: 16384 bytes are read, 16385 are not */
    buf_init(&b);
    buf_puts(&b, COMPLETION_OK "&pad=");
    while (b.len < SURVEY_FORM_MAX_BODY)
        buf_puts(&b, "x");
    assert_int_equal(b.len, SURVEY_FORM_MAX_BODY);
    p = parse(d, b.data);
    assert_int_equal(p.rc, 0);
    cJSON_Delete(p.answers);
    buf_puts(&b, "x");
    expect_rejected(d, b.data, -2, "", "提交的内容过长");
    buf_cleanup(&b);

    /* the length argument counts, not the NUL: a body that is not
     * NUL-terminated is read up to @len only */
    const char *body = "score=9&materials_ok=yes&team_ok=yes&response=%E4%B8%80%E8%88%AC"
                       "&wechat_report=%E4%B8%80%E8%88%ACGARBAGE";
    cJSON *a = NULL;
    assert_int_equal(survey_form_parse(d, body, strlen(body) - 7, &a, NULL, 0, NULL, 0), 0);
    expect_answer(a, "wechat_report", "一般");
    cJSON_Delete(a);
    /* NULL body with length 0 is an empty form */
    char field[32];
    assert_int_equal(survey_form_parse(d, NULL, 0, &a, field, sizeof field, NULL, 0), -1);
    assert_string_equal(field, "score");
    assert_null(a);
    survey_set_free(s);
}

static void test_parse_duplicates(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    /* a question id twice is refused, whether the values differ or not */
    expect_rejected(d, COMPLETION_OK "&score=3", -1, "score", "同一题目收到多个回答，请重新提交：");
    expect_rejected(d, COMPLETION_OK "&score=9", -1, "score", "同一题目收到多个回答");
    expect_rejected(d, COMPLETION_OK "&suggestion=a&suggestion=", -1, "suggestion",
                    "同一题目收到多个回答");
    expect_rejected(d, COMPLETION_OK "&%73core=9", -1, "score", "同一题目收到多个回答");
    /* ignored fields may repeat */
    struct parsed p = parse(d, "_=1&" COMPLETION_OK "&_=2&x=1&x=2");
    assert_int_equal(p.rc, 0);
    cJSON_Delete(p.answers);
    survey_set_free(s);
}

static void test_parse_error_truncation(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    cJSON *a = NULL;
    char field[4], err[14];
    /* "请回答：" is 12 bytes; the next character (3 bytes) does not fit in 13 */
    assert_int_equal(survey_form_parse(d, "x=1", 3, &a, field, sizeof field, err, sizeof err), -1);
    assert_string_equal(field, "sco");
    assert_string_equal(err, "请回答：");
    assert_true(utf8_valid(err, strlen(err)));
    survey_set_free(s);
}

/* Deterministic random bodies built from the pieces that matter: the parser
 * answers 0, -1 or -2, never crashes (run under ASan), and whatever it
 * accepts passes the definition module's own validator. */
static void test_parse_random_bodies(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "score", "materials_ok", "team_ok", "response", "wechat_report", "suggestion", "_",
        "=", "=", "&", "&", "+", "%", "%2", "%41", "%E4%B8%80%E8%88%AC", "%E5%BE%88%E5%8F%8A%E6%97%B6",
        "%FF", "%C2%85", "%0D%0A", "%00", "yes", "no", "1", "10", "11", "9", "\xE4\xB8", "\xFF",
        "%E3%80%80", "a", " ", "\t", "\n"};
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    uint64_t x = 0x9E3779B97F4A7C15u;
    int seen[3] = {0, 0, 0};
    for (int iter = 0; iter < 20000; iter++) {
        struct buf b;
        buf_init(&b);
        x = x * 6364136223846793005u + 1442695040888963407u;
        int n = (int)((x >> 33) % 24);
        for (int k = 0; k < n; k++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            buf_puts(&b, pieces[(x >> 33) % HF_ARRAY_LEN(pieces)]);
        }
        cJSON *a = NULL;
        char field[64], err[256];
        int rc = survey_form_parse(d, b.data ? b.data : "", b.len, &a, field, sizeof field, err,
                                   sizeof err);
        assert_true(rc == 0 || rc == -1 || rc == -2);
        seen[-rc]++;
        assert_true(utf8_valid(err, strlen(err)));
        if (rc == 0) {
            assert_non_null(a);
            for (const cJSON *v = a->child; v; v = v->next) {
                const struct question *q = survey_find_question(d, v->string);
                assert_non_null(q);
                assert_true(survey_answer_valid(q, v->valuestring));
            }
        } else {
            assert_null(a);
            assert_true(err[0] != '\0');
            assert_true(rc == -2 ? field[0] == '\0' : survey_find_question(d, field) != NULL);
        }
        cJSON_Delete(a);
        buf_cleanup(&b);
    }
    assert_true(seen[1] > 100 && seen[2] > 100);
    survey_set_free(s);
}

/* Every real survey: render, "answer" every question the way a browser
 * would post it, parse, get the same answers back. */
static void test_roundtrip_real_surveys(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    for (size_t k = 0; k < survey_set_count(s); k++) {
        const struct survey_def *d = survey_set_at(s, k);
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "_=1");
        cJSON *want = cJSON_CreateObject();
        for (size_t i = 0; i < d->nq; i++) {
            const struct question *q = &d->q[i];
            const char *v = q->type == Q_SCORE    ? "6"
                            : q->type == Q_YESNO  ? "no"
                            : q->type == Q_CHOICE ? q->options[q->noptions - 1]
                                                  : "有点问题 & 建议";
            buf_printf(&b, "&%s=", q->id);
            for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
                if (*c == ' ')
                    buf_puts(&b, "+");
                else if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))
                    buf_append(&b, c, 1);
                else
                    buf_printf(&b, "%%%02X", *c);
            }
            cJSON_AddStringToObject(want, q->id, v);
        }
        cJSON *got = NULL;
        char field[64], err[256];
        int rc = survey_form_parse(d, b.data, b.len, &got, field, sizeof field, err, sizeof err);
        if (rc != 0)
            fail_msg("survey %s: rc %d field %s err %s", d->id, rc, field, err);
        assert_true(cJSON_Compare(got, want, 1));

        /* and the page shows them back, checked */
        struct page_ctx ctx = base_ctx;
        ctx.previous = got;
        char *page = survey_page_render(d, &ctx);
        size_t nradio = 0;
        for (size_t i = 0; i < d->nq; i++)
            nradio += d->q[i].type != Q_TEXT;
        assert_int_equal(count(page, " checked"), nradio);
        free(page);
        cJSON_Delete(got);
        cJSON_Delete(want);
        buf_cleanup(&b);
    }
    survey_set_free(s);
}

/* ---- previews for people and the browser test --------------------------- */

static void write_file(const char *path, const char *text)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void test_write_preview(void **state)
{
    (void)state;
    struct survey_set *s = load_set();
    const struct survey_def *d = find_def(s, "completion");
    mkdir("build", 0755);
    char *page = survey_page_render(d, &base_ctx);
    write_file("build/survey_preview.html", page);
    free(page);

    /* the same survey answered before, re-shown with an error */
    cJSON *prev = cJSON_Parse("{\"score\":\"8\",\"materials_ok\":\"yes\",\"response\":\"很及时\","
                              "\"wechat_report\":\"一般\",\"suggestion\":\"工长很负责，"
                              "希望保洁再仔细一些。\"}");
    struct page_ctx ctx = base_ctx;
    ctx.previous = prev;
    ctx.notice = "请回答：您对设计师、工程管家的服务和施工团队的施工质量满意吗？";
    ctx.notice_field = "team_ok";
    page = survey_page_render(d, &ctx);
    write_file("build/survey_preview_amend.html", page);
    free(page);
    cJSON_Delete(prev);

    page = survey_page_message("thanks", base_ctx.company_name, base_ctx.company_phone);
    write_file("build/survey_preview_thanks.html", page);
    free(page);
    page = survey_page_message("expired", base_ctx.company_name, base_ctx.company_phone);
    write_file("build/survey_preview_expired.html", page);
    free(page);
    page = survey_page_message("invalid", base_ctx.company_name, base_ctx.company_phone);
    write_file("build/survey_preview_invalid.html", page);
    free(page);

    struct stat st;
    assert_int_equal(stat("build/survey_preview.html", &st), 0);
    assert_true(st.st_size > 2000);
    survey_set_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_real_surveys),
        cmocka_unit_test(test_page_completion_layout),
        cmocka_unit_test(test_page_stage_and_fallbacks),
        cmocka_unit_test(test_page_escapes_everything),
        cmocka_unit_test(test_page_prefills_previous),
        cmocka_unit_test(test_page_notice_banner),
        cmocka_unit_test(test_page_links_same_day_surveys),
        cmocka_unit_test(test_csp_matches_stylesheet),
        cmocka_unit_test(test_message_pages),
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_text_normalisation),
        cmocka_unit_test(test_parse_missing_required),
        cmocka_unit_test(test_parse_bad_values),
        cmocka_unit_test(test_parse_bad_encoding),
        cmocka_unit_test(test_parse_control_characters),
        cmocka_unit_test(test_parse_sizes),
        cmocka_unit_test(test_parse_duplicates),
        cmocka_unit_test(test_parse_error_truncation),
        cmocka_unit_test(test_parse_random_bodies),
        cmocka_unit_test(test_roundtrip_real_surveys),
        cmocka_unit_test(test_page_submission_id),
        cmocka_unit_test(test_write_preview),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
