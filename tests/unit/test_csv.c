/*
 * test_csv.c - CSV as Excel and WPS read it: the BOM, CRLF, RFC 4180
 * quoting, formula defusing, numbers and nested keys when writing; quoted
 * fields, line counting, BOM and malformed records when reading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "csv.h"
#include "util.h"

static void test_field_quoting(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    csv_field(&b, "plain", 1);
    csv_field(&b, "a,b", 0);
    csv_field(&b, "say \"hi\"", 0);
    csv_field(&b, "two\nlines", 0);
    csv_field(&b, NULL, 0);
    csv_field(&b, "中文", 0);
    csv_end_row(&b);
    assert_string_equal(b.data, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,中文\r\n");
    buf_cleanup(&b);
}

static void test_formulas_are_defused(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    csv_field(&b, "=HYPERLINK(\"x\")", 1);
    csv_field(&b, "+86", 0);
    csv_field(&b, "-1", 0);
    csv_field(&b, "@SUM(A1)", 0);
    csv_field(&b, "a=b", 0);
    csv_end_row(&b);
    assert_string_equal(b.data, "\"'=HYPERLINK(\"\"x\"\")\",'+86,'-1,'@SUM(A1),a=b\r\n");
    buf_cleanup(&b);
}

static void test_from_items(void **state)
{
    (void)state;
    cJSON *items = cJSON_Parse(
        "[{\"id\":7,\"name\":\"张伟\",\"rate\":0.6667,\"neg\":-3,\"ok\":true,\"none\":null,"
        "\"d\":{\"10\":2},\"arr\":[1,2]},{\"id\":8}]");
    static const struct csv_col cols[] = {{"id", "编号"},  {"name", "姓名"}, {"rate", "回复率"},
                                          {"neg", "差"},   {"ok", "是否"},   {"none", "空"},
                                          {"d.10", "10分"}, {"arr", "列表"}, {"d.x.y", "缺"}};
    char *out = csv_from_items(items, cols, sizeof cols / sizeof cols[0]);
    assert_string_equal(out, "\xEF\xBB\xBF编号,姓名,回复率,差,是否,空,10分,列表,缺\r\n"
                             "7,张伟,0.6667,-3,是,,2,\"[1,2]\",\r\n"
                             "8,,,,,,,,\r\n");
    free(out);
    cJSON_Delete(items);
}

static void test_read_records(void **state)
{
    (void)state;
    const char *in = "\xEF\xBB\xBF"
                     "a,b,c\r\n"
                     "\r\n"
                     "1,\"x,y\",\"he said \"\"ok\"\"\"\n"
                     "2,\"multi\nline\",\n"
                     "3,last";
    struct csv_reader r;
    struct csv_record rec;
    const char *why = NULL;
    csv_reader_init(&r, in, strlen(in));
    assert_int_equal(csv_read(&r, &rec, &why), 1);
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.line, 1);
    assert_string_equal(rec.field[0], "a");
    csv_record_cleanup(&rec);
    assert_int_equal(csv_read(&r, &rec, &why), 1);
    assert_int_equal(rec.line, 3);
    assert_string_equal(rec.field[1], "x,y");
    assert_string_equal(rec.field[2], "he said \"ok\"");
    csv_record_cleanup(&rec);
    assert_int_equal(csv_read(&r, &rec, &why), 1);
    assert_int_equal(rec.line, 4);
    assert_int_equal(rec.n, 3);
    assert_string_equal(rec.field[1], "multi\nline");
    assert_string_equal(rec.field[2], "");
    csv_record_cleanup(&rec);
    assert_int_equal(csv_read(&r, &rec, &why), 1);
    assert_int_equal(rec.line, 6);
    assert_string_equal(rec.field[1], "last");
    csv_record_cleanup(&rec);
    assert_int_equal(csv_read(&r, &rec, &why), 0);
}

static void test_read_malformed(void **state)
{
    (void)state;
    const char *in = "1,\"open\n"; /* never closed */
    struct csv_reader r;
    struct csv_record rec;
    const char *why = NULL;
    csv_reader_init(&r, in, strlen(in));
    assert_int_equal(csv_read(&r, &rec, &why), -1);
    assert_string_equal(why, "a quoted field is not closed");
    assert_int_equal(csv_read(&r, &rec, &why), 0);

    const char *in2 = "1,\"a\"b,3\n2,ok\n";
    csv_reader_init(&r, in2, strlen(in2));
    assert_int_equal(csv_read(&r, &rec, &why), -1);
    assert_string_equal(why, "text after the closing quote of a field");
    /* The reader moves on to the next line. */
    assert_int_equal(csv_read(&r, &rec, &why), 1);
    assert_int_equal(rec.line, 2);
    assert_string_equal(rec.field[1], "ok");
    csv_record_cleanup(&rec);

    const char *in3 = "a\"b\n";
    csv_reader_init(&r, in3, strlen(in3));
    assert_int_equal(csv_read(&r, &rec, &why), -1);
    assert_string_equal(why, "a quote inside an unquoted field");
}

/* Writing then reading gives the same cells back. */
static void test_round_trip(void **state)
{
    (void)state;
    static const char *const cells[] = {"普通", "逗号,在内", "引号\"在内", "换行\r\n在内", ""};
    struct buf b;
    buf_init(&b);
    csv_begin(&b);
    for (size_t i = 0; i < 5; i++)
        csv_field(&b, cells[i], i == 0);
    csv_end_row(&b);
    struct csv_reader r;
    struct csv_record rec;
    const char *why = NULL;
    csv_reader_init(&r, b.data, b.len);
    assert_int_equal(csv_read(&r, &rec, &why), 1);
    assert_int_equal(rec.n, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(rec.field[i], cells[i]);
    csv_record_cleanup(&rec);
    assert_int_equal(csv_read(&r, &rec, &why), 0);
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_quoting),    cmocka_unit_test(test_formulas_are_defused),
        cmocka_unit_test(test_from_items),       cmocka_unit_test(test_read_records),
        cmocka_unit_test(test_read_malformed),   cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
