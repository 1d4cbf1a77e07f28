"""`twin model list|use|add`: the profile's writing models and which one drafts.

`use` writes <profile>/llm.json, which `twin write`, the API and persona chat all read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, resolve_profile
from twin.errors import InvalidInput
from twin.models.activate import Runtime, activate, active_record, use_base
from twin.models.store import ModelRecord, add_local, for_run, list_models
from twin.profiles import Profile
from twin.providers.llm import load_llm_config

model_app = typer.Typer(help="List, add and choose the profile's writing models.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(model_app, name="model")


def _row(m: ModelRecord, active: str | None) -> dict[str, Any]:
    serves = m.adapter_gguf or m.model_gguf or m.checkpoint or m.ollama_model
    return {
        "name": m.name,
        "kind": m.kind,
        "active": m.name == active,
        "run": m.run,
        "base": m.base or m.base_gguf,
        "file": serves,
        "trained_prompt": bool(m.system_prompts),
        "usable_for": "training base"
        if m.kind == "local_checkpoint"
        else "drafting" + (" and training base" if m.kind == "local_gguf" else ""),
    }


def _state(p: Profile) -> dict[str, Any]:
    cfg = load_llm_config(p)
    record = active_record(p, cfg)
    if record is not None:
        active = record.name
    elif cfg.backend == "llamacpp" and not cfg.model and not cfg.lora_path:
        active = "base"
    else:
        active = None  # llm.json (or the environment) points somewhere twin did not set
    return {
        "active": active,
        "llm": cfg.model_dump(exclude_defaults=True) | {"backend": cfg.backend},
        "models": [_row(m, active) for m in list_models(p)],
    }


@model_app.command("list")
@handle_errors
def list_cmd(profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Show the embedded base, exported and registered models, and which one drafts."""
    state = _state(resolve_profile(profile))
    if json_out:
        emit_json(state)
        return
    table = Table("", "name", "kind", "run", "serves", "use")
    base_mark = "*" if state["active"] == "base" else ""
    table.add_row(base_mark, "base", "embedded", "", "SmolLM2-135M-Instruct (a tiny demo model)", "drafting")
    for r in state["models"]:
        table.add_row(
            "*" if r["active"] else "", r["name"], r["kind"], r["run"] or "", r["file"] or "", r["usable_for"]
        )
    console.print(table)
    if state["active"] is None:
        console.print(f"Drafting uses llm.json as written by hand: {state['llm']}", highlight=False)
    console.print("Change it with: twin model use NAME | --run RUN | --base")


@model_app.command("use")
@handle_errors
def use(
    name: Annotated[str | None, typer.Argument(help="Model name from `twin model list`.")] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="The model exported from this run (exported now if not yet).")
    ] = None,
    base: Annotated[bool, typer.Option("--base", help="Draft with the embedded base model, no adapter.")] = False,
    runtime: Annotated[str, typer.Option("--runtime", help="auto, llamacpp (embedded) or ollama.")] = "auto",
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Make a model the profile's writing model (twin write, the API and chat use it)."""
    p = resolve_profile(profile)
    if sum(bool(x) for x in (name, run, base)) != 1:
        raise InvalidInput("Name exactly one of: a model, --run RUN or --base.", "See the models: twin model list")
    if runtime not in ("auto", "llamacpp", "ollama"):
        raise InvalidInput(f"Unknown runtime '{runtime}'.", "Use --runtime auto, llamacpp or ollama.")
    if base:
        cfg = use_base(p)
    else:
        target = name or _model_for_run(p, run or "")
        cfg = activate(p, target, _runtime(runtime))
    out = {
        "active": cfg.active_model or "base",
        "llm": cfg.model_dump(exclude_defaults=True) | {"backend": cfg.backend},
    }
    if json_out:
        emit_json(out)
        return
    console.print(f'Drafting with [bold]{out["active"]}[/bold] ({cfg.backend}). Try: twin write "…"')


def _model_for_run(p: Profile, run: str) -> str:
    record = for_run(p, run)
    if record is not None:
        return record.name
    from twin.cli.progress import event_printer
    from twin.export.pipeline import ExportOptions
    from twin.export.to_profile import export_to_profile

    export_to_profile(p, run, ExportOptions(name=run), on_event=event_printer("export"))
    return run


@model_app.command("add")
@handle_errors
def add(
    path: Annotated[Path, typer.Argument(help="A local .gguf model or a Hugging Face checkpoint folder.")],
    name: Annotated[str | None, typer.Option("--name", "-n", help="Name for it (default: from the file name).")] = None,
    use_it: Annotated[bool, typer.Option("--use", help="Also make it the writing model (GGUF only).")] = False,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Register a local model, e.g. Qwen2.5-7B-Instruct Q4_K_M (drafting) or a checkpoint (a training base)."""
    p = resolve_profile(profile)
    record = add_local(p, path, name)
    out: dict[str, Any] = {"model": record.model_dump(exclude_none=True)}
    if use_it:
        out["llm"] = activate(p, record.name).model_dump(exclude_defaults=True)
    if json_out:
        emit_json(out)
        return
    what = "a training base (twin train picks it)" if record.kind == "local_checkpoint" else "a drafting model"
    console.print(f"Added [bold]{record.name}[/bold] ({what}) → {path}")
    if not use_it and record.kind == "local_gguf":
        console.print(f"Draft with it: twin model use {record.name}")


def _runtime(value: str) -> Runtime:
    if value == "llamacpp":
        return "llamacpp"
    return "ollama" if value == "ollama" else "auto"
