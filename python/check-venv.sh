#!/bin/sh
# The pip user's path, offline, as README.md and python/README.md give it:
#     /usr/bin/python3 -m venv --system-site-packages venv && venv/bin/pip install python/
# (the package's build backend is in the tree and needs nothing: no network, no setuptools).
# pip's configuration is ignored and its index is an address that refuses connections, so any
# attempt to download fails the check. Then, with no environment variable pointing at the
# library: libdss installed under another prefix is found through pkg-config's dss.pc; with
# neither, import fails with an ImportError that says what to do; libdss installed into the
# venv's own prefix is found there. Also: --no-build-isolation --no-index, -e and the sdist work, a
# venv without NumPy gets an ImportError naming the package to install, the wheel is
# reproducible, and PREFIX=/usr puts the package into Debian's /usr/lib/python3/dist-packages.
# Skips, saying why, when venv or pip are missing (Debian: python3-venv python3-pip); set
# DSS_REQUIRE_OPTIONAL=1 (CI does) to fail instead.
set -eu
make=${MAKE:-make}
PYTHON=${PYTHON:-/usr/bin/python3}
skip() {
    if [ "${DSS_REQUIRE_OPTIONAL:-0}" = 1 ]; then echo "check-python-venv: $*" >&2; exit 1; fi
    echo "check-python-venv: skipped: $*"; exit 0
}
fail() { echo "check-python-venv: $*" >&2; exit 1; }
"$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 \
    || skip "the venv module is missing (apt-get install python3-venv)"
"$PYTHON" -c 'import pip' >/dev/null 2>&1 || skip "pip is missing (apt-get install python3-pip)"
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
cp -R python "$tmp/src"   # pip builds in the tree it is given: keep build output out of ours
offline() {
    env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_NO_INDEX PIP_CONFIG_FILE=/dev/null \
        PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_RETRIES=0 PIP_DISABLE_PIP_VERSION_CHECK=1 "$@"
}
offline "$tmp/venv/bin/python" -m pip install "$tmp/src/" > "$tmp/log" 2>&1 \
    || { cat "$tmp/log" >&2; fail "venv/bin/pip install python/ failed (offline)"; }
"$tmp/venv/bin/python" -m pip show libdss > "$tmp/show"
grep -q "^Version: $want\$" "$tmp/show" \
    || { cat "$tmp/show" >&2; fail "pip show libdss does not say Version: $want"; }
grep -q "^Location: $tmp/venv/" "$tmp/show" || fail "libdss is not installed in the venv"

# libdss under another prefix, known to pkg-config (as /usr/local is after make install,
# before ldconfig): found through `pkg-config --variable=libdir dss`, no loader path
run() {  # run VENV_PYTHON SCRIPT ARGS... from outside the tree, without library variables
    py=$1; shift
    (cd "$tmp" && env -u DSS_LIBRARY -u PYTHONPATH -u LD_LIBRARY_PATH PYTHONDONTWRITEBYTECODE=1 \
        "$py" -W always::DeprecationWarning -c "$@")
}
SESSION='
import os, sys, warnings
import libdss
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    import dss
assert dss is libdss and "libdss" in str(w[0].message), w
lib, venv, want = sys.argv[1:4]
here = os.path.realpath(libdss.__file__)
assert here.startswith(os.path.realpath(venv) + os.sep), "imported %s, not the venv copy" % here
maps = [l.split()[-1] for l in open("/proc/self/maps") if "libdss.so" in l]
assert maps and all(m.startswith(os.path.realpath(lib) + "/") for m in maps), maps
assert libdss.__version__ == want and libdss.version() == want, (libdss.__version__, want)
p = libdss.Synthetic(8, 64, 2.0, 1)
s = libdss.Search(p.model, seed=1, prior="box", prior_scale=libdss.SYNTHETIC_BOX)
s.start(p.initial_point())
t, score = libdss.LineSearch(samples=101).find_optimal(s, p.score)
s.commit(t)
print("check-python-venv: pip show libdss: %s; import libdss loaded %s" % (want, maps[0]))
'
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" run "$tmp/venv/bin/python" "$SESSION" \
    "$tmp/prefix/lib" "$tmp/venv" "$want"

# nothing says where libdss is: a clear ImportError (unless this machine has it installed)
if ! { ldconfig -p 2>/dev/null | grep -q 'libdss\.so\.1 '; } && ! pkg-config --exists dss 2>/dev/null
then
    if run "$tmp/venv/bin/python" 'import libdss' > "$tmp/err" 2>&1; then
        fail "import libdss succeeded with no libdss anywhere"
    fi
    for what in "ImportError: libdss: cannot find the C library libdss.so.1" \
                "make install PREFIX=$tmp/venv" "PKG_CONFIG_PATH" "DSS_LIBRARY"; do
        grep -qF "$what" "$tmp/err" || { cat "$tmp/err" >&2; fail "the ImportError does not say $what"; }
    done
    echo "check-python-venv: without libdss, import libdss says what to do"
fi

# libdss installed into the venv's own prefix: found there with no help at all
$make --no-print-directory -s install PREFIX="$tmp/venv" PYTHONDIR="$tmp/unused" >/dev/null
run "$tmp/venv/bin/python" "$SESSION" "$tmp/venv/lib" "$tmp/venv" "$want" \
    | sed 's/^check-python-venv: /check-python-venv: with PREFIX=$VIRTUAL_ENV: /'

# the other offline recipe: --no-build-isolation --no-index
offline "$tmp/venv/bin/python" -m pip install --force-reinstall --no-deps --no-build-isolation \
    --no-index "$tmp/src/" > "$tmp/log" 2>&1 \
    || { cat "$tmp/log" >&2; fail "pip install --no-build-isolation --no-index python/ failed"; }

# pip install -e: the venv imports the source tree itself
offline "$tmp/venv/bin/python" -m pip install --force-reinstall --no-deps -e "$tmp/src/" \
    > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "pip install -e python/ failed"; }
run "$tmp/venv/bin/python" 'import os, sys, libdss
assert os.path.realpath(libdss.__file__) == os.path.realpath(sys.argv[1]), libdss.__file__' \
    "$tmp/src/libdss/__init__.py" || fail "pip install -e python/ does not import the tree"

# a venv that does not see NumPy: the ImportError says which package to install
"$PYTHON" -m venv --without-pip "$tmp/plain"
offline "$PYTHON" -m pip --python "$tmp/plain/bin/python" install -q --no-deps "$tmp/src/" \
    > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "pip --python plain venv install failed"; }
if run "$tmp/plain/bin/python" 'import libdss' > "$tmp/err" 2>&1; then
    fail "import libdss succeeded without NumPy"
fi
grep -q "libdss needs NumPy.*python3-numpy.*--system-site-packages" "$tmp/err" \
    || { cat "$tmp/err" >&2; fail "no clear message without NumPy"; }

# the wheel is reproducible: two builds, the same bytes
for i in 1 2; do
    mkdir "$tmp/wheel$i"
    (cd "$tmp/src/_build" && "$PYTHON" -c 'import sys, libdss_build; libdss_build.build_wheel(sys.argv[1])' \
        "$tmp/wheel$i")
done
cmp -s "$tmp"/wheel1/*.whl "$tmp"/wheel2/*.whl || fail "two wheel builds differ"

# the sdist builds and installs offline too (pip builds its wheel with the same backend)
mkdir "$tmp/sdist"
(cd "$tmp/src/_build" && "$PYTHON" -c 'import sys, libdss_build; print(libdss_build.build_sdist(sys.argv[1]))' \
    "$tmp/sdist") > "$tmp/sdist.name"
offline "$tmp/venv/bin/python" -m pip install --force-reinstall --no-deps \
    "$tmp/sdist/$(cat "$tmp/sdist.name")" > "$tmp/log" 2>&1 \
    || { cat "$tmp/log" >&2; fail "pip install of the sdist failed"; }
run "$tmp/venv/bin/python" 'import os, sys, libdss
assert os.path.realpath(libdss.__file__).startswith(os.path.realpath(sys.argv[1])), libdss.__file__
assert libdss.__version__ == sys.argv[2]' "$tmp/venv/lib" "$want" || fail "the sdist's install"

# PREFIX=/usr: Debian's dist-packages
$make --no-print-directory -s install-python PREFIX=/usr DESTDIR="$tmp/dest" >/dev/null
[ -f "$tmp/dest/usr/lib/python3/dist-packages/libdss/__init__.py" ] \
    || { find "$tmp/dest" -name __init__.py >&2
         fail "PREFIX=/usr did not install into /usr/lib/python3/dist-packages"; }
echo "check-python-venv: PREFIX=/usr installs into /usr/lib/python3/dist-packages/libdss;" \
     "--no-build-isolation --no-index, -e and the sdist work; no NumPy: a clear ImportError;" \
     "the wheel is reproducible ($(( $(date +%s) - t0 )) s)"
