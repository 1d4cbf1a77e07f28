"""Shared pieces of the CLI: options, output in text or JSON, and rendering of TwinError."""

from __future__ import annotations

import difflib
import functools
import json
import sqlite3
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from twin.errors import DiskFull, NotFound, TwinError, is_disk_full
from twin.ids import check_name
from twin.ops.cleanup import clean_leftovers
from twin.ops.process import free_space
from twin.profiles import Profile, ProfileManager
from twin.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

ProfileOpt = Annotated[
    str | None, typer.Option("--profile", "-p", help="Profile to use (default: TWIN_DEFAULT_PROFILE).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")]

console = Console(stderr=False)
err_console = Console(stderr=True)


def settings() -> Settings:
    return load_settings()


def manager() -> ProfileManager:
    return ProfileManager(settings())


def resolve_profile(name: str | None, *, create: bool = False, ask: bool = False) -> Profile:
    """The named profile, or TWIN_DEFAULT_PROFILE when no name is given. A missing profile is an error
    naming the closest existing ones, unless `create` (make it, with a notice) or `ask` (offer to make
    it when a person is at the terminal). Leftovers of crashed runs in the profile are cleaned first."""
    s = settings()
    pm = ProfileManager(s)
    given = name is not None
    name = check_name(s.default_profile if name is None else name, "profile name")
    if pm.exists(name):
        profile = pm.get(name)
    elif create or (
        ask and sys.stdin.isatty() and is_tty() and typer.confirm(f"No profile '{name}'. Create it?", err=True)
    ):
        profile = pm.create(name)
        err_console.print(f"[dim]Created profile '{name}' in {escape(str(profile.root))}[/dim]", highlight=False)
    else:
        raise _no_such_profile(pm, name, given, ask)
    _clean_leftovers(s, profile)
    return profile


def _no_such_profile(pm: ProfileManager, name: str, given: bool, ask: bool) -> NotFound:
    names = [p.name for p in pm.list()]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hints = [f"Did you mean {' or '.join(repr(c) for c in close)}?"] if close else []
    if not given and names:
        hints.append(f"Pass --profile NAME (you have: {', '.join(names)}) or set TWIN_DEFAULT_PROFILE.")
    hints.append(f"Create it with: twin profile create {name}" + (" (or run this again with --create)" if ask else ""))
    return NotFound(f"No profile '{name}'.", " ".join(hints))


def _clean_leftovers(s: Settings, profile: Profile) -> None:
    report = clean_leftovers(s, [profile])
    if report.removed:
        err_console.print(
            f"[dim]Removed {len(report.removed)} leftover temporary file(s) of an interrupted run "
            f"({report.bytes_freed / 1e6:.1f} MB).[/dim]"
        )


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def render_error(exc: TwinError, as_json: bool) -> None:
    if as_json:
        emit_json({"error": exc.to_dict()})
    else:
        # Messages are plain text: escape them, or rich reads "pip install 'twin[outlook]'" as markup.
        err_console.print(f"[bold red]error:[/bold red] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/yellow] {escape(exc.hint)}", highlight=False)


def handle_errors(fn: F) -> F:
    """Render TwinError (and a full disk, whichever library hit it) as a clear message, or JSON with --json,
    and exit 2 instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TwinError as exc:
            render_error(exc, bool(kwargs.get("json_out")))
            raise typer.Exit(2) from None
        except (OSError, sqlite3.Error) as exc:
            if is_disk_full(exc):
                render_error(DiskFull.after(free_space(settings().home)), bool(kwargs.get("json_out")))
                raise typer.Exit(2) from None
            if not isinstance(exc, sqlite3.Error):
                raise
            # locked, I/O failure, damaged file: say so plainly instead of a traceback
            err = TwinError(
                f"The profile's database could not be used ({exc}).",
                "Stop other twin processes using this profile and retry; `twin doctor` checks the database "
                "and names the latest backup.",
                code="storage_error",
            )
            render_error(err, bool(kwargs.get("json_out")))
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def is_tty() -> bool:
    return sys.stderr.isatty()
