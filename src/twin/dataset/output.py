"""Writing a built dataset: ChatML train/val (validated), ShareGPT + dataset_info.json, samples.jsonl
for review, config.yaml, manifest.json (the prompts training and drafting share), style_card.json,
report.json and report.html. Every file is written atomically."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
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


@dataclass
class Groups:
    """Every sample of a build by where it ended up."""

    train: list[Sample]
    val: list[Sample]
    unselected: list[Sample]
    duplicates: list[Sample]
    review_dropped: list[Sample]

    def by_status(self) -> list[tuple[str, list[Sample]]]:
        return [
            ("train", self.train),
            ("val", self.val),
            ("unselected", self.unselected),
            ("duplicate", self.duplicates),
            ("dropped", self.review_dropped),
        ]


def _write_splits(out_dir: Path, records: dict[str, list[dict[str, Any]]]) -> None:
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


def _write_json(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def write_outputs(
    out_dir: Path,
    name: str,
    cfg: DatasetConfig,
    prompts: Prompts,
    groups: Groups,
    stats: Stats,
    redactor: Redactor | None,
) -> dict[str, Any]:
    records = {
        split: [to_chatml(prompts.for_source(s.source), s) for s in samples]
        for split, samples in (("train", groups.train), ("val", groups.val))
    }
    _write_splits(out_dir, records)
    write_text_atomic(out_dir / "dataset_info.json", json.dumps(dataset_info(name), indent=2) + "\n")
    write_text_atomic(out_dir / "config.yaml", dump_config(cfg))
    items = [_review_item(s, status, prompts.for_source(s.source)) for status, g in groups.by_status() for s in g]
    items.sort(key=lambda it: (_STATUS_ORDER[it["status"]], it["timestamp"] or "", it["id"]))
    write_text_atomic(out_dir / "samples.jsonl", _jsonl(items))
    _write_json(out_dir / "style_card.json", prompts.card.model_dump(mode="json"))
    _write_json(out_dir / "manifest.json", dataset_manifest(name, cfg, prompts, groups.train, groups.val))
    redactions = Redactions(
        redactor.report() if redactor else {},
        redactor.example_report() if redactor else {},
        _placeholder_counts(records["train"] + records["val"]),
    )
    counts = {status: len(g) for status, g in groups.by_status()}
    report = build_report(name, cfg, prompts, groups.train, groups.val, stats, redactions, counts=counts)
    _write_json(out_dir / "report.json", report)
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
