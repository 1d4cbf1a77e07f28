"""Precision and recall of the redaction detectors on labelled text (true and false positives).

A labelled case is {"text": …, "spans": [{"type": "PHONE", "value": "+44 …"}]}; a case with no spans
must come out unchanged. A hit counts as correct when its type and value match a labelled span."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from twin.dataset.redact import Redactor


def _norm(value: str) -> str:
    return " ".join(value.split()).strip(" .,;:!?")


def read_cases(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(cases: Iterable[dict[str, Any]], redactor: Redactor | None = None) -> dict[str, Any]:
    """{"types": {TYPE: {precision, recall, tp, fp, fn}}, "errors": [what went wrong, per case]}."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    for case in cases:
        r = redactor or Redactor()
        _, hits = r.redact_with_hits(case["text"])
        want = Counter((s["type"], _norm(s["value"])) for s in case["spans"])
        got = Counter((h.kind, _norm(h.value)) for h in hits)
        for key in set(want) | set(got):
            match = min(want[key], got[key])
            tp[key[0]] += match
            fp[key[0]] += got[key] - match
            fn[key[0]] += want[key] - match
        if want != got:
            errors.append({"text": case["text"], "expected": sorted(want), "found": sorted(got)})
    types = {}
    for kind in sorted(set(tp) | set(fp) | set(fn)):
        found, labelled = tp[kind] + fp[kind], tp[kind] + fn[kind]
        types[kind] = {
            "precision": round(tp[kind] / found, 3) if found else 1.0,
            "recall": round(tp[kind] / labelled, 3) if labelled else 1.0,
            "tp": tp[kind],
            "fp": fp[kind],
            "fn": fn[kind],
        }
    return {"types": types, "errors": errors}
