"""report.html: a self-contained page (inline SVG charts, no scripts, no network) of report.json —
counts, drops, the style card per channel, each channel's system prompt and redaction examples."""

from __future__ import annotations

import html
from typing import Any

e = html.escape


def bar_chart_svg(title: str, data: dict[str, int], width: int = 560) -> str:
    """A horizontal bar chart as inline SVG (labels escaped)."""
    if not data:
        return f"<h3>{e(title)}</h3><p class='empty'>nothing to show</p>"
    row, label_w = 22, 170
    height = row * len(data) + 10
    peak = max(data.values()) or 1
    parts = [
        f"<h3>{e(title)}</h3>",
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='{e(title, quote=True)}'>",
    ]
    for i, (label, value) in enumerate(data.items()):
        y = 5 + i * row
        w = int((width - label_w - 60) * value / peak)
        parts.append(
            f"<text x='{label_w - 6}' y='{y + 15}' text-anchor='end'>{e(str(label)[:28])}</text>"
            f"<rect x='{label_w}' y='{y + 3}' width='{max(w, 1)}' height='{row - 6}' fill='#4a7bd0'/>"
            f"<text x='{label_w + w + 6}' y='{y + 15}'>{value}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _pct(x: float) -> str:
    return f"{round(100 * x)}%"


def _pairs(items: list[Any]) -> str:
    return ", ".join(f"{e(str(k))} ({_pct(v) if isinstance(v, float) else v})" for k, v in items) or "—"


def style_card_html(card: dict[str, Any]) -> str:
    channels = card.get("channels", {})
    if not channels:
        return "<p class='empty'>No messages to measure.</p>"
    rows = [
        ("messages", lambda c: str(c["messages"])),
        (
            "length (characters)",
            lambda c: (
                "median {median:.0f} · p10 {p10:.0f} · p90 {p90:.0f}".format(**c["length"]) if c["length"] else "—"
            ),
        ),
        ("words per sentence", lambda c: f"{c['sentence_words']}"),
        ("starts in lowercase", lambda c: _pct(c["lowercase_start"])),
        ("all lowercase", lambda c: _pct(c["all_lowercase"])),
        ("ends with a full stop", lambda c: _pct(c["ends_with_period"])),
        ("no final punctuation", lambda c: _pct(c["no_end_punctuation"])),
        ("exclamation marks", lambda c: _pct(c["exclamation"])),
        ("questions", lambda c: _pct(c["question"])),
        ("emoji", lambda c: f"{_pct(c['emoji'])} {' '.join(c['top_emoji'])}"),
        ("greetings", lambda c: f"{_pct(c['greeting_rate'])}: {_pairs(c['greetings'])}"),
        ("sign-offs", lambda c: f"{_pct(c['signoff_rate'])}: {_pairs(c['signoffs'])}"),
        ("common phrases", lambda c: _pairs(c["phrases"])),
        ("languages", lambda c: _pairs(list(c["languages"].items()))),
    ]
    names = sorted(channels)
    head = "".join(f"<th>{e(n)}</th>" for n in names)
    body = "".join(
        f"<tr><th>{e(label)}</th>" + "".join(f"<td>{e(fn(channels[n]))}</td>" for n in names) + "</tr>"
        for label, fn in rows
    )
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


def redaction_examples_html(examples: dict[str, list[dict[str, str]]]) -> str:
    if not examples:
        return "<p class='empty'>No examples kept (redaction_examples is 0, or nothing was redacted).</p>"
    rows = "".join(
        f"<tr><td>{e(kind)}</td><td>{e(ex['before'])}</td><td>{e(ex['after'])}</td></tr>"
        for kind, items in examples.items()
        for ex in items
    )
    return (
        "<p>These examples show original values; this report stays in your profile folder. "
        "Set redaction_examples: 0 in the dataset config to keep only counts.</p>"
        f"<table><tr><th>type</th><th>before</th><th>after</th></tr>{rows}</table>"
    )


def render_html(report: dict[str, Any]) -> str:
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
    prompts = "".join(
        f"<h4>{e(channel)}</h4><pre>{e(text)}</pre>" for channel, text in sorted(report["system_prompts"].items())
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>twin dataset {e(report['name'])}</title><style>"
        "body{font:14px system-ui,sans-serif;margin:2em;max-width:900px;color:#222}"
        "svg text{font:12px system-ui,sans-serif;fill:#222}section{margin:1.5em 0}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;"
        "vertical-align:top}pre{white-space:pre-wrap;background:#f4f4f4;padding:1em}.warn{color:#a50}"
        "</style></head><body>"
        f"<h1>Dataset “{e(report['name'])}”</h1>"
        f"<p><b>{s['total']}</b> samples ({s['train']} train, {s['val']} validation) from "
        f"{report['messages']['total']} messages; {report['near_duplicates_removed']} near-duplicates "
        f"removed. Training needs at least {report['minimum_samples']} samples.</p>"
        + (f"<ul class='warn'>{warn}</ul>" if warn else "")
        + f"<section><h3>Style card</h3>{style_card_html(report['style_card'])}</section>"
        + f"<section><h3>System prompt per channel</h3>{prompts}</section>"
        + f"<section><h3>Redaction examples</h3>{redaction_examples_html(report['redaction_examples'])}</section>"
        + f"{body}</body></html>\n"
    )
