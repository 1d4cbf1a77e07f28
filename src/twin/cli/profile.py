"""`twin profile create|list|delete|show|set-me`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, is_tty, manager, resolve_profile
from twin.errors import InvalidInput
from twin.ingest.identity import apply_identity, identity_from_aliases
from twin.keys import KeyStore
from twin.store.db import connect

if TYPE_CHECKING:
    from twin.ops.crypto import Unlock
    from twin.profiles import Profile
    from twin.voice.encryption import Progress

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


PassphraseOpt = Annotated[
    bool,
    typer.Option(
        "--passphrase",
        help="Derive the key from a passphrase (asked for, or TWIN_PASSPHRASE) instead of the OS keyring.",
    ),
]


def _passphrase(ask: bool, prompt: str = "Passphrase", confirm: bool = False) -> str | None:
    """TWIN_PASSPHRASE, else (with `ask`) a hidden prompt on a terminal, else None (the keyring)."""
    import os

    from twin.voice.storage import PASSPHRASE_ENV

    value = os.environ.get(PASSPHRASE_ENV)
    if value or not ask:
        return value or None
    if not is_tty():
        raise InvalidInput("A passphrase is needed.", f"Set {PASSPHRASE_ENV} or run this on a terminal.")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def _unlock_for(p: Profile) -> Unlock:
    from twin.ops.crypto import Unlock
    from twin.voice.storage import load_state

    state = load_state(p)
    uses_passphrase = state is not None and state.current.source == "passphrase"
    return Unlock(passphrase=_passphrase(uses_passphrase))


def _report(action: str, p: Profile, progress: Progress, json_out: bool) -> None:
    data = {"profile": p.name, "action": action, **progress.to_dict()}
    if json_out:
        emit_json(data)
    else:
        counts = ", ".join(f"{v} {k}" for k, v in data.items() if isinstance(v, int))
        console.print(f"Profile [bold]{p.name}[/bold]: {action} voice files ({counts}).")


@profile_app.command("encrypt")
@handle_errors
def encrypt(profile: ProfileOpt = None, passphrase: PassphraseOpt = False, json_out: JsonOpt = False) -> None:
    """Encrypt the profile's voice data at rest (recordings, clips, references, embeddings, caches)."""
    from twin.ops.crypto import Unlock
    from twin.voice.encryption import encrypt_profile
    from twin.voice.storage import load_state

    p = resolve_profile(profile)
    state = load_state(p)
    source: Literal["keyring", "passphrase"] = "passphrase" if passphrase else "keyring"
    if state is not None:  # resuming an interrupted run: unlock the key it made
        unlock, source = _unlock_for(p), state.current.source
    else:
        unlock = Unlock(passphrase=_passphrase(passphrase, "New passphrase", confirm=True))
    _report("encrypted", p, encrypt_profile(p, source, unlock), json_out)


@profile_app.command("decrypt")
@handle_errors
def decrypt(profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Store the profile's voice data as plain files again and forget its key."""
    from twin.voice.encryption import decrypt_profile

    p = resolve_profile(profile)
    _report("decrypted", p, decrypt_profile(p, _unlock_for(p)), json_out)


@profile_app.command("rotate-key")
@handle_errors
def rotate_key(
    profile: ProfileOpt = None,
    new_passphrase: Annotated[
        bool, typer.Option("--new-passphrase", help="Wrap the new key with a new passphrase (asked for).")
    ] = False,
    keyring: Annotated[bool, typer.Option("--keyring", help="Keep the new key in the OS keyring.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Re-encrypt every voice file with a fresh key (nothing is lost if it is interrupted: run it again)."""
    from twin.ops.crypto import Unlock
    from twin.voice.encryption import rotate_key as rotate

    p = resolve_profile(profile)
    unlock = _unlock_for(p)
    source: Literal["keyring", "passphrase"] | None = None
    new_unlock: Unlock | None = None
    if new_passphrase:
        if not is_tty():
            raise InvalidInput("--new-passphrase asks for the passphrase on a terminal.", "Run it on a terminal.")
        source = "passphrase"
        new_unlock = Unlock(passphrase=str(typer.prompt("New passphrase", hide_input=True, confirmation_prompt=True)))
    elif keyring:
        source = "keyring"
    _report("re-keyed", p, rotate(p, unlock, source, new_unlock), json_out)
