"""Helpers shared by the headless Blender tests (imported inside Blender)."""

import os
import sys

import bpy
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _load_scene():
    """examples/blender/scene.py, imported by path (putting examples/blender on sys.path
    would let `import dss_sliders` find the source tree instead of the installed zip)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "scene", os.path.join(REPO, "examples", "blender", "scene.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


scene = _load_scene()

ADDON = "dss_sliders"


def args():
    """The script's arguments after Blender's `--`, as a dict of --name value pairs."""
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    return {argv[i].lstrip("-"): argv[i + 1] for i in range(0, len(argv) - 1, 2)}


def enable_addon(a, install=True):
    """What a person does in Preferences > Add-ons: Install... the zip, tick the add-on,
    and (without `make install`) set the libdss Python directory preference."""
    if install:
        assert bpy.ops.preferences.addon_install(filepath=a["zip"], overwrite=True) == {'FINISHED'}
    assert bpy.ops.preferences.addon_enable(module=ADDON) == {'FINISHED'}
    mod = sys.modules[ADDON]
    user = os.environ.get("BLENDER_USER_SCRIPTS", "")
    assert user and os.path.abspath(mod.__file__).startswith(os.path.abspath(user)), \
        f"the add-on must run from its installed zip, not from {mod.__file__}"
    if a.get("python-dir"):
        bpy.context.preferences.addons[ADDON].preferences.python_dir = a["python-dir"]
    return mod


def activate(name):
    obj = bpy.data.objects[name]
    bpy.context.view_layer.objects.active = obj
    return obj


def op_error(op, **kw):
    """Run an operator that must fail; its ERROR report text (bpy.ops raises it as a
    RuntimeError "Error: <text>" when called from Python; in the UI it is a report)."""
    try:
        op(**kw)
    except RuntimeError as exc:
        text = str(exc)
        assert text.startswith("Error: "), text
        return text[len("Error: "):].strip()
    raise AssertionError(f"{op} did not fail")


def positions(obj):
    """The evaluated mesh's vertex positions, as the viewport shows them."""
    dg = bpy.context.evaluated_depsgraph_get()
    me = obj.evaluated_get(dg).data
    x = np.empty(3 * len(me.vertices))
    me.vertices.foreach_get("co", x)
    return x.reshape(-1, 3)


def key_model(obj):
    """The test's own linear model of the shape keys: basis (V x 3), deltas (K, V x 3),
    ranges (lo, hi), computed from the key data (not by the add-on)."""
    kbs = obj.data.shape_keys.key_blocks
    nv = len(obj.data.vertices)

    def co(kb):
        a = np.empty(3 * nv, dtype=np.float32)
        kb.data.foreach_get("co", a)
        return a.astype(np.float64)
    basis = co(kbs[0])
    deltas = np.array([co(kb) - basis for kb in kbs[1:]])
    lo = np.array([kb.slider_min for kb in kbs[1:]])
    hi = np.array([kb.slider_max for kb in kbs[1:]])
    return basis, deltas, lo, hi


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"  ok: {what}")


def watch_threads(addon):
    """Wrap every function and method defined in the add-on's modules so that each call
    records the thread it runs on (threading.current_thread() is threading.main_thread()).
    Returns {"main": count, "other": [names called off the main thread], "names": set}.
    Functions captured before the call (property update callbacks, bound methods of objects
    made earlier) keep their originals; the callers count what runs through the wrappers."""
    import functools
    import inspect
    import threading
    seen = {"main": 0, "other": [], "names": set()}

    def record(name):
        if threading.current_thread() is threading.main_thread():
            seen["main"] += 1
        else:
            seen["other"].append(name)
        seen["names"].add(name)

    def wrap(fn, name):
        code = fn.__code__
        plain = not (fn.__defaults__ or fn.__kwdefaults__ or code.co_kwonlyargcount
                     or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS))
        if plain:   # the same positional signature: Blender checks registered methods' arity
            names = ", ".join(code.co_varnames[:code.co_argcount])
            space = {"fn": fn, "record": record, "name": name}
            exec(f"def watched({names}):\n    record(name)\n    return fn({names})\n", space)
            watched = functools.wraps(fn)(space["watched"])
            del watched.__wrapped__      # inspect.signature would look through it
            return watched

        @functools.wraps(fn)
        def watched(*args, **kw):
            record(name)
            return fn(*args, **kw)
        return watched
    for modname in ("loader", "guard", "space", "session", "ui"):
        mod = getattr(addon, modname)
        for name, obj in list(vars(mod).items()):
            if getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isfunction(obj):
                setattr(mod, name, wrap(obj, f"{modname}.{name}"))
            elif inspect.isclass(obj):
                for attr, fn in list(vars(obj).items()):
                    if inspect.isfunction(fn):
                        setattr(obj, attr, wrap(fn, f"{modname}.{name}.{attr}"))
    return seen


def only_main_thread():
    """True when the only Python thread is the main thread."""
    import threading
    return threading.enumerate() == [threading.main_thread()]
