/*
 * callbacks.c - libFuzzer harness: the SMS providers' pushes (PROTOCOLS.md
 * C8, D5) through the real route handler api_post_callback(): Aliyun
 * SmsReport and SmsUp (JSON arrays), Tencent status (array) and reply
 * (object), into a real SQLite store.
 *
 * Input: the route ("aliyun/report", "tencent/status", "aliyun/reply",
 * "tencent/reply"), a newline, then the body. The store holds one accepted
 * trigger whose messages were sent by SMS (provider ids "biz-<id>", out_id
 * "hf-<id>") to 13812345678, so receipts find their message and replies
 * join an open survey. Every answer must be 200, 400 or 503 with a body.
 * Run from the repository root (uses config/ and templates/).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "api.h"
#include "dispatch.h"
#include "gateway.h"
#include "http_server.h"
#include "intake.h"
#include "log.h"
#include "survey_def.h"
#include "util.h"

#define CB_TOKEN "fuzz-callback-token"
#define STORE_RUNS 4096 /* a fresh store after this many pushes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char trigger_fmt[] =
    "{\"idempotency_key\":\"fuzz-1\",\"milestone\":\"material_inspection\","
    "\"occurred_at\":\"%s\","
    "\"project\":{\"id\":\"P1\",\"address\":\"杭州市西湖区文三路88号\",\"kickoff_date\":\"2025-10-08\","
    "\"staff\":{\"pm\":{\"name\":\"李强\",\"phone\":\"13900001111\"}}},"
    "\"customer\":{\"id\":\"C1\",\"name\":\"王建国\",\"title\":\"先生\",\"mobile\":\"13812345678\"}}";

static struct gateway gw;
static char dir[64], dbpath[96];
static unsigned runs;

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz callbacks: %s: %s\n", what, err);
    abort();
}

/* A new store holding the trigger, its messages marked sent by SMS. */
static void seed_store(void)
{
    char err[512];
    unlink(dbpath);
    char *side = xasprintf("%s-wal", dbpath);
    unlink(side);
    free(side);
    side = xasprintf("%s-shm", dbpath);
    unlink(side);
    free(side);
    gw.store = store_open(dbpath, 0, err, sizeof err);
    if (!gw.store)
        die("store", err);
    struct intake_trigger t;
    struct api_error e;
    int64_t now = clock_now();
    char at[32];
    iso8601_format_utc(now - 3600, at);
    char *trigger = xasprintf(trigger_fmt, at);
    if (intake_validate(gw.cfg, gw.cat, gw.cal, trigger, strlen(trigger), now, &t, &e) != 0)
        die("trigger", e.message);
    free(trigger);
    int status = 0;
    char *resp = NULL;
    if (store_begin(gw.store) != HF_OK)
        die("store", "begin");
    intake_store(gw.store, &t, "erp", now, &status, &resp);
    if (status != 202 || store_commit(gw.store) != HF_OK)
        die("trigger", resp ? resp : "not stored");
    free(resp);
    intake_trigger_cleanup(&t);
    sqlite3 *db;
    char *msg = NULL;
    char *sql = xasprintf("UPDATE messages SET channel = 'sms', state = 'sent', sent_at = %lld,"
                          " provider_id = 'biz-' || id;",
                          (long long)now);
    if (sqlite3_open(dbpath, &db) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die("seed", msg ? msg : sqlite3_errmsg(db));
    sqlite3_close(db);
    free(sql);
}

/* Leave nothing behind in TMPDIR when the fuzzer exits. */
static void cleanup(void)
{
    store_close(gw.store);
    gw.store = NULL;
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < HF_ARRAY_LEN(sfx); i++) {
        char *p = xasprintf("%s%s", dbpath, sfx[i]);
        unlink(p);
        free(p);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[512];
    log_min_level = LOG_LVL_ERR;
    setenv("HUIFANG_SURVEY_SECRET", "fuzz-survey-secret-0123456789", 0);
    setenv("HUIFANG_WEBHOOK_SECRET", "fuzz-webhook-secret", 0);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hf-fuzz-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (tz_set("Asia/Shanghai") != 0 || !mkdtemp(dir))
        die("setup", "timezone or temporary directory");
    snprintf(dbpath, sizeof dbpath, "%s/fuzz.db", dir);
    gw.cfg = config_load("config/huifang.json", err, sizeof err);
    if (!gw.cfg)
        die("run from the repository root", err);
    free(gw.cfg->callback_token);
    gw.cfg->callback_token = xstrdup(CB_TOKEN);
    gw.cfg->sms_extend_digits = 4;
    if (gateway_load_data(gw.cfg, &gw.cat, &gw.cal, &gw.surveys, err, sizeof err) != 0)
        die("data", err);
    gw.loop = ev_loop_new(0);
    gw.disp = dispatch_new(&gw); /* kicked, never run: sends are not fuzzed here */
    seed_store();
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl || nl - data > 32)
        return 0;
    char tail[64];
    snprintf(tail, sizeof tail, "%s/%.*s", CB_TOKEN, (int)(nl - data), (const char *)data);
    struct http_request req;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path_tail = tail;
    req.content_type = "application/json";
    buf_init(&req.body);
    buf_append(&req.body, nl + 1, size - (size_t)(nl + 1 - data));
    struct http_response resp;
    memset(&resp, 0, sizeof resp);
    if (api_post_callback(&gw, &req, &resp) != HTTP_DONE)
        abort();
    if (!resp.body || (resp.status != 200 && resp.status != 400 && resp.status != 404 &&
                       resp.status != 503))
        abort();
    free(resp.body);
    buf_cleanup(&req.body);
    if (++runs == STORE_RUNS) {
        store_close(gw.store);
        seed_store();
        runs = 0;
    }
    return 0;
}
