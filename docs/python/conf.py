# Sphinx configuration of the Python API reference (make docs; Debian: python3-sphinx).
# The reference is generated from the package's docstrings: python/libdss.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, "python"))

project = "libdss (Python)"
author = "libdss maintainers"
copyright = "libdss maintainers, MIT license"
version = release = os.environ.get("DSS_VERSION", "")

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "show-inheritance": True}
try:  # the adapter's page is generated without PyTorch too
    import torch  # noqa: F401
except ImportError:
    autodoc_mock_imports = ["torch"]

html_theme = "alabaster"
html_static_path = []
exclude_patterns = ["_build"]
nitpicky = False
