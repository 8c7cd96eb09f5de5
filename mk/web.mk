# The web slider studio (examples/web/) and its tests; included by the Makefile.
#
#   make web         serve it on http://127.0.0.1:$(WEB_PORT)/ with sessions in $(WEB_DB)
#                    (trains the small VAE into build/web/ first if needed: ~20 s)
#   make check-web   tests/web with pytest: the API's answers to bad input, two server
#                    processes on one database, 50 simulated users (p95 slider latency printed),
#                    and the page in headless chromium through selenium (drag, accept, undo,
#                    reload, server restart). Skipped, with the reason, when python3-flask,
#                    python3-torch, python3-selenium, python3-pil, chromium or chromium-driver
#                    is missing. About 3 minutes on 2 busy cores (docs/web.md).
#
# Everything runs with /usr/bin/python3 ($(PYTHON), see mk/python.mk) and Debian's packages.

WEB_PORT ?= 8000
WEB_DB   ?= $(B)/web/sessions.sqlite3
WEB_PKGS := chromium chromium-driver python3-selenium python3-flask python3-torch python3-pil

CHECK_EXTRA += check-web

.PHONY: web check-web

web: lib
	@PYTHON="$(PYTHON)" sh python/deps.sh python && PYTHON="$(PYTHON)" sh python/deps.sh dataset
	$(PY_ENV) $(PYTHON) examples/web/server.py --db $(WEB_DB) --port $(WEB_PORT)

check-web: lib
	@missing=""; \
	for m in flask torch selenium PIL; do \
	    $(PYTHON) -c "import $$m" >/dev/null 2>&1 || missing="$$missing $$m"; \
	done; \
	for b in chromium chromedriver; do \
	    command -v $$b >/dev/null 2>&1 || missing="$$missing $$b"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "check-web: skipped: missing$$missing (apt-get install $(WEB_PKGS))"; \
	else \
	    t0=$$(date +%s); \
	    PYTHON="$(PYTHON)" sh python/deps.sh python && PYTHON="$(PYTHON)" sh python/deps.sh dataset \
	    && $(PY_ENV) OPENBLAS_NUM_THREADS=1 $(PYTHON) examples/web/server.py --prepare \
	    && $(PY_ENV) OPENBLAS_NUM_THREADS=1 WEB_TEST_OUT="$(CURDIR)/$(B)/web-test" \
	        $(PYTHON) -m pytest -q -s -p no:cacheprovider tests/web \
	    && echo "check-web: passed in $$(( $$(date +%s) - t0 )) s (screenshots in $(B)/web-test)"; \
	fi
