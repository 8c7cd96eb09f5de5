#!/bin/sh
# Install libdss and the Python package into a temporary prefix, import the installed package
# from outside the source tree (it must load the installed libdss.so.1, not the build tree's),
# run a small session with it, then uninstall and make sure nothing is left.
set -e
make=${MAKE:-make}
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
pydir="$tmp/prefix/python"
$make --no-print-directory -s install PREFIX="$prefix" PYTHONDIR="$pydir" >/dev/null
[ -f "$pydir/dss/__init__.py" ] && [ -f "$pydir/dss/_install.py" ] \
    || { echo "check-python-installed: the package was not installed in $pydir" >&2; exit 1; }
(cd "$tmp" && env -u DSS_LIBRARY PYTHONPATH="$pydir" PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -c '
import os, sys
import numpy as np
import dss
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
echo "check-python-installed: the installed package loaded the installed libdss.so.1"
