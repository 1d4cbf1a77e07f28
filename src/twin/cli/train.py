"""`twin train`: LoRA/QLoRA fine-tuning of a base model on a profile's dataset.

Progress goes to stderr: a live bar on a terminal, plain periodic lines (step, loss, ETA) otherwise.
With --json, stdout holds exactly one JSON document at the end."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, is_tty, resolve_profile
from twin.cli.progress import event_printer
from twin.errors import InvalidInput, NotFound
from twin.profiles import Profile
from twin.train.base_models import ALIASES
from twin.train.extra import require_train_extra

_QUIET = {"train", "eval", "summary"}  # step records: shown by the trainer's own progress display


def register(root: typer.Typer) -> None:
    root.command("train", help="Fine-tune a LoRA adapter on a dataset (TRL + PEFT); see `twin export` after.")(train)


def _events() -> Any:
    show = event_printer("train")

    def emit(event: dict[str, Any]) -> None:
        if event.get("event") not in _QUIET:
            show(event)

    return emit


def _latest_incomplete(runs_dir: Path) -> str:
    from twin.train.rundir import RunDir

    candidates = [
        p for p in sorted(runs_dir.glob("*")) if RunDir(p).exists() and RunDir(p).manifest().get("status") != "complete"
    ]
    if not candidates:
        raise NotFound("No unfinished run to resume.", "Pass --run NAME, or start a new run without --resume.")
    return max(candidates, key=lambda p: p.stat().st_mtime).name


def _print_config(json_out: bool) -> None:
    from twin.train.config import TrainConfig, field_help

    defaults = TrainConfig().model_dump(mode="json")
    if json_out:
        emit_json({k: {"default": defaults[k], "help": h} for k, h in field_help().items()})
        return
    for key, text in field_help().items():
        typer.echo(f"# {text}\n{key}: {json.dumps(defaults[key])}")


def _smoke(json_out: bool) -> None:
    from twin.train.smoke import run_smoke

    result = run_smoke(_events())
    if json_out:
        emit_json(result)
        return
    print_smoke(result)


def print_smoke(result: dict[str, Any]) -> None:
    console.print("[bold green]Smoke test passed[/bold green]: training, GGUF export and llama.cpp work here.")
    for s in result["steps"]:
        console.print(f"  {s['step']:<11} {s['seconds']:>7.1f} s", highlight=False)
    console.print(f"  generated   {result['generated_tokens']} tokens: {result['text']!r}", highlight=False)
    console.print("Next: twin train --profile P --dataset default")


def _summary(rd: Any, report: dict[str, Any], manifest: dict[str, Any]) -> None:
    p = report["perplexity"]
    console.print(
        f"Run [bold]{rd.path.name}[/bold] done on {manifest['base'].get('label') or manifest['base']['spec']}. "
        f"Validation perplexity: base {p['base_ppl']} → adapter {p['adapter_ppl']}. Report: {rd.report_md}"
    )
    console.print(f"Next: twin export --run {rd.path.name} --name twin-writing --activate")


def _prepare(prof: Profile, dataset: str | None, run: str | None, cfg_path: Path | None, **overrides: Any) -> Any:
    from twin.train.config import build_config
    from twin.train.rundir import RunDir
    from twin.train.runner import prepare_run

    if not dataset:
        raise InvalidInput("--dataset is required.", "Name the dataset built with `twin dataset build`.")
    cfg = build_config(cfg_path, **overrides)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    rd = RunDir(prof.run_dir(run or f"{dataset}-{stamp}"))
    if rd.exists():
        raise InvalidInput(f"Run '{rd.path.name}' already exists.", "Pick another --run name or add --resume.")
    manifest = prepare_run(rd, cfg, prof.dataset_dir(dataset), dataset, prof, on_event=_events())
    _events()({"event": "prepared", "run": rd.path.name, "base": manifest["base"]["spec"]})
    return rd, cfg


def _train(
    prof: Profile,
    dataset: str | None,
    run: str | None,
    config: Path | None,
    resume: bool,
    overrides: dict[str, Any],
    export_llamafactory: bool,
    launch: tuple[str, int, str],
    json_out: bool,
) -> tuple[Any, dict[str, Any]]:
    """Prepare (or find the run to resume) and train it locally or under accelerate; (run, report)."""
    from twin.train.rundir import RunDir
    from twin.train.runner import execute_run, read_report

    if resume:
        rd = RunDir(prof.run_dir(run or _latest_incomplete(prof.runs_dir)))
        rd.manifest()
    else:
        rd, cfg = _prepare(prof, dataset, run, config, **overrides)
        if export_llamafactory:
            from twin.train.launchers import export_llamafactory as write_lf

            _events()({"event": "llamafactory", **write_lf(rd, cfg, prof.dataset_dir(dataset or ""))})
    launcher, num_processes, strategy = launch
    if launcher == "accelerate":
        from twin.train.launchers import accelerate_command, write_accelerate_config

        cmd = accelerate_command(rd, write_accelerate_config(rd, num_processes, strategy), resume)
        _events()({"event": "launch", "command": " ".join(cmd)})
        if _run_to_stderr(cmd) != 0:
            raise InvalidInput(
                f"accelerate launch failed for run {rd.path.name}.",
                f"See the output above; resume with: twin train --resume --run {rd.path.name}",
            )
        return rd, read_report(rd)
    display = "bar" if is_tty() and not json_out else "lines"
    return rd, execute_run(rd, resume=resume, on_event=_events(), progress=display)


def _run_to_stderr(cmd: list[str]) -> int:
    """Run a launcher with its output copied to stderr (stdout is kept for the JSON result)."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stderr.write(line)
        return proc.wait()


@handle_errors
def train(
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Dataset name (from `twin dataset`).")] = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="Base model (default auto: the best one on this machine): a model from `twin model list`, a "
            f"checkpoint folder, a .gguf file or an alias ({', '.join(sorted(ALIASES))}).",
        ),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML file of TrainConfig fields.")] = None,
    run: Annotated[str | None, typer.Option("--run", help="Run name (default: <dataset>-<timestamp>).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its checkpoint.")] = False,
    rank: Annotated[int | None, typer.Option("--rank", help="LoRA rank (8 style-only, 16 default).")] = None,
    epochs: Annotated[float | None, typer.Option("--epochs", help="Passes over the data (1–3).")] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="Stop after this many steps.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Allow settings outside the safe range.")] = False,
    export_llamafactory: Annotated[
        bool,
        typer.Option("--export-llamafactory", help="Also write an equivalent LLaMA-Factory YAML + dataset_info.json."),
    ] = False,
    launcher: Annotated[str, typer.Option("--launcher", help="'local' or 'accelerate' (multi-GPU).")] = "local",
    num_processes: Annotated[int, typer.Option("--num-processes", help="GPUs for --launcher accelerate.")] = 1,
    strategy: Annotated[str, typer.Option("--strategy", help="ddp, fsdp or deepspeed (accelerate).")] = "ddp",
    smoke: Annotated[bool, typer.Option("--smoke", help="Check the installation on a tiny model.")] = False,
    print_config: Annotated[
        bool,
        typer.Option(
            "--print-config", help="Print every TrainConfig field with its default and help, as a --config YAML."
        ),
    ] = False,
    profile: ProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Train a LoRA adapter. Writes a run folder with config, manifest, metrics, checkpoints and a report."""
    if print_config:
        _print_config(json_out)
        return
    require_train_extra()
    if smoke:
        _smoke(json_out)
        return
    if launcher not in ("local", "accelerate") or strategy not in ("ddp", "fsdp", "deepspeed"):
        raise InvalidInput(
            f"Unknown launcher/strategy '{launcher}/{strategy}'.",
            "Use --launcher local|accelerate and --strategy ddp|fsdp|deepspeed.",
        )
    prof = resolve_profile(profile)
    overrides = {"base": base, "rank": rank, "epochs": epochs, "max_steps": max_steps, "force": force or None}
    launch = (launcher, num_processes, strategy)
    rd, report = _train(prof, dataset, run, config, resume, overrides, export_llamafactory, launch, json_out)
    manifest = rd.manifest()
    if json_out:
        emit_json(
            {
                "run": rd.path.name,
                "run_dir": str(rd.path),
                "base": manifest["base"],
                "adapter": str(rd.adapter),
                "report": str(rd.report_md),
                "perplexity": report["perplexity"],
                "train": report["train"],
                "metrics": rd.metrics(),
            }
        )
    else:
        _summary(rd, report, manifest)
