"""`twin write "PROMPT"`: a draft in the owner's style, streamed to the terminal (or --json)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from twin.cli.common import JsonOpt, ProfileOpt, emit_json, err_console, handle_errors, resolve_profile
from twin.errors import TooLarge
from twin.providers.llm import LLMOptions, TextDelta
from twin.writing import Draft, WritingService

MAX_STYLE_REF_BYTES = 64 * 1024


def register(root: typer.Typer) -> None:
    root.command("write")(write)


def style_reference(value: str | None) -> str | None:
    """--style-ref is a file path when such a file exists, otherwise the text itself."""
    if not value:
        return None
    path = Path(value).expanduser()
    if len(value) < 4096 and path.is_file():
        if path.stat().st_size > MAX_STYLE_REF_BYTES:
            raise TooLarge(
                f"Style reference {path} is larger than {MAX_STYLE_REF_BYTES // 1024} KiB.",
                "Pass a shorter sample of the style you want.",
            )
        return path.read_text(encoding="utf-8", errors="replace")
    return value


async def _run(svc: WritingService, prompt: str, ref: str | None, opts: LLMOptions, stream: bool) -> Draft:
    final: Draft | None = None
    async for item in svc.stream_draft(prompt, ref, opts):
        if isinstance(item, TextDelta):
            if stream:
                sys.stdout.write(item.text)
                sys.stdout.flush()
        else:
            final = item
    assert final is not None
    return final


@handle_errors
def write(
    prompt: Annotated[str, typer.Argument(help='What to write, e.g. "Thank Sam for the help with the release".')],
    profile: ProfileOpt = None,
    style_ref: Annotated[str | None, typer.Option("--style-ref", help="A file or text whose style to follow.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="GGUF path (llamacpp) or model name.")] = None,
    backend: Annotated[str | None, typer.Option("--backend", "-b", help="llamacpp, ollama, openai or fake.")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Most tokens to generate.")] = 256,
    temperature: Annotated[float, typer.Option("--temperature", help="Sampling temperature.")] = 0.7,
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Print the draft only when complete.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Draft text in your style. Uses the profile's llm.json (default: the embedded SmolLM2 model)."""
    prof = resolve_profile(profile)
    svc = WritingService(prof, backend=backend, model=model)
    opts = LLMOptions(max_tokens=max_tokens, temperature=temperature)
    stream = not (no_stream or json_out)
    draft = asyncio.run(_run(svc, prompt, style_reference(style_ref), opts, stream))
    if json_out:
        emit_json(draft.to_dict())
        return
    if stream:
        sys.stdout.write("\n")
    else:
        sys.stdout.write(draft.text + "\n")
    t = draft.timings
    err_console.print(
        f"[dim]{draft.model} · {draft.usage.completion_tokens} tokens · first token "
        f"{t.first_token_s:.2f}s · {t.tokens_per_s:.1f} tok/s[/dim]",
        highlight=False,
    )
