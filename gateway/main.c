/*
 * main.c - huifangd's command line.
 *
 *   huifangd -c config/huifang.json        run the daemon
 *   huifangd -c FILE --check-config        check the config, print it (secrets as ***),
 *                                          render every template with sample data
 *   huifangd -c FILE --catalogue-markdown  print the catalogue as the README's table
 *   huifangd --hash-token < token.txt      print the SHA-256 to put in api_tokens
 *   huifangd -c FILE --migrate             apply the store's migrations, print the version
 */
#include "calendar.h"
#include "catalogue.h"
#include "catalogue_check.h"
#include "config.h"
#include "gateway.h"
#include "log.h"
#include "outbound.h"
#include "store.h"
#include "survey_def.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HUIFANG_VERSION "0.1.0"

static void usage(FILE *out)
{
    fputs("usage: huifangd [-c FILE] [--check-config | --catalogue-markdown | --migrate]\n"
          "       huifangd --hash-token   (reads a token on stdin, prints its SHA-256)\n"
          "       huifangd --version\n"
          "\n"
          "  -c, --config FILE   configuration file (default: $HUIFANG_CONFIG or\n"
          "                      config/huifang.json)\n"
          "  --check-config      load and check the configuration, print it, render every\n"
          "                      template with sample data and print each SMS preview\n"
          "                      with its length and part count, exit (1 on any problem)\n"
          "  --catalogue-markdown  print the milestone catalogue as a Markdown table\n"
          "  --migrate           create or migrate the store's schema (SQLite file or\n"
          "                      PostgreSQL), print its version, exit\n",
          out);
}

static int hash_token(void)
{
    char line[1024];
    if (!fgets(line, sizeof line, stdin)) {
        fputs("huifangd: no token on standard input\n", stderr);
        return 2;
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (strlen(line) < 16) {
        fputs("huifangd: tokens must be at least 16 characters\n", stderr);
        return 2;
    }
    char hex[65];
    sha256_hex(line, strlen(line), hex);
    puts(hex);
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = getenv("HUIFANG_CONFIG");
    int check_only = 0, markdown = 0, migrate_only = 0;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
            path = argv[++i];
        } else if (!strcmp(argv[i], "--check-config")) {
            check_only = 1;
        } else if (!strcmp(argv[i], "--catalogue-markdown")) {
            markdown = 1;
        } else if (!strcmp(argv[i], "--migrate")) {
            migrate_only = 1;
        } else if (!strcmp(argv[i], "--hash-token")) {
            return hash_token();
        } else if (!strcmp(argv[i], "--version")) {
            puts("huifangd " HUIFANG_VERSION);
            return 0;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "huifangd: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!path)
        path = "config/huifang.json";

    /* A peer closing a socket must not kill the daemon (libev manual,
     * curl's NOSIGNAL notes). */
    signal(SIGPIPE, SIG_IGN);
    clock_init_from_env();

    char err[1024];
    struct config *cfg = config_load(path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "huifangd: config error: %s\n", err);
        return 1;
    }
    if (tz_set(cfg->timezone) != 0) {
        fprintf(stderr, "huifangd: config error: %s: timezone: cannot use '%s'\n", path,
                cfg->timezone);
        config_free(cfg);
        return 1;
    }
    log_min_level = cfg->log_level;
    if (check_only || markdown) {
        /* Check everything a start would load: the catalogue, its
         * templates and the calendar, not only the config file. */
        struct calendar *cal;
        struct catalogue *cat;
        struct survey_set *surveys;
        int ok = gateway_load_data(cfg, &cat, &cal, &surveys, err, sizeof err) == 0;
        if (!ok) {
            fprintf(stderr, "huifangd: config error: %s\n", err);
        } else if (markdown) {
            catalogue_markdown(cat, stdout);
        } else {
            config_print(cfg, stdout);
            fputs("\n# every template rendered with the sample trigger\n", stdout);
            int problems = catalogue_check(cfg, cat, stdout, stderr);
            if (problems > 0) {
                fprintf(stderr, "huifangd: catalogue check: %d problem%s\n", problems,
                        problems == 1 ? "" : "s");
                ok = 0;
            }
        }
        catalogue_free(cat);
        calendar_free(cal);
        survey_set_free(surveys);
        config_free(cfg);
        return ok ? 0 : 1;
    }
    if (migrate_only) {
        /* Several instances may run this at once: the PostgreSQL store
         * migrates under an advisory lock. */
        struct store *s = store_open(config_store_location(cfg), cfg->synchronous_full, err,
                                     sizeof err);
        if (s)
            printf("schema version %d (%s)\n", store_schema_version(s), store_backend(s));
        else
            fprintf(stderr, "huifangd: %s\n", err);
        store_close(s);
        config_free(cfg);
        return s ? 0 : 1;
    }
    if (outbound_global_init() != 0) {
        fputs("huifangd: cannot initialise libcurl\n", stderr);
        config_free(cfg);
        return 1;
    }
    struct gateway *gw = gateway_new(cfg, path);
    int rc = 1;
    if (gw) {
        rc = gateway_run(gw);
        gateway_free(gw);
    }
    config_free(cfg);
    outbound_global_cleanup();
    return rc;
}
