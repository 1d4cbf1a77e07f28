"""`twin serve`: the API and web UI on 127.0.0.1:3000 by default. On a first run with no data it
offers (or, without a terminal, creates) a demo profile and prints a key for it."""

from __future__ import annotations

import ipaddress
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from twin.cli.common import console, err_console, handle_errors, is_tty
from twin.cli.common import settings as load
from twin.errors import InvalidInput, MissingDependency

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(root: typer.Typer) -> None:
    root.command("serve")(serve)


def _shown_path(path: Path) -> str:
    """`path` relative to the current folder when it is inside it (e.g. .venv/bin/twin), else absolute."""
    cwd = Path.cwd()
    try:
        rel = path.relative_to(cwd)
    except ValueError:
        return str(path)
    if cwd == Path(cwd.anchor):  # relative to / reads worse than the absolute path
        return str(path)
    return str(rel) if rel.parts and rel.parts[0].startswith(".") else f"./{rel}"


def twin_command() -> str:
    """How to run twin from this shell: `twin` when that is on PATH and is this install, else the path of
    this install's script (e.g. .venv/bin/twin), else this interpreter with -m twin."""
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    on_path = shutil.which("twin")
    if on_path and (script is None or Path(on_path).resolve() == script):
        return "twin"
    if script is not None and script.name == "twin" and script.is_file() and os.access(script, os.X_OK):
        return _shown_path(script)
    return f"{_shown_path(Path(sys.executable))} -m twin"


def check_bind(host: str, expose: bool) -> bool:
    """True when `host` is loopback. A non-loopback address needs --expose (else InvalidInput)."""
    try:
        loopback = host in LOOPBACK or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not expose:
        raise InvalidInput(
            f"Refusing to listen on {host} without --expose.",
            "twin binds 127.0.0.1 by default; add --expose to accept connections from the "
            "network (every route still needs a key), or reach it through a tunnel.",
        )
    return loopback


@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1 keeps it on this machine).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 3000,
    expose: Annotated[bool, typer.Option("--expose", help="Allow a non-loopback --host such as 0.0.0.0.")] = False,
    demo: Annotated[
        bool | None,
        typer.Option("--demo/--no-demo", help="Create the demo profile on a first run (asks on a terminal)."),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option("--allowed-host", help="Extra Host name to answer to (e.g. a tunnel's); repeatable."),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="Exact browser origin allowed to call the API; repeatable."),
    ] = None,
    llm: Annotated[str | None, typer.Option(help="LLM backend to use (default: each profile's llm.json).")] = None,
) -> None:
    """Run the API server and web UI."""
    loopback = check_bind(host, expose)
    try:
        import uvicorn

        from twin.api.config import ServerSettings
        from twin.api.logs import access_log_config
        from twin.api.main import build_app
    except ImportError as exc:
        raise MissingDependency.for_extra("twin serve", "server", exc.name or "fastapi") from None
    settings = load()
    _first_run(settings, demo)
    server = ServerSettings(
        host=host,
        port=port,
        allowed_hosts=list(allowed_host or []),
        cors_origins=list(cors_origin or []),
        llm_backend=llm or "",
    )
    if not loopback:
        err_console.print(
            f"[bold yellow]warning:[/bold yellow] listening on {host}: other machines can reach "
            "this server. Every route needs a key; prefer a tunnel."
        )
        if host not in ("0.0.0.0", "::"):
            server.allowed_hosts.append(host)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    for line in serve_banner(f"http://{shown}:{port}"):
        console.print(line, soft_wrap=True, highlight=False)
    uvicorn.run(
        build_app(settings, server),
        host=host,
        port=port,
        log_level="info",
        log_config=access_log_config(),
        proxy_headers=False,
        server_header=False,
    )


def serve_banner(url: str) -> list[str]:
    """What `twin serve` prints: where it serves, the API reference, and how to get and send a key, one
    instruction a line (never wrapped inside a command)."""
    return [
        f"twin is serving on {url}/  (web UI and API)",
        f"API reference:   {url}/docs",
        f"Get a key with:  {twin_command()} keys create --profile NAME",
        "Send it as:      Authorization: Bearer <key>",
    ]


def _first_run(settings: object, demo: bool | None) -> None:
    from twin.api.demo import create_demo, is_first_run

    if demo is False or not is_first_run(settings):  # type: ignore[arg-type]
        return
    if demo is None and is_tty():
        demo = typer.confirm("No profiles yet. Create a demo profile from the shipped samples?", default=True)
        if not demo:
            return
    result = create_demo(settings)  # type: ignore[arg-type]
    console.print(
        f"Created the demo profile '{result.profile.name}' ({result.messages} sample messages"
        + (", a demo voice" if result.voice_id else "")
        + ")."
    )
    for note in result.notes:
        err_console.print(f"[dim]note: {note}[/dim]")
    console.print("Its API key (shown once; paste it into the web UI):")
    typer.echo(result.key.secret)
