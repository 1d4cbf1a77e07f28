"""`twin eval style`: a held-out measurement of how much drafts sound like you, per way of drafting."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from twin.cli.common import JsonOpt, ProfileOpt, console, emit_json, handle_errors, resolve_profile
from twin.cli.progress import event_printer

eval_app = typer.Typer(help="Measure how much twin writes like you.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(eval_app, name="eval")


def _progress() -> Any:
    show = event_printer("eval")

    def emit(event: dict[str, Any]) -> None:
        if event.get("event") != "draft" or event["done"] == event["of"]:
            show(event)

    return emit


def print_report(report: dict[str, Any]) -> None:
    from twin.eval.report import LABELS

    c = report["classifier"]
    console.print(
        f"Authorship classifier: {c['accuracy']:.0%} accurate ({c['balanced_accuracy']:.0%} balanced) on "
        f"{c['n_test']} held-out messages. {report['prompts']} prompts, base model {report['base_model']}."
    )
    table = Table("variant", "read as you", "similarity", "style distance", "preamble/refusal", "tok/s")
    for name, t in report["variants"].items():
        sim = "—" if t["similarity_to_reply"] is None else f"{t['similarity_to_reply']:.3f}"
        dist = "—" if t["style_distance"] is None else f"{t['style_distance']:.3f}"
        table.add_row(
            LABELS.get(name, name),
            f"{t['attributed_to_owner']:.0%}",
            sim,
            dist,
            f"{t['preamble_or_refusal']:.0%}",
            str(t["tokens_per_s"]),
        )
    console.print(table)
    for key, value in report["ratios"].items():
        if value is not None:
            console.print(f"{LABELS.get(key.removesuffix('_vs_base'))}: {value}× the base model's rate.")
    for note in report["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    console.print(f"Report and every draft: {report['folder']}")


@eval_app.command("style")
@handle_errors
def style(
    profile: ProfileOpt = None,
    run: Annotated[str | None, typer.Option("--run", help="Also draft with this run's adapter.")] = None,
    prompts: Annotated[int, typer.Option("--prompts", min=1, max=500, help="Held-out prompts to draft.")] = 20,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Dataset whose validation split is used (default: the run's).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Draft held-out replies with the base model, with exemplars + style card, and with the adapter; score them."""
    from twin.eval.setup import build_setup, embedder
    from twin.eval.style import evaluate

    p = resolve_profile(profile)
    setup = build_setup(p, run, dataset)
    report = evaluate(setup, prompts, embedder(), _progress())
    if json_out:
        emit_json(report)
        return
    print_report(report)
