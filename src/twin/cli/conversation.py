"""`twin conversation list|show|export|delete`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from twin.chat.conversations import ConversationStore
from twin.chat.personas import PersonaStore
from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, resolve_profile
from twin.profiles import write_text_atomic
from twin.store.db import connect

conversation_app = typer.Typer(help="Conversations held with personas.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(conversation_app, name="conversation")


def _stores(profile: str | None) -> tuple[PersonaStore, ConversationStore]:
    conn = connect(resolve_profile(profile))
    return PersonaStore(conn), ConversationStore(conn)


@conversation_app.command("list")
@handle_errors
def list_(
    persona: Annotated[str | None, typer.Option("--persona", help="Only this persona's conversations.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List conversations, newest first."""
    personas, convs = _stores(profile)
    pid = personas.get(persona).id if persona else None
    items = convs.list(pid, limit)
    if json_out:
        emit_json({"conversations": [c.to_dict() for c in items]})
        return
    table = Table("id", "persona", "messages", "updated", "title")
    for c in items:
        table.add_row(c.id, c.persona, str(c.messages), c.updated[:19], c.title[:40])
    console.print(table)


@conversation_app.command("show")
@handle_errors
def show(conversation_id: str, profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Show a conversation's turns."""
    _, convs = _stores(profile)
    data = convs.export(conversation_id)
    if json_out:
        emit_json(data)
        return
    console.print(f"[bold]{data['title'] or data['id']}[/bold] with {data['persona']}")
    for t in data["turns"]:
        mark = " [dim](interrupted)[/dim]" if t["interrupted"] else ""
        console.print(f"[cyan]{t['role']}[/cyan]: {t['text']}{mark}", highlight=False)


@conversation_app.command("export")
@handle_errors
def export(
    conversation_id: str,
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON file to write ('-' for standard output).")],
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a conversation as JSON."""
    _, convs = _stores(profile)
    data = convs.export(conversation_id)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if str(out) == "-":
        typer.echo(text)
        return
    write_text_atomic(out, text)
    if json_out:
        emit_json({"out": str(out), "turns": len(data["turns"])})
    else:
        console.print(f"Wrote {out}")


@conversation_app.command("delete")
@handle_errors
def delete(conversation_id: str, profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Delete a conversation and the raw chunks made from it (facts about you stay; forget them with twin memory)."""
    from twin.memory.service import MemoryService

    prof = resolve_profile(profile)
    conn = connect(prof)
    convs = ConversationStore(conn)
    conv = convs.get(conversation_id)
    memory = MemoryService(prof, conn)
    chunks = memory.forget_conversation(conv.id)
    convs.delete(conv.id)
    memory.close()
    if json_out:
        emit_json({"deleted": conv.id, "chunks_forgotten": chunks})
    else:
        console.print(f"Deleted conversation {conv.id}.")
