"""The audit log middleware: who/what/when/outcome for every /api and /v1 request, recorded once its
response is done (refused requests included, with no key id)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twin.ops.audit import AuditEvent

log = logging.getLogger("twin.api")


class AuditMiddleware:
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
    state = scope["app"].state.twin
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
