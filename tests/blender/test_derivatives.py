"""Blender process: finite differences that respect the generator's precision.

Blender stores key values, socket values and coordinates in float32, so the add-on declares
FLT_EPSILON as its generator's precision (Model(precision=...), dss_model_set_precision) and
libdss steps by sqrt(FLT_EPSILON) = 3.5e-4 instead of double precision's 1.5e-8.

The scene: the 20-key icosphere with an enabled Mirror modifier (no merge), so the add-on
must use finite differences (a modifier follows the keys), while the test still knows the
Jacobian analytically: the mirror copies every vertex through an orthogonal map, so
J^T J = 2 D^T D and the true singular values are sqrt(2) times those of the key deltas D
(times each key's half range; the fold's slope is 1 at the centre z = 0).

The tolerance, derived: at z = 0 the step is h = sqrt(eps) (steps scale with max(1, |c_i|) = 1)
and f is linear in the key values, so forward differences have no truncation error; what is
left is rounding. (a) Each evaluated coordinate is a few float32 operations away from exact
(the delta, the product with the value, the sum: at most 4 u X, u = eps / 2, X the largest
|coordinate|), in both evaluations: an entry errs by at most 8 u X / h = 4 eps X / h. (b) The
stepped key value v + dv is stored in float32: dv errs relatively by at most u |v + dv| / dv
<= eps / h (|v + dv| <= 1, dv >= h / 2), a column by eps / h of its norm. So
||E||_F <= sqrt(m n) 4 eps X / h + (eps / h) ||J||_F, and every singular value moves by at most
||E||_2 <= ||E||_F. With double precision's step the same differences are rounding noise.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpy
import numpy as np

import common
from common import check, scene

a = common.args()
addon = common.enable_addon(a)
session = addon.session
watched = common.watch_threads(addon)
scene.build()
ico = common.activate("Ico")
kbs = ico.data.shape_keys.key_blocks
for kb in kbs[1:]:                      # the middle of every range: z = 0
    kb.value = 0.5 * (kb.slider_min + kb.slider_max)
mirror = ico.modifiers.new("Mirror", 'MIRROR')
mirror.use_mirror_merge = False
bpy.context.view_layer.update()

EPS = float(np.finfo(np.float32).eps)
check(bpy.ops.dss.start() == {'FINISHED'}, "Start on Ico with a Mirror modifier")
s = session.get(ico)
dss = s.dss
nv = len(ico.data.vertices)
check(not s.exact and s.search.get("jacobian") == "finite_diff" and s.space.m == 2 * 3 * nv,
      f"a modifier after the keys: finite differences, m = 2 x 3 x {nv} (mirrored)")
check(s.model.precision == EPS and np.allclose(s.search.center(), 0.0, atol=1e-6),
      f"the add-on declares FLT_EPSILON = {EPS:.3g} as f's precision; the centre is z = 0")
if dss._native.HAS_MODEL_PRECISION:
    check(dss._native.lib.dss_model_precision(s.model._h.get("model")) == EPS,
          "and libdss knows it (dss_model_set_precision)")

basis, deltas, lo, hi = common.key_model(ico)
J_keys = (deltas * (0.5 * (hi - lo))[:, None]).T            # (3 nv, 20)
sv_true = np.sqrt(2.0) * np.linalg.svd(J_keys, compute_uv=False)
h = np.sqrt(EPS)
X = np.abs(common.positions(ico)).max()
m, n = s.space.m, s.space.n
bound = np.sqrt(m * n) * 4 * EPS * X / h + EPS / h * np.sqrt(2.0) * np.linalg.norm(J_keys)
sv_fd = s.search.singular_values()
err = np.abs(sv_fd - sv_true).max()
print(f"  true singular values  {np.array2string(sv_true, precision=3)}")
print(f"  finite differences    {np.array2string(sv_fd, precision=3)}")
check(err <= bound,
      f"the add-on's finite-difference singular values match the analytic ones: max error "
      f"{err:.2e} <= the derived bound {bound:.2e} ({bound / sv_true[0]:.1%} of s_max "
      f"{sv_true[0]:.3g})")

# the same differences with double precision's default step (what the add-on did before)
s.model.precision = None
check(bpy.ops.dss.reset() == {'FINISHED'}, "Reset with the precision undeclared")
sv_bad = s.search.singular_values()
err_bad = np.abs(sv_bad - sv_true).max()
print(f"  double-precision step {np.array2string(sv_bad, precision=3)}")
check(err_bad > 10 * bound,
      f"with double precision's step (1.5e-8) the error is {err_bad:.2e}, "
      f"{err_bad / bound:.0f}x the bound: rounding noise")
check(common.only_main_thread() and not watched["other"] and s.callback_calls == 0,
      "all on the main thread, through jobs (no callback)")
print("result: derivatives test passed")
