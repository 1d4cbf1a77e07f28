"""`twin backup create|restore`: a verified, self-describing copy of one profile (encrypted when it is)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, resolve_profile
from twin.cli.common import settings as load
from twin.ops.crypto import Unlock

backup_app = typer.Typer(help="Back up a profile to one file and restore it into a new profile.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(backup_app, name="backup")


def _unlock() -> Unlock:
    from twin.voice.storage import default_unlock

    return default_unlock()


@backup_app.command("create")
@handle_errors
def create(
    out: Annotated[Path, typer.Option("--out", "-o", help="The backup file to write (never overwritten).")],
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Copy the profile's database (online, safe while the server runs) and files, with checksums."""
    from twin.ops.backup import check_backup_path, create_backup

    p = resolve_profile(profile)
    result = create_backup(load(), p, check_backup_path(out), _unlock())
    if json_out:
        emit_json(result.to_dict())
        return
    sealed = ", encrypted" if result.encrypted else ""
    console.print(f"Backed up profile [bold]{p.name}[/bold] to {result.path} ({result.files} files{sealed}).")


@backup_app.command("restore")
@handle_errors
def restore(
    archive: Annotated[Path, typer.Argument(help="A file made by twin backup create.")],
    profile: Annotated[str, typer.Option("--profile", "-p", help="Name of the NEW profile to restore into.")],
    json_out: JsonOpt = False,
) -> None:
    """Restore into a new profile, checking every file against the manifest and the database's integrity."""
    from twin.ops.backup import restore_backup

    result = restore_backup(load(), archive, profile, _unlock())
    if json_out:
        emit_json(result.to_dict())
        return
    rows = sum(result.tables.values())
    console.print(f"Restored {result.files} files ({rows} database rows) into profile [bold]{profile}[/bold];")
    console.print("every file matches the manifest and the database passed its integrity check.")
