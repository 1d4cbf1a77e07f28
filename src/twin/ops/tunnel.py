"""Reach the server from outside through an outbound tunnel only: a cloudflared ingress that maps one
hostname to the loopback API (everything else answers 404), or the `tailscale serve` command that
proxies the tailnet's HTTPS to it. Both refuse to run before an API key exists, because the tunnel
makes every route reachable by anyone who knows the name; the key is then the only gate."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

from twin.errors import InvalidInput, NotFound
from twin.keys import KeyStore
from twin.settings import Settings

_HOSTNAME = re.compile(r"(?=.{1,253}\Z)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+", re.ASCII)
_TUNNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class TunnelPlan:
    kind: str
    origin: str  # the loopback URL the tunnel forwards to
    config: str  # the file's text (cloudflared) or "" (tailscale)
    commands: list[str]
    allowed_host: str  # the public name the server must accept (--allowed-host)


def require_key(settings: Settings) -> None:
    """Refuse when no API key exists: a tunnel without one would expose an unusable or open server."""
    store = KeyStore(settings)
    try:
        if not any(k.active for k in store.list()):
            raise NotFound(
                "No active API key exists, so a tunnel would expose a server nobody can safely use.",
                "Create one first: twin keys create --profile P",
            )
    finally:
        store.close()


def check_hostname(hostname: str) -> str:
    name = hostname.strip().lower().rstrip(".")
    if not _HOSTNAME.fullmatch(name):
        raise InvalidInput(f"'{hostname}' is not a DNS hostname.", "Example: --hostname twin.example.com")
    return name


def _origin(port: int) -> str:
    if not 1 <= port <= 65535:
        raise InvalidInput(f"Port {port} is out of range.", "Use the port twin serve listens on (3000).")
    return f"http://127.0.0.1:{port}"


def cloudflared(hostname: str, tunnel: str, credentials: Path, config_path: Path, port: int = 3000) -> TunnelPlan:
    """cloudflared's config.yml: the hostname goes to the loopback API, every other request gets 404."""
    name = check_hostname(hostname)
    if not _TUNNEL.fullmatch(tunnel):
        raise InvalidInput(f"'{tunnel}' is not a tunnel name or id.", "Create one with: cloudflared tunnel create twin")
    origin = _origin(port)
    config = {
        "tunnel": tunnel,
        "credentials-file": str(credentials),
        "ingress": [
            {"hostname": name, "service": origin},
            {"service": "http_status:404"},
        ],
    }
    text = "# twin: only the authenticated API on 127.0.0.1 is reachable through this tunnel.\n"
    text += yaml.safe_dump(config, sort_keys=False)
    commands = [
        f"cloudflared tunnel route dns {tunnel} {name}",
        f"cloudflared tunnel --config {shlex.quote(str(config_path))} run",
        f"twin serve --allowed-host {name}",
    ]
    return TunnelPlan("cloudflared", origin, text, commands, name)


def tailscale(port: int = 3000, hostname: str | None = None) -> TunnelPlan:
    """`tailscale serve` proxies https://<machine>.<tailnet>.ts.net to the loopback API (tailnet only;
    `tailscale funnel` would publish it to the internet and is deliberately not what this prints)."""
    origin = _origin(port)
    name = check_hostname(hostname) if hostname else "MACHINE.TAILNET.ts.net"
    commands = [f"tailscale serve --bg --https=443 {origin}", f"twin serve --allowed-host {name}"]
    return TunnelPlan("tailscale", origin, "", commands, name)


def write_config(plan: TunnelPlan, path: Path) -> Path:
    """Write the cloudflared config (0600) and return where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(plan.config, encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
    return path
