# The two commands of the README.  Everything else is meson's.
#   make run    install what is missing, build, create data/tm.sqlite, serve
#   make test   build normally, with ASan+UBSan and with TSan, run every test
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
DB         ?= data/tm.sqlite
LISTEN     ?= 127.0.0.1:8080
SHARED     ?= $(abspath ../shared)

MESON_OPTS = -Dshared_dir=$(SHARED)

# make soak: a run of tests/soak/soak.py, ending at whichever comes first.
SOAK_REQUESTS ?= 200000
SOAK_SECONDS  ?= 300

# make fuzz: each libFuzzer target of fuzz/ (docs/fuzzing.md) for FUZZ_TIME
# seconds, one after another; FUZZ_TARGETS names some (tmx tbx dsv text
# query json), FUZZ_ARGS adds libFuzzer options (-len_control=0).  make
# test runs each for FUZZ_TEST_TIME seconds.  The fuzz build uses clang
# when it links libFuzzer with the sanitizers, else the default compiler,
# and its fuzz tests then say why they are skipped.
FUZZ_TIME      ?= 300
FUZZ_TEST_TIME ?= 10
FUZZ_TARGETS   ?=
FUZZ_CC = $(shell printf 'int LLVMFuzzerTestOneInput(const char *d, \
  unsigned long n) { (void)d; (void)n; return 0; }\n' | clang -x c - \
  -fsanitize=fuzzer,address,undefined -o /dev/null 2>/dev/null \
  && echo clang || echo cc)

# ThreadSanitizer stops a program at its first report; there are no
# suppressions: a report is a race to fix.  Under some kernels' address
# randomisation TSan cannot map its shadow memory ("unexpected memory
# mapping"): the tests then run with randomisation off (setarch -R), and
# only then, since some containers forbid it.
TSAN_ENV = TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"

.PHONY: all deps build run test test-normal test-asan bench soak fuzz clean

all: build

deps:
	@scripts/deps.sh build

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

run: build
	@mkdir -p $(dir $(DB))
	$(BUILD)/cli/tm --db $(DB) init
	@if [ -x $(BUILD)/server/tm-server ]; then \
	  exec $(BUILD)/server/tm-server --db $(DB) --listen $(LISTEN); \
	else \
	  echo "The database is ready; try: $(BUILD)/cli/tm --db $(DB) stats"; \
	fi

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) $(MESON_OPTS) \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

# ThreadSanitizer, built with clang (scripts/deps.sh test installs it and
# its runtime), runs the server's end-to-end tests.
$(TSAN_BUILD)/build.ninja:
	CC=clang meson setup $(TSAN_BUILD) $(MESON_OPTS) \
	  -Db_sanitize=thread -Db_lundef=false

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory $(BUILD)/build.ninja $(ASAN_BUILD)/build.ninja
	meson setup --reconfigure $(BUILD) $(MESON_OPTS) >/dev/null
	meson setup --reconfigure $(ASAN_BUILD) $(MESON_OPTS) >/dev/null
	meson compile -C $(BUILD)
	meson compile -C $(ASAN_BUILD)
	-meson test -C $(BUILD) --print-errorlogs --num-processes 2
	-meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2 \
	  --timeout-multiplier 4
	@$(MAKE) --no-print-directory $(TSAN_BUILD)/build.ninja
	meson setup --reconfigure $(TSAN_BUILD) $(MESON_OPTS) >/dev/null
	meson compile -C $(TSAN_BUILD) server/tm-server cli/tm
	-@norand=; $(TSAN_BUILD)/server/tm-server --help >/dev/null 2>&1 || \
	  norand="setarch $$(uname -m) -R"; set -x; \
	  $(TSAN_ENV) $$norand meson test -C $(TSAN_BUILD) --suite api \
	  --no-rebuild --print-errorlogs --num-processes 2 --timeout-multiplier 4
	@$(MAKE) --no-print-directory $(FUZZ_BUILD)/build.ninja
	meson setup --reconfigure $(FUZZ_BUILD) $(MESON_OPTS) >/dev/null
	meson compile -C $(FUZZ_BUILD)
	-FUZZ_TIME=$(FUZZ_TEST_TIME) meson test -C $(FUZZ_BUILD) --suite regress \
	  --suite fuzz --no-rebuild --print-errorlogs --num-processes 1
	@python3 scripts/test-summary.py $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) \
	  $(FUZZ_BUILD)

bench: build
	@scripts/deps.sh bench
	$(BUILD)/bench/bench_import
	$(BUILD)/bench/bench_match
	$(BUILD)/bench/bench_terms
	$(BUILD)/bench/bench_analyze
	BUILD=$(BUILD) bench/bench_http.sh
	BUILD=$(BUILD) bench/bench_http_instr.sh

$(FUZZ_BUILD)/build.ninja:
	CC=$(FUZZ_CC) meson setup $(FUZZ_BUILD) $(MESON_OPTS) -Dfuzz=true \
	  -Db_sanitize=address,undefined -Db_lundef=false

# New inputs go to $(FUZZ_BUILD)/fuzz/corpus/TARGET, crashing ones to
# $(FUZZ_BUILD)/fuzz/artifacts/TARGET.
fuzz:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory $(FUZZ_BUILD)/build.ninja
	meson compile -C $(FUZZ_BUILD)
	FUZZ_TIME=$(FUZZ_TIME) FUZZ_KEEP=1 meson test -C $(FUZZ_BUILD) \
	  --no-rebuild --num-processes 1 --timeout-multiplier 0 --verbose \
	  $(if $(FUZZ_TARGETS),$(addprefix fuzz_,$(FUZZ_TARGETS)),--suite fuzz)

soak: build
	TM_SHARED_DIR=$(SHARED) python3 tests/soak/soak.py \
	  $(BUILD)/server/tm-server $(BUILD)/cli/tm \
	  --requests $(SOAK_REQUESTS) --seconds $(SOAK_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
