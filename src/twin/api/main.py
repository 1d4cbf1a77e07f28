"""The app factory: build_app(settings) wires state, guards, error rendering and one router per
feature. Nothing is built at import time.

Request path, outermost first: Host/Origin guard → security headers → unexpected-error renderer →
CORS → audit log → API key check (headers only, before any body byte is read) → body limit → routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from twin import __version__
from twin.api.audit import AuditMiddleware
from twin.api.config import ServerSettings
from twin.api.deps import AppState, Principal, principal_for, require_key
from twin.api.errors import RenderUnexpected, configure_global_exception_handlers
from twin.api.schemas import AUTH_RESPONSES
from twin.api.security import BodyLimit, HostOriginGuard, KeyGuard, SecurityHeaders, check_cors_origins
from twin.api.services import Services
from twin.keys import KeyStore
from twin.ops.audit import AuditLog
from twin.ops.cleanup import clean_leftovers
from twin.profiles import ProfileManager
from twin.settings import Settings, load_settings

__all__ = ["PUBLIC_PATHS", "build_app", "configure_global_exception_handlers", "configure_routers"]

log = logging.getLogger("twin.api")

# Routes whose bodies carry audio get the larger upload limit.
UPLOAD_PATHS = ("/api/voice/upload", "/api/tts/clone", "/api/tts/pipeline")
# The only routes reachable without a key: liveness, the static web UI shell and the API reference
# page shell with its Swagger UI assets (no data in them; the schema itself needs the key).
PUBLIC_PATHS = ("/api/health", "/", "/ui", "/docs", "/favicon.ico")
PUBLIC_PREFIXES = ("/ui/", "/docs/assets/")


def build_app(
    settings: Settings | None = None, server: ServerSettings | None = None, services: Services | None = None
) -> FastAPI:
    """Build the FastAPI app for `settings` (and optional server settings and services)."""
    settings = settings or load_settings()
    server = server or ServerSettings()
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
    state = AppState(
        settings=settings,
        server=server,
        keys=KeyStore(settings),
        profiles=ProfileManager(settings),
        audit=AuditLog(settings),
        services=services or Services(settings, server),
    )
    app.state.twin = state
    configure_global_exception_handlers(app)
    configure_routers(app)
    _configure_middleware(app, server, state)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    await asyncio.to_thread(clean_leftovers, app.state.twin.settings)  # what a crashed run left behind
    yield
    state: AppState = app.state.twin
    await state.services.aclose()
    state.keys.close()
    state.audit.close()


def configure_routers(app: FastAPI) -> None:
    from twin.api import ws
    from twin.api.routers import (
        chat,
        conversations,
        docs,
        engines,
        health,
        media,
        memories,
        openai_compat,
        personas,
        speech,
        voice,
        web,
        writing,
    )

    app.include_router(health.router)
    app.include_router(ws.router)  # WebSockets check the key themselves (authenticate_websocket)
    for module in (engines, writing, voice, speech, openai_compat, media, chat, personas, conversations, memories):
        app.include_router(module.router, dependencies=[Depends(require_key)], responses=AUTH_RESPONSES)

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[Depends(require_key)])
    def openapi_schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    docs.mount(app)
    web.mount(app)


def _configure_middleware(app: FastAPI, server: ServerSettings, state: AppState) -> None:
    # add_middleware puts each new one outside the previous: the last added runs first.
    app.add_middleware(
        BodyLimit,
        max_body=server.max_body_bytes,
        max_upload=server.max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )

    def authenticate(secret: str | None) -> Principal:
        return principal_for(state, secret)

    app.add_middleware(KeyGuard, authenticate=authenticate, public_paths=PUBLIC_PATHS, public_prefixes=PUBLIC_PREFIXES)
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
            expose_headers=["x-twin-engine", "x-twin-voice", "x-twin-reference", "x-twin-emotion"],
        )
    app.add_middleware(RenderUnexpected)
    app.add_middleware(SecurityHeaders, docs_paths=("/docs",))
    app.add_middleware(HostOriginGuard, allowed_hosts=server.allowed_hosts, allowed_origins=origins)
