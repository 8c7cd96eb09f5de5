"""Subspace search sliders: libdss's differential subspace search on an object's shape keys
and Geometry Nodes inputs (View3D > Sidebar > DSS). See docs/blender.md of libdss."""

bl_info = {
    "name": "Subspace search sliders (libdss)",
    "author": "libdss",
    "version": (1, 2, 0),
    "blender": (3, 4, 0),
    "location": "View3D > Sidebar > DSS",
    "description": "One slider through the directions that change the mesh most "
                   "(differential subspace search)",
    "category": "Object",
}

if "ui" in locals():                       # F8 / addon re-enable: reload the submodules
    import importlib
    for _m in (loader, guard, space, session, ui):  # noqa: F821 - defined on the first import
        importlib.reload(_m)
else:
    from . import loader, guard, space, session, ui


def register():
    ui.register()


def unregister():
    ui.unregister()
    session.drop_all()
