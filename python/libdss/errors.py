"""The exception raised by the libdss bindings."""

__all__ = ["DssError", "CallbackResultError"]


class DssError(Exception):
    """A libdss call failed.

    Attributes:
        code: the negative ``DSS_E*`` status code (for example ``libdss.EINVAL``).
        message: ``dss_strerror(code)``, the library's sentence for the code.
        function: the name of the C function that failed (or of the Python method that
            rejected its arguments before calling C), or ``None``.
        detail: extra explanation added by the bindings, or ``None``.
        errmsg: the handle's own message (``dss_search_errmsg``, ``dss_line_errmsg``,
            ``dss_model_errmsg``): the function, the argument or parameter and the bound it
            broke, which callback failed and what it returned; ``None`` when the failure was
            found on the Python side.

    Argument checks made in Python (array shapes, unknown parameter names, values that
    cannot be converted) raise ``DssError`` with ``code == libdss.EINVAL``, like the checks
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


class CallbackResultError(DssError, ValueError, TypeError):
    """A callback returned (or filled in) a result libdss cannot use: the wrong shape, a dtype
    that is not a real floating type, None, or NaN/infinity. Raised from inside the callback,
    before libdss sees the result; the C call is then aborted (nothing changed) and this
    exception is re-raised from the Python call that ran the callback.

    It is a :class:`DssError` whose ``code`` is ``ENONFINITE`` for NaN or infinity (as libdss's
    own check said in 1.0) and ``ECALLBACK`` otherwise; and, for code written against 1.0
    (which raised ValueError for a wrong size and TypeError for None), also a ValueError and a
    TypeError.

    Attributes:
        callback: which callback: ``"f"``, ``"jacobian"``, ``"vjp"``, ``"jvp"`` or ``"g"``.
        expected: the shape libdss asked for, e.g. ``(500, 784)``.
        received: the shape returned (``None`` for a None result; for a dtype or finiteness
            problem the shape was right and equals ``expected``).
        reason: ``"shape"``, ``"dtype"``, ``"nonfinite"`` or ``"none"``.
    """

    def __init__(self, callback, expected, received, reason, text):
        from . import _native
        code = _native.ENONFINITE if reason == "nonfinite" else _native.ECALLBACK
        DssError.__init__(self, code, function=None, detail=text)
        self.callback = callback
        self.expected = expected
        self.received = received
        self.reason = reason
        self.text = text

    def __str__(self):
        return self.text

    def __reduce__(self):
        return (type(self), (self.callback, self.expected, self.received, self.reason,
                             self.text))
