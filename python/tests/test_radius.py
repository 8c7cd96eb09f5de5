"""The slider-range policy through the bindings (libdss 1.1): names, values, the radius in
force, undo and save/load of the policy's state."""
import numpy as np
import pytest

import libdss as dss


def synthetic_search(**params):
    p = dss.Synthetic(8, 64, gamma=2.0, seed=3)
    s = dss.Search(p.model, prior="box", prior_scale=2.5, seed=7, **params)
    s.start(p.initial_point())
    return p, s


def test_policy_parameters_by_name():
    _, s = synthetic_search()
    assert s.params["radius_policy"] == "fixed"
    assert s.params["radius_max"] == 2.0 and s.params["stall_commits"] == 0
    s.set(radius_policy="zoom", radius_shrink=0.25, radius_min=0.125, radius_max=3.0,
          radius_grow=4.0, stall_commits=3)
    assert s.get("radius_policy") == "zoom"
    assert (s.get("radius_shrink"), s.get("radius_min"), s.get("radius_max"),
            s.get("radius_grow"), s.get("stall_commits")) == (0.25, 0.125, 3.0, 4.0, 3)
    s.set(radius_policy=2)
    assert s.get("radius_policy") == "adaptive"


@pytest.mark.parametrize("name,value", [("radius_policy", "wide"), ("radius_policy", 3),
                                        ("radius_grow", 1.0), ("radius_shrink", 1.0),
                                        ("radius_min", 0.0), ("radius_max", 0.5),
                                        ("stall_commits", -1)])
def test_bad_policy_values_change_nothing(name, value):
    _, s = synthetic_search()
    before = s.params
    with pytest.raises((dss.DssError, ValueError, TypeError)):
        s.set(**{name: value})
    assert s.params == before


def test_zoom_follows_the_commits_and_undo():
    _, s = synthetic_search(radius_policy="zoom")
    base = s.get("radius")
    assert s.slider_radius == base
    s.commit(0.5)                        # the centre stays: zoom in
    assert s.slider_radius == base / 2
    c = s.center()
    b = s.basis()[0]
    np.testing.assert_allclose(s.point(1.0), c + base / 2 * b, rtol=0, atol=1e-12)
    s.commit(0.9)                        # it moves: the paper's slider again
    assert s.slider_radius == base
    s.undo()
    assert s.slider_radius == base / 2
    blob = s.save()
    _, t = synthetic_search()
    t.load(blob)
    assert t.slider_radius == base / 2 and t.get("radius_policy") == "zoom"


def test_fixed_slider_is_the_radius():
    _, s = synthetic_search()
    for t in (0.5, 0.5, 1.0, 0.0):
        s.commit(t)
        assert s.slider_radius == s.get("radius")


def test_a_rejected_value_names_its_range_and_changes_nothing():
    _, s = synthetic_search(radius_policy="zoom")
    s.commit(0.5)                        # zoomed in: scale 1/2
    before = (s.slider_radius, s.params)
    with pytest.raises(dss.DssError) as e:
        s.set(radius_min=1.5)
    assert e.value.code == dss.EINVAL
    assert "DSS_SEARCH_RADIUS_MIN" in str(e.value) and "(0, 1]" in str(e.value)
    assert (s.slider_radius, s.params) == before


def test_a_failed_load_keeps_the_scale():
    _, s = synthetic_search(radius_policy="zoom")
    s.commit(0.5)
    blob = bytearray(s.save())
    blob[-10] ^= 1                       # inside the policy block: the CRC no longer matches
    before = s.slider_radius
    with pytest.raises(dss.DssError) as e:
        s.load(bytes(blob))
    assert e.value.code == dss.EFORMAT
    assert s.slider_radius == before


def test_ranges_come_from_the_table():
    assert dss.SEARCH_PARAM_RANGES["radius_policy"] == (0, 2)
    assert dss.SEARCH_PARAM_RANGES["radius_grow"] == (1, 16)
    assert dss.SEARCH_PARAM_RANGES["radius_shrink"] == (0, 1)
    assert dss.SEARCH_PARAM_RANGES["radius_min"] == (0, 1)
    assert dss.SEARCH_PARAM_RANGES["radius_max"] == (1, 1e6)
    assert dss.SEARCH_PARAM_RANGES["stall_commits"] == (0, 1e6)
