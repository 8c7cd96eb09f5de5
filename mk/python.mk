# Python bindings (python/libdss, ctypes: nothing to compile; python/dss is the deprecated
# 1.0 name) and the PyTorch example.
#
#   make check-python            pytest suite of the bindings (python/tests), then an install of
#                                the package into a temporary prefix, imported from there
#   make check-torch             the libdss.torch adapter's tests (python/tests/torch) and
#                                examples/python/fashion_mnist.py --smoke when PyTorch is
#                                importable; otherwise prints "skipped: python3-torch not installed"
#   make install-python          the package into $(PYTHONDIR) (part of `make install`)
#   make uninstall-python        removes it again (part of `make uninstall`)
#   make fashion-mnist           the full PyTorch example (trains or loads the VAE, 25 iterations)
#
# PYTHON is the interpreter that runs the checks: Debian's /usr/bin/python3 by default, since
# python3-numpy, python3-pytest and python3-torch install their modules for it. The checks
# install python3-numpy and python3-pytest (and dataset-fashion-mnist for the PyTorch smoke test)
# when run as root with apt-get, and otherwise print the command to run.
#
# PYTHONDIR is where `make install` puts the packages `libdss` and `dss` (with a
# libdss-X.Y.Z.dist-info, so that pip lists it): by default Debian's
# /usr/lib/python3/dist-packages for PREFIX=/usr, else $(PREFIX)/lib/pythonX.Y/dist-packages,
# which Debian's python3 searches for PREFIX=/usr/local; elsewhere set PYTHONDIR to a directory
# on your sys.path (or add it to PYTHONPATH). Nothing machine-specific is written into the
# package: it finds libdss.so.1 in the prefix it is installed in (the first ancestor directory
# with lib/, lib/<multiarch>/ or lib64/ holding it), then pkg-config's dss and the loader.

PYTHON         ?= /usr/bin/python3
PYTHON_VERSION  = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo 3)
PYTHONDIR      ?= $(if $(filter /usr /usr/,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(PYTHON_VERSION)/dist-packages)

# run from the source tree against this build's library, without writing bytecode into it
PY_ENV = PYTHONPATH="$(CURDIR)/python" DSS_LIBRARY="$(CURDIR)/$(B)/$(SONAME)" PYTHONDONTWRITEBYTECODE=1

CHECK_EXTRA   += check-python check-torch
INSTALL_EXTRA += install-python

.PHONY: check-python check-python-installed check-torch install-python uninstall-python \
        fashion-mnist

check-python: lib
	@out=$$(PYTHON="$(PYTHON)" sh python/deps.sh python); rc=$$?; \
	if [ $$rc = 77 ]; then echo "check-python: $$out"; exit 0; fi; \
	[ -z "$$out" ] || echo "$$out"; [ $$rc = 0 ] || exit $$rc; \
	echo '$(PY_ENV) $(PYTHON) -m pytest -q -p no:cacheprovider python/tests'; \
	$(PY_ENV) $(PYTHON) -m pytest -q -p no:cacheprovider python/tests && \
	$(MAKE) --no-print-directory check-python-installed

check-python-installed: lib
	@MAKE="$(MAKE)" PYTHON="$(PYTHON)" sh python/check-installed.sh

check-torch: lib
	@if ! $(PYTHON) -c 'import torch' >/dev/null 2>&1; then \
	    echo "check-torch: skipped: python3-torch not installed (apt-get install python3-torch)"; \
	else \
	    out=$$(PYTHON="$(PYTHON)" sh python/deps.sh python && PYTHON="$(PYTHON)" sh python/deps.sh dataset); \
	    rc=$$?; if [ $$rc = 77 ]; then echo "check-torch: $$out"; exit 0; fi; \
	    [ -z "$$out" ] || echo "$$out"; [ $$rc = 0 ] \
	    && echo "check-torch: python/tests_torch (libdss.torch)" \
	    && $(PY_ENV) $(PYTHON) -m pytest -q -p no:cacheprovider python/tests_torch \
	    && echo "check-torch: examples/python/fashion_mnist.py --smoke" \
	    && $(PY_ENV) $(PYTHON) examples/python/fashion_mnist.py --smoke --out $(B)/fashion-mnist-smoke \
	    && echo "check-torch: passed"; \
	fi

fashion-mnist: lib
	@PYTHON="$(PYTHON)" sh python/deps.sh python && PYTHON="$(PYTHON)" sh python/deps.sh dataset
	$(PY_ENV) $(PYTHON) examples/python/fashion_mnist.py --out $(B)/fashion-mnist

# the files come from the package's own build backend (python/_build/libdss_build.py): the
# same set as the wheel pip builds, with a dist-info whose INSTALLER says make
PY_BUILD = $(PYTHON) python/_build/libdss_build.py

install-python:
	install -d $(DESTDIR)$(PYTHONDIR)
	$(PY_BUILD) install $(DESTDIR)$(PYTHONDIR) >/dev/null

uninstall-python:
	rm -f $(addprefix $(DESTDIR)$(PYTHONDIR)/,$(shell $(PY_BUILD) files))
	rm -rf $(DESTDIR)$(PYTHONDIR)/libdss/__pycache__ $(DESTDIR)$(PYTHONDIR)/dss/__pycache__
	-rmdir $(DESTDIR)$(PYTHONDIR)/libdss $(DESTDIR)$(PYTHONDIR)/dss \
	    $(DESTDIR)$(PYTHONDIR)/libdss-*.dist-info 2>/dev/null

# `make uninstall` removes the package too (the Makefile's uninstall has no hook list)
uninstall: uninstall-python
