"""Values that keep libdss 1.0's method calls working.

In 1.0, ``Search.rank()``, ``Search.subspace_dim()`` and ``Search.stats()`` were methods; since
1.1 they are properties. The properties return an ``int`` (or ``dict``) subclass that can also be
called: the call returns the same value as a plain ``int`` (``dict``) and emits a
``DeprecationWarning``. Everything else about the value is the plain type's behaviour.
The call form is removed in libdss 2.0 (semantic versioning, NEWS.md).
"""

import warnings

__all__ = ["CallableInt", "CallableDict"]


def _warn(owner, name):
    warnings.warn(f"{owner}.{name}() is deprecated since libdss 1.1: {name} is a property, "
                  f"write .{name} without the parentheses (the call form goes away in 2.0)",
                  DeprecationWarning, stacklevel=3)


class CallableInt(int):
    """An int that, when called, warns and returns itself as a plain int (1.0's ``rank()``)."""

    _owner = "Search"
    _name = "value"

    def __call__(self):
        _warn(self._owner, self._name)
        return int(self)

    def __repr__(self):
        return int.__repr__(self)

    def __reduce__(self):
        return (int, (int(self),))

    @classmethod
    def named(cls, owner, name):
        """A subclass for the property ``owner.name`` (its warning names it)."""
        return type(f"{name}_value", (cls,), {"_owner": owner, "_name": name,
                                              "__module__": __name__})


class CallableDict(dict):
    """A dict that, when called, warns and returns a plain copy (1.0's ``stats()``)."""

    _owner = "Search"
    _name = "stats"

    def __call__(self):
        _warn(self._owner, self._name)
        return dict(self)

    def __reduce__(self):
        return (dict, (dict(self),))
