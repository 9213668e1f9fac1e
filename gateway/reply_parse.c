/*
 * reply_parse.c - free-text reply -> struct reply. The rules are written
 * down in reply_parse.h; this file follows them in the same order.
 *
 * Everything works on a normalized copy of the reply (struct norm) with a
 * byte-offset map back into the original, so the comment is cut from the
 * customer's own text while matching sees folded, lower-cased ASCII.
 * Positions are byte offsets into the normalized copy; every helper takes
 * the end of the region it may look at.
 */
#include "reply_parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ==== default vocabulary ============================================== */

static const char *const default_sat_words[] = {
    "非常满意", "满意", "比较满意", "还可以", "一般", "不太满意", "不满意", "很不满意",
    "非常不满意", "非常好", "很好", "挺好", "不错", "还行",
};
static const int default_sat_scores[] = {
    10, 9, 8, 7, 6, 4, 3, 1, 1, 10, 9, 8, 8, 7,
};

/* From the seeds' 投诉管理办法 / 客户投诉处理方法: construction quality,
 * materials, delays, attitude, money, and escalation outside the company. */
static const char *const default_complaint_words[] = {
    /* quality */
    "投诉", "举报", "漏水", "渗水", "渗漏", "开裂", "裂缝", "空鼓", "脱落", "起皮", "发霉",
    "返工", "不合格", "偷工减料", "以次充好", "质量差", "质量太差",
    /* materials, health */
    "甲醛", "异味",
    /* attitude, honesty */
    "欺骗", "骗子", "骗人", "差劲", "太差", "很差", "态度差", "态度恶劣", "不负责",
    "敷衍", "没人管", "找不到人",
    /* delays */
    "拖延", "延期", "拖工期", "停工",
    /* money */
    "退款", "退钱", "赔偿", "乱收费", "私单", "退单", "退定金",
    /* escalation */
    "维权", "12315", "曝光", "媒体", "律师", "起诉", "法院",
};

const struct reply_config reply_config_default = {
    .sat_words = default_sat_words,
    .sat_scores = default_sat_scores,
    .nsat = HF_ARRAY_LEN(default_sat_words),
    .complaint_words = default_complaint_words,
    .ncomplaint = HF_ARRAY_LEN(default_complaint_words),
};

_Static_assert(HF_ARRAY_LEN(default_sat_words) == HF_ARRAY_LEN(default_sat_scores),
               "one score per satisfaction word");

/* ==== fixed vocabulary ================================================= */

#define N_(a) (a), HF_ARRAY_LEN(a)

static const char *const optout_words[] = {"td", "t", "r", "退订", "拒收", "取消订阅",
                                           "unsubscribe"};
static const char *const sms_optout_words[] = {"td", "t", "n", "r", "退订"};

/* Sentence particles (and "about") that may follow an answer. */
static const char *const particles[] = {"的", "吧", "啦", "了", "呢", "哦", "喔", "噢", "啊",
                                        "呀", "哈", "嘛", "滴", "哟", "呐", "咯", "嗷", "哇",
                                        "撒", "昂", "左右", "上下"};
/* Words that start a new clause: an answer may run straight into them. */
static const char *const connectors[] = {"但", "不过", "就是", "可是", "只是", "而且", "谢谢",
                                         "感谢", "多谢", "辛苦", "另外", "还有", "希望", "建议"};

/* Lead-ins before a head score; all count as a score verb at the head. */
static const char *const score_leads[] = {
    "我给你们打", "给你们打", "我给你打", "给你打", "我给打", "我打", "我给", "我评",
    "打个", "给个", "打分", "评分是", "评分", "分数是", "分数", "得分", "总分", "打", "给",
    "评", "就给", "就打", "整体", "总体", "综合", "总的", "就", "算", "嗯", "我觉得",
    "我感觉", "感觉", "可以打", "可以给", "能打", "能给", "我们打", "我们给",
};
/* Score verbs that make a number a score anywhere in the reply. */
static const char *const score_verbs[] = {
    "打个", "给个", "打分", "评分是", "评分", "分数是", "分数", "得分", "总分", "打", "给",
    "评",
};

/* Lead-ins before a satisfaction word at the head. need_sep: the lead-in
 * must be followed by a separator ("是的，满意" but not "是满意"). */
struct lead {
    const char *w;
    int need_sep;
};
static const struct lead sat_leads[] = {
    {"是的", 1}, {"是", 1}, {"对的", 1}, {"对", 1}, {"嗯", 0}, {"好的", 1}, {"感觉", 0},
    {"觉得", 0}, {"我觉得", 0}, {"我感觉", 0}, {"总体", 0}, {"整体", 0}, {"总的来说", 0},
    {"总体来说", 0}, {"总体上", 0}, {"整体上", 0}, {"还算", 0}, {"算是", 0}, {"都", 0},
    {"都还", 0}, {"挺", 0}, {"很", 0}, {"蛮", 0}, {"还", 0}, {"还是", 0}, {"基本", 0},
    {"基本上", 0}, {"我", 0}, {"我们", 0}, {"本人", 0}, {"目前", 0}, {"比较", 0},
    {"真的", 0}, {"真", 0}, {"也", 0},
};

static const struct lead busy_leads[] = {
    {"现在", 0}, {"我现在", 0}, {"目前", 0}, {"暂时", 0}, {"这会儿", 0}, {"这会", 0},
    {"正在", 0}, {"不好意思", 0}, {"抱歉", 0}, {"对不起", 0}, {"sorry", 0}, {"你好", 0},
    {"您好", 0}, {"哦", 0}, {"嗯", 0}, {"啊", 0}, {"喂", 0}, {"我", 0}, {"我们", 0},
    {"人", 0}, {"还", 0}, {"刚好", 0}, {"好的", 1}, {"好", 1}, {"是的", 1}, {"是", 1},
    {"对", 1}, {"不", 1}, {"没", 1}, {"没有", 1},
};
static const char *const busy_head[] = {
    "不方便", "不太方便", "不是很方便", "在忙", "忙", "很忙", "正忙", "有点忙", "太忙",
    "比较忙", "忙着", "没空", "没时间", "在开会", "开会", "在开车", "开车", "在上班",
    "上班", "在外面", "在外地", "晚点", "晚些", "稍后", "稍等", "等会", "等一会",
    "等一下", "等下", "待会", "过会", "一会儿", "改天", "在路上",
    "在睡觉", "在休息", "在吃饭", "在开车中",
};
struct busy_any {
    const char *w;
    int need_end; /* must be followed by the end / punctuation / a particle */
};
static const struct busy_any busy_anywhere[] = {
    {"现在不方便", 0}, {"现在没空", 0}, {"现在没时间", 0}, {"现在忙", 0}, {"正在忙", 0},
    {"不方便接", 0}, {"不方便说", 0}, {"不方便回", 0}, {"不方便讲", 0}, {"在开会", 0},
    {"开会中", 0}, {"在开车", 0}, {"开车中", 0}, {"晚点再", 0}, {"晚点联系", 0},
    {"晚些再", 0}, {"稍后再", 0}, {"稍后联系", 0}, {"稍后回", 0}, {"等会再", 0},
    {"等会儿再", 0}, {"待会再", 0}, {"待会儿再", 0}, {"过会再", 0}, {"过会儿再", 0},
    {"回头再", 0}, {"改天再", 0}, {"下次再说", 0}, {"有空再", 0}, {"再打给我", 0},
    {"再给我打", 0}, {"再打过来", 0}, {"再打电话", 0}, {"再来电", 0}, {"再打", 1},
    {"再说", 1}, {"再联系", 1}, {"再聊", 1}, {"再回复", 1}, {"再回", 1}, {"晚点", 1},
};
/* Words that may surround a time in a time-only reply ("明天上午吧"). */
static const char *const time_fillers[] = {
    "吧", "再", "打", "联系", "来电", "电话", "给我", "打给我", "可以", "行", "好", "好的",
    "嗯", "比较方便", "方便", "有空", "有时间", "以后", "之后", "后", "再说", "呢", "哦",
    "的", "时候", "左右", "前后", "那", "就", "我", "你", "您", "过来", "可能", "应该",
    "在家", "回电", "啊", "呀", "都", "都行", "那时", "之前", "前", "以前", "或者", "到",
    "一下", "再来", "半", "钟", "多", "吗", "是", "比较", "合适", "空", "在", "再打",
};

/* Time words. period: 0 none, 1 morning, 2 noon, 3 afternoon/evening,
 * 4 small hours; def: the hour used when no hour is stated. */
struct time_word {
    const char *w;
    int days;   /* -1: not a day word */
    int period; /* 0: not a period word */
    int def;
    int evening; /* "12点" means midnight */
};
static const struct time_word time_words[] = {
    {"今天", 0, 0, -1, 0},  {"今儿", 0, 0, -1, 0},  {"明天", 1, 0, -1, 0},
    {"明儿", 1, 0, -1, 0},  {"后天", 2, 0, -1, 0},  {"今晚", 0, 3, 19, 1},
    {"明早", 1, 1, 9, 0},   {"明晚", 1, 3, 19, 1},  {"凌晨", -1, 4, -1, 0},
    {"早上", -1, 1, 9, 0},  {"早晨", -1, 1, 9, 0},  {"上午", -1, 1, 10, 0},
    {"中午", -1, 2, 12, 0}, {"下午", -1, 3, 15, 0}, {"傍晚", -1, 3, 18, 0},
    {"晚上", -1, 3, 19, 1}, {"晚间", -1, 3, 19, 1}, {"夜里", -1, 3, 20, 1},
    {"夜间", -1, 3, 20, 1},
};

static const char *const yes_words[] = {
    "是", "对", "嗯", "恩", "好", "行", "可以", "有", "属实", "确实", "没错", "对头", "是真的",
    "真的", "的确", "当然", "正确", "清楚", "知道", "收到", "同意", "顺利", "到位", "及时",
    "方便", "好嘞", "yes", "y", "ok", "okay", "yep", "yeah",
};
static const char *const no_words[] = {
    "否", "不", "不是", "不对", "不行", "没有", "没", "不属实", "不是真的", "假的",
    "没这回事", "没有这回事", "没这事", "没有这事", "没有这件事", "没这件事", "不清楚",
    "不顺利", "不到位", "不及时", "不同意", "不正确", "错", "并没有", "no", "n", "nope",
};

/* Negators before a positive satisfaction word. weak: "not very". */
struct negator {
    const char *w;
    int weak;
};
static const struct negator negators[] = {
    {"不是很", 1}, {"不是太", 1}, {"不是特别", 1}, {"不是非常", 1}, {"不怎么", 1},
    {"不太", 1},   {"不大", 1},   {"不很", 1},     {"不算", 1},     {"不够", 1},
    {"没有很", 1}, {"没那么", 1}, {"没有那么", 1}, {"不那么", 1},   {"并不", 0},
    {"不是", 0},   {"不", 0},     {"没有", 0},     {"没", 0},
};
/* "十分满意" = "非常满意". */
static const char *const intensifiers[] = {"十分", "特别", "超级", "超", "极其", "相当",
                                           "真的非常"};
/* Words a comment may contain that point at a problem. */
static const char *const problem_hints[] = {
    "问题", "毛病", "但", "不过", "就是", "可惜", "遗憾", "希望", "建议", "改进", "改善",
    "不好", "不行", "不够", "不满", "不太", "不到位", "不及时", "不清楚", "没有", "没",
    "慢", "差", "脏", "乱", "坏", "裂", "漏", "渗", "霉", "松", "歪", "掉", "脱", "起皮",
    "味道", "噪音", "吵", "贵", "拖", "迟", "晚了", "加价", "态度", "失望", "生气", "糟",
};
/* ... unless it is one of these. */
static const char *const problem_exceptions[] = {
    "没问题", "没有问题", "没什么问题", "没啥问题", "没毛病", "没得说", "没的说", "不错",
    "挺好", "很好", "没有任何问题",
};

/* ==== UTF-8 and normalization ========================================== */

#define CP_BAD UINT32_MAX

/* Decode one code point at @s (@n > 0 bytes left). Invalid -> CP_BAD with
 * *adv = 1 (skip one byte). Same acceptance as util.h utf8_valid. */
static uint32_t dec(const char *str, size_t n, size_t *adv)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80) {
        *adv = 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
    } else {
        goto bad;
    }
    if (n < need + 1)
        goto bad;
    for (size_t k = 1; k <= need; k++) {
        if ((s[k] & 0xC0) != 0x80)
            goto bad;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        goto bad;
    *adv = need + 1;
    return cp;
bad:
    *adv = 1;
    return CP_BAD;
}

static size_t enc(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int is_zero_width(uint32_t cp)
{
    return (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF;
}

static int is_white(uint32_t cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000 || cp == 0x85;
}

/* The normalized form of one code point into @out: 0 bytes = dropped.
 * Never longer than the code point's own encoding. */
static size_t norm_cp(uint32_t cp, char out[4])
{
    if (cp == CP_BAD) {
        out[0] = '?';
        return 1;
    }
    if (is_zero_width(cp))
        return 0;
    if (is_white(cp) || cp < 0x20 || cp == 0x7F) {
        out[0] = ' ';
        return 1;
    }
    if (cp >= 'A' && cp <= 'Z') {
        out[0] = (char)(cp + 32);
        return 1;
    }
    if (cp >= 0xFF01 && cp <= 0xFF5E) {
        cp -= 0xFEE0;
        if (cp >= 'A' && cp <= 'Z')
            cp += 32;
        out[0] = (char)cp;
        return 1;
    }
    switch (cp) {
    case 0x3001: /* 、 */
    case 0xFF64: /* ､ */
        out[0] = ',';
        return 1;
    case 0x3002: /* 。 */
    case 0xFF61: /* ｡ */
        out[0] = '.';
        return 1;
    case 0x301C: /* 〜 */
        out[0] = '~';
        return 1;
    default:
        return enc(cp, out);
    }
}

struct norm {
    char *s;       /* normalized text, NUL-terminated */
    uint32_t *off; /* off[i]: original offset of the character byte i came from;
                    * off[len] = length of the original; NULL when not wanted */
    size_t len;
};

/* Normalize @text[0..n). The copy is never longer than the input. */
static void norm_build(struct norm *nm, const char *text, size_t n, int want_off)
{
    nm->s = xmalloc(n + 1);
    nm->off = want_off ? xmalloc((n + 1) * sizeof *nm->off) : NULL;
    size_t i = 0, o = 0;
    while (i < n) {
        size_t adv;
        uint32_t cp = dec(text + i, n - i, &adv);
        char b[4];
        size_t k = norm_cp(cp, b);
        for (size_t j = 0; j < k; j++) {
            nm->s[o] = b[j];
            if (nm->off)
                nm->off[o] = (uint32_t)i;
            o++;
        }
        i += adv;
    }
    nm->s[o] = '\0';
    if (nm->off)
        nm->off[o] = (uint32_t)n;
    nm->len = o;
}

static void norm_free(struct norm *nm)
{
    free(nm->s);
    nm->s = NULL;
    free(nm->off);
    nm->off = NULL;
}

/* ==== character classes on the normalized text ========================= */

/* Code point at @i (< @e) and its length. */
static uint32_t cp_at(const struct norm *nm, size_t i, size_t e, size_t *adv)
{
    return dec(nm->s + i, e - i, adv);
}

static int is_punct(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) ||
               (cp >= 0x5B && cp <= 0x60) || (cp >= 0x7B && cp <= 0x7E);
    return (cp >= 0xA1 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
           (cp >= 0x2010 && cp <= 0x205E) || (cp >= 0x3001 && cp <= 0x303F) ||
           (cp >= 0xFE10 && cp <= 0xFE1F) || (cp >= 0xFE30 && cp <= 0xFE6F) ||
           (cp >= 0xFF5F && cp <= 0xFF65) || cp == 0x30FB;
}

/* Emoji and other pictographs: not punctuation (an emoji is a reply),
 * but they end a word like punctuation does. */
static int is_symbol(uint32_t cp)
{
    return (cp >= 0x2100 && cp <= 0x2BFF) || (cp >= 0x1F000 && cp <= 0x1FAFF) ||
           (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0000 && cp <= 0xE007F) ||
           cp == 0xFFFD || cp == CP_BAD;
}

static int is_sep_cp(uint32_t cp)
{
    return cp == ' ' || is_punct(cp) || is_symbol(cp);
}

static int sep_at(const struct norm *nm, size_t i, size_t e)
{
    size_t adv;
    return i < e && is_sep_cp(cp_at(nm, i, e, &adv));
}

static int digit_at(const struct norm *nm, size_t i, size_t e)
{
    return i < e && nm->s[i] >= '0' && nm->s[i] <= '9';
}

static size_t next_cp(const struct norm *nm, size_t i, size_t e)
{
    size_t adv;
    (void)cp_at(nm, i, e, &adv);
    return i + adv;
}

/* Start of the code point before @i (> @b). */
static size_t prev_cp(const struct norm *nm, size_t b, size_t i)
{
    do
        i--;
    while (i > b && ((unsigned char)nm->s[i] & 0xC0) == 0x80);
    return i;
}

/* strlen(@w) if the text at @i (before @e) starts with @w, else 0. */
static size_t lit_at(const struct norm *nm, size_t i, size_t e, const char *w)
{
    size_t L = strlen(w);
    if (L == 0 || i > e || e - i < L || memcmp(nm->s + i, w, L) != 0)
        return 0;
    return L;
}

/* Length of the longest word of @list at @i, its index in *@idx. */
static size_t longest_at(const struct norm *nm, size_t i, size_t e, const char *const *list,
                         size_t n, size_t *idx)
{
    size_t best = 0;
    for (size_t k = 0; k < n; k++) {
        if (!list[k])
            continue;
        size_t L = lit_at(nm, i, e, list[k]);
        if (L > best) {
            best = L;
            if (idx)
                *idx = k;
        }
    }
    return best;
}

static int ends_with_lit(const struct norm *nm, size_t b, size_t i, const char *w)
{
    size_t L = strlen(w);
    return L && i - b >= L && memcmp(nm->s + i - L, w, L) == 0;
}

static size_t skip_spaces(const struct norm *nm, size_t i, size_t e)
{
    while (i < e && nm->s[i] == ' ')
        i++;
    return i;
}

static size_t skip_seps(const struct norm *nm, size_t i, size_t e)
{
    while (sep_at(nm, i, e))
        i = next_cp(nm, i, e);
    return i;
}

static size_t skip_particles(const struct norm *nm, size_t i, size_t e)
{
    size_t L;
    while ((L = longest_at(nm, i, e, N_(particles), NULL)) > 0)
        i += L;
    return i;
}

/* An answer word may end at @i: end of reply, a separator, a particle or a
 * connector. */
static int endish(const struct norm *nm, size_t i, size_t e)
{
    return i >= e || sep_at(nm, i, e) || longest_at(nm, i, e, N_(particles), NULL) ||
           longest_at(nm, i, e, N_(connectors), NULL);
}

/* Skip particles, separators and more particles: nothing left -> 1. */
static int only_tail(const struct norm *nm, size_t i, size_t e)
{
    for (;;) {
        size_t j = skip_seps(nm, skip_particles(nm, i, e), e);
        if (j == i)
            break;
        i = j;
    }
    return i >= e;
}

static size_t count_chars(const struct norm *nm, size_t b, size_t e)
{
    size_t n = 0;
    for (size_t i = b; i < e; i = next_cp(nm, i, e))
        n++;
    return n;
}

/* [b, e) is made only of lead-ins and separators. */
static int only_leads(const struct norm *nm, size_t b, size_t e, const struct lead *leads,
                      size_t nleads)
{
    size_t i = b;
    while (i < e) {
        size_t j = skip_seps(nm, i, e);
        if (j > i) {
            i = j;
            continue;
        }
        size_t best = 0;
        for (size_t k = 0; k < nleads; k++) {
            size_t L = lit_at(nm, i, e, leads[k].w);
            if (L <= best)
                continue;
            if (leads[k].need_sep && !sep_at(nm, i + L, e))
                continue;
            best = L;
        }
        if (!best)
            return 0;
        i += best;
    }
    return 1;
}

/* Skip lead-ins (and separators) from @i as far as possible. */
static size_t skip_leads(const struct norm *nm, size_t i, size_t e, const struct lead *leads,
                         size_t nleads)
{
    for (;;) {
        size_t j = skip_seps(nm, i, e);
        size_t best = 0;
        for (size_t k = 0; k < nleads; k++) {
            size_t L = lit_at(nm, j, e, leads[k].w);
            if (L <= best)
                continue;
            if (leads[k].need_sep && !sep_at(nm, j + L, e))
                continue;
            best = L;
        }
        if (!best)
            return j;
        i = j + best;
    }
}

/* Trim white space and punctuation (not emoji) at both ends of [*b, *e). */
static void trim_punct(const struct norm *nm, size_t *b, size_t *e)
{
    size_t i = *b, z = *e, adv;
    while (i < z) {
        uint32_t cp = cp_at(nm, i, z, &adv);
        if (cp != ' ' && !is_punct(cp))
            break;
        i += adv;
    }
    while (z > i) {
        size_t pv = prev_cp(nm, i, z);
        uint32_t cp = cp_at(nm, pv, z, &adv);
        if (cp != ' ' && !is_punct(cp))
            break;
        z = pv;
    }
    *b = i;
    *e = z;
}

static int exact_word(const struct norm *nm, size_t b, size_t e, const char *const *list,
                      size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (strlen(list[k]) == e - b && memcmp(nm->s + b, list[k], e - b) == 0)
            return 1;
    return 0;
}

/* ==== numbers =========================================================== */

struct num {
    size_t len;    /* bytes consumed, 0 = no number */
    int cn;        /* Chinese numeral */
    int ndig;      /* ASCII digits in the integer part */
    long ival;     /* integer part (capped) */
    int lead0;     /* "05" */
    int frac;      /* first decimal digit, -1 if none */
};

static int cn_digit(const struct norm *nm, size_t i, size_t e)
{
    static const char *const d[] = {"一", "二", "两", "三", "四", "五", "六", "七", "八", "九"};
    static const int v[] = {1, 2, 2, 3, 4, 5, 6, 7, 8, 9};
    size_t idx;
    if (longest_at(nm, i, e, N_(d), &idx))
        return v[idx];
    return 0;
}

/* A number at @i: ASCII digits with optional decimals, or a Chinese numeral
 * (D, 十, 十D, D十, D十D). */
static int num_at(const struct norm *nm, size_t i, size_t e, struct num *x)
{
    memset(x, 0, sizeof *x);
    x->frac = -1;
    if (digit_at(nm, i, e)) {
        size_t p = i;
        while (digit_at(nm, p, e)) {
            if (x->ival < 1000000)
                x->ival = x->ival * 10 + (nm->s[p] - '0');
            x->ndig++;
            p++;
        }
        x->lead0 = x->ndig > 1 && nm->s[i] == '0';
        if (p < e && nm->s[p] == '.' && digit_at(nm, p + 1, e)) {
            x->frac = nm->s[p + 1] - '0';
            p++;
            while (digit_at(nm, p, e))
                p++;
        }
        x->len = p - i;
        return 1;
    }
    size_t p = i;
    int d1 = cn_digit(nm, p, e);
    if (d1)
        p += 3;
    if (lit_at(nm, p, e, "十")) {
        p += 3;
        int d2 = cn_digit(nm, p, e);
        if (d2)
            p += 3;
        x->ival = (d1 ? d1 : 1) * 10 + d2;
    } else if (d1) {
        x->ival = d1;
    } else {
        return 0;
    }
    x->cn = 1;
    x->len = p - i;
    return 1;
}

/* ==== scores ============================================================ */

struct score_hit {
    size_t start, stop; /* normalized span of the whole score ("给9分吧") */
    int value;          /* 1..10 when in_range */
    int in_range;
    int ranged; /* "8-9分" */
};

static const char *const range_marks[] = {"-", "~", "到", "至", "—", "–", "或", "或者"};

/* A score whose number starts at @p; @start is where its lead-in began.
 * @verb: a lead-in / verb came before it. @head: at the head of the reply
 * (a bare Chinese numeral may then be the whole reply). */
static int score_number(const struct norm *nm, size_t start, size_t p, size_t e, int verb,
                        int head, struct score_hit *hit)
{
    struct num x;
    size_t q;
    int explicit_ = 0, full = 0, cn = 0;
    long val;
    memset(hit, 0, sizeof *hit);

    if ((q = lit_at(nm, p, e, "满分")) > 0) {
        q += p;
        val = 10;
        full = 1;
        explicit_ = 1;
    } else if (num_at(nm, p, e, &x)) {
        q = p + x.len;
        cn = x.cn;
        if (!cn && q < e && nm->s[q] == ':' && digit_at(nm, q + 1, e))
            return 0; /* "15:00" is a time */
        if (!cn && (x.ndig >= 3 || x.lead0 || x.ival == 0))
            val = -1; /* a mobile number, a year, "0", "05": never a score */
        else
            val = x.ival + (x.frac >= 5 ? 1 : 0);
        /* a range: take the first number, flag */
        size_t r = skip_spaces(nm, q, e), L;
        if ((L = longest_at(nm, r, e, N_(range_marks), NULL)) > 0) {
            struct num y;
            size_t r2 = skip_spaces(nm, r + L, e);
            if (num_at(nm, r2, e, &y) && y.cn == x.cn) {
                q = r2 + y.len;
                hit->ranged = 1;
            }
        } else if (x.cn && x.ival < 10 && cn_digit(nm, q, e)) {
            q += 3; /* "七八分": seven or eight */
            hit->ranged = 1;
        }
        r = skip_spaces(nm, q, e);
        if (r < e && nm->s[r] == '/') {
            size_t r2 = skip_spaces(nm, r + 1, e);
            if (lit_at(nm, r2, e, "10") && !digit_at(nm, r2 + 2, e)) {
                q = r2 + 2;
                explicit_ = 1;
                r = skip_spaces(nm, q, e);
            }
        }
        if (lit_at(nm, r, e, "分")) {
            if (lit_at(nm, r + 3, e, "钟") || lit_at(nm, r + 3, e, "之"))
                return 0; /* minutes, fractions */
            q = r + 3;
            explicit_ = 1;
        }
    } else {
        return 0;
    }

    if (cn || full) {
        /* "十分满意", "十分负责": the intensifier, not 10; a Chinese numeral
         * without 分 only as the whole reply ("九"). */
        if (explicit_ && !verb && !endish(nm, q, e))
            return 0;
        if (!explicit_ && !(head && only_tail(nm, q, e)))
            return 0;
    } else if (!explicit_ && !endish(nm, q, e)) {
        return 0; /* "3楼", "9点", "10pm", "9很好" */
    }
    if (!explicit_ && !verb && !head)
        return 0; /* elsewhere a bare number is not a score */

    hit->start = start;
    hit->stop = skip_particles(nm, q, e);
    hit->in_range = val >= 1 && val <= 10;
    hit->value = hit->in_range ? (int)val : -1;
    return 1;
}

/* A score at the head of [b, e). */
static int score_head(const struct norm *nm, size_t b, size_t e, struct score_hit *hit)
{
    size_t p = b;
    int verb = 0;
    for (int k = 0; k < 4; k++) {
        size_t L = longest_at(nm, p, e, N_(score_leads), NULL);
        if (!L)
            break;
        p = skip_seps(nm, p + L, e);
        verb = 1;
    }
    if (score_number(nm, b, p, e, verb, 1, hit))
        return 1;
    /* a lead-in that was really the start of a word ("给个好评"): retry bare */
    return verb && score_number(nm, b, b, e, 0, 1, hit);
}

/* The first explicit score in [i, e): verb + number, digits + 分, or a
 * Chinese numeral + 分 / 满分 standing on its own. @b is the reply's start. */
static int score_scan(const struct norm *nm, size_t b, size_t i, size_t e,
                      struct score_hit *hit)
{
    while (i < e) {
        size_t L = longest_at(nm, i, e, N_(score_verbs), NULL);
        if (L) {
            size_t p = i + L;
            while (p < e && (nm->s[p] == ' ' || nm->s[p] == ':'))
                p++;
            if (score_number(nm, i, p, e, 1, 0, hit))
                return 1;
        }
        if (digit_at(nm, i, e)) {
            size_t j = i;
            int glued = 0;
            if (i > b) {
                char c = nm->s[prev_cp(nm, b, i)];
                glued = c == '.' || c == ':' || c == '/' || c == '-' || (c >= 'a' && c <= 'z');
            }
            if (!glued && score_number(nm, i, i, e, 0, 0, hit))
                return 1;
            while (digit_at(nm, j, e))
                j++;
            i = j;
            continue;
        }
        struct num x;
        if (lit_at(nm, i, e, "满分") || (num_at(nm, i, e, &x) && x.cn)) {
            int boundary = i == b || sep_at(nm, prev_cp(nm, b, i), e);
            if (boundary && score_number(nm, i, i, e, 0, 0, hit))
                return 1;
        }
        i = next_cp(nm, i, e);
    }
    return 0;
}

/* ==== satisfaction ======================================================= */

/* Normalized configuration words. */
struct vocab {
    char **sat;
    const int *sat_scores;
    size_t nsat;
    char **complaint;
    size_t ncomplaint;
};

static char *norm_word(const char *w)
{
    struct norm nm;
    if (!w)
        return NULL;
    norm_build(&nm, w, strlen(w), 0);
    /* trim: a configured " 满意 " still means 满意 */
    size_t b = 0, e = nm.len;
    while (b < e && nm.s[b] == ' ')
        b++;
    while (e > b && nm.s[e - 1] == ' ')
        e--;
    if (b == e) {
        norm_free(&nm);
        return NULL;
    }
    char *r = xstrndup(nm.s + b, e - b);
    norm_free(&nm);
    return r;
}

static void vocab_init(struct vocab *v, const struct reply_config *cfg)
{
    memset(v, 0, sizeof *v);
    if (cfg->nsat && cfg->sat_words && cfg->sat_scores) {
        v->nsat = cfg->nsat;
        v->sat = xcalloc(v->nsat, sizeof *v->sat);
        v->sat_scores = cfg->sat_scores;
        for (size_t k = 0; k < v->nsat; k++)
            if (cfg->sat_scores[k] >= 1 && cfg->sat_scores[k] <= 10)
                v->sat[k] = norm_word(cfg->sat_words[k]);
    }
    if (cfg->ncomplaint && cfg->complaint_words) {
        v->ncomplaint = cfg->ncomplaint;
        v->complaint = xcalloc(v->ncomplaint, sizeof *v->complaint);
        for (size_t k = 0; k < v->ncomplaint; k++)
            v->complaint[k] = norm_word(cfg->complaint_words[k]);
    }
}

static void vocab_cleanup(struct vocab *v)
{
    for (size_t k = 0; k < v->nsat; k++)
        free(v->sat[k]);
    free(v->sat);
    for (size_t k = 0; k < v->ncomplaint; k++)
        free(v->complaint[k]);
    free(v->complaint);
    memset(v, 0, sizeof *v);
}

/* Score of the configured word equal to @a + @b, -1 if none. */
static int sat_lookup(const struct vocab *v, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    for (size_t k = 0; k < v->nsat; k++) {
        const char *w = v->sat[k];
        if (w && strlen(w) == la + lb && memcmp(w, a, la) == 0 && memcmp(w + la, b, lb) == 0)
            return v->sat_scores[k];
    }
    return -1;
}

struct sat_hit {
    size_t start, stop; /* span incl. negator and trailing particles */
    int score;
};

/* The satisfaction word at @i, if any: longest configured word, or an
 * intensifier + the rest of a "非常..." word. Returns its length. */
static size_t sat_word_at(const struct norm *nm, size_t i, size_t e, const struct vocab *v,
                          size_t *word)
{
    size_t best = 0;
    for (size_t k = 0; k < v->nsat; k++) {
        size_t L = v->sat[k] ? lit_at(nm, i, e, v->sat[k]) : 0;
        if (L > best) {
            best = L;
            *word = k;
        }
    }
    for (size_t a = 0; a < HF_ARRAY_LEN(intensifiers); a++) {
        size_t La = lit_at(nm, i, e, intensifiers[a]);
        if (!La)
            continue;
        for (size_t k = 0; k < v->nsat; k++) {
            const char *w = v->sat[k];
            if (!w || strncmp(w, "非常", strlen("非常")) != 0)
                continue;
            size_t Lr = lit_at(nm, i + La, e, w + strlen("非常"));
            if (Lr && La + Lr > best) {
                best = La + Lr;
                *word = k;
            }
        }
    }
    return best;
}

static int sat_negated_score(const struct vocab *v, const char *w, int weak)
{
    static const char *const softeners[] = {"非常", "比较", "很", "挺", "特别"};
    int s = -1;
    if (weak)
        s = sat_lookup(v, "不太", w);
    if (s < 0)
        s = sat_lookup(v, "不", w);
    for (size_t k = 0; s < 0 && k < HF_ARRAY_LEN(softeners); k++) {
        size_t L = strlen(softeners[k]);
        if (strncmp(w, softeners[k], L) == 0 && w[L]) {
            s = sat_lookup(v, "不太", w + L);
            if (s < 0)
                s = sat_lookup(v, "不", w + L);
        }
    }
    return s;
}

/* The first usable satisfaction word in [i, e) (@b: start of the reply). */
static int sat_find(const struct norm *nm, size_t b, size_t i, size_t e, const struct vocab *v,
                    struct sat_hit *hit)
{
    for (; i < e; i = next_cp(nm, i, e)) {
        size_t k = 0;
        size_t L = sat_word_at(nm, i, e, v, &k);
        if (!L)
            continue;
        const char *w = v->sat[k];
        size_t q = i + L;
        /* "一般般": absorb a doubled last character */
        size_t lastb = prev_cp(nm, i, q);
        size_t lastn = q - lastb;
        /* (a few times at most: the scan stays linear on a long reply) */
        for (int rep = 0;
             rep < 3 && q + lastn <= e && memcmp(nm->s + q, nm->s + lastb, lastn) == 0; rep++)
            q += lastn;
        /* "满意满意": the whole word again */
        for (int rep = 0; rep < 3 && q + L <= e && memcmp(nm->s + q, nm->s + i, L) == 0; rep++)
            q += L;
        if (!endish(nm, q, e))
            continue;
        int score = v->sat_scores[k];
        size_t start = i;
        if (!strstr(w, "不") && !strstr(w, "没")) {
            size_t best = 0;
            int weak = 0;
            for (size_t n = 0; n < HF_ARRAY_LEN(negators); n++) {
                size_t Ln = strlen(negators[n].w);
                if (Ln > best && ends_with_lit(nm, b, i, negators[n].w)) {
                    best = Ln;
                    weak = negators[n].weak;
                }
            }
            if (best) {
                score = sat_negated_score(v, w, weak);
                start = i - best;
                if (score < 0)
                    continue;
            }
        }
        hit->start = start;
        hit->stop = skip_particles(nm, q, e);
        hit->score = score;
        return 1;
    }
    return 0;
}

/* ==== busy and times ===================================================== */

/* An hour at @i: number + 点 / 时 / ":mm". Returns bytes consumed. */
static size_t hour_at(const struct norm *nm, size_t i, size_t e, int *hour)
{
    struct num x;
    if (!num_at(nm, i, e, &x) || x.frac >= 0 || (!x.cn && x.ndig > 2) || x.ival > 24)
        return 0;
    size_t p = skip_spaces(nm, i + x.len, e);
    if (lit_at(nm, p, e, "点")) {
        p += 3;
        if (lit_at(nm, p, e, "钟"))
            p += 3;
        if (lit_at(nm, p, e, "半"))
            p += 3;
    } else if (lit_at(nm, p, e, "时") && !lit_at(nm, p + 3, e, "候") &&
               !lit_at(nm, p + 3, e, "间")) {
        p += 3;
    } else if (!x.cn && p < e && nm->s[p] == ':' && digit_at(nm, p + 1, e) &&
               digit_at(nm, p + 2, e) && !digit_at(nm, p + 3, e)) {
        p += 3;
    } else {
        return 0;
    }
    *hour = (int)x.ival;
    return p - i;
}

struct busy_time {
    int hour;
    int days;
    int only_time; /* the reply is nothing but a time and filler */
};

static void busy_time_scan(const struct norm *nm, size_t b, size_t e, struct busy_time *t)
{
    int hour = -1, period = 0, period_def = -1, evening = 0, days = -1;
    int hour_period = 0, hour_evening = 0, ntime = 0, other = 0;
    size_t i = b;
    while (i < e) {
        size_t L, idx = 0, best = 0;
        for (size_t k = 0; k < HF_ARRAY_LEN(time_words); k++) {
            L = lit_at(nm, i, e, time_words[k].w);
            if (L > best) {
                best = L;
                idx = k;
            }
        }
        if (best) {
            const struct time_word *tw = &time_words[idx];
            if (tw->days >= 0 && days < 0)
                days = tw->days;
            if (tw->period && !period) {
                period = tw->period;
                period_def = tw->def;
                evening = tw->evening;
            }
            ntime++;
            i += best;
            continue;
        }
        int h;
        if ((L = hour_at(nm, i, e, &h)) > 0) {
            if (hour < 0) {
                hour = h;
                hour_period = period;
                hour_evening = evening;
            }
            ntime++;
            i += L;
            continue;
        }
        if ((L = longest_at(nm, i, e, N_(time_fillers), NULL)) > 0) {
            i += L;
            continue;
        }
        if (sep_at(nm, i, e)) {
            i = next_cp(nm, i, e);
            continue;
        }
        other = 1;
        i = next_cp(nm, i, e);
    }
    if (hour >= 0 && !hour_period) { /* "3点下午": a period after the hour */
        hour_period = period;
        hour_evening = evening;
    }
    t->only_time = ntime > 0 && !other;
    t->days = days < 0 ? 0 : days;
    t->hour = -1;
    if (hour >= 0) {
        switch (hour_period) {
        case 1: /* morning */
            t->hour = hour == 24 ? 0 : hour;
            break;
        case 2: /* noon */
            t->hour = hour <= 3 ? hour + 12 : hour;
            break;
        case 3: /* afternoon, evening */
            if (hour < 12)
                t->hour = hour + 12;
            else if (hour == 12 || hour == 24)
                t->hour = hour_evening ? 0 : 12;
            else
                t->hour = hour;
            break;
        case 4: /* small hours */
            t->hour = hour == 12 || hour == 24 ? 0 : hour;
            break;
        default: /* no period word: daytime */
            t->hour = hour >= 1 && hour <= 7 ? hour + 12 : (hour == 24 ? 0 : hour);
            break;
        }
        if (t->hour > 23)
            t->hour = -1;
    } else if (period) {
        t->hour = period_def;
    }
}

static int busy_match(const struct norm *nm, size_t b, size_t e)
{
    size_t p = skip_leads(nm, b, e, N_(busy_leads));
    if (longest_at(nm, p, e, N_(busy_head), NULL))
        return 1;
    for (size_t k = 0; k < HF_ARRAY_LEN(busy_anywhere); k++) {
        const char *w = busy_anywhere[k].w;
        size_t L = strlen(w);
        const char *s = nm->s + b;
        const char *hit;
        while ((hit = memmem(s, (size_t)(nm->s + e - s), w, L)) != NULL) {
            size_t at = (size_t)(hit - nm->s);
            if (!busy_anywhere[k].need_end || only_tail(nm, at + L, e) ||
                sep_at(nm, at + L, e))
                return 1;
            s = hit + L;
        }
    }
    return 0;
}

/* ==== yes / no =========================================================== */

/* A yes/no word at @i followed by a proper end: its length, polarity in
 * *@yes. */
static size_t yn_at(const struct norm *nm, size_t i, size_t e, int *yes)
{
    size_t Ly = longest_at(nm, i, e, N_(yes_words), NULL);
    size_t Ln = longest_at(nm, i, e, N_(no_words), NULL);
    size_t L = Ly > Ln ? Ly : Ln;
    if (!L)
        return 0;
    int y = Ly > Ln;
    if ((unsigned char)nm->s[i] < 0x80) {
        /* "no problem", "ok thanks": English beyond one word is a sentence */
        size_t r = skip_spaces(nm, i + L, e);
        if (r < e && ((nm->s[r] >= 'a' && nm->s[r] <= 'z') || digit_at(nm, r, e)))
            return 0;
    }
    size_t q = skip_particles(nm, i + L, e);
    if (!endish(nm, q, e)) {
        /* "对对对", "嗯嗯", "好好": the same polarity again */
        size_t L2 = y ? longest_at(nm, q, e, N_(yes_words), NULL)
                      : longest_at(nm, q, e, N_(no_words), NULL);
        if (!L2)
            return 0;
    }
    *yes = y;
    return L;
}

/* ==== problem hints, complaints ========================================== */

static int has_problem(const struct norm *nm, size_t b, size_t e)
{
    for (size_t i = b; i < e;) {
        size_t L = longest_at(nm, i, e, N_(problem_exceptions), NULL);
        if (L) {
            i += L;
            continue;
        }
        if (longest_at(nm, i, e, N_(problem_hints), NULL))
            return 1;
        i = next_cp(nm, i, e);
    }
    return 0;
}

static int has_complaint(const struct norm *nm, size_t b, size_t e, const struct vocab *v)
{
    for (size_t k = 0; k < v->ncomplaint; k++) {
        const char *w = v->complaint[k];
        if (w && memmem(nm->s + b, e - b, w, strlen(w)))
            return 1;
    }
    return 0;
}

/* ==== the comment ========================================================= */

struct comment {
    char *dst;
    size_t used;
    int truncated;
};

/* Append original bytes [a, z) sanitized: invalid UTF-8 -> U+FFFD,
 * control characters -> space, zero-width characters dropped; stops on a
 * character boundary when full. */
static void comment_put(struct comment *c, const char *src, size_t a, size_t z)
{
    static const char repl[] = "\xEF\xBF\xBD";
    size_t i = a;
    while (i < z && !c->truncated) {
        size_t adv;
        uint32_t cp = dec(src + i, z - i, &adv);
        const char *bytes = src + i;
        size_t k = adv;
        if (cp == CP_BAD) {
            bytes = repl;
            k = 3;
        } else if (cp < 0x20 || cp == 0x7F) {
            bytes = " ";
            k = 1;
        } else if (cp == 0x200B || cp == 0x2060 || cp == 0xFEFF) {
            k = 0;
        }
        if (c->used + k > REPLY_COMMENT_MAX - 1) {
            c->truncated = 1;
            break;
        }
        memcpy(c->dst + c->used, bytes, k);
        c->used += k;
        c->dst[c->used] = '\0';
        i += adv;
    }
}

/* Trim a normalized span for a comment: white space and punctuation at the
 * start; white space and clause separators (, ; :) at the end. */
static void comment_trim(const struct norm *nm, size_t *b, size_t *e)
{
    size_t i = *b, z = *e;
    for (;;) {
        size_t adv;
        if (i >= z)
            break;
        uint32_t cp = cp_at(nm, i, z, &adv);
        if (cp != ' ' && !is_punct(cp))
            break;
        i += adv;
    }
    static const char *const openers[] = {"(", "[", "{", "（", "【", "「", "『", "《", "“", "‘"};
    static const char *const closers[] = {")", "]", "}", "）", "】", "」", "』", "》", "”", "’"};
    for (;;) {
        size_t L;
        if (z > i && (nm->s[z - 1] == ' ' || nm->s[z - 1] == ',' || nm->s[z - 1] == ';' ||
                      nm->s[z - 1] == ':')) {
            z--;
            continue;
        }
        /* a closing bracket whose opener was cut off with the answer */
        if (z > i && (L = longest_at(nm, prev_cp(nm, i, z), z, N_(closers), NULL)) > 0) {
            int opened = 0;
            for (size_t k = i; k < z && !opened; k = next_cp(nm, k, z))
                opened = longest_at(nm, k, z, N_(openers), NULL) > 0;
            if (!opened) {
                z -= L;
                continue;
            }
        }
        break;
    }
    *b = i;
    *e = z;
}

/* Set @out->comment from up to two normalized spans, joined by a space. */
static int comment_set(struct reply *out, const struct norm *nm, const char *orig, size_t b1,
                       size_t e1, size_t b2, size_t e2)
{
    struct comment c = {out->comment, 0, 0};
    out->comment[0] = '\0';
    comment_trim(nm, &b1, &e1);
    comment_trim(nm, &b2, &e2);
    if (b1 < e1)
        comment_put(&c, orig, nm->off[b1], nm->off[e1]);
    if (b1 < e1 && b2 < e2)
        comment_put(&c, " ", 0, 1);
    if (b2 < e2)
        comment_put(&c, orig, nm->off[b2], nm->off[e2]);
    return c.truncated;
}

/* ==== the parser ========================================================== */

static void reply_reset(struct reply *out)
{
    memset(out, 0, sizeof *out);
    out->kind = REPLY_EMPTY;
    out->score = -1;
    out->yes = -1;
    out->busy_hour = -1;
}

static int sat_yes(int score)
{
    return score >= 7 ? 1 : score <= 4 ? 0 : -1;
}

void reply_parse(const struct reply_config *cfg, const char *text, struct reply *out)
{
    struct norm nm = {0};
    struct vocab voc;
    size_t b, e, len;
    int capped = 0, truncated = 0, hint = 0;
    size_t c1b = 0, c1e = 0, c2b = 0, c2e = 0; /* comment spans */

    HF_ASSERT(out != NULL);
    reply_reset(out);
    if (!text || !*text)
        return;
    if (!cfg)
        cfg = &reply_config_default;

    len = strlen(text);
    if (len > REPLY_INPUT_MAX) {
        len = REPLY_INPUT_MAX;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
        capped = 1;
    }
    int valid = utf8_valid(text, len);
    norm_build(&nm, text, len, 1);
    vocab_init(&voc, cfg);

    b = 0;
    e = nm.len;
    while (b < e && nm.s[b] == ' ')
        b++;
    while (e > b && nm.s[e - 1] == ' ')
        e--;

    out->complaint = has_complaint(&nm, b, e, &voc);

    /* 0. invalid UTF-8 */
    if (!valid) {
        /* the whole reply, each bad byte shown as U+FFFD */
        struct comment c = {out->comment, 0, 0};
        out->kind = REPLY_TEXT;
        comment_put(&c, text, nm.off[b], nm.off[e]);
        truncated = c.truncated;
        goto done;
    }

    /* 3. nothing but white space and punctuation */
    {
        int any = 0;
        for (size_t i = b; i < e && !any;) {
            size_t adv;
            uint32_t cp = cp_at(&nm, i, e, &adv);
            any = cp != ' ' && !is_punct(cp);
            i += adv;
        }
        if (!any) {
            out->kind = REPLY_EMPTY;
            goto done;
        }
    }

    /* 4. opt-out: the exact reply */
    {
        size_t ob = b, oe = e;
        trim_punct(&nm, &ob, &oe);
        if (exact_word(&nm, ob, oe, N_(optout_words))) {
            out->kind = REPLY_OPT_OUT;
            goto done;
        }
    }

    /* 5. a score at the head */
    struct score_hit sh;
    if (score_head(&nm, b, e, &sh)) {
        if (!sh.in_range) {
            out->kind = REPLY_TEXT;
            c1b = b;
            c1e = e;
            goto comment;
        }
        out->kind = REPLY_SCORE;
        out->score = sh.value;
        out->flagged |= sh.ranged;
        c1b = sh.stop;
        c1e = e;
        goto check_second_score;
    }

    /* 6. an explicit score elsewhere */
    if (score_scan(&nm, b, b, e, &sh)) {
        if (!sh.in_range) {
            out->kind = REPLY_TEXT;
            c1b = b;
            c1e = e;
            goto comment;
        }
        out->kind = REPLY_SCORE;
        out->score = sh.value;
        out->flagged |= sh.ranged;
        c1b = b;
        c1e = sh.start;
        c2b = sh.stop;
        c2e = e;
        goto check_second_score;
    }

    /* 7. a satisfaction word at the head; 10. elsewhere */
    struct sat_hit st;
    int have_sat = sat_find(&nm, b, b, e, &voc, &st);
    if (have_sat && only_leads(&nm, b, st.start, N_(sat_leads))) {
        out->kind = REPLY_SATISFACTION;
        out->score = st.score;
        out->yes = sat_yes(st.score);
        c1b = st.stop;
        c1e = e;
        goto check_second_sat;
    }

    /* 8. busy */
    if (count_chars(&nm, b, e) <= REPLY_BUSY_MAX_CHARS) {
        struct busy_time bt;
        busy_time_scan(&nm, b, e, &bt);
        if (busy_match(&nm, b, e) || bt.only_time) {
            out->kind = REPLY_BUSY;
            out->busy_hour = bt.hour;
            out->busy_days = bt.days;
            c1b = b;
            c1e = e;
            goto comment;
        }
    }

    /* 9. yes / no at the head */
    {
        int y;
        size_t L = yn_at(&nm, b, e, &y);
        if (L) {
            size_t q = skip_seps(&nm, skip_particles(&nm, b + L, e), e);
            int y2;
            size_t L2;
            /* absorb repeats: "好的，好的", "对对对" */
            while ((L2 = yn_at(&nm, q, e, &y2)) > 0 && y2 == y)
                q = skip_seps(&nm, skip_particles(&nm, q + L2, e), e);
            if (L2 && y2 != y)
                out->flagged = 1; /* "是，不是" */
            out->kind = y ? REPLY_YES : REPLY_NO;
            out->yes = y;
            c1b = q;
            c1e = e;
            hint = has_problem(&nm, c1b, c1e);
            goto comment;
        }
    }

    /* 10. a satisfaction word elsewhere */
    if (have_sat) {
        out->kind = REPLY_SATISFACTION;
        out->score = st.score;
        out->yes = sat_yes(st.score);
        hint = has_problem(&nm, b, st.start) || has_problem(&nm, st.stop, e);
        c1b = b;
        c1e = e;
        {
            struct sat_hit s2;
            size_t from = st.stop;
            while (sat_find(&nm, b, from, e, &voc, &s2)) {
                if (s2.score != st.score)
                    out->flagged = 1;
                from = s2.stop > from ? s2.stop : next_cp(&nm, from, e);
            }
        }
        goto comment;
    }

    /* 11. anything else */
    out->kind = REPLY_TEXT;
    c1b = b;
    c1e = e;
    goto comment;

check_second_score:
    {
        struct score_hit s2;
        size_t from = sh.stop;
        while (from < e && score_scan(&nm, b, from, e, &s2)) {
            if (!s2.in_range || s2.value != sh.value) {
                /* "设计师9分，工长8分": keep the first, a person reads it all */
                out->flagged = 1;
                c1b = b;
                c1e = e;
                c2b = c2e = 0;
            }
            from = s2.stop > from ? s2.stop : next_cp(&nm, from, e);
        }
        hint = has_problem(&nm, c1b, c1e) || (c2b < c2e && has_problem(&nm, c2b, c2e));
        goto comment;
    }

check_second_sat:
    {
        struct sat_hit s2;
        size_t from = st.stop;
        while (sat_find(&nm, b, from, e, &voc, &s2)) {
            if (s2.score != st.score)
                out->flagged = 1;
            from = s2.stop > from ? s2.stop : next_cp(&nm, from, e);
        }
        hint = has_problem(&nm, c1b, c1e);
        goto comment;
    }

comment:
    truncated = comment_set(out, &nm, text, c1b, c1e, c2b, c2e);

done:
    if (out->kind == REPLY_TEXT || out->complaint || truncated || capped || hint)
        out->flagged = 1;
    vocab_cleanup(&voc);
    norm_free(&nm);
}

const char *reply_kind_name(enum reply_kind k)
{
    switch (k) {
    case REPLY_EMPTY:
        return "empty";
    case REPLY_SCORE:
        return "score";
    case REPLY_YES:
        return "yes";
    case REPLY_NO:
        return "no";
    case REPLY_SATISFACTION:
        return "satisfaction";
    case REPLY_OPT_OUT:
        return "opt_out";
    case REPLY_BUSY:
        return "busy";
    case REPLY_TEXT:
        return "text";
    }
    return "unknown";
}

int reply_is_sms_optout(const char *text)
{
    struct norm nm;
    size_t len, b, e;
    int r;
    if (!text)
        return 0;
    len = strlen(text);
    if (len > 64 || !utf8_valid(text, len))
        return 0; /* a keyword reply is short */
    norm_build(&nm, text, len, 0);
    b = 0;
    e = nm.len;
    trim_punct(&nm, &b, &e);
    r = exact_word(&nm, b, e, N_(sms_optout_words));
    norm_free(&nm);
    return r;
}
