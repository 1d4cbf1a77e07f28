"""`twin voice import|prepare|status|create|list|show|delete` — the owner's voice library and profiles.

`voice_app` is module-level so other modules (training, evaluation) can add their commands to it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, err_console, handle_errors, is_tty, resolve_profile
from twin.errors import InvalidInput

voice_app = typer.Typer(
    help="Your voice: import and prepare recordings, check the library, make voices.", no_args_is_help=True
)


def register(root: typer.Typer) -> None:
    root.add_typer(voice_app, name="voice")


@voice_app.command("import")
@handle_errors
def import_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="Audio files or folders (WAV, FLAC, OGG, MP3; M4A/WebM/Opus with ffmpeg).")
    ],
    profile: ProfileOpt = None,
    emotion: Annotated[
        str | None,
        typer.Option(
            "--emotion",
            "-e",
            help="Emotion tag; default: the parent folder name when it is a known emotion, else 'neutral'.",
        ),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit non-zero when any file fails.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Copy recordings into the profile's voice library (originals kept untouched, read-only)."""
    from twin.voice.library import import_files

    p = resolve_profile(profile)
    results = import_files(p, paths, emotion=emotion)
    failed = [r for r in results if r.status == "error"]
    if json_out:
        emit_json(
            {
                "results": [r.to_dict() for r in results],
                "imported": sum(r.status == "imported" for r in results),
                "duplicates": sum(r.status == "duplicate" for r in results),
                "failed": len(failed),
            }
        )
    else:
        for r in results:
            if r.status == "error" and r.error:
                err_console.print(f"[red]✗[/red] {r.path}: {r.error['message']}", highlight=False)
                if r.error.get("hint"):
                    err_console.print(f"  [yellow]hint:[/yellow] {r.error['hint']}", highlight=False)
                continue
            dur = (r.info or {}).get("duration_s", 0)
            console.print(f"[green]✓[/green] {r.path} → {r.emotion} ({dur:.1f} s, {r.status})", highlight=False)
            for w in r.warnings:
                console.print(f"  [yellow]warning:[/yellow] {w}", highlight=False)
        console.print(f"{len(results) - len(failed)} ok, {len(failed)} failed. Next: twin voice prepare")
    if not results:
        raise InvalidInput("No audio files found in the given paths.", "Pass audio files or folders holding them.")
    if strict and failed:
        raise typer.Exit(1)


@voice_app.command("prepare")
@handle_errors
def prepare_cmd(
    profile: ProfileOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Re-prepare recordings already prepared.")] = False,
    no_transcribe: Annotated[bool, typer.Option("--no-transcribe", help="Skip speech recognition.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Clean, normalize, segment, transcribe and score every imported recording."""
    from twin.voice.library import list_sources
    from twin.voice.prepare import prepare_library

    p = resolve_profile(profile)
    if not list_sources(p):
        raise InvalidInput(
            f"Profile '{p.name}' has no recordings to prepare yet.",
            f"Import recordings first: twin voice import FILE_OR_FOLDER --profile {p.name}",
        )

    def progress(name: str, i: int, n: int) -> None:
        if not json_out and is_tty():
            err_console.print(f"[dim]({i + 1}/{n}) preparing {name}…[/dim]", highlight=False)

    report = prepare_library(p, force=force, transcribe=False if no_transcribe else None, progress=progress)
    if json_out:
        emit_json({"sources": report})
        return
    if not report:
        console.print("Every imported recording is already prepared (use --force to prepare them again).")
    for r in report:
        if r["status"] == "error":
            err_console.print(f"[red]✗[/red] {r['name']}: {r['error']['message']}", highlight=False)
            continue
        console.print(
            f"[green]✓[/green] {r['name']} ({r['emotion']}): {r['clips']} clips, {r['included']} kept, "
            f"{r['clean_s']:.0f} s clean, {r['breaths']} breaths attenuated",
            highlight=False,
        )
        for w in r["warnings"]:
            console.print(f"  [yellow]warning:[/yellow] {w}", highlight=False)


@voice_app.command("status")
@handle_errors
def status_cmd(
    profile: ProfileOpt = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Draw a PNG per clip and a summary.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Clean minutes per emotion against the ~1 hour target, readiness and the weakest clips."""
    from twin.voice.status import library_status, write_plots

    p = resolve_profile(profile)
    st = library_status(p)
    if plots:
        st["plots"] = write_plots(p, st)
    if json_out:
        emit_json(st)
        return
    table = Table("emotion", "clean min", "target", "clips", "excluded", "mean quality")
    for e, v in st["emotions"].items():
        table.add_row(
            e,
            f"{v['clean_minutes']:.1f}",
            f"{v['target_minutes']:.0f}",
            str(v["clips"]),
            str(v["excluded"]),
            "-" if v["mean_quality"] is None else f"{v['mean_quality']:.2f}",
        )
    console.print(table)
    console.print(
        f"Total {st['clean_minutes']:.1f} of {st['target_minutes']:.0f} clean minutes — [bold]{st['readiness']}[/bold]"
    )
    if st["missing_emotions"]:
        console.print(f"Not recorded yet: {', '.join(st['missing_emotions'])}")
    for w in [w for w in st["weakest"] if w["reasons"]][:5]:
        console.print(
            f"  weak {w['id'][:8]} ({w['emotion']}, q={w['quality']:.2f}): {'; '.join(w['reasons'])}", highlight=False
        )
    if plots:
        console.print(f"Plots: {st['plots']['summary']}")


@voice_app.command("create")
@handle_errors
def create_cmd(
    profile: ProfileOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="A name for the voice.")] = None,
    from_library: Annotated[bool, typer.Option("--from-library", help="Build from the prepared library.")] = False,
    reference: Annotated[Path | None, typer.Option("--reference", help="Build from one recording.")] = None,
    emotion: Annotated[
        str | None, typer.Option("--emotion", help="Only this emotion (library) or the reference's emotion.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a voice profile (reference clips and a speaker embedding); prints its id."""
    from twin.voice.profiles import create_voice

    p = resolve_profile(profile)
    v = create_voice(p, name=name, from_library=from_library, reference=reference, emotion=emotion)
    if json_out:
        emit_json(v.model_dump())
    else:
        console.print(
            f"Created voice [bold]{v.id}[/bold] ({v.name}): {', '.join(v.references)}; {v.duration_s:.1f} s reference"
        )


@voice_app.command("list")
@handle_errors
def list_cmd(profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """List voice profiles."""
    from twin.voice.profiles import list_voices

    voices = list_voices(resolve_profile(profile))
    if json_out:
        emit_json([v.model_dump() for v in voices])
        return
    if not voices:
        console.print("No voices yet. Create one with: twin voice create --from-library")
        return
    table = Table("id", "name", "source", "emotions", "created")
    for v in voices:
        table.add_row(v.id, v.name, v.source, ", ".join(v.references), v.created)
    console.print(table)


@voice_app.command("show")
@handle_errors
def show_cmd(
    voice_id: Annotated[str, typer.Argument(help="Voice id.")], profile: ProfileOpt = None, json_out: JsonOpt = False
) -> None:
    """Show one voice profile."""
    from twin.voice.profiles import get_voice, voice_dir

    p = resolve_profile(profile)
    v = get_voice(p, voice_id)
    data = {**v.model_dump(), "path": str(voice_dir(p, v.id))}
    if json_out:
        emit_json(data)
        return
    for k, val in data.items():
        console.print(f"[bold]{k}[/bold]: {val}", highlight=False)


@voice_app.command("delete")
@handle_errors
def delete_cmd(
    voice_id: Annotated[str, typer.Argument(help="Voice id.")], profile: ProfileOpt = None, json_out: JsonOpt = False
) -> None:
    """Delete a voice profile (the library is untouched)."""
    from twin.voice.profiles import delete_voice

    delete_voice(resolve_profile(profile), voice_id)
    if json_out:
        emit_json({"deleted": voice_id})
    else:
        console.print(f"Deleted voice {voice_id}")
