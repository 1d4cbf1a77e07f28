"""Where a character's persona meets the chat: the one place that hands a PersonaDraft to the persona
store. Until the chat's persona store is part of twin, the persona travels as its Character Card V2
file, which `twin persona create NAME --from-card FILE` imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twin.media.persona import PersonaDraft
from twin.profiles import Profile


def publish_persona(profile: Profile, draft: PersonaDraft, card: Path) -> dict[str, Any]:
    """Make the persona available to `twin chat --persona NAME`; returns how (created or the import command)."""
    return {
        "created": False,
        "card": str(card),
        "import": f"twin persona create {_quote(draft.name)} --from-card {_quote(str(card))} --profile {profile.name}",
        "chat": f"twin chat --persona {_quote(draft.name)} --profile {profile.name}",
    }


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
