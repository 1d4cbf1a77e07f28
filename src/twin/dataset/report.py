"""report.json (what was kept, dropped and why; redaction counts by type, never values) and a
self-contained report.html with inline SVG charts, so it works without matplotlib or a network."""

from __future__ import annotations

import html
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from twin.dataset.config import DatasetConfig
from twin.dataset.filters import estimate_tokens
from twin.dataset.records import Sample

if TYPE_CHECKING:
    from twin.dataset.builder import Stats

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


def build_report(
    name: str,
    cfg: DatasetConfig,
    system: str,
    train: list[Sample],
    val: list[Sample],
    stats: Stats,
    redactions: dict[str, int],
    placeholders: dict[str, int],
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
        "redactions": redactions,
        "redactions_in_output": placeholders,
        "by_source": dict(sorted(Counter(s.source for s in written).items())),
        "by_kind": dict(sorted(Counter(s.kind for s in written).items())),
        "by_contact": _top(Counter(s.contact for s in written)),
        "by_month": dict(sorted(months.items())),
        "length_histogram": length_histogram(targets),
        "assistant_tokens": {
            "mean": round(statistics.fmean(tokens), 1) if tokens else 0,
            "max": max(tokens, default=0),
        },
        "system_prompt": system,
        "warnings": list(stats.warnings),
        "files": [
            "train.jsonl",
            "val.jsonl",
            "train_sharegpt.json",
            "val_sharegpt.json",
            "dataset_info.json",
            "samples.jsonl",
            "config.yaml",
            "report.json",
            "report.html",
        ],
    }


def bar_chart_svg(title: str, data: dict[str, int], width: int = 560) -> str:
    """A horizontal bar chart as inline SVG (labels escaped)."""
    if not data:
        return f"<h3>{html.escape(title)}</h3><p class='empty'>nothing to show</p>"
    row, label_w = 22, 170
    height = row * len(data) + 10
    peak = max(data.values()) or 1
    parts = [
        f"<h3>{html.escape(title)}</h3>",
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='{html.escape(title, quote=True)}'>",
    ]
    for i, (label, value) in enumerate(data.items()):
        y = 5 + i * row
        w = int((width - label_w - 60) * value / peak)
        parts.append(
            f"<text x='{label_w - 6}' y='{y + 15}' text-anchor='end'>{html.escape(str(label)[:28])}</text>"
            f"<rect x='{label_w}' y='{y + 3}' width='{max(w, 1)}' height='{row - 6}' fill='#4a7bd0'/>"
            f"<text x='{label_w + w + 6}' y='{y + 15}'>{value}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    s = report["samples"]
    warn = "".join(f"<li>{e(w)}</li>" for w in report["warnings"])
    charts = [
        ("Assistant text length (characters)", report["length_histogram"]),
        ("Samples per source", report["by_source"]),
        ("Samples per kind", report["by_kind"]),
        ("Samples per contact", report["by_contact"]),
        ("Samples per month", report["by_month"]),
        ("Messages dropped before pairing", report["messages"]["dropped"]),
        ("Samples dropped per filter", {**report["drops"], "near_duplicate": report["near_duplicates_removed"]}),
        ("Language mix (per conversation)", report["languages"]),
        ("Redactions by type", report["redactions"]),
    ]
    body = "".join(f"<section>{bar_chart_svg(t, d)}</section>" for t, d in charts)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>twin dataset {e(report['name'])}</title><style>"
        "body{font:14px system-ui,sans-serif;margin:2em;max-width:900px;color:#222}"
        "svg text{font:12px system-ui,sans-serif;fill:#222}section{margin:1.5em 0}"
        "pre{white-space:pre-wrap;background:#f4f4f4;padding:1em}.warn{color:#a50}</style></head><body>"
        f"<h1>Dataset “{e(report['name'])}”</h1>"
        f"<p><b>{s['total']}</b> samples ({s['train']} train, {s['val']} validation) from "
        f"{report['messages']['total']} messages; {report['near_duplicates_removed']} near-duplicates "
        f"removed. Redacted values are counted by type only.</p>"
        + (f"<ul class='warn'>{warn}</ul>" if warn else "")
        + f"<h3>System prompt</h3><pre>{e(report['system_prompt'])}</pre>{body}</body></html>\n"
    )
