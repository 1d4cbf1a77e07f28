"""The one error tree. Every failure a user can meet is a TwinError with a code, a message saying
what went wrong and a hint saying how to fix it; the CLI, the API and the WebSocket render it."""

from __future__ import annotations

import errno
import sqlite3


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


class DiskFull(TwinError):
    """The disk holding twin's data has no room for what was being written. What was already stored is
    kept: files are written to a temporary name and renamed, and database writes roll back."""

    code = "disk_full"
    http_status = 507  # Insufficient Storage

    @classmethod
    def for_write(cls, what: str, needed: int, free: int, reserve: int = 0) -> DiskFull:
        """`needed` bytes for `what` do not fit in `free`, keeping `reserve` bytes free."""
        if reserve:
            need = (
                f"it needs {_mb(needed)} plus the {_mb(reserve)} twin always leaves free so the disk never fills "
                f"up completely ({_mb(needed + reserve)} in all), and {_mb(free)} are free"
            )
        else:
            need = f"it needs {_mb(needed)} and {_mb(free)} are free"
        short = max(needed + reserve - free, 0)
        return cls(
            f"Not enough disk space for {what}: {need}.",
            f"Free at least {_mb(short)} on the disk holding your twin data, then try again.",
        )

    @classmethod
    def after(cls, free: int | None) -> DiskFull:
        """The disk filled up during a write (how much more was needed is not known)."""
        left = f" ({_mb(free)} free)" if free is not None else ""
        return cls(
            f"The disk holding your twin data is full{left}; the last write did not fit.",
            "Free some space on that disk (at least as much as the files you were adding), then run it "
            "again. What was already saved is intact.",
        )


def _mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n >= 10e6 else f"{n / 1e6:.1f} MB"


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def is_disk_full(exc: BaseException) -> bool:
    """True for "no space left" (or quota exceeded) from the OS or SQLite, also when wrapped by a library."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in _FULL_ERRNOS:
            return True
        if isinstance(cur, sqlite3.Error) and getattr(cur, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        cur = cur.__cause__ or cur.__context__
    return False
