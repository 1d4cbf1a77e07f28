"""How the API renders failures: every error is {"error": {"code", "message", "hint"}}, and no exception
ever reaches the HTTP server. An unexpected exception becomes a logged 500 (or, once a streamed
response has started, a cleanly ended body), so the keep-alive connection stays usable: uvicorn
closes the connection when an exception escapes the app, which resets the client's next request."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twin.api.security import send_error
from twin.errors import DiskFull, TwinError, UnsupportedFormat, is_disk_full
from twin.ops.process import free_space

log = logging.getLogger("twin.api")


def internal_error() -> TwinError:
    return TwinError(
        "The server hit an unexpected error.",
        "See the server log; report it if it repeats.",
        code="internal_error",
    )


def disk_full(home: Path, exc: BaseException) -> DiskFull:
    """The user-facing error for a write that hit a full disk (how much is free now, where)."""
    log.error("disk full: %s", exc)
    return DiskFull.after(free_space(home))


def as_twin_error(exc: BaseException) -> TwinError:
    """`exc` itself when it is a TwinError; otherwise log it and return the generic internal error."""
    if isinstance(exc, TwinError):
        return exc
    log.error("unhandled error", exc_info=exc)
    return internal_error()


def error_response(exc: TwinError, status: int, extra: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": exc.to_dict()}
    if extra:
        body["error"].update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    retry_after = getattr(exc, "retry_after_s", None)
    if status == 503 and isinstance(retry_after, int):  # admission control: when to come back
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, headers=headers or None)


class InvalidJson(TwinError):
    code = "invalid_json"
    http_status = 400


def unreadable_body(request: Request, errors: Sequence[Any]) -> TwinError | None:
    """The clear error for a JSON route whose body is not a JSON document at all: broken JSON (400) or
    a body sent as another content type (415), instead of a schema complaint about a missing object."""
    for e in errors:
        if e.get("type") == "json_invalid":
            at = e.get("loc", ("body", "?"))[-1]
            return InvalidJson(
                f"The request body is not valid JSON (it breaks at character {at}).",
                "Send one JSON object; check quotes, commas and brackets.",
            )
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    whole_body = any(tuple(e.get("loc", ())) == ("body",) for e in errors)
    if whole_body and ctype != "application/json" and not ctype.endswith("+json"):
        sent = f"as {ctype}" if ctype else "without a Content-Type"
        return UnsupportedFormat(
            f"This route takes a JSON body; the request was sent {sent}.",
            "Send the body as JSON with the header Content-Type: application/json.",
        )
    return None


def configure_global_exception_handlers(app: FastAPI) -> None:
    """Render TwinError, validation and HTTP errors as {"error": {"code", "message", "hint"}}."""

    @app.exception_handler(TwinError)
    async def twin_error(_request: Request, exc: TwinError) -> JSONResponse:
        return error_response(exc, exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        body_error = unreadable_body(request, exc.errors())
        if body_error is not None:
            return error_response(body_error, body_error.http_status)
        details = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        err = TwinError(
            f"Invalid request: {'.'.join(first['loc'])}: {first['msg']}",
            "Check the request against the API reference (/docs).",
            code="invalid_input",
        )
        return error_response(err, 422, {"details": details})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        hints = {404: "Check the URL; the API lives under /api and /v1.", 405: "Check the HTTP method."}
        err = TwinError(str(exc.detail), hints.get(exc.status_code, ""), code=f"http_{exc.status_code}")
        return error_response(err, exc.status_code)

    async def storage_error(request: Request, exc: Exception) -> JSONResponse:
        """A full disk is answered here; any other storage error goes on to RenderUnexpected."""
        if not is_disk_full(exc):
            raise exc
        full = disk_full(request.app.state.twin.settings.home, exc)
        return error_response(full, full.http_status)

    app.add_exception_handler(OSError, storage_error)
    app.add_exception_handler(sqlite3.Error, storage_error)


class RenderUnexpected:
    """Outermost guard of the app's own stack: an exception that nothing else handled is logged and
    answered with a 500 error body; if the response had already started, its body is ended cleanly."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def tracked(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except ClientDisconnect:
            return
        except Exception as exc:  # noqa: BLE001 - the last line of defence; logged, never re-raised
            error, status = internal_error(), 500
            if is_disk_full(exc) and "app" in scope:
                full = disk_full(scope["app"].state.twin.settings.home, exc)
                error, status = full, full.http_status
            else:
                log.error("unhandled error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
            try:
                if not started:
                    await send_error(scope, send, error, status)
                elif not finished:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:  # the client is gone
                return
