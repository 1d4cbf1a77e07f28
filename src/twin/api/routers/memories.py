"""The memory inspector's API: list and search, show with provenance, edit, forget (one or all),
export and import (JSONL)."""

from __future__ import annotations

import asyncio
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from twin.api.deps import ProfileDep, StateDep
from twin.api.routers.chat import ERRORS, PERSONA_PATTERN, UUID_PATTERN, chat_service
from twin.errors import InvalidInput, NotFound, TooLarge
from twin.memory.filters import redact_secrets

router = APIRouter(tags=["memories"], responses=ERRORS)
MAX_IMPORT_BYTES = 20 * 1024**2


class MemoryEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., min_length=1, max_length=2000)


class ForgetAll(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all: Literal[True] = Field(..., description="Must be true: forgetting everything is never implied.")
    persona: str | None = Field(None, description="Only this persona's own memories.")


def _not_found(memory_id: str) -> NotFound:
    return NotFound(f"No memory '{memory_id}' in this profile.", "List memories with GET /api/memories.")


@router.get("/api/memories", summary="List or search memories")
async def list_memories(
    state: StateDep,
    profile: ProfileDep,
    q: str | None = Query(None, max_length=500),
    persona: str | None = Query(None, pattern=PERSONA_PATTERN),
    kind: str | None = Query(None, pattern="^(fact|chunk)$"),
    scope: str = Query("all", pattern="^(user|persona|all)$"),
    include_superseded: bool = False,
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    svc = chat_service(state, profile)
    pid = svc.personas.get(persona).id if persona else None
    if q and q.strip():
        # budgeted like a chat turn: while the embedding model is still loading, words alone (BM25) answer
        found = await svc.memory.recall(q, pid, k=limit, include_superseded=include_superseded, budget_s=3.0, kind=kind)
        items = found.items
    else:
        items = svc.memory.store.query(
            persona_id=pid, scope=scope, kind=kind, include_superseded=include_superseded, limit=limit
        )
    return {"items": [i.to_dict() for i in items]}


_JSONL: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}, "description": "One memory per line."}
}


@router.get("/api/memories/export", response_class=Response, responses=_JSONL, summary="Every memory as JSONL")
async def export_memories(state: StateDep, profile: ProfileDep) -> Response:
    buf = io.StringIO()
    chat_service(state, profile).memory.export_jsonl(buf)
    return Response(buf.getvalue(), media_type="application/x-ndjson")


@router.post(
    "/api/memories/import",
    summary="Import memories from JSONL (an export)",
    openapi_extra={"requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def import_memories(request: Request, state: StateDep, profile: ProfileDep) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_IMPORT_BYTES:
        raise TooLarge("The import is too large.", "Split it into files under 20 MiB.")
    svc = chat_service(state, profile)
    personas = {p.name: p for p in svc.personas.list()}
    lines = raw.decode("utf-8", "replace").splitlines()
    return await asyncio.to_thread(svc.memory.import_jsonl, lines, personas)


@router.post("/api/memories/forget", summary="Forget every memory (of one persona, or of the profile)")
async def forget_all(body: ForgetAll, state: StateDep, profile: ProfileDep) -> dict[str, int]:
    svc = chat_service(state, profile)
    pid = svc.personas.get(body.persona).id if body.persona else None
    return {"forgotten": await asyncio.to_thread(svc.memory.forget_all, pid)}


@router.get("/api/memories/{memory_id}", summary="One memory with its provenance")
async def get_memory(
    memory_id: Annotated[str, Path(pattern=UUID_PATTERN)], state: StateDep, profile: ProfileDep
) -> dict[str, Any]:
    svc = chat_service(state, profile)
    try:
        item = svc.memory.store.get(memory_id)
    except InvalidInput:
        raise _not_found(memory_id) from None
    sources = []
    for mid in item.source_message_ids:
        turn = svc.conversations.turn(mid)
        sources.append(
            {
                "id": mid,
                "role": turn.role,
                "text": turn.text,
                "created": turn.created,
                "conversation_id": turn.conversation_id,
            }
            if turn
            else {"id": mid, "deleted": True}
        )
    history = [
        h.to_dict() for h in svc.memory.store.query(include_superseded=True, limit=10_000) if h.superseded_by == item.id
    ]
    newer = svc.memory.store.find(item.superseded_by) if item.superseded_by else None
    return {
        **item.detail(),
        "sources": sources,
        "replaces": history,
        "superseded_by_item": newer.to_dict() if newer else None,
    }


@router.patch("/api/memories/{memory_id}", summary="Correct a memory's text")
async def edit_memory(
    memory_id: Annotated[str, Path(pattern=UUID_PATTERN)], body: MemoryEdit, state: StateDep, profile: ProfileDep
) -> dict[str, Any]:
    svc = chat_service(state, profile)
    try:
        svc.memory.store.get(memory_id)
    except InvalidInput:
        raise _not_found(memory_id) from None
    item = await asyncio.to_thread(svc.memory.store.edit, memory_id, redact_secrets(body.text.strip()).text)
    return item.detail()


@router.delete("/api/memories/{memory_id}", status_code=204, summary="Forget one memory for good")
async def delete_memory(
    memory_id: Annotated[str, Path(pattern=UUID_PATTERN)], state: StateDep, profile: ProfileDep
) -> Response:
    svc = chat_service(state, profile)
    try:
        await asyncio.to_thread(svc.memory.forget, memory_id)
    except InvalidInput:
        raise _not_found(memory_id) from None
    return Response(status_code=204)
