# Mutation testing of lib/ against the unit tests (not part of `make check`); included by the
# Makefile.
#
#   make mutate                      every mutant of scripts/mutants.txt (about 10 minutes)
#   make mutate MUTANTS="mem1 line2" only these
#   make mutate MUTATE_JOBS=2        two workers (each with its own copy of the tree)
#
# scripts/mutate.py copies the tree into a temporary directory, builds it once at -O1, and for
# each mutant recompiles the one changed object, relinks the test programs and runs them
# (scripts/run-tests.sh) until one fails. docs/testing.md explains the output and lists the
# survivors of the last run.

MUTANTS     ?=
MUTATE_JOBS ?= 1

.PHONY: mutate
mutate: deps
	@CC="$(CC)" CMOCKA_CFLAGS="$(CMOCKA_CFLAGS)" CMOCKA_LIBS="$(CMOCKA_LIBS)" \
	    LAPACK_LIBS="$(LAPACK_LIBS)" /usr/bin/python3 scripts/mutate.py --jobs $(MUTATE_JOBS) $(MUTANTS)
