/*
 * test_reply_parse.c - the free-text reply parser: one table of named
 * cases (scores in every spelling, yes/no, satisfaction words, opt-outs,
 * busy replies with their times, complaints and flags, Chinese and
 * full-width forms), then the edges: NULL / empty / punctuation / emoji,
 * invalid UTF-8, 10 KB and over-limit input, comment truncation on a
 * character boundary, a company's own vocabulary, and the SMS opt-out
 * keyword helper.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply_parse.h"
#include "util.h"

/* ---- the table ---------------------------------------------------------- */

struct tcase {
    const char *name;
    const char *in;
    enum reply_kind kind;
    int score;
    int yes;
    int complaint;
    int flagged;
    const char *comment;
    int busy_hour;
};

#define SC REPLY_SCORE
#define YS REPLY_YES
#define NO REPLY_NO
#define SA REPLY_SATISFACTION
#define OO REPLY_OPT_OUT
#define BU REPLY_BUSY
#define TX REPLY_TEXT
#define EM REPLY_EMPTY

static const struct tcase cases[] = {
    /* name, input, kind, score, yes, complaint, flagged, comment, busy_hour */
    /* -- scores: the plain forms -- */
    {"bare digit", "9", SC, 9, -1, 0, 0, "", -1},
    {"full-width digit", "９", SC, 9, -1, 0, 0, "", -1},
    {"ten", "10", SC, 10, -1, 0, 0, "", -1},
    {"one", "1", SC, 1, -1, 0, 0, "", -1},
    {"digit + 分", "9分", SC, 9, -1, 0, 0, "", -1},
    {"full-width 10分", "１０分", SC, 10, -1, 0, 0, "", -1},
    {"space before 分", "9 分", SC, 9, -1, 0, 0, "", -1},
    {"Chinese numeral + 分", "九分", SC, 9, -1, 0, 0, "", -1},
    {"八分吧", "八分吧", SC, 8, -1, 0, 0, "", -1},
    {"两分 is 2", "两分", SC, 2, -1, 0, 0, "", -1},
    {"十分 alone is 10", "十分", SC, 10, -1, 0, 0, "", -1},
    {"十分！ is 10", "十分！", SC, 10, -1, 0, 0, "", -1},
    {"满分", "满分", SC, 10, -1, 0, 0, "", -1},
    {"满分 with ！", "满分！", SC, 10, -1, 0, 0, "", -1},
    {"bare Chinese numeral as the whole reply", "九", SC, 9, -1, 0, 0, "", -1},
    {"ideographic spaces around", "\u3000９分\u3000", SC, 9, -1, 0, 0, "", -1},
    {"ASCII spaces and newline around", "  9分 \n", SC, 9, -1, 0, 0, "", -1},
    /* -- scores: lead-ins and particles -- */
    {"打9分", "打9分", SC, 9, -1, 0, 0, "", -1},
    {"给9分", "给9分", SC, 9, -1, 0, 0, "", -1},
    {"评分9", "评分9", SC, 9, -1, 0, 0, "", -1},
    {"评分：9 (full-width colon)", "评分：9", SC, 9, -1, 0, 0, "", -1},
    {"评分是9", "评分是9", SC, 9, -1, 0, 0, "", -1},
    {"打个9分吧", "打个9分吧", SC, 9, -1, 0, 0, "", -1},
    {"9分吧", "9分吧", SC, 9, -1, 0, 0, "", -1},
    {"总体9分吧", "总体9分吧", SC, 9, -1, 0, 0, "", -1},
    {"就打8分吧", "就打8分吧", SC, 8, -1, 0, 0, "", -1},
    {"我给你们打满分", "我给你们打满分", SC, 10, -1, 0, 0, "", -1},
    {"我觉得可以打9分", "我觉得可以打9分", SC, 9, -1, 0, 0, "", -1},
    {"给9 without 分", "给9", SC, 9, -1, 0, 0, "", -1},
    {"9/10", "9/10", SC, 9, -1, 0, 0, "", -1},
    {"6分左右", "6分左右", SC, 6, -1, 0, 0, "", -1},
    /* -- scores with a comment -- */
    {"score + comment after a space", "10分 工长很负责", SC, 10, -1, 0, 0, "工长很负责", -1},
    {"digits + space + comment, no 分", "10 工长很负责", SC, 10, -1, 0, 0, "工长很负责", -1},
    {"score。thanks", "9分。谢谢", SC, 9, -1, 0, 0, "谢谢", -1},
    {"full-width score, comment keeps its ！", "１０分，工长很负责！", SC, 10, -1, 0, 0,
     "工长很负责！", -1},
    {"comment keeps the customer's case", "１０分，ＡＰＰ很好用", SC, 10, -1, 0, 0,
     "ＡＰＰ很好用", -1},
    {"score in brackets comment", "9分（工长很负责）", SC, 9, -1, 0, 0, "工长很负责", -1},
    {"score + complaint word", "10分，但是有点漏水", SC, 10, -1, 1, 1, "但是有点漏水", -1},
    {"score + problem hint", "9分，就是工期慢了点", SC, 9, -1, 0, 1, "就是工期慢了点", -1},
    {"score + 没问题 is not a problem", "10分，没问题", SC, 10, -1, 0, 0, "没问题", -1},
    {"low score + 拖延 complaint", "4分，工期拖延太久", SC, 4, -1, 1, 1, "工期拖延太久", -1},
    {"score then busy words: score wins", "9分，现在在忙", SC, 9, -1, 0, 0, "现在在忙", -1},
    {"emoji after the score", "9分👍", SC, 9, -1, 0, 0, "👍", -1},
    /* -- scores elsewhere in the reply -- */
    {"comment then 给10分", "工长很负责，给10分", SC, 10, -1, 0, 0, "工长很负责", -1},
    {"yes then a score", "是的，9分", SC, 9, -1, 0, 0, "是的", -1},
    {"comment, standalone 十分 at the end", "工长很负责，十分", SC, 10, -1, 0, 0, "工长很负责", -1},
    {"two different scores: first, flagged", "设计师9分，工长8分", SC, 9, -1, 0, 1,
     "设计师9分，工长8分", -1},
    /* -- scores: rounding, ranges -- */
    {"9.5分 rounds half up to 10", "9.5分", SC, 10, -1, 0, 0, "", -1},
    {"8.4 rounds down", "8.4", SC, 8, -1, 0, 0, "", -1},
    {"full-width decimal ９．５", "９．５", SC, 10, -1, 0, 0, "", -1},
    {"8-9分: the first, flagged", "8-9分", SC, 8, -1, 0, 1, "", -1},
    {"8到9分: the first, flagged", "8到9分", SC, 8, -1, 0, 1, "", -1},
    {"8～9分 full-width tilde", "8～9分", SC, 8, -1, 0, 1, "", -1},
    {"七八分: seven, flagged", "七八分", SC, 7, -1, 0, 1, "", -1},
    /* -- not scores -- */
    {"11分 is out of range", "11分", TX, -1, -1, 0, 1, "11分", -1},
    {"0 is out of range", "0", TX, -1, -1, 0, 1, "0", -1},
    {"0分 is out of range", "0分", TX, -1, -1, 0, 1, "0分", -1},
    {"100 is out of range", "100", TX, -1, -1, 0, 1, "100", -1},
    {"十一分 is out of range", "十一分", TX, -1, -1, 0, 1, "十一分", -1},
    {"10.5 rounds out of range", "10.5", TX, -1, -1, 0, 1, "10.5", -1},
    {"leading zero 05", "05", TX, -1, -1, 0, 1, "05", -1},
    {"mobile number", "13812345678", TX, -1, -1, 0, 1, "13812345678", -1},
    {"mobile number with dashes", "138-1234-5678", TX, -1, -1, 0, 1, "138-1234-5678", -1},
    {"explicit 100分 elsewhere", "服务很好，100分", TX, -1, -1, 0, 1, "服务很好，100分", -1},
    {"3楼 is a floor", "3楼漏水", TX, -1, -1, 1, 1, "3楼漏水", -1},
    {"9分钟 is minutes", "9分钟", TX, -1, -1, 0, 1, "9分钟", -1},
    {"十分+adjective is 'very'", "工长十分负责", TX, -1, -1, 0, 1, "工长十分负责", -1},
    {"一般 is not 一 (1)", "一般", SA, 6, -1, 0, 0, "", -1},
    {"给个好评 is not a score", "给个好评", TX, -1, -1, 0, 1, "给个好评", -1},
    /* -- opt-out -- */
    {"TD", "TD", OO, -1, -1, 0, 0, "", -1},
    {"td lower case", "td", OO, -1, -1, 0, 0, "", -1},
    {"full-width ＴＤ", "ＴＤ", OO, -1, -1, 0, 0, "", -1},
    {"TD with 。", "TD。", OO, -1, -1, 0, 0, "", -1},
    {"td with spaces", " td ", OO, -1, -1, 0, 0, "", -1},
    {"T", "T", OO, -1, -1, 0, 0, "", -1},
    {"R", "R", OO, -1, -1, 0, 0, "", -1},
    {"退订", "退订", OO, -1, -1, 0, 0, "", -1},
    {"退订！", "退订！", OO, -1, -1, 0, 0, "", -1},
    {"拒收", "拒收", OO, -1, -1, 0, 0, "", -1},
    {"退订 inside a sentence is for a person", "请不要再发了，退订", TX, -1, -1, 0, 1,
     "请不要再发了，退订", -1},
    {"bare N is NO, not an opt-out", "N", NO, -1, 0, 0, 0, "", -1},
    {"bare n is NO", "n", NO, -1, 0, 0, 0, "", -1},
    /* -- yes -- */
    {"是", "是", YS, -1, 1, 0, 0, "", -1},
    {"是的", "是的", YS, -1, 1, 0, 0, "", -1},
    {"对", "对", YS, -1, 1, 0, 0, "", -1},
    {"对的", "对的", YS, -1, 1, 0, 0, "", -1},
    {"嗯", "嗯", YS, -1, 1, 0, 0, "", -1},
    {"嗯嗯", "嗯嗯", YS, -1, 1, 0, 0, "", -1},
    {"好", "好", YS, -1, 1, 0, 0, "", -1},
    {"好的", "好的", YS, -1, 1, 0, 0, "", -1},
    {"好的好的", "好的好的", YS, -1, 1, 0, 0, "", -1},
    {"对对对", "对对对", YS, -1, 1, 0, 0, "", -1},
    {"有", "有", YS, -1, 1, 0, 0, "", -1},
    {"属实", "属实", YS, -1, 1, 0, 0, "", -1},
    {"可以", "可以", YS, -1, 1, 0, 0, "", -1},
    {"yes", "yes", YS, -1, 1, 0, 0, "", -1},
    {"Yes!", "Yes!", YS, -1, 1, 0, 0, "", -1},
    {"Y", "Y", YS, -1, 1, 0, 0, "", -1},
    {"full-width Ｙ", "Ｙ", YS, -1, 1, 0, 0, "", -1},
    {"OK", "OK", YS, -1, 1, 0, 0, "", -1},
    {"yes + comment", "是的，工长讲得很清楚", YS, -1, 1, 0, 0, "工长讲得很清楚", -1},
    {"yes + problem comment", "是的，但是工人没来", YS, -1, 1, 0, 1, "但是工人没来", -1},
    /* -- no -- */
    {"否", "否", NO, -1, 0, 0, 0, "", -1},
    {"不是", "不是", NO, -1, 0, 0, 0, "", -1},
    {"不是的", "不是的", NO, -1, 0, 0, 0, "", -1},
    {"没有", "没有", NO, -1, 0, 0, 0, "", -1},
    {"不", "不", NO, -1, 0, 0, 0, "", -1},
    {"没", "没", NO, -1, 0, 0, 0, "", -1},
    {"不对", "不对", NO, -1, 0, 0, 0, "", -1},
    {"不属实", "不属实", NO, -1, 0, 0, 0, "", -1},
    {"praise not real: 没有这件事", "没有这件事", NO, -1, 0, 0, 0, "", -1},
    {"no", "no", NO, -1, 0, 0, 0, "", -1},
    {"NO upper case", "NO", NO, -1, 0, 0, 0, "", -1},
    {"no + harmless comment", "没有，都挺好", NO, -1, 0, 0, 0, "都挺好", -1},
    {"no + complaint", "不是，漏水了", NO, -1, 0, 1, 1, "漏水了", -1},
    {"是不是 is a question", "是不是", TX, -1, -1, 0, 1, "是不是", -1},
    {"没问题 is ambiguous", "没问题", TX, -1, -1, 0, 1, "没问题", -1},
    {"有点慢 is not 有", "有点慢", TX, -1, -1, 0, 1, "有点慢", -1},
    {"no problem is a sentence", "no problem", TX, -1, -1, 0, 1, "no problem", -1},
    /* -- satisfaction -- */
    {"满意", "满意", SA, 9, 1, 0, 0, "", -1},
    {"满意的 (yes to a yes/no question)", "满意的", SA, 9, 1, 0, 0, "", -1},
    {"满意。", "满意。", SA, 9, 1, 0, 0, "", -1},
    {"quoted “满意”", "“满意”", SA, 9, 1, 0, 0, "", -1},
    {"非常满意", "非常满意", SA, 10, 1, 0, 0, "", -1},
    {"非常满意！！", "非常满意！！", SA, 10, 1, 0, 0, "", -1},
    {"比较满意", "比较满意", SA, 8, 1, 0, 0, "", -1},
    {"还可以", "还可以", SA, 7, 1, 0, 0, "", -1},
    {"一般般", "一般般", SA, 6, -1, 0, 0, "", -1},
    {"不太满意", "不太满意", SA, 4, 0, 0, 0, "", -1},
    {"不满意 is not 满意", "不满意", SA, 3, 0, 0, 0, "", -1},
    {"很不满意", "很不满意", SA, 1, 0, 0, 0, "", -1},
    {"非常不满意 before 不满意", "非常不满意", SA, 1, 0, 0, 0, "", -1},
    {"十分满意 = 非常满意", "十分满意", SA, 10, 1, 0, 0, "", -1},
    {"十分不满意 = 非常不满意", "十分不满意", SA, 1, 0, 0, 0, "", -1},
    {"特别满意", "特别满意", SA, 10, 1, 0, 0, "", -1},
    {"很满意 (lead-in)", "很满意", SA, 9, 1, 0, 0, "", -1},
    {"不是很满意 (negated)", "不是很满意", SA, 4, 0, 0, 0, "", -1},
    {"不怎么满意 (negated)", "不怎么满意", SA, 4, 0, 0, 0, "", -1},
    {"挺好的", "挺好的", SA, 8, 1, 0, 0, "", -1},
    {"不错", "不错", SA, 8, 1, 0, 0, "", -1},
    {"还行吧", "还行吧", SA, 7, 1, 0, 0, "", -1},
    {"satisfied + comment", "非常满意，设计师小王很专业", SA, 10, 1, 0, 0, "设计师小王很专业",
     -1},
    {"satisfied + problem", "满意，但是有点小问题", SA, 9, 1, 0, 1, "但是有点小问题", -1},
    {"unsatisfied + complaints", "不满意，墙面开裂了，要求返工", SA, 3, 0, 1, 1,
     "墙面开裂了，要求返工", -1},
    {"satisfaction word inside", "对设计师很满意", SA, 9, 1, 0, 0, "对设计师很满意", -1},
    {"two different satisfactions", "设计还行，工长一般", SA, 7, 1, 0, 1, "设计还行，工长一般",
     -1},
    {"满意度 is not an answer", "满意度很高", TX, -1, -1, 0, 1, "满意度很高", -1},
    {"一般来说 is not an answer", "一般来说工长都很负责", TX, -1, -1, 0, 1, "一般来说工长都很负责",
     -1},
    {"不太好 is for a person", "不太好", TX, -1, -1, 0, 1, "不太好", -1},
    /* -- busy -- */
    {"现在不方便", "现在不方便", BU, -1, -1, 0, 0, "现在不方便", -1},
    {"在忙", "在忙", BU, -1, -1, 0, 0, "在忙", -1},
    {"晚点再说", "晚点再说", BU, -1, -1, 0, 0, "晚点再说", -1},
    {"在开会", "在开会", BU, -1, -1, 0, 0, "在开会", -1},
    {"稍后", "稍后", BU, -1, -1, 0, 0, "稍后", -1},
    {"稍后联系", "稍后联系", BU, -1, -1, 0, 0, "稍后联系", -1},
    {"等会儿", "等会儿", BU, -1, -1, 0, 0, "等会儿", -1},
    {"好的，晚点再说 (busy beats yes)", "好的，晚点再说", BU, -1, -1, 0, 0, "好的，晚点再说", -1},
    {"不，在开会 (busy beats no)", "不，在开会", BU, -1, -1, 0, 0, "不，在开会", -1},
    {"下午再打 -> 15", "下午再打", BU, -1, -1, 0, 0, "下午再打", 15},
    {"下午三点 -> 15", "现在不方便，下午三点再打", BU, -1, -1, 0, 0,
     "现在不方便，下午三点再打", 15},
    {"晚上7点 -> 19", "晚上7点", BU, -1, -1, 0, 0, "晚上7点", 19},
    {"晚上七点以后 -> 19", "在忙，晚上七点以后", BU, -1, -1, 0, 0, "在忙，晚上七点以后", 19},
    {"下午３点 full-width -> 15", "下午３点", BU, -1, -1, 0, 0, "下午３点", 15},
    {"3点 with no period -> 15", "3点再打吧", BU, -1, -1, 0, 0, "3点再打吧", 15},
    {"上午10:30 -> 10", "上午10:30再打", BU, -1, -1, 0, 0, "上午10:30再打", 10},
    {"明天上午 -> 10", "明天上午吧", BU, -1, -1, 0, 0, "明天上午吧", 10},
    {"中午 -> 12", "中午", BU, -1, -1, 0, 0, "中午", 12},
    {"10分钟后 is not a score", "10分钟后再打", BU, -1, -1, 0, 0, "10分钟后再打", -1},
    {"用起来不方便 is not busy", "用起来不方便", TX, -1, -1, 0, 1, "用起来不方便", -1},
    {"工人在忙 is not busy", "工人在忙别的工地", TX, -1, -1, 0, 1, "工人在忙别的工地", -1},
    {"不忙 is not busy", "不忙", TX, -1, -1, 0, 1, "不忙", -1},
    /* -- complaints, text -- */
    {"我要投诉", "我要投诉", TX, -1, -1, 1, 1, "我要投诉", -1},
    {"太差了", "太差了", TX, -1, -1, 1, 1, "太差了", -1},
    {"工长不负责", "工长不负责", TX, -1, -1, 1, 1, "工长不负责", -1},
    {"甲醛", "有甲醛味", TX, -1, -1, 1, 1, "有甲醛味", -1},
    {"full-width １２３１５", "我要打１２３１５", TX, -1, -1, 1, 1, "我要打１２３１５", -1},
    {"thanks alone is for a person", "谢谢", TX, -1, -1, 0, 1, "谢谢", -1},
    {"emoji alone is text", "👍", TX, -1, -1, 0, 1, "👍", -1},
    {"emoticon T_T is text, not T", "T_T", TX, -1, -1, 0, 1, "T_T", -1},
    /* -- empty -- */
    {"empty string", "", EM, -1, -1, 0, 0, "", -1},
    {"spaces only", "   ", EM, -1, -1, 0, 0, "", -1},
    {"ideographic space only", "\u3000\u3000", EM, -1, -1, 0, 0, "", -1},
    {"full-width question marks", "？？？", EM, -1, -1, 0, 0, "", -1},
    {"ideographic full stops", "。。。", EM, -1, -1, 0, 0, "", -1},
    {"mixed punctuation", "…！，【】", EM, -1, -1, 0, 0, "", -1},
};

static int check_case(const struct tcase *c)
{
    struct reply r;
    int bad = 0;
    reply_parse(NULL, c->in, &r);
    if (r.kind != c->kind) {
        print_error("[%s] reply_parse(\"%s\"): kind %s, want %s\n", c->name, c->in,
                    reply_kind_name(r.kind), reply_kind_name(c->kind));
        bad = 1;
    }
    if (r.score != c->score) {
        print_error("[%s] reply_parse(\"%s\"): score %d, want %d\n", c->name, c->in, r.score,
                    c->score);
        bad = 1;
    }
    if (r.yes != c->yes) {
        print_error("[%s] reply_parse(\"%s\"): yes %d, want %d\n", c->name, c->in, r.yes, c->yes);
        bad = 1;
    }
    if (r.complaint != c->complaint) {
        print_error("[%s] reply_parse(\"%s\"): complaint %d, want %d\n", c->name, c->in,
                    r.complaint, c->complaint);
        bad = 1;
    }
    if (r.flagged != c->flagged) {
        print_error("[%s] reply_parse(\"%s\"): flagged %d, want %d\n", c->name, c->in, r.flagged,
                    c->flagged);
        bad = 1;
    }
    if (strcmp(r.comment, c->comment) != 0) {
        print_error("[%s] reply_parse(\"%s\"): comment \"%s\", want \"%s\"\n", c->name, c->in,
                    r.comment, c->comment);
        bad = 1;
    }
    if (r.busy_hour != c->busy_hour) {
        print_error("[%s] reply_parse(\"%s\"): busy_hour %d, want %d\n", c->name, c->in,
                    r.busy_hour, c->busy_hour);
        bad = 1;
    }
    if (!utf8_valid(r.comment, strlen(r.comment))) {
        print_error("[%s] reply_parse(\"%s\"): comment is not valid UTF-8\n", c->name, c->in);
        bad = 1;
    }
    return bad;
}

/* Every row is checked and reported by name; the test fails once at the
 * end with the number of broken rows, so one run shows them all. */
static void test_table(void **state)
{
    (void)state;
    size_t failed = 0;
    assert_true(HF_ARRAY_LEN(cases) >= 70);
    for (size_t i = 0; i < HF_ARRAY_LEN(cases); i++)
        failed += (size_t)check_case(&cases[i]);
    if (failed)
        fail_msg("%zu of %zu reply cases failed (see above)", failed, HF_ARRAY_LEN(cases));
}

/* The names identify the rows in failure messages: they must be unique. */
static void test_table_names_unique(void **state)
{
    (void)state;
    for (size_t i = 0; i < HF_ARRAY_LEN(cases); i++)
        for (size_t j = i + 1; j < HF_ARRAY_LEN(cases); j++)
            if (strcmp(cases[i].name, cases[j].name) == 0)
                fail_msg("case name \"%s\" used twice (rows %zu and %zu)", cases[i].name, i, j);
}

/* ---- edges ---------------------------------------------------------------- */

static void expect_reset(const struct reply *r, const char *what)
{
    if (r->kind != REPLY_EMPTY || r->score != -1 || r->yes != -1 || r->complaint ||
        r->flagged || r->comment[0] || r->busy_hour != -1 || r->busy_days != 0)
        fail_msg("%s: not a clean REPLY_EMPTY (kind %s flagged %d comment \"%s\")", what,
                 reply_kind_name(r->kind), r->flagged, r->comment);
}

static void test_null_and_empty(void **state)
{
    (void)state;
    struct reply r;
    memset(&r, 0x5A, sizeof r); /* garbage: everything must be overwritten */
    reply_parse(NULL, NULL, &r);
    expect_reset(&r, "reply_parse(NULL text)");
    memset(&r, 0x5A, sizeof r);
    reply_parse(&reply_config_default, "", &r);
    expect_reset(&r, "reply_parse(\"\")");
    memset(&r, 0x5A, sizeof r);
    reply_parse(NULL, " \t\r\n\u3000\u00a0\u200b", &r);
    expect_reset(&r, "reply_parse(white space incl. U+3000, NBSP, ZWSP)");
}

static void test_only_punctuation(void **state)
{
    (void)state;
    static const char *const in[] = {"。", "？", "...", "!!!", "，。、；：", "——", "“”",
                                     "《》", "~", "\u3000。\u3000"};
    for (size_t i = 0; i < HF_ARRAY_LEN(in); i++) {
        struct reply r;
        reply_parse(NULL, in[i], &r);
        if (r.kind != REPLY_EMPTY || r.flagged || r.comment[0])
            fail_msg("reply_parse(\"%s\"): %s flagged %d, want empty", in[i],
                     reply_kind_name(r.kind), r.flagged);
    }
}

static void test_emoji(void **state)
{
    (void)state;
    struct reply r;
    reply_parse(NULL, "🙏🙏", &r);
    assert_int_equal(r.kind, REPLY_TEXT);
    assert_int_equal(r.flagged, 1);
    assert_string_equal(r.comment, "🙏🙏");
    /* a ZWJ family sequence survives whole in the comment */
    reply_parse(NULL, "满意👨\u200d👩\u200d👧", &r);
    assert_int_equal(r.kind, REPLY_SATISFACTION);
    assert_int_equal(r.score, 9);
    assert_string_equal(r.comment, "👨\u200d👩\u200d👧");
    reply_parse(NULL, "10分😀😀", &r);
    assert_int_equal(r.kind, REPLY_SCORE);
    assert_int_equal(r.score, 10);
    assert_int_equal(r.flagged, 0);
    assert_string_equal(r.comment, "😀😀");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *name, *in;
    } bad[] = {
        {"stray 0xff", "\xff"},
        {"score then 0xff", "9分\xff"},
        {"truncated 3-byte sequence", "满\xe6\xbb"},
        {"overlong slash", "\xc0\xaf"},
        {"surrogate", "\xed\xa0\x80"},
        {"continuation byte first", "\x80\x80满意"},
        {"TD with a bad byte", "TD\xfe"},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(bad); i++) {
        struct reply r;
        reply_parse(NULL, bad[i].in, &r);
        if (r.kind != REPLY_TEXT || !r.flagged || r.score != -1)
            fail_msg("[%s]: kind %s flagged %d score %d, want text flagged", bad[i].name,
                     reply_kind_name(r.kind), r.flagged, r.score);
        if (!utf8_valid(r.comment, strlen(r.comment)))
            fail_msg("[%s]: comment is not valid UTF-8", bad[i].name);
        if (!strstr(r.comment, "\xEF\xBF\xBD"))
            fail_msg("[%s]: comment \"%s\" does not show U+FFFD", bad[i].name, r.comment);
    }
    struct reply r;
    reply_parse(NULL, "9分\xff", &r);
    assert_string_equal(r.comment, "9分\xEF\xBF\xBD");
    /* complaint words still count in a broken reply */
    reply_parse(NULL, "卫生间漏水\xff\xfe", &r);
    assert_int_equal(r.kind, REPLY_TEXT);
    assert_int_equal(r.complaint, 1);
    assert_int_equal(r.flagged, 1);
    assert_string_equal(r.comment, "卫生间漏水\xEF\xBF\xBD\xEF\xBF\xBD");
}

/* Control characters never reach the comment. */
static void test_control_characters_sanitized(void **state)
{
    (void)state;
    struct reply r;
    reply_parse(NULL, "9分 工长\x01很负责\x7f", &r);
    assert_int_equal(r.kind, REPLY_SCORE);
    assert_int_equal(r.score, 9);
    assert_string_equal(r.comment, "工长 很负责");
}

static char *repeat(const char *head, const char *unit, size_t bytes, const char *tail)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, head);
    while (b.len < bytes)
        buf_puts(&b, unit);
    buf_puts(&b, tail);
    return buf_steal(&b);
}

static void test_10kb_input(void **state)
{
    (void)state;
    struct reply r;
    /* a score with a 10 KB comment: kept, cut, flagged */
    char *s = repeat("9分，", "工长很负责", 10 * 1024, "");
    reply_parse(NULL, s, &r);
    assert_int_equal(r.kind, REPLY_SCORE);
    assert_int_equal(r.score, 9);
    assert_int_equal(r.flagged, 1);
    assert_true(strlen(r.comment) <= REPLY_COMMENT_MAX - 1);
    assert_true(strlen(r.comment) > REPLY_COMMENT_MAX - 1 - 4);
    assert_true(utf8_valid(r.comment, strlen(r.comment)));
    assert_memory_equal(r.comment, s + strlen("9分，"), strlen(r.comment));
    free(s);

    /* 10 KB of praise with a complaint word at the very end */
    s = repeat("", "挺好的", 10 * 1024, "就是有甲醛");
    reply_parse(NULL, s, &r);
    assert_int_equal(r.complaint, 1);
    assert_int_equal(r.flagged, 1);
    free(s);

    /* 10 KB of digits is not a score */
    s = repeat("", "1234567890", 10 * 1024, "");
    reply_parse(NULL, s, &r);
    assert_int_equal(r.kind, REPLY_TEXT);
    assert_int_equal(r.score, -1);
    assert_int_equal(r.flagged, 1);
    free(s);

    /* 10 KB of "在忙" is too long to be a busy reply */
    s = repeat("", "在忙", 10 * 1024, "");
    reply_parse(NULL, s, &r);
    assert_int_not_equal(r.kind, REPLY_BUSY);
    assert_int_equal(r.flagged, 1);
    free(s);
}

static void test_over_input_limit(void **state)
{
    (void)state;
    struct reply r;
    /* past REPLY_INPUT_MAX, cut in the middle of a 3-byte character */
    char *s = repeat("满意", "很", REPLY_INPUT_MAX + 1000, "");
    reply_parse(NULL, s, &r);
    assert_int_equal(r.flagged, 1);
    assert_true(utf8_valid(r.comment, strlen(r.comment)));
    free(s);
    /* a complaint word beyond the limit is not seen */
    s = repeat("", "a", REPLY_INPUT_MAX + 10, "投诉");
    reply_parse(NULL, s, &r);
    assert_int_equal(r.complaint, 0);
    assert_int_equal(r.flagged, 1);
    free(s);
}

/* The comment is cut on a character boundary whatever the alignment. */
static void test_comment_truncation_boundary(void **state)
{
    (void)state;
    static const char *const pads[] = {"", "a", "ab", "abc"};
    static const char *const units[] = {"好", "é", "😀", "x"};
    for (size_t p = 0; p < HF_ARRAY_LEN(pads); p++) {
        for (size_t u = 0; u < HF_ARRAY_LEN(units); u++) {
            struct buf b;
            buf_init(&b);
            buf_puts(&b, "10分 ");
            buf_puts(&b, pads[p]);
            while (b.len < 2000)
                buf_puts(&b, units[u]);
            struct reply r;
            reply_parse(NULL, b.data, &r);
            size_t n = strlen(r.comment);
            const char *want = b.data + strlen("10分 ");
            if (r.kind != REPLY_SCORE || r.score != 10 || !r.flagged)
                fail_msg("pad \"%s\" unit \"%s\": kind %s score %d flagged %d", pads[p], units[u],
                         reply_kind_name(r.kind), r.score, r.flagged);
            if (n > REPLY_COMMENT_MAX - 1 || n + strlen(units[u]) <= REPLY_COMMENT_MAX - 1)
                fail_msg("pad \"%s\" unit \"%s\": comment of %zu bytes", pads[p], units[u], n);
            if (!utf8_valid(r.comment, n))
                fail_msg("pad \"%s\" unit \"%s\": comment cut inside a character", pads[p],
                         units[u]);
            if (memcmp(r.comment, want, n) != 0)
                fail_msg("pad \"%s\" unit \"%s\": comment is not the text's prefix", pads[p],
                         units[u]);
            buf_cleanup(&b);
        }
    }
    /* exactly 511 bytes fits and is not flagged */
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "10分 ");
    for (int i = 0; i < 170; i++)
        buf_puts(&b, "好");
    buf_puts(&b, "x");
    struct reply r;
    reply_parse(NULL, b.data, &r);
    assert_int_equal(strlen(r.comment), 511);
    assert_int_equal(r.flagged, 0);
    buf_cleanup(&b);
}

static void test_busy_days_and_hours(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int hour, days;
    } t[] = {
        {"明天上午吧", 10, 1}, {"后天下午再打", 15, 2}, {"今晚八点", 20, 0},
        {"明天", -1, 1},       {"晚上12点", 0, 0},       {"明天下午三点", 15, 1},
        {"在忙，下午3点半", 15, 0}, {"早上8点", 8, 0},   {"中午1点", 13, 0},
        {"稍后", -1, 0},       {"傍晚", 18, 0},           {"15:00再打", 15, 0},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(t); i++) {
        struct reply r;
        reply_parse(NULL, t[i].in, &r);
        if (r.kind != REPLY_BUSY || r.busy_hour != t[i].hour || r.busy_days != t[i].days)
            fail_msg("reply_parse(\"%s\"): %s hour %d days %d, want busy hour %d days %d",
                     t[i].in, reply_kind_name(r.kind), r.busy_hour, r.busy_days, t[i].hour,
                     t[i].days);
    }
}

static void test_custom_config(void **state)
{
    (void)state;
    /* this company: 一般 is only 5, 满意 is 8, no 非常不满意; complaint words
     * of its own, one written full-width and upper-case */
    static const char *const sat[] = {"非常满意", "满意", "一般", "不满意", "差评", NULL, "bad"};
    static const int scores[] = {10, 8, 5, 2, 1, 7, 0};
    static const char *const cwords[] = {"工期不准", "ＡＰＰ卡顿", "", NULL};
    const struct reply_config cfg = {
        .sat_words = sat,
        .sat_scores = scores,
        .nsat = HF_ARRAY_LEN(sat),
        .complaint_words = cwords,
        .ncomplaint = HF_ARRAY_LEN(cwords),
    };
    struct reply r;

    reply_parse(&cfg, "一般", &r);
    assert_int_equal(r.kind, REPLY_SATISFACTION);
    assert_int_equal(r.score, 5);
    assert_int_equal(r.yes, -1);

    reply_parse(&cfg, "满意", &r);
    assert_int_equal(r.score, 8);
    assert_int_equal(r.yes, 1);

    reply_parse(&cfg, "不满意", &r);
    assert_int_equal(r.score, 2);
    assert_int_equal(r.yes, 0);

    /* negated, with no 不太满意 configured: falls back to 不满意 */
    reply_parse(&cfg, "不是很满意", &r);
    assert_int_equal(r.kind, REPLY_SATISFACTION);
    assert_int_equal(r.score, 2);

    /* 十分 + 不满意: 非常不满意 is not configured, so only 不满意 is found */
    reply_parse(&cfg, "十分不满意", &r);
    assert_int_equal(r.kind, REPLY_SATISFACTION);
    assert_int_equal(r.score, 2);

    /* a word with a score out of 1..10 ("bad" 0) is ignored */
    reply_parse(&cfg, "bad", &r);
    assert_int_equal(r.kind, REPLY_TEXT);

    /* the default's extra words are not this company's */
    reply_parse(&cfg, "挺好的", &r);
    assert_int_equal(r.kind, REPLY_TEXT);
    assert_int_equal(r.flagged, 1);

    /* its own complaint words, normalized like the reply */
    reply_parse(&cfg, "9分，工期不准", &r);
    assert_int_equal(r.kind, REPLY_SCORE);
    assert_int_equal(r.complaint, 1);
    assert_int_equal(r.flagged, 1);
    reply_parse(&cfg, "满意，就是app卡顿", &r);
    assert_int_equal(r.complaint, 1);

    /* the default complaint words are not in its list */
    reply_parse(&cfg, "10分，甲醛", &r);
    assert_int_equal(r.complaint, 0);

    /* an empty vocabulary: scores, yes/no and opt-outs still work */
    const struct reply_config none = {0};
    reply_parse(&none, "满意", &r);
    assert_int_equal(r.kind, REPLY_TEXT);
    reply_parse(&none, "9分", &r);
    assert_int_equal(r.kind, REPLY_SCORE);
    reply_parse(&none, "漏水", &r);
    assert_int_equal(r.complaint, 0);
    reply_parse(&none, "TD", &r);
    assert_int_equal(r.kind, REPLY_OPT_OUT);
}

static void test_null_config_is_default(void **state)
{
    (void)state;
    static const char *const in[] = {"满意", "一般", "9分，漏水", "现在不方便", "是的"};
    for (size_t i = 0; i < HF_ARRAY_LEN(in); i++) {
        struct reply a, b;
        reply_parse(NULL, in[i], &a);
        reply_parse(&reply_config_default, in[i], &b);
        if (a.kind != b.kind || a.score != b.score || a.complaint != b.complaint ||
            a.flagged != b.flagged || strcmp(a.comment, b.comment) != 0)
            fail_msg("reply_parse(NULL cfg, \"%s\") differs from the default config", in[i]);
    }
    assert_int_equal(reply_config_default.nsat, 14);
    assert_true(reply_config_default.ncomplaint >= 17);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(reply_kind_name(REPLY_EMPTY), "empty");
    assert_string_equal(reply_kind_name(REPLY_SCORE), "score");
    assert_string_equal(reply_kind_name(REPLY_YES), "yes");
    assert_string_equal(reply_kind_name(REPLY_NO), "no");
    assert_string_equal(reply_kind_name(REPLY_SATISFACTION), "satisfaction");
    assert_string_equal(reply_kind_name(REPLY_OPT_OUT), "opt_out");
    assert_string_equal(reply_kind_name(REPLY_BUSY), "busy");
    assert_string_equal(reply_kind_name(REPLY_TEXT), "text");
    assert_string_equal(reply_kind_name((enum reply_kind)99), "unknown");
}

/* The carriers' unsubscribe keywords (PROTOCOLS.md E) include N. */
static void test_sms_optout_keywords(void **state)
{
    (void)state;
    static const char *const yes[] = {"TD", "td", "T", "t", "N", "n", "R", "r", "退订", "ＴＤ",
                                      " td。", "Ｎ"};
    static const char *const no[] = {"no", "9", "退订谢谢", "TDD", "", "满意", "T D", "\xff"};
    for (size_t i = 0; i < HF_ARRAY_LEN(yes); i++)
        if (!reply_is_sms_optout(yes[i]))
            fail_msg("reply_is_sms_optout(\"%s\") = 0, want 1", yes[i]);
    for (size_t i = 0; i < HF_ARRAY_LEN(no); i++)
        if (reply_is_sms_optout(no[i]))
            fail_msg("reply_is_sms_optout(\"%s\") = 1, want 0", no[i]);
    assert_int_equal(reply_is_sms_optout(NULL), 0);
    /* the same "N" is an answer to the parser */
    struct reply r;
    reply_parse(NULL, "N", &r);
    assert_int_equal(r.kind, REPLY_NO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_names_unique),
        cmocka_unit_test(test_null_and_empty),
        cmocka_unit_test(test_only_punctuation),
        cmocka_unit_test(test_emoji),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_control_characters_sanitized),
        cmocka_unit_test(test_10kb_input),
        cmocka_unit_test(test_over_input_limit),
        cmocka_unit_test(test_comment_truncation_boundary),
        cmocka_unit_test(test_busy_days_and_hours),
        cmocka_unit_test(test_custom_config),
        cmocka_unit_test(test_null_config_is_default),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_sms_optout_keywords),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
