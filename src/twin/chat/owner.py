"""What the persona prompt says about the owner: their name (profile identity), and for the default
`twin` persona the writing system prompt training uses plus a few of the owner's own messages as style
exemplars (the writing service's exemplar search). Exemplars are picked without the request so the
system prefix stays the same from turn to turn (the engine's prefix cache then skips it)."""

from __future__ import annotations

import re
import sqlite3

from twin.chat.personas import Persona
from twin.models.activate import active_record
from twin.profiles import Profile
from twin.providers.llm import load_llm_config
from twin.style.card import style_line
from twin.style.prompt import render_system_prompt
from twin.writing.exemplars import find_exemplars
from twin.writing.style_source import style_source


def owner_name(profile: Profile) -> str:
    try:
        names = profile.identity.names
    except (OSError, ValueError):
        names = []
    return names[0].split()[0] if names and names[0].strip() else ""


def _fill(text: str, char: str, user: str) -> str:
    return re.sub(r"\{\{\s*user\s*\}\}", user, re.sub(r"\{\{\s*char\s*\}\}", char, text, flags=re.I), flags=re.I)


def writing_prompt(profile: Profile, owner: str, channel: str = "chat") -> str:
    """The system prompt the active writing model was trained with for `channel`, else the same template
    with the owner's measured style line (the one `twin write` sends)."""
    record = active_record(profile, load_llm_config(profile))
    if record is not None and record.system_prompts:
        prompts = record.system_prompts
        return prompts.get(channel) or prompts[record.main_channel or next(iter(prompts))]
    source = style_source(profile)
    return render_system_prompt(owner, style_line(source.card.channel(channel)), source.template)


def twin_block(profile: Profile, conn: sqlite3.Connection, persona: Persona, exemplars: int = 3) -> str:
    owner = owner_name(profile) or "the owner"
    parts = [writing_prompt(profile, owner)]
    parts.append(
        f"Right now you are chatting with {owner} as their twin: answer in {owner}'s voice, briefly and naturally, "
        "as one side of a conversation."
    )
    found = find_exemplars(conn, "", exemplars)
    if found:
        parts.append(f"Messages {owner} actually wrote (match this voice, not the content):")
        parts += ["---\n" + e.text[:400] for e in found] + ["---"]
    return "\n\n".join(parts + _rules(persona))


def _rules(persona: Persona) -> list[str]:
    out = []
    if persona.style_rules:
        out.append("Style:\n" + "\n".join(f"- {r}" for r in persona.style_rules))
    if persona.boundaries:
        out.append("Boundaries (always keep these):\n" + "\n".join(f"- {b}" for b in persona.boundaries))
    return out


def persona_block(profile: Profile, conn: sqlite3.Connection, persona: Persona) -> str:
    """The system text for a persona (the builtin twin gets the owner's writing prompt)."""
    if persona.builtin:
        return twin_block(profile, conn, persona)
    user = owner_name(profile) or "the user"
    label = persona.label()
    parts = [persona.card.get("system_prompt") or f"You are {label}. Stay in character and reply as {label}."]
    if persona.prompt:
        parts.append(persona.prompt)
    for key in ("personality", "scenario"):
        if persona.card.get(key):
            parts.append(f"{key.title()}: {persona.card[key]}")
    parts += _rules(persona)
    if persona.examples:
        parts.append("Example dialogues:\n" + "\n\n".join(persona.examples[:5]))
    return _fill("\n\n".join(parts), label, user)
