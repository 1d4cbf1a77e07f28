"""POST /api/chat: one chat turn with a persona (memory recall and write included), as JSON or as SSE
(`event: delta` pieces, then `event: done` with conversation_id and memories_used, or `event: error`).
Also the per-profile ChatService cache the persona, conversation and memory routes share."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from twin.api.deps import AppState, ProfileDep, StateDep
from twin.api.schemas import NOT_FOUND, SSE_EVENT_SCHEMA, TOO_LARGE, UNAVAILABLE, ErrorResponse
from twin.api.sse import first_then_rest, guarded, sse
from twin.chat.service import MAX_MESSAGE_CHARS, ChatService, TurnResult
from twin.profiles import Profile
from twin.providers.llm import LLMOptions, TextDelta, open_llm

ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "A persona with that name already exists."},
    504: {"model": ErrorResponse, "description": "The model sent nothing for timeout_s."},
}
for _code, _doc in {**NOT_FOUND, **TOO_LARGE, **UNAVAILABLE}.items():
    ERRORS[_code] = _doc
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
PERSONA_PATTERN = r"^(?:[a-z0-9][a-z0-9_-]{0,62}|[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$"
router = APIRouter(tags=["chat"], responses=ERRORS)
_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/json": {}, "text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
        "description": "A ChatResponse, or with stream=true SSE: delta events, then done (or error).",
    }
}
_LOCK = threading.Lock()


def chat_service(state: AppState, profile: Profile) -> ChatService:
    """The profile's ChatService, built once per app (the server's LLM override applies)."""
    cache: dict[str, ChatService] = state.__dict__.setdefault("_chat", {})
    with _LOCK:
        if profile.name not in cache:
            server = state.server
            llm = None
            if server.llm_backend:
                llm = open_llm(profile, backend=server.llm_backend, model=server.llm_model or None)
            svc = cache[profile.name] = ChatService(profile, llm=llm)
            # load the embedding model now, so the first turns need not wait for it
            threading.Thread(target=svc.memory.warm_up, name="twin-memory-warmup", daemon=True).start()
        return cache[profile.name]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(
        ..., min_length=1, max_length=MAX_MESSAGE_CHARS, pattern=r"\S", description="What the user says."
    )
    persona: str | None = Field(None, pattern=PERSONA_PATTERN, description="Persona name or id (default: twin).")
    conversation_id: str | None = Field(None, pattern=UUID_PATTERN, description="Continue this conversation.")
    stream: bool = Field(False, description="Server-sent events instead of one JSON object.")
    memory: bool = Field(True, description="Recall and remember (false: neither, for this turn).")
    max_tokens: int = Field(256, ge=1, le=4096)
    temperature: float | None = Field(None, ge=0, le=2)


class ChatResponse(BaseModel):
    conversation_id: str
    persona: str
    reply: str
    user_message_id: str
    assistant_message_id: str | None
    memories_used: list[str]
    model: str
    finish_reason: str
    interrupted: bool
    timings: dict[str, float]
    usage: dict[str, int]


@router.post("/api/chat", response_model=ChatResponse, responses=_SSE_DOC, summary="Chat with a persona (JSON or SSE)")
async def chat(body: ChatRequest, state: StateDep, profile: ProfileDep) -> Any:
    svc = chat_service(state, profile)
    opts: dict[str, Any] = {"max_tokens": body.max_tokens}
    if body.temperature is not None:
        opts["temperature"] = body.temperature
    events = svc.stream_turn(
        body.message, body.persona, body.conversation_id, use_memory=body.memory, options=LLMOptions(**opts)
    )
    if not body.stream:
        final: TurnResult | None = None
        async for event in events:
            if isinstance(event, TurnResult):
                final = event
        assert final is not None
        return ChatResponse.model_validate(final.to_dict())
    _first, rest = await first_then_rest(events)

    async def stream() -> AsyncIterator[bytes]:
        async for event in rest:
            if isinstance(event, TextDelta):
                yield sse({"delta": event.text}, "delta")
            else:
                yield sse(event.to_dict(), "done")

    return StreamingResponse(
        guarded(stream(), lambda e: sse({"error": e.to_dict()}, "error")),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"},
    )
