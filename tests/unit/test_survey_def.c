/*
 * test_survey_def.c - survey definitions: the shipped templates/surveys/
 * (run from the repository root), every validation error naming file and
 * key, and the ticket rule of survey_judge().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "survey_def.h"
#include "util.h"

#define REAL_DIR "templates/surveys"

/* ---- temp directories ------------------------------------------------- */

static void make_dir(char *dir, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, n, "%s/hf_survey_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        fail_msg("mkdtemp: %s", dir);
}

static void write_file(const char *dir, const char *name, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
    assert_int_equal(fclose(f), 0);
}

static void remove_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    struct dirent *de;
    char path[512];
    while ((de = readdir(dh)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    closedir(dh);
    assert_int_equal(rmdir(dir), 0);
}

/* A valid definition, written next to every broken one: a bad file fails
 * the whole load even when others are fine. */
static const char good_json[] =
    "{\"id\": \"good\", \"title\": \"回访\", \"intro\": \"请花一分钟告诉我们您的感受。\",\n"
    " \"questions\": [\n"
    "  {\"id\": \"score\", \"type\": \"score\", \"text\": \"请打分（1-10分）\", \"main\": true},\n"
    "  {\"id\": \"ok\", \"type\": \"yesno\", \"text\": \"您满意吗？\", \"critical\": true},\n"
    "  {\"id\": \"speed\", \"type\": \"choice\", \"text\": \"处理及时吗？\",\n"
    "   \"options\": [\"很及时\", \"一般\", \"不及时\"], \"bad_options\": [\"不及时\"]},\n"
    "  {\"id\": \"note\", \"type\": \"text\", \"text\": \"您的建议？\"}]}\n";

/* ---- loading valid directories ------------------------------------------ */

static void test_load_minimal(void **state)
{
    (void)state;
    char dir[256], err[512] = "";
    make_dir(dir, sizeof dir);
    write_file(dir, "good.json", good_json);
    write_file(dir, "asimple.json",
               "{\"id\": \"asimple\", \"title\": \"核实\", \"_comment\": \"no intro\",\n"
               " \"questions\": [{\"id\": \"real\", \"type\": \"yesno\", \"text\": \"属实吗？\",\n"
               "                  \"required\": false, \"critical\": false}]}");
    /* Not definitions: other extensions, hidden files, a bare ".json". */
    write_file(dir, "README.md", "not json");
    write_file(dir, ".hidden.json", "{broken");
    write_file(dir, "notes.json.bak", "{broken");

    struct survey_set *s = survey_set_load(dir, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    assert_int_equal(survey_set_count(s), 2);
    /* File-name order. */
    assert_string_equal(survey_set_at(s, 0)->id, "asimple");
    assert_string_equal(survey_set_at(s, 1)->id, "good");
    assert_null(survey_set_at(s, 2));
    assert_null(survey_set_find(s, "missing"));
    assert_null(survey_set_find(s, NULL));

    const struct survey_def *a = survey_set_find(s, "asimple");
    assert_non_null(a);
    assert_null(a->intro);
    assert_int_equal(a->nq, 1);
    assert_int_equal(a->main_index, -1);
    assert_false(a->q[0].required);
    assert_false(a->q[0].critical);

    const struct survey_def *g = survey_set_find(s, "good");
    assert_non_null(g);
    assert_string_equal(g->title, "回访");
    assert_string_equal(g->intro, "请花一分钟告诉我们您的感受。");
    assert_int_equal(g->nq, 4);
    assert_int_equal(g->main_index, 0);
    assert_int_equal(g->q[0].type, Q_SCORE);
    assert_true(g->q[0].main);
    assert_true(g->q[0].required); /* default for non-text */
    assert_int_equal(g->q[1].type, Q_YESNO);
    assert_true(g->q[1].critical);
    const struct question *c = survey_find_question(g, "speed");
    assert_ptr_equal(c, &g->q[2]);
    assert_int_equal(c->type, Q_CHOICE);
    assert_int_equal(c->noptions, 3);
    assert_string_equal(c->options[1], "一般");
    assert_int_equal(c->nbad, 1);
    assert_string_equal(c->bad_options[0], "不及时");
    assert_int_equal(g->q[3].type, Q_TEXT);
    assert_false(g->q[3].required); /* default for text */
    assert_null(survey_find_question(g, "nope"));
    assert_null(survey_find_question(NULL, "score"));

    assert_string_equal(survey_q_type_name(Q_YESNO), "yesno");
    assert_string_equal(survey_q_type_name(Q_CHOICE), "choice");

    survey_set_free(s);
    survey_set_free(NULL);
    assert_int_equal(survey_set_count(NULL), 0);

    /* A trailing slash on the directory does not double it in errors. */
    char slashed[300];
    snprintf(slashed, sizeof slashed, "%s/", dir);
    write_file(dir, "zbad.json", "{\"id\": \"zbad\"}");
    s = survey_set_load(slashed, err, sizeof err);
    assert_null(s);
    char want[320];
    snprintf(want, sizeof want, "%s/zbad.json: title: missing", dir);
    assert_string_equal(err, want);
    remove_dir(dir);
}

/* ---- every validation error names file, key and reason ------------------ */

struct bad_case {
    const char *file;    /* name written in the temp dir */
    const char *content;
    const char *key;     /* expected "<dir>/<file>: <key>: " */
    const char *reason;  /* expected substring after it */
};

/* SURVEY_B(qs) wraps question objects into a survey "b"; YN is a plain yes/no. */
#define SURVEY_B(qs) "{\"id\": \"b\", \"title\": \"回访\", \"questions\": [" qs "]}"
#define YN "{\"id\": \"ok\", \"type\": \"yesno\", \"text\": \"满意吗？\"}"

static const struct bad_case bad_cases[] = {
    {"b.json", "{\"id\": \"b\", \"title\": \"回访\", \"colour\": 1, \"questions\": [" YN "]}",
     "colour", "unknown key"},
    {"b.json", SURVEY_B("{\"id\": \"ok\", \"type\": \"yesno\", \"text\": \"满意吗？\", \"weight\": 2}"),
     "questions[0].weight", "unknown key"},
    {"b.json", "{\"id\": \"b\", \"title\": \"回访\", \"title\": \"又一个\", \"questions\": [" YN "]}",
     "title", "key appears twice"},
    {"b.json", "{\"id\": \"b\", \"title\": 5, \"questions\": [" YN "]}", "title", "must be a text"},
    {"b.json", "{\"id\": \"b\", \"questions\": [" YN "]}", "title", "missing"},
    {"b.json", "{\"id\": \"b\", \"title\": \"回访\", \"intro\": [], \"questions\": [" YN "]}",
     "intro", "must be a text"},
    {"b.json", "{\"id\": \"b\", \"title\": \"回访\", \"questions\": {}}", "questions",
     "must be an array"},
    {"b.json", "{\"id\": \"b\", \"title\": \"回访\", \"questions\": []}", "questions",
     "must have 1 to"},
    {"b.json", "{\"id\": \"b\", \"title\": \"回访\"}", "questions", "missing"},
    {"b.json", "[1, 2]", "(top)", "must be a JSON object"},
    {"b.json", "{\"id\": 7, \"title\": \"回访\", \"questions\": [" YN "]}", "id",
     "must be a name"},
    {"b.json", "{\"id\": \"other\", \"title\": \"回访\", \"questions\": [" YN "]}", "id",
     "does not match the file name"},
    {"b.json", SURVEY_B("{\"id\": \"Bad-Id\", \"type\": \"yesno\", \"text\": \"满意吗？\"}"),
     "questions[0].id", "must be a name"},
    {"b.json", SURVEY_B("{\"type\": \"yesno\", \"text\": \"满意吗？\"}"), "questions[0].id",
     "missing"},
    {"b.json", SURVEY_B(YN ", " YN), "questions[1].id", "'ok' is used twice"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": \"rating\", \"text\": \"打分\"}"),
     "questions[0].type", "must be yesno, score, choice or text"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": 1, \"text\": \"打分\"}"), "questions[0].type",
     "must be yesno"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": \"yesno\", \"text\": \"\"}"),
     "questions[0].text", "must not be empty"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": \"yesno\", \"text\": \" \xe3\x80\x80 \"}"),
     "questions[0].text", "must not be empty"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": \"yesno\"}"), "questions[0].text", "missing"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": \"yesno\", \"text\": \"第一行\\n第二行\"}"),
     "questions[0].text", "control characters"},
    {"b.json", "{\"id\": \"b\", \"title\": \"  \", \"questions\": [" YN "]}", "title",
     "must not be empty"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": \"yesno\", \"text\": \"满意吗？\", \"required\": \"yes\"}"),
     "questions[0].required", "must be true or false"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": \"yesno\", \"text\": \"满意吗？\", \"critical\": 1}"),
     "questions[0].critical", "must be true or false"},
    {"b.json", SURVEY_B("{\"id\": \"s\", \"type\": \"score\", \"text\": \"打分\", \"main\": true, \"critical\": true}"),
     "questions[0].critical", "only a yesno question can be critical"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": \"yesno\", \"text\": \"满意吗？\", \"main\": true}"),
     "questions[0].main", "only a score question can be main"},
    {"b.json", SURVEY_B("{\"id\": \"s1\", \"type\": \"score\", \"text\": \"打分\", \"main\": true}, "
                        "{\"id\": \"s2\", \"type\": \"score\", \"text\": \"再打分\", \"main\": true}"),
     "questions[1].main", "only one question can be main"},
    {"b.json", SURVEY_B("{\"id\": \"s\", \"type\": \"score\", \"text\": \"打分\"}"), "questions",
     "marks one of them"},
    {"b.json", SURVEY_B("{\"id\": \"c\", \"type\": \"choice\", \"text\": \"及时吗？\"}"),
     "questions[0].options", "a choice question needs options"},
    {"b.json", SURVEY_B("{\"id\": \"c\", \"type\": \"choice\", \"text\": \"及时吗？\", \"options\": [\"是\"]}"),
     "questions[0].options", "must have 2 to"},
    {"b.json", SURVEY_B("{\"id\": \"c\", \"type\": \"choice\", \"text\": \"及时吗？\", \"options\": \"是,否\"}"),
     "questions[0].options", "must be an array"},
    {"b.json", SURVEY_B("{\"id\": \"c\", \"type\": \"choice\", \"text\": \"及时吗？\", \"options\": [\"好\", \"好\"]}"),
     "questions[0].options[1]", "'好' is listed twice"},
    {"b.json", SURVEY_B("{\"id\": \"c\", \"type\": \"choice\", \"text\": \"及时吗？\", \"options\": [\"好\", \"\"]}"),
     "questions[0].options[1]", "must not be empty"},
    {"b.json", SURVEY_B("{\"id\": \"c\", \"type\": \"choice\", \"text\": \"及时吗？\", \"options\": [\"好\", 3]}"),
     "questions[0].options[1]", "must be a text"},
    {"b.json", SURVEY_B("{\"id\": \"c\", \"type\": \"choice\", \"text\": \"及时吗？\", "
                        "\"options\": [\"好\", \"一般\"], \"bad_options\": [\"差\"]}"),
     "questions[0].bad_options[0]", "'差' is not one of the options"},
    {"b.json", SURVEY_B("{\"id\": \"c\", \"type\": \"choice\", \"text\": \"及时吗？\", "
                        "\"options\": [\"好\", \"差\"], \"bad_options\": [\"好\", \"差\"]}"),
     "questions[0].bad_options", "must have 1 to 1 entries"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": \"yesno\", \"text\": \"满意吗？\", \"options\": [\"是\", \"否\"]}"),
     "questions[0].options", "only a choice question has options"},
    {"b.json", SURVEY_B("{\"id\": \"r\", \"type\": \"text\", \"text\": \"建议\", \"bad_options\": [\"差\"]}"),
     "questions[0].bad_options", "only a choice question has options"},
    {"b.json", SURVEY_B("\"ok\""), "questions[0]", "must be an object"},
    /* Raw bytes that are not UTF-8 (a GBK-encoded file, say). */
    {"b.json", "{\"id\": \"b\", \"title\": \"\xbb\xd8\xb7\xc3\", \"questions\": [" YN "]}",
     "(file)", "not valid UTF-8"},
    {"b.json", "{\"id\": \"b\",\n \"title\": \"回访\",\n \"questions\": [}", "(file)",
     "line 3: not valid JSON"},
    {"b.json", "{\"id\": \"b\", \"title\": \"回访\", \"questions\": [" YN "]} trailing", "(file)",
     "not valid JSON"},
    {"b.json", "", "(file)", "not valid JSON"},
};

static void test_load_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < HF_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *bc = &bad_cases[i];
        char dir[256], err[512] = "", want[512];
        make_dir(dir, sizeof dir);
        write_file(dir, "good.json", good_json);
        write_file(dir, bc->file, bc->content);
        struct survey_set *s = survey_set_load(dir, err, sizeof err);
        if (s) {
            survey_set_free(s);
            fail_msg("case %zu (%s): loaded, expected %s: %s", i, bc->content, bc->key,
                     bc->reason);
        }
        snprintf(want, sizeof want, "%s/%s: %s: ", dir, bc->file, bc->key);
        if (strncmp(err, want, strlen(want)) != 0 || !strstr(err + strlen(want), bc->reason))
            fail_msg("case %zu: got \"%s\", want \"%s...%s\"", i, err, want, bc->reason);
        remove_dir(dir);
    }
}

static void test_load_dir_errors(void **state)
{
    (void)state;
    char dir[256], err[512] = "", want[512];

    /* No definitions at all. */
    make_dir(dir, sizeof dir);
    write_file(dir, "README.md", "surveys go here");
    assert_null(survey_set_load(dir, err, sizeof err));
    snprintf(want, sizeof want, "%s: (dir): no *.json survey definitions", dir);
    assert_string_equal(err, want);

    /* A directory named like a definition is not a file. */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/sub.json", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_null(survey_set_load(dir, err, sizeof err));
    snprintf(want, sizeof want, "%s/sub.json: (file): not a regular file", dir);
    assert_string_equal(err, want);
    remove_dir(dir);

    /* A file larger than the limit is refused before it is parsed. */
    make_dir(dir, sizeof dir);
    char *big = xmalloc(SURVEY_MAX_FILE + 2);
    memset(big, ' ', SURVEY_MAX_FILE + 1);
    big[SURVEY_MAX_FILE + 1] = '\0';
    write_file(dir, "big.json", big);
    free(big);
    assert_null(survey_set_load(dir, err, sizeof err));
    assert_non_null(strstr(err, "big.json: (file): too large"));
    remove_dir(dir);

    /* Missing directory. */
    assert_null(survey_set_load("/nonexistent/hf_surveys", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/hf_surveys: (dir): cannot open"));

    /* A tiny error buffer truncates, never overflows; NULL is fine too. */
    char tiny[8];
    assert_null(survey_set_load("/nonexistent/hf_surveys", tiny, sizeof tiny));
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_null(survey_set_load("/nonexistent/hf_surveys", NULL, 0));
}

/* ---- the shipped surveys -------------------------------------------------- */

struct expect {
    const char *id;
    const char *main;       /* id of the main score question, NULL none */
    const char *critical;   /* one critical yes/no question, NULL none */
};

static const struct expect shipped[] = {
    {"kickoff", NULL, "handover_ok"},
    {"material_inspection", NULL, "materials_ok"},
    {"hidden_works_acceptance", NULL, "acceptance_ok"},
    {"stage_acceptance", NULL, "acceptance_ok"},
    {"construction_day7", "score", "progress_ok"},
    {"construction_day15", "score", "progress_ok"},
    {"weekly_checkin", NULL, "works_ok"},
    {"completion", "score", "materials_ok"},
    {"completion_rating", NULL, "ratings_accurate"},
    {"repair_done", NULL, "service_ok"},
    {"complaint_followup", NULL, "handling_ok"},
    {"praise_verification", NULL, "praise_real"},
    {"visit_unsigned", NULL, NULL},
};

static struct survey_set *load_real(void)
{
    char err[512] = "";
    struct survey_set *s = survey_set_load(REAL_DIR, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    return s;
}

static void test_real_surveys(void **state)
{
    (void)state;
    struct survey_set *s = load_real();
    assert_true(survey_set_count(s) >= HF_ARRAY_LEN(shipped));

    for (size_t i = 0; i < HF_ARRAY_LEN(shipped); i++) {
        const struct expect *e = &shipped[i];
        const struct survey_def *d = survey_set_find(s, e->id);
        if (!d)
            fail_msg("survey %s missing from %s", e->id, REAL_DIR);
        /* Short enough for a phone. */
        if (d->nq < 2 || d->nq > 6)
            fail_msg("%s: %zu questions, want 2-6", d->id, d->nq);
        assert_non_null(d->intro);

        if (e->main) {
            assert_true(d->main_index >= 0);
            const struct question *m = &d->q[d->main_index];
            assert_string_equal(m->id, e->main);
            assert_int_equal(m->type, Q_SCORE);
            assert_true(m->main);
            assert_true(m->required);
            assert_non_null(strstr(m->text, "1-10"));
        } else {
            if (d->main_index != -1)
                fail_msg("%s: unexpected main score", d->id);
        }

        size_t ncrit = 0, nbad = 0, nscore = 0;
        for (size_t k = 0; k < d->nq; k++) {
            ncrit += d->q[k].critical;
            nbad += d->q[k].nbad;
            nscore += d->q[k].type == Q_SCORE;
        }
        /* Only the seeds' 1-10 stage scripts carry a score. */
        assert_int_equal(nscore, e->main ? 1 : 0);
        if (e->critical) {
            const struct question *q = survey_find_question(d, e->critical);
            if (!q)
                fail_msg("%s: no question %s", d->id, e->critical);
            assert_int_equal(q->type, Q_YESNO);
            assert_true(q->critical);
            /* A "no" to it opens a ticket. */
            const char *qid = q->id, *no = "no", *why = NULL;
            int score = 0;
            assert_int_equal(survey_judge(d, &qid, &no, 1, 6, &score, &why), 1);
            assert_string_equal(why, SURVEY_WHY_CRITICAL);
        } else {
            /* The unsigned visit is a prospect, not a complaint channel. */
            assert_int_equal(ncrit + nbad, 0);
        }
    }

    /* Structure the catalogue and the ticket flow rely on. */
    const struct survey_def *d = survey_set_find(s, "completion");
    const struct question *q = survey_find_question(d, "response");
    assert_non_null(q);
    assert_int_equal(q->type, Q_CHOICE);
    assert_int_equal(q->nbad, 1);
    assert_string_equal(q->bad_options[0], "不及时");
    assert_non_null(survey_find_question(d, "wechat_report"));
    assert_non_null(survey_find_question(d, "team_ok"));

    d = survey_set_find(s, "praise_verification");
    q = survey_find_question(d, "praise_real");
    assert_non_null(strstr(q->text, "锦旗"));

    d = survey_set_find(s, "visit_unsigned");
    q = survey_find_question(d, "contact_again");
    assert_non_null(q);
    assert_int_equal(q->type, Q_YESNO);
    q = survey_find_question(d, "reason");
    assert_non_null(q);
    assert_int_equal(q->type, Q_CHOICE);

    /* The stage name is shown by the page, never baked into a question. */
    d = survey_set_find(s, "stage_acceptance");
    for (size_t k = 0; k < d->nq; k++) {
        assert_null(strstr(d->q[k].text, "木"));
        assert_null(strstr(d->q[k].text, "油漆"));
        assert_null(strstr(d->q[k].text, "{{"));
    }
    survey_set_free(s);
}

/* ---- survey_judge ------------------------------------------------------------ */

static int judge(const struct survey_def *d, const char *const *qids, const char *const *vals,
                 size_t n, int threshold, int *score, const char **why)
{
    *score = -99;
    *why = "unset";
    return survey_judge(d, qids, vals, n, threshold, score, why);
}

static void test_judge(void **state)
{
    (void)state;
    struct survey_set *s = load_real();
    const struct survey_def *d = survey_set_find(s, "completion");
    assert_non_null(d);
    int score;
    const char *why;

    /* No answers: nothing to judge. */
    assert_int_equal(judge(d, NULL, NULL, 0, 6, &score, &why), 0);
    assert_int_equal(score, -1);
    assert_null(why);

    {
        const char *q[] = {"score"}, *v[] = {"4"};
        assert_int_equal(judge(d, q, v, 1, 6, &score, &why), 1);
        assert_int_equal(score, 4);
        assert_string_equal(why, SURVEY_WHY_SCORE);
    }
    {   /* At the threshold still opens; above it does not. */
        const char *q[] = {"score"}, *v[] = {"6"};
        assert_int_equal(judge(d, q, v, 1, 6, &score, &why), 1);
        assert_string_equal(why, "score");
        v[0] = "7";
        assert_int_equal(judge(d, q, v, 1, 6, &score, &why), 0);
        assert_int_equal(score, 7);
        assert_null(why);
        v[0] = "10";
        assert_int_equal(judge(d, q, v, 1, 6, &score, &why), 0);
        assert_int_equal(score, 10);
        /* A threshold of 0 never fires on a score. */
        v[0] = "1";
        assert_int_equal(judge(d, q, v, 1, 0, &score, &why), 0);
        assert_int_equal(score, 1);
    }
    {   /* Critical "no" with a good score. */
        const char *q[] = {"score", "materials_ok", "team_ok"}, *v[] = {"9", "no", "yes"};
        assert_int_equal(judge(d, q, v, 3, 6, &score, &why), 1);
        assert_int_equal(score, 9);
        assert_string_equal(why, SURVEY_WHY_CRITICAL);
        v[1] = "yes";
        assert_int_equal(judge(d, q, v, 3, 6, &score, &why), 0);
        assert_null(why);
    }
    {   /* Bad option; a neutral option is fine; the WeChat question has none. */
        const char *q[] = {"score", "response", "wechat_report"}, *v[] = {"8", "不及时", "不方便"};
        assert_int_equal(judge(d, q, v, 3, 6, &score, &why), 1);
        assert_string_equal(why, SURVEY_WHY_BAD_OPTION);
        v[1] = "一般";
        assert_int_equal(judge(d, q, v, 3, 6, &score, &why), 0);
    }
    {   /* Precedence: critical, then bad option, then score. */
        const char *q[] = {"score", "response", "materials_ok"}, *v[] = {"2", "不及时", "no"};
        assert_int_equal(judge(d, q, v, 3, 6, &score, &why), 1);
        assert_string_equal(why, SURVEY_WHY_CRITICAL);
        assert_int_equal(score, 2);
        assert_int_equal(judge(d, q, v, 2, 6, &score, &why), 1);
        assert_string_equal(why, SURVEY_WHY_BAD_OPTION);
    }
    {   /* Malformed values and unknown questions are ignored. */
        const char *q[] = {"score", "score", "score", "score", "nope", "materials_ok", "response"};
        const char *v[] = {"0", "11", "04", "4分", "no", "否", "很差"};
        assert_int_equal(judge(d, q, v, 7, 6, &score, &why), 0);
        assert_int_equal(score, -1);
        assert_null(why);
    }
    {   /* The last valid answer to a question counts (an amendment). */
        const char *q[] = {"score", "score", "score"}, *v[] = {"3", "9", "x"};
        assert_int_equal(judge(d, q, v, 3, 6, &score, &why), 0);
        assert_int_equal(score, 9);
        const char *v2[] = {"9", "3"};
        assert_int_equal(judge(d, q, v2, 2, 6, &score, &why), 1);
        assert_int_equal(score, 3);
    }
    {   /* A text answer never opens a ticket by itself; outputs may be NULL. */
        const char *q[] = {"suggestion"}, *v[] = {"no"};
        assert_int_equal(survey_judge(d, q, v, 1, 6, NULL, NULL), 0);
        const char *q2[] = {"score"}, *v2[] = {"1"};
        assert_int_equal(survey_judge(d, q2, v2, 1, 6, NULL, NULL), 1);
    }

    /* Praise verification: yes thanks, no opens a ticket; there is no score. */
    d = survey_set_find(s, "praise_verification");
    {
        const char *q[] = {"praise_real"}, *v[] = {"yes"};
        assert_int_equal(judge(d, q, v, 1, 6, &score, &why), 0);
        assert_int_equal(score, -1);
        v[0] = "no";
        assert_int_equal(judge(d, q, v, 1, 6, &score, &why), 1);
        assert_string_equal(why, SURVEY_WHY_CRITICAL);
        assert_int_equal(score, -1);
    }
    /* Unsigned visit: nothing the prospect says opens a complaint. */
    d = survey_set_find(s, "visit_unsigned");
    {
        const char *q[] = {"service_ok", "reason", "contact_again"}, *v[] = {"no", "价格预算", "no"};
        assert_int_equal(judge(d, q, v, 3, 6, &score, &why), 0);
        assert_null(why);
    }
    survey_set_free(s);
}

static void test_answer_valid(void **state)
{
    (void)state;
    struct survey_set *s = load_real();
    const struct survey_def *d = survey_set_find(s, "completion");
    const struct question *sc = survey_find_question(d, "score");
    const struct question *yn = survey_find_question(d, "materials_ok");
    const struct question *ch = survey_find_question(d, "response");
    const struct question *tx = survey_find_question(d, "suggestion");

    static const char *const good_scores[] = {"1", "5", "9", "10"};
    static const char *const bad_scores[] = {"0", "11", "-1", "+5", " 5", "5 ", "05", "", "5.0", "九"};
    for (size_t i = 0; i < HF_ARRAY_LEN(good_scores); i++)
        assert_true(survey_answer_valid(sc, good_scores[i]));
    for (size_t i = 0; i < HF_ARRAY_LEN(bad_scores); i++)
        if (survey_answer_valid(sc, bad_scores[i]))
            fail_msg("score '%s' accepted", bad_scores[i]);
    assert_true(survey_answer_valid(yn, "yes"));
    assert_true(survey_answer_valid(yn, "no"));
    assert_false(survey_answer_valid(yn, "是"));
    assert_false(survey_answer_valid(yn, "YES"));
    assert_true(survey_answer_valid(ch, "很及时"));
    assert_false(survey_answer_valid(ch, "很及"));
    assert_true(survey_answer_valid(tx, "工长很负责"));
    assert_true(survey_answer_valid(tx, ""));
    assert_false(survey_answer_valid(tx, "\xff\xfe"));
    assert_false(survey_answer_valid(NULL, "yes"));
    assert_false(survey_answer_valid(yn, NULL));
    survey_set_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_minimal),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_dir_errors),
        cmocka_unit_test(test_real_surveys),
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_answer_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
