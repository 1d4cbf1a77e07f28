"""GET /api/health: liveness for monitors and the UI. No auth, and nothing secret in it."""

from __future__ import annotations

import time

from fastapi import APIRouter

from twin import __version__
from twin.api.deps import StateDep
from twin.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=Health, summary="Liveness (no key needed)")
def health(state: StateDep) -> Health:
    return Health(status="ok", version=__version__, uptime_s=round(time.time() - state.started, 1))
