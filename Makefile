# schemagate: `make demo` and `make test` do all the set-up on a fresh Debian 12 machine.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps configure build test sanitize demo operator-demo manifests image image-test bench fuzz clean

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

# Everything but the tests of the built image (make image-test).
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -LE image

# The unit, integration and operator suites under AddressSanitizer and
# UndefinedBehaviorSanitizer (any report fails the run), in their own tree.
SAN_DIR ?= build-asan
# -O1 -g1: a third faster to compile than RelWithDebInfo, still line numbers
# in every report. Third-party findings we cannot fix are listed, with why,
# in tests/sanitizer/*.supp.
sanitize: deps
	cmake -S . -B $(SAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DSCHEMAGATE_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(SAN_DIR) -j$(JOBS) --target schemagate unit_tests integration_tests operator_tests
	cd $(SAN_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizer/lsan.supp \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$(CURDIR)/tests/sanitizer/ubsan.supp \
	  SCHEMAGATE_FAULT_TRIALS=$${SCHEMAGATE_FAULT_TRIALS:-10} \
	  ctest --output-on-failure --timeout 1800 -R '^(outputs_reset|unit|integration|operator|secrets_grep)$$'

demo: build
	bash scripts/demo.sh $(BUILD_DIR)/schemagate

operator-demo: build
	bash scripts/operator-demo.sh $(BUILD_DIR)

manifests:
	bash scripts/render-manifests.sh

# schemagate:<chart appVersion>: with Docker when its daemon answers, else
# daemonless with buildah; base images made with debootstrap where no
# registry is reachable (scripts/build-image.sh says how).
image:
	bash scripts/build-image.sh

# The built image as Kubernetes runs it: tests/packaging/image_smoke.sh, and
# the main operator end-to-end tests with each runner pod run from the image
# (the kubelet simulator's container mode, podman).
image-test: build image
	cd $(BUILD_DIR) && ctest --output-on-failure -L image

# Side by side with Alembic, sqitch and psql; writes docs/benchmarks.md. Not part of make test.
# parser_cost.py builds the previous release in a worktree and compares pod starts; it also times lint.
bench: build
	bash scripts/install-bench-deps.sh
	python3 bench/run.py $(BUILD_DIR)/schemagate
	JOBS=$(JOBS) python3 bench/parser_cost.py $(BUILD_DIR)/schemagate

# libFuzzer targets with clang in build-fuzz/, FUZZ_SECONDS (default 60) each. Not part of make test.
fuzz:
	JOBS=$(JOBS) bash scripts/fuzz.sh

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR)
