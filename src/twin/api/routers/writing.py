"""POST /api/tts/lora/generate: a draft in the owner's style (JSON, or server-sent text deltas)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter
from sse_starlette import EventSourceResponse, JSONServerSentEvent

from twin.api.deps import ProfileDep, StateDep
from twin.api.schemas import SSE_EVENT_SCHEMA, UNAVAILABLE, GenerateRequest, GenerateResponse, Responses, Usage
from twin.api.sse import first_then_rest, guarded
from twin.errors import TwinError
from twin.writing import Draft

router = APIRouter(tags=["writing"])

_SSE_DOC: Responses = {
    200: {
        "content": {
            "application/json": {},
            "text/event-stream": {
                "description": 'data: {"delta": ...} events, then data: {"done": true, ...}; '
                'a failure mid-way is an `event: error` with data {"error": {...}}.',
                "schema": SSE_EVENT_SCHEMA,
            },
        }
    }
}


def _response(draft: Draft) -> GenerateResponse:
    used = draft.usage
    return GenerateResponse(
        text=draft.text,
        model=draft.model,
        usage=Usage(
            prompt_tokens=used.prompt_tokens,
            completion_tokens=used.completion_tokens,
            total_tokens=used.prompt_tokens + used.completion_tokens,
        ),
        timings=draft.to_dict()["timings"],
    )


def _error_event(exc: TwinError) -> JSONServerSentEvent:
    return JSONServerSentEvent({"error": exc.to_dict()}, event="error", sep="\n")


@router.post(
    "/api/tts/lora/generate",
    response_model=GenerateResponse,
    responses={**UNAVAILABLE, **_SSE_DOC},
    summary="Draft text in the owner's writing style",
)
async def generate(
    body: GenerateRequest, state: StateDep, profile: ProfileDep
) -> GenerateResponse | EventSourceResponse:
    if not body.stream:
        draft = await state.services.draft(
            profile, body.prompt, body.style_reference, body.max_tokens, body.temperature
        )
        return _response(draft)
    stream = state.services.stream_draft(profile, body.prompt, body.style_reference, body.max_tokens, body.temperature)
    _first, rest = await first_then_rest(stream)

    async def events() -> AsyncIterator[JSONServerSentEvent]:
        async for item in rest:
            if isinstance(item, Draft):
                yield JSONServerSentEvent({"done": True, **_response(item).model_dump()}, sep="\n")
            else:
                yield JSONServerSentEvent({"delta": item.text}, sep="\n")

    return EventSourceResponse(guarded(events(), _error_event), sep="\n")
