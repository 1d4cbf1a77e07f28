"""Personas: who the model plays. A persona is data (prompt, style rules, boundaries, greeting, example
dialogues, voice, LLM choice, memory policy) stored in the profile's SQLite. The default persona `twin`
(the owner's twin) always exists and cannot be deleted; its prompt is built from the owner's writing
style at chat time (see chat/owner.py)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from twin.errors import AlreadyExists, InvalidInput, NotFound
from twin.ids import check_name, new_id

DEFAULT_PERSONA = "twin"
MemoryPolicy = Literal["off", "strict", "permissive"]
Category = Literal["health", "finance"]
MAX_TEXT = 16_000
MAX_LIST_ITEMS = 50
Item = Annotated[str, Field(max_length=4000)]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PersonaLLM(BaseModel):
    """Which model this persona uses; empty fields fall back to the profile's llm.json."""

    model_config = ConfigDict(extra="forbid")

    backend: str | None = Field(None, max_length=40, description="llamacpp, ollama, openai or fake.")
    model: str | None = Field(None, max_length=500, description="GGUF path or model name.")
    adapter: str | None = Field(None, max_length=500, description="GGUF LoRA adapter (llamacpp).")


class PersonaFields(BaseModel):
    """The editable part of a persona (create and edit both validate through this)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: str = Field("", max_length=100, description="Name shown and used in the prompt.")
    description: str = Field("", max_length=4000, description="A line or two for people; never in the prompt.")
    prompt: str = Field("", max_length=MAX_TEXT, description="Who the persona is and how it behaves.")
    style_rules: list[Item] = Field(default_factory=list, max_length=MAX_LIST_ITEMS, description="How it writes.")
    boundaries: list[Item] = Field(default_factory=list, max_length=MAX_LIST_ITEMS, description="What it won't do.")
    greeting: str = Field("", max_length=4000, description="First message of a new conversation.")
    examples: list[Item] = Field(default_factory=list, max_length=20, description="Example dialogues.")
    voice_id: str | None = Field(
        None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Voice id for speech (empty: the default voice)."
    )
    llm: PersonaLLM | None = Field(None, description="Model choice; empty uses the profile's llm.json.")
    memory_policy: MemoryPolicy = Field(
        "strict", description="off: remember nothing; strict: facts only from explicit statements; permissive: more."
    )
    do_not_store: list[Category] = Field(
        default_factory=lambda: list[Category](["health", "finance"]), description="Categories never written to memory."
    )
    card: dict[str, Any] = Field(default_factory=dict, description="Character card fields kept for export.")

    @field_validator("style_rules", "boundaries", "examples")
    @classmethod
    def _items(cls, items: list[str]) -> list[str]:
        out = [i.strip() for i in items if i and i.strip()]
        if any(len(i) > 4000 for i in out):
            raise ValueError("each item must be at most 4000 characters")
        return out

    @field_validator("voice_id")
    @classmethod
    def _voice(cls, value: str | None) -> str | None:
        return check_name(value, "voice id") if value else None

    @field_validator("card")
    @classmethod
    def _card(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value)) > 1_000_000:
            raise ValueError("card data must be under 1 MB")
        return value


class Persona(PersonaFields):
    id: str
    name: str
    builtin: bool = False
    created: str = ""
    updated: str = ""

    def label(self) -> str:
        return self.display_name or self.name


_JSON = ("style_rules", "boundaries", "examples", "do_not_store", "card")
_COLUMNS: tuple[str, ...] = ("id", "name", "display_name", "description", "prompt", *_JSON[:3], "greeting")
_COLUMNS += ("voice_id", "llm", "memory_policy", "do_not_store", "card", "builtin", "created", "updated")


def validate_fields(data: dict[str, Any]) -> PersonaFields:
    try:
        return PersonaFields.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "persona"
        raise InvalidInput(f"Invalid persona: {where}: {first['msg']}.", "Check the field and try again.") from None


def _row(row: sqlite3.Row) -> Persona:
    data = dict(row)
    for key in _JSON:
        data[key] = json.loads(data[key])
    data["llm"] = json.loads(data["llm"]) if data["llm"] else None
    data["builtin"] = bool(data["builtin"])
    return Persona.model_validate(data)


class PersonaStore:
    """CRUD over the personas table of one profile's database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.ensure_default()

    def ensure_default(self) -> Persona:
        row = self.conn.execute("SELECT * FROM personas WHERE name = ?", (DEFAULT_PERSONA,)).fetchone()
        if row is not None:
            return _row(row)
        fields = PersonaFields(
            display_name="",
            description="Your twin: writes and talks the way you do, and remembers what you tell it.",
        )
        return self._insert(DEFAULT_PERSONA, fields, builtin=True)

    def _insert(self, name: str, fields: PersonaFields, builtin: bool = False) -> Persona:
        stamp = now()
        persona = Persona(id=new_id(), name=name, builtin=builtin, created=stamp, updated=stamp, **fields.model_dump())
        values = self._values(persona)
        with self.conn:
            self.conn.execute(
                f"INSERT INTO personas ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", values
            )
        return persona

    @staticmethod
    def _values(p: Persona) -> list[Any]:
        data = p.model_dump()
        out = []
        for col in _COLUMNS:
            value = data[col]
            if col in _JSON or (col == "llm" and value is not None):
                value = json.dumps(value, ensure_ascii=False)
            out.append(int(value) if col == "builtin" else value)
        return out

    def create(self, name: str, fields: PersonaFields) -> Persona:
        check_name(name, "persona name")
        if self.find(name) is not None:
            raise AlreadyExists(f"Persona '{name}' already exists.", "Pick another name or edit the existing one.")
        return self._insert(name, fields)

    def find(self, ref: str) -> Persona | None:
        """By name or id, else by name or display name in any case ("Ann" finds the persona `ann` shown as
        Ann) when exactly one matches; None when this profile has no such persona."""
        row = self.conn.execute("SELECT * FROM personas WHERE name = ? OR id = ?", (ref, ref)).fetchone()
        if row is None:
            rows = self.conn.execute(
                "SELECT * FROM personas WHERE lower(name) = lower(?) OR lower(display_name) = lower(?) LIMIT 2",
                (ref, ref),
            ).fetchall()
            row = rows[0] if len(rows) == 1 else None
        return _row(row) if row is not None else None

    def get(self, ref: str | None) -> Persona:
        persona = self.find(ref or DEFAULT_PERSONA)
        if persona is None:
            raise NotFound(f"No persona '{ref}' in this profile.", "List personas with: twin persona list")
        return persona

    def list(self) -> list[Persona]:
        rows = self.conn.execute("SELECT * FROM personas ORDER BY builtin DESC, name").fetchall()
        return [_row(r) for r in rows]

    def update(self, ref: str, changes: dict[str, Any]) -> Persona:
        current = self.get(ref)
        unknown = set(changes) - set(PersonaFields.model_fields)
        if unknown:
            raise InvalidInput(
                f"Unknown persona field(s): {', '.join(sorted(unknown))}.", "See `twin persona edit --help`."
            )
        merged = validate_fields({**current.model_dump(include=set(PersonaFields.model_fields)), **changes})
        updated = Persona(
            id=current.id,
            name=current.name,
            builtin=current.builtin,
            created=current.created,
            updated=now(),
            **merged.model_dump(),
        )
        sets = ", ".join(f"{c} = ?" for c in _COLUMNS[1:])
        with self.conn:
            self.conn.execute(f"UPDATE personas SET {sets} WHERE id = ?", [*self._values(updated)[1:], current.id])
        return updated

    def delete(self, ref: str) -> Persona:
        persona = self.get(ref)
        if persona.builtin:
            raise InvalidInput(
                f"The default persona '{persona.name}' cannot be deleted.",
                "Edit it instead, or forget its memories with: twin memory forget --all --persona twin",
            )
        with self.conn:
            self.conn.execute("DELETE FROM personas WHERE id = ?", (persona.id,))
        return persona
