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
        errmsg: the handle's own message (``dss_search_errmsg``, ``dss_line_errmsg``,
            ``dss_model_errmsg``): the function, the argument or parameter and the bound it
            broke, which callback failed and what it returned; ``None`` when the failure was
            found on the Python side.

    Argument checks made in Python (array shapes, unknown parameter names, values that
    cannot be converted) raise ``DssError`` with ``code == dss.EINVAL``, like the checks
    libdss itself makes.
    """

    def __init__(self, code, message=None, function=None, detail=None, errmsg=None):
        from . import _native  # late: _native imports this module
        self.code = int(code)
        self.message = message if message is not None else _native.strerror(self.code)
        self.function = function
        self.detail = detail
        self.errmsg = errmsg
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
        if self.errmsg:
            text += f": {self.errmsg}"
        if self.detail:
            text += f" ({self.detail})"
        return text

    def __reduce__(self):
        return (type(self), (self.code, self.message, self.function, self.detail, self.errmsg))
