/*
 * csv.c - CSV writing for exports and reading for imports (see csv.h).
 */
#include "csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ---- writing ----------------------------------------------------------- */

void csv_begin(struct buf *b)
{
    buf_append(b, "\xEF\xBB\xBF", 3);
}

void csv_field(struct buf *b, const char *v, int first)
{
    if (!first)
        buf_append(b, ",", 1);
    if (!v || !*v)
        return;
    /* A cell a spreadsheet would evaluate becomes text. */
    int formula = v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' ||
                  v[0] == '\r';
    int quote = strpbrk(v, ",\"\r\n") != NULL;
    if (quote)
        buf_append(b, "\"", 1);
    if (formula)
        buf_append(b, "'", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            buf_append(b, "\"\"", 2);
        else
            buf_append(b, p, 1);
    }
    if (quote)
        buf_append(b, "\"", 1);
}

void csv_end_row(struct buf *b)
{
    buf_append(b, "\r\n", 2);
}

/* The member at dotted @path of @o, or NULL. */
static const cJSON *lookup(const cJSON *o, const char *path)
{
    char part[64];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, part);
        path += n + (dot ? 1 : 0);
    }
    return o;
}

static void cell(struct buf *b, const cJSON *v, int first)
{
    char num[48];
    if (!v || cJSON_IsNull(v)) {
        csv_field(b, NULL, first);
    } else if (cJSON_IsString(v)) {
        csv_field(b, v->valuestring, first);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15)
            snprintf(num, sizeof num, "%.0f", d);
        else
            snprintf(num, sizeof num, "%.4g", d);
        /* Numbers are numbers, not formulas: write them unguarded. */
        if (!first)
            buf_append(b, ",", 1);
        buf_puts(b, num);
    } else if (cJSON_IsBool(v)) {
        csv_field(b, cJSON_IsTrue(v) ? "是" : "否", first);
    } else {
        char *j = cJSON_PrintUnformatted(v);
        csv_field(b, j, first);
        free(j);
    }
}

char *csv_from_items(const cJSON *items, const struct csv_col *cols, size_t ncols)
{
    struct buf b;
    buf_init(&b);
    csv_begin(&b);
    for (size_t i = 0; i < ncols; i++)
        csv_field(&b, cols[i].header, i == 0);
    csv_end_row(&b);
    const cJSON *it;
    cJSON_ArrayForEach(it, items) {
        for (size_t i = 0; i < ncols; i++)
            cell(&b, lookup(it, cols[i].key), i == 0);
        csv_end_row(&b);
    }
    return buf_steal(&b);
}

/* ---- reading ----------------------------------------------------------- */

void csv_reader_init(struct csv_reader *r, const char *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    r->line = 1;
}

void csv_record_cleanup(struct csv_record *rec)
{
    for (size_t i = 0; i < rec->n; i++)
        free(rec->field[i]);
    rec->n = 0;
}

/* Skip to the start of the next line (after a malformed record). */
static void skip_line(struct csv_reader *r)
{
    while (r->pos < r->len && r->data[r->pos] != '\n')
        r->pos++;
    if (r->pos < r->len) {
        r->pos++;
        r->line++;
    }
}

int csv_read(struct csv_reader *r, struct csv_record *rec, const char **why)
{
    rec->n = 0;
    /* Skip empty lines. */
    while (r->pos < r->len && (r->data[r->pos] == '\n' || r->data[r->pos] == '\r')) {
        if (r->data[r->pos] == '\n')
            r->line++;
        r->pos++;
    }
    if (r->pos >= r->len)
        return 0;
    rec->line = r->line;
    struct buf f;
    buf_init(&f);
    for (;;) {
        /* One field. */
        buf_append(&f, "", 0);
        f.len = 0;
        int quoted = r->pos < r->len && r->data[r->pos] == '"';
        if (quoted) {
            r->pos++;
            for (;;) {
                if (r->pos >= r->len) {
                    *why = "a quoted field is not closed";
                    goto bad;
                }
                char c = r->data[r->pos++];
                if (c == '"') {
                    if (r->pos < r->len && r->data[r->pos] == '"') {
                        buf_append(&f, "\"", 1);
                        r->pos++;
                        continue;
                    }
                    break;
                }
                if (c == '\n')
                    r->line++;
                buf_append(&f, &c, 1);
            }
            if (r->pos < r->len && r->data[r->pos] != ',' && r->data[r->pos] != '\n' &&
                r->data[r->pos] != '\r') {
                *why = "text after the closing quote of a field";
                goto bad;
            }
        } else {
            while (r->pos < r->len && r->data[r->pos] != ',' && r->data[r->pos] != '\n' &&
                   r->data[r->pos] != '\r') {
                if (r->data[r->pos] == '"') {
                    *why = "a quote inside an unquoted field";
                    goto bad;
                }
                buf_append(&f, &r->data[r->pos++], 1);
            }
        }
        if (rec->n >= CSV_MAX_FIELDS) {
            *why = "too many fields";
            goto bad;
        }
        rec->field[rec->n++] = xstrndup(f.data ? f.data : "", f.len);
        if (r->pos >= r->len)
            break;
        char c = r->data[r->pos++];
        if (c == ',')
            continue;
        if (c == '\r' && r->pos < r->len && r->data[r->pos] == '\n')
            r->pos++;
        r->line++;
        break;
    }
    buf_cleanup(&f);
    return 1;
bad:
    buf_cleanup(&f);
    csv_record_cleanup(rec);
    skip_line(r);
    return -1;
}
