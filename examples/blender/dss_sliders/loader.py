"""Finding libdss's Python package `dss` (and through it libdss.so.1) from inside Blender.

Blender runs Debian's /usr/bin/python3.11, whose sys.path holds /usr/local/lib/python3.11/
dist-packages and /usr/lib/python3/dist-packages: `sudo make install` in the libdss tree puts the
package there. Without an install, the add-on preference "libdss Python directory" names a
directory holding the `dss` package (the tree's python/ after `make`; the package then loads
<tree>/build/libdss.so.1 by itself). The import is attempted on first use, never at add-on
registration, so that a missing library gives a message instead of a failed add-on.
"""

import os
import sys

INSTALL_HINT = (
    "Install libdss: in its source tree run `make && sudo make install` (this installs "
    "libdss.so.1 and the Python package `dss` for /usr/bin/python3, the Python Blender uses), "
    "or set this add-on's preference 'libdss Python directory' to <libdss tree>/python after "
    "running `make` there")


class MissingLibrary(Exception):
    """libdss or its Python package cannot be imported; str() says how to install it."""


_dss = None


def load(python_dir=""):
    """The `dss` module, imported once; MissingLibrary with install instructions otherwise."""
    global _dss
    if _dss is not None:
        return _dss
    if python_dir:
        path = os.path.abspath(bpy_path(python_dir))
        if not os.path.isdir(os.path.join(path, "dss")):
            raise MissingLibrary(f"No package `dss` in {path!r}. {INSTALL_HINT}.")
        if path not in sys.path:
            sys.path.insert(0, path)
    try:
        import dss
    except Exception as exc:  # ImportError, or OSError from a bad DSS_LIBRARY
        sys.modules.pop("dss", None)
        raise MissingLibrary(f"libdss could not be loaded ({exc}). {INSTALL_HINT}.") from None
    _dss = dss
    return dss


def bpy_path(path):
    """Blender's '//' relative paths made absolute (a plain path is returned as it is)."""
    try:
        import bpy
        return bpy.path.abspath(path)
    except ImportError:
        return path
