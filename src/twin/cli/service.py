"""`twin service install|uninstall|status [--what server,tts,ollama]`: keep twin running across crashes and
reboots with launchd (macOS), systemd user units (Linux) or tmux."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, err_console, handle_errors, resolve_profile
from twin.cli.common import settings as load
from twin.errors import InvalidInput
from twin.ops.service import Manager, ServiceManager, build_specs, parse_what

service_app = typer.Typer(help="Run twin as an always-on service (launchd, systemd or tmux).", no_args_is_help=True)

WhatOpt = Annotated[str, typer.Option("--what", help="Comma-separated: server, tts, ollama.")]
ManagerOpt = Annotated[
    str | None, typer.Option("--manager", help="launchd, systemd or tmux (default: this system's own).")
]


def register(root: typer.Typer) -> None:
    root.add_typer(service_app, name="service")


def _manager(name: str | None) -> ServiceManager:
    if name is not None and name not in ("launchd", "systemd", "tmux"):
        raise InvalidInput(f"Unknown service manager '{name}'.", "Use launchd, systemd or tmux.")
    manager: Manager | None = name  # type: ignore[assignment]
    return ServiceManager(load(), manager)


def _after_install(sm: ServiceManager) -> list[str]:
    if sm.manager == "systemd":
        return ["To start at boot without logging in: loginctl enable-linger $USER"]
    if sm.manager == "tmux":
        return [
            "tmux sessions do not survive a reboot; add to `crontab -e`: "
            f"@reboot tmux new-session -d -s twin-server {sm.path_for('server')}"
        ]
    return []


@service_app.command("install")
@handle_errors
def install(
    what: WhatOpt = "server",
    profile: ProfileOpt = None,
    port: Annotated[int, typer.Option("--port", help="Port of the API server on 127.0.0.1.")] = 3000,
    tts_port: Annotated[int, typer.Option("--tts-port", help="Port of the TTS server on 127.0.0.1.")] = 8000,
    manager: ManagerOpt = None,
    start: Annotated[bool, typer.Option("--start/--no-start", help="Load and start the services now.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Write the service files (and start them): restarted after a crash, started again after a reboot."""
    names = parse_what(what)
    prof = resolve_profile(profile).name if (profile or "tts" in names) else "default"
    sm = _manager(manager)
    specs = build_specs(names, sm.settings, profile=prof, port=port, tts_port=tts_port)
    done = sm.install(specs, start=start)
    notes = _after_install(sm)
    if json_out:
        emit_json({"manager": sm.manager, "services": done, "notes": notes})
        return
    for item in done:
        console.print(f"Installed [bold]{item['name']}[/bold] ({sm.manager}): {item['path']}")
    if not start:
        console.print("Not started (--no-start).")
    for note in notes:
        err_console.print(f"[dim]note: {note}[/dim]", soft_wrap=True)


@service_app.command("uninstall")
@handle_errors
def uninstall(what: WhatOpt = "server,tts,ollama", manager: ManagerOpt = None, json_out: JsonOpt = False) -> None:
    """Stop the services and remove their files."""
    sm = _manager(manager)
    done = sm.uninstall(parse_what(what))
    if json_out:
        emit_json({"manager": sm.manager, "services": done})
        return
    for item in done:
        console.print(f"Removed {item['name']} ({item['path']})")


@service_app.command("status")
@handle_errors
def status(what: WhatOpt = "server,tts,ollama", manager: ManagerOpt = None, json_out: JsonOpt = False) -> None:
    """Whether each service is installed and running."""
    sm = _manager(manager)
    rows = sm.status(parse_what(what))
    if json_out:
        emit_json({"manager": sm.manager, "services": [r.to_dict() for r in rows]})
        return
    table = Table("service", "manager", "installed", "running", "file")
    for r in rows:
        running = "unknown" if r.running is None else ("yes" if r.running else "no")
        table.add_row(r.name, r.manager, "yes" if r.installed else "no", running, r.path)
    console.print(table)
