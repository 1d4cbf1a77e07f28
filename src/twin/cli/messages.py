"""`twin messages export|stats|imports|conversations|forget`."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, resolve_profile
from twin.errors import InvalidInput
from twin.ingest.forget import ForgetReport, forget
from twin.store.db import connect
from twin.store.messages import list_imports, write_jsonl
from twin.store.messages import stats as store_stats

messages_app = typer.Typer(help="Look at the normalized message store.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(messages_app, name="messages")


@messages_app.command("export")
@handle_errors
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write ('-' for standard output).")],
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write every message as one JSON object per line."""
    conn = connect(resolve_profile(profile))
    try:
        if str(out) == "-":
            write_jsonl(conn, sys.stdout)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                n = write_jsonl(conn, f)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        conn.close()
    if json_out:
        emit_json({"out": str(out), "messages": n})
    else:
        console.print(f"Wrote {n} message(s) to {out}")


@messages_app.command("stats")
@handle_errors
def stats(profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Summarize the store by source, sender and kind."""
    conn = connect(resolve_profile(profile))
    try:
        data = store_stats(conn)
    finally:
        conn.close()
    if json_out:
        emit_json(data)
        return
    console.print(
        f"{data['messages']} messages ({data['mine']} yours) in {data['conversations']} conversations, "
        f"{data['first'] or '-'} … {data['last'] or '-'}"
    )
    for key in ("by_source", "by_kind", "by_sender"):
        table = Table(key.replace("by_", ""), "messages")
        for k, v in data[key].items():
            table.add_row(k, str(v))
        console.print(table)
    if data["flags"]:
        console.print("flags: " + ", ".join(f"{k} {v}" for k, v in data["flags"].items()))


@messages_app.command("imports")
@handle_errors
def imports(profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """List the imports the store holds (the names and digests `forget --source` takes)."""
    conn = connect(resolve_profile(profile))
    try:
        records = list_imports(conn)
    finally:
        conn.close()
    if json_out:
        emit_json([asdict(r) for r in records])
        return
    table = Table("source", "digest", "format", "messages", "imported")
    for r in records:
        table.add_row(r.source, r.sha256[:12], r.format, str(r.messages), r.imported_at)
    console.print(table)


@messages_app.command("conversations")
@handle_errors
def conversations(profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """List the conversations (the ids `forget --conversation` takes) with their message counts."""
    conn = connect(resolve_profile(profile))
    try:
        rows = conn.execute(
            "SELECT conversation_id, count(*), min(timestamp), max(timestamp) FROM messages "
            "GROUP BY conversation_id ORDER BY conversation_id"
        ).fetchall()
    finally:
        conn.close()
    data = [{"conversation": r[0], "messages": r[1], "first": r[2], "last": r[3]} for r in rows]
    if json_out:
        emit_json(data)
        return
    table = Table("conversation", "messages", "first", "last")
    for d in data:
        table.add_row(d["conversation"], str(d["messages"]), d["first"] or "-", d["last"] or "-")
    console.print(table)


def _describe(report: ForgetReport) -> str:
    what = f"{report.messages} message(s)"
    if report.imports:
        what += f" and {len(report.imports)} import record(s) with their kept copies"
    kept = f"; {report.kept} message(s) stay because another import holds them too" if report.kept else ""
    return f"{report.target}: {what}{kept}"


@messages_app.command("forget")
@handle_errors
def forget_command(
    source: Annotated[
        str | None, typer.Option("--source", help="Import to undo: the name given to twin ingest, or its digest.")
    ] = None,
    conversation: Annotated[
        str | None, typer.Option("--conversation", help="Conversation to delete, e.g. whatsapp:Priya.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Undo an import or delete a conversation: its messages, their search entries, the import record and
    the copy kept in exports/. Messages another import also holds are kept."""
    p = resolve_profile(profile)
    if not yes:
        preview = forget(p, source=source, conversation=conversation, dry_run=True)
        if json_out or not sys.stdin.isatty():
            raise InvalidInput(f"Not confirmed: would forget {_describe(preview)}.", "Pass --yes to forget it.")
        if not typer.confirm(f"Forget {_describe(preview)}?"):
            raise InvalidInput("Nothing was forgotten.", "Pass --yes to forget without asking.")
    report = forget(p, source=source, conversation=conversation)
    if json_out:
        emit_json(report.to_dict())
    else:
        console.print(f"Forgot {_describe(report)}.")
