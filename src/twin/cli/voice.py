"""`twin voice import|prepare|status|create|list|show|default|alias|delete` — the owner's voice library and
profiles.

`voice_app` is module-level so other modules (training, evaluation) can add their commands to it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from twin.cli.common import (
    JsonOpt,
    ProfileOpt,
    console,
    emit_json,
    err_console,
    handle_errors,
    is_tty,
    resolve_profile,
    settings,
)
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
    consent_who: Annotated[
        str | None, typer.Option("--consent-who", help="Whose voice the reference is, when it is not yours.")
    ] = None,
    consent: Annotated[
        str | None, typer.Option("--consent", help="How and when they agreed to have their voice cloned.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a voice profile (reference clips and a speaker embedding); prints its id. A reference that
    is not your own voice needs --consent-who and --consent (recorded in the voice and the audit log)."""
    from twin.ops.audit import AuditLog
    from twin.voice.consent import consent_request
    from twin.voice.profiles import create_voice

    p = resolve_profile(profile)
    request = consent_request(consent_who, consent)
    v = create_voice(p, name=name, from_library=from_library, reference=reference, emotion=emotion, consent=request)
    if v.consent is not None:
        audit = AuditLog(settings())
        try:
            audit.record_consent(p, v.id, v.consent)
        finally:
            audit.close()
    if json_out:
        emit_json(v.model_dump())
    else:
        console.print(
            f"Created voice [bold]{v.id}[/bold] ({v.name}): {', '.join(v.references)}; {v.duration_s:.1f} s reference"
        )
        if v.default:
            console.print("It is the profile's default voice (change it with: twin voice default ID).")


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
    table = Table("id", "name", "default", "source", "emotions", "trained", "created")
    for v in voices:
        table.add_row(
            v.id,
            v.name,
            "yes" if v.default else "",
            v.source,
            ", ".join(v.references),
            "yes" if v.trained else "",
            v.created,
        )
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
    """Delete a voice profile (the library is untouched). Deleting the default voice makes another one the default."""
    from twin.voice.profiles import delete_voice, get_voice
    from twin.voice.synth.voices import default_voice

    p = resolve_profile(profile)
    was_default = get_voice(p, voice_id).default
    now = delete_voice(p, voice_id)
    if now is None:
        change = "No voices are left: speech now uses the plain base voice."
    elif was_default:
        change = f"It was the default voice; the default voice is now {get_voice(p, now).name} ({now})."
    else:
        change = ""
    if json_out:
        emit_json(
            {"deleted": voice_id, "was_default": was_default, "default_voice": default_voice(p), "notice": change}
        )
    else:
        console.print(f"Deleted voice {voice_id}. {change}".strip())


@voice_app.command("default")
@handle_errors
def default_cmd(
    voice_id: Annotated[str | None, typer.Argument(help="Voice id to make the default (omit to show it).")] = None,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show or set the default voice: the one that speaks when no voice is named (the first voice made,
    until changed)."""
    from twin.voice.profiles import get_voice, set_default
    from twin.voice.synth.voices import default_voice

    p = resolve_profile(profile)
    current = set_default(p, voice_id).id if voice_id is not None else default_voice(p)
    voice = get_voice(p, current) if current else None
    if json_out:
        emit_json({"default_voice": voice.model_dump() if voice else None})
    elif voice is None:
        console.print("No voices yet, so speech uses the plain base voice. Create one with: twin voice create")
    else:
        verb = "is now" if voice_id else "is"
        console.print(f"The default voice {verb} [bold]{voice.name}[/bold] ({voice.id}).")


@voice_app.command("alias")
@handle_errors
def alias_cmd(
    name: Annotated[str | None, typer.Argument(help="Alias, e.g. an OpenAI voice name such as alloy.")] = None,
    target: Annotated[str | None, typer.Argument(help="Voice id, 'default' or 'base'.")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Drop this alias's mapping.")] = False,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show or set the voice names OpenAI clients may send (alloy, echo, nova, …): each stands for the
    default voice unless mapped to another voice here."""
    from twin.voice.synth.voices import set_alias, voice_aliases

    p = resolve_profile(profile)
    if name is not None and (target is None) != remove:
        raise InvalidInput("Give a voice for the alias, or --remove.", "e.g. twin voice alias nova VOICE_ID")
    table = set_alias(p, name, None if remove else target) if name is not None else voice_aliases(p)
    if json_out:
        emit_json({"aliases": table})
        return
    rows = Table("alias", "speaks as")
    for alias, voice in sorted(table.items()):
        rows.add_row(alias, voice)
    console.print(rows)
