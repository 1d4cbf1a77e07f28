"""`twin profile create|list|delete|show|set-me`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, manager, resolve_profile
from twin.errors import InvalidInput
from twin.ingest.identity import apply_identity, identity_from_aliases
from twin.keys import KeyStore
from twin.store.db import connect

profile_app = typer.Typer(help="Create, list and delete profiles; set who you are.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(profile_app, name="profile")


@profile_app.command("create")
@handle_errors
def create(
    name: Annotated[str, typer.Argument(help="Profile name: lowercase letters, digits, '-' and '_'.")],
    json_out: JsonOpt = False,
) -> None:
    """Create an empty profile."""
    profile = manager().create(name)
    connect(profile).close()
    if json_out:
        emit_json({"name": profile.name, "path": str(profile.root)})
    else:
        console.print(f"Created profile [bold]{name}[/bold] in {profile.root}")


@profile_app.command("list")
@handle_errors
def list_profiles(json_out: JsonOpt = False) -> None:
    """List profiles."""
    profiles = manager().list()
    if json_out:
        emit_json([{"name": p.name, "path": str(p.root), "identity": p.identity.model_dump()} for p in profiles])
        return
    if not profiles:
        console.print("No profiles yet. Create one with: twin profile create NAME")
        return
    table = Table("name", "owner", "path")
    for p in profiles:
        ident = p.identity
        table.add_row(p.name, ", ".join(ident.names + ident.addresses + ident.phones) or "-", str(p.root))
    console.print(table)


@profile_app.command("show")
@handle_errors
def show(profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Show a profile's identity and paths."""
    p = resolve_profile(profile)
    data = {"name": p.name, "path": str(p.root), "identity": p.identity.model_dump()}
    if json_out:
        emit_json(data)
    else:
        console.print_json(data=data)


@profile_app.command("delete")
@handle_errors
def delete(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Delete a profile and ALL its data (messages, datasets, voices, models)."""
    pm = manager()
    profile_id = pm.get(name).uid
    if not yes and (json_out or not typer.confirm(f"Delete profile '{name}' and all its data?")):
        raise InvalidInput("Deletion not confirmed.", "Pass --yes to delete without asking.")
    keys = KeyStore(pm.settings)
    try:
        revoked = keys.revoke_profile(profile_id)  # first: a half-finished delete must not leave keys working
    finally:
        keys.close()
    pm.delete(name)
    if json_out:
        emit_json({"deleted": name, "keys_revoked": revoked})
    else:
        console.print(f"Deleted profile {name}" + (f" and revoked its {revoked} API key(s)." if revoked else "."))


@profile_app.command("set-me")
@handle_errors
def set_me(
    aliases: Annotated[list[str], typer.Argument(help="Your names, email addresses and phone numbers.")],
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Set who you are (replaces the stored identity) and re-mark your messages."""
    p = resolve_profile(profile)
    identity = identity_from_aliases(aliases)
    if identity.is_empty():
        raise InvalidInput(
            "No usable name, address or phone number given.",
            'Example: twin profile set-me "Thota Rao" thota@example.com',
        )
    p.set_identity(identity)
    conn = connect(p)
    try:
        mine = apply_identity(conn, identity)
    finally:
        conn.close()
    if json_out:
        emit_json({"identity": identity.model_dump(), "mine": mine})
    else:
        console.print(f"Identity set; {mine} message(s) are now marked as yours.")
