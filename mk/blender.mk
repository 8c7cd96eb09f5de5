# The Blender add-on (examples/blender/dss_sliders) and its headless tests; included by the
# Makefile.
#
#   make blender-addon   build/dss_sliders.zip, the file an artist installs (Edit >
#                        Preferences > Add-ons > Install...)
#   make check-blender   tests/blender/run.sh: headless Blender sessions that install the zip,
#                        drive the operators and the slider, save, reopen in a new process, and
#                        run the simulated artist, and the modal test (Blender with a window
#                        under Xvfb) MODAL_RUNS times (part of `make check`; prints a reason and
#                        skips when `blender` is absent; CI installs Debian's blender)
#   make check-blender-modal   only the modal test, MODAL_RUNS times (CI: MODAL_RUNS=20); prints
#                        the count of failed and crashed runs
#   make bench-blender   examples/blender/bench_slider.py: median add-on time of a slider move
#   make bench-blender-rig     examples/blender/bench_rig.py: the simulated artist on the face
#                        rig with each Directions choice (about 3 minutes), then Accept time
#                        and memory with the full Jacobian and the compact factor at 2 012 and
#                        126 290 vertices (one Blender process each; docs/blender.md)
#   make blender-render  examples/blender/render_before_after.py: docs/blender-before-after.png
#
# BLENDER names the executable (default: blender on PATH). MODAL_RUNS (default 3): runs of the
# modal test, about 20 s each.

BLENDER       ?= blender
BLENDER_ZIP   := $(B)/dss_sliders.zip
BLENDER_SRC   := $(wildcard examples/blender/dss_sliders/*.py)
BLENDER_RUN    = $(BLENDER) -b --factory-startup --python-exit-code 1 --python
MODAL_RUNS    ?= 3

CHECK_EXTRA += check-blender

.PHONY: blender-addon check-blender check-blender-modal bench-blender bench-blender-rig \
        blender-render

blender-addon: $(BLENDER_ZIP)

# the package directory at the top of the zip, sources only (no __pycache__)
$(BLENDER_ZIP): $(BLENDER_SRC)
	@mkdir -p $(@D)
	cd examples/blender && /usr/bin/python3 -c 'import sys, zipfile; \
	z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED); \
	[z.write(p) for p in sorted(sys.argv[2:])]; z.close()' $(CURDIR)/$@ \
	    $(patsubst examples/blender/%,%,$(BLENDER_SRC))
	@echo "blender-addon: $@"

check-blender: lib $(BLENDER_ZIP)
	@if ! command -v $(BLENDER) >/dev/null 2>&1; then \
	    echo "check-blender: skipped: blender not installed (apt-get install blender)"; \
	else \
	    BLENDER="$(BLENDER)" OPENBLAS_NUM_THREADS=1 MODAL_RUNS=$(MODAL_RUNS) sh tests/blender/run.sh \
	        "$(CURDIR)/$(BLENDER_ZIP)" "$(CURDIR)/python" "$(CURDIR)/$(B)/blender-tests"; \
	fi

check-blender-modal: lib $(BLENDER_ZIP)
	@if ! command -v $(BLENDER) >/dev/null 2>&1; then \
	    echo "check-blender-modal: skipped: blender not installed (apt-get install blender)"; \
	else \
	    BLENDER="$(BLENDER)" OPENBLAS_NUM_THREADS=1 MODAL_RUNS=$(MODAL_RUNS) MODAL_ONLY=1 \
	        sh tests/blender/run.sh "$(CURDIR)/$(BLENDER_ZIP)" "$(CURDIR)/python" \
	        "$(CURDIR)/$(B)/blender-modal"; \
	fi

bench-blender: lib
	OPENBLAS_NUM_THREADS=1 DSS_LIBRARY="$(CURDIR)/$(B)/$(SONAME)" \
	    $(BLENDER_RUN) examples/blender/bench_slider.py -- --python-dir "$(CURDIR)/python"

bench-blender-rig: lib
	OPENBLAS_NUM_THREADS=1 DSS_LIBRARY="$(CURDIR)/$(B)/$(SONAME)" \
	    $(BLENDER_RUN) examples/blender/bench_rig.py -- --python-dir "$(CURDIR)/python" \
	    --targets 24 --accepts 30 --methods singular,once,order,random,singular+,once+
	for level in 1 4; do for compact in 0 1; do \
	    OPENBLAS_NUM_THREADS=1 DSS_LIBRARY="$(CURDIR)/$(B)/$(SONAME)" \
	    $(BLENDER_RUN) examples/blender/bench_rig.py -- --python-dir "$(CURDIR)/python" \
	        --scale 1 --level $$level --compact $$compact --repeats 12 || exit 1; done; done

blender-render: lib
	OPENBLAS_NUM_THREADS=1 DSS_LIBRARY="$(CURDIR)/$(B)/$(SONAME)" \
	    $(BLENDER_RUN) examples/blender/render_before_after.py -- \
	    --python-dir "$(CURDIR)/python" --out docs/blender-before-after.png
