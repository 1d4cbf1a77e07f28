"""Pure ASGI guards that run before any route: Host check (DNS rebinding), Origin check (cross-site
requests and WebSockets), the API key check (before any byte of the body is read), and body size
limits enforced while the body streams through (nothing is buffered)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twin.errors import InvalidInput, TooLarge, TwinError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def error_body(exc: TwinError) -> bytes:
    return json.dumps({"error": exc.to_dict()}).encode()


async def send_error(scope: Scope, send: Send, exc: TwinError, status: int) -> None:
    """Reject an HTTP request with the standard error JSON, or close a WebSocket (policy violation)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": exc.code})
        return
    body = error_body(exc)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return v.decode("latin-1")
    return None


def _host_only(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def check_cors_origins(origins: Iterable[str]) -> list[str]:
    out = []
    for origin in origins:
        parts = urlsplit(origin)
        if origin in ("*", "null") or parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise InvalidInput(
                f"'{origin}' is not an allowed CORS origin.",
                "Give exact origins like https://twin.example.com; '*' and 'null' are refused.",
            )
        out.append(origin.rstrip("/"))
    return out


class HostOriginGuard:
    """Refuse requests whose Host is not ours (400) and cross-origin requests from origins not
    explicitly allowed (403), including `Origin: null`. Same-origin requests (Origin matches Host)
    and requests with no Origin (curl, SDKs) pass."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str], allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.hosts = {h.lower() for h in (*LOOPBACK_HOSTS, *allowed_hosts)}
        self.origins = set(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = (_header(scope, b"host") or "").lower()
        exc: TwinError
        if _host_only(host) not in self.hosts:
            exc = InvalidInput(
                "This server does not answer to that Host name.",
                "Add the name to TWIN_SERVER_ALLOWED_HOSTS if it is yours.",
                code="bad_host",
            )
            await send_error(scope, send, exc, 400)
            return
        origin = _header(scope, b"origin")
        if origin is not None and not self._origin_ok(origin, host):
            exc = TwinError(
                "Requests from this web origin are not allowed.",
                "Add the exact origin to TWIN_SERVER_CORS_ORIGINS if you trust it.",
                code="bad_origin",
            )
            await send_error(scope, send, exc, 403)
            return
        await self.app(scope, receive, send)

    def _origin_ok(self, origin: str, host: str) -> bool:
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == host and not parts.path


def bearer_secret(scope: Scope) -> str | None:
    """The key a request carries: `Authorization: Bearer <key>`, or for a WebSocket (browsers cannot
    set its headers) the subprotocol `twin.bearer.<key>`. Never the query string."""
    header = _header(scope, b"authorization") or ""
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return secret.strip()
    if scope["type"] == "websocket":
        for proto in scope.get("subprotocols", []):
            if proto.startswith("twin.bearer."):
                return str(proto[len("twin.bearer.") :])
    return None


class KeyGuard:
    """Refuse every non-public request without a valid key (401) from its headers alone, before any
    byte of the body is read, so a keyless client can neither make the server buffer a body nor reach
    a route. `authenticate(secret)` returns the principal (stored in scope["state"]["principal"]) or
    raises a TwinError."""

    def __init__(
        self,
        app: ASGIApp,
        authenticate: Callable[[str | None], Any],
        public_paths: Iterable[str] = (),
        public_prefixes: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.authenticate = authenticate
        self.public_paths = set(public_paths)
        self.public_prefixes = tuple(public_prefixes)

    def is_public(self, path: str) -> bool:
        return path in self.public_paths or path.startswith(self.public_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.is_public(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        try:
            principal = self.authenticate(bearer_secret(scope))
        except TwinError as exc:
            await send_error(scope, send, exc, exc.http_status)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


class BodyLimit:
    """413 before reading when Content-Length is too big; 413 as soon as a streamed (chunked) body
    passes the limit, counted as it flows to the route (nothing is buffered here). When the limit trips
    mid-body the route's own response is replaced by the 413. Routes listed in `upload_paths` get the
    larger upload limit."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int, upload_paths: Iterable[str]) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_paths = set(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["path"] in self.upload_paths
        limit = self.max_upload if upload else self.max_body
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_error(scope, send, _too_large(limit, upload), 413)
            return
        if declared is not None:
            # The HTTP server (h11/httptools) refuses bodies longer than their Content-Length.
            await self.app(scope, receive, send)
            return
        await _CountedBody(limit, upload).run(self.app, scope, receive, send)


class _CountedBody:
    """One chunked request: counts body bytes as the route reads them; past the limit the route sees
    a disconnect and the client gets a clean 413 instead of whatever the route answers."""

    def __init__(self, limit: int, upload: bool) -> None:
        self.limit = limit
        self.upload = upload
        self.seen = 0
        self.exceeded = False
        self.started = False

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            if self.exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.seen += len(message.get("body", b""))
                if self.seen > self.limit:
                    self.exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def replaced(message: Message) -> None:
            if self.exceeded:
                await self._refuse(scope, send)
                return
            self.started = True
            await send(message)

        try:
            await app(scope, counted, replaced)
        except Exception:
            if not self.exceeded:
                raise
        if self.exceeded:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if not self.started:
            self.started = True
            await send_error(scope, send, _too_large(self.limit, self.upload), 413)


def _too_large(limit: int, upload: bool) -> TooLarge:
    size = f"{limit / 1e6:.1f} MB" if limit >= 100_000 else f"{limit / 1e3:.1f} kB"
    if upload:
        return TooLarge(
            f"The upload is larger than the server's {size} limit.",
            "A voice needs only 10-30 s of speech: send a shorter clip (or compressed audio such as MP3), "
            "or raise TWIN_SERVER_MAX_UPLOAD_BYTES.",
        )
    return TooLarge(
        f"The request body is larger than the server's {size} limit.",
        "Send less text, or raise TWIN_SERVER_MAX_BODY_BYTES.",
    )


class SecurityHeaders:
    """Conservative headers on every HTTP response; a strict Content-Security-Policy keeps the web
    UI to its own scripts and the API origin."""

    CSP = (
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"media-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        b"form-action 'none'"
    )

    # The API reference page runs Swagger UI, which sets inline style attributes; scripts stay 'self'.
    DOCS_CSP = CSP.replace(b"style-src 'self'", b"style-src 'self' 'unsafe-inline'")

    def __init__(self, app: ASGIApp, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.docs_paths = tuple(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self.DOCS_CSP if self.docs_paths and scope["path"].startswith(self.docs_paths) else self.CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", csp),
                    (b"cache-control", b"no-store"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
