"""`twin export`: a trained run → GGUF (LoRA or merged), Modelfile, README, optional Ollama registration."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, resolve_profile
from twin.ids import check_name


def register(root: typer.Typer) -> None:
    root.command("export", help="Turn a trained run into a GGUF + Modelfile servable by Ollama, llama.cpp, vLLM.")(
        export
    )


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
    from twin.export.pipeline import ExportOptions, export_run
    from twin.train.rundir import RunDir

    prof = resolve_profile(profile)
    check_name(name, "model name")
    folder = prof.models_dir / name
    opts = ExportOptions(
        name=name,
        merge=merge,
        quantize=quantize,
        register=register_,
        host=ollama_host,
        ollama_from=ollama_from,
        system=system,
    )

    def emit(event: dict[str, Any]) -> None:
        if json_out:
            sys.stdout.write(json.dumps(event, default=str) + "\n")
        else:
            console.print(f"[dim]{event['event']}[/dim]")

    result = export_run(RunDir(prof.run_dir(run)), folder, opts, emit)
    if json_out:
        emit_json(result)
        return
    console.print(f"Exported to {folder}")
    console.print(f"  Modelfile: {result['modelfile']}\n  README:    {result['readme']}")
    if register_:
        console.print(f"Registered '{name}' in Ollama; smoke reply: {result['smoke']['text']!r}")
    else:
        console.print(f"Register with: ollama create {name} -f {result['modelfile']}")
