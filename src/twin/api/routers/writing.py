"""POST /api/tts/lora/generate: a draft in the owner's style (JSON, or SSE text deltas)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from twin.api.deps import ProfileDep, StateDep
from twin.api.schemas import SSE_EVENT_SCHEMA, UNAVAILABLE, GenerateRequest, GenerateResponse
from twin.api.services import Draft
from twin.api.sse import first_then_rest, guarded, sse

router = APIRouter(tags=["writing"])

_SSE_DOC = {
    200: {
        "content": {
            "application/json": {},
            "text/event-stream": {
                "description": 'data: {"delta": ...} events, then data: {"done": true, ...}',
                "schema": {
                    **SSE_EVENT_SCHEMA,
                },
            },
        }
    }
}


@router.post(
    "/api/tts/lora/generate",
    response_model=GenerateResponse,
    responses={**UNAVAILABLE, **_SSE_DOC},
    summary="Draft text in the owner's writing style",
)
async def generate(body: GenerateRequest, state: StateDep, profile: ProfileDep) -> GenerateResponse | StreamingResponse:
    stream = state.services.stream_draft(profile, body.prompt, body.style_reference, body.max_tokens, body.temperature)
    if not body.stream:
        final = None
        async for item in stream:
            if isinstance(item, Draft):
                final = item
        assert final is not None
        return GenerateResponse.model_validate(vars(final))
    _first, rest = await first_then_rest(stream)

    async def events() -> AsyncIterator[bytes]:
        async for item in rest:
            if isinstance(item, Draft):
                yield sse(
                    {
                        "done": True,
                        "text": item.text,
                        "model": item.model,
                        "usage": item.usage,
                        "timings": item.timings,
                    }
                )
            else:
                yield sse({"delta": item})

    return StreamingResponse(
        guarded(events(), lambda e: sse({"error": e.to_dict()}, "error")),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )
