/*
 * commands.c - huifang trigger, results, tickets, report, check-config.
 *
 * Each command takes the common options (main.c) and its own, asks
 * huifangd, and prints either a short human summary or, with --json,
 * huifangd's JSON as it came (one document on stdout, for scripts).
 */
#include "cli.h"

#include <curl/curl.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Common start of a command: options shared by all, --help. Returns -1 to
 * go on, else the exit code. */
static int begin(struct cli *c, int *argc, char **argv, const char *help)
{
    int h = 0;
    *argc = cli_common_options(c, *argc, argv, &h);
    if (*argc < 0)
        return CLI_USAGE;
    if (h) {
        fputs(help, stdout);
        return CLI_OK;
    }
    optind = 0; /* full re-initialisation of getopt (GNU) */
    opterr = 1;
    return -1;
}

static int bad_usage(const char *help)
{
    fprintf(stderr, "\n%s", help);
    return CLI_USAGE;
}

/* GET @path; on success *out is the answer (caller cleans up). */
static int get(struct cli *c, const char *path, struct cli_resp *out)
{
    if (cli_request(c, "GET", path, NULL, out) != 0 || out->status != 200) {
        int rc = cli_fail(out);
        cli_resp_cleanup(out);
        return rc;
    }
    return CLI_OK;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsString(v))
        return v->valuestring;
    return "-";
}

/* A number or "-" into @buf. */
static const char *numstr(const cJSON *o, const char *k, char *buf, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v))
        return "-";
    if (v->valuedouble == (double)(long long)v->valuedouble)
        snprintf(buf, n, "%lld", (long long)v->valuedouble);
    else
        snprintf(buf, n, "%.4g", v->valuedouble);
    return buf;
}

/* ---- trigger ------------------------------------------------------------ */

static const char trigger_help[] =
    "usage: huifang trigger --file FILE\n"
    "       huifang trigger --milestone ID --project ID --address TEXT --customer ID\n"
    "                       --name NAME --mobile NUMBER [options]\n"
    "\n"
    "Tell huifangd that a milestone happened (POST /v1/triggers; a token with the\n"
    "trigger role). With --file, FILE ('-' = stdin) is the JSON body as the API\n"
    "documents it. Otherwise the body is made from:\n"
    "  --milestone ID        material_inspection, hidden_works_acceptance, completion, ...\n"
    "  --occurred-at TIME    ISO-8601 with offset (default: now, to the minute)\n"
    "  --project ID --address TEXT [--kickoff YYYY-MM-DD]\n"
    "  --pm NAME[,PHONE] --designer NAME[,PHONE] --foreman NAME[,PHONE]\n"
    "  --supervisor NAME[,PHONE]\n"
    "  --customer ID --name NAME --mobile NUMBER [--title 先生|女士]\n"
    "  [--openid OPENID] [--channel wechat|sms]\n"
    "  --var NAME=VALUE      a template variable (repeatable), e.g. --var reason=...\n"
    "  --key KEY             the idempotency key (default: derived from milestone,\n"
    "                        project, customer and time, so a retry sends nothing twice)\n"
    "  --json                print huifangd's answer as JSON\n";

static int add_staff(cJSON *staff, const char *role, const char *spec)
{
    const char *comma = strchr(spec, ',');
    cJSON *p = cJSON_AddObjectToObject(staff, role);
    if (comma) {
        char *name = xstrndup(spec, (size_t)(comma - spec));
        cJSON_AddStringToObject(p, "name", name);
        free(name);
        cJSON_AddStringToObject(p, "phone", comma + 1);
    } else {
        cJSON_AddStringToObject(p, "name", spec);
    }
    return 0;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    int err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (err) {
        buf_cleanup(&b);
        return NULL;
    }
    if (!b.data)
        buf_append(&b, "", 0);
    *len = b.len;
    return buf_steal(&b);
}

static int print_trigger_answer(struct cli *c, const struct cli_resp *r)
{
    if (c->json) {
        printf("%s\n", r->body.data);
        return CLI_OK;
    }
    cJSON *j = cJSON_Parse(r->body.data);
    char n[32];
    printf("%s trigger %s (%s), key %s\n", r->status == 200 ? "already accepted:" : "accepted:",
           numstr(j, "trigger_id", n, sizeof n), str(j, "milestone"), str(j, "idempotency_key"));
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "messages")) {
        printf("  message %-6s %-14s %-7s to %-10s by %-8s due %s\n",
               numstr(m, "id", n, sizeof n), str(m, "message"), str(m, "kind"), str(m, "to"),
               str(m, "channel"), str(m, "due_at"));
    }
    cJSON_Delete(j);
    return CLI_OK;
}

int cmd_trigger(struct cli *c, int argc, char **argv)
{
    int rc = begin(c, &argc, argv, trigger_help);
    if (rc >= 0)
        return rc;
    static const struct option opts[] = {
        {"file", required_argument, NULL, 'f'},      {"milestone", required_argument, NULL, 'm'},
        {"occurred-at", required_argument, NULL, 'o'}, {"project", required_argument, NULL, 'p'},
        {"address", required_argument, NULL, 'a'},   {"kickoff", required_argument, NULL, 'k'},
        {"pm", required_argument, NULL, 'P'},        {"designer", required_argument, NULL, 'D'},
        {"foreman", required_argument, NULL, 'F'},   {"supervisor", required_argument, NULL, 'S'},
        {"customer", required_argument, NULL, 'c'},  {"name", required_argument, NULL, 'n'},
        {"mobile", required_argument, NULL, 'M'},    {"title", required_argument, NULL, 't'},
        {"openid", required_argument, NULL, 'O'},    {"channel", required_argument, NULL, 'C'},
        {"var", required_argument, NULL, 'v'},       {"key", required_argument, NULL, 'K'},
        {NULL, 0, NULL, 0}};
    const char *file = NULL, *milestone = NULL, *occurred = NULL, *project = NULL,
               *address = NULL, *kickoff = NULL, *customer = NULL, *name = NULL, *mobile = NULL,
               *title = NULL, *openid = NULL, *channel = NULL, *key = NULL;
    cJSON *staff = cJSON_CreateObject(), *vars = cJSON_CreateObject();
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'f': file = optarg; break;
        case 'm': milestone = optarg; break;
        case 'o': occurred = optarg; break;
        case 'p': project = optarg; break;
        case 'a': address = optarg; break;
        case 'k': kickoff = optarg; break;
        case 'P': add_staff(staff, "pm", optarg); break;
        case 'D': add_staff(staff, "designer", optarg); break;
        case 'F': add_staff(staff, "foreman", optarg); break;
        case 'S': add_staff(staff, "supervisor", optarg); break;
        case 'c': customer = optarg; break;
        case 'n': name = optarg; break;
        case 'M': mobile = optarg; break;
        case 't': title = optarg; break;
        case 'O': openid = optarg; break;
        case 'C': channel = optarg; break;
        case 'K': key = optarg; break;
        case 'v': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                fprintf(stderr, "huifang trigger: --var needs NAME=VALUE\n");
                goto usage;
            }
            char *k = xstrndup(optarg, (size_t)(eq - optarg));
            cJSON_AddStringToObject(vars, k, eq + 1);
            free(k);
            break;
        }
        default: goto usage;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "huifang trigger: unexpected argument %s\n", argv[optind]);
        goto usage;
    }
    char *body = NULL;
    if (file) {
        size_t len;
        body = read_all(file, &len);
        if (!body) {
            fprintf(stderr, "huifang trigger: cannot read %s: %s\n", file, strerror(errno));
            cJSON_Delete(staff);
            cJSON_Delete(vars);
            return CLI_USAGE;
        }
    } else {
        const char *missing = !milestone ? "--milestone" : !project ? "--project"
                              : !address ? "--address" : !customer ? "--customer"
                              : !name ? "--name" : !mobile ? "--mobile" : NULL;
        if (missing) {
            fprintf(stderr, "huifang trigger: %s is required (or --file)\n", missing);
            goto usage;
        }
        char now[32];
        if (!occurred) {
            int64_t t = (int64_t)time(NULL);
            iso8601_format_local(t - t % 60, now);
            occurred = now;
        }
        cJSON *b = cJSON_CreateObject();
        char *derived = NULL;
        if (!key) {
            char *seed = xasprintf("%s|%s|%s|%s", milestone, project, customer, occurred);
            char hex[65];
            sha256_hex(seed, strlen(seed), hex);
            free(seed);
            derived = xasprintf("cli-%.32s", hex);
        }
        cJSON_AddStringToObject(b, "idempotency_key", key ? key : derived);
        free(derived);
        cJSON_AddStringToObject(b, "milestone", milestone);
        cJSON_AddStringToObject(b, "occurred_at", occurred);
        cJSON *p = cJSON_AddObjectToObject(b, "project");
        cJSON_AddStringToObject(p, "id", project);
        cJSON_AddStringToObject(p, "address", address);
        if (kickoff)
            cJSON_AddStringToObject(p, "kickoff_date", kickoff);
        if (staff->child)
            cJSON_AddItemToObject(p, "staff", staff);
        else
            cJSON_Delete(staff);
        staff = NULL;
        cJSON *cu = cJSON_AddObjectToObject(b, "customer");
        cJSON_AddStringToObject(cu, "id", customer);
        cJSON_AddStringToObject(cu, "name", name);
        cJSON_AddStringToObject(cu, "mobile", mobile);
        if (title)
            cJSON_AddStringToObject(cu, "title", title);
        if (openid)
            cJSON_AddStringToObject(cu, "wechat_openid", openid);
        if (channel)
            cJSON_AddStringToObject(cu, "preferred_channel", channel);
        if (vars->child)
            cJSON_AddItemToObject(b, "variables", vars);
        else
            cJSON_Delete(vars);
        vars = NULL;
        body = cJSON_PrintUnformatted(b);
        cJSON_Delete(b);
    }
    cJSON_Delete(staff);
    cJSON_Delete(vars);
    if (cli_setup(c) != 0) {
        free(body);
        return CLI_USAGE;
    }
    struct cli_resp r;
    int got = cli_request(c, "POST", "/v1/triggers", body, &r);
    free(body);
    if (got != 0 || (r.status != 200 && r.status != 202)) {
        rc = cli_fail(&r);
        cli_resp_cleanup(&r);
        return rc;
    }
    rc = print_trigger_answer(c, &r);
    cli_resp_cleanup(&r);
    return rc;
usage:
    cJSON_Delete(staff);
    cJSON_Delete(vars);
    return bad_usage(trigger_help);
}

/* ---- results --------------------------------------------------------------- */

static const char results_help[] =
    "usage: huifang results [filters] [--limit N] [--all] [--csv | --json]\n"
    "\n"
    "Callback results (回访结果), oldest first (a token with the cs or admin role).\n"
    "  --since DATE|TIME --until DATE|TIME   a local date (2026-11-24) or ISO-8601\n"
    "  --project ID --customer ID --milestone ID --channel wechat|sms|webhook\n"
    "  --staff ID|NAME                       projects of this PM/designer/foreman/supervisor\n"
    "  --score-min N --score-max N           1..10\n"
    "  --state open|answered|unanswered|expired|flagged\n"
    "  --limit N        results per page (default 50, at most 500)\n"
    "  --all            follow the pages to the end\n"
    "  --csv            the CSV export (UTF-8 with BOM, opens in Excel/WPS) on stdout\n"
    "  --json           the API's JSON page(s), one per line\n";

int cmd_results(struct cli *c, int argc, char **argv)
{
    int rc = begin(c, &argc, argv, results_help);
    if (rc >= 0)
        return rc;
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},     {"until", required_argument, NULL, 'u'},
        {"project", required_argument, NULL, 'p'},   {"customer", required_argument, NULL, 'c'},
        {"milestone", required_argument, NULL, 'm'}, {"channel", required_argument, NULL, 'C'},
        {"staff", required_argument, NULL, 'S'},     {"score-min", required_argument, NULL, 'a'},
        {"score-max", required_argument, NULL, 'b'}, {"state", required_argument, NULL, 't'},
        {"limit", required_argument, NULL, 'l'},     {"all", no_argument, NULL, 'A'},
        {"csv", no_argument, NULL, 'V'},             {NULL, 0, NULL, 0}};
    static const char *const names[] = {
        ['s'] = "since",     ['u'] = "until",     ['p'] = "project", ['c'] = "customer",
        ['m'] = "milestone", ['C'] = "channel",   ['S'] = "staff",   ['a'] = "score_min",
        ['b'] = "score_max", ['t'] = "state",     ['l'] = "limit"};
    struct buf q;
    buf_init(&q);
    buf_puts(&q, "/v1/results");
    int all = 0, csv = 0, o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'A') {
            all = 1;
        } else if (o == 'V') {
            csv = 1;
        } else if (o > 0 && o < (int)HF_ARRAY_LEN(names) && names[o]) {
            cli_query_add(&q, names[o], optarg);
        } else {
            buf_cleanup(&q);
            return bad_usage(results_help);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "huifang results: unexpected argument %s\n", argv[optind]);
        buf_cleanup(&q);
        return bad_usage(results_help);
    }
    if (cli_setup(c) != 0) {
        buf_cleanup(&q);
        return CLI_USAGE;
    }
    if (csv) {
        cli_query_add(&q, "format", "csv");
        struct cli_resp r;
        rc = get(c, q.data, &r);
        buf_cleanup(&q);
        if (rc != CLI_OK)
            return rc;
        fwrite(r.body.data, 1, r.body.len, stdout);
        cli_resp_cleanup(&r);
        return CLI_OK;
    }
    char *cursor = NULL;
    int first = 1, shown = 0;
    do {
        struct buf page;
        buf_init(&page);
        buf_puts(&page, q.data);
        cli_query_add(&page, "cursor", cursor);
        struct cli_resp r;
        rc = get(c, page.data, &r);
        buf_cleanup(&page);
        free(cursor);
        cursor = NULL;
        if (rc != CLI_OK)
            break;
        cJSON *j = cJSON_Parse(r.body.data);
        if (c->json) {
            printf("%s\n", r.body.data);
        } else {
            if (first)
                printf("%-7s %-12s %-10s %-10s %-10s %-5s %-8s %s\n", "id", "milestone",
                       "project", "customer", "state", "score", "channel", "answered_at");
            const cJSON *it;
            char n1[32], n2[32];
            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "items")) {
                printf("%-7s %-12s %-10s %-10s %-10s %-5s %-8s %s%s\n", numstr(it, "id", n1, sizeof n1),
                       str(it, "milestone"), str(it, "project_id"), str(it, "customer_id"),
                       str(it, "state"), numstr(it, "score", n2, sizeof n2), str(it, "channel"),
                       str(it, "answered_at"),
                       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "flagged")) ||
                               (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "flagged")) &&
                                cJSON_GetObjectItemCaseSensitive(it, "flagged")->valueint)
                           ? "  [flagged]"
                           : "");
                shown++;
            }
        }
        first = 0;
        const char *next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "next_cursor"));
        if (next)
            cursor = xstrdup(next);
        if (next && !all && !c->json)
            printf("(more: --all, or --json and the next_cursor)\n");
        cJSON_Delete(j);
        cli_resp_cleanup(&r);
    } while (all && cursor);
    free(cursor);
    buf_cleanup(&q);
    if (rc == CLI_OK && !c->json && shown == 0)
        printf("(no results)\n");
    return rc;
}

/* ---- tickets ---------------------------------------------------------------- */

static const char tickets_help[] =
    "usage: huifang tickets list [--state open|overdue|reported|resolved] [--csv | --json]\n"
    "       huifang tickets show ID [--json]\n"
    "       huifang tickets report ID --note TEXT\n"
    "       huifang tickets resolve ID --resolution TEXT\n"
    "\n"
    "Complaint tickets (投诉) and their clocks: the internal report is due within\n"
    "2 hours, the answer to the customer within 48 hours (a token with the cs or\n"
    "admin role). \"clock\" is ok, due (under an hour left) or overdue.\n";

static void print_ticket(const cJSON *t)
{
    char n[32];
    printf("%-6s %-9s %-8s %-10s %-10s %-26s %s\n", numstr(t, "id", n, sizeof n),
           str(t, "state"), str(t, "clock"), str(t, "project_id"), str(t, "customer_id"),
           str(t, "next_due_at"), str(t, "detail"));
}

int cmd_tickets(struct cli *c, int argc, char **argv)
{
    int rc = begin(c, &argc, argv, tickets_help);
    if (rc >= 0)
        return rc;
    static const struct option opts[] = {{"state", required_argument, NULL, 's'},
                                         {"note", required_argument, NULL, 'n'},
                                         {"resolution", required_argument, NULL, 'r'},
                                         {"csv", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    const char *state = NULL, *note = NULL, *resolution = NULL;
    int csv = 0, o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 's': state = optarg; break;
        case 'n': note = optarg; break;
        case 'r': resolution = optarg; break;
        case 'V': csv = 1; break;
        default: return bad_usage(tickets_help);
        }
    }
    const char *sub = optind < argc ? argv[optind] : "list";
    const char *id = optind + 1 < argc ? argv[optind + 1] : NULL;
    int want_id = strcmp(sub, "list") != 0;
    if ((strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "report") &&
         strcmp(sub, "resolve")) ||
        (want_id && (!id || strspn(id, "0123456789") != strlen(id) || !*id)) ||
        optind + (want_id ? 2 : 1) < argc) {
        fprintf(stderr, "huifang tickets: %s\n",
                want_id && !id ? "a ticket id is needed" : "bad arguments");
        return bad_usage(tickets_help);
    }
    if (strcmp(sub, "report") == 0 && !note) {
        fprintf(stderr, "huifang tickets report: --note TEXT is required\n");
        return bad_usage(tickets_help);
    }
    if (strcmp(sub, "resolve") == 0 && !resolution) {
        fprintf(stderr, "huifang tickets resolve: --resolution TEXT is required\n");
        return bad_usage(tickets_help);
    }
    if (cli_setup(c) != 0)
        return CLI_USAGE;
    struct cli_resp r;
    struct buf path;
    buf_init(&path);
    if (strcmp(sub, "list") == 0) {
        buf_puts(&path, "/v1/tickets");
        cli_query_add(&path, "state", state);
        cli_query_add(&path, "limit", csv ? NULL : "500");
        cli_query_add(&path, "format", csv ? "csv" : NULL);
        rc = get(c, path.data, &r);
    } else if (strcmp(sub, "show") == 0) {
        buf_printf(&path, "/v1/tickets/%s", id);
        rc = get(c, path.data, &r);
    } else {
        buf_printf(&path, "/v1/tickets/%s/%s", id, sub);
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, note ? "note" : "resolution", note ? note : resolution);
        char *body = cJSON_PrintUnformatted(b);
        cJSON_Delete(b);
        if (cli_request(c, "POST", path.data, body, &r) != 0 || r.status != 200) {
            rc = cli_fail(&r);
            cli_resp_cleanup(&r);
        } else {
            rc = CLI_OK;
        }
        free(body);
    }
    buf_cleanup(&path);
    if (rc != CLI_OK)
        return rc;
    if (csv || c->json) {
        fwrite(r.body.data, 1, r.body.len, stdout);
        if (!csv)
            putchar('\n');
        cli_resp_cleanup(&r);
        return CLI_OK;
    }
    cJSON *j = cJSON_Parse(r.body.data);
    if (strcmp(sub, "list") == 0) {
        printf("%-6s %-9s %-8s %-10s %-10s %-26s %s\n", "id", "state", "clock", "project",
               "customer", "next_due_at", "detail");
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j, "items")) {
            print_ticket(t);
        }
    } else {
        /* One ticket, field by field. */
        const cJSON *f;
        cJSON_ArrayForEach(f, j) {
            char *v = cJSON_IsString(f) ? NULL : cJSON_PrintUnformatted(f);
            printf("%-18s %s\n", f->string, v ? v : f->valuestring);
            free(v);
        }
    }
    cJSON_Delete(j);
    cli_resp_cleanup(&r);
    return CLI_OK;
}

/* ---- report ---------------------------------------------------------------- */

static const char report_help[] =
    "usage: huifang report milestones [--since D] [--until D]\n"
    "       huifang report staff [--role pm|designer|foreman|supervisor] [--since D] [--until D]\n"
    "       huifang report complaints [--quarter 2026Q4]\n"
    "       huifang report tickets [--since D] [--until D]\n"
    "       huifang report trend [--days 30]\n"
    "       (each with --csv for Excel, or --json)\n"
    "\n"
    "Reports (a token with the cs or admin role): per milestone sent, delivered,\n"
    "answered, response rate, average score and score distribution; per staff member\n"
    "average score, answered surveys and complaints; complaints per department and\n"
    "the quarter's ranking of fewest complaints (季度员工奖); tickets closed within\n"
    "their clocks; surveys sent and answered per day.\n";

static void print_rows(const cJSON *rows, const char *const *cols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? "\t" : "", cols[i]);
    putchar('\n');
    const cJSON *r;
    cJSON_ArrayForEach(r, rows) {
        for (size_t i = 0; i < n; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, cols[i]);
            char *s = !v || cJSON_IsNull(v) ? NULL : cJSON_IsString(v) ? NULL
                                                                        : cJSON_PrintUnformatted(v);
            printf("%s%s", i ? "\t" : "", cJSON_IsString(v) ? v->valuestring : s ? s : "-");
            free(s);
        }
        putchar('\n');
    }
}

int cmd_report(struct cli *c, int argc, char **argv)
{
    int rc = begin(c, &argc, argv, report_help);
    if (rc >= 0)
        return rc;
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'}, {"until", required_argument, NULL, 'u'},
        {"role", required_argument, NULL, 'r'},  {"quarter", required_argument, NULL, 'q'},
        {"days", required_argument, NULL, 'd'},  {"csv", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    static const char *const names[] = {['s'] = "since", ['u'] = "until", ['r'] = "role",
                                        ['q'] = "quarter", ['d'] = "days"};
    struct buf q;
    buf_init(&q);
    int csv = 0, o;
    struct buf args;
    buf_init(&args);
    buf_puts(&args, "");
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'V') {
            csv = 1;
        } else if (o > 0 && o < (int)HF_ARRAY_LEN(names) && names[o]) {
            cli_query_add(&args, names[o], optarg);
        } else {
            buf_cleanup(&args);
            return bad_usage(report_help);
        }
    }
    static const char *const reports[] = {"milestones", "staff", "complaints", "tickets",
                                          "trend"};
    const char *which = optind < argc ? argv[optind] : NULL;
    size_t k = 0;
    while (which && k < HF_ARRAY_LEN(reports) && strcmp(which, reports[k]))
        k++;
    if (!which || k == HF_ARRAY_LEN(reports) || optind + 1 < argc) {
        fprintf(stderr, "huifang report: name one report: milestones, staff, complaints, "
                        "tickets, trend\n");
        buf_cleanup(&args);
        return bad_usage(report_help);
    }
    if (cli_setup(c) != 0) {
        buf_cleanup(&args);
        return CLI_USAGE;
    }
    buf_printf(&q, "/v1/reports/%s%s", which, args.data);
    buf_cleanup(&args);
    cli_query_add(&q, "format", csv ? "csv" : NULL);
    struct cli_resp r;
    rc = get(c, q.data, &r);
    buf_cleanup(&q);
    if (rc != CLI_OK)
        return rc;
    if (csv || c->json) {
        fwrite(r.body.data, 1, r.body.len, stdout);
        if (!csv)
            putchar('\n');
        cli_resp_cleanup(&r);
        return CLI_OK;
    }
    cJSON *j = cJSON_Parse(r.body.data);
    if (k == 0) {
        static const char *const cols[] = {"milestone", "name", "sent", "delivered", "answered",
                                           "response_rate", "avg_score"};
        print_rows(cJSON_GetObjectItemCaseSensitive(j, "rows"), cols, HF_ARRAY_LEN(cols));
    } else if (k == 1) {
        static const char *const cols[] = {"role", "staff_id", "name", "avg_score", "answered",
                                           "complaints"};
        print_rows(cJSON_GetObjectItemCaseSensitive(j, "rows"), cols, HF_ARRAY_LEN(cols));
    } else if (k == 2) {
        static const char *const dcols[] = {"department", "complaints"};
        static const char *const rcols[] = {"rank", "staff_id", "name", "role", "complaints",
                                            "answered", "avg_score"};
        printf("quarter %s\n", str(j, "quarter"));
        print_rows(cJSON_GetObjectItemCaseSensitive(j, "departments"), dcols,
                   HF_ARRAY_LEN(dcols));
        putchar('\n');
        print_rows(cJSON_GetObjectItemCaseSensitive(j, "ranking"), rcols, HF_ARRAY_LEN(rcols));
    } else if (k == 3) {
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemReferenceToArray(arr, j);
        static const char *const cols[] = {"opened", "closed", "closed_within_clock",
                                           "overdue_now", "report_within_2h_rate",
                                           "answer_within_48h_rate"};
        print_rows(arr, cols, HF_ARRAY_LEN(cols));
        cJSON_Delete(arr);
    } else {
        static const char *const cols[] = {"date", "sent", "answered", "response_rate"};
        print_rows(cJSON_GetObjectItemCaseSensitive(j, "days"), cols, HF_ARRAY_LEN(cols));
    }
    cJSON_Delete(j);
    cli_resp_cleanup(&r);
    return CLI_OK;
}

/* ---- check-config ------------------------------------------------------------ */

static const char check_help[] =
    "usage: huifang check-config [-c] FILE [--huifangd PATH]\n"
    "\n"
    "Check a huifangd configuration file, and the catalogue, templates and holiday\n"
    "calendar it names, exactly as huifangd would at start (it runs\n"
    "`huifangd -c FILE --check-config`). Exit 0 when valid, 2 when not.\n"
    "huifangd is looked for at --huifangd, $HUIFANGD, next to huifang, then in PATH.\n";

int cmd_check_config(struct cli *c, int argc, char **argv)
{
    int rc = begin(c, &argc, argv, check_help);
    if (rc >= 0)
        return rc;
    static const struct option opts[] = {{"huifangd", required_argument, NULL, 'H'},
                                         {"config", required_argument, NULL, 'c'},
                                         {NULL, 0, NULL, 0}};
    const char *daemon = getenv("HUIFANGD"), *file = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        if (o == 'H')
            daemon = optarg;
        else if (o == 'c')
            file = optarg;
        else
            return bad_usage(check_help);
    }
    if (!file && optind < argc)
        file = argv[optind++];
    if (!file || optind < argc) {
        fprintf(stderr, "huifang check-config: name one config file\n");
        return bad_usage(check_help);
    }
    char beside[PATH_MAX];
    if (!daemon) {
        /* Next to this program (build/huifang beside build/huifangd). */
        ssize_t n = readlink("/proc/self/exe", beside, sizeof beside - 16);
        if (n > 0) {
            beside[n] = '\0';
            char *slash = strrchr(beside, '/');
            if (slash) {
                strcpy(slash + 1, "huifangd");
                if (access(beside, X_OK) == 0)
                    daemon = beside;
            }
        }
    }
    if (!daemon)
        daemon = "huifangd";
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "huifang check-config: fork: %s\n", strerror(errno));
        return CLI_USAGE;
    }
    if (pid == 0) {
        execlp(daemon, daemon, "-c", file, "--check-config", (char *)NULL);
        fprintf(stderr, "huifang check-config: cannot run %s: %s\n", daemon, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
        return CLI_USAGE;
    return WEXITSTATUS(status) == 0 ? CLI_OK : CLI_REJECTED;
}

/* ---- customer ------------------------------------------------------------ */

static const char customer_help[] =
    "usage: huifang customer ID --preferred-time HH:MM-HH:MM[,HH:MM-HH:MM] | none\n"
    "\n"
    "Record when a customer wants to be contacted (\"evenings, please\"): their\n"
    "surveys go in that time instead of the follow-up windows, on working days,\n"
    "never at night (the time must lie inside the notice hours). \"none\" goes back\n"
    "to the default windows. A token with the trigger, cs or admin role.\n";

int cmd_customer(struct cli *c, int argc, char **argv)
{
    int rc = begin(c, &argc, argv, customer_help);
    if (rc >= 0)
        return rc;
    static const struct option opts[] = {{"preferred-time", required_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    const char *pref = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o != 'p')
            return bad_usage(customer_help);
        pref = optarg;
    }
    if (optind + 1 != argc || !pref || !*argv[optind]) {
        fprintf(stderr, "huifang customer: %s\n",
                !pref ? "--preferred-time is required" : "one customer id is needed");
        return bad_usage(customer_help);
    }
    if (cli_setup(c) != 0)
        return CLI_USAGE;
    struct buf path;
    buf_init(&path);
    char *id = curl_easy_escape(NULL, argv[optind], 0); /* one path segment */
    buf_printf(&path, "/v1/customers/%s/preferences", id ? id : "");
    curl_free(id);
    cJSON *b = cJSON_CreateObject();
    if (strcmp(pref, "none") == 0)
        cJSON_AddNullToObject(b, "preferred_time");
    else
        cJSON_AddStringToObject(b, "preferred_time", pref);
    char *body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    struct cli_resp r;
    if (cli_request(c, "POST", path.data, body, &r) != 0 || r.status != 200) {
        rc = cli_fail(&r);
    } else {
        rc = CLI_OK;
        if (c->json) {
            fwrite(r.body.data, 1, r.body.len, stdout);
            putchar('\n');
        } else {
            printf("customer %s: %s\n", argv[optind],
                   strcmp(pref, "none") == 0 ? "the default follow-up windows" : pref);
        }
    }
    cli_resp_cleanup(&r);
    free(body);
    buf_cleanup(&path);
    return rc;
}
