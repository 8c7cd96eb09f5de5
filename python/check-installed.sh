#!/bin/sh
# Install libdss and the Python package into a temporary prefix, import the installed package
# from outside the source tree with no environment variable pointing at the library (it must
# find the installed libdss.so.1 through the prefix it is installed in, not the build tree's),
# run a small session with it, check that nothing machine-specific was written into the
# package and that it has a dist-info, then uninstall and make sure nothing is left.
set -e
make=${MAKE:-make}
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
pydir="$tmp/prefix/python"
$make --no-print-directory -s install PREFIX="$prefix" PYTHONDIR="$pydir" >/dev/null
want=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' python/libdss/_version.py)
for f in libdss/__init__.py libdss/py.typed dss/__init__.py "libdss-$want.dist-info/RECORD"; do
    [ -f "$pydir/$f" ] || { echo "check-python-installed: $pydir/$f was not installed" >&2
                            exit 1; }
done
if grep -rl "$prefix" "$pydir"; then
    echo "check-python-installed: the installed package records the install path" >&2; exit 1
fi
(cd "$tmp" && env -u DSS_LIBRARY -u LD_LIBRARY_PATH -u PKG_CONFIG_PATH PYTHONPATH="$pydir" \
    PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -c '
import os, sys
import numpy as np
import libdss as dss
prefix = sys.argv[1]
assert os.path.realpath(dss.library_path).startswith(os.path.realpath(prefix) + os.sep), \
    "loaded %s, not the installed copy" % dss.library_path
p = dss.Synthetic(8, 64, 2.0, 1)
s = dss.Search(p.model, seed=1, prior="box", prior_scale=dss.SYNTHETIC_BOX)
s.start(p.initial_point())
t, score = dss.LineSearch(samples=101).find_optimal(s, p.score)
s.commit(t)
' "$prefix")
$make --no-print-directory -s uninstall PREFIX="$prefix" PYTHONDIR="$pydir" >/dev/null
left=$(find "$pydir" -type f | wc -l)
[ "$left" -eq 0 ] || { echo "check-python-installed: uninstall left $left files in $pydir" >&2
                       exit 1; }
echo "check-python-installed: the installed package found the installed libdss.so.1 through its prefix"
