/* test_random.c: checks the Mersenne Twister behind aso's random module
 * against numbers printed by CPython 3.11 (tables generated with python3's
 * random.Random(seed)), so seeded aso scripts print what python3 prints.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "builtins.h"

static const uint64_t seeds[] = {0ull, 1ull, 42ull, 12345ull, 1099511627776ull, 7ull,
                                 9223372036854775807ull};
static const double want_random[][4] = {
  {0.8444218515250481, 0.7579544029403025, 0.420571580830845, 0.25891675029296335},
  {0.13436424411240122, 0.8474337369372327, 0.763774618976614, 0.2550690257394217},
  {0.6394267984578837, 0.025010755222666936, 0.27502931836911926, 0.22321073814882275},
  {0.41661987254534116, 0.010169169457068361, 0.8252065092537432, 0.2986398551995928},
  {0.1036394562812375, 0.6705558677439764, 0.4266543913526999, 0.38773077278691204},
  {0.32383276483316237, 0.15084917392450192, 0.6509344730398537, 0.07243628666754276},
  {0.3166448820870279, 0.631259308253863, 0.8035542479972343, 0.45346382341714553},
};
/* after 4 random(): getrandbits(32), getrandbits(7), getrandbits(50),
 * randrange(1000), randrange(10**12) */
static const uint64_t want_bits[][5] = {
  {2195908194ull, 62ull, 1033839022031736ull, 802ull, 334276672864ull},
  {2127877499ull, 97ull, 531701701925027ull, 667ull, 864918861462ull},
  {3163119785ull, 13ull, 833918051560813ull, 913ull, 96831611956ull},
  {1582316135ull, 119ull, 304269199919700ull, 579ull, 177967245904ull},
  {2690737890ull, 71ull, 806066911735810ull, 692ull, 757601329139ull},
  {2301595691ull, 12ull, 656160904301048ull, 59ull, 557957930388ull},
  {2047809456ull, 99ull, 970128808712338ull, 762ull, 303176385058ull},
};
static const double want_after_2000 = 0.14326043416332868;

#define NSEEDS (sizeof seeds / sizeof seeds[0])

static void test_random_sequences(void **state) {
  (void)state;
  for (size_t s = 0; s < NSEEDS; s++) {
    MtState st;
    mt_seed_u64(&st, seeds[s]);
    for (int i = 0; i < 4; i++) assert_true(mt_random(&st) == want_random[s][i]);
  }
}

static void test_bits_and_randbelow(void **state) {
  (void)state;
  for (size_t s = 0; s < NSEEDS; s++) {
    MtState st;
    mt_seed_u64(&st, seeds[s]);
    for (int i = 0; i < 4; i++) mt_random(&st);
    assert_int_equal(mt_getrandbits(&st, 32), want_bits[s][0]);
    assert_int_equal(mt_getrandbits(&st, 7), want_bits[s][1]);
    assert_int_equal(mt_getrandbits(&st, 50), want_bits[s][2]);
    assert_int_equal(mt_randbelow(&st, 1000), want_bits[s][3]);
    assert_int_equal(mt_randbelow(&st, 1000000000000ull), want_bits[s][4]);
  }
}

static void test_long_run(void **state) {
  (void)state;
  MtState st;
  mt_seed_u64(&st, 42);
  for (int i = 0; i < 2000; i++) mt_random(&st);
  assert_true(mt_random(&st) == want_after_2000);
}

static void test_edge_cases(void **state) {
  (void)state;
  MtState st;
  mt_seed_u64(&st, 3);
  assert_int_equal(mt_getrandbits(&st, 0), 0);
  assert_int_equal(mt_randbelow(&st, 1), 0);
  for (int i = 0; i < 1000; i++) assert_true(mt_randbelow(&st, 3) < 3);
  for (int i = 0; i < 1000; i++) {
    double d = mt_random(&st);
    assert_true(d >= 0.0 && d < 1.0);
  }
}

/* random.seed(str): the text, or one character repeated [rep] times (long
 * inputs cross SHA-512's 128-byte block boundary). */
static const struct { const char *text; int rep; double want[2]; } str_seeds[] = {
  {"hello", 0, {0.3537754404730722, 0.6631985810268619}},
  {"", 0, {0.9602256525641875, 0.595411957851699}},
  {"x", 200, {0.8500063097913054, 0.17305576775745346}},
  {"h\xc3\xa9llo", 0, {0.013203794245314593, 0.8358731799907464}},
  {"a", 111, {0.8914333082163279, 0.7000703999753025}},
  {"b", 112, {0.20384843725582869, 0.37373699685684925}},
};

static void test_str_seeds(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof str_seeds / sizeof str_seeds[0]; i++) {
    char buf[256];
    size_t len;
    if (str_seeds[i].rep) {
      len = (size_t)str_seeds[i].rep;
      memset(buf, str_seeds[i].text[0], len);
    } else {
      len = strlen(str_seeds[i].text);
      memcpy(buf, str_seeds[i].text, len);
    }
    MtState st;
    mt_seed_bytes(&st, buf, len);
    assert_true(mt_random(&st) == str_seeds[i].want[0]);
    assert_true(mt_random(&st) == str_seeds[i].want[1]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_random_sequences),
    cmocka_unit_test(test_bits_and_randbelow),
    cmocka_unit_test(test_long_run),
    cmocka_unit_test(test_edge_cases),
    cmocka_unit_test(test_str_seeds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
