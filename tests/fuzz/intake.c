/*
 * intake.c - libFuzzer harness: POST /v1/triggers bodies through
 * intake_validate() (validation, normalisation, planning) and, for the
 * bodies it accepts, intake_store() into a real SQLite store in memory,
 * exactly as the group commit does (its own transaction).
 *
 * Uses the shipped config/huifang.json, catalogue, templates and holiday
 * calendar; run from the repository root. A refusal must be a 4xx naming
 * what is wrong; an accepted trigger is stored as 202 (new), 200 (replay)
 * or 409 (same key, other body).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "catalogue.h"
#include "config.h"
#include "http_error.h"
#include "intake.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define NOW 1764000000 /* 2025-11-24T16:00:00Z */
#define STORE_RUNS 4096 /* fresh store after this many stored triggers */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct config *cfg;
static struct catalogue *cat;
static struct calendar *cal;
static struct store *st;
static unsigned stored;

static struct store *open_store(void)
{
    char err[256];
    struct store *s = store_open(":memory:", 0, err, sizeof err);
    if (!s) {
        fprintf(stderr, "fuzz intake: %s\n", err);
        abort();
    }
    return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[512];
    log_min_level = LOG_LVL_ERR;
    setenv("HUIFANG_SURVEY_SECRET", "fuzz-survey-secret-0123456789", 0);
    setenv("HUIFANG_WEBHOOK_SECRET", "fuzz-webhook-secret", 0);
    if (tz_set("Asia/Shanghai") != 0 ||
        !(cfg = config_load("config/huifang.json", err, sizeof err)) ||
        !(cal = calendar_load(cfg->holidays_path, err, sizeof err)) ||
        !(cat = catalogue_load(cfg->catalogue_path, cfg->templates_dir, err, sizeof err))) {
        fprintf(stderr, "fuzz intake: run from the repository root: %s\n", err);
        abort();
    }
    st = open_store();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct intake_trigger t;
    struct api_error e;
    memset(&e, 0, sizeof e);
    if (intake_validate(cfg, cat, cal, (const char *)data, size, NOW, &t, &e) != 0) {
        if (e.status < 400 || e.status > 499 || !e.code[0] || !e.message[0])
            abort();
        free(api_error_json(&e));
        return 0;
    }
    if (!t.canonical || !t.m || t.nplans < 0 || t.nplans > PLAN_MAX_MESSAGES)
        abort();
    int status = 0;
    char *resp = NULL;
    if (store_begin(st) != HF_OK)
        abort();
    intake_store(st, &t, "erp", NOW, &status, &resp);
    if (status != 202 && status != 200 && status != 409)
        abort();
    if (store_commit(st) != HF_OK)
        abort();
    free(resp);
    intake_trigger_cleanup(&t);
    if (++stored == STORE_RUNS) {
        store_close(st);
        st = open_store();
        stored = 0;
    }
    return 0;
}
