"""Where a character's persona meets the chat: the one place that hands a PersonaDraft to the persona
store. The persona is created from the Character Card V2 the media stage wrote (the same import
`twin persona create NAME --from-card FILE` does), named after the character, and refreshed when the
stage runs again. A persona of that name the user made themselves is never overwritten."""

from __future__ import annotations

import shlex
from contextlib import closing
from pathlib import Path
from typing import Any

from twin.chat.cards import card_to_fields, read_card
from twin.chat.personas import PersonaStore
from twin.media.persona import PersonaDraft
from twin.profiles import Profile
from twin.store.db import connect

MARKER = "twin_media"  # card extension that says which film project made the persona


def persona_name(draft: PersonaDraft) -> str:
    """The persona name for a character: lowercase letters, digits and '-' ('Ann Marie' → 'ann-marie')."""
    from twin.media.project import slug

    return slug(draft.name) or "character"


def publish_persona(profile: Profile, draft: PersonaDraft, card: Path) -> dict[str, Any]:
    """Create or refresh the character's persona; returns its name, whether it was created or updated,
    and the command that chats with it."""
    name = persona_name(draft)
    fields = card_to_fields(read_card(card))
    extensions = dict(fields.card.get("extensions") or {})
    extensions[MARKER] = {"project": draft.source.get("media_project"), "character": draft.name}
    fields = fields.model_copy(update={"card": {**fields.card, "extensions": extensions}})
    chat = f"twin chat --persona {shlex.quote(name)} --profile {profile.name}"
    with closing(connect(profile)) as conn:
        store = PersonaStore(conn)
        existing = store.find(name)
        if existing is None:
            store.create(name, fields)
            return {"persona": name, "created": True, "updated": False, "card": str(card), "chat": chat}
        if MARKER not in (existing.card.get("extensions") or {}):
            other = f"{name}-film"
            return {
                "persona": None,
                "created": False,
                "updated": False,
                "card": str(card),
                "reason": f"A persona named '{name}' already exists and was not made from a film; it was left as is.",
                "import": f"twin persona create {shlex.quote(other)} --from-card {shlex.quote(str(card))} "
                f"--profile {profile.name}",
            }
        store.update(name, fields.model_dump())
    return {"persona": name, "created": False, "updated": True, "card": str(card), "chat": chat}
