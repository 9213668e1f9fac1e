/*
 * template.c - libFuzzer harness: the "{{placeholder}}" engine.
 *
 * Input: template source, a NUL byte, then the value every placeholder
 * renders to (trigger variables come from the ERP, so both halves are
 * untrusted). Compiles, checks, renders, and counts the SMS length of the
 * result; a template without placeholders must render to itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "template.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int known(void *arg, const char *name)
{
    (void)arg;
    return name[0] != 'x'; /* some names unknown, to reach the error path */
}

static const char *lookup(void *arg, const char *name)
{
    return name[0] == 'n' ? NULL : (const char *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_min_level = LOG_LVL_ERR;
    const uint8_t *nul = memchr(data, 0, size);
    size_t srclen = nul ? (size_t)(nul - data) : size;
    char *src = xstrndup((const char *)data, srclen);
    char *value = nul ? xstrndup((const char *)nul + 1, size - srclen - 1) : xstrdup("");
    char err[128];
    struct tmpl *t = tmpl_compile(src, err, sizeof err);
    if (t) {
        const char *bad = NULL;
        if (tmpl_check(t, known, NULL, &bad) != 0 && (!bad || bad[0] != 'x'))
            abort();
        (void)tmpl_uses(t, "customer.name");
        char *out = tmpl_render(t, lookup, value);
        if (!strstr(src, "{{") && strcmp(out, src) != 0)
            abort();
        size_t n = sms_length("安居装饰", out);
        (void)sms_segments(n);
        free(out);
        tmpl_free(t);
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    free(value);
    free(src);
    return 0;
}
