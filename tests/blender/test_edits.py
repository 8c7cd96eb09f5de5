"""Blender process: the artist edits the shape keys during a live session. For each edit
(a key added, deleted, reordered, renamed, muted; the keys switched to absolute; a key's
reference key changed) a slider move and Accept must refuse with a report naming the change,
write no key value and leave the session as it was; Start then makes a new session on the
keys as they are."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpy

import common
from common import check, op_error, scene

a = common.args()
addon = common.enable_addon(a)
session = addon.session
scene.build()


def fresh():
    """A new 20-key icosphere 'Ico' with a started session, the slider moved once."""
    old = bpy.data.objects.get("Ico")
    if old is not None:
        session.drop(old)
        bpy.data.objects.remove(old)
    ico = scene.add_icosphere()
    common.activate("Ico")
    assert bpy.ops.dss.start() == {'FINISHED'}
    ico.dss_sliders.slider = 0.3
    assert not ico.dss_sliders.error
    return ico


def move_key(ico, index, direction):
    ico.active_shape_key_index = index
    with bpy.context.temp_override(object=ico, active_object=ico):
        assert bpy.ops.object.shape_key_move(type=direction) == {'FINISHED'}


def key_values(ico):
    return {kb.name: kb.value for kb in ico.data.shape_keys.key_blocks}


EDITS = [
    ("a key added", lambda o: o.shape_key_add(name="Smirk", from_mix=False),
     "'Smirk' was added"),
    ("a key deleted", lambda o: o.shape_key_remove(o.data.shape_keys.key_blocks["Key03"]),
     "'Key03' was deleted"),
    ("keys reordered", lambda o: move_key(o, 6, 'UP'), "reordered"),
    ("a key renamed", lambda o: setattr(o.data.shape_keys.key_blocks["Key04"], "name", "Smile"),
     "'Key04' was renamed to 'Smile'"),
    ("a key muted", lambda o: setattr(o.data.shape_keys.key_blocks["Key02"], "mute", True),
     "'Key02' was muted"),
    ("keys made absolute", lambda o: setattr(o.data.shape_keys, "use_relative", False),
     "absolute"),
    ("a reference key changed",
     lambda o: setattr(o.data.shape_keys.key_blocks["Key05"], "relative_key",
                       o.data.shape_keys.key_blocks["Key01"]),
     "reference key of 'Key05'"),
]

for what, edit, words in EDITS:
    print(f"== {what}")
    ico = fresh()
    s = session.get(ico)
    saved = s.search.save()
    edit(ico)
    before = key_values(ico)
    ico.dss_sliders.slider = 0.8
    err = ico.dss_sliders.error
    check(words in err and "Nothing was written" in err and "press Start" in err,
          f"a slider move refuses: {err!r}")
    check(key_values(ico) == before, "and wrote no key value")
    msg = op_error(bpy.ops.dss.accept)
    check(words in msg, "Accept refuses with the same report")
    msg = op_error(bpy.ops.dss.another)
    check(words in msg, "so does Another direction")
    check(key_values(ico) == before and s.search.save() == saved
          and ico.dss_sliders.iteration == 0, "no key written, the session unchanged")
    if what == "keys made absolute":
        msg = op_error(bpy.ops.dss.start)
        check("absolute" in msg and "Tick Relative" in msg and session.get(ico) is s,
              f"Start refuses absolute keys, saying what to do: {msg!r}")
        msg = op_error(bpy.ops.dss.reset)
        check("Tick Relative" in msg and key_values(ico) == before, "so does Reset")
        ico.data.shape_keys.use_relative = True
    check(bpy.ops.dss.reset() == {'FINISHED'} and not ico.dss_sliders.error
          and (session.get(ico) is not s) == (what != "keys made absolute")
          and ico.dss_sliders.iteration == 0,
          "Reset recovers where Start can: a new session on the keys as they are")
    check(bpy.ops.dss.start() == {'FINISHED'} and not ico.dss_sliders.error,
          "Start makes a new session on the keys as they are")
    ico.dss_sliders.slider = -0.5
    check(not ico.dss_sliders.error, "whose slider works")
print("result: edits test passed")
