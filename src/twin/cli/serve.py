"""`twin serve`: the API and web UI on 127.0.0.1:3000 by default. On a first run with no data it
offers (or, without a terminal, creates) a demo profile and prints a key for it."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from twin.cli.common import console, err_console, handle_errors, is_tty
from twin.cli.common import settings as load
from twin.errors import InvalidInput, MissingDependency

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(root: typer.Typer) -> None:
    root.command("serve")(serve)


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
    console.print(f"twin is serving on [bold]http://{shown}:{port}/[/bold]  (web UI and API)")
    console.print(
        "Get a key with: [cyan]twin keys create --profile NAME[/cyan]  and send it as 'Authorization: Bearer <key>'."
    )
    uvicorn.run(
        build_app(settings, server), host=host, port=port, log_level="info", proxy_headers=False, server_header=False
    )


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
