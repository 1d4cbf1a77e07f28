"""`twin talk`: a spoken conversation with a persona from the terminal's microphone and speakers, or one
turn from a recording (`--input question.wav --output reply.wav`), which is also how to check a setup."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from twin.cli.common import JsonOpt, ProfileOpt, emit_json, err_console, handle_errors, resolve_profile, settings
from twin.errors import InvalidInput

if TYPE_CHECKING:
    from twin.profiles import Profile
    from twin.realtime.events import Hello, ServerEvent
    from twin.realtime.local import FileTurn


@handle_errors
def talk(
    profile: ProfileOpt = None,
    persona: Annotated[str, typer.Option("--persona", help="Persona name or id.")] = "twin",
    conversation: Annotated[str | None, typer.Option("--conversation", help="Continue this conversation.")] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="Say what this recording says (one turn), no microphone.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the spoken reply here (WAV).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Talk with your twin: it listens, answers in its voice, and can be interrupted."""
    from twin.realtime.events import Hello

    prof = resolve_profile(profile)
    if output is not None and input_file is None:
        raise InvalidInput("--output needs --input.", "Give the recording to answer: --input question.wav")
    if input_file is None:
        if json_out:
            raise InvalidInput("--json needs --input (a live talk has no single result).", "Add --input FILE.wav")
        asyncio.run(_live(prof, persona, conversation))
        return
    hello = Hello(type="hello", sample_rate=16000, persona=persona, conversation_id=conversation, mode="push_to_talk")
    result = asyncio.run(_file(prof, hello, input_file))
    out = output or Path("reply.wav")
    from twin.audio.encode import save_wav

    if result.audio:
        save_wav(out, result.samples, result.sample_rate)
    data = {**result.to_dict(), "input": str(input_file), "output": str(out) if result.audio else None}
    if json_out:
        emit_json(data)
        return
    typer.echo(f"you:  {result.transcript or '(no speech heard)'}")
    typer.echo(f"twin: {result.reply}")
    for error in result.errors:
        err_console.print(f"[yellow]{error['code']}:[/yellow] {error['message']}", highlight=False)
    if result.audio:
        typer.echo(f"reply spoken to {out} ({data['audio_s']} s, first audio after {data['first_audio_s']} s)")


async def _file(prof: Profile, hello: Hello, path: Path) -> FileTurn:
    from twin.audio.decode import load_audio
    from twin.realtime.engines import local_engines
    from twin.realtime.local import talk_file

    audio, rate = await asyncio.to_thread(load_audio, path, None, True, name=path.name)
    if not 8000 <= rate <= 48000:
        audio, rate = await asyncio.to_thread(load_audio, path, 16000, True, name=path.name)
    hello = hello.model_copy(update={"sample_rate": rate})
    async with local_engines(prof, settings(), hello) as (engines, config):
        return await talk_file(engines, config, audio, rate, hello)


async def _live(prof: Profile, persona: str, conversation: str | None) -> None:
    from twin.realtime.device import SoundDevice
    from twin.realtime.engines import local_engines
    from twin.realtime.events import Hello
    from twin.realtime.local import talk_live

    device = SoundDevice(16000)
    hello = Hello(type="hello", sample_rate=16000, persona=persona, conversation_id=conversation)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    err_console.print("Listening… speak any time (Ctrl-C to stop).")
    async with local_engines(prof, settings(), hello) as (engines, config):
        await talk_live(engines, config, device, hello, _show, stop)


def _show(event: ServerEvent) -> None:
    from twin.realtime.events import AssistantDelta, AssistantMessage, Error, FinalTranscript, Interrupted

    if isinstance(event, FinalTranscript) and event.text:
        typer.echo(f"\nyou:  {event.text}\ntwin: ", nl=False)
    elif isinstance(event, AssistantDelta):
        typer.echo(event.text, nl=False)
    elif isinstance(event, AssistantMessage):
        typer.echo("")
    elif isinstance(event, Interrupted):
        typer.echo(" [interrupted]")
    elif isinstance(event, Error):
        err_console.print(f"[yellow]{event.code}:[/yellow] {event.message}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("talk")(talk)
