"""`twin dataset build|list|show|review`: turn the message store into a curated ChatML dataset."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, err_console, handle_errors, is_tty, resolve_profile
from twin.dataset.builder import Progress as ProgressFn
from twin.dataset.builder import build_dataset
from twin.dataset.config import load_config
from twin.dataset.review import ReviewService
from twin.errors import InvalidInput, NotFound
from twin.profiles import Profile

dataset_app = typer.Typer(help="Build, inspect and review training datasets.", no_args_is_help=True)

NameOpt = Annotated[str, typer.Option("--name", "-n", help="Dataset name (a folder under datasets/).")]
NameArg = Annotated[str, typer.Argument(help="Dataset name.")]


def register(root: typer.Typer) -> None:
    root.add_typer(dataset_app, name="dataset")


def _stage_lines() -> ProgressFn:
    """Off a terminal: one plain line on stderr per stage."""
    last: list[str] = []

    def update(stage: str, done: int, total: int) -> None:
        if not last or last[-1] != stage:
            last.append(stage)
            err_console.print(f"dataset: {stage}" + (f" ({total})" if total > 1 else ""), highlight=False)

    return update


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressFn | None]:
    if not enabled:
        yield _stage_lines()
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err_console, transient=True
    ) as bar:
        task = bar.add_task("starting", total=None)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total or None)

        yield update


def _build(
    profile: Profile, name: str, config: Path | None, json_out: bool, force: bool, **overrides: Any
) -> dict[str, Any]:
    cfg = load_config(config, **overrides)
    generate = None
    if cfg.instructions == "llm":
        from twin.dataset.instructions import llm_generate_fn

        generate = llm_generate_fn(profile, cfg.llm_backend, cfg.seed)
    with _progress(is_tty() and not json_out) as progress:
        return build_dataset(profile, name, cfg, force=force, generate=generate, progress=progress)


@dataset_app.command("build")
@handle_errors
def build(
    profile: ProfileOpt = None,
    name: NameOpt = "default",
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML file with DatasetConfig fields.")] = None,
    instructions: Annotated[
        str | None, typer.Option("--instructions", help="How new-email instructions are written: template or llm.")
    ] = None,
    llm_backend: Annotated[
        str | None, typer.Option("--llm-backend", help="LLM backend for --instructions llm.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for phrasings, selection and split.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write the dataset even when very few samples remain.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Build datasets/NAME from the profile's messages (ChatML, ShareGPT, report)."""
    p = resolve_profile(profile)
    if not json_out:
        cfg = load_config(config)
        err_console.print(
            f"Training needs at least {cfg.refuse_below} samples (one per reply you wrote); "
            f"a good run wants {cfg.target_min}–{cfg.target_max}.",
            highlight=False,
        )
    report = _build(p, name, config, json_out, force, instructions=instructions, llm_backend=llm_backend, seed=seed)
    out = p.dataset_dir(name)
    if json_out:
        emit_json({"path": str(out), **report})
        return
    s = report["samples"]
    console.print(
        f"Built dataset [bold]{name}[/bold]: {s['total']} samples ({s['train']} train, {s['val']} validation) in {out}"
    )
    for channel, prompt in sorted(report["system_prompts"].items()):
        console.print(f"[dim]{channel} prompt:[/dim] {escape(prompt)}", highlight=False)
    console.print(
        f"Dropped: {report['drops'] or 'none'}; near-duplicates removed: "
        f"{report['near_duplicates_removed']}; redactions: {report['redactions'] or 'none'}"
    )
    for w in report["warnings"]:
        err_console.print(f"[yellow]warning:[/yellow] {w}")
    console.print(f"See {out / 'report.html'}")


def _reports(profile: Profile) -> list[dict[str, Any]]:
    out = []
    if profile.datasets_dir.is_dir():
        for d in sorted(profile.datasets_dir.iterdir()):
            path = d / "report.json"
            if path.is_file():
                rep = json.loads(path.read_text(encoding="utf-8"))
                out.append(
                    {"name": d.name, "path": str(d), "samples": rep["samples"], "warnings": rep.get("warnings", [])}
                )
    return out


@dataset_app.command("list")
@handle_errors
def list_datasets(profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """List the profile's built datasets."""
    rows = _reports(resolve_profile(profile))
    if json_out:
        emit_json(rows)
        return
    if not rows:
        console.print("No datasets yet. Build one with: twin dataset build")
        return
    table = Table("name", "train", "val", "path")
    for r in rows:
        table.add_row(r["name"], str(r["samples"]["train"]), str(r["samples"]["val"]), r["path"])
    console.print(table)


@dataset_app.command("show")
@handle_errors
def show(name: NameArg = "default", profile: ProfileOpt = None, json_out: JsonOpt = False) -> None:
    """Show a dataset's report: counts, drops, redactions by type, warnings."""
    p = resolve_profile(profile)
    path = p.dataset_dir(name) / "report.json"
    if not path.is_file():
        raise NotFound(f"Dataset '{name}' has not been built.", f"Build it with: twin dataset build --name {name}")
    rep = json.loads(path.read_text(encoding="utf-8"))
    if json_out:
        emit_json(rep)
        return
    table = Table(show_header=False, box=None)
    for key in ("samples", "pairs", "drops", "near_duplicates_removed", "languages", "redactions", "by_source"):
        table.add_row(key, json.dumps(rep[key], ensure_ascii=False))
    console.print(table)
    for w in rep["warnings"]:
        err_console.print(f"[yellow]warning:[/yellow] {w}")
    console.print(f"Report: {path.with_suffix('.html')}")


def _render_sample(item: dict[str, Any], index: int, total: int) -> None:
    lines = [f"[bold]{m['role']}[/bold]: {escape(m['content'])}" for m in item["messages"]]
    title = (
        f"{index + 1}/{total}  {item['id']}  [{item['status']}]  {item['kind']}  "
        f"{item['contact']}  {item['timestamp'] or ''}"
    )
    console.print(Panel("\n\n".join(lines), title=escape(title), title_align="left"), highlight=False)


def _interactive(service: ReviewService, items: list[dict[str, Any]]) -> int:
    """Page through samples: n(ext) p(rev) d(rop) r(estore) q(uit). Returns the number of changes."""
    i, changes = 0, 0
    while items:
        item = items[i]
        _render_sample(item, i, len(items))
        choice = typer.prompt("[n]ext [p]rev [d]rop [r]estore [q]uit", default="n").strip().lower()[:1]
        if choice == "q":
            break
        if choice == "d":
            reason = typer.prompt("reason (optional)", default="", show_default=False)
            service.drop(item["id"], reason)
            item["status"], changes = "dropped", changes + 1
        elif choice == "r" and item["status"] == "dropped":
            service.restore(item["id"])
            item["status"], changes = "restored (rebuild to apply)", changes + 1
        elif choice == "p":
            i = max(0, i - 1)
            continue
        if choice != "r" and i == len(items) - 1:
            break
        i = min(len(items) - 1, i + 1)
    return changes


@dataset_app.command("review")
@handle_errors
def review(
    name: NameArg = "default",
    profile: ProfileOpt = None,
    drop: Annotated[list[str] | None, typer.Option("--drop", help="Drop this sample id (repeatable).")] = None,
    restore: Annotated[list[str] | None, typer.Option("--restore", help="Restore this sample id (repeatable).")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why the samples are dropped.")] = "",
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only samples with this status: train, val, unselected, duplicate, dropped."),
    ] = None,
    search: Annotated[str | None, typer.Option("--search", "-s", help="Only samples containing this text.")] = None,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many samples.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many samples.")] = 20,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild the dataset afterwards so changes apply.")
    ] = False,
    redactions: Annotated[
        bool, typer.Option("--redactions", help="Show what redaction changed: before → after examples per type.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Page through samples and drop or restore them; drops persist across rebuilds."""
    p = resolve_profile(profile)
    service = ReviewService(p, name)
    if redactions:
        _show_redactions(service, json_out)
        return
    changed = [service.drop(sid, reason) for sid in drop or []] + [service.restore(sid) for sid in restore or []]
    page = service.search(search, status, offset, limit) if search else service.list(status, offset, limit)
    if not changed and not json_out and is_tty():
        changes = _interactive(service, page.items)
        if changes and (rebuild or typer.confirm("Rebuild the dataset now so the changes apply?", default=True)):
            _rebuild(p, name, json_out)
        return
    result: dict[str, Any] = {"changed": changed, **page.to_dict()}
    if rebuild:
        result["report"] = _rebuild(p, name, json_out)
    if json_out:
        emit_json(result)
        return
    for c in changed:
        console.print(f"{'Dropped' if c['dropped'] else 'Restored'} {c['id']}")
    for i, item in enumerate(page.items):
        _render_sample(item, offset + i, page.total)
    if changed and not rebuild:
        console.print("Run with --rebuild (or twin dataset build) to apply the changes.")


def _show_redactions(service: ReviewService, json_out: bool) -> None:
    data = service.redactions()
    if json_out:
        emit_json(data)
        return
    if not data["counts"]:
        console.print("Nothing was redacted in this dataset.")
        return
    table = Table("type", "count", "before", "after")
    for kind, count in data["counts"].items():
        examples = data["examples"].get(kind) or [{"before": "(no example kept)", "after": ""}]
        for i, ex in enumerate(examples):
            table.add_row(
                kind if i == 0 else "", str(count) if i == 0 else "", escape(ex["before"]), escape(ex["after"])
            )
    console.print(table)


def _rebuild(p: Profile, name: str, json_out: bool) -> dict[str, Any]:
    config = p.dataset_dir(name) / "config.yaml"
    if not config.is_file():
        raise InvalidInput(
            f"Dataset '{name}' has no config.yaml to rebuild from.", f"Build it with: twin dataset build --name {name}"
        )
    report = _build(p, name, config, json_out, force=True)
    if not json_out:
        console.print(f"Rebuilt: {report['samples']['total']} samples.")
    return report
