/*
 * survey_page.c - the survey page, the message pages and the form parser.
 *
 * Layout of the survey page (single column, max 560 px wide):
 *
 *   header    company name, "客户回访"
 *   card      survey title, greeting, intro, milestone (+ stage), expiry
 *   banner    the notice, if any (green confirmation / red error)
 *   card      "you answered before, you can amend", if previous answers
 *   form      one card per question: number, text, required mark, then
 *             score 1-10 (2 rows of 5 boxes) / yes-no (2 wide boxes) /
 *             choice (full-width rows with a radio dot) / textarea
 *             submit button "提交", the expiry again
 *   footer    service phone (tel: link), company name
 */
#include "survey_page.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * The stylesheet (one constant: its hash goes into the CSP)
 * ====================================================================== */

#define C_BRAND "#1b4f7e"
#define C_BRAND_DARK "#143c60"

static const char page_css[] =
    "*,*::before,*::after{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
    "body{margin:0;background:#eef1f5;color:#1f2329;"
    "font:17px/1.6 -apple-system,BlinkMacSystemFont,\"PingFang SC\",\"Hiragino Sans GB\","
    "\"Microsoft YaHei\",\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"WenQuanYi Micro Hei\","
    "system-ui,\"Helvetica Neue\",Arial,sans-serif;-webkit-tap-highlight-color:transparent}"
    ".top{background:" C_BRAND ";color:#fff;padding:14px 16px 16px}"
    ".top-in,main{max-width:560px;margin:0 auto}"
    ".brand{font-size:19px;font-weight:600;line-height:1.4;letter-spacing:.02em}"
    ".sub{font-size:15px;color:#d6e2ee;line-height:1.4;margin-top:2px}"
    "main{padding:12px 12px 4px}"
    ".card{background:#fff;border:1px solid #dce1e8;border-radius:12px;padding:16px;"
    "margin:0 0 12px}"
    "h1{font-size:21px;line-height:1.4;margin:0 0 10px;font-weight:600}"
    "p{margin:0 0 8px}"
    ".greet{font-weight:600}"
    ".meta{font-size:15px;color:#4b5563;border-top:1px solid #edf0f3;padding-top:10px;"
    "margin:12px 0 0}"
    ".meta b{color:#1f2329;font-weight:600}"
    ".notice{border-radius:10px;padding:12px 14px;margin:0 0 12px;font-weight:600;"
    "line-height:1.5}"
    ".ok{background:#e7f4eb;color:#14532d;border:1px solid #a9d8b8}"
    ".err{background:#fdeceb;color:#8b1a14;border:1px solid #f2b8b5}"
    ".notice a{color:inherit}"
    ".prev{background:#f3f7fb;border-color:#cfdbe8;font-size:16px;color:#334155}"
    ".prev p{margin:0}"
    "fieldset{min-width:0}"
    ".q{border:1px solid #dce1e8}"
    ".q.main{border-top:4px solid " C_BRAND "}"
    ".q.bad{border:2px solid #d93025}"
    "legend{float:left;width:100%;padding:0;margin:0 0 12px;font-size:18px;font-weight:600;"
    "line-height:1.5;color:#1f2329}"
    ".body{clear:both}"
    ".qn{color:" C_BRAND ";margin-right:4px}"
    ".req{color:#c62828;margin-left:4px;font-weight:700}"
    ".opt-l{color:#6b7280;font-weight:400;font-size:15px;margin-left:4px}"
    ".opts{display:flex;flex-wrap:wrap;margin:-4px}"
    ".opt{position:relative;display:block;margin:0;padding:4px}"
    ".scale .opt{width:20%}"
    ".yn .opt{width:50%}"
    ".list .opt{width:100%}"
    ".opt input{position:absolute;left:50%;top:50%;width:1px;height:1px;margin:0;opacity:0}"
    ".opt span{display:flex;align-items:center;justify-content:center;min-height:52px;"
    "padding:6px;border:1.5px solid #c3cbd6;border-radius:10px;background:#fff;"
    "font-size:20px;font-weight:600;color:#1f2329;cursor:pointer;-webkit-user-select:none;"
    "user-select:none;text-align:center;line-height:1.3}"
    ".yn .opt span{min-height:56px;font-size:19px;letter-spacing:.2em;text-indent:.2em}"
    ".opt input:checked+span{background:" C_BRAND ";border-color:" C_BRAND ";color:#fff}"
    ".opt input:focus-visible+span{outline:3px solid #e8a317;outline-offset:2px}"
    ".list .opt span{position:relative;justify-content:flex-start;text-align:left;"
    "font-size:17px;font-weight:400;padding:12px 14px 12px 46px}"
    ".list .opt span::before{content:\"\";position:absolute;left:14px;top:50%;width:22px;"
    "height:22px;margin-top:-11px;border:2px solid #8a94a3;border-radius:50%;background:#fff}"
    ".list .opt input:checked+span{background:#eaf1f8;color:#1f2329;border-color:" C_BRAND
    "}"
    ".list .opt input:checked+span::before{border-color:" C_BRAND ";background:" C_BRAND ";"
    "box-shadow:inset 0 0 0 4px #fff}"
    ".ends{display:flex;justify-content:space-between;font-size:15px;color:#5b6472;"
    "margin-top:8px}"
    "textarea{display:block;width:100%;min-height:128px;padding:12px;font:inherit;"
    "color:inherit;border:1.5px solid #c3cbd6;border-radius:10px;background:#fff;"
    "resize:vertical;-webkit-appearance:none;appearance:none}"
    "textarea:focus{outline:none;border-color:" C_BRAND ";box-shadow:0 0 0 3px #c9d9ea}"
    ".hint{font-size:15px;color:#5b6472;margin:6px 0 0}"
    ".go{padding:4px 0 0}"
    ".submit{display:block;width:100%;min-height:54px;border:0;border-radius:12px;"
    "background:" C_BRAND ";color:#fff;font:inherit;font-size:19px;font-weight:600;"
    "letter-spacing:.4em;text-indent:.4em;cursor:pointer;-webkit-appearance:none;"
    "appearance:none}"
    ".submit:active{background:" C_BRAND_DARK "}"
    ".more{text-decoration:none;text-align:center;line-height:54px;letter-spacing:0;"
    "text-indent:0;font-size:17px}"
    ".submit:focus-visible{outline:3px solid #e8a317;outline-offset:2px}"
    ".after{text-align:center;font-size:15px;color:#5b6472;margin:10px 0 0}"
    "footer{text-align:center;font-size:15px;color:#5b6472;padding:12px 16px 32px;"
    "line-height:1.7}"
    "footer a,.msg a{color:" C_BRAND ";font-weight:600;text-decoration:none}"
    ".tel{font-size:17px}"
    ".msg{text-align:center;padding:32px 20px 28px;margin-top:8px}"
    ".msg h1{margin:14px 0 10px}"
    ".msg p{color:#374151;text-align:left}"
    ".mark{position:relative;display:block;margin:0 auto;width:64px;height:64px;border-radius:50%;"
    "font-size:38px;line-height:64px;font-weight:700;color:#fff;background:#6b7a8c}"
    ".m-thanks,.m-closed{background:#1e8e4e}"
    ".m-expired{background:#d98a07}"
    ".m-thanks::after,.m-closed::after{content:\"\";position:absolute;left:23px;top:14px;"
    "width:14px;height:26px;border:solid #fff;border-width:0 5px 5px 0;"
    "transform:rotate(45deg)}"
    ".call{display:block;margin:18px auto 0;padding:13px 16px;border:1.5px solid " C_BRAND ";"
    "border-radius:12px;font-size:17px;text-align:center}";

/* ======================================================================
 * HTML helpers
 * ====================================================================== */

/* Append @s HTML-escaped (text and double-quoted attribute safe). Invalid
 * UTF-8 becomes U+FFFD; control characters other than TAB, LF and CR are
 * dropped. NULL appends nothing. */
static void put_esc(struct buf *b, const char *s)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        unsigned c = *p;
        size_t k;
        switch (c) {
        case '&': buf_puts(b, "&amp;"); k = 1; break;
        case '<': buf_puts(b, "&lt;"); k = 1; break;
        case '>': buf_puts(b, "&gt;"); k = 1; break;
        case '"': buf_puts(b, "&quot;"); k = 1; break;
        case '\'': buf_puts(b, "&#39;"); k = 1; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                if (c == '\t' || c == '\n' || c == '\r')
                    buf_append(b, p, 1);
                k = 1;
            } else if ((k = utf8_seq(p, n)) == 0) {
                buf_puts(b, "\xEF\xBF\xBD");
                k = 1;
            } else {
                buf_append(b, p, k);
            }
        }
        p += k;
        n -= k;
    }
}

/* Append @phone's digits and '+' only, for a tel: URL. 0 if none. */
static int put_tel(struct buf *b, const char *phone)
{
    int n = 0;
    for (const char *p = phone; p && *p; p++)
        if ((*p >= '0' && *p <= '9') || (*p == '+' && n == 0)) {
            buf_append(b, p, 1);
            n++;
        }
    return n;
}

static int has_text(const char *s)
{
    return s && *s;
}

/* "sha256-<base64>" of the stylesheet into @out (at least 52 bytes). */
static void css_hash(char out[64])
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char hex[65];
    unsigned char bin[32];
    sha256_hex(page_css, sizeof page_css - 1, hex);
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        bin[i] = (unsigned char)v;
    }
    char *o = out + sprintf(out, "sha256-");
    for (int i = 0; i < 32; i += 3) {
        unsigned v = (unsigned)bin[i] << 16;
        int rem = 32 - i;
        if (rem > 1)
            v |= (unsigned)bin[i + 1] << 8;
        if (rem > 2)
            v |= bin[i + 2];
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        *o++ = rem > 1 ? b64[(v >> 6) & 63] : '=';
        *o++ = rem > 2 ? b64[v & 63] : '=';
    }
    *o = '\0';
}

void survey_page_csp(char *out, size_t outlen)
{
    char h[64];
    if (!out || outlen == 0)
        return;
    css_hash(h);
    snprintf(out, outlen,
             "default-src 'none'; style-src '%s'; form-action 'self'; base-uri 'none'; "
             "frame-ancestors 'none'",
             h);
}

/* <!DOCTYPE> ... <body><header>: everything up to the main column. */
static void put_head(struct buf *b, const char *title, const char *company)
{
    char h[64];
    css_hash(h);
    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    /* frame-ancestors is ignored in a <meta> policy; the header has it. */
    buf_printf(b,
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src '%s'; form-action 'self'; base-uri 'none'\">\n",
               h);
    buf_puts(b, "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
                "<meta name=\"referrer\" content=\"no-referrer\">\n"
                "<meta name=\"robots\" content=\"noindex,nofollow\">\n"
                "<meta name=\"format-detection\" content=\"telephone=no\">\n"
                "<title>");
    put_esc(b, title);
    buf_puts(b, " - ");
    put_esc(b, company);
    buf_puts(b, "</title>\n<style>");
    buf_puts(b, page_css);
    buf_puts(b, "</style>\n</head>\n<body>\n<header class=\"top\"><div class=\"top-in\">"
                "<div class=\"brand\">");
    put_esc(b, company);
    buf_puts(b, "</div><div class=\"sub\">客户回访</div></div></header>\n");
}

static void put_footer(struct buf *b, const char *company, const char *phone)
{
    buf_puts(b, "<footer>");
    if (has_text(phone)) {
        struct buf tel;
        buf_init(&tel);
        if (put_tel(&tel, phone)) {
            buf_puts(b, "<div>客服电话 <a class=\"tel\" href=\"tel:");
            buf_puts(b, tel.data);
            buf_puts(b, "\">");
            put_esc(b, phone);
            buf_puts(b, "</a></div>");
        } else {
            buf_puts(b, "<div>客服电话 ");
            put_esc(b, phone);
            buf_puts(b, "</div>");
        }
        buf_cleanup(&tel);
    }
    buf_puts(b, "<div>");
    put_esc(b, company);
    buf_puts(b, "</div></footer>\n</body>\n</html>\n");
}

/* ======================================================================
 * The survey page
 * ====================================================================== */

/* The previous answer to @qid as a string in @tmp (for numbers), or NULL. */
static const char *prev_value(const cJSON *prev, const char *qid, char tmp[32])
{
    if (!cJSON_IsObject(prev) || !qid)
        return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(prev, qid);
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNumber(v)) {
        snprintf(tmp, 32, "%.0f", v->valuedouble);
        return tmp;
    }
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "yes" : "no";
    return NULL;
}

static int prev_any(const struct survey_def *d, const cJSON *prev)
{
    char tmp[32];
    for (size_t i = 0; i < d->nq; i++) {
        const char *v = prev_value(prev, d->q[i].id, tmp);
        if (v && *v)
            return 1;
    }
    return 0;
}

/* One radio box: <label class="opt"><input ...><span>label</span></label> */
static void put_radio(struct buf *b, const struct question *q, const char *value,
                      const char *label, const char *prev)
{
    buf_puts(b, "<label class=\"opt\"><input type=\"radio\" name=\"");
    put_esc(b, q->id);
    buf_puts(b, "\" value=\"");
    put_esc(b, value);
    buf_puts(b, "\"");
    if (prev && strcmp(prev, value) == 0)
        buf_puts(b, " checked");
    if (q->required)
        buf_puts(b, " required");
    buf_puts(b, "><span>");
    put_esc(b, label);
    buf_puts(b, "</span></label>");
}

static void put_question(struct buf *b, const struct survey_def *d, size_t i,
                         const struct page_ctx *ctx)
{
    const struct question *q = &d->q[i];
    char tmp[32];
    const char *prev = prev_value(ctx->previous, q->id, tmp);
    int bad = ctx->notice && ctx->notice_field && q->id && strcmp(ctx->notice_field, q->id) == 0;

    buf_puts(b, "<fieldset class=\"card q");
    if (d->main_index >= 0 && (size_t)d->main_index == i)
        buf_puts(b, " main");
    if (bad)
        buf_puts(b, " bad");
    buf_puts(b, "\" id=\"q-");
    put_esc(b, q->id);
    buf_puts(b, "\">\n<legend>");
    buf_printf(b, "<span class=\"qn\">%zu.</span>", i + 1);
    put_esc(b, q->text);
    if (q->required)
        buf_puts(b, "<span class=\"req\" title=\"必答\">*</span>");
    else if (q->type == Q_TEXT)
        buf_puts(b, "<span class=\"opt-l\">（选填）</span>");
    buf_puts(b, "</legend>\n<div class=\"body\">");

    switch (q->type) {
    case Q_SCORE:
        buf_puts(b, "<div class=\"opts scale\">");
        for (int s = 1; s <= 10; s++) {
            char v[12];
            snprintf(v, sizeof v, "%d", s);
            put_radio(b, q, v, v, prev);
        }
        buf_puts(b, "</div><div class=\"ends\"><span>1分 非常不满意</span>"
                    "<span>10分 非常满意</span></div>");
        break;
    case Q_YESNO:
        buf_puts(b, "<div class=\"opts yn\">");
        put_radio(b, q, "yes", "是", prev);
        put_radio(b, q, "no", "否", prev);
        buf_puts(b, "</div>");
        break;
    case Q_CHOICE:
        buf_puts(b, "<div class=\"opts list\">");
        for (size_t k = 0; k < q->noptions; k++)
            put_radio(b, q, q->options[k], q->options[k], prev);
        buf_puts(b, "</div>");
        break;
    case Q_TEXT:
    default:
        buf_puts(b, "<textarea name=\"");
        put_esc(b, q->id);
        buf_printf(b, "\" rows=\"4\" maxlength=\"%d\"", SURVEY_TEXT_MAX_CHARS);
        if (q->required)
            buf_puts(b, " required");
        buf_puts(b, q->required ? " placeholder=\"请填写\">"
                                : " placeholder=\"选填，欢迎留下您的意见和建议\">");
        /* The parser drops one newline right after the start tag, so an
         * answer that starts with a newline keeps it. */
        buf_puts(b, "\n");
        put_esc(b, prev);
        buf_printf(b, "</textarea><p class=\"hint\">最多%d字</p>", SURVEY_TEXT_MAX_CHARS);
        break;
    }
    buf_puts(b, "</div>\n</fieldset>\n");
}

char *survey_page_render(const struct survey_def *d, const struct page_ctx *ctx)
{
    static const struct page_ctx empty_ctx;
    struct buf b;
    HF_ASSERT(d != NULL);
    if (!ctx)
        ctx = &empty_ctx;
    const char *company = has_text(ctx->company_name) ? ctx->company_name : "客户服务";
    int required_any = 0;
    for (size_t i = 0; i < d->nq; i++)
        required_any |= d->q[i].required;

    buf_init(&b);
    put_head(&b, has_text(d->title) ? d->title : "客户回访", company);
    buf_puts(&b, "<main>\n<section class=\"card\">\n<h1>");
    put_esc(&b, has_text(d->title) ? d->title : "客户回访");
    buf_puts(&b, "</h1>\n<p class=\"greet\">");
    if (has_text(ctx->customer_name)) {
        put_esc(&b, ctx->customer_name);
        put_esc(&b, ctx->customer_title);
        buf_puts(&b, "，您好！");
    } else {
        buf_puts(&b, "尊敬的客户，您好！");
    }
    buf_puts(&b, "</p>\n");
    if (has_text(d->intro)) {
        buf_puts(&b, "<p>");
        put_esc(&b, d->intro);
        buf_puts(&b, "</p>\n");
    }
    if (has_text(ctx->milestone_name) || has_text(ctx->expires) || required_any) {
        buf_puts(&b, "<div class=\"meta\">");
        if (has_text(ctx->milestone_name)) {
            buf_puts(&b, "<div>回访事项：<b>");
            put_esc(&b, ctx->milestone_name);
            if (has_text(ctx->stage)) {
                buf_puts(&b, "（");
                put_esc(&b, ctx->stage);
                buf_puts(&b, "）");
            }
            buf_puts(&b, "</b></div>");
        }
        if (has_text(ctx->expires)) {
            buf_puts(&b, "<div>填写期限：<b>");
            put_esc(&b, ctx->expires);
            buf_puts(&b, "前有效</b></div>");
        }
        if (required_any)
            buf_puts(&b, "<div>标 <span class=\"req\">*</span> 的为必答题</div>");
        buf_puts(&b, "</div>\n");
    }
    buf_puts(&b, "</section>\n");

    if (has_text(ctx->notice)) {
        int is_err = has_text(ctx->notice_field);
        buf_puts(&b, is_err ? "<div class=\"notice err\" role=\"alert\">"
                            : "<div class=\"notice ok\" role=\"status\">");
        if (is_err) {
            buf_puts(&b, "<a href=\"#q-");
            put_esc(&b, ctx->notice_field);
            buf_puts(&b, "\">");
            put_esc(&b, ctx->notice);
            buf_puts(&b, "</a>");
        } else {
            put_esc(&b, ctx->notice);
        }
        buf_puts(&b, "</div>\n");
    }
    if (prev_any(d, ctx->previous))
        buf_puts(&b, "<div class=\"card prev\"><p>您已提交过回答，下面已为您填好。"
                     "有效期内可以修改后重新提交。</p></div>\n");

    buf_puts(&b, "<form method=\"post\" action=\"");
    put_esc(&b, ctx->action ? ctx->action : "");
    buf_puts(&b, "\" accept-charset=\"utf-8\" enctype=\"application/x-www-form-urlencoded\">\n"
                 "<input type=\"hidden\" name=\"_\" value=\"1\">\n");
    if (has_text(ctx->submission)) {
        buf_puts(&b, "<input type=\"hidden\" name=\"n\" value=\"");
        put_esc(&b, ctx->submission);
        buf_puts(&b, "\">\n");
    }
    for (size_t i = 0; i < d->nq; i++)
        put_question(&b, d, i, ctx);
    buf_puts(&b, "<div class=\"go\"><button type=\"submit\" class=\"submit\">提交</button>");
    if (has_text(ctx->expires)) {
        buf_puts(&b, "<p class=\"after\">提交后，");
        put_esc(&b, ctx->expires);
        buf_puts(&b, "前仍可通过本链接修改回答</p>");
    }
    buf_puts(&b, "</div>\n</form>\n");
    if (ctx->more && ctx->nmore) {
        buf_puts(&b, "<section class=\"card\">\n<h2>您今天还有以下回访</h2>\n");
        for (size_t i = 0; i < ctx->nmore; i++) {
            buf_puts(&b, "<p><a class=\"submit more\" href=\"");
            put_esc(&b, ctx->more[i].href);
            buf_puts(&b, "\">");
            put_esc(&b, has_text(ctx->more[i].title) ? ctx->more[i].title : "客户回访");
            buf_puts(&b, ctx->more[i].answered ? "（已填写，可修改）" : "");
            buf_puts(&b, "</a></p>\n");
        }
        buf_puts(&b, "</section>\n");
    }
    buf_puts(&b, "</main>\n");
    put_footer(&b, company, ctx->company_phone);
    return buf_steal(&b);
}

/* ======================================================================
 * Message pages
 * ====================================================================== */

struct msg_kind {
    const char *kind;
    const char *title;
    const char *mark; /* text inside the round mark ("" = CSS check mark) */
    const char *text;
};

static const struct msg_kind msg_kinds[] = {
    {"thanks", "感谢您的评价", "",
     "您的回答已保存。我们会认真对待您的每一条意见，持续改进服务。"
     "在有效期内再次打开这个链接，可以修改您的回答。"},
    {"expired", "问卷已过期", "!",
     "这份回访问卷的填写期限已过，无法再提交。"
     "如果您对我们的服务有任何意见或建议，欢迎随时致电客服，我们会认真听取。"},
    {"closed", "回访已结束", "",
     "这份回访问卷已经结束，无需再填写。感谢您的支持！"
     "如有其他问题，欢迎随时致电客服。"},
    {"invalid", "链接无法打开", "?",
     "这个链接不完整或已失效。请检查是否完整打开了短信或微信中的链接；"
     "如仍无法打开，请致电客服，我们会为您处理。"},
};

char *survey_page_message(const char *kind, const char *company_name, const char *company_phone)
{
    const struct msg_kind *m = &msg_kinds[HF_ARRAY_LEN(msg_kinds) - 1];
    for (size_t i = 0; kind && i < HF_ARRAY_LEN(msg_kinds); i++)
        if (strcmp(kind, msg_kinds[i].kind) == 0)
            m = &msg_kinds[i];
    const char *company = has_text(company_name) ? company_name : "客户服务";
    int called = 0;
    struct buf b;
    buf_init(&b);
    put_head(&b, m->title, company);
    buf_printf(&b, "<main>\n<section class=\"card msg\">\n<span class=\"mark m-%s\">%s</span>\n"
                   "<h1>%s</h1>\n<p>%s</p>\n",
               m->kind, m->mark, m->title, m->text);
    if (has_text(company_phone)) {
        struct buf tel;
        buf_init(&tel);
        if (put_tel(&tel, company_phone)) {
            called = 1;
            buf_puts(&b, "<a class=\"call\" href=\"tel:");
            buf_puts(&b, tel.data);
            buf_puts(&b, "\">拨打客服电话 ");
            put_esc(&b, company_phone);
            buf_puts(&b, "</a>\n");
        }
        buf_cleanup(&tel);
    }
    buf_puts(&b, "</section>\n</main>\n");
    /* The phone is the call button above; the footer repeats it only when
     * it has no digits to dial. */
    put_footer(&b, company, called ? NULL : company_phone);
    return buf_steal(&b);
}

/* ======================================================================
 * The form parser
 * ====================================================================== */

/* Copy @src into @dst (@dstlen bytes), cut on a UTF-8 character boundary. */
static void copy_utf8(char *dst, size_t dstlen, const char *src)
{
    if (!dst || dstlen == 0)
        return;
    size_t n = strlen(src);
    if (n >= dstlen) {
        n = dstlen - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void set_err(char *field, size_t fieldlen, const char *fid, char *err, size_t errlen,
                    const char *msg, const char *qtext)
{
    char *m = xasprintf("%s%s", msg, qtext ? qtext : "");
    copy_utf8(field, fieldlen, fid ? fid : "");
    copy_utf8(err, errlen, m);
    free(m);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode @n bytes of urlencoded @s into a new NUL-terminated string
 * (*outlen = decoded length, which may contain NUL bytes). NULL on a bad
 * escape. Caller owns the result; free(). */
static char *form_decode(const char *s, size_t n, size_t *outlen)
{
    char *out = xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            *o++ = ' ';
        } else if (c == '%') {
            int hi, lo;
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            if ((hi = hexval((unsigned char)s[i + 1])) < 0 ||
                (lo = hexval((unsigned char)s[i + 2])) < 0) {
                free(out);
                return NULL;
            }
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    *outlen = (size_t)(o - out);
    return out;
}

/* Normalise a text answer in place: CR LF / CR -> LF, TAB -> space; refuse
 * other control characters (C0 except LF, DEL, C1: returns NULL); trim
 * spaces, LF and U+3000 at both ends. @s must be valid UTF-8 of *@len bytes
 * with room for a NUL. Returns the new start, *@len the new length. */
static char *text_clean(char *s, size_t *len)
{
    size_t n = *len, w = 0;
    for (size_t r = 0; r < n; r++) {
        unsigned char c = (unsigned char)s[r];
        if (c == '\r') {
            s[w++] = '\n';
            if (r + 1 < n && s[r + 1] == '\n')
                r++;
        } else if (c == '\t') {
            s[w++] = ' ';
        } else if ((c < 0x20 && c != '\n') || c == 0x7F) {
            return NULL;
        } else if (c == 0xC2 && r + 1 < n && (unsigned char)s[r + 1] >= 0x80 &&
                   (unsigned char)s[r + 1] <= 0x9F) {
            return NULL; /* C1 control, U+0080..U+009F */
        } else {
            s[w++] = (char)c;
        }
    }
    s[w] = '\0';
    char *p = s, *e = s + w;
    for (;;) {
        if (p < e && (*p == ' ' || *p == '\n'))
            p++;
        /* cppcheck-suppress knownConditionTrueFalse ; false positive: p and e move in the loop */
        else if (e - p >= 3 && memcmp(p, "\xE3\x80\x80", 3) == 0)
            p += 3;
        else
            break;
    }
    for (;;) {
        if (e > p && (e[-1] == ' ' || e[-1] == '\n'))
            e--;
        /* cppcheck-suppress knownConditionTrueFalse ; false positive: p and e move in the loop */
        else if (e - p >= 3 && memcmp(e - 3, "\xE3\x80\x80", 3) == 0)
            e -= 3;
        else
            break;
    }
    *e = '\0';
    *len = (size_t)(e - p);
    return p;
}

static size_t utf8_count(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

static int score_ok(const char *v, size_t n)
{
    if (n == 1)
        return v[0] >= '1' && v[0] <= '9';
    return n == 2 && v[0] == '1' && v[1] == '0';
}

int survey_form_parse(const struct survey_def *d, const char *body, size_t len, cJSON **answers,
                      char *field, size_t fieldlen, char *err, size_t errlen)
{
    char **vals = NULL;
    size_t *vlen = NULL;
    cJSON *out = NULL;
    int rc = -2;

    HF_ASSERT(d != NULL && answers != NULL);
    *answers = NULL;
    if (field && fieldlen)
        field[0] = '\0';
    if (err && errlen)
        err[0] = '\0';

    if (len > SURVEY_FORM_MAX_BODY) {
        set_err(field, fieldlen, NULL, err, errlen, "提交的内容过长，请精简后重新提交", NULL);
        return -2;
    }
    if (!body && len > 0) {
        set_err(field, fieldlen, NULL, err, errlen, "提交的内容无法识别，请重新提交", NULL);
        return -2;
    }
    vals = xcalloc(d->nq ? d->nq : 1, sizeof *vals);
    vlen = xcalloc(d->nq ? d->nq : 1, sizeof *vlen);

    /* Pass 1: split and decode; collect one raw value per question. */
    for (size_t pos = 0; pos < len;) {
        const char *pair = body + pos;
        const char *amp = memchr(pair, '&', len - pos);
        size_t plen = amp ? (size_t)(amp - pair) : len - pos;
        pos += plen + 1;
        if (plen == 0)
            continue;
        const char *eq = memchr(pair, '=', plen);
        size_t nlen = eq ? (size_t)(eq - pair) : plen;
        size_t name_n = 0, val_n = 0;
        char *name = form_decode(pair, nlen, &name_n);
        char *val = eq ? form_decode(eq + 1, plen - nlen - 1, &val_n) : xstrdup("");
        if (!name || !val) {
            free(name);
            free(val);
            set_err(field, fieldlen, NULL, err, errlen, "提交的内容无法识别，请重新提交", NULL);
            goto out;
        }
        if (!utf8_valid(name, name_n)) {
            free(name);
            free(val);
            set_err(field, fieldlen, NULL, err, errlen, "提交的内容含有无法识别的字符，请重新提交",
                    NULL);
            goto out;
        }
        size_t qi = d->nq;
        for (size_t i = 0; i < d->nq; i++)
            if (d->q[i].id && strlen(d->q[i].id) == name_n && memcmp(d->q[i].id, name, name_n) == 0)
                qi = i;
        free(name);
        if (qi == d->nq) { /* "_" or a field we do not know: ignored */
            int ok = utf8_valid(val, val_n);
            free(val);
            if (!ok) {
                set_err(field, fieldlen, NULL, err, errlen,
                        "提交的内容含有无法识别的字符，请重新提交", NULL);
                goto out;
            }
            continue;
        }
        if (vals[qi]) {
            free(val);
            set_err(field, fieldlen, d->q[qi].id, err, errlen, "同一题目收到多个回答，请重新提交：",
                    d->q[qi].text);
            rc = -1;
            goto out;
        }
        vals[qi] = val;
        vlen[qi] = val_n;
    }

    /* Pass 2: check each value against its question, in question order. */
    rc = -1;
    out = cJSON_CreateObject();
    for (size_t i = 0; i < d->nq; i++) {
        const struct question *q = &d->q[i];
        char *v = vals[i];
        size_t n = vlen[i];
        if (!v || n == 0)
            continue;
        if (!utf8_valid(v, n)) {
            set_err(field, fieldlen, q->id, err, errlen, "内容含有无法识别的字符：", q->text);
            goto out;
        }
        int ok = 0;
        switch (q->type) {
        case Q_YESNO:
            ok = (n == 3 && memcmp(v, "yes", 3) == 0) || (n == 2 && memcmp(v, "no", 2) == 0);
            break;
        case Q_SCORE:
            ok = score_ok(v, n);
            break;
        case Q_CHOICE:
            for (size_t k = 0; k < q->noptions && !ok; k++)
                ok = strlen(q->options[k]) == n && memcmp(q->options[k], v, n) == 0;
            break;
        case Q_TEXT:
        default:
            v = text_clean(v, &n);
            if (!v) {
                set_err(field, fieldlen, q->id, err, errlen, "内容含有无法识别的字符：", q->text);
                goto out;
            }
            if (utf8_count(v, n) > SURVEY_TEXT_MAX_CHARS) {
                char msg[64];
                snprintf(msg, sizeof msg, "内容过长，最多%d字：", SURVEY_TEXT_MAX_CHARS);
                set_err(field, fieldlen, q->id, err, errlen, msg, q->text);
                goto out;
            }
            ok = 1;
            if (n == 0)
                continue; /* only spaces: not answered */
            break;
        }
        if (!ok) {
            set_err(field, fieldlen, q->id, err, errlen, "请重新选择：", q->text);
            goto out;
        }
        cJSON_AddItemToObject(out, q->id, cJSON_CreateString(v));
    }
    for (size_t i = 0; i < d->nq; i++) {
        if (d->q[i].required && !cJSON_GetObjectItemCaseSensitive(out, d->q[i].id)) {
            set_err(field, fieldlen, d->q[i].id, err, errlen, "请回答：", d->q[i].text);
            goto out;
        }
    }
    *answers = out;
    out = NULL;
    rc = 0;
out:
    cJSON_Delete(out);
    for (size_t i = 0; i < d->nq; i++)
        free(vals[i]);
    free(vals);
    free(vlen);
    return rc;
}

/* ======================================================================
 * Helpers shared with the console's pages (console.c)
 * ====================================================================== */

void page_html_escape(struct buf *b, const char *s)
{
    put_esc(b, s);
}

char *page_form_decode(const char *s, size_t n, size_t *outlen)
{
    return form_decode(s, n, outlen);
}
