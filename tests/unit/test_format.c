/* test_format.c: cmocka tests for format.c (float repr, format specs, round),
 * every expected string taken from CPython 3.11's output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "format.h"

/* repr(float) table generated with python3.11. */
static const struct { double v; const char *repr; } repr_cases[] = {
  {0.0, "0.0"},
  {-0.0, "-0.0"},
  {1.0, "1.0"},
  {-1.0, "-1.0"},
  {0.1, "0.1"},
  {0.2, "0.2"},
  {0.3, "0.3"},
  {0.30000000000000004, "0.30000000000000004"},
  {0.3333333333333333, "0.3333333333333333"},
  {0.6666666666666666, "0.6666666666666666"},
  {1e+16, "1e+16"},
  {1000000000000000.0, "1000000000000000.0"},
  {1e-05, "1e-05"},
  {0.0001, "0.0001"},
  {1.5e-05, "1.5e-05"},
  {123456789012345.0, "123456789012345.0"},
  {1234567890123456.0, "1234567890123456.0"},
  {1.2345678901234568e+16, "1.2345678901234568e+16"},
  {100.0, "100.0"},
  {1e+22, "1e+22"},
  {1e+23, "1e+23"},
  {1.7976931348623157e+308, "1.7976931348623157e+308"},
  {5e-324, "5e-324"},
  {2.2250738585072014e-308, "2.2250738585072014e-308"},
  {INFINITY, "inf"},
  {-INFINITY, "-inf"},
  {NAN, "nan"},
  {3.141592653589793, "3.141592653589793"},
  {2.718281828459045, "2.718281828459045"},
  {0.5, "0.5"},
  {2.5, "2.5"},
  {1e+100, "1e+100"},
  {1.23e-07, "1.23e-07"},
  {9007199254740992.0, "9007199254740992.0"},
  {0.000123, "0.000123"},
  {123.456, "123.456"},
  {-1234.5, "-1234.5"},
  {1e-310, "1e-310"},
  {4.35, "4.35"},
  {2.675, "2.675"},
  {1.1, "1.1"},
  {99.99, "99.99"},
  {INFINITY, "inf"},
  {6.02214076e+23, "6.02214076e+23"},
  {6.62607015e-34, "6.62607015e-34"},
  {0.30000000000000004, "0.30000000000000004"},
  {1.4142135623730951, "1.4142135623730951"},
  {9007199254740992.0, "9007199254740992.0"},
  {9.223372036854776e+18, "9.223372036854776e+18"},
  {1e-320, "1e-320"},
};

static void test_float_repr(void **state) {
  for (size_t i = 0; i < sizeof repr_cases / sizeof repr_cases[0]; i++) {
    StrBuf sb;
    sb_init(&sb);
    fmt_float_repr(repr_cases[i].v, &sb);
    assert_string_equal(sb.data, repr_cases[i].repr);
    sb_free(&sb);
  }
}

/* format(value, spec) table generated with python3.11. */
static const struct { char kind; int64_t i; double f; const char *s; const char *spec;
                      const char *want; } fmt_cases[] = {
  {'i', 1234, 0, NULL, "010,", "00,001,234"},
  {'i', 1234, 0, NULL, "08,", "0,001,234"},
  {'i', -5, 0, NULL, "010", "-000000005"},
  {'i', 255, 0, NULL, "#010_x", "0x000_00ff"},
  {'i', 12345678, 0, NULL, "_b", "1011_1100_0110_0001_0100_1110"},
  {'i', 65, 0, NULL, "c", "A"},
  {'i', 5, 0, NULL, "^+7", "  +5   "},
  {'i', -12, 0, NULL, "#X", "-0XC"},
  {'i', 3, 0, NULL, ".0%", "300%"},
  {'i', 1, 0, NULL, "%", "100.000000%"},
  {'i', 12, 0, NULL, "x<05", "12xxx"},
  {'f', 0, 1.0, NULL, "", "1.0"},
  {'f', 0, 1e+16, NULL, "", "1e+16"},
  {'f', 0, 0.1, NULL, ".3", "0.1"},
  {'f', 0, 1234.5, NULL, ",.2f", "1,234.50"},
  {'f', 0, INFINITY, NULL, "F", "INF"},
  {'f', 0, -0.0, NULL, "z", "0.0"},
  {'f', 0, 2.675, NULL, ".2f", "2.67"},
  {'f', 0, 0.5, NULL, ".0f", "0"},
  {'f', 0, 1.5, NULL, "#g", "1.50000"},
  {'f', 0, 12.0, NULL, ".2", "1.2e+01"},
  {'f', 0, 0.0, NULL, ".0", "0e+00"},
  {'f', 0, 1e+16, NULL, "#", "1.e+16"},
  {'f', 0, 1234567.0, NULL, ",", "1,234,567.0"},
  {'f', 0, 1e-05, NULL, "g", "1e-05"},
  {'f', 0, 1234.5, NULL, "012,.1f", "00,001,234.5"},
  {'f', 0, -0.4, NULL, "z.0f", "0"},
  {'f', 0, 0.001, NULL, "%", "0.100000%"},
  {'f', 0, NAN, NULL, "+", "+nan"},
  {'s', 0, 0, "abc", "*^9.2", "***ab****"},
  {'s', 0, 0, "h\xc3\xa9llo", ">8", "   h\xc3\xa9llo"},
  {'s', 0, 0, "h\xc3\xa9llo", ".2", "h\xc3\xa9"},
  {'s', 0, 0, "ab", "^5", " ab  "},
  {'s', 0, 0, "a", "05", "a0000"},
};

static bool run_format(char kind, int64_t i, double f, const char *s, const char *spec,
                       StrBuf *out, char *err, size_t errsz) {
  FormatSpec fs;
  const char *tn = kind == 'i' ? "int" : kind == 'f' ? "float" : "str";
  if (!fmt_parse_spec_typed(spec, strlen(spec), tn, &fs, err, errsz)) return false;
  if (kind == 'i') return fmt_int(i, &fs, out, err, errsz);
  if (kind == 'f') return fmt_float(f, &fs, out, err, errsz);
  return fmt_str(s, strlen(s), &fs, out, err, errsz);
}

static void test_format_specs(void **state) {
  for (size_t k = 0; k < sizeof fmt_cases / sizeof fmt_cases[0]; k++) {
    StrBuf sb;
    char err[200] = "";
    sb_init(&sb);
    bool ok = run_format(fmt_cases[k].kind, fmt_cases[k].i, fmt_cases[k].f, fmt_cases[k].s,
                         fmt_cases[k].spec, &sb, err, sizeof err);
    assert_true(ok);
    assert_string_equal(sb.data, fmt_cases[k].want);
    sb_free(&sb);
  }
}

/* The ValueError messages CPython gives for bad specs. */
static const struct { char kind; const char *spec; const char *msg; } err_cases[] = {
  {'i', "abc", "Invalid format specifier 'abc' for object of type 'int'"},
  {'i', ".", "Format specifier missing precision"},
  {'i', ",_", "Cannot specify both ',' and '_'."},
  {'i', "_,", "Cannot specify both ',' and '_'."},
  {'i', ".2", "Precision not allowed in integer format specifier"},
  {'s', ",", "Cannot specify ',' with 's'."},
  {'s', "+", "Sign not allowed in string format specifier"},
  {'s', "=5", "'=' alignment not allowed in string format specifier"},
  {'s', "#", "Alternate form (#) not allowed in string format specifier"},
  {'s', "d", "Unknown format code 'd' for object of type 'str'"},
  {'i', "s", "Unknown format code 's' for object of type 'int'"},
  {'f', "d", "Unknown format code 'd' for object of type 'float'"},
  {'i', ",c", "Cannot specify ',' with 'c'."},
  {'i', "+c", "Sign not allowed with integer format specifier 'c'"},
  {'i', "#c", "Alternate form (#) not allowed with integer format specifier 'c'"},
  {'i', ",x", "Cannot specify ',' with 'x'."},
  {'i', "_n", "Cannot specify '_' with 'n'."},
  {'f', ",n", "Cannot specify ',' with 'n'."},
  {'i', "z", "Negative zero coercion (z) not allowed in integer format specifier"},
  {'i', "99999999999999999999", "Too many decimal digits in format string"},
};

static void test_format_errors(void **state) {
  for (size_t k = 0; k < sizeof err_cases / sizeof err_cases[0]; k++) {
    StrBuf sb;
    char err[200] = "";
    sb_init(&sb);
    bool ok = run_format(err_cases[k].kind, 1, 1.0, "x", err_cases[k].spec, &sb, err,
                         sizeof err);
    assert_false(ok);
    assert_string_equal(err, err_cases[k].msg);
    sb_free(&sb);
  }
}

static void test_char_range(void **state) {
  StrBuf sb;
  char err[200];
  sb_init(&sb);
  assert_false(run_format('i', 0x110000, 0, NULL, "c", &sb, err, sizeof err));
  assert_string_equal(err, "%c arg not in range(0x110000)");
  assert_true(run_format('i', 0xE9, 0, NULL, "c", &sb, err, sizeof err));
  assert_string_equal(sb.data, "\xc3\xa9");
  sb_free(&sb);
}

static void test_parse_fields(void **state) {
  FormatSpec fs;
  char err[100];
  const char *spec = "\xc3\xa9^+#012_.3f";
  assert_true(fmt_parse_spec(spec, strlen(spec), &fs, err, sizeof err));
  assert_int_equal(fs.fill, 0xE9);
  assert_true(fs.fill_set);
  assert_int_equal(fs.align, '^');
  assert_int_equal(fs.sign, '+');
  assert_true(fs.alt);
  assert_false(fs.zero);  /* a fill was given: "012" is the width */
  assert_int_equal(fs.width, 12);
  assert_int_equal(fs.grouping, '_');
  assert_int_equal(fs.precision, 3);
  assert_int_equal(fs.type, 'f');
  assert_false(fmt_parse_spec("xyz", 3, &fs, err, sizeof err));
  assert_string_equal(err, "Invalid format specifier");
}

/* round(x, n) table checked against python3.11. */
static const struct { double x; int64_t n; double want; } round_cases[] = {
  {2.675, 2, 2.67}, {1234.5, -2, 1200.0}, {50.0, -2, 0.0}, {150.0, -2, 200.0},
  {-250.0, -2, -200.0}, {999.9, -3, 1000.0}, {0.125, 2, 0.12}, {0.375, 2, 0.38},
  {0.5, 0, 0.0}, {1.5, 0, 2.0}, {2.5, 0, 2.0}, {5e-324, 323, 0.0}, {1.23456, 400, 1.23456},
  {1e300, -300, 1e300}, {123.456, -1, 120.0}, {1e22, -22, 1e22}, {5e22, -23, 0.0},
  {0.7, -1, 0.0}, {1.0005, 3, 1.0}, {2.5e-5, 5, 3e-5},
};

static void test_round(void **state) {
  for (size_t k = 0; k < sizeof round_cases / sizeof round_cases[0]; k++)
    assert_true(fmt_round(round_cases[k].x, round_cases[k].n) == round_cases[k].want);
  assert_true(signbit(fmt_round(-0.4, 0)));
  assert_true(isinf(fmt_round(1.7e308, -308)));
  assert_true(isnan(fmt_round(NAN, 2)));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_float_repr),
    cmocka_unit_test(test_format_specs),
    cmocka_unit_test(test_format_errors),
    cmocka_unit_test(test_char_range),
    cmocka_unit_test(test_parse_fields),
    cmocka_unit_test(test_round),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
