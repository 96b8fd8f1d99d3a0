# The two commands of the README, and the steps they are made of.
#   make run   installs what is missing, builds, starts callrec-server on ./data
#   make test  installs what is missing, builds, runs every test
BUILD_DIR ?= build
JOBS ?= 2
RUN_ARGS ?=
PYTHON ?= $(shell scripts/find-python.sh)

.PHONY: all deps build run call test unit-test flow-test interop-test interop-test-pg bench bench-pg bench-siprec format format-check clean lambda-zip fuzz fuzz-smoke test-sanitize test-tsan install deb bench-s3 bench-siprec-s3 bench-media lint

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/Makefile
	cmake --build $(BUILD_DIR) -j$(JOBS)

# The server on ./data plus a demo call to record (scripts/demo.sh): prints the
# workspace URL and the demo agent's token.
run: build
	BUILD_DIR=$(BUILD_DIR) bash scripts/demo.sh $(RUN_ARGS)

# A simulated SIPREC call to the server of `make run` (from another terminal):
# customer and agent tones at known offsets (tests/fixtures/audio), 10 s.
CALL_ARGS ?=
call: build
	$(BUILD_DIR)/src/callrec-callgen --target 127.0.0.1:5060 --duration 10 \
	  --contact-id demo-$$(date +%s) --customer-wav tests/fixtures/audio/customer_ulaw.wav \
	  --agent-wav tests/fixtures/audio/agent_ulaw.wav $(CALL_ARGS)

unit-test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

interop-test: build lambda-zip
	CALLREC_BUILD_DIR=$(abspath $(BUILD_DIR)) \
	CALLREC_LAMBDA_BIN=$(abspath $(LAMBDA_BUILD_DIR))/src/callrec-lambda \
	$(PYTHON) tests/interop/run.py -v

# The same interop suite with every server on a fresh database of its own in one
# PostgreSQL 15 started for the run (tests/interop/postgres.py) instead of SQLite.
interop-test-pg: build lambda-zip
	CALLREC_TEST_STORE=postgresql CALLREC_BUILD_DIR=$(abspath $(BUILD_DIR)) \
	CALLREC_LAMBDA_BIN=$(abspath $(LAMBDA_BUILD_DIR))/src/callrec-lambda \
	$(PYTHON) tests/interop/run.py -v

flow-test: deps
	$(PYTHON) -m unittest discover -s tests/flows -v

test: unit-test flow-test interop-test fuzz-smoke

# The whole suite again on an AddressSanitizer + UBSan build (build-asan): the
# unit tests, then the interop tests against the sanitised server, CLI and
# callgen, every server on PostgreSQL. Reports go to files (processes started by the tests included), shown
# at the end even when tests failed (a sanitizer abort shows as a failed test);
# any report, like any failed test, fails the target. CALLREC_SANITIZED=1 tells the interop tests to skip
# their resident-memory assertions (ASan's shadow memory and quarantine inflate
# RSS). `.ci/run` runs it after `make test`.
ASAN_BUILD_DIR ?= build-asan
SANITIZER_LOGS = $(abspath $(ASAN_BUILD_DIR))/sanitizer-logs
# Leaks inside system libraries only, each with its reason: tests/sanitizers/lsan.supp.
SANITIZER_ENV = ASAN_OPTIONS=log_path=$(SANITIZER_LOGS)/asan:detect_leaks=1 \
	LSAN_OPTIONS=suppressions=$(abspath tests/sanitizers/lsan.supp):print_suppressions=0 \
	UBSAN_OPTIONS=log_path=$(SANITIZER_LOGS)/ubsan:print_stacktrace=1:halt_on_error=1
# The interop pass runs every server on PostgreSQL (SANITIZE_STORE): with
# `make test`'s pass on SQLite, the whole suite runs once on each store, and the
# PostgreSQL store's code (libpq, its threads) runs under the sanitizers.
SANITIZE_STORE ?= postgresql
# Modules the sanitised pass leaves out (`make test` runs them all), to keep CI
# within its hour: test_package builds and installs the .deb (packaging, no
# sanitised code), test_cluster mostly times Kamailio's and HAProxy's failover
# (of its server code, the drain also runs sanitised in test_s3_faults' drain test),
# test_callgen_dtmf times a sanitised generator's digits against wall-clock
# policy timers (the DTMF policies' server code runs in test_dtmf),
# test_drive_across_nodes holds a browser's clicks on one node and tone edges in
# the other node's file to 60 ms (forwarding runs sanitised in
# test_cluster_forward, the guide's follow-up in test_workspace).
SANITIZE_SKIP ?= test_package test_cluster test_callgen_dtmf test_drive_across_nodes
test-sanitize: deps lambda-zip
	cmake -S . -B $(ASAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCALLREC_SANITIZE=ON -DCALLREC_BENCH=OFF
	cmake --build $(ASAN_BUILD_DIR) -j$(JOBS)
	rm -rf $(SANITIZER_LOGS) && mkdir -p $(SANITIZER_LOGS)
	status=0; \
	(cd $(ASAN_BUILD_DIR) && $(SANITIZER_ENV) ctest --output-on-failure -j$(JOBS)) || status=1; \
	$(SANITIZER_ENV) CALLREC_SANITIZED=1 CALLREC_TEST_STORE=$(SANITIZE_STORE) \
	  CALLREC_BUILD_DIR=$(abspath $(ASAN_BUILD_DIR)) \
	  CALLREC_LAMBDA_BIN=$(abspath $(LAMBDA_BUILD_DIR))/src/callrec-lambda \
	  $(PYTHON) tests/interop/run.py --skip "$(SANITIZE_SKIP)" || status=1; \
	if [ -n "$$(ls -A $(SANITIZER_LOGS))" ]; then cat $(SANITIZER_LOGS)/*; \
	  echo "test-sanitize: sanitizer reports above ($(SANITIZER_LOGS))"; exit 1; fi; \
	if [ $$status != 0 ]; then echo "test-sanitize: tests failed (no sanitizer report)"; exit 1; fi; \
	echo "test-sanitize: all tests passed, no sanitizer report"

# ThreadSanitizer (build-tsan): the unit tests, then the interop tests of the
# media and control paths (TSAN_INTEROP) against the instrumented server, CLI
# and callgen. Not part of `make test` (TSan slows the server 5-15 times); run
# it after changing anything shared between threads. Reports go to files and
# fail the target, as test-sanitize's do; known races inside uninstrumented
# system libraries are in tests/sanitizers/tsan.supp, each with its reason.
TSAN_BUILD_DIR ?= build-tsan
TSAN_LOGS = $(abspath $(TSAN_BUILD_DIR))/tsan-logs
TSAN_ENV = TSAN_OPTIONS=log_path=$(TSAN_LOGS)/tsan:second_deadlock_stack=1:halt_on_error=0:suppressions=$(abspath tests/sanitizers/tsan.supp)
TSAN_INTEROP ?= test_siprec test_media test_durability test_boto3 test_callgen test_workspace_api test_dtmf
test-tsan: deps lambda-zip
	cmake -S . -B $(TSAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCALLREC_TSAN=ON -DCALLREC_BENCH=OFF
	cmake --build $(TSAN_BUILD_DIR) -j$(JOBS)
	rm -rf $(TSAN_LOGS) && mkdir -p $(TSAN_LOGS)
	status=0; \
	(cd $(TSAN_BUILD_DIR) && $(TSAN_ENV) ctest --output-on-failure -j$(JOBS)) || status=1; \
	$(TSAN_ENV) CALLREC_SANITIZED=1 CALLREC_BUILD_DIR=$(abspath $(TSAN_BUILD_DIR)) \
	  CALLREC_LAMBDA_BIN=$(abspath $(LAMBDA_BUILD_DIR))/src/callrec-lambda \
	  $(PYTHON) tests/interop/run.py $(TSAN_INTEROP) || status=1; \
	if [ -n "$$(ls -A $(TSAN_LOGS))" ]; then cat $(TSAN_LOGS)/*; \
	  echo "test-tsan: ThreadSanitizer reports above ($(TSAN_LOGS))"; exit 1; fi; \
	if [ $$status != 0 ]; then echo "test-tsan: tests failed (no race report)"; exit 1; fi; \
	echo "test-tsan: all tests passed, no race report"

# libFuzzer targets (fuzz/README.md), built with clang in their own directory:
# `make fuzz` runs each for FUZZ_SECONDS, `make fuzz-smoke` (part of `make test`)
# for FUZZ_SMOKE_SECONDS; either fails if a target finds a crash.
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
fuzz: deps
	FUZZ_BUILD_DIR=$(abspath $(FUZZ_BUILD_DIR)) FUZZ_JOBS=$(JOBS) bash fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: deps
	FUZZ_BUILD_DIR=$(abspath $(FUZZ_BUILD_DIR)) FUZZ_JOBS=$(JOBS) bash fuzz/run.sh $(FUZZ_SMOKE_SECONDS)

# callrec-lambda.zip: the `bootstrap` of a provided.al2023 custom runtime, with
# everything but glibc linked in (see deploy/template.yaml).
LAMBDA_BUILD_DIR ?= build-lambda
lambda-zip: deps
	cmake -S . -B $(LAMBDA_BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DCALLREC_STATIC_LAMBDA=ON -DBUILD_TESTING=OFF
	cmake --build $(LAMBDA_BUILD_DIR) -j$(JOBS) --target callrec-lambda
	rm -rf $(LAMBDA_BUILD_DIR)/zip && mkdir -p $(LAMBDA_BUILD_DIR)/zip
	cp $(LAMBDA_BUILD_DIR)/src/callrec-lambda $(LAMBDA_BUILD_DIR)/zip/bootstrap
	strip $(LAMBDA_BUILD_DIR)/zip/bootstrap
	cd $(LAMBDA_BUILD_DIR)/zip && rm -f ../../callrec-lambda.zip && cmake -E tar cf ../../callrec-lambda.zip --format=zip bootstrap
	@echo "callrec-lambda.zip: $$(du -h callrec-lambda.zip | cut -f1)"

# `make install` (PREFIX, default /usr/local; the config goes to /etc/callrec)
# and `make deb`: build/callrec_<version>_<arch>.deb (CPack), see cmake/Packaging.cmake.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

deb: build
	cd $(BUILD_DIR) && cpack -G DEB
	@ls $(BUILD_DIR)/callrec_*.deb

bench: build
	$(BUILD_DIR)/bench/control_api_bench

# SIPREC setup rate and concurrent calls with zero loss, against SIPp (~6 minutes).
# The control API on SQLite and on PostgreSQL, in one run (bench/pg/store_bench.py).
bench-pg: build
	$(PYTHON) bench/pg/store_bench.py --build-dir $(BUILD_DIR)

bench-siprec: build
	python3 bench/siprec/siprec_bench.py --build-dir $(BUILD_DIR)

# Recording loss at 800 concurrent calls while recordings upload to a real Ceph RGW (~4 minutes).
bench-siprec-s3: build
	python3 bench/siprec/siprec_bench.py --build-dir $(BUILD_DIR) --only concurrent --counts 800 --s3

# callrec-server against sipwise rtpengine (Debian's rtpengine-daemon, installed
# here when missing, its packaged service kept stopped) under the same generator.
bench-media: build
	bash bench/media/install.sh
	$(PYTHON) bench/media/media_bench.py --build-dir $(BUILD_DIR) $(BENCH_MEDIA_ARGS)

# Upload throughput to a real Ceph RGW: callrec's S3 client against `aws s3 cp` (~1 minute).
bench-s3: build
	$(PYTHON) bench/s3/upload_bench.py --build-dir $(BUILD_DIR)

SOURCES = $(shell find src tests bench fuzz -name '*.cpp' -o -name '*.hpp')

format:
	clang-format -i $(SOURCES)

format-check: deps
	clang-format --dry-run --Werror $(SOURCES)

# clang-tidy (.clang-tidy's checks) over src/ with the build's compile_commands.json;
# any finding fails. 23 minutes (12 CPU-minutes) on the shared 2-core machine: not part of `make test`.
lint: build
	run-clang-tidy -p $(BUILD_DIR) -j $(JOBS) -quiet "$(CURDIR)/src/"

clean:
	rm -rf $(BUILD_DIR)
