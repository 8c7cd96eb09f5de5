# The reference manual; included by the Makefile.
#
#   make docs       HTML and man(3) pages from include/dss/dss.h's comments (Doxygen, Debian
#                   `doxygen`: installed when missing and run as root, else the command to run is
#                   printed) into $(B)/docs/html and $(B)/docs/man/man3; and, when Sphinx is
#                   importable by $(PYTHON) (Debian `python3-sphinx`), the Python API reference
#                   from the docstrings of python/libdss (docs/python/) into $(B)/docs/python,
#                   warnings as errors; without Sphinx it says so and skips that part
#   make man        one man(3) page per function of the header, generated from its doc comments
#                   by scripts/man-pages.sh (no Doxygen needed) into $(B)/man/man3
#   make install    installs docs/dss.3 (the hand-written overview) and those pages into
#                   $(MANDIR)/man3: the same set whether or not `make docs` ran
#   make check-man  docs/dss.3 names every function of the header, and groff finds no problem
#                   in it (part of `make check`)

MANDIR  ?= $(PREFIX)/share/man
MAN3DIR := $(MANDIR)/man3
DOCS    := $(B)/docs
# every function the header exports, for check-man (the sed script is a variable of its own
# because make would count its parentheses inside $(shell ...))
DSS_FUNCTIONS_SED := s/^DSS_API[^(]*[ *]\(dss_[a-z0-9_]*\)(.*/\1/p
DSS_FUNCTIONS = $(shell sed -n '$(DSS_FUNCTIONS_SED)' include/dss/dss.h)

.PHONY: docs docs-deps man check-man install-man uninstall-man

MAN_PAGES := $(B)/man/man3
all: $(MAN_PAGES)/.stamp
man: $(MAN_PAGES)/.stamp
$(MAN_PAGES)/.stamp: include/dss/dss.h scripts/man-pages.awk scripts/man-pages.sh
	@sh scripts/man-pages.sh $(MAN_PAGES) $(VERSION)
	@touch $@

docs-deps:
	@command -v doxygen >/dev/null 2>&1 && exit 0; \
	if [ "$${DSS_NO_APT:-0}" = 1 ]; then \
	    echo "docs: doxygen is missing; not installing it (DSS_NO_APT=1)" >&2; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "docs: installing doxygen from Debian's archive"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq doxygen \
	        >/dev/null && exit 0; \
	    echo "docs: apt-get install doxygen failed" >&2; exit 1; \
	fi; \
	echo "docs: doxygen is missing. Install it with:" >&2; \
	echo "    sudo apt-get install -y doxygen" >&2; \
	exit 1

docs: docs-deps $(MAN_PAGES)/.stamp
	rm -rf $(DOCS)/html $(DOCS)/man
	@mkdir -p $(DOCS)
	DSS_DOCS_OUT=$(DOCS) DSS_VERSION=$(VERSION) doxygen docs/Doxyfile
	@# the man pages are the per-function ones of scripts/man-pages.sh (Doxygen's man output
	@# is one page for the whole header), the same that make install installs
	@mkdir -p $(DOCS)/man/man3
	@cp $(MAN_PAGES)/*.3 docs/dss.3 $(DOCS)/man/man3/
	@n=$$(grep -c 'warning:' $(DOCS)/warnings.log 2>/dev/null); \
	if [ "$${n:-0}" -gt 0 ]; then echo "docs: $$n doxygen warnings, see $(DOCS)/warnings.log"; fi
	@echo "docs: $(DOCS)/html/index.html; $$(ls $(DOCS)/man/man3 | wc -l) man pages in $(DOCS)/man/man3 (man -M $(DOCS)/man dss)"
	@$(MAKE) --no-print-directory docs-python

# the Python reference: Sphinx autodoc over the package, run against this build's library
.PHONY: docs-python
docs-python: lib
	@if ! $(PYTHON) -c 'import sphinx' >/dev/null 2>&1; then \
	    echo "docs: Sphinx is not installed for $(PYTHON): skipping the Python reference" \
	         "(apt-get install python3-sphinx)"; exit 0; fi; \
	rm -rf $(DOCS)/python; \
	PYTHONPATH="$(CURDIR)/python" DSS_LIBRARY="$(CURDIR)/$(B)/$(SONAME)" DSS_VERSION=$(VERSION) \
	    PYTHONDONTWRITEBYTECODE=1 $(PYTHON) -m sphinx -q -W --keep-going -b html \
	    -d $(DOCS)/python-doctrees docs/python $(DOCS)/python \
	&& echo "docs: $(DOCS)/python/index.html (the Python API reference, Sphinx)"

check-man:
	@missing=""; for f in $(DSS_FUNCTIONS); do \
	    grep -qw "$$f" docs/dss.3 || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
	    echo "check-man: docs/dss.3 does not list:$$missing" >&2; exit 1; fi
	@if command -v groff >/dev/null 2>&1; then \
	    out=$$(groff -man -Tutf8 -ww -z docs/dss.3 2>&1); \
	    if [ -n "$$out" ]; then echo "$$out" >&2; echo "check-man: groff warnings" >&2; exit 1; fi; \
	fi
	@echo "check-man: docs/dss.3 lists all $(words $(DSS_FUNCTIONS)) functions of dss.h"

install-man: $(MAN_PAGES)/.stamp
	install -d $(DESTDIR)$(MAN3DIR)
	install -m 644 docs/dss.3 $(MAN_PAGES)/dss_*.3 $(DESTDIR)$(MAN3DIR)/

# The Makefile has no uninstall hook, so this adds a prerequisite to its uninstall target. The
# generated pages are named after the header (dss.h.3) and its identifiers (dss_*, DSS_*).
uninstall: uninstall-man
uninstall-man:
	rm -f $(DESTDIR)$(MAN3DIR)/dss.3 $(DESTDIR)$(MAN3DIR)/dss.h.3 \
	      $(DESTDIR)$(MAN3DIR)/dss_*.3 $(DESTDIR)$(MAN3DIR)/DSS_*.3

INSTALL_EXTRA += install-man
CHECK_EXTRA += check-man
