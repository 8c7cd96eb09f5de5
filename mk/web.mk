# The web slider studio (examples/web/) and its tests; included by the Makefile.
#
#   make web         serve it on http://127.0.0.1:$(WEB_PORT)/ with sessions in $(WEB_DB)
#                    (trains the small VAE into build/web/ first if needed: ~20 s)
#   make web-gunicorn  the production setup on one machine: gunicorn (examples/web/gunicorn.conf.py)
#                    on $(WEB_DB) (a SQLite file or a postgresql:// URL), $(WEB_BIND)
#   make check-web   tests/web with pytest: the API's answers to bad input, hostile requests
#                    (cross-origin writes, huge bodies, limits, expiry, headers), the two stores
#                    (SQLite and a throwaway PostgreSQL cluster), gunicorn with two instances on
#                    one PostgreSQL and a SIGKILL, 50 simulated users (p95 slider latency
#                    printed), and the page in headless chromium through selenium (drag, accept,
#                    undo, reload, server restart, outages; the gallery mode: cell clicks, keys,
#                    zoom, undo). Skipped, with the reason, when a
#                    package of $(WEB_PKGS) is missing. About 3-4 minutes on 2 busy
#                    cores (docs/web.md).
#   make bench-web-gallery  the gallery mode's latency: 200 whole 5 x 5 grids and 50 accepts
#                    on a throwaway server, and 100 zooms timed in headless chromium; median
#                    and p95 (examples/web/bench_gallery.py)
#
# Everything runs with /usr/bin/python3 ($(PYTHON), see mk/python.mk) and Debian's packages.

WEB_PORT ?= 8000
WEB_BIND ?= 127.0.0.1:$(WEB_PORT)
WEB_DB   ?= $(B)/web/sessions.sqlite3
WEB_PKGS := chromium chromium-driver python3-selenium python3-flask python3-torch python3-pil \
            gunicorn python3-psycopg2 postgresql

CHECK_EXTRA += check-web

.PHONY: web web-gunicorn check-web bench-web-gallery

web: lib
	@PYTHON="$(PYTHON)" sh python/deps.sh python && PYTHON="$(PYTHON)" sh python/deps.sh dataset
	$(PY_ENV) $(PYTHON) examples/web/server.py --db $(WEB_DB) --port $(WEB_PORT)

web-gunicorn: lib
	@PYTHON="$(PYTHON)" sh python/deps.sh python && PYTHON="$(PYTHON)" sh python/deps.sh dataset
	$(PY_ENV) $(PYTHON) examples/web/server.py --prepare
	$(PY_ENV) DSS_WEB_DB="$(WEB_DB)" DSS_WEB_BIND="$(WEB_BIND)" DSS_WEB_ACCESS_LOG=- \
	    $(PYTHON) -m gunicorn -c examples/web/gunicorn.conf.py

check-web: lib
	@missing=""; \
	for m in flask torch selenium PIL gunicorn psycopg2; do \
	    $(PYTHON) -c "import $$m" >/dev/null 2>&1 || missing="$$missing $$m"; \
	done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
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

bench-web-gallery: lib
	@PYTHON="$(PYTHON)" sh python/deps.sh python && PYTHON="$(PYTHON)" sh python/deps.sh dataset
	$(PY_ENV) OPENBLAS_NUM_THREADS=1 $(PYTHON) examples/web/server.py --prepare
	$(PY_ENV) OPENBLAS_NUM_THREADS=1 nice -n 10 $(PYTHON) examples/web/bench_gallery.py --browser 100
