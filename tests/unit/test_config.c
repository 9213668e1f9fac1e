/*
 * test_config.c - loading and checking the JSON configuration file.
 *
 * Each test starts from a fixture in tests/fixtures/config/ (run from the
 * repository root), changes a key or two, writes the result to
 * <tmp>/config/huifang.json and loads it. The temp dir also holds the
 * files config_load() insists exist:
 *
 *   <tmp>/config/milestones.json     catalogue (default "milestones.json")
 *   <tmp>/config/holidays-cn.json    holidays (default "holidays-cn.json")
 *   <tmp>/templates/                 templates (default "../templates")
 *   <tmp>/templates/surveys/         survey definitions (default "../templates/surveys")
 *
 * Errors must read "<file>: <key>: <reason>".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "util.h"

#define FIXTURES "tests/fixtures/config"
#define ERP_TOKEN "erp-token-0123456789"
#define CS_TOKEN "cs-token-0123456789"
#define SURVEY_SECRET "survey-secret-0123456789"
#define WEBHOOK_SECRET "webhook-secret-abcdef"

static char root[64];     /* <tmp> */
static char cfgdir[128];  /* <tmp>/config */
static char cfgpath[192]; /* <tmp>/config/huifang.json */

/* ---- helpers ----------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write %s", path);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    char p[256];
    strcpy(root, "/tmp/hf_cfg_XXXXXX");
    if (!mkdtemp(root))
        return -1;
    snprintf(cfgdir, sizeof cfgdir, "%s/config", root);
    snprintf(cfgpath, sizeof cfgpath, "%s/huifang.json", cfgdir);
    if (mkdir(cfgdir, 0700) != 0)
        return -1;
    snprintf(p, sizeof p, "%s/templates", root);
    if (mkdir(p, 0700) != 0)
        return -1;
    snprintf(p, sizeof p, "%s/templates/surveys", root);
    if (mkdir(p, 0700) != 0)
        return -1;
    snprintf(p, sizeof p, "%s/milestones.json", cfgdir);
    write_file(p, "{}\n");
    snprintf(p, sizeof p, "%s/holidays-cn.json", cfgdir);
    write_file(p, "{}\n");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Parse tests/fixtures/config/@name. Caller owns the result. */
static cJSON *fixture(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, FIXTURES "/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s (run from the repository root)", path);
    struct buf b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    cJSON *doc = cJSON_Parse(b.data);
    buf_cleanup(&b);
    if (!doc)
        fail_msg("fixture %s is not JSON", path);
    return doc;
}

/* Set the dotted key @key of @doc to the JSON text @value, creating the
 * sections on the way; @value NULL deletes the key. */
static void set_key(cJSON *doc, const char *key, const char *value)
{
    char name[128];
    snprintf(name, sizeof name, "%s", key);
    cJSON *obj = doc;
    char *seg = name, *dot;
    while ((dot = strchr(seg, '.')) != NULL) {
        *dot = '\0';
        cJSON *next = cJSON_GetObjectItemCaseSensitive(obj, seg);
        if (!next) {
            next = cJSON_CreateObject();
            cJSON_AddItemToObject(obj, seg, next);
        }
        obj = next;
        seg = dot + 1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, seg);
    if (!value)
        return;
    cJSON *v = cJSON_Parse(value);
    if (!v)
        fail_msg("test bug: '%s' is not JSON", value);
    cJSON_AddItemToObject(obj, seg, v);
}

static void write_doc(const cJSON *doc)
{
    char *text = cJSON_Print(doc);
    write_file(cfgpath, text);
    free(text);
}

/* Write the minimal fixture with @key set to @value (NULL: removed). */
static void write_minimal_with(const char *key, const char *value)
{
    cJSON *doc = fixture("minimal.json");
    if (key)
        set_key(doc, key, value);
    write_doc(doc);
    cJSON_Delete(doc);
}

static struct config *load_ok(const char *path)
{
    char err[512] = "";
    struct config *c = config_load(path, err, sizeof err);
    if (!c)
        fail_msg("config_load(%s) failed: %s", path, err);
    return c;
}

/* Loading cfgpath must fail with "<cfgpath>: @key: ...@reason...". The
 * error text goes to @err_out (512 bytes) when given. */
static void expect_load_error(const char *key, const char *reason, char *err_out)
{
    char err[512] = "", prefix[256];
    struct config *c = config_load(cfgpath, err, sizeof err);
    if (c) {
        config_free(c);
        fail_msg("expected an error for key '%s' (%s), but the file loaded", key, reason);
    }
    snprintf(prefix, sizeof prefix, "%s: %s: ", cfgpath, key);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("error does not start with \"%s\": \"%s\"", prefix, err);
    if (!strstr(err + strlen(prefix), reason))
        fail_msg("error does not give the reason \"%s\": \"%s\"", reason, err);
    if (err_out)
        memcpy(err_out, err, sizeof err);
}

/* The minimal file with @key = @value must fail on @err_key with @reason. */
static void expect_error_with(const char *key, const char *value, const char *err_key,
                              const char *reason)
{
    write_minimal_with(key, value);
    expect_load_error(err_key, reason, NULL);
}

static void expect_span(const struct window_def *w, int i, int start_min, int end_min)
{
    assert_true(i < w->nspans);
    if (w->spans[i].start_min != start_min || w->spans[i].end_min != end_min)
        fail_msg("span %d is [%d, %d), expected [%d, %d)", i, w->spans[i].start_min,
                 w->spans[i].end_min, start_min, end_min);
}

static char *print_config(const struct config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    config_print(c, f);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* ---- a valid file ----------------------------------------------------------- */

static void test_minimal_loads_with_documented_defaults(void **state)
{
    (void)state;
    write_minimal_with(NULL, NULL);
    struct config *c = load_ok(cfgpath);
    assert_string_equal(c->path, cfgpath);
    assert_string_equal(c->dir, cfgdir);
    assert_string_equal(c->listen_address, "127.0.0.1");
    assert_int_equal(c->listen_port, 8080);
    assert_null(c->ready_file);
    assert_int_equal(c->max_connections, 1024);
    assert_int_equal(c->connection_timeout_s, 30);
    assert_int_equal(c->connection_memory_limit, 131072);
    assert_int_equal(c->max_body, 65536);
    assert_string_equal(c->public_url, "http://127.0.0.1:8080");
    assert_string_equal(c->timezone, "Asia/Shanghai");
    assert_int_equal(c->log_level, LOG_LVL_INFO);
    assert_int_equal(c->synchronous_full, 1);
    assert_int_equal(c->lease_ms, 30000);
    assert_string_equal(c->company_name, "安居装饰");
    assert_string_equal(c->company_phone, "400-800-1234");
    /* survey 10:30-11:40 + 15:00-18:00, notice 08:00-21:00 */
    assert_int_equal(c->win_survey.nspans, 2);
    expect_span(&c->win_survey, 0, 10 * 60 + 30, 11 * 60 + 40);
    expect_span(&c->win_survey, 1, 15 * 60, 18 * 60);
    assert_int_equal(c->win_notice.nspans, 1);
    expect_span(&c->win_notice, 0, 8 * 60, 21 * 60);
    assert_int_equal(c->ntokens, 1);
    assert_string_equal(c->tokens[0].name, "erp");
    assert_int_equal(c->tokens[0].roles, ROLE_TRIGGER);
    assert_string_equal(c->survey_secret, SURVEY_SECRET);
    assert_int_equal(c->survey_validity_ms, 7 * 86400 * INT64_C(1000));
    assert_int_equal(c->max_in_flight, 64);
    assert_int_equal(c->max_attempts, 8);
    assert_int_equal(c->retry_base_ms, 5000);
    assert_int_equal(c->retry_max_ms, 3600 * 1000);
    assert_int_equal(c->notice_ttl_ms, 2 * 86400 * INT64_C(1000));
    assert_int_equal(c->batch_size, 256);
    assert_int_equal(c->connect_timeout_ms, 5000);
    assert_int_equal(c->request_timeout_ms, 15000);
    assert_int_equal(c->max_response, 262144);
    assert_int_equal(c->out_max_connections, 64);
    assert_int_equal(c->out_max_host_connections, 32);
    assert_int_equal(c->webhook_enabled, 0);
    assert_null(c->webhook_url);
    assert_null(c->webhook_secret);
    config_free(c);
}

/* SPEC 4: survey messages go only inside the follow-up windows, on
 * working days; notices go on any day. plan.c uses cfg->win_survey as is,
 * so the loaded window itself must carry workdays_only. */
static void test_survey_window_is_working_days_only(void **state)
{
    (void)state;
    write_minimal_with(NULL, NULL);
    struct config *c = load_ok(cfgpath);
    int survey = c->win_survey.workdays_only, notice = c->win_notice.workdays_only;
    int any = c->win_survey.any_time || c->win_notice.any_time;
    config_free(c);
    if (!survey)
        fail_msg("default windows.survey has workdays_only=0: surveys would go out on "
                 "weekends and public holidays");
    assert_int_equal(notice, 0);
    assert_int_equal(any, 0);

    write_minimal_with("windows.survey", "[\"10:30-11:30\", \"15:00-17:30\"]");
    c = load_ok(cfgpath);
    survey = c->win_survey.workdays_only;
    config_free(c);
    if (!survey)
        fail_msg("configured windows.survey has workdays_only=0");
}

static void test_full_fixture_sets_every_option(void **state)
{
    (void)state;
    cJSON *doc = fixture("full.json");
    write_doc(doc);
    cJSON_Delete(doc);
    struct config *c = load_ok(cfgpath);
    char p[256];
    assert_string_equal(c->listen_address, "0.0.0.0");
    assert_int_equal(c->listen_port, 9090);
    snprintf(p, sizeof p, "%s/run/ready", cfgdir);
    assert_string_equal(c->ready_file, p);
    assert_int_equal(c->max_connections, 200);
    assert_int_equal(c->connection_timeout_s, 45);
    assert_int_equal(c->connection_memory_limit, 65536);
    assert_int_equal(c->max_body, 32768);
    assert_string_equal(c->public_url, "https://hf.example.com"); /* trailing slash dropped */
    assert_string_equal(c->timezone, "Asia/Hong_Kong");
    assert_int_equal(c->log_level, LOG_LVL_DEBUG);
    assert_string_equal(c->database, "/var/lib/huifang/hf.db");
    assert_int_equal(c->synchronous_full, 0);
    /* spans come back sorted whatever the order in the file */
    assert_int_equal(c->win_survey.nspans, 2);
    expect_span(&c->win_survey, 0, 10 * 60 + 30, 11 * 60 + 30);
    expect_span(&c->win_survey, 1, 15 * 60, 17 * 60 + 30);
    assert_int_equal(c->win_notice.nspans, 1);
    expect_span(&c->win_notice, 0, 9 * 60, 20 * 60);
    assert_int_equal(c->ntokens, 2);
    assert_string_equal(c->tokens[1].name, "cs");
    assert_int_equal(c->tokens[1].roles, ROLE_CS | ROLE_ADMIN);
    assert_int_equal(c->survey_validity_ms, 3 * 86400 * INT64_C(1000));
    assert_int_equal(c->max_in_flight, 16);
    assert_int_equal(c->max_attempts, 5);
    assert_int_equal(c->retry_base_ms, 2000);
    assert_int_equal(c->retry_max_ms, 30 * 60 * 1000);
    assert_int_equal(c->notice_ttl_ms, 86400 * INT64_C(1000));
    assert_int_equal(c->batch_size, 100);
    assert_int_equal(c->connect_timeout_ms, 3000);
    assert_int_equal(c->request_timeout_ms, 20000); /* bare number = seconds */
    assert_int_equal(c->max_response, 131072);
    assert_int_equal(c->out_max_connections, 32);
    assert_int_equal(c->out_max_host_connections, 8);
    assert_int_equal(c->webhook_enabled, 1);
    assert_string_equal(c->webhook_url, "https://hooks.example.com/hf");
    assert_string_equal(c->webhook_secret, WEBHOOK_SECRET);
    config_free(c);
}

/* The config shipped in config/ must load as documented (secrets from
 * the environment) and its demo token must work. */
static void test_shipped_config_loads(void **state)
{
    (void)state;
    setenv("HUIFANG_SURVEY_SECRET", "shipped-survey-secret", 1);
    setenv("HUIFANG_WEBHOOK_SECRET", "shipped-webhook-secret", 1);
    char err[512] = "";
    struct config *c = config_load("config/huifang.json", err, sizeof err);
    unsetenv("HUIFANG_SURVEY_SECRET");
    unsetenv("HUIFANG_WEBHOOK_SECRET");
    if (!c)
        fail_msg("the shipped config/huifang.json does not load: %s", err);
    assert_string_equal(c->catalogue_path, "config/milestones.json");
    assert_string_equal(c->survey_secret, "shipped-survey-secret");
    const struct api_token *t = config_find_token(c, "demo-trigger-token-change-me");
    assert_non_null(t);
    assert_string_equal(t->name, "erp");
    assert_int_equal(t->roles, ROLE_TRIGGER);
    config_free(c);
}

static void test_comment_keys_are_ignored(void **state)
{
    (void)state;
    cJSON *doc = fixture("minimal.json");
    set_key(doc, "listen._comment", "\"nested comment\"");
    set_key(doc, "listen.port", "8081");
    write_doc(doc);
    cJSON_Delete(doc);
    struct config *c = load_ok(cfgpath);
    assert_int_equal(c->listen_port, 8081);
    config_free(c);
}

/* "_comment" is allowed everywhere else in the file (the shipped config
 * puts one inside a token entry). */
static void test_token_comment_key_is_ignored(void **state)
{
    (void)state;
    write_minimal_with("api_tokens",
                       "[{\"_comment\": \"rotate yearly\", \"name\": \"erp\", \"roles\": [\"trigger\"],"
                       " \"sha256\": \"b3293dcd46087ce31693c7754b08c0f7a2c7ee2034afd14f7f5c6d4a1b4ec9b6\"}]");
    struct config *c = load_ok(cfgpath);
    assert_int_equal(c->ntokens, 1);
    config_free(c);
}

static void test_port_zero_allowed(void **state)
{
    (void)state;
    write_minimal_with("listen.port", "0"); /* tests: the kernel picks */
    struct config *c = load_ok(cfgpath);
    assert_int_equal(c->listen_port, 0);
    config_free(c);
}

/* ---- paths -------------------------------------------------------------- */

static void test_relative_paths_resolve_against_config_dir(void **state)
{
    (void)state;
    char p[256], want[256];
    snprintf(p, sizeof p, "%s/sub", cfgdir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/sub/cat.json", cfgdir);
    write_file(p, "{}\n");
    cJSON *doc = fixture("minimal.json");
    set_key(doc, "store.path", "\"data/hf.db\"");
    set_key(doc, "catalogue", "\"sub/cat.json\"");
    set_key(doc, "listen.ready_file", "\"ready\"");
    write_doc(doc);
    cJSON_Delete(doc);
    struct config *c = load_ok(cfgpath);
    snprintf(want, sizeof want, "%s/data/hf.db", cfgdir);
    assert_string_equal(c->database, want);
    snprintf(want, sizeof want, "%s/sub/cat.json", cfgdir);
    assert_string_equal(c->catalogue_path, want);
    snprintf(want, sizeof want, "%s/ready", cfgdir);
    assert_string_equal(c->ready_file, want);
    snprintf(want, sizeof want, "%s/holidays-cn.json", cfgdir);
    assert_string_equal(c->holidays_path, want);
    snprintf(want, sizeof want, "%s/../templates", cfgdir);
    assert_string_equal(c->templates_dir, want);
    config_free(c);
}

static void test_absolute_paths_kept(void **state)
{
    (void)state;
    char abs_holidays[256];
    snprintf(abs_holidays, sizeof abs_holidays, "%s/holidays-cn.json", cfgdir);
    cJSON *doc = fixture("minimal.json");
    set_key(doc, "store.path", "\"/srv/huifang/hf.db\"");
    cJSON_AddStringToObject(doc, "holidays", abs_holidays);
    write_doc(doc);
    cJSON_Delete(doc);
    struct config *c = load_ok(cfgpath);
    assert_string_equal(c->database, "/srv/huifang/hf.db");
    assert_string_equal(c->holidays_path, abs_holidays);
    config_free(c);
}

static void test_config_path_without_directory(void **state)
{
    (void)state;
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    write_minimal_with(NULL, NULL);
    assert_int_equal(chdir(cfgdir), 0);
    char err[512] = "";
    struct config *c = config_load("huifang.json", err, sizeof err);
    assert_int_equal(chdir(cwd), 0);
    if (!c)
        fail_msg("config_load(huifang.json) from its own directory failed: %s", err);
    assert_string_equal(c->dir, ".");
    assert_string_equal(c->database, "./huifang.db");
    config_free(c);
}

/* ---- errors: keys and types ----------------------------------------------- */

static void test_error_unknown_top_key(void **state)
{
    (void)state;
    expect_error_with("listne", "{\"port\": 1}", "listne", "unknown key");
}

static void test_error_unknown_nested_key(void **state)
{
    (void)state;
    expect_error_with("listen.prot", "8080", "listen.prot", "unknown key");
    expect_error_with("channels.webhook.urll", "\"http://x\"", "channels.webhook.urll",
                      "unknown key");
    expect_error_with("channels.fax", "{}", "channels.fax", "unknown key");
}

static void test_error_wrong_type(void **state)
{
    (void)state;
    expect_error_with("listen.port", "\"8080\"", "listen.port", "must be a number");
    expect_error_with("listen", "8080", "listen", "must be an object");
    expect_error_with("listen.max_body", "1.5", "listen.max_body", "whole number");
    /* Found by tests/fuzz/config.c: a number far outside int64_t was cast
     * before its range was checked (undefined behaviour, caught by UBSan in
     * `make asan`); it is refused like any other non-integer. */
    expect_error_with("listen.max_connections", "8e97", "listen.max_connections", "whole number");
    expect_error_with("dispatch.retry_base", "-1e300", "dispatch.retry_base", "whole number");
    expect_error_with("channels.webhook.enabled", "\"yes\"", "channels.webhook.enabled",
                      "true or false");
    expect_error_with("company.name", "42", "company.name", "non-empty string");
    expect_error_with("company.name", "\"\"", "company.name", "non-empty string");
    expect_error_with("store.synchronous", "\"fast\"", "store.synchronous", "\"full\" or \"normal\"");
    expect_error_with("log_level", "\"loud\"", "log_level", "debug, info, warn, error");
    expect_error_with("listen.address", "\"localhost\"", "listen.address", "not an IPv4 address");
    expect_error_with("public_url", "\"ftp://example.com\"", "public_url", "http:// or https://");
    expect_error_with("timezone", "\"Mars/Olympus_Mons\"", "timezone", "not a known time zone");
    expect_error_with("dispatch.retry_base", "true", "dispatch.retry_base",
                      "duration string or a number of seconds");
}

/* A directory of the zoneinfo tree or a data file in it is not a zone
 * (glibc would silently run such a TZ as UTC). */
static void test_error_timezone_not_a_zone_file(void **state)
{
    (void)state;
    expect_error_with("timezone", "\"Asia\"", "timezone", "not a known time zone");
    expect_error_with("timezone", "\"America/\"", "timezone", "not a known time zone");
    expect_error_with("timezone", "\"zone.tab\"", "timezone", "not a known time zone");
    expect_error_with("timezone", "\"../zoneinfo/Asia/Shanghai\"", "timezone",
                      "not a known time zone");
}

/* A tiny error buffer gets a truncated, terminated message (ASan checks
 * nothing is written past it). */
static void test_error_buffer_truncated(void **state)
{
    (void)state;
    write_minimal_with("listen.prot", "1");
    char err[12];
    memset(err, 'x', sizeof err);
    struct config *c = config_load(cfgpath, err, sizeof err);
    assert_null(c);
    assert_int_equal(strlen(err), sizeof err - 1);
    assert_int_equal(strncmp(err, cfgpath, sizeof err - 1), 0);
    write_file(cfgpath, "{nope");
    memset(err, 'x', sizeof err);
    assert_null(config_load(cfgpath, err, sizeof err));
    assert_true(strlen(err) < sizeof err);
}

static void test_error_out_of_range(void **state)
{
    (void)state;
    expect_error_with("listen.port", "70000", "listen.port", "70000 is out of range (0 .. 65535)");
    expect_error_with("listen.port", "-1", "listen.port", "out of range");
    expect_error_with("listen.max_body", "100", "listen.max_body", "out of range");
    expect_error_with("dispatch.max_attempts", "0", "dispatch.max_attempts", "out of range");
    expect_error_with("survey.validity", "\"100d\"", "survey.validity", "out of range");
    /* A lease shorter than a few 1 s renewals would expire under a live
     * instance. */
    expect_error_with("store.lease", "\"2s\"", "store.lease", "out of range (3000 ms .. 600000 ms)");
    expect_error_with("store.lease", "\"2h\"", "store.lease", "out of range");
    expect_error_with("store.lease", "\"soon\"", "store.lease", "'soon' is not a duration");
}

static void test_error_bad_duration(void **state)
{
    (void)state;
    expect_error_with("dispatch.retry_base", "\"5 minutes\"", "dispatch.retry_base",
                      "is not a duration");
    expect_error_with("outbound.connect_timeout", "\"5x\"", "outbound.connect_timeout",
                      "'5x' is not a duration");
    expect_error_with("outbound.connect_timeout", "\"-5s\"", "outbound.connect_timeout",
                      "is not a duration");
}

static void test_error_missing_required(void **state)
{
    (void)state;
    static const char *const required[] = {"company.name", "store.path", "api_tokens",
                                           "survey.secret"};
    for (size_t i = 0; i < HF_ARRAY_LEN(required); i++)
        expect_error_with(required[i], NULL, required[i], "missing (required)");
}

/* SQLite (store.path) or PostgreSQL (store.url): exactly one, the URL a
 * secret (never printed) that may come from the environment. */
static void test_store_url_or_path(void **state)
{
    (void)state;
    expect_error_with("store.url", "\"postgresql://hf@127.0.0.1/hf\"", "store.url",
                      "cannot be used together with store.path");
    cJSON *doc = fixture("minimal.json");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItem(doc, "store"), "path");
    write_doc(doc);
    expect_load_error("store.path", "missing (required)", NULL);
    set_key(doc, "store.url", "\"mysql://x\"");
    write_doc(doc);
    expect_load_error("store.url", "must start with postgresql://", NULL);
    setenv("HF_TEST_DB_URL", "postgresql://hf:pw-s3cret@db.example:5432/hf", 1);
    set_key(doc, "store.url", "{\"env\": \"HF_TEST_DB_URL\"}");
    write_doc(doc);
    cJSON_Delete(doc);
    struct config *c = load_ok(cfgpath);
    assert_null(c->database);
    assert_string_equal(config_store_location(c), "postgresql://hf:pw-s3cret@db.example:5432/hf");
    char *printed = print_config(c);
    assert_null(strstr(printed, "pw-s3cret"));
    free(printed);
    config_free(c);
    unsetenv("HF_TEST_DB_URL");
}

/* ---- errors: windows ------------------------------------------------------- */

static void test_error_bad_window_span(void **state)
{
    (void)state;
    expect_error_with("windows.survey", "[\"25:00-26:00\"]", "windows.survey",
                      "'25:00-26:00' is not a span");
    expect_error_with("windows.survey", "[\"11:40-10:30\"]", "windows.survey",
                      "'11:40-10:30' is not a span");
    expect_error_with("windows.notice", "[\"8:00-21:00\"]", "windows.notice", "is not a span");
    expect_error_with("windows.notice", "[21]", "windows.notice", "not a string");
    expect_error_with("windows.survey", "[]", "windows.survey", "non-empty array");
    expect_error_with("windows.survey", "\"10:30-11:40\"", "windows.survey", "non-empty array");
}

static void test_error_overlapping_spans(void **state)
{
    (void)state;
    expect_error_with("windows.survey", "[\"10:00-12:00\", \"11:00-13:00\"]", "windows.survey",
                      "span '11:00-13:00' overlaps");
    /* touching spans are fine */
    write_minimal_with("windows.survey", "[\"10:00-11:00\", \"11:00-12:00\"]");
    struct config *c = load_ok(cfgpath);
    assert_int_equal(c->win_survey.nspans, 2);
    config_free(c);
}

/* ---- errors: tokens ---------------------------------------------------------- */

static void test_error_bad_token_sha256(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* upper case */
        "\"B3293DCD46087CE31693C7754B08C0F7A2C7EE2034AFD14F7F5C6D4A1B4EC9B6\"",
        /* 63 digits */
        "\"b3293dcd46087ce31693c7754b08c0f7a2c7ee2034afd14f7f5c6d4a1b4ec9b\"",
        /* not hex */
        "\"z3293dcd46087ce31693c7754b08c0f7a2c7ee2034afd14f7f5c6d4a1b4ec9b6\"",
        /* the token itself instead of its hash */
        "\"" ERP_TOKEN "\"",
        "42",
    };
    for (size_t i = 0; i < HF_ARRAY_LEN(bad); i++) {
        char tokens[512];
        snprintf(tokens, sizeof tokens,
                 "[{\"name\": \"erp\", \"roles\": [\"trigger\"], \"sha256\": %s}]", bad[i]);
        expect_error_with("api_tokens", tokens, "api_tokens[0]", "sha256: must be the 64");
    }
}

static void test_error_unknown_role(void **state)
{
    (void)state;
    expect_error_with("api_tokens",
                      "[{\"name\": \"erp\", \"roles\": [\"trigger\", \"superuser\"],"
                      " \"sha256\": \"b3293dcd46087ce31693c7754b08c0f7a2c7ee2034afd14f7f5c6d4a1b4ec9b6\"}]",
                      "api_tokens[0]", "unknown role");
    expect_error_with("api_tokens",
                      "[{\"name\": \"erp\", \"roles\": [],"
                      " \"sha256\": \"b3293dcd46087ce31693c7754b08c0f7a2c7ee2034afd14f7f5c6d4a1b4ec9b6\"}]",
                      "api_tokens[0]", "roles: must be a non-empty array");
}

static void test_error_token_entries(void **state)
{
    (void)state;
    expect_error_with("api_tokens", "[]", "api_tokens", "must be a non-empty array");
    expect_error_with("api_tokens", "{}", "api_tokens", "must be a non-empty array");
    expect_error_with("api_tokens", "[\"abc\"]", "api_tokens[0]", "must be an object");
    expect_error_with("api_tokens",
                      "[{\"name\": \"erp\", \"roles\": [\"trigger\"],"
                      " \"sha256\": \"b3293dcd46087ce31693c7754b08c0f7a2c7ee2034afd14f7f5c6d4a1b4ec9b6\"},"
                      " {\"name\": \"\", \"roles\": [\"cs\"],"
                      " \"sha256\": \"ca1ae7ce27ef7302ce08f67c2703137debc714e19e9219422e14931f743141dd\"}]",
                      "api_tokens[1]", "name: must be a non-empty string");
    expect_error_with("api_tokens",
                      "[{\"name\": \"erp\", \"roles\": [\"trigger\"], \"token\": \"x\","
                      " \"sha256\": \"b3293dcd46087ce31693c7754b08c0f7a2c7ee2034afd14f7f5c6d4a1b4ec9b6\"}]",
                      "api_tokens[0]", "unknown key 'token'");
}

/* ---- errors: secrets ---------------------------------------------------------- */

static void test_secret_from_env_when_set(void **state)
{
    (void)state;
    setenv("HF_TEST_SURVEY_SECRET", "secret-from-the-environment", 1);
    write_minimal_with("survey.secret", "{\"env\": \"HF_TEST_SURVEY_SECRET\"}");
    struct config *c = load_ok(cfgpath);
    unsetenv("HF_TEST_SURVEY_SECRET");
    assert_string_equal(c->survey_secret, "secret-from-the-environment");
    config_free(c);
}

static void test_error_secret_from_env_unset(void **state)
{
    (void)state;
    unsetenv("HF_TEST_UNSET_SECRET");
    expect_error_with("survey.secret", "{\"env\": \"HF_TEST_UNSET_SECRET\"}", "survey.secret",
                      "environment variable HF_TEST_UNSET_SECRET is not set");
    setenv("HF_TEST_UNSET_SECRET", "", 1); /* empty counts as unset */
    expect_error_with("survey.secret", "{\"env\": \"HF_TEST_UNSET_SECRET\"}", "survey.secret",
                      "HF_TEST_UNSET_SECRET");
    unsetenv("HF_TEST_UNSET_SECRET");
    expect_error_with("survey.secret", "{\"env\": 5}", "survey.secret",
                      "must be a string or {\"env\"");
    expect_error_with("survey.secret", "{\"env\": \"A\", \"default\": \"x\"}", "survey.secret",
                      "must be a string or {\"env\"");
    expect_error_with("survey.secret", "12345678", "survey.secret", "must be a string");
}

static void test_error_secret_too_short(void **state)
{
    (void)state;
    char err[512];
    write_minimal_with("survey.secret", "\"s3cr3t!\"");
    expect_load_error("survey.secret", "too short", err);
    if (strstr(err, "s3cr3t!"))
        fail_msg("the error shows the secret: %s", err);
    setenv("HF_TEST_SHORT_SECRET", "abc", 1);
    expect_error_with("channels.webhook.secret", "{\"env\": \"HF_TEST_SHORT_SECRET\"}",
                      "channels.webhook.secret", "too short");
    unsetenv("HF_TEST_SHORT_SECRET");
}

/* ---- errors: files -------------------------------------------------------- */

static void test_error_missing_catalogue_file(void **state)
{
    (void)state;
    char err[512];
    write_minimal_with("catalogue", "\"nope.json\"");
    expect_load_error("catalogue", "nope.json", err);
    assert_non_null(strstr(err, "No such file"));
    expect_error_with("holidays", "\"../templates\"", "holidays", "is a directory");
    expect_error_with("templates", "\"milestones.json\"", "templates", "not a directory");
}

static void test_error_missing_config_file(void **state)
{
    (void)state;
    char err[512] = "", path[256];
    snprintf(path, sizeof path, "%s/absent.json", cfgdir);
    struct config *c = config_load(path, err, sizeof err);
    assert_null(c);
    assert_int_equal(strncmp(err, path, strlen(path)), 0);
    assert_non_null(strstr(err, "cannot open"));
}

static void test_error_not_json_names_line(void **state)
{
    (void)state;
    char err[512] = "", want[256];
    write_file(cfgpath, "{\n  \"company\": {\"name\": \"x\"},\n  \"store\": {\"path\": \"a\",,}\n}\n");
    struct config *c = config_load(cfgpath, err, sizeof err);
    assert_null(c);
    snprintf(want, sizeof want, "%s: line 3: not valid JSON", cfgpath);
    assert_string_equal(err, want);

    write_file(cfgpath, "[1, 2]\n");
    c = config_load(cfgpath, err, sizeof err);
    assert_null(c);
    assert_non_null(strstr(err, "top level must be a JSON object"));
}

/* ---- errors: cross-field checks ----------------------------------------------- */

static void test_error_webhook_enabled_without_url(void **state)
{
    (void)state;
    expect_error_with("channels.webhook", "{\"enabled\": true}", "channels.webhook.url",
                      "required when the webhook channel is enabled");
    expect_error_with("channels.webhook", "{\"enabled\": true, \"url\": null}",
                      "channels.webhook.url", "required when");
    /* disabled without a url is fine */
    write_minimal_with("channels.webhook", "{\"enabled\": false}");
    struct config *c = load_ok(cfgpath);
    assert_int_equal(c->webhook_enabled, 0);
    config_free(c);
}

static void test_error_retry_max_below_base(void **state)
{
    (void)state;
    expect_error_with("dispatch", "{\"retry_base\": \"30m\", \"retry_max\": \"10m\"}",
                      "dispatch.retry_max", "must not be below dispatch.retry_base");
    /* a given retry_max is also checked against the default base (5s) */
    expect_error_with("dispatch.retry_max", "\"2s\"", "dispatch.retry_max", "must not be below");
}

static void test_error_host_connections_above_total(void **state)
{
    (void)state;
    expect_error_with("outbound", "{\"max_connections\": 4, \"max_host_connections\": 8}",
                      "outbound.max_host_connections", "must not exceed");
}

/* A key given twice: either an error, or the last one wins; never a leak
 * (run under ASan) or a mix of both. */
static void test_duplicate_key_does_not_leak(void **state)
{
    (void)state;
    write_file(cfgpath,
               "{\"company\": {\"name\": \"a\", \"phone\": \"1\"}, \"store\": {\"path\": \"x.db\"},"
               " \"survey\": {\"secret\": \"" SURVEY_SECRET "\"},"
               " \"api_tokens\": [{\"name\": \"first\", \"roles\": [\"cs\"], \"sha256\":"
               " \"ca1ae7ce27ef7302ce08f67c2703137debc714e19e9219422e14931f743141dd\"}],"
               " \"api_tokens\": [{\"name\": \"second\", \"roles\": [\"trigger\"], \"sha256\":"
               " \"b3293dcd46087ce31693c7754b08c0f7a2c7ee2034afd14f7f5c6d4a1b4ec9b6\"}]}");
    char err[512] = "";
    struct config *c = config_load(cfgpath, err, sizeof err);
    if (!c) {
        assert_non_null(strstr(err, "api_tokens"));
        return;
    }
    assert_int_equal(c->ntokens, 1);
    assert_string_equal(c->tokens[0].name, "second");
    assert_null(config_find_token(c, CS_TOKEN));
    config_free(c);
}

/* ---- printing and tokens ----------------------------------------------------- */

static void test_print_masks_secrets(void **state)
{
    (void)state;
    cJSON *doc = fixture("full.json");
    write_doc(doc);
    cJSON_Delete(doc);
    struct config *c = load_ok(cfgpath);
    char *text = print_config(c);
    assert_non_null(strstr(text, "survey.secret = ***\n"));
    assert_non_null(strstr(text, "channels.webhook.secret = ***\n"));
    assert_non_null(strstr(text, "listen.port = 9090\n"));
    assert_non_null(strstr(text, "windows.survey = 10:30-11:30, 15:00-17:30\n"));
    assert_non_null(strstr(text, "channels.webhook.url = https://hooks.example.com/hf\n"));
    if (strstr(text, SURVEY_SECRET) || strstr(text, WEBHOOK_SECRET))
        fail_msg("config_print shows a secret:\n%s", text);
    free(text);
    config_free(c);

    /* no webhook secret: shown as absent, still not the survey secret */
    write_minimal_with(NULL, NULL);
    c = load_ok(cfgpath);
    text = print_config(c);
    assert_non_null(strstr(text, "channels.webhook.secret = (none)\n"));
    assert_null(strstr(text, SURVEY_SECRET));
    free(text);
    config_free(c);
}

static void test_find_token_by_sha256(void **state)
{
    (void)state;
    cJSON *doc = fixture("full.json");
    write_doc(doc);
    cJSON_Delete(doc);
    struct config *c = load_ok(cfgpath);
    const struct api_token *t = config_find_token(c, ERP_TOKEN);
    assert_non_null(t);
    assert_string_equal(t->name, "erp");
    assert_int_equal(t->roles, ROLE_TRIGGER);
    t = config_find_token(c, CS_TOKEN);
    assert_non_null(t);
    assert_string_equal(t->name, "cs");
    assert_int_equal(t->roles, ROLE_CS | ROLE_ADMIN);
    assert_null(config_find_token(c, "wrong-token"));
    assert_null(config_find_token(c, ""));
    assert_null(config_find_token(c, ERP_TOKEN "x"));
    /* knowing the hash from the config file is not enough */
    assert_null(config_find_token(c, "b3293dcd46087ce31693c7754b08c0f7a2c7ee2034afd14f7f5c6d4a1b4ec9b6"));
    config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_loads_with_documented_defaults),
        cmocka_unit_test(test_survey_window_is_working_days_only),
        cmocka_unit_test(test_full_fixture_sets_every_option),
        cmocka_unit_test(test_shipped_config_loads),
        cmocka_unit_test(test_comment_keys_are_ignored),
        cmocka_unit_test(test_token_comment_key_is_ignored),
        cmocka_unit_test(test_port_zero_allowed),
        cmocka_unit_test(test_relative_paths_resolve_against_config_dir),
        cmocka_unit_test(test_absolute_paths_kept),
        cmocka_unit_test(test_config_path_without_directory),
        cmocka_unit_test(test_error_unknown_top_key),
        cmocka_unit_test(test_error_unknown_nested_key),
        cmocka_unit_test(test_error_wrong_type),
        cmocka_unit_test(test_error_timezone_not_a_zone_file),
        cmocka_unit_test(test_error_buffer_truncated),
        cmocka_unit_test(test_error_out_of_range),
        cmocka_unit_test(test_error_bad_duration),
        cmocka_unit_test(test_error_missing_required),
        cmocka_unit_test(test_store_url_or_path),
        cmocka_unit_test(test_error_bad_window_span),
        cmocka_unit_test(test_error_overlapping_spans),
        cmocka_unit_test(test_error_bad_token_sha256),
        cmocka_unit_test(test_error_unknown_role),
        cmocka_unit_test(test_error_token_entries),
        cmocka_unit_test(test_secret_from_env_when_set),
        cmocka_unit_test(test_error_secret_from_env_unset),
        cmocka_unit_test(test_error_secret_too_short),
        cmocka_unit_test(test_error_missing_catalogue_file),
        cmocka_unit_test(test_error_missing_config_file),
        cmocka_unit_test(test_error_not_json_names_line),
        cmocka_unit_test(test_error_webhook_enabled_without_url),
        cmocka_unit_test(test_error_retry_max_below_base),
        cmocka_unit_test(test_error_host_connections_above_total),
        cmocka_unit_test(test_duplicate_key_does_not_leak),
        cmocka_unit_test(test_print_masks_secrets),
        cmocka_unit_test(test_find_token_by_sha256),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
