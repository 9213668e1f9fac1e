/*
 * csv.h - CSV as spreadsheets read it (RFC 4180), both ways.
 *
 * Writing: UTF-8 with a byte-order mark (so Excel and WPS detect UTF-8 and
 * show the Chinese), CRLF line ends, fields quoted when they hold a comma,
 * a quote, CR or LF (quotes doubled). A text cell starting with = + - @ or
 * a tab is prefixed with an apostrophe so a customer's reply can never run
 * as a spreadsheet formula (CSV injection).
 *
 * Reading: records with quoted fields (embedded commas, quotes, line
 * breaks), CRLF or LF, a leading BOM skipped; for `huifang import`.
 *
 * Leaf module (util and cJSON only): used by huifangd and the huifang CLI.
 */
#ifndef HF_CSV_H
#define HF_CSV_H

#include <stddef.h>

#include "util.h"

struct cJSON;

/* Start a document: the UTF-8 byte-order mark. */
void csv_begin(struct buf *b);
/* One field; @first = 1 for the first of a row. NULL is an empty field. */
void csv_field(struct buf *b, const char *v, int first);
/* End the row (CRLF). */
void csv_end_row(struct buf *b);

/* A column of csv_from_items(): @key is a member name, or a dotted path
 * into nested objects ("customer.mobile", "score_distribution.10"). */
struct csv_col {
    const char *key;
    const char *header;   /* the header cell, e.g. "回访节点" */
};
/* A whole document from an array of objects: BOM, the header row, one row
 * per item. Strings as they are, integers without decimals, other numbers
 * with up to 4, true/false as 是/否, null as empty, arrays and objects as
 * compact JSON. Caller owns the result; free(). */
char *csv_from_items(const struct cJSON *items, const struct csv_col *cols, size_t ncols);

/* ---- reading ------------------------------------------------------------ */

#define CSV_MAX_FIELDS 64

struct csv_reader {
    const char *data;     /* borrowed */
    size_t len, pos;
    int line;             /* the line the next record starts on (1-based) */
};
struct csv_record {
    char *field[CSV_MAX_FIELDS]; /* heap; freed by csv_record_cleanup */
    size_t n;
    int line;             /* the line it started on */
};

/* Start reading @data (borrowed for the reader's life); skips a BOM. */
void csv_reader_init(struct csv_reader *r, const char *data, size_t len);
/* The next record: 1 with @rec filled (free with csv_record_cleanup), 0 at
 * the end, -1 on malformed input (an unterminated quote, text after a
 * closing quote, more than CSV_MAX_FIELDS fields) with @why set and the
 * reader past the bad record. Empty lines are skipped. */
int csv_read(struct csv_reader *r, struct csv_record *rec, const char **why);
void csv_record_cleanup(struct csv_record *rec);

#endif
