# csvavro — convenience front end to CMake. `make` builds into build/; `make test` installs
# missing Debian packages (as root), builds and runs the whole suite: a normal build, an
# ASan+UBSan build (build-asan/) and the threaded tests under ThreadSanitizer (build-tsan/).
# `make fuzz` builds the libFuzzer targets (clang, build-fuzz/), `make fuzz-ci` runs each for
# FUZZ_SECONDS (README "Reliability"). `make demo` runs the reference job on a generated sample.
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
CMAKE ?= cmake
CTEST_ARGS ?= --output-on-failure

.PHONY: all deps build test test-normal test-asan test-tsan test-large demo bench install format format-check clean fuzz fuzz-ci

all: build

deps:
	@bash scripts/deps.sh

build/Makefile:
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: build/Makefile
	$(CMAKE) --build build -j $(JOBS)

build-asan/Makefile:
	$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCSVAVRO_SANITIZE=ON

# The `large` label (the reference job on 1 GB, minutes of Python read-back) is left out of
# `make test`, not run-and-skipped: `make test-large` runs it.
test-normal: deps build
	cd build && ctest -j $(JOBS) $(CTEST_ARGS) -LE large

test-large: deps build
	cd build && CSVAVRO_LARGE=1 ctest $(CTEST_ARGS) -L large

test-asan: deps build-asan/Makefile
	$(CMAKE) --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest -j $(JOBS) $(CTEST_ARGS) -LE 'bench|tsan|large'

build-tsan/Makefile:
	$(CMAKE) -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSVAVRO_TSAN=ON -DCSVAVRO_MPI=OFF

test-tsan: deps build-tsan/Makefile
	$(CMAKE) --build build-tsan -j $(JOBS)
	cd build-tsan && ctest $(CTEST_ARGS) -L tsan

test: test-normal test-asan test-tsan

build-fuzz/Makefile:
	CC=clang CXX=clang++ $(CMAKE) -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSVAVRO_FUZZ=ON -DCSVAVRO_MPI=OFF

FUZZ_TARGETS = $(shell sed '/^\#/d' tests/fuzz/targets.txt)
FUZZ_SECONDS ?= 30

fuzz: deps build-fuzz/Makefile
	$(CMAKE) --build build-fuzz -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))

fuzz-ci: fuzz
	bash tests/fuzz/ci.sh build-fuzz $(FUZZ_SECONDS)

demo: deps build
	bash scripts/demo.sh

bench: deps build
	bash bench/run.sh
	bash bench/bench_compressed.sh
	bash bench/bench_full.sh
	bash bench/bench_hdfs_read.sh --pairs 5 --out bench/out/hdfs.md build 256
	bash bench/bench_hdfs_read.sh build 128 protection
	bash bench/bench_targets.sh

install: build
	$(CMAKE) --install build --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --version | grep -q 'version 14\.' || { echo "clang-format 14 required"; exit 1; }
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan build-fuzz
