# ferry — build, test, demo.  `make` builds build/ferry; `make test` runs everything.
PKGS := yaml-0.1 jansson sqlite3 libsodium expat libuv
# Loaded on first use, not linked (see src/util/dynlib.h): their dependencies would
# cost ~25 ms at every start. Their sonames come from the installed -dev packages.
LAZY_PKGS := libgit2 libarchive libmicrohttpd libcurl
CC ?= cc
soname = $(shell objdump -p $$(pkg-config --variable=libdir $(1))/$(2) 2>/dev/null | awk '/SONAME/ {print $$2}')
SONAMES := -DFERRY_GIT2_SONAME='"$(call soname,libgit2,libgit2.so)"' \
           -DFERRY_ARCHIVE_SONAME='"$(call soname,libarchive,libarchive.so)"' \
           -DFERRY_MHD_SONAME='"$(call soname,libmicrohttpd,libmicrohttpd.so)"' \
           -DFERRY_CURL_SONAME='"$(call soname,libcurl,libcurl.so)"'
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS) 2>/dev/null) $(SONAMES)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LAZY_LIBS := $(shell pkg-config --libs $(LAZY_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-format-truncation -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) $(WARN) -g
REL_CFLAGS := $(BASE_CFLAGS) -O2
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN_FLAGS)

LIB_SRC := $(shell find src -name '*.c' ! -path src/main.c | sort)
REL_OBJ := $(LIB_SRC:src/%.c=build/rel/%.o)
SAN_OBJ := $(LIB_SRC:src/%.c=build/san/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/san/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := $(BASE_CFLAGS) -Wno-unknown-warning-option -O1
FUZZ_OBJ := $(LIB_SRC:src/%.c=build/fuzzobj/%.o)

.PHONY: all deps test unit e2e demo bench fuzz clean format check-format
all: build/ferry

deps:
	@scripts/install-deps.sh

build/rel/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -MMD -MP -c $< -o $@

build/san/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

# bootstraps.c embeds these with .incbin, which the compiler's dependency list misses
build/rel/functions/bootstraps.o build/san/functions/bootstraps.o build/fuzzobj/functions/bootstraps.o: \
		src/functions/runtime/bootstrap.js src/functions/runtime/bootstrap.py
# ui_assets.c embeds the web UI's stylesheet and script the same way
build/rel/api/ui_assets.o build/san/api/ui_assets.o build/fuzzobj/api/ui_assets.o: web/app.css web/app.js

build/ferry: $(REL_OBJ) build/rel/main.o
	$(CC) $(REL_CFLAGS) $^ -o $@ $(PKG_LIBS)

build/san/ferry: $(SAN_OBJ) build/san/main.o
	$(CC) $(SAN_CFLAGS) $^ -o $@ $(PKG_LIBS)

build/san/tests/%: tests/unit/%.c $(SAN_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -Itests/unit $< $(SAN_OBJ) -o $@ $(PKG_LIBS) $(LAZY_LIBS) $(CMOCKA_LIBS)

# The sources are compiled once for every harness (instrumented for libFuzzer, not
# linked with its main), then each harness links them.
build/fuzzobj/%.o: src/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@

.SECONDARY: $(FUZZ_OBJ)
build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $< $(FUZZ_OBJ) -o $@ $(PKG_LIBS)

# The README's test command: installs what is missing, builds everything with
# sanitizers, runs unit, end-to-end and fuzz-corpus tests, ends with "N passed, N failed".
test: deps
	@$(MAKE) --no-print-directory -j2 build/ferry build/san/ferry $(UNIT_BIN) $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
	@tests/run.sh

unit: build/san/ferry $(UNIT_BIN)
	@tests/run.sh unit

e2e: build/san/ferry
	@tests/run.sh e2e

fuzz: $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
	@for f in $^; do n=$$(basename $$f); d=$$(mktemp -d); $$f -max_total_time=$${FUZZ_SECONDS:-60} $$d tests/fuzz/corpus/$$n; rm -rf $$d; done

# The README's first command: installs what is missing and runs ferry's main job
# (a real build of the embedded example project) on its defaults.
demo: deps
	@$(MAKE) --no-print-directory build/ferry
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory build/ferry
	@bench/build_overhead
	@bench/idle
	@bench/trigger_latency
	@bench/edge
	@bench/push_to_live
	@bench/ui

format:
	clang-format -i $$(find src tests -name '*.[ch]')

check-format:
	clang-format --dry-run --Werror $$(find src tests -name '*.[ch]')

clean:
	rm -rf build

-include $(REL_OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d) build/rel/main.d build/san/main.d
