/*
 * config.c - libFuzzer harness: the daemon's JSON config file through
 * config_parse() (the body of config_load()), then config_print() of
 * every config it accepts (secrets must print as ***).
 *
 * The input is parsed as if it were config/huifang.json, so relative
 * paths resolve against config/ and the shipped catalogue, calendar and
 * templates exist: run from the repository root. A refusal must say why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define SECRET "fuzz-secret-value-should-not-print"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_min_level = LOG_LVL_ERR;
    setenv("HUIFANG_SURVEY_SECRET", SECRET, 1);
    setenv("HUIFANG_WEBHOOK_SECRET", SECRET, 1);
    setenv("HUIFANG_WECHAT_SECRET", SECRET, 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    /* exactly the input's bytes: the parser must not read past @len */
    char *text = xmalloc(size ? size : 1);
    memcpy(text, data, size);
    struct config *c = config_parse("config/huifang.json", text, size, err, sizeof err);
    if (c) {
        char *out = NULL;
        size_t outlen = 0;
        FILE *f = open_memstream(&out, &outlen);
        if (!f)
            abort();
        config_print(c, f);
        fclose(f);
        if (strstr(out, SECRET) && !memmem(data, size, SECRET, strlen(SECRET)))
            abort(); /* a secret printed in clear */
        free(out);
        config_free(c);
    } else if (!err[0]) {
        abort();
    }
    free(text);
    return 0;
}
