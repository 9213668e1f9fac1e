/*
 * import.c - huifang import FILE.csv: the weekly list of customers to
 * follow up (seed 000: "每周二前收集各片区资料员提交上来的回访客户"), one
 * milestone per row, imported as triggers.
 *
 * Every row is checked first; the bad ones are reported with their line
 * and reason, the good ones are then posted one by one. Each row carries an
 * idempotency key derived from its project, customer, milestone and time,
 * so importing the same file again (or after an interruption) sends
 * nothing twice: huifangd answers the rows it already has with 200.
 */
#include "cli.h"
#include "csv.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char import_help[] =
    "usage: huifang import FILE.csv [--dry-run] [--tz ZONE] [--json]\n"
    "\n"
    "Import the weekly follow-up list as triggers (POST /v1/triggers; a token with\n"
    "the trigger role). FILE is CSV in UTF-8 (Excel: \"CSV UTF-8\"), the first row\n"
    "the column names, Chinese or English:\n"
    "  项目编号 project_id      required\n"
    "  地址 address             required\n"
    "  客户编号 customer_id     required\n"
    "  客户姓名 customer_name   required\n"
    "  手机 mobile              required, a mainland mobile number\n"
    "  回访节点 milestone       required: a catalogue id (completion) or its name\n"
    "                           (材料进场验收, 隐蔽工程验收, 竣工验收, 客户投诉, 保修报修)\n"
    "  日期 occurred_at         required: 2026-11-24, 2026-11-24 14:30 (local time,\n"
    "                           09:00 when no time is given) or ISO-8601 with an offset\n"
    "  称呼 title               先生 or 女士\n"
    "  开工日期 kickoff_date    YYYY-MM-DD\n"
    "  项目经理 pm, 项目经理电话 pm_phone, 设计师 designer, 设计师电话 designer_phone,\n"
    "  工长 foreman, 工长电话 foreman_phone, 监理 supervisor, 监理电话 supervisor_phone\n"
    "  微信openid openid, 原因 reason (required for complaints and repairs),\n"
    "  片区 area, 备注 note     (kept in the file only)\n"
    "\n"
    "Every row is checked before anything is sent; bad rows are listed with their\n"
    "line number and reason and skipped, the good ones imported. Each row's\n"
    "idempotency key comes from its project, customer, milestone and time: importing\n"
    "the same file again sends nothing twice. Progress goes to stderr.\n"
    "  --dry-run   only check the file\n"
    "  --tz ZONE   the time zone of the dates (default $HUIFANG_TZ, else Asia/Shanghai)\n"
    "  --json      a JSON summary on stdout\n"
    "Exit 0 when every row is imported, 4 when some were bad or refused, 3 when\n"
    "huifangd could not be reached (importing again is safe), 1 for an unusable file.\n";

enum col_id {
    C_PROJECT = 0, C_ADDRESS, C_CUSTOMER, C_NAME, C_MOBILE, C_MILESTONE, C_OCCURRED, C_TITLE,
    C_KICKOFF, C_PM, C_PM_PHONE, C_DESIGNER, C_DESIGNER_PHONE, C_FOREMAN, C_FOREMAN_PHONE,
    C_SUPERVISOR, C_SUPERVISOR_PHONE, C_OPENID, C_REASON, C_AREA, C_NOTE, C__COUNT
};

static const struct {
    const char *zh, *en;
    int required;
} cols[C__COUNT] = {
    [C_PROJECT] = {"项目编号", "project_id", 1},     [C_ADDRESS] = {"地址", "address", 1},
    [C_CUSTOMER] = {"客户编号", "customer_id", 1},   [C_NAME] = {"客户姓名", "customer_name", 1},
    [C_MOBILE] = {"手机", "mobile", 1},              [C_MILESTONE] = {"回访节点", "milestone", 1},
    [C_OCCURRED] = {"日期", "occurred_at", 1},       [C_TITLE] = {"称呼", "title", 0},
    [C_KICKOFF] = {"开工日期", "kickoff_date", 0},   [C_PM] = {"项目经理", "pm", 0},
    [C_PM_PHONE] = {"项目经理电话", "pm_phone", 0},  [C_DESIGNER] = {"设计师", "designer", 0},
    [C_DESIGNER_PHONE] = {"设计师电话", "designer_phone", 0},
    [C_FOREMAN] = {"工长", "foreman", 0},            [C_FOREMAN_PHONE] = {"工长电话", "foreman_phone", 0},
    [C_SUPERVISOR] = {"监理", "supervisor", 0},
    [C_SUPERVISOR_PHONE] = {"监理电话", "supervisor_phone", 0},
    [C_OPENID] = {"微信openid", "openid", 0},        [C_REASON] = {"原因", "reason", 0},
    [C_AREA] = {"片区", "area", 0},                  [C_NOTE] = {"备注", "note", 0},
};

/* Milestone names people write, to catalogue ids. Anything else that looks
 * like an id goes to huifangd as it is (it knows the catalogue). */
static const struct {
    const char *name, *id;
} milestone_names[] = {
    {"材料进场验收", "material_inspection"}, {"材料验收", "material_inspection"},
    {"隐蔽工程验收", "hidden_works_acceptance"}, {"隐蔽工程(水电)验收", "hidden_works_acceptance"},
    {"水电验收", "hidden_works_acceptance"}, {"竣工验收", "completion"},
    {"竣工", "completion"},                 {"完工", "completion"},
    {"客户投诉", "complaint"},              {"投诉", "complaint"},
    {"保修报修", "repair_request"},         {"报修", "repair_request"},
};

struct row {
    int line;
    char *body;               /* the trigger JSON, NULL when invalid */
    char key[48];
    char field[32];           /* the bad column (English name) */
    char why[200];            /* why it is invalid */
    int status;               /* huifangd's answer: 202, 200, other, 0 = not sent */
    char *error;              /* huifangd's error JSON for a refused row */
};

static char *trim(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return xstrndup(s, n);
}

static int printable_ascii(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return 0;
    return 1;
}

static int invalid(struct row *r, enum col_id c, const char *fmt, const char *v)
{
    snprintf(r->field, sizeof r->field, "%s", cols[c].en);
    char msg[160];
    snprintf(msg, sizeof msg, fmt, v ? v : "");
    snprintf(r->why, sizeof r->why, "%s (%s): %s", cols[c].zh, cols[c].en, msg);
    return -1;
}

/* "2026-11-24", "2026/11/24", "2026-11-24 14:30[:00]" (local) or ISO-8601
 * with an offset. */
static int parse_when(const char *v, int64_t *out)
{
    if (iso8601_parse(v, out) == 0)
        return 0;
    char d[11];
    int hh = 9, mm = 0, ss = 0, y, mo, da;
    size_t n = strlen(v);
    if (n < 10)
        return -1;
    memcpy(d, v, 10);
    d[10] = '\0';
    if (d[4] == '/' && d[7] == '/')
        d[4] = d[7] = '-';
    if (date_parse(d, &y, &mo, &da) != 0)
        return -1;
    if (n > 10) {
        char tail;
        int k = sscanf(v + 10, " %2d:%2d:%2d%c", &hh, &mm, &ss, &tail);
        if (k == 2)
            ss = 0;
        if ((k != 2 && k != 3) || (v[10] != ' ' && v[10] != 'T') || hh > 23 || mm > 59 ||
            ss > 59 || hh < 0 || mm < 0 || ss < 0)
            return -1;
    }
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = da, .tm_hour = hh,
                    .tm_min = mm, .tm_sec = ss, .tm_isdst = -1};
    *out = (int64_t)mktime(&tm);
    return 0;
}

static int check_phone(struct row *r, enum col_id c, const char *v, char norm[12])
{
    if (!mobile_normalize(v, norm))
        return invalid(r, c, "\"%s\" is not a mainland China mobile number", v);
    return 0;
}

static void add_person(cJSON *staff, const char *role, const char *name, const char *phone)
{
    if (!name || !*name)
        return;
    cJSON *p = cJSON_AddObjectToObject(staff, role);
    cJSON_AddStringToObject(p, "name", name);
    if (phone && *phone)
        cJSON_AddStringToObject(p, "phone", phone);
}

/* Check one record and build its trigger. 0, or -1 with r->why set. */
static int build_row(struct row *r, char *const *v)
{
    for (int c = 0; c < C__COUNT; c++) {
        if (v[c] && !utf8_valid(v[c], strlen(v[c])))
            return invalid(r, (enum col_id)c, "%snot UTF-8: save the file as \"CSV UTF-8\"", "");
        if (v[c] && utf8_chars(v[c]) > 200)
            return invalid(r, (enum col_id)c, "%slonger than 200 characters", "");
        if (cols[c].required && (!v[c] || !*v[c]))
            return invalid(r, (enum col_id)c, "%sis empty", "");
    }
    if (!printable_ascii(v[C_PROJECT], 64))
        return invalid(r, C_PROJECT, "\"%s\" must be 1-64 ASCII letters, digits or signs",
                       v[C_PROJECT]);
    if (!printable_ascii(v[C_CUSTOMER], 64))
        return invalid(r, C_CUSTOMER, "\"%s\" must be 1-64 ASCII letters, digits or signs",
                       v[C_CUSTOMER]);
    char mobile[12], phones[4][12];
    if (check_phone(r, C_MOBILE, v[C_MOBILE], mobile) != 0)
        return -1;
    static const enum col_id phone_cols[4] = {C_PM_PHONE, C_DESIGNER_PHONE, C_FOREMAN_PHONE,
                                              C_SUPERVISOR_PHONE};
    static const enum col_id name_cols[4] = {C_PM, C_DESIGNER, C_FOREMAN, C_SUPERVISOR};
    for (int i = 0; i < 4; i++) {
        phones[i][0] = '\0';
        if (v[phone_cols[i]] && *v[phone_cols[i]]) {
            if (check_phone(r, phone_cols[i], v[phone_cols[i]], phones[i]) != 0)
                return -1;
            if (!v[name_cols[i]] || !*v[name_cols[i]])
                return invalid(r, name_cols[i], "%sis empty but the phone is given", "");
        }
    }
    if (v[C_TITLE] && *v[C_TITLE] && strcmp(v[C_TITLE], "先生") && strcmp(v[C_TITLE], "女士"))
        return invalid(r, C_TITLE, "\"%s\" must be 先生 or 女士", v[C_TITLE]);
    int y, m, d;
    if (v[C_KICKOFF] && *v[C_KICKOFF] && date_parse(v[C_KICKOFF], &y, &m, &d) != 0)
        return invalid(r, C_KICKOFF, "\"%s\" is not a date YYYY-MM-DD", v[C_KICKOFF]);
    int64_t when;
    if (parse_when(v[C_OCCURRED], &when) != 0)
        return invalid(r, C_OCCURRED, "\"%s\" is not a date (2026-11-24, 2026-11-24 14:30)",
                       v[C_OCCURRED]);
    const char *milestone = NULL;
    for (size_t i = 0; i < HF_ARRAY_LEN(milestone_names); i++)
        if (strcmp(v[C_MILESTONE], milestone_names[i].name) == 0)
            milestone = milestone_names[i].id;
    if (!milestone) {
        if (strspn(v[C_MILESTONE], "abcdefghijklmnopqrstuvwxyz0123456789_") !=
            strlen(v[C_MILESTONE]))
            return invalid(r, C_MILESTONE, "\"%s\" is not a milestone id or a known name",
                           v[C_MILESTONE]);
        milestone = v[C_MILESTONE];
    }
    if ((strcmp(milestone, "complaint") == 0 || strcmp(milestone, "repair_request") == 0) &&
        (!v[C_REASON] || !*v[C_REASON]))
        return invalid(r, C_REASON, "%sis required for complaints and repair requests", "");

    char iso[32];
    iso8601_format_local(when, iso);
    char *seed = xasprintf("%s|%s|%s|%s", v[C_PROJECT], v[C_CUSTOMER], milestone, iso);
    char hex[65];
    sha256_hex(seed, strlen(seed), hex);
    free(seed);
    snprintf(r->key, sizeof r->key, "import-%.32s", hex);

    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "idempotency_key", r->key);
    cJSON_AddStringToObject(b, "milestone", milestone);
    cJSON_AddStringToObject(b, "occurred_at", iso);
    cJSON *p = cJSON_AddObjectToObject(b, "project");
    cJSON_AddStringToObject(p, "id", v[C_PROJECT]);
    cJSON_AddStringToObject(p, "address", v[C_ADDRESS]);
    if (v[C_KICKOFF] && *v[C_KICKOFF])
        cJSON_AddStringToObject(p, "kickoff_date", v[C_KICKOFF]);
    cJSON *staff = cJSON_CreateObject();
    add_person(staff, "pm", v[C_PM], phones[0]);
    add_person(staff, "designer", v[C_DESIGNER], phones[1]);
    add_person(staff, "foreman", v[C_FOREMAN], phones[2]);
    add_person(staff, "supervisor", v[C_SUPERVISOR], phones[3]);
    if (staff->child)
        cJSON_AddItemToObject(p, "staff", staff);
    else
        cJSON_Delete(staff);
    cJSON *cu = cJSON_AddObjectToObject(b, "customer");
    cJSON_AddStringToObject(cu, "id", v[C_CUSTOMER]);
    cJSON_AddStringToObject(cu, "name", v[C_NAME]);
    if (v[C_TITLE] && *v[C_TITLE])
        cJSON_AddStringToObject(cu, "title", v[C_TITLE]);
    cJSON_AddStringToObject(cu, "mobile", mobile);
    if (v[C_OPENID] && *v[C_OPENID])
        cJSON_AddStringToObject(cu, "wechat_openid", v[C_OPENID]);
    if (v[C_REASON] && *v[C_REASON]) {
        cJSON *vars = cJSON_AddObjectToObject(b, "variables");
        cJSON_AddStringToObject(vars, "reason", v[C_REASON]);
    }
    r->body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    return 0;
}

/* Map the header cells to columns. 0, or -1 with a message on stderr. */
static int read_header(const struct csv_record *h, int map[CSV_MAX_FIELDS], const char *file)
{
    int seen[C__COUNT] = {0};
    for (size_t i = 0; i < h->n; i++) {
        char *name = trim(h->field[i]);
        map[i] = -1;
        for (int c = 0; c < C__COUNT; c++) {
            if (strcmp(name, cols[c].zh) == 0 || strcasecmp(name, cols[c].en) == 0) {
                if (seen[c]) {
                    fprintf(stderr, "huifang import: %s: line %d: column %s appears twice\n",
                            file, h->line, name);
                    free(name);
                    return -1;
                }
                seen[c] = 1;
                map[i] = c;
            }
        }
        if (map[i] < 0 && *name) {
            fprintf(stderr, "huifang import: %s: line %d: unknown column \"%s\" (see "
                            "huifang import --help)\n", file, h->line, name);
            free(name);
            return -1;
        }
        free(name);
    }
    for (int c = 0; c < C__COUNT; c++) {
        if (cols[c].required && !seen[c]) {
            fprintf(stderr, "huifang import: %s: the column %s (%s) is missing\n", file,
                    cols[c].zh, cols[c].en);
            return -1;
        }
    }
    return 0;
}

static void progress(size_t done, size_t total, int force)
{
    if (total < 100 || (!force && done % 100 != 0))
        return;
    fprintf(stderr, "huifang import: %zu/%zu rows sent\n", done, total);
}

int cmd_import(struct cli *c, int argc, char **argv)
{
    int h = 0;
    argc = cli_common_options(c, argc, argv, &h);
    if (argc < 0)
        return CLI_USAGE;
    if (h) {
        fputs(import_help, stdout);
        return CLI_OK;
    }
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
                                         {"tz", required_argument, NULL, 'z'},
                                         {NULL, 0, NULL, 0}};
    optind = 0;
    int dry = 0, o;
    const char *tz = getenv("HUIFANG_TZ") && *getenv("HUIFANG_TZ") ? getenv("HUIFANG_TZ")
                                                                   : "Asia/Shanghai";
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'n')
            dry = 1;
        else if (o == 'z')
            tz = optarg;
        else
            return fprintf(stderr, "\n%s", import_help), CLI_USAGE;
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "huifang import: name one CSV file\n\n%s", import_help);
        return CLI_USAGE;
    }
    const char *file = argv[optind];
    if (tz_set(tz) != 0) {
        fprintf(stderr, "huifang import: unknown time zone %s\n", tz);
        return CLI_USAGE;
    }
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "huifang import: cannot open %s: %s\n", file, strerror(errno));
        return CLI_USAGE;
    }
    struct buf data;
    buf_init(&data);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&data, chunk, n);
    fclose(f);
    if (!data.data)
        buf_append(&data, "", 0);
    if (!utf8_valid(data.data, data.len)) {
        /* Excel's plain "CSV" is GBK on Chinese Windows. */
        fprintf(stderr, "huifang import: %s is not UTF-8: save it as \"CSV UTF-8\" (Excel) or "
                        "UTF-8 CSV (WPS)\n", file);
        buf_cleanup(&data);
        return CLI_USAGE;
    }
    if (!dry && cli_setup(c) != 0) {
        buf_cleanup(&data);
        return CLI_USAGE;
    }

    /* 1. Read and check every row. */
    struct csv_reader rd;
    struct csv_record rec;
    const char *why;
    csv_reader_init(&rd, data.data, data.len);
    int map[CSV_MAX_FIELDS];
    int hr = csv_read(&rd, &rec, &why);
    if (hr != 1 || read_header(&rec, map, file) != 0) {
        if (hr == 0)
            fprintf(stderr, "huifang import: %s is empty\n", file);
        else if (hr < 0)
            fprintf(stderr, "huifang import: %s: line 1: %s\n", file, why);
        if (hr == 1)
            csv_record_cleanup(&rec);
        buf_cleanup(&data);
        return CLI_USAGE;
    }
    size_t ncols = rec.n;
    csv_record_cleanup(&rec);
    struct row *rows = NULL;
    size_t nrows = 0, cap = 0, nbad = 0;
    for (;;) {
        int k = csv_read(&rd, &rec, &why);
        if (k == 0)
            break;
        if (nrows == cap) {
            cap = cap ? cap * 2 : 64;
            rows = xrealloc(rows, cap * sizeof *rows);
        }
        struct row *r = &rows[nrows++];
        memset(r, 0, sizeof *r);
        if (k < 0) {
            r->line = rd.line - 1;
            snprintf(r->field, sizeof r->field, "-");
            snprintf(r->why, sizeof r->why, "%s", why);
            nbad++;
            continue;
        }
        r->line = rec.line;
        if (rec.n != ncols) {
            snprintf(r->field, sizeof r->field, "-");
            snprintf(r->why, sizeof r->why, "%zu cells where the header has %zu", rec.n, ncols);
            nbad++;
            csv_record_cleanup(&rec);
            continue;
        }
        char *v[C__COUNT] = {0};
        for (size_t i = 0; i < rec.n; i++)
            if (map[i] >= 0)
                v[map[i]] = trim(rec.field[i]);
        if (build_row(r, v) != 0) {
            nbad++;
        } else {
            for (size_t p = 0; p + 1 < nrows; p++) {
                if (rows[p].body && strcmp(rows[p].key, r->key) == 0) {
                    snprintf(r->field, sizeof r->field, "-");
                    snprintf(r->why, sizeof r->why,
                             "the same project, customer, milestone and time as line %d",
                             rows[p].line);
                    free(r->body);
                    r->body = NULL;
                    nbad++;
                    break;
                }
            }
        }
        for (int i = 0; i < C__COUNT; i++)
            free(v[i]);
        csv_record_cleanup(&rec);
    }
    buf_cleanup(&data);
    for (size_t i = 0; i < nrows; i++)
        if (!rows[i].body)
            fprintf(stderr, "%s:%d: %s\n", file, rows[i].line, rows[i].why);

    /* 2. Send the good ones. */
    size_t ngood = nrows - nbad, fresh = 0, again = 0, refused = 0;
    int rc = CLI_OK;
    if (!dry) {
        size_t sent = 0;
        for (size_t i = 0; i < nrows; i++) {
            struct row *r = &rows[i];
            if (!r->body)
                continue;
            struct cli_resp resp;
            if (cli_request(c, "POST", "/v1/triggers", r->body, &resp) != 0) {
                cli_fail(&resp);
                cli_resp_cleanup(&resp);
                fprintf(stderr, "huifang import: stopped at line %d after %zu of %zu rows; "
                                "importing the file again is safe\n", r->line, sent, ngood);
                rc = CLI_UNREACHABLE;
                break;
            }
            r->status = (int)resp.status;
            sent++;
            if (resp.status == 202) {
                fresh++;
            } else if (resp.status == 200) {
                again++;
            } else {
                refused++;
                r->error = xstrdup(resp.body.data);
                cJSON *j = cJSON_Parse(resp.body.data);
                const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
                const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
                const char *fld = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "field"));
                const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
                fprintf(stderr, "%s:%d: refused by huifangd (%ld %s%s%s): %s\n", file, r->line,
                        resp.status, code ? code : "error", fld ? " on " : "", fld ? fld : "",
                        msg ? msg : "");
                cJSON_Delete(j);
            }
            cli_resp_cleanup(&resp);
            progress(sent, ngood, 0);
        }
        if (rc == CLI_OK)
            progress(sent, ngood, sent % 100 != 0);
    }
    if (rc == CLI_OK && (nbad || refused))
        rc = CLI_PARTIAL;

    /* 3. The summary. */
    if (c->json) {
        cJSON *sum = cJSON_CreateObject();
        cJSON_AddStringToObject(sum, "file", file);
        cJSON_AddNumberToObject(sum, "rows", (double)nrows);
        cJSON_AddNumberToObject(sum, "valid", (double)ngood);
        cJSON_AddBoolToObject(sum, "dry_run", dry);
        cJSON_AddNumberToObject(sum, "imported", (double)fresh);
        cJSON_AddNumberToObject(sum, "already_imported", (double)again);
        cJSON *bad = cJSON_AddArrayToObject(sum, "invalid");
        cJSON *ref = cJSON_AddArrayToObject(sum, "refused");
        for (size_t i = 0; i < nrows; i++) {
            struct row *r = &rows[i];
            if (!r->body) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddNumberToObject(e, "line", r->line);
                cJSON_AddStringToObject(e, "field", r->field);
                cJSON_AddStringToObject(e, "reason", r->why);
                cJSON_AddItemToArray(bad, e);
            } else if (r->error) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddNumberToObject(e, "line", r->line);
                cJSON_AddNumberToObject(e, "status", r->status);
                cJSON *err = cJSON_Parse(r->error);
                cJSON_AddItemToObject(e, "answer", err ? err : cJSON_CreateString(r->error));
                cJSON_AddItemToArray(ref, e);
            }
        }
        char *s = cJSON_PrintUnformatted(sum);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(sum);
    } else if (dry) {
        printf("%s: %zu rows, %zu valid, %zu invalid (dry run: nothing sent)\n", file, nrows,
               ngood, nbad);
    } else {
        printf("%s: %zu rows: %zu imported, %zu already imported, %zu invalid, %zu refused%s\n",
               file, nrows, fresh, again, nbad, refused,
               rc == CLI_UNREACHABLE ? ", interrupted" : "");
    }
    for (size_t i = 0; i < nrows; i++) {
        free(rows[i].body);
        free(rows[i].error);
    }
    free(rows);
    return rc;
}
