"""Personas of the caller's profile: list, create (fields or a Character Card V2 object), read, change,
delete, and export as a card."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import Field

from twin.api.deps import ProfileDep, StateDep
from twin.api.routers.chat import ERRORS, PERSONA_PATTERN, chat_service
from twin.api.schemas import NAME_PATTERN
from twin.chat.cards import CardV2, card_to_fields, parse_card_json, persona_to_card
from twin.chat.personas import Persona, PersonaFields, validate_fields

router = APIRouter(tags=["personas"], responses=ERRORS)


class PersonaCreate(PersonaFields):
    name: str = Field(..., pattern=NAME_PATTERN, description="Lowercase name: letters, digits, - and _.")
    card_v2: CardV2 | None = Field(None, description="A Character Card V2 to import (its fields first).")


@router.get("/api/personas", summary="List personas")
async def list_personas(state: StateDep, profile: ProfileDep) -> dict[str, list[Persona]]:
    return {"personas": chat_service(state, profile).personas.list()}


@router.post("/api/personas", status_code=201, response_model=Persona, summary="Create a persona")
async def create_persona(body: PersonaCreate, state: StateDep, profile: ProfileDep) -> Persona:
    fields: dict[str, Any] = {}
    if body.card_v2 is not None:
        raw = json.dumps(body.card_v2.model_dump(mode="json", exclude_unset=True)).encode()
        fields = card_to_fields(parse_card_json(raw)).model_dump()
    fields.update(body.model_dump(exclude_unset=True, exclude={"name", "card_v2"}))
    return chat_service(state, profile).personas.create(body.name, validate_fields(fields))


@router.get("/api/personas/{ref}", response_model=Persona, summary="One persona")
async def get_persona(
    ref: Annotated[str, Path(pattern=PERSONA_PATTERN)], state: StateDep, profile: ProfileDep
) -> Persona:
    return chat_service(state, profile).personas.get(ref)


@router.patch("/api/personas/{ref}", response_model=Persona, summary="Change a persona")
async def edit_persona(
    ref: Annotated[str, Path(pattern=PERSONA_PATTERN)], body: PersonaFields, state: StateDep, profile: ProfileDep
) -> Persona:
    return chat_service(state, profile).personas.update(ref, body.model_dump(exclude_unset=True))


@router.delete("/api/personas/{ref}", status_code=204, summary="Delete a persona, its conversations and own memories")
async def delete_persona(
    ref: Annotated[str, Path(pattern=PERSONA_PATTERN)], state: StateDep, profile: ProfileDep
) -> Response:
    svc = chat_service(state, profile)
    persona = svc.personas.get(ref)
    if persona.builtin:
        svc.personas.delete(ref)  # raises the clear error
    svc.memory.forget_all(persona.id)
    svc.personas.delete(ref)
    return Response(status_code=204)


@router.get("/api/personas/{ref}/card", summary="Export a persona as a Character Card V2 (JSON)")
async def export_card(
    ref: Annotated[str, Path(pattern=PERSONA_PATTERN)], state: StateDep, profile: ProfileDep
) -> dict[str, Any]:
    return persona_to_card(chat_service(state, profile).personas.get(ref))
