"""`twin persona create|list|show|edit|delete|export`: personas of a profile, and Character Card V2
import (--from-card, .json or .png) and export (card-json or card-png)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from twin.chat.cards import card_png, card_to_fields, persona_to_card, read_card
from twin.chat.personas import PersonaStore, validate_fields
from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, resolve_profile
from twin.errors import InvalidInput, NotFound, TooLarge
from twin.profiles import write_text_atomic
from twin.store.db import connect

persona_app = typer.Typer(help="Personas you can chat with (the default `twin` always exists).", no_args_is_help=True)
MAX_PROMPT_FILE = 64 * 1024


def register(root: typer.Typer) -> None:
    root.add_typer(persona_app, name="persona")


def _store(profile: str | None) -> PersonaStore:
    return PersonaStore(connect(resolve_profile(profile)))


def _prompt(path: Path | None) -> str | None:
    if path is None:
        return None
    if not path.is_file():
        raise NotFound(f"Prompt file {path} does not exist.", "Pass a text file with the persona prompt.")
    if path.stat().st_size > MAX_PROMPT_FILE:
        raise TooLarge(f"{path} is larger than 64 KiB.", "Shorten the persona prompt.")
    return path.read_text(encoding="utf-8", errors="replace")


@persona_app.command("create")
@handle_errors
def create(
    name: Annotated[str, typer.Argument(help="Persona name: lowercase letters, digits, - and _.")],
    description: Annotated[str | None, typer.Option("--description", help="A line about the persona.")] = None,
    prompt_file: Annotated[
        Path | None, typer.Option("--prompt-file", help="Text file with the persona prompt.")
    ] = None,
    voice: Annotated[str | None, typer.Option("--voice", help="Voice id used when it speaks.")] = None,
    from_card: Annotated[Path | None, typer.Option("--from-card", help="Character Card V2 (.json or .png).")] = None,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a persona, from flags or from a SillyTavern character card."""
    store = _store(profile)
    base: dict[str, Any] = {}
    if from_card is not None:
        if not from_card.is_file():
            raise NotFound(f"Card file {from_card} does not exist.", "Give the path of a .json or .png card.")
        base = card_to_fields(read_card(from_card)).model_dump()
    for key, value in (("description", description), ("prompt", _prompt(prompt_file)), ("voice_id", voice)):
        if value is not None:
            base[key] = value
    persona = store.create(name, validate_fields(base))
    if json_out:
        emit_json(persona.model_dump())
    else:
        console.print(f"Created persona [bold]{persona.name}[/bold] ({persona.label()}).")


@persona_app.command("list")
@handle_errors
def list_(profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """List personas."""
    personas = _store(profile).list()
    if json_out:
        emit_json({"personas": [p.model_dump() for p in personas]})
        return
    table = Table("name", "shown as", "memory", "description")
    for p in personas:
        table.add_row(p.name, p.label(), p.memory_policy, p.description[:60])
    console.print(table)


@persona_app.command("show")
@handle_errors
def show(name: str, profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Show one persona."""
    p = _store(profile).get(name)
    if json_out:
        emit_json(p.model_dump())
        return
    console.print(f"[bold]{p.name}[/bold] — {p.label()}  (memory: {p.memory_policy}, voice: {p.voice_id or 'default'})")
    for key in ("description", "prompt", "greeting"):
        if getattr(p, key):
            console.print(f"[cyan]{key}[/cyan]: {getattr(p, key)}")
    for key in ("style_rules", "boundaries"):
        for item in getattr(p, key):
            console.print(f"[cyan]{key[:-1]}[/cyan]: {item}")


@persona_app.command("edit")
@handle_errors
def edit(
    name: str,
    display_name: Annotated[str | None, typer.Option("--display-name", help="Name shown and used in prompts.")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    prompt_file: Annotated[Path | None, typer.Option("--prompt-file")] = None,
    greeting: Annotated[str | None, typer.Option("--greeting")] = None,
    voice: Annotated[str | None, typer.Option("--voice")] = None,
    memory_policy: Annotated[str | None, typer.Option("--memory-policy", help="off, strict or permissive.")] = None,
    style_rule: Annotated[list[str] | None, typer.Option("--style-rule", help="Replace style rules (repeat).")] = None,
    boundary: Annotated[list[str] | None, typer.Option("--boundary", help="Replace boundaries (repeat).")] = None,
    allow: Annotated[list[str] | None, typer.Option("--allow", help="Let memory store health / finance.")] = None,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Change fields of a persona."""
    store = _store(profile)
    changes: dict[str, Any] = {}
    for key, value in (
        ("display_name", display_name), ("description", description), ("prompt", _prompt(prompt_file)),
        ("greeting", greeting), ("voice_id", voice), ("memory_policy", memory_policy),
        ("style_rules", style_rule), ("boundaries", boundary),
    ):  # fmt: skip
        if value is not None:
            changes[key] = value
    if allow:
        current = store.get(name).do_not_store
        changes["do_not_store"] = [c for c in current if c not in allow]
    if not changes:
        raise InvalidInput("Nothing to change.", "Pass at least one option, e.g. --greeting 'Hi!'.")
    persona = store.update(name, changes)
    if json_out:
        emit_json(persona.model_dump())
    else:
        console.print(f"Updated persona [bold]{persona.name}[/bold].")


@persona_app.command("delete")
@handle_errors
def delete(name: str, profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Delete a persona with its conversations and its own memories (the user's facts stay)."""
    from twin.memory.service import MemoryService

    prof = resolve_profile(profile)
    conn = connect(prof)
    store = PersonaStore(conn)
    persona = store.get(name)
    if persona.builtin:
        store.delete(name)  # raises the clear error
    memory = MemoryService(prof, conn)
    forgotten = memory.forget_all(persona.id)
    store.delete(name)
    memory.close()
    if json_out:
        emit_json({"deleted": persona.name, "memories_forgotten": forgotten})
    else:
        console.print(f"Deleted persona {persona.name} and {forgotten} of its memories.")


@persona_app.command("export")
@handle_errors
def export(
    name: str,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="card-json or card-png.")] = "card-json",
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a Character Card V2 other tools (SillyTavern) can import."""
    card = persona_to_card(_store(profile).get(name))
    if fmt == "card-json":
        write_text_atomic(out, json.dumps(card, ensure_ascii=False, indent=2))
    elif fmt == "card-png":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(card_png(card))
    else:
        raise InvalidInput(f"Unknown format '{fmt}'.", "Use --format card-json or --format card-png.")
    if json_out:
        emit_json({"out": str(out), "format": fmt})
    else:
        console.print(f"Wrote {out}")
