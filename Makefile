# The two commands of the README.  Everything else is meson's.
#   make run    install what is missing, build, create data/tm.sqlite, serve
#   make test   build normally and with ASan+UBSan, run every test
BUILD      ?= build
ASAN_BUILD ?= build-asan
DB         ?= data/tm.sqlite
LISTEN     ?= 127.0.0.1:8080
SHARED     ?= $(abspath ../shared)

MESON_OPTS = -Dshared_dir=$(SHARED)

.PHONY: all deps build run test test-normal test-asan bench clean

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
	@python3 scripts/test-summary.py $(BUILD) $(ASAN_BUILD)

bench: build
	@scripts/deps.sh bench
	$(BUILD)/bench/bench_import
	$(BUILD)/bench/bench_match
	$(BUILD)/bench/bench_terms
	$(BUILD)/bench/bench_analyze
	BUILD=$(BUILD) bench/bench_http.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
