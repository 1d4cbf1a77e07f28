"""`twin keys create|list|revoke`: API keys for the server. A key is shown once and stored hashed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, err_console, handle_errors, resolve_profile
from twin.cli.common import settings as load
from twin.keys import KeyStore

keys_app = typer.Typer(help="Create, list and revoke API keys (one profile per key).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(keys_app, name="keys")


@keys_app.command("create")
@handle_errors
def create(
    profile: ProfileOpt = None,
    name: Annotated[str, typer.Option("--name", help="A label to recognise the key by.")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Create a key for the profile. It is printed once; only its hash is kept."""
    prof = resolve_profile(profile)
    store = KeyStore(load())
    created = store.create(prof.name, name=name)
    store.close()
    if json_out:
        emit_json({**created.record.to_dict(), "key": created.secret})
        return
    console.print(f"API key for profile [bold]{prof.name}[/bold] (shown once; store it safely):\n")
    typer.echo(created.secret)
    err_console.print(f"\nUse it as: Authorization: Bearer <key>   (id {created.record.id})")


@keys_app.command("list")
@handle_errors
def list_keys(
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="Only this profile's keys (default: every profile's).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List keys of every profile, or of one (never the keys themselves: id, label, first characters, dates)."""
    store = KeyStore(load())
    try:
        records = store.list(None if profile is None else resolve_profile(profile).name)
    finally:
        store.close()
    if json_out:
        emit_json([r.to_dict() for r in records])
        return
    if not records:
        where = f"profile '{profile}'" if profile else "any profile"
        console.print(f"No API keys for {where} yet. Create one with: twin keys create --profile NAME")
        return
    table = Table("id", "profile", "name", "starts", "created", "last used", "status")
    for r in records:
        status = (
            "active" if r.active else f"revoked {r.revoked}" + (f" ({r.revoked_reason})" if r.revoked_reason else "")
        )
        table.add_row(r.id, r.profile, r.name, r.hint, r.created, r.last_used or "-", status)
    console.print(table)


@keys_app.command("revoke")
@handle_errors
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from twin keys list).")],
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="Only revoke it if it is this profile's.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Revoke a key (with --profile: only if it is that profile's); requests with it get 401 from then on."""
    store = KeyStore(load())
    record = store.revoke(key_id, None if profile is None else resolve_profile(profile).name)
    store.close()
    if json_out:
        emit_json(record.to_dict())
    else:
        console.print(f"Revoked key {record.id} ({record.hint}).")
