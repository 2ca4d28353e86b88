"""Exceptions raised by the troupe package.

Every error the session server reports becomes a subclass of `TroupeError` that also derives
from the built-in exception a TinyTroupe user would expect (ValueError for a bad argument or a
name already taken, KeyError/LookupError for an unknown agent or world, PermissionError for a
refused token), carrying the server's own message.
"""


class TroupeError(Exception):
    """An error reported by the session server or met while talking to it."""

    def __init__(self, message, code=None, status=None, command=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.command = command

    def __str__(self):
        return self.message


class BadRequestError(TroupeError, ValueError):
    """HTTP 400: malformed request, unknown command, missing or ill-typed argument, bad key path."""


class UnknownAgentError(TroupeError, KeyError, ValueError):
    """HTTP 404 `unknown_agent`: no agent of that name in the session."""

    def __str__(self):  # KeyError would quote the message
        return self.message


class UnknownWorldError(TroupeError, KeyError, ValueError):
    """HTTP 404 `unknown_world`: no world of that name in the session."""

    def __str__(self):
        return self.message


class NameConflictError(TroupeError, ValueError):
    """HTTP 409 `conflict`: the name is already taken (TinyTroupe raises ValueError)."""


class UnauthorisedError(TroupeError, PermissionError):
    """HTTP 401 `unauthorised`: no token or a wrong one."""


class TooLargeError(TroupeError, ValueError):
    """HTTP 413 `too_large`: the request body is over the server's limit."""


class SimulationFailedError(TroupeError, RuntimeError):
    """HTTP 500 `failed`: the simulation could not do it (e.g. the log cannot be written)."""


class SessionClosedError(TroupeError, RuntimeError):
    """The session has ended, or its server process is gone."""


class SessionStartError(TroupeError, RuntimeError):
    """The session server could not be started (bad options, missing binary, no session.json)."""


_BY_CODE = {
    "bad_request": BadRequestError,
    "unknown_agent": UnknownAgentError,
    "unknown_world": UnknownWorldError,
    "conflict": NameConflictError,
    "unauthorised": UnauthorisedError,
    "unauthorized": UnauthorisedError,
    "too_large": TooLargeError,
    "failed": SimulationFailedError,
}

_BY_STATUS = {
    400: BadRequestError,
    401: UnauthorisedError,
    404: UnknownAgentError,
    409: NameConflictError,
    413: TooLargeError,
    500: SimulationFailedError,
}


def error_for(code, status, message, command=None):
    """The exception for a failed reply (`code` from the body, `status` the HTTP status)."""
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status) or TroupeError
    if command and not message.startswith(command + ":"):
        text = "%s: %s" % (command, message)
    else:
        text = message
    return cls(text, code=code, status=status, command=command)
