"""Writing a built dataset: ChatML train/val (validated), ShareGPT + dataset_info.json, samples.jsonl
for review, config.yaml, manifest.json (the prompts training and drafting share), style_card.json,
report.json and report.html. Every file is written atomically."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from twin.dataset.chatml import dataset_info, to_chatml, to_sharegpt, validate_chatml
from twin.dataset.config import DatasetConfig, dump_config
from twin.dataset.filters import sample_tokens
from twin.dataset.records import Sample
from twin.dataset.redact import Redactor
from twin.dataset.report import Redactions, build_report
from twin.dataset.report_html import render_html
from twin.dataset.stats import Stats
from twin.dataset.style import Prompts
from twin.profiles import write_text_atomic

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


def dataset_manifest(
    name: str, cfg: DatasetConfig, prompts: Prompts, train: list[Sample], val: list[Sample]
) -> dict[str, Any]:
    """What training, export and drafting read back: the prompt family and each channel's prompt."""
    written = Counter(s.source for s in train + val)
    return {
        "name": name,
        "format": "chatml",
        "owner": prompts.owner,
        "system_template": cfg.system_prompt,
        "system_prompts": prompts.systems,
        "main_channel": prompts.main,
        "style_card": "style_card.json",
        "samples": {"train": len(train), "val": len(val), "by_channel": dict(sorted(written.items()))},
        "minimum_samples": cfg.refuse_below,
    }


def write_outputs(
    out_dir: Path,
    name: str,
    cfg: DatasetConfig,
    prompts: Prompts,
    train: list[Sample],
    val: list[Sample],
    unselected: list[Sample],
    duplicates: list[Sample],
    review_dropped: list[Sample],
    stats: Stats,
    redactor: Redactor | None,
) -> dict[str, Any]:
    records = {
        "train": [to_chatml(prompts.for_source(s.source), s) for s in train],
        "val": [to_chatml(prompts.for_source(s.source), s) for s in val],
    }
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
    items = [_review_item(s, status, prompts.for_source(s.source)) for status, group in groups for s in group]
    items.sort(key=lambda it: (_STATUS_ORDER[it["status"]], it["timestamp"] or "", it["id"]))
    write_text_atomic(out_dir / "samples.jsonl", _jsonl(items))
    card = prompts.card.model_dump(mode="json")
    write_text_atomic(out_dir / "style_card.json", json.dumps(card, ensure_ascii=False, indent=2) + "\n")
    manifest = dataset_manifest(name, cfg, prompts, train, val)
    write_text_atomic(out_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    report = build_report(
        name,
        cfg,
        prompts,
        train,
        val,
        stats,
        Redactions(
            redactor.report() if redactor else {},
            redactor.example_report() if redactor else {},
            _placeholder_counts(records["train"] + records["val"]),
        ),
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
