"""The studio's gallery mode over HTTP (issue 20 item 3): the grid of previews, the accept of a
cell, zoom, undo, switching modes, and every kind of bad input (a 4xx with a message; nothing
written). The expected latents are computed in this process from the session's saved bytes
(read from the database), by libdss's point_w and by the formula c + radius B^T w."""

import base64
import io
import json
import os
import shutil
import sqlite3
import tempfile

import numpy as np
import pytest
from PIL import Image

from harness import Client, Server, studio

LIMITS = "sessions_per_client=1000,write_rate=0"


@pytest.fixture(scope="module")
def env():
    tmp = tempfile.mkdtemp(prefix="dss-web-gallery-")
    db = os.path.join(tmp, "sessions.sqlite3")
    server = Server(db, name="gallery", limits=LIMITS)
    mod, st = studio()
    yield server, db, mod, st
    server.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def assert_error(status, data, expected_status, code):
    assert status == expected_status, (status, data)
    assert data["code"] == code, data
    assert isinstance(data["error"], str) and len(data["error"]) > 10, data


def gallery_session(server):
    """A new session switched to the gallery mode: (client, state at version 2)."""
    c = Client(server.port)
    status, s1 = c.start()
    assert status == 201 and s1["mode"] == "slider"
    status, s2 = c.json("POST", "/api/mode", {"mode": "gallery", "version": 1})
    assert status == 200 and s2["mode"] == "gallery" and s2["version"] == 2
    return c, s1, s2


def saved_search(db, sid, mod, st):
    """The session as stored now, loaded into a dss.Search of this process."""
    with sqlite3.connect(db, timeout=30) as con:
        state = con.execute("SELECT state FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
    s = mod.dss.Search(st.model)
    s.load(bytes(state))
    return s


def image_of(data_url):
    head = "data:image/png;base64,"
    assert data_url.startswith(head)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url[len(head):]))),
                      dtype=np.int32)


def cells_of(grid):
    """The sprite cut into its g*g 28 x 28 cells, row-major."""
    g, side = grid["g"], grid["cell"]
    sprite = image_of(grid["sprite"])
    assert sprite.shape == (g * side, g * side)
    return sprite.reshape(g, side, g, side).transpose(0, 2, 1, 3).reshape(g * g, side, side)


def expected_weights(g, cx, cy, h):
    k = np.linspace(-1.0, 1.0, g)
    return np.array([[cx + h * a, cy - h * b] for b in k for a in k])


def test_switching_to_the_gallery_keeps_the_centre(env):
    server, db, mod, st = env
    c, s1, s2 = gallery_session(server)
    assert s2["z"] == s1["z"] and s2["accepted"] == 0 and s2["undo"] == 1
    assert s2["ends"] == [] and "grid" in s2
    grid = s2["grid"]
    assert grid["g"] == 5 and grid["center"] == [0, 0] and grid["half"] == 1
    assert np.allclose(grid["weights"], expected_weights(5, 0, 0, 1), rtol=0, atol=1e-15)
    cells = cells_of(grid)
    # the middle cell is the current image
    assert np.abs(cells[12] - image_of(s2["image"])).max() <= 1
    s = saved_search(db, c.sid, mod, st)
    assert s.subspace_dim == 2 and np.array_equal(s.center(), np.array(s1["z"]))
    # asking again for the mode it is in writes nothing
    status, same = c.json("POST", "/api/mode", {"mode": "gallery", "version": 2})
    assert status == 200 and same["version"] == 2
    # the slider's actions are refused in the gallery mode, with the current state
    for method, path, body in (("GET", "/api/preview?t=0.3", None),
                               ("POST", "/api/accept", {"t": 0.3, "version": 2}),
                               ("GET", "/api/download/latent.json?t=0.3", None)):
        status, data = c.json(method, path, body)
        assert_error(status, data, 409, "wrong_mode")
        assert data["state"]["mode"] == "gallery" and data["state"]["version"] == 2
    # and back: a slider again, at the same centre; undo takes the switches back
    status, s3 = c.json("POST", "/api/mode", {"mode": "slider", "version": 2})
    assert status == 200 and s3["mode"] == "slider" and s3["z"] == s1["z"]
    assert len(s3["ends"]) == 2 and "grid" not in s3
    status, back = c.json("POST", "/api/undo", {"version": 3})
    assert status == 200 and back["mode"] == "gallery" and back["grid"] == grid
    status, back = c.json("POST", "/api/undo", {"version": 4})
    assert status == 200 and back["mode"] == "slider" and back["ends"] == s1["ends"]


def test_grid_shows_point_w_of_its_cells(env):
    server, db, mod, st = env
    c, _, s2 = gallery_session(server)
    s = saved_search(db, c.sid, mod, st)
    for g, cx, cy, h in ((5, 0, 0, 1), (3, 0.5, -0.25, 0.5), (7, -0.75, 0.75, 0.25),
                         (9, 0, 0, 2 ** -10)):
        status, headers, payload = c.request(
            "GET", f"/api/grid?g={g}&cx={cx}&cy={cy}&h={h}&v=2")
        assert status == 200, payload
        assert "decode;dur=" in headers["server-timing"]
        grid = json.loads(payload)
        assert grid["version"] == 2 and grid["g"] == g and grid["half"] == h
        W = np.array(grid["weights"])
        assert W.shape == (g * g, 2)
        assert np.allclose(W, expected_weights(g, cx, cy, h), rtol=0, atol=1e-15)
        # the images are the decoder's at point_w of each cell's weights, decoded here
        # (one batch there, another here: the same to within one grey level of rounding)
        Z = np.vstack([s.point_w(w) for w in W])
        assert np.abs(cells_of(grid) - st.decode(Z)).max() <= 1
    # the full grid and a zoomed one agree where their weights coincide: (0.5, 0.5) is the
    # full grid's row 1, column 3 and the middle of the zoom around it
    status, full = c.json("GET", "/api/grid")
    status, zoom = c.json("GET", "/api/grid?cx=0.5&cy=0.5&h=0.5")
    assert full["weights"][8] == [0.5, 0.5] == zoom["weights"][12]
    assert np.abs(cells_of(full)[8] - cells_of(zoom)[12]).max() <= 1
    assert full["sprite"] == s2["grid"]["sprite"] or \
        np.abs(cells_of(full) - cells_of(s2["grid"])).max() <= 1


def test_a_click_commits_the_cells_weights(env):
    server, db, mod, st = env
    c, _, s2 = gallery_session(server)
    old = saved_search(db, c.sid, mod, st)
    # a cell of a zoomed grid, as the page would send it (the weights from the answer)
    status, grid = c.json("GET", "/api/grid?g=5&cx=-0.5&cy=0.5&h=0.5&v=2")
    assert status == 200
    w = grid["weights"][7]  # row 1, column 2
    assert w == [-0.5, 0.75]
    expected = old.point_w(w)
    oracle = old.center() + old.slider_radius * old.basis().T @ np.array(w)
    status, s3 = c.json("POST", "/api/accept_w", {"w": w, "version": 2})
    assert status == 200 and s3["version"] == 3 and s3["accepted"] == 1
    z = np.array(s3["z"])
    # the same libdss arithmetic in two processes of one machine; 1e-12 allows another BLAS
    # kernel's rounding (|z| ~ 10, a double's spacing there ~ 2e-15)
    assert np.allclose(z, expected, rtol=0, atol=1e-12)
    assert np.allclose(z, oracle, rtol=0, atol=1e-12)
    assert np.abs(z - old.center()).max() > 1e-3  # it moved
    # the new state: the clicked cell's image is the new current image and the new grid's
    # middle; the history holds it; a new plane was drawn
    clicked = cells_of(grid)[7]
    assert np.abs(image_of(s3["image"]) - clicked).max() <= 1
    assert np.abs(cells_of(s3["grid"])[12] - clicked).max() <= 1
    assert len(s3["history"]) == 1
    new = saved_search(db, c.sid, mod, st)
    assert new.subspace_dim == 2 and not np.array_equal(new.basis(), old.basis())
    # undo: back to version 2's centre and plane
    status, back = c.json("POST", "/api/undo", {"version": 3})
    assert status == 200 and back["version"] == 4 and back["accepted"] == 0
    assert back["z"] == s2["z"] and back["grid"]["sprite"] == s2["grid"]["sprite"]
    # a stale accept (the page still at version 3) is refused and writes nothing
    status, data = c.json("POST", "/api/accept_w", {"w": w, "version": 3})
    assert_error(status, data, 409, "conflict")
    assert data["state"]["version"] == 4
    # the download follows the weights
    status, latent = c.json("GET", "/api/download/latent.json?w=-0.5,0.75")
    assert status == 200 and latent["w"] == w and np.allclose(latent["z"], expected,
                                                               rtol=0, atol=1e-12)


def test_another_plane_and_reset_stay_in_the_gallery(env):
    server, db, mod, st = env
    c, _, s2 = gallery_session(server)
    before = saved_search(db, c.sid, mod, st).basis()
    status, s3 = c.json("POST", "/api/another", {"version": 2})
    assert status == 200 and s3["mode"] == "gallery" and s3["z"] == s2["z"]
    assert s3["grid"]["weights"] == s2["grid"]["weights"]
    # another plane: another basis, other previews (some planes change a garment only
    # faintly, so no size of the change is asked), the same middle
    after = saved_search(db, c.sid, mod, st)
    assert after.subspace_dim == 2 and not np.allclose(after.basis(), before)
    assert s3["grid"]["sprite"] != s2["grid"]["sprite"]
    assert np.abs(cells_of(s3["grid"])[12] - cells_of(s2["grid"])[12]).max() <= 1
    status, s4 = c.json("POST", "/api/reset", {"version": 3})
    assert status == 200 and s4["mode"] == "gallery" and s4["z"] != s2["z"]
    assert s4["accepted"] == 0


def test_a_square_out_by_a_rounding_error_is_clipped(env):
    """The server allows a square to stick out of [-1, 1]^2 by 1e-9 (the page's arithmetic):
    its cells' weights are clipped to [-1, 1], libdss's range, instead of failing there."""
    server = env[0]
    c, _, _ = gallery_session(server)
    for query in ("cx=0.5000000001&h=0.5", "cy=-0.7500000004&h=0.25", "cx=0.3&cy=0.2&h=0.7"):
        status, grid = c.json("GET", "/api/grid?" + query)
        assert status == 200, grid
        W = np.array(grid["weights"])
        assert np.abs(W).max() == 1.0
    status, grid = c.json("GET", "/api/grid?cx=0.5000001&h=0.5")
    assert_error(status, grid, 400, "bad_weights")


@pytest.mark.parametrize("query, code", [
    ("g=4", "bad_grid"), ("g=1", "bad_grid"), ("g=11", "bad_grid"), ("g=x", "bad_grid"),
    ("g=", "bad_grid"), ("g=-5", "bad_grid"), ("g=5.0", "bad_grid"), ("g=99999999", "bad_grid"),
    ("cx=1.5", "bad_weights"), ("cy=-2", "bad_weights"), ("cx=nan", "bad_weights"),
    ("cy=inf", "bad_weights"), ("cx=abc", "bad_weights"), ("h=0", "bad_weights"),
    ("h=-0.5", "bad_weights"), ("h=2", "bad_weights"), ("h=0.0001", "bad_weights"),
    ("cx=0.75&h=0.5", "bad_weights"), ("cy=-0.6&h=0.5", "bad_weights"),
    ("cx=1" + "0" * 400, "bad_weights"), ("v=x", "bad_version"),
])
def test_bad_grid_requests(env, query, code):
    server = env[0]
    c, _, _ = gallery_session(server)
    status, data = c.json("GET", "/api/grid?" + query)
    assert_error(status, data, 400, code)


@pytest.mark.parametrize("body, code", [
    ({"w": [0.5], "version": 2}, "bad_weights"),
    ({"w": [0.5, 0.5, 0.5], "version": 2}, "bad_weights"),
    ({"w": [1.01, 0], "version": 2}, "bad_weights"),
    ({"w": [0, -1.5], "version": 2}, "bad_weights"),
    ({"w": [0, None], "version": 2}, "bad_weights"),
    ({"w": [True, 0], "version": 2}, "bad_weights"),
    ({"w": "0.5,0.5", "version": 2}, "bad_weights"),
    ({"w": {"0": 1}, "version": 2}, "bad_weights"),
    ({"version": 2}, "bad_weights"),
    ({"w": [0.5, 0.5]}, "bad_version"),
    ({"w": [0.5, 0.5], "version": "2"}, "bad_version"),
])
def test_bad_accepts_write_nothing(env, body, code):
    server = env[0]
    c, _, _ = gallery_session(server)
    status, data = c.json("POST", "/api/accept_w", body)
    assert_error(status, data, 400, code)
    status, state = c.json("GET", "/api/state")
    assert state["version"] == 2 and state["accepted"] == 0


def test_bad_requests_of_every_kind(env):
    server = env[0]
    c = Client(server.port)
    status, _ = c.start()
    assert status == 201
    # the gallery's actions on a slider session: 409 with the state
    for method, path, body in (("GET", "/api/grid", None),
                               ("POST", "/api/accept_w", {"w": [0, 0], "version": 1}),
                               ("GET", "/api/download/image.png?w=0,0", None)):
        status, data = c.json(method, path, body)
        assert_error(status, data, 409, "wrong_mode")
        assert data["state"]["mode"] == "slider"
    for body, code in (({"mode": "grid", "version": 1}, "bad_mode"),
                       ({"mode": None, "version": 1}, "bad_mode"),
                       ({"mode": "gallery"}, "bad_version")):
        status, data = c.json("POST", "/api/mode", body)
        assert_error(status, data, 400, code)
    status, data = c.json("POST", "/api/mode", raw="{bad")
    assert_error(status, data, 400, "bad_json")
    status, data = c.json("POST", "/api/mode", {"mode": "gallery", "version": 7})
    assert_error(status, data, 409, "conflict")
    assert c.json("GET", "/api/state")[1]["version"] == 1
    # unknown, malformed and missing session ids
    for method, path, body in (("GET", "/api/grid", None),
                               ("POST", "/api/accept_w", {"w": [0, 0], "version": 1}),
                               ("POST", "/api/mode", {"mode": "gallery", "version": 1})):
        status, data = Client(server.port, sid="y" * 24).json(method, path, body)
        assert_error(status, data, 404, "unknown_session")
        status, data = Client(server.port, sid="bad id;").json(method, path, body)
        assert_error(status, data, 400, "bad_session_id")
        status, data = Client(server.port).json(method, path, body)
        assert_error(status, data, 400, "no_session")
    # a bad download weight in the gallery mode
    c2, _, _ = gallery_session(server)
    for q in ("w=2,0", "w=0", "w=a,b", "w=0,0,0"):
        status, data = c2.json("GET", "/api/download/latent.json?" + q)
        assert_error(status, data, 400, "bad_weights")


def test_a_grid_is_one_decoder_call(env):
    """The whole grid (and a gallery state's other images) in one forward pass of the
    decoder, with and without the batcher of concurrent requests."""
    server, db, mod, st = env
    c, _, _ = gallery_session(server)
    s = saved_search(db, c.sid, mod, st)
    calls = []
    decode = st._decode

    def counting(Z):
        calls.append(len(Z))
        return decode(Z)
    st._decode = counting
    try:
        grid, _, times = st.grid(s, 5, 0.5, -0.5, 0.5)
        assert calls == [25] and set(times) == {"points", "decode", "png"}
        calls.clear()
        meta = {"seed": 1, "accepted": 3, "history": [s.center().tolist()] * 3}
        state = st.state(s, meta, 7, 0)
        assert calls == [25 + 1 + 3] and state["mode"] == "gallery"
        assert len(state["history"]) == 3
        calls.clear()
        st.batch_decoding(0.002, lambda: 1)  # through studio.DecodeBatcher
        st.grid(s, 7)
        assert calls == [49] and st.batcher.batches == 1
    finally:
        st._decode = decode
        st.batcher = None
