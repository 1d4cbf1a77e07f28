"""report.md of a style evaluation: the numbers per variant, what they mean, and sample drafts."""

from __future__ import annotations

from typing import Any

LABELS = {"base": "base, zero-shot", "few_shot": "base + exemplars + style card", "adapter": "adapter (trained prompt)"}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def _cell(text: str, limit: int = 160) -> str:
    text = text if len(text) <= limit else text[:limit] + "…"
    return text.replace("|", "\\|").replace("\n", " ⏎ ")


def render_markdown(report: dict[str, Any], drafts: list[dict[str, Any]], samples: int = 5) -> str:
    c = report["classifier"]
    lines = [
        f"# Style evaluation — {report['profile']}",
        "",
        f"Base model: `{report['base_model']}` · run: `{report['run'] or 'none'}` · dataset: `{report['dataset']}` · "
        f"{report['prompts']} held-out prompts.",
        "",
        f"Authorship classifier (your messages vs the people you write with, held-out conversations): accuracy "
        f"{c['accuracy']:.0%}, balanced {c['balanced_accuracy']:.0%} on {c['n_test']} messages "
        f"(trained on {c['n_train']}).",
        "",
        "| variant | read as you | mean P(you) | similarity to your reply | style distance | preamble/refusal | "
        "chars | tok/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, t in report["variants"].items():
        lines.append(
            f"| {LABELS.get(name, name)} | {_pct(t['attributed_to_owner'])} | {_num(t['mean_owner_probability'])} | "
            f"{_num(t['similarity_to_reply'])} | {_num(t['style_distance'])} | {_pct(t['preamble_or_refusal'])} | "
            f"{t['mean_chars']} | {t['tokens_per_s']} |"
        )
    lines.append("")
    for key, value in report["ratios"].items():
        name = key.removesuffix("_vs_base")
        prob = report.get("probability_ratios", {}).get(key)
        rate = "— (the base is never read as you)" if value is None else f"{value}×"
        lines.append(
            f"- {LABELS.get(name, name)}: {rate} the base model's rate"
            + (f"; mean P(you) {prob}× the base's." if prob is not None else ".")
        )
    lines += [f"- {n}" for n in report["notes"]]
    lines += ["", f"Similarity: {report['embedding_similarity']}. Style distance: 0 = your habits, 1 = opposite.", ""]
    lines += [
        "## Sample drafts",
        "",
        "| prompt | your reply | " + " | ".join(LABELS.get(n, n) for n in report["variants"]) + " |",
    ]
    lines.append("|---|---|" + "---|" * len(report["variants"]))
    for d in drafts[:samples]:
        cells = [_cell(d["prompt"]), _cell(d["reference"])] + [_cell(d[n]["draft"]) for n in report["variants"]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "All drafts: drafts.jsonl in this folder."]
    return "\n".join(lines) + "\n"
