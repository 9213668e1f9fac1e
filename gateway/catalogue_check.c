/*
 * catalogue_check.c - rendering the catalogue with sample data (the SMS
 * length check of --check-config) and the README's catalogue table
 * (--catalogue-markdown).
 */
#include "catalogue_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "survey_token.h"
#include "template.h"
#include "util.h"

/* ==== the sample trigger ================================================ */

/* Realistic, on the long side: what a real trigger sends most of the time.
 * A name here that catalogue_var_known() does not accept is harmless; a
 * known name missing here makes the check fail ("no sample value"), which
 * keeps this table in step with catalogue.c. */
static const struct {
    const char *name;
    const char *value;
} samples[] = {
    {"customer.name", "王建国"},
    {"customer.title", "先生"},
    {"customer.mobile", "13812345678"},
    {"project.id", "P2026-000123"},
    {"project.address", "上海市浦东新区锦绣路1088弄翠湖天地3期12号楼1502室"}, /* 30 */
    {"project.kickoff_date", "2026-11-24"},
    {"staff.pm.name", "李志强"},
    {"staff.pm.phone", "13900001111"},
    {"staff.designer.name", "陈晓东"},
    {"staff.designer.phone", "13900002222"},
    {"staff.foreman.name", "张国栋"},
    {"staff.foreman.phone", "13900003333"},
    {"staff.supervisor.name", "赵文斌"},
    {"staff.supervisor.phone", "13900004444"},
    {"occurred.date", "12月28日"}, /* the longest month-day */
    {"occurred.time", "15:30"},
    {"survey.expires", "12月31日"},
    {"ticket.id", "100234"},
    {"ticket.report_due", "12月28日 17:30"},
    {"ticket.answer_due", "12月30日 15:30"},
    {"task.id", "200318"},
    {"task.due", "12月28日 17:30"},
    {"task.role", "客服经理"},
};

/* Sample values of trigger variables (vars.<name>) the shipped catalogue
 * and the engine's templates declare; any other name gets VAR_DEFAULT. */
static const struct {
    const char *name;
    const char *value;
} var_samples[] = {
    {"stage", "油漆"},                    /* 木作 / 瓦作 / 油漆 */
    {"praise", "表扬信"},                 /* 锦旗 / 表扬信 */
    {"reason", "卫生间墙面渗水，瓷砖有空鼓"},
    {"scope", "整体装修"},                /* 整体装修 / 水电 */
    {"start_date", "12月28日"},
    {"inspection_date", "12月27日"},
    {"title", "老客户年终回馈家装节"},    /* 10 */
    {"detail", "全屋定制柜类满一万元减两千元，到店签约再赠送品牌智能马桶一台"}, /* 30 */
    {"date", "12月1日至12月31日"},
    {"kind", "退定金"},                   /* 退单 / 退定金 */
};
#define VAR_DEFAULT "样例变量值样例变量值" /* 10 characters */

/* Survey id and expiry of the sample link: an 8-digit id and a 10-digit
 * expiry give a token as long as production ones for years to come. */
#define SAMPLE_SURVEY_ID 99999999LL
#define SAMPLE_EXPIRES 1798732800LL /* 2027-01-01 */

struct sample_ctx {
    const struct config *cfg;
    const struct milestone *m;
    char token[SURVEY_TOKEN_MAX];
    char *link;
    const char *missing; /* first placeholder without a sample value */
};

static const char *sample_lookup(void *arg, const char *name)
{
    struct sample_ctx *c = arg;
    if (strcmp(name, "company.name") == 0)
        return c->cfg->company_name ? c->cfg->company_name : "";
    if (strcmp(name, "company.phone") == 0)
        return c->cfg->company_phone ? c->cfg->company_phone : "";
    if (strcmp(name, "milestone.id") == 0)
        return c->m->id;
    if (strcmp(name, "milestone.name") == 0)
        return c->m->name;
    if (strcmp(name, "survey.link") == 0)
        return c->link;
    if (strcmp(name, "survey.token") == 0)
        return c->token;
    if (strcmp(name, "task.title") == 0) {
        /* The milestone's longest task title: the worst case it sends. */
        const char *longest = "";
        for (size_t i = 0; i < c->m->ntasks; i++)
            if (utf8_chars(c->m->tasks[i].title) > utf8_chars(longest))
                longest = c->m->tasks[i].title;
        return longest;
    }
    if (strncmp(name, "vars.", 5) == 0) {
        for (size_t i = 0; i < HF_ARRAY_LEN(var_samples); i++)
            if (strcmp(var_samples[i].name, name + 5) == 0)
                return var_samples[i].value;
        return VAR_DEFAULT;
    }
    for (size_t i = 0; i < HF_ARRAY_LEN(samples); i++)
        if (strcmp(samples[i].name, name) == 0)
            return samples[i].value;
    if (!c->missing)
        c->missing = name;
    return NULL;
}

static void sample_init(struct sample_ctx *c, const struct config *cfg, const struct milestone *m)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->m = m;
    survey_token_make(cfg->survey_secret ? cfg->survey_secret : "", SAMPLE_SURVEY_ID,
                      SAMPLE_EXPIRES, c->token);
    c->link = xasprintf("%s/s/%s", cfg->public_url ? cfg->public_url : "", c->token);
}

/* The signature the handset shows: as dispatch.c signs. */
static const char *sample_sign(const struct config *cfg)
{
    return cfg->sms_sign_name ? cfg->sms_sign_name : cfg->company_name;
}

cJSON *catalogue_check_render(const struct config *cfg, const struct milestone *m,
                              const struct msg_template *t)
{
    struct sample_ctx c;
    sample_init(&c, cfg, m);
    cJSON *r = msg_template_render(t, sample_lookup, &c, sample_sign(cfg));
    if (m->campaign)
        msg_rendered_append(r, cfg->opt_out_text, sample_sign(cfg));
    free(c.link);
    return r;
}

/* ==== the check ========================================================= */

/* One problem line: "<file>: <key>: <reason>[ (referenced by <where>)]". */
static void problem(FILE *errout, const char *file, const char *key, const char *where,
                    const char *reason)
{
    if (!errout)
        return;
    fprintf(errout, "%s: %s: %s", file, key, reason);
    if (where)
        fprintf(errout, " (referenced by %s)", where);
    fputc('\n', errout);
}

static int check_one(const struct config *cfg, const struct milestone *m,
                     const struct msg_template *t, const char *label, const char *file,
                     const char *where, FILE *out, FILE *errout)
{
    int problems = 0;
    struct sample_ctx c;
    sample_init(&c, cfg, m);
    const char *sign = sample_sign(cfg);
    cJSON *r = msg_template_render(t, sample_lookup, &c, sign);
    if (m->campaign) /* as dispatch.c sends it: with the opt-out line */
        msg_rendered_append(r, cfg->opt_out_text, sign);
    char reason[512];
    if (c.missing) {
        snprintf(reason, sizeof reason, "no sample value for {{%s}} (catalogue_check.c)",
                 c.missing);
        problem(errout, file, "text", where, reason);
        problems++;
    }
    const cJSON *sms = cJSON_GetObjectItemCaseSensitive(r, "sms");
    if (sms) {
        const char *preview = cJSON_GetObjectItemCaseSensitive(sms, "preview")->valuestring;
        int length = cJSON_GetObjectItemCaseSensitive(sms, "length")->valueint;
        int parts = cJSON_GetObjectItemCaseSensitive(sms, "segments")->valueint;
        if (out) {
            fprintf(out, "sms %s: %d chars, %d part%s (declared %d): ", label, length, parts,
                    parts == 1 ? "" : "s", t->sms.parts);
            if (sign && *sign)
                fprintf(out, "【%s】", sign);
            fprintf(out, "%s\n", preview);
            fflush(out); /* keep the lines in order when @out and @errout share a terminal */
        }
        if (length > CATALOGUE_CHECK_SMS_MAX) {
            snprintf(reason, sizeof reason,
                     "%d characters with the signature, providers accept at most %d", length,
                     CATALOGUE_CHECK_SMS_MAX);
            problem(errout, file, "sms.preview", where, reason);
            problems++;
        } else if (parts > t->sms.parts) {
            snprintf(reason, sizeof reason,
                     "%d characters with 【%s】 need %d SMS parts, sms.parts declares %d "
                     "(shorten the text or raise sms.parts)",
                     length, sign ? sign : "", parts, t->sms.parts);
            problem(errout, file, "sms.preview", where, reason);
            problems++;
        }
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(sms, "params")) {
            if (!*p->valuestring) {
                char key[160];
                snprintf(key, sizeof key, "sms.params.%s", p->string);
                problem(errout, file, key, where,
                        "renders empty with the sample trigger: providers refuse empty "
                        "parameters");
                problems++;
            } else if (!strstr(preview, p->valuestring)) {
                /* The preview is the provider template with its parameters
                 * filled in; Tencent refuses a parameter count that differs
                 * from the template's {1}..{n}. */
                char key[160];
                snprintf(key, sizeof key, "sms.params.%s", p->string);
                snprintf(reason, sizeof reason,
                         "its sample value '%s' does not appear in sms.preview (the preview "
                         "is the provider template with the parameters filled in)",
                         p->valuestring);
                problem(errout, file, key, where, reason);
                problems++;
            }
        }
    }
    cJSON_Delete(r);
    free(c.link);
    return problems;
}

int catalogue_check_template(const struct config *cfg, const struct milestone *m,
                             const struct msg_template *t, const char *label, const char *file,
                             FILE *out, FILE *errout)
{
    return check_one(cfg, m, t, label, file, NULL, out, errout);
}

int catalogue_check(const struct config *cfg, const struct catalogue *cat, FILE *out,
                    FILE *errout)
{
    int problems = 0;
    for (size_t i = 0; i < cat->n; i++) {
        const struct milestone *m = &cat->ms[i];
        for (size_t k = 0; k < m->nmsgs; k++) {
            const struct cat_message *cm = &m->msgs[k];
            char *file = xasprintf("%s/%s.json", cfg->templates_dir ? cfg->templates_dir : ".",
                                   cm->tmpl->name);
            char *label = xasprintf("%s.%s", m->id, cm->id);
            char *where = xasprintf("%s: milestones.%s.messages[%zu]",
                                    cfg->catalogue_path ? cfg->catalogue_path : "catalogue",
                                    m->id, k);
            problems += check_one(cfg, m, cm->tmpl, label, file, where, out, errout);
            free(where);
            free(label);
            free(file);
        }
    }
    return problems;
}

/* ==== the Markdown table ================================================ */

/* One row of the table: message @k of milestone @m of @cat. */
struct md_row {
    const struct catalogue *cat;
    const struct milestone *m;
    const struct cat_message *cm;
    size_t k;
};

/* One column of the table: its header and how a cell is written. A new
 * catalogue key gets a column by adding one entry to md_columns[] (or its
 * own rows by a second loop in catalogue_markdown()). Cells must not
 * contain '|' or newlines; "<br>" breaks a line inside a cell. */
struct md_column {
    const char *header;
    void (*cell)(const struct md_row *r, FILE *out);
};

/* @ms as the catalogue writes durations: "1d", "2h", "30m", "90s", "1500ms". */
static void duration_format_ms(int64_t ms, char *out, size_t n)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < HF_ARRAY_LEN(units); i++) {
        if (ms % units[i].ms == 0) {
            snprintf(out, n, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    }
    snprintf(out, n, "%lldms", (long long)ms);
}

static void cell_id(const struct md_row *r, FILE *out)
{
    if (r->k == 0)
        fprintf(out, "`%s`", r->m->id);
}

static void cell_name(const struct md_row *r, FILE *out)
{
    const struct milestone *m = r->m;
    if (r->k > 0)
        return;
    fputs(m->name, out);
    for (size_t v = 0; v < m->nvariables; v++)
        fprintf(out, "%s`vars.%s`", v == 0 ? "<br>" : ", ", m->variables[v]);
    if (m->opens_ticket)
        fputs("<br>opens a ticket", out);
    if (m->ends_all)
        fputs("<br>cancels every pending message of the project", out);
    for (size_t e = 0; e < m->nends; e++)
        fprintf(out, "%s`%s`", e == 0 ? "<br>ends " : ", ", m->ends[e]);
    if (m->campaign)
        fputs("<br>campaign: to a list of customers, not to those who opted out", out);
    for (size_t t = 0; t < m->ntasks; t++) {
        char due[32];
        duration_format_ms(m->tasks[t].due_ms, due, sizeof due);
        fprintf(out, "%s`%s` %s %s", t == 0 ? "<br>staff tasks: " : ", ", m->tasks[t].id,
                recipient_role_name(m->tasks[t].to), due);
        if (m->tasks[t].after >= 0)
            fprintf(out, " after `%s`", m->tasks[m->tasks[t].after].id);
    }
}

static void cell_message(const struct md_row *r, FILE *out)
{
    fprintf(out, "`%s`", r->cm->id);
}

static void cell_sent(const struct md_row *r, FILE *out)
{
    const struct cat_message *cm = r->cm;
    fprintf(out, "%s", msg_kind_name(cm->kind));
    if (cm->kind == KIND_SURVEY)
        fprintf(out, " `%s`", cm->survey);
    fprintf(out, " to %s", recipient_role_name(cm->to));
    if (cm->fatigue_exempt)
        fputs(" (not held back by the one-survey-a-day rule)", out);
}

/* The schedules of other milestones that plan @m: "days 7 from the
 * kickoff date (`kickoff`)", "every 7 days, 26 times, from the kickoff
 * date (`kickoff`)". Returns how many were written. */
static int when_scheduled(const struct md_row *r, FILE *out)
{
    int n = 0;
    for (size_t i = 0; i < r->cat->n; i++) {
        const struct milestone *by = &r->cat->ms[i];
        for (size_t s = 0; s < by->nschedules; s++) {
            const struct cat_schedule *sc = &by->schedules[s];
            if (strcmp(sc->milestone, r->m->id) != 0)
                continue;
            if (n++ > 0)
                fputs("<br>", out);
            if (sc->at_days) {
                fputs(sc->nat == 1 ? "day " : "days ", out);
                for (size_t d = 0; d < sc->nat; d++)
                    fprintf(out, "%s%d", d ? ", " : "", sc->at_days[d]);
            } else {
                fprintf(out, "every %d days, %d times,", sc->every_days, sc->count);
            }
            fprintf(out, " from %s (`%s`)", sc->from_kickoff ? "the kickoff date" : "the trigger",
                    by->id);
            if (sc->vars)
                fprintf(out, " with `%s`", sc->vars);
        }
    }
    return n;
}

/* "on the trigger", "the day after `survey`", "2h after the trigger",
 * "3 days after the trigger +10h", "when the ticket is resolved"; for a
 * milestone other milestones schedule, when they schedule it. */
static void cell_when(const struct md_row *r, FILE *out)
{
    const struct cat_message *cm = r->cm;
    if (cm->on) {
        static const struct {
            const char *on, *when;
        } events[] = {
            {"escalation", "when the ticket is overdue"},
            {"resolved", "when the ticket is resolved (tickets.followup_after)"},
            {"answered_ok", "when the survey is answered and opens no ticket"},
            {"task_due", "before each staff task's due time"},
            {"task_overdue", "when a staff task is overdue"},
        };
        for (size_t i = 0; i < HF_ARRAY_LEN(events); i++)
            if (strcmp(cm->on, events[i].on) == 0) {
                fputs(events[i].when, out);
                return;
            }
        fprintf(out, "on `%s`", cm->on);
        return;
    }
    int scheduled = when_scheduled(r, out);
    char base[96];
    if (cm->after >= 0)
        snprintf(base, sizeof base, "`%s`", r->m->msgs[cm->after].id);
    else
        snprintf(base, sizeof base, "%s", scheduled ? "that day" : "the trigger");
    char delay[32] = "";
    if (cm->delay_ms > 0)
        duration_format_ms(cm->delay_ms, delay, sizeof delay);
    if (scheduled && cm->after < 0 && cm->day_offset == 0 && !*delay)
        return; /* the schedule says it all */
    if (scheduled)
        fputs("<br>", out);
    if (cm->day_offset == 0 && !*delay)
        fprintf(out, cm->after >= 0 ? "with %s" : "on %s", base);
    else if (cm->day_offset == 0)
        fprintf(out, "%s after %s", delay, base);
    else if (cm->day_offset == 1)
        fprintf(out, "the day after %s%s%s", base, *delay ? " +" : "", delay);
    else
        fprintf(out, "%d days after %s%s%s", cm->day_offset, base, *delay ? " +" : "", delay);
}

static void cell_window(const struct md_row *r, FILE *out)
{
    switch (r->cm->window) {
    case WINCLASS_SURVEY: fputs("survey hours, working days", out); break;
    case WINCLASS_NOTICE: fputs("notice hours", out); break;
    case WINCLASS_ANY: fputs("any time", out); break;
    }
}

static const struct md_column md_columns[] = {
    {"id", cell_id},
    {"中文名", cell_name},
    {"message", cell_message},
    {"what is sent, to whom", cell_sent},
    {"when", cell_when},
    {"window", cell_window},
};

void catalogue_markdown(const struct catalogue *cat, FILE *out)
{
    fputc('|', out);
    for (size_t c = 0; c < HF_ARRAY_LEN(md_columns); c++)
        fprintf(out, " %s |", md_columns[c].header);
    fputs("\n|", out);
    for (size_t c = 0; c < HF_ARRAY_LEN(md_columns); c++)
        fputs("---|", out);
    fputc('\n', out);
    for (size_t i = 0; i < cat->n; i++) {
        const struct milestone *m = &cat->ms[i];
        for (size_t k = 0; k < m->nmsgs; k++) {
            const struct md_row r = {cat, m, &m->msgs[k], k};
            fputc('|', out);
            for (size_t c = 0; c < HF_ARRAY_LEN(md_columns); c++) {
                fputc(' ', out);
                md_columns[c].cell(&r, out);
                fputs(" |", out);
            }
            fputc('\n', out);
        }
    }
}
