"""Request dependencies as Annotated aliases: SettingsDep, StateDep, PrincipalDep, ProfileDep.

The key is checked from the request's headers by the KeyGuard middleware before any body is read;
every route except health also depends (through its router) on `require_key`, which hands the route
the principal the guard found (and declares the Bearer scheme in the schema). Routes take data only
from that key's profile, so an id that belongs to another profile is simply not found (404), never
forbidden (403)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from twin.api.config import ServerSettings
from twin.api.security import bearer_secret
from twin.api.services import Services
from twin.errors import NotFound, TwinError, Unauthorized
from twin.keys import ApiKey, KeyStore
from twin.ops.audit import AuditLog
from twin.profiles import Profile, ProfileManager
from twin.settings import Settings

_TOUCH_EVERY_S = 60.0


@dataclass
class AppState:
    """Everything the app shares between requests; built once by build_app."""

    settings: Settings
    server: ServerSettings
    keys: KeyStore
    profiles: ProfileManager
    audit: AuditLog
    services: Services
    started: float = field(default_factory=time.time)
    _touched: dict[str, float] = field(default_factory=dict)

    def touch(self, key_id: str) -> None:
        now = time.monotonic()
        if now - self._touched.get(key_id, 0.0) > _TOUCH_EVERY_S:
            self._touched[key_id] = now
            self.keys.touch(key_id)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's public record and the profile it selects."""

    key: ApiKey
    profile: Profile


bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `twin keys create --profile P`, sent as a Bearer token.",
)


def get_state(request: Request) -> AppState:
    return request.app.state.twin


def principal_for(state: AppState, secret: str | None) -> Principal:
    """The principal for a bearer secret, or Unauthorized."""
    key = state.keys.verify(secret)
    try:
        profile = state.profiles.get(key.profile)
    except NotFound:
        # The key's profile was deleted: the key no longer opens anything.
        raise Unauthorized(
            "This API key's profile no longer exists.", "Create a new key for an existing profile."
        ) from None
    state.touch(key.id)
    return Principal(key=key, profile=profile)


async def require_key(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> Principal:
    """The caller's Principal: the one KeyGuard resolved from `Authorization: Bearer <key>`, or (when the
    app runs without the guard) resolved here from the same header."""
    found = request.scope.get("state", {}).get("principal")
    if isinstance(found, Principal):
        return found
    secret = creds.credentials if creds is not None and creds.scheme.lower() == "bearer" else None
    principal = principal_for(get_state(request), secret)
    request.state.principal = principal
    return principal


async def authenticate_websocket(ws: WebSocket) -> Principal:
    """Key check for WebSocket routes: `Authorization: Bearer` or, for browsers (which cannot set
    headers on a WebSocket), the subprotocol `twin.bearer.<key>`. Never the query string.
    Closes the socket with 1008 and raises Unauthorized on failure."""
    found = ws.scope.get("state", {}).get("principal")
    if isinstance(found, Principal):
        ws.state.principal = found
        return found
    try:
        principal = principal_for(ws.app.state.twin, bearer_secret(ws.scope))
    except TwinError:
        await ws.close(code=1008, reason="unauthorized")
        raise
    ws.state.principal = principal
    return principal


def _profile(principal: Annotated[Principal, Depends(require_key)]) -> Profile:
    return principal.profile


def _settings(request: Request) -> Settings:
    return get_state(request).settings


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(_settings)]
PrincipalDep = Annotated[Principal, Depends(require_key)]
ProfileDep = Annotated[Profile, Depends(_profile)]
