"""How the package finds libdss.so.1 without environment variables (libdss/_native.py): the
prefix it is installed in, pkg-config's dss, and the ImportError when nothing is found."""
import os
import sysconfig

import pytest

from libdss import _native


def touch(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").close()


@pytest.mark.parametrize("libsub", ["lib", "lib64"] + (
    [os.path.join("lib", sysconfig.get_config_var("MULTIARCH"))]
    if sysconfig.get_config_var("MULTIARCH") else []))
def test_the_prefix_the_package_is_installed_in(tmp_path, libsub):
    pkg = tmp_path / "prefix" / "lib" / "python3.11" / "dist-packages" / "libdss"
    pkg.mkdir(parents=True)
    lib = tmp_path / "prefix" / libsub / _native.SONAME
    touch(str(lib))
    assert _native._prefix_candidates(str(pkg)) == [
        ("install prefix " + str(tmp_path / "prefix"), str(lib))]


def test_the_nearest_prefix_wins_and_none_is_empty(tmp_path):
    pkg = tmp_path / "a" / "b" / "site" / "libdss"
    pkg.mkdir(parents=True)
    assert all(not p.startswith(str(tmp_path)) for _, p in _native._prefix_candidates(str(pkg)))
    touch(str(tmp_path / "lib" / _native.SONAME))
    touch(str(tmp_path / "a" / "b" / "lib" / _native.SONAME))
    (path,) = [p for _, p in _native._prefix_candidates(str(pkg))]
    assert path == str(tmp_path / "a" / "b" / "lib" / _native.SONAME)


def test_pkg_config_libdir(tmp_path, monkeypatch):
    import shutil
    if not shutil.which("pkg-config"):
        pytest.fail("pkg-config is a build dependency of libdss and must be installed")
    pc = tmp_path / "dss.pc"
    pc.write_text("prefix=/opt/x\nlibdir=${prefix}/lib/here\nName: dss\nDescription: t\n"
                  "Version: 1.1.0\nLibs: -L${libdir} -ldss\n")
    monkeypatch.setenv("PKG_CONFIG_PATH", str(tmp_path))
    monkeypatch.setenv("PKG_CONFIG_LIBDIR", str(tmp_path))  # no system dss.pc either
    assert _native._pkg_config_libdir() == "/opt/x/lib/here"
    monkeypatch.setenv("PKG_CONFIG_PATH", str(tmp_path / "none"))
    monkeypatch.setenv("PKG_CONFIG_LIBDIR", str(tmp_path / "none"))
    assert _native._pkg_config_libdir() is None


def test_import_error_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("DSS_LIBRARY", raising=False)
    monkeypatch.setattr(_native, "_candidates",
                        lambda: iter([("nowhere", str(tmp_path / _native.SONAME))]))
    with pytest.raises(ImportError) as ei:
        _native._open()
    text = str(ei.value)
    for what in ("cannot find the C library libdss.so.1", "sudo make install", "ldconfig",
                 "make install PREFIX=", "PKG_CONFIG_PATH", "DSS_LIBRARY",
                 str(tmp_path / _native.SONAME)):
        assert what in text, (what, text)
    monkeypatch.setenv("DSS_LIBRARY", str(tmp_path / "missing.so"))
    with pytest.raises(ImportError, match="DSS_LIBRARY=.*cannot be loaded"):
        _native._open()
