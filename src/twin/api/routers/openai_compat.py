"""OpenAI-compatible routes so existing tools (the openai SDK, Open WebUI, SillyTavern) can use the
twin: /v1/chat/completions (with SSE streaming), /v1/audio/speech (voice = a voice id), /v1/models.
Errors keep the twin error shape, which OpenAI clients read from the `error.message` field."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from twin.api.deps import ProfileDep, StateDep
from twin.api.routers.speech import speech_headers
from twin.api.schemas import (
    NOT_FOUND,
    SSE_EVENT_SCHEMA,
    UNAVAILABLE,
    ChatCompletionRequest,
    ModelCard,
    ModelList,
    SpeechRequest,
)
from twin.api.services import check_voice_id
from twin.api.sse import first_then_rest, guarded, sse
from twin.ids import new_id
from twin.providers.llm import ChatResult

router = APIRouter(tags=["openai"])

_CHAT_DOC = {
    200: {
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/event-stream": {"schema": SSE_EVENT_SCHEMA},
        },
        "description": "A chat.completion object, or chat.completion.chunk events when stream is true.",
    }
}


def _chunk(cid: str, created: int, model: str, delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


@router.post("/v1/chat/completions", responses={**_CHAT_DOC, **UNAVAILABLE}, summary="Chat (OpenAI-compatible)")
async def chat_completions(body: ChatCompletionRequest, state: StateDep, profile: ProfileDep) -> Any:
    messages = [m.model_dump() for m in body.messages]
    max_tokens = body.max_completion_tokens or body.max_tokens
    items = state.services.stream_chat(profile, messages, max_tokens, body.temperature)
    cid, created = "chatcmpl-" + new_id().replace("-", ""), int(time.time())
    if not body.stream:
        final: ChatResult | None = None
        async for item in items:
            if isinstance(item, ChatResult):
                final = item
        assert final is not None
        return {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": final.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": final.text}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": final.usage.prompt_tokens,
                "completion_tokens": final.usage.completion_tokens,
                "total_tokens": final.usage.prompt_tokens + final.usage.completion_tokens,
            },
        }
    _first, rest = await first_then_rest(items)

    async def events() -> AsyncIterator[bytes]:
        yield sse(_chunk(cid, created, body.model, {"role": "assistant", "content": ""}, None))
        async for item in rest:
            if isinstance(item, ChatResult):
                yield sse(_chunk(cid, created, item.model, {}, "stop"))
            else:
                yield sse(_chunk(cid, created, body.model, {"content": item.text}, None))
        yield sse("[DONE]")

    return StreamingResponse(
        guarded(events(), lambda e: sse({"error": e.to_dict()})),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


@router.post(
    "/v1/audio/speech",
    response_class=Response,
    responses={
        **NOT_FOUND,
        **UNAVAILABLE,
        200: {
            "content": {
                "audio/wav": {"schema": {"type": "string", "format": "binary"}},
                "audio/mpeg": {"schema": {"type": "string", "format": "binary"}},
            }
        },
    },
    summary="Text to speech (OpenAI-compatible; voice = a voice id or 'default')",
)
async def speech(body: SpeechRequest, state: StateDep, profile: ProfileDep) -> Response:
    voice_id = None if body.voice == "alloy" else check_voice_id(body.voice)
    emotion = body.instructions.strip().lower() if body.instructions else None
    result = await state.services.synthesize(profile, body.input, voice_id, None, emotion, body.response_format)
    media = "audio/wav" if body.response_format == "wav" else "audio/mpeg"
    return Response(result.audio, media_type=media, headers=speech_headers(result))


@router.get("/v1/models", response_model=ModelList, summary="Models (OpenAI-compatible)")
async def models(state: StateDep, profile: ProfileDep) -> ModelList:
    names = await state.services.models(profile)
    return ModelList(data=[ModelCard(id=n) for n in dict.fromkeys(names)])
