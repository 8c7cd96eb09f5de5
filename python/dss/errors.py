"""The exception raised by the libdss bindings."""

__all__ = ["DssError"]


class DssError(Exception):
    """A libdss call failed.

    Attributes:
        code: the negative ``DSS_E*`` status code (for example ``dss.EINVAL``).
        message: ``dss_strerror(code)``, the library's sentence for the code.
        function: the name of the C function that failed (or of the Python method that
            rejected its arguments before calling C), or ``None``.
        detail: extra explanation added by the bindings, or ``None``.

    Argument checks made in Python (array shapes, unknown parameter names, values that
    cannot be converted) raise ``DssError`` with ``code == dss.EINVAL``, like the checks
    libdss itself makes.
    """

    def __init__(self, code, message=None, function=None, detail=None):
        from . import _native  # late: _native imports this module
        self.code = int(code)
        self.message = message if message is not None else _native.strerror(self.code)
        self.function = function
        self.detail = detail
        super().__init__(self.code, self.message)

    @property
    def name(self):
        """The symbolic name of the code, e.g. ``"DSS_EINVAL"`` (``None`` if unknown)."""
        from . import _native
        return _native.STATUS_NAMES.get(self.code)

    def __str__(self):
        where = f"{self.function}: " if self.function else ""
        name = self.name or f"status {self.code}"
        text = f"{where}{self.message} [{name}]"
        if self.detail:
            text += f" ({self.detail})"
        return text

    def __reduce__(self):
        return (type(self), (self.code, self.message, self.function, self.detail))
