"""The version of libdss these bindings belong to (written from include/dss/dss.h by
`make python-version`; `make check` fails when the two differ)."""
__version__ = "1.2.0"
