"""Loading libdss.so.1, declaring its C prototypes, and calling it safely.

Internal module: the public classes live in :mod:`libdss`. Everything here is about the C side:

* :func:`_open` finds the shared library (``DSS_LIBRARY``, the build tree next to this
  package, the prefix the package is installed in, ``<sys.prefix>/lib``, pkg-config's
  ``dss`` libdir, then the system loader and ``ctypes.util.find_library``).
* :func:`call` runs a C function, turns a negative status into :class:`~libdss.DssError`, and
  re-raises the exception a Python callback raised during that call.
* :func:`guard` wraps a Python callback so that it never lets an exception escape into C:
  the exception is parked in a thread-local slot, the callback returns -1 (libdss then aborts
  the call with ``DSS_ECALLBACK`` and leaves its handles unchanged), and :func:`call` raises it.
* :func:`view` makes a NumPy array over a C buffer without copying.
"""

import ctypes
import ctypes.util
import os
import sys
import threading

import numpy as np

from .errors import CallbackResultError, DssError

# ---- status codes and enumerations (values are part of the ABI and never change) -----------
OK = 0
EINVAL = -1
ENOMEM = -2
ECALLBACK = -3
ENONFINITE = -4
ELAPACK = -5
ESTATE = -6
EFORMAT = -7
ECANCELLED = -8
EUNSUPPORTED = -9
EBUSY = -10

STATUS_NAMES = {
    OK: "DSS_OK", EINVAL: "DSS_EINVAL", ENOMEM: "DSS_ENOMEM", ECALLBACK: "DSS_ECALLBACK",
    ENONFINITE: "DSS_ENONFINITE", ELAPACK: "DSS_ELAPACK", ESTATE: "DSS_ESTATE",
    EFORMAT: "DSS_EFORMAT", ECANCELLED: "DSS_ECANCELLED", EUNSUPPORTED: "DSS_EUNSUPPORTED",
    EBUSY: "DSS_EBUSY",
}

SONAME = "libdss.so.1"
VERSION_MAJOR = 1

c_double_p = ctypes.POINTER(ctypes.c_double)
c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
_vp = ctypes.c_void_p
_sz = ctypes.c_size_t
_int = ctypes.c_int
_dbl = ctypes.c_double

# Callback types (dss.h section 2). Pointers arrive as plain integers (c_void_p), which
# view() turns into NumPy arrays.
GENERATE_FN = ctypes.CFUNCTYPE(_int, _vp, _sz, _vp, _vp)
JACOBIAN_FN = ctypes.CFUNCTYPE(_int, _vp, _vp, _sz, _vp, _vp)
VJP_FN = ctypes.CFUNCTYPE(_int, _vp, _vp, _sz, _vp, _vp)
JVP_FN = ctypes.CFUNCTYPE(_int, _vp, _vp, _sz, _vp, _vp)
SCORE_FN = ctypes.CFUNCTYPE(_int, _vp, _sz, _vp, _vp)
PROGRESS_FN = ctypes.CFUNCTYPE(_int, _vp, _int, _sz, _sz)

# name: (restype, argtypes)
_PROTOTYPES = {
    "dss_version_number": (ctypes.c_uint, []),
    "dss_version_string": (ctypes.c_char_p, []),
    "dss_strerror": (ctypes.c_char_p, [_int]),
    # model
    "dss_model_create": (_int, [ctypes.POINTER(_vp), _sz, _sz, GENERATE_FN, _vp]),
    "dss_model_destroy": (None, [_vp]),
    "dss_model_set_jacobian": (_int, [_vp, JACOBIAN_FN]),
    "dss_model_set_vjp": (_int, [_vp, VJP_FN]),
    "dss_model_set_jvp": (_int, [_vp, JVP_FN]),
    "dss_model_set_max_batch": (_int, [_vp, _sz]),
    "dss_model_generate": (_int, [_vp, _sz, _vp, _vp]),
    "dss_model_latent_dim": (_sz, [_vp]),
    "dss_model_set_precision": (_int, [_vp, _dbl]),  # libdss 1.2
    "dss_model_precision": (_dbl, [_vp]),  # libdss 1.2
    "dss_model_output_dim": (_sz, [_vp]),
    # search
    "dss_search_create": (_int, [ctypes.POINTER(_vp), _vp]),
    "dss_search_destroy": (None, [_vp]),
    "dss_search_set": (_int, [_vp, _int, _dbl]),
    "dss_search_get": (_int, [_vp, _int, c_double_p]),
    "dss_search_start": (_int, [_vp, _vp]),
    "dss_search_point": (_int, [_vp, _dbl, _vp]),
    "dss_search_point_w": (_int, [_vp, _vp, _vp]),
    "dss_search_slider_ends": (_int, [_vp, _vp, _vp]),
    "dss_search_commit": (_int, [_vp, _dbl]),
    "dss_search_commit_w": (_int, [_vp, _vp]),
    "dss_search_resample": (_int, [_vp]),
    "dss_search_center": (_int, [_vp, _vp]),
    "dss_search_basis": (_int, [_vp, _vp]),
    "dss_search_subspace_dim": (_sz, [_vp]),
    "dss_search_basis_indices": (_int, [_vp, _vp]),
    "dss_search_rank": (_sz, [_vp]),
    "dss_search_jacobian_route": (_int, [_vp]),
    "dss_search_estimate_bytes": (_int, [_vp, c_size_t_p]),
    "dss_search_errmsg": (ctypes.c_char_p, [_vp]),
    "dss_search_param_bounds": (_int, [_int, c_double_p, c_double_p]),
    "dss_line_param_bounds": (_int, [_int, c_double_p, c_double_p]),
    "dss_line_errmsg": (ctypes.c_char_p, [_vp]),
    "dss_model_errmsg": (ctypes.c_char_p, [_vp]),
    "dss_search_singular_values": (_int, [_vp, _vp, _sz]),
    "dss_search_undo": (_int, [_vp]),
    "dss_search_save": (_int, [_vp, _vp, _sz, c_size_t_p]),
    "dss_search_load": (_int, [_vp, _vp, _sz]),
    "dss_search_set_progress": (_int, [_vp, PROGRESS_FN, _vp]),
    "dss_search_stat": (_int, [_vp, _int, c_double_p]),
    "dss_search_slider_radius": (_int, [_vp, c_double_p]),  # libdss 1.1
    # line search
    "dss_line_create": (_int, [ctypes.POINTER(_vp)]),
    "dss_line_destroy": (None, [_vp]),
    "dss_line_set": (_int, [_vp, _int, _dbl]),
    "dss_line_get": (_int, [_vp, _int, c_double_p]),
    "dss_line_set_progress": (_int, [_vp, PROGRESS_FN, _vp]),
    "dss_find_optimal": (_int, [_vp, _vp, _vp, _vp, _vp, _vp, c_double_p, c_double_p]),
    "dss_search_find_optimal": (_int, [_vp, _vp, _vp, _vp, c_double_p, c_double_p]),
    "dss_search_find_optimal_w": (_int, [_vp, _vp, _vp, _vp, _vp, c_double_p]),  # 1.2
    "dss_line_evaluations": (_sz, [_vp]),
    # synthetic problem
    "dss_synthetic_create": (_int, [ctypes.POINTER(_vp), _sz, _sz, _dbl, ctypes.c_ulonglong]),
    "dss_synthetic_destroy": (None, [_vp]),
    "dss_synthetic_model": (_vp, [_vp]),
    "dss_synthetic_set_jacobian": (_int, [_vp, _int]),
    "dss_synthetic_score": (_int, [_vp, _sz, _vp, _vp]),
    "dss_synthetic_initial_point": (_int, [_vp, _vp]),
    "dss_synthetic_optimum": (_int, [_vp, _vp]),
    # jobs (libdss 1.2)
    "dss_search_start_job": (_int, [_vp, _vp, ctypes.POINTER(_vp)]),
    "dss_search_commit_job": (_int, [_vp, _dbl, ctypes.POINTER(_vp)]),
    "dss_search_commit_w_job": (_int, [_vp, _vp, ctypes.POINTER(_vp)]),
    "dss_search_resample_job": (_int, [_vp, ctypes.POINTER(_vp)]),
    "dss_search_undo_job": (_int, [_vp, ctypes.POINTER(_vp)]),
    "dss_search_find_optimal_job": (_int, [_vp, _vp, ctypes.POINTER(_vp)]),
    "dss_find_optimal_job": (_int, [_vp, _vp, _vp, _vp, ctypes.POINTER(_vp)]),
    "dss_job_next": (_int, [_vp]),
    "dss_job_count": (_sz, [_vp]),
    "dss_job_input": (_vp, [_vp, c_size_t_p]),
    "dss_job_point": (_vp, [_vp]),
    "dss_job_rows": (_vp, [_vp, c_size_t_p]),
    "dss_job_output": (_vp, [_vp, c_size_t_p]),
    "dss_job_answer": (_int, [_vp, _sz]),
    "dss_job_fail": (_int, [_vp, _int]),
    "dss_job_cancel": (_int, [_vp]),
    "dss_job_progress": (_int, [_vp, ctypes.POINTER(_int), c_size_t_p, c_size_t_p]),
    "dss_job_line_result": (_int, [_vp, c_double_p, c_double_p]),
    "dss_job_destroy": (None, [_vp]),
}


# ---- finding the library -----------------------------------------------------------------

def _prefix_candidates(here):
    """libdss.so.1 in the prefix this package is installed in: for the first ancestor directory
    of the package that has one, <ancestor>/lib, lib/<multiarch> or lib64. A `make install`
    (PYTHONDIR under PREFIX, e.g. <prefix>/lib/python3.11/dist-packages) and a pip install
    into a venv whose prefix also holds libdss both land here; nothing is written into the
    package at install time."""
    import sysconfig
    multiarch = sysconfig.get_config_var("MULTIARCH")
    subdirs = ["lib"] + ([os.path.join("lib", multiarch)] if multiarch else []) + ["lib64"]
    d = os.path.dirname(here)  # the directory holding the package
    while True:
        for sub in subdirs:
            path = os.path.join(d, sub, SONAME)
            if os.path.exists(path):
                return [("install prefix " + d, path)]
        parent = os.path.dirname(d)
        if parent == d:
            return []
        d = parent


def _pkg_config_libdir():
    """``pkg-config --variable=libdir dss``, or None (no pkg-config, no dss.pc, or slow)."""
    import shutil
    import subprocess
    exe = shutil.which("pkg-config")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--variable=libdir", "dss"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _candidates():
    """Where to look for libdss.so.1, in order, as (description, path-or-name) pairs; the
    later ones are computed only when the earlier ones were not found."""
    here = os.path.dirname(os.path.abspath(__file__))
    # 1. the build tree: <repo>/python/libdss/ -> <repo>/build/libdss.so.1
    yield "build tree", os.path.join(here, os.pardir, os.pardir, "build", SONAME)
    # 2. the prefix the package is installed in (make install; pip into a prefix with libdss)
    yield from _prefix_candidates(here)
    # 3. the prefix of the running Python: <sys.prefix>/lib (e.g. PREFIX=$VIRTUAL_ENV)
    yield "sys.prefix", os.path.join(sys.prefix, "lib", SONAME)
    # 4. pkg-config's dss.pc (its default path, or PKG_CONFIG_PATH): where libdss was installed
    #    even when the loader's cache does not know it yet (no ldconfig after make install)
    libdir = _pkg_config_libdir()
    if libdir:
        yield "pkg-config dss libdir", os.path.join(libdir, SONAME)
    # 5. the system loader (ld.so.cache, LD_LIBRARY_PATH, ...)
    yield "system loader", SONAME
    found = ctypes.util.find_library("dss")
    if found:
        yield "ctypes.util.find_library", found


def _open():
    env = os.environ.get("DSS_LIBRARY")
    if env:
        path = os.path.join(env, SONAME) if os.path.isdir(env) else env
        # an explicit choice must not silently fall back to another copy
        try:
            return ctypes.CDLL(os.path.abspath(path)), os.path.abspath(path)
        except OSError as e:
            raise ImportError(f"libdss: DSS_LIBRARY={env!r} cannot be loaded ({e}); point it "
                              "at libdss.so.1 or its directory, or unset it") from None
    errors = []
    tried = []
    for what, path in _candidates():
        tried.append(path)
        if os.sep in path and not os.path.exists(path):
            continue
        try:
            return ctypes.CDLL(path), os.path.realpath(path) if os.sep in path else path
        except OSError as e:
            errors.append(f"{what} ({path}): {e}")
    raise ImportError(
        "libdss: cannot find the C library libdss.so.1. Install it (`make && sudo make install` "
        "in the libdss source tree, then `sudo ldconfig`), or install it into this Python's "
        f"prefix (`make install PREFIX={sys.prefix}`), or make `pkg-config --variable=libdir "
        "dss` name its directory (PKG_CONFIG_PATH=<prefix>/lib/pkgconfig), or set "
        "DSS_LIBRARY to the file or its directory. Looked in: " + ", ".join(tried)
        + ("" if not errors else ". Errors: " + "; ".join(errors)))


# functions added in libdss 1.2 (besides the jobs) that the bindings do without on 1.1
_SINCE_1_2 = ("dss_model_set_precision", "dss_model_precision")


def _declare(lib):
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            # libdss 1.1 and older have no jobs, no gallery and no model precision: their
            # methods raise then (Model.precision sets diff_step itself)
            if "_job" in name or name == "dss_search_find_optimal_w" or name in _SINCE_1_2:
                continue
            raise
        fn.restype = restype
        fn.argtypes = argtypes


lib, library_path = _open()
_declare(lib)

#: True when the loaded library declares a model's precision itself (libdss 1.2,
#: dss_model_set_precision); on 1.1 a Search sets ``diff_step`` from Model.precision instead
HAS_MODEL_PRECISION = hasattr(lib, "dss_model_set_precision")

_major = lib.dss_version_number() // 10000
if _major != VERSION_MAJOR:
    raise ImportError(f"libdss: {library_path} is libdss {lib.dss_version_string().decode()}, "
                      f"these bindings need major version {VERSION_MAJOR}")


def strerror(code):
    """``dss_strerror(code)`` as a Python string."""
    return lib.dss_strerror(int(code)).decode("utf-8", "replace")


def version_string():
    """The loaded library's version, e.g. ``"1.0.0"``."""
    return lib.dss_version_string().decode("ascii")


# ---- calling C, and exceptions raised in callbacks ------------------------------------------

_tls = threading.local()


def guard(fn):
    """Wrap a Python callback body for C: 0 on success; on any exception (KeyboardInterrupt
    included) remember it for :func:`call` and return -1 so that libdss aborts cleanly."""
    def wrapper(*args):
        try:
            fn(*args)
        except BaseException as exc:  # noqa: B902 - anything must stop at the C boundary
            if getattr(_tls, "pending", None) is None:
                _tls.pending = exc
            return -1
        return 0
    wrapper.__wrapped__ = fn
    return wrapper


def _reraise(exc, rc, fname, args=()):
    code = rc if rc < 0 else ECALLBACK
    err = DssError(code, function=fname,
                   detail=f"a Python callback raised {type(exc).__name__}",
                   errmsg=handle_errmsg(fname, args))
    try:
        exc.dss_error = err
    except (AttributeError, TypeError):
        pass
    # Chain the library's view of the failure to the original exception, unless the callback's
    # exception already carries a chain of its own (which is kept as it is).
    if exc.__cause__ is None and exc.__context__ is None:
        exc.__cause__ = err
    if hasattr(exc, "add_note"):  # Python >= 3.11
        exc.add_note(f"(raised in a libdss callback: {fname} returned "
                     f"{STATUS_NAMES.get(code, code)} and changed nothing)")
    raise exc


def handle_errmsg(fname, args):
    """The handle's own message after ``fname(*args)`` failed (``dss_*_errmsg``), or None."""
    if (not args or not isinstance(args[0], int) or not args[0] or "_create" in fname
            or fname.endswith("_param_bounds")):
        return None
    if fname.startswith("dss_line_") or fname in ("dss_find_optimal", "dss_search_find_optimal",
                                                  "dss_search_find_optimal_w"):
        getter = lib.dss_line_errmsg
    elif fname.startswith("dss_search_"):
        getter = lib.dss_search_errmsg
    elif fname.startswith("dss_model_") and fname != "dss_model_generate":
        getter = lib.dss_model_errmsg
    else:
        return None
    text = getter(args[0])
    return text.decode("utf-8", "replace") if text else None


def call(fname, *args):
    """Call the C function ``fname``; raise DssError on a negative status, or the exception a
    Python callback raised during the call. Returns the status (0)."""
    saved = getattr(_tls, "pending", None)
    _tls.pending = None
    try:
        rc = getattr(lib, fname)(*args)
    finally:
        exc = _tls.pending
        _tls.pending = saved
    if exc is not None:
        _reraise(exc, rc, fname, args)
    if rc != 0:
        raise DssError(rc, function=fname, errmsg=handle_errmsg(fname, args))
    return rc


def param_bounds(fname, code):
    """(lo, hi) of a parameter from the C descriptor table (``dss_*_param_bounds``)."""
    lo, hi = ctypes.c_double(), ctypes.c_double()
    call(fname, int(code), ctypes.byref(lo), ctypes.byref(hi))
    return lo.value, hi.value


def invalid(detail, function=None):
    """A DssError(EINVAL) for an argument rejected on the Python side."""
    return DssError(EINVAL, function=function, detail=detail)


# ---- arrays over C buffers ---------------------------------------------------------------

class _Buffer:
    """Exposes a C buffer to NumPy through the array interface; the array keeps it as base."""
    __slots__ = ("__array_interface__",)


_F8 = np.dtype(np.float64).str
_UINTP = np.dtype(np.uintp).str


def view(addr, shape, readonly=False, typestr=_F8):
    """A NumPy array over ``addr`` (no copy). Valid only while the C buffer is."""
    buf = _Buffer()
    buf.__array_interface__ = {"version": 3, "shape": tuple(shape), "typestr": typestr,
                               "data": (addr or 0, bool(readonly))}
    return np.asarray(buf)


def view_size_t(addr, count):
    """A read-only uintp array over ``count`` size_t values at ``addr``."""
    return view(addr, (count,), readonly=True, typestr=_UINTP)


def as_input(a, shape, what, function=None):
    """``a`` as a C-contiguous float64 array of ``shape`` (no copy when it already is one).
    A vector is accepted where a single-row block is expected, and the other way round."""
    shape = tuple(shape)
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if arr.shape != shape:
        one_row = (len(shape) == 2 and shape[0] == 1 and arr.shape == shape[1:]) or \
                  (len(shape) == 1 and arr.shape == (1,) + shape)
        if not one_row:
            raise invalid(f"{what} must have shape {shape}, got {arr.shape}", function)
        arr = arr.reshape(shape)
    return arr


def as_output(out, shape, what, function=None):
    """A writable C-contiguous float64 array of ``shape``: ``out`` itself, or a new one."""
    if out is None:
        return np.empty(shape, dtype=np.float64)
    if not (isinstance(out, np.ndarray) and out.dtype == np.float64
            and out.flags.c_contiguous and out.flags.writeable and out.shape == tuple(shape)):
        raise invalid(f"{what}: out must be a writable C-contiguous float64 array of shape "
                      f"{tuple(shape)}", function)
    return out


def addr(arr):
    """The address of an array's first element, for a c_void_p argument."""
    return arr.ctypes.data


def _shape_text(names, shape):
    return "(" + ", ".join(f"{n}={v}" for n, v in zip(names, shape)) + \
        ("," if len(shape) == 1 else "") + ")"


def store(result, out, what, filled, names):
    """Check a callback's result and copy it into its output buffer ``out`` (C-contiguous
    float64, of the shape libdss asked for, whose axes are called ``names``, e.g. ("k", "m")).

    The result must have exactly ``out``'s shape (no reshaping: a transposed Jacobian of the
    same size is an error, not a silent reinterpretation), a real floating dtype, and only
    finite values; otherwise :class:`~libdss.CallbackResultError` names the callback, the
    expected and the received shape. A callback given ``out`` (``filled``) may return None or
    ``out`` itself; what it wrote is checked for finiteness."""
    expected = out.shape
    want = _shape_text(names, expected)
    if result is None and not filled:
        raise CallbackResultError(
            what, expected, None, "none",
            f"callback {what} returned None; expected an array of shape {want} "
            "(or accept an extra `out` argument and fill it)")
    if result is not None and result is not out:
        res = result if isinstance(result, np.ndarray) else np.asarray(result)
        if res.shape != expected:
            raise CallbackResultError(
                what, expected, res.shape, "shape",
                f"callback {what} returned shape {res.shape}; expected {want}")
        if res.dtype.kind != "f":
            raise CallbackResultError(
                what, expected, res.shape, "dtype",
                f"callback {what} returned dtype {res.dtype}; expected a real floating dtype "
                f"(float64, or float32 which is converted) of shape {want}")
        np.copyto(out, res)
    if not np.isfinite(out).all():
        bad = np.argwhere(~np.isfinite(out))[0]
        raise CallbackResultError(
            what, expected, expected, "nonfinite",
            f"callback {what} returned a non-finite value ({out[tuple(bad)]}) at index "
            f"{tuple(int(i) for i in bad)} of its {want} result")


def accepts(fn, count):
    """True when ``fn`` can be called with ``count`` positional arguments (explicitly named:
    a bare ``*args`` does not count), which selects the "fill the output" calling form."""
    import inspect
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    named = [p for p in sig.parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(named) < count:
        return False
    try:
        sig.bind(*range(count))
    except TypeError:
        return False
    return True


class Handle:
    """Owns one C handle and closes it once. ``children`` are the handles that must be closed
    before this one (the searches on a model), so that a model can never be destroyed under a
    live search, whatever order the garbage collector finalizes the Python objects in.
    ``busy`` is set while a C call that may run host callbacks is using the handle: a callback
    must not call into (or close) the handle whose call is running it."""
    __slots__ = ("ptr", "destroy", "children", "busy", "__weakref__")

    def __init__(self, ptr, destroy):
        self.ptr = ptr
        self.destroy = destroy
        self.children = set()
        self.busy = False

    def _in_use(self):
        return self.busy or any(child._in_use() for child in self.children)

    def close(self):
        if self._in_use():
            raise DssError(ESTATE, detail="cannot close a handle from a callback of a call "
                                          "that is using it")
        for child in list(self.children):
            child.close()
        self.children.clear()
        ptr, self.ptr = self.ptr, None
        if ptr and self.destroy is not None:
            self.destroy(ptr)

    def get(self, what):
        """The pointer; DssError(ESTATE) when closed, or when called from a callback of a
        call that is running on this handle."""
        if not self.ptr:
            raise DssError(ESTATE, detail=f"the {what} was closed")
        if self.busy:
            raise DssError(ESTATE, detail=f"the {what} was called from a callback of one of "
                                          "its own calls")
        return self.ptr


def call_busy(handles, fname, *args):
    """:func:`call` with ``handles`` marked busy for its duration (arguments, including the
    handles' pointers, are evaluated before)."""
    for h in handles:
        h.busy = True
    try:
        return call(fname, *args)
    finally:
        for h in handles:
            h.busy = False


def new_handle(function, destroy, *args):
    """Create a C object through ``function(&out, *args)`` and wrap it in a Handle that
    ``destroy`` (a C function) frees."""
    out = ctypes.c_void_p()
    call(function, ctypes.byref(out), *args)
    return Handle(out.value, destroy)
