# libdss - differential subspace search. `make help` lists the targets.

# ---- install locations (packagers override these) ------------------------------------------
PREFIX       ?= /usr/local
EXEC_PREFIX  ?= $(PREFIX)
LIBDIR       ?= $(EXEC_PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR      ?=

# ---- toolchain ---------------------------------------------------------------------------------
CC      ?= cc
# the archiver that goes with $(CC), so that `make CC=s390x-linux-gnu-gcc` needs nothing else
# (a cross compiler names its own binutils); gcc's gcc-ar when CFLAGS ask for -flto, since an
# archive of LTO objects needs the plugin's symbol index
ifeq ($(origin AR),default)
AR := $(shell sh scripts/cc-tool.sh '$(CC)' $(if $(findstring -flto,$(CFLAGS)),gcc-ar,ar))
endif
CFLAGS  ?= -O2 -g
# packagers' flags (dpkg-buildflags): CPPFLAGS on every compile, LDFLAGS on every link (through
# LINK_LIBS, which every link command of the Makefile and mk/*.mk ends with)
CPPFLAGS ?=
LDFLAGS  ?=
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
STD     := -std=c11
PKG_CONFIG ?= pkg-config

# LAPACK/BLAS backend, found with pkg-config: `lapack blas` (Debian's alternatives: reference or
# OpenBLAS, whichever is selected) or `make LAPACK=openblas` to link OpenBLAS directly.
LAPACK ?= lapack blas
LAPACK_LIBS = $(shell $(PKG_CONFIG) --libs $(LAPACK) 2>/dev/null)
CMOCKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# ---- version, read from the header in one place ---------------------------------------------
VERSION_MAJOR := $(shell sed -n 's/^\#define DSS_VERSION_MAJOR \([0-9]*\).*/\1/p' include/dss/dss.h)
VERSION_MINOR := $(shell sed -n 's/^\#define DSS_VERSION_MINOR \([0-9]*\).*/\1/p' include/dss/dss.h)
VERSION_PATCH := $(shell sed -n 's/^\#define DSS_VERSION_PATCH \([0-9]*\).*/\1/p' include/dss/dss.h)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

# ---- files -------------------------------------------------------------------------------------
B        := build
LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
# an ordinary archive: the internals' names carry the reserved prefix dssi_ (as zstd's carry
# theirs), so a host's own mem_alloc or rng_next links beside it; the tests reach them too
STATIC   := $(B)/libdss.a
# the tests link the same objects built with DSS_CHECK_INVARIANTS: session.c's invariants are
# checked after every call that changes a session (docs/design.md section 4); never installed
CHECKED  := $(B)/libdss-check.a
CHECKED_OBJ := $(LIB_SRC:lib/%.c=$(B)/lib-check/%.o)
SONAME   := libdss.so.$(VERSION_MAJOR)
SHARED   := $(B)/libdss.so.$(VERSION)
TEST_SRC := $(filter-out tests/support.c,$(wildcard tests/test_*.c))
TESTS    := $(TEST_SRC:tests/%.c=$(B)/tests/%)
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
BENCHES  := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))

# valgrind's client requests (lib/job.c registers its coroutine stacks) where the header exists
VALGRIND_H  := $(shell printf '\043include <valgrind/valgrind.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo -DDSS_HAVE_VALGRIND_H)
LIB_CFLAGS  := $(STD) $(WARN) -Iinclude -Ilib -DDSS_BUILDING $(VALGRIND_H) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden
TEST_CFLAGS := $(STD) $(WARN) -Iinclude -Ilib -Itests $(CMOCKA_CFLAGS) $(CPPFLAGS) $(CFLAGS)
EX_CFLAGS   := $(STD) $(WARN) -Iinclude $(CPPFLAGS) $(CFLAGS)
LINK_LIBS   := $(LDFLAGS) $(LAPACK_LIBS) -lm



.PHONY: FORCE all lib tests bench benches deps check check-valgrind check-installed demo examples install uninstall clean help

all: lib examples

lib: $(STATIC) $(SHARED)

$(B)/lib/%.o: lib/%.c $(wildcard lib/*.h) include/dss/dss.h
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/lib-check/%.o: lib/%.c $(wildcard lib/*.h) include/dss/dss.h
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -DDSS_CHECK_INVARIANTS -c $< -o $@

$(CHECKED): $(CHECKED_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(SHARED): $(LIB_OBJ) lib/libdss.map
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libdss.map \
	    -Wl,--no-undefined -o $@ $(LIB_OBJ) $(LINK_LIBS)
	ln -sf libdss.so.$(VERSION) $(B)/$(SONAME)
	ln -sf $(SONAME) $(B)/libdss.so
	printf 'LAPACK=%s\nLAPACK_LIBS=%s\n' '$(LAPACK)' '$(strip $(filter-out -L%,$(LAPACK_LIBS)))' > $(B)/link.txt

# ---- dependencies: install from Debian when root, else say what to run -----------------------
deps:
	@sh scripts/deps.sh

# ---- tests -------------------------------------------------------------------------------------
$(B)/tests/support.o: tests/support.c tests/support.h include/dss/dss.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(B)/tests/%: tests/%.c $(B)/tests/support.o $(CHECKED) tests/support.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $< $(B)/tests/support.o $(CHECKED) -o $@ $(CMOCKA_LIBS) $(LINK_LIBS)

tests: $(TESTS)

# Extra check steps (Python bindings, the slider program, ...) come from mk/*.mk, each adding
# its target to CHECK_EXTRA; install steps likewise to INSTALL_EXTRA.
CHECK_EXTRA :=
INSTALL_EXTRA :=
-include $(wildcard mk/*.mk)

check: deps
	@$(MAKE) --no-print-directory all tests
	@sh scripts/run-tests.sh $(TESTS)
	@$(MAKE) --no-print-directory check-installed $(CHECK_EXTRA)

# valgrind: every test binary under memcheck, failing on any error or leak
check-valgrind: deps
	@$(MAKE) --no-print-directory all tests
	@VALGRIND="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
	    sh scripts/run-tests.sh $(TESTS)

# install into a temporary prefix and build every example against it through pkg-config
check-installed: lib
	@sh scripts/check-installed.sh

# ---- examples and the demo ----------------------------------------------------------------------
examples: $(EXAMPLES)

$(B)/examples/%: examples/%.c $(STATIC) include/dss/dss.h
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $< $(STATIC) -o $@ $(LINK_LIBS)

demo: deps
	@$(MAKE) --no-print-directory $(B)/examples/demo
	$(B)/examples/demo --csv $(B)/demo.csv

# ---- benchmarks: programs that print medians and ratios measured in one run --------------------
# bench/*.c may include lib/lapack.h to time the reference route (LAPACK called directly).
benches: $(BENCHES)

$(B)/bench/%: bench/%.c $(STATIC) include/dss/dss.h
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -Ilib $< $(STATIC) -o $@ $(LINK_LIBS)

bench: deps
	@$(MAKE) --no-print-directory benches
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

# ---- install -----------------------------------------------------------------------------------
# dss.pc is written straight into the staging path (nothing in $(B) is written by install), its
# directories relative to ${prefix} where they lie under PREFIX, its LAPACK libraries those the
# build linked libdss.so with (recorded in $(B)/link.txt), not this run's LAPACK, and without
# the build machine's -L directories (Debian's lapack.pc names the one alternative selected
# there; the linker's default path finds the libraries on the user's machine)
BUILT_LAPACK      = $(shell sed -n 's/^LAPACK=//p' $(B)/link.txt 2>/dev/null)
BUILT_LAPACK_LIBS = $(shell sed -n 's/^LAPACK_LIBS=//p' $(B)/link.txt 2>/dev/null)
PC_DIR            = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

# a build tree from before link.txt existed: relink once to record it
$(B)/link.txt: $(SHARED)
	@test -f $@ || { rm -f $(SHARED); $(MAKE) --no-print-directory $(SHARED); }

install: lib $(B)/link.txt
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/dss $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/dss/*.h $(DESTDIR)$(INCLUDEDIR)/dss/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libdss.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libdss.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call PC_DIR,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(call PC_DIR,$(INCLUDEDIR))|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@LAPACK@|$(BUILT_LAPACK)|' -e 's|@LAPACK_LIBS@|$(BUILT_LAPACK_LIBS)|' \
	    dss.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/dss.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/dss.pc
	@$(if $(INSTALL_EXTRA),$(MAKE) --no-print-directory $(INSTALL_EXTRA))

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libdss.a $(DESTDIR)$(LIBDIR)/libdss.so \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libdss.so.$(VERSION) \
	      $(DESTDIR)$(PKGCONFIGDIR)/dss.pc
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/dss/,$(notdir $(wildcard include/dss/*.h)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/dss 2>/dev/null

clean:
	rm -rf $(B)

FORCE:

help:
	@echo "make            build libdss.a, libdss.so.$(VERSION) and the examples"
	@echo "make check      install missing Debian packages, build, run the test suite, test the install"
	@echo "make demo       build and run the demonstration (DSS vs random directions)"
	@echo "make check-valgrind   run the test suite under valgrind memcheck"
	@echo "make bench      build and run the benchmarks in bench/ (figures for docs/benchmarks.md)"
	@echo "make install    install (PREFIX, DESTDIR, LIBDIR, INCLUDEDIR, PKGCONFIGDIR)"
	@echo "make uninstall  remove what install installed"
	@echo "make clean      remove build/"
	@echo "make LAPACK=openblas ...   link OpenBLAS instead of the selected lapack/blas"
	@echo "make slider     build the interactive terminal program (examples/slider)"
	@echo "make check-slider  its scripted and tmux tests (part of make check)"
	@echo "make docs       HTML and man3 reference from the header (Doxygen; build/docs)"
	@echo "make check-python  the Python bindings' tests (part of make check)"
	@echo "make blender-addon  the Blender add-on's zip, build/dss_sliders.zip (docs/blender.md)"
	@echo "make check-blender  its headless Blender tests (part of make check); bench-blender, blender-render"
	@echo "make mutate     mutation testing of lib/ against the unit tests (docs/testing.md)"
	@echo "make web        the web slider studio on http://127.0.0.1:8000/ (docs/web.md)"
	@echo "make check-web  its tests: API, security, SQLite and PostgreSQL stores, gunicorn (kill test), 50-user load, headless chromium (part of make check)"
	@# ---- sanitizers, fuzzing, ABI guard (mk/hardening.mk) ----
	@echo "make check-asan   the tests and examples under AddressSanitizer + UBSan (build-asan/)"
	@echo "make check-tsan   tests/test_threads.c under ThreadSanitizer, OPENBLAS_NUM_THREADS=1 (build-tsan/)"
	@echo "make fuzz FUZZ_SECONDS=60   libFuzzer on dss_search_load and the setters (build-fuzz/)"
	@echo "make fuzz-corpus  regenerate the seed corpus tests/fuzz/corpus"
	@echo "make abi-check    compare libdss.so with the ABI baseline abi/ (docs/abi.md)"
	@echo "make abi-dump     regenerate the ABI baseline (only for an intended ABI change)"
	@# ---- packaging (mk/packaging.mk, docs/packaging.md) ----
	@echo "make check DEPS=no   never run apt-get (also DSS_NO_APT=1); optional suites skip"
	@echo "make abi-symbols  accept added functions/constants into abi/symbols.txt, abi/constants.txt"
	@echo "make man          one man page per function into build/man/man3"
	@echo "make python-version  write python/libdss/_version.py from dss.h"
	@echo "make check-hardening check-cmake check-python-venv check-abi-guard check-dist   (CI)"
	@echo "make check-backends  sessions under the reference LAPACK vs OpenBLAS (part of make check)"
	@echo "make check-cross  i386 and s390x builds, their C suites, sessions moved between machines"
	@echo "make check-lto    build and test with dpkg-buildflags' optimize=+lto"
	@echo "make dist         libdss-$(VERSION).tar.gz of the tracked files"
