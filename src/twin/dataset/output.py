"""Writing a built dataset: ChatML train/val (validated), ShareGPT + dataset_info.json, samples.jsonl
for review, config.yaml, report.json and report.html. Every file is written atomically."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.dataset.chatml import dataset_info, to_chatml, to_sharegpt, validate_chatml
from twin.dataset.config import DatasetConfig, dump_config
from twin.dataset.filters import sample_tokens
from twin.dataset.records import Sample
from twin.dataset.report import build_report, render_html
from twin.profiles import write_text_atomic

if TYPE_CHECKING:
    from twin.dataset.builder import Stats

_STATUS_ORDER = {"train": 0, "val": 1, "unselected": 2, "duplicate": 3, "dropped": 4}


def dump_line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(dump_line(r) + "\n" for r in records)


def _review_item(s: Sample, status: str, system: str) -> dict[str, Any]:
    record = to_chatml(system, s)
    return {
        "id": s.id,
        "status": status,
        "source": s.source,
        "kind": s.kind,
        "contact": s.contact,
        "conversation_id": s.conversation_id,
        "timestamp": s.ts.isoformat() if s.ts else None,
        "lang": s.lang,
        "score": s.score,
        "tokens": sample_tokens([(m["role"], m["content"]) for m in record["messages"]]),
        "messages": record["messages"][1:],
    }


def write_outputs(
    out_dir: Path,
    name: str,
    cfg: DatasetConfig,
    system: str,
    train: list[Sample],
    val: list[Sample],
    unselected: list[Sample],
    duplicates: list[Sample],
    review_dropped: list[Sample],
    stats: Stats,
    redactions: dict[str, int],
) -> dict[str, Any]:
    records = {"train": [to_chatml(system, s) for s in train], "val": [to_chatml(system, s) for s in val]}
    for recs in records.values():
        for r in recs:
            validate_chatml(r)
    out_dir.mkdir(parents=True, exist_ok=True)
    for split_name, recs in records.items():
        write_text_atomic(out_dir / f"{split_name}.jsonl", _jsonl(recs))
        sharegpt = [to_sharegpt(r) for r in recs]
        write_text_atomic(
            out_dir / f"{split_name}_sharegpt.json", json.dumps(sharegpt, ensure_ascii=False, indent=1) + "\n"
        )
    write_text_atomic(out_dir / "dataset_info.json", json.dumps(dataset_info(name), indent=2) + "\n")
    write_text_atomic(out_dir / "config.yaml", dump_config(cfg))
    groups = [
        ("train", train),
        ("val", val),
        ("unselected", unselected),
        ("duplicate", duplicates),
        ("dropped", review_dropped),
    ]
    items = [_review_item(s, status, system) for status, group in groups for s in group]
    items.sort(key=lambda it: (_STATUS_ORDER[it["status"]], it["timestamp"] or "", it["id"]))
    write_text_atomic(out_dir / "samples.jsonl", _jsonl(items))
    placeholders = _placeholder_counts(records["train"] + records["val"])
    report = build_report(
        name,
        cfg,
        system,
        train,
        val,
        stats,
        redactions,
        placeholders,
        counts={status: len(group) for status, group in groups},
    )
    write_text_atomic(out_dir / "report.json", json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    write_text_atomic(out_dir / "report.html", render_html(report))
    return report


def _placeholder_counts(records: list[dict[str, Any]]) -> dict[str, int]:
    import re

    counts: Counter[str] = Counter()
    pattern = re.compile(r"<([A-Z]+)_\d+>")
    for r in records:
        for m in r["messages"][1:]:
            counts.update(pattern.findall(m["content"]))
    return dict(sorted(counts.items()))
