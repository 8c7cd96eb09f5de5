# Packaging: what a distribution, a CMake user and a pip user need (docs/packaging.md).
# Included by the Makefile.
#
#   make check-static     libdss.a defines only dss_* and the reserved dssi_* globals, and a
#                         host with its own mem_alloc, rng_next, ... links against it (part of
#                         make check)
#   make check-lto        the build, the tests and check-static with dpkg-buildflags'
#                         optimize=+lto flags, into build-lto/ (in .ci/run)
#   make check-hardening  build with dpkg-buildflags' hardening=+all flags into build-hardening/
#                         and run hardening-check (devscripts) on libdss.so and an example
#                         (in .ci/run)

.PHONY: check-static check-lto check-hardening clean-packaging

# make DEPS=no ... is DSS_NO_APT=1: no script or target runs apt-get (a package build); required
# packages that are missing fail with the command to run, optional suites skip saying why
ifeq ($(DEPS),no)
export DSS_NO_APT := 1
endif

check-static: $(STATIC)
	@CC="$(CC)" sh scripts/check-static.sh $(STATIC) "$(LINK_LIBS)"

CHECK_EXTRA += check-static

check-lto:
	@command -v dpkg-buildflags >/dev/null || sh scripts/need-packages.sh dpkg-dev
	@MAKE="$(MAKE)" CC="$(CC)" sh scripts/check-lto.sh build-lto

clean: clean-packaging
clean-packaging:
	rm -rf build-hardening build-lto

# ---- packagers' flags -----------------------------------------------------------------------
# The flags a Debian package build passes (hardening=+all: stack protector, _FORTIFY_SOURCE,
# RELRO, BIND_NOW, PIE) must reach every compile and link: hardening-check finds any that
# did not, in the shared library and in an example linked against the static archive.
HARDENING_B := build-hardening

check-hardening:
	@command -v hardening-check >/dev/null || sh scripts/need-packages.sh devscripts dpkg-dev
	@MAKE="$(MAKE)" sh scripts/check-hardening.sh $(HARDENING_B)

# ---- the exact ABI guard (docs/abi.md) --------------------------------------------------------
# check-abi-symbols: header DSS_API list == exported functions == lib/libdss.map's explicit
# names; the version nodes and abi/symbols.txt; compiled constants == abi/constants.txt.
# abi-symbols: accept an addition (new function in this release's node, new constant) into both
# baselines. make abi-dump (mk/hardening.mk) also rewrites abi/constants.txt, the same way.
.PHONY: check-abi-symbols abi-symbols

check-abi-symbols: $(SHARED)
	@CC="$(CC)" sh scripts/abi-symbols.sh check $(SHARED)

abi-symbols: $(SHARED)
	@CC="$(CC)" sh scripts/abi-symbols.sh update $(SHARED)

CHECK_EXTRA += check-abi-symbols

# the guard's own test: each kind of mistake, made in a scratch copy, must be caught (in .ci/run;
# about 30 to 60 s on a loaded 2-core machine: it relinks libdss.so nine times)
.PHONY: check-abi-guard
check-abi-guard: lib
	@MAKE="$(MAKE)" B="$(B)" sh tests/packaging/abi-guard.sh

# ---- dss.pc (make install writes it into the staging path; docs/packaging.md) ----------------
.PHONY: check-pc
check-pc: lib
	@MAKE="$(MAKE)" B="$(B)" CC="$(CC)" sh scripts/check-pc.sh

CHECK_EXTRA += check-pc

# ---- CMake package configuration (lib/cmake/dss; docs/packaging.md) ---------------------------
#   make install-cmake   dssConfig.cmake (imported targets dss::dss and dss::dss_static) and
#                        dssConfigVersion.cmake into $(CMAKEDIR) (part of make install)
#   make check-cmake     tests/cmake: find_package(dss 1.1 CONFIG REQUIRED) and
#                        pkg_check_modules(... IMPORTED_TARGET dss) against an installed copy,
#                        building and running the quickstart (skips, saying why, without cmake)
CMAKEDIR ?= $(LIBDIR)/cmake/dss
# dssConfig.cmake finds the prefix relative to itself when CMAKEDIR lies under PREFIX
CMAKE_PREFIX_EXPR = $(if $(filter $(PREFIX)/%,$(CMAKEDIR)),$${CMAKE_CURRENT_LIST_DIR}/$(shell \
    echo '$(patsubst $(PREFIX)/%,%,$(CMAKEDIR))' | sed 's|[^/][^/]*|..|g'),$(PREFIX))
CMAKE_DIR_OF = $(patsubst $(PREFIX)/%,$${_dss_prefix}/%,$(1))
SIZEOF_VOID_P = $(shell $(CC) -dM -E - </dev/null | sed -n 's/^\#define __SIZEOF_POINTER__ //p')

.PHONY: install-cmake uninstall-cmake check-cmake

install-cmake: $(B)/link.txt
	install -d $(DESTDIR)$(CMAKEDIR)
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(VERSION_MAJOR)|g' \
	    -e 's|$${CMAKE_CURRENT_LIST_DIR}/@CMAKE_TO_PREFIX@|$(CMAKE_PREFIX_EXPR)|' \
	    -e 's|@CMAKE_LIBDIR@|$(call CMAKE_DIR_OF,$(LIBDIR))|' \
	    -e 's|@CMAKE_INCLUDEDIR@|$(call CMAKE_DIR_OF,$(INCLUDEDIR))|' \
	    -e 's|@LAPACK@|$(BUILT_LAPACK)|' -e 's|@LAPACK_LIBS@|$(BUILT_LAPACK_LIBS)|' \
	    cmake/dssConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/dssConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(VERSION_MAJOR)|g' \
	    -e 's|@SIZEOF_VOID_P@|$(SIZEOF_VOID_P)|g' \
	    cmake/dssConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/dssConfigVersion.cmake
	chmod 644 $(DESTDIR)$(CMAKEDIR)/dssConfig.cmake $(DESTDIR)$(CMAKEDIR)/dssConfigVersion.cmake

uninstall: uninstall-cmake
uninstall-cmake:
	rm -f $(DESTDIR)$(CMAKEDIR)/dssConfig.cmake $(DESTDIR)$(CMAKEDIR)/dssConfigVersion.cmake
	-rmdir $(DESTDIR)$(CMAKEDIR) $(dir $(DESTDIR)$(CMAKEDIR)) 2>/dev/null

check-cmake: lib
	@MAKE="$(MAKE)" sh scripts/check-cmake.sh

INSTALL_EXTRA += install-cmake

# ---- the Python package (python/pyproject.toml) ------------------------------------------------
#   make python-version     write python/libdss/_version.py from the header's version (the one
#                           place the version lives; pyproject.toml and dss.__version__ read it)
#   make check-python-venv  pip install --no-build-isolation --no-index python/ into a fresh
#                           venv (offline), pip show, import libdss from it (python/check-venv.sh)
.PHONY: python-version check-python-version check-python-venv
PY_VERSION_FILE := python/libdss/_version.py
define PY_VERSION_TEXT
"""The version of libdss these bindings belong to (written from include/dss/dss.h by
`make python-version`; `make check` fails when the two differ)."""
__version__ = "$(VERSION)"
endef
export PY_VERSION_TEXT

python-version:
	@printf '%s\n' "$$PY_VERSION_TEXT" > $(PY_VERSION_FILE)
	@echo "python-version: $(PY_VERSION_FILE) says $(VERSION)"

check-python-version:
	@printf '%s\n' "$$PY_VERSION_TEXT" | cmp -s - $(PY_VERSION_FILE) || { \
	    echo "check-python-version: $(PY_VERSION_FILE) does not say $(VERSION) (dss.h):" \
	         "run 'make python-version' and commit it" >&2; exit 1; }
	@echo "check-python-version: $(PY_VERSION_FILE) says $(VERSION), as dss.h does"

check-python-venv: lib
	@MAKE="$(MAKE)" PYTHON="$(PYTHON)" sh python/check-venv.sh

CHECK_EXTRA += check-python-version

# ---- DSS_NO_APT=1 / make DEPS=no: no apt-get in a package build ---------------------------------
.PHONY: check-no-apt
check-no-apt: lib
	@sh tests/packaging/no-apt.sh

CHECK_EXTRA += check-no-apt

# ---- man pages: one per function, the same set with or without make docs ----------------------
.PHONY: check-man-pages
check-man-pages: lib
	@MAKE="$(MAKE)" B="$(B)" sh scripts/check-man-pages.sh

CHECK_EXTRA += check-man-pages

# ---- release tarball ------------------------------------------------------------------------------
#   make dist         libdss-X.Y.Z.tar.gz of the files git tracks (as they are in the working
#                     tree), reproducible: sorted, owner 0, the last commit's time, gzip -n
#   make check-dist   unpack it into an empty directory and run make check there (DSS_NO_APT=1:
#                     the packages are already present); in .ci/run
DIST_NAME := libdss-$(VERSION)
DIST      := $(DIST_NAME).tar.gz
.PHONY: dist check-dist

dist:
	@command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { \
	    echo "dist: needs a git checkout (the tarball holds the files git tracks)" >&2; exit 1; }
	@rm -f $(DIST)
	git ls-files -z | LC_ALL=C sort -z > $(DIST_NAME).files
	tar --no-recursion --null --transform 's|^|$(DIST_NAME)/|' --owner=0 --group=0 \
	    --numeric-owner --mtime="@$$(git log -1 --format=%ct)" -cf $(DIST_NAME).tar \
	    -T $(DIST_NAME).files
	gzip -n -9 -f $(DIST_NAME).tar
	@rm -f $(DIST_NAME).files
	@echo "dist: $(DIST) ($$(tar -tzf $(DIST) | grep -vc '/$$') files, $$(du -k $(DIST) | cut -f1) KiB)"

check-dist: dist
	@MAKE="$(MAKE)" sh scripts/check-dist.sh $(DIST) $(DIST_NAME)
