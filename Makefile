# The two commands of the README.  Everything else is meson's.
#   make run    install what is missing, build, create data/tm.sqlite, serve
#   make test   build normally, with ASan+UBSan and with TSan, run every test
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
DB         ?= data/tm.sqlite
LISTEN     ?= 127.0.0.1:8080
SHARED     ?= $(abspath ../shared)

MESON_OPTS = -Dshared_dir=$(SHARED)

# make soak: a run of tests/soak/soak.py, ending at whichever comes first.
SOAK_REQUESTS ?= 200000
SOAK_SECONDS  ?= 300

# ThreadSanitizer stops a program at its first report; there are no
# suppressions: a report is a race to fix.  Under some kernels' address
# randomisation TSan cannot map its shadow memory ("unexpected memory
# mapping"): the tests then run with randomisation off (setarch -R), and
# only then, since some containers forbid it.
TSAN_ENV = TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"

.PHONY: all deps build run test test-normal test-asan bench soak clean

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
	@python3 scripts/test-summary.py $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)

bench: build
	@scripts/deps.sh bench
	$(BUILD)/bench/bench_import
	$(BUILD)/bench/bench_match
	$(BUILD)/bench/bench_terms
	$(BUILD)/bench/bench_analyze
	BUILD=$(BUILD) bench/bench_http.sh

soak: build
	TM_SHARED_DIR=$(SHARED) python3 tests/soak/soak.py \
	  $(BUILD)/server/tm-server $(BUILD)/cli/tm \
	  --requests $(SOAK_REQUESTS) --seconds $(SOAK_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
