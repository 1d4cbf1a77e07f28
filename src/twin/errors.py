"""The one error tree. Every failure a user can meet is a TwinError with a code, a message saying
what went wrong and a hint saying how to fix it; the CLI, the API and the WebSocket render it."""

from __future__ import annotations


class TwinError(Exception):
    """Base error: `code` is stable and machine-readable, `hint` tells the user what to do."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, hint: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code:
            self.code = code

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "hint": self.hint}

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidInput(TwinError):
    code = "invalid_input"
    http_status = 422


class NotFound(TwinError):
    code = "not_found"
    http_status = 404


class AlreadyExists(TwinError):
    code = "already_exists"
    http_status = 409


class TooLarge(TwinError):
    code = "too_large"
    http_status = 413


class UnsupportedFormat(TwinError):
    code = "unsupported_format"
    http_status = 415


class UnsafeArchive(TwinError):
    code = "unsafe_archive"
    http_status = 422


class ParseError(TwinError):
    code = "parse_error"
    http_status = 422


class MissingDependency(TwinError):
    """A backend needs an optional extra that is not installed."""

    code = "missing_dependency"
    http_status = 503

    @classmethod
    def for_extra(cls, what: str, extra: str, module: str) -> MissingDependency:
        return cls(
            f"{what} needs the Python module '{module}', which is not installed.",
            f"Install it with: pip install 'twin[{extra}]'",
        )


class Unavailable(TwinError):
    """An engine or runtime cannot be reached or is not usable right now."""

    code = "unavailable"
    http_status = 503


class Timeout(TwinError):
    code = "timeout"
    http_status = 504


class Unauthorized(TwinError):
    code = "unauthorized"
    http_status = 401


class Cancelled(TwinError):
    code = "cancelled"
    http_status = 499
