"""From the project's own ingest fixtures (WhatsApp and email) through ingest to a dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from twin.dataset.builder import build_dataset
from twin.dataset.chatml import validate_chatml
from twin.dataset.config import DatasetConfig
from twin.settings import load_settings

DATA = Path(__file__).resolve().parents[1] / "data"


def test_ingest_fixtures_to_dataset(profile):
    from twin.ingest import service

    paths = [DATA / "whatsapp" / "WhatsApp Chat with Priya.txt", *sorted((DATA / "email").iterdir())]
    if not all(p.exists() for p in paths):
        pytest.skip("ingest fixtures are not present")
    report = service.ingest_paths(
        profile, paths, load_settings(), aliases=["Thota Rao", "thota@example.com", "+49 151 12345678"]
    )
    assert report.messages > 0
    cfg = DatasetConfig(refuse_below=1, languages=[], min_chars=2)
    built = build_dataset(profile, "e2e", cfg, force=True)
    assert built["samples"]["total"] >= 1
    assert built["pairs"], "the owner's messages were paired"
    out = profile.dataset_dir("e2e")
    lines = (out / "train.jsonl").read_text().splitlines() + (out / "val.jsonl").read_text().splitlines()
    for line in lines:
        validate_chatml(json.loads(line))
    # mailing-list, auto-reply and bounce mails never become samples
    dropped = built["messages"]["dropped"]
    assert any(k.startswith("flag_") for k in dropped), dropped
    text = "\n".join(lines)
    assert "thota@example.com" not in text
    again = build_dataset(profile, "e2e", cfg, force=True)
    assert again == built
