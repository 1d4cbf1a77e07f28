"""`twin memory list|search|show|edit|forget|export|import`: see, correct and delete what the twin
remembers. --json for list/search prints {"items": [...]} with provenance fields."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from twin.chat.conversations import ConversationStore
from twin.chat.personas import PersonaStore
from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, resolve_profile
from twin.errors import InvalidInput, NotFound, TooLarge
from twin.memory.models import MemoryItem
from twin.memory.service import MemoryService
from twin.store.db import connect

memory_app = typer.Typer(help="What your twin remembers: inspect, search, edit and forget.", no_args_is_help=True)
PersonaOpt = Annotated[str | None, typer.Option("--persona", help="Persona name (its memories plus yours).")]
MAX_IMPORT_BYTES = 200 * 1024**2


def register(root: typer.Typer) -> None:
    root.add_typer(memory_app, name="memory")


class _Ctx:
    def __init__(self, profile: str | None) -> None:
        self.profile = resolve_profile(profile)
        self.conn = connect(self.profile)
        self.personas = PersonaStore(self.conn)
        self.memory = MemoryService(self.profile, self.conn)

    def persona_id(self, name: str | None) -> str | None:
        return self.personas.get(name).id if name else None

    def close(self) -> None:
        self.memory.close()
        self.conn.close()


def _table(items: list[MemoryItem]) -> None:
    table = Table("id", "kind", "scope", "status", "text")
    for i in items:
        table.add_row(i.id, i.kind, i.scope + (f":{i.persona}" if i.persona else ""), i.status, i.text[:90])
    console.print(table)


@memory_app.command("list")
@handle_errors
def list_(
    persona: PersonaOpt = None,
    scope: Annotated[str, typer.Option("--scope", help="user, persona or all.")] = "all",
    kind: Annotated[str | None, typer.Option("--kind", help="fact or chunk.")] = None,
    include_superseded: Annotated[bool, typer.Option("--include-superseded")] = False,
    limit: Annotated[int, typer.Option("--limit")] = 200,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List memories, newest first."""
    if scope not in ("user", "persona", "all") or kind not in (None, "fact", "chunk"):
        raise InvalidInput("Unknown --scope or --kind.", "Use --scope user|persona|all and --kind fact|chunk.")
    ctx = _Ctx(profile)
    items = ctx.memory.store.query(
        persona_id=ctx.persona_id(persona), scope=scope, kind=kind, include_superseded=include_superseded, limit=limit
    )
    ctx.close()
    if json_out:
        emit_json({"items": [i.to_dict() for i in items]})
    else:
        _table(items)


@memory_app.command("search")
@handle_errors
def search(
    query: str,
    persona: PersonaOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-k")] = 10,
    include_superseded: Annotated[bool, typer.Option("--include-superseded")] = False,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Hybrid search (meaning and words) over memories."""
    if not query.strip():
        raise InvalidInput("The search query is empty.", 'Try: twin memory search "where do I work"')
    ctx = _Ctx(profile)
    items = ctx.memory.search_sync(query, ctx.persona_id(persona), limit, include_superseded)
    ctx.close()
    if json_out:
        emit_json({"items": [i.to_dict() for i in items]})
    else:
        _table(items)


@memory_app.command("show")
@handle_errors
def show(memory_id: str, profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """One memory with its provenance: why it was stored and the turns it came from."""
    ctx = _Ctx(profile)
    item = ctx.memory.store.get(memory_id)
    convs = ConversationStore(ctx.conn)
    sources = []
    for mid in item.source_message_ids:
        turn = convs.turn(mid)
        sources.append(
            {"id": mid, "role": turn.role, "text": turn.text, "created": turn.created}
            if turn
            else {"id": mid, "deleted": True}
        )
    history = [ctx.memory.store.get(item.superseded_by).to_dict()] if item.superseded_by else []
    ctx.close()
    data = {**item.detail(), "sources": sources, "superseded_by_item": history[0] if history else None}
    if json_out:
        emit_json(data)
        return
    console.print(
        f"[bold]{item.text}[/bold]\n{item.kind} · {item.scope} · {item.status} · importance {item.importance:.2f}"
    )
    console.print(f"why: {item.reason} (by {item.extractor}, mentioned {item.mentions}x)")
    for s in sources:
        console.print(f"  from: {s.get('text', '(turn deleted)')}", highlight=False)
    if history:
        console.print(f"  replaced by: {history[0]['text']}")


@memory_app.command("edit")
@handle_errors
def edit(
    memory_id: str,
    text: Annotated[str, typer.Option("--text", help="The corrected memory.")],
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Correct a memory's text."""
    if not text.strip() or len(text) > 2000:
        raise InvalidInput("A memory's text must be 1-2000 characters.", "Pass the corrected text with --text.")
    from twin.memory.filters import redact_secrets

    ctx = _Ctx(profile)
    item = ctx.memory.store.edit(memory_id, redact_secrets(text.strip()).text)
    ctx.close()
    emit_json(item.detail()) if json_out else console.print(f"Updated {item.id}.")


@memory_app.command("forget")
@handle_errors
def forget(
    memory_id: Annotated[str | None, typer.Argument(help="The memory to delete.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Delete every memory (of --persona, or of the profile).")] = False,
    persona: PersonaOpt = None,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Delete memories for good (row, vector and search index)."""
    ctx = _Ctx(profile)
    if bool(memory_id) == all_:
        ctx.close()
        raise InvalidInput(
            "Give a memory id or --all (not both).", "twin memory forget ID  or  twin memory forget --all"
        )
    if all_:
        n = ctx.memory.forget_all(ctx.persona_id(persona))
    else:
        assert memory_id is not None
        ctx.memory.forget(memory_id)
        n = 1
    ctx.close()
    emit_json({"forgotten": n}) if json_out else console.print(f"Forgot {n} memor{'y' if n == 1 else 'ies'}.")


@memory_app.command("export")
@handle_errors
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file ('-' for standard output).")],
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write every memory as one JSON object per line."""
    ctx = _Ctx(profile)
    if str(out) == "-":
        ctx.memory.export_jsonl(sys.stdout)
        ctx.close()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            n = ctx.memory.export_jsonl(f)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
        ctx.close()
    emit_json({"out": str(out), "memories": n}) if json_out else console.print(f"Wrote {n} memories to {out}")


@memory_app.command("import")
@handle_errors
def import_(
    path: Annotated[Path, typer.Argument(help="A JSONL file written by twin memory export.")],
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Read memories back from an export (existing ids are skipped; bad lines are reported)."""
    resolve_profile(profile)  # a typo in the profile name is reported before anything about the file
    if not path.is_file():
        raise NotFound(f"{path} does not exist.", "Pass a file written by twin memory export.")
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise TooLarge(f"{path} is larger than 200 MiB.", "Split the file.")
    ctx = _Ctx(profile)
    personas = {p.name: p for p in ctx.personas.list()}
    with path.open(encoding="utf-8", errors="replace") as f:
        report = ctx.memory.import_jsonl(f, personas)
    ctx.close()
    if json_out:
        emit_json(report)
    else:
        console.print(f"Imported {report['added']}, skipped {report['skipped']}, {report['error_count']} bad line(s).")
