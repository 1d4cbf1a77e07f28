"""`twin export`: a trained run → GGUF (LoRA or merged), Modelfile, README, optional Ollama registration,
recorded in the profile's models folder and, with --activate, made the profile's writing model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, resolve_profile
from twin.cli.progress import event_printer


def register(root: typer.Typer) -> None:
    root.command("export", help="Turn a trained run into a GGUF + Modelfile servable by Ollama, llama.cpp, vLLM.")(
        export
    )


def _size(path: str) -> str:
    n = Path(path).stat().st_size
    return f"{n / 1024**2:.1f} MiB" if n >= 1024**2 else f"{n / 1024:.1f} KiB"


def print_result(out: dict[str, Any], name: str, activated: bool, registered: bool) -> None:
    console.print(f"Exported [bold]{name}[/bold] to {out['folder']}:")
    for key, label in (
        ("adapter_gguf", "GGUF LoRA"),
        ("base_gguf", "base GGUF"),
        ("model_gguf", "model GGUF"),
        ("modelfile", "Modelfile"),
        ("readme", "README"),
    ):
        if out.get(key):
            console.print(f"  {label:<10} {out[key]} ({_size(out[key])})", highlight=False)
    if registered:
        console.print(f"Registered '{name}' in Ollama; smoke reply: {out['smoke']['text']!r}")
    console.print("Next:")
    if activated:
        console.print(f'  twin write "…"                         drafts with {name} now (twin model list)')
    else:
        console.print(f"  twin model use {name}                  make it the profile's writing model")
    if not registered and ("model_gguf" in out or "base_gguf" in out):
        console.print(f"  ollama create {name} -f {out['modelfile']}")


@handle_errors
def export(
    run: Annotated[str, typer.Option("--run", "-r", help="Run name (from `twin train`).")],
    name: Annotated[str, typer.Option("--name", "-n", help="Model name in Ollama and the export folder.")] = (
        "twin-writing"
    ),
    merge: Annotated[bool, typer.Option("--merge", help="Merge the adapter into the base and write one GGUF.")] = False,
    quantize: Annotated[str | None, typer.Option("--quantize", help="Quantize the merged GGUF, e.g. q4_k_m.")] = None,
    register_: Annotated[
        bool, typer.Option("--register", help="Create the model in Ollama and smoke-test it.")
    ] = False,
    activate: Annotated[
        bool, typer.Option("--activate", help="Make it the profile's writing model (twin write, the API, chat).")
    ] = False,
    ollama_host: Annotated[str, typer.Option("--ollama-host", help="Ollama HTTP API address.")] = (
        "http://127.0.0.1:11434"
    ),
    ollama_from: Annotated[
        str | None,
        typer.Option(
            "--from", help="Existing Ollama model to use as FROM (e.g. qwen2.5:7b-instruct) instead of a GGUF."
        ),
    ] = None,
    system: Annotated[
        str | None,
        typer.Option("--system", help="SYSTEM prompt for the Modelfile (default: the one the training data used)."),
    ] = None,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Export a run's adapter (GGUF LoRA by default, or --merge [--quantize]) and write its Modelfile."""
    from twin.export.pipeline import ExportOptions
    from twin.export.to_profile import export_to_profile

    prof = resolve_profile(profile)
    opts = ExportOptions(
        name=name,
        merge=merge,
        quantize=quantize,
        register=register_,
        host=ollama_host,
        ollama_from=ollama_from,
        system=system,
    )
    out = export_to_profile(prof, run, opts, activate_it=activate, on_event=event_printer("export"))
    if json_out:
        emit_json(out)
        return
    print_result(out, name, activate, register_)
