/*
 * reply_parse.h - turn a customer's free-text reply (WeChat text message,
 * SMS upstream reply; UTF-8, Simplified Chinese) into a structured answer:
 * a 1-10 score, yes/no, a satisfaction word, an opt-out, "busy, call me
 * later", or text a person has to read.
 *
 * Leaf module: libc + util.h only. Pure function of its input; no I/O, no
 * logging (replies are personal data), no globals besides the const default
 * configuration. Safe to call from any loop callback.
 *
 * ==== The rules, in the order they are applied ==========================
 *
 * 0. Input. NULL or "" -> REPLY_EMPTY. Only the first REPLY_INPUT_MAX bytes
 *    are examined (cut on a character boundary); a longer reply is flagged.
 *    Invalid UTF-8 (util.h utf8_valid) -> REPLY_TEXT, flagged, with the
 *    comment sanitized (each bad byte becomes U+FFFD); complaint words are
 *    still looked for.
 *
 * 1. Normalize (the comment is always cut from the ORIGINAL text, so the
 *    customer's own characters survive):
 *    - full-width forms U+FF01-FF5E -> ASCII ("９"->"9", "ＴＤ"->"td",
 *      "："->":", "，"->","), "、"->",", "。"->".", U+301C "〜"->"~";
 *    - every white space (ASCII, U+00A0, U+2000-200A, U+3000 ideographic
 *      space, ...) and C0 control -> " "; zero-width U+200B-200D/U+2060/
 *      U+FEFF are dropped;
 *    - ASCII letters are lower-cased (matching is case-insensitive);
 *    - then leading/trailing white space is trimmed.
 *    Configured words (satisfaction and complaint) go through the same
 *    normalization, so a company may write them full-width or upper-case.
 *
 * 2. Complaint words: any configured word anywhere (substring, after
 *    normalization) sets complaint=1 and flagged=1, whatever the kind.
 *    There is no negation handling ("没有漏水" still counts): a false
 *    positive costs a person a minute, a missed complaint costs the seeds'
 *    2 h / 48 h clocks.
 *
 * 3. Only white space and punctuation (ASCII or CJK: ，。！？…—【】 ...)
 *    -> REPLY_EMPTY. Emoji and other symbols are not punctuation: "👍"
 *    alone is REPLY_TEXT, flagged.
 *
 * 4. Opt-out: the whole reply, trimmed of white space and punctuation, is
 *    exactly "td", "t", "r", "退订", "拒收", "取消订阅" or "unsubscribe"
 *    (case-insensitive, full-width accepted) -> REPLY_OPT_OUT. Only exact
 *    replies: "退订" inside a sentence is REPLY_TEXT (flagged, a person
 *    decides), because a false opt-out silences a customer for good.
 *    A bare "N" is REPLY_NO, NOT an opt-out: huifang's survey messages ask
 *    yes/no questions (the seeds' 是□/不是□ boxes) and never carry a
 *    "回N退订" line, so "N" after "监理是否讲解了验收标准?" means "no".
 *    PROTOCOLS.md E lists N among the carriers' unsubscribe keywords for
 *    promotional templates; an SMS adapter that honours that list for a
 *    signature uses reply_is_sms_optout(), which does accept "N".
 *
 * 5. Score at the head of the reply -> REPLY_SCORE:
 *    - optional lead-in: 打 / 给 / 我打 / 我给 / 给你们打 / 打个 / 评分 /
 *      评分是 / 分数 / 得分 / 总分 / 整体 / 总体 / 综合 / 就 ..., then ":"
 *      or spaces are allowed ("打9分", "给9分", "评分9", "评分：9");
 *    - a number: ASCII digits (full-width already folded), or a Chinese
 *      numeral 一..九, 两, 十, 十X, X十X (零/〇 are not accepted), or 满分 (=10);
 *    - optional decimals, ROUNDED HALF UP on the first decimal digit:
 *      "9.5分" -> 10, "8.4" -> 8; an integer part of 0 is out of range;
 *    - optional range "8-9分" / "8~9" / "8到9分" / "8至9" / "8或9":
 *      the FIRST number is taken and the reply is flagged;
 *    - optional "/10" ("9/10"), optional spaces, optional "分" ("9 分");
 *      "分钟" (minutes) and "分之" (fractions) are never a score;
 *    - without "分", ASCII digits must be followed by the end, a space,
 *      punctuation, a particle (吧 啦 了 的 哦 ...) or a connector
 *      (但 不过 就是 谢谢 ...): "3楼漏水", "9点", "10pm" are not scores;
 *      a Chinese numeral without 分 must be the whole reply ("九");
 *    - "十分" followed by more text ("十分满意", "十分负责") is the
 *      intensifier "very", not 10; "十分" alone, or followed by
 *      punctuation/particles, is 10;
 *    - the number must be 1..10: "0", "11分", "100", "05" (leading zero)
 *      and any run of 3+ digits (a mobile number) are NOT scores; when such
 *      a number stands where a score would (before 分, the end, a space or
 *      punctuation) the reply is REPLY_TEXT, flagged, score -1;
 *    - "15:00", "9点", "3楼" are not scores (a time, a floor);
 *    - particles after the score are skipped ("9分吧"); the rest, trimmed
 *      of white space and leading punctuation, is the comment
 *      ("10分 工长很负责" -> 10 + "工长很负责", "9分。谢谢" -> 9 + "谢谢").
 *
 * 6. An explicit score elsewhere in the reply -> REPLY_SCORE: digits + 分
 *    ("工长很负责，9分"), or a score verb (打 给 评 评分 ...) + number
 *    ("挺好的，给10分"), or a Chinese numeral + 分 / 满分 standing on its
 *    own between punctuation. The comment is the text without that span
 *    (the two sides joined by one space). An explicit out-of-range score
 *    anywhere ("服务很好，100分") makes the reply REPLY_TEXT, flagged.
 *    A second, different score in the same reply ("设计师9分，工长8分")
 *    keeps the first and flags the reply.
 *
 * 7. Satisfaction word at the head (after lead-ins such as 很 挺 蛮 都
 *    还 感觉 觉得 总体 整体 是的, ...) -> REPLY_SATISFACTION with the
 *    configured score; the rest is the comment. Matching:
 *    - longest match first at each position: "非常不满意" before "不满意"
 *      before "满意", so "不满意" never reads as "满意";
 *    - intensifiers 十分 / 特别 / 超级 / 超 / 极其 / 相当 before X count
 *      as "非常"+X when "非常"+X is configured ("十分不满意" -> 1);
 *    - a negator right before a positive word turns it: 不是很 / 不太 /
 *      不怎么 / 没那么 ... + X -> "不太"+X, else "不"+X; 不 / 不是 / 没 /
 *      没有 + X -> "不"+X ("不是很满意" -> 不太满意 4); when the negated
 *      form is not configured the word is not used;
 *    - the word must be followed by the end, punctuation, space, a particle
 *      or a connector ("满意度", "一般来说" are not answers); a doubled last
 *      character is absorbed ("一般般");
 *    - yes is ALSO set for satisfaction: score >= 7 -> yes=1, score <= 4 ->
 *      yes=0, else -1. Our yes/no questions say "直接回复“满意”或“不满
 *      意”", so callers answering a yes/no question must read .yes, not
 *      .kind (that is also where "满意的" lands: SATISFACTION 9, yes 1).
 *
 * 8. Busy (only for replies of at most REPLY_BUSY_MAX_CHARS characters)
 *    -> REPLY_BUSY, comment = the whole reply:
 *    - at the head, after lead-ins (现在 目前 暂时 不好意思 抱歉 您好 喂
 *      好的, ...): 不方便, 在忙, 忙, 没空, 在开会, 在开车, 稍后, 晚点,
 *      等会, 待会, 过会, 回头, 改天, ...;
 *    - anywhere: unambiguous deferrals (晚点再说, 稍后联系, 在开会, 再打给
 *      我, 有空再, ...; "再打" / "再说" / "再联系" only at the end);
 *    - or the reply is nothing but a time and filler ("明天上午吧",
 *      "下午3点以后", "晚上7点可以").
 *    busy_hour: the first stated hour, read with its period word:
 *    上午/早上 as is, 中午 1-3 -> 13-15, 下午/傍晚/晚上/今晚 +12;
 *    an hour with no period word 1..7 -> 13..19 (nobody asks for a survey
 *    call at 3 a.m.). A period alone: 早上 9, 上午 10, 中午 12, 下午 15,
 *    傍晚 18, 晚上 19 (the seeds' call windows are 10:30-11:40 and
 *    15:00-18:00). Nothing stated (晚点, 稍后, 半小时后) -> -1.
 *    busy_days: 明天 1, 后天 2, else 0.
 *    A score or a satisfaction word at the head wins over busy ("9分，在
 *    忙" is a score); a yes/no does not ("好的，晚点再说" is busy: the
 *    survey question is still unanswered).
 *
 * 9. Yes/no at the head -> REPLY_YES / REPLY_NO. Longest match first
 *    ("不是真的" before "不是" before "不"); the word must be followed by
 *    the end, punctuation, a particle, a connector or another yes/no word
 *    ("有点漏水" is not "有", "没问题" is not "没"). Repeats are absorbed
 *    ("对对对", "好的好的"); an immediate contrary word ("是，不是") flags.
 *    YES: 是 对 嗯 恩 好 行 可以 有 属实 确实 没错 是真的 的确 当然 清楚
 *         顺利 到位 及时 方便 同意 收到 yes y ok okay.
 *    NO:  否 不 不是 不对 不行 没 没有 不属实 不是真的 假的 没这回事 没有
 *         这件事 不清楚 不顺利 不到位 不及时 不同意 no n nope.
 *
 * 10. A satisfaction word elsewhere ("对设计师很满意") -> REPLY_SATISFACTION,
 *     comment = the whole reply. Two different satisfaction scores
 *     ("设计还行，工长一般") keep the first and flag.
 *
 * 11. Anything else -> REPLY_TEXT, flagged, comment = the whole reply.
 *
 * Flagging, beyond the above: a SCORE / SATISFACTION / YES / NO whose
 * comment mentions a problem (问题 但 不过 就是 希望 建议 慢 差 漏 裂
 * 没有 ...; "没问题", "不错" excepted) is flagged; so is a comment that had
 * to be truncated (the caller keeps the raw reply; a person reads it there).
 * BUSY, OPT_OUT and EMPTY are not flagged unless a complaint word appears.
 */
#ifndef HF_REPLY_PARSE_H
#define HF_REPLY_PARSE_H

#include <stddef.h>

enum reply_kind {
    REPLY_EMPTY = 0,    /* blank / only punctuation or whitespace */
    REPLY_SCORE,        /* a 1-10 score ("9", "９", "9分", "九分", "十分", "满分") */
    REPLY_YES,          /* 是 / 对 / 有 / 好的 / 属实 / yes / y ... */
    REPLY_NO,           /* 否 / 不是 / 没有 / 不对 / 不属实 / no / n ... */
    REPLY_SATISFACTION, /* 非常满意 / 满意 / 一般 / 不满意 ...: score from the map */
    REPLY_OPT_OUT,      /* exactly TD / T / R / 退订 / 拒收 */
    REPLY_BUSY,         /* 现在不方便 / 在忙 / 晚点再说 / 下午再打 (+ a time if stated) */
    REPLY_TEXT,         /* anything else: kept as text, flagged for a person */
};

/* Bytes of the input that are examined; the rest is ignored (and flagged). */
#define REPLY_INPUT_MAX (64 * 1024)
/* Size of struct reply.comment, NUL included. */
#define REPLY_COMMENT_MAX 512
/* Busy detection only looks at replies of at most this many characters:
 * a long text that happens to contain 在忙 is something else. */
#define REPLY_BUSY_MAX_CHARS 30

/* Per-company vocabulary. Arrays are borrowed for the duration of each
 * reply_parse() call only; NULL entries and "" are skipped. A NULL
 * sat_words/complaint_words with a zero count is allowed. Scores outside
 * 1..10 are ignored. */
struct reply_config {
    /* satisfaction words -> score, matched longest first */
    const char *const *sat_words;
    const int *sat_scores;
    size_t nsat;
    /* complaint words: any of these anywhere flags the reply as a complaint */
    const char *const *complaint_words;
    size_t ncomplaint;
};

/* 非常满意 10, 满意 9, 比较满意 8, 还可以 7, 一般 6, 不太满意 4, 不满意 3,
 * 很不满意 1, 非常不满意 1, plus the everyday 非常好 10, 很好 9, 挺好 8,
 * 不错 8, 还行 7; complaint words from the seeds' 投诉管理办法 topics
 * (quality, materials, delays, attitude, money, escalation): 投诉 漏水 开裂
 * 空鼓 返工 欺骗 骗子 差劲 太差 不负责 拖延 延期 维权 12315 曝光 退款 甲醛
 * 偷工减料 不合格 乱收费 ... (see reply_parse.c for the full list). */
extern const struct reply_config reply_config_default;

struct reply {
    enum reply_kind kind;
    int score;     /* 1..10 for SCORE and SATISFACTION, else -1 */
    int yes;       /* 1 / 0 for YES / NO; also for SATISFACTION (>=7 / <=4), else -1 */
    int complaint; /* 1 if a complaint word appears (any kind) */
    int flagged;   /* 1 if a person should read it (see the rules above) */
    char comment[REPLY_COMMENT_MAX]; /* free text that came with the answer, trimmed;
                                      * the whole reply for TEXT and BUSY; "" if none.
                                      * Valid UTF-8, cut on a character boundary. */
    int busy_hour; /* REPLY_BUSY with a stated time: local hour 0-23, else -1 */
    int busy_days; /* REPLY_BUSY: 1 for 明天, 2 for 后天, else 0 */
};

/* Parse @text (UTF-8, any length, may be NULL) with @cfg (NULL means
 * reply_config_default) into @out, which is fully overwritten. Never fails,
 * never allocates anything the caller must free (it uses a temporary heap
 * copy internally, xmalloc policy). Borrows @cfg and @text. */
void reply_parse(const struct reply_config *cfg, const char *text, struct reply *out);

/* "empty", "score", "yes", "no", "satisfaction", "opt_out", "busy", "text";
 * "unknown" for anything else. Static strings. */
const char *reply_kind_name(enum reply_kind k);

/* 1 if @text, normalized and trimmed as above, is exactly one of the SMS
 * carriers' unsubscribe keywords TD, T, N, R, 退订 (PROTOCOLS.md E): what an
 * SMS adapter honours for a signature's promotional messages. Unlike
 * reply_parse() this treats "N" as an opt-out. NULL -> 0. */
int reply_is_sms_optout(const char *text);

#endif
