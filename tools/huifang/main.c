/*
 * main.c - huifang, the command-line tool for staff and scripts: picks
 * the command, takes the options every command shares, prints help.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

static const char usage[] =
    "usage: huifang [--url URL] [--token-file FILE] [--json] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  trigger        tell huifangd a milestone happened on a site\n"
    "  results        callback results (回访结果), filtered; --csv for Excel\n"
    "  tickets        complaint tickets: list, show, report, resolve\n"
    "  report         milestones, staff, complaints, tickets, trend\n"
    "  import FILE    import the weekly follow-up list (CSV) as triggers\n"
    "  customer ID    a customer's preferred contact time\n"
    "  check-config   check a huifangd configuration file\n"
    "  help COMMAND   the help of a command (as COMMAND --help)\n"
    "\n"
    "Options for every command:\n"
    "  --url URL          huifangd's address (default $HUIFANG_URL, then \"url\" in\n"
    "                     ~/.config/huifang/cli.conf, then http://127.0.0.1:8080)\n"
    "  --token-file FILE  read the API token from FILE's first line (default\n"
    "                     $HUIFANG_TOKEN, then \"token\" in ~/.config/huifang/cli.conf)\n"
    "  --json             machine-readable output (huifangd's JSON)\n"
    "  -h, --help         help\n"
    "\n"
    "Exit codes:\n"
    "  0  done\n"
    "  1  usage: bad command line, no token, unreadable file\n"
    "  2  refused: huifangd answered with an error (4xx/5xx), or the config is invalid\n"
    "  3  unreachable: huifangd could not be reached\n"
    "  4  import: some rows were invalid or refused (the good ones are imported)\n";

int cli_common_options(struct cli *c, int argc, char **argv, int *help)
{
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        const char **slot = strcmp(a, "--url") == 0 || strncmp(a, "--url=", 6) == 0 ? &c->url
                            : strcmp(a, "--token-file") == 0 || strncmp(a, "--token-file=", 13) == 0
                                ? &c->token_file
                                : NULL;
        if (slot) {
            const char *eq = strchr(a, '=');
            if (eq) {
                *slot = eq + 1;
            } else if (i + 1 < argc) {
                *slot = argv[++i];
            } else {
                fprintf(stderr, "huifang: %s needs a value\n", a);
                return -1;
            }
        } else if (strcmp(a, "--json") == 0) {
            c->json = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = 1;
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    return out;
}

static const struct {
    const char *name;
    int (*fn)(struct cli *c, int argc, char **argv);
} commands[] = {
    {"trigger", cmd_trigger}, {"results", cmd_results},           {"tickets", cmd_tickets},
    {"report", cmd_report},   {"check-config", cmd_check_config}, {"import", cmd_import},
    {"customer", cmd_customer},
};

int main(int argc, char **argv)
{
    struct cli c = {.prog = argv[0]};
    /* Options before the command. */
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--json") == 0) {
            c.json = 1;
            i++;
        } else if ((strcmp(argv[i], "--url") == 0 || strcmp(argv[i], "--token-file") == 0) &&
                   i + 1 < argc) {
            if (argv[i][2] == 'u')
                c.url = argv[i + 1];
            else
                c.token_file = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--url=", 6) == 0) {
            c.url = argv[i++] + 6;
        } else if (strncmp(argv[i], "--token-file=", 13) == 0) {
            c.token_file = argv[i++] + 13;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return CLI_OK;
        } else {
            fprintf(stderr, "huifang: unknown option %s\n\n%s", argv[i], usage);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    const char *name = argv[i];
    char *help_argv[3];
    if (strcmp(name, "help") == 0) {
        if (i + 1 >= argc) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        help_argv[0] = argv[i + 1];
        help_argv[1] = (char *)"--help";
        help_argv[2] = NULL;
        argv = help_argv;
        argc = 2;
        i = 0;
        name = argv[0];
    }
    for (size_t k = 0; k < HF_ARRAY_LEN(commands); k++) {
        if (strcmp(commands[k].name, name) == 0) {
            curl_global_init(CURL_GLOBAL_DEFAULT);
            int rc = commands[k].fn(&c, argc - i, argv + i);
            cli_cleanup(&c);
            curl_global_cleanup();
            return rc;
        }
    }
    fprintf(stderr, "huifang: unknown command \"%s\"\n\n%s", name, usage);
    return CLI_USAGE;
}
