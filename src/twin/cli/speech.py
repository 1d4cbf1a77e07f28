"""Speech commands: `twin speak`, `twin tts-server`, `twin tts-engine …`, and `twin voice train|eval`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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

if TYPE_CHECKING:
    from twin.voice.clone.gate import GateReport
    from twin.voice.clone.training import TrainReport
    from twin.voice.engines import EngineManager

VoiceOpt = Annotated[str | None, typer.Option("--voice", "-v", help="Voice id (default: the profile's voice).")]
engine_app = typer.Typer(help="Start, stop and inspect locally installed TTS engines.", no_args_is_help=True)


def _voice(profile: object, voice: str | None) -> str | None:
    from twin.voice.synth.voices import default_voice

    return voice or default_voice(profile)  # type: ignore[arg-type]


@handle_errors
def speak(
    text: Annotated[str, typer.Argument(help="What to say.")],
    profile: ProfileOpt = None,
    voice: VoiceOpt = None,
    emotion: Annotated[str | None, typer.Option("--emotion", "-e", help="Emotion reference to use.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="wav or mp3.")] = "wav",
    engine: Annotated[str | None, typer.Option("--engine", help="Force one engine (no fallback).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file (default: speech.<format>).")] = None,
    base: Annotated[bool, typer.Option("--base", help="Use the plain base voice, not a clone.")] = False,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference",
            help="Clone from this recording instead of a saved voice (the best 30 s of speech is used).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Speak TEXT in the profile's voice and write an audio file."""
    from twin.voice.synth import Synthesizer
    from twin.voice.synth.voices import BASE_VOICE, choose_voice

    prof = resolve_profile(profile)
    if reference is not None and (voice or base):
        raise InvalidInput("Give --reference, --voice or --base, not several.", "Pick one way to choose the voice.")
    choice = choose_voice(prof, BASE_VOICE if base or reference is not None else voice)
    voice_id = None if reference is not None else choice.label
    res = Synthesizer(prof, settings()).synthesize(
        text, voice_id=voice_id, reference_audio=reference, emotion=emotion, fmt=fmt, engine=engine
    )
    path = out or Path(f"speech.{res.fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(res.audio)
    meta = {**res.meta(), "out": str(path), "reference": str(reference) if reference else None}
    if reference is None:
        meta.update(voice_id=choice.voice_id, voice=choice.source, notice=choice.notice)
    else:
        meta.update(voice_id=None, voice="reference", notice=None)
    meta.pop("text", None)
    if json_out:
        emit_json(meta)
        return
    if choice.notice and reference is None:
        err_console.print(f"[yellow]notice:[/yellow] {choice.notice}", highlight=False)
    console.print(
        f"Wrote {path} — {res.duration_s:.2f} s by [bold]{res.engine}[/bold] "
        f"(first audio {res.first_audio_s:.2f} s, RTF {res.rtf:.2f}{', cached' if res.cache_hit else ''})"
    )
    for fb in res.fallbacks:
        console.print(f"[yellow]skipped {fb['engine']}:[/yellow] {fb['reason']}", highlight=False)


@handle_errors
def tts_server(
    profile: ProfileOpt = None,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8000,
    json_out: JsonOpt = False,
) -> None:
    """Serve POST /tts {text, reference | voice_id} on 127.0.0.1 (one worker, engines kept warm).

    Every request but GET /health needs a key of the profile (Authorization: Bearer <key>), like the
    main server; Host, Origin and body size are checked the same way."""
    try:
        import uvicorn

        from twin.api.tts_server import build_tts_app
    except ImportError as exc:
        from twin.errors import MissingDependency

        raise MissingDependency.for_extra("twin tts-server", "server", exc.name or "uvicorn") from None
    from twin.api.logs import access_log_config
    from twin.cli.serve import twin_command

    prof = resolve_profile(profile)
    app = build_tts_app(prof, settings=settings())
    url = f"http://127.0.0.1:{port}"
    key_cmd = f"{twin_command()} keys create --profile {prof.name}"
    if json_out:
        emit_json(
            {
                "url": url,
                "profile": prof.name,
                "endpoints": ["POST /tts", "GET /health"],
                "auth": "Authorization: Bearer <key>",
                "key_command": key_cmd,
            }
        )
    else:
        err_console.print(f"twin tts-server for profile '{prof.name}' on {url}", soft_wrap=True, highlight=False)
        err_console.print(f"Get a key with:  {key_cmd}", soft_wrap=True, highlight=False)
        err_console.print("Send it as:      Authorization: Bearer <key>", soft_wrap=True, highlight=False)
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", log_config=access_log_config())


def _engines(profile: str | None) -> EngineManager:
    from twin.voice.engines import EngineManager
    from twin.voice.synth.config import load_config

    prof = resolve_profile(profile)
    return EngineManager(prof, load_config(prof).engines)


@engine_app.command("start")
@handle_errors
def engine_start(name: str, profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Start engine NAME (its command comes from voice/tts.json) and wait until it is healthy."""
    st = _engines(profile).start(name)
    emit_json(st.to_dict()) if json_out else console.print(f"{name}: running (pid {st.pid})")


@engine_app.command("stop")
@handle_errors
def engine_stop(name: str, profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Stop engine NAME."""
    st = _engines(profile).stop(name)
    emit_json(st.to_dict()) if json_out else console.print(f"{name}: stopped")


@engine_app.command("status")
@handle_errors
def engine_status(name: str, profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Is engine NAME running and healthy?"""
    st = _engines(profile).status(name)
    if json_out:
        emit_json(st.to_dict())
    else:
        state = "running" if st.running else "stopped"
        console.print(f"{name}: {state}" + (f", healthy={st.healthy}" if st.running else ""))


@engine_app.command("logs")
@handle_errors
def engine_logs(
    name: str,
    profile: ProfileOpt = None,
    lines: Annotated[int, typer.Option("--lines", "-n")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """The last lines of engine NAME's log."""
    text = _engines(profile).logs(name, lines)
    emit_json({"engine": name, "log": text}) if json_out else typer.echo(text)


@handle_errors
def voice_train(
    profile: ProfileOpt = None,
    voice: VoiceOpt = None,
    max_clips: Annotated[int, typer.Option("--max-clips", help="Most clips to train on.")] = 150,
    force: Annotated[
        bool, typer.Option("--force", help="Make the new converter active even when it makes the voice worse.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Train the embedded clone's converter on the prepared, transcribed library (CPU, minutes).

    The new converter is compared with the voice as it is now; it becomes active only when it is not
    harder to understand and not less like you (on a terminal you are asked; --force accepts it)."""
    from twin.voice.clone.training import train_voice

    prof = resolve_profile(profile)
    voice_id = _voice(prof, voice)
    if not voice_id:
        raise InvalidInput("No voice given and the profile has no default voice.", "Pass --voice VOICE_ID.")
    report = train_voice(
        prof, voice_id, max_utterances=max_clips, progress=_train_progress(json_out), accept=_accept(force, json_out)
    )
    if json_out:
        emit_json(report.to_dict())
    else:
        _print_train(report)
    if not report.activated:
        raise typer.Exit(1)


def _train_progress(json_out: bool) -> Callable[[int, int], None] | None:
    if json_out:
        return None

    def show(i: int, n: int) -> None:
        if i == n or i % 10 == 0:
            err_console.print(f"[dim]read {i}/{n} clips…[/dim]", highlight=False)

    return show


def _accept(force: bool, json_out: bool) -> Callable[[GateReport], bool]:
    """--force accepts a converter that failed the checks; otherwise a person at a terminal is asked."""

    def decide(report: GateReport) -> bool:
        if force:
            return True
        if json_out or not is_tty() or not sys.stdin.isatty():
            return False
        for check in report.checks:
            mark = "[green]ok[/green]" if check.passed else "[red]failed[/red]"
            err_console.print(f"{check.name}: {check.message} — {mark}", highlight=False)
        return typer.confirm("The new converter makes the voice worse. Use it anyway?", default=False, err=True)

    return decide


def _print_train(report: TrainReport) -> None:
    console.print(
        f"Trained {report.voice_id} on {report.trained_on} clips ({report.frames} aligned frames, "
        f"{report.components} components) in {report.seconds:.0f} s; {report.held_out} held out.",
        highlight=False,
    )
    gate = report.gate or {}
    for check in gate.get("checks", []):
        mark = "ok" if check["passed"] else "FAILED"
        console.print(f"  {check['name']}: {check['message']} — {mark}", highlight=False)
    if gate:
        console.print(f"  (compared with {gate['compared_with']})", highlight=False)
    for line in gate.get("advice", []):
        console.print(f"[yellow]advice:[/yellow] {line}", highlight=False)
    if not report.activated:
        console.print(
            "[red]Not made active:[/red] the voice keeps its current sound. "
            "Run `twin voice train --force` to use the new converter anyway."
        )
    elif report.forced:
        console.print("[yellow]Made active although it failed the checks (--force).[/yellow]")
    else:
        console.print("The new converter is active.")


@handle_errors
def voice_eval(
    profile: ProfileOpt = None,
    voice: VoiceOpt = None,
    engine: Annotated[str | None, typer.Option("--engine")] = None,
    no_stt: Annotated[bool, typer.Option("--no-stt", help="Skip the WER check.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Score a voice: speaker similarity to held-out owner clips, WER, RTF and first-audio time."""
    from twin.voice.eval import evaluate_voice

    prof = resolve_profile(profile)
    voice_id = _voice(prof, voice)
    if not voice_id:
        raise InvalidInput("No voice given and the profile has no default voice.", "Pass --voice VOICE_ID.")
    report = evaluate_voice(prof, voice_id, engine=engine, use_stt=not no_stt)
    if json_out:
        emit_json(report.to_dict())
        return
    flag = " [red]below threshold[/red]" if report.flagged else ""
    console.print(
        f"{voice_id} via {report.engine}: similarity {report.similarity:.3f} (base voice "
        f"{report.base_similarity:.3f}){flag}, WER {report.wer}, RTF {report.rtf:.2f}, "
        f"first audio {report.first_audio_s:.2f} s"
    )


def register(root: typer.Typer) -> None:
    root.command("speak")(speak)
    root.command("tts-server")(tts_server)
    root.add_typer(engine_app, name="tts-engine")
    from twin.cli.voice import voice_app

    voice_app.command("train")(voice_train)
    voice_app.command("eval")(voice_eval)
