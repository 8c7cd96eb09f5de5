"""Blender process 1: install the add-on from its zip, drive a session on the 20-key
icosphere through the operators and the slider property, the Geometry Nodes objects (finite
differences, a topology change), a cancelled slow step, the error reports, then save the .blend
and record what process 2 (test_resume.py) must find after reopening it."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpy
import numpy as np

import common
from common import check, op_error, positions, scene

a = common.args()
addon = common.enable_addon(a)
session = addon.session
watched = common.watch_threads(addon)
scene.build()
ico = common.activate("Ico")
p = ico.dss_sliders

print("== a session on the shape keys")
check(bpy.ops.dss.start() == {'FINISHED'}, "Start on Ico")
s = session.get(ico)
dss = s.dss
basis, deltas, lo, hi = common.key_model(ico)
check((s.space.n, s.space.m) == (20, 3 * 642), f"n = 20 shape keys, m = 3 x 642 vertices ({s.space.n}, {s.space.m})")
check(s.exact and s.search.get("jacobian") == "full", "shape keys use the exact Jacobian")
J = (deltas * (0.5 * (hi - lo))[:, None]).T          # the test's own Jacobian
sv = np.linalg.svd(J, compute_uv=False)
check(p.sigma > 0 and np.min(np.abs(sv - p.sigma)) <= 1e-6 * sv[0],
      f"the panel's singular value {p.sigma:.4f} is one of J's ({sv[0]:.4f} ... {sv[-1]:.4f})")
check(np.array_equal(s.search.singular_values(), np.sort(s.search.singular_values())[::-1])
      and np.allclose(s.search.singular_values(), sv, rtol=1e-9, atol=1e-12 * sv[0]),
      "libdss's singular values are those of the key deltas")
check(p.iteration == 0 and p.slider == 0.0, "iteration 0, slider at the centre")


def expected_mesh(z):
    """Vertex positions for latent z by the test's linear model (float32 key values)."""
    u = np.mod(np.asarray(z) + 1.0, 4.0)                 # mirrored at the range's ends
    y = np.where(u <= 2.0, u - 1.0, 3.0 - u)
    v = (lo + (y + 1) * 0.5 * (hi - lo)).astype(np.float32)
    return (basis + v.astype(np.float64) @ deltas).reshape(-1, 3), v


def slider_point(sv_):
    c, b = s.search.center(), s.search.basis()[0]
    return c + (2 * ((sv_ + 1.0) * 0.5) - 1) * s.search.get("radius") * b


print("== the slider: every move is point + inputs + depsgraph")
c0, b0 = s.search.center(), s.search.basis()[0]
check(np.allclose(positions(ico), expected_mesh(c0)[0], atol=1e-5), "start shows the centre")
p.slider = 0.6
z = slider_point(p.slider)
x_exp, v_exp = expected_mesh(z)
kv = np.array([kb.value for kb in ico.data.shape_keys.key_blocks[1:]], dtype=np.float32)
check(np.allclose(kv, v_exp, rtol=0, atol=2e-7), "the move set the 20 key values to point(t)")
check(np.allclose(positions(ico), x_exp, atol=1e-5), "the viewport mesh is f(point(t))")
check(np.abs(positions(ico) - expected_mesh(c0)[0]).max() > 1e-3, "and it moved")

print("== Accept, Another direction, Undo")
t = (p.slider + 1.0) * 0.5
z_t = s.search.point(t)
check(bpy.ops.dss.accept() == {'FINISHED'}, "Accept")
c1 = s.search.center()
check(np.array_equal(c1, z_t), "the centre is now point(t), bit for bit")
check(p.iteration == 1 and p.slider == 0.0, "iteration 1, slider back at the centre")
check(np.allclose(positions(ico), expected_mesh(c1)[0], atol=1e-5), "the mesh shows it")
b1 = s.search.basis()[0]
check(bpy.ops.dss.another() == {'FINISHED'}, "Another direction")
b2 = s.search.basis()[0]
check(np.array_equal(s.search.center(), c1) and not np.allclose(abs(b2 @ b1), 1.0),
      "same centre, a new direction")
check(bpy.ops.dss.undo() == {'FINISHED'} and np.array_equal(s.search.basis()[0], b1)
      and p.iteration == 1, "Undo restores the previous direction")
check(bpy.ops.dss.undo() == {'FINISHED'} and np.array_equal(s.search.center(), c0)
      and np.array_equal(s.search.basis()[0], b0) and p.iteration == 0,
      "Undo again restores the first centre and direction")
check(np.allclose(positions(ico), expected_mesh(c0)[0], atol=1e-5), "and the mesh")
msg = op_error(bpy.ops.dss.undo)
check(msg.startswith("Nothing more to undo") and "keeps the last 64" in msg
      and "DSS_" not in msg and s.search.save() == s.saved,
      f"a third Undo is a report in the artist's words, no libdss jargon: {msg!r}")

p.slider = -0.4
check(bpy.ops.dss.accept() == {'FINISHED'} and bpy.ops.dss.another() == {'FINISHED'}
      and p.iteration == 1, "Accept and Another direction again")
check(bpy.ops.dss.reset() == {'FINISHED'} and np.array_equal(s.search.center(), c0)
      and np.array_equal(s.search.basis()[0], b0) and p.iteration == 0,
      "Reset: the start's centre and (same seed) first direction again, iteration 0")
check(np.allclose(positions(ico), expected_mesh(c0)[0], atol=1e-5), "and the start's mesh")
msg = op_error(bpy.ops.dss.undo)
check(msg.startswith("Nothing more to undo"), "Reset clears the Undo history")

print("== bad input: reports, never tracebacks")
common.activate("Plain")
msg = op_error(bpy.ops.dss.start)
check("no shape keys" in msg, f"an object without inputs: {msg!r}")
common.activate("Ico")
p.space = 'GEOMETRY_NODES'
msg = op_error(bpy.ops.dss.start)
check("no Geometry Nodes modifier" in msg, f"Geometry Nodes on Ico: {msg!r}")
check(session.get(ico) is None, "a failed Start leaves no session behind")
p.space = 'SHAPE_KEYS'
check(bpy.ops.dss.start() == {'FINISHED'}, "Start again")
s = session.get(ico)
good = ico[session.SESSION_KEY]
check(isinstance(good, bytes) and len(good) > 100, f"the session is saved as bytes ({len(good)})")

twin = ico.copy()
twin.data = ico.data.copy()
twin.name = "Twin"
bpy.context.collection.objects.link(twin)
bad = bytearray(good)
bad[len(bad) // 2] ^= 0x40
twin[session.SESSION_KEY] = bytes(bad)
common.activate("Twin")
msg = op_error(bpy.ops.dss.resume)
check("DSS_EFORMAT" in msg and dss.strerror(dss.EFORMAT) in msg,
      f"a corrupted saved session: {msg!r}")
msg = op_error(bpy.ops.dss.accept)
check("DSS_EFORMAT" in msg, "Accept on it reports the same")
twin.dss_sliders.slider = 0.5
check("DSS_EFORMAT" in twin.dss_sliders.error, "a slider move on it shows the error in the panel")
twin[session.SESSION_KEY] = "not bytes"
msg = op_error(bpy.ops.dss.resume)
check("DSS_EFORMAT" in msg, f"a saved session of the wrong type: {msg!r}")
twin[session.SESSION_KEY] = good
twin[session.SPACE_KEY] = "{damaged"
msg = op_error(bpy.ops.dss.resume)
check("damaged" in msg, f"a damaged space description: {msg!r}")
twin[session.SPACE_KEY] = ico[session.SPACE_KEY]
check(bpy.ops.dss.resume() == {'FINISHED'}, "the intact copy resumes")
check(session.get(twin).search.save() == good, "with the same bytes")
twin_mesh = twin.data
bpy.data.objects.remove(twin)
bpy.data.meshes.remove(twin_mesh)

print("== Geometry Nodes inputs: finite differences")
blob = common.activate("Blob")
blob.dss_sliders.space = 'GEOMETRY_NODES'
check(bpy.ops.dss.start() == {'FINISHED'}, "Start on Blob")
sb = session.get(blob)
check(sb.space.n == 15 and sb.space.mode == 'VERTICES' and not sb.exact
      and sb.search.get("jacobian") == "finite_diff",
      "9 inputs = 15 scalars, vertex positions, libdss's finite differences")
x0 = positions(blob)
blob.dss_sliders.slider = -0.8
check(np.abs(positions(blob) - x0).max() > 1e-3, "the slider moves the Geometry Nodes mesh")
check(bpy.ops.dss.accept() == {'FINISHED'} and blob.dss_sliders.iteration == 1, "Accept")

print("== a topology change: surface samples")
cut = common.activate("Cut")
cut.dss_sliders.space = 'GEOMETRY_NODES'
check(bpy.ops.dss.start() == {'FINISHED'}, "Start on Cut")
sc = session.get(cut)
check(sc.space.mode == 'SURFACE' and sc.space.m == 3 * 256 and sc.space.n == 16,
      "the Cut input changes the topology: f = 256 surface samples")
cut.dss_sliders.slider = 0.9
check(bpy.ops.dss.accept() == {'FINISHED'}, "Accept works on it")

print("== a slow step as a libdss job answered in ticks: progress and Cancel")
check(sb.callback_calls == 0 and s.callback_calls == 0,
      "every step so far was a job: the model's callbacks were never called")
before = sb.search.save()
r = session.Runner(sb, "commit:0.8")
check(r.progress() == (0, 0), "a new job has reported nothing")
r.cancel()                     # Cancel pressed at once
check(r.cancelled and r.evaluated == 0 and not r.step(),
      "Cancel pressed at once stops before any evaluation")
check(sb.search.save() == before, "a cancelled step leaves the session unchanged")
r = session.Runner(sb, "commit:0.8")
check(r.step(budget=0.0) and r.evaluated == 1, "a tick with no time budget evaluates one point")
seen = []
try:
    sb.search.commit(0.5)
except dss.DssError as exc:
    seen.append(exc.code)
check(seen == [dss.EBUSY], "while the job is open the search's mutators raise EBUSY")
check(np.all(np.isfinite(sb.search.point(0.3))), "and reading it works")
while r.step(budget=0.0):      # one point per tick, as a slow model's timer ticks go
    if r.evaluated == 5:
        done, total = r.progress()
        r.cancel()
check(r.cancelled and r.evaluated == 5 and done == 5 and total == 16,
      f"Cancel pressed mid-way stops at once ({done} of {total} finite-difference points)")
check(sb.search.save() == before, "and leaves the session unchanged")
r = session.Runner(sb, "commit:0.8")
ticks = 1
while r.step(budget=0.0):
    ticks += 1
check(r.error is None and not r.cancelled and r.evaluated == 16 and ticks == 17,
      f"an uncancelled step evaluates n + 1 = 16 points, one per tick ({ticks} ticks)")
check(sb.callback_calls == 0, "without calling the model's callbacks")
after = sb.search.save()
sb.search.load(before)
sb.search.commit(0.8)          # the callback call (f on this, the main, thread)
check(sb.search.save() == after and sb.callback_calls > 0,
      "and gives the same session as the callback call, byte for byte")
check(common.only_main_thread() and not watched["other"],
      f"no add-on code ran off the main thread ({watched['main']} calls watched, "
      f"{len(watched['names'])} functions)")

print("== shape keys and Geometry Nodes together")
blob = common.activate("Blob")
blob.shape_key_add(name="Basis")
puff = blob.shape_key_add(name="Puff", from_mix=False)
co = np.empty(3 * len(blob.data.vertices))
puff.data.foreach_get("co", co)
puff.data.foreach_set("co", co * 1.3)
blob.dss_sliders.space = 'BOTH'
check(bpy.ops.dss.start() == {'FINISHED'}, "Start on Blob with Both")
sb = session.get(blob)
check(sb.space.n == 16 and sb.space.labels()[0] == "Puff" and not sb.exact,
      "n = 1 shape key + 15 Geometry Nodes scalars, finite differences")
blob.dss_sliders.slider = 0.9
check(abs(puff.value - sb.space.values(sb.search.point(0.95))[0]) < 1e-6,
      "a slider move sets the key too")
check(bpy.ops.dss.accept() == {'FINISHED'}, "Accept")

print("== save the .blend")
ico = common.activate("Ico")
p.slider = 0.5
check(bpy.ops.dss.accept() == {'FINISHED'}, "Accept")
p.slider = 0.3
out = a["out"]
blend = os.path.join(out, "session.blend")
record = {"bytes": ico[session.SESSION_KEY].hex(), "slider": p.slider,
          "iteration": p.iteration, "sigma": p.sigma,
          "center": [v.hex() for v in s.search.center()]}
np.save(os.path.join(out, "positions.npy"), positions(ico))
bpy.ops.wm.save_as_mainfile(filepath=blend)
check(os.path.exists(blend), "saved " + blend)
check(bpy.ops.dss.accept() == {'FINISHED'}, "one more Accept after saving")
record["next_center"] = [v.hex() for v in s.search.center()]
record["next_basis"] = [v.hex() for v in s.search.basis()[0]]
np.save(os.path.join(out, "next_positions.npy"), positions(ico))
with open(os.path.join(out, "session.json"), "w") as fh:
    json.dump(record, fh)
print("result: session test passed")
