"""Personas of the caller's profile: list, create (fields or a Character Card V2 object), read, change,
delete, and export as a card."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from twin.api.deps import ProfileDep, StateDep
from twin.api.routers.chat import chat_service
from twin.chat.cards import card_to_fields, parse_card_json, persona_to_card
from twin.chat.personas import Persona, validate_fields

router = APIRouter(tags=["personas"])


class PersonaCreate(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(..., max_length=63, description="Lowercase name: letters, digits, - and _.")
    card: dict[str, Any] | None = Field(None, description="A Character Card V2 to import.")


@router.get("/api/personas", summary="List personas")
async def list_personas(state: StateDep, profile: ProfileDep) -> dict[str, list[Persona]]:
    return {"personas": chat_service(state, profile).personas.list()}


@router.post("/api/personas", status_code=201, response_model=Persona, summary="Create a persona")
async def create_persona(body: PersonaCreate, state: StateDep, profile: ProfileDep) -> Persona:
    fields: dict[str, Any] = {}
    if body.card is not None:
        fields = card_to_fields(parse_card_json(json.dumps(body.card).encode())).model_dump()
    fields.update(body.model_extra or {})
    return chat_service(state, profile).personas.create(body.name, validate_fields(fields))


@router.get("/api/personas/{ref}", response_model=Persona, summary="One persona")
async def get_persona(ref: str, state: StateDep, profile: ProfileDep) -> Persona:
    return chat_service(state, profile).personas.get(ref)


@router.patch("/api/personas/{ref}", response_model=Persona, summary="Change a persona")
async def edit_persona(ref: str, body: dict[str, Any], state: StateDep, profile: ProfileDep) -> Persona:
    return chat_service(state, profile).personas.update(ref, body)


@router.delete("/api/personas/{ref}", status_code=204, summary="Delete a persona, its conversations and own memories")
async def delete_persona(ref: str, state: StateDep, profile: ProfileDep) -> Response:
    svc = chat_service(state, profile)
    persona = svc.personas.get(ref)
    if persona.builtin:
        svc.personas.delete(ref)  # raises the clear error
    svc.memory.forget_all(persona.id)
    svc.personas.delete(ref)
    return Response(status_code=204)


@router.get("/api/personas/{ref}/card", summary="Export a persona as a Character Card V2 (JSON)")
async def export_card(ref: str, state: StateDep, profile: ProfileDep) -> dict[str, Any]:
    return persona_to_card(chat_service(state, profile).personas.get(ref))
