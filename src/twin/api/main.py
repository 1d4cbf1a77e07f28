"""The app factory: build_app(settings) wires state, guards, error rendering and one router per
feature. Nothing is built at import time."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twin import __version__
from twin.api.config import ServerSettings
from twin.api.deps import AppState, require_key
from twin.api.schemas import AUTH_RESPONSES
from twin.api.security import BodyLimit, HostOriginGuard, SecurityHeaders, check_cors_origins
from twin.errors import TwinError
from twin.keys import KeyStore
from twin.ops.audit import AuditEvent, AuditLog
from twin.profiles import ProfileManager
from twin.settings import Settings, load_settings

log = logging.getLogger("twin.api")

# Routes whose bodies carry audio get the larger upload limit.
UPLOAD_PATHS = ("/api/voice/upload", "/api/tts/clone", "/api/tts/pipeline")
# The only routes reachable without a key: liveness and the static web UI shell (no data in it).
PUBLIC_PATHS = ("/api/health", "/", "/ui")


def build_app(settings: Settings | None = None, server: ServerSettings | None = None, services: Any = None) -> FastAPI:
    """Build the FastAPI app for `settings` (and optional server settings and services)."""
    settings = settings or load_settings()
    server = server or ServerSettings()
    if services is None:
        from twin.api.services import Services

        services = Services(settings, server)
    app = FastAPI(
        title="twin",
        lifespan=_lifespan,
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        description="Your personal AI twin: drafting in your style and speech in your voice. "
        "Every route except /api/health needs `Authorization: Bearer <key>`.",
    )
    app.state.twin = AppState(
        settings=settings,
        server=server,
        keys=KeyStore(settings),
        profiles=ProfileManager(settings),
        audit=AuditLog(settings),
        services=services,
    )
    configure_global_exception_handlers(app)
    configure_routers(app)
    _configure_middleware(app, server)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.twin.keys.close()
    app.state.twin.audit.close()


def configure_routers(app: FastAPI) -> None:
    from twin.api.routers import (
        chat,
        conversations,
        engines,
        health,
        memories,
        openai_compat,
        personas,
        speech,
        voice,
        web,
        writing,
    )

    app.include_router(health.router)
    secured = {"dependencies": [Depends(require_key)], "responses": AUTH_RESPONSES}
    for module in (engines, writing, voice, speech, openai_compat, chat, personas, conversations, memories):
        app.include_router(module.router, **secured)

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[Depends(require_key)])
    def openapi_schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    web.mount(app)


def _error_response(exc: TwinError, status: int, extra: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": exc.to_dict()}
    if extra:
        body["error"].update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def configure_global_exception_handlers(app: FastAPI) -> None:
    """Render every failure as {"error": {"code", "message", "hint"}}."""

    @app.exception_handler(TwinError)
    async def twin_error(_request: Request, exc: TwinError) -> JSONResponse:
        return _error_response(exc, exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        err = TwinError(
            f"Invalid request: {'.'.join(first['loc'])}: {first['msg']}",
            "Check the request against the API schema (GET /api/openapi.json).",
            code="invalid_input",
        )
        return _error_response(err, 422, {"details": details})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        hints = {404: "Check the URL; the API lives under /api and /v1.", 405: "Check the HTTP method."}
        err = TwinError(str(exc.detail), hints.get(exc.status_code, ""), code=f"http_{exc.status_code}")
        return _error_response(err, exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        err = TwinError(
            "The server hit an unexpected error.",
            "See the server log; report it if it repeats.",
            code="internal_error",
        )
        return _error_response(err, 500)


def _configure_middleware(app: FastAPI, server: ServerSettings) -> None:
    # add_middleware puts each new one outside the previous: the last added runs first.
    if server.audit:
        app.add_middleware(AuditMiddleware)
    origins = check_cors_origins(server.cors_origins)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type"],
        )
    app.add_middleware(
        BodyLimit,
        max_body=server.max_body_bytes,
        max_upload=server.max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HostOriginGuard, allowed_hosts=server.allowed_hosts, allowed_origins=origins)


class AuditMiddleware:
    """Record who/what/when/outcome for every /api and /v1 request once its response is done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(("/api/", "/v1/")) or path == "/api/health":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            _record_audit(scope, status, (time.perf_counter() - start) * 1000)


def _record_audit(scope: Scope, status: int, duration_ms: float) -> None:
    state: AppState = scope["app"].state.twin
    principal = scope.get("state", {}).get("principal")
    route = getattr(scope.get("route"), "path", None) or scope.get("path", "")
    client = scope.get("client")
    event = AuditEvent(
        key_id=principal.key.id if principal else None,
        client=client[0] if client else None,
        method=scope.get("method", ""),
        route=route,
        status=status,
    )
    try:
        state.audit.record(principal.profile if principal else None, event, duration_ms)
    except Exception:  # the audit log must never turn a served request into a failure
        log.exception("could not write the audit log")
