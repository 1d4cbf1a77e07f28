"""`twin chat`: talk with a persona in the terminal (streaming), or run exactly one turn with --message.
Commands in the interactive chat: /memory [QUERY], /forget ID, /new, /quit. Memory extraction for a turn
has finished when the command exits."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Annotated

import typer

from twin.chat.service import ChatService, TurnResult
from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, err_console, handle_errors, resolve_profile
from twin.errors import InvalidInput, TwinError
from twin.providers.llm import LLMOptions, TextDelta, open_llm

HELP = "/memory [QUERY] shows what I remember · /forget ID deletes a memory · /new starts over · /quit leaves"


def register(root: typer.Typer) -> None:
    root.command("chat")(chat)


async def _one(svc: ChatService, text: str, persona: str | None, conv: str | None, opts: LLMOptions,
               use_memory: bool, stream: bool, first: bool = False) -> TurnResult:  # fmt: skip
    final: TurnResult | None = None
    try:
        if first:
            await svc.warm_up(None if conv else persona, use_memory)
        async for event in svc.stream_turn(text, persona, conv, use_memory=use_memory, options=opts):
            if isinstance(event, TextDelta):
                if stream:
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
            else:
                final = event
    finally:
        await svc.drain()
    assert final is not None
    return final


def _command(svc: ChatService, line: str, persona: str | None) -> bool:
    """Handle a /command; False means quit."""
    cmd, _, arg = line.partition(" ")
    if cmd in ("/quit", "/exit", "/q"):
        return False
    if cmd == "/memory":
        pid = svc.personas.get(persona).id
        items = (
            svc.memory.search_sync(arg, pid, 10) if arg.strip() else svc.memory.store.query(persona_id=pid, limit=20)
        )
        for i in items:
            console.print(f"[dim]{i.id}[/dim] {i.text}", highlight=False)
        if not items:
            console.print("[dim]Nothing remembered yet.[/dim]")
    elif cmd == "/forget" and arg.strip():
        try:
            console.print(f"Forgot: {svc.memory.forget(arg.strip()).text}", highlight=False)
        except TwinError as exc:
            err_console.print(f"[red]{exc.message}[/red]")
    else:
        console.print(HELP)
    return True


@handle_errors
def chat(
    persona: Annotated[str | None, typer.Option("--persona", help="Persona to talk with (default: twin).")] = None,
    conversation: Annotated[str | None, typer.Option("--conversation", help="Continue this conversation id.")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Run one turn and exit.")] = None,
    backend: Annotated[str | None, typer.Option("--backend", "-b", help="llamacpp, ollama, openai or fake.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="GGUF path or model name.")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens")] = 256,
    no_memory: Annotated[bool, typer.Option("--no-memory", help="Neither recall nor remember this time.")] = False,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Chat with your twin or another persona; it remembers what you tell it."""
    prof = resolve_profile(profile)
    if json_out and message is None:
        raise InvalidInput(
            "--json runs one turn: say what to send with --message.", 'twin chat --message "Hello" --json'
        )
    llm = open_llm(prof, backend=backend, model=model) if (backend or model) else None
    svc = ChatService(prof, llm=llm)
    opts = LLMOptions(max_tokens=max_tokens)
    try:
        if message is not None:
            result = asyncio.run(_one(svc, message, persona, conversation, opts, not no_memory, not json_out, True))
            if json_out:
                emit_json({
                    "conversation_id": result.conversation_id, "reply": result.reply,
                    "memories_used": result.memories_used, "timings": result.timings,
                    "interrupted": result.interrupted, "model": result.model,
                })  # fmt: skip
            else:
                sys.stdout.write("\n")
            return
        _interactive(svc, persona, conversation, opts, not no_memory)
    finally:
        svc.close()


def _interactive(svc: ChatService, persona: str | None, conv: str | None, opts: LLMOptions, use_memory: bool) -> None:
    chosen = svc.personas.get(persona)
    console.print(f"[bold]{chosen.label()}[/bold] — {HELP}")
    if chosen.greeting and conv is None:
        console.print(f"[green]{chosen.label()}[/green]: {chosen.greeting}", highlight=False)
    if use_memory:  # the embedding model loads while the user types
        threading.Thread(target=svc.memory.warm_up, name="twin-memory-warmup", daemon=True).start()
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                line = console.input("[bold cyan]you[/bold cyan]: ").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if not line:
                continue
            if line.startswith("/"):
                if line == "/new":
                    conv = None
                    console.print("[dim]New conversation.[/dim]")
                elif not _command(svc, line, chosen.name):
                    break
                continue
            console.print(f"[green]{chosen.label()}[/green]: ", end="")
            try:
                result = loop.run_until_complete(_one(svc, line, chosen.name, conv, opts, use_memory, True))
                conv = result.conversation_id
                sys.stdout.write("\n")
            except KeyboardInterrupt:
                sys.stdout.write(" [stopped]\n")
            except TwinError as exc:
                err_console.print(f"\n[red]error:[/red] {exc.message}", highlight=False)
    finally:
        loop.run_until_complete(svc.drain())
        loop.close()
