/*
 * survey_page.c - libFuzzer harness: the customer's posted survey form
 * (POST /s/<token>, application/x-www-form-urlencoded) through
 * survey_form_parse(), then the page rendered back with what was parsed
 * (the answers prefilled, or the error banner on the question at fault),
 * as the route does.
 *
 * The first byte picks one of the shipped survey definitions
 * (templates/surveys; run from the repository root) with its low 7 bits,
 * and with bit 7 skips the render (the costly half of a run), the rest is
 * the body.
 * Accepted answers must be valid UTF-8 and name questions of the survey.
 */
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "survey_def.h"
#include "survey_page.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct survey_set *set;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[512];
    log_min_level = LOG_LVL_ERR;
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        abort();
    set = survey_set_load("templates/surveys", err, sizeof err);
    if (!set) {
        fprintf(stderr, "fuzz survey_page: run from the repository root: %s\n", err);
        abort();
    }
    return 0;
}

/* 1 if @s is valid UTF-8. glibc's decoder (C.UTF-8) does the work: util's
 * utf8_valid() would too, but it is instrumented, and over a 20 KB page it
 * took most of each run. glibc also takes code points above U+10FFFF,
 * hence the look at F4 and F5..FF. */
static int page_utf8(const char *s)
{
    if (mbstowcs(NULL, s, 0) == (size_t)-1 ||
        strpbrk(s, "\xF5\xF6\xF7\xF8\xF9\xFA\xFB\xFC\xFD\xFE\xFF"))
        return 0;
    for (const char *p = strchr(s, '\xF4'); p; p = strchr(p + 1, '\xF4'))
        if ((unsigned char)p[1] >= 0x90)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct survey_def *d = survey_set_at(set, (data[0] & 0x7F) % survey_set_count(set));
    int render = !(data[0] & 0x80); /* the render costs most of a run: not always */
    /* exactly the body's bytes: the parser must not read past @len */
    size_t len = size - 1;
    char *body = xmalloc(len ? len : 1);
    memcpy(body, data + 1, len);
    cJSON *answers = NULL;
    char field[64], err[256];
    int rc = survey_form_parse(d, body, len, &answers, field, sizeof field, err, sizeof err);
    struct page_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.company_name = "安居装饰";
    ctx.customer_name = "王建国";
    ctx.customer_title = "先生";
    ctx.action = "/s/1.1764000000.0123456789abcdef0123456789abcdef";
    if (rc == 0) {
        if (!cJSON_IsObject(answers))
            abort();
        const cJSON *a;
        cJSON_ArrayForEach(a, answers) {
            if (!survey_find_question(d, a->string) || !cJSON_IsString(a) ||
                !utf8_valid(a->valuestring, strlen(a->valuestring)))
                abort();
        }
        ctx.previous = answers;
        ctx.notice = "谢谢，您的回答已保存";
    } else if (rc == -1 || rc == -2) {
        if (answers || !err[0] || !utf8_valid(err, strlen(err)) || (rc == -1 && !field[0]))
            abort();
        ctx.notice = err;
        ctx.notice_field = rc == -1 ? field : NULL;
    } else {
        abort();
    }
    if (render) {
        char *page = survey_page_render(d, &ctx);
        if (!page || !page_utf8(page))
            abort();
        free(page);
    }
    cJSON_Delete(answers);
    free(body);
    return 0;
}
