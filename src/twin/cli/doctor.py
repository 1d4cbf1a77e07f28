"""`twin doctor [--json] [--strict]`: one screen saying whether the install is healthy and private."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, console, emit_json, err_console, handle_errors, is_tty
from twin.cli.common import settings as load

_STYLE = {"ok": "[green]ok[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[bold red]FAIL[/bold red]"}


def register(root: typer.Typer) -> None:
    root.command("doctor")(doctor)


@handle_errors
def doctor(
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any check fails.")] = False,
    egress: Annotated[
        bool, typer.Option("--egress/--no-egress", help="Run the egress self-check (a sample draft and synthesis).")
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Check bind addresses, keys, permissions, disk encryption and space, engines, models, databases and
    egress; every finding says how to fix it."""
    from twin.ops.doctor import CHECKS
    from twin.ops.doctor_runtime import check_egress, check_engines

    settings = load()
    checks = [*CHECKS, check_engines]
    if egress:
        checks.append(check_egress)
    results = []
    for check in checks:
        if is_tty() and not json_out and check is check_egress:
            err_console.print("[dim]egress self-check: running a sample draft and synthesis under strace…[/dim]")
        results.extend(check(settings))
    if json_out:
        emit_json({"checks": [r.to_dict() for r in results]})
    else:
        table = Table("check", "status", "detail", "fix")
        for r in results:
            table.add_row(r.name, _STYLE[r.status], r.detail, r.fix)
        console.print(table)
        counts = {s: sum(r.status == s for r in results) for s in ("ok", "warn", "fail")}
        console.print(f"{counts['ok']} ok, {counts['warn']} warning(s), {counts['fail']} failed")
    if strict and any(r.status == "fail" for r in results):
        raise typer.Exit(1)
