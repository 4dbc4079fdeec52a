# schemagate: `make demo` and `make test` do all the set-up on a fresh Debian 12 machine.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo operator-demo manifests image bench clean

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900

demo: build
	bash scripts/demo.sh $(BUILD_DIR)/schemagate

operator-demo: build
	bash scripts/operator-demo.sh $(BUILD_DIR)

manifests:
	bash scripts/render-manifests.sh

# Needs a container engine (none runs on the build machines here).
image:
	docker build -t schemagate:$$(sed -n 's/^appVersion: "\(.*\)"/\1/p' charts/schemagate/Chart.yaml) .

# Side by side with Alembic, sqitch and psql; writes docs/benchmarks.md. Not part of make test.
bench: build
	bash scripts/install-bench-deps.sh
	python3 bench/run.py $(BUILD_DIR)/schemagate

clean:
	rm -rf $(BUILD_DIR)
