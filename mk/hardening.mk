# Sanitizers, fuzzing and the ABI guard; included by the Makefile. Each builds into a directory
# of its own (build-asan/, build-tsan/, build-fuzz/, build-abi/), never into $(B).
#
#   make check-asan    the test suite and the examples built with AddressSanitizer and
#                      UndefinedBehaviorSanitizer (-fno-sanitize-recover=all: any report fails)
#                      and run; LeakSanitizer is on
#   make check-tsan    tests/test_threads.c (8 sessions on 8 threads) built with ThreadSanitizer
#                      and run with OPENBLAS_NUM_THREADS=1: OpenBLAS's own worker threads are not
#                      instrumented, and their hand-offs show up as false data races
#   make fuzz          build the libFuzzer target tests/fuzz/fuzz_load.c (clang, -fsanitize=
#                      fuzzer,address,undefined) and run it for FUZZ_SECONDS (default 60) on the
#                      seed corpus tests/fuzz/corpus and the inputs of past findings in
#                      tests/fuzz/regress (kept there once fixed, so they stay fixed); new inputs
#                      go to build-fuzz/corpus, a crash to build-fuzz/crash-*; FUZZ_ARGS passes
#                      more libFuzzer options (e.g. -fork=1 -ignore_crashes=1 to go on after one)
#   make fuzz-corpus   regenerate the seed corpus (valid saved sessions of several shapes/modes)
#   make abi-check     rebuild libdss.so with gcc -O2 -g into build-abi/ and compare it with the
#                      baseline abi/libdss.abi (abidiff) and abi/constants.txt (enum values);
#                      see docs/abi.md for what fails
#   make abi-dump      regenerate both baselines (only when the ABI is meant to change)
#
# Debian packages: clang and libclang-rt-14-dev (sanitizer and libFuzzer runtimes),
# libfuzzer-14-dev, abigail-tools: each target installs what it lacks when run as root.

SAN_CC      ?= clang
SAN_FLAGS   := -O1 -g -fno-omit-frame-pointer
ASAN_CFLAGS := $(SAN_FLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all
TSAN_CFLAGS := $(SAN_FLAGS) -fsanitize=thread
ASAN_ENV    := ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1 \
               UBSAN_OPTIONS=print_stacktrace=1
TSAN_ENV    := OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
FUZZ_B       := build-fuzz
FUZZ_CFLAGS  := $(SAN_FLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all

ABI_CC ?= gcc
ABI_B  := build-abi
ABI_SO := $(ABI_B)/libdss.so.$(VERSION)

.PHONY: check-asan check-tsan fuzz fuzz-build fuzz-corpus abi-check abi-dump abi-lib \
        clean-hardening

# test_threads uses POSIX threads: link it with -pthread (an explicit rule beats the pattern)
$(B)/tests/test_threads: tests/test_threads.c $(B)/tests/support.o $(CHECKED) tests/support.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -pthread $< $(B)/tests/support.o $(CHECKED) -o $@ $(CMOCKA_LIBS) \
	    $(LINK_LIBS) -pthread

# Debian packages each part needs (installed when run as root, else the command is printed)
SAN_PKGS  := clang libclang-rt-14-dev
FUZZ_PKGS := clang libclang-rt-14-dev libfuzzer-14-dev
ABI_PKGS  := abigail-tools binutils

# ---- sanitizers ---------------------------------------------------------------------------------
# Only the static library is built: clang links its sanitizer runtimes into executables, so a
# sanitized libdss.so would not pass the shared library's -Wl,--no-undefined.
check-asan: deps
	@sh scripts/need-packages.sh $(SAN_PKGS)
	@$(MAKE) --no-print-directory B=build-asan CC=$(SAN_CC) CFLAGS="$(ASAN_CFLAGS)" tests examples
	@$(ASAN_ENV) sh scripts/run-tests.sh $(TEST_SRC:tests/%.c=build-asan/tests/%)
	@for e in $(EXAMPLES:$(B)/%=build-asan/%); do \
	    $(ASAN_ENV) $$e --smoke >/dev/null || { echo "check-asan: $$e --smoke failed" >&2; exit 1; }; \
	done; echo "check-asan: examples ran clean (--smoke)"

check-tsan: deps
	@sh scripts/need-packages.sh $(SAN_PKGS)
	@$(MAKE) --no-print-directory B=build-tsan CC=$(SAN_CC) CFLAGS="$(TSAN_CFLAGS)" \
	    build-tsan/tests/test_threads
	@# TSan needs a fixed memory layout; on a kernel with more mmap randomisation than it
	@# supports it stops with "unexpected memory mapping": run again without randomisation
	@out=$$($(TSAN_ENV) sh scripts/run-tests.sh build-tsan/tests/test_threads 2>&1); rc=$$?; \
	if printf '%s\n' "$$out" | grep -q 'unexpected memory mapping'; then \
	    echo "check-tsan: running with address-space randomisation off (setarch -R)"; \
	    VALGRIND="setarch $$(uname -m) -R" $(TSAN_ENV) \
	        sh scripts/run-tests.sh build-tsan/tests/test_threads; \
	else \
	    printf '%s\n' "$$out"; exit $$rc; \
	fi

# ---- fuzzing ------------------------------------------------------------------------------------
fuzz-build: deps
	@sh scripts/need-packages.sh $(FUZZ_PKGS)
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=$(FUZZ_CC) \
	    CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" $(FUZZ_B)/libdss.a
	$(FUZZ_CC) $(STD) $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Iinclude tests/fuzz/fuzz_load.c \
	    $(FUZZ_B)/libdss.a -o $(FUZZ_B)/fuzz_load $(LINK_LIBS)

fuzz: fuzz-build
	@mkdir -p $(FUZZ_B)/corpus
	OPENBLAS_NUM_THREADS=1 $(FUZZ_B)/fuzz_load -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	    -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_B)/ \
	    $(FUZZ_ARGS) $(FUZZ_B)/corpus tests/fuzz/corpus $(wildcard tests/fuzz/regress)

fuzz-corpus: lib
	$(CC) $(STD) $(WARN) $(CFLAGS) -DFUZZ_MAKE_CORPUS -Iinclude tests/fuzz/fuzz_load.c $(CHECKED) \
	    -o $(B)/fuzz_make_corpus $(LINK_LIBS)
	mkdir -p tests/fuzz/corpus
	rm -f tests/fuzz/corpus/n*   # the generated seeds; v1-* (libdss 1.0's format) stay
	$(B)/fuzz_make_corpus tests/fuzz/corpus

# ---- the ABI guard ------------------------------------------------------------------------------
abi-lib:
	@sh scripts/need-packages.sh $(ABI_PKGS)
	@$(MAKE) --no-print-directory B=$(ABI_B) CC=$(ABI_CC) CFLAGS="-O2 -g" $(ABI_SO)

abi-check: abi-lib
	@sh scripts/abi-check.sh check $(ABI_SO)

abi-dump: abi-lib
	@sh scripts/abi-check.sh dump $(ABI_SO)

clean: clean-hardening
clean-hardening:
	rm -rf build-asan build-tsan $(FUZZ_B) $(ABI_B)
