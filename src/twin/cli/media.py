"""`twin media …` — a film (and its subtitles) into a character's clips, voice and persona.

Every stage writes its own file in the project folder, so each can be rerun, inspected and corrected."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, err_console, handle_errors, is_tty, resolve_profile
from twin.errors import InvalidInput

media_app = typer.Typer(help="Movie → character: clips, a voice and a persona from a film.", no_args_is_help=True)

ProjectArg = Annotated[
    str, typer.Argument(help="Media project id (from `twin media transcribe` or `twin media list`).")
]
CharacterOpt = Annotated[str, typer.Option("--character", "-c", help="Character name, e.g. Ann.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Redo the stage even when it is already done.")]


def register(root: typer.Typer) -> None:
    root.add_typer(media_app, name="media")


def _project(profile: str | None, project_id: str) -> Any:
    from twin.media.project import get_project

    return get_project(resolve_profile(profile), project_id)


def _progress(json_out: bool) -> Any:
    from twin.media.progress import terminal_progress

    return terminal_progress(enabled=is_tty() and not json_out)


def _print_report(title: str, report: dict[str, Any]) -> None:
    console.print(f"[bold]{title}[/bold]")
    for k, v in report.items():
        if isinstance(v, dict | list) and len(str(v)) > 100:
            continue
        console.print(f"  {k}: {v}", highlight=False)


@media_app.command("transcribe")
@handle_errors
def transcribe_cmd(
    movie: Annotated[Path, typer.Argument(help="Video (mp4, mkv, webm, mov, avi) or audio file.")],
    subtitles: Annotated[
        Path | None, typer.Option("--subtitles", "-s", help="Subtitle file: SRT, VTT, ASS/SSA.")
    ] = None,
    subtitle_stream: Annotated[
        int | None, typer.Option("--subtitle-stream", help="Use the film's n-th subtitle stream (0-based).")
    ] = None,
    audio_stream: Annotated[
        int | None, typer.Option("--audio-stream", help="The n-th audio stream (0-based); default the first.")
    ] = None,
    subtitle_encoding: Annotated[
        str | None, typer.Option("--subtitle-encoding", help="Text encoding of the subtitles (default: detected).")
    ] = None,
    language: Annotated[str, typer.Option("--language", "-l", help="Spoken language (ISO 639-1).")] = "en",
    asr: Annotated[
        bool | None, typer.Option("--asr/--no-asr", help="Run speech recognition (default: only without subtitles).")
    ] = None,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Probe the film, extract the soundtrack, read subtitles or transcribe, detect speech. Prints the project id."""
    from twin.media.stages import transcribe

    p = resolve_profile(profile)
    with _progress(json_out) as prog:
        project, report = transcribe(
            p,
            movie,
            subtitles,
            subtitle_stream,
            audio_stream,
            language,
            asr,
            progress=prog,
            subtitle_encoding=subtitle_encoding,
        )
    if json_out:
        emit_json({"project_id": project.id, **report})
        return
    _print_report(f"Project {project.id}", report)
    console.print(f"Next: twin media align {project.id} --profile {p.name}")


@media_app.command("align")
@handle_errors
def align_cmd(
    project_id: ProjectArg,
    max_offset: Annotated[float, typer.Option("--max-offset", help="Largest offset searched, in seconds.")] = 600.0,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Fit the subtitles' offset and drift to the speech and snap each cue to speech edges."""
    from twin.media.stages import align

    report = align(_project(profile, project_id), max_offset)
    if json_out:
        emit_json(report)
        return
    if "drift_ppm" in report:
        console.print(
            f"Offset {report['offset_s']:+.2f} s, drift {report['drift']:.5f} ({report['drift_ppm']:+.0f} ppm); "
            f"{report['coverage']:.0%} of cue time on speech (was {report['coverage_before']:.0%}).",
            highlight=False,
        )
    else:
        console.print(report.get("note", "aligned"))


@media_app.command("segment")
@handle_errors
def segment_cmd(
    project_id: ProjectArg,
    speakers: Annotated[
        int | None, typer.Option("--speakers", help="Force this many speakers (default: automatic).")
    ] = None,
    speaker_backend: Annotated[
        str, typer.Option("--speaker-backend", help="Speaker-embedding backend.")
    ] = "resemblyzer",
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Diarize: who speaks when. Writes diarization.rttm and segments.json."""
    from twin.media.diarize import DiarizeOptions
    from twin.media.stages import segment

    project = _project(profile, project_id)
    with _progress(json_out) as prog:
        report = segment(project, speaker_backend, DiarizeOptions(num_speakers=speakers), prog)
    if json_out:
        emit_json(report)
        return
    _print_report("Speakers", report)
    console.print(f"Next: twin media characters {project.id}")


@media_app.command("characters")
@handle_errors
def characters_cmd(project_id: ProjectArg, profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """The speakers found: speech time, sample lines with timestamps and a sample clip each."""
    from twin.media.characters import summary

    chars = summary(_project(profile, project_id))
    if json_out:
        emit_json({"characters": chars})
        return
    for c in chars:
        who = c["character"] + ("" if c["named"] else " (unnamed)")
        console.print(
            f"[bold]{who}[/bold] — {c['speech_s']:.0f} s solo speech, speakers {', '.join(c['speakers'])}",
            highlight=False,
        )
        for ln in c["lines"]:
            console.print(f"  {ln['start']:7.1f}s  {ln['text'][:90]}", highlight=False)
        if c["sample_clip"]:
            console.print(f"  sample: {c['sample_clip']}", highlight=False)
    console.print("Name one with: twin media name PROJECT S1 Ann  (or --character Ann --sample-at SECONDS)")


@media_app.command("name")
@handle_errors
def name_cmd(
    project_id: ProjectArg,
    speaker: Annotated[str | None, typer.Argument(help="Speaker id (S1, …) or a current character name.")] = None,
    name: Annotated[str | None, typer.Argument(help="The character's name.")] = None,
    character: Annotated[
        str | None, typer.Option("--character", "-c", help="Name to give (with --sample-at or --reference).")
    ] = None,
    sample_at: Annotated[
        float | None, typer.Option("--sample-at", help="A moment (seconds) where that character speaks.")
    ] = None,
    reference: Annotated[Path | None, typer.Option("--reference", help="A clip of the character's voice.")] = None,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Name a speaker: `name PROJECT S2 Ann`, or `--character Ann --sample-at 83.5`, or `--reference clip.wav`.
    Giving a second speaker the same name merges them."""
    from twin.media.characters import set_name
    from twin.media.service import name_character

    project = _project(profile, project_id)
    if character:
        result = name_character(project, character, sample_at, reference)
    elif speaker and name:
        result = set_name(project, speaker, name)
    else:
        raise InvalidInput(
            "Say who to name.", "Use: twin media name PROJECT S1 Ann, or --character Ann --sample-at SECONDS."
        )
    if json_out:
        emit_json(result)
        return
    console.print(f"{', '.join(result['speakers'])} → {result['character']}", highlight=False)


@media_app.command("relabel")
@handle_errors
def relabel_cmd(
    project_id: ProjectArg,
    segment_id: Annotated[str, typer.Argument(help="Segment id (s00042).")],
    name: Annotated[
        str | None, typer.Argument(help="Character (or speaker id) to move it to; 'drop' to drop it.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="Replace the segment's text.")] = None,
    restore: Annotated[bool, typer.Option("--restore", help="Undo a drop.")] = False,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Move one segment to another character, drop or restore it, or fix its text (kept across reruns)."""
    from twin.media.characters import relabel

    project = _project(profile, project_id)
    if name is None and text is None and not restore:
        raise InvalidInput("Nothing to change.", "Give a character name, 'drop', --restore or --text.")
    seg = relabel(project, segment_id, name, False if restore else None, text)
    if json_out:
        emit_json(seg.to_dict())
        return
    state = "dropped" if seg.dropped else (seg.character or seg.speaker)
    console.print(f"{seg.id} {seg.start:.1f}-{seg.end:.1f} s → {state}: {seg.text[:80]}", highlight=False)


@media_app.command("export")
@handle_errors
def export_cmd(
    project_id: ProjectArg,
    character: CharacterOpt,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="ljspeech (wavs/ + metadata.csv) or library.")
    ] = "ljspeech",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the LJSpeech export.")] = None,
    denoise: Annotated[bool, typer.Option("--denoise/--no-denoise", help="Run RNNoise on each clip.")] = False,
    min_similarity: Annotated[
        float, typer.Option("--min-similarity", help="Drop clips less similar to the character.")
    ] = 0.72,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Clean 2-15 s clips of one character, scored; low-purity clips dropped with the reason."""
    from twin.media.export import ExportOptions
    from twin.media.service import export

    if fmt not in ("ljspeech", "library"):
        raise InvalidInput(f"Unknown format '{fmt}'.", "Use --format ljspeech or --format library.")
    project = _project(profile, project_id)
    with _progress(json_out) as prog:
        report = export(project, character, fmt, out, denoise, ExportOptions(min_similarity=min_similarity), prog)  # type: ignore[arg-type]
    if json_out:
        emit_json({"clips": report["clip_list"], "dropped": report["dropped_list"], "folder": report["folder"]})
        return
    console.print(
        f"{report['clips']} clips, {report['seconds']:.0f} s of {report['character']} in {report['folder']} "
        f"({report['dropped']} dropped)",
        highlight=False,
    )
    for d in report["dropped_list"][:10]:
        console.print(f"  dropped {d['id']} {d['start']:.1f}s: {'; '.join(d['reasons'])}", highlight=False)


@media_app.command("train-voice")
@handle_errors
def train_voice_cmd(
    project_id: ProjectArg,
    character: CharacterOpt,
    evaluate: Annotated[bool, typer.Option("--eval/--no-eval", help="Measure similarity on held-out clips.")] = True,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A voice (voice id) for the character from its clips: references, trained converter, evaluation."""
    from twin.media.service import train_voice

    with _progress(json_out) as prog:
        report = train_voice(_project(profile, project_id), character, evaluate, prog)
    if json_out:
        emit_json(report)
        return
    ev = report.get("eval") or {}
    console.print(
        f"Voice {report['voice_id']} for {report['character']} ({report['train']['trained_on']} clips trained)",
        highlight=False,
    )
    if ev:
        console.print(
            f"  similarity {ev['similarity']:.2f} (base voice {ev['base_similarity']:.2f})"
            + (" — flagged: below the threshold" if ev["flagged"] else "")
        )


@media_app.command("persona")
@handle_errors
def persona_cmd(
    project_id: ProjectArg,
    character: CharacterOpt,
    llm: Annotated[
        bool | None,
        typer.Option("--llm/--no-llm", help="Summarize with the profile's LLM (default: when it is a server model)."),
    ] = None,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A persona from the character's lines (Card V2 file) and a ChatML dataset for `twin train`."""
    from twin.media.service import persona

    report = persona(_project(profile, project_id), character, llm)
    if json_out:
        emit_json(report)
        return
    console.print(f"Persona of {report['character']}: {report['card']}", highlight=False)
    console.print(
        f"Dataset {report['dataset']} ({report['train']} train / {report['val']} val): "
        f"twin train --dataset {report['dataset']}",
        highlight=False,
    )
    _print_link(report["persona_store"])


def _print_link(link: dict[str, Any]) -> None:
    if link.get("persona"):
        verb = "created" if link["created"] else "updated"
        console.print(f"Persona '{link['persona']}' {verb}. Talk with it: {link['chat']}", highlight=False)
    else:
        err_console.print(f"{link['reason']} Import it under another name: {link['import']}", highlight=False)


@media_app.command("chat")
@handle_errors
def chat_cmd(
    character: CharacterOpt,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Run one turn and exit.")] = None,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Chat with a character's persona (made by `twin media persona`), in the terminal or one turn."""
    from twin.cli.chat import chat
    from twin.media.link import publish_persona
    from twin.media.persona import PersonaDraft
    from twin.media.project import Project, list_projects, slug

    p = resolve_profile(profile)
    for meta in reversed(list_projects(p)):
        folder = Project(p, meta.id).path("persona") / slug(character)
        if (folder / "persona.json").is_file():
            draft = PersonaDraft.model_validate_json((folder / "persona.json").read_text(encoding="utf-8"))
            link = publish_persona(p, draft, folder / "card.json")
            if link.get("persona") is None:
                raise InvalidInput(link["reason"], f"Import it under another name: {link['import']}")
            if json_out and message is None:
                emit_json({"character": draft.name, "project_id": meta.id, **link})
                return
            chat(persona=link["persona"], message=message, profile=p.name, json_out=json_out)
            return
    raise InvalidInput(
        f"No persona of '{character}' in profile '{p.name}'.",
        "Make it first: twin media persona PROJECT --character NAME",
    )


@media_app.command("run")
@handle_errors
def run_cmd(
    movie: Annotated[Path, typer.Argument(help="Video or audio file.")],
    character: CharacterOpt,
    subtitles: Annotated[
        Path | None, typer.Option("--subtitles", "-s", help="Subtitle file (SRT, VTT, ASS/SSA).")
    ] = None,
    sample_at: Annotated[
        float | None, typer.Option("--sample-at", help="A moment (seconds) where the character speaks.")
    ] = None,
    reference: Annotated[Path | None, typer.Option("--reference", help="A clip of the character's voice.")] = None,
    train: Annotated[
        bool, typer.Option("--train-voice/--no-train-voice", help="Also build the character's voice.")
    ] = True,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Every stage in order (an interrupted run continues): clips, voice and persona of one character."""
    from twin.media.service import run

    p = resolve_profile(profile)
    with _progress(json_out) as prog:
        report = run(p, movie, character, subtitles, sample_at, reference, train=train, progress=prog)
    if json_out:
        emit_json(
            {
                "project_id": report["project_id"],
                "characters": report["characters"],
                "voice_id": (report.get("voice") or {}).get("voice_id"),
                "persona": report["persona"]["card"],
            }
        )
        return
    console.print(f"Project {report['project_id']}")
    table = Table("character", "clips", "seconds")
    for name, v in report["characters"].items():
        table.add_row(name, str(v["clips"]), f"{v['seconds']:.0f}")
    console.print(table)
    if report.get("voice"):
        console.print(f"Voice of {character}: {report['voice']['voice_id']}", highlight=False)
    console.print(f"Persona card: {report['persona']['card']}", highlight=False)


@media_app.command("list")
@handle_errors
def list_cmd(profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Media projects of the profile."""
    from twin.media.project import list_projects

    metas = list_projects(resolve_profile(profile))
    if json_out:
        emit_json({"projects": [_meta_json(m) for m in metas]})
        return
    table = Table("id", "title", "duration", "stages")
    for m in metas:
        table.add_row(
            m.id,
            m.title,
            f"{m.source.duration_s / 60:.1f} min",
            ", ".join(f"{k}:{v.status}" for k, v in m.stages.items()),
        )
    console.print(table)


def _meta_json(m: Any) -> dict[str, Any]:
    return {
        "id": m.id,
        "title": m.title,
        "created": m.created,
        "duration_s": m.source.duration_s,
        "stages": {k: v.status for k, v in m.stages.items()},
    }
