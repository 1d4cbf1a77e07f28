"""`twin tunnel config cloudflared|tailscale`: reach the server from outside through an outbound tunnel
that exposes only the authenticated API on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twin.cli.common import JsonOpt, console, emit_json, err_console, handle_errors
from twin.cli.common import settings as load
from twin.errors import InvalidInput
from twin.ops import tunnel as tunnels

tunnel_app = typer.Typer(help="Outbound tunnels (Cloudflare Tunnel, Tailscale) to the local API.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(tunnel_app, name="tunnel")


@tunnel_app.command("config")
@handle_errors
def config(
    kind: Annotated[str, typer.Argument(help="cloudflared or tailscale.")],
    hostname: Annotated[
        str | None, typer.Option("--hostname", help="Public name, e.g. twin.example.com (cloudflared: required).")
    ] = None,
    tunnel: Annotated[str, typer.Option("--tunnel", help="cloudflared tunnel name or id.")] = "twin",
    credentials: Annotated[
        Path | None,
        typer.Option("--credentials", help="cloudflared credentials JSON (default ~/.cloudflared/<id>.json)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the cloudflared config (default ~/.cloudflared/config.yml)."),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port twin serve listens on.")] = 3000,
    json_out: JsonOpt = False,
) -> None:
    """Write the cloudflared ingress config, or print the `tailscale serve` command."""
    settings = load()
    tunnels.require_key(settings)
    if kind == "cloudflared":
        if not hostname:
            raise InvalidInput("cloudflared needs the public --hostname.", "Example: --hostname twin.example.com")
        base = Path.home() / ".cloudflared"
        path = out or base / "config.yml"
        plan = tunnels.cloudflared(hostname, tunnel, credentials or base / f"{tunnel}.json", path, port)
        written: str | None = str(tunnels.write_config(plan, path))
    elif kind == "tailscale":
        plan, written = tunnels.tailscale(port, hostname), None
    else:
        raise InvalidInput(f"Unknown tunnel '{kind}'.", "Use: twin tunnel config cloudflared|tailscale")
    if json_out:
        emit_json(
            {
                "kind": plan.kind,
                "origin": plan.origin,
                "config_path": written,
                "commands": plan.commands,
                "allowed_host": plan.allowed_host,
            }
        )
        return
    if written:
        console.print(f"Wrote {written}: {plan.allowed_host} → {plan.origin}, every other request gets 404.")
    console.print("Then run:")
    for cmd in plan.commands:
        console.print(f"  {cmd}", highlight=False, soft_wrap=True)
    err_console.print("[dim]Every route still needs an API key; keep the key out of URLs.[/dim]")
