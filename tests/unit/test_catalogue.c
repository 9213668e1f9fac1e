/*
 * test_catalogue.c - the milestone catalogue: the real config/milestones.json
 * with the real templates/, the placeholder rules (catalogue_var_known), and
 * load errors on fixture catalogues under tests/fixtures/catalogue/ (their
 * templates under tests/fixtures/catalogue/templates/fx/).
 *
 * Run from the repository root (make test does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "catalogue_check.h"
#include "config.h"
#include "template.h"
#include "util.h"

#define REAL_CATALOGUE "config/milestones.json"
#define REAL_TEMPLATES "templates"
#define FX "tests/fixtures/catalogue/"
#define FX_TEMPLATES FX "templates"

static struct catalogue *real; /* the real catalogue, loaded once for the group */

/* ---- helpers ----------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    char err[512] = "";
    if (tz_set("Asia/Shanghai") != 0)
        return -1;
    real = catalogue_load(REAL_CATALOGUE, REAL_TEMPLATES, err, sizeof err);
    if (!real) {
        fprintf(stderr, "cannot load %s: %s\n", REAL_CATALOGUE, err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    catalogue_free(real);
    real = NULL;
    return 0;
}

static int reset_tz(void **state)
{
    (void)state;
    return tz_set("Asia/Shanghai");
}

static const struct milestone *real_ms(const char *id)
{
    const struct milestone *m = catalogue_find(real, id);
    if (!m)
        fail_msg("milestone %s missing from %s", id, REAL_CATALOGUE);
    return m;
}

/* Message @i of @m must be (@id, @kind, to the customer, @window, @day_offset,
 * no delay), with its template "<milestone>/<id>" loaded. */
static void expect_msg(const struct milestone *m, size_t i, const char *id, enum msg_kind kind,
                       enum window_class window, int day_offset)
{
    assert_true(i < m->nmsgs);
    const struct cat_message *cm = &m->msgs[i];
    char tname[128];
    snprintf(tname, sizeof tname, "%s/%s", m->id, id);
    assert_string_equal(cm->id, id);
    assert_int_equal(cm->kind, kind);
    assert_int_equal(cm->to, RCPT_CUSTOMER);
    assert_int_equal(cm->window, window);
    assert_int_equal(cm->day_offset, day_offset);
    assert_int_equal(cm->delay_ms, 0);
    assert_non_null(cm->tmpl);
    assert_string_equal(cm->tmpl->name, tname);
    assert_ptr_equal(milestone_find_message(m, id), cm);
    /* A notice never carries a survey link (the catalogue refuses it). The
     * "survey" messages are checked for their link by the callers:
     * rating_confirm is a reply-only survey ("是"/"否") without one. */
    if (kind == KIND_NOTICE)
        assert_false(msg_template_uses(cm->tmpl, "survey.link"));
    if (strcmp(id, "survey") == 0)
        assert_true(msg_template_uses(cm->tmpl, "survey.link"));
}

/* Loading fixture @file must fail with exactly "<FX file>: @rest". */
static void expect_load_error(const char *file, const char *rest)
{
    char path[256], want[1024], err[1024] = "";
    snprintf(path, sizeof path, FX "%s", file);
    snprintf(want, sizeof want, "%s: %s", path, rest);
    struct catalogue *c = catalogue_load(path, FX_TEMPLATES, err, sizeof err);
    if (c) {
        catalogue_free(c);
        fail_msg("%s loaded, expected the error: %s", path, want);
    }
    assert_string_equal(err, want);
}

/* Loading fixture @file must fail with a template error: exactly
 * "<FX_TEMPLATES>/@tmpl_rest (referenced by <FX file>: @where)". */
static void expect_template_error(const char *file, const char *tmpl_rest, const char *where)
{
    char path[256], want[1024], err[1024] = "";
    snprintf(path, sizeof path, FX "%s", file);
    snprintf(want, sizeof want, FX_TEMPLATES "/%s (referenced by %s: %s)", tmpl_rest, path, where);
    struct catalogue *c = catalogue_load(path, FX_TEMPLATES, err, sizeof err);
    if (c) {
        catalogue_free(c);
        fail_msg("%s loaded, expected the error: %s", path, want);
    }
    assert_string_equal(err, want);
}

/* ---- the real catalogue -------------------------------------------------- */

/* Every milestone of SPEC section 3 is in the shipped catalogue (campaigns
 * are triggers of their own, not catalogue milestones). */
static const char *const shipped_ids[] = {
    "material_inspection", "hidden_works_acceptance", "completion", "kickoff",
    "construction_day7", "construction_day15", "weekly_checkin", "complaint",
    "repair_request", "warranty_followup", "material_delivery_notice", "stage_acceptance",
    "completion_appointment", "settlement_invite", "praise_received", "repair_done",
    "visit_unsigned", "design_ready",
};

static void test_real_loads_the_seed_catalogue(void **state)
{
    (void)state;
    assert_true(real->n >= HF_ARRAY_LEN(shipped_ids));
    for (size_t i = 0; i < HF_ARRAY_LEN(shipped_ids); i++)
        if (!catalogue_find(real, shipped_ids[i]))
            fail_msg("milestone %s of SPEC section 3 is missing from %s", shipped_ids[i],
                     REAL_CATALOGUE);
    assert_null(catalogue_find(real, "kick_off"));
    /* Issue 5 item 4: refunds (seed 002 退单、退定金流程). */
    assert_non_null(catalogue_find(real, "refund_request"));
    assert_null(catalogue_find(real, ""));
    assert_null(catalogue_find(real, "Completion"));
}

/* The complaint milestone opens a ticket: it acknowledges the customer and
 * alerts the PM and the cs manager at once; escalation and the follow-up
 * survey are planned by ticket events, not by the trigger. */
static void test_real_complaint(void **state)
{
    (void)state;
    const struct milestone *m = real_ms("complaint");
    assert_true(m->opens_ticket);
    assert_int_equal(m->nvariables, 1);
    assert_string_equal(m->variables[0], "reason");
    const struct cat_message *ack = milestone_find_message(m, "ack");
    assert_int_equal(ack->kind, KIND_NOTICE);
    assert_null(ack->on);
    assert_int_equal(milestone_find_message(m, "alert_pm")->to, RCPT_PM);
    assert_int_equal(milestone_find_message(m, "alert_cs")->to, RCPT_CS_MANAGER);
    assert_string_equal(milestone_find_message(m, "escalation")->on, "escalation");
    const struct cat_message *f = milestone_find_message(m, "followup");
    assert_string_equal(f->on, "resolved");
    assert_string_equal(f->survey, "complaint_followup");
    assert_int_equal(f->delay_ms, 0); /* the delay is tickets.followup_after */
    assert_true(f->fatigue_exempt);
    assert_false(real_ms("completion")->opens_ticket);
    /* A repair request is a ticket too: acknowledged ("we will send someone
     * within 48 hours"), the PM alerted, its deadline tracked. */
    const struct milestone *r = real_ms("repair_request");
    assert_true(r->opens_ticket);
    assert_int_equal(milestone_find_message(r, "ack")->kind, KIND_NOTICE);
    assert_int_equal(milestone_find_message(r, "alert_pm")->to, RCPT_PM);
    assert_string_equal(milestone_find_message(r, "escalation")->on, "escalation");
    assert_string_equal(milestone_find_message(real_ms("completion"), "rating_confirm")->survey,
                        "completion_rating");
}

static void test_real_material_inspection(void **state)
{
    (void)state;
    const struct milestone *m = real_ms("material_inspection");
    assert_string_equal(m->name, "材料进场验收");
    assert_int_equal(m->nvariables, 0);
    assert_int_equal(m->nmsgs, 2);
    expect_msg(m, 0, "notice", KIND_NOTICE, WINCLASS_NOTICE, 0);
    expect_msg(m, 1, "survey", KIND_SURVEY, WINCLASS_SURVEY, 0);
    assert_null(milestone_find_message(m, "rating_confirm"));
}

static void test_real_hidden_works_acceptance(void **state)
{
    (void)state;
    const struct milestone *m = real_ms("hidden_works_acceptance");
    assert_string_equal(m->name, "隐蔽工程(水电)验收");
    assert_int_equal(m->nvariables, 0);
    assert_int_equal(m->nmsgs, 2);
    expect_msg(m, 0, "notice", KIND_NOTICE, WINCLASS_NOTICE, 0);
    expect_msg(m, 1, "survey", KIND_SURVEY, WINCLASS_SURVEY, 0);
}

static void test_real_completion(void **state)
{
    (void)state;
    const struct milestone *m = real_ms("completion");
    assert_string_equal(m->name, "竣工验收");
    assert_int_equal(m->nvariables, 0);
    assert_int_equal(m->nmsgs, 3);
    expect_msg(m, 0, "notice", KIND_NOTICE, WINCLASS_NOTICE, 0);
    expect_msg(m, 1, "survey", KIND_SURVEY, WINCLASS_SURVEY, 0);
    expect_msg(m, 2, "rating_confirm", KIND_SURVEY, WINCLASS_SURVEY, 1);
    /* The completion survey carries the seed's 1-10 score question. */
    assert_true(m->msgs[1].tmpl->sms.present);
    assert_true(m->msgs[1].tmpl->wechat.present);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(msg_kind_name(KIND_NOTICE), "notice");
    assert_string_equal(msg_kind_name(KIND_SURVEY), "survey");
    assert_string_equal(msg_kind_name(KIND_ALERT), "alert");
    assert_string_equal(recipient_role_name(RCPT_CUSTOMER), "customer");
    assert_string_equal(recipient_role_name(RCPT_PM), "pm");
    assert_string_equal(recipient_role_name(RCPT_DESIGNER), "designer");
    assert_string_equal(recipient_role_name(RCPT_FOREMAN), "foreman");
    assert_string_equal(recipient_role_name(RCPT_SUPERVISOR), "supervisor");
    assert_string_equal(window_class_name(WINCLASS_NOTICE), "notice");
    assert_string_equal(window_class_name(WINCLASS_SURVEY), "survey");
    assert_string_equal(window_class_name(WINCLASS_ANY), "any");
    enum window_class w = WINCLASS_ANY;
    assert_int_equal(window_class_parse("survey", &w), 0);
    assert_int_equal(w, WINCLASS_SURVEY);
    assert_int_equal(window_class_parse("notice", &w), 0);
    assert_int_equal(w, WINCLASS_NOTICE);
    assert_int_equal(window_class_parse("any", &w), 0);
    assert_int_equal(w, WINCLASS_ANY);
    w = WINCLASS_SURVEY;
    assert_int_equal(window_class_parse("Survey", &w), -1);
    assert_int_equal(window_class_parse("", &w), -1);
    assert_int_equal(w, WINCLASS_SURVEY); /* untouched on error */
}

/* ---- catalogue_var_known --------------------------------------------------- */

static void test_var_known_common(void **state)
{
    (void)state;
    const struct milestone *m = real_ms("completion");
    static const char *const common[] = {
        "company.name", "company.phone", "customer.name", "customer.title", "project.id",
        "project.address", "project.kickoff_date", "staff.pm.name", "staff.pm.phone",
        "staff.designer.name", "staff.designer.phone", "staff.foreman.name",
        "staff.foreman.phone", "staff.supervisor.name", "staff.supervisor.phone",
        "milestone.id", "milestone.name", "occurred.date", "occurred.time",
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(common); i++) {
        for (int k = KIND_NOTICE; k <= KIND_ALERT; k++) {
            if (!catalogue_var_known(m, (enum msg_kind)k, common[i]))
                fail_msg("%s should be known to %s messages", common[i],
                         msg_kind_name((enum msg_kind)k));
        }
    }
    /* Near misses are unknown everywhere. */
    static const char *const unknown[] = {"customer.nmae", "customer", "staff.boss.name",
                                          "company", "", "survey", "vars.", "occurred.at"};
    for (size_t i = 0; i < HF_ARRAY_LEN(unknown); i++)
        for (int k = KIND_NOTICE; k <= KIND_ALERT; k++)
            if (catalogue_var_known(m, (enum msg_kind)k, unknown[i]))
                fail_msg("'%s' should be unknown to %s messages", unknown[i],
                         msg_kind_name((enum msg_kind)k));
}

static void test_var_known_survey_link_only_for_surveys(void **state)
{
    (void)state;
    const struct milestone *m = real_ms("completion");
    assert_true(catalogue_var_known(m, KIND_SURVEY, "survey.link"));
    assert_true(catalogue_var_known(m, KIND_SURVEY, "survey.expires"));
    assert_false(catalogue_var_known(m, KIND_NOTICE, "survey.link"));
    assert_false(catalogue_var_known(m, KIND_NOTICE, "survey.expires"));
    assert_false(catalogue_var_known(m, KIND_ALERT, "survey.link"));
    assert_false(catalogue_var_known(m, KIND_ALERT, "survey.expires"));
}

static void test_var_known_mobile_only_for_alerts(void **state)
{
    (void)state;
    const struct milestone *m = real_ms("material_inspection");
    assert_true(catalogue_var_known(m, KIND_ALERT, "customer.mobile"));
    assert_false(catalogue_var_known(m, KIND_NOTICE, "customer.mobile"));
    assert_false(catalogue_var_known(m, KIND_SURVEY, "customer.mobile"));
}

static void test_var_known_declared_variables_only(void **state)
{
    (void)state;
    char err[512] = "";
    struct catalogue *c = catalogue_load(FX "valid.json", FX_TEMPLATES, err, sizeof err);
    if (!c)
        fail_msg("fixture did not load: %s", err);
    const struct milestone *fx = catalogue_find(c, "fx");
    assert_non_null(fx);
    assert_int_equal(fx->nvariables, 1);
    assert_string_equal(fx->variables[0], "stage");
    for (int k = KIND_NOTICE; k <= KIND_ALERT; k++) {
        assert_true(catalogue_var_known(fx, (enum msg_kind)k, "vars.stage"));
        assert_false(catalogue_var_known(fx, (enum msg_kind)k, "vars.room"));
        assert_false(catalogue_var_known(fx, (enum msg_kind)k, "vars.stag"));
        assert_false(catalogue_var_known(fx, (enum msg_kind)k, "vars.stages"));
        assert_false(catalogue_var_known(fx, (enum msg_kind)k, "stage"));
    }
    /* The real milestones declare no variables. */
    const struct milestone *m = real_ms("completion");
    assert_false(catalogue_var_known(m, KIND_NOTICE, "vars.stage"));
    catalogue_free(c);
}

/* ---- a valid fixture: defaults and every kind ------------------------------ */

static void test_fixture_defaults(void **state)
{
    (void)state;
    char err[512] = "";
    struct catalogue *c = catalogue_load(FX "valid.json", FX_TEMPLATES, err, sizeof err);
    if (!c)
        fail_msg("fixture did not load: %s", err);
    assert_int_equal(c->n, 1);
    const struct milestone *fx = catalogue_find(c, "fx");
    assert_non_null(fx);
    assert_string_equal(fx->name, "测试节点");
    assert_int_equal(fx->nmsgs, 5);

    const struct cat_message *a = milestone_find_message(fx, "pm_alert");
    assert_non_null(a);
    assert_int_equal(a->kind, KIND_ALERT);
    assert_int_equal(a->to, RCPT_PM);
    assert_int_equal(a->window, WINCLASS_ANY); /* default window of an alert */
    assert_string_equal(a->tmpl->name, "fx/alert");
    assert_true(msg_template_uses(a->tmpl, "customer.mobile"));

    const struct cat_message *n = milestone_find_message(fx, "notice");
    assert_int_equal(n->window, WINCLASS_NOTICE); /* default window of a notice */
    assert_string_equal(n->tmpl->name, "fx/notice_stage");
    assert_true(msg_template_uses(n->tmpl, "vars.stage"));

    const struct cat_message *s = milestone_find_message(fx, "survey");
    assert_int_equal(s->window, WINCLASS_SURVEY); /* default window of a survey */

    const struct cat_message *l = milestone_find_message(fx, "later");
    assert_int_equal(l->delay_ms, 2 * 3600 * 1000);
    assert_int_equal(l->day_offset, 0);

    const struct cat_message *nm = milestone_find_message(fx, "next_morning");
    assert_int_equal(nm->delay_ms, 10 * 3600 * 1000);
    assert_int_equal(nm->day_offset, 1);
    catalogue_free(c);
}

static void test_sixteen_messages_load(void **state)
{
    (void)state;
    char err[512] = "";
    struct catalogue *c = catalogue_load(FX "sixteen_messages.json", FX_TEMPLATES, err, sizeof err);
    if (!c)
        fail_msg("16 messages (the maximum) must load: %s", err);
    assert_int_equal(c->ms[0].nmsgs, CATALOGUE_MAX_MESSAGES);
    assert_int_equal(c->ms[0].msgs[15].delay_ms, 16 * 60 * 1000);
    catalogue_free(c);
}

/* ---- load errors: file, key, reason ---------------------------------------- */

static void test_error_missing_file(void **state)
{
    (void)state;
    char err[512] = "";
    assert_null(catalogue_load(FX "no_such_file.json", FX_TEMPLATES, err, sizeof err));
    assert_string_equal(err, FX "no_such_file.json: cannot open: No such file or directory");
}

static void test_error_unknown_key_in_message(void **state)
{
    (void)state;
    expect_load_error("unknown_key.json", "milestones.fx.messages[0].colour: unknown key");
}

static void test_error_unknown_key_in_milestone(void **state)
{
    (void)state;
    expect_load_error("unknown_key_milestone.json", "milestones.fx.title: unknown key");
}

static void test_error_bad_kind(void **state)
{
    (void)state;
    expect_load_error("bad_kind.json",
                      "milestones.fx.messages[1].kind: must be notice, survey or alert");
}

static void test_error_alert_to_customer(void **state)
{
    (void)state;
    expect_load_error("alert_to_customer.json",
                      "milestones.fx.messages[0].to: alerts go to staff, notices and surveys to "
                      "the customer");
}

static void test_error_notice_to_staff(void **state)
{
    (void)state;
    expect_load_error("notice_to_staff.json",
                      "milestones.fx.messages[0].to: alerts go to staff, notices and surveys to "
                      "the customer");
}

static void test_error_survey_window_any(void **state)
{
    (void)state;
    expect_load_error("survey_any_window.json",
                      "milestones.fx.messages[0].window: customers are never messaged at any hour");
}

static void test_error_duplicate_message_id(void **state)
{
    (void)state;
    expect_load_error("duplicate_id.json",
                      "milestones.fx.messages[1].id: 'notice' is used twice");
}

static void test_error_template_missing(void **state)
{
    (void)state;
    expect_template_error("missing_template.json",
                          "fx/does_not_exist.json: cannot open: No such file or directory",
                          "milestones.fx.messages[0]");
}

static void test_error_unknown_placeholder(void **state)
{
    (void)state;
    /* Names the template file, the key inside it, the placeholder, and the
     * catalogue file + milestone + message that referenced the template. */
    expect_template_error("unknown_placeholder.json",
                          "fx/bad_placeholder.json: text: unknown placeholder {{customer.nmae}}",
                          "milestones.fx.messages[0]");
}

static void test_error_notice_uses_survey_link(void **state)
{
    (void)state;
    expect_template_error("notice_uses_survey_link.json",
                          "fx/survey.json: text: unknown placeholder {{survey.link}}",
                          "milestones.fx.messages[0]");
}

static void test_error_notice_uses_mobile(void **state)
{
    (void)state;
    expect_template_error("notice_uses_mobile.json",
                          "fx/alert.json: text: unknown placeholder {{customer.mobile}}",
                          "milestones.fx.messages[0]");
}

static void test_error_undeclared_variable(void **state)
{
    (void)state;
    expect_template_error("undeclared_variable.json",
                          "fx/notice_stage.json: text: unknown placeholder {{vars.stage}}",
                          "milestones.fx.messages[0]");
}

static void test_error_too_many_messages(void **state)
{
    (void)state;
    expect_load_error("too_many_messages.json",
                      "milestones.fx.messages: must be an array of 1 to 16 messages");
}

static void test_error_bad_delay(void **state)
{
    (void)state;
    expect_load_error("bad_delay.json",
                      "milestones.fx.messages[0].delay: must be a duration such as \"0\", \"2h\", "
                      "\"1d\"");
}

/* "after" may only name an earlier message: the plan computes in order. */
static void test_error_after_names_later_message(void **state)
{
    (void)state;
    expect_load_error("bad_after.json",
                      "milestones.fx.messages[0].after: must name an earlier message of this "
                      "milestone");
}

static void test_error_bad_day_offset(void **state)
{
    (void)state;
    expect_load_error("bad_day_offset.json",
                      "milestones.fx.messages[0].day_offset: must be a whole number of days "
                      "0..3650");
}

/* A milestone id written twice in the file: cJSON keeps both members, so
 * without a check the second one is loaded but catalogue_find() can never
 * return it. The loader must refuse the file and name the id. */
static void test_error_duplicate_milestone_id(void **state)
{
    (void)state;
    char err[512] = "";
    struct catalogue *c = catalogue_load(FX "duplicate_milestone.json", FX_TEMPLATES, err,
                                         sizeof err);
    if (c) {
        size_t n = c->n;
        catalogue_free(c);
        fail_msg("a catalogue with milestone 'fx' twice loaded (%zu milestones); expected an "
                 "error naming milestones.fx",
                 n);
    }
    assert_true(strncmp(err, FX "duplicate_milestone.json: milestones.fx",
                        strlen(FX "duplicate_milestone.json: milestones.fx")) == 0);
}

/* ---- the seed milestones, table-driven ------------------------------------- */

struct seed_ms {
    const char *id;
    const char *name;
    const char *vars[3];        /* declared trigger variables, NULL-terminated */
    const char *msg;            /* its one message */
    enum msg_kind kind;
    int day_offset;
    const char *survey;         /* survey definition, NULL for notices */
    int fatigue_exempt;
};

static const struct seed_ms seed_ms_table[] = {
    {"kickoff", "开工交底", {NULL}, "survey", KIND_SURVEY, 0, "kickoff", 0},
    {"material_delivery_notice", "材料进场邀约", {"start_date", "inspection_date", NULL},
     "notice", KIND_NOTICE, 0, NULL, 0},
    {"stage_acceptance", "阶段验收", {"stage", NULL}, "survey", KIND_SURVEY, 0,
     "stage_acceptance", 0},
    {"completion_appointment", "约验收", {NULL}, "notice", KIND_NOTICE, 0, NULL, 0},
    {"settlement_invite", "结算邀请", {NULL}, "notice", KIND_NOTICE, 0, NULL, 0},
    {"praise_received", "锦旗/表扬信核实", {"praise", NULL}, "survey", KIND_SURVEY, 0,
     "praise_verification", 0},
    {"repair_done", "维修完成", {NULL}, "survey", KIND_SURVEY, 1, "repair_done", 1},
    {"visit_unsigned", "到店未签单", {NULL}, "survey", KIND_SURVEY, 1, "visit_unsigned", 0},
    {"design_ready", "设计效果图邀约", {NULL}, "notice", KIND_NOTICE, 0, NULL, 0},
};

static void test_real_seed_milestones(void **state)
{
    (void)state;
    for (size_t i = 0; i < HF_ARRAY_LEN(seed_ms_table); i++) {
        const struct seed_ms *w = &seed_ms_table[i];
        const struct milestone *m = real_ms(w->id);
        print_message("%s\n", w->id);
        assert_string_equal(m->name, w->name);
        assert_false(m->opens_ticket);
        size_t nv = 0;
        while (w->vars[nv])
            nv++;
        assert_int_equal(m->nvariables, nv);
        for (size_t v = 0; v < nv; v++)
            assert_string_equal(m->variables[v], w->vars[v]);
        /* praise_received also thanks a customer who confirms (answered_ok) */
        int praise = strcmp(w->id, "praise_received") == 0;
        assert_int_equal(m->nmsgs, praise ? 2 : 1);
        if (praise) {
            expect_msg(m, 1, "thanks", KIND_NOTICE, WINCLASS_NOTICE, 0);
            assert_string_equal(m->msgs[1].on, "answered_ok");
        }
        expect_msg(m, 0, w->msg, w->kind,
                   w->kind == KIND_SURVEY ? WINCLASS_SURVEY : WINCLASS_NOTICE, w->day_offset);
        assert_int_equal(m->msgs[0].after, -1);
        assert_null(m->msgs[0].on);
        assert_int_equal(m->msgs[0].fatigue_exempt, w->fatigue_exempt);
        if (w->survey)
            assert_string_equal(m->msgs[0].survey, w->survey);
        else
            assert_null(m->msgs[0].survey);
        /* Every seed text reaches the customer on all three channels and
         * names the company's service phone. */
        const struct msg_template *t = m->msgs[0].tmpl;
        assert_true(t->sms.present);
        assert_true(t->wechat.present);
        assert_true(tmpl_uses(t->text, "company.phone"));
        assert_true(tmpl_uses(t->text, "customer.name"));
        for (size_t v = 0; v < nv; v++) {
            char name[64];
            snprintf(name, sizeof name, "vars.%s", w->vars[v]);
            assert_true(msg_template_uses(t, name));
        }
    }
}

/* ---- the catalogue check: sample rendering and SMS parts --------------------- */

static struct config *check_config(void)
{
    struct config *c = xcalloc(1, sizeof *c);
    c->company_name = xstrdup("安居装饰");
    c->company_phone = xstrdup("400-800-1234");
    c->sms_sign_name = xstrdup("安居装饰");
    c->public_url = xstrdup("http://127.0.0.1:8080");
    c->survey_secret = xstrdup("test-survey-secret-0123456789");
    c->templates_dir = xstrdup(REAL_TEMPLATES);
    c->catalogue_path = xstrdup(REAL_CATALOGUE);
    return c;
}

static void check_config_free(struct config *c)
{
    free(c->company_name);
    free(c->company_phone);
    free(c->sms_sign_name);
    free(c->public_url);
    free(c->survey_secret);
    free(c->templates_dir);
    free(c->catalogue_path);
    free(c);
}

/* Every shipped SMS preview, rendered with the sample trigger, fits the
 * parts its template declares, and the check finds nothing else. */
static void test_shipped_sms_previews_fit(void **state)
{
    (void)state;
    struct config *cfg = check_config();
    char *errs = NULL, *outs = NULL;
    size_t errlen = 0, outlen = 0;
    FILE *err = open_memstream(&errs, &errlen);
    FILE *out = open_memstream(&outs, &outlen);
    int problems = catalogue_check(cfg, real, out, err);
    fclose(err);
    fclose(out);
    if (problems != 0)
        fail_msg("%d problems in the shipped catalogue:\n%s", problems, errs);
    assert_int_equal(errlen, 0);
    /* One line per SMS template, each with its length and parts. */
    size_t sms_templates = 0;
    for (size_t i = 0; i < real->n; i++) {
        const struct milestone *m = &real->ms[i];
        for (size_t k = 0; k < m->nmsgs; k++) {
            const struct msg_template *t = m->msgs[k].tmpl;
            if (!t->sms.present)
                continue;
            sms_templates++;
            cJSON *r = catalogue_check_render(cfg, m, t);
            const cJSON *sms = cJSON_GetObjectItemCaseSensitive(r, "sms");
            int segments = cJSON_GetObjectItemCaseSensitive(sms, "segments")->valueint;
            if (segments > t->sms.parts)
                fail_msg("%s: %d parts > declared %d", t->name, segments, t->sms.parts);
            char label[128];
            snprintf(label, sizeof label, "sms %s.%s: ", m->id, m->msgs[k].id);
            assert_non_null(strstr(outs, label));
            cJSON_Delete(r);
        }
    }
    assert_true(sms_templates >= 20);
    free(errs);
    free(outs);
    check_config_free(cfg);
}

/* The sample trigger is realistic: a 3-character name, the 30-character
 * address, a full survey link on public_url; lengths count the 【sign】. */
static void test_check_sample_values(void **state)
{
    (void)state;
    struct config *cfg = check_config();
    const struct milestone *m = real_ms("kickoff");
    cJSON *r = catalogue_check_render(cfg, m, m->msgs[0].tmpl);
    const cJSON *sms = cJSON_GetObjectItemCaseSensitive(r, "sms");
    const char *preview = cJSON_GetObjectItemCaseSensitive(sms, "preview")->valuestring;
    assert_true(strncmp(preview, "王建国先生您好，", strlen("王建国先生您好，")) == 0);
    const char *link = strstr(preview, "http://127.0.0.1:8080/s/99999999.");
    assert_non_null(link);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sms, "length")->valueint,
                     (int)(utf8_chars(preview) + 6)); /* + 【安居装饰】 */
    const char *text = cJSON_GetObjectItemCaseSensitive(r, "text")->valuestring;
    assert_non_null(strstr(text, "（上海市浦东新区锦绣路1088弄翠湖天地3期12号楼1502室）"));
    assert_int_equal(utf8_chars("上海市浦东新区锦绣路1088弄翠湖天地3期12号楼1502室"), 30);
    assert_non_null(strstr(text, "项目经理李志强"));
    cJSON_Delete(r);

    const struct milestone *s = real_ms("stage_acceptance");
    r = catalogue_check_render(cfg, s, s->msgs[0].tmpl);
    text = cJSON_GetObjectItemCaseSensitive(r, "text")->valuestring;
    assert_non_null(strstr(text, "的油漆工程已于12月28日完成阶段验收"));
    cJSON_Delete(r);
    check_config_free(cfg);
}

static int fx_known(void *arg, const char *name)
{
    const struct known_fx {
        const struct milestone *m;
        enum msg_kind kind;
    } *k = arg;
    return catalogue_var_known(k->m, k->kind, name);
}

/* Check @file (under FX_TEMPLATES/fx/) as a notice of a milestone without
 * variables; returns the problem count, the problem lines in @errs. */
static int check_fx(const char *file, char *errs, size_t errs_size)
{
    struct milestone m = {.id = "fx", .name = "测试节点"};
    struct {
        const struct milestone *m;
        enum msg_kind kind;
    } k = {&m, KIND_NOTICE};
    char path[256], err[512] = "";
    snprintf(path, sizeof path, FX_TEMPLATES "/fx/%s", file);
    struct msg_template *t = msg_template_load(path, "fx/x", fx_known, &k, err, sizeof err);
    if (!t)
        fail_msg("%s did not load: %s", path, err);
    struct config *cfg = check_config();
    FILE *e = fmemopen(errs, errs_size, "w");
    int n = catalogue_check_template(cfg, &m, t, "fx.x", path, NULL, e);
    fclose(e);
    check_config_free(cfg);
    msg_template_free(t);
    return n;
}

static void test_check_refuses_preview_over_its_parts(void **state)
{
    (void)state;
    char errs[1024] = "";
    assert_int_equal(check_fx("sms_too_long.json", errs, sizeof errs), 1);
    assert_string_equal(errs, FX_TEMPLATES "/fx/sms_too_long.json: sms.preview: 73 characters "
                              "with 【安居装饰】 need 2 SMS parts, sms.parts declares 1 "
                              "(shorten the text or raise sms.parts)\n");
}

static void test_check_refuses_param_missing_from_preview(void **state)
{
    (void)state;
    char errs[1024] = "";
    assert_int_equal(check_fx("sms_unused_param.json", errs, sizeof errs), 1);
    assert_string_equal(errs, FX_TEMPLATES "/fx/sms_unused_param.json: sms.params.date: its "
                              "sample value '12月28日' does not appear in sms.preview (the "
                              "preview is the provider template with the parameters filled "
                              "in)\n");
}

static void test_template_parts_must_be_positive(void **state)
{
    (void)state;
    struct milestone m = {.id = "fx", .name = "测试节点"};
    struct {
        const struct milestone *m;
        enum msg_kind kind;
    } k = {&m, KIND_NOTICE};
    char err[512] = "";
    assert_null(msg_template_load(FX_TEMPLATES "/fx/sms_bad_parts.json", NULL, fx_known, &k, err,
                                  sizeof err));
    assert_string_equal(err, FX_TEMPLATES "/fx/sms_bad_parts.json: sms.parts: must be a whole "
                             "number of SMS parts 1..8");
}

/* Templates the engine wires to its own catalogue entries (schedules,
 * campaigns, the praise "yes"): they load as their kind with their
 * variables, and their SMS fits the declared parts. */
static const struct {
    const char *file;     /* under templates/ */
    enum msg_kind kind;
    const char *vars[4];
} engine_templates[] = {
    {"construction_day7/survey", KIND_SURVEY, {NULL}},
    {"construction_day15/survey", KIND_SURVEY, {NULL}},
    {"weekly_checkin/survey", KIND_SURVEY, {NULL}},
    {"warranty_followup/survey", KIND_SURVEY, {"scope", NULL}},
    {"campaign/notice", KIND_NOTICE, {"title", "detail", "date", NULL}},
    {"praise_received/thanks", KIND_NOTICE, {"praise", NULL}},
};

static void test_engine_templates(void **state)
{
    (void)state;
    struct config *cfg = check_config();
    for (size_t i = 0; i < HF_ARRAY_LEN(engine_templates); i++) {
        char *vars[4] = {NULL};
        size_t nv = 0;
        while (engine_templates[i].vars[nv]) {
            vars[nv] = (char *)engine_templates[i].vars[nv];
            nv++;
        }
        struct milestone m = {.id = "engine", .name = "测试", .variables = vars,
                              .nvariables = nv};
        struct {
            const struct milestone *m;
            enum msg_kind kind;
        } k = {&m, engine_templates[i].kind};
        char path[256], err[512] = "", errs[2048] = "";
        snprintf(path, sizeof path, REAL_TEMPLATES "/%s.json", engine_templates[i].file);
        struct msg_template *t = msg_template_load(path, engine_templates[i].file, fx_known, &k,
                                                   err, sizeof err);
        if (!t)
            fail_msg("%s: %s", path, err);
        assert_true(t->sms.present && t->wechat.present);
        assert_true(tmpl_uses(t->text, "company.phone"));
        assert_int_equal(msg_template_uses(t, "survey.link"),
                         engine_templates[i].kind == KIND_SURVEY);
        for (size_t v = 0; v < nv; v++) {
            char name[64];
            snprintf(name, sizeof name, "vars.%s", vars[v]);
            if (!msg_template_uses(t, name))
                fail_msg("%s does not use {{%s}}", path, name);
        }
        FILE *e = fmemopen(errs, sizeof errs, "w");
        int n = catalogue_check_template(cfg, &m, t, engine_templates[i].file, path, NULL, e);
        fclose(e);
        if (n != 0)
            fail_msg("%s", errs);
        msg_template_free(t);
    }
    check_config_free(cfg);
}

/* The README table: one row per message, "when" spelled from delay,
 * day_offset, after and on. */
static void test_markdown_rows(void **state)
{
    (void)state;
    char err[512] = "", *md = NULL;
    size_t len = 0;
    struct catalogue *c = catalogue_load(FX "valid.json", FX_TEMPLATES, err, sizeof err);
    if (!c)
        fail_msg("fixture did not load: %s", err);
    FILE *f = open_memstream(&md, &len);
    catalogue_markdown(c, f);
    fclose(f);
    assert_true(strncmp(md, "| id | 中文名 | message | what is sent, to whom | when | window |\n"
                            "|---|---|---|---|---|---|\n",
                        strlen("| id | 中文名 | message | what is sent, to whom | when | window |\n"
                               "|---|---|---|---|---|---|\n")) == 0);
    assert_non_null(strstr(md, "\n| `fx` | 测试节点<br>`vars.stage` | "));
    assert_non_null(strstr(md, "| `later` | notice to customer | 2h after the trigger | "
                               "notice hours |\n"));
    assert_non_null(strstr(md, "| `next_morning` | notice to customer | the day after the "
                               "trigger +10h | notice hours |\n"));
    assert_non_null(strstr(md, "| `pm_alert` | alert to pm | on the trigger | any time |\n"));
    catalogue_free(c);
    free(md);

    f = open_memstream(&md, &len);
    catalogue_markdown(real, f);
    fclose(f);
    assert_non_null(strstr(md, "|  |  | `rating_confirm` | survey `completion_rating` to customer "
                               "| the day after `survey` | survey hours, working days |\n"));
    assert_non_null(strstr(md, "| `escalation` | alert to cs_manager | when the ticket is "
                               "overdue | any time |\n"));
    assert_non_null(strstr(md, "| `stage_acceptance` | 阶段验收<br>`vars.stage` | `survey` | "
                               "survey `stage_acceptance` to customer | on the trigger | survey "
                               "hours, working days |\n"));
    /* Milestones planned by another one's schedules say so; "ends" is shown. */
    assert_non_null(strstr(md, "| survey `construction_day7` to customer | day 7 from the kickoff "
                               "date (`kickoff`) |"));
    assert_non_null(strstr(md, "| every 7 days, 26 times, from the kickoff date (`kickoff`) |"));
    assert_non_null(strstr(md, "| `completion` | 竣工验收<br>ends `weekly_checkin`, "));
    /* Staff tasks and their clocks (the refund procedure). */
    assert_non_null(strstr(md, "<br>staff tasks: `contact` cs_manager 2h, "));
    assert_non_null(strstr(md, "| before each staff task's due time |"));
    assert_non_null(strstr(md, "| when a staff task is overdue |"));
    /* One row per message. */
    size_t rows = 0, msgs = 0;
    for (const char *p = md; (p = strchr(p, '\n')) != NULL; p++)
        rows++;
    for (size_t i = 0; i < real->n; i++)
        msgs += real->ms[i].nmsgs;
    assert_int_equal(rows, msgs + 2);
    free(md);
}

/* ---- staff tasks (the refund procedure, seed 002 退单、退定金流程 6.4-6.8) ---- */

/* refund_request: the acknowledgement and the cs manager's alert go with
 * the trigger; the reminder and escalation only on the task clocks; the
 * tasks carry the seed's deadlines and roles, the two private-job checks
 * counting from the paperwork (the refund takes effect). */
static void test_real_refund_request(void **state)
{
    (void)state;
    const struct milestone *m = real_ms("refund_request");
    assert_string_equal(m->name, "退单/退定金申请");
    assert_false(m->opens_ticket);
    assert_int_equal(m->nvariables, 2);
    assert_string_equal(m->variables[0], "reason");
    assert_string_equal(m->variables[1], "kind");
    expect_msg(m, 0, "ack", KIND_NOTICE, WINCLASS_NOTICE, 0);
    assert_null(m->msgs[0].on);
    const struct cat_message *due = milestone_message_on(m, "task_due");
    const struct cat_message *over = milestone_message_on(m, "task_overdue");
    assert_non_null(due);
    assert_non_null(over);
    assert_int_equal(due->kind, KIND_ALERT);
    assert_int_equal(over->to, RCPT_CS_MANAGER);
    assert_true(msg_template_uses(due->tmpl, "task.title"));
    assert_true(msg_template_uses(due->tmpl, "task.due"));
    assert_true(msg_template_uses(over->tmpl, "task.role"));
    assert_null(milestone_message_on(m, "escalation"));

    static const struct {
        const char *id;
        enum recipient_role to;
        int64_t due_h;
        const char *after;
        int note_required;
    } want[] = {
        {"contact", RCPT_CS_MANAGER, 2, NULL, 0},          /* 6.4 */
        {"handling_plan", RCPT_CS_MANAGER, 48, NULL, 0},   /* 6.5 */
        {"site_verification", RCPT_SUPERVISOR, 48, NULL, 0}, /* 6.6.1 */
        {"paperwork", RCPT_CS_MANAGER, 5 * 24, NULL, 0},   /* 6.7.1 */
        {"refund_collected", RCPT_CS_MANAGER, 7 * 24, NULL, 0}, /* 6.8.2 */
        {"private_check_1", RCPT_SUPERVISOR, 15 * 24, "paperwork", 1}, /* 6.7.2, 6.7.3 */
        {"private_check_2", RCPT_SUPERVISOR, 40 * 24, "paperwork", 1},
    };
    assert_int_equal(m->ntasks, HF_ARRAY_LEN(want));
    for (size_t i = 0; i < HF_ARRAY_LEN(want); i++) {
        const struct cat_task *t = &m->tasks[i];
        assert_string_equal(t->id, want[i].id);
        assert_int_equal(t->to, want[i].to);
        assert_int_equal(t->due_ms, want[i].due_h * 3600 * 1000);
        assert_true(strlen(t->title) > 0);
        /* Default reminder: a quarter of the span, at most a day ahead. */
        int64_t q = t->due_ms / 4;
        assert_int_equal(t->remind_ms, q < 86400000 ? q : 86400000);
        if (want[i].after)
            assert_string_equal(m->tasks[t->after].id, want[i].after);
        else
            assert_int_equal(t->after, -1);
        assert_int_equal(t->note_required, want[i].note_required);
    }
}

/* The task variables are for staff alerts only. */
static void test_var_known_task_vars_only_for_alerts(void **state)
{
    (void)state;
    const struct milestone *m = real_ms("refund_request");
    static const char *const names[] = {"task.id", "task.title", "task.due", "task.role"};
    for (size_t i = 0; i < HF_ARRAY_LEN(names); i++) {
        assert_true(catalogue_var_known(m, KIND_ALERT, names[i]));
        assert_false(catalogue_var_known(m, KIND_NOTICE, names[i]));
        assert_false(catalogue_var_known(m, KIND_SURVEY, names[i]));
    }
    assert_false(catalogue_var_known(m, KIND_ALERT, "task.note"));
}

/* Each broken "tasks" key is refused naming the file, the key and why. */
static void test_error_tasks(void **state)
{
    (void)state;
    static const struct {
        const char *file, *rest;
    } cases[] = {
        {"tasks_bad_after.json",
         "milestones.fx.tasks[0].after: must name an earlier task of this milestone"},
        {"tasks_to_customer.json",
         "milestones.fx.tasks[0].to: must be pm, designer, foreman, supervisor or cs_manager"},
        {"tasks_bad_due.json",
         "milestones.fx.tasks[0].due: must be a duration of at least 1s, e.g. \"2h\", \"5d\""},
        {"tasks_remind_too_long.json",
         "milestones.fx.tasks[0].remind: must be a duration no longer than due"},
        {"tasks_duplicate_id.json", "milestones.fx.tasks[1].id: 'a' is used twice"},
        {"tasks_unknown_key.json", "milestones.fx.tasks[0].deadline: unknown key"},
        {"tasks_no_title.json", "milestones.fx.tasks[0].title: must be 1 to 100 characters"},
        {"task_alert_without_tasks.json",
         "milestones.fx.messages[0].on: \"task_due\" needs the milestone's tasks"},
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(cases); i++)
        expect_load_error(cases[i].file, cases[i].rest);
}

/* Schedules and "ends" name milestones of the catalogue; a scheduled
 * milestone schedules nothing itself and gets every variable it needs. */
static void test_schedule_errors(void **state)
{
    (void)state;
    expect_load_error("schedule_unknown_milestone.json",
                      "milestones.fx.schedules[0].milestone: 'nope' is not in the catalogue");
    expect_load_error("schedule_itself.json",
                      "milestones.fx.schedules[0].milestone: 'fx' cannot schedule itself");
    expect_load_error("schedule_chain.json",
                      "milestones.fx.schedules[0].milestone: 'a' has schedules or opens tickets: "
                      "it cannot be scheduled");
    expect_load_error("schedule_both.json",
                      "milestones.fx.schedules[0]: give either at_days or every_days with count");
    expect_load_error("schedule_days_order.json",
                      "milestones.fx.schedules[0].at_days: whole days 0..3650 in ascending "
                      "order, each once");
    expect_load_error("schedule_bad_from.json",
                      "milestones.fx.schedules[0].from: must be \"kickoff_date\" or \"occurred\"");
    expect_load_error("schedule_missing_variable.json",
                      "milestones.fx.schedules[0].variables: 'a' needs 'stage'");
    expect_load_error("campaign_survey.json",
                      "milestones.fx.messages[0].kind: a campaign sends notices to its customers only");
    expect_load_error("campaign_ends.json",
                      "milestones.fx.campaign: a campaign has no schedules, ends or tickets");
    expect_load_error("ends_unknown.json", "milestones.fx.ends: 'nope' is not in the catalogue");
    expect_load_error("ends_star_mixed.json",
                      "milestones.fx.ends: must be an array of milestone ids, or [\"*\"] alone");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, reset_tz, reset_tz)
    const struct CMUnitTest tests[] = {
        T(test_real_loads_the_seed_catalogue),
        T(test_real_seed_milestones),
        T(test_shipped_sms_previews_fit),
        T(test_check_sample_values),
        T(test_check_refuses_preview_over_its_parts),
        T(test_check_refuses_param_missing_from_preview),
        T(test_template_parts_must_be_positive),
        T(test_engine_templates),
        T(test_markdown_rows),
        T(test_real_complaint),
        T(test_schedule_errors),
        T(test_real_material_inspection),
        T(test_real_hidden_works_acceptance),
        T(test_real_completion),
        T(test_names),
        T(test_var_known_common),
        T(test_var_known_survey_link_only_for_surveys),
        T(test_var_known_mobile_only_for_alerts),
        T(test_var_known_declared_variables_only),
        T(test_fixture_defaults),
        T(test_sixteen_messages_load),
        T(test_error_missing_file),
        T(test_error_unknown_key_in_message),
        T(test_error_unknown_key_in_milestone),
        T(test_error_bad_kind),
        T(test_error_alert_to_customer),
        T(test_error_notice_to_staff),
        T(test_error_survey_window_any),
        T(test_error_duplicate_message_id),
        T(test_error_template_missing),
        T(test_error_unknown_placeholder),
        T(test_error_notice_uses_survey_link),
        T(test_error_notice_uses_mobile),
        T(test_error_undeclared_variable),
        T(test_error_too_many_messages),
        T(test_error_bad_delay),
        T(test_error_bad_day_offset),
        T(test_error_after_names_later_message),
        T(test_error_duplicate_milestone_id),
        T(test_real_refund_request),
        T(test_var_known_task_vars_only_for_alerts),
        T(test_error_tasks),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
