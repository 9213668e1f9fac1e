/*
 * reply_parse.c - libFuzzer harness: free-text replies (WeChat text, SMS
 * upstream, survey comments) through reply_parse() and
 * reply_is_sms_optout().
 *
 * Besides "no crash, no leak, no UB", it checks what reply.h promises:
 * scores in 1..10 or -1, yes in {-1,0,1}, the comment valid UTF-8 and
 * NUL-terminated inside its buffer, busy hours/days in range.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reply_parse.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_min_level = LOG_LVL_ERR;
    char *text = xstrndup((const char *)data, size);
    struct reply r;
    reply_parse(NULL, text, &r);
    size_t clen = strnlen(r.comment, sizeof r.comment);
    if (clen == sizeof r.comment || !utf8_valid(r.comment, clen))
        abort();
    if (r.score != -1 && (r.score < 1 || r.score > 10))
        abort();
    if (r.yes < -1 || r.yes > 1 || (r.complaint != 0 && r.complaint != 1))
        abort();
    if (r.busy_hour < -1 || r.busy_hour > 23 || r.busy_days < 0 || r.busy_days > 2)
        abort();
    if (strcmp(reply_kind_name(r.kind), "unknown") == 0)
        abort();
    (void)reply_is_sms_optout(text);
    free(text);
    return 0;
}
