"""The build backend of the libdss Python package (PEP 517 and PEP 660), standard library only.

The package is pure Python (ctypes over libdss.so.1), so a wheel is a zip of its modules and
a ``.dist-info`` directory. Building it here instead of with setuptools means that
``pip install python/`` needs nothing from the network and no setuptools or wheel: pip's
isolated build environment stays empty (``requires = []`` in pyproject.toml), and
``--no-build-isolation`` works in any venv. flit_core builds itself the same way.

Metadata comes from pyproject.toml's [project] table (read with tomllib, Python >= 3.11, or
tomli); the version from libdss/_version.py (written from include/dss/dss.h). Wheels are
reproducible: files in sorted order, timestamps from SOURCE_DATE_EPOCH or 1980-01-01.

Also a command, for ``make install-python`` (which installs without pip, with a dist-info
so that ``pip list`` and ``pip uninstall`` know the package)::

    python3 python/_build/libdss_build.py install TARGET_DIR   # unpack the wheel there
    python3 python/_build/libdss_build.py files                # what it installs
"""

import base64
import hashlib
import io
import os
import re
import sys
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # python/
PACKAGES = ("libdss", "dss")  # dss: the deprecated 1.0 name, for one release


def _toml():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib
        except ImportError:
            raise RuntimeError("building libdss needs Python >= 3.11 (tomllib) or the tomli "
                               "package (Debian: python3-tomli) to read pyproject.toml") \
                from None
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        return tomllib.load(fh)


def _version():
    with open(os.path.join(ROOT, "libdss", "_version.py"), encoding="utf-8") as fh:
        m = re.search(r'^__version__ = "([^"]+)"', fh.read(), re.M)
    if not m:
        raise RuntimeError("libdss/_version.py has no __version__ (run `make python-version`)")
    return m.group(1)


def _project():
    project = dict(_toml()["project"])
    project["version"] = _version()
    return project


def _dist_name(project):
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


def _metadata(project):
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}",
             f"Version: {project['version']}", f"Summary: {project['description']}"]
    if "license" in project:
        lines.append(f"License: {project['license'].get('text', '')}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    for url_name, url in project.get("urls", {}).items():
        lines.append(f"Project-URL: {url_name}, {url}")
    lines += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {d}; extra == "{extra}"' for d in deps]
    body = ""
    readme = project.get("readme")
    if readme:
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(ROOT, readme), encoding="utf-8") as fh:
            body = fh.read()
    return "\n".join(lines) + "\n\n" + body


def package_files():
    """(path in the wheel, path on disk) of every file the wheel installs, sorted."""
    out = []
    for pkg in PACKAGES:
        for name in sorted(os.listdir(os.path.join(ROOT, pkg))):
            if name.endswith(".py") or name == "py.typed":
                out.append((f"{pkg}/{name}", os.path.join(ROOT, pkg, name)))
    return sorted(out)


def _date_time():
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01
    return time.gmtime(max(epoch, 315532800))[:6]


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _wheel_entries(project, editable=False, installer=None):
    """(path, bytes) of the wheel's contents, the RECORD last."""
    dist_info = f"{_dist_name(project)}-{project['version']}.dist-info"
    entries = []
    if editable:  # PEP 660: a .pth that puts the source tree on sys.path
        entries.append((f"__editable__.{_dist_name(project)}.pth", (ROOT + "\n").encode()))
    else:
        for arc, disk in package_files():
            with open(disk, "rb") as fh:
                entries.append((arc, fh.read()))
    entries.append((f"{dist_info}/METADATA", _metadata(project).encode()))
    entries.append((f"{dist_info}/WHEEL", (
        "Wheel-Version: 1.0\nGenerator: libdss_build\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n").encode()))
    if installer:
        entries.append((f"{dist_info}/INSTALLER", (installer + "\n").encode()))
    for name in ("LICENSE",):
        path = os.path.join(ROOT, os.pardir, name)
        if os.path.exists(path):
            with open(path, "rb") as fh:
                entries.append((f"{dist_info}/{name}", fh.read()))
    record = [_record_line(p, d) for p, d in entries] + [f"{dist_info}/RECORD,,"]
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    return entries


def _write_wheel(wheel_directory, editable=False):
    project = _project()
    name = f"{_dist_name(project)}-{project['version']}-py3-none-any.whl"
    stamp = _date_time()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                         zipfile.ZIP_DEFLATED) as zf:
        for path, data in _wheel_entries(project, editable):
            info = zipfile.ZipInfo(path, stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return name


# ---- PEP 517 / PEP 660 hooks ------------------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, editable=True)


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = f"{_dist_name(project)}-{project['version']}"
    files = [(arc, disk) for arc, disk in package_files()]
    for extra in ("pyproject.toml", "README.md", "_build/libdss_build.py"):
        files.append((extra, os.path.join(ROOT, extra)))
    mtime = time.mktime(_date_time() + (0, 0, -1))
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) \
            as tf:
        pkg_info = _metadata(project).encode()
        for arc, data in [("PKG-INFO", pkg_info)] + [
                (a, open(d, "rb").read()) for a, d in sorted(files)]:
            info = tarfile.TarInfo(f"{base}/{arc}")
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            tf.addfile(info, io.BytesIO(data))
    return name


# ---- make install-python ----------------------------------------------------------------------

def install(target):
    """Unpack the wheel's contents into ``target`` (a site-packages directory), with a
    dist-info whose INSTALLER says make; print the paths written."""
    for path, data in _wheel_entries(_project(), installer="make"):
        dest = os.path.join(target, path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as fh:
            fh.write(data)
        print(dest)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "install":
        install(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "files":
        project = _project()
        for path, _ in _wheel_entries(project, installer="make"):
            print(path)
    else:
        sys.exit("usage: libdss_build.py install TARGET_DIR | files")
