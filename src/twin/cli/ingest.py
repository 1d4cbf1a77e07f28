"""`twin ingest PATH... --profile P [--me ALIAS ...] [--json] [--strict]`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from twin.cli.common import (
    JsonOpt,
    ProfileOpt,
    console,
    emit_json,
    err_console,
    handle_errors,
    is_tty,
    resolve_profile,
    settings,
)
from twin.ingest.detect import ExportUnit
from twin.ingest.service import IngestReport, ingest_paths


def register(root: typer.Typer) -> None:
    root.command("ingest")(ingest)


def _progress_hook(progress: Progress) -> Callable[[ExportUnit], Callable[[int], None]]:
    def on_unit(unit: ExportUnit) -> Callable[[int], None]:
        task = progress.add_task(Path(unit.path).name[-60:], total=None)
        return lambda n: progress.advance(task, n)

    return on_unit


def _print_report(report: IngestReport) -> None:
    table = Table("file", "format", "messages", "new", "yours", "skipped", "status")
    table.columns[0].overflow = "fold"
    for f in report.files:
        skipped = ", ".join(f"{k}: {v}" for k, v in sorted(f.skipped.items())) or "-"
        status = "[green]ok[/green]" if f.error is None else "[red]failed[/red]"
        table.add_row(f.path, f.format, str(f.messages), str(f.new), str(f.mine), skipped, status)
    console.print(table)
    for f in report.files:
        if f.merged_into:
            console.print(
                f"{Path(f.path).name}: recognised as the chat already imported as {', '.join(f.merged_into)}; "
                "only its new messages were added.",
                highlight=False,
            )
    for f in report.failed:
        err_console.print(f"[bold red]error:[/bold red] {escape(f.error or '')}", highlight=False, soft_wrap=True)
        if f.hint:
            err_console.print(f"  [yellow]hint:[/yellow] {escape(f.hint)}", highlight=False, soft_wrap=True)
    console.print(f"{report.messages} message(s), {report.mine} of them yours.")
    if report.identity_basis and report.identity_basis not in ("stored", "given with --me"):
        ident = report.identity or {}
        who = ", ".join(ident.get("names", []) + ident.get("addresses", []) + ident.get("phones", []))
        console.print(
            f"You are [bold]{who}[/bold] (inferred: {report.identity_basis}). "
            "Change it with: twin profile set-me NAME_OR_ADDRESS..."
        )
    elif report.identity is None and report.messages:
        err_console.print(
            "[yellow]Could not tell which sender is you.[/yellow] "
            'Tell twin with: twin profile set-me "Your Name" you@example.com'
        )


@handle_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Export files, folders or archives to import.")],
    profile: ProfileOpt = None,
    me: Annotated[
        list[str] | None, typer.Option("--me", help="Your name, email address or phone number (repeatable).")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit non-zero if any file fails.")] = False,
    create: Annotated[
        bool, typer.Option("--create", help="Create the profile if it does not exist (otherwise twin asks).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Import WhatsApp, email and subtitle exports into a profile's message store."""
    p = resolve_profile(profile, create=create, ask=True)
    show_progress = is_tty() and not json_out
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    with progress if show_progress else nullcontext():
        report = ingest_paths(
            p, paths, settings(), aliases=me or [], on_unit=_progress_hook(progress) if show_progress else None
        )
    if json_out:
        emit_json(report.to_dict())
    else:
        _print_report(report)
    if not report.readable or (strict and report.failed):
        raise typer.Exit(1)
