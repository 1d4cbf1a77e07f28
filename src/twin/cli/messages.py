"""`twin messages export|stats`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, resolve_profile
from twin.store.db import connect
from twin.store.messages import stats as store_stats
from twin.store.messages import write_jsonl

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
