# Portability: the same results on other LAPACK/BLAS backends, thread counts and machines, as
# docs/reproducibility.md promises (scripts/check-portable.sh). Included by the Makefile.
#
#   make check-backends   four sessions of 200 steps under the reference LAPACK and under
#                         OpenBLAS with 1 and 2 threads: the same decisions, centres within the
#                         documented bound (part of make check; needs both backends installed)
#   make check-cross      the C suite for i386 and s390x (big-endian, under qemu-user) with
#                         Debian's cross compilers, and sessions saved here loaded there and
#                         back (in .ci/run; installs the cross toolchains when root)

TRACE := $(B)/portable/trace

.PHONY: check-backends check-cross

$(TRACE): tests/portable/trace.c $(STATIC) include/dss/dss.h
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $< $(STATIC) -o $@ $(LINK_LIBS)

# both backends are installed when root (never with DEPS=no); otherwise the check says which
# package is missing and skips, or fails under DSS_REQUIRE_OPTIONAL=1 (CI)
check-backends: $(TRACE)
	@sh scripts/need-packages.sh liblapack3 libblas3 libopenblas0 >/dev/null 2>&1 || true
	@CC="$(CC)" sh scripts/check-portable.sh backends $(TRACE)

check-cross:
	@MAKE="$(MAKE)" sh scripts/check-portable.sh cross

CHECK_EXTRA += check-backends
