"""`twin write "PROMPT"`: a draft in the owner's style, streamed to the terminal (or --json);
`twin write --settings` / `--set KEY=VALUE` / `--unset KEY` show and change <profile>/writing.json."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, err_console, handle_errors, resolve_profile
from twin.errors import InvalidInput, TooLarge
from twin.profiles import Profile
from twin.providers.llm import TextDelta
from twin.writing import Draft, WritingService
from twin.writing.settings import describe, load_writing_settings, settings_path, update_writing_settings

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


async def _run(svc: WritingService, prompt: str, ref: str | None, opts: dict[str, Any], stream: bool) -> Draft:
    final: Draft | None = None
    async for item in svc.stream_draft(prompt, ref, **opts):
        if isinstance(item, TextDelta):
            if stream:
                sys.stdout.write(item.text)
                sys.stdout.flush()
        else:
            final = item
    assert final is not None
    return final


def _settings(prof: Profile, assignments: list[str], unset: list[str], json_out: bool) -> None:
    settings = (
        update_writing_settings(prof, assignments, unset) if assignments or unset else load_writing_settings(prof)
    )
    rows = describe(settings)
    if json_out:
        emit_json({"path": str(settings_path(prof)), "settings": settings.model_dump(), "fields": rows})
        return
    table = Table("setting", "value", "meaning")
    for r in rows:
        value = json.dumps(r["value"], ensure_ascii=False)
        table.add_row(r["key"], f"[bold]{escape(value)}[/bold]" if r["set"] else escape(value), escape(r["help"]))
    console.print(table)
    console.print(f"Stored in {settings_path(prof)}; change with: twin write --set KEY=VALUE (--unset KEY resets)")


@handle_errors
def write(
    prompt: Annotated[
        str | None, typer.Argument(help='What to write, e.g. "Thank Sam for the help with the release".')
    ] = None,
    profile: ProfileOpt = None,
    style_ref: Annotated[str | None, typer.Option("--style-ref", help="A file or text whose style to follow.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="GGUF path (llamacpp) or model name.")] = None,
    backend: Annotated[str | None, typer.Option("--backend", "-b", help="llamacpp, ollama, openai or fake.")] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option("--max-tokens", help="Most tokens to generate (default: fits your own messages' length)."),
    ] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", help="Sampling temperature.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="chat or email (default: from the request).")] = None,
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Print the draft only when complete.")] = False,
    show_settings: Annotated[
        bool, typer.Option("--settings", help="Show the profile's writing settings (writing.json) and exit.")
    ] = False,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Change a writing setting, e.g. --set max_tokens=200 (repeatable)."),
    ] = None,
    unset: Annotated[list[str] | None, typer.Option("--unset", help="Reset a writing setting to its default.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Draft text in your style with the profile's active model (`twin model list`; default: the embedded SmolLM2)."""
    prof = resolve_profile(profile)
    if show_settings or set_ or unset:
        if prompt:
            raise InvalidInput(
                "Give either a request to draft or --settings/--set/--unset, not both.",
                'Change settings first (twin write --set KEY=VALUE), then draft: twin write "…"',
            )
        _settings(prof, set_ or [], unset or [], json_out)
        return
    if not prompt:
        raise InvalidInput("Say what to write.", 'Example: twin write "Thank Sam for the help with the release"')
    settings = load_writing_settings(prof)
    if channel:
        if channel not in ("chat", "email", "auto"):
            raise InvalidInput(f"Unknown channel '{channel}'.", "Use --channel chat or --channel email.")
        settings = settings.model_copy(update={"channel": channel})
    svc = WritingService(prof, settings, backend=backend, model=model)
    opts = {k: v for k, v in (("max_tokens", max_tokens), ("temperature", temperature)) if v is not None}
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
    adapter = f" + {draft.adapter}" if draft.adapter else ""
    active = f" (model {draft.active_model}, trained prompt)" if draft.prompt == "trained" else " (few-shot prompt)"
    err_console.print(
        f"[dim]{draft.model}{adapter}{active} · {draft.usage.completion_tokens} tokens · first token "
        f"{t.first_token_s:.2f}s · {t.tokens_per_s:.1f} tok/s[/dim]",
        highlight=False,
    )
