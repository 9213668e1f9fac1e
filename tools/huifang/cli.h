/*
 * cli.h - the huifang command-line tool: what its files share.
 *
 *   main.c      commands, common options, help, exit codes
 *   client.c    talking to huifangd: URL, token, one keep-alive libcurl handle
 *   commands.c  trigger, results, tickets, report, check-config, customer
 *   import.c    import of the weekly follow-up list (CSV)
 *
 * The tool is a client of huifangd's HTTP API and nothing else: it never
 * opens the database. Secrets (the token) are never printed.
 */
#ifndef HF_CLI_H
#define HF_CLI_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "util.h"

/* Exit codes (documented in `huifang --help` and the README). */
enum cli_exit {
    CLI_OK = 0,          /* done */
    CLI_USAGE = 1,       /* bad command line, no token, unreadable file */
    CLI_REJECTED = 2,    /* huifangd (or the config check) refused: 4xx/5xx, invalid config */
    CLI_UNREACHABLE = 3, /* huifangd could not be reached (refused, timeout) */
    CLI_PARTIAL = 4,     /* import: some rows invalid or refused, the good ones imported */
};

/* Options every command takes. */
struct cli {
    const char *url;         /* --url, $HUIFANG_URL, cli.conf url, default */
    const char *token_file;  /* --token-file */
    int json;                /* --json: machine-readable output */
    const char *prog;        /* argv[0] */
    char *token;             /* loaded on first use; heap */
    char *conf_url;          /* url from cli.conf; heap */
    void *curl;              /* CURL *, one handle for keep-alive */
};

/* An HTTP answer. */
struct cli_resp {
    long status;             /* 0 when huifangd was not reached */
    struct buf body;
    char error[256];         /* transport error when status is 0 */
};

/* ---- client.c ----------------------------------------------------------- */

/* Load the token and URL (see main.c's help for the order). 0, or -1 with
 * a message on stderr (exit CLI_USAGE). */
int cli_setup(struct cli *c);
void cli_cleanup(struct cli *c);
/* One request: @method "GET"/"POST", @path with its query string, @body
 * JSON or NULL. Fills @r (free with cli_resp_cleanup). Returns 0 when an
 * answer arrived, -1 when huifangd was not reached. */
int cli_request(struct cli *c, const char *method, const char *path, const char *body,
                struct cli_resp *r);
void cli_resp_cleanup(struct cli_resp *r);
/* Print why a request failed (transport error or the server's error
 * body) on stderr and return the exit code for it. */
int cli_fail(const struct cli_resp *r);
/* Append "&name=value" (URL-encoded) to @q when @value is not NULL. */
void cli_query_add(struct buf *q, const char *name, const char *value);

/* ---- commands.c / import.c ---------------------------------------------- */

int cmd_trigger(struct cli *c, int argc, char **argv);
int cmd_results(struct cli *c, int argc, char **argv);
int cmd_tickets(struct cli *c, int argc, char **argv);
int cmd_report(struct cli *c, int argc, char **argv);
int cmd_check_config(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_customer(struct cli *c, int argc, char **argv);

/* ---- main.c ------------------------------------------------------------- */

/* Parse the common options out of @argv in place (--url, --token-file,
 * --json, --help); returns the new argc, or -1 on a bad option. *help is
 * set when --help / -h was given. */
int cli_common_options(struct cli *c, int argc, char **argv, int *help);

#endif
