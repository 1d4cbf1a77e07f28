"""GET /api/engines: the LLM/TTS/STT backends, which is configured, installed, warm, and what was probed."""

from __future__ import annotations

from fastapi import APIRouter

from twin.api.deps import ProfileDep, StateDep
from twin.api.schemas import EnginesResponse

router = APIRouter(tags=["engines"])


@router.get("/api/engines", response_model=EnginesResponse, summary="Engine status for this profile")
async def engines(state: StateDep, profile: ProfileDep) -> EnginesResponse:
    return EnginesResponse(engines=await state.services.engines(profile))
