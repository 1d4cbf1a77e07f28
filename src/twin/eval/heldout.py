"""Held-out data for the style evaluation, taken so that no training ever saw it.

The dataset's validation split is whole conversations; its samples are the held-out prompts (the
message the owner actually replied to, with the real reply to compare against). The authorship
classifier learns from the owner's and other senders' messages in every other conversation and is
scored on the validation conversations."""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from twin.errors import NotFound
from twin.profiles import Profile

MIN_CHARS = 8


@dataclass
class Prompt:
    """One held-out request: the conversation so far (user/assistant turns) and the owner's real reply."""

    id: str
    channel: str
    conversation_id: str
    context: list[dict[str, str]]
    reference: str


@dataclass
class Texts:
    """Messages for the authorship classifier: (text, is_owner) pairs."""

    train: list[tuple[str, bool]] = field(default_factory=list)
    test: list[tuple[str, bool]] = field(default_factory=list)


def read_prompts(dataset_dir: Path, limit: int) -> list[Prompt]:
    """The first `limit` validation samples of a built dataset (in their written, deterministic order)."""
    path = dataset_dir / "samples.jsonl"
    if not path.is_file():
        raise NotFound(
            f"Dataset '{dataset_dir.name}' has not been built.",
            "Build it first: twin dataset build (its validation split is what no training saw).",
        )
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["status"] != "val" or item["messages"][-1]["role"] != "assistant":
            continue
        out.append(
            Prompt(
                item["id"],
                item["source"],
                item["conversation_id"],
                item["messages"][:-1],
                item["messages"][-1]["content"],
            )
        )
    if not out:
        raise NotFound(
            f"Dataset '{dataset_dir.name}' has no validation samples to evaluate on.",
            "Rebuild it with a validation share (val_fraction in the dataset config, default 0.1).",
        )
    return out[:limit]


def classifier_texts(profile: Profile, held_out: set[str]) -> Texts:
    """Owner vs other senders, in conversations the owner takes part in; held-out conversations → test.
    Texts are redacted like the dataset, so placeholders mean nothing about who wrote a message."""
    from twin.dataset.redact import Redactor
    from twin.store.db import connect

    redactor = Redactor()
    query = (
        "SELECT conversation_id, text, sender_is_me FROM messages WHERE kind = 'text' "
        "AND (flags = '[]' OR flags IS NULL) "
        "AND conversation_id IN (SELECT DISTINCT conversation_id FROM messages WHERE sender_is_me = 1) "
        "AND length(text) >= ? ORDER BY conversation_id, seq"
    )
    out = Texts()
    with closing(connect(profile)) as conn:
        for row in conn.execute(query, (MIN_CHARS,)):
            pair = (redactor.redact(row["text"].strip()), bool(row["sender_is_me"]))
            (out.test if row["conversation_id"] in held_out else out.train).append(pair)
    return out
