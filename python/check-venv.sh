#!/bin/sh
# The pip user's path, offline: install libdss into a temporary prefix, create a venv that sees
# Debian's NumPy (--system-site-packages), `pip install --no-build-isolation --no-index python/`
# into it, and check that pip lists the package with libdss's version, that `import dss` from
# outside the source tree loads the installed libdss.so.1 (found by the system loader, as
# after ldconfig), and that a small session runs; with libdss installed into the venv's own
# prefix, import dss finds it there without any help. Then: PREFIX=/usr puts the module into
# Debian's /usr/lib/python3/dist-packages (a DESTDIR install).
# Skips, saying why, when venv, pip or setuptools are missing (Debian: python3-venv python3-pip
# python3-setuptools); set DSS_REQUIRE_OPTIONAL=1 (CI does) to fail instead.
set -eu
make=${MAKE:-make}
PYTHON=${PYTHON:-/usr/bin/python3}
skip() {
    if [ "${DSS_REQUIRE_OPTIONAL:-0}" = 1 ]; then echo "check-python-venv: $*" >&2; exit 1; fi
    echo "check-python-venv: skipped: $*"; exit 0
}
"$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 \
    || skip "the venv module is missing (apt-get install python3-venv)"
"$PYTHON" -c 'import pip' >/dev/null 2>&1 || skip "pip is missing (apt-get install python3-pip)"
"$PYTHON" -c 'import setuptools, wheel' >/dev/null 2>&1 \
    || skip "setuptools or wheel is missing (apt-get install python3-setuptools python3-wheel)"
"$PYTHON" -c 'import numpy' >/dev/null 2>&1 || skip "numpy is missing (apt-get install python3-numpy)"
t0=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
want=$(sed -n 's/^#define DSS_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' include/dss/dss.h \
       | paste -sd. -)
$make --no-print-directory -s install PREFIX="$tmp/prefix" PYTHONDIR="$tmp/unused" >/dev/null

# --without-pip: Debian's pip, visible through --system-site-packages, installs into the venv
# just as the venv's own copy would, and ensurepip would add seconds for nothing
"$PYTHON" -m venv --system-site-packages --without-pip "$tmp/venv"
cp -R python "$tmp/src"   # pip builds in the tree it is given: keep build/ and egg-info out of ours
PIP_DISABLE_PIP_VERSION_CHECK=1 "$tmp/venv/bin/python" -m pip install -q --no-build-isolation --no-index \
    "$tmp/src" > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; echo "check-python-venv: pip install failed" >&2; exit 1; }
"$tmp/venv/bin/python" -m pip show dss > "$tmp/show"
grep -q "^Version: $want\$" "$tmp/show" \
    || { cat "$tmp/show" >&2; echo "check-python-venv: pip show dss does not say Version: $want" >&2; exit 1; }
grep -q "^Location: $tmp/venv/" "$tmp/show" \
    || { echo "check-python-venv: dss is not installed in the venv" >&2; exit 1; }
(cd "$tmp" && env -u DSS_LIBRARY -u PYTHONPATH LD_LIBRARY_PATH="$tmp/prefix/lib" \
    PYTHONDONTWRITEBYTECODE=1 "$tmp/venv/bin/python" -c '
import os, sys
import dss
prefix, venv, want = sys.argv[1:4]
here = os.path.realpath(dss.__file__)
assert here.startswith(os.path.realpath(venv) + os.sep), "imported %s, not the venv copy" % here
maps = [l.split()[-1] for l in open("/proc/self/maps") if "libdss.so" in l]
assert maps and all(m.startswith(os.path.realpath(prefix) + "/lib/") for m in maps), maps
assert dss.__version__ == want and dss.version() == want, (dss.__version__, dss.version())
p = dss.Synthetic(8, 64, 2.0, 1)
s = dss.Search(p.model, seed=1, prior="box", prior_scale=dss.SYNTHETIC_BOX)
s.start(p.initial_point())
t, score = dss.LineSearch(samples=101).find_optimal(s, p.score)
s.commit(t)
print("check-python-venv: pip show dss: %s; import dss loaded %s" % (want, maps[0]))
' "$tmp/prefix" "$tmp/venv" "$want")

# libdss installed into the venv's own prefix: found there (<sys.prefix>/lib) with no help
$make --no-print-directory -s install PREFIX="$tmp/venv" PYTHONDIR="$tmp/unused" >/dev/null
(cd "$tmp" && env -u DSS_LIBRARY -u PYTHONPATH -u LD_LIBRARY_PATH PYTHONDONTWRITEBYTECODE=1 \
    "$tmp/venv/bin/python" -c '
import os, sys
import dss
maps = [l.split()[-1] for l in open("/proc/self/maps") if "libdss.so" in l]
lib = os.path.realpath(sys.argv[1]) + "/lib/"
assert maps and all(m.startswith(lib) for m in maps), (maps, dss.library_path)
print("check-python-venv: with PREFIX=$VIRTUAL_ENV, import dss loaded %s" % maps[0])
' "$tmp/venv")

# PREFIX=/usr: Debian's dist-packages
$make --no-print-directory -s install-python PREFIX=/usr DESTDIR="$tmp/dest" >/dev/null
[ -f "$tmp/dest/usr/lib/python3/dist-packages/dss/__init__.py" ] \
    || { echo "check-python-venv: PREFIX=/usr did not install into /usr/lib/python3/dist-packages" >&2
         find "$tmp/dest" -name __init__.py >&2; exit 1; }
echo "check-python-venv: PREFIX=/usr installs into /usr/lib/python3/dist-packages/dss" \
     "($(( $(date +%s) - t0 )) s)"
