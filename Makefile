# The two commands of the README, and the steps they are made of.
#   make run   installs what is missing, builds, starts callrec-server on ./data
#   make test  installs what is missing, builds, runs every test
BUILD_DIR ?= build
JOBS ?= 2
RUN_ARGS ?=
PYTHON ?= $(shell scripts/find-python.sh)

.PHONY: all deps build run test unit-test interop-test bench format format-check clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/Makefile
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	$(BUILD_DIR)/src/callrec-server --data-dir ./data $(RUN_ARGS)

unit-test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

interop-test: build
	CALLREC_BUILD_DIR=$(abspath $(BUILD_DIR)) $(PYTHON) -m unittest discover -s tests/interop -p 'test_*.py' -v

test: unit-test interop-test

bench: build
	$(BUILD_DIR)/bench/control_api_bench

SOURCES = $(shell find src tests bench -name '*.cpp' -o -name '*.hpp')

format:
	clang-format -i $(SOURCES)

format-check: deps
	clang-format --dry-run --Werror $(SOURCES)

clean:
	rm -rf $(BUILD_DIR)
