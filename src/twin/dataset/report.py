"""report.json: what was kept, dropped and why; redaction counts by type and a few before → after
examples per type (config redaction_examples; 0 keeps counts only); the style card and the system
prompt of each channel. report_html.py renders it."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from twin.dataset.config import DatasetConfig
from twin.dataset.filters import estimate_tokens
from twin.dataset.records import Sample
from twin.dataset.stats import Stats
from twin.dataset.style import Prompts

LENGTH_BINS = [(0, 50), (50, 100), (100, 200), (200, 400), (400, 800), (800, 1600), (1600, None)]


def _bin_label(lo: int, hi: int | None) -> str:
    return f"{lo}+" if hi is None else f"{lo}–{hi - 1}"


def length_histogram(texts: Sequence[str]) -> dict[str, int]:
    out = {_bin_label(lo, hi): 0 for lo, hi in LENGTH_BINS}
    for t in texts:
        for lo, hi in LENGTH_BINS:
            if len(t) >= lo and (hi is None or len(t) < hi):
                out[_bin_label(lo, hi)] += 1
                break
    return out


def _top(counter: Counter[str], n: int = 20) -> dict[str, int]:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    top = dict(items[:n])
    rest = sum(v for _, v in items[n:])
    if rest:
        top["(others)"] = rest
    return top


@dataclass
class Redactions:
    counts: dict[str, int] = field(default_factory=dict)  # values replaced, by type
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # before → after, by type
    in_output: dict[str, int] = field(default_factory=dict)  # placeholders in the written files


FILES = [
    "train.jsonl",
    "val.jsonl",
    "train_sharegpt.json",
    "val_sharegpt.json",
    "dataset_info.json",
    "samples.jsonl",
    "config.yaml",
    "manifest.json",
    "style_card.json",
    "report.json",
    "report.html",
]


def build_report(
    name: str,
    cfg: DatasetConfig,
    prompts: Prompts,
    train: list[Sample],
    val: list[Sample],
    stats: Stats,
    redactions: Redactions,
    counts: dict[str, int],
) -> dict[str, Any]:
    written = train + val
    targets = [s.target for s in written]
    months = Counter(s.ts.strftime("%Y-%m") if s.ts else "unknown" for s in written)
    tokens = [estimate_tokens(t) for t in targets]
    return {
        "name": name,
        "samples": {"train": len(train), "val": len(val), "total": len(written)},
        "conversations": {
            "train": len({s.conversation_id for s in train}),
            "val": len({s.conversation_id for s in val}),
        },
        "status_counts": counts,
        "messages": {
            "total": sum(stats.messages.values()),
            "by_format": dict(sorted(stats.messages.items())),
            "dropped": dict(sorted(stats.message_drops.items())),
        },
        "pairs": dict(sorted(stats.pairs.items())),
        "drops": dict(sorted(stats.sample_drops.items())),
        "near_duplicates_removed": stats.duplicates,
        "context_trimmed": stats.context_trimmed,
        "languages": dict(sorted(stats.languages.items())),
        "redactions": redactions.counts,
        "redactions_in_output": redactions.in_output,
        "redaction_examples": redactions.examples,
        "by_source": dict(sorted(Counter(s.source for s in written).items())),
        "by_kind": dict(sorted(Counter(s.kind for s in written).items())),
        "by_contact": _top(Counter(s.contact for s in written)),
        "by_month": dict(sorted(months.items())),
        "length_histogram": length_histogram(targets),
        "assistant_tokens": {
            "mean": round(statistics.fmean(tokens), 1) if tokens else 0,
            "max": max(tokens, default=0),
        },
        "system_prompt": prompts.systems[prompts.main],
        "system_prompts": prompts.systems,
        "style_card": prompts.card.model_dump(mode="json"),
        "minimum_samples": cfg.refuse_below,
        "warnings": list(stats.warnings),
        "files": list(FILES),
    }
