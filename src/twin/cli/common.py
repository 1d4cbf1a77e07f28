"""Shared pieces of the CLI: options, output in text or JSON, and rendering of TwinError."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from twin.errors import TwinError
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


def resolve_profile(name: str | None, *, create: bool = False) -> Profile:
    """The named (or default) profile; with create=True it is created on first use, with a notice."""
    s = settings()
    pm = ProfileManager(s)
    name = name or s.default_profile
    if create:
        profile, created = pm.get_or_create(name)
        if created:
            err_console.print(f"[dim]Created profile '{name}' in {profile.root}[/dim]")
        return profile
    return pm.get(name)


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def render_error(exc: TwinError, as_json: bool) -> None:
    if as_json:
        emit_json({"error": exc.to_dict()})
    else:
        err_console.print(f"[bold red]error:[/bold red] {exc.message}", highlight=False)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/yellow] {exc.hint}", highlight=False)


def handle_errors(fn: F) -> F:
    """Render TwinError as a clear message (or JSON with --json) and exit 2 instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TwinError as exc:
            render_error(exc, bool(kwargs.get("json_out")))
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def is_tty() -> bool:
    return sys.stderr.isatty()
