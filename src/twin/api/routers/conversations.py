"""Conversations of the caller's profile (another profile's id is simply not found)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from twin.api.deps import ProfileDep, StateDep
from twin.api.routers.chat import ERRORS, PERSONA_PATTERN, UUID_PATTERN, chat_service
from twin.errors import InvalidInput, NotFound

router = APIRouter(tags=["conversations"], responses=ERRORS)


def _not_found(conversation_id: str) -> NotFound:
    return NotFound(f"No conversation '{conversation_id}' in this profile.", "List them with GET /api/conversations.")


@router.get("/api/conversations", summary="List conversations, newest first")
async def list_conversations(
    state: StateDep,
    profile: ProfileDep,
    persona: str | None = Query(None, pattern=PERSONA_PATTERN),
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    svc = chat_service(state, profile)
    pid = svc.personas.get(persona).id if persona else None
    return {"conversations": [c.to_dict() for c in svc.conversations.list(pid, limit)]}


@router.get("/api/conversations/{conversation_id}", summary="A conversation with its turns")
async def get_conversation(
    conversation_id: Annotated[str, Path(pattern=UUID_PATTERN)], state: StateDep, profile: ProfileDep
) -> dict[str, Any]:
    try:
        return chat_service(state, profile).conversations.export(conversation_id)
    except InvalidInput:
        raise _not_found(conversation_id) from None


@router.delete("/api/conversations/{conversation_id}", status_code=204, summary="Delete a conversation")
async def delete_conversation(
    conversation_id: Annotated[str, Path(pattern=UUID_PATTERN)], state: StateDep, profile: ProfileDep
) -> Response:
    svc = chat_service(state, profile)
    try:
        conv = svc.conversations.get(conversation_id)
    except InvalidInput:
        raise _not_found(conversation_id) from None
    svc.memory.forget_conversation(conv.id)
    svc.conversations.delete(conv.id)
    return Response(status_code=204)
