# aso: every entry point of the project.
#   make            build build/aso (installs missing Debian packages first)
#   make run        build and run the main example (the seed's two tasks)
#   make test       unit tests (cmocka) + golden tests + examples
#   make check-asan the whole suite under AddressSanitizer + UBSan
#   make compat     every golden test (not marked aso-only) under python3 too
#   make bench      benchmarks side by side with python3 (and lua5.4)
#   make install PREFIX=/usr/local ; make clean
.DELETE_ON_ERROR:
.SUFFIXES:

B        ?= build
GEN      := $(B)/gen
OBJ      := $(B)/obj
CC       ?= cc
OPT      ?= -O2
SAN      ?=
CFLAGS_BASE := -std=gnu11 -g $(OPT) $(SAN) -fno-strict-aliasing -pthread
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS := -Isrc -I$(GEN) -D_GNU_SOURCE
LDLIBS   := -lm -ledit -pthread
PREFIX   ?= /usr/local
PYTHON   ?= $(shell command -v python3.11 || command -v python3)

SRCS     := $(sort $(wildcard src/*.c))
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
LIB_OBJS := $(patsubst src/%.c,$(OBJ)/%.o,$(LIB_SRCS)) \
            $(OBJ)/gen_lexer.o $(OBJ)/gen_parser.o $(OBJ)/gen_stdlib.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
STDLIB   := $(sort $(wildcard stdlib/*.aso))

# ---- tools: installed on demand -------------------------------------------
MISSING := $(strip \
  $(if $(shell command -v re2c),,re2c) \
  $(if $(shell command -v lemon),,lemon) \
  $(if $(wildcard /usr/include/cmocka.h),,libcmocka-dev) \
  $(if $(wildcard /usr/include/histedit.h),,libedit-dev) \
  $(if $(shell command -v pkg-config),,pkg-config))

.PHONY: all deps run test unit golden examples-test check-asan check-tsan compat bench fuzz timeline-test \
        install clean

all: $(B)/aso

deps:
	@sh .ci/deps $(MISSING)

ifneq ($(MISSING),)
$(GEN)/.deps-ok:
	@echo "aso: missing $(MISSING); installing them"
	@sh .ci/deps $(MISSING)
	@mkdir -p $(GEN) && touch $@
else
$(GEN)/.deps-ok:
	@mkdir -p $(GEN) && touch $@
endif

# ---- generated sources -----------------------------------------------------
$(GEN)/parser.c $(GEN)/parser.h &: grammar/parser.y | $(GEN)/.deps-ok
	lemon -q -d$(GEN) -T/usr/share/lemon/lempar.c grammar/parser.y
	@touch $(GEN)/parser.c $(GEN)/parser.h

$(GEN)/lexer.c: grammar/lexer.re $(GEN)/parser.h | $(GEN)/.deps-ok
	re2c -W -Werror --no-generation-date -o $@ $<

$(GEN)/stdlib.c: $(STDLIB) Makefile | $(GEN)/.deps-ok
	@{ echo '/* generated from stdlib/*.aso by the Makefile: do not edit */'; \
	  echo '#include <stddef.h>'; \
	  echo 'typedef struct { const char *name; const char *source; } StdlibEntry;'; \
	  echo 'const StdlibEntry stdlib_sources[] = {'; \
	  for f in $(STDLIB); do \
	    n=$$(basename $$f .aso); echo "  {\"$$n\","; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/    "/' -e 's/$$/\\n"/' $$f; \
	    echo '  },'; \
	  done; \
	  echo '  {NULL, NULL}'; echo '};'; } > $@

# ---- objects ----------------------------------------------------------------
GEN_CFLAGS := $(CFLAGS_BASE) -w

$(OBJ)/%.o: src/%.c $(GEN)/parser.h | $(GEN)/.deps-ok
	@mkdir -p $(OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) $(WARN) -MMD -MP -c -o $@ $<

$(OBJ)/gen_lexer.o: $(GEN)/lexer.c
	@mkdir -p $(OBJ)
	$(CC) $(CPPFLAGS) $(GEN_CFLAGS) -MMD -MP -c -o $@ $<

$(OBJ)/gen_parser.o: $(GEN)/parser.c
	@mkdir -p $(OBJ)
	$(CC) $(CPPFLAGS) $(GEN_CFLAGS) -MMD -MP -c -o $@ $<

$(OBJ)/gen_stdlib.o: $(GEN)/stdlib.c
	@mkdir -p $(OBJ)
	$(CC) $(CPPFLAGS) $(GEN_CFLAGS) -c -o $@ $<

$(B)/aso: $(OBJ)/main.o $(LIB_OBJS)
	$(CC) $(CFLAGS_BASE) -o $@ $^ $(LDLIBS)

# ---- tests -------------------------------------------------------------------
$(OBJ)/test_%.o: tests/unit/test_%.c $(GEN)/parser.h | $(GEN)/.deps-ok
	@mkdir -p $(OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) $(WARN) -Wno-unused-function -MMD -MP -c -o $@ $<

$(B)/libaso.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/tests/test_%: $(OBJ)/test_%.o $(B)/libaso.a
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS_BASE) -o $@ $^ $(LDLIBS) -lcmocka

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; \
	  [ $$fail -eq 0 ] || { echo "unit tests FAILED"; exit 1; }

golden: $(B)/aso
	$(B)/aso test tests/golden

examples-test: $(B)/aso
	$(B)/aso test examples
	sh tests/seed_interrupt.sh $(B)/aso
	sh tests/repl/run.sh $(B)/aso

test: unit golden examples-test

# The main example: the seed question's two tasks taking turns (bounded).
run: $(B)/aso
	$(B)/aso examples/seed_bounded.aso

# The whole suite again with AddressSanitizer + UBSan, in a separate build dir.
check-asan:
	$(MAKE) B=build/asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  test

# ThreadSanitizer over what runs threads: the executor tests, the bounded seed
# answer and the Ctrl-C checks (the rest of the suite is single-threaded).
check-tsan:
	$(MAKE) B=build/tsan OPT=-O1 SAN="-fsanitize=thread" build/tsan/aso
	TSAN_OPTIONS=halt_on_error=1 build/tsan/aso test tests/golden/executor_*.aso \
	  examples/seed_executor_bounded.aso
	TSAN_OPTIONS=halt_on_error=1 sh tests/seed_interrupt.sh build/tsan/aso

# Every golden test also under python3: the tests are proven against CPython.
compat: $(B)/aso
	PYTHON=$(PYTHON) sh tests/compat.sh tests/golden examples

# The HTML timeline drawn by headless Chromium (installs Debian's chromium
# for this target only; prints a skip line when it cannot).
timeline-test: $(B)/aso
	@command -v chromium >/dev/null 2>&1 || sh .ci/deps chromium || true
	sh tests/timeline/check.sh $(B)/aso

bench: $(B)/aso
	sh tests/bench/run.sh $(B)/aso

fuzz: $(B)/aso
	sh tests/fuzz/run.sh $(B)/aso

install: $(B)/aso
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(B)/aso $(DESTDIR)$(PREFIX)/bin/aso

clean:
	rm -rf build

-include $(wildcard $(OBJ)/*.d)
