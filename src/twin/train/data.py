"""Training data: read ChatML JSONL, render with the base model's own chat template, mask the loss.

Loss falls on assistant tokens only (including each assistant turn's end-of-turn marker, so the model
learns to stop). Spans are found by rendering growing prefixes of the conversation with the model's
Jinja template, so any template that renders prefixes consistently works without `{% generation %}`
markers. Bad lines are skipped with a reason, never fatal.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.errors import InvalidInput, NotFound

ROLES = {"system", "user", "assistant"}


@dataclass
class LoadedSplit:
    conversations: list[list[dict[str, str]]]
    skipped: list[dict[str, Any]] = field(default_factory=list)


def _valid_messages(obj: Any) -> list[dict[str, str]] | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
        return None
    msgs = []
    for m in obj["messages"]:
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            return None
        msgs.append({"role": m["role"], "content": m["content"]})
    if not any(m["role"] == "assistant" for m in msgs):
        return None
    return msgs


def read_jsonl(path: Path) -> LoadedSplit:
    """Conversations from a ChatML JSONL file; malformed lines are reported in `skipped`."""
    if not path.is_file():
        raise NotFound(f"Dataset file {path} does not exist.", "Build it first with `twin dataset build`.")
    out = LoadedSplit([])
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                msgs = _valid_messages(json.loads(line))
            except json.JSONDecodeError:
                msgs = None
            if msgs is None:
                out.skipped.append({"line": lineno, "reason": "not a ChatML record with an assistant message"})
            else:
                out.conversations.append(msgs)
    return out


def dataset_files(dataset_dir: Path) -> tuple[Path, Path]:
    train, val = dataset_dir / "train.jsonl", dataset_dir / "val.jsonl"
    if not train.is_file():
        raise NotFound(f"No train.jsonl in {dataset_dir}.", "Build the dataset first with `twin dataset build`.")
    return train, val


def dataset_hash(*paths: Path) -> str:
    """sha256 over the dataset files' bytes, recorded in the run manifest."""
    h = hashlib.sha256()
    for p in paths:
        if p.is_file():
            h.update(p.name.encode())
            with p.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()


def assistant_spans(tokenizer: Any, messages: list[dict[str, str]], template: str) -> tuple[str, list[tuple[int, int]]]:
    """The full rendered text and the character spans of every assistant turn (content + end marker)."""

    def render(msgs: list[dict[str, str]], gen: bool) -> str:
        return tokenizer.apply_chat_template(msgs, chat_template=template, tokenize=False, add_generation_prompt=gen)

    full = render(messages, False)
    spans: list[tuple[int, int]] = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = render(messages[:i], True)
        upto = render(messages[: i + 1], False)
        if not (full.startswith(upto) and upto.startswith(before)):
            raise InvalidInput(
                "The chat template does not render conversation prefixes consistently.",
                "Use a base model with a ChatML or Llama 3 style template.",
            )
        spans.append((len(before), len(upto)))
    return full, spans


def tokenize_conversation(
    tokenizer: Any, messages: list[dict[str, str]], template: str, max_len: int
) -> dict[str, list[int]] | None:
    """input_ids + assistant_masks (1 = trained on), truncated to max_len; None when nothing to learn."""
    text, spans = assistant_spans(tokenizer, messages, template)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"][:max_len], enc["offset_mapping"][:max_len]
    mask = [1 if any(a <= s < b for a, b in spans) else 0 for s, _e in offsets]
    if not any(mask):
        return None
    return {"input_ids": ids, "assistant_masks": mask}


def tokenize_split(
    tokenizer: Any, conversations: list[list[dict[str, str]]], template: str, max_len: int
) -> tuple[list[dict[str, list[int]]], int]:
    """Tokenized rows and how many conversations were dropped (no assistant token left after truncation)."""
    rows, dropped = [], 0
    for conv in conversations:
        row = tokenize_conversation(tokenizer, conv, template, max_len)
        if row is None:
            dropped += 1
        else:
            rows.append(row)
    return rows, dropped
